/* SPDX-License-Identifier: Apache-2.0 */
/* ocsp_http.c - OCSP over HTTP on nng's HTTP server. */
#define _POSIX_C_SOURCE 200809L
#include "ocsp_http.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/supplemental/http/http.h>

#include "http_listen.h"
#include "log.h"
#include "metrics.h"
#include "splitkey/splitkey.h"
#include "svc_error.h"

#define OCSP_RESPONSE_CAP (32u * 1024u)

struct ocsp_http {
    ocsp_http_config cfg;
    nng_http_server *server;
    pthread_mutex_t sign_mu; /* one signature with the signer key at a time */
    unsigned port;
};

/* Per-request state for the lookup wrapper: the first CertID's answer, for
 * the log line. */
typedef struct lookup_rec {
    const ocsp_http *h;
    bool have;
    sk_cert_state first;
} lookup_rec;

static int lookup_wrap(void *ctx, sk_cert_status *status, const sk_serial *serial)
{
    lookup_rec *lr = ctx;
    int rc = lr->h->cfg.lookup(lr->h->cfg.lookup_ctx, status, serial);
    if (rc == 0 && !lr->have) {
        lr->have = true;
        lr->first = status->state;
    }
    return rc;
}

static const char *status_name(sk_ocsp_status s)
{
    switch (s) {
    case SK_OCSP_SUCCESSFUL: return "successful";
    case SK_OCSP_MALFORMED_REQUEST: return "malformedRequest";
    case SK_OCSP_INTERNAL_ERROR: return "internalError";
    case SK_OCSP_TRY_LATER: return "tryLater";
    case SK_OCSP_SIG_REQUIRED: return "sigRequired";
    case SK_OCSP_UNAUTHORIZED: return "unauthorized";
    default: return "?";
    }
}

static const char *state_name(const lookup_rec *lr)
{
    if (!lr->have)
        return "-";
    switch (lr->first) {
    case SK_CERT_GOOD: return "good";
    case SK_CERT_REVOKED: return "revoked";
    default: return "unknown";
    }
}

/* Writes the OCSP answer for a DER request (NULL: malformed) into *out. */
static int answer(ocsp_http *h, uint8_t **out, size_t *out_len, sk_ocsp_status *status,
                  lookup_rec *lr, const uint8_t *der, size_t der_len, int64_t now)
{
    size_t cap = OCSP_RESPONSE_CAP, w = 0;
    *out = NULL;
    for (int attempt = 0; attempt < 2; attempt++) {
        uint8_t *buf = malloc(cap);
        if (buf == NULL)
            return SK_ERR_NOMEM;
        int rc;
        if (der == NULL) {
            *status = SK_OCSP_MALFORMED_REQUEST;
            rc = sk_ocsp_error_response(buf, cap, &w, SK_OCSP_MALFORMED_REQUEST);
        } else {
            pthread_mutex_lock(&h->sign_mu);
            const sk_ocsp_responder *r = h->cfg.responder(h->cfg.responder_ctx, now);
            if (r == NULL) {
                *status = SK_OCSP_TRY_LATER;
                rc = sk_ocsp_error_response(buf, cap, &w, SK_OCSP_TRY_LATER);
            } else {
                rc = sk_ocsp_respond(r, buf, cap, &w, status, der, der_len, now, lookup_wrap,
                                     lr);
            }
            pthread_mutex_unlock(&h->sign_mu);
        }
        if (rc == SK_OK) {
            *out = buf;
            *out_len = w;
            return SK_OK;
        }
        free(buf);
        if (rc != SK_ERR_BUFFER_TOO_SMALL || w <= cap)
            return rc;
        cap = w;
    }
    return SK_ERR_INTERNAL;
}

/* The DER request in a GET path.  The responder may sit under a prefix
 * ("/ocsp/...") and a client may leave '/' in the base64 unencoded, so
 * every suffix that starts after a '/' is tried, longest first; the first
 * one that decodes to a well-formed OCSP request wins.  Returns its length,
 * 0 for none. */
static size_t decode_get(uint8_t *out, size_t cap, const char *path, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (path[i] != '/' || i + 1 == len)
            continue;
        size_t w = 0;
        sk_ocsp_request *r = NULL;
        if (sk_ocsp_decode_get(out, cap, &w, path + i + 1, len - i - 1) == SK_OK && w > 0 &&
            sk_ocsp_request_parse(&r, out, w) == SK_OK) {
            sk_ocsp_request_free(r);
            return w;
        }
    }
    return 0;
}

