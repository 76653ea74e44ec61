/* SPDX-License-Identifier: Apache-2.0 */
/*
 * client.h - the device role's request/reply loop, with the order that keeps
 * a device in step with its share server through lost replies and crashes.
 *
 * device.h turns bytes and state into bytes and state; this layer drives it
 * for an application that supplies two callbacks: one that moves a request
 * to the share server and returns its reply, and one that stores the sealed
 * device state durably.  Every operation runs in this order:
 *
 *   build the request -> seal and persist the state -> exchange (a failed
 *   exchange is sent again with the same request id, at most io->retries
 *   times) -> read the reply -> seal and persist the state -> return.
 *
 * A request is never sent before the state that holds it is stored, so a
 * crash at any point leaves a stored state from which sk_client_resume()
 * finishes the request that was in flight (same request id and one-time
 * password: the server answers from its stored reply, or handles it if it
 * never saw it) and no request the server saw is ever forgotten - which is
 * what keeps the server from taking the next honest request for a clone.
 *
 * Buffers: the layer allocates its own (SK_MAX_MESSAGE_LEN bytes each for
 * the request, the reply and the sealed state); exchange receives a reply
 * buffer of SK_MAX_MESSAGE_LEN bytes, which every reply fits.
 *
 * Error frames: a reply that is the share service's "SKE1" frame
 * ("SKE1" | code (int32 big-endian) | text length (uint16 big-endian) |
 * text; doc/operations.md) means the server ran no protocol step: the layer
 * turns it into its code (only transport, service and store codes; anything
 * else is SK_ERR_PROTO_DECODE, since the frame authenticates nothing) and
 * sends the request again for SK_ERR_STORE, SK_ERR_STORE_BUSY,
 * SK_ERR_STORE_CONFLICT, SK_ERR_INTERNAL and SK_ERR_NOMEM.  Sealed error
 * replies are the library's error codes (device.h).
 *
 * Secrets: the PIN is used and never kept; the storage key is copied into
 * the client and wiped by sk_client_free(); request buffers (which may hold
 * ds or y) are wiped after every send.
 *
 * One client per key state, one thread at a time.  Conventions are those of
 * splitkey.h.
 */
#ifndef SPLITKEY_CLIENT_H
#define SPLITKEY_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "device.h"
#include "splitkey.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What the application supplies.  Callbacks return SK_OK or a negative
 * code. */
typedef struct sk_client_io {
    /* Sends req to the share server (adding whatever framing its transport
     * needs) and writes the reply to reply (reply_cap = SK_MAX_MESSAGE_LEN),
     * its length to *reply_len.  Any negative code (the application's own
     * for a lost connection or a timeout) means the reply did not come: the
     * request may or may not have reached the server, and the layer sends it
     * again with the same request id; after io->retries such failures it
     * returns that code unchanged. */
    int (*exchange)(void *ctx, const uint8_t *req, size_t req_len, uint8_t *reply,
                    size_t reply_cap, size_t *reply_len);
    /* Stores the sealed device state (sk_device_key_seal) durably, replacing
     * the stored one, and returns only once it is on stable storage.  An
     * error stops the operation before anything more is sent. */
    int (*persist)(void *ctx, const uint8_t *state, size_t state_len);
    /* The time now in Unix seconds for the request builders; may be NULL. */
    uint64_t (*now)(void *ctx);
    void *ctx;
    /* How many times one request is sent again after a failed exchange
     * before the operation gives up with the exchange's error. */
    unsigned retries;
} sk_client_io;

typedef struct sk_client sk_client;

/* The code an unauthenticated "SKE1" error frame may carry for a device
 * request: what went wrong on the way (decoding, limits, the store, an
 * internal error), never a verdict on the key.  Any other code, which a
 * stranger on the path could have written, comes back as
 * SK_ERR_PROTO_DECODE.  The layer applies it to every frame it reads; a
 * program that reads frames itself uses it too. */
