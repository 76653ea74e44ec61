/* SPDX-License-Identifier: Apache-2.0 */
#include "splitfix.h"

#include <stdlib.h>
#include <string.h>

int splitfix_init(splitfix *f, unsigned k, const char *seed)
{
    memset(f, 0, sizeof *f);
    f->k = k;
    size_t k8 = k / 8;
    uint8_t *ds = malloc(k8);
    f->n1 = malloc(k8);
    sk_client_share *cs = NULL;
    sk_server_key *key = NULL;
    sk_drbg drbg;
    sk_drbg_init(&drbg, (const uint8_t *)seed, strlen(seed));
    int rc = -1;
    if (ds == NULL || f->n1 == NULL)
        goto out;
    if (sk_client_keygen_rng(&cs, ds, k8, k, &drbg.rng) != SK_OK ||
        sk_server_keygen_rng(&key, k, &drbg.rng) != SK_OK ||
        sk_client_share_modulus(cs, f->n1, k8) != SK_OK)
        goto out;
    f->dc_len = (k + 128) / 8;
    f->dc = malloc(f->dc_len);
    if (f->dc == NULL || sk_client_share_export_dc(cs, f->dc, f->dc_len) != SK_OK)
        goto out;
    if (sk_server_share_new(&f->ss, f->n1, k8, ds, k8, key) != SK_OK ||
        sk_server_share_pubkey(f->ss, &f->pub) != SK_OK)
        goto out;
    rc = 0;
out:
    if (ds != NULL)
        sk_wipe(ds, k8);
    free(ds);
    sk_client_share_free(cs);
    sk_server_key_free(key);
    sk_drbg_wipe(&drbg);
    return rc;
}

void splitfix_free(splitfix *f)
{
    if (f->dc != NULL)
        sk_wipe(f->dc, f->dc_len);
    free(f->dc);
    free(f->n1);
    sk_server_share_free(f->ss);
    sk_pubkey_free(f->pub);
    memset(f, 0, sizeof *f);
}

int splitfix_sign(void *ctx, uint8_t *sig, size_t sig_len, sk_hash hash, const uint8_t *digest,
                  size_t digest_len)
{
    splitfix *f = ctx;
    size_t k8 = f->k / 8;
    if (sig_len != 2 * k8)
        return -1;
    uint8_t *em = malloc(2 * k8), *y = malloc(k8);
    sk_client_share *cs = NULL;
    int rc = -1;
    if (em == NULL || y == NULL)
        goto out;
    /* A fresh share object each time: dc is single-use. */
    if (sk_client_share_from_parts(&cs, f->k, f->n1, k8, f->dc, f->dc_len) != SK_OK)
        goto out;
    if (sk_encode(em, 2 * k8, SK_SCHEME_PKCS1, hash, digest, digest_len, NULL, 0, 2 * f->k) !=
            SK_OK ||
        sk_device_partial(cs, y, k8, em, 2 * k8) != SK_OK ||
        sk_server_complete(f->ss, sig, sig_len, y, k8, em, 2 * k8) != SK_OK)
        goto out;
    f->sign_count++;
    rc = 0;
out:
    sk_client_share_free(cs);
    free(em);
    free(y);
    return rc;
}
