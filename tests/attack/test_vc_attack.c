/* SPDX-License-Identifier: Apache-2.0 */
/* Attacks on the verification-code choice (doc/security.md, "Verification-
 * code choice"), against the server role as the share server runs it
 * (world.c).  The attacker controls the device's software: it skips the
 * library's checks and writes the SignSubmit it likes.  Each attack must
 * fail: no signature without the relying party's code, one pick per
 * session, no PIN attempt spent and no PIN check run on a wrong pick. */
#include <string.h>

#include "fixture.h"
#include "protocol/device/device_internal.h"
#include "protocol/server/server_internal.h"
#include "splitkey/rp.h"
#include "world.h"

static uint8_t msg[SK_MAX_MESSAGE_LEN], reply[SK_MAX_MESSAGE_LEN];

static void vc_session(world *w, const sk_device_key *key, uint8_t tag, uint8_t *sid, char *code)
{
    uint8_t kid[SK_KEY_ID_LEN], digest[32], req[512];
    size_t req_len = 0, rlen = 0;
    memset(digest, tag, sizeof digest);
    CHECK_OK(sk_device_key_id(key, kid, sizeof kid));
    sk_rp_create c = {.key_id = kid,
                      .purpose = sk_device_key_purpose(key),
                      .digest = digest,
                      .hash = SK_HASH_SHA256,
                      .scheme = SK_SCHEME_PKCS1,
                      .display_text = "Log in"};
    sk_rp_create_ext ext = {.interaction = SK_INTERACTION_VC_CHOICE};
    CHECK_OK(sk_rp_create_request_ext(req, sizeof req, &req_len, &c, &ext));
    CHECK_OK(world_rp(w, req, req_len, reply, &rlen));
    sk_rp_created cr;
    CHECK_OK(sk_rp_read_created(&cr, NULL, reply, rlen));
    memcpy(sid, cr.session_id, SK_SESSION_ID_LEN);
    memcpy(code, cr.code, 5);
}

static sk_session_state rp_state(world *w, const uint8_t *sid)
{
    uint8_t req[128];
    size_t req_len = 0, rlen = 0;
    sk_rp_result res;
    CHECK_OK(sk_rp_poll_request(req, sizeof req, &req_len, sid, SK_SESSION_ID_LEN));
    CHECK_OK(world_rp(w, req, req_len, reply, &rlen));
    int rc = sk_rp_read_result(&res, NULL, reply, rlen);
    CHECK_OK(rc);
    return rc == SK_OK ? res.state : (sk_session_state)0;
}

static sk_device_session *fetch(world *w, sk_device_key *key)
{
    size_t len = 0, rlen = 0;
    sk_device_session *s = NULL;
    CHECK_OK(sk_device_fetch(key, msg, sizeof msg, &len, w->now));
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    int rc = sk_device_read_session(key, &s, NULL, reply, rlen);
    CHECK(rc == SK_OK || rc == SK_ERR_NOT_FOUND);
    return s;
}

/* Sends the approval a tampered device makes: pick as given (NULL: none),
 * whatever the session offers.  Returns what reading the answer gives. */
static int forged_approve(world *w, sk_device_key *key, sk_device_session *s, const char *pick)
{
    uint8_t sig[SK_MAX_SIG_LEN];
    size_t len = 0, rlen = 0, sig_len = 0;
    sk_device_session fake = *s;
    /* the library's own check is what the attacker removes: the session
     * looks like a plain one to it, and the pick goes out as written */
    fake.interaction = SK_INTERACTION_DISPLAY_TEXT_AND_PIN;
    fake.n_vc_choices = 0;
    CHECK_OK(sk_device_approve(key, msg, sizeof msg, &len, w->now, &fake,
                               (const uint8_t *)PIN_SIGN, strlen(PIN_SIGN)));
    if (pick != NULL) {
        snprintf(key->pending_vc_chosen, sizeof key->pending_vc_chosen, "%s", pick);
        CHECK_OK(sk_device_retry(key, msg, sizeof msg, &len, w->now, (const uint8_t *)PIN_SIGN,
                                 strlen(PIN_SIGN)));
    }
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    return sk_device_read_signature(key, sig, sizeof sig, &sig_len, NULL, reply, rlen);
}

/* An approval without any pick: refused, nothing changes (the session
 * still waits, no attempt, no PIN check), so the person can still answer. */
