/* SPDX-License-Identifier: Apache-2.0 */
/* http_listen.c - the services' HTTP listeners and HTTP dates (http_listen.h). */
#define _POSIX_C_SOURCE 200809L
#include "http_listen.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>

#include "splitkey/splitkey.h"
#include "svc_error.h"

bool sk_parse_hostport(char *host, size_t cap, unsigned *port, const char *text)
{
    const char *colon = strrchr(text, ':');
    if (colon == NULL || colon == text || (size_t)(colon - text) >= cap || colon[1] == '\0')
        return false;
    char *end;
    unsigned long p = strtoul(colon + 1, &end, 10);
    if (*end != '\0' || p > 65535)
        return false;
    memcpy(host, text, (size_t)(colon - text));
    host[colon - text] = '\0';
    if (strpbrk(host, "/ []") != NULL)
        return false;
    *port = (unsigned)p;
    return true;
}

static int failed(sk_http_failure *why, sk_http_step step, int nng_rv, int rc)
{
    if (why != NULL) {
        why->step = step;
        why->nng_rv = nng_rv;
    }
    return rc;
}

int sk_http_listen(nng_http_server **server, unsigned *bound_port, const char *host,
                   unsigned port, void (*handle)(nng_aio *), void *data, size_t max_body,
                   sk_http_failure *why)
{
    *server = NULL;
    char url[300];
    snprintf(url, sizeof url, "http://%s:%u", host, port);
    nng_url *u = NULL;
    nng_http_server *srv = NULL;
    nng_http_handler *hd = NULL;
    int rv = nng_url_parse(&u, url);
    if (rv != 0)
        return failed(why, SK_HTTP_STEP_URL, 0, SK_SVC_ERR_CONFIG);
    int rc;
    if ((rv = nng_http_server_hold(&srv, u)) != 0 ||
        (rv = nng_http_handler_alloc(&hd, "/", handle)) != 0 ||
        (rv = nng_http_handler_set_method(hd, NULL)) != 0 ||
        (rv = nng_http_handler_set_tree(hd)) != 0 ||
        (max_body > 0 && (rv = nng_http_handler_collect_body(hd, true, max_body)) != 0) ||
        (rv = nng_http_handler_set_data(hd, data, NULL)) != 0) {
        rc = failed(why, SK_HTTP_STEP_SERVER, rv, SK_SVC_ERR_TRANSPORT);
        goto fail;
    }
    if ((rv = nng_http_server_add_handler(srv, hd)) != 0) {
        rc = failed(why, SK_HTTP_STEP_ADD, rv, SK_SVC_ERR_TRANSPORT);
        goto fail;
    }
    hd = NULL; /* the server's now */
    if ((rv = nng_http_server_start(srv)) != 0) {
        rc = failed(why, SK_HTTP_STEP_START, rv,
                    rv == NNG_EADDRINVAL ? SK_SVC_ERR_CONFIG : SK_SVC_ERR_TRANSPORT);
        goto fail;
    }
    nng_sockaddr sa;
    *bound_port = port;
    if (nng_http_server_get_addr(srv, &sa) == 0) {
        if (sa.s_family == NNG_AF_INET)
            *bound_port = ntohs(sa.s_in.sa_port);
        else if (sa.s_family == NNG_AF_INET6)
            *bound_port = ntohs(sa.s_in6.sa_port);
    }
    nng_url_free(u);
    *server = srv;
    return SK_OK;
fail:
    if (hd != NULL)
        nng_http_handler_free(hd);
    if (srv != NULL)
        nng_http_server_release(srv);
    nng_url_free(u);
    return rc;
}

void sk_http_listen_error(char *err, size_t err_len, const char *flag, const char *value,
                          const char *bad_url, const sk_http_failure *why)
{
    if (why->step == SK_HTTP_STEP_URL)
        snprintf(err, err_len, "%s %s: %s", flag, value, bad_url);
    else
        snprintf(err, err_len, "%s %s: %s%s", flag, value,
                 why->step == SK_HTTP_STEP_START ? "cannot listen: " : "",
                 nng_strerror(why->nng_rv));
}

void sk_http_unlisten(nng_http_server *server)
{
    if (server == NULL)
        return;
    nng_http_server_stop(server);
    nng_http_server_release(server);
}

void sk_http_date(char *out, size_t cap, int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    snprintf(out, cap, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday], tm.tm_mday,
             months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}
