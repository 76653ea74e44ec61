/* SPDX-License-Identifier: Apache-2.0 */
/* sign.c - the public signing calls: device partial and server completion. */
#include "internal.h"

int sk_device_partial(sk_client_share *share, uint8_t *y, size_t y_len, const uint8_t *em,
                      size_t em_len)
{
    if (share == NULL || y == NULL || em == NULL)
        return SK_ERR_ARG;
    if (y_len != share->bits / 8 || em_len != 2 * (size_t)share->bits / 8)
        return SK_ERR_ARG;
    if (share->consumed)
        return SK_ERR_USED;

    mpz_t m, yz;
    mpz_inits(m, yz, NULL);
    sk_mpz_from_bytes(m, em, em_len);
    int rc = sk_math_partial(yz, m, share->n1, &share->dc, share->bits + 128);
    if (rc == SK_OK)
        rc = sk_mpz_to_bytes(y, y_len, yz);
    if (rc != SK_OK)
        sk_wipe(y, y_len);
    /* dc is single-use: gone whatever happened. */
    sk_wipe(share->dc.d, (size_t)share->dc.n * sizeof(mp_limb_t));
    share->consumed = true;
    mpz_clears(m, yz, NULL);
    return rc;
}

int sk_server_complete(const sk_server_share *share, uint8_t *sig, size_t sig_len,
                       const uint8_t *y, size_t y_len, const uint8_t *em, size_t em_len)
{
    if (share == NULL || sig == NULL || y == NULL || em == NULL)
        return SK_ERR_ARG;
    size_t k8 = share->bits / 8;
    if (sig_len != 2 * k8 || y_len != k8 || em_len != 2 * k8)
        return SK_ERR_ARG;

    int rc;
    sk_sec s1 = {0}, s2 = {0}, s = {0};
    mpz_t m, yz;
    mpz_inits(m, yz, NULL);
    sk_mpz_from_bytes(m, em, em_len);
    sk_mpz_from_bytes(yz, y, y_len);
    if (mpz_cmp(m, share->n) >= 0) {
        rc = SK_ERR_BAD_VALUE;
        goto out;
    }
    if ((rc = sk_sec_alloc(&s1, (mp_size_t)mpz_size(share->n1))) != SK_OK ||
        (rc = sk_sec_alloc(&s2, (mp_size_t)mpz_size(share->key.n2))) != SK_OK ||
        (rc = sk_sec_alloc(&s, (mp_size_t)mpz_size(share->n))) != SK_OK)
        goto out;
    /* The PIN check (s1) decides the answer, but the work done does not
     * depend on it: a wrong partial still runs the CRT half and the
     * combination, so a right and a wrong PIN take the same time up to the
     * point where the caller stores the outcome (doc/security.md). */
    int pin_rc = sk_math_complete_n1(&s1, m, yz, share->n1, &share->ds, SK_E);
    if (pin_rc != SK_OK && pin_rc != SK_ERR_PARTIAL_INVALID) {
        rc = pin_rc;
        goto out;
    }
    if ((rc = sk_math_crt_sign(&s2, m, &share->key, SK_E)) != SK_OK)
        goto out;
    rc = sk_math_combine(&s, &s1, &s2, share->n1, share->key.n2, share->n1inv, share->n, m,
                         SK_E);
    if (pin_rc != SK_OK)
        rc = pin_rc; /* a combination from a wrong s1 fails its own check too */
    if (rc == SK_OK)
        sk_sec_to_bytes(sig, sig_len, &s);
out:
    if (rc != SK_OK)
        sk_wipe(sig, sig_len);
    sk_sec_free(&s1);
    sk_sec_free(&s2);
    sk_sec_free(&s);
    mpz_clears(m, yz, NULL);
    return rc;
}
