/* SPDX-License-Identifier: Apache-2.0 */
/* bench.h - shared pieces of splitkey-bench: timing series, the key material
 * every measurement uses, and the baselines. */
#ifndef SK_BENCH_H
#define SK_BENCH_H

#include <stdbool.h>
#include <stddef.h>

#include "internal.h"

/* ------------------------------------------------------------- series */

typedef struct series {
    const char *name;
    double *v; /* seconds */
    size_t n, cap;
} series;

double bench_now(void);
void series_add(series *s, double seconds);
double series_median(const series *s);
double series_quantile(const series *s, double q);
double series_min(const series *s);
double series_max(const series *s);
void series_free(series *s);

/* ------------------------------------------------------- key material */

/* One split key at a profile, with everything the floor needs in mpz form. */
typedef struct bench_key {
    unsigned k;
    sk_profile profile;
    sk_server_share *ss;
    sk_pubkey *pub;
    uint8_t *n1_bytes, *dc_bytes;
    mpz_t n1, n2, n, n1inv, ds, p, q, dp, dq, qinv;
} bench_key;

int bench_key_init(bench_key *bk, sk_profile profile);
void bench_key_free(bench_key *bk);

/* ----------------------------------------------------------- baselines */

/* The floor: the server step's unavoidable work done bare with GMP
 * (m^ds mod n1, the CRT signature mod n2, the three e-checks, the CRT
 * combination).  m and y are public inputs; writes s. */
void floor_gmp(mpz_t s, const bench_key *bk, const mpz_t m, const mpz_t y);

/* Baselines from other libraries; each returns false when unavailable. */
typedef struct baselines baselines;
baselines *baselines_new(const bench_key *bk);
void baselines_free(baselines *b);
bool baseline_openssl_available(void);
/* The same floor with OpenSSL's BN_mod_exp_mont_consttime. */
bool floor_openssl(baselines *b, const mpz_t m, const mpz_t y);
/* A single-key RSA CRT signature at the composite size (2k bits). */
bool single_sign_mbedtls(baselines *b, const uint8_t *digest32);
bool single_sign_openssl(baselines *b, const uint8_t *digest32);
/* OpenSSL RSA key generation of `bits` bits. */
bool keygen_openssl(unsigned bits);

/* The floor on `threads` threads at once, each computing it `per_thread`
 * times: the wall seconds from the common start to the last thread's end,
 * or < 0 when a thread could not start.  With the one-thread figure it
 * gives how much a second core adds to this arithmetic on this machine. */
double floor_gmp_parallel(const bench_key *bk, const mpz_t m, const mpz_t y, unsigned threads,
                          unsigned per_thread);

/* --------------------------------------------------------- end to end */

/* Signing over nng through real splitkey-server child processes with the
 * SQLite store (e2e.c; compiled only with the services, SK_BENCH_E2E).
 * Grid: E2E_NW worker counts (e2e_workers) x E2E_NC client counts
 * (e2e_clients).  One server runs per worker count, both on the same
 * database, so every cell can be measured round by round on one server and
 * then the other. */
#define E2E_NW 2
#define E2E_NC 4
extern const unsigned e2e_workers[E2E_NW];
extern const unsigned e2e_clients[E2E_NC];

/* One cell of a grid: per-operation latencies, and the operations, wall
 * time and CPU times of the measured phases. */
typedef struct e2e_cell {
    series lat;
    unsigned long n;
    double seconds;
    double server_cpu_s; /* the server process; < 0: not read */
    double client_cpu_s; /* this process (the devices and their connections); < 0: not read */
    double idle_s;       /* core-seconds the machine's cores were idle or waiting for I/O
                            (/proc/stat); < 0: not read */
    series round_rate;   /* operations per second of each measured phase, in order (the
                            values are rates, not seconds) */
} e2e_cell;

/* What the end-to-end part borrows from the in-process part, so that its
 * comparisons are measured interleaved with it. */
typedef struct e2e_hooks {
    void *ctx;
    /* One whole signing in this process (the sign_in_process step). */
    bool (*sign_in_process)(void *ctx, unsigned i);
    /* floor_gmp_parallel() on the bench's key. */
    double (*floor_parallel)(void *ctx, unsigned threads, unsigned per_thread);
} e2e_hooks;

