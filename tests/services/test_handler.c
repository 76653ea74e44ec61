/* SPDX-License-Identifier: Apache-2.0 */
/* test_handler.c - the share server's handler in one process, over a real
 * SQLite store: injected store failures (BUSY, FULL, IOERR) at commit make
 * a request fail cleanly with no stored change and the next request is
 * served; an enrolment whose commit fails gives its pool key back; the
 * clean-up removes abandoned enrolments and old sessions; a destroyed key's
 * stored record holds no secret; an approval whose key record changes
 * between its snapshot and its write is done again on fresh reads, and two
 * copies of one approval served at once sign once; a relying party's
 * request above the key's level makes no session and one event, and a
 * wrong verification-code pick one event and no PIN attempt (relying-party
 * requests go in through sk_share_handle_rp, as from the HTTPS API); every
 * old relying-party frame ("SKP1") on the device socket is refused with
 * nothing stored. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "error_reply.h"
#include "handler.h"
#include "seal.h"
#include "log.h"
#include "splitkey/device.h"
#include "splitkey/rp.h"
#include "splitkey/splitkey.h"
#include "store.h"
#include "svc_error.h"
#include "svctest.h"
#include "testutil.h"

#define PIN "48213"

static sk_share_server srv;
static uint64_t fake_now = 1790000000;
static uint64_t test_clock(void) { return fake_now; }

static uint8_t server_pub[SK_SERVER_PUB_LEN];
static uint8_t msg[SK_MAX_MESSAGE_LEN];
static size_t msg_len;

/* Sends msg through the handler; returns its code and the reply. */
static int handle(uint8_t **reply, size_t *reply_len)
{
    uint8_t framed[SK_MAX_MESSAGE_LEN + 4];
    memcpy(framed, SK_FRAME_DEVICE, 4);
    memcpy(framed + 4, msg, msg_len);
    sk_reqlog_begin();
    int rc = sk_share_handle(&srv, framed, msg_len + 4, reply, reply_len);
    sk_reqlog_end(rc);
    return rc;
}

static void free_reply(uint8_t *r, size_t n)
{
    if (r != NULL) {
        sodium_memzero(r, n);
        free(r);
    }
}

/* What the database holds, to compare before and after a failed request. */
typedef struct snapshot {
    int64_t key_version;
    uint8_t *blob;
    size_t blob_len;
    size_t events;
    size_t sessions;
    size_t pool;
} snapshot;

static void snap(snapshot *s, const uint8_t *key_id)
{
    memset(s, 0, sizeof *s);
    if (key_id != NULL) {
        sk_key_record rec;
        CHECK_OK(sk_store_key_get(srv.store, NULL, &rec, key_id));
        s->key_version = rec.version;
        s->blob = rec.blob;
        s->blob_len = rec.blob_len;
        rec.blob = NULL;
        sk_key_record_clear(&rec);
        sk_session_record *recs = NULL;
        CHECK_OK(sk_store_sessions_for_key(srv.store, NULL, &recs, &s->sessions, key_id, 0, 0));
        sk_session_records_free(recs, s->sessions);
    }
    sk_event *evs = NULL;
    CHECK_OK(sk_store_events(srv.store, NULL, &evs, &s->events, NULL, 0, 0));
    free(evs);
    CHECK_OK(sk_store_pool_count(srv.store, NULL, &s->pool, SK_PROFILE_4K));
}

static int same(const snapshot *a, const snapshot *b)
{
    return a->key_version == b->key_version && a->blob_len == b->blob_len &&
           (a->blob_len == 0 || memcmp(a->blob, b->blob, a->blob_len) == 0) &&
           a->events == b->events && a->sessions == b->sessions && a->pool == b->pool;
}

static void snap_free(snapshot *s)
{
    free(s->blob);
    s->blob = NULL;
}

static sk_device_key *enrol(void)
{
    sk_device_enrolment *e = NULL;
    sk_device_key *key = NULL;
    uint8_t *rep = NULL;
    size_t rl = 0;
    CHECK_OK(sk_device_enrol_start(&e, msg, sizeof msg, &msg_len, server_pub, sizeof server_pub,
                                   SK_PURPOSE_SIGN, SK_PROFILE_4K, (const uint8_t *)PIN,
                                   strlen(PIN), SK_KDF_MINIMUM, NULL,
                                   "C=LV,GN=ANNA,SN=BERZINA,serialNumber=PNOLV-010101-12345"));
    CHECK_OK(handle(&rep, &rl));
    CHECK_OK(sk_device_enrol_continue(e, msg, sizeof msg, &msg_len, rep, rl));
    free_reply(rep, rl);
    CHECK_OK(handle(&rep, &rl));
    CHECK_OK(sk_device_enrol_finish(e, &key, rep, rl));
    free_reply(rep, rl);
    sk_device_enrolment_free(e);
    return key;
}

