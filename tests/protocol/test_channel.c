/* SPDX-License-Identifier: Apache-2.0 */
/* The channel and bad input: replayed, reordered, truncated and bit-flipped
 * envelopes are rejected with no state change on either side; a reply signed
 * by the wrong server key is caught; expired and refused sessions;
 * registration tokens; malformed enrolment input. */
#include <string.h>

#include "protocol/device/device_internal.h"
#include "protocol/server/server_internal.h"
#include "splitkey.pb-c.h"
#include "world.h"

static uint8_t msg[SK_MAX_MESSAGE_LEN], msg2[SK_MAX_MESSAGE_LEN], reply[SK_MAX_MESSAGE_LEN];
static uint8_t before_rec[SK_MAX_RECORD_LEN];

/* Snapshot of the stored key record bytes. */
static size_t snapshot(world *w, const sk_device_key *key, uint8_t *out)
{
    uint8_t kid[SK_KEY_ID_LEN];
    if (sk_device_key_id(key, kid, sizeof kid) != SK_OK)
        return 0;
    w_key *k = world_key(w, kid);
    if (k == NULL)
        return 0;
    memcpy(out, k->rec, k->rec_len);
    return k->rec_len;
}

static int same_record(world *w, const sk_device_key *key, const uint8_t *snap, size_t snap_len)
{
    uint8_t kid[SK_KEY_ID_LEN];
    if (sk_device_key_id(key, kid, sizeof kid) != SK_OK)
        return 0;
    w_key *k = world_key(w, kid);
    return k != NULL && k->rec_len == snap_len && memcmp(k->rec, snap, snap_len) == 0;
}

/* Sends a request the server must refuse without storing anything. */
static void expect_rejected(world *w, const sk_device_key *key, const uint8_t *req, size_t len,
                            int expect)
{
    size_t snap_len = snapshot(w, key, before_rec), rlen = 0;
    int rc = world_device(w, req, len, reply, &rlen);
    CHECK(rc == SK_OK);
    CHECK(!w->stored_key && !w->stored_session);
    CHECK(w->effects == 0);
    if (expect != 0)
        CHECK_RC(expect, w->status);
    else
        CHECK(w->status < 0);
    CHECK(same_record(w, key, before_rec, snap_len));
}

