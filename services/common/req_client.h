/* SPDX-License-Identifier: Apache-2.0 */
/*
 * req_client.h - request/reply over nng REQ with a timeout, for the client
 * programs (device, relying party) and for the share server talking to the
 * CA.
 *
 * A client dials in the background, so it may be opened before the server
 * is up; a call then waits up to the timeout for the connection, the send
 * and the reply.  Calls are thread-safe: each uses its own nng context.
 */
#ifndef SK_REQ_CLIENT_H
#define SK_REQ_CLIENT_H

#include <stddef.h>
#include <stdint.h>

typedef struct sk_req_client sk_req_client;

#define SK_REQ_DEFAULT_TIMEOUT_MS 10000
#define SK_REQ_DEFAULT_MAX_REPLY (1024u * 1024u)

/* Opens a REQ socket dialling url.  timeout_ms bounds each call (0: the
 * default); replies longer than max_reply (0: the default) are refused.
 * Returns SK_OK, SK_SVC_ERR_CONFIG (bad URL) or SK_SVC_ERR_TRANSPORT. */
int sk_req_client_open(sk_req_client **out, const char *url, unsigned timeout_ms,
                       size_t max_reply);

/* Like sk_req_client_open(), but the first connection is made before it
 * returns: a server that refuses it (nothing listens there) or cannot be
 * reached is reported at once as SK_SVC_ERR_CONNECT, with "cannot connect to
 * URL: reason" in err (err_cap bytes; err may be NULL).  Once connected, a
 * lost connection is dialled again in the background as with
 * sk_req_client_open(), so a call after a server restart still gets through.
 * Returns SK_OK, SK_SVC_ERR_CONFIG, SK_SVC_ERR_CONNECT or
 * SK_SVC_ERR_TRANSPORT. */
int sk_req_client_connect(sk_req_client **out, const char *url, unsigned timeout_ms,
                          size_t max_reply, char *err, size_t err_cap);

/* Sends req and waits for the reply.
 * reply: out, a malloc'd buffer the caller frees (after wiping it if the
 *        reply may hold secrets); NULL on failure.
 * Returns SK_OK, SK_SVC_ERR_TIMEOUT, SK_SVC_ERR_TRANSPORT or SK_ERR_NOMEM.
 * An error reply from the server (error_reply.h) is returned as SK_OK with
 * the frame in *reply; decode it with sk_error_reply_decode(). */
int sk_req_client_call(sk_req_client *c, uint8_t **reply, size_t *reply_len, const uint8_t *req,
                       size_t req_len);

/* The same with a timeout of its own for this call (0: the client's), e.g.
 * for a request the server may hold (a relying party's long poll). */
int sk_req_client_call_ms(sk_req_client *c, uint8_t **reply, size_t *reply_len,
                          const uint8_t *req, size_t req_len, unsigned timeout_ms);

/* Closes the socket.  NULL is ignored. */
void sk_req_client_close(sk_req_client *c);

/* One call on a fresh connection: open, call, close. */
int sk_req_once(uint8_t **reply, size_t *reply_len, const char *url, unsigned timeout_ms,
                const uint8_t *req, size_t req_len);

#endif
