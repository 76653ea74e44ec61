/* SPDX-License-Identifier: Apache-2.0 */
/* mgf1.c - the mask generation function MGF1 (RFC 8017 B.2.1). */
#include <mbedtls/md.h>
#include <sodium.h>
#include <string.h>

#include "encode/encode_internal.h"

/* out = T truncated to out_len bytes, where T = Hash(seed || C) for the
 * 32-bit big-endian counters C = 0, 1, 2, ...  With xor_into the mask is
 * XOR-ed into out instead of replacing it (that is how PSS applies it). */
int sk_mgf1(uint8_t *out, size_t out_len, sk_hash hash, const uint8_t *seed, size_t seed_len,
            bool xor_into)
{
    if ((out == NULL && out_len > 0) || (seed == NULL && seed_len > 0))
        return SK_ERR_ARG;
    const mbedtls_md_info_t *info = sk_hash_md_info(hash);
    if (info == NULL)
        return SK_ERR_HASH;
    size_t hlen = mbedtls_md_get_size(info);
    /* RFC 8017 limits the mask to 2^32 blocks; no caller comes close, but
     * the counter below must not wrap. */
    if (out_len / hlen > UINT32_MAX)
        return SK_ERR_ARG;

    int rc = SK_ERR_INTERNAL;
    uint8_t block[MBEDTLS_MD_MAX_SIZE];
    mbedtls_md_context_t ctx;
    mbedtls_md_init(&ctx);
    if (mbedtls_md_setup(&ctx, info, 0) != 0)
        goto out;

    size_t done = 0;
    for (uint32_t counter = 0; done < out_len; counter++) {
        const uint8_t c[4] = {(uint8_t)(counter >> 24), (uint8_t)(counter >> 16),
                              (uint8_t)(counter >> 8), (uint8_t)counter};
        if (mbedtls_md_starts(&ctx) != 0 ||
            (seed_len > 0 && mbedtls_md_update(&ctx, seed, seed_len) != 0) ||
            mbedtls_md_update(&ctx, c, sizeof c) != 0 || mbedtls_md_finish(&ctx, block) != 0)
            goto out;
        size_t take = out_len - done < hlen ? out_len - done : hlen;
        if (xor_into) {
            for (size_t i = 0; i < take; i++)
                out[done + i] ^= block[i];
        } else {
            memcpy(out + done, block, take);
        }
        done += take;
    }
    rc = SK_OK;
out:
    sodium_memzero(block, sizeof block);
    mbedtls_md_free(&ctx);
    return rc;
}
