/* SPDX-License-Identifier: Apache-2.0 */
/* metrics.c - lock-free counters, the Prometheus text exposition and the
 * operator's HTTP listener (/metrics, /health). */
#define _POSIX_C_SOURCE 200809L
#include "metrics.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <nng/nng.h>
#include <nng/supplemental/http/http.h>

#include "http_listen.h"
#include "splitkey/device.h"
#include "splitkey/splitkey.h"
#include "svc_error.h"

/* ------------------------------------------------------------ primitives */

/* Bucket upper bounds in microseconds, and as printed in le="...". */
static const uint64_t hist_bound_us[SK_HIST_BOUNDS] = {
    500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
    1000000, 2500000, 5000000, 10000000,
};
static const char *const hist_bound_text[SK_HIST_BOUNDS] = {
    "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05",
    "0.1", "0.25", "0.5", "1", "2.5", "5", "10",
};

void sk_counter_add(sk_counter *c, uint64_t n)
{
    atomic_fetch_add_explicit(&c->n, n, memory_order_relaxed);
}

uint64_t sk_counter_get(sk_counter *c) { return atomic_load_explicit(&c->n, memory_order_relaxed); }

void sk_gauge_set(sk_gauge *g, int64_t v) { atomic_store_explicit(&g->v, v, memory_order_relaxed); }

void sk_gauge_add(sk_gauge *g, int64_t delta)
{
    atomic_fetch_add_explicit(&g->v, delta, memory_order_relaxed);
}

int64_t sk_gauge_get(sk_gauge *g) { return atomic_load_explicit(&g->v, memory_order_relaxed); }

void sk_histogram_observe_us(sk_histogram *h, uint64_t us)
{
    size_t i = 0;
    while (i < SK_HIST_BOUNDS && us > hist_bound_us[i])
        i++;
    atomic_fetch_add_explicit(&h->sum_us, us, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->bucket[i], 1, memory_order_relaxed);
}

uint64_t sk_histogram_count(sk_histogram *h)
{
    uint64_t n = 0;
    for (size_t i = 0; i <= SK_HIST_BOUNDS; i++)
        n += atomic_load_explicit(&h->bucket[i], memory_order_relaxed);
    return n;
}

/* ------------------------------------------------- the text exposition */

static void expo_put(sk_expo *e, const char *s, size_t n)
{
    if (e->failed)
        return;
    if (e->len + n + 1 > e->cap) {
        size_t cap = e->cap ? e->cap : 4096;
        while (cap < e->len + n + 1)
            cap *= 2;
        char *b = realloc(e->buf, cap);
        if (b == NULL) {
            e->failed = true;
            return;
        }
        e->buf = b;
        e->cap = cap;
    }
    memcpy(e->buf + e->len, s, n);
    e->len += n;
    e->buf[e->len] = '\0';
}

static void expo_str(sk_expo *e, const char *s) { expo_put(e, s, strlen(s)); }

__attribute__((format(printf, 2, 0)))
static void expo_vprintf(sk_expo *e, const char *fmt, va_list ap)
{
    char small[128];
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    if (n < 0) {
        e->failed = true;
    } else if ((size_t)n < sizeof small) {
        expo_put(e, small, (size_t)n);
    } else {
        char *big = malloc((size_t)n + 1);
        if (big == NULL) {
            e->failed = true;
        } else {
            vsnprintf(big, (size_t)n + 1, fmt, ap2);
            expo_put(e, big, (size_t)n);
            free(big);
        }
    }
    va_end(ap2);
}

__attribute__((format(printf, 2, 3)))
static void expo_printf(sk_expo *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    expo_vprintf(e, fmt, ap);
    va_end(ap);
}

/* Writes s escaped: backslash and newline always, the double quote in a
 * label value only. */
