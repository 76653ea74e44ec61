/* SPDX-License-Identifier: Apache-2.0 */
/* test_tsa.c - the time-stamping authority in one process:
 * - the TSA's PKCS#10 request and certificate: proof of possession checked,
 *   extKeyUsage id-kp-timeStamping only and critical, keyUsage
 *   digitalSignature, an organisation subject required;
 * - sk_tsa_new refuses a certificate without the EKU or for another key;
 * - responses: granted with the nonce, policy and serial in TSTInfo, the
 *   qualified statement only when configured, the certificate only on
 *   certReq; every refusal with its failInfo bit and exact BIT STRING;
 * - every truncation, every single-bit flip and random garbage give a
 *   response, never a crash.  (openssl ts checks the tokens in
 *   programs/tsa.sh.) */
#include <mbedtls/asn1.h>
#include <mbedtls/oid.h>
#include <mbedtls/x509_crt.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "pki/pki_internal.h"
#include "testutil.h"

#define NOW 1795000000LL
#define POLICY "1.3.6.1.4.1.99999.7.1"
#define OID_SHA1 "1.3.14.3.2.26"
#define OID_SHA256 "2.16.840.1.101.3.4.2.1"
#define OID_SHA384 "2.16.840.1.101.3.4.2.2"
#define OID_SHA512 "2.16.840.1.101.3.4.2.3"
#define OID_MD5 "1.2.840.113549.2.5"

static const sk_ca_config CONFIG = {
    .ocsp_url = "http://ocsp.example.org",
    .ca_issuers_url = "http://example.org/ca.der",
    .crl_url = "http://example.org/ca.crl",
    .policy_oid = "1.3.6.1.4.1.99999.1",
};

static bool contains(const uint8_t *hay, size_t hl, const uint8_t *needle, size_t nl)
{
    for (size_t i = 0; i + nl <= hl; i++)
        if (memcmp(hay + i, needle, nl) == 0)
            return true;
    return false;
}

/* ------------------------------------------------------------- requests */

typedef struct req_opts {
    int version;
    const char *alg;
    bool alg_null;
    size_t imprint_len;
    const char *policy;
    const uint8_t *nonce;
    size_t nonce_len;
    bool cert_req;
    bool extension;
} req_opts;

static size_t make_req(uint8_t *out, size_t cap, const req_opts *o)
{
    der d;
    pki_der_init(&d);
    size_t s = pki_der_open(&d, 0x30);
    pki_der_small_int(&d, MBEDTLS_ASN1_INTEGER, (uint64_t)o->version);
    size_t mi = pki_der_open(&d, 0x30);
    size_t a = pki_der_open(&d, 0x30);
    pki_der_oid(&d, o->alg);
    if (o->alg_null)
        pki_der_null(&d);
    pki_der_close(&d, a);
    uint8_t h[64];
    memset(h, 0x5a, sizeof h);
    pki_der_tlv(&d, MBEDTLS_ASN1_OCTET_STRING, h, o->imprint_len);
    pki_der_close(&d, mi);
    if (o->policy != NULL)
        pki_der_oid(&d, o->policy);
    if (o->nonce != NULL)
        pki_der_tlv(&d, MBEDTLS_ASN1_INTEGER, o->nonce, o->nonce_len);
    if (o->cert_req)
        pki_der_bool_true(&d);
    if (o->extension) {
        size_t e = pki_der_open(&d, 0xa0);
        ext_mark m = pki_ext_open(&d, "1.3.6.1.4.1.99999.9", false);
        pki_der_null(&d);
        pki_ext_close(&d, m);
        pki_der_close(&d, e);
    }
    pki_der_close(&d, s);
    size_t w = 0;
    CHECK_OK(pki_der_output(&d, out, cap, &w));
    pki_der_free(&d);
    return w;
}

static const uint8_t NONCE[] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};

static req_opts good_opts(void)
{
    req_opts o = {.version = 1, .alg = OID_SHA256, .alg_null = true, .imprint_len = 32,
                  .nonce = NONCE, .nonce_len = sizeof NONCE, .cert_req = true};
    return o;
}

/* ------------------------------------------------------------ the TSA */

