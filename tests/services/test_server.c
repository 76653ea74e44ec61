/* SPDX-License-Identifier: Apache-2.0 */
/* test_server.c - the real splitkey-server program: init, configuration
 * errors, serving on a loopback port found at run time, malformed and
 * oversized requests, and shutdown on SIGTERM. */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "error_reply.h"
#include "fileio.h"
#include "req_client.h"
#include "server_pub.h"
#include "splitkey/splitkey.h"
#include "pool.h"
#include "seal.h"
#include "splitkey/key.h"
#include "store.h"
#include "svctest.h"
#include "testutil.h"

static const char *prog;
static char *tmp, *out_path, *err_path;

/* Runs prog with up to 16 arguments; returns its exit status. */
static int run(const char *a1, const char *a2, const char *a3, const char *a4, const char *a5,
               const char *a6, const char *a7, const char *a8)
{
    const char *argv[] = {prog, a1, a2, a3, a4, a5, a6, a7, a8, NULL};
    return sv_run((char *const *)argv, out_path, err_path);
}

static void test_help_and_init(const char *dir)
{
    CHECK(run("--help", NULL, NULL, NULL, NULL, NULL, NULL, NULL) == 0);
    CHECK(sv_file_contains(out_path, "usage: splitkey-server"));
    CHECK(run("init", "--help", NULL, NULL, NULL, NULL, NULL, NULL) == 0);
    CHECK(run("run", "--help", NULL, NULL, NULL, NULL, NULL, NULL) == 0);
    CHECK(sv_file_contains(out_path, "--listen URL"));
    CHECK(run("token", "--help", NULL, NULL, NULL, NULL, NULL, NULL) == 0);
    CHECK(run(NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL) == 2);
    CHECK(run("frobnicate", NULL, NULL, NULL, NULL, NULL, NULL, NULL) == 2);
    CHECK(run("init", NULL, NULL, NULL, NULL, NULL, NULL, NULL) == 2);
    CHECK(sv_file_contains(err_path, "missing --dir"));

    CHECK(run("init", "--dir", dir, NULL, NULL, NULL, NULL, NULL) == 0);
    const char *secret[] = {"master.key", "kx.key", "sign.key", "server.conf"};
    for (size_t i = 0; i < 4; i++) {
        char *p = sv_path(dir, secret[i]);
        CHECK(sv_mode(p) == 0600);
        free(p);
    }
    char *pub_path = sv_path(dir, "server.pub");
    CHECK(sv_mode(pub_path) == 0644);
    sk_server_pub pub;
    CHECK_OK(sk_server_pub_load(&pub, pub_path));

    /* the public file matches the secret keys */
    char *kx_path = sv_path(dir, "kx.key"), *sign_path = sv_path(dir, "sign.key");
    uint8_t *kx, *sg;
    size_t kl, sl;
    CHECK_OK(sk_file_read(&kx, &kl, kx_path, 100, SK_FILE_SECRET));
    CHECK_OK(sk_file_read(&sg, &sl, sign_path, 100, SK_FILE_SECRET));
    CHECK(kl == 32 && sl == 64);
    uint8_t pk[32];
    if (kl == 32) {
        crypto_scalarmult_base(pk, kx);
        CHECK(memcmp(pk, pub.kx_pub, 32) == 0);
    }
    if (sl == 64)
        CHECK(memcmp(sg + 32, pub.sign_pub, 32) == 0);

    /* a second init refuses and changes nothing */
    CHECK(run("init", "--dir", dir, NULL, NULL, NULL, NULL, NULL) == 2);
    CHECK(sv_file_contains(err_path, "refusing to overwrite"));
    uint8_t *kx2;
    size_t kl2;
    CHECK_OK(sk_file_read(&kx2, &kl2, kx_path, 100, SK_FILE_SECRET));
    CHECK(kl2 == kl && memcmp(kx, kx2, kl) == 0);
    sk_file_free(kx2, kl2);
    /* init refuses also when only some identity file is there */
    char *dir2 = sv_path(tmp, "partial");
    CHECK(run("init", "--dir", dir2, NULL, NULL, NULL, NULL, NULL) == 0);
    char *p2 = sv_path(dir2, "kx.key");
    remove(p2);
    CHECK(run("init", "--dir", dir2, NULL, NULL, NULL, NULL, NULL) == 2);
    CHECK(!sk_path_exists(p2));
    free(p2);
    free(dir2);

    sk_file_free(kx, kl);
    sk_file_free(sg, sl);
    free(kx_path);
    free(sign_path);
    free(pub_path);
}

