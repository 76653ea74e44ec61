/* SPDX-License-Identifier: Apache-2.0 */
/* test_pki.c - the PKI module in one process:
 * - names: the text form, the person-subject rules, clear refusals;
 * - CSR for a split key: one-call and two-step building, parsing, proof of
 *   possession, the enrolled-key check, refusal of altered requests;
 * - certificates: every profile parses and chains under mbedTLS, with the key
 *   usages of its profile; CA and responder objects refuse wrong inputs;
 * - CRL: parses under mbedTLS and revokes what it lists;
 * - OCSP: responses for hand-made requests; every truncation and byte
 *   mutation of a request and random garbage give a response, never a crash;
 *   SHA-384/512 CertIDs, archiveCutoff, certHash and the backdated
 *   thisUpdate read back from the response DER; an expired certificate keeps
 *   its real status;
 * - audit log: edits, deletions, reordering and re-hashed edits are caught. */
#include <mbedtls/base64.h>
#include <mbedtls/oid.h>
#include <mbedtls/x509_crl.h>
#include <mbedtls/x509_crt.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "pki/pki_internal.h"
#include "splitfix.h"
#include "testutil.h"

#define NOW 1795000000LL
#define PERSON "C=LV,GN=ANDRIS,SN=BERZINS,serialNumber=PNOLV-010101-12345"

static splitfix fx;
static sk_ca_key *cakey, *okey;
static sk_ca *ca;
static uint8_t ca_der[SK_PKI_MAX_CERT_LEN], ocsp_der[SK_PKI_MAX_CERT_LEN];
static size_t ca_len, ocsp_len;

static const sk_ca_config CONFIG = {
    .ocsp_url = "http://ocsp.example.org",
    .ca_issuers_url = "http://example.org/ca.der",
    .policy_oid = "1.3.6.1.4.1.99999.1",
    .pds_url = "https://example.org/pds.pdf",
    .pds_lang = "en",
};

/* ------------------------------------------------------------------ names */

static void test_names(void)
{
    sk_name *n = NULL;
    const char *why = NULL;
    char buf[512];
    size_t w;

    CHECK_OK(sk_name_parse_person(&n, &why, PERSON));
    CHECK(n != NULL);
    if (n != NULL) {
        CHECK_OK(sk_name_check_person(n, &why));
        CHECK_OK(sk_name_format(n, buf, sizeof buf, &w));
        CHECK(strcmp(buf, "C=LV,CN=BERZINS\\,ANDRIS,SN=BERZINS,GN=ANDRIS,"
                          "serialNumber=PNOLV-010101-12345") == 0);
        CHECK(w == strlen(buf));
        CHECK_OK(sk_name_get(n, buf, sizeof buf, "CN"));
        CHECK(strcmp(buf, "BERZINS,ANDRIS") == 0);
        CHECK_RC(SK_ERR_NOT_FOUND, sk_name_get(n, buf, sizeof buf, "O"));
        CHECK_RC(SK_ERR_BUFFER_TOO_SMALL, sk_name_format(n, buf, 10, &w));
        CHECK(w == strlen("C=LV,CN=BERZINS\\,ANDRIS,SN=BERZINS,GN=ANDRIS,"
                          "serialNumber=PNOLV-010101-12345"));
        /* the formatted text parses back to the same name */
        sk_name *again = NULL;
        CHECK_OK(sk_name_format(n, buf, sizeof buf, &w));
        CHECK_OK(sk_name_parse(&again, NULL, buf));
        CHECK(again != NULL && memcmp(again, n, sizeof *n) == 0);
        sk_name_free(again);
    }
    sk_name_free(n);

    /* UTF-8 names, spaces trimmed, CN given and consistent */
    CHECK_OK(sk_name_parse_person(&n, &why,
                                  " C = LV , SN = BĒRZIŅŠ, GN=ĀDAMS ,CN=BĒRZIŅŠ\\,ĀDAMS,"
                                            "serialNumber=PNOLV-010101-12345"));
    sk_name_free(n);

    static const char *const bad_person[] = {
        "C=LV,GN=A,SN=B",                                         /* no serialNumber */
        "C=LV,GN=A,SN=B,serialNumber=PNOEE-010101-12345",         /* country differs */
        "C=LV,GN=A,SN=B,serialNumber=IDCLV-010101-12345",         /* not PNO */
        "C=LV,GN=A,SN=B,serialNumber=PNOLV",                      /* no identifier */
        "C=LV,GN=A,SN=B,CN=A\\,B,serialNumber=PNOLV-1",           /* CN order */
        "C=LV,GN=A,SN=B,O=X,serialNumber=PNOLV-1",                /* extra attribute */
        "C=LV,GN=A,GN=C,SN=B,serialNumber=PNOLV-1",               /* twice */
        "C=lv,GN=A,SN=B,serialNumber=PNOlv-1",                    /* lower-case country */
        "C=LVA,GN=A,SN=B,serialNumber=PNOLVA-1",                  /* three letters */
    };
    for (size_t i = 0; i < sizeof bad_person / sizeof bad_person[0]; i++) {
        why = NULL;
        n = (sk_name *)1;
        CHECK_RC(SK_ERR_PKI, sk_name_parse_person(&n, &why, bad_person[i]));
        CHECK(n == NULL);
        CHECK(why != NULL && strlen(why) > 10);
    }
    static const char *const bad_syntax[] = {
        "",          "CN",         "CN=",       "X=1",         "CN=a,",       "CN=a\\b",
        "C=LV,,CN=a", "serialNumber=a_b", "CN=\x01", "CN=\xc3\x28", "CN=\xed\xa0\x80",
        "CN=0123456789012345678901234567890123456789012345678901234567890123456789",
    };
    for (size_t i = 0; i < sizeof bad_syntax / sizeof bad_syntax[0]; i++) {
        why = NULL;
        CHECK_RC(SK_ERR_PKI, sk_name_parse(&n, &why, bad_syntax[i]));
        CHECK(why != NULL);
    }
    /* a general (CA) name is not a person's subject */
    CHECK_OK(sk_name_parse(&n, NULL, "CN=Test CA,O=Org,C=LV"));
    CHECK_RC(SK_ERR_PKI, sk_name_check_person(n, &why));
    sk_name_free(n);
    /* an attribute may be named by its dotted OID (2.5.4.97 organizationIdentifier) */
    CHECK_OK(sk_name_parse(&n, NULL, "CN=Test CA,2.5.4.97=VATLV-40003000000,O=Org,2.5.4.6=LV"));
    if (n != NULL) {
        CHECK_OK(sk_name_format(n, buf, sizeof buf, &w));
        CHECK(strcmp(buf, "CN=Test CA,organizationIdentifier=VATLV-40003000000,O=Org,C=LV") == 0);
    }
    sk_name_free(n);
    CHECK_RC(SK_ERR_PKI, sk_name_parse(&n, &why, "2.5.4.999=x"));
}

static void test_serials(void)
{
    sk_serial s;
    char hex[41];
    CHECK_OK(sk_serial_from_hex(&s, "0x00FF01"));
    CHECK(s.len == 2 && s.bytes[0] == 0xff && s.bytes[1] == 0x01);
    CHECK_OK(sk_serial_to_hex(hex, sizeof hex, &s));
    CHECK(strcmp(hex, "ff01") == 0);
    CHECK_OK(sk_serial_from_hex(&s, "abc"));
    CHECK(s.len == 2 && s.bytes[0] == 0x0a && s.bytes[1] == 0xbc);
    CHECK_RC(SK_ERR_ARG, sk_serial_from_hex(&s, "0"));
    CHECK_RC(SK_ERR_ARG, sk_serial_from_hex(&s, "12g4"));
    CHECK_RC(SK_ERR_ARG, sk_serial_from_hex(&s, "123456789012345678901234567890123456789012"));
    sk_crl_reason r;
    CHECK_OK(sk_crl_reason_parse(&r, "keyCompromise"));
    CHECK(r == SK_REASON_KEY_COMPROMISE);
    CHECK(strcmp(sk_crl_reason_name(SK_REASON_AA_COMPROMISE), "aACompromise") == 0);
    CHECK(sk_crl_reason_name((sk_crl_reason)7) == NULL);
    CHECK_RC(SK_ERR_ARG, sk_crl_reason_parse(&r, "compromised"));
    sk_cert_profile p;
    CHECK_OK(sk_cert_profile_parse(&p, "auth-basic"));
    CHECK(p == SK_CERT_AUTH_BASIC);
}

