/* SPDX-License-Identifier: Apache-2.0 */
#define _POSIX_C_SOURCE 200809L
/* report_json.c - the figures splitkey-bench derives from its measurements,
 * and its --json report built with jansson, so that every string in it is
 * escaped whatever it holds. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report_json.h"

const char *const item_names[IT_COUNT] = {
    "client_keygen",      "server_keygen",      "openssl_keygen_k", "device_partial",
    "server_complete",    "floor_gmp",          "floor_openssl",    "sign_in_process",
    "single_sign_mbedtls_2k", "single_sign_openssl_2k"};

const ratio_def ratios[] = {
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
const size_t n_ratios = sizeof ratios / sizeof ratios[0];

/* ------------------------------------------------------ derived figures */

double run_median(const profile_run *r, enum item it) { return series_median(&r->s[it]); }

double run_ratio(const profile_run *r, enum item a, enum item b)
{
    double x = run_median(r, a), y = run_median(r, b);
    return x > 0 && y > 0 ? x / y : 0;
}

/* Pairing each end-to-end signing with the in-process signing right after
 * it lets a slow or fast spell of the machine weigh on both sides of every
 * pair. */
double e2e_over_in_process(const profile_run *r)
{
    if (!r->e2e.ran || r->e2e.in_process_pair_ratio.n == 0)
        return 0;
    return series_median(&r->e2e.in_process_pair_ratio);
}

double e2e_over_in_process_medians(const profile_run *r)
{
    if (!r->e2e.ran)
        return 0;
    double a = series_quantile(&r->e2e.sign[0][0].lat, 0.5),
           b = series_median(&r->e2e.in_process);
    return a > 0 && b > 0 ? a / b : 0;
}

double e2e_workers_ratio(const profile_run *r, int ci)
{
    if (!r->e2e.ran)
        return 0;
    return e2e_paired_ratio(&r->e2e.server[E2E_NW - 1][ci], &r->e2e.server[0][ci]);
}

double e2e_best(const e2e_cell cells[E2E_NW][E2E_NC])
{
    double best = 0;
    for (int ci = 0; ci < E2E_NC; ci++)
        if (e2e_rate(&cells[E2E_NW - 1][ci]) > best)
            best = e2e_rate(&cells[E2E_NW - 1][ci]);
    return best;
}

double e2e_cpu_grid(const e2e_cell cells[E2E_NW][E2E_NC], bool client)
{
    double cpu = 0;
    unsigned long n = 0;
    for (int wi = 0; wi < E2E_NW; wi++)
        for (int ci = 0; ci < E2E_NC; ci++) {
            double c = client ? cells[wi][ci].client_cpu_s : cells[wi][ci].server_cpu_s;
            if (c < 0)
                return -1;
            cpu += c;
            n += cells[wi][ci].n;
        }
    return n ? cpu * 1e3 / (double)n : -1;
}

double e2e_scaling_efficiency(const profile_run *r)
{
    double w = e2e_workers_ratio(r, CI_8), f = e2e_floor_scaling(&r->e2e);
    return w > 0 && f > 0 ? w / f : 0;
}

/* With 2 workers every signature costs the server S and the clients C
 * milliseconds of CPU on the same cores, so the cores give at most
 * cores / (S + C) signatures per second, against the 1-worker rate R1 (whose
 * worker had the other core to itself for everything around it). */
double e2e_workers_ceiling(const profile_run *r)
{
    const e2e_cell *two = &r->e2e.server[E2E_NW - 1][CI_8];
    double s = e2e_cpu_ms(two), c = e2e_client_cpu_ms(two), r1 = e2e_rate(&r->e2e.server[0][CI_8]);
    if (!r->e2e.ran || s <= 0 || c < 0 || r1 <= 0)
        return 0;
    return (double)r->e2e.cores * 1e3 / (s + c) / r1;
}

/* ------------------------------------------------------------ the JSON */

static double ms(double s) { return s * 1e3; }

/* Every real is rounded to a fixed number of decimals before it is stored
 * (6 for milliseconds and ratios, 3 for rates), and the document is dumped
 * with 15 significant digits: a value so rounded and below 1e9 comes out as
 * exactly those decimals, trailing zeros dropped (1.005, not
 * 1.0049999999999999). */
#define DUMP_FLAGS (JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15))

static json_t *fixed(double v, double scale)
{
    if (!isfinite(v))
        return json_null();
    double r = round(v * scale) / scale;
    return json_real(isfinite(r) ? r : v);
}

