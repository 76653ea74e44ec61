/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
/* e2e_store.c - splitkey-bench's store comparison: the same signing load
 * against splitkey-server on SQLite and on PostgreSQL (--pg-uri).
 *
 * Two server directories are initialised in a temporary directory (a
 * directory is bound to one store): one runs a server on an SQLite file,
 * the other two servers on the PostgreSQL database given.  E2E_ST_CLIENTS
 * keys are enrolled on each store (--pool-size 0: the server key is made
 * during the enrolment, unmeasured).  Each round then runs the three
 * set-ups one after the other, the order rotating from round to round:
 *   SQLite, 1 server          every client on the SQLite server;
 *   PostgreSQL, 1 server      every client on the first PostgreSQL server;
 *   PostgreSQL, 2 servers     the clients shared between the two.
 * Each client signs per_client times back to back (session create,
 * approval with the device partial computed here, signature read) on its
 * own connection.  A round's rate is its signatures over its wall time;
 * the ratio to SQLite is taken per round and its median reported, as for
 * the worker ratios.  Every signature is verified (sk_verify) outside the
 * timed part.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "bench.h"
#include "child.h"
#include "devdrive.h"

enum { SRV_SQLITE, SRV_PG_A, SRV_PG_B, N_SRV };

typedef struct st_run {
    char dir[PATH_MAX];
    pid_t pid[N_SRV];
    char url[N_SRV][256];
    sk_dev_config cfg[N_SRV];
    sk_dev dev[2][E2E_ST_CLIENTS]; /* per store (0 SQLite, 1 PostgreSQL), per client */
    unsigned per_client;
    int error;
} st_run;

static bool st_failed(const st_run *s, const char *what, const char *log)
{
    return bench_child_failed("store comparison", s->dir, what, log);
}

/* `splitkey-server init --dir DIR/name`. */
static bool st_init(st_run *s, const char *bin, const char *name)
{
    char d[PATH_MAX + 16], log[32];
    snprintf(d, sizeof d, "%s/%s", s->dir, name);
    snprintf(log, sizeof log, "init-%s.log", name);
    char *argv[] = {(char *)bin, (char *)"init", (char *)"--dir", d, NULL};
    pid_t pid = bench_spawn(s->dir, bin, argv, log);
    if (pid < 0 || bench_wait_exit(pid, 60000) != 0)
        return st_failed(s, "splitkey-server init failed", log);
    return true;
}

static bool st_start(st_run *s, const char *bin, int i, const char *name, const char *db)
{
    char d[PATH_MAX + 16], ready[PATH_MAX + 32], log[32], w[16];
    snprintf(d, sizeof d, "%s/%s", s->dir, name);
    snprintf(ready, sizeof ready, "%s/ready-%d", s->dir, i);
    snprintf(log, sizeof log, "server-%d.log", i);
    snprintf(w, sizeof w, "%u", E2E_ST_WORKERS);
    char *argv[] = {(char *)bin,       (char *)"run",
                    (char *)"--dir",   d,
                    (char *)"--listen", (char *)"tcp://127.0.0.1:0",
                    (char *)"--ready-file", ready,            (char *)"--db",
                    (char *)db,        (char *)"--open-enrolment", (char *)"--workers",
                    w,                 (char *)"--pool-size", (char *)"0",
                    NULL};
    pid_t pid = bench_spawn(s->dir, bin, argv, log);
    if (pid < 0)
        return st_failed(s, "cannot fork", log);
    s->pid[i] = pid;
    for (unsigned waited = 0; waited < 60000; waited += 10) {
        FILE *f = fopen(ready, "r");
        if (f != NULL) {
            bool got = fgets(s->url[i], sizeof s->url[i], f) != NULL;
            fclose(f);
            s->url[i][strcspn(s->url[i], "\r\n")] = '\0';
            if (got && s->url[i][0] != '\0')
                return true;
        }
        int st = 0;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            s->pid[i] = 0;
            return st_failed(s, "the server exited while starting", log);
        }
        bench_sleep_ms(10);
    }
    return st_failed(s, "the server did not become ready in 60 s", log);
}

static void st_stop_all(st_run *s)
{
    for (int i = 0; i < N_SRV; i++) {
        if (s->pid[i] <= 0)
            continue;
        kill(s->pid[i], SIGTERM);
        if (bench_wait_exit(s->pid[i], 10000) < 0) {
            kill(s->pid[i], SIGKILL);
            waitpid(s->pid[i], NULL, 0);
        }
        s->pid[i] = 0;
    }
}