/* --------------------------------------------------------------------- CSR */

static int failing_sign(void *ctx, uint8_t *sig, size_t sig_len, sk_hash hash,
                        const uint8_t *digest, size_t digest_len)
{
    (void)ctx, (void)sig, (void)sig_len, (void)hash, (void)digest, (void)digest_len;
    return -1;
}

static uint8_t csr_der[SK_PKI_MAX_CSR_LEN];
static size_t csr_len;

static void test_csr(void)
{
    sk_name *subject = NULL;
    CHECK_OK(sk_name_parse_person(&subject, NULL, PERSON));
    size_t n_len = 2 * fx.k / 8;
    uint8_t n[1024];
    CHECK_OK(sk_pubkey_modulus(fx.pub, n, n_len));

    static const sk_hash hashes[] = {SK_HASH_SHA256, SK_HASH_SHA384, SK_HASH_SHA512};
    for (size_t h = 0; h < 3; h++) {
        int before = fx.sign_count;
        CHECK_OK(sk_csr_build(csr_der, sizeof csr_der, &csr_len, subject, fx.pub, hashes[h],
                              splitfix_sign, &fx));
        CHECK(fx.sign_count == before + 1); /* signed through the split path */
        sk_csr *csr = NULL;
        CHECK_OK(sk_csr_parse(&csr, csr_der, csr_len));
        if (csr == NULL)
            continue;
        CHECK(sk_csr_hash(csr) == hashes[h]);
        CHECK_OK(sk_csr_verify(csr));
        CHECK_OK(sk_csr_check_key(csr, n, n_len));
        n[n_len - 1] ^= 2;
        CHECK_RC(SK_ERR_KEY_MISMATCH, sk_csr_check_key(csr, n, n_len));
        n[n_len - 1] ^= 2;
        sk_name *back = NULL;
        CHECK_OK(sk_csr_subject(csr, &back));
        CHECK(back != NULL && memcmp(back, subject, sizeof *subject) == 0);
        sk_name_free(back);
        sk_csr_free(csr);
    }
    /* the SHA-256 request is the one kept for later tests */
    CHECK_OK(sk_csr_build(csr_der, sizeof csr_der, &csr_len, subject, fx.pub, SK_HASH_SHA256,
                          splitfix_sign, &fx));

    /* PEM round trip */
    char pem[2 * SK_PKI_MAX_CSR_LEN];
    size_t pem_len;
    CHECK_OK(sk_pem_encode(pem, sizeof pem, &pem_len, "CERTIFICATE REQUEST", csr_der, csr_len));
    sk_csr *csr = NULL;
    CHECK_OK(sk_csr_parse(&csr, (const uint8_t *)pem, pem_len));
    if (csr != NULL)
        CHECK_OK(sk_csr_verify(csr));
    sk_csr_free(csr);

    /* two-step API: the digest goes out, a signature comes back */
    sk_csr_tbs *tbs = NULL;
    uint8_t digest[32], sig[1024], out[SK_PKI_MAX_CSR_LEN];
    size_t out_len;
    CHECK_OK(sk_csr_tbs_new(&tbs, subject, fx.pub, SK_HASH_SHA256));
    CHECK_OK(sk_csr_tbs_digest(tbs, digest, 32));
    CHECK_RC(SK_ERR_ARG, sk_csr_tbs_digest(tbs, digest, 48));
    CHECK(splitfix_sign(&fx, sig, n_len, SK_HASH_SHA256, digest, 32) == 0);
    sig[10] ^= 1;
    CHECK_RC(SK_ERR_VERIFY, sk_csr_tbs_finish(tbs, out, sizeof out, &out_len, sig, n_len));
    CHECK(out_len == 0);
    sig[10] ^= 1;
    CHECK_RC(SK_ERR_BUFFER_TOO_SMALL, sk_csr_tbs_finish(tbs, out, 100, &out_len, sig, n_len));
    CHECK(out_len > 100);
    CHECK_OK(sk_csr_tbs_finish(tbs, out, sizeof out, &out_len, sig, n_len));
    CHECK(out_len == csr_len && memcmp(out, csr_der, csr_len) == 0); /* PKCS1 is deterministic */
    sk_csr_tbs_free(tbs);

    CHECK_RC(SK_ERR_PKI, sk_csr_build(out, sizeof out, &out_len, subject, fx.pub, SK_HASH_SHA256,
                                      failing_sign, NULL));
    CHECK_RC(SK_ERR_HASH, sk_csr_build(out, sizeof out, &out_len, subject, fx.pub, SK_HASH_SHA1,
                                       splitfix_sign, &fx));

    /* every truncation is refused; every single-bit flip is refused by the
     * parser or by the proof-of-possession check */
    for (size_t l = 0; l < csr_len; l++) {
        csr = (sk_csr *)1;
        CHECK(sk_csr_parse(&csr, csr_der, l) != SK_OK && csr == NULL);
    }
    size_t accepted = 0;
    for (size_t i = 0; i < csr_len; i++) {
        memcpy(out, csr_der, csr_len);
        out[i] ^= (uint8_t)(1u << (i % 8));
        csr = NULL;
        if (sk_csr_parse(&csr, out, csr_len) == SK_OK && sk_csr_verify(csr) == SK_OK)
            accepted++;
        sk_csr_free(csr);
    }
    CHECK(accepted == 0);
    sk_name_free(subject);
}

/* ------------------------------------------------------------ certificates */

static void setup_ca(void)
{
    sk_name *name = NULL, *oname = NULL;
    CHECK_OK(sk_ca_key_generate(&cakey, SK_CA_KEY_RSA3072));
    CHECK_OK(sk_ca_key_generate(&okey, SK_CA_KEY_EC_P384));
    CHECK_OK(sk_name_parse(&name, NULL, "CN=Test CA,O=Splitkey,C=LV"));
    CHECK_OK(sk_name_parse(&oname, NULL, "CN=Test OCSP,O=Splitkey,C=LV"));
    CHECK_OK(sk_ca_self_signed(cakey, ca_der, sizeof ca_der, &ca_len, NULL, name, NOW - 86400, 0));
    CHECK_OK(sk_ca_new(&ca, ca_der, ca_len, cakey, &CONFIG));
    CHECK_OK(sk_ca_issue_ocsp_signer(ca, ocsp_der, sizeof ocsp_der, &ocsp_len, NULL, oname, okey,
                                     NOW - 3600, 30));
    /* key export and import give the same key */
    char pem[SK_PKI_MAX_KEY_PEM_LEN];
    size_t w;
    sk_ca_key *again = NULL;
    CHECK_OK(sk_ca_key_export_pem(okey, pem, sizeof pem, &w));
    CHECK_OK(sk_ca_key_import(&again, (const uint8_t *)pem, w));
    CHECK(again != NULL && sk_ca_key_get_type(again) == SK_CA_KEY_EC_P384);
    if (again != NULL)
        CHECK(mbedtls_pk_check_pair(&again->pk, &okey->pk) == 0);
    sk_ca_key_free(again);
    sk_wipe(pem, sizeof pem);
    /* DER input too (the PEM body decoded) */
    uint8_t key_der[SK_PKI_MAX_KEY_PEM_LEN];
    size_t key_der_len;
    CHECK_OK(sk_ca_key_export_pem(okey, pem, sizeof pem, &w));
    CHECK_OK(sk_pem_decode(key_der, sizeof key_der, &key_der_len, "EC PRIVATE KEY",
                           (const uint8_t *)pem, w));
    CHECK_OK(sk_ca_key_import(&again, key_der, key_der_len));
    if (again != NULL)
        CHECK(mbedtls_pk_check_pair(&again->pk, &okey->pk) == 0);
    sk_ca_key_free(again);
    sk_wipe(key_der, sizeof key_der);
    sk_wipe(pem, sizeof pem);
    CHECK_RC(SK_ERR_KEY_FORMAT, sk_ca_key_import(&again, (const uint8_t *)"junk", 4));
    CHECK_RC(SK_ERR_KEY_FORMAT, sk_ca_key_import(&again, key_der, 20));
    sk_name_free(name);
    sk_name_free(oname);
}

