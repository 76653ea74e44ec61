/* SPDX-License-Identifier: Apache-2.0 */
/* test_config.c - flags and config files, file helpers, server.pub. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "fileio.h"
#include "server_pub.h"
#include "splitkey/splitkey.h"
#include "svc_error.h"
#include "svctest.h"
#include "testutil.h"

static char *tmp;

struct vals {
    char *dir, *listen, *name;
    bool flag;
    unsigned n;
};

static void table(sk_opt *o, struct vals *v)
{
    memset(v, 0, sizeof *v);
    v->n = 7;
    sk_opt t[] = {
        {.name = "dir", .type = SK_OPT_DIR, .value = &v->dir, .flags = SK_OPT_FLAG_ONLY},
        {.name = "listen", .type = SK_OPT_URL, .value = &v->listen, .flags = SK_OPT_REQUIRED},
        {.name = "name", .type = SK_OPT_STRING, .value = &v->name},
        {.name = "flag", .type = SK_OPT_BOOL, .value = &v->flag},
        {.name = "n", .type = SK_OPT_UINT, .value = &v->n, .min = 1, .max = 10},
        {0},
    };
    memcpy(o, t, sizeof t);
}

static int parse(const char *const *args, int argc, const char *file, char *err)
{
    sk_opt o[6];
    struct vals v;
    table(o, &v);
    int rc = sk_config_parse_args(o, NULL, argc, (char **)args, 0, err, 256);
    if (rc == SK_OK && file != NULL)
        rc = sk_config_parse_file(o, file, err, 256);
    if (rc == SK_OK)
        rc = sk_config_validate(o, err, 256);
    sk_config_free(o);
    return rc;
}

static void test_flags_and_files(void)
{
    char err[256];
    sk_opt o[6];
    struct vals v;

    const char *ok[] = {"--listen", "tcp://127.0.0.1:0", "--name=x y", "--flag", "--n", "3"};
    table(o, &v);
    CHECK_OK(sk_config_parse_args(o, NULL, 6, (char **)ok, 0, err, sizeof err));
    CHECK_OK(sk_config_validate(o, err, sizeof err));
    CHECK(v.flag && v.n == 3 && strcmp(v.name, "x y") == 0);
    sk_config_free(o);
    CHECK(v.name == NULL);

    const char *help[] = {"--listen", "tcp://127.0.0.1:1", "--help"};
    CHECK_RC(SK_SVC_HELP, parse(help, 3, NULL, err));

    struct {
        const char *args[4];
        int argc;
        const char *want; /* part of the message */
    } bad[] = {
        {{"--listen", "tcp://127.0.0.1:1", "--bogus"}, 3, "unknown option --bogus"},
        {{"--listen"}, 1, "needs a value"},
        {{"--listen", "tcp://127.0.0.1"}, 2, "bad URL"},
        {{"--listen", "http://127.0.0.1:80"}, 2, "bad URL"},
        {{"--listen", "tcp://127.0.0.1:99999"}, 2, "bad URL"},
        {{"--listen", "not a url"}, 2, "bad URL"},
        {{"--name", "x"}, 2, "missing --listen"},
        {{"--listen", "ipc:///tmp/x", "--n", "11"}, 4, "from 1 to 10"},
        {{"--listen", "ipc:///tmp/x", "--n", "2x"}, 4, "from 1 to 10"},
        {{"--listen", "ipc:///tmp/x", "--n", "-1"}, 4, "not a number"},
        {{"--listen", "ipc:///tmp/x", "--dir", "/nonexistent/sk"}, 4, "no such directory"},
        {{"--listen", "ipc:///tmp/x", "stray"}, 3, "unexpected argument"},
        {{"--listen", "ipc:///tmp/x", "--flag=maybe"}, 3, "true or false"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        int rc = parse(bad[i].args, bad[i].argc, NULL, err);
        CHECK(rc == SK_SVC_ERR_CONFIG);
        CHECK(strstr(err, bad[i].want) != NULL);
        if (strstr(err, bad[i].want) == NULL)
            fprintf(stderr, "case %zu: message \"%s\"\n", i, err);
    }
    CHECK(sk_svc_exit_code(SK_SVC_ERR_CONFIG) == 2);
    CHECK(sk_svc_exit_code(SK_OK) == 0);
    CHECK(sk_svc_exit_code(SK_ERR_STORE) == 1);

    /* config file: flags win; comments; errors name file and line */
    char *conf = sv_path(tmp, "a.conf");
    CHECK(sv_write(conf, "# comment\n\nlisten = tcp://127.0.0.1:5\nname = from file\n"
                         "  n=4  \nflag = yes\n") == 0);
    const char *args[] = {"--name", "from flag"};
    table(o, &v);
    CHECK_OK(sk_config_parse_args(o, NULL, 2, (char **)args, 0, err, sizeof err));
    CHECK_OK(sk_config_parse_file(o, conf, err, sizeof err));
    CHECK_OK(sk_config_validate(o, err, sizeof err));
    CHECK(strcmp(v.name, "from flag") == 0 && strcmp(v.listen, "tcp://127.0.0.1:5") == 0);
    CHECK(v.n == 4 && v.flag);
    sk_config_free(o);

    struct {
        const char *text, *want;
    } badfiles[] = {
        {"listen = tcp://127.0.0.1:5\nbogus = 1\n", ":2: unknown key \"bogus\""},
        {"dir = /tmp\n", "unknown key \"dir\""}, /* flag only */
        {"listen = tcp://127.0.0.1:5\njust text\n", ":2: expected"},
        {"listen = nowhere\n", "bad URL"},
        {"n = 0\n", "a.conf:1: n: expected a number"}, /* FILE:LINE: message */
    };
    for (size_t i = 0; i < sizeof badfiles / sizeof badfiles[0]; i++) {
        CHECK(sv_write(conf, badfiles[i].text) == 0);
        err[0] = '\0';
        CHECK(parse(NULL, 0, conf, err) == SK_SVC_ERR_CONFIG);
        CHECK(strstr(err, badfiles[i].want) != NULL);
        if (strstr(err, badfiles[i].want) == NULL)
            fprintf(stderr, "file case %zu: message \"%s\"\n", i, err);
    }
    char *missing = sv_path(tmp, "missing.conf");
    CHECK(parse(NULL, 0, missing, err) == SK_SVC_ERR_CONFIG && strstr(err, "no such file"));
    free(missing);
    free(conf);
}

