/* SPDX-License-Identifier: Apache-2.0 */
/* Certificate levels, interactions and verification-code choice
 * (doc/protocol.md): a key's level is fixed at enrolment (QUALIFIED with a
 * token, ADVANCED openly) and a QUALIFIED request on an ADVANCED key makes
 * no session; the display text is checked per interaction in characters;
 * a VC-choice session offers three distinct codes, the right one among
 * them, the same on every fetch; the right pick signs, a wrong one ends the
 * session WRONG_VC with no PIN attempt counted and the same answer on a
 * resend; a confirmation message needs the explicit confirmation; a
 * refusal says where. */
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "protocol/server/server_internal.h"
#include "splitkey.pb-c.h"
#include "splitkey/rp.h"
#include "world.h"

static uint8_t msg[SK_MAX_MESSAGE_LEN], reply[SK_MAX_MESSAGE_LEN];

static sk_cert_level server_level(world *w, const sk_device_key *key)
{
    uint8_t kid[SK_KEY_ID_LEN];
    fixture_key_id(key, kid);
    sk_key_rec *r = world_key_record(w, kid);
    sk_cert_level l = r != NULL ? sk_key_rec_level(r) : SK_CERT_LEVEL_NONE;
    sk_key_rec_free(r);
    return l;
}

/* A relying party's create with a level and an interaction. */
static int rp_create(world *w, const sk_device_key *key, const uint8_t *digest, sk_cert_level lvl,
                     sk_interaction in, const char *text, uint8_t *sid, char *code)
{
    uint8_t kid[SK_KEY_ID_LEN], req[2048];
    size_t req_len = 0, rlen = 0;
    fixture_key_id(key, kid);
    sk_rp_create c = {.key_id = kid,
                      .purpose = sk_device_key_purpose(key),
                      .digest = digest,
                      .hash = SK_HASH_SHA256,
                      .scheme = SK_SCHEME_PSS,
                      .display_text = text,
                      .rp_name = "Bank"};
    sk_rp_create_ext ext = {.certificate_level = lvl, .interaction = in};
    int rc = sk_rp_create_request_ext(req, sizeof req, &req_len, &c, &ext);
    if (rc != SK_OK)
        return rc;
    rc = world_rp(w, req, req_len, reply, &rlen);
    if (rc != SK_OK)
        return rc;
    sk_rp_created cr;
    rc = sk_rp_read_created(&cr, NULL, reply, rlen);
    if (rc == SK_OK) {
        memcpy(sid, cr.session_id, SK_SESSION_ID_LEN);
        if (code != NULL)
            memcpy(code, cr.code, 5);
    }
    return rc;
}

static int rp_poll(world *w, const uint8_t *sid, sk_rp_result *res, sk_rp_result_ext *ext)
{
    uint8_t req[256];
    size_t req_len = 0, rlen = 0;
    CHECK_OK(sk_rp_poll_request(req, sizeof req, &req_len, sid, SK_SESSION_ID_LEN));
    CHECK_OK(world_rp(w, req, req_len, reply, &rlen));
    return sk_rp_read_result_ext(res, ext, NULL, reply, rlen);
}

static int approve(world *w, sk_device_key *key, const sk_device_session *s, const char *vc,
                   int confirmed, uint8_t *sig, size_t *sig_len, sk_key_status *st)
{
    size_t len = 0, rlen = 0;
    int rc = sk_device_approve_choice(key, msg, sizeof msg, &len, w->now, s,
                                      (const uint8_t *)PIN_SIGN, strlen(PIN_SIGN), vc, confirmed);
    if (rc != SK_OK)
        return rc;
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    return sk_device_read_signature(key, sig, SK_MAX_SIG_LEN, sig_len, st, reply, rlen);
}

/* A code of the choices that is not the right one. */
static const char *decoy(const sk_device_session *s, const char *right)
{
    for (size_t i = 0; i < SK_VC_CHOICES; i++) {
        const char *c = sk_device_session_vc_choice(s, i);
        if (c != NULL && strcmp(c, right) != 0)
            return c;
    }
    return NULL;
}