static void attack_no_pick(void)
{
    world *w = world_new();
    sk_device_key *key = NULL;
    uint8_t sid[SK_SESSION_ID_LEN];
    char code[5];
    CHECK_OK(world_enrol(w, &key, SK_PROFILE_4K, SK_PURPOSE_SIGN, PIN_SIGN, NULL, true));
    if (key == NULL)
        goto out;
    vc_session(w, key, 1, sid, code);
    sk_device_session *s = fetch(w, key);
    CHECK(s != NULL);
    if (s == NULL)
        goto out;
    unsigned long checks = atomic_load(&sk_server_completions);
    uint32_t attempts = fixture_status(w, key).attempts_left;
    CHECK_RC(SK_ERR_PROTO_STATE, forged_approve(w, key, s, NULL));
    CHECK(atomic_load(&sk_server_completions) == checks);
    CHECK(fixture_status(w, key).attempts_left == attempts);
    CHECK(rp_state(w, sid) == SK_SESSION_PENDING);
    /* a code never offered: the session ends, still without a PIN check */
    CHECK_RC(SK_ERR_WRONG_VC, forged_approve(w, key, s, "abcd"));
    CHECK(rp_state(w, sid) == SK_SESSION_WRONG_VC);
    CHECK(atomic_load(&sk_server_completions) == checks);
    CHECK(fixture_status(w, key).attempts_left == attempts);
    sk_device_session_free(s);
out:
    sk_device_key_free(key);
    world_free(w);
}

/* Guessing: every code of the session, one after the other (and the
 * right one resent under the wrong pick's request id).  The first wrong
 * pick ends the session; nothing after it signs, no PIN check runs and no
 * attempt is spent.  Over many sessions a blind guesser wins about one in
 * three, each costing the relying party a new session. */
static void attack_guess_all(void)
{
    world *w = world_new();
    sk_device_key *key = NULL;
    uint8_t sid[SK_SESSION_ID_LEN];
    char code[5];
    CHECK_OK(world_enrol(w, &key, SK_PROFILE_4K, SK_PURPOSE_SIGN, PIN_SIGN, NULL, true));
    if (key == NULL)
        goto out;
    uint32_t attempts = fixture_status(w, key).attempts_left;
    int signed_ = 0, sessions = 12;
    for (int n = 0; n < sessions; n++) {
        vc_session(w, key, (uint8_t)(0x10 + n), sid, code);
        sk_device_session *s = fetch(w, key);
        CHECK(s != NULL);
        if (s == NULL)
            break;
        /* a wrong code first, its request resent with the right code */
        const char *bad = NULL;
        for (size_t i = 0; i < SK_VC_CHOICES && bad == NULL; i++)
            if (strcmp(s->vc_choices[i], code) != 0)
                bad = s->vc_choices[i];
        size_t len = 0, rlen = 0, sig_len = 0;
        uint8_t sig[SK_MAX_SIG_LEN];
        unsigned long checks = atomic_load(&sk_server_completions);
        CHECK_OK(sk_device_approve_choice(key, msg, sizeof msg, &len, w->now, s,
                                          (const uint8_t *)PIN_SIGN, strlen(PIN_SIGN), bad, 0));
        CHECK_OK(world_device(w, msg, len, reply, &rlen));
        memcpy(key->pending_vc_chosen, code, sizeof key->pending_vc_chosen);
        CHECK_OK(sk_device_retry(key, msg, sizeof msg, &len, w->now, (const uint8_t *)PIN_SIGN,
                                 strlen(PIN_SIGN)));
        CHECK_OK(world_device(w, msg, len, reply, &rlen));
        int rc = sk_device_read_signature(key, sig, sizeof sig, &sig_len, NULL, reply, rlen);
        CHECK_RC(SK_ERR_WRONG_VC, rc);
        signed_ += rc == SK_OK;
        /* then every code under new requests */
        for (size_t i = 0; i < SK_VC_CHOICES; i++) {
            rc = forged_approve(w, key, s, s->vc_choices[i]);
            CHECK_RC(SK_ERR_WRONG_VC, rc);
            signed_ += rc == SK_OK;
        }
        CHECK(atomic_load(&sk_server_completions) == checks);
        CHECK(rp_state(w, sid) == SK_SESSION_WRONG_VC);
        sk_device_session_free(s);
    }
    CHECK(signed_ == 0);
    CHECK(fixture_status(w, key).attempts_left == attempts);
    CHECK(fixture_status(w, key).state == SK_KEY_ACTIVE);
out:
    sk_device_key_free(key);
    world_free(w);
}

int main(void)
{
    sk_test_init();
    attack_no_pick();
    attack_guess_all();
    return sk_test_done("attack_vc");
}