/* v with 6 decimals, or null when it is not valid (not measured). */
static json_t *num6(double v, bool valid) { return valid ? fixed(v, 1e6) : json_null(); }
/* a rate: v with 3 decimals */
static json_t *rate3(double v) { return fixed(v, 1e3); }
static json_t *count(unsigned long long n) { return json_integer((json_int_t)n); }

/* Adds key: v to obj; a NULL v (out of memory) or obj clears *ok.  Either
 * way the reference to v is taken. */
static void put(json_t *obj, const char *key, json_t *v, bool *ok)
{
    if (json_object_set_new(obj, key, v) != 0)
        *ok = false;
}

/* obj when ok, otherwise NULL (obj released). */
static json_t *done(json_t *obj, bool ok)
{
    if (ok)
        return obj;
    json_decref(obj);
    return NULL;
}

/* n, median, min, max, p50, p90, p99 (ms); only n when empty. */
static json_t *series_json(const series *s)
{
    json_t *o = json_object();
    bool ok = true;
    put(o, "n", count(s->n), &ok);
    if (s->n > 0) {
        put(o, "median_ms", num6(ms(series_median(s)), true), &ok);
        put(o, "min_ms", num6(ms(series_min(s)), true), &ok);
        put(o, "max_ms", num6(ms(series_max(s)), true), &ok);
        put(o, "p50_ms", num6(ms(series_quantile(s, 0.5)), true), &ok);
        put(o, "p90_ms", num6(ms(series_quantile(s, 0.9)), true), &ok);
        put(o, "p99_ms", num6(ms(series_quantile(s, 0.99)), true), &ok);
    }
    return done(o, ok);
}

static json_t *cell_json(const e2e_cell *c, const char *unit, long cores)
{
    char key[64];
    json_t *o = json_object();
    bool ok = true;
    put(o, "p50_ms", num6(ms(series_quantile(&c->lat, 0.5)), true), &ok);
    put(o, "p90_ms", num6(ms(series_quantile(&c->lat, 0.9)), true), &ok);
    put(o, "p99_ms", num6(ms(series_quantile(&c->lat, 0.99)), true), &ok);
    put(o, "n", count(c->n), &ok);
    snprintf(key, sizeof key, "%ss_per_second", unit);
    put(o, key, rate3(e2e_rate(c)), &ok);
    snprintf(key, sizeof key, "server_cpu_ms_per_%s", unit);
    put(o, key, num6(e2e_cpu_ms(c), e2e_cpu_ms(c) >= 0), &ok);
    snprintf(key, sizeof key, "client_cpu_ms_per_%s", unit);
    put(o, key, num6(e2e_client_cpu_ms(c), e2e_client_cpu_ms(c) >= 0), &ok);
    put(o, "idle_fraction", num6(e2e_idle(c, cores), e2e_idle(c, cores) >= 0), &ok);
    json_t *rates = json_array();
    for (size_t i = 0; i < c->round_rate.n; i++)
        if (json_array_append_new(rates, rate3(c->round_rate.v[i])) != 0)
            ok = false;
    put(o, "round_rates", rates, &ok);
    return done(o, ok);
}

/* "workers_W" -> "clients_C" -> the cell. */
static json_t *grid_json(const e2e_cell cells[E2E_NW][E2E_NC], const char *unit, long cores)
{
    char key[32];
    json_t *o = json_object();
    bool ok = true;
    for (int wi = 0; wi < E2E_NW; wi++) {
        json_t *w = json_object();
        for (int ci = 0; ci < E2E_NC; ci++) {
            snprintf(key, sizeof key, "clients_%u", e2e_clients[ci]);
            put(w, key, cell_json(&cells[wi][ci], unit, cores), &ok);
        }
        snprintf(key, sizeof key, "workers_%u", e2e_workers[wi]);
        put(o, key, w, &ok);
    }
    return done(o, ok);
}

/* The store comparison's set-ups (bench.h), as the JSON names them. */
const char *const e2e_store_names[E2E_ST_N] = {"sqlite_1_server", "postgresql_1_server",
                                               "postgresql_2_servers"};

