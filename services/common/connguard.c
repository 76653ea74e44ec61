/* SPDX-License-Identifier: Apache-2.0 */
/* connguard.c - connection caps and idle timeout for a listening nng socket. */
#define _POSIX_C_SOURCE 200809L
#include "connguard.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "log.h"
#include "metrics.h"
#include "splitkey/splitkey.h"
#include "svc_error.h"

#define TICK_MS 500u
#define US_PER_S 1000000u
/* A pipe being closed, or a removal seen before its arrival, is forgotten
 * after this long at most (see on_remove). */
#define STALE_US (10u * US_PER_S)
#define CLOSE_BATCH 256u
#define LOG_INTERVAL_US ((uint64_t)SK_CONNGUARD_LOG_INTERVAL_S * US_PER_S)
#define WEDGE_US ((uint64_t)SK_CONNGUARD_WEDGE_S * US_PER_S)
/* A spell short of descriptors goes on through breaks shorter than this
 * (a flood's connections dropped together and replaced at once). */
#define WEDGE_GAP_US (2u * US_PER_S)

enum conn_state {
    CONN_LIVE,    /* open, counted against the caps */
    CONN_CLOSING, /* closed by the guard, its removal not yet seen */
    CONN_GONE     /* removal seen while its arrival was still being handled */
};

struct conn {
    uint32_t id;       /* nng pipe id */
    uint8_t state;     /* enum conn_state */
    bool has_peer;
    unsigned inflight; /* requests received and not yet answered */
    uint64_t last_us;  /* LIVE: last activity; otherwise when the state began */
    uint8_t peer[16];  /* IPv4 as ::ffff:a.b.c.d */
    bool noted;        /* sk_connguard_note_once has answered true for it */
};

enum reason { R_PEER, R_CAP_EVICT, R_CAP_REFUSE, R_IDLE, R_FDS, R_COUNT };

/* Rate limit of one kind of log line. */
struct reason_log {
    uint64_t pending; /* events since the last line */
    uint64_t total;
    uint64_t last_us; /* when the last line was written */
    bool ever;
    bool has_peer;
    uint8_t peer[16]; /* the last peer concerned */
    long fds;         /* R_FDS: descriptors open, -1 when none could be opened */
};

/* A line to write once the mutex is released. */
struct report {
    enum reason reason;
    uint64_t count, total;
    unsigned live;
    bool has_peer;
    uint8_t peer[16];
    long fds;
};

struct sk_connguard {
    nng_socket sock;
    unsigned max_conns, per_peer, idle_s;
    uint64_t idle_us, evict_min_us;
    long fd_limit; /* soft RLIMIT_NOFILE at start, -1 when unlimited */

    pthread_mutex_t mu; /* everything below */
    pthread_cond_t cv;  /* wakes the sweeper to stop */
    struct conn *conns;
    size_t n, alloc;
    unsigned live;
    struct reason_log logs[R_COUNT];
    bool stop;
    bool fd_count_ok;

    bool started;
    pthread_t thread;

    /* the sweeper thread's own (no lock) */
    sk_connguard_recover_fn recover;
    void *recover_arg;
    uint64_t short_since_us; /* short of descriptors since then; 0: not short */
    uint64_t short_last_us;  /* when last seen short */
    bool recovering;         /* the recover hook is owed a (successful) call */
};

/* ------------------------------------------------------------ limits */

static long nofile_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY ||
        rl.rlim_cur > (rlim_t)SK_CONNGUARD_MAX_LIMIT * 4u)
        return -1;
    return (long)rl.rlim_cur;
}

static unsigned cap_for_limit(long lim)
{
    if (lim < 0)
        return SK_CONNGUARD_MAX_LIMIT;
    if (lim > 2 * (long)SK_CONNGUARD_FD_RESERVE) {
        long c = lim - (long)SK_CONNGUARD_FD_RESERVE;
        return c > (long)SK_CONNGUARD_MAX_LIMIT ? SK_CONNGUARD_MAX_LIMIT : (unsigned)c;
    }
    return lim >= 2 ? (unsigned)(lim / 2) : 1u;
}