/* A device-initiated session; returns it (or NULL). */
static sk_device_session *create(sk_device_key *key, const char *text)
{
    uint8_t digest[32], *rep = NULL;
    size_t rl = 0;
    sk_device_session *s = NULL;
    CHECK_OK(sk_digest(digest, sizeof digest, SK_HASH_SHA256, (const uint8_t *)text,
                       strlen(text)));
    CHECK_OK(sk_device_session_create(key, msg, sizeof msg, &msg_len, fake_now, digest,
                                      sizeof digest, SK_HASH_SHA256, SK_SCHEME_PKCS1, text));
    CHECK_OK(handle(&rep, &rl));
    CHECK_OK(sk_device_read_session(key, &s, NULL, rep, rl));
    free_reply(rep, rl);
    return s;
}

static int approve_reply(sk_device_key *key)
{
    uint8_t *rep = NULL, sig[SK_MAX_SIG_LEN];
    size_t rl = 0, sl = 0;
    int rc = handle(&rep, &rl);
    if (rc == SK_OK)
        rc = sk_device_read_signature(key, sig, sizeof sig, &sl, NULL, rep, rl);
    free_reply(rep, rl);
    return rc;
}

static void test_faults(void)
{
    sk_device_key *key = enrol();
    CHECK(key != NULL);
    if (key == NULL)
        return;
    uint8_t key_id[SK_KEY_ID_LEN];
    CHECK_OK(sk_device_key_id(key, key_id, sizeof key_id));

    /* proof of possession */
    sk_device_session *s = create(key, "pop");
    CHECK(s != NULL);
    if (s == NULL)
        return;
    CHECK_OK(sk_device_approve(key, msg, sizeof msg, &msg_len, fake_now, s, (const uint8_t *)PIN,
                               strlen(PIN)));
    sk_device_session_free(s);
    CHECK_OK(approve_reply(key));

    const sk_store_fault faults[] = {SK_STORE_FAULT_FULL, SK_STORE_FAULT_IOERR};
    for (size_t i = 0; i < 2; i++) {
        /* a session create whose commit fails: no session, no event */
        snapshot before, after;
        uint8_t digest[32], *rep = NULL;
        size_t rl = 0;
        CHECK_OK(sk_digest(digest, 32, SK_HASH_SHA256, (const uint8_t *)"x", 1));
        fake_now++;
        CHECK_OK(sk_device_session_create(key, msg, sizeof msg, &msg_len, fake_now, digest, 32,
                                          SK_HASH_SHA256, SK_SCHEME_PKCS1, "fault"));
        snap(&before, key_id);
        sk_store_inject_fault(srv.store, faults[i]);
        CHECK_RC(SK_ERR_STORE, handle(&rep, &rl));
        CHECK(rep == NULL); /* the loop answers with the SKE1 frame */
        snap(&after, key_id);
        CHECK(same(&before, &after));
        snap_free(&before);
        snap_free(&after);
        free_reply(rep, rl);

        /* the device sends the same request again (it stays in flight
         * until answered); this time it is served */
        CHECK_OK(sk_device_retry(key, msg, sizeof msg, &msg_len, fake_now, NULL, 0));
        CHECK_OK(handle(&rep, &rl));
        s = NULL;
        CHECK_OK(sk_device_read_session(key, &s, NULL, rep, rl));
        free_reply(rep, rl);
        CHECK(s != NULL);
        if (s == NULL)
            break;

        /* an approval whose commit fails: no counter, OTP or session change */
        CHECK_OK(sk_device_approve(key, msg, sizeof msg, &msg_len, fake_now, s,
                                   (const uint8_t *)PIN, strlen(PIN)));
        snap(&before, key_id);
        sk_store_inject_fault(srv.store, faults[i]);
        rep = NULL;
        CHECK_RC(SK_ERR_STORE, handle(&rep, &rl));
        CHECK(rep == NULL);
        snap(&after, key_id);
        CHECK(same(&before, &after));
        snap_free(&before);
        snap_free(&after);
        /* the device retries its approval (same request id): it signs, and
         * it is not taken for a clone */
        CHECK_OK(sk_device_retry(key, msg, sizeof msg, &msg_len, fake_now, (const uint8_t *)PIN,
                                 strlen(PIN)));
        CHECK_OK(approve_reply(key));
        sk_device_session_free(s);
    }

    /* a database that stays locked: every attempt fails, nothing changes,
     * and the request is answered with SK_ERR_STORE_BUSY */
    {
        snapshot before, after;
        uint8_t *rep = NULL;
        size_t rl = 0;
        s = create(key, "locked database");
        CHECK(s != NULL);
        if (s != NULL) {
            CHECK_OK(sk_device_approve(key, msg, sizeof msg, &msg_len, fake_now, s,
                                       (const uint8_t *)PIN, strlen(PIN)));
            snap(&before, key_id);
            sk_store_inject_faults(srv.store, SK_STORE_FAULT_BUSY, 1000);
            CHECK_RC(SK_ERR_STORE_BUSY, handle(&rep, &rl));
            CHECK(rep == NULL);
            sk_store_inject_faults(srv.store, SK_STORE_FAULT_NONE, 0);
            snap(&after, key_id);
            CHECK(same(&before, &after));
            snap_free(&before);
            snap_free(&after);
            CHECK_OK(sk_device_retry(key, msg, sizeof msg, &msg_len, fake_now,
                                     (const uint8_t *)PIN, strlen(PIN)));
            CHECK_OK(approve_reply(key));
            sk_device_session_free(s);
        }
    }

    /* BUSY once: the transaction is run again and commits exactly once */
    {
        snapshot before, after;
        s = create(key, "busy");
        CHECK(s != NULL);
        if (s != NULL) {
            CHECK_OK(sk_device_approve(key, msg, sizeof msg, &msg_len, fake_now, s,
                                       (const uint8_t *)PIN, strlen(PIN)));
            snap(&before, key_id);
            sk_store_inject_fault(srv.store, SK_STORE_FAULT_BUSY);
            CHECK_OK(approve_reply(key));
            snap(&after, key_id);
            /* the charge, then the outcome: two versions */
            CHECK(after.key_version == before.key_version + 2);
            snap_free(&before);
            snap_free(&after);
            sk_device_session_free(s);
        }
    }

    /* signatures counted: proof of possession + 2 retried + 2 after BUSY */
    sk_event *evs = NULL;
    size_t n = 0, signed_events = 0, clone_events = 0;
    CHECK_OK(sk_store_events(srv.store, NULL, &evs, &n, key_id, 0, 0));
    for (size_t i = 0; i < n; i++) {
        signed_events += evs[i].kind == SK_EV_SIGNED;
        clone_events += evs[i].kind == SK_EV_CLONE_DETECTED;
    }
    free(evs);
    CHECK(signed_events == 5);
    CHECK(clone_events == 0);
    sk_device_key_free(key);
}

