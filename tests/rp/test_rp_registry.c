/* SPDX-License-Identifier: Apache-2.0 */
/* test_rp_registry.c - the relying-party registry (rp_registry.h):
 * - UUIDs: 8-4-4-4-12 hex digits of either case, kept in lower case;
 *   anything else refused;
 * - names: 1-32 bytes of printable UTF-8;
 * - a saved registry reads back the same; a missing file is empty;
 * - a malformed file (not JSON, a missing or bad field, a UUID twice, an
 *   unknown level or purpose, a rate of 0) is refused with a message and
 *   no entries. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rp_registry.h"
#include "splitkey/splitkey.h"
#include "testutil.h"

static void test_uuid(void)
{
    uint8_t b[16];
    char t[SK_RP_UUID_LEN + 1];
    CHECK(sk_rp_uuid_parse(b, t, "1F1BFA89-4f8b-420a-a98e-fb3a161a30bc"));
    CHECK(strcmp(t, "1f1bfa89-4f8b-420a-a98e-fb3a161a30bc") == 0);
    CHECK(b[0] == 0x1f && b[15] == 0xbc);
    CHECK(!sk_rp_uuid_parse(b, t, "1f1bfa894f8b420aa98efb3a161a30bc"));
    CHECK(!sk_rp_uuid_parse(b, t, "1f1bfa89-4f8b-420a-a98e-fb3a161a30b"));
    CHECK(!sk_rp_uuid_parse(b, t, "1f1bfa89-4f8b-420a-a98e-fb3a161a30bcd"));
    CHECK(!sk_rp_uuid_parse(b, t, "1f1bfa89-4f8b-420a-a98e-fb3a161a30bg"));
    CHECK(!sk_rp_uuid_parse(b, t, "1f1bfa89+4f8b-420a-a98e-fb3a161a30bc"));
    CHECK(!sk_rp_uuid_parse(b, t, NULL));
}

static void test_names(void)
{
    CHECK(sk_rp_name_ok("DEMO"));
    CHECK(sk_rp_name_ok("Bank \xc3\xa4"));
    CHECK(sk_rp_name_ok("12345678901234567890123456789012"));
    CHECK(!sk_rp_name_ok("123456789012345678901234567890123"));
    CHECK(!sk_rp_name_ok(""));
    CHECK(!sk_rp_name_ok("tab\there"));
    CHECK(!sk_rp_name_ok("bad \xc3"));
}

static int write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return -1;
    fputs(text, f);
    return fclose(f);
}

static void test_round_trip(const char *path)
{
    sk_rp_entry *rps = NULL;
    size_t n = 99;
    char err[256] = "";
    unlink(path);
    CHECK_OK(sk_rp_registry_load(&rps, &n, path, err, sizeof err));
    CHECK(n == 0 && rps != NULL);
    memset(&rps[0], 0, sizeof rps[0]);
    CHECK(sk_rp_uuid_parse(rps[0].uuid_bin, rps[0].uuid, "1f1bfa89-4f8b-420a-a98e-fb3a161a30bc"));
    rps[0].n_names = 2;
    strcpy(rps[0].names[0], "DEMO");
    strcpy(rps[0].names[1], "Demo Bank");
    memset(rps[0].cert_sha256, 0xab, 32);
    rps[0].levels = SK_RP_LEVEL_QUALIFIED;
    rps[0].purposes = SK_RP_PURPOSE_AUTH | SK_RP_PURPOSE_CERTCHOICE;
    rps[0].rate = 7;
    rps[0].pending = 9;
    memset(&rps[1], 0, sizeof rps[1]);
    CHECK(sk_rp_uuid_parse(rps[1].uuid_bin, rps[1].uuid, "2a4c6f10-0b7e-4d9a-9c43-6f1e2d3c4b5a"));
    rps[1].n_names = 1;
    strcpy(rps[1].names[0], "Portal");
    rps[1].by_address = true;
    rps[1].n_addrs = 2;
    strcpy(rps[1].addrs[0], "192.0.2.10");
    strcpy(rps[1].addrs[1], "2001:db8::1");
    rps[1].levels = SK_RP_LEVEL_ADVANCED | SK_RP_LEVEL_QUALIFIED;
    rps[1].purposes = SK_RP_PURPOSE_SIGN;
    rps[1].rate = 1;
    rps[1].pending = 1;
    CHECK_OK(sk_rp_registry_save(path, rps, 2));
    sk_rp_entry *back = NULL;
    size_t nb = 0;
    CHECK_OK(sk_rp_registry_load(&back, &nb, path, err, sizeof err));
    CHECK(nb == 2);
    if (nb == 2)
        CHECK(memcmp(back, rps, 2 * sizeof *rps) == 0);
    const sk_rp_entry *e = sk_rp_registry_find(back, nb, "2a4c6f10-0b7e-4d9a-9c43-6f1e2d3c4b5a");
    CHECK(e != NULL && e->by_address && strcmp(e->addrs[1], "2001:db8::1") == 0);
    CHECK(sk_rp_registry_find(back, nb, "00000000-0000-4000-8000-000000000000") == NULL);
    free(back);
    free(rps);
}

static void test_malformed(const char *path)
{
    static const char *const bad[] = {
        "not json",
        "[]",
        "{\"relying_parties\": {}}",
        /* a missing uuid */
        "{\"relying_parties\": [{\"names\": [\"A\"], \"credential\": \"certificate\", "
        "\"cert_sha256\": \"" "abababababababababababababababababababababababababababababababab"
        "\", \"levels\": [\"ADVANCED\"], \"purposes\": [\"auth\"], \"rate\": 1, \"pending\": 1}]}",
        /* a short hash */
        "{\"relying_parties\": [{\"uuid\": \"1f1bfa89-4f8b-420a-a98e-fb3a161a30bc\", "
        "\"names\": [\"A\"], \"credential\": \"certificate\", \"cert_sha256\": \"abab\", "
        "\"levels\": [\"ADVANCED\"], \"purposes\": [\"auth\"], \"rate\": 1, \"pending\": 1}]}",
        /* an unknown level */
        "{\"relying_parties\": [{\"uuid\": \"1f1bfa89-4f8b-420a-a98e-fb3a161a30bc\", "
        "\"names\": [\"A\"], \"credential\": \"address\", \"addresses\": [\"127.0.0.1\"], "
        "\"levels\": [\"SUPREME\"], \"purposes\": [\"auth\"], \"rate\": 1, \"pending\": 1}]}",
        /* a rate of 0 */
        "{\"relying_parties\": [{\"uuid\": \"1f1bfa89-4f8b-420a-a98e-fb3a161a30bc\", "
        "\"names\": [\"A\"], \"credential\": \"address\", \"addresses\": [\"127.0.0.1\"], "
        "\"levels\": [\"ADVANCED\"], \"purposes\": [\"auth\"], \"rate\": 0, \"pending\": 1}]}",
        /* an unknown credential */
        "{\"relying_parties\": [{\"uuid\": \"1f1bfa89-4f8b-420a-a98e-fb3a161a30bc\", "
        "\"names\": [\"A\"], \"credential\": \"password\", "
        "\"levels\": [\"ADVANCED\"], \"purposes\": [\"auth\"], \"rate\": 1, \"pending\": 1}]}",
        /* a UUID twice */
        "{\"relying_parties\": [{\"uuid\": \"1f1bfa89-4f8b-420a-a98e-fb3a161a30bc\", "
        "\"names\": [\"A\"], \"credential\": \"address\", \"addresses\": [\"127.0.0.1\"], "
        "\"levels\": [\"ADVANCED\"], \"purposes\": [\"auth\"], \"rate\": 1, \"pending\": 1}, "
        "{\"uuid\": \"1F1BFA89-4f8b-420a-a98e-fb3a161a30bc\", "
        "\"names\": [\"B\"], \"credential\": \"address\", \"addresses\": [\"127.0.0.1\"], "
        "\"levels\": [\"ADVANCED\"], \"purposes\": [\"auth\"], \"rate\": 1, \"pending\": 1}]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        sk_rp_entry *rps = (sk_rp_entry *)1;
        size_t n = 99;
        char err[256] = "";
        CHECK(write_file(path, bad[i]) == 0);
        CHECK_RC(-200 /* SK_SVC_ERR_CONFIG */, sk_rp_registry_load(&rps, &n, path, err,
                                                                    sizeof err));
        CHECK(rps == NULL && n == 0);
        CHECK(strstr(err, path) != NULL);
    }
}

static void test_words(void)
{
    unsigned b = 0;
    char t[64];
    CHECK(sk_rp_levels_parse(&b, "qualified,ADVANCED") && b == 3);
    CHECK(!sk_rp_levels_parse(&b, "QSCD"));
    CHECK(!sk_rp_levels_parse(&b, ""));
    CHECK(sk_rp_purposes_parse(&b, "sign,certchoice") && b == 6);
    CHECK(!sk_rp_purposes_parse(&b, "sign,,auth"));
    sk_rp_purposes_text(t, sizeof t, 7);
    CHECK(strcmp(t, "auth,sign,certchoice") == 0);
    sk_rp_levels_text(t, sizeof t, SK_RP_LEVEL_QUALIFIED);
    CHECK(strcmp(t, "QUALIFIED") == 0);
}

int main(void)
{
    char path[] = "/tmp/sk-rp-registry-XXXXXX";
    int fd = mkstemp(path);
    sk_test_init();
    CHECK(fd >= 0);
    if (fd >= 0)
        close(fd);
    test_uuid();
    test_names();
    test_words();
    test_round_trip(path);
    test_malformed(path);
    unlink(path);
    return sk_test_done("test_rp_registry");
}