unsigned sk_connguard_effective_max(unsigned max_conns)
{
    unsigned ceiling = cap_for_limit(nofile_limit());
    unsigned want = max_conns != 0 ? max_conns : SK_CONNGUARD_DEFAULT_MAX;
    return want < ceiling ? want : ceiling;
}

/* ------------------------------------------------------------- peers */

static bool peer_of(nng_pipe p, uint8_t out[16])
{
    nng_sockaddr sa;
    if (nng_pipe_get_addr(p, NNG_OPT_REMADDR, &sa) != 0)
        return false;
    switch (sa.s_family) {
    case NNG_AF_INET:
        memset(out, 0, 10);
        out[10] = 0xff;
        out[11] = 0xff;
        memcpy(out + 12, &sa.s_in.sa_addr, 4); /* network byte order */
        return true;
    case NNG_AF_INET6:
        memcpy(out, sa.s_in6.sa_addr, 16);
        return true;
    default:
        return false; /* IPC, inproc: no peer */
    }
}

static void peer_text(const uint8_t peer[16], char *out, size_t cap)
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    const char *r = memcmp(peer, mapped, sizeof mapped) == 0
                        ? inet_ntop(AF_INET, peer + 12, out, (socklen_t)cap)
                        : inet_ntop(AF_INET6, peer, out, (socklen_t)cap);
    if (r == NULL)
        snprintf(out, cap, "?");
}

/* ------------------------------------------------------------- table */

static bool find(const struct sk_connguard *g, uint32_t id, size_t *at)
{
    for (size_t i = 0; i < g->n; i++) {
        if (g->conns[i].id == id) {
            *at = i;
            return true;
        }
    }
    return false;
}

static void remove_at(struct sk_connguard *g, size_t i)
{
    if (g->conns[i].state == CONN_LIVE) {
        g->live--;
        sk_metrics_conns_open(-1);
    }
    g->conns[i] = g->conns[g->n - 1];
    g->n--;
}

static bool add(struct sk_connguard *g, uint32_t id, enum conn_state state,
                const uint8_t *peer, uint64_t now)
{
    if (g->n == g->alloc) {
        size_t na = g->alloc ? g->alloc * 2 : 64;
        struct conn *nc = realloc(g->conns, na * sizeof *nc);
        if (nc == NULL)
            return false;
        g->conns = nc;
        g->alloc = na;
    }
    struct conn *c = &g->conns[g->n++];
    memset(c, 0, sizeof *c);
    c->id = id;
    c->state = (uint8_t)state;
    c->last_us = now;
    if (peer != NULL) {
        c->has_peer = true;
        memcpy(c->peer, peer, 16);
    }
    if (state == CONN_LIVE) {
        g->live++;
        sk_metrics_conns_open(1);
    }
    return true;
}

static unsigned peer_live(const struct sk_connguard *g, const uint8_t peer[16])
{
    unsigned k = 0;
    for (size_t i = 0; i < g->n; i++) {
        const struct conn *c = &g->conns[i];
        if (c->state == CONN_LIVE && c->has_peer && memcmp(c->peer, peer, 16) == 0)
            k++;
    }
    return k;
}

/* The open connection with nothing in flight that has been idle the
 * longest. */
static bool longest_idle(const struct sk_connguard *g, size_t *at)
{
    bool found = false;
    for (size_t i = 0; i < g->n; i++) {
        const struct conn *c = &g->conns[i];
        if (c->state != CONN_LIVE || c->inflight != 0)
            continue;
        if (!found || c->last_us < g->conns[*at].last_us) {
            *at = i;
            found = true;
        }
    }
    return found;
}

static void close_id(uint32_t id)
{
    nng_pipe p = NNG_PIPE_INITIALIZER;
    p.id = id;
    (void)nng_pipe_close(p);
}

/* ----------------------------------------------------------- logging */

/* Takes the line of reason r if one is due; under mu. */
static bool take_due(struct sk_connguard *g, enum reason r, uint64_t now, struct report *out)
{
    struct reason_log *l = &g->logs[r];
    if (l->pending == 0 || (l->ever && now - l->last_us < LOG_INTERVAL_US))
        return false;
    *out = (struct report){.reason = r, .count = l->pending, .total = l->total,
                           .live = g->live, .has_peer = l->has_peer, .fds = l->fds};
    memcpy(out->peer, l->peer, sizeof out->peer);
    l->pending = 0;
    l->last_us = now;
    l->ever = true;
    return true;
}

