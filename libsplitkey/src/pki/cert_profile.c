/* SPDX-License-Identifier: Apache-2.0 */
/* cert_profile.c - the extensions of every certificate profile (ETSI
 * EN 319 412-2/-3/-5, RFC 5280, RFC 3739, RFC 6960).  The table in
 * doc/pki.md mirrors this file. */
#include <mbedtls/asn1.h>
#include <string.h>

#include "pki/cert_internal.h"

/* RFC 5280 */
#define OID_BASIC_CONSTRAINTS "2.5.29.19"
#define OID_KEY_USAGE "2.5.29.15"
#define OID_EXT_KEY_USAGE "2.5.29.37"
#define OID_CERT_POLICIES "2.5.29.32"
#define OID_SKI "2.5.29.14"
#define OID_AKI "2.5.29.35"
#define OID_AIA "1.3.6.1.5.5.7.1.1"
#define OID_CRL_DP "2.5.29.31"
#define OID_AD_OCSP "1.3.6.1.5.5.7.48.1"
#define OID_AD_CA_ISSUERS "1.3.6.1.5.5.7.48.2"
#define OID_KP_CLIENT_AUTH "1.3.6.1.5.5.7.3.2"
#define OID_KP_OCSP_SIGNING "1.3.6.1.5.5.7.3.9"
#define OID_OCSP_NOCHECK "1.3.6.1.5.5.7.48.1.5"
/* ETSI EN 319 411-1/-2 policies */
#define OID_QCP_N_QSCD "0.4.0.194112.1.2"
#define OID_QCP_L_QSCD "0.4.0.194112.1.3"
#define OID_NCP_PLUS "0.4.0.2042.1.2"
#define OID_NCP "0.4.0.2042.1.1"
/* qcStatements: RFC 3739 and ETSI EN 319 412-5 */
#define OID_QC_STATEMENTS "1.3.6.1.5.5.7.1.3"
#define OID_QCS_PKIX_SYNTAX_V2 "1.3.6.1.5.5.7.11.2"
#define OID_SEMANTICS_NATURAL "0.4.0.194121.1.1"
#define OID_QC_COMPLIANCE "0.4.0.1862.1.1"
#define OID_QC_SSCD "0.4.0.1862.1.4"
#define OID_QC_PDS "0.4.0.1862.1.5"
#define OID_QC_TYPE "0.4.0.1862.1.6"
#define OID_QC_TYPE_ESIGN "0.4.0.1862.1.6.1"
/* RFC 3161 2.3 */
#define OID_KP_TIME_STAMPING "1.3.6.1.5.5.7.3.8"
#define OID_QC_TYPE_ESEAL "0.4.0.1862.1.6.2"
#define OID_SEMANTICS_LEGAL "0.4.0.194121.1.2"

/* KeyUsage bits as DER BIT STRING contents (unused-bits byte first). */
static const uint8_t KU_DIGITAL_SIGNATURE[] = {0x07, 0x80};
static const uint8_t KU_NON_REPUDIATION[] = {0x06, 0x40};
static const uint8_t KU_CERT_SIGN_CRL_SIGN[] = {0x01, 0x06};

static void ext_key_usage(der *d, const uint8_t *bits, size_t len)
{
    ext_mark m = pki_ext_open(d, OID_KEY_USAGE, true);
    pki_der_tlv(d, MBEDTLS_ASN1_BIT_STRING, bits, len);
    pki_ext_close(d, m);
}

static void ext_basic_constraints(der *d, bool ca)
{
    ext_mark m = pki_ext_open(d, OID_BASIC_CONSTRAINTS, true);
    size_t s = pki_der_open(d, 0x30);
    if (ca) {
        pki_der_bool_true(d);
        pki_der_small_int(d, MBEDTLS_ASN1_INTEGER, 0); /* pathLenConstraint 0 */
    }
    pki_der_close(d, s);
    pki_ext_close(d, m);
}

static void ext_eku(der *d, const char *oid)
{
    ext_mark m = pki_ext_open(d, OID_EXT_KEY_USAGE, false);
    size_t s = pki_der_open(d, 0x30);
    pki_der_oid(d, oid);
    pki_der_close(d, s);
    pki_ext_close(d, m);
}

static void ext_key_ids(der *d, const uint8_t *ski, const uint8_t *aki)
{
    if (ski != NULL) {
        ext_mark m = pki_ext_open(d, OID_SKI, false);
        pki_der_tlv(d, MBEDTLS_ASN1_OCTET_STRING, ski, 20);
        pki_ext_close(d, m);
    }
    ext_mark m = pki_ext_open(d, OID_AKI, false);
    size_t s = pki_der_open(d, 0x30);
    pki_der_tlv(d, 0x80, aki, 20); /* [0] IMPLICIT KeyIdentifier */
    pki_der_close(d, s);
    pki_ext_close(d, m);
}

