/* SPDX-License-Identifier: Apache-2.0 */
/* bn.c - public big-number helpers: bytes <-> mpz, random integers. */
#include <sodium.h>
#include <stdlib.h>

#include "internal.h"

void sk_mpz_from_bytes(mpz_t r, const uint8_t *in, size_t len)
{
    if (len == 0) {
        mpz_set_ui(r, 0);
        return;
    }
    mpz_import(r, len, 1, 1, 1, 0, in);
}

int sk_mpz_to_bytes(uint8_t *out, size_t len, const mpz_t a)
{
    if (mpz_sgn(a) < 0)
        return SK_ERR_BAD_VALUE;
    size_t need = (mpz_sizeinbase(a, 2) + 7) / 8;
    if (mpz_sgn(a) == 0)
        need = 0;
    if (need > len)
        return SK_ERR_BUFFER_TOO_SMALL;
    size_t pad = len - need;
    sodium_memzero(out, pad);
    if (need > 0)
        mpz_export(out + pad, NULL, 1, 1, 1, 0, a);
    return SK_OK;
}

int sk_mpz_random_bits(mpz_t r, unsigned bits, const sk_rng *rng)
{
    size_t len = (bits + 7) / 8;
    uint8_t *buf = malloc(len ? len : 1);
    if (buf == NULL)
        return SK_ERR_NOMEM;
    int rc = rng->fill(rng->ctx, buf, len);
    if (rc == SK_OK) {
        if (bits % 8 != 0)
            buf[0] &= (uint8_t)((1u << (bits % 8)) - 1u);
        sk_mpz_from_bytes(r, buf, len);
    }
    sodium_memzero(buf, len);
    free(buf);
    return rc;
}
