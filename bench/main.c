/* SPDX-License-Identifier: Apache-2.0 */
#define _POSIX_C_SOURCE 200809L
/* splitkey-bench (bench/README.md): each step of two-party signing
 * measured against baselines measured in the same run, interleaved round by
 * round so that machine noise hits both sides of every ratio.  Prints a
 * table; --json writes the same figures for auditors.  Targets are reported,
 * never asserted. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "report_json.h"

static const char *const item_help[IT_COUNT] = {
    "client key generation (n1, split)",
    "server key generation (n2, CRT)",
    "OpenSSL RSA keygen, k bits (same prime size)",
    "device partial signature y = EM^dc mod n1",
    "server completion (s1, s2, CRT, 3 checks)",
    "floor: same arithmetic bare with GMP",
    "floor with OpenSSL BN_mod_exp_mont_consttime",
    "whole signing in one process (+encode, verify)",
    "mbedTLS single-key CRT signature, 2k bits",
    "OpenSSL single-key signature, 2k bits"};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: splitkey-bench [--profile 4K|6K|8K[,...]] [--runs N] [--keygen-runs N]\n"
            "                      [--quick] [--json FILE] [--no-e2e] [--server-bin PATH]\n"
            "                      [--e2e-keys K] [--pg-uri URI]\n"
            "Measures key generation, device partial signing, server completion and whole\n"
            "signing for each profile, interleaved with baselines from the same run: the\n"
            "GMP floor, OpenSSL's constant-time floor, single-key RSA signatures at the\n"
            "composite size (mbedTLS, OpenSSL) and OpenSSL key generation.\n"
            "\n"
            "Then, end to end, against real splitkey-server processes (two on one SQLite\n"
            "database, with 1 and 2 workers, nng on loopback, a temporary directory removed\n"
            "afterwards), for 1, 2, 4 and 8 clients against each, every cell measured in\n"
            "rounds that alternate between the two servers:\n"
            "  enrolment   device enrol start to finish with its proof-of-possession\n"
            "              signature; the servers run with --pool-size 0, so the figure\n"
            "              includes the server's key generation during the request;\n"
            "  signing     each client signing back to back with its own key (session\n"
            "              create, approval with the device partial computed in the bench,\n"
            "              on the servers' cores); the 1-client 1-worker signings alternate\n"
            "              with whole signings in this process, the in-process baseline;\n"
            "  server throughput  every device partial computed ahead: the burst only\n"
            "              sends approvals; the servers' and the bench's CPU time per\n"
            "              signature are read around it, and the bare arithmetic is timed\n"
            "              on one thread and on two between the 8-client rounds.\n"
            "  --no-e2e          skip the end-to-end measurements\n"
            "  --server-bin PATH splitkey-server to run (default: next to this program)\n"
            "  --e2e-keys K      keys that sign, 8 to 256 (default 64; 32 at 8K; fewer with\n"
            "                    --quick); at least twice as many are enrolled over the enrolment grid\n"
            "  --pg-uri URI      also measure signing on PostgreSQL (postgresql://..., an empty\n"
            "                    database the bench may fill): one and two servers on it against\n"
            "                    one on SQLite, in turn round by round (bench/run_pg.sh starts a\n"
            "                    throw-away cluster and passes it); without it the PostgreSQL\n"
            "                    rows say \"not available\"\n");
}

static void progress(const char *profile, const char *what, unsigned i, unsigned n)
{
    fprintf(stderr, "\r[%s] %-8s %3u/%-3u", profile, what, i, n);
    fflush(stderr);
}

static double ms(double s) { return s * 1e3; }

#define TIME(series_ptr, ok_expr)                                                  \
    do {                                                                           \
        double t0_ = bench_now();                                                  \
        bool ok_ = (ok_expr);                                                      \
        double t1_ = bench_now();                                                  \
        if (ok_)                                                                   \
            series_add((series_ptr), t1_ - t0_);                                   \
    } while (0)

static bool client_keygen_once(sk_profile p)
{
    uint8_t ds[512];
    sk_client_share *cs = NULL;
    int rc = sk_client_keygen(&cs, ds, sk_profile_bits(p) / 8, p);
    sk_wipe(ds, sizeof ds);
    sk_client_share_free(cs);
    return rc == SK_OK;
}

static bool server_keygen_once(sk_profile p)
{
    sk_server_key *k = NULL;
    int rc = sk_server_keygen(&k, p);
    sk_server_key_free(k);
    return rc == SK_OK;
}

/* Device partial on a fresh copy of dc (the share is single-use). */
static bool partial_once(const bench_key *bk, uint8_t *y, const uint8_t *em, series *s)
{
    sk_client_share *cs = NULL;
    if (sk_client_share_from_parts(&cs, bk->k, bk->n1_bytes, bk->k / 8, bk->dc_bytes,
                                   SK_DC_LEN(bk->k)) != SK_OK)
        return false;
    TIME(s, sk_device_partial(cs, y, bk->k / 8, em, bk->k / 4) == SK_OK);
    sk_client_share_free(cs);
    return true;
}

