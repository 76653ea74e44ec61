/* SPDX-License-Identifier: Apache-2.0 */
/* tsa.c - the time-stamping authority: TimeStampReq parsing, TimeStampResp
 * and TSTInfo writing, the CMS SignedData around it (RFC 3161, RFC 5816,
 * RFC 5652, ETSI EN 319 422), and the TSA's PKCS#10 request. */
#include <mbedtls/asn1.h>
#include <mbedtls/md.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_csr.h>
#include <stdlib.h>
#include <string.h>

#include "pki/cert_internal.h"
#include "mbedtls_compat.h"

#define OID_SIGNED_DATA "1.2.840.113549.1.7.2"
#define OID_CT_TSTINFO "1.2.840.113549.1.9.16.1.4"
#define OID_ATTR_CONTENT_TYPE "1.2.840.113549.1.9.3"
#define OID_ATTR_MESSAGE_DIGEST "1.2.840.113549.1.9.4"
#define OID_ATTR_SIGNING_TIME "1.2.840.113549.1.9.5"
#define OID_ATTR_SIGNING_CERT_V2 "1.2.840.113549.1.9.16.2.47"
#define OID_SHA1 "1.3.14.3.2.26"
#define OID_SHA256 "2.16.840.1.101.3.4.2.1"
#define OID_SHA384 "2.16.840.1.101.3.4.2.2"
#define OID_SHA512 "2.16.840.1.101.3.4.2.3"
#define OID_QC_STATEMENTS "1.3.6.1.5.5.7.1.3"
/* ETSI EN 319 422 9.1 and annex B: id-etsi-tsts-EuQCompliance, the
 * statement esi4-qtstStatement-1 (no statementInfo). */
#define OID_ETSI_TSTS_EU_QC "0.4.0.19422.1.1"
#define OID_KP_TIME_STAMPING_DER "\x2b\x06\x01\x05\x05\x07\x03\x08"

#define SEQ (MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE)

struct sk_tsa {
    pki_cert cert;
    const sk_ca_key *key; /* borrowed */
    char policy[128];
    uint8_t policy_der[64];
    size_t policy_der_len;
    uint32_t accuracy;
    bool qualified, include_name;
    uint8_t cert_sha256[32];
};

/* ----------------------------------------------------------- the request */

typedef struct tsa_req {
    sk_hash hash;
    const char *hash_oid;
    bool alg_null; /* parameters present as NULL */
    const uint8_t *imprint;
    size_t imprint_len;
    const uint8_t *policy; /* OID content octets, or NULL */
    size_t policy_len;
    const uint8_t *nonce; /* INTEGER content octets, or NULL */
    size_t nonce_len;
    bool cert_req;
} tsa_req;

static bool oid_is(const uint8_t *p, size_t len, const char *dotted)
{
    uint8_t enc[64];
    size_t n = pki_oid_encode(enc, sizeof enc, dotted);
    return n != 0 && n == len && memcmp(p, enc, n) == 0;
}

/* Parses and checks a TimeStampReq.  Returns 0 (acceptable) or the
 * failInfo bits; *why receives a sentence for the statusString. */
