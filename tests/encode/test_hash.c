/* SPDX-License-Identifier: Apache-2.0 */
/* test_hash.c - known answers for the hashes, the DigestInfo prefixes, MGF1
 * and the argument checks of sk_digest / sk_hash_compute. */
#include <mbedtls/asn1.h>
#include <mbedtls/md.h>
#include <mbedtls/oid.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "nullarg.h"
#include "testutil.h"

static const struct {
    sk_hash hash;
    const char *msg;
    const char *hex;
} kat[] = {
    /* FIPS 180-4 examples: "abc", "", and the 448-bit message. */
    {SK_HASH_SHA1, "abc", "a9993e364706816aba3e25717850c26c9cd0d89d"},
    {SK_HASH_SHA224, "abc", "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7"},
    {SK_HASH_SHA256, "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
    {SK_HASH_SHA384, "abc",
     "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca1"
     "34c825a7"},
    {SK_HASH_SHA512, "abc",
     "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23"
     "a3feebbd454d4423643ce80e2a9ac94fa54ca49f"},
    {SK_HASH_SHA1, "", "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
    {SK_HASH_SHA224, "", "d14a028c2a3a2bc9476102bb288234c415a2b01f828ea62ac5b3e42f"},
    {SK_HASH_SHA256, "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {SK_HASH_SHA384, "",
     "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f1"
     "4898b95b"},
    {SK_HASH_SHA512, "",
     "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2"
     "877eec2f63b931bd47417a81a538327af927da3e"},
    {SK_HASH_SHA1, "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
     "84983e441c3bd26ebaae4aa1f95129e5e54670f1"},
    {SK_HASH_SHA224, "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
     "75388b16512776cc5dba5da1fd890150b0c6455cb4f58b1952522525"},
    {SK_HASH_SHA256, "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
    {SK_HASH_SHA384, "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
     "3391fdddfc8dc7393707a65b1b4709397cf8b1d162af05abfe8f450de5f36bc6b0455a8520bc4e6f5fe95b1f"
     "e3c8452b"},
    {SK_HASH_SHA512, "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
     "204a8fc6dda82f0a0ced7beb8e08a41657c16ef468b228a8279be331a703c33596fd15c13b1b07f9aa1d3bea"
     "57789ca031ad85c7a71dd70354ec631238ca3445"},
};

static const sk_hash all_hashes[] = {SK_HASH_SHA1, SK_HASH_SHA224, SK_HASH_SHA256,
                                     SK_HASH_SHA384, SK_HASH_SHA512};

static void test_kat(void)
{
    for (size_t i = 0; i < sizeof kat / sizeof kat[0]; i++) {
        uint8_t *want, got[SK_MAX_HASH_LEN];
        long len = sk_test_unhex(&want, kat[i].hex);
        CHECK(len > 0 && (size_t)len == sk_hash_len_internal(kat[i].hash));
        CHECK_OK(sk_hash_compute(kat[i].hash, got, (const uint8_t *)kat[i].msg,
                                 strlen(kat[i].msg)));
        CHECK(len > 0 && memcmp(got, want, (size_t)len) == 0);
        /* The public function gives the same for the signing hashes and
         * refuses the legacy ones. */
        memset(got, 0, sizeof got);
        int rc = sk_digest(got, sizeof got, kat[i].hash, (const uint8_t *)kat[i].msg,
                           strlen(kat[i].msg));
        if (kat[i].hash == SK_HASH_SHA1 || kat[i].hash == SK_HASH_SHA224) {
            CHECK(rc == SK_ERR_HASH);
        } else {
            CHECK(rc == SK_OK);
            CHECK(len > 0 && memcmp(got, want, (size_t)len) == 0);
        }
        free(want);
    }
}

static void test_lengths(void)
{
    CHECK(sk_hash_len(SK_HASH_SHA256) == 32);
    CHECK(sk_hash_len(SK_HASH_SHA384) == 48);
    CHECK(sk_hash_len(SK_HASH_SHA512) == 64);
    CHECK(sk_hash_len_internal(SK_HASH_SHA1) == 20);
    CHECK(sk_hash_len_internal(SK_HASH_SHA224) == 28);
    CHECK(sk_hash_len((sk_hash)0) == 0);
    CHECK(sk_hash_len((sk_hash)77) == 0);
    for (size_t i = 0; i < sizeof all_hashes / sizeof all_hashes[0]; i++)
        CHECK(sk_hash_len_internal(all_hashes[i]) <= SK_MAX_HASH_LEN);
}

/* Each prefix must be the DER of DigestInfo up to the digest: SEQUENCE {
 * SEQUENCE { OID (the one mbedTLS knows for the hash), NULL }, OCTET STRING
 * of hLen bytes }, with lengths that cover exactly prefix + digest. */
static void test_digestinfo(void)
{
    static const mbedtls_md_type_t md[] = {MBEDTLS_MD_SHA1, MBEDTLS_MD_SHA224, MBEDTLS_MD_SHA256,
                                           MBEDTLS_MD_SHA384, MBEDTLS_MD_SHA512};
    for (size_t i = 0; i < sizeof all_hashes / sizeof all_hashes[0]; i++) {
        const uint8_t *prefix;
        size_t prefix_len, hlen = sk_hash_len_internal(all_hashes[i]);
        CHECK_OK(sk_hash_digestinfo(all_hashes[i], &prefix, &prefix_len));
        uint8_t buf[128];
        CHECK(prefix_len + hlen <= sizeof buf);
        memcpy(buf, prefix, prefix_len);
        memset(buf + prefix_len, 0xab, hlen);
        unsigned char *p = buf, *end = buf + prefix_len + hlen;
        size_t len;
        mbedtls_asn1_buf oid, params;
        CHECK(mbedtls_asn1_get_tag(&p, end, &len,
                                   MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) == 0);
        CHECK(p + len == end);
        CHECK(mbedtls_asn1_get_alg(&p, end, &oid, &params) == 0);
        CHECK(params.tag == MBEDTLS_ASN1_NULL && params.len == 0);
        const char *want_oid;
        size_t want_oid_len;
        CHECK(mbedtls_oid_get_oid_by_md(md[i], &want_oid, &want_oid_len) == 0);
        CHECK(oid.len == want_oid_len && memcmp(oid.p, want_oid, want_oid_len) == 0);
        CHECK(mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_OCTET_STRING) == 0);
        CHECK(len == hlen && p + len == end);
        CHECK(p == buf + prefix_len);
    }
    const uint8_t *prefix = (const uint8_t *)"x";
    size_t prefix_len = 5;
    CHECK_RC(SK_ERR_HASH, sk_hash_digestinfo((sk_hash)0, &prefix, &prefix_len));
    CHECK(prefix == NULL && prefix_len == 0);
}

static void test_mgf1(void)
{
    /* Computed independently (Python hashlib). */
    static const char *want256 =
        "90ce9a21fd30c9903e7f182833e9a9f8ee1606d06d4d0da3875ff26c067a76dcc6fd002692ada4d114890c47"
        "dcd6ce8d9e9a3d482425a774ba5e48b0d0a3c56d147350a6277ff0af01472cb05cac782e7fd51df90a7bd3f2"
        "2d3642e3875317279b0c2fe1";
    static const char *want1 =
        "9069ca78e7450a285173431b3e52c5c25299e473479e04f3d12d112b5c04c9ee67e4b1e6e201ea4eff56b994"
        "8d";
    uint8_t *w;
    uint8_t out[100];
    long len = sk_test_unhex(&w, want256);
    CHECK(len == 100);
    CHECK_OK(sk_mgf1(out, 100, SK_HASH_SHA256, (const uint8_t *)"splitkey", 8, false));
    CHECK(memcmp(out, w, 100) == 0);
    /* XOR mode over a buffer of 0xff gives the complement. */
    memset(out, 0xff, sizeof out);
    CHECK_OK(sk_mgf1(out, 100, SK_HASH_SHA256, (const uint8_t *)"splitkey", 8, true));
    int all = 1;
    for (size_t i = 0; i < 100; i++)
        all &= ((out[i] ^ w[i]) == 0xff);
    CHECK(all);
    free(w);

    len = sk_test_unhex(&w, want1);
    CHECK(len == 45);
    CHECK_OK(sk_mgf1(out, 45, SK_HASH_SHA1, NULL, 0, false));
    CHECK(memcmp(out, w, 45) == 0);
    free(w);

    CHECK_RC(SK_ERR_HASH, sk_mgf1(out, 10, (sk_hash)9, out, 1, false));
    CHECK_RC(SK_ERR_ARG, sk_mgf1(NULL, 10, SK_HASH_SHA256, out, 1, false));
    CHECK_RC(SK_ERR_ARG, sk_mgf1(out, 10, SK_HASH_SHA256, NULL, 1, false));
}

/* Argument checks; NULL goes through a volatile so the caller-side nonnull
 * attribute does not turn the call into a compile error. */
SK_TEST_PASSES_NULL static void test_args(void)
{
    uint8_t *volatile null = NULL;
    uint8_t out[64] = {0};
    CHECK_RC(SK_ERR_BUFFER_TOO_SMALL, sk_digest(out, 31, SK_HASH_SHA256, out, 1));
    CHECK_RC(SK_ERR_HASH, sk_digest(out, sizeof out, (sk_hash)0, out, 1));
    CHECK_RC(SK_ERR_ARG, sk_digest(null, sizeof out, SK_HASH_SHA256, out, 1));
    CHECK_RC(SK_ERR_ARG, sk_digest(out, sizeof out, SK_HASH_SHA256, null, 1));
    CHECK_OK(sk_digest(out, sizeof out, SK_HASH_SHA256, null, 0));
    CHECK_RC(SK_ERR_HASH, sk_hash_compute((sk_hash)4, out, out, 1));
    CHECK_RC(SK_ERR_ARG, sk_hash_compute(SK_HASH_SHA256, null, out, 1));
}

int main(void)
{
    sk_test_init();
    test_kat();
    test_lengths();
    test_digestinfo();
    test_mgf1();
    test_args();
    return sk_test_done("test_hash");
}
