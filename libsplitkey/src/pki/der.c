/* SPDX-License-Identifier: Apache-2.0 */
/* der.c - a small front-to-back DER writer, OID encoding, ASN.1 times and
 * the few reading helpers the PKI parsers share. */
#include <mbedtls/asn1.h>
#include <stdlib.h>
#include <string.h>

#include "pki/pki_internal.h"

/* ---------------------------------------------------------------- buffer */

void pki_der_init(der *d) { memset(d, 0, sizeof *d); }

void pki_der_free(der *d)
{
    if (d->p != NULL) {
        sk_wipe(d->p, d->cap);
        free(d->p);
    }
    memset(d, 0, sizeof *d);
}

static bool pki_der_reserve(der *d, size_t extra)
{
    if (d->err != SK_OK)
        return false;
    if (extra > DER_LIMIT || d->len + extra > DER_LIMIT) {
        d->err = SK_ERR_LIMIT;
        return false;
    }
    if (d->len + extra <= d->cap)
        return true;
    size_t cap = d->cap ? d->cap : 256;
    while (cap < d->len + extra)
        cap *= 2;
    /* Grow by copy so that the old block can be wiped. */
    uint8_t *p = malloc(cap);
    if (p == NULL) {
        d->err = SK_ERR_NOMEM;
        return false;
    }
    if (d->p != NULL) {
        memcpy(p, d->p, d->len);
        sk_wipe(d->p, d->cap);
        free(d->p);
    }
    d->p = p;
    d->cap = cap;
    return true;
}

void pki_der_raw(der *d, const uint8_t *data, size_t len)
{
    if (len == 0 || !pki_der_reserve(d, len))
        return;
    memcpy(d->p + d->len, data, len);
    d->len += len;
}

static size_t len_octets(size_t len, uint8_t enc[5])
{
    if (len < 0x80) {
        enc[0] = (uint8_t)len;
        return 1;
    }
    size_t n = 0;
    for (size_t v = len; v != 0; v >>= 8)
        n++;
    enc[0] = (uint8_t)(0x80 | n);
    for (size_t i = 0; i < n; i++)
        enc[1 + i] = (uint8_t)(len >> (8 * (n - 1 - i)));
    return 1 + n;
}

size_t pki_der_open(der *d, uint8_t tag)
{
    pki_der_raw(d, &tag, 1);
    return d->len;
}

void pki_der_close(der *d, size_t mark)
{
    if (d->err != SK_OK)
        return;
    uint8_t enc[5];
    size_t content = d->len - mark;
    size_t n = len_octets(content, enc);
    if (!pki_der_reserve(d, n))
        return;
    memmove(d->p + mark + n, d->p + mark, content);
    memcpy(d->p + mark, enc, n);
    d->len += n;
}

void pki_der_tlv(der *d, uint8_t tag, const uint8_t *val, size_t len)
{
    size_t m = pki_der_open(d, tag);
    pki_der_raw(d, val, len);
    pki_der_close(d, m);
}

void pki_der_uint(der *d, const uint8_t *mag, size_t len)
{
    while (len > 1 && mag[0] == 0) {
        mag++;
        len--;
    }
    size_t m = pki_der_open(d, MBEDTLS_ASN1_INTEGER);
    if (len == 0 || (mag[0] & 0x80) != 0) {
        static const uint8_t zero = 0;
        pki_der_raw(d, &zero, 1);
    }
    pki_der_raw(d, mag, len);
    pki_der_close(d, m);
}

void pki_der_small_int(der *d, uint8_t tag, uint64_t v)
{
    uint8_t b[8];
    for (size_t i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (56 - 8 * i));
    size_t m = pki_der_open(d, tag);
    size_t i = 0;
    while (i < 7 && b[i] == 0)
        i++;
    if ((b[i] & 0x80) != 0) {
        static const uint8_t zero = 0;
        pki_der_raw(d, &zero, 1);
    }
    pki_der_raw(d, b + i, 8 - i);
    pki_der_close(d, m);
}