static void test_envelopes(void)
{
    world *w = world_new();
    sk_device_key *key = NULL;
    size_t len = 0, len2 = 0, rlen = 0;
    sk_key_status st;
    CHECK_OK(world_enrol(w, &key, SK_PROFILE_4K, SK_PURPOSE_AUTH, PIN_AUTH, NULL, true));
    if (key == NULL)
        goto out;

    /* Replay: the same request twice.  The second is the newest request
     * again: it gets the stored reply (sealed to its own ephemeral key) and
     * nothing changes; the device, which already read the first, refuses
     * the second reply. */
    CHECK_OK(sk_device_key_state_request(key, msg, sizeof msg, &len, w->now));
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK(w->stored_key);
    CHECK_OK(sk_device_read_reply(key, &st, reply, rlen));
    CHECK(st.state == SK_KEY_ACTIVE);
    size_t snap_len = snapshot(w, key, before_rec);
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK(!w->stored_key && !w->stored_session && w->effects == 0 && w->status == SK_OK);
    CHECK(same_record(w, key, before_rec, snap_len));
    CHECK_RC(SK_ERR_PROTO_STATE, sk_device_read_reply(key, &st, reply, rlen));

    /* Reordering: an older request delivered after a newer one is
     * answered with a challenge (prove you are fresh) and changes nothing;
     * no clone verdict for a delayed message. */
    memcpy(msg2, msg, len);
    len2 = len;
    CHECK_OK(sk_device_key_state_request(key, msg, sizeof msg, &len, w->now));
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK_OK(sk_device_read_reply(key, &st, reply, rlen));
    expect_rejected(w, key, msg2, len2, SK_ERR_PROTO_CHALLENGE);

    /* Truncation at every length and a flip of every bit. */
    CHECK_OK(sk_device_key_state_request(key, msg, sizeof msg, &len, w->now));
    for (size_t cut = 0; cut < len; cut++)
        expect_rejected(w, key, msg, cut, 0);
    for (size_t i = 0; i < len; i++)
        for (int b = 0; b < 8; b++) {
            msg[i] ^= (uint8_t)(1u << b);
            expect_rejected(w, key, msg, len, 0);
            msg[i] ^= (uint8_t)(1u << b);
        }
    /* The untouched request still goes through afterwards. */
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK(w->stored_key && w->status == SK_OK);

    /* The device side: a tampered or replayed reply changes nothing. */
    struct sk_device_key snap;
    memcpy(&snap, key, sizeof snap);
    for (size_t i = 0; i < rlen; i += 3) {
        reply[i] ^= 0x10;
        CHECK(sk_device_read_reply(key, &st, reply, rlen) != SK_OK);
        CHECK(memcmp(&snap, key, sizeof snap) == 0);
        reply[i] ^= 0x10;
    }
    CHECK(sk_device_read_reply(key, &st, reply, rlen / 2) != SK_OK);
    CHECK(memcmp(&snap, key, sizeof snap) == 0);
    CHECK_OK(sk_device_read_reply(key, &st, reply, rlen));
    memcpy(&snap, key, sizeof snap);
    CHECK_RC(SK_ERR_PROTO_STATE, sk_device_read_reply(key, &st, reply, rlen));
    CHECK(memcmp(&snap, key, sizeof snap) == 0);

    /* A signing request with a flipped bit in y's ciphertext: rejected before
     * the PIN check (no failure counted). */
    uint8_t sid[SK_SESSION_ID_LEN], digest[32] = {9};
    CHECK_OK(world_rp_create(w, key, digest, SK_HASH_SHA256, SK_SCHEME_PKCS1, sid, NULL));
    sk_device_session *s = NULL;
    CHECK_OK(sk_device_fetch(key, msg, sizeof msg, &len, w->now));
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK_OK(sk_device_read_session(key, &s, &st, reply, rlen));
    if (s != NULL) {
        CHECK_OK(sk_device_approve(key, msg, sizeof msg, &len, w->now, s, (const uint8_t *)PIN_AUTH,
                                   strlen(PIN_AUTH)));
        unsigned long before = atomic_load(&sk_server_completions);
        msg[len - 20] ^= 0x01;
        expect_rejected(w, key, msg, len, SK_ERR_PROTO_AUTH);
        CHECK(atomic_load(&sk_server_completions) == before);
        msg[len - 20] ^= 0x01;
        CHECK_OK(world_device(w, msg, len, reply, &rlen));
        uint8_t sig[SK_MAX_SIG_LEN];
        size_t sig_len = 0;
        CHECK_OK(sk_device_read_signature(key, sig, sizeof sig, &sig_len, &st, reply, rlen));
    }
    sk_device_session_free(s);

    /* A request for an unknown key id. */
    CHECK_OK(sk_device_key_state_request(key, msg, sizeof msg, &len, w->now));
    w->keys[0].id[0] ^= 1; /* the store no longer finds it */
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK(w->status == SK_ERR_NOT_FOUND && !w->stored_key);
    w->keys[0].id[0] ^= 1;
out:
    sk_device_key_free(key);
    world_free(w);
}

/* The device pins a server Ed25519 key that did not sign the reply. */
static void test_wrong_server_signature(void)
{
    world *w = world_new();
    sk_server_ident *other = NULL;
    uint8_t other_pub[SK_SERVER_PUB_LEN], pinned[SK_SERVER_PUB_LEN];
    sk_device_enrolment *e = NULL;
    size_t len = 0, rlen = 0;
    CHECK_OK(sk_server_ident_generate(&other, NULL, NULL));
    if (other == NULL)
        goto out;
    CHECK_OK(sk_server_ident_public(other, other_pub, sizeof other_pub));
    memcpy(pinned, w->server_pub, 32);       /* the right X25519 key ... */
    memcpy(pinned + 32, other_pub + 32, 32); /* ... and someone else's Ed25519 key */
    CHECK_OK(sk_device_enrol_start(&e, msg, sizeof msg, &len, pinned, sizeof pinned,
                                   SK_PURPOSE_AUTH, SK_PROFILE_4K, (const uint8_t *)PIN_AUTH, 4,
                                   SK_KDF_MINIMUM, NULL, "C=LV,CN=TEST"));
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK(w->status == SK_OK);
    if (e != NULL)
        CHECK_RC(SK_ERR_PROTO_SERVER_SIG,
                 sk_device_enrol_continue(e, msg, sizeof msg, &len, reply, rlen));
    sk_device_enrolment_free(e);
    e = NULL;

    /* The right keys, but a signature byte changed inside the (re-sealed)
     * reply: the envelope cannot be re-sealed by an attacker, so flip it in
     * the ciphertext and see the envelope check catch it instead. */
    CHECK_OK(sk_device_enrol_start(&e, msg, sizeof msg, &len, w->server_pub, sizeof w->server_pub,
                                   SK_PURPOSE_AUTH, SK_PROFILE_4K, (const uint8_t *)PIN_AUTH, 4,
                                   SK_KDF_MINIMUM, NULL, "C=LV,CN=TEST"));
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    reply[rlen - 30] ^= 0x80;
    if (e != NULL) {
        CHECK_RC(SK_ERR_PROTO_AUTH,
                 sk_device_enrol_continue(e, msg, sizeof msg, &len, reply, rlen));
        reply[rlen - 30] ^= 0x80;
        CHECK_OK(sk_device_enrol_continue(e, msg, sizeof msg, &len, reply, rlen));
    }
out:
    sk_device_enrolment_free(e);
    sk_server_ident_free(other);
    world_free(w);
}

