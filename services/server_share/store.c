/* SPDX-License-Identifier: Apache-2.0 */
/* store.c - the backend-independent part of the store: argument checks,
 * one-operation transactions and fault injection.  The backends come from
 * the registry in store_backends.c, found by the URI's scheme. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "splitkey/splitkey.h"
#include "store_backend.h"

/* The backend for uri and the length of its scheme, or NULL. */
static const struct sk_store_ops *backend_for(const char *uri, size_t *scheme_len)
{
    for (size_t i = 0; sk_store_backends[i] != NULL; i++) {
        const struct sk_store_ops *b = sk_store_backends[i];
        const char *schemes[2] = {b->scheme, b->alias};
        for (size_t j = 0; j < 2; j++) {
            size_t sl = schemes[j] != NULL ? strlen(schemes[j]) : 0;
            if (sl > 0 && strncmp(uri, schemes[j], sl) == 0) {
                *scheme_len = sl;
                return b;
            }
        }
    }
    return NULL;
}

int sk_store_uri_supported(const char *uri)
{
    size_t sl;
    if (uri == NULL)
        return SK_ERR_ARG;
    if (backend_for(uri, &sl) != NULL)
        return SK_OK;
    for (size_t i = 0; sk_store_backends_missing[i] != NULL; i++) {
        const char *m = sk_store_backends_missing[i];
        if (strncmp(uri, m, strlen(m)) == 0)
            return SK_ERR_UNSUPPORTED;
    }
    return SK_ERR_ARG;
}

void sk_store_uri_shown(const char *uri, char *out, size_t out_len)
{
    if (out == NULL || out_len == 0)
        return;
    size_t sl;
    const struct sk_store_ops *b = uri != NULL ? backend_for(uri, &sl) : NULL;
    if (b != NULL && b->redact != NULL)
        b->redact(uri, out, out_len);
    else if (b != NULL || uri == NULL)
        snprintf(out, out_len, "%s", uri != NULL ? uri : "");
    else /* unknown: it might hold anything */
        snprintf(out, out_len, "%.*s...", (int)strcspn(uri, ":/@"), uri);
}

const char *sk_store_backend_name(sk_store *store)
{
    return store != NULL && store->ops->name != NULL ? store->ops->name : "?";
}

int sk_store_has_journal(sk_store *store, char *why, size_t why_len)
{
    if (store == NULL)
        return 0;
    if (store->ops->journal_open != NULL)
        return 1;
    if (why != NULL && why_len > 0)
        snprintf(why, why_len, "%s",
                 store->ops->no_journal != NULL ? store->ops->no_journal
                                                : "this store keeps no commit journal");
    return 0;
}

int sk_store_set_connections(sk_store *store, unsigned max)
{
    if (store == NULL)
        return SK_ERR_ARG;
    if (store->ops->set_connections == NULL)
        return SK_OK;
    return store->ops->set_connections(store, max);
}

int sk_store_set_change_hook(sk_store *store, sk_store_change_fn fn, void *arg)
{
    if (store == NULL)
        return SK_ERR_ARG;
    if (store->ops->set_change_hook == NULL)
        return SK_OK;
    return store->ops->set_change_hook(store, fn, arg);
}

int sk_store_migrate(const char *from_uri, const char *to_uri, FILE *report, char *err,
                     size_t err_len)
{
    if (from_uri == NULL || to_uri == NULL || report == NULL || err == NULL || err_len == 0)
        return SK_ERR_ARG;
    err[0] = '\0';
    size_t sl;
    const struct sk_store_ops *to = backend_for(to_uri, &sl);
    if (to == NULL || to->migrate_from == NULL) {
        int rc = sk_store_uri_supported(to_uri);
        snprintf(err, err_len, "--to: %s",
                 rc == SK_ERR_UNSUPPORTED ? "that store's backend is not part of this build"
                 : to != NULL             ? "a store of that kind cannot be a migration target"
                                          : "not a store URI this program knows");
        return rc == SK_OK ? SK_ERR_ARG : rc;
    }
    return to->migrate_from(from_uri, to_uri, report, err, err_len);
}

int sk_store_open(sk_store **out, const char *uri)
{
    if (out == NULL || uri == NULL)
        return SK_ERR_ARG;
    *out = NULL;
    size_t sl = 0;
    const struct sk_store_ops *b = backend_for(uri, &sl);
    if (b == NULL)
        return sk_store_uri_supported(uri);
    if (uri[sl] == '\0')
        return SK_ERR_ARG;
    int rc = b->open(out, uri + sl);
    if (rc == SK_OK) {
        atomic_init(&(*out)->fault, SK_STORE_FAULT_NONE);
        atomic_init(&(*out)->fault_left, 0);
    }
    return rc;
}

