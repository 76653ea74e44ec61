/* SPDX-License-Identifier: Apache-2.0 */
/*
 * key.h - RSA public keys, the client (device) share, the server key and the
 * server's half of an enrolled split key (doc/protocol.md, "Terms").
 *
 * Security properties and limits
 * - sk_client_keygen() never keeps p1, q1, lambda1 or d1: they are wiped before
 *   it returns.  The device keeps n1 and dc; ds leaves through the caller's
 *   buffer once, for enrolment, and the caller must wipe it.
 * - A wrapped client share is dc XOR an XChaCha20 keystream under an Argon2id
 *   key derived from the PIN.  It has no MAC, checksum or length prefix, so an
 *   unwrap under any PIN "succeeds"; only the server can tell a wrong PIN.
 * - Key generation uses the system CSPRNG (libsodium) and is not constant
 *   time; keys are generated once, on the device or the server.
 * - What the server runs on every request with a stored key - importing the
 *   server key, building the server share, completing the signature - is
 *   constant time in p2, q2, dp, dq, qinv and ds (doc/security.md, "Constant
 *   time", for what is tested and the known exceptions).
 */
#ifndef SPLITKEY_KEY_H
#define SPLITKEY_KEY_H

#include <stddef.h>
#include <stdint.h>

#include "splitkey.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- public keys */

/* Any RSA public key (n, e). */
typedef struct sk_pubkey sk_pubkey;

/* Imports an RSA public key from PEM ("PUBLIC KEY" or "RSA PUBLIC KEY") or
 * DER (SubjectPublicKeyInfo or PKCS#1 RSAPublicKey).  PEM input may or may not
 * include its terminating NUL.  DER is parsed strictly (definite lengths,
 * minimal INTEGERs, nothing after the key); SubjectPublicKeyInfo must name
 * rsaEncryption.  Returns SK_OK, SK_ERR_ARG (NULL or empty input),
 * SK_ERR_NOMEM, SK_ERR_PEM, SK_ERR_DER or SK_ERR_KEY_FORMAT (not RSA, e even,
 * < 3 or >= n, n even, < 512 or > 16384 bits, or e longer than 64 bits with n
 * longer than 3072 bits: such an e would make every verification cost
 * seconds); *out is NULL on failure.  sk_pubkey_from_modulus applies the same
 * checks. */
SK_API SK_WARN_UNUSED int sk_pubkey_import(sk_pubkey **out, const uint8_t *data, size_t len)
    SK_NONNULL(1, 2);

/* Builds a public key from a big-endian modulus and exponent (leading zero
 * bytes allowed), with the checks of sk_pubkey_import.  Returns SK_OK,
 * SK_ERR_ARG (empty n or e), SK_ERR_NOMEM or SK_ERR_KEY_FORMAT. */
SK_API SK_WARN_UNUSED int sk_pubkey_from_modulus(sk_pubkey **out, const uint8_t *n, size_t n_len,
                                                 const uint8_t *e, size_t e_len) SK_NONNULL(1, 2, 4);

/* Writes the SubjectPublicKeyInfo (rsaEncryption, NULL parameters) as DER.
 * Sets *written; returns SK_ERR_BUFFER_TOO_SMALL when cap is too small
 * (*written then holds the size needed). */
SK_API SK_WARN_UNUSED int sk_pubkey_export_der(const sk_pubkey *key, uint8_t *out, size_t cap,
                                               size_t *written) SK_NONNULL(1, 4);

/* Same, as a NUL-terminated PEM "PUBLIC KEY" block (64-character lines,
 * "\n" line ends); *written excludes the NUL.  On SK_ERR_BUFFER_TOO_SMALL
 * *written holds the capacity needed, NUL included.  out may be NULL when
 * cap is 0 (a size query), for both export functions. */
SK_API SK_WARN_UNUSED int sk_pubkey_export_pem(const sk_pubkey *key, char *out, size_t cap,
                                               size_t *written) SK_NONNULL(1, 4);

/* Size of the modulus in bits. */
SK_API unsigned sk_pubkey_bits(const sk_pubkey *key) SK_NONNULL(1);

/* Writes the modulus big-endian, left-padded with zeros to n_len bytes.
 * Returns SK_OK or SK_ERR_BUFFER_TOO_SMALL (n_len below the modulus size). */
SK_API SK_WARN_UNUSED int sk_pubkey_modulus(const sk_pubkey *key, uint8_t *n, size_t n_len)
    SK_NONNULL(1, 2);

