/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store_sqlite.c - the SQLite store backend.
 *
 * One database file in WAL mode with synchronous=FULL (a commit is on disk
 * before it returns), foreign keys on, and a busy timeout.  Connections are
 * kept in a small pool: a transaction takes one, so several worker threads
 * read at once.  Write transactions start with BEGIN IMMEDIATE, which takes
 * the lock up front and so cannot deadlock on an upgrade; within one process
 * they first queue on a writer turn (a condition variable), so a waiting
 * writer starts the moment the previous one ends instead of sleeping in
 * SQLite's busy handler (which backs off 1, 2, 5, 10 ... ms); other
 * processes sharing the file still meet the busy timeout.  Every statement with a value in it is
 * prepared and its values bound.
 *
 * Every write transaction that changed a row also advances store_meta
 * "journal_seq" (decimal text) by one inside the transaction, journal or
 * not: the seq says how many commits a database (or a backup of it) holds.
 * With a commit journal (sk_store_journal_open), a write transaction
 * records its changes with the session extension, and its commit appends
 * the changeset as one record (backup.h) and flushes it to disk before the
 * COMMIT: nothing is reported committed that the journal lacks.  The
 * journal is appended under an fcntl write lock on it, taken while
 * SQLite's write lock (BEGIN IMMEDIATE) is held, so the records of several
 * processes on one database are in commit order.  A record whose COMMIT
 * then fails is cut off again; one whose process died before the COMMIT is
 * cut off by the next writer (its seq is one past the store's).
 */
#define _POSIX_C_SOURCE 200809L
#define SQLITE_ENABLE_SESSION 1
#define SQLITE_ENABLE_PREUPDATE_HOOK 1
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "backup.h"
#include "log.h"
#include "splitkey/splitkey.h"
#include "store_backend.h"

#define SQ_IDLE_MAX 16
#define SQ_BUSY_TIMEOUT_MS 5000

/* The commit journal of a store (one file, shared with other processes). */
struct sq_journal {
    int fd;
    char *path;
    sk_journal_pos pos; /* what this process last saw of it */
    bool broken;        /* a record could not be cut off again: no more writes */
};

struct sq_store {
    sk_store base;
    char *path;
    struct sq_journal *journal; /* NULL: no journal */
    pthread_mutex_t mu;
    pthread_cond_t turn; /* signalled when the writer turn is free */
    bool writing;        /* a write transaction of this process is open */
    sqlite3 *idle[SQ_IDLE_MAX];
    size_t nidle;
};

struct sq_txn {
    sk_store_txn base;
    sqlite3 *db;
    bool writer; /* holds the writer turn */
    sqlite3_int64 changes0;  /* sqlite3_total_changes64 at the start */
    sqlite3_session *session; /* the changes, when there is a journal */
};

/* ------------------------------------------------------------- schema */

/* Migrations, applied in order; entry i takes the schema from version i to
 * version i + 1.  Never edit a released entry: append a new one.  Keep them
 * additive (tables, columns with a default, indexes): they are not in the
 * commit journal, and a restore migrates the backup first and then replays
 * records written before and after a migration alike (backup.c). */
static const char *const migrations[] = {
    /* 1: keys, sessions, reply cache, server-key pool, event log */
    "CREATE TABLE keys ("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  key_id BLOB NOT NULL UNIQUE CHECK (length(key_id) = 16),"
    "  person_id TEXT NOT NULL CHECK (length(person_id) BETWEEN 1 AND 128),"
    "  purpose INTEGER NOT NULL,"
    "  state INTEGER NOT NULL,"
    "  version INTEGER NOT NULL CHECK (version >= 1),"
    "  record BLOB NOT NULL);"
    "CREATE INDEX keys_person ON keys (person_id, purpose, seq);"
    "CREATE TABLE sessions ("
    "  session_id BLOB PRIMARY KEY CHECK (length(session_id) = 16),"
    "  key_id BLOB NOT NULL REFERENCES keys (key_id),"
    "  state INTEGER NOT NULL,"
    "  expires_at INTEGER NOT NULL,"
    "  version INTEGER NOT NULL CHECK (version >= 1),"
    "  record BLOB NOT NULL);"
    "CREATE INDEX sessions_key ON sessions (key_id, expires_at);"
    "CREATE TABLE reply_cache ("
    "  key_id BLOB NOT NULL CHECK (length(key_id) = 16),"
    "  request_id BLOB NOT NULL CHECK (length(request_id) BETWEEN 1 AND 32),"
    "  reply BLOB NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  PRIMARY KEY (key_id, request_id));"
    "CREATE TABLE server_key_pool ("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  pool_id BLOB NOT NULL UNIQUE CHECK (length(pool_id) = 16),"
    "  profile INTEGER NOT NULL,"
    "  sealed BLOB NOT NULL);"
    "CREATE INDEX server_key_pool_profile ON server_key_pool (profile, seq);"
    "CREATE TABLE events ("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  at INTEGER NOT NULL,"
    "  key_id BLOB CHECK (key_id IS NULL OR length(key_id) = 16),"
    "  kind INTEGER NOT NULL,"
    "  detail INTEGER NOT NULL);"
    "CREATE INDEX events_key ON events (key_id, seq);"
    "CREATE TRIGGER events_no_update BEFORE UPDATE ON events"
    "  BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;"
    "CREATE TRIGGER events_no_delete BEFORE DELETE ON events"
    "  BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;",
    /* 2: pruning the reply cache by age */
    "CREATE INDEX reply_cache_created ON reply_cache (created_at);",
    /* 3: when a key row last changed (clean-up of abandoned enrolments), and
     * the registration tokens already used */
    "ALTER TABLE keys ADD COLUMN updated_at INTEGER NOT NULL DEFAULT 0;"
    "CREATE INDEX keys_state_updated ON keys (state, updated_at);"
    "CREATE TABLE used_tokens ("
    "  token_id BLOB PRIMARY KEY CHECK (length(token_id) = 16),"
    "  used_at INTEGER NOT NULL);",
    /* 4: facts about the store itself (its id, bound to the server's
     * directory, so a lost or replaced database is noticed at start) */
    "CREATE TABLE store_meta ("
    "  name TEXT PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 64),"
    "  value BLOB NOT NULL CHECK (length(value) <= 1024));",
    /* 5: which key a registration token enrolled (an enrolment that never
     * finished may be started again with its token); NULL for tokens used
     * before this version */
    "ALTER TABLE used_tokens ADD COLUMN key_id BLOB CHECK (key_id IS NULL OR length(key_id) = 16);",
    /* 6: until when a session's relying party is known to wait (its last
     * poll); 0 for sessions with no relying party and for those from before
     * this version, which the relying-party idle rule leaves alone */
    "ALTER TABLE sessions ADD COLUMN rp_seen_at INTEGER NOT NULL DEFAULT 0;",
};

#define SQ_LATEST ((int)(sizeof migrations / sizeof migrations[0]))
_Static_assert(sizeof migrations / sizeof migrations[0] == SK_STORE_SCHEMA_LATEST,
               "one SQLite migration per schema version");

/* ------------------------------------------------------------ helpers */

static int map_rc(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE:
        return SK_OK;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return SK_ERR_STORE_BUSY;
    case SQLITE_CONSTRAINT:
        return SK_ERR_STORE_CONFLICT;
    case SQLITE_NOMEM:
        return SK_ERR_NOMEM;
    case SQLITE_TOOBIG:
        return SK_ERR_LIMIT;
    default: /* SQLITE_FULL, SQLITE_IOERR, SQLITE_CORRUPT, ... */
        return SK_ERR_STORE;
    }
}

