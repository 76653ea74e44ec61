/* SPDX-License-Identifier: Apache-2.0 */
/* Clone detection (a copy of the device state used after, or before, the
 * original: its first request of any kind is the verdict, whatever the
 * clocks), and idempotent retries: a lost reply retried with the same
 * request id gets the stored reply again and raises no alarm. */
#include <sodium.h>
#include <string.h>

#include "protocol/device/device_internal.h"
#include "protocol/server/server_internal.h"
#include "world.h"

static uint8_t msg[SK_MAX_MESSAGE_LEN], reply[SK_MAX_MESSAGE_LEN], reply2[SK_MAX_MESSAGE_LEN];

static sk_device_key *copy_of(const sk_device_key *key)
{
    uint8_t skey[SK_STORAGE_KEY_LEN] = {1, 2, 3}, sealed[SK_MAX_MESSAGE_LEN];
    size_t len = 0;
    sk_device_key *c = NULL;
    CHECK_OK(sk_device_key_seal(key, sealed, sizeof sealed, &len, skey, sizeof skey));
    CHECK_OK(sk_device_key_open(&c, sealed, len, skey, sizeof skey));
    return c;
}

static void rp_session(world *w, sk_device_key *key, const char *text, uint8_t *sid)
{
    uint8_t digest[32];
    CHECK_OK(sk_digest(digest, sizeof digest, SK_HASH_SHA256, (const uint8_t *)text, strlen(text)));
    CHECK_OK(world_rp_create(w, key, digest, SK_HASH_SHA256, SK_SCHEME_PKCS1, sid, NULL));
}

static int sign(world *w, sk_device_key *key, sk_key_status *st)
{
    uint8_t sig[SK_MAX_SIG_LEN];
    size_t sig_len = 0;
    memset(st, 0, sizeof *st);
    return world_approve(w, key, PIN_SIGN, sig, &sig_len, st);
}

static void check_destroyed_by_clone(world *w, sk_device_key *key)
{
    uint8_t key_id[SK_KEY_ID_LEN];
    sk_key_status st;
    CHECK(w->effects & SK_EFFECT_REVOKE_CERT);
    CHECK(w->effects & SK_EFFECT_DELETE_SECRETS);
    CHECK(w->revoke_reason == SK_CRL_REASON_KEY_COMPROMISE);
    CHECK_OK(sk_device_key_id(key, key_id, sizeof key_id));
    sk_key_rec *rec = world_key_record(w, key_id);
    CHECK(rec != NULL);
    if (rec != NULL) {
        sk_key_rec_status(rec, &st, &w->policy, w->now);
        CHECK(st.state == SK_KEY_DESTROYED && st.destroy_reason == SK_DESTROY_CLONE);
    }
    sk_key_rec_free(rec);
}

/* The copy is used after the original moved on. */
static void test_clone_after(void)
{
    world *w = world_new();
    sk_device_key *key = NULL, *copy = NULL;
    sk_key_status st;
    uint8_t sid[SK_SESSION_ID_LEN];
    CHECK_OK(world_enrol(w, &key, SK_PROFILE_4K, SK_PURPOSE_SIGN, PIN_SIGN, NULL, true));
    if (key == NULL)
        goto out;
    copy = copy_of(key);
    rp_session(w, key, "first", sid);
    CHECK_OK(sign(w, key, &st));
    /* In the same second, the copy's first request (a fetch, before any
     * PIN) carries an OTP the original already used up: a clone. */
    rp_session(w, key, "second", sid);
    unsigned long before = atomic_load(&sk_server_completions);
    CHECK_RC(SK_ERR_CLONE_DETECTED, sign(w, copy, &st));
    CHECK(atomic_load(&sk_server_completions) == before);
    CHECK(st.state == SK_KEY_DESTROYED && st.destroy_reason == SK_DESTROY_CLONE);
    CHECK(sk_device_key_state(copy) == SK_KEY_DESTROYED);
    check_destroyed_by_clone(w, key);
    /* The original cannot sign any more either. */
    w->now += 5;
    CHECK_RC(SK_ERR_DESTROYED,
             world_rp_create(w, key, (const uint8_t *)"0123456789abcdef0123456789abcdef",
                             SK_HASH_SHA256, SK_SCHEME_PKCS1, sid, NULL));
    uint8_t kid[SK_KEY_ID_LEN];
    CHECK_OK(sk_device_key_id(key, kid, sizeof kid));
    size_t len = 0, rlen = 0;
    CHECK_OK(sk_device_key_state_request(key, msg, sizeof msg, &len, w->now));
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK_OK(sk_device_read_reply(key, &st, reply, rlen));
    CHECK(st.state == SK_KEY_DESTROYED && st.destroy_reason == SK_DESTROY_CLONE);
    CHECK(sk_device_key_state(key) == SK_KEY_DESTROYED);
out:
    sk_device_key_free(copy);
    sk_device_key_free(key);
    world_free(w);
}

