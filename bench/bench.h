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

#endif
