/* SPDX-License-Identifier: Apache-2.0 */
/* cert_read.c - reading certificates back: what the share server checks when
 * the CA returns a certificate (issued by the CA, for the enrolled key), and
 * what the CA records in its database (serial, subject, validity). */
#include <mbedtls/x509_crt.h>
#include <stdlib.h>
#include <string.h>

#include "pki/cert_internal.h"

struct sk_cert {
    pki_cert c;
};

int sk_cert_parse(sk_cert **out, const uint8_t *data, size_t len)
{
    if (out == NULL)
        return SK_ERR_ARG;
    *out = NULL;
    if (data == NULL || len == 0)
        return SK_ERR_ARG;
    sk_cert *c = calloc(1, sizeof *c);
    if (c == NULL)
        return SK_ERR_NOMEM;
    int rc = pki_cert_load(&c->c, data, len);
    if (rc != SK_OK) {
        sk_cert_free(c);
        return rc;
    }
    *out = c;
    return SK_OK;
}

void sk_cert_free(sk_cert *cert)
{
    if (cert == NULL)
        return;
    pki_cert_free(&cert->c);
    free(cert);
}

const uint8_t *sk_cert_der(const sk_cert *cert, size_t *len)
{
    *len = cert->c.crt.raw.len;
    return cert->c.crt.raw.p;
}

int sk_cert_serial(const sk_cert *cert, sk_serial *serial)
{
    if (cert == NULL || serial == NULL)
        return SK_ERR_ARG;
    memset(serial, 0, sizeof *serial);
    const uint8_t *p = cert->c.crt.serial.p;
    size_t l = cert->c.crt.serial.len;
    while (l > 1 && p[0] == 0) {
        p++;
        l--;
    }
    if (l == 0 || l > SK_SERIAL_MAX_LEN || p[0] == 0 || (cert->c.crt.serial.p[0] & 0x80) != 0)
        return SK_ERR_CERT; /* zero, negative or too long: not an RFC 5280 serial */
    memcpy(serial->bytes, p, l);
    serial->len = l;
    return SK_OK;
}

static int64_t x509_time(const mbedtls_x509_time *t)
{
    sk_tm tm = {t->year, t->mon, t->day, t->hour, t->min, t->sec};
    return sk_time_join(&tm);
}

int sk_cert_validity(const sk_cert *cert, int64_t *not_before, int64_t *not_after)
{
    if (cert == NULL || not_before == NULL || not_after == NULL)
        return SK_ERR_ARG;
    *not_before = x509_time(&cert->c.crt.valid_from);
    *not_after = x509_time(&cert->c.crt.valid_to);
    return SK_OK;
}

int sk_cert_subject(const sk_cert *cert, sk_name **out)
{
    if (out == NULL)
        return SK_ERR_ARG;
    *out = NULL;
    if (cert == NULL)
        return SK_ERR_ARG;
    return pki_name_from_der(out, cert->c.crt.subject_raw.p, cert->c.crt.subject_raw.len);
}

int sk_cert_pubkey(const sk_cert *cert, sk_pubkey **out)
{
    if (out == NULL)
        return SK_ERR_ARG;
    *out = NULL;
    if (cert == NULL)
        return SK_ERR_ARG;
    int rc = sk_pubkey_import(out, cert->c.crt.pk_raw.p, cert->c.crt.pk_raw.len);
    return rc == SK_ERR_NOMEM ? rc : rc != SK_OK ? SK_ERR_KEY_FORMAT : SK_OK;
}

int sk_cert_check_key(const sk_cert *cert, const uint8_t *n, size_t n_len)
{
    if (cert == NULL || n == NULL || n_len == 0)
        return SK_ERR_ARG;
    sk_pubkey *key = NULL;
    int rc = sk_cert_pubkey(cert, &key);
    if (rc != SK_OK)
        return rc == SK_ERR_NOMEM ? rc : SK_ERR_KEY_MISMATCH;
    mpz_t expected;
    mpz_init(expected);
    sk_mpz_from_bytes(expected, n, n_len);
    rc = mpz_cmp(expected, key->n) == 0 && mpz_cmp_ui(key->e, SK_E) == 0 ? SK_OK
                                                                        : SK_ERR_KEY_MISMATCH;
    mpz_clear(expected);
    sk_pubkey_free(key);
    return rc;
}

