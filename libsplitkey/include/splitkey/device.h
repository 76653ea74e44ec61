/* SPDX-License-Identifier: Apache-2.0 */
/*
 * device.h - the device role of the client-server protocol (doc/protocol.md),
 * sans I/O.
 *
 * Security properties and limits
 * -------------------------------
 * - Every function here turns bytes and explicit state into bytes and new
 *   state.  Nothing opens a socket or a file, starts a thread or reads a clock:
 *   the caller moves the bytes, persists the state and passes the time.
 * - The PIN and dc never leave the device.  dc exists unwrapped only inside
 *   sk_device_approve() and sk_device_revoke(), which wipe it before they
 *   return.  The only PIN-dependent bytes in the stored state are the wrapped
 *   share (no redundancy: any PIN unwraps to some value); everything else
 *   (key id, n1, n, transport keys, the current one-time password, the request in flight) is sealed with a device
 *   storage key the application supplies (XChaCha20-Poly1305), never with the
 *   PIN.
 * - After enrolment every message is an authenticated envelope with a fresh
 *   ephemeral key exchange (see doc/protocol.md): a reply is taken only if it
 *   authenticates, comes from this key and names the request in flight (its
 *   id and binding); anything else is rejected and changes nothing.
 *   Enrolment replies are also checked against the pinned server Ed25519 key.
 * - Every function that builds a request records it as the request in flight
 *   until its reply is read; no other request starts meanwhile, and a lost
 *   reply is asked for again with sk_device_retry() (the same request id and
 *   one-time password), which never looks like a clone.  Seal and store the
 *   key state after building a request and before sending it, and again
 *   after reading the reply.
 * - A signature is reported only after it verifies under n.
 * - Errors carried in an unauthenticated reply (MSG_PLAIN_ERROR: the server
 *   could not authenticate the request) are returned but change no state.
 *
 * The protocol is described in doc/protocol.md.
 *
 * Conventions are those of splitkey.h.  Message outputs are written to
 * (out, cap, written): on SK_ERR_BUFFER_TOO_SMALL *written holds the size
 * needed.  SK_MAX_MESSAGE_LEN bytes are always enough;
 * sk_device_request_max_len() and sk_device_state_max_len() give the
 * smaller sizes one profile needs.
 *
 * Progress: key generation and PIN stretching take seconds on a phone;
 * sk_device_enrol_start_opts() reports their progress to a callback (key.h,
 * sk_progress) on the caller's thread and lets it cancel.
 */
#ifndef SPLITKEY_DEVICE_H
#define SPLITKEY_DEVICE_H

#include <stddef.h>
#include <stdint.h>

#include "key.h"
#include "sign.h"
#include "splitkey.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------- shared by both roles */

/* The purpose of a split key; each purpose has its own key and PIN. */
typedef enum sk_purpose {
    SK_PURPOSE_AUTH = 1, /* PIN1: at least 4 digits */
    SK_PURPOSE_SIGN = 2, /* PIN2: at least 5 digits */
    SK_PURPOSE_SEAL = 3  /* an organisation's seal (legal person): at least 5 digits */
} sk_purpose;

/* Server-side key states (doc/protocol.md section 5). */
typedef enum sk_key_state {
    SK_KEY_ENROLLING = 1, /* EnrolInit accepted, ds not received yet */
    SK_KEY_PENDING = 2,   /* enrolled; waiting for the proof-of-possession signature */
    SK_KEY_ACTIVE = 3,
    SK_KEY_TIMELOCKED = 4,
    SK_KEY_DESTROYED = 5
} sk_key_state;

typedef enum sk_destroy_reason {
    SK_DESTROY_NONE = 0,
    SK_DESTROY_USER = 1,
    SK_DESTROY_LOCKOUT = 2,
    SK_DESTROY_CLONE = 3,
    SK_DESTROY_OPERATOR = 4,
    SK_DESTROY_ABANDONED = 5 /* an enrolment never finished, started again with its token */
} sk_destroy_reason;

