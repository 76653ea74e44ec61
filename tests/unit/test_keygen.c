/* SPDX-License-Identifier: Apache-2.0 */
/* Key generation (client, server, composite): sizes, the sqrt(2) bound, prime gap,
 * gcd(e, p-1), determinism under the DRBG, server key export/import, the
 * composite modulus, and the enrolment checks on n1. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "testutil.h"

static void check_primes(unsigned bits, const char *seed)
{
    sk_drbg drbg;
    sk_drbg_init(&drbg, (const uint8_t *)seed, strlen(seed));
    mpz_t p, q, n, bound, t, diff;
    mpz_inits(p, q, n, bound, t, diff, NULL);
    CHECK_OK(sk_rsa_primes(p, q, bits, SK_E, &drbg.rng));
    mpz_mul(n, p, q);
    CHECK(mpz_sizeinbase(p, 2) == bits / 2);
    CHECK(mpz_sizeinbase(q, 2) == bits / 2);
    CHECK(mpz_sizeinbase(n, 2) == bits);
    /* n >= ceil(sqrt(2) * 2^(bits-1))  <=>  n^2 >= 2^(2 bits - 1) */
    mpz_mul(t, n, n);
    mpz_ui_pow_ui(bound, 2, 2 * (unsigned long)bits - 1);
    CHECK(mpz_cmp(t, bound) >= 0);
    CHECK(mpz_probab_prime_p(p, 30) > 0);
    CHECK(mpz_probab_prime_p(q, 30) > 0);
    mpz_sub_ui(t, p, 1);
    CHECK(mpz_gcd_ui(NULL, t, SK_E) == 1);
    mpz_sub_ui(t, q, 1);
    CHECK(mpz_gcd_ui(NULL, t, SK_E) == 1);
    mpz_sub(diff, p, q);
    mpz_abs(diff, diff);
    mpz_set_ui(t, 0);
    mpz_setbit(t, bits / 2 - 100);
    CHECK(mpz_cmp(diff, t) > 0);
    mpz_clears(p, q, n, bound, t, diff, NULL);
    sk_drbg_wipe(&drbg);
}

static void check_mr(void)
{
    sk_drbg drbg;
    sk_drbg_init(&drbg, (const uint8_t *)"mr", 2);
    mpz_t n;
    mpz_init(n);
    /* Carmichael numbers and strong pseudoprimes to small bases are caught. */
    static const char *composites[] = {"561", "41041", "3215031751", "2152302898747",
                                       "3474749660383", "341550071728321",
                                       "3825123056546413051"};
    for (size_t i = 0; i < sizeof composites / sizeof composites[0]; i++) {
        mpz_set_str(n, composites[i], 10);
        CHECK(!sk_prime_mr(n, 20, &drbg.rng));
    }
    mpz_set_str(n, "170141183460469231731687303715884105727", 10); /* 2^127 - 1 */
    CHECK(sk_prime_mr(n, 20, &drbg.rng));
    mpz_clear(n);
    sk_drbg_wipe(&drbg);
}

/* sk_server_key_import refuses the earlier "SKS1" form and a key with any one
 * of its checks broken: p2 or q2 without its top bit or even, one bit flipped
 * in any field, qinv + p2 (right residue, not reduced), dp + (p2 - 1), a
 * wrong header.  The accepted key gives back the same bytes and modulus. */