static uint32_t parse_request(tsa_req *r, const char **why, const sk_tsa *tsa,
                              const uint8_t *req, size_t len)
{
    memset(r, 0, sizeof *r);
    *why = "the request is not a DER TimeStampReq";
    if (req == NULL || len == 0)
        return SK_TSA_FAIL_BAD_DATA_FORMAT;
    uint8_t *p = (uint8_t *)req;
    const uint8_t *end = req + len;
    size_t l;
    if (pki_asn1_expect(&p, end, &l, SEQ) != SK_OK ||
        p + l != end)
        return SK_TSA_FAIL_BAD_DATA_FORMAT;
    /* version */
    int version = 0;
    if (p >= end || mbedtls_asn1_get_int(&p, end, &version) != 0)
        return SK_TSA_FAIL_BAD_DATA_FORMAT;
    /* messageImprint */
    if (pki_asn1_expect(&p, end, &l, SEQ) != SK_OK)
        return SK_TSA_FAIL_BAD_DATA_FORMAT;
    const uint8_t *mi_end = p + l;
    if (pki_asn1_expect(&p, mi_end, &l, SEQ) != SK_OK)
        return SK_TSA_FAIL_BAD_DATA_FORMAT;
    const uint8_t *alg_end = p + l;
    if (pki_asn1_expect(&p, alg_end, &l, MBEDTLS_ASN1_OID) != SK_OK)
        return SK_TSA_FAIL_BAD_DATA_FORMAT;
    const uint8_t *oid = p;
    size_t oid_len = l;
    p += l;
    if (p < alg_end) {
        if (pki_asn1_expect(&p, alg_end, &l, MBEDTLS_ASN1_NULL) != SK_OK || l != 0)
            return SK_TSA_FAIL_BAD_DATA_FORMAT;
        r->alg_null = true;
    }
    if (p != alg_end || pki_asn1_expect(&p, mi_end, &l, MBEDTLS_ASN1_OCTET_STRING) != SK_OK ||
        p + l != mi_end)
        return SK_TSA_FAIL_BAD_DATA_FORMAT;
    r->imprint = p;
    r->imprint_len = l;
    p += l;
    /* reqPolicy, nonce, certReq, extensions: each optional, in this order */
    if (p < end && *p == MBEDTLS_ASN1_OID) {
        if (pki_asn1_expect(&p, end, &l, MBEDTLS_ASN1_OID) != SK_OK || l == 0)
            return SK_TSA_FAIL_BAD_DATA_FORMAT;
        r->policy = p;
        r->policy_len = l;
        p += l;
    }
    if (p < end && *p == MBEDTLS_ASN1_INTEGER) {
        if (pki_asn1_expect(&p, end, &l, MBEDTLS_ASN1_INTEGER) != SK_OK || l == 0)
            return SK_TSA_FAIL_BAD_DATA_FORMAT;
        r->nonce = p;
        r->nonce_len = l;
        p += l;
    }
    if (p < end && *p == MBEDTLS_ASN1_BOOLEAN) {
        int b = 0;
        if (mbedtls_asn1_get_bool(&p, end, &b) != 0)
            return SK_TSA_FAIL_BAD_DATA_FORMAT;
        r->cert_req = b != 0;
    }
    bool extensions = false;
    if (p < end && *p == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 0)) {
        if (pki_asn1_expect(&p, end, &l, *p) != SK_OK)
            return SK_TSA_FAIL_BAD_DATA_FORMAT;
        p += l;
        extensions = true;
    }
    if (p != end)
        return SK_TSA_FAIL_BAD_DATA_FORMAT;

    /* The structure is sound: now what it asks for. */
    if (version != 1) {
        *why = "only version 1 requests are supported";
        return SK_TSA_FAIL_BAD_REQUEST;
    }
    static const struct {
        const char *oid;
        sk_hash hash;
        size_t len;
    } algs[] = {{OID_SHA256, SK_HASH_SHA256, 32},
                {OID_SHA384, SK_HASH_SHA384, 48},
                {OID_SHA512, SK_HASH_SHA512, 64}};
    for (size_t i = 0; i < sizeof algs / sizeof algs[0]; i++)
        if (oid_is(oid, oid_len, algs[i].oid)) {
            r->hash = algs[i].hash;
            r->hash_oid = algs[i].oid;
            if (r->imprint_len != algs[i].len) {
                *why = "the hashed message does not have the length of its algorithm";
                return SK_TSA_FAIL_BAD_DATA_FORMAT;
            }
        }
    if (r->hash_oid == NULL) {
        *why = oid_is(oid, oid_len, OID_SHA1)
                   ? "SHA-1 is not accepted: use SHA-256, SHA-384 or SHA-512"
                   : "unknown hash algorithm: use SHA-256, SHA-384 or SHA-512";
        return SK_TSA_FAIL_BAD_ALG;
    }
    if (r->nonce != NULL && r->nonce_len > SK_TSA_MAX_NONCE_LEN) {
        *why = "the nonce is longer than 32 octets";
        return SK_TSA_FAIL_BAD_REQUEST;
    }
    if (r->policy != NULL && (r->policy_len != tsa->policy_der_len ||
                              memcmp(r->policy, tsa->policy_der, r->policy_len) != 0)) {
        *why = "the requested policy is not this TSA's policy";
        return SK_TSA_FAIL_UNACCEPTED_POLICY;
    }
    if (extensions) {
        *why = "request extensions are not supported";
        return SK_TSA_FAIL_UNACCEPTED_EXTENSION;
    }
    *why = NULL;
    return 0;
}

