/* SPDX-License-Identifier: Apache-2.0 */
/* Revocation by the device (PIN-authorised) and by an operator; the
 * relying-party API by person id and its key-state query; record
 * serialisation. */
#include <sodium.h>
#include <string.h>

#include "splitkey.pb-c.h"
#include "world.h"

static uint8_t msg[SK_MAX_MESSAGE_LEN], reply[SK_MAX_MESSAGE_LEN];

static void test_device_revoke(void)
{
    world *w = world_new();
    sk_device_key *key = NULL;
    sk_key_status st;
    size_t len = 0, rlen = 0;
    CHECK_OK(world_enrol(w, &key, SK_PROFILE_4K, SK_PURPOSE_SIGN, PIN_SIGN, NULL, true));
    if (key == NULL)
        goto out;
    /* A wrong PIN does not revoke, and counts as a failure. */
    CHECK_OK(sk_device_revoke(key, msg, sizeof msg, &len, w->now, (const uint8_t *)"11111", 5));
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK_RC(SK_ERR_WRONG_PIN, sk_device_read_reply(key, &st, reply, rlen));
    CHECK(st.attempts_left == 2);
    CHECK(!(w->effects & SK_EFFECT_REVOKE_CERT));
    /* A PIN of the wrong form is refused on the device. */
    CHECK_RC(SK_ERR_ARG,
             sk_device_revoke(key, msg, sizeof msg, &len, w->now, (const uint8_t *)"12a45", 5));
    CHECK(!sk_device_key_has_pending(key));
    /* The right PIN revokes. */
    CHECK_OK(sk_device_revoke(key, msg, sizeof msg, &len, w->now, (const uint8_t *)PIN_SIGN,
                              strlen(PIN_SIGN)));
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK(w->effects & SK_EFFECT_REVOKE_CERT);
    CHECK(w->effects & SK_EFFECT_DELETE_SECRETS);
    CHECK(w->revoke_reason == SK_CRL_REASON_CESSATION_OF_OPERATION);
    CHECK_OK(sk_device_read_reply(key, &st, reply, rlen));
    CHECK(st.state == SK_KEY_DESTROYED && st.destroy_reason == SK_DESTROY_USER);
    CHECK(sk_device_key_state(key) == SK_KEY_DESTROYED);
    CHECK_RC(SK_ERR_DESTROYED, sk_device_fetch(key, msg, sizeof msg, &len, w->now));
    uint8_t kid[SK_KEY_ID_LEN];
    CHECK_OK(sk_device_key_id(key, kid, sizeof kid));
    sk_key_rec *rec = world_key_record(w, kid);
    if (rec != NULL) {
        sk_key_rec_status(rec, &st, &w->policy, w->now);
        CHECK(st.state == SK_KEY_DESTROYED && st.destroy_reason == SK_DESTROY_USER);
        uint8_t sec[64];
        size_t sec_len = 1;
        CHECK_OK(sk_key_rec_export_secrets(rec, sec, sizeof sec, &sec_len));
        CHECK(sec_len == 0);
    }
    sk_key_rec_free(rec);
out:
    sk_device_key_free(key);
    world_free(w);
}