/* Counts n events of reason r; under mu. */
static void count_event(struct sk_connguard *g, enum reason r, uint64_t n, const uint8_t *peer,
                        long fds)
{
    static const int metric[R_COUNT] = {
        [R_PEER] = SK_METRICS_CONN_REFUSED_PEER, [R_CAP_EVICT] = SK_METRICS_CONN_CLOSED_EVICTED,
        [R_CAP_REFUSE] = SK_METRICS_CONN_REFUSED_CAP, [R_IDLE] = SK_METRICS_CONN_CLOSED_IDLE,
        [R_FDS] = -1};
    if (metric[r] >= 0)
        sk_metrics_conn((sk_metrics_conn_event)metric[r], n);
    struct reason_log *l = &g->logs[r];
    l->pending += n;
    l->total += n;
    if (peer != NULL) {
        memcpy(l->peer, peer, 16);
        l->has_peer = true;
    }
    l->fds = fds;
}

/* Counts n events of reason r; under mu.  True when *out holds a line to
 * write now. */
static bool note(struct sk_connguard *g, enum reason r, uint64_t n, uint64_t now,
                 const uint8_t *peer, long fds, struct report *out)
{
    count_event(g, r, n, peer, fds);
    return take_due(g, r, now, out);
}

static void emit(const struct sk_connguard *g, const struct report *r)
{
    char peer[INET6_ADDRSTRLEN] = "-";
    if (r->has_peer)
        peer_text(r->peer, peer, sizeof peer);
    unsigned long long count = r->count, total = r->total;
    switch (r->reason) {
    case R_PEER:
        sk_log_notice("connection refused: %llu new connection(s) since the last report from "
                      "peers already at the per-peer cap of %u (last from %s; %llu in all)",
                      count, g->per_peer, peer, total);
        break;
    case R_CAP_EVICT:
        sk_log_notice("connection cap reached: %llu connection(s) idle the longest closed since "
                      "the last report to make room (%llu in all); now %u open, cap %u",
                      count, total, r->live, g->max_conns);
        break;
    case R_CAP_REFUSE:
        sk_log_notice("connection cap reached: %llu new connection(s) refused since the last "
                      "report, none open idle for %u ms (%llu in all); now %u open, cap %u",
                      count, (unsigned)(g->evict_min_us / 1000u), total, r->live,
                      g->max_conns);
        break;
    case R_IDLE:
        sk_log_notice("idle connections: %llu closed since the last report after %u s without "
                      "a request (%llu in all); now %u open",
                      count, g->idle_s, total, r->live);
        break;
    case R_FDS:
        if (r->fds < 0)
            sk_log_error("descriptors exhausted: the process cannot open one more (limit %ld); "
                         "%u connections open, cap %u; new connections wait in the backlog "
                         "until descriptors are freed",
                         g->fd_limit, r->live, g->max_conns);
        else
            sk_log_error("descriptors nearly exhausted: %ld open, limit %ld; %u connections "
                         "open, cap %u",
                         r->fds, g->fd_limit, r->live, g->max_conns);
        break;
    default:
        break;
    }
}

/* ------------------------------------------------- pipe notifications */

static void on_add(nng_pipe p, nng_pipe_ev ev, void *arg)
{
    (void)ev;
    struct sk_connguard *g = arg;
    uint8_t peer[16];
    bool has_peer = peer_of(p, peer);
    uint32_t id = p.id;
    uint32_t victim = 0;
    bool close_new = false, due = false;
    struct report rep;
    size_t i = 0;

    pthread_mutex_lock(&g->mu);
    uint64_t now = sk_clock_us();
    if (find(g, id, &i) && g->conns[i].state == CONN_GONE) {
        /* its removal ran ahead of this notification: nothing to keep */
        remove_at(g, i);
        pthread_mutex_unlock(&g->mu);
        return;
    }
    if (has_peer && peer_live(g, peer) >= g->per_peer) {
        close_new = true;
        due = note(g, R_PEER, 1, now, peer, 0, &rep);
    } else if (g->live >= g->max_conns) {
        if (longest_idle(g, &i) && now - g->conns[i].last_us >= g->evict_min_us) {
            struct conn *c = &g->conns[i];
            victim = c->id;
            c->state = CONN_CLOSING;
            c->last_us = now;
            g->live--;
            sk_metrics_conns_open(-1);
            due = note(g, R_CAP_EVICT, 1, now, NULL, 0, &rep);
        } else {
            close_new = true;
            due = note(g, R_CAP_REFUSE, 1, now, NULL, 0, &rep);
        }
    }
    if (!add(g, id, close_new ? CONN_CLOSING : CONN_LIVE, has_peer ? peer : NULL, now))
        close_new = true; /* out of memory: a connection the guard cannot track */
    pthread_mutex_unlock(&g->mu);

    if (victim != 0)
        close_id(victim);
    if (close_new)
        (void)nng_pipe_close(p);
    if (due)
        emit(g, &rep);
}

