/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rp_v2.h - the relying-party API in the JSON shape of the public Smart-ID
 * RP API v2 (doc/rp-api.md), served by the HTTPS listener (rp_https.h):
 *
 *   POST /v2/authentication/etsi/:id      POST /v2/authentication/document/:docnr
 *   POST /v2/signature/etsi/:id           POST /v2/signature/document/:docnr
 *   POST /v2/certificatechoice/etsi/:id   POST /v2/certificatechoice/document/:docnr
 *   GET  /v2/session/:sessionId?timeoutMs=N
 *
 * Every request is authenticated first (rp_registry.h): the relying party's
 * UUID names a registry entry and the connection carries its credential
 * (the TLS client certificate's hash, or an allowed source address), and
 * relyingPartyName must be one of the entry's names; the device is shown
 * the registered spelling.  A request refused for its credential, name,
 * level, purpose or a limit creates nothing.
 *
 * Sessions are the share server's own (handler.h, sk_share_handle_rp): a
 * create builds the protocol's SessionCreate in-process, a status request
 * its SessionPoll.  What the JSON needs beyond the protocol (the owner,
 * the interaction used, the ignored properties, the document number, the
 * 15-second idempotency) is kept in memory here, for as long as a result
 * may be asked for (the session's lifetime plus SK_RP_V2_KEEP_S); after a
 * restart a session of before is answered 404.
 *
 * A status request waits without a store transaction, on srv->longpoll
 * (longpoll.h), in steps of at most SK_RP_V2_POLL_STEP_MS so that the
 * session's relying party stays "seen" (handler.h, relying-party liveness).
 * At most a quarter of the listener's workers (at least 1) wait for one
 * relying party at a time; a status request beyond that answers RUNNING at
 * once, so one relying party cannot hold every worker.
 */
#ifndef SK_RP_V2_H
#define SK_RP_V2_H

#include <stdbool.h>
#include <stddef.h>

#include "handler.h"
#include "rp_https.h"

#define SK_RP_V2_KEEP_S 300u            /* a result stays available this long */
#define SK_RP_V2_IDEMPOTENT_MS 15000u   /* a repeated identical create: same session */
#define SK_RP_V2_POLL_STEP_MS 10000u
#define SK_RP_V2_TIMEOUT_MIN_MS 1000u
#define SK_RP_V2_TIMEOUT_MAX_MS 120000u
#define SK_RP_V2_TIMEOUT_DEFAULT_MS 60500u /* halfway, as the v2 API says */
#define SK_RP_V2_PERSON_PENDING_DEFAULT 2u
#define SK_RP_V2_MAX_SESSIONS 100000u   /* sessions remembered at most */

typedef struct sk_rp_v2_config {
    sk_share_server *share;    /* the session logic (its longpoll must be set) */
    const char *registry_path; /* DIR/relying-parties.json */
    unsigned person_pending;   /* running sessions of one relying party for one person
                                  (0: SK_RP_V2_PERSON_PENDING_DEFAULT) */
    unsigned workers;          /* the listener's workers (for the long-poll share) */
} sk_rp_v2_config;

typedef struct sk_rp_v2 sk_rp_v2;

/* Loads the registry.  Returns SK_OK, SK_ERR_NOMEM or the registry's error
 * (err says which). */
int sk_rp_v2_new(sk_rp_v2 **out, const sk_rp_v2_config *cfg, char *err, size_t err_len);
void sk_rp_v2_free(sk_rp_v2 *v);

/* Reads the registry again (SIGHUP); on an error the one in use stays.
 * (The registry is also read again by the next request after the file
 * changed.)  Returns SK_OK or the registry's error. */
int sk_rp_v2_reload(sk_rp_v2 *v, char *err, size_t err_len);

/* How many relying parties the registry in use holds. */
size_t sk_rp_v2_count(sk_rp_v2 *v);

/* The sk_https_handler; ctx is an sk_rp_v2. */
void sk_rp_v2_handle(void *ctx, const sk_https_request *req, sk_https_response *resp);

#endif
