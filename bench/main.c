#define _POSIX_C_SOURCE 200809L
/* splitkey-bench (SPEC 7): each step of two-party signing measured against
 * baselines measured in the same run, interleaved round by round so that
 * machine noise hits both sides of every ratio.  Prints a table; --json
 * writes the same figures for auditors.  Targets are reported, never
 * asserted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

enum item {
    IT_CLIENT_KEYGEN,
    IT_SERVER_KEYGEN,
    IT_OPENSSL_KEYGEN,
    IT_DEVICE_PARTIAL,
    IT_SERVER_COMPLETE,
    IT_FLOOR_GMP,
    IT_FLOOR_OPENSSL,
    IT_SIGN_IN_PROCESS,
    IT_SINGLE_MBEDTLS,
    IT_SINGLE_OPENSSL,
    IT_COUNT
};

static const char *const item_names[IT_COUNT] = {
    "client_keygen",      "server_keygen",      "openssl_keygen_k", "device_partial",
    "server_complete",    "floor_gmp",          "floor_openssl",    "sign_in_process",
    "single_sign_mbedtls_2k", "single_sign_openssl_2k"};

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

typedef struct profile_run {
    sk_profile profile;
    series s[IT_COUNT];
    bool ok;
} profile_run;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: splitkey-bench [--profile 4K|6K|8K[,...]] [--runs N] [--keygen-runs N]\n"
            "                      [--quick] [--json FILE]\n"
            "Measures key generation, device partial signing, server completion and whole\n"
            "signing for each profile, interleaved with baselines from the same run: the\n"
            "GMP floor, OpenSSL's constant-time floor, single-key RSA signatures at the\n"
            "composite size (mbedTLS, OpenSSL) and OpenSSL key generation.\n");
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

static bool run_profile(profile_run *r, unsigned sign_runs, unsigned keygen_runs)
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
    bench_key bk;
    if (bench_key_init(&bk, r->profile) != SK_OK) {
        bench_key_free(&bk);
        fprintf(stderr, "\n[%s] key setup failed\n", pn);
        return false;
    }
    baselines *b = baselines_new(&bk);
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
        ok = ok && partial_once(&bk, y, em, S(IT_DEVICE_PARTIAL));
        TIME(S(IT_SERVER_COMPLETE), sk_server_complete(bk.ss, sig, len, y, k8, em, len) == SK_OK);
        sk_mpz_from_bytes(m, em, len);
        sk_mpz_from_bytes(yz, y, k8);
        TIME(S(IT_FLOOR_GMP), (floor_gmp(s, &bk, m, yz), true));
        if (b != NULL) {
            TIME(S(IT_FLOOR_OPENSSL), floor_openssl(b, m, yz));
            TIME(S(IT_SINGLE_MBEDTLS), single_sign_mbedtls(b, digest));
            TIME(S(IT_SINGLE_OPENSSL), single_sign_openssl(b, digest));
        }
        TIME(S(IT_SIGN_IN_PROCESS), sign_whole(&bk, digest));
#undef S
        series_free(&scratch);
    }
    fprintf(stderr, "\r%40s\r", "");
    mpz_clears(m, yz, s, NULL);
    baselines_free(b);
    bench_key_free(&bk);
    r->ok = ok;
    return ok;
}

static double med(const profile_run *r, enum item it) { return series_median(&r->s[it]); }

static double ratio(const profile_run *r, enum item a, enum item b)
{
    double x = med(r, a), y = med(r, b);
    return x > 0 && y > 0 ? x / y : 0;
}

typedef struct ratio_def {
    const char *name;
    enum item a, b;
    const char *help;
} ratio_def;

static const ratio_def ratios[] = {
    {"server_step_over_floor", IT_SERVER_COMPLETE, IT_FLOOR_GMP, "server step / GMP floor"},
    {"server_step_over_openssl_floor", IT_SERVER_COMPLETE, IT_FLOOR_OPENSSL,
     "server step / OpenSSL floor"},
    {"client_keygen_over_openssl_keygen", IT_CLIENT_KEYGEN, IT_OPENSSL_KEYGEN,
     "client keygen / OpenSSL keygen (k bits)"},
    {"server_step_over_single_mbedtls", IT_SERVER_COMPLETE, IT_SINGLE_MBEDTLS,
     "split server step / mbedTLS single-key sig (2k)"},
    {"server_step_over_single_openssl", IT_SERVER_COMPLETE, IT_SINGLE_OPENSSL,
     "split server step / OpenSSL single-key sig (2k)"},
};
#define N_RATIOS (sizeof ratios / sizeof ratios[0])

/* Measurements that need the share server over nng (services). */
static const char *const pending[] = {"enrolment_end_to_end", "signing_end_to_end_nng",
                                      "end_to_end_over_in_process", "workers_2_over_1",
                                      "signatures_per_second_6K"};
