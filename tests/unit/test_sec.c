/* SPDX-License-Identifier: Apache-2.0 */
/* The constant-time layer (src/math/sec.c) against plain GMP on random
 * operands of many sizes, and the size macros against the size functions. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "testutil.h"

static sk_drbg drbg;

static void random_odd_modulus(mpz_t m, unsigned bits)
{
    CHECK_OK(sk_mpz_random_bits(m, bits, &drbg.rng));
    mpz_setbit(m, bits - 1);
    mpz_setbit(m, 0);
}

static void to_limbs(mp_limb_t *r, mp_size_t n, const mpz_t a)
{
    CHECK_OK(sk_limbs_from_mpz(r, n, a));
}

static bool limbs_equal_mpz(const mp_limb_t *r, mp_size_t n, const mpz_t a)
{
    mpz_t t;
    mpz_init(t);
    mpz_import(t, (size_t)n, -1, sizeof(mp_limb_t), 0, 0, r);
    bool eq = mpz_cmp(t, a) == 0;
    mpz_clear(t);
    return eq;
}

static void test_modular_ops(unsigned bits)
{
    mpz_t m, a, b, e, want;
    mpz_inits(m, a, b, e, want, NULL);
    random_odd_modulus(m, bits);
    mp_size_t n = (mp_size_t)mpz_size(m);
    sk_sec_mod mod = {mpz_limbs_read(m), n};
    mp_limb_t *ra = calloc((size_t)n, sizeof(mp_limb_t)), *rb = calloc((size_t)n, sizeof(mp_limb_t)),
              *r = calloc((size_t)n, sizeof(mp_limb_t)), *wide = calloc((size_t)(3 * n), sizeof(mp_limb_t));

    for (int round = 0; round < 20; round++) {
        CHECK_OK(sk_mpz_random_bits(a, bits, &drbg.rng));
        CHECK_OK(sk_mpz_random_bits(b, bits, &drbg.rng));
        mpz_mod(a, a, m);
        mpz_mod(b, b, m);
        if (round == 0)
            mpz_set_ui(a, 0); /* zero base and zero operand */
        to_limbs(ra, n, a);
        to_limbs(rb, n, b);

        CHECK_OK(sk_sec_mulmod(r, ra, rb, mod));
        mpz_mul(want, a, b);
        mpz_mod(want, want, m);
        CHECK(limbs_equal_mpz(r, n, want));

        sk_sec_submod(r, ra, rb, mod);
        mpz_sub(want, a, b);
        mpz_mod(want, want, m);
        CHECK(limbs_equal_mpz(r, n, want));

        unsigned ebits = 1 + (unsigned)(round * 37) % (bits + 64);
        CHECK_OK(sk_mpz_random_bits(e, ebits, &drbg.rng));
        mp_size_t en = SK_LIMBS(ebits);
        mp_limb_t *el = calloc((size_t)en, sizeof(mp_limb_t));
        to_limbs(el, en, e);
        CHECK_OK(sk_sec_powm(r, ra, el, ebits, mod));
        mpz_powm(want, a, e, m);
        CHECK(limbs_equal_mpz(r, n, want));
        free(el);

        /* reduce a 3n-limb number */
        mpz_mul(want, a, b);
        mpz_mul(want, want, m);
        mpz_add(want, want, b);
        to_limbs(wide, 3 * n, want);
        CHECK_OK(sk_sec_reduce(r, wide, 3 * n, mod));
        mpz_mod(want, want, m);
        CHECK(limbs_equal_mpz(r, n, want));

        CHECK(sk_sec_eq_mask(ra, ra, n) == (mp_limb_t)-1);
        to_limbs(r, n, a);
        r[n - 1] ^= (mp_limb_t)1 << (round % GMP_NUMB_BITS);
        CHECK(sk_sec_eq_mask(ra, r, n) == 0);
    }
    free(ra);
    free(rb);
    free(r);
    free(wide);
    mpz_clears(m, a, b, e, want, NULL);
}

/* sk_sec_lt_mask against mpz_cmp: random pairs, equal values, values one
 * apart, and differences only in the low or the top limb (the borrow has to
 * run through every limb); sk_sec_bit_mask on both bit values. */
