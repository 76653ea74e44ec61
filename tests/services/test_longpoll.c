/* SPDX-License-Identifier: Apache-2.0 */
/* test_longpoll.c - the share server's parked polls (longpoll.h): the cap,
 * a notify wakes a waiter with the new generation, a commit between reading
 * the generation and waiting is not missed, the deadline ends a wait, and a
 * stop wakes every waiter and lets none park again.  No wall-clock
 * assertions: waits that must end early have deadlines far away. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "longpoll.h"
#include "splitkey/splitkey.h"
#include "testutil.h"

#define FAR_MS 600000u /* ten minutes: a wait that must end before this */

typedef struct waiter {
    sk_longpoll *lp;
    uint64_t gen;
    bool changed;
    atomic_int started;
} waiter;

static void *wait_main(void *arg)
{
    waiter *w = arg;
    atomic_store(&w->started, 1);
    w->changed = sk_longpoll_wait(w->lp, &w->gen, sk_longpoll_now_ms() + FAR_MS);
    return NULL;
}

static void nap(void)
{
    struct timespec ts = {0, 20 * 1000000L};
    nanosleep(&ts, NULL);
}

int main(void)
{
    sk_test_init();
    sk_longpoll *lp = NULL;
    CHECK_OK(sk_longpoll_new(&lp));
    if (lp == NULL)
        return sk_test_done("test_longpoll");

    /* the cap: 0 at first, then two slots */
    CHECK(!sk_longpoll_enter(lp));
    sk_longpoll_set_cap(lp, 2);
    CHECK(sk_longpoll_enter(lp));
    CHECK(sk_longpoll_enter(lp));
    CHECK(!sk_longpoll_enter(lp));
    sk_longpoll_leave(lp);
    CHECK(sk_longpoll_enter(lp));
    sk_longpoll_leave(lp);
    sk_longpoll_leave(lp);

    /* a notify before the wait (after the generation was read) is not missed */
    uint64_t gen = sk_longpoll_generation(lp);
    sk_longpoll_notify(lp);
    CHECK(sk_longpoll_wait(lp, &gen, sk_longpoll_now_ms() + FAR_MS));
    CHECK(gen == sk_longpoll_generation(lp));

    /* the deadline ends a wait with nothing changed */
    uint64_t g2 = gen;
    CHECK(!sk_longpoll_wait(lp, &g2, sk_longpoll_now_ms() + 30));
    CHECK(g2 == gen);
    CHECK(!sk_longpoll_wait(lp, &g2, 0)); /* a deadline already past */

    /* a notify wakes a parked waiter */
    waiter w = {.lp = lp, .gen = sk_longpoll_generation(lp)};
    atomic_init(&w.started, 0);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, wait_main, &w) == 0);
    while (!atomic_load(&w.started))
        nap();
    nap();
    sk_longpoll_notify(lp);
    pthread_join(t, NULL);
    CHECK(w.changed);
    CHECK(w.gen == sk_longpoll_generation(lp));

    /* a stop wakes every waiter (nothing changed) and no one parks again */
    waiter ws[3];
    pthread_t ts[3];
    for (int i = 0; i < 3; i++) {
        ws[i] = (waiter){.lp = lp, .gen = sk_longpoll_generation(lp)};
        atomic_init(&ws[i].started, 0);
        CHECK(pthread_create(&ts[i], NULL, wait_main, &ws[i]) == 0);
    }
    for (int i = 0; i < 3; i++)
        while (!atomic_load(&ws[i].started))
            nap();
    nap();
    sk_longpoll_stop(lp);
    for (int i = 0; i < 3; i++) {
        pthread_join(ts[i], NULL);
        CHECK(!ws[i].changed);
    }
    CHECK(!sk_longpoll_enter(lp));
    uint64_t g3 = sk_longpoll_generation(lp);
    CHECK(!sk_longpoll_wait(lp, &g3, sk_longpoll_now_ms() + FAR_MS)); /* returns at once */
    sk_longpoll_stop(NULL);
    sk_longpoll_free(lp);
    sk_longpoll_free(NULL);
    return sk_test_done("test_longpoll");
}