static int parse_crt(mbedtls_x509_crt *crt, const uint8_t *data, size_t len)
{
    mbedtls_x509_crt_init(crt);
    return mbedtls_x509_crt_parse_der(crt, data, len);
}

static uint8_t leaf[4][SK_PKI_MAX_CERT_LEN];
static size_t leaf_len[4];
static sk_serial leaf_serial[4];

static void test_certs(void)
{
    sk_name *subject = NULL, *caname = NULL;
    CHECK_OK(sk_name_parse_person(&subject, NULL, PERSON));
    mbedtls_x509_crt root;
    CHECK(parse_crt(&root, ca_der, ca_len) == 0);
    static const sk_cert_profile profiles[4] = {SK_CERT_SIGN_QUALIFIED, SK_CERT_AUTH_QUALIFIED,
                                                SK_CERT_SIGN_BASIC, SK_CERT_AUTH_BASIC};
    for (size_t i = 0; i < 4; i++) {
        size_t need = 0;
        CHECK_RC(SK_ERR_BUFFER_TOO_SMALL, sk_ca_issue(ca, leaf[i], 64, &need, NULL, profiles[i],
                                                      subject, fx.pub, NOW));
        CHECK(need > 64);
        CHECK_OK(sk_ca_issue(ca, leaf[i], sizeof leaf[i], &leaf_len[i], &leaf_serial[i],
                             profiles[i], subject, fx.pub, NOW));
        CHECK(leaf_serial[i].len == 16 && (leaf_serial[i].bytes[0] != 0));
        mbedtls_x509_crt crt;
        CHECK(parse_crt(&crt, leaf[i], leaf_len[i]) == 0);
        uint32_t flags = 0;
        int vr = mbedtls_x509_crt_verify(&crt, &root, NULL, NULL, &flags, NULL, NULL);
        /* validity is checked against the real clock: only time flags may be set */
        CHECK(vr == 0 || (flags & ~(uint32_t)(MBEDTLS_X509_BADCERT_FUTURE |
                                              MBEDTLS_X509_BADCERT_EXPIRED)) == 0);
        bool sign = i % 2 == 0;
        unsigned want = sign ? MBEDTLS_X509_KU_NON_REPUDIATION : MBEDTLS_X509_KU_DIGITAL_SIGNATURE;
        unsigned other = sign ? MBEDTLS_X509_KU_DIGITAL_SIGNATURE : MBEDTLS_X509_KU_NON_REPUDIATION;
        CHECK(mbedtls_x509_crt_check_key_usage(&crt, want) == 0);
        CHECK(mbedtls_x509_crt_check_key_usage(&crt, other) != 0);
        int eku = mbedtls_x509_crt_check_extended_key_usage(
            &crt, MBEDTLS_OID_CLIENT_AUTH, MBEDTLS_OID_SIZE(MBEDTLS_OID_CLIENT_AUTH));
        CHECK(eku == 0);
        /* SIGN has no EKU at all (mbedTLS then allows any usage); AUTH has one */
        bool has_eku = (crt.ext_types & MBEDTLS_X509_EXT_EXTENDED_KEY_USAGE) != 0;
        CHECK(sign ? !has_eku : has_eku);
        CHECK(!crt.ca_istrue);
        /* the certificate's key is the composite n */
        CHECK(mbedtls_pk_get_type(&crt.pk) == MBEDTLS_PK_RSA);
        CHECK(mbedtls_pk_get_bitlen(&crt.pk) == 2 * fx.k);
        mbedtls_x509_crt_free(&crt);
    }
    /* serials differ */
    CHECK(memcmp(leaf_serial[0].bytes, leaf_serial[1].bytes, 16) != 0);

    /* refusals */
    uint8_t out[SK_PKI_MAX_CERT_LEN];
    size_t w;
    CHECK_OK(sk_name_parse(&caname, NULL, "CN=Not a person,C=LV"));
    CHECK_RC(SK_ERR_PKI, sk_ca_issue(ca, out, sizeof out, &w, NULL, SK_CERT_AUTH_BASIC, caname,
                                     fx.pub, NOW));
    CHECK_RC(SK_ERR_ARG, sk_ca_issue(ca, out, sizeof out, &w, NULL, (sk_cert_profile)9, subject,
                                     fx.pub, NOW));
    sk_ca *nopds = NULL;
    sk_ca_config cfg = CONFIG;
    cfg.pds_url = NULL;
    CHECK_OK(sk_ca_new(&nopds, ca_der, ca_len, cakey, &cfg));
    CHECK_RC(SK_ERR_ARG, sk_ca_issue(nopds, out, sizeof out, &w, NULL, SK_CERT_SIGN_QUALIFIED,
                                     subject, fx.pub, NOW));
    CHECK_OK(sk_ca_issue(nopds, out, sizeof out, &w, NULL, SK_CERT_SIGN_BASIC, subject, fx.pub,
                         NOW));
    sk_ca_free(nopds);
    cfg = CONFIG;
    cfg.policy_oid = "1.2.x";
    sk_ca *bad = NULL;
    CHECK_RC(SK_ERR_ARG, sk_ca_new(&bad, ca_der, ca_len, cakey, &cfg));
    cfg = CONFIG;
    cfg.ocsp_url = "http://with space";
    CHECK_RC(SK_ERR_ARG, sk_ca_new(&bad, ca_der, ca_len, cakey, &cfg));
    /* the PDS language: ISO 639-1 in either case, nothing else */
    static const char *const bad_lang[] = {"e", "eng", "e1", "e-", ""};
    for (size_t i = 0; i < sizeof bad_lang / sizeof bad_lang[0]; i++) {
        cfg = CONFIG;
        cfg.pds_lang = bad_lang[i];
        CHECK_RC(SK_ERR_ARG, sk_ca_new(&bad, ca_der, ca_len, cakey, &cfg));
    }
    cfg = CONFIG;
    cfg.pds_lang = "DE";
    sk_ca *upper = NULL;
    CHECK_OK(sk_ca_new(&upper, ca_der, ca_len, cakey, &cfg));
    if (upper != NULL) {
        CHECK_OK(sk_ca_issue(upper, out, sizeof out, &w, NULL, SK_CERT_SIGN_QUALIFIED, subject,
                             fx.pub, NOW));
        /* QcPDS language PrintableString "de", never "DE" */
        static const uint8_t lower[] = {0x13, 0x02, 'd', 'e'}, upperb[] = {0x13, 0x02, 'D', 'E'};
        bool has_lower = false, has_upper = false;
        for (size_t i = 0; i + sizeof lower <= w; i++) {
            has_lower |= memcmp(out + i, lower, sizeof lower) == 0;
            has_upper |= memcmp(out + i, upperb, sizeof upperb) == 0;
        }
        CHECK(has_lower && !has_upper);
    }
    sk_ca_free(upper);
    /* a leaf is not a CA; a CA certificate with another key is refused */
    CHECK_RC(SK_ERR_CERT, sk_ca_new(&bad, leaf[0], leaf_len[0], cakey, &CONFIG));
    CHECK_RC(SK_ERR_CERT, sk_ca_new(&bad, ca_der, ca_len, okey, &CONFIG));
    CHECK_RC(SK_ERR_CERT, sk_ca_new(&bad, ca_der, ca_len / 2, cakey, &CONFIG));
    CHECK(bad == NULL);

    mbedtls_x509_crt_free(&root);
    sk_name_free(caname);
    sk_name_free(subject);
}

/* ----------------------------------------------------- issuing from a CSR */