static sk_ca_key *cakey;
static sk_ca *ca;
static uint8_t ca_der[SK_PKI_MAX_CERT_LEN];
static size_t ca_len;

static void setup_ca(void)
{
    sk_name *name = NULL;
    CHECK_OK(sk_ca_key_generate(&cakey, SK_CA_KEY_EC_P384));
    CHECK_OK(sk_name_parse(&name, NULL, "CN=Test CA,O=Splitkey,C=LV"));
    CHECK_OK(sk_ca_self_signed(cakey, ca_der, sizeof ca_der, &ca_len, NULL, name, NOW - 86400,
                               0));
    CHECK_OK(sk_ca_new(&ca, ca_der, ca_len, cakey, &CONFIG));
    sk_name_free(name);
}

/* Makes a TSA key and its certificate; returns the certificate length. */
static size_t make_tsa_cert(sk_ca_key **key, uint8_t *cert, size_t cap, sk_ca_key_type type)
{
    sk_name *subject = NULL, *person = NULL;
    uint8_t csr[SK_PKI_MAX_CSR_LEN];
    size_t csr_len = 0, len = 0, w = 0;
    sk_serial serial;
    CHECK_OK(sk_ca_key_generate(key, type));
    CHECK_OK(sk_name_parse(&subject, NULL, "C=LV,O=Example,CN=Example TSA"));
    CHECK_OK(sk_tsa_csr(*key, csr, sizeof csr, &csr_len, subject));

    /* a request that does not verify is refused */
    uint8_t bad[SK_PKI_MAX_CSR_LEN];
    memcpy(bad, csr, csr_len);
    bad[csr_len - 3] ^= 0x01;
    CHECK_RC(SK_ERR_VERIFY,
             sk_ca_issue_tsa(ca, cert, cap, &w, NULL, subject, bad, csr_len, NOW - 60, 0));
    CHECK_RC(SK_ERR_CSR,
             sk_ca_issue_tsa(ca, cert, cap, &w, NULL, subject, bad, csr_len / 2, NOW - 60, 0));
    /* an organisation subject is required */
    CHECK_OK(sk_name_parse(&person, NULL, "C=LV,CN=Example TSA"));
    CHECK_RC(SK_ERR_PKI,
             sk_ca_issue_tsa(ca, cert, cap, &w, NULL, person, csr, csr_len, NOW - 60, 0));
    sk_name_free(person);

    CHECK_OK(sk_ca_issue_tsa(ca, cert, cap, &len, &serial, subject, csr, csr_len, NOW - 60, 30));
    CHECK(serial.len == 16);
    sk_name_free(subject);

    /* mbedTLS: chains to the CA, EKU timeStamping only, KU digitalSignature */
    mbedtls_x509_crt crt, cacrt;
    mbedtls_x509_crt_init(&crt);
    mbedtls_x509_crt_init(&cacrt);
    CHECK(mbedtls_x509_crt_parse_der(&crt, cert, len) == 0);
    CHECK(mbedtls_x509_crt_parse_der(&cacrt, ca_der, ca_len) == 0);
    uint32_t flags = 0;
    mbedtls_x509_crt_verify(&crt, &cacrt, NULL, NULL, &flags, NULL, NULL);
    CHECK((flags & ~(uint32_t)(MBEDTLS_X509_BADCERT_EXPIRED | MBEDTLS_X509_BADCERT_FUTURE |
                               MBEDTLS_X509_BADCRL_EXPIRED)) == 0);
    CHECK(mbedtls_x509_crt_check_extended_key_usage(&crt, MBEDTLS_OID_TIME_STAMPING,
                                                    MBEDTLS_OID_SIZE(MBEDTLS_OID_TIME_STAMPING)) ==
          0);
    CHECK(mbedtls_x509_crt_check_extended_key_usage(&crt, MBEDTLS_OID_CLIENT_AUTH,
                                                    MBEDTLS_OID_SIZE(MBEDTLS_OID_CLIENT_AUTH)) !=
          0);
    CHECK(mbedtls_x509_crt_check_key_usage(&crt, MBEDTLS_X509_KU_DIGITAL_SIGNATURE) == 0);
    CHECK(mbedtls_x509_crt_check_key_usage(&crt, MBEDTLS_X509_KU_KEY_CERT_SIGN) != 0);
    mbedtls_x509_crt_free(&crt);
    mbedtls_x509_crt_free(&cacrt);
    /* EKU critical, exactly { id-kp-timeStamping } */
    static const uint8_t eku[] = {0x30, 0x16, 0x06, 0x03, 0x55, 0x1d, 0x25, 0x01, 0x01, 0xff,
                                  0x04, 0x0c, 0x30, 0x0a, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x05,
                                  0x05, 0x07, 0x03, 0x08};
    CHECK(contains(cert, len, eku, sizeof eku));
    return len;
}