static void ext_policies(der *d, const char *etsi, const char *operator_oid)
{
    ext_mark m = pki_ext_open(d, OID_CERT_POLICIES, false);
    size_t s = pki_der_open(d, 0x30);
    const char *oids[2] = {operator_oid, etsi};
    for (size_t i = 0; i < 2; i++) {
        if (oids[i] == NULL)
            continue;
        size_t pi = pki_der_open(d, 0x30);
        pki_der_oid(d, oids[i]);
        pki_der_close(d, pi);
    }
    pki_der_close(d, s);
    pki_ext_close(d, m);
}

static void ext_aia(der *d, const char *ocsp, const char *ca_issuers)
{
    ext_mark m = pki_ext_open(d, OID_AIA, false);
    size_t s = pki_der_open(d, 0x30);
    const char *methods[2] = {OID_AD_OCSP, OID_AD_CA_ISSUERS};
    const char *urls[2] = {ocsp, ca_issuers};
    for (size_t i = 0; i < 2; i++) {
        size_t ad = pki_der_open(d, 0x30);
        pki_der_oid(d, methods[i]);
        /* GeneralName uniformResourceIdentifier [6] IMPLICIT IA5String */
        pki_der_tlv(d, 0x86, (const uint8_t *)urls[i], strlen(urls[i]));
        pki_der_close(d, ad);
    }
    pki_der_close(d, s);
    pki_ext_close(d, m);
}

/* CRLDistributionPoints with one DistributionPoint { distributionPoint
 * [0] { fullName [0] { uniformResourceIdentifier [6] url } } } */
static void ext_crl_dp(der *d, const char *url)
{
    ext_mark m = pki_ext_open(d, OID_CRL_DP, false);
    size_t s = pki_der_open(d, 0x30);
    size_t dp = pki_der_open(d, 0x30);
    size_t name = pki_der_open(d, 0xa0);
    size_t full = pki_der_open(d, 0xa0);
    pki_der_tlv(d, 0x86, (const uint8_t *)url, strlen(url));
    pki_der_close(d, full);
    pki_der_close(d, name);
    pki_der_close(d, dp);
    pki_der_close(d, s);
    pki_ext_close(d, m);
}

/* QCStatement ::= SEQUENCE { statementId OID, statementInfo ANY OPTIONAL } */
static void qc_statements(der *d, const char *semantics, const char *qc_type,
                          const char *pds_url, const char *pds_lang)
{
    ext_mark m = pki_ext_open(d, OID_QC_STATEMENTS, false);
    size_t all = pki_der_open(d, 0x30);

    /* id-qcs-pkixQCSyntax-v2 with SemanticsInformation { semanticsIdentifier
     * id-etsi-qcs-semanticsId-Natural or -Legal } (EN 319 412-1 5.1) */
    size_t st = pki_der_open(d, 0x30);
    pki_der_oid(d, OID_QCS_PKIX_SYNTAX_V2);
    size_t si = pki_der_open(d, 0x30);
    pki_der_oid(d, semantics);
    pki_der_close(d, si);
    pki_der_close(d, st);

    /* QcCompliance, QcSSCD: no statementInfo */
    st = pki_der_open(d, 0x30);
    pki_der_oid(d, OID_QC_COMPLIANCE);
    pki_der_close(d, st);
    st = pki_der_open(d, 0x30);
    pki_der_oid(d, OID_QC_SSCD);
    pki_der_close(d, st);

    /* QcType ::= SEQUENCE OF OBJECT IDENTIFIER { esign or eseal } */
    st = pki_der_open(d, 0x30);
    pki_der_oid(d, OID_QC_TYPE);
    size_t types = pki_der_open(d, 0x30);
    pki_der_oid(d, qc_type);
    pki_der_close(d, types);
    pki_der_close(d, st);

    /* QcPDS: PdsLocations ::= SEQUENCE OF PdsLocation { url IA5String,
     * language PrintableString (SIZE(2)) } */
    st = pki_der_open(d, 0x30);
    pki_der_oid(d, OID_QC_PDS);
    size_t locs = pki_der_open(d, 0x30);
    size_t loc = pki_der_open(d, 0x30);
    pki_der_tlv(d, MBEDTLS_ASN1_IA5_STRING, (const uint8_t *)pds_url, strlen(pds_url));
    pki_der_tlv(d, MBEDTLS_ASN1_PRINTABLE_STRING, (const uint8_t *)pds_lang, 2);
    pki_der_close(d, loc);
    pki_der_close(d, locs);
    pki_der_close(d, st);

    pki_der_close(d, all);
    pki_ext_close(d, m);
}

/* The time-stamping unit (RFC 3161 2.3, ETSI EN 319 422): extKeyUsage
 * id-kp-timeStamping as the only purpose, critical. */