static void test_sessions(void)
{
    world *w = world_new();
    sk_device_key *key = NULL;
    sk_device_session *s = NULL;
    sk_key_status st;
    uint8_t sid[SK_SESSION_ID_LEN], digest[32] = {5}, sig[SK_MAX_SIG_LEN];
    size_t len = 0, rlen = 0, sig_len = 0;
    CHECK_OK(world_enrol(w, &key, SK_PROFILE_4K, SK_PURPOSE_SIGN, PIN_SIGN, NULL, true));
    if (key == NULL)
        goto out;

    /* Expiry: approved 120 s after creation is too late. */
    CHECK_OK(world_rp_create(w, key, digest, SK_HASH_SHA256, SK_SCHEME_PSS, sid, NULL));
    CHECK_OK(sk_device_fetch(key, msg, sizeof msg, &len, w->now));
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK_OK(sk_device_read_session(key, &s, &st, reply, rlen));
    CHECK(s != NULL && sk_device_session_expires_at(s) == w->now + 120);
    if (s == NULL)
        goto out;
    w->now += 120;
    unsigned long before = atomic_load(&sk_server_completions);
    CHECK_OK(sk_device_approve(key, msg, sizeof msg, &len, w->now, s, (const uint8_t *)PIN_SIGN,
                               strlen(PIN_SIGN)));
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK_RC(SK_ERR_SESSION_EXPIRED,
             sk_device_read_signature(key, sig, sizeof sig, &sig_len, &st, reply, rlen));
    CHECK(atomic_load(&sk_server_completions) == before);
    CHECK_RC(SK_ERR_SESSION_EXPIRED, world_rp_poll(w, sid, NULL, NULL));
    /* An expired session is not offered to the device. */
    CHECK_OK(sk_device_fetch(key, msg, sizeof msg, &len, w->now));
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    sk_device_session *none = NULL;
    CHECK_RC(SK_ERR_NOT_FOUND, sk_device_read_session(key, &none, &st, reply, rlen));
    CHECK(none == NULL);
    /* The relying party's poll of a session that expired unseen. */
    uint8_t sid2[SK_SESSION_ID_LEN];
    CHECK_OK(world_rp_create(w, key, digest, SK_HASH_SHA256, SK_SCHEME_PKCS1, sid2, NULL));
    CHECK_RC(SK_ERR_PENDING, world_rp_poll(w, sid2, NULL, NULL));
    w->now += 121;
    CHECK_RC(SK_ERR_SESSION_EXPIRED, world_rp_poll(w, sid2, NULL, NULL));
    sk_device_session_free(s);
    s = NULL;

    /* Refusal. */
    CHECK_OK(world_rp_create(w, key, digest, SK_HASH_SHA256, SK_SCHEME_PKCS1, sid, NULL));
    CHECK_OK(sk_device_fetch(key, msg, sizeof msg, &len, w->now));
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK_OK(sk_device_read_session(key, &s, &st, reply, rlen));
    if (s == NULL)
        goto out;
    CHECK(strcmp(sk_device_session_display_text(s), "Sign contract 42") == 0);
    CHECK(strcmp(sk_device_session_rp_name(s), "Bank") == 0);
    CHECK_OK(sk_device_refuse(key, msg, sizeof msg, &len, w->now, s));
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK_OK(sk_device_read_reply(key, &st, reply, rlen));
    CHECK_RC(SK_ERR_SESSION_REFUSED, world_rp_poll(w, sid, NULL, NULL));
    /* Approving a refused session fails. */
    CHECK_OK(sk_device_approve(key, msg, sizeof msg, &len, w->now, s, (const uint8_t *)PIN_SIGN,
                               strlen(PIN_SIGN)));
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK_RC(SK_ERR_SESSION_REFUSED,
             sk_device_read_signature(key, sig, sizeof sig, &sig_len, &st, reply, rlen));
    /* A completed session cannot be signed twice. */
    sk_device_session_free(s);
    s = NULL;
    CHECK_OK(world_rp_create(w, key, digest, SK_HASH_SHA256, SK_SCHEME_PKCS1, sid, NULL));
    CHECK_OK(sk_device_fetch(key, msg, sizeof msg, &len, w->now));
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK_OK(sk_device_read_session(key, &s, &st, reply, rlen));
    if (s == NULL)
        goto out;
    CHECK_OK(sk_device_approve(key, msg, sizeof msg, &len, w->now, s, (const uint8_t *)PIN_SIGN,
                               strlen(PIN_SIGN)));
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK_OK(sk_device_read_signature(key, sig, sizeof sig, &sig_len, &st, reply, rlen));
    CHECK_OK(sk_device_approve(key, msg, sizeof msg, &len, w->now, s, (const uint8_t *)PIN_SIGN,
                               strlen(PIN_SIGN)));
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK_RC(SK_ERR_PROTO_STATE,
             sk_device_read_signature(key, sig, sizeof sig, &sig_len, &st, reply, rlen));
out:
    sk_device_session_free(s);
    sk_device_key_free(key);
    world_free(w);
}