void sk_store_close(sk_store *store)
{
    if (store != NULL)
        store->ops->close(store);
}

int sk_store_schema_version(sk_store *store, int *version)
{
    if (store == NULL || version == NULL)
        return SK_ERR_ARG;
    return store->ops->schema_version(store, version);
}

int sk_store_schema_latest(void) { return SK_STORE_SCHEMA_LATEST; }

void sk_store_inject_faults(sk_store *store, sk_store_fault fault, unsigned count)
{
    if (store == NULL)
        return;
    atomic_store(&store->fault_left, count);
    atomic_store(&store->fault, count ? (int)fault : SK_STORE_FAULT_NONE);
}

void sk_store_inject_fault(sk_store *store, sk_store_fault fault)
{
    sk_store_inject_faults(store, fault, 1);
}

int sk_store_begin(sk_store *store, sk_store_txn **txn)
{
    if (txn == NULL)
        return SK_ERR_ARG;
    *txn = NULL;
    if (store == NULL)
        return SK_ERR_ARG;
    return store->ops->begin(store, txn, 1);
}

int sk_store_begin_read(sk_store *store, sk_store_txn **txn)
{
    if (txn == NULL)
        return SK_ERR_ARG;
    *txn = NULL;
    if (store == NULL)
        return SK_ERR_ARG;
    return store->ops->begin(store, txn, 0);
}

int sk_store_commit(sk_store_txn *txn)
{
    if (txn == NULL)
        return SK_ERR_ARG;
    sk_store *store = txn->store;
    int fault = atomic_load(&store->fault);
    if (fault != SK_STORE_FAULT_NONE) {
        if (atomic_fetch_sub(&store->fault_left, 1) <= 1)
            atomic_store(&store->fault, SK_STORE_FAULT_NONE);
        store->ops->rollback(txn);
        return fault == SK_STORE_FAULT_BUSY ? SK_ERR_STORE_BUSY : SK_ERR_STORE;
    }
    return store->ops->commit(txn);
}

void sk_store_rollback(sk_store_txn *txn)
{
    if (txn != NULL)
        txn->store->ops->rollback(txn);
}

int sk_store_run(sk_store *store, unsigned max_attempts, sk_store_step step, void *arg)
{
    if (store == NULL || step == NULL)
        return SK_ERR_ARG;
    if (max_attempts == 0)
        max_attempts = 5;
    int rc = SK_ERR_STORE_BUSY;
    for (unsigned i = 0; i < max_attempts; i++) {
        sk_store_txn *txn;
        rc = sk_store_begin(store, &txn);
        if (rc == SK_OK) {
            rc = step(store, txn, arg);
            if (rc == SK_OK)
                rc = sk_store_commit(txn);
            else
                sk_store_rollback(txn);
        }
        if (rc != SK_ERR_STORE_BUSY && rc != SK_ERR_STORE_CONFLICT)
            break;
        unsigned base = store->ops->retry_backoff_us;
        if (base > 0 && i + 1 < max_attempts) {
            /* a random pause, growing with the attempts: writers that keep
             * meeting each other on one row (several at once on a database
             * server) fall out of step instead of one starving */
            uint32_t cap = (uint32_t)base << (i < 5 ? i : 5);
            uint32_t us = randombytes_uniform(cap) + 1;
            struct timespec pause = {.tv_sec = 0, .tv_nsec = (long)us * 1000L};
            nanosleep(&pause, NULL);
        }
    }
    return rc;
}

/* Runs expr in txn, or in a transaction of its own when txn is NULL (a write
 * transaction for writes; its commit can carry an injected fault). */
#define IN_TXN(store, txn, write, expr)                                        \
    do {                                                                       \
        if ((store) == NULL || ((txn) != NULL && (txn)->store != (store)))     \
            return SK_ERR_ARG;                                                 \
        sk_store_txn *own_ = NULL;                                             \
        if ((txn) == NULL) {                                                   \
            int brc_ = (store)->ops->begin((store), &own_, (write));           \
            if (brc_ != SK_OK)                                                 \
                return brc_;                                                   \
            (txn) = own_;                                                      \
        }                                                                      \
        int rc_ = (expr);                                                      \
        if (own_ != NULL) {                                                    \
            if (rc_ != SK_OK)                                                  \
                (store)->ops->rollback(own_);                                  \
            else if (write)                                                    \
                rc_ = sk_store_commit(own_);                                   \
            else /* a read: ending it cannot lose anything */                  \
                (store)->ops->rollback(own_);                                  \
        }                                                                      \
        return rc_;                                                            \
    } while (0)

