/* SPDX-License-Identifier: Apache-2.0 */
/* audit.c - the CA's append-only, hash-chained audit log of every issuance
 * and revocation (doc/pki.md "Audit log").
 *
 * One text line per event:
 *   seq time event serial subject reason prev_hash hash\n
 * The "body" is the line up to and including the reason field; each entry's
 * hash is SHA-256(prev_hash || body), prev_hash of the first entry is 32 zero
 * bytes.  Every field has one canonical spelling, so a verifier can rebuild
 * the body from the parsed values and insist that it is byte-identical. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "pki/pki_internal.h"

#define SUBJECT_MAX 256u

static bool needs_escape(uint8_t c) { return c <= 0x20 || c >= 0x7f || c == '%'; }

/* Writes the canonical body into out (cap bytes); returns its length or 0. */
static size_t body_of(char *out, size_t cap, const sk_audit_entry *e)
{
    static const char UHEX[] = "0123456789ABCDEF";
    sk_tm tm;
    char serial[2 * SK_SERIAL_MAX_LEN + 1];
    const char *event = e->event == SK_AUDIT_ISSUE    ? "ISSUE"
                        : e->event == SK_AUDIT_REVOKE ? "REVOKE"
                                                      : NULL;
    if (event == NULL || e->seq == 0 || sk_time_split(&tm, e->time) != SK_OK || tm.year < 1970 ||
        sk_serial_to_hex(serial, sizeof serial, &e->serial) != SK_OK || e->serial.bytes[0] == 0)
        return 0;
    const char *reason = "-";
    if (e->event == SK_AUDIT_REVOKE) {
        reason = sk_crl_reason_name(e->reason);
        if (reason == NULL)
            return 0;
    }
    int n = snprintf(out, cap, "%llu %04d-%02d-%02dT%02d:%02d:%02dZ %s %s ",
                     (unsigned long long)e->seq, tm.year, tm.mon, tm.day, tm.hour, tm.min,
                     tm.sec, event, serial);
    if (n < 0 || (size_t)n >= cap)
        return 0;
    size_t o = (size_t)n;
    const char *subj = e->subject;
    size_t sl = subj != NULL ? strlen(subj) : 0;
    if (sl > SUBJECT_MAX)
        return 0;
    if (sl == 0) {
        if (o + 1 >= cap)
            return 0;
        out[o++] = '-';
    } else if (sl == 1 && subj[0] == '-') {
        if (o + 3 >= cap)
            return 0;
        memcpy(out + o, "%2D", 3);
        o += 3;
    } else {
        for (size_t i = 0; i < sl; i++) {
            uint8_t c = (uint8_t)subj[i];
            if (o + 3 >= cap)
                return 0;
            if (needs_escape(c)) {
                out[o++] = '%';
                out[o++] = UHEX[c >> 4];
                out[o++] = UHEX[c & 15];
            } else {
                out[o++] = (char)c;
            }
        }
    }
    size_t rl = strlen(reason);
    if (o + 1 + rl >= cap)
        return 0;
    out[o++] = ' ';
    memcpy(out + o, reason, rl);
    o += rl;
    out[o] = '\0';
    return o;
}

static void chain_hash(uint8_t out[32], const uint8_t prev[32], const char *body, size_t len)
{
    uint8_t buf[32 + SK_AUDIT_MAX_LINE];
    memcpy(buf, prev, 32);
    memcpy(buf + 32, body, len);
    sk_hash_compute(SK_HASH_SHA256, out, buf, 32 + len);
}

