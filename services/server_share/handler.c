/*
 * handler.c - serves one request of the share server.
 *
 * Where the protocol plugs in
 * ---------------------------
 * The server role of libsplitkey (functions over bytes and explicit
 * records) replaces the body of sk_share_handle() below with these steps,
 * all inside one store transaction:
 *
 *   1. Decode the envelope without touching state; note the request kind
 *      and key id for the log (sk_reqlog_kind, sk_reqlog_key).  A malformed
 *      request gets SK_ERR_PROTO_DECODE and nothing is read or written.
 *   2. sk_store_begin(); if the request carries a request id, look it up
 *      with sk_store_reply_get(): a hit returns the stored reply unchanged
 *      (a lost reply is retried, never mistaken for a clone).
 *   3. Load the key record (sk_store_key_get), unseal its blob with
 *      sk_unseal(master, ..., key_id) and pass it, the request and the
 *      session (sk_store_session_get) to the server role.  Enrolment takes
 *      a server key with sk_pool_take_key() in the same transaction (then
 *      sk_pool_filler_kick()).
 *   4. Seal the new record (sk_seal with the key id) and write it with
 *      sk_store_key_update() (compare-and-swap on the version read in 3),
 *      the session with sk_store_session_update(), the reply with
 *      sk_store_reply_put() and an event with sk_store_event_append().
 *   5. sk_store_commit().  Only after it succeeded is the reply returned to
 *      the loop, which sends it.  SK_ERR_STORE_CONFLICT or
 *      SK_ERR_STORE_BUSY: roll back and rerun from step 2 (a bounded number
 *      of times); any other error: roll back and reply with the error.
 *   6. Wipe the unsealed record and every secret of the role before
 *      returning, on every path.
 *
 * Until then every request is answered with a well-formed error reply
 * (error_reply.h) and no state is touched.
 */
#include "handler.h"

#include "log.h"
#include "splitkey/splitkey.h"

int sk_share_handle(void *ctx, const uint8_t *req, size_t req_len, uint8_t **reply,
                    size_t *reply_len)
{
    (void)ctx;
    (void)req;
    *reply = NULL;
    *reply_len = 0;
    sk_reqlog_kind(SK_REQ_UNKNOWN);
    if (req_len == 0)
        return SK_ERR_PROTO_DECODE;
    /* The protocol's server role is not part of this build yet. */
    return SK_ERR_UNSUPPORTED;
}
