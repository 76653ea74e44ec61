/* SPDX-License-Identifier: Apache-2.0 */
/* test_pss.c - EMSA-PSS and EMSA-PKCS1-v1_5 encodings: structure, round trips
 * through the encoder and the verifier for every hash, salt length and
 * modulus size class (mod_bits = 1 mod 8 is the leading-zero-byte case), and
 * the argument checks of sk_encode. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "rsakey.h"
#include "nullarg.h"
#include "testutil.h"

static const sk_hash all_hashes[] = {SK_HASH_SHA1, SK_HASH_SHA224, SK_HASH_SHA256,
                                     SK_HASH_SHA384, SK_HASH_SHA512};
#define NHASH (sizeof all_hashes / sizeof all_hashes[0])

static sk_drbg drbg;

static void fill(uint8_t *buf, size_t len) { CHECK_OK(drbg.rng.fill(drbg.rng.ctx, buf, len)); }

/* EM as an integer must be below 2^(mod_bits - 1) and end in 0xbc. */
static int em_shape_ok(const uint8_t *em, size_t em_len, unsigned mod_bits)
{
    unsigned em_bits = mod_bits - 1;
    size_t zero_bits = 8 * em_len - em_bits;
    for (size_t i = 0; i < zero_bits; i++)
        if (em[i / 8] & (0x80u >> (i % 8)))
            return 0;
    return em[em_len - 1] == 0xbc;
}

/* Encoder + verifier at the EMSA level, with every single-bit change of EM
 * rejected. */
static void test_pss_emsa(void)
{
    static const unsigned sizes[] = {1024, 1025, 1026, 1031, 1032, 1033, 2049};
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        unsigned bits = sizes[si];
        size_t em_len = sk_bytes(bits);
        size_t em_proper = (bits - 1 + 7) / 8;
        uint8_t *em = malloc(em_len), *em2 = malloc(em_len);
        for (size_t hi = 0; hi < NHASH; hi++) {
            sk_hash h = all_hashes[hi];
            size_t hlen = sk_hash_len_internal(h);
            size_t max_salt = em_proper - hlen - 2;
            size_t salts[] = {0, 1, hlen, max_salt};
            for (size_t k = 0; k < sizeof salts / sizeof salts[0]; k++) {
                size_t slen = salts[k];
                if (slen > max_salt) /* SHA-512 with hLen-byte salt needs 1034 bits */
                    continue;
                uint8_t digest[SK_MAX_HASH_LEN], salt[512];
                fill(digest, hlen);
                fill(salt, slen);
                CHECK_OK(sk_emsa_pss_encode(em, em_len, bits, h, digest, hlen, salt, slen));
                CHECK(em_shape_ok(em, em_len, bits));
                if ((bits - 1) % 8 == 0)
                    CHECK(em[0] == 0 && em_len == em_proper + 1);
                CHECK_OK(sk_emsa_pss_verify(em, em_len, bits, h, h, digest, hlen, slen));
                /* Deterministic for a given salt. */
                CHECK_OK(sk_emsa_pss_encode(em2, em_len, bits, h, digest, hlen, salt, slen));
                CHECK(memcmp(em, em2, em_len) == 0);
                /* Wrong salt length, MGF hash or digest. */
                CHECK_RC(SK_ERR_VERIFY,
                         sk_emsa_pss_verify(em, em_len, bits, h, h, digest, hlen, slen + 1));
                if (slen > 0)
                    CHECK_RC(SK_ERR_VERIFY,
                             sk_emsa_pss_verify(em, em_len, bits, h, h, digest, hlen, slen - 1));
                sk_hash other = all_hashes[(hi + 1) % NHASH];
                CHECK_RC(SK_ERR_VERIFY,
                         sk_emsa_pss_verify(em, em_len, bits, h, other, digest, hlen, slen));
                digest[hlen - 1] ^= 1;
                CHECK_RC(SK_ERR_VERIFY,
                         sk_emsa_pss_verify(em, em_len, bits, h, h, digest, hlen, slen));
                digest[hlen - 1] ^= 1;
                /* Every byte of EM, one bit each (the bit moves along). */
                int all_rejected = 1;
                for (size_t i = 0; i < em_len; i++) {
                    memcpy(em2, em, em_len);
                    em2[i] ^= (uint8_t)(1u << (i % 8));
                    if (sk_emsa_pss_verify(em2, em_len, bits, h, h, digest, hlen, slen) !=
                        SK_ERR_VERIFY)
                        all_rejected = 0;
                }
                CHECK(all_rejected);
                /* The bits above emBits must be zero: set the highest one
                 * (or the leading zero byte) and nothing else. */
                memcpy(em2, em, em_len);
                size_t skip = em_len - em_proper;
                if (skip == 1)
                    em2[0] = 0x01;
                else if (8 * em_proper > bits - 1)
                    em2[0] |= 0x80;
                if (memcmp(em, em2, em_len) != 0)
                    CHECK_RC(SK_ERR_VERIFY,
                             sk_emsa_pss_verify(em2, em_len, bits, h, h, digest, hlen, slen));
            }
            /* One byte more salt than fits. */
            uint8_t digest[SK_MAX_HASH_LEN] = {0}, salt[512] = {0};
            CHECK_RC(SK_ERR_ENCODING, sk_emsa_pss_encode(em, em_len, bits, h, digest, hlen, salt,
                                                         max_salt + 1));
            CHECK_RC(SK_ERR_VERIFY,
                     sk_emsa_pss_verify(em, em_len, bits, h, h, digest, hlen, max_salt + 1));
        }
        free(em);
        free(em2);
    }
}

