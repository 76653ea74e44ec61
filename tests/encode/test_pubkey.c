/* SPDX-License-Identifier: Apache-2.0 */
/* test_pubkey.c - RSA public keys: import/export round trips in every
 * accepted form (PEM/DER, SubjectPublicKeyInfo/PKCS#1), agreement with
 * mbedTLS's writer and with the openssl command, and rejection of garbage,
 * truncated, non-RSA and weak keys.
 *
 * Usage: test_pubkey [OPENSSL]   (the openssl comparisons need the path) */
#define _POSIX_C_SOURCE 200809L
#include <mbedtls/asn1write.h>
#include <mbedtls/pem.h>
#include <mbedtls/pk.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "rsakey.h"
#include "nullarg.h"
#include "testutil.h"

static sk_drbg drbg;

/* Two keys are the same when modulus and exponent agree; checked through
 * their SubjectPublicKeyInfo, which holds both. */
static int same_key(const sk_pubkey *a, const sk_pubkey *b)
{
    uint8_t da[4096], db[4096];
    size_t la, lb;
    if (sk_pubkey_export_der(a, da, sizeof da, &la) != SK_OK ||
        sk_pubkey_export_der(b, db, sizeof db, &lb) != SK_OK)
        return 0;
    return la == lb && memcmp(da, db, la) == 0 && mpz_cmp(a->n, b->n) == 0 &&
           mpz_cmp(a->e, b->e) == 0 && a->bits == b->bits;
}

/* PKCS#1 RSAPublicKey DER of a key, written by mbedTLS. */
static size_t mbedtls_pkcs1_der(mbedtls_pk_context *pk, uint8_t *buf, size_t cap)
{
    unsigned char *p = buf + cap;
    int len = mbedtls_pk_write_pubkey(&p, buf, pk);
    if (len <= 0)
        return 0;
    memmove(buf, p, (size_t)len);
    return (size_t)len;
}

