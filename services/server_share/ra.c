/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ra.c - the share server's registration-authority side: issuing at the end
 * of enrolment, revoking after a key is destroyed, and the retry of
 * revocations the CA has not confirmed (ra.h).
 *
 * Several servers on one database (PostgreSQL): the revocation work - the
 * retry pass, the poll of the CA's revocations and the revocation after a
 * destroying commit - runs under a lease kept in store_meta "ra_lease"
 * ("HOLDER UNTIL": a random id of this process and a Unix time), taken and
 * renewed with a compare-and-swap (sk_store_meta_cas), so one server at a
 * time talks to the CA about revocations; a server that finds the lease
 * held by another leaves the work to it (what stays due is found by the
 * next pass of whichever server holds the lease then).  Within a process
 * one revocation at a time is sent (ra_mu), after checking that the key's
 * revocation is not confirmed yet.  The confirmation (SK_EV_CERT_REVOKED)
 * is appended in a transaction that first writes store_meta
 * "ra_confirming" (its row lock orders confirmers across servers) and then
 * checks that no confirmation exists: exactly one per revocation, even
 * when a lease ran out during a slow CA call.  The CA-revocation cursor
 * only moves forward (compare-and-swap on its old value).
 */
#define _POSIX_C_SOURCE 200809L
#include "ra.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "log.h"
#include "splitkey/pki.h"
#include "splitkey/splitkey.h"

#define RETRY_EVERY_DEFAULT 30u
#define POLL_EVERY_DEFAULT 60u

/* ---------------------------------------------------------------- issue */

int sk_share_ra_issue(sk_ca_client *ca, uint8_t **cert, size_t *cert_len, sk_purpose purpose,
                      bool qualified,                      const uint8_t *csr, size_t csr_len, const char *subject, const uint8_t *n,
                      size_t n_len)
{
    *cert = NULL;
    *cert_len = 0;
    if (ca == NULL || csr == NULL || csr_len == 0 || n == NULL || n_len == 0)
        return SK_ERR_CA_UNAVAILABLE;
    sk_ca_issue_params p = {
        .csr = csr,
        .csr_len = csr_len,
        .purpose = purpose == SK_PURPOSE_SIGN   ? SK_CA_PURPOSE_SIGN
                   : purpose == SK_PURPOSE_SEAL ? SK_CA_PURPOSE_SEAL
                                                : SK_CA_PURPOSE_AUTH,
        .qualified = qualified,
        .subject = subject != NULL && subject[0] != '\0' ? subject : NULL,
        .n = n,
        .n_len = n_len,
    };
    sk_ca_result why = SK_CA_NO_ANSWER;
    sk_serial serial;
    int rc = sk_ca_client_issue(ca, cert, cert_len, &serial, &why, &p);
    if (rc == SK_OK) {
        char hex[2 * SK_SERIAL_MAX_LEN + 1] = "?";
        if (sk_serial_to_hex(hex, sizeof hex, &serial) != SK_OK)
            hex[0] = '?', hex[1] = '\0';
        sk_log_notice("CA issued certificate %s (%s-%s)", hex,
                      purpose == SK_PURPOSE_SIGN   ? "sign"
                      : purpose == SK_PURPOSE_SEAL ? "seal"
                                                   : "auth",
                      qualified ? "qualified" : "basic");
        return SK_OK;
    }
    free(*cert);
    *cert = NULL;
    *cert_len = 0;
    bool refused = rc == SK_ERR_BAD_SIGNATURE;
    switch (why) {
    case SK_CA_BAD_REQUEST:
    case SK_CA_UNKNOWN_RA:
    case SK_CA_BAD_SIGNATURE:
    case SK_CA_CSR_INVALID:
    case SK_CA_POP_FAILED:
    case SK_CA_KEY_MISMATCH:
    case SK_CA_SUBJECT_INVALID:
    case SK_CA_NOT_OWNER:
        refused = true;
        break;
    default:
        break;
    }
    if (rc == SK_ERR_PROTO_AUTH && why == SK_CA_NO_ANSWER)
        sk_log_error("CA reply refused: not signed by the CA of --ca-cert, or not the answer "
                     "to this request; nothing stored, the device may try again");
    sk_log_error("CA did not issue: %s (%s)%s", sk_ca_result_name(why), sk_strerror(rc),
                 why == SK_CA_UNKNOWN_RA ? "; register this server with 'splitkey-ca add-ra'"
                                         : "");
    return refused ? SK_ERR_CA_REFUSED : SK_ERR_CA_UNAVAILABLE;
}

