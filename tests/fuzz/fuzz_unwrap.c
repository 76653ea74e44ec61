/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_unwrap.c - sk_client_share_unwrap, the parser of the wrapped client
 * share ("SKW1" | k | opslimit | memlimit | salt | nonce | ciphertext).
 *
 * Input: one byte giving the PIN length (1-16), one flag byte, the PIN, then
 * the wrapped share.  The device's modulus n1 is made up here with the size
 * the header claims (or a wrong size when flag bit 0 is set).
 *
 * Cost bound: a header that the library would accept with an Argon2 cost
 * above 2 passes or 64 KiB is not unwrapped (the KDF would dominate every
 * run); headers outside the library's limits still are, since those are
 * refused before the KDF.  The seeds use SK_KDF_MINIMUM headers.
 *
 * Invariants: an accepted blob has exactly the size of its profile and gives
 * a share of that size whose modulus is the n1 passed in. */
#include <sodium.h>
#include <string.h>

#include "fuzz.h"
#include "internal.h"

/* The library's acceptance range for the KDF cost (src/math/wrap.c). */
#define LIB_MIN_OPS crypto_pwhash_OPSLIMIT_MIN
#define LIB_MAX_OPS 16u
#define LIB_MIN_MEM crypto_pwhash_MEMLIMIT_MIN
#define LIB_MAX_MEM (1024u * 1024u * 1024u)
/* What this harness lets through to Argon2. */
#define FUZZ_MAX_OPS 2u
#define FUZZ_MAX_MEM (64u * 1024u)

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (sk_init() != SK_OK)
        abort();
    return 0;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2 || size > 2 + 16 + SK_WRAPPED_LEN(8192))
        return 0;
    size_t pin_len = 1 + data[0] % 16;
    uint8_t flags = data[1];
    if (size < 2 + pin_len)
        return 0;
    const uint8_t *pin = data + 2, *w = data + 2 + pin_len;
    size_t wlen = size - 2 - pin_len;

    unsigned bits = 2048;
    if (wlen >= SK_WRAP_HEADER_LEN) {
        bits = (unsigned)w[4] << 8 | w[5];
        uint32_t ops = be32(w + 6), mem = be32(w + 10);
        int accepted = ops >= LIB_MIN_OPS && ops <= LIB_MAX_OPS && mem >= LIB_MIN_MEM &&
                       mem <= LIB_MAX_MEM;
        if (accepted && (ops > FUZZ_MAX_OPS || mem > FUZZ_MAX_MEM))
            return 0;
    }
    size_t n1_len = bits / 8 + ((flags & 1) ? 8 : 0);
    uint8_t *n1 = malloc(n1_len ? n1_len : 1);
    FUZZ_ASSERT(n1 != NULL);
    memset(n1, 0xc5, n1_len ? n1_len : 1);
    /* top bit set, odd: a plausible modulus of the claimed size */
    n1[0] |= 0x80;
    n1[n1_len ? n1_len - 1 : 0] |= 1;

    sk_client_share *share = NULL;
    uint8_t dummy = 0;
    int rc = sk_client_share_unwrap(&share, wlen ? w : &dummy, wlen, n1, n1_len, pin, pin_len);
    FUZZ_ASSERT((rc == SK_OK) == (share != NULL));
    if (rc == SK_OK) {
        FUZZ_ASSERT(wlen >= SK_WRAP_HEADER_LEN && memcmp(w, "SKW1", 4) == 0);
        FUZZ_ASSERT(wlen == SK_WRAPPED_LEN(bits) && n1_len == bits / 8);
        FUZZ_ASSERT((unsigned)sk_client_share_profile(share) == bits);
        uint8_t *back = malloc(n1_len);
        FUZZ_ASSERT(back != NULL);
        FUZZ_ASSERT(sk_client_share_modulus(share, back, n1_len) == SK_OK);
        FUZZ_ASSERT(memcmp(back, n1, n1_len) == 0);
        free(back);
    } else {
        FUZZ_ASSERT(rc == SK_ERR_KEY_FORMAT || rc == SK_ERR_ARG || rc == SK_ERR_NOMEM);
    }
    sk_client_share_free(share);
    free(n1);
    return 0;
}
