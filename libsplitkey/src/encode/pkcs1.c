/* SPDX-License-Identifier: Apache-2.0 */
/* pkcs1.c - EMSA-PKCS1-v1_5 encoding (RFC 8017 9.2). */
#include <string.h>

#include "encode/encode_internal.h"

/* EM = 0x00 || 0x01 || PS || 0x00 || T, where T = DigestInfo prefix || H and
 * PS is em_len - tLen - 3 bytes of 0xff, at least 8 of them. */
int sk_emsa_pkcs1_encode(uint8_t *em, size_t em_len, sk_hash hash, const uint8_t *digest,
                         size_t digest_len)
{
    if (em == NULL || digest == NULL)
        return SK_ERR_ARG;
    const uint8_t *prefix;
    size_t prefix_len;
    int rc = sk_hash_digestinfo(hash, &prefix, &prefix_len);
    if (rc != SK_OK)
        return rc;
    if (digest_len != sk_hash_len_internal(hash))
        return SK_ERR_ARG;
    size_t t_len = prefix_len + digest_len;
    if (em_len < t_len + 11)
        return SK_ERR_ENCODING;

    size_t ps_len = em_len - t_len - 3;
    em[0] = 0x00;
    em[1] = 0x01;
    memset(em + 2, 0xff, ps_len);
    em[2 + ps_len] = 0x00;
    memcpy(em + 3 + ps_len, prefix, prefix_len);
    memcpy(em + 3 + ps_len + prefix_len, digest, digest_len);
    return SK_OK;
}
