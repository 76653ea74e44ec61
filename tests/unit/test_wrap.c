/* SPDX-License-Identifier: Apache-2.0 */
/* PIN wrapping of dc.
 * - The right PIN gives back dc; a wrong PIN gives a different dc.
 * - Decryptions under many wrong PINs are uniformly distributed integers of
 *   the same length: per-bit frequencies (chi-square over all k+128 bit
 *   positions) and the top byte's value histogram stay inside bounds that a
 *   biased unwrap (e.g. one that reduced mod lambda, zeroed the top bits,
 *   or returned dc + small) would exceed by orders of magnitude.
 * - Nothing stored depends on the PIN except the ciphertext. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "testutil.h"

#define WRONG_PINS 2000

int main(void)
{
    sk_test_init();
    const unsigned k = 2048;
    const size_t dc_len = SK_DC_LEN(k), wlen = SK_WRAPPED_LEN(k);
    uint8_t ds[256], n1[256], dc[SK_DC_LEN(2048)], got[SK_DC_LEN(2048)];
    uint8_t *wa = malloc(wlen), *wb = malloc(wlen);
    sk_client_share *share = NULL, *u = NULL;
    sk_drbg drbg;
    sk_drbg_init(&drbg, (const uint8_t *)"wrap", 4);

    CHECK_OK(sk_client_keygen_rng(&share, ds, sizeof ds, k, &drbg.rng));
    if (share == NULL)
        return sk_test_done("test_wrap");
    CHECK_OK(sk_client_share_modulus(share, n1, sizeof n1));
    CHECK_OK(sk_client_share_export_dc(share, dc, dc_len));

    /* Same randomness, two PINs: only the ciphertext differs. */
    sk_drbg d1, d2;
    sk_drbg_init(&d1, (const uint8_t *)"salt", 4);
    sk_drbg_init(&d2, (const uint8_t *)"salt", 4);
    CHECK_OK(sk_client_share_wrap_rng(share, wa, wlen, (const uint8_t *)"13579", 5, SK_KDF_MINIMUM,
                                      &d1.rng));
    CHECK_OK(sk_client_share_wrap_rng(share, wb, wlen, (const uint8_t *)"24680", 5, SK_KDF_MINIMUM,
                                      &d2.rng));
    CHECK(memcmp(wa, wb, SK_WRAP_HEADER_LEN) == 0);
    CHECK(memcmp(wa + SK_WRAP_HEADER_LEN, wb + SK_WRAP_HEADER_LEN, dc_len) != 0);
    CHECK(wlen == SK_WRAP_HEADER_LEN + dc_len); /* no room for any redundancy */

    /* Right PIN: dc back, byte for byte. */
    CHECK_OK(sk_client_share_unwrap(&u, wa, wlen, n1, sizeof n1, (const uint8_t *)"13579", 5));
    if (u != NULL) {
        CHECK_OK(sk_client_share_export_dc(u, got, dc_len));
        CHECK(memcmp(got, dc, dc_len) == 0);
    }
    sk_client_share_free(u);
    u = NULL;

    /* Malformed blobs are refused, wrong PINs are not. */
    wb[0] ^= 1;
    CHECK_RC(SK_ERR_KEY_FORMAT, sk_client_share_unwrap(&u, wb, wlen, n1, sizeof n1,
                                                       (const uint8_t *)"1", 1));
    CHECK_RC(SK_ERR_KEY_FORMAT, sk_client_share_unwrap(&u, wa, wlen - 1, n1, sizeof n1,
                                                       (const uint8_t *)"1", 1));
    CHECK_RC(SK_ERR_KEY_FORMAT, sk_client_share_unwrap(&u, wa, wlen, n1, sizeof n1 - 1,
                                                       (const uint8_t *)"1", 1));
    CHECK(u == NULL);

    /* Many wrong PINs. */
    const unsigned nbits = k + 128;
    unsigned *ones = calloc(nbits, sizeof *ones);
    unsigned top_hist[256] = {0};
    uint8_t first[SK_DC_LEN(2048)];
    unsigned same_as_first = 0, equal_to_dc = 0, short_values = 0;
    for (unsigned i = 0; i < WRONG_PINS; i++) {
        char pin[16];
        int len = snprintf(pin, sizeof pin, "%05u", 20000 + i);
        CHECK_OK(sk_client_share_unwrap(&u, wa, wlen, n1, sizeof n1, (const uint8_t *)pin,
                                        (size_t)len));
        if (u == NULL)
            break;
        CHECK_OK(sk_client_share_export_dc(u, got, dc_len));
        sk_client_share_free(u);
        u = NULL;
        if (i == 0)
            memcpy(first, got, dc_len);
        else if (memcmp(first, got, dc_len) == 0)
            same_as_first++;
        if (memcmp(got, dc, dc_len) == 0)
            equal_to_dc++;
        if (got[0] == 0 && got[1] == 0)
            short_values++;
        top_hist[got[0]]++;
        for (unsigned b = 0; b < nbits; b++)
            ones[b] += (got[dc_len - 1 - b / 8] >> (b % 8)) & 1;
    }
    CHECK(same_as_first == 0);
    CHECK(equal_to_dc == 0);
    /* P(top 16 bits all zero) = 2^-16: expect ~0.03 of 2000 */
    CHECK(short_values <= 3);

    /* Bit frequencies: sum of z^2 over nbits positions ~ chi-square(nbits):
     * mean nbits, sd sqrt(2 nbits). Bound: mean + 6 sd. */
    double chi_bits = 0;
    for (unsigned b = 0; b < nbits; b++) {
        double z = (ones[b] - WRONG_PINS / 2.0) / sqrt(WRONG_PINS / 4.0);
        chi_bits += z * z;
    }
    double bound_bits = nbits + 6 * sqrt(2.0 * nbits);
    printf("bit-frequency chi-square %.1f (dof %u, bound %.1f)\n", chi_bits, nbits, bound_bits);
    CHECK(chi_bits < bound_bits);
    CHECK(chi_bits > nbits - 6 * sqrt(2.0 * nbits)); /* not suspiciously perfect */

    /* Top byte histogram: chi-square with 255 dof. */
    double expect = WRONG_PINS / 256.0, chi_top = 0;
    for (unsigned v = 0; v < 256; v++)
        chi_top += (top_hist[v] - expect) * (top_hist[v] - expect) / expect;
    double bound_top = 255 + 6 * sqrt(2.0 * 255);
    printf("top-byte chi-square %.1f (dof 255, bound %.1f)\n", chi_top, bound_top);
    CHECK(chi_top < bound_top);

    free(ones);
    free(wa);
    free(wb);
    sk_wipe(dc, sizeof dc);
    sk_wipe(ds, sizeof ds);
    sk_client_share_free(share);
    sk_drbg_wipe(&drbg);
    return sk_test_done("test_wrap");
}
