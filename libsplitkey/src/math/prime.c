/* SPDX-License-Identifier: Apache-2.0 */
/* prime.c - probable primes for RSA: random start, small-prime sieve over a
 * window of odd candidates, then Miller-Rabin (FIPS 186-5 B.3, rounds from
 * its table B.1) with constant-time exponentiation. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Odd primes below 2^16: 6541 of them. */
#define SMALL_PRIME_LIMIT 65536u
#define SMALL_PRIME_MAX_COUNT 6600u
static uint16_t small_primes[SMALL_PRIME_MAX_COUNT];
static size_t small_prime_count;
static pthread_once_t small_primes_once = PTHREAD_ONCE_INIT;

static void small_primes_init(void)
{
    uint8_t *composite = calloc(SMALL_PRIME_LIMIT, 1);
    if (composite == NULL)
        abort();
    for (uint32_t i = 3; i < SMALL_PRIME_LIMIT; i += 2) {
        if (composite[i])
            continue;
        small_primes[small_prime_count++] = (uint16_t)i;
        for (uint32_t j = i * i; j < SMALL_PRIME_LIMIT; j += 2 * i)
            composite[j] = 1;
    }
    free(composite);
}

void sk_small_primes(const uint16_t **primes, size_t *count)
{
    pthread_once(&small_primes_once, small_primes_init);
    *primes = small_primes;
    *count = small_prime_count;
}

/* FIPS 186-5 table B.1 at the error probability matching each size's
 * security strength (1024-bit primes: 2^-112, 1536: 2^-128, 2048: 2^-144);
 * smaller sizes, used only by tests, get generous counts. */
static unsigned mr_rounds(unsigned bits)
{
    if (bits >= 1536)
        return 4;
    if (bits >= 1024)
        return 5;
    if (bits >= 512)
        return 7;
    return 40;
}

bool sk_prime_mr(const mpz_t n, unsigned rounds, const sk_rng *rng)
{
    if (mpz_cmp_ui(n, 5) < 0)
        return mpz_cmp_ui(n, 2) == 0 || mpz_cmp_ui(n, 3) == 0;
    if (mpz_even_p(n))
        return false;

    bool prime = true;
    mpz_t nm1, d, a, x, range;
    mpz_inits(nm1, d, a, x, range, NULL);
    mpz_sub_ui(nm1, n, 1);
    mp_bitcnt_t s = mpz_scan1(nm1, 0);
    mpz_tdiv_q_2exp(d, nm1, s);
    mpz_sub_ui(range, n, 3); /* a in [2, n-2] */
    unsigned nbits = (unsigned)mpz_sizeinbase(n, 2);

    for (unsigned r = 0; r < rounds && prime; r++) {
        do {
            if (sk_mpz_random_bits(a, nbits, rng) != SK_OK) {
                prime = false;
                goto out;
            }
        } while (mpz_cmp(a, range) >= 0);
        mpz_add_ui(a, a, 2);
        mpz_powm_sec(x, a, d, n);
        if (mpz_cmp_ui(x, 1) == 0 || mpz_cmp(x, nm1) == 0)
            continue;
        bool witness = true;
        for (mp_bitcnt_t i = 1; i < s; i++) {
            mpz_mul(x, x, x);
            mpz_mod(x, x, n);
            if (mpz_cmp(x, nm1) == 0) {
                witness = false;
                break;
            }
        }
        if (witness)
            prime = false;
    }
out:
    mpz_clears(nm1, d, a, x, range, NULL);
    return prime;
}

/* Window of odd candidates start + 2j, j < SIEVE_WINDOW, sieved at once. */
#define SIEVE_WINDOW 4096u

int sk_keygen_report(sk_keygen_run *run, unsigned done)
{
    if (run == NULL || run->cb == NULL || run->cb->report == NULL)
        return SK_OK;
    if (done > 1000)
        done = 1000;
    if (done < run->reported)
        done = run->reported;
    run->reported = done;
    return run->cb->report(run->cb->ctx, SK_PROGRESS_KEYGEN, done, 1000) != 0 ? SK_ERR_CANCELLED
                                                                            : SK_OK;
}

/* About how many candidates reach Miller-Rabin before a prime of `bits`
 * bits turns up: an odd number near 2^bits is prime with probability about
 * 2 / (bits ln 2), and the sieve over the odd primes below 2^16 keeps about
 * 2 e^-gamma / ln 2^16 = 0.101 of the odd numbers; so bits * ln 2 / 2 * 0.101,
 * about bits / 28. */
static unsigned long expected_tests(unsigned bits) { return bits / 28u + 1u; }

/* After a tested candidate: the share of the prime being sought, as
 * 490 * t / (t + expect) per mille (half way at the expected count, never
 * 500), added to the base of this prime. */
static int report_tested(sk_keygen_run *run)
{
    if (run == NULL)
        return SK_OK;
    run->tested++;
    unsigned long share = 490ul * run->tested / (run->tested + run->expect);
    return sk_keygen_report(run, run->base + (unsigned)share);
}

