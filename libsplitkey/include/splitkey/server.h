/* SPDX-License-Identifier: Apache-2.0 */
/*
 * server.h - the share server's role in the protocol (doc/protocol.md), as pure
 * functions: (stored key record, stored session, request bytes, policy, time,
 * randomness) -> (new key record, new session, reply bytes, effects).
 *
 * Security properties and limits
 * -------------------------------
 * - No socket, file, thread or clock inside: the caller passes the time and
 *   (optionally) the randomness, stores the records and sends the reply.
 *   Store the new records (compare-and-swap on their version) and act on the
 *   effects in one transaction BEFORE sending the reply, so that a crash
 *   never loses work the reply acknowledged.
 * - A request that fails the envelope checks (authentication, key id, a
 *   counter not above the last one seen, a malformed body) gets an error reply
 *   and no new record: stored state does not change.
 * - A key record carries no secret except ds and the server key, which are
 *   exported separately (sk_key_rec_export_secrets()) for the caller to
 *   seal at rest (associated data: the key id) and passed back in on import.
 *   One-time passwords are stored only as hashes.  The transport keys are not
 *   stored: they are derived per request from the server identity.
 * - The PIN check, s1^e = EM (mod n1), happens inside sk_server_complete();
 *   a locked or destroyed key is answered before any exponentiation.
 * - Nothing here logs anything.
 *
 * The protocol, the states and the caller's duties are described in
 * doc/protocol.md.  Conventions are those of splitkey.h and device.h.
 */
#ifndef SPLITKEY_SERVER_H
#define SPLITKEY_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "device.h"
#include "key.h"
#include "sign.h"
#include "splitkey.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A source of randomness: fills out with len bytes, returns SK_OK or
 * SK_ERR_RNG.  Wherever one is asked for, NULL means the system CSPRNG. */
typedef int (*sk_random_fn)(void *ctx, uint8_t *out, size_t len);

/* ------------------------------------------------------------- server identity */

/* The server's X25519 key-exchange key pair and Ed25519 signing key pair. */
typedef struct sk_server_ident sk_server_ident;

/* Secret export: "SKI1" || X25519 secret (32) || Ed25519 seed (32). */
#define SK_SERVER_IDENT_LEN 68u

/* Generates an identity from random (NULL: the system CSPRNG).  Returns SK_OK,
 * SK_ERR_NOT_INITIALISED, SK_ERR_RNG, SK_ERR_NOMEM; *out is NULL on failure. */
SK_API SK_WARN_UNUSED int sk_server_ident_generate(sk_server_ident **out, sk_random_fn random,
                                                   void *random_ctx) SK_NONNULL(1);
/* out receives SK_SERVER_IDENT_LEN secret bytes (the caller seals them at
 * rest and wipes its copy).  Returns SK_OK or SK_ERR_ARG (wrong out_len). */
SK_API SK_WARN_UNUSED int sk_server_ident_export(const sk_server_ident *id, uint8_t *out,
                                                 size_t out_len) SK_NONNULL(1, 2);
/* in: secret, as written by sk_server_ident_export(); not kept.  Returns
 * SK_OK, SK_ERR_KEY_FORMAT, SK_ERR_NOMEM. */
SK_API SK_WARN_UNUSED int sk_server_ident_import(sk_server_ident **out, const uint8_t *in,
                                                 size_t in_len) SK_NONNULL(1, 2);
/* Builds an identity from its two secrets as a service may keep them in
 * files: the X25519 secret (32 bytes) and the Ed25519 secret, either its
 * 32-byte seed or libsodium's 64-byte secret key (seed || public key, which
 * must match).  Both secret; not kept.  Returns SK_OK, SK_ERR_KEY_FORMAT,
 * SK_ERR_NOMEM. */
SK_API SK_WARN_UNUSED int sk_server_ident_from_secrets(sk_server_ident **out,
                                                       const uint8_t *kx_secret, size_t kx_len,
                                                       const uint8_t *ed_secret, size_t ed_len)
    SK_NONNULL(1, 2, 4);
/* The public halves clients pin: X25519 (32) || Ed25519 (32); out_len must be
 * SK_SERVER_PUB_LEN (else SK_ERR_ARG). */
