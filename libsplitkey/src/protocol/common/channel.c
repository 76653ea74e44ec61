/* SPDX-License-Identifier: Apache-2.0 */
/* channel.c - the envelopes of protocol version 2 (doc/protocol.md
 * section 1): every request and every reply is XChaCha20-Poly1305 under a key
 * that mixes the transport key with fresh X25519 exchanges, so that recorded
 * traffic plus everything the device stores decrypts nothing. */
#include <sodium.h>
#include <string.h>

#include "protocol/common/protocol.h"

static const uint8_t ad_magic[4] = {'S', 'K', 'E', '2'};
#define SKP_AD_LEN (4u + 4u + SKP_KEY_ID_LEN + 2u * SKP_KX_PUB_LEN)

static void put_be32(uint8_t *p, uint32_t v)
{
    for (int i = 3; i >= 0; i--) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

/* "SKE2" || type || key_id (zeros when none) || this frame's eph_pub ||
 * (replies) the request's eph_pub. */
static size_t make_ad(uint8_t *ad, const uint8_t *key_id, uint32_t type, const uint8_t *eph,
                      const uint8_t *req_eph)
{
    memcpy(ad, ad_magic, 4);
    put_be32(ad + 4, type);
    if (key_id != NULL)
        memcpy(ad + 8, key_id, SKP_KEY_ID_LEN);
    else
        memset(ad + 8, 0, SKP_KEY_ID_LEN);
    memcpy(ad + 8 + SKP_KEY_ID_LEN, eph, SKP_KX_PUB_LEN);
    size_t len = 8 + SKP_KEY_ID_LEN + SKP_KX_PUB_LEN;
    if (req_eph != NULL) {
        memcpy(ad + len, req_eph, SKP_KX_PUB_LEN);
        len += SKP_KX_PUB_LEN;
    }
    return len;
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
    if (e->version != SKP_PROTOCOL_VERSION || e->counter != 0)
        rc = SK_ERR_PROTO_VERSION; /* a version-1 frame, or a future one */
    else if (e->key_id.len != 0 && e->key_id.len != SKP_KEY_ID_LEN)
        rc = SK_ERR_LIMIT;
    else if (e->payload.len > SKP_MAX_MESSAGE_LEN)
        rc = SK_ERR_LIMIT;
    else if (e->type == SPLITKEY__MSG_TYPE__MSG_NONE ||
             e->type > SPLITKEY__MSG_TYPE__MSG_PLAIN_ERROR)
        rc = SK_ERR_PROTO_DECODE;
    else if (e->type == SPLITKEY__MSG_TYPE__MSG_PLAIN_ERROR ? e->eph_pub.len != 0
                                                           : e->eph_pub.len != SKP_KX_PUB_LEN)
        rc = SK_ERR_PROTO_DECODE;
    if (rc == SK_OK) {
        skp_copy(env->key_id, &env->key_id_len, &e->key_id);
        env->type = e->type;
        env->has_eph = e->eph_pub.len == SKP_KX_PUB_LEN;
        if (env->has_eph)
            memcpy(env->eph_pub, e->eph_pub.data, SKP_KX_PUB_LEN);
        skp_copy(env->payload, &env->payload_len, &e->payload);
    }
    skp_free(m);
    return rc;
}

static int pack_env(uint8_t *out, size_t cap, size_t *written, const uint8_t *key_id, uint32_t type,
                    const uint8_t *eph, const uint8_t *payload, size_t payload_len)
{
    Splitkey__Envelope e = SPLITKEY__ENVELOPE__INIT;
    if (key_id != NULL)
        e.key_id = skp_bin(key_id, SKP_KEY_ID_LEN);
    e.type = type;
    e.version = SKP_PROTOCOL_VERSION;
    if (eph != NULL)
        e.eph_pub = skp_bin(eph, SKP_KX_PUB_LEN);
    e.payload = skp_bin(payload, payload_len);
    return skp_pack(&e.base, out, cap, written);
}

/* BLAKE2b-256, keyed with tek when there is one, over label || parts. */
static void derive(uint8_t *out, const uint8_t *tek, const char *label, const uint8_t *a,
                   const uint8_t *b, const uint8_t *c, const uint8_t *d)
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, tek, tek != NULL ? SKP_TEK_LEN : 0, 32);
    crypto_generichash_update(&st, (const uint8_t *)label, strlen(label));
    const uint8_t *parts[4] = {a, b, c, d};
    for (int i = 0; i < 4; i++)
        if (parts[i] != NULL)
            crypto_generichash_update(&st, parts[i], 32);
    crypto_generichash_final(&st, out, 32);
    sodium_memzero(&st, sizeof st);
}

