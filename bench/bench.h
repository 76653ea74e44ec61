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

/* --------------------------------------------------------- end to end */

/* Signing over nng through a real splitkey-server child process with the
 * SQLite store (e2e.c; compiled only with the services, SK_BENCH_E2E).
 * Grid: E2E_NW worker counts (e2e_workers) x E2E_NC client counts
 * (e2e_clients). */
#define E2E_NW 2
#define E2E_NC 4
extern const unsigned e2e_workers[E2E_NW];
extern const unsigned e2e_clients[E2E_NC];

/* One cell of the grid: per-signing (or per-submit) latencies, and the
 * signings, wall time and server CPU time of the measured phases. */
typedef struct e2e_cell {
    series lat;
    unsigned long n;
    double seconds;
    double server_cpu_s; /* < 0: not read */
} e2e_cell;

typedef struct e2e_options {
    const char *server_bin; /* splitkey-server */
    unsigned keys;          /* keys enrolled; 0: the profile's default */
    bool quick;
} e2e_options;

typedef struct e2e_result {
    bool ran;      /* every figure below was measured */
    unsigned keys; /* enrolled */
    series enrol;  /* one enrolment each, proof of possession included */
    /* the device partial computed inline, on the same cores as the server */
    e2e_cell sign[E2E_NW][E2E_NC];
    /* device partials computed ahead, only approvals sent: the server's rate */
    e2e_cell server[E2E_NW][E2E_NC];
    long cores; /* online CPUs */
} e2e_result;

/* Runs every end-to-end measurement of one profile into r (zeroed first).
 * Starts, restarts and stops the server in a temporary directory it
 * removes.  Returns false (after a message on stderr) on any failure,
 * a signature that does not verify included. */
bool e2e_run(e2e_result *r, sk_profile profile, const e2e_options *o);
void e2e_free(e2e_result *r);
/* Signings per second of a cell (0 when empty). */
double e2e_rate(const e2e_cell *c);
/* Server CPU milliseconds per signing of a cell (< 0 when not read). */
double e2e_cpu_ms(const e2e_cell *c);

#endif
