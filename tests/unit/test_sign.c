/* SPDX-License-Identifier: Apache-2.0 */
/* Split signing end to end in one process (math and encodings):
 * - for every profile x scheme x hash, the composite signature verifies with
 *   mbedTLS's RSA verification (an independent verifier) and with sk_verify,
 *   and a tampered message is refused by both;
 * - the split signature equals the single-key signature EM^d mod n computed
 *   from the four primes (recovered by replaying the key generator's DRBG);
 * - negative paths: corrupted partial, wrong PIN, reused share, injected CRT
 *   fault, out-of-range EM and y. */
#include <mbedtls/md.h>
#include <mbedtls/rsa.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "testutil.h"

static const uint8_t PIN[] = "31415";
static const uint8_t WRONG_PIN[] = "31416";

typedef struct fixture {
    sk_profile profile;
    unsigned k;
    uint8_t *n1, *n, *wrapped;
    sk_server_share *ss;
    sk_pubkey *pub;
    mbedtls_rsa_context rsa;
} fixture;

static mbedtls_md_type_t md_of(sk_hash h)
{
    return h == SK_HASH_SHA256 ? MBEDTLS_MD_SHA256
         : h == SK_HASH_SHA384 ? MBEDTLS_MD_SHA384
                               : MBEDTLS_MD_SHA512;
}

static int fixture_init(fixture *f, sk_profile profile, const char *seed)
{
    memset(f, 0, sizeof *f);
    f->profile = profile;
    f->k = sk_profile_bits(profile);
    size_t k8 = f->k / 8;
    f->n1 = malloc(k8);
    f->n = malloc(2 * k8);
    f->wrapped = malloc(SK_WRAPPED_LEN(f->k));
    uint8_t *ds = malloc(k8);
    sk_client_share *cs = NULL;
    sk_server_key *key = NULL;
    sk_drbg drbg;
    sk_drbg_init(&drbg, (const uint8_t *)seed, strlen(seed));
    int ok = 0;
    CHECK_OK(sk_client_keygen_rng(&cs, ds, k8, f->k, &drbg.rng));
    CHECK_OK(sk_server_keygen_rng(&key, f->k, &drbg.rng));
    if (cs == NULL || key == NULL)
        goto out;
    CHECK_OK(sk_client_share_modulus(cs, f->n1, k8));
    CHECK_OK(sk_client_share_wrap_rng(cs, f->wrapped, SK_WRAPPED_LEN(f->k), PIN, 5,
                                      SK_KDF_MINIMUM, &drbg.rng));
    CHECK_OK(sk_server_share_new(&f->ss, f->n1, k8, ds, k8, key));
    if (f->ss == NULL)
        goto out;
    CHECK_OK(sk_server_share_pubkey(f->ss, &f->pub));
    if (f->pub == NULL)
        goto out;
    CHECK_OK(sk_pubkey_modulus(f->pub, f->n, 2 * k8));
    static const uint8_t e[] = {1, 0, 1};
    mbedtls_rsa_init(&f->rsa, MBEDTLS_RSA_PKCS_V15, 0);
    CHECK(mbedtls_rsa_import_raw(&f->rsa, f->n, 2 * k8, NULL, 0, NULL, 0, NULL, 0, e, 3) == 0);
    CHECK(mbedtls_rsa_complete(&f->rsa) == 0);
    CHECK(mbedtls_rsa_check_pubkey(&f->rsa) == 0);
    ok = 1;
out:
    sk_wipe(ds, k8);
    free(ds);
    sk_client_share_free(cs);
    sk_server_key_free(key);
    sk_drbg_wipe(&drbg);
    return ok;
}

static void fixture_free(fixture *f)
{
    mbedtls_rsa_free(&f->rsa);
    sk_server_share_free(f->ss);
    sk_pubkey_free(f->pub);
    free(f->n1);
    free(f->n);
    free(f->wrapped);
}

/* Device then server; returns the server's result code. */
static int split_sign(fixture *f, uint8_t *sig, const uint8_t *em, const uint8_t *pin,
                      size_t pin_len)
{
    size_t k8 = f->k / 8;
    uint8_t *y = malloc(k8);
    sk_client_share *cs = NULL;
    CHECK_OK(sk_client_share_unwrap(&cs, f->wrapped, SK_WRAPPED_LEN(f->k), f->n1, k8, pin,
                                    pin_len));
    int rc = SK_ERR_INTERNAL;
    if (cs != NULL) {
        CHECK_OK(sk_device_partial(cs, y, k8, em, 2 * k8));
        rc = sk_server_complete(f->ss, sig, 2 * k8, y, k8, em, 2 * k8);
    }
    sk_client_share_free(cs);
    free(y);
    return rc;
}

