/* SPDX-License-Identifier: Apache-2.0 */
/*
 * splitkey.h - two-party RSA signing: initialisation, errors, common enums.
 *
 * Security properties and limits
 * -------------------------------
 * - A split key is an ordinary RSA key n = n1 * n2 (e = 65537) whose private
 *   exponent never exists: the device holds dc (behind a PIN), the
 *   server holds ds for n1 and a whole key (p2, q2, d2) for n2.  Signatures are
 *   ordinary RSASSA-PKCS1-v1_5 or RSASSA-PSS signatures under n.
 * - Every exponentiation with a secret exponent, base or modulus uses GMP's
 *   side-channel silent mpn_sec_* layer on fixed-size operands; the valgrind
 *   test in tests/ctime checks that no branch or memory index depends on a
 *   secret in the signing paths.  Key generation is not constant time in the
 *   same sense (see doc/security.md).
 * - Secrets are wiped before their memory is released, error paths included.
 *   sk_init() installs GMP memory functions that wipe: this is process-wide and
 *   affects every other user of GMP in the process.
 * - A wrong PIN is indistinguishable, on the device, from the right one: the
 *   wrapped share carries no redundancy.  Only the server can tell (and counts).
 *
 * Conventions (all headers)
 * -------------------------
 * - Argument order: context or object first, then outputs, then in-outs, then
 *   inputs.  A length always follows its buffer.
 * - Every function returning int returns SK_OK (0) or a negative sk_error.
 *   On failure every output is left zeroed or NULL unless the function says
 *   otherwise.
 * - Arguments marked "secret" are never logged, are wiped by the library
 *   where it copied them, and must be wiped by the caller where it owns them.
 * - Objects are opaque: create with a _new, _generate or _import function, release with
 *   the matching *_free, which wipes the whole object and accepts NULL.
 * - Headers are self-contained and include only <stddef.h> and <stdint.h>.
 *
 * See doc/protocol.md for the protocol and doc/security.md for the threat model.
 */
#ifndef SPLITKEY_SPLITKEY_H
#define SPLITKEY_SPLITKEY_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(SK_BUILDING_LIBRARY) && defined(__GNUC__)
#define SK_API __attribute__((visibility("default")))
#else
#define SK_API
#endif

/* Inside the library the nonnull annotations are dropped: they would let the
 * compiler delete the functions' own NULL checks (which return SK_ERR_ARG).
 * Callers keep them. */
#if defined(__GNUC__)
#define SK_WARN_UNUSED __attribute__((warn_unused_result))
#if defined(SK_BUILDING_LIBRARY)
#define SK_NONNULL(...)
#else
#define SK_NONNULL(...) __attribute__((nonnull(__VA_ARGS__)))
#endif
#else
#define SK_WARN_UNUSED
#define SK_NONNULL(...)
#endif

#define SK_VERSION_STRING "0.1.0"