/* The whole scheme with real keys: sk_encode, the private operation, and
 * sk_verify, for each signing hash and both schemes. */
static void test_roundtrip_keys(void)
{
    static const unsigned sizes[] = {1025, 1030, 2048, 2049, 3073};
    static const sk_hash hashes[] = {SK_HASH_SHA256, SK_HASH_SHA384, SK_HASH_SHA512};
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        test_rsa key;
        test_rsa_generate(&key, sizes[si], &drbg.rng);
        sk_pubkey *pk = test_rsa_pubkey(&key);
        CHECK(pk != NULL);
        if (pk == NULL) {
            test_rsa_clear(&key);
            continue;
        }
        CHECK(sk_pubkey_bits(pk) == sizes[si]);
        size_t k = sk_bytes(sizes[si]);
        uint8_t *em = malloc(k), *sig = malloc(k);
        for (size_t hi = 0; hi < 3; hi++) {
            sk_hash h = hashes[hi];
            size_t hlen = sk_hash_len(h);
            uint8_t digest[SK_MAX_HASH_LEN], salt[SK_MAX_HASH_LEN];
            fill(digest, hlen);
            fill(salt, hlen);
            for (int scheme = SK_SCHEME_PKCS1; scheme <= SK_SCHEME_PSS; scheme++) {
                int pss = scheme == SK_SCHEME_PSS;
                if (pss && k - 1 < 2 * hlen + 2) /* 1025 bits is too small for SHA-512 PSS */
                    continue;
                CHECK_OK(sk_encode(em, k, (sk_scheme)scheme, h, digest, hlen,
                                   pss ? salt : NULL, pss ? hlen : 0, sizes[si]));
                test_rsa_private(&key, sig, em);
                CHECK_OK(sk_verify(pk, (sk_scheme)scheme, h, digest, hlen, sig, k));
                int other = pss ? SK_SCHEME_PKCS1 : SK_SCHEME_PSS;
                CHECK_RC(SK_ERR_VERIFY, sk_verify(pk, (sk_scheme)other, h, digest, hlen, sig, k));
                sig[k / 2] ^= 0x10;
                CHECK_RC(SK_ERR_VERIFY, sk_verify(pk, (sk_scheme)scheme, h, digest, hlen, sig, k));
                sig[k / 2] ^= 0x10;
                digest[0] ^= 0x80;
                CHECK_RC(SK_ERR_VERIFY, sk_verify(pk, (sk_scheme)scheme, h, digest, hlen, sig, k));
                digest[0] ^= 0x80;
                /* Wrong length: one byte short, one byte long. */
                CHECK_RC(SK_ERR_VERIFY,
                         sk_verify(pk, (sk_scheme)scheme, h, digest, hlen, sig, k - 1));
                uint8_t *longer = calloc(1, k + 1);
                memcpy(longer + 1, sig, k);
                CHECK_RC(SK_ERR_VERIFY,
                         sk_verify(pk, (sk_scheme)scheme, h, digest, hlen, longer, k + 1));
                free(longer);
            }
        }
        /* PKCS1 is strict: encodings a lenient ASN.1-parsing verifier might
         * take are signed correctly with the private key and still refused. */
        {
            uint8_t digest[32];
            fill(digest, 32);
            static const uint8_t no_null[] = {0x30, 0x2f, 0x30, 0x0b, 0x06, 0x09, 0x60, 0x86,
                                              0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x04,
                                              0x20};
            /* DigestInfo without the NULL parameters. */
            memset(em, 0xff, k);
            em[0] = 0x00;
            em[1] = 0x01;
            em[k - 32 - sizeof no_null - 1] = 0x00;
            memcpy(em + k - 32 - sizeof no_null, no_null, sizeof no_null);
            memcpy(em + k - 32, digest, 32);
            test_rsa_private(&key, sig, em);
            CHECK_RC(SK_ERR_VERIFY, sk_verify(pk, SK_SCHEME_PKCS1, SK_HASH_SHA256, digest, 32,
                                              sig, k));
            /* The right encoding with one padding byte changed. */
            CHECK_OK(sk_encode(em, k, SK_SCHEME_PKCS1, SK_HASH_SHA256, digest, 32, NULL, 0,
                               sizes[si]));
            test_rsa_private(&key, sig, em);
            CHECK_OK(sk_verify(pk, SK_SCHEME_PKCS1, SK_HASH_SHA256, digest, 32, sig, k));
            em[5] = 0xfe;
            test_rsa_private(&key, sig, em);
            CHECK_RC(SK_ERR_VERIFY, sk_verify(pk, SK_SCHEME_PKCS1, SK_HASH_SHA256, digest, 32,
                                              sig, k));
        }
        /* A valid signature whose top byte is zero, without that byte: the
         * same integer, but RSAVP1 wants exactly k bytes.  (Such signatures
         * are common when n's top byte is small, as for 1025 bits.) */
        if (sizes[si] % 8 == 1) {
            uint8_t digest[32];
            int found = 0;
            for (int tries = 0; tries < 200 && !found; tries++) {
                fill(digest, 32);
                CHECK_OK(sk_encode(em, k, SK_SCHEME_PKCS1, SK_HASH_SHA256, digest, 32, NULL, 0,
                                   sizes[si]));
                test_rsa_private(&key, sig, em);
                found = sig[0] == 0;
            }
            CHECK(found);
            CHECK_OK(sk_verify(pk, SK_SCHEME_PKCS1, SK_HASH_SHA256, digest, 32, sig, k));
            CHECK_RC(SK_ERR_VERIFY,
                     sk_verify(pk, SK_SCHEME_PKCS1, SK_HASH_SHA256, digest, 32, sig + 1, k - 1));
        }
        /* A signature equal to n, or above it, is out of range. */
        uint8_t *nb = malloc(k);
        CHECK_OK(sk_pubkey_modulus(pk, nb, k));
        uint8_t digest[32] = {0};
        CHECK_RC(SK_ERR_VERIFY, sk_verify(pk, SK_SCHEME_PKCS1, SK_HASH_SHA256, digest, 32, nb, k));
        CHECK_RC(SK_ERR_VERIFY, sk_rsa_public(em, k, pk, nb, k));
        /* s = 1 gives EM = 1, which is no valid encoding. */
        memset(nb, 0, k);
        nb[k - 1] = 1;
        CHECK_OK(sk_rsa_public(em, k, pk, nb, k));
        CHECK(memcmp(em, nb, k) == 0);
        CHECK_RC(SK_ERR_VERIFY, sk_verify(pk, SK_SCHEME_PSS, SK_HASH_SHA256, digest, 32, nb, k));
        free(nb);
        free(em);
        free(sig);
        sk_pubkey_free(pk);
        test_rsa_clear(&key);
    }
}

