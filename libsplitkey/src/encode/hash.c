/* SPDX-License-Identifier: Apache-2.0 */
/* hash.c - the hash functions the encodings use: output lengths, the
 * DER DigestInfo prefixes of EMSA-PKCS1-v1_5, and hashing through mbedTLS.
 *
 * SHA-1 and SHA-224 are here only so that published test vectors can be
 * checked; the public sk_digest() refuses them. */
#include <mbedtls/md.h>
#include <stddef.h>
#include <string.h>

#include "encode/encode_internal.h"

/* DigestInfo ::= SEQUENCE { SEQUENCE { OID, NULL }, OCTET STRING digest }.
 * Each prefix below is everything before the digest bytes (RFC 8017 9.2,
 * note 1). */
static const uint8_t di_sha1[] = {0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e,
                                  0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14};
static const uint8_t di_sha224[] = {0x30, 0x2d, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                    0x65, 0x03, 0x04, 0x02, 0x04, 0x05, 0x00, 0x04, 0x1c};
static const uint8_t di_sha256[] = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                    0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20};
static const uint8_t di_sha384[] = {0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                    0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30};
static const uint8_t di_sha512[] = {0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                    0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40};

static const struct hash_desc {
    sk_hash hash;
    size_t len;
    mbedtls_md_type_t md;
    const uint8_t *prefix;
    size_t prefix_len;
} hash_table[] = {
    {SK_HASH_SHA1, 20, MBEDTLS_MD_SHA1, di_sha1, sizeof di_sha1},
    {SK_HASH_SHA224, 28, MBEDTLS_MD_SHA224, di_sha224, sizeof di_sha224},
    {SK_HASH_SHA256, 32, MBEDTLS_MD_SHA256, di_sha256, sizeof di_sha256},
    {SK_HASH_SHA384, 48, MBEDTLS_MD_SHA384, di_sha384, sizeof di_sha384},
    {SK_HASH_SHA512, 64, MBEDTLS_MD_SHA512, di_sha512, sizeof di_sha512},
};

static const struct hash_desc *find_hash(sk_hash hash)
{
    for (size_t i = 0; i < sizeof hash_table / sizeof hash_table[0]; i++)
        if (hash_table[i].hash == hash)
            return &hash_table[i];
    return NULL;
}

size_t sk_hash_len_internal(sk_hash hash)
{
    const struct hash_desc *h = find_hash(hash);
    return h != NULL ? h->len : 0;
}

bool sk_hash_is_signing(sk_hash hash)
{
    return hash == SK_HASH_SHA256 || hash == SK_HASH_SHA384 || hash == SK_HASH_SHA512;
}

const mbedtls_md_info_t *sk_hash_md_info(sk_hash hash)
{
    const struct hash_desc *h = find_hash(hash);
    return h != NULL ? mbedtls_md_info_from_type(h->md) : NULL;
}

int sk_hash_digestinfo(sk_hash hash, const uint8_t **prefix, size_t *prefix_len)
{
    if (prefix == NULL || prefix_len == NULL)
        return SK_ERR_ARG;
    *prefix = NULL;
    *prefix_len = 0;
    const struct hash_desc *h = find_hash(hash);
    if (h == NULL)
        return SK_ERR_HASH;
    *prefix = h->prefix;
    *prefix_len = h->prefix_len;
    return SK_OK;
}

int sk_hash_compute(sk_hash hash, uint8_t *out, const uint8_t *data, size_t len)
{
    if (out == NULL || (data == NULL && len > 0))
        return SK_ERR_ARG;
    const mbedtls_md_info_t *info = sk_hash_md_info(hash);
    if (info == NULL)
        return SK_ERR_HASH;
    static const uint8_t empty[1];
    if (mbedtls_md(info, data != NULL ? data : empty, len, out) != 0)
        return SK_ERR_INTERNAL;
    return SK_OK;
}

int sk_digest(uint8_t *out, size_t out_len, sk_hash hash, const uint8_t *data, size_t data_len)
{
    if (out == NULL || (data == NULL && data_len > 0))
        return SK_ERR_ARG;
    if (!sk_hash_is_signing(hash))
        return SK_ERR_HASH;
    size_t hlen = sk_hash_len_internal(hash);
    if (out_len < hlen)
        return SK_ERR_BUFFER_TOO_SMALL;
    return sk_hash_compute(hash, out, data, data_len);
}
