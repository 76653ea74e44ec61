/* SPDX-License-Identifier: Apache-2.0 */
/* rep_server.c - REP socket, one context + aio per worker thread, and the
 * connection guard (connguard.h) on its pipes. */
#define _POSIX_C_SOURCE 200809L
#include "rep_server.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>

#include "connguard.h"
#include "error_reply.h"
#include "log.h"
#include "splitkey/splitkey.h"
#include "svc_error.h"

struct worker {
    struct sk_rep_server *srv;
    nng_ctx ctx;
    nng_aio *aio;
    pthread_t thread;
    bool started;
    /* Shutdown handshake: a receive is started, and `receiving` set, only
     * under `mu` and only while the server is not stopping; the stopper
     * cancels under the same lock.  So a worker is either seen blocked in
     * a receive (and cancelled) or sees `stopping` before it starts one. */
    pthread_mutex_t mu;
    bool mu_ready;
    bool receiving;
};

struct sk_rep_server {
    nng_socket sock;
    nng_listener listener;
    sk_connguard *guard;
    sk_rep_config cfg;
    unsigned nworkers;
    struct worker *workers;
    atomic_bool stopping;
    char url[256];
    /* the guard's sweeper thread's own once started (relisten) */
    bool listening;       /* listener is open */
    bool relisten_logged; /* a failure to listen again was logged */
};

/* The connection of the request this thread is serving (sk_rep_note_once). */
static _Thread_local struct {
    sk_connguard *guard;
    nng_pipe pipe;
    bool set;
} serving;

bool sk_rep_note_once(void)
{
    if (!serving.set)
        return true;
    return sk_connguard_note_once(serving.guard, serving.pipe);
}

static void wipe_free(uint8_t *p, size_t len)
{
    if (p == NULL)
        return;
    sk_wipe(p, len);
    free(p);
}

/* Runs the handler (or refuses an oversized request) and leaves the reply in
 * *reply, always non-NULL unless out of memory. */
static void serve_one(struct sk_rep_server *srv, const uint8_t *req, size_t req_len,
                      uint8_t **reply, size_t *reply_len)
{
    int rc;
    *reply = NULL;
    *reply_len = 0;
    if (req_len > srv->cfg.max_request) {
        rc = SK_ERR_LIMIT;
    } else {
        rc = srv->cfg.handler(srv->cfg.ctx, req, req_len, reply, reply_len);
        if (rc == SK_OK && *reply == NULL && *reply_len != 0)
            rc = SK_ERR_INTERNAL; /* a handler bug: a length without a buffer */
    }
    if (rc != SK_OK && *reply == NULL) {
        if (sk_error_reply_encode(reply, reply_len, rc) != SK_OK) {
            *reply = NULL;
            *reply_len = 0;
        }
    }
    /* counted always (metrics.h), logged if asked */
    sk_reqlog_finish(rc, srv->cfg.log_requests);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct sk_rep_server *srv = w->srv;
    for (;;) {
        pthread_mutex_lock(&w->mu);
        if (atomic_load(&srv->stopping)) {
            pthread_mutex_unlock(&w->mu);
            break;
        }
        w->receiving = true;
        nng_ctx_recv(w->ctx, w->aio);
        pthread_mutex_unlock(&w->mu);
        nng_aio_wait(w->aio);
        pthread_mutex_lock(&w->mu);
        w->receiving = false;
        pthread_mutex_unlock(&w->mu);
        int rv = nng_aio_result(w->aio);
        if (rv == NNG_ECLOSED || (rv != 0 && atomic_load(&srv->stopping)))
            break;
        if (rv != 0)
            continue; /* a transient receive failure: keep serving */
        nng_msg *msg = nng_aio_get_msg(w->aio);
        nng_aio_set_msg(w->aio, NULL);
        nng_pipe from = nng_msg_get_pipe(msg); /* the connection it came on */
        sk_connguard_request(srv->guard, from);

        sk_reqlog_begin();
        uint8_t *reply = NULL;
        size_t reply_len = 0;
        serving.guard = srv->guard;
        serving.pipe = from;
        serving.set = true;
        serve_one(srv, nng_msg_body(msg), nng_msg_len(msg), &reply, &reply_len);
        serving.set = false;

        /* Reuse the message so its header (the route back) stays intact. */
        sk_wipe(nng_msg_body(msg), nng_msg_len(msg));
        nng_msg_clear(msg);
        if (reply == NULL || nng_msg_append(msg, reply, reply_len) != 0) {
            /* out of memory: nothing sensible to send; the client times out */
            wipe_free(reply, reply_len);
            nng_msg_free(msg);
            sk_connguard_reply(srv->guard, from);
            continue;
        }
        wipe_free(reply, reply_len);
        nng_aio_set_msg(w->aio, msg);
        nng_ctx_send(w->ctx, w->aio);
        nng_aio_wait(w->aio);
        rv = nng_aio_result(w->aio);
        sk_connguard_reply(srv->guard, from);
        if (rv != 0) {
            /* on failure the message is still ours */
            nng_msg *m = nng_aio_get_msg(w->aio);
            if (m != NULL) {
                sk_wipe(nng_msg_body(m), nng_msg_len(m));
                nng_msg_free(m);
            }
            nng_aio_set_msg(w->aio, NULL);
            if (rv == NNG_ECLOSED)
                break;
        }
    }
    return NULL;
}

