/* SPDX-License-Identifier: Apache-2.0 */
/* test_rp_cancel.c - a relying party that no longer waits, through the share
 * server's handler over a real SQLite store, with an injected clock:
 *   - the idle rule: a session whose relying party has not polled for longer
 *     than rp_idle_s (counted from the end of the wait its last poll asked
 *     for) is no longer listed by the device's fetch, its approval is
 *     answered as for an expired session (key ACTIVE, no attempt counted,
 *     the next approval signs), and the relying party then reads CANCELLED;
 *     a relying party that polls in time keeps its session offered, and one
 *     that created its session just now is never idle;
 *   - a poll records its relying party without a new version of the
 *     session; CANCELLED is stored as state 5 with event 21;
 *   - a cancel wakes a poll parked on the session (the long-poll
 *     generation moves) and the poll answers CANCELLED;
 *   - device-created sessions are never taken for abandoned.
 * Relying-party requests go in through sk_share_handle_rp, as from the
 * HTTPS API (rp_v2.h), which waits for a PENDING session's change on
 * srv->longpoll itself: the parked poll here does the same. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "handler.h"
#include "log.h"
#include "longpoll.h"
#include "seal.h"
#include "splitkey/device.h"
#include "splitkey/rp.h"
#include "splitkey/splitkey.h"
#include "store.h"
#include "svctest.h"
#include "testutil.h"

#define PIN "48213"
#define IDLE_S 5u

static sk_share_server srv;
static uint64_t fake_now = 1790000000;
static uint64_t test_clock(void) { return fake_now; }

static uint8_t server_pub[SK_SERVER_PUB_LEN];
static uint8_t msg[SK_MAX_MESSAGE_LEN];
static size_t msg_len;
static uint8_t key_id[SK_KEY_ID_LEN];

static void free_reply(uint8_t *r, size_t n)
{
    if (r != NULL) {
        sodium_memzero(r, n);
        free(r);
    }
}

/* The device's msg through the handler (an "SKD1" frame); the reply is
 * kept in *reply. */
static void device(uint8_t **reply, size_t *reply_len)
{
    uint8_t framed[SK_MAX_MESSAGE_LEN + 4];
    memcpy(framed, SK_FRAME_DEVICE, 4);
    memcpy(framed + 4, msg, msg_len);
    *reply = NULL;
    sk_reqlog_begin();
    int rc = sk_share_handle(&srv, framed, msg_len + 4, reply, reply_len);
    sk_reqlog_end(rc);
    CHECK(*reply != NULL);
}

/* A relying-party request (an RpRequest) as the HTTPS API hands it over. */
static int relying_party(const uint8_t *req, size_t req_len, uint8_t **reply,
                         size_t *reply_len)
{
    sk_reqlog_begin();
    int rc = sk_share_handle_rp(&srv, req, req_len, reply, reply_len);
    sk_reqlog_end(rc);
    return rc;
}

/* An ACTIVE signing key: enrolment and the proof of possession. */
static sk_device_key *enrol_active(void)
{
    sk_device_enrolment *e = NULL;
    sk_device_key *key = NULL;
    sk_device_session *s = NULL;
    uint8_t *rep = NULL, digest[32] = {1}, sig[SK_MAX_SIG_LEN];
    size_t rl = 0, sl = 0;
    CHECK_OK(sk_device_enrol_start(&e, msg, sizeof msg, &msg_len, server_pub, sizeof server_pub,
                                   SK_PURPOSE_SIGN, SK_PROFILE_4K, (const uint8_t *)PIN,
                                   strlen(PIN), SK_KDF_MINIMUM, NULL,
                                   "C=LV,GN=ANNA,SN=BERZINA,serialNumber=PNOLV-010101-12345"));
    device(&rep, &rl);
    CHECK_OK(sk_device_enrol_continue(e, msg, sizeof msg, &msg_len, rep, rl));
    free_reply(rep, rl);
    device(&rep, &rl);
    CHECK_OK(sk_device_enrol_finish(e, &key, rep, rl));
    free_reply(rep, rl);
    sk_device_enrolment_free(e);
    if (key == NULL)
        return NULL;
    CHECK_OK(sk_device_session_create(key, msg, sizeof msg, &msg_len, fake_now, digest,
                                      sizeof digest, SK_HASH_SHA256, SK_SCHEME_PKCS1, "pop"));
    device(&rep, &rl);
    CHECK_OK(sk_device_read_session(key, &s, NULL, rep, rl));
    free_reply(rep, rl);
    if (s != NULL) {
        CHECK_OK(sk_device_approve(key, msg, sizeof msg, &msg_len, fake_now, s,
                                   (const uint8_t *)PIN, strlen(PIN)));
        device(&rep, &rl);
        CHECK_OK(sk_device_read_signature(key, sig, sizeof sig, &sl, NULL, rep, rl));
        free_reply(rep, rl);
    }
    sk_device_session_free(s);
    CHECK(sk_device_key_state(key) == SK_KEY_ACTIVE);
    return key;
}

