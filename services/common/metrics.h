/* SPDX-License-Identifier: Apache-2.0 */
/*
 * metrics.h - what a service counts, in the Prometheus text exposition
 * format (version 0.0.4), and the operator-only HTTP listener that serves it
 * with a health check.
 *
 * Counters, gauges and histograms are C11 atomics updated without a lock
 * from any thread; reading them for a scrape takes no lock either, so a
 * scrape never slows a request down.  A histogram has fixed buckets (request
 * durations from 0.5 ms to 10 s); its sum is kept in microseconds, exactly.
 *
 * Every metric of the services is named splitkey_...; the set a program
 * exposes is chosen by the groups it passes to sk_metrics_init():
 *
 *   always                 splitkey_build_info{version,program} 1
 *                          splitkey_start_time_seconds
 *   SK_METRICS_REQUESTS    splitkey_requests_total{kind,outcome}
 *                          splitkey_request_duration_seconds{kind} (histogram)
 *                          both fed by the REP loop's per-request record
 *                          (log.h), the one the request log line comes from
 *   SK_METRICS_SHARE       splitkey_wrong_pins_total, splitkey_keys_locked_total,
 *                          splitkey_clones_detected_total,
 *                          splitkey_keys_destroyed_total{reason},
 *                          splitkey_store_errors_total, splitkey_pool_keys{profile}
 *   SK_METRICS_CONNS       splitkey_connections_open,
 *                          splitkey_connections_refused_total{reason},
 *                          splitkey_connections_closed_total{reason}
 *   SK_METRICS_OCSP        splitkey_ocsp_responses_total{status},
 *                          splitkey_ocsp_request_duration_seconds (histogram)
 *
 * Label values come from fixed tables (request kinds, outcome names, destroy
 * reasons, profile names ...), never from a request, so the number of series
 * is bounded and nothing secret can reach a label.
 *
 * The listener (sk_metrics_http_start) is a separate nng HTTP server for the
 * operator: GET /metrics (text/plain; version=0.0.4) and GET /health (200
 * "ok" while the process serves and its store answers a trivial read; 503
 * with a one-line reason otherwise, e.g. while draining after SIGTERM).
 * Any other path is 404, any other method 405 with "Allow: GET".  It listens
 * on loopback only unless the operator allows a remote address.
 */
#ifndef SK_METRICS_H
#define SK_METRICS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log.h"

/* ------------------------------------------------------------ primitives */

typedef struct sk_counter {
    atomic_uint_least64_t n;
} sk_counter;

typedef struct sk_gauge {
    atomic_int_least64_t v;
} sk_gauge;

/* Upper bounds of the histogram buckets, microseconds: 0.5 ms ... 10 s. */
#define SK_HIST_BOUNDS 14

typedef struct sk_histogram {
    atomic_uint_least64_t bucket[SK_HIST_BOUNDS + 1]; /* per bucket; the last is +Inf */
    atomic_uint_least64_t sum_us;
} sk_histogram;

void sk_counter_add(sk_counter *c, uint64_t n);
uint64_t sk_counter_get(sk_counter *c);
void sk_gauge_set(sk_gauge *g, int64_t v);
void sk_gauge_add(sk_gauge *g, int64_t delta);
int64_t sk_gauge_get(sk_gauge *g);
void sk_histogram_observe_us(sk_histogram *h, uint64_t us);
/* Observations so far (the +Inf bucket). */
uint64_t sk_histogram_count(sk_histogram *h);

/* ------------------------------------------------- the text exposition */

/* A growing text buffer; once an allocation failed, `failed` stays set and
 * nothing more is added. */
typedef struct sk_expo {
    char *buf;
    size_t len, cap;
    bool failed;
} sk_expo;

/* "# HELP name help" and "# TYPE name type" (help escaped as the format
 * says: backslash and newline). */
void sk_expo_family(sk_expo *e, const char *name, const char *type, const char *help);

/* One sample line: name{l1="v1",...} value.  labels is NULL or a list of
 * name, value pairs ended by NULL; values are escaped (backslash, double
 * quote, newline).  The value is formatted from fmt. */
void sk_expo_sample(sk_expo *e, const char *name, const char *const *labels, const char *fmt,
                    ...) __attribute__((format(printf, 4, 5)));

/* The _bucket (cumulative, le="..." up to "+Inf"), _sum (seconds) and _count
 * lines of a histogram, with labels as for sk_expo_sample (le is added). */
void sk_expo_histogram(sk_expo *e, const char *name, const char *const *labels,
                       sk_histogram *h);

/* Releases the buffer. */
void sk_expo_free(sk_expo *e);

/* ------------------------------------------------- the services' metrics */

#define SK_METRICS_REQUESTS 0x1u
#define SK_METRICS_SHARE 0x2u
#define SK_METRICS_CONNS 0x4u
#define SK_METRICS_OCSP 0x8u

/* Names the program (a static string), records the start time and chooses
 * the groups exposed.  Counting works without it (nothing is exposed then). */