static int mbed_verify(fixture *f, sk_scheme scheme, sk_hash hash, const uint8_t *digest,
                       const uint8_t *sig)
{
    mbedtls_md_type_t md = md_of(hash);
    unsigned hl = (unsigned)sk_hash_len(hash);
    if (scheme == SK_SCHEME_PKCS1) {
        mbedtls_rsa_set_padding(&f->rsa, MBEDTLS_RSA_PKCS_V15, MBEDTLS_MD_NONE);
        return mbedtls_rsa_rsassa_pkcs1_v15_verify(&f->rsa, NULL, NULL, MBEDTLS_RSA_PUBLIC, md,
                                                   hl, digest, sig);
    }
    mbedtls_rsa_set_padding(&f->rsa, MBEDTLS_RSA_PKCS_V21, md);
    return mbedtls_rsa_rsassa_pss_verify_ext(&f->rsa, NULL, NULL, MBEDTLS_RSA_PUBLIC, md, hl,
                                             digest, md, (int)hl, sig);
}

static void all_combinations(fixture *f)
{
    static const sk_scheme schemes[] = {SK_SCHEME_PKCS1, SK_SCHEME_PSS};
    static const sk_hash hashes[] = {SK_HASH_SHA256, SK_HASH_SHA384, SK_HASH_SHA512};
    size_t len = 2 * (size_t)f->k / 8;
    uint8_t *em = malloc(len), *sig = malloc(len);
    for (size_t si = 0; si < 2; si++)
        for (size_t hi = 0; hi < 3; hi++) {
            sk_hash h = hashes[hi];
            size_t hl = sk_hash_len(h);
            uint8_t digest[SK_MAX_HASH_LEN], salt[SK_MAX_HASH_LEN];
            char msg[64];
            int ml = snprintf(msg, sizeof msg, "contract %u %zu %zu", f->k, si, hi);
            CHECK_OK(sk_digest(digest, hl, h, (const uint8_t *)msg, (size_t)ml));
            for (size_t i = 0; i < hl; i++)
                salt[i] = (uint8_t)(i * 7 + hi);
            CHECK_OK(sk_encode(em, len, schemes[si], h, digest, hl,
                               schemes[si] == SK_SCHEME_PSS ? salt : NULL,
                               schemes[si] == SK_SCHEME_PSS ? hl : 0, 2 * f->k));
            CHECK_OK(split_sign(f, sig, em, PIN, 5));
            CHECK(mbed_verify(f, schemes[si], h, digest, sig) == 0);
            CHECK_OK(sk_verify(f->pub, schemes[si], h, digest, hl, sig, len));
            /* tampered message: refused by both verifiers */
            digest[0] ^= 1;
            CHECK(mbed_verify(f, schemes[si], h, digest, sig) != 0);
            CHECK_RC(SK_ERR_VERIFY, sk_verify(f->pub, schemes[si], h, digest, hl, sig, len));
            digest[0] ^= 1;
            /* tampered signature */
            sig[len / 2] ^= 0x10;
            CHECK(mbed_verify(f, schemes[si], h, digest, sig) != 0);
            CHECK_RC(SK_ERR_VERIFY, sk_verify(f->pub, schemes[si], h, digest, hl, sig, len));
        }
    free(em);
    free(sig);
}

/* s equals EM^d mod n where d is the single private exponent of n, computed
 * from the four primes the DRBG produced (replayed with the same seed). */
static void single_key_equivalence(fixture *f, const char *seed)
{
    sk_drbg drbg;
    sk_drbg_init(&drbg, (const uint8_t *)seed, strlen(seed));
    mpz_t p1, q1, p2, q2, lam, t, d, e, m, s, got;
    mpz_inits(p1, q1, p2, q2, lam, t, d, e, m, s, got, NULL);
    /* Client keygen draws its primes first, then dc (k+128 bits); the server
     * keygen then draws its primes. */
    CHECK_OK(sk_rsa_primes(p1, q1, f->k, SK_E, &drbg.rng));
    uint8_t skip[SK_DC_LEN(4096)];
    CHECK_OK(drbg.rng.fill(drbg.rng.ctx, skip, SK_DC_LEN(f->k)));
    CHECK_OK(sk_rsa_primes(p2, q2, f->k, SK_E, &drbg.rng));
    mpz_mul(t, p1, q1);
    mpz_mul(t, t, p2);
    mpz_mul(t, t, q2);
    size_t len = 2 * (size_t)f->k / 8;
    uint8_t *nb = malloc(len), *em = malloc(len), *sig = malloc(len);
    CHECK_OK(sk_mpz_to_bytes(nb, len, t));
    CHECK(memcmp(nb, f->n, len) == 0); /* the replay found the same primes */
    mpz_set_ui(lam, 1);
    mpz_sub_ui(t, p1, 1);
    mpz_lcm(lam, lam, t);
    mpz_sub_ui(t, q1, 1);
    mpz_lcm(lam, lam, t);
    mpz_sub_ui(t, p2, 1);
    mpz_lcm(lam, lam, t);
    mpz_sub_ui(t, q2, 1);
    mpz_lcm(lam, lam, t);
    mpz_set_ui(e, SK_E);
    CHECK(mpz_invert(d, e, lam) != 0);
    uint8_t digest[32];
    CHECK_OK(sk_digest(digest, 32, SK_HASH_SHA256, (const uint8_t *)"equivalence", 11));
    CHECK_OK(sk_encode(em, len, SK_SCHEME_PKCS1, SK_HASH_SHA256, digest, 32, NULL, 0, 2 * f->k));
    CHECK_OK(split_sign(f, sig, em, PIN, 5));
    sk_mpz_from_bytes(m, em, len);
    sk_mpz_from_bytes(got, sig, len);
    mpz_mul(t, p1, q1);
    mpz_mul(t, t, p2);
    mpz_mul(t, t, q2);
    mpz_powm(s, m, d, t);
    CHECK(mpz_cmp(s, got) == 0);
    free(nb);
    free(em);
    free(sig);
    mpz_clears(p1, q1, p2, q2, lam, t, d, e, m, s, got, NULL);
    sk_drbg_wipe(&drbg);
}