static void test_issue_csr(void)
{
    size_t n_len = 2 * fx.k / 8;
    uint8_t n[1024], out[SK_PKI_MAX_CERT_LEN], bad[SK_PKI_MAX_CSR_LEN];
    size_t w;
    sk_serial s;
    sk_name *reg = NULL, *other = NULL;
    CHECK_OK(sk_pubkey_modulus(fx.pub, n, n_len));
    CHECK_OK(sk_name_parse_person(&reg, NULL, PERSON));
    CHECK_OK(sk_name_parse_person(&other, NULL,
                                  "C=LV,GN=ANDRIS,SN=BERZINS,serialNumber=PNOLV-010101-99999"));
    CHECK_OK(sk_ca_issue_csr(ca, out, sizeof out, &w, &s, SK_CERT_SIGN_QUALIFIED, csr_der,
                             csr_len, n, n_len, reg, NOW));
    CHECK(w > 0 && s.len == 16);
    sk_cert *cert = NULL;
    CHECK_OK(sk_cert_parse(&cert, out, w));
    if (cert != NULL)
        CHECK_OK(sk_cert_check_key(cert, n, n_len));
    sk_cert_free(cert);
    CHECK_OK(sk_ca_issue_csr(ca, out, sizeof out, &w, NULL, SK_CERT_AUTH_BASIC, csr_der, csr_len,
                             n, n_len, NULL, NOW));
    /* another registered subject, another enrolled key, no possession */
    CHECK_RC(SK_ERR_PKI, sk_ca_issue_csr(ca, out, sizeof out, &w, &s, SK_CERT_SIGN_QUALIFIED,
                                         csr_der, csr_len, n, n_len, other, NOW));
    CHECK(w == 0 && s.len == 0);
    n[5] ^= 1;
    CHECK_RC(SK_ERR_KEY_MISMATCH, sk_ca_issue_csr(ca, out, sizeof out, &w, NULL,
                                                  SK_CERT_SIGN_QUALIFIED, csr_der, csr_len, n,
                                                  n_len, reg, NOW));
    n[5] ^= 1;
    memcpy(bad, csr_der, csr_len);
    bad[csr_len - 3] ^= 0x10;
    CHECK_RC(SK_ERR_VERIFY, sk_ca_issue_csr(ca, out, sizeof out, &w, NULL, SK_CERT_SIGN_QUALIFIED,
                                            bad, csr_len, n, n_len, reg, NOW));
    CHECK(sk_ca_issue_csr(ca, out, sizeof out, &w, NULL, SK_CERT_SIGN_QUALIFIED, csr_der,
                          csr_len - 1, n, n_len, reg, NOW) == SK_ERR_CSR);
    sk_name_free(reg);
    sk_name_free(other);
}

/* ------------------------------------------------------ reading certs back */

static void test_cert_read(void)
{
    sk_cert *cert = NULL, *issuer = NULL, *signer = NULL;
    CHECK_OK(sk_cert_parse(&cert, leaf[0], leaf_len[0]));
    CHECK_OK(sk_cert_parse(&issuer, ca_der, ca_len));
    CHECK_OK(sk_cert_parse(&signer, ocsp_der, ocsp_len));
    if (cert == NULL || issuer == NULL || signer == NULL)
        goto out;
    size_t dl;
    const uint8_t *d = sk_cert_der(cert, &dl);
    CHECK(dl == leaf_len[0] && memcmp(d, leaf[0], dl) == 0);
    sk_serial s;
    CHECK_OK(sk_cert_serial(cert, &s));
    CHECK(s.len == leaf_serial[0].len && memcmp(s.bytes, leaf_serial[0].bytes, s.len) == 0);
    int64_t nb, na;
    CHECK_OK(sk_cert_validity(cert, &nb, &na));
    CHECK(nb == NOW && na == NOW + 1095LL * 86400);
    sk_name *subj = NULL, *want = NULL;
    CHECK_OK(sk_cert_subject(cert, &subj));
    CHECK_OK(sk_name_parse_person(&want, NULL, PERSON));
    CHECK(subj != NULL && want != NULL && memcmp(subj, want, sizeof *want) == 0);
    sk_name_free(subj);
    sk_name_free(want);
    size_t n_len = 2 * fx.k / 8;
    uint8_t n[1024];
    CHECK_OK(sk_pubkey_modulus(fx.pub, n, n_len));
    CHECK_OK(sk_cert_check_key(cert, n, n_len));
    n[0] ^= 0x40;
    CHECK_RC(SK_ERR_KEY_MISMATCH, sk_cert_check_key(cert, n, n_len));
    CHECK_RC(SK_ERR_KEY_MISMATCH, sk_cert_check_key(signer, n, n_len)); /* an EC key */
    sk_pubkey *pk = NULL;
    CHECK_RC(SK_ERR_KEY_FORMAT, sk_cert_pubkey(signer, &pk));
    CHECK_OK(sk_cert_check_issuer(cert, issuer));
    CHECK_OK(sk_cert_check_issuer(issuer, issuer));
    CHECK_RC(SK_ERR_CERT, sk_cert_check_issuer(cert, signer));
    CHECK_RC(SK_ERR_CERT, sk_cert_check_issuer(issuer, cert));
    sk_cert *junk = NULL;
    CHECK(sk_cert_parse(&junk, leaf[0], leaf_len[0] - 1) != SK_OK && junk == NULL);
    /* PEM input */
    static char pem[2 * SK_PKI_MAX_CERT_LEN];
    size_t pl;
    CHECK_OK(sk_pem_encode(pem, sizeof pem, &pl, "CERTIFICATE", leaf[1], leaf_len[1]));
    CHECK_OK(sk_cert_parse(&junk, (const uint8_t *)pem, pl));
    sk_cert_free(junk);
    sk_ca_key_type t;
    CHECK_OK(sk_ca_key_type_parse(&t, "ec-p384"));
    CHECK(t == SK_CA_KEY_EC_P384 && strcmp(sk_ca_key_type_name(SK_CA_KEY_RSA3072), "rsa3072") == 0);
    CHECK_RC(SK_ERR_ARG, sk_ca_key_type_parse(&t, "rsa1024"));
out:
    sk_cert_free(cert);
    sk_cert_free(issuer);
    sk_cert_free(signer);
}

/* -------------------------------------------------------------------- CRL */

static void test_crl(void)
{
    sk_crl_entry e[2];
    memset(e, 0, sizeof e);
    e[0].serial = leaf_serial[1];
    e[0].revocation_time = NOW + 10;
    e[0].reason = SK_REASON_KEY_COMPROMISE;
    e[1].serial = leaf_serial[3];
    e[1].revocation_time = NOW + 20;
    e[1].reason = SK_REASON_UNSPECIFIED;
    static uint8_t crl_der[16384];
    size_t len;
    CHECK_OK(sk_ca_crl(ca, crl_der, sizeof crl_der, &len, e, 2, 42, NOW + 30, NOW + 86400));
    mbedtls_x509_crl crl;
    mbedtls_x509_crl_init(&crl);
    CHECK(mbedtls_x509_crl_parse_der(&crl, crl_der, len) == 0);
    CHECK(crl.version == 2);
    size_t count = 0;
    for (const mbedtls_x509_crl_entry *en = &crl.entry; en != NULL && en->raw.p != NULL;
         en = en->next) {
        /* DER adds a zero byte in front of a serial whose top bit is set */
        const uint8_t *sp = en->serial.p;
        size_t sl = en->serial.len;
        if (sl == 17 && sp[0] == 0) {
            sp++;
            sl--;
        }
        CHECK(sl == 16);
        CHECK(memcmp(sp, e[count < 2 ? count : 0].serial.bytes, 16) == 0);
        count++;
    }
    CHECK(count == 2);
    /* mbedTLS chain verification with this CRL: revoked vs good */
    mbedtls_x509_crt root, c1, c0;
    CHECK(parse_crt(&root, ca_der, ca_len) == 0);
    CHECK(parse_crt(&c1, leaf[1], leaf_len[1]) == 0);
    CHECK(parse_crt(&c0, leaf[0], leaf_len[0]) == 0);
    uint32_t flags = 0;
    (void)mbedtls_x509_crt_verify(&c1, &root, &crl, NULL, &flags, NULL, NULL);
    CHECK((flags & MBEDTLS_X509_BADCERT_REVOKED) != 0);
    flags = 0;
    (void)mbedtls_x509_crt_verify(&c0, &root, &crl, NULL, &flags, NULL, NULL);
    CHECK((flags & MBEDTLS_X509_BADCERT_REVOKED) == 0);
    CHECK((flags & MBEDTLS_X509_BADCRL_NOT_TRUSTED) == 0);
    mbedtls_x509_crt_free(&root);
    mbedtls_x509_crt_free(&c1);
    mbedtls_x509_crt_free(&c0);
    mbedtls_x509_crl_free(&crl);

    /* an empty CRL is fine; bad arguments are refused */
    CHECK_OK(sk_ca_crl(ca, crl_der, sizeof crl_der, &len, NULL, 0, 43, NOW, NOW + 60));
    CHECK_RC(SK_ERR_ARG, sk_ca_crl(ca, crl_der, sizeof crl_der, &len, e, 2, 44, NOW, NOW));
    e[0].reason = (sk_crl_reason)7;
    CHECK_RC(SK_ERR_ARG, sk_ca_crl(ca, crl_der, sizeof crl_der, &len, e, 2, 44, NOW, NOW + 60));
}