static void expo_escaped(sk_expo *e, const char *s, bool quote)
{
    for (const char *p = s; *p != '\0'; p++) {
        if (*p == '\\')
            expo_str(e, "\\\\");
        else if (*p == '\n')
            expo_str(e, "\\n");
        else if (*p == '"' && quote)
            expo_str(e, "\\\"");
        else
            expo_put(e, p, 1);
    }
}

void sk_expo_family(sk_expo *e, const char *name, const char *type, const char *help)
{
    expo_printf(e, "# HELP %s ", name);
    expo_escaped(e, help, false);
    expo_printf(e, "\n# TYPE %s %s\n", name, type);
}

static void expo_labels(sk_expo *e, const char *const *labels, const char *le)
{
    bool any = false;
    for (size_t i = 0; labels != NULL && labels[i] != NULL && labels[i + 1] != NULL; i += 2) {
        expo_str(e, any ? "," : "{");
        expo_printf(e, "%s=\"", labels[i]);
        expo_escaped(e, labels[i + 1], true);
        expo_str(e, "\"");
        any = true;
    }
    if (le != NULL) {
        expo_printf(e, "%sle=\"%s\"", any ? "," : "{", le);
        any = true;
    }
    if (any)
        expo_str(e, "}");
}

void sk_expo_sample(sk_expo *e, const char *name, const char *const *labels, const char *fmt,
                    ...)
{
    expo_str(e, name);
    expo_labels(e, labels, NULL);
    expo_str(e, " ");
    va_list ap;
    va_start(ap, fmt);
    expo_vprintf(e, fmt, ap);
    va_end(ap);
    expo_str(e, "\n");
}

void sk_expo_histogram(sk_expo *e, const char *name, const char *const *labels,
                       sk_histogram *h)
{
    uint64_t b[SK_HIST_BOUNDS + 1], cum = 0;
    for (size_t i = 0; i <= SK_HIST_BOUNDS; i++)
        b[i] = atomic_load_explicit(&h->bucket[i], memory_order_relaxed);
    uint64_t sum = atomic_load_explicit(&h->sum_us, memory_order_relaxed);
    for (size_t i = 0; i <= SK_HIST_BOUNDS; i++) {
        cum += b[i];
        expo_printf(e, "%s_bucket", name);
        expo_labels(e, labels, i < SK_HIST_BOUNDS ? hist_bound_text[i] : "+Inf");
        expo_printf(e, " %llu\n", (unsigned long long)cum);
    }
    expo_printf(e, "%s_sum", name);
    expo_labels(e, labels, NULL);
    expo_printf(e, " %llu.%06llu\n", (unsigned long long)(sum / 1000000u),
                (unsigned long long)(sum % 1000000u));
    expo_printf(e, "%s_count", name);
    expo_labels(e, labels, NULL);
    expo_printf(e, " %llu\n", (unsigned long long)cum);
}

void sk_expo_free(sk_expo *e)
{
    free(e->buf);
    memset(e, 0, sizeof *e);
}

/* ------------------------------------------------- the services' metrics */