static void check_import_refusals(const sk_server_key *key, unsigned k)
{
    size_t len = SK_SERVER_KEY_LEN(k), half = k / 16;
    uint8_t *good = malloc(len), *blob = malloc(len), *n2a = malloc(k / 8), *n2b = malloc(k / 8);
    sk_server_key *got = NULL;
    mpz_t x, y;
    mpz_inits(x, y, NULL);
    if (good == NULL || blob == NULL || n2a == NULL || n2b == NULL) {
        CHECK(0);
        goto out;
    }
    CHECK_OK(sk_server_key_export(key, good, len));
    CHECK(memcmp(good, "SKS2", 4) == 0 && good[4] == k >> 8 && good[5] == (k & 0xff));
    CHECK_OK(sk_server_key_import(&got, good, len));
    if (got != NULL) {
        CHECK_OK(sk_server_key_modulus(key, n2a, k / 8));
        CHECK_OK(sk_server_key_modulus(got, n2b, k / 8));
        CHECK(memcmp(n2a, n2b, k / 8) == 0);
        CHECK(sk_server_key_profile(got) == (sk_profile)k);
        sk_server_key_free(got);
        got = NULL;
    }

    /* The earlier form, with its own length and with the new one. */
    memcpy(blob, good, len);
    memcpy(blob, "SKS1", 4);
    CHECK_RC(SK_ERR_KEY_FORMAT, sk_server_key_import(&got, blob, 6 + k / 8));
    CHECK_RC(SK_ERR_KEY_FORMAT, sk_server_key_import(&got, blob, len));
    /* Header: size not a multiple of 128, a length that does not match. */
    memcpy(blob, good, len);
    blob[5] ^= 0x40;
    CHECK_RC(SK_ERR_KEY_FORMAT, sk_server_key_import(&got, blob, len));
    CHECK_RC(SK_ERR_KEY_FORMAT, sk_server_key_import(&got, good, len - 1));

    /* One bit flipped in each field: in the top, a middle and the low byte. */
    const size_t offs[3] = {0, half / 2, half - 1};
    static const uint8_t flips[3] = {0x80, 0x10, 0x01};
    for (size_t field = 0; field < 5; field++) {
        for (size_t w = 0; w < 3; w++) {
            memcpy(blob, good, len);
            blob[6 + field * half + offs[w]] ^= flips[w];
            CHECK_RC(SK_ERR_KEY_FORMAT, sk_server_key_import(&got, blob, len));
            CHECK(got == NULL);
        }
    }

    /* Right residues, not reduced: qinv + p2 and dp + (p2 - 1) (if they fit). */
    const uint8_t *p = good + 6, *dp = good + 6 + 2 * half, *qinv = good + 6 + 4 * half;
    sk_mpz_from_bytes(x, qinv, half);
    sk_mpz_from_bytes(y, p, half);
    mpz_add(x, x, y);
    memcpy(blob, good, len);
    if (sk_mpz_to_bytes(blob + 6 + 4 * half, half, x) == SK_OK)
        CHECK_RC(SK_ERR_KEY_FORMAT, sk_server_key_import(&got, blob, len));
    sk_mpz_from_bytes(x, dp, half);
    mpz_sub_ui(y, y, 1);
    mpz_add(x, x, y);
    memcpy(blob, good, len);
    if (sk_mpz_to_bytes(blob + 6 + 2 * half, half, x) == SK_OK)
        CHECK_RC(SK_ERR_KEY_FORMAT, sk_server_key_import(&got, blob, len));
    /* p2 and q2 swapped: qinv is then the wrong inverse. */
    memcpy(blob, good, len);
    memcpy(blob + 6, good + 6 + half, half);
    memcpy(blob + 6 + half, good + 6, half);
    CHECK_RC(SK_ERR_KEY_FORMAT, sk_server_key_import(&got, blob, len));
    /* All zero and all ones. */
    memset(blob + 6, 0, len - 6);
    CHECK_RC(SK_ERR_KEY_FORMAT, sk_server_key_import(&got, blob, len));
    memset(blob + 6, 0xff, len - 6);
    CHECK_RC(SK_ERR_KEY_FORMAT, sk_server_key_import(&got, blob, len));
    CHECK(got == NULL);
out:
    if (blob != NULL)
        sk_wipe(blob, len);
    if (good != NULL)
        sk_wipe(good, len);
    free(blob);
    free(good);
    free(n2a);
    free(n2b);
    mpz_clears(x, y, NULL);
}