static void test_levels(void)
{
    sk_device_key *open_key = NULL, *q_key = NULL;
    world *w = fixture_new(&open_key);
    uint8_t sid[SK_SESSION_ID_LEN], digest[32] = {1};
    char token[SK_MAX_TOKEN_LEN + 1];
    size_t tlen = 0;
    CHECK_OK(sk_server_token_mint(w->id, token, sizeof token, &tlen,
                                  "C=LV,GN=JANIS,SN=OZOLS,serialNumber=PNOLV-020202-22222",
                                  SK_PURPOSE_SIGN, w->now + 3600, NULL, NULL));
    CHECK_OK(world_enrol(w, &q_key, SK_PROFILE_4K, SK_PURPOSE_SIGN, PIN_SIGN, token, true));
    if (open_key == NULL || q_key == NULL)
        goto out;
    CHECK(server_level(w, open_key) == SK_CERT_LEVEL_ADVANCED);
    CHECK(server_level(w, q_key) == SK_CERT_LEVEL_QUALIFIED);

    /* QUALIFIED on an ADVANCED key: refused, nothing created. */
    int n0 = w->nsessions;
    CHECK_RC(SK_ERR_LEVEL, rp_create(w, open_key, digest, SK_CERT_LEVEL_QUALIFIED,
                                     SK_INTERACTION_DISPLAY_TEXT_AND_PIN, "Pay", sid, NULL));
    CHECK(w->nsessions == n0 && !w->stored_session);
    /* ADVANCED or NONE: both keys; QUALIFIED: the qualified key. */
    CHECK_OK(rp_create(w, open_key, digest, SK_CERT_LEVEL_ADVANCED, SK_INTERACTION_NONE, "Pay",
                       sid, NULL));
    CHECK_OK(rp_create(w, open_key, digest, SK_CERT_LEVEL_NONE, SK_INTERACTION_NONE, "Pay", sid,
                       NULL));
    CHECK_OK(rp_create(w, q_key, digest, SK_CERT_LEVEL_ADVANCED, SK_INTERACTION_NONE, "Pay", sid,
                       NULL));
    CHECK_OK(rp_create(w, q_key, digest, SK_CERT_LEVEL_QUALIFIED,
                       SK_INTERACTION_DISPLAY_TEXT_AND_PIN, "Pay", sid, NULL));
    CHECK(w->nsessions == n0 + 4);
    /* The result and the key state carry the level. */
    sk_rp_result res;
    sk_rp_result_ext ext;
    CHECK_OK(rp_poll(w, sid, &res, &ext));
    CHECK(res.state == SK_SESSION_PENDING && ext.certificate_level == SK_CERT_LEVEL_QUALIFIED &&
          ext.interaction_used == SK_INTERACTION_DISPLAY_TEXT_AND_PIN);
    uint8_t kid[SK_KEY_ID_LEN], req[256];
    size_t req_len = 0, rlen = 0;
    sk_key_status st;
    sk_cert_level lvl = SK_CERT_LEVEL_NONE;
    fixture_key_id(open_key, kid);
    CHECK_OK(sk_rp_key_state_request(req, sizeof req, &req_len, kid, sizeof kid));
    CHECK_OK(world_rp(w, req, req_len, reply, &rlen));
    CHECK_OK(sk_rp_read_key_state_level(&st, &lvl, reply, rlen));
    CHECK(lvl == SK_CERT_LEVEL_ADVANCED && st.state == SK_KEY_ACTIVE);
    /* A level outside the enum is malformed. */
    Splitkey__RpRequest r = SPLITKEY__RP_REQUEST__INIT;
    Splitkey__SessionCreate c = SPLITKEY__SESSION_CREATE__INIT;
    c.key_id.data = kid;
    c.key_id.len = sizeof kid;
    c.purpose = SPLITKEY__PURPOSE__PURPOSE_SIGN;
    c.digest.data = digest;
    c.digest.len = 32;
    c.hash = SK_HASH_SHA256;
    c.scheme = SK_SCHEME_PSS;
    c.certificate_level = (Splitkey__CertLevel)3;
    r.req_case = SPLITKEY__RP_REQUEST__REQ_CREATE;
    r.create = &c;
    req_len = protobuf_c_message_pack(&r.base, req);
    CHECK_OK(world_rp(w, req, req_len, reply, &rlen));
    CHECK(w->status == SK_ERR_PROTO_DECODE && w->nsessions == n0 + 4);
out:
    sk_device_key_free(open_key);
    sk_device_key_free(q_key);
    world_free(w);
}

