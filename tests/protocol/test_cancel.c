/* SPDX-License-Identifier: Apache-2.0 */
/* A relying party that no longer waits: SessionCancel makes a pending
 * session CANCELLED; a session that ended keeps its state; an unknown id is
 * an error; cancelling again changes nothing.  The device is not offered a
 * cancelled session, and its approval or refusal of one (fetched before the
 * cancel) is answered as for an expired session: the key stays ACTIVE, no
 * attempt is counted, nothing is signed, and the next honest request signs
 * (no clone verdict).  The same for a session whose relying party the
 * service found gone (sk_server_input.session_abandoned), and for a cancel
 * that comes between an approval's charge and its check. */
#include <string.h>

#include "fixture.h"
#include "protocol/server/server_internal.h"
#include "splitkey.pb-c.h"
#include "splitkey/rp.h"
#include "world.h"

static uint8_t msg[SK_MAX_MESSAGE_LEN], reply[SK_MAX_MESSAGE_LEN];

/* The device approves s; returns what reading the answer gives. */
static int approve(world *w, sk_device_key *key, const sk_device_session *s, sk_key_status *st)
{
    uint8_t sig[SK_MAX_SIG_LEN];
    size_t len = 0, rlen = 0, sig_len = 0;
    CHECK_OK(sk_device_approve(key, msg, sizeof msg, &len, w->now, s, (const uint8_t *)PIN_SIGN,
                               strlen(PIN_SIGN)));
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    return sk_device_read_signature(key, sig, sizeof sig, &sig_len, st, reply, rlen);
}

/* A fresh session from the relying party, approved and verified: the key
 * works and the device is in step with the server (no clone verdict). */
static void signs_fine(world *w, sk_device_key *key)
{
    uint8_t sid[SK_SESSION_ID_LEN], digest[32] = {0x42}, sig[SK_MAX_SIG_LEN],
        rp_sig[SK_MAX_SIG_LEN];
    size_t sig_len = 0, rp_len = 0;
    sk_key_status st;
    CHECK_OK(world_rp_create(w, key, digest, SK_HASH_SHA256, SK_SCHEME_PSS, sid, NULL));
    CHECK_OK(world_approve(w, key, PIN_SIGN, sig, &sig_len, &st));
    CHECK(w->status == SK_OK);
    CHECK(mbedtls_check(key, SK_SCHEME_PSS, SK_HASH_SHA256, digest, sig, sig_len) == 0);
    CHECK_OK(world_rp_poll(w, sid, rp_sig, &rp_len));
    CHECK(rp_len == sig_len && memcmp(rp_sig, sig, sig_len) == 0);
    CHECK(fixture_status(w, key).state == SK_KEY_ACTIVE);
    CHECK(fixture_status(w, key).attempts_left == w->policy.lock1_failures);
}

/* Cancel of a pending session; the device is not offered it, and its
 * approval or refusal of it (fetched before) finds it gone. */