/* A PENDING key signs only its own proof-of-possession session. */
static void test_pending_key(void)
{
    world *w = world_new();
    sk_device_key *key = NULL;
    uint8_t sid[SK_SESSION_ID_LEN], digest[32] = {3};
    size_t len = 0, rlen = 0;
    sk_key_status st;
    CHECK_OK(world_enrol(w, &key, SK_PROFILE_4K, SK_PURPOSE_SIGN, PIN_SIGN, NULL, false));
    if (key == NULL)
        goto out;
    CHECK(sk_device_key_state(key) == SK_KEY_PENDING);
    CHECK_RC(SK_ERR_NOT_ACTIVE,
             world_rp_create(w, key, digest, SK_HASH_SHA256, SK_SCHEME_PKCS1, sid, NULL));
    CHECK_OK(sk_device_session_create(key, msg, sizeof msg, &len, w->now, digest, 32,
                                      SK_HASH_SHA256, SK_SCHEME_PSS, "CSR"));
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    sk_device_session *s = NULL;
    CHECK_OK(sk_device_read_session(key, &s, &st, reply, rlen));
    /* A second one while the first is open takes its place (a device that
     * lost the first in a crash asks again): the first is signed no more. */
    CHECK_OK(sk_device_session_create(key, msg, sizeof msg, &len, w->now, digest, 32,
                                      SK_HASH_SHA256, SK_SCHEME_PSS, "CSR"));
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    sk_device_session *s2 = NULL;
    CHECK_OK(sk_device_read_session(key, &s2, &st, reply, rlen));
    if (s != NULL) {
        CHECK_OK(sk_device_approve(key, msg, sizeof msg, &len, w->now, s, (const uint8_t *)PIN_SIGN,
                                   strlen(PIN_SIGN)));
        CHECK_OK(world_device(w, msg, len, reply, &rlen));
        CHECK(w->status != SK_OK && !(w->effects & SK_EFFECT_CERT_REQUEST));
        uint8_t sig[SK_MAX_SIG_LEN];
        size_t sig_len = 0;
        CHECK(sk_device_read_signature(key, sig, sizeof sig, &sig_len, &st, reply, rlen) != SK_OK);
        CHECK(sk_device_key_state(key) == SK_KEY_PENDING);
    }
    sk_device_session_free(s);
    s = s2;
    if (s != NULL) {
        uint8_t sig[SK_MAX_SIG_LEN];
        size_t sig_len = 0;
        CHECK_OK(sk_device_approve(key, msg, sizeof msg, &len, w->now, s, (const uint8_t *)PIN_SIGN,
                                   strlen(PIN_SIGN)));
        CHECK_OK(world_device(w, msg, len, reply, &rlen));
        CHECK(w->effects & SK_EFFECT_CERT_REQUEST);
        CHECK_OK(sk_device_read_signature(key, sig, sizeof sig, &sig_len, &st, reply, rlen));
        CHECK(mbedtls_check(key, SK_SCHEME_PSS, SK_HASH_SHA256, digest, sig, sig_len) == 0);
        CHECK(sk_device_key_state(key) == SK_KEY_ACTIVE);
    }
    sk_device_session_free(s);
    CHECK_OK(world_rp_create(w, key, digest, SK_HASH_SHA256, SK_SCHEME_PKCS1, sid, NULL));
out:
    sk_device_key_free(key);
    world_free(w);
}