/* EMSA-PKCS1-v1_5 layout, byte by byte. */
static void test_pkcs1_layout(void)
{
    static const sk_hash hashes[] = {SK_HASH_SHA256, SK_HASH_SHA384, SK_HASH_SHA512};
    for (size_t hi = 0; hi < 3; hi++) {
        sk_hash h = hashes[hi];
        size_t hlen = sk_hash_len(h);
        const uint8_t *prefix;
        size_t prefix_len;
        CHECK_OK(sk_hash_digestinfo(h, &prefix, &prefix_len));
        for (unsigned bits = 2041; bits <= 2048; bits++) {
            uint8_t em[256], digest[SK_MAX_HASH_LEN];
            fill(digest, hlen);
            CHECK_OK(sk_encode(em, sk_bytes(bits), SK_SCHEME_PKCS1, h, digest, hlen, NULL, 0,
                               bits));
            size_t k = sk_bytes(bits), ps = k - 3 - prefix_len - hlen;
            CHECK(em[0] == 0 && em[1] == 1 && em[2 + ps] == 0);
            int ff = 1;
            for (size_t i = 0; i < ps; i++)
                ff &= em[2 + i] == 0xff;
            CHECK(ff);
            CHECK(memcmp(em + 3 + ps, prefix, prefix_len) == 0);
            CHECK(memcmp(em + 3 + ps + prefix_len, digest, hlen) == 0);
        }
        /* The smallest em that fits: tLen + 11 bytes. */
        uint8_t em[128], digest[SK_MAX_HASH_LEN] = {0};
        size_t min = prefix_len + hlen + 11;
        CHECK_OK(sk_emsa_pkcs1_encode(em, min, h, digest, hlen));
        CHECK_RC(SK_ERR_ENCODING, sk_emsa_pkcs1_encode(em, min - 1, h, digest, hlen));
        CHECK_RC(SK_ERR_ENCODING, sk_encode(em, min - 1, SK_SCHEME_PKCS1, h, digest, hlen, NULL,
                                            0, (unsigned)(8 * (min - 1))));
    }
}