int sk_audit_append(char *line, size_t cap, size_t *written, uint8_t next_hash[SK_AUDIT_HASH_LEN],
                    const uint8_t prev_hash[SK_AUDIT_HASH_LEN], const sk_audit_entry *entry)
{
    if (written == NULL)
        return SK_ERR_ARG;
    *written = 0;
    if (line == NULL || next_hash == NULL || prev_hash == NULL || entry == NULL)
        return SK_ERR_ARG;
    char body[SK_AUDIT_MAX_LINE];
    size_t bl = body_of(body, SK_AUDIT_MAX_LINE - 2 * 65 - 1, entry);
    if (bl == 0)
        return SK_ERR_ARG;
    uint8_t h[32];
    chain_hash(h, prev_hash, body, bl);
    char ph[65], nh[65];
    sodium_bin2hex(ph, sizeof ph, prev_hash, 32);
    sodium_bin2hex(nh, sizeof nh, h, 32);
    size_t need = bl + 1 + 64 + 1 + 64 + 1;
    *written = need;
    if (cap < need + 1)
        return SK_ERR_BUFFER_TOO_SMALL;
    snprintf(line, cap, "%s %s %s\n", body, ph, nh);
    memcpy(next_hash, h, 32);
    return SK_OK;
}

/* ----------------------------------------------------------- verifying */

/* Decodes a hash field: exactly 64 hex digits, in lower case, the only
 * spelling the log writes (decoding and writing again must give the field). */
static int unhex32(uint8_t out[32], const char *s, size_t len)
{
    char canon[65];
    size_t got = 0;
    const char *end = NULL;
    if (len != 64 || sodium_hex2bin(out, 32, s, len, NULL, &got, &end) != 0 || got != 32 ||
        end != s + len)
        return SK_ERR_AUDIT;
    sodium_bin2hex(canon, sizeof canon, out, 32);
    return memcmp(canon, s, len) == 0 ? SK_OK : SK_ERR_AUDIT;
}

static int parse_uint(uint64_t *v, const char *s, size_t len)
{
    if (len == 0 || len > 19 || (s[0] == '0' && len > 1))
        return SK_ERR_AUDIT;
    *v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return SK_ERR_AUDIT;
        *v = *v * 10 + (uint64_t)(s[i] - '0');
    }
    return SK_OK;
}

static int parse_num(int *v, const char *s, size_t n)
{
    *v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return SK_ERR_AUDIT;
        *v = *v * 10 + (s[i] - '0');
    }
    return SK_OK;
}

static int parse_time(int64_t *t, const char *s, size_t len)
{
    sk_tm tm;
    if (len != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
        s[16] != ':' || s[19] != 'Z' || parse_num(&tm.year, s, 4) != SK_OK ||
        parse_num(&tm.mon, s + 5, 2) != SK_OK || parse_num(&tm.day, s + 8, 2) != SK_OK ||
        parse_num(&tm.hour, s + 11, 2) != SK_OK || parse_num(&tm.min, s + 14, 2) != SK_OK ||
        parse_num(&tm.sec, s + 17, 2) != SK_OK)
        return SK_ERR_AUDIT;
    *t = sk_time_join(&tm);
    /* Round trip rejects impossible dates (Feb 30, hour 24, ...). */
    sk_tm back;
    if (sk_time_split(&back, *t) != SK_OK || memcmp(&back, &tm, sizeof tm) != 0)
        return SK_ERR_AUDIT;
    return SK_OK;
}

/* A digit of a subject's percent escape: upper case only, as body_of writes
 * them. */
