/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store_pg_migrate.c - splitkey-server migrate: an SQLite store copied into
 * an empty PostgreSQL database, row for row.
 *
 * The source is read in one SQLite read transaction (one snapshot); the
 * target is written in one PostgreSQL transaction that first locks every
 * table (no server can write meanwhile) and checks that they are empty.
 * Before COMMIT both sides are read back in primary-key order and compared
 * table by table: the row count and a SHA-256 digest over every column of
 * every row (integers as 8 bytes big-endian, bytes and text as they are,
 * each with its length).  Any difference rolls the target back.
 */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <sodium.h>
#include <sqlite3.h>

#include "splitkey/splitkey.h"
#include "store_backend.h"

#define MAX_COLS 8

/* Column kinds: I integer, B bytes, N bytes or NULL, T text. */
static const struct table {
    const char *name;
    const char *cols;  /* for SELECT and INSERT */
    const char *kinds; /* one letter per column */
    const char *order; /* SQLite ORDER BY */
    const char *pg_order;
} tables[] = {
    {"keys", "seq, key_id, person_id, purpose, state, version, record, updated_at", "IBTIIIBI",
     "seq", "seq"},
    {"sessions", "session_id, key_id, state, expires_at, version, record, rp_seen_at", "BBIIIBI",
     "session_id", "session_id"},
    {"reply_cache", "key_id, request_id, reply, created_at", "BBBI", "key_id, request_id",
     "key_id, request_id"},
    {"used_tokens", "token_id, used_at, key_id", "BIN", "token_id", "token_id"},
    {"server_key_pool", "seq, pool_id, profile, sealed", "IBIB", "seq", "seq"},
    {"events", "seq, at, key_id, kind, detail", "IINII", "seq", "seq"},
    {"store_meta", "name, value", "TB", "name", "name COLLATE \"C\""},
};
#define NTABLES (sizeof tables / sizeof tables[0])

/* A digest of one table's rows. */
struct tdigest {
    crypto_hash_sha256_state h;
    uint64_t rows;
};

static void d_value(struct tdigest *d, int is_null, const uint8_t *p, size_t len)
{
    uint8_t head[9];
    head[0] = is_null ? 0 : 1;
    for (int i = 0; i < 8; i++)
        head[1 + i] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
    crypto_hash_sha256_update(&d->h, head, sizeof head);
    if (!is_null && len > 0)
        crypto_hash_sha256_update(&d->h, p, len);
}

static void be64(uint8_t out[8], int64_t v)
{
    for (int i = 0; i < 8; i++)
        out[i] = (uint8_t)((uint64_t)v >> (56 - 8 * i));
}

static void hex(char *out, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", p[i]);
}

/* -------------------------------------------------------------- source */

static int sq_err(sqlite3 *db, const char *what, char *err, size_t err_len)
{
    snprintf(err, err_len, "the source store: %s: %s", what, sqlite3_errmsg(db));
    return SK_ERR_STORE;
}

/* Reads the SQLite table in order: digests it, and when pg is not NULL
 * inserts every row into the PostgreSQL table. */
