/* SPDX-License-Identifier: Apache-2.0 */
/* Attacks on the protocol, run against the server role as the share server
 * runs it (world.c: routing, loading, handling, storing with version
 * checks; a PIN check's charge stored before the check).  Each test plays
 * the attacker and asserts that the attack fails. */
#include <sodium.h>
#include <string.h>

#include "protocol/common/protocol.h"
#include "protocol/device/device_internal.h"
#include "internal.h"
#include "protocol/server/server_internal.h"
#include "world.h"

static uint8_t msg[SK_MAX_MESSAGE_LEN], msg2[SK_MAX_MESSAGE_LEN], reply[SK_MAX_MESSAGE_LEN],
    reply2[SK_MAX_MESSAGE_LEN];

static sk_device_key *copy_of(const sk_device_key *key)
{
    uint8_t skey[SK_STORAGE_KEY_LEN] = {5}, sealed[SK_MAX_MESSAGE_LEN];
    size_t len = 0;
    sk_device_key *c = NULL;
    CHECK_OK(sk_device_key_seal(key, sealed, sizeof sealed, &len, skey, sizeof skey));
    CHECK_OK(sk_device_key_open(&c, sealed, len, skey, sizeof skey));
    return c;
}

static sk_key_rec *record_of(world *w, const sk_device_key *key)
{
    uint8_t id[SK_KEY_ID_LEN];
    if (sk_device_key_id(key, id, sizeof id) != SK_OK)
        return NULL;
    return world_key_record(w, id);
}

static void server_status(world *w, const sk_device_key *key, sk_key_status *st)
{
    memset(st, 0, sizeof *st);
    sk_key_rec *r = record_of(w, key);
    CHECK(r != NULL);
    if (r != NULL)
        sk_key_rec_status(r, st, &w->policy, w->now);
    sk_key_rec_free(r);
}

static void rp_session(world *w, const sk_device_key *key, uint8_t tag)
{
    uint8_t digest[32], sid[SK_SESSION_ID_LEN];
    memset(digest, tag, sizeof digest);
    CHECK_OK(world_rp_create(w, key, digest, SK_HASH_SHA256, SK_SCHEME_PKCS1, sid, NULL));
}

/* A phone thief with the device state (not the PIN) guesses PINs: every
 * guess is counted; the key locks at 3 and 6 and is destroyed at 9; no
 * tenth check ever runs, and a locked key is answered without one. */
static void attack_pin_guessing(void)
{
    world *w = world_new();
    sk_device_key *key = NULL;
    sk_key_status st;
    uint8_t sig[SK_MAX_SIG_LEN];
    size_t sig_len = 0;
    CHECK_OK(world_enrol(w, &key, SK_PROFILE_4K, SK_PURPOSE_SIGN, PIN_SIGN, NULL, true));
    if (key == NULL)
        goto out;
    unsigned long start = atomic_load(&sk_server_completions);
    int wrong = 0, locked = 0, destroyed = 0;
    char pin[8];
    uint8_t digest[32], sid[SK_SESSION_ID_LEN];
    memset(digest, 0x42, sizeof digest);
    /* one relying-party session stays open across wrong PINs */
    CHECK_OK(world_rp_create(w, key, digest, SK_HASH_SHA256, SK_SCHEME_PKCS1, sid, NULL));
    for (int i = 0; i < 40 && !destroyed; i++) {
        snprintf(pin, sizeof pin, "%05d", 10000 + i);
        unsigned long before = atomic_load(&sk_server_completions);
        int rc = world_approve(w, key, pin, sig, &sig_len, &st);
        if (rc == SK_ERR_WRONG_PIN) {
            wrong++;
        } else if (rc == SK_ERR_LOCKED) {
            locked++;
            CHECK(atomic_load(&sk_server_completions) == before); /* no check */
            w->now += 25 * 3600; /* wait the lock out; the session expired */
            digest[0]++;
            CHECK_OK(world_rp_create(w, key, digest, SK_HASH_SHA256, SK_SCHEME_PKCS1, sid, NULL));
        } else if (rc == SK_ERR_DESTROYED) {
            destroyed = 1;
        } else {
            CHECK_RC(SK_ERR_WRONG_PIN, rc);
            break;
        }
    }
    CHECK(wrong == 8 && destroyed == 1 && locked == 2);
    CHECK(atomic_load(&sk_server_completions) - start == 9); /* exactly nine checks */
    server_status(w, key, &st);
    CHECK(st.state == SK_KEY_DESTROYED && st.destroy_reason == SK_DESTROY_LOCKOUT);
    CHECK_RC(SK_ERR_DESTROYED,
             world_rp_create(w, key, digest, SK_HASH_SHA256, SK_SCHEME_PKCS1, sid, NULL));
out:
    sk_device_key_free(key);
    world_free(w);
}

/* The server stores the charge and dies before the check: the attempt is
 * counted; the device's retry of the same request is the check itself and
 * is not charged again; a second request from a copy meanwhile is a clone
 * verdict, never a second check. */
