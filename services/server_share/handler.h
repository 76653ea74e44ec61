/* SPDX-License-Identifier: Apache-2.0 */
/*
 * handler.h - the share server's request handler: the point where the
 * library's server role (sans I/O) meets the store and the socket.
 *
 * Framing (doc/operations.md, "Wire framing"): a request is a 4-byte
 * channel tag followed by the protocol bytes,
 *   "SKD1" || Envelope   a device request
 * and the reply is the protocol's reply bytes (an Envelope) without a tag,
 * or the "SKE1" error frame (error_reply.h) when the server could not run
 * the protocol at all (unknown tag, oversized, store failure, internal
 * error).  A request answered with "SKE1" changed nothing.  The tag "SKP1"
 * (a relying-party request, which earlier versions served here) is refused
 * with SK_SVC_ERR_RP_REFUSED: relying parties use the HTTPS listener
 * (rp_v2.h), which hands their requests, as RpRequest messages, to
 * sk_share_handle_rp.
 *
 * A device request on an existing key (approval, session creation, key
 * state, OTP refresh, revocation, enrolment submit) is served optimistically:
 * the key record and the session are read in a snapshot, the server role -
 * with its exponentiations - runs with no transaction open, and a write
 * transaction checks that both rows still have the versions read, stores the
 * new records (compare-and-swap), the session and the events and commits;
 * if a row moved, all of it is done again on fresh reads.  So signings for
 * different keys run in parallel on all workers, and requests for one key
 * still take effect one after the other.  Enrolment starts (a pool key and a
 * token are taken), session fetches and relying-party requests run whole in
 * one write transaction (sk_store_run).  Either way the reply goes to the
 * loop only after the commit.  The approval of a proof of
 * possession on a server with a CA stores nothing at first and yields the
 * signed CSR; the CA is asked outside any transaction, and a second pass, in
 * one transaction, commits the result with the certificate or the CA's error
 * (ra.h).
 *
 * Relying-party long polls are parked by the HTTPS listener (rp_v2.c) on
 * srv->longpoll (longpoll.h), with no transaction or store lock held: every
 * committed request that stores a signature, a refusal, an expiry or a
 * cancellation, or destroys a key, wakes them, and they poll again.
 *
 * Relying-party liveness: every poll of a PENDING session records until
 * when its relying party waits (the poll's time plus the wait it asked
 * for; sk_store_session_seen, which moves no version, so a device request
 * that read the session is not done again).  A session whose relying party
 * has not been seen for rp_idle_s after that is not listed by a device's
 * fetch, and the next request naming it - an approval, a refusal, a poll,
 * a cancel - stores it CANCELLED (sk_server_input.session_abandoned).
 */
#ifndef SK_HANDLER_H
#define SK_HANDLER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "identity.h"
#include "pool.h"
#include "seal.h"
#include "splitkey/server.h"
#include "store.h"

#define SK_FRAME_DEVICE "SKD1"
#define SK_FRAME_RP "SKP1"
#define SK_FRAME_TAG_LEN 4u

/* Event kinds in the store's event log (sk_event.kind), with what detail
 * holds.  Values are stable: they are stored. */
