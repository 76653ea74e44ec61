/* fuzz_pubkey_import.c - libFuzzer harness for sk_pubkey_import, the
 * public-key parser (PEM and DER, SubjectPublicKeyInfo and PKCS#1).
 *
 * Properties checked on every input:
 * - failure returns one of the documented codes and leaves *out NULL;
 * - success gives a key that passes the import checks, and exporting it as
 *   DER or PEM and importing again gives the same SubjectPublicKeyInfo.
 *
 * Built two ways: with SK_FUZZING (clang -fsanitize=fuzzer) as a fuzzer, and
 * otherwise with the small main() below that replays the files named on the
 * command line, so the seed corpus (corpus/pubkey) runs as an ordinary test. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define REQUIRE(cond)                                                                     \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            fprintf(stderr, "%s:%d: property violated: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                                      \
        }                                                                                 \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        REQUIRE(sk_init() == SK_OK);
        ready = 1;
    }
    if (size == 0)
        return 0; /* NULL/empty input is an argument error, not parsing */

    sk_pubkey *key = (sk_pubkey *)&ready;
    int rc = sk_pubkey_import(&key, data, size);
    if (rc != SK_OK) {
        REQUIRE(key == NULL);
        REQUIRE(rc == SK_ERR_PEM || rc == SK_ERR_DER || rc == SK_ERR_KEY_FORMAT ||
                rc == SK_ERR_NOMEM);
        return 0;
    }
    REQUIRE(key != NULL);
    REQUIRE(sk_pubkey_bits(key) >= 512 && mpz_odd_p(key->n) && mpz_odd_p(key->e) &&
            mpz_cmp_ui(key->e, 3) >= 0 && mpz_cmp(key->e, key->n) < 0);

    size_t der_len = 0, der2_len = 0, pem_len = 0;
    REQUIRE(sk_pubkey_export_der(key, NULL, 0, &der_len) == SK_ERR_BUFFER_TOO_SMALL);
    uint8_t *der = malloc(der_len), *der2 = malloc(der_len);
    REQUIRE(der != NULL && der2 != NULL);
    REQUIRE(sk_pubkey_export_der(key, der, der_len, &der_len) == SK_OK);
    REQUIRE(sk_pubkey_export_pem(key, NULL, 0, &pem_len) == SK_ERR_BUFFER_TOO_SMALL);
    char *pem = malloc(pem_len);
    REQUIRE(pem != NULL);
    REQUIRE(sk_pubkey_export_pem(key, pem, pem_len, &pem_len) == SK_OK);

    sk_pubkey *again = NULL;
    REQUIRE(sk_pubkey_import(&again, der, der_len) == SK_OK);
    REQUIRE(sk_pubkey_export_der(again, der2, der_len, &der2_len) == SK_OK);
    REQUIRE(der2_len == der_len && memcmp(der, der2, der_len) == 0);
    sk_pubkey_free(again);
    again = NULL;
    REQUIRE(sk_pubkey_import(&again, (const uint8_t *)pem, pem_len) == SK_OK);
    REQUIRE(sk_pubkey_export_der(again, der2, der_len, &der2_len) == SK_OK);
    REQUIRE(der2_len == der_len && memcmp(der, der2, der_len) == 0);
    sk_pubkey_free(again);

    free(der);
    free(der2);
    free(pem);
    sk_pubkey_free(key);
    return 0;
}

#ifndef SK_FUZZING
/* Replay: every file named must run without a property violation; prints
 * how many parsed.  Fails when no file could be read. */
int main(int argc, char **argv)
{
    int read = 0, parsed = 0;
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (f == NULL) {
            fprintf(stderr, "cannot open %s\n", argv[i]);
            return 1;
        }
        uint8_t buf[65536];
        size_t n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        read++;
        LLVMFuzzerTestOneInput(buf, n);
        sk_pubkey *k = NULL;
        if (n > 0 && sk_pubkey_import(&k, buf, n) == SK_OK)
            parsed++;
        sk_pubkey_free(k);
        /* Every truncation of the file goes through the harness too. */
        for (size_t len = 1; len < n; len++)
            LLVMFuzzerTestOneInput(buf, len);
    }
    printf("fuzz_pubkey_import replay: %d files, %d parse as keys\n", read, parsed);
    return read > 0 ? 0 : 1;
}
#endif