/* ---------------------------------------------------------------- lease */

#define RA_LEASE "ra_lease"
#define RA_CONFIRMING "ra_confirming"
#define RA_LEASE_S 120u /* renewed before every CA call */

static pthread_mutex_t ra_mu = PTHREAD_MUTEX_INITIALIZER; /* one revocation at a time */
static pthread_once_t holder_once = PTHREAD_ONCE_INIT;
static char holder[2 * 16 + 1]; /* this process, in the lease */

static void holder_init(void)
{
    uint8_t r[16];
    randombytes_buf(r, sizeof r);
    for (size_t i = 0; i < sizeof r; i++)
        snprintf(holder + 2 * i, 3, "%02x", r[i]);
}

static uint64_t wall_now(const sk_share_server *srv);

/* Takes the revocation lease, or renews it when this process holds it.
 * *held = false when another server holds it (not expired). */
static int lease_take(sk_share_server *srv, uint64_t now, bool *held)
{
    pthread_once(&holder_once, holder_init);
    *held = false;
    int rc = SK_OK;
    for (int attempt = 0; attempt < 4; attempt++) {
        uint8_t cur[96];
        size_t len = 0;
        char mine[64];
        int n = snprintf(mine, sizeof mine, "%s %llu", holder,
                         (unsigned long long)(now + RA_LEASE_S));
        rc = sk_store_meta_get(srv->store, NULL, RA_LEASE, cur, sizeof cur - 1, &len);
        if (rc == SK_ERR_NOT_FOUND) {
            rc = sk_store_meta_cas(srv->store, NULL, RA_LEASE, NULL, 0, (const uint8_t *)mine,
                                   (size_t)n);
        } else if (rc == SK_OK) {
            cur[len] = '\0';
            const char *sp = memchr(cur, ' ', len);
            int64_t until = 0;
            bool ours = sp != NULL && (size_t)(sp - (const char *)cur) == strlen(holder) &&
                        memcmp(cur, holder, strlen(holder)) == 0;
            bool free_now = len == 0 || sp == NULL ||
                            sk_store_meta_decimal((const uint8_t *)sp + 1,
                                                  len - (size_t)(sp + 1 - (const char *)cur),
                                                  &until) != SK_OK ||
                            until < (int64_t)now;
            if (!ours && !free_now)
                return SK_OK; /* another server's, and current */
            rc = sk_store_meta_cas(srv->store, NULL, RA_LEASE, cur, len, (const uint8_t *)mine,
                                   (size_t)n);
        }
        if (rc == SK_OK) {
            *held = true;
            return SK_OK;
        }
        if (rc != SK_ERR_STORE_CONFLICT && rc != SK_ERR_STORE_BUSY)
            return rc;
    }
    return rc == SK_ERR_STORE_CONFLICT ? SK_OK : rc; /* someone else moved it: theirs */
}

/* The threads of this process using the lease (the retry pass, the poll,
 * a request's revocation): it is given up only when the last one is done,
 * or one thread would take it from under another. */
static pthread_mutex_t lease_mu = PTHREAD_MUTEX_INITIALIZER;
static unsigned lease_users;

static void lease_free(sk_share_server *srv);

/* Takes the lease (or joins this process's hold of it) for one user; every
 * *held = true is matched by lease_release(). */
static int lease_acquire(sk_share_server *srv, uint64_t now, bool *held)
{
    pthread_mutex_lock(&lease_mu);
    int rc = lease_take(srv, now, held);
    if (rc == SK_OK && *held)
        lease_users++;
    pthread_mutex_unlock(&lease_mu);
    return rc;
}

/* Renews the lease a user holds; *held = false when it was lost (expired
 * and taken by another server). */