static void test_operator_revoke(void)
{
    world *w = world_new();
    sk_device_key *key = NULL;
    sk_server_result *res = NULL;
    sk_server_input in;
    sk_key_status st;
    CHECK_OK(world_enrol(w, &key, SK_PROFILE_4K, SK_PURPOSE_AUTH, PIN_AUTH, NULL, true));
    if (key == NULL)
        goto out;
    uint8_t kid[SK_KEY_ID_LEN];
    CHECK_OK(sk_device_key_id(key, kid, sizeof kid));
    sk_key_rec *rec = world_key_record(w, kid);
    memset(&in, 0, sizeof in);
    in.identity = w->id;
    in.policy = &w->policy;
    in.now = w->now;
    in.key = rec;
    CHECK_OK(sk_server_operator_revoke(&res, &in));
    if (res != NULL) {
        const sk_key_rec *n = sk_server_result_key(res);
        CHECK(n != NULL);
        CHECK(sk_server_result_effects(res) & SK_EFFECT_REVOKE_CERT);
        CHECK(sk_server_result_revoke_reason(res) == SK_CRL_REASON_CESSATION_OF_OPERATION);
        if (n != NULL) {
            CHECK(sk_key_rec_version(n) == sk_key_rec_version(rec) + 1);
            sk_key_rec_status(n, &st, &w->policy, w->now);
            CHECK(st.state == SK_KEY_DESTROYED && st.destroy_reason == SK_DESTROY_OPERATOR);
            w_key *wk = world_key(w, kid);
            CHECK_OK(sk_key_rec_export(n, wk->rec, sizeof wk->rec, &wk->rec_len));
            CHECK_OK(sk_key_rec_export_secrets(n, wk->sec, sizeof wk->sec, &wk->sec_len));
            CHECK(wk->sec_len == 0);
        }
    }
    sk_server_result_free(res);
    sk_key_rec_free(rec);
    /* The device learns it at its next request. */
    size_t len = 0, rlen = 0;
    CHECK_OK(sk_device_otp_refresh(key, msg, sizeof msg, &len, w->now));
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK_RC(SK_ERR_DESTROYED, sk_device_read_reply(key, &st, reply, rlen));
    CHECK(st.destroy_reason == SK_DESTROY_OPERATOR);
    CHECK(sk_device_key_state(key) == SK_KEY_DESTROYED);
out:
    sk_device_key_free(key);
    world_free(w);
}