static void test_display_text(void)
{
    sk_device_key *key = NULL;
    world *w = fixture_new(&key);
    uint8_t sid[SK_SESSION_ID_LEN], digest[32] = {2};
    char text[SK_MAX_DISPLAY_TEXT_LEN + 8];
    if (key == NULL)
        goto out;
    int n0 = w->nsessions;
    memset(text, 'a', 61);
    text[61] = '\0';
    CHECK_RC(SK_ERR_LIMIT, rp_create(w, key, digest, SK_CERT_LEVEL_NONE,
                                     SK_INTERACTION_DISPLAY_TEXT_AND_PIN, text, sid, NULL));
    CHECK_RC(SK_ERR_LIMIT, rp_create(w, key, digest, SK_CERT_LEVEL_NONE, SK_INTERACTION_VC_CHOICE,
                                     text, sid, NULL));
    CHECK(w->nsessions == n0);
    text[60] = '\0';
    CHECK_OK(rp_create(w, key, digest, SK_CERT_LEVEL_NONE, SK_INTERACTION_DISPLAY_TEXT_AND_PIN,
                       text, sid, NULL));
    /* Characters, not bytes: 60 two-byte letters pass, 61 do not. */
    for (int i = 0; i < 61; i++)
        memcpy(text + 2 * i, "\xc4\x81", 2); /* U+0101 */
    text[122] = '\0';
    CHECK_RC(SK_ERR_LIMIT, rp_create(w, key, digest, SK_CERT_LEVEL_NONE,
                                     SK_INTERACTION_DISPLAY_TEXT_AND_PIN, text, sid, NULL));
    text[120] = '\0';
    CHECK_OK(rp_create(w, key, digest, SK_CERT_LEVEL_NONE, SK_INTERACTION_DISPLAY_TEXT_AND_PIN,
                       text, sid, NULL));
    /* A confirmation message: 200 characters. */
    memset(text, 'b', 201);
    text[201] = '\0';
    CHECK_RC(SK_ERR_LIMIT, rp_create(w, key, digest, SK_CERT_LEVEL_NONE,
                                     SK_INTERACTION_CONFIRMATION_MESSAGE, text, sid, NULL));
    CHECK_RC(SK_ERR_LIMIT, rp_create(w, key, digest, SK_CERT_LEVEL_NONE,
                                     SK_INTERACTION_CONFIRMATION_AND_VC_CHOICE, text, sid, NULL));
    text[200] = '\0';
    CHECK_OK(rp_create(w, key, digest, SK_CERT_LEVEL_NONE, SK_INTERACTION_CONFIRMATION_MESSAGE,
                       text, sid, NULL));
    /* 200 characters of four bytes each (U+1F58A) fit, 201 do not. */
    for (int i = 0; i < 201; i++)
        memcpy(text + 4 * i, "\xf0\x9f\x96\x8a", 4);
    text[800] = '\0';
    CHECK_OK(rp_create(w, key, digest, SK_CERT_LEVEL_NONE,
                       SK_INTERACTION_CONFIRMATION_AND_VC_CHOICE, text, sid, NULL));
    memcpy(text + 800, "\xf0\x9f\x96\x8a", 4);
    text[804] = '\0';
    CHECK_RC(SK_ERR_LIMIT, rp_create(w, key, digest, SK_CERT_LEVEL_NONE,
                                     SK_INTERACTION_CONFIRMATION_MESSAGE, text, sid, NULL));
    /* 201 two-byte characters: within the bytes, over the characters */
    for (int i = 0; i < 201; i++)
        memcpy(text + 2 * i, "\xc4\x81", 2);
    text[402] = '\0';
    CHECK_RC(SK_ERR_LIMIT, rp_create(w, key, digest, SK_CERT_LEVEL_NONE,
                                     SK_INTERACTION_CONFIRMATION_MESSAGE, text, sid, NULL));
    CHECK(w->nsessions == n0 + 4);
out:
    sk_device_key_free(key);
    world_free(w);
}