static bool sign_whole(const bench_key *bk, const uint8_t *digest)
{
    size_t len = bk->k / 4, k8 = bk->k / 8;
    uint8_t em[SK_MAX_SIG_LEN], y[SK_MAX_SIG_LEN / 2], sig[SK_MAX_SIG_LEN];
    sk_client_share *cs = NULL;
    bool ok = sk_encode(em, len, SK_SCHEME_PKCS1, SK_HASH_SHA256, digest, 32, NULL, 0,
                        2 * bk->k) == SK_OK &&
              sk_client_share_from_parts(&cs, bk->k, bk->n1_bytes, k8, bk->dc_bytes,
                                         SK_DC_LEN(bk->k)) == SK_OK &&
              sk_device_partial(cs, y, k8, em, len) == SK_OK &&
              sk_server_complete(bk->ss, sig, len, y, k8, em, len) == SK_OK &&
              sk_verify(bk->pub, SK_SCHEME_PKCS1, SK_HASH_SHA256, digest, 32, sig, len) == SK_OK;
    sk_client_share_free(cs);
    return ok;
}

/* What the end-to-end part runs in this process, interleaved with its own
 * measurements: whole signings and the floor on one and two threads, with
 * the key of the in-process steps. */
typedef struct ref_ctx {
    bench_key bk;
    bool have_key;
    mpz_t m, y; /* an encoded message and its device partial, for the floor */
} ref_ctx;

static bool ref_sign(void *ctx, unsigned i)
{
    const ref_ctx *c = ctx;
    uint8_t digest[32];
    for (size_t j = 0; j < sizeof digest; j++)
        digest[j] = (uint8_t)(i * 17 + j * 3 + 1);
    return sign_whole(&c->bk, digest);
}

static double ref_floor(void *ctx, unsigned threads, unsigned per_thread)
{
    const ref_ctx *c = ctx;
    return floor_gmp_parallel(&c->bk, c->m, c->y, threads, per_thread);
}

static void ref_free(ref_ctx *c)
{
    if (c->have_key) {
        bench_key_free(&c->bk);
        mpz_clears(c->m, c->y, NULL);
    }
    c->have_key = false;
}

/* The in-process steps.  On success ref holds the key they used (free it
 * with ref_free()). */
