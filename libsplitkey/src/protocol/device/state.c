/* SPDX-License-Identifier: Apache-2.0 */
/* state.c - the device's per-key state: sealing with the storage key,
 * accessors, and the envelope functions every request and reply goes through. */
#include <sodium.h>
#include <string.h>

#include "protocol/device/device_internal.h"

static const uint8_t seal_magic[4] = {'S', 'K', 'D', '1'};
#define SEAL_HEAD (sizeof seal_magic + SKP_NONCE_LEN)

int sk_device_key_seal(const sk_device_key *key, uint8_t *out, size_t cap, size_t *written,
                       const uint8_t *storage_key, size_t storage_key_len)
{
    Splitkey__DeviceState st = SPLITKEY__DEVICE_STATE__INIT;
    uint8_t *plain = NULL;
    size_t plain_len = 0;
    unsigned long long clen = 0;
    int rc;

    *written = 0;
    if (storage_key_len != SK_STORAGE_KEY_LEN)
        return SK_ERR_ARG;
    st.format = 2;
    st.key_id = skp_bin(key->key_id, SKP_KEY_ID_LEN);
    st.purpose = (Splitkey__Purpose)key->purpose;
    st.profile = key->bits;
    st.state = (Splitkey__KeyState)key->state;
    st.wrapped_dc = skp_bin(key->wrapped, key->wrapped_len);
    st.n1 = skp_bin(key->n1, key->n1_len);
    st.n = skp_bin(key->n, key->n_len);
    st.tek_rx = skp_bin(key->tek_rx, SKP_TEK_LEN);
    st.tek_tx = skp_bin(key->tek_tx, SKP_TEK_LEN);
    st.server_pub = skp_bin(key->server_pub, SK_SERVER_PUB_LEN);
    st.otp = skp_bin(key->otp, SKP_OTP_LEN);
    st.subject = (char *)key->subject;
    st.certificate = skp_bin(key->cert, key->cert_len);
    st.pending_kind = key->pending_kind;
    st.generation = key->generation;
    if (key->pending_kind != SKD_PENDING_NONE) {
        st.pending_request_id = skp_bin(key->pending_request_id, SKP_REQUEST_ID_LEN);
        st.pending_session_id = skp_bin(key->pending_session_id, key->pending_session_id_len);
        st.pending_salt = skp_bin(key->pending_salt, key->pending_salt_len);
        st.pending_digest = skp_bin(key->pending_digest, key->pending_digest_len);
        st.pending_hash = key->pending_hash;
        st.pending_scheme = key->pending_scheme;
        st.pending_vc_chosen = (char *)key->pending_vc_chosen;
        st.pending_body = skp_bin(key->pending_body, key->pending_body_len);
        st.pending_type = key->pending_type;
    }
    plain_len = protobuf_c_message_get_packed_size(&st.base);
    size_t need = SEAL_HEAD + plain_len + SKP_TAG_LEN;
    *written = need;
    if (need > cap)
        return SK_ERR_BUFFER_TOO_SMALL;
    plain = malloc(plain_len);
    if (plain == NULL)
        return SK_ERR_NOMEM;
    rc = skp_pack(&st.base, plain, plain_len, &plain_len);
    if (rc != SK_OK)
        goto out;
    memcpy(out, seal_magic, sizeof seal_magic);
    randombytes_buf(out + sizeof seal_magic, SKP_NONCE_LEN);
    crypto_aead_xchacha20poly1305_ietf_encrypt(out + SEAL_HEAD, &clen, plain, plain_len, seal_magic,
                                               sizeof seal_magic, NULL, out + sizeof seal_magic,
                                               storage_key);
    *written = SEAL_HEAD + (size_t)clen;
out:
    sodium_memzero(plain, plain_len);
    free(plain);
    if (rc != SK_OK && rc != SK_ERR_BUFFER_TOO_SMALL) {
        sodium_memzero(out, need <= cap ? need : cap);
        *written = 0;
    }
    return rc;
}