/* The relying party asks for a signature; returns SK_OK and the id. */
static int rp_create(uint8_t *sid)
{
    uint8_t req[1024], digest[32] = {7}, *rep = NULL;
    size_t req_len = 0, rl = 0;
    sk_rp_create c = {.key_id = key_id, .purpose = SK_PURPOSE_SIGN, .digest = digest,
                      .hash = SK_HASH_SHA256, .scheme = SK_SCHEME_PSS,
                      .display_text = "Contract", .rp_name = "Bank"};
    sk_rp_created created;
    CHECK_OK(sk_rp_create_request(req, sizeof req, &req_len, &c));
    (void)relying_party(req, req_len, &rep, &rl);
    int rc = rep == NULL ? SK_ERR_INTERNAL : sk_rp_read_created(&created, NULL, rep, rl);
    free_reply(rep, rl);
    if (rc == SK_OK)
        memcpy(sid, created.session_id, SK_SESSION_ID_LEN);
    return rc;
}

/* A poll (wait_ms) or, with cancel, a cancel; returns the state read, or
 * the error. */
static int rp_ask(const uint8_t *sid, uint32_t wait_ms, bool cancel, sk_session_state *state)
{
    uint8_t req[128], *rep = NULL;
    size_t req_len = 0, rl = 0;
    sk_rp_result *res = calloc(1, sizeof *res);
    if (res == NULL)
        return SK_ERR_NOMEM;
    int rc = cancel ? sk_rp_cancel_request(req, sizeof req, &req_len, sid, SK_SESSION_ID_LEN)
                    : sk_rp_poll_wait_request(req, sizeof req, &req_len, sid, SK_SESSION_ID_LEN,
                                              wait_ms);
    if (rc == SK_OK) {
        (void)relying_party(req, req_len, &rep, &rl);
        rc = rep == NULL ? SK_ERR_INTERNAL : sk_rp_read_result(res, NULL, rep, rl);
    }
    if (rc == SK_OK)
        *state = res->state;
    free_reply(rep, rl);
    free(res);
    return rc;
}

static sk_session_state poll_state(const uint8_t *sid, uint32_t wait_ms)
{
    sk_session_state st = 0;
    CHECK_OK(rp_ask(sid, wait_ms, false, &st));
    return st;
}

/* The key's state as the relying party reads it. */
static sk_key_status key_status(void)
{
    uint8_t req[128], *rep = NULL;
    size_t req_len = 0, rl = 0;
    sk_key_status st;
    memset(&st, 0, sizeof st);
    CHECK_OK(sk_rp_key_state_request(req, sizeof req, &req_len, key_id, sizeof key_id));
    (void)relying_party(req, req_len, &rep, &rl);
    CHECK(rep != NULL);
    if (rep != NULL)
        CHECK_OK(sk_rp_read_key_state(&st, rep, rl));
    free_reply(rep, rl);
    return st;
}

