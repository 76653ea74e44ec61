/* SPDX-License-Identifier: Apache-2.0 */
/* test_metrics.c - metrics.h in one process: the primitives, the text
 * exposition (escaping, cumulative buckets, sums), requests counted from the
 * per-request record of log.h (also when no line is written), the checks of
 * a --metrics-listen address, and the listener itself (paths, methods,
 * /health and its 503 answers) through nng's HTTP client. */
#define _POSIX_C_SOURCE 200809L
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/supplemental/http/http.h>

#include "log.h"
#include "metrics.h"
#include "splitkey/splitkey.h"
#include "svc_error.h"
#include "testutil.h"

static bool contains(const char *text, const char *needle)
{
    return text != NULL && strstr(text, needle) != NULL;
}

static void test_primitives(void)
{
    sk_counter c = {0};
    sk_counter_add(&c, 2);
    sk_counter_add(&c, 3);
    CHECK(sk_counter_get(&c) == 5);
    sk_gauge g = {0};
    sk_gauge_set(&g, 7);
    sk_gauge_add(&g, -9);
    CHECK(sk_gauge_get(&g) == -2);

    sk_histogram h;
    memset(&h, 0, sizeof h);
    sk_histogram_observe_us(&h, 0);
    sk_histogram_observe_us(&h, 500);      /* le 0.0005: bounds are inclusive */
    sk_histogram_observe_us(&h, 501);      /* le 0.001 */
    sk_histogram_observe_us(&h, 20000000); /* +Inf */
    CHECK(sk_histogram_count(&h) == 4);
    CHECK(atomic_load(&h.bucket[0]) == 2);
    CHECK(atomic_load(&h.bucket[1]) == 1);
    CHECK(atomic_load(&h.bucket[SK_HIST_BOUNDS]) == 1);
    CHECK(atomic_load(&h.sum_us) == 20001001);
}

static void test_exposition(void)
{
    sk_expo e = {0};
    sk_expo_family(&e, "t_total", "counter", "a \\ b\nc");
    const char *l[] = {"kind", "a\"b\\c\nd", "x", "y", NULL};
    sk_expo_sample(&e, "t_total", l, "%d", 3);
    sk_expo_sample(&e, "t_total", NULL, "%d", 4);
    sk_histogram h;
    memset(&h, 0, sizeof h);
    sk_histogram_observe_us(&h, 400);
    sk_histogram_observe_us(&h, 3000);
    sk_histogram_observe_us(&h, 20000000);
    const char *hl[] = {"kind", "k", NULL};
    sk_expo_histogram(&e, "t_seconds", hl, &h);
    CHECK(!e.failed && e.buf != NULL);
    CHECK(contains(e.buf, "# HELP t_total a \\\\ b\\nc\n# TYPE t_total counter\n"));
    CHECK(contains(e.buf, "t_total{kind=\"a\\\"b\\\\c\\nd\",x=\"y\"} 3\n"));
    CHECK(contains(e.buf, "\nt_total 4\n"));
    CHECK(contains(e.buf, "t_seconds_bucket{kind=\"k\",le=\"0.0005\"} 1\n"));
    CHECK(contains(e.buf, "t_seconds_bucket{kind=\"k\",le=\"0.0025\"} 1\n"));
    CHECK(contains(e.buf, "t_seconds_bucket{kind=\"k\",le=\"0.005\"} 2\n"));
    CHECK(contains(e.buf, "t_seconds_bucket{kind=\"k\",le=\"10\"} 2\n"));
    CHECK(contains(e.buf, "t_seconds_bucket{kind=\"k\",le=\"+Inf\"} 3\n"));
    CHECK(contains(e.buf, "t_seconds_sum{kind=\"k\"} 20.003400\n"));
    CHECK(contains(e.buf, "t_seconds_count{kind=\"k\"} 3\n"));
    /* every line ends with a newline, and the buckets are cumulative */
    CHECK(e.len > 0 && e.buf[e.len - 1] == '\n');
    unsigned long long last = 0;
    int buckets = 0;
    for (const char *p = strstr(e.buf, "t_seconds_bucket"); p != NULL;
         p = strstr(p + 1, "t_seconds_bucket")) {
        const char *sp = strchr(p, ' ');
        unsigned long long v = strtoull(sp + 1, NULL, 10);
        CHECK(v >= last);
        last = v;
        buckets++;
    }
    CHECK(buckets == SK_HIST_BOUNDS + 1);
    sk_expo_free(&e);
}