/* The server computes EM from the session's digest and its own salt: a
 * device that signs anything else fails the PIN check; PSS salts are fresh
 * per session. */
static void test_em_from_session(void)
{
    world *w = world_new();
    sk_device_key *key = NULL;
    sk_device_session *a = NULL, *b = NULL;
    sk_key_status st;
    uint8_t sid[SK_SESSION_ID_LEN], digest[32] = {77}, sig[SK_MAX_SIG_LEN];
    size_t len = 0, rlen = 0, sig_len = 0;
    CHECK_OK(world_enrol(w, &key, SK_PROFILE_4K, SK_PURPOSE_SIGN, PIN_SIGN, NULL, true));
    if (key == NULL)
        goto out;
    CHECK_OK(world_rp_create(w, key, digest, SK_HASH_SHA256, SK_SCHEME_PSS, sid, NULL));
    CHECK_OK(sk_device_fetch(key, msg, sizeof msg, &len, w->now));
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK_OK(sk_device_read_session(key, &a, &st, reply, rlen));
    if (a == NULL)
        goto out;
    CHECK(a->salt_len == 32);
    /* Sign another digest (as a subverted app would): the server's EM differs. */
    struct sk_device_session forged = *a;
    forged.digest[0] ^= 1;
    CHECK_OK(sk_device_approve(key, msg, sizeof msg, &len, w->now, &forged,
                               (const uint8_t *)PIN_SIGN, strlen(PIN_SIGN)));
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK_RC(SK_ERR_WRONG_PIN,
             sk_device_read_signature(key, sig, sizeof sig, &sig_len, &st, reply, rlen));
    /* The same with another salt. */
    forged = *a;
    forged.salt[5] ^= 1;
    CHECK_OK(sk_device_approve(key, msg, sizeof msg, &len, w->now, &forged,
                               (const uint8_t *)PIN_SIGN, strlen(PIN_SIGN)));
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK_RC(SK_ERR_WRONG_PIN,
             sk_device_read_signature(key, sig, sizeof sig, &sig_len, &st, reply, rlen));
    /* The real session signs and the count resets. */
    CHECK_OK(sk_device_approve(key, msg, sizeof msg, &len, w->now, a, (const uint8_t *)PIN_SIGN,
                               strlen(PIN_SIGN)));
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK_OK(sk_device_read_signature(key, sig, sizeof sig, &sig_len, &st, reply, rlen));
    CHECK(mbedtls_check(key, SK_SCHEME_PSS, SK_HASH_SHA256, digest, sig, sig_len) == 0);
    /* A second session over the same digest gets a different salt. */
    CHECK_OK(world_rp_create(w, key, digest, SK_HASH_SHA256, SK_SCHEME_PSS, sid, NULL));
    CHECK_OK(sk_device_fetch(key, msg, sizeof msg, &len, w->now));
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK_OK(sk_device_read_session(key, &b, &st, reply, rlen));
    if (b != NULL)
        CHECK(b->salt_len == 32 && memcmp(a->salt, b->salt, 32) != 0);
out:
    sk_device_session_free(a);
    sk_device_session_free(b);
    sk_device_key_free(key);
    world_free(w);
}