/* What a caller can act on after a reply: the key's state, how many PIN
 * attempts are left before the next lock (or destruction), until when the key
 * is locked (Unix seconds, 0 when not locked) and why it was destroyed. */
typedef struct sk_key_status {
    sk_key_state state;
    uint32_t attempts_left;
    uint64_t locked_until;
    sk_destroy_reason destroy_reason;
} sk_key_status;

#define SK_SERVER_PUB_LEN 64u  /* X25519 public key || Ed25519 public key */
#define SK_STORAGE_KEY_LEN 32u /* the device storage key */
#define SK_SESSION_ID_LEN 16u
#define SK_REQUEST_ID_LEN 16u
#define SK_MAX_MESSAGE_LEN 16384u /* every message and sealed state fits */
#define SK_PIN_MIN_AUTH 4u
#define SK_PIN_MIN_SIGN 5u
#define SK_PIN_MIN_SEAL 5u
#define SK_PIN_MAX 32u
#define SK_MAX_SUBJECT_LEN 512u
#define SK_MAX_TOKEN_LEN 1024u
#define SK_MAX_DISPLAY_TEXT_LEN 256u
#define SK_MAX_FETCH_SESSIONS 8u /* waiting sessions one fetch reply lists */

/* Checks a PIN against the rules of its purpose: digits only, at least 4
 * (AUTH) or 5 (SIGN, SEAL) and at most SK_PIN_MAX.  pin is secret; not copied.
 * Returns SK_OK or SK_ERR_ARG. */
SK_API SK_WARN_UNUSED int sk_pin_check(sk_purpose purpose, const uint8_t *pin, size_t pin_len);

/* The 4-digit verification code of a digest: SHA-256 of the
 * digest, bytes 30 and 31 as a big-endian integer, mod 10000, zero-padded.
 * code receives 5 bytes (four digits and a NUL). */
SK_API SK_WARN_UNUSED int sk_verification_code(char *code, size_t code_len, const uint8_t *digest,
                                               size_t digest_len) SK_NONNULL(1, 3);

/* The device's state for one split key (below). */
typedef struct sk_device_key sk_device_key;

/* ---------------------------------------------------------------- enrolment */

/* An enrolment in progress (EnrolInit, EnrolSubmit).  Holds ds (secret) until
 * the EnrolSubmit is built; free wipes it.  Not persistent: an interrupted
 * enrolment starts again. */
typedef struct sk_device_enrolment sk_device_enrolment;

/* Starts an enrolment: generates the client key (seconds for 8K), wraps dc
 * under the PIN, makes the X25519 key pair of this split key, derives its
 * transport keys with the pinned server key, and writes EnrolInit to msg.
 * server_pub: the pinned SK_SERVER_PUB_LEN bytes.  pin: secret, checked with
 * sk_pin_check(), not kept.  token: the registration token (text), or NULL
 * for open enrolment, where subject (or NULL) is the subject asked for.
 * Returns SK_OK, SK_ERR_ARG, SK_ERR_LIMIT, SK_ERR_RNG, SK_ERR_NOMEM,
 * SK_ERR_BUFFER_TOO_SMALL. */
SK_API SK_WARN_UNUSED int sk_device_enrol_start(sk_device_enrolment **out, uint8_t *msg, size_t cap,
                                                size_t *written, const uint8_t *server_pub,
                                                size_t server_pub_len, sk_purpose purpose,
                                                sk_profile profile, const uint8_t *pin,
                                                size_t pin_len, sk_kdf_cost cost, const char *token,
                                                const char *subject) SK_NONNULL(1, 2, 4, 5, 9);

