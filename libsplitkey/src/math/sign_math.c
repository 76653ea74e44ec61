/* SPDX-License-Identifier: Apache-2.0 */
/* sign_math.c - the two halves of a split signature (doc/protocol.md, "The
 * split signature") on fixed-size
 * limb arrays.  Public inputs (m, y, the moduli n1, n2, n) may be handled with
 * ordinary GMP; everything derived from dc, ds, p2, q2 or d2 goes through
 * the constant-time layer in sec.c, and the only value that leaves as a
 * branch is the final yes/no of each check. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

void (*sk_test_fault_hook)(mp_limb_t *s2, mp_size_t n);

/* A small arena of limb buffers released (wiped) together. */
typedef struct limbs {
    mp_limb_t *buf[12];
    mp_size_t len[12];
    int count;
} limbs;

static mp_limb_t *limbs_get(limbs *a, mp_size_t n)
{
    if (a->count == (int)(sizeof a->buf / sizeof a->buf[0]))
        return NULL;
    mp_limb_t *p = calloc((size_t)(n > 0 ? n : 1), sizeof(mp_limb_t));
    if (p != NULL) {
        a->buf[a->count] = p;
        a->len[a->count++] = n > 0 ? n : 1;
    }
    return p;
}

static void limbs_release(limbs *a)
{
    for (int i = 0; i < a->count; i++) {
        sk_wipe(a->buf[i], (size_t)a->len[i] * sizeof(mp_limb_t));
        free(a->buf[i]);
    }
    a->count = 0;
}

static sk_sec_mod mod_of(const mpz_t m)
{
    sk_sec_mod r = {mpz_limbs_read(m), (mp_size_t)mpz_size(m)};
    return r;
}

/* mask = all-ones when x^e == target (mod m); constant time in x. */
static int check_e(mp_limb_t *mask, const mp_limb_t *x, const mp_limb_t *target,
                   unsigned long e, sk_sec_mod m, limbs *arena)
{
    mp_limb_t *chk = limbs_get(arena, m.n);
    if (chk == NULL)
        return SK_ERR_NOMEM;
    mp_limb_t el = e;
    int rc = sk_sec_powm(chk, x, &el, (mp_bitcnt_t)(GMP_NUMB_BITS - __builtin_clzl(e)), m);
    if (rc != SK_OK)
        return rc;
    *mask = sk_sec_eq_mask(chk, target, m.n);
    return SK_OK;
}

int sk_math_partial(mpz_t y, const mpz_t m, const mpz_t n1, const sk_sec *dc, unsigned dc_bits)
{
    if (mpz_sgn(n1) <= 0 || mpz_even_p(n1) || dc_bits == 0 ||
        dc_bits > (unsigned)dc->n * GMP_NUMB_BITS)
        return SK_ERR_ARG;
    limbs arena = {0};
    sk_sec_mod mod = mod_of(n1);
    int rc = SK_ERR_NOMEM;
    mpz_t mr;
    mpz_init(mr);
    mpz_mod(mr, m, n1);
    mp_limb_t *b = limbs_get(&arena, mod.n), *r = limbs_get(&arena, mod.n);
    if (b == NULL || r == NULL)
        goto out;
    if (mpz_sgn(mr) == 0) {
        rc = SK_ERR_BAD_VALUE;
        goto out;
    }
    rc = sk_limbs_from_mpz(b, mod.n, mr);
    if (rc == SK_OK)
        rc = sk_sec_powm(r, b, dc->d, dc_bits, mod);
    if (rc == SK_OK) {
        /* y is public: it goes on the wire (and mpz normalisation below
         * branches on its top limbs). */
        SK_DECLASSIFY(r, (size_t)mod.n * sizeof(mp_limb_t));
        mp_limb_t *yd = mpz_limbs_write(y, mod.n);
        memcpy(yd, r, (size_t)mod.n * sizeof(mp_limb_t));
        mpz_limbs_finish(y, mod.n);
    }
out:
    mpz_clear(mr);
    limbs_release(&arena);
    return rc;
}

