/* SPDX-License-Identifier: Apache-2.0 */
/* pool.c - the server-key pool and its refill thread. */
#define _POSIX_C_SOURCE 200809L
#include "pool.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "log.h"
#include "metrics.h"
#include "splitkey/splitkey.h"

struct sk_pool_filler {
    sk_pool_config cfg;
    pthread_t thread;
    bool running;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
    bool kicked;
    size_t added;
};

int sk_pool_fill_one(sk_store *store, const sk_master_key *master, sk_profile profile)
{
    size_t len = sk_server_key_len(profile);
    if (store == NULL || master == NULL || len == 0)
        return SK_ERR_ARG;
    sk_server_key *key = NULL;
    uint8_t pool_id[SK_STORE_ID_LEN];
    uint8_t *plain = sodium_malloc(len);
    size_t sealed_len = sk_sealed_len(len);
    uint8_t *sealed = malloc(sealed_len);
    int rc = (plain && sealed) ? SK_OK : SK_ERR_NOMEM;
    if (rc == SK_OK)
        rc = sk_server_keygen(&key, profile);
    if (rc == SK_OK)
        rc = sk_server_key_export(key, plain, len);
    if (rc == SK_OK) {
        randombytes_buf(pool_id, sizeof pool_id);
        rc = sk_seal(master, sealed, sealed_len, plain, len, pool_id, sizeof pool_id);
    }
    if (rc == SK_OK)
        rc = sk_store_pool_add(store, NULL, pool_id, (uint32_t)profile, sealed, sealed_len);
    sk_server_key_free(key);
    if (plain != NULL)
        sodium_free(plain); /* wipes */
    free(sealed);
    return rc;
}

int sk_pool_take_key(sk_store *store, sk_store_txn *txn, const sk_master_key *master,
                     sk_profile profile, sk_server_key **out)
{
    if (out == NULL || master == NULL)
        return SK_ERR_ARG;
    *out = NULL;
    uint8_t pool_id[SK_STORE_ID_LEN];
    uint8_t *sealed = NULL;
    size_t sealed_len = 0, plain_len = 0;
    int rc = sk_store_pool_take(store, txn, pool_id, &sealed, &sealed_len, (uint32_t)profile);
    if (rc != SK_OK)
        return rc;
    size_t cap = sealed_len > SK_SEAL_OVERHEAD ? sealed_len - SK_SEAL_OVERHEAD : 0;
    uint8_t *plain = sodium_malloc(cap ? cap : 1);
    if (plain == NULL)
        rc = SK_ERR_NOMEM;
    if (rc == SK_OK)
        rc = sk_unseal(master, plain, cap, &plain_len, sealed, sealed_len, pool_id,
                       sizeof pool_id);
    if (rc == SK_OK)
        rc = sk_server_key_import(out, plain, plain_len);
    if (rc == SK_OK && sk_server_key_profile(*out) != profile) {
        sk_server_key_free(*out);
        *out = NULL;
        rc = SK_ERR_KEY_SIZE;
    }
    if (plain != NULL)
        sodium_free(plain);
    free(sealed); /* sealed: not secret */
    return rc;
}

/* Adds keys until every profile has its target; returns true if it added
 * any (so the caller loops again at once). */