static int prep(sqlite3 *db, sqlite3_stmt **st, const char *sql)
{
    int rc = sqlite3_prepare_v2(db, sql, -1, st, NULL);
    if (rc != SQLITE_OK) {
        *st = NULL;
        return map_rc(rc);
    }
    return SK_OK;
}

static int bind_blob(sqlite3_stmt *st, int i, const uint8_t *p, size_t len)
{
    /* a NULL pointer would bind SQL NULL: bind an empty blob instead */
    if (len == 0)
        return sqlite3_bind_zeroblob(st, i, 0);
    return sqlite3_bind_blob64(st, i, p, (sqlite3_uint64)len, SQLITE_STATIC);
}

/* Copies a blob column into a new buffer (NULL for an empty one). */
static int copy_blob(uint8_t **out, size_t *len, sqlite3_stmt *st, int col)
{
    const void *p = sqlite3_column_blob(st, col);
    int n = sqlite3_column_bytes(st, col);
    *out = NULL;
    *len = 0;
    if (n <= 0)
        return SK_OK;
    uint8_t *b = malloc((size_t)n);
    if (b == NULL)
        return SK_ERR_NOMEM;
    memcpy(b, p, (size_t)n);
    *out = b;
    *len = (size_t)n;
    return SK_OK;
}

static bool copy_id(uint8_t *out, sqlite3_stmt *st, int col)
{
    if (sqlite3_column_bytes(st, col) != SK_STORE_ID_LEN)
        return false;
    memcpy(out, sqlite3_column_blob(st, col), SK_STORE_ID_LEN);
    return true;
}

/* Finalizes st and turns a step result into an error code. */
static int finish(sqlite3_stmt *st, int step_rc)
{
    sqlite3_finalize(st);
    return map_rc(step_rc);
}

static sqlite3 *txn_db(sk_store_txn *txn) { return ((struct sq_txn *)txn)->db; }

/* -------------------------------------------------------- connections */

static int conn_open(const char *path, sqlite3 **out)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                             NULL);
    if (rc != SQLITE_OK) {
        sqlite3_close(db);
        *out = NULL;
        return map_rc(rc) == SK_ERR_STORE_BUSY ? SK_ERR_STORE_BUSY : SK_ERR_STORE;
    }
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, SQ_BUSY_TIMEOUT_MS);
    rc = sqlite3_exec(db,
                      "PRAGMA journal_mode=WAL;"
                      "PRAGMA synchronous=FULL;"
                      "PRAGMA foreign_keys=ON;"
                      "PRAGMA secure_delete=ON;",
                      NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        int mapped = map_rc(rc);
        sqlite3_close(db);
        *out = NULL;
        return mapped == SK_ERR_STORE_BUSY ? mapped : SK_ERR_STORE;
    }
    *out = db;
    return SK_OK;
}

static int conn_get(struct sq_store *s, sqlite3 **db)
{
    pthread_mutex_lock(&s->mu);
    if (s->nidle > 0) {
        *db = s->idle[--s->nidle];
        pthread_mutex_unlock(&s->mu);
        return SK_OK;
    }
    pthread_mutex_unlock(&s->mu);
    return conn_open(s->path, db);
}

static void conn_put(struct sq_store *s, sqlite3 *db)
{
    pthread_mutex_lock(&s->mu);
    if (s->nidle < SQ_IDLE_MAX) {
        s->idle[s->nidle++] = db;
        db = NULL;
    }
    pthread_mutex_unlock(&s->mu);
    if (db != NULL)
        sqlite3_close(db);
}

/* The writer turn: one write transaction of this process at a time. */
static void writer_enter(struct sq_store *s)
{
    pthread_mutex_lock(&s->mu);
    while (s->writing)
        pthread_cond_wait(&s->turn, &s->mu);
    s->writing = true;
    pthread_mutex_unlock(&s->mu);
}

static void writer_leave(struct sq_store *s)
{
    pthread_mutex_lock(&s->mu);
    s->writing = false;
    pthread_cond_signal(&s->turn);
    pthread_mutex_unlock(&s->mu);
}

/* ---------------------------------------------------------- migrations */

static int read_version(sqlite3 *db, int *version)
{
    sqlite3_stmt *st;
    int rc = prep(db, &st, "SELECT version FROM schema_version");
    if (rc != SK_OK)
        return rc;
    int step = sqlite3_step(st);
    *version = step == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    return finish(st, step);
}

static int migrate(sqlite3 *db, const char *path)
{
    int rc = map_rc(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL));
    if (rc != SK_OK)
        return rc;
    int version = 0;
    rc = map_rc(sqlite3_exec(db,
                             "CREATE TABLE IF NOT EXISTS schema_version"
                             " (version INTEGER NOT NULL)",
                             NULL, NULL, NULL));
    if (rc == SK_OK)
        rc = read_version(db, &version);
    if (rc == SK_OK && version < 0) {
        version = 0;
        rc = map_rc(sqlite3_exec(db, "INSERT INTO schema_version (version) VALUES (0)", NULL,
                                 NULL, NULL));
    }
    if (rc == SK_OK && version > SQ_LATEST) {
        sk_log_error("store %s: schema version %d is newer than this program's (%d)", path,
                     version, SQ_LATEST);
        rc = SK_ERR_STORE;
    }
    for (int v = version; rc == SK_OK && v < SQ_LATEST; v++) {
        rc = map_rc(sqlite3_exec(db, migrations[v], NULL, NULL, NULL));
        sqlite3_stmt *st = NULL;
        if (rc == SK_OK)
            rc = prep(db, &st, "UPDATE schema_version SET version = ?1");
        if (rc == SK_OK) {
            sqlite3_bind_int(st, 1, v + 1);
            rc = finish(st, sqlite3_step(st));
        }
        if (rc == SK_OK)
            sk_log_notice("store %s: migrated schema to version %d", path, v + 1);
    }
    if (rc == SK_OK)
        rc = map_rc(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL));
    if (rc != SK_OK && !sqlite3_get_autocommit(db))
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    /* a constraint failure here means a broken database, not a conflict */
    return rc == SK_ERR_STORE_CONFLICT ? SK_ERR_STORE : rc;
}

/* ------------------------------------------------------ open and close */

static void sq_close(sk_store *store)
{
    struct sq_store *s = (struct sq_store *)store;
    if (s->journal != NULL) {
        close(s->journal->fd);
        free(s->journal->path);
        free(s->journal);
    }
    for (size_t i = 0; i < s->nidle; i++)
        sqlite3_close(s->idle[i]);
    pthread_cond_destroy(&s->turn);
    pthread_mutex_destroy(&s->mu);
    free(s->path);
    free(s);
}

