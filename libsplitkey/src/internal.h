/* SPDX-License-Identifier: Apache-2.0 */
/*
 * internal.h - private declarations shared by the library's modules, the
 * tools and the tests.  Never installed; includes GMP and mbedTLS freely.
 *
 * Number conventions: public integers (moduli, EM, y, signatures being
 * verified) are mpz_t.  Secret integers are sk_sec: a fixed number of limbs
 * whose size never depends on the value, operated on only with GMP's
 * mpn_sec_* / mpn_cnd_* functions (src/math/sec.c).
 */
#ifndef SPLITKEY_INTERNAL_H
#define SPLITKEY_INTERNAL_H

#include <gmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "splitkey/key.h"
#include "splitkey/sign.h"
#include "splitkey/splitkey.h"

/* ------------------------------------------------------- constant-time hook */

/* SK_DECLASSIFY(p, len) marks len bytes at p as public at the one point where
 * the design makes them public: the yes/no of a signature check, the device's
 * partial signature y that goes on the wire.  The valgrind test in tests/ctime
 * marks the secrets undefined and fails on any branch or memory index that
 * depends on them; this hook tells it which derived values may be branched on.
 * With SK_CTIME_VALGRIND (CMake option SK_CTIME_HOOKS and valgrind's
 * memcheck.h found) it is a valgrind client request, a few instructions that do
 * nothing outside valgrind; otherwise it compiles to nothing.  Keep every use
 * next to a comment saying why the value is public. */
#if defined(SK_CTIME_VALGRIND)
#include <valgrind/memcheck.h>
#define SK_DECLASSIFY(p, len) ((void)VALGRIND_MAKE_MEM_DEFINED((p), (len)))
#else
#define SK_DECLASSIFY(p, len) ((void)(p), (void)(len))
#endif

/* ------------------------------------------------------ private exports */

/* SK_PRIVATE_API marks the few internal functions the splitkey auditor CLI
 * calls (deterministic keys from test-vector primes, see tools/splitkey).
 * The shared library exports them under the version node
 * SPLITKEY_PRIVATE_<release> (libsplitkey/splitkey.map.in), tied to one exact
 * release: a program using them refuses to load against any other build of
 * the library instead of misbehaving.  No public header declares them. */
#define SK_PRIVATE_API __attribute__((visibility("default")))

/* ------------------------------------------------------------------ core */

/* Randomness source.  fill returns SK_OK or SK_ERR_RNG. */
typedef struct sk_rng {
    int (*fill)(void *ctx, uint8_t *out, size_t len);
    void *ctx;
} sk_rng;

/* The system CSPRNG (libsodium randombytes). */
const sk_rng *sk_rng_system(void);

/* Deterministic generator for test vectors and tests ONLY: ChaCha20 keyed by
 * SHA-256("splitkey drbg v1" || seed), output = keystream blocks in order. */
typedef struct sk_drbg {
    uint8_t key[32];
    uint64_t offset; /* bytes of keystream already produced */
    sk_rng rng;      /* rng.fill draws from this generator */
} sk_drbg;
SK_PRIVATE_API void sk_drbg_init(sk_drbg *drbg, const uint8_t *seed, size_t seed_len);
SK_PRIVATE_API void sk_drbg_wipe(sk_drbg *drbg);

/* Non-zero once sk_init() has succeeded. */
bool sk_is_initialised(void);

/* ------------------------------------------------------- big-number helpers */

/* Public big-endian bytes <-> mpz. to_bytes left-pads and fails with
 * SK_ERR_BUFFER_TOO_SMALL if the value does not fit. */
SK_PRIVATE_API void sk_mpz_from_bytes(mpz_t r, const uint8_t *in, size_t len);
SK_PRIVATE_API int sk_mpz_to_bytes(uint8_t *out, size_t len, const mpz_t a);

/* Uniform integer in [0, 2^bits). Not for secrets that must stay constant-size
 * (use sk_sec_random). */
int sk_mpz_random_bits(mpz_t r, unsigned bits, const sk_rng *rng);

/* A secret natural number in a fixed number of limbs. */
typedef struct sk_sec {
    mp_limb_t *d;
    mp_size_t n;
} sk_sec;

#define SK_LIMBS(bits) ((mp_size_t)(((bits) + GMP_NUMB_BITS - 1) / GMP_NUMB_BITS))

