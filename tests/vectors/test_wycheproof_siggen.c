/* SPDX-License-Identifier: Apache-2.0 */
/* test_wycheproof_siggen.c - Wycheproof RSASSA-PKCS1-v1_5 generation vectors
 * signed as split keys (single-modulus form: the device and server halves
 * over one modulus).
 *
 * For every case the vector key's private exponent d is split additively:
 * dc uniform in [0, 2^(k+128)) from a fixed-seed DRBG, ds = (d - dc) mod
 * lambda.  Then y = m^dc mod n (sk_math_partial) and s1 = y * m^ds mod n
 * with the check s1^e = m (sk_math_complete_n1), where n1 is the vector's
 * own modulus and m its EMSA-PKCS1-v1_5 encoding of the message hash.  s1
 * must be the vector's signature byte for byte, and a y with one bit
 * changed must make the completion fail with SK_ERR_PARTIAL_INVALID.
 *
 * The JSON gives n, e and d but not the primes; they are recovered from
 * (n, e, d) (e*d - 1 is a multiple of lambda; a square root of 1 other than
 * +-1 splits n), so lambda = lcm(p-1, q-1) is exact.
 *
 * Usage: test_wycheproof_siggen DATAFILE */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "testutil.h"
#include "wpdata.h"

typedef struct key {
    int usable;
    sk_hash hash;
    unsigned bits;
    unsigned long e;
    mpz_t n, d, lambda; /* d and lambda are secret: cleared (wiped) after use */
    sk_pubkey *pub;
} key;

/* Factors n from (e, d); returns 0 and sets lambda, or -1. */
static int recover_lambda(mpz_t lambda, const mpz_t n, const mpz_t e, const mpz_t d)
{
    int rc = -1;
    mpz_t k, r, x, y, p, q, nm1;
    mpz_inits(k, r, x, y, p, q, nm1, NULL);
    mpz_mul(k, e, d);
    mpz_sub_ui(k, k, 1);
    mpz_sub_ui(nm1, n, 1);
    unsigned long t = mpz_scan1(k, 0);
    mpz_fdiv_q_2exp(r, k, t);
    for (unsigned long g = 2; g < 1000 && rc != 0; g++) {
        mpz_set_ui(x, g);
        mpz_powm(x, x, r, n);
        if (mpz_cmp_ui(x, 1) == 0 || mpz_cmp(x, nm1) == 0)
            continue;
        for (unsigned long i = 0; i < t; i++) {
            mpz_powm_ui(y, x, 2, n);
            if (mpz_cmp_ui(y, 1) == 0) {
                mpz_sub_ui(x, x, 1);
                mpz_gcd(p, x, n);
                mpz_divexact(q, n, p);
                if (mpz_cmp_ui(p, 1) > 0 && mpz_cmp(p, n) < 0) {
                    mpz_sub_ui(p, p, 1);
                    mpz_sub_ui(q, q, 1);
                    mpz_lcm(lambda, p, q);
                    rc = 0;
                }
                break;
            }
            if (mpz_cmp(y, nm1) == 0)
                break;
            mpz_swap(x, y);
        }
    }
    if (rc == 0) {
        /* e * d = 1 mod lambda must hold for the recovered lambda. */
        mpz_mod(k, k, lambda);
        if (mpz_sgn(k) != 0)
            rc = -1;
    }
    mpz_clears(k, r, x, y, p, q, nm1, NULL);
    return rc;
}

static void key_clear(key *k)
{
    if (k->usable)
        mpz_clears(k->n, k->d, k->lambda, NULL);
    sk_pubkey_free(k->pub);
    sodium_memzero(k, sizeof *k);
}