SK_API SK_WARN_UNUSED int sk_server_ident_public(const sk_server_ident *id, uint8_t *out,
                                                 size_t out_len) SK_NONNULL(1, 2);
SK_API void sk_server_ident_free(sk_server_ident *id);

/* ---------------------------------------------------------------------- policy */

typedef struct sk_server_policy {
    uint32_t lock1_failures;   /* consecutive wrong PINs before the first lock (3) */
    uint64_t lock1_seconds;    /* its duration (3 h) */
    uint32_t lock2_failures;   /* ... before the second lock (6) */
    uint64_t lock2_seconds;    /* its duration (24 h) */
    uint32_t destroy_failures; /* ... before the key is destroyed and revoked (9) */
    uint64_t session_seconds;  /* session lifetime (120 s) */
    int open_enrolment;        /* non-zero: enrol without a registration token */
} sk_server_policy;

/* Fills the defaults: time lock of 3 h after 3 consecutive wrong PINs and of
 * 24 h after 6, destruction at 9, sessions valid 120 s, token required.
 * The handlers refuse (SK_ERR_ARG) a policy whose thresholds are not
 * 0 < lock1 <= lock2 <= destroy. */
SK_API void sk_server_policy_default(sk_server_policy *policy) SK_NONNULL(1);

/* ------------------------------------------------------------ registration token */

/* Mints a one-time registration token bound to a subject and a purpose: text
 * "skt2." || base64url(payload || Ed25519 signature by the server identity)
 * || "." || base64url(secret (32)), payload = "SKT2" || purpose (1) ||
 * expires_at (8) || token id (16) || subject length (2) || subject.  The
 * whole text is secret until used: it reaches the person out of band (as the
 * PIN does), and the device sends only the part before the last dot plus a
 * proof of the secret bound to its key and n1.  The server accepts it once
 * (the caller keeps used token ids, see sk_route_info) before expires_at.
 * out receives a NUL-terminated string; *written excludes the NUL. */
SK_API SK_WARN_UNUSED int sk_server_token_mint(const sk_server_ident *id, char *out, size_t cap,
                                               size_t *written, const char *subject,
                                               sk_purpose purpose, uint64_t expires_at,
                                               sk_random_fn random, void *random_ctx)
    SK_NONNULL(1, 2, 4, 5);

/* -------------------------------------------------------------------- records */

/* The stored state of one split key.  The public part (sk_key_rec_export)
 * and the secrets (ds, server key) are exported separately. */
typedef struct sk_key_rec sk_key_rec;

/* Every exported key or session record fits in this many bytes. */
#define SK_MAX_RECORD_LEN 32768u

/* Imports a record; secrets is the output of sk_key_rec_export_secrets()
 * (after the caller unsealed it), or NULL/0 when the caller does not load
 * them (a request that needs them then gets SK_ERR_INTERNAL).  Returns SK_OK,
 * SK_ERR_PROTO_DECODE, SK_ERR_LIMIT, SK_ERR_KEY_FORMAT, SK_ERR_NOMEM. */
SK_API SK_WARN_UNUSED int sk_key_rec_import(sk_key_rec **out, const uint8_t *record,
                                            size_t record_len, const uint8_t *secrets,
                                            size_t secrets_len) SK_NONNULL(1, 2);
/* Writes the public part (protobuf KeyRecord, at most SK_MAX_RECORD_LEN
 * bytes).  Returns SK_OK or SK_ERR_BUFFER_TOO_SMALL (*written: size needed). */
SK_API SK_WARN_UNUSED int sk_key_rec_export(const sk_key_rec *rec, uint8_t *out, size_t cap,
                                            size_t *written) SK_NONNULL(1, 2, 4);
/* Secret: "SKR1" || ds length (2) || ds || server key length (2) || server
 * key.  *written is 0 when the record holds no secret (destroyed). */
SK_API SK_WARN_UNUSED int sk_key_rec_export_secrets(const sk_key_rec *rec, uint8_t *out, size_t cap,
                                                    size_t *written) SK_NONNULL(1, 2, 4);
/* Starts at 1 and grows by one with every change: a store updates a record
 * only where the stored version is the one it read. */
SK_API uint64_t sk_key_rec_version(const sk_key_rec *rec) SK_NONNULL(1);
SK_API SK_WARN_UNUSED int sk_key_rec_key_id(const sk_key_rec *rec, uint8_t *key_id,
                                            size_t key_id_len) SK_NONNULL(1, 2);
