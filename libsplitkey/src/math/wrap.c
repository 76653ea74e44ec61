/* SPDX-License-Identifier: Apache-2.0 */
/* wrap.c - PIN protection of the client part dc: Argon2id, then an
 * XChaCha20 keystream XOR-ed over dc.  No MAC, checksum or length prefix:
 * every PIN unwraps to a uniformly random (k+128)-bit integer. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const uint8_t wrap_magic[4] = {'S', 'K', 'W', '1'};

#define WRAP_SALT_LEN 16u
#define WRAP_NONCE_LEN 24u
#define WRAP_KEY_LEN 32u
/* Upper bounds accepted when unwrapping, so that a corrupted header cannot
 * make the device spend minutes or gigabytes. */
#define WRAP_MAX_OPS 16u
#define WRAP_MAX_MEM (1024u * 1024u * 1024u)

_Static_assert(WRAP_SALT_LEN == crypto_pwhash_SALTBYTES, "Argon2id salt size");
_Static_assert(WRAP_NONCE_LEN == crypto_stream_xchacha20_NONCEBYTES, "XChaCha20 nonce size");
_Static_assert(SK_WRAP_HEADER_LEN == 4 + 2 + 4 + 4 + WRAP_SALT_LEN + WRAP_NONCE_LEN,
               "wrapped share header layout");

static void put_be(uint8_t *p, uint32_t v, unsigned len)
{
    for (unsigned i = 0; i < len; i++)
        p[i] = (uint8_t)(v >> (8 * (len - 1 - i)));
}

static uint32_t get_be(const uint8_t *p, unsigned len)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < len; i++)
        v = v << 8 | p[i];
    return v;
}

static void kdf_limits(sk_kdf_cost cost, uint32_t *ops, uint32_t *mem)
{
    switch (cost) {
    case SK_KDF_MODERATE:
        *ops = crypto_pwhash_OPSLIMIT_MODERATE;
        *mem = crypto_pwhash_MEMLIMIT_MODERATE;
        return;
    case SK_KDF_MINIMUM:
        *ops = crypto_pwhash_OPSLIMIT_MIN;
        *mem = crypto_pwhash_MEMLIMIT_MIN;
        return;
    case SK_KDF_INTERACTIVE:
        break;
    }
    *ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
    *mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
}

/* One SK_PROGRESS_PIN report; SK_OK or SK_ERR_CANCELLED. */
static int pin_report(const sk_progress *progress, unsigned done)
{
    if (progress == NULL || progress->report == NULL)
        return SK_OK;
    return progress->report(progress->ctx, SK_PROGRESS_PIN, done, 1) != 0 ? SK_ERR_CANCELLED
                                                                         : SK_OK;
}

/* XORs the PIN-derived keystream into buf (len bytes). */
static int pin_stream_xor(uint8_t *buf, size_t len, const uint8_t *pin, size_t pin_len,
                          const uint8_t *salt, const uint8_t *nonce, uint32_t ops, uint32_t mem)
{
    uint8_t key[WRAP_KEY_LEN];
    if (crypto_pwhash(key, sizeof key, (const char *)pin, pin_len, salt, ops, mem,
                      crypto_pwhash_ALG_ARGON2ID13) != 0) {
        sodium_memzero(key, sizeof key);
        return SK_ERR_NOMEM; /* libsodium fails here only when it cannot allocate */
    }
    crypto_stream_xchacha20_xor(buf, buf, len, nonce, key);
    sodium_memzero(key, sizeof key);
    return SK_OK;
}

/* pin_stream_xor between the SK_PROGRESS_PIN reports: 0 of 1 before
 * Argon2id, 1 of 1 after it.  On a cancel at either the caller wipes buf
 * (the derived key is wiped already). */
static int pin_stream_xor_reported(uint8_t *buf, size_t len, const uint8_t *pin, size_t pin_len,
                                   const uint8_t *salt, const uint8_t *nonce, uint32_t ops,
                                   uint32_t mem, const sk_progress *progress)
{
    int rc = pin_report(progress, 0);
    if (rc == SK_OK)
        rc = pin_stream_xor(buf, len, pin, pin_len, salt, nonce, ops, mem);
    if (rc == SK_OK)
        rc = pin_report(progress, 1);
    return rc;
}

size_t sk_wrapped_share_len(sk_profile profile)
{
    unsigned bits = sk_profile_bits(profile);
    return bits ? SK_WRAPPED_LEN(bits) : 0;
}

int sk_client_share_wrap_rng(const sk_client_share *share, uint8_t *out, size_t out_len,
                             const uint8_t *pin, size_t pin_len, sk_kdf_cost cost,
                             const sk_rng *rng)
{
    return sk_client_share_wrap_progress_rng(share, out, out_len, pin, pin_len, cost, rng, NULL);
}