static int check_person(const char *person_id)
{
    if (person_id == NULL)
        return SK_ERR_ARG;
    size_t n = strnlen(person_id, SK_STORE_PERSON_MAX + 1);
    if (n == 0)
        return SK_ERR_ARG;
    return n > SK_STORE_PERSON_MAX ? SK_ERR_LIMIT : SK_OK;
}

static int check_blob(const uint8_t *blob, size_t len)
{
    if (blob == NULL && len != 0)
        return SK_ERR_ARG;
    return len > SK_STORE_BLOB_MAX ? SK_ERR_LIMIT : SK_OK;
}

static int check_key_record(const sk_key_record *rec)
{
    if (rec == NULL)
        return SK_ERR_ARG;
    int rc = check_person(rec->person_id);
    return rc != SK_OK ? rc : check_blob(rec->blob, rec->blob_len);
}

/* ---------------------------------------------------------------- keys */

int sk_store_key_insert(sk_store *store, sk_store_txn *txn, sk_key_record *rec)
{
    int rc = check_key_record(rec);
    if (rc != SK_OK)
        return rc;
    IN_TXN(store, txn, 1, store->ops->key_insert(txn, rec));
}

int sk_store_key_get(sk_store *store, sk_store_txn *txn, sk_key_record *rec,
                     const uint8_t *key_id)
{
    if (rec == NULL || key_id == NULL)
        return SK_ERR_ARG;
    memset(rec, 0, sizeof *rec);
    IN_TXN(store, txn, 0, store->ops->key_get(txn, rec, key_id));
}

int sk_store_key_get_by_person(sk_store *store, sk_store_txn *txn, sk_key_record *rec,
                               const char *person_id, uint32_t purpose)
{
    if (rec == NULL)
        return SK_ERR_ARG;
    memset(rec, 0, sizeof *rec);
    int rc = check_person(person_id);
    if (rc != SK_OK)
        return rc;
    IN_TXN(store, txn, 0, store->ops->key_get_by_person(txn, rec, person_id, purpose));
}

int sk_store_key_update(sk_store *store, sk_store_txn *txn, sk_key_record *rec)
{
    int rc = check_key_record(rec);
    if (rc != SK_OK)
        return rc;
    IN_TXN(store, txn, 1, store->ops->key_update(txn, rec));
}

int sk_store_keys_purge(sk_store *store, sk_store_txn *txn, size_t *deleted, uint32_t state,
                        int64_t before)
{
    if (deleted == NULL)
        return SK_ERR_ARG;
    *deleted = 0;
    IN_TXN(store, txn, 1, store->ops->keys_purge(txn, deleted, state, before));
}

void sk_key_record_clear(sk_key_record *rec)
{
    if (rec == NULL)
        return;
    if (rec->blob != NULL) {
        sk_wipe(rec->blob, rec->blob_len);
        free(rec->blob);
    }
    memset(rec, 0, sizeof *rec);
}

/* ------------------------------------------------------------ sessions */

int sk_store_session_insert(sk_store *store, sk_store_txn *txn, sk_session_record *rec)
{
    if (rec == NULL)
        return SK_ERR_ARG;
    int rc = check_blob(rec->blob, rec->blob_len);
    if (rc != SK_OK)
        return rc;
    IN_TXN(store, txn, 1, store->ops->session_insert(txn, rec));
}

int sk_store_session_get(sk_store *store, sk_store_txn *txn, sk_session_record *rec,
                         const uint8_t *session_id)
{
    if (rec == NULL || session_id == NULL)
        return SK_ERR_ARG;
    memset(rec, 0, sizeof *rec);
    IN_TXN(store, txn, 0, store->ops->session_get(txn, rec, session_id));
}

int sk_store_session_update(sk_store *store, sk_store_txn *txn, sk_session_record *rec)
{
    if (rec == NULL)
        return SK_ERR_ARG;
    int rc = check_blob(rec->blob, rec->blob_len);
    if (rc != SK_OK)
        return rc;
    IN_TXN(store, txn, 1, store->ops->session_update(txn, rec));
}

