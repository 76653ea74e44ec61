/* SPDX-License-Identifier: Apache-2.0 */
/* pki_util.c - serial numbers, reason names, PEM armour and the extension
 * wrapper shared by certificates and CRLs. */
#include <mbedtls/asn1.h>
#include <mbedtls/base64.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pki/pki_internal.h"

/* ---------------------------------------------------------------- serials */

int sk_serial_to_hex(char *hex, size_t cap, const sk_serial *serial)
{
    if (hex == NULL || serial == NULL || serial->len == 0 || serial->len > SK_SERIAL_MAX_LEN ||
        cap < 2 * serial->len + 1)
        return SK_ERR_ARG;
    sodium_bin2hex(hex, cap, serial->bytes, serial->len);
    return SK_OK;
}

/* Accepts an optional "0x" and any number of leading zeros, digits of either
 * case and an odd count of them (the number is right-aligned: "abc" is
 * 0a bc); the value must fit SK_SERIAL_MAX_LEN bytes and not be zero. */
int sk_serial_from_hex(sk_serial *serial, const char *hex)
{
    if (serial == NULL || hex == NULL)
        return SK_ERR_ARG;
    memset(serial, 0, sizeof *serial);
    if (hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X'))
        hex += 2;
    while (*hex == '0')
        hex++;
    size_t n = strlen(hex);
    if (n == 0 || n > 2 * SK_SERIAL_MAX_LEN)
        return SK_ERR_ARG;
    /* An odd count gets a leading '0' so that sodium_hex2bin sees whole bytes. */
    char even[2 * SK_SERIAL_MAX_LEN + 1];
    size_t m = n + n % 2;
    even[0] = '0';
    memcpy(even + n % 2, hex, n);
    size_t got = 0;
    const char *end = NULL;
    if (sodium_hex2bin(serial->bytes, sizeof serial->bytes, even, m, NULL, &got, &end) != 0 ||
        got != m / 2 || end != even + m) {
        memset(serial, 0, sizeof *serial);
        return SK_ERR_ARG;
    }
    serial->len = got;
    return SK_OK;
}

/* ---------------------------------------------------------------- reasons */

static const char *const REASONS[] = {
    "unspecified",          "keyCompromise",  "cACompromise",        "affiliationChanged",
    "superseded",           "cessationOfOperation", "certificateHold", NULL,
    "removeFromCRL",        "privilegeWithdrawn", "aACompromise",
};

int sk_crl_reason_parse(sk_crl_reason *out, const char *name)
{
    if (out == NULL || name == NULL)
        return SK_ERR_ARG;
    for (size_t i = 0; i < sizeof REASONS / sizeof REASONS[0]; i++)
        if (REASONS[i] != NULL && strcmp(REASONS[i], name) == 0) {
            *out = (sk_crl_reason)i;
            return SK_OK;
        }
    return SK_ERR_ARG;
}

const char *sk_crl_reason_name(sk_crl_reason reason)
{
    if ((unsigned)reason >= sizeof REASONS / sizeof REASONS[0])
        return NULL;
    return REASONS[reason];
}

/* -------------------------------------------------------------------- PEM */

int sk_pem_encode(char *out, size_t cap, size_t *written, const char *label, const uint8_t *body,
                  size_t body_len)
{
    if (written == NULL)
        return SK_ERR_ARG;
    *written = 0;
    if (label == NULL || body == NULL || body_len == 0 || body_len > DER_LIMIT ||
        strlen(label) > 64)
        return SK_ERR_ARG;
    size_t b64 = 4 * ((body_len + 2) / 3);
    size_t label_len = strlen(label);
    size_t need = (11 + label_len + 6) + b64 + (b64 + 63) / 64 + (9 + label_len + 6);
    *written = need;
    if (out == NULL || cap < need + 1)
        return SK_ERR_BUFFER_TOO_SMALL;
    size_t o = 0;
    o += (size_t)sprintf(out + o, "-----BEGIN %s-----\n", label);
    for (size_t i = 0; i < body_len; i += 48) {
        size_t chunk = body_len - i < 48 ? body_len - i : 48;
        size_t olen = 0;
        if (mbedtls_base64_encode((unsigned char *)out + o, cap - o, &olen, body + i, chunk) != 0)
            return SK_ERR_INTERNAL;
        o += olen;
        out[o++] = '\n';
    }
    o += (size_t)sprintf(out + o, "-----END %s-----\n", label);
    *written = o;
    return SK_OK;
}

int sk_pem_decode(uint8_t *out, size_t cap, size_t *written, const char *label,
                  const uint8_t *data, size_t len)
{
    if (written == NULL)
        return SK_ERR_ARG;
    *written = 0;
    if (label == NULL || data == NULL || len == 0 || strlen(label) > 64)
        return SK_ERR_ARG;
    if (data[0] == 0x30) { /* already DER */
        *written = len;
        if (out == NULL || cap < len)
            return SK_ERR_BUFFER_TOO_SMALL;
        memcpy(out, data, len);
        return SK_OK;
    }
    char begin[96], end[96];
    snprintf(begin, sizeof begin, "-----BEGIN %s-----", label);
    snprintf(end, sizeof end, "-----END %s-----", label);
    size_t bl = strlen(begin), el = strlen(end);
    const uint8_t *s = NULL, *e = NULL;
    for (size_t i = 0; i + bl <= len; i++)
        if (memcmp(data + i, begin, bl) == 0) {
            s = data + i + bl;
            break;
        }
    if (s == NULL)
        return SK_ERR_PEM;
    for (const uint8_t *q = s; q + el <= data + len; q++)
        if (memcmp(q, end, el) == 0) {
            e = q;
            break;
        }
    if (e == NULL)
        return SK_ERR_PEM;
    /* Copy the base64 body without line breaks, then decode. */
    size_t body = (size_t)(e - s);
    uint8_t *tmp = malloc(body + 1);
    if (tmp == NULL)
        return SK_ERR_NOMEM;
    size_t n = 0;
    for (size_t i = 0; i < body; i++)
        if (s[i] != '\n' && s[i] != '\r' && s[i] != ' ' && s[i] != '\t')
            tmp[n++] = s[i];
    size_t olen = 0;
    int rc = SK_OK;
    int mr = mbedtls_base64_decode(NULL, 0, &olen, tmp, n);
    if (mr != MBEDTLS_ERR_BASE64_BUFFER_TOO_SMALL || olen == 0) {
        rc = SK_ERR_PEM;
    } else if (out == NULL || cap < olen) {
        *written = olen;
        rc = SK_ERR_BUFFER_TOO_SMALL;
    } else if (mbedtls_base64_decode(out, cap, &olen, tmp, n) != 0) {
        rc = SK_ERR_PEM;
    } else {
        *written = olen;
    }
    sk_wipe(tmp, body + 1);
    free(tmp);
    return rc;
}

/* ------------------------------------------------------------ extensions */

ext_mark pki_ext_open(der *d, const char *oid, bool critical)
{
    ext_mark m;
    m.seq = pki_der_open(d, 0x30);
    pki_der_oid(d, oid);
    if (critical)
        pki_der_bool_true(d);
    m.octets = pki_der_open(d, MBEDTLS_ASN1_OCTET_STRING);
    return m;
}

void pki_ext_close(der *d, ext_mark m)
{
    pki_der_close(d, m.octets);
    pki_der_close(d, m.seq);
}