static void flip_hook(mp_limb_t *s2, mp_size_t n) { s2[n / 2] ^= (mp_limb_t)1 << 17; }

static bool all_zero(const uint8_t *p, size_t len)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < len; i++)
        acc |= p[i];
    return acc == 0;
}

static void negatives(fixture *f)
{
    size_t k8 = f->k / 8, len = 2 * k8;
    uint8_t *em = malloc(len), *sig = malloc(len), *y = malloc(k8);
    uint8_t digest[32];
    CHECK_OK(sk_digest(digest, 32, SK_HASH_SHA256, (const uint8_t *)"negatives", 9));
    CHECK_OK(sk_encode(em, len, SK_SCHEME_PKCS1, SK_HASH_SHA256, digest, 32, NULL, 0, 2 * f->k));

    /* a wrong PIN yields a partial that fails the server check */
    memset(sig, 0xAA, len);
    CHECK_RC(SK_ERR_PARTIAL_INVALID, split_sign(f, sig, em, WRONG_PIN, 5));
    CHECK(all_zero(sig, len));

    /* a corrupted partial signature fails it too */
    sk_client_share *cs = NULL;
    CHECK_OK(sk_client_share_unwrap(&cs, f->wrapped, SK_WRAPPED_LEN(f->k), f->n1, k8, PIN, 5));
    if (cs != NULL) {
        CHECK_OK(sk_device_partial(cs, y, k8, em, len));
        /* dc is single-use */
        uint8_t *again = malloc(k8);
        CHECK_RC(SK_ERR_USED, sk_device_partial(cs, again, k8, em, len));
        free(again);
        uint8_t *yy = malloc(k8);
        memcpy(yy, y, k8);
        yy[k8 - 3] ^= 0x04;
        CHECK_RC(SK_ERR_PARTIAL_INVALID, sk_server_complete(f->ss, sig, len, yy, k8, em, len));
        CHECK(all_zero(sig, len));
        /* the untouched partial still completes */
        CHECK_OK(sk_server_complete(f->ss, sig, len, y, k8, em, len));
        CHECK(mbed_verify(f, SK_SCHEME_PKCS1, SK_HASH_SHA256, digest, sig) == 0);
        /* a fault inside the CRT computation: the signature is withheld */
        sk_test_fault_hook = flip_hook;
        memset(sig, 0xAA, len);
        CHECK_RC(SK_ERR_FAULT, sk_server_complete(f->ss, sig, len, y, k8, em, len));
        CHECK(all_zero(sig, len));
        sk_test_fault_hook = NULL;
        /* y out of range: 0 and >= n1 */
        memset(yy, 0, k8);
        CHECK_RC(SK_ERR_BAD_VALUE, sk_server_complete(f->ss, sig, len, yy, k8, em, len));
        memset(yy, 0xff, k8);
        CHECK_RC(SK_ERR_BAD_VALUE, sk_server_complete(f->ss, sig, len, yy, k8, em, len));
        /* EM >= n */
        uint8_t *big = malloc(len);
        memset(big, 0xff, len);
        CHECK_RC(SK_ERR_BAD_VALUE, sk_server_complete(f->ss, sig, len, y, k8, big, len));
        /* wrong sizes are argument errors */
        CHECK_RC(SK_ERR_ARG, sk_server_complete(f->ss, sig, len - 1, y, k8, em, len));
        CHECK_RC(SK_ERR_ARG, sk_server_complete(f->ss, sig, len, y, k8 - 1, em, len));
        free(big);
        free(yy);
    }
    sk_client_share_free(cs);
    free(em);
    free(sig);
    free(y);
}

int main(void)
{
    sk_test_init();
    static const struct {
        sk_profile profile;
        const char *seed;
    } runs[] = {{SK_PROFILE_4K, "sign-4K"}, {SK_PROFILE_6K, "sign-6K"}, {SK_PROFILE_8K, "sign-8K"}};
    for (size_t i = 0; i < 3; i++) {
        fixture f;
        if (fixture_init(&f, runs[i].profile, runs[i].seed)) {
            all_combinations(&f);
            if (runs[i].profile == SK_PROFILE_4K) {
                single_key_equivalence(&f, runs[i].seed);
                negatives(&f);
            }
        }
        fixture_free(&f);
    }
    return sk_test_done("test_sign");
}
