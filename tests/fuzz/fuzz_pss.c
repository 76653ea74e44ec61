/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_pss.c - EMSA-PSS decoding (sk_emsa_pss_verify) and signature
 * verification (sk_verify) under a fixed 1024-bit key whose private exponent
 * the harness knows, so the fuzzer controls the encoded message that the
 * verifier recovers.
 *
 * Input: mode byte, parameter byte, salt-length byte, modulus-bits byte, then
 * the payload.  Modes (low two bits of the mode byte):
 *   0  sk_emsa_pss_verify(payload as EM) with any hash / MGF hash / salt
 *      length / modulus size (around the payload's length, valid or not)
 *   1  sk_verify(PSS) of payload^d mod n (payload taken as EM); a payload
 *      that is not a 128-byte integer below n goes in as the signature itself
 *   2  the same with PKCS#1 v1.5: accepted exactly when EM is the one valid
 *      encoding
 *   3  round trip: digest and salt from the payload, sk_encode, sign with d,
 *      sk_verify must accept, and must refuse once the digest changes */
#include <string.h>

#include "fuzz.h"
#include "internal.h"

#define KEY_BITS 1024u
#define KEY_BYTES (KEY_BITS / 8)

static sk_pubkey *pub;
static mpz_t d_exp; /* the private exponent of pub */

static const sk_hash sign_hashes[] = {SK_HASH_SHA256, SK_HASH_SHA384, SK_HASH_SHA512};
static const sk_hash any_hashes[] = {SK_HASH_SHA256, SK_HASH_SHA384, SK_HASH_SHA512,
                                     SK_HASH_SHA1, SK_HASH_SHA224, (sk_hash)0};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (sk_init() != SK_OK)
        abort();
    sk_drbg drbg;
    sk_drbg_init(&drbg, (const uint8_t *)"fuzz pss", 8);
    sk_server_key *key = NULL;
    FUZZ_ASSERT(sk_server_keygen_rng(&key, KEY_BITS, &drbg.rng) == SK_OK);
    sk_drbg_wipe(&drbg);
    uint8_t n[KEY_BYTES];
    static const uint8_t e[] = {1, 0, 1};
    FUZZ_ASSERT(sk_server_key_modulus(key, n, sizeof n) == SK_OK);
    FUZZ_ASSERT(sk_pubkey_from_modulus(&pub, n, sizeof n, e, sizeof e) == SK_OK);
    mpz_t p, q, lambda, ez;
    mpz_inits(p, q, lambda, ez, NULL);
    mpz_init(d_exp);
    sk_sec_to_mpz(p, &key->p);
    sk_sec_to_mpz(q, &key->q);
    mpz_sub_ui(p, p, 1);
    mpz_sub_ui(q, q, 1);
    mpz_lcm(lambda, p, q);
    mpz_set_ui(ez, SK_E);
    FUZZ_ASSERT(mpz_invert(d_exp, ez, lambda) != 0);
    mpz_clears(p, q, lambda, ez, NULL);
    sk_server_key_free(key);
    return 0;
}

/* sig = em^d mod n, KEY_BYTES bytes; false when em is not below n. */
static int sign_raw(uint8_t *sig, const uint8_t *em)
{
    mpz_t m;
    mpz_init(m);
    sk_mpz_from_bytes(m, em, KEY_BYTES);
    int ok = mpz_cmp(m, pub->n) < 0;
    if (ok) {
        mpz_powm(m, m, d_exp, pub->n);
        FUZZ_ASSERT(sk_mpz_to_bytes(sig, KEY_BYTES, m) == SK_OK);
    }
    mpz_clear(m);
    return ok;
}

static void fixed_digest(uint8_t *digest, sk_hash h)
{
    FUZZ_ASSERT(sk_digest(digest, sk_hash_len(h), h, (const uint8_t *)"fuzz", 4) == SK_OK);
}

static void decode_only(uint8_t param, uint8_t salt_len, uint8_t bits_byte, const uint8_t *em,
                        size_t em_len)
{
    sk_hash hash = any_hashes[param % 6], mgf = any_hashes[(param / 6) % 6];
    uint8_t digest[SK_MAX_HASH_LEN] = {0};
    size_t hl = sk_hash_len_internal(hash);
    if (hl != 0 && hash != SK_HASH_SHA1 && hash != SK_HASH_SHA224)
        fixed_digest(digest, hash);
    /* Modulus sizes from 8*len - 8 to 8*len + 7: the valid ones (with and
     * without the leading zero byte) and invalid neighbours. */
    long mb = (long)em_len * 8 - 8 + (bits_byte % 16);
    unsigned mod_bits = mb > 0 ? (unsigned)mb : 0;
    int rc = sk_emsa_pss_verify(em_len ? em : digest, em_len, mod_bits, hash, mgf, digest,
                                hl ? hl : 32, salt_len);
    FUZZ_ASSERT(rc == SK_OK || rc == SK_ERR_VERIFY || rc == SK_ERR_ARG || rc == SK_ERR_HASH ||
                rc == SK_ERR_NOMEM);
    if (hl == 0 || sk_hash_len_internal(mgf) == 0)
        FUZZ_ASSERT(rc == SK_ERR_HASH);
}