static void attack_charge_then_crash(void)
{
    world *w = world_new();
    sk_device_key *key = NULL, *copy = NULL;
    sk_device_session *s = NULL;
    sk_key_status st;
    size_t len = 0, rlen = 0, sig_len = 0;
    uint8_t sig[SK_MAX_SIG_LEN];
    CHECK_OK(world_enrol(w, &key, SK_PROFILE_4K, SK_PURPOSE_SIGN, PIN_SIGN, NULL, true));
    if (key == NULL)
        goto out;
    rp_session(w, key, 1);
    CHECK_OK(sk_device_fetch(key, msg, sizeof msg, &len, w->now));
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK_OK(sk_device_read_session(key, &s, &st, reply, rlen));
    if (s == NULL)
        goto out;
    copy = copy_of(key);
    CHECK_OK(sk_device_approve(key, msg, sizeof msg, &len, w->now, s, (const uint8_t *)"99999", 5));
    unsigned long before = atomic_load(&sk_server_completions);
    w->stop_after_charge = true;
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    w->stop_after_charge = false;
    CHECK(w->charges == 1 && rlen == 0 && atomic_load(&sk_server_completions) == before);
    server_status(w, key, &st);
    CHECK(st.attempts_left == 2); /* counted before any check ran */
    /* The same request again (the device's retry, or a replay): the check
     * under that one charge. */
    CHECK_OK(sk_device_retry(key, msg, sizeof msg, &len, w->now, (const uint8_t *)"99999", 5));
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK(w->charges == 0 && w->status == SK_ERR_WRONG_PIN);
    CHECK(atomic_load(&sk_server_completions) == before + 1);
    CHECK_RC(SK_ERR_WRONG_PIN,
             sk_device_read_signature(key, sig, sizeof sig, &sig_len, &st, reply, rlen));
    server_status(w, key, &st);
    CHECK(st.attempts_left == 2);
    /* A copy's approval with the OTP the charged request used up. */
    if (copy != NULL) {
        CHECK_OK(sk_device_approve(copy, msg2, sizeof msg2, &len, w->now, s,
                                   (const uint8_t *)PIN_SIGN, strlen(PIN_SIGN)));
        before = atomic_load(&sk_server_completions);
        CHECK_OK(world_device(w, msg2, len, reply2, &rlen));
        CHECK(w->status == SK_ERR_CLONE_DETECTED);
        CHECK(atomic_load(&sk_server_completions) == before);
    }
out:
    sk_device_session_free(s);
    sk_device_key_free(copy);
    sk_device_key_free(key);
    world_free(w);
}

/* Many requests at once from copies of one state (the thief's way around
 * the lockout): the first takes the charge, every other one is a clone
 * verdict; at most one PIN check runs. */
static void attack_parallel_guesses(void)
{
    world *w = world_new();
    sk_device_key *key = NULL, *copies[6] = {NULL};
    sk_device_session *s = NULL;
    sk_key_status st;
    size_t len = 0, rlen = 0;
    CHECK_OK(world_enrol(w, &key, SK_PROFILE_4K, SK_PURPOSE_SIGN, PIN_SIGN, NULL, true));
    if (key == NULL)
        goto out;
    rp_session(w, key, 2);
    CHECK_OK(sk_device_fetch(key, msg, sizeof msg, &len, w->now));
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK_OK(sk_device_read_session(key, &s, &st, reply, rlen));
    if (s == NULL)
        goto out;
    unsigned long before = atomic_load(&sk_server_completions);
    int clones = 0, checks = 0;
    w->stop_after_charge = true; /* every request is charged before any check */
    for (int i = 0; i < 6; i++) {
        copies[i] = copy_of(key);
        if (copies[i] == NULL)
            continue;
        char pin[8];
        snprintf(pin, sizeof pin, "%05d", 20000 + i);
        CHECK_OK(sk_device_approve(copies[i], msg, sizeof msg, &len, w->now, s,
                                   (const uint8_t *)pin, 5));
        CHECK_OK(world_device(w, msg, len, reply, &rlen));
        checks += w->charges;
        clones += w->status == SK_ERR_CLONE_DETECTED || w->status == SK_ERR_DESTROYED;
    }
    CHECK(checks == 1 && clones == 5);
    CHECK(atomic_load(&sk_server_completions) == before);
    server_status(w, key, &st);
    CHECK(st.state == SK_KEY_DESTROYED && st.destroy_reason == SK_DESTROY_CLONE);
out:
    sk_device_session_free(s);
    for (int i = 0; i < 6; i++)
        sk_device_key_free(copies[i]);
    sk_device_key_free(key);
    world_free(w);
}

/* A copy signs first (whatever clock it keeps: requests carry no time or
 * counter the copy could push ahead).  The original's next request of any
 * kind - here a key-state query in the same second - is the verdict. */
static void attack_clone_any_clock(void)
{
    world *w = world_new();
    sk_device_key *key = NULL, *copy = NULL;
    sk_key_status st;
    uint8_t sig[SK_MAX_SIG_LEN];
    size_t sig_len = 0, len = 0, rlen = 0;
    CHECK_OK(world_enrol(w, &key, SK_PROFILE_4K, SK_PURPOSE_SIGN, PIN_SIGN, NULL, true));
    if (key == NULL)
        goto out;
    copy = copy_of(key);
    rp_session(w, key, 3);
    CHECK_OK(world_approve(w, copy, PIN_SIGN, sig, &sig_len, &st)); /* far-future "now" is moot */
    CHECK_OK(sk_device_key_state_request(key, msg, sizeof msg, &len, w->now + 1000000));
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK_RC(SK_ERR_CLONE_DETECTED, sk_device_read_reply(key, &st, reply, rlen));
    CHECK(w->revoke_reason == SK_CRL_REASON_KEY_COMPROMISE);
    server_status(w, key, &st);
    CHECK(st.state == SK_KEY_DESTROYED && st.destroy_reason == SK_DESTROY_CLONE);
out:
    sk_device_key_free(copy);
    sk_device_key_free(key);
    world_free(w);
}

/* A network attacker replays, reorders, delays and drops: no clone verdict
 * and no lockout for the honest device, nothing changed by a replay. */
