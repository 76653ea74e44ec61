/* SPDX-License-Identifier: Apache-2.0 */
/* test_pki_hex.c - the spelling rules of the PKI's hex and percent-escaped
 * text, one rule per check:
 * - serial numbers (sk_serial_from_hex / sk_serial_to_hex): either case, an
 *   optional 0x, an odd digit count (right-aligned), nothing else; the text
 *   form is lower case of exactly 2 * len digits;
 * - the audit log's hash fields: exactly 64 lower-case digits; its serial
 *   field: the canonical lower case; its subject escapes: %XX in upper case;
 * - the OCSP GET path: %XX of either case, exactly two digits. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "splitkey/pki.h"
#include "splitkey/splitkey.h"
#include "testutil.h"

#define NOW 1795000000LL

/* ---------------------------------------------------------------- serials */

static void test_serial_from_hex(void)
{
    sk_serial s;
    char hex[2 * SK_SERIAL_MAX_LEN + 1];

    /* upper case is accepted and the text form is lower case */
    CHECK_OK(sk_serial_from_hex(&s, "ABCDEF"));
    CHECK(s.len == 3 && s.bytes[0] == 0xab && s.bytes[1] == 0xcd && s.bytes[2] == 0xef);
    CHECK_OK(sk_serial_to_hex(hex, sizeof hex, &s));
    CHECK(strcmp(hex, "abcdef") == 0);
    CHECK_OK(sk_serial_from_hex(&s, "aBcDeF"));
    CHECK(s.len == 3 && s.bytes[0] == 0xab && s.bytes[2] == 0xef);

    /* an odd count is right-aligned; 0x and 0X and leading zeros are dropped */
    CHECK_OK(sk_serial_from_hex(&s, "1"));
    CHECK(s.len == 1 && s.bytes[0] == 0x01);
    CHECK_OK(sk_serial_from_hex(&s, "0X00123"));
    CHECK(s.len == 2 && s.bytes[0] == 0x01 && s.bytes[1] == 0x23);
    CHECK_OK(sk_serial_from_hex(&s, "000000000000000000000000000000000000000000000000007f"));
    CHECK(s.len == 1 && s.bytes[0] == 0x7f);

    /* the longest value: 2 * SK_SERIAL_MAX_LEN digits; one more is refused */
    char longest[2 * SK_SERIAL_MAX_LEN + 2];
    memset(longest, 'f', 2 * SK_SERIAL_MAX_LEN);
    longest[2 * SK_SERIAL_MAX_LEN] = '\0';
    CHECK_OK(sk_serial_from_hex(&s, longest));
    CHECK(s.len == SK_SERIAL_MAX_LEN && s.bytes[0] == 0xff &&
          s.bytes[SK_SERIAL_MAX_LEN - 1] == 0xff);
    longest[2 * SK_SERIAL_MAX_LEN] = '1';
    longest[2 * SK_SERIAL_MAX_LEN + 1] = '\0';
    CHECK_RC(SK_ERR_ARG, sk_serial_from_hex(&s, longest));

    /* a character that is not a hex digit, wherever it is, and trailing
     * garbage are refused, and the serial is left empty */
    static const char *const bad[] = {
        "",     "0x",     "0",     "000",   "g",      "g1",     "1g",    "12g4",  "1234 ",
        " 1234", "12 34", "1234\n", "12-34", "+1234", "0x0x12", "x12",  "12h",   "ab:cd",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&s, 0x55, sizeof s);
        int rc = sk_serial_from_hex(&s, bad[i]);
        CHECK(rc == SK_ERR_ARG);
        CHECK(s.len == 0 && s.bytes[0] == 0);
        if (rc != SK_ERR_ARG)
            fprintf(stderr, "  serial \"%s\" was accepted\n", bad[i]);
    }

    /* the text form needs exactly 2 * len + 1 bytes */
    CHECK_OK(sk_serial_from_hex(&s, "0a0b0c"));
    CHECK_RC(SK_ERR_ARG, sk_serial_to_hex(hex, 6, &s));
    memset(hex, 'z', sizeof hex);
    CHECK_OK(sk_serial_to_hex(hex, 7, &s));
    CHECK(memcmp(hex, "0a0b0c", 7) == 0);
}

/* -------------------------------------------------------------- audit log */

static char good_log[2 * SK_AUDIT_MAX_LINE];
static size_t good_len, line2;

/* Two entries: the second's prev_hash is the first's hash, so both hash
 * fields of line 2 have letters in them (checked). */
static void build_log(void)
{
    uint8_t prev[32] = {0}, next[32];
    size_t w;
    sk_audit_entry e;
    memset(&e, 0, sizeof e);
    e.seq = 1;
    e.time = NOW;
    e.event = SK_AUDIT_ISSUE;
    e.serial.len = 3;
    e.serial.bytes[0] = 0xab;
    e.serial.bytes[1] = 0xcd;
    e.serial.bytes[2] = 0xef;
    e.subject = "C=LV,CN=\xc4\x80"; /* written as %C4%80 */
    CHECK_OK(sk_audit_append(good_log, sizeof good_log, &w, next, prev, &e));
    line2 = w;
    memcpy(prev, next, 32);
    e.seq = 2;
    e.time = NOW + 60;
    e.subject = "C=LV,CN=B";
    CHECK_OK(sk_audit_append(good_log + w, sizeof good_log - w, &w, next, prev, &e));
    good_len = line2 + w;
    CHECK(strstr(good_log, " abcdef ") != NULL);
    CHECK(strstr(good_log, "%C4%80") != NULL);
}

