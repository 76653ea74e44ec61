/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rp_check.c - the relying party's certificate checks (rp_check.h): chain,
 * dates, key usage, policy, person and OCSP with a nonce, on mbedTLS 2.28
 * (x509 parsing and verification, ASN.1 reading and writing) and nng's HTTP
 * client.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mbedtls/asn1.h>
#include <mbedtls/asn1write.h>
#include <mbedtls/md.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/platform.h>
#include <mbedtls/x509_crt.h>
#include <nng/nng.h>
#include <nng/supplemental/http/http.h>
#include <sodium.h>

#include "rp_check.h"
#include "splitkey/pki.h"

#define OCSP_MAX_RESPONSE 65536u
#define OCSP_NONCE_LEN 16u
#define CLOCK_SKEW_S 300 /* how far thisUpdate may lie ahead of our clock */

/* Policy OIDs the CA writes (doc/pki.md, "Profiles"). */
#define OID_QCP_N_QSCD "0.4.0.194112.1.2"
#define OID_QCP_L_QSCD "0.4.0.194112.1.3"
#define OID_NCP_PLUS "0.4.0.2042.1.2"
#define OID_NCP "0.4.0.2042.1.1"

/* DER contents of the OIDs looked for by hand. */
static const uint8_t OID_AIA[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x01};
static const uint8_t OID_AD_OCSP[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01};
static const uint8_t OID_OCSP_BASIC[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x01};
static const uint8_t OID_OCSP_NONCE[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x02};

static void say(char *why, size_t why_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void say(char *why, size_t why_len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, why_len, fmt, ap);
    va_end(ap);
}

static bool oid_is(const uint8_t *p, size_t len, const uint8_t *oid, size_t oid_len)
{
    return len == oid_len && memcmp(p, oid, len) == 0;
}

/* ------------------------------------------------------------------ time */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

/* A GeneralizedTime "YYYYMMDDHHMMSSZ" (RFC 5280 form) at *p. */
static int get_gtime(unsigned char **p, const unsigned char *end, int64_t *t)
{
    size_t len;
    if (mbedtls_asn1_get_tag(p, end, &len, MBEDTLS_ASN1_GENERALIZED_TIME) != 0 || len != 15 ||
        (*p)[14] != 'Z')
        return -1;
    unsigned v[14];
    for (int i = 0; i < 14; i++) {
        if ((*p)[i] < '0' || (*p)[i] > '9')
            return -1;
        v[i] = (unsigned)((*p)[i] - '0');
    }
    int64_t y = v[0] * 1000 + v[1] * 100 + v[2] * 10 + v[3];
    unsigned mo = v[4] * 10 + v[5], d = v[6] * 10 + v[7], h = v[8] * 10 + v[9],
             mi = v[10] * 10 + v[11], s = v[12] * 10 + v[13];
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
        return -1;
    *t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
    *p += len;
    return 0;
}