/* The outcome label of an error code: the code's name in lower case. */
static const struct outcome_name {
    int code;
    const char *name;
} outcome_names[] = {
    {SK_OK, "ok"},
    {SK_ERR_INTERNAL, "internal"},
    {SK_ERR_NOMEM, "nomem"},
    {SK_ERR_ARG, "arg"},
    {SK_ERR_NOT_INITIALISED, "not_initialised"},
    {SK_ERR_BUFFER_TOO_SMALL, "buffer_too_small"},
    {SK_ERR_RNG, "rng"},
    {SK_ERR_UNSUPPORTED, "unsupported"},
    {SK_ERR_USED, "used"},
    {SK_ERR_CANCELLED, "cancelled"},
    {SK_ERR_KEY_FORMAT, "key_format"},
    {SK_ERR_KEY_SIZE, "key_size"},
    {SK_ERR_KEY_WEAK, "key_weak"},
    {SK_ERR_KEY_MISMATCH, "key_mismatch"},
    {SK_ERR_BAD_VALUE, "bad_value"},
    {SK_ERR_PARTIAL_INVALID, "partial_invalid"},
    {SK_ERR_FAULT, "fault"},
    {SK_ERR_KEYGEN, "keygen"},
    {SK_ERR_HASH, "hash"},
    {SK_ERR_ENCODING, "encoding"},
    {SK_ERR_VERIFY, "verify"},
    {SK_ERR_PEM, "pem"},
    {SK_ERR_DER, "der"},
    {SK_ERR_PROTO_DECODE, "proto_decode"},
    {SK_ERR_PROTO_AUTH, "proto_auth"},
    {SK_ERR_PROTO_REPLAY, "proto_replay"},
    {SK_ERR_PROTO_STATE, "proto_state"},
    {SK_ERR_PROTO_SERVER_SIG, "proto_server_sig"},
    {SK_ERR_WRONG_PIN, "wrong_pin"},
    {SK_ERR_LOCKED, "locked"},
    {SK_ERR_DESTROYED, "destroyed"},
    {SK_ERR_CLONE_DETECTED, "clone_detected"},
    {SK_ERR_SESSION_EXPIRED, "session_expired"},
    {SK_ERR_SESSION_REFUSED, "session_refused"},
    {SK_ERR_SESSION_UNKNOWN, "session_unknown"},
    {SK_ERR_NOT_ACTIVE, "not_active"},
    {SK_ERR_TOKEN, "token"},
    {SK_ERR_BAD_SIGNATURE, "bad_signature"},
    {SK_ERR_LIMIT, "limit"},
    {SK_ERR_PENDING, "pending"},
    {SK_ERR_CA_UNAVAILABLE, "ca_unavailable"},
    {SK_ERR_CA_REFUSED, "ca_refused"},
    {SK_ERR_PROTO_VERSION, "proto_version"},
    {SK_ERR_PROTO_CHALLENGE, "proto_challenge"},
    {SK_ERR_LEASE, "lease"},
    {SK_ERR_SESSION_CANCELLED, "session_cancelled"},
    {SK_ERR_LEVEL, "level"},
    {SK_ERR_WRONG_VC, "wrong_vc"},
    {SK_ERR_PKI, "pki"},
    {SK_ERR_CSR, "csr"},
    {SK_ERR_CERT, "cert"},
    {SK_ERR_OCSP, "ocsp"},
    {SK_ERR_AUDIT, "audit"},
    {SK_ERR_STORE, "store"},
    {SK_ERR_STORE_BUSY, "store_busy"},
    {SK_ERR_STORE_CONFLICT, "store_conflict"},
    {SK_ERR_NOT_FOUND, "not_found"},
    {SK_SVC_ERR_CONFIG, "config"},
    {SK_SVC_ERR_TIMEOUT, "timeout"},
    {SK_SVC_ERR_TRANSPORT, "transport"},
    {SK_SVC_ERR_IO, "io"},
    {SK_SVC_ERR_PERM, "perm"},
    {SK_SVC_ERR_EXISTS, "exists"},
    {SK_SVC_ERR_STALE, "stale"},
    {SK_SVC_ERR_CONNECT, "connect"},
    {SK_SVC_ERR_RP_REFUSED, "rp_refused"},
};
#define N_CODES (sizeof outcome_names / sizeof outcome_names[0])
#define MAX_RESULTS 16u
/* outcome slots: the codes, then the registered results, then "other" */
#define N_OUTCOMES (N_CODES + MAX_RESULTS + 1u)
#define OUTCOME_OTHER (N_OUTCOMES - 1u)

static const char *const destroy_names[] = {"none", "user", "lockout", "clone", "operator",
                                            "abandoned"};
#define N_DESTROY (sizeof destroy_names / sizeof destroy_names[0])

static const char *const ocsp_names[] = {"successful", "malformedRequest", "internalError",
                                         "tryLater", "sigRequired", "unauthorized", "http-405",
                                         "http-500", "other"};
#define N_OCSP (sizeof ocsp_names / sizeof ocsp_names[0])

