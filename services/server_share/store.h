/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store.h - what the share server keeps, behind one interface with one
 * backend per database (SQLite now; PostgreSQL implements the same
 * operations in store_backend.h).
 *
 * Guarantees
 * - Every change runs inside a transaction.  sk_store_begin() starts a write
 *   transaction; the key record, session, reply-cache row and event of one
 *   protocol step are written through it and become visible together at
 *   sk_store_commit(), or not at all.  The server sends its reply only after
 *   the commit succeeded, so a crash never loses acknowledged work.
 * - Key records and sessions carry a version that the store increases on
 *   every update.  An update names the version it read; if another request
 *   changed the row since, the update fails with SK_ERR_STORE_CONFLICT and
 *   changes nothing (optimistic compare-and-swap: counters and OTPs stay
 *   right under concurrent requests for the same key, also across processes
 *   sharing one PostgreSQL database).
 * - The event log is append-only: the database itself refuses updates and
 *   deletes of its rows.
 * - Errors: SK_ERR_STORE_BUSY (the database is locked by another writer;
 *   retrying the whole transaction is safe), SK_ERR_STORE (disk full, I/O
 *   error, corrupt or too new database), SK_ERR_STORE_CONFLICT (version moved
 *   or the row exists), SK_ERR_NOT_FOUND, SK_ERR_LIMIT (a field too long),
 *   SK_ERR_ARG.  After any error inside a transaction the caller must call
 *   sk_store_rollback(); nothing of the transaction is kept.
 *
 * The store never sees a secret in the clear: record blobs are opaque bytes
 * that the caller seals first (seal.h: ds and server keys under the master
 * key with the key id as associated data); OTPs are stored as hashes inside
 * them.
 *
 * Threads: an sk_store may be shared by all threads; each transaction is
 * used by one thread at a time.  Passing txn = NULL to an operation runs it
 * in a transaction of its own.
 */
#ifndef SK_STORE_H
#define SK_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SK_STORE_ID_LEN 16u          /* key ids, session ids, pool ids */
#define SK_STORE_PERSON_MAX 128u     /* person id text, bytes */
#define SK_STORE_REQUEST_ID_MAX 32u  /* request id, bytes */
#define SK_STORE_BLOB_MAX (1024u * 1024u)

typedef struct sk_store sk_store;
typedef struct sk_store_txn sk_store_txn;

/* A split key as the store sees it.  purpose and state are the protocol's
 * values (purpose 1 AUTH, 2 SIGN; state 1 ENROLLING, 2 PENDING, 3 ACTIVE,
 * 5 DESTROYED: a time lock is not a stored state); the store only keeps and
 * indexes them. */
typedef struct sk_key_record {
    uint8_t key_id[SK_STORE_ID_LEN];
    char person_id[SK_STORE_PERSON_MAX + 1]; /* NUL-terminated */
    uint32_t purpose;
    uint32_t state;
    int64_t version;    /* 1 after insert, +1 per update; set by the store */
    int64_t updated_at; /* Unix seconds of the last insert or update; set by the caller */
    uint8_t *blob;      /* owned; the sealed protocol record */
    size_t blob_len;
} sk_key_record;

/* The state a person lookup prefers (ACTIVE), see sk_store_key_get_by_person. */
#define SK_STORE_PREFERRED_STATE 3u

/* A signing or authentication session. */
typedef struct sk_session_record {
    uint8_t session_id[SK_STORE_ID_LEN];
    uint8_t key_id[SK_STORE_ID_LEN];
    uint32_t state;
    int64_t expires_at; /* Unix time, seconds */
    int64_t version;
    /* a relying party's session: until when its relying party is known to
     * wait (Unix seconds: its last poll plus the wait it asked for; the
     * creation time before any poll); 0 for a session with no relying party
     * (device-created).  Set by insert; changed only by
     * sk_store_session_seen, never by an update, and not versioned. */
    int64_t rp_seen_at;
    uint8_t *blob;
    size_t blob_len;
} sk_session_record;