static int load_state(sk_device_key *k, const Splitkey__DeviceState *st)
{
    if (st->format != 2 || skp_profile_ok(st->profile) != SK_OK ||
        skp_purpose_ok(st->purpose) != SK_OK)
        return SK_ERR_PROTO_DECODE;
    k->bits = st->profile;
    if (skp_check_len(&st->key_id, SKP_KEY_ID_LEN) || skp_check_len(&st->n1, k->bits / 8) ||
        skp_check_len(&st->n, k->bits / 4) || skp_check_len(&st->tek_rx, SKP_TEK_LEN) ||
        skp_check_len(&st->tek_tx, SKP_TEK_LEN) ||
        skp_check_len(&st->server_pub, SK_SERVER_PUB_LEN) || skp_check_len(&st->otp, SKP_OTP_LEN) ||
        skp_check_len(&st->wrapped_dc, SK_WRAPPED_LEN(k->bits)) ||
        skp_check_text(st->subject, SKP_MAX_SUBJECT_LEN) ||
        skp_check_max(&st->certificate, SKP_MAX_CERT_LEN))
        return SK_ERR_LIMIT;
    if (st->state < SPLITKEY__KEY_STATE__KEY_PENDING ||
        st->state > SPLITKEY__KEY_STATE__KEY_DESTROYED)
        return SK_ERR_PROTO_DECODE;
    if (st->pending_kind > SKD_PENDING_KEY_STATE)
        return SK_ERR_PROTO_DECODE;
    if (st->pending_kind != SKD_PENDING_NONE &&
        (skp_check_len(&st->pending_request_id, SKP_REQUEST_ID_LEN) ||
         skp_check_max(&st->pending_session_id, SKP_SESSION_ID_LEN) ||
         skp_check_max(&st->pending_salt, SKP_MAX_SALT_LEN) ||
         skp_check_max(&st->pending_digest, SKP_MAX_DIGEST_LEN) ||
         skp_check_max(&st->pending_body, SKP_MAX_BODY_LEN) ||
         skp_check_text(st->pending_vc_chosen, SKP_CODE_LEN)))
        return SK_ERR_LIMIT;
    memcpy(k->key_id, st->key_id.data, SKP_KEY_ID_LEN);
    k->purpose = (sk_purpose)st->purpose;
    k->state = (sk_key_state)st->state;
    skp_copy(k->wrapped, &k->wrapped_len, &st->wrapped_dc);
    skp_copy(k->n1, &k->n1_len, &st->n1);
    skp_copy(k->n, &k->n_len, &st->n);
    memcpy(k->tek_rx, st->tek_rx.data, SKP_TEK_LEN);
    memcpy(k->tek_tx, st->tek_tx.data, SKP_TEK_LEN);
    memcpy(k->server_pub, st->server_pub.data, SK_SERVER_PUB_LEN);
    memcpy(k->otp, st->otp.data, SKP_OTP_LEN);
    if (st->subject != NULL)
        memcpy(k->subject, st->subject, strlen(st->subject) + 1);
    skp_copy(k->cert, &k->cert_len, &st->certificate);
    k->pending_kind = st->pending_kind;
    k->generation = st->generation;
    if (k->pending_kind != SKD_PENDING_NONE) {
        memcpy(k->pending_request_id, st->pending_request_id.data, SKP_REQUEST_ID_LEN);
        skp_copy(k->pending_session_id, &k->pending_session_id_len, &st->pending_session_id);
        skp_copy(k->pending_salt, &k->pending_salt_len, &st->pending_salt);
        skp_copy(k->pending_digest, &k->pending_digest_len, &st->pending_digest);
        k->pending_hash = st->pending_hash;
        k->pending_scheme = st->pending_scheme;
        if (st->pending_vc_chosen != NULL)
            memcpy(k->pending_vc_chosen, st->pending_vc_chosen, strlen(st->pending_vc_chosen) + 1);
        skp_copy(k->pending_body, &k->pending_body_len, &st->pending_body);
        k->pending_type = st->pending_type;
    }
    return SK_OK;
}

