/* SPDX-License-Identifier: Apache-2.0 */
/* server_share.c - the server's half of an enrolled split key: n1, ds and
 * the server key; the composite modulus n = n1 * n2 (doc/protocol.md,
 * "The split signature" and section 3). */
#include <stdlib.h>

#include "internal.h"

int sk_check_client_modulus(const uint8_t *n1, size_t n1_len, sk_profile profile)
{
    unsigned bits = sk_profile_bits(profile);
    if (bits == 0)
        return SK_ERR_ARG;
    if (n1_len != bits / 8 || (n1[0] & 0x80) == 0)
        return SK_ERR_KEY_SIZE;
    if ((n1[n1_len - 1] & 1) == 0)
        return SK_ERR_KEY_WEAK;

    const uint16_t *primes;
    size_t count;
    sk_small_primes(&primes, &count);
    int rc = SK_OK;
    mpz_t n;
    mpz_init(n);
    sk_mpz_from_bytes(n, n1, n1_len);
    for (size_t i = 0; i < count && rc == SK_OK; i++)
        if (mpz_divisible_ui_p(n, primes[i]))
            rc = SK_ERR_KEY_WEAK;
    if (rc == SK_OK && mpz_perfect_power_p(n))
        rc = SK_ERR_KEY_WEAK;
    mpz_clear(n);
    return rc;
}

/* Public here: n1 (the device sends it at enrolment), n2 (the server key's
 * modulus, sent back at enrolment), hence n = n1 n2 and n1^-1 mod n2: checked
 * and computed with ordinary GMP.  Secret: ds, compared with n1 in constant
 * time, and the server key's limbs, only copied.  This runs on every sign or
 * revoke request (the server builds the share from the stored record). */
int sk_server_share_new(sk_server_share **out, const uint8_t *n1, size_t n1_len,
                        const uint8_t *ds, size_t ds_len, const sk_server_key *key)
{
    if (out == NULL || n1 == NULL || ds == NULL || key == NULL)
        return SK_ERR_ARG;
    *out = NULL;
    unsigned bits = key->bits;
    if (bits == 0 || bits % 64 != 0 || n1_len != bits / 8 || ds_len != bits / 8)
        return SK_ERR_ARG;
    if ((n1[0] & 0x80) == 0)
        return SK_ERR_KEY_SIZE;
    if ((n1[n1_len - 1] & 1) == 0)
        return SK_ERR_KEY_WEAK;

    sk_server_share *s = calloc(1, sizeof *s);
    if (s == NULL)
        return SK_ERR_NOMEM;
    s->bits = bits;
    mpz_inits(s->n1, s->n, s->n1inv, NULL);
    int rc = sk_sec_alloc(&s->ds, SK_LIMBS(bits));
    if (rc != SK_OK)
        goto fail;
    sk_mpz_from_bytes(s->n1, n1, n1_len);
    /* gcd(n1, n2) = 1 exactly when n1 is invertible mod n2. */
    if (mpz_invert(s->n1inv, s->n1, key->n2) == 0) {
        rc = SK_ERR_KEY_MISMATCH;
        goto fail;
    }
    mpz_mul(s->n, s->n1, key->n2);
    if (mpz_sizeinbase(s->n, 2) != 2 * (size_t)bits) {
        rc = SK_ERR_KEY_SIZE;
        goto fail;
    }
    /* ds fills its k/64 limbs exactly (k % 64 = 0): no overflow possible, the
     * byte positions alone steer the copy.  n1 has its top bit set, so it has
     * the same number of limbs. */
    rc = sk_sec_from_bytes(&s->ds, ds, ds_len);
    if (rc != SK_OK)
        goto fail;
    if ((mp_size_t)mpz_size(s->n1) != s->ds.n) {
        rc = SK_ERR_INTERNAL;
        goto fail;
    }
    mp_limb_t below = sk_sec_lt_mask(s->ds.d, mpz_limbs_read(s->n1), s->ds.n);
    /* Public by design: a ds out of range is refused (SK_ERR_BAD_VALUE). */
    SK_DECLASSIFY(&below, sizeof below);
    if (!below) {
        rc = SK_ERR_BAD_VALUE;
        goto fail;
    }
    rc = sk_server_key_copy(&s->key, key);
    if (rc != SK_OK)
        goto fail;
    *out = s;
    return SK_OK;
fail:
    sk_server_share_free(s);
    return rc;
}

int sk_server_share_pubkey(const sk_server_share *share, sk_pubkey **out)
{
    size_t len = 2 * (size_t)share->bits / 8;
    uint8_t *n = malloc(len);
    static const uint8_t e[3] = {0x01, 0x00, 0x01};
    if (n == NULL)
        return SK_ERR_NOMEM;
    int rc = sk_mpz_to_bytes(n, len, share->n);
    if (rc == SK_OK)
        rc = sk_pubkey_from_modulus(out, n, len, e, sizeof e);
    free(n);
    return rc;
}

sk_profile sk_server_share_profile(const sk_server_share *share)
{
    return (sk_profile)share->bits;
}

void sk_server_share_free(sk_server_share *share)
{
    if (share == NULL)
        return;
    sk_sec_free(&share->ds);
    if (share->key.bits != 0)
        sk_server_key_release(&share->key);
    mpz_clears(share->n1, share->n, share->n1inv, NULL);
    sk_wipe(share, sizeof *share);
    free(share);
}
