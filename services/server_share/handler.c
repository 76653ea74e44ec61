/* SPDX-License-Identifier: Apache-2.0 */
/*
 * handler.c - serves one request of the share server: the library's server
 * role (sans I/O) over the store, the sealing key and the server-key pool.
 *
 * One request, in order:
 *   1. Strip the channel tag ("SKD1" device, "SKP1" relying party) and peek
 *      at the request (sk_server_peek_device / _rp) without any state: kind,
 *      key id, session id, person id, token id.  A device request that
 *      cannot be routed gets the protocol's plain error and touches nothing.
 *   2. Load the key record (by key id, or person id + purpose), open its
 *      sealed blob (master key, associated data = key id), load the session
 *      or the waiting sessions, take a pool key for an enrolment, call the
 *      server role with the clock's time and the policy, then store the new
 *      key record (compare-and-swap on the version read), the session, the
 *      used token and the events.  An error reply that changes no record
 *      (refused enrolment ...) rolls the transaction back instead, so a pool
 *      key taken for it goes back.  Enrolment starts, session fetches and
 *      relying-party requests do all of it in one write transaction
 *      (sk_store_run, rerun on BUSY / CONFLICT).  Other device requests are
 *      optimistic (device_optimistic): the reads run in a snapshot, the role
 *      with no transaction open, and the write transaction first checks that
 *      the rows read are unchanged, else everything is redone.
 *   3. Only after the commit succeeded is the reply handed to the loop; then
 *      the certificate hook runs for revocations and certificate requests,
 *      and with a CA (srv->ca) the revocation is sent to it (ra.h).
 *   A proof of possession with a CA takes two transactions: the first one
 *   ends in a rollback and yields the signed CSR; the CA is asked with no
 *   transaction open; the second one handles the same request again with
 *   the certificate (or the CA's error) and commits as in 2.
 *   A store failure leaves nothing behind and is answered with the "SKE1"
 *   frame.  Every unsealed record, pool key and secret is wiped on every
 *   path.
 *
 * Stored key blob: sk_seal(master, plain, ad = key id || version (8,
 * big-endian)) with
 *   plain = "SKK1" || record length (4, big-endian) || KeyRecord || secrets
 * where secrets is sk_key_rec_export_secrets() (empty once destroyed).  The
 * whole record is sealed, not only ds and the server key, so a database
 * writer without the master key cannot reset a failure counter or an OTP
 * hash either; the row's version column is bound in too, and every write
 * checks it against the highest version this process has seen (hwm.h), so
 * an older row put back is refused, not used (doc/security.md).
 */
#define _POSIX_C_SOURCE 200809L
#include "handler.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sodium.h>

#include "hwm.h"
#include "log.h"
#include "longpoll.h"
#include "metrics.h"
#include "operators.h"
#include "ra.h"
#include "rep_server.h"
#include "splitkey/splitkey.h"
#include "svc_error.h"

#define KEY_BLOB_MAGIC "SKK1"
#define SECRETS_MAX 8192u
#define PLAIN_MAX (8u + SK_MAX_RECORD_LEN + SECRETS_MAX)
#define STORE_ATTEMPTS 8u
#define N_MAX 1024u /* the composite modulus of the largest profile, bytes */
#define POOL_REFILL_ATTEMPTS 3

/* Envelope message types (proto/splitkey.proto, MsgType) the handler
 * looks at. */
#define MSG_ENROL_INIT 1u
#define MSG_ENROL_SUBMIT 3u
#define MSG_SESSION_CREATE 5u
#define MSG_SESSION_FETCH 7u
#define MSG_SESSION_REFUSE 9u
#define MSG_SIGN_SUBMIT 11u
#define MSG_KEY_STATE 13u
#define MSG_OTP_REFRESH 15u
#define MSG_REVOKE 17u

/* Positive step result: the reply is ready and nothing is to be kept. */
#define STEP_NO_COMMIT 1

/* What an attempt did, for the metrics (hreq.mev); counted once its
 * transaction committed (count_committed). */
#define MEV_WRONG_PIN 0x1u
#define MEV_LOCKED 0x2u
#define MEV_CLONE 0x4u
#define MEV_DESTROYED 0x8u /* reason in hreq.mev_destroyed */
#define MEV_ABANDONED 0x10u /* an unfinished enrolment given up for its token */

/* ------------------------------------------------------------ identity */

int sk_share_ident_load(sk_server_ident **out, const sk_server_identity *id)
{
    if (out == NULL || id == NULL)
        return SK_ERR_ARG;
    return sk_server_ident_from_secrets(out, id->kx_secret, sizeof id->kx_secret,
                                        id->sign_secret, sizeof id->sign_secret);
}

/* ----------------------------------------------------------- person id */

void sk_share_person_id(char *out, const char *subject, const uint8_t *key_id)
{
    /* a person's serialNumber, or an organisation's organizationIdentifier
     * (the id relying parties name a seal key by) */
    static const char *const attrs[] = {"serialNumber=", "organizationIdentifier="};
    out[0] = '\0';
    for (size_t a = 0; a < sizeof attrs / sizeof attrs[0]; a++) {
        const char *attr = attrs[a];
        const size_t al = strlen(attr);
        const char *p = subject;
        while (p != NULL && *p != '\0') {
            while (*p == ' ')
                p++;
            const char *end = strchr(p, ',');
            size_t len = end ? (size_t)(end - p) : strlen(p);
            if (len > al && strncasecmp(p, attr, al) == 0 && len - al <= SK_MAX_PERSON_ID_LEN) {
                memcpy(out, p + al, len - al);
                out[len - al] = '\0';
                return;
            }
            p = end ? end + 1 : NULL;
        }
    }
    size_t sl = subject ? strlen(subject) : 0;
    if (sl >= 1 && sl <= SK_MAX_PERSON_ID_LEN) {
        memcpy(out, subject, sl + 1);
        return;
    }
    char *o = out + sprintf(out, "key:");
    for (size_t i = 0; i < SK_KEY_ID_LEN; i++)
        o += sprintf(o, "%02x", key_id[i]);
}

/* ------------------------------------------------------------ key blobs */

static void secure_free(uint8_t *p)
{
    if (p != NULL)
        sodium_free(p); /* wipes */
}

/* The plaintext of a key blob lives in a guarded, locked buffer.  Each
 * worker thread keeps one (PLAIN_MAX bytes) for its whole life instead of
 * a sodium_malloc() per request: every sodium_malloc/sodium_free pair maps,
 * protects and unmaps pages, and each unmap or protection change makes the
 * kernel interrupt the other cores running the process to flush their TLBs.
 * With two workers on two cores that cost several percent of the server's
 * CPU (bench/README.md).  The buffer is wiped whole after every use and
 * freed, wiped, when its thread ends.  A nested use (none today) gets a
 * buffer of its own. */
static pthread_key_t plain_key;
static pthread_once_t plain_once = PTHREAD_ONCE_INIT;
static bool plain_key_ok;
static _Thread_local bool plain_busy;

static void plain_thread_end(void *p) { sodium_free(p); }

static void plain_key_init(void)
{
    plain_key_ok = pthread_key_create(&plain_key, plain_thread_end) == 0;
}

static uint8_t *plain_take(void)
{
    pthread_once(&plain_once, plain_key_init);
    if (!plain_key_ok || plain_busy)
        return sodium_malloc(PLAIN_MAX);
    uint8_t *p = pthread_getspecific(plain_key);
    if (p == NULL) {
        p = sodium_malloc(PLAIN_MAX);
        if (p == NULL)
            return NULL;
        if (pthread_setspecific(plain_key, p) != 0) {
            sodium_free(p);
            return sodium_malloc(PLAIN_MAX);
        }
    }
    plain_busy = true;
    return p;
}

static void plain_give_back(uint8_t *p)
{
    if (p == NULL)
        return;
    if (plain_key_ok && plain_busy && p == pthread_getspecific(plain_key)) {
        sodium_memzero(p, PLAIN_MAX);
        plain_busy = false;
        return;
    }
    sodium_free(p);
}

/* The associated data of a key blob: key id || version. */
static void blob_ad(uint8_t *ad, const uint8_t *key_id, uint64_t version)
{
    memcpy(ad, key_id, SK_KEY_ID_LEN);
    for (int i = 0; i < 8; i++)
        ad[SK_KEY_ID_LEN + i] = (uint8_t)(version >> (56 - 8 * i));
}
#define BLOB_AD_LEN (SK_KEY_ID_LEN + 8u)

