/* SPDX-License-Identifier: Apache-2.0 */
/* ocsp_request.c - parsing RFC 6960 OCSPRequests: CertIDs (SHA-1,
 * SHA-256, SHA-384 or SHA-512) and the RFC 8954 nonce.  Every read is bounds-checked against the
 * enclosing TLV; anything unexpected is SK_ERR_OCSP. */
#include <mbedtls/asn1.h>
#include <stdlib.h>
#include <string.h>

#include "pki/ocsp_internal.h"

#define OID_SHA1 "1.3.14.3.2.26"
#define OID_SHA256 "2.16.840.1.101.3.4.2.1"
#define OID_SHA384 "2.16.840.1.101.3.4.2.2"
#define OID_SHA512 "2.16.840.1.101.3.4.2.3"
#define OID_NONCE "1.3.6.1.5.5.7.48.1.2"

void sk_ocsp_request_free(sk_ocsp_request *req)
{
    if (req == NULL)
        return;
    if (req->der != NULL) {
        sk_wipe(req->der, req->der_len);
        free(req->der);
    }
    sk_wipe(req, sizeof *req);
    free(req);
}

static bool oid_is(const uint8_t *p, size_t len, const char *dotted)
{
    uint8_t enc[32];
    size_t n = pki_oid_encode(enc, sizeof enc, dotted);
    return n == len && memcmp(enc, p, n) == 0;
}

/* CertID ::= SEQUENCE { hashAlgorithm AlgorithmIdentifier, issuerNameHash
 * OCTET STRING, issuerKeyHash OCTET STRING, serialNumber INTEGER } */
static int parse_certid(sk_ocsp_request *r, ocsp_certid *id, uint8_t **p, const uint8_t *end)
{
    size_t l;
    const uint8_t *start = *p;
    if (pki_asn1_expect(p, end, &l, 0x30) != SK_OK)
        return SK_ERR_OCSP;
    const uint8_t *c_end = *p + l;
    id->raw_off = (size_t)(start - r->der);
    id->raw_len = (size_t)(c_end - start);
    if (pki_asn1_expect(p, c_end, &l, 0x30) != SK_OK)
        return SK_ERR_OCSP;
    const uint8_t *a_end = *p + l;
    if (pki_asn1_expect(p, a_end, &l, MBEDTLS_ASN1_OID) != SK_OK)
        return SK_ERR_OCSP;
    if (oid_is(*p, l, OID_SHA1))
        id->hash = SK_HASH_SHA1;
    else if (oid_is(*p, l, OID_SHA256))
        id->hash = SK_HASH_SHA256;
    else if (oid_is(*p, l, OID_SHA384))
        id->hash = SK_HASH_SHA384;
    else if (oid_is(*p, l, OID_SHA512))
        id->hash = SK_HASH_SHA512;
    else
        id->hash = (sk_hash)0;
    *p += l;
    if (*p < a_end && (pki_asn1_expect(p, a_end, &l, MBEDTLS_ASN1_NULL) != SK_OK || l != 0))
        return SK_ERR_OCSP;
    if (*p != a_end)
        return SK_ERR_OCSP;
    if (pki_asn1_expect(p, c_end, &l, MBEDTLS_ASN1_OCTET_STRING) != SK_OK)
        return SK_ERR_OCSP;
    id->name_hash = *p;
    id->name_hash_len = l;
    *p += l;
    if (pki_asn1_expect(p, c_end, &l, MBEDTLS_ASN1_OCTET_STRING) != SK_OK)
        return SK_ERR_OCSP;
    id->key_hash = *p;
    id->key_hash_len = l;
    *p += l;
    if (pki_asn1_expect(p, c_end, &l, MBEDTLS_ASN1_INTEGER) != SK_OK || l == 0 || *p + l != c_end)
        return SK_ERR_OCSP;
    const uint8_t *v = *p;
    *p += l;
    if (l > 1 && ((v[0] == 0 && (v[1] & 0x80) == 0) || (v[0] == 0xff && (v[1] & 0x80) != 0)))
        return SK_ERR_OCSP; /* not minimal */
    if ((v[0] & 0x80) != 0)
        return SK_OK; /* negative: a serial no CA of ours issues; answered unknown */
    while (l > 1 && v[0] == 0) {
        v++;
        l--;
    }
    if (l <= SK_SERIAL_MAX_LEN && v[0] != 0) {
        id->serial_ok = true;
        id->serial.len = l;
        memcpy(id->serial.bytes, v, l);
    }
    if (id->hash != 0 && id->name_hash_len != sk_hash_len(id->hash))
        return SK_ERR_OCSP;
    if (id->hash != 0 && id->key_hash_len != sk_hash_len(id->hash))
        return SK_ERR_OCSP;
    return SK_OK;
}

/* Extensions ::= SEQUENCE OF Extension filling [*p, end); the nonce is
 * recorded, others are skipped. */
