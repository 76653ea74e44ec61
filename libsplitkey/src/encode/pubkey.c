/* SPDX-License-Identifier: Apache-2.0 */
/* pubkey.c - RSA public keys: import from PEM/DER (SubjectPublicKeyInfo or
 * PKCS#1 RSAPublicKey), export as SubjectPublicKeyInfo, accessors.
 *
 * The DER parser is strict: definite lengths, minimal positive INTEGERs,
 * nothing after the outer SEQUENCE, rsaEncryption with NULL (or absent)
 * parameters.  Any other algorithm is SK_ERR_KEY_FORMAT. */
#include <mbedtls/asn1.h>
#include <mbedtls/asn1write.h>
#include <mbedtls/base64.h>
#include <mbedtls/oid.h>
#include <mbedtls/pem.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "encode/encode_internal.h"
#include "mbedtls_compat.h"

#define PEM_SPKI_BEGIN "-----BEGIN PUBLIC KEY-----"
#define PEM_SPKI_END "-----END PUBLIC KEY-----"
#define PEM_RSA_BEGIN "-----BEGIN RSA PUBLIC KEY-----"
#define PEM_RSA_END "-----END RSA PUBLIC KEY-----"

/* ------------------------------------------------------------ construction */

static sk_pubkey *pubkey_alloc(void)
{
    sk_pubkey *key = calloc(1, sizeof *key);
    if (key == NULL)
        return NULL;
    mpz_init(key->n);
    mpz_init(key->e);
    return key;
}

void sk_pubkey_free(sk_pubkey *key)
{
    if (key == NULL)
        return;
    /* mpz_clear releases the limbs through the GMP memory functions, which
     * sk_init() made wiping; the struct itself is wiped here. */
    mpz_clear(key->n);
    mpz_clear(key->e);
    sodium_memzero(key, sizeof *key);
    free(key);
}

/* The checks every import path shares: n odd and at least 512 bits (and not
 * absurdly large), e odd, 3 <= e < n, and e of at most 64 bits when n has
 * more than 3072 bits (OpenSSL's rule).  A verification costs one
 * exponentiation by e: without the bound a hostile 16384-bit key with a
 * 16384-bit e made each verification take over a second. */
#define SK_MAX_PUBEXP_BITS 64u
#define SK_SMALL_MODULUS_BITS 3072u
static int pubkey_check(const mpz_t n, const mpz_t e)
{
    size_t bits = mpz_sizeinbase(n, 2);
    if (mpz_sgn(n) <= 0 || bits < 512 || bits > SK_MAX_MODULUS_BITS || mpz_even_p(n))
        return SK_ERR_KEY_FORMAT;
    if (mpz_cmp_ui(e, 3) < 0 || mpz_even_p(e) || mpz_cmp(e, n) >= 0)
        return SK_ERR_KEY_FORMAT;
    if (bits > SK_SMALL_MODULUS_BITS && mpz_sizeinbase(e, 2) > SK_MAX_PUBEXP_BITS)
        return SK_ERR_KEY_FORMAT;
    return SK_OK;
}

static int pubkey_make(sk_pubkey **out, const uint8_t *n, size_t n_len, const uint8_t *e,
                       size_t e_len)
{
    sk_pubkey *key = pubkey_alloc();
    if (key == NULL)
        return SK_ERR_NOMEM;
    mpz_import(key->n, n_len, 1, 1, 0, 0, n);
    mpz_import(key->e, e_len, 1, 1, 0, 0, e);
    int rc = pubkey_check(key->n, key->e);
    if (rc != SK_OK) {
        sk_pubkey_free(key);
        return rc;
    }
    key->bits = (unsigned)mpz_sizeinbase(key->n, 2);
    *out = key;
    return SK_OK;
}

int sk_pubkey_from_modulus(sk_pubkey **out, const uint8_t *n, size_t n_len, const uint8_t *e,
                           size_t e_len)
{
    if (out == NULL)
        return SK_ERR_ARG;
    *out = NULL;
    if (n == NULL || e == NULL || n_len == 0 || e_len == 0)
        return SK_ERR_ARG;
    /* Refuse sizes beyond the limit before converting anything. */
    if (n_len > SK_MAX_MODULUS_BITS / 8 + 64 || e_len > n_len)
        return SK_ERR_KEY_FORMAT;
    return pubkey_make(out, n, n_len, e, e_len);
}

