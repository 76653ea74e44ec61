/* SPDX-License-Identifier: Apache-2.0 */
/* cert_internal.h - certificates: the CA object and the profile input shared
 * by cert.c, cert_profile.c, crl.c and the OCSP files. */
#ifndef SPLITKEY_CERT_INTERNAL_H
#define SPLITKEY_CERT_INTERNAL_H

#include "pki/pki_internal.h"

#define SK_URL_MAX 512u

typedef enum cert_kind { CERT_KIND_PERSON, CERT_KIND_CA, CERT_KIND_OCSP, CERT_KIND_TSA } cert_kind;

typedef struct profile_input {
    cert_kind kind;
    sk_cert_profile profile; /* PERSON only */
    const uint8_t *ski;      /* 20 bytes */
    const uint8_t *aki;      /* 20 bytes */
    const char *ocsp_url, *ca_issuers_url, *crl_url, *policy_oid, *pds_url, *pds_lang;
} profile_input;

/* Appends the extensions (each an Extension SEQUENCE) of a profile. */
void pki_profile_extensions(der *d, const profile_input *in);

struct sk_ca {
    pki_cert cert;
    const sk_ca_key *key; /* borrowed */
    char ocsp_url[SK_URL_MAX + 1];
    char ca_issuers_url[SK_URL_MAX + 1];
    char crl_url[SK_URL_MAX + 1];
    char pds_url[SK_URL_MAX + 1];
    char pds_lang[3];
    char policy_oid[128];
    bool has_policy, has_pds, has_crl;
    uint32_t validity_days;
};

/* Finds an extension in a certificate's TBS by OID content octets; returns
 * SK_OK with the extnValue contents, SK_ERR_NOT_FOUND or SK_ERR_DER. */
int pki_cert_find_ext(const uint8_t **val, size_t *val_len, const uint8_t *tbs, size_t tbs_len,
                  const uint8_t *oid, size_t oid_len);

/* The SubjectPublicKeyInfo of a PKCS#10 request (DER or PEM) whose key is
 * RSA 2048..4096 or EC P-384 and whose signature verifies under it
 * (tsa.c).  Returns SK_OK, SK_ERR_CSR or SK_ERR_VERIFY. */
int pki_csr_any_key(der *spki, const uint8_t *csr, size_t len);

/* Whether a certificate is of a qualified profile: its certificate
 * policies name QCP-n-qscd, QCP-l-qscd or NCP+ (ETSI EN 319 411-2/-1), as
 * the sign-qualified, seal-qualified and auth-qualified profiles do. */
bool pki_cert_qualified(const sk_cert *cert);

#endif /* SPLITKEY_CERT_INTERNAL_H */