/* Whether the device's fetch lists the session; *out (may be NULL) gets it. */
static bool offered(sk_device_key *key, const uint8_t *sid, sk_device_session **out)
{
    sk_device_session *s[SK_MAX_FETCH_SESSIONS] = {NULL};
    size_t n = 0;
    uint8_t *rep = NULL;
    size_t rl = 0;
    bool found = false;
    if (out != NULL)
        *out = NULL;
    CHECK_OK(sk_device_fetch(key, msg, sizeof msg, &msg_len, fake_now));
    device(&rep, &rl);
    int rc = sk_device_read_sessions(key, s, SK_MAX_FETCH_SESSIONS, &n, NULL, rep, rl);
    CHECK(rc == SK_OK || rc == SK_ERR_NOT_FOUND);
    free_reply(rep, rl);
    for (size_t i = 0; i < n; i++) {
        uint8_t id[SK_SESSION_ID_LEN];
        if (!found && sk_device_session_id(s[i], id, sizeof id) == SK_OK &&
            memcmp(id, sid, sizeof id) == 0) {
            found = true;
            if (out != NULL) {
                *out = s[i];
                s[i] = NULL;
            }
        }
        sk_device_session_free(s[i]);
    }
    return found;
}

static int approve(sk_device_key *key, const sk_device_session *s)
{
    uint8_t *rep = NULL, sig[SK_MAX_SIG_LEN];
    size_t rl = 0, sl = 0;
    CHECK_OK(sk_device_approve(key, msg, sizeof msg, &msg_len, fake_now, s, (const uint8_t *)PIN,
                               strlen(PIN)));
    device(&rep, &rl);
    int rc = rep == NULL ? SK_ERR_INTERNAL
                         : sk_device_read_signature(key, sig, sizeof sig, &sl, NULL, rep, rl);
    free_reply(rep, rl);
    return rc;
}

static size_t count_events(uint32_t kind, int64_t detail)
{
    sk_event *evs = NULL;
    size_t n = 0, c = 0;
    CHECK_OK(sk_store_events(srv.store, NULL, &evs, &n, key_id, 0, 0));
    for (size_t i = 0; i < n; i++)
        if (evs[i].kind == kind && evs[i].detail == detail)
            c++;
    free(evs);
    return c;
}

static sk_session_record session_row(const uint8_t *sid)
{
    sk_session_record row;
    memset(&row, 0, sizeof row);
    CHECK_OK(sk_store_session_get(srv.store, NULL, &row, sid));
    return row;
}

/* A fresh session, polled, approved and signed: the device and the server
 * are in step (no clone verdict) and the key signs. */
static void signs_fine(sk_device_key *key)
{
    uint8_t sid[SK_SESSION_ID_LEN];
    sk_device_session *s = NULL;
    CHECK_OK(rp_create(sid));
    CHECK(poll_state(sid, 0) == SK_SESSION_PENDING);
    CHECK(offered(key, sid, &s));
    if (s != NULL)
        CHECK_OK(approve(key, s));
    sk_device_session_free(s);
    CHECK(poll_state(sid, 0) == SK_SESSION_COMPLETE);
}