/* ------------------------------------------------------------------ import */

/* A DER INTEGER that must be positive and minimally encoded. */
static int der_get_uint(unsigned char **p, const unsigned char *end, const uint8_t **val,
                        size_t *len)
{
    size_t l;
    if (mbedtls_asn1_get_tag(p, end, &l, MBEDTLS_ASN1_INTEGER) != 0 || l == 0)
        return SK_ERR_DER;
    const uint8_t *v = *p;
    if (l > 1 && v[0] == 0x00 && (v[1] & 0x80) == 0)
        return SK_ERR_DER; /* not minimal */
    if ((v[0] & 0x80) != 0)
        return SK_ERR_KEY_FORMAT; /* negative */
    *val = v;
    *len = l;
    *p += l;
    return SK_OK;
}

/* RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER },
 * filling exactly [p, end). */
static int parse_rsa_public_key(sk_pubkey **out, unsigned char *p, const unsigned char *end)
{
    size_t len;
    const uint8_t *n, *e;
    size_t n_len, e_len;
    if (mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) !=
            0 ||
        p + len != end)
        return SK_ERR_DER;
    int rc = der_get_uint(&p, end, &n, &n_len);
    if (rc == SK_OK)
        rc = der_get_uint(&p, end, &e, &e_len);
    if (rc != SK_OK)
        return rc;
    if (p != end)
        return SK_ERR_DER;
    return sk_pubkey_from_modulus(out, n, n_len, e, e_len);
}

/* SubjectPublicKeyInfo ::= SEQUENCE { AlgorithmIdentifier, BIT STRING },
 * filling exactly [p, end). */
static int parse_spki(sk_pubkey **out, unsigned char *p, const unsigned char *end)
{
    size_t len;
    mbedtls_asn1_buf oid, params;
    if (mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) !=
            0 ||
        p + len != end)
        return SK_ERR_DER;
    if (mbedtls_asn1_get_alg(&p, end, &oid, &params) != 0)
        return SK_ERR_DER;
    if (MBEDTLS_OID_CMP(MBEDTLS_OID_PKCS1_RSA, &oid) != 0)
        return SK_ERR_KEY_FORMAT; /* EC, Ed25519, RSASSA-PSS-only, ... */
    /* RFC 3279 2.3.1 says NULL; absent parameters are tolerated. */
    if (params.tag != 0 && (params.tag != MBEDTLS_ASN1_NULL || params.len != 0))
        return SK_ERR_KEY_FORMAT;
    if (mbedtls_asn1_get_bitstring_null(&p, end, &len) != 0 || p + len != end)
        return SK_ERR_DER;
    return parse_rsa_public_key(out, p, end);
}

static int parse_der(sk_pubkey **out, const uint8_t *der, size_t len)
{
    unsigned char *p = (unsigned char *)der; /* mbedTLS takes non-const, never writes */
    const unsigned char *end = der + len;
    size_t inner;
    if (mbedtls_asn1_get_tag(&p, end, &inner, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) !=
            0 ||
        p == end)
        return SK_ERR_DER;
    /* The first element tells the two forms apart: an AlgorithmIdentifier
     * SEQUENCE (SubjectPublicKeyInfo) or the modulus INTEGER (PKCS#1). */
    if (*p == (MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE))
        return parse_spki(out, (unsigned char *)der, end);
    if (*p == MBEDTLS_ASN1_INTEGER)
        return parse_rsa_public_key(out, (unsigned char *)der, end);
    return SK_ERR_DER;
}