int sk_device_key_open(sk_device_key **out, const uint8_t *sealed, size_t sealed_len,
                       const uint8_t *storage_key, size_t storage_key_len)
{
    uint8_t *plain = NULL;
    unsigned long long plen = 0;
    ProtobufCMessage *m = NULL;
    sk_device_key *k = NULL;
    int rc;

    *out = NULL;
    if (storage_key_len != SK_STORAGE_KEY_LEN)
        return SK_ERR_ARG;
    if (sealed_len > SKP_MAX_MESSAGE_LEN)
        return SK_ERR_LIMIT;
    if (sealed_len < SEAL_HEAD + SKP_TAG_LEN || memcmp(sealed, seal_magic, sizeof seal_magic) != 0)
        return SK_ERR_PROTO_DECODE;
    plain = malloc(sealed_len);
    if (plain == NULL)
        return SK_ERR_NOMEM;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(
            plain, &plen, NULL, sealed + SEAL_HEAD, sealed_len - SEAL_HEAD, seal_magic,
            sizeof seal_magic, sealed + sizeof seal_magic, storage_key) != 0) {
        rc = SK_ERR_PROTO_AUTH;
        goto out;
    }
    rc = skp_unpack(&splitkey__device_state__descriptor, &m, plain, (size_t)plen,
                    SKP_MAX_MESSAGE_LEN);
    if (rc != SK_OK)
        goto out;
    k = calloc(1, sizeof *k);
    if (k == NULL) {
        rc = SK_ERR_NOMEM;
        goto out;
    }
    rc = load_state(k, (const Splitkey__DeviceState *)m);
    if (rc == SK_OK) {
        *out = k;
        k = NULL;
    }
out:
    skp_free(m);
    sodium_memzero(plain, sealed_len);
    free(plain);
    sk_device_key_free(k);
    return rc;
}

void sk_device_key_free(sk_device_key *key)
{
    if (key == NULL)
        return;
    sodium_memzero(key, sizeof *key);
    free(key);
}

int sk_device_key_id(const sk_device_key *key, uint8_t *key_id, size_t key_id_len)
{
    if (key_id_len != SKP_KEY_ID_LEN)
        return SK_ERR_ARG;
    memcpy(key_id, key->key_id, SKP_KEY_ID_LEN);
    return SK_OK;
}

sk_key_state sk_device_key_state(const sk_device_key *key) { return key->state; }

void sk_device_key_set_progress(sk_device_key *key, const sk_progress *progress)
{
    key->progress = progress;
}
sk_purpose sk_device_key_purpose(const sk_device_key *key) { return key->purpose; }

uint64_t sk_device_key_generation(const sk_device_key *key) { return key->generation; }

int sk_device_key_pending_session(const sk_device_key *key, uint8_t *id, size_t id_len)
{
    if ((key->pending_kind != SKD_PENDING_SIGN && key->pending_kind != SKD_PENDING_REFUSE) ||
        key->pending_session_id_len != SKP_SESSION_ID_LEN)
        return SK_ERR_NOT_FOUND;
    if (id_len < SKP_SESSION_ID_LEN)
        return SK_ERR_BUFFER_TOO_SMALL;
    memcpy(id, key->pending_session_id, SKP_SESSION_ID_LEN);
    return SK_OK;
}
sk_profile sk_device_key_profile(const sk_device_key *key) { return (sk_profile)key->bits; }
const char *sk_device_key_subject(const sk_device_key *key) { return key->subject; }
int sk_device_key_certificate(const sk_device_key *key, uint8_t *out, size_t cap, size_t *written)
{
    *written = key->cert_len;
    if (key->cert_len == 0)
        return SK_OK;
    if (out == NULL || cap < key->cert_len)
        return SK_ERR_BUFFER_TOO_SMALL;
    memcpy(out, key->cert, key->cert_len);
    return SK_OK;
}

int sk_device_key_has_pending(const sk_device_key *key)
{
    return key->pending_kind != SKD_PENDING_NONE;
}

int sk_device_key_pubkey(const sk_device_key *key, sk_pubkey **out)
{
    static const uint8_t e[3] = {0x01, 0x00, 0x01};
    *out = NULL;
    return sk_pubkey_from_modulus(out, key->n, key->n_len, e, sizeof e);
}