static void fmt_time(char *out, size_t cap, int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (gmtime_r(&tt, &tm) == NULL || strftime(out, cap, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
        snprintf(out, cap, "%lld", (long long)t);
}

/* ------------------------------------------------------- the certificate */

int rp_check_ca_file(const char *path, char *why, size_t why_len)
{
    mbedtls_x509_crt ca;
    mbedtls_x509_crt_init(&ca);
    int rc = RP_CHECK_OK;
    if (mbedtls_x509_crt_parse_file(&ca, path) != 0) {
        say(why, why_len, "--ca-cert %s: not a certificate file (PEM or DER)", path);
        rc = RP_CHECK_ERROR;
    } else if (!ca.ca_istrue) {
        say(why, why_len, "--ca-cert %s: not a CA certificate (basicConstraints CA:FALSE)",
            path);
        rc = RP_CHECK_ERROR;
    }
    mbedtls_x509_crt_free(&ca);
    return rc;
}

/* The AIA OCSP URL (the first http one) of crt. */
static int aia_ocsp_url(const mbedtls_x509_crt *crt, char *url, size_t cap)
{
    /* tbsCertificate: walk to the [3] extensions */
    unsigned char *p = crt->tbs.p, *end = crt->tbs.p + crt->tbs.len;
    size_t len;
    if (mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE))
        return -1;
    end = p + len;
    while (p < end) {
        unsigned char tag = *p++;
        if (mbedtls_asn1_get_len(&p, end, &len) != 0)
            return -1;
        if (tag != (MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 3)) {
            p += len;
            continue;
        }
        unsigned char *xend = p + len;
        if (mbedtls_asn1_get_tag(&p, xend, &len,
                                 MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE))
            return -1;
        while (p < xend) {
            unsigned char *e_end;
            if (mbedtls_asn1_get_tag(&p, xend, &len,
                                     MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE))
                return -1;
            e_end = p + len;
            if (mbedtls_asn1_get_tag(&p, e_end, &len, MBEDTLS_ASN1_OID))
                return -1;
            bool aia = oid_is(p, len, OID_AIA, sizeof OID_AIA);
            p += len;
            if (p < e_end && *p == MBEDTLS_ASN1_BOOLEAN) {
                int crit;
                if (mbedtls_asn1_get_bool(&p, e_end, &crit))
                    return -1;
            }
            if (mbedtls_asn1_get_tag(&p, e_end, &len, MBEDTLS_ASN1_OCTET_STRING))
                return -1;
            if (!aia) {
                p = e_end;
                continue;
            }
            unsigned char *q = p, *q_end = p + len;
            if (mbedtls_asn1_get_tag(&q, q_end, &len,
                                     MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE))
                return -1;
            while (q < q_end) {
                unsigned char *ad_end;
                if (mbedtls_asn1_get_tag(&q, q_end, &len,
                                         MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE))
                    return -1;
                ad_end = q + len;
                if (mbedtls_asn1_get_tag(&q, ad_end, &len, MBEDTLS_ASN1_OID))
                    return -1;
                bool ocsp = oid_is(q, len, OID_AD_OCSP, sizeof OID_AD_OCSP);
                q += len;
                /* GeneralName uniformResourceIdentifier [6] IA5String */
                if (ocsp && mbedtls_asn1_get_tag(&q, ad_end, &len,
                                                 MBEDTLS_ASN1_CONTEXT_SPECIFIC | 6) == 0 &&
                    len < cap && len > 7 && memcmp(q, "http://", 7) == 0) {
                    memcpy(url, q, len);
                    url[len] = '\0';
                    return 0;
                }
                q = ad_end;
            }
            return -1;
        }
        return -1;
    }
    return -1;
}

static bool has_policy(const mbedtls_x509_crt *crt, const char *oid)
{
    for (const mbedtls_x509_sequence *s = &crt->certificate_policies; s != NULL; s = s->next) {
        char dotted[64];
        if (s->buf.p == NULL)
            continue;
        if (mbedtls_oid_get_numeric_string(dotted, sizeof dotted, &s->buf) > 0 &&
            strcmp(dotted, oid) == 0)
            return true;
    }
    return false;
}

static int check_purpose(const rp_check_opts *o, const mbedtls_x509_crt *crt, char *why,
                         size_t why_len)
{
    unsigned int ku = o->purpose == SK_PURPOSE_AUTH ? MBEDTLS_X509_KU_DIGITAL_SIGNATURE
                                                    : MBEDTLS_X509_KU_NON_REPUDIATION;
    const char *ku_name = o->purpose == SK_PURPOSE_AUTH ? "digitalSignature" : "nonRepudiation";
    if (!(crt->ext_types & MBEDTLS_X509_EXT_KEY_USAGE) || !(crt->key_usage & ku)) {
        say(why, why_len, "the certificate's keyUsage lacks %s", ku_name);
        return RP_CHECK_INVALID;
    }
    const char *want, *also = NULL;
    switch (o->purpose) {
    case SK_PURPOSE_AUTH:
        want = OID_NCP_PLUS;
        break;
    case SK_PURPOSE_SEAL:
        want = OID_QCP_L_QSCD;
        break;
    default:
        want = OID_QCP_N_QSCD;
        break;
    }
    if (o->advanced && o->purpose != SK_PURPOSE_SEAL)
        also = OID_NCP;
    if (!has_policy(crt, want) && (also == NULL || !has_policy(crt, also))) {
        say(why, why_len, "the certificate has no %s policy for %s (%s%s%s)",
            o->advanced ? "qualified or advanced" : "qualified",
            o->purpose == SK_PURPOSE_AUTH   ? "authentication"
            : o->purpose == SK_PURPOSE_SEAL ? "seals"
                                            : "signing",
            want, also ? " or " : "", also ? also : "");
        return RP_CHECK_INVALID;
    }
    return RP_CHECK_OK;
}

static int check_person(const rp_check_opts *o, const uint8_t *der, size_t der_len,
                        rp_check_info *info, char *why, size_t why_len)
{
    sk_cert *cert = NULL;
    sk_name *name = NULL;
    char id[128] = "";
    size_t n = 0;
    int rc = sk_cert_parse(&cert, der, der_len);
    if (rc == SK_OK)
        rc = sk_cert_subject(cert, &name);
    if (rc == SK_OK &&
        sk_name_format(name, info->subject, sizeof info->subject, &n) != SK_OK)
        info->subject[0] = '\0';
    if (rc == SK_OK)
        rc = sk_name_get(name, id, sizeof id,
                         o->purpose == SK_PURPOSE_SEAL ? "organizationIdentifier"
                                                       : "serialNumber");
    sk_name_free(name);
    sk_cert_free(cert);
    if (rc != SK_OK) {
        say(why, why_len, "the certificate's subject names nobody this relying party can "
                          "check (%s)", sk_strerror(rc));
        return RP_CHECK_INVALID;
    }
    if (o->person != NULL && strcmp(id, o->person) != 0) {
        say(why, why_len, "the certificate is %s's, not %s's", id, o->person);
        return RP_CHECK_INVALID;
    }
    return RP_CHECK_OK;
}

/* ------------------------------------------------------------------ OCSP */

/* The CertID parts for crt issued by ca: SHA-256 of the issuer's name and
 * of its key's BIT STRING value. */
typedef struct cert_id {
    uint8_t name_hash[32], key_hash[32];
    const unsigned char *serial;
    size_t serial_len;
} cert_id;

static int make_cert_id(cert_id *id, const mbedtls_x509_crt *crt, const mbedtls_x509_crt *ca)
{
    const mbedtls_md_info_t *sha256 = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
    unsigned char *p = ca->pk_raw.p, *end = ca->pk_raw.p + ca->pk_raw.len;
    size_t len;
    if (mbedtls_md(sha256, crt->issuer_raw.p, crt->issuer_raw.len, id->name_hash) != 0 ||
        mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) ||
        mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE))
        return -1;
    p += len;
    if (mbedtls_asn1_get_bitstring_null(&p, end, &len) != 0 ||
        mbedtls_md(sha256, p, len, id->key_hash) != 0)
        return -1;
    id->serial = crt->serial.p;
    id->serial_len = crt->serial.len;
    return 0;
}