/* ---------------------------------------------------------- the response */

/* PKIStatusInfo { status, statusString SEQUENCE { UTF8String }, failInfo } */
static void write_status(der *d, int status, uint32_t fail, const char *text)
{
    size_t s = pki_der_open(d, 0x30);
    pki_der_small_int(d, MBEDTLS_ASN1_INTEGER, (uint64_t)status);
    if (text != NULL) {
        size_t t = pki_der_open(d, 0x30);
        pki_der_tlv(d, MBEDTLS_ASN1_UTF8_STRING, (const uint8_t *)text, strlen(text));
        pki_der_close(d, t);
    }
    if (fail != 0) {
        /* A named-bit BIT STRING without trailing zero bits (X.690 11.2.2). */
        int top = 31;
        while ((fail & (1u << top)) == 0)
            top--;
        uint8_t bits[5] = {0};
        size_t n = (size_t)top / 8 + 1;
        bits[0] = (uint8_t)(7 - top % 8);
        for (int b = 0; b <= top; b++)
            if ((fail & (1u << b)) != 0)
                bits[1 + b / 8] |= (uint8_t)(0x80u >> (b % 8));
        pki_der_tlv(d, MBEDTLS_ASN1_BIT_STRING, bits, n + 1);
    }
    pki_der_close(d, s);
}

static void write_tstinfo(der *d, const sk_tsa *tsa, const tsa_req *r, const sk_serial *sn,
                          int64_t now)
{
    size_t s = pki_der_open(d, 0x30);
    pki_der_small_int(d, MBEDTLS_ASN1_INTEGER, 1);
    pki_der_tlv(d, MBEDTLS_ASN1_OID, tsa->policy_der, tsa->policy_der_len);
    size_t mi = pki_der_open(d, 0x30);
    size_t alg = pki_der_open(d, 0x30);
    pki_der_oid(d, r->hash_oid);
    if (r->alg_null)
        pki_der_null(d);
    pki_der_close(d, alg);
    pki_der_tlv(d, MBEDTLS_ASN1_OCTET_STRING, r->imprint, r->imprint_len);
    pki_der_close(d, mi);
    pki_der_uint(d, sn->bytes, sn->len);
    pki_der_gentime(d, now);
    if (tsa->accuracy != 0) {
        size_t a = pki_der_open(d, 0x30);
        pki_der_small_int(d, MBEDTLS_ASN1_INTEGER, tsa->accuracy);
        pki_der_close(d, a);
    }
    /* ordering FALSE is the DEFAULT: not encoded (X.690 11.5) */
    if (r->nonce != NULL)
        pki_der_tlv(d, MBEDTLS_ASN1_INTEGER, r->nonce, r->nonce_len);
    if (tsa->include_name) {
        /* tsa [0] GeneralName { directoryName [4] Name } (both explicit:
         * GeneralName and Name are CHOICEs) */
        size_t t = pki_der_open(d, 0xa0);
        size_t dn = pki_der_open(d, 0xa4);
        pki_der_raw(d, tsa->cert.crt.subject_raw.p, tsa->cert.crt.subject_raw.len);
        pki_der_close(d, dn);
        pki_der_close(d, t);
    }
    if (tsa->qualified) {
        /* extensions [1] IMPLICIT Extensions { qcStatements { QCStatement {
         * esi4-qtstStatement-1 } } }, not critical (EN 319 422 9.1) */
        size_t ex = pki_der_open(d, 0xa1);
        ext_mark m = pki_ext_open(d, OID_QC_STATEMENTS, false);
        size_t all = pki_der_open(d, 0x30);
        size_t st = pki_der_open(d, 0x30);
        pki_der_oid(d, OID_ETSI_TSTS_EU_QC);
        pki_der_close(d, st);
        pki_der_close(d, all);
        pki_ext_close(d, m);
        pki_der_close(d, ex);
    }
    pki_der_close(d, s);
}

/* DER SET OF order (X.690 11.6): encodings compared as octet strings, the
 * shorter one padded with zeros. */
typedef struct attr_buf {
    const uint8_t *p;
    size_t len;
} attr_buf;