/* An event log entry (append-only). */
typedef struct sk_event {
    int64_t seq;        /* set by the store, increasing */
    int64_t at;         /* Unix time, seconds */
    uint8_t key_id[SK_STORE_ID_LEN];
    int has_key;
    uint32_t kind;      /* the protocol's event kind */
    int64_t detail;     /* a number that goes with it (attempts left, reason ...) */
} sk_event;

/* Faults a test can inject into the next commit (sk_store_inject_fault). */
typedef enum sk_store_fault {
    SK_STORE_FAULT_NONE = 0,
    SK_STORE_FAULT_BUSY,  /* as if the database stayed locked: SK_ERR_STORE_BUSY */
    SK_STORE_FAULT_FULL,  /* as if the disk were full: SK_ERR_STORE */
    SK_STORE_FAULT_IOERR  /* as if the disk failed: SK_ERR_STORE */
} sk_store_fault;

/* ------------------------------------------------------------ open, close */

/* Opens a store by URI: "sqlite:PATH" (the file is created if missing;
 * migrations are applied in order), or "postgresql://..." (any libpq
 * connection URI; migrations as for SQLite, once, under an advisory lock)
 * when the PostgreSQL backend is part of the build, else
 * SK_ERR_UNSUPPORTED.
 * Returns SK_OK, SK_ERR_ARG (unknown scheme), SK_ERR_UNSUPPORTED,
 * SK_ERR_STORE (cannot open, not a database, schema newer than this
 * program) or SK_ERR_STORE_BUSY. */
int sk_store_open(sk_store **out, const char *uri);

/* Whether a backend for the URI's scheme is built in: SK_OK, SK_ERR_UNSUPPORTED
 * (a known scheme whose backend is not part of this build) or SK_ERR_ARG. */
int sk_store_uri_supported(const char *uri);

/* The URI as it may be shown in messages and logs: a PostgreSQL URI without
 * its password (its host, port, database and user), any other unchanged.
 * Always NUL-terminates out. */
void sk_store_uri_shown(const char *uri, char *out, size_t out_len);

/* The backend's name ("SQLite", "PostgreSQL") for messages. */
const char *sk_store_backend_name(sk_store *store);

/* Whether the store keeps a commit journal and an online backup file
 * (sk_store_journal_open, splitkey-server backup): 1 yes, 0 no, and then
 * why in why (the database's own replication or backup tools replace it). */
int sk_store_has_journal(sk_store *store, char *why, size_t why_len);

/* Several processes may share one database (PostgreSQL).  A change hook is
 * called, from a thread of the store's, after another process committed a
 * change to a key or a session, and once after the store reconnected to its
 * database (changes may have been missed meanwhile); the server wakes its
 * long polls with it.  Backends whose database one process owns (SQLite:
 * other processes on the same file are not told) ignore it.  Set it once,
 * before the first transaction; fn NULL stops it.  Returns SK_OK,
 * SK_ERR_NOMEM or SK_ERR_STORE. */
typedef void (*sk_store_change_fn)(void *arg);
int sk_store_set_change_hook(sk_store *store, sk_store_change_fn fn, void *arg);

/* The most connections to a database server the store keeps open at once
 * (0: no limit; the server sets its workers + 4).  A transaction that finds
 * them all busy waits for one, and after 5 s opens one more (logged once),
 * so a thread never deadlocks on the limit.  Backends without connections
 * (SQLite) ignore it.  Returns SK_OK or SK_ERR_ARG. */
int sk_store_set_connections(sk_store *store, unsigned max);

/* Copies a whole store into an empty one of another backend (splitkey-server
 * migrate): every row of every table with its seq, in one transaction of the
 * target, then compares both row for row (counts and a SHA-256 digest per
 * table).  from_uri is "sqlite:PATH" at the latest schema version (refused
 * otherwise: the server opened once on it migrates it); to_uri is a
 * PostgreSQL URI whose database holds no splitkey rows.  What was moved is
 * written to report, one line per table.  Nothing is changed on any error
 * (described in err).  Returns SK_OK, SK_ERR_ARG, SK_ERR_STORE,
 * SK_ERR_STORE_CONFLICT (the target is not empty), SK_ERR_UNSUPPORTED or
 * SK_ERR_NOMEM. */