SK_API sk_purpose sk_key_rec_purpose(const sk_key_rec *rec) SK_NONNULL(1);
SK_API const char *sk_key_rec_subject(const sk_key_rec *rec) SK_NONNULL(1);
/* The state as of now: TIMELOCKED while a lock runs, then PENDING or ACTIVE again. */
SK_API void sk_key_rec_status(const sk_key_rec *rec, sk_key_status *status,
                              const sk_server_policy *policy, uint64_t now) SK_NONNULL(1, 2, 3);
/* The composite public key; SK_ERR_PROTO_STATE before EnrolSubmit. */
SK_API SK_WARN_UNUSED int sk_key_rec_pubkey(const sk_key_rec *rec, sk_pubkey **out)
    SK_NONNULL(1, 2);
/* Certificate hook: *out is a copy of rec that holds the key's certificate
 * (DER, at most 8192 bytes; replaced if there was one), with version + 1;
 * store it like any new record.  Sign replies and completed sessions carry
 * it from then on.  Returns SK_OK, SK_ERR_LIMIT, SK_ERR_PROTO_STATE (key not
 * enrolled yet or destroyed), SK_ERR_NOMEM. */
SK_API SK_WARN_UNUSED int sk_key_rec_set_certificate(sk_key_rec **out, const sk_key_rec *rec,
                                                     const uint8_t *der, size_t der_len)
    SK_NONNULL(1, 2, 3);
/* *out is a copy of rec with version + 1 and nothing else changed: for a
 * caller that must write the record again (sealed under a new master key,
 * say) through the same compare-and-swap as any change.  Returns SK_OK or
 * SK_ERR_NOMEM. */
SK_API SK_WARN_UNUSED int sk_key_rec_rewrite(sk_key_rec **out, const sk_key_rec *rec)
    SK_NONNULL(1, 2);
/* The key's certificate level, fixed at enrolment: QUALIFIED for a key
 * enrolled with a registration token, ADVANCED under open enrolment (and
 * for records written before levels existed). */
SK_API sk_cert_level sk_key_rec_level(const sk_key_rec *rec) SK_NONNULL(1);
/* The key's certificate (DER, a pointer into rec), or NULL with *len 0. */
SK_API const uint8_t *sk_key_rec_certificate(const sk_key_rec *rec, size_t *len)
    SK_NONNULL(1, 2);
SK_API void sk_key_rec_free(sk_key_rec *rec);

/* A signing session (doc/protocol.md section 4). */
typedef struct sk_session_rec sk_session_rec;

typedef enum sk_session_state {
    SK_SESSION_PENDING = 1,
    SK_SESSION_COMPLETE = 2,
    SK_SESSION_REFUSED = 3,
    SK_SESSION_EXPIRED = 4,
    /* the relying party cancelled it (sk_rp_cancel_request) or, by the
     * caller's liveness rule, stopped waiting for it
     * (sk_server_input.session_abandoned); to the device it is gone like an
     * expired one */
    SK_SESSION_CANCELLED = 5,
    /* a VC-choice session whose approval picked a wrong verification code:
     * ended, no PIN attempt counted */
    SK_SESSION_WRONG_VC = 6
} sk_session_state;

/* Import and export as for key records (no secrets in a session).  Import
 * returns SK_OK, SK_ERR_PROTO_DECODE, SK_ERR_LIMIT, SK_ERR_NOMEM; export
 * SK_OK or SK_ERR_BUFFER_TOO_SMALL.  The accessors read the record; id and
 * key_id need SK_SESSION_ID_LEN / SK_KEY_ID_LEN bytes (else SK_ERR_ARG); the
 * code is the 4-digit verification code. */
SK_API SK_WARN_UNUSED int sk_session_rec_import(sk_session_rec **out, const uint8_t *in,
                                                size_t in_len) SK_NONNULL(1, 2);
SK_API SK_WARN_UNUSED int sk_session_rec_export(const sk_session_rec *rec, uint8_t *out, size_t cap,
                                                size_t *written) SK_NONNULL(1, 2, 4);
