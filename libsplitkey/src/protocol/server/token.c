/* SPDX-License-Identifier: Apache-2.0 */
/* token.c - one-time registration tokens (doc/protocol.md section 3): a statement
 * "this subject may enrol a key of this purpose until then", signed with the
 * server's Ed25519 key, and a secret the device proves it knows.
 * Text form: "skt2." || base64url(payload || sig) || "." || base64url(secret).
 * The device sends only the part before the second dot, with a proof over
 * its own key and n1 (skp_token_proof); the secret never travels, so an
 * observer of an enrolment cannot enrol with the token.  The server keeps
 * no table of secrets: secret = keyed BLAKE2b-256 (key: a token key derived
 * from the identity's Ed25519 seed) of "splitkey token secret v2" || id. */
#include <sodium.h>
#include <string.h>

#include "protocol/server/server_internal.h"

static const char token_prefix[] = "skt2.";
static const uint8_t token_magic[4] = {'S', 'K', 'T', '2'};

static void token_secret(uint8_t *out, const sk_server_ident *id, const uint8_t *token_id)
{
    sks_derived_hash(out, SKP_TOKEN_SECRET_LEN, id->ed_seed, "splitkey token key v2",
                     "splitkey token secret v2", token_id, SKP_TOKEN_ID_LEN, NULL, 0);
}
#define TOKEN_FIXED (4u + 1u + 8u + SKP_TOKEN_ID_LEN + 2u)
#define TOKEN_MAX_RAW ((SKP_MAX_TOKEN_LEN / 4u) * 3u + 3u)