#define W(call)                                                                                 \
    do {                                                                                        \
        int w_ = (call);                                                                        \
        if (w_ < 0)                                                                             \
            return -1;                                                                          \
        n += (size_t)w_;                                                                        \
    } while (0)

/* Writes the DER OCSPRequest for id with nonce at the end of buf; *der and
 * *der_len say where. */
static int make_request(unsigned char *buf, size_t cap, unsigned char **der, size_t *der_len,
                        const cert_id *id, const uint8_t *nonce, size_t nonce_len)
{
    unsigned char *p = buf + cap;
    size_t n = 0, ext, list, certid;
    /* requestExtensions [2] EXPLICIT Extensions { nonce } */
    W(mbedtls_asn1_write_raw_buffer(&p, buf, nonce, nonce_len));
    W(mbedtls_asn1_write_len(&p, buf, nonce_len));
    W(mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_OCTET_STRING));
    W(mbedtls_asn1_write_len(&p, buf, n));
    W(mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_OCTET_STRING));
    W(mbedtls_asn1_write_oid(&p, buf, (const char *)OID_OCSP_NONCE, sizeof OID_OCSP_NONCE));
    W(mbedtls_asn1_write_len(&p, buf, n));
    W(mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
    W(mbedtls_asn1_write_len(&p, buf, n));
    W(mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
    W(mbedtls_asn1_write_len(&p, buf, n));
    W(mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED |
                                          2));
    ext = n;
    /* requestList SEQUENCE OF Request { CertID } */
    W(mbedtls_asn1_write_raw_buffer(&p, buf, id->serial, id->serial_len));
    W(mbedtls_asn1_write_len(&p, buf, id->serial_len));
    W(mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_INTEGER));
    W(mbedtls_asn1_write_octet_string(&p, buf, id->key_hash, sizeof id->key_hash));
    W(mbedtls_asn1_write_octet_string(&p, buf, id->name_hash, sizeof id->name_hash));
    W(mbedtls_asn1_write_algorithm_identifier(&p, buf, MBEDTLS_OID_DIGEST_ALG_SHA256,
                                              MBEDTLS_OID_SIZE(MBEDTLS_OID_DIGEST_ALG_SHA256),
                                              0));
    certid = n - ext;
    W(mbedtls_asn1_write_len(&p, buf, certid));
    W(mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
    W(mbedtls_asn1_write_len(&p, buf, n - ext));
    W(mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
    list = n - ext;
    W(mbedtls_asn1_write_len(&p, buf, list));
    W(mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
    /* TBSRequest, OCSPRequest */
    W(mbedtls_asn1_write_len(&p, buf, n));
    W(mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
    W(mbedtls_asn1_write_len(&p, buf, n));
    W(mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
    *der = p;
    *der_len = n;
    return 0;
}

/* POSTs the request; *resp (malloc'd) and *resp_len on HTTP 200. */
static int http_post(const char *url, const unsigned char *body, size_t body_len,
                     unsigned timeout_ms, uint8_t **resp, size_t *resp_len, char *why,
                     size_t why_len)
{
    nng_url *u = NULL;
    nng_http_client *cli = NULL;
    nng_http_req *req = NULL;
    nng_http_res *res = NULL;
    nng_aio *aio = NULL;
    int rv = nng_url_parse(&u, url);
    *resp = NULL;
    *resp_len = 0;
    if (rv == 0)
        rv = nng_http_client_alloc(&cli, u);
    if (rv == 0)
        rv = nng_http_req_alloc(&req, u);
    if (rv == 0)
        rv = nng_http_req_set_method(req, "POST");
    if (rv == 0)
        rv = nng_http_req_set_header(req, "Content-Type", "application/ocsp-request");
    if (rv == 0)
        rv = nng_http_req_copy_data(req, body, body_len);
    if (rv == 0)
        rv = nng_http_res_alloc(&res);
    if (rv == 0)
        rv = nng_aio_alloc(&aio, NULL, NULL);
    if (rv == 0) {
        nng_aio_set_timeout(aio, (nng_duration)timeout_ms);
        nng_http_client_transact(cli, req, res, aio);
        nng_aio_wait(aio);
        rv = nng_aio_result(aio);
    }
    int rc = -1;
    if (rv != 0) {
        say(why, why_len, "the OCSP responder %s did not answer (%s)", url, nng_strerror(rv));
    } else if (nng_http_res_get_status(res) != 200) {
        say(why, why_len, "the OCSP responder %s answered HTTP %u", url,
            (unsigned)nng_http_res_get_status(res));
    } else {
        void *data = NULL;
        size_t len = 0;
        nng_http_res_get_data(res, &data, &len);
        if (len == 0 || len > OCSP_MAX_RESPONSE || (*resp = malloc(len)) == NULL) {
            say(why, why_len, "the OCSP responder %s sent %zu bytes", url, len);
        } else {
            memcpy(*resp, data, len);
            *resp_len = len;
            rc = 0;
        }
    }
    if (aio != NULL)
        nng_aio_free(aio);
    if (res != NULL)
        nng_http_res_free(res);
    if (req != NULL)
        nng_http_req_free(req);
    if (cli != NULL)
        nng_http_client_free(cli);
    if (u != NULL)
        nng_url_free(u);
    return rc;
}

/* The signer of a BasicOCSPResponse is authorised: the CA itself, or a
 * certificate the CA issued (chain verifies now) with extKeyUsage
 * OCSPSigning. */
static bool authorised_signer(mbedtls_x509_crt *signer, mbedtls_x509_crt *ca)
{
    if (signer->raw.len == ca->raw.len && memcmp(signer->raw.p, ca->raw.p, ca->raw.len) == 0)
        return true;
    uint32_t flags = 0;
    mbedtls_x509_crt *next = signer->next;
    signer->next = NULL; /* verify this one alone against the CA */
    int v = mbedtls_x509_crt_verify(signer, ca, NULL, NULL, &flags, NULL, NULL);
    signer->next = next;
    return v == 0 && flags == 0 && (signer->ext_types & MBEDTLS_X509_EXT_EXTENDED_KEY_USAGE) &&
           mbedtls_x509_crt_check_extended_key_usage(
               signer, MBEDTLS_OID_OCSP_SIGNING, MBEDTLS_OID_SIZE(MBEDTLS_OID_OCSP_SIGNING)) == 0;
}

static bool sig_verifies(mbedtls_x509_crt *signer, mbedtls_md_type_t md, mbedtls_pk_type_t pk,
                         const void *sig_opts, const unsigned char *tbs, size_t tbs_len,
                         const unsigned char *sig, size_t sig_len)
{
    unsigned char hash[MBEDTLS_MD_MAX_SIZE];
    const mbedtls_md_info_t *mi = mbedtls_md_info_from_type(md);
    if (mi == NULL || mbedtls_md(mi, tbs, tbs_len, hash) != 0)
        return false;
    return mbedtls_pk_verify_ext(pk, sig_opts, &signer->pk, md, hash, mbedtls_md_get_size(mi),
                                 sig, sig_len) == 0;
}

#define BAD(...)                                                                                \
    do {                                                                                        \
        say(why, why_len, __VA_ARGS__);                                                         \
        goto out;                                                                               \
    } while (0)
#define SEQ (MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE)
#define CTX(n) (MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | (n))

/* Reads the OCSP response; RP_CHECK_OK (good), RP_CHECK_REVOKED or
 * RP_CHECK_OCSP. */
static int read_response(const uint8_t *der, size_t der_len, const cert_id *id,
                         const uint8_t *nonce, size_t nonce_len, mbedtls_x509_crt *ca,
                         int64_t now, rp_check_info *info, char *why, size_t why_len)
{
    unsigned char *p = (unsigned char *)der, *end = p + der_len;
    size_t len;
    int status, rc = RP_CHECK_OCSP;
    mbedtls_x509_crt certs;
    mbedtls_x509_crt_init(&certs);
    void *sig_opts = NULL;

    if (mbedtls_asn1_get_tag(&p, end, &len, SEQ) || p + len != end ||
        mbedtls_asn1_get_enum(&p, end, &status))
        BAD("the OCSP response does not parse");
    if (status != 0)
        BAD("the OCSP responder answered status %d (%s)", status,
            status == 1   ? "malformedRequest"
            : status == 2 ? "internalError"
            : status == 3 ? "tryLater"
            : status == 5 ? "sigRequired"
            : status == 6 ? "unauthorized"
                          : "unknown");
    if (mbedtls_asn1_get_tag(&p, end, &len, CTX(0)) ||
        mbedtls_asn1_get_tag(&p, end, &len, SEQ) ||
        mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_OID))
        BAD("the OCSP response has no responseBytes");
    if (!oid_is(p, len, OID_OCSP_BASIC, sizeof OID_OCSP_BASIC))
        BAD("the OCSP response is not a BasicOCSPResponse");
    p += len;
    if (mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_OCTET_STRING))
        BAD("the OCSP response does not parse");
    end = p + len;
    /* BasicOCSPResponse */
    if (mbedtls_asn1_get_tag(&p, end, &len, SEQ))
        BAD("the BasicOCSPResponse does not parse");
    unsigned char *tbs = p, *tbs_end;
    if (mbedtls_asn1_get_tag(&p, end, &len, SEQ))
        BAD("the ResponseData does not parse");
    tbs_end = p + len;
    size_t tbs_len = (size_t)(tbs_end - tbs);
    unsigned char *rd = p; /* ResponseData content, read below */
    p = tbs_end;
    mbedtls_x509_buf alg_oid, alg_params, sig;
    mbedtls_md_type_t md;
    mbedtls_pk_type_t pk;
    if (mbedtls_x509_get_alg(&p, end, &alg_oid, &alg_params) ||
        mbedtls_x509_get_sig_alg(&alg_oid, &alg_params, &md, &pk, &sig_opts) ||
        mbedtls_x509_get_sig(&p, end, &sig))
        BAD("the OCSP response's signature does not parse");
    if (p < end) {
        unsigned char *c_end;
        if (mbedtls_asn1_get_tag(&p, end, &len, CTX(0)) ||
            mbedtls_asn1_get_tag(&p, end, &len, SEQ))
            BAD("the OCSP response's certificates do not parse");
        c_end = p + len;
        while (p < c_end) {
            unsigned char *c = p;
            if (mbedtls_asn1_get_tag(&p, c_end, &len, SEQ))
                BAD("the OCSP response's certificates do not parse");
            p += len;
            if (mbedtls_x509_crt_parse_der(&certs, c, (size_t)(p - c)) != 0)
                BAD("a certificate in the OCSP response does not parse");
        }
    }
    /* Who signed: the CA or a certificate included, authorised by the CA. */
    bool signed_ok = sig_verifies(ca, md, pk, sig_opts, tbs, tbs_len, sig.p, sig.len);
    bool seen_signer = signed_ok;
    for (mbedtls_x509_crt *c = &certs; !signed_ok && c != NULL && c->raw.p != NULL; c = c->next) {
        if (!sig_verifies(c, md, pk, sig_opts, tbs, tbs_len, sig.p, sig.len))
            continue;
        seen_signer = true;
        signed_ok = authorised_signer(c, ca);
    }
    if (!signed_ok)
        BAD(seen_signer ? "the OCSP response is signed by a certificate the CA did not "
                          "authorise for OCSP"
                        : "the OCSP response's signature does not verify under the CA or a "
                          "signer it issued");

    /* ResponseData { [0] version, responderID, producedAt, responses, [1] ext } */
    p = rd;
    if (p < tbs_end && *p == CTX(0)) {
        if (mbedtls_asn1_get_tag(&p, tbs_end, &len, CTX(0)))
            BAD("the ResponseData does not parse");
        p += len;
    }
    if (p >= tbs_end || (*p != CTX(1) && *p != CTX(2)))
        BAD("the ResponseData has no responderID");
    p++;
    if (mbedtls_asn1_get_len(&p, tbs_end, &len))
        BAD("the ResponseData does not parse");
    p += len;
    int64_t produced;
    if (get_gtime(&p, tbs_end, &produced))
        BAD("the OCSP response's producedAt does not parse");
    unsigned char *r_end;
    if (mbedtls_asn1_get_tag(&p, tbs_end, &len, SEQ))
        BAD("the OCSP response has no responses");
    r_end = p + len;
    unsigned char *ext = r_end;
    /* the nonce, echoed */
    bool nonce_ok = false;
    if (ext < tbs_end) {
        unsigned char *x = ext, *x_end;
        if (mbedtls_asn1_get_tag(&x, tbs_end, &len, CTX(1)) ||
            mbedtls_asn1_get_tag(&x, tbs_end, &len, SEQ))
            BAD("the OCSP response's extensions do not parse");
        x_end = x + len;
        while (x < x_end) {
            unsigned char *e_end;
            if (mbedtls_asn1_get_tag(&x, x_end, &len, SEQ))
                BAD("the OCSP response's extensions do not parse");
            e_end = x + len;
            if (mbedtls_asn1_get_tag(&x, e_end, &len, MBEDTLS_ASN1_OID))
                BAD("the OCSP response's extensions do not parse");
            bool is_nonce = oid_is(x, len, OID_OCSP_NONCE, sizeof OID_OCSP_NONCE);
            x += len;
            if (x < e_end && *x == MBEDTLS_ASN1_BOOLEAN) {
                int crit;
                if (mbedtls_asn1_get_bool(&x, e_end, &crit))
                    BAD("the OCSP response's extensions do not parse");
            }
            if (mbedtls_asn1_get_tag(&x, e_end, &len, MBEDTLS_ASN1_OCTET_STRING))
                BAD("the OCSP response's extensions do not parse");
            if (is_nonce) {
                unsigned char *v = x;
                size_t vlen;
                if (mbedtls_asn1_get_tag(&v, x + len, &vlen, MBEDTLS_ASN1_OCTET_STRING) == 0 &&
                    v + vlen == x + len && vlen == nonce_len && memcmp(v, nonce, nonce_len) == 0)
                    nonce_ok = true;
            }
            x = e_end;
        }
    }
    if (!nonce_ok)
        BAD("the OCSP response does not echo this request's nonce (a replayed or cached "
            "answer)");
    /* the SingleResponse for our CertID */
    bool found = false;
    while (p < r_end && !found) {
        unsigned char *s_end, *cid_end;
        if (mbedtls_asn1_get_tag(&p, r_end, &len, SEQ))
            BAD("a SingleResponse does not parse");
        s_end = p + len;
        if (mbedtls_asn1_get_tag(&p, s_end, &len, SEQ))
            BAD("a CertID does not parse");
        cid_end = p + len;
        mbedtls_x509_buf h_oid, h_params;
        size_t nh, kh, sl;
        unsigned char *nhp, *khp, *slp;
        if (mbedtls_x509_get_alg(&p, cid_end, &h_oid, &h_params) ||
            mbedtls_asn1_get_tag(&p, cid_end, &nh, MBEDTLS_ASN1_OCTET_STRING))
            BAD("a CertID does not parse");
        nhp = p;
        p += nh;
        if (mbedtls_asn1_get_tag(&p, cid_end, &kh, MBEDTLS_ASN1_OCTET_STRING))
            BAD("a CertID does not parse");
        khp = p;
        p += kh;
        if (mbedtls_asn1_get_tag(&p, cid_end, &sl, MBEDTLS_ASN1_INTEGER))
            BAD("a CertID does not parse");
        slp = p;
        p = cid_end;
        if (!(h_oid.len == MBEDTLS_OID_SIZE(MBEDTLS_OID_DIGEST_ALG_SHA256) &&
              memcmp(h_oid.p, MBEDTLS_OID_DIGEST_ALG_SHA256, h_oid.len) == 0 && nh == 32 &&
              memcmp(nhp, id->name_hash, 32) == 0 && kh == 32 &&
              memcmp(khp, id->key_hash, 32) == 0 && sl == id->serial_len &&
              memcmp(slp, id->serial, sl) == 0)) {
            p = s_end;
            continue;
        }
        found = true;
        /* certStatus */
        if (p >= s_end)
            BAD("the SingleResponse has no status");
        unsigned char st = *p;
        int state;
        if (st == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 0)) {
            state = SK_CERT_GOOD;
        } else if (st == CTX(1)) {
            state = SK_CERT_REVOKED;
        } else if (st == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 2)) {
            state = SK_CERT_UNKNOWN;
        } else {
            BAD("the SingleResponse's status does not parse");
        }
        p++;
        if (mbedtls_asn1_get_len(&p, s_end, &len))
            BAD("the SingleResponse does not parse");
        unsigned char *st_end = p + len;
        if (state == SK_CERT_REVOKED) {
            if (get_gtime(&p, st_end, &info->revoked_at))
                BAD("the revocation time does not parse");
            if (p < st_end) {
                int reason;
                if (mbedtls_asn1_get_tag(&p, st_end, &len, CTX(0)) ||
                    mbedtls_asn1_get_enum(&p, st_end, &reason))
                    BAD("the revocation reason does not parse");
                const char *name = sk_crl_reason_name((sk_crl_reason)reason);
                snprintf(info->reason, sizeof info->reason, "%s", name ? name : "unknown");
            }
        }
        p = st_end;
        if (get_gtime(&p, s_end, &info->this_update))
            BAD("the SingleResponse's thisUpdate does not parse");
        info->next_update = 0;
        if (p < s_end && *p == CTX(0)) {
            if (mbedtls_asn1_get_tag(&p, s_end, &len, CTX(0)) ||
                get_gtime(&p, s_end, &info->next_update))
                BAD("the SingleResponse's nextUpdate does not parse");
        }
        char t1[40], t2[40];
        if (info->this_update > now + CLOCK_SKEW_S) {
            fmt_time(t1, sizeof t1, info->this_update);
            BAD("the OCSP answer's thisUpdate %s lies in the future", t1);
        }
        if (info->next_update != 0 && info->next_update < now) {
            fmt_time(t2, sizeof t2, info->next_update);
            BAD("the OCSP answer is stale (nextUpdate %s has passed)", t2);
        }
        if (info->next_update != 0 && info->next_update < info->this_update)
            BAD("the OCSP answer's nextUpdate lies before its thisUpdate");
        if (state == SK_CERT_UNKNOWN)
            BAD("the OCSP responder does not know the certificate (status unknown)");
        if (state == SK_CERT_REVOKED) {
            fmt_time(t1, sizeof t1, info->revoked_at);
            say(why, why_len, "the certificate is REVOKED since %s%s%s%s", t1,
                info->reason[0] ? " (" : "", info->reason, info->reason[0] ? ")" : "");
            rc = RP_CHECK_REVOKED;
            goto out;
        }
        rc = RP_CHECK_OK;
    }
    if (!found)
        BAD("the OCSP response holds no answer for this certificate's CertID");
out:
    mbedtls_free(sig_opts);
    mbedtls_x509_crt_free(&certs);
    return rc;
}

