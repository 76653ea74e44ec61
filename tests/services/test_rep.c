/* SPDX-License-Identifier: Apache-2.0 */
/* test_rep.c - the REP server loop and the REQ client: concurrent clients,
 * requests in flight at once, oversized and failed requests. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "error_reply.h"
#include "log.h"
#include "rep_server.h"
#include "req_client.h"
#include "splitkey/splitkey.h"
#include "svc_error.h"
#include "testutil.h"

/* ------------------------------------------------------------ handlers */

static atomic_int echo_calls;

static int echo(void *ctx, const uint8_t *req, size_t req_len, uint8_t **reply,
                size_t *reply_len)
{
    (void)ctx;
    atomic_fetch_add(&echo_calls, 1);
    if (req_len >= 4 && memcmp(req, "FAIL", 4) == 0)
        return SK_ERR_WRONG_PIN; /* no reply: the loop sends the error frame */
    if (req_len >= 4 && memcmp(req, "OWNE", 4) == 0) {
        *reply = malloc(3);
        memcpy(*reply, "own", 3);
        *reply_len = 3;
        return SK_ERR_LOCKED; /* its own error message */
    }
    *reply = malloc(req_len ? req_len : 1);
    if (*reply == NULL)
        return SK_ERR_NOMEM;
    memcpy(*reply, req, req_len);
    *reply_len = req_len;
    return SK_OK;
}

/* Blocks until `want` calls are inside at the same time. */
struct gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int inside, want, max_inside;
};

static int gated(void *ctx, const uint8_t *req, size_t req_len, uint8_t **reply,
                 size_t *reply_len)
{
    struct gate *g = ctx;
    pthread_mutex_lock(&g->mu);
    g->inside++;
    if (g->inside > g->max_inside)
        g->max_inside = g->inside;
    pthread_cond_broadcast(&g->cv);
    while (g->max_inside < g->want)
        pthread_cond_wait(&g->cv, &g->mu);
    g->inside--;
    pthread_mutex_unlock(&g->mu);
    return echo(NULL, req, req_len, reply, reply_len);
}

/* ------------------------------------------------------------- clients */

struct client {
    const char *url;
    int id, requests, errors, mismatches;
};

static void *client_main(void *arg)
{
    struct client *c = arg;
    sk_req_client *rq;
    if (sk_req_client_open(&rq, c->url, 30000, 0) != SK_OK) {
        c->errors = c->requests;
        return NULL;
    }
    for (int i = 0; i < c->requests; i++) {
        uint8_t msg[96];
        size_t len = 16 + (size_t)(i % 80);
        snprintf((char *)msg, 16, "c%02d r%04d", c->id, i);
        randombytes_buf(msg + 16, len - 16);
        uint8_t *rep = NULL;
        size_t rl = 0;
        if (sk_req_client_call(rq, &rep, &rl, msg, len) != SK_OK)
            c->errors++;
        else if (rl != len || memcmp(rep, msg, len) != 0)
            c->mismatches++;
        free(rep);
    }
    sk_req_client_close(rq);
    return NULL;
}

static void test_concurrent_echo(void)
{
    sk_rep_server *srv;
    sk_rep_config cfg = {.url = "tcp://127.0.0.1:0", .workers = 4, .handler = echo};
    CHECK_OK(sk_rep_server_start(&srv, &cfg));
    char url[256];
    CHECK_OK(sk_rep_server_url(srv, url, sizeof url));
    CHECK(strcmp(url, "tcp://127.0.0.1:0") != 0); /* a real port was bound */
    atomic_store(&echo_calls, 0);

    enum { CLIENTS = 8, REQUESTS = 200 };
    struct client cl[CLIENTS];
    pthread_t th[CLIENTS];
    for (int i = 0; i < CLIENTS; i++) {
        cl[i] = (struct client){.url = url, .id = i, .requests = REQUESTS};
        pthread_create(&th[i], NULL, client_main, &cl[i]);
    }
    int errors = 0, mismatches = 0;
    for (int i = 0; i < CLIENTS; i++) {
        pthread_join(th[i], NULL);
        errors += cl[i].errors;
        mismatches += cl[i].mismatches;
    }
    CHECK(errors == 0);
    CHECK(mismatches == 0);
    CHECK(atomic_load(&echo_calls) == CLIENTS * REQUESTS);
    sk_rep_server_stop(srv);
}

static void test_in_flight(void)
{
    /* four requests must be inside the handler at once, or none returns */
    struct gate g = {.want = 4};
    pthread_mutex_init(&g.mu, NULL);
    pthread_cond_init(&g.cv, NULL);
    sk_rep_server *srv;
    sk_rep_config cfg = {.url = "inproc://sk-test-in-flight", .workers = 4, .handler = gated,
                         .ctx = &g};
    CHECK_OK(sk_rep_server_start(&srv, &cfg));
    CHECK(sk_rep_server_workers(srv) == 4);
    struct client cl[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        cl[i] = (struct client){.url = "inproc://sk-test-in-flight", .id = i, .requests = 1};
        pthread_create(&th[i], NULL, client_main, &cl[i]);
    }
    int errors = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        errors += cl[i].errors + cl[i].mismatches;
    }
    CHECK(errors == 0);
    CHECK(g.max_inside == 4);
    sk_rep_server_stop(srv);
}

