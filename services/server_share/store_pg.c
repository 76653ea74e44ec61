/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store_pg.c - the PostgreSQL store backend (libpq).
 *
 * "--db postgresql://..." is any libpq connection URI, multi-host and
 * target_session_attrs=read-write included; it goes to PQconnectdb
 * unchanged and is only ever logged with its password left out.
 *
 * Connections: a transaction takes one from a small pool and gives it back
 * at its end.  The pool holds at most max connections (the server sets
 * workers + 4: sk_store_set_connections); a transaction that finds none
 * idle and the pool full waits for one, and after PG_POOL_WAIT_S opens one
 * beyond the limit (logged once) rather than wait on: a thread holding one
 * transaction while it starts another must never deadlock.  A
 * connection that failed (the server restarted, a failover, a backend
 * terminated) is closed instead of kept, and the next begin makes a new
 * one; with a multi-host URI and target_session_attrs=read-write that finds
 * the new primary.
 *
 * Transactions: writes run in READ COMMITTED.  That is enough because every
 * read-modify-write of a key or session is a compare-and-swap (UPDATE ...
 * WHERE id = $1 AND version = $2: PostgreSQL re-checks the version on the
 * newest row after waiting for its lock, so of two racing updates one
 * matches no row and gets SK_ERR_STORE_CONFLICT), inserts are guarded by
 * unique keys, and the pool is taken with FOR UPDATE SKIP LOCKED.  Reads
 * (sk_store_begin_read) run in REPEATABLE READ READ ONLY: one snapshot for
 * the whole read, as the interface promises.
 *
 * Errors: serialization failure (40001), deadlock (40P01), lock not
 * available (55P03), an administrator's shutdown of the backend (57P01..3)
 * and lost connections (class 08, or the connection's status bad) give
 * SK_ERR_STORE_BUSY, which sk_store_run retries on a new connection;
 * integrity violations (class 23) give SK_ERR_STORE_CONFLICT; the rest
 * SK_ERR_STORE.  A COMMIT whose connection is lost gives SK_ERR_STORE, not
 * BUSY: whether it committed is unknown, so it must not be run again
 * blindly (the client's retry finds the reply cache).
 *
 * The event log's seq: a one-row counter table (event_counter) is
 * incremented by event_append and its value is the new event's seq.  The
 * row lock is held until the transaction ends, so a second appender waits
 * for the first to commit or roll back: seqs become visible in commit
 * order, and a reader's cursor "after seq N" never skips an event that
 * commits later with a smaller seq.  The cost: transactions that append
 * events commit one at a time (across all servers on the database).
 *
 * Every transaction that inserted or updated a key or a session sends
 * NOTIFY splitkey_change just before its COMMIT (PostgreSQL delivers it at
 * commit); with a change hook set, a listener thread on a connection of its
 * own LISTENs on that channel and calls the hook (the server wakes its long
 * polls), and calls it once after every reconnect since notifications may
 * have been lost meanwhile.
 *
 * Every statement with a value in it goes through PQexecParams with binary
 * parameters (bytea as raw bytes, integers as int8) and binary results; no
 * SQL text is made from data.
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <sodium.h>

#include "log.h"
#include "splitkey/splitkey.h"
#include "store_backend.h"

#define PG_IDLE_MAX 64
#define PG_POOL_WAIT_S 5
#define PG_MAX_PARAMS 8
#define PG_LOCK_TIMEOUT "5s" /* a row lock waited for longer: 55P03, retried */
/* pg_advisory_xact_lock key of the migrations ("skschema" in ASCII) */
#define PG_MIGRATE_LOCK INT64_C(0x736b736368656d61)

#define OID_BYTEA 17
#define OID_INT8 20
#define OID_TEXT 25

struct pg_store {
    sk_store base;
    char *conninfo; /* as given (may hold a password): wiped at close */
    char shown[512]; /* for logs: no password */
    pthread_mutex_t mu;
    pthread_cond_t freed; /* a connection went back or away */
    PGconn *idle[PG_IDLE_MAX];
    size_t nidle;
    unsigned open;      /* connections of the pool, idle or in use */
    unsigned max;       /* at most this many (0: no limit), see conn_get */
    bool over_logged;   /* the limit was exceeded once (logged) */
    /* the change listener */
    sk_store_change_fn hook;
    void *hook_arg;
    bool listening;
    pthread_t listener;
    int stop_pipe[2];
};

struct pg_txn {
    sk_store_txn base;
    PGconn *c;
    bool write;
    bool notify; /* a key or session changed: NOTIFY at commit */
    bool broken; /* the connection failed: do not keep it */
};

/* ------------------------------------------------------------- schema */

/* Migrations, applied in order, as for SQLite (the same versions: entry i
 * takes the schema from version i to i + 1).  Never edit a released entry. */
static const char *const migrations[] = {
    /* 1: keys, sessions, reply cache, server-key pool, event log (with its
     * seq counter: seqs in commit order) */
    "CREATE TABLE keys ("
    "  seq bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    "  key_id bytea NOT NULL UNIQUE CHECK (octet_length(key_id) = 16),"
    "  person_id text NOT NULL CHECK (octet_length(person_id) BETWEEN 1 AND 128),"
    "  purpose bigint NOT NULL,"
    "  state bigint NOT NULL,"
    "  version bigint NOT NULL CHECK (version >= 1),"
    "  record bytea NOT NULL);"
    "CREATE INDEX keys_person ON keys (person_id, purpose, seq);"
    "CREATE TABLE sessions ("
    "  session_id bytea PRIMARY KEY CHECK (octet_length(session_id) = 16),"
    "  key_id bytea NOT NULL REFERENCES keys (key_id),"
    "  state bigint NOT NULL,"
    "  expires_at bigint NOT NULL,"
    "  version bigint NOT NULL CHECK (version >= 1),"
    "  record bytea NOT NULL);"
    "CREATE INDEX sessions_key ON sessions (key_id, expires_at);"
    "CREATE TABLE reply_cache ("
    "  key_id bytea NOT NULL CHECK (octet_length(key_id) = 16),"
    "  request_id bytea NOT NULL CHECK (octet_length(request_id) BETWEEN 1 AND 32),"
    "  reply bytea NOT NULL,"
    "  created_at bigint NOT NULL,"
    "  PRIMARY KEY (key_id, request_id));"
    "CREATE TABLE server_key_pool ("
    "  seq bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    "  pool_id bytea NOT NULL UNIQUE CHECK (octet_length(pool_id) = 16),"
    "  profile bigint NOT NULL,"
    "  sealed bytea NOT NULL);"
    "CREATE INDEX server_key_pool_profile ON server_key_pool (profile, seq);"
    "CREATE TABLE events ("
    "  seq bigint PRIMARY KEY CHECK (seq >= 1),"
    "  at bigint NOT NULL,"
    "  key_id bytea CHECK (key_id IS NULL OR octet_length(key_id) = 16),"
    "  kind bigint NOT NULL,"
    "  detail bigint NOT NULL);"
    "CREATE INDEX events_key ON events (key_id, seq);"
    "CREATE TABLE event_counter ("
    "  one boolean PRIMARY KEY DEFAULT true CHECK (one),"
    "  last bigint NOT NULL CHECK (last >= 0));"
    "INSERT INTO event_counter (last) VALUES (0);"
    "CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $f$"
    "  BEGIN RAISE EXCEPTION 'events are append-only' USING ERRCODE = 'restrict_violation';"
    "  END $f$;"
    "CREATE TRIGGER events_no_update BEFORE UPDATE ON events"
    "  FOR EACH ROW EXECUTE FUNCTION events_append_only();"
    "CREATE TRIGGER events_no_delete BEFORE DELETE ON events"
    "  FOR EACH ROW EXECUTE FUNCTION events_append_only();"
    "CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events"
    "  FOR EACH STATEMENT EXECUTE FUNCTION events_append_only();",
    /* 2: pruning the reply cache by age */
    "CREATE INDEX reply_cache_created ON reply_cache (created_at);",
    /* 3: when a key row last changed, and the registration tokens used */
    "ALTER TABLE keys ADD COLUMN updated_at bigint NOT NULL DEFAULT 0;"
    "CREATE INDEX keys_state_updated ON keys (state, updated_at);"
    "CREATE TABLE used_tokens ("
    "  token_id bytea PRIMARY KEY CHECK (octet_length(token_id) = 16),"
    "  used_at bigint NOT NULL);",
    /* 4: facts about the store itself */
    "CREATE TABLE store_meta ("
    "  name text PRIMARY KEY CHECK (octet_length(name) BETWEEN 1 AND 64),"
    "  value bytea NOT NULL CHECK (octet_length(value) <= 1024));",
    /* 5: which key a registration token enrolled */
    ("ALTER TABLE used_tokens ADD COLUMN key_id bytea"
     "  CHECK (key_id IS NULL OR octet_length(key_id) = 16);"),
    /* 6: until when a session's relying party is known to wait */
    "ALTER TABLE sessions ADD COLUMN rp_seen_at bigint NOT NULL DEFAULT 0;",
};

_Static_assert(sizeof migrations / sizeof migrations[0] == SK_STORE_SCHEMA_LATEST,
               "one PostgreSQL migration per schema version");

/* ------------------------------------------------------------ errors */

/* Maps a failed result (or NULL) on connection c to an error code. */
static int map_result(PGconn *c, const PGresult *r, bool *broken)
{
    if (PQstatus(c) != CONNECTION_OK) {
        *broken = true;
        return SK_ERR_STORE_BUSY;
    }
    const char *state = r != NULL ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    if (state == NULL) {
        if (r == NULL) {
            *broken = true;
            return SK_ERR_STORE_BUSY;
        }
        return SK_ERR_STORE;
    }
    if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 ||
        strcmp(state, "55P03") == 0)
        return SK_ERR_STORE_BUSY;
    if (strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0) {
        *broken = true;
        return SK_ERR_STORE_BUSY;
    }
    if (strncmp(state, "23", 2) == 0)
        return SK_ERR_STORE_CONFLICT;
    if (strcmp(state, "54000") == 0)
        return SK_ERR_LIMIT;
    return SK_ERR_STORE;
}

/* Copies the connection info into shown without its password. */
static void redact(const char *conninfo, char *shown, size_t len)
{
    char *err = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo, &err);
    if (opts == NULL) {
        PQfreemem(err);
        snprintf(shown, len, "(an unreadable connection URI)");
        return;
    }
    static const char *const keep[] = {"user", "host", "hostaddr", "port", "dbname",
                                       "target_session_attrs", "sslmode"};
    size_t used = (size_t)snprintf(shown, len, "postgresql:");
    for (size_t k = 0; k < sizeof keep / sizeof keep[0]; k++) {
        for (PQconninfoOption *o = opts; o->keyword != NULL; o++) {
            if (strcmp(o->keyword, keep[k]) != 0 || o->val == NULL || o->val[0] == '\0')
                continue;
            if (used < len)
                used += (size_t)snprintf(shown + used, len - used, " %s=%s", o->keyword,
                                         o->val);
        }
    }
    for (PQconninfoOption *o = opts; o->keyword != NULL; o++)
        if (o->val != NULL)
            sodium_memzero(o->val, strlen(o->val));
    PQconninfoFree(opts);
}