static void attack_network(void)
{
    world *w = world_new();
    sk_device_key *key = NULL;
    sk_key_status st;
    uint8_t sig[SK_MAX_SIG_LEN], old[SK_MAX_MESSAGE_LEN];
    size_t sig_len = 0, len = 0, rlen = 0, rlen2 = 0, old_len = 0;
    CHECK_OK(world_enrol(w, &key, SK_PROFILE_4K, SK_PURPOSE_SIGN, PIN_SIGN, NULL, true));
    if (key == NULL)
        goto out;
    /* a fetch, recorded by the attacker; its reply dropped */
    rp_session(w, key, 4);
    CHECK_OK(sk_device_fetch(key, msg, sizeof msg, &len, w->now));
    memcpy(old, msg, len);
    old_len = len;
    CHECK_OK(world_device(w, msg, len, reply, &rlen)); /* reply withheld */
    memcpy(reply2, reply, rlen);
    rlen2 = rlen;
    /* the device retries; it gets the stored reply, sealed afresh */
    CHECK_OK(sk_device_retry(key, msg, sizeof msg, &len, w->now, NULL, 0));
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    /* the withheld reply delivered in place of the new one: refused */
    CHECK(sk_device_read_session(key, &(sk_device_session *){NULL}, &st, reply2, rlen2) != SK_OK);
    sk_device_session *s = NULL;
    CHECK_OK(sk_device_read_session(key, &s, &st, reply, rlen));
    sk_device_session_free(s);
    /* the device signs; then every old message is replayed at it */
    CHECK_OK(world_approve(w, key, PIN_SIGN, sig, &sig_len, &st));
    for (int i = 0; i < 3; i++) {
        CHECK_OK(world_device(w, old, old_len, reply, &rlen));
        CHECK(w->status == SK_ERR_PROTO_CHALLENGE && !w->stored_key && !w->stored_session);
    }
    /* a reply to a replayed message means nothing to the device */
    CHECK(sk_device_read_reply(key, &st, reply, rlen) != SK_OK);
    /* a forged plain error claiming a clone or a destroyed key */
    uint8_t forged[128];
    size_t flen = 0;
    CHECK_OK(sk_server_plain_error(forged, sizeof forged, &flen, SK_ERR_CLONE_DETECTED));
    CHECK_OK(sk_device_key_state_request(key, msg, sizeof msg, &len, w->now));
    memset(&st, 0, sizeof st);
    CHECK_RC(SK_ERR_PROTO_DECODE, sk_device_read_reply(key, &st, forged, flen));
    CHECK(sk_device_key_state(key) != SK_KEY_DESTROYED && st.state == 0);
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK_OK(sk_device_read_reply(key, &st, reply, rlen));
    /* and the honest device still signs */
    rp_session(w, key, 5);
    CHECK_OK(world_approve(w, key, PIN_SIGN, sig, &sig_len, &st));
    server_status(w, key, &st);
    CHECK(st.state == SK_KEY_ACTIVE && st.attempts_left == 3);
out:
    sk_device_key_free(key);
    world_free(w);
}

/* A registration token seen by someone else: the device sends only its
 * public part and a proof bound to its own key and n1.  An enrolment with
 * the public part alone, or with a proof made for another device key, is
 * refused; the token still works for its owner. */