/* Removes DIR and everything under it (two levels: the server directories). */
static void st_remove(const char *dir)
{
    pid_t pid = fork();
    if (pid == 0) {
        char *argv[] = {(char *)"rm", (char *)"-rf", (char *)dir, NULL};
        execvp("rm", argv);
        _exit(127);
    }
    if (pid > 0)
        waitpid(pid, NULL, 0);
}

/* ---------------------------------------------------------- the signing */

typedef struct st_client {
    st_run *s;
    sk_dev *d;
    unsigned index, round, setup;
    pthread_t th;
    uint8_t (*sigs)[SK_MAX_SIG_LEN];
    size_t *lens;
    int rc;
} st_client;

static void st_digest(uint8_t digest[32], const st_client *c, unsigned j)
{
    char text[128];
    snprintf(text, sizeof text, "store comparison %08x setup %u round %u client %u message %u",
             c->d->cfg->run_tag, c->setup, c->round, c->index, j);
    if (sk_digest(digest, 32, SK_HASH_SHA256, (const uint8_t *)text, strlen(text)) != SK_OK)
        memset(digest, 0, 32); /* SHA-256 of a short text does not fail */
}

static void *st_client_main(void *p)
{
    st_client *c = p;
    c->rc = SK_OK;
    for (unsigned j = 0; j < c->s->per_client && c->rc == SK_OK; j++) {
        uint8_t digest[32];
        st_digest(digest, c, j);
        c->lens[j] = 0;
        c->rc = sk_dev_sign(c->d, digest, c->d->pin, c->sigs[j], &c->lens[j], NULL);
    }
    return NULL;
}

/* One set-up's share of a round: signatures per second, or < 0. */
static double st_measure(st_run *s, unsigned setup, unsigned round)
{
    st_client cl[E2E_ST_CLIENTS];
    int store = setup == E2E_ST_SQLITE ? 0 : 1;
    memset(cl, 0, sizeof cl);
    for (unsigned i = 0; i < E2E_ST_CLIENTS; i++) {
        sk_dev *d = &s->dev[store][i];
        /* which server this client talks to in this set-up */
        int srv = setup == E2E_ST_SQLITE ? SRV_SQLITE
                  : setup == E2E_ST_PG1  ? SRV_PG_A
                                         : (i % 2 ? SRV_PG_B : SRV_PG_A);
        if (d->cfg != &s->cfg[srv]) {
            d->cfg = &s->cfg[srv];
            if (sk_dev_reconnect(d) != SK_OK)
                return -1;
        }
        cl[i] = (st_client){.s = s, .d = d, .index = i, .round = round, .setup = setup};
        cl[i].sigs = calloc(s->per_client, SK_MAX_SIG_LEN);
        cl[i].lens = calloc(s->per_client, sizeof(size_t));
        if (cl[i].sigs == NULL || cl[i].lens == NULL)
            return -1;
    }
    uint64_t t0 = sk_dev_mono_us();
    unsigned started = 0;
    for (; started < E2E_ST_CLIENTS; started++)
        if (pthread_create(&cl[started].th, NULL, st_client_main, &cl[started]) != 0)
            break;
    for (unsigned i = 0; i < started; i++)
        pthread_join(cl[i].th, NULL);
    double secs = (double)(sk_dev_mono_us() - t0) / 1e6;
    bool ok = started == E2E_ST_CLIENTS;
    /* every signature verified, outside the timed part */
    for (unsigned i = 0; i < E2E_ST_CLIENTS; i++) {
        sk_pubkey *pk = NULL;
        ok = ok && cl[i].rc == SK_OK && sk_device_key_pubkey(cl[i].d->key, &pk) == SK_OK;
        for (unsigned j = 0; ok && j < s->per_client; j++) {
            uint8_t digest[32];
            st_digest(digest, &cl[i], j);
            ok = sk_verify(pk, SK_SCHEME_PKCS1, SK_HASH_SHA256, digest, 32, cl[i].sigs[j],
                           cl[i].lens[j]) == SK_OK;
        }
        if (cl[i].rc != SK_OK)
            fprintf(stderr, "\nsplitkey-bench: store comparison: %s: %s\n",
                    e2e_store_names[setup], sk_strerror(cl[i].rc));
        sk_pubkey_free(pk);
        free(cl[i].sigs);
        free(cl[i].lens);
    }
    if (!ok || secs <= 0)
        return -1;
    return (double)(E2E_ST_CLIENTS * s->per_client) / secs;
}