/* The copy is used first; the original is the one that finds out. */
static void test_clone_before(void)
{
    world *w = world_new();
    sk_device_key *key = NULL, *copy = NULL;
    sk_key_status st;
    uint8_t sid[SK_SESSION_ID_LEN];
    CHECK_OK(world_enrol(w, &key, SK_PROFILE_4K, SK_PURPOSE_SIGN, PIN_SIGN, NULL, true));
    if (key == NULL)
        goto out;
    copy = copy_of(key);
    w->now += 10;
    rp_session(w, key, "by the thief", sid);
    CHECK_OK(sign(w, copy, &st));
    w->now += 10;
    rp_session(w, key, "by the owner", sid);
    unsigned long before = atomic_load(&sk_server_completions);
    CHECK_RC(SK_ERR_CLONE_DETECTED, sign(w, key, &st));
    CHECK(atomic_load(&sk_server_completions) == before); /* at its fetch, before a PIN */
    CHECK(st.destroy_reason == SK_DESTROY_CLONE);
    check_destroyed_by_clone(w, key);
    /* The RP sees no signature for this session. */
    CHECK_RC(SK_ERR_PENDING, world_rp_poll(w, sid, NULL, NULL));
out:
    sk_device_key_free(copy);
    sk_device_key_free(key);
    world_free(w);
}

/* A clone found by an OTP refresh, between signatures. */
static void test_clone_refresh(void)
{
    world *w = world_new();
    sk_device_key *key = NULL, *copy = NULL;
    sk_key_status st;
    size_t len = 0, rlen = 0;
    CHECK_OK(world_enrol(w, &key, SK_PROFILE_4K, SK_PURPOSE_AUTH, PIN_AUTH, NULL, true));
    if (key == NULL)
        goto out;
    copy = copy_of(key);
    w->now += 1;
    CHECK_OK(sk_device_otp_refresh(key, msg, sizeof msg, &len, w->now));
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK_OK(sk_device_read_reply(key, &st, reply, rlen));
    w->now += 1;
    CHECK_OK(sk_device_otp_refresh(copy, msg, sizeof msg, &len, w->now));
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK_RC(SK_ERR_CLONE_DETECTED, sk_device_read_reply(copy, &st, reply, rlen));
    check_destroyed_by_clone(w, key);
out:
    sk_device_key_free(copy);
    sk_device_key_free(key);
    world_free(w);
}

/* Opens the sealed state with its storage key and looks for y (computed
 * here the way the device computes it) in the plaintext. */
static void check_no_y(const sk_device_key *key, const sk_device_session *s)
{
    uint8_t skey[SK_STORAGE_KEY_LEN] = {9}, sealed[SK_MAX_MESSAGE_LEN], plain[SK_MAX_MESSAGE_LEN];
    uint8_t y[512];
    size_t len = 0, y_len = key->bits / 8;
    unsigned long long plen = 0;
    CHECK_OK(sk_device_key_seal(key, sealed, sizeof sealed, &len, skey, sizeof skey));
    CHECK(crypto_aead_xchacha20poly1305_ietf_decrypt(plain, &plen, NULL, sealed + 28, len - 28,
                                                     sealed, 4, sealed + 4, skey) == 0);
    CHECK_OK(skd_partial(key, y, y_len, (const uint8_t *)PIN_SIGN, strlen(PIN_SIGN), s->scheme,
                         s->hash, s->digest, s->digest_len, s->salt_len ? s->salt : NULL,
                         s->salt_len));
    bool found = false;
    for (size_t i = 0; i + 16 <= (size_t)plen && !found; i++)
        found = memcmp(plain + i, y, 16) == 0;
    CHECK(!found);
    CHECK((size_t)plen > y_len); /* the search had something to look at */
}