/* -------------------------------------------------------------------- OCSP */

static int lookup_calls;

static int lookup(void *ctx, sk_cert_status *st, const sk_serial *serial)
{
    (void)ctx;
    lookup_calls++;
    st->state = SK_CERT_UNKNOWN;
    if (serial->len == 16 && memcmp(serial->bytes, leaf_serial[0].bytes, 16) == 0)
        st->state = SK_CERT_GOOD;
    if (serial->len == 16 && memcmp(serial->bytes, leaf_serial[1].bytes, 16) == 0) {
        st->state = SK_CERT_REVOKED;
        st->revocation_time = NOW + 5;
        st->reason = SK_REASON_KEY_COMPROMISE;
    }
    return 0;
}

static int failing_lookup(void *ctx, sk_cert_status *st, const sk_serial *serial)
{
    (void)ctx, (void)st, (void)serial;
    return -1;
}

/* An OCSPRequest for serials under our CA (or a wrong issuer hash). */
static void make_request(der *d, const sk_serial *serials, size_t count, sk_hash hash,
                         bool wrong_issuer, const uint8_t *nonce, size_t nonce_len)
{
    mbedtls_x509_crt root;
    CHECK(parse_crt(&root, ca_der, ca_len) == 0);
    const uint8_t *bits;
    size_t bits_len;
    CHECK_OK(pki_spki_key_bits(&bits, &bits_len, root.pk_raw.p, root.pk_raw.len));
    uint8_t nh[64], kh[64];
    size_t hl = sk_hash_len(hash);
    CHECK_OK(sk_hash_compute(hash, nh, root.subject_raw.p, root.subject_raw.len));
    CHECK_OK(sk_hash_compute(hash, kh, bits, bits_len));
    if (wrong_issuer)
        kh[0] ^= 1;
    size_t s = pki_der_open(d, 0x30);
    size_t t = pki_der_open(d, 0x30);
    size_t list = pki_der_open(d, 0x30);
    for (size_t i = 0; i < count; i++) {
        size_t r = pki_der_open(d, 0x30);
        size_t cid = pki_der_open(d, 0x30);
        size_t alg = pki_der_open(d, 0x30);
        pki_der_oid(d, hash == SK_HASH_SHA1     ? "1.3.14.3.2.26"
                       : hash == SK_HASH_SHA384 ? "2.16.840.1.101.3.4.2.2"
                       : hash == SK_HASH_SHA512 ? "2.16.840.1.101.3.4.2.3"
                                                : "2.16.840.1.101.3.4.2.1");
        pki_der_null(d);
        pki_der_close(d, alg);
        pki_der_tlv(d, 0x04, nh, hl);
        pki_der_tlv(d, 0x04, kh, hl);
        pki_der_uint(d, serials[i].bytes, serials[i].len);
        pki_der_close(d, cid);
        pki_der_close(d, r);
    }
    pki_der_close(d, list);
    if (nonce != NULL) {
        size_t e2 = pki_der_open(d, 0xa2);
        size_t exts = pki_der_open(d, 0x30);
        ext_mark m = pki_ext_open(d, "1.3.6.1.5.5.7.48.1.2", false);
        pki_der_tlv(d, 0x04, nonce, nonce_len);
        pki_ext_close(d, m);
        pki_der_close(d, exts);
        pki_der_close(d, e2);
    }
    pki_der_close(d, t);
    pki_der_close(d, s);
    mbedtls_x509_crt_free(&root);
}

static bool contains(const uint8_t *hay, size_t hl, const uint8_t *needle, size_t nl)
{
    for (size_t i = 0; i + nl <= hl; i++)
        if (memcmp(hay + i, needle, nl) == 0)
            return true;
    return false;
}