static void handle(nng_aio *aio)
{
    uint64_t t0 = sk_clock_us();
    nng_http_req *req = nng_aio_get_input(aio, 0);
    nng_http_handler *hd = nng_aio_get_input(aio, 1);
    ocsp_http *h = nng_http_handler_get_data(hd);
    const char *method = nng_http_req_get_method(req);
    nng_http_res *res = NULL;
    uint8_t *get_der = NULL, *resp = NULL;
    size_t resp_len = 0;
    const uint8_t *der = NULL;
    size_t der_len = 0;
    bool is_get = false;
    sk_ocsp_status status = SK_OCSP_INTERNAL_ERROR;
    lookup_rec lr = {.h = h};
    int64_t now = (int64_t)time(NULL);
    int rv;

    if (strcmp(method, "POST") == 0) {
        void *body = NULL;
        size_t blen = 0;
        nng_http_req_get_data(req, &body, &blen);
        if (blen > 0 && blen <= h->cfg.max_request) {
            der = body;
            der_len = blen;
        }
    } else if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0) {
        is_get = true;
        const char *uri = nng_http_req_get_uri(req);
        const char *q = strchr(uri, '?');
        size_t ulen = q ? (size_t)(q - uri) : strlen(uri);
        if (ulen <= 3 * (4 * h->cfg.max_request / 3 + 4) &&
            (get_der = malloc(h->cfg.max_request)) != NULL)
            der_len = decode_get(get_der, h->cfg.max_request, uri, ulen);
        if (der_len > 0)
            der = get_der;
    } else {
        if (nng_http_res_alloc_error(&res, NNG_HTTP_STATUS_METHOD_NOT_ALLOWED) != 0)
            res = NULL;
        else if (nng_http_res_set_header(res, "Allow", "GET, POST") != 0) {
            nng_http_res_free(res);
            res = NULL;
        }
        sk_log_notice("req method=%s http=405 us=%llu", method,
                      (unsigned long long)(sk_clock_us() - t0));
        sk_metrics_ocsp_response("http-405", sk_clock_us() - t0);
        goto done;
    }

    if (answer(h, &resp, &resp_len, &status, &lr, der, der_len, now) != SK_OK) {
        if (nng_http_res_alloc_error(&res, NNG_HTTP_STATUS_INTERNAL_SERVER_ERROR) != 0)
            res = NULL;
        sk_log_notice("req method=%s http=500 us=%llu", method,
                      (unsigned long long)(sk_clock_us() - t0));
        sk_metrics_ocsp_response("http-500", sk_clock_us() - t0);
        goto done;
    }
    if ((rv = nng_http_res_alloc(&res)) != 0) {
        res = NULL;
        goto done;
    }
    nng_http_res_set_status(res, NNG_HTTP_STATUS_OK);
    nng_http_res_set_header(res, "Content-Type", "application/ocsp-response");
    if (is_get && status == SK_OCSP_SUCCESSFUL) {
        char v[128], d[64];
        uint32_t validity = h->cfg.validity_secs;
        uint32_t max_age = h->cfg.max_age_secs < validity ? h->cfg.max_age_secs : validity;
        snprintf(v, sizeof v, "max-age=%u, public, no-transform, must-revalidate", max_age);
        nng_http_res_set_header(res, "Cache-Control", v);
        sk_http_date(d, sizeof d, now);
        nng_http_res_set_header(res, "Last-Modified", d);
        sk_http_date(d, sizeof d, now + validity);
        nng_http_res_set_header(res, "Expires", d);
        uint8_t hash[32];
        if (sk_digest(hash, sizeof hash, SK_HASH_SHA256, resp, resp_len) == SK_OK) {
            v[0] = '"';
            for (size_t i = 0; i < 16; i++)
                snprintf(v + 1 + 2 * i, 3, "%02x", hash[i]);
            v[33] = '"';
            v[34] = '\0';
            nng_http_res_set_header(res, "ETag", v);
        }
    } else {
        nng_http_res_set_header(res, "Cache-Control", "no-store");
    }
    if (nng_http_res_copy_data(res, resp, resp_len) != 0) {
        nng_http_res_free(res);
        res = NULL;
        if (nng_http_res_alloc_error(&res, NNG_HTTP_STATUS_INTERNAL_SERVER_ERROR) != 0)
            res = NULL;
    }
    sk_log_notice("req method=%s http=200 ocsp=%s cert=%s bytes=%zu us=%llu", method,
                  status_name(status), state_name(&lr), resp_len,
                  (unsigned long long)(sk_clock_us() - t0));
    sk_metrics_ocsp_response(status_name(status), sk_clock_us() - t0);
done:
    free(get_der);
    free(resp);
    if (res != NULL) {
        /* RFC 9110 6.6.1: an origin server with a clock sends Date */
        char date[64];
        sk_http_date(date, sizeof date, (int64_t)time(NULL));
        if (nng_http_res_set_header(res, "Date", date) != 0) {
            nng_http_res_free(res);
            res = NULL;
        }
    }
    if (res == NULL) {
        nng_aio_finish(aio, NNG_ENOMEM);
        return;
    }
    nng_aio_set_output(aio, 0, res);
    nng_aio_finish(aio, 0);
}

int ocsp_http_start(ocsp_http **out, const ocsp_http_config *cfg)
{
    *out = NULL;
    ocsp_http *h = calloc(1, sizeof *h);
    if (h == NULL)
        return SK_ERR_NOMEM;
    h->cfg = *cfg;
    pthread_mutex_init(&h->sign_mu, NULL);
    int rc = sk_http_listen(&h->server, &h->port, cfg->host, cfg->port, handle, h,
                            cfg->max_request, NULL);
    if (rc != SK_OK) {
        pthread_mutex_destroy(&h->sign_mu);
        free(h);
        return rc;
    }
    *out = h;
    return SK_OK;
}

unsigned ocsp_http_port(const ocsp_http *h) { return h->port; }

void ocsp_http_with_signing_lock(ocsp_http *h, void (*fn)(void *ctx), void *ctx)
{
    pthread_mutex_lock(&h->sign_mu);
    fn(ctx);
    pthread_mutex_unlock(&h->sign_mu);
}

void ocsp_http_stop(ocsp_http *h)
{
    if (h == NULL)
        return;
    sk_http_unlisten(h->server);
    pthread_mutex_destroy(&h->sign_mu);
    free(h);
}