/* sk_device_enrol_start()'s parameters, with progress reports and cancel. */
typedef struct sk_device_enrol_options {
    const uint8_t *server_pub; /* the pinned SK_SERVER_PUB_LEN bytes */
    size_t server_pub_len;
    sk_purpose purpose;
    sk_profile profile;
    const uint8_t *pin; /* secret, not kept */
    size_t pin_len;
    sk_kdf_cost kdf_cost;
    const char *token;   /* the registration token, or NULL (open enrolment) */
    const char *subject; /* open enrolment: the subject asked for, or NULL */
    /* May be NULL.  Called on the caller's thread from inside the call:
     * SK_PROGRESS_KEYGEN while the client key is generated (done 0..1000,
     * after every prime candidate tested), then SK_PROGRESS_PIN around the
     * Argon2id wrap of dc (0 of 1, 1 of 1; not interruptible while it
     * runs).  A nonzero return cancels: everything made so far (primes, dc,
     * ds, the wrapped share, the X25519 key) is wiped, *out is NULL,
     * *written is 0, msg is not written, nothing was sent and no enrolment
     * exists; the call returns SK_ERR_CANCELLED. */
    const sk_progress *progress;
} sk_device_enrol_options;

/* sk_device_enrol_start() with its parameters in a struct (p), and
 * progress and cancel.  Same returns, and SK_ERR_CANCELLED. */
SK_API SK_WARN_UNUSED int sk_device_enrol_start_opts(sk_device_enrolment **out, uint8_t *msg,
                                                     size_t cap, size_t *written,
                                                     const sk_device_enrol_options *p)
    SK_NONNULL(1, 2, 4, 5);

/* Reads the reply to EnrolInit (checks the envelope and the server's
 * signature against the pinned key) and writes EnrolSubmit to msg, which
 * carries ds (msg is secret: wipe it once sent).  The enrolment keeps ds for
 * sk_device_enrol_retry() until sk_device_enrol_finish() succeeds or the
 * enrolment is freed, and wipes it then.  Returns SK_OK,
 * SK_ERR_PROTO_DECODE, SK_ERR_PROTO_AUTH, SK_ERR_PROTO_SERVER_SIG,
 * SK_ERR_PROTO_STATE (called twice), SK_ERR_KEY_MISMATCH (n2 does not fit n1),
 * or the error the server replied with (SK_ERR_TOKEN, SK_ERR_KEY_WEAK ...).
 * SK_ERR_PROTO_CHALLENGE: the token enrolled a key before whose enrolment
 * never finished (the device crashed and lost it); the server gives that
 * one up if this request proves it is fresh: send sk_device_enrol_retry()'s
 * message and call this again with its reply. */
SK_API SK_WARN_UNUSED int sk_device_enrol_continue(sk_device_enrolment *enrolment, uint8_t *msg,
                                                   size_t cap, size_t *written,
                                                   const uint8_t *reply, size_t reply_len)
    SK_NONNULL(1, 2, 4, 5);

/* Reads the reply to EnrolSubmit: checks the server signature over the
 * transcript and that the server's n equals n1 * n2 (2k bits), and gives the
 * key state (PENDING: the first signature, the proof of possession, is still
 * to be made).  Same errors as sk_device_enrol_continue(). */
SK_API SK_WARN_UNUSED int sk_device_enrol_finish(sk_device_enrolment *enrolment,
                                                 sk_device_key **out, const uint8_t *reply,
                                                 size_t reply_len) SK_NONNULL(1, 2, 3);

/* Writes the message in flight again in a new envelope: EnrolSubmit, for a
 * reply that was lost (the server answers a repeated submit with its stored
 * reply), or EnrolInit with the challenge the server asked for (see
 * sk_device_enrol_continue()).  Returns SK_OK or SK_ERR_PROTO_STATE. */
SK_API SK_WARN_UNUSED int sk_device_enrol_retry(sk_device_enrolment *enrolment, uint8_t *msg,
                                                size_t cap, size_t *written) SK_NONNULL(1, 2, 4);

/* Wipes and frees the enrolment (ds included); accepts NULL. */
SK_API void sk_device_enrolment_free(sk_device_enrolment *enrolment);