/* The reply to a signing request is lost; the device retries. */
static void test_lost_reply(void)
{
    world *w = world_new();
    sk_device_key *key = NULL;
    sk_device_session *s = NULL;
    sk_key_status st;
    uint8_t sid[SK_SESSION_ID_LEN], sig[SK_MAX_SIG_LEN], kid[SK_KEY_ID_LEN];
    size_t len = 0, rlen = 0, rlen2 = 0, sig_len = 0;
    CHECK_OK(world_enrol(w, &key, SK_PROFILE_4K, SK_PURPOSE_SIGN, PIN_SIGN, NULL, true));
    if (key == NULL)
        goto out;
    CHECK_OK(sk_device_key_id(key, kid, sizeof kid));
    rp_session(w, key, "lost", sid);
    CHECK_OK(sk_device_fetch(key, msg, sizeof msg, &len, w->now));
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK_OK(sk_device_read_session(key, &s, &st, reply, rlen));
    if (s == NULL)
        goto out;
    CHECK_OK(sk_device_approve(key, msg, sizeof msg, &len, w->now, s, (const uint8_t *)PIN_SIGN,
                               strlen(PIN_SIGN)));
    CHECK(sk_device_key_has_pending(key));
    /* Another request cannot start while one is in flight. */
    size_t other = 0;
    CHECK_RC(SK_ERR_PROTO_STATE, sk_device_fetch(key, reply2, sizeof reply2, &other, w->now));
    CHECK_OK(world_device(w, msg, len, reply, &rlen)); /* ... and this reply is lost */
    CHECK(w->status == SK_OK);

    /* The state kept for the retry holds nothing that tests a PIN: not y. */
    check_no_y(key, s);
    /* The device retries: same request id, same OTP, a new envelope; y is
     * computed again, so the PIN is needed again. */
    unsigned long before = atomic_load(&sk_server_completions);
    w->now += 3;
    CHECK_RC(SK_ERR_ARG, sk_device_retry(key, msg, sizeof msg, &len, w->now, NULL, 0));
    CHECK_OK(sk_device_retry(key, msg, sizeof msg, &len, w->now, (const uint8_t *)PIN_SIGN,
                             strlen(PIN_SIGN)));
    CHECK_OK(world_device(w, msg, len, reply2, &rlen2));
    CHECK(w->status == SK_OK);
    /* the stored reply, sealed to the retry's own ephemeral key */
    CHECK(rlen2 > 0 && !(rlen2 == rlen && memcmp(reply, reply2, rlen) == 0));
    CHECK(atomic_load(&sk_server_completions) == before); /* no new signature */
    /* The first reply was for the first send's ephemeral: it no longer
     * opens. */
    CHECK(sk_device_read_signature(key, sig, sizeof sig, &sig_len, &st, reply, rlen) != SK_OK);
    CHECK(sk_device_key_has_pending(key));
    CHECK_OK(sk_device_read_signature(key, sig, sizeof sig, &sig_len, &st, reply2, rlen2));
    CHECK(!sk_device_key_has_pending(key));
    /* A stored reply read twice is a replay. */
    CHECK_RC(SK_ERR_PROTO_STATE,
             sk_device_read_signature(key, sig, sizeof sig, &sig_len, &st, reply2, rlen2));
    /* The key is fine and the OTPs are in step: the next signature works. */
    sk_key_rec *rec = world_key_record(w, kid);
    CHECK(rec != NULL);
    if (rec != NULL) {
        sk_key_rec_status(rec, &st, &w->policy, w->now);
        CHECK(st.state == SK_KEY_ACTIVE);
    }
    sk_key_rec_free(rec);
    rp_session(w, key, "next", sid);
    CHECK_OK(sign(w, key, &st));

    /* A lost WRONG_PIN reply: the retry gets the same answer and the failure
     * is counted once. */
    sk_device_session_free(s);
    s = NULL;
    rp_session(w, key, "wrong", sid);
    CHECK_OK(sk_device_fetch(key, msg, sizeof msg, &len, w->now));
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK_OK(sk_device_read_session(key, &s, &st, reply, rlen));
    if (s == NULL)
        goto out;
    CHECK_OK(sk_device_approve(key, msg, sizeof msg, &len, w->now, s, (const uint8_t *)"99999", 5));
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK(w->status == SK_ERR_WRONG_PIN);
    CHECK_OK(sk_device_retry(key, msg, sizeof msg, &len, w->now, (const uint8_t *)"99999", 5));
    CHECK_OK(world_device(w, msg, len, reply2, &rlen2));
    CHECK(w->status == SK_ERR_WRONG_PIN); /* the stored reply's status */
    CHECK_RC(SK_ERR_WRONG_PIN,
             sk_device_read_signature(key, sig, sizeof sig, &sig_len, &st, reply2, rlen2));
    CHECK(st.attempts_left == 2);
    rec = world_key_record(w, kid);
    if (rec != NULL) {
        sk_key_rec_status(rec, &st, &w->policy, w->now);
        CHECK(st.attempts_left == 2);
    }
    sk_key_rec_free(rec);
    /* The same session can still be approved with the right PIN. */
    CHECK_OK(sk_device_approve(key, msg, sizeof msg, &len, w->now, s, (const uint8_t *)PIN_SIGN,
                               strlen(PIN_SIGN)));
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK_OK(sk_device_read_signature(key, sig, sizeof sig, &sig_len, &st, reply, rlen));
    CHECK_OK(world_rp_poll(w, sid, NULL, NULL));
out:
    sk_device_session_free(s);
    sk_device_key_free(key);
    world_free(w);
}