static void on_remove(nng_pipe p, nng_pipe_ev ev, void *arg)
{
    (void)ev;
    struct sk_connguard *g = arg;
    size_t i;
    pthread_mutex_lock(&g->mu);
    if (find(g, p.id, &i))
        remove_at(g, i);
    else /* nng may report a removal while the arrival is still being handled */
        (void)add(g, p.id, CONN_GONE, NULL, sk_clock_us());
    pthread_mutex_unlock(&g->mu);
}

void sk_connguard_request(sk_connguard *g, nng_pipe p)
{
    size_t i;
    if (g == NULL)
        return;
    pthread_mutex_lock(&g->mu);
    if (find(g, p.id, &i) && g->conns[i].state == CONN_LIVE) {
        g->conns[i].inflight++;
        g->conns[i].last_us = sk_clock_us();
    }
    pthread_mutex_unlock(&g->mu);
}

void sk_connguard_reply(sk_connguard *g, nng_pipe p)
{
    size_t i;
    if (g == NULL)
        return;
    pthread_mutex_lock(&g->mu);
    if (find(g, p.id, &i) && g->conns[i].state == CONN_LIVE) {
        if (g->conns[i].inflight > 0)
            g->conns[i].inflight--;
        g->conns[i].last_us = sk_clock_us();
    }
    pthread_mutex_unlock(&g->mu);
}

bool sk_connguard_note_once(sk_connguard *g, nng_pipe p)
{
    size_t i;
    bool first = false;
    if (g == NULL)
        return true;
    pthread_mutex_lock(&g->mu);
    if (find(g, p.id, &i) && g->conns[i].state == CONN_LIVE && !g->conns[i].noted) {
        g->conns[i].noted = true;
        first = true;
    }
    pthread_mutex_unlock(&g->mu);
    return first;
}

/* ----------------------------------------------------------- sweeper */

/* Open descriptors of the process, or -1 with *err set. */
static long count_fds(int *err)
{
    DIR *d = opendir("/proc/self/fd");
    if (d == NULL) {
        *err = errno;
        return -1;
    }
    long n = 0;
    const struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n > 0 ? n - 1 : 0; /* less the directory's own */
}

/* Under mu: marks up to CLOSE_BATCH idle connections closing and puts
 * their ids in to_close[]; puts closing pipes not removed for a while in
 * probe[]; forgets stale early removals.  Returns true when more idle
 * connections are left than fitted. */
static bool sweep_locked(struct sk_connguard *g, uint64_t now, uint32_t *to_close, size_t *nclose,
                         uint32_t *probe, size_t *nprobe)
{
    *nclose = *nprobe = 0;
    bool more = false;
    size_t i = 0;
    while (i < g->n) {
        struct conn *c = &g->conns[i];
        if (c->state == CONN_LIVE && c->inflight == 0 && now - c->last_us >= g->idle_us) {
            if (*nclose == CLOSE_BATCH) {
                more = true;
            } else {
                to_close[(*nclose)++] = c->id;
                c->state = CONN_CLOSING;
                c->last_us = now;
                g->live--;
                sk_metrics_conns_open(-1);
            }
        } else if (c->state == CONN_CLOSING && now - c->last_us >= STALE_US) {
            if (*nprobe < CLOSE_BATCH) {
                probe[(*nprobe)++] = c->id;
                c->last_us = now;
            }
        } else if (c->state == CONN_GONE && now - c->last_us >= STALE_US) {
            remove_at(g, i);
            continue;
        }
        i++;
    }
    return more;
}

