/* SPDX-License-Identifier: Apache-2.0 */
/* test_mbedtls_diff.c - differential test against mbedTLS's own RSA.
 *
 * For keys made by mbedtls_rsa_gen_key and keys of odd sizes loaded into
 * mbedTLS: sk_encode followed by mbedTLS's raw private operation must give
 * byte for byte the signature mbedtls_rsa_rsassa_pkcs1_v15_sign /
 * mbedtls_rsa_rsassa_pss_sign produce (PSS with the salt fed to mbedTLS
 * through its RNG callback), sk_verify must accept mbedTLS's signatures and
 * reject tampered ones. */
#include <mbedtls/md.h>
#include <mbedtls/rsa.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "rsakey.h"
#include "testutil.h"

/* An RNG whose first draw is the chosen PSS salt (mbedTLS asks for the salt
 * first, then for blinding values, which come from libsodium). */
typedef struct salt_rng {
    const uint8_t *salt;
    size_t len;
    int used;
    int bad_request;
} salt_rng;

static int salt_rng_fill(void *ctx, unsigned char *out, size_t len)
{
    salt_rng *r = ctx;
    if (!r->used) {
        r->used = 1;
        if (len != r->len) {
            r->bad_request = 1;
            return -1;
        }
        memcpy(out, r->salt, len);
        return 0;
    }
    randombytes_buf(out, len);
    return 0;
}

static mbedtls_md_type_t md_of(sk_hash h)
{
    switch (h) {
    case SK_HASH_SHA256: return MBEDTLS_MD_SHA256;
    case SK_HASH_SHA384: return MBEDTLS_MD_SHA384;
    case SK_HASH_SHA512: return MBEDTLS_MD_SHA512;
    case SK_HASH_SHA1: return MBEDTLS_MD_SHA1;
    case SK_HASH_SHA224: return MBEDTLS_MD_SHA224;
    }
    return MBEDTLS_MD_NONE;
}

static sk_pubkey *pubkey_of(mbedtls_rsa_context *ctx)
{
    size_t k = mbedtls_rsa_get_len(ctx);
    uint8_t *n = malloc(k), e[8];
    sk_pubkey *pk = NULL;
    if (mbedtls_rsa_export_raw(ctx, n, k, NULL, 0, NULL, 0, NULL, 0, e, sizeof e) != 0 ||
        sk_pubkey_from_modulus(&pk, n, k, e, sizeof e) != SK_OK)
        pk = NULL;
    free(n);
    return pk;
}

static int signed_ok, pss_ok, pkcs1_ok;