int sk_sec_alloc(sk_sec *x, mp_size_t n); /* zeroed; SK_ERR_NOMEM */
void sk_sec_free(sk_sec *x);              /* wipes; safe on a zeroed struct */
/* Constant time in the value: byte i lands in a limb chosen by i only.
 * Bytes beyond x's width must be zero (checked in constant time, returns
 * SK_ERR_BAD_VALUE without saying which byte). */
int sk_sec_from_bytes(sk_sec *x, const uint8_t *in, size_t len);
void sk_sec_to_bytes(uint8_t *out, size_t len, const sk_sec *x);
/* Conversions with mpz leak the value's limb count through normalisation:
 * only for key generation and tests, never on a path that runs per request
 * (signing, server key import, loading a server share). */
int sk_sec_from_mpz(sk_sec *x, const mpz_t a);
void sk_sec_to_mpz(mpz_t r, const sk_sec *x);
/* Uniform in [0, 2^bits): bits <= x->n * GMP_NUMB_BITS. */
int sk_sec_random(sk_sec *x, unsigned bits, const sk_rng *rng);

/* Constant-time modular arithmetic with a modulus m of m->n limbs (top limb
 * non-zero, odd for powm).  The modulus may itself be secret. */
typedef struct sk_sec_mod {
    const mp_limb_t *m;
    mp_size_t n;
} sk_sec_mod;
/* r = a mod m, for a of any width (r has m.n limbs). */
int sk_sec_reduce(mp_limb_t *r, const mp_limb_t *a, mp_size_t an, sk_sec_mod m);
/* r = a * b mod m, a and b of m.n limbs, reduced. */
int sk_sec_mulmod(mp_limb_t *r, const mp_limb_t *a, const mp_limb_t *b, sk_sec_mod m);
/* r = a - b mod m, a and b reduced. */
void sk_sec_submod(mp_limb_t *r, const mp_limb_t *a, const mp_limb_t *b, sk_sec_mod m);
/* r = b^e mod m, b reduced (any value, 0 included), e of ebits bits (ebits > 0). */
int sk_sec_powm(mp_limb_t *r, const mp_limb_t *b, const mp_limb_t *e, mp_bitcnt_t ebits,
                sk_sec_mod m);
/* All-ones mask when a == b over n limbs, zero otherwise; constant time. */
mp_limb_t sk_sec_eq_mask(const mp_limb_t *a, const mp_limb_t *b, mp_size_t n);
/* All-ones mask when a < b over n limbs, zero otherwise; constant time. */
mp_limb_t sk_sec_lt_mask(const mp_limb_t *a, const mp_limb_t *b, mp_size_t n);
/* All-ones mask when the low bit of bit is 1, zero otherwise. */
mp_limb_t sk_sec_bit_mask(mp_limb_t bit);
/* Copies a public mpz into n limbs (zero-padded); SK_ERR_BAD_VALUE if too big. */
int sk_limbs_from_mpz(mp_limb_t *r, mp_size_t n, const mpz_t a);

/* ---------------------------------------------------------------- keys */

struct sk_pubkey {
    mpz_t n;
    mpz_t e;
    unsigned bits;
};

struct sk_client_share {
    unsigned bits;  /* k */
    mpz_t n1;       /* public */
    sk_sec dc;      /* secret, SK_LIMBS(k + 128) limbs */
    bool consumed;  /* dc wiped after one partial signature */
};

struct sk_server_key {
    unsigned bits;  /* k: n2 has k bits, p2 and q2 k/2 each */
    mpz_t n2;       /* public */
    sk_sec p, q;    /* secret, SK_LIMBS(k/2) limbs each */
    sk_sec dp, dq;  /* d2 mod p-1, d2 mod q-1, same width */
    sk_sec qinv;    /* q^-1 mod p, same width */
};

struct sk_server_share {
    unsigned bits;
    mpz_t n1, n, n1inv; /* public: n1, n = n1*n2, n1^-1 mod n2 */
    sk_sec ds;          /* secret, SK_LIMBS(k) limbs, < n1 */
    sk_server_key key;  /* embedded copy */
};

/* A key generation's progress (sk_progress, SK_PROGRESS_KEYGEN): what has
 * been reported so far, so that done never decreases.  cb may be NULL. */
