/* SPDX-License-Identifier: Apache-2.0 */
/* Exhaustive tests of the split math on toy primes:
 *  A. single modulus: every message m in [0, n1) and every split dc of a
 *     range covering every residue class mod lambda (and values above it);
 *     the server accepts exactly the partials that complete to a valid
 *     signature, and the result equals m^d mod n1.
 *  B. composite with CRT: every message m in [0, n) for several splits; s
 *     equals the single-key signature m^d mod n. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "testutil.h"

static const unsigned long E = SK_E;

static void sec_from_ui(sk_sec *x, unsigned long v)
{
    memset(x->d, 0, (size_t)x->n * sizeof(mp_limb_t));
    x->d[0] = v;
}

/* A. n1 = p*q, every m, every dc in [0, 2*lambda + 3). */
static void single_modulus(unsigned long p, unsigned long q)
{
    mpz_t n1, lambda, d, m, y, want, t, ez;
    mpz_inits(n1, lambda, d, m, y, want, t, ez, NULL);
    mpz_set_ui(n1, p * q);
    mpz_set_ui(lambda, p - 1);
    mpz_lcm_ui(lambda, lambda, q - 1);
    mpz_set_ui(ez, E);
    CHECK(mpz_invert(d, ez, lambda) != 0);
    unsigned long lam = mpz_get_ui(lambda), dd = mpz_get_ui(d), n = p * q;

    sk_sec dc, ds, s1;
    CHECK_OK(sk_sec_alloc(&dc, 1));
    CHECK_OK(sk_sec_alloc(&ds, 1));
    CHECK_OK(sk_sec_alloc(&s1, 1));
    unsigned long accepted = 0, rejected = 0;

    for (unsigned long c = 0; c < 2 * lam + 3; c++) {
        /* a correct split, and one off by one (a "wrong PIN") */
        for (int wrong = 0; wrong <= 1; wrong++) {
            unsigned long dsv = (dd + 2 * lam - (c % lam)) % lam; /* (d - dc) mod lambda */
            sec_from_ui(&dc, c + (unsigned long)wrong);
            sec_from_ui(&ds, dsv);
            for (unsigned long mv = 0; mv < n; mv++) {
                mpz_set_ui(m, mv);
                int rc = sk_math_partial(y, m, n1, &dc, 64);
                if (mv == 0) {
                    CHECK_RC(SK_ERR_BAD_VALUE, rc);
                    continue;
                }
                CHECK_OK(rc);
                /* y = m^dc mod n1, compared with plain GMP */
                mpz_powm_ui(want, m, c + (unsigned long)wrong, n1);
                CHECK(mpz_cmp(y, want) == 0);
                if (mpz_sgn(y) == 0) {
                    /* never the case for m != 0 mod n1 with squarefree n1 */
                    CHECK(0);
                    continue;
                }
                rc = sk_math_complete_n1(&s1, m, y, n1, &ds, E);
                /* expected: s1 = m^(dc+ds) is valid iff s1^e == m */
                mpz_powm_ui(want, m, c + (unsigned long)wrong + dsv, n1);
                mpz_powm_ui(t, want, E, n1);
                bool valid = mpz_cmp(t, m) == 0;
                if (valid) {
                    CHECK_OK(rc);
                    mpz_t got;
                    mpz_init(got);
                    sk_sec_to_mpz(got, &s1);
                    CHECK(mpz_cmp(got, want) == 0);
                    mpz_powm_ui(t, m, dd, n1); /* the single-key signature */
                    CHECK(mpz_cmp(got, t) == 0);
                    mpz_clear(got);
                    accepted++;
                } else {
                    CHECK_RC(SK_ERR_PARTIAL_INVALID, rc);
                    CHECK(s1.d[0] == 0);
                    rejected++;
                }
                if (!wrong)
                    CHECK(valid); /* a correct split always verifies */
            }
        }
    }
    /* A wrong split must be refused for most messages (m = 1, n1-1 and the
     * like can pass any exponent that agrees mod their order). */
    CHECK(rejected > accepted / 4);
    /* y out of range is not a PIN matter */
    mpz_set_ui(m, 2);
    mpz_set(y, n1);
    CHECK_RC(SK_ERR_BAD_VALUE, sk_math_complete_n1(&s1, m, y, n1, &ds, E));
    mpz_set_ui(y, 0);
    CHECK_RC(SK_ERR_BAD_VALUE, sk_math_complete_n1(&s1, m, y, n1, &ds, E));

    sk_sec_free(&dc);
    sk_sec_free(&ds);
    sk_sec_free(&s1);
    mpz_clears(n1, lambda, d, m, y, want, t, ez, NULL);
}