static void test_idle(sk_device_key *key)
{
    uint8_t sid[SK_SESSION_ID_LEN];
    sk_device_session *s = NULL;
    size_t abandoned0 = count_events(SK_EV_SESSION_CANCELLED, 2);

    /* created and polled at once: offered; the poll moved no version */
    CHECK_OK(rp_create(sid));
    CHECK(offered(key, sid, NULL));
    CHECK(poll_state(sid, 0) == SK_SESSION_PENDING);
    sk_session_record row = session_row(sid);
    CHECK(row.version == 1 && row.rp_seen_at == (int64_t)fake_now);
    sk_session_record_clear(&row);

    /* idle for exactly the limit: still offered (fetched here, approved
     * after the limit below) */
    fake_now += IDLE_S;
    CHECK(offered(key, sid, &s));
    /* past the limit: no longer offered */
    fake_now += 1;
    CHECK(!offered(key, sid, NULL));
    row = session_row(sid);
    CHECK(row.state == SK_SESSION_PENDING); /* not touched yet */
    sk_session_record_clear(&row);

    /* the approval of the session fetched before: gone as if expired; the
     * key stays ACTIVE with all its attempts, and the next one signs */
    CHECK(s != NULL);
    if (s != NULL)
        CHECK_RC(SK_ERR_SESSION_EXPIRED, approve(key, s));
    sk_device_session_free(s);
    sk_key_status ks = key_status();
    CHECK(ks.state == SK_KEY_ACTIVE && ks.attempts_left == 3);
    CHECK(sk_device_key_state(key) == SK_KEY_ACTIVE);
    row = session_row(sid);
    CHECK(row.state == 5); /* CANCELLED, as stored */
    sk_session_record_clear(&row);
    CHECK(count_events(SK_EV_SESSION_CANCELLED, 2) == abandoned0 + 1);
    CHECK(poll_state(sid, 0) == SK_SESSION_CANCELLED);
    signs_fine(key);

    /* a relying party that polls in time keeps its session offered: each
     * poll counts until the end of the wait it asks for */
    CHECK_OK(rp_create(sid));
    CHECK(poll_state(sid, 4000) == SK_SESSION_PENDING);
    row = session_row(sid);
    CHECK(row.version == 1 && row.rp_seen_at == (int64_t)fake_now + 4);
    sk_session_record_clear(&row);
    fake_now += 4 + IDLE_S;
    CHECK(offered(key, sid, NULL));
    CHECK(poll_state(sid, 4000) == SK_SESSION_PENDING);
    fake_now += 4 + IDLE_S;
    CHECK(offered(key, sid, NULL));
    /* then it stops polling */
    fake_now += 1;
    CHECK(!offered(key, sid, NULL));
    /* its own poll, late, finds it cancelled (the device may have been
     * told it is gone) */
    CHECK(poll_state(sid, 4000) == SK_SESSION_CANCELLED);
    CHECK(count_events(SK_EV_SESSION_CANCELLED, 2) == abandoned0 + 2);

    /* a device-created session has no relying party: never abandoned */
    uint8_t digest[32] = {9}, *rep = NULL, own_id[SK_SESSION_ID_LEN];
    size_t rl = 0;
    CHECK_OK(sk_device_session_create(key, msg, sizeof msg, &msg_len, fake_now, digest,
                                      sizeof digest, SK_HASH_SHA256, SK_SCHEME_PKCS1, "Local"));
    device(&rep, &rl);
    sk_device_session *own = NULL;
    CHECK_OK(sk_device_read_session(key, &own, NULL, rep, rl));
    free_reply(rep, rl);
    if (own != NULL) {
        CHECK_OK(sk_device_session_id(own, own_id, sizeof own_id));
        row = session_row(own_id);
        CHECK(row.rp_seen_at == 0);
        sk_session_record_clear(&row);
        fake_now += 10 * IDLE_S;
        CHECK(offered(key, own_id, NULL));
        CHECK_OK(approve(key, own));
    }
    sk_device_session_free(own);
}

typedef struct parked {
    uint8_t sid[SK_SESSION_ID_LEN];
    int rc;
    sk_session_state state;
    bool woken; /* a wait ended because the long-poll generation moved */
} parked;

static void nap(void) { sv_sleep_ms(20); }

/* Long-polls as the HTTPS API does: the generation read before each poll,
 * and while the session is PENDING a wait on srv.longpoll until a commit
 * changes a session or the wait ends, then the poll again.  It holds the
 * one parking slot while it waits, so that the main thread can tell it has
 * parked; when it finds the slot taken by the main thread's probe it asks
 * again after a nap. */
static void *park_main(void *arg)
{
    parked *p = arg;
    for (;;) {
        uint64_t gen = sk_longpoll_generation(srv.longpoll);
        p->rc = rp_ask(p->sid, SK_MAX_POLL_WAIT_MS, false, &p->state);
        if (p->rc != SK_OK || p->state != SK_SESSION_PENDING)
            break;
        if (!sk_longpoll_enter(srv.longpoll)) {
            nap();
            continue;
        }
        if (sk_longpoll_wait(srv.longpoll, &gen, sk_longpoll_now_ms() + SK_MAX_POLL_WAIT_MS))
            p->woken = true;
        sk_longpoll_leave(srv.longpoll);
    }
    return NULL;
}