static int attr_cmp(const void *a, const void *b)
{
    const attr_buf *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->p, y->p, n);
    if (c != 0)
        return c;
    return x->len < y->len ? -1 : x->len > y->len ? 1 : 0;
}

#define N_ATTRS 4

/* The signed attributes' content (the Attributes without the SET header),
 * sorted. */
static void write_signed_attrs(der *d, const sk_tsa *tsa, const uint8_t *digest,
                               size_t digest_len, int64_t now)
{
    der a[N_ATTRS];
    for (size_t i = 0; i < N_ATTRS; i++)
        pki_der_init(&a[i]);
    size_t s, v;

    s = pki_der_open(&a[0], 0x30);
    pki_der_oid(&a[0], OID_ATTR_CONTENT_TYPE);
    v = pki_der_open(&a[0], 0x31);
    pki_der_oid(&a[0], OID_CT_TSTINFO);
    pki_der_close(&a[0], v);
    pki_der_close(&a[0], s);

    s = pki_der_open(&a[1], 0x30);
    pki_der_oid(&a[1], OID_ATTR_SIGNING_TIME);
    v = pki_der_open(&a[1], 0x31);
    pki_der_time(&a[1], now);
    pki_der_close(&a[1], v);
    pki_der_close(&a[1], s);

    s = pki_der_open(&a[2], 0x30);
    pki_der_oid(&a[2], OID_ATTR_MESSAGE_DIGEST);
    v = pki_der_open(&a[2], 0x31);
    pki_der_tlv(&a[2], MBEDTLS_ASN1_OCTET_STRING, digest, digest_len);
    pki_der_close(&a[2], v);
    pki_der_close(&a[2], s);

    /* SigningCertificateV2 { certs SEQUENCE OF ESSCertIDv2 { hashAlgorithm
     * DEFAULT sha256 (omitted), certHash, issuerSerial { issuer
     * GeneralNames { directoryName }, serialNumber } } } (RFC 5035) */
    const mbedtls_x509_crt *crt = &tsa->cert.crt;
    s = pki_der_open(&a[3], 0x30);
    pki_der_oid(&a[3], OID_ATTR_SIGNING_CERT_V2);
    v = pki_der_open(&a[3], 0x31);
    size_t sc = pki_der_open(&a[3], 0x30);
    size_t certs = pki_der_open(&a[3], 0x30);
    size_t id = pki_der_open(&a[3], 0x30);
    pki_der_tlv(&a[3], MBEDTLS_ASN1_OCTET_STRING, tsa->cert_sha256, 32);
    size_t is = pki_der_open(&a[3], 0x30);
    size_t gns = pki_der_open(&a[3], 0x30);
    size_t dn = pki_der_open(&a[3], 0xa4);
    pki_der_raw(&a[3], crt->issuer_raw.p, crt->issuer_raw.len);
    pki_der_close(&a[3], dn);
    pki_der_close(&a[3], gns);
    pki_der_tlv(&a[3], MBEDTLS_ASN1_INTEGER, crt->serial.p, crt->serial.len);
    pki_der_close(&a[3], is);
    pki_der_close(&a[3], id);
    pki_der_close(&a[3], certs);
    pki_der_close(&a[3], sc);
    pki_der_close(&a[3], v);
    pki_der_close(&a[3], s);

    attr_buf sorted[N_ATTRS];
    for (size_t i = 0; i < N_ATTRS; i++) {
        if (a[i].err != SK_OK && d->err == SK_OK)
            d->err = a[i].err;
        sorted[i].p = a[i].p;
        sorted[i].len = a[i].len;
    }
    if (d->err == SK_OK) {
        qsort(sorted, N_ATTRS, sizeof sorted[0], attr_cmp);
        for (size_t i = 0; i < N_ATTRS; i++)
            pki_der_raw(d, sorted[i].p, sorted[i].len);
    }
    for (size_t i = 0; i < N_ATTRS; i++)
        pki_der_free(&a[i]);
}