static void test_roundtrip(unsigned bits)
{
    test_rsa key;
    test_rsa_generate(&key, bits, &drbg.rng);
    sk_pubkey *pk = test_rsa_pubkey(&key), *back = NULL;
    CHECK(pk != NULL);
    if (pk == NULL) {
        test_rsa_clear(&key);
        return;
    }
    CHECK(sk_pubkey_bits(pk) == bits);

    /* DER: size query, too small, exact. */
    size_t need = 0, written = 0;
    CHECK_RC(SK_ERR_BUFFER_TOO_SMALL, sk_pubkey_export_der(pk, NULL, 0, &need));
    CHECK(need > bits / 8);
    uint8_t *der = malloc(need);
    CHECK_RC(SK_ERR_BUFFER_TOO_SMALL, sk_pubkey_export_der(pk, der, need - 1, &written));
    CHECK(written == need);
    CHECK_OK(sk_pubkey_export_der(pk, der, need, &written));
    CHECK(written == need);
    CHECK_OK(sk_pubkey_import(&back, der, written));
    CHECK(back != NULL && same_key(pk, back));
    sk_pubkey_free(back);
    back = NULL;

    /* mbedTLS writes the same SubjectPublicKeyInfo and PKCS#1 forms. */
    mbedtls_pk_context mpk;
    mbedtls_pk_init(&mpk);
    CHECK(mbedtls_pk_setup(&mpk, mbedtls_pk_info_from_type(MBEDTLS_PK_RSA)) == 0);
    CHECK(test_rsa_to_mbedtls(&key, mbedtls_pk_rsa(mpk)) == 0);
    uint8_t mbuf[4096];
    int mlen = mbedtls_pk_write_pubkey_der(&mpk, mbuf, sizeof mbuf);
    CHECK(mlen > 0 && (size_t)mlen == written &&
          memcmp(mbuf + sizeof mbuf - (size_t)mlen, der, written) == 0);
    size_t p1len = mbedtls_pkcs1_der(&mpk, mbuf, sizeof mbuf);
    CHECK(p1len > 0);
    CHECK_OK(sk_pubkey_import(&back, mbuf, p1len));
    CHECK(back != NULL && same_key(pk, back));
    sk_pubkey_free(back);
    back = NULL;

    /* PKCS#1 as PEM "RSA PUBLIC KEY" (written by mbedTLS). */
    unsigned char pem1[8192];
    size_t pem1_len = 0;
    CHECK(mbedtls_pem_write_buffer("-----BEGIN RSA PUBLIC KEY-----\n",
                                   "-----END RSA PUBLIC KEY-----\n", mbuf, p1len, pem1,
                                   sizeof pem1, &pem1_len) == 0);
    CHECK_OK(sk_pubkey_import(&back, pem1, strlen((char *)pem1)));
    CHECK(back != NULL && same_key(pk, back));
    sk_pubkey_free(back);
    back = NULL;
    mbedtls_pk_free(&mpk);

    /* PEM "PUBLIC KEY": with and without the NUL, with CRLF line ends and
     * surrounding white space; 64-character lines. */
    CHECK_RC(SK_ERR_BUFFER_TOO_SMALL, sk_pubkey_export_pem(pk, NULL, 0, &need));
    char *pem = malloc(need); /* need counts the NUL */
    CHECK_RC(SK_ERR_BUFFER_TOO_SMALL, sk_pubkey_export_pem(pk, pem, need - 1, &written));
    CHECK(written == need);
    CHECK_OK(sk_pubkey_export_pem(pk, pem, need, &written));
    CHECK(written + 1 == need && strlen(pem) == written);
    CHECK(strncmp(pem, "-----BEGIN PUBLIC KEY-----\n", 27) == 0);
    CHECK(strcmp(pem + written - 25, "-----END PUBLIC KEY-----\n") == 0);
    int lines_ok = 1;
    for (const char *l = pem + 27; *l != '-'; l = strchr(l, '\n') + 1) {
        size_t ll = (size_t)(strchr(l, '\n') - l);
        lines_ok &= ll <= 64 && (ll == 64 || l[ll + 1] == '-');
    }
    CHECK(lines_ok);
    CHECK_OK(sk_pubkey_import(&back, (const uint8_t *)pem, written));
    CHECK(back != NULL && same_key(pk, back));
    sk_pubkey_free(back);
    back = NULL;
    CHECK_OK(sk_pubkey_import(&back, (const uint8_t *)pem, written + 1));
    CHECK(back != NULL && same_key(pk, back));
    sk_pubkey_free(back);
    back = NULL;
    char *crlf = malloc(2 * written + 8), *q = crlf;
    *q++ = '\n';
    *q++ = ' ';
    for (size_t i = 0; i < written; i++) {
        if (pem[i] == '\n')
            *q++ = '\r';
        *q++ = pem[i];
    }
    *q++ = '\n';
    CHECK_OK(sk_pubkey_import(&back, (const uint8_t *)crlf, (size_t)(q - crlf)));
    CHECK(back != NULL && same_key(pk, back));
    sk_pubkey_free(back);
    back = NULL;
    free(crlf);

    /* Truncations: every proper prefix of the DER, and every PEM prefix
     * that cuts into the footer or before it. */
    int trunc_rejected = 1;
    size_t der_len;
    CHECK_OK(sk_pubkey_export_der(pk, der, sk_bytes(bits) + 64, &der_len));
    for (size_t l = 1; l < der_len; l++) {
        int rc = sk_pubkey_import(&back, der, l);
        if (rc != SK_ERR_DER || back != NULL)
            trunc_rejected = 0;
        sk_pubkey_free(back);
        back = NULL;
    }
    CHECK(trunc_rejected);
    trunc_rejected = 1;
    for (size_t l = 1; l + 2 < written; l++) {
        int rc = sk_pubkey_import(&back, (const uint8_t *)pem, l);
        if (rc == SK_OK || back != NULL)
            trunc_rejected = 0;
        sk_pubkey_free(back);
        back = NULL;
    }
    CHECK(trunc_rejected);

    /* Trailing bytes after the DER, or garbage after the PEM block. */
    uint8_t *longer = malloc(der_len + 1);
    memcpy(longer, der, der_len);
    longer[der_len] = 0;
    CHECK_RC(SK_ERR_DER, sk_pubkey_import(&back, longer, der_len + 1));
    CHECK(back == NULL);
    free(longer);
    char *tail = malloc(written + 8);
    memcpy(tail, pem, written);
    memcpy(tail + written, "junk", 5);
    CHECK_RC(SK_ERR_PEM, sk_pubkey_import(&back, (const uint8_t *)tail, written + 4));
    free(tail);

    /* Modulus accessor: too small, exact, left-padded. */
    size_t k = sk_bytes(bits);
    uint8_t *nb = malloc(k + 3);
    CHECK_RC(SK_ERR_BUFFER_TOO_SMALL, sk_pubkey_modulus(pk, nb, k - 1));
    CHECK_OK(sk_pubkey_modulus(pk, nb, k + 3));
    CHECK(nb[0] == 0 && nb[1] == 0 && nb[2] == 0 && nb[3] != 0);
    mpz_t n;
    mpz_init(n);
    mpz_import(n, k + 3, 1, 1, 0, 0, nb);
    CHECK(mpz_cmp(n, key.n) == 0);
    mpz_clear(n);
    free(nb);

    free(pem);
    free(der);
    sk_pubkey_free(pk);
    test_rsa_clear(&key);
}