static int prime_generate(mpz_t p, unsigned bits, const mpz_t min, unsigned long e,
                          const sk_rng *rng, sk_keygen_run *run)
{
    if (bits < 32 || mpz_sizeinbase(min, 2) != bits)
        return SK_ERR_ARG;

    const uint16_t *primes;
    size_t count;
    sk_small_primes(&primes, &count);

    int rc = SK_ERR_KEYGEN;
    uint8_t *sieve = malloc(SIEVE_WINDOW);
    mpz_t start, cand, g;
    mpz_inits(start, cand, g, NULL);
    if (sieve == NULL) {
        rc = SK_ERR_NOMEM;
        goto out;
    }

    for (unsigned attempt = 0; attempt < 100000; attempt++) {
        /* Uniform odd start in [min, 2^bits). */
        rc = sk_mpz_random_bits(start, bits, rng);
        if (rc != SK_OK)
            goto out;
        mpz_setbit(start, bits - 1);
        mpz_setbit(start, 0);
        if (mpz_cmp(start, min) < 0)
            continue;

        memset(sieve, 0, SIEVE_WINDOW);
        for (size_t i = 0; i < count; i++) {
            unsigned long pr = primes[i];
            unsigned long r = mpz_fdiv_ui(start, pr);
            /* first j with start + 2j = 0 (mod pr): j = -r / 2 mod pr */
            unsigned long j = ((pr - r) % pr) * ((pr + 1) / 2) % pr;
            for (; j < SIEVE_WINDOW; j += pr)
                sieve[j] = 1;
        }

        for (unsigned long j = 0; j < SIEVE_WINDOW; j++) {
            if (sieve[j])
                continue;
            mpz_add_ui(cand, start, 2 * j);
            if (mpz_sizeinbase(cand, 2) != bits)
                break;
            /* gcd(e, cand - 1) = 1 */
            mpz_sub_ui(g, cand, 1);
            if (mpz_gcd_ui(NULL, g, e) != 1)
                continue;
            if (sk_prime_mr(cand, mr_rounds(bits), rng)) {
                mpz_set(p, cand);
                rc = SK_OK;
                goto out;
            }
            /* Between candidates: the callback may stop the search. */
            rc = report_tested(run);
            if (rc != SK_OK)
                goto out;
        }
    }
    rc = SK_ERR_KEYGEN;
out:
    /* The sieve and the window's start say where the search was. */
    if (sieve != NULL)
        sk_wipe(sieve, SIEVE_WINDOW);
    free(sieve);
    mpz_clears(start, cand, g, NULL);
    return rc;
}

int sk_prime_generate(mpz_t p, unsigned bits, const mpz_t min, unsigned long e, const sk_rng *rng)
{
    return prime_generate(p, bits, min, e, rng, NULL);
}

int sk_rsa_primes(mpz_t p, mpz_t q, unsigned bits, unsigned long e, const sk_rng *rng)
{
    return sk_rsa_primes_run(p, q, bits, e, rng, NULL);
}

int sk_rsa_primes_run(mpz_t p, mpz_t q, unsigned bits, unsigned long e, const sk_rng *rng,
                      sk_keygen_run *run)
{
    if (bits < 256 || bits % 2 != 0)
        return SK_ERR_ARG;
    unsigned half = bits / 2;
    int rc;
    mpz_t min, t, diff, nbound, n;
    mpz_inits(min, t, diff, nbound, n, NULL);

    /* min = ceil(2^(half - 1/4)): then p, q >= min gives
     * p*q >= 2^(bits - 1/2) = sqrt(2) * 2^(bits-1). */
    mpz_ui_pow_ui(t, 2, 4 * (unsigned long)half - 1);
    mpz_root(min, t, 4);
    mpz_pow_ui(diff, min, 4);
    if (mpz_cmp(diff, t) < 0)
        mpz_add_ui(min, min, 1);
    /* nbound = ceil(sqrt(2) * 2^(bits-1)) = ceil(sqrt(2^(2 bits - 1))) */
    mpz_ui_pow_ui(t, 2, 2 * (unsigned long)bits - 1);
    mpz_sqrt(nbound, t);
    mpz_mul(diff, nbound, nbound);
    if (mpz_cmp(diff, t) < 0)
        mpz_add_ui(nbound, nbound, 1);

    /* gap: |p - q| must exceed 2^(half - 100) (toy sizes: p != q) */
    mpz_set_ui(t, 0);
    if (half > 100)
        mpz_setbit(t, half - 100);

    if (run != NULL) {
        run->base = 0;
        run->tested = 0;
        run->expect = expected_tests(half);
    }
    rc = prime_generate(p, half, min, e, rng, run);
    if (rc == SK_OK && run != NULL) {
        run->base = 500;
        run->tested = 0;
        rc = sk_keygen_report(run, 500);
    }
    for (unsigned tries = 0; rc == SK_OK; tries++) {
        if (tries == 64) {
            rc = SK_ERR_KEYGEN;
            break;
        }
        rc = prime_generate(q, half, min, e, rng, run);
        if (rc != SK_OK)
            break;
        mpz_sub(diff, p, q);
        mpz_abs(diff, diff);
        mpz_mul(n, p, q);
        if (mpz_cmp(diff, t) > 0 && mpz_sizeinbase(n, 2) == bits && mpz_cmp(n, nbound) >= 0)
            break; /* success */
    }
    if (rc != SK_OK) {
        mpz_set_ui(p, 0);
        mpz_set_ui(q, 0);
    }
    mpz_clears(min, t, diff, nbound, n, NULL);
    return rc;
}