/* Seals rec (and its secrets) into a new malloc'd blob. */
static int key_blob_seal(const sk_master_key *mk, const sk_key_rec *rec, uint8_t **blob,
                         size_t *blob_len)
{
    uint8_t key_id[SK_KEY_ID_LEN], ad[BLOB_AD_LEN];
    size_t rec_len = 0, sec_len = 0;
    *blob = NULL;
    *blob_len = 0;
    uint8_t *plain = plain_take();
    if (plain == NULL)
        return SK_ERR_NOMEM;
    int rc = sk_key_rec_key_id(rec, key_id, sizeof key_id);
    if (rc == SK_OK)
        rc = sk_key_rec_export(rec, plain + 8, SK_MAX_RECORD_LEN, &rec_len);
    if (rc == SK_OK)
        rc = sk_key_rec_export_secrets(rec, plain + 8 + rec_len, SECRETS_MAX, &sec_len);
    if (rc == SK_OK) {
        memcpy(plain, KEY_BLOB_MAGIC, 4);
        plain[4] = (uint8_t)(rec_len >> 24);
        plain[5] = (uint8_t)(rec_len >> 16);
        plain[6] = (uint8_t)(rec_len >> 8);
        plain[7] = (uint8_t)rec_len;
        size_t plain_len = 8 + rec_len + sec_len;
        size_t out_len = sk_sealed_len(plain_len);
        uint8_t *out = malloc(out_len);
        if (out == NULL) {
            rc = SK_ERR_NOMEM;
        } else {
            blob_ad(ad, key_id, sk_key_rec_version(rec));
            rc = sk_seal(mk, out, out_len, plain, plain_len, ad, sizeof ad);
            if (rc == SK_OK) {
                *blob = out;
                *blob_len = out_len;
            } else {
                free(out);
            }
        }
    }
    plain_give_back(plain);
    return rc;
}

/* Opens a stored key blob; with_secrets = 0 leaves ds and the server key
 * out of the imported record.  SK_ERR_INTERNAL for a blob that does not open
 * (wrong master key, moved or modified row). */
static int key_blob_open(const sk_master_key *mk, const sk_key_record *row, int with_secrets,
                         sk_key_rec **out)
{
    size_t plain_len = 0;
    uint8_t ad[BLOB_AD_LEN];
    *out = NULL;
    uint8_t *plain = plain_take();
    if (plain == NULL)
        return SK_ERR_NOMEM;
    blob_ad(ad, row->key_id, (uint64_t)row->version);
    int rc = sk_unseal(mk, plain, PLAIN_MAX, &plain_len, row->blob, row->blob_len, ad, sizeof ad);
    if (rc == SK_OK) {
        size_t rec_len = plain_len < 8 ? 0
                                       : (size_t)plain[4] << 24 | (size_t)plain[5] << 16 |
                                             (size_t)plain[6] << 8 | plain[7];
        if (plain_len < 8 || memcmp(plain, KEY_BLOB_MAGIC, 4) != 0 || rec_len > plain_len - 8) {
            rc = SK_ERR_INTERNAL;
        } else {
            size_t sec_len = plain_len - 8 - rec_len;
            const uint8_t *sec = with_secrets && sec_len ? plain + 8 + rec_len : NULL;
            rc = sk_key_rec_import(out, plain + 8, rec_len, sec, sec ? sec_len : 0);
            if (rc == SK_OK && sk_key_rec_version(*out) != (uint64_t)row->version) {
                sk_key_rec_free(*out); /* cannot happen: the version is in the AD */
                *out = NULL;
                rc = SK_ERR_INTERNAL;
            }
        }
    }
    if (rc != SK_OK && rc != SK_ERR_NOMEM) {
        sk_log_error("key %02x%02x%02x%02x: stored record does not open (%s)", row->key_id[0],
                     row->key_id[1], row->key_id[2], row->key_id[3], sk_strerror(rc));
        rc = SK_ERR_INTERNAL;
    }
    plain_give_back(plain);
    return rc;
}

/* The stored state column of a record: its base state (a time lock is
 * derived from locked_until, never stored). */
static uint32_t base_state(const sk_key_rec *rec, const sk_server_policy *policy)
{
    sk_key_status st;
    sk_key_rec_status(rec, &st, policy, UINT64_MAX);
    return (uint32_t)st.state;
}

/* ------------------------------------------------------------- requests */

typedef struct hreq {
    sk_share_server *srv;
    int device;
    const uint8_t *msg;
    size_t len;
    sk_route_info route;
    int routed; /* the peek succeeded */
    sk_server_policy policy;
    uint64_t now;
    /* outputs of the last attempt */
    uint8_t *reply;
    size_t reply_len;
    int status;
    unsigned effects;
    int revoke_reason;
    int has_key_id;
    uint8_t key_id[SK_KEY_ID_LEN];
    int pool_empty;
    int wake; /* the attempt changed a session's state or destroyed a key */
    unsigned mev;      /* what the attempt did, counted once committed (MEV_) */
    unsigned mev_destroyed; /* MEV_DESTROYED: the destroy reason */
    int abandoned;        /* the routed session's relying party stopped waiting */
    uint32_t poll_wait_ms; /* a poll: how much of the wait it asked for is left */
    /* the registration authority: pass 1 of a proof of possession asks for a
     * certificate (need_cert, with the CSR and what the CA checks it
     * against); pass 2 hands in the certificate or the CA's error */
    int need_cert;
    uint8_t *csr;
    size_t csr_len;
    uint8_t n[N_MAX];
    size_t n_len;
    char subject[SK_MAX_SUBJECT_LEN + 1];
    sk_purpose purpose;
    bool qualified;        /* the key's level is QUALIFIED: a qualified profile */
    uint8_t *cert;
    size_t cert_len;
    int ca_error;
    /* the key record the last attempt stored (for the high-water mark,
     * raised once the transaction committed) */
    uint8_t saved_key_id[SK_KEY_ID_LEN];
    int64_t saved_key_version;
    /* four eyes: the operators whose approvals the token carries */
    size_t n_approvers;
    uint8_t approvers[SK_MAX_TOKEN_APPROVALS][SK_OPERATOR_PUB_LEN];
    int token_refused; /* the token lacks them: the role refuses it, sealed */
} hreq;

static void hreq_drop_reply(hreq *h)
{
    if (h->reply != NULL) {
        sodium_memzero(h->reply, h->reply_len);
        free(h->reply);
    }
    h->reply = NULL;
    h->reply_len = 0;
}

static int keep_reply(hreq *h, const sk_server_result *res)
{
    size_t len = 0;
    const uint8_t *p = sk_server_result_reply(res, &len);
    hreq_drop_reply(h);
    h->reply = malloc(len ? len : 1);
    if (h->reply == NULL)
        return SK_ERR_NOMEM;
    memcpy(h->reply, p, len);
    h->reply_len = len;
    h->status = sk_server_result_status(res);
    h->effects = sk_server_result_effects(res);
    h->revoke_reason = sk_server_result_revoke_reason(res);
    return SK_OK;
}

static int add_event(sk_store *st, sk_store_txn *txn, const hreq *h, const uint8_t *key_id,
                     uint32_t kind, int64_t detail)
{
    sk_event ev = {.at = (int64_t)h->now, .kind = kind, .detail = detail};
    if (key_id != NULL) {
        memcpy(ev.key_id, key_id, SK_STORE_ID_LEN);
        ev.has_key = 1;
    }
    return sk_store_event_append(st, txn, &ev);
}

/* The events one result stands for, from the old and new records. */
static int log_events(sk_store *st, sk_store_txn *txn, hreq *h, const sk_key_rec *old_key,
                      const sk_session_rec *old_sess, const sk_server_result *res,
                      const uint8_t *key_id)
{
    const sk_key_rec *nk = sk_server_result_key(res);
    const sk_session_rec *ns = sk_server_result_session(res);
    unsigned eff = sk_server_result_effects(res);
    int status = sk_server_result_status(res);
    sk_key_status os = {0}, cs = {0};
    int rc = SK_OK;
    if (old_key != NULL)
        sk_key_rec_status(old_key, &os, &h->policy, h->now);
    if (nk != NULL)
        sk_key_rec_status(nk, &cs, &h->policy, h->now);
#define EV(kind, detail)                                                      \
    do {                                                                      \
        if (rc == SK_OK)                                                      \
            rc = add_event(st, txn, h, key_id, (kind), (int64_t)(detail));    \
    } while (0)
    if (eff & SK_EFFECT_NEW_KEY)
        EV(SK_EV_ENROL_INIT, h->route.profile);
    if (eff & SK_EFFECT_TOKEN_USED) {
        EV(SK_EV_TOKEN_USED, 0);
        for (size_t i = 0; i < h->n_approvers; i++)
            EV(SK_EV_TOKEN_OPERATOR, sk_operator_event_id(h->approvers[i]));
    }
    if (nk != NULL && old_key != NULL) {
        if (os.state == SK_KEY_ENROLLING && cs.state == SK_KEY_PENDING)
            EV(SK_EV_ENROLLED, 0);
        if (base_state(old_key, &h->policy) == SK_KEY_PENDING &&
            base_state(nk, &h->policy) == SK_KEY_ACTIVE)
            EV(SK_EV_ACTIVATED, 0);
    }
    if (eff & SK_EFFECT_NEW_SESSION)
        EV(SK_EV_SESSION_CREATED, h->device ? 1 : 2);
    if (ns != NULL && old_sess != NULL && sk_session_rec_state(ns) != sk_session_rec_state(old_sess)) {
        h->wake = 1;
        switch (sk_session_rec_state(ns)) {
        case SK_SESSION_COMPLETE:
            EV(SK_EV_SIGNED, 0);
            break;
        case SK_SESSION_REFUSED:
            EV(SK_EV_SESSION_REFUSED, 0);
            break;
        case SK_SESSION_EXPIRED:
            EV(SK_EV_SESSION_EXPIRED, 0);
            break;
        case SK_SESSION_CANCELLED:
            EV(SK_EV_SESSION_CANCELLED, h->abandoned ? 2 : 1);
            break;
        case SK_SESSION_WRONG_VC:
            EV(SK_EV_WRONG_VC, 0);
            break;
        default:
            break;
        }
    }
    if (status == SK_ERR_WRONG_PIN && nk != NULL) {
        EV(SK_EV_WRONG_PIN, cs.attempts_left);
        h->mev |= MEV_WRONG_PIN;
        if (cs.state == SK_KEY_TIMELOCKED && cs.locked_until != os.locked_until) {
            EV(SK_EV_LOCKED, cs.locked_until);
            h->mev |= MEV_LOCKED;
        }
    }
    if (status == SK_ERR_CLONE_DETECTED && nk != NULL && os.state != SK_KEY_DESTROYED) {
        EV(SK_EV_CLONE_DETECTED, 0);
        h->mev |= MEV_CLONE;
    }
    if (nk != NULL && old_key != NULL && os.state != SK_KEY_DESTROYED &&
        cs.state == SK_KEY_DESTROYED) {
        h->wake = 1;
        EV(SK_EV_DESTROYED, cs.destroy_reason);
        h->mev |= MEV_DESTROYED;
        h->mev_destroyed = (unsigned)cs.destroy_reason;
        if (cs.destroy_reason == SK_DESTROY_LOCKOUT)
            h->mev |= MEV_WRONG_PIN; /* the last wrong PIN destroys the key */
    }
    if (eff & SK_EFFECT_REVOKE_CERT)
        EV(SK_EV_REVOKE_CERT, sk_server_result_revoke_reason(res));
    if (eff & SK_EFFECT_CERT_REQUEST)
        EV(SK_EV_CERT_REQUEST, 0);
    if (eff & SK_EFFECT_CERT_STORED)
        EV(SK_EV_CERT_STORED, 0);
    if (eff & SK_EFFECT_RESYNC)
        EV(SK_EV_RESYNCED, 0);
    if (h->route.msg_type == MSG_OTP_REFRESH && status == SK_OK && nk != NULL)
        EV(SK_EV_OTP_REFRESHED, 0);
#undef EV
    return rc;
}

