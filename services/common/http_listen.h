/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http_listen.h - the services' HTTP listeners on nng's HTTP server (the
 * OCSP responder, the TSA, the CA's publication and the metrics endpoint):
 * one handler for every path and method under "/", and the HTTP Date format.
 */
#ifndef SK_HTTP_LISTEN_H
#define SK_HTTP_LISTEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nng/nng.h>
#include <nng/supplemental/http/http.h>

/* Splits text, "HOST:PORT" (a listener's --http), at its last ':' into host
 * (cap bytes, NUL-terminated) and *port.  False, with *port untouched, when
 * text is not that: no ':', an empty host or port, a host of cap bytes or
 * more or with '/', ' ', '[' or ']', or a port that strtoul does not take
 * whole or above 65535. */
bool sk_parse_hostport(char *host, size_t cap, unsigned *port, const char *text);

/* The step at which sk_http_listen failed, for the caller's message. */
typedef enum sk_http_step {
    SK_HTTP_STEP_URL = 1, /* http://HOST:PORT does not parse: SK_SVC_ERR_CONFIG */
    SK_HTTP_STEP_SERVER,  /* holding the server or setting up the handler:
                           * SK_SVC_ERR_TRANSPORT */
    SK_HTTP_STEP_ADD,     /* adding the handler: SK_SVC_ERR_TRANSPORT.  nng
                           * shares one server per address, so this is
                           * usually another listener of this process there */
    SK_HTTP_STEP_START    /* listening: SK_SVC_ERR_CONFIG for an address that
                           * is not usable (NNG_EADDRINVAL), else
                           * SK_SVC_ERR_TRANSPORT */
} sk_http_step;

typedef struct sk_http_failure {
    sk_http_step step;
    int nng_rv; /* nng's error at that step (nng_strerror); 0 at SK_HTTP_STEP_URL */
} sk_http_failure;

/* Serves http://HOST:PORT (host as it goes into the URL, brackets included
 * for an IPv6 address; port 0: any free port) with handle for every path
 * and method, data as the handler's data (nng_http_handler_get_data).
 * max_body > 0: the request body is collected up to that many bytes (nng
 * answers larger ones itself); 0: no body is collected.  On success
 * *server is started and *bound_port is the port it listens on (port when
 * nng does not tell).  Returns SK_OK, SK_SVC_ERR_CONFIG or
 * SK_SVC_ERR_TRANSPORT as given by sk_http_step, with *why (may be NULL)
 * saying where; on failure nothing is left held. */
int sk_http_listen(nng_http_server **server, unsigned *bound_port, const char *host,
                   unsigned port, void (*handle)(nng_aio *), void *data, size_t max_body,
                   sk_http_failure *why);

/* The message for a failed sk_http_listen of the address given as
 * "FLAG VALUE" (e.g. "--http 127.0.0.1:8081"): "FLAG VALUE: BAD_URL" at
 * SK_HTTP_STEP_URL, "FLAG VALUE: cannot listen: ERROR" at SK_HTTP_STEP_START,
 * "FLAG VALUE: ERROR" otherwise, ERROR being nng's. */
void sk_http_listen_error(char *err, size_t err_len, const char *flag, const char *value,
                          const char *bad_url, const sk_http_failure *why);

/* Stops and releases a server from sk_http_listen. */
void sk_http_unlisten(nng_http_server *server);

/* t (seconds since the epoch) as an HTTP date, the IMF-fixdate of RFC 9110
 * 5.6.7, e.g. "Sun, 06 Nov 1994 08:49:37 GMT"; cap of 30 bytes or more holds
 * it. */
void sk_http_date(char *out, size_t cap, int64_t t);

#endif
