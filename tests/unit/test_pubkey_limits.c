/* SPDX-License-Identifier: Apache-2.0 */
/* Public-key import limits that bound the cost of a verification.
 * Regression test: a 16384-bit modulus with a 16384-bit public exponent used
 * to be accepted, and each sk_verify under it took over a second.  Now, as in
 * OpenSSL, a modulus above 3072 bits needs an exponent of at most 64 bits;
 * smaller moduli keep accepting any odd 3 <= e < n.  Checked through
 * sk_pubkey_from_modulus and through DER import (SubjectPublicKeyInfo and
 * PKCS#1), and for PEM by the fuzz corpus (tests/fuzz/corpus/pubkey). */
#include <mbedtls/asn1write.h>
#include <mbedtls/oid.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "testutil.h"

#define MAX_BYTES (16384 / 8)

/* An odd modulus of `bits` bits with its top bit set (not a real key: import
 * does not factor). */
static void make_modulus(uint8_t *n, unsigned bits)
{
    size_t len = bits / 8;
    for (size_t i = 0; i < len; i++)
        n[i] = (uint8_t)(0x9d ^ (i * 31));
    n[0] |= 0x80;
    n[len - 1] |= 1;
}

/* e = 2^(ebits-1) + 1 in elen = ceil(ebits / 8) bytes. */
static size_t make_exponent(uint8_t *e, unsigned ebits)
{
    size_t len = (ebits + 7) / 8;
    memset(e, 0, len);
    e[0] = (uint8_t)(1u << ((ebits - 1) % 8));
    e[len - 1] |= 1;
    return len;
}

/* DER INTEGER (non-negative) written backwards at *p. */
static int write_uint(unsigned char **p, unsigned char *start, const uint8_t *v, size_t len)
{
    int ret, total = 0;
    MBEDTLS_ASN1_CHK_ADD(total, mbedtls_asn1_write_raw_buffer(p, start, v, len));
    if (v[0] & 0x80) {
        *--(*p) = 0;
        total++;
    }
    MBEDTLS_ASN1_CHK_ADD(total, mbedtls_asn1_write_len(p, start, (size_t)total));
    MBEDTLS_ASN1_CHK_ADD(total, mbedtls_asn1_write_tag(p, start, MBEDTLS_ASN1_INTEGER));
    return total;
}

/* RSAPublicKey DER (spki == 0) or SubjectPublicKeyInfo DER (spki == 1) at
 * the end of buf; returns its start and sets *len. */
static unsigned char *make_der(unsigned char *buf, size_t cap, const uint8_t *n, size_t n_len,
                               const uint8_t *e, size_t e_len, int spki, size_t *len)
{
    unsigned char *p = buf + cap;
    int l = 0, r;
    r = write_uint(&p, buf, e, e_len);
    l += r;
    r = write_uint(&p, buf, n, n_len);
    l += r;
    l += mbedtls_asn1_write_len(&p, buf, (size_t)l);
    l += mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE);
    if (spki) {
        *--p = 0; /* no unused bits */
        l++;
        l += mbedtls_asn1_write_len(&p, buf, (size_t)l);
        l += mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_BIT_STRING);
        l += mbedtls_asn1_write_algorithm_identifier(
            &p, buf, MBEDTLS_OID_PKCS1_RSA, MBEDTLS_OID_SIZE(MBEDTLS_OID_PKCS1_RSA), 0);
        l += mbedtls_asn1_write_len(&p, buf, (size_t)l);
        l += mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE);
    }
    *len = (size_t)l;
    return p;
}

/* Expected result of importing (n of nbits, e of ebits) by every route. */
static void check(unsigned nbits, unsigned ebits, int expected)
{
    static uint8_t n[MAX_BYTES], e[MAX_BYTES];
    static unsigned char der[2 * MAX_BYTES + 64];
    make_modulus(n, nbits);
    size_t e_len = make_exponent(e, ebits);
    sk_pubkey *key = NULL;
    int rc = sk_pubkey_from_modulus(&key, n, nbits / 8, e, e_len);
    if (rc != expected)
        fprintf(stderr, "n %u bits, e %u bits: from_modulus %d\n", nbits, ebits, rc);
    CHECK(rc == expected);
    CHECK((key != NULL) == (expected == SK_OK));
    sk_pubkey_free(key);
    for (int spki = 0; spki < 2; spki++) {
        size_t len;
        unsigned char *p = make_der(der, sizeof der, n, nbits / 8, e, e_len, spki, &len);
        key = NULL;
        rc = sk_pubkey_import(&key, p, len);
        if (rc != expected)
            fprintf(stderr, "n %u bits, e %u bits, %s: import %d\n", nbits, ebits,
                    spki ? "SPKI" : "PKCS#1", rc);
        CHECK(rc == expected);
        if (key != NULL)
            CHECK(sk_pubkey_bits(key) == nbits);
        sk_pubkey_free(key);
    }
}

int main(void)
{
    sk_test_init();
    /* the usual exponent everywhere */
    check(2048, 17, SK_OK);
    check(16384, 17, SK_OK);
    /* 64 bits is the limit above 3072 bits */
    check(3080, 64, SK_OK);
    check(3080, 65, SK_ERR_KEY_FORMAT);
    check(4096, 64, SK_OK);
    check(4096, 65, SK_ERR_KEY_FORMAT);
    check(4096, 4095, SK_ERR_KEY_FORMAT);
    check(16384, 16383, SK_ERR_KEY_FORMAT);
    /* up to 3072 bits any e < n is still accepted (as OpenSSL does) */
    check(2048, 2047, SK_OK);
    check(3072, 3071, SK_OK);
    return sk_test_done("test_pubkey_limits");
}
