/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_client_modulus.c - sk_check_client_modulus, the server's check of the
 * n1 a device sends at enrolment.  Input: one byte choosing the profile (or
 * an invalid one), then n1.  Invariant: an accepted n1 has exactly k bits, is
 * odd, has no factor among the first small primes (checked independently
 * here) and is not a square or a cube. */
#include <string.h>

#include "fuzz.h"
#include "internal.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (sk_init() != SK_OK)
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const sk_profile profiles[] = {SK_PROFILE_4K, SK_PROFILE_6K, SK_PROFILE_8K,
                                          (sk_profile)0, (sk_profile)1024};
    if (size < 1 || size > 1 + 4096 / 8 + 16)
        return 0;
    sk_profile profile = profiles[data[0] % 5];
    const uint8_t *n1 = data + 1;
    size_t len = size - 1;
    uint8_t dummy = 0;
    int rc = sk_check_client_modulus(len ? n1 : &dummy, len, profile);
    unsigned bits = sk_profile_bits(profile);
    if (bits == 0) {
        FUZZ_ASSERT(rc == SK_ERR_ARG);
        return 0;
    }
    if (rc != SK_OK) {
        FUZZ_ASSERT(rc == SK_ERR_KEY_SIZE || rc == SK_ERR_KEY_WEAK);
        return 0;
    }
    FUZZ_ASSERT(len == bits / 8);
    mpz_t n, r;
    mpz_inits(n, r, NULL);
    sk_mpz_from_bytes(n, n1, len);
    FUZZ_ASSERT(mpz_sizeinbase(n, 2) == bits);
    FUZZ_ASSERT(mpz_odd_p(n));
    for (unsigned long p = 3; p < 2000; p += 2) {
        /* p prime by trial division; then it must not divide n1 */
        int prime = 1;
        for (unsigned long q = 3; q * q <= p && prime; q += 2)
            prime = p % q != 0;
        if (prime)
            FUZZ_ASSERT(mpz_fdiv_ui(n, p) != 0);
    }
    FUZZ_ASSERT(!mpz_root(r, n, 2));
    FUZZ_ASSERT(!mpz_root(r, n, 3));
    mpz_clears(n, r, NULL);
    return 0;
}