static int sq_open(sk_store **out, const char *location)
{
    struct sq_store *s = calloc(1, sizeof *s);
    if (s == NULL)
        return SK_ERR_NOMEM;
    s->base.ops = &sk_store_sqlite_ops;
    s->path = strdup(location);
    if (s->path == NULL || pthread_mutex_init(&s->mu, NULL) != 0) {
        free(s->path);
        free(s);
        return SK_ERR_NOMEM;
    }
    if (pthread_cond_init(&s->turn, NULL) != 0) {
        pthread_mutex_destroy(&s->mu);
        free(s->path);
        free(s);
        return SK_ERR_NOMEM;
    }
    /* A new database is created 0600 whatever the umask: it holds sealed
     * secrets and OTP hashes.  SQLite gives its -wal and -shm files the
     * database file's permissions. */
    int fd = open(s->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0)
        close(fd);
    sqlite3 *db;
    int rc = conn_open(s->path, &db);
    if (rc == SK_OK) {
        rc = migrate(db, s->path);
        if (rc == SK_OK)
            conn_put(s, db);
        else
            sqlite3_close(db);
    }
    if (rc != SK_OK) {
        sq_close(&s->base);
        return rc;
    }
    *out = &s->base;
    return SK_OK;
}

static int sq_schema_version(sk_store *store, int *version)
{
    struct sq_store *s = (struct sq_store *)store;
    sqlite3 *db;
    int rc = conn_get(s, &db);
    if (rc != SK_OK)
        return rc;
    rc = read_version(db, version);
    conn_put(s, db);
    return rc;
}

/* -------------------------------------------------------- transactions */

static int sq_begin(sk_store *store, sk_store_txn **txn, int write)
{
    struct sq_store *s = (struct sq_store *)store;
    struct sq_txn *t = calloc(1, sizeof *t);
    if (t == NULL)
        return SK_ERR_NOMEM;
    int rc = conn_get(s, &t->db);
    if (rc == SK_OK && write) {
        writer_enter(s);
        t->writer = true;
    }
    if (rc == SK_OK) {
        rc = map_rc(sqlite3_exec(t->db, write ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED", NULL,
                                 NULL, NULL));
        if (rc == SK_OK && write) {
            t->changes0 = sqlite3_total_changes64(t->db);
            if (s->journal != NULL) {
                int src = sqlite3session_create(t->db, "main", &t->session);
                if (src == SQLITE_OK)
                    src = sqlite3session_attach(t->session, NULL);
                if (src != SQLITE_OK) {
                    sk_log_error("store %s: cannot record a transaction for the journal: %s",
                                 s->path, sqlite3_errstr(src));
                    rc = src == SQLITE_NOMEM ? SK_ERR_NOMEM : SK_ERR_STORE;
                    if (t->session != NULL)
                        sqlite3session_delete(t->session);
                    t->session = NULL;
                    sqlite3_exec(t->db, "ROLLBACK", NULL, NULL, NULL);
                }
            }
        }
        if (rc != SK_OK)
            conn_put(s, t->db);
    }
    if (rc != SK_OK) {
        if (t->writer)
            writer_leave(s);
        free(t);
        return rc == SK_ERR_STORE_CONFLICT ? SK_ERR_STORE : rc;
    }
    t->base.store = store;
    *txn = &t->base;
    return SK_OK;
}

static void txn_end(struct sq_txn *t)
{
    if (t->session != NULL)
        sqlite3session_delete(t->session);
    if (!sqlite3_get_autocommit(t->db))
        sqlite3_exec(t->db, "ROLLBACK", NULL, NULL, NULL);
    struct sq_store *s = (struct sq_store *)t->base.store;
    conn_put(s, t->db);
    if (t->writer)
        writer_leave(s);
    free(t);
}

static int commit_changes(struct sq_store *s, struct sq_txn *t);

static int sq_commit(sk_store_txn *txn)
{
    struct sq_txn *t = (struct sq_txn *)txn;
    int rc = SK_ERR_STORE;
    /* SQLite may already have rolled back after an I/O or full-disk error */
    if (!sqlite3_get_autocommit(t->db)) {
        if (t->writer && sqlite3_total_changes64(t->db) != t->changes0)
            rc = commit_changes((struct sq_store *)t->base.store, t);
        else
            rc = map_rc(sqlite3_exec(t->db, "COMMIT", NULL, NULL, NULL));
    }
    txn_end(t); /* rolls back what a failed COMMIT left open */
    return rc == SK_ERR_STORE_CONFLICT ? SK_ERR_STORE : rc;
}

static void sq_rollback(sk_store_txn *txn) { txn_end((struct sq_txn *)txn); }

/* ----------------------------------------------------------------- keys */

#define KEY_COLUMNS "key_id, person_id, purpose, state, version, record"
#define KEY_SELECT KEY_COLUMNS ", updated_at"

static int read_key_row(sk_key_record *rec, sqlite3_stmt *st)
{
    const unsigned char *person = sqlite3_column_text(st, 1);
    int plen = sqlite3_column_bytes(st, 1);
    if (!copy_id(rec->key_id, st, 0) || person == NULL || plen <= 0 ||
        plen > (int)SK_STORE_PERSON_MAX)
        return SK_ERR_STORE;
    memcpy(rec->person_id, person, (size_t)plen);
    rec->person_id[plen] = '\0';
    rec->purpose = (uint32_t)sqlite3_column_int64(st, 2);
    rec->state = (uint32_t)sqlite3_column_int64(st, 3);
    rec->version = sqlite3_column_int64(st, 4);
    rec->updated_at = sqlite3_column_int64(st, 6);
    return copy_blob(&rec->blob, &rec->blob_len, st, 5);
}

static int query_key(sk_key_record *rec, sqlite3_stmt *st)
{
    int step = sqlite3_step(st);
    int rc;
    if (step == SQLITE_ROW)
        rc = read_key_row(rec, st);
    else
        rc = step == SQLITE_DONE ? SK_ERR_NOT_FOUND : map_rc(step);
    sqlite3_finalize(st);
    if (rc != SK_OK)
        sk_key_record_clear(rec);
    return rc;
}

static int sq_key_insert(sk_store_txn *txn, sk_key_record *rec)
{
    sqlite3_stmt *st;
    int rc = prep(txn_db(txn), &st,
                  "INSERT INTO keys (" KEY_COLUMNS ", updated_at)"
                  " VALUES (?1, ?2, ?3, ?4, 1, ?5, ?6)");
    if (rc != SK_OK)
        return rc;
    sqlite3_bind_blob(st, 1, rec->key_id, SK_STORE_ID_LEN, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, rec->person_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, rec->purpose);
    sqlite3_bind_int64(st, 4, rec->state);
    bind_blob(st, 5, rec->blob, rec->blob_len);
    sqlite3_bind_int64(st, 6, rec->updated_at);
    rc = finish(st, sqlite3_step(st));
    if (rc == SK_OK)
        rec->version = 1;
    return rc;
}

static int sq_key_get(sk_store_txn *txn, sk_key_record *rec, const uint8_t *key_id)
{
    sqlite3_stmt *st;
    int rc = prep(txn_db(txn), &st, "SELECT " KEY_SELECT " FROM keys WHERE key_id = ?1");
    if (rc != SK_OK)
        return rc;
    sqlite3_bind_blob(st, 1, key_id, SK_STORE_ID_LEN, SQLITE_STATIC);
    return query_key(rec, st);
}

static int sq_key_get_by_person(sk_store_txn *txn, sk_key_record *rec, const char *person_id,
                                uint32_t purpose)
{
    sqlite3_stmt *st;
    int rc = prep(txn_db(txn), &st,
                  "SELECT " KEY_SELECT " FROM keys WHERE person_id = ?1 AND purpose = ?2"
                  " ORDER BY state = ?3 DESC, seq DESC LIMIT 1");
    if (rc != SK_OK)
        return rc;
    sqlite3_bind_text(st, 1, person_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, purpose);
    sqlite3_bind_int64(st, 3, SK_STORE_PREFERRED_STATE);
    return query_key(rec, st);
}

