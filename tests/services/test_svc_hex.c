/* SPDX-License-Identifier: Apache-2.0 */
/* test_svc_hex.c - the services' hex text (svc_hex.h) and its users:
 * - sk_svc_hex writes lower case, exactly 2 * len digits and a NUL;
 * - sk_svc_unhex takes exactly 2 * len digits of either case and nothing
 *   else: an odd or a wrong length, a character that is not a hex digit
 *   (a NUL included) and trailing garbage are refused, and out is zeroed;
 * - cu_unhex (the client's session and key ids) and server.pub's key lines
 *   follow the same rules. */
#include <stdlib.h>
#include <string.h>

#include "cliutil.h"
#include "server_pub.h"
#include "splitkey/splitkey.h"
#include "svc_hex.h"
#include "testutil.h"

static const uint8_t BYTES[4] = {0x00, 0xab, 0x7f, 0xff};

static void test_encode(void)
{
    char out[2 * sizeof BYTES + 2];
    memset(out, 'z', sizeof out);
    sk_svc_hex(out, BYTES, sizeof BYTES);
    CHECK(memcmp(out, "00ab7fff", 9) == 0);
    CHECK(out[9] == 'z'); /* nothing past the NUL */
    memset(out, 'z', sizeof out);
    sk_svc_hex(out, BYTES, 0);
    CHECK(out[0] == '\0' && out[1] == 'z');

    char cu[2 * sizeof BYTES + 1];
    cu_hex(cu, BYTES, sizeof BYTES);
    CHECK(strcmp(cu, "00ab7fff") == 0);
}

/* Decodes text (of text_len bytes) into 4 bytes and expects refusal with a
 * zeroed output. */
static void expect_refused(const char *text, size_t text_len)
{
    uint8_t out[sizeof BYTES];
    memset(out, 0x55, sizeof out);
    int rc = sk_svc_unhex(out, sizeof out, text, text_len);
    static const uint8_t zero[sizeof BYTES] = {0};
    CHECK(rc == SK_ERR_ARG && memcmp(out, zero, sizeof out) == 0);
    if (rc != SK_ERR_ARG)
        fprintf(stderr, "  \"%.*s\" (%zu bytes) was accepted\n", (int)text_len, text, text_len);
}

static void test_decode(void)
{
    uint8_t out[sizeof BYTES];

    /* either case, and mixed */
    static const char *const good[] = {"00ab7fff", "00AB7FFF", "00aB7fFf"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        memset(out, 0x55, sizeof out);
        CHECK_OK(sk_svc_unhex(out, sizeof out, good[i], strlen(good[i])));
        CHECK(memcmp(out, BYTES, sizeof out) == 0);
    }
    /* the length given is what counts: no NUL is needed after it */
    CHECK_OK(sk_svc_unhex(out, sizeof out, "00ab7fffGARBAGE", 8));
    CHECK(memcmp(out, BYTES, sizeof out) == 0);
    CHECK_OK(sk_svc_unhex(out, 0, "", 0));

    /* odd and wrong lengths */
    expect_refused("00ab7ff", 7);
    expect_refused("00ab7fff0", 9);
    expect_refused("00ab7f", 6);
    expect_refused("", 0);
    /* not a hex digit, at the start, inside, at the end */
    expect_refused("g0ab7fff", 8);
    expect_refused("00ag7fff", 8);
    expect_refused("00ab7ffG", 8);
    expect_refused("0xab7fff", 8);
    expect_refused("00ab 7ff", 8);
    expect_refused("00ab7ff\n", 8);
    expect_refused("00ab\0fff", 8);
    expect_refused(" 0ab7fff", 8);
    /* trailing garbage after the right number of digits */
    expect_refused("00ab7fff ", 9);
    expect_refused("00ab7fffx", 9);
    expect_refused("00ab7fff\n", 9);
    expect_refused("00ab7fff0000", 12);
    /* sodium's "ignore" characters are not ignored here */
    expect_refused("00:ab:7f:ff", 11);
    expect_refused("00 ab 7f ff", 11);
}