static void test_rp_api(void)
{
    world *w = world_new();
    sk_device_key *key = NULL;
    sk_key_status st;
    uint8_t req[1024], rep_buf[SK_MAX_MESSAGE_LEN];
    size_t rlen = 0;
    CHECK_OK(world_enrol(w, &key, SK_PROFILE_4K, SK_PURPOSE_AUTH, PIN_AUTH, NULL, true));
    if (key == NULL)
        goto out;
    /* By person id (this store resolves a person id to the key's subject). */
    Splitkey__RpRequest r = SPLITKEY__RP_REQUEST__INIT;
    Splitkey__SessionCreate c = SPLITKEY__SESSION_CREATE__INIT;
    uint8_t digest[32] = {42};
    c.person_id = (char *)sk_device_key_subject(key);
    c.purpose = SPLITKEY__PURPOSE__PURPOSE_AUTH;
    c.digest.data = digest;
    c.digest.len = sizeof digest;
    c.hash = SK_HASH_SHA256;
    c.scheme = SK_SCHEME_PSS;
    c.display_text = (char *)"Log in";
    r.req_case = SPLITKEY__RP_REQUEST__REQ_CREATE;
    r.create = &c;
    size_t req_len = protobuf_c_message_pack(&r.base, req);
    sk_route_info info;
    /* person ids are at most 64 bytes */
    c.person_id = (char *)"PNOLV-0101010101010101010101010101010101010101010101010101010101010";
    req_len = protobuf_c_message_pack(&r.base, req);
    CHECK_RC(SK_ERR_LIMIT, sk_server_peek_rp(&info, req, req_len));
    c.person_id = (char *)"PNOLV-010101-12345";
    req_len = protobuf_c_message_pack(&r.base, req);
    CHECK_OK(sk_server_peek_rp(&info, req, req_len));
    CHECK(info.kind == SK_ROUTE_RP_CREATE && info.has_person_id && !info.has_key_id);
    CHECK(strcmp(info.person_id, "PNOLV-010101-12345") == 0);
    CHECK(info.purpose == SK_PURPOSE_AUTH);
    /* The handler with the key the caller resolved. */
    uint8_t kid[SK_KEY_ID_LEN];
    CHECK_OK(sk_device_key_id(key, kid, sizeof kid));
    sk_key_rec *rec = world_key_record(w, kid);
    sk_server_input in;
    sk_server_result *res = NULL;
    memset(&in, 0, sizeof in);
    in.identity = w->id;
    in.policy = &w->policy;
    in.now = w->now;
    in.key = rec;
    CHECK_OK(sk_server_handle_rp(&res, &in, req, req_len));
    if (res != NULL) {
        CHECK(sk_server_result_status(res) == SK_OK);
        CHECK(sk_server_result_effects(res) == SK_EFFECT_NEW_SESSION);
        const sk_session_rec *s = sk_server_result_session(res);
        CHECK(s != NULL);
        if (s != NULL) {
            char code[5];
            CHECK_OK(sk_verification_code(code, sizeof code, digest, sizeof digest));
            CHECK(strcmp(sk_session_rec_code(s), code) == 0);
            CHECK(sk_session_rec_expires_at(s) == w->now + 120);
            CHECK(sk_session_rec_state(s) == SK_SESSION_PENDING);
            /* Session records survive export and import. */
            uint8_t buf[SK_MAX_RECORD_LEN], buf2[SK_MAX_RECORD_LEN];
            size_t n1 = 0, n2 = 0;
            sk_session_rec *back = NULL;
            CHECK_OK(sk_session_rec_export(s, buf, sizeof buf, &n1));
            CHECK_OK(sk_session_rec_import(&back, buf, n1));
            if (back != NULL) {
                CHECK_OK(sk_session_rec_export(back, buf2, sizeof buf2, &n2));
                CHECK(n1 == n2 && memcmp(buf, buf2, n1) == 0);
            }
            sk_session_rec_free(back);
            CHECK(sk_session_rec_import(&back, buf, n1 - 1) != SK_OK);
            CHECK(back == NULL);
        }
    }
    sk_server_result_free(res);
    res = NULL;
    /* Wrong purpose for this key: refused, no session. */
    c.purpose = SPLITKEY__PURPOSE__PURPOSE_SIGN;
    req_len = protobuf_c_message_pack(&r.base, req);
    CHECK_OK(sk_server_handle_rp(&res, &in, req, req_len));
    if (res != NULL) {
        CHECK(sk_server_result_status(res) == SK_ERR_ARG);
        CHECK(sk_server_result_session(res) == NULL);
    }
    sk_server_result_free(res);
    res = NULL;
    /* Key state through the relying-party API. */
    Splitkey__KeyStateRequest k = SPLITKEY__KEY_STATE_REQUEST__INIT;
    k.key_id.data = kid;
    k.key_id.len = sizeof kid;
    r.req_case = SPLITKEY__RP_REQUEST__REQ_KEY_STATE;
    r.key_state = &k;
    req_len = protobuf_c_message_pack(&r.base, req);
    CHECK_OK(world_rp(w, req, req_len, rep_buf, &rlen));
    Splitkey__RpReply *rep = splitkey__rp_reply__unpack(NULL, rlen, rep_buf);
    CHECK(rep != NULL && rep->rep_case == SPLITKEY__RP_REPLY__REP_KEY_STATE);
    if (rep != NULL && rep->rep_case == SPLITKEY__RP_REPLY__REP_KEY_STATE) {
        CHECK(rep->key_state->state == SPLITKEY__KEY_STATE__KEY_ACTIVE);
        CHECK(rep->key_state->attempts_left == 3);
    }
    splitkey__rp_reply__free_unpacked(rep, NULL);
    /* Key records survive export and import, secrets included. */
    if (rec != NULL) {
        uint8_t a[SK_MAX_RECORD_LEN], b[SK_MAX_RECORD_LEN], s1[2048], s2[2048];
        size_t al = 0, bl = 0, sl1 = 0, sl2 = 0;
        sk_key_rec *back = NULL;
        CHECK_OK(sk_key_rec_export(rec, a, sizeof a, &al));
        CHECK_OK(sk_key_rec_export_secrets(rec, s1, sizeof s1, &sl1));
        CHECK(sl1 > 0);
        CHECK_OK(sk_key_rec_import(&back, a, al, s1, sl1));
        if (back != NULL) {
            CHECK_OK(sk_key_rec_export(back, b, sizeof b, &bl));
            CHECK_OK(sk_key_rec_export_secrets(back, s2, sizeof s2, &sl2));
            CHECK(al == bl && memcmp(a, b, al) == 0);
            CHECK(sl1 == sl2 && memcmp(s1, s2, sl1) == 0);
        }
        sk_key_rec_free(back);
        back = NULL;
        CHECK(sk_key_rec_import(&back, a, al, s1, sl1 - 1) != SK_OK);
        CHECK(sk_key_rec_import(&back, a, al / 2, NULL, 0) != SK_OK);
        CHECK(back == NULL);
        size_t need = 0;
        CHECK_RC(SK_ERR_BUFFER_TOO_SMALL, sk_key_rec_export(rec, a, 10, &need));
        CHECK(need == al);
    }
    sk_key_rec_free(rec);
    memset(&st, 0, sizeof st);
out:
    sk_device_key_free(key);
    world_free(w);
}