/* One key cannot sign, refuse or see another key's session. */
static void test_other_keys_session(void)
{
    world *w = world_new();
    sk_device_key *a = NULL, *b = NULL;
    sk_device_session *sb = NULL;
    sk_key_status st;
    uint8_t sid[SK_SESSION_ID_LEN], digest[32] = {11}, sig[SK_MAX_SIG_LEN];
    size_t len = 0, rlen = 0, sig_len = 0;
    CHECK_OK(world_enrol(w, &a, SK_PROFILE_4K, SK_PURPOSE_SIGN, PIN_SIGN, NULL, true));
    CHECK_OK(world_enrol(w, &b, SK_PROFILE_4K, SK_PURPOSE_SIGN, PIN_SIGN, NULL, true));
    if (a == NULL || b == NULL)
        goto out;
    CHECK_OK(world_rp_create(w, b, digest, SK_HASH_SHA256, SK_SCHEME_PKCS1, sid, NULL));
    /* a sees nothing waiting */
    CHECK_OK(sk_device_fetch(a, msg, sizeof msg, &len, w->now));
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    sk_device_session *none = NULL;
    CHECK_RC(SK_ERR_NOT_FOUND, sk_device_read_session(a, &none, &st, reply, rlen));
    /* b fetches it; a tries to approve and to refuse it by its id */
    CHECK_OK(sk_device_fetch(b, msg, sizeof msg, &len, w->now));
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK_OK(sk_device_read_session(b, &sb, &st, reply, rlen));
    if (sb == NULL)
        goto out;
    unsigned long before = atomic_load(&sk_server_completions);
    CHECK_OK(sk_device_approve(a, msg, sizeof msg, &len, w->now, sb, (const uint8_t *)PIN_SIGN,
                               strlen(PIN_SIGN)));
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK_RC(SK_ERR_SESSION_UNKNOWN,
             sk_device_read_signature(a, sig, sizeof sig, &sig_len, &st, reply, rlen));
    CHECK(atomic_load(&sk_server_completions) == before);
    CHECK_OK(sk_device_refuse(a, msg, sizeof msg, &len, w->now, sb));
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK_RC(SK_ERR_SESSION_UNKNOWN, sk_device_read_reply(a, &st, reply, rlen));
    /* b's session is untouched and b signs it. */
    CHECK_RC(SK_ERR_PENDING, world_rp_poll(w, sid, NULL, NULL));
    CHECK_OK(sk_device_approve(b, msg, sizeof msg, &len, w->now, sb, (const uint8_t *)PIN_SIGN,
                               strlen(PIN_SIGN)));
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK_OK(sk_device_read_signature(b, sig, sizeof sig, &sig_len, &st, reply, rlen));
    CHECK_OK(world_rp_poll(w, sid, NULL, NULL));
    /* a's request in b's envelope slot: a's message names a's key id, which
     * the store routes to a's record; b's key id with a's envelope fails. */
    CHECK_OK(sk_device_key_state_request(a, msg, sizeof msg, &len, w->now));
    uint8_t kb[SK_KEY_ID_LEN];
    CHECK_OK(sk_device_key_id(b, kb, sizeof kb));
    Splitkey__Envelope *env = splitkey__envelope__unpack(NULL, len, msg);
    CHECK(env != NULL);
    if (env != NULL) {
        memcpy(env->key_id.data, kb, SK_KEY_ID_LEN);
        size_t l2 = protobuf_c_message_pack(&env->base, msg2);
        expect_rejected(w, b, msg2, l2, SK_ERR_PROTO_AUTH);
        splitkey__envelope__free_unpacked(env, NULL);
    }
out:
    sk_device_session_free(sb);
    sk_device_key_free(a);
    sk_device_key_free(b);
    world_free(w);
}

/* Several waiting sessions: one fetch lists them all, oldest first. */
static void test_session_list(void)
{
    world *w = world_new();
    sk_device_key *key = NULL;
    sk_device_session *list[SK_MAX_FETCH_SESSIONS] = {NULL};
    sk_key_status st;
    uint8_t sid[3][SK_SESSION_ID_LEN], digest[32], id[SK_SESSION_ID_LEN], sig[SK_MAX_SIG_LEN];
    char codes[3][5];
    size_t len = 0, rlen = 0, count = 0, sig_len = 0;
    w->fetch_as_list = true;
    CHECK_OK(world_enrol(w, &key, SK_PROFILE_4K, SK_PURPOSE_SIGN, PIN_SIGN, NULL, true));
    if (key == NULL)
        goto out;
    for (int i = 0; i < 3; i++) {
        memset(digest, 0x40 + i, sizeof digest);
        CHECK_OK(world_rp_create(w, key, digest, SK_HASH_SHA256, SK_SCHEME_PSS, sid[i], codes[i]));
        w->now += 1;
    }
    CHECK_OK(sk_device_fetch(key, msg, sizeof msg, &len, w->now));
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK_OK(sk_device_read_sessions(key, list, SK_MAX_FETCH_SESSIONS, &count, &st, reply, rlen));
    CHECK(count == 3);
    for (size_t i = 0; i < count && i < 3; i++) {
        CHECK_OK(sk_device_session_id(list[i], id, sizeof id));
        CHECK(memcmp(id, sid[i], sizeof id) == 0);
        CHECK(strcmp(sk_device_session_code(list[i]), codes[i]) == 0);
    }
    /* Refuse the first, approve the third: the second is left. */
    if (count == 3) {
        CHECK_OK(sk_device_refuse(key, msg, sizeof msg, &len, w->now, list[0]));
        CHECK_OK(world_device(w, msg, len, reply, &rlen));
        CHECK_OK(sk_device_read_reply(key, &st, reply, rlen));
        CHECK_OK(sk_device_approve(key, msg, sizeof msg, &len, w->now, list[2],
                                   (const uint8_t *)PIN_SIGN, strlen(PIN_SIGN)));
        CHECK_OK(world_device(w, msg, len, reply, &rlen));
        CHECK_OK(sk_device_read_signature(key, sig, sizeof sig, &sig_len, &st, reply, rlen));
    }
    for (size_t i = 0; i < count; i++)
        sk_device_session_free(list[i]);
    CHECK_OK(sk_device_fetch(key, msg, sizeof msg, &len, w->now));
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK_OK(sk_device_read_sessions(key, list, SK_MAX_FETCH_SESSIONS, &count, &st, reply, rlen));
    CHECK(count == 1);
    if (count == 1) {
        CHECK_OK(sk_device_session_id(list[0], id, sizeof id));
        CHECK(memcmp(id, sid[1], sizeof id) == 0);
        sk_device_session_free(list[0]);
    }
    /* After the expiry nothing is listed. */
    w->now += 200;
    CHECK_OK(sk_device_fetch(key, msg, sizeof msg, &len, w->now));
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK_RC(SK_ERR_NOT_FOUND,
             sk_device_read_sessions(key, list, SK_MAX_FETCH_SESSIONS, &count, &st, reply, rlen));
    CHECK(count == 0 && list[0] == NULL);
out:
    sk_device_key_free(key);
    world_free(w);
}