static int call_code(sk_req_client *c, const uint8_t *msg, size_t len, int *code)
{
    uint8_t *rep;
    size_t rl;
    int rc = sk_req_client_call(c, &rep, &rl, msg, len);
    if (rc != SK_OK)
        return rc;
    *code = 0;
    if (sk_error_reply_decode(code, rep, rl) != SK_OK)
        *code = 1; /* not an error frame */
    free(rep);
    return SK_OK;
}

static void test_errors_and_limits(void)
{
    sk_rep_server *srv;
    sk_rep_config cfg = {.url = "tcp://127.0.0.1:0", .workers = 2, .handler = echo,
                         .max_request = 1024, .log_requests = 1};
    CHECK_OK(sk_rep_server_start(&srv, &cfg));
    char url[256];
    CHECK_OK(sk_rep_server_url(srv, url, sizeof url));
    sk_req_client *c;
    CHECK_OK(sk_req_client_open(&c, url, 30000, 0));
    int code = 0;
    static uint8_t big[1025];
    memset(big, 'B', sizeof big);

    atomic_store(&echo_calls, 0);
    CHECK_OK(call_code(c, big, sizeof big, &code));
    CHECK(code == SK_ERR_LIMIT);
    CHECK(atomic_load(&echo_calls) == 0); /* the handler never saw it */
    CHECK_OK(call_code(c, big, 1024, &code));
    CHECK(code == 1);
    CHECK_OK(call_code(c, (const uint8_t *)"FAIL", 4, &code));
    CHECK(code == SK_ERR_WRONG_PIN);
    uint8_t *rep;
    size_t rl;
    CHECK_OK(sk_req_client_call(c, &rep, &rl, (const uint8_t *)"OWNE", 4));
    CHECK(rl == 3 && memcmp(rep, "own", 3) == 0);
    free(rep);
    CHECK_OK(sk_req_client_call(c, &rep, &rl, NULL, 0)); /* empty request, empty echo */
    CHECK(rl == 0);
    free(rep);

    /* far beyond the transport limit: nng drops that connection; the
     * server keeps serving everyone else */
    sk_req_client *c2;
    CHECK_OK(sk_req_client_open(&c2, url, 500, 0));
    static uint8_t huge[1024 * SK_REP_TRANSPORT_FACTOR + 1];
    CHECK(sk_req_client_call(c2, &rep, &rl, huge, sizeof huge) != SK_OK);
    sk_req_client_close(c2);
    CHECK_OK(call_code(c, (const uint8_t *)"still here", 10, &code));
    CHECK(code == 1);
    sk_req_client_close(c);
    sk_rep_server_stop(srv);

    /* error frames */
    uint8_t *f;
    size_t fl;
    CHECK_OK(sk_error_reply_encode(&f, &fl, SK_ERR_PROTO_DECODE));
    CHECK_OK(sk_error_reply_decode(&code, f, fl));
    CHECK(code == SK_ERR_PROTO_DECODE);
    CHECK_RC(SK_ERR_PROTO_DECODE, sk_error_reply_decode(&code, f, fl - 1));
    f[0] = 'X';
    CHECK_RC(SK_ERR_PROTO_DECODE, sk_error_reply_decode(&code, f, fl));
    free(f);
}

static void test_client_errors(void)
{
    sk_req_client *c;
    CHECK_RC(SK_SVC_ERR_CONFIG, sk_req_client_open(&c, "nonsense", 100, 0));
    CHECK_RC(SK_SVC_ERR_CONFIG, sk_req_client_open(&c, "http://127.0.0.1:1", 100, 0));
    /* nobody listens: the call times out instead of hanging */
    CHECK_OK(sk_req_client_open(&c, "inproc://sk-test-nobody", 200, 0));
    uint8_t *rep;
    size_t rl;
    CHECK_RC(SK_SVC_ERR_TIMEOUT, sk_req_client_call(c, &rep, &rl, (const uint8_t *)"x", 1));
    CHECK(rep == NULL && rl == 0);
    sk_req_client_close(c);
    /* a listener on a taken address fails cleanly */
    sk_rep_server *a, *b;
    sk_rep_config cfg = {.url = "inproc://sk-test-taken", .workers = 1, .handler = echo};
    CHECK_OK(sk_rep_server_start(&a, &cfg));
    CHECK(sk_rep_server_start(&b, &cfg) != SK_OK);
    sk_rep_server_stop(a);
}

int main(void)
{
    sk_test_init();
    sk_log_init("test_svc_rep");
    test_concurrent_echo();
    test_in_flight();
    test_errors_and_limits();
    test_client_errors();
    return sk_test_done("test_svc_rep");
}