static void test_bad_config(const char *dir)
{
    const char *L = "tcp://127.0.0.1:0";
    struct {
        const char *a[8];
        const char *msg;
    } cases[] = {
        {{"run", "--dir", dir, "--listen", L, "--bogus"}, "unknown option --bogus"},
        {{"run", "--dir", dir, "--listen", "tcp://127.0.0.1"}, "bad URL"},
        {{"run", "--dir", dir, "--listen", "carrier-pigeon://x"}, "bad URL"},
        {{"run", "--dir", dir}, "missing --listen"},
        {{"run", "--listen", L}, "missing --dir"},
        {{"run", "--dir", "/nonexistent/sk-dir", "--listen", L}, "no such directory"},
#ifndef SK_HAVE_POSTGRESQL /* built in, the URI is tried (pg_*.sh test that) */
        {{"run", "--dir", dir, "--listen", L, "--db", "postgresql://db/sk"}, "PostgreSQL"},
#endif
        {{"run", "--dir", dir, "--listen", L, "--db", "sqlite:/nonexistent/x/s.db"},
         "no such directory"},
        {{"run", "--dir", dir, "--listen", L, "--workers", "many"}, "not a number"},
        {{"run", "--dir", dir, "--listen", L, "--pool-profiles", "5K"}, "unknown profile"},
        {{"run", "--dir", dir, "--listen", L, "--config", "/nonexistent/sk.conf"},
         "/nonexistent/sk.conf: no such file"},
        {{"run", "--dir", dir, "--listen", L, "--ca", "ca.example"}, "bad URL"},
        {{"run", "--dir", dir, "--listen", L, "--config", dir}, "cannot read"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *const *a = cases[i].a;
        int st = run(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]);
        CHECK(st == 2);
        CHECK(sv_file_contains(err_path, cases[i].msg));
        if (st != 2 || !sv_file_contains(err_path, cases[i].msg))
            fprintf(stderr, "bad-config case %zu: exit %d\n", i, st);
    }
    /* a config file with an unknown key */
    char *conf = sv_path(tmp, "bad.conf");
    CHECK(sv_write(conf, "workers = 2\ncolour = blue\n") == 0);
    CHECK(run("run", "--dir", dir, "--listen", L, "--config", conf, NULL) == 2);
    CHECK(sv_file_contains(err_path, "unknown key \"colour\""));
    free(conf);
    /* a master key readable by others is refused */
    char *mk = sv_path(dir, "master.key");
    chmod(mk, 0644);
    CHECK(run("run", "--dir", dir, "--listen", L, NULL, NULL, NULL) == 2);
    CHECK(sv_file_contains(err_path, "master.key"));
    chmod(mk, 0600);
    free(mk);
    /* a directory without an identity */
    char *empty = sv_path(tmp, "empty");
    CHECK(mkdir(empty, 0700) == 0);
    CHECK(run("run", "--dir", empty, "--listen", L, NULL, NULL, NULL) == 2);
    CHECK(sv_file_contains(err_path, "init"));
    free(empty);
}

static int reply_code(sk_req_client *c, const uint8_t *msg, size_t len)
{
    uint8_t *rep;
    size_t rl;
    int code = 0;
    if (sk_req_client_call(c, &rep, &rl, msg, len) != SK_OK)
        return 1;
    if (sk_error_reply_decode(&code, rep, rl) != SK_OK)
        code = 2;
    free(rep);
    return code;
}

/* Connects to tcp://127.0.0.1:PORT with a plain socket, writes random
 * bytes instead of the SP handshake, and closes. */
static void raw_tcp_garbage(const char *url)
{
    int port = atoi(url + strlen("tcp://127.0.0.1:"));
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0);
    uint8_t junk[2000];
    randombytes_buf(junk, sizeof junk);
    ssize_t w = write(fd, junk, sizeof junk);
    (void)w;
    close(fd);
}

/* Waits until the server wrote its ready file or died; returns the URL
 * (malloc'd, without the newline) or NULL if the server exited. */
static char *wait_ready(pid_t pid, const char *ready)
{
    uint8_t *url = NULL;
    size_t ul = 0;
    while (sk_file_read(&url, &ul, ready, 512, 0) != SK_OK) {
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid)
            return NULL;
        sv_sleep_ms(20);
    }
    if (ul > 0 && url[ul - 1] == '\n')
        url[ul - 1] = '\0';
    return (char *)url;
}