#define MAX_POOL_PROFILES 4u

static struct {
    const char *program;
    unsigned groups;
    int64_t start_time;
    const char *results[MAX_RESULTS];
    size_t nresults;

    sk_counter requests[SK_REQ_KIND_COUNT][N_OUTCOMES];
    sk_histogram durations[SK_REQ_KIND_COUNT];

    sk_counter wrong_pins, keys_locked, clones, store_errors;
    sk_counter destroyed[N_DESTROY];
    pthread_mutex_t pool_mu; /* adding a profile only */
    _Atomic(const char *) pool_name[MAX_POOL_PROFILES];
    sk_gauge pool[MAX_POOL_PROFILES];

    sk_gauge conns_open;
    sk_counter conn_events[SK_METRICS_CONN_EVENTS];

    sk_counter ocsp[N_OCSP];
    sk_histogram ocsp_duration;

    atomic_bool draining;
} M = {.program = "splitkey", .pool_mu = PTHREAD_MUTEX_INITIALIZER};

void sk_metrics_init(const char *program, unsigned groups)
{
    if (program != NULL)
        M.program = program;
    M.groups = groups;
    M.start_time = (int64_t)time(NULL);
}

static size_t outcome_slot(int outcome)
{
    for (size_t i = 0; i < N_CODES; i++)
        if (outcome_names[i].code == outcome)
            return i;
    return OUTCOME_OTHER;
}

const char *sk_metrics_outcome_name(int outcome)
{
    size_t i = outcome_slot(outcome);
    return i < N_CODES ? outcome_names[i].name : "other";
}

static const char *slot_name(size_t slot)
{
    if (slot < N_CODES)
        return outcome_names[slot].name;
    if (slot - N_CODES < M.nresults)
        return M.results[slot - N_CODES];
    return "other";
}

void sk_metrics_result_names(const char *const *names, size_t count)
{
    if (count > MAX_RESULTS)
        count = MAX_RESULTS;
    for (size_t i = 0; i < count; i++)
        M.results[i] = names[i];
    M.nresults = count;
}

void sk_metrics_request(sk_req_kind kind, int outcome, int result, uint64_t duration_us)
{
    if ((int)kind < 0 || kind >= SK_REQ_KIND_COUNT)
        kind = SK_REQ_UNKNOWN;
    size_t slot;
    if (outcome == SK_OK && result >= 0)
        slot = (size_t)result < M.nresults ? N_CODES + (size_t)result : OUTCOME_OTHER;
    else
        slot = outcome_slot(outcome);
    sk_counter_add(&M.requests[kind][slot], 1);
    sk_histogram_observe_us(&M.durations[kind], duration_us);
}

void sk_metrics_wrong_pin(void) { sk_counter_add(&M.wrong_pins, 1); }
void sk_metrics_key_locked(void) { sk_counter_add(&M.keys_locked, 1); }
void sk_metrics_clone_detected(void) { sk_counter_add(&M.clones, 1); }
void sk_metrics_store_error(void) { sk_counter_add(&M.store_errors, 1); }

void sk_metrics_key_destroyed(unsigned reason)
{
    sk_counter_add(&M.destroyed[reason < N_DESTROY ? reason : 0], 1);
}

void sk_metrics_pool_keys(const char *profile, int64_t keys)
{
    if (profile == NULL)
        return;
    for (unsigned pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < MAX_POOL_PROFILES; i++) {
            const char *n = atomic_load(&M.pool_name[i]);
            if (n != NULL && strcmp(n, profile) == 0) {
                sk_gauge_set(&M.pool[i], keys);
                return;
            }
        }
        if (pass == 1)
            return;
        /* a profile seen for the first time (at start): give it a slot */
        pthread_mutex_lock(&M.pool_mu);
        bool present = false;
        size_t free_at = MAX_POOL_PROFILES;
        for (size_t i = 0; i < MAX_POOL_PROFILES; i++) {
            const char *n = atomic_load(&M.pool_name[i]);
            if (n != NULL && strcmp(n, profile) == 0)
                present = true;
            else if (n == NULL && free_at == MAX_POOL_PROFILES)
                free_at = i;
        }
        if (!present && free_at < MAX_POOL_PROFILES) {
            sk_gauge_set(&M.pool[free_at], keys);
            atomic_store(&M.pool_name[free_at], profile);
        }
        pthread_mutex_unlock(&M.pool_mu);
    }
}