int sk_math_complete_n1(sk_sec *s1, const mpz_t m, const mpz_t y, const mpz_t n1,
                        const sk_sec *ds, unsigned long e)
{
    sk_sec_mod mod = mod_of(n1);
    if (s1->n != mod.n || mpz_even_p(n1) || ds->n < 1 || e < 3)
        return SK_ERR_ARG;
    if (mpz_sgn(y) <= 0 || mpz_cmp(y, n1) >= 0)
        return SK_ERR_BAD_VALUE;

    limbs arena = {0};
    int rc = SK_ERR_NOMEM;
    mpz_t mr;
    mpz_init(mr);
    mpz_mod(mr, m, n1);
    mp_limb_t *mb = limbs_get(&arena, mod.n), *yb = limbs_get(&arena, mod.n),
              *t = limbs_get(&arena, mod.n), mask = 0;
    if (mb == NULL || yb == NULL || t == NULL)
        goto out;
    if (mpz_sgn(mr) == 0) {
        rc = SK_ERR_BAD_VALUE;
        goto out;
    }
    if ((rc = sk_limbs_from_mpz(mb, mod.n, mr)) != SK_OK ||
        (rc = sk_limbs_from_mpz(yb, mod.n, y)) != SK_OK)
        goto out;
    /* s1 = y * m^ds mod n1 */
    rc = sk_sec_powm(t, mb, ds->d, (mp_bitcnt_t)ds->n * GMP_NUMB_BITS, mod);
    if (rc == SK_OK)
        rc = sk_sec_mulmod(s1->d, yb, t, mod);
    if (rc == SK_OK)
        rc = check_e(&mask, s1->d, mb, e, mod, &arena);
    if (rc == SK_OK) {
        for (mp_size_t i = 0; i < s1->n; i++)
            s1->d[i] &= mask;
        /* The check's outcome is public (the caller counts wrong PINs). */
        SK_DECLASSIFY(&mask, sizeof mask);
        rc = mask ? SK_OK : SK_ERR_PARTIAL_INVALID;
    }
out:
    if (rc != SK_OK)
        sk_wipe(s1->d, (size_t)s1->n * sizeof(mp_limb_t));
    mpz_clear(mr);
    limbs_release(&arena);
    return rc;
}

int sk_math_crt_sign(sk_sec *s2, const mpz_t m, const sk_server_key *key, unsigned long e)
{
    sk_sec_mod mod_n2 = mod_of(key->n2);
    sk_sec_mod mod_p = {key->p.d, key->p.n}, mod_q = {key->q.d, key->q.n};
    mp_size_t hn = key->p.n;
    if (s2->n != mod_n2.n || key->q.n != hn || 2 * hn < mod_n2.n)
        return SK_ERR_ARG;

    limbs arena = {0};
    int rc = SK_ERR_NOMEM;
    mpz_t mr;
    mpz_init(mr);
    mpz_mod(mr, m, key->n2);
    mp_size_t mn = mod_n2.n;
    mp_limb_t *mb = limbs_get(&arena, mn), *mp = limbs_get(&arena, hn),
              *mq = limbs_get(&arena, hn), *sp = limbs_get(&arena, hn),
              *sq = limbs_get(&arena, hn), *h = limbs_get(&arena, hn),
              *prod = limbs_get(&arena, 2 * hn), *scratch = NULL, mask = 0;
    mp_size_t itch = mpn_sec_mul_itch(hn, hn);
    mp_size_t add_itch = mpn_sec_add_1_itch(hn);
    scratch = limbs_get(&arena, itch > add_itch ? itch : add_itch);
    if (mb == NULL || mp == NULL || mq == NULL || sp == NULL || sq == NULL || h == NULL ||
        prod == NULL || scratch == NULL)
        goto out;
    if ((rc = sk_limbs_from_mpz(mb, mn, mr)) != SK_OK)
        goto out;
    /* m mod p and m mod q: the moduli are secret, so reduce with sec_div_r. */
    if ((rc = sk_sec_reduce(mp, mb, mn, mod_p)) != SK_OK ||
        (rc = sk_sec_reduce(mq, mb, mn, mod_q)) != SK_OK)
        goto out;
    mp_bitcnt_t ebits = (mp_bitcnt_t)hn * GMP_NUMB_BITS;
    if ((rc = sk_sec_powm(sp, mp, key->dp.d, ebits, mod_p)) != SK_OK ||
        (rc = sk_sec_powm(sq, mq, key->dq.d, ebits, mod_q)) != SK_OK)
        goto out;
    /* h = (sp - sq) * qinv mod p;  s2 = sq + q * h  (Garner) */
    if ((rc = sk_sec_reduce(h, sq, hn, mod_p)) != SK_OK)
        goto out;
    sk_sec_submod(h, sp, h, mod_p);
    if ((rc = sk_sec_mulmod(h, h, key->qinv.d, mod_p)) != SK_OK)
        goto out;
    mpn_sec_mul(prod, key->q.d, hn, h, hn, scratch);
    mp_limb_t cy = mpn_add_n(prod, prod, sq, hn);
    mpn_sec_add_1(prod + hn, prod + hn, hn, cy, scratch);
    memcpy(s2->d, prod, (size_t)mn * sizeof(mp_limb_t));
    if (sk_test_fault_hook != NULL)
        sk_test_fault_hook(s2->d, s2->n);
    /* s2 < n2 by construction; the check also catches a fault that broke it. */
    if ((rc = check_e(&mask, s2->d, mb, e, mod_n2, &arena)) != SK_OK)
        goto out;
    /* Public by design: a failed check withholds the signature (SK_ERR_FAULT). */
    SK_DECLASSIFY(&mask, sizeof mask);
    rc = mask ? SK_OK : SK_ERR_FAULT;
out:
    if (rc != SK_OK)
        sk_wipe(s2->d, (size_t)s2->n * sizeof(mp_limb_t));
    mpz_clear(mr);
    limbs_release(&arena);
    return rc;
}