/* Stops every started worker: no new receive starts, receives in progress
 * are cancelled, a worker inside the handler sends its reply first.  Only
 * then may the caller close the socket: a context must not be used after
 * its socket is closed. */
static void stop_workers(struct sk_rep_server *srv)
{
    atomic_store(&srv->stopping, true);
    for (unsigned i = 0; i < srv->nworkers; i++) {
        struct worker *w = &srv->workers[i];
        if (!w->mu_ready)
            continue;
        pthread_mutex_lock(&w->mu);
        if (w->receiving)
            nng_aio_cancel(w->aio);
        pthread_mutex_unlock(&w->mu);
    }
    for (unsigned i = 0; i < srv->nworkers; i++) {
        struct worker *w = &srv->workers[i];
        if (w->started)
            pthread_join(w->thread, NULL);
        w->started = false;
    }
}

static void free_workers(struct sk_rep_server *srv)
{
    for (unsigned i = 0; i < srv->nworkers; i++) {
        struct worker *w = &srv->workers[i];
        if (w->aio != NULL)
            nng_aio_free(w->aio);
        if (w->mu_ready)
            pthread_mutex_destroy(&w->mu);
    }
    free(srv->workers);
}

static unsigned default_workers(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1u : n > 64 ? 64u : (unsigned)n;
}

/* Records the bound URL; for TCP with port 0 substitutes the chosen port. */
static void record_url(struct sk_rep_server *srv)
{
    snprintf(srv->url, sizeof srv->url, "%s", srv->cfg.url);
    if (strncmp(srv->cfg.url, "tcp", 3) != 0)
        return;
    int port = 0;
    if (nng_listener_get_int(srv->listener, NNG_OPT_TCP_BOUND_PORT, &port) != 0)
        return;
    nng_url *u = NULL;
    if (nng_url_parse(&u, srv->cfg.url) != 0)
        return;
    const char *host = u->u_hostname ? u->u_hostname : "";
    if (strchr(host, ':') != NULL)
        snprintf(srv->url, sizeof srv->url, "%s://[%s]:%d", u->u_scheme, host, port);
    else
        snprintf(srv->url, sizeof srv->url, "%s://%s:%d", u->u_scheme, host, port);
    nng_url_free(u);
}

/* The guard's recover hook (connguard.h), on its sweeper thread, after the
 * process was short of descriptors for a while: closes the listener - and
 * with it the connections still in the SP handshake, which nng may keep
 * for good after a flood of them, as well as the ones it accepted - and
 * listens again on the bound address.  Until that succeeds (the new
 * listening socket needs a descriptor the old connections free once
 * closed) it returns nonzero and is called again at the next tick. */
static int relisten(void *arg)
{
    struct sk_rep_server *srv = arg;
    if (srv->listening) {
        nng_listener_close(srv->listener);
        srv->listening = false;
        srv->relisten_logged = false;
    }
    nng_listener l;
    int rv = nng_listener_create(&l, srv->sock, srv->url);
    if (rv == 0 && (rv = nng_listener_start(l, 0)) != 0)
        nng_listener_close(l);
    if (rv != 0) {
        if (!srv->relisten_logged)
            sk_log_error("cannot listen again on %s yet (%s); retrying", srv->url,
                         nng_strerror(rv));
        srv->relisten_logged = true;
        return rv;
    }
    srv->listener = l;
    srv->listening = true;
    sk_log_notice("listening again on %s", srv->url);
    return 0;
}