/* After an update matched no row: SK_ERR_STORE_CONFLICT if the row exists
 * (its version moved), SK_ERR_NOT_FOUND otherwise. */
static int missing_or_moved(sqlite3 *db, const char *sql, const uint8_t *id)
{
    sqlite3_stmt *st;
    int rc = prep(db, &st, sql);
    if (rc != SK_OK)
        return rc;
    sqlite3_bind_blob(st, 1, id, SK_STORE_ID_LEN, SQLITE_STATIC);
    int step = sqlite3_step(st);
    sqlite3_finalize(st);
    if (step == SQLITE_ROW)
        return SK_ERR_STORE_CONFLICT;
    return step == SQLITE_DONE ? SK_ERR_NOT_FOUND : map_rc(step);
}

static int sq_key_update(sk_store_txn *txn, sk_key_record *rec)
{
    sqlite3 *db = txn_db(txn);
    sqlite3_stmt *st;
    int rc = prep(db, &st,
                  "UPDATE keys SET state = ?1, record = ?2, version = version + 1,"
                  " updated_at = ?5 WHERE key_id = ?3 AND version = ?4");
    if (rc != SK_OK)
        return rc;
    sqlite3_bind_int64(st, 1, rec->state);
    bind_blob(st, 2, rec->blob, rec->blob_len);
    sqlite3_bind_blob(st, 3, rec->key_id, SK_STORE_ID_LEN, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, rec->version);
    sqlite3_bind_int64(st, 5, rec->updated_at);
    rc = finish(st, sqlite3_step(st));
    if (rc != SK_OK)
        return rc;
    if (sqlite3_changes(db) != 1)
        return missing_or_moved(db, "SELECT 1 FROM keys WHERE key_id = ?1", rec->key_id);
    rec->version++;
    return SK_OK;
}

/* ------------------------------------------------------------- sessions */

#define SESSION_COLUMNS "session_id, key_id, state, expires_at, version, record, rp_seen_at"

static int read_session_row(sk_session_record *rec, sqlite3_stmt *st)
{
    if (!copy_id(rec->session_id, st, 0) || !copy_id(rec->key_id, st, 1))
        return SK_ERR_STORE;
    rec->state = (uint32_t)sqlite3_column_int64(st, 2);
    rec->expires_at = sqlite3_column_int64(st, 3);
    rec->version = sqlite3_column_int64(st, 4);
    rec->rp_seen_at = sqlite3_column_int64(st, 6);
    return copy_blob(&rec->blob, &rec->blob_len, st, 5);
}

static int key_exists(sqlite3 *db, const uint8_t *key_id)
{
    int rc = missing_or_moved(db, "SELECT 1 FROM keys WHERE key_id = ?1", key_id);
    return rc == SK_ERR_STORE_CONFLICT ? SK_OK : rc;
}

static int sq_session_insert(sk_store_txn *txn, sk_session_record *rec)
{
    sqlite3 *db = txn_db(txn);
    int rc = key_exists(db, rec->key_id);
    if (rc != SK_OK)
        return rc;
    sqlite3_stmt *st;
    rc = prep(db, &st,
              "INSERT INTO sessions (" SESSION_COLUMNS ") VALUES (?1, ?2, ?3, ?4, 1, ?5, ?6)");
    if (rc != SK_OK)
        return rc;
    sqlite3_bind_blob(st, 1, rec->session_id, SK_STORE_ID_LEN, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, rec->key_id, SK_STORE_ID_LEN, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, rec->state);
    sqlite3_bind_int64(st, 4, rec->expires_at);
    bind_blob(st, 5, rec->blob, rec->blob_len);
    sqlite3_bind_int64(st, 6, rec->rp_seen_at > 0 ? rec->rp_seen_at : 0);
    rc = finish(st, sqlite3_step(st));
    if (rc == SK_OK)
        rec->version = 1;
    return rc;
}

static int sq_session_get(sk_store_txn *txn, sk_session_record *rec, const uint8_t *session_id)
{
    sqlite3_stmt *st;
    int rc = prep(txn_db(txn), &st,
                  "SELECT " SESSION_COLUMNS " FROM sessions WHERE session_id = ?1");
    if (rc != SK_OK)
        return rc;
    sqlite3_bind_blob(st, 1, session_id, SK_STORE_ID_LEN, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        rc = read_session_row(rec, st);
    else
        rc = step == SQLITE_DONE ? SK_ERR_NOT_FOUND : map_rc(step);
    sqlite3_finalize(st);
    if (rc != SK_OK)
        sk_session_record_clear(rec);
    return rc;
}

static int sq_session_update(sk_store_txn *txn, sk_session_record *rec)
{
    sqlite3 *db = txn_db(txn);
    sqlite3_stmt *st;
    int rc = prep(db, &st,
                  "UPDATE sessions SET state = ?1, expires_at = ?2, record = ?3,"
                  " version = version + 1 WHERE session_id = ?4 AND version = ?5");
    if (rc != SK_OK)
        return rc;
    sqlite3_bind_int64(st, 1, rec->state);
    sqlite3_bind_int64(st, 2, rec->expires_at);
    bind_blob(st, 3, rec->blob, rec->blob_len);
    sqlite3_bind_blob(st, 4, rec->session_id, SK_STORE_ID_LEN, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, rec->version);
    rc = finish(st, sqlite3_step(st));
    if (rc != SK_OK)
        return rc;
    if (sqlite3_changes(db) != 1)
        return missing_or_moved(db, "SELECT 1 FROM sessions WHERE session_id = ?1",
                                rec->session_id);
    rec->version++;
    return SK_OK;
}

static int sq_session_seen(sk_store_txn *txn, const uint8_t *session_id, int64_t seen_at)
{
    sqlite3 *db = txn_db(txn);
    sqlite3_stmt *st;
    int rc = prep(db, &st,
                  "UPDATE sessions SET rp_seen_at = ?2"
                  " WHERE session_id = ?1 AND rp_seen_at > 0 AND rp_seen_at < ?2");
    if (rc != SK_OK)
        return rc;
    sqlite3_bind_blob(st, 1, session_id, SK_STORE_ID_LEN, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, seen_at);
    rc = finish(st, sqlite3_step(st));
    if (rc != SK_OK || sqlite3_changes(db) == 1)
        return rc;
    rc = missing_or_moved(db, "SELECT 1 FROM sessions WHERE session_id = ?1", session_id);
    return rc == SK_ERR_STORE_CONFLICT ? SK_OK : rc; /* there, nothing to move */
}

static int sq_sessions_for_key(sk_store_txn *txn, sk_session_record **recs, size_t *count,
                               const uint8_t *key_id, int64_t now, size_t max)
{
    sqlite3_stmt *st;
    int rc = prep(txn_db(txn), &st,
                  "SELECT " SESSION_COLUMNS " FROM sessions"
                  " WHERE key_id = ?1 AND expires_at > ?2"
                  " ORDER BY expires_at, session_id LIMIT ?3");
    if (rc != SK_OK)
        return rc;
    sqlite3_bind_blob(st, 1, key_id, SK_STORE_ID_LEN, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now);
    sqlite3_bind_int64(st, 3, max == 0 ? -1 : (sqlite3_int64)max);
    sk_session_record *arr = NULL;
    size_t n = 0, cap = 0;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 4;
            sk_session_record *na = realloc(arr, ncap * sizeof *na);
            if (na == NULL) {
                rc = SK_ERR_NOMEM;
                break;
            }
            arr = na;
            cap = ncap;
        }
        memset(&arr[n], 0, sizeof arr[n]);
        rc = read_session_row(&arr[n], st);
        n++;
        if (rc != SK_OK)
            break;
    }
    if (rc == SK_OK && step != SQLITE_DONE)
        rc = map_rc(step);
    sqlite3_finalize(st);
    if (rc != SK_OK) {
        sk_session_records_free(arr, n);
        return rc;
    }
    *recs = arr;
    *count = n;
    return SK_OK;
}