static int copy_table(sqlite3 *db, PGconn *pg, const struct table *t, struct tdigest *d,
                      char *err, size_t err_len)
{
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT %s FROM %s ORDER BY %s", t->cols, t->name, t->order);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return sq_err(db, t->name, err, err_len);
    int ncols = (int)strlen(t->kinds);
    char ins[512];
    size_t used = (size_t)snprintf(ins, sizeof ins, "INSERT INTO %s (%s) VALUES (", t->name,
                                   t->cols);
    for (int i = 0; i < ncols; i++)
        used += (size_t)snprintf(ins + used, sizeof ins - used, "%s$%d", i ? ", " : "", i + 1);
    snprintf(ins + used, sizeof ins - used, ")");
    crypto_hash_sha256_init(&d->h);
    d->rows = 0;
    int rc = SK_OK, step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *v[MAX_COLS];
        int len[MAX_COLS], fmt[MAX_COLS];
        Oid type[MAX_COLS];
        uint8_t num[MAX_COLS][8];
        for (int i = 0; i < ncols; i++) {
            char k = t->kinds[i];
            int ct = sqlite3_column_type(st, i);
            fmt[i] = 1;
            if (k == 'I') {
                if (ct != SQLITE_INTEGER) {
                    snprintf(err, err_len, "the source store: %s: column %d of row %" PRIu64
                             " is not an integer", t->name, i + 1, d->rows + 1);
                    rc = SK_ERR_STORE;
                    break;
                }
                be64(num[i], sqlite3_column_int64(st, i));
                v[i] = (const char *)num[i];
                len[i] = 8;
                type[i] = 20;
                d_value(d, 0, num[i], 8);
            } else if (ct == SQLITE_NULL) {
                if (k != 'N') {
                    snprintf(err, err_len, "the source store: %s: column %d of row %" PRIu64
                             " is NULL", t->name, i + 1, d->rows + 1);
                    rc = SK_ERR_STORE;
                    break;
                }
                v[i] = NULL;
                len[i] = 0;
                type[i] = 17;
                d_value(d, 1, NULL, 0);
            } else {
                const void *p = k == 'T' ? (const void *)sqlite3_column_text(st, i)
                                         : sqlite3_column_blob(st, i);
                int n = sqlite3_column_bytes(st, i);
                v[i] = p != NULL ? p : "";
                len[i] = n;
                type[i] = k == 'T' ? 25 : 17;
                d_value(d, 0, p, (size_t)n);
            }
        }
        if (rc != SK_OK)
            break;
        d->rows++;
        if (pg == NULL)
            continue;
        PGresult *r = PQexecParams(pg, ins, ncols, type, v, len, fmt, 1);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            snprintf(err, err_len, "the target store: %s row %" PRIu64 ": %s", t->name, d->rows,
                     PQresultErrorMessage(r));
            err[strcspn(err, "\n")] = '\0';
            rc = SK_ERR_STORE;
        }
        PQclear(r);
        if (rc != SK_OK)
            break;
    }
    if (rc == SK_OK && step != SQLITE_DONE)
        rc = sq_err(db, t->name, err, err_len);
    sqlite3_finalize(st);
    return rc;
}

/* Digests the PostgreSQL table in order. */
static int digest_pg(PGconn *pg, const struct table *t, struct tdigest *d, char *err,
                     size_t err_len)
{
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT %s FROM %s ORDER BY %s", t->cols, t->name, t->pg_order);
    PGresult *r = PQexecParams(pg, sql, 0, NULL, NULL, NULL, NULL, 1);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        snprintf(err, err_len, "the target store: reading %s back: %s", t->name,
                 PQresultErrorMessage(r));
        err[strcspn(err, "\n")] = '\0';
        PQclear(r);
        return SK_ERR_STORE;
    }
    crypto_hash_sha256_init(&d->h);
    d->rows = (uint64_t)PQntuples(r);
    for (int row = 0; row < PQntuples(r); row++)
        for (int c = 0; c < PQnfields(r); c++)
            d_value(d, PQgetisnull(r, row, c), (const uint8_t *)PQgetvalue(r, row, c),
                    (size_t)PQgetlength(r, row, c));
    for (int row = 0; row < PQntuples(r); row++)
        for (int c = 0; c < PQnfields(r); c++)
            if (PQgetlength(r, row, c) > 0)
                sodium_memzero(PQgetvalue(r, row, c), (size_t)PQgetlength(r, row, c));
    PQclear(r);
    return SK_OK;
}

static bool pg_ok(PGconn *pg, const char *sql, char *err, size_t err_len)
{
    PGresult *r = PQexec(pg, sql);
    ExecStatusType st = PQresultStatus(r);
    bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    if (!ok) {
        snprintf(err, err_len, "the target store: %s", PQresultErrorMessage(r));
        err[strcspn(err, "\n")] = '\0';
    }
    PQclear(r);
    return ok;
}