/* ------------------------------------------------------------ queries */

struct args {
    int n;
    const char *v[PG_MAX_PARAMS];
    int len[PG_MAX_PARAMS];
    int fmt[PG_MAX_PARAMS];
    Oid type[PG_MAX_PARAMS];
    uint8_t num[PG_MAX_PARAMS][8];
};

static void a_int(struct args *a, int64_t x)
{
    int i = a->n++;
    uint64_t u = (uint64_t)x;
    for (int b = 0; b < 8; b++)
        a->num[i][b] = (uint8_t)(u >> (56 - 8 * b));
    a->v[i] = (const char *)a->num[i];
    a->len[i] = 8;
    a->fmt[i] = 1;
    a->type[i] = OID_INT8;
}

static void a_bytes(struct args *a, const void *p, size_t len)
{
    int i = a->n++;
    static const char empty[1];
    a->v[i] = len ? (const char *)p : empty;
    a->len[i] = (int)len;
    a->fmt[i] = 1;
    a->type[i] = OID_BYTEA;
}

static void a_text(struct args *a, const char *s)
{
    int i = a->n++;
    a->v[i] = s;
    a->len[i] = (int)strlen(s);
    a->fmt[i] = 1; /* text sent as binary is its bytes */
    a->type[i] = OID_TEXT;
}

static void a_null(struct args *a, Oid type)
{
    int i = a->n++;
    a->v[i] = NULL;
    a->len[i] = 0;
    a->fmt[i] = 1;
    a->type[i] = type;
}

/* Runs sql with the arguments on the transaction's connection (binary
 * results).  *res receives the result on success (the caller clears it;
 * res may be NULL). */
static int q(struct pg_txn *t, const char *sql, const struct args *a, PGresult **res)
{
    if (res != NULL)
        *res = NULL;
    if (t->broken)
        return SK_ERR_STORE_BUSY;
    PGresult *r = PQexecParams(t->c, sql, a ? a->n : 0, a ? a->type : NULL, a ? a->v : NULL,
                               a ? a->len : NULL, a ? a->fmt : NULL, 1);
    ExecStatusType st = r != NULL ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
        if (res != NULL)
            *res = r;
        else
            PQclear(r);
        return SK_OK;
    }
    int rc = map_result(t->c, r, &t->broken);
    if (rc == SK_ERR_STORE)
        sk_log_error("store: %s", r != NULL ? PQresultErrorMessage(r) : PQerrorMessage(t->c));
    PQclear(r);
    return rc;
}

/* Rows changed by a command. */
static int64_t q_changes(PGresult *r)
{
    const char *s = PQcmdTuples(r);
    return s != NULL && s[0] ? strtoll(s, NULL, 10) : 0;
}

static int64_t col_int(const PGresult *r, int row, int col)
{
    if (PQgetlength(r, row, col) != 8)
        return 0;
    const uint8_t *p = (const uint8_t *)PQgetvalue(r, row, col);
    uint64_t u = 0;
    for (int b = 0; b < 8; b++)
        u = u << 8 | p[b];
    return (int64_t)u;
}

static bool col_id(uint8_t *out, const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col) || PQgetlength(r, row, col) != SK_STORE_ID_LEN)
        return false;
    memcpy(out, PQgetvalue(r, row, col), SK_STORE_ID_LEN);
    return true;
}