int sk_store_migrate(const char *from_uri, const char *to_uri, FILE *report, char *err,
                     size_t err_len);

/* Closes the store; every transaction must be finished.  NULL is ignored. */
void sk_store_close(sk_store *store);

/* The schema version of the open database. */
int sk_store_schema_version(sk_store *store, int *version);

/* The schema version this program writes (the last migration). */
int sk_store_schema_latest(void);

/* Facts about the store itself, by name (1-64 bytes), values up to 1024
 * bytes.  get gives SK_ERR_NOT_FOUND when the name has none. */
int sk_store_meta_get(sk_store *store, sk_store_txn *txn, const char *name, uint8_t *value,
                      size_t cap, size_t *len);
int sk_store_meta_put(sk_store *store, sk_store_txn *txn, const char *name, const uint8_t *value,
                      size_t len);

/* Compare-and-swap of a store_meta value: sets name to value only if it
 * holds expect now (expect NULL: only if it has no value), else
 * SK_ERR_STORE_CONFLICT and nothing changes.  Atomic across processes
 * sharing the database (leases and cursors that several servers move). */
int sk_store_meta_cas(sk_store *store, sk_store_txn *txn, const char *name,
                      const uint8_t *expect, size_t expect_len, const uint8_t *value,
                      size_t len);

/* A store_meta value kept as decimal text (journal_seq, restored_at): 1 to
 * 18 digits, nothing else.  Returns SK_OK or SK_ERR_STORE. */
int sk_store_meta_decimal(const uint8_t *value, size_t len, int64_t *out);

/* The database's own consistency check (SQLite: PRAGMA quick_check).
 * SK_OK, or SK_ERR_STORE with the first problem described in what. */
int sk_store_check(sk_store *store, char *what, size_t what_len);

/* Attaches a commit journal to the store (SQLite: backup.h gives the file
 * format; doc/operations.md, "Backup and restore").  Call it once, before
 * any transaction.  The file is created if missing (0600) and checked
 * against the store: a torn record at its end and a last record whose
 * transaction never committed (seq = the store's journal_seq + 1) are cut
 * off; a new or empty journal starts with a mark at the store's seq.
 * Refused, with the reason in err: a journal further ahead than one record
 * (the store is older: restore it), one that lacks commits the store has,
 * a damaged one.  From then on every commit that changed a row is appended
 * and flushed to the journal before the commit returns; a journal that
 * cannot be written fails the commit (SK_ERR_STORE, nothing kept, logged).
 * Returns SK_OK, SK_ERR_STORE_CONFLICT (does not match the store),
 * SK_ERR_STORE, SK_ERR_UNSUPPORTED or SK_ERR_NOMEM. */
int sk_store_journal_open(sk_store *store, const char *path, char *err, size_t err_len);

/* Makes the next commit (including the internal commit of an operation
 * called with txn = NULL) fail with the given fault after rolling the
 * transaction back.  One-shot.  For tests. */
void sk_store_inject_fault(sk_store *store, sk_store_fault fault);

/* The same for the next count commits (a database that stays locked or
 * broken for a while). */
void sk_store_inject_faults(sk_store *store, sk_store_fault fault, unsigned count);

/* ----------------------------------------------------------- transactions */

/* Starts a write transaction.  Returns SK_OK, SK_ERR_STORE_BUSY or
 * SK_ERR_STORE; on failure *txn is NULL. */
int sk_store_begin(sk_store *store, sk_store_txn **txn);

/* Starts a read transaction: one consistent snapshot of the store that does
 * not hold the write lock (writers go on; in WAL mode nothing waits for it).
 * Only reads may run in it; end it with sk_store_rollback().  Returns SK_OK,
 * SK_ERR_STORE_BUSY or SK_ERR_STORE; on failure *txn is NULL. */
