/* SPDX-License-Identifier: Apache-2.0 */
/*
 * longpoll.h - where the share server parks relying-party polls that asked
 * to wait (SessionPoll.wait_ms) for a PENDING session's result.
 *
 * The handler never waits inside a store transaction: a poll that finds its
 * session PENDING ends its transaction, parks here until the generation
 * counter moves (the handler calls sk_longpoll_notify() after committing a
 * request that changed a session's state or destroyed a key), its deadline
 * passes or the server stops, and then runs the poll again in a new
 * transaction.  One counter serves all sessions: a change wakes every parked
 * poll, and each one looks at its own session again.
 *
 * At most `cap` polls are parked at a time (the service sets it to its
 * worker count minus one, so one worker is always free for device
 * requests); a poll beyond the cap is answered at once.  Thread-safe.
 */
#ifndef SK_LONGPOLL_H
#define SK_LONGPOLL_H

#include <stdbool.h>
#include <stdint.h>

typedef struct sk_longpoll sk_longpoll;

/* Returns SK_OK or SK_ERR_NOMEM.  The cap starts at 0 (nothing parks). */
int sk_longpoll_new(sk_longpoll **out);
void sk_longpoll_free(sk_longpoll *lp);

/* Sets how many polls may be parked at once. */
void sk_longpoll_set_cap(sk_longpoll *lp, unsigned cap);

/* The generation: read it before the transaction whose PENDING answer a
 * poll may wait on, so a commit between that transaction and the wait is
 * not missed. */
uint64_t sk_longpoll_generation(sk_longpoll *lp);

/* After a commit that changed a session: advance the generation and wake
 * every parked poll. */
void sk_longpoll_notify(sk_longpoll *lp);

/* Takes a parking slot: false when the cap is reached or the server stops
 * (answer at once then).  Every true is matched by sk_longpoll_leave(). */
bool sk_longpoll_enter(sk_longpoll *lp);
void sk_longpoll_leave(sk_longpoll *lp);

/* Waits, holding a slot, until the generation differs from *gen (then
 * stores the new one in *gen and returns true), or until deadline_ms
 * (CLOCK_MONOTONIC milliseconds, sk_longpoll_now_ms()) or a stop (false). */
bool sk_longpoll_wait(sk_longpoll *lp, uint64_t *gen, uint64_t deadline_ms);

/* Wakes every parked poll for good and lets none park again; called before
 * the server's workers are stopped. */
void sk_longpoll_stop(sk_longpoll *lp);

/* CLOCK_MONOTONIC in milliseconds. */
uint64_t sk_longpoll_now_ms(void);

#endif