int sk_store_session_seen(sk_store *store, sk_store_txn *txn, const uint8_t *session_id,
                          int64_t seen_at)
{
    if (session_id == NULL || seen_at <= 0)
        return SK_ERR_ARG;
    IN_TXN(store, txn, 1, store->ops->session_seen(txn, session_id, seen_at));
}

int sk_store_sessions_for_key(sk_store *store, sk_store_txn *txn, sk_session_record **recs,
                              size_t *count, const uint8_t *key_id, int64_t now, size_t max)
{
    if (recs == NULL || count == NULL || key_id == NULL)
        return SK_ERR_ARG;
    *recs = NULL;
    *count = 0;
    IN_TXN(store, txn, 0, store->ops->sessions_for_key(txn, recs, count, key_id, now, max));
}

int sk_store_sessions_purge(sk_store *store, sk_store_txn *txn, size_t *deleted, int64_t before)
{
    if (deleted == NULL)
        return SK_ERR_ARG;
    *deleted = 0;
    IN_TXN(store, txn, 1, store->ops->sessions_purge(txn, deleted, before));
}

void sk_session_record_clear(sk_session_record *rec)
{
    if (rec == NULL)
        return;
    if (rec->blob != NULL) {
        sk_wipe(rec->blob, rec->blob_len);
        free(rec->blob);
    }
    memset(rec, 0, sizeof *rec);
}

void sk_session_records_free(sk_session_record *recs, size_t count)
{
    if (recs == NULL)
        return;
    for (size_t i = 0; i < count; i++)
        sk_session_record_clear(&recs[i]);
    free(recs);
}

/* --------------------------------------------------------- reply cache */

static int check_request_id(const uint8_t *key_id, const uint8_t *request_id, size_t len)
{
    if (key_id == NULL || request_id == NULL || len == 0)
        return SK_ERR_ARG;
    return len > SK_STORE_REQUEST_ID_MAX ? SK_ERR_LIMIT : SK_OK;
}

int sk_store_reply_put(sk_store *store, sk_store_txn *txn, const uint8_t *key_id,
                       const uint8_t *request_id, size_t request_id_len, const uint8_t *reply,
                       size_t reply_len, int64_t now)
{
    int rc = check_request_id(key_id, request_id, request_id_len);
    if (rc == SK_OK)
        rc = check_blob(reply, reply_len);
    if (rc != SK_OK)
        return rc;
    IN_TXN(store, txn, 1,
           store->ops->reply_put(txn, key_id, request_id, request_id_len, reply, reply_len, now));
}

int sk_store_reply_get(sk_store *store, sk_store_txn *txn, uint8_t **reply, size_t *reply_len,
                       const uint8_t *key_id, const uint8_t *request_id,
                       size_t request_id_len)
{
    if (reply == NULL || reply_len == NULL)
        return SK_ERR_ARG;
    *reply = NULL;
    *reply_len = 0;
    int rc = check_request_id(key_id, request_id, request_id_len);
    if (rc != SK_OK)
        return rc;
    IN_TXN(store, txn, 0,
           store->ops->reply_get(txn, reply, reply_len, key_id, request_id, request_id_len));
}

/* ---------------------------------------------------------------- meta */

static int check_meta_name(const char *name)
{
    size_t n = name != NULL ? strlen(name) : 0;
    return n >= 1 && n <= 64 ? SK_OK : SK_ERR_ARG;
}

int sk_store_meta_get(sk_store *store, sk_store_txn *txn, const char *name, uint8_t *value,
                      size_t cap, size_t *len)
{
    if (check_meta_name(name) != SK_OK || value == NULL || len == NULL)
        return SK_ERR_ARG;
    *len = 0;
    IN_TXN(store, txn, 0, store->ops->meta_get(txn, name, value, cap, len));
}

int sk_store_meta_decimal(const uint8_t *value, size_t len, int64_t *out)
{
    int64_t n = 0;
    if (len == 0 || len > 18)
        return SK_ERR_STORE;
    for (size_t i = 0; i < len; i++) {
        if (value[i] < '0' || value[i] > '9')
            return SK_ERR_STORE;
        n = n * 10 + (value[i] - '0');
    }
    *out = n;
    return SK_OK;
}

int sk_store_meta_put(sk_store *store, sk_store_txn *txn, const char *name, const uint8_t *value,
                      size_t len)
{
    if (check_meta_name(name) != SK_OK || (value == NULL && len != 0) || len > 1024)
        return SK_ERR_ARG;
    IN_TXN(store, txn, 1, store->ops->meta_put(txn, name, value, len));
}