int sk_store_begin_read(sk_store *store, sk_store_txn **txn);

/* Commits and frees txn.  On failure everything in it is rolled back (and
 * txn is freed all the same).  Returns SK_OK, SK_ERR_STORE_BUSY or
 * SK_ERR_STORE. */
int sk_store_commit(sk_store_txn *txn);

/* Rolls back and frees txn.  NULL is ignored. */
void sk_store_rollback(sk_store_txn *txn);

/* Runs step(store, txn, arg) in a write transaction and commits it.  If the
 * step or the commit fails with SK_ERR_STORE_BUSY or SK_ERR_STORE_CONFLICT,
 * the transaction is rolled back and the step runs again from the start, at
 * most max_attempts times in all (0: 5; a database server's backend pauses
 * a random, growing moment in between).  The step must read and write only
 * through txn and keep its other effects (the reply it builds) until it
 * returns SK_OK, since an attempt may be undone.  Returns SK_OK once a
 * commit succeeded, else the last error (nothing of a failed attempt is
 * kept). */
typedef int (*sk_store_step)(sk_store *store, sk_store_txn *txn, void *arg);
int sk_store_run(sk_store *store, unsigned max_attempts, sk_store_step step, void *arg);

/* ------------------------------------------------------------ key records */

/* Inserts a new key record; sets rec->version to 1.  SK_ERR_STORE_CONFLICT if
 * the key id exists. */
int sk_store_key_insert(sk_store *store, sk_store_txn *txn, sk_key_record *rec);

/* Reads a key record into *rec (which the caller later clears with
 * sk_key_record_clear).  SK_ERR_NOT_FOUND if there is none. */
int sk_store_key_get(sk_store *store, sk_store_txn *txn, sk_key_record *rec,
                     const uint8_t *key_id);

/* The key record of a person for a purpose: the most recently inserted one
 * in state SK_STORE_PREFERRED_STATE if there is one, else the most recently
 * inserted one in any state. */
int sk_store_key_get_by_person(sk_store *store, sk_store_txn *txn, sk_key_record *rec,
                               const char *person_id, uint32_t purpose);

/* Deletes every key in state whose updated_at is at or before `before`,
 * with its sessions and cached replies (abandoned enrolments); *deleted says
 * how many keys. */
int sk_store_keys_purge(sk_store *store, sk_store_txn *txn, size_t *deleted, uint32_t state,
                        int64_t before);

/* Compare-and-swap update of state, updated_at and blob (person and purpose
 * never change).  rec->version is the version the caller read; on success it is
 * the new version.  SK_ERR_STORE_CONFLICT if the stored version differs
 * (nothing changed), SK_ERR_NOT_FOUND if the key does not exist. */
int sk_store_key_update(sk_store *store, sk_store_txn *txn, sk_key_record *rec);

/* Frees rec's blob (wiped) and zeroes rec. */
void sk_key_record_clear(sk_key_record *rec);

/* --------------------------------------------------------------- sessions */

/* Inserts a session (version 1).  The key must exist (SK_ERR_NOT_FOUND);
 * an existing session id gives SK_ERR_STORE_CONFLICT. */
int sk_store_session_insert(sk_store *store, sk_store_txn *txn, sk_session_record *rec);

int sk_store_session_get(sk_store *store, sk_store_txn *txn, sk_session_record *rec,
                         const uint8_t *session_id);

/* Compare-and-swap update of state, expiry and blob, as for keys. */
int sk_store_session_update(sk_store *store, sk_store_txn *txn, sk_session_record *rec);

/* Records that the relying party of a session waits until seen_at: the
 * stored rp_seen_at moves forward to it (never back), without a new version,
 * so a device request that read the session is not made to start again.
 * A session with no relying party (rp_seen_at 0) is left alone.
 * SK_ERR_NOT_FOUND when the session does not exist. */
int sk_store_session_seen(sk_store *store, sk_store_txn *txn, const uint8_t *session_id,
                          int64_t seen_at);