int sk_math_combine(sk_sec *s, const sk_sec *s1, const sk_sec *s2, const mpz_t n1,
                    const mpz_t n2, const mpz_t n1inv, const mpz_t n, const mpz_t m,
                    unsigned long e)
{
    sk_sec_mod mod_n2 = mod_of(n2), mod_n = mod_of(n);
    mp_size_t n1n = (mp_size_t)mpz_size(n1), n2n = mod_n2.n, pn = n1n + n2n;
    if (s->n != mod_n.n || s1->n != n1n || s2->n != n2n || pn < mod_n.n)
        return SK_ERR_ARG;

    limbs arena = {0};
    int rc = SK_ERR_NOMEM;
    mpz_t mr;
    mpz_init(mr);
    mpz_mod(mr, m, n);
    mp_size_t itch = mpn_sec_mul_itch(n1n, n2n);
    mp_size_t add_itch = mpn_sec_add_1_itch(n2n);
    mp_limb_t *t = limbs_get(&arena, n2n), *inv = limbs_get(&arena, n2n),
              *prod = limbs_get(&arena, pn), *mb = limbs_get(&arena, mod_n.n),
              *scratch = limbs_get(&arena, itch > add_itch ? itch : add_itch), mask = 0;
    if (t == NULL || inv == NULL || prod == NULL || mb == NULL || scratch == NULL)
        goto out;
    if ((rc = sk_limbs_from_mpz(inv, n2n, n1inv)) != SK_OK ||
        (rc = sk_limbs_from_mpz(mb, mod_n.n, mr)) != SK_OK)
        goto out;
    /* t = (s2 - s1 mod n2) * n1^-1 mod n2 */
    if ((rc = sk_sec_reduce(t, s1->d, n1n, mod_n2)) != SK_OK)
        goto out;
    sk_sec_submod(t, s2->d, t, mod_n2);
    if ((rc = sk_sec_mulmod(t, t, inv, mod_n2)) != SK_OK)
        goto out;
    /* s = s1 + n1 * t: n1 * t < n1 * n2, plus s1 < n1 stays below n. */
    mpn_sec_mul(prod, mpz_limbs_read(n1), n1n, t, n2n, scratch);
    mp_limb_t cy = mpn_add_n(prod, prod, s1->d, n1n);
    mpn_sec_add_1(prod + n1n, prod + n1n, n2n, cy, scratch);
    memcpy(s->d, prod, (size_t)mod_n.n * sizeof(mp_limb_t));
    if ((rc = check_e(&mask, s->d, mb, e, mod_n, &arena)) != SK_OK)
        goto out;
    /* Public by design: a failed check withholds the signature (SK_ERR_FAULT). */
    SK_DECLASSIFY(&mask, sizeof mask);
    rc = mask ? SK_OK : SK_ERR_FAULT;
out:
    if (rc != SK_OK)
        sk_wipe(s->d, (size_t)s->n * sizeof(mp_limb_t));
    mpz_clear(mr);
    limbs_release(&arena);
    return rc;
}