/* ------------------------------------------------------------- buffer sizes */

/* The largest message any request builder of this header writes for a key
 * or enrolment of the profile: sk_device_enrol_start(), _continue(),
 * _retry(), sk_device_session_create(), sk_device_pop_create(),
 * sk_device_fetch(), _refuse(), _approve(), _revoke(), _otp_refresh(),
 * _key_state_request() and sk_device_retry(), with every text at its limit
 * (SK_MAX_TOKEN_LEN, SK_MAX_SUBJECT_LEN, SK_MAX_DISPLAY_TEXT_LEN) and a
 * challenge attached.  A msg buffer of this size never gives
 * SK_ERR_BUFFER_TOO_SMALL.  Computed from the message layout, not measured;
 * 0 for an unknown profile.  Always <= SK_MAX_MESSAGE_LEN. */
SK_API size_t sk_device_request_max_len(sk_profile profile);

/* The largest sealed state sk_device_key_seal() writes for a key of the
 * profile (a certificate of the largest size the protocol carries and the
 * largest request in flight included); 0 for an unknown profile.  Always
 * <= SK_MAX_MESSAGE_LEN.  Replies the device reads are at most
 * SK_MAX_MESSAGE_LEN bytes; a signature sk_device_read_signature() writes is
 * sk_profile_sig_len(profile) bytes. */
SK_API size_t sk_device_state_max_len(sk_profile profile);

/* ---------------------------------------------------------------- key state */

/* Seals the state with the storage key (secret, SK_STORAGE_KEY_LEN bytes):
 * "SKD1" || nonce (24) || XChaCha20-Poly1305 ciphertext.  Returns SK_OK,
 * SK_ERR_ARG, SK_ERR_BUFFER_TOO_SMALL. */
SK_API SK_WARN_UNUSED int sk_device_key_seal(const sk_device_key *key, uint8_t *out, size_t cap,
                                             size_t *written, const uint8_t *storage_key,
                                             size_t storage_key_len) SK_NONNULL(1, 2, 4, 5);

/* Opens a sealed state.  Returns SK_OK, SK_ERR_PROTO_AUTH (wrong storage key
 * or a modified blob), SK_ERR_PROTO_DECODE, SK_ERR_LIMIT. */
SK_API SK_WARN_UNUSED int sk_device_key_open(sk_device_key **out, const uint8_t *sealed,
                                             size_t sealed_len, const uint8_t *storage_key,
                                             size_t storage_key_len) SK_NONNULL(1, 2, 4);

SK_API void sk_device_key_free(sk_device_key *key);

/* Accessors.  key_id receives SK_KEY_ID_LEN bytes.  The state is the device's
 * view: PENDING until its first signature completes, DESTROYED once an
 * authenticated reply says so. */
SK_API SK_WARN_UNUSED int sk_device_key_id(const sk_device_key *key, uint8_t *key_id,
                                           size_t key_id_len) SK_NONNULL(1, 2);
SK_API sk_key_state sk_device_key_state(const sk_device_key *key) SK_NONNULL(1);
SK_API sk_purpose sk_device_key_purpose(const sk_device_key *key) SK_NONNULL(1);
SK_API sk_profile sk_device_key_profile(const sk_device_key *key) SK_NONNULL(1);
/* How many times the state has changed since enrolment: every request put
 * in flight and every reply read adds at least one; sealed with the state.
 * Storing the state safely needs it: keep the generation of the state as it
 * was loaded, and write a new one only over a stored state of that same
 * generation (compare-and-swap).  A writer that loaded an older state - a
 * second process, a stale copy - then cannot put an older one-time password
 * back, which the server would take for a copy of the device. */
SK_API uint64_t sk_device_key_generation(const sk_device_key *key) SK_NONNULL(1);
/* The subject the server registered the key for (NUL-terminated). */
SK_API const char *sk_device_key_subject(const sk_device_key *key) SK_NONNULL(1);
/* The composite public key n, e = 65537. */
SK_API SK_WARN_UNUSED int sk_device_key_pubkey(const sk_device_key *key, sk_pubkey **out)
    SK_NONNULL(1, 2);
