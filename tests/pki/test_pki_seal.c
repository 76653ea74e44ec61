/* SPDX-License-Identifier: Apache-2.0 */
/* test_pki_seal.c - electronic seals for legal persons (ETSI EN 319 412-3):
 * - the legal-person subject rules: good subjects in any input order come out
 *   as C, O, organizationIdentifier, CN; every kind of bad one is refused with
 *   a sentence;
 * - the seal-qualified profile: parsed by mbedTLS, chained to the CA, KU
 *   nonRepudiation only, QCP-l-qscd, and the qcStatements read back from the
 *   DER byte by byte (legal-person semantics identifier, QcType eseal);
 * - a seal from a CSR with the registered subject, and the refusals of a
 *   person subject under the seal profile and of a seal subject under SIGN. */
#include <mbedtls/asn1.h>
#include <mbedtls/oid.h>
#include <mbedtls/x509_crt.h>
#include <stdlib.h>
#include <string.h>

#include "splitfix.h"
#include "testutil.h"

#define NOW 1795000000LL
#define ORG "C=LV,O=Example SIA,organizationIdentifier=VATLV-40003000000"
#define PERSON "C=LV,GN=ANDRIS,SN=BERZINS,serialNumber=PNOLV-010101-12345"

/* OIDs as DER contents, written out by hand (not by the library's encoder). */
static const uint8_t OID_QC_STATEMENTS[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x03};
static const uint8_t OID_PKIX_QCSYNTAX_V2[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x0b, 0x02};
static const uint8_t OID_SEMANTICS_LEGAL[] = {0x04, 0x00, 0x8b, 0xec, 0x49, 0x01, 0x02};
static const uint8_t OID_QC_COMPLIANCE[] = {0x04, 0x00, 0x8e, 0x46, 0x01, 0x01};
static const uint8_t OID_QC_SSCD[] = {0x04, 0x00, 0x8e, 0x46, 0x01, 0x04};
static const uint8_t OID_QC_PDS[] = {0x04, 0x00, 0x8e, 0x46, 0x01, 0x05};
static const uint8_t OID_QC_TYPE[] = {0x04, 0x00, 0x8e, 0x46, 0x01, 0x06};
static const uint8_t OID_QCT_ESEAL[] = {0x04, 0x00, 0x8e, 0x46, 0x01, 0x06, 0x02};
static const uint8_t OID_QCP_L_QSCD[] = {0x04, 0x00, 0x8b, 0xec, 0x40, 0x01, 0x03};
static const uint8_t OID_OPERATOR[] = {0x2b, 0x06, 0x01, 0x04, 0x01, 0x86, 0x8d, 0x1f, 0x01};

static const sk_ca_config CONFIG = {
    .ocsp_url = "http://ocsp.example.org",
    .ca_issuers_url = "http://example.org/ca.der",
    .crl_url = "http://example.org/ca.crl",
    .policy_oid = "1.3.6.1.4.1.99999.1",
    .pds_url = "https://example.org/pds.pdf",
    .pds_lang = "en",
};

/* ------------------------------------------------------------------ names */

