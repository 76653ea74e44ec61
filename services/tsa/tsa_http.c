/* SPDX-License-Identifier: Apache-2.0 */
/* tsa_http.c - RFC 3161 time stamps over HTTP on nng's HTTP server. */
#define _POSIX_C_SOURCE 200809L
#include "tsa_http.h"

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
#include "splitkey/splitkey.h"
#include "svc_error.h"

#define TSA_RESPONSE_CAP (16u * 1024u)
#define QUERY_TYPE "application/timestamp-query"

struct tsa_http {
    tsa_http_config cfg;
    nng_http_server *server;
    pthread_mutex_t sign_mu; /* one signature with the TSA key at a time */
    unsigned port;
};

/* "application/timestamp-query", optionally followed by parameters. */
static bool query_type(const char *ct)
{
    size_t n = strlen(QUERY_TYPE);
    if (ct == NULL || strncasecmp(ct, QUERY_TYPE, n) != 0)
        return false;
    return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ';
}

static const char *fail_name(uint32_t fail)
{
    switch (fail) {
    case 0: return "-";
    case SK_TSA_FAIL_BAD_ALG: return "badAlg";
    case SK_TSA_FAIL_BAD_REQUEST: return "badRequest";
    case SK_TSA_FAIL_BAD_DATA_FORMAT: return "badDataFormat";
    case SK_TSA_FAIL_UNACCEPTED_POLICY: return "unacceptedPolicy";
    case SK_TSA_FAIL_UNACCEPTED_EXTENSION: return "unacceptedExtension";
    case SK_TSA_FAIL_SYSTEM_FAILURE: return "systemFailure";
    default: return "?";
    }
}

static int respond(tsa_http *h, uint8_t **out, size_t *out_len, sk_tsa_result *res,
                   const uint8_t *der, size_t der_len)
{
    size_t cap = TSA_RESPONSE_CAP, w = 0;
    *out = NULL;
    for (int attempt = 0; attempt < 2; attempt++) {
        uint8_t *buf = malloc(cap);
        if (buf == NULL)
            return SK_ERR_NOMEM;
        pthread_mutex_lock(&h->sign_mu);
        int rc = sk_tsa_respond(h->cfg.tsa, buf, cap, &w, res, der, der_len,
                                (int64_t)time(NULL), NULL);
        pthread_mutex_unlock(&h->sign_mu);
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

static void log_http(const char *method, int status, uint64_t t0)
{
    sk_log_notice("req method=%s http=%d us=%llu", method, status,
                  (unsigned long long)(sk_clock_us() - t0));
}

static void handle(nng_aio *aio)
{
    uint64_t t0 = sk_clock_us();
    nng_http_req *req = nng_aio_get_input(aio, 0);
    nng_http_handler *hd = nng_aio_get_input(aio, 1);
    tsa_http *h = nng_http_handler_get_data(hd);
    const char *method = nng_http_req_get_method(req);
    nng_http_res *res = NULL;
    uint8_t *resp = NULL;
    size_t resp_len = 0;
    sk_tsa_result r;

    if (strcmp(method, "POST") != 0) {
        if (nng_http_res_alloc_error(&res, NNG_HTTP_STATUS_METHOD_NOT_ALLOWED) == 0)
            nng_http_res_set_header(res, "Allow", "POST");
        log_http(method, 405, t0);
        goto done;
    }
    if (!query_type(nng_http_req_get_header(req, "Content-Type"))) {
        nng_http_res_alloc_error(&res, NNG_HTTP_STATUS_UNSUPPORTED_MEDIA_TYPE);
        log_http(method, 415, t0);
        goto done;
    }
    void *body = NULL;
    size_t blen = 0;
    nng_http_req_get_data(req, &body, &blen);
    if (blen == 0 || blen > h->cfg.max_request) {
        nng_http_res_alloc_error(&res, NNG_HTTP_STATUS_BAD_REQUEST);
        log_http(method, 400, t0);
        goto done;
    }
    if (respond(h, &resp, &resp_len, &r, body, blen) != SK_OK) {
        nng_http_res_alloc_error(&res, NNG_HTTP_STATUS_INTERNAL_SERVER_ERROR);
        log_http(method, 500, t0);
        goto done;
    }
    if (nng_http_res_alloc(&res) != 0) {
        res = NULL;
        goto done;
    }
    nng_http_res_set_status(res, NNG_HTTP_STATUS_OK);
    nng_http_res_set_header(res, "Content-Type", "application/timestamp-reply");
    nng_http_res_set_header(res, "Cache-Control", "no-store");
    if (nng_http_res_copy_data(res, resp, resp_len) != 0) {
        nng_http_res_free(res);
        res = NULL;
        nng_http_res_alloc_error(&res, NNG_HTTP_STATUS_INTERNAL_SERVER_ERROR);
    }
    char serial[2 * SK_SERIAL_MAX_LEN + 1] = "-";
    if (r.status == SK_TSA_GRANTED && sk_serial_to_hex(serial, sizeof serial, &r.serial) != SK_OK)
        snprintf(serial, sizeof serial, "?");
    const char *hash = r.hash != 0 ? sk_hash_name(r.hash) : NULL;
    sk_log_notice("req method=POST http=200 status=%s fail=%s hash=%s nonce=%s serial=%s "
                  "bytes=%zu us=%llu",
                  r.status == SK_TSA_GRANTED ? "granted" : "rejection", fail_name(r.fail_info),
                  hash != NULL ? hash : "-", r.nonce ? "yes" : "no", serial, resp_len,
                  (unsigned long long)(sk_clock_us() - t0));
done:
    free(resp);
    if (res == NULL) {
        nng_aio_finish(aio, NNG_ENOMEM);
        return;
    }
    nng_aio_set_output(aio, 0, res);
    nng_aio_finish(aio, 0);
}

int tsa_http_start(tsa_http **out, const tsa_http_config *cfg)
{
    *out = NULL;
    tsa_http *h = calloc(1, sizeof *h);
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

unsigned tsa_http_port(const tsa_http *h) { return h->port; }

void tsa_http_stop(tsa_http *h)
{
    if (h == NULL)
        return;
    sk_http_unlisten(h->server);
    pthread_mutex_destroy(&h->sign_mu);
    free(h);
}