/* The key's certificate (DER) as the last sign reply carried it; *written is
 * 0 when the device has none yet.  Returns SK_OK or SK_ERR_BUFFER_TOO_SMALL
 * (*written: the size needed). */
SK_API SK_WARN_UNUSED int sk_device_key_certificate(const sk_device_key *key, uint8_t *out,
                                                    size_t cap, size_t *written) SK_NONNULL(1, 4);
/* Non-zero while a request's reply is awaited (sk_device_retry() resends it). */
SK_API int sk_device_key_has_pending(const sk_device_key *key) SK_NONNULL(1);
/* The session the approval or refusal in flight answers (SK_SESSION_ID_LEN
 * bytes), so that a program which finishes an earlier run's request knows
 * which session it answered.  Returns SK_OK, SK_ERR_NOT_FOUND (no approval
 * or refusal in flight) or SK_ERR_BUFFER_TOO_SMALL. */
SK_API SK_WARN_UNUSED int sk_device_key_pending_session(const sk_device_key *key, uint8_t *id,
                                                        size_t id_len) SK_NONNULL(1, 2);

/* ----------------------------------------------------------------- sessions */

/* A key's certificate level (doc/protocol.md, "Certificate levels"): fixed
 * at enrolment, QUALIFIED for a key registered with a token, ADVANCED under
 * open enrolment.  A relying party names the least level it accepts. */
typedef enum sk_cert_level {
    SK_CERT_LEVEL_NONE = 0, /* a request: any level; a key: read as ADVANCED */
    SK_CERT_LEVEL_ADVANCED = 1,
    SK_CERT_LEVEL_QUALIFIED = 2
} sk_cert_level;

/* How the device asks the person (doc/device.md, "Interactions"). */
typedef enum sk_interaction {
    SK_INTERACTION_NONE = 0,                   /* treated as DISPLAY_TEXT_AND_PIN */
    SK_INTERACTION_DISPLAY_TEXT_AND_PIN = 1,   /* display text up to 60 characters, PIN */
    SK_INTERACTION_VC_CHOICE = 2,              /* up to 60; the person picks 1 of 3 codes */
    SK_INTERACTION_CONFIRMATION_MESSAGE = 3,   /* up to 200; an explicit confirm, then PIN */
    SK_INTERACTION_CONFIRMATION_AND_VC_CHOICE = 4 /* both */
} sk_interaction;

#define SK_VC_CHOICES 3u /* verification codes a VC-choice session offers */
/* display text limits in characters (UTF-8 code points) */
#define SK_DISPLAY_TEXT_SHORT_CHARS 60u
#define SK_DISPLAY_TEXT_LONG_CHARS 200u

/* A signing session as the device shows it to the user. */
typedef struct sk_device_session sk_device_session;

SK_API SK_WARN_UNUSED int sk_device_session_id(const sk_device_session *session, uint8_t *id,
                                               size_t id_len) SK_NONNULL(1, 2);
SK_API const char *sk_device_session_display_text(const sk_device_session *session) SK_NONNULL(1);
SK_API const char *sk_device_session_rp_name(const sk_device_session *session) SK_NONNULL(1);
/* The verification code, computed on the device from the digest (and checked
 * to equal the server's). */
SK_API const char *sk_device_session_code(const sk_device_session *session) SK_NONNULL(1);
/* How to ask the person: SK_INTERACTION_DISPLAY_TEXT_AND_PIN for a session
 * that names none.  VC-choice interactions (2 and 4): the app does not show
 * sk_device_session_code() (it returns "" for them) but the three codes of
 * sk_device_session_vc_choice(), in that order, and lets the person pick the
 * one the relying party shows; confirmation-message interactions (3 and 4):
 * the app shows the whole display text (up to 200 characters) and asks for
 * an explicit confirmation before the PIN. */