static void test_legal_names(void)
{
    sk_name *n = NULL;
    const char *why = NULL;
    char buf[512];
    size_t w;

    /* any input order; CN derived from O */
    CHECK_OK(sk_name_parse_legal(&n, &why, "organizationIdentifier=VATLV-40003000000,"
                                           "O=Example SIA,C=LV"));
    CHECK(n != NULL);
    if (n != NULL) {
        CHECK_OK(sk_name_check_legal(n, &why));
        CHECK_RC(SK_ERR_PKI, sk_name_check_person(n, &why));
        CHECK_OK(sk_name_format(n, buf, sizeof buf, &w));
        CHECK(strcmp(buf, "C=LV,O=Example SIA,organizationIdentifier=VATLV-40003000000,"
                          "CN=Example SIA") == 0);
        CHECK_OK(sk_name_get(n, buf, sizeof buf, "organizationIdentifier"));
        CHECK(strcmp(buf, "VATLV-40003000000") == 0);
    }
    sk_name_free(n);

    static const char *const good[] = {
        ORG,
        "C=LV,O=Example SIA,organizationIdentifier=NTRLV-40003000000,CN=Example",
        "C=EE,O=Näide OÜ,organizationIdentifier=NTREE-10000000,CN=NÄIDE",
        "C=BE,O=Bank,organizationIdentifier=PSDBE-NBB-1234.567.890",
        "C=DE,O=Firma GmbH,organizationIdentifier=LEIDE-5493001KJTIIGC8Y1H11",
        "C=SE,O=Bolaget AB,organizationIdentifier=EI:SE-2120000787",
        "C=LV,O=Example\\, SIA,organizationIdentifier=VATLV-40003000000",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        why = NULL;
        CHECK_OK(sk_name_parse_legal(&n, &why, good[i]));
        if (why != NULL)
            fprintf(stderr, "  %s: %s\n", good[i], why);
        if (n != NULL)
            CHECK_OK(sk_name_check_legal(n, NULL));
        sk_name_free(n);
        n = NULL;
    }

    static const char *const bad[] = {
        "C=LV,organizationIdentifier=VATLV-40003000000",            /* no O */
        "C=LV,O=Example SIA",                                       /* no organizationIdentifier */
        "O=Example SIA,organizationIdentifier=VATLV-40003000000",   /* no C */
        "C=LV,O=Example SIA,organizationIdentifier=VATEE-40003000000", /* country differs */
        "C=LV,O=Example SIA,organizationIdentifier=vatLV-40003000000", /* lower-case type */
        "C=LV,O=Example SIA,organizationIdentifier=TAXLV-40003000000", /* unknown scheme */
        "C=LV,O=Example SIA,organizationIdentifier=VATlv-40003000000", /* lower-case country */
        "C=LV,O=Example SIA,organizationIdentifier=VATLV40003000000",  /* no '-' */
        "C=LV,O=Example SIA,organizationIdentifier=VATLV-",         /* no identifier */
        "C=LV,O=Example SIA,organizationIdentifier=VATLV",          /* too short */
        "C=LV,O=Example SIA,organizationIdentifier=VATLV-4000 3000", /* space */
        "C=LV,O=Example SIA,organizationIdentifier=40003000000",    /* bare number */
        "C=LV,O=Example SIA,organizationIdentifier=E1:LV-40003000000", /* national: not letters */
        "C=LV,O=Example SIA,organizationIdentifier=VATLV-4000_3000", /* not PrintableString */
        /* too long: organizationIdentifier of 70 bytes (at most 64) */
        "C=LV,O=X,organizationIdentifier=VATLV-4000300000400030000040003000004000300000400030000040003000004000",
        "C=LV,O=Example SIA,organizationIdentifier=VATLV-1,CN=VATLV-1", /* CN is the id */
        "C=LV,O=Example SIA,organizationIdentifier=VATLV-1,CN=12345",   /* CN not a name */
        "C=LV,O=Example SIA,O=Other,organizationIdentifier=VATLV-1",    /* twice */
        "C=LV,O=Example SIA,organizationIdentifier=VATLV-1,SN=X",       /* person attribute */
        "C=LV,O=Example SIA,organizationIdentifier=VATLV-1,serialNumber=PNOLV-1",
        "C=LV,O=Example SIA,OU=Sales,organizationIdentifier=VATLV-1",   /* OU not allowed */
        PERSON,                                                         /* a person */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        why = NULL;
        n = (sk_name *)1;
        CHECK_RC(SK_ERR_PKI, sk_name_parse_legal(&n, &why, bad[i]));
        CHECK(n == NULL);
        CHECK(why != NULL && strlen(why) > 10);
        if (n != NULL && n != (sk_name *)1)
            sk_name_free(n);
    }
    /* the sentences name the problem */
    CHECK_RC(SK_ERR_PKI, sk_name_parse_legal(&n, &why, bad[3]));
    CHECK(why != NULL && strstr(why, "must equal C") != NULL);
    CHECK_RC(SK_ERR_PKI, sk_name_parse_legal(&n, &why, bad[0]));
    CHECK(why != NULL && strstr(why, "O (the organisation's name)") != NULL);
    CHECK_RC(SK_ERR_PKI, sk_name_parse_legal(&n, &why, bad[4]));
    CHECK(why != NULL && strstr(why, "upper case") != NULL);
    /* an organisation's subject is not a person's */
    CHECK_RC(SK_ERR_PKI, sk_name_parse_person(&n, &why, ORG));

    /* a name out of order is refused by the check, not by the parser */
    CHECK_OK(sk_name_parse(&n, NULL, "C=LV,CN=Example SIA,O=Example SIA,"
                                     "organizationIdentifier=VATLV-40003000000"));
    CHECK_RC(SK_ERR_PKI, sk_name_check_legal(n, &why));
    CHECK(why != NULL && strstr(why, "ordered") != NULL);
    sk_name_free(n);
}