int sk_client_share_wrap_progress_rng(const sk_client_share *share, uint8_t *out, size_t out_len,
                                      const uint8_t *pin, size_t pin_len, sk_kdf_cost cost,
                                      const sk_rng *rng, const sk_progress *progress)
{
    if (share == NULL || out == NULL || pin == NULL || rng == NULL)
        return SK_ERR_ARG;
    if (out_len != SK_WRAPPED_LEN(share->bits) || pin_len == 0)
        return SK_ERR_ARG;
    if (share->consumed)
        return SK_ERR_USED;

    uint32_t ops, mem;
    kdf_limits(cost, &ops, &mem);
    uint8_t *p = out;
    memcpy(p, wrap_magic, 4);
    put_be(p + 4, share->bits, 2);
    put_be(p + 6, ops, 4);
    put_be(p + 10, mem, 4);
    uint8_t *salt = p + 14, *nonce = salt + WRAP_SALT_LEN, *ct = nonce + WRAP_NONCE_LEN;
    int rc = rng->fill(rng->ctx, salt, WRAP_SALT_LEN + WRAP_NONCE_LEN);
    if (rc == SK_OK) {
        size_t dc_len = SK_DC_LEN(share->bits);
        sk_sec_to_bytes(ct, dc_len, &share->dc);
        rc = pin_stream_xor_reported(ct, dc_len, pin, pin_len, salt, nonce, ops, mem, progress);
    }
    if (rc != SK_OK)
        sodium_memzero(out, out_len);
    return rc;
}

int sk_client_share_wrap(const sk_client_share *share, uint8_t *out, size_t out_len,
                         const uint8_t *pin, size_t pin_len, sk_kdf_cost cost)
{
    if (!sk_is_initialised())
        return SK_ERR_NOT_INITIALISED;
    return sk_client_share_wrap_rng(share, out, out_len, pin, pin_len, cost, sk_rng_system());
}

int sk_client_share_wrap_progress(const sk_client_share *share, uint8_t *out, size_t out_len,
                                  const uint8_t *pin, size_t pin_len, sk_kdf_cost cost,
                                  const sk_progress *progress)
{
    if (!sk_is_initialised())
        return SK_ERR_NOT_INITIALISED;
    return sk_client_share_wrap_progress_rng(share, out, out_len, pin, pin_len, cost,
                                             sk_rng_system(), progress);
}

int sk_client_share_unwrap(sk_client_share **out, const uint8_t *wrapped, size_t wrapped_len,
                           const uint8_t *n1, size_t n1_len, const uint8_t *pin, size_t pin_len)
{
    return sk_client_share_unwrap_progress(out, wrapped, wrapped_len, n1, n1_len, pin, pin_len,
                                           NULL);
}

int sk_client_share_unwrap_progress(sk_client_share **out, const uint8_t *wrapped,
                                    size_t wrapped_len, const uint8_t *n1, size_t n1_len,
                                    const uint8_t *pin, size_t pin_len,
                                    const sk_progress *progress)
{
    if (out == NULL || wrapped == NULL || n1 == NULL || pin == NULL)
        return SK_ERR_ARG;
    *out = NULL;
    if (!sk_is_initialised())
        return SK_ERR_NOT_INITIALISED;
    if (pin_len == 0)
        return SK_ERR_ARG;
    if (wrapped_len < SK_WRAP_HEADER_LEN || memcmp(wrapped, wrap_magic, 4) != 0)
        return SK_ERR_KEY_FORMAT;
    unsigned bits = get_be(wrapped + 4, 2);
    uint32_t ops = get_be(wrapped + 6, 4), mem = get_be(wrapped + 10, 4);
    if (bits < 512 || bits % 64 != 0 || wrapped_len != SK_WRAPPED_LEN(bits) ||
        n1_len != bits / 8)
        return SK_ERR_KEY_FORMAT;
    if (ops < crypto_pwhash_OPSLIMIT_MIN || ops > WRAP_MAX_OPS ||
        mem < crypto_pwhash_MEMLIMIT_MIN || mem > WRAP_MAX_MEM)
        return SK_ERR_KEY_FORMAT;

    const uint8_t *salt = wrapped + 14, *nonce = salt + WRAP_SALT_LEN,
                  *ct = nonce + WRAP_NONCE_LEN;
    size_t dc_len = SK_DC_LEN(bits);
    uint8_t *dc = malloc(dc_len);
    if (dc == NULL)
        return SK_ERR_NOMEM;
    memcpy(dc, ct, dc_len);
    int rc = pin_stream_xor_reported(dc, dc_len, pin, pin_len, salt, nonce, ops, mem, progress);
    if (rc == SK_OK)
        rc = sk_client_share_from_parts(out, bits, n1, n1_len, dc, dc_len);
    sodium_memzero(dc, dc_len);
    free(dc);
    return rc;
}