SK_API void sk_pubkey_free(sk_pubkey *key);

/* ----------------------------------------------------------- progress, cancel */

/* What a progress report is about. */
typedef enum sk_progress_stage {
    /* Key generation (sk_client_keygen_progress): done is an estimate in per
     * mille (total 1000) from the prime candidates tested so far.  The first
     * prime covers 0..500, the second 500..1000; 1000 is reported once, when
     * the key is complete.  The search is random, so the estimate can stall
     * below 500 or 1000 for a while and then jump. */
    SK_PROGRESS_KEYGEN = 1,
    /* PIN stretching (Argon2id) when the share is wrapped or unwrapped:
     * done = 0, total = 1 just before it starts and done = 1, total = 1 once
     * it has finished.  Argon2id is one libsodium call and cannot be
     * interrupted: a cancel takes effect before it starts or after it ends,
     * never during it (hundreds of milliseconds at SK_KDF_INTERACTIVE on a
     * phone, more at SK_KDF_MODERATE). */
    SK_PROGRESS_PIN = 2
} sk_progress_stage;

/* A progress callback for the long operations (key generation, PIN
 * stretching).  report is called synchronously, on the caller's thread,
 * from inside the function that was given it; it must not call back into
 * the library on the objects of that call.  Key generation calls it once
 * at the start (done 0), after every prime candidate that needed a
 * Miller-Rabin test (one modular exponentiation or more: every few
 * milliseconds on a phone, a few hundred times for an 8K key) and once at
 * the end (done = total); PIN stretching calls it twice.  Within one stage
 * done never decreases.  Returning nonzero cancels: the function stops at
 * once, wipes everything it has generated or derived so far (primes, the
 * share, ds, the PIN-derived key, the output buffers) and returns
 * SK_ERR_CANCELLED, leaving its outputs as on any failure.  A cancel at the
 * last report (done = total) is honoured too.  report may be NULL: then
 * nothing is reported.  Passing a NULL sk_progress pointer is the same. */
typedef struct sk_progress {
    int (*report)(void *ctx, sk_progress_stage stage, unsigned done, unsigned total);
    void *ctx;
} sk_progress;

/* -------------------------------------------------------------- client share */

/* The device's share: n1 and (while unwrapped) dc.  dc is single-use: the
 * first sk_device_partial() consumes and wipes it. */
typedef struct sk_client_share sk_client_share;

/* Generates a client key (n1 and the split dc, ds) for the profile.
 * out:  the new share (n1, dc).
 * ds:   out, secret: the server part, big-endian, exactly k/8 bytes; the
 *       caller sends it at enrolment and wipes it.
 * Returns SK_OK, SK_ERR_ARG, SK_ERR_NOMEM or SK_ERR_RNG. */
SK_API SK_WARN_UNUSED int sk_client_keygen(sk_client_share **out, uint8_t *ds, size_t ds_len,
                                           sk_profile profile) SK_NONNULL(1, 2);

/* The same, with progress reports and cancel (progress may be NULL; see
 * sk_progress).  Also returns SK_ERR_CANCELLED: *out is NULL, ds is wiped,
 * and the primes and candidates tested so far are wiped. */
SK_API SK_WARN_UNUSED int sk_client_keygen_progress(sk_client_share **out, uint8_t *ds,
                                                    size_t ds_len, sk_profile profile,
                                                    const sk_progress *progress)
    SK_NONNULL(1, 2);

/* The profile and the public modulus n1 (k/8 bytes, big-endian). */
SK_API sk_profile sk_client_share_profile(const sk_client_share *share) SK_NONNULL(1);
SK_API SK_WARN_UNUSED int sk_client_share_modulus(const sk_client_share *share, uint8_t *n1,
                                                  size_t n1_len) SK_NONNULL(1, 2);

/* Argon2id cost for PIN wrapping.  SK_KDF_INTERACTIVE (the default: libsodium's
 * INTERACTIVE limits, 2 passes over 64 MiB) suits a phone; SK_KDF_MODERATE is
 * stronger; SK_KDF_MINIMUM exists for tests that unwrap thousands of times and
 * must never protect a real key. */
typedef enum sk_kdf_cost {
    SK_KDF_INTERACTIVE = 0,
    SK_KDF_MODERATE = 1,
    SK_KDF_MINIMUM = 2
} sk_kdf_cost;