#define LABEL_REQ "splitkey v2 request"
#define LABEL_REP "splitkey v2 reply"

static int aead_seal(uint8_t *out, size_t cap, size_t *written, const uint8_t *key_id,
                     uint32_t type, const uint8_t *eph, const uint8_t *req_eph, const uint8_t *key,
                     const uint8_t *body, size_t body_len, const sk_rng *rng)
{
    uint8_t ad[SKP_AD_LEN];
    unsigned long long clen = 0;
    *written = 0;
    if (body_len > SKP_MAX_BODY_LEN)
        return SK_ERR_LIMIT;
    uint8_t *payload = malloc(SKP_NONCE_LEN + body_len + SKP_TAG_LEN);
    if (payload == NULL)
        return SK_ERR_NOMEM;
    int rc = rng->fill(rng->ctx, payload, SKP_NONCE_LEN);
    if (rc == SK_OK) {
        size_t ad_len = make_ad(ad, key_id, type, eph, req_eph);
        crypto_aead_xchacha20poly1305_ietf_encrypt(payload + SKP_NONCE_LEN, &clen, body, body_len,
                                                   ad, ad_len, NULL, payload, key);
        rc = pack_env(out, cap, written, key_id, type, eph, payload, SKP_NONCE_LEN + (size_t)clen);
    }
    free(payload); /* ciphertext only */
    return rc;
}

static int aead_open(uint8_t *body, size_t *body_len, const skp_env *env, const uint8_t *req_eph,
                     const uint8_t *key)
{
    uint8_t ad[SKP_AD_LEN];
    unsigned long long mlen = 0;
    *body_len = 0;
    if (!env->has_eph || env->payload_len < SKP_NONCE_LEN + SKP_TAG_LEN ||
        env->payload_len - SKP_NONCE_LEN - SKP_TAG_LEN > SKP_MAX_BODY_LEN)
        return SK_ERR_PROTO_DECODE;
    size_t ad_len = make_ad(ad, env->key_id_len ? env->key_id : NULL, env->type, env->eph_pub,
                            req_eph);
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(body, &mlen, NULL, env->payload + SKP_NONCE_LEN,
                                                   env->payload_len - SKP_NONCE_LEN, ad, ad_len,
                                                   env->payload, key) != 0) {
        sodium_memzero(body, env->payload_len - SKP_NONCE_LEN - SKP_TAG_LEN);
        return SK_ERR_PROTO_AUTH;
    }
    *body_len = (size_t)mlen;
    return SK_OK;
}

int skp_req_seal(uint8_t *out, size_t cap, size_t *written, skp_eph *eph, const uint8_t *key_id,
                 uint32_t type, const uint8_t *tek_tx, const uint8_t *server_kx_pub,
                 const uint8_t *body, size_t body_len, const sk_rng *rng)
{
    uint8_t key[32];
    *written = 0;
    int rc = rng->fill(rng->ctx, eph->sk, sizeof eph->sk);
    if (rc != SK_OK)
        return rc;
    crypto_scalarmult_base(eph->pk, eph->sk);
    if (crypto_scalarmult(eph->shared, eph->sk, server_kx_pub) != 0) {
        sodium_memzero(eph, sizeof *eph);
        return SK_ERR_PROTO_AUTH; /* a pinned key of low order */
    }
    memcpy(eph->server_pub, server_kx_pub, SKP_KX_PUB_LEN);
    derive(key, tek_tx, LABEL_REQ, eph->shared, eph->pk, server_kx_pub, NULL);
    rc = aead_seal(out, cap, written, key_id, type, eph->pk, NULL, key, body, body_len, rng);
    sodium_memzero(key, sizeof key);
    eph->ready = rc == SK_OK;
    return rc;
}