int skd_seal_request(skp_eph *eph, uint8_t *msg, size_t cap, size_t *written,
                     const uint8_t *key_id, uint32_t type, const uint8_t *tek_tx,
                     const uint8_t *server_pub, const uint8_t *request_id, const uint8_t *otp,
                     const uint8_t *challenge, size_t challenge_len, const uint8_t *body,
                     size_t body_len)
{
    Splitkey__DeviceRequest r = SPLITKEY__DEVICE_REQUEST__INIT;
    size_t len = 0;
    *written = 0;
    uint8_t *plain = malloc(SKP_MAX_BODY_LEN);
    if (plain == NULL)
        return SK_ERR_NOMEM;
    r.request_id = skp_bin(request_id, SKP_REQUEST_ID_LEN);
    if (otp != NULL)
        r.otp = skp_bin(otp, SKP_OTP_LEN);
    r.challenge = skp_bin(challenge, challenge_len);
    r.body = skp_bin(body, body_len);
    int rc = skp_pack(&r.base, plain, SKP_MAX_BODY_LEN, &len);
    if (rc == SK_OK)
        rc = skp_req_seal(msg, cap, written, eph, key_id, type, tek_tx, server_pub, plain, len,
                          sk_rng_system());
    sodium_memzero(plain, SKP_MAX_BODY_LEN);
    free(plain);
    return rc;
}

/* Codes an unauthenticated frame may carry: transport-level failures only.
 * Anything else (a key state, a PIN verdict) would be a forgery's claim. */
static int plain_code(int code)
{
    switch (code) {
    case SK_ERR_PROTO_DECODE:
    case SK_ERR_PROTO_AUTH:
    case SK_ERR_PROTO_VERSION:
    case SK_ERR_LIMIT:
    case SK_ERR_NOT_FOUND:
    case SK_ERR_STORE_BUSY:
        return code;
    default:
        return SK_ERR_PROTO_DECODE;
    }
}

int skd_open_reply(skd_reply *r, const uint8_t *key_id, const uint8_t *tek_rx,
                   const skp_eph *eph, const uint8_t *request_id, const uint8_t *binding,
                   const uint32_t *types, size_t n, const uint8_t *reply, size_t reply_len)
{
    ProtobufCMessage *m = NULL;
    skp_env *env = malloc(sizeof *env);
    uint8_t *plain = malloc(SKP_MAX_BODY_LEN);
    size_t plain_len = 0;
    int rc;

    memset(r, 0, sizeof *r);
    if (env == NULL || plain == NULL) {
        rc = SK_ERR_NOMEM;
        goto out;
    }
    rc = skp_env_parse(env, reply, reply_len);
    if (rc != SK_OK)
        goto out;
    if (env->type == SPLITKEY__MSG_TYPE__MSG_PLAIN_ERROR) {
        rc = skp_error_read(env->payload, env->payload_len, NULL);
        rc = plain_code(rc == SK_OK ? SK_ERR_PROTO_DECODE : rc);
        goto out;
    }
    bool wanted = env->type == SPLITKEY__MSG_TYPE__MSG_ERROR;
    for (size_t i = 0; i < n; i++)
        wanted = wanted || env->type == types[i];
    if (key_id != NULL && (env->key_id_len != SKP_KEY_ID_LEN ||
                           memcmp(env->key_id, key_id, SKP_KEY_ID_LEN) != 0)) {
        rc = SK_ERR_PROTO_AUTH;
        goto out;
    }
    rc = skp_rep_open(plain, &plain_len, env, tek_rx, eph);
    if (rc != SK_OK)
        goto out;
    rc = skp_unpack(&splitkey__device_reply__descriptor, &m, plain, plain_len, SKP_MAX_BODY_LEN);
    if (rc != SK_OK)
        goto out;
    const Splitkey__DeviceReply *d = (const Splitkey__DeviceReply *)m;
    if (skp_check_len(&d->request_id, SKP_REQUEST_ID_LEN) ||
        (d->otp.len != 0 && skp_check_len(&d->otp, SKP_OTP_LEN)) ||
        (d->challenge.len != 0 && skp_check_len(&d->challenge, SKP_CHALLENGE_LEN)) ||
        d->body.len > SKP_MAX_BODY_LEN) {
        rc = SK_ERR_LIMIT;
        goto out;
    }
    if (sodium_memcmp(d->request_id.data, request_id, SKP_REQUEST_ID_LEN) != 0 ||
        (binding != NULL &&
         (d->request_hash.len != SKP_BINDING_LEN ||
          sodium_memcmp(d->request_hash.data, binding, SKP_BINDING_LEN) != 0))) {
        /* Authentic, but not the answer to this request: another request
         * id, or another message under this one's id (made by a copy of
         * the device state). */
        rc = SK_ERR_PROTO_REPLAY;
        goto out;
    }
    if (!wanted) {
        rc = SK_ERR_PROTO_STATE;
        goto out;
    }
    r->type = env->type;
    r->has_otp = d->otp.len != 0;
    if (r->has_otp)
        memcpy(r->otp, d->otp.data, SKP_OTP_LEN);
    skp_copy(r->challenge, &r->challenge_len, &d->challenge);
    skp_copy(r->body, &r->body_len, &d->body);
out:
    skp_free(m);
    if (plain != NULL) {
        sodium_memzero(plain, SKP_MAX_BODY_LEN);
        free(plain);
    }
    free(env); /* ciphertext only */
    if (rc != SK_OK)
        sodium_memzero(r, sizeof *r);
    return rc;
}