static int col_blob(uint8_t **out, size_t *len, const PGresult *r, int row, int col)
{
    int n = PQgetlength(r, row, col);
    *out = NULL;
    *len = 0;
    if (n <= 0)
        return SK_OK;
    uint8_t *b = malloc((size_t)n);
    if (b == NULL)
        return SK_ERR_NOMEM;
    memcpy(b, PQgetvalue(r, row, col), (size_t)n);
    *out = b;
    *len = (size_t)n;
    return SK_OK;
}

/* Wipes a result's values (sealed records, replies) before freeing it. */
static void clear_wiped(PGresult *r)
{
    if (r == NULL)
        return;
    for (int i = 0; i < PQntuples(r); i++)
        for (int j = 0; j < PQnfields(r); j++) {
            int n = PQgetlength(r, i, j);
            if (n > 0)
                sodium_memzero(PQgetvalue(r, i, j), (size_t)n);
        }
    PQclear(r);
}

/* -------------------------------------------------------- connections */

static PGconn *conn_open(struct pg_store *s)
{
    PGconn *c = PQconnectdb(s->conninfo);
    if (c == NULL)
        return NULL;
    if (PQstatus(c) != CONNECTION_OK) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", PQerrorMessage(c));
        msg[strcspn(msg, "\n")] = '\0';
        sk_log_error("store %s: cannot connect: %s", s->shown, msg);
        PQfinish(c);
        return NULL;
    }
    PGresult *r = PQexec(c, "SET lock_timeout = '" PG_LOCK_TIMEOUT "';"
                            "SET synchronous_commit = on;"
                            "SET client_min_messages = warning");
    bool ok = r != NULL && PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (!ok) {
        PQfinish(c);
        return NULL;
    }
    return c;
}

/* A connection for a transaction: an idle one (*idle = true), or a new one
 * while the pool is below its limit; else waits for one to come back, and
 * after PG_POOL_WAIT_S makes one beyond the limit.  NULL when no new
 * connection could be made. */
static PGconn *conn_get(struct pg_store *s, bool *idle)
{
    PGconn *c = NULL;
    *idle = false;
    pthread_mutex_lock(&s->mu);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += PG_POOL_WAIT_S;
    while (s->nidle == 0 && s->max > 0 && s->open >= s->max) {
        if (pthread_cond_timedwait(&s->freed, &s->mu, &until) == ETIMEDOUT) {
            if (!s->over_logged)
                sk_log_notice("store %s: all %u connections busy for %d s; opening one more",
                              s->shown, s->max, PG_POOL_WAIT_S);
            s->over_logged = true;
            break;
        }
    }
    if (s->nidle > 0) {
        c = s->idle[--s->nidle];
        *idle = true;
        pthread_mutex_unlock(&s->mu);
        return c;
    }
    s->open++;
    pthread_mutex_unlock(&s->mu);
    c = conn_open(s);
    if (c == NULL) {
        pthread_mutex_lock(&s->mu);
        s->open--;
        pthread_cond_signal(&s->freed);
        pthread_mutex_unlock(&s->mu);
    }
    return c;
}

/* Closes a connection of the pool for good. */
static void conn_discard(struct pg_store *s, PGconn *c)
{
    if (c == NULL)
        return;
    PQfinish(c);
    pthread_mutex_lock(&s->mu);
    s->open--;
    pthread_cond_signal(&s->freed);
    pthread_mutex_unlock(&s->mu);
}

static void conn_put(struct pg_store *s, PGconn *c, bool broken)
{
    if (c == NULL)
        return;
    if (!broken && PQstatus(c) == CONNECTION_OK && PQtransactionStatus(c) == PQTRANS_IDLE) {
        pthread_mutex_lock(&s->mu);
        if (s->nidle < PG_IDLE_MAX && (s->max == 0 || s->open <= s->max)) {
            s->idle[s->nidle++] = c;
            c = NULL;
            pthread_cond_signal(&s->freed);
        }
        pthread_mutex_unlock(&s->mu);
    }
    if (c != NULL)
        conn_discard(s, c);
}

/* Drops every idle connection (after one of them failed: the others most
 * likely went with the same server). */
static void conn_drop_idle(struct pg_store *s)
{
    pthread_mutex_lock(&s->mu);
    size_t n = s->nidle;
    PGconn *drop[PG_IDLE_MAX];
    memcpy(drop, s->idle, n * sizeof drop[0]);
    s->nidle = 0;
    s->open -= (unsigned)n;
    pthread_cond_broadcast(&s->freed);
    pthread_mutex_unlock(&s->mu);
    for (size_t i = 0; i < n; i++)
        PQfinish(drop[i]);
}

static int pg_set_connections(sk_store *store, unsigned max)
{
    struct pg_store *s = (struct pg_store *)store;
    pthread_mutex_lock(&s->mu);
    s->max = max;
    pthread_cond_broadcast(&s->freed);
    pthread_mutex_unlock(&s->mu);
    return SK_OK;
}

/* ---------------------------------------------------------- migrations */

static int simple(PGconn *c, const char *sql, bool *broken)
{
    PGresult *r = PQexec(c, sql);
    ExecStatusType st = r != NULL ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    int rc = SK_OK;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        rc = map_result(c, r, broken);
        if (rc != SK_ERR_STORE_BUSY)
            sk_log_error("store: %s", r != NULL ? PQresultErrorMessage(r) : PQerrorMessage(c));
    }
    PQclear(r);
    return rc;
}

static int read_version(struct pg_txn *t, int *version)
{
    PGresult *r;
    int rc = q(t, "SELECT version::bigint FROM schema_version", NULL, &r);
    if (rc != SK_OK)
        return rc;
    *version = PQntuples(r) == 1 ? (int)col_int(r, 0, 0) : -1;
    PQclear(r);
    return SK_OK;
}

/* Applies the missing migrations in one transaction, under an advisory
 * lock: servers starting together migrate once (the second waits, then
 * finds the schema current). */
static int migrate(struct pg_store *s, PGconn *c)
{
    struct pg_txn t = {.c = c, .write = true};
    int rc = simple(c, "BEGIN ISOLATION LEVEL READ COMMITTED", &t.broken);
    struct args a = {0};
    a_int(&a, PG_MIGRATE_LOCK);
    if (rc == SK_OK)
        rc = q(&t, "SELECT pg_advisory_xact_lock($1)", &a, NULL);
    if (rc == SK_OK)
        rc = simple(c, "CREATE TABLE IF NOT EXISTS schema_version (version bigint NOT NULL)",
                    &t.broken);
    int version = 0;
    if (rc == SK_OK)
        rc = read_version(&t, &version);
    if (rc == SK_OK && version < 0) {
        version = 0;
        rc = simple(c, "INSERT INTO schema_version (version) VALUES (0)", &t.broken);
    }
    if (rc == SK_OK && version > SK_STORE_SCHEMA_LATEST) {
        sk_log_error("store %s: schema version %d is newer than this program's (%d)", s->shown,
                     version, SK_STORE_SCHEMA_LATEST);
        rc = SK_ERR_STORE;
    }
    for (int v = version; rc == SK_OK && v < SK_STORE_SCHEMA_LATEST; v++) {
        rc = simple(c, migrations[v], &t.broken);
        struct args b = {0};
        a_int(&b, v + 1);
        if (rc == SK_OK)
            rc = q(&t, "UPDATE schema_version SET version = $1", &b, NULL);
        if (rc == SK_OK)
            sk_log_notice("store %s: migrated schema to version %d", s->shown, v + 1);
    }
    if (rc == SK_OK)
        rc = simple(c, "COMMIT", &t.broken);
    if (rc != SK_OK && PQtransactionStatus(c) != PQTRANS_IDLE)
        simple(c, "ROLLBACK", &t.broken);
    return rc == SK_ERR_STORE_CONFLICT ? SK_ERR_STORE : rc;
}

