/* SPDX-License-Identifier: Apache-2.0 */
/* server_key.c - the server's whole RSA key (n2, d2) with CRT parameters.
 *
 * Two kinds of code live here.  Key generation (sk_server_keygen*,
 * sk_server_key_from_primes) computes n2, d2 and the CRT parameters from the
 * primes with ordinary, variable-time GMP: it runs once per key, when the
 * server fills its pool.  Everything that runs on every request - import of
 * the stored form, the copy into a server share, export - handles p2, q2, dp,
 * dq and qinv only as fixed-width limb arrays, with GMP's mpn_sec_* layer and
 * the masks of sec.c: no branch and no memory index depends on them, and the
 * one value derived from them that is branched on is the final yes/no of the
 * import checks (declassified where it is computed). */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* "SKS1" (p2 | q2 only, the rest recomputed with mpz functions on every
 * import) is no longer accepted: SK_ERR_KEY_FORMAT. */
static const uint8_t server_key_magic[4] = {'S', 'K', 'S', '2'};

#define SKS_HEADER_LEN 6u
#define SKS_FIELDS 5u /* p2, q2, dp, dq, qinv, in this order */

static bool bits_ok(unsigned bits) { return bits >= 512 && bits % 128 == 0; }

static void server_key_clear(sk_server_key *k)
{
    sk_sec_free(&k->p);
    sk_sec_free(&k->q);
    sk_sec_free(&k->dp);
    sk_sec_free(&k->dq);
    sk_sec_free(&k->qinv);
    if (k->bits != 0)
        mpz_clear(k->n2);
    sk_wipe(k, sizeof *k);
}

/* Sets the size and allocates the five secret arrays (zeroed) in k (zeroed by
 * the caller); server_key_clear undoes it, also after a failure. */
static int server_key_alloc(sk_server_key *k, unsigned bits)
{
    mp_size_t hl = SK_LIMBS(bits / 2);
    k->bits = bits;
    mpz_init(k->n2);
    if (sk_sec_alloc(&k->p, hl) || sk_sec_alloc(&k->q, hl) || sk_sec_alloc(&k->dp, hl) ||
        sk_sec_alloc(&k->dq, hl) || sk_sec_alloc(&k->qinv, hl))
        return SK_ERR_NOMEM;
    return SK_OK;
}

/* The five secret fields in serialisation order (i is public). */
static sk_sec *server_key_field(sk_server_key *k, unsigned i)
{
    sk_sec *f[SKS_FIELDS] = {&k->p, &k->q, &k->dp, &k->dq, &k->qinv};
    return f[i];
}

static const sk_sec *server_key_cfield(const sk_server_key *k, unsigned i)
{
    const sk_sec *f[SKS_FIELDS] = {&k->p, &k->q, &k->dp, &k->dq, &k->qinv};
    return f[i];
}

/* Fills k (zeroed by the caller) from the primes: n2, dp, dq, qinv.  Key
 * generation only: variable-time GMP on the primes. */
static int server_key_fill(sk_server_key *k, unsigned bits, const mpz_t p, const mpz_t q)
{
    int rc = SK_ERR_KEY_FORMAT;
    unsigned half = bits / 2;
    mpz_t pm1, qm1, lambda, d, t, e;

    if (server_key_alloc(k, bits) != SK_OK)
        return SK_ERR_NOMEM;
    mpz_inits(pm1, qm1, lambda, d, t, e, NULL);
    mpz_set_ui(e, SK_E);
    if (mpz_sizeinbase(p, 2) != half || mpz_sizeinbase(q, 2) != half || mpz_cmp(p, q) == 0 ||
        mpz_even_p(p) || mpz_even_p(q))
        goto out;
    mpz_mul(k->n2, p, q);
    if (mpz_sizeinbase(k->n2, 2) != bits)
        goto out;
    mpz_sub_ui(pm1, p, 1);
    mpz_sub_ui(qm1, q, 1);
    mpz_lcm(lambda, pm1, qm1);
    if (mpz_invert(d, e, lambda) == 0)
        goto out;
    if (mpz_invert(t, q, p) == 0)
        goto out;
    rc = sk_sec_from_mpz(&k->qinv, t);
    mpz_mod(t, d, pm1);
    rc = rc ? rc : sk_sec_from_mpz(&k->dp, t);
    mpz_mod(t, d, qm1);
    rc = rc ? rc : sk_sec_from_mpz(&k->dq, t);
    rc = rc ? rc : sk_sec_from_mpz(&k->p, p);
    rc = rc ? rc : sk_sec_from_mpz(&k->q, q);
out:
    mpz_clears(pm1, qm1, lambda, d, t, e, NULL);
    return rc;
}