/* Identity export/import and the pinned public keys. */
static void test_identity(void)
{
    sk_server_ident *a = NULL, *b = NULL;
    uint8_t sec[SK_SERVER_IDENT_LEN], pa[SK_SERVER_PUB_LEN], pb[SK_SERVER_PUB_LEN];
    CHECK_OK(sk_server_ident_generate(&a, NULL, NULL));
    if (a == NULL)
        return;
    CHECK_OK(sk_server_ident_export(a, sec, sizeof sec));
    CHECK_OK(sk_server_ident_import(&b, sec, sizeof sec));
    CHECK_OK(sk_server_ident_public(a, pa, sizeof pa));
    if (b != NULL) {
        CHECK_OK(sk_server_ident_public(b, pb, sizeof pb));
        CHECK(memcmp(pa, pb, sizeof pa) == 0);
    }
    /* From the secrets as files keep them: seed or libsodium's 64-byte key. */
    uint8_t kx[32], ed_pk[32], ed_sk[64];
    memcpy(kx, sec + 4, 32);
    crypto_sign_seed_keypair(ed_pk, ed_sk, sec + 36);
    sk_server_ident *d = NULL;
    CHECK_OK(sk_server_ident_from_secrets(&d, kx, 32, ed_sk, 64));
    if (d != NULL) {
        CHECK_OK(sk_server_ident_public(d, pb, sizeof pb));
        CHECK(memcmp(pa, pb, sizeof pa) == 0);
    }
    sk_server_ident_free(d);
    d = NULL;
    CHECK_OK(sk_server_ident_from_secrets(&d, kx, 32, sec + 36, 32));
    sk_server_ident_free(d);
    d = NULL;
    ed_sk[40] ^= 1; /* public half does not match the seed */
    CHECK_RC(SK_ERR_KEY_FORMAT, sk_server_ident_from_secrets(&d, kx, 32, ed_sk, 64));
    CHECK(d == NULL);
    sec[0] ^= 1;
    sk_server_ident *c = NULL;
    CHECK_RC(SK_ERR_KEY_FORMAT, sk_server_ident_import(&c, sec, sizeof sec));
    CHECK(c == NULL);
    sk_server_ident_free(a);
    sk_server_ident_free(b);
}

/* The handlers are pure: the same records, request, time and randomness
 * give the same reply, records and effects, and the inputs are untouched. */
static int counter_random(void *ctx, uint8_t *out, size_t len)
{
    uint64_t *c = ctx;
    for (size_t i = 0; i < len; i++)
        out[i] = (uint8_t)(*c >> (8 * (i % 8))) ^ (uint8_t)i;
    (*c)++;
    return SK_OK;
}