static int sq_sessions_purge(sk_store_txn *txn, size_t *deleted, int64_t before)
{
    sqlite3 *db = txn_db(txn);
    sqlite3_stmt *st;
    int rc = prep(db, &st, "DELETE FROM sessions WHERE expires_at <= ?1");
    if (rc != SK_OK)
        return rc;
    sqlite3_bind_int64(st, 1, before);
    rc = finish(st, sqlite3_step(st));
    if (rc == SK_OK)
        *deleted = (size_t)sqlite3_changes(db);
    return rc;
}

/* ---------------------------------------------------------- reply cache */

static int sq_reply_put(sk_store_txn *txn, const uint8_t *key_id, const uint8_t *request_id,
                        size_t request_id_len, const uint8_t *reply, size_t reply_len,
                        int64_t now)
{
    sqlite3_stmt *st;
    int rc = prep(txn_db(txn), &st,
                  "INSERT INTO reply_cache (key_id, request_id, reply, created_at)"
                  " VALUES (?1, ?2, ?3, ?4)");
    if (rc != SK_OK)
        return rc;
    sqlite3_bind_blob(st, 1, key_id, SK_STORE_ID_LEN, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, request_id, (int)request_id_len, SQLITE_STATIC);
    bind_blob(st, 3, reply, reply_len);
    sqlite3_bind_int64(st, 4, now);
    return finish(st, sqlite3_step(st));
}

static int sq_reply_get(sk_store_txn *txn, uint8_t **reply, size_t *reply_len,
                        const uint8_t *key_id, const uint8_t *request_id, size_t request_id_len)
{
    sqlite3_stmt *st;
    int rc = prep(txn_db(txn), &st,
                  "SELECT reply FROM reply_cache WHERE key_id = ?1 AND request_id = ?2");
    if (rc != SK_OK)
        return rc;
    sqlite3_bind_blob(st, 1, key_id, SK_STORE_ID_LEN, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, request_id, (int)request_id_len, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        rc = copy_blob(reply, reply_len, st, 0);
    else
        rc = step == SQLITE_DONE ? SK_ERR_NOT_FOUND : map_rc(step);
    sqlite3_finalize(st);
    return rc;
}

/* ----------------------------------------------------------------- pool */

static int sq_pool_add(sk_store_txn *txn, const uint8_t *pool_id, uint32_t profile,
                       const uint8_t *sealed, size_t sealed_len)
{
    sqlite3_stmt *st;
    int rc = prep(txn_db(txn), &st,
                  "INSERT INTO server_key_pool (pool_id, profile, sealed) VALUES (?1, ?2, ?3)");
    if (rc != SK_OK)
        return rc;
    sqlite3_bind_blob(st, 1, pool_id, SK_STORE_ID_LEN, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, profile);
    bind_blob(st, 3, sealed, sealed_len);
    return finish(st, sqlite3_step(st));
}

static int sq_pool_take(sk_store_txn *txn, uint8_t *pool_id, uint8_t **sealed,
                        size_t *sealed_len, uint32_t profile)
{
    sqlite3_stmt *st;
    int rc = prep(txn_db(txn), &st,
                  "DELETE FROM server_key_pool WHERE seq = (SELECT seq FROM server_key_pool"
                  " WHERE profile = ?1 ORDER BY seq LIMIT 1) RETURNING pool_id, sealed");
    if (rc != SK_OK)
        return rc;
    sqlite3_bind_int64(st, 1, profile);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        rc = copy_id(pool_id, st, 0) ? copy_blob(sealed, sealed_len, st, 1) : SK_ERR_STORE;
        if (rc == SK_OK) {
            step = sqlite3_step(st);
            rc = step == SQLITE_DONE ? SK_OK : map_rc(step);
        }
    } else {
        rc = step == SQLITE_DONE ? SK_ERR_NOT_FOUND : map_rc(step);
    }
    sqlite3_finalize(st);
    if (rc != SK_OK) {
        if (*sealed != NULL) {
            sk_wipe(*sealed, *sealed_len);
            free(*sealed);
        }
        *sealed = NULL;
        *sealed_len = 0;
        memset(pool_id, 0, SK_STORE_ID_LEN);
    }
    return rc;
}

static int sq_pool_count(sk_store_txn *txn, size_t *count, uint32_t profile)
{
    sqlite3_stmt *st;
    int rc = prep(txn_db(txn), &st, "SELECT count(*) FROM server_key_pool WHERE profile = ?1");
    if (rc != SK_OK)
        return rc;
    sqlite3_bind_int64(st, 1, profile);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        *count = (size_t)sqlite3_column_int64(st, 0);
    return finish(st, step);
}

/* Deletes the keys in one state not changed since before, with their
 * sessions and cached replies. */
static int sq_keys_purge(sk_store_txn *txn, size_t *deleted, uint32_t state, int64_t before)
{
    static const char *const sql[] = {
        "DELETE FROM sessions WHERE key_id IN"
        " (SELECT key_id FROM keys WHERE state = ?1 AND updated_at <= ?2)",
        "DELETE FROM reply_cache WHERE key_id IN"
        " (SELECT key_id FROM keys WHERE state = ?1 AND updated_at <= ?2)",
        "DELETE FROM keys WHERE state = ?1 AND updated_at <= ?2",
    };
    sqlite3 *db = txn_db(txn);
    int rc = SK_OK;
    for (size_t i = 0; rc == SK_OK && i < sizeof sql / sizeof sql[0]; i++) {
        sqlite3_stmt *st;
        rc = prep(db, &st, sql[i]);
        if (rc != SK_OK)
            break;
        sqlite3_bind_int64(st, 1, state);
        sqlite3_bind_int64(st, 2, before);
        rc = finish(st, sqlite3_step(st));
    }
    if (rc == SK_OK)
        *deleted = (size_t)sqlite3_changes(db);
    return rc;
}

/* ---------------------------------------------------------------- tokens */

static int sq_token_use(sk_store_txn *txn, const uint8_t *token_id, const uint8_t *key_id,
                        const uint8_t *prior_key_id, int64_t now)
{
    sqlite3_stmt *st;
    int rc = prep(txn_db(txn), &st,
                  prior_key_id == NULL
                      ? "INSERT INTO used_tokens (token_id, used_at, key_id) VALUES (?1, ?2, ?3)"
                      : "UPDATE used_tokens SET used_at = ?2, key_id = ?3"
                        " WHERE token_id = ?1 AND key_id = ?4");
    if (rc != SK_OK)
        return rc;
    sqlite3_bind_blob(st, 1, token_id, SK_STORE_ID_LEN, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now);
    sqlite3_bind_blob(st, 3, key_id, SK_STORE_ID_LEN, SQLITE_STATIC);
    if (prior_key_id != NULL)
        sqlite3_bind_blob(st, 4, prior_key_id, SK_STORE_ID_LEN, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step == SQLITE_DONE && prior_key_id != NULL && sqlite3_changes(txn_db(txn)) != 1) {
        sqlite3_finalize(st);
        return SK_ERR_STORE_CONFLICT; /* another enrolment took the token first */
    }
    return finish(st, step);
}