enum sk_share_event {
    SK_EV_ENROL_INIT = 1,       /* key created, ENROLLING; detail: profile bits */
    SK_EV_ENROLLED = 2,         /* ds stored, PENDING */
    SK_EV_ACTIVATED = 3,        /* proof of possession signed, ACTIVE */
    SK_EV_SESSION_CREATED = 4,  /* detail: 1 device-initiated, 2 relying party */
    SK_EV_SIGNED = 5,           /* a session completed with a signature */
    SK_EV_WRONG_PIN = 6,        /* detail: attempts left */
    SK_EV_LOCKED = 7,           /* detail: locked until (Unix seconds) */
    SK_EV_DESTROYED = 8,        /* detail: sk_destroy_reason (5: an unfinished
                                   enrolment given up for a new one) */
    SK_EV_CLONE_DETECTED = 9,
    SK_EV_REVOKE_CERT = 10,     /* revoke the certificate; detail: CRLReason */
    SK_EV_CERT_REQUEST = 11,    /* without a CA: activated without a certificate */
    SK_EV_SESSION_REFUSED = 12,
    SK_EV_SESSION_EXPIRED = 13,
    SK_EV_OTP_REFRESHED = 14,
    SK_EV_TOKEN_USED = 15,
    SK_EV_ENROLLING_PURGED = 16, /* no key; detail: how many abandoned enrolments */
    SK_EV_SESSIONS_PURGED = 17,  /* no key; detail: how many sessions */
    SK_EV_CERT_STORED = 18,      /* the CA's certificate stored with the key (RA) */
    SK_EV_CERT_REVOKED = 19,     /* the CA confirmed a revocation asked for by
                                    SK_EV_REVOKE_CERT; detail: CRLReason, -1 when
                                    the key had no certificate to revoke, -2 when it
                                    cannot be revoked from here (logged) */
    SK_EV_RESYNCED = 20,         /* after a restore: the device was ahead of the
                                    restored record and its one-time password
                                    was taken (SK_EFFECT_RESYNC) */
    SK_EV_SESSION_CANCELLED = 21, /* a pending session ended unsigned because its
                                    relying party no longer waits; detail: 1 the
                                    relying party cancelled it, 2 abandoned (no
                                    poll for rp_idle_s) */
    SK_EV_CA_REVOKED = 22,       /* the CA revoked the key's certificate (its
                                    operator, splitkey-ca revoke) and the key was
                                    destroyed for it; detail: CRLReason */
    /* Four eyes (operators.h).  For kinds 23-26 and 28 the event's key_id
     * holds the registration token's id (not a key id); detail is the
     * operator's event id (sk_operator_event_id) unless said otherwise. */
    SK_EV_TOKEN_REQUESTED = 23,  /* `token`: operator A minted and signed it */
    SK_EV_TOKEN_APPROVED = 24,   /* `token approve`: operator B added the second
                                    approval; the token is usable */
    SK_EV_APPROVAL_REFUSED_SAME = 25,    /* `token approve` by an operator who
                                            approved it already */
    SK_EV_APPROVAL_REFUSED_UNKNOWN = 26, /* `token approve` or `token` with a key
                                            that is not a registered operator */
    SK_EV_TOKEN_OPERATOR = 27,   /* an enrolment used a token: one per approving
                                    operator, key_id the new key (with
                                    SK_EV_TOKEN_USED) */
    SK_EV_TOKEN_REFUSED = 28,    /* an enrolment refused because the token lacks
                                    the approvals of two distinct registered
                                    operators; detail: how many it has (-1: an
                                    approval that does not verify); nothing
                                    else changed, the token is not spent */
    SK_EV_OPERATOR_ADDED = 29,   /* `operator add`; no key_id */
    SK_EV_OPERATOR_REMOVED = 30, /* `operator remove`; no key_id */
    /* Relying parties of the HTTPS listener (rp_registry.h, rp_v2.h).  For
     * kinds 34-39 the event's key_id holds the relying party's UUID (16
     * bytes; none for a request naming no registered one). */
    SK_EV_RP_ADDED = 34,         /* `rp add`; detail: the allowed purposes (bits
                                    1 auth, 2 sign, 4 certificate choice) */
    SK_EV_RP_REMOVED = 35,       /* `rp remove` */
    SK_EV_RP_REFUSED_AUTH = 36,  /* a request answered 401: unknown UUID, wrong
                                    certificate or source address; detail: 1 unknown
                                    UUID, 2 wrong credential.  At most one a second
                                    per relying party (the rest are counted in the
                                    log line) */
    SK_EV_RP_REFUSED_PERMISSION = 37, /* answered 403: name, level or purpose not
                                    allowed; detail: 1 name, 2 level, 3 purpose */
    SK_EV_RP_REFUSED_LIMIT = 38, /* answered for a limit: detail 1 requests per
                                    second, 2 pending sessions of the relying party,
                                    3 pending sessions of the person */
    SK_EV_RP_CERT_CHOICE = 39,   /* a certificate choice answered; detail: 0 */
    /* 40-44: certificate levels and interactions (doc/protocol.md) */
    SK_EV_WRONG_VC = 40,        /* a VC-choice session ended WRONG_VC: the approval
                                   picked a wrong code; no PIN attempt counted */
    SK_EV_LEVEL_REFUSED = 41    /* a relying party asked for a QUALIFIED key and the
                                   key is not; no session; detail: the key's level */
};