/* ---------------------------------------------------------- the profile */

/* Finds the extnValue of an extension in the certificate's extensions. */
static int find_ext(const mbedtls_x509_crt *crt, const uint8_t *oid, size_t oid_len,
                    unsigned char **val, size_t *val_len, int *critical)
{
    unsigned char *p = crt->v3_ext.p, *end = crt->v3_ext.p + crt->v3_ext.len;
    size_t len;
    /* mbedTLS keeps the contents of [3] EXPLICIT: Extensions ::= SEQUENCE OF */
    if (mbedtls_asn1_get_tag(&p, end, &len, 0x30) != 0 || p + len != end)
        return -1;
    while (p < end) {
        unsigned char *e_end;
        if (mbedtls_asn1_get_tag(&p, end, &len, 0x30) != 0)
            return -1;
        e_end = p + len;
        if (mbedtls_asn1_get_tag(&p, e_end, &len, MBEDTLS_ASN1_OID) != 0)
            return -1;
        int match = len == oid_len && memcmp(p, oid, oid_len) == 0;
        p += len;
        int crit = 0;
        if (p < e_end && *p == MBEDTLS_ASN1_BOOLEAN && mbedtls_asn1_get_bool(&p, e_end, &crit) != 0)
            return -1;
        if (mbedtls_asn1_get_tag(&p, e_end, &len, MBEDTLS_ASN1_OCTET_STRING) != 0)
            return -1;
        if (match) {
            *val = p;
            *val_len = len;
            *critical = crit;
            return 0;
        }
        p = e_end;
    }
    return -1;
}

/* Reads "SEQUENCE { OID, ..." and checks the OID; *p then points after it. */
static int statement(unsigned char **p, unsigned char *end, unsigned char **st_end,
                     const uint8_t *oid, size_t oid_len)
{
    size_t len;
    if (mbedtls_asn1_get_tag(p, end, &len, 0x30) != 0)
        return -1;
    *st_end = *p + len;
    if (mbedtls_asn1_get_tag(p, *st_end, &len, MBEDTLS_ASN1_OID) != 0 || len != oid_len ||
        memcmp(*p, oid, oid_len) != 0)
        return -1;
    *p += len;
    return 0;
}