/* ------------------------------------------------------ open and close */

static void listener_stop(struct pg_store *s);

static void pg_close(sk_store *store)
{
    struct pg_store *s = (struct pg_store *)store;
    listener_stop(s);
    for (size_t i = 0; i < s->nidle; i++)
        PQfinish(s->idle[i]);
    pthread_cond_destroy(&s->freed);
    pthread_mutex_destroy(&s->mu);
    if (s->conninfo != NULL) {
        sodium_memzero(s->conninfo, strlen(s->conninfo));
        free(s->conninfo);
    }
    free(s);
}

static int pg_open(sk_store **out, const char *location)
{
    struct pg_store *s = calloc(1, sizeof *s);
    if (s == NULL)
        return SK_ERR_NOMEM;
    s->base.ops = &sk_store_pg_ops;
    s->stop_pipe[0] = s->stop_pipe[1] = -1;
    /* the registry strips the scheme; libpq wants the whole URI */
    size_t n = strlen("postgresql://") + strlen(location) + 1;
    s->conninfo = malloc(n);
    if (s->conninfo == NULL || pthread_mutex_init(&s->mu, NULL) != 0) {
        free(s->conninfo);
        free(s);
        return SK_ERR_NOMEM;
    }
    if (pthread_cond_init(&s->freed, NULL) != 0) {
        pthread_mutex_destroy(&s->mu);
        free(s->conninfo);
        free(s);
        return SK_ERR_NOMEM;
    }
    snprintf(s->conninfo, n, "postgresql://%s", location);
    char *perr = NULL;
    PQconninfoOption *opts = PQconninfoParse(s->conninfo, &perr);
    if (opts == NULL) {
        PQfreemem(perr);
        sk_log_error("store: --db is not a valid libpq connection URI");
        pg_close(&s->base);
        return SK_ERR_ARG;
    }
    PQconninfoFree(opts);
    redact(s->conninfo, s->shown, sizeof s->shown);
    bool idle;
    PGconn *c = conn_get(s, &idle);
    if (c == NULL) {
        pg_close(&s->base);
        return SK_ERR_STORE;
    }
    int rc = migrate(s, c);
    if (rc != SK_OK) {
        PQfinish(c);
        pg_close(&s->base);
        return rc;
    }
    conn_put(s, c, false);
    *out = &s->base;
    return SK_OK;
}

/* -------------------------------------------------------- transactions */

static int pg_begin(sk_store *store, sk_store_txn **txn, int write)
{
    struct pg_store *s = (struct pg_store *)store;
    struct pg_txn *t = calloc(1, sizeof *t);
    if (t == NULL)
        return SK_ERR_NOMEM;
    t->base.store = store;
    t->write = write != 0;
    const char *sql = write ? "BEGIN ISOLATION LEVEL READ COMMITTED"
                            : "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
    int rc = SK_ERR_STORE_BUSY;
    /* an idle connection may have died meanwhile: then drop the idle ones
     * and make a new connection */
    for (int attempt = 0; attempt < 2; attempt++) {
        bool idle = false;
        PGconn *c = conn_get(s, &idle);
        if (c == NULL) {
            rc = SK_ERR_STORE_BUSY; /* no server now: retried, then reported */
            break;
        }
        t->c = c;
        t->broken = false;
        rc = simple(c, sql, &t->broken);
        if (rc == SK_OK)
            break;
        conn_discard(s, c);
        t->c = NULL;
        if (!idle)
            break; /* a new connection that fails at once: report it */
        conn_drop_idle(s);
    }
    if (rc != SK_OK) {
        free(t);
        return rc == SK_ERR_STORE_CONFLICT ? SK_ERR_STORE : rc;
    }
    *txn = &t->base;
    return SK_OK;
}

static void txn_end(struct pg_txn *t)
{
    struct pg_store *s = (struct pg_store *)t->base.store;
    if (!t->broken && PQstatus(t->c) == CONNECTION_OK &&
        PQtransactionStatus(t->c) != PQTRANS_IDLE)
        simple(t->c, "ROLLBACK", &t->broken);
    if (t->broken)
        conn_drop_idle(s);
    conn_put(s, t->c, t->broken);
    free(t);
}

static int pg_commit(sk_store_txn *txn)
{
    struct pg_txn *t = (struct pg_txn *)txn;
    int rc = SK_ERR_STORE;
    if (t->broken) {
        rc = SK_ERR_STORE_BUSY; /* nothing of it reached the database */
    } else if (PQtransactionStatus(t->c) != PQTRANS_INTRANS) {
        rc = SK_ERR_STORE; /* a statement failed: COMMIT would roll back */
    } else {
        rc = SK_OK;
        if (t->notify)
            rc = q(t, "NOTIFY splitkey_change", NULL, NULL);
        if (rc == SK_OK) {
            PGresult *r = PQexec(t->c, "COMMIT");
            ExecStatusType st = r != NULL ? PQresultStatus(r) : PGRES_FATAL_ERROR;
            if (st == PGRES_COMMAND_OK && strcmp(PQcmdStatus(r), "COMMIT") == 0) {
                rc = SK_OK;
            } else if (st == PGRES_COMMAND_OK) {
                rc = SK_ERR_STORE; /* ROLLBACK: the transaction had failed */
            } else {
                bool lost = false;
                rc = map_result(t->c, r, &lost);
                if (lost) {
                    t->broken = true;
                    /* it may or may not have committed: never retry blindly */
                    sk_log_error("store %s: the connection was lost during COMMIT; the "
                                 "outcome is unknown",
                                 ((struct pg_store *)t->base.store)->shown);
                    rc = SK_ERR_STORE;
                }
            }
            PQclear(r);
        }
    }
    txn_end(t);
    return rc == SK_ERR_STORE_CONFLICT ? SK_ERR_STORE : rc;
}

static void pg_rollback(sk_store_txn *txn) { txn_end((struct pg_txn *)txn); }

static int pg_schema_version(sk_store *store, int *version)
{
    sk_store_txn *txn;
    int rc = pg_begin(store, &txn, 0);
    if (rc != SK_OK)
        return rc;
    rc = read_version((struct pg_txn *)txn, version);
    txn_end((struct pg_txn *)txn);
    return rc;
}

static struct pg_txn *T(sk_store_txn *txn) { return (struct pg_txn *)txn; }

/* ----------------------------------------------------------------- keys */

#define KEY_SELECT "key_id, person_id, purpose, state, version, record, updated_at"

