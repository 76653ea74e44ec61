/* SPDX-License-Identifier: Apache-2.0 */
/* cert.c - X.509 v3 certificates: the CA object, person certificates, the
 * self-signed CA certificate and the delegated OCSP signer certificate.
 * The TBSCertificate is written here; the extensions come from
 * cert_profile.c and the signature from ca_key.c. */
#include <mbedtls/asn1.h>
#include <mbedtls/oid.h>
#include <stdlib.h>
#include <string.h>

#include "pki/cert_internal.h"
#include "mbedtls_compat.h"

#define DAY 86400

/* -------------------------------------------------------- parsed certs */

int pki_cert_find_ext(const uint8_t **val, size_t *val_len, const uint8_t *tbs, size_t tbs_len,
                  const uint8_t *oid, size_t oid_len)
{
    uint8_t *p = (uint8_t *)tbs;
    const uint8_t *end = tbs + tbs_len;
    size_t l;
    if (pki_asn1_expect(&p, end, &l, 0x30) != SK_OK || p + l != end)
        return SK_ERR_DER;
    /* Skip version [0], serial, signature, issuer, validity, subject, spki,
     * and the unique identifiers [1] [2]; stop at [3]. */
    while (p < end) {
        int tag = *p;
        if (pki_asn1_expect(&p, end, &l, tag) != SK_OK)
            return SK_ERR_DER;
        if (tag != 0xa3) {
            p += l;
            continue;
        }
        const uint8_t *ext_end = p + l;
        if (pki_asn1_expect(&p, ext_end, &l, 0x30) != SK_OK || p + l != ext_end)
            return SK_ERR_DER;
        while (p < ext_end) {
            if (pki_asn1_expect(&p, ext_end, &l, 0x30) != SK_OK)
                return SK_ERR_DER;
            const uint8_t *e_end = p + l;
            if (pki_asn1_expect(&p, e_end, &l, MBEDTLS_ASN1_OID) != SK_OK)
                return SK_ERR_DER;
            bool match = l == oid_len && memcmp(p, oid, l) == 0;
            p += l;
            if (p < e_end && *p == MBEDTLS_ASN1_BOOLEAN) {
                if (pki_asn1_expect(&p, e_end, &l, MBEDTLS_ASN1_BOOLEAN) != SK_OK)
                    return SK_ERR_DER;
                p += l;
            }
            if (pki_asn1_expect(&p, e_end, &l, MBEDTLS_ASN1_OCTET_STRING) != SK_OK ||
                p + l != e_end)
                return SK_ERR_DER;
            if (match) {
                *val = p;
                *val_len = l;
                return SK_OK;
            }
            p += l;
        }
        return SK_ERR_NOT_FOUND;
    }
    return SK_ERR_NOT_FOUND;
}

int pki_cert_load(pki_cert *c, const uint8_t *data, size_t len)
{
    memset(c, 0, sizeof *c);
    mbedtls_x509_crt_init(&c->crt);
    if (data == NULL || len == 0 || len > 65536)
        return SK_ERR_CERT;
    uint8_t *buf = malloc(len);
    if (buf == NULL)
        return SK_ERR_NOMEM;
    size_t der_len = 0;
    int rc = sk_pem_decode(buf, len, &der_len, "CERTIFICATE", data, len);
    if (rc == SK_OK && mbedtls_x509_crt_parse_der(&c->crt, buf, der_len) != 0)
        rc = SK_ERR_CERT;
    free(buf);
    if (rc != SK_OK)
        return rc == SK_ERR_NOMEM ? rc : SK_ERR_CERT;
    const mbedtls_x509_buf *subj = &c->crt.subject_raw, *pk = &c->crt.pk_raw;
    const uint8_t *bits;
    size_t bits_len;
    if (pki_spki_key_bits(&bits, &bits_len, pk->p, pk->len) != SK_OK)
        return SK_ERR_CERT;
    sk_hash_compute(SK_HASH_SHA1, c->name_sha1, subj->p, subj->len);
    sk_hash_compute(SK_HASH_SHA256, c->name_sha256, subj->p, subj->len);
    sk_hash_compute(SK_HASH_SHA1, c->key_sha1, bits, bits_len);
    sk_hash_compute(SK_HASH_SHA256, c->key_sha256, bits, bits_len);
    memcpy(c->key_id, c->key_sha1, 20);
    /* Prefer the certificate's own SKI so that AKIs chain to it. */
    static const uint8_t ski_oid[] = {0x55, 0x1d, 0x0e};
    const uint8_t *v;
    size_t vl;
    if (pki_cert_find_ext(&v, &vl, c->crt.tbs.p, c->crt.tbs.len, ski_oid, sizeof ski_oid) ==
            SK_OK &&
        vl == 22 && v[0] == MBEDTLS_ASN1_OCTET_STRING && v[1] == 20)
        memcpy(c->key_id, v + 2, 20);
    return SK_OK;
}

