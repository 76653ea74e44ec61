/* enrol.c - the device side of enrolment (SPEC 3.2 steps 1 and 2). */
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
    uint64_t send_counter;
    uint64_t recv_counter;
};

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
    Splitkey__EnrolInit init = SPLITKEY__ENROL_INIT__INIT;
    sk_client_share *share = NULL;
    sk_device_enrolment *e = NULL;
    uint8_t kx_pk[crypto_kx_PUBLICKEYBYTES], kx_sk[crypto_kx_SECRETKEYBYTES];
    uint8_t body[SKP_MAX_BODY_LEN];
    size_t body_len = 0;
    int rc;

    *out = NULL;
    *written = 0;
    if (server_pub_len != SK_SERVER_PUB_LEN || skp_profile_ok((uint32_t)profile) != SK_OK)
        return SK_ERR_ARG;
    rc = sk_pin_check(purpose, pin, pin_len);
    if (rc != SK_OK)
        return rc;
    if ((token != NULL && skp_check_text(token, SKP_MAX_TOKEN_LEN) != SK_OK) ||
        (subject != NULL && skp_check_text(subject, SKP_MAX_SUBJECT_LEN) != SK_OK))
        return SK_ERR_LIMIT;
    e = calloc(1, sizeof *e);
    if (e == NULL)
        return SK_ERR_NOMEM;
    e->purpose = purpose;
    e->bits = sk_profile_bits(profile);
    memcpy(e->server_pub, server_pub, SK_SERVER_PUB_LEN);

    rc = sk_client_keygen(&share, e->ds, e->bits / 8, profile);
    if (rc != SK_OK)
        goto out;
    rc = sk_client_share_modulus(share, e->n1, e->bits / 8);
    if (rc != SK_OK)
        goto out;
    e->wrapped_len = sk_wrapped_share_len(profile);
    rc = sk_client_share_wrap(share, e->wrapped, e->wrapped_len, pin, pin_len, cost);
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
    if (token != NULL)
        init.registration_token = skp_bin((const uint8_t *)token, strlen(token));
    init.subject = (char *)(subject != NULL ? subject : "");
    rc = skp_pack(&init.base, body, sizeof body, &body_len);
    if (rc != SK_OK)
        goto out;
    skp_sha256_3(e->t, body, body_len, NULL, 0, NULL, 0);
    rc = skp_env_plain(msg, cap, written, NULL, SPLITKEY__MSG_TYPE__MSG_ENROL_INIT, body, body_len);
    if (rc != SK_OK)
        goto out;
    e->stage = STAGE_INIT_SENT;
    *out = e;
    e = NULL;
out:
    sk_client_share_free(share);
    sodium_memzero(kx_sk, sizeof kx_sk);
    sk_device_enrolment_free(e);
    return rc;
}

/* Opens an enrolment reply: a plain error, an authenticated error, or the
 * expected type.  On SK_OK body holds the plaintext. */
static int open_reply(sk_device_enrolment *e, uint8_t *body, size_t *body_len, uint32_t want,
                      const uint8_t *reply, size_t reply_len, const uint8_t *expect_key_id)
{
    skp_env *env = malloc(sizeof *env);
    int rc;
    if (env == NULL)
        return SK_ERR_NOMEM;
    rc = skp_env_parse(env, reply, reply_len);
    if (rc != SK_OK)
        goto out;
    if (env->type == SPLITKEY__MSG_TYPE__MSG_PLAIN_ERROR) {
        rc = skp_error_read(env->payload, env->payload_len, NULL);
        if (rc == SK_OK)
            rc = SK_ERR_PROTO_DECODE;
        goto out;
    }
    if (env->type != want && env->type != SPLITKEY__MSG_TYPE__MSG_ERROR) {
        rc = SK_ERR_PROTO_STATE;
        goto out;
    }
    if (expect_key_id != NULL && (env->key_id_len != SKP_KEY_ID_LEN ||
                                  memcmp(env->key_id, expect_key_id, SKP_KEY_ID_LEN) != 0)) {
        rc = SK_ERR_PROTO_AUTH;
        goto out;
    }
    rc = skp_env_open(body, body_len, env, e->tek_rx, e->recv_counter);
    if (rc != SK_OK)
        goto out;
    e->recv_counter = env->counter;
    if (env->type == SPLITKEY__MSG_TYPE__MSG_ERROR) {
        rc = skp_error_read(body, *body_len, NULL);
        if (rc == SK_OK)
            rc = SK_ERR_PROTO_DECODE;
        *body_len = 0;
        goto out;
    }
    if (expect_key_id == NULL)
        memcpy(e->key_id, env->key_id, SKP_KEY_ID_LEN);
out:
    free(env);
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

/* Builds EnrolSubmit {key_id, ds, OTP_0} and seals it with the next counter.
 * The bytes are the same every time (so is the transcript): first extends
 * the transcript hash with them, a retry does not. */
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
    uint64_t counter = first ? e->send_counter : e->send_counter + 1;
    rc = skp_env_seal(msg, cap, written, e->key_id, SPLITKEY__MSG_TYPE__MSG_ENROL_SUBMIT, counter,
                      e->tek_tx, submit, submit_len, sk_rng_system());
    if (rc != SK_OK)
        goto out;
    e->send_counter = counter;
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
    if (memcmp(b->key_id.data, e->key_id, SKP_KEY_ID_LEN) != 0) {
        rc = SK_ERR_PROTO_AUTH;
        goto out;
    }
    rc = compute_n(e, b->n2.data);
    if (rc != SK_OK)
        goto out;
    memcpy(e->otp, b->otp.data, SKP_OTP_LEN);
    if (b->subject != NULL)
        memcpy(e->subject, b->subject, strlen(b->subject) + 1);
    skp_sha256_3(e->t, e->t, SKP_HASH32_LEN, r->body.data, r->body.len, NULL, 0);

    e->send_counter = 1;
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
    k->send_counter = e->send_counter;
    k->recv_counter = e->recv_counter;
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