void pki_der_oid(der *d, const char *dotted)
{
    uint8_t enc[64];
    size_t n = pki_oid_encode(enc, sizeof enc, dotted);
    if (n == 0) {
        if (d->err == SK_OK)
            d->err = SK_ERR_ARG;
        return;
    }
    pki_der_tlv(d, MBEDTLS_ASN1_OID, enc, n);
}

void pki_der_bool_true(der *d)
{
    static const uint8_t t[] = {0x01, 0x01, 0xff};
    pki_der_raw(d, t, sizeof t);
}

void pki_der_null(der *d)
{
    static const uint8_t n[] = {0x05, 0x00};
    pki_der_raw(d, n, sizeof n);
}

static void put2(char *s, int v)
{
    s[0] = (char)('0' + v / 10);
    s[1] = (char)('0' + v % 10);
}

static void der_time_tag(der *d, int64_t t, bool general)
{
    sk_tm tm;
    if (sk_time_split(&tm, t) != SK_OK) {
        if (d->err == SK_OK)
            d->err = SK_ERR_ARG;
        return;
    }
    char s[16];
    size_t n = 0;
    if (general) {
        put2(s, tm.year / 100);
        n = 2;
    }
    put2(s + n, tm.year % 100);
    put2(s + n + 2, tm.mon);
    put2(s + n + 4, tm.day);
    put2(s + n + 6, tm.hour);
    put2(s + n + 8, tm.min);
    put2(s + n + 10, tm.sec);
    s[n + 12] = 'Z';
    pki_der_tlv(d, general ? MBEDTLS_ASN1_GENERALIZED_TIME : MBEDTLS_ASN1_UTC_TIME,
            (const uint8_t *)s, n + 13);
}

void pki_der_time(der *d, int64_t t)
{
    sk_tm tm;
    bool general = sk_time_split(&tm, t) != SK_OK || tm.year < 1950 || tm.year >= 2050;
    der_time_tag(d, t, general);
}

void pki_der_gentime(der *d, int64_t t) { der_time_tag(d, t, true); }

int pki_der_output(const der *d, uint8_t *out, size_t cap, size_t *written)
{
    *written = 0;
    if (d->err != SK_OK)
        return d->err;
    *written = d->len;
    if (out == NULL || cap < d->len)
        return SK_ERR_BUFFER_TOO_SMALL;
    memcpy(out, d->p, d->len);
    return SK_OK;
}

/* ------------------------------------------------------------------ OIDs */

size_t pki_oid_encode(uint8_t *out, size_t cap, const char *dotted)
{
    uint64_t arcs[32];
    size_t n = 0;
    const char *s = dotted;
    if (s == NULL)
        return 0;
    for (;;) {
        if (*s < '0' || *s > '9' || n == 32)
            return 0;
        if (*s == '0' && s[1] >= '0' && s[1] <= '9')
            return 0; /* no leading zeros */
        uint64_t v = 0;
        while (*s >= '0' && *s <= '9') {
            if (v > (UINT64_MAX - 9) / 10)
                return 0;
            v = v * 10 + (uint64_t)(*s++ - '0');
        }
        arcs[n++] = v;
        if (*s == '\0')
            break;
        if (*s++ != '.')
            return 0;
    }
    if (n < 2 || arcs[0] > 2 || (arcs[0] < 2 && arcs[1] > 39) || arcs[1] > UINT64_MAX - 80)
        return 0;
    size_t len = 0;
    for (size_t i = 1; i < n; i++) {
        uint64_t v = i == 1 ? arcs[0] * 40 + arcs[1] : arcs[i];
        uint8_t tmp[10];
        size_t k = 0;
        do {
            tmp[k++] = (uint8_t)(v & 0x7f);
            v >>= 7;
        } while (v != 0);
        if (len + k > cap)
            return 0;
        while (k > 0) {
            k--;
            out[len++] = (uint8_t)(tmp[k] | (k != 0 ? 0x80 : 0));
        }
    }
    return len;
}

/* ----------------------------------------------------------------- times */

