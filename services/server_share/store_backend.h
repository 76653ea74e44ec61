/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store_backend.h - what a store backend implements (private to the store).
 *
 * store.c checks arguments, runs operations called without a transaction in
 * one of their own, and applies injected faults; a backend only talks to its
 * database.  Every operation below receives a live transaction.  A backend
 * embeds struct sk_store and struct sk_store_txn as the first member of its
 * own structures.
 *
 * The backends compiled in are listed in store_backends.c (sk_store_backends);
 * store.c finds a backend there by the URI's scheme and knows none by name.
 * Every backend has the same schema versions (SK_STORE_SCHEMA_LATEST), so a
 * database moved from one to another (splitkey-server migrate) keeps its
 * version.
 *
 * The PostgreSQL backend (store_pg.c) maps: begin -> BEGIN ISOLATION LEVEL
 * READ COMMITTED on a pooled connection; key_update -> UPDATE ... WHERE
 * key_id=$1 AND version=$2 (the row lock makes the compare-and-swap safe
 * across processes); pool_take -> DELETE ... WHERE seq = (SELECT seq ... FOR
 * UPDATE SKIP LOCKED LIMIT 1) RETURNING ...; serialization failures, lock
 * timeouts and lost connections -> SK_ERR_STORE_BUSY.
 */
#ifndef SK_STORE_BACKEND_H
#define SK_STORE_BACKEND_H

#include <stdatomic.h>

#include "store.h"

/* The schema version every backend writes: its last migration.  A new
 * schema version is a migration in every backend. */
#define SK_STORE_SCHEMA_LATEST 6

struct sk_store_ops {
    const char *scheme; /* "sqlite:" */
    int (*open)(sk_store **out, const char *location);
    void (*close)(sk_store *store);
    int (*schema_version)(sk_store *store, int *version);
    /* write = 1: a write transaction (locks for writing at once) */
    int (*begin)(sk_store *store, sk_store_txn **txn, int write);
    int (*commit)(sk_store_txn *txn);  /* frees txn; rolls back on failure */
    void (*rollback)(sk_store_txn *txn); /* frees txn */

    int (*key_insert)(sk_store_txn *txn, sk_key_record *rec);
    int (*key_get)(sk_store_txn *txn, sk_key_record *rec, const uint8_t *key_id);
    int (*key_get_by_person)(sk_store_txn *txn, sk_key_record *rec, const char *person_id,
                             uint32_t purpose);
    int (*key_update)(sk_store_txn *txn, sk_key_record *rec);

    int (*session_insert)(sk_store_txn *txn, sk_session_record *rec);
    int (*session_get)(sk_store_txn *txn, sk_session_record *rec, const uint8_t *session_id);
    int (*session_update)(sk_store_txn *txn, sk_session_record *rec);
    int (*session_seen)(sk_store_txn *txn, const uint8_t *session_id, int64_t seen_at);
    int (*sessions_for_key)(sk_store_txn *txn, sk_session_record **recs, size_t *count,
                            const uint8_t *key_id, int64_t now, size_t max);
    int (*sessions_purge)(sk_store_txn *txn, size_t *deleted, int64_t before);

    int (*reply_put)(sk_store_txn *txn, const uint8_t *key_id, const uint8_t *request_id,
                     size_t request_id_len, const uint8_t *reply, size_t reply_len, int64_t now);
    int (*reply_get)(sk_store_txn *txn, uint8_t **reply, size_t *reply_len,
                     const uint8_t *key_id, const uint8_t *request_id, size_t request_id_len);

    int (*pool_add)(sk_store_txn *txn, const uint8_t *pool_id, uint32_t profile,
                    const uint8_t *sealed, size_t sealed_len);
    int (*pool_take)(sk_store_txn *txn, uint8_t *pool_id, uint8_t **sealed, size_t *sealed_len,
                     uint32_t profile);
    int (*pool_count)(sk_store_txn *txn, size_t *count, uint32_t profile);

    int (*keys_purge)(sk_store_txn *txn, size_t *deleted, uint32_t state, int64_t before);
    int (*token_use)(sk_store_txn *txn, const uint8_t *token_id, const uint8_t *key_id,
                     const uint8_t *prior_key_id, int64_t now);
    int (*token_used)(sk_store_txn *txn, int *used, uint8_t *key_id, int *has_key,
                      const uint8_t *token_id);

    int (*event_append)(sk_store_txn *txn, sk_event *ev);
    int (*events)(sk_store_txn *txn, sk_event **events, size_t *count, const uint8_t *key_id,
                  int64_t after_seq, size_t max);

    /* SK_ERR_NOT_FOUND when the name has no value */
    int (*meta_get)(sk_store_txn *txn, const char *name, uint8_t *value, size_t cap,
                    size_t *len);
    int (*meta_put)(sk_store_txn *txn, const char *name, const uint8_t *value, size_t len);
    /* expect NULL: insert, SK_ERR_STORE_CONFLICT if the name has a value;
     * else update only while the value is expect, SK_ERR_STORE_CONFLICT if
     * it is not (or the name has none) */
    int (*meta_cas)(sk_store_txn *txn, const char *name, const uint8_t *expect,
                    size_t expect_len, const uint8_t *value, size_t len);
    /* the database's own consistency check; a description in what */
    int (*check)(sk_store *store, char *what, size_t what_len);
    /* attaches a commit journal (NULL: the backend has none) */
    int (*journal_open)(sk_store *store, const char *path, char *err, size_t err_len);

    /* Optional (NULL: none).  A second scheme the backend answers to. */
    const char *alias;
    /* The backend's name for messages ("SQLite"), and why it has no commit
     * journal when journal_open is NULL. */
    const char *name;
    const char *no_journal;
    /* Calls fn(arg) from a thread of the backend's after other processes
     * committed changes to keys or sessions (NULL: the backend needs none,
     * one process sees its own commits). */
    int (*set_change_hook)(sk_store *store, sk_store_change_fn fn, void *arg);
    /* sk_store_run pauses a random 1 .. base << min(attempt, 5) microseconds
     * before running a step again after a conflict or busy error (0: no
     * pause; SQLite's writers queue already). */
    unsigned retry_backoff_us;
    /* The most connections to the database the store keeps (NULL: the
     * backend has no pool to limit). */
    int (*set_connections)(sk_store *store, unsigned max);
    /* The URI without secrets, for messages (NULL: shown as it is). */
    void (*redact)(const char *uri, char *out, size_t out_len);
    /* sk_store_migrate into a store of this backend (NULL: not a target). */
    int (*migrate_from)(const char *from_uri, const char *to_uri, FILE *report, char *err,
                        size_t err_len);
};

struct sk_store {
    const struct sk_store_ops *ops;
    atomic_int fault;       /* sk_store_fault for the next commits */
    atomic_uint fault_left; /* how many more commits it applies to */
};

struct sk_store_txn {
    sk_store *store;
};

/* The backends compiled in (store_backends.c), NULL-terminated, and the
 * schemes of backends known but not compiled in (SK_ERR_UNSUPPORTED),
 * NULL-terminated. */
extern const struct sk_store_ops *const sk_store_backends[];
extern const char *const sk_store_backends_missing[];

extern const struct sk_store_ops sk_store_sqlite_ops;
extern const struct sk_store_ops sk_store_pg_ops;

/* store_pg_migrate.c: the migrate_from of the PostgreSQL backend. */
int sk_store_pg_migrate_from(const char *from_uri, const char *to_uri, FILE *report, char *err,
                             size_t err_len);

#endif