static bool run_profile(profile_run *r, ref_ctx *ref, unsigned sign_runs, unsigned keygen_runs)
{
    const char *pn = sk_profile_name(r->profile);
    for (int i = 0; i < IT_COUNT; i++)
        r->s[i].name = item_names[i];
    unsigned k = sk_profile_bits(r->profile);

    /* Key generation, interleaved with OpenSSL's at the same prime size. */
    for (unsigned i = 0; i < keygen_runs; i++) {
        progress(pn, "keygen", i + 1, keygen_runs);
        TIME(&r->s[IT_CLIENT_KEYGEN], client_keygen_once(r->profile));
        TIME(&r->s[IT_SERVER_KEYGEN], server_keygen_once(r->profile));
        TIME(&r->s[IT_OPENSSL_KEYGEN], keygen_openssl(k));
    }

    progress(pn, "setup", 0, 1);
    bench_key *bk = &ref->bk;
    ref->have_key = true;
    mpz_inits(ref->m, ref->y, NULL);
    if (bench_key_init(bk, r->profile) != SK_OK) {
        ref_free(ref);
        fprintf(stderr, "\n[%s] key setup failed\n", pn);
        return false;
    }
    baselines *b = baselines_new(bk);
    size_t len = k / 4, k8 = k / 8;
    uint8_t digest[32], em[SK_MAX_SIG_LEN], y[SK_MAX_SIG_LEN / 2], sig[SK_MAX_SIG_LEN];
    mpz_t m, yz, s;
    mpz_inits(m, yz, s, NULL);
    bool ok = true;

    const unsigned warmup = 2;
    for (unsigned i = 0; i < warmup + sign_runs && ok; i++) {
        progress(pn, "signing", i + 1, warmup + sign_runs);
        for (size_t j = 0; j < sizeof digest; j++)
            digest[j] = (uint8_t)(i * 31 + j);
        ok = sk_encode(em, len, SK_SCHEME_PKCS1, SK_HASH_SHA256, digest, 32, NULL, 0, 2 * k) ==
             SK_OK;
        series scratch = {0};
        series *sp = i < warmup ? &scratch : NULL;
#define S(it) (sp ? sp : &r->s[it])
        ok = ok && partial_once(bk, y, em, S(IT_DEVICE_PARTIAL));
        TIME(S(IT_SERVER_COMPLETE), sk_server_complete(bk->ss, sig, len, y, k8, em, len) == SK_OK);
        sk_mpz_from_bytes(m, em, len);
        sk_mpz_from_bytes(yz, y, k8);
        TIME(S(IT_FLOOR_GMP), (floor_gmp(s, bk, m, yz), true));
        if (b != NULL) {
            TIME(S(IT_FLOOR_OPENSSL), floor_openssl(b, m, yz));
            TIME(S(IT_SINGLE_MBEDTLS), single_sign_mbedtls(b, digest));
            TIME(S(IT_SINGLE_OPENSSL), single_sign_openssl(b, digest));
        }
        TIME(S(IT_SIGN_IN_PROCESS), sign_whole(bk, digest));
#undef S
        series_free(&scratch);
    }
    fprintf(stderr, "\r%40s\r", "");
    mpz_set(ref->m, m); /* the last message and partial, for the parallel floor */
    mpz_set(ref->y, yz);
    mpz_clears(m, yz, s, NULL);
    baselines_free(b);
    if (!ok)
        ref_free(ref);
    r->ok = ok;
    return ok;
}

/* One row of the steps table: name, median, min, max, p99 (ms), n, what. */
static void print_step_row(const char *name, const series *s, const char *what)
{
    printf("%-24s %10.3f %10.3f %10.3f %10.3f %5zu  %s\n", name, ms(series_median(s)),
           ms(series_min(s)), ms(series_max(s)), ms(series_quantile(s, 0.99)), s->n, what);
}

static void print_grid(const char *title, const char *unit, const e2e_cell cells[E2E_NW][E2E_NC],
                       long cores)
{
    printf("  %s\n", title);
    printf("  %-20s %8s %8s %8s %9s %12s %12s %6s\n", "", "p50 ms", "p90 ms", "p99 ms", unit,
           "server cpu", "client cpu", "idle");
    for (int wi = 0; wi < E2E_NW; wi++)
        for (int ci = 0; ci < E2E_NC; ci++) {
            const e2e_cell *c = &cells[wi][ci];
            char row[32];
            snprintf(row, sizeof row, "%u worker%s, %u client%s", e2e_workers[wi],
                     e2e_workers[wi] > 1 ? "s" : "", e2e_clients[ci],
                     e2e_clients[ci] > 1 ? "s" : "");
            printf("  %-20s %8.2f %8.2f %8.2f %9.1f %9.2f ms %9.2f ms %5.1f%%\n", row,
                   ms(series_quantile(&c->lat, 0.5)), ms(series_quantile(&c->lat, 0.9)),
                   ms(series_quantile(&c->lat, 0.99)), e2e_rate(c), e2e_cpu_ms(c),
                   e2e_client_cpu_ms(c), 100 * e2e_idle(c, cores));
        }
}