/* An enrolment whose commit fails keeps its pool key in the pool. */
static void test_enrol_fault(void)
{
    sk_device_enrolment *e = NULL;
    uint8_t *rep = NULL;
    size_t rl = 0;
    CHECK_OK(sk_pool_fill_one(srv.store, srv.master, SK_PROFILE_4K));
    snapshot before, after;
    snap(&before, NULL);
    CHECK(before.pool >= 1);
    CHECK_OK(sk_device_enrol_start(&e, msg, sizeof msg, &msg_len, server_pub, sizeof server_pub,
                                   SK_PURPOSE_AUTH, SK_PROFILE_4K, (const uint8_t *)"4821", 4,
                                   SK_KDF_MINIMUM, NULL, "C=LV,CN=TEST"));
    sk_store_inject_fault(srv.store, SK_STORE_FAULT_IOERR);
    CHECK_RC(SK_ERR_STORE, handle(&rep, &rl));
    snap(&after, NULL);
    CHECK(same(&before, &after));
    snap_free(&before);
    snap_free(&after);
    /* served the second time, and the key waits in ENROLLING */
    CHECK_OK(handle(&rep, &rl));
    CHECK(rep != NULL && sk_error_reply_decode(&(int){0}, rep, rl) != SK_OK);
    free_reply(rep, rl);
    sk_device_enrolment_free(e); /* abandoned */
}

static void test_cleanup(void)
{
    size_t keys = 0, sessions = 0;
    /* nothing is old enough yet */
    CHECK_OK(sk_share_cleanup(&srv, fake_now, &keys, &sessions));
    CHECK(keys == 0);
    /* later, the abandoned enrolment goes, and the sessions expired long ago */
    CHECK_OK(sk_share_cleanup(&srv, fake_now + 600 + 3600 + 200, &keys, &sessions));
    CHECK(keys == 1);
    CHECK(sessions >= 5);
    sk_key_record rec;
    CHECK_RC(SK_ERR_NOT_FOUND,
             sk_store_key_get_by_person(srv.store, NULL, &rec, "C=LV,CN=TEST", SK_PURPOSE_AUTH));
    /* the enrolled key itself stays */
    CHECK_OK(sk_store_key_get_by_person(srv.store, NULL, &rec, "PNOLV-010101-12345",
                                        SK_PURPOSE_SIGN));
    CHECK(rec.state == SK_KEY_ACTIVE);
    sk_key_record_clear(&rec);
}

/* Bytes of secrets in a stored key blob (plain = "SKK1" | len | record |
 * secrets), or -1 if it does not open. */