static void run_once(world *w, const uint8_t *req, size_t req_len, const uint8_t *kid,
                     const uint8_t *sid, uint8_t *out, size_t *out_len, uint8_t *krec,
                     size_t *krec_len, unsigned *effects)
{
    uint64_t ctr = 1000;
    sk_server_input in;
    sk_server_result *res = NULL;
    sk_key_rec *rec = world_key_record(w, kid);
    sk_session_rec *sess = NULL;
    for (int i = 0; i < w->nsessions; i++)
        if (memcmp(w->sessions[i].id, sid, SK_SESSION_ID_LEN) == 0)
            CHECK_OK(sk_session_rec_import(&sess, w->sessions[i].rec, w->sessions[i].rec_len));
    memset(&in, 0, sizeof in);
    in.identity = w->id;
    in.policy = &w->policy;
    in.now = w->now;
    in.key = rec;
    in.session = sess;
    in.random = counter_random;
    in.random_ctx = &ctr;
    uint8_t before[SK_MAX_RECORD_LEN], after[SK_MAX_RECORD_LEN];
    size_t bl = 0, al = 0;
    CHECK(rec != NULL && sess != NULL);
    if (rec != NULL)
        CHECK_OK(sk_key_rec_export(rec, before, sizeof before, &bl));
    CHECK_OK(sk_server_handle_device(&res, &in, req, req_len));
    if (rec != NULL) {
        CHECK_OK(sk_key_rec_export(rec, after, sizeof after, &al));
        CHECK(al == bl && memcmp(before, after, al) == 0);
    }
    *out_len = 0;
    *krec_len = 0;
    if (res != NULL) {
        size_t n = 0;
        const uint8_t *p = sk_server_result_reply(res, &n);
        memcpy(out, p, n);
        *out_len = n;
        *effects = sk_server_result_effects(res);
        if (sk_server_result_key(res) != NULL)
            CHECK_OK(
                sk_key_rec_export(sk_server_result_key(res), krec, SK_MAX_RECORD_LEN, krec_len));
    }
    sk_server_result_free(res);
    sk_session_rec_free(sess);
    sk_key_rec_free(rec);
}

static void test_pure(void)
{
    world *w = world_new();
    sk_device_key *key = NULL;
    sk_device_session *s = NULL;
    sk_key_status st;
    static uint8_t r1[SK_MAX_MESSAGE_LEN], r2[SK_MAX_MESSAGE_LEN];
    static uint8_t k1[SK_MAX_RECORD_LEN], k2[SK_MAX_RECORD_LEN];
    size_t len = 0, rlen = 0, l1 = 0, l2 = 0, kl1 = 0, kl2 = 0;
    unsigned e1 = 0, e2 = 0;
    uint8_t sid[SK_SESSION_ID_LEN], kid[SK_KEY_ID_LEN], digest[32] = {6};
    CHECK_OK(world_enrol(w, &key, SK_PROFILE_4K, SK_PURPOSE_SIGN, PIN_SIGN, NULL, true));
    if (key == NULL)
        goto out;
    CHECK_OK(sk_device_key_id(key, kid, sizeof kid));
    CHECK_OK(world_rp_create(w, key, digest, SK_HASH_SHA256, SK_SCHEME_PSS, sid, NULL));
    CHECK_OK(sk_device_fetch(key, msg, sizeof msg, &len, w->now));
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK_OK(sk_device_read_session(key, &s, &st, reply, rlen));
    if (s == NULL)
        goto out;
    const char *pins[2] = {"13579", PIN_SIGN};
    for (int i = 0; i < 2; i++) {
        CHECK_OK(
            sk_device_approve(key, msg, sizeof msg, &len, w->now, s, (const uint8_t *)pins[i], 5));
        /* The first handling is the charge (a record, no reply yet). */
        run_once(w, msg, len, kid, sid, r1, &l1, k1, &kl1, &e1);
        run_once(w, msg, len, kid, sid, r2, &l2, k2, &kl2, &e2);
        CHECK(l1 == 0 && l2 == 0);
        CHECK(kl1 > 0 && kl1 == kl2 && memcmp(k1, k2, kl1) == 0);
        CHECK(e1 == e2);
        /* Now through the store, and on to the next attempt. */
        CHECK_OK(world_device(w, msg, len, reply, &rlen));
        uint8_t sig[SK_MAX_SIG_LEN];
        size_t sig_len = 0;
        CHECK_RC(i == 0 ? SK_ERR_WRONG_PIN : SK_OK,
                 sk_device_read_signature(key, sig, sizeof sig, &sig_len, &st, reply, rlen));
    }
out:
    sk_device_session_free(s);
    sk_device_key_free(key);
    world_free(w);
}