/* Counts what the committed attempt did (metrics.h), once. */
static void count_committed(hreq *h)
{
    if (h->mev & MEV_WRONG_PIN)
        sk_metrics_wrong_pin();
    if (h->mev & MEV_LOCKED)
        sk_metrics_key_locked();
    if (h->mev & MEV_CLONE)
        sk_metrics_clone_detected();
    if (h->mev & MEV_DESTROYED)
        sk_metrics_key_destroyed(h->mev_destroyed);
    if (h->mev & MEV_ABANDONED)
        sk_metrics_key_destroyed(SK_DESTROY_ABANDONED);
    h->mev = 0;
}

/* Takes a pool key of the profile inside txn and exports it (secret). */
static int take_pool_key(sk_store *st, sk_store_txn *txn, const sk_master_key *mk,
                         sk_profile profile, uint8_t **out, size_t *out_len)
{
    sk_server_key *key = NULL;
    size_t len = sk_server_key_len(profile);
    *out = NULL;
    *out_len = 0;
    int rc = sk_pool_take_key(st, txn, mk, profile, &key);
    if (rc != SK_OK)
        return rc;
    uint8_t *buf = sodium_malloc(len ? len : 1);
    if (buf == NULL)
        rc = SK_ERR_NOMEM;
    if (rc == SK_OK)
        rc = sk_server_key_export(key, buf, len);
    sk_server_key_free(key);
    if (rc != SK_OK) {
        secure_free(buf);
        return rc == SK_ERR_NOMEM ? rc : SK_ERR_INTERNAL;
    }
    *out = buf;
    *out_len = len;
    return SK_OK;
}

/* The relying-party idle rule: a PENDING session of a relying party that
 * has not been seen waiting (rp_seen_at: its last poll plus the wait that
 * poll asked for) for longer than rp_idle_s.  Device-created sessions
 * (rp_seen_at 0) have no relying party to lose. */
static bool rp_gone(const sk_share_server *srv, const sk_session_record *row, uint64_t now)
{
    int64_t idle = srv->rp_idle_s ? srv->rp_idle_s : SK_SHARE_RP_IDLE_DEFAULT;
    return row->state == SK_SESSION_PENDING && row->rp_seen_at > 0 &&
           (int64_t)now > row->rp_seen_at + idle;
}

/* Loads the routed session (h->abandoned: the idle rule holds for it), or
 * a fetch's waiting sessions (state PENDING, not expired, relying party not
 * gone, oldest first, at most SK_MAX_FETCH_SESSIONS). */
static int load_sessions(sk_store *st, sk_store_txn *txn, hreq *h, const sk_route_info *route,
                         sk_session_record *row, int *has_row, sk_session_rec **sess,
                         sk_session_rec **list, size_t *nlist)
{
    int rc = SK_OK;
    h->abandoned = 0;
    if (route->has_session_id) {
        rc = sk_store_session_get(st, txn, row, route->session_id);
        if (rc == SK_ERR_NOT_FOUND)
            return SK_OK; /* the role answers SESSION_UNKNOWN */
        if (rc != SK_OK)
            return rc;
        *has_row = 1;
        h->abandoned = rp_gone(h->srv, row, h->now);
        rc = sk_session_rec_import(sess, row->blob, row->blob_len);
        return rc == SK_ERR_NOMEM ? rc : rc != SK_OK ? SK_ERR_INTERNAL : SK_OK;
    }
    if (route->wants_pending_session) {
        sk_session_record *recs = NULL;
        size_t n = 0;
        rc = sk_store_sessions_for_key(st, txn, &recs, &n, h->route.key_id, (int64_t)h->now, 0);
        if (rc != SK_OK)
            return rc;
        for (size_t i = 0; i < n && *nlist < SK_MAX_FETCH_SESSIONS; i++) {
            if (recs[i].state != SK_SESSION_PENDING || rp_gone(h->srv, &recs[i], h->now))
                continue; /* nobody waits for it: not offered */
            sk_session_rec *s = NULL;
            rc = sk_session_rec_import(&s, recs[i].blob, recs[i].blob_len);
            if (rc != SK_OK) {
                rc = rc == SK_ERR_NOMEM ? rc : SK_ERR_INTERNAL;
                break;
            }
            list[(*nlist)++] = s;
        }
        sk_session_records_free(recs, n);
    }
    return rc;
}

/* Writes one key record: inserted (insert) or over key_row, the row it was
 * read from (compare-and-swap on its version). */
static int put_key(sk_store *st, sk_store_txn *txn, hreq *h, const sk_key_rec *rec, bool insert,
                   const sk_key_record *key_row)
{
    sk_key_record row;
    memset(&row, 0, sizeof row);
    int rc = sk_key_rec_key_id(rec, row.key_id, sizeof row.key_id);
    if (rc == SK_OK)
        rc = key_blob_seal(h->srv->master, rec, &row.blob, &row.blob_len);
    if (rc == SK_OK) {
        row.purpose = (uint32_t)sk_key_rec_purpose(rec);
        row.state = base_state(rec, &h->policy);
        row.updated_at = (int64_t)h->now;
        if (insert) {
            sk_share_person_id(row.person_id, sk_key_rec_subject(rec), row.key_id);
            rc = sk_store_key_insert(st, txn, &row);
        } else if (key_row != NULL) {
            memcpy(row.person_id, key_row->person_id, sizeof row.person_id);
            row.version = key_row->version;
            int64_t seen = sk_hwm_get(h->srv->hwm, row.key_id);
            if (key_row->version < seen) {
                /* Another thread of this process may have committed a newer
                 * version after this transaction read the row (a database
                 * server runs write transactions at once): read it again;
                 * a row that moved meanwhile is a conflict to retry, not a
                 * rollback. */
                sk_key_record now_row;
                if (sk_store_key_get(st, txn, &now_row, row.key_id) == SK_OK) {
                    bool moved = now_row.version > key_row->version;
                    sk_key_record_clear(&now_row);
                    if (moved) {
                        sk_key_record_clear(&row);
                        return SK_ERR_STORE_CONFLICT;
                    }
                }
            }
            if (key_row->version < seen) {
                /* An older row than one this process stored or read. */
                sk_log_error("key %02x%02x%02x%02x: stored record rolled back (version %lld,"
                             " this server saw %lld); refusing to use it",
                             row.key_id[0], row.key_id[1], row.key_id[2], row.key_id[3],
                             (long long)key_row->version, (long long)seen);
                rc = SK_ERR_STORE;
            } else {
                rc = sk_store_key_update(st, txn, &row);
            }
        } else {
            rc = SK_ERR_INTERNAL; /* a changed key that was never loaded */
        }
    }
    if (rc == SK_OK) {
        memcpy(h->saved_key_id, row.key_id, sizeof h->saved_key_id);
        h->saved_key_version = row.version;
    }
    sk_key_record_clear(&row);
    return rc;
}