static void check_profile(sk_profile profile)
{
    unsigned k = sk_profile_bits(profile);
    uint8_t *ds = malloc(k / 8), *n1 = malloc(k / 8), *n2 = malloc(k / 8);
    uint8_t *blob = malloc(sk_server_key_len(profile)), *blob2 = malloc(sk_server_key_len(profile));
    sk_client_share *cs = NULL;
    sk_server_key *sk = NULL, *sk2 = NULL;
    sk_server_share *ss = NULL;
    sk_pubkey *pub = NULL;

    CHECK_OK(sk_client_keygen(&cs, ds, k / 8, profile));
    CHECK_OK(sk_server_keygen(&sk, profile));
    if (cs == NULL || sk == NULL)
        goto out;
    CHECK(sk_client_share_profile(cs) == profile);
    CHECK(sk_server_key_profile(sk) == profile);
    CHECK_OK(sk_client_share_modulus(cs, n1, k / 8));
    CHECK_OK(sk_server_key_modulus(sk, n2, k / 8));
    CHECK((n1[0] & 0x80) && (n2[0] & 0x80) && (n1[k / 8 - 1] & 1));
    CHECK_OK(sk_check_client_modulus(n1, k / 8, profile));

    /* server key export / import round trip */
    CHECK_OK(sk_server_key_export(sk, blob, sk_server_key_len(profile)));
    CHECK_OK(sk_server_key_import(&sk2, blob, sk_server_key_len(profile)));
    if (sk2 != NULL) {
        CHECK_OK(sk_server_key_export(sk2, blob2, sk_server_key_len(profile)));
        CHECK(memcmp(blob, blob2, sk_server_key_len(profile)) == 0);
    }
    check_import_refusals(sk, k);
    sk_server_key *bad = NULL;
    CHECK_RC(SK_ERR_KEY_FORMAT, sk_server_key_import(&bad, blob, 10));
    CHECK(bad == NULL);

    /* composite modulus has exactly 2k bits */
    CHECK_OK(sk_server_share_new(&ss, n1, k / 8, ds, k / 8, sk));
    if (ss != NULL) {
        CHECK_OK(sk_server_share_pubkey(ss, &pub));
        if (pub != NULL)
            CHECK(sk_pubkey_bits(pub) == 2 * k);
    }
    /* ds must lie below n1: n1 itself and all ones are refused, n1 - 1 (n1 is
     * odd) is not. */
    sk_server_share *ss2 = NULL;
    memcpy(n2, n1, k / 8);
    CHECK_RC(SK_ERR_BAD_VALUE, sk_server_share_new(&ss2, n1, k / 8, n2, k / 8, sk));
    CHECK(ss2 == NULL);
    memset(n2, 0xff, k / 8);
    CHECK_RC(SK_ERR_BAD_VALUE, sk_server_share_new(&ss2, n1, k / 8, n2, k / 8, sk));
    memcpy(n2, n1, k / 8);
    n2[k / 8 - 1] ^= 1;
    CHECK_OK(sk_server_share_new(&ss2, n1, k / 8, n2, k / 8, sk));
    sk_server_share_free(ss2);
out:
    sk_wipe(ds, k / 8);
    free(ds);
    free(n1);
    free(n2);
    free(blob);
    free(blob2);
    sk_pubkey_free(pub);
    sk_server_share_free(ss);
    sk_client_share_free(cs);
    sk_server_key_free(sk);
    sk_server_key_free(sk2);
}

static void check_determinism(void)
{
    const unsigned k = 1024;
    uint8_t ds1[128], ds2[128], ds3[128], n1a[128], n1b[128], n1c[128];
    sk_client_share *a = NULL, *b = NULL, *c = NULL;
    sk_drbg d1, d2, d3;
    sk_drbg_init(&d1, (const uint8_t *)"seed-1", 6);
    sk_drbg_init(&d2, (const uint8_t *)"seed-1", 6);
    sk_drbg_init(&d3, (const uint8_t *)"seed-2", 6);
    CHECK_OK(sk_client_keygen_rng(&a, ds1, sizeof ds1, k, &d1.rng));
    CHECK_OK(sk_client_keygen_rng(&b, ds2, sizeof ds2, k, &d2.rng));
    CHECK_OK(sk_client_keygen_rng(&c, ds3, sizeof ds3, k, &d3.rng));
    if (a && b && c) {
        CHECK_OK(sk_client_share_modulus(a, n1a, sizeof n1a));
        CHECK_OK(sk_client_share_modulus(b, n1b, sizeof n1b));
        CHECK_OK(sk_client_share_modulus(c, n1c, sizeof n1c));
        CHECK(memcmp(n1a, n1b, k / 8) == 0 && memcmp(ds1, ds2, k / 8) == 0);
        CHECK(memcmp(n1a, n1c, k / 8) != 0 && memcmp(ds1, ds3, k / 8) != 0);
    }
    sk_client_share_free(a);
    sk_client_share_free(b);
    sk_client_share_free(c);
    sk_drbg_wipe(&d1);
    sk_drbg_wipe(&d2);
    sk_drbg_wipe(&d3);
}

