/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sign.h - message encodings (EMSA-PKCS1-v1_5, EMSA-PSS), the two halves of
 * a split signature (doc/protocol.md, "The split signature") and
 * verification under any RSA public key.
 *
 * Security properties and limits
 * - sk_device_partial() and sk_server_complete() are constant time in every
 *   secret (dc, ds, p2, q2, d2 and the intermediate values s1, s2, s) for a
 *   given key size; the encoded message and the partial signature y are public.
 *   Known exception (doc/security.md): GMP's division and Montgomery setup
 *   modulo the secret primes p2, q2 read small tables at indexes made of a few
 *   of their top and bottom bits.
 * - sk_server_complete() releases a signature only after three checks:
 *   s1^e = EM (mod n1) (the PIN check), s2^e = EM (mod n2) and s^e = EM (mod n).
 *   A failed first check is SK_ERR_PARTIAL_INVALID (the caller counts it as a
 *   wrong PIN); a failed second or third is SK_ERR_FAULT.  In both cases the
 *   output buffer is zeroed.
 * - The PSS salt is an input: the server chooses it and both sides
 *   compute the same EM.  sk_encode() never draws randomness itself.
 */
#ifndef SPLITKEY_SIGN_H
#define SPLITKEY_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include "key.h"
#include "splitkey.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Encodes a digest for an RSA modulus of mod_bits bits (RFC 8017 9.1.1 /
 * 9.2).  em receives the integer representative of EM, big-endian, exactly
 * (mod_bits + 7) / 8 bytes (for PSS, left-padded with a zero byte when
 * mod_bits - 1 is a multiple of 8).  digest_len must equal sk_hash_len(hash).
 * salt (PSS only, NULL for PKCS1) must be sk_hash_len(hash) bytes.
 * Returns SK_OK, SK_ERR_ARG, SK_ERR_HASH or SK_ERR_ENCODING. */
SK_API SK_WARN_UNUSED int sk_encode(uint8_t *em, size_t em_len, sk_scheme scheme, sk_hash hash,
                                    const uint8_t *digest, size_t digest_len, const uint8_t *salt,
                                    size_t salt_len, unsigned mod_bits) SK_NONNULL(1, 5);

/* Device step: y = EM^dc mod n1.  Consumes the share's dc (wiped; a second
 * call returns SK_ERR_USED).  em is the encoding for the composite modulus
 * (2k/8 bytes); y receives k/8 bytes.  Returns SK_OK, SK_ERR_ARG, SK_ERR_USED,
 * SK_ERR_BAD_VALUE (EM = 0 mod n1). */
SK_API SK_WARN_UNUSED int sk_device_partial(sk_client_share *share, uint8_t *y, size_t y_len,
                                            const uint8_t *em, size_t em_len) SK_NONNULL(1, 2, 4);

/* Server step: s1 = y * EM^ds mod n1, s2 = EM^d2 mod n2 (CRT), s by CRT
 * combination, with the three checks above.  sig receives 2k/8 bytes.
 * Returns SK_OK, SK_ERR_ARG, SK_ERR_BAD_VALUE (y = 0 or y >= n1: not
 * something any PIN yields), SK_ERR_PARTIAL_INVALID or SK_ERR_FAULT. */
SK_API SK_WARN_UNUSED int sk_server_complete(const sk_server_share *share, uint8_t *sig,
                                             size_t sig_len, const uint8_t *y, size_t y_len,
                                             const uint8_t *em, size_t em_len)
    SK_NONNULL(1, 2, 4, 6);

/* Verifies a signature over a digest under any RSA public key.  PSS uses MGF1
 * with the same hash and salt length = hash length; PKCS1 accepts only the
 * one DER DigestInfo encoding (no missing NULL, no BER variants).  hash must
 * be SHA-256, SHA-384 or SHA-512.  Returns SK_OK or SK_ERR_VERIFY (also for a
 * signature of the wrong length or >= n), SK_ERR_HASH, or SK_ERR_ARG (unknown
 * scheme, digest_len != sk_hash_len(hash)). */
SK_API SK_WARN_UNUSED int sk_verify(const sk_pubkey *key, sk_scheme scheme, sk_hash hash,
                                    const uint8_t *digest, size_t digest_len, const uint8_t *sig,
                                    size_t sig_len) SK_NONNULL(1, 4, 6);

#ifdef __cplusplus
}
#endif

#endif /* SPLITKEY_SIGN_H */
