/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tsa_http.h - the time-stamping authority's HTTP side (RFC 3161 3.4) on
 * nng's HTTP server.
 *
 * One handler for every path:
 * - POST with Content-Type application/timestamp-query and the DER
 *   TimeStampReq as the body: HTTP 200, Content-Type
 *   application/timestamp-reply, a TimeStampResp (granted, or a rejection
 *   with its failInfo for a request that is not acceptable or not DER);
 * - POST with another Content-Type: 415; an empty body: 400; a body over
 *   max_request bytes: nng answers 400 before the handler runs;
 * - any other method: 405 with "Allow: POST".
 * One log line per request: HTTP status, PKIStatus, failInfo, the imprint's
 * hash algorithm, the serial, size, duration; never the imprint itself.
 */
#ifndef SK_TSA_HTTP_H
#define SK_TSA_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "splitkey/pki.h"

typedef struct tsa_http tsa_http;

typedef struct tsa_http_config {
    const char *host;    /* e.g. "127.0.0.1" */
    unsigned port;       /* 0: any free port (see tsa_http_port) */
    size_t max_request;  /* POST body limit */
    const sk_tsa *tsa;   /* borrowed */
} tsa_http_config;

/* Starts serving.  Returns SK_OK, SK_SVC_ERR_CONFIG (bad host or port),
 * SK_SVC_ERR_TRANSPORT (cannot bind), SK_ERR_NOMEM. */
int tsa_http_start(tsa_http **out, const tsa_http_config *cfg);
/* The port actually bound (for port 0). */
unsigned tsa_http_port(const tsa_http *h);
/* Stops accepting, waits for handlers in flight, frees.  NULL is ignored. */
void tsa_http_stop(tsa_http *h);

#endif