static void test_outcomes(void)
{
    CHECK(strcmp(sk_metrics_outcome_name(0), "ok") == 0);
    CHECK(strcmp(sk_metrics_outcome_name(SK_ERR_WRONG_PIN), "wrong_pin") == 0);
    CHECK(strcmp(sk_metrics_outcome_name(SK_ERR_STORE_BUSY), "store_busy") == 0);
    CHECK(strcmp(sk_metrics_outcome_name(SK_SVC_ERR_CONFIG), "config") == 0);
    CHECK(strcmp(sk_metrics_outcome_name(-9999), "other") == 0);
}

/* The whole exposition (the caller frees it). */
static char *render(void)
{
    char *text = NULL;
    size_t len = 0;
    CHECK_OK(sk_metrics_render(&text, &len));
    CHECK(text != NULL && strlen(text) == len);
    return text;
}

static void test_requests(void)
{
    static const char *const results[] = {"ok", "refused_here"};
    sk_metrics_init("test_svc_metrics", SK_METRICS_REQUESTS | SK_METRICS_SHARE);
    sk_metrics_result_names(results, 2);

    /* a request logged and counted, one counted without a line, one with a
     * result of its own protocol, and one outside any record (not counted) */
    sk_reqlog_begin();
    sk_reqlog_kind(SK_REQ_SIGN_SUBMIT);
    sk_reqlog_finish(SK_ERR_WRONG_PIN, 1);
    sk_reqlog_begin();
    sk_reqlog_kind(SK_REQ_SIGN_SUBMIT);
    sk_reqlog_finish(SK_ERR_WRONG_PIN, 0);
    sk_reqlog_begin();
    sk_reqlog_kind(SK_REQ_ISSUE);
    sk_reqlog_result(1);
    sk_reqlog_end(SK_OK);
    sk_reqlog_kind(SK_REQ_REVOKE);
    sk_reqlog_end(SK_OK);
    sk_metrics_wrong_pin();
    sk_metrics_key_destroyed(3);
    sk_metrics_pool_keys("4K", 3);
    sk_metrics_pool_keys("4K", 2);
    sk_metrics_pool_keys("6K", 1);

    char *t = render();
    CHECK(contains(t, "splitkey_requests_total{kind=\"sign-submit\",outcome=\"wrong_pin\"} 2\n"));
    CHECK(contains(t, "splitkey_request_duration_seconds_count{kind=\"sign-submit\"} 2\n"));
    CHECK(contains(t, "splitkey_requests_total{kind=\"issue\",outcome=\"refused_here\"} 1\n"));
    CHECK(!contains(t, "kind=\"revoke\""));
    CHECK(contains(t, "splitkey_build_info{program=\"test_svc_metrics\",version=\""));
    CHECK(contains(t, "# TYPE splitkey_request_duration_seconds histogram\n"));
    CHECK(contains(t, "splitkey_wrong_pins_total 1\n"));
    CHECK(contains(t, "splitkey_keys_destroyed_total{reason=\"clone\"} 1\n"));
    CHECK(contains(t, "splitkey_keys_destroyed_total{reason=\"lockout\"} 0\n"));
    CHECK(contains(t, "splitkey_pool_keys{profile=\"4K\"} 2\n"));
    CHECK(contains(t, "splitkey_pool_keys{profile=\"6K\"} 1\n"));
    CHECK(!contains(t, "splitkey_connections_open")); /* not in the groups */
    CHECK(!contains(t, "splitkey_ocsp_"));
    free(t);

    sk_metrics_init("test_svc_metrics", SK_METRICS_OCSP | SK_METRICS_CONNS);
    sk_metrics_ocsp_response("successful", 100);
    sk_metrics_ocsp_response("no-such-status", 100);
    sk_metrics_conns_open(2);
    sk_metrics_conns_open(-1);
    sk_metrics_conn(SK_METRICS_CONN_REFUSED_PEER, 2);
    t = render();
    CHECK(contains(t, "splitkey_ocsp_responses_total{status=\"successful\"} 1\n"));
    CHECK(contains(t, "splitkey_ocsp_responses_total{status=\"other\"} 1\n"));
    CHECK(contains(t, "splitkey_ocsp_request_duration_seconds_count 2\n"));
    CHECK(contains(t, "splitkey_connections_open 1\n"));
    CHECK(contains(t, "splitkey_connections_refused_total{reason=\"per-peer\"} 2\n"));
    CHECK(!contains(t, "splitkey_requests_total"));
    free(t);
}