static bool fill_round(struct sk_pool_filler *f)
{
    bool added = false;
    for (size_t i = 0; i < f->cfg.nprofiles; i++) {
        pthread_mutex_lock(&f->mu);
        bool stop = f->stop;
        pthread_mutex_unlock(&f->mu);
        if (stop)
            return false;
        sk_profile p = f->cfg.profiles[i];
        size_t count = 0;
        int rc = sk_store_pool_count(f->cfg.store, NULL, &count, (uint32_t)p);
        if (rc != SK_OK) {
            sk_log_error("server-key pool: cannot count %s keys: %s", sk_profile_name(p),
                         sk_strerror(rc));
            continue;
        }
        sk_metrics_pool_keys(sk_profile_name(p), (int64_t)count);
        if (count >= f->cfg.target)
            continue;
        uint64_t t0 = sk_clock_us();
        rc = sk_pool_fill_one(f->cfg.store, f->cfg.master, p);
        if (rc != SK_OK) {
            sk_log_error("server-key pool: cannot add a %s key: %s", sk_profile_name(p),
                         sk_strerror(rc));
            continue;
        }
        sk_metrics_pool_keys(sk_profile_name(p), (int64_t)count + 1);
        pthread_mutex_lock(&f->mu);
        f->added++;
        pthread_mutex_unlock(&f->mu);
        sk_log_notice("server-key pool: added a %s key (%zu of %u) in %llu ms",
                      sk_profile_name(p), count + 1, f->cfg.target,
                      (unsigned long long)((sk_clock_us() - t0) / 1000u));
        added = true;
    }
    return added;
}

static void *filler_main(void *arg)
{
    struct sk_pool_filler *f = arg;
    unsigned ms = f->cfg.recheck_ms ? f->cfg.recheck_ms : 10000u;
    for (;;) {
        bool added = fill_round(f);
        pthread_mutex_lock(&f->mu);
        if (!added && !f->stop && !f->kicked) {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            ts.tv_sec += ms / 1000u;
            ts.tv_nsec += (long)(ms % 1000u) * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            while (!f->stop && !f->kicked) {
                if (pthread_cond_timedwait(&f->cv, &f->mu, &ts) != 0)
                    break; /* timed out: recount */
            }
        }
        f->kicked = false;
        bool stop = f->stop;
        pthread_mutex_unlock(&f->mu);
        if (stop)
            break;
    }
    return NULL;
}

int sk_pool_filler_start(sk_pool_filler **out, const sk_pool_config *cfg)
{
    if (out == NULL || cfg == NULL || cfg->store == NULL || cfg->master == NULL ||
        cfg->nprofiles > SK_POOL_MAX_PROFILES)
        return SK_ERR_ARG;
    *out = NULL;
    struct sk_pool_filler *f = calloc(1, sizeof *f);
    if (f == NULL)
        return SK_ERR_NOMEM;
    f->cfg = *cfg;
    for (size_t i = 0; i < cfg->nprofiles; i++) {
        /* the pool gauge from the start, also with no refill thread */
        size_t count = 0;
        if (sk_store_pool_count(cfg->store, NULL, &count, (uint32_t)cfg->profiles[i]) == SK_OK)
            sk_metrics_pool_keys(sk_profile_name(cfg->profiles[i]), (int64_t)count);
    }
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (cfg->target > 0 && cfg->nprofiles > 0) {
        if (pthread_create(&f->thread, NULL, filler_main, f) != 0) {
            pthread_cond_destroy(&f->cv);
            pthread_mutex_destroy(&f->mu);
            free(f);
            return SK_ERR_NOMEM;
        }
        f->running = true;
    }
    *out = f;
    return SK_OK;
}

void sk_pool_filler_kick(sk_pool_filler *f)
{
    if (f == NULL)
        return;
    pthread_mutex_lock(&f->mu);
    f->kicked = true;
    pthread_cond_signal(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

size_t sk_pool_filler_added(sk_pool_filler *f)
{
    pthread_mutex_lock(&f->mu);
    size_t n = f->added;
    pthread_mutex_unlock(&f->mu);
    return n;
}

void sk_pool_filler_stop(sk_pool_filler *f)
{
    if (f == NULL)
        return;
    pthread_mutex_lock(&f->mu);
    f->stop = true;
    pthread_cond_signal(&f->cv);
    pthread_mutex_unlock(&f->mu);
    if (f->running)
        pthread_join(f->thread, NULL);
    pthread_cond_destroy(&f->cv);
    pthread_mutex_destroy(&f->mu);
    free(f);
}
