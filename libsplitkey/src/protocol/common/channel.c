/* channel.c - authenticated envelopes (SPEC 3.1): XChaCha20-Poly1305-IETF
 * under a per-direction transport key, associated data key_id || type ||
 * counter, strictly increasing counters. */
#include <sodium.h>
#include <string.h>

#include "protocol/common/protocol.h"

#define SKP_AD_LEN (SKP_KEY_ID_LEN + 4u + 8u)

static void put_be32(uint8_t *p, uint32_t v)
{
    for (int i = 3; i >= 0; i--) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

static void put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

static void make_ad(uint8_t *ad, const uint8_t *key_id, uint32_t type, uint64_t counter)
{
    memcpy(ad, key_id, SKP_KEY_ID_LEN);
    put_be32(ad + SKP_KEY_ID_LEN, type);
    put_be64(ad + SKP_KEY_ID_LEN + 4, counter);
}

int skp_env_parse(skp_env *env, const uint8_t *in, size_t len)
{
    ProtobufCMessage *m;
    memset(env, 0, offsetof(skp_env, payload));
    env->payload_len = 0;
    int rc = skp_unpack(&splitkey__envelope__descriptor, &m, in, len, SKP_MAX_MESSAGE_LEN);
    if (rc != SK_OK)
        return rc;
    Splitkey__Envelope *e = (Splitkey__Envelope *)m;
    if (e->key_id.len != 0 && e->key_id.len != SKP_KEY_ID_LEN)
        rc = SK_ERR_LIMIT;
    else if (e->payload.len > SKP_MAX_MESSAGE_LEN)
        rc = SK_ERR_LIMIT;
    else if (e->type == SPLITKEY__MSG_TYPE__MSG_NONE ||
             e->type > SPLITKEY__MSG_TYPE__MSG_PLAIN_ERROR)
        rc = SK_ERR_PROTO_DECODE;
    if (rc == SK_OK) {
        skp_copy(env->key_id, &env->key_id_len, &e->key_id);
        env->type = e->type;
        env->counter = e->counter;
        skp_copy(env->payload, &env->payload_len, &e->payload);
    }
    skp_free(m);
    return rc;
}

int skp_env_open(uint8_t *body, size_t *body_len, const skp_env *env, const uint8_t *tek,
                 uint64_t last_seen)
{
    uint8_t ad[SKP_AD_LEN];
    unsigned long long mlen = 0;

    *body_len = 0;
    if (env->key_id_len != SKP_KEY_ID_LEN)
        return SK_ERR_PROTO_DECODE;
    if (env->payload_len < SKP_NONCE_LEN + SKP_TAG_LEN ||
        env->payload_len - SKP_NONCE_LEN - SKP_TAG_LEN > SKP_MAX_BODY_LEN)
        return SK_ERR_PROTO_DECODE;
    make_ad(ad, env->key_id, env->type, env->counter);
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(body, &mlen, NULL, env->payload + SKP_NONCE_LEN,
                                                   env->payload_len - SKP_NONCE_LEN, ad, sizeof ad,
                                                   env->payload, tek) != 0) {
        sodium_memzero(body, env->payload_len - SKP_NONCE_LEN - SKP_TAG_LEN);
        return SK_ERR_PROTO_AUTH;
    }
    /* Authentic but not newer than the last one accepted: a replay or a
     * reordering. */
    if (env->counter <= last_seen) {
        sodium_memzero(body, (size_t)mlen);
        return SK_ERR_PROTO_REPLAY;
    }
    *body_len = (size_t)mlen;
    return SK_OK;
}

static int pack_env(uint8_t *out, size_t cap, size_t *written, const uint8_t *key_id, uint32_t type,
                    uint64_t counter, const uint8_t *payload, size_t payload_len)
{
    Splitkey__Envelope e = SPLITKEY__ENVELOPE__INIT;
    if (key_id != NULL)
        e.key_id = skp_bin(key_id, SKP_KEY_ID_LEN);
    e.type = type;
    e.counter = counter;
    e.payload = skp_bin(payload, payload_len);
    return skp_pack(&e.base, out, cap, written);
}

int skp_env_seal(uint8_t *out, size_t cap, size_t *written, const uint8_t *key_id, uint32_t type,
                 uint64_t counter, const uint8_t *tek, const uint8_t *body, size_t body_len,
                 const sk_rng *rng)
{
    uint8_t ad[SKP_AD_LEN];
    unsigned long long clen = 0;
    int rc;

    *written = 0;
    if (body_len > SKP_MAX_BODY_LEN)
        return SK_ERR_LIMIT;
    uint8_t *payload = malloc(SKP_NONCE_LEN + body_len + SKP_TAG_LEN);
    if (payload == NULL)
        return SK_ERR_NOMEM;
    rc = rng->fill(rng->ctx, payload, SKP_NONCE_LEN);
    if (rc != SK_OK)
        goto out;
    make_ad(ad, key_id, type, counter);
    crypto_aead_xchacha20poly1305_ietf_encrypt(payload + SKP_NONCE_LEN, &clen, body, body_len, ad,
                                               sizeof ad, NULL, payload, tek);
    rc = pack_env(out, cap, written, key_id, type, counter, payload, SKP_NONCE_LEN + (size_t)clen);
out:
    free(payload); /* ciphertext only: nothing secret */
    return rc;
}

int skp_env_plain(uint8_t *out, size_t cap, size_t *written, const uint8_t *key_id, uint32_t type,
                  const uint8_t *body, size_t body_len)
{
    if (body_len > SKP_MAX_BODY_LEN)
        return SK_ERR_LIMIT;
    return pack_env(out, cap, written, key_id, type, 0, body, body_len);
}

void skp_otp_hash(uint8_t *out, const uint8_t *key_id, const uint8_t *otp)
{
    static const char label[] = "splitkey otp v1";
    crypto_generichash_state st;
    crypto_generichash_init(&st, key_id, SKP_KEY_ID_LEN, SKP_OTP_HASH_LEN);
    crypto_generichash_update(&st, (const uint8_t *)label, sizeof label - 1);
    crypto_generichash_update(&st, otp, SKP_OTP_LEN);
    crypto_generichash_final(&st, out, SKP_OTP_HASH_LEN);
    sodium_memzero(&st, sizeof st);
}

void skp_sha256_3(uint8_t *out, const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len,
                  const uint8_t *c, size_t c_len)
{
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    if (a != NULL)
        crypto_hash_sha256_update(&st, a, a_len);
    if (b != NULL)
        crypto_hash_sha256_update(&st, b, b_len);
    if (c != NULL)
        crypto_hash_sha256_update(&st, c, c_len);
    crypto_hash_sha256_final(&st, out);
    sodium_memzero(&st, sizeof st);
}

void skp_revoke_digest(uint8_t *out, const uint8_t *key_id)
{
    static const char label[] = "splitkey revoke v1";
    skp_sha256_3(out, (const uint8_t *)label, sizeof label - 1, key_id, SKP_KEY_ID_LEN, NULL, 0);
}

int skp_enrol_signed_data(uint8_t *out, size_t cap, size_t *written, const char *label,
                          const uint8_t *t, const uint8_t *body, size_t body_len)
{
    size_t ll = strlen(label);
    size_t need = ll + SKP_HASH32_LEN + body_len;
    *written = need;
    if (need > cap)
        return SK_ERR_BUFFER_TOO_SMALL;
    memcpy(out, label, ll);
    memcpy(out + ll, t, SKP_HASH32_LEN);
    memcpy(out + ll + SKP_HASH32_LEN, body, body_len);
    return SK_OK;
}