SK_API sk_interaction sk_device_session_interaction(const sk_device_session *session)
    SK_NONNULL(1);
/* The i-th verification code offered (0 <= i < SK_VC_CHOICES), four digits,
 * for a VC-choice session; NULL otherwise.  The library checked that the
 * code of the digest is one of them and that they are distinct. */
SK_API const char *sk_device_session_vc_choice(const sk_device_session *session, size_t i)
    SK_NONNULL(1);
SK_API uint64_t sk_device_session_expires_at(const sk_device_session *session) SK_NONNULL(1);
SK_API sk_hash sk_device_session_hash(const sk_device_session *session) SK_NONNULL(1);
SK_API sk_scheme sk_device_session_scheme(const sk_device_session *session) SK_NONNULL(1);
SK_API void sk_device_session_free(sk_device_session *session);

/* Requests.  Each writes one enveloped request to msg and advances the send
 * counter; now (Unix seconds, may be 0) feeds the counter: counter =
 * max(previous + 1, now * 2^16), so a copy of an old state used later still
 * passes the replay check and is caught as a clone.  All return SK_OK,
 * SK_ERR_ARG, SK_ERR_BUFFER_TOO_SMALL, SK_ERR_DESTROYED (the key is known to
 * be destroyed) or SK_ERR_PROTO_STATE (another request is in flight). */

/* A device-initiated session over a digest: the proof-of-possession signature
 * of a PENDING key (the CSR's digest; see sk_device_pop_create()) or a local
 * signature.  display_text may be NULL. */
SK_API SK_WARN_UNUSED int sk_device_session_create(sk_device_key *key, uint8_t *msg, size_t cap,
                                                   size_t *written, uint64_t now,
                                                   const uint8_t *digest, size_t digest_len,
                                                   sk_hash hash, sk_scheme scheme,
                                                   const char *display_text) SK_NONNULL(1, 2, 4, 6);

/* The proof-of-possession session of a PENDING key: builds
 * the PKCS#10 CertificationRequestInfo for n with the registered subject
 * (sk_device_key_subject(), which must be a person subject: C, SN, GN,
 * serialNumber) and writes a SessionCreate over its digest (hash; scheme
 * RSASSA-PKCS1-v1_5) that carries it.  The server checks that the request
 * is for exactly n and the registered subject, and once the signature is
 * made it assembles the signed request and hands it to the CA (when it runs
 * with one); the certificate then comes back in the sign reply.
 * sk_device_session_create() with the same digest does the same (it
 * attaches the request whenever a PENDING key's digest is this one).
 * digest (out, may be NULL) receives digest_len = hash length bytes, for
 * an app that also wants to finish the CSR itself (sk_csr_tbs_finish()).
 * Returns SK_OK, SK_ERR_PROTO_STATE (the key is not PENDING), SK_ERR_PKI
 * (the subject is not a person subject), the errors of
 * sk_device_session_create(). */
SK_API SK_WARN_UNUSED int sk_device_pop_create(sk_device_key *key, uint8_t *msg, size_t cap,
                                               size_t *written, uint64_t now, sk_hash hash,
                                               const char *display_text, uint8_t *digest,
                                               size_t digest_len) SK_NONNULL(1, 2, 4);

/* Asks for the session waiting for this key, if any. */
SK_API SK_WARN_UNUSED int sk_device_fetch(sk_device_key *key, uint8_t *msg, size_t cap,
                                          size_t *written, uint64_t now) SK_NONNULL(1, 2, 4);

/* Refuses a session. */
SK_API SK_WARN_UNUSED int sk_device_refuse(sk_device_key *key, uint8_t *msg, size_t cap,
                                           size_t *written, uint64_t now,
                                           const sk_device_session *session) SK_NONNULL(1, 2, 4, 6);

/* Refuses a session and says where the person said no (the interaction
 * whose screen they refused on; the relying party reads it as
 * refused_at).  SK_ERR_ARG for a value outside sk_interaction. */