static json_t *e2e_json(const profile_run *r)
{
    const e2e_result *e = &r->e2e;
    double cpu = e2e_cpu_grid(e->server, false), cpu_inline = e2e_cpu_grid(e->sign, false),
           client = e2e_cpu_grid(e->server, true), medians = e2e_over_in_process_medians(r);
    char key[32];
    json_t *o = json_object();
    bool ok = true;
    put(o, "setup",
        json_string("two splitkey-server child processes (1 and 2 workers) on one SQLite "
                    "database, measured in turn round by round, nng tcp on 127.0.0.1, "
                    "--pool-size 0, clients and servers on the same cores"),
        &ok);
    put(o, "keys", count(e->keys), &ok);
    put(o, "enrolled", count(e->enrolled), &ok);
    put(o, "cores", json_integer(e->cores), &ok);
    put(o, "enrolment", grid_json(e->enrol, "enrolment", e->cores), &ok);
    put(o, "signing", grid_json(e->sign, "signature", e->cores), &ok);
    put(o, "server_throughput", grid_json(e->server, "signature", e->cores), &ok);
    put(o, "sign_in_process_interleaved", series_json(&e->in_process), &ok);
    json_t *pairs = json_object();
    put(pairs, "n", count(e->in_process_pair_ratio.n), &ok);
    put(pairs, "p10", num6(series_quantile(&e->in_process_pair_ratio, 0.1), true), &ok);
    put(pairs, "p50", num6(series_quantile(&e->in_process_pair_ratio, 0.5), true), &ok);
    put(pairs, "p90", num6(series_quantile(&e->in_process_pair_ratio, 0.9), true), &ok);
    put(o, "end_to_end_over_in_process_pairs", pairs, &ok);
    put(o, "end_to_end_p50_over_in_process_median", num6(medians, medians > 0), &ok);
    put(o, "disk_flush", series_json(&e->disk_flush), &ok);
    put(o, "server_cpu_ms_per_signature", num6(cpu, cpu >= 0), &ok);
    put(o, "server_cpu_ms_per_signing_with_session_create", num6(cpu_inline, cpu_inline >= 0),
        &ok);
    put(o, "client_cpu_ms_per_signature", num6(client, client >= 0), &ok);
    put(o, "implied_capacity_signatures_per_second",
        num6(cpu > 0 ? (double)e->cores * 1e3 / cpu : 0, cpu > 0), &ok);
    put(o, "signatures_per_second_device_inline", rate3(e2e_best(e->sign)), &ok);
    json_t *runs = json_object();
    put(runs, "threads_1", count(e->floor_n[0]), &ok);
    put(runs, "threads_2", count(e->floor_n[1]), &ok);
    put(o, "floor_runs", runs, &ok);
    json_t *by = json_object();
    for (int ci = 0; ci < E2E_NC; ci++) {
        double v = e2e_workers_ratio(r, ci);
        snprintf(key, sizeof key, "clients_%u", e2e_clients[ci]);
        put(by, key, num6(v, v > 0), &ok);
    }
    put(o, "workers_2_over_1_by_clients", by, &ok);
    return done(o, ok);
}

