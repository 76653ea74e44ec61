/* SPDX-License-Identifier: Apache-2.0 */
/*
 * connguard.h - bounds on the connections of a listening nng socket.
 *
 * A connection that finished the SP handshake holds a descriptor until one
 * side closes it; nng itself never closes an idle one.  Without a bound,
 * enough idle connections use up the process's descriptors: accept(2) then
 * fails with EMFILE inside nng (which retries every few milliseconds, but
 * only gets a descriptor when one is freed), and every new client waits in
 * the kernel's backlog, so the service stops.  The guard keeps:
 *
 *   - a cap on open connections in total (default: the soft RLIMIT_NOFILE
 *     at start minus SK_CONNGUARD_FD_RESERVE, at most
 *     SK_CONNGUARD_DEFAULT_MAX; a larger configured cap is lowered to that
 *     bound, with a notice).  At the cap a new connection makes room: the
 *     connection idle the longest (and for at least
 *     SK_CONNGUARD_EVICT_MIN_IDLE_MS) is closed; if none is, the new one is;
 *   - a cap per peer (the remote IP address; connections over IPC or inproc
 *     have no peer and only count towards the total): the peer's newest
 *     connection over its cap is closed;
 *   - an idle timeout: a connection with no request in flight is closed
 *     when its last complete request, reply or its arrival is older than
 *     idle_seconds.  Bytes of an unfinished request are not activity, so a
 *     peer that trickles a frame is closed like any idle one.
 *
 * It works through nng's pipe notifications (a table of the pipes under a
 * mutex) and a sweeper thread that closes idle pipes, counts the process's
 * open descriptors (from /proc/self/fd where there is one) and writes the
 * rate-limited log lines: at most one line per SK_CONNGUARD_LOG_INTERVAL_S
 * seconds for each reason (refused by the per-peer cap, refused or room
 * made at the total cap, closed idle, descriptors nearly exhausted), with
 * counts since the previous line and in all.
 *
 * Connections still in the SP handshake are not pipes yet and escape the
 * guard; nng should drop each after 10 s without a handshake, but a flood of
 * them can use up every descriptor, and a listener can stay wedged with its
 * descriptors held after such a flood.  So when the process has been short
 * of descriptors for SK_CONNGUARD_WEDGE_S seconds (longer than nng's
 * handshake timeout; breaks under 2 s do not end the spell), the guard
 * calls the configured recover hook (the server closes its listener, which
 * frees the connections still in the handshake, and listens again), and
 * calls it again every tick until it succeeds; once more only after another SK_CONNGUARD_WEDGE_S seconds short
 * of descriptors.  Each recovery is logged.
 */
#ifndef SK_CONNGUARD_H
#define SK_CONNGUARD_H

#include <stdbool.h>

#include <nng/nng.h>

#define SK_CONNGUARD_FD_RESERVE 64u         /* descriptors kept for everything else */
#define SK_CONNGUARD_DEFAULT_MAX 512u
#define SK_CONNGUARD_DEFAULT_IDLE_S 60u
#define SK_CONNGUARD_EVICT_MIN_IDLE_MS 1000u
#define SK_CONNGUARD_LOG_INTERVAL_S 5u
#define SK_CONNGUARD_MAX_LIMIT 1000000u     /* largest accepted cap or timeout */
#define SK_CONNGUARD_WEDGE_S 15u            /* short of descriptors this long: recover */

/* Called from the sweeper thread (no lock of the guard held) when the
 * process has been short of descriptors for SK_CONNGUARD_WEDGE_S seconds;
 * returns 0 when done, anything else to be called again at the next tick. */
typedef int (*sk_connguard_recover_fn)(void *arg);

typedef struct sk_connguard_config {
    unsigned max_conns;          /* 0: from RLIMIT_NOFILE, see above */
    unsigned max_conns_per_peer; /* 0: half the total cap (one address - a NAT, a load
                                    balancer in front - may use much of it, not all) */
    unsigned idle_seconds;       /* 0: SK_CONNGUARD_DEFAULT_IDLE_S */
    sk_connguard_recover_fn recover; /* NULL: none (exhaustion is only logged) */
    void *recover_arg;
} sk_connguard_config;

typedef struct sk_connguard sk_connguard;

/* The total cap that max_conns (0 for the default) comes to under the
 * current descriptor limit. */
unsigned sk_connguard_effective_max(unsigned max_conns);

/* Resolves the defaults and registers the pipe notifications on sock; call
 * before the socket's listener starts.  Returns SK_OK, SK_ERR_NOMEM or
 * SK_SVC_ERR_TRANSPORT. */
int sk_connguard_new(sk_connguard **out, nng_socket sock, const sk_connguard_config *cfg);

/* Starts the sweeper thread.  Returns SK_OK or SK_ERR_NOMEM. */
int sk_connguard_start(sk_connguard *g);

/* A complete request arrived on p (from nng_msg_get_pipe): p is active and
 * has one more request in flight, which keeps it from being closed. */
void sk_connguard_request(sk_connguard *g, nng_pipe p);

/* The request in flight on p was answered (or dropped): active again, one
 * request fewer in flight. */
void sk_connguard_reply(sk_connguard *g, nng_pipe p);

/* True the first time it is called for the live connection p, false after
 * that (and for a connection the guard does not know): something worth one
 * log line per connection (a refused kind of request) is logged once, not
 * once per request.  A NULL guard answers true. */
bool sk_connguard_note_once(sk_connguard *g, nng_pipe p);

/* The caps in force. */
void sk_connguard_limits(const sk_connguard *g, unsigned *max_conns, unsigned *per_peer,
                         unsigned *idle_seconds);

/* Stops and joins the sweeper (call before the socket is closed; the pipe
 * notifications keep working).  Idempotent; NULL is ignored. */
void sk_connguard_stop(sk_connguard *g);

/* Frees the guard; only after nng_close() on its socket has returned (then
 * no notification can run any more).  Stops the sweeper if still running.
 * NULL is ignored. */
void sk_connguard_free(sk_connguard *g);

#endif
