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

/* The approvals segment: n records of operator public key (32) || Ed25519
 * signature (64) over approval_ctx || payload. */
static const char approval_ctx[] = "splitkey token approval v1";
#define APPROVAL_LEN (SK_OPERATOR_PUB_LEN + SKP_ED_SIG_LEN)
#define APPROVALS_MAX_RAW (SK_MAX_TOKEN_APPROVALS * APPROVAL_LEN)
#define APPROVALS_B64_MAX \
    (sodium_base64_ENCODED_LEN(APPROVALS_MAX_RAW, sodium_base64_VARIANT_URLSAFE_NO_PADDING))

/* Decodes the public part ("skt2." body ["." approvals]) into raw and the
 * approvals (NULL: not wanted); checks the structure only. */
static int token_decode_full(const uint8_t *token, size_t token_len, uint8_t *raw, size_t *raw_len,
                             size_t *subject_len, uint8_t *approvals, size_t *n_approvals)
{
    size_t pl = sizeof token_prefix - 1;
    if (n_approvals != NULL)
        *n_approvals = 0;
    if (token_len <= pl || token_len > SKP_MAX_TOKEN_LEN || memcmp(token, token_prefix, pl) != 0)
        return SK_ERR_TOKEN;
    const uint8_t *dot = memchr(token + pl, '.', token_len - pl);
    size_t body_len = dot != NULL ? (size_t)(dot - (token + pl)) : token_len - pl;
    if (sodium_base642bin(raw, TOKEN_MAX_RAW, (const char *)token + pl, body_len, NULL, raw_len,
                          NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
        return SK_ERR_TOKEN;
    if (*raw_len < TOKEN_FIXED + SKP_ED_SIG_LEN || memcmp(raw, token_magic, 4) != 0)
        return SK_ERR_TOKEN;
    *subject_len = (size_t)raw[TOKEN_FIXED - 2] << 8 | raw[TOKEN_FIXED - 1];
    if (TOKEN_FIXED + *subject_len + SKP_ED_SIG_LEN != *raw_len)
        return SK_ERR_TOKEN;
    if (dot != NULL) {
        uint8_t appr[APPROVALS_MAX_RAW];
        size_t appr_len = 0;
        const char *a = (const char *)dot + 1;
        size_t a_len = token_len - (size_t)(dot + 1 - token);
        if (a_len == 0 || memchr(a, '.', a_len) != NULL ||
            sodium_base642bin(appr, sizeof appr, a, a_len, NULL, &appr_len, NULL,
                              sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
            appr_len == 0 || appr_len % APPROVAL_LEN != 0)
            return SK_ERR_TOKEN;
        if (approvals != NULL)
            memcpy(approvals, appr, appr_len);
        if (n_approvals != NULL)
            *n_approvals = appr_len / APPROVAL_LEN;
    }
    return SK_OK;
}

static int token_decode(const uint8_t *token, size_t token_len, uint8_t *raw, size_t *raw_len,
                        size_t *subject_len)
{
    return token_decode_full(token, token_len, raw, raw_len, subject_len, NULL, NULL);
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

/* -------------------------------------------------------------- approvals */

static int approval_verify(const uint8_t *approval, const uint8_t *payload, size_t payload_len)
{
    uint8_t msg[sizeof approval_ctx - 1 + TOKEN_MAX_RAW];
    memcpy(msg, approval_ctx, sizeof approval_ctx - 1);
    memcpy(msg + sizeof approval_ctx - 1, payload, payload_len);
    return crypto_sign_verify_detached(approval + SK_OPERATOR_PUB_LEN, msg,
                                       sizeof approval_ctx - 1 + payload_len, approval) == 0
               ? SK_OK
               : SK_ERR_TOKEN;
}

/* Reads a public part: body fields, and the approvals, every one verified
 * and no operator twice. */
static int token_read_public(sk_token_info *info, const uint8_t *pub, size_t pub_len,
                             uint8_t *raw, size_t *raw_len)
{
    uint8_t approvals[APPROVALS_MAX_RAW];
    size_t subject_len = 0, n = 0;
    memset(info, 0, sizeof *info);
    int rc = token_decode_full(pub, pub_len, raw, raw_len, &subject_len, approvals, &n);
    if (rc != SK_OK)
        return rc;
    size_t payload_len = *raw_len - SKP_ED_SIG_LEN;
    if (n > SK_MAX_TOKEN_APPROVALS || subject_len == 0 || subject_len > SKP_MAX_SUBJECT_LEN)
        return SK_ERR_TOKEN;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *a = approvals + i * APPROVAL_LEN;
        for (size_t j = 0; j < i; j++)
            if (memcmp(info->operators[j], a, SK_OPERATOR_PUB_LEN) == 0)
                return SK_ERR_TOKEN;
        if (approval_verify(a, raw, payload_len) != SK_OK)
            return SK_ERR_TOKEN;
        memcpy(info->operators[i], a, SK_OPERATOR_PUB_LEN);
    }
    memcpy(info->subject, raw + TOKEN_FIXED, subject_len);
    info->subject[subject_len] = '\0';
    if (skp_check_text(info->subject, SKP_MAX_SUBJECT_LEN) != SK_OK)
        return SK_ERR_TOKEN;
    info->n_operators = n;
    info->purpose = (sk_purpose)raw[4];
    for (int i = 0; i < 8; i++)
        info->expires_at = info->expires_at << 8 | raw[5 + i];
    memcpy(info->token_id, raw + 4 + 1 + 8, SKP_TOKEN_ID_LEN);
    return SK_OK;
}

/* The public part of a whole token text: everything before the last dot. */
static int token_public_len(const char *token, size_t token_len, size_t *pub_len)
{
    const char *dot = NULL;
    for (size_t i = token_len; i > 0; i--)
        if (token[i - 1] == '.') {
            dot = token + i - 1;
            break;
        }
    if (dot == NULL || (size_t)(dot - token) <= sizeof token_prefix - 1)
        return SK_ERR_TOKEN;
    *pub_len = (size_t)(dot - token);
    return SK_OK;
}

int sk_server_token_read(sk_token_info *info, const char *token, size_t token_len)
{
    uint8_t raw[TOKEN_MAX_RAW];
    size_t raw_len = 0, pub_len = 0;
    memset(info, 0, sizeof *info);
    int rc = token_public_len(token, token_len, &pub_len);
    if (rc == SK_OK)
        rc = token_read_public(info, (const uint8_t *)token, pub_len, raw, &raw_len);
    if (rc != SK_OK)
        memset(info, 0, sizeof *info);
    return rc;
}

int sks_token_info(sk_token_info *info, const uint8_t *pub, size_t pub_len)
{
    uint8_t raw[TOKEN_MAX_RAW];
    size_t raw_len = 0;
    int rc = token_read_public(info, pub, pub_len, raw, &raw_len);
    if (rc != SK_OK)
        memset(info, 0, sizeof *info);
    return rc;
}

int sk_server_token_approve(char *out, size_t cap, size_t *written, const char *token,
                            size_t token_len, const uint8_t *operator_sk)
{
    uint8_t raw[TOKEN_MAX_RAW], approvals[APPROVALS_MAX_RAW];
    uint8_t msg[sizeof approval_ctx - 1 + TOKEN_MAX_RAW];
    size_t raw_len = 0, pub_len = 0, subject_len = 0, n = 0;
    sk_token_info info;
    *written = 0;
    if (token_len > SKP_MAX_TOKEN_LEN || token_public_len(token, token_len, &pub_len) != SK_OK ||
        token_read_public(&info, (const uint8_t *)token, pub_len, raw, &raw_len) != SK_OK ||
        token_decode_full((const uint8_t *)token, pub_len, raw, &raw_len, &subject_len, approvals,
                          &n) != SK_OK)
        return SK_ERR_TOKEN;
    const uint8_t *op_pub = operator_sk + 32; /* libsodium: seed || public key */
    for (size_t i = 0; i < n; i++)
        if (memcmp(approvals + i * APPROVAL_LEN, op_pub, SK_OPERATOR_PUB_LEN) == 0)
            return SK_ERR_ARG; /* this operator approved it already */
    if (n >= SK_MAX_TOKEN_APPROVALS)
        return SK_ERR_LIMIT;
    const char *secret = token + pub_len + 1;
    size_t secret_len = token_len - pub_len - 1;
    uint8_t secret_bin[SKP_TOKEN_SECRET_LEN];
    size_t secret_bin_len = 0;
    int secret_ok = sodium_base642bin(secret_bin, sizeof secret_bin, secret, secret_len, NULL,
                                      &secret_bin_len, NULL,
                                      sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0 &&
                    secret_bin_len == SKP_TOKEN_SECRET_LEN;
    sodium_memzero(secret_bin, sizeof secret_bin);
    if (!secret_ok)
        return SK_ERR_TOKEN;
    size_t body_b64 = sodium_base64_ENCODED_LEN(raw_len, sodium_base64_VARIANT_URLSAFE_NO_PADDING) - 1;
    /* the text once every approval is in: a token that could never carry
     * them all is refused at the first */
    size_t full_len = sizeof token_prefix - 1 + body_b64 + 1 + (APPROVALS_B64_MAX - 1) + 1 +
                      secret_len;
    size_t appr_b64 = sodium_base64_ENCODED_LEN((n + 1) * APPROVAL_LEN,
                                                sodium_base64_VARIANT_URLSAFE_NO_PADDING) - 1;
    size_t text_len = sizeof token_prefix - 1 + body_b64 + 1 + appr_b64 + 1 + secret_len;
    if (full_len > SKP_MAX_TOKEN_LEN)
        return SK_ERR_LIMIT;
    *written = text_len;
    if (cap < text_len + 1)
        return SK_ERR_BUFFER_TOO_SMALL;
    size_t payload_len = raw_len - SKP_ED_SIG_LEN;
    memcpy(msg, approval_ctx, sizeof approval_ctx - 1);
    memcpy(msg + sizeof approval_ctx - 1, raw, payload_len);
    uint8_t *a = approvals + n * APPROVAL_LEN;
    memcpy(a, op_pub, SK_OPERATOR_PUB_LEN);
    crypto_sign_detached(a + SK_OPERATOR_PUB_LEN, NULL, msg, sizeof approval_ctx - 1 + payload_len,
                         operator_sk);
    /* a key pair whose halves do not match signs nothing valid */
    if (approval_verify(a, raw, payload_len) != SK_OK)
        return SK_ERR_ARG;
    char *p = out;
    memcpy(p, token_prefix, sizeof token_prefix - 1);
    p += sizeof token_prefix - 1;
    sodium_bin2base64(p, cap - (size_t)(p - out), raw, raw_len,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    p += body_b64;
    *p++ = '.';
    sodium_bin2base64(p, cap - (size_t)(p - out), approvals, (n + 1) * APPROVAL_LEN,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    p += appr_b64;
    *p++ = '.';
    memcpy(p, secret, secret_len);
    p[secret_len] = '\0';
    return SK_OK;
}

int sks_token_signed(const sk_server_ident *id, const uint8_t *pub, size_t pub_len)
{
    uint8_t raw[TOKEN_MAX_RAW];
    size_t raw_len = 0, subject_len = 0;
    int rc = token_decode(pub, pub_len, raw, &raw_len, &subject_len);
    if (rc != SK_OK)
        return rc;
    size_t payload_len = raw_len - SKP_ED_SIG_LEN;
    return crypto_sign_verify_detached(raw + payload_len, raw, payload_len, id->ed_pk) == 0
               ? SK_OK
               : SK_ERR_TOKEN;
}