static long stored_secret_len(const uint8_t *key_id)
{
    sk_key_record rec;
    long out = -1;
    if (sk_store_key_get(srv.store, NULL, &rec, key_id) != SK_OK)
        return -1;
    uint8_t *plain = malloc(rec.blob_len);
    size_t pl = 0;
    uint8_t ad[SK_KEY_ID_LEN + 8];
    memcpy(ad, key_id, SK_KEY_ID_LEN);
    for (int i = 0; i < 8; i++)
        ad[SK_KEY_ID_LEN + i] = (uint8_t)((uint64_t)rec.version >> (56 - 8 * i));
    if (plain != NULL && sk_unseal(srv.master, plain, rec.blob_len, &pl, rec.blob, rec.blob_len,
                                   ad, sizeof ad) == SK_OK &&
        pl >= 8 && memcmp(plain, "SKK1", 4) == 0) {
        size_t rl = (size_t)plain[4] << 24 | (size_t)plain[5] << 16 | (size_t)plain[6] << 8 |
                    plain[7];
        if (rl <= pl - 8)
            out = (long)(pl - 8 - rl);
    }
    if (plain != NULL) {
        sodium_memzero(plain, rec.blob_len);
        free(plain);
    }
    /* the blob opens only under its own key id and version */
    uint8_t *p2 = malloc(rec.blob_len);
    for (int which = 0; which < 2; which++) {
        uint8_t other[SK_KEY_ID_LEN + 8];
        memcpy(other, ad, sizeof other);
        other[which ? SK_KEY_ID_LEN + 7 : 0] ^= 1;
        CHECK(p2 != NULL && sk_unseal(srv.master, p2, rec.blob_len, &pl, rec.blob, rec.blob_len,
                                      other, sizeof other) == SK_ERR_PROTO_AUTH);
    }
    free(p2);
    sk_key_record_clear(&rec);
    return out;
}

/* A clone destroys the key: its stored record then holds no secret. */
static void test_destroyed_secrets(void)
{
    uint8_t key_id[SK_KEY_ID_LEN], storage[SK_STORAGE_KEY_LEN], sealed[SK_MAX_MESSAGE_LEN];
    size_t sealed_len = 0;
    sk_device_key *key = enrol(), *copy = NULL;
    CHECK(key != NULL);
    if (key == NULL)
        return;
    CHECK_OK(sk_device_key_id(key, key_id, sizeof key_id));
    sk_device_session *s = create(key, "pop 2");
    if (s != NULL) {
        CHECK_OK(sk_device_approve(key, msg, sizeof msg, &msg_len, fake_now, s,
                                   (const uint8_t *)PIN, strlen(PIN)));
        CHECK_OK(approve_reply(key));
    }
    sk_device_session_free(s);
    CHECK(stored_secret_len(key_id) > 256); /* ds and the server key */
    randombytes_buf(storage, sizeof storage);
    CHECK_OK(sk_device_key_seal(key, sealed, sizeof sealed, &sealed_len, storage, sizeof storage));
    CHECK_OK(sk_device_key_open(&copy, sealed, sealed_len, storage, sizeof storage));
    fake_now++;
    s = copy ? create(copy, "copy") : NULL;
    if (s != NULL) {
        CHECK_OK(sk_device_approve(copy, msg, sizeof msg, &msg_len, fake_now, s,
                                   (const uint8_t *)PIN, strlen(PIN)));
        CHECK_OK(approve_reply(copy));
    }
    sk_device_session_free(s);
    fake_now += 2;
    /* the original's next request (any kind) is the verdict */
    CHECK_OK(sk_device_fetch(key, msg, sizeof msg, &msg_len, fake_now));
    {
        uint8_t *rep = NULL;
        size_t rl = 0;
        CHECK_RC(SK_ERR_CLONE_DETECTED, handle(&rep, &rl));
        s = NULL;
        CHECK_RC(SK_ERR_CLONE_DETECTED, sk_device_read_session(key, &s, NULL, rep, rl));
        free_reply(rep, rl);
    }
    sk_key_record rec;
    CHECK_OK(sk_store_key_get(srv.store, NULL, &rec, key_id));
    CHECK(rec.state == SK_KEY_DESTROYED);
    sk_key_record_clear(&rec);
    CHECK(stored_secret_len(key_id) == 0);
    sodium_memzero(storage, sizeof storage);
    sk_device_key_free(copy);
    sk_device_key_free(key);
}

static void test_person_id(void)
{
    char out[SK_STORE_PERSON_MAX + 1];
    uint8_t id[SK_KEY_ID_LEN] = {0xab, 0xcd};
    sk_share_person_id(out, "C=LV,GN=A,SN=B,serialNumber=PNOLV-1-2", id);
    CHECK(strcmp(out, "PNOLV-1-2") == 0);
    sk_share_person_id(out, "serialNumber=X, C=EE", id);
    CHECK(strcmp(out, "X") == 0);
    sk_share_person_id(out, "C=LV,CN=SHORT", id);
    CHECK(strcmp(out, "C=LV,CN=SHORT") == 0);
    sk_share_person_id(out, "", id);
    CHECK(strcmp(out, "key:abcd0000000000000000000000000000") == 0);
}

