/* SPDX-License-Identifier: Apache-2.0 */
#include "rsakey.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "splitkey/key.h"

/* A prime of exactly `bits` bits with its two top bits set (so that the
 * product of two such primes has exactly the sum of their sizes) and
 * gcd(e, p - 1) = 1. */
static void random_prime(mpz_t p, unsigned bits, const sk_rng *rng)
{
    size_t len = (bits + 7) / 8;
    uint8_t *buf = malloc(len);
    mpz_t g;
    mpz_init(g);
    for (;;) {
        if (rng->fill(rng->ctx, buf, len) != SK_OK)
            abort();
        mpz_import(p, len, 1, 1, 0, 0, buf);
        mpz_fdiv_r_2exp(p, p, bits);
        mpz_setbit(p, bits - 1);
        mpz_setbit(p, bits - 2);
        mpz_nextprime(p, p);
        if (mpz_sizeinbase(p, 2) != bits)
            continue;
        mpz_sub_ui(g, p, 1);
        mpz_gcd_ui(g, g, 65537);
        if (mpz_cmp_ui(g, 1) == 0)
            break;
    }
    mpz_clear(g);
    free(buf);
}

void test_rsa_generate(test_rsa *key, unsigned bits, const sk_rng *rng)
{
    mpz_inits(key->n, key->e, key->d, key->p, key->q, NULL);
    key->bits = bits;
    mpz_set_ui(key->e, 65537);
    mpz_t l, t;
    mpz_inits(l, t, NULL);
    do {
        random_prime(key->p, bits - bits / 2, rng);
        random_prime(key->q, bits / 2, rng);
    } while (mpz_cmp(key->p, key->q) == 0);
    mpz_mul(key->n, key->p, key->q);
    if (mpz_sizeinbase(key->n, 2) != bits)
        abort();
    mpz_sub_ui(l, key->p, 1);
    mpz_sub_ui(t, key->q, 1);
    mpz_lcm(l, l, t);
    if (mpz_invert(key->d, key->e, l) == 0)
        abort();
    mpz_clears(l, t, NULL);
}

void test_rsa_clear(test_rsa *key) { mpz_clears(key->n, key->e, key->d, key->p, key->q, NULL); }

void test_rsa_private(const test_rsa *key, uint8_t *out, const uint8_t *in)
{
    size_t k = (key->bits + 7) / 8;
    mpz_t m;
    mpz_init(m);
    mpz_import(m, k, 1, 1, 0, 0, in);
    mpz_powm(m, m, key->d, key->n);
    memset(out, 0, k);
    size_t count = (mpz_sizeinbase(m, 2) + 7) / 8;
    if (mpz_sgn(m) != 0)
        mpz_export(out + k - count, NULL, 1, 1, 0, 0, m);
    mpz_clear(m);
}

size_t test_mpz_bytes(uint8_t **out, const mpz_t a)
{
    size_t len = (mpz_sizeinbase(a, 2) + 7) / 8;
    *out = calloc(1, len + 1);
    size_t count = 0;
    mpz_export(*out, &count, 1, 1, 0, 0, a);
    return count;
}

sk_pubkey *test_rsa_pubkey(const test_rsa *key)
{
    uint8_t *n, *e;
    size_t n_len = test_mpz_bytes(&n, key->n), e_len = test_mpz_bytes(&e, key->e);
    sk_pubkey *pk = NULL;
    if (sk_pubkey_from_modulus(&pk, n, n_len, e, e_len) != SK_OK)
        pk = NULL;
    free(n);
    free(e);
    return pk;
}

int test_rsa_to_mbedtls(const test_rsa *key, mbedtls_rsa_context *ctx)
{
    uint8_t *n, *p, *q, *d, *e;
    size_t n_len = test_mpz_bytes(&n, key->n), p_len = test_mpz_bytes(&p, key->p),
           q_len = test_mpz_bytes(&q, key->q), d_len = test_mpz_bytes(&d, key->d),
           e_len = test_mpz_bytes(&e, key->e);
    int rc = mbedtls_rsa_import_raw(ctx, n, n_len, p, p_len, q, q_len, d, d_len, e, e_len);
    if (rc == 0)
        rc = mbedtls_rsa_complete(ctx);
    sodium_memzero(p, p_len);
    sodium_memzero(q, q_len);
    sodium_memzero(d, d_len);
    free(n);
    free(p);
    free(q);
    free(d);
    free(e);
    return rc;
}

int test_rng_random(void *ctx, unsigned char *out, size_t len)
{
    (void)ctx;
    randombytes_buf(out, len);
    return 0;
}
