/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rp.h - the relying party's side of the relying-party API (doc/protocol.md
 * section 2): build
 * the requests a relying party sends to the share server and read its
 * replies.  Sans I/O, like the device and server roles.
 *
 * Security properties and limits
 * -------------------------------
 * - The relying-party API travels in clear (RpRequest / RpReply in
 *   proto/splitkey.proto); the transport authenticates the relying party.
 *   Nothing here is secret: a digest, a session id, a signature and a
 *   certificate.
 * - A result is only what the server says.  The relying party must verify
 *   the signature under the key it trusts (the certificate's key, or a key it
 *   registered) before acting on it; sk_rp_read_result() does not, because it
 *   does not know that key.
 * - Readers check every field against the limits of doc/protocol.md before
 *   returning it; a reply that fails any check is SK_ERR_PROTO_DECODE or
 *   SK_ERR_LIMIT and fills nothing.
 *
 * Not part of the device-only library (splitkey_device): a phone app has no
 * use for it.  Conventions are those of splitkey.h: message outputs are
 * written to (out, cap, written); SK_MAX_MESSAGE_LEN bytes are always enough.
 */
#ifndef SPLITKEY_RP_H
#define SPLITKEY_RP_H

#include <stddef.h>
#include <stdint.h>

#include "device.h"
#include "server.h" /* sk_session_state */
#include "splitkey.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SK_MAX_RP_NAME_LEN 128u
#define SK_MAX_CERT_LEN 8192u /* a DER certificate in a result */

/* What a relying party asks for.  Exactly one of person_id (text, at most
 * SK_MAX_PERSON_ID_LEN bytes) and key_id (SK_KEY_ID_LEN bytes) names the key;
 * digest is sk_hash_len(hash) bytes; display_text (may be NULL, at most
 * SK_MAX_DISPLAY_TEXT_LEN bytes) is shown on the device; rp_name (may be NULL,
 * at most SK_MAX_RP_NAME_LEN bytes) names the relying party there.  Text
 * fields may not contain control characters. */
typedef struct sk_rp_create {
    const char *person_id;
    const uint8_t *key_id;
    sk_purpose purpose;
    const uint8_t *digest;
    sk_hash hash;     /* SHA-256, SHA-384 or SHA-512 */
    sk_scheme scheme; /* PKCS1 or PSS */
    const char *display_text;
    const char *rp_name;
} sk_rp_create;

/* Writes RpRequest{create}.  Returns SK_OK, SK_ERR_ARG (no key named or both,
 * unknown purpose, hash or scheme), SK_ERR_LIMIT (a field too long or a text
 * with control characters), SK_ERR_BUFFER_TOO_SMALL. */
SK_API SK_WARN_UNUSED int sk_rp_create_request(uint8_t *out, size_t cap, size_t *written,
                                               const sk_rp_create *req) SK_NONNULL(1, 3, 4);

/* What a relying party adds to a create (doc/protocol.md, "Certificate
 * levels" and "Interactions"): the least certificate level it accepts
 * (QUALIFIED: a key of a lower level is refused with SK_ERR_LEVEL and no
 * session is made; NONE or ADVANCED: any key) and the interaction the
 * device must use.  With an interaction named, display_text is at most 60
 * characters (UTF-8 code points), 200 for the confirmation-message
 * interactions (the server refuses more with SK_ERR_LIMIT), and within
 * SK_MAX_DISPLAY_TEXT_LEN bytes in any case. */
/* The most bytes of a relying party's reference (sk_rp_create_ext.rp_ref). */
#define SK_MAX_RP_REF_LEN 256u

typedef struct sk_rp_create_ext {
    sk_cert_level certificate_level;
    sk_interaction interaction;
    /* The relying party's own reference (NULL, or up to SK_MAX_RP_REF_LEN
     * bytes): the server keeps it with the session and returns it in every
     * result (sk_rp_result_ext.rp_ref), so a caller that lost its own
     * records of the session (a restart, another process) can tell whose
     * session it is and what it was. */
    const uint8_t *rp_ref;
    size_t rp_ref_len;
} sk_rp_create_ext;

/* sk_rp_create_request() with the fields of ext (NULL: as
 * sk_rp_create_request()).  SK_ERR_ARG also for a level or an interaction
 * outside its enum. */
SK_API SK_WARN_UNUSED int sk_rp_create_request_ext(uint8_t *out, size_t cap, size_t *written,
                                                   const sk_rp_create *req,
                                                   const sk_rp_create_ext *ext)
    SK_NONNULL(1, 3, 4);

/* Writes RpRequest{poll} for a session id of SK_SESSION_ID_LEN bytes. */
SK_API SK_WARN_UNUSED int sk_rp_poll_request(uint8_t *out, size_t cap, size_t *written,
                                             const uint8_t *session_id, size_t session_id_len)
    SK_NONNULL(1, 3, 4);

/* The same as a long poll: while the session is PENDING the server may hold
 * the reply up to wait_ms milliseconds and answers as soon as the session's
 * state changes (or the wait ends: then PENDING as usual).  wait_ms 0 is
 * sk_rp_poll_request(); above SK_MAX_POLL_WAIT_MS (30 s) it is SK_ERR_LIMIT.
 * The caller's receive timeout must exceed wait_ms.  A server that does not
 * hold polls answers at once, so a caller loops in either case. */