/* Hand-made values through sk_pubkey_from_modulus. */
SK_TEST_PASSES_NULL static void test_from_modulus(void)
{
    test_rsa key;
    test_rsa_generate(&key, 1024, &drbg.rng);
    uint8_t *n;
    size_t n_len = test_mpz_bytes(&n, key.n);
    sk_pubkey *pk = NULL;
    const uint8_t e65537[] = {1, 0, 1}, e3[] = {3}, e1[] = {1}, e4[] = {4}, e_lead0[] = {0, 0, 3};
    CHECK_OK(sk_pubkey_from_modulus(&pk, n, n_len, e65537, 3));
    sk_pubkey_free(pk);
    CHECK_OK(sk_pubkey_from_modulus(&pk, n, n_len, e3, 1));
    sk_pubkey_free(pk);
    CHECK_OK(sk_pubkey_from_modulus(&pk, n, n_len, e_lead0, 3));
    sk_pubkey_free(pk);
    pk = (sk_pubkey *)1;
    CHECK_RC(SK_ERR_KEY_FORMAT, sk_pubkey_from_modulus(&pk, n, n_len, e1, 1));
    CHECK(pk == NULL);
    CHECK_RC(SK_ERR_KEY_FORMAT, sk_pubkey_from_modulus(&pk, n, n_len, e4, 1));
    /* e >= n */
    CHECK_RC(SK_ERR_KEY_FORMAT, sk_pubkey_from_modulus(&pk, n, n_len, n, n_len));
    /* n even */
    n[n_len - 1] ^= 1;
    CHECK_RC(SK_ERR_KEY_FORMAT, sk_pubkey_from_modulus(&pk, n, n_len, e65537, 3));
    n[n_len - 1] ^= 1;
    /* n of 511 bits (odd), and of exactly 512 */
    uint8_t small[64];
    memset(small, 0xff, sizeof small);
    small[0] = 0x7f;
    CHECK_RC(SK_ERR_KEY_FORMAT, sk_pubkey_from_modulus(&pk, small, 64, e65537, 3));
    small[0] = 0x80;
    CHECK_OK(sk_pubkey_from_modulus(&pk, small, 64, e65537, 3));
    CHECK(pk != NULL && sk_pubkey_bits(pk) == 512);
    sk_pubkey_free(pk);
    /* leading zero bytes do not count */
    uint8_t padded[66] = {0, 0};
    memcpy(padded + 2, small, 64);
    CHECK_OK(sk_pubkey_from_modulus(&pk, padded, 66, e65537, 3));
    CHECK(pk != NULL && sk_pubkey_bits(pk) == 512);
    sk_pubkey_free(pk);
    pk = NULL;
    uint8_t *volatile null = NULL;
    CHECK_RC(SK_ERR_ARG, sk_pubkey_from_modulus(&pk, null, 5, e3, 1));
    CHECK_RC(SK_ERR_ARG, sk_pubkey_from_modulus(&pk, n, 0, e3, 1));
    CHECK_RC(SK_ERR_ARG, sk_pubkey_from_modulus(&pk, n, n_len, e3, 0));
    sk_pubkey_free(NULL);
    free(n);
    test_rsa_clear(&key);
}