static bool is_space(uint8_t c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/* PEM: one "PUBLIC KEY" (SubjectPublicKeyInfo) or "RSA PUBLIC KEY" (PKCS#1)
 * block, with nothing but white space around it. */
static int parse_pem(sk_pubkey **out, const uint8_t *data, size_t len)
{
    if (memchr(data, 0, len) != NULL)
        return SK_ERR_PEM;
    char *text = malloc(len + 1);
    if (text == NULL)
        return SK_ERR_NOMEM;
    memcpy(text, data, len);
    text[len] = '\0';

    size_t start = 0;
    while (start < len && is_space((uint8_t)text[start]))
        start++;
    bool spki;
    if (strncmp(text + start, PEM_SPKI_BEGIN, strlen(PEM_SPKI_BEGIN)) == 0)
        spki = true;
    else if (strncmp(text + start, PEM_RSA_BEGIN, strlen(PEM_RSA_BEGIN)) == 0)
        spki = false;
    else {
        free(text);
        return SK_ERR_PEM;
    }

    int rc = SK_ERR_PEM;
    mbedtls_pem_context pem;
    mbedtls_pem_init(&pem);
    size_t used = 0;
    if (mbedtls_pem_read_buffer(&pem, spki ? PEM_SPKI_BEGIN : PEM_RSA_BEGIN,
                                spki ? PEM_SPKI_END : PEM_RSA_END,
                                (const unsigned char *)text + start, NULL, 0, &used) != 0)
        goto out;
    for (size_t i = start + used; i < len; i++)
        if (!is_space((uint8_t)text[i]))
            goto out;
    {
        unsigned char *p = pem.MBEDTLS_PRIVATE(buf);
        const unsigned char *end = p + pem.MBEDTLS_PRIVATE(buflen);
        rc = spki ? parse_spki(out, p, end) : parse_rsa_public_key(out, p, end);
    }
out:
    mbedtls_pem_free(&pem);
    free(text);
    return rc;
}

int sk_pubkey_import(sk_pubkey **out, const uint8_t *data, size_t len)
{
    if (out == NULL)
        return SK_ERR_ARG;
    *out = NULL;
    if (data == NULL || len == 0)
        return SK_ERR_ARG;
    /* The largest SubjectPublicKeyInfo we accept is far below this; anything
     * bigger is not a key of ours. */
    if (len > 64 * 1024)
        return SK_ERR_KEY_FORMAT;

    size_t i = 0;
    while (i < len && is_space(data[i]))
        i++;
    if (len - i >= 5 && memcmp(data + i, "-----", 5) == 0) {
        size_t text_len = len;
        if (data[text_len - 1] == '\0')
            text_len--; /* the caller passed the terminating NUL too */
        return parse_pem(out, data, text_len);
    }
    return parse_der(out, data, len);
}

/* ------------------------------------------------------------------ export */

/* Writes a non-negative INTEGER backwards into [start, *p). */
static int write_uint(unsigned char **p, unsigned char *start, const uint8_t *v, size_t v_len)
{
    int ret, len = 0;
    MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_raw_buffer(p, start, v, v_len));
    if ((v[0] & 0x80) != 0) {
        if (*p - start < 1)
            return MBEDTLS_ERR_ASN1_BUF_TOO_SMALL;
        *--(*p) = 0x00;
        len++;
    }
    MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_len(p, start, (size_t)len));
    MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_tag(p, start, MBEDTLS_ASN1_INTEGER));
    return len;
}

/* Adds the length an mbedTLS writer returns to len, or leaves on error. */
#define PUT(f)                                                                    \
    do {                                                                          \
        int r_ = (f);                                                             \
        if (r_ < 0)                                                               \
            goto out;                                                             \
        len += (size_t)r_;                                                        \
    } while (0)