static int check_ocsp(const rp_check_opts *o, const mbedtls_x509_crt *crt, mbedtls_x509_crt *ca,
                      int64_t now, rp_check_info *info, char *why, size_t why_len)
{
    if (o->ocsp_url != NULL) {
        snprintf(info->ocsp_url, sizeof info->ocsp_url, "%s", o->ocsp_url);
    } else if (aia_ocsp_url(crt, info->ocsp_url, sizeof info->ocsp_url) != 0) {
        say(why, why_len, "the certificate names no http:// OCSP responder (AIA)");
        return RP_CHECK_OCSP;
    }
    cert_id id;
    uint8_t nonce[OCSP_NONCE_LEN];
    unsigned char buf[512], *der = NULL;
    size_t der_len = 0;
    if (make_cert_id(&id, crt, ca) != 0) {
        say(why, why_len, "cannot hash the CA's name and key for OCSP");
        return RP_CHECK_ERROR;
    }
    randombytes_buf(nonce, sizeof nonce);
    if (make_request(buf, sizeof buf, &der, &der_len, &id, nonce, sizeof nonce) != 0) {
        say(why, why_len, "cannot encode the OCSP request");
        return RP_CHECK_ERROR;
    }
    uint8_t *resp = NULL;
    size_t resp_len = 0;
    if (http_post(info->ocsp_url, der, der_len,
                  o->ocsp_timeout_ms ? o->ocsp_timeout_ms : 10000u, &resp, &resp_len, why,
                  why_len) != 0)
        return RP_CHECK_OCSP;
    int rc = read_response(resp, resp_len, &id, nonce, sizeof nonce, ca, now, info, why,
                           why_len);
    free(resp);
    return rc;
}