static void test_ocsp(void)
{
    sk_ocsp_responder *r = NULL;
    CHECK_OK(sk_ocsp_responder_new(&r, ca_der, ca_len, ocsp_der, ocsp_len, okey, 600));
    /* the CA itself, a person certificate or the wrong key cannot sign */
    sk_ocsp_responder *bad = NULL;
    CHECK_RC(SK_ERR_CERT, sk_ocsp_responder_new(&bad, ca_der, ca_len, ca_der, ca_len, cakey, 0));
    CHECK_RC(SK_ERR_CERT,
             sk_ocsp_responder_new(&bad, ca_der, ca_len, leaf[1], leaf_len[1], okey, 0));
    CHECK_RC(SK_ERR_CERT,
             sk_ocsp_responder_new(&bad, ca_der, ca_len, ocsp_der, ocsp_len, cakey, 0));
    CHECK(bad == NULL);
    if (r == NULL)
        return;

    static uint8_t resp[16384];
    size_t len;
    sk_ocsp_status st;
    sk_serial unknown_serial;
    CHECK_OK(sk_serial_from_hex(&unknown_serial, "0123456789"));
    sk_serial serials[3] = {leaf_serial[0], leaf_serial[1], unknown_serial};
    static const uint8_t nonce[16] = "0123456789abcdef";

    for (int h = 0; h < 2; h++) {
        der req;
        pki_der_init(&req);
        make_request(&req, serials, 3, h ? SK_HASH_SHA256 : SK_HASH_SHA1, false, nonce, 16);
        CHECK(req.err == SK_OK);
        sk_ocsp_request *parsed = NULL;
        CHECK_OK(sk_ocsp_request_parse(&parsed, req.p, req.len));
        if (parsed != NULL) {
            CHECK(sk_ocsp_request_count(parsed) == 3);
            sk_serial s;
            CHECK_OK(sk_ocsp_request_serial(parsed, &s, 1));
            CHECK(s.len == 16 && memcmp(s.bytes, leaf_serial[1].bytes, 16) == 0);
            size_t nl;
            const uint8_t *nv = sk_ocsp_request_nonce(parsed, &nl);
            CHECK(nl == 16 && nv != NULL && memcmp(nv, nonce, 16) == 0);
        }
        sk_ocsp_request_free(parsed);
        lookup_calls = 0;
        CHECK_OK(sk_ocsp_respond(r, resp, sizeof resp, &len, &st, req.p, req.len, NOW, lookup,
                                 NULL));
        CHECK(st == SK_OCSP_SUCCESSFUL);
        CHECK(lookup_calls == 3);
        CHECK(len > 5 && resp[0] == 0x30);
        /* good [0], revoked [1] with reason keyCompromise, unknown [2] */
        static const uint8_t good[] = {0x80, 0x00}, unk[] = {0x82, 0x00};
        static const uint8_t reason[] = {0xa0, 0x03, 0x0a, 0x01, 0x01};
        CHECK(contains(resp, len, good, 2));
        CHECK(contains(resp, len, unk, 2));
        CHECK(contains(resp, len, reason, sizeof reason));
        CHECK(contains(resp, len, nonce, 16));
        CHECK(contains(resp, len, ocsp_der, ocsp_len)); /* signer certificate included */
        /* internalError when the lookup fails; unauthorized for another issuer */
        CHECK_OK(sk_ocsp_respond(r, resp, sizeof resp, &len, &st, req.p, req.len, NOW,
                                 failing_lookup, NULL));
        CHECK(st == SK_OCSP_INTERNAL_ERROR && len == 5 && resp[4] == 2);
        pki_der_free(&req);
        pki_der_init(&req);
        make_request(&req, serials, 1, h ? SK_HASH_SHA256 : SK_HASH_SHA1, true, NULL, 0);
        CHECK_OK(sk_ocsp_respond(r, resp, sizeof resp, &len, &st, req.p, req.len, NOW, lookup,
                                 NULL));
        CHECK(st == SK_OCSP_UNAUTHORIZED && len == 5 && resp[4] == 6);
        pki_der_free(&req);
    }

    /* too many CertIDs, an oversized nonce: malformedRequest */
    sk_serial many[SK_OCSP_MAX_REQUESTS + 1];
    for (size_t i = 0; i <= SK_OCSP_MAX_REQUESTS; i++)
        many[i] = leaf_serial[0];
    der req;
    pki_der_init(&req);
    make_request(&req, many, SK_OCSP_MAX_REQUESTS + 1, SK_HASH_SHA1, false, NULL, 0);
    CHECK_OK(sk_ocsp_respond(r, resp, sizeof resp, &len, &st, req.p, req.len, NOW, lookup, NULL));
    CHECK(st == SK_OCSP_MALFORMED_REQUEST);
    pki_der_free(&req);
    uint8_t big_nonce[33] = {0};
    pki_der_init(&req);
    make_request(&req, serials, 1, SK_HASH_SHA1, false, big_nonce, sizeof big_nonce);
    CHECK_OK(sk_ocsp_respond(r, resp, sizeof resp, &len, &st, req.p, req.len, NOW, lookup, NULL));
    CHECK(st == SK_OCSP_MALFORMED_REQUEST);
    pki_der_free(&req);

    /* robustness: truncations, byte mutations, garbage */
    pki_der_init(&req);
    make_request(&req, serials, 3, SK_HASH_SHA256, false, nonce, 16);
    size_t bad_results = 0;
    for (size_t l = 0; l < req.len; l++) {
        int rc = sk_ocsp_respond(r, resp, sizeof resp, &len, &st, req.p, l, NOW, lookup, NULL);
        if (rc != SK_OK || st != SK_OCSP_MALFORMED_REQUEST)
            bad_results++;
    }
    CHECK(bad_results == 0);
    uint8_t *mut = malloc(req.len);
    bad_results = 0;
    for (size_t i = 0; i < req.len; i++)
        for (int v = 0; v < 4; v++) {
            static const uint8_t vals[4] = {0x00, 0xff, 0x80, 0x7f};
            memcpy(mut, req.p, req.len);
            mut[i] = (uint8_t)(vals[v] ^ (v == 0 ? mut[i] ^ 1 : 0)); /* v 0: bit flip */
            int rc = sk_ocsp_respond(r, resp, sizeof resp, &len, &st, mut, req.len, NOW, lookup,
                                     NULL);
            if (rc != SK_OK || len < 5 || resp[0] != 0x30)
                bad_results++;
        }
    CHECK(bad_results == 0);
    free(mut);
    pki_der_free(&req);
    uint8_t junk[300];
    bad_results = 0;
    for (int i = 0; i < 2000; i++) {
        size_t jl = 1 + randombytes_uniform(sizeof junk);
        randombytes_buf(junk, jl);
        if (i % 2)
            junk[0] = 0x30; /* look like a SEQUENCE */
        int rc = sk_ocsp_respond(r, resp, sizeof resp, &len, &st, junk, jl, NOW, lookup, NULL);
        if (rc != SK_OK || st == SK_OCSP_SUCCESSFUL)
            bad_results++;
    }
    CHECK(bad_results == 0);

    /* RFC 5019 GET: URL-encoded base64 of the request */
    {
        der get;
        pki_der_init(&get);
        make_request(&get, serials, 2, SK_HASH_SHA1, false, nonce, 16);
        unsigned char b64[1024];
        char url[3072];
        size_t bl, ul = 0, dl;
        CHECK(mbedtls_base64_encode(b64, sizeof b64, &bl, get.p, get.len) == 0);
        for (size_t i = 0; i < bl; i++) {
            if (b64[i] == '+' || b64[i] == '/' || b64[i] == '=')
                ul += (size_t)sprintf(url + ul, "%%%02X", b64[i]);
            else
                url[ul++] = (char)b64[i];
        }
        uint8_t back[1024];
        CHECK_OK(sk_ocsp_decode_get(back, sizeof back, &dl, url, ul));
        CHECK(dl == get.len && memcmp(back, get.p, dl) == 0);
        /* raw base64 without padding decodes too */
        while (bl > 0 && b64[bl - 1] == '=')
            bl--;
        CHECK_OK(sk_ocsp_decode_get(back, sizeof back, &dl, (const char *)b64, bl));
        CHECK(dl == get.len && memcmp(back, get.p, dl) == 0);
        CHECK_RC(SK_ERR_BUFFER_TOO_SMALL, sk_ocsp_decode_get(back, 10, &dl, url, ul));
        CHECK(dl == get.len);
        CHECK_RC(SK_ERR_OCSP, sk_ocsp_decode_get(back, sizeof back, &dl, "ab?cd", 5));
        CHECK_RC(SK_ERR_OCSP, sk_ocsp_decode_get(back, sizeof back, &dl, "abc%2", 5));
        CHECK_RC(SK_ERR_OCSP, sk_ocsp_decode_get(back, sizeof back, &dl, "a", 1));
        pki_der_free(&get);
    }

    /* the fixed error responses */
    uint8_t e[5];
    CHECK_OK(sk_ocsp_error_response(e, sizeof e, &len, SK_OCSP_MALFORMED_REQUEST));
    static const uint8_t malformed[5] = {0x30, 0x03, 0x0a, 0x01, 0x01};
    CHECK(len == 5 && memcmp(e, malformed, 5) == 0);
    CHECK_RC(SK_ERR_ARG, sk_ocsp_error_response(e, sizeof e, &len, SK_OCSP_SUCCESSFUL));
    CHECK_RC(SK_ERR_BUFFER_TOO_SMALL,
             sk_ocsp_error_response(e, 4, &len, SK_OCSP_UNAUTHORIZED));
    sk_ocsp_responder_free(r);
}

/* One SingleResponse read back with mbedTLS's ASN.1 functions. */
typedef struct single_rd {
    int status_tag; /* 0x80 good, 0xa1 revoked, 0x82 unknown */
    int64_t this_update, next_update;
    bool has_cutoff, has_cert_hash, cert_hash_alg_ok;
    int64_t cutoff;
    uint8_t cert_hash[32];
} single_rd;

static int rd_gentime(unsigned char **p, const unsigned char *end, int64_t *t)
{
    size_t l;
    if (mbedtls_asn1_get_tag(p, end, &l, MBEDTLS_ASN1_GENERALIZED_TIME) != 0)
        return -1;
    int rc = pki_asn1_time(t, *p, l, MBEDTLS_ASN1_GENERALIZED_TIME);
    *p += l;
    return rc == SK_OK ? 0 : -1;
}

/* Walks OCSPResponse -> BasicOCSPResponse -> ResponseData; fills *produced
 * and up to cap SingleResponses.  Returns their number, -1 on any error. */