/* Wrapped share layout (all fixed size for a profile, big-endian integers):
 *   "SKW1" | k (2) | kdf opslimit (4) | kdf memlimit (4) | salt (16) |
 *   nonce (24) | dc XOR keystream ((k+128)/8)
 * Only the last field depends on the PIN. */
#define SK_WRAP_HEADER_LEN (4u + 2u + 4u + 4u + 16u + 24u)
#define SK_WRAPPED_LEN(bits) (SK_WRAP_HEADER_LEN + SK_DC_LEN(bits))
SK_API size_t sk_wrapped_share_len(sk_profile profile);

/* Wraps the share's dc under a PIN (Argon2id, then an XChaCha20 keystream;
 * no redundancy, so any PIN unwraps to some value).  pin is secret.
 * out must hold exactly sk_wrapped_share_len(profile) bytes.
 * Returns SK_ERR_USED if dc was already consumed. */
SK_API SK_WARN_UNUSED int sk_client_share_wrap(const sk_client_share *share, uint8_t *out,
                                               size_t out_len, const uint8_t *pin, size_t pin_len,
                                               sk_kdf_cost cost) SK_NONNULL(1, 2, 4);

/* The same, with the SK_PROGRESS_PIN reports around the Argon2id call and
 * cancel (progress may be NULL).  On SK_ERR_CANCELLED out is wiped. */
SK_API SK_WARN_UNUSED int sk_client_share_wrap_progress(const sk_client_share *share,
                                                        uint8_t *out, size_t out_len,
                                                        const uint8_t *pin, size_t pin_len,
                                                        sk_kdf_cost cost,
                                                        const sk_progress *progress)
    SK_NONNULL(1, 2, 4);

/* Unwraps under a PIN.  Any PIN gives a share: a wrong one gives a uniformly
 * random dc that the server will refuse.  n1 is the device's stored modulus.
 * Returns SK_ERR_KEY_FORMAT for a malformed blob or a modulus whose size does
 * not match it. */
SK_API SK_WARN_UNUSED int sk_client_share_unwrap(sk_client_share **out, const uint8_t *wrapped,
                                                 size_t wrapped_len, const uint8_t *n1,
                                                 size_t n1_len, const uint8_t *pin, size_t pin_len)
    SK_NONNULL(1, 2, 4, 6);

/* The same, with the SK_PROGRESS_PIN reports and cancel (progress may be
 * NULL).  On SK_ERR_CANCELLED *out is NULL and the derived key is wiped. */
SK_API SK_WARN_UNUSED int sk_client_share_unwrap_progress(sk_client_share **out,
                                                          const uint8_t *wrapped,
                                                          size_t wrapped_len, const uint8_t *n1,
                                                          size_t n1_len, const uint8_t *pin,
                                                          size_t pin_len,
                                                          const sk_progress *progress)
    SK_NONNULL(1, 2, 4, 6);

SK_API void sk_client_share_free(sk_client_share *share);

/* ----------------------------------------------------------------- server key */

/* A whole RSA key (n2, p2, q2 and the CRT parameters dp, dq, qinv) held by
 * the server.  p2, q2, dp, dq and qinv are secret; n2 is public.  Every
 * function below that holds them wipes them before it releases the memory,
 * on error paths too; sk_server_key_free wipes the object. */
typedef struct sk_server_key sk_server_key;

/* Generates a server key with the system CSPRNG.  Not constant time: it
 * computes n2, d2 and the CRT parameters with ordinary GMP, once per key. */
SK_API SK_WARN_UNUSED int sk_server_keygen(sk_server_key **out, sk_profile profile) SK_NONNULL(1);

/* Serialised form (secret but for the header; the caller seals it at rest
 * and wipes its copies).  Fixed size for a profile, big-endian integers,
 * each field k/16 bytes:
 *   "SKS2" | k (2) | p2 | q2 | dp | dq | qinv
 * with dp = d2 mod (p2 - 1), dq = d2 mod (q2 - 1), qinv = q2^-1 mod p2 (< p2).
 * The CRT parameters are computed once, at key generation, so that import
 * does no variable-time arithmetic on the secrets.  The earlier form
 * "SKS1" | k | p2 | q2 is refused (SK_ERR_KEY_FORMAT); keys in it must be
 * generated again. */