/* Builds the SubjectPublicKeyInfo into a fresh buffer. */
static int spki_der(const sk_pubkey *key, uint8_t **der, size_t *der_len)
{
    size_t n_len = (mpz_sizeinbase(key->n, 2) + 7) / 8;
    size_t e_len = (mpz_sizeinbase(key->e, 2) + 7) / 8;
    size_t cap = n_len + e_len + 64;
    uint8_t *n = malloc(n_len), *e = malloc(e_len), *buf = malloc(cap);
    int rc = SK_ERR_NOMEM;
    if (n == NULL || e == NULL || buf == NULL)
        goto out;
    size_t count;
    mpz_export(n, &count, 1, 1, 0, 0, key->n);
    mpz_export(e, &count, 1, 1, 0, 0, key->e);

    rc = SK_ERR_INTERNAL;
    size_t len = 0;
    unsigned char *p = buf + cap;
    /* RSAPublicKey ::= SEQUENCE { n, e } */
    PUT(write_uint(&p, buf, e, e_len));
    PUT(write_uint(&p, buf, n, n_len));
    PUT(mbedtls_asn1_write_len(&p, buf, len));
    PUT(mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
    /* wrapped in a BIT STRING with no unused bits */
    if (p - buf < 1)
        goto out;
    *--p = 0x00;
    len++;
    PUT(mbedtls_asn1_write_len(&p, buf, len));
    PUT(mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_BIT_STRING));
    /* after AlgorithmIdentifier { rsaEncryption, NULL } (par_len 0 adds NULL) */
    PUT(mbedtls_asn1_write_algorithm_identifier(&p, buf, MBEDTLS_OID_PKCS1_RSA,
                                                MBEDTLS_OID_SIZE(MBEDTLS_OID_PKCS1_RSA), 0));
    PUT(mbedtls_asn1_write_len(&p, buf, len));
    PUT(mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
    memmove(buf, p, len);
    *der = buf;
    *der_len = len;
    buf = NULL;
    rc = SK_OK;
out:
    free(n);
    free(e);
    free(buf);
    return rc;
}

int sk_pubkey_export_der(const sk_pubkey *key, uint8_t *out, size_t cap, size_t *written)
{
    if (written == NULL)
        return SK_ERR_ARG;
    *written = 0;
    if (key == NULL || (out == NULL && cap > 0))
        return SK_ERR_ARG;
    uint8_t *der;
    size_t der_len;
    int rc = spki_der(key, &der, &der_len);
    if (rc != SK_OK)
        return rc;
    if (cap < der_len) {
        *written = der_len;
        rc = SK_ERR_BUFFER_TOO_SMALL;
    } else {
        memcpy(out, der, der_len);
        *written = der_len;
    }
    free(der);
    return rc;
}

int sk_pubkey_export_pem(const sk_pubkey *key, char *out, size_t cap, size_t *written)
{
    if (written == NULL)
        return SK_ERR_ARG;
    *written = 0;
    if (key == NULL || (out == NULL && cap > 0))
        return SK_ERR_ARG;
    uint8_t *der = NULL;
    size_t der_len;
    char *b64 = NULL;
    int rc = spki_der(key, &der, &der_len);
    if (rc != SK_OK)
        return rc;

    /* Base64 in lines of 64 characters between the two armour lines. */
    size_t b64_cap = 4 * ((der_len + 2) / 3) + 1, b64_len;
    rc = SK_ERR_NOMEM;
    b64 = malloc(b64_cap);
    if (b64 == NULL)
        goto out;
    rc = SK_ERR_INTERNAL;
    if (mbedtls_base64_encode((unsigned char *)b64, b64_cap, &b64_len, der, der_len) != 0)
        goto out;
    size_t lines = (b64_len + 63) / 64;
    size_t need = strlen(PEM_SPKI_BEGIN) + 1 + b64_len + lines + strlen(PEM_SPKI_END) + 1;
    if (cap < need + 1) {
        *written = need + 1;
        rc = SK_ERR_BUFFER_TOO_SMALL;
        goto out;
    }
    char *q = out;
    memcpy(q, PEM_SPKI_BEGIN "\n", strlen(PEM_SPKI_BEGIN) + 1);
    q += strlen(PEM_SPKI_BEGIN) + 1;
    for (size_t i = 0; i < b64_len; i += 64) {
        size_t take = b64_len - i < 64 ? b64_len - i : 64;
        memcpy(q, b64 + i, take);
        q += take;
        *q++ = '\n';
    }
    memcpy(q, PEM_SPKI_END "\n", strlen(PEM_SPKI_END) + 1);
    q += strlen(PEM_SPKI_END) + 1;
    *q = '\0';
    *written = (size_t)(q - out);
    rc = SK_OK;
out:
    free(b64);
    free(der);
    return rc;
}

/* --------------------------------------------------------------- accessors */

unsigned sk_pubkey_bits(const sk_pubkey *key) { return key != NULL ? key->bits : 0; }

int sk_pubkey_modulus(const sk_pubkey *key, uint8_t *n, size_t n_len)
{
    if (key == NULL || n == NULL)
        return SK_ERR_ARG;
    size_t len = sk_bytes(key->bits);
    if (n_len < len)
        return SK_ERR_BUFFER_TOO_SMALL;
    memset(n, 0, n_len);
    size_t count = 0;
    mpz_export(n + (n_len - len), &count, 1, 1, 0, 0, key->n);
    return count == len ? SK_OK : SK_ERR_INTERNAL;
}