/* ------------------------------------------------- optimistic requests */

static uint8_t opt_key_id[SK_KEY_ID_LEN];
static int bumps_left;

/* The hook: another writer changes the key record (same contents, new
 * version) between the snapshot and the write transaction. */
static void bump_key(void *ctx)
{
    (void)ctx;
    if (bumps_left <= 0)
        return;
    bumps_left--;
    /* another writer's change: the record written again, version + 1 */
    CHECK_OK(sk_share_key_rewrite(&srv, opt_key_id));
}

static size_t count_events(const uint8_t *key_id, uint32_t kind)
{
    sk_event *evs = NULL;
    size_t n = 0, hits = 0;
    CHECK_OK(sk_store_events(srv.store, NULL, &evs, &n, key_id, 0, 0));
    for (size_t i = 0; i < n; i++)
        hits += evs[i].kind == kind;
    free(evs);
    return hits;
}

/* ------------------------------------------- levels and verification codes */

/* A relying-party request (an RpRequest) as the HTTPS API hands it to the
 * session logic: sk_share_handle_rp, no frame tag. */
static int rp_handle(const uint8_t *req, size_t req_len, uint8_t **reply, size_t *reply_len)
{
    sk_reqlog_begin();
    int rc = sk_share_handle_rp(&srv, req, req_len, reply, reply_len);
    sk_reqlog_end(rc);
    return rc;
}

/* The same request as an old relying-party frame ("SKP1" + RpRequest) on
 * the device socket: sk_share_handle. */
static int rp_frame(const uint8_t *req, size_t req_len, uint8_t **reply, size_t *reply_len)
{
    uint8_t framed[SK_MAX_MESSAGE_LEN + 4];
    memcpy(framed, SK_FRAME_RP, 4);
    memcpy(framed + 4, req, req_len);
    sk_reqlog_begin();
    int rc = sk_share_handle(&srv, framed, req_len + 4, reply, reply_len);
    sk_reqlog_end(rc);
    return rc;
}

static int rp_create_ext(const uint8_t *kid, sk_cert_level lvl, sk_interaction in,
                         sk_rp_created *cr)
{
    uint8_t req[1024], digest[32] = {0x5a}, *rep = NULL;
    size_t req_len = 0, rl = 0;
    sk_rp_create c = {.key_id = kid,
                      .purpose = SK_PURPOSE_SIGN,
                      .digest = digest,
                      .hash = SK_HASH_SHA256,
                      .scheme = SK_SCHEME_PKCS1,
                      .display_text = "Sign"};
    sk_rp_create_ext ext = {.certificate_level = lvl, .interaction = in};
    CHECK_OK(sk_rp_create_request_ext(req, sizeof req, &req_len, &c, &ext));
    (void)rp_handle(req, req_len, &rep, &rl); /* the status; the reply says it too */
    int rc = sk_rp_read_created(cr, NULL, rep, rl);
    free_reply(rep, rl);
    return rc;
}

/* A QUALIFIED request on an openly enrolled (ADVANCED) key: no session,
 * nothing of the key changes, one SK_EV_LEVEL_REFUSED.  A wrong pick in a
 * VC-choice session: SK_EV_WRONG_VC, no SK_EV_WRONG_PIN, attempts kept,
 * and the relying party reads WRONG_VC. */
