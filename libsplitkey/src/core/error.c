/* SPDX-License-Identifier: Apache-2.0 */
/* error.c - sk_strerror: one sentence per error code. */
#include "internal.h"

const char *sk_strerror(int err)
{
    switch ((sk_error)err) {
    case SK_OK: return "success";
    case SK_ERR_INTERNAL: return "internal error";
    case SK_ERR_NOMEM: return "out of memory";
    case SK_ERR_ARG: return "invalid argument";
    case SK_ERR_NOT_INITIALISED: return "library not initialised (call sk_init)";
    case SK_ERR_BUFFER_TOO_SMALL: return "output buffer too small";
    case SK_ERR_RNG: return "random number generator failed";
    case SK_ERR_UNSUPPORTED: return "unsupported operation or parameter";
    case SK_ERR_USED: return "single-use secret already consumed";
    case SK_ERR_CANCELLED: return "cancelled by the caller's progress callback";
    case SK_ERR_KEY_FORMAT: return "malformed key or share";
    case SK_ERR_KEY_SIZE: return "key has the wrong size for its profile";
    case SK_ERR_KEY_WEAK: return "weak key (even, small factor or perfect power)";
    case SK_ERR_KEY_MISMATCH: return "key parts do not fit together";
    case SK_ERR_BAD_VALUE: return "integer out of range";
    case SK_ERR_PARTIAL_INVALID: return "partial signature does not verify (wrong PIN)";
    case SK_ERR_FAULT: return "self-check failed; signature withheld";
    case SK_ERR_KEYGEN: return "key generation failed";
    case SK_ERR_HASH: return "unknown or unsupported hash";
    case SK_ERR_ENCODING: return "message cannot be encoded for this modulus";
    case SK_ERR_VERIFY: return "signature does not verify";
    case SK_ERR_PEM: return "malformed PEM";
    case SK_ERR_DER: return "malformed DER";
    case SK_ERR_PROTO_DECODE: return "malformed protocol message";
    case SK_ERR_PROTO_AUTH: return "message authentication failed";
    case SK_ERR_PROTO_REPLAY: return "replayed or reordered message";
    case SK_ERR_PROTO_STATE: return "message not valid in this state";
    case SK_ERR_PROTO_SERVER_SIG: return "server signature does not verify";
    case SK_ERR_WRONG_PIN: return "wrong PIN";
    case SK_ERR_LOCKED: return "key is locked for a while after wrong PINs";
    case SK_ERR_DESTROYED: return "key destroyed";
    case SK_ERR_CLONE_DETECTED: return "clone detected; key destroyed";
    case SK_ERR_SESSION_EXPIRED: return "session expired";
    case SK_ERR_SESSION_REFUSED: return "session refused";
    case SK_ERR_SESSION_UNKNOWN: return "unknown session";
    case SK_ERR_NOT_ACTIVE: return "key not active yet";
    case SK_ERR_TOKEN: return "registration token missing or invalid";
    case SK_ERR_BAD_SIGNATURE: return "server returned a signature that does not verify";
    case SK_ERR_LIMIT: return "field exceeds its size limit";
    case SK_ERR_PENDING: return "result not ready yet";
    case SK_ERR_CA_UNAVAILABLE:
        return "certificate authority unavailable; the key stays pending, try again later";
    case SK_ERR_CA_REFUSED:
        return "certificate authority refused the request; the key stays pending";
    case SK_ERR_PROTO_VERSION:
        return "protocol version not supported by the other side (update the app or server)";
    case SK_ERR_PROTO_CHALLENGE:
        return "server asks for the request again with its challenge";
    case SK_ERR_LEASE:
        return "a PIN check of this key is in progress";
    case SK_ERR_SESSION_CANCELLED:
        return "session cancelled: the relying party no longer waits for it";
    case SK_ERR_LEVEL:
        return "the key's certificate level is lower than the one requested";
    case SK_ERR_WRONG_VC:
        return "wrong verification code picked: the session ended";
    case SK_ERR_PKI: return "PKI error";
    case SK_ERR_CSR: return "malformed or unverifiable certificate request";
    case SK_ERR_CERT: return "malformed certificate";
    case SK_ERR_OCSP: return "malformed OCSP message";
    case SK_ERR_AUDIT: return "audit log broken";
    case SK_ERR_STORE: return "storage error";
    case SK_ERR_STORE_BUSY: return "storage busy";
    case SK_ERR_STORE_CONFLICT: return "concurrent update conflict";
    case SK_ERR_NOT_FOUND: return "not found";
    }
    return "unknown error";
}