/* Stores the result's records and effects inside txn. */
static int persist(sk_store *st, sk_store_txn *txn, hreq *h, const sk_server_result *res,
                   sk_key_record *key_row, int has_key_row, sk_session_record *sess_row,
                   int has_sess_row)
{
    const sk_key_rec *nk = sk_server_result_key(res);
    const sk_key_rec *gone = sk_server_result_superseded(res);
    const sk_session_rec *ns = sk_server_result_session(res);
    unsigned eff = sk_server_result_effects(res);
    int rc = SK_OK;

    if (gone != NULL) {
        /* an enrolment started again with its token: the earlier key,
         * loaded as key_row, is given up in the same transaction */
        if (!has_key_row || !(eff & SK_EFFECT_NEW_KEY))
            return SK_ERR_INTERNAL;
        rc = put_key(st, txn, h, gone, false, key_row);
        if (rc != SK_OK)
            return rc;
    }
    if (nk != NULL) {
        rc = put_key(st, txn, h, nk, (eff & SK_EFFECT_NEW_KEY) != 0,
                     has_key_row ? key_row : NULL);
        if (rc != SK_OK)
            return rc;
    }
    if (ns != NULL) {
        sk_session_record row;
        memset(&row, 0, sizeof row);
        size_t cap = SK_MAX_RECORD_LEN, len = 0;
        row.blob = malloc(cap);
        if (row.blob == NULL)
            return SK_ERR_NOMEM;
        rc = sk_session_rec_export(ns, row.blob, cap, &len);
        row.blob_len = len;
        if (rc == SK_OK)
            rc = sk_session_rec_id(ns, row.session_id, sizeof row.session_id);
        if (rc == SK_OK)
            rc = sk_session_rec_key_id(ns, row.key_id, sizeof row.key_id);
        if (rc == SK_OK) {
            row.state = (uint32_t)sk_session_rec_state(ns);
            row.expires_at = (int64_t)sk_session_rec_expires_at(ns);
            /* a relying party's session: it waits from now on */
            row.rp_seen_at = h->device ? 0 : (int64_t)h->now;
            if (eff & SK_EFFECT_NEW_SESSION) {
                rc = sk_store_session_insert(st, txn, &row);
            } else if (has_sess_row) {
                row.version = sess_row->version;
                rc = sk_store_session_update(st, txn, &row);
            } else {
                rc = SK_ERR_INTERNAL;
            }
        }
        sk_session_record_clear(&row);
        if (rc != SK_OK)
            return rc;
    }
    if ((eff & SK_EFFECT_TOKEN_USED) && h->route.has_token_id && nk != NULL) {
        uint8_t kid[SK_KEY_ID_LEN];
        rc = sk_key_rec_key_id(nk, kid, sizeof kid);
        if (rc == SK_OK)
            rc = sk_store_token_use(st, txn, h->route.token_id, kid,
                                    gone != NULL ? key_row->key_id : NULL, (int64_t)h->now);
    }
    return rc;
}

/* Pass 1 of a proof of possession with a CA: keep what the CA needs. */
static int take_cert_request(hreq *h, const sk_key_rec *key, const sk_server_result *res)
{
    size_t len = 0;
    const uint8_t *csr = sk_server_result_csr(res, &len);
    sk_pubkey *pub = NULL;
    if (csr == NULL || key == NULL)
        return SK_ERR_INTERNAL;
    int rc = sk_key_rec_pubkey(key, &pub);
    if (rc == SK_OK) {
        h->n_len = (sk_pubkey_bits(pub) + 7) / 8;
        rc = h->n_len <= sizeof h->n ? sk_pubkey_modulus(pub, h->n, h->n_len) : SK_ERR_INTERNAL;
    }
    sk_pubkey_free(pub);
    if (rc != SK_OK)
        return rc == SK_ERR_NOMEM ? rc : SK_ERR_INTERNAL;
    free(h->csr);
    h->csr = malloc(len);
    if (h->csr == NULL)
        return SK_ERR_NOMEM;
    memcpy(h->csr, csr, len);
    h->csr_len = len;
    snprintf(h->subject, sizeof h->subject, "%s", sk_key_rec_subject(key));
    h->purpose = sk_key_rec_purpose(key);
    /* a qualified certificate only for a key whose subject the registration
     * authority checked (a registration token); an openly enrolled key gets
     * the basic profile and stays ADVANCED */
    h->qualified = sk_key_rec_level(key) == SK_CERT_LEVEL_QUALIFIED;
    h->need_cert = 1;
    return SK_OK;
}

/* What a device request read from the store: the records as stored (with
 * their versions, for the compare-and-swap) and as opened. */
typedef struct dev_loaded {
    sk_key_record key_row;
    sk_session_record sess_row;
    int has_key_row, has_sess_row;
    sk_key_rec *key;
    sk_session_rec *sess, *list[SK_MAX_FETCH_SESSIONS];
    size_t nlist;
    uint8_t *pool_key;
    size_t pool_key_len;
    int token_used;
} dev_loaded;

static void dev_loaded_clear(dev_loaded *ld)
{
    sk_key_rec_free(ld->key);
    sk_session_rec_free(ld->sess);
    for (size_t i = 0; i < ld->nlist; i++)
        sk_session_rec_free(ld->list[i]);
    secure_free(ld->pool_key);
    sk_key_record_clear(&ld->key_row);
    sk_session_record_clear(&ld->sess_row);
    memset(ld, 0, sizeof *ld);
}

/* Reads what a device request needs, through txn: for an enrolment the
 * token's use and a pool key (taken: only a write transaction may do it),
 * else the key record, opened with its secrets, and the routed session or
 * the waiting sessions. */
static int device_load(sk_store *st, sk_store_txn *txn, hreq *h, dev_loaded *ld)
{
    sk_share_server *srv = h->srv;
    int rc = SK_OK;
    h->pool_empty = 0;
    if (h->route.kind == SK_ROUTE_ENROL_INIT) {
        if (h->route.has_token_id) {
            uint8_t prior[SK_STORE_ID_LEN];
            int has_prior = 0;
            rc = sk_store_token_used(st, txn, &ld->token_used, prior, &has_prior,
                                     h->route.token_id);
            if (rc == SK_OK && ld->token_used && has_prior) {
                /* the key the token enrolled: started again if unfinished */
                rc = sk_store_key_get(st, txn, &ld->key_row, prior);
                if (rc == SK_OK) {
                    ld->has_key_row = 1;
                    rc = key_blob_open(srv->master, &ld->key_row, 1, &ld->key);
                } else if (rc == SK_ERR_NOT_FOUND) {
                    rc = SK_OK; /* purged: the token stays spent */
                }
            }
            if (rc != SK_OK)
                return rc;
        }
        rc = take_pool_key(st, txn, srv->master, h->route.profile, &ld->pool_key,
                           &ld->pool_key_len);
        if (rc == SK_ERR_NOT_FOUND)
            h->pool_empty = 1;
        return rc;
    }
    rc = sk_store_key_get(st, txn, &ld->key_row, h->route.key_id);
    if (rc == SK_ERR_NOT_FOUND)
        return SK_OK; /* the role answers NOT_FOUND in clear */
    if (rc != SK_OK)
        return rc;
    ld->has_key_row = 1;
    rc = key_blob_open(srv->master, &ld->key_row, 1, &ld->key);
    if (rc != SK_OK)
        return rc;
    sk_route_info r2;
    if (sk_server_peek_device(&r2, srv->ident, ld->key, h->msg, h->len) == SK_OK)
        rc = load_sessions(st, txn, h, &r2, &ld->sess_row, &ld->has_sess_row, &ld->sess,
                           ld->list, &ld->nlist);
    return rc;
}

/* Runs the server role on what device_load() read; no store access, so it
 * may run with no transaction open.  Returns SK_OK when *res has records to
 * store, STEP_NO_COMMIT when the reply (in h) changes nothing or a
 * certificate must be asked for first (h->need_cert), or an error. */
static int device_decide(hreq *h, const dev_loaded *ld, sk_server_result **res)
{
    sk_share_server *srv = h->srv;
    sk_server_input in;
    memset(&in, 0, sizeof in);
    in.identity = srv->ident;
    in.policy = &h->policy;
    in.now = h->now;
    in.ca_mode = srv->ca != NULL;
    in.certificate = h->cert;
    in.certificate_len = h->cert_len;
    in.ca_error = h->ca_error;
    in.token_used = ld->token_used;
    in.token_refused = h->token_refused;
    in.pool_key = ld->pool_key;
    in.pool_key_len = ld->pool_key_len;
    in.key = ld->key;
    in.session = ld->sess;
    in.key_restored = srv->restored_at > 0 && ld->has_key_row &&
                      ld->key_row.updated_at < srv->restored_at;
    in.session_abandoned = ld->has_sess_row && h->abandoned;
    if (h->route.msg_type == MSG_SESSION_FETCH) {
        in.sessions = (const sk_session_rec *const *)ld->list;
        in.n_sessions = ld->nlist;
    }
    h->wake = 0;
    h->mev = 0;
    h->need_cert = 0;
    *res = NULL;

    int rc = sk_server_handle_device(res, &in, h->msg, h->len);
    if (rc != SK_OK)
        return rc == SK_ERR_NOMEM ? rc : SK_ERR_INTERNAL;
    const sk_server_result *r = *res;
    if ((sk_server_result_effects(r) & SK_EFFECT_CERT_REQUEST) &&
        sk_server_result_status(r) == SK_ERR_PENDING && sk_server_result_key(r) == NULL) {
        /* Nothing is stored before the CA has answered (outside any
         * transaction); the request is handled again then. */
        rc = take_cert_request(h, ld->key, r);
        return rc == SK_OK ? STEP_NO_COMMIT : rc;
    }
    rc = keep_reply(h, r);
    if (rc != SK_OK)
        return rc;
    if (sk_server_result_key(r) != NULL &&
        sk_key_rec_key_id(sk_server_result_key(r), h->key_id, sizeof h->key_id) == SK_OK) {
        h->has_key_id = 1;
        sk_reqlog_key(h->key_id);
    }
    if (sk_server_result_key(r) == NULL && sk_server_result_session(r) == NULL)
        return STEP_NO_COMMIT; /* nothing changed: give back what was taken */
    return SK_OK;
}