typedef struct e2e_options {
    const char *server_bin; /* splitkey-server */
    unsigned keys;          /* keys signing; 0: the profile's default */
    bool quick;
    e2e_hooks hooks;
} e2e_options;

typedef struct e2e_result {
    bool ran;          /* every figure below was measured */
    unsigned keys;     /* keys signing */
    unsigned enrolled; /* keys enrolled over the enrolment grid */
    /* one enrolment each, from its start to its proof-of-possession
     * signature, the server making its key during the request */
    e2e_cell enrol[E2E_NW][E2E_NC];
    /* the device partial computed inline, on the same cores as the server */
    e2e_cell sign[E2E_NW][E2E_NC];
    /* device partials computed ahead, only approvals sent: the server's rate */
    e2e_cell server[E2E_NW][E2E_NC];
    /* sign_in_process, each one right after a signing of the (1 worker,
     * 1 client) cell */
    series in_process;
    /* each of those signings' e2e latency / its in-process signing's time
     * (values are ratios, not seconds) */
    series in_process_pair_ratio;
    /* the floor on one thread and on two at once, between the bursts of the
     * 8-client cell: operations and wall seconds of each */
    unsigned long floor_n[2];
    double floor_s[2];
    /* an approval's worth of WAL pages written and flushed (fdatasync) in
     * the servers' directory, between the rounds of the 8-client cell */
    series disk_flush;
    long cores; /* online CPUs */
} e2e_result;

/* Runs every end-to-end measurement of one profile into r (zeroed first).
 * Starts and stops the servers in a temporary directory it removes.
 * Returns false (after a message on stderr) on any failure, a signature
 * that does not verify included. */
bool e2e_run(e2e_result *r, sk_profile profile, const e2e_options *o);
void e2e_free(e2e_result *r);
/* Operations per second of a cell (0 when empty). */
double e2e_rate(const e2e_cell *c);
/* Server or client CPU milliseconds per operation of a cell (< 0 when not
 * read). */
double e2e_cpu_ms(const e2e_cell *c);
double e2e_client_cpu_ms(const e2e_cell *c);
/* The share of the cores' time left idle during a cell's phases, 0 to 1
 * (< 0 when not read). */
double e2e_idle(const e2e_cell *c, long cores);
/* a's rate / b's rate for two cells measured round by round in turn: the
 * median over the rounds of the ratio of the two rounds' rates, so that a
 * slow or fast spell of the machine during one round weighs no more than
 * any other round (0 when either is empty or they have different numbers
 * of rounds). */
double e2e_paired_ratio(const e2e_cell *a, const e2e_cell *b);
/* The floor's rate on two threads / on one (0 when not measured). */
double e2e_floor_scaling(const e2e_result *r);

/* ------------------------------------------- SQLite against PostgreSQL */

/* The store comparison (e2e_store.c): the same signing load - E2E_ST_CLIENTS
 * clients, each signing back to back with its own key, the device partial
 * inline - against one SQLite server, one PostgreSQL server and two
 * PostgreSQL servers on one database (E2E_ST_WORKERS workers each), measured
 * in turn round by round like the grids above. */
enum { E2E_ST_SQLITE, E2E_ST_PG1, E2E_ST_PG2, E2E_ST_N };
#define E2E_ST_CLIENTS 4u
#define E2E_ST_WORKERS 2u
extern const char *const e2e_store_names[E2E_ST_N];
typedef struct e2e_store_result {
    bool ran;
    const char *note;               /* why not measured, when !ran */
    unsigned rounds, per_client;    /* signatures per client and round */
    series rate[E2E_ST_N];          /* signatures per second, one per round */
    series over_sqlite[E2E_ST_N];   /* per round: the rate / SQLite's in that round */
    unsigned long signatures[E2E_ST_N];
} e2e_store_result;
/* Measures into r (zeroed first).  pg_uri NULL: r->note says so and it
 * returns true.  False (after a message on stderr) on a failure, a
 * signature that does not verify included. */
bool e2e_store_run(e2e_store_result *r, sk_profile profile, const char *server_bin,
                   const char *pg_uri, bool quick);
void e2e_store_free(e2e_store_result *r);

#endif