void sk_metrics_conns_open(int64_t delta) { sk_gauge_add(&M.conns_open, delta); }

void sk_metrics_conn(sk_metrics_conn_event ev, uint64_t n)
{
    if ((int)ev >= 0 && ev < SK_METRICS_CONN_EVENTS)
        sk_counter_add(&M.conn_events[ev], n);
}

void sk_metrics_ocsp_response(const char *status, uint64_t duration_us)
{
    size_t i = 0;
    while (i + 1 < N_OCSP && (status == NULL || strcmp(ocsp_names[i], status) != 0))
        i++;
    sk_counter_add(&M.ocsp[i], 1);
    sk_histogram_observe_us(&M.ocsp_duration, duration_us);
}

static void render_requests(sk_expo *e)
{
    sk_expo_family(e, "splitkey_requests_total", "counter",
                   "Requests served, by kind and outcome (ok, or the error's name).");
    for (size_t k = 0; k < SK_REQ_KIND_COUNT; k++) {
        for (size_t o = 0; o < N_OUTCOMES; o++) {
            uint64_t n = sk_counter_get(&M.requests[k][o]);
            if (n == 0)
                continue;
            const char *l[] = {"kind", sk_req_kind_name((sk_req_kind)k), "outcome",
                               slot_name(o), NULL};
            sk_expo_sample(e, "splitkey_requests_total", l, "%llu", (unsigned long long)n);
        }
    }
    sk_expo_family(e, "splitkey_request_duration_seconds", "histogram",
                   "Time from a request's arrival to its reply, by kind.");
    for (size_t k = 0; k < SK_REQ_KIND_COUNT; k++) {
        if (sk_histogram_count(&M.durations[k]) == 0)
            continue;
        const char *l[] = {"kind", sk_req_kind_name((sk_req_kind)k), NULL};
        sk_expo_histogram(e, "splitkey_request_duration_seconds", l, &M.durations[k]);
    }
}

static void render_counter(sk_expo *e, const char *name, const char *help, sk_counter *c)
{
    sk_expo_family(e, name, "counter", help);
    sk_expo_sample(e, name, NULL, "%llu", (unsigned long long)sk_counter_get(c));
}

static void render_share(sk_expo *e)
{
    render_counter(e, "splitkey_wrong_pins_total",
                   "Wrong PINs (the partial signature did not verify), counted once committed.",
                   &M.wrong_pins);
    render_counter(e, "splitkey_keys_locked_total",
                   "Time locks set by wrong PINs (after 3 and after 6).", &M.keys_locked);
    render_counter(e, "splitkey_clones_detected_total",
                   "Requests from a copy of a device's state (the key is destroyed).",
                   &M.clones);
    sk_expo_family(e, "splitkey_keys_destroyed_total", "counter", "Keys destroyed, by reason.");
    for (size_t r = 1; r < N_DESTROY; r++) {
        const char *l[] = {"reason", destroy_names[r], NULL};
        sk_expo_sample(e, "splitkey_keys_destroyed_total", l, "%llu",
                       (unsigned long long)sk_counter_get(&M.destroyed[r]));
    }
    render_counter(e, "splitkey_store_errors_total",
                   "Requests not served because the store failed (error, busy or conflicting "
                   "past every retry).",
                   &M.store_errors);
    sk_expo_family(e, "splitkey_pool_keys", "gauge",
                   "Pre-generated server keys in the pool, by profile, as last counted.");
    for (size_t i = 0; i < MAX_POOL_PROFILES; i++) {
        const char *n = atomic_load(&M.pool_name[i]);
        if (n == NULL)
            continue;
        const char *l[] = {"profile", n, NULL};
        sk_expo_sample(e, "splitkey_pool_keys", l, "%lld", (long long)sk_gauge_get(&M.pool[i]));
    }
}