SK_API SK_WARN_UNUSED int sk_rp_poll_wait_request(uint8_t *out, size_t cap, size_t *written,
                                                  const uint8_t *session_id,
                                                  size_t session_id_len, uint32_t wait_ms)
    SK_NONNULL(1, 3, 4);

/* Writes RpRequest{cancel} for a session id of SK_SESSION_ID_LEN bytes: the
 * relying party no longer waits for the session.  A PENDING session becomes
 * SK_SESSION_CANCELLED and is offered to the device no more (an approval
 * already on its way is answered as for an expired session); a session
 * that already ended keeps its state.  Either way the reply is read with
 * sk_rp_read_result() and gives the session's state then (COMPLETE with
 * the signature, when the person approved first).  Cancelling again gives
 * the same answer.  The session id is the capability: keep it to the
 * relying party. */
SK_API SK_WARN_UNUSED int sk_rp_cancel_request(uint8_t *out, size_t cap, size_t *written,
                                               const uint8_t *session_id, size_t session_id_len)
    SK_NONNULL(1, 3, 4);

/* Writes RpRequest{key_state} for a key id of SK_KEY_ID_LEN bytes. */
SK_API SK_WARN_UNUSED int sk_rp_key_state_request(uint8_t *out, size_t cap, size_t *written,
                                                  const uint8_t *key_id, size_t key_id_len)
    SK_NONNULL(1, 3, 4);

/* The server's answer to a create. */
typedef struct sk_rp_created {
    uint8_t session_id[SK_SESSION_ID_LEN];
    char code[5];        /* the 4-digit verification code, NUL-terminated */
    uint64_t expires_at; /* Unix seconds */
} sk_rp_created;

/* Reads the reply to a create.  On an error reply returns the error it
 * carries (SK_ERR_NOT_FOUND: no such person or key, SK_ERR_LOCKED,
 * SK_ERR_DESTROYED, SK_ERR_NOT_ACTIVE ...) and fills *status when status is
 * not NULL.  Also SK_ERR_PROTO_DECODE (not a create reply, or a code that is
 * not four digits), SK_ERR_LIMIT. */
SK_API SK_WARN_UNUSED int sk_rp_read_created(sk_rp_created *out, sk_key_status *status,
                                             const uint8_t *reply, size_t reply_len)
    SK_NONNULL(1, 3);

/* The state of a session as a poll returns it.  signature and certificate
 * are set only for SK_SESSION_COMPLETE (cert_len is 0 when the key has no
 * certificate). */
typedef struct sk_rp_result {
    sk_session_state state;
    uint8_t session_id[SK_SESSION_ID_LEN];
    char code[5];
    uint8_t signature[SK_MAX_SIG_LEN];
    size_t sig_len;
    uint8_t certificate[SK_MAX_CERT_LEN];
    size_t cert_len;
} sk_rp_result;

/* Reads the reply to a poll or a cancel.  Returns SK_OK with out->state
 * PENDING, COMPLETE (a signature of a profile's size is present), REFUSED,
 * EXPIRED, WRONG_VC or CANCELLED (cancelled, or the server saw no poll for longer
 * than its idle limit); or the error an error reply carries
 * (SK_ERR_SESSION_UNKNOWN ...), with *status filled when not NULL; or
 * SK_ERR_PROTO_DECODE / SK_ERR_LIMIT. */
SK_API SK_WARN_UNUSED int sk_rp_read_result(sk_rp_result *out, sk_key_status *status,
                                            const uint8_t *reply, size_t reply_len)
    SK_NONNULL(1, 3);

/* What a result says beyond sk_rp_result: the interaction the session
 * used, the certificate level of the key that answered, and for REFUSED the
 * interaction the person refused on (NONE when the device did not say). */
typedef struct sk_rp_result_ext {
    sk_interaction interaction_used;
    sk_cert_level certificate_level;
    sk_interaction refused_at;
    uint8_t rp_ref[SK_MAX_RP_REF_LEN]; /* sk_rp_create_ext.rp_ref, as given */
    size_t rp_ref_len;
} sk_rp_result_ext;

/* sk_rp_read_result() that also fills *ext (may be NULL).  A session whose
 * approval picked a wrong verification code reads SK_SESSION_WRONG_VC. */
SK_API SK_WARN_UNUSED int sk_rp_read_result_ext(sk_rp_result *out, sk_rp_result_ext *ext,
                                                sk_key_status *status, const uint8_t *reply,
                                                size_t reply_len) SK_NONNULL(1, 4);

/* Reads the reply to a key-state request into *status. */
SK_API SK_WARN_UNUSED int sk_rp_read_key_state(sk_key_status *status, const uint8_t *reply,
                                               size_t reply_len) SK_NONNULL(1, 2);
/* The same, and the key's certificate level into *level (may be NULL). */
SK_API SK_WARN_UNUSED int sk_rp_read_key_state_level(sk_key_status *status, sk_cert_level *level,
                                                     const uint8_t *reply, size_t reply_len)
    SK_NONNULL(1, 3);

#ifdef __cplusplus
}
#endif

#endif /* SPLITKEY_RP_H */
