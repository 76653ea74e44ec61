/* SPDX-License-Identifier: Apache-2.0 */
/* hwm.c - per-key high-water marks of record versions (hwm.h): a hash table
 * of key ids with chaining, under one mutex. */
#include "hwm.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

#define BUCKETS 4096u

typedef struct node {
    struct node *next;
    uint8_t key_id[SK_STORE_ID_LEN];
    int64_t version;
} node;

struct sk_hwm {
    pthread_mutex_t lock;
    node *bucket[BUCKETS];
};

sk_hwm *sk_hwm_new(void)
{
    sk_hwm *h = calloc(1, sizeof *h);
    if (h != NULL && pthread_mutex_init(&h->lock, NULL) != 0) {
        free(h);
        h = NULL;
    }
    return h;
}

void sk_hwm_free(sk_hwm *h)
{
    if (h == NULL)
        return;
    for (size_t i = 0; i < BUCKETS; i++) {
        node *n = h->bucket[i];
        while (n != NULL) {
            node *next = n->next;
            free(n);
            n = next;
        }
    }
    pthread_mutex_destroy(&h->lock);
    free(h);
}

/* Key ids are random: their first bytes spread well. */
static size_t slot(const uint8_t *key_id)
{
    return ((size_t)key_id[0] << 8 | key_id[1]) % BUCKETS;
}

static node *find(sk_hwm *h, const uint8_t *key_id)
{
    for (node *n = h->bucket[slot(key_id)]; n != NULL; n = n->next)
        if (memcmp(n->key_id, key_id, SK_STORE_ID_LEN) == 0)
            return n;
    return NULL;
}

int64_t sk_hwm_get(sk_hwm *h, const uint8_t *key_id)
{
    if (h == NULL)
        return 0;
    pthread_mutex_lock(&h->lock);
    node *n = find(h, key_id);
    int64_t v = n != NULL ? n->version : 0;
    pthread_mutex_unlock(&h->lock);
    return v;
}

void sk_hwm_raise(sk_hwm *h, const uint8_t *key_id, int64_t version)
{
    if (h == NULL)
        return;
    pthread_mutex_lock(&h->lock);
    node *n = find(h, key_id);
    if (n == NULL) {
        n = calloc(1, sizeof *n);
        if (n != NULL) {
            memcpy(n->key_id, key_id, SK_STORE_ID_LEN);
            n->next = h->bucket[slot(key_id)];
            h->bucket[slot(key_id)] = n;
        }
    }
    if (n != NULL && version > n->version)
        n->version = version;
    pthread_mutex_unlock(&h->lock);
}