typedef struct sk_keygen_run {
    const sk_progress *cb;
    unsigned reported; /* per mille last reported */
    unsigned base;     /* 0 while the first prime is sought, 500 for the second */
    unsigned long tested;  /* candidates tested for the prime being sought */
    unsigned long expect;  /* about how many that takes (an estimate) */
} sk_keygen_run;

/* Reports done per mille (raised to what was reported before) when run has a
 * callback; SK_OK or SK_ERR_CANCELLED. */
int sk_keygen_report(sk_keygen_run *run, unsigned done);

/* Probable prime of exactly `bits` bits, >= min (min has `bits` bits), with
 * gcd(e, p - 1) = 1: random start, small-prime sieve, then Miller-Rabin with
 * the FIPS 186-5 table B.1 round count (constant-time modular exponentiation). */
int sk_prime_generate(mpz_t p, unsigned bits, const mpz_t min, unsigned long e, const sk_rng *rng);

/* Miller-Rabin with `rounds` random bases; true when n is probably prime. */
bool sk_prime_mr(const mpz_t n, unsigned rounds, const sk_rng *rng);

/* Two primes of bits/2 bits each with p*q >= ceil(sqrt(2) * 2^(bits-1)),
 * |p - q| > 2^(bits/2 - 100), gcd(e, p-1) = gcd(e, q-1) = 1.  bits >= 256,
 * even. */
int sk_rsa_primes(mpz_t p, mpz_t q, unsigned bits, unsigned long e, const sk_rng *rng);
/* The same, reporting to run (may be NULL) after every candidate that
 * needed a Miller-Rabin test; SK_ERR_CANCELLED when its callback asks.  On any
 * failure p and q are 0 (their limbs are wiped when released). */
int sk_rsa_primes_run(mpz_t p, mpz_t q, unsigned bits, unsigned long e, const sk_rng *rng,
                      sk_keygen_run *run);

/* The generators and wrapping with an explicit randomness source (tests and
 * the vectors tool pass a DRBG; the public functions pass the system RNG).
 * bits may be any even size >= 512 here (tests use small keys). */
SK_PRIVATE_API int sk_client_keygen_rng(sk_client_share **out, uint8_t *ds, size_t ds_len, unsigned bits,
                         const sk_rng *rng);
SK_PRIVATE_API int sk_server_keygen_rng(sk_server_key **out, unsigned bits, const sk_rng *rng);
int sk_client_keygen_progress_rng(sk_client_share **out, uint8_t *ds, size_t ds_len, unsigned bits,
                                  const sk_rng *rng, const sk_progress *progress);
int sk_client_share_wrap_rng(const sk_client_share *share, uint8_t *out, size_t out_len,
                             const uint8_t *pin, size_t pin_len, sk_kdf_cost cost,
                             const sk_rng *rng);
int sk_client_share_wrap_progress_rng(const sk_client_share *share, uint8_t *out, size_t out_len,
                                      const uint8_t *pin, size_t pin_len, sk_kdf_cost cost,
                                      const sk_rng *rng, const sk_progress *progress);

/* Rebuild objects from their parts (vectors tool, tests). */
SK_PRIVATE_API int sk_client_share_from_parts(sk_client_share **out, unsigned bits, const uint8_t *n1,
                               size_t n1_len, const uint8_t *dc, size_t dc_len);
/* Builds a server key from its primes: n2, d2 and the CRT parameters with
 * ordinary, variable-time GMP (key generation, once per key; the vectors tool
 * and tests).  Never on a per-request path: that is sk_server_key_import. */
SK_PRIVATE_API int sk_server_key_from_primes(sk_server_key **out, unsigned bits, const mpz_t p, const mpz_t q);
/* Deep copy of a server key into a zeroed struct (limb copies: nothing
 * computed from the secrets), and release of an embedded one (wipes). */
int sk_server_key_copy(sk_server_key *dst, const sk_server_key *src);
void sk_server_key_release(sk_server_key *key);
/* Small-prime table (odd primes below 2^16) shared by the sieve and the
 * modulus checks. */
void sk_small_primes(const uint16_t **primes, size_t *count);
/* Export the secret parts of a client share (dc, (k+128)/8 bytes). */
SK_PRIVATE_API int sk_client_share_export_dc(const sk_client_share *share, uint8_t *dc, size_t dc_len);

/* ------------------------------------------------------------ signing math */

/* y = m^dc mod n1, constant time in dc.  m is reduced mod n1 first (m is
 * public); m = 0 mod n1 is SK_ERR_BAD_VALUE. dc has dc_bits bits at most. */
