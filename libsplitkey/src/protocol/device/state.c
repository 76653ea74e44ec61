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
    st.format = 1;
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
    st.send_counter = key->send_counter;
    st.recv_counter = key->recv_counter;
    st.otp = skp_bin(key->otp, SKP_OTP_LEN);
    st.subject = (char *)key->subject;
    st.certificate = skp_bin(key->cert, key->cert_len);
    st.pending_kind = key->pending_kind;
    if (key->pending_kind != SKD_PENDING_NONE) {
        st.pending_request_id = skp_bin(key->pending_request_id, SKP_REQUEST_ID_LEN);
        st.pending_session_id = skp_bin(key->pending_session_id, key->pending_session_id_len);
        st.pending_salt = skp_bin(key->pending_salt, key->pending_salt_len);
        st.pending_digest = skp_bin(key->pending_digest, key->pending_digest_len);
        st.pending_hash = key->pending_hash;
        st.pending_scheme = key->pending_scheme;
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
    if (st->format != 1 || skp_profile_ok(st->profile) != SK_OK ||
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
    if (st->pending_kind > SKD_PENDING_OTP)
        return SK_ERR_PROTO_DECODE;
    if (st->pending_kind != SKD_PENDING_NONE &&
        (skp_check_len(&st->pending_request_id, SKP_REQUEST_ID_LEN) ||
         skp_check_max(&st->pending_session_id, SKP_SESSION_ID_LEN) ||
         skp_check_max(&st->pending_salt, SKP_MAX_SALT_LEN) ||
         skp_check_max(&st->pending_digest, SKP_MAX_DIGEST_LEN)))
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
    k->send_counter = st->send_counter;
    k->recv_counter = st->recv_counter;
    memcpy(k->otp, st->otp.data, SKP_OTP_LEN);
    if (st->subject != NULL)
        memcpy(k->subject, st->subject, strlen(st->subject) + 1);
    skp_copy(k->cert, &k->cert_len, &st->certificate);
    k->pending_kind = st->pending_kind;
    if (k->pending_kind != SKD_PENDING_NONE) {
        memcpy(k->pending_request_id, st->pending_request_id.data, SKP_REQUEST_ID_LEN);
        skp_copy(k->pending_session_id, &k->pending_session_id_len, &st->pending_session_id);
        skp_copy(k->pending_salt, &k->pending_salt_len, &st->pending_salt);
        skp_copy(k->pending_digest, &k->pending_digest_len, &st->pending_digest);
        k->pending_hash = st->pending_hash;
        k->pending_scheme = st->pending_scheme;
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
sk_purpose sk_device_key_purpose(const sk_device_key *key) { return key->purpose; }
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

uint64_t skd_next_counter(uint64_t previous, uint64_t now)
{
    uint64_t t = now < (UINT64_MAX >> 16) ? now << 16 : UINT64_MAX - 1;
    uint64_t next = previous + 1;
    return t > next ? t : next;
}

int skd_send(sk_device_key *key, uint8_t *msg, size_t cap, size_t *written, uint64_t now,
             uint32_t type, const uint8_t *body, size_t body_len)
{
    if (key->send_counter == UINT64_MAX)
        return SK_ERR_PROTO_STATE;
    uint64_t counter = skd_next_counter(key->send_counter, now);
    int rc = skp_env_seal(msg, cap, written, key->key_id, type, counter, key->tek_tx, body,
                          body_len, sk_rng_system());
    if (rc == SK_OK)
        key->send_counter = counter;
    return rc;
}

int skd_open(sk_device_key *key, uint32_t *type, uint8_t *body, size_t *body_len,
             sk_key_status *status, const uint32_t *types, size_t n, const uint8_t *reply,
             size_t reply_len)
{
    skp_env *env = malloc(sizeof *env);
    int rc;

    *body_len = 0;
    *type = 0;
    if (env == NULL)
        return SK_ERR_NOMEM;
    rc = skp_env_parse(env, reply, reply_len);
    if (rc != SK_OK)
        goto out;
    if (env->type == SPLITKEY__MSG_TYPE__MSG_PLAIN_ERROR) {
        /* Unauthenticated: report, change nothing. */
        rc = skp_error_read(env->payload, env->payload_len, status);
        if (rc == SK_OK)
            rc = SK_ERR_PROTO_DECODE;
        goto out;
    }
    bool wanted = env->type == SPLITKEY__MSG_TYPE__MSG_ERROR;
    for (size_t i = 0; i < n; i++)
        wanted = wanted || env->type == types[i];
    if (!wanted) {
        rc = SK_ERR_PROTO_STATE;
        goto out;
    }
    if (env->key_id_len != SKP_KEY_ID_LEN ||
        memcmp(env->key_id, key->key_id, SKP_KEY_ID_LEN) != 0) {
        rc = SK_ERR_PROTO_AUTH;
        goto out;
    }
    rc = skp_env_open(body, body_len, env, key->tek_rx, key->recv_counter);
    if (rc != SK_OK)
        goto out;
    key->recv_counter = env->counter;
    *type = env->type;
    if (env->type == SPLITKEY__MSG_TYPE__MSG_ERROR) {
        sk_key_status st;
        memset(&st, 0, sizeof st);
        st.state = key->state;
        rc = skp_error_read(body, *body_len, &st);
        if (rc == SK_OK)
            rc = SK_ERR_PROTO_DECODE;
        if (rc == SK_ERR_DESTROYED || rc == SK_ERR_CLONE_DETECTED)
            key->state = SK_KEY_DESTROYED;
        if (status != NULL)
            *status = st;
        /* An authenticated error answers the request in flight. */
        key->pending_kind = SKD_PENDING_NONE;
        sodium_memzero(body, *body_len);
        *body_len = 0;
    }
out:
    free(env); /* holds ciphertext only */
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
    rc = sk_client_share_unwrap(&share, key->wrapped, key->wrapped_len, key->n1, key->n1_len, pin,
                                pin_len);
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