static void verify_signed(sk_scheme scheme, uint8_t param, const uint8_t *em, size_t em_len)
{
    sk_hash hash = sign_hashes[param % 3];
    size_t hl = sk_hash_len(hash);
    uint8_t digest[SK_MAX_HASH_LEN], sig[KEY_BYTES];
    fixed_digest(digest, hash);
    if (em_len != KEY_BYTES || !sign_raw(sig, em)) {
        /* Not an EM below n: the payload is the signature (wrong length, >= n). */
        uint8_t dummy = 0;
        int rc = sk_verify(pub, scheme, hash, digest, hl, em_len ? em : &dummy, em_len);
        FUZZ_ASSERT(rc == SK_OK || rc == SK_ERR_VERIFY);
        if (em_len != KEY_BYTES)
            FUZZ_ASSERT(rc == SK_ERR_VERIFY);
        return;
    }
    int rc = sk_verify(pub, scheme, hash, digest, hl, sig, sizeof sig);
    FUZZ_ASSERT(rc == SK_OK || rc == SK_ERR_VERIFY);
    if (scheme == SK_SCHEME_PKCS1) {
        uint8_t expected[KEY_BYTES];
        FUZZ_ASSERT(sk_encode(expected, sizeof expected, SK_SCHEME_PKCS1, hash, digest, hl, NULL,
                              0, KEY_BITS) == SK_OK);
        FUZZ_ASSERT((rc == SK_OK) == (memcmp(expected, em, KEY_BYTES) == 0));
    } else {
        int direct = sk_emsa_pss_verify(em, KEY_BYTES, KEY_BITS, hash, hash, digest, hl, hl);
        FUZZ_ASSERT(direct == rc);
    }
}

static void round_trip(uint8_t mode, uint8_t param, const uint8_t *in, size_t in_len)
{
    sk_scheme scheme = (mode & 4) ? SK_SCHEME_PSS : SK_SCHEME_PKCS1;
    sk_hash hash = sign_hashes[param % 3];
    size_t hl = sk_hash_len(hash);
    uint8_t digest[SK_MAX_HASH_LEN] = {0}, salt[SK_MAX_HASH_LEN] = {0};
    memcpy(digest, in, in_len < hl ? in_len : hl);
    if (in_len > hl)
        memcpy(salt, in + hl, in_len - hl < hl ? in_len - hl : hl);
    uint8_t em[KEY_BYTES], sig[KEY_BYTES];
    int rc = sk_encode(em, sizeof em, scheme, hash, digest, hl,
                       scheme == SK_SCHEME_PSS ? salt : NULL, scheme == SK_SCHEME_PSS ? hl : 0,
                       KEY_BITS);
    if (scheme == SK_SCHEME_PSS && hash == SK_HASH_SHA512) {
        /* 2 * 64 + 2 > 128 bytes: too long for a 1024-bit modulus */
        FUZZ_ASSERT(rc == SK_ERR_ENCODING);
        return;
    }
    FUZZ_ASSERT(rc == SK_OK);
    FUZZ_ASSERT(sign_raw(sig, em));
    FUZZ_ASSERT(sk_verify(pub, scheme, hash, digest, hl, sig, sizeof sig) == SK_OK);
    digest[param % hl] ^= (uint8_t)(1u << (mode >> 5));
    FUZZ_ASSERT(sk_verify(pub, scheme, hash, digest, hl, sig, sizeof sig) == SK_ERR_VERIFY);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4 || size > 4 + 2048)
        return 0;
    uint8_t mode = data[0], param = data[1], salt_len = data[2], bits_byte = data[3];
    const uint8_t *payload = data + 4;
    size_t len = size - 4;
    switch (mode & 3) {
    case 0:
        decode_only(param, salt_len, bits_byte, payload, len);
        break;
    case 1:
        verify_signed(SK_SCHEME_PSS, param, payload, len);
        break;
    case 2:
        verify_signed(SK_SCHEME_PKCS1, param, payload, len);
        break;
    default:
        round_trip(mode, param, payload, len);
        break;
    }
    return 0;
}