static void render_conns(sk_expo *e)
{
    static const char *const refused[] = {"per-peer", "cap"};
    static const char *const closed[] = {"evicted", "idle"};
    sk_expo_family(e, "splitkey_connections_open", "gauge",
                   "Connections open on the request socket.");
    sk_expo_sample(e, "splitkey_connections_open", NULL, "%lld",
                   (long long)sk_gauge_get(&M.conns_open));
    sk_expo_family(e, "splitkey_connections_refused_total", "counter",
                   "New connections closed at once: per-peer or total cap.");
    for (size_t i = 0; i < 2; i++) {
        const char *l[] = {"reason", refused[i], NULL};
        sk_expo_sample(e, "splitkey_connections_refused_total", l, "%llu",
                       (unsigned long long)sk_counter_get(
                           &M.conn_events[SK_METRICS_CONN_REFUSED_PEER + i]));
    }
    sk_expo_family(e, "splitkey_connections_closed_total", "counter",
                   "Open connections closed by the server: to make room, or idle.");
    for (size_t i = 0; i < 2; i++) {
        const char *l[] = {"reason", closed[i], NULL};
        sk_expo_sample(e, "splitkey_connections_closed_total", l, "%llu",
                       (unsigned long long)sk_counter_get(
                           &M.conn_events[SK_METRICS_CONN_CLOSED_EVICTED + i]));
    }
}

static void render_ocsp(sk_expo *e)
{
    sk_expo_family(e, "splitkey_ocsp_responses_total", "counter",
                   "OCSP answers, by response status (http-405, http-500: no OCSP answer).");
    for (size_t i = 0; i < N_OCSP; i++) {
        uint64_t n = sk_counter_get(&M.ocsp[i]);
        if (n == 0 && i + 1 == N_OCSP)
            continue;
        const char *l[] = {"status", ocsp_names[i], NULL};
        sk_expo_sample(e, "splitkey_ocsp_responses_total", l, "%llu", (unsigned long long)n);
    }
    sk_expo_family(e, "splitkey_ocsp_request_duration_seconds", "histogram",
                   "Time to answer an OCSP request.");
    sk_expo_histogram(e, "splitkey_ocsp_request_duration_seconds", NULL, &M.ocsp_duration);
}

int sk_metrics_render(char **text, size_t *len)
{
    sk_expo e = {0};
    *text = NULL;
    *len = 0;
    sk_expo_family(&e, "splitkey_build_info", "gauge", "The program and its version (always 1).");
    {
        const char *l[] = {"program", M.program, "version", sk_version(), NULL};
        sk_expo_sample(&e, "splitkey_build_info", l, "1");
    }
    sk_expo_family(&e, "splitkey_start_time_seconds", "gauge",
                   "When the process started, Unix seconds.");
    sk_expo_sample(&e, "splitkey_start_time_seconds", NULL, "%lld", (long long)M.start_time);
    if (M.groups & SK_METRICS_REQUESTS)
        render_requests(&e);
    if (M.groups & SK_METRICS_SHARE)
        render_share(&e);
    if (M.groups & SK_METRICS_CONNS)
        render_conns(&e);
    if (M.groups & SK_METRICS_OCSP)
        render_ocsp(&e);
    if (e.failed || e.buf == NULL) {
        sk_expo_free(&e);
        return SK_ERR_NOMEM;
    }
    *text = e.buf;
    *len = e.len;
    return SK_OK;
}

/* ------------------------------------------------------------ the listener */

struct sk_metrics_http {
    sk_metrics_http_config cfg;
    nng_http_server *server;
    char url[300];
};

