/* SPDX-License-Identifier: Apache-2.0 */
#define _POSIX_C_SOURCE 200809L
/* floor.c - the key material for the bench and the GMP floor: the server
 * step's unavoidable arithmetic with nothing around it. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

int bench_key_init(bench_key *bk, sk_profile profile)
{
    memset(bk, 0, sizeof *bk);
    bk->profile = profile;
    bk->k = sk_profile_bits(profile);
    size_t k8 = bk->k / 8;
    uint8_t *ds = malloc(k8);
    bk->n1_bytes = malloc(k8);
    bk->dc_bytes = malloc(SK_DC_LEN(bk->k));
    sk_client_share *cs = NULL;
    sk_server_key *key = NULL;
    int rc = sk_client_keygen(&cs, ds, k8, profile);
    if (rc == SK_OK)
        rc = sk_server_keygen(&key, profile);
    if (rc == SK_OK)
        rc = sk_client_share_modulus(cs, bk->n1_bytes, k8);
    if (rc == SK_OK)
        rc = sk_client_share_export_dc(cs, bk->dc_bytes, SK_DC_LEN(bk->k));
    if (rc == SK_OK)
        rc = sk_server_share_new(&bk->ss, bk->n1_bytes, k8, ds, k8, key);
    if (rc == SK_OK)
        rc = sk_server_share_pubkey(bk->ss, &bk->pub);
    mpz_inits(bk->n1, bk->n2, bk->n, bk->n1inv, bk->ds, bk->p, bk->q, bk->dp, bk->dq, bk->qinv,
              NULL);
    if (rc == SK_OK) {
        const sk_server_share *s = bk->ss;
        mpz_set(bk->n1, s->n1);
        mpz_set(bk->n2, s->key.n2);
        mpz_set(bk->n, s->n);
        mpz_set(bk->n1inv, s->n1inv);
        sk_sec_to_mpz(bk->ds, &s->ds);
        sk_sec_to_mpz(bk->p, &s->key.p);
        sk_sec_to_mpz(bk->q, &s->key.q);
        sk_sec_to_mpz(bk->dp, &s->key.dp);
        sk_sec_to_mpz(bk->dq, &s->key.dq);
        sk_sec_to_mpz(bk->qinv, &s->key.qinv);
    }
    sk_wipe(ds, k8);
    free(ds);
    sk_client_share_free(cs);
    sk_server_key_free(key);
    return rc;
}

void bench_key_free(bench_key *bk)
{
    sk_server_share_free(bk->ss);
    sk_pubkey_free(bk->pub);
    free(bk->n1_bytes);
    if (bk->dc_bytes != NULL)
        sk_wipe(bk->dc_bytes, SK_DC_LEN(bk->k));
    free(bk->dc_bytes);
    mpz_clears(bk->n1, bk->n2, bk->n, bk->n1inv, bk->ds, bk->p, bk->q, bk->dp, bk->dq, bk->qinv,
               NULL);
}

void floor_gmp(mpz_t s, const bench_key *bk, const mpz_t m, const mpz_t y)
{
    mpz_t t, s1, s2, sp, sq, chk;
    mpz_inits(t, s1, s2, sp, sq, chk, NULL);
    /* s1 = y * m^ds mod n1, check */
    mpz_mod(t, m, bk->n1);
    mpz_powm_sec(s1, t, bk->ds, bk->n1);
    mpz_mul(s1, s1, y);
    mpz_mod(s1, s1, bk->n1);
    mpz_powm_ui(chk, s1, SK_E, bk->n1);
    /* s2 by CRT, check */
    mpz_mod(t, m, bk->p);
    mpz_powm_sec(sp, t, bk->dp, bk->p);
    mpz_mod(t, m, bk->q);
    mpz_powm_sec(sq, t, bk->dq, bk->q);
    mpz_sub(t, sp, sq);
    mpz_mul(t, t, bk->qinv);
    mpz_mod(t, t, bk->p);
    mpz_mul(s2, t, bk->q);
    mpz_add(s2, s2, sq);
    mpz_powm_ui(chk, s2, SK_E, bk->n2);
    /* s = s1 + n1 * ((s2 - s1) n1^-1 mod n2), check */
    mpz_sub(t, s2, s1);
    mpz_mul(t, t, bk->n1inv);
    mpz_mod(t, t, bk->n2);
    mpz_mul(s, t, bk->n1);
    mpz_add(s, s, s1);
    mpz_powm_ui(chk, s, SK_E, bk->n);
    mpz_clears(t, s1, s2, sp, sq, chk, NULL);
}

/* ------------------------------------------------- the floor in parallel */

typedef struct floor_job {
    const bench_key *bk;
    mpz_srcptr m, y;
    unsigned per_thread;
    pthread_barrier_t *start;
} floor_job;

static void *floor_thread(void *arg)
{
    const floor_job *j = arg;
    mpz_t s;
    mpz_init(s);
    floor_gmp(s, j->bk, j->m, j->y); /* warm-up: allocations, caches, clock */
    pthread_barrier_wait(j->start);
    for (unsigned i = 0; i < j->per_thread; i++)
        floor_gmp(s, j->bk, j->m, j->y);
    mpz_clear(s);
    return NULL;
}

double floor_gmp_parallel(const bench_key *bk, const mpz_t m, const mpz_t y, unsigned threads,
                          unsigned per_thread)
{
    enum { MAX_THREADS = 16 };
    if (threads == 0 || threads > MAX_THREADS)
        return -1;
    pthread_barrier_t start;
    if (pthread_barrier_init(&start, NULL, threads + 1) != 0)
        return -1;
    floor_job job = {bk, m, y, per_thread, &start};
    pthread_t th[MAX_THREADS];
    unsigned started = 0;
    for (; started < threads; started++)
        if (pthread_create(&th[started], NULL, floor_thread, &job) != 0)
            break;
    if (started < threads) {
        /* the barrier cannot complete: nothing to wait for but the process's end */
        fprintf(stderr, "\nsplitkey-bench: cannot start a floor thread\n");
        exit(1);
    }
    pthread_barrier_wait(&start);
    double t0 = bench_now();
    for (unsigned i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    double t1 = bench_now();
    pthread_barrier_destroy(&start);
    return t1 - t0;
}
