/* SPDX-License-Identifier: Apache-2.0 */
/* rsakey.h - whole RSA keys for the encoding tests, made with GMP from a
 * deterministic generator so that any modulus size (odd ones included) can
 * be tested, and loaded into mbedTLS for differential checks. */
#ifndef SK_TEST_RSAKEY_H
#define SK_TEST_RSAKEY_H

#include <gmp.h>
#include <mbedtls/rsa.h>

#include "internal.h"

typedef struct test_rsa {
    unsigned bits;
    mpz_t n, e, d, p, q;
} test_rsa;

/* A key whose modulus has exactly `bits` bits (bits >= 64), e = 65537,
 * primes drawn from rng. */
void test_rsa_generate(test_rsa *key, unsigned bits, const sk_rng *rng);
void test_rsa_clear(test_rsa *key);

/* s = m^d mod n, written as (bits+7)/8 big-endian bytes. */
void test_rsa_private(const test_rsa *key, uint8_t *out, const uint8_t *in);

/* The key as an sk_pubkey (via sk_pubkey_from_modulus) or NULL. */
sk_pubkey *test_rsa_pubkey(const test_rsa *key);

/* Loads the key into an mbedTLS context; returns 0 on success. */
int test_rsa_to_mbedtls(const test_rsa *key, mbedtls_rsa_context *ctx);

/* Big-endian export of a non-negative mpz; the caller frees *out. */
size_t test_mpz_bytes(uint8_t **out, const mpz_t a);

/* mbedTLS-style RNG callback backed by libsodium. */
int test_rng_random(void *ctx, unsigned char *out, size_t len);

#endif