static void test_masks(void)
{
    enum { N = 5 };
    mp_limb_t a[N], b[N];
    mpz_t x, y;
    mpz_inits(x, y, NULL);
    for (int round = 0; round < 400; round++) {
        CHECK_OK(sk_mpz_random_bits(x, N * GMP_NUMB_BITS, &drbg.rng));
        switch (round % 5) {
        case 0:
            CHECK_OK(sk_mpz_random_bits(y, N * GMP_NUMB_BITS, &drbg.rng));
            break;
        case 1:
            mpz_set(y, x);
            break;
        case 2:
            mpz_add_ui(y, x, 1);
            break;
        case 3:
            mpz_set(y, x);
            mpz_combit(y, (mp_bitcnt_t)(round % GMP_NUMB_BITS));
            break;
        default:
            mpz_set(y, x);
            mpz_combit(y, (mp_bitcnt_t)((N - 1) * GMP_NUMB_BITS + round % GMP_NUMB_BITS));
            break;
        }
        if (mpz_sizeinbase(y, 2) > N * GMP_NUMB_BITS)
            mpz_set_ui(y, 0); /* x was all ones */
        to_limbs(a, N, x);
        to_limbs(b, N, y);
        CHECK(sk_sec_lt_mask(a, b, N) == (mpz_cmp(x, y) < 0 ? (mp_limb_t)-1 : 0));
        CHECK(sk_sec_lt_mask(b, a, N) == (mpz_cmp(y, x) < 0 ? (mp_limb_t)-1 : 0));
    }
    memset(a, 0, sizeof a);
    memset(b, 0xff, sizeof b);
    CHECK(sk_sec_lt_mask(a, b, N) == (mp_limb_t)-1);
    CHECK(sk_sec_lt_mask(b, a, N) == 0);
    CHECK(sk_sec_lt_mask(a, a, N) == 0);
    CHECK(sk_sec_bit_mask(1) == (mp_limb_t)-1);
    CHECK(sk_sec_bit_mask(0) == 0);
    CHECK(sk_sec_bit_mask(2) == 0);
    mpz_clears(x, y, NULL);
}

static void test_bytes(void)
{
    uint8_t in[40], out[40];
    sk_sec x;
    CHECK_OK(sk_sec_alloc(&x, 5)); /* 40 bytes */
    for (int round = 0; round < 10; round++) {
        CHECK_OK(drbg.rng.fill(drbg.rng.ctx, in, sizeof in));
        CHECK_OK(sk_sec_from_bytes(&x, in, sizeof in));
        sk_sec_to_bytes(out, sizeof out, &x);
        CHECK(memcmp(in, out, sizeof in) == 0);
        mpz_t a;
        mpz_init(a);
        sk_mpz_from_bytes(a, in, sizeof in);
        CHECK(limbs_equal_mpz(x.d, x.n, a));
        mpz_clear(a);
    }
    /* a value wider than the limbs is refused */
    uint8_t wide[41] = {1};
    CHECK_RC(SK_ERR_BAD_VALUE, sk_sec_from_bytes(&x, wide, sizeof wide));
    wide[0] = 0;
    CHECK_OK(sk_sec_from_bytes(&x, wide, sizeof wide));
    sk_sec_free(&x);
    CHECK(x.d == NULL && x.n == 0);
}

static void test_sizes(void)
{
    static const sk_profile profiles[] = {SK_PROFILE_4K, SK_PROFILE_6K, SK_PROFILE_8K};
    for (size_t i = 0; i < 3; i++) {
        unsigned bits = sk_profile_bits(profiles[i]);
        CHECK(bits == (unsigned)profiles[i]);
        CHECK(sk_profile_sig_len(profiles[i]) == SK_SIG_LEN(bits));
        CHECK(sk_profile_partial_len(profiles[i]) == SK_PARTIAL_LEN(bits));
        CHECK(sk_profile_dc_len(profiles[i]) == SK_DC_LEN(bits));
        CHECK(sk_wrapped_share_len(profiles[i]) == SK_WRAPPED_LEN(bits));
        CHECK(sk_server_key_len(profiles[i]) == SK_SERVER_KEY_LEN(bits));
        CHECK(SK_SIG_LEN(bits) == 2 * (size_t)bits / 8);
    }
    CHECK(SK_MAX_SIG_LEN == 1024);
    /* "SKS2" | k | p2 | q2 | dp | dq | qinv, k/16 bytes each */
    CHECK(SK_SERVER_KEY_LEN(4096) == 6 + 5 * 256);
    CHECK(sk_profile_bits((sk_profile)1234) == 0);
    sk_profile p;
    CHECK_OK(sk_profile_parse(&p, "6K"));
    CHECK(p == SK_PROFILE_6K);
    CHECK_RC(SK_ERR_ARG, sk_profile_parse(&p, "5K"));
    CHECK(strcmp(sk_strerror(SK_ERR_WRONG_PIN), "wrong PIN") == 0);
    CHECK(strcmp(sk_strerror(-9999), "unknown error") == 0);
}

int main(void)
{
    sk_test_init();
    sk_drbg_init(&drbg, (const uint8_t *)"test_sec", 8);
    static const unsigned sizes[] = {7, 64, 65, 127, 521, 1024, 1536, 2048, 3072};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        test_modular_ops(sizes[i]);
    test_masks();
    test_bytes();
    test_sizes();
    sk_drbg_wipe(&drbg);
    return sk_test_done("test_sec");
}