static void test_levels(void)
{
    sk_device_key *key = enrol();
    uint8_t kid[SK_KEY_ID_LEN], *rep = NULL, req[128];
    size_t rl = 0, req_len = 0;
    sk_rp_created cr;
    snapshot a, b;
    if (key == NULL)
        return;
    CHECK_OK(sk_device_key_id(key, kid, sizeof kid));
    sk_device_session *s = create(key, "proof of possession");
    CHECK(s != NULL);
    if (s == NULL)
        goto out;
    CHECK_OK(sk_device_approve(key, msg, sizeof msg, &msg_len, fake_now, s, (const uint8_t *)PIN,
                               strlen(PIN)));
    sk_device_session_free(s);
    CHECK_OK(approve_reply(key));

    size_t refused0 = count_events(kid, SK_EV_LEVEL_REFUSED);
    snap(&a, kid);
    CHECK_RC(SK_ERR_LEVEL, rp_create_ext(kid, SK_CERT_LEVEL_QUALIFIED,
                                         SK_INTERACTION_DISPLAY_TEXT_AND_PIN, &cr));
    snap(&b, kid);
    CHECK(a.key_version == b.key_version && a.sessions == b.sessions && a.events + 1 == b.events);
    CHECK(count_events(kid, SK_EV_LEVEL_REFUSED) == refused0 + 1);
    snap_free(&a);
    snap_free(&b);

    size_t wrong_pin0 = count_events(kid, SK_EV_WRONG_PIN), wrong_vc0 = count_events(kid, 40);
    CHECK_OK(rp_create_ext(kid, SK_CERT_LEVEL_ADVANCED, SK_INTERACTION_VC_CHOICE, &cr));
    CHECK_OK(sk_device_fetch(key, msg, sizeof msg, &msg_len, fake_now));
    CHECK_OK(handle(&rep, &rl));
    CHECK_OK(sk_device_read_session(key, &s, NULL, rep, rl));
    free_reply(rep, rl);
    if (s == NULL)
        goto out;
    const char *bad = NULL;
    for (size_t i = 0; i < SK_VC_CHOICES; i++)
        if (strcmp(sk_device_session_vc_choice(s, i), cr.code) != 0)
            bad = sk_device_session_vc_choice(s, i);
    CHECK_OK(sk_device_approve_choice(key, msg, sizeof msg, &msg_len, fake_now, s,
                                      (const uint8_t *)PIN, strlen(PIN), bad, 0));
    sk_device_session_free(s);
    uint8_t sig[SK_MAX_SIG_LEN];
    size_t sl = 0;
    CHECK_RC(SK_ERR_WRONG_VC, handle(&rep, &rl));
    CHECK_RC(SK_ERR_WRONG_VC, sk_device_read_signature(key, sig, sizeof sig, &sl, NULL, rep, rl));
    free_reply(rep, rl);
    CHECK(count_events(kid, SK_EV_WRONG_VC) == wrong_vc0 + 1);
    CHECK(count_events(kid, SK_EV_WRONG_PIN) == wrong_pin0);
    CHECK_OK(sk_rp_poll_request(req, sizeof req, &req_len, cr.session_id, SK_SESSION_ID_LEN));
    (void)rp_handle(req, req_len, &rep, &rl);
    sk_rp_result res;
    CHECK_OK(sk_rp_read_result(&res, NULL, rep, rl));
    CHECK(res.state == SK_SESSION_WRONG_VC);
    free_reply(rep, rl);
    CHECK_OK(sk_device_key_state_request(key, msg, sizeof msg, &msg_len, fake_now));
    CHECK_OK(handle(&rep, &rl));
    sk_key_status st;
    CHECK_OK(sk_device_read_reply(key, &st, rep, rl));
    CHECK(st.attempts_left == 3);
    free_reply(rep, rl);
out:
    sk_device_key_free(key);
}

/* Every kind of old relying-party frame on the device socket is refused
 * with SK_SVC_ERR_RP_REFUSED: no reply of the handler's own (the loop sends
 * the error frame) and nothing stored, also for the poll and the cancel of
 * a real PENDING session, which stays PENDING and offered; the same
 * requests through sk_share_handle_rp (the HTTPS API) are served. */