/* The certificate hook: called after a commit that recorded a revocation
 * (SK_EV_REVOKE_CERT) or, without a CA, a certificate request
 * (SK_EV_CERT_REQUEST) for key_id.  With a CA (srv->ca) the handler itself
 * asks the CA to revoke after the hook ran (ra.h).  crl_reason is the RFC 5280 reason for a revocation, 0 for a
 * request.  The event log already holds the effect, so a hook that fails may
 * be retried later from the log; the hook must not block for long. */
typedef void (*sk_share_ca_hook)(void *ctx, const char *ca_url, const uint8_t *key_id,
                                 int is_revocation, int crl_reason);

/* The default hook: logs the effect (key-id prefix and reason) and does
 * nothing else; a CA client replaces it. */
void sk_share_ca_hook_log(void *ctx, const char *ca_url, const uint8_t *key_id,
                          int is_revocation, int crl_reason);

/* Everything a request may need, shared by all workers (read-only after
 * start, apart from the thread-safe store and pool and the clean-up clock). */
typedef struct sk_share_server {
    sk_store *store;
    const sk_master_key *master;
    const sk_server_ident *ident; /* the protocol identity (sk_share_ident_load) */
    sk_pool_filler *pool;         /* may be NULL */
    const char *ca_url;           /* the CA's URL, for the logs (NULL: none) */
    struct sk_ca_client *ca;      /* the registration-authority client (ra.h); NULL:
                                     activate keys without a certificate */
    sk_share_ca_hook ca_hook;     /* NULL: sk_share_ca_hook_log */
    void *ca_hook_ctx;
    struct sk_longpoll *longpoll; /* parked long polls (longpoll.h); NULL: every
                                     poll is answered at once */
    bool open_enrolment;
    unsigned session_ttl_s;       /* 0: 120 */
    unsigned enrolling_ttl_s;     /* abandoned ENROLLING keys go after this (0: 600) */
    unsigned session_keep_s;      /* finished sessions kept this long after expiry (0: 3600) */
    unsigned rp_idle_s;           /* a relying party's session it has not polled for
                                     longer than this (counted from the end of the
                                     wait its last poll asked for) is offered to the
                                     device no more and becomes CANCELLED when next
                                     touched (0: SK_SHARE_RP_IDLE_DEFAULT) */
    unsigned cleanup_every_s;     /* clean-up at most this often (0: 60) */
    uint64_t (*clock)(void);      /* Unix seconds; NULL: the system clock (tests inject one) */
    unsigned lock1_s, lock2_s;    /* time-lock durations (0: 3 h and 24 h) */
    void (*decided_hook)(void *ctx); /* tests: called in an optimistic request after
                                        the role ran on a snapshot, before the write
                                        transaction (NULL: none) */
    void *decided_hook_ctx;
    void (*charged_hook)(void *ctx); /* tests: called after a PIN check's charge was
                                        committed, before the check runs (NULL: none) */
    void *charged_hook_ctx;
    struct sk_hwm *hwm;           /* versions seen per key (hwm.h); NULL: no rollback
                                     detection */
    int64_t restored_at;          /* store_meta "restored_at": when the store was
                                     last restored to an older point (Unix seconds;
                                     0: never).  Key records last written before it
                                     may meet devices that moved on since
                                     (sk_server_input.key_restored). */
    atomic_uint_least64_t redone;       /* optimistic requests done again because a row
                                           they read changed (zero-initialise) */
    atomic_uint_least64_t last_cleanup; /* internal; zero-initialise */
    atomic_int_least64_t ra_done_seq;   /* internal (ra.c): revocations up to this event
                                           are confirmed; zero-initialise */
    const char *operators_file;   /* four eyes: an EnrolInit with a token enrols only
                                     when the token carries the approvals of two
                                     distinct operators listed in this file
                                     (operators.h), read at every such request;
                                     NULL: no such check (tests of the role alone) */
} sk_share_server;