static int lease_renew(sk_share_server *srv, uint64_t now, bool *held)
{
    pthread_mutex_lock(&lease_mu);
    int rc = lease_take(srv, now, held);
    pthread_mutex_unlock(&lease_mu);
    return rc;
}

static void lease_release(sk_share_server *srv)
{
    pthread_mutex_lock(&lease_mu);
    if (lease_users > 0 && --lease_users == 0)
        lease_free(srv);
    pthread_mutex_unlock(&lease_mu);
}

/* Gives the lease up (when this process holds it). */
static void lease_free(sk_share_server *srv)
{
    pthread_once(&holder_once, holder_init);
    uint8_t cur[96];
    size_t len = 0;
    if (sk_store_meta_get(srv->store, NULL, RA_LEASE, cur, sizeof cur - 1, &len) != SK_OK)
        return;
    size_t hl = strlen(holder);
    if (len > hl && cur[hl] == ' ' && memcmp(cur, holder, hl) == 0)
        (void)sk_store_meta_cas(srv->store, NULL, RA_LEASE, cur, len, (const uint8_t *)"", 0);
}

/* --------------------------------------------------------------- revoke */

/* Whether the key's last revocation (SK_EV_REVOKE_CERT) has its
 * confirmation (SK_EV_CERT_REVOKED) in the log already. */
static int confirmed_in(sk_store *store, sk_store_txn *txn, const uint8_t *key_id, bool *done)
{
    sk_event *ev = NULL;
    size_t n = 0;
    *done = false;
    int rc = sk_store_events(store, txn, &ev, &n, key_id, 0, 0);
    if (rc != SK_OK)
        return rc;
    int64_t asked = 0, confirmed = 0;
    for (size_t i = 0; i < n; i++) {
        if (ev[i].kind == SK_EV_REVOKE_CERT)
            asked = ev[i].seq;
        else if (ev[i].kind == SK_EV_CERT_REVOKED)
            confirmed = ev[i].seq;
    }
    free(ev);
    *done = confirmed > asked;
    return SK_OK;
}

struct confirm_arg {
    const uint8_t *key_id;
    int64_t detail;
    uint64_t now;
    bool appended;
};

static int confirm_step(sk_store *store, sk_store_txn *txn, void *arg)
{
    struct confirm_arg *c = arg;
    c->appended = false;
    /* the row lock of ra_confirming orders the confirmers of all servers:
     * the check below sees what an earlier one committed */
    int rc = sk_store_meta_put(store, txn, RA_CONFIRMING, c->key_id, SK_STORE_ID_LEN);
    bool done = false;
    if (rc == SK_OK)
        rc = confirmed_in(store, txn, c->key_id, &done);
    if (rc != SK_OK || done)
        return rc;
    sk_event ev = {.at = (int64_t)c->now, .kind = SK_EV_CERT_REVOKED, .detail = c->detail};
    memcpy(ev.key_id, c->key_id, SK_STORE_ID_LEN);
    ev.has_key = 1;
    rc = sk_store_event_append(store, txn, &ev);
    if (rc == SK_OK)
        c->appended = true;
    return rc;
}

/* Appends the confirmation unless the key's revocation has one already. */
static int confirm(sk_share_server *srv, const uint8_t *key_id, int64_t detail, uint64_t now)
{
    struct confirm_arg c = {.key_id = key_id, .detail = detail, .now = now};
    int rc = sk_store_run(srv->store, 0, confirm_step, &c);
    if (rc == SK_OK && !c.appended)
        sk_log_notice("key %02x%02x%02x%02x: revocation confirmed already (another server)",
                      key_id[0], key_id[1], key_id[2], key_id[3]);
    return rc;
}

static int revoke_one(sk_share_server *srv, const uint8_t *key_id, int crl_reason, uint64_t now);

/* One revocation by a user of the lease (renewed first): the CA is asked
 * unless the revocation is confirmed already.  SK_ERR_STORE_BUSY when the
 * lease was lost to another server (the revocation stays due). */