static void test_cancel_wakes(sk_device_key *key)
{
    parked p;
    memset(&p, 0, sizeof p);
    CHECK_OK(rp_create(p.sid));
    CHECK(offered(key, p.sid, NULL));
    size_t cancelled0 = count_events(SK_EV_SESSION_CANCELLED, 1);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, park_main, &p) == 0);
    /* parked: the one slot is taken (the poll takes it only after it found
     * the session PENDING, so the cancel below cannot come before) */
    while (sk_longpoll_enter(srv.longpoll)) {
        sk_longpoll_leave(srv.longpoll);
        nap();
    }
    uint64_t gen = sk_longpoll_generation(srv.longpoll);
    sk_session_state st = 0;
    CHECK_OK(rp_ask(p.sid, 0, true, &st));
    CHECK(st == SK_SESSION_CANCELLED);
    /* the cancel's commit woke the parked polls */
    CHECK(sk_longpoll_generation(srv.longpoll) > gen);
    pthread_join(t, NULL);
    CHECK_OK(p.rc);
    CHECK(p.woken); /* by the cancel's commit, not by the end of its wait */
    CHECK(p.state == SK_SESSION_CANCELLED);
    CHECK(count_events(SK_EV_SESSION_CANCELLED, 1) == cancelled0 + 1);
    CHECK(!offered(key, p.sid, NULL));
    /* again: the same answer, no new event */
    CHECK_OK(rp_ask(p.sid, 0, true, &st));
    CHECK(st == SK_SESSION_CANCELLED);
    CHECK(count_events(SK_EV_SESSION_CANCELLED, 1) == cancelled0 + 1);
    signs_fine(key);
}

int main(void)
{
    sk_test_init();
    sk_log_init("test_svc_rp_cancel");
    char *tmp = sv_tmpdir("rpcancel");
    char *db = sv_path(tmp, "c.db");
    char uri[4200];
    snprintf(uri, sizeof uri, "sqlite:%s", db);
    sk_store *store = NULL;
    sk_master_key *mk = NULL;
    sk_server_ident *ident = NULL;
    sk_longpoll *lp = NULL;
    uint8_t mkb[SK_MASTER_KEY_LEN];
    randombytes_buf(mkb, sizeof mkb);
    CHECK_OK(sk_store_open(&store, uri));
    CHECK_OK(sk_master_key_from_bytes(&mk, mkb, sizeof mkb));
    sodium_memzero(mkb, sizeof mkb);
    CHECK_OK(sk_server_ident_generate(&ident, NULL, NULL));
    CHECK_OK(sk_server_ident_public(ident, server_pub, sizeof server_pub));
    CHECK_OK(sk_longpoll_new(&lp));
    memset(&srv, 0, sizeof srv);
    srv.store = store;
    srv.master = mk;
    srv.ident = ident;
    srv.open_enrolment = true;
    srv.clock = test_clock;
    srv.cleanup_every_s = 1000000; /* no clean-up during the test */
    srv.session_ttl_s = 3600;      /* no session expires during the test */
    srv.rp_idle_s = IDLE_S;
    atomic_init(&srv.last_cleanup, fake_now);
    if (store != NULL && mk != NULL && ident != NULL && lp != NULL) {
        sk_device_key *key = enrol_active();
        if (key != NULL && sk_device_key_id(key, key_id, sizeof key_id) == SK_OK) {
            test_idle(key); /* polls answered at once: no long polls yet */
            sk_longpoll_set_cap(lp, 1);
            srv.longpoll = lp;
            test_cancel_wakes(key);
            srv.longpoll = NULL;
        }
        sk_device_key_free(key);
    }
    sk_longpoll_free(lp);
    sk_server_ident_free(ident);
    sk_master_key_free(mk);
    sk_store_close(store);
    sv_rmtree(tmp);
    free(db);
    free(tmp);
    return sk_test_done("test_svc_rp_cancel");
}