void pki_cert_free(pki_cert *c)
{
    mbedtls_x509_crt_free(&c->crt);
    sk_wipe(c, sizeof *c);
}

/* ------------------------------------------------------------- the CA */

static bool url_ok(const char *u)
{
    if (u == NULL)
        return false;
    size_t n = strlen(u);
    if (n == 0 || n > SK_URL_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (u[i] <= 0x20 || u[i] >= 0x7f)
            return false;
    return true;
}

int sk_ca_new(sk_ca **out, const uint8_t *cert, size_t cert_len, const sk_ca_key *key,
              const sk_ca_config *config)
{
    if (out == NULL)
        return SK_ERR_ARG;
    *out = NULL;
    if (cert == NULL || key == NULL || config == NULL)
        return SK_ERR_ARG;
    if (!url_ok(config->ocsp_url) || !url_ok(config->ca_issuers_url))
        return SK_ERR_ARG;
    if ((config->pds_url != NULL && !url_ok(config->pds_url)) ||
        (config->crl_url != NULL && !url_ok(config->crl_url)))
        return SK_ERR_ARG;
    /* ISO 639-1, either case in the config, written in lower case */
    const char *given = config->pds_lang != NULL ? config->pds_lang : "en";
    char lang[3];
    if (strlen(given) != 2)
        return SK_ERR_ARG;
    for (int i = 0; i < 2; i++) {
        char c = given[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c < 'a' || c > 'z')
            return SK_ERR_ARG;
        lang[i] = c;
    }
    lang[2] = '\0';
    uint8_t tmp[64];
    if (config->policy_oid != NULL &&
        (strlen(config->policy_oid) >= 128 ||
         pki_oid_encode(tmp, sizeof tmp, config->policy_oid) == 0))
        return SK_ERR_ARG;
    if (config->validity_days > 36500)
        return SK_ERR_ARG;
    sk_ca *ca = calloc(1, sizeof *ca);
    if (ca == NULL)
        return SK_ERR_NOMEM;
    int rc = pki_cert_load(&ca->cert, cert, cert_len);
    if (rc != SK_OK)
        goto out;
    rc = SK_ERR_CERT;
    if (!sk_mbedtls_crt_is_ca(&ca->cert.crt) ||
        sk_mbedtls_pk_check_pair(&ca->cert.crt.pk, &key->pk) != 0)
        goto out;
    if (mbedtls_x509_crt_check_key_usage(&ca->cert.crt, MBEDTLS_X509_KU_KEY_CERT_SIGN) != 0)
        goto out;
    ca->key = key;
    strcpy(ca->ocsp_url, config->ocsp_url);
    strcpy(ca->ca_issuers_url, config->ca_issuers_url);
    if (config->pds_url != NULL) {
        strcpy(ca->pds_url, config->pds_url);
        ca->has_pds = true;
    }
    if (config->crl_url != NULL) {
        strcpy(ca->crl_url, config->crl_url);
        ca->has_crl = true;
    }
    strcpy(ca->pds_lang, lang);
    if (config->policy_oid != NULL) {
        strcpy(ca->policy_oid, config->policy_oid);
        ca->has_policy = true;
    }
    ca->validity_days = config->validity_days ? config->validity_days : 1095;
    rc = SK_OK;
out:
    if (rc != SK_OK) {
        sk_ca_free(ca);
        return rc;
    }
    *out = ca;
    return SK_OK;
}

void sk_ca_free(sk_ca *ca)
{
    if (ca == NULL)
        return;
    pki_cert_free(&ca->cert);
    sk_wipe(ca, sizeof *ca);
    free(ca);
}

const uint8_t *sk_ca_cert_der(const sk_ca *ca, size_t *len)
{
    *len = ca->cert.crt.raw.len;
    return ca->cert.crt.raw.p;
}

/* ---------------------------------------------------------- TBS writer */

typedef struct tbs_input {
    const sk_serial *serial;
    const uint8_t *issuer; /* DER Name; NULL: self-issued (the subject) */
    size_t issuer_len;
    const sk_name *subject;
    int64_t not_before, not_after;
    const uint8_t *spki;
    size_t spki_len;
    profile_input ext;
} tbs_input;

static void write_certificate(der *out, const sk_ca_key *signer, const tbs_input *in)
{
    der tbs;
    pki_der_init(&tbs);
    size_t s = pki_der_open(&tbs, 0x30);
    size_t v = pki_der_open(&tbs, 0xa0);
    pki_der_small_int(&tbs, MBEDTLS_ASN1_INTEGER, 2); /* v3 */
    pki_der_close(&tbs, v);
    pki_der_uint(&tbs, in->serial->bytes, in->serial->len);
    pki_sig_alg(&tbs, signer);
    if (in->issuer != NULL)
        pki_der_raw(&tbs, in->issuer, in->issuer_len);
    else
        pki_name_write(&tbs, in->subject);
    size_t val = pki_der_open(&tbs, 0x30);
    pki_der_time(&tbs, in->not_before);
    pki_der_time(&tbs, in->not_after);
    pki_der_close(&tbs, val);
    pki_name_write(&tbs, in->subject);
    pki_der_raw(&tbs, in->spki, in->spki_len);
    size_t ex = pki_der_open(&tbs, 0xa3);
    size_t exs = pki_der_open(&tbs, 0x30);
    pki_profile_extensions(&tbs, &in->ext);
    pki_der_close(&tbs, exs);
    pki_der_close(&tbs, ex);
    pki_der_close(&tbs, s);
    if (tbs.err != SK_OK)
        out->err = tbs.err;
    else
        pki_sign_into(out, signer, tbs.p, tbs.len);
    pki_der_free(&tbs);
}

static int check_times(int64_t not_before, uint32_t days, int64_t *not_after)
{
    sk_tm tm;
    if (sk_time_split(&tm, not_before) != SK_OK || tm.year < 1970)
        return SK_ERR_ARG;
    *not_after = not_before + (int64_t)days * DAY;
    if (sk_time_split(&tm, *not_after) != SK_OK)
        return SK_ERR_ARG;
    return SK_OK;
}

int sk_ca_self_signed(const sk_ca_key *key, uint8_t *out, size_t cap, size_t *written,
                      sk_serial *serial, const sk_name *subject, int64_t not_before,
                      uint32_t validity_days)
{
    if (written == NULL)
        return SK_ERR_ARG;
    *written = 0;
    if (serial != NULL)
        memset(serial, 0, sizeof *serial);
    if (key == NULL || subject == NULL)
        return SK_ERR_ARG;
    tbs_input in;
    memset(&in, 0, sizeof in);
    if (check_times(not_before, validity_days ? validity_days : 3650, &in.not_after) != SK_OK)
        return SK_ERR_ARG;
    sk_serial sn;
    pki_random_serial(&sn);
    der spki, res;
    pki_der_init(&spki);
    pki_der_init(&res);
    uint8_t kid[20];
    int rc = pki_key_spki(&spki, key);
    if (rc == SK_OK)
        rc = pki_key_id(kid, spki.p, spki.len);
    if (rc != SK_OK)
        goto out;
    in.serial = &sn;
    in.subject = subject;
    in.not_before = not_before;
    in.spki = spki.p;
    in.spki_len = spki.len;
    in.ext.kind = CERT_KIND_CA;
    in.ext.ski = kid;
    in.ext.aki = kid;
    write_certificate(&res, key, &in);
    rc = pki_der_output(&res, out, cap, written);
    if (rc == SK_OK && serial != NULL)
        *serial = sn;
out:
    pki_der_free(&spki);
    pki_der_free(&res);
    return rc;
}

/* The subject rules of a profile: a legal person's for a seal, a natural
 * person's otherwise. */
static int subject_check(sk_cert_profile profile, const sk_name *subject)
{
    return profile == SK_CERT_SEAL_QUALIFIED ? sk_name_check_legal(subject, NULL)
                                             : sk_name_check_person(subject, NULL);
}

int sk_ca_issue(const sk_ca *ca, uint8_t *out, size_t cap, size_t *written, sk_serial *serial,
                sk_cert_profile profile, const sk_name *subject, const sk_pubkey *key,
                int64_t not_before)
{
    if (written == NULL)
        return SK_ERR_ARG;
    *written = 0;
    if (serial != NULL)
        memset(serial, 0, sizeof *serial);
    if (ca == NULL || subject == NULL || key == NULL || sk_cert_profile_name(profile) == NULL)
        return SK_ERR_ARG;
    if (subject_check(profile, subject) != SK_OK)
        return SK_ERR_PKI;
    if ((profile == SK_CERT_SIGN_QUALIFIED || profile == SK_CERT_SEAL_QUALIFIED) && !ca->has_pds)
        return SK_ERR_ARG; /* a qualified certificate needs its PDS */
    if (sk_pubkey_bits(key) < 2048)
        return SK_ERR_KEY_SIZE;
    tbs_input in;
    memset(&in, 0, sizeof in);
    if (check_times(not_before, ca->validity_days, &in.not_after) != SK_OK)
        return SK_ERR_ARG;
    uint8_t spki[SK_PKI_MAX_CERT_LEN / 2];
    size_t spki_len = 0;
    int rc = sk_pubkey_export_der(key, spki, sizeof spki, &spki_len);
    if (rc != SK_OK)
        return rc;
    uint8_t kid[20];
    rc = pki_key_id(kid, spki, spki_len);
    if (rc != SK_OK)
        return rc;
    sk_serial sn;
    pki_random_serial(&sn);
    in.serial = &sn;
    in.issuer = ca->cert.crt.subject_raw.p;
    in.issuer_len = ca->cert.crt.subject_raw.len;
    in.subject = subject;
    in.not_before = not_before;
    in.spki = spki;
    in.spki_len = spki_len;
    in.ext.kind = CERT_KIND_PERSON;
    in.ext.profile = profile;
    in.ext.ski = kid;
    in.ext.aki = ca->cert.key_id;
    in.ext.ocsp_url = ca->ocsp_url;
    in.ext.ca_issuers_url = ca->ca_issuers_url;
    in.ext.crl_url = ca->has_crl ? ca->crl_url : NULL;
    in.ext.policy_oid = ca->has_policy ? ca->policy_oid : NULL;
    in.ext.pds_url = ca->pds_url;
    in.ext.pds_lang = ca->pds_lang;
    der res;
    pki_der_init(&res);
    write_certificate(&res, ca->key, &in);
    rc = pki_der_output(&res, out, cap, written);
    pki_der_free(&res);
    if (rc == SK_OK && serial != NULL)
        *serial = sn;
    return rc;
}

int sk_ca_issue_csr(const sk_ca *ca, uint8_t *out, size_t cap, size_t *written,
                    sk_serial *serial, sk_cert_profile profile, const uint8_t *csr,
                    size_t csr_len, const uint8_t *n, size_t n_len, const sk_name *registered,
                    int64_t not_before)
{
    if (written == NULL)
        return SK_ERR_ARG;
    *written = 0;
    if (serial != NULL)
        memset(serial, 0, sizeof *serial);
    if (ca == NULL || csr == NULL || n == NULL)
        return SK_ERR_ARG;
    sk_csr *req = NULL;
    sk_pubkey *key = NULL;
    sk_name *subject = NULL;
    int rc = sk_csr_parse(&req, csr, csr_len);
    if (rc == SK_OK)
        rc = sk_csr_verify(req);
    if (rc == SK_OK)
        rc = sk_csr_check_key(req, n, n_len);
    if (rc == SK_OK)
        rc = sk_csr_subject(req, &subject);
    if (rc == SK_OK)
        rc = subject_check(profile, subject);
    if (rc == SK_OK && registered != NULL && !pki_name_equal(registered, subject))
        rc = SK_ERR_PKI;
    if (rc == SK_OK)
        rc = sk_csr_pubkey(req, &key);
    if (rc == SK_OK)
        rc = sk_ca_issue(ca, out, cap, written, serial, profile, subject, key, not_before);
    sk_pubkey_free(key);
    sk_name_free(subject);
    sk_csr_free(req);
    return rc;
}

/* The part every certificate for a service key shares (the OCSP signer,
 * the TSA): a random serial, issuer and AKI from the CA, the key's SPKI and
 * SKI; in->not_after and the profile's own extension fields are the
 * caller's. */
static int issue_service(const sk_ca *ca, tbs_input *in, const der *spki,
                         const sk_name *subject, int64_t not_before, uint8_t *out,
                         size_t cap, size_t *written, sk_serial *serial)
{
    uint8_t kid[20];
    int rc = pki_key_id(kid, spki->p, spki->len);
    if (rc != SK_OK)
        return rc;
    sk_serial sn;
    pki_random_serial(&sn);
    in->serial = &sn;
    in->issuer = ca->cert.crt.subject_raw.p;
    in->issuer_len = ca->cert.crt.subject_raw.len;
    in->subject = subject;
    in->not_before = not_before;
    in->spki = spki->p;
    in->spki_len = spki->len;
    in->ext.ski = kid;
    in->ext.aki = ca->cert.key_id;
    der res;
    pki_der_init(&res);
    write_certificate(&res, ca->key, in);
    rc = pki_der_output(&res, out, cap, written);
    pki_der_free(&res);
    if (rc == SK_OK && serial != NULL)
        *serial = sn;
    return rc;
}

int sk_ca_issue_ocsp_signer(const sk_ca *ca, uint8_t *out, size_t cap, size_t *written,
                            sk_serial *serial, const sk_name *subject, const sk_ca_key *signer,
                            int64_t not_before, uint32_t validity_days)
{
    if (written == NULL)
        return SK_ERR_ARG;
    *written = 0;
    if (serial != NULL)
        memset(serial, 0, sizeof *serial);
    if (ca == NULL || subject == NULL || signer == NULL)
        return SK_ERR_ARG;
    tbs_input in;
    memset(&in, 0, sizeof in);
    if (check_times(not_before, validity_days ? validity_days : 365, &in.not_after) != SK_OK)
        return SK_ERR_ARG;
    der spki;
    pki_der_init(&spki);
    int rc = pki_key_spki(&spki, signer);
    if (rc == SK_OK) {
        in.ext.kind = CERT_KIND_OCSP;
        rc = issue_service(ca, &in, &spki, subject, not_before, out, cap, written, serial);
    }
    pki_der_free(&spki);
    return rc;
}

/* ------------------------------------------------------------ the TSA */

/* An organisation's subject: C, O and CN present. */
static bool tsa_subject_ok(const sk_name *subject)
{
    char v[SK_NAME_MAX_VALUE + 1];
    return sk_name_get(subject, v, sizeof v, "C") == SK_OK &&
           sk_name_get(subject, v, sizeof v, "O") == SK_OK &&
           sk_name_get(subject, v, sizeof v, "CN") == SK_OK;
}

int sk_ca_issue_tsa(const sk_ca *ca, uint8_t *out, size_t cap, size_t *written,
                    sk_serial *serial, const sk_name *subject, const uint8_t *csr,
                    size_t csr_len, int64_t not_before, uint32_t validity_days)
{
    if (written == NULL)
        return SK_ERR_ARG;
    *written = 0;
    if (serial != NULL)
        memset(serial, 0, sizeof *serial);
    if (ca == NULL || subject == NULL || csr == NULL)
        return SK_ERR_ARG;
    if (!tsa_subject_ok(subject))
        return SK_ERR_PKI;
    tbs_input in;
    memset(&in, 0, sizeof in);
    if (check_times(not_before, validity_days ? validity_days : 1095, &in.not_after) != SK_OK)
        return SK_ERR_ARG;
    der spki;
    pki_der_init(&spki);
    int rc = pki_csr_any_key(&spki, csr, csr_len);
    if (rc == SK_OK) {
        in.ext.kind = CERT_KIND_TSA;
        in.ext.ocsp_url = ca->ocsp_url;
        in.ext.ca_issuers_url = ca->ca_issuers_url;
        in.ext.crl_url = ca->has_crl ? ca->crl_url : NULL;
        in.ext.policy_oid = ca->has_policy ? ca->policy_oid : NULL;
        rc = issue_service(ca, &in, &spki, subject, not_before, out, cap, written, serial);
    }
    pki_der_free(&spki);
    return rc;
}