/* One error type for the whole library.  Codes are grouped by module. */
typedef enum sk_error {
    SK_OK = 0,

    /* general: -1 .. -19 */
    SK_ERR_INTERNAL = -1,        /* a bug or an impossible state */
    SK_ERR_NOMEM = -2,
    SK_ERR_ARG = -3,             /* a caller error: NULL, bad enum, wrong size */
    SK_ERR_NOT_INITIALISED = -4, /* sk_init() was not called or failed */
    SK_ERR_BUFFER_TOO_SMALL = -5,
    SK_ERR_RNG = -6,
    SK_ERR_UNSUPPORTED = -7,
    SK_ERR_USED = -8,            /* single-use state used twice */
    SK_ERR_CANCELLED = -9,       /* a progress callback asked to stop; nothing was kept */

    /* keys and math: -20 .. -39 */
    SK_ERR_KEY_FORMAT = -20,     /* cannot parse a key or a share */
    SK_ERR_KEY_SIZE = -21,       /* modulus of the wrong size for the profile */
    SK_ERR_KEY_WEAK = -22,       /* even, small factor, perfect power, ... */
    SK_ERR_KEY_MISMATCH = -23,   /* gcd(n1, n2) != 1 or shares that do not fit */
    SK_ERR_BAD_VALUE = -24,      /* an integer out of its range (y >= n1, ...) */
    SK_ERR_PARTIAL_INVALID = -25,/* s1^e != EM mod n1: wrong PIN or bad partial */
    SK_ERR_FAULT = -26,          /* a self-check failed: signature withheld */
    SK_ERR_KEYGEN = -27,

    /* encodings and verification: -40 .. -59 */
    SK_ERR_HASH = -40,           /* unknown or unsupported hash */
    SK_ERR_ENCODING = -41,       /* message too long for the modulus, ... */
    SK_ERR_VERIFY = -42,         /* signature does not verify */
    SK_ERR_PEM = -43,
    SK_ERR_DER = -44,

    /* protocol (issue: protocol): -60 .. -99 */
    SK_ERR_PROTO_DECODE = -60,   /* malformed message */
    SK_ERR_PROTO_AUTH = -61,     /* envelope authentication failed */
    SK_ERR_PROTO_REPLAY = -62,   /* an old message or reply, not the one in flight */
    SK_ERR_PROTO_STATE = -63,    /* message not valid in this state */
    SK_ERR_PROTO_SERVER_SIG = -64, /* server signature on enrolment reply bad */
    SK_ERR_WRONG_PIN = -65,
    SK_ERR_LOCKED = -66,         /* key time-locked */
    SK_ERR_DESTROYED = -67,      /* key destroyed (lockout, clone, revoked) */
    SK_ERR_CLONE_DETECTED = -68,
    SK_ERR_SESSION_EXPIRED = -69,
    SK_ERR_SESSION_REFUSED = -70,
    SK_ERR_SESSION_UNKNOWN = -71,
    SK_ERR_NOT_ACTIVE = -72,     /* key pending, not yet usable */
    SK_ERR_TOKEN = -73,          /* registration token missing or invalid */
    SK_ERR_BAD_SIGNATURE = -74,  /* server returned a signature that fails under n */
    SK_ERR_LIMIT = -75,          /* a field exceeds its size limit */
    SK_ERR_PENDING = -76,        /* result not ready yet */
    SK_ERR_CA_UNAVAILABLE = -77, /* the CA did not answer: key still pending, retry later */
    SK_ERR_CA_REFUSED = -78,     /* the CA refused the certificate request; key still pending */
    SK_ERR_PROTO_VERSION = -79,  /* the other side speaks another protocol version */
    SK_ERR_PROTO_CHALLENGE = -80,/* the server asks for the same request again with its
                                  * challenge (sk_device_retry does it); nothing changed */
    SK_ERR_LEASE = -81,          /* a PIN check of this key is charged and undecided */
    SK_ERR_SESSION_CANCELLED = -82, /* the relying party cancelled the session or stopped
                                     * waiting for it (the device is told EXPIRED) */
    SK_ERR_LEVEL = -83,          /* the key's certificate level is below the one asked for */
    SK_ERR_WRONG_VC = -84,       /* the person picked a wrong verification code: the session
                                  * ended (WRONG_VC); no PIN attempt was counted */

    /* PKI: -100 .. -119 */
    SK_ERR_PKI = -100,
    SK_ERR_CSR = -101,
    SK_ERR_CERT = -102,
    SK_ERR_OCSP = -103,
    SK_ERR_AUDIT = -104,

    /* storage (services): -120 .. -139 */
    SK_ERR_STORE = -120,
    SK_ERR_STORE_BUSY = -121,
    SK_ERR_STORE_CONFLICT = -122,
    SK_ERR_NOT_FOUND = -123
} sk_error;

/* Share-size profiles.  The value is k, the share size in bits; the
 * composite modulus n = n1 * n2 has exactly 2k bits. */
typedef enum sk_profile {
    SK_PROFILE_4K = 2048,
    SK_PROFILE_6K = 3072, /* the default */
    SK_PROFILE_8K = 4096
} sk_profile;

/* Hash functions.  SHA-1 and SHA-224 exist only so that public test vectors
 * can be verified; no signing function accepts them. */
