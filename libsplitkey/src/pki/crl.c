/* SPDX-License-Identifier: Apache-2.0 */
/* crl.c - X.509 v2 CRLs (RFC 5280 5): revoked serials with revocation dates
 * and reason codes, thisUpdate/nextUpdate, cRLNumber and AKI, signed by the
 * CA key.  mbedTLS has no CRL writer; the TBSCertList is written here. */
#include <mbedtls/asn1.h>
#include <string.h>

#include "pki/cert_internal.h"

#define OID_CRL_NUMBER "2.5.29.20"
#define OID_REASON_CODE "2.5.29.21"
#define OID_AKI "2.5.29.35"

static bool serial_ok(const sk_serial *s)
{
    return s->len >= 1 && s->len <= SK_SERIAL_MAX_LEN && s->bytes[0] != 0;
}

int sk_ca_crl(const sk_ca *ca, uint8_t *out, size_t cap, size_t *written,
              const sk_crl_entry *entries, size_t count, uint64_t crl_number,
              int64_t this_update, int64_t next_update)
{
    if (written == NULL)
        return SK_ERR_ARG;
    *written = 0;
    if (ca == NULL || (entries == NULL && count != 0) || count > 1000000)
        return SK_ERR_ARG;
    sk_tm tm;
    if (next_update <= this_update || sk_time_split(&tm, this_update) != SK_OK ||
        sk_time_split(&tm, next_update) != SK_OK)
        return SK_ERR_ARG;
    for (size_t i = 0; i < count; i++)
        if (!serial_ok(&entries[i].serial) || sk_crl_reason_name(entries[i].reason) == NULL ||
            sk_time_split(&tm, entries[i].revocation_time) != SK_OK)
            return SK_ERR_ARG;

    der tbs, res;
    pki_der_init(&tbs);
    pki_der_init(&res);
    size_t s = pki_der_open(&tbs, 0x30);
    pki_der_small_int(&tbs, MBEDTLS_ASN1_INTEGER, 1); /* v2 */
    pki_sig_alg(&tbs, ca->key);
    pki_der_raw(&tbs, ca->cert.crt.subject_raw.p, ca->cert.crt.subject_raw.len);
    pki_der_time(&tbs, this_update);
    pki_der_time(&tbs, next_update);
    if (count > 0) {
        size_t list = pki_der_open(&tbs, 0x30);
        for (size_t i = 0; i < count; i++) {
            const sk_crl_entry *e = &entries[i];
            size_t ent = pki_der_open(&tbs, 0x30);
            pki_der_uint(&tbs, e->serial.bytes, e->serial.len);
            pki_der_time(&tbs, e->revocation_time);
            /* RFC 5280 5.3.1: omit reasonCode rather than send unspecified */
            if (e->reason != SK_REASON_UNSPECIFIED) {
                size_t exts = pki_der_open(&tbs, 0x30);
                ext_mark m = pki_ext_open(&tbs, OID_REASON_CODE, false);
                pki_der_small_int(&tbs, MBEDTLS_ASN1_ENUMERATED, (uint64_t)e->reason);
                pki_ext_close(&tbs, m);
                pki_der_close(&tbs, exts);
            }
            pki_der_close(&tbs, ent);
        }
        pki_der_close(&tbs, list);
    }
    size_t ctx = pki_der_open(&tbs, 0xa0);
    size_t exts = pki_der_open(&tbs, 0x30);
    ext_mark m = pki_ext_open(&tbs, OID_AKI, false);
    size_t aki = pki_der_open(&tbs, 0x30);
    pki_der_tlv(&tbs, 0x80, ca->cert.key_id, 20);
    pki_der_close(&tbs, aki);
    pki_ext_close(&tbs, m);
    m = pki_ext_open(&tbs, OID_CRL_NUMBER, false);
    pki_der_small_int(&tbs, MBEDTLS_ASN1_INTEGER, crl_number);
    pki_ext_close(&tbs, m);
    pki_der_close(&tbs, exts);
    pki_der_close(&tbs, ctx);
    pki_der_close(&tbs, s);
    int rc = tbs.err;
    if (rc == SK_OK) {
        pki_sign_into(&res, ca->key, tbs.p, tbs.len);
        rc = pki_der_output(&res, out, cap, written);
    }
    pki_der_free(&tbs);
    pki_der_free(&res);
    return rc;
}
