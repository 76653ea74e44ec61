/* SPDX-License-Identifier: Apache-2.0 */
/* encode.c - sk_encode(): the message representative a split signature is
 * computed over (EMSA-PKCS1-v1_5 or EMSA-PSS, RFC 8017). */
#include <string.h>

#include "encode/encode_internal.h"

int sk_encode(uint8_t *em, size_t em_len, sk_scheme scheme, sk_hash hash, const uint8_t *digest,
              size_t digest_len, const uint8_t *salt, size_t salt_len, unsigned mod_bits)
{
    if (em == NULL || digest == NULL)
        return SK_ERR_ARG;
    if (em_len > 0)
        memset(em, 0, em_len);
    if (mod_bits == 0 || mod_bits > SK_MAX_MODULUS_BITS || em_len != sk_bytes(mod_bits))
        return SK_ERR_ARG;
    if (scheme != SK_SCHEME_PKCS1 && scheme != SK_SCHEME_PSS)
        return SK_ERR_ARG;
    if (!sk_hash_is_signing(hash))
        return SK_ERR_HASH;
    size_t hlen = sk_hash_len_internal(hash);
    if (digest_len != hlen)
        return SK_ERR_ARG;

    if (scheme == SK_SCHEME_PKCS1) {
        if (salt != NULL || salt_len != 0)
            return SK_ERR_ARG;
        /* RFC 8017 9.2 encodes into k = em_len bytes: 00 01 FF.. 00 T is
         * always below 2^(8k - 15) <= 2^(mod_bits - 8), so below n. */
        return sk_emsa_pkcs1_encode(em, em_len, hash, digest, digest_len);
    }
    if (salt == NULL || salt_len != hlen)
        return SK_ERR_ARG;
    return sk_emsa_pss_encode(em, em_len, mod_bits, hash, digest, digest_len, salt, salt_len);
}