int skd_send(sk_device_key *key, uint8_t *msg, size_t cap, size_t *written, const uint8_t *body,
             size_t body_len)
{
    uint32_t type = key->pending_type;
    if (key->pending_kind == SKD_PENDING_SIGN)
        type = SPLITKEY__MSG_TYPE__MSG_SIGN_SUBMIT;
    else if (key->pending_kind == SKD_PENDING_REVOKE)
        type = SPLITKEY__MSG_TYPE__MSG_REVOKE;
    return skd_seal_request(&key->eph, msg, cap, written, key->key_id, type, key->tek_tx,
                            key->server_pub, key->pending_request_id, key->otp, key->challenge,
                            key->challenge_len, body, body_len);
}

void skd_clear_pending(sk_device_key *key)
{
    key->pending_kind = SKD_PENDING_NONE;
    key->generation++;
    sodium_memzero(key->pending_request_id, sizeof key->pending_request_id);
    sodium_memzero(key->pending_session_id, sizeof key->pending_session_id);
    key->pending_session_id_len = 0;
    sodium_memzero(key->pending_digest, sizeof key->pending_digest);
    key->pending_digest_len = 0;
    sodium_memzero(key->pending_salt, sizeof key->pending_salt);
    key->pending_salt_len = 0;
    key->pending_hash = 0;
    key->pending_scheme = 0;
    sodium_memzero(key->pending_vc_chosen, sizeof key->pending_vc_chosen);
    sodium_memzero(key->pending_body, sizeof key->pending_body);
    key->pending_body_len = 0;
    key->pending_type = 0;
    sodium_memzero(&key->eph, sizeof key->eph);
    sodium_memzero(key->challenge, sizeof key->challenge);
    key->challenge_len = 0;
}

void skd_pending_binding(const sk_device_key *key, uint8_t *out)
{
    if (key->pending_kind == SKD_PENDING_SIGN)
        skp_request_binding(out, SPLITKEY__MSG_TYPE__MSG_SIGN_SUBMIT, key->pending_session_id,
                            key->pending_session_id_len);
    else if (key->pending_kind == SKD_PENDING_REVOKE)
        skp_request_binding(out, SPLITKEY__MSG_TYPE__MSG_REVOKE, NULL, 0);
    else
        skp_request_binding(out, key->pending_type, key->pending_body, key->pending_body_len);
}

int skd_open_pending(sk_device_key *key, skd_reply **out, const uint32_t *types, size_t n,
                     const uint8_t *reply, size_t reply_len)
{
    *out = NULL;
    if (key->pending_kind == SKD_PENDING_NONE)
        return SK_ERR_PROTO_STATE;
    skd_reply *r = malloc(sizeof *r);
    if (r == NULL)
        return SK_ERR_NOMEM;
    uint8_t binding[SKP_BINDING_LEN];
    skd_pending_binding(key, binding);
    int rc = skd_open_reply(r, key->key_id, key->tek_rx, &key->eph, key->pending_request_id,
                            binding, types, n, reply, reply_len);
    if (rc != SK_OK) {
        free(r); /* wiped by skd_open_reply */
        return rc;
    }
    *out = r;
    return SK_OK;
}

