/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pool.h - pre-generated server keys (n2, d2), so that enrolment does not
 * wait for prime generation.
 *
 * A background thread keeps `target` keys per profile in the store, each
 * exported with sk_server_key_export(), sealed under the master key with a
 * random 16-byte pool id as associated data, and added with
 * sk_store_pool_add().  Enrolment takes one with sk_pool_take_key(), which
 * removes it from the store inside the caller's transaction (so a rolled
 * back enrolment puts it back) and returns the imported key; the key record
 * then keeps the key sealed again under its key id.
 */
#ifndef SK_POOL_H
#define SK_POOL_H

#include <stddef.h>

#include "seal.h"
#include "splitkey/key.h"
#include "store.h"

#define SK_POOL_MAX_PROFILES 3

typedef struct sk_pool_config {
    sk_store *store;
    const sk_master_key *master;
    sk_profile profiles[SK_POOL_MAX_PROFILES];
    size_t nprofiles;
    unsigned target;      /* keys kept per profile; 0 disables the thread */
    unsigned recheck_ms;  /* how often to recount when idle (0: 10 s) */
} sk_pool_config;

typedef struct sk_pool_filler sk_pool_filler;

/* Starts the refill thread (none when target is 0; *out is still set). */
int sk_pool_filler_start(sk_pool_filler **out, const sk_pool_config *cfg);

/* Wakes the thread to recount now (after a take). */
void sk_pool_filler_kick(sk_pool_filler *f);

/* Stops and joins the thread; a key generation in progress finishes first.
 * NULL is ignored. */
void sk_pool_filler_stop(sk_pool_filler *f);

/* Number of keys the thread has added so far. */
size_t sk_pool_filler_added(sk_pool_filler *f);

/* Generates one server key for profile, seals it and adds it to the pool.
 * Returns SK_OK or the error of the step that failed. */
int sk_pool_fill_one(sk_store *store, const sk_master_key *master, sk_profile profile);

/* Takes the oldest pooled key of profile inside txn (NULL: its own
 * transaction), unseals and imports it.  SK_ERR_NOT_FOUND when the pool is
 * empty; SK_ERR_PROTO_AUTH if the sealed blob does not open. */
int sk_pool_take_key(sk_store *store, sk_store_txn *txn, const sk_master_key *master,
                     sk_profile profile, sk_server_key **out);

#endif
