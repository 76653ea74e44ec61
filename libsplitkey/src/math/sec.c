/* SPDX-License-Identifier: Apache-2.0 */
/* sec.c - secret integers in fixed-width limb arrays and constant-time
 * modular arithmetic on them, built on GMP's mpn_sec_* and mpn_cnd_* layer.
 * Nothing here branches on, or indexes memory by, the value of a secret:
 * sizes (limb counts, exponent bit counts) are the only things that steer
 * the code, and they are public. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Returns x unchanged, but the compiler can no longer see where it came
 * from.  A mask computed from a secret is known to the optimiser to be 0 or
 * all-ones, and it may then turn "r &= ~mask" back into a branch: clang 14 at
 * -O2 did exactly that with the zero-base mask in sk_sec_powm (caught by
 * tests/ctime).  Every secret-derived mask goes through here. */
static inline mp_limb_t value_barrier(mp_limb_t x)
{
#if defined(__GNUC__)
    __asm__("" : "+r"(x));
#else
    volatile mp_limb_t v = x;
    x = v;
#endif
    return x;
}

/* Scratch space that is wiped before it is released. */
static mp_limb_t *scratch_alloc(mp_size_t n)
{
    return calloc((size_t)(n > 0 ? n : 1), sizeof(mp_limb_t));
}

static void scratch_free(mp_limb_t *p, mp_size_t n)
{
    if (p != NULL) {
        sodium_memzero(p, (size_t)(n > 0 ? n : 1) * sizeof(mp_limb_t));
        free(p);
    }
}

int sk_sec_alloc(sk_sec *x, mp_size_t n)
{
    x->d = scratch_alloc(n);
    x->n = x->d ? n : 0;
    return x->d ? SK_OK : SK_ERR_NOMEM;
}

void sk_sec_free(sk_sec *x)
{
    scratch_free(x->d, x->n);
    x->d = NULL;
    x->n = 0;
}

int sk_sec_from_bytes(sk_sec *x, const uint8_t *in, size_t len)
{
    const size_t limb_bytes = sizeof(mp_limb_t);
    uint8_t overflow = 0;

    memset(x->d, 0, (size_t)x->n * limb_bytes);
    for (size_t i = 0; i < len; i++) {
        size_t pos = len - 1 - i; /* significance of in[i], in bytes */
        size_t limb = pos / limb_bytes;
        if (limb < (size_t)x->n)
            x->d[limb] |= (mp_limb_t)in[i] << (8 * (pos % limb_bytes));
        else
            overflow |= in[i];
    }
    return overflow == 0 ? SK_OK : SK_ERR_BAD_VALUE;
}

void sk_sec_to_bytes(uint8_t *out, size_t len, const sk_sec *x)
{
    const size_t limb_bytes = sizeof(mp_limb_t);
    for (size_t i = 0; i < len; i++) {
        size_t pos = len - 1 - i;
        size_t limb = pos / limb_bytes;
        out[i] = limb < (size_t)x->n ? (uint8_t)(x->d[limb] >> (8 * (pos % limb_bytes))) : 0;
    }
}

int sk_limbs_from_mpz(mp_limb_t *r, mp_size_t n, const mpz_t a)
{
    mp_size_t an = (mp_size_t)mpz_size(a);
    if (mpz_sgn(a) < 0 || an > n)
        return SK_ERR_BAD_VALUE;
    if (an > 0)
        memcpy(r, mpz_limbs_read(a), (size_t)an * sizeof(mp_limb_t));
    memset(r + an, 0, (size_t)(n - an) * sizeof(mp_limb_t));
    return SK_OK;
}

int sk_sec_from_mpz(sk_sec *x, const mpz_t a) { return sk_limbs_from_mpz(x->d, x->n, a); }

void sk_sec_to_mpz(mpz_t r, const sk_sec *x)
{
    mp_limb_t *d = mpz_limbs_write(r, x->n > 0 ? x->n : 1);
    memcpy(d, x->d, (size_t)x->n * sizeof(mp_limb_t));
    mpz_limbs_finish(r, x->n);
}

int sk_sec_random(sk_sec *x, unsigned bits, const sk_rng *rng)
{
    if (bits == 0 || bits > (unsigned)x->n * GMP_NUMB_BITS)
        return SK_ERR_ARG;
    size_t len = ((size_t)bits + 7) / 8;
    uint8_t *buf = malloc(len);
    if (buf == NULL)
        return SK_ERR_NOMEM;
    int rc = rng->fill(rng->ctx, buf, len);
    if (rc == SK_OK) {
        if (bits % 8 != 0)
            buf[0] &= (uint8_t)((1u << (bits % 8)) - 1u);
        rc = sk_sec_from_bytes(x, buf, len);
    }
    sodium_memzero(buf, len);
    free(buf);
    return rc;
}

mp_limb_t sk_sec_eq_mask(const mp_limb_t *a, const mp_limb_t *b, mp_size_t n)
{
    mp_limb_t acc = 0;
    for (mp_size_t i = 0; i < n; i++)
        acc |= a[i] ^ b[i];
    /* acc != 0 -> top bit of (acc | -acc) is set */
    mp_limb_t nonzero = (acc | (mp_limb_t)(0 - acc)) >> (GMP_NUMB_BITS - 1);
    return value_barrier(nonzero - 1);
}