static int revoke_leased(sk_share_server *srv, const uint8_t *key_id, int crl_reason,
                         uint64_t now)
{
    bool held = false;
    int rc = lease_renew(srv, wall_now(srv) > now ? wall_now(srv) : now, &held);
    if (rc != SK_OK)
        return rc;
    if (!held)
        return SK_ERR_STORE_BUSY;
    pthread_mutex_lock(&ra_mu);
    bool done = false;
    rc = confirmed_in(srv->store, NULL, key_id, &done);
    if (rc == SK_OK && !done)
        rc = revoke_one(srv, key_id, crl_reason, now);
    pthread_mutex_unlock(&ra_mu);
    return rc;
}

int sk_share_ra_revoke(sk_share_server *srv, const uint8_t *key_id, int crl_reason, uint64_t now)
{
    if (srv == NULL || srv->ca == NULL || key_id == NULL)
        return SK_ERR_ARG;
    bool held = false;
    int rc = lease_acquire(srv, wall_now(srv) > now ? wall_now(srv) : now, &held);
    if (rc != SK_OK)
        return rc;
    if (!held) {
        sk_log_notice("key %02x%02x%02x%02x: revocation left to the server holding the "
                      "revocation lease",
                      key_id[0], key_id[1], key_id[2], key_id[3]);
        return SK_ERR_STORE_BUSY;
    }
    rc = revoke_leased(srv, key_id, crl_reason, now);
    lease_release(srv);
    return rc;
}

static int revoke_one(sk_share_server *srv, const uint8_t *key_id, int crl_reason, uint64_t now)
{
    uint8_t *der = NULL;
    size_t der_len = 0;
    sk_cert *cert = NULL;
    sk_serial serial;
    char hex[2 * SK_SERIAL_MAX_LEN + 1] = "?";
    if (srv == NULL || srv->ca == NULL || key_id == NULL)
        return SK_ERR_ARG;
    int rc = sk_share_key_certificate(srv, key_id, &der, &der_len);
    if (rc == SK_ERR_NOT_FOUND || (rc == SK_OK && der == NULL))
        return confirm(srv, key_id, -1, now); /* nothing was ever issued */
    if (rc != SK_OK)
        return rc;
    rc = sk_cert_parse(&cert, der, der_len);
    if (rc == SK_OK)
        rc = sk_cert_serial(cert, &serial);
    if (rc != SK_OK) {
        /* Asking again cannot help: record it as settled, loudly. */
        sk_log_error("key %02x%02x%02x%02x: stored certificate unreadable (%s); it cannot be "
                     "revoked from here - revoke it with 'splitkey-ca revoke'",
                     key_id[0], key_id[1], key_id[2], key_id[3], sk_strerror(rc));
        rc = confirm(srv, key_id, -2, now);
        goto out;
    }
    if (sk_serial_to_hex(hex, sizeof hex, &serial) != SK_OK)
        hex[0] = '?', hex[1] = '\0';
    sk_ca_result why = SK_CA_NO_ANSWER;
    rc = sk_ca_client_revoke(srv->ca, NULL, &why, &serial, (sk_crl_reason)crl_reason);
    if (rc == SK_OK || why == SK_CA_ALREADY_REVOKED) {
        const char *name = sk_crl_reason_name((sk_crl_reason)crl_reason);
        sk_log_notice("key %02x%02x%02x%02x: certificate %s revoked (%s)%s", key_id[0], key_id[1],
                      key_id[2], key_id[3], hex, name ? name : "?",
                      rc == SK_OK ? "" : ", already revoked at the CA");
        rc = confirm(srv, key_id, crl_reason, now);
    } else if (why == SK_CA_NOT_FOUND || why == SK_CA_NOT_OWNER) {
        /* The CA does not know this serial as ours: asking again cannot help. */
        sk_log_error("key %02x%02x%02x%02x: the CA does not know certificate %s as this RA's "
                     "(%s); revoke it with 'splitkey-ca revoke'",
                     key_id[0], key_id[1], key_id[2], key_id[3], hex, sk_ca_result_name(why));
        rc = confirm(srv, key_id, -2, now);
    } else {
        sk_log_error("key %02x%02x%02x%02x: revoking certificate %s failed: %s (%s); "
                     "will retry",
                     key_id[0], key_id[1], key_id[2], key_id[3], hex, sk_ca_result_name(why),
                     sk_strerror(rc));
    }
out:
    sk_cert_free(cert);
    free(der);
    return rc;
}