/* The TSTInfo inside a granted response: found by its eContentType. */
static bool find_tstinfo(const uint8_t **tst, size_t *tst_len, const uint8_t *resp, size_t len)
{
    static const uint8_t ct[] = {0x06, 0x0b, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d,
                                 0x01, 0x09, 0x10, 0x01, 0x04, 0xa0};
    for (size_t i = 0; i + sizeof ct < len; i++)
        if (memcmp(resp + i, ct, sizeof ct) == 0) {
            uint8_t *p = (uint8_t *)resp + i + sizeof ct - 1;
            const uint8_t *end = resp + len;
            size_t l;
            if (mbedtls_asn1_get_tag(&p, end, &l, 0xa0) != 0 ||
                mbedtls_asn1_get_tag(&p, end, &l, MBEDTLS_ASN1_OCTET_STRING) != 0)
                return false;
            *tst = p;
            *tst_len = l;
            return true;
        }
    return false;
}

static sk_tsa_result answer(const sk_tsa *tsa, uint8_t *resp, size_t cap, size_t *len,
                            const uint8_t *req, size_t req_len)
{
    sk_tsa_result r;
    CHECK_OK(sk_tsa_respond(tsa, resp, cap, len, &r, req, req_len, NOW, NULL));
    return r;
}

static void check_rejection(const sk_tsa *tsa, const req_opts *o, uint32_t fail,
                            const uint8_t *bits, size_t bits_len)
{
    uint8_t req[512], resp[1024];
    size_t req_len = make_req(req, sizeof req, o), len = 0;
    sk_tsa_result r = answer(tsa, resp, sizeof resp, &len, req, req_len);
    CHECK(r.status == SK_TSA_REJECTION);
    CHECK(r.fail_info == fail);
    static const uint8_t rejection[] = {0x02, 0x01, 0x02};
    CHECK(len > 7 && memcmp(resp + 4, rejection, sizeof rejection) == 0);
    CHECK(contains(resp, len, bits, bits_len));
}

