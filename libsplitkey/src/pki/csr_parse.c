/* SPDX-License-Identifier: Apache-2.0 */
/* csr_parse.c - parsing PKCS#10 requests and the proof-of-possession
 * checks a CA makes before issuing: the signature verifies under
 * the key inside the request, and that key is the enrolled composite key. */
#include <mbedtls/asn1.h>
#include <stdlib.h>
#include <string.h>

#include "pki/csr_internal.h"

struct sk_csr {
    uint8_t *der;
    size_t der_len;
    size_t cri_off, cri_len; /* the signed CertificationRequestInfo */
    size_t sig_off, sig_len;
    sk_hash hash;
    sk_pubkey *key;
    sk_name *subject;
};

void sk_csr_free(sk_csr *csr)
{
    if (csr == NULL)
        return;
    if (csr->der != NULL) {
        sk_wipe(csr->der, csr->der_len);
        free(csr->der);
    }
    sk_pubkey_free(csr->key);
    sk_name_free(csr->subject);
    sk_wipe(csr, sizeof *csr);
    free(csr);
}

/* AlgorithmIdentifier of an RSASSA-PKCS1-v1_5 signature with SHA-2, NULL or
 * absent parameters. */
static int parse_sig_alg(sk_hash *hash, uint8_t **p, const uint8_t *end)
{
    size_t l;
    if (pki_asn1_expect(p, end, &l, 0x30) != SK_OK)
        return SK_ERR_CSR;
    const uint8_t *a_end = *p + l;
    if (pki_asn1_expect(p, a_end, &l, MBEDTLS_ASN1_OID) != SK_OK)
        return SK_ERR_CSR;
    static const sk_hash hashes[] = {SK_HASH_SHA256, SK_HASH_SHA384, SK_HASH_SHA512};
    int found = -1;
    for (size_t i = 0; i < 3; i++) {
        uint8_t oid[16];
        size_t n = pki_oid_encode(oid, sizeof oid, pki_csr_sig_oid(hashes[i]));
        if (n == l && memcmp(oid, *p, n) == 0)
            found = (int)i;
    }
    if (found < 0)
        return SK_ERR_CSR;
    *p += l;
    if (*p < a_end) {
        if (pki_asn1_expect(p, a_end, &l, MBEDTLS_ASN1_NULL) != SK_OK || l != 0)
            return SK_ERR_CSR;
    }
    if (*p != a_end)
        return SK_ERR_CSR;
    *hash = hashes[found];
    return SK_OK;
}

int pki_csr_info_parse(sk_pubkey **key, sk_name **subject, const uint8_t *cri, size_t len)
{
    sk_pubkey *k = NULL;
    sk_name *n = NULL;
    uint8_t *p = (uint8_t *)cri;
    const uint8_t *end = cri + len;
    size_t l;
    int rc = SK_ERR_CSR;
    if (key != NULL)
        *key = NULL;
    if (subject != NULL)
        *subject = NULL;
    if (cri == NULL || len == 0)
        return SK_ERR_CSR;
    if (pki_asn1_expect(&p, end, &l, 0x30) != SK_OK || p + l != end)
        goto out;
    if (pki_asn1_expect(&p, end, &l, MBEDTLS_ASN1_INTEGER) != SK_OK || l != 1 || p[0] != 0)
        goto out;
    p += 1;
    const uint8_t *name = p;
    if (pki_asn1_expect(&p, end, &l, 0x30) != SK_OK)
        goto out;
    p += l;
    if (pki_name_from_der(&n, name, (size_t)(p - name)) != SK_OK)
        goto out;
    const uint8_t *spki = p;
    if (pki_asn1_expect(&p, end, &l, 0x30) != SK_OK)
        goto out;
    p += l;
    rc = sk_pubkey_import(&k, spki, (size_t)(p - spki));
    if (rc != SK_OK) {
        rc = rc == SK_ERR_NOMEM ? rc : SK_ERR_KEY_FORMAT;
        goto out;
    }
    rc = SK_ERR_CSR;
    if (pki_asn1_expect(&p, end, &l, 0xa0) != SK_OK)
        goto out;
    p += l; /* attributes: carried, not interpreted */
    if (p != end)
        goto out;
    rc = SK_OK;
    if (key != NULL) {
        *key = k;
        k = NULL;
    }
    if (subject != NULL) {
        *subject = n;
        n = NULL;
    }
out:
    sk_pubkey_free(k);
    sk_name_free(n);
    return rc;
}