static void import_fails(int want, const char *hex_or_text, int is_hex)
{
    uint8_t *buf = NULL;
    long len;
    if (is_hex) {
        len = sk_test_unhex(&buf, hex_or_text);
    } else {
        len = (long)strlen(hex_or_text);
        buf = (uint8_t *)strdup(hex_or_text);
    }
    CHECK(len > 0);
    sk_pubkey *pk = (sk_pubkey *)&len; /* must come back NULL */
    CHECK_RC(want, sk_pubkey_import(&pk, buf, (size_t)len));
    CHECK(pk == NULL);
    free(buf);
}

SK_TEST_PASSES_NULL static void test_rejections(void)
{
    /* Not RSA: EC P-256, Ed25519, and an RSASSA-PSS-only key. */
    import_fails(SK_ERR_KEY_FORMAT,
                 "3059301306072a8648ce3d020106082a8648ce3d030107034200043ba2bca9fa7e7bd6158dee7cce"
                 "cab918886413e892cf1f5ed6ff9d4100c84b905227f883a09daa23e1900e88c0bc052c9abb7f127b"
                 "afde5f548a90e5045bad91",
                 1);
    import_fails(SK_ERR_KEY_FORMAT,
                 "302a300506032b65700321004b87e7c504d32b5a76d428cafc199a6e45175ec57d8109c7e81d509c"
                 "196dae99",
                 1);
    import_fails(SK_ERR_KEY_FORMAT,
                 "305a300b06092a864886f70d01010a034b003048024100a896ec1a23c3e4afaf8612df102ec03dc1"
                 "adf96f195730f2e3b94fd083895536955bfc2f556af1771d2d2a83c7171fdd14c79a93f84d0344f0"
                 "28d71871cdd6450203010001",
                 1);
    /* Garbage. */
    import_fails(SK_ERR_DER, "hello, world", 0);
    import_fails(SK_ERR_DER, "00", 1);
    import_fails(SK_ERR_DER, "30", 1);
    import_fails(SK_ERR_DER, "3000", 1);
    import_fails(SK_ERR_DER, "3080020103020103", 1); /* indefinite length */
    import_fails(SK_ERR_DER, "0403010001", 1);
    import_fails(SK_ERR_PEM, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", 0);
    import_fails(SK_ERR_PEM, "-----BEGIN PUBLIC KEY-----\n!!!!\n-----END PUBLIC KEY-----\n", 0);
    import_fails(SK_ERR_PEM, "-----BEGIN PUBLIC KEY-----\nMAA=\n", 0);
    /* A PEM label that does not match its content: PKCS#1 inside
     * "PUBLIC KEY" ("MAYCAQMCAQM=" is SEQUENCE { 3, 3 }). */
    import_fails(SK_ERR_DER, "-----BEGIN PUBLIC KEY-----\nMAYCAQMCAQM=\n-----END PUBLIC KEY-----\n",
                 0);
    /* PKCS#1 RSAPublicKey { n (512 bits), 65537 } as DER: accepted alone,
     * refused with a third INTEGER inside the SEQUENCE. */
    {
        uint8_t p1[80] = {0x30, 0x48, 0x02, 0x41, 0x00};
        memset(p1 + 5, 0xc5, 64);
        memcpy(p1 + 69, "\x02\x03\x01\x00\x01", 5);
        sk_pubkey *ok = NULL;
        CHECK_OK(sk_pubkey_import(&ok, p1, 74));
        CHECK(ok != NULL && sk_pubkey_bits(ok) == 512);
        sk_pubkey_free(ok);
        p1[1] = 0x4b;
        memcpy(p1 + 74, "\x02\x01\x05", 3);
        CHECK_RC(SK_ERR_DER, sk_pubkey_import(&ok, p1, 77));
        CHECK(ok == NULL);
    }
    /* Random bytes never import. */
    int random_rejected = 1;
    for (int i = 0; i < 2000; i++) {
        uint8_t buf[300];
        size_t len = 1 + (size_t)i % sizeof buf;
        CHECK_OK(drbg.rng.fill(drbg.rng.ctx, buf, len));
        if (i % 2)
            buf[0] = 0x30; /* look like a SEQUENCE half the time */
        sk_pubkey *pk = NULL;
        if (sk_pubkey_import(&pk, buf, len) == SK_OK || pk != NULL)
            random_rejected = 0;
        sk_pubkey_free(pk);
    }
    CHECK(random_rejected);

    /* Structural faults in an otherwise valid SubjectPublicKeyInfo. */
    test_rsa key;
    test_rsa_generate(&key, 1024, &drbg.rng);
    sk_pubkey *pk = test_rsa_pubkey(&key), *back = NULL;
    CHECK(pk != NULL);
    uint8_t der[512];
    size_t len = 0;
    CHECK_OK(sk_pubkey_export_der(pk, der, sizeof der, &len));
    /* 1024-bit SPKI: 30 81 9f | 30 0d 06 09 <oid 9> 05 00 | 03 81 8d 00 |
     * 30 81 89 | 02 81 81 00 <n 128> | 02 03 01 00 01 */
    CHECK(len == 162 && der[len - 5] == 0x02 && der[len - 1] == 0x01);
    der[len - 1] = 0x00; /* e = 65536: even */
    CHECK_RC(SK_ERR_KEY_FORMAT, sk_pubkey_import(&back, der, len));
    der[len - 1] = 0x01;
    CHECK(der[25] == 0x02 && der[26] == 0x81 && der[27] == 0x81 && der[28] == 0x00);
    der[28] = 0x80; /* n's 00 sign byte replaced: negative modulus */
    CHECK_RC(SK_ERR_KEY_FORMAT, sk_pubkey_import(&back, der, len));
    der[28] = 0x00;
    der[29] ^= 0x80; /* 00 followed by a byte below 0x80: not minimal */
    CHECK_RC(SK_ERR_DER, sk_pubkey_import(&back, der, len));
    der[29] ^= 0x80;
    CHECK(der[15] == 0x01 && der[16] == 0x05 && der[18] == 0x03 && der[21] == 0x00);
    der[15] = 0x0a; /* OID becomes RSASSA-PSS */
    CHECK_RC(SK_ERR_KEY_FORMAT, sk_pubkey_import(&back, der, len));
    der[15] = 0x01;
    der[16] = 0x04; /* parameters: OCTET STRING instead of NULL */
    CHECK_RC(SK_ERR_KEY_FORMAT, sk_pubkey_import(&back, der, len));
    der[16] = 0x05;
    der[21] = 0x01; /* BIT STRING with unused bits */
    CHECK_RC(SK_ERR_DER, sk_pubkey_import(&back, der, len));
    der[21] = 0x00;
    CHECK_OK(sk_pubkey_import(&back, der, len));
    CHECK(back != NULL && same_key(pk, back));
    sk_pubkey_free(back);
    back = NULL;
    uint8_t *volatile null = NULL;
    CHECK_RC(SK_ERR_ARG, sk_pubkey_import(&back, null, 5));
    CHECK_RC(SK_ERR_ARG, sk_pubkey_import(&back, der, 0));
    sk_pubkey_free(pk);
    test_rsa_clear(&key);
}

/* Runs a shell command; 0 on success. */
static int run(const char *cmd)
{
    int rc = system(cmd);
    if (rc != 0)
        fprintf(stderr, "command failed (%d): %s\n", rc, cmd);
    return rc;
}

static int write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return -1;
    size_t n = fwrite(data, 1, len, f);
    return fclose(f) == 0 && n == len ? 0 : -1;
}