static void check_key(mbedtls_rsa_context *ctx, unsigned bits, int rounds)
{
    static const sk_hash hashes[] = {SK_HASH_SHA256, SK_HASH_SHA384, SK_HASH_SHA512};
    sk_pubkey *pk = pubkey_of(ctx);
    CHECK(pk != NULL);
    if (pk == NULL)
        return;
    CHECK(sk_pubkey_bits(pk) == bits);
    size_t k = mbedtls_rsa_get_len(ctx);
    CHECK(k == sk_bytes(bits));
    uint8_t *em = malloc(k), *ours = malloc(k), *theirs = malloc(k);

    for (int round = 0; round < rounds; round++) {
        for (size_t hi = 0; hi < 3; hi++) {
            sk_hash h = hashes[hi];
            size_t hlen = sk_hash_len(h);
            uint8_t digest[SK_MAX_HASH_LEN], salt[SK_MAX_HASH_LEN];
            randombytes_buf(digest, hlen);
            randombytes_buf(salt, hlen);

            /* PKCS#1 v1.5 */
            mbedtls_rsa_set_padding(ctx, MBEDTLS_RSA_PKCS_V15, MBEDTLS_MD_NONE);
            CHECK(mbedtls_rsa_rsassa_pkcs1_v15_sign(ctx, test_rng_random, NULL,
                                                    MBEDTLS_RSA_PRIVATE, md_of(h),
                                                    (unsigned)hlen, digest, theirs) == 0);
            CHECK_OK(sk_encode(em, k, SK_SCHEME_PKCS1, h, digest, hlen, NULL, 0, bits));
            CHECK(mbedtls_rsa_private(ctx, test_rng_random, NULL, em, ours) == 0);
            if (memcmp(ours, theirs, k) == 0)
                pkcs1_ok++;
            else
                CHECK(!"PKCS1 signature differs from mbedTLS");
            CHECK_OK(sk_verify(pk, SK_SCHEME_PKCS1, h, digest, hlen, theirs, k));
            theirs[k - 1] ^= 0x01;
            CHECK_RC(SK_ERR_VERIFY, sk_verify(pk, SK_SCHEME_PKCS1, h, digest, hlen, theirs, k));
            theirs[k - 1] ^= 0x01;

            /* PSS, MGF1 with the same hash, salt = hLen bytes of our choice */
            if (k - ((bits - 1) % 8 == 0) < 2 * hlen + 2)
                continue;
            mbedtls_rsa_set_padding(ctx, MBEDTLS_RSA_PKCS_V21, md_of(h));
            salt_rng sr = {salt, hlen, 0, 0};
            CHECK(mbedtls_rsa_rsassa_pss_sign(ctx, salt_rng_fill, &sr, MBEDTLS_RSA_PRIVATE,
                                              md_of(h), (unsigned)hlen, digest, theirs) == 0);
            CHECK(sr.used && !sr.bad_request);
            CHECK_OK(sk_encode(em, k, SK_SCHEME_PSS, h, digest, hlen, salt, hlen, bits));
            CHECK(mbedtls_rsa_private(ctx, test_rng_random, NULL, em, ours) == 0);
            if (memcmp(ours, theirs, k) == 0)
                pss_ok++;
            else
                CHECK(!"PSS signature differs from mbedTLS");
            CHECK_OK(sk_verify(pk, SK_SCHEME_PSS, h, digest, hlen, theirs, k));
            theirs[0] ^= 0x01; /* a different value, or one >= n: rejected either way */
            CHECK_RC(SK_ERR_VERIFY, sk_verify(pk, SK_SCHEME_PSS, h, digest, hlen, theirs, k));
            theirs[0] ^= 0x01;
            digest[hlen / 2] ^= 0x40;
            CHECK_RC(SK_ERR_VERIFY, sk_verify(pk, SK_SCHEME_PSS, h, digest, hlen, theirs, k));
            digest[hlen / 2] ^= 0x40;
            signed_ok++;

            /* Other salt lengths through sign_ext, checked with sk_verify_ex. */
            static const int salt_lens[] = {0, 20, 1};
            for (size_t si = 0; si < 3; si++) {
                int slen = salt_lens[si];
                CHECK(mbedtls_rsa_rsassa_pss_sign_ext(ctx, test_rng_random, NULL, md_of(h),
                                                      (unsigned)hlen, digest, slen, theirs) == 0);
                CHECK_OK(sk_verify_ex(pk, SK_SCHEME_PSS, h, h, (size_t)slen, digest, hlen,
                                      theirs, k));
                CHECK_RC(SK_ERR_VERIFY, sk_verify_ex(pk, SK_SCHEME_PSS, h, h, (size_t)slen + 1,
                                                     digest, hlen, theirs, k));
                /* The public sk_verify insists on salt length = hLen. */
                CHECK_RC(SK_ERR_VERIFY, sk_verify(pk, SK_SCHEME_PSS, h, digest, hlen, theirs, k));
            }
        }
    }
    free(em);
    free(ours);
    free(theirs);
    sk_pubkey_free(pk);
}

int main(void)
{
    sk_test_init();

    /* Keys from mbedTLS's own generator. */
    static const unsigned gen_sizes[] = {2048, 3072};
    for (size_t i = 0; i < 2; i++) {
        mbedtls_rsa_context ctx;
        mbedtls_rsa_init(&ctx, MBEDTLS_RSA_PKCS_V15, MBEDTLS_MD_NONE);
        CHECK(mbedtls_rsa_gen_key(&ctx, test_rng_random, NULL, gen_sizes[i], 65537) == 0);
        check_key(&ctx, gen_sizes[i], 4);
        mbedtls_rsa_free(&ctx);
    }

    /* Odd sizes (mbedTLS generates only even ones): 1 mod 8 is the PSS
     * leading-zero-byte case. */
    static const unsigned odd_sizes[] = {1025, 2049, 2047, 3073, 4097};
    sk_drbg drbg;
    sk_drbg_init(&drbg, (const uint8_t *)"mbedtls diff", 12);
    for (size_t i = 0; i < sizeof odd_sizes / sizeof odd_sizes[0]; i++) {
        test_rsa key;
        test_rsa_generate(&key, odd_sizes[i], &drbg.rng);
        mbedtls_rsa_context ctx;
        mbedtls_rsa_init(&ctx, MBEDTLS_RSA_PKCS_V15, MBEDTLS_MD_NONE);
        CHECK(test_rsa_to_mbedtls(&key, &ctx) == 0);
        CHECK(mbedtls_rsa_get_len(&ctx) == sk_bytes(odd_sizes[i]));
        check_key(&ctx, odd_sizes[i], 2);
        mbedtls_rsa_free(&ctx);
        test_rsa_clear(&key);
    }
    sk_drbg_wipe(&drbg);

    printf("identical signatures: %d PKCS1, %d PSS\n", pkcs1_ok, pss_ok);
    CHECK(pkcs1_ok == 3 * (2 * 4 + 5 * 2));
    CHECK(pss_ok > 0 && pss_ok == signed_ok);
    return sk_test_done("test_mbedtls_diff");
}