SK_API int sk_client_frame_code(int code);

/* A new client without a key.  io is copied; storage_key (secret,
 * SK_STORAGE_KEY_LEN bytes) is copied and wiped on free.  Returns SK_OK,
 * SK_ERR_ARG (a callback missing), SK_ERR_NOMEM. */
SK_API SK_WARN_UNUSED int sk_client_new(sk_client **out, const sk_client_io *io,
                                        const uint8_t *storage_key, size_t storage_key_len)
    SK_NONNULL(1, 2, 3);

/* Takes a stored state (as persist received it) as the client's key.
 * Nothing is sent: call sk_client_resume() next.  Returns SK_OK, or the
 * errors of sk_device_key_open(). */
SK_API SK_WARN_UNUSED int sk_client_load(sk_client *client, const uint8_t *state,
                                         size_t state_len) SK_NONNULL(1, 2);

/* Wipes and frees the client (its key, storage key and buffers); accepts
 * NULL. */
SK_API void sk_client_free(sk_client *client);

/* What an operation tells the application before a request goes again
 * (sk_client_set_progress), e.g. to show why a command takes longer. */
typedef enum sk_client_step {
    /* The reply did not come or was of no use (code: the exchange's error,
     * the error frame's code, or SK_ERR_PROTO_AUTH / SK_ERR_PROTO_REPLAY for
     * a reply that does not answer this request): the same request goes
     * again with the same request id. */
    SK_CLIENT_STEP_RESEND = 1,
    /* The server asked the request to prove that it is fresh (code is
     * SK_ERR_PROTO_CHALLENGE): it goes again with the answer.  During an
     * enrolment this means that an earlier enrolment with the same token
     * never finished and is given up. */
    SK_CLIENT_STEP_CHALLENGE = 2
} sk_client_step;

/* Sets (or, with NULL, clears) the function told of each step above,
 * called with io->ctx before the request goes again; it must not call into
 * the client.  A client starts without one. */
SK_API void sk_client_set_progress(sk_client *client,
                                   void (*progress)(void *ctx, sk_client_step step, int code))
    SK_NONNULL(1);

/* Sets (or, with NULL, clears) the progress callback (key.h, sk_progress)
 * for the PIN stretching of sk_client_approve(), sk_client_sign(),
 * sk_client_revoke() and sk_client_resume(), on the key the client holds
 * now and on any it loads or enrols later (enrolment's own key generation
 * and wrapping report through sk_client_enrol_options.progress).  progress
 * must stay valid while it is set.  A cancel makes the call return
 * SK_ERR_CANCELLED: before the first send nothing was sent or persisted
 * (sk_client_sign() then withdraws its own session); during a resend the
 * request stays in flight, persisted, for sk_client_resume(). */
SK_API void sk_client_set_pin_progress(sk_client *client, const sk_progress *progress)
    SK_NONNULL(1);

/* The client's key (NULL before an enrolment or a load), for its accessors
 * (device.h: id, state, public key, certificate, generation). */
SK_API const sk_device_key *sk_client_key(const sk_client *client) SK_NONNULL(1);

/* The kinds of request a key can have in flight. */
typedef enum sk_client_request {
    SK_CLIENT_REQ_NONE = 0,
    SK_CLIENT_REQ_APPROVE = 1,   /* needs the PIN again to be resumed */
    SK_CLIENT_REQ_REVOKE = 2,    /* needs the PIN again to be resumed */
    SK_CLIENT_REQ_OTP_REFRESH = 3,
    SK_CLIENT_REQ_FETCH = 4,
    SK_CLIENT_REQ_CREATE = 5,
    SK_CLIENT_REQ_REFUSE = 6,
    SK_CLIENT_REQ_KEY_STATE = 7
} sk_client_request;

/* The request in flight of the client's key (SK_CLIENT_REQ_NONE when there
 * is none, or no key).  While one is, every operation but
 * sk_client_resume() returns SK_ERR_PROTO_STATE. */