/* A lost OTP-refresh reply, retried. */
static void test_lost_refresh(void)
{
    world *w = world_new();
    sk_device_key *key = NULL;
    sk_key_status st;
    size_t len = 0, rlen = 0;
    CHECK_OK(world_enrol(w, &key, SK_PROFILE_4K, SK_PURPOSE_AUTH, PIN_AUTH, NULL, true));
    if (key == NULL)
        goto out;
    CHECK_OK(sk_device_otp_refresh(key, msg, sizeof msg, &len, w->now));
    CHECK_OK(world_device(w, msg, len, reply, &rlen)); /* lost */
    CHECK_OK(sk_device_retry(key, msg, sizeof msg, &len, w->now, NULL, 0));
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK_OK(sk_device_read_reply(key, &st, reply, rlen));
    uint8_t sid[SK_SESSION_ID_LEN];
    rp_session(w, key, "after refresh", sid);
    uint8_t sig[SK_MAX_SIG_LEN];
    size_t sig_len = 0;
    CHECK_OK(world_approve(w, key, PIN_AUTH, sig, &sig_len, &st));
out:
    sk_device_key_free(key);
    world_free(w);
}

/* The reply to EnrolSubmit is lost; the device sends the same submit again. */
static void test_lost_enrol_reply(void)
{
    world *w = world_new();
    sk_device_enrolment *e = NULL;
    sk_device_key *key = NULL;
    size_t len = 0, rlen = 0, rlen2 = 0;
    CHECK_OK(sk_device_enrol_start(&e, msg, sizeof msg, &len, w->server_pub, sizeof w->server_pub,
                                   SK_PURPOSE_AUTH, SK_PROFILE_4K, (const uint8_t *)PIN_AUTH, 4,
                                   SK_KDF_MINIMUM, NULL, "C=LV,CN=RETRY"));
    if (e == NULL)
        goto out;
    size_t unused = 0;
    /* EnrolInit can be sent again too (a new envelope of the same request):
     * its reply opens only with the newest envelope's ephemeral */
    CHECK_OK(world_device(w, msg, len, reply, &rlen)); /* this reply is lost */
    CHECK_OK(sk_device_enrol_retry(e, msg, sizeof msg, &len));
    CHECK(sk_device_enrol_continue(e, reply2, sizeof reply2, &unused, reply, rlen) != SK_OK);
    CHECK(w->nkeys == 1);
    CHECK_OK(world_device(w, msg, len, reply, &rlen)); /* open enrolment: a second key */
    CHECK(w->nkeys == 2);
    CHECK_OK(sk_device_enrol_continue(e, msg, sizeof msg, &len, reply, rlen));
    CHECK_OK(world_device(w, msg, len, reply, &rlen)); /* lost */
    CHECK(w->status == SK_OK);
    CHECK_OK(sk_device_enrol_retry(e, msg, sizeof msg, &len));
    CHECK_OK(world_device(w, msg, len, reply2, &rlen2));
    CHECK(w->status == SK_OK);
    CHECK(rlen2 > 0);
    CHECK(sk_device_enrol_finish(e, &key, reply, rlen) != SK_OK); /* the lost one's ephemeral */
    CHECK(key == NULL);
    CHECK_OK(sk_device_enrol_finish(e, &key, reply2, rlen2));
    CHECK_RC(SK_ERR_PROTO_STATE, sk_device_enrol_retry(e, reply2, sizeof reply2, &unused));
    if (key == NULL)
        goto out;
    /* The enrolled key works: proof of possession, then a signature. */
    sk_device_session *s = NULL;
    sk_key_status st;
    uint8_t digest[32] = {8}, sig[SK_MAX_SIG_LEN], sid[SK_SESSION_ID_LEN];
    size_t sig_len = 0;
    CHECK_OK(sk_device_session_create(key, msg, sizeof msg, &len, w->now, digest, 32,
                                      SK_HASH_SHA256, SK_SCHEME_PKCS1, NULL));
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK_OK(sk_device_read_session(key, &s, &st, reply, rlen));
    if (s != NULL) {
        CHECK_OK(
            sk_device_approve(key, msg, sizeof msg, &len, w->now, s, (const uint8_t *)PIN_AUTH, 4));
        CHECK_OK(world_device(w, msg, len, reply, &rlen));
        CHECK_OK(sk_device_read_signature(key, sig, sizeof sig, &sig_len, &st, reply, rlen));
    }
    sk_device_session_free(s);
    rp_session(w, key, "after a lost enrolment reply", sid);
    CHECK_OK(world_approve(w, key, PIN_AUTH, sig, &sig_len, &st));
out:
    sk_device_key_free(key);
    sk_device_enrolment_free(e);
    world_free(w);
}

int main(void)
{
    sk_test_init();
    test_clone_after();
    test_clone_before();
    test_clone_refresh();
    test_lost_reply();
    test_lost_refresh();
    test_lost_enrol_reply();
    return sk_test_done("protocol_clone");
}