/* The default of sk_share_server.rp_idle_s (--rp-idle-seconds), in seconds:
 * three times the 10 s a splitkey-rp poll asks the server to hold it, so an
 * honest relying party whose next poll is a little late is never taken for
 * one that left. */
#define SK_SHARE_RP_IDLE_DEFAULT 30u

/* Builds the protocol identity from the files' secrets (identity.h). */
int sk_share_ident_load(sk_server_ident **out, const sk_server_identity *id);

/* The sk_rep_handler of splitkey-server; ctx is an sk_share_server.
 * Returns SK_OK with a protocol reply, or the error the reply carries
 * (SK_ERR_WRONG_PIN ..., for the request log) with *reply set, or a service
 * error with *reply NULL (the loop then sends the "SKE1" frame). */
int sk_share_handle(void *ctx, const uint8_t *req, size_t req_len, uint8_t **reply,
                    size_t *reply_len);

/* The relying-party request rp_req (an RpRequest) of a relying party the
 * caller has authenticated already (the HTTPS listener, rp_v2.h), served
 * by the session logic (sk_share_handle refuses the same request as an "SKP1"
 * frame on the device socket with SK_SVC_ERR_RP_REFUSED, nothing read or
 * stored).  A poll's wait_ms is not waited here (the caller parks on
 * srv->longpoll itself and polls again); wait_ms tells until when the
 * relying party waits (the liveness rule above).  Returns and fills *reply
 * as sk_share_handle. */
int sk_share_handle_rp(sk_share_server *srv, const uint8_t *rp_req, size_t rp_req_len,
                       uint8_t **reply, size_t *reply_len);

/* Writes a key's record again, unchanged but for version + 1 (sealed with
 * the server's master key, compare-and-swap like any change). */
/* Reads store_meta "restored_at" into srv->restored_at (0 when absent).
 * Returns SK_OK, SK_ERR_KEY_FORMAT for a value that is not a decimal
 * number of seconds, or a store error. */
int sk_share_read_restore_mark(sk_share_server *srv);

int sk_share_key_rewrite(sk_share_server *srv, const uint8_t *key_id);

/* The certificate stored with a key (DER, malloc'd; the caller frees it), read
 * in a transaction of its own without the secrets.  *der is NULL and *len 0
 * when the key has none.  Returns SK_OK, SK_ERR_NOT_FOUND (no such key) or a
 * store error. */
int sk_share_key_certificate(sk_share_server *srv, const uint8_t *key_id, uint8_t **der,
                             size_t *len);

struct sk_serial;

/* The certificate of key_id was revoked at the CA (not at this server's
 * request: the revocation poll of ra.c).  In one transaction: if the key's
 * stored certificate has this serial and the key is not destroyed yet, the
 * key becomes DESTROYED (reason operator: the library's operator
 * revocation, secrets deleted) and the events SK_EV_DESTROYED and
 * SK_EV_CA_REVOKED (detail crl_reason) are appended.  No SK_EV_REVOKE_CERT:
 * the CA has revoked the certificate already, so the revocation retry has
 * nothing to ask.  *outcome: 1 destroyed now, 0 already destroyed (nothing
 * done), -1 the key holds no certificate with this serial (nothing done).
 * Returns SK_OK, SK_ERR_NOT_FOUND (no such key) or a store error. */
int sk_share_key_ca_revoked(sk_share_server *srv, const uint8_t *key_id,
                            const struct sk_serial *serial, int crl_reason, uint64_t now,
                            int *outcome);

/* Runs the clean-up now: deletes ENROLLING keys older than enrolling_ttl_s
 * and sessions that expired more than session_keep_s ago, and logs an event
 * for each non-empty purge.  Returns SK_OK or a store error. */
int sk_share_cleanup(sk_share_server *srv, uint64_t now, size_t *keys_deleted,
                     size_t *sessions_deleted);

/* The person id a key is found under for relying-party requests: the value
 * of the subject's serialNumber attribute (e.g. "PNOLV-010101-12345"), or,
 * when there is none, the whole subject if it has 1..SK_MAX_PERSON_ID_LEN
 * bytes, else "key:" and the key id in hex.  out holds SK_STORE_PERSON_MAX + 1
 * bytes. */
void sk_share_person_id(char *out, const char *subject, const uint8_t *key_id);

#endif
