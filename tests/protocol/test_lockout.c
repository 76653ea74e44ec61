/* SPDX-License-Identifier: Apache-2.0 */
/* Wrong-PIN policy: 3 failures lock for 3 h, 3 more for 24 h, 3 more destroy
 * the key and revoke its certificate; the clock is injected.  A locked key is
 * answered without any exponentiation. */
#include <string.h>

#include "protocol/server/server_internal.h"
#include "world.h"

#define WRONG "54321"

static void new_session(world *w, sk_device_key *key, uint8_t *sid)
{
    uint8_t digest[32];
    CHECK_OK(sk_digest(digest, sizeof digest, SK_HASH_SHA256, (const uint8_t *)"doc", 3));
    CHECK_OK(world_rp_create(w, key, digest, SK_HASH_SHA256, SK_SCHEME_PSS, sid, NULL));
}

static int approve(world *w, sk_device_key *key, const char *pin, sk_key_status *st)
{
    uint8_t sig[SK_MAX_SIG_LEN];
    size_t sig_len = 0;
    memset(st, 0, sizeof *st);
    return world_approve(w, key, pin, sig, &sig_len, st);
}

static void server_status(world *w, sk_device_key *key, sk_key_status *st)
{
    uint8_t key_id[SK_KEY_ID_LEN];
    CHECK_OK(sk_device_key_id(key, key_id, sizeof key_id));
    sk_key_rec *rec = world_key_record(w, key_id);
    CHECK(rec != NULL);
    memset(st, 0, sizeof *st);
    if (rec != NULL)
        sk_key_rec_status(rec, st, &w->policy, w->now);
    sk_key_rec_free(rec);
}

static void test_default_policy(void)
{
    world *w = world_new();
    sk_device_key *key = NULL;
    sk_key_status st;
    uint8_t sid[SK_SESSION_ID_LEN];

    CHECK_OK(world_enrol(w, &key, SK_PROFILE_4K, SK_PURPOSE_SIGN, PIN_SIGN, NULL, true));
    if (key == NULL)
        goto out;

    /* A right PIN resets the count: 2 wrong, 1 right, then 2 wrong again
     * still leave one attempt before the lock. */
    new_session(w, key, sid);
    CHECK_RC(SK_ERR_WRONG_PIN, approve(w, key, WRONG, &st));
    CHECK(st.attempts_left == 2);
    CHECK_RC(SK_ERR_WRONG_PIN, approve(w, key, WRONG, &st));
    CHECK(st.attempts_left == 1 && st.locked_until == 0);
    CHECK_OK(approve(w, key, PIN_SIGN, &st));
    new_session(w, key, sid);
    CHECK_RC(SK_ERR_WRONG_PIN, approve(w, key, WRONG, &st));
    CHECK(st.attempts_left == 2);
    CHECK_RC(SK_ERR_WRONG_PIN, approve(w, key, WRONG, &st));
    CHECK(st.attempts_left == 1);

    /* Third consecutive failure: locked for 3 hours. */
    CHECK_RC(SK_ERR_WRONG_PIN, approve(w, key, WRONG, &st));
    CHECK(st.state == SK_KEY_TIMELOCKED);
    CHECK(st.locked_until == w->now + 3 * 3600);
    CHECK(st.attempts_left == 3);
    uint64_t lock1 = st.locked_until;

    /* Locked: the right PIN is refused before any exponentiation. */
    unsigned long before = atomic_load(&sk_server_completions);
    CHECK_RC(SK_ERR_LOCKED, approve(w, key, PIN_SIGN, &st));
    CHECK(st.locked_until == lock1);
    CHECK(atomic_load(&sk_server_completions) == before);
    /* ... and the relying party cannot start a session. */
    uint8_t digest[32] = {1};
    CHECK_RC(SK_ERR_LOCKED,
             world_rp_create(w, key, digest, SK_HASH_SHA256, SK_SCHEME_PKCS1, sid, NULL));
    server_status(w, key, &st);
    CHECK(st.state == SK_KEY_TIMELOCKED && st.locked_until == lock1);

    /* One second before the end: still locked.  At the end: usable. */
    w->now = lock1 - 1;
    server_status(w, key, &st);
    CHECK(st.state == SK_KEY_TIMELOCKED);
    w->now = lock1;
    server_status(w, key, &st);
    CHECK(st.state == SK_KEY_ACTIVE && st.attempts_left == 3);

    /* Three more: locked for 24 hours. */
    new_session(w, key, sid);
    CHECK_RC(SK_ERR_WRONG_PIN, approve(w, key, WRONG, &st));
    CHECK(st.attempts_left == 2);
    CHECK_RC(SK_ERR_WRONG_PIN, approve(w, key, WRONG, &st));
    CHECK(st.attempts_left == 1);
    CHECK_RC(SK_ERR_WRONG_PIN, approve(w, key, WRONG, &st));
    CHECK(st.state == SK_KEY_TIMELOCKED);
    CHECK(st.locked_until == w->now + 24 * 3600);
    CHECK(st.attempts_left == 3);
    uint64_t lock2 = st.locked_until;
    before = atomic_load(&sk_server_completions);
    CHECK_RC(SK_ERR_LOCKED, approve(w, key, PIN_SIGN, &st));
    CHECK(atomic_load(&sk_server_completions) == before);
    w->now = lock2 - 1;
    server_status(w, key, &st);
    CHECK(st.state == SK_KEY_TIMELOCKED);

    /* After the lock: 2 more failures, then the ninth destroys the key. */
    w->now = lock2;
    new_session(w, key, sid);
    CHECK_RC(SK_ERR_WRONG_PIN, approve(w, key, WRONG, &st));
    CHECK(st.attempts_left == 2);
    CHECK_RC(SK_ERR_WRONG_PIN, approve(w, key, WRONG, &st));
    CHECK(st.attempts_left == 1);
    CHECK(!(w->effects & SK_EFFECT_REVOKE_CERT));
    CHECK_RC(SK_ERR_DESTROYED, approve(w, key, WRONG, &st));
    CHECK(st.state == SK_KEY_DESTROYED);
    CHECK(st.destroy_reason == SK_DESTROY_LOCKOUT);
    CHECK(w->effects & SK_EFFECT_REVOKE_CERT);
    CHECK(w->effects & SK_EFFECT_DELETE_SECRETS);
    CHECK(w->revoke_reason == SK_CRL_REASON_CESSATION_OF_OPERATION);
    CHECK(sk_device_key_state(key) == SK_KEY_DESTROYED);
    server_status(w, key, &st);
    CHECK(st.state == SK_KEY_DESTROYED && st.destroy_reason == SK_DESTROY_LOCKOUT);
    /* ds is gone from the store. */
    uint8_t key_id[SK_KEY_ID_LEN];
    CHECK_OK(sk_device_key_id(key, key_id, sizeof key_id));
    w_key *wk = world_key(w, key_id);
    CHECK(wk != NULL && wk->sec_len == 0);
    /* A destroyed key never signs again: not even with the right PIN, and
     * not even when the device does not know it yet. */
    CHECK_RC(SK_ERR_DESTROYED, approve(w, key, PIN_SIGN, &st));
    CHECK_RC(SK_ERR_DESTROYED,
             world_rp_create(w, key, digest, SK_HASH_SHA256, SK_SCHEME_PKCS1, sid, NULL));
out:
    sk_device_key_free(key);
    world_free(w);
}