static int sq_token_used(sk_store_txn *txn, int *used, uint8_t *key_id, int *has_key,
                         const uint8_t *token_id)
{
    sqlite3_stmt *st;
    *used = *has_key = 0;
    int rc = prep(txn_db(txn), &st, "SELECT key_id FROM used_tokens WHERE token_id = ?1");
    if (rc != SK_OK)
        return rc;
    sqlite3_bind_blob(st, 1, token_id, SK_STORE_ID_LEN, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        *used = 1;
        if (sqlite3_column_type(st, 0) == SQLITE_BLOB &&
            sqlite3_column_bytes(st, 0) == SK_STORE_ID_LEN) {
            memcpy(key_id, sqlite3_column_blob(st, 0), SK_STORE_ID_LEN);
            *has_key = 1;
        }
    }
    return finish(st, step);
}

/* ----------------------------------------------------------------- meta */

static int sq_meta_get(sk_store_txn *txn, const char *name, uint8_t *value, size_t cap,
                       size_t *len)
{
    sqlite3_stmt *st;
    int rc = prep(txn_db(txn), &st, "SELECT value FROM store_meta WHERE name = ?1");
    if (rc != SK_OK)
        return rc;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        size_t n = (size_t)sqlite3_column_bytes(st, 0);
        if (n > cap) {
            sqlite3_finalize(st);
            return SK_ERR_STORE;
        }
        if (n > 0)
            memcpy(value, sqlite3_column_blob(st, 0), n);
        *len = n;
    }
    rc = finish(st, step);
    return rc == SK_OK && step != SQLITE_ROW ? SK_ERR_NOT_FOUND : rc;
}

static int sq_meta_put(sk_store_txn *txn, const char *name, const uint8_t *value, size_t len)
{
    sqlite3_stmt *st;
    int rc = prep(txn_db(txn), &st,
                  "INSERT INTO store_meta (name, value) VALUES (?1, ?2)"
                  " ON CONFLICT (name) DO UPDATE SET value = excluded.value");
    if (rc != SK_OK)
        return rc;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, value, (int)len, SQLITE_STATIC);
    return finish(st, sqlite3_step(st));
}

static int sq_meta_cas(sk_store_txn *txn, const char *name, const uint8_t *expect,
                       size_t expect_len, const uint8_t *value, size_t len)
{
    sqlite3_stmt *st;
    int rc = prep(txn_db(txn), &st,
                  expect == NULL ? "INSERT INTO store_meta (name, value) VALUES (?1, ?2)"
                                 : "UPDATE store_meta SET value = ?2 WHERE name = ?1 AND value = ?3");
    if (rc != SK_OK)
        return rc;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    bind_blob(st, 2, value, len);
    if (expect != NULL)
        bind_blob(st, 3, expect, expect_len);
    rc = finish(st, sqlite3_step(st));
    if (rc == SK_OK && expect != NULL && sqlite3_changes(txn_db(txn)) != 1)
        rc = SK_ERR_STORE_CONFLICT;
    return rc;
}

/* PRAGMA quick_check: "ok", or the first problems it names, joined. */
static int sq_check(sk_store *store, char *what, size_t what_len)
{
    struct sq_store *s = (struct sq_store *)store;
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int rc = conn_get(s, &db);
    if (rc != SK_OK)
        return rc;
    rc = prep(db, &st, "PRAGMA quick_check(4)");
    if (rc != SK_OK) {
        snprintf(what, what_len, "%s", sqlite3_errmsg(db));
        conn_put(s, db);
        return rc;
    }
    size_t used = 0;
    bool ok = false;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        if (t == NULL)
            continue;
        if (strcmp(t, "ok") == 0) {
            ok = true;
            continue;
        }
        if (used < what_len) {
            int n = snprintf(what + used, what_len - used, "%s%s", used ? "; " : "", t);
            used += n > 0 ? (size_t)n : 0;
        }
    }
    if (step != SQLITE_DONE && used == 0)
        snprintf(what, what_len, "%s", sqlite3_errmsg(db));
    rc = finish(st, step);
    if (rc == SK_OK && !ok)
        rc = SK_ERR_STORE;
    conn_put(s, db);
    return rc;
}

/* --------------------------------------------------------------- events */

static int sq_event_append(sk_store_txn *txn, sk_event *ev)
{
    sqlite3 *db = txn_db(txn);
    sqlite3_stmt *st;
    int rc = prep(db, &st, "INSERT INTO events (at, key_id, kind, detail) VALUES (?1, ?2, ?3, ?4)");
    if (rc != SK_OK)
        return rc;
    sqlite3_bind_int64(st, 1, ev->at);
    if (ev->has_key)
        sqlite3_bind_blob(st, 2, ev->key_id, SK_STORE_ID_LEN, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 2);
    sqlite3_bind_int64(st, 3, ev->kind);
    sqlite3_bind_int64(st, 4, ev->detail);
    rc = finish(st, sqlite3_step(st));
    if (rc == SK_OK)
        ev->seq = sqlite3_last_insert_rowid(db);
    return rc;
}

static int sq_events(sk_store_txn *txn, sk_event **events, size_t *count, const uint8_t *key_id,
                     int64_t after_seq, size_t max)
{
    sqlite3_stmt *st;
    int rc = prep(txn_db(txn), &st,
                  "SELECT seq, at, key_id, kind, detail FROM events"
                  " WHERE seq > ?1 AND (?2 IS NULL OR key_id = ?2) ORDER BY seq LIMIT ?3");
    if (rc != SK_OK)
        return rc;
    sqlite3_bind_int64(st, 1, after_seq);
    if (key_id != NULL)
        sqlite3_bind_blob(st, 2, key_id, SK_STORE_ID_LEN, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 2);
    sqlite3_bind_int64(st, 3, max == 0 ? -1 : (sqlite3_int64)max);
    sk_event *arr = NULL;
    size_t n = 0, cap = 0;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            sk_event *na = realloc(arr, ncap * sizeof *na);
            if (na == NULL) {
                rc = SK_ERR_NOMEM;
                break;
            }
            arr = na;
            cap = ncap;
        }
        sk_event *e = &arr[n++];
        memset(e, 0, sizeof *e);
        e->seq = sqlite3_column_int64(st, 0);
        e->at = sqlite3_column_int64(st, 1);
        e->has_key = sqlite3_column_type(st, 2) != SQLITE_NULL;
        if (e->has_key && !copy_id(e->key_id, st, 2)) {
            rc = SK_ERR_STORE;
            break;
        }
        e->kind = (uint32_t)sqlite3_column_int64(st, 3);
        e->detail = sqlite3_column_int64(st, 4);
    }
    if (rc == SK_OK && step != SQLITE_DONE)
        rc = map_rc(step);
    sqlite3_finalize(st);
    if (rc != SK_OK) {
        free(arr);
        return rc;
    }
    *events = arr;
    *count = n;
    return SK_OK;
}

/* ---------------------------------------------------- the commit journal */

#define JOURNAL_SEQ "journal_seq"