/* ContentInfo { id-signedData, [0] SignedData } over the DER TSTInfo. */
static int write_token(der *d, const sk_tsa *tsa, const uint8_t *tst, size_t tst_len,
                       bool cert_req, int64_t now)
{
    bool ec = tsa->key->type == SK_CA_KEY_EC_P384;
    const char *digest_oid = ec ? OID_SHA384 : OID_SHA256;
    uint8_t digest[48];
    size_t digest_len = ec ? 48 : 32;
    int rc = sk_hash_compute(ec ? SK_HASH_SHA384 : SK_HASH_SHA256, digest, tst, tst_len);
    if (rc != SK_OK)
        return rc;

    /* The signature is over the DER SET OF the attributes (RFC 5652 5.4). */
    der attrs;
    pki_der_init(&attrs);
    size_t set = pki_der_open(&attrs, 0x31);
    write_signed_attrs(&attrs, tsa, digest, digest_len, now);
    pki_der_close(&attrs, set);
    uint8_t sig[MBEDTLS_PK_SIGNATURE_MAX_SIZE];
    size_t sig_len = 0;
    rc = attrs.err;
    if (rc == SK_OK)
        rc = pki_sign_raw(tsa->key, sig, sizeof sig, &sig_len, attrs.p, attrs.len);
    if (rc != SK_OK)
        goto out;

    const mbedtls_x509_crt *crt = &tsa->cert.crt;
    size_t ci = pki_der_open(d, 0x30);
    pki_der_oid(d, OID_SIGNED_DATA);
    size_t e0 = pki_der_open(d, 0xa0);
    size_t sd = pki_der_open(d, 0x30);
    pki_der_small_int(d, MBEDTLS_ASN1_INTEGER, 3); /* eContentType is not id-data */
    size_t algs = pki_der_open(d, 0x31);
    size_t a = pki_der_open(d, 0x30);
    pki_der_oid(d, digest_oid);
    pki_der_close(d, a);
    pki_der_close(d, algs);
    size_t eci = pki_der_open(d, 0x30);
    pki_der_oid(d, OID_CT_TSTINFO);
    size_t ec0 = pki_der_open(d, 0xa0);
    pki_der_tlv(d, MBEDTLS_ASN1_OCTET_STRING, tst, tst_len);
    pki_der_close(d, ec0);
    pki_der_close(d, eci);
    if (cert_req) {
        size_t certs = pki_der_open(d, 0xa0);
        pki_der_raw(d, crt->raw.p, crt->raw.len);
        pki_der_close(d, certs);
    }
    size_t sis = pki_der_open(d, 0x31);
    size_t si = pki_der_open(d, 0x30);
    pki_der_small_int(d, MBEDTLS_ASN1_INTEGER, 1); /* sid is issuerAndSerialNumber */
    size_t ias = pki_der_open(d, 0x30);
    pki_der_raw(d, crt->issuer_raw.p, crt->issuer_raw.len);
    pki_der_tlv(d, MBEDTLS_ASN1_INTEGER, crt->serial.p, crt->serial.len);
    pki_der_close(d, ias);
    a = pki_der_open(d, 0x30);
    pki_der_oid(d, digest_oid);
    pki_der_close(d, a);
    /* signedAttrs [0] IMPLICIT: the SET with its tag replaced */
    if (d->err == SK_OK && attrs.len > 0) {
        uint8_t tag = 0xa0;
        pki_der_raw(d, &tag, 1);
        pki_der_raw(d, attrs.p + 1, attrs.len - 1);
    }
    pki_sig_alg(d, tsa->key);
    pki_der_tlv(d, MBEDTLS_ASN1_OCTET_STRING, sig, sig_len);
    pki_der_close(d, si);
    pki_der_close(d, sis);
    pki_der_close(d, sd);
    pki_der_close(d, e0);
    pki_der_close(d, ci);
    rc = d->err;
out:
    pki_der_free(&attrs);
    return rc;
}

