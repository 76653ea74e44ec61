/* SPDX-License-Identifier: Apache-2.0 */
/* device_internal.h - the device role's private state and shared functions. */
#ifndef SK_PROTOCOL_DEVICE_INTERNAL_H
#define SK_PROTOCOL_DEVICE_INTERNAL_H

#include "protocol/common/protocol.h"

/* Kinds of request kept in flight for a retry.  Every request is one: a
 * request stays in flight until an authenticated reply to it arrives. */
enum {
    SKD_PENDING_NONE = 0,
    SKD_PENDING_SIGN = 1,
    SKD_PENDING_REVOKE = 2,
    SKD_PENDING_OTP = 3,
    SKD_PENDING_FETCH = 4,
    SKD_PENDING_CREATE = 5,
    SKD_PENDING_REFUSE = 6,
    SKD_PENDING_KEY_STATE = 7
};

struct sk_device_key {
    uint8_t key_id[SKP_KEY_ID_LEN];
    sk_purpose purpose;
    unsigned bits; /* k */
    sk_key_state state;
    uint8_t wrapped[SKP_MAX_WRAPPED_LEN];
    size_t wrapped_len;
    uint8_t n1[SKP_MAX_N1_LEN];
    size_t n1_len;
    uint8_t n[SKP_MAX_N_LEN];
    size_t n_len;
    uint8_t tek_rx[SKP_TEK_LEN]; /* secret: server -> device */
    uint8_t tek_tx[SKP_TEK_LEN]; /* secret: device -> server */
    uint8_t server_pub[SK_SERVER_PUB_LEN];
    uint8_t otp[SKP_OTP_LEN]; /* secret */
    char subject[SKP_MAX_SUBJECT_LEN + 1];
    uint8_t cert[SKP_MAX_CERT_LEN];
    size_t cert_len;
    /* the request in flight */
    uint32_t pending_kind;
    uint8_t pending_request_id[SKP_REQUEST_ID_LEN];
    uint8_t pending_session_id[SKP_SESSION_ID_LEN];
    size_t pending_session_id_len;
    uint8_t pending_salt[SKP_MAX_SALT_LEN];
    size_t pending_salt_len;
    uint8_t pending_digest[SKP_MAX_DIGEST_LEN];
    size_t pending_digest_len;
    uint32_t pending_hash;
    uint32_t pending_scheme;
    char pending_vc_chosen[SKP_CODE_LEN + 1]; /* kind 1: the code picked, "" if none */
    uint8_t pending_body[SKP_MAX_BODY_LEN]; /* kinds 3-7: the body, sent again as it was */
    size_t pending_body_len;
    uint32_t pending_type;
    uint64_t generation; /* state changes since enrolment (sealed) */
    /* in memory only, never sealed: the ephemeral exchange of the last send
     * of the request in flight, and a challenge to send back with it */
    skp_eph eph;
    uint8_t challenge[SKP_CHALLENGE_LEN];
    size_t challenge_len;
    const sk_progress *progress; /* the application's, for PIN stretching; may be NULL */
};

struct sk_device_session {
    uint8_t id[SKP_SESSION_ID_LEN];
    sk_purpose purpose;
    uint8_t digest[SKP_MAX_DIGEST_LEN];
    size_t digest_len;
    sk_hash hash;
    sk_scheme scheme;
    uint8_t salt[SKP_MAX_SALT_LEN];
    size_t salt_len;
    char display_text[SKP_MAX_DISPLAY_TEXT_LEN + 1];
    char rp_name[SKP_MAX_RP_NAME_LEN + 1];
    char code[SKP_CODE_LEN + 1]; /* "" for VC-choice sessions (the app shows the choices) */
    uint64_t expires_at;
    sk_interaction interaction;
    char vc_choices[SK_VC_CHOICES][SKP_CODE_LEN + 1];
    size_t n_vc_choices; /* 0 or SK_VC_CHOICES */
};

/* Seals a DeviceRequest {request_id, otp (NULL: none), challenge, body} as
 * a request of the given type with a fresh ephemeral (kept in eph). */
int skd_seal_request(skp_eph *eph, uint8_t *msg, size_t cap, size_t *written,
                     const uint8_t *key_id, uint32_t type, const uint8_t *tek_tx,
                     const uint8_t *server_pub, const uint8_t *request_id, const uint8_t *otp,
                     const uint8_t *challenge, size_t challenge_len, const uint8_t *body,
                     size_t body_len);

/* What an authentic reply to the request in flight carried. */
typedef struct skd_reply {
    uint32_t type;
    bool has_otp;
    uint8_t otp[SKP_OTP_LEN]; /* secret */
    uint8_t challenge[SKP_CHALLENGE_LEN];
    size_t challenge_len;
    uint8_t body[SKP_MAX_BODY_LEN];
    size_t body_len;
} skd_reply;

/* Opens a reply to the request (request_id) whose ephemeral is eph: a plain
 * error gives only a transport-level code (never a key state); an
 * authenticated one must name request_id and, unless binding is NULL, carry
 * that request binding (else SK_ERR_PROTO_REPLAY), and be
 * of a type listed in types or MSG_ERROR (else SK_ERR_PROTO_STATE).  Returns
 * SK_OK with *r filled; nothing of the caller's state is changed here.  On
 * failure r is wiped. */
int skd_open_reply(skd_reply *r, const uint8_t *key_id, const uint8_t *tek_rx,
                   const skp_eph *eph, const uint8_t *request_id, const uint8_t *binding,
                   const uint32_t *types, size_t n, const uint8_t *reply, size_t reply_len);

/* Sends the key's request in flight (first send and retries alike). */
int skd_send(sk_device_key *key, uint8_t *msg, size_t cap, size_t *written, const uint8_t *body,
             size_t body_len);

/* Opens a reply to the key's request in flight (its id and binding;
 * skd_open_reply) into a new *out, freed with skd_reply_free(); changes
 * nothing of the key.  SK_ERR_PROTO_STATE when nothing is in flight. */
int skd_open_pending(sk_device_key *key, skd_reply **out, const uint32_t *types, size_t n,
                     const uint8_t *reply, size_t reply_len);
/* Wipes and frees a reply (NULL ignored). */
void skd_reply_free(skd_reply *r);
/* Keeps a CHALLENGE reply's challenge for sk_device_retry; SK_ERR_PROTO_DECODE
 * when it carries none. */
int skd_keep_challenge(sk_device_key *key, const skd_reply *r);

/* Opens a reply to the key's request in flight and acts on the channel part:
 * takes the new one-time password and ends the request in flight (the
 * caller reads the body); keeps a challenge for sk_device_retry; maps an
 * authenticated error to its code, filling *status and marking a destroyed
 * key.  types: the reply types the request expects besides MSG_ERROR. */
int skd_open(sk_device_key *key, uint32_t *type, uint8_t *body, size_t *body_len,
             sk_key_status *status, const uint32_t *types, size_t n, const uint8_t *reply,
             size_t reply_len);

/* The binding of the request in flight (skp_request_binding). */
void skd_pending_binding(const sk_device_key *key, uint8_t *out);

/* Forgets the request in flight (wiping what it kept). */
void skd_clear_pending(sk_device_key *key);

/* Builds the key's partial signature y of a digest with the PIN. */
int skd_partial(const sk_device_key *key, uint8_t *y, size_t y_len, const uint8_t *pin,
                size_t pin_len, sk_scheme scheme, sk_hash hash, const uint8_t *digest,
                size_t digest_len, const uint8_t *salt, size_t salt_len);

#endif