SK_API uint64_t sk_session_rec_version(const sk_session_rec *rec) SK_NONNULL(1);
SK_API SK_WARN_UNUSED int sk_session_rec_id(const sk_session_rec *rec, uint8_t *id, size_t id_len)
    SK_NONNULL(1, 2);
SK_API SK_WARN_UNUSED int sk_session_rec_key_id(const sk_session_rec *rec, uint8_t *key_id,
                                                size_t key_id_len) SK_NONNULL(1, 2);
SK_API sk_session_state sk_session_rec_state(const sk_session_rec *rec) SK_NONNULL(1);
SK_API uint64_t sk_session_rec_expires_at(const sk_session_rec *rec) SK_NONNULL(1);
SK_API const char *sk_session_rec_code(const sk_session_rec *rec) SK_NONNULL(1);
/* The interaction the session asks for (NONE: display text and PIN). */
SK_API sk_interaction sk_session_rec_interaction(const sk_session_rec *rec) SK_NONNULL(1);
/* The i-th verification code a VC-choice session offers (i < SK_VC_CHOICES),
 * in the order the device shows them; NULL otherwise. */
SK_API const char *sk_session_rec_vc_choice(const sk_session_rec *rec, size_t i) SK_NONNULL(1);
SK_API void sk_session_rec_free(sk_session_rec *rec);

/* --------------------------------------------------------------- routing */

#define SK_MAX_PERSON_ID_LEN 64u
#define SK_TOKEN_ID_LEN 16u

/* What the caller must load before handling a request. */
typedef enum sk_route_kind {
    SK_ROUTE_ENROL_INIT = 1,  /* device: no key yet; load a pool key */
    SK_ROUTE_DEVICE = 2,      /* device: load the key record by key_id */
    SK_ROUTE_RP_CREATE = 3,   /* relying party: load the key by key_id or person_id */
    SK_ROUTE_RP_POLL = 4,     /* relying party: load the session */
    SK_ROUTE_RP_KEY_STATE = 5, /* relying party: load the key by key_id */
    SK_ROUTE_RP_CANCEL = 6     /* relying party: load the session */
} sk_route_kind;

typedef struct sk_route_info {
    sk_route_kind kind;
    uint32_t msg_type; /* the envelope's message type (device requests) */
    int has_key_id;
    uint8_t key_id[SK_KEY_ID_LEN];
    int has_session_id; /* SK_ROUTE_RP_POLL, SK_ROUTE_RP_CANCEL, and device requests
                           naming one */
    uint8_t session_id[SK_SESSION_ID_LEN];
    int wants_pending_session; /* device fetch: load the key's PENDING sessions whose
                                  expires_at is still in the future, oldest first: the
                                  first as session, or up to SK_MAX_FETCH_SESSIONS of
                                  them in sessions (none: nothing waiting) */
    int has_person_id;
    char person_id[SK_MAX_PERSON_ID_LEN + 1];
    int has_token_id; /* ENROL_INIT with a token: check it was never used */
    uint8_t token_id[SK_TOKEN_ID_LEN];
    sk_purpose purpose; /* ENROL_INIT and RP_CREATE */
    sk_profile profile; /* ENROL_INIT: the size of pool key to pass */
    uint32_t wait_ms;   /* SK_ROUTE_RP_POLL: how long the relying party lets the
                           server hold a PENDING answer (0: answer at once; at
                           most SK_MAX_POLL_WAIT_MS).  The role never waits; a
                           service does it between two handlings of the poll. */
} sk_route_info;

/* The longest wait a poll may ask for (SessionPoll.wait_ms); a larger value
 * is refused with SK_ERR_LIMIT. */
#define SK_MAX_POLL_WAIT_MS 30000u

/* Reads what a device request needs.  With rec == NULL only the clear header
 * is read (kind, msg_type, key_id, and for ENROL_INIT purpose, profile and the
 * token id); with the key record the body is decrypted too (session_id,
 * wants_pending_session).  Changes nothing.  Returns SK_OK,
 * SK_ERR_PROTO_DECODE, SK_ERR_LIMIT, SK_ERR_PROTO_AUTH. */
SK_API SK_WARN_UNUSED int sk_server_peek_device(sk_route_info *info, const sk_server_ident *id,
                                                const sk_key_rec *rec, const uint8_t *req,
                                                size_t req_len) SK_NONNULL(1, 2, 4);

