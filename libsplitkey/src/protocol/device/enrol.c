/* SPDX-License-Identifier: Apache-2.0 */
/* enrol.c - the device side of enrolment (doc/protocol.md section 3). */
#include <sodium.h>
#include <string.h>

#include "protocol/device/device_internal.h"

enum { STAGE_INIT_SENT = 1, STAGE_SUBMIT_SENT = 2, STAGE_DONE = 3 };

struct sk_device_enrolment {
    int stage;
    sk_purpose purpose;
    unsigned bits;
    uint8_t server_pub[SK_SERVER_PUB_LEN];
    uint8_t tek_rx[SKP_TEK_LEN]; /* secret */
    uint8_t tek_tx[SKP_TEK_LEN]; /* secret */
    uint8_t ds[SKP_MAX_N1_LEN];  /* secret, until EnrolSubmit is built */
    uint8_t n1[SKP_MAX_N1_LEN];
    uint8_t n[SKP_MAX_N_LEN];
    uint8_t wrapped[SKP_MAX_WRAPPED_LEN];
    size_t wrapped_len;
    uint8_t t[SKP_HASH32_LEN]; /* transcript hash so far */
    uint8_t key_id[SKP_KEY_ID_LEN];
    uint8_t otp[SKP_OTP_LEN]; /* secret */
    char subject[SKP_MAX_SUBJECT_LEN + 1];
    uint8_t request_id[SKP_REQUEST_ID_LEN]; /* of the message in flight */
    skp_eph eph;                            /* secret: its ephemeral exchange */
    uint8_t challenge[SKP_CHALLENGE_LEN];
    size_t challenge_len;
    uint8_t binding[SKP_BINDING_LEN]; /* EnrolSubmit's, once built */
    uint8_t init_body[SKP_MAX_BODY_LEN]; /* EnrolInit's, sent again with a challenge */
    size_t init_body_len;
};

/* Splits a registration token "skt2.<public part>.<secret>" into its public
 * part (what goes to the server) and the 32-byte secret (which never leaves
 * the device: the proof shows knowledge of it). */