/* The thresholds and durations come from the policy. */
static void test_custom_policy(void)
{
    world *w = world_new();
    sk_device_key *key = NULL;
    sk_key_status st;
    uint8_t sid[SK_SESSION_ID_LEN];
    w->policy.lock1_failures = 1;
    w->policy.lock1_seconds = 60;
    w->policy.lock2_failures = 2;
    w->policy.lock2_seconds = 600;
    w->policy.destroy_failures = 3;
    CHECK_OK(world_enrol(w, &key, SK_PROFILE_4K, SK_PURPOSE_AUTH, PIN_AUTH, NULL, true));
    if (key == NULL)
        goto out;
    new_session(w, key, sid);
    CHECK_RC(SK_ERR_WRONG_PIN, approve(w, key, "0000", &st));
    CHECK(st.locked_until == w->now + 60);
    w->now += 60;
    new_session(w, key, sid);
    CHECK_RC(SK_ERR_WRONG_PIN, approve(w, key, "0000", &st));
    CHECK(st.locked_until == w->now + 600);
    w->now += 600;
    new_session(w, key, sid);
    CHECK_RC(SK_ERR_DESTROYED, approve(w, key, "0000", &st));
    CHECK(st.destroy_reason == SK_DESTROY_LOCKOUT);
out:
    sk_device_key_free(key);
    world_free(w);
}

/* PIN format rules. */
static void test_pin_rules(void)
{
    CHECK_OK(sk_pin_check(SK_PURPOSE_AUTH, (const uint8_t *)"1234", 4));
    CHECK_RC(SK_ERR_ARG, sk_pin_check(SK_PURPOSE_AUTH, (const uint8_t *)"123", 3));
    CHECK_RC(SK_ERR_ARG, sk_pin_check(SK_PURPOSE_SIGN, (const uint8_t *)"1234", 4));
    CHECK_OK(sk_pin_check(SK_PURPOSE_SIGN, (const uint8_t *)"12345", 5));
    CHECK_RC(SK_ERR_ARG, sk_pin_check(SK_PURPOSE_SIGN, (const uint8_t *)"1234a", 5));
    CHECK_RC(SK_ERR_ARG, sk_pin_check(SK_PURPOSE_AUTH, (const uint8_t *)"12 34", 5));
    CHECK_RC(SK_ERR_ARG, sk_pin_check((sk_purpose)9, (const uint8_t *)"12345", 5));
    /* a seal key's PIN follows the signing rule: at least 5 digits */
    CHECK_RC(SK_ERR_ARG, sk_pin_check(SK_PURPOSE_SEAL, (const uint8_t *)"1234", 4));
    CHECK_OK(sk_pin_check(SK_PURPOSE_SEAL, (const uint8_t *)"12345", 5));
    CHECK_RC(SK_ERR_ARG, sk_pin_check(SK_PURPOSE_SEAL, (const uint8_t *)"1234x", 5));
}

int main(void)
{
    sk_test_init();
    test_pin_rules();
    test_default_policy();
    test_custom_policy();
    return sk_test_done("protocol_lockout");
}