/* The certificate hook: once the record holds a certificate, sign replies
 * and session results carry it and the device keeps it. */
static void test_certificate(void)
{
    world *w = world_new();
    sk_device_key *key = NULL;
    sk_key_status st;
    uint8_t kid[SK_KEY_ID_LEN], sid[SK_SESSION_ID_LEN], digest[32] = {2};
    uint8_t sig[SK_MAX_SIG_LEN], cert[64], got[64];
    size_t sig_len = 0, got_len = 1;
    for (size_t i = 0; i < sizeof cert; i++)
        cert[i] = (uint8_t)(0x30 + i);
    CHECK_OK(world_enrol(w, &key, SK_PROFILE_4K, SK_PURPOSE_SIGN, PIN_SIGN, NULL, true));
    if (key == NULL)
        goto out;
    CHECK_OK(sk_device_key_certificate(key, got, sizeof got, &got_len));
    CHECK(got_len == 0);
    CHECK_OK(sk_device_key_id(key, kid, sizeof kid));
    sk_key_rec *rec = world_key_record(w, kid), *with = NULL;
    if (rec != NULL) {
        CHECK_RC(SK_ERR_LIMIT, sk_key_rec_set_certificate(&with, rec, cert, 0));
        CHECK_OK(sk_key_rec_set_certificate(&with, rec, cert, sizeof cert));
        if (with != NULL) {
            CHECK(sk_key_rec_version(with) == sk_key_rec_version(rec) + 1);
            w_key *wk = world_key(w, kid);
            CHECK_OK(sk_key_rec_export(with, wk->rec, sizeof wk->rec, &wk->rec_len));
        }
    }
    sk_key_rec_free(with);
    sk_key_rec_free(rec);
    CHECK_OK(world_rp_create(w, key, digest, SK_HASH_SHA256, SK_SCHEME_PKCS1, sid, NULL));
    CHECK_OK(world_approve(w, key, PIN_SIGN, sig, &sig_len, &st));
    CHECK_OK(sk_device_key_certificate(key, got, sizeof got, &got_len));
    CHECK(got_len == sizeof cert && memcmp(got, cert, sizeof cert) == 0);
    CHECK_RC(SK_ERR_BUFFER_TOO_SMALL, sk_device_key_certificate(key, got, 10, &got_len));
    CHECK(got_len == sizeof cert);
out:
    sk_device_key_free(key);
    world_free(w);
}

/* Caller errors: a bad policy, no identity, a record loaded without its
 * secrets. */