static void test_frames_refused(void)
{
    sk_device_key *key = enrol();
    uint8_t kid[SK_KEY_ID_LEN], sid[SK_SESSION_ID_LEN] = {7}, digest[32] = {0x5a};
    uint8_t req[1024], *rep = NULL;
    size_t req_len = 0, rl = 0;
    snapshot a, b;
    if (key == NULL)
        return;
    CHECK_OK(sk_device_key_id(key, kid, sizeof kid));
    sk_rp_create c = {.key_id = kid, .purpose = SK_PURPOSE_SIGN, .digest = digest,
                      .hash = SK_HASH_SHA256, .scheme = SK_SCHEME_PKCS1,
                      .display_text = "Sign", .rp_name = "Anyone"};
    sk_rp_create p = c;
    p.key_id = NULL;
    p.person_id = "PNOLV-010101-12345";
    /* the proof of possession: the key is ACTIVE */
    sk_device_session *s = create(key, "proof of possession");
    CHECK(s != NULL);
    if (s == NULL)
        goto out;
    CHECK_OK(sk_device_approve(key, msg, sizeof msg, &msg_len, fake_now, s, (const uint8_t *)PIN,
                               strlen(PIN)));
    sk_device_session_free(s);
    CHECK_OK(approve_reply(key));
    /* a real session, created through the API, for the poll and cancel below */
    sk_rp_created cr;
    CHECK_OK(sk_rp_create_request(req, sizeof req, &req_len, &c));
    (void)rp_handle(req, req_len, &rep, &rl); /* the status; the reply says it too */
    CHECK_OK(sk_rp_read_created(&cr, NULL, rep, rl));
    free_reply(rep, rl);
    rep = NULL;
    rl = 0;
    snap(&a, kid);
    for (int pass = 0; pass < 2; pass++) {
        const uint8_t *id = pass == 0 ? sid : cr.session_id;
        for (int kind = 0; kind < 5; kind++) {
            switch (kind) {
            case 0: CHECK_OK(sk_rp_create_request(req, sizeof req, &req_len, &c)); break;
            case 1: CHECK_OK(sk_rp_create_request(req, sizeof req, &req_len, &p)); break;
            case 2:
                CHECK_OK(sk_rp_poll_request(req, sizeof req, &req_len, id, SK_SESSION_ID_LEN));
                break;
            case 3:
                CHECK_OK(sk_rp_cancel_request(req, sizeof req, &req_len, id, SK_SESSION_ID_LEN));
                break;
            default:
                CHECK_OK(sk_rp_key_state_request(req, sizeof req, &req_len, kid, sizeof kid));
            }
            CHECK_RC(SK_SVC_ERR_RP_REFUSED, rp_frame(req, req_len, &rep, &rl));
            CHECK(rep == NULL && rl == 0);
            free_reply(rep, rl);
            rep = NULL;
            rl = 0;
        }
    }
    snap(&b, kid);
    CHECK(same(&a, &b));
    snap_free(&a);
    snap_free(&b);
    /* the real session is untouched: PENDING, offered to the device */
    sk_session_record row;
    memset(&row, 0, sizeof row);
    CHECK_OK(sk_store_session_get(srv.store, NULL, &row, cr.session_id));
    CHECK(row.state == SK_SESSION_PENDING);
    sk_session_record_clear(&row);
    /* the same requests through the API are served */
    CHECK_OK(sk_rp_key_state_request(req, sizeof req, &req_len, kid, sizeof kid));
    CHECK_OK(rp_handle(req, req_len, &rep, &rl));
    sk_key_status st;
    CHECK_OK(sk_rp_read_key_state(&st, rep, rl));
    CHECK(st.state == SK_KEY_ACTIVE);
    free_reply(rep, rl);
    CHECK_OK(sk_rp_cancel_request(req, sizeof req, &req_len, cr.session_id, SK_SESSION_ID_LEN));
    (void)rp_handle(req, req_len, &rep, &rl);
    sk_rp_result res;
    CHECK_OK(sk_rp_read_result(&res, NULL, rep, rl));
    CHECK(res.state == SK_SESSION_CANCELLED);
    free_reply(rep, rl);
out:
    sk_device_key_free(key);
}

static pthread_barrier_t both_decided;
static atomic_int meetings;

/* The hook for two copies of one request: neither writes before both have
 * run the role on the same snapshot. */
static void meet(void *ctx)
{
    (void)ctx;
    if (atomic_fetch_add(&meetings, 1) < 2)
        pthread_barrier_wait(&both_decided);
}

typedef struct copy {
    pthread_t thread;
    uint8_t framed[SK_MAX_MESSAGE_LEN + 4];
    size_t len;
    uint8_t *reply;
    size_t reply_len;
    int rc;
} copy;

static void *serve_copy(void *arg)
{
    copy *c = arg;
    sk_reqlog_begin();
    c->rc = sk_share_handle(&srv, c->framed, c->len, &c->reply, &c->reply_len);
    sk_reqlog_end(c->rc);
    return NULL;
}