/* Days from 1970-01-01 to a civil date (proleptic Gregorian), with the
 * usual shift of the year start to March so that leap days come last. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t mp = (m + 9) % 12;
    int64_t doy = (153 * mp + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int sk_time_split(sk_tm *tm, int64_t t)
{
    /* 0001-01-01 .. 9999-12-31 */
    if (t < -62135596800LL || t > 253402300799LL)
        return SK_ERR_ARG;
    int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
    int64_t rem = t - days * 86400;
    tm->hour = (int)(rem / 3600);
    tm->min = (int)(rem / 60 % 60);
    tm->sec = (int)(rem % 60);
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    tm->day = (int)(doy - (153 * mp + 2) / 5 + 1);
    tm->mon = (int)(mp < 10 ? mp + 3 : mp - 9);
    tm->year = (int)(yoe + era * 400 + (tm->mon <= 2));
    return SK_OK;
}

static int month_days(int y, int m)
{
    static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : dm[m - 1];
}

int64_t sk_time_join(const sk_tm *tm)
{
    return days_from_civil(tm->year, tm->mon, tm->day) * 86400 + tm->hour * 3600 +
           tm->min * 60 + tm->sec;
}

/* ------------------------------------------------------------- parsing */

int pki_asn1_expect(uint8_t **p, const uint8_t *end, size_t *len, int tag)
{
    if (*p >= end)
        return SK_ERR_DER;
    if (mbedtls_asn1_get_tag(p, end, len, tag) != 0)
        return SK_ERR_DER;
    return SK_OK;
}

static int two_digits(const uint8_t *s, int *v)
{
    if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
        return SK_ERR_DER;
    *v = (s[0] - '0') * 10 + (s[1] - '0');
    return SK_OK;
}

int pki_asn1_time(int64_t *t, const uint8_t *v, size_t len, int tag)
{
    sk_tm tm;
    int cent, yy;
    size_t off;
    if (tag == MBEDTLS_ASN1_UTC_TIME && len == 13) {
        if (two_digits(v, &yy) != SK_OK)
            return SK_ERR_DER;
        tm.year = yy < 50 ? 2000 + yy : 1900 + yy;
        off = 2;
    } else if (tag == MBEDTLS_ASN1_GENERALIZED_TIME && len == 15) {
        if (two_digits(v, &cent) != SK_OK || two_digits(v + 2, &yy) != SK_OK)
            return SK_ERR_DER;
        tm.year = cent * 100 + yy;
        off = 4;
    } else {
        return SK_ERR_DER;
    }
    if (two_digits(v + off, &tm.mon) != SK_OK || two_digits(v + off + 2, &tm.day) != SK_OK ||
        two_digits(v + off + 4, &tm.hour) != SK_OK ||
        two_digits(v + off + 6, &tm.min) != SK_OK || two_digits(v + off + 8, &tm.sec) != SK_OK ||
        v[off + 10] != 'Z')
        return SK_ERR_DER;
    if (tm.year < 1 || tm.mon < 1 || tm.mon > 12 || tm.day < 1 ||
        tm.day > month_days(tm.year, tm.mon) || tm.hour > 23 || tm.min > 59 || tm.sec > 59)
        return SK_ERR_DER;
    *t = sk_time_join(&tm);
    return SK_OK;
}

int pki_spki_key_bits(const uint8_t **bits, size_t *bits_len, const uint8_t *spki, size_t len)
{
    uint8_t *p = (uint8_t *)spki;
    const uint8_t *end = spki + len;
    size_t l;
    if (pki_asn1_expect(&p, end, &l, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != SK_OK)
        return SK_ERR_DER;
    end = p + l;
    if (pki_asn1_expect(&p, end, &l, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != SK_OK)
        return SK_ERR_DER;
    p += l;
    if (pki_asn1_expect(&p, end, &l, MBEDTLS_ASN1_BIT_STRING) != SK_OK || l < 2 || p[0] != 0 ||
        p + l != end)
        return SK_ERR_DER;
    *bits = p + 1;
    *bits_len = l - 1;
    return SK_OK;
}