static int read_key(sk_key_record *rec, PGresult *r)
{
    if (PQntuples(r) != 1)
        return SK_ERR_NOT_FOUND;
    int plen = PQgetlength(r, 0, 1);
    if (!col_id(rec->key_id, r, 0, 0) || plen <= 0 || plen > (int)SK_STORE_PERSON_MAX)
        return SK_ERR_STORE;
    memcpy(rec->person_id, PQgetvalue(r, 0, 1), (size_t)plen);
    rec->person_id[plen] = '\0';
    rec->purpose = (uint32_t)col_int(r, 0, 2);
    rec->state = (uint32_t)col_int(r, 0, 3);
    rec->version = col_int(r, 0, 4);
    rec->updated_at = col_int(r, 0, 6);
    return col_blob(&rec->blob, &rec->blob_len, r, 0, 5);
}

static int query_key(struct pg_txn *t, sk_key_record *rec, const char *sql, const struct args *a)
{
    PGresult *r;
    int rc = q(t, sql, a, &r);
    if (rc != SK_OK)
        return rc;
    rc = read_key(rec, r);
    clear_wiped(r);
    if (rc != SK_OK)
        sk_key_record_clear(rec);
    return rc;
}

static int pg_key_insert(sk_store_txn *txn, sk_key_record *rec)
{
    struct args a = {0};
    a_bytes(&a, rec->key_id, SK_STORE_ID_LEN);
    a_text(&a, rec->person_id);
    a_int(&a, rec->purpose);
    a_int(&a, rec->state);
    a_bytes(&a, rec->blob, rec->blob_len);
    a_int(&a, rec->updated_at);
    int rc = q(T(txn),
               "INSERT INTO keys (key_id, person_id, purpose, state, version, record, updated_at)"
               " VALUES ($1, $2, $3, $4, 1, $5, $6)",
               &a, NULL);
    if (rc == SK_OK) {
        rec->version = 1;
        T(txn)->notify = true;
    }
    return rc;
}

static int pg_key_get(sk_store_txn *txn, sk_key_record *rec, const uint8_t *key_id)
{
    struct args a = {0};
    a_bytes(&a, key_id, SK_STORE_ID_LEN);
    return query_key(T(txn), rec, "SELECT " KEY_SELECT " FROM keys WHERE key_id = $1", &a);
}

static int pg_key_get_by_person(sk_store_txn *txn, sk_key_record *rec, const char *person_id,
                                uint32_t purpose)
{
    struct args a = {0};
    a_text(&a, person_id);
    a_int(&a, purpose);
    a_int(&a, SK_STORE_PREFERRED_STATE);
    return query_key(T(txn), rec,
                     "SELECT " KEY_SELECT " FROM keys WHERE person_id = $1 AND purpose = $2"
                     " ORDER BY (state = $3) DESC, seq DESC LIMIT 1",
                     &a);
}

/* After an update matched no row: SK_ERR_STORE_CONFLICT if the row exists
 * (its version moved), SK_ERR_NOT_FOUND otherwise. */
static int missing_or_moved(struct pg_txn *t, const char *sql, const uint8_t *id)
{
    struct args a = {0};
    a_bytes(&a, id, SK_STORE_ID_LEN);
    PGresult *r;
    int rc = q(t, sql, &a, &r);
    if (rc != SK_OK)
        return rc;
    rc = PQntuples(r) > 0 ? SK_ERR_STORE_CONFLICT : SK_ERR_NOT_FOUND;
    PQclear(r);
    return rc;
}

static int pg_key_update(sk_store_txn *txn, sk_key_record *rec)
{
    struct args a = {0};
    a_int(&a, rec->state);
    a_bytes(&a, rec->blob, rec->blob_len);
    a_bytes(&a, rec->key_id, SK_STORE_ID_LEN);
    a_int(&a, rec->version);
    a_int(&a, rec->updated_at);
    PGresult *r;
    int rc = q(T(txn),
               "UPDATE keys SET state = $1, record = $2, version = version + 1,"
               " updated_at = $5 WHERE key_id = $3 AND version = $4",
               &a, &r);
    if (rc != SK_OK)
        return rc;
    int64_t n = q_changes(r);
    PQclear(r);
    if (n != 1)
        return missing_or_moved(T(txn), "SELECT 1 FROM keys WHERE key_id = $1", rec->key_id);
    rec->version++;
    T(txn)->notify = true;
    return SK_OK;
}

/* ------------------------------------------------------------- sessions */

#define SESSION_COLUMNS "session_id, key_id, state, expires_at, version, record, rp_seen_at"

static int read_session(sk_session_record *rec, PGresult *r, int row)
{
    if (!col_id(rec->session_id, r, row, 0) || !col_id(rec->key_id, r, row, 1))
        return SK_ERR_STORE;
    rec->state = (uint32_t)col_int(r, row, 2);
    rec->expires_at = col_int(r, row, 3);
    rec->version = col_int(r, row, 4);
    rec->rp_seen_at = col_int(r, row, 6);
    return col_blob(&rec->blob, &rec->blob_len, r, row, 5);
}

static int pg_session_insert(sk_store_txn *txn, sk_session_record *rec)
{
    int rc = missing_or_moved(T(txn), "SELECT 1 FROM keys WHERE key_id = $1", rec->key_id);
    if (rc != SK_ERR_STORE_CONFLICT)
        return rc == SK_OK ? SK_ERR_STORE : rc; /* NOT_FOUND: no such key */
    struct args a = {0};
    a_bytes(&a, rec->session_id, SK_STORE_ID_LEN);
    a_bytes(&a, rec->key_id, SK_STORE_ID_LEN);
    a_int(&a, rec->state);
    a_int(&a, rec->expires_at);
    a_bytes(&a, rec->blob, rec->blob_len);
    a_int(&a, rec->rp_seen_at > 0 ? rec->rp_seen_at : 0);
    rc = q(T(txn), "INSERT INTO sessions (" SESSION_COLUMNS ") VALUES ($1, $2, $3, $4, 1, $5, $6)",
           &a, NULL);
    if (rc == SK_OK) {
        rec->version = 1;
        T(txn)->notify = true;
    }
    return rc;
}

static int pg_session_get(sk_store_txn *txn, sk_session_record *rec, const uint8_t *session_id)
{
    struct args a = {0};
    a_bytes(&a, session_id, SK_STORE_ID_LEN);
    PGresult *r;
    int rc = q(T(txn), "SELECT " SESSION_COLUMNS " FROM sessions WHERE session_id = $1", &a, &r);
    if (rc != SK_OK)
        return rc;
    rc = PQntuples(r) == 1 ? read_session(rec, r, 0) : SK_ERR_NOT_FOUND;
    clear_wiped(r);
    if (rc != SK_OK)
        sk_session_record_clear(rec);
    return rc;
}

static int pg_session_update(sk_store_txn *txn, sk_session_record *rec)
{
    struct args a = {0};
    a_int(&a, rec->state);
    a_int(&a, rec->expires_at);
    a_bytes(&a, rec->blob, rec->blob_len);
    a_bytes(&a, rec->session_id, SK_STORE_ID_LEN);
    a_int(&a, rec->version);
    PGresult *r;
    int rc = q(T(txn),
               "UPDATE sessions SET state = $1, expires_at = $2, record = $3,"
               " version = version + 1 WHERE session_id = $4 AND version = $5",
               &a, &r);
    if (rc != SK_OK)
        return rc;
    int64_t n = q_changes(r);
    PQclear(r);
    if (n != 1)
        return missing_or_moved(T(txn), "SELECT 1 FROM sessions WHERE session_id = $1",
                                rec->session_id);
    rec->version++;
    T(txn)->notify = true;
    return SK_OK;
}