int sk_store_meta_cas(sk_store *store, sk_store_txn *txn, const char *name,
                      const uint8_t *expect, size_t expect_len, const uint8_t *value,
                      size_t len)
{
    if (check_meta_name(name) != SK_OK || (value == NULL && len != 0) || len > 1024 ||
        (expect == NULL && expect_len != 0) || expect_len > 1024)
        return SK_ERR_ARG;
    IN_TXN(store, txn, 1, store->ops->meta_cas(txn, name, expect, expect_len, value, len));
}

int sk_store_check(sk_store *store, char *what, size_t what_len)
{
    if (store == NULL || what == NULL || what_len == 0)
        return SK_ERR_ARG;
    what[0] = '\0';
    return store->ops->check(store, what, what_len);
}

int sk_store_journal_open(sk_store *store, const char *path, char *err, size_t err_len)
{
    if (store == NULL || path == NULL || err == NULL || err_len == 0)
        return SK_ERR_ARG;
    err[0] = '\0';
    if (store->ops->journal_open == NULL) {
        sk_store_has_journal(store, err, err_len);
        return SK_ERR_UNSUPPORTED;
    }
    return store->ops->journal_open(store, path, err, err_len);
}

/* -------------------------------------------------------------- tokens */

int sk_store_token_use(sk_store *store, sk_store_txn *txn, const uint8_t *token_id,
                       const uint8_t *key_id, const uint8_t *prior_key_id, int64_t now)
{
    if (token_id == NULL || key_id == NULL)
        return SK_ERR_ARG;
    IN_TXN(store, txn, 1, store->ops->token_use(txn, token_id, key_id, prior_key_id, now));
}

int sk_store_token_used(sk_store *store, sk_store_txn *txn, int *used, uint8_t *key_id,
                        int *has_key, const uint8_t *token_id)
{
    uint8_t ignored[SK_STORE_ID_LEN];
    int no_key = 0;
    if (key_id == NULL)
        key_id = ignored;
    if (has_key == NULL)
        has_key = &no_key;
    if (used == NULL || token_id == NULL)
        return SK_ERR_ARG;
    *used = 0;
    IN_TXN(store, txn, 0, store->ops->token_used(txn, used, key_id, has_key, token_id));
}

/* ---------------------------------------------------------------- pool */

int sk_store_pool_add(sk_store *store, sk_store_txn *txn, const uint8_t *pool_id,
                      uint32_t profile, const uint8_t *sealed, size_t sealed_len)
{
    if (pool_id == NULL || sealed == NULL || sealed_len == 0)
        return SK_ERR_ARG;
    if (sealed_len > SK_STORE_BLOB_MAX)
        return SK_ERR_LIMIT;
    IN_TXN(store, txn, 1, store->ops->pool_add(txn, pool_id, profile, sealed, sealed_len));
}

int sk_store_pool_take(sk_store *store, sk_store_txn *txn, uint8_t *pool_id, uint8_t **sealed,
                       size_t *sealed_len, uint32_t profile)
{
    if (pool_id == NULL || sealed == NULL || sealed_len == NULL)
        return SK_ERR_ARG;
    *sealed = NULL;
    *sealed_len = 0;
    memset(pool_id, 0, SK_STORE_ID_LEN);
    IN_TXN(store, txn, 1, store->ops->pool_take(txn, pool_id, sealed, sealed_len, profile));
}

int sk_store_pool_count(sk_store *store, sk_store_txn *txn, size_t *count, uint32_t profile)
{
    if (count == NULL)
        return SK_ERR_ARG;
    *count = 0;
    IN_TXN(store, txn, 0, store->ops->pool_count(txn, count, profile));
}

/* -------------------------------------------------------------- events */

int sk_store_event_append(sk_store *store, sk_store_txn *txn, sk_event *ev)
{
    if (ev == NULL)
        return SK_ERR_ARG;
    IN_TXN(store, txn, 1, store->ops->event_append(txn, ev));
}

int sk_store_events(sk_store *store, sk_store_txn *txn, sk_event **events, size_t *count,
                    const uint8_t *key_id, int64_t after_seq, size_t max)
{
    if (events == NULL || count == NULL)
        return SK_ERR_ARG;
    *events = NULL;
    *count = 0;
    IN_TXN(store, txn, 0, store->ops->events(txn, events, count, key_id, after_seq, max));
}