/* Start of field f (0-based) of the line at off. */
static size_t field_at(size_t off, int f)
{
    while (f-- > 0)
        off = (size_t)(strchr(good_log + off, ' ') - good_log) + 1;
    return off;
}

static bool has_letter(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] >= 'a' && s[i] <= 'f')
            return true;
    return false;
}

/* Copies the log with bytes [at, at + cut) replaced by ins, and expects
 * sk_audit_verify to refuse it at line want_line. */
static void expect_refused(const char *what, size_t at, size_t cut, const char *ins,
                           size_t want_line)
{
    static char copy[3 * SK_AUDIT_MAX_LINE];
    size_t il = strlen(ins), bad = 0;
    memcpy(copy, good_log, at);
    memcpy(copy + at, ins, il);
    memcpy(copy + at + il, good_log + at + cut, good_len - at - cut);
    int rc = sk_audit_verify(&bad, NULL, NULL, copy, good_len - cut + il);
    CHECK(rc == SK_ERR_AUDIT && bad == want_line);
    if (rc != SK_ERR_AUDIT || bad != want_line)
        fprintf(stderr, "  audit log with %s: rc %d, line %zu\n", what, rc, bad);
}

static void test_audit_fields(void)
{
    size_t bad;
    uint64_t count;
    build_log();
    CHECK_OK(sk_audit_verify(&bad, NULL, &count, good_log, good_len));
    CHECK(count == 2);

    size_t prev2 = field_at(line2, 6), hash2 = field_at(line2, 7);
    CHECK(hash2 - prev2 == 65);
    CHECK(has_letter(good_log + prev2, 64) && has_letter(good_log + hash2, 64));

    /* upper case in either hash field */
    char upper[65];
    memcpy(upper, good_log + prev2, 64);
    upper[64] = '\0';
    for (size_t i = 0; i < 64; i++)
        if (upper[i] >= 'a' && upper[i] <= 'f')
            upper[i] = (char)(upper[i] - 'a' + 'A');
    expect_refused("an upper-case prev_hash", prev2, 64, upper, 2);
    memcpy(upper, good_log + hash2, 64);
    for (size_t i = 0; i < 64; i++)
        if (upper[i] >= 'a' && upper[i] <= 'f') {
            upper[i] = (char)(upper[i] - 'a' + 'A'); /* one digit is enough */
            break;
        }
    expect_refused("one upper-case digit in the hash", hash2, 64, upper, 2);

    /* odd length (63 digits), one digit too many, trailing garbage */
    expect_refused("a 63-digit hash", hash2 + 63, 1, "", 2);
    expect_refused("a 63-digit prev_hash", prev2 + 63, 1, "", 2);
    expect_refused("a 65-digit hash", hash2 + 64, 0, "0", 2);
    expect_refused("a hash with trailing garbage", hash2 + 64, 0, "x", 2);
    expect_refused("a hash followed by a ninth field", hash2 + 64, 0, " 00", 2);
    expect_refused("a 66-digit prev_hash", prev2 + 64, 0, "00", 2);
    expect_refused("an empty hash", hash2, 64, "", 2);

    /* a character that is not a hex digit */
    expect_refused("'g' in the hash", hash2 + 10, 1, "g", 2);
    expect_refused("':' at the end of the hash", hash2 + 63, 1, ":", 2);
    expect_refused("'G' at the start of prev_hash", prev2, 1, "G", 2);
    {
        /* a NUL in place of a digit */
        static char copy[3 * SK_AUDIT_MAX_LINE];
        memcpy(copy, good_log, good_len);
        copy[hash2 + 5] = '\0';
        CHECK_RC(SK_ERR_AUDIT, sk_audit_verify(&bad, NULL, NULL, copy, good_len));
        CHECK(bad == 2);
    }

    /* the serial field: upper case is not the canonical spelling */
    size_t ser1 = field_at(0, 3);
    expect_refused("an upper-case serial", ser1, 6, "ABCDEF", 1);
    expect_refused("a serial with a leading zero", ser1, 6, "0abcdef", 1);

    /* the subject's escapes: upper case, two digits */
    size_t esc = (size_t)(strstr(good_log, "%C4%80") - good_log);
    expect_refused("a lower-case escape", esc, 3, "%c4", 1);
    expect_refused("a non-hex escape", esc, 3, "%G4", 1);
    expect_refused("a one-digit escape at the end", esc + 3, 3, "%8", 1);
    expect_refused("a bare % at the end", esc + 3, 3, "%", 1);
}

/* ------------------------------------------------------------- OCSP GET */

static void test_ocsp_get_escapes(void)
{
    uint8_t out[16];
    size_t n = 0;
    /* "////" is the base64 of ff ff ff; its '/' may come escaped in either case */
    static const char *const same[] = {"////", "%2F%2F%2F%2F", "%2f%2f%2f%2f", "%2F/%2f/"};
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
        memset(out, 0, sizeof out);
        CHECK_OK(sk_ocsp_decode_get(out, sizeof out, &n, same[i], strlen(same[i])));
        CHECK(n == 3 && out[0] == 0xff && out[1] == 0xff && out[2] == 0xff);
    }
    static const char *const bad[] = {"%2G%2F%2F%2F", "%G2%2F%2F%2F", "///%2", "///%",
                                      "%%2F///",      "% 2F///",      "%+2F///"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_RC(SK_ERR_OCSP, sk_ocsp_decode_get(out, sizeof out, &n, bad[i], strlen(bad[i])));
}

int main(void)
{
    sk_test_init();
    test_serial_from_hex();
    test_audit_fields();
    test_ocsp_get_escapes();
    return sk_test_done("test_pki_hex");
}