static int pg_session_seen(sk_store_txn *txn, const uint8_t *session_id, int64_t seen_at)
{
    struct args a = {0};
    a_bytes(&a, session_id, SK_STORE_ID_LEN);
    a_int(&a, seen_at);
    PGresult *r;
    int rc = q(T(txn),
               "UPDATE sessions SET rp_seen_at = $2"
               " WHERE session_id = $1 AND rp_seen_at > 0 AND rp_seen_at < $2",
               &a, &r);
    if (rc != SK_OK)
        return rc;
    int64_t n = q_changes(r);
    PQclear(r);
    if (n == 1)
        return SK_OK;
    rc = missing_or_moved(T(txn), "SELECT 1 FROM sessions WHERE session_id = $1", session_id);
    return rc == SK_ERR_STORE_CONFLICT ? SK_OK : rc; /* there, nothing to move */
}

static int pg_sessions_for_key(sk_store_txn *txn, sk_session_record **recs, size_t *count,
                               const uint8_t *key_id, int64_t now, size_t max)
{
    struct args a = {0};
    a_bytes(&a, key_id, SK_STORE_ID_LEN);
    a_int(&a, now);
    if (max == 0)
        a_null(&a, OID_INT8);
    else
        a_int(&a, (int64_t)max);
    PGresult *r;
    int rc = q(T(txn),
               "SELECT " SESSION_COLUMNS " FROM sessions WHERE key_id = $1 AND expires_at > $2"
               " ORDER BY expires_at, session_id LIMIT $3",
               &a, &r);
    if (rc != SK_OK)
        return rc;
    size_t n = (size_t)PQntuples(r);
    sk_session_record *arr = n ? calloc(n, sizeof *arr) : NULL;
    if (n && arr == NULL)
        rc = SK_ERR_NOMEM;
    for (size_t i = 0; rc == SK_OK && i < n; i++)
        rc = read_session(&arr[i], r, (int)i);
    clear_wiped(r);
    if (rc != SK_OK) {
        sk_session_records_free(arr, n);
        return rc;
    }
    *recs = arr;
    *count = n;
    return SK_OK;
}

static int pg_sessions_purge(sk_store_txn *txn, size_t *deleted, int64_t before)
{
    struct args a = {0};
    a_int(&a, before);
    PGresult *r;
    int rc = q(T(txn), "DELETE FROM sessions WHERE expires_at <= $1", &a, &r);
    if (rc == SK_OK) {
        *deleted = (size_t)q_changes(r);
        PQclear(r);
    }
    return rc;
}

/* ---------------------------------------------------------- reply cache */

static int pg_reply_put(sk_store_txn *txn, const uint8_t *key_id, const uint8_t *request_id,
                        size_t request_id_len, const uint8_t *reply, size_t reply_len,
                        int64_t now)
{
    struct args a = {0};
    a_bytes(&a, key_id, SK_STORE_ID_LEN);
    a_bytes(&a, request_id, request_id_len);
    a_bytes(&a, reply, reply_len);
    a_int(&a, now);
    return q(T(txn),
             "INSERT INTO reply_cache (key_id, request_id, reply, created_at)"
             " VALUES ($1, $2, $3, $4)",
             &a, NULL);
}

static int pg_reply_get(sk_store_txn *txn, uint8_t **reply, size_t *reply_len,
                        const uint8_t *key_id, const uint8_t *request_id, size_t request_id_len)
{
    struct args a = {0};
    a_bytes(&a, key_id, SK_STORE_ID_LEN);
    a_bytes(&a, request_id, request_id_len);
    PGresult *r;
    int rc = q(T(txn), "SELECT reply FROM reply_cache WHERE key_id = $1 AND request_id = $2", &a,
               &r);
    if (rc != SK_OK)
        return rc;
    rc = PQntuples(r) == 1 ? col_blob(reply, reply_len, r, 0, 0) : SK_ERR_NOT_FOUND;
    clear_wiped(r);
    return rc;
}

/* ----------------------------------------------------------------- pool */

static int pg_pool_add(sk_store_txn *txn, const uint8_t *pool_id, uint32_t profile,
                       const uint8_t *sealed, size_t sealed_len)
{
    struct args a = {0};
    a_bytes(&a, pool_id, SK_STORE_ID_LEN);
    a_int(&a, profile);
    a_bytes(&a, sealed, sealed_len);
    return q(T(txn), "INSERT INTO server_key_pool (pool_id, profile, sealed) VALUES ($1, $2, $3)",
             &a, NULL);
}

/* The oldest key of the profile that no other transaction is taking (SKIP
 * LOCKED: concurrent takers get different keys without waiting). */
