/* SPDX-License-Identifier: Apache-2.0 */
/* rng.c - the system CSPRNG and the deterministic generator for vectors. */
#include <sodium.h>
#include <string.h>

#include "internal.h"

static int system_fill(void *ctx, uint8_t *out, size_t len)
{
    (void)ctx;
    if (!sk_is_initialised())
        return SK_ERR_NOT_INITIALISED;
    randombytes_buf(out, len);
    return SK_OK;
}

static const sk_rng system_rng = {system_fill, NULL};

const sk_rng *sk_rng_system(void) { return &system_rng; }

/* The DRBG's output is the ChaCha20 (IETF, zero nonce) keystream under its
 * key; `offset` says how much of it was used.  Whole 64-byte blocks are
 * produced with crypto_stream_chacha20_ietf_xor_ic, so draws of any size
 * concatenate to the same stream. */
static int drbg_fill(void *ctx, uint8_t *out, size_t len)
{
    sk_drbg *d = ctx;
    static const uint8_t nonce[crypto_stream_chacha20_ietf_NONCEBYTES];
    uint8_t block[64];

    while (len > 0) {
        uint64_t blockno = d->offset / 64;
        size_t skip = (size_t)(d->offset % 64);
        size_t take = 64 - skip < len ? 64 - skip : len;
        if (blockno > UINT32_MAX)
            return SK_ERR_RNG;
        memset(block, 0, sizeof block);
        crypto_stream_chacha20_ietf_xor_ic(block, block, sizeof block, nonce, (uint32_t)blockno,
                                           d->key);
        memcpy(out, block + skip, take);
        out += take;
        len -= take;
        d->offset += take;
    }
    sodium_memzero(block, sizeof block);
    return SK_OK;
}

void sk_drbg_init(sk_drbg *drbg, const uint8_t *seed, size_t seed_len)
{
    static const char label[] = "splitkey drbg v1";
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (const uint8_t *)label, sizeof label - 1);
    crypto_hash_sha256_update(&st, seed, seed_len);
    crypto_hash_sha256_final(&st, drbg->key);
    drbg->offset = 0;
    drbg->rng.fill = drbg_fill;
    drbg->rng.ctx = drbg;
}

void sk_drbg_wipe(sk_drbg *drbg) { sodium_memzero(drbg, sizeof *drbg); }