/* The sessions of a key that expire after now, soonest expiry first, at most
 * max (0: no limit).
 * *recs is an array of *count records; free it with sk_session_records_free. */
int sk_store_sessions_for_key(sk_store *store, sk_store_txn *txn, sk_session_record **recs,
                              size_t *count, const uint8_t *key_id, int64_t now, size_t max);

/* Deletes sessions that expired at or before `before`; *deleted says how many. */
int sk_store_sessions_purge(sk_store *store, sk_store_txn *txn, size_t *deleted,
                            int64_t before);

void sk_session_record_clear(sk_session_record *rec);
void sk_session_records_free(sk_session_record *recs, size_t count);

/* ------------------------------------------------------------ reply cache */

/* Stores the reply sent for (key_id, request_id), for idempotent retries.
 * The first reply stays: a second put for the same pair gives
 * SK_ERR_STORE_CONFLICT and changes nothing.  request_id is 1 ..
 * SK_STORE_REQUEST_ID_MAX bytes.  now is kept for later pruning. */
int sk_store_reply_put(sk_store *store, sk_store_txn *txn, const uint8_t *key_id,
                       const uint8_t *request_id, size_t request_id_len, const uint8_t *reply,
                       size_t reply_len, int64_t now);

/* The stored reply (malloc'd, caller frees after wiping), or
 * SK_ERR_NOT_FOUND. */
int sk_store_reply_get(sk_store *store, sk_store_txn *txn, uint8_t **reply, size_t *reply_len,
                       const uint8_t *key_id, const uint8_t *request_id,
                       size_t request_id_len);

/* ---------------------------------------------------- registration tokens */

/* Remembers a registration token id (SK_STORE_ID_LEN bytes) as used by the
 * key key_id.  prior_key_id NULL: the first use, SK_ERR_STORE_CONFLICT if it
 * was used before.  Else the token moves from the key prior_key_id (an
 * enrolment that never finished) to key_id, SK_ERR_STORE_CONFLICT if it is
 * not that key's any more. */
int sk_store_token_use(sk_store *store, sk_store_txn *txn, const uint8_t *token_id,
                       const uint8_t *key_id, const uint8_t *prior_key_id, int64_t now);

/* *used = 1 if the token id was used before, else 0; when it was, and the
 * store knows which key it enrolled, *has_key = 1 and key_id receives that
 * key's id (SK_STORE_ID_LEN bytes; key_id may be NULL when not wanted). */
int sk_store_token_used(sk_store *store, sk_store_txn *txn, int *used, uint8_t *key_id,
                        int *has_key, const uint8_t *token_id);

/* ------------------------------------------------------- server-key pool */

/* Adds a sealed server key for a profile (sealed with its pool id as
 * associated data).  Conflict if the pool id exists. */
int sk_store_pool_add(sk_store *store, sk_store_txn *txn, const uint8_t *pool_id,
                      uint32_t profile, const uint8_t *sealed, size_t sealed_len);

/* Removes and returns the oldest key of the profile in one statement: two
 * concurrent takers never get the same key.  *sealed is malloc'd (the
 * caller wipes and frees it).  SK_ERR_NOT_FOUND when the pool is empty. */
int sk_store_pool_take(sk_store *store, sk_store_txn *txn, uint8_t *pool_id, uint8_t **sealed,
                       size_t *sealed_len, uint32_t profile);

int sk_store_pool_count(sk_store *store, sk_store_txn *txn, size_t *count, uint32_t profile);

/* -------------------------------------------------------------- event log */

/* Appends an event; ev->seq is set. */
int sk_store_event_append(sk_store *store, sk_store_txn *txn, sk_event *ev);

/* Events with seq > after_seq (of one key when key_id is non-NULL), in
 * order, at most max (0: no limit).  Free *events with free(). */
int sk_store_events(sk_store *store, sk_store_txn *txn, sk_event **events, size_t *count,
                    const uint8_t *key_id, int64_t after_seq, size_t max);

#endif