typedef enum sk_hash {
    SK_HASH_SHA256 = 1,
    SK_HASH_SHA384 = 2,
    SK_HASH_SHA512 = 3,
    SK_HASH_SHA1 = 100,   /* verification of legacy vectors only */
    SK_HASH_SHA224 = 101  /* verification of legacy vectors only */
} sk_hash;

/* Signature schemes (RFC 8017). PSS uses MGF1 with the same hash and a salt
 * as long as the hash output. */
typedef enum sk_scheme {
    SK_SCHEME_PKCS1 = 1,
    SK_SCHEME_PSS = 2
} sk_scheme;

#define SK_MAX_HASH_LEN 64
#define SK_KEY_ID_LEN 16
#define SK_E 65537UL

/* Initialises the library: libsodium, and GMP memory functions that wipe
 * every block before releasing it (process-wide).  Safe to call more than
 * once and from several threads; call it before any other function.
 * Returns SK_OK or SK_ERR_NOT_INITIALISED. */
SK_API SK_WARN_UNUSED int sk_init(void);

/* A static, human-readable description of an error code; never NULL. */
SK_API const char *sk_strerror(int err);

/* The library version, e.g. "0.1.0". */
SK_API const char *sk_version(void);

/* Name <-> enum helpers.  The parse functions return SK_OK and set *out, or
 * SK_ERR_ARG for an unknown name.  Names: "4K" "6K" "8K"; "sha256" "sha384"
 * "sha512"; "pkcs1" "pss". */
SK_API SK_WARN_UNUSED int sk_profile_parse(sk_profile *out, const char *name) SK_NONNULL(1, 2);
SK_API SK_WARN_UNUSED int sk_hash_parse(sk_hash *out, const char *name) SK_NONNULL(1, 2);
SK_API SK_WARN_UNUSED int sk_scheme_parse(sk_scheme *out, const char *name) SK_NONNULL(1, 2);
SK_API const char *sk_profile_name(sk_profile profile);
SK_API const char *sk_hash_name(sk_hash hash);
SK_API const char *sk_scheme_name(sk_scheme scheme);

/* Output length in bytes of a hash (0 for an unknown one). */
SK_API size_t sk_hash_len(sk_hash hash);

/* Share size k in bits of a profile (0 for an unknown one), and the byte
 * sizes derived from it: the composite signature (2k/8), a device partial
 * signature (k/8), the wrapped client part ((k+128)/8). */
SK_API unsigned sk_profile_bits(sk_profile profile);
SK_API size_t sk_profile_sig_len(sk_profile profile);
SK_API size_t sk_profile_partial_len(sk_profile profile);
SK_API size_t sk_profile_dc_len(sk_profile profile);

/* Size macros, tested to agree with the functions above. */
#define SK_SIG_LEN(bits) ((size_t)(bits) / 4u)          /* 2k / 8 */
#define SK_PARTIAL_LEN(bits) ((size_t)(bits) / 8u)      /* k / 8 */
#define SK_DC_LEN(bits) (((size_t)(bits) + 128u) / 8u)  /* (k+128) / 8 */
#define SK_MAX_SIG_LEN SK_SIG_LEN(SK_PROFILE_8K)

/* Hashes data with the given hash (SHA-256, SHA-384 or SHA-512 only).  out
 * must hold sk_hash_len(hash) bytes; data may be NULL when data_len is 0.
 * Returns SK_OK, SK_ERR_HASH, SK_ERR_BUFFER_TOO_SMALL or SK_ERR_ARG. */
SK_API SK_WARN_UNUSED int sk_digest(uint8_t *out, size_t out_len, sk_hash hash,
                                    const uint8_t *data, size_t data_len) SK_NONNULL(1);

/* Constant-time comparison; returns 0 when equal, -1 otherwise. */
SK_API int sk_memequal_ct(const void *a, const void *b, size_t len);

/* Wipes len bytes at p in a way the compiler cannot remove. */
SK_API void sk_wipe(void *p, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* SPLITKEY_SPLITKEY_H */