int sk_tsa_respond(const sk_tsa *tsa, uint8_t *out, size_t cap, size_t *written,
                   sk_tsa_result *result, const uint8_t *request, size_t request_len,
                   int64_t now, const sk_serial *serial)
{
    if (written == NULL)
        return SK_ERR_ARG;
    *written = 0;
    sk_tsa_result res;
    memset(&res, 0, sizeof res);
    if (result != NULL)
        *result = res;
    if (tsa == NULL || (request == NULL && request_len != 0))
        return SK_ERR_ARG;
    if (serial != NULL && (serial->len == 0 || serial->len > SK_SERIAL_MAX_LEN))
        return SK_ERR_ARG;
    sk_tm tm;
    if (sk_time_split(&tm, now) != SK_OK || tm.year < 1970)
        return SK_ERR_ARG;

    tsa_req r;
    const char *why = NULL;
    uint32_t fail = parse_request(&r, &why, tsa, request, request_len);
    res.hash = r.hash;
    res.nonce = r.nonce != NULL;
    res.cert_req = r.cert_req;

    der d, tst;
    pki_der_init(&d);
    pki_der_init(&tst);
    int rc = SK_OK;
    if (fail == 0) {
        sk_serial sn;
        if (serial != NULL)
            sn = *serial;
        else
            pki_random_serial(&sn);
        write_tstinfo(&tst, tsa, &r, &sn, now);
        size_t s = pki_der_open(&d, 0x30);
        write_status(&d, SK_TSA_GRANTED, 0, NULL);
        rc = tst.err;
        if (rc == SK_OK)
            rc = write_token(&d, tsa, tst.p, tst.len, r.cert_req, now);
        pki_der_close(&d, s);
        if (rc == SK_OK && d.err == SK_OK) {
            res.status = SK_TSA_GRANTED;
            res.serial = sn;
        } else {
            /* Could not sign: say so rather than send nothing. */
            pki_der_free(&d);
            pki_der_init(&d);
            fail = SK_TSA_FAIL_SYSTEM_FAILURE;
            why = "the time-stamp token could not be made";
        }
    }
    if (fail != 0) {
        size_t s = pki_der_open(&d, 0x30);
        write_status(&d, SK_TSA_REJECTION, fail, why);
        pki_der_close(&d, s);
        res.status = SK_TSA_REJECTION;
        res.fail_info = fail;
    }
    rc = pki_der_output(&d, out, cap, written);
    pki_der_free(&d);
    pki_der_free(&tst);
    if (rc == SK_OK && result != NULL)
        *result = res;
    return rc;
}

/* --------------------------------------------------------------- the TSA */

/* extKeyUsage is id-kp-timeStamping and nothing else. */
static bool eku_time_stamping_only(const mbedtls_x509_crt *crt)
{
    const mbedtls_x509_sequence *s = &crt->MBEDTLS_PRIVATE(ext_key_usage);
    static const uint8_t ts[] = OID_KP_TIME_STAMPING_DER;
    return s->buf.p != NULL && s->next == NULL && s->buf.len == sizeof ts - 1 &&
           memcmp(s->buf.p, ts, sizeof ts - 1) == 0;
}

int sk_tsa_new(sk_tsa **out, const uint8_t *cert, size_t cert_len, const sk_ca_key *key,
               const sk_tsa_config *config)
{
    if (out == NULL)
        return SK_ERR_ARG;
    *out = NULL;
    if (cert == NULL || key == NULL || config == NULL || config->policy_oid == NULL ||
        strlen(config->policy_oid) >= sizeof ((sk_tsa *)0)->policy)
        return SK_ERR_ARG;
    sk_tsa *t = calloc(1, sizeof *t);
    if (t == NULL)
        return SK_ERR_NOMEM;
    int rc = SK_ERR_ARG;
    t->policy_der_len = pki_oid_encode(t->policy_der, sizeof t->policy_der, config->policy_oid);
    if (t->policy_der_len == 0)
        goto out;
    strcpy(t->policy, config->policy_oid);
    t->accuracy = config->accuracy_seconds;
    t->qualified = config->qualified != 0;
    t->include_name = config->include_name != 0;
    t->key = key;
    rc = pki_cert_load(&t->cert, cert, cert_len);
    if (rc != SK_OK)
        goto out;
    rc = SK_ERR_CERT;
    if (sk_mbedtls_pk_check_pair(&t->cert.crt.pk, &key->pk) != 0 ||
        !eku_time_stamping_only(&t->cert.crt))
        goto out;
    rc = sk_hash_compute(SK_HASH_SHA256, t->cert_sha256, t->cert.crt.raw.p, t->cert.crt.raw.len);
out:
    if (rc != SK_OK) {
        sk_tsa_free(t);
        return rc;
    }
    *out = t;
    return SK_OK;
}