static void test_tokens(void)
{
    world *w = world_new();
    sk_device_key *key = NULL;
    char token[SK_MAX_TOKEN_LEN + 1];
    size_t tlen = 0;
    const char *subject = "C=LV,GN=JANIS,SN=OZOLS,serialNumber=PNOLV-020202-22222";
    w->policy.open_enrolment = 0;

    /* Without a token a closed server refuses. */
    CHECK_RC(SK_ERR_TOKEN,
             world_enrol(w, &key, SK_PROFILE_4K, SK_PURPOSE_SIGN, PIN_SIGN, NULL, true));
    CHECK(w->nkeys == 0);
    /* A token for the other purpose, an expired one, one from another server. */
    CHECK_OK(sk_server_token_mint(w->id, token, sizeof token, &tlen, subject, SK_PURPOSE_AUTH,
                                  w->now + 3600, NULL, NULL));
    CHECK_RC(SK_ERR_TOKEN,
             world_enrol(w, &key, SK_PROFILE_4K, SK_PURPOSE_SIGN, PIN_SIGN, token, true));
    CHECK_OK(sk_server_token_mint(w->id, token, sizeof token, &tlen, subject, SK_PURPOSE_SIGN,
                                  w->now, NULL, NULL));
    CHECK_RC(SK_ERR_TOKEN,
             world_enrol(w, &key, SK_PROFILE_4K, SK_PURPOSE_SIGN, PIN_SIGN, token, true));
    sk_server_ident *other = NULL;
    CHECK_OK(sk_server_ident_generate(&other, NULL, NULL));
    if (other != NULL) {
        CHECK_OK(sk_server_token_mint(other, token, sizeof token, &tlen, subject, SK_PURPOSE_SIGN,
                                      w->now + 3600, NULL, NULL));
        CHECK_RC(SK_ERR_TOKEN,
                 world_enrol(w, &key, SK_PROFILE_4K, SK_PURPOSE_SIGN, PIN_SIGN, token, true));
    }
    sk_server_ident_free(other);
    CHECK(w->nkeys == 0);
    /* A good token: the subject comes from it, and it works once. */
    CHECK_OK(sk_server_token_mint(w->id, token, sizeof token, &tlen, subject, SK_PURPOSE_SIGN,
                                  w->now + 3600, NULL, NULL));
    CHECK(tlen == strlen(token));
    CHECK_OK(world_enrol(w, &key, SK_PROFILE_4K, SK_PURPOSE_SIGN, PIN_SIGN, token, true));
    if (key != NULL)
        CHECK(strcmp(sk_device_key_subject(key), subject) == 0);
    sk_device_key_free(key);
    key = NULL;
    CHECK_RC(SK_ERR_TOKEN,
             world_enrol(w, &key, SK_PROFILE_4K, SK_PURPOSE_SIGN, PIN_SIGN, token, true));
    CHECK(w->nkeys == 1);
    /* A tampered token. */
    CHECK_OK(sk_server_token_mint(w->id, token, sizeof token, &tlen, subject, SK_PURPOSE_SIGN,
                                  w->now + 3600, NULL, NULL));
    token[10] = token[10] == 'A' ? 'B' : 'A';
    CHECK_RC(SK_ERR_TOKEN,
             world_enrol(w, &key, SK_PROFILE_4K, SK_PURPOSE_SIGN, PIN_SIGN, token, true));
    /* The relying party finds the key by person id (the subject here). */
    CHECK(w->nkeys == 1);
    world_free(w);
}