int sk_rep_server_start(sk_rep_server **out, const sk_rep_config *cfg)
{
    if (out == NULL || cfg == NULL || cfg->url == NULL || cfg->handler == NULL)
        return SK_ERR_ARG;
    *out = NULL;
    struct sk_rep_server *srv = calloc(1, sizeof *srv);
    if (srv == NULL)
        return SK_ERR_NOMEM;
    srv->cfg = *cfg;
    if (srv->cfg.max_request == 0)
        srv->cfg.max_request = SK_REP_DEFAULT_MAX_REQUEST;
    srv->nworkers = cfg->workers ? cfg->workers : default_workers();
    atomic_init(&srv->stopping, false);
    int rc = SK_SVC_ERR_TRANSPORT, rv;
    bool sock_open = false;

    srv->workers = calloc(srv->nworkers, sizeof *srv->workers);
    if (srv->workers == NULL) {
        rc = SK_ERR_NOMEM;
        goto fail;
    }
    if (nng_rep0_open(&srv->sock) != 0)
        goto fail;
    sock_open = true;
    size_t transport_max = srv->cfg.max_request * SK_REP_TRANSPORT_FACTOR;
    if (transport_max / SK_REP_TRANSPORT_FACTOR != srv->cfg.max_request)
        transport_max = srv->cfg.max_request;
    if (nng_socket_set_size(srv->sock, NNG_OPT_RECVMAXSZ, transport_max) != 0)
        goto fail;
    /* the pipe notifications must be in place before the listener starts */
    sk_connguard_config gcfg = {.max_conns = cfg->max_conns,
                                .max_conns_per_peer = cfg->max_conns_per_peer,
                                .idle_seconds = cfg->idle_seconds,
                                .recover = relisten,
                                .recover_arg = srv};
    rv = sk_connguard_new(&srv->guard, srv->sock, &gcfg);
    if (rv != SK_OK) {
        rc = rv;
        goto fail;
    }
    for (unsigned i = 0; i < srv->nworkers; i++) {
        struct worker *w = &srv->workers[i];
        w->srv = srv;
        if (pthread_mutex_init(&w->mu, NULL) != 0)
            goto fail;
        w->mu_ready = true;
        if (nng_ctx_open(&w->ctx, srv->sock) != 0 || nng_aio_alloc(&w->aio, NULL, NULL) != 0)
            goto fail;
    }
    rv = nng_listener_create(&srv->listener, srv->sock, srv->cfg.url);
    if (rv != 0) {
        rc = (rv == NNG_EADDRINVAL || rv == NNG_ENOTSUP || rv == NNG_EINVAL) ? SK_SVC_ERR_CONFIG
                                                                            : SK_SVC_ERR_TRANSPORT;
        goto fail;
    }
    rv = nng_listener_start(srv->listener, 0);
    if (rv != 0) {
        rc = rv == NNG_EADDRINVAL ? SK_SVC_ERR_CONFIG : SK_SVC_ERR_TRANSPORT;
        goto fail;
    }
    srv->listening = true;
    record_url(srv);
    if (sk_connguard_start(srv->guard) != SK_OK) {
        rc = SK_ERR_NOMEM;
        goto fail;
    }
    for (unsigned i = 0; i < srv->nworkers; i++) {
        struct worker *w = &srv->workers[i];
        if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
            rc = SK_ERR_NOMEM;
            goto fail;
        }
        w->started = true;
    }
    *out = srv;
    return SK_OK;

fail:
    if (srv->workers != NULL)
        stop_workers(srv);
    sk_connguard_stop(srv->guard);
    if (sock_open)
        nng_close(srv->sock); /* returns once every pipe notification has run */
    sk_connguard_free(srv->guard);
    if (srv->workers != NULL)
        free_workers(srv);
    free(srv);
    return rc;
}

int sk_rep_server_url(const sk_rep_server *srv, char *out, size_t cap)
{
    size_t n = strlen(srv->url);
    if (n + 1 > cap)
        return SK_ERR_BUFFER_TOO_SMALL;
    memcpy(out, srv->url, n + 1);
    return SK_OK;
}

unsigned sk_rep_server_workers(const sk_rep_server *srv) { return srv->nworkers; }

void sk_rep_server_conn_limits(const sk_rep_server *srv, unsigned *max_conns,
                               unsigned *max_conns_per_peer, unsigned *idle_seconds)
{
    sk_connguard_limits(srv->guard, max_conns, max_conns_per_peer, idle_seconds);
}

void sk_rep_server_stop(sk_rep_server *srv)
{
    if (srv == NULL)
        return;
    stop_workers(srv);
    sk_connguard_stop(srv->guard); /* no pipe is closed by the sweeper after this */
    nng_close(srv->sock);          /* returns once every pipe notification has run */
    sk_connguard_free(srv->guard);
    free_workers(srv);
    free(srv);
}
