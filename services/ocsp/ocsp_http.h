/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ocsp_http.h - the OCSP responder's HTTP side (RFC 6960 appendix A, RFC
 * 5019) on nng's HTTP server.
 *
 * One handler for every path and method:
 * - POST with the DER request as the body (Content-Type
 *   application/ocsp-request; the body is limited to max_request bytes,
 *   nng answers 400 to a longer one);
 * - GET /BASE64 (URL-encoded base64 of the DER request as the last path
 *   segment);
 * - any other method: 405 with "Allow: GET, POST".
 * Every OCSP answer is HTTP 200 with Content-Type application/ocsp-response:
 * a signed response, or malformedRequest / unauthorized / internalError /
 * tryLater (no usable signer).  Every answer, errors included, carries a
 * Date header (RFC 9110 IMF-fixdate).
 * A successful answer to a GET carries Cache-Control (max-age, public,
 * no-transform, must-revalidate), Last-Modified (producedAt), Expires
 * (nextUpdate) and an ETag (a hash of the response), so HTTP caches can
 * keep it; POST answers carry Cache-Control: no-store.
 *
 * The responder to sign with comes from a function called before every
 * request (under the signing lock), so the program can swap in a renewed
 * signer or withhold a revoked or expired one (NULL: answer tryLater).
 *
 * Status comes from a lookup function (the CA database opened read-only,
 * or the CA's status operation), called for every CertID of every
 * request, so a revocation is visible in the next response.  One log line
 * per request: method, OCSP response status, the first CertID's state,
 * size, duration.
 */
#ifndef SK_OCSP_HTTP_H
#define SK_OCSP_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "splitkey/pki.h"

typedef struct ocsp_http ocsp_http;

typedef struct ocsp_http_config {
    const char *host;        /* e.g. "127.0.0.1" */
    unsigned port;           /* 0: any free port (see ocsp_http_port) */
    size_t max_request;      /* POST body and decoded GET limit */
    uint32_t validity_secs;  /* nextUpdate - thisUpdate */
    uint32_t max_age_secs;   /* Cache-Control max-age (capped at validity) */
    /* The responder for this request, NULL for none usable; called with the
     * signing lock held, the result is used before it is released. */
    const sk_ocsp_responder *(*responder)(void *ctx, int64_t now);
    void *responder_ctx;
    sk_ocsp_lookup_fn lookup;
    void *lookup_ctx;
} ocsp_http_config;

/* Starts serving.  Returns SK_OK, SK_SVC_ERR_CONFIG (bad host or port),
 * SK_SVC_ERR_TRANSPORT (cannot bind), SK_ERR_NOMEM. */
int ocsp_http_start(ocsp_http **out, const ocsp_http_config *cfg);
/* The port actually bound (for port 0). */
unsigned ocsp_http_port(const ocsp_http *h);
/* Runs fn(ctx) with the signing lock held: no request signs or looks a
 * status up meanwhile, so fn may replace what the responder function
 * returns (a reload on SIGHUP). */
void ocsp_http_with_signing_lock(ocsp_http *h, void (*fn)(void *ctx), void *ctx);
/* Stops accepting, waits for handlers in flight, frees.  NULL is ignored. */
void ocsp_http_stop(ocsp_http *h);

#endif