/* The store's journal_seq in this transaction (0 when it has none). */
static int seq_read(struct sq_txn *t, int64_t *seq)
{
    uint8_t v[24];
    size_t len = 0;
    *seq = 0;
    int rc = sq_meta_get(&t->base, JOURNAL_SEQ, v, sizeof v, &len);
    if (rc == SK_ERR_NOT_FOUND)
        return SK_OK;
    if (rc != SK_OK)
        return rc;
    return sk_store_meta_decimal(v, len, seq);
}

static int journal_lock(struct sq_journal *j, bool lock)
{
    struct flock fl = {.l_type = lock ? F_WRLCK : F_UNLCK, .l_whence = SEEK_SET};
    while (fcntl(j->fd, F_SETLKW, &fl) != 0) {
        if (errno != EINTR)
            return SK_ERR_STORE;
    }
    return SK_OK;
}

/* Cuts the journal back to off and flushes that. */
static int journal_cut(struct sq_journal *j, off_t off)
{
    if (ftruncate(j->fd, off) != 0 || fdatasync(j->fd) != 0)
        return SK_ERR_STORE;
    return SK_OK;
}

/* With the store's write lock and the journal's lock held: brings pos up
 * to date with what other processes appended, cuts off a torn tail and a
 * last record that was never committed (seq one past the store's), and
 * checks that the journal ends at the store's seq.  Problems are described
 * in err. */
static int journal_settle(struct sq_journal *j, int64_t db_seq, char *err, size_t err_len)
{
    struct stat at_path, at_fd;
    if (j->broken) {
        snprintf(err, err_len, "an earlier failure left a record in it that was never committed");
        return SK_ERR_STORE;
    }
    if (fstat(j->fd, &at_fd) != 0) {
        snprintf(err, err_len, "cannot read it: %s", strerror(errno));
        return SK_ERR_STORE;
    }
    if (stat(j->path, &at_path) != 0 || at_path.st_ino != at_fd.st_ino ||
        at_path.st_dev != at_fd.st_dev) {
        snprintf(err, err_len,
                 "it was moved or replaced while the server runs (stop the server before "
                 "starting a new journal)");
        return SK_ERR_STORE;
    }
    if (at_fd.st_size < j->pos.end) {
        snprintf(err, err_len, "it shrank while the server runs");
        return SK_ERR_STORE;
    }
    if (at_fd.st_size > j->pos.end) {
        int rc = sk_journal_scan(j->fd, &j->pos, NULL, NULL, err, err_len);
        if (rc != SK_OK)
            return rc;
        if (j->pos.torn) {
            if (journal_cut(j, j->pos.end) != SK_OK) {
                snprintf(err, err_len, "cannot cut off a torn record: %s", strerror(errno));
                return SK_ERR_STORE;
            }
            sk_log_notice("journal %s: cut off %jd bytes of a record whose write never "
                          "completed",
                          j->path, (intmax_t)(j->pos.size - j->pos.end));
            j->pos.torn = false;
        }
    }
    if (j->pos.any && j->pos.last_seq == db_seq + 1 && j->pos.records > 1) {
        if (journal_cut(j, j->pos.last_start) != SK_OK) {
            snprintf(err, err_len, "cannot cut off an uncommitted record: %s", strerror(errno));
            return SK_ERR_STORE;
        }
        sk_log_notice("journal %s: cut off record %" PRId64 ", whose transaction was never "
                      "committed (a process stopped between the journal and the commit)",
                      j->path, j->pos.last_seq);
        j->pos.end = j->pos.last_start;
        j->pos.last_seq = db_seq;
        j->pos.last_start = -1;
        j->pos.records--;
    }
    if (!j->pos.any || j->pos.last_seq != db_seq) {
        snprintf(err, err_len, "it ends at seq %" PRId64 " but the store is at seq %" PRId64,
                 j->pos.any ? j->pos.last_seq : (int64_t)-1, db_seq);
        return SK_ERR_STORE_CONFLICT;
    }
    return SK_OK;
}

/* Appends record seq (changeset cs of len bytes) at the end and flushes it.
 * On failure the journal is cut back. */
static int journal_append(struct sq_journal *j, int64_t seq, const uint8_t *cs, size_t len)
{
    size_t total = SK_JOURNAL_HEAD + len + SK_JOURNAL_HASH;
    uint8_t *rec = malloc(total);
    if (rec == NULL)
        return SK_ERR_NOMEM;
    sk_journal_frame(rec, rec + SK_JOURNAL_HEAD + len, seq, cs, len);
    if (len > 0)
        memcpy(rec + SK_JOURNAL_HEAD, cs, len);
    off_t start = j->pos.end;
    int rc = sk_journal_pwrite(j->fd, rec, total, start);
    if (rc == SK_OK && fdatasync(j->fd) != 0)
        rc = SK_ERR_STORE;
    int e = errno;
    sk_wipe(rec, total);
    free(rec);
    if (rc != SK_OK) {
        if (journal_cut(j, start) != SK_OK)
            j->broken = true;
        errno = e;
        return rc;
    }
    if (!j->pos.any)
        j->pos.base = len == 0 ? seq : seq - 1;
    j->pos.any = true;
    j->pos.last_seq = seq;
    j->pos.last_start = start;
    j->pos.end = start + (off_t)total;
    j->pos.records++;
    return SK_OK;
}

/* The commit of a write transaction that changed rows: journal_seq + 1,
 * then (with a journal) the record on disk, then COMMIT. */
static int commit_changes(struct sq_store *s, struct sq_txn *t)
{
    int64_t seq = 0;
    int rc = seq_read(t, &seq);
    if (rc == SK_OK) {
        char v[24];
        int n = snprintf(v, sizeof v, "%" PRId64, seq + 1);
        rc = sq_meta_put(&t->base, JOURNAL_SEQ, (const uint8_t *)v, (size_t)n);
    }
    if (rc != SK_OK)
        return rc == SK_ERR_STORE_CONFLICT ? SK_ERR_STORE : rc;
    struct sq_journal *j = s->journal;
    if (j == NULL || t->session == NULL)
        return map_rc(sqlite3_exec(t->db, "COMMIT", NULL, NULL, NULL));

    /* the journal lock is only ever taken inside SQLite's write lock */
    if (sqlite3_txn_state(t->db, "main") != SQLITE_TXN_WRITE) {
        sk_log_error("journal %s: a commit without the store's write lock", j->path);
        return SK_ERR_STORE;
    }
    int n = 0;
    void *cs = NULL;
    int src = sqlite3session_changeset(t->session, &n, &cs);
    if (src != SQLITE_OK) {
        sk_log_error("journal %s: cannot take the transaction's changes: %s", j->path,
                     sqlite3_errstr(src));
        return src == SQLITE_NOMEM ? SK_ERR_NOMEM : SK_ERR_STORE;
    }
    char err[256] = "";
    if (journal_lock(j, true) != SK_OK) {
        sk_log_error("journal %s: cannot lock it: %s; the transaction is rolled back", j->path,
                     strerror(errno));
        sqlite3_free(cs);
        return SK_ERR_STORE;
    }
    rc = journal_settle(j, seq, err, sizeof err);
    if (rc == SK_OK) {
        off_t start = j->pos.end;
        rc = journal_append(j, seq + 1, cs, (size_t)n);
        if (rc != SK_OK) {
            snprintf(err, sizeof err, "cannot append record %" PRId64 ": %s", seq + 1,
                     rc == SK_ERR_NOMEM ? "out of memory" : strerror(errno));
        } else {
            rc = map_rc(sqlite3_exec(t->db, "COMMIT", NULL, NULL, NULL));
            if (rc != SK_OK) {
                /* the record describes a transaction that did not happen */
                if (journal_cut(j, start) != SK_OK) {
                    j->broken = true;
                    sk_log_error("journal %s: record %" PRId64 " of a failed commit cannot be "
                                 "cut off (%s): no more writes until a restart",
                                 j->path, seq + 1, strerror(errno));
                } else {
                    j->pos.end = start;
                    j->pos.last_seq = seq;
                    j->pos.last_start = -1;
                    j->pos.records--;
                }
            }
            journal_lock(j, false);
            sqlite3_free(cs);
            return rc == SK_ERR_STORE_CONFLICT ? SK_ERR_STORE : rc;
        }
    }
    journal_lock(j, false);
    sqlite3_free(cs);
    sk_log_error("journal %s: %s; the transaction is rolled back", j->path, err);
    return rc == SK_ERR_NOMEM ? rc : SK_ERR_STORE;
}

