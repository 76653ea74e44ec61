/* SPDX-License-Identifier: Apache-2.0 */
/* longpoll.c - parked relying-party polls (longpoll.h): a mutex, a
 * condition variable on CLOCK_MONOTONIC and a generation counter. */
#define _POSIX_C_SOURCE 200809L
#include "longpoll.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "splitkey/splitkey.h"

struct sk_longpoll {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint64_t gen;
    unsigned parked, cap;
    bool stopping;
};

uint64_t sk_longpoll_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int sk_longpoll_new(sk_longpoll **out)
{
    *out = NULL;
    sk_longpoll *lp = calloc(1, sizeof *lp);
    if (lp == NULL)
        return SK_ERR_NOMEM;
    pthread_condattr_t attr;
    if (pthread_condattr_init(&attr) != 0) {
        free(lp);
        return SK_ERR_NOMEM;
    }
    int ok = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0 &&
             pthread_cond_init(&lp->cv, &attr) == 0;
    pthread_condattr_destroy(&attr);
    if (!ok) {
        free(lp);
        return SK_ERR_NOMEM;
    }
    if (pthread_mutex_init(&lp->mu, NULL) != 0) {
        pthread_cond_destroy(&lp->cv);
        free(lp);
        return SK_ERR_NOMEM;
    }
    *out = lp;
    return SK_OK;
}

void sk_longpoll_free(sk_longpoll *lp)
{
    if (lp == NULL)
        return;
    pthread_cond_destroy(&lp->cv);
    pthread_mutex_destroy(&lp->mu);
    free(lp);
}

void sk_longpoll_set_cap(sk_longpoll *lp, unsigned cap)
{
    pthread_mutex_lock(&lp->mu);
    lp->cap = cap;
    pthread_mutex_unlock(&lp->mu);
}

uint64_t sk_longpoll_generation(sk_longpoll *lp)
{
    pthread_mutex_lock(&lp->mu);
    uint64_t g = lp->gen;
    pthread_mutex_unlock(&lp->mu);
    return g;
}

void sk_longpoll_notify(sk_longpoll *lp)
{
    pthread_mutex_lock(&lp->mu);
    lp->gen++;
    pthread_cond_broadcast(&lp->cv);
    pthread_mutex_unlock(&lp->mu);
}

bool sk_longpoll_enter(sk_longpoll *lp)
{
    pthread_mutex_lock(&lp->mu);
    bool ok = !lp->stopping && lp->parked < lp->cap;
    if (ok)
        lp->parked++;
    pthread_mutex_unlock(&lp->mu);
    return ok;
}

void sk_longpoll_leave(sk_longpoll *lp)
{
    pthread_mutex_lock(&lp->mu);
    if (lp->parked > 0)
        lp->parked--;
    pthread_mutex_unlock(&lp->mu);
}

bool sk_longpoll_wait(sk_longpoll *lp, uint64_t *gen, uint64_t deadline_ms)
{
    struct timespec ts = {.tv_sec = (time_t)(deadline_ms / 1000u),
                          .tv_nsec = (long)(deadline_ms % 1000u) * 1000000L};
    bool changed = false;
    pthread_mutex_lock(&lp->mu);
    while (!lp->stopping && lp->gen == *gen) {
        int rv = pthread_cond_timedwait(&lp->cv, &lp->mu, &ts);
        if (rv != 0)
            break; /* ETIMEDOUT (or an error: stop waiting either way) */
    }
    if (!lp->stopping && lp->gen != *gen) {
        *gen = lp->gen;
        changed = true;
    }
    pthread_mutex_unlock(&lp->mu);
    return changed;
}

void sk_longpoll_stop(sk_longpoll *lp)
{
    if (lp == NULL)
        return;
    pthread_mutex_lock(&lp->mu);
    lp->stopping = true;
    pthread_cond_broadcast(&lp->cv);
    pthread_mutex_unlock(&lp->mu);
}