static int read_response(const uint8_t *resp, size_t len, int64_t *produced, single_rd *out,
                         size_t cap)
{
    unsigned char *p = (unsigned char *)resp, *end = p + len;
    size_t l;
    int v;
    const int cons_seq = MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE;
    if (mbedtls_asn1_get_tag(&p, end, &l, cons_seq) != 0 || mbedtls_asn1_get_enum(&p, end, &v) ||
        v != 0 || mbedtls_asn1_get_tag(&p, end, &l, 0xa0) != 0 ||
        mbedtls_asn1_get_tag(&p, end, &l, cons_seq) != 0 ||
        mbedtls_asn1_get_tag(&p, end, &l, MBEDTLS_ASN1_OID) != 0)
        return -1;
    p += l;
    if (mbedtls_asn1_get_tag(&p, end, &l, MBEDTLS_ASN1_OCTET_STRING) != 0)
        return -1;
    end = p + l;
    if (mbedtls_asn1_get_tag(&p, end, &l, cons_seq) != 0 || /* BasicOCSPResponse */
        mbedtls_asn1_get_tag(&p, end, &l, cons_seq) != 0)   /* ResponseData */
        return -1;
    end = p + l;
    if (mbedtls_asn1_get_tag(&p, end, &l, 0xa2) != 0) /* responderID byKey */
        return -1;
    p += l;
    if (rd_gentime(&p, end, produced) != 0 || mbedtls_asn1_get_tag(&p, end, &l, cons_seq) != 0)
        return -1;
    unsigned char *list_end = p + l;
    size_t n = 0;
    while (p < list_end) {
        if (n == cap || mbedtls_asn1_get_tag(&p, list_end, &l, cons_seq) != 0)
            return -1;
        unsigned char *s_end = p + l;
        single_rd *sr = &out[n++];
        memset(sr, 0, sizeof *sr);
        if (mbedtls_asn1_get_tag(&p, s_end, &l, cons_seq) != 0) /* CertID */
            return -1;
        p += l;
        sr->status_tag = *p;
        if (mbedtls_asn1_get_tag(&p, s_end, &l, *p) != 0)
            return -1;
        p += l;
        if (rd_gentime(&p, s_end, &sr->this_update) != 0 ||
            mbedtls_asn1_get_tag(&p, s_end, &l, 0xa0) != 0 ||
            rd_gentime(&p, s_end, &sr->next_update) != 0)
            return -1;
        if (p == s_end)
            continue;
        if (mbedtls_asn1_get_tag(&p, s_end, &l, 0xa1) != 0 || p + l != s_end)
            return -1;
        mbedtls_x509_buf oid;
        if (mbedtls_asn1_get_tag(&p, s_end, &l, cons_seq) != 0 || p + l != s_end)
            return -1;
        while (p < s_end) {
            if (mbedtls_asn1_get_tag(&p, s_end, &l, cons_seq) != 0)
                return -1;
            unsigned char *e_end = p + l;
            if (mbedtls_asn1_get_tag(&p, e_end, &oid.len, MBEDTLS_ASN1_OID) != 0)
                return -1;
            oid.p = p;
            p += oid.len;
            if (mbedtls_asn1_get_tag(&p, e_end, &l, MBEDTLS_ASN1_OCTET_STRING) != 0 ||
                p + l != e_end)
                return -1;
            static const uint8_t cutoff_oid[] = {0x2b, 6, 1, 5, 5, 7, 48, 1, 6};
            static const uint8_t hash_oid[] = {0x2b, 0x24, 8, 3, 13};
            static const uint8_t sha256_alg[] = {0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                                 0x65, 0x03, 0x04, 0x02, 0x01};
            if (oid.len == sizeof cutoff_oid && memcmp(oid.p, cutoff_oid, oid.len) == 0) {
                if (rd_gentime(&p, e_end, &sr->cutoff) != 0 || p != e_end)
                    return -1;
                sr->has_cutoff = true;
            } else if (oid.len == sizeof hash_oid && memcmp(oid.p, hash_oid, oid.len) == 0) {
                /* CertHash ::= SEQUENCE { AlgorithmIdentifier, OCTET STRING } */
                if (mbedtls_asn1_get_tag(&p, e_end, &l, cons_seq) != 0 || p + l != e_end)
                    return -1;
                sr->cert_hash_alg_ok =
                    (size_t)(e_end - p) > sizeof sha256_alg &&
                    memcmp(p, sha256_alg, sizeof sha256_alg) == 0;
                p += sizeof sha256_alg;
                if (mbedtls_asn1_get_tag(&p, e_end, &l, MBEDTLS_ASN1_OCTET_STRING) != 0 ||
                    l != 32 || p + l != e_end)
                    return -1;
                memcpy(sr->cert_hash, p, 32);
                sr->has_cert_hash = true;
            }
            p = e_end;
        }
    }
    return (int)n;
}

static uint8_t expired_der[SK_PKI_MAX_CERT_LEN];
static size_t expired_len;
static sk_serial expired_serial;

/* good for leaf 0 and the expired certificate, revoked for leaf 1, each with
 * its DER; the DER of leaf 2 for leaf 3 (a database gone wrong) when ctx is
 * non-NULL. */
static int lookup_der(void *ctx, sk_cert_status *st, const sk_serial *serial)
{
    st->state = SK_CERT_UNKNOWN;
    for (size_t i = 0; i < 4; i++)
        if (serial->len == leaf_serial[i].len &&
            memcmp(serial->bytes, leaf_serial[i].bytes, serial->len) == 0) {
            st->state = i == 1 ? SK_CERT_REVOKED : SK_CERT_GOOD;
            st->revocation_time = NOW - 60;
            st->reason = SK_REASON_UNSPECIFIED;
            st->cert = leaf[i == 3 && ctx != NULL ? 2 : i];
            st->cert_len = leaf_len[i == 3 && ctx != NULL ? 2 : i];
        }
    if (serial->len == expired_serial.len &&
        memcmp(serial->bytes, expired_serial.bytes, serial->len) == 0) {
        st->state = SK_CERT_GOOD;
        st->cert = expired_der;
        st->cert_len = expired_len;
    }
    return 0;
}

/* archiveCutoff, certHash, the backdated thisUpdate, SHA-384/512 CertIDs
 * and an expired certificate, read back field by field. */
static void test_ocsp_eidas(void)
{
    sk_ocsp_responder *r = NULL;
    CHECK_OK(sk_ocsp_responder_new(&r, ca_der, ca_len, ocsp_der, ocsp_len, okey, 600));
    if (r == NULL)
        return;
    sk_cert *cac = NULL;
    int64_t ca_nb = 0, ca_na = 0;
    CHECK_OK(sk_cert_parse(&cac, ca_der, ca_len));
    CHECK_OK(sk_cert_validity(cac, &ca_nb, &ca_na));
    sk_cert_free(cac);
    CHECK(sk_ocsp_responder_archive_cutoff(r) == ca_nb && ca_nb == NOW - 86400);

    /* a certificate issued 1200 days ago: expired (1095-day validity) */
    sk_name *subject = NULL;
    CHECK_OK(sk_name_parse_person(&subject, NULL, PERSON));
    CHECK_OK(sk_ca_issue(ca, expired_der, sizeof expired_der, &expired_len, &expired_serial,
                         SK_CERT_AUTH_BASIC, subject, fx.pub, NOW - 1200LL * 86400));
    sk_name_free(subject);
    sk_cert *ec = NULL;
    int64_t e_nb = 0, e_na = 0;
    CHECK_OK(sk_cert_parse(&ec, expired_der, expired_len));
    if (ec != NULL)
        CHECK_OK(sk_cert_validity(ec, &e_nb, &e_na));
    sk_cert_free(ec);
    CHECK(e_na < NOW);

    static uint8_t resp[16384];
    size_t len;
    sk_ocsp_status st;
    single_rd sr[8];
    int64_t produced;
    sk_serial serials[4] = {leaf_serial[0], leaf_serial[1], expired_serial, leaf_serial[3]};
    static const sk_hash hashes[4] = {SK_HASH_SHA1, SK_HASH_SHA256, SK_HASH_SHA384,
                                      SK_HASH_SHA512};
    CHECK_RC(SK_ERR_ARG, sk_ocsp_responder_set_backdate(r, 7u * 86400u + 1));
    for (int pass = 0; pass < 2; pass++) {
        /* pass 0: the defaults (no backdate, no certHash); pass 1: both */
        if (pass == 1) {
            CHECK_OK(sk_ocsp_responder_set_backdate(r, 900));
            CHECK_OK(sk_ocsp_responder_set_cert_hash(r, 1));
        }
        for (size_t h = 0; h < 4; h++) {
            der req;
            pki_der_init(&req);
            make_request(&req, serials, 4, hashes[h], false, NULL, 0);
            CHECK_OK(sk_ocsp_respond(r, resp, sizeof resp, &len, &st, req.p, req.len, NOW,
                                     lookup_der, NULL));
            CHECK(st == SK_OCSP_SUCCESSFUL);
            int n = read_response(resp, len, &produced, sr, 8);
            CHECK(n == 4);
            CHECK(produced == NOW);
            for (int i = 0; i < n && i < 4; i++) {
                CHECK(sr[i].this_update == NOW - (pass ? 900 : 0));
                CHECK(sr[i].next_update == NOW + 600);
                CHECK(sr[i].has_cutoff && sr[i].cutoff == ca_nb);
                CHECK(sr[i].has_cert_hash == (pass == 1));
                if (sr[i].has_cert_hash) {
                    const uint8_t *c = i == 2 ? expired_der : leaf[i];
                    size_t cl = i == 2 ? expired_len : leaf_len[i];
                    uint8_t want[32];
                    CHECK_OK(sk_hash_compute(SK_HASH_SHA256, want, c, cl));
                    CHECK(sr[i].cert_hash_alg_ok);
                    CHECK(memcmp(sr[i].cert_hash, want, 32) == 0);
                }
            }
            /* leaf 0 good, leaf 1 revoked, the expired one still good */
            CHECK(n == 4 && sr[0].status_tag == 0x80 && sr[1].status_tag == 0xa1 &&
                  sr[2].status_tag == 0x80 && sr[3].status_tag == 0x80);
            /* a status source handing another certificate: internalError */
            if (pass == 1) {
                CHECK_OK(sk_ocsp_respond(r, resp, sizeof resp, &len, &st, req.p, req.len, NOW,
                                         lookup_der, (void *)1));
                CHECK(st == SK_OCSP_INTERNAL_ERROR && len == 5);
            }
            pki_der_free(&req);
        }
    }
    /* an unknown serial gets no certHash, but archiveCutoff */
    sk_serial unk;
    CHECK_OK(sk_serial_from_hex(&unk, "0a0b0c"));
    der req;
    pki_der_init(&req);
    make_request(&req, &unk, 1, SK_HASH_SHA384, false, NULL, 0);
    CHECK_OK(sk_ocsp_respond(r, resp, sizeof resp, &len, &st, req.p, req.len, NOW, lookup_der,
                             NULL));
    CHECK(st == SK_OCSP_SUCCESSFUL);
    CHECK(read_response(resp, len, &produced, sr, 8) == 1 && sr[0].status_tag == 0x82 &&
          sr[0].has_cutoff && !sr[0].has_cert_hash);
    /* SHA-384/512 CertIDs for another issuer: unauthorized */
    pki_der_free(&req);
    pki_der_init(&req);
    make_request(&req, &unk, 1, SK_HASH_SHA512, true, NULL, 0);
    CHECK_OK(sk_ocsp_respond(r, resp, sizeof resp, &len, &st, req.p, req.len, NOW, lookup_der,
                             NULL));
    CHECK(st == SK_OCSP_UNAUTHORIZED);
    pki_der_free(&req);
    sk_ocsp_responder_free(r);
}