static void start_key(key *k, char **f, int n)
{
    key_clear(k);
    CHECK(n == 5);
    if (n != 5)
        return;
    CHECK(wp_hash(&k->hash, f[1]) == 0);
    mpz_inits(k->n, k->d, k->lambda, NULL);
    k->usable = 1;
    mpz_t e;
    mpz_init(e);
    CHECK(mpz_set_str(k->n, f[2], 16) == 0 && mpz_set_str(e, f[3], 16) == 0 &&
          mpz_set_str(k->d, f[4], 16) == 0);
    CHECK(mpz_fits_ulong_p(e));
    k->e = mpz_get_ui(e);
    k->bits = (unsigned)mpz_sizeinbase(k->n, 2);
    CHECK(recover_lambda(k->lambda, k->n, e, k->d) == 0);
    uint8_t *nb, *eb;
    long n_len = wp_bytes(&nb, f[2]), e_len = wp_bytes(&eb, f[3]);
    CHECK(n_len > 0 && e_len > 0);
    if (n_len > 0 && e_len > 0)
        CHECK_OK(sk_pubkey_from_modulus(&k->pub, nb, (size_t)n_len, eb, (size_t)e_len));
    free(nb);
    free(eb);
    mpz_clear(e);
}

static sk_drbg drbg;
static long cases_ok, tamper_ok;

static void run_case(const key *k, const char *file, char **f, int n)
{
    CHECK(n == 6);
    if (n != 6 || !k->usable)
        return;
    const char *tcid = f[1];
    uint8_t *msg = NULL, *want = NULL;
    long msg_len = wp_bytes(&msg, f[3]), want_len = wp_bytes(&want, f[4]);
    size_t kb = sk_bytes(k->bits);
    size_t dc_bits = k->bits + 128, dc_len = sk_bytes((unsigned)dc_bits);
    uint8_t *em = malloc(kb), *sig = malloc(kb), *dc_bytes = malloc(dc_len),
            *ds_bytes = malloc(kb);
    sk_sec dc = {0}, ds = {0}, s1 = {0}, s1_bad = {0};
    mpz_t m, dcz, dsz, y;
    mpz_inits(m, dcz, dsz, y, NULL);
    CHECK(msg_len >= 0 && (size_t)want_len == kb);
    if (msg_len < 0 || (size_t)want_len != kb)
        goto out;

    /* m = EMSA-PKCS1-v1_5(H(msg)), k bytes. */
    uint8_t digest[SK_MAX_HASH_LEN];
    size_t hlen = sk_hash_len_internal(k->hash);
    CHECK_OK(sk_hash_compute(k->hash, digest, msg, (size_t)msg_len));
    CHECK_OK(sk_emsa_pkcs1_encode(em, kb, k->hash, digest, hlen));
    mpz_import(m, kb, 1, 1, 0, 0, em);

    /* dc uniform in [0, 2^(k+128)), ds = (d - dc) mod lambda. */
    CHECK_OK(drbg.rng.fill(drbg.rng.ctx, dc_bytes, dc_len));
    if (dc_bits % 8 != 0)
        dc_bytes[0] &= (uint8_t)(0xffu >> (8 - dc_bits % 8));
    mpz_import(dcz, dc_len, 1, 1, 0, 0, dc_bytes);
    mpz_sub(dsz, k->d, dcz);
    mpz_mod(dsz, dsz, k->lambda);
    memset(ds_bytes, 0, kb);
    mpz_export(ds_bytes + kb - (mpz_sizeinbase(dsz, 2) + 7) / 8, NULL, 1, 1, 0, 0, dsz);

    CHECK_OK(sk_sec_alloc(&dc, SK_LIMBS(dc_bits)));
    CHECK_OK(sk_sec_alloc(&ds, SK_LIMBS(k->bits)));
    CHECK_OK(sk_sec_alloc(&s1, SK_LIMBS(k->bits)));
    CHECK_OK(sk_sec_alloc(&s1_bad, SK_LIMBS(k->bits)));
    CHECK_OK(sk_sec_from_bytes(&dc, dc_bytes, dc_len));
    CHECK_OK(sk_sec_from_bytes(&ds, ds_bytes, kb));

    CHECK_OK(sk_math_partial(y, m, k->n, &dc, (unsigned)dc_bits));
    CHECK(mpz_sgn(y) > 0 && mpz_cmp(y, k->n) < 0);
    int rc = sk_math_complete_n1(&s1, m, y, k->n, &ds, k->e);
    sk_sec_to_bytes(sig, kb, &s1);
    sk_test_checks++;
    if (rc == SK_OK && memcmp(sig, want, kb) == 0) {
        cases_ok++;
    } else {
        sk_test_failures++;
        fprintf(stderr, "%s tcId %s: split signature %s (rc %d, %s)\n", file, tcid,
                rc == SK_OK ? "differs from the vector" : "failed", rc, sk_strerror(rc));
    }
    /* The same signature through the verifier. */
    CHECK(k->pub != NULL);
    if (k->pub != NULL)
        CHECK_OK(sk_verify_ex(k->pub, SK_SCHEME_PKCS1, k->hash, k->hash, 0, digest, hlen, sig,
                              kb));

    /* One bit of y changed: the PIN check must fail.  Bit 0 normally; if
     * that leaves (0, n), bit 1 instead. */
    mpz_combit(y, 0);
    if (mpz_sgn(y) == 0 || mpz_cmp(y, k->n) >= 0) {
        mpz_combit(y, 0);
        mpz_combit(y, 1);
    }
    rc = sk_math_complete_n1(&s1_bad, m, y, k->n, &ds, k->e);
    sk_test_checks++;
    if (rc == SK_ERR_PARTIAL_INVALID) {
        tamper_ok++;
    } else {
        sk_test_failures++;
        fprintf(stderr, "%s tcId %s: changed y gave %d (%s), expected SK_ERR_PARTIAL_INVALID\n",
                file, tcid, rc, sk_strerror(rc));
    }
out:
    sk_sec_free(&dc);
    sk_sec_free(&ds);
    sk_sec_free(&s1);
    sk_sec_free(&s1_bad);
    mpz_clears(m, dcz, dsz, y, NULL);
    sodium_memzero(dc_bytes, dc_len);
    sodium_memzero(ds_bytes, kb);
    free(dc_bytes);
    free(ds_bytes);
    free(em);
    free(sig);
    free(msg);
    free(want);
}