/* Stores a decided result through txn: records and events. */
static int device_save(sk_store *st, sk_store_txn *txn, hreq *h, dev_loaded *ld,
                       const sk_server_result *res)
{
    int rc = persist(st, txn, h, res, &ld->key_row, ld->has_key_row, &ld->sess_row,
                     ld->has_sess_row);
    if (rc == SK_OK && sk_server_result_superseded(res) != NULL) {
        rc = add_event(st, txn, h, ld->key_row.key_id, SK_EV_DESTROYED, SK_DESTROY_ABANDONED);
        h->mev |= MEV_ABANDONED;
    }
    if (rc == SK_OK)
        rc = log_events(st, txn, h, ld->key, ld->sess, res,
                        sk_server_result_key(res) != NULL ? h->key_id : h->route.key_id);
    return rc;
}

/* One attempt of a device request in one write transaction (an
 * sk_store_step): enrolments, which take a pool key and a token, session
 * fetches, which read a list of sessions, and the second pass of a proof of
 * possession with a CA. */
static int step_device(sk_store *st, sk_store_txn *txn, void *arg)
{
    hreq *h = arg;
    dev_loaded ld;
    sk_server_result *res = NULL;
    memset(&ld, 0, sizeof ld);
    int rc = device_load(st, txn, h, &ld);
    if (rc == SK_OK)
        rc = device_decide(h, &ld, &res);
    if (rc == SK_OK)
        rc = device_save(st, txn, h, &ld, res);
    sk_server_result_free(res);
    dev_loaded_clear(&ld);
    return rc;
}

/* SK_OK if the rows ld read are still the stored ones (same versions, and a
 * key or session that was missing is still missing), else
 * SK_ERR_STORE_CONFLICT. */
static int device_validate(sk_store *st, sk_store_txn *txn, const hreq *h, const dev_loaded *ld)
{
    sk_key_record kr;
    sk_session_record sr;
    memset(&kr, 0, sizeof kr);
    memset(&sr, 0, sizeof sr);
    int rc = sk_store_key_get(st, txn, &kr, h->route.key_id);
    if (rc == SK_OK)
        rc = ld->has_key_row && kr.version == ld->key_row.version ? SK_OK
                                                                  : SK_ERR_STORE_CONFLICT;
    else if (rc == SK_ERR_NOT_FOUND)
        rc = ld->has_key_row ? SK_ERR_STORE_CONFLICT : SK_OK;
    sk_key_record_clear(&kr);
    if (rc == SK_OK && ld->has_sess_row) {
        rc = sk_store_session_get(st, txn, &sr, ld->sess_row.session_id);
        if (rc == SK_OK && sr.version != ld->sess_row.version)
            rc = SK_ERR_STORE_CONFLICT;
        else if (rc == SK_ERR_NOT_FOUND)
            rc = SK_ERR_STORE_CONFLICT;
        sk_session_record_clear(&sr);
    }
    return rc;
}

/* Whether a device request is served optimistically (device_optimistic). */
static int device_is_optimistic(const hreq *h)
{
    return h->route.kind != SK_ROUTE_ENROL_INIT && h->route.msg_type != MSG_SESSION_FETCH &&
           h->cert == NULL && h->ca_error == 0;
}

/* A device request on an existing key, served optimistically so that the
 * expensive part - opening the sealed record and the server's exponentiations
 * - runs with no store lock held and several workers sign at once:
 *   1. read the key record and the session in a read snapshot, and end it;
 *   2. run the server role with no transaction open;
 *   3. in a write transaction, check that the key record and the session
 *      still have the versions read (validation), store the result with
 *      compare-and-swap, log the events and commit.
 * If another request changed either row in between (or the store was busy),
 * everything is done again from 1 with fresh reads, at most STORE_ATTEMPTS
 * times: the outcome is the one a serial run would give.  Same results as
 * sk_store_run(step_device). */
static int device_optimistic(hreq *h)
{
    sk_store *st = h->srv->store;
    int rc = SK_ERR_STORE_BUSY;
    for (unsigned attempt = 0; attempt < STORE_ATTEMPTS; attempt++) {
        dev_loaded ld;
        sk_server_result *res = NULL;
        sk_store_txn *txn = NULL;
        memset(&ld, 0, sizeof ld);
        rc = sk_store_begin_read(st, &txn);
        if (rc == SK_OK) {
            rc = device_load(st, txn, h, &ld);
            sk_store_rollback(txn); /* a snapshot: nothing to keep */
            txn = NULL;
        }
        if (rc == SK_OK)
            rc = device_decide(h, &ld, &res);
        if (rc == SK_OK && h->srv->decided_hook != NULL)
            h->srv->decided_hook(h->srv->decided_hook_ctx);
        if (rc == SK_OK)
            rc = sk_store_begin(st, &txn);
        if (rc == SK_OK) {
            rc = device_validate(st, txn, h, &ld);
            if (rc == SK_OK)
                rc = device_save(st, txn, h, &ld, res);
            if (rc == SK_OK)
                rc = sk_store_commit(txn);
            else
                sk_store_rollback(txn);
        }
        sk_server_result_free(res);
        dev_loaded_clear(&ld);
        if (rc != SK_ERR_STORE_BUSY && rc != SK_ERR_STORE_CONFLICT)
            break;
        atomic_fetch_add(&h->srv->redone, 1);
    }
    return rc;
}

/* One attempt of a relying-party request. */
static int step_rp(sk_store *st, sk_store_txn *txn, void *arg)
{
    hreq *h = arg;
    sk_share_server *srv = h->srv;
    sk_server_input in;
    sk_key_record key_row;
    sk_session_record sess_row;
    int has_key_row = 0, has_sess_row = 0;
    sk_key_rec *key = NULL;
    sk_session_rec *sess = NULL;
    sk_server_result *res = NULL;
    int rc = SK_OK;

    h->wake = 0;
    memset(&key_row, 0, sizeof key_row);
    memset(&sess_row, 0, sizeof sess_row);
    memset(&in, 0, sizeof in);
    in.identity = srv->ident;
    in.policy = &h->policy;
    in.now = h->now;

    if (h->routed && (h->route.has_key_id || h->route.has_person_id)) {
        if (h->route.has_key_id)
            rc = sk_store_key_get(st, txn, &key_row, h->route.key_id);
        else
            rc = sk_store_key_get_by_person(st, txn, &key_row, h->route.person_id,
                                            (uint32_t)h->route.purpose);
        if (rc == SK_OK) {
            has_key_row = 1;
            memcpy(h->key_id, key_row.key_id, SK_KEY_ID_LEN);
            h->has_key_id = 1;
            sk_reqlog_key(h->key_id);
            rc = key_blob_open(srv->master, &key_row, 0, &key);
        } else if (rc == SK_ERR_NOT_FOUND || rc == SK_ERR_ARG || rc == SK_ERR_LIMIT) {
            rc = SK_OK; /* the role answers NOT_FOUND */
        }
        if (rc != SK_OK)
            goto out;
    }
    if (h->routed && h->route.has_session_id) {
        rc = load_sessions(st, txn, h, &h->route, &sess_row, &has_sess_row, &sess, NULL, NULL);
        if (rc != SK_OK)
            goto out;
    }
    in.key = key;
    in.session = sess;
    in.session_abandoned = has_sess_row && h->abandoned;
    rc = sk_server_handle_rp(&res, &in, h->msg, h->len);
    if (rc != SK_OK) {
        rc = rc == SK_ERR_NOMEM ? rc : SK_ERR_INTERNAL;
        goto out;
    }
    if (sk_server_result_key(res) != NULL) {
        rc = SK_ERR_INTERNAL; /* a relying party never changes a key */
        goto out;
    }
    rc = keep_reply(h, res);
    if (rc != SK_OK)
        goto out;
    if (h->route.kind == SK_ROUTE_RP_POLL && h->status == SK_ERR_PENDING && has_sess_row &&
        sess_row.rp_seen_at > 0) {
        /* The relying party is there, and waits until the end of the wait it
         * asked for.  Written when it moved by a quarter of the idle limit
         * at least, so that polls in a row do not each make a commit. */
        int64_t idle = srv->rp_idle_s ? srv->rp_idle_s : SK_SHARE_RP_IDLE_DEFAULT;
        int64_t until = (int64_t)h->now + (int64_t)((h->poll_wait_ms + 999u) / 1000u);
        if (until >= sess_row.rp_seen_at + (idle / 4 > 0 ? idle / 4 : 1)) {
            rc = sk_store_session_seen(st, txn, sess_row.session_id, until);
            goto out; /* SK_OK: commit it */
        }
    }
    if (sk_server_result_session(res) == NULL) {
        if (h->route.kind == SK_ROUTE_RP_CREATE && sk_server_result_status(res) == SK_ERR_LEVEL &&
            key != NULL) {
            /* No session; the refusal is kept in the event log. */
            rc = add_event(st, txn, h, h->key_id, SK_EV_LEVEL_REFUSED, sk_key_rec_level(key));
            goto out; /* SK_OK: commit it */
        }
        rc = STEP_NO_COMMIT;
        goto out;
    }
    rc = persist(st, txn, h, res, &key_row, has_key_row, &sess_row, has_sess_row);
    if (rc == SK_OK) {
        uint8_t sk_id[SK_KEY_ID_LEN];
        const uint8_t *kid = NULL;
        if (sk_session_rec_key_id(sk_server_result_session(res), sk_id, sizeof sk_id) == SK_OK)
            kid = sk_id;
        rc = log_events(st, txn, h, key, sess, res, kid);
    }
out:
    sk_server_result_free(res);
    sk_key_rec_free(key);
    sk_session_rec_free(sess);
    sk_key_record_clear(&key_row);
    sk_session_record_clear(&sess_row);
    return rc;
}