/* openssl reads our PEM and writes the same DER; its PKCS#1 outputs and its
 * own generated keys import to the same key; its EC key is refused. */
static void test_openssl(const char *openssl)
{
    char dir[] = "/tmp/sk_pubkey_XXXXXX", cmd[2048], path[256];
    CHECK(mkdtemp(dir) != NULL);
    test_rsa key;
    test_rsa_generate(&key, 2049, &drbg.rng);
    sk_pubkey *pk = test_rsa_pubkey(&key), *back = NULL;
    CHECK(pk != NULL);
    char pem[2048];
    uint8_t der[1024];
    size_t pem_len, der_len, len;
    CHECK_OK(sk_pubkey_export_pem(pk, pem, sizeof pem, &pem_len));
    CHECK_OK(sk_pubkey_export_der(pk, der, sizeof der, &der_len));
    snprintf(path, sizeof path, "%s/ours.pem", dir);
    CHECK(write_file(path, pem, pem_len) == 0);

    snprintf(cmd, sizeof cmd,
             "'%s' pkey -pubin -in %s/ours.pem -outform DER -out %s/spki.der && "
             "'%s' rsa -pubin -in %s/ours.pem -RSAPublicKey_out -out %s/pkcs1.pem 2>/dev/null && "
             "'%s' rsa -pubin -in %s/ours.pem -RSAPublicKey_out -outform DER -out %s/pkcs1.der "
             "2>/dev/null && "
             "'%s' genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1536 -out %s/gen.pem "
             "2>/dev/null && '%s' pkey -in %s/gen.pem -pubout -out %s/gen.pub.pem && "
             "'%s' pkey -in %s/gen.pem -pubout -outform DER -out %s/gen.pub.der && "
             "'%s' genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out %s/ec.pem && "
             "'%s' pkey -in %s/ec.pem -pubout -out %s/ec.pub.pem",
             openssl, dir, dir, openssl, dir, dir, openssl, dir, dir, openssl, dir, openssl, dir,
             dir, openssl, dir, dir, openssl, dir, openssl, dir, dir);
    CHECK(run(cmd) == 0);

    static const char *same[] = {"spki.der", "pkcs1.pem", "pkcs1.der"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, same[i]);
        uint8_t *data = sk_test_read_file(path, &len);
        CHECK(data != NULL);
        if (data == NULL)
            continue;
        if (i == 0)
            CHECK(len == der_len && memcmp(data, der, len) == 0);
        CHECK_OK(sk_pubkey_import(&back, data, len));
        CHECK(back != NULL && same_key(pk, back));
        sk_pubkey_free(back);
        back = NULL;
        free(data);
    }

    /* openssl's own key: PEM and DER import alike and re-export to what
     * openssl wrote. */
    snprintf(path, sizeof path, "%s/gen.pub.der", dir);
    uint8_t *gder = sk_test_read_file(path, &len);
    snprintf(path, sizeof path, "%s/gen.pub.pem", dir);
    size_t gpem_len;
    uint8_t *gpem = sk_test_read_file(path, &gpem_len);
    CHECK(gder != NULL && gpem != NULL);
    if (gder != NULL && gpem != NULL) {
        CHECK_OK(sk_pubkey_import(&back, gpem, gpem_len));
        CHECK(back != NULL && sk_pubkey_bits(back) == 1536);
        uint8_t out[1024];
        size_t out_len = 0;
        if (back != NULL)
            CHECK_OK(sk_pubkey_export_der(back, out, sizeof out, &out_len));
        CHECK(out_len == len && memcmp(out, gder, len) == 0);
        char opem[2048];
        if (back != NULL)
            CHECK_OK(sk_pubkey_export_pem(back, opem, sizeof opem, &out_len));
        CHECK(out_len == gpem_len && memcmp(opem, gpem, gpem_len) == 0);
        sk_pubkey_free(back);
        back = NULL;
    }
    free(gder);
    free(gpem);

    snprintf(path, sizeof path, "%s/ec.pub.pem", dir);
    uint8_t *ec = sk_test_read_file(path, &len);
    CHECK(ec != NULL);
    if (ec != NULL)
        CHECK_RC(SK_ERR_KEY_FORMAT, sk_pubkey_import(&back, ec, len));
    free(ec);

    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(run(cmd) == 0);
    sk_pubkey_free(pk);
    test_rsa_clear(&key);
}

int main(int argc, char **argv)
{
    sk_test_init();
    sk_drbg_init(&drbg, (const uint8_t *)"test_pubkey", 11);
    test_roundtrip(1024);
    test_roundtrip(2049);
    test_roundtrip(4096);
    test_from_modulus();
    test_rejections();
    if (argc > 1 && argv[1][0] != '\0')
        test_openssl(argv[1]);
    else
        printf("test_pubkey: no openssl given, comparisons with openssl not run\n");
    sk_drbg_wipe(&drbg);
    return sk_test_done("test_pubkey");
}