int skp_req_open(uint8_t *body, size_t *body_len, uint8_t *shared, const skp_env *env,
                 const uint8_t *tek_rx, const uint8_t *server_kx_sk, const uint8_t *server_kx_pub)
{
    uint8_t key[32];
    *body_len = 0;
    if (!env->has_eph)
        return SK_ERR_PROTO_DECODE;
    if (crypto_scalarmult(shared, server_kx_sk, env->eph_pub) != 0)
        return SK_ERR_PROTO_AUTH;
    derive(key, tek_rx, LABEL_REQ, shared, env->eph_pub, server_kx_pub, NULL);
    int rc = aead_open(body, body_len, env, NULL, key);
    sodium_memzero(key, sizeof key);
    if (rc != SK_OK)
        sodium_memzero(shared, 32);
    return rc;
}

int skp_rep_seal(uint8_t *out, size_t cap, size_t *written, const uint8_t *key_id, uint32_t type,
                 const uint8_t *tek_tx, const uint8_t *shared, const uint8_t *req_eph,
                 const uint8_t *body, size_t body_len, const sk_rng *rng)
{
    uint8_t f[32], fpub[32], shared2[32], key[32];
    *written = 0;
    int rc = rng->fill(rng->ctx, f, sizeof f);
    if (rc != SK_OK)
        return rc;
    crypto_scalarmult_base(fpub, f);
    if (crypto_scalarmult(shared2, f, req_eph) != 0) {
        rc = SK_ERR_PROTO_AUTH;
        goto out;
    }
    derive(key, tek_tx, LABEL_REP, shared, shared2, req_eph, fpub);
    rc = aead_seal(out, cap, written, key_id, type, fpub, req_eph, key, body, body_len, rng);
out:
    sodium_memzero(f, sizeof f);
    sodium_memzero(shared2, sizeof shared2);
    sodium_memzero(key, sizeof key);
    return rc;
}

int skp_rep_open(uint8_t *body, size_t *body_len, const skp_env *env, const uint8_t *tek_rx,
                 const skp_eph *eph)
{
    uint8_t shared2[32], key[32];
    *body_len = 0;
    if (!eph->ready)
        return SK_ERR_PROTO_STATE; /* no request of this object in flight */
    if (!env->has_eph)
        return SK_ERR_PROTO_DECODE;
    if (crypto_scalarmult(shared2, eph->sk, env->eph_pub) != 0)
        return SK_ERR_PROTO_AUTH;
    derive(key, tek_rx, LABEL_REP, eph->shared, shared2, eph->pk, env->eph_pub);
    int rc = aead_open(body, body_len, env, eph->pk, key);
    sodium_memzero(shared2, sizeof shared2);
    sodium_memzero(key, sizeof key);
    return rc;
}

int skp_env_plain(uint8_t *out, size_t cap, size_t *written, const uint8_t *key_id, uint32_t type,
                  const uint8_t *body, size_t body_len)
{
    if (body_len > SKP_MAX_BODY_LEN)
        return SK_ERR_LIMIT;
    return pack_env(out, cap, written, key_id, type, NULL, body, body_len);
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

void skp_request_binding(uint8_t *out, uint32_t type, const uint8_t *part, size_t part_len)
{
    static const char label[] = "splitkey request binding v2";
    uint8_t t[4] = {(uint8_t)(type >> 24), (uint8_t)(type >> 16), (uint8_t)(type >> 8),
                    (uint8_t)type};
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, SKP_BINDING_LEN);
    crypto_generichash_update(&st, (const uint8_t *)label, sizeof label - 1);
    crypto_generichash_update(&st, t, sizeof t);
    if (part_len != 0)
        crypto_generichash_update(&st, part, part_len);
    crypto_generichash_final(&st, out, SKP_BINDING_LEN);
}

void skp_token_proof(uint8_t *out, const uint8_t *secret, uint32_t purpose, unsigned profile,
                     const uint8_t *kx_pub, const uint8_t *n1, size_t n1_len)
{
    static const char label[] = "splitkey token proof v2";
    uint8_t head[5] = {(uint8_t)purpose, (uint8_t)(profile >> 24), (uint8_t)(profile >> 16),
                       (uint8_t)(profile >> 8), (uint8_t)profile};
    crypto_generichash_state st;
    crypto_generichash_init(&st, secret, SKP_TOKEN_SECRET_LEN, SKP_TOKEN_PROOF_LEN);
    crypto_generichash_update(&st, (const uint8_t *)label, sizeof label - 1);
    crypto_generichash_update(&st, head, sizeof head);
    crypto_generichash_update(&st, kx_pub, SKP_KX_PUB_LEN);
    crypto_generichash_update(&st, n1, n1_len);
    crypto_generichash_final(&st, out, SKP_TOKEN_PROOF_LEN);
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