int sk_server_key_from_primes(sk_server_key **out, unsigned bits, const mpz_t p, const mpz_t q)
{
    if (out == NULL)
        return SK_ERR_ARG;
    *out = NULL;
    if (!bits_ok(bits))
        return SK_ERR_ARG;
    sk_server_key *k = calloc(1, sizeof *k);
    if (k == NULL)
        return SK_ERR_NOMEM;
    int rc = server_key_fill(k, bits, p, q);
    if (rc != SK_OK) {
        server_key_clear(k);
        free(k);
        return rc;
    }
    *out = k;
    return SK_OK;
}

int sk_server_keygen_rng(sk_server_key **out, unsigned bits, const sk_rng *rng)
{
    if (out == NULL || rng == NULL)
        return SK_ERR_ARG;
    *out = NULL;
    mpz_t p, q;
    mpz_inits(p, q, NULL);
    int rc = sk_rsa_primes(p, q, bits, SK_E, rng);
    if (rc == SK_OK)
        rc = sk_server_key_from_primes(out, bits, p, q);
    mpz_clears(p, q, NULL);
    return rc;
}

int sk_server_keygen(sk_server_key **out, sk_profile profile)
{
    if (!sk_is_initialised())
        return SK_ERR_NOT_INITIALISED;
    unsigned bits = sk_profile_bits(profile);
    if (bits == 0)
        return SK_ERR_ARG;
    return sk_server_keygen_rng(out, bits, sk_rng_system());
}

size_t sk_server_key_len(sk_profile profile)
{
    unsigned bits = sk_profile_bits(profile);
    return bits ? SK_SERVER_KEY_LEN(bits) : 0;
}

int sk_server_key_export(const sk_server_key *key, uint8_t *out, size_t out_len)
{
    if (key == NULL || out == NULL)
        return SK_ERR_ARG;
    size_t half = key->bits / 16;
    if (out_len != SK_SERVER_KEY_LEN(key->bits))
        return SK_ERR_ARG;
    memcpy(out, server_key_magic, 4);
    out[4] = (uint8_t)(key->bits >> 8);
    out[5] = (uint8_t)key->bits;
    for (unsigned i = 0; i < SKS_FIELDS; i++)
        sk_sec_to_bytes(out + SKS_HEADER_LEN + i * half, half, server_key_cfield(key, i));
    return SK_OK;
}

/* The consistency checks of a key loaded from its stored form, in constant
 * time.  Sets *ok to all-ones when
 *   p2 and q2 are odd with their top bit set (exactly k/2 bits each),
 *   n2 = p2 q2 has exactly k bits (n2 is written, 2 hn limbs),
 *   qinv < p2 and q2 qinv = 1 mod p2 (which also rules out p2 = q2),
 *   dp < p2 - 1 and e dp = 1 mod (p2 - 1), and likewise dq with q2,
 * and to zero otherwise, without saying which check failed.  These are
 * exactly the properties of what sk_server_key_from_primes makes, so an
 * exported key always passes and its bytes are canonical.
 *
 * Not checked: that p2 and q2 are prime, and the spacing |p2 - q2| that
 * key generation enforces (sk_rsa_primes).  There is no constant-time
 * primality test here, and the stored form is sealed (authenticated) at rest,
 * so what these checks are for is a corrupted or mixed-up blob, not a forged
 * one.  Whatever the key, the three signature checks (s1, s2 and
 * s, in sign_math.c) stand between it and a released signature: a CRT
 * parameter or prime that is wrong in a way these checks miss makes
 * s2^e != m mod n2, and the signature is withheld (SK_ERR_FAULT).
 *
 * p2 and q2 are modified in place: their low bit and top bit are forced to 1
 * after they have been looked at, so that the divisions below never see a zero
 * top limb (mpn_sec_div_r requires a non-zero top limb) whatever the input.
 * For a key that passes, this changes nothing; one that fails is discarded. */
