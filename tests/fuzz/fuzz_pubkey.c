/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_pubkey.c - sk_pubkey_import (PEM and DER, SubjectPublicKeyInfo and
 * PKCS#1).  Invariants: an accepted key passes the import checks (odd n of at
 * least 512 bits, odd 3 <= e < n, e of at most 64 bits above 3072 bits),
 * exporting it as DER and as PEM and importing those again gives the same n
 * and e, and a verification under it returns (SK_ERR_VERIFY for signature 2). */
#include <string.h>

#include "fuzz.h"
#include "internal.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (sk_init() != SK_OK)
        abort();
    return 0;
}

static void same_key(const sk_pubkey *a, const sk_pubkey *b)
{
    FUZZ_ASSERT(mpz_cmp(a->n, b->n) == 0);
    FUZZ_ASSERT(mpz_cmp(a->e, b->e) == 0);
    FUZZ_ASSERT(a->bits == b->bits);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sk_pubkey *key = NULL, *again = NULL;
    if (size == 0) {
        FUZZ_ASSERT(sk_pubkey_import(&key, (const uint8_t *)"", 0) == SK_ERR_ARG);
        return 0;
    }
    int rc = sk_pubkey_import(&key, data, size);
    FUZZ_ASSERT((rc == SK_OK) == (key != NULL));
    if (rc != SK_OK) {
        FUZZ_ASSERT(rc == SK_ERR_PEM || rc == SK_ERR_DER || rc == SK_ERR_KEY_FORMAT ||
                    rc == SK_ERR_NOMEM);
        return 0;
    }
    FUZZ_ASSERT(mpz_odd_p(key->n) && key->bits >= 512);
    FUZZ_ASSERT(key->bits == mpz_sizeinbase(key->n, 2));
    FUZZ_ASSERT(mpz_odd_p(key->e) && mpz_cmp_ui(key->e, 3) >= 0 && mpz_cmp(key->e, key->n) < 0);
    FUZZ_ASSERT(sk_pubkey_bits(key) == key->bits);
    /* The cost of a verification is bounded: a long exponent only with a
     * modulus of at most 3072 bits (corpus: spki-4096-e4096.pem). */
    if (key->bits > 3072)
        FUZZ_ASSERT(mpz_sizeinbase(key->e, 2) <= 64);

    size_t der_len = 0, pem_len = 0;
    FUZZ_ASSERT(sk_pubkey_export_der(key, NULL, 0, &der_len) == SK_ERR_BUFFER_TOO_SMALL);
    uint8_t *der = malloc(der_len);
    FUZZ_ASSERT(der != NULL);
    size_t written = 0;
    FUZZ_ASSERT(sk_pubkey_export_der(key, der, der_len, &written) == SK_OK &&
                written == der_len);
    FUZZ_ASSERT(sk_pubkey_import(&again, der, der_len) == SK_OK);
    same_key(key, again);
    sk_pubkey_free(again);
    again = NULL;

    /* A size query gives the capacity needed, NUL included (key.h). */
    size_t pem_cap = 0;
    FUZZ_ASSERT(sk_pubkey_export_pem(key, NULL, 0, &pem_cap) == SK_ERR_BUFFER_TOO_SMALL &&
                pem_cap > 1);
    pem_len = pem_cap - 1;
    char *pem = malloc(pem_cap);
    FUZZ_ASSERT(pem != NULL);
    FUZZ_ASSERT(sk_pubkey_export_pem(key, pem, pem_cap, &written) == SK_OK &&
                written == pem_len && strlen(pem) == pem_len);
    FUZZ_ASSERT(sk_pubkey_import(&again, (const uint8_t *)pem, pem_len) == SK_OK);
    same_key(key, again);
    sk_pubkey_free(again);

    size_t nb = (key->bits + 7) / 8;
    uint8_t *n = malloc(nb);
    FUZZ_ASSERT(n != NULL);
    FUZZ_ASSERT(sk_pubkey_modulus(key, n, nb) == SK_OK);
    FUZZ_ASSERT(n[0] != 0);
    /* One verification under the key (signature 2): refused, in bounded time. */
    uint8_t digest[32] = {0};
    memset(n, 0, nb);
    n[nb - 1] = 2;
    FUZZ_ASSERT(sk_verify(key, SK_SCHEME_PKCS1, SK_HASH_SHA256, digest, 32, n, nb) ==
                SK_ERR_VERIFY);
    free(n);
    free(pem);
    free(der);
    sk_pubkey_free(key);
    return 0;
}