static void sweep(struct sk_connguard *g, uint32_t *to_close, uint32_t *probe)
{
    struct report reps[R_COUNT + 1];
    size_t nreps = 0, nclose, nprobe, i;
    bool more;

    do {
        pthread_mutex_lock(&g->mu);
        uint64_t now = sk_clock_us();
        more = sweep_locked(g, now, to_close, &nclose, probe, &nprobe);
        if (nclose > 0 && nreps < R_COUNT + 1 &&
            note(g, R_IDLE, nclose, now, NULL, 0, &reps[nreps]))
            nreps++;
        pthread_mutex_unlock(&g->mu);
        for (i = 0; i < nclose; i++)
            close_id(to_close[i]);
        for (i = 0; i < nprobe; i++) {
            nng_pipe p = NNG_PIPE_INITIALIZER;
            p.id = probe[i];
            if (nng_pipe_close(p) != NNG_ENOENT)
                continue;
            /* gone without a removal notification reaching the table */
            size_t at;
            pthread_mutex_lock(&g->mu);
            if (find(g, probe[i], &at) && g->conns[at].state == CONN_CLOSING)
                remove_at(g, at);
            pthread_mutex_unlock(&g->mu);
        }
    } while (more);

    long fds = 0;
    bool short_of_fds = false;
    if (g->fd_count_ok) {
        int err = 0;
        fds = count_fds(&err);
        if (fds < 0 && (err == EMFILE || err == ENFILE))
            short_of_fds = true; /* not even one more descriptor */
        else if (fds < 0)
            g->fd_count_ok = false; /* no /proc here: nothing to count with */
        else if (g->fd_limit > 0 && g->fd_limit - fds < (long)(SK_CONNGUARD_FD_RESERVE / 2))
            short_of_fds = true;
    }

    uint64_t now = sk_clock_us();
    if (short_of_fds) {
        if (g->short_since_us == 0)
            g->short_since_us = now;
        g->short_last_us = now;
    } else if (g->short_since_us != 0 && now - g->short_last_us >= WEDGE_GAP_US) {
        g->short_since_us = 0; /* the spell is over */
    }
    if (short_of_fds && g->recover != NULL && !g->recovering &&
        now - g->short_since_us >= WEDGE_US) {
        g->recovering = true;
        pthread_mutex_lock(&g->mu);
        unsigned live = g->live;
        pthread_mutex_unlock(&g->mu);
        sk_log_error("descriptors short for %u s (%u connections open, limit %ld): closing "
                     "the listener, which frees connections stuck before the handshake, and "
                     "listening again",
                     SK_CONNGUARD_WEDGE_S, live, g->fd_limit);
    }
    if (g->recovering && g->recover(g->recover_arg) == 0) {
        g->recovering = false;
        g->short_since_us = 0; /* the next recovery only after another spell */
    }

    pthread_mutex_lock(&g->mu);
    now = sk_clock_us();
    if (short_of_fds)
        count_event(g, R_FDS, 1, NULL, fds);
    /* lines still owed for events since the last one of their kind */
    for (int r = 0; r < R_COUNT && nreps < R_COUNT + 1; r++)
        if (take_due(g, (enum reason)r, now, &reps[nreps]))
            nreps++;
    pthread_mutex_unlock(&g->mu);
    for (i = 0; i < nreps; i++)
        emit(g, &reps[i]);
}

static void *sweeper_main(void *arg)
{
    struct sk_connguard *g = arg;
    uint32_t to_close[CLOSE_BATCH], probe[CLOSE_BATCH];
    pthread_mutex_lock(&g->mu);
    while (!g->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += (long)(TICK_MS % 1000u) * 1000000L;
        ts.tv_sec += (time_t)(TICK_MS / 1000u) + ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        while (!g->stop && pthread_cond_timedwait(&g->cv, &g->mu, &ts) == 0) {
        }
        if (g->stop)
            break;
        pthread_mutex_unlock(&g->mu);
        sweep(g, to_close, probe);
        pthread_mutex_lock(&g->mu);
    }
    pthread_mutex_unlock(&g->mu);
    return NULL;
}