static int server_key_check(sk_server_key *k, mp_limb_t *n2, mp_limb_t *ok_out)
{
    const mp_size_t hn = k->p.n;
    const mp_limb_t top = (mp_limb_t)1 << (GMP_NUMB_BITS - 1), e = SK_E;
    mp_limb_t *p = k->p.d, *q = k->q.d;
    mp_size_t itch = mpn_sec_mul_itch(hn, hn);
    if (mpn_sec_mul_itch(hn, 1) > itch)
        itch = mpn_sec_mul_itch(hn, 1);
    /* one (hn) | r (hn) | pm1 (hn) | t (hn + 1) | scratch (itch) */
    mp_size_t total = 4 * hn + 1 + itch;
    mp_limb_t *buf = calloc((size_t)total, sizeof(mp_limb_t));
    if (buf == NULL)
        return SK_ERR_NOMEM;
    mp_limb_t *one = buf, *r = one + hn, *pm1 = r + hn, *t = pm1 + hn, *s = t + hn + 1;
    one[0] = 1;

    mp_limb_t ok = sk_sec_bit_mask(p[0] & q[0]) &
                   sk_sec_bit_mask((p[hn - 1] & q[hn - 1]) >> (GMP_NUMB_BITS - 1));
    p[0] |= 1;
    q[0] |= 1;
    p[hn - 1] |= top;
    q[hn - 1] |= top;

    mpn_sec_mul(n2, p, hn, q, hn, s);
    ok &= sk_sec_bit_mask(n2[2 * hn - 1] >> (GMP_NUMB_BITS - 1));

    sk_sec_mod mod_p = {p, hn};
    int rc = sk_sec_reduce(r, q, hn, mod_p);
    if (rc == SK_OK)
        rc = sk_sec_mulmod(r, r, k->qinv.d, mod_p);
    ok &= sk_sec_lt_mask(k->qinv.d, p, hn) & sk_sec_eq_mask(r, one, hn);

    /* e d = 1 mod (prime - 1), d < prime - 1.  The prime is odd here, so
     * prime - 1 is the prime with its low bit cleared: its top limb is the
     * prime's, and mpn_sec_div_r reads the same bits of it as with the prime. */
    const mp_limb_t *primes[2] = {p, q};
    const sk_sec *exps[2] = {&k->dp, &k->dq};
    for (int i = 0; i < 2 && rc == SK_OK; i++) {
        memcpy(pm1, primes[i], (size_t)hn * sizeof(mp_limb_t));
        pm1[0] &= ~(mp_limb_t)1;
        mpn_sec_mul(t, exps[i]->d, hn, &e, 1, s);
        sk_sec_mod mod_pm1 = {pm1, hn};
        rc = sk_sec_reduce(r, t, hn + 1, mod_pm1);
        ok &= sk_sec_lt_mask(exps[i]->d, pm1, hn) & sk_sec_eq_mask(r, one, hn);
    }

    *ok_out = rc == SK_OK ? ok : 0;
    sk_wipe(buf, (size_t)total * sizeof(mp_limb_t));
    free(buf);
    return rc;
}