/* -------------------------------------------------------------- audit log */

static size_t build_log(char *log, size_t cap, uint8_t head[32])
{
    uint8_t prev[32] = {0};
    size_t off = 0;
    for (uint64_t i = 1; i <= 6; i++) {
        sk_audit_entry e;
        memset(&e, 0, sizeof e);
        e.seq = i;
        e.time = NOW + (int64_t)i * 60;
        e.event = i % 3 == 0 ? SK_AUDIT_REVOKE : SK_AUDIT_ISSUE;
        e.serial = leaf_serial[i % 4];
        e.subject = i == 2 ? "C=LV,CN=BĒRZIŅŠ\\,ĀDAMS 100%" : "C=LV,CN=BERZINS\\,ANDRIS";
        e.reason = SK_REASON_KEY_COMPROMISE;
        size_t w;
        CHECK_OK(sk_audit_append(log + off, cap - off, &w, prev, prev, &e));
        off += w;
    }
    memcpy(head, prev, 32);
    return off;
}

/* Returns the offset of line n (1-based). */
static size_t line_off(const char *log, size_t n)
{
    size_t off = 0;
    while (--n > 0)
        off = (size_t)(strchr(log + off, '\n') - log) + 1;
    return off;
}

static void test_audit(void)
{
    static char log[8192], copy[8192];
    uint8_t head[32], got[32];
    size_t len = build_log(log, sizeof log, head);
    size_t bad;
    uint64_t count;
    CHECK_OK(sk_audit_verify(&bad, got, &count, log, len));
    CHECK(bad == 0 && count == 6 && memcmp(got, head, 32) == 0);
    CHECK(strstr(log, "%C4%92") != NULL); /* UTF-8 and spaces are percent-encoded */
    CHECK(strstr(log, "%25") != NULL);
    CHECK(strstr(log, " REVOKE ") != NULL && strstr(log, " keyCompromise ") != NULL);
    CHECK_OK(sk_audit_verify(&bad, got, &count, "", 0));
    CHECK(count == 0);

    /* an edited character anywhere in line 3 is caught at line 3 */
    size_t l3 = line_off(log, 3), l4 = line_off(log, 4);
    size_t missed = 0;
    for (size_t i = l3; i < l4 - 1; i++) {
        memcpy(copy, log, len);
        copy[i] = copy[i] == '1' ? '2' : '1';
        if (sk_audit_verify(&bad, NULL, NULL, copy, len) != SK_ERR_AUDIT || bad != 3)
            missed++;
    }
    CHECK(missed == 0);

    /* a deleted line 2 is caught at the new line 2 */
    size_t l2 = line_off(log, 2);
    memcpy(copy, log, l2);
    memcpy(copy + l2, log + l3, len - l3);
    CHECK_RC(SK_ERR_AUDIT, sk_audit_verify(&bad, NULL, NULL, copy, len - (l3 - l2)));
    CHECK(bad == 2);

    /* two lines swapped */
    memcpy(copy, log, len);
    memcpy(copy + l3, log + l4, line_off(log, 5) - l4);
    memcpy(copy + l3 + (line_off(log, 5) - l4), log + l3, l4 - l3);
    CHECK_RC(SK_ERR_AUDIT, sk_audit_verify(&bad, NULL, NULL, copy, len));
    CHECK(bad == 3);

    /* an edit whose own hash is recomputed breaks the next line's link */
    {
        uint8_t prev[32] = {0};
        char fresh[8192];
        size_t off = 0, w;
        for (uint64_t i = 1; i <= 4; i++) {
            sk_audit_entry e = {i, NOW + (int64_t)i, SK_AUDIT_ISSUE, leaf_serial[0], "C=LV", 0};
            uint8_t next[32];
            CHECK_OK(sk_audit_append(fresh + off, sizeof fresh - off, &w, next, prev, &e));
            if (i == 2) {
                /* the forger rewrites entry 2 with another subject */
                uint8_t forged[32];
                e.subject = "C=EE";
                CHECK_OK(sk_audit_append(fresh + off, sizeof fresh - off, &w, forged, prev, &e));
            }
            memcpy(prev, next, 32);
            off += w;
        }
        CHECK_RC(SK_ERR_AUDIT, sk_audit_verify(&bad, NULL, NULL, fresh, off));
        CHECK(bad == 3);
    }

    /* the last entry cut off: the log stays valid but its head changes */
    CHECK_OK(sk_audit_verify(&bad, got, &count, log, line_off(log, 6)));
    CHECK(count == 5 && memcmp(got, head, 32) != 0);
    /* a partial last line */
    CHECK_RC(SK_ERR_AUDIT, sk_audit_verify(&bad, NULL, NULL, log, len - 1));
    CHECK(bad == 6);

    /* appends refuse what they cannot write canonically */
    char line[SK_AUDIT_MAX_LINE];
    size_t w;
    uint8_t z[32] = {0}, n[32];
    sk_audit_entry e = {1, NOW, SK_AUDIT_REVOKE, leaf_serial[0], "x", (sk_crl_reason)7};
    CHECK_RC(SK_ERR_ARG, sk_audit_append(line, sizeof line, &w, n, z, &e));
    e.reason = SK_REASON_SUPERSEDED;
    e.seq = 0;
    CHECK_RC(SK_ERR_ARG, sk_audit_append(line, sizeof line, &w, n, z, &e));
    e.seq = 1;
    CHECK_RC(SK_ERR_BUFFER_TOO_SMALL, sk_audit_append(line, 20, &w, n, z, &e));
    CHECK_OK(sk_audit_append(line, sizeof line, &w, n, z, &e));
    CHECK(w == strlen(line) && line[w - 1] == '\n');
}

int main(void)
{
    sk_test_init();
    test_names();
    test_serials();
    if (splitfix_init(&fx, 1024, "test_pki split key") != 0) {
        fprintf(stderr, "split key generation failed\n");
        return 1;
    }
    test_csr();
    setup_ca();
    test_certs();
    test_cert_read();
    test_issue_csr();
    test_crl();
    test_ocsp();
    test_ocsp_eidas();
    test_audit();
    sk_ca_free(ca);
    sk_ca_key_free(cakey);
    sk_ca_key_free(okey);
    splitfix_free(&fx);
    return sk_test_done("test_pki");
}