#define N_PENDING (sizeof pending / sizeof pending[0])

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
            printf("%-24s %10.3f %10.3f %10.3f %10.3f %5zu  %s\n", s->name, ms(series_median(s)),
                   ms(series_min(s)), ms(series_max(s)), ms(series_quantile(s, 0.99)), s->n,
                   item_help[i]);
        }
        printf("in-process signatures per second (one core): %.1f\n",
               med(r, IT_SIGN_IN_PROCESS) > 0 ? 1.0 / med(r, IT_SIGN_IN_PROCESS) : 0);
        printf("ratios (medians):\n");
        for (size_t i = 0; i < N_RATIOS; i++)
            printf("  %-48s %6.3f\n", ratios[i].help, ratio(r, ratios[i].a, ratios[i].b));
    }
    printf("\ntargets (reported, not asserted):\n");
    for (size_t p = 0; p < n; p++) {
        const profile_run *r = &runs[p];
        if (!r->ok)
            continue;
        double f = ratio(r, IT_SERVER_COMPLETE, IT_FLOOR_GMP);
        printf("  %s server completion <= 1.10x floor: %.3f  %s\n", sk_profile_name(r->profile),
               f, f > 0 && f <= 1.10 ? "met" : "MISSED");
        if (r->profile == SK_PROFILE_6K) {
            double g = ratio(r, IT_CLIENT_KEYGEN, IT_OPENSSL_KEYGEN);
            printf("  6K client keygen <= 0.5x OpenSSL RSA-3072 keygen: %.3f  %s\n", g,
                   g > 0 && g <= 0.5 ? "met" : "MISSED");
        }
    }
    for (size_t i = 0; i < N_PENDING; i++)
        printf("  %s: not measured (needs splitkey-server over nng)\n", pending[i]);
}

static void json_series(FILE *f, const series *s)
{
    fprintf(f, "{\"n\": %zu", s->n);
    if (s->n > 0)
        fprintf(f,
                ", \"median_ms\": %.6f, \"min_ms\": %.6f, \"max_ms\": %.6f, \"p50_ms\": %.6f, "
                "\"p90_ms\": %.6f, \"p99_ms\": %.6f",
                ms(series_median(s)), ms(series_min(s)), ms(series_max(s)),
                ms(series_quantile(s, 0.5)), ms(series_quantile(s, 0.9)),
                ms(series_quantile(s, 0.99)));
    fprintf(f, "}");
}

static int write_json(const char *path, const profile_run *runs, size_t n)
{
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        perror(path);
        return 1;
    }
    fprintf(f, "{\n  \"tool\": \"splitkey-bench\",\n  \"version\": \"%s\",\n", sk_version());
    fprintf(f, "  \"openssl_baselines\": %s,\n  \"profiles\": {", baseline_openssl_available() ? "true" : "false");
    bool first = true;
    for (size_t p = 0; p < n; p++) {
        const profile_run *r = &runs[p];
        if (!r->ok)
            continue;
        fprintf(f, "%s\n    \"%s\": {\n      \"steps\": {", first ? "" : ",", sk_profile_name(r->profile));
        first = false;
        for (int i = 0; i < IT_COUNT; i++) {
            fprintf(f, "%s\n        \"%s\": ", i ? "," : "", item_names[i]);
            json_series(f, &r->s[i]);
        }
        fprintf(f, "\n      },\n      \"ratios\": {");
        for (size_t i = 0; i < N_RATIOS; i++) {
            double v = ratio(r, ratios[i].a, ratios[i].b);
            if (v > 0)
                fprintf(f, "%s\n        \"%s\": %.6f", i ? "," : "", ratios[i].name, v);
            else
                fprintf(f, "%s\n        \"%s\": null", i ? "," : "", ratios[i].name);
        }
        for (size_t i = 0; i < N_PENDING; i++)
            fprintf(f, ",\n        \"%s\": null", pending[i]);
        fprintf(f, "\n      },\n      \"in_process_signatures_per_second\": %.3f\n    }",
                med(r, IT_SIGN_IN_PROCESS) > 0 ? 1.0 / med(r, IT_SIGN_IN_PROCESS) : 0);
    }
    fprintf(f, "\n  },\n  \"not_measured\": {\"reason\": \"needs splitkey-server over nng\", "
               "\"items\": [");
    for (size_t i = 0; i < N_PENDING; i++)
        fprintf(f, "%s\"%s\"", i ? ", " : "", pending[i]);
    fprintf(f, "]}\n}\n");
    return fclose(f) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    const char *json = NULL, *profiles = "4K,6K,8K";
    unsigned runs = 0, keygen_runs = 0;
    bool quick = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--quick") == 0) {
            quick = true;
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
        if (!run_profile(&runs_by_profile[i], sr, kr))
            failures++;
    }
    print_table(runs_by_profile, n);
    if (json != NULL && write_json(json, runs_by_profile, n) != 0)
        failures++;
    for (size_t i = 0; i < n; i++)
        for (int j = 0; j < IT_COUNT; j++)
            series_free(&runs_by_profile[i].s[j]);
    return failures ? 1 : 0;
}