SK_API sk_client_request sk_client_pending(const sk_client *client) SK_NONNULL(1);

/* What sk_client_resume() finished. */
typedef struct sk_client_resumed {
    sk_client_request request;             /* NONE: nothing was in flight */
    int result;                            /* SK_OK or the error its reply carried */
    int has_session;                       /* approve, refuse: the session it answered */
    uint8_t session_id[SK_SESSION_ID_LEN];
    uint8_t signature[SK_MAX_SIG_LEN];     /* approve with result SK_OK: the signature, */
    size_t signature_len;                  /* verified under n over the session's digest */
    sk_key_status status;                  /* what an error reply or a key-state reply said */
} sk_client_resumed;

/* Finishes the request an earlier run left in flight, before anything new:
 * sends it again with the same request id (sk_device_retry; the server's
 * challenge is answered when it asks for one), reads the reply and stores
 * the state.  An approval or a revocation in flight needs the PIN again
 * (secret, not kept; SK_ERR_ARG without it); pin may be NULL otherwise.
 * Sessions a resumed fetch or session creation listed are not returned:
 * sk_client_fetch() lists them again.  Returns SK_OK when nothing is in
 * flight any more (the outcome of what was is in *out, which may be NULL),
 * or the error that kept the request in flight (an exchange or persist
 * error: call again later), or SK_ERR_PROTO_STATE without a key. */
SK_API SK_WARN_UNUSED int sk_client_resume(sk_client *client, const uint8_t *pin, size_t pin_len,
                                           sk_client_resumed *out) SK_NONNULL(1);

/* The enrolment's parameters (sk_device_enrol_start). */
typedef struct sk_client_enrol_options {
    const uint8_t *server_pub; /* the pinned SK_SERVER_PUB_LEN bytes */
    size_t server_pub_len;
    sk_purpose purpose;
    sk_profile profile;
    const uint8_t *pin; /* secret, not kept */
    size_t pin_len;
    sk_kdf_cost kdf_cost;
    const char *token;   /* the registration token, or NULL (open enrolment) */
    const char *subject; /* open enrolment: the subject asked for, or NULL */
    /* May be NULL (leave it zero).  Reports key generation and PIN
     * stretching and lets the application cancel, as for
     * sk_device_enrol_start_opts(): called on the caller's thread from inside
     * sk_client_enrol(), before anything is sent.  A nonzero return wipes
     * what was generated and makes sk_client_enrol() return
     * SK_ERR_CANCELLED with nothing sent or persisted; the client stays
     * without a key and can enrol again. */
    const sk_progress *progress;
} sk_client_enrol_options;

/* Enrols a key: EnrolInit, EnrolSubmit (each sent again on a failed
 * exchange), then the new key's state is persisted and becomes the
 * client's key (PENDING: its first signature, sk_client_sign(), is the
 * proof of possession).  Nothing is persisted before that: an enrolment in
 * progress is not sealable (it holds ds).  After a crash during an
 * enrolment, call this again with the same token: the server asks the new
 * EnrolInit for a challenge, which this layer answers, gives up the earlier
 * unfinished key (destroyed, reason abandoned) and enrols the new one.
 * Without a token an unfinished earlier key just stays unused at the server.
 * SK_ERR_PROTO_STATE when the client already has a key.  Other errors: those
 * of sk_device_enrol_start/continue/finish, the exchange's, persist's. */
SK_API SK_WARN_UNUSED int sk_client_enrol(sk_client *client, const sk_client_enrol_options *opt)
    SK_NONNULL(1, 2);

/* Fetches the sessions waiting for the key: out[0 .. *count) receive up to
 * cap sessions the caller frees (sk_device_session_free); *count is 0 when
 * none waits.  status (may be NULL) receives what an error reply said. */