/* An EnrolInit body sealed to the server as a device would send it. */
static size_t seal_enrol_init(world *w, const uint8_t *body, size_t blen)
{
    skp_eph eph;
    uint8_t rid[SK_REQUEST_ID_LEN] = {7};
    size_t len = 0;
    CHECK_OK(skd_seal_request(&eph, msg, sizeof msg, &len, NULL, SPLITKEY__MSG_TYPE__MSG_ENROL_INIT,
                              NULL, w->server_pub, rid, NULL, NULL, 0, body, blen));
    return len;
}

/* Malformed enrolment input changes nothing. */
static void test_bad_enrolment(void)
{
    world *w = world_new();
    size_t len = 0, rlen = 0;
    uint8_t body[1024];
    Splitkey__EnrolInit e = SPLITKEY__ENROL_INIT__INIT;
    Splitkey__Envelope env = SPLITKEY__ENVELOPE__INIT;
    uint8_t kx[32] = {9}, n1[256];
    memset(n1, 0xff, sizeof n1); /* odd, full size, but 2^2048-1 has small factors */
    e.device_kx_pub.data = kx;
    e.device_kx_pub.len = sizeof kx;
    e.n1.data = n1;
    e.n1.len = sizeof n1;
    e.purpose = SPLITKEY__PURPOSE__PURPOSE_AUTH;
    e.profile = 2048;
    e.subject = (char *)"C=LV,CN=X";
    size_t blen = protobuf_c_message_pack(&e.base, body);
    len = seal_enrol_init(w, body, blen);
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK(w->status == SK_ERR_KEY_WEAK && !w->stored_key && w->nkeys == 0);
    /* Wrong n1 size for the profile. */
    e.n1.len = 200;
    blen = protobuf_c_message_pack(&e.base, body);
    len = seal_enrol_init(w, body, blen);
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK(w->status == SK_ERR_LIMIT && w->nkeys == 0);
    /* An unknown profile and a garbage body. */
    e.n1.len = sizeof n1;
    e.profile = 1024;
    blen = protobuf_c_message_pack(&e.base, body);
    len = seal_enrol_init(w, body, blen);
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK(w->status == SK_ERR_PROTO_DECODE && w->nkeys == 0);
    /* A version-1 EnrolInit (in clear, with a counter): a clear refusal
     * naming the version, nothing stored. */
    e.profile = 2048;
    blen = protobuf_c_message_pack(&e.base, body);
    env.type = SPLITKEY__MSG_TYPE__MSG_ENROL_INIT;
    env.counter = 1;
    env.payload.data = body;
    env.payload.len = blen;
    len = protobuf_c_message_pack(&env.base, msg);
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK(w->status == SK_ERR_PROTO_VERSION && w->nkeys == 0);
    memset(msg, 0xa5, 64);
    CHECK_OK(world_device(w, msg, 64, reply, &rlen));
    CHECK(w->status < 0 && w->nkeys == 0);
    /* An oversized message. */
    CHECK_OK(world_device(w, msg, SK_MAX_MESSAGE_LEN + 1, reply, &rlen));
    CHECK(w->status == SK_ERR_LIMIT);
    world_free(w);
}

static void test_verification_code(void)
{
    /* SHA-256("abc") ends in ... f2 00 15 ad: 0x15ad = 5549. */
    uint8_t abc[3] = {'a', 'b', 'c'};
    char code[5];
    CHECK_OK(sk_verification_code(code, sizeof code, abc, 3));
    CHECK(strcmp(code, "5549") == 0);
    /* SHA-256("") ends in ... 78 52 b8 55: 0xb855 = 47189 -> 7189. */
    uint8_t z = 0;
    CHECK_RC(SK_ERR_ARG, sk_verification_code(code, sizeof code, &z, 0));
    CHECK_RC(SK_ERR_ARG, sk_verification_code(code, 4, abc, 3));
}

int main(void)
{
    sk_test_init();
    test_verification_code();
    test_envelopes();
    test_wrong_server_signature();
    test_sessions();
    test_pending_key();
    test_em_from_session();
    test_other_keys_session();
    test_session_list();
    test_tokens();
    test_bad_enrolment();
    return sk_test_done("protocol_channel");
}