/* One number from a query on the source ("" on none: 0). */
static int sq_number(sqlite3 *db, const char *sql, int64_t *out)
{
    sqlite3_stmt *st;
    *out = 0;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return SK_ERR_STORE;
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return step == SQLITE_ROW || step == SQLITE_DONE ? SK_OK : SK_ERR_STORE;
}

int sk_store_pg_migrate_from(const char *from_uri, const char *to_uri, FILE *report, char *err,
                             size_t err_len)
{
    if (strncmp(from_uri, "sqlite:", 7) != 0 || from_uri[7] == '\0') {
        snprintf(err, err_len, "--from: expected sqlite:PATH (the store to move)");
        return SK_ERR_ARG;
    }
    const char *path = from_uri + 7;
    if (access(path, R_OK) != 0) {
        snprintf(err, err_len, "--from %s: no such file, or not readable", path);
        return SK_ERR_ARG;
    }
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        snprintf(err, err_len, "--from %s: cannot open it: %s", path, sqlite3_errmsg(db));
        sqlite3_close(db);
        return SK_ERR_STORE;
    }
    sqlite3_busy_timeout(db, 5000);
    int rc = SK_OK;
    int64_t version = -1;
    if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
        sq_number(db, "SELECT version FROM schema_version", &version) != SK_OK) {
        snprintf(err, err_len, "--from %s: not a splitkey store (no schema_version)", path);
        rc = SK_ERR_STORE;
    } else if (version != SK_STORE_SCHEMA_LATEST) {
        snprintf(err, err_len,
                 "--from %s: schema version %" PRId64 ", this program's is %d: start the "
                 "server once on it (splitkey-server run --db sqlite:%s ...), which migrates "
                 "it, then stop it and migrate again",
                 path, version, SK_STORE_SCHEMA_LATEST, path);
        rc = SK_ERR_STORE;
    }
    int64_t ev_last = 0, ev_seqmax = 0;
    if (rc == SK_OK &&
        (sq_number(db, "SELECT coalesce(max(seq), 0) FROM events", &ev_seqmax) != SK_OK ||
         sq_number(db, "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'events'),"
                       " 0)", &ev_last) != SK_OK)) {
        rc = sq_err(db, "events", err, err_len);
    }
    if (ev_seqmax > ev_last)
        ev_last = ev_seqmax;
    /* the source is sound before anything is written */
    struct tdigest src[NTABLES];
    for (size_t i = 0; rc == SK_OK && i < NTABLES; i++)
        rc = copy_table(db, NULL, &tables[i], &src[i], err, err_len);
    if (rc != SK_OK) {
        sqlite3_close(db);
        return rc;
    }

    /* the target: its schema made (or checked) by opening it as a store */
    sk_store *store = NULL;
    rc = sk_store_open(&store, to_uri);
    if (rc != SK_OK) {
        char shown[256];
        sk_store_uri_shown(to_uri, shown, sizeof shown);
        snprintf(err, err_len, "--to %s: cannot open the store: %s (see the log line above)",
                 shown, sk_strerror(rc));
        sqlite3_close(db);
        return rc == SK_ERR_ARG ? SK_ERR_ARG : SK_ERR_STORE;
    }
    sk_store_close(store);
    PGconn *pg = PQconnectdb(to_uri);
    if (PQstatus(pg) != CONNECTION_OK) {
        snprintf(err, err_len, "--to: cannot connect: %s", PQerrorMessage(pg));
        err[strcspn(err, "\n")] = '\0';
        PQfinish(pg);
        sqlite3_close(db);
        return SK_ERR_STORE;
    }
    rc = SK_ERR_STORE;
    if (!pg_ok(pg, "BEGIN ISOLATION LEVEL SERIALIZABLE", err, err_len) ||
        !pg_ok(pg, "SET LOCAL lock_timeout = '10s'", err, err_len) ||
        !pg_ok(pg,
               "LOCK TABLE keys, sessions, reply_cache, used_tokens, server_key_pool, events,"
               " event_counter, store_meta IN EXCLUSIVE MODE",
               err, err_len))
        goto out;
    PGresult *r = PQexec(pg, "SELECT (SELECT count(*) FROM keys) + (SELECT count(*) FROM sessions)"
                             " + (SELECT count(*) FROM reply_cache) + (SELECT count(*) FROM"
                             " used_tokens) + (SELECT count(*) FROM server_key_pool) + (SELECT"
                             " count(*) FROM events) + (SELECT count(*) FROM store_meta)"
                             " + (SELECT last FROM event_counter)");
    bool empty = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 &&
                 strcmp(PQgetvalue(r, 0, 0), "0") == 0;
    bool read = PQresultStatus(r) == PGRES_TUPLES_OK;
    PQclear(r);
    if (!read) {
        snprintf(err, err_len, "the target store: cannot count its rows: %s", PQerrorMessage(pg));
        err[strcspn(err, "\n")] = '\0';
        goto out;
    }
    if (!empty) {
        snprintf(err, err_len, "--to: the target database holds splitkey rows already: migrate "
                               "only into an empty database (nothing was changed)");
        rc = SK_ERR_STORE_CONFLICT;
        goto out;
    }
    struct tdigest mid[NTABLES], dst[NTABLES];
    for (size_t i = 0; i < NTABLES; i++) {
        if (copy_table(db, pg, &tables[i], &mid[i], err, err_len) != SK_OK)
            goto out;
    }
    /* identity sequences and the event counter continue after the rows */
    {
        char num[24];
        snprintf(num, sizeof num, "%" PRId64, ev_last);
        const char *vals[1] = {num};
        PGresult *u = PQexecParams(pg, "UPDATE event_counter SET last = $1::bigint", 1, NULL,
                                   vals, NULL, NULL, 0);
        bool set = PQresultStatus(u) == PGRES_COMMAND_OK;
        PQclear(u);
        if (!set) {
            snprintf(err, err_len, "the target store: cannot set the event counter");
            goto out;
        }
        if (
            !pg_ok(pg, "SELECT setval(pg_get_serial_sequence('keys', 'seq'),"
                       " coalesce((SELECT max(seq) FROM keys), 0) + 1, false)", err, err_len) ||
            !pg_ok(pg, "SELECT setval(pg_get_serial_sequence('server_key_pool', 'seq'),"
                       " coalesce((SELECT max(seq) FROM server_key_pool), 0) + 1, false)",
                   err, err_len))
            goto out;
    }
    /* row for row: what was read twice from the source and what the target
     * holds now */
    for (size_t i = 0; i < NTABLES; i++) {
        if (digest_pg(pg, &tables[i], &dst[i], err, err_len) != SK_OK)
            goto out;
        uint8_t a[32], b[32], c[32];
        crypto_hash_sha256_final(&src[i].h, a);
        crypto_hash_sha256_final(&mid[i].h, b);
        crypto_hash_sha256_final(&dst[i].h, c);
        if (src[i].rows != dst[i].rows || mid[i].rows != dst[i].rows ||
            memcmp(a, c, 32) != 0 || memcmp(b, c, 32) != 0) {
            snprintf(err, err_len, "table %s differs after the copy (%" PRIu64 " rows read, %"
                     PRIu64 " in the target): nothing was kept", tables[i].name, src[i].rows,
                     dst[i].rows);
            goto out;
        }
        char hx[65];
        hex(hx, c, 32);
        fprintf(report, "%-16s %8" PRIu64 " rows  sha256 %s\n", tables[i].name, dst[i].rows, hx);
    }
    if (!pg_ok(pg, "COMMIT", err, err_len))
        goto out;
    fprintf(report, "event counter    %8" PRId64 "\n", ev_last);
    rc = SK_OK;
out:
    if (rc != SK_OK && PQstatus(pg) == CONNECTION_OK &&
        PQtransactionStatus(pg) != PQTRANS_IDLE) {
        PGresult *rb = PQexec(pg, "ROLLBACK");
        PQclear(rb);
    }
    PQfinish(pg);
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(db);
    return rc;
}