static void test_vc_choice(void)
{
    sk_device_key *key = NULL;
    world *w = fixture_new(&key);
    uint8_t sid[SK_SESSION_ID_LEN], digest[32] = {3}, sig[SK_MAX_SIG_LEN];
    size_t sig_len = 0;
    char code[5] = "", own[5] = "";
    sk_key_status st;
    if (key == NULL)
        goto out;
    CHECK_OK(rp_create(w, key, digest, SK_CERT_LEVEL_ADVANCED, SK_INTERACTION_VC_CHOICE, "Pay 5",
                       sid, code));
    /* The relying party's code is the v2 one of the digest. */
    CHECK_OK(sk_verification_code(own, sizeof own, digest, sizeof digest));
    CHECK(strcmp(own, code) == 0);
    sk_device_session *s = fixture_fetch(w, key);
    CHECK(s != NULL);
    if (s == NULL)
        goto out;
    CHECK(sk_device_session_interaction(s) == SK_INTERACTION_VC_CHOICE);
    CHECK(strcmp(sk_device_session_code(s), "") == 0); /* not shown: the person picks */
    char seen[SK_VC_CHOICES][5];
    int right = 0;
    for (size_t i = 0; i < SK_VC_CHOICES; i++) {
        const char *c = sk_device_session_vc_choice(s, i);
        CHECK(c != NULL && strlen(c) == 4);
        if (c == NULL)
            goto out_s;
        memcpy(seen[i], c, 5);
        right += strcmp(c, code) == 0;
        for (size_t j = 0; j < i; j++)
            CHECK(strcmp(seen[j], c) != 0);
    }
    CHECK(right == 1);
    CHECK(sk_device_session_vc_choice(s, 3) == NULL);
    /* Another fetch: the same three in the same order. */
    sk_device_session *again = fixture_fetch(w, key);
    CHECK(again != NULL);
    for (size_t i = 0; again != NULL && i < SK_VC_CHOICES; i++)
        CHECK(strcmp(sk_device_session_vc_choice(again, i), seen[i]) == 0);
    sk_device_session_free(again);
    /* Without a pick, or a code not offered: refused before anything is sent. */
    size_t len = 0;
    CHECK_RC(SK_ERR_ARG, sk_device_approve(key, msg, sizeof msg, &len, w->now, s,
                                           (const uint8_t *)PIN_SIGN, strlen(PIN_SIGN)));
    CHECK(len == 0 && !sk_device_key_has_pending(key));
    char other[5];
    for (unsigned v = 0; v < 10000; v++) {
        snprintf(other, sizeof other, "%04u", v);
        if (strcmp(other, seen[0]) && strcmp(other, seen[1]) && strcmp(other, seen[2]))
            break;
    }
    CHECK_RC(SK_ERR_ARG, approve(w, key, s, other, 0, sig, &sig_len, &st));
    CHECK(!sk_device_key_has_pending(key));
    /* The right pick signs. */
    CHECK_OK(approve(w, key, s, code, 0, sig, &sig_len, &st));
    CHECK(mbedtls_check(key, SK_SCHEME_PSS, SK_HASH_SHA256, digest, sig, sig_len) == 0);
    sk_rp_result res;
    sk_rp_result_ext ext;
    CHECK_OK(rp_poll(w, sid, &res, &ext));
    CHECK(res.state == SK_SESSION_COMPLETE && res.sig_len == sig_len &&
          memcmp(res.signature, sig, sig_len) == 0);
    CHECK(ext.interaction_used == SK_INTERACTION_VC_CHOICE &&
          ext.certificate_level == SK_CERT_LEVEL_ADVANCED);
out_s:
    sk_device_session_free(s);
out:
    sk_device_key_free(key);
    world_free(w);
}