bool e2e_store_run(e2e_store_result *r, sk_profile profile, const char *server_bin,
                   const char *pg_uri, bool quick)
{
    memset(r, 0, sizeof *r);
    for (int k = 0; k < E2E_ST_N; k++) {
        r->rate[k].name = e2e_store_names[k];
        r->over_sqlite[k].name = e2e_store_names[k];
    }
    if (pg_uri == NULL) {
        r->note = "PostgreSQL not available: no --pg-uri given (bench/README.md)";
        return true;
    }
    st_run *s = calloc(1, sizeof *s);
    if (s == NULL)
        return false;
    r->rounds = quick ? 3 : 7;
    r->per_client = s->per_client = quick ? 4 : profile == SK_PROFILE_8K ? 6 : 12;
    const char *tmp = getenv("TMPDIR");
    snprintf(s->dir, sizeof s->dir, "%s/splitkey-bench-store-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    bool ok = mkdtemp(s->dir) != NULL;
    char sqlite_db[PATH_MAX + 32];
    snprintf(sqlite_db, sizeof sqlite_db, "sqlite:%s/sq/server.db", s->dir);
    ok = ok && st_init(s, server_bin, "sq") && st_init(s, server_bin, "pg") &&
         st_start(s, server_bin, SRV_SQLITE, "sq", sqlite_db) &&
         st_start(s, server_bin, SRV_PG_A, "pg", pg_uri) &&
         st_start(s, server_bin, SRV_PG_B, "pg", pg_uri);
    uint32_t tag = randombytes_random();
    for (int i = 0; ok && i < N_SRV; i++) {
        char pub[PATH_MAX + 32];
        snprintf(pub, sizeof pub, "%s/%s/server.pub", s->dir, i == SRV_SQLITE ? "sq" : "pg");
        s->cfg[i] = (sk_dev_config){.url = s->url[i], .profile = profile,
                                    .scheme = SK_SCHEME_PKCS1, .hash = SK_HASH_SHA256,
                                    .timeout_ms = 120000, .give_up_s = 300, .run_tag = tag};
        ok = sk_dev_config_load_server_pub(&s->cfg[i], pub) == SK_OK;
    }
    /* the keys: E2E_ST_CLIENTS per store, enrolled through the first server */
    for (int st = 0; ok && st < 2; st++)
        for (unsigned i = 0; ok && i < E2E_ST_CLIENTS; i++) {
            sk_dev *d = &s->dev[st][i];
            ok = sk_dev_open(d, &s->cfg[st == 0 ? SRV_SQLITE : SRV_PG_A], SK_PURPOSE_SIGN) ==
                     SK_OK &&
                 sk_dev_enrol(d, 900u + 10u * (unsigned)st + i) == SK_OK;
            if (!ok)
                fprintf(stderr, "\nsplitkey-bench: store comparison: enrolment on %s failed\n",
                        st == 0 ? "SQLite" : "PostgreSQL");
        }
    for (unsigned round = 0; ok && round < r->rounds; round++) {
        double rate[E2E_ST_N];
        for (unsigned k = 0; ok && k < E2E_ST_N; k++) {
            unsigned setup = (round + k) % E2E_ST_N; /* the order rotates */
            fprintf(stderr, "\r[%s] store comparison %-22s round %u/%u ",
                    sk_profile_name(profile), e2e_store_names[setup], round + 1, r->rounds);
            rate[setup] = st_measure(s, setup, round);
            ok = rate[setup] > 0;
        }
        for (unsigned k = 0; ok && k < E2E_ST_N; k++) {
            series_add(&r->rate[k], rate[k]);
            series_add(&r->over_sqlite[k], rate[k] / rate[E2E_ST_SQLITE]);
            r->signatures[k] += (unsigned long)E2E_ST_CLIENTS * s->per_client;
        }
    }
    fprintf(stderr, "\r%60s\r", "");
    for (int st = 0; st < 2; st++)
        for (unsigned i = 0; i < E2E_ST_CLIENTS; i++)
            sk_dev_close(&s->dev[st][i]);
    if (!ok)
        for (int i = 0; i < N_SRV; i++) {
            char log[32];
            snprintf(log, sizeof log, "server-%d.log", i);
            if (s->pid[i] > 0)
                st_failed(s, i == SRV_SQLITE ? "the SQLite server's log" : "a PostgreSQL server's log",
                          log);
        }
    st_stop_all(s);
    st_remove(s->dir);
    free(s);
    r->ran = ok;
    if (!ok)
        r->note = "failed: see the messages above";
    return ok;
}

void e2e_store_free(e2e_store_result *r)
{
    for (int k = 0; k < E2E_ST_N; k++) {
        series_free(&r->rate[k]);
        series_free(&r->over_sqlite[k]);
    }
}