static int token_split(const char *token, size_t *public_len, uint8_t *secret)
{
    const char *dot = strrchr(token, '.');
    size_t secret_len = 0;
    if (strncmp(token, "skt2.", 5) != 0 || dot == NULL || dot < token + 5)
        return SK_ERR_TOKEN;
    if (sodium_base642bin(secret, SKP_TOKEN_SECRET_LEN, dot + 1, strlen(dot + 1), NULL,
                          &secret_len, NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        secret_len != SKP_TOKEN_SECRET_LEN) {
        sodium_memzero(secret, SKP_TOKEN_SECRET_LEN);
        return SK_ERR_TOKEN;
    }
    *public_len = (size_t)(dot - token);
    return SK_OK;
}

void sk_device_enrolment_free(sk_device_enrolment *e)
{
    if (e == NULL)
        return;
    sodium_memzero(e, sizeof *e);
    free(e);
}

int sk_device_enrol_start(sk_device_enrolment **out, uint8_t *msg, size_t cap, size_t *written,
                          const uint8_t *server_pub, size_t server_pub_len, sk_purpose purpose,
                          sk_profile profile, const uint8_t *pin, size_t pin_len, sk_kdf_cost cost,
                          const char *token, const char *subject)
{
    const sk_device_enrol_options p = {.server_pub = server_pub,
                                       .server_pub_len = server_pub_len,
                                       .purpose = purpose,
                                       .profile = profile,
                                       .pin = pin,
                                       .pin_len = pin_len,
                                       .kdf_cost = cost,
                                       .token = token,
                                       .subject = subject,
                                       .progress = NULL};
    return sk_device_enrol_start_opts(out, msg, cap, written, &p);
}

int sk_device_enrol_start_opts(sk_device_enrolment **out, uint8_t *msg, size_t cap,
                               size_t *written, const sk_device_enrol_options *p)
{
    Splitkey__EnrolInit init = SPLITKEY__ENROL_INIT__INIT;
    sk_client_share *share = NULL;
    sk_device_enrolment *e = NULL;
    uint8_t kx_pk[crypto_kx_PUBLICKEYBYTES], kx_sk[crypto_kx_SECRETKEYBYTES];
    uint8_t body[SKP_MAX_BODY_LEN], secret[SKP_TOKEN_SECRET_LEN], proof[SKP_TOKEN_PROOF_LEN];
    size_t body_len = 0, token_public_len = 0;
    int rc;

    if (out == NULL || written == NULL || p == NULL)
        return SK_ERR_ARG;
    *out = NULL;
    *written = 0;
    const uint8_t *server_pub = p->server_pub, *pin = p->pin;
    size_t server_pub_len = p->server_pub_len, pin_len = p->pin_len;
    sk_purpose purpose = p->purpose;
    sk_profile profile = p->profile;
    const char *token = p->token, *subject = p->subject;
    if (msg == NULL || server_pub == NULL || pin == NULL)
        return SK_ERR_ARG;
    if (server_pub_len != SK_SERVER_PUB_LEN || skp_profile_ok((uint32_t)profile) != SK_OK)
        return SK_ERR_ARG;
    rc = sk_pin_check(purpose, pin, pin_len);
    if (rc != SK_OK)
        return rc;
    if ((token != NULL && skp_check_text(token, SKP_MAX_TOKEN_LEN) != SK_OK) ||
        (subject != NULL && skp_check_text(subject, SKP_MAX_SUBJECT_LEN) != SK_OK))
        return SK_ERR_LIMIT;
    if (token != NULL) {
        rc = token_split(token, &token_public_len, secret);
        if (rc != SK_OK)
            return rc;
    }
    e = calloc(1, sizeof *e);
    if (e == NULL) {
        rc = SK_ERR_NOMEM;
        goto out;
    }
    e->purpose = purpose;
    e->bits = sk_profile_bits(profile);
    memcpy(e->server_pub, server_pub, SK_SERVER_PUB_LEN);

    rc = sk_client_keygen_progress(&share, e->ds, e->bits / 8, profile, p->progress);
    if (rc != SK_OK)
        goto out;
    rc = sk_client_share_modulus(share, e->n1, e->bits / 8);
    if (rc != SK_OK)
        goto out;
    e->wrapped_len = sk_wrapped_share_len(profile);
    rc = sk_client_share_wrap_progress(share, e->wrapped, e->wrapped_len, pin, pin_len,
                                       p->kdf_cost, p->progress);
    if (rc != SK_OK)
        goto out;
    crypto_kx_keypair(kx_pk, kx_sk);
    if (crypto_kx_client_session_keys(e->tek_rx, e->tek_tx, kx_pk, kx_sk, server_pub) != 0) {
        rc = SK_ERR_ARG; /* a pinned key no honest server has */
        goto out;
    }

    init.device_kx_pub = skp_bin(kx_pk, sizeof kx_pk);
    init.n1 = skp_bin(e->n1, e->bits / 8);
    init.purpose = (Splitkey__Purpose)purpose;
    init.profile = e->bits;
    if (token != NULL) {
        init.registration_token = skp_bin((const uint8_t *)token, token_public_len);
        skp_token_proof(proof, secret, (uint32_t)purpose, e->bits, kx_pk, e->n1, e->bits / 8);
        init.token_proof = skp_bin(proof, sizeof proof);
    }
    init.subject = (char *)(subject != NULL ? subject : "");
    rc = skp_pack(&init.base, body, sizeof body, &body_len);
    if (rc != SK_OK)
        goto out;
    skp_sha256_3(e->t, body, body_len, NULL, 0, NULL, 0);
    memcpy(e->init_body, body, body_len);
    e->init_body_len = body_len;
    randombytes_buf(e->request_id, sizeof e->request_id);
    rc = skd_seal_request(&e->eph, msg, cap, written, NULL, SPLITKEY__MSG_TYPE__MSG_ENROL_INIT,
                          NULL, server_pub, e->request_id, NULL, NULL, 0, body, body_len);
    if (rc != SK_OK)
        goto out;
    e->stage = STAGE_INIT_SENT;
    *out = e;
    e = NULL;
out:
    sk_client_share_free(share);
    sodium_memzero(kx_sk, sizeof kx_sk);
    sodium_memzero(secret, sizeof secret);
    sodium_memzero(proof, sizeof proof);
    sodium_memzero(body, sizeof body);
    sk_device_enrolment_free(e);
    return rc;
}

/* Opens an enrolment reply to the message in flight: an error (plain:
 * transport-level codes only), a challenge (kept for the retry), or the
 * expected type.  On SK_OK body holds the reply message. */
static int open_reply(sk_device_enrolment *e, uint8_t *body, size_t *body_len, uint32_t want,
                      const uint8_t *reply, size_t reply_len, const uint8_t *expect_key_id)
{
    *body_len = 0;
    skd_reply *r = malloc(sizeof *r);
    if (r == NULL)
        return SK_ERR_NOMEM;
    /* EnrolInit's reply is bound to it by the ephemeral exchange alone (it
     * is never kept for a resend); EnrolSubmit's names its binding. */
    int rc = skd_open_reply(r, expect_key_id, e->tek_rx, &e->eph, e->request_id,
                            want == SPLITKEY__MSG_TYPE__MSG_ENROL_SUBMIT_REPLY ? e->binding : NULL,
                            &want, 1, reply, reply_len);
    if (rc == SK_OK && r->type == SPLITKEY__MSG_TYPE__MSG_ERROR) {
        rc = skp_error_read(r->body, r->body_len, NULL);
        if (rc == SK_OK)
            rc = SK_ERR_PROTO_DECODE;
        if (rc == SK_ERR_PROTO_CHALLENGE) {
            if (r->challenge_len == SKP_CHALLENGE_LEN) {
                memcpy(e->challenge, r->challenge, SKP_CHALLENGE_LEN);
                e->challenge_len = SKP_CHALLENGE_LEN;
            } else {
                rc = SK_ERR_PROTO_DECODE;
            }
        }
    } else if (rc == SK_OK) {
        memcpy(body, r->body, r->body_len);
        *body_len = r->body_len;
    }
    sodium_memzero(r, sizeof *r);
    free(r);
    return rc;
}

/* Verifies the server's Ed25519 signature of label || t || body. */
static int check_server_sig(const sk_device_enrolment *e, const char *label,
                            const ProtobufCBinaryData *body, const ProtobufCBinaryData *sig)
{
    uint8_t data[SKP_MAX_BODY_LEN + 64];
    size_t len = 0;
    if (sig->len != SKP_ED_SIG_LEN || body->len > SKP_MAX_BODY_LEN)
        return SK_ERR_PROTO_SERVER_SIG;
    int rc = skp_enrol_signed_data(data, sizeof data, &len, label, e->t, body->data, body->len);
    if (rc != SK_OK)
        return rc;
    if (crypto_sign_verify_detached(sig->data, data, len, e->server_pub + SKP_KX_PUB_LEN) != 0)
        return SK_ERR_PROTO_SERVER_SIG;
    return SK_OK;
}

/* n = n1 * n2 with exactly 2k bits and gcd(n1, n2) = 1. */
static int compute_n(sk_device_enrolment *e, const uint8_t *n2_bytes)
{
    mpz_t n1, n2, n, g;
    int rc = SK_OK;
    mpz_inits(n1, n2, n, g, NULL);
    sk_mpz_from_bytes(n1, e->n1, e->bits / 8);
    sk_mpz_from_bytes(n2, n2_bytes, e->bits / 8);
    mpz_mul(n, n1, n2);
    mpz_gcd(g, n1, n2);
    if (mpz_even_p(n2) || mpz_sizeinbase(n2, 2) != e->bits || mpz_sizeinbase(n, 2) != 2 * e->bits ||
        mpz_cmp_ui(g, 1) != 0)
        rc = SK_ERR_KEY_MISMATCH;
    else
        rc = sk_mpz_to_bytes(e->n, e->bits / 4, n);
    mpz_clears(n1, n2, n, g, NULL);
    return rc;
}

/* Builds EnrolSubmit {key_id, ds, OTP_0} and seals it.  The body is the
 * same every time (so is the transcript): first extends the transcript hash
 * with it, a retry (same request id, new ephemeral) does not. */
static int send_submit(sk_device_enrolment *e, uint8_t *msg, size_t cap, size_t *written,
                       bool first)
{
    Splitkey__EnrolSubmit sub = SPLITKEY__ENROL_SUBMIT__INIT;
    uint8_t submit[SKP_MAX_BODY_LEN];
    size_t submit_len = 0;
    sub.key_id = skp_bin(e->key_id, SKP_KEY_ID_LEN);
    sub.ds = skp_bin(e->ds, e->bits / 8);
    sub.otp = skp_bin(e->otp, SKP_OTP_LEN);
    int rc = skp_pack(&sub.base, submit, sizeof submit, &submit_len);
    if (rc != SK_OK)
        goto out;
    if (first) {
        randombytes_buf(e->request_id, sizeof e->request_id);
        e->challenge_len = 0;
    }
    rc = skd_seal_request(&e->eph, msg, cap, written, e->key_id,
                          SPLITKEY__MSG_TYPE__MSG_ENROL_SUBMIT, e->tek_tx, e->server_pub,
                          e->request_id, e->otp, e->challenge, e->challenge_len, submit,
                          submit_len);
    if (rc != SK_OK)
        goto out;
    skp_request_binding(e->binding, SPLITKEY__MSG_TYPE__MSG_ENROL_SUBMIT, submit, submit_len);
    if (first)
        skp_sha256_3(e->t, e->t, SKP_HASH32_LEN, submit, submit_len, NULL, 0);
out:
    sodium_memzero(submit, sizeof submit);
    return rc;
}

int sk_device_enrol_continue(sk_device_enrolment *e, uint8_t *msg, size_t cap, size_t *written,
                             const uint8_t *reply, size_t reply_len)
{
    uint8_t body[SKP_MAX_BODY_LEN];
    size_t body_len = 0;
    ProtobufCMessage *rm = NULL, *bm = NULL;
    int rc;

    *written = 0;
    if (e->stage != STAGE_INIT_SENT)
        return SK_ERR_PROTO_STATE;
    rc = open_reply(e, body, &body_len, SPLITKEY__MSG_TYPE__MSG_ENROL_INIT_REPLY, reply, reply_len,
                    NULL);
    if (rc != SK_OK)
        goto out;
    rc = skp_unpack(&splitkey__enrol_init_reply__descriptor, &rm, body, body_len, SKP_MAX_BODY_LEN);
    if (rc != SK_OK)
        goto out;
    const Splitkey__EnrolInitReply *r = (const Splitkey__EnrolInitReply *)rm;
    rc = check_server_sig(e, SKP_LABEL_INIT_REPLY, &r->body, &r->signature);
    if (rc != SK_OK)
        goto out;
    rc = skp_unpack(&splitkey__enrol_init_reply_body__descriptor, &bm, r->body.data, r->body.len,
                    SKP_MAX_BODY_LEN);
    if (rc != SK_OK)
        goto out;
    const Splitkey__EnrolInitReplyBody *b = (const Splitkey__EnrolInitReplyBody *)bm;
    if (skp_check_len(&b->key_id, SKP_KEY_ID_LEN) || skp_check_len(&b->n2, e->bits / 8) ||
        skp_check_len(&b->otp, SKP_OTP_LEN) || skp_check_text(b->subject, SKP_MAX_SUBJECT_LEN)) {
        rc = SK_ERR_LIMIT;
        goto out;
    }
    memcpy(e->key_id, b->key_id.data, SKP_KEY_ID_LEN);
    rc = compute_n(e, b->n2.data);
    if (rc != SK_OK)
        goto out;
    memcpy(e->otp, b->otp.data, SKP_OTP_LEN);
    if (b->subject != NULL)
        memcpy(e->subject, b->subject, strlen(b->subject) + 1);
    skp_sha256_3(e->t, e->t, SKP_HASH32_LEN, r->body.data, r->body.len, NULL, 0);

    rc = send_submit(e, msg, cap, written, true);
    if (rc != SK_OK)
        goto out;
    e->stage = STAGE_SUBMIT_SENT;
out:
    skp_free(bm);
    skp_free(rm);
    sodium_memzero(body, sizeof body);
    return rc;
}

int sk_device_enrol_retry(sk_device_enrolment *e, uint8_t *msg, size_t cap, size_t *written)
{
    *written = 0;
    if (e->stage == STAGE_INIT_SENT)
        /* the same EnrolInit (same request id, the same transcript), with
         * the server's challenge when it asked for one */
        return skd_seal_request(&e->eph, msg, cap, written, NULL,
                                SPLITKEY__MSG_TYPE__MSG_ENROL_INIT, NULL, e->server_pub,
                                e->request_id, NULL, e->challenge, e->challenge_len,
                                e->init_body, e->init_body_len);
    if (e->stage != STAGE_SUBMIT_SENT)
        return SK_ERR_PROTO_STATE;
    return send_submit(e, msg, cap, written, false);
}

int sk_device_enrol_finish(sk_device_enrolment *e, sk_device_key **out, const uint8_t *reply,
                           size_t reply_len)
{
    uint8_t body[SKP_MAX_BODY_LEN];
    size_t body_len = 0;
    ProtobufCMessage *rm = NULL, *bm = NULL;
    sk_device_key *k = NULL;
    int rc;

    *out = NULL;
    if (e->stage != STAGE_SUBMIT_SENT)
        return SK_ERR_PROTO_STATE;
    rc = open_reply(e, body, &body_len, SPLITKEY__MSG_TYPE__MSG_ENROL_SUBMIT_REPLY, reply,
                    reply_len, e->key_id);
    if (rc != SK_OK)
        goto out;
    rc = skp_unpack(&splitkey__enrol_submit_reply__descriptor, &rm, body, body_len,
                    SKP_MAX_BODY_LEN);
    if (rc != SK_OK)
        goto out;
    const Splitkey__EnrolSubmitReply *r = (const Splitkey__EnrolSubmitReply *)rm;
    rc = check_server_sig(e, SKP_LABEL_SUBMIT_REPLY, &r->body, &r->signature);
    if (rc != SK_OK)
        goto out;
    rc = skp_unpack(&splitkey__enrol_submit_reply_body__descriptor, &bm, r->body.data, r->body.len,
                    SKP_MAX_BODY_LEN);
    if (rc != SK_OK)
        goto out;
    const Splitkey__EnrolSubmitReplyBody *b = (const Splitkey__EnrolSubmitReplyBody *)bm;
    if (skp_check_len(&b->n, e->bits / 4) || skp_check_len(&b->otp, SKP_OTP_LEN)) {
        rc = SK_ERR_LIMIT;
        goto out;
    }
    if (memcmp(b->n.data, e->n, e->bits / 4) != 0) {
        rc = SK_ERR_KEY_MISMATCH;
        goto out;
    }
    k = calloc(1, sizeof *k);
    if (k == NULL) {
        rc = SK_ERR_NOMEM;
        goto out;
    }
    memcpy(k->key_id, e->key_id, SKP_KEY_ID_LEN);
    k->purpose = e->purpose;
    k->bits = e->bits;
    k->state = SK_KEY_PENDING;
    memcpy(k->wrapped, e->wrapped, e->wrapped_len);
    k->wrapped_len = e->wrapped_len;
    memcpy(k->n1, e->n1, e->bits / 8);
    k->n1_len = e->bits / 8;
    memcpy(k->n, e->n, e->bits / 4);
    k->n_len = e->bits / 4;
    memcpy(k->tek_rx, e->tek_rx, SKP_TEK_LEN);
    memcpy(k->tek_tx, e->tek_tx, SKP_TEK_LEN);
    memcpy(k->server_pub, e->server_pub, SK_SERVER_PUB_LEN);
    memcpy(k->otp, b->otp.data, SKP_OTP_LEN);
    memcpy(k->subject, e->subject, sizeof k->subject);
    sodium_memzero(e->ds, sizeof e->ds); /* the server has it: no more retries */
    e->stage = STAGE_DONE;
    *out = k;
out:
    skp_free(bm);
    skp_free(rm);
    sodium_memzero(body, sizeof body);
    return rc;
}
