/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_server_key.c - sk_server_key_import
 * ("SKS2" | k | p2 | q2 | dp | dq | qinv, k/16 bytes each).
 * Invariants: an accepted key has the profile size it claims, exporting it
 * gives back exactly the input, n2 = p2 * q2 has k bits, and the CRT
 * parameters are what they must be for p2, q2 and e (checked here with plain
 * GMP against the constant-time checks of the import). */
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
    /* The largest key the format can describe (k < 2^16) is 8 KiB; bound the
     * work per input to real key sizes and a little beyond. */
    if (size > SK_SERVER_KEY_LEN(8192))
        return 0;
    sk_server_key *key = NULL;
    uint8_t dummy = 0;
    int rc = sk_server_key_import(&key, size ? data : &dummy, size);
    FUZZ_ASSERT((rc == SK_OK) == (key != NULL));
    if (rc != SK_OK) {
        FUZZ_ASSERT(rc == SK_ERR_KEY_FORMAT || rc == SK_ERR_NOMEM);
        return 0;
    }
    unsigned bits = (unsigned)sk_server_key_profile(key);
    FUZZ_ASSERT(size == SK_SERVER_KEY_LEN(bits));
    FUZZ_ASSERT(mpz_sizeinbase(key->n2, 2) == bits);
    mpz_t p, q, dp, dq, qinv, t;
    mpz_inits(p, q, dp, dq, qinv, t, NULL);
    sk_sec_to_mpz(p, &key->p);
    sk_sec_to_mpz(q, &key->q);
    sk_sec_to_mpz(dp, &key->dp);
    sk_sec_to_mpz(dq, &key->dq);
    sk_sec_to_mpz(qinv, &key->qinv);
    FUZZ_ASSERT(mpz_sizeinbase(p, 2) == bits / 2 && mpz_sizeinbase(q, 2) == bits / 2);
    FUZZ_ASSERT(mpz_odd_p(p) && mpz_odd_p(q));
    mpz_mul(t, p, q);
    FUZZ_ASSERT(mpz_cmp(t, key->n2) == 0);
    FUZZ_ASSERT(mpz_cmp(qinv, p) < 0);
    mpz_mul(t, q, qinv);
    mpz_mod(t, t, p);
    FUZZ_ASSERT(mpz_cmp_ui(t, 1) == 0);
    mpz_sub_ui(p, p, 1);
    mpz_sub_ui(q, q, 1);
    FUZZ_ASSERT(mpz_cmp(dp, p) < 0 && mpz_cmp(dq, q) < 0);
    mpz_mul_ui(t, dp, SK_E);
    mpz_mod(t, t, p);
    FUZZ_ASSERT(mpz_cmp_ui(t, 1) == 0);
    mpz_mul_ui(t, dq, SK_E);
    mpz_mod(t, t, q);
    FUZZ_ASSERT(mpz_cmp_ui(t, 1) == 0);
    mpz_clears(p, q, dp, dq, qinv, t, NULL);
    uint8_t *out = malloc(size);
    FUZZ_ASSERT(out != NULL);
    FUZZ_ASSERT(sk_server_key_export(key, out, size) == SK_OK);
    FUZZ_ASSERT(memcmp(out, data, size) == 0);
    free(out);
    uint8_t *n2 = malloc(bits / 8);
    FUZZ_ASSERT(n2 != NULL);
    FUZZ_ASSERT(sk_server_key_modulus(key, n2, bits / 8) == SK_OK);
    FUZZ_ASSERT((n2[0] & 0x80) != 0);
    free(n2);
    sk_server_key_free(key);
    return 0;
}