SK_TEST_PASSES_NULL static void test_encode_args(void)
{
    uint8_t em[256], digest[64] = {1}, salt[64] = {2};
    uint8_t *volatile null = NULL;
    const unsigned bits = 2048;
    CHECK_OK(sk_encode(em, 256, SK_SCHEME_PSS, SK_HASH_SHA256, digest, 32, salt, 32, bits));
    /* em must be exactly (bits + 7) / 8 bytes */
    CHECK_RC(SK_ERR_ARG, sk_encode(em, 255, SK_SCHEME_PSS, SK_HASH_SHA256, digest, 32, salt, 32,
                                   bits));
    CHECK_RC(SK_ERR_ARG, sk_encode(em, 256, SK_SCHEME_PSS, SK_HASH_SHA256, digest, 32, salt, 32,
                                   bits + 8));
    CHECK_RC(SK_ERR_ARG, sk_encode(em, 0, SK_SCHEME_PSS, SK_HASH_SHA256, digest, 32, salt, 32, 0));
    /* salt: PSS needs exactly hLen bytes, PKCS1 none */
    CHECK_RC(SK_ERR_ARG, sk_encode(em, 256, SK_SCHEME_PSS, SK_HASH_SHA256, digest, 32, salt, 31,
                                   bits));
    CHECK_RC(SK_ERR_ARG, sk_encode(em, 256, SK_SCHEME_PSS, SK_HASH_SHA256, digest, 32, NULL, 32,
                                   bits));
    CHECK_RC(SK_ERR_ARG, sk_encode(em, 256, SK_SCHEME_PKCS1, SK_HASH_SHA256, digest, 32, salt, 32,
                                   bits));
    /* hashes: only SHA-256/384/512 */
    CHECK_RC(SK_ERR_HASH, sk_encode(em, 256, SK_SCHEME_PKCS1, SK_HASH_SHA1, digest, 20, NULL, 0,
                                    bits));
    CHECK_RC(SK_ERR_HASH, sk_encode(em, 256, SK_SCHEME_PSS, SK_HASH_SHA224, digest, 28, salt, 28,
                                    bits));
    CHECK_RC(SK_ERR_HASH, sk_encode(em, 256, SK_SCHEME_PSS, (sk_hash)0, digest, 32, salt, 32,
                                    bits));
    CHECK_RC(SK_ERR_ARG, sk_encode(em, 256, SK_SCHEME_PSS, SK_HASH_SHA384, digest, 32, salt, 48,
                                   bits));
    CHECK_RC(SK_ERR_ARG, sk_encode(em, 256, (sk_scheme)3, SK_HASH_SHA256, digest, 32, NULL, 0,
                                   bits));
    CHECK_RC(SK_ERR_ARG, sk_encode(null, 256, SK_SCHEME_PKCS1, SK_HASH_SHA256, digest, 32, NULL, 0,
                                   bits));
    CHECK_RC(SK_ERR_ARG, sk_encode(em, 256, SK_SCHEME_PKCS1, SK_HASH_SHA256, null, 32, NULL, 0,
                                   bits));
    /* A modulus too small for PSS with SHA-512: emLen = ceil((bits - 1) / 8)
     * must reach 2 * 64 + 2 = 130, so 1033 bits fail and 1034 bits work. */
    memset(em, 0xee, sizeof em);
    CHECK_RC(SK_ERR_ENCODING, sk_encode(em, 130, SK_SCHEME_PSS, SK_HASH_SHA512, digest, 64, salt,
                                        64, 1033));
    int zero = 1;
    for (size_t i = 0; i < 130; i++)
        zero &= em[i] == 0;
    CHECK(zero); /* outputs zeroed on failure */
    CHECK_OK(sk_encode(em, 130, SK_SCHEME_PSS, SK_HASH_SHA512, digest, 64, salt, 64, 1034));
    /* verify: bad scheme, digest length, unknown hash */
    test_rsa key;
    test_rsa_generate(&key, 1024, &drbg.rng);
    sk_pubkey *pk = test_rsa_pubkey(&key);
    CHECK(pk != NULL);
    if (pk != NULL) {
        CHECK_RC(SK_ERR_ARG, sk_verify(pk, (sk_scheme)0, SK_HASH_SHA256, digest, 32, em, 128));
        CHECK_RC(SK_ERR_ARG, sk_verify(pk, SK_SCHEME_PSS, SK_HASH_SHA256, digest, 31, em, 128));
        CHECK_RC(SK_ERR_HASH, sk_verify(pk, SK_SCHEME_PSS, SK_HASH_SHA1, digest, 20, em, 128));
        CHECK_RC(SK_ERR_HASH, sk_verify_ex(pk, SK_SCHEME_PSS, SK_HASH_SHA256, (sk_hash)5, 32,
                                           digest, 32, em, 128));
        CHECK_RC(SK_ERR_ARG, sk_verify(pk, SK_SCHEME_PSS, SK_HASH_SHA256, digest, 32, null, 128));
    }
    sk_pubkey_free(pk);
    test_rsa_clear(&key);
}

int main(void)
{
    sk_test_init();
    sk_drbg_init(&drbg, (const uint8_t *)"test_pss", 8);
    test_pss_emsa();
    test_roundtrip_keys();
    test_pkcs1_layout();
    test_encode_args();
    sk_drbg_wipe(&drbg);
    return sk_test_done("test_pss");
}