int sk_server_key_import(sk_server_key **out, const uint8_t *in, size_t in_len)
{
    if (out == NULL)
        return SK_ERR_ARG;
    *out = NULL;
    /* The header is public: the format and the profile. */
    if (in == NULL || in_len < SKS_HEADER_LEN || memcmp(in, server_key_magic, 4) != 0)
        return SK_ERR_KEY_FORMAT;
    unsigned bits = (unsigned)in[4] << 8 | in[5];
    if (!bits_ok(bits) || in_len != SK_SERVER_KEY_LEN(bits))
        return SK_ERR_KEY_FORMAT;
    size_t half = bits / 16;
    mp_size_t nl = 2 * SK_LIMBS(bits / 2);
    mp_limb_t *n2 = calloc((size_t)nl, sizeof(mp_limb_t));
    sk_server_key *k = calloc(1, sizeof *k);
    mp_limb_t ok = 0;
    int rc = n2 != NULL && k != NULL ? SK_OK : SK_ERR_NOMEM;
    if (rc == SK_OK)
        rc = server_key_alloc(k, bits);
    /* Each field is exactly SK_LIMBS(k/2) limbs wide (k/2 is a multiple of
     * 64), so these cannot overflow: byte positions alone steer the copy. */
    for (unsigned i = 0; i < SKS_FIELDS && rc == SK_OK; i++)
        rc = sk_sec_from_bytes(server_key_field(k, i), in + SKS_HEADER_LEN + i * half, half);
    if (rc == SK_OK)
        rc = server_key_check(k, n2, &ok);
    if (rc == SK_OK) {
        /* Public by design: whether the stored key is usable (a refused key
         * is reported as SK_ERR_KEY_FORMAT). */
        SK_DECLASSIFY(&ok, sizeof ok);
        rc = ok ? SK_OK : SK_ERR_KEY_FORMAT;
    }
    if (rc == SK_OK) {
        /* n2 is the key's public modulus (sk_server_key_modulus, the
         * enrolment reply); it becomes public once the key is accepted. */
        SK_DECLASSIFY(n2, (size_t)nl * sizeof(mp_limb_t));
        memcpy(mpz_limbs_write(k->n2, nl), n2, (size_t)nl * sizeof(mp_limb_t));
        mpz_limbs_finish(k->n2, nl);
    }
    if (n2 != NULL) {
        sk_wipe(n2, (size_t)nl * sizeof(mp_limb_t));
        free(n2);
    }
    if (rc != SK_OK) {
        if (k != NULL) {
            server_key_clear(k);
            free(k);
        }
        return rc;
    }
    *out = k;
    return SK_OK;
}

sk_profile sk_server_key_profile(const sk_server_key *key) { return (sk_profile)key->bits; }

int sk_server_key_modulus(const sk_server_key *key, uint8_t *n2, size_t n2_len)
{
    if (n2_len != key->bits / 8)
        return SK_ERR_ARG;
    return sk_mpz_to_bytes(n2, n2_len, key->n2);
}

void sk_server_key_free(sk_server_key *key)
{
    if (key == NULL)
        return;
    server_key_clear(key);
    free(key);
}

/* Deep copy into dst (zeroed), used by the server share: the secret limbs
 * are copied as they are, n2 (public) with mpz_set. */
int sk_server_key_copy(sk_server_key *dst, const sk_server_key *src)
{
    int rc = server_key_alloc(dst, src->bits);
    for (unsigned i = 0; i < SKS_FIELDS && rc == SK_OK; i++) {
        const sk_sec *from = server_key_cfield(src, i);
        sk_sec *to = server_key_field(dst, i);
        if (from->n != to->n)
            rc = SK_ERR_ARG;
        else
            memcpy(to->d, from->d, (size_t)from->n * sizeof(mp_limb_t));
    }
    if (rc == SK_OK)
        mpz_set(dst->n2, src->n2);
    else
        server_key_clear(dst);
    return rc;
}

void sk_server_key_release(sk_server_key *key) { server_key_clear(key); }