static int parse_extensions(sk_ocsp_request *r, uint8_t **p, const uint8_t *end, bool top)
{
    size_t l;
    if (pki_asn1_expect(p, end, &l, 0x30) != SK_OK || *p + l != end)
        return SK_ERR_OCSP;
    while (*p < end) {
        if (pki_asn1_expect(p, end, &l, 0x30) != SK_OK)
            return SK_ERR_OCSP;
        const uint8_t *e_end = *p + l;
        if (pki_asn1_expect(p, e_end, &l, MBEDTLS_ASN1_OID) != SK_OK)
            return SK_ERR_OCSP;
        bool nonce = oid_is(*p, l, OID_NONCE);
        *p += l;
        if (*p < e_end && **p == MBEDTLS_ASN1_BOOLEAN) {
            if (pki_asn1_expect(p, e_end, &l, MBEDTLS_ASN1_BOOLEAN) != SK_OK || l != 1)
                return SK_ERR_OCSP;
            *p += l;
        }
        if (pki_asn1_expect(p, e_end, &l, MBEDTLS_ASN1_OCTET_STRING) != SK_OK || *p + l != e_end)
            return SK_ERR_OCSP;
        if (nonce && top) {
            if (r->has_nonce || l == 0 || l > SK_OCSP_MAX_NONCE_LEN)
                return SK_ERR_OCSP;
            r->has_nonce = true;
            r->nonce_ext_off = (size_t)(*p - r->der);
            r->nonce_ext_len = l;
            /* RFC 8954: Nonce ::= OCTET STRING (SIZE(1..32)) inside extnValue */
            uint8_t *q = *p;
            size_t nl;
            if (pki_asn1_expect(&q, e_end, &nl, MBEDTLS_ASN1_OCTET_STRING) != SK_OK ||
                q + nl != e_end ||
                nl < 1 || nl > 32)
                return SK_ERR_OCSP;
            r->nonce_off = (size_t)(q - r->der);
            r->nonce_len = nl;
        }
        *p = (uint8_t *)e_end;
    }
    return SK_OK;
}

int sk_ocsp_request_parse(sk_ocsp_request **out, const uint8_t *data, size_t len)
{
    if (out == NULL)
        return SK_ERR_ARG;
    *out = NULL;
    if (data == NULL || len == 0)
        return SK_ERR_OCSP;
    if (len > OCSP_MAX_REQUEST_LEN)
        return SK_ERR_LIMIT;
    sk_ocsp_request *r = calloc(1, sizeof *r);
    if (r == NULL)
        return SK_ERR_NOMEM;
    int rc = SK_ERR_NOMEM;
    r->der = malloc(len);
    if (r->der == NULL)
        goto out;
    memcpy(r->der, data, len);
    r->der_len = len;
    rc = SK_ERR_OCSP;
    uint8_t *p = r->der;
    const uint8_t *end = r->der + len;
    size_t l;
    if (pki_asn1_expect(&p, end, &l, 0x30) != SK_OK || p + l != end)
        goto out;
    if (pki_asn1_expect(&p, end, &l, 0x30) != SK_OK)
        goto out;
    const uint8_t *tbs_end = p + l;
    /* version [0] EXPLICIT INTEGER DEFAULT v1(0) */
    if (p < tbs_end && *p == 0xa0) {
        if (pki_asn1_expect(&p, tbs_end, &l, 0xa0) != SK_OK)
            goto out;
        const uint8_t *v_end = p + l;
        if (pki_asn1_expect(&p, v_end, &l, MBEDTLS_ASN1_INTEGER) != SK_OK || l != 1 || p[0] != 0 ||
            p + l != v_end)
            goto out;
        p += l;
    }
    /* requestorName [1] EXPLICIT GeneralName: skipped */
    if (p < tbs_end && *p == 0xa1) {
        if (pki_asn1_expect(&p, tbs_end, &l, 0xa1) != SK_OK)
            goto out;
        p += l;
    }
    if (pki_asn1_expect(&p, tbs_end, &l, 0x30) != SK_OK || l == 0)
        goto out;
    const uint8_t *list_end = p + l;
    while (p < list_end) {
        if (r->count == SK_OCSP_MAX_REQUESTS) {
            rc = SK_ERR_LIMIT;
            goto out;
        }
        if (pki_asn1_expect(&p, list_end, &l, 0x30) != SK_OK)
            goto out;
        const uint8_t *req_end = p + l;
        if (parse_certid(r, &r->ids[r->count], &p, req_end) != SK_OK)
            goto out;
        r->count++;
        if (p < req_end) {
            if (pki_asn1_expect(&p, req_end, &l, 0xa0) != SK_OK || p + l != req_end ||
                parse_extensions(r, &p, req_end, false) != SK_OK)
                goto out;
        }
    }
    if (p < tbs_end) {
        if (pki_asn1_expect(&p, tbs_end, &l, 0xa2) != SK_OK || p + l != tbs_end ||
            parse_extensions(r, &p, tbs_end, true) != SK_OK)
            goto out;
    }
    if (p != tbs_end)
        goto out;
    /* optionalSignature [0] EXPLICIT Signature: not required, not checked */
    if (p < end) {
        if (pki_asn1_expect(&p, end, &l, 0xa0) != SK_OK || p + l != end)
            goto out;
        p += l;
    }
    rc = SK_OK;
out:
    if (rc != SK_OK) {
        sk_ocsp_request_free(r);
        return rc;
    }
    *out = r;
    return SK_OK;
}

size_t sk_ocsp_request_count(const sk_ocsp_request *req) { return req->count; }

int sk_ocsp_request_serial(const sk_ocsp_request *req, sk_serial *serial, size_t i)
{
    if (req == NULL || serial == NULL)
        return SK_ERR_ARG;
    memset(serial, 0, sizeof *serial);
    if (i >= req->count)
        return SK_ERR_ARG;
    if (!req->ids[i].serial_ok)
        return SK_ERR_NOT_FOUND;
    *serial = req->ids[i].serial;
    return SK_OK;
}

const uint8_t *sk_ocsp_request_nonce(const sk_ocsp_request *req, size_t *len)
{
    if (!req->has_nonce) {
        *len = 0;
        return NULL;
    }
    *len = req->nonce_len;
    return req->der + req->nonce_off;
}