int sk_server_token_mint(const sk_server_ident *id, char *out, size_t cap, size_t *written,
                         const char *subject, sk_purpose purpose, uint64_t expires_at,
                         sk_random_fn random, void *random_ctx)
{
    uint8_t raw[TOKEN_MAX_RAW];
    sk_rng rng;
    *written = 0;
    size_t subject_len = strlen(subject);
    if (skp_purpose_ok((uint32_t)purpose) != SK_OK || subject_len == 0 ||
        skp_check_text(subject, SKP_MAX_SUBJECT_LEN) != SK_OK)
        return SK_ERR_ARG;
    size_t payload_len = TOKEN_FIXED + subject_len;
    size_t raw_len = payload_len + SKP_ED_SIG_LEN;
    size_t pub_len = sizeof token_prefix - 1 +
                     sodium_base64_ENCODED_LEN(raw_len, sodium_base64_VARIANT_URLSAFE_NO_PADDING) -
                     1;
    size_t sec_len =
        sodium_base64_ENCODED_LEN(SKP_TOKEN_SECRET_LEN, sodium_base64_VARIANT_URLSAFE_NO_PADDING) -
        1;
    size_t text_len = pub_len + 1 + sec_len;
    if (raw_len > sizeof raw || text_len > SKP_MAX_TOKEN_LEN)
        return SK_ERR_LIMIT;
    *written = text_len;
    if (cap < text_len + 1)
        return SK_ERR_BUFFER_TOO_SMALL;
    uint8_t *p = raw;
    memcpy(p, token_magic, 4);
    p += 4;
    *p++ = (uint8_t)purpose;
    for (int i = 7; i >= 0; i--)
        *p++ = (uint8_t)(expires_at >> (8 * i));
    skp_rng(&rng, random, random_ctx);
    int rc = rng.fill(rng.ctx, p, SKP_TOKEN_ID_LEN);
    if (rc != SK_OK)
        return rc;
    p += SKP_TOKEN_ID_LEN;
    *p++ = (uint8_t)(subject_len >> 8);
    *p++ = (uint8_t)subject_len;
    memcpy(p, subject, subject_len);
    crypto_sign_detached(raw + payload_len, NULL, raw, payload_len, id->ed_sk);
    memcpy(out, token_prefix, sizeof token_prefix - 1);
    sodium_bin2base64(out + sizeof token_prefix - 1, cap - (sizeof token_prefix - 1), raw, raw_len,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    uint8_t secret[SKP_TOKEN_SECRET_LEN];
    token_secret(secret, id, raw + 4 + 1 + 8);
    out[pub_len] = '.';
    sodium_bin2base64(out + pub_len + 1, cap - pub_len - 1, secret, sizeof secret,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(secret, sizeof secret);
    return SK_OK;
}

/* Decodes the text form into raw; checks the structure only. */
static int token_decode(const uint8_t *token, size_t token_len, uint8_t *raw, size_t *raw_len,
                        size_t *subject_len)
{
    size_t pl = sizeof token_prefix - 1;
    if (token_len <= pl || token_len > SKP_MAX_TOKEN_LEN || memcmp(token, token_prefix, pl) != 0)
        return SK_ERR_TOKEN;
    if (sodium_base642bin(raw, TOKEN_MAX_RAW, (const char *)token + pl, token_len - pl, NULL,
                          raw_len, NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
        return SK_ERR_TOKEN;
    if (*raw_len < TOKEN_FIXED + SKP_ED_SIG_LEN || memcmp(raw, token_magic, 4) != 0)
        return SK_ERR_TOKEN;
    *subject_len = (size_t)raw[TOKEN_FIXED - 2] << 8 | raw[TOKEN_FIXED - 1];
    if (TOKEN_FIXED + *subject_len + SKP_ED_SIG_LEN != *raw_len)
        return SK_ERR_TOKEN;
    return SK_OK;
}

int sks_token_id(const uint8_t *token, size_t token_len, uint8_t *token_id)
{
    uint8_t raw[TOKEN_MAX_RAW];
    size_t raw_len = 0, subject_len = 0;
    int rc = token_decode(token, token_len, raw, &raw_len, &subject_len);
    if (rc == SK_OK)
        memcpy(token_id, raw + 4 + 1 + 8, SKP_TOKEN_ID_LEN);
    return rc;
}

int sks_token_check(const sk_server_ident *id, const uint8_t *token, size_t token_len,
                    const uint8_t *proof, size_t proof_len, unsigned profile,
                    const uint8_t *kx_pub, const uint8_t *n1, size_t n1_len, sk_purpose purpose,
                    uint64_t now, char *subject, size_t subject_cap, uint8_t *token_id)
{
    uint8_t raw[TOKEN_MAX_RAW];
    size_t raw_len = 0, subject_len = 0;
    int rc = token_decode(token, token_len, raw, &raw_len, &subject_len);
    if (rc != SK_OK)
        return rc;
    size_t payload_len = raw_len - SKP_ED_SIG_LEN;
    if (crypto_sign_verify_detached(raw + payload_len, raw, payload_len, id->ed_pk) != 0)
        return SK_ERR_TOKEN;
    uint64_t expires_at = 0;
    for (int i = 0; i < 8; i++)
        expires_at = expires_at << 8 | raw[5 + i];
    if (raw[4] != (uint8_t)purpose || now >= expires_at || subject_len + 1 > subject_cap ||
        subject_len == 0)
        return SK_ERR_TOKEN;
    memcpy(subject, raw + TOKEN_FIXED, subject_len);
    subject[subject_len] = '\0';
    if (skp_check_text(subject, SKP_MAX_SUBJECT_LEN) != SK_OK)
        return SK_ERR_TOKEN;
    /* Knowledge of the secret, bound to this device key and n1. */
    uint8_t secret[SKP_TOKEN_SECRET_LEN], want[SKP_TOKEN_PROOF_LEN];
    token_secret(secret, id, raw + 4 + 1 + 8);
    skp_token_proof(want, secret, (uint32_t)purpose, profile, kx_pub, n1, n1_len);
    int ok = proof_len == SKP_TOKEN_PROOF_LEN && sodium_memcmp(want, proof, proof_len) == 0;
    sodium_memzero(secret, sizeof secret);
    sodium_memzero(want, sizeof want);
    if (!ok)
        return SK_ERR_TOKEN;
    memcpy(token_id, raw + 4 + 1 + 8, SKP_TOKEN_ID_LEN);
    return SK_OK;
}