SK_API SK_WARN_UNUSED int sk_client_fetch(sk_client *client, sk_device_session **out, size_t cap,
                                          size_t *count, sk_key_status *status)
    SK_NONNULL(1, 2, 4);

/* Approves a session with the PIN (secret, not kept): sig receives the
 * signature (verified under n; SK_MAX_SIG_LEN bytes are enough).  Errors:
 * those of sk_device_read_signature() (SK_ERR_WRONG_PIN with *status ...). */
SK_API SK_WARN_UNUSED int sk_client_approve(sk_client *client, const sk_device_session *session,
                                            const uint8_t *pin, size_t pin_len, uint8_t *sig,
                                            size_t cap, size_t *sig_len, sk_key_status *status)
    SK_NONNULL(1, 2, 3, 5, 7);

/* sk_client_approve() for every interaction (sk_device_approve_choice()):
 * vc_chosen is the code the person picked for a VC-choice session (NULL
 * otherwise), confirmed non-zero once they confirmed a confirmation
 * message.  SK_ERR_ARG, with nothing sent, when the session needs one of
 * them and it is missing; SK_ERR_WRONG_VC when the server found the pick
 * wrong (the session is over; no PIN attempt was counted). */
SK_API SK_WARN_UNUSED int sk_client_approve_choice(sk_client *client,
                                                   const sk_device_session *session,
                                                   const uint8_t *pin, size_t pin_len,
                                                   const char *vc_chosen, int confirmed,
                                                   uint8_t *sig, size_t cap, size_t *sig_len,
                                                   sk_key_status *status)
    SK_NONNULL(1, 2, 3, 7, 9);

/* Refuses a session. */
SK_API SK_WARN_UNUSED int sk_client_refuse(sk_client *client, const sk_device_session *session,
                                           sk_key_status *status) SK_NONNULL(1, 2);
/* Refuses a session, naming the interaction the person refused on. */
SK_API SK_WARN_UNUSED int sk_client_refuse_at(sk_client *client, const sk_device_session *session,
                                              sk_interaction refused_at, sk_key_status *status)
    SK_NONNULL(1, 2);

/* Signs a digest through a session of the device's own
 * (sk_device_session_create), approved at once with the PIN; the first
 * signature of a PENDING key is its proof of possession.  code (may be
 * NULL) receives the verification code (5 bytes).  When the approval is
 * refused for a wrong PIN (SK_ERR_WRONG_PIN, *status as the reply said it),
 * the session is refused next, so that it does not wait among the key's
 * sessions until it expires; that refusal's own outcome is not reported
 * (one whose exchange failed is left in flight for sk_client_resume()).  A
 * crash between the session's creation and its approval leaves that
 * session waiting at the server until it expires; calling again creates a
 * new one. */
SK_API SK_WARN_UNUSED int sk_client_sign(sk_client *client, const uint8_t *digest,
                                         size_t digest_len, sk_hash hash, sk_scheme scheme,
                                         const char *display_text, const uint8_t *pin,
                                         size_t pin_len, uint8_t *sig, size_t cap,
                                         size_t *sig_len, char *code, sk_key_status *status)
    SK_NONNULL(1, 2, 7, 9, 11);

/* Asks for the key's state at the server (*status). */
SK_API SK_WARN_UNUSED int sk_client_key_state(sk_client *client, sk_key_status *status)
    SK_NONNULL(1, 2);

/* Rotates the one-time password without signing. */
SK_API SK_WARN_UNUSED int sk_client_otp_refresh(sk_client *client, sk_key_status *status)
    SK_NONNULL(1);

/* Revokes the key with the PIN (secret, not kept). */
SK_API SK_WARN_UNUSED int sk_client_revoke(sk_client *client, const uint8_t *pin, size_t pin_len,
                                           sk_key_status *status) SK_NONNULL(1, 2);

#ifdef __cplusplus
}
#endif

#endif /* SPLITKEY_CLIENT_H */
