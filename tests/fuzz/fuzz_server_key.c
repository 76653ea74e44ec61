/* fuzz_server_key.c - sk_server_key_import ("SKS1" | k | p2 | q2).
 * Invariants: an accepted key has the profile size it claims, exporting it
 * gives back exactly the input, and n2 = p2 * q2 has k bits. */
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The largest key the format can describe (k < 2^16) is 8 KiB; bound the
     * work per input to real key sizes and a little beyond. */
    if (size > SK_SERVER_KEY_LEN(8192))
        return 0;
    sk_server_key *key = NULL;
    uint8_t dummy = 0;
    int rc = sk_server_key_import(&key, size ? data : &dummy, size);
    FUZZ_ASSERT((rc == SK_OK) == (key != NULL));
    if (rc != SK_OK) {
        FUZZ_ASSERT(rc == SK_ERR_KEY_FORMAT || rc == SK_ERR_NOMEM);
        return 0;
    }
    unsigned bits = (unsigned)sk_server_key_profile(key);
    FUZZ_ASSERT(size == SK_SERVER_KEY_LEN(bits));
    FUZZ_ASSERT(mpz_sizeinbase(key->n2, 2) == bits);
    uint8_t *out = malloc(size);
    FUZZ_ASSERT(out != NULL);
    FUZZ_ASSERT(sk_server_key_export(key, out, size) == SK_OK);
    FUZZ_ASSERT(memcmp(out, data, size) == 0);
    free(out);
    uint8_t *n2 = malloc(bits / 8);
    FUZZ_ASSERT(n2 != NULL);
    FUZZ_ASSERT(sk_server_key_modulus(key, n2, bits / 8) == SK_OK);
    FUZZ_ASSERT((n2[0] & 0x80) != 0);
    free(n2);
    sk_server_key_free(key);
    return 0;
}