/* B. Full composite n = (p1 q1)(p2 q2), every message, several splits. */
static void composite(unsigned long p1, unsigned long q1, unsigned long p2, unsigned long q2)
{
    mpz_t n1, n2, n, lam1, d1, lam, d, ez, n1inv, m, y, want, t;
    mpz_inits(n1, n2, n, lam1, d1, lam, d, ez, n1inv, m, y, want, t, NULL);
    mpz_set_ui(ez, E);
    mpz_set_ui(n1, p1 * q1);
    mpz_set_ui(n2, p2 * q2);
    mpz_mul(n, n1, n2);
    mpz_set_ui(lam1, p1 - 1);
    mpz_lcm_ui(lam1, lam1, q1 - 1);
    CHECK(mpz_invert(d1, ez, lam1) != 0);
    mpz_set_ui(lam, p1 - 1);
    mpz_lcm_ui(lam, lam, q1 - 1);
    mpz_lcm_ui(lam, lam, p2 - 1);
    mpz_lcm_ui(lam, lam, q2 - 1);
    CHECK(mpz_invert(d, ez, lam) != 0);
    CHECK(mpz_invert(n1inv, n1, n2) != 0);

    /* The server key, built by hand at toy size. */
    sk_server_key key;
    memset(&key, 0, sizeof key);
    key.bits = 16;
    mpz_init_set(key.n2, n2);
    CHECK_OK(sk_sec_alloc(&key.p, 1));
    CHECK_OK(sk_sec_alloc(&key.q, 1));
    CHECK_OK(sk_sec_alloc(&key.dp, 1));
    CHECK_OK(sk_sec_alloc(&key.dq, 1));
    CHECK_OK(sk_sec_alloc(&key.qinv, 1));
    mpz_t d2, lam2, pp, qq;
    mpz_inits(d2, lam2, pp, qq, NULL);
    mpz_set_ui(lam2, p2 - 1);
    mpz_lcm_ui(lam2, lam2, q2 - 1);
    CHECK(mpz_invert(d2, ez, lam2) != 0);
    mpz_set_ui(pp, p2);
    mpz_set_ui(qq, q2);
    key.p.d[0] = p2;
    key.q.d[0] = q2;
    key.dp.d[0] = mpz_fdiv_ui(d2, p2 - 1);
    key.dq.d[0] = mpz_fdiv_ui(d2, q2 - 1);
    CHECK(mpz_invert(t, qq, pp) != 0);
    key.qinv.d[0] = mpz_get_ui(t);

    sk_sec dc, ds, s1, s2, s;
    CHECK_OK(sk_sec_alloc(&dc, 1));
    CHECK_OK(sk_sec_alloc(&ds, 1));
    CHECK_OK(sk_sec_alloc(&s1, 1));
    CHECK_OK(sk_sec_alloc(&s2, 1));
    CHECK_OK(sk_sec_alloc(&s, (mp_size_t)mpz_size(n)));
    unsigned long lam1v = mpz_get_ui(lam1), d1v = mpz_get_ui(d1), nv = mpz_get_ui(n);
    unsigned long splits[] = {0, 1, d1v, lam1v - 1, lam1v + 5, 3 * lam1v + 2};
    unsigned long checked = 0;

    for (size_t si = 0; si < sizeof splits / sizeof splits[0]; si++) {
        unsigned long c = splits[si];
        sec_from_ui(&dc, c);
        sec_from_ui(&ds, (d1v + 4 * lam1v - (c % lam1v)) % lam1v);
        for (unsigned long mv = 1; mv < nv; mv++) {
            mpz_set_ui(m, mv);
            if (mpz_divisible_p(m, n1)) {
                CHECK_RC(SK_ERR_BAD_VALUE, sk_math_partial(y, m, n1, &dc, 64));
                continue;
            }
            CHECK_OK(sk_math_partial(y, m, n1, &dc, 64));
            CHECK_OK(sk_math_complete_n1(&s1, m, y, n1, &ds, E));
            CHECK_OK(sk_math_crt_sign(&s2, m, &key, E));
            CHECK_OK(sk_math_combine(&s, &s1, &s2, n1, n2, n1inv, n, m, E));
            mpz_t got;
            mpz_init(got);
            sk_sec_to_mpz(got, &s);
            mpz_powm(want, m, d, n);
            if (mpz_cmp(got, want) != 0) {
                CHECK(mpz_cmp(got, want) == 0);
                mpz_clear(got);
                goto done;
            }
            mpz_clear(got);
            checked++;
        }
    }
done:
    CHECK(checked > 0);
    printf("composite %lu*%lu*%lu*%lu: %lu signatures equal m^d mod n\n", p1, q1, p2, q2,
           checked);
    sk_sec_free(&dc);
    sk_sec_free(&ds);
    sk_sec_free(&s1);
    sk_sec_free(&s2);
    sk_sec_free(&s);
    sk_server_key_release(&key);
    mpz_clears(d2, lam2, pp, qq, NULL);
    mpz_clears(n1, n2, n, lam1, d1, lam, d, ez, n1inv, m, y, want, t, NULL);
}

int main(void)
{
    sk_test_init();
    single_modulus(5, 7);
    single_modulus(11, 13);
    single_modulus(17, 23);
    single_modulus(3, 5);
    composite(5, 7, 11, 13);
    composite(11, 13, 17, 19);
    composite(13, 11, 7, 23); /* n1 > n2 */
    return sk_test_done("test_exhaustive");
}