/* ---------------------------------------------------------------- retry */

typedef struct due {
    uint8_t key_id[SK_STORE_ID_LEN];
    int reason;
    int64_t seq;
} due;

#define SCAN_BATCH 4096u /* events read at a time */

/* Adds a revocation to the list of those still due (grows it as needed). */
static int due_add(due **list, size_t *n, size_t *cap, const sk_event *ev)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        due *g = realloc(*list, nc * sizeof *g);
        if (g == NULL)
            return SK_ERR_NOMEM;
        *list = g;
        *cap = nc;
    }
    due *d = &(*list)[(*n)++];
    memcpy(d->key_id, ev->key_id, SK_STORE_ID_LEN);
    d->reason = (int)ev->detail;
    d->seq = ev->seq;
    return SK_OK;
}

/* A confirmation settles every earlier revocation of its key. */
static void due_settle(due *list, size_t *n, const sk_event *ev)
{
    for (size_t j = 0; j < *n;) {
        if (memcmp(list[j].key_id, ev->key_id, SK_STORE_ID_LEN) == 0 && list[j].seq < ev->seq)
            list[j] = list[--*n]; /* order does not matter until the end */
        else
            j++;
    }
}

static int due_cmp(const void *a, const void *b)
{
    const due *x = a, *y = b;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int sk_share_ra_retry(sk_share_server *srv, uint64_t now, size_t *done, size_t *left)
{
    due *list = NULL;
    size_t n_due = 0, cap = 0, n_done = 0, n_left = 0;
    int rc = SK_OK;
    if (done != NULL)
        *done = 0;
    if (left != NULL)
        *left = 0;
    if (srv == NULL || srv->ca == NULL)
        return SK_ERR_ARG;
    bool held = false;
    rc = lease_acquire(srv, now, &held);
    if (rc != SK_OK)
        return rc;
    if (!held)
        return SK_OK; /* another server's pass runs */
    /* Read the log in batches from the last settled point; keep only the
     * revocations still due (normally none or a few). */
    int64_t after = atomic_load(&srv->ra_done_seq), cursor = after;
    for (;;) {
        sk_event *ev = NULL;
        size_t n = 0;
        rc = sk_store_events(srv->store, NULL, &ev, &n, NULL, cursor, SCAN_BATCH);
        if (rc != SK_OK)
            goto out;
        for (size_t i = 0; i < n && rc == SK_OK; i++) {
            if (!ev[i].has_key)
                continue;
            if (ev[i].kind == SK_EV_REVOKE_CERT)
                rc = due_add(&list, &n_due, &cap, &ev[i]);
            else if (ev[i].kind == SK_EV_CERT_REVOKED)
                due_settle(list, &n_due, &ev[i]);
        }
        if (n > 0)
            cursor = ev[n - 1].seq;
        free(ev);
        if (rc != SK_OK)
            goto out;
        if (n < SCAN_BATCH)
            break;
    }
    if (n_due > 1)
        qsort(list, n_due, sizeof *list, due_cmp);
    int64_t keep_from = cursor; /* everything up to here is settled ... */
    for (size_t j = 0; j < n_due; j++) {
        if (revoke_leased(srv, list[j].key_id, list[j].reason, now) == SK_OK) {
            n_done++;
        } else {
            n_left++;
            if (list[j].seq - 1 < keep_from) /* ... except what is still due */
                keep_from = list[j].seq - 1;
        }
    }
    /* Only ever move forward (another pass may have moved it already). */
    int64_t cur = after;
    while (keep_from > cur && !atomic_compare_exchange_weak(&srv->ra_done_seq, &cur, keep_from))
        ;
    if (n_done > 0 || n_left > 0)
        sk_log_notice("revocations: %zu confirmed by the CA, %zu still due", n_done, n_left);
out:
    lease_release(srv);
    free(list);
    if (done != NULL)
        *done = n_done;
    if (left != NULL)
        *left = n_left;
    return rc;
}

/* ------------------------------------------------ revocations at the CA */

#define POLL_CURSOR "ca_revocation_seq"
#define POLL_BATCH 200u

int sk_share_ra_cursor(sk_share_server *srv, uint64_t *seq)
{
    uint8_t v[24];
    size_t len = 0;
    *seq = 0;
    int rc = sk_store_meta_get(srv->store, NULL, POLL_CURSOR, v, sizeof v - 1, &len);
    if (rc == SK_ERR_NOT_FOUND)
        return SK_OK;
    if (rc != SK_OK)
        return rc;
    int64_t t = 0;
    if (sk_store_meta_decimal(v, len, &t) != SK_OK || t < 0)
        return SK_ERR_STORE;
    *seq = (uint64_t)t;
    return SK_OK;
}

/* Moves the cursor to seq, never backwards: a compare-and-swap on the value
 * read, so a slower server cannot put back an older cursor. */
static int cursor_put(sk_share_server *srv, uint64_t seq)
{
    char v[24];
    int n = snprintf(v, sizeof v, "%llu", (unsigned long long)seq);
    int rc = SK_OK;
    for (int attempt = 0; attempt < 8; attempt++) {
        uint8_t cur[24];
        size_t len = 0;
        rc = sk_store_meta_get(srv->store, NULL, POLL_CURSOR, cur, sizeof cur - 1, &len);
        if (rc == SK_ERR_NOT_FOUND) {
            rc = sk_store_meta_cas(srv->store, NULL, POLL_CURSOR, NULL, 0, (const uint8_t *)v,
                                   (size_t)n);
        } else if (rc == SK_OK) {
            int64_t at = 0;
            if (sk_store_meta_decimal(cur, len, &at) != SK_OK || at < 0)
                return SK_ERR_STORE;
            if ((uint64_t)at >= seq)
                return SK_OK; /* as far or further already */
            rc = sk_store_meta_cas(srv->store, NULL, POLL_CURSOR, cur, len, (const uint8_t *)v,
                                   (size_t)n);
        }
        if (rc != SK_ERR_STORE_CONFLICT && rc != SK_ERR_STORE_BUSY)
            return rc;
    }
    return rc;
}

static bool same_serial(const sk_serial *a, const sk_serial *b)
{
    return a->len == b->len && memcmp(a->bytes, b->bytes, a->len) == 0;
}

/* Whether the certificate stored with key_id has this serial. */
static bool key_has_serial(sk_share_server *srv, const uint8_t *key_id, const sk_serial *serial)
{
    uint8_t *der = NULL;
    size_t len = 0;
    sk_cert *cert = NULL;
    sk_serial s;
    bool same = false;
    if (sk_share_key_certificate(srv, key_id, &der, &len) == SK_OK && der != NULL &&
        sk_cert_parse(&cert, der, len) == SK_OK && sk_cert_serial(cert, &s) == SK_OK)
        same = same_serial(&s, serial);
    sk_cert_free(cert);
    free(der);
    return same;
}

/* Finds the key holding the certificate with this serial: first the
 * person's key for the purpose (the usual case), else every key that ever
 * stored a certificate (event SK_EV_CERT_STORED).  *found = 0 when none. */
static int find_key(sk_share_server *srv, uint8_t *key_id, int *found,
                    const sk_ca_revocation *r)
{
    *found = 0;
    if (r->person_id[0] != '\0') {
        sk_key_record rec;
        memset(&rec, 0, sizeof rec);
        int rc = sk_store_key_get_by_person(srv->store, NULL, &rec, r->person_id,
                                            r->purpose == SK_CA_PURPOSE_AUTH ? 1u : 2u);
        if (rc == SK_OK) {
            memcpy(key_id, rec.key_id, SK_STORE_ID_LEN);
            sk_key_record_clear(&rec);
            if (key_has_serial(srv, key_id, &r->serial)) {
                *found = 1;
                return SK_OK;
            }
        } else if (rc != SK_ERR_NOT_FOUND) {
            return rc;
        }
    }
    int64_t cursor = 0;
    for (;;) {
        sk_event *ev = NULL;
        size_t n = 0;
        int rc = sk_store_events(srv->store, NULL, &ev, &n, NULL, cursor, SCAN_BATCH);
        if (rc != SK_OK)
            return rc;
        for (size_t i = 0; i < n && !*found; i++) {
            if (ev[i].has_key && ev[i].kind == SK_EV_CERT_STORED &&
                key_has_serial(srv, ev[i].key_id, &r->serial)) {
                memcpy(key_id, ev[i].key_id, SK_STORE_ID_LEN);
                *found = 1;
            }
        }
        if (n > 0)
            cursor = ev[n - 1].seq;
        free(ev);
        if (*found || n < SCAN_BATCH)
            return SK_OK;
    }
}

/* Applies one revocation made at the CA.  SK_OK when it is settled here
 * (applied, already applied, or nothing here to apply it to). */
static int apply_revocation(sk_share_server *srv, const sk_ca_revocation *r, uint64_t now,
                            size_t *applied)
{
    char hex[2 * SK_SERIAL_MAX_LEN + 1] = "?";
    if (sk_serial_to_hex(hex, sizeof hex, &r->serial) != SK_OK)
        hex[0] = '?', hex[1] = '\0';
    const char *why = sk_crl_reason_name(r->reason);
    if (r->by_ra) {
        /* this server's own request: the event log (10, 19) has it */
        return SK_OK;
    }
    uint8_t key_id[SK_STORE_ID_LEN];
    int found = 0;
    int rc = find_key(srv, key_id, &found, r);
    if (rc != SK_OK)
        return rc;
    if (!found) {
        sk_log_notice("certificate %s revoked at the CA (%s, CA seq %llu): no key here holds "
                      "it; ignored",
                      hex, why ? why : "?", (unsigned long long)r->seq);
        return SK_OK;
    }
    int outcome = -1;
    rc = sk_share_key_ca_revoked(srv, key_id, &r->serial, (int)r->reason, now, &outcome);
    if (rc == SK_ERR_NOT_FOUND) {
        outcome = -1;
        rc = SK_OK;
    }
    if (rc != SK_OK)
        return rc;
    if (outcome == 1) {
        (*applied)++;
        sk_log_notice("key %02x%02x%02x%02x: certificate %s revoked at the CA (%s); key "
                      "destroyed",
                      key_id[0], key_id[1], key_id[2], key_id[3], hex, why ? why : "?");
    } else {
        sk_log_notice("key %02x%02x%02x%02x: certificate %s revoked at the CA (%s); the key "
                      "was %s",
                      key_id[0], key_id[1], key_id[2], key_id[3], hex, why ? why : "?",
                      outcome == 0 ? "destroyed already" : "no longer holding it");
    }
    return SK_OK;
}

static int sk_share_ra_poll_leased(sk_share_server *srv, uint64_t now, size_t *applied_out);

int sk_share_ra_poll(sk_share_server *srv, uint64_t now, size_t *applied)
{
    size_t n_applied = 0;
    if (applied != NULL)
        *applied = 0;
    if (srv == NULL || srv->ca == NULL)
        return SK_ERR_ARG;
    bool held = false;
    int rc = lease_acquire(srv, now, &held);
    if (rc != SK_OK || !held)
        return rc; /* !held: another server polls */
    rc = sk_share_ra_poll_leased(srv, now, &n_applied);
    lease_release(srv);
    if (applied != NULL)
        *applied = n_applied;
    return rc;
}

static int sk_share_ra_poll_leased(sk_share_server *srv, uint64_t now, size_t *applied_out)
{
    size_t n_applied = 0;
    uint64_t since = 0;
    int rc = sk_share_ra_cursor(srv, &since);
    if (rc != SK_OK) {
        sk_log_error("revocation poll: the stored cursor (store_meta %s) is unreadable",
                     POLL_CURSOR);
        return rc;
    }
    uint64_t start = since;
    bool more = true;
    while (more && rc == SK_OK) {
        sk_ca_revocation *v = NULL;
        size_t n = 0;
        sk_ca_result why = SK_CA_NO_ANSWER;
        rc = sk_ca_client_revocations(srv->ca, &v, &n, &more, &why, since, POLL_BATCH);
        if (rc != SK_OK) {
            if (rc == SK_ERR_PROTO_AUTH && why == SK_CA_NO_ANSWER)
                sk_log_error("revocation poll: CA reply refused: not signed by the CA of "
                             "--ca-cert, or not the answer to this request; nothing applied");
            else
                sk_log_error("revocation poll: the CA did not answer: %s (%s); will ask again",
                             sk_ca_result_name(why), sk_strerror(rc));
            break;
        }
        uint64_t done = since;
        for (size_t i = 0; i < n; i++) {
            rc = apply_revocation(srv, &v[i], now, &n_applied);
            if (rc != SK_OK)
                break;
            done = v[i].seq;
        }
        free(v);
        /* the cursor moves only past what is settled here */
        if (done > since) {
            int prc = cursor_put(srv, done);
            if (prc != SK_OK && rc == SK_OK)
                rc = prc;
            if (prc == SK_OK)
                since = done;
        }
        if (rc != SK_OK)
            sk_log_error("revocation poll: %s; will ask again from CA seq %llu", sk_strerror(rc),
                         (unsigned long long)since);
    }
    if (rc == SK_OK && since != start)
        sk_log_notice("revocation poll: settled up to CA seq %llu, %zu keys destroyed",
                      (unsigned long long)since, n_applied);
    *applied_out = n_applied;
    return rc;
}

struct sk_share_ra_retrier {
    sk_share_server *srv;
    int (*pass)(sk_share_server *srv, uint64_t now);
    const char *what;
    unsigned every_s;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
};

static uint64_t wall_now(const sk_share_server *srv)
{
    if (srv->clock != NULL)
        return srv->clock();
    return (uint64_t)time(NULL);
}

static void *retry_main(void *arg)
{
    sk_share_ra_retrier *r = arg;
    pthread_mutex_lock(&r->mu);
    while (!r->stop) {
        pthread_mutex_unlock(&r->mu);
        int rc = r->pass(r->srv, wall_now(r->srv));
        if (rc != SK_OK)
            sk_log_error("%s: %s (next pass in %u s)", r->what, sk_strerror(rc), r->every_s);
        pthread_mutex_lock(&r->mu);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += (time_t)r->every_s;
        while (!r->stop && pthread_cond_timedwait(&r->cv, &r->mu, &until) != ETIMEDOUT)
            ;
    }
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

static int retry_pass(sk_share_server *srv, uint64_t now)
{
    return sk_share_ra_retry(srv, now, NULL, NULL);
}

static int poll_pass(sk_share_server *srv, uint64_t now)
{
    return sk_share_ra_poll(srv, now, NULL);
}

static int periodic_start(sk_share_ra_retrier **out, sk_share_server *srv, unsigned every_s,
                          int (*pass)(sk_share_server *, uint64_t), const char *what,
                          unsigned every_default)
{
    *out = NULL;
    if (srv == NULL || srv->ca == NULL)
        return SK_ERR_ARG;
    sk_share_ra_retrier *r = calloc(1, sizeof *r);
    if (r == NULL)
        return SK_ERR_NOMEM;
    r->srv = srv;
    r->pass = pass;
    r->what = what;
    r->every_s = every_s ? every_s : every_default;
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    if (pthread_create(&r->thread, NULL, retry_main, r) != 0) {
        pthread_cond_destroy(&r->cv);
        pthread_mutex_destroy(&r->mu);
        free(r);
        return SK_ERR_INTERNAL;
    }
    *out = r;
    return SK_OK;
}

int sk_share_ra_retry_start(sk_share_ra_retrier **out, sk_share_server *srv, unsigned every_s)
{
    return periodic_start(out, srv, every_s, retry_pass, "revocation retry",
                          RETRY_EVERY_DEFAULT);
}

int sk_share_ra_poll_start(sk_share_ra_retrier **out, sk_share_server *srv, unsigned every_s)
{
    return periodic_start(out, srv, every_s, poll_pass, "revocation poll", POLL_EVERY_DEFAULT);
}

void sk_share_ra_retry_stop(sk_share_ra_retrier *r)
{
    if (r == NULL)
        return;
    pthread_mutex_lock(&r->mu);
    r->stop = true;
    pthread_cond_signal(&r->cv);
    pthread_mutex_unlock(&r->mu);
    pthread_join(r->thread, NULL);
    pthread_cond_destroy(&r->cv);
    pthread_mutex_destroy(&r->mu);
    free(r);
}