/* Attaches the journal at path (created if missing) after checking it
 * against the store, with the store's write lock held so that no other
 * process is between an append and its commit. */
static int sq_journal_open(sk_store *store, const char *path, char *err, size_t err_len)
{
    struct sq_store *s = (struct sq_store *)store;
    if (s->journal != NULL) {
        snprintf(err, err_len, "the store has a journal already");
        return SK_ERR_ARG;
    }
    struct sq_journal *j = calloc(1, sizeof *j);
    if (j == NULL)
        return SK_ERR_NOMEM;
    j->path = strdup(path);
    j->fd = -1;
    if (j->path == NULL) {
        free(j);
        return SK_ERR_NOMEM;
    }
    int rc = SK_OK;
    bool created = false;
    j->fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (j->fd >= 0)
        created = true;
    else if (errno == EEXIST)
        j->fd = open(path, O_RDWR | O_CLOEXEC);
    if (j->fd < 0) {
        snprintf(err, err_len, "%s: %s", path, strerror(errno));
        rc = SK_ERR_STORE;
        goto fail;
    }
    if (created) {
        /* the new name must survive a crash */
        char *dir = strdup(path);
        char *slash = dir ? strrchr(dir, '/') : NULL;
        const char *d = slash == NULL ? "." : slash == dir ? "/" : dir;
        if (slash != NULL && slash != dir)
            *slash = '\0';
        int dfd = dir ? open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
        free(dir);
    }

    struct sq_txn t = {.base.store = store};
    rc = conn_get(s, &t.db);
    if (rc != SK_OK) {
        snprintf(err, err_len, "cannot open the store: %s", sk_strerror(rc));
        goto fail;
    }
    writer_enter(s);
    rc = map_rc(sqlite3_exec(t.db, "BEGIN IMMEDIATE", NULL, NULL, NULL));
    int64_t db_seq = 0;
    if (rc == SK_OK)
        rc = seq_read(&t, &db_seq);
    if (rc != SK_OK) {
        snprintf(err, err_len, "cannot read the store: %s", sk_strerror(rc));
    } else if (journal_lock(j, true) != SK_OK) {
        snprintf(err, err_len, "%s: cannot lock it: %s", path, strerror(errno));
        rc = SK_ERR_STORE;
    } else {
        char why[256] = "";
        rc = sk_journal_scan(j->fd, &j->pos, NULL, NULL, why, sizeof why);
        if (rc != SK_OK) {
            snprintf(err, err_len, "%s: %s", path, why);
        } else if (j->pos.torn) {
            if (journal_cut(j, j->pos.end) != SK_OK) {
                snprintf(err, err_len, "%s: cannot cut off a torn record: %s", path,
                         strerror(errno));
                rc = SK_ERR_STORE;
            } else {
                sk_log_notice("journal %s: cut off %jd bytes at its end, a record whose write "
                              "never completed (its transaction was never committed)",
                              path, (intmax_t)(j->pos.size - j->pos.end));
                j->pos.torn = false;
            }
        }
        if (rc == SK_OK && !j->pos.any) {
            rc = journal_append(j, db_seq, NULL, 0);
            if (rc != SK_OK)
                snprintf(err, err_len, "%s: cannot be written: %s", path, strerror(errno));
            else
                sk_log_notice("journal %s: a new journal, holding the commits after seq %" PRId64,
                              path, db_seq);
        } else if (rc == SK_OK && j->pos.last_seq > db_seq + 1) {
            snprintf(err, err_len,
                     "the store is older than its journal %s (the store is at seq %" PRId64
                     ", the journal at %" PRId64 "): restore it with splitkey-server restore "
                     "--dir DIR --from BACKUP --journal %s (doc/operations.md, \"Backup and "
                     "restore\"); if the store was restored without the journal on purpose, "
                     "move the journal aside to start a new one",
                     path, db_seq, j->pos.last_seq, path);
            rc = SK_ERR_STORE_CONFLICT;
        } else if (rc == SK_OK && j->pos.last_seq < db_seq) {
            snprintf(err, err_len,
                     "the journal %s lacks commits the store has (the journal ends at seq "
                     "%" PRId64 ", the store is at %" PRId64 "): it is another store's or "
                     "an older journal, or the server ran without it; take a backup and "
                     "start a new journal (move this one aside)",
                     path, j->pos.last_seq, db_seq);
            rc = SK_ERR_STORE_CONFLICT;
        } else if (rc == SK_OK) {
            char why2[256] = "";
            rc = journal_settle(j, db_seq, why2, sizeof why2);
            if (rc != SK_OK)
                snprintf(err, err_len, "%s: %s", path, why2);
        }
        journal_lock(j, false);
    }
    if (!sqlite3_get_autocommit(t.db))
        sqlite3_exec(t.db, "ROLLBACK", NULL, NULL, NULL);
    writer_leave(s);
    conn_put(s, t.db);
    if (rc != SK_OK)
        goto fail;
    s->journal = j;
    sk_log_notice("journal %s: at seq %" PRId64 " (%" PRIu64 " records, %jd bytes)", path,
                  j->pos.last_seq, j->pos.records, (intmax_t)j->pos.end);
    return SK_OK;
fail:
    if (j->fd >= 0)
        close(j->fd);
    free(j->path);
    free(j);
    return rc;
}

const struct sk_store_ops sk_store_sqlite_ops = {
    .scheme = "sqlite:",
    .name = "SQLite",
    .open = sq_open,
    .close = sq_close,
    .schema_version = sq_schema_version,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .key_insert = sq_key_insert,
    .key_get = sq_key_get,
    .key_get_by_person = sq_key_get_by_person,
    .key_update = sq_key_update,
    .session_insert = sq_session_insert,
    .session_get = sq_session_get,
    .session_update = sq_session_update,
    .session_seen = sq_session_seen,
    .sessions_for_key = sq_sessions_for_key,
    .sessions_purge = sq_sessions_purge,
    .reply_put = sq_reply_put,
    .reply_get = sq_reply_get,
    .pool_add = sq_pool_add,
    .pool_take = sq_pool_take,
    .pool_count = sq_pool_count,
    .keys_purge = sq_keys_purge,
    .token_use = sq_token_use,
    .token_used = sq_token_used,
    .event_append = sq_event_append,
    .events = sq_events,
    .meta_get = sq_meta_get,
    .meta_put = sq_meta_put,
    .meta_cas = sq_meta_cas,
    .check = sq_check,
    .journal_open = sq_journal_open,
};