static void test_addresses(void)
{
    static const char *const loopback[] = {
        "http://127.0.0.1:9464", "http://127.9.9.9:1", "http://[::1]:80", "http://localhost:0",
        "http://[::ffff:127.0.0.1]:5", "HTTP://127.0.0.1:1/",
    };
    static const char *const remote[] = {
        "http://0.0.0.0:1", "http://10.1.1.1:1", "http://[::]:1", "http://example.com:80",
        "http://128.0.0.1:1",
    };
    static const char *const malformed[] = {
        "127.0.0.1:9", "http://127.0.0.1", "http://127.0.0.1:", "http://127.0.0.1:70000",
        "http://127.0.0.1:1/metrics", "tcp://127.0.0.1:1", "http://:80",
        "http://user@127.0.0.1:1", "https://127.0.0.1:1", "http://[::1:80",
    };
    char err[300];
    for (size_t i = 0; i < sizeof loopback / sizeof loopback[0]; i++) {
        err[0] = '\0';
        CHECK_OK(sk_metrics_http_check(loopback[i], false, err, sizeof err));
    }
    for (size_t i = 0; i < sizeof remote / sizeof remote[0]; i++) {
        err[0] = '\0';
        CHECK_RC(SK_SVC_ERR_CONFIG, sk_metrics_http_check(remote[i], false, err, sizeof err));
        CHECK(contains(err, "not a loopback address") && contains(err, "--metrics-allow-remote"));
        CHECK_OK(sk_metrics_http_check(remote[i], true, err, sizeof err));
    }
    for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++) {
        err[0] = '\0';
        CHECK_RC(SK_SVC_ERR_CONFIG, sk_metrics_http_check(malformed[i], true, err, sizeof err));
        CHECK(contains(err, "expected http://ADDR:PORT"));
    }
}

/* ------------------------------------------------------------ the listener */

typedef struct answer {
    int rv;
    uint16_t status;
    char body[8192];
    char allow[64], type[128];
} answer;

static void http_call(answer *a, const char *base, const char *method, const char *path)
{
    char url[400];
    nng_url *u = NULL;
    nng_http_client *cli = NULL;
    nng_http_req *req = NULL;
    nng_http_res *res = NULL;
    nng_aio *aio = NULL;
    memset(a, 0, sizeof *a);
    snprintf(url, sizeof url, "%s%s", base, path);
    a->rv = nng_url_parse(&u, url);
    if (a->rv == 0)
        a->rv = nng_http_client_alloc(&cli, u);
    if (a->rv == 0)
        a->rv = nng_http_req_alloc(&req, u);
    if (a->rv == 0)
        a->rv = nng_http_req_set_method(req, method);
    if (a->rv == 0 && strcmp(method, "POST") == 0)
        a->rv = nng_http_req_copy_data(req, "x=1", 3);
    if (a->rv == 0)
        a->rv = nng_http_res_alloc(&res);
    if (a->rv == 0)
        a->rv = nng_aio_alloc(&aio, NULL, NULL);
    if (a->rv == 0) {
        nng_aio_set_timeout(aio, 30000);
        nng_http_client_transact(cli, req, res, aio);
        nng_aio_wait(aio);
        a->rv = nng_aio_result(aio);
    }
    if (a->rv == 0) {
        void *data = NULL;
        size_t len = 0;
        a->status = nng_http_res_get_status(res);
        nng_http_res_get_data(res, &data, &len);
        if (len >= sizeof a->body)
            len = sizeof a->body - 1;
        if (len > 0) /* an empty body has no data pointer */
            memcpy(a->body, data, len);
        a->body[len] = '\0';
        const char *h = nng_http_res_get_header(res, "Allow");
        snprintf(a->allow, sizeof a->allow, "%s", h ? h : "");
        h = nng_http_res_get_header(res, "Content-Type");
        snprintf(a->type, sizeof a->type, "%s", h ? h : "");
    }
    if (aio != NULL)
        nng_aio_free(aio);
    if (res != NULL)
        nng_http_res_free(res);
    if (req != NULL)
        nng_http_req_free(req);
    if (cli != NULL)
        nng_http_client_free(cli);
    if (u != NULL)
        nng_url_free(u);
}