SK_API SK_WARN_UNUSED int sk_device_refuse_at(sk_device_key *key, uint8_t *msg, size_t cap,
                                              size_t *written, uint64_t now,
                                              const sk_device_session *session,
                                              sk_interaction refused_at) SK_NONNULL(1, 2, 4, 6);

/* Sets (or, with NULL, clears) the progress callback (key.h, sk_progress) for
 * the PIN stretching of sk_device_approve(), sk_device_revoke() and
 * sk_device_retry() with this key.  It is not sealed with the state: a key
 * opened or enrolled starts without one.  progress must stay valid while it
 * is set.  A cancel (SK_ERR_CANCELLED) happens before anything is written to
 * msg: sk_device_approve() and sk_device_revoke() leave no request in flight,
 * sk_device_retry() leaves the one in flight as it was (send it later). */
SK_API void sk_device_key_set_progress(sk_device_key *key, const sk_progress *progress)
    SK_NONNULL(1);

/* Approves a session: unwraps dc with the PIN (secret, not kept), encodes the
 * digest with the server's salt, computes y = EM^dc mod n1, wipes dc and
 * writes SignSubmit.  The request is kept in the state until its reply is
 * read.  A wrong PIN is not detected here (only the server can tell). */
SK_API SK_WARN_UNUSED int sk_device_approve(sk_device_key *key, uint8_t *msg, size_t cap,
                                            size_t *written, uint64_t now,
                                            const sk_device_session *session, const uint8_t *pin,
                                            size_t pin_len) SK_NONNULL(1, 2, 4, 6, 7);

/* sk_device_approve() for every interaction.  vc_chosen: the code the
 * person picked, one of sk_device_session_vc_choice() (required for the
 * VC-choice interactions, else NULL); confirmed: non-zero once the person
 * confirmed the confirmation message (required for the confirmation
 * interactions).  SK_ERR_ARG when one is missing or vc_chosen is not one of
 * the codes offered; nothing is sent then.  The server ends the session
 * (SK_ERR_WRONG_VC from sk_device_read_signature(), no PIN attempt counted)
 * when the pick is not the relying party's code.  sk_device_approve() is
 * this with NULL and 0: it refuses VC-choice and confirmation sessions. */
SK_API SK_WARN_UNUSED int sk_device_approve_choice(sk_device_key *key, uint8_t *msg, size_t cap,
                                                   size_t *written, uint64_t now,
                                                   const sk_device_session *session,
                                                   const uint8_t *pin, size_t pin_len,
                                                   const char *vc_chosen, int confirmed)
    SK_NONNULL(1, 2, 4, 6, 7);

/* Revokes the key, authorised by the PIN (the server checks a partial
 * signature of a fixed revocation digest). */
SK_API SK_WARN_UNUSED int sk_device_revoke(sk_device_key *key, uint8_t *msg, size_t cap,
                                           size_t *written, uint64_t now, const uint8_t *pin,
                                           size_t pin_len) SK_NONNULL(1, 2, 4, 6);

/* Rotates the one-time password without signing. */
SK_API SK_WARN_UNUSED int sk_device_otp_refresh(sk_device_key *key, uint8_t *msg, size_t cap,
                                                size_t *written, uint64_t now) SK_NONNULL(1, 2, 4);

/* Asks for the key's state at the server. */
SK_API SK_WARN_UNUSED int sk_device_key_state_request(sk_device_key *key, uint8_t *msg, size_t cap,
                                                      size_t *written, uint64_t now)
    SK_NONNULL(1, 2, 4);

/* Resends the request in flight (approve, revoke or OTP refresh) with the
 * same request id and one-time password in a new envelope; for a reply that
 * was lost.  An approval or a revocation needs the PIN again (secret, not
 * kept): the partial signature y is never stored, because y and the wrapped
 * share together would let a thief test PINs offline.  pin may be NULL for an
 * OTP refresh.  Returns SK_ERR_PROTO_STATE when nothing is in flight,
 * SK_ERR_ARG for a missing or malformed PIN. */