static void test_cancel_pending(void)
{
    sk_device_key *key = NULL;
    world *w = fixture_new(&key);
    uint8_t sid[SK_SESSION_ID_LEN], digest[32] = {7};
    sk_key_status st;
    if (key == NULL)
        goto out;

    CHECK_OK(world_rp_create(w, key, digest, SK_HASH_SHA256, SK_SCHEME_PSS, sid, NULL));
    CHECK_RC(SK_ERR_PENDING, world_rp_poll(w, sid, NULL, NULL));
    sk_device_session *s = fixture_fetch(w, key); /* the device saw it before the cancel */
    CHECK(s != NULL);
    if (s == NULL)
        goto out;

    /* pending -> cancelled, stored with the next version */
    CHECK_RC(SK_ERR_SESSION_CANCELLED, world_rp_cancel(w, sid, NULL, NULL));
    CHECK(w->stored_session && !w->stored_key);
    CHECK_RC(SK_ERR_SESSION_CANCELLED, w->status);
    CHECK_RC(SK_ERR_SESSION_CANCELLED, world_rp_poll(w, sid, NULL, NULL));
    CHECK(!w->stored_session);
    /* again: the same answer, nothing stored (idempotent) */
    CHECK_RC(SK_ERR_SESSION_CANCELLED, world_rp_cancel(w, sid, NULL, NULL));
    CHECK(!w->stored_session && !w->stored_key);

    /* not offered: neither as the oldest session nor in a list */
    sk_device_session *none = fixture_fetch(w, key);
    CHECK(none == NULL);
    sk_device_session_free(none);
    w->fetch_as_list = true;
    none = fixture_fetch(w, key);
    CHECK(none == NULL);
    sk_device_session_free(none);
    w->fetch_as_list = false;

    /* the approval of the session fetched earlier: gone, as if expired; no
     * attempt counted, nothing computed, the key as it was but its OTP */
    size_t before_len = fixture_snapshot(w, key);
    unsigned long completions = atomic_load(&sk_server_completions);
    CHECK_RC(SK_ERR_SESSION_EXPIRED, approve(w, key, s, &st));
    CHECK(atomic_load(&sk_server_completions) == completions);
    CHECK(w->charges == 0);
    CHECK(!w->stored_session);
    CHECK(fixture_only_otp_moved(w, key, before_len));
    CHECK(fixture_status(w, key).state == SK_KEY_ACTIVE);
    CHECK(fixture_status(w, key).attempts_left == w->policy.lock1_failures);
    CHECK(sk_device_key_state(key) == SK_KEY_ACTIVE);
    CHECK(!sk_device_key_has_pending(key));
    CHECK_RC(SK_ERR_SESSION_CANCELLED, world_rp_poll(w, sid, NULL, NULL));

    /* a refusal of it: gone as well, and the relying party still reads
     * cancelled (not refused) */
    size_t len = 0, rlen = 0;
    CHECK_OK(sk_device_refuse(key, msg, sizeof msg, &len, w->now, s));
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK_RC(SK_ERR_SESSION_EXPIRED, sk_device_read_reply(key, &st, reply, rlen));
    CHECK_RC(SK_ERR_SESSION_CANCELLED, world_rp_poll(w, sid, NULL, NULL));
    sk_device_session_free(s);

    /* the next honest request: no clone, the key signs */
    signs_fine(w, key);
out:
    sk_device_key_free(key);
    world_free(w);
}

/* A session that ended keeps its state; an unknown id is an error; a
 * device-created session cannot be cancelled by a relying party. */