/* ---------------------------------------------------------- the handler */

static uint64_t now_s(const sk_share_server *srv)
{
    if (srv->clock != NULL)
        return srv->clock();
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec;
}

void sk_share_ca_hook_log(void *ctx, const char *ca_url, const uint8_t *key_id, int is_revocation,
                          int crl_reason)
{
    (void)ctx;
    if (is_revocation)
        sk_log_notice("key %02x%02x%02x%02x: revoke certificate (reason %d)%s%s", key_id[0],
                      key_id[1], key_id[2], key_id[3], crl_reason,
                      ca_url ? "; CA " : "; no CA configured", ca_url ? ca_url : "");
    else
        sk_log_notice("key %02x%02x%02x%02x: certificate request%s%s", key_id[0], key_id[1],
                      key_id[2], key_id[3], ca_url ? "; CA " : "; no CA configured",
                      ca_url ? ca_url : "");
}

/* Revokes a certificate the CA issued but the key did not keep (the second
 * pass did not store it), so that no certificate exists for a key that is
 * not active with it. */
static void revoke_unused(sk_share_server *srv, const uint8_t *der, size_t len)
{
    sk_cert *cert = NULL;
    sk_serial serial;
    char hex[2 * SK_SERIAL_MAX_LEN + 1] = "?";
    int rc = sk_cert_parse(&cert, der, len);
    if (rc == SK_OK)
        rc = sk_cert_serial(cert, &serial);
    sk_cert_free(cert);
    if (rc == SK_OK && sk_serial_to_hex(hex, sizeof hex, &serial) != SK_OK)
        hex[0] = '?', hex[1] = '\0';
    if (rc == SK_OK)
        rc = sk_ca_client_revoke(srv->ca, NULL, NULL, &serial, SK_REASON_SUPERSEDED);
    if (rc == SK_OK)
        sk_log_notice("certificate %s was issued but not stored; revoked (superseded)", hex);
    else
        sk_log_error("certificate %s was issued but not stored, and revoking it failed: %s; "
                     "revoke it with 'splitkey-ca revoke'",
                     hex, sk_strerror(rc));
}

/* Pass 2 of a proof of possession with a CA: ask the CA (outside any
 * transaction), then handle the request again with the certificate or the
 * CA's error. */
static int ra_pass(sk_share_server *srv, hreq *h)
{
    int irc = sk_share_ra_issue(srv->ca, &h->cert, &h->cert_len, h->purpose, h->qualified,
                                h->csr, h->csr_len, h->subject, h->n, h->n_len);
    h->ca_error = irc == SK_OK ? 0 : irc;
    h->saved_key_version = 0;
    int rc = sk_store_run(srv->store, STORE_ATTEMPTS, step_device, h);
    if (rc == STEP_NO_COMMIT && h->need_cert)
        rc = SK_ERR_INTERNAL; /* a second pass never asks again */
    if (rc == SK_OK)
        count_committed(h);
    if (rc == SK_OK && h->saved_key_version > 0)
        sk_hwm_raise(srv->hwm, h->saved_key_id, h->saved_key_version);
    if (h->cert != NULL && !(rc == SK_OK && (h->effects & SK_EFFECT_CERT_STORED)))
        revoke_unused(srv, h->cert, h->cert_len);
    return rc;
}

static sk_req_kind device_kind(uint32_t msg_type)
{
    switch (msg_type) {
    case MSG_ENROL_INIT:
        return SK_REQ_ENROL_INIT;
    case MSG_ENROL_SUBMIT:
        return SK_REQ_ENROL_SUBMIT;
    case MSG_SESSION_CREATE:
        return SK_REQ_SESSION_CREATE;
    case MSG_SESSION_FETCH:
        return SK_REQ_SESSION_FETCH;
    case MSG_SESSION_REFUSE:
        return SK_REQ_SESSION_RESULT; /* the device's answer: refused */
    case MSG_SIGN_SUBMIT:
        return SK_REQ_SIGN_SUBMIT;
    case MSG_KEY_STATE:
        return SK_REQ_KEY_STATE;
    case MSG_OTP_REFRESH:
        return SK_REQ_REFRESH_OTP;
    case MSG_REVOKE:
        return SK_REQ_REVOKE;
    default:
        return SK_REQ_UNKNOWN;
    }
}

static sk_req_kind rp_kind(sk_route_kind kind)
{
    switch (kind) {
    case SK_ROUTE_RP_CREATE:
        return SK_REQ_SESSION_CREATE;
    case SK_ROUTE_RP_POLL:
    case SK_ROUTE_RP_CANCEL: /* the relying party's answer: it no longer waits */
        return SK_REQ_SESSION_RESULT;
    case SK_ROUTE_RP_KEY_STATE:
        return SK_REQ_KEY_STATE;
    default:
        return SK_REQ_UNKNOWN;
    }
}

typedef struct certq {
    sk_share_server *srv;
    const uint8_t *key_id;
    uint8_t *der;
    size_t len;
} certq;

static int step_certificate(sk_store *st, sk_store_txn *txn, void *arg)
{
    certq *q = arg;
    sk_key_record row;
    sk_key_rec *rec = NULL;
    memset(&row, 0, sizeof row);
    free(q->der);
    q->der = NULL;
    q->len = 0;
    int rc = sk_store_key_get(st, txn, &row, q->key_id);
    if (rc == SK_OK)
        rc = key_blob_open(q->srv->master, &row, 0, &rec);
    if (rc == SK_OK) {
        size_t len = 0;
        const uint8_t *der = sk_key_rec_certificate(rec, &len);
        if (der != NULL) {
            q->der = malloc(len);
            if (q->der == NULL) {
                rc = SK_ERR_NOMEM;
            } else {
                memcpy(q->der, der, len);
                q->len = len;
            }
        }
    }
    sk_key_rec_free(rec);
    sk_key_record_clear(&row);
    return rc == SK_OK ? STEP_NO_COMMIT : rc; /* read only */
}

int sk_share_read_restore_mark(sk_share_server *srv)
{
    uint8_t v[24];
    size_t len = 0;
    srv->restored_at = 0;
    int rc = sk_store_meta_get(srv->store, NULL, "restored_at", v, sizeof v - 1, &len);
    if (rc == SK_ERR_NOT_FOUND)
        return SK_OK;
    if (rc != SK_OK)
        return rc;
    int64_t t = 0;
    if (sk_store_meta_decimal(v, len, &t) != SK_OK)
        return SK_ERR_KEY_FORMAT;
    srv->restored_at = t;
    return SK_OK;
}

int sk_share_key_rewrite(sk_share_server *srv, const uint8_t *key_id)
{
    sk_store_txn *txn = NULL;
    sk_key_record row, out;
    sk_key_rec *rec = NULL, *next = NULL;
    memset(&row, 0, sizeof row);
    memset(&out, 0, sizeof out);
    int rc = sk_store_begin(srv->store, &txn);
    if (rc == SK_OK)
        rc = sk_store_key_get(srv->store, txn, &row, key_id);
    if (rc == SK_OK)
        rc = key_blob_open(srv->master, &row, 1, &rec);
    if (rc == SK_OK)
        rc = sk_key_rec_rewrite(&next, rec);
    if (rc == SK_OK) {
        memcpy(out.key_id, row.key_id, sizeof out.key_id);
        memcpy(out.person_id, row.person_id, sizeof out.person_id);
        out.purpose = row.purpose;
        out.state = row.state;
        out.updated_at = row.updated_at;
        out.version = row.version;
        rc = key_blob_seal(srv->master, next, &out.blob, &out.blob_len);
    }
    if (rc == SK_OK)
        rc = sk_store_key_update(srv->store, txn, &out);
    if (rc == SK_OK)
        rc = sk_store_commit(txn);
    else if (txn != NULL)
        sk_store_rollback(txn);
    if (rc == SK_OK)
        sk_hwm_raise(srv->hwm, key_id, out.version);
    sk_key_rec_free(rec);
    sk_key_rec_free(next);
    sk_key_record_clear(&row);
    sk_key_record_clear(&out);
    return rc;
}