static void test_cu_unhex(void)
{
    uint8_t out[sizeof BYTES];
    CHECK_OK(cu_unhex(out, sizeof out, "00ab7fff"));
    CHECK(memcmp(out, BYTES, sizeof out) == 0);
    CHECK_OK(cu_unhex(out, sizeof out, "00AB7FFF"));
    CHECK(memcmp(out, BYTES, sizeof out) == 0);
    static const char *const bad[] = {"00ab7ff", "00ab7fff0", "00ab7fff ", " 00ab7fff",
                                      "00ab7ffz", "0xab7fff", "", "00ab-7ff"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_RC(SK_ERR_ARG, cu_unhex(out, sizeof out, bad[i]));
}

/* server.pub with the kx line's value replaced by kx. */
static int parse_with_kx(sk_server_pub *back, const char *kx)
{
    char text[SK_SERVER_PUB_MAX];
    snprintf(text, sizeof text,
             "format: " SK_SERVER_PUB_FORMAT "\n"
             "kx-x25519: %s\n"
             "sign-ed25519: "
             "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n",
             kx);
    return sk_server_pub_parse(back, text, strlen(text));
}

static void test_server_pub(void)
{
    static const char *const kx = "f0e1d2c3b4a5968778695a4b3c2d1e0ff0e1d2c3b4a5968778695a4b3c2d1e0f";
    sk_server_pub a, b;
    CHECK_OK(parse_with_kx(&a, kx));
    CHECK(a.kx_pub[0] == 0xf0 && a.kx_pub[31] == 0x0f && a.sign_pub[31] == 0x1f);

    /* upper case reads the same key; the written form is lower case */
    char upper[65];
    for (size_t i = 0; i < 65; i++)
        upper[i] = kx[i] >= 'a' && kx[i] <= 'f' ? (char)(kx[i] - 'a' + 'A') : kx[i];
    CHECK_OK(parse_with_kx(&b, upper));
    CHECK(memcmp(&a, &b, sizeof a) == 0);
    char text[SK_SERVER_PUB_MAX];
    CHECK_OK(sk_server_pub_format(text, sizeof text, &b));
    CHECK(strstr(text, kx) != NULL);

    /* an odd count, one digit short or long, a non-hex digit, garbage */
    char v[80];
    snprintf(v, sizeof v, "%.63s", kx);
    CHECK_RC(SK_ERR_KEY_FORMAT, parse_with_kx(&b, v));
    snprintf(v, sizeof v, "%s0", kx);
    CHECK_RC(SK_ERR_KEY_FORMAT, parse_with_kx(&b, v));
    snprintf(v, sizeof v, "%s00", kx);
    CHECK_RC(SK_ERR_KEY_FORMAT, parse_with_kx(&b, v));
    snprintf(v, sizeof v, "%.62sxg", kx);
    CHECK_RC(SK_ERR_KEY_FORMAT, parse_with_kx(&b, v));
    snprintf(v, sizeof v, "%s x", kx);
    CHECK_RC(SK_ERR_KEY_FORMAT, parse_with_kx(&b, v));
    snprintf(v, sizeof v, "%.30s %.32s", kx, kx + 32);
    CHECK_RC(SK_ERR_KEY_FORMAT, parse_with_kx(&b, v));
    /* the refusal leaves nothing behind */
    static const sk_server_pub zero;
    CHECK(memcmp(&b, &zero, sizeof b) == 0);
    /* spaces around the value are not part of it */
    snprintf(v, sizeof v, "  %s  ", kx);
    CHECK_OK(parse_with_kx(&b, v));
    CHECK(memcmp(&a, &b, sizeof a) == 0);
}

int main(void)
{
    sk_test_init();
    test_encode();
    test_decode();
    test_cu_unhex();
    test_server_pub();
    return sk_test_done("test_svc_hex");
}