static int health_rc;

static int health(void *ctx, char *why, size_t why_len)
{
    (void)ctx;
    if (health_rc != SK_OK)
        snprintf(why, why_len, "store: cannot read: %s\nsecond line", sk_strerror(health_rc));
    return health_rc;
}

static void test_listener(void)
{
    sk_metrics_http *mh = NULL, *other = NULL;
    char err[300] = "";
    sk_metrics_init("test_svc_metrics", SK_METRICS_REQUESTS);
    sk_metrics_http_config cfg = {.url = "http://127.0.0.1:0", .health = health};
    CHECK_RC(SK_SVC_ERR_CONFIG,
             sk_metrics_http_start(&mh, &(sk_metrics_http_config){.url = "http://10.0.0.1:0"},
                                   err, sizeof err));
    CHECK(mh == NULL && contains(err, "not a loopback address"));
    CHECK_OK(sk_metrics_http_start(&mh, &cfg, err, sizeof err));
    if (mh == NULL) {
        fprintf(stderr, "cannot start the listener: %s\n", err);
        return;
    }
    const char *base = sk_metrics_http_url(mh);
    CHECK(strncmp(base, "http://127.0.0.1:", 17) == 0 && strcmp(base, "http://127.0.0.1:0") != 0);
    /* nng shares one HTTP server per address: a second listener there is
     * refused, not merged */
    sk_metrics_http_config again = {.url = base};
    CHECK_RC(SK_SVC_ERR_CONFIG, sk_metrics_http_start(&other, &again, err, sizeof err));
    CHECK(other == NULL && contains(err, "another HTTP listener"));
    if (other != NULL)
        sk_metrics_http_stop(other);

    answer a;
    http_call(&a, base, "GET", "/health");
    CHECK(a.rv == 0 && a.status == 200 && strcmp(a.body, "ok\n") == 0);
    health_rc = SK_ERR_STORE;
    http_call(&a, base, "GET", "/health");
    CHECK(a.rv == 0 && a.status == 503);
    CHECK(strncmp(a.body, "store: cannot read: ", 20) == 0);
    CHECK(strchr(a.body, '\n') == a.body + strlen(a.body) - 1); /* one line */
    health_rc = SK_OK;

    http_call(&a, base, "GET", "/metrics");
    CHECK(a.rv == 0 && a.status == 200);
    CHECK(contains(a.type, "text/plain") && contains(a.type, "version=0.0.4"));
    CHECK(contains(a.body, "# TYPE splitkey_build_info gauge\n"));
    http_call(&a, base, "GET", "/metrics?x=1");
    CHECK(a.rv == 0 && a.status == 200);
    http_call(&a, base, "POST", "/metrics");
    CHECK(a.rv == 0 && a.status == 405 && strcmp(a.allow, "GET") == 0);
    http_call(&a, base, "HEAD", "/health");
    CHECK(a.rv == 0 && a.status == 405 && strcmp(a.allow, "GET") == 0);
    http_call(&a, base, "GET", "/");
    CHECK(a.rv == 0 && a.status == 404);
    http_call(&a, base, "GET", "/metrics/x");
    CHECK(a.rv == 0 && a.status == 404);

    sk_metrics_set_draining();
    http_call(&a, base, "GET", "/health");
    CHECK(a.rv == 0 && a.status == 503 && strncmp(a.body, "draining", 8) == 0);
    http_call(&a, base, "GET", "/metrics");
    CHECK(a.rv == 0 && a.status == 200); /* still scraped while draining */
    sk_metrics_http_stop(mh);
    sk_metrics_http_stop(NULL);
}

int main(void)
{
    sk_test_init();
    sk_log_init("test_svc_metrics");
    test_primitives();
    test_exposition();
    test_outcomes();
    test_requests();
    test_addresses();
    test_listener();
    return sk_test_done("test_svc_metrics");
}