void sk_tsa_free(sk_tsa *tsa)
{
    if (tsa == NULL)
        return;
    pki_cert_free(&tsa->cert);
    sk_wipe(tsa, sizeof *tsa);
    free(tsa);
}

/* ------------------------------------------------------ the TSA's request */

int sk_tsa_csr(const sk_ca_key *key, uint8_t *out, size_t cap, size_t *written,
               const sk_name *subject)
{
    if (written == NULL)
        return SK_ERR_ARG;
    *written = 0;
    if (key == NULL || subject == NULL)
        return SK_ERR_ARG;
    /* CertificationRequestInfo { version 0, subject, spki, attributes [0] {} } */
    der cri, res;
    pki_der_init(&cri);
    pki_der_init(&res);
    size_t s = pki_der_open(&cri, 0x30);
    pki_der_small_int(&cri, MBEDTLS_ASN1_INTEGER, 0);
    pki_name_write(&cri, subject);
    int rc = pki_key_spki(&cri, key);
    static const uint8_t no_attributes[] = {0xa0, 0x00};
    pki_der_raw(&cri, no_attributes, sizeof no_attributes);
    pki_der_close(&cri, s);
    if (rc == SK_OK)
        rc = cri.err;
    if (rc == SK_OK) {
        pki_sign_into(&res, key, cri.p, cri.len);
        rc = pki_der_output(&res, out, cap, written);
    }
    pki_der_free(&cri);
    pki_der_free(&res);
    return rc;
}

int pki_csr_any_key(der *spki, const uint8_t *csr, size_t len)
{
    if (csr == NULL || len == 0 || len > 65536)
        return SK_ERR_CSR;
    uint8_t *buf = malloc(len);
    if (buf == NULL)
        return SK_ERR_NOMEM;
    size_t der_len = 0;
    mbedtls_x509_csr req;
    mbedtls_x509_csr_init(&req);
    int rc = sk_pem_decode(buf, len, &der_len, "CERTIFICATE REQUEST", csr, len);
    if (rc != SK_OK || mbedtls_x509_csr_parse_der(&req, buf, der_len) != 0) {
        rc = SK_ERR_CSR;
        goto out;
    }
    mbedtls_pk_type_t t = mbedtls_pk_get_type(&req.pk);
    size_t bits = mbedtls_pk_get_bitlen(&req.pk);
    bool ok_key = (t == MBEDTLS_PK_RSA && bits >= 2048 && bits <= 4096) ||
                  ((t == MBEDTLS_PK_ECKEY || t == MBEDTLS_PK_ECDSA) &&
                   sk_mbedtls_pk_ec_group(req.pk) == MBEDTLS_ECP_DP_SECP384R1);
    if (!ok_key) {
        rc = SK_ERR_CSR;
        goto out;
    }
    /* Proof of possession: the request verifies under its own key. */
    mbedtls_md_type_t md = req.MBEDTLS_PRIVATE(sig_md);
    const mbedtls_md_info_t *mi = mbedtls_md_info_from_type(md);
    uint8_t hash[MBEDTLS_MD_MAX_SIZE];
    if (mi == NULL || (md != MBEDTLS_MD_SHA256 && md != MBEDTLS_MD_SHA384 &&
                       md != MBEDTLS_MD_SHA512)) {
        rc = SK_ERR_CSR;
        goto out;
    }
    if (mbedtls_md(mi, req.cri.p, req.cri.len, hash) != 0 ||
        mbedtls_pk_verify_ext(req.MBEDTLS_PRIVATE(sig_pk), req.MBEDTLS_PRIVATE(sig_opts),
                              &req.pk, md, hash, mbedtls_md_get_size(mi),
                              req.MBEDTLS_PRIVATE(sig).p, req.MBEDTLS_PRIVATE(sig).len) != 0) {
        rc = SK_ERR_VERIFY;
        goto out;
    }
    uint8_t k[2048];
    int n = mbedtls_pk_write_pubkey_der(&req.pk, k, sizeof k);
    if (n <= 0) {
        rc = SK_ERR_CSR;
        goto out;
    }
    pki_der_raw(spki, k + sizeof k - (size_t)n, (size_t)n);
    rc = spki->err;
out:
    mbedtls_x509_csr_free(&req);
    free(buf);
    return rc;
}
