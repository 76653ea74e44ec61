/* SPDX-License-Identifier: Apache-2.0 */
/* client_share.c - the device's share (n1, dc): generation and split. */
#include <stdlib.h>

#include "internal.h"

static int client_share_alloc(sk_client_share **out, unsigned bits)
{
    sk_client_share *s = calloc(1, sizeof *s);
    if (s == NULL)
        return SK_ERR_NOMEM;
    mpz_init(s->n1);
    s->bits = bits;
    if (sk_sec_alloc(&s->dc, SK_LIMBS(bits + 128)) != SK_OK) {
        sk_client_share_free(s);
        return SK_ERR_NOMEM;
    }
    *out = s;
    return SK_OK;
}

void sk_client_share_free(sk_client_share *share)
{
    if (share == NULL)
        return;
    sk_sec_free(&share->dc);
    mpz_clear(share->n1);
    sk_wipe(share, sizeof *share);
    free(share);
}

static bool bits_ok(unsigned bits) { return bits >= 512 && bits % 64 == 0; }

int sk_client_keygen_rng(sk_client_share **out, uint8_t *ds, size_t ds_len, unsigned bits,
                         const sk_rng *rng)
{
    return sk_client_keygen_progress_rng(out, ds, ds_len, bits, rng, NULL);
}

int sk_client_keygen_progress_rng(sk_client_share **out, uint8_t *ds, size_t ds_len, unsigned bits,
                                  const sk_rng *rng, const sk_progress *progress)
{
    if (out == NULL || ds == NULL || rng == NULL)
        return SK_ERR_ARG;
    *out = NULL;
    if (!bits_ok(bits) || ds_len != bits / 8)
        return SK_ERR_ARG;

    sk_client_share *s = NULL;
    int rc = client_share_alloc(&s, bits);
    if (rc != SK_OK)
        return rc;

    /* p1, q1, lambda1 and d1 live only in this function; GMP's wiping
     * allocator (sk_init) clears their limbs when they are released. */
    mpz_t p, q, lambda, d, e, t, dcz;
    mpz_inits(p, q, lambda, d, e, t, dcz, NULL);
    mpz_set_ui(e, SK_E);
    sk_keygen_run run = {.cb = progress};

    rc = sk_keygen_report(&run, 0);
    if (rc != SK_OK)
        goto out;
    rc = sk_rsa_primes_run(p, q, bits, SK_E, rng, &run);
    if (rc != SK_OK)
        goto out;
    mpz_mul(s->n1, p, q);
    mpz_sub_ui(p, p, 1);
    mpz_sub_ui(q, q, 1);
    mpz_lcm(lambda, p, q);
    if (mpz_invert(d, e, lambda) == 0) {
        rc = SK_ERR_KEYGEN;
        goto out;
    }
    /* Split: dc uniform in [0, 2^(k+128)),
     * ds = (d1 - dc) mod lambda1. */
    rc = sk_sec_random(&s->dc, bits + 128, rng);
    if (rc != SK_OK)
        goto out;
    sk_sec_to_mpz(dcz, &s->dc);
    mpz_sub(t, d, dcz);
    mpz_mod(t, t, lambda);
    rc = sk_mpz_to_bytes(ds, ds_len, t);
    /* The last report: a cancel here still discards the finished key. */
    if (rc == SK_OK)
        rc = sk_keygen_report(&run, 1000);

out:
    mpz_clears(p, q, lambda, d, e, t, dcz, NULL);
    if (rc != SK_OK) {
        sk_wipe(ds, ds_len);
        sk_client_share_free(s);
        return rc;
    }
    *out = s;
    return SK_OK;
}

int sk_client_keygen(sk_client_share **out, uint8_t *ds, size_t ds_len, sk_profile profile)
{
    if (!sk_is_initialised())
        return SK_ERR_NOT_INITIALISED;
    unsigned bits = sk_profile_bits(profile);
    if (bits == 0)
        return SK_ERR_ARG;
    return sk_client_keygen_rng(out, ds, ds_len, bits, sk_rng_system());
}

int sk_client_keygen_progress(sk_client_share **out, uint8_t *ds, size_t ds_len, sk_profile profile,
                              const sk_progress *progress)
{
    if (out == NULL)
        return SK_ERR_ARG;
    *out = NULL;
    if (!sk_is_initialised())
        return SK_ERR_NOT_INITIALISED;
    unsigned bits = sk_profile_bits(profile);
    if (bits == 0)
        return SK_ERR_ARG;
    return sk_client_keygen_progress_rng(out, ds, ds_len, bits, sk_rng_system(), progress);
}

int sk_client_share_from_parts(sk_client_share **out, unsigned bits, const uint8_t *n1,
                               size_t n1_len, const uint8_t *dc, size_t dc_len)
{
    if (out == NULL || n1 == NULL)
        return SK_ERR_ARG;
    *out = NULL;
    if (!bits_ok(bits) || n1_len != bits / 8 || (dc != NULL && dc_len != SK_DC_LEN(bits)))
        return SK_ERR_ARG;
    if ((n1[0] & 0x80) == 0 || (n1[n1_len - 1] & 1) == 0)
        return SK_ERR_KEY_FORMAT;
    sk_client_share *s = NULL;
    int rc = client_share_alloc(&s, bits);
    if (rc != SK_OK)
        return rc;
    sk_mpz_from_bytes(s->n1, n1, n1_len);
    if (dc != NULL)
        rc = sk_sec_from_bytes(&s->dc, dc, dc_len);
    else
        s->consumed = true;
    if (rc != SK_OK) {
        sk_client_share_free(s);
        return rc;
    }
    *out = s;
    return SK_OK;
}

int sk_client_share_export_dc(const sk_client_share *share, uint8_t *dc, size_t dc_len)
{
    if (share == NULL || dc == NULL || dc_len != SK_DC_LEN(share->bits))
        return SK_ERR_ARG;
    if (share->consumed)
        return SK_ERR_USED;
    sk_sec_to_bytes(dc, dc_len, &share->dc);
    return SK_OK;
}

sk_profile sk_client_share_profile(const sk_client_share *share)
{
    return (sk_profile)share->bits;
}

int sk_client_share_modulus(const sk_client_share *share, uint8_t *n1, size_t n1_len)
{
    if (n1_len != share->bits / 8)
        return SK_ERR_ARG;
    return sk_mpz_to_bytes(n1, n1_len, share->n1);
}