/* The same for a relying-party request (no envelope). */
SK_API SK_WARN_UNUSED int sk_server_peek_rp(sk_route_info *info, const uint8_t *req, size_t req_len)
    SK_NONNULL(1, 2);

/* --------------------------------------------------------------- handling */

/* Everything a handler reads.  Only identity, policy and now are required. */
typedef struct sk_server_input {
    const sk_server_ident *identity;
    const sk_server_policy *policy;
    uint64_t now;                  /* Unix seconds */
    const sk_key_rec *key;         /* the routed key, or NULL (unknown key); for
                                      ENROL_INIT with a used token, the key that
                                      token enrolled (NULL when unknown) */
    const sk_session_rec *session; /* the routed session, or NULL */
    const sk_session_rec *const *sessions; /* fetch only: the waiting sessions (or NULL) */
    size_t n_sessions;
    const uint8_t *pool_key;       /* ENROL_INIT: an sk_server_key export (secret) */
    size_t pool_key_len;
    int token_used;      /* ENROL_INIT: the token id was seen before */
    sk_random_fn random; /* NULL: the system CSPRNG */
    void *random_ctx;
    /* The registration authority (doc/protocol.md section 3, step 6).  ca_mode
     * non-zero: the
     * server has a CA, so a proof-of-possession session must carry the CSR
     * for n and the registered subject, and completes only with a
     * certificate, in two passes over the same request:
     *   1. certificate NULL, ca_error 0: when the PIN and OTP checks pass the
     *      result has status SK_ERR_PENDING, effect SK_EFFECT_CERT_REQUEST,
     *      the signed CSR (sk_server_result_csr()), no reply and no records:
     *      store nothing, ask the CA, then handle the same request again;
     *   2. certificate = the CA's DER: it must hold n; it is stored with the
     *      key (SK_EFFECT_CERT_STORED), the key becomes ACTIVE and the sign
     *      reply carries it.  Or ca_error = SK_ERR_CA_UNAVAILABLE or
     *      SK_ERR_CA_REFUSED: the device gets that error, the key stays
     *      PENDING, the session stays open and the OTP is not rotated, so
     *      the device can approve again later.
     * ca_mode 0: the proof of possession activates the key at once with
     * the effect SK_EFFECT_CERT_REQUEST (a note for the caller). */
    int ca_mode;
    const uint8_t *certificate; /* pass 2: the CA's certificate (DER), or NULL */
    size_t certificate_len;
    int ca_error; /* pass 2: SK_ERR_CA_UNAVAILABLE or SK_ERR_CA_REFUSED, or 0 */
    /* Non-zero when the key record predates a restore of the store to an
     * older point (the caller knows: it compares the record's last update
     * with the time of the restore).  A device that signed after the restore
     * point is ahead of such a record: it comes back with a one-time
     * password the record never saw.  Once that request has proved it is
     * fresh (a challenge round), it is taken as the current one
     * (SK_EFFECT_RESYNC) instead of a clone.  Zero: an unknown one-time
     * password is a clone verdict after the challenge. */
    int key_restored;
    /* Non-zero when the relying party of the routed session stopped waiting
     * for it (the caller's liveness rule: it has not polled for a while,
     * doc/protocol.md section 4).  A PENDING, unexpired relying-party
     * session is then taken as CANCELLED, and stored so, by whatever
     * request touches it: the device's approval or refusal is answered
     * SK_ERR_SESSION_EXPIRED as for an expired session, the relying party's
     * poll reads CANCELLED.  Device-created sessions are never abandoned.
     * A fetch's list (sessions) is the caller's to filter. */
    int session_abandoned;
    /* ENROL_INIT: non-zero when the caller refuses the request's token by a
     * rule of its own (four eyes: sk_server_peek_token): the device gets
     * SK_ERR_TOKEN, sealed, and nothing changes, as for an invalid token. */
    int token_refused;
} sk_server_input;