static void tsa_extensions(der *d, const profile_input *in)
{
    ext_basic_constraints(d, false);
    ext_key_usage(d, KU_DIGITAL_SIGNATURE, sizeof KU_DIGITAL_SIGNATURE);
    ext_mark m = pki_ext_open(d, OID_EXT_KEY_USAGE, true);
    size_t s = pki_der_open(d, 0x30);
    pki_der_oid(d, OID_KP_TIME_STAMPING);
    pki_der_close(d, s);
    pki_ext_close(d, m);
    if (in->policy_oid != NULL)
        ext_policies(d, NULL, in->policy_oid);
    ext_aia(d, in->ocsp_url, in->ca_issuers_url);
    if (in->crl_url != NULL)
        ext_crl_dp(d, in->crl_url);
    ext_key_ids(d, in->ski, in->aki);
}

void pki_profile_extensions(der *d, const profile_input *in)
{
    switch (in->kind) {
    case CERT_KIND_CA:
        ext_basic_constraints(d, true);
        ext_key_usage(d, KU_CERT_SIGN_CRL_SIGN, sizeof KU_CERT_SIGN_CRL_SIGN);
        ext_key_ids(d, in->ski, in->aki);
        return;
    case CERT_KIND_OCSP:
        ext_basic_constraints(d, false);
        ext_key_usage(d, KU_DIGITAL_SIGNATURE, sizeof KU_DIGITAL_SIGNATURE);
        ext_eku(d, OID_KP_OCSP_SIGNING);
        {
            ext_mark m = pki_ext_open(d, OID_OCSP_NOCHECK, false);
            pki_der_null(d);
            pki_ext_close(d, m);
        }
        ext_key_ids(d, in->ski, in->aki);
        return;
    case CERT_KIND_TSA:
        tsa_extensions(d, in);
        return;
    case CERT_KIND_PERSON:
        break;
    }
    if (in->profile == SK_CERT_SEAL_QUALIFIED) {
        /* EN 319 412-3: a legal person's qualified seal on a QSCD; content
         * commitment only (nonRepudiation, as for SIGN). */
        ext_basic_constraints(d, false);
        ext_key_usage(d, KU_NON_REPUDIATION, sizeof KU_NON_REPUDIATION);
        ext_policies(d, OID_QCP_L_QSCD, in->policy_oid);
        qc_statements(d, OID_SEMANTICS_LEGAL, OID_QC_TYPE_ESEAL, in->pds_url, in->pds_lang);
        ext_aia(d, in->ocsp_url, in->ca_issuers_url);
        if (in->crl_url != NULL)
            ext_crl_dp(d, in->crl_url);
        ext_key_ids(d, in->ski, in->aki);
        return;
    }
    bool sign = in->profile == SK_CERT_SIGN_QUALIFIED || in->profile == SK_CERT_SIGN_BASIC;
    bool qualified = in->profile == SK_CERT_SIGN_QUALIFIED || in->profile == SK_CERT_AUTH_QUALIFIED;
    ext_basic_constraints(d, false);
    if (sign) {
        ext_key_usage(d, KU_NON_REPUDIATION, sizeof KU_NON_REPUDIATION);
    } else {
        ext_key_usage(d, KU_DIGITAL_SIGNATURE, sizeof KU_DIGITAL_SIGNATURE);
        ext_eku(d, OID_KP_CLIENT_AUTH);
    }
    const char *etsi = !qualified ? OID_NCP : sign ? OID_QCP_N_QSCD : OID_NCP_PLUS;
    ext_policies(d, etsi, in->policy_oid);
    if (in->profile == SK_CERT_SIGN_QUALIFIED)
        qc_statements(d, OID_SEMANTICS_NATURAL, OID_QC_TYPE_ESIGN, in->pds_url, in->pds_lang);
    ext_aia(d, in->ocsp_url, in->ca_issuers_url);
    if (in->crl_url != NULL)
        ext_crl_dp(d, in->crl_url);
    ext_key_ids(d, in->ski, in->aki);
}

static const char *const PROFILE_NAMES[] = {NULL, "sign-qualified", "auth-qualified",
                                             "sign-basic", "auth-basic", "seal-qualified"};

int sk_cert_profile_parse(sk_cert_profile *out, const char *name)
{
    if (out == NULL || name == NULL)
        return SK_ERR_ARG;
    for (int i = 1; i <= SK_CERT_SEAL_QUALIFIED; i++)
        if (strcmp(PROFILE_NAMES[i], name) == 0) {
            *out = (sk_cert_profile)i;
            return SK_OK;
        }
    return SK_ERR_ARG;
}

const char *sk_cert_profile_name(sk_cert_profile profile)
{
    if (profile < SK_CERT_SIGN_QUALIFIED || profile > SK_CERT_SEAL_QUALIFIED)
        return NULL;
    return PROFILE_NAMES[profile];
}