static void test_caller_errors(void)
{
    world *w = world_new();
    sk_device_key *key = NULL;
    sk_server_result *res = NULL;
    sk_server_input in;
    sk_key_status st;
    uint8_t sid[SK_SESSION_ID_LEN], digest[32] = {4}, kid[SK_KEY_ID_LEN];
    size_t len = 0, rlen = 0;
    CHECK_OK(world_enrol(w, &key, SK_PROFILE_4K, SK_PURPOSE_SIGN, PIN_SIGN, NULL, true));
    if (key == NULL)
        goto out;
    CHECK_OK(sk_device_key_state_request(key, msg, sizeof msg, &len, w->now));
    memset(&in, 0, sizeof in);
    in.policy = &w->policy;
    in.now = w->now;
    CHECK_RC(SK_ERR_ARG, sk_server_handle_device(&res, &in, msg, len));
    CHECK(res == NULL);
    sk_server_policy bad = w->policy;
    bad.lock2_failures = 10; /* beyond destroy_failures */
    in.identity = w->id;
    in.policy = &bad;
    CHECK_RC(SK_ERR_ARG, sk_server_handle_device(&res, &in, msg, len));
    CHECK(res == NULL);
    /* The request is still the device's request in flight: answer it. */
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK_OK(sk_device_read_reply(key, &st, reply, rlen));
    /* Signing with a record whose secrets were not loaded: an internal
     * error, and no failure is counted. */
    CHECK_OK(world_rp_create(w, key, digest, SK_HASH_SHA256, SK_SCHEME_PKCS1, sid, NULL));
    sk_device_session *s = NULL;
    CHECK_OK(sk_device_fetch(key, msg, sizeof msg, &len, w->now));
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK_OK(sk_device_read_session(key, &s, &st, reply, rlen));
    if (s == NULL)
        goto out;
    CHECK_OK(sk_device_approve(key, msg, sizeof msg, &len, w->now, s, (const uint8_t *)"99999", 5));
    sk_device_session_free(s);
    CHECK_OK(sk_device_key_id(key, kid, sizeof kid));
    w_key *wk = world_key(w, kid);
    sk_key_rec *nosec = NULL;
    sk_session_rec *sess = NULL;
    CHECK_OK(sk_key_rec_import(&nosec, wk->rec, wk->rec_len, NULL, 0));
    CHECK_OK(sk_session_rec_import(&sess, w->sessions[w->nsessions - 1].rec,
                                   w->sessions[w->nsessions - 1].rec_len));
    in.policy = &w->policy;
    in.key = nosec;
    in.session = sess;
    CHECK_OK(sk_server_handle_device(&res, &in, msg, len));
    /* First the charge (it needs no secret), then the check under it. */
    sk_key_rec *charged = NULL;
    if (res != NULL) {
        CHECK(sk_server_result_status(res) == SK_ERR_LEASE);
        const sk_key_rec *n = sk_server_result_key(res);
        CHECK(n != NULL);
        if (n != NULL) {
            uint8_t buf[SK_MAX_RECORD_LEN];
            size_t bl = 0;
            CHECK_OK(sk_key_rec_export(n, buf, sizeof buf, &bl));
            CHECK_OK(sk_key_rec_import(&charged, buf, bl, NULL, 0));
        }
    }
    sk_server_result_free(res);
    res = NULL;
    if (charged != NULL) {
        in.key = charged;
        CHECK_OK(sk_server_handle_device(&res, &in, msg, len));
    }
    if (res != NULL) {
        CHECK(sk_server_result_status(res) == SK_ERR_INTERNAL);
        const sk_key_rec *n = sk_server_result_key(res);
        if (n != NULL) {
            sk_key_rec_status(n, &st, &w->policy, w->now);
            CHECK(st.attempts_left == 3); /* no verdict: the charge went back */
        }
    }
    sk_server_result_free(res);
    sk_key_rec_free(charged);
    sk_session_rec_free(sess);
    sk_key_rec_free(nosec);
out:
    sk_device_key_free(key);
    world_free(w);
}

int main(void)
{
    sk_test_init();
    test_identity();
    test_device_revoke();
    test_operator_revoke();
    test_rp_api();
    test_pure();
    test_certificate();
    test_caller_errors();
    return sk_test_done("protocol_revoke");
}