void sk_metrics_set_draining(void) { atomic_store(&M.draining, true); }

/* Splits http://HOST:PORT[/]; host without brackets.  Returns false when the
 * URL is not of that form. */
static bool split_url(const char *url, char *host, size_t host_cap, unsigned *port)
{
    static const char scheme[] = "http://";
    if (url == NULL || strncasecmp(url, scheme, sizeof scheme - 1) != 0)
        return false;
    const char *h = url + sizeof scheme - 1, *hend, *p;
    if (*h == '[') {
        hend = strchr(h, ']');
        if (hend == NULL || hend[1] != ':')
            return false;
        h++;
        p = hend + 2;
    } else {
        hend = strchr(h, ':');
        if (hend == NULL)
            return false;
        p = hend + 1;
    }
    size_t hl = (size_t)(hend - h);
    if (hl == 0 || hl >= host_cap || memchr(h, '/', hl) != NULL || memchr(h, '@', hl) != NULL)
        return false;
    unsigned long v = 0;
    size_t digits = 0;
    while (p[digits] >= '0' && p[digits] <= '9' && digits < 6)
        v = v * 10 + (unsigned long)(p[digits++] - '0');
    const char *rest = p + digits; /* nothing, or a lone "/" */
    if (digits == 0 || v > 65535 || !(rest[0] == '\0' || (rest[0] == '/' && rest[1] == '\0')))
        return false;
    memcpy(host, h, hl);
    host[hl] = '\0';
    *port = (unsigned)v;
    return true;
}

static bool is_loopback(const char *host)
{
    struct in_addr a4;
    struct in6_addr a6;
    if (strcasecmp(host, "localhost") == 0)
        return true;
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, host, &a6) == 1) {
        if (IN6_IS_ADDR_LOOPBACK(&a6))
            return true;
        return IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127;
    }
    return false;
}

int sk_metrics_http_check(const char *url, bool allow_remote, char *err, size_t err_len)
{
    char host[256];
    unsigned port;
    if (!split_url(url, host, sizeof host, &port)) {
        snprintf(err, err_len, "--metrics-listen %s: expected http://ADDR:PORT, e.g. "
                               "http://127.0.0.1:9464", url ? url : "");
        return SK_SVC_ERR_CONFIG;
    }
    if (!allow_remote && !is_loopback(host)) {
        snprintf(err, err_len, "--metrics-listen %s: %s is not a loopback address; the metrics "
                               "and health listener is for the operator only (add "
                               "--metrics-allow-remote to serve it there anyway)",
                 url, host);
        return SK_SVC_ERR_CONFIG;
    }
    return SK_OK;
}

static int respond(nng_http_res **out, uint16_t status, const char *type, const char *body,
                   size_t len)
{
    nng_http_res *res = NULL;
    int rv = nng_http_res_alloc(&res);
    if (rv == 0)
        rv = nng_http_res_set_status(res, status);
    if (rv == 0)
        rv = nng_http_res_set_header(res, "Content-Type", type);
    if (rv == 0)
        rv = nng_http_res_set_header(res, "Cache-Control", "no-store");
    if (rv == 0)
        rv = nng_http_res_copy_data(res, body, len);
    if (rv != 0 && res != NULL) {
        nng_http_res_free(res);
        res = NULL;
    }
    *out = res;
    return rv;
}

static bool path_is(const char *uri, size_t len, const char *path)
{
    return strlen(path) == len && memcmp(uri, path, len) == 0;
}