static void print_e2e(const profile_run *r)
{
    const e2e_result *e = &r->e2e;
    if (!e->ran) {
        printf("end to end over nng: %s\n", r->e2e_note ? r->e2e_note : "not measured");
        return;
    }
    printf("end to end over nng (two splitkey-server processes on one SQLite database, 1 and 2 "
           "workers,\nmeasured in turn round by round; loopback; %u keys sign, %u enrolled; %ld "
           "cores shared by servers and clients;\nCPU columns: milliseconds per operation; idle: share of the cores' time nobody ran):\n",
           e->keys, e->enrolled, e->cores);
    print_step_row("enrolment_end_to_end", &e->enrol[0][0].lat,
                   "1 client, 1 worker: enrol + PoP signing (incl. server keygen)");
    print_step_row("sign_in_process_e2e", &e->in_process,
                   "sign_in_process, each right after a 1-client 1-worker e2e signing");
    print_grid("enrolment: device keygen, server keygen during the request, proof-of-possession "
               "signature",
               "enrol/s", e->enrol, e->cores);
    print_grid("signing, device partial inline (session create, approval, signature read)",
               "sig/s", e->sign, e->cores);
    print_grid("server throughput: device partials computed ahead, bursts of approvals", "sig/s",
               e->server, e->cores);
    double cpu = e2e_cpu_grid(e->server, false), cpu_inline = e2e_cpu_grid(e->sign, false),
           client = e2e_cpu_grid(e->server, true);
    printf("  server CPU per signature (bursts): %.2f ms; implied capacity %ld cores / %.2f ms "
           "= %.0f sig/s\n",
           cpu, e->cores, cpu, cpu > 0 ? (double)e->cores * 1e3 / cpu : 0);
    printf("  server CPU per signing with its session create (inline mode): %.2f ms\n",
           cpu_inline);
    printf("  client CPU per signature in the bursts (nng, envelopes, the device's check of the "
           "signature): %.2f ms\n",
           client);
    printf("  the floor on 2 threads / on 1 (what a second core gives this arithmetic here): "
           "%.3f (%lu + %lu runs)\n",
           e2e_floor_scaling(e), e->floor_n[0], e->floor_n[1]);
    printf("  disk flush, what every commit waits for (36 KiB written in place + fdatasync): "
           "p50 %.3f ms, p90 %.3f ms (%zu)\n",
           ms(series_quantile(&e->disk_flush, 0.5)), ms(series_quantile(&e->disk_flush, 0.9)),
           e->disk_flush.n);
}

static void print_e2e_ratios(const profile_run *r)
{
    if (!r->e2e.ran)
        return;
    printf("  %-48s %6.3f  (median of pairs; p50 / median %.3f)\n",
           "signing e2e (1 client, 1 worker) / in-process", e2e_over_in_process(r),
           e2e_over_in_process_medians(r));
    printf("  %-48s %6.3f  (2 clients %.3f, 4 clients %.3f)\n",
           "server throughput 2 workers / 1 (8 clients)", e2e_workers_ratio(r, CI_8),
           e2e_workers_ratio(r, 1), e2e_workers_ratio(r, 2));
    printf("  %-48s %6.3f  (of the floor's 2-thread gain %.3f)\n",
           "  the same / the floor's 2 threads / 1", e2e_scaling_efficiency(r),
           e2e_floor_scaling(&r->e2e));
    printf("  %-48s %6.3f  (cores / (server + client CPU per signature, 2 workers) / "
           "1-worker rate)\n",
           "  its CPU-bound ceiling in this run", e2e_workers_ceiling(r));
    printf("  %-48s %6.1f  (device partial inline: %.1f)\n",
           "signatures/s, server throughput, 2 workers", e2e_best(r->e2e.server),
           e2e_best(r->e2e.sign));
    double f = e2e_floor_scaling(&r->e2e);
    if (f > 0 && f < 1.85)
        printf("  note: the bare arithmetic gained only %.2fx from a second thread in this run "
               "(other load on the host);\n  ratios between worker counts are less certain "
               "than usual: run again\n",
               f);
}