mp_limb_t sk_sec_lt_mask(const mp_limb_t *a, const mp_limb_t *b, mp_size_t n)
{
    /* The borrow out of a - b, carried limb by limb with logic only (Hacker's
     * Delight 2-13): for d = x - y - borrow, the borrow out is the top bit of
     * (~x & y) | (~(x ^ y) & d). */
    mp_limb_t borrow = 0;
    for (mp_size_t i = 0; i < n; i++) {
        mp_limb_t x = a[i], y = b[i], d = x - y - borrow;
        borrow = ((~x & y) | (~(x ^ y) & d)) >> (GMP_NUMB_BITS - 1);
    }
    return value_barrier(0 - borrow);
}

mp_limb_t sk_sec_bit_mask(mp_limb_t bit) { return value_barrier(0 - (bit & 1)); }

int sk_sec_reduce(mp_limb_t *r, const mp_limb_t *a, mp_size_t an, sk_sec_mod m)
{
    mp_size_t nn = an > m.n ? an : m.n;
    mp_size_t itch = mpn_sec_div_r_itch(nn, m.n);
    mp_limb_t *t = scratch_alloc(nn);
    mp_limb_t *s = scratch_alloc(itch);
    if (t == NULL || s == NULL) {
        scratch_free(t, nn);
        scratch_free(s, itch);
        return SK_ERR_NOMEM;
    }
    memcpy(t, a, (size_t)an * sizeof(mp_limb_t));
    mpn_sec_div_r(t, nn, m.m, m.n, s);
    memcpy(r, t, (size_t)m.n * sizeof(mp_limb_t));
    scratch_free(t, nn);
    scratch_free(s, itch);
    return SK_OK;
}

int sk_sec_mulmod(mp_limb_t *r, const mp_limb_t *a, const mp_limb_t *b, sk_sec_mod m)
{
    mp_size_t itch = mpn_sec_mul_itch(m.n, m.n);
    mp_size_t ditch = mpn_sec_div_r_itch(2 * m.n, m.n);
    if (ditch > itch)
        itch = ditch;
    mp_limb_t *t = scratch_alloc(2 * m.n);
    mp_limb_t *s = scratch_alloc(itch);
    if (t == NULL || s == NULL) {
        scratch_free(t, 2 * m.n);
        scratch_free(s, itch);
        return SK_ERR_NOMEM;
    }
    mpn_sec_mul(t, a, m.n, b, m.n, s);
    mpn_sec_div_r(t, 2 * m.n, m.m, m.n, s);
    memcpy(r, t, (size_t)m.n * sizeof(mp_limb_t));
    scratch_free(t, 2 * m.n);
    scratch_free(s, itch);
    return SK_OK;
}

void sk_sec_submod(mp_limb_t *r, const mp_limb_t *a, const mp_limb_t *b, sk_sec_mod m)
{
    mp_limb_t borrow = mpn_sub_n(r, a, b, m.n);
    mpn_cnd_add_n(borrow, r, r, m.m, m.n);
}

int sk_sec_powm(mp_limb_t *r, const mp_limb_t *b, const mp_limb_t *e, mp_bitcnt_t ebits,
                sk_sec_mod m)
{
    if (ebits == 0)
        return SK_ERR_ARG;
    mp_size_t itch = mpn_sec_powm_itch(m.n, ebits, m.n);
    mp_limb_t *base = scratch_alloc(m.n);
    mp_limb_t *s = scratch_alloc(itch);
    if (base == NULL || s == NULL) {
        scratch_free(base, m.n);
        scratch_free(s, itch);
        return SK_ERR_NOMEM;
    }
    /* mpn_sec_powm needs B > 0: raise a zero base to 1 and clear the result
     * afterwards (0^e = 0 for e > 0; 0^0 = 1), with masks, not branches. */
    memcpy(base, b, (size_t)m.n * sizeof(mp_limb_t));
    mp_limb_t b_zero = 0, e_zero = 0;
    for (mp_size_t i = 0; i < m.n; i++)
        b_zero |= base[i];
    for (mp_size_t i = 0; i < SK_LIMBS(ebits); i++)
        e_zero |= e[i];
    b_zero = ((b_zero | (mp_limb_t)(0 - b_zero)) >> (GMP_NUMB_BITS - 1)) - 1; /* ~0 if b = 0 */
    e_zero = ((e_zero | (mp_limb_t)(0 - e_zero)) >> (GMP_NUMB_BITS - 1)) - 1; /* ~0 if e = 0 */
    b_zero = value_barrier(b_zero);
    e_zero = value_barrier(e_zero);
    base[0] |= b_zero & 1;
    mpn_sec_powm(r, base, m.n, e, ebits, m.m, m.n, s);
    mp_limb_t clear = value_barrier(b_zero & ~e_zero);
    for (mp_size_t i = 0; i < m.n; i++)
        r[i] &= ~clear;
    scratch_free(base, m.n);
    scratch_free(s, itch);
    return SK_OK;
}