static void http_handle(nng_aio *aio)
{
    nng_http_req *req = nng_aio_get_input(aio, 0);
    nng_http_handler *hd = nng_aio_get_input(aio, 1);
    sk_metrics_http *mh = nng_http_handler_get_data(hd);
    const char *method = nng_http_req_get_method(req);
    const char *uri = nng_http_req_get_uri(req);
    size_t plen = strcspn(uri, "?#");
    nng_http_res *res = NULL;
    static const char text[] = "text/plain; charset=utf-8";
    static const char not_found[] = "not found: try /metrics or /health\n";
    static const char not_allowed[] = "method not allowed: use GET\n";
    bool metrics = path_is(uri, plen, "/metrics"), health = path_is(uri, plen, "/health");

    if (!metrics && !health) {
        respond(&res, NNG_HTTP_STATUS_NOT_FOUND, text, not_found, sizeof not_found - 1);
    } else if (strcmp(method, "GET") != 0) {
        if (respond(&res, NNG_HTTP_STATUS_METHOD_NOT_ALLOWED, text, not_allowed,
                    sizeof not_allowed - 1) == 0 &&
            nng_http_res_set_header(res, "Allow", "GET") != 0) {
            nng_http_res_free(res);
            res = NULL;
        }
    } else if (metrics) {
        char *body = NULL;
        size_t len = 0;
        if (sk_metrics_render(&body, &len) == SK_OK)
            respond(&res, NNG_HTTP_STATUS_OK, "text/plain; version=0.0.4; charset=utf-8", body,
                    len);
        free(body);
    } else {
        char why[200] = "";
        int rc = SK_OK;
        if (atomic_load(&M.draining)) {
            snprintf(why, sizeof why, "draining: the process is stopping");
            rc = SK_SVC_ERR_STALE;
        } else if (mh->cfg.health != NULL) {
            rc = mh->cfg.health(mh->cfg.health_ctx, why, sizeof why);
        }
        if (rc == SK_OK) {
            respond(&res, NNG_HTTP_STATUS_OK, text, "ok\n", 3);
        } else {
            char line[220];
            why[strcspn(why, "\r\n")] = '\0';
            int n = snprintf(line, sizeof line, "%s\n", why[0] ? why : "unhealthy");
            respond(&res, NNG_HTTP_STATUS_SERVICE_UNAVAILABLE, text, line,
                    n > 0 && (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
        }
    }
    if (res == NULL) {
        nng_aio_finish(aio, NNG_ENOMEM);
        return;
    }
    nng_aio_set_output(aio, 0, res);
    nng_aio_finish(aio, 0);
}

int sk_metrics_http_start(sk_metrics_http **out, const sk_metrics_http_config *cfg, char *err,
                          size_t err_len)
{
    *out = NULL;
    int rc = sk_metrics_http_check(cfg->url, cfg->allow_remote, err, err_len);
    if (rc != SK_OK)
        return rc;
    char host[256];
    unsigned port = 0;
    (void)split_url(cfg->url, host, sizeof host, &port);
    sk_metrics_http *mh = calloc(1, sizeof *mh);
    if (mh == NULL)
        return SK_ERR_NOMEM;
    mh->cfg = *cfg;
    bool v6 = strchr(host, ':') != NULL;
    char url_host[sizeof host + 2];
    snprintf(url_host, sizeof url_host, v6 ? "[%s]" : "%s", host);
    sk_http_failure why;
    rc = sk_http_listen(&mh->server, &port, url_host, port, http_handle, mh, 0, &why);
    if (rc != SK_OK) {
        if (why.step == SK_HTTP_STEP_ADD) {
            /* nng shares one server per address: this one is taken by
             * another HTTP listener of this process */
            rc = SK_SVC_ERR_CONFIG;
            snprintf(err, err_len, "--metrics-listen %s: the address of another HTTP listener "
                                   "of this program; use another port", cfg->url);
        } else {
            sk_http_listen_error(err, err_len, "--metrics-listen", cfg->url, "not a usable URL",
                                 &why);
        }
        free(mh);
        return rc;
    }
    snprintf(mh->url, sizeof mh->url, "http://%s:%u", url_host, port);
    *out = mh;
    return SK_OK;
}

const char *sk_metrics_http_url(const sk_metrics_http *h) { return h->url; }

void sk_metrics_http_stop(sk_metrics_http *h)
{
    if (h == NULL)
        return;
    sk_http_unlisten(h->server);
    free(h);
}