static int hexdigit(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Checks one line (without its '\n'); on success updates *prev, *seq, *last. */
static int verify_line(uint8_t prev[32], uint64_t *seq, int64_t *last, const char *line,
                       size_t len)
{
    const char *f[8];
    size_t fl[8];
    size_t nf = 0, start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || line[i] == ' ') {
            if (nf == 8)
                return SK_ERR_AUDIT;
            f[nf] = line + start;
            fl[nf++] = i - start;
            start = i + 1;
        }
    }
    if (nf != 8)
        return SK_ERR_AUDIT;
    sk_audit_entry e;
    memset(&e, 0, sizeof e);
    if (parse_uint(&e.seq, f[0], fl[0]) != SK_OK || e.seq != *seq + 1)
        return SK_ERR_AUDIT;
    if (parse_time(&e.time, f[1], fl[1]) != SK_OK || e.time < *last)
        return SK_ERR_AUDIT;
    if (fl[2] == 5 && memcmp(f[2], "ISSUE", 5) == 0)
        e.event = SK_AUDIT_ISSUE;
    else if (fl[2] == 6 && memcmp(f[2], "REVOKE", 6) == 0)
        e.event = SK_AUDIT_REVOKE;
    else
        return SK_ERR_AUDIT;
    char serial[2 * SK_SERIAL_MAX_LEN + 1];
    if (fl[3] == 0 || fl[3] >= sizeof serial)
        return SK_ERR_AUDIT;
    memcpy(serial, f[3], fl[3]);
    serial[fl[3]] = '\0';
    if (sk_serial_from_hex(&e.serial, serial) != SK_OK)
        return SK_ERR_AUDIT;
    char subject[SUBJECT_MAX + 1];
    size_t sl = 0;
    if (!(fl[4] == 1 && f[4][0] == '-')) {
        for (size_t i = 0; i < fl[4]; i++) {
            uint8_t c = (uint8_t)f[4][i];
            if (sl == SUBJECT_MAX)
                return SK_ERR_AUDIT;
            if (c == '%') {
                int hi = i + 2 < fl[4] ? hexdigit(f[4][i + 1]) : -1;
                int lo = i + 2 < fl[4] ? hexdigit(f[4][i + 2]) : -1;
                if (hi < 0 || lo < 0)
                    return SK_ERR_AUDIT;
                c = (uint8_t)(hi << 4 | lo);
                i += 2;
            }
            subject[sl++] = (char)c;
        }
        if (sl == 0 || memchr(subject, 0, sl) != NULL)
            return SK_ERR_AUDIT;
    }
    subject[sl] = '\0';
    e.subject = subject;
    if (e.event == SK_AUDIT_REVOKE) {
        char reason[32];
        if (fl[5] == 0 || fl[5] >= sizeof reason)
            return SK_ERR_AUDIT;
        memcpy(reason, f[5], fl[5]);
        reason[fl[5]] = '\0';
        if (sk_crl_reason_parse(&e.reason, reason) != SK_OK)
            return SK_ERR_AUDIT;
    }
    /* The body rebuilt from the values must be exactly the line's. */
    char body[SK_AUDIT_MAX_LINE];
    size_t bl = body_of(body, sizeof body, &e);
    size_t given = (size_t)(f[6] - line) - 1;
    if (bl == 0 || bl != given || memcmp(body, line, bl) != 0)
        return SK_ERR_AUDIT;
    uint8_t ph[32], h[32], want[32];
    if (unhex32(ph, f[6], fl[6]) != SK_OK || unhex32(h, f[7], fl[7]) != SK_OK)
        return SK_ERR_AUDIT;
    if (memcmp(ph, prev, 32) != 0)
        return SK_ERR_AUDIT;
    chain_hash(want, prev, body, bl);
    if (memcmp(want, h, 32) != 0)
        return SK_ERR_AUDIT;
    memcpy(prev, h, 32);
    *seq = e.seq;
    *last = e.time;
    return SK_OK;
}

int sk_audit_verify(size_t *bad_line, uint8_t head[SK_AUDIT_HASH_LEN], uint64_t *count,
                    const char *log, size_t len)
{
    if (bad_line != NULL)
        *bad_line = 0;
    if (head != NULL)
        memset(head, 0, SK_AUDIT_HASH_LEN);
    if (count != NULL)
        *count = 0;
    if (log == NULL && len != 0)
        return SK_ERR_ARG;
    uint8_t prev[32] = {0};
    uint64_t seq = 0;
    int64_t last = 0;
    size_t lineno = 0, pos = 0;
    while (pos < len) {
        lineno++;
        const char *nl = memchr(log + pos, '\n', len - pos);
        size_t ll = nl != NULL ? (size_t)(nl - (log + pos)) : len - pos;
        if (nl == NULL || ll >= SK_AUDIT_MAX_LINE ||
            verify_line(prev, &seq, &last, log + pos, ll) != SK_OK) {
            if (bad_line != NULL)
                *bad_line = lineno;
            return SK_ERR_AUDIT;
        }
        pos += ll + 1;
    }
    if (head != NULL)
        memcpy(head, prev, 32);
    if (count != NULL)
        *count = seq;
    return SK_OK;
}