/* ------------------------------------------------------------- together */

int rp_check_cert(const rp_check_opts *o, const uint8_t *cert, size_t cert_len, int64_t now,
                  rp_check_info *info, char *why, size_t why_len)
{
    mbedtls_x509_crt crt, ca;
    mbedtls_x509_crt_init(&crt);
    mbedtls_x509_crt_init(&ca);
    memset(info, 0, sizeof *info);
    int rc = RP_CHECK_INVALID;
    uint32_t flags = 0;
    if (mbedtls_x509_crt_parse_file(&ca, o->ca_cert) != 0) {
        say(why, why_len, "--ca-cert %s: not a certificate file", o->ca_cert);
        rc = RP_CHECK_ERROR;
        goto out;
    }
    if (cert_len == 0 || mbedtls_x509_crt_parse_der(&crt, cert, cert_len) != 0) {
        say(why, why_len, "no certificate came with the signature, or it does not parse");
        goto out;
    }
    sk_serial serial;
    memset(&serial, 0, sizeof serial);
    if (crt.serial.len <= SK_SERIAL_MAX_LEN) {
        size_t off = (crt.serial.len > 1 && crt.serial.p[0] == 0) ? 1 : 0;
        serial.len = crt.serial.len - off;
        memcpy(serial.bytes, crt.serial.p + off, serial.len);
        if (sk_serial_to_hex(info->serial, sizeof info->serial, &serial) != SK_OK)
            info->serial[0] = '\0';
    }
    info->not_after = days_from_civil(crt.valid_to.year, (unsigned)crt.valid_to.mon,
                                      (unsigned)crt.valid_to.day) *
                          86400 +
                      crt.valid_to.hour * 3600 + crt.valid_to.min * 60 + crt.valid_to.sec;
    int64_t not_before = days_from_civil(crt.valid_from.year, (unsigned)crt.valid_from.mon,
                                         (unsigned)crt.valid_from.day) *
                             86400 +
                         crt.valid_from.hour * 3600 + crt.valid_from.min * 60 +
                         crt.valid_from.sec;
    /* 1. chain and dates */
    if (mbedtls_x509_crt_verify(&crt, &ca, NULL, NULL, &flags, NULL, NULL) != 0 || flags != 0) {
        if (flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED)
            say(why, why_len, "the certificate does not chain to the CA of --ca-cert %s",
                o->ca_cert);
        else if (flags & (MBEDTLS_X509_BADCERT_EXPIRED | MBEDTLS_X509_BADCERT_FUTURE))
            say(why, why_len, "the certificate is not valid now (expired or not yet valid)");
        else {
            char detail[256] = "";
            mbedtls_x509_crt_verify_info(detail, sizeof detail, "", flags);
            char *nl;
            while ((nl = strchr(detail, '\n')) != NULL)
                *nl = nl[1] ? ';' : '\0';
            say(why, why_len, "the certificate does not verify: %s", detail);
        }
        goto out;
    }
    /* the dates again against the caller's now (mbedTLS reads the clock) */
    if (now < not_before || now > info->not_after) {
        say(why, why_len, "the certificate is not valid now (expired or not yet valid)");
        goto out;
    }
    /* 2. purpose: key usage and policy */
    if ((rc = check_purpose(o, &crt, why, why_len)) != RP_CHECK_OK)
        goto out;
    /* 3. the person */
    if ((rc = check_person(o, cert, cert_len, info, why, why_len)) != RP_CHECK_OK)
        goto out;
    /* 4. status */
    rc = check_ocsp(o, &crt, &ca, now, info, why, why_len);
out:
    mbedtls_x509_crt_free(&crt);
    mbedtls_x509_crt_free(&ca);
    return rc;
}