/* Effects the caller performs in the same transaction as storing the records. */
#define SK_EFFECT_NEW_KEY 0x01u        /* insert the key record (and its secrets) */
#define SK_EFFECT_POOL_KEY_USED 0x02u  /* remove the pool key passed in */
#define SK_EFFECT_TOKEN_USED 0x04u     /* remember the token id as used */
#define SK_EFFECT_NEW_SESSION 0x08u    /* insert the session record */
#define SK_EFFECT_REVOKE_CERT 0x10u    /* revoke the key's certificate (reason below) */
#define SK_EFFECT_DELETE_SECRETS 0x20u /* delete the sealed ds and server key */
/* proof of possession signed: without ca_mode a note (the key is active);
 * with ca_mode the request for the certificate (see sk_server_input) */
#define SK_EFFECT_CERT_REQUEST 0x40u
/* the secrets changed: seal and store them */
#define SK_EFFECT_STORE_SECRETS 0x80u
/* ca_mode: the certificate passed in is stored with the now ACTIVE key */
#define SK_EFFECT_CERT_STORED 0x100u
/* key_restored: the device's one-time password was taken as the current one
 * (log it for the operator) */
#define SK_EFFECT_RESYNC 0x200u
/* ENROL_INIT with a token whose enrolment never finished (in->key ENROLLING
 * or PENDING): that key is given up.  sk_server_result_superseded() is its
 * record, DESTROYED (reason abandoned, secrets wiped), to store in the same
 * transaction as the new key; the token now belongs to the new key. */
#define SK_EFFECT_SUPERSEDE 0x400u

/* RFC 5280 CRLReason values used in revocation effects. */
#define SK_CRL_REASON_KEY_COMPROMISE 1
#define SK_CRL_REASON_CESSATION_OF_OPERATION 5

typedef struct sk_server_result sk_server_result;

/* Handles one device request.  Returns SK_OK whenever there is a reply to
 * send (error replies included: see sk_server_result_status()), or SK_ERR_ARG
 * / SK_ERR_NOMEM / SK_ERR_RNG when there is none. */
SK_API SK_WARN_UNUSED int sk_server_handle_device(sk_server_result **out, const sk_server_input *in,
                                                  const uint8_t *req, size_t req_len)
    SK_NONNULL(1, 2, 3);

/* Handles one relying-party request (RpRequest -> RpReply): the same return
 * convention; errors travel in RpReply.error. */
SK_API SK_WARN_UNUSED int sk_server_handle_rp(sk_server_result **out, const sk_server_input *in,
                                              const uint8_t *req, size_t req_len)
    SK_NONNULL(1, 2, 3);

/* Revocation by an operator: the key becomes DESTROYED (operator), with the
 * effects REVOKE_CERT (cessationOfOperation) and DELETE_SECRETS.  No reply. */
SK_API SK_WARN_UNUSED int sk_server_operator_revoke(sk_server_result **out,
                                                    const sk_server_input *in) SK_NONNULL(1, 2);

/* A device error reply in clear, for requests the caller refuses before
 * handling (unknown key id ...).  code is a negative sk_error. */
SK_API SK_WARN_UNUSED int sk_server_plain_error(uint8_t *out, size_t cap, size_t *written, int code)
    SK_NONNULL(1, 3);

/* The reply to send (never NULL after SK_OK; valid until the result is freed;
 * empty for sk_server_operator_revoke()). */
SK_API const uint8_t *sk_server_result_reply(const sk_server_result *res, size_t *len)
    SK_NONNULL(1, 2);
/* The new key record and session record to store, or NULL when unchanged. */
SK_API const sk_key_rec *sk_server_result_key(const sk_server_result *res) SK_NONNULL(1);
SK_API const sk_session_rec *sk_server_result_session(const sk_server_result *res) SK_NONNULL(1);
/* With SK_EFFECT_SUPERSEDE: the given-up key's new record; else NULL. */
SK_API const sk_key_rec *sk_server_result_superseded(const sk_server_result *res) SK_NONNULL(1);
/* SK_OK, or the error the reply carries (SK_ERR_WRONG_PIN ...). */
SK_API int sk_server_result_status(const sk_server_result *res) SK_NONNULL(1);
/* SK_EFFECT_* bits, and the CRLReason of SK_EFFECT_REVOKE_CERT. */
SK_API unsigned sk_server_result_effects(const sk_server_result *res) SK_NONNULL(1);
SK_API int sk_server_result_revoke_reason(const sk_server_result *res) SK_NONNULL(1);
/* With SK_EFFECT_CERT_REQUEST in ca_mode: the signed PKCS#10 request (DER)
 * to send to the CA; NULL (and *len 0) otherwise.  Valid until the result
 * is freed.  Not verified here: the CA checks the proof of possession. */