static size_t count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    size_t n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    if (d)
        closedir(d);
    return n;
}

static void test_files(void)
{
    char *dir = sv_path(tmp, "files");
    CHECK(mkdir(dir, 0700) == 0);
    char *p = sv_path(dir, "secret");
    mode_t old = umask(0);
    CHECK_OK(sk_file_write_atomic(p, (const uint8_t *)"abc", 3, SK_FILE_SECRET_MODE, 0));
    umask(old);
    CHECK(sv_mode(p) == 0600); /* the umask does not widen it */
    CHECK_RC(SK_SVC_ERR_EXISTS,
             sk_file_write_atomic(p, (const uint8_t *)"xyz", 3, 0600, SK_FILE_NO_REPLACE));
    uint8_t *buf;
    size_t len;
    CHECK_OK(sk_file_read(&buf, &len, p, 100, SK_FILE_SECRET));
    CHECK(len == 3 && memcmp(buf, "abc", 3) == 0 && buf[3] == 0);
    sk_file_free(buf, len);
    /* replace */
    CHECK_OK(sk_file_write_atomic(p, (const uint8_t *)"defg", 4, 0600, 0));
    CHECK_OK(sk_file_read(&buf, &len, p, 100, 0));
    CHECK(len == 4 && memcmp(buf, "defg", 4) == 0);
    sk_file_free(buf, len);
    CHECK(count_entries(dir) == 1); /* no temporary files left */
    CHECK_RC(SK_ERR_LIMIT, sk_file_read(&buf, &len, p, 3, 0));
    CHECK(buf == NULL && len == 0);
    chmod(p, 0644);
    CHECK_RC(SK_SVC_ERR_PERM, sk_file_read(&buf, &len, p, 100, SK_FILE_SECRET));
    CHECK_OK(sk_file_read(&buf, &len, p, 100, 0));
    sk_file_free(buf, len);
    char *none = sv_path(dir, "none");
    CHECK_RC(SK_ERR_NOT_FOUND, sk_file_read(&buf, &len, none, 100, 0));
    CHECK_RC(SK_SVC_ERR_IO, sk_file_read(&buf, &len, dir, 100, 0)); /* a directory */
    char *nodir = sv_path(dir, "no/such/file");
    CHECK_RC(SK_SVC_ERR_IO, sk_file_write_atomic(nodir, (const uint8_t *)"x", 1, 0600, 0));
    CHECK(count_entries(dir) == 1);
    free(nodir);
    free(none);
    free(p);
    free(dir);
}

static void test_server_pub(void)
{
    sk_server_pub pub, back;
    for (size_t i = 0; i < 32; i++) {
        pub.kx_pub[i] = (uint8_t)i;
        pub.sign_pub[i] = (uint8_t)(0xF0 ^ i);
    }
    char text[SK_SERVER_PUB_MAX];
    CHECK_OK(sk_server_pub_format(text, sizeof text, &pub));
    CHECK_OK(sk_server_pub_parse(&back, text, strlen(text)));
    CHECK(memcmp(&pub, &back, sizeof pub) == 0);
    CHECK_RC(SK_ERR_BUFFER_TOO_SMALL, sk_server_pub_format(text, 100, &pub));
    CHECK_OK(sk_server_pub_format(text, sizeof text, &pub));

    char bad[SK_SERVER_PUB_MAX];
    /* each variant must be refused */
    const char *edits[][2] = {
        {"format: splitkey-server-pub-1", "format: splitkey-server-pub-2"},
        {"kx-x25519: 00", "kx-x25519: 0g"},
        {"kx-x25519: ", "kx-x25519: 00"},   /* one byte too long */
        {"sign-ed25519: ", "kx-x25519: "},  /* duplicate kx, sign missing */
        {"sign-ed25519: ", "sign-ed25519 "},/* no colon */
        {"sign-ed25519: ", "colour: blue\nsign-ed25519: "},
    };
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        const char *at = strstr(text, edits[i][0]);
        CHECK(at != NULL);
        if (at == NULL)
            continue;
        size_t pre = (size_t)(at - text);
        snprintf(bad, sizeof bad, "%.*s%s%s", (int)pre, text, edits[i][1],
                 at + strlen(edits[i][0]));
        CHECK_RC(SK_ERR_KEY_FORMAT, sk_server_pub_parse(&back, bad, strlen(bad)));
    }
    /* the format line must come first */
    const char *body = strstr(text, "kx-x25519");
    snprintf(bad, sizeof bad, "%sformat: splitkey-server-pub-1\n", body);
    CHECK_RC(SK_ERR_KEY_FORMAT, sk_server_pub_parse(&back, bad, strlen(bad)));
    CHECK_RC(SK_ERR_KEY_FORMAT, sk_server_pub_parse(&back, "", 0));
}

int main(void)
{
    sk_test_init();
    tmp = sv_tmpdir("config");
    test_flags_and_files();
    test_files();
    test_server_pub();
    sv_rmtree(tmp);
    free(tmp);
    return sk_test_done("test_svc_config");
}