static void test_serve_and_stop(const char *dir)
{
    char *ready = sv_path(tmp, "ready"), *log = sv_path(tmp, "server.log");
    char *db = sv_path(tmp, "s.db");
    char dburi[4200];
    snprintf(dburi, sizeof dburi, "sqlite:%s", db);
    const char *argv[] = {prog, "run", "--dir", dir, "--listen", "tcp://127.0.0.1:0",
                          "--ready-file", ready, "--db", dburi, "--pool-size", "0",
                          "--workers", "2", "--max-request", "1024", NULL};
    pid_t pid = sv_spawn((char *const *)argv, NULL, log);
    CHECK(pid > 0);
    char *url = wait_ready(pid, ready);
    CHECK(url != NULL);
    if (url == NULL)
        return;
    CHECK(strncmp(url, "tcp://127.0.0.1:", 16) == 0 && strcmp(url + 16, "0") != 0);

    sk_req_client *c;
    CHECK_OK(sk_req_client_open(&c, url, 30000, 0));
    uint8_t garbage[300];
    randombytes_buf(garbage, sizeof garbage);
    CHECK(reply_code(c, garbage, sizeof garbage) < 0); /* an error frame */
    CHECK(reply_code(c, NULL, 0) == SK_ERR_PROTO_DECODE);
    static uint8_t big[1025];
    CHECK(reply_code(c, big, sizeof big) == SK_ERR_LIMIT);
    CHECK(reply_code(c, garbage, 10) < 0); /* still serving */
    /* a peer that does not speak the SP protocol at all is dropped */
    raw_tcp_garbage(url);
    CHECK(reply_code(c, garbage, 20) < 0);
    const char marker[] = "PIN=83921 OTP=c0ffee-marker";
    CHECK(reply_code(c, (const uint8_t *)marker, sizeof marker - 1) < 0);
    sk_req_client_close(c);
    CHECK(sv_file_contains(log, "listening on tcp://127.0.0.1:"));
    CHECK(sv_file_contains(log, "req kind=unknown key=- outcome=-75"));
    CHECK(!sv_file_contains(log, "83921") && !sv_file_contains(log, "c0ffee"));

    CHECK(kill(pid, SIGTERM) == 0);
    CHECK(sv_wait(pid) == 0);
    CHECK(sv_file_contains(log, "stopped"));
    /* the store was created and migrated, and bad input wrote nothing */
    sk_store *st = NULL;
    CHECK_OK(sk_store_open(&st, dburi));
    int version = 0;
    CHECK_OK(sk_store_schema_version(st, &version));
    CHECK(version == sk_store_schema_latest());
    sk_event *evs = NULL;
    size_t nev = 1;
    CHECK_OK(sk_store_events(st, NULL, &evs, &nev, NULL, 0, 0));
    CHECK(nev == 0);
    free(evs);
    sk_store_close(st);

    /* SIGINT works the same way */
    remove(ready);
    free(url);
    pid = sv_spawn((char *const *)argv, NULL, log);
    url = wait_ready(pid, ready);
    CHECK(url != NULL);
    CHECK(kill(pid, SIGINT) == 0);
    CHECK(sv_wait(pid) == 0);

    free(url);
    free(db);
    free(ready);
    free(log);
}

/* The running program keeps its server-key pool filled: the pooled key
 * opens with DIR/master.key under its pool id and imports as a key of the
 * configured profile. */
static void test_pool_refill(const char *dir)
{
    char *ready = sv_path(tmp, "ready2"), *log = sv_path(tmp, "pool.log");
    char *db = sv_path(tmp, "pool.db");
    char dburi[4200];
    snprintf(dburi, sizeof dburi, "sqlite:%s", db);
    const char *argv[] = {prog, "run", "--dir", dir, "--listen", "tcp://127.0.0.1:0",
                          "--ready-file", ready, "--db", dburi, "--pool-size", "2",
                          "--pool-profiles", "4K", "--new-store", NULL};
    /* a second, empty database for a directory that has served one: only
     * with --new-store */
    pid_t pid = sv_spawn((char *const *)argv, NULL, log);
    char *url = wait_ready(pid, ready);
    CHECK(url != NULL);
    if (url == NULL)
        return;
    sk_store *st = NULL;
    CHECK_OK(sk_store_open(&st, dburi));
    size_t count = 0;
    int rc = SK_OK;
    while (st != NULL && rc == SK_OK && count < 2) {
        sv_sleep_ms(50);
        rc = sk_store_pool_count(st, NULL, &count, SK_PROFILE_4K);
        if (rc == SK_ERR_STORE_BUSY)
            rc = SK_OK;
    }
    CHECK(count == 2);
    CHECK(kill(pid, SIGTERM) == 0);
    CHECK(sv_wait(pid) == 0);
    CHECK(sv_file_contains(log, "server-key pool: added a 4K key"));

    char *mk_path = sv_path(dir, "master.key");
    sk_master_key *mk = NULL;
    CHECK_OK(sk_master_key_load(&mk, mk_path));
    sk_server_key *key = NULL;
    if (st != NULL && mk != NULL) {
        CHECK_OK(sk_pool_take_key(st, NULL, mk, SK_PROFILE_4K, &key));
        CHECK(key != NULL && sk_server_key_profile(key) == SK_PROFILE_4K);
        CHECK_OK(sk_store_pool_count(st, NULL, &count, SK_PROFILE_4K));
        CHECK(count == 1);
    }
    sk_server_key_free(key);
    sk_master_key_free(mk);
    sk_store_close(st);
    free(mk_path);
    free(url);
    free(db);
    free(ready);
    free(log);
}

int main(int argc, char **argv)
{
    sk_test_init();
    if (argc < 2) {
        fprintf(stderr, "usage: test_svc_server PATH-TO-splitkey-server\n");
        return 1;
    }
    prog = argv[1];
    tmp = sv_tmpdir("server");
    out_path = sv_path(tmp, "out.txt");
    err_path = sv_path(tmp, "err.txt");
    char *dir = sv_path(tmp, "srv");
    test_help_and_init(dir);
    test_bad_config(dir);
    test_serve_and_stop(dir);
    test_pool_refill(dir);
    free(dir);
    free(out_path);
    free(err_path);
    sv_rmtree(tmp);
    free(tmp);
    return sk_test_done("test_svc_server");
}
