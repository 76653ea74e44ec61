/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rep_server.h - an nng REP server with several requests in flight.
 *
 * Each of N worker threads owns an nng context and an aio and loops
 * receive -> handler -> send, so N requests are served at once and a slow
 * handler (a database commit, an RSA operation) never blocks nng's own
 * threads.  Stopping closes the socket, which ends every pending receive;
 * the workers then exit and are joined.
 *
 * Every request gets exactly one reply:
 * - a request longer than max_request bytes is answered with the error reply
 *   for SK_ERR_LIMIT without reaching the handler (requests longer than
 *   SK_REP_TRANSPORT_FACTOR * max_request are dropped by nng with their
 *   connection);
 * - a handler that fails without a reply gets the error reply for its code
 *   (error_reply.h).
 * Request and reply bytes are wiped before their buffers are released (they
 * may hold one-time passwords).  One log line is written per request
 * (log.h); the handler adds the kind and key id with sk_reqlog_kind/key.
 *
 * Connections are bounded (connguard.h): a cap in total (by default derived
 * from the descriptor limit), a cap per peer address, and an idle timeout;
 * at the total cap a new connection closes the one idle the longest.
 * Refusals, closures and a process short of descriptors are logged, at most
 * one line per reason every few seconds.  A process short of descriptors
 * for SK_CONNGUARD_WEDGE_S seconds closes its listener (freeing the
 * connections stuck before the SP handshake, and closing the open ones) and
 * listens again on the same address.
 */
#ifndef SK_REP_SERVER_H
#define SK_REP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Serves one request.  req is valid only during the call.  On SK_OK *reply
 * must be a malloc'd buffer (the loop wipes and frees it) of *reply_len
 * bytes (0 allowed).  On an error code the handler may still set *reply (an
 * error message of its own); if it leaves *reply NULL the loop sends the
 * error reply for the code.  Called from several threads at once. */
typedef int (*sk_rep_handler)(void *ctx, const uint8_t *req, size_t req_len, uint8_t **reply,
                              size_t *reply_len);

#define SK_REP_DEFAULT_MAX_REQUEST (64u * 1024u)
#define SK_REP_TRANSPORT_FACTOR 4u

typedef struct sk_rep_config {
    const char *url;        /* where to listen: tcp://127.0.0.1:0 picks a free port */
    unsigned workers;       /* requests in flight; 0: one per online CPU */
    size_t max_request;     /* 0: SK_REP_DEFAULT_MAX_REQUEST */
    sk_rep_handler handler;
    void *ctx;              /* passed to the handler */
    int log_requests;       /* write one log line per request */
    unsigned max_conns;     /* open connections at most; 0: the soft RLIMIT_NOFILE at
                               start less 64, at most 512 (connguard.h) */
    unsigned max_conns_per_peer; /* from one remote IP address; 0: 64 */
    unsigned idle_seconds;  /* close a connection without a request for this long; 0: 60 */
} sk_rep_config;

typedef struct sk_rep_server sk_rep_server;

/* Opens the socket, listens and starts the workers.
 * Returns SK_OK, SK_SVC_ERR_CONFIG (URL refused by nng), SK_SVC_ERR_TRANSPORT
 * (cannot listen: address in use ...), SK_ERR_NOMEM; on failure *out is NULL
 * and nothing is left running. */
int sk_rep_server_start(sk_rep_server **out, const sk_rep_config *cfg);

/* The URL actually bound (for tcp with port 0, the port chosen), as a
 * NUL-terminated string.  Returns SK_OK or SK_ERR_BUFFER_TOO_SMALL. */
int sk_rep_server_url(const sk_rep_server *srv, char *out, size_t cap);

/* For a handler: true the first time it is called while a request of a
 * given connection is served, false for later requests of that connection
 * (connguard.h, sk_connguard_note_once); true outside a served request.  A
 * refusal worth a log line is then logged once per connection, so a client
 * repeating a refused request fills no log. */
bool sk_rep_note_once(void);

/* Number of workers running. */
unsigned sk_rep_server_workers(const sk_rep_server *srv);

/* The connection caps in force (the defaults resolved). */
void sk_rep_server_conn_limits(const sk_rep_server *srv, unsigned *max_conns,
                               unsigned *max_conns_per_peer, unsigned *idle_seconds);

/* Closes the socket, waits for the requests being served to finish, joins
 * the workers and frees everything.  NULL is ignored. */
void sk_rep_server_stop(sk_rep_server *srv);

#endif