static void check_qc_statements(const mbedtls_x509_crt *crt)
{
    unsigned char *v = NULL, *p, *end, *st_end, *in_end;
    size_t vl = 0, len;
    int crit = 1;
    CHECK(find_ext(crt, OID_QC_STATEMENTS, sizeof OID_QC_STATEMENTS, &v, &vl, &crit) == 0);
    if (v == NULL)
        return;
    CHECK(crit == 0);
    p = v;
    end = v + vl;
    CHECK(mbedtls_asn1_get_tag(&p, end, &len, 0x30) == 0 && p + len == end);

    /* 1. pkixQCSyntax-v2 { SemanticsInformation { semanticsIdentifier Legal } } */
    CHECK(statement(&p, end, &st_end, OID_PKIX_QCSYNTAX_V2, sizeof OID_PKIX_QCSYNTAX_V2) == 0);
    CHECK(mbedtls_asn1_get_tag(&p, st_end, &len, 0x30) == 0 && p + len == st_end);
    CHECK(mbedtls_asn1_get_tag(&p, st_end, &len, MBEDTLS_ASN1_OID) == 0 &&
          len == sizeof OID_SEMANTICS_LEGAL && memcmp(p, OID_SEMANTICS_LEGAL, len) == 0);
    p = st_end;
    /* 2. QcCompliance, 3. QcSSCD: no statementInfo */
    CHECK(statement(&p, end, &st_end, OID_QC_COMPLIANCE, sizeof OID_QC_COMPLIANCE) == 0 &&
          p == st_end);
    p = st_end;
    CHECK(statement(&p, end, &st_end, OID_QC_SSCD, sizeof OID_QC_SSCD) == 0 && p == st_end);
    p = st_end;
    /* 4. QcType SEQUENCE { id-etsi-qct-eseal } */
    CHECK(statement(&p, end, &st_end, OID_QC_TYPE, sizeof OID_QC_TYPE) == 0);
    CHECK(mbedtls_asn1_get_tag(&p, st_end, &len, 0x30) == 0 && p + len == st_end);
    CHECK(mbedtls_asn1_get_tag(&p, st_end, &len, MBEDTLS_ASN1_OID) == 0 &&
          len == sizeof OID_QCT_ESEAL && memcmp(p, OID_QCT_ESEAL, len) == 0);
    p = st_end;
    /* 5. QcPDS SEQUENCE { SEQUENCE { url, "en" } } */
    CHECK(statement(&p, end, &st_end, OID_QC_PDS, sizeof OID_QC_PDS) == 0);
    CHECK(mbedtls_asn1_get_tag(&p, st_end, &len, 0x30) == 0);
    CHECK(mbedtls_asn1_get_tag(&p, st_end, &len, 0x30) == 0);
    in_end = p + len;
    CHECK(mbedtls_asn1_get_tag(&p, in_end, &len, MBEDTLS_ASN1_IA5_STRING) == 0 &&
          len == strlen(CONFIG.pds_url) && memcmp(p, CONFIG.pds_url, len) == 0);
    p += len;
    CHECK(mbedtls_asn1_get_tag(&p, in_end, &len, MBEDTLS_ASN1_PRINTABLE_STRING) == 0 &&
          len == 2 && memcmp(p, "en", 2) == 0);
    p = st_end;
    CHECK(p == end); /* exactly five statements */
}