int main(int argc, char **argv)
{
    sk_test_init();
    if (argc != 2) {
        fprintf(stderr, "usage: %s DATAFILE\n", argv[0]);
        return 1;
    }
    wp_reader r;
    if (wp_open(&r, argv[1]) != 0)
        return 1;
    sk_drbg_init(&drbg, (const uint8_t *)"wycheproof siggen split", 23);
    char *f[WP_MAX_FIELDS];
    char file[256] = "?";
    key k = {0};
    long cases = 0;
    int n;
    while ((n = wp_next(&r, f)) > 0) {
        if (strcmp(f[0], "file") == 0) {
            snprintf(file, sizeof file, "%s", f[1]);
            key_clear(&k);
        } else if (strcmp(f[0], "genkey") == 0) {
            start_key(&k, f, n);
        } else if (strcmp(f[0], "case") == 0) {
            cases++;
            CHECK(k.usable);
            run_case(&k, file, f, n);
        }
    }
    key_clear(&k);
    sk_drbg_wipe(&drbg);

    printf("wycheproof siggen: %ld declared, %ld cases, %ld split signatures equal to the "
           "vector, %ld changed partials refused\n",
           r.declared, cases, cases_ok, tamper_ok);
    CHECK(r.missing == 0);
    CHECK(r.end_total == cases);
    CHECK(cases > 0 && cases == r.declared);
    CHECK(cases_ok == cases && tamper_ok == cases);
    wp_close(&r);
    return sk_test_done("test_wycheproof_siggen");
}
