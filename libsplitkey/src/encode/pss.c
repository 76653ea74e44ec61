/* SPDX-License-Identifier: Apache-2.0 */
/* pss.c - EMSA-PSS encoding and verification (RFC 8017 9.1.1, 9.1.2), with
 * MGF1 and the 0xbc trailer.
 *
 * Both functions take em as the integer representative of EM in
 * (mod_bits + 7) / 8 bytes: emBits = mod_bits - 1, so when emBits is a
 * multiple of 8, EM proper is one byte shorter and the buffer starts with a
 * zero byte. */
#include <mbedtls/md.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "encode/encode_internal.h"

/* H = Hash(0x00 * 8 || mHash || salt). */
static int pss_hash(uint8_t *h, sk_hash hash, const uint8_t *digest, size_t digest_len,
                    const uint8_t *salt, size_t salt_len)
{
    static const uint8_t zeros[8];
    const mbedtls_md_info_t *info = sk_hash_md_info(hash);
    if (info == NULL)
        return SK_ERR_HASH;
    int rc = SK_ERR_INTERNAL;
    mbedtls_md_context_t ctx;
    mbedtls_md_init(&ctx);
    if (mbedtls_md_setup(&ctx, info, 0) != 0 || mbedtls_md_starts(&ctx) != 0 ||
        mbedtls_md_update(&ctx, zeros, sizeof zeros) != 0 ||
        mbedtls_md_update(&ctx, digest, digest_len) != 0 ||
        (salt_len > 0 && mbedtls_md_update(&ctx, salt, salt_len) != 0) ||
        mbedtls_md_finish(&ctx, h) != 0)
        goto out;
    rc = SK_OK;
out:
    mbedtls_md_free(&ctx);
    return rc;
}

/* Checks the buffer size against mod_bits and splits it into the optional
 * leading zero byte and EM proper. */
static int pss_layout(size_t em_len, unsigned mod_bits, size_t *skip, size_t *em_proper_len,
                      unsigned *top_bits)
{
    if (mod_bits < 2 || mod_bits > SK_MAX_MODULUS_BITS || em_len != sk_bytes(mod_bits))
        return SK_ERR_ARG;
    unsigned em_bits = mod_bits - 1;
    *em_proper_len = ((size_t)em_bits + 7) / 8;
    *skip = em_len - *em_proper_len; /* 0 or 1 */
    /* Bits of the first byte of EM proper that must be zero. */
    *top_bits = (unsigned)(8 * *em_proper_len - em_bits);
    return SK_OK;
}

int sk_emsa_pss_encode(uint8_t *em, size_t em_len, unsigned mod_bits, sk_hash hash,
                       const uint8_t *digest, size_t digest_len, const uint8_t *salt,
                       size_t salt_len)
{
    if (em == NULL || digest == NULL || (salt == NULL && salt_len > 0))
        return SK_ERR_ARG;
    size_t hlen = sk_hash_len_internal(hash);
    if (hlen == 0)
        return SK_ERR_HASH;
    if (digest_len != hlen)
        return SK_ERR_ARG;
    size_t skip, len;
    unsigned top_bits;
    int rc = pss_layout(em_len, mod_bits, &skip, &len, &top_bits);
    if (rc != SK_OK)
        return rc;
    if (len < hlen + 2 || len - hlen - 2 < salt_len)
        return SK_ERR_ENCODING;

    uint8_t *p = em + skip;
    size_t db_len = len - hlen - 1;
    uint8_t *h = p + db_len;
    rc = pss_hash(h, hash, digest, digest_len, salt, salt_len);
    if (rc != SK_OK)
        goto out;
    /* DB = PS (zeros) || 0x01 || salt, then masked in place. */
    memset(em, 0, skip + db_len - salt_len - 1);
    p[db_len - salt_len - 1] = 0x01;
    if (salt_len > 0)
        memcpy(p + db_len - salt_len, salt, salt_len);
    rc = sk_mgf1(p, db_len, hash, h, hlen, true);
    if (rc != SK_OK)
        goto out;
    p[0] &= (uint8_t)(0xffu >> top_bits);
    p[len - 1] = 0xbc;
out:
    if (rc != SK_OK)
        memset(em, 0, em_len);
    return rc;
}

int sk_emsa_pss_verify(const uint8_t *em, size_t em_len, unsigned mod_bits, sk_hash hash,
                       sk_hash mgf_hash, const uint8_t *digest, size_t digest_len,
                       size_t salt_len)
{
    if (em == NULL || digest == NULL)
        return SK_ERR_ARG;
    size_t hlen = sk_hash_len_internal(hash);
    if (hlen == 0 || sk_hash_len_internal(mgf_hash) == 0)
        return SK_ERR_HASH;
    if (digest_len != hlen)
        return SK_ERR_ARG;
    size_t skip, len;
    unsigned top_bits;
    int rc = pss_layout(em_len, mod_bits, &skip, &len, &top_bits);
    if (rc != SK_OK)
        return rc;

    /* Steps 3-6: sizes, the trailer, the zero top bits. */
    if (len < hlen + 2 || len - hlen - 2 < salt_len)
        return SK_ERR_VERIFY;
    if (skip == 1 && em[0] != 0)
        return SK_ERR_VERIFY;
    const uint8_t *p = em + skip;
    if (p[len - 1] != 0xbc)
        return SK_ERR_VERIFY;
    if ((p[0] & (uint8_t)~(0xffu >> top_bits)) != 0)
        return SK_ERR_VERIFY;

    size_t db_len = len - hlen - 1;
    const uint8_t *h = p + db_len;
    uint8_t h2[MBEDTLS_MD_MAX_SIZE];
    uint8_t *db = malloc(db_len);
    if (db == NULL)
        return SK_ERR_NOMEM;

    /* Steps 7-9: unmask DB and clear its top bits. */
    memcpy(db, p, db_len);
    rc = sk_mgf1(db, db_len, mgf_hash, h, hlen, true);
    if (rc != SK_OK)
        goto out;
    db[0] &= (uint8_t)(0xffu >> top_bits);

    /* Step 10: PS must be zeros followed by 0x01. */
    rc = SK_ERR_VERIFY;
    size_t ps_len = db_len - salt_len - 1;
    for (size_t i = 0; i < ps_len; i++)
        if (db[i] != 0)
            goto out;
    if (db[ps_len] != 0x01)
        goto out;

    /* Steps 11-14: recompute H from the salt and compare. */
    rc = pss_hash(h2, hash, digest, digest_len, db + db_len - salt_len, salt_len);
    if (rc != SK_OK)
        goto out;
    rc = sodium_memcmp(h, h2, hlen) == 0 ? SK_OK : SK_ERR_VERIFY;
out:
    sodium_memzero(db, db_len);
    free(db);
    return rc;
}