static void test_cancel_finished(void)
{
    sk_device_key *key = NULL;
    world *w = fixture_new(&key);
    uint8_t sid[SK_SESSION_ID_LEN], digest[32] = {9}, sig[SK_MAX_SIG_LEN],
        got[SK_MAX_SIG_LEN];
    size_t sig_len = 0, got_len = 0, len = 0, rlen = 0;
    sk_key_status st;
    if (key == NULL)
        goto out;

    /* signed: still signed, and the answer carries the signature */
    CHECK_OK(world_rp_create(w, key, digest, SK_HASH_SHA256, SK_SCHEME_PKCS1, sid, NULL));
    CHECK_OK(world_approve(w, key, PIN_SIGN, sig, &sig_len, &st));
    CHECK_OK(world_rp_cancel(w, sid, got, &got_len));
    CHECK(!w->stored_session && !w->stored_key);
    CHECK(got_len == sig_len && memcmp(got, sig, sig_len) == 0);
    got_len = 0;
    CHECK_OK(world_rp_poll(w, sid, got, &got_len));
    CHECK(got_len == sig_len && memcmp(got, sig, sig_len) == 0);

    /* refused: still refused */
    CHECK_OK(world_rp_create(w, key, digest, SK_HASH_SHA256, SK_SCHEME_PKCS1, sid, NULL));
    sk_device_session *s = fixture_fetch(w, key);
    CHECK(s != NULL);
    if (s != NULL) {
        CHECK_OK(sk_device_refuse(key, msg, sizeof msg, &len, w->now, s));
        CHECK_OK(world_device(w, msg, len, reply, &rlen));
        CHECK_OK(sk_device_read_reply(key, &st, reply, rlen));
    }
    sk_device_session_free(s);
    CHECK_RC(SK_ERR_SESSION_REFUSED, world_rp_cancel(w, sid, NULL, NULL));
    CHECK(!w->stored_session);
    CHECK_RC(SK_ERR_SESSION_REFUSED, world_rp_poll(w, sid, NULL, NULL));

    /* expired (its time is up, nobody touched it yet): expired, stored so */
    CHECK_OK(world_rp_create(w, key, digest, SK_HASH_SHA256, SK_SCHEME_PKCS1, sid, NULL));
    w->now += w->policy.session_seconds;
    CHECK_RC(SK_ERR_SESSION_EXPIRED, world_rp_cancel(w, sid, NULL, NULL));
    CHECK(w->stored_session);
    CHECK_RC(SK_ERR_SESSION_EXPIRED, world_rp_cancel(w, sid, NULL, NULL));
    CHECK(!w->stored_session);

    /* an unknown session id: an error, nothing stored */
    uint8_t unknown[SK_SESSION_ID_LEN];
    memset(unknown, 0xA5, sizeof unknown);
    CHECK_RC(SK_ERR_SESSION_UNKNOWN, world_rp_cancel(w, unknown, NULL, NULL));
    CHECK(!w->stored_session && !w->stored_key);
    CHECK_RC(SK_ERR_SESSION_UNKNOWN, w->status);

    /* a malformed id: refused by the builder, and by the server */
    uint8_t req[64];
    size_t req_len = 0;
    CHECK_RC(SK_ERR_ARG, sk_rp_cancel_request(req, sizeof req, &req_len, unknown, 15));
    Splitkey__RpRequest r = SPLITKEY__RP_REQUEST__INIT;
    Splitkey__SessionCancel c = SPLITKEY__SESSION_CANCEL__INIT;
    c.session_id.data = unknown;
    c.session_id.len = 15;
    r.req_case = SPLITKEY__RP_REQUEST__REQ_CANCEL;
    r.cancel = &c;
    req_len = protobuf_c_message_pack(&r.base, req);
    sk_route_info info;
    CHECK_RC(SK_ERR_LIMIT, sk_server_peek_rp(&info, req, req_len));
    CHECK_OK(world_rp(w, req, req_len, reply, &rlen));
    CHECK_RC(SK_ERR_LIMIT, w->status);
    CHECK(!w->stored_session);

    /* the route of a cancel: load the session */
    CHECK_OK(sk_rp_cancel_request(req, sizeof req, &req_len, sid, sizeof sid));
    CHECK_OK(sk_server_peek_rp(&info, req, req_len));
    CHECK(info.kind == SK_ROUTE_RP_CANCEL && info.has_session_id &&
          memcmp(info.session_id, sid, sizeof sid) == 0 && !info.has_key_id);

    /* a device-created session has no relying party: unknown to a cancel,
     * and the device still signs it */
    sk_device_session *own = NULL;
    uint8_t own_id[SK_SESSION_ID_LEN];
    CHECK_OK(sk_device_session_create(key, msg, sizeof msg, &len, w->now, digest, sizeof digest,
                                      SK_HASH_SHA256, SK_SCHEME_PKCS1, "Local"));
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK_OK(sk_device_read_session(key, &own, &st, reply, rlen));
    if (own != NULL) {
        CHECK_OK(sk_device_session_id(own, own_id, sizeof own_id));
        CHECK_RC(SK_ERR_SESSION_UNKNOWN, world_rp_cancel(w, own_id, NULL, NULL));
        CHECK(!w->stored_session);
        CHECK_OK(approve(w, key, own, &st));
    }
    sk_device_session_free(own);
    signs_fine(w, key);
out:
    sk_device_key_free(key);
    world_free(w);
}

/* The service's idle rule: the relying party of the routed session stopped
 * polling.  Whatever touches the session stores it CANCELLED; the device is
 * answered as for an expired session. */