/* At enrolment the server refuses bad client moduli. */
static void check_modulus_rejection(void)
{
    const sk_profile profile = SK_PROFILE_4K;
    const unsigned k = 2048;
    uint8_t n1[256], ds[256] = {0};
    sk_drbg drbg;
    sk_drbg_init(&drbg, (const uint8_t *)"reject", 6);
    mpz_t p, q, r, n, t, min;
    mpz_inits(p, q, r, n, t, min, NULL);
    sk_server_key *key = NULL;
    sk_server_share *ss = NULL;
    CHECK_OK(sk_server_keygen_rng(&key, k, &drbg.rng));
    if (key == NULL)
        goto out;

    /* gcd(n1, n2) != 1: n1 shares the server's prime p2 */
    sk_sec_to_mpz(p, &key->p);
    mpz_setbit(min, k / 2 - 1);
    mpz_setbit(min, k / 2 - 2); /* top two bits: p * r has exactly k bits */
    CHECK_OK(sk_prime_generate(r, k / 2, min, SK_E, &drbg.rng));
    mpz_mul(n, p, r);
    CHECK(mpz_sizeinbase(n, 2) == k);
    CHECK_OK(sk_mpz_to_bytes(n1, sizeof n1, n));
    CHECK_OK(sk_check_client_modulus(n1, sizeof n1, profile)); /* looks fine alone */
    CHECK_RC(SK_ERR_KEY_MISMATCH, sk_server_share_new(&ss, n1, sizeof n1, ds, sizeof ds, key));
    CHECK(ss == NULL);
    /* undersized: top bit clear */
    mpz_set_ui(n, 0);
    mpz_setbit(n, k - 2);
    mpz_add_ui(n, n, 1);
    CHECK_OK(sk_mpz_to_bytes(n1, sizeof n1, n));
    CHECK_RC(SK_ERR_KEY_SIZE, sk_check_client_modulus(n1, sizeof n1, profile));
    CHECK_RC(SK_ERR_KEY_SIZE, sk_server_share_new(&ss, n1, sizeof n1, ds, sizeof ds, key));
    CHECK_RC(SK_ERR_KEY_SIZE, sk_check_client_modulus(n1, 100, profile));
    /* even */
    memset(n1, 0xff, sizeof n1);
    n1[255] = 0xfe;
    CHECK_RC(SK_ERR_KEY_WEAK, sk_check_client_modulus(n1, sizeof n1, profile));
    CHECK_RC(SK_ERR_KEY_WEAK, sk_server_share_new(&ss, n1, sizeof n1, ds, sizeof ds, key));
    /* a small factor: 65521 * (a large odd number) */
    mpz_set_ui(t, 0);
    mpz_setbit(t, k - 1);
    mpz_cdiv_q_ui(t, t, 65521);
    mpz_setbit(t, 0);
    mpz_add_ui(t, t, 2);
    mpz_mul_ui(n, t, 65521);
    CHECK(mpz_sizeinbase(n, 2) == k);
    CHECK_OK(sk_mpz_to_bytes(n1, sizeof n1, n));
    CHECK_RC(SK_ERR_KEY_WEAK, sk_check_client_modulus(n1, sizeof n1, profile));
    /* a perfect square of a k/2-bit prime */
    CHECK_OK(sk_prime_generate(q, k / 2, min, SK_E, &drbg.rng));
    mpz_mul(n, q, q);
    CHECK(mpz_sizeinbase(n, 2) == k);
    CHECK_OK(sk_mpz_to_bytes(n1, sizeof n1, n));
    CHECK_RC(SK_ERR_KEY_WEAK, sk_check_client_modulus(n1, sizeof n1, profile));
    /* an honest modulus passes, a wrong profile does not */
    mpz_mul(n, q, r);
    CHECK(mpz_sizeinbase(n, 2) == k);
    CHECK_OK(sk_mpz_to_bytes(n1, sizeof n1, n));
    CHECK_OK(sk_check_client_modulus(n1, sizeof n1, profile));
    CHECK_RC(SK_ERR_KEY_SIZE, sk_check_client_modulus(n1, sizeof n1, SK_PROFILE_6K));
out:
    sk_server_key_free(key);
    mpz_clears(p, q, r, n, t, min, NULL);
    sk_drbg_wipe(&drbg);
}

int main(void)
{
    sk_test_init();
    check_mr();
    check_primes(512, "p512");
    check_primes(2048, "p2048");
    check_primes(3072, "p3072");
    check_profile(SK_PROFILE_4K);
    check_profile(SK_PROFILE_6K);
    check_determinism();
    check_modulus_rejection();
    return sk_test_done("test_keygen");
}