static void test_tsa(sk_ca_key_type type)
{
    sk_ca_key *key = NULL;
    uint8_t cert[SK_PKI_MAX_CERT_LEN];
    size_t cert_len = make_tsa_cert(&key, cert, sizeof cert, type);

    sk_tsa_config cfg = {.policy_oid = POLICY, .accuracy_seconds = 1, .qualified = 1};
    sk_tsa *tsa = NULL, *plain = NULL, *bad = NULL;
    CHECK_RC(SK_ERR_CERT, sk_tsa_new(&bad, ca_der, ca_len, key, &cfg));
    CHECK_RC(SK_ERR_CERT, sk_tsa_new(&bad, cert, cert_len, cakey, &cfg));
    sk_tsa_config nopolicy = cfg;
    nopolicy.policy_oid = "1.x";
    CHECK_RC(SK_ERR_ARG, sk_tsa_new(&bad, cert, cert_len, key, &nopolicy));
    CHECK(bad == NULL);
    CHECK_OK(sk_tsa_new(&tsa, cert, cert_len, key, &cfg));
    sk_tsa_config pc = {.policy_oid = POLICY, .include_name = 1};
    CHECK_OK(sk_tsa_new(&plain, cert, cert_len, key, &pc));
    if (tsa == NULL || plain == NULL)
        goto out;

    static const uint8_t qc[] = {0x06, 0x07, 0x04, 0x00, 0x81, 0x97, 0x5e, 0x01, 0x01};
    uint8_t req[512], resp[8192];
    size_t req_len, len;
    const uint8_t *tst = NULL;
    size_t tst_len = 0;

    /* granted, qualified, with nonce and certificate */
    req_opts o = good_opts();
    o.policy = POLICY;
    req_len = make_req(req, sizeof req, &o);
    sk_tsa_result r = answer(tsa, resp, sizeof resp, &len, req, req_len);
    CHECK(r.status == SK_TSA_GRANTED && r.fail_info == 0 && r.hash == SK_HASH_SHA256);
    CHECK(r.nonce && r.cert_req && r.serial.len == 16);
    CHECK(contains(resp, len, cert, cert_len));
    CHECK(find_tstinfo(&tst, &tst_len, resp, len));
    if (tst != NULL) {
        static const uint8_t nonce_tlv[] = {0x02, 0x08, 0x01, 0x23, 0x45, 0x67,
                                            0x89, 0xab, 0xcd, 0xef};
        CHECK(contains(tst, tst_len, nonce_tlv, sizeof nonce_tlv));
        CHECK(contains(tst, tst_len, r.serial.bytes, r.serial.len));
        CHECK(contains(tst, tst_len, qc, sizeof qc));
        /* genTime 2026-11-18T... with seconds, 'Z' */
        static const uint8_t gt[] = {0x18, 0x0f, '2', '0', '2', '6'};
        CHECK(contains(tst, tst_len, gt, sizeof gt));
        static const uint8_t acc[] = {0x30, 0x03, 0x02, 0x01, 0x01};
        CHECK(contains(tst, tst_len, acc, sizeof acc));
    }
    /* another request: another serial; a serial given is used */
    sk_tsa_result r2 = answer(tsa, resp, sizeof resp, &len, req, req_len);
    CHECK(r2.status == SK_TSA_GRANTED);
    CHECK(r2.serial.len != r.serial.len || memcmp(r2.serial.bytes, r.serial.bytes, 16) != 0);
    sk_serial given;
    CHECK_OK(sk_serial_from_hex(&given, "0a0b0c"));
    CHECK_OK(sk_tsa_respond(tsa, resp, sizeof resp, &len, &r2, req, req_len, NOW, &given));
    CHECK(r2.serial.len == 3 && memcmp(r2.serial.bytes, given.bytes, 3) == 0);
    /* the size needed is reported */
    size_t need = 0;
    CHECK_RC(SK_ERR_BUFFER_TOO_SMALL,
             sk_tsa_respond(tsa, resp, 16, &need, NULL, req, req_len, NOW, NULL));
    CHECK(need > 16);

    /* not qualified, no nonce, no certificate; SHA-384 and SHA-512 */
    o = good_opts();
    o.nonce = NULL;
    o.cert_req = false;
    o.alg = OID_SHA384;
    o.imprint_len = 48;
    req_len = make_req(req, sizeof req, &o);
    r = answer(plain, resp, sizeof resp, &len, req, req_len);
    CHECK(r.status == SK_TSA_GRANTED && r.hash == SK_HASH_SHA384 && !r.nonce);
    CHECK(!contains(resp, len, cert, cert_len));
    CHECK(!contains(resp, len, qc, sizeof qc));
    o.alg = OID_SHA512;
    o.alg_null = false;
    o.imprint_len = 64;
    req_len = make_req(req, sizeof req, &o);
    r = answer(plain, resp, sizeof resp, &len, req, req_len);
    CHECK(r.status == SK_TSA_GRANTED && r.hash == SK_HASH_SHA512);

    /* refusals, with the exact failInfo encoding */
    static const uint8_t bad_alg[] = {0x03, 0x02, 0x07, 0x80};
    static const uint8_t bad_request[] = {0x03, 0x02, 0x05, 0x20};
    static const uint8_t bad_format[] = {0x03, 0x02, 0x02, 0x04};
    static const uint8_t policy[] = {0x03, 0x03, 0x00, 0x00, 0x01};
    static const uint8_t extension[] = {0x03, 0x04, 0x07, 0x00, 0x00, 0x80};
    o = good_opts();
    o.alg = OID_SHA1;
    o.imprint_len = 20;
    check_rejection(tsa, &o, SK_TSA_FAIL_BAD_ALG, bad_alg, sizeof bad_alg);
    o.alg = OID_MD5;
    o.imprint_len = 16;
    check_rejection(tsa, &o, SK_TSA_FAIL_BAD_ALG, bad_alg, sizeof bad_alg);
    o = good_opts();
    o.imprint_len = 31;
    check_rejection(tsa, &o, SK_TSA_FAIL_BAD_DATA_FORMAT, bad_format, sizeof bad_format);
    o = good_opts();
    o.version = 2;
    check_rejection(tsa, &o, SK_TSA_FAIL_BAD_REQUEST, bad_request, sizeof bad_request);
    o = good_opts();
    o.policy = "1.3.6.1.4.1.99999.7.2";
    check_rejection(tsa, &o, SK_TSA_FAIL_UNACCEPTED_POLICY, policy, sizeof policy);
    o = good_opts();
    o.extension = true;
    check_rejection(tsa, &o, SK_TSA_FAIL_UNACCEPTED_EXTENSION, extension, sizeof extension);
    uint8_t long_nonce[33];
    memset(long_nonce, 0x11, sizeof long_nonce);
    o = good_opts();
    o.nonce = long_nonce;
    o.nonce_len = sizeof long_nonce;
    check_rejection(tsa, &o, SK_TSA_FAIL_BAD_REQUEST, bad_request, sizeof bad_request);
    o.nonce_len = 32;
    req_len = make_req(req, sizeof req, &o);
    r = answer(tsa, resp, sizeof resp, &len, req, req_len);
    CHECK(r.status == SK_TSA_GRANTED);

    /* every truncation: badDataFormat */
    o = good_opts();
    req_len = make_req(req, sizeof req, &o);
    bool all = true;
    for (size_t n = 0; n < req_len; n++) {
        sk_tsa_result t;
        if (sk_tsa_respond(tsa, resp, sizeof resp, &len, &t, req, n, NOW, NULL) != SK_OK ||
            t.status != SK_TSA_REJECTION || t.fail_info != SK_TSA_FAIL_BAD_DATA_FORMAT)
            all = false;
    }
    CHECK(all);
    /* trailing data */
    req[req_len] = 0;
    r = answer(tsa, resp, sizeof resp, &len, req, req_len + 1);
    CHECK(r.status == SK_TSA_REJECTION && r.fail_info == SK_TSA_FAIL_BAD_DATA_FORMAT);
    /* every single-bit flip: a well-formed answer, never a crash */
    all = true;
    for (size_t i = 0; i < req_len * 8; i++) {
        uint8_t m[512];
        memcpy(m, req, req_len);
        m[i / 8] ^= (uint8_t)(1u << (i % 8));
        sk_tsa_result t;
        if (sk_tsa_respond(tsa, resp, sizeof resp, &len, &t, m, req_len, NOW, NULL) != SK_OK ||
            (t.status == SK_TSA_REJECTION) != (t.fail_info != 0) || len < 5 || resp[0] != 0x30)
            all = false;
    }
    CHECK(all);
    /* random garbage */
    all = true;
    for (int i = 0; i < 200; i++) {
        uint8_t g[128];
        size_t gl = 1 + randombytes_uniform(sizeof g);
        randombytes_buf(g, gl);
        if (i % 2 == 0)
            g[0] = 0x30;
        sk_tsa_result t;
        if (sk_tsa_respond(tsa, resp, sizeof resp, &len, &t, g, gl, NOW, NULL) != SK_OK)
            all = false;
    }
    CHECK(all);
    r = answer(tsa, resp, sizeof resp, &len, NULL, 0);
    CHECK(r.status == SK_TSA_REJECTION && r.fail_info == SK_TSA_FAIL_BAD_DATA_FORMAT);

out:
    sk_tsa_free(tsa);
    sk_tsa_free(plain);
    sk_ca_key_free(key);
}

int main(void)
{
    sk_test_init();
    setup_ca();
    test_tsa(SK_CA_KEY_EC_P384);
    test_tsa(SK_CA_KEY_RSA3072);
    sk_ca_free(ca);
    sk_ca_key_free(cakey);
    return sk_test_done("test_tsa");
}