static json_t *profile_json(const profile_run *r)
{
    json_t *o = json_object(), *steps = json_object(), *rat = json_object();
    bool ok = true;
    for (int i = 0; i < IT_COUNT; i++)
        put(steps, item_names[i], series_json(&r->s[i]), &ok);
    put(o, "steps", steps, &ok);
    for (size_t i = 0; i < n_ratios; i++) {
        double v = run_ratio(r, ratios[i].a, ratios[i].b);
        put(rat, ratios[i].name, num6(v, v > 0), &ok);
    }
    double x = e2e_over_in_process(r), w = e2e_workers_ratio(r, CI_8),
           v = r->e2e.ran ? e2e_best(r->e2e.server) : 0,
           fs = r->e2e.ran ? e2e_floor_scaling(&r->e2e) : 0, eff = e2e_scaling_efficiency(r),
           ceil2 = e2e_workers_ceiling(r);
    put(rat, "end_to_end_over_in_process", num6(x, x > 0), &ok);
    put(rat, "workers_2_over_1", num6(w, w > 0), &ok);
    put(rat, "signatures_per_second", num6(v, v > 0), &ok);
    put(rat, "floor_2_threads_over_1", num6(fs, fs > 0), &ok);
    put(rat, "workers_2_over_1_over_floor_scaling", num6(eff, eff > 0), &ok);
    put(rat, "workers_2_over_1_cpu_ceiling", num6(ceil2, ceil2 > 0), &ok);
    put(o, "ratios", rat, &ok);
    double sign = run_median(r, IT_SIGN_IN_PROCESS);
    put(o, "in_process_signatures_per_second", rate3(sign > 0 ? 1.0 / sign : 0), &ok);
    if (r->e2e.ran) {
        put(o, "end_to_end", e2e_json(r), &ok);
    } else {
        put(o, "end_to_end", json_null(), &ok);
        put(o, "end_to_end_unavailable", json_string(r->e2e_note ? r->e2e_note : "not run"),
            &ok);
    }
    if (r->store.ran) {
        json_t *pg = json_object();
        put(pg, "setup",
            json_string("signing end to end, 4 clients back to back with the device partial "
                        "inline, 2 workers per server: one server on SQLite, one and two "
                        "servers on one PostgreSQL database, measured in turn round by round"),
            &ok);
        put(pg, "clients", json_integer(E2E_ST_CLIENTS), &ok);
        put(pg, "workers_per_server", json_integer(E2E_ST_WORKERS), &ok);
        for (int k = 0; k < E2E_ST_N; k++) {
            json_t *c = json_object();
            double sr = series_median(&r->store.rate[k]),
                   q = series_median(&r->store.over_sqlite[k]);
            put(c, "signatures", count(r->store.signatures[k]), &ok);
            put(c, "rounds", count(r->store.rate[k].n), &ok);
            put(c, "signatures_per_second", rate3(sr), &ok);
            put(c, "over_sqlite_1_server", num6(q, q > 0), &ok);
            put(pg, e2e_store_names[k], c, &ok);
        }
        put(o, "postgresql", pg, &ok);
    } else {
        put(o, "postgresql", json_null(), &ok);
        put(o, "postgresql_unavailable",
            json_string(r->store.note ? r->store.note : r->e2e_note ? r->e2e_note : "not run"),
            &ok);
    }
    return done(o, ok);
}

json_t *report_json(const profile_run *runs, size_t n, bool openssl_baselines)
{
    json_t *doc = json_object(), *profiles = json_object();
    bool ok = true;
    put(doc, "tool", json_string("splitkey-bench"), &ok);
    put(doc, "version", json_string(sk_version()), &ok);
    put(doc, "openssl_baselines", json_boolean(openssl_baselines), &ok);
    for (size_t p = 0; p < n; p++)
        if (runs[p].ok)
            put(profiles, sk_profile_name(runs[p].profile), profile_json(&runs[p]), &ok);
    put(doc, "profiles", profiles, &ok);
    return done(doc, ok);
}

/* ------------------------------------------------------------ the file */

/* The temporary name the JSON is written under before it is renamed to
 * path, in the same directory, into buf. */
static const char *tmp_name(char *buf, size_t cap, const char *path)
{
    if ((size_t)snprintf(buf, cap, "%s.tmp%ld", path, (long)getpid()) >= cap)
        return NULL;
    return buf;
}

static int cannot_write(const char *path, int err)
{
    fprintf(stderr, "splitkey-bench: cannot write %s: %s\n", path, strerror(err));
    return 1;
}

int report_json_check_path(const char *path)
{
    char tmp[PATH_MAX + 32];
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return cannot_write(path, EISDIR);
    if (tmp_name(tmp, sizeof tmp, path) == NULL)
        return cannot_write(path, ENAMETOOLONG);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd < 0)
        return cannot_write(path, errno);
    close(fd);
    unlink(tmp);
    return 0;
}

int report_json_write(const char *path, const profile_run *runs, size_t n,
                      bool openssl_baselines)
{
    char tmp[PATH_MAX + 32];
    if (tmp_name(tmp, sizeof tmp, path) == NULL)
        return cannot_write(path, ENAMETOOLONG);
    json_t *doc = report_json(runs, n, openssl_baselines);
    if (doc == NULL)
        return cannot_write(path, ENOMEM);
    FILE *f = fopen(tmp, "w");
    if (f == NULL) {
        int err = errno;
        json_decref(doc);
        return cannot_write(path, err);
    }
    errno = 0;
    int rc = json_dumpf(doc, f, DUMP_FLAGS) == 0 && fputc('\n', f) != EOF && !ferror(f) ? 0 : 1;
    json_decref(doc);
    if (fclose(f) != 0)
        rc = 1;
    if (rc == 0 && rename(tmp, path) != 0)
        rc = 1;
    if (rc != 0) {
        int err = errno ? errno : EIO;
        unlink(tmp);
        return cannot_write(path, err);
    }
    return 0;
}