/* SQLite against PostgreSQL (e2e_store.c). */
static void print_store(const profile_run *r)
{
    const e2e_store_result *st = &r->store;
    printf("store comparison, signing end to end (%u clients back to back, device partial "
           "inline, %u workers per server):\n",
           E2E_ST_CLIENTS, E2E_ST_WORKERS);
    if (!st->ran) {
        printf("  %s\n", st->note ? st->note : r->e2e_note ? r->e2e_note : "not run");
        return;
    }
    static const char *const help[E2E_ST_N] = {"SQLite, 1 server", "PostgreSQL, 1 server",
                                               "PostgreSQL, 2 servers on one database"};
    for (int k = 0; k < E2E_ST_N; k++)
        printf("  %-40s %8.1f signatures/s (median of %zu rounds, %lu signatures)  / SQLite "
               "%.3f\n",
               help[k], series_median(&st->rate[k]), st->rate[k].n, st->signatures[k],
               series_median(&st->over_sqlite[k]));
}

static void print_table(const profile_run *runs, size_t n)
{
    for (size_t p = 0; p < n; p++) {
        const profile_run *r = &runs[p];
        if (!r->ok)
            continue;
        printf("\n== profile %s (k = %u, composite %u bits) ==\n", sk_profile_name(r->profile),
               sk_profile_bits(r->profile), 2 * sk_profile_bits(r->profile));
        printf("%-24s %10s %10s %10s %10s %5s  %s\n", "step", "median ms", "min ms", "max ms",
               "p99 ms", "n", "what");
        for (int i = 0; i < IT_COUNT; i++) {
            const series *s = &r->s[i];
            if (s->n == 0) {
                printf("%-24s %10s %10s %10s %10s %5d  %s (unavailable)\n", s->name, "-", "-",
                       "-", "-", 0, item_help[i]);
                continue;
            }
            print_step_row(s->name, s, item_help[i]);
        }
        printf("in-process signatures per second (one core): %.1f\n",
               run_median(r, IT_SIGN_IN_PROCESS) > 0 ? 1.0 / run_median(r, IT_SIGN_IN_PROCESS) : 0);
        print_e2e(r);
        printf("ratios (medians):\n");
        for (size_t i = 0; i < n_ratios; i++)
            printf("  %-48s %6.3f\n", ratios[i].help, run_ratio(r, ratios[i].a, ratios[i].b));
        print_e2e_ratios(r);
        print_store(r);
    }
    printf("\ntargets (reported, not asserted):\n");
    for (size_t p = 0; p < n; p++) {
        const profile_run *r = &runs[p];
        if (!r->ok)
            continue;
        double f = run_ratio(r, IT_SERVER_COMPLETE, IT_FLOOR_GMP);
        printf("  %s server completion <= 1.10x floor: %.3f  %s\n", sk_profile_name(r->profile),
               f, f > 0 && f <= 1.10 ? "met" : "MISSED");
        if (r->profile == SK_PROFILE_6K) {
            double g = run_ratio(r, IT_CLIENT_KEYGEN, IT_OPENSSL_KEYGEN);
            printf("  6K client keygen <= 0.5x OpenSSL RSA-3072 keygen: %.3f  %s\n", g,
                   g > 0 && g <= 0.5 ? "met" : "MISSED");
        }
        const char *pn = sk_profile_name(r->profile);
        if (r->profile == SK_PROFILE_6K) {
            if (r->store.ran) {
                double q = series_median(&r->store.over_sqlite[E2E_ST_PG1]);
                printf("  6K signatures/s on PostgreSQL (1 server) >= 0.9x SQLite: %.3f  %s "
                       "(2 servers: %.3f)\n",
                       q, q >= 0.9 ? "met" : "MISSED",
                       series_median(&r->store.over_sqlite[E2E_ST_PG2]));
            } else {
                printf("  6K signatures/s on PostgreSQL >= 0.9x SQLite: not measured (%s)\n",
                       r->store.note ? r->store.note : r->e2e_note ? r->e2e_note : "not run");
            }
        }
        if (!r->e2e.ran) {
            printf("  %s end-to-end targets: not measured (%s)\n", pn,
                   r->e2e_note ? r->e2e_note : "not run");
            continue;
        }
        if (r->profile == SK_PROFILE_6K) {
            double x = e2e_over_in_process(r);
            printf("  6K signing e2e (1 client, 1 worker) <= 1.15x in-process: %.3f  %s\n", x,
                   x > 0 && x <= 1.15 ? "met" : "MISSED");
        }
        double w = e2e_workers_ratio(r, CI_8);
        printf("  %s server throughput 2 workers / 1 worker (8 clients) >= 1.8: %.3f  %s "
               "(CPU-bound ceiling %.3f)\n",
               pn, w, w >= 1.8 ? "met" : "MISSED", e2e_workers_ceiling(r));
        if (r->profile == SK_PROFILE_6K) {
            double v = e2e_best(r->e2e.server);
            printf("  6K signatures per second >= 80: %.1f  %s (device partial inline: %.1f)\n", v,
                   v >= 80 ? "met" : "MISSED", e2e_best(r->e2e.sign));
        }
    }
}