static void test_wrong_vc(void)
{
    sk_device_key *key = NULL;
    world *w = fixture_new(&key);
    uint8_t sid[SK_SESSION_ID_LEN], digest[32] = {4}, sig[SK_MAX_SIG_LEN];
    size_t sig_len = 0, len = 0, rlen = 0, rlen2 = 0;
    char code[5] = "";
    sk_key_status st;
    static uint8_t reply2[SK_MAX_MESSAGE_LEN], sealed[SK_MAX_MESSAGE_LEN];
    const uint8_t skey[SK_STORAGE_KEY_LEN] = {9};
    if (key == NULL)
        goto out;
    CHECK_OK(rp_create(w, key, digest, SK_CERT_LEVEL_NONE,
                       SK_INTERACTION_CONFIRMATION_AND_VC_CHOICE, "Transfer 100 EUR to X", sid,
                       code));
    sk_device_session *s = fixture_fetch(w, key);
    CHECK(s != NULL);
    if (s == NULL)
        goto out;
    const char *bad = decoy(s, code);
    CHECK(bad != NULL);
    /* Not confirmed: refused locally. */
    CHECK_RC(SK_ERR_ARG, approve(w, key, s, code, 0, sig, &sig_len, &st));
    size_t before = fixture_snapshot(w, key);
    uint32_t attempts = fixture_status(w, key).attempts_left;
    int charges = 0;
    /* A wrong pick, confirmed: the session ends, no attempt counted. */
    CHECK_OK(sk_device_approve_choice(key, msg, sizeof msg, &len, w->now, s,
                                      (const uint8_t *)PIN_SIGN, strlen(PIN_SIGN), bad, 1));
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    charges += w->charges;
    CHECK(w->status == SK_ERR_WRONG_VC);
    /* The reply is lost: the device state is sealed and opened again and the
     * request resent; the answer is the same (the stored reply). */
    size_t sl = 0;
    CHECK_OK(sk_device_key_seal(key, sealed, sizeof sealed, &sl, skey, sizeof skey));
    sk_device_key_free(key);
    key = NULL;
    CHECK_OK(sk_device_key_open(&key, sealed, sl, skey, sizeof skey));
    if (key == NULL)
        goto out_s;
    CHECK_OK(sk_device_retry(key, msg, sizeof msg, &len, w->now, (const uint8_t *)PIN_SIGN,
                             strlen(PIN_SIGN)));
    CHECK_OK(world_device(w, msg, len, reply2, &rlen2));
    charges += w->charges;
    CHECK(w->status == SK_ERR_WRONG_VC);
    CHECK_RC(SK_ERR_WRONG_VC, sk_device_read_signature(key, sig, sizeof sig, &sig_len, &st,
                                                        reply2, rlen2));
    CHECK(charges == 0);
    CHECK(fixture_status(w, key).attempts_left == attempts);
    CHECK(fixture_status(w, key).state == SK_KEY_ACTIVE);
    CHECK(fixture_only_otp_moved(w, key, before));
    sk_rp_result res;
    sk_rp_result_ext ext;
    CHECK_OK(rp_poll(w, sid, &res, &ext));
    CHECK(res.state == SK_SESSION_WRONG_VC && res.sig_len == 0);
    CHECK(ext.interaction_used == SK_INTERACTION_CONFIRMATION_AND_VC_CHOICE);
    /* Over: the right pick now is too late, and it is not offered again. */
    CHECK_RC(SK_ERR_WRONG_VC, approve(w, key, s, code, 1, sig, &sig_len, &st));
    CHECK(fixture_status(w, key).attempts_left == attempts);
    sk_device_session *none = fixture_fetch(w, key);
    CHECK(none == NULL);
    sk_device_session_free(none);
    /* The key still signs a new session. */
    sk_device_session_free(s);
    s = NULL;
    CHECK_OK(rp_create(w, key, digest, SK_CERT_LEVEL_NONE, SK_INTERACTION_VC_CHOICE, "Again", sid,
                       code));
    s = fixture_fetch(w, key);
    CHECK(s != NULL);
    if (s != NULL)
        CHECK_OK(approve(w, key, s, code, 0, sig, &sig_len, &st));
    CHECK(mbedtls_check(key, SK_SCHEME_PSS, SK_HASH_SHA256, digest, sig, sig_len) == 0);
out_s:
    sk_device_session_free(s);
out:
    sk_device_key_free(key);
    world_free(w);
}

static void test_confirmation_and_refusal(void)
{
    sk_device_key *key = NULL;
    world *w = fixture_new(&key);
    uint8_t sid[SK_SESSION_ID_LEN], digest[32] = {5}, sig[SK_MAX_SIG_LEN];
    size_t sig_len = 0, len = 0, rlen = 0;
    sk_key_status st;
    char text[201];
    memset(text, 'c', 200);
    text[200] = '\0';
    if (key == NULL)
        goto out;
    CHECK_OK(rp_create(w, key, digest, SK_CERT_LEVEL_NONE, SK_INTERACTION_CONFIRMATION_MESSAGE,
                       text, sid, NULL));
    sk_device_session *s = fixture_fetch(w, key);
    CHECK(s != NULL);
    if (s == NULL)
        goto out;
    CHECK(sk_device_session_interaction(s) == SK_INTERACTION_CONFIRMATION_MESSAGE);
    CHECK(strcmp(sk_device_session_display_text(s), text) == 0);
    CHECK(strlen(sk_device_session_code(s)) == 4);
    CHECK(sk_device_session_vc_choice(s, 0) == NULL);
    CHECK_RC(SK_ERR_ARG, sk_device_approve(key, msg, sizeof msg, &len, w->now, s,
                                           (const uint8_t *)PIN_SIGN, strlen(PIN_SIGN)));
    CHECK_RC(SK_ERR_ARG, approve(w, key, s, "1234", 1, sig, &sig_len, &st)); /* no codes offered */
    CHECK_OK(approve(w, key, s, NULL, 1, sig, &sig_len, &st));
    CHECK(mbedtls_check(key, SK_SCHEME_PSS, SK_HASH_SHA256, digest, sig, sig_len) == 0);
    sk_device_session_free(s);

    /* A refusal names where: the relying party reads it. */
    CHECK_OK(rp_create(w, key, digest, SK_CERT_LEVEL_NONE, SK_INTERACTION_VC_CHOICE, "No", sid,
                       NULL));
    s = fixture_fetch(w, key);
    CHECK(s != NULL);
    if (s == NULL)
        goto out;
    CHECK_RC(SK_ERR_ARG, sk_device_refuse_at(key, msg, sizeof msg, &len, w->now, s,
                                             (sk_interaction)9));
    CHECK_OK(sk_device_refuse_at(key, msg, sizeof msg, &len, w->now, s,
                                 SK_INTERACTION_VC_CHOICE));
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK_OK(sk_device_read_reply(key, &st, reply, rlen));
    sk_rp_result res;
    sk_rp_result_ext ext;
    CHECK_OK(rp_poll(w, sid, &res, &ext));
    CHECK(res.state == SK_SESSION_REFUSED && ext.refused_at == SK_INTERACTION_VC_CHOICE);
    sk_device_session_free(s);
out:
    sk_device_key_free(key);
    world_free(w);
}

