/* SPDX-License-Identifier: Apache-2.0 */
/* verify.c - the RSA public operation and signature verification under any
 * RSA public key.  Everything here is public (key, signature, digest), so
 * GMP's variable-time mpz_powm is fine. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "encode/encode_internal.h"

int sk_rsa_public(uint8_t *out, size_t out_len, const sk_pubkey *key, const uint8_t *sig,
                  size_t sig_len)
{
    if (out == NULL || key == NULL || (sig == NULL && sig_len > 0))
        return SK_ERR_ARG;
    size_t k = sk_bytes(key->bits);
    if (out_len != k)
        return SK_ERR_ARG;
    memset(out, 0, out_len);
    /* RSAVP1 takes the signature as exactly k bytes (RFC 8017 8.2.2 step 1). */
    if (sig_len != k)
        return SK_ERR_VERIFY;

    int rc = SK_ERR_VERIFY;
    mpz_t s, m;
    mpz_inits(s, m, NULL);
    mpz_import(s, sig_len, 1, 1, 0, 0, sig);
    if (mpz_cmp(s, key->n) >= 0)
        goto out;
    mpz_powm(m, s, key->e, key->n);
    size_t count = 0;
    mpz_export(out, &count, 1, 1, 0, 0, m);
    /* Right-align: m < n fits in k bytes. */
    if (count < k) {
        memmove(out + (k - count), out, count);
        memset(out, 0, k - count);
    }
    rc = SK_OK;
out:
    mpz_clears(s, m, NULL);
    return rc;
}

int sk_verify_ex(const sk_pubkey *key, sk_scheme scheme, sk_hash hash, sk_hash mgf_hash,
                 size_t salt_len, const uint8_t *digest, size_t digest_len, const uint8_t *sig,
                 size_t sig_len)
{
    if (key == NULL || digest == NULL || (sig == NULL && sig_len > 0))
        return SK_ERR_ARG;
    if (scheme != SK_SCHEME_PKCS1 && scheme != SK_SCHEME_PSS)
        return SK_ERR_ARG;
    size_t hlen = sk_hash_len_internal(hash);
    if (hlen == 0 || (scheme == SK_SCHEME_PSS && sk_hash_len_internal(mgf_hash) == 0))
        return SK_ERR_HASH;
    if (digest_len != hlen)
        return SK_ERR_ARG;

    size_t k = sk_bytes(key->bits);
    uint8_t *em = malloc(k);
    uint8_t *expected = malloc(k);
    int rc = SK_ERR_NOMEM;
    if (em == NULL || expected == NULL)
        goto out;
    rc = sk_rsa_public(em, k, key, sig, sig_len);
    if (rc != SK_OK)
        goto out;

    if (scheme == SK_SCHEME_PKCS1) {
        /* Strict: rebuild the one valid encoding and compare the whole of it,
         * so no alternative DigestInfo (BER, missing NULL, trailing data) is
         * ever accepted. */
        rc = sk_emsa_pkcs1_encode(expected, k, hash, digest, digest_len);
        if (rc == SK_ERR_ENCODING)
            rc = SK_ERR_VERIFY;
        if (rc == SK_OK)
            rc = sodium_memcmp(em, expected, k) == 0 ? SK_OK : SK_ERR_VERIFY;
    } else {
        rc = sk_emsa_pss_verify(em, k, key->bits, hash, mgf_hash, digest, digest_len, salt_len);
    }
out:
    if (em != NULL) {
        sodium_memzero(em, k);
        free(em);
    }
    if (expected != NULL) {
        sodium_memzero(expected, k);
        free(expected);
    }
    return rc;
}

int sk_verify(const sk_pubkey *key, sk_scheme scheme, sk_hash hash, const uint8_t *digest,
              size_t digest_len, const uint8_t *sig, size_t sig_len)
{
    if (key == NULL || digest == NULL || sig == NULL)
        return SK_ERR_ARG;
    if (!sk_hash_is_signing(hash))
        return SK_ERR_HASH;
    return sk_verify_ex(key, scheme, hash, hash, sk_hash_len_internal(hash), digest, digest_len,
                        sig, sig_len);
}