static void test_optimistic(void)
{
    sk_device_key *key = enrol();
    CHECK(key != NULL);
    if (key == NULL)
        return;
    CHECK_OK(sk_device_key_id(key, opt_key_id, sizeof opt_key_id));
    sk_device_session *s = create(key, "pop");
    CHECK_OK(sk_device_approve(key, msg, sizeof msg, &msg_len, fake_now, s, (const uint8_t *)PIN,
                               strlen(PIN)));
    sk_device_session_free(s);
    CHECK_OK(approve_reply(key));

    /* One conflict: the approval is done again and signs once. */
    srv.decided_hook = bump_key;
    s = create(key, "conflict once");
    CHECK(s != NULL);
    snapshot before, after;
    CHECK_OK(sk_device_approve(key, msg, sizeof msg, &msg_len, fake_now, s, (const uint8_t *)PIN,
                               strlen(PIN)));
    sk_device_session_free(s);
    snap(&before, opt_key_id);
    size_t signed0 = count_events(opt_key_id, SK_EV_SIGNED);
    uint64_t redone0 = atomic_load(&srv.redone);
    bumps_left = 1;
    CHECK_OK(approve_reply(key));
    snap(&after, opt_key_id);
    CHECK(atomic_load(&srv.redone) == redone0 + 1);
    /* the bump, then the charge and the outcome of the PIN check */
    CHECK(after.key_version == before.key_version + 3);
    CHECK(count_events(opt_key_id, SK_EV_SIGNED) == signed0 + 1);
    snap_free(&before);
    snap_free(&after);

    /* A row that never holds still: every attempt conflicts, the request is
     * refused with nothing of it stored, and the device's retry signs. */
    s = create(key, "conflict always");
    CHECK(s != NULL);
    CHECK_OK(sk_device_approve(key, msg, sizeof msg, &msg_len, fake_now, s, (const uint8_t *)PIN,
                               strlen(PIN)));
    sk_device_session_free(s);
    signed0 = count_events(opt_key_id, SK_EV_SIGNED);
    bumps_left = 1000;
    uint8_t *rep = NULL;
    size_t rl = 0;
    CHECK_RC(SK_ERR_STORE_CONFLICT, handle(&rep, &rl));
    CHECK(rep == NULL);
    CHECK(count_events(opt_key_id, SK_EV_SIGNED) == signed0);
    bumps_left = 0;
    CHECK_OK(sk_device_retry(key, msg, sizeof msg, &msg_len, fake_now, (const uint8_t *)PIN,
                             strlen(PIN)));
    CHECK_OK(approve_reply(key));
    CHECK(count_events(opt_key_id, SK_EV_SIGNED) == signed0 + 1);

    /* Two copies of one approval at once, both past the role before either
     * writes: one commits, the other is redone on fresh reads; one
     * signature, no clone. */
    s = create(key, "two copies");
    srv.decided_hook = meet;
    atomic_store(&meetings, 0);
    CHECK(pthread_barrier_init(&both_decided, NULL, 2) == 0);
    CHECK(s != NULL);
    CHECK_OK(sk_device_approve(key, msg, sizeof msg, &msg_len, fake_now, s, (const uint8_t *)PIN,
                               strlen(PIN)));
    sk_device_session_free(s);
    snap(&before, opt_key_id);
    signed0 = count_events(opt_key_id, SK_EV_SIGNED);
    redone0 = atomic_load(&srv.redone);
    static copy copies[2];
    for (int i = 0; i < 2; i++) {
        memset(&copies[i], 0, sizeof copies[i]);
        memcpy(copies[i].framed, SK_FRAME_DEVICE, 4);
        memcpy(copies[i].framed + 4, msg, msg_len);
        copies[i].len = msg_len + 4;
        CHECK(pthread_create(&copies[i].thread, NULL, serve_copy, &copies[i]) == 0);
    }
    for (int i = 0; i < 2; i++)
        pthread_join(copies[i].thread, NULL);
    srv.decided_hook = NULL;
    snap(&after, opt_key_id);
    CHECK(atomic_load(&srv.redone) >= redone0 + 1);
    CHECK(after.key_version == before.key_version + 2); /* one charge, one outcome */
    CHECK(count_events(opt_key_id, SK_EV_SIGNED) == signed0 + 1);
    CHECK(count_events(opt_key_id, SK_EV_CLONE_DETECTED) == 0);
    int read_ok = 0;
    for (int i = 0; i < 2; i++) {
        uint8_t sig[SK_MAX_SIG_LEN];
        size_t sl = 0;
        if (copies[i].rc == SK_OK && !read_ok)
            read_ok = sk_device_read_signature(key, sig, sizeof sig, &sl, NULL,
                                               copies[i].reply, copies[i].reply_len) == SK_OK;
        free_reply(copies[i].reply, copies[i].reply_len);
    }
    CHECK(read_ok);
    snap_free(&before);
    snap_free(&after);
    pthread_barrier_destroy(&both_decided);
    sk_device_key_free(key);
}

int main(void)
{
    sk_test_init();
    sk_log_init("test_svc_handler");
    char *tmp = sv_tmpdir("handler");
    char *db = sv_path(tmp, "h.db");
    char uri[4200];
    snprintf(uri, sizeof uri, "sqlite:%s", db);
    sk_store *store = NULL;
    sk_master_key *mk = NULL;
    sk_server_ident *ident = NULL;
    uint8_t mkb[SK_MASTER_KEY_LEN];
    randombytes_buf(mkb, sizeof mkb);
    CHECK_OK(sk_store_open(&store, uri));
    CHECK_OK(sk_master_key_from_bytes(&mk, mkb, sizeof mkb));
    sodium_memzero(mkb, sizeof mkb);
    CHECK_OK(sk_server_ident_generate(&ident, NULL, NULL));
    CHECK_OK(sk_server_ident_public(ident, server_pub, sizeof server_pub));
    memset(&srv, 0, sizeof srv);
    srv.store = store;
    srv.master = mk;
    srv.ident = ident;
    srv.open_enrolment = true;
    srv.clock = test_clock;
    srv.cleanup_every_s = 1000000; /* only when the test asks */
    atomic_init(&srv.last_cleanup, fake_now);
    if (store != NULL && mk != NULL && ident != NULL) {
        test_person_id();
        test_faults();
        test_enrol_fault();
        test_cleanup();
        test_destroyed_secrets();
        test_optimistic();
        test_levels();
        test_frames_refused();
    }
    sk_server_ident_free(ident);
    sk_master_key_free(mk);
    sk_store_close(store);
    sv_rmtree(tmp);
    free(db);
    free(tmp);
    return sk_test_done("test_svc_handler");
}