SK_API const uint8_t *sk_server_result_csr(const sk_server_result *res, size_t *len)
    SK_NONNULL(1, 2);
/* Frees the result and everything it holds (wiped); accepts NULL. */
SK_API void sk_server_result_free(sk_server_result *res);

/* ------------------------------------------------- operator approvals (four eyes) */

/* A registration token may carry the approvals of operators: each an
 * operator's Ed25519 public key and its signature over "splitkey token
 * approval v1" || the token's payload (purpose, expiry, token id, subject;
 * see sk_server_token_mint).  Text form with approvals: "skt2." ||
 * base64url(payload || server signature) || "." || base64url(approvals) ||
 * "." || base64url(secret), approvals = one or two (public key (32) ||
 * signature (64)).  The role itself accepts a token with or without them;
 * the caller decides how many approvals of which operators it requires
 * (splitkey-server: two distinct registered operators, doc/operations.md)
 * and reads them from the request with sk_server_peek_token(). */
#define SK_OPERATOR_PUB_LEN 32u      /* an operator's Ed25519 public key */
#define SK_OPERATOR_SECRET_LEN 64u   /* libsodium's Ed25519 secret key: seed || public */
#define SK_MAX_TOKEN_APPROVALS 2u

typedef struct sk_token_info {
    sk_purpose purpose;
    uint64_t expires_at;
    uint8_t token_id[SK_TOKEN_ID_LEN];
    char subject[SK_MAX_SUBJECT_LEN + 1];
    size_t n_operators; /* approvals, every signature verified, no operator twice */
    uint8_t operators[SK_MAX_TOKEN_APPROVALS][SK_OPERATOR_PUB_LEN];
} sk_token_info;

/* Reads a whole token text (token_len bytes, secret: not copied anywhere
 * but info's public fields).  Does not check the server's signature (the
 * enrolment does).  Returns SK_OK or SK_ERR_TOKEN (malformed, an approval
 * whose signature does not verify, the same operator twice, more than
 * SK_MAX_TOKEN_APPROVALS); on failure *info is zeroed. */
SK_API SK_WARN_UNUSED int sk_server_token_read(sk_token_info *info, const char *token,
                                               size_t token_len) SK_NONNULL(1, 2);

/* Adds the approval of the operator whose secret key is operator_sk
 * (SK_OPERATOR_SECRET_LEN bytes, secret, not copied) to token (a whole
 * text, secret): out receives the new text, NUL-terminated, *written its
 * length.  Returns SK_OK; SK_ERR_TOKEN (token unreadable, see
 * sk_server_token_read); SK_ERR_ARG (this operator approved the token
 * already, or operator_sk is not a key pair); SK_ERR_LIMIT (the token
 * holds SK_MAX_TOKEN_APPROVALS approvals already, or its subject is too
 * long for the text with every approval to fit SK_MAX_TOKEN_LEN);
 * SK_ERR_BUFFER_TOO_SMALL (*written: the length needed). */
SK_API SK_WARN_UNUSED int sk_server_token_approve(char *out, size_t cap, size_t *written,
                                                  const char *token, size_t token_len,
                                                  const uint8_t *operator_sk)
    SK_NONNULL(1, 3, 4, 6);

/* The token an EnrolInit carries (decrypted with the identity, as
 * sk_server_peek_device does), read as sk_server_token_read reads it.
 * The token's server signature is checked first.  Changes nothing.  Returns
 * SK_OK, SK_ERR_NOT_FOUND (not an EnrolInit or no token), SK_ERR_TOKEN (not
 * a token signed by this identity), SK_ERR_BAD_SIGNATURE (a token of this
 * identity with an approval that does not verify or an operator twice), or
 * a decoding error (SK_ERR_PROTO_DECODE ...). */
SK_API SK_WARN_UNUSED int sk_server_peek_token(sk_token_info *info, const sk_server_ident *id,
                                               const uint8_t *req, size_t req_len)
    SK_NONNULL(1, 2, 3);

#ifdef __cplusplus
}
#endif

#endif /* SPLITKEY_SERVER_H */