SK_API SK_WARN_UNUSED int sk_device_retry(sk_device_key *key, uint8_t *msg, size_t cap,
                                          size_t *written, uint64_t now, const uint8_t *pin,
                                          size_t pin_len) SK_NONNULL(1, 2, 4);

/* Whether reply is an authentic challenge to the request in flight (the
 * server asks for proof that the request is fresh: send it again with
 * sk_device_retry(), which includes the challenge).  SK_OK: the challenge is
 * kept for the retry and nothing else changes.  Any other reply gives
 * SK_ERR_PROTO_STATE (or the error opening it) and changes nothing, so the
 * caller reads it with the function that belongs to its request. */
SK_API SK_WARN_UNUSED int sk_device_take_challenge(sk_device_key *key, const uint8_t *reply,
                                                   size_t reply_len) SK_NONNULL(1, 2);

/* Replies.  Each checks the envelope (authentication, key id, counter), the
 * message type, and updates the state (counter, one-time password, the
 * request in flight, the key's state).  An error reply returns its error and
 * fills *status when status is not NULL (attempts left, locked until, destroy
 * reason).  A reply that fails the envelope checks changes nothing. */

/* Reply to sk_device_session_create() or sk_device_fetch(): the oldest
 * waiting session.  *out is NULL and SK_ERR_NOT_FOUND is returned when no
 * session is waiting.  Also SK_ERR_PROTO_DECODE when the server's
 * verification code does not match the digest. */
SK_API SK_WARN_UNUSED int sk_device_read_session(sk_device_key *key, sk_device_session **out,
                                                 sk_key_status *status, const uint8_t *reply,
                                                 size_t reply_len) SK_NONNULL(1, 2, 4);

/* The same, for every waiting session the fetch reply lists (oldest first,
 * at most SK_MAX_FETCH_SESSIONS): out[0 .. *count) receive sessions the
 * caller frees; the first cap are read and checked, and on any error none is
 * returned.  SK_ERR_ARG when cap is 0. */
SK_API SK_WARN_UNUSED int sk_device_read_sessions(sk_device_key *key, sk_device_session **out,
                                                  size_t cap, size_t *count,
                                                  sk_key_status *status, const uint8_t *reply,
                                                  size_t reply_len) SK_NONNULL(1, 2, 4, 6);

/* Reply to sk_device_approve() (or its retry): verifies the signature under n
 * and writes it to sig.  Errors: SK_ERR_WRONG_PIN, SK_ERR_LOCKED,
 * SK_ERR_DESTROYED, SK_ERR_CLONE_DETECTED, SK_ERR_SESSION_EXPIRED,
 * SK_ERR_SESSION_REFUSED, SK_ERR_SESSION_UNKNOWN, SK_ERR_NOT_ACTIVE,
 * SK_ERR_WRONG_VC (a wrong verification code was picked: the session ended),
 * SK_ERR_BAD_SIGNATURE (the server's signature does not verify; the new
 * one-time password is kept all the same), the envelope errors. */
SK_API SK_WARN_UNUSED int sk_device_read_signature(sk_device_key *key, uint8_t *sig, size_t cap,
                                                   size_t *written, sk_key_status *status,
                                                   const uint8_t *reply, size_t reply_len)
    SK_NONNULL(1, 2, 4, 6);

/* Reply to sk_device_refuse(), sk_device_revoke(), sk_device_otp_refresh()
 * or sk_device_key_state_request().  For a key-state reply *status holds the
 * server's view. */
SK_API SK_WARN_UNUSED int sk_device_read_reply(sk_device_key *key, sk_key_status *status,
                                               const uint8_t *reply, size_t reply_len)
    SK_NONNULL(1, 3);

#ifdef __cplusplus
}
#endif

#endif /* SPLITKEY_DEVICE_H */