static int pg_pool_take(sk_store_txn *txn, uint8_t *pool_id, uint8_t **sealed,
                        size_t *sealed_len, uint32_t profile)
{
    struct args a = {0};
    a_int(&a, profile);
    PGresult *r;
    int rc = q(T(txn),
               "DELETE FROM server_key_pool WHERE seq = (SELECT seq FROM server_key_pool"
               " WHERE profile = $1 ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED)"
               " RETURNING pool_id, sealed",
               &a, &r);
    if (rc != SK_OK)
        return rc;
    if (PQntuples(r) != 1)
        rc = SK_ERR_NOT_FOUND;
    else if (!col_id(pool_id, r, 0, 0))
        rc = SK_ERR_STORE;
    else
        rc = col_blob(sealed, sealed_len, r, 0, 1);
    clear_wiped(r);
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

static int pg_pool_count(sk_store_txn *txn, size_t *count, uint32_t profile)
{
    struct args a = {0};
    a_int(&a, profile);
    PGresult *r;
    int rc = q(T(txn), "SELECT count(*) FROM server_key_pool WHERE profile = $1", &a, &r);
    if (rc == SK_OK) {
        *count = (size_t)col_int(r, 0, 0);
        PQclear(r);
    }
    return rc;
}

static int pg_keys_purge(sk_store_txn *txn, size_t *deleted, uint32_t state, int64_t before)
{
    static const char *const sql[] = {
        "DELETE FROM sessions WHERE key_id IN"
        " (SELECT key_id FROM keys WHERE state = $1 AND updated_at <= $2)",
        "DELETE FROM reply_cache WHERE key_id IN"
        " (SELECT key_id FROM keys WHERE state = $1 AND updated_at <= $2)",
        "DELETE FROM keys WHERE state = $1 AND updated_at <= $2",
    };
    int rc = SK_OK;
    for (size_t i = 0; rc == SK_OK && i < sizeof sql / sizeof sql[0]; i++) {
        struct args a = {0};
        a_int(&a, state);
        a_int(&a, before);
        PGresult *r;
        rc = q(T(txn), sql[i], &a, &r);
        if (rc == SK_OK) {
            *deleted = (size_t)q_changes(r); /* the last one: keys */
            PQclear(r);
        }
    }
    return rc;
}

/* ---------------------------------------------------------------- tokens */

static int pg_token_use(sk_store_txn *txn, const uint8_t *token_id, const uint8_t *key_id,
                        const uint8_t *prior_key_id, int64_t now)
{
    struct args a = {0};
    a_bytes(&a, token_id, SK_STORE_ID_LEN);
    a_int(&a, now);
    a_bytes(&a, key_id, SK_STORE_ID_LEN);
    if (prior_key_id == NULL)
        return q(T(txn), "INSERT INTO used_tokens (token_id, used_at, key_id) VALUES ($1, $2, $3)",
                 &a, NULL);
    a_bytes(&a, prior_key_id, SK_STORE_ID_LEN);
    PGresult *r;
    int rc = q(T(txn),
               "UPDATE used_tokens SET used_at = $2, key_id = $3 WHERE token_id = $1 AND key_id = $4",
               &a, &r);
    if (rc != SK_OK)
        return rc;
    int64_t n = q_changes(r);
    PQclear(r);
    return n == 1 ? SK_OK : SK_ERR_STORE_CONFLICT; /* another enrolment took the token first */
}

static int pg_token_used(sk_store_txn *txn, int *used, uint8_t *key_id, int *has_key,
                         const uint8_t *token_id)
{
    struct args a = {0};
    a_bytes(&a, token_id, SK_STORE_ID_LEN);
    *used = *has_key = 0;
    PGresult *r;
    int rc = q(T(txn), "SELECT key_id FROM used_tokens WHERE token_id = $1", &a, &r);
    if (rc != SK_OK)
        return rc;
    if (PQntuples(r) == 1) {
        *used = 1;
        if (col_id(key_id, r, 0, 0))
            *has_key = 1;
    }
    PQclear(r);
    return SK_OK;
}

/* ----------------------------------------------------------------- meta */

static int pg_meta_get(sk_store_txn *txn, const char *name, uint8_t *value, size_t cap,
                       size_t *len)
{
    struct args a = {0};
    a_text(&a, name);
    PGresult *r;
    int rc = q(T(txn), "SELECT value FROM store_meta WHERE name = $1", &a, &r);
    if (rc != SK_OK)
        return rc;
    if (PQntuples(r) != 1) {
        rc = SK_ERR_NOT_FOUND;
    } else {
        size_t n = (size_t)PQgetlength(r, 0, 0);
        if (n > cap) {
            rc = SK_ERR_STORE;
        } else {
            if (n > 0)
                memcpy(value, PQgetvalue(r, 0, 0), n);
            *len = n;
        }
    }
    PQclear(r);
    return rc;
}

static int pg_meta_put(sk_store_txn *txn, const char *name, const uint8_t *value, size_t len)
{
    struct args a = {0};
    a_text(&a, name);
    a_bytes(&a, value, len);
    return q(T(txn),
             "INSERT INTO store_meta (name, value) VALUES ($1, $2)"
             " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
             &a, NULL);
}

static int pg_meta_cas(sk_store_txn *txn, const char *name, const uint8_t *expect,
                       size_t expect_len, const uint8_t *value, size_t len)
{
    struct args a = {0};
    a_text(&a, name);
    a_bytes(&a, value, len);
    if (expect == NULL)
        return q(T(txn), "INSERT INTO store_meta (name, value) VALUES ($1, $2)", &a, NULL);
    a_bytes(&a, expect, expect_len);
    PGresult *r;
    /* the row lock: a second swapper waits, then re-checks the new value */
    int rc = q(T(txn), "UPDATE store_meta SET value = $2 WHERE name = $1 AND value = $3", &a, &r);
    if (rc != SK_OK)
        return rc;
    int64_t n = q_changes(r);
    PQclear(r);
    return n == 1 ? SK_OK : SK_ERR_STORE_CONFLICT;
}

/* --------------------------------------------------------------- events */

static int pg_event_append(sk_store_txn *txn, sk_event *ev)
{
    PGresult *r;
    /* the counter row stays locked until this transaction ends: the next
     * appender gets its seq only after this one committed (or rolled back) */
    int rc = q(T(txn), "UPDATE event_counter SET last = last + 1 RETURNING last", NULL, &r);
    if (rc != SK_OK)
        return rc;
    if (PQntuples(r) != 1) {
        PQclear(r);
        sk_log_error("store: the event counter row is missing");
        return SK_ERR_STORE;
    }
    int64_t seq = col_int(r, 0, 0);
    PQclear(r);
    struct args a = {0};
    a_int(&a, seq);
    a_int(&a, ev->at);
    if (ev->has_key)
        a_bytes(&a, ev->key_id, SK_STORE_ID_LEN);
    else
        a_null(&a, OID_BYTEA);
    a_int(&a, ev->kind);
    a_int(&a, ev->detail);
    rc = q(T(txn), "INSERT INTO events (seq, at, key_id, kind, detail) VALUES ($1, $2, $3, $4, $5)",
           &a, NULL);
    if (rc == SK_OK)
        ev->seq = seq;
    return rc;
}

static int pg_events(sk_store_txn *txn, sk_event **events, size_t *count, const uint8_t *key_id,
                     int64_t after_seq, size_t max)
{
    struct args a = {0};
    a_int(&a, after_seq);
    if (key_id != NULL)
        a_bytes(&a, key_id, SK_STORE_ID_LEN);
    else
        a_null(&a, OID_BYTEA);
    if (max == 0)
        a_null(&a, OID_INT8);
    else
        a_int(&a, (int64_t)max);
    PGresult *r;
    int rc = q(T(txn),
               "SELECT seq, at, key_id, kind, detail FROM events"
               " WHERE seq > $1 AND ($2::bytea IS NULL OR key_id = $2) ORDER BY seq LIMIT $3",
               &a, &r);
    if (rc != SK_OK)
        return rc;
    size_t n = (size_t)PQntuples(r);
    sk_event *arr = n ? calloc(n, sizeof *arr) : NULL;
    if (n && arr == NULL)
        rc = SK_ERR_NOMEM;
    for (size_t i = 0; rc == SK_OK && i < n; i++) {
        sk_event *e = &arr[i];
        e->seq = col_int(r, (int)i, 0);
        e->at = col_int(r, (int)i, 1);
        e->has_key = !PQgetisnull(r, (int)i, 2);
        if (e->has_key && !col_id(e->key_id, r, (int)i, 2))
            rc = SK_ERR_STORE;
        e->kind = (uint32_t)col_int(r, (int)i, 3);
        e->detail = col_int(r, (int)i, 4);
    }
    PQclear(r);
    if (rc != SK_OK) {
        free(arr);
        return rc;
    }
    *events = arr;
    *count = n;
    return SK_OK;
}

/* ---------------------------------------------------------------- check */

/* The checks of sk_store_check, each a query whose single value must be
 * true; the text says what is wrong when it is not. */
static const struct {
    const char *sql;
    const char *problem;
} checks[] = {
    {"SELECT (SELECT count(*) FROM schema_version) = 1", "schema_version has not one row"},
    {"SELECT count(*) = 3 FROM pg_trigger WHERE tgrelid = 'events'::regclass"
     " AND tgname IN ('events_no_update', 'events_no_delete', 'events_no_truncate')"
     " AND tgenabled <> 'D'",
     "a trigger refusing changes to the event log is missing or disabled"},
    {"SELECT (SELECT count(*) FROM event_counter) = 1", "the event counter has not one row"},
    {"SELECT (SELECT last FROM event_counter) >= (SELECT coalesce(max(seq), 0) FROM events)",
     "the event counter is behind the event log (new events would reuse a seq)"},
    {"SELECT NOT EXISTS (SELECT 1 FROM sessions s LEFT JOIN keys k USING (key_id)"
     " WHERE k.key_id IS NULL)",
     "a session names a key that does not exist"},
    {"SELECT NOT EXISTS (SELECT 1 FROM keys WHERE version < 1 OR octet_length(key_id) <> 16)",
     "a key row has a bad version or id"},
    {"SELECT count(*) = 0 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
     " JOIN pg_namespace n ON n.oid = c.relnamespace"
     " WHERE n.nspname = current_schema() AND NOT i.indisvalid",
     "an index is invalid (an interrupted CREATE INDEX CONCURRENTLY?): rebuild it"},
};

static int pg_check(sk_store *store, char *what, size_t what_len)
{
    sk_store_txn *txn;
    int rc = pg_begin(store, &txn, 0);
    if (rc != SK_OK) {
        snprintf(what, what_len, "cannot connect: %s", sk_strerror(rc));
        return rc;
    }
    struct pg_txn *t = T(txn);
    int version = 0;
    rc = read_version(t, &version);
    if (rc == SK_OK && version != SK_STORE_SCHEMA_LATEST) {
        snprintf(what, what_len, "schema version %d, this program's is %d", version,
                 SK_STORE_SCHEMA_LATEST);
        rc = SK_ERR_STORE;
    }
    for (size_t i = 0; rc == SK_OK && i < sizeof checks / sizeof checks[0]; i++) {
        PGresult *r;
        rc = q(t, checks[i].sql, NULL, &r);
        if (rc != SK_OK) {
            snprintf(what, what_len, "cannot check: %s", PQerrorMessage(t->c));
            break;
        }
        bool ok = PQntuples(r) == 1 && PQgetlength(r, 0, 0) == 1 && PQgetvalue(r, 0, 0)[0] == 1;
        PQclear(r);
        if (!ok) {
            snprintf(what, what_len, "%s", checks[i].problem);
            rc = SK_ERR_STORE;
        }
    }
    txn_end(t);
    return rc;
}

/* ------------------------------------------------------ change listener */

static PGconn *listen_open(struct pg_store *s)
{
    PGconn *c = conn_open(s);
    if (c == NULL)
        return NULL;
    bool broken = false;
    if (simple(c, "LISTEN splitkey_change", &broken) != SK_OK) {
        PQfinish(c);
        return NULL;
    }
    return c;
}

/* Waits up to ms for input on fd or a stop; false on a stop. */
static bool listen_wait(struct pg_store *s, int fd, int ms)
{
    struct pollfd p[2] = {{.fd = s->stop_pipe[0], .events = POLLIN}, {.fd = fd, .events = POLLIN}};
    int n = poll(p, fd >= 0 ? 2 : 1, ms);
    if (n > 0 && (p[0].revents & (POLLIN | POLLHUP)))
        return false;
    return true;
}

static void *listener_main(void *arg)
{
    struct pg_store *s = arg;
    PGconn *c = NULL;
    int backoff = 100;
    bool lost = false;
    for (;;) {
        if (c == NULL) {
            c = listen_open(s);
            if (c == NULL) {
                if (!lost)
                    sk_log_error("store %s: change listener: cannot connect; retrying", s->shown);
                lost = true;
                if (!listen_wait(s, -1, backoff))
                    break;
                backoff = backoff < 5000 ? backoff * 2 : 5000;
                continue;
            }
            backoff = 100;
            if (lost)
                sk_log_notice("store %s: change listener: connected again", s->shown);
            lost = false;
            /* whatever changed while no one listened */
            s->hook(s->hook_arg);
        }
        if (!listen_wait(s, PQsocket(c), 30000))
            break;
        if (PQconsumeInput(c) == 0 || PQstatus(c) != CONNECTION_OK) {
            sk_log_error("store %s: change listener: connection lost; reconnecting", s->shown);
            PQfinish(c);
            c = NULL;
            lost = true;
            continue;
        }
        int n = 0;
        PGnotify *note;
        while ((note = PQnotifies(c)) != NULL) {
            n++;
            PQfreemem(note);
        }
        if (n > 0)
            s->hook(s->hook_arg);
    }
    if (c != NULL)
        PQfinish(c);
    return NULL;
}

static void listener_stop(struct pg_store *s)
{
    if (s->listening) {
        ssize_t w;
        do
            w = write(s->stop_pipe[1], "x", 1);
        while (w < 0 && errno == EINTR);
        pthread_join(s->listener, NULL);
        s->listening = false;
    }
    for (int i = 0; i < 2; i++)
        if (s->stop_pipe[i] >= 0) {
            close(s->stop_pipe[i]);
            s->stop_pipe[i] = -1;
        }
}

static int pg_set_change_hook(sk_store *store, sk_store_change_fn fn, void *arg)
{
    struct pg_store *s = (struct pg_store *)store;
    listener_stop(s);
    s->hook = fn;
    s->hook_arg = arg;
    if (fn == NULL)
        return SK_OK;
    if (pipe(s->stop_pipe) != 0)
        return SK_ERR_STORE;
    for (int i = 0; i < 2; i++)
        fcntl(s->stop_pipe[i], F_SETFD, FD_CLOEXEC);
    if (pthread_create(&s->listener, NULL, listener_main, s) != 0) {
        listener_stop(s);
        return SK_ERR_NOMEM;
    }
    s->listening = true;
    return SK_OK;
}

const struct sk_store_ops sk_store_pg_ops = {
    .scheme = "postgresql://",
    .alias = "postgres://",
    .name = "PostgreSQL",
    .no_journal = "a PostgreSQL store keeps no commit journal: PostgreSQL's own WAL, "
                  "replication and archiving replace it (doc/operations.md, \"The store\")",
    .open = pg_open,
    .close = pg_close,
    .schema_version = pg_schema_version,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .key_insert = pg_key_insert,
    .key_get = pg_key_get,
    .key_get_by_person = pg_key_get_by_person,
    .key_update = pg_key_update,
    .session_insert = pg_session_insert,
    .session_get = pg_session_get,
    .session_update = pg_session_update,
    .session_seen = pg_session_seen,
    .sessions_for_key = pg_sessions_for_key,
    .sessions_purge = pg_sessions_purge,
    .reply_put = pg_reply_put,
    .reply_get = pg_reply_get,
    .pool_add = pg_pool_add,
    .pool_take = pg_pool_take,
    .pool_count = pg_pool_count,
    .keys_purge = pg_keys_purge,
    .token_use = pg_token_use,
    .token_used = pg_token_used,
    .event_append = pg_event_append,
    .events = pg_events,
    .meta_get = pg_meta_get,
    .meta_put = pg_meta_put,
    .meta_cas = pg_meta_cas,
    .check = pg_check,
    .journal_open = NULL,
    .set_change_hook = pg_set_change_hook,
    .redact = redact,
    .set_connections = pg_set_connections,
    .retry_backoff_us = 200,
    .migrate_from = sk_store_pg_migrate_from,
};