#define SK_SERVER_KEY_LEN(bits) (4u + 2u + 5u * ((size_t)(bits) / 16u))
SK_API size_t sk_server_key_len(sk_profile profile);
/* out must hold exactly SK_SERVER_KEY_LEN(k) bytes; returns SK_OK or
 * SK_ERR_ARG. */
SK_API SK_WARN_UNUSED int sk_server_key_export(const sk_server_key *key, uint8_t *out,
                                               size_t out_len) SK_NONNULL(1, 2);
/* Imports the serialised form; in is secret (but for its header).  Constant
 * time in the secret fields: they are loaded into fixed-width limb arrays and
 * checked with constant-time arithmetic, and only the final yes/no is branched
 * on.  Checks: the header (magic, k a multiple of 128, at least 512, exact
 * length); p2 and q2 odd with exactly k/2 bits; n2 = p2 q2 with exactly k
 * bits; qinv < p2 and q2 qinv = 1 mod p2 (so p2 != q2); dp < p2 - 1 with
 * e dp = 1 mod (p2 - 1), and likewise dq.  Not checked: primality of p2 and
 * q2 (a key that is wrong in a way the checks miss cannot release a bad
 * signature: sk_server_complete checks s2^e = m mod n2 and withholds it).
 * Returns SK_OK, SK_ERR_ARG (out NULL), SK_ERR_NOMEM or SK_ERR_KEY_FORMAT
 * (malformed, "SKS1", or a failed check; which one is not said).  *out is NULL
 * on failure and the limbs loaded so far are wiped. */
SK_API SK_WARN_UNUSED int sk_server_key_import(sk_server_key **out, const uint8_t *in,
                                               size_t in_len) SK_NONNULL(1, 2);
SK_API sk_profile sk_server_key_profile(const sk_server_key *key) SK_NONNULL(1);
/* The public modulus n2, k/8 bytes big-endian. */
SK_API SK_WARN_UNUSED int sk_server_key_modulus(const sk_server_key *key, uint8_t *n2,
                                                size_t n2_len) SK_NONNULL(1, 2);
SK_API void sk_server_key_free(sk_server_key *key);

/* --------------------------------------------------- server half of a split key */

/* Checks a client modulus received at enrolment (EnrolInit): exactly k
 * bits, odd, no prime factor below 2^16, not a perfect power.  Returns SK_OK,
 * SK_ERR_KEY_SIZE or SK_ERR_KEY_WEAK. */
SK_API SK_WARN_UNUSED int sk_check_client_modulus(const uint8_t *n1, size_t n1_len,
                                                  sk_profile profile) SK_NONNULL(1);

/* What the server needs to complete signatures for one split key: n1, ds and
 * the server key.
 * n1:  public, the device's modulus (k/8 bytes big-endian).
 * ds:  secret, k/8 bytes big-endian; the object keeps a copy in a fixed-width
 *      limb array, the caller wipes its own.
 * key: the server key; its secrets are copied limb for limb (nothing is
 *      computed from them here), n2 is public.
 * Checks, on public values with ordinary GMP: n1 has k bits and is odd,
 * gcd(n1, n2) = 1, |n1 * n2| = 2k bits; and on the secret ds in constant time,
 * branching only on the yes/no: ds < n1.  Returns SK_OK, SK_ERR_ARG (sizes),
 * SK_ERR_NOMEM, SK_ERR_KEY_SIZE, SK_ERR_KEY_WEAK (n1 even),
 * SK_ERR_KEY_MISMATCH (gcd) or SK_ERR_BAD_VALUE (ds >= n1).  On failure *out is
 * NULL and the copies of ds and of the key are wiped; sk_server_share_free
 * wipes them too. */
typedef struct sk_server_share sk_server_share;
SK_API SK_WARN_UNUSED int sk_server_share_new(sk_server_share **out, const uint8_t *n1,
                                              size_t n1_len, const uint8_t *ds, size_t ds_len,
                                              const sk_server_key *key) SK_NONNULL(1, 2, 4, 6);
/* The composite public key n = n1 * n2, e = 65537. */
SK_API SK_WARN_UNUSED int sk_server_share_pubkey(const sk_server_share *share, sk_pubkey **out)
    SK_NONNULL(1, 2);
SK_API sk_profile sk_server_share_profile(const sk_server_share *share) SK_NONNULL(1);
SK_API void sk_server_share_free(sk_server_share *share);

#ifdef __cplusplus
}
#endif

#endif /* SPLITKEY_KEY_H */