int sk_math_partial(mpz_t y, const mpz_t m, const mpz_t n1, const sk_sec *dc, unsigned dc_bits);

/* Single-modulus completion (the server's first step of a split signature):
 * s1 = y * m^ds mod n1 and
 * the check s1^e == m mod n1, constant time in ds and s1.  s1 must have
 * SK_LIMBS of n1's size limbs.  Returns SK_OK or SK_ERR_PARTIAL_INVALID
 * (s1 zeroed), SK_ERR_BAD_VALUE (y = 0 or y >= n1). */
int sk_math_complete_n1(sk_sec *s1, const mpz_t m, const mpz_t y, const mpz_t n1,
                        const sk_sec *ds, unsigned long e);

/* s2 = m^d2 mod n2 by CRT with the check s2^e == m mod n2 (SK_ERR_FAULT). */
int sk_math_crt_sign(sk_sec *s2, const mpz_t m, const sk_server_key *key, unsigned long e);

/* s = s1 + n1 * ((s2 - s1) * n1inv mod n2), then s^e == m mod n (SK_ERR_FAULT).
 * s has SK_LIMBS(bits(n)) limbs. */
int sk_math_combine(sk_sec *s, const sk_sec *s1, const sk_sec *s2, const mpz_t n1,
                    const mpz_t n2, const mpz_t n1inv, const mpz_t n, const mpz_t m,
                    unsigned long e);

/* Fault-injection hook for tests: when non-NULL, called with s2 (before its
 * check) so a test can flip a bit inside the CRT computation. */
extern void (*sk_test_fault_hook)(mp_limb_t *s2, mp_size_t n);

/* ------------------------------------------------------------- encodings */

/* Hash output length, DigestInfo prefix (PKCS#1 v1.5), hashing. */
size_t sk_hash_len_internal(sk_hash hash);
int sk_hash_digestinfo(sk_hash hash, const uint8_t **prefix, size_t *prefix_len);
int sk_hash_compute(sk_hash hash, uint8_t *out, const uint8_t *data, size_t len);

/* EMSA-PKCS1-v1_5: em_len bytes = 00 01 FF.. 00 DigestInfo H (em_len >= tLen + 11). */
int sk_emsa_pkcs1_encode(uint8_t *em, size_t em_len, sk_hash hash, const uint8_t *digest,
                         size_t digest_len);
/* EMSA-PSS encode with emBits = mod_bits - 1; em has (mod_bits + 7) / 8 bytes
 * (leading zero byte when emBits % 8 == 0). Any salt length. */
int sk_emsa_pss_encode(uint8_t *em, size_t em_len, unsigned mod_bits, sk_hash hash,
                       const uint8_t *digest, size_t digest_len, const uint8_t *salt,
                       size_t salt_len);
/* EMSA-PSS verify per RFC 8017 9.1.2 with an explicit MGF hash and salt length. */
int sk_emsa_pss_verify(const uint8_t *em, size_t em_len, unsigned mod_bits, sk_hash hash,
                       sk_hash mgf_hash, const uint8_t *digest, size_t digest_len,
                       size_t salt_len);
/* MGF1 (RFC 8017 B.2.1): out = MGF1(seed, out_len) XOR-ed into out when xor_into. */
int sk_mgf1(uint8_t *out, size_t out_len, sk_hash hash, const uint8_t *seed, size_t seed_len,
            bool xor_into);

/* RSAVP1: out (key byte length) = sig^e mod n; SK_ERR_VERIFY if sig_len is not
 * the modulus byte length or sig >= n. */
int sk_rsa_public(uint8_t *out, size_t out_len, const sk_pubkey *key, const uint8_t *sig,
                  size_t sig_len);

/* Verification with explicit PSS parameters (Wycheproof covers other MGF hashes
 * and salt lengths). For PKCS1 the extra parameters are ignored. */
int sk_verify_ex(const sk_pubkey *key, sk_scheme scheme, sk_hash hash, sk_hash mgf_hash,
                 size_t salt_len, const uint8_t *digest, size_t digest_len, const uint8_t *sig,
                 size_t sig_len);

/* Byte length of a modulus of `bits` bits. */
static inline size_t sk_bytes(unsigned bits) { return ((size_t)bits + 7u) / 8u; }

#endif /* SPLITKEY_INTERNAL_H */