int sk_share_key_certificate(sk_share_server *srv, const uint8_t *key_id, uint8_t **der,
                             size_t *len)
{
    certq q = {.srv = srv, .key_id = key_id};
    *der = NULL;
    *len = 0;
    int rc = sk_store_run(srv->store, STORE_ATTEMPTS, step_certificate, &q);
    if (rc == STEP_NO_COMMIT) {
        *der = q.der;
        *len = q.len;
        return SK_OK;
    }
    free(q.der);
    return rc;
}

int sk_share_cleanup(sk_share_server *srv, uint64_t now, size_t *keys_deleted,
                     size_t *sessions_deleted)
{
    unsigned enrolling = srv->enrolling_ttl_s ? srv->enrolling_ttl_s : 600u;
    unsigned keep = srv->session_keep_s ? srv->session_keep_s : 3600u;
    size_t nk = 0, ns = 0;
    sk_store_txn *txn = NULL;
    int rc = sk_store_begin(srv->store, &txn);
    if (rc == SK_OK)
        rc = sk_store_keys_purge(srv->store, txn, &nk, SK_KEY_ENROLLING,
                                 (int64_t)now - (int64_t)enrolling);
    if (rc == SK_OK)
        rc = sk_store_sessions_purge(srv->store, txn, &ns, (int64_t)now - (int64_t)keep);
    hreq h = {.now = now};
    if (rc == SK_OK && nk > 0)
        rc = add_event(srv->store, txn, &h, NULL, SK_EV_ENROLLING_PURGED, (int64_t)nk);
    if (rc == SK_OK && ns > 0)
        rc = add_event(srv->store, txn, &h, NULL, SK_EV_SESSIONS_PURGED, (int64_t)ns);
    if (rc == SK_OK)
        rc = sk_store_commit(txn);
    else
        sk_store_rollback(txn);
    if (rc == SK_OK && (nk > 0 || ns > 0))
        sk_log_notice("clean-up: removed %zu abandoned enrolments and %zu old sessions", nk, ns);
    if (keys_deleted != NULL)
        *keys_deleted = rc == SK_OK ? nk : 0;
    if (sessions_deleted != NULL)
        *sessions_deleted = rc == SK_OK ? ns : 0;
    return rc;
}

/* One pass over a request: the role on the records, then the store, redone
 * on conflicts; an enrolment that finds the pool empty makes a key first.
 * Raises the key's high-water mark once its record is committed. */
static int run_request(sk_share_server *srv, hreq *h)
{
    int rc;
    for (int attempt = 0;; attempt++) {
        h->saved_key_version = 0;
        if (h->device && device_is_optimistic(h))
            rc = device_optimistic(h);
        else
            rc = sk_store_run(srv->store, STORE_ATTEMPTS, h->device ? step_device : step_rp, h);
        if (!(rc == SK_ERR_NOT_FOUND && h->pool_empty) || attempt == POOL_REFILL_ATTEMPTS)
            break;
        /* No pooled key of this profile: make one now, outside the
         * transaction, and try again. */
        int frc = sk_pool_fill_one(srv->store, srv->master, h->route.profile);
        if (frc != SK_OK) {
            sk_log_error("enrolment: cannot make a %s server key: %s",
                         sk_profile_name(h->route.profile), sk_strerror(frc));
            rc = frc == SK_ERR_NOMEM ? frc : SK_ERR_STORE;
            break;
        }
    }
    if (rc == SK_OK)
        count_committed(h);
    if (rc == SK_OK && h->saved_key_version > 0)
        sk_hwm_raise(srv->hwm, h->saved_key_id, h->saved_key_version);
    return rc;
}

/* Runs the clean-up from whichever request finds it due (one at a time). */
static void maybe_cleanup(sk_share_server *srv, uint64_t now)
{
    unsigned every = srv->cleanup_every_s ? srv->cleanup_every_s : 60u;
    uint_least64_t last = atomic_load(&srv->last_cleanup);
    if (now < last + every)
        return;
    if (!atomic_compare_exchange_strong(&srv->last_cleanup, &last, now))
        return;
    int rc = sk_share_cleanup(srv, now, NULL, NULL);
    if (rc != SK_OK)
        sk_log_error("clean-up failed: %s (will retry)", sk_strerror(rc));
}

/* Four eyes: an EnrolInit's token must carry valid approvals of two
 * distinct operators listed in srv->operators_file (read now, so a removal
 * counts at once).  Returns 1 to go on (h->approvers set), 0 when refused
 * (the refusal is in the event log: SK_EV_TOKEN_REFUSED, when the token
 * carries this server's signature, so that made-up tokens fill no log). */
static int four_eyes(sk_share_server *srv, hreq *h)
{
    sk_token_info info;
    sk_operator *ops = NULL;
    size_t n_ops = 0, good = 0;
    char err[256] = "";
    int peek_rc = sk_server_peek_token(&info, srv->ident, h->msg, h->len), rc = peek_rc;
    int64_t detail = -1;
    if (rc == SK_OK) {
        rc = sk_operators_load(&ops, &n_ops, srv->operators_file, err, sizeof err);
        if (rc != SK_OK) {
            sk_log_error("four eyes: %s", err);
        } else {
            for (size_t i = 0; i < info.n_operators; i++)
                if (sk_operators_find(ops, n_ops, info.operators[i]) != NULL)
                    memcpy(h->approvers[good++], info.operators[i], SK_OPERATOR_PUB_LEN);
            detail = (int64_t)good;
        }
        free(ops);
    }
    if (rc == SK_OK && good >= 2) {
        h->n_approvers = good;
        return 1;
    }
    h->n_approvers = 0;
    sk_log_notice("enrolment refused: the registration token lacks the approvals of two "
                  "registered operators (%lld valid)", (long long)detail);
    /* only a token with this server's signature is worth a line in the log */
    if (peek_rc == SK_OK || peek_rc == SK_ERR_BAD_SIGNATURE) {
        int erc = add_event(srv->store, NULL, h, h->route.token_id, SK_EV_TOKEN_REFUSED, detail);
        if (erc != SK_OK)
            sk_log_error("four eyes: cannot log the refusal: %s", sk_strerror(erc));
    }
    return 0;
}

/* sk_share_handle and sk_share_handle_rp: rp_direct marks a relying-party
 * request from the authenticated HTTPS listener (rp_v2.h), which parks its
 * own long polls (a poll's wait_ms only says how long its relying party
 * waits, for the liveness check).  On the device socket (!rp_direct) a
 * relying-party frame is refused. */