static void test_abandoned(void)
{
    sk_device_key *key = NULL;
    world *w = fixture_new(&key);
    uint8_t sid[SK_SESSION_ID_LEN], digest[32] = {3};
    sk_key_status st;
    if (key == NULL)
        goto out;

    /* an approval touches it first */
    CHECK_OK(world_rp_create(w, key, digest, SK_HASH_SHA256, SK_SCHEME_PSS, sid, NULL));
    sk_device_session *s = fixture_fetch(w, key);
    CHECK(s != NULL);
    if (s == NULL)
        goto out;
    size_t before_len = fixture_snapshot(w, key);
    unsigned long completions = atomic_load(&sk_server_completions);
    w->session_abandoned = true;
    CHECK_RC(SK_ERR_SESSION_EXPIRED, approve(w, key, s, &st));
    w->session_abandoned = false;
    CHECK(w->stored_session); /* CANCELLED, with the key's new OTP */
    CHECK(atomic_load(&sk_server_completions) == completions);
    CHECK(w->charges == 0);
    CHECK(fixture_only_otp_moved(w, key, before_len));
    CHECK(fixture_status(w, key).attempts_left == w->policy.lock1_failures);
    CHECK_RC(SK_ERR_SESSION_CANCELLED, world_rp_poll(w, sid, NULL, NULL));
    sk_device_session_free(s);
    signs_fine(w, key);

    /* a poll touches it first */
    CHECK_OK(world_rp_create(w, key, digest, SK_HASH_SHA256, SK_SCHEME_PSS, sid, NULL));
    w->session_abandoned = true;
    CHECK_RC(SK_ERR_SESSION_CANCELLED, world_rp_poll(w, sid, NULL, NULL));
    CHECK(w->stored_session);
    w->session_abandoned = false;
    CHECK_RC(SK_ERR_SESSION_CANCELLED, world_rp_poll(w, sid, NULL, NULL));
    sk_device_session *none = fixture_fetch(w, key);
    CHECK(none == NULL);
    sk_device_session_free(none);

    /* an expired session stays expired; a device-created one is never
     * abandoned (it has no relying party) */
    CHECK_OK(world_rp_create(w, key, digest, SK_HASH_SHA256, SK_SCHEME_PSS, sid, NULL));
    w->now += w->policy.session_seconds;
    w->session_abandoned = true;
    CHECK_RC(SK_ERR_SESSION_EXPIRED, world_rp_poll(w, sid, NULL, NULL));
    size_t len = 0, rlen = 0;
    sk_device_session *own = NULL;
    CHECK_OK(sk_device_session_create(key, msg, sizeof msg, &len, w->now, digest, sizeof digest,
                                      SK_HASH_SHA256, SK_SCHEME_PSS, "Local"));
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK_OK(sk_device_read_session(key, &own, &st, reply, rlen));
    if (own != NULL)
        CHECK_OK(approve(w, key, own, &st));
    sk_device_session_free(own);
    w->session_abandoned = false;
    signs_fine(w, key);
out:
    sk_device_key_free(key);
    world_free(w);
}

/* The cancel comes between an approval's charge (stored) and its check:
 * the check finds the session gone, the charge goes back, and the device's
 * resend of the same request is answered as for an expired session. */
static void test_cancel_after_charge(void)
{
    sk_device_key *key = NULL;
    world *w = fixture_new(&key);
    uint8_t sid[SK_SESSION_ID_LEN], digest[32] = {5}, sig[SK_MAX_SIG_LEN];
    size_t len = 0, rlen = 0, sig_len = 0;
    sk_key_status st;
    if (key == NULL)
        goto out;
    CHECK_OK(world_rp_create(w, key, digest, SK_HASH_SHA256, SK_SCHEME_PSS, sid, NULL));
    sk_device_session *s = fixture_fetch(w, key);
    CHECK(s != NULL);
    if (s == NULL)
        goto out;
    w->stop_after_charge = true; /* the server stops after storing the charge */
    CHECK_OK(sk_device_approve(key, msg, sizeof msg, &len, w->now, s, (const uint8_t *)PIN_SIGN,
                               strlen(PIN_SIGN)));
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK(w->charges == 1);
    CHECK(fixture_status(w, key).attempts_left == w->policy.lock1_failures - 1);
    sk_device_session_free(s);
    w->stop_after_charge = false;

    CHECK_RC(SK_ERR_SESSION_CANCELLED, world_rp_cancel(w, sid, NULL, NULL));

    unsigned long completions = atomic_load(&sk_server_completions);
    CHECK_OK(sk_device_retry(key, msg, sizeof msg, &len, w->now, (const uint8_t *)PIN_SIGN,
                             strlen(PIN_SIGN)));
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK_RC(SK_ERR_SESSION_EXPIRED,
             sk_device_read_signature(key, sig, sizeof sig, &sig_len, &st, reply, rlen));
    CHECK(atomic_load(&sk_server_completions) == completions);
    CHECK(fixture_status(w, key).state == SK_KEY_ACTIVE);
    CHECK(fixture_status(w, key).attempts_left == w->policy.lock1_failures);
    CHECK_RC(SK_ERR_SESSION_CANCELLED, world_rp_poll(w, sid, NULL, NULL));
    signs_fine(w, key);
out:
    sk_device_key_free(key);
    world_free(w);
}

int main(void)
{
    sk_test_init();
    test_cancel_pending();
    test_cancel_finished();
    test_abandoned();
    test_cancel_after_charge();
    return sk_test_done("protocol_cancel");
}