int sk_csr_parse(sk_csr **out, const uint8_t *data, size_t len)
{
    if (out == NULL)
        return SK_ERR_ARG;
    *out = NULL;
    if (data == NULL || len == 0)
        return SK_ERR_ARG;
    if (len > 65536)
        return SK_ERR_CSR;
    sk_csr *c = calloc(1, sizeof *c);
    if (c == NULL)
        return SK_ERR_NOMEM;
    int rc = SK_ERR_NOMEM;
    c->der = malloc(len);
    if (c->der == NULL)
        goto out;
    rc = sk_pem_decode(c->der, len, &c->der_len, "CERTIFICATE REQUEST", data, len);
    if (rc == SK_ERR_PEM)
        rc = sk_pem_decode(c->der, len, &c->der_len, "NEW CERTIFICATE REQUEST", data, len);
    if (rc != SK_OK)
        goto out;
    rc = SK_ERR_CSR;
    uint8_t *p = c->der;
    const uint8_t *end = c->der + c->der_len;
    size_t l;
    if (pki_asn1_expect(&p, end, &l, 0x30) != SK_OK || p + l != end)
        goto out;
    /* CertificationRequestInfo */
    const uint8_t *cri = p;
    if (pki_asn1_expect(&p, end, &l, 0x30) != SK_OK)
        goto out;
    p += l;
    c->cri_off = (size_t)(cri - c->der);
    c->cri_len = (size_t)(p - cri);
    rc = pki_csr_info_parse(&c->key, &c->subject, cri, c->cri_len);
    if (rc != SK_OK)
        goto out;
    rc = SK_ERR_CSR;
    if (parse_sig_alg(&c->hash, &p, end) != SK_OK)
        goto out;
    if (pki_asn1_expect(&p, end, &l, MBEDTLS_ASN1_BIT_STRING) != SK_OK || l < 2 || p[0] != 0 ||
        p + l != end)
        goto out;
    c->sig_off = (size_t)(p + 1 - c->der);
    c->sig_len = l - 1;
    rc = SK_OK;
out:
    if (rc != SK_OK) {
        sk_csr_free(c);
        return rc;
    }
    *out = c;
    return SK_OK;
}

int sk_csr_verify(const sk_csr *csr)
{
    if (csr == NULL)
        return SK_ERR_ARG;
    uint8_t digest[SK_MAX_HASH_LEN];
    int rc = sk_hash_compute(csr->hash, digest, csr->der + csr->cri_off, csr->cri_len);
    if (rc != SK_OK)
        return rc;
    rc = sk_verify(csr->key, SK_SCHEME_PKCS1, csr->hash, digest, sk_hash_len(csr->hash),
                   csr->der + csr->sig_off, csr->sig_len);
    return rc == SK_OK ? SK_OK : SK_ERR_VERIFY;
}

int sk_csr_check_key(const sk_csr *csr, const uint8_t *n, size_t n_len)
{
    if (csr == NULL || n == NULL || n_len == 0)
        return SK_ERR_ARG;
    mpz_t expected;
    mpz_init(expected);
    sk_mpz_from_bytes(expected, n, n_len);
    int rc = mpz_cmp(expected, csr->key->n) == 0 && mpz_cmp_ui(csr->key->e, SK_E) == 0
                 ? SK_OK
                 : SK_ERR_KEY_MISMATCH;
    mpz_clear(expected);
    return rc;
}

int sk_csr_pubkey(const sk_csr *csr, sk_pubkey **out)
{
    if (out == NULL)
        return SK_ERR_ARG;
    *out = NULL;
    if (csr == NULL)
        return SK_ERR_ARG;
    uint8_t buf[SK_PKI_MAX_CSR_LEN];
    size_t len = 0;
    int rc = sk_pubkey_export_der(csr->key, buf, sizeof buf, &len);
    if (rc == SK_OK)
        rc = sk_pubkey_import(out, buf, len);
    return rc;
}

int sk_csr_subject(const sk_csr *csr, sk_name **out)
{
    if (out == NULL)
        return SK_ERR_ARG;
    *out = NULL;
    if (csr == NULL)
        return SK_ERR_ARG;
    sk_name *n = malloc(sizeof *n);
    if (n == NULL)
        return SK_ERR_NOMEM;
    memcpy(n, csr->subject, sizeof *n);
    *out = n;
    return SK_OK;
}

sk_hash sk_csr_hash(const sk_csr *csr) { return csr->hash; }