static void attack_token_theft(void)
{
    world *w = world_new();
    sk_device_key *key = NULL;
    char token[SK_MAX_TOKEN_LEN + 1], pub[SK_MAX_TOKEN_LEN + 1];
    size_t tlen = 0;
    const char *subject = "C=LV,GN=ANNA,SN=LIEPA,serialNumber=PNOLV-030303-33333";
    w->policy.open_enrolment = 0;
    CHECK_OK(sk_server_token_mint(w->id, token, sizeof token, &tlen, subject, SK_PURPOSE_SIGN,
                                  w->now + 3600, NULL, NULL));
    /* the public part only (what an observer could hope to see) */
    const char *dot = strrchr(token, '.');
    memcpy(pub, token, (size_t)(dot - token));
    pub[dot - token] = '\0';
    CHECK_RC(SK_ERR_TOKEN, world_enrol(w, &key, SK_PROFILE_4K, SK_PURPOSE_SIGN, PIN_SIGN, pub, true));
    /* a proof made for another device key, replayed with the attacker's */
    uint8_t secret[32], proof[32], kx[32], n1[256];
    size_t sl = 0;
    CHECK(sodium_base642bin(secret, sizeof secret, dot + 1, strlen(dot + 1), NULL, &sl, NULL,
                            sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0);
    randombytes_buf(kx, sizeof kx);
    randombytes_buf(n1, sizeof n1);
    skp_token_proof(proof, secret, SK_PURPOSE_SIGN, 2048, kx, n1, sizeof n1);
    char sub[SKP_MAX_SUBJECT_LEN + 1];
    uint8_t tid[16], akx[32] = {1};
    CHECK(sks_token_check(w->id, (const uint8_t *)pub, strlen(pub), proof, sizeof proof, 2048, akx,
                          n1, sizeof n1, SK_PURPOSE_SIGN, w->now, sub, sizeof sub,
                          tid) == SK_ERR_TOKEN);
    CHECK(sks_token_check(w->id, (const uint8_t *)pub, strlen(pub), proof, sizeof proof, 2048, kx,
                          n1, sizeof n1, SK_PURPOSE_SIGN, w->now, sub, sizeof sub, tid) == SK_OK);
    CHECK(w->nkeys == 0);
    /* the owner, with the whole token */
    CHECK_OK(world_enrol(w, &key, SK_PROFILE_4K, SK_PURPOSE_SIGN, PIN_SIGN, token, true));
    CHECK(w->nkeys == 1);
    sodium_memzero(secret, sizeof secret);
    sk_device_key_free(key);
    world_free(w);
}

/* Recorded traffic plus everything the device stores decrypts nothing: the
 * transport keys in the stored state do not open a recorded approval. */
static void attack_recorded_traffic(void)
{
    world *w = world_new();
    sk_device_key *key = NULL, *stolen = NULL;
    sk_device_session *s = NULL;
    sk_key_status st;
    size_t len = 0, rlen = 0;
    CHECK_OK(world_enrol(w, &key, SK_PROFILE_4K, SK_PURPOSE_SIGN, PIN_SIGN, NULL, true));
    if (key == NULL)
        goto out;
    rp_session(w, key, 6);
    CHECK_OK(sk_device_fetch(key, msg, sizeof msg, &len, w->now));
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK_OK(sk_device_read_session(key, &s, &st, reply, rlen));
    if (s == NULL)
        goto out;
    CHECK_OK(sk_device_approve(key, msg, sizeof msg, &len, w->now, s, (const uint8_t *)PIN_SIGN,
                               strlen(PIN_SIGN)));
    stolen = copy_of(key); /* the stored state: no ephemeral secret in it */
    static skp_env env;
    static uint8_t plain[SKP_MAX_BODY_LEN];
    size_t plen = 0;
    uint8_t shared[32];
    CHECK_OK(skp_env_parse(&env, msg, len));
    if (stolen != NULL) {
        /* with the stored keys alone: the request key needs X25519 with an
         * ephemeral secret that was never stored */
        CHECK(!stolen->eph.ready);
        uint8_t guess[32];
        randombytes_buf(guess, sizeof guess);
        CHECK(skp_req_open(plain, &plen, shared, &env, stolen->tek_tx, guess, w->server_pub) ==
              SK_ERR_PROTO_AUTH);
    }
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    if (stolen != NULL) {
        CHECK_OK(skp_env_parse(&env, reply, rlen));
        CHECK(skp_rep_open(plain, &plen, &env, stolen->tek_rx, &stolen->eph) != SK_OK);
    }
out:
    sk_device_session_free(s);
    sk_device_key_free(stolen);
    sk_device_key_free(key);
    world_free(w);
}

/* Fetches the waiting sessions (up to cap) for the device. */
static size_t fetch_sessions(world *w, sk_device_key *key, sk_device_session **out, size_t cap)
{
    sk_key_status st;
    size_t len = 0, rlen = 0, n = 0;
    CHECK_OK(sk_device_fetch(key, msg, sizeof msg, &len, w->now));
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK_OK(sk_device_read_sessions(key, out, cap, &n, &st, reply, rlen));
    return n;
}

/* One charge, one attempt: the attempt charged is the one checked.  A
 * holder of the device state who sends the charged request again with
 * other guesses (or an honest retry with a retyped PIN) gets the outcome of
 * the charged attempt, whatever PIN the later messages were made with. */
static void attack_guesses_under_one_charge(void)
{
    world *w = world_new();
    sk_device_key *key = NULL;
    sk_device_session *s[1] = {NULL};
    sk_key_status st;
    uint8_t sig[SK_MAX_SIG_LEN], digest[32];
    size_t sig_len = 0, len = 0, rlen = 0;
    CHECK_OK(world_enrol(w, &key, SK_PROFILE_4K, SK_PURPOSE_SIGN, PIN_SIGN, NULL, true));
    if (key == NULL)
        goto out;
    /* charged: a wrong PIN; checked: the right one - the wrong one counts */
    rp_session(w, key, 7);
    if (fetch_sessions(w, key, s, 1) != 1)
        goto out;
    CHECK_OK(sk_device_approve(key, msg, sizeof msg, &len, w->now, s[0], (const uint8_t *)"99999",
                               5));
    w->stop_after_charge = true;
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    w->stop_after_charge = false;
    CHECK(w->charges == 1 && rlen == 0);
    unsigned long before = atomic_load(&sk_server_completions);
    CHECK_OK(sk_device_retry(key, msg, sizeof msg, &len, w->now, (const uint8_t *)PIN_SIGN,
                             strlen(PIN_SIGN)));
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK(w->charges == 0 && w->status == SK_ERR_WRONG_PIN);
    CHECK(atomic_load(&sk_server_completions) == before + 1);
    CHECK_RC(SK_ERR_WRONG_PIN,
             sk_device_read_signature(key, sig, sizeof sig, &sig_len, &st, reply, rlen));
    server_status(w, key, &st);
    CHECK(st.attempts_left == 2);
    sk_device_session_free(s[0]);
    s[0] = NULL;
    /* charged: the right PIN; then five more messages under that charge
     * with wrong guesses: the first decides with the charged attempt (a
     * signature), the rest get that reply again and run no check */
    rp_session(w, key, 8);
    if (fetch_sessions(w, key, s, 1) != 1)
        goto out;
    CHECK_OK(sk_device_approve(key, msg, sizeof msg, &len, w->now, s[0],
                               (const uint8_t *)PIN_SIGN, strlen(PIN_SIGN)));
    w->stop_after_charge = true;
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    w->stop_after_charge = false;
    before = atomic_load(&sk_server_completions);
    for (int i = 0; i < 5; i++) {
        char pin[8];
        snprintf(pin, sizeof pin, "%05d", 30000 + i);
        CHECK_OK(sk_device_retry(key, msg, sizeof msg, &len, w->now, (const uint8_t *)pin, 5));
        CHECK_OK(world_device(w, msg, len, reply, &rlen));
        CHECK(w->charges == 0 && w->status == SK_OK);
    }
    CHECK(atomic_load(&sk_server_completions) == before + 1);
    CHECK_OK(sk_device_read_signature(key, sig, sizeof sig, &sig_len, &st, reply, rlen));
    CHECK(s[0]->digest_len == sizeof digest);
    memcpy(digest, s[0]->digest, sizeof digest); /* the session fetched first */
    CHECK_OK(mbedtls_check(key, SK_SCHEME_PKCS1, SK_HASH_SHA256, digest, sig, sig_len));
    server_status(w, key, &st);
    CHECK(st.state == SK_KEY_ACTIVE && st.attempts_left == 3);
out:
    sk_device_session_free(s[0]);
    sk_device_key_free(key);
    world_free(w);
}

/* A copy taken while an approval is in flight sends another request under
 * the copied request id and OTP (another session, signed with the PIN it
 * learnt) and reaches the server first.  The original's request with that
 * id is not taken for a resend of the copy's: it is the clone verdict. */
static void attack_other_request_under_copied_id(void)
{
    world *w = world_new();
    sk_device_key *key = NULL, *copy = NULL;
    sk_device_session *s[2] = {NULL, NULL};
    sk_key_status st;
    uint8_t sig[SK_MAX_SIG_LEN];
    size_t sig_len = 0, len = 0, rlen = 0;
    CHECK_OK(world_enrol(w, &key, SK_PROFILE_4K, SK_PURPOSE_SIGN, PIN_SIGN, NULL, true));
    if (key == NULL)
        goto out;
    rp_session(w, key, 9);
    rp_session(w, key, 10);
    if (fetch_sessions(w, key, s, 2) != 2)
        goto out;
    CHECK_OK(sk_device_approve(key, msg, sizeof msg, &len, w->now, s[0],
                               (const uint8_t *)PIN_SIGN, strlen(PIN_SIGN)));
    copy = copy_of(key);
    if (copy == NULL)
        goto out;
    /* the copy's own approval of the other session, under the same id */
    const sk_device_session *o = s[1];
    memcpy(copy->pending_session_id, o->id, SKP_SESSION_ID_LEN);
    memcpy(copy->pending_digest, o->digest, o->digest_len);
    copy->pending_digest_len = o->digest_len;
    memcpy(copy->pending_salt, o->salt, o->salt_len);
    copy->pending_salt_len = o->salt_len;
    size_t clen = 0;
    CHECK_OK(sk_device_retry(copy, msg2, sizeof msg2, &clen, w->now, (const uint8_t *)PIN_SIGN,
                             strlen(PIN_SIGN)));
    CHECK_OK(world_device(w, msg2, clen, reply2, &rlen));
    CHECK(w->status == SK_OK); /* the copy got there first */
    /* the original's approval: same id and OTP, another session */
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK(w->status == SK_ERR_CLONE_DETECTED);
    CHECK(w->revoke_reason == SK_CRL_REASON_KEY_COMPROMISE);
    CHECK_RC(SK_ERR_CLONE_DETECTED,
             sk_device_read_signature(key, sig, sizeof sig, &sig_len, &st, reply, rlen));
    server_status(w, key, &st);
    CHECK(st.state == SK_KEY_DESTROYED && st.destroy_reason == SK_DESTROY_CLONE);
out:
    sk_device_session_free(s[0]);
    sk_device_session_free(s[1]);
    sk_device_key_free(copy);
    sk_device_key_free(key);
    world_free(w);
}

/* A copy taken while an approval was in flight resends it (getting its
 * stored reply) and then makes a request of its own.  The original's
 * resend of that approval is now an old request: the server answers with a
 * challenge, which changes nothing; the device answers it
 * (sk_device_take_challenge, then sk_device_retry) and gets the verdict,
 * never a generic error or a lasting stall. */
static void attack_copy_resends_then_acts(void)
{
    world *w = world_new();
    sk_device_key *key = NULL, *copy = NULL;
    sk_device_session *s[1] = {NULL};
    sk_key_status st;
    uint8_t sig[SK_MAX_SIG_LEN];
    size_t sig_len = 0, len = 0, rlen = 0;
    CHECK_OK(world_enrol(w, &key, SK_PROFILE_4K, SK_PURPOSE_SIGN, PIN_SIGN, NULL, true));
    if (key == NULL)
        goto out;
    rp_session(w, key, 11);
    if (fetch_sessions(w, key, s, 1) != 1)
        goto out;
    CHECK_OK(sk_device_approve(key, msg, sizeof msg, &len, w->now, s[0],
                               (const uint8_t *)PIN_SIGN, strlen(PIN_SIGN)));
    CHECK_OK(world_device(w, msg, len, reply, &rlen)); /* answered; the reply is lost */
    copy = copy_of(key);
    if (copy == NULL)
        goto out;
    CHECK_OK(sk_device_retry(copy, msg2, sizeof msg2, &len, w->now, (const uint8_t *)PIN_SIGN,
                             strlen(PIN_SIGN)));
    CHECK_OK(world_device(w, msg2, len, reply2, &rlen));
    CHECK_OK(sk_device_read_signature(copy, sig, sizeof sig, &sig_len, &st, reply2, rlen));
    CHECK_OK(sk_device_key_state_request(copy, msg2, sizeof msg2, &len, w->now));
    CHECK_OK(world_device(w, msg2, len, reply2, &rlen));
    CHECK_OK(sk_device_read_reply(copy, &st, reply2, rlen));
    /* a reply that is not a challenge is left for its reader */
    CHECK_RC(SK_ERR_PROTO_STATE, sk_device_take_challenge(copy, reply2, rlen));
    /* the original resends its approval */
    CHECK_OK(sk_device_retry(key, msg, sizeof msg, &len, w->now, (const uint8_t *)PIN_SIGN,
                             strlen(PIN_SIGN)));
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK(w->status == SK_ERR_PROTO_CHALLENGE && !w->stored_key);
    CHECK_OK(sk_device_take_challenge(key, reply, rlen));
    CHECK(sk_device_key_has_pending(key));
    CHECK_OK(sk_device_retry(key, msg, sizeof msg, &len, w->now, (const uint8_t *)PIN_SIGN,
                             strlen(PIN_SIGN)));
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK(w->status == SK_ERR_CLONE_DETECTED);
    CHECK_RC(SK_ERR_CLONE_DETECTED,
             sk_device_read_signature(key, sig, sizeof sig, &sig_len, &st, reply, rlen));
    server_status(w, key, &st);
    CHECK(st.state == SK_KEY_DESTROYED && st.destroy_reason == SK_DESTROY_CLONE);
out:
    sk_device_session_free(s[0]);
    sk_device_key_free(copy);
    sk_device_key_free(key);
    world_free(w);
}

/* A device request that meets a challenge answers it, as a client would. */
static void state_query(world *w, sk_device_key *key, sk_key_status *st, int *status)
{
    size_t len = 0, rlen = 0;
    CHECK_OK(sk_device_key_state_request(key, msg, sizeof msg, &len, w->now));
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    if (w->status == SK_ERR_PROTO_CHALLENGE) {
        CHECK(!w->stored_key);
        CHECK_OK(sk_device_take_challenge(key, reply, rlen));
        CHECK_OK(sk_device_retry(key, msg, sizeof msg, &len, w->now, NULL, 0));
        CHECK_OK(world_device(w, msg, len, reply, &rlen));
    }
    *status = sk_device_read_reply(key, st, reply, rlen);
}

/* The store restored to an older point (a backup without its journal): the
 * device signed after the restore point, so it comes back with a one-time
 * password the restored record never saw.
 * - Without the restore mark that is a copy's request: the key is destroyed
 *   (the behaviour the mark exists to prevent).
 * - With it, the device answers a challenge and is taken up again once
 *   (SK_EFFECT_RESYNC), and signs.
 * - A request recorded after the restore point and replayed by someone
 *   without the device state cannot answer the challenge: nothing changes.
 * - Once the record is written again the rules are strict: a copy of the
 *   device taken after the restore point is a clone verdict. */
static void attack_restore(void)
{
    world *w = world_new();
    sk_device_key *key = NULL, *older = NULL, *twin = NULL;
    sk_key_status st;
    uint8_t sig[SK_MAX_SIG_LEN], id[SK_KEY_ID_LEN], old[SK_MAX_MESSAGE_LEN];
    size_t sig_len = 0, len = 0, rlen = 0, old_len = 0;
    int status = 0;
    static w_key backup;
    CHECK_OK(world_enrol(w, &key, SK_PROFILE_4K, SK_PURPOSE_SIGN, PIN_SIGN, NULL, true));
    if (key == NULL)
        goto out;
    CHECK_OK(sk_device_key_id(key, id, sizeof id));
    rp_session(w, key, 40);
    CHECK_OK(world_approve(w, key, PIN_SIGN, sig, &sig_len, &st));
    backup = *world_key(w, id); /* the restore point */
    rp_session(w, key, 41);
    CHECK_OK(world_approve(w, key, PIN_SIGN, sig, &sig_len, &st));
    /* a request an on-path attacker records after the restore point */
    CHECK_OK(sk_device_key_state_request(key, msg, sizeof msg, &len, w->now));
    memcpy(old, msg, len);
    old_len = len;
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK_OK(sk_device_read_reply(key, &st, reply, rlen));
    older = copy_of(key); /* a copy of the device after the restore point */
    rp_session(w, key, 42);
    CHECK_OK(world_approve(w, key, PIN_SIGN, sig, &sig_len, &st));
    twin = copy_of(key);
    if (older == NULL || twin == NULL)
        goto out;

    /* without the mark: a verdict on an honest device */
    *world_key(w, id) = backup;
    w->key_restored = false;
    state_query(w, twin, &st, &status);
    CHECK(status == SK_ERR_CLONE_DETECTED && w->status == SK_ERR_CLONE_DETECTED);

    /* with the mark */
    *world_key(w, id) = backup;
    w->key_restored = true;
    for (int i = 0; i < 2; i++) {
        CHECK_OK(world_device(w, old, old_len, reply, &rlen));
        CHECK(w->status == SK_ERR_PROTO_CHALLENGE && !w->stored_key && !w->stored_session);
    }
    CHECK(w->key_restored);
    state_query(w, key, &st, &status);
    CHECK_OK(status);
    CHECK((w->effects & SK_EFFECT_RESYNC) && w->stored_key && !w->key_restored);
    CHECK(st.state == SK_KEY_ACTIVE && st.attempts_left == 3);
    rp_session(w, key, 43);
    CHECK_OK(world_approve(w, key, PIN_SIGN, sig, &sig_len, &st));
    CHECK(!(w->effects & SK_EFFECT_RESYNC));
    uint8_t digest[32];
    memset(digest, 43, sizeof digest);
    CHECK_OK(mbedtls_check(key, SK_SCHEME_PKCS1, SK_HASH_SHA256, digest, sig, sig_len));
    /* strict again: the older copy is a clone */
    state_query(w, older, &st, &status);
    CHECK(status == SK_ERR_CLONE_DETECTED && !(w->effects & SK_EFFECT_RESYNC));
    server_status(w, key, &st);
    CHECK(st.state == SK_KEY_DESTROYED && st.destroy_reason == SK_DESTROY_CLONE);
out:
    sk_device_key_free(twin);
    sk_device_key_free(older);
    sk_device_key_free(key);
    world_free(w);
}

/* One EnrolInit with a token through the server; *status its answer. */
static int enrol_init_sent(world *w, sk_device_enrolment **e, const char *token, uint8_t *out,
                           size_t *out_len)
{
    size_t len = 0, rlen = 0;
    int rc = sk_device_enrol_start(e, msg, sizeof msg, &len, w->server_pub, SK_SERVER_PUB_LEN,
                                   SK_PURPOSE_SIGN, SK_PROFILE_4K, (const uint8_t *)PIN_SIGN,
                                   strlen(PIN_SIGN), SK_KDF_MINIMUM, token, NULL);
    if (rc != SK_OK)
        return rc;
    if (out != NULL) {
        memcpy(out, msg, len);
        *out_len = len;
    }
    rc = world_device(w, msg, len, reply, &rlen);
    if (rc != SK_OK)
        return rc;
    return sk_device_enrol_continue(*e, msg2, sizeof msg2, &len, reply, rlen);
}

/* An enrolment the device lost in a crash (after the server took its
 * EnrolInit and even its EnrolSubmit) starts again with the same token: the
 * server asks the new request to prove it is fresh, then gives the earlier
 * key up (DESTROYED, reason abandoned) and enrols the new one, which signs.
 * A recorded EnrolInit cannot do this: replayed, it meets the challenge and
 * changes nothing, so an enrolment in progress can never be undone from the
 * network.  Once the key is active the token is spent for good. */
static void attack_enrol_restart(void)
{
    world *w = world_new();
    sk_device_enrolment *e1 = NULL, *e2 = NULL, *e3 = NULL;
    sk_device_key *key = NULL;
    sk_device_session *s = NULL;
    sk_key_status st;
    char token[SK_MAX_TOKEN_LEN + 1];
    uint8_t old[SK_MAX_MESSAGE_LEN], first[SK_KEY_ID_LEN], sig[SK_MAX_SIG_LEN];
    size_t tlen = 0, old_len = 0, len = 0, rlen = 0, sig_len = 0;
    w->policy.open_enrolment = 0;
    CHECK_OK(sk_server_token_mint(w->id, token, sizeof token, &tlen,
                                  "C=LV,GN=ANNA,SN=LIEPA,serialNumber=PNOLV-040404-44444",
                                  SK_PURPOSE_SIGN, w->now + 3600, NULL, NULL));
    /* the first attempt: EnrolInit and EnrolSubmit taken, then the crash */
    CHECK_OK(enrol_init_sent(w, &e1, token, old, &old_len));
    CHECK(w->nkeys == 1);
    memcpy(first, w->keys[0].id, sizeof first);
    len = 0;
    CHECK_OK(sk_device_enrol_retry(e1, msg, sizeof msg, &len));
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK(w->status == SK_OK && w->stored_key);
    sk_device_enrolment_free(e1);
    e1 = NULL;
    w_key before = *world_key(w, first);
    /* a recorded EnrolInit replayed: a challenge nobody can answer */
    for (int i = 0; i < 2; i++) {
        CHECK_OK(world_device(w, old, old_len, reply, &rlen));
        CHECK(w->status == SK_ERR_PROTO_CHALLENGE && !w->stored_key && w->nkeys == 1);
    }
    CHECK(memcmp(&before, world_key(w, first), sizeof before) == 0);
    /* the device starts again */
    CHECK_RC(SK_ERR_PROTO_CHALLENGE, enrol_init_sent(w, &e2, token, NULL, NULL));
    CHECK(w->nkeys == 1 && !w->stored_key);
    if (e2 == NULL)
        goto out;
    CHECK_OK(sk_device_enrol_retry(e2, msg, sizeof msg, &len));
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK(w->status == SK_OK && (w->effects & SK_EFFECT_SUPERSEDE) && w->nkeys == 2);
    CHECK_OK(sk_device_enrol_continue(e2, msg, sizeof msg, &len, reply, rlen));
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK_OK(sk_device_enrol_finish(e2, &key, reply, rlen));
    if (key == NULL)
        goto out;
    sk_key_rec *r = world_key_record(w, first);
    CHECK(r != NULL);
    if (r != NULL) {
        sk_key_rec_status(r, &st, &w->policy, w->now);
        CHECK(st.state == SK_KEY_DESTROYED && st.destroy_reason == SK_DESTROY_ABANDONED);
    }
    sk_key_rec_free(r);
    /* the new key proves possession and signs */
    CHECK_OK(sk_device_pop_create(key, msg, sizeof msg, &len, w->now, SK_HASH_SHA256, NULL, NULL,
                                  0));
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK_OK(sk_device_read_session(key, &s, NULL, reply, rlen));
    if (s == NULL)
        goto out;
    CHECK_OK(sk_device_approve(key, msg, sizeof msg, &len, w->now, s, (const uint8_t *)PIN_SIGN,
                               strlen(PIN_SIGN)));
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK_OK(sk_device_read_signature(key, sig, sizeof sig, &sig_len, NULL, reply, rlen));
    CHECK(sk_device_key_state(key) == SK_KEY_ACTIVE);
    rp_session(w, key, 50);
    CHECK_OK(world_approve(w, key, PIN_SIGN, sig, &sig_len, &st));
    /* the token has done its work: no third start */
    CHECK_RC(SK_ERR_TOKEN, enrol_init_sent(w, &e3, token, NULL, NULL));
    CHECK(w->nkeys == 2);
    server_status(w, key, &st);
    CHECK(st.state == SK_KEY_ACTIVE && st.attempts_left == 3);
out:
    sk_device_session_free(s);
    sk_device_enrolment_free(e1);
    sk_device_enrolment_free(e2);
    sk_device_enrolment_free(e3);
    sk_device_key_free(key);
    world_free(w);
}

static unsigned long crt_runs;
static void count_crt(mp_limb_t *s2, mp_size_t n)
{
    (void)s2;
    (void)n;
    crt_runs++;
}

/* A timing oracle on the PIN: the server's work must not depend on it up
 * to the point where the outcome is stored.  Counted, not timed: every
 * check runs the PIN check mod n1, the CRT signature mod n2 and the
 * combination, for a right and a wrong PIN alike; a check runs only under a
 * charge, and a locked key runs none. */
static void attack_timing_oracle(void)
{
    world *w = world_new();
    sk_device_key *key = NULL;
    sk_key_status st;
    uint8_t sig[SK_MAX_SIG_LEN];
    size_t sig_len = 0;
    CHECK_OK(world_enrol(w, &key, SK_PROFILE_4K, SK_PURPOSE_SIGN, PIN_SIGN, NULL, true));
    if (key == NULL)
        goto out;
    sk_test_fault_hook = count_crt;
    unsigned long runs[2] = {0, 0}, checks[2] = {0, 0};
    for (int i = 0; i < 4; i++) {
        bool right = i % 2 == 0;
        rp_session(w, key, (uint8_t)(20 + i));
        unsigned long before_crt = crt_runs, before = atomic_load(&sk_server_completions);
        int rc = world_approve(w, key, right ? PIN_SIGN : "99999", sig, &sig_len, &st);
        CHECK_RC(right ? SK_OK : SK_ERR_WRONG_PIN, rc);
        runs[right] += crt_runs - before_crt;
        checks[right] += atomic_load(&sk_server_completions) - before;
    }
    CHECK(runs[0] == 2 && runs[1] == 2 && checks[0] == 2 && checks[1] == 2);
    /* a locked key: refused before any exponentiation (one session stays
     * open across the wrong PINs) */
    rp_session(w, key, 30);
    CHECK_RC(SK_ERR_WRONG_PIN, world_approve(w, key, "99998", sig, &sig_len, &st));
    CHECK_RC(SK_ERR_WRONG_PIN, world_approve(w, key, "99997", sig, &sig_len, &st));
    unsigned long before_crt = crt_runs;
    CHECK_RC(SK_ERR_LOCKED, world_approve(w, key, PIN_SIGN, sig, &sig_len, &st));
    CHECK(crt_runs == before_crt);
out:
    sk_test_fault_hook = NULL;
    sk_device_key_free(key);
    world_free(w);
}

static void flip_one_limb_bit(mp_limb_t *s2, mp_size_t n)
{
    if (n > 0)
        s2[n / 2] ^= 1;
}

/* A fault in the server's CRT exponentiation (a glitch, as a Bellcore
 * attack wants: one faulty signature over a known message factors the
 * modulus).  The self-check withholds the result: the device gets an error
 * and no signature, the relying party's session holds none, the key is not
 * charged a wrong PIN; once the fault is gone the next approval signs and
 * the signature verifies under mbedTLS. */
static void attack_fault_injection(void)
{
    world *w = world_new();
    sk_device_key *key = NULL;
    sk_key_status st;
    uint8_t sig[SK_MAX_SIG_LEN], rsig[SK_MAX_SIG_LEN], digest[32], sid[SK_SESSION_ID_LEN];
    size_t sig_len = 0, rsig_len = 0;
    CHECK_OK(world_enrol(w, &key, SK_PROFILE_4K, SK_PURPOSE_SIGN, PIN_SIGN, NULL, true));
    if (key == NULL)
        goto out;
    memset(digest, 0x5a, sizeof digest);
    CHECK_OK(world_rp_create(w, key, digest, SK_HASH_SHA256, SK_SCHEME_PKCS1, sid, NULL));
    sk_test_fault_hook = flip_one_limb_bit;
    memset(sig, 0xAA, sizeof sig);
    int rc = world_approve(w, key, PIN_SIGN, sig, &sig_len, &st);
    sk_test_fault_hook = NULL;
    CHECK(rc != SK_OK);
    CHECK(rc != SK_ERR_WRONG_PIN);
    memset(rsig, 0, sizeof rsig);
    rc = world_rp_poll(w, sid, rsig, &rsig_len);
    CHECK(rc != SK_OK);
    CHECK(rsig_len == 0);
    server_status(w, key, &st);
    CHECK(st.state == SK_KEY_ACTIVE);
    CHECK(st.attempts_left == 3); /* a fault is no wrong PIN */
    /* the fault gone: the same session if it still waits, else a new one */
    if (rc != SK_ERR_PENDING) {
        digest[0]++;
        CHECK_OK(world_rp_create(w, key, digest, SK_HASH_SHA256, SK_SCHEME_PKCS1, sid, NULL));
    }
    CHECK_OK(world_approve(w, key, PIN_SIGN, sig, &sig_len, &st));
    CHECK(mbedtls_check(key, SK_SCHEME_PKCS1, SK_HASH_SHA256, digest, sig, sig_len) == 0);
    CHECK_OK(world_rp_poll(w, sid, rsig, &rsig_len));
    CHECK(rsig_len == sig_len && memcmp(rsig, sig, sig_len) == 0);
out:
    sk_test_fault_hook = NULL;
    sk_device_key_free(key);
    world_free(w);
}

/* A thief with the device state but no server probes PINs offline: the
 * device keeps no check value (its share is XOR-ed with an Argon2id
 * keystream), so every guess, the right PIN among them, builds an approval
 * of the same length and nothing tells them apart; only the server can
 * judge one: the right PIN, sent, is the one check it runs. */
static void attack_offline_pin_probe(void)
{
    world *w = world_new();
    sk_device_key *key = NULL;
    sk_device_session *s = NULL;
    sk_key_status st;
    uint8_t digest[32], sid[SK_SESSION_ID_LEN];
    size_t len = 0, first_len = 0;
    CHECK_OK(world_enrol(w, &key, SK_PROFILE_4K, SK_PURPOSE_SIGN, PIN_SIGN, NULL, true));
    if (key == NULL)
        goto out;
    memset(digest, 0x6b, sizeof digest);
    CHECK_OK(world_rp_create(w, key, digest, SK_HASH_SHA256, SK_SCHEME_PKCS1, sid, NULL));
    CHECK_OK(sk_device_fetch(key, msg, sizeof msg, &len, w->now));
    CHECK_OK(world_device(w, msg, len, reply, &len));
    CHECK_OK(sk_device_read_session(key, &s, &st, reply, len));
    if (s == NULL)
        goto out;
    unsigned long before = atomic_load(&sk_server_completions);
    for (int i = 0; i < 12; i++) {
        char pin[8];
        snprintf(pin, sizeof pin, "%05d", i == 7 ? 12345 : 20000 + i * 7);
        sk_device_key *copy = copy_of(key);
        CHECK(copy != NULL);
        if (copy == NULL)
            break;
        len = 0;
        CHECK_OK(sk_device_approve(copy, msg2, sizeof msg2, &len, w->now, s,
                                   (const uint8_t *)pin, strlen(pin)));
        if (i == 0)
            first_len = len;
        CHECK(len > 0 && len == first_len);
        sk_device_key_free(copy);
    }
    /* and the right one, sent, is the one the server accepts: the probe
     * learnt nothing the server would not have counted */
    CHECK_OK(sk_device_approve(key, msg, sizeof msg, &len, w->now, s, (const uint8_t *)PIN_SIGN,
                               strlen(PIN_SIGN)));
    CHECK(len == first_len);
    CHECK_OK(world_device(w, msg, len, reply, &len));
    uint8_t sig[SK_MAX_SIG_LEN];
    size_t sig_len = 0;
    CHECK_OK(sk_device_read_signature(key, sig, sizeof sig, &sig_len, &st, reply, len));
    CHECK(atomic_load(&sk_server_completions) == before + 1); /* one check: the one sent */
    CHECK(mbedtls_check(key, SK_SCHEME_PKCS1, SK_HASH_SHA256, digest, sig, sig_len) == 0);
out:
    sk_device_session_free(s);
    sk_device_key_free(key);
    world_free(w);
}

int main(void)
{
    sk_test_init();
    attack_pin_guessing();
    attack_charge_then_crash();
    attack_parallel_guesses();
    attack_clone_any_clock();
    attack_network();
    attack_token_theft();
    attack_recorded_traffic();
    attack_guesses_under_one_charge();
    attack_other_request_under_copied_id();
    attack_copy_resends_then_acts();
    attack_timing_oracle();
    attack_fault_injection();
    attack_offline_pin_probe();
    attack_restore();
    attack_enrol_restart();
    return sk_test_done("attack_protocol");
}