static void check_seal_cert(const uint8_t *der, size_t der_len, const uint8_t *ca_der,
                            size_t ca_len, unsigned pub_bits)
{
    mbedtls_x509_crt crt, root;
    mbedtls_x509_crt_init(&crt);
    mbedtls_x509_crt_init(&root);
    CHECK(mbedtls_x509_crt_parse_der(&root, ca_der, ca_len) == 0);
    CHECK(mbedtls_x509_crt_parse_der(&crt, der, der_len) == 0);
    uint32_t flags = 0;
    int vr = mbedtls_x509_crt_verify(&crt, &root, NULL, NULL, &flags, NULL, NULL);
    CHECK(vr == 0 || (flags & ~(uint32_t)(MBEDTLS_X509_BADCERT_FUTURE |
                                          MBEDTLS_X509_BADCERT_EXPIRED)) == 0);
    CHECK(crt.version == 3 && !crt.ca_istrue);
    CHECK(mbedtls_x509_crt_check_key_usage(&crt, MBEDTLS_X509_KU_NON_REPUDIATION) == 0);
    CHECK(mbedtls_x509_crt_check_key_usage(&crt, MBEDTLS_X509_KU_DIGITAL_SIGNATURE) != 0);
    CHECK(mbedtls_x509_crt_check_key_usage(&crt, MBEDTLS_X509_KU_KEY_CERT_SIGN) != 0);
    CHECK((crt.ext_types & MBEDTLS_X509_EXT_EXTENDED_KEY_USAGE) == 0);
    CHECK(mbedtls_pk_get_type(&crt.pk) == MBEDTLS_PK_RSA &&
          mbedtls_pk_get_bitlen(&crt.pk) == pub_bits);

    /* basicConstraints and keyUsage are critical */
    unsigned char *v;
    size_t vl;
    int crit = 0;
    static const uint8_t bc[] = {0x55, 0x1d, 0x13}, ku[] = {0x55, 0x1d, 0x0f},
                         cp[] = {0x55, 0x1d, 0x20}, aia[] = {0x2b, 0x06, 0x01, 0x05,
                                                             0x05, 0x07, 0x01, 0x01},
                         crl[] = {0x55, 0x1d, 0x1f};
    CHECK(find_ext(&crt, bc, sizeof bc, &v, &vl, &crit) == 0 && crit == 1);
    CHECK(vl == 2 && v[0] == 0x30 && v[1] == 0x00); /* CA:FALSE */
    CHECK(find_ext(&crt, ku, sizeof ku, &v, &vl, &crit) == 0 && crit == 1);
    CHECK(vl == 4 && v[0] == 0x03 && v[1] == 0x02 && v[2] == 0x06 && v[3] == 0x40);
    CHECK(find_ext(&crt, aia, sizeof aia, &v, &vl, &crit) == 0 && crit == 0);
    CHECK(find_ext(&crt, crl, sizeof crl, &v, &vl, &crit) == 0 && crit == 0);

    /* certificatePolicies: the operator's OID, then QCP-l-qscd (mbedTLS's list) */
    CHECK(find_ext(&crt, cp, sizeof cp, &v, &vl, &crit) == 0 && crit == 0);
    const mbedtls_x509_sequence *pol = &crt.certificate_policies;
    CHECK(pol->buf.len == sizeof OID_OPERATOR &&
          memcmp(pol->buf.p, OID_OPERATOR, sizeof OID_OPERATOR) == 0);
    pol = pol->next;
    CHECK(pol != NULL && pol->buf.len == sizeof OID_QCP_L_QSCD &&
          memcmp(pol->buf.p, OID_QCP_L_QSCD, sizeof OID_QCP_L_QSCD) == 0);
    CHECK(pol == NULL || pol->next == NULL);

    check_qc_statements(&crt);

    /* the subject reads back as the organisation in the EN 319 412-3 order,
     * organizationIdentifier as PrintableString */
    sk_cert *c = NULL;
    sk_name *subj = NULL;
    char buf[256];
    size_t w;
    CHECK_OK(sk_cert_parse(&c, der, der_len));
    if (c != NULL && sk_cert_subject(c, &subj) == SK_OK) {
        CHECK_OK(sk_name_check_legal(subj, NULL));
        CHECK_OK(sk_name_format(subj, buf, sizeof buf, &w));
        CHECK(strcmp(buf, "C=LV,O=Example SIA,organizationIdentifier=VATLV-40003000000,"
                          "CN=Example SIA") == 0);
    }
    static const uint8_t orgid_printable[] = {0x06, 0x03, 0x55, 0x04, 0x61, 0x13, 0x11};
    CHECK(crt.subject_raw.len > sizeof orgid_printable);
    int found = 0;
    for (size_t i = 0; i + sizeof orgid_printable <= crt.subject_raw.len; i++)
        found |= memcmp(crt.subject_raw.p + i, orgid_printable, sizeof orgid_printable) == 0;
    CHECK(found);
    sk_name_free(subj);
    sk_cert_free(c);
    mbedtls_x509_crt_free(&crt);
    mbedtls_x509_crt_free(&root);
}