/* ---------------------------------------------------------- lifetime */

int sk_connguard_new(sk_connguard **out, nng_socket sock, const sk_connguard_config *cfg)
{
    *out = NULL;
    struct sk_connguard *g = calloc(1, sizeof *g);
    if (g == NULL)
        return SK_ERR_NOMEM;
    sk_connguard_config c = cfg != NULL ? *cfg : (sk_connguard_config){0};
    g->sock = sock;
    g->fd_limit = nofile_limit();
    g->max_conns = sk_connguard_effective_max(c.max_conns);
    if (c.max_conns != 0 && g->max_conns < c.max_conns)
        sk_log_notice("a cap of %u connections needs more descriptors than the limit of %ld "
                      "leaves (less %u kept for files); using %u (raise ulimit -n for more)",
                      c.max_conns, g->fd_limit, SK_CONNGUARD_FD_RESERVE, g->max_conns);
    g->per_peer = c.max_conns_per_peer != 0 ? c.max_conns_per_peer
                                            : (g->max_conns > 1 ? g->max_conns / 2 : 1);
    if (g->per_peer > SK_CONNGUARD_MAX_LIMIT)
        g->per_peer = SK_CONNGUARD_MAX_LIMIT;
    g->idle_s = c.idle_seconds != 0 ? c.idle_seconds : SK_CONNGUARD_DEFAULT_IDLE_S;
    if (g->idle_s > SK_CONNGUARD_MAX_LIMIT)
        g->idle_s = SK_CONNGUARD_MAX_LIMIT;
    g->idle_us = (uint64_t)g->idle_s * US_PER_S;
    g->evict_min_us = (uint64_t)SK_CONNGUARD_EVICT_MIN_IDLE_MS * 1000u;
    g->fd_count_ok = true;
    g->recover = c.recover;
    g->recover_arg = c.recover_arg;

    pthread_condattr_t ca;
    if (pthread_condattr_init(&ca) != 0) {
        free(g);
        return SK_ERR_NOMEM;
    }
    int rv = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    if (rv == 0)
        rv = pthread_cond_init(&g->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (rv != 0) {
        free(g);
        return SK_ERR_NOMEM;
    }
    if (pthread_mutex_init(&g->mu, NULL) != 0) {
        pthread_cond_destroy(&g->cv);
        free(g);
        return SK_ERR_NOMEM;
    }
    if (nng_pipe_notify(sock, NNG_PIPE_EV_ADD_PRE, on_add, g) != 0 ||
        nng_pipe_notify(sock, NNG_PIPE_EV_REM_POST, on_remove, g) != 0) {
        (void)nng_pipe_notify(sock, NNG_PIPE_EV_ADD_PRE, NULL, NULL);
        (void)nng_pipe_notify(sock, NNG_PIPE_EV_REM_POST, NULL, NULL);
        pthread_mutex_destroy(&g->mu);
        pthread_cond_destroy(&g->cv);
        free(g);
        return SK_SVC_ERR_TRANSPORT;
    }
    *out = g;
    return SK_OK;
}

int sk_connguard_start(sk_connguard *g)
{
    if (g->started)
        return SK_OK;
    g->stop = false;
    if (pthread_create(&g->thread, NULL, sweeper_main, g) != 0)
        return SK_ERR_NOMEM;
    g->started = true;
    return SK_OK;
}

void sk_connguard_limits(const sk_connguard *g, unsigned *max_conns, unsigned *per_peer,
                         unsigned *idle_seconds)
{
    if (max_conns != NULL)
        *max_conns = g->max_conns;
    if (per_peer != NULL)
        *per_peer = g->per_peer;
    if (idle_seconds != NULL)
        *idle_seconds = g->idle_s;
}

void sk_connguard_stop(sk_connguard *g)
{
    if (g == NULL || !g->started)
        return;
    pthread_mutex_lock(&g->mu);
    g->stop = true;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
    pthread_join(g->thread, NULL);
    g->started = false;
}

void sk_connguard_free(sk_connguard *g)
{
    if (g == NULL)
        return;
    sk_connguard_stop(g);
    pthread_mutex_destroy(&g->mu);
    pthread_cond_destroy(&g->cv);
    free(g->conns);
    free(g);
}