bool pki_cert_qualified(const sk_cert *cert)
{
    /* content octets of 0.4.0.194112.1.2, 0.4.0.194112.1.3, 0.4.0.2042.1.2 */
    static const uint8_t qcp_n[] = {0x04, 0x00, 0x8b, 0xec, 0x40, 0x01, 0x02};
    static const uint8_t qcp_l[] = {0x04, 0x00, 0x8b, 0xec, 0x40, 0x01, 0x03};
    static const uint8_t ncp_plus[] = {0x04, 0x00, 0x8f, 0x7a, 0x01, 0x02};
    for (const mbedtls_x509_sequence *p = &cert->c.crt.certificate_policies; p != NULL;
         p = p->next) {
        const mbedtls_x509_buf *b = &p->buf;
        if (b->p == NULL)
            continue;
        if ((b->len == sizeof qcp_n && memcmp(b->p, qcp_n, sizeof qcp_n) == 0) ||
            (b->len == sizeof qcp_l && memcmp(b->p, qcp_l, sizeof qcp_l) == 0) ||
            (b->len == sizeof ncp_plus && memcmp(b->p, ncp_plus, sizeof ncp_plus) == 0))
            return true;
    }
    return false;
}

int sk_cert_check_issuer(const sk_cert *cert, const sk_cert *issuer)
{
    if (cert == NULL || issuer == NULL)
        return SK_ERR_ARG;
    /* Signature and names only: the caller decides about the dates. */
    uint32_t flags = 0;
    const uint32_t time_flags = MBEDTLS_X509_BADCERT_EXPIRED | MBEDTLS_X509_BADCERT_FUTURE;
    mbedtls_x509_crt *c = (mbedtls_x509_crt *)&cert->c.crt;
    mbedtls_x509_crt *ca = (mbedtls_x509_crt *)&issuer->c.crt;
    int vr = mbedtls_x509_crt_verify(c, ca, NULL, NULL, &flags, NULL, NULL);
    if (vr != 0 && (flags & ~time_flags) != 0)
        return SK_ERR_CERT;
    return SK_OK;
}

int sk_cert_verify_message(const sk_cert *cert, const uint8_t *sig, size_t sig_len,
                           const uint8_t *msg, size_t msg_len)
{
    if (cert == NULL || (msg == NULL && msg_len != 0))
        return SK_ERR_ARG;
    if (sig == NULL || sig_len == 0 || sig_len > SK_CA_MSG_SIG_MAX)
        return SK_ERR_VERIFY;
    mbedtls_pk_context *pk = (mbedtls_pk_context *)&cert->c.crt.pk;
    mbedtls_pk_type_t t = mbedtls_pk_get_type(pk);
    bool ec;
    if (t == MBEDTLS_PK_RSA)
        ec = false;
    else if (t == MBEDTLS_PK_ECKEY || t == MBEDTLS_PK_ECDSA)
        ec = true;
    else
        return SK_ERR_VERIFY;
    uint8_t hash[48];
    static const uint8_t empty[1] = {0};
    if (sk_hash_compute(ec ? SK_HASH_SHA384 : SK_HASH_SHA256, hash, msg ? msg : empty,
                        msg_len) != SK_OK)
        return SK_ERR_VERIFY;
    int rc = mbedtls_pk_verify(pk, ec ? MBEDTLS_MD_SHA384 : MBEDTLS_MD_SHA256, hash,
                               ec ? 48 : 32, sig, sig_len);
    return rc == 0 ? SK_OK : SK_ERR_VERIFY;
}
