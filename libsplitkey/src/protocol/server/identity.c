/* SPDX-License-Identifier: Apache-2.0 */
/* identity.c - the server identity (X25519 + Ed25519), the policy defaults
 * and the transport keys derived per split key. */
#include <sodium.h>
#include <string.h>

#include "protocol/server/server_internal.h"

static const uint8_t id_magic[4] = {'S', 'K', 'I', '1'};

static int identity_from(sk_server_ident **out, const uint8_t *kx_sk, const uint8_t *ed_seed)
{
    sk_server_ident *id = calloc(1, sizeof *id);
    if (id == NULL)
        return SK_ERR_NOMEM;
    memcpy(id->kx_sk, kx_sk, 32);
    memcpy(id->ed_seed, ed_seed, 32);
    if (crypto_scalarmult_base(id->kx_pk, id->kx_sk) != 0 ||
        crypto_sign_seed_keypair(id->ed_pk, id->ed_sk, id->ed_seed) != 0) {
        sk_server_ident_free(id);
        return SK_ERR_KEY_FORMAT;
    }
    *out = id;
    return SK_OK;
}

int sk_server_ident_generate(sk_server_ident **out, sk_random_fn random, void *random_ctx)
{
    uint8_t seed[64];
    sk_rng rng;
    *out = NULL;
    if (!sk_is_initialised())
        return SK_ERR_NOT_INITIALISED;
    skp_rng(&rng, random, random_ctx);
    int rc = rng.fill(rng.ctx, seed, sizeof seed);
    if (rc == SK_OK)
        rc = identity_from(out, seed, seed + 32);
    sodium_memzero(seed, sizeof seed);
    return rc;
}

int sk_server_ident_export(const sk_server_ident *id, uint8_t *out, size_t out_len)
{
    if (out_len != SK_SERVER_IDENT_LEN)
        return SK_ERR_ARG;
    memcpy(out, id_magic, 4);
    memcpy(out + 4, id->kx_sk, 32);
    memcpy(out + 36, id->ed_seed, 32);
    return SK_OK;
}

int sk_server_ident_import(sk_server_ident **out, const uint8_t *in, size_t in_len)
{
    *out = NULL;
    if (in_len != SK_SERVER_IDENT_LEN || memcmp(in, id_magic, 4) != 0)
        return SK_ERR_KEY_FORMAT;
    return identity_from(out, in + 4, in + 36);
}

int sk_server_ident_from_secrets(sk_server_ident **out, const uint8_t *kx_secret, size_t kx_len,
                                 const uint8_t *ed_secret, size_t ed_len)
{
    *out = NULL;
    if (kx_len != 32 || (ed_len != 32 && ed_len != 64))
        return SK_ERR_KEY_FORMAT;
    int rc = identity_from(out, kx_secret, ed_secret);
    if (rc == SK_OK && ed_len == 64 && sodium_memcmp((*out)->ed_pk, ed_secret + 32, 32) != 0) {
        sk_server_ident_free(*out);
        *out = NULL;
        rc = SK_ERR_KEY_FORMAT;
    }
    return rc;
}

int sk_server_ident_public(const sk_server_ident *id, uint8_t *out, size_t out_len)
{
    if (out_len != SK_SERVER_PUB_LEN)
        return SK_ERR_ARG;
    memcpy(out, id->kx_pk, 32);
    memcpy(out + 32, id->ed_pk, 32);
    return SK_OK;
}

void sk_server_ident_free(sk_server_ident *id)
{
    if (id == NULL)
        return;
    sodium_memzero(id, sizeof *id);
    free(id);
}

void sk_server_policy_default(sk_server_policy *p)
{
    memset(p, 0, sizeof *p);
    p->lock1_failures = 3;
    p->lock1_seconds = 3u * 3600u;
    p->lock2_failures = 6;
    p->lock2_seconds = 24u * 3600u;
    p->destroy_failures = 9;
    p->session_seconds = 120;
    p->open_enrolment = 0;
}

int sks_tek(const sk_server_ident *id, const uint8_t *device_kx_pub, uint8_t *rx, uint8_t *tx)
{
    if (crypto_kx_server_session_keys(rx, tx, id->kx_pk, id->kx_sk, device_kx_pub) != 0)
        return SK_ERR_PROTO_DECODE; /* a low-order or otherwise unusable device key */
    return SK_OK;
}

void sks_derived_hash(uint8_t *out, size_t out_len, const uint8_t *secret, const char *key_label,
                      const char *label, const uint8_t *a, size_t a_len, const uint8_t *b,
                      size_t b_len)
{
    uint8_t key[32];
    crypto_generichash(key, sizeof key, (const uint8_t *)key_label, strlen(key_label), secret, 32);
    crypto_generichash_state st;
    crypto_generichash_init(&st, key, sizeof key, out_len);
    crypto_generichash_update(&st, (const uint8_t *)label, strlen(label));
    crypto_generichash_update(&st, a, a_len);
    if (b != NULL)
        crypto_generichash_update(&st, b, b_len);
    crypto_generichash_final(&st, out, out_len);
    sodium_memzero(&st, sizeof st);
    sodium_memzero(key, sizeof key);
}