static void test_seal_profile(splitfix *fx)
{
    sk_ca_key *cakey = NULL;
    sk_ca *ca = NULL;
    sk_name *caname = NULL, *org = NULL, *person = NULL;
    static uint8_t ca_der[SK_PKI_MAX_CERT_LEN], out[SK_PKI_MAX_CERT_LEN],
        csr[SK_PKI_MAX_CSR_LEN], pcsr[SK_PKI_MAX_CSR_LEN];
    size_t ca_len = 0, w = 0, csr_len = 0, pcsr_len = 0;
    sk_serial s;

    CHECK_OK(sk_ca_key_generate(&cakey, SK_CA_KEY_RSA3072));
    CHECK_OK(sk_name_parse(&caname, NULL, "CN=Test CA,O=Splitkey,C=LV"));
    CHECK_OK(sk_ca_self_signed(cakey, ca_der, sizeof ca_der, &ca_len, NULL, caname, NOW - 86400,
                               0));
    CHECK_OK(sk_ca_new(&ca, ca_der, ca_len, cakey, &CONFIG));
    CHECK_OK(sk_name_parse_legal(&org, NULL, ORG));
    CHECK_OK(sk_name_parse_person(&person, NULL, PERSON));
    if (ca == NULL || org == NULL || person == NULL)
        goto out;

    sk_cert_profile p;
    CHECK_OK(sk_cert_profile_parse(&p, "seal-qualified"));
    CHECK(p == SK_CERT_SEAL_QUALIFIED);
    CHECK(strcmp(sk_cert_profile_name(SK_CERT_SEAL_QUALIFIED), "seal-qualified") == 0);

    CHECK_OK(sk_ca_issue(ca, out, sizeof out, &w, &s, SK_CERT_SEAL_QUALIFIED, org, fx->pub, NOW));
    CHECK(s.len == 16);
    check_seal_cert(out, w, ca_der, ca_len, 2 * fx->k);

    /* a person subject is refused under the seal profile, an organisation's
     * under the person profiles */
    CHECK_RC(SK_ERR_PKI, sk_ca_issue(ca, out, sizeof out, &w, NULL, SK_CERT_SEAL_QUALIFIED,
                                     person, fx->pub, NOW));
    CHECK(w == 0);
    CHECK_RC(SK_ERR_PKI, sk_ca_issue(ca, out, sizeof out, &w, NULL, SK_CERT_SIGN_QUALIFIED, org,
                                     fx->pub, NOW));
    /* a seal is qualified: it needs the PDS */
    sk_ca *nopds = NULL;
    sk_ca_config cfg = CONFIG;
    cfg.pds_url = NULL;
    CHECK_OK(sk_ca_new(&nopds, ca_der, ca_len, cakey, &cfg));
    CHECK_RC(SK_ERR_ARG, sk_ca_issue(nopds, out, sizeof out, &w, NULL, SK_CERT_SEAL_QUALIFIED,
                                     org, fx->pub, NOW));
    sk_ca_free(nopds);

    /* from a CSR signed through the split path, as the CA program does */
    size_t n_len = 2 * fx->k / 8;
    uint8_t n[1024];
    CHECK_OK(sk_pubkey_modulus(fx->pub, n, n_len));
    CHECK_OK(sk_csr_build(csr, sizeof csr, &csr_len, org, fx->pub, SK_HASH_SHA256, splitfix_sign,
                          fx));
    CHECK_OK(sk_csr_build(pcsr, sizeof pcsr, &pcsr_len, person, fx->pub, SK_HASH_SHA256,
                          splitfix_sign, fx));
    CHECK_OK(sk_ca_issue_csr(ca, out, sizeof out, &w, &s, SK_CERT_SEAL_QUALIFIED, csr, csr_len, n,
                             n_len, org, NOW));
    check_seal_cert(out, w, ca_der, ca_len, 2 * fx->k);
    /* a person's CSR under the seal profile; a seal CSR under SIGN */
    CHECK_RC(SK_ERR_PKI, sk_ca_issue_csr(ca, out, sizeof out, &w, NULL, SK_CERT_SEAL_QUALIFIED,
                                         pcsr, pcsr_len, n, n_len, NULL, NOW));
    CHECK_RC(SK_ERR_PKI, sk_ca_issue_csr(ca, out, sizeof out, &w, NULL, SK_CERT_SIGN_QUALIFIED,
                                         csr, csr_len, n, n_len, NULL, NOW));
    /* another organisation registered */
    sk_name *other = NULL;
    CHECK_OK(sk_name_parse_legal(&other, NULL, "C=LV,O=Example SIA,"
                                               "organizationIdentifier=VATLV-40003000001"));
    CHECK_RC(SK_ERR_PKI, sk_ca_issue_csr(ca, out, sizeof out, &w, NULL, SK_CERT_SEAL_QUALIFIED,
                                         csr, csr_len, n, n_len, other, NOW));
    sk_name_free(other);
out:
    sk_name_free(person);
    sk_name_free(org);
    sk_name_free(caname);
    sk_ca_free(ca);
    sk_ca_key_free(cakey);
}

int main(void)
{
    sk_test_init();
    test_legal_names();
    splitfix fx;
    if (splitfix_init(&fx, 1024, "test_pki_seal split key") != 0) {
        fprintf(stderr, "split key generation failed\n");
        return 1;
    }
    test_seal_profile(&fx);
    splitfix_free(&fx);
    return sk_test_done("test_pki_seal");
}