#ifdef SK_BENCH_E2E
/* splitkey-server next to this program (/proc/self/exe), into buf. */
static const char *default_server_bin(char *buf, size_t cap)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return NULL;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash == NULL)
        return NULL;
    *slash = '\0';
    if ((size_t)snprintf(buf, cap, "%s/splitkey-server", exe) >= cap)
        return NULL;
    return buf;
}
#endif

int main(int argc, char **argv)
{
    const char *json = NULL, *profiles = "4K,6K,8K";
    const char *server_bin = NULL, *pg_uri = NULL;
    unsigned runs = 0, keygen_runs = 0, e2e_keys = 0;
    bool quick = false, no_e2e = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--version") == 0) {
            printf("splitkey-bench %s\n", sk_version());
            return 0;
        } else if (strcmp(a, "--quick") == 0) {
            quick = true;
        } else if (strcmp(a, "--no-e2e") == 0) {
            no_e2e = true;
        } else if (i + 1 < argc && strcmp(a, "--pg-uri") == 0) {
            pg_uri = argv[++i];
            if (strncmp(pg_uri, "postgresql://", 13) != 0 && strncmp(pg_uri, "postgres://", 11) != 0) {
                fprintf(stderr, "splitkey-bench: --pg-uri takes a postgresql:// URI\n");
                return 2;
            }
        } else if (i + 1 < argc && strcmp(a, "--server-bin") == 0) {
            server_bin = argv[++i];
            if (server_bin[0] == '\0') {
                fprintf(stderr, "splitkey-bench: --server-bin takes a path\n");
                return 2;
            }
        } else if (i + 1 < argc && strcmp(a, "--e2e-keys") == 0) {
            char *end = NULL;
            unsigned long k = strtoul(argv[++i], &end, 10);
            if (end == argv[i] || *end != '\0' || k < 8 || k > 256) {
                fprintf(stderr, "splitkey-bench: --e2e-keys takes a number from 8 to 256 "
                                "(at least one key per client of the largest grid column)\n");
                return 2;
            }
            e2e_keys = (unsigned)k;
        } else if (i + 1 < argc && strcmp(a, "--json") == 0) {
            json = argv[++i];
        } else if (i + 1 < argc && strcmp(a, "--profile") == 0) {
            profiles = argv[++i];
        } else if (i + 1 < argc && strcmp(a, "--runs") == 0) {
            runs = (unsigned)strtoul(argv[++i], NULL, 10);
            if (runs == 0 || runs > 100000) {
                fprintf(stderr, "splitkey-bench: --runs takes a number from 1 to 100000\n");
                return 2;
            }
        } else if (i + 1 < argc && strcmp(a, "--keygen-runs") == 0) {
            keygen_runs = (unsigned)strtoul(argv[++i], NULL, 10);
            if (keygen_runs == 0 || keygen_runs > 1000) {
                fprintf(stderr, "splitkey-bench: --keygen-runs takes a number from 1 to 1000\n");
                return 2;
            }
        } else {
            fprintf(stderr, "splitkey-bench: unknown or incomplete argument '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
    const char *e2e_note = NULL;
    char server_buf[PATH_MAX + 32];
#ifdef SK_BENCH_E2E
    if (no_e2e) {
        e2e_note = "skipped: --no-e2e";
    } else {
        if (server_bin == NULL)
            server_bin = default_server_bin(server_buf, sizeof server_buf);
        if (server_bin == NULL || access(server_bin, X_OK) != 0) {
            fprintf(stderr,
                    "splitkey-bench: no runnable splitkey-server at %s (give --server-bin PATH, "
                    "or --no-e2e)\n",
                    server_bin ? server_bin : "(cannot locate this program)");
            return 2;
        }
    }
#else
    (void)server_buf;
    (void)e2e_keys;
    e2e_note = no_e2e ? "skipped: --no-e2e" : "unavailable: built without services";
#endif
    /* an output that cannot be written fails now, before anything is measured */
    if (json != NULL && report_json_check_path(json) != 0)
        return 1;
    if (sk_init() != SK_OK) {
        fprintf(stderr, "splitkey-bench: library initialisation failed\n");
        return 1;
    }

    profile_run runs_by_profile[3];
    size_t n = 0;
    char *list = strdup(profiles);
    for (char *tok = strtok(list, ","); tok != NULL; tok = strtok(NULL, ",")) {
        sk_profile p;
        if (sk_profile_parse(&p, tok) != SK_OK || n == 3) {
            fprintf(stderr, "splitkey-bench: unknown profile '%s' (4K, 6K, 8K)\n", tok);
            free(list);
            return 2;
        }
        memset(&runs_by_profile[n], 0, sizeof runs_by_profile[n]);
        runs_by_profile[n++].profile = p;
    }
    free(list);

    int failures = 0;
    for (size_t i = 0; i < n; i++) {
        sk_profile p = runs_by_profile[i].profile;
        unsigned sr = runs ? runs : p == SK_PROFILE_4K ? 60 : p == SK_PROFILE_6K ? 40 : 20;
        unsigned kr = keygen_runs ? keygen_runs : p == SK_PROFILE_4K ? 12 : p == SK_PROFILE_6K ? 8 : 4;
        if (quick) {
            sr = sr / 4 ? sr / 4 : 1;
            kr = kr / 4 ? kr / 4 : 1;
        }
        profile_run *r = &runs_by_profile[i];
        r->e2e_note = e2e_note;
        ref_ctx ref = {0};
        if (!run_profile(r, &ref, sr, kr)) {
            failures++;
            continue;
        }
#ifdef SK_BENCH_E2E
        if (!no_e2e) {
            e2e_options eo = {.server_bin = server_bin, .keys = e2e_keys, .quick = quick,
                              .hooks = {.ctx = &ref, .sign_in_process = ref_sign,
                                        .floor_parallel = ref_floor}};
            if (!e2e_run(&r->e2e, p, &eo)) {
                r->e2e_note = "failed: see the messages above";
                failures++;
            }
            if (!e2e_store_run(&r->store, p, server_bin, pg_uri, quick))
                failures++;
        }
#else
        (void)ref_sign;
        (void)ref_floor;
#endif
        ref_free(&ref);
    }
    print_table(runs_by_profile, n);
    if (json != NULL &&
        report_json_write(json, runs_by_profile, n, baseline_openssl_available()) != 0)
        failures++;
    for (size_t i = 0; i < n; i++) {
        for (int j = 0; j < IT_COUNT; j++)
            series_free(&runs_by_profile[i].s[j]);
        e2e_free(&runs_by_profile[i].e2e);
#ifdef SK_BENCH_E2E
        e2e_store_free(&runs_by_profile[i].store);
#endif
    }
    return failures ? 1 : 0;
}