void sk_metrics_init(const char *program, unsigned groups);

/* The whole exposition as a malloc'd NUL-terminated text.  Returns SK_OK or
 * SK_ERR_NOMEM. */
int sk_metrics_render(char **text, size_t *len);

/* The short, stable name of an outcome for the outcome label: "ok" for 0,
 * else the error code's name in lower case ("wrong_pin", "store_busy",
 * "config" ...), "other" for a code not in the table. */
const char *sk_metrics_outcome_name(int outcome);

/* Result names of a protocol whose replies carry their own result code (the
 * CA's): index i names result i (static strings; at most 16; registered
 * once at start, before any request). */
void sk_metrics_result_names(const char *const *names, size_t count);

/* One request served: its kind, its outcome (the handler's code) and, when
 * result >= 0, the result of the reply (an index into the result names,
 * which then names the outcome when the code is 0). */
void sk_metrics_request(sk_req_kind kind, int outcome, int result, uint64_t duration_us);

/* The share server's events, counted once each after their commit. */
void sk_metrics_wrong_pin(void);
void sk_metrics_key_locked(void);
void sk_metrics_clone_detected(void);
void sk_metrics_key_destroyed(unsigned reason); /* sk_destroy_reason */
void sk_metrics_store_error(void);
/* Pooled server keys of a profile (a static name such as "6K"), as last
 * counted. */
void sk_metrics_pool_keys(const char *profile, int64_t keys);

/* Connections (connguard.h). */
typedef enum sk_metrics_conn_event {
    SK_METRICS_CONN_REFUSED_PEER,  /* refused: the peer is at its cap */
    SK_METRICS_CONN_REFUSED_CAP,   /* refused: the total cap, none idle to close */
    SK_METRICS_CONN_CLOSED_EVICTED, /* closed to make room for a new one */
    SK_METRICS_CONN_CLOSED_IDLE,   /* closed after the idle timeout */
    SK_METRICS_CONN_EVENTS
} sk_metrics_conn_event;
void sk_metrics_conns_open(int64_t delta);
void sk_metrics_conn(sk_metrics_conn_event ev, uint64_t n);

/* One OCSP answer: its status ("successful", "malformedRequest", ... or
 * "http-405", "http-500" for requests refused before any OCSP answer). */
void sk_metrics_ocsp_response(const char *status, uint64_t duration_us);

/* ------------------------------------------------------------ the listener */

/* Whether the process is healthy: SK_OK, or a code with a one-line reason
 * in why (no secret: it is served as is).  Called from nng's threads. */
typedef int (*sk_metrics_health_fn)(void *ctx, char *why, size_t why_len);

typedef struct sk_metrics_http_config {
    const char *url;        /* http://ADDR:PORT (port 0: any free port) */
    bool allow_remote;      /* accept a non-loopback ADDR */
    sk_metrics_health_fn health; /* NULL: healthy while not draining */
    void *health_ctx;
} sk_metrics_http_config;

typedef struct sk_metrics_http sk_metrics_http;

/* Checks a --metrics-listen value: http://HOST:PORT with no path, and HOST
 * a loopback address (127.0.0.0/8, ::1, localhost) unless allow_remote.
 * Returns SK_OK or SK_SVC_ERR_CONFIG with a one-line message in err. */
int sk_metrics_http_check(const char *url, bool allow_remote, char *err, size_t err_len);

/* Checks the URL as above and starts serving.  Returns SK_OK,
 * SK_SVC_ERR_CONFIG (bad or remote address, or the address of another HTTP
 * listener of this process), SK_SVC_ERR_TRANSPORT (cannot bind),
 * SK_ERR_NOMEM; a message in err. */
int sk_metrics_http_start(sk_metrics_http **out, const sk_metrics_http_config *cfg, char *err,
                          size_t err_len);

/* The URL bound, e.g. "http://127.0.0.1:9464" (the port chosen for 0). */
const char *sk_metrics_http_url(const sk_metrics_http *h);

/* From now on /health answers 503 "draining" (after SIGTERM, SIGINT). */
void sk_metrics_set_draining(void);

/* Stops serving (waits for the answers in flight) and frees.  NULL is
 * ignored. */
void sk_metrics_http_stop(sk_metrics_http *h);

/* The options of every service's run command, for its sk_opt table
 * (config.h): --metrics-listen URL and --metrics-allow-remote. */
#define SK_METRICS_OPTS(listen_ptr, remote_ptr)                                               \
    {.name = "metrics-listen", .type = SK_OPT_STRING, .value = (listen_ptr),                  \
     .arg = "URL",                                                                            \
     .help = "serve GET /metrics (Prometheus) and GET /health on http://ADDR:PORT for the "   \
             "operator; loopback only (off by default)"},                                     \
    {.name = "metrics-allow-remote", .type = SK_OPT_BOOL, .value = (remote_ptr),              \
     .help = "let --metrics-listen use a non-loopback address (operator-only: restrict it "   \
             "with a firewall)"}

#endif