static int share_handle(sk_share_server *srv, const uint8_t *req, size_t req_len,
                        uint8_t **reply, size_t *reply_len, bool rp_direct)
{
    hreq h;
    int rc;

    *reply = NULL;
    *reply_len = 0;
    sk_reqlog_kind(SK_REQ_UNKNOWN);
    if (srv == NULL || srv->ident == NULL || srv->store == NULL || srv->master == NULL)
        return SK_ERR_INTERNAL;
    if (req == NULL || req_len < SK_FRAME_TAG_LEN)
        return SK_ERR_PROTO_DECODE;
    memset(&h, 0, sizeof h);
    h.srv = srv;
    if (memcmp(req, SK_FRAME_DEVICE, SK_FRAME_TAG_LEN) == 0)
        h.device = 1;
    else if (memcmp(req, SK_FRAME_RP, SK_FRAME_TAG_LEN) != 0)
        return SK_ERR_PROTO_DECODE;
    else if (!rp_direct) {
        /* Relying parties use the HTTPS listener.  Nothing read or stored
         * (the frame is parsed only to name its kind in the request log);
         * one notice per connection at most. */
        sk_route_info route;
        if (sk_server_peek_rp(&route, req + SK_FRAME_TAG_LEN, req_len - SK_FRAME_TAG_LEN) ==
            SK_OK)
            sk_reqlog_kind(rp_kind(route.kind));
        if (sk_rep_note_once())
            sk_log_notice("a relying-party frame on the device socket refused (relying parties "
                          "use the HTTPS API); further ones on this connection are refused "
                          "silently");
        return SK_SVC_ERR_RP_REFUSED;
    }
    h.msg = req + SK_FRAME_TAG_LEN;
    h.len = req_len - SK_FRAME_TAG_LEN;
    h.now = now_s(srv);
    sk_server_policy_default(&h.policy);
    if (srv->lock1_s != 0)
        h.policy.lock1_seconds = srv->lock1_s;
    if (srv->lock2_s != 0)
        h.policy.lock2_seconds = srv->lock2_s;
    h.policy.open_enrolment = srv->open_enrolment;
    h.policy.session_seconds = srv->session_ttl_s ? srv->session_ttl_s : 120u;

    if (h.device) {
        rc = sk_server_peek_device(&h.route, srv->ident, NULL, h.msg, h.len);
        sk_reqlog_kind(device_kind(h.route.msg_type));
        if (h.route.has_key_id)
            sk_reqlog_key(h.route.key_id);
        if (rc != SK_OK) {
            /* Unroutable: a plain error, nothing read or written. */
            uint8_t *buf = malloc(SK_MAX_MESSAGE_LEN);
            size_t len = 0;
            if (buf == NULL)
                return SK_ERR_NOMEM;
            int prc = sk_server_plain_error(buf, SK_MAX_MESSAGE_LEN, &len, rc < 0 ? rc
                                                                     : SK_ERR_PROTO_DECODE);
            if (prc != SK_OK) {
                free(buf);
                return prc;
            }
            *reply = buf;
            *reply_len = len;
            return rc;
        }
        /* Four eyes: refused by the role (sealed, nothing stored, the
         * token not spent); the refusal is in the event log already. */
        if (h.route.kind == SK_ROUTE_ENROL_INIT && h.route.has_token_id &&
            srv->operators_file != NULL && !four_eyes(srv, &h))
            h.token_refused = 1;
    } else {
        h.routed = sk_server_peek_rp(&h.route, h.msg, h.len) == SK_OK;
        h.poll_wait_ms = h.route.wait_ms;
        sk_reqlog_kind(rp_kind(h.route.kind));
        if (h.route.has_key_id)
            sk_reqlog_key(h.route.key_id);
    }

    rc = run_request(srv, &h);
    if (rc == SK_OK && h.device && h.status == SK_ERR_LEASE) {
        /* A PIN check: its charge is committed.  The same request again is
         * the check itself (the role knows it by the lease it holds); if
         * this part fails, the charge stands and the device's retry of the
         * same request runs the check. */
        if (srv->charged_hook != NULL)
            srv->charged_hook(srv->charged_hook_ctx);
        rc = run_request(srv, &h);
        if (rc == SK_OK && h.status == SK_ERR_LEASE)
            rc = SK_ERR_INTERNAL; /* a continuation never charges again */
    }
    if (rc == STEP_NO_COMMIT && h.need_cert)
        rc = ra_pass(srv, &h);
    free(h.csr);
    h.csr = NULL;
    free(h.cert);
    h.cert = NULL;
    if (rc == SK_OK && h.wake && srv->longpoll != NULL)
        sk_longpoll_notify(srv->longpoll); /* committed: wake parked polls */
    if (rc != SK_OK && rc != STEP_NO_COMMIT) {
        if (h.pool_empty && rc == SK_ERR_NOT_FOUND)
            rc = SK_ERR_STORE; /* the pool stayed empty */
        hreq_drop_reply(&h);
        if (rc == SK_ERR_STORE || rc == SK_ERR_STORE_BUSY || rc == SK_ERR_STORE_CONFLICT)
            sk_metrics_store_error();
        if (rc != SK_ERR_STORE_BUSY && rc != SK_ERR_NOMEM)
            sk_log_error("request not served: %s (nothing stored)", sk_strerror(rc));
        return rc < 0 ? rc : SK_ERR_INTERNAL;
    }
    if (rc == SK_OK) {
        /* Committed: act on what must reach the outside. */
        const uint8_t *kid = h.device ? (h.has_key_id ? h.key_id : h.route.key_id) : h.key_id;
        sk_share_ca_hook hook = srv->ca_hook ? srv->ca_hook : sk_share_ca_hook_log;
        if (h.effects & SK_EFFECT_REVOKE_CERT)
            hook(srv->ca_hook_ctx, srv->ca_url, kid, 1, h.revoke_reason);
        if (h.effects & SK_EFFECT_CERT_REQUEST)
            hook(srv->ca_hook_ctx, srv->ca_url, kid, 0, 0);
        /* As the RA: revoke now; a revocation the CA misses stays due in the
         * event log and sk_share_ra_retry() asks again. */
        if ((h.effects & SK_EFFECT_REVOKE_CERT) && srv->ca != NULL)
            (void)sk_share_ra_revoke(srv, kid, h.revoke_reason, h.now);
        if ((h.effects & SK_EFFECT_POOL_KEY_USED) && srv->pool != NULL)
            sk_pool_filler_kick(srv->pool);
    }
    *reply = h.reply;
    *reply_len = h.reply_len;
    maybe_cleanup(srv, h.now);
    return h.status;
}

int sk_share_handle(void *ctx, const uint8_t *req, size_t req_len, uint8_t **reply,
                    size_t *reply_len)
{
    return share_handle(ctx, req, req_len, reply, reply_len, false);
}

int sk_share_handle_rp(sk_share_server *srv, const uint8_t *rp_req, size_t rp_req_len,
                       uint8_t **reply, size_t *reply_len)
{
    *reply = NULL;
    *reply_len = 0;
    if (rp_req == NULL || rp_req_len > SK_MAX_MESSAGE_LEN)
        return SK_ERR_PROTO_DECODE;
    uint8_t *frame = malloc(SK_FRAME_TAG_LEN + rp_req_len);
    if (frame == NULL)
        return SK_ERR_NOMEM;
    memcpy(frame, SK_FRAME_RP, SK_FRAME_TAG_LEN);
    memcpy(frame + SK_FRAME_TAG_LEN, rp_req, rp_req_len);
    int rc = share_handle(srv, frame, SK_FRAME_TAG_LEN + rp_req_len, reply, reply_len, true);
    free(frame);
    return rc;
}

/* ------------------------------------------------ revoked at the CA */

typedef struct carev {
    hreq h;
    const uint8_t *key_id;
    const sk_serial *serial;
    int crl_reason;
    int outcome;
} carev;

/* Whether the certificate stored in rec has this serial. */
static bool cert_has_serial(const sk_key_rec *rec, const sk_serial *serial)
{
    size_t len = 0;
    const uint8_t *der = sk_key_rec_certificate(rec, &len);
    sk_cert *cert = NULL;
    sk_serial s;
    bool same = false;
    if (der != NULL && sk_cert_parse(&cert, der, len) == SK_OK &&
        sk_cert_serial(cert, &s) == SK_OK)
        same = s.len == serial->len && memcmp(s.bytes, serial->bytes, s.len) == 0;
    sk_cert_free(cert);
    return same;
}

static int step_ca_revoked(sk_store *st, sk_store_txn *txn, void *arg)
{
    carev *q = arg;
    hreq *h = &q->h;
    sk_key_record row;
    sk_key_rec *rec = NULL;
    sk_server_result *res = NULL;
    memset(&row, 0, sizeof row);
    h->mev = 0;
    h->wake = 0;
    q->outcome = -1;
    int rc = sk_store_key_get(st, txn, &row, q->key_id);
    if (rc == SK_OK)
        rc = key_blob_open(h->srv->master, &row, 1, &rec);
    if (rc != SK_OK)
        goto out;
    if (!cert_has_serial(rec, q->serial)) {
        rc = STEP_NO_COMMIT;
        goto out;
    }
    sk_key_status os;
    sk_key_rec_status(rec, &os, &h->policy, h->now);
    if (os.state == SK_KEY_DESTROYED) {
        q->outcome = 0;
        rc = STEP_NO_COMMIT;
        goto out;
    }
    sk_server_input in;
    memset(&in, 0, sizeof in);
    in.identity = h->srv->ident;
    in.policy = &h->policy;
    in.now = h->now;
    in.ca_mode = h->srv->ca != NULL;
    in.key = rec;
    rc = sk_server_operator_revoke(&res, &in);
    const sk_key_rec *nk = rc == SK_OK ? sk_server_result_key(res) : NULL;
    if (rc == SK_OK && nk == NULL)
        rc = SK_ERR_INTERNAL;
    if (rc == SK_OK)
        rc = put_key(st, txn, h, nk, false, &row);
    sk_key_status cs;
    if (rc == SK_OK) {
        sk_key_rec_status(nk, &cs, &h->policy, h->now);
        rc = add_event(st, txn, h, q->key_id, SK_EV_DESTROYED, cs.destroy_reason);
        h->mev = MEV_DESTROYED;
        h->mev_destroyed = (unsigned)cs.destroy_reason;
        h->wake = 1;
    }
    if (rc == SK_OK)
        rc = add_event(st, txn, h, q->key_id, SK_EV_CA_REVOKED, q->crl_reason);
    if (rc == SK_OK)
        q->outcome = 1;
out:
    sk_server_result_free(res);
    sk_key_rec_free(rec);
    sk_key_record_clear(&row);
    return rc;
}

int sk_share_key_ca_revoked(sk_share_server *srv, const uint8_t *key_id, const sk_serial *serial,
                            int crl_reason, uint64_t now, int *outcome)
{
    carev q;
    memset(&q, 0, sizeof q);
    q.h.srv = srv;
    q.h.now = now;
    sk_server_policy_default(&q.h.policy);
    if (srv->lock1_s)
        q.h.policy.lock1_seconds = srv->lock1_s;
    if (srv->lock2_s)
        q.h.policy.lock2_seconds = srv->lock2_s;
    q.key_id = key_id;
    q.serial = serial;
    q.crl_reason = crl_reason;
    *outcome = -1;
    int rc = sk_store_run(srv->store, STORE_ATTEMPTS, step_ca_revoked, &q);
    if (rc == STEP_NO_COMMIT) {
        *outcome = q.outcome;
        return SK_OK;
    }
    if (rc != SK_OK)
        return rc;
    *outcome = q.outcome;
    count_committed(&q.h);
    if (q.h.saved_key_version > 0)
        sk_hwm_raise(srv->hwm, q.h.saved_key_id, q.h.saved_key_version);
    if (q.h.wake && srv->longpoll != NULL)
        sk_longpoll_notify(srv->longpoll);
    return SK_OK;
}
