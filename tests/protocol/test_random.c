/* SPDX-License-Identifier: Apache-2.0 */
/* A long random run of an honest device against a model of the policy:
 * right and wrong PINs, requests and replies lost and retried, OTP refreshes
 * and jumps of the clock.  An honest device is never taken for a clone, every
 * wrong PIN counts once however often its request is retried, and locks and
 * destruction happen exactly when the policy says. */
#include <string.h>

#include "world.h"

static uint64_t rnd_state = 0x2545f4914f6cdd1dull;
static unsigned rnd(unsigned n)
{
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 7;
    rnd_state ^= rnd_state << 17;
    return (unsigned)(rnd_state % n);
}

static uint8_t msg[SK_MAX_MESSAGE_LEN], reply[SK_MAX_MESSAGE_LEN];

/* Sends msg, maybe losing the request or the reply, retrying until a reply
 * arrives; returns the reply in reply/rlen.  pin: for retries of approvals. */
static void deliver(world *w, sk_device_key *key, size_t len, size_t *rlen, const char *pin,
                    int *losses)
{
    for (;;) {
        unsigned fate = rnd(10);
        if (fate == 0) { /* the request is lost */
            (*losses)++;
        } else {
            CHECK_OK(world_device(w, msg, len, reply, rlen));
            if (fate != 1)
                return;
            (*losses)++; /* the reply is lost */
        }
        w->now += rnd(3);
        CHECK_OK(sk_device_retry(key, msg, sizeof msg, &len, w->now, (const uint8_t *)pin,
                                 pin ? strlen(pin) : 0));
    }
}

int main(void)
{
    sk_test_init();
    world *w = world_new();
    sk_device_key *key = NULL;
    sk_key_status st;
    int losses = 0, signatures = 0, wrong = 0, locked = 0, refreshes = 0;
    CHECK_OK(world_enrol(w, &key, SK_PROFILE_4K, SK_PURPOSE_AUTH, PIN_AUTH, NULL, true));
    if (key == NULL)
        return sk_test_done("protocol_random");

    uint32_t fails = 0;
    uint64_t locked_until = 0;
    bool destroyed = false;
    for (int step = 0; step < 400 && !destroyed; step++) {
        size_t len = 0, rlen = 0;
        unsigned op = rnd(10);
        if (op < 6) {
            /* A relying party asks; the user answers with the right PIN or not. */
            uint8_t digest[32], sid[SK_SESSION_ID_LEN], sig[SK_MAX_SIG_LEN];
            size_t sig_len = 0;
            memset(digest, step & 0xff, sizeof digest);
            int rc = world_rp_create(w, key, digest, SK_HASH_SHA256, SK_SCHEME_PSS, sid, NULL);
            bool is_locked = w->now < locked_until;
            CHECK_RC(is_locked ? SK_ERR_LOCKED : SK_OK, rc);
            if (rc != SK_OK)
                continue;
            sk_device_session *s = NULL;
            CHECK_OK(sk_device_fetch(key, msg, sizeof msg, &len, w->now));
            CHECK_OK(world_device(w, msg, len, reply, &rlen));
            CHECK_OK(sk_device_read_session(key, &s, &st, reply, rlen));
            if (s == NULL)
                break;
            bool right = rnd(3) != 0;
            const char *pin = right ? PIN_AUTH : "0000";
            CHECK_OK(sk_device_approve(key, msg, sizeof msg, &len, w->now, s,
                                       (const uint8_t *)pin, strlen(pin)));
            sk_device_session_free(s);
            deliver(w, key, len, &rlen, pin, &losses);
            rc = sk_device_read_signature(key, sig, sizeof sig, &sig_len, &st, reply, rlen);
            CHECK(rc != SK_ERR_CLONE_DETECTED);
            if (right) {
                CHECK_OK(rc);
                fails = 0;
                locked_until = 0;
                signatures++;
            } else {
                fails++;
                wrong++;
                if (fails >= w->policy.destroy_failures) {
                    CHECK_RC(SK_ERR_DESTROYED, rc);
                    CHECK(st.destroy_reason == SK_DESTROY_LOCKOUT);
                    destroyed = true;
                } else {
                    CHECK_RC(SK_ERR_WRONG_PIN, rc);
                    if (fails == w->policy.lock2_failures)
                        locked_until = w->now + w->policy.lock2_seconds;
                    else if (fails == w->policy.lock1_failures)
                        locked_until = w->now + w->policy.lock1_seconds;
                    CHECK(st.locked_until == (w->now < locked_until ? locked_until : 0));
                    if (w->now < locked_until)
                        locked++;
                }
            }
        } else if (op < 8) {
            CHECK_OK(sk_device_otp_refresh(key, msg, sizeof msg, &len, w->now));
            deliver(w, key, len, &rlen, NULL, &losses);
            CHECK_OK(sk_device_read_reply(key, &st, reply, rlen));
            refreshes++;
        } else {
            /* The clock moves: seconds, or past a lock. */
            w->now += rnd(2) ? rnd(600) : rnd(30 * 3600);
        }
        /* The server's view matches the model. */
        uint8_t kid[SK_KEY_ID_LEN];
        CHECK_OK(sk_device_key_id(key, kid, sizeof kid));
        sk_key_rec *rec = world_key_record(w, kid);
        if (rec != NULL) {
            sk_key_rec_status(rec, &st, &w->policy, w->now);
            if (destroyed)
                CHECK(st.state == SK_KEY_DESTROYED && st.destroy_reason == SK_DESTROY_LOCKOUT);
            else
                CHECK(st.state == (w->now < locked_until ? SK_KEY_TIMELOCKED : SK_KEY_ACTIVE));
        }
        sk_key_rec_free(rec);
    }
    printf("random run: %d signatures, %d wrong PINs (%d locking), %d refreshes, %d losses%s\n",
           signatures, wrong, locked, refreshes, losses, destroyed ? ", destroyed" : "");
    CHECK(signatures > 10 && wrong > 10 && losses > 10 && refreshes > 10);
    sk_device_key_free(key);
    world_free(w);
    return sk_test_done("protocol_random");
}