/* A server that offers choices it should not (the device must refuse the
 * session): the stored session edited in place. */
static void tamper_choices(world *w, const uint8_t *sid, int how)
{
    for (int i = 0; i < w->nsessions; i++) {
        w_session *ws = &w->sessions[i];
        if (memcmp(ws->id, sid, SK_SESSION_ID_LEN) != 0)
            continue;
        sk_session_rec *r = NULL;
        CHECK_OK(sk_session_rec_import(&r, ws->rec, ws->rec_len));
        if (r == NULL)
            return;
        for (size_t k = 0; k < SK_VC_CHOICES; k++) {
            bool right = strcmp(r->vc_choices[k], r->code) == 0;
            if (how == 0 && right) /* the right code missing */
                snprintf(r->vc_choices[k], sizeof r->vc_choices[k], "%04u",
                         (unsigned)(atoi(r->code) + 1) % 10000u);
            if (how == 1 && !right) /* a decoy twice: the right code and itself */
                memcpy(r->vc_choices[k], r->code, sizeof r->vc_choices[k]);
        }
        if (how == 0) /* keep the three distinct after the change */
            for (size_t k = 0; k < SK_VC_CHOICES; k++)
                for (size_t j = 0; j < k; j++)
                    if (strcmp(r->vc_choices[k], r->vc_choices[j]) == 0)
                        snprintf(r->vc_choices[k], sizeof r->vc_choices[k], "%04u",
                                 (unsigned)(atoi(r->vc_choices[k]) + 7) % 10000u);
        CHECK_OK(sk_session_rec_export(r, ws->rec, sizeof ws->rec, &ws->rec_len));
        sk_session_rec_free(r);
    }
}

static void test_device_checks_choices(void)
{
    sk_device_key *key = NULL;
    world *w = fixture_new(&key);
    uint8_t sid[SK_SESSION_ID_LEN], digest[32] = {6};
    size_t len = 0, rlen = 0;
    if (key == NULL)
        goto out;
    for (int how = 0; how < 2; how++) {
        CHECK_OK(rp_create(w, key, digest, SK_CERT_LEVEL_NONE, SK_INTERACTION_VC_CHOICE, "x", sid,
                           NULL));
        tamper_choices(w, sid, how);
        sk_device_session *s = NULL;
        CHECK_OK(sk_device_fetch(key, msg, sizeof msg, &len, w->now));
        CHECK_OK(world_device(w, msg, len, reply, &rlen));
        CHECK_RC(SK_ERR_PROTO_DECODE, sk_device_read_session(key, &s, NULL, reply, rlen));
        CHECK(s == NULL);
        /* refused by the device; the relying party's session is cancelled */
        uint8_t req[128];
        size_t req_len = 0;
        CHECK_OK(sk_rp_cancel_request(req, sizeof req, &req_len, sid, sizeof sid));
        CHECK_OK(world_rp(w, req, req_len, reply, &rlen));
    }
out:
    sk_device_key_free(key);
    world_free(w);
}

int main(void)
{
    sk_test_init();
    test_levels();
    test_display_text();
    test_vc_choice();
    test_wrong_vc();
    test_confirmation_and_refusal();
    test_device_checks_choices();
    return sk_test_done("protocol_levels");
}
