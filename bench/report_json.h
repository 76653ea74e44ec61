/* SPDX-License-Identifier: Apache-2.0 */
/* report_json.h - what splitkey-bench measured for one profile, the figures
 * its table and its --json report derive from that, and the --json writer
 * (bench/README.md describes the document). */
#ifndef SK_BENCH_REPORT_JSON_H
#define SK_BENCH_REPORT_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "bench.h"

/* The in-process steps, in the order of the table and of the JSON. */
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

/* The steps' names in the JSON ("steps") and the table. */
extern const char *const item_names[IT_COUNT];

typedef struct profile_run {
    sk_profile profile;
    series s[IT_COUNT];
    bool ok;
    e2e_result e2e;
    const char *e2e_note; /* why there are no end-to-end figures; NULL when e2e.ran */
    e2e_store_result store; /* SQLite against PostgreSQL (--pg-uri) */
} profile_run;

/* A ratio of two steps' medians. */
typedef struct ratio_def {
    const char *name; /* in the JSON, under "ratios" */
    enum item a, b;
    const char *help; /* in the table */
} ratio_def;

extern const ratio_def ratios[];
extern const size_t n_ratios;

/* The 8-client column of the end-to-end grids. */
#define CI_8 (E2E_NC - 1)

/* A step's median (seconds; 0 when it has no measurement). */
double run_median(const profile_run *r, enum item it);
/* median(a) / median(b), 0 when either is missing. */
double run_ratio(const profile_run *r, enum item a, enum item b);

/* Signing e2e (1 client, 1 worker) / in process: the median over the
 * signings of each one's latency over the in-process signing that ran right
 * after it (0 when not measured). */
double e2e_over_in_process(const profile_run *r);
/* The same from the two medians, for comparison (0 when not measured). */
double e2e_over_in_process_medians(const profile_run *r);
/* Server throughput with 2 workers / 1 worker at e2e_clients[ci]: the median
 * over the rounds of the two servers' rates in the round (0 when not
 * measured). */
double e2e_workers_ratio(const profile_run *r, int ci);
/* The best rate over the client counts, with 2 workers. */
double e2e_best(const e2e_cell cells[E2E_NW][E2E_NC]);
/* Server (client: this process) CPU ms per operation over a whole grid,
 * < 0 when not read. */
double e2e_cpu_grid(const e2e_cell cells[E2E_NW][E2E_NC], bool client);
/* 2 workers / 1 worker at 8 clients over what the floor gains from a second
 * thread in the same run (0 when either is missing). */
double e2e_scaling_efficiency(const profile_run *r);
/* The most 2 workers / 1 worker (8 clients) could be when CPU is all that
 * bounds it (0 when a figure is missing). */
double e2e_workers_ceiling(const profile_run *r);

/* The JSON document of the runs whose ok is set (NULL when out of memory).
 * Figures in milliseconds and ratios carry 6 decimals, rates 3; a figure
 * that was not measured is null. */
json_t *report_json(const profile_run *runs, size_t n, bool openssl_baselines);

/* Checks, before anything is measured, that report_json_write() can write
 * path: a file is created beside it and removed again.  0, or 1 after a
 * message on stderr. */
int report_json_check_path(const char *path);

/* Writes report_json() to path, under a temporary name in the same directory
 * renamed at the end, so a failure leaves no partial file.  0, or 1 after a
 * message on stderr. */
int report_json_write(const char *path, const profile_run *runs, size_t n,
                      bool openssl_baselines);

#endif