void skd_reply_free(skd_reply *r)
{
    if (r == NULL)
        return;
    sodium_memzero(r, sizeof *r);
    free(r);
}

int skd_keep_challenge(sk_device_key *key, const skd_reply *r)
{
    if (r->challenge_len != SKP_CHALLENGE_LEN)
        return SK_ERR_PROTO_DECODE;
    memcpy(key->challenge, r->challenge, SKP_CHALLENGE_LEN);
    key->challenge_len = SKP_CHALLENGE_LEN;
    return SK_OK;
}

int skd_open(sk_device_key *key, uint32_t *type, uint8_t *body, size_t *body_len,
             sk_key_status *status, const uint32_t *types, size_t n, const uint8_t *reply,
             size_t reply_len)
{
    *body_len = 0;
    *type = 0;
    skd_reply *r = NULL;
    int rc = skd_open_pending(key, &r, types, n, reply, reply_len);
    if (rc != SK_OK)
        return rc;
    int code = SK_OK;
    sk_key_status st;
    memset(&st, 0, sizeof st);
    st.state = key->state;
    if (r->type == SPLITKEY__MSG_TYPE__MSG_ERROR) {
        code = skp_error_read(r->body, r->body_len, &st);
        if (code == SK_OK)
            code = SK_ERR_PROTO_DECODE;
    }
    if (code == SK_ERR_PROTO_CHALLENGE) {
        /* Nothing changed at the server: send the same request again with
         * the challenge (sk_device_retry). */
        rc = skd_keep_challenge(key, r);
        if (rc == SK_OK)
            rc = code;
        goto out;
    }
    if (!r->has_otp) {
        rc = SK_ERR_PROTO_DECODE; /* every other reply hands over the next OTP */
        goto out;
    }
    /* The server retired the OTP this request carried: take the new one
     * before anything else, or the next request would look like a clone. */
    memcpy(key->otp, r->otp, SKP_OTP_LEN);
    key->generation++;
    *type = r->type;
    if (code != SK_OK) {
        if (code == SK_ERR_DESTROYED || code == SK_ERR_CLONE_DETECTED)
            key->state = SK_KEY_DESTROYED;
        if (status != NULL)
            *status = st;
        skd_clear_pending(key);
        rc = code;
        goto out;
    }
    memcpy(body, r->body, r->body_len);
    *body_len = r->body_len;
    /* The caller reads the body with the pending fields and then clears. */
    sodium_memzero(&key->eph, sizeof key->eph);
out:
    skd_reply_free(r);
    return rc;
}

int skd_partial(const sk_device_key *key, uint8_t *y, size_t y_len, const uint8_t *pin,
                size_t pin_len, sk_scheme scheme, sk_hash hash, const uint8_t *digest,
                size_t digest_len, const uint8_t *salt, size_t salt_len)
{
    sk_client_share *share = NULL;
    uint8_t em[SKP_MAX_N_LEN];
    size_t em_len = key->bits / 4;
    int rc = sk_pin_check(key->purpose, pin, pin_len);
    if (rc != SK_OK)
        return rc;
    rc = sk_encode(em, em_len, scheme, hash, digest, digest_len, salt, salt_len, 2 * key->bits);
    if (rc != SK_OK)
        goto out;
    rc = sk_client_share_unwrap_progress(&share, key->wrapped, key->wrapped_len, key->n1,
                                         key->n1_len, pin, pin_len, key->progress);
    if (rc != SK_OK)
        goto out;
    rc = sk_device_partial(share, y, y_len, em, em_len);
out:
    sk_client_share_free(share); /* wipes dc */
    sodium_memzero(em, sizeof em);
    if (rc != SK_OK)
        sodium_memzero(y, y_len);
    return rc;
}
