/* SPDX-License-Identifier: Apache-2.0 */
/* test_store.c - the store: migrations, compare-and-swap, transactions,
 * reply cache, pool, event log and injected faults, on SQLite; and, given a
 * PostgreSQL URI as its argument (pg_store.sh starts a cluster for it), the
 * same operations on PostgreSQL plus what only a database server has: lost
 * connections, several store handles (processes) on one database, the
 * event log's commit order, SKIP LOCKED and the change hook. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>
#ifdef SK_HAVE_POSTGRESQL
#include <libpq-fe.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <unistd.h>
#endif

#include "splitkey/splitkey.h"
#include "store.h"
#include "svctest.h"
#include "testutil.h"

static char *tmp;
static const char *pg_base; /* a PostgreSQL URI: the tests run there */

static char *pg_db_uri(const char *name);

static sk_store *open_store(const char *name, char **path_out)
{
    if (pg_base != NULL) {
        char *uri = pg_db_uri(name);
        sk_store *s = NULL;
        CHECK_OK(sk_store_open(&s, uri));
        if (path_out)
            *path_out = uri;
        else
            free(uri);
        return s;
    }
    char *path = sv_path(tmp, name);
    size_t n = strlen(path) + 8;
    char *uri = malloc(n);
    snprintf(uri, n, "sqlite:%s", path);
    sk_store *s = NULL;
    CHECK_OK(sk_store_open(&s, uri));
    free(uri);
    if (path_out)
        *path_out = path;
    else
        free(path);
    return s;
}

#ifndef SK_HAVE_POSTGRESQL
static char *pg_db_uri(const char *name)
{
    (void)name;
    return NULL;
}
static int pg_raw_exec(const char *uri, const char *sql)
{
    (void)uri;
    (void)sql;
    return 1;
}
#endif

static void make_key(sk_key_record *rec, uint8_t tag, const char *person, uint32_t purpose)
{
    memset(rec, 0, sizeof *rec);
    memset(rec->key_id, tag, sizeof rec->key_id);
    snprintf(rec->person_id, sizeof rec->person_id, "%s", person);
    rec->purpose = purpose;
    rec->state = 1;
    rec->blob = malloc(8);
    memset(rec->blob, tag, 8);
    rec->blob_len = 8;
}

static int pg_raw_exec(const char *uri, const char *sql);

/* Runs sql on a separate raw connection; returns the sqlite result code
 * (PostgreSQL: 0 on success, else 1). */
static int raw_exec(const char *path, const char *sql)
{
    if (pg_base != NULL)
        return pg_raw_exec(path, sql);
    sqlite3 *db;
    if (sqlite3_open(path, &db) != SQLITE_OK)
        return -1;
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    sqlite3_close(db);
    return rc;
}

static void test_open_and_migrate(void)
{
    char *path;
    sk_store *s = open_store("m.db", &path);
    int v = -1;
    CHECK_OK(sk_store_schema_version(s, &v));
    CHECK(v == sk_store_schema_latest());
    CHECK(sk_store_schema_latest() >= 1);
    sk_store_close(s);
    CHECK(sv_mode(path) == 0600); /* sealed secrets inside: not world-readable */

    /* WAL mode persisted; every table exists */
    sqlite3 *db;
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    sqlite3_stmt *st;
    CHECK(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL) == SQLITE_OK);
    CHECK(sqlite3_step(st) == SQLITE_ROW);
    CHECK(strcmp((const char *)sqlite3_column_text(st, 0), "wal") == 0);
    sqlite3_finalize(st);
    const char *tables[] = {"schema_version", "keys", "sessions", "reply_cache",
                            "server_key_pool", "events"};
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
        CHECK(sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master WHERE type='table'"
                                     " AND name=?1", -1, &st, NULL) == SQLITE_OK);
        sqlite3_bind_text(st, 1, tables[i], -1, SQLITE_STATIC);
        CHECK(sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 1);
        sqlite3_finalize(st);
    }
    sqlite3_close(db);

    /* reopening keeps data and version */
    s = open_store("m.db", NULL);
    sk_key_record k, got;
    make_key(&k, 7, "PNOLV-1", 2);
    CHECK_OK(sk_store_key_insert(s, NULL, &k));
    sk_store_close(s);
    s = open_store("m.db", NULL);
    CHECK_OK(sk_store_schema_version(s, &v));
    CHECK(v == sk_store_schema_latest());
    CHECK_OK(sk_store_key_get(s, NULL, &got, k.key_id));
    sk_key_record_clear(&got);
    sk_store_close(s);
    sk_key_record_clear(&k);

    /* a database at an older version gets only the missing migrations */
    CHECK(raw_exec(path, "DROP INDEX reply_cache_created;"
                         "DROP INDEX keys_state_updated;"
                         "DROP TABLE used_tokens;"
                         "DROP TABLE store_meta;"
                         "ALTER TABLE keys DROP COLUMN updated_at;"
                         "ALTER TABLE sessions DROP COLUMN rp_seen_at;"
                         "UPDATE schema_version SET version = 1") == SQLITE_OK);
    s = open_store("m.db", NULL);
    CHECK_OK(sk_store_schema_version(s, &v));
    CHECK(v == sk_store_schema_latest());
    sk_store_close(s);
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK(sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master WHERE type='index'"
                                 " AND name='reply_cache_created'", -1, &st, NULL) == SQLITE_OK);
    CHECK(sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 1);
    sqlite3_finalize(st);
    sqlite3_close(db);

    /* a database from a newer program is refused, and left alone */
    CHECK(raw_exec(path, "UPDATE schema_version SET version = 999") == SQLITE_OK);
    sk_store *s2 = (sk_store *)1;
    char uri[4200];
    snprintf(uri, sizeof uri, "sqlite:%s", path);
    CHECK_RC(SK_ERR_STORE, sk_store_open(&s2, uri));
    CHECK(s2 == NULL);
    CHECK(raw_exec(path, "SELECT 1 FROM keys") == SQLITE_OK);

    /* not a database */
    char *junk = sv_path(tmp, "junk.db");
    CHECK(sv_write(junk, "this is not an SQLite database, not even close......\n") == 0);
    snprintf(uri, sizeof uri, "sqlite:%s", junk);
    CHECK_RC(SK_ERR_STORE, sk_store_open(&s2, uri));
    free(junk);

    CHECK_RC(SK_ERR_ARG, sk_store_open(&s2, "mysql://x"));
    CHECK_RC(SK_ERR_ARG, sk_store_open(&s2, "sqlite:"));
#ifdef SK_HAVE_POSTGRESQL /* built in: tried, and no server listens there */
    CHECK_RC(SK_ERR_STORE, sk_store_open(&s2, "postgresql://127.0.0.1:1/sk?connect_timeout=2"));
    CHECK_RC(SK_ERR_ARG, sk_store_open(&s2, "postgresql://127.0.0.1/sk?no_such_option=1"));
#else
    CHECK_RC(SK_ERR_UNSUPPORTED, sk_store_open(&s2, "postgresql://localhost/sk"));
#endif
    free(path);
}

static void test_keys_and_cas(void)
{
    sk_store *s = open_store("k.db", NULL);
    sk_key_record a, b, got;
    make_key(&a, 1, "PNOLV-100", 1);
    make_key(&b, 2, "PNOLV-100", 1);
    CHECK_OK(sk_store_key_insert(s, NULL, &a));
    CHECK(a.version == 1);
    CHECK_RC(SK_ERR_STORE_CONFLICT, sk_store_key_insert(s, NULL, &a)); /* same id */
    CHECK_OK(sk_store_key_insert(s, NULL, &b));

    CHECK_OK(sk_store_key_get(s, NULL, &got, a.key_id));
    CHECK(got.version == 1 && got.state == 1 && got.purpose == 1);
    CHECK(strcmp(got.person_id, "PNOLV-100") == 0);
    CHECK(got.blob_len == 8 && memcmp(got.blob, a.blob, 8) == 0);
    sk_key_record_clear(&got);

    /* by person: the most recent key for that purpose */
    CHECK_OK(sk_store_key_get_by_person(s, NULL, &got, "PNOLV-100", 1));
    CHECK(memcmp(got.key_id, b.key_id, 16) == 0);
    sk_key_record_clear(&got);
    CHECK_RC(SK_ERR_NOT_FOUND, sk_store_key_get_by_person(s, NULL, &got, "PNOLV-100", 2));
    CHECK_RC(SK_ERR_NOT_FOUND, sk_store_key_get_by_person(s, NULL, &got, "PNOLV-999", 1));
    uint8_t none[16] = {0x55};
    CHECK_RC(SK_ERR_NOT_FOUND, sk_store_key_get(s, NULL, &got, none));
    CHECK(got.blob == NULL && got.version == 0);

    /* compare-and-swap: two readers of version 1, the second writer loses */
    sk_key_record r1, r2;
    CHECK_OK(sk_store_key_get(s, NULL, &r1, a.key_id));
    CHECK_OK(sk_store_key_get(s, NULL, &r2, a.key_id));
    r1.state = 2;
    r1.blob[0] = 0xAA;
    CHECK_OK(sk_store_key_update(s, NULL, &r1));
    CHECK(r1.version == 2);
    r2.state = 3;
    r2.blob[0] = 0xBB;
    CHECK_RC(SK_ERR_STORE_CONFLICT, sk_store_key_update(s, NULL, &r2));
    CHECK(r2.version == 1);
    CHECK_OK(sk_store_key_get(s, NULL, &got, a.key_id));
    CHECK(got.version == 2 && got.state == 2 && got.blob[0] == 0xAA);
    sk_key_record_clear(&got);
    /* the loser re-reads and succeeds */
    sk_key_record_clear(&r2);
    CHECK_OK(sk_store_key_get(s, NULL, &r2, a.key_id));
    r2.state = 3;
    CHECK_OK(sk_store_key_update(s, NULL, &r2));
    CHECK(r2.version == 3);

    /* update of a key that does not exist */
    sk_key_record ghost;
    make_key(&ghost, 9, "PNOLV-9", 1);
    CHECK_RC(SK_ERR_NOT_FOUND, sk_store_key_update(s, NULL, &ghost));

    /* empty blob round trip; bad arguments change nothing */
    sk_key_record e;
    make_key(&e, 3, "PNOLV-3", 2);
    free(e.blob);
    e.blob = NULL;
    e.blob_len = 0;
    CHECK_OK(sk_store_key_insert(s, NULL, &e));
    CHECK_OK(sk_store_key_get(s, NULL, &got, e.key_id));
    CHECK(got.blob == NULL && got.blob_len == 0);
    sk_key_record_clear(&got);
    sk_key_record bad;
    make_key(&bad, 4, "", 1);
    CHECK_RC(SK_ERR_ARG, sk_store_key_insert(s, NULL, &bad));
    memset(bad.person_id, 'x', sizeof bad.person_id); /* not terminated in range */
    CHECK_RC(SK_ERR_LIMIT, sk_store_key_insert(s, NULL, &bad));
    CHECK_RC(SK_ERR_NOT_FOUND, sk_store_key_get(s, NULL, &got, bad.key_id));

    sk_key_record_clear(&bad);
    sk_key_record_clear(&e);
    sk_key_record_clear(&ghost);
    sk_key_record_clear(&r1);
    sk_key_record_clear(&r2);
    sk_key_record_clear(&a);
    sk_key_record_clear(&b);
    sk_store_close(s);
}

static void count_all(sk_store *s, const uint8_t *key_id, int *keys, int *sessions, int *replies,
                      int *events)
{
    sk_key_record k;
    *keys = sk_store_key_get(s, NULL, &k, key_id) == SK_OK;
    sk_key_record_clear(&k);
    sk_session_record *recs;
    size_t n = 0;
    CHECK_OK(sk_store_sessions_for_key(s, NULL, &recs, &n, key_id, 0, 0));
    *sessions = (int)n;
    sk_session_records_free(recs, n);
    uint8_t *r;
    size_t rl;
    uint8_t rid[4] = {1, 2, 3, 4};
    *replies = sk_store_reply_get(s, NULL, &r, &rl, key_id, rid, sizeof rid) == SK_OK;
    free(r);
    sk_event *ev;
    CHECK_OK(sk_store_events(s, NULL, &ev, &n, key_id, 0, 0));
    *events = (int)n;
    free(ev);
}

/* Writes key + session + reply + event for key tag in txn. */
static int write_step(sk_store *s, sk_store_txn *txn, uint8_t tag)
{
    sk_key_record k;
    make_key(&k, tag, "PNOLV-T", 1);
    int rc = sk_store_key_insert(s, txn, &k);
    sk_session_record se = {.state = 1, .expires_at = 1000};
    memset(se.session_id, tag ^ 0xFF, 16);
    memcpy(se.key_id, k.key_id, 16);
    if (rc == SK_OK)
        rc = sk_store_session_insert(s, txn, &se);
    uint8_t rid[4] = {1, 2, 3, 4};
    const uint8_t reply[] = "reply";
    if (rc == SK_OK)
        rc = sk_store_reply_put(s, txn, k.key_id, rid, sizeof rid, reply, sizeof reply, 10);
    sk_event ev = {.at = 10, .has_key = 1, .kind = 1, .detail = 0};
    memcpy(ev.key_id, k.key_id, 16);
    if (rc == SK_OK)
        rc = sk_store_event_append(s, txn, &ev);
    sk_key_record_clear(&k);
    return rc;
}

static void test_transactions(void)
{
    sk_store *s = open_store("t.db", NULL);
    uint8_t id1[16], id2[16], id3[16];
    memset(id1, 0x11, 16);
    memset(id2, 0x22, 16);
    memset(id3, 0x33, 16);
    int k, se, r, e;

    /* rollback: nothing of the step remains */
    sk_store_txn *txn;
    CHECK_OK(sk_store_begin(s, &txn));
    CHECK_OK(write_step(s, txn, 0x11));
    sk_store_rollback(txn);
    count_all(s, id1, &k, &se, &r, &e);
    CHECK(k == 0 && se == 0 && r == 0 && e == 0);

    /* commit: all of it */
    CHECK_OK(sk_store_begin(s, &txn));
    CHECK_OK(write_step(s, txn, 0x22));
    CHECK_OK(sk_store_commit(txn));
    count_all(s, id2, &k, &se, &r, &e);
    CHECK(k == 1 && se == 1 && r == 1 && e == 1);

    /* a failing operation half-way, then rollback: no partial state */
    CHECK_OK(sk_store_begin(s, &txn));
    CHECK_OK(write_step(s, txn, 0x33));
    sk_key_record dup;
    make_key(&dup, 0x22, "PNOLV-T", 1);
    CHECK_RC(SK_ERR_STORE_CONFLICT, sk_store_key_insert(s, txn, &dup));
    sk_key_record_clear(&dup);
    sk_store_rollback(txn);
    count_all(s, id3, &k, &se, &r, &e);
    CHECK(k == 0 && se == 0 && r == 0 && e == 0);

    /* sessions need their key */
    sk_session_record orphan = {.state = 1, .expires_at = 5};
    memset(orphan.session_id, 0x44, 16);
    memset(orphan.key_id, 0x45, 16);
    CHECK_RC(SK_ERR_NOT_FOUND, sk_store_session_insert(s, NULL, &orphan));

    /* session compare-and-swap and expiry */
    sk_session_record got, got2;
    uint8_t sid[16];
    memset(sid, 0x22 ^ 0xFF, 16);
    CHECK_OK(sk_store_session_get(s, NULL, &got, sid));
    CHECK_OK(sk_store_session_get(s, NULL, &got2, sid));
    CHECK(got.version == 1 && got.expires_at == 1000);
    got.state = 2;
    CHECK_OK(sk_store_session_update(s, NULL, &got));
    CHECK(got.version == 2);
    got2.state = 3;
    CHECK_RC(SK_ERR_STORE_CONFLICT, sk_store_session_update(s, NULL, &got2));
    sk_session_record_clear(&got);
    sk_session_record_clear(&got2);
    CHECK_OK(sk_store_session_get(s, NULL, &got, sid));
    CHECK(got.state == 2);
    sk_session_record_clear(&got);
    sk_session_record *recs;
    size_t n;
    CHECK_OK(sk_store_sessions_for_key(s, NULL, &recs, &n, id2, 999, 0));
    CHECK(n == 1);
    sk_session_records_free(recs, n);
    CHECK_OK(sk_store_sessions_for_key(s, NULL, &recs, &n, id2, 1000, 0));
    CHECK(n == 0);
    sk_session_records_free(recs, n);
    CHECK_OK(sk_store_sessions_purge(s, NULL, &n, 999));
    CHECK(n == 0);
    CHECK_OK(sk_store_sessions_purge(s, NULL, &n, 1000));
    CHECK(n == 1);
    CHECK_RC(SK_ERR_NOT_FOUND, sk_store_session_get(s, NULL, &got, sid));
    sk_store_close(s);
}

/* The relying party's last sign of life (rp_seen_at): set at insert, moved
 * forward only by sk_store_session_seen, never back, without a new version
 * (a device request that read the session stays valid); an update keeps
 * it; a session with no relying party (0) is left alone. */
static void test_session_seen(void)
{
    sk_store *s = open_store("seen.db", NULL);
    sk_key_record k;
    make_key(&k, 0x51, "PNOLV-S", 2);
    CHECK_OK(sk_store_key_insert(s, NULL, &k));
    sk_session_record rp = {.state = 1, .expires_at = 5000, .rp_seen_at = 1000};
    sk_session_record dev = {.state = 1, .expires_at = 5000};
    memset(rp.session_id, 0x61, 16);
    memset(dev.session_id, 0x62, 16);
    memcpy(rp.key_id, k.key_id, 16);
    memcpy(dev.key_id, k.key_id, 16);
    CHECK_OK(sk_store_session_insert(s, NULL, &rp));
    CHECK_OK(sk_store_session_insert(s, NULL, &dev));

    sk_session_record got;
    CHECK_OK(sk_store_session_get(s, NULL, &got, rp.session_id));
    CHECK(got.rp_seen_at == 1000 && got.version == 1);
    sk_session_record_clear(&got);

    CHECK_OK(sk_store_session_seen(s, NULL, rp.session_id, 1010));
    CHECK_OK(sk_store_session_seen(s, NULL, rp.session_id, 1005)); /* never back */
    CHECK_OK(sk_store_session_get(s, NULL, &got, rp.session_id));
    CHECK(got.rp_seen_at == 1010);
    CHECK(got.version == 1); /* not a new version */
    /* an update (the device's answer) keeps it */
    got.state = 2;
    CHECK_OK(sk_store_session_update(s, NULL, &got));
    sk_session_record_clear(&got);
    CHECK_OK(sk_store_session_get(s, NULL, &got, rp.session_id));
    CHECK(got.rp_seen_at == 1010 && got.version == 2 && got.state == 2);
    sk_session_record_clear(&got);

    /* no relying party: left alone */
    CHECK_OK(sk_store_session_seen(s, NULL, dev.session_id, 1020));
    CHECK_OK(sk_store_session_get(s, NULL, &got, dev.session_id));
    CHECK(got.rp_seen_at == 0);
    sk_session_record_clear(&got);

    /* the list carries it */
    sk_session_record *recs = NULL;
    size_t n = 0;
    CHECK_OK(sk_store_sessions_for_key(s, NULL, &recs, &n, k.key_id, 0, 0));
    CHECK(n == 2);
    for (size_t i = 0; i < n; i++)
        CHECK(recs[i].rp_seen_at == (memcmp(recs[i].session_id, rp.session_id, 16) == 0
                                         ? 1010
                                         : 0));
    sk_session_records_free(recs, n);

    uint8_t unknown[16];
    memset(unknown, 0x63, 16);
    CHECK_RC(SK_ERR_NOT_FOUND, sk_store_session_seen(s, NULL, unknown, 1030));
    CHECK_RC(SK_ERR_ARG, sk_store_session_seen(s, NULL, rp.session_id, 0));
    sk_key_record_clear(&k);
    sk_store_close(s);
}

static void test_reply_cache(void)
{
    sk_store *s = open_store("r.db", NULL);
    uint8_t key[16], rid[16], rid2[16];
    memset(key, 0x61, 16);
    memset(rid, 0x62, 16);
    memset(rid2, 0x63, 16);
    const uint8_t first[] = {1, 2, 3}, second[] = {9, 9, 9, 9};
    uint8_t *r;
    size_t rl;
    CHECK_RC(SK_ERR_NOT_FOUND, sk_store_reply_get(s, NULL, &r, &rl, key, rid, sizeof rid));
    CHECK_OK(sk_store_reply_put(s, NULL, key, rid, sizeof rid, first, sizeof first, 5));
    /* a retried request finds the first reply; a second put cannot replace it */
    CHECK_RC(SK_ERR_STORE_CONFLICT,
             sk_store_reply_put(s, NULL, key, rid, sizeof rid, second, sizeof second, 6));
    CHECK_OK(sk_store_reply_get(s, NULL, &r, &rl, key, rid, sizeof rid));
    CHECK(rl == sizeof first && memcmp(r, first, rl) == 0);
    free(r);
    CHECK_RC(SK_ERR_NOT_FOUND, sk_store_reply_get(s, NULL, &r, &rl, key, rid2, sizeof rid2));
    CHECK(r == NULL && rl == 0);
    /* same request id under another key is a different entry */
    uint8_t key2[16];
    memset(key2, 0x64, 16);
    CHECK_OK(sk_store_reply_put(s, NULL, key2, rid, sizeof rid, second, sizeof second, 6));
    CHECK_OK(sk_store_reply_get(s, NULL, &r, &rl, key, rid, sizeof rid));
    CHECK(rl == sizeof first);
    free(r);
    uint8_t long_id[33] = {0};
    CHECK_RC(SK_ERR_LIMIT, sk_store_reply_put(s, NULL, key, long_id, 33, first, 3, 1));
    CHECK_RC(SK_ERR_ARG, sk_store_reply_put(s, NULL, key, long_id, 0, first, 3, 1));
    sk_store_close(s);
}

struct taker {
    sk_store *s;
    uint8_t (*ids)[16];
    size_t n;
    int errors;
};

static void *take_all(void *arg)
{
    struct taker *t = arg;
    for (;;) {
        uint8_t id[16], *sealed;
        size_t len;
        int rc = sk_store_pool_take(t->s, NULL, id, &sealed, &len, 3072);
        if (rc == SK_ERR_NOT_FOUND)
            break;
        if (rc == SK_ERR_STORE_BUSY)
            continue; /* retry: the other thread held the write lock too long */
        if (rc != SK_OK) {
            t->errors++;
            break;
        }
        /* the sealed bytes name their own pool id (written that way below) */
        if (len != 20 || memcmp(sealed, id, 16) != 0)
            t->errors++;
        memcpy(t->ids[t->n++], id, 16);
        free(sealed);
    }
    return NULL;
}

static void test_pool_atomic(void)
{
    sk_store *s = open_store("p.db", NULL);
    enum { N = 200 };
    sk_store_txn *txn;
    CHECK_OK(sk_store_begin(s, &txn));
    for (unsigned i = 0; i < N; i++) {
        uint8_t id[16] = {0}, blob[20] = {0};
        id[0] = (uint8_t)i;
        id[1] = (uint8_t)(i >> 8);
        memcpy(blob, id, 16);
        CHECK_OK(sk_store_pool_add(s, txn, id, 3072, blob, sizeof blob));
    }
    uint8_t other[16] = {0xEE}, ob[4] = {1};
    CHECK_OK(sk_store_pool_add(s, txn, other, 2048, ob, sizeof ob));
    CHECK_OK(sk_store_commit(txn));
    CHECK_RC(SK_ERR_STORE_CONFLICT, sk_store_pool_add(s, NULL, other, 2048, ob, sizeof ob));
    size_t count;
    CHECK_OK(sk_store_pool_count(s, NULL, &count, 3072));
    CHECK(count == N);

    static uint8_t ids_a[N][16], ids_b[N][16];
    struct taker a = {.s = s, .ids = ids_a}, b = {.s = s, .ids = ids_b};
    pthread_t ta, tb;
    pthread_create(&ta, NULL, take_all, &a);
    pthread_create(&tb, NULL, take_all, &b);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    CHECK(a.errors == 0 && b.errors == 0);
    CHECK(a.n + b.n == N);
    /* every id exactly once across both threads */
    static int seen[N];
    memset(seen, 0, sizeof seen);
    for (size_t i = 0; i < a.n + b.n; i++) {
        const uint8_t *id = i < a.n ? ids_a[i] : ids_b[i - a.n];
        unsigned v = id[0] | (unsigned)id[1] << 8;
        if (v < N)
            seen[v]++;
    }
    int once = 1;
    for (int i = 0; i < N; i++)
        once = once && seen[i] == 1;
    CHECK(once);
    CHECK_OK(sk_store_pool_count(s, NULL, &count, 3072));
    CHECK(count == 0);
    CHECK_OK(sk_store_pool_count(s, NULL, &count, 2048));
    CHECK(count == 1); /* other profiles untouched */

    /* a take rolled back puts the key back */
    uint8_t id[16], *sealed;
    size_t len;
    CHECK_OK(sk_store_begin(s, &txn));
    CHECK_OK(sk_store_pool_take(s, txn, id, &sealed, &len, 2048));
    free(sealed);
    sk_store_rollback(txn);
    CHECK_OK(sk_store_pool_count(s, NULL, &count, 2048));
    CHECK(count == 1);
    sk_store_close(s);
}

static void test_events_append_only(void)
{
    char *path;
    sk_store *s = open_store("e.db", &path);
    uint8_t key[16];
    memset(key, 0x77, 16);
    int64_t last = 0;
    for (int i = 0; i < 3; i++) {
        sk_event ev = {.at = 100 + i, .has_key = i != 1, .kind = (uint32_t)i, .detail = -i};
        memcpy(ev.key_id, key, 16);
        CHECK_OK(sk_store_event_append(s, NULL, &ev));
        CHECK(ev.seq > last);
        last = ev.seq;
    }
    sk_event *evs;
    size_t n;
    CHECK_OK(sk_store_events(s, NULL, &evs, &n, NULL, 0, 0));
    CHECK(n == 3);
    if (n == 3)
        CHECK(evs[1].has_key == 0 && evs[2].kind == 2 && evs[2].detail == -2 &&
              evs[0].at == 100);
    free(evs);
    CHECK_OK(sk_store_events(s, NULL, &evs, &n, key, 0, 0));
    CHECK(n == 2);
    free(evs);
    CHECK_OK(sk_store_events(s, NULL, &evs, &n, NULL, last - 1, 0));
    CHECK(n == 1);
    free(evs);
    sk_store_close(s);
    /* the database refuses to change or remove an event */
    CHECK(raw_exec(path, "UPDATE events SET kind = 9") != SQLITE_OK);
    CHECK(raw_exec(path, "DELETE FROM events") != SQLITE_OK);
    s = open_store("e.db", NULL);
    CHECK_OK(sk_store_events(s, NULL, &evs, &n, NULL, 0, 0));
    CHECK(n == 3);
    free(evs);
    sk_store_close(s);
    free(path);
}

static void test_faults(void)
{
    sk_store *s = open_store("f.db", NULL);
    sk_key_record k;
    make_key(&k, 0x5A, "PNOLV-F", 1);
    CHECK_OK(sk_store_key_insert(s, NULL, &k));
    const sk_store_fault faults[] = {SK_STORE_FAULT_BUSY, SK_STORE_FAULT_FULL,
                                     SK_STORE_FAULT_IOERR};
    const int codes[] = {SK_ERR_STORE_BUSY, SK_ERR_STORE, SK_ERR_STORE};
    for (size_t i = 0; i < 3; i++) {
        /* a whole protocol step in a transaction */
        sk_key_record cur;
        CHECK_OK(sk_store_key_get(s, NULL, &cur, k.key_id));
        int64_t v = cur.version;
        sk_store_txn *txn;
        CHECK_OK(sk_store_begin(s, &txn));
        cur.state = 9;
        cur.blob[0] ^= 0xFF;
        CHECK_OK(sk_store_key_update(s, txn, &cur));
        uint8_t rid[2] = {0xF0, (uint8_t)i};
        CHECK_OK(sk_store_reply_put(s, txn, k.key_id, rid, 2, rid, 2, 1));
        sk_event ev = {.at = 1, .kind = 5};
        CHECK_OK(sk_store_event_append(s, txn, &ev));
        sk_store_inject_fault(s, faults[i]);
        CHECK_RC(codes[i], sk_store_commit(txn));
        /* nothing of it was kept */
        sk_key_record after;
        CHECK_OK(sk_store_key_get(s, NULL, &after, k.key_id));
        CHECK(after.version == v && after.state == 1 && after.blob[0] == 0x5A);
        sk_key_record_clear(&after);
        uint8_t *r;
        size_t rl;
        CHECK_RC(SK_ERR_NOT_FOUND, sk_store_reply_get(s, NULL, &r, &rl, k.key_id, rid, 2));
        sk_event *evs;
        size_t n;
        CHECK_OK(sk_store_events(s, NULL, &evs, &n, NULL, 0, 0));
        CHECK(n == 0);
        free(evs);
        sk_key_record_clear(&cur);

        /* a single operation in a transaction of its own */
        uint8_t pid[16];
        memset(pid, (int)i, 16);
        sk_store_inject_fault(s, faults[i]);
        CHECK_RC(codes[i], sk_store_pool_add(s, NULL, pid, 2048, pid, 16));
        size_t count;
        CHECK_OK(sk_store_pool_count(s, NULL, &count, 2048));
        CHECK(count == 0);
        /* one-shot: the next commit works */
        CHECK_OK(sk_store_pool_add(s, NULL, pid, 2048, pid, 16));
        uint8_t *sealed;
        size_t sl;
        CHECK_OK(sk_store_pool_take(s, NULL, pid, &sealed, &sl, 2048));
        free(sealed);
    }
    sk_key_record_clear(&k);
    sk_store_close(s);
}

/* A step that adds one event and, on its first attempts, reports a
 * conflict after writing. */
struct flaky {
    int calls, conflicts;
};

static int flaky_step(sk_store *s, sk_store_txn *txn, void *arg)
{
    struct flaky *f = arg;
    f->calls++;
    sk_event ev = {.at = f->calls, .kind = 42};
    int rc = sk_store_event_append(s, txn, &ev);
    if (rc == SK_OK && f->calls <= f->conflicts)
        return SK_ERR_STORE_CONFLICT;
    return rc;
}

/* Increments a counter kept in a key record's blob: read, CAS update. */
static int increment_step(sk_store *s, sk_store_txn *txn, void *arg)
{
    const uint8_t *key_id = arg;
    sk_key_record k;
    int rc = sk_store_key_get(s, txn, &k, key_id);
    if (rc != SK_OK)
        return rc;
    uint32_t v = (uint32_t)k.blob[0] | (uint32_t)k.blob[1] << 8;
    v++;
    k.blob[0] = (uint8_t)v;
    k.blob[1] = (uint8_t)(v >> 8);
    rc = sk_store_key_update(s, txn, &k);
    sk_key_record_clear(&k);
    return rc;
}

struct incrementer {
    sk_store *s;
    uint8_t *key_id;
    int failures;
};

static void *increment_many(void *arg)
{
    struct incrementer *in = arg;
    for (int i = 0; i < 100; i++)
        if (sk_store_run(in->s, 50, increment_step, in->key_id) != SK_OK)
            in->failures++;
    return NULL;
}

static void test_run_retries(void)
{
    sk_store *s = open_store("run.db", NULL);
    /* two conflicts, then success: only the last attempt's event is kept */
    struct flaky f = {.conflicts = 2};
    CHECK_OK(sk_store_run(s, 5, flaky_step, &f));
    CHECK(f.calls == 3);
    sk_event *evs;
    size_t n;
    CHECK_OK(sk_store_events(s, NULL, &evs, &n, NULL, 0, 0));
    CHECK(n == 1 && evs[0].at == 3);
    free(evs);
    /* out of attempts: the error comes back and nothing is kept */
    struct flaky g = {.conflicts = 10};
    CHECK_RC(SK_ERR_STORE_CONFLICT, sk_store_run(s, 3, flaky_step, &g));
    CHECK(g.calls == 3);
    CHECK_OK(sk_store_events(s, NULL, &evs, &n, NULL, 0, 0));
    CHECK(n == 1);
    free(evs);
    /* an injected BUSY at commit is retried */
    struct flaky h = {.conflicts = 0};
    sk_store_inject_fault(s, SK_STORE_FAULT_BUSY);
    CHECK_OK(sk_store_run(s, 5, flaky_step, &h));
    CHECK(h.calls == 2);
    /* an error that is not transient is not retried */
    sk_store_inject_fault(s, SK_STORE_FAULT_IOERR);
    struct flaky io = {.conflicts = 0};
    CHECK_RC(SK_ERR_STORE, sk_store_run(s, 5, flaky_step, &io));
    CHECK(io.calls == 1);

    /* two threads incrementing one counter lose no update */
    sk_key_record k;
    make_key(&k, 0xC0, "PNOLV-C", 1);
    memset(k.blob, 0, k.blob_len);
    CHECK_OK(sk_store_key_insert(s, NULL, &k));
    struct incrementer a = {.s = s, .key_id = k.key_id}, b = {.s = s, .key_id = k.key_id};
    pthread_t ta, tb;
    pthread_create(&ta, NULL, increment_many, &a);
    pthread_create(&tb, NULL, increment_many, &b);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    CHECK(a.failures == 0 && b.failures == 0);
    sk_key_record got;
    CHECK_OK(sk_store_key_get(s, NULL, &got, k.key_id));
    CHECK(got.blob[0] == 200 && got.blob[1] == 0);
    CHECK(got.version == 201);
    sk_key_record_clear(&got);
    sk_key_record_clear(&k);
    sk_store_close(s);
}

#ifdef SK_HAVE_POSTGRESQL
/* ------------------------------------------------------------ PostgreSQL */

/* The URI of database name (made on first use) in pg_base's cluster. */
static char *pg_db_uri(const char *name)
{
    char db[64] = "sk_";
    size_t n = 3;
    for (const char *p = name; *p && n + 1 < sizeof db; p++)
        db[n++] = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ? *p : '_';
    db[n] = '\0';
    const char *slash = strrchr(pg_base, '/');
    size_t keep = slash != NULL ? (size_t)(slash - pg_base) + 1 : strlen(pg_base);
    char *uri = malloc(keep + n + 1);
    memcpy(uri, pg_base, keep);
    memcpy(uri + keep, db, n + 1);
    PGconn *c = PQconnectdb(pg_base);
    CHECK(PQstatus(c) == CONNECTION_OK);
    const char *vals[1] = {db};
    PGresult *r = PQexecParams(c, "SELECT 1 FROM pg_database WHERE datname = $1", 1, NULL, vals,
                               NULL, NULL, 0);
    bool exists = PQntuples(r) == 1;
    PQclear(r);
    if (!exists) {
        char sql[128];
        snprintf(sql, sizeof sql, "CREATE DATABASE %s", db); /* [a-z0-9_] only */
        r = PQexec(c, sql);
        CHECK(PQresultStatus(r) == PGRES_COMMAND_OK);
        PQclear(r);
    }
    PQfinish(c);
    return uri;
}

static int pg_raw_exec(const char *uri, const char *sql)
{
    PGconn *c = PQconnectdb(uri);
    if (PQstatus(c) != CONNECTION_OK) {
        PQfinish(c);
        return -1;
    }
    PGresult *r = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(r);
    PQclear(r);
    PQfinish(c);
    return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? 0 : 1;
}

/* The single value of a query, as text (caller frees), or NULL. */
static char *pg_value(const char *uri, const char *sql)
{
    PGconn *c = PQconnectdb(uri);
    char *v = NULL;
    if (PQstatus(c) == CONNECTION_OK) {
        PGresult *r = PQexec(c, sql);
        if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
            v = strdup(PQgetvalue(r, 0, 0));
        PQclear(r);
    }
    PQfinish(c);
    return v;
}

static bool pg_is(const char *uri, const char *sql, const char *want)
{
    char *v = pg_value(uri, sql);
    bool ok = v != NULL && strcmp(v, want) == 0;
    if (!ok)
        fprintf(stderr, "%s: got %s, want %s\n", sql, v ? v : "(error)", want);
    free(v);
    return ok;
}

/* Ends every other connection to the database (what a failover or a
 * restarted server does to the store's connections). */
static void pg_kill_others(const char *uri)
{
    /* with a timeout, pg_terminate_backend waits until the backend is gone */
    CHECK(pg_raw_exec(uri, "SELECT pg_terminate_backend(pid, 600000) FROM pg_stat_activity"
                           " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                           " AND backend_type = 'client backend'") == 0);
}

static void test_pg_schema(void)
{
    char *uri;
    sk_store *s = open_store("schema", &uri);
    int v = -1;
    CHECK_OK(sk_store_schema_version(s, &v));
    CHECK(v == sk_store_schema_latest());
    CHECK(pg_is(uri, "SELECT version FROM schema_version", "6"));
    const char *tables[] = {"schema_version", "keys", "sessions", "reply_cache", "used_tokens",
                            "server_key_pool", "events", "event_counter", "store_meta"};
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
        char sql[200];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM information_schema.tables"
                 " WHERE table_schema = current_schema() AND table_name = '%s'", tables[i]);
        CHECK(pg_is(uri, sql, "1"));
    }
    CHECK(pg_is(uri, "SELECT data_type FROM information_schema.columns WHERE table_name = 'keys'"
                     " AND column_name = 'record'", "bytea"));
    CHECK(pg_is(uri, "SELECT data_type FROM information_schema.columns"
                     " WHERE table_name = 'sessions' AND column_name = 'expires_at'", "bigint"));
    char what[256];
    CHECK_OK(sk_store_check(s, what, sizeof what));
    sk_store_close(s);

    /* an older database gets only the missing migrations */
    CHECK(pg_raw_exec(uri, "DROP INDEX reply_cache_created; DROP INDEX keys_state_updated;"
                           "DROP TABLE used_tokens; DROP TABLE store_meta;"
                           "ALTER TABLE keys DROP COLUMN updated_at;"
                           "ALTER TABLE sessions DROP COLUMN rp_seen_at;"
                           "UPDATE schema_version SET version = 1") == 0);
    s = open_store("schema", NULL);
    CHECK_OK(sk_store_schema_version(s, &v));
    CHECK(v == sk_store_schema_latest());
    CHECK(pg_is(uri, "SELECT count(*) FROM pg_indexes WHERE indexname = 'reply_cache_created'",
                "1"));
    sk_store_close(s);

    /* a newer schema is refused and left alone */
    CHECK(pg_raw_exec(uri, "UPDATE schema_version SET version = 999") == 0);
    sk_store *s2 = (sk_store *)1;
    CHECK_RC(SK_ERR_STORE, sk_store_open(&s2, uri));
    CHECK(s2 == NULL);
    CHECK(pg_is(uri, "SELECT version FROM schema_version", "999"));
    CHECK(pg_raw_exec(uri, "UPDATE schema_version SET version = 6") == 0);

    /* the check finds a disabled append-only trigger and a counter behind */
    s = open_store("schema", NULL);
    CHECK(pg_raw_exec(uri, "ALTER TABLE events DISABLE TRIGGER events_no_delete") == 0);
    CHECK_RC(SK_ERR_STORE, sk_store_check(s, what, sizeof what));
    CHECK(strstr(what, "trigger") != NULL);
    CHECK(pg_raw_exec(uri, "ALTER TABLE events ENABLE TRIGGER events_no_delete") == 0);
    CHECK_OK(sk_store_check(s, what, sizeof what));
    sk_event ev = {.at = 1, .kind = 1};
    CHECK_OK(sk_store_event_append(s, NULL, &ev));
    CHECK(pg_raw_exec(uri, "UPDATE event_counter SET last = 0") == 0);
    CHECK_RC(SK_ERR_STORE, sk_store_check(s, what, sizeof what));
    CHECK(strstr(what, "event counter") != NULL);
    CHECK(pg_raw_exec(uri, "UPDATE event_counter SET last = 1") == 0);
    CHECK_OK(sk_store_check(s, what, sizeof what));
    /* TRUNCATE is refused too */
    CHECK(pg_raw_exec(uri, "TRUNCATE events") != 0);
    sk_store_close(s);
    free(uri);
}

struct opener {
    const char *uri;
    int rc;
};

static void *open_close(void *arg)
{
    struct opener *o = arg;
    sk_store *s = NULL;
    o->rc = sk_store_open(&s, o->uri);
    sk_store_close(s);
    return NULL;
}

/* Servers starting together on an empty database migrate it once. */
static void test_pg_concurrent_migrate(void)
{
    char *uri = pg_db_uri("together");
    struct opener o[6];
    pthread_t t[6];
    for (int i = 0; i < 6; i++) {
        o[i] = (struct opener){.uri = uri};
        pthread_create(&t[i], NULL, open_close, &o[i]);
    }
    for (int i = 0; i < 6; i++) {
        pthread_join(t[i], NULL);
        CHECK_OK(o[i].rc);
    }
    CHECK(pg_is(uri, "SELECT count(*) || ' ' || max(version) FROM schema_version", "1 6"));
    CHECK(pg_is(uri, "SELECT count(*) FROM event_counter", "1"));
    free(uri);
}

/* A connection lost in the middle of a transaction: the operation fails
 * with SK_ERR_STORE_BUSY, nothing of the transaction is kept, and the next
 * transaction reconnects by itself. */
static int kill_once_step(sk_store *s, sk_store_txn *txn, void *arg)
{
    int *calls = arg;
    sk_event ev = {.at = 77, .kind = 7};
    int rc = sk_store_event_append(s, txn, &ev);
    if (rc == SK_OK && (*calls)++ == 0) {
        char *uri = pg_db_uri("lost");
        pg_kill_others(uri);
        free(uri);
        sk_event ev2 = {.at = 78, .kind = 7};
        rc = sk_store_event_append(s, txn, &ev2);
        CHECK_RC(SK_ERR_STORE_BUSY, rc);
    }
    return rc;
}

static void test_pg_lost_connection(void)
{
    char *uri;
    sk_store *s = open_store("lost", &uri);
    sk_key_record k, cur;
    make_key(&k, 0x11, "PNOLV-L", 1);
    CHECK_OK(sk_store_key_insert(s, NULL, &k));
    sk_store_txn *txn;
    CHECK_OK(sk_store_begin(s, &txn));
    CHECK_OK(sk_store_key_get(s, txn, &cur, k.key_id));
    cur.state = 3;
    CHECK_OK(sk_store_key_update(s, txn, &cur));
    pg_kill_others(uri);
    uint8_t rid[1] = {1};
    CHECK_RC(SK_ERR_STORE_BUSY, sk_store_reply_put(s, txn, k.key_id, rid, 1, rid, 1, 1));
    CHECK_RC(SK_ERR_STORE_BUSY, sk_store_commit(txn));
    sk_key_record_clear(&cur);
    /* nothing kept; the next transaction has a new connection */
    CHECK_OK(sk_store_key_get(s, NULL, &cur, k.key_id));
    CHECK(cur.version == 1 && cur.state == 1);
    cur.state = 3;
    CHECK_OK(sk_store_key_update(s, NULL, &cur));
    CHECK(pg_is(uri, "SELECT state || '/' || version FROM keys", "3/2"));
    sk_key_record_clear(&cur);
    /* idle pooled connections killed between transactions: the next begin
     * notices and reconnects */
    pg_kill_others(uri);
    CHECK_OK(sk_store_key_get(s, NULL, &cur, k.key_id));
    sk_key_record_clear(&cur);
    /* sk_store_run retries a transaction whose connection died */
    int calls = 0;
    CHECK_OK(sk_store_run(s, 5, kill_once_step, &calls));
    CHECK(calls == 2);
    CHECK(pg_is(uri, "SELECT count(*) || ' ' || min(at) FROM events", "1 77"));
    char what[256];
    CHECK_OK(sk_store_check(s, what, sizeof what));
    sk_key_record_clear(&k);
    sk_store_close(s);
    free(uri);
}

/* Several store handles (as several servers) doing compare-and-swap
 * increments of one counter: none is lost. */
struct handle_incr {
    const char *uri;
    uint8_t *key_id;
    int ok, failed;
};

static void *handle_increments(void *arg)
{
    struct handle_incr *h = arg;
    sk_store *s = NULL;
    if (sk_store_open(&s, h->uri) != SK_OK) {
        h->failed = 100;
        return NULL;
    }
    for (int i = 0; i < 100; i++) {
        if (sk_store_run(s, 100, increment_step, h->key_id) == SK_OK)
            h->ok++;
        else
            h->failed++;
    }
    sk_store_close(s);
    return NULL;
}

static void test_pg_handles_cas(void)
{
    char *uri;
    sk_store *s = open_store("handles", &uri);
    sk_key_record k;
    make_key(&k, 0xC1, "PNOLV-H", 1);
    memset(k.blob, 0, k.blob_len);
    CHECK_OK(sk_store_key_insert(s, NULL, &k));
    enum { N = 4 };
    struct handle_incr h[N];
    pthread_t t[N];
    for (int i = 0; i < N; i++) {
        h[i] = (struct handle_incr){.uri = uri, .key_id = k.key_id};
        pthread_create(&t[i], NULL, handle_increments, &h[i]);
    }
    int ok = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        ok += h[i].ok;
    }
    sk_key_record got;
    CHECK_OK(sk_store_key_get(s, NULL, &got, k.key_id));
    uint32_t count = (uint32_t)got.blob[0] | (uint32_t)got.blob[1] << 8;
    printf("# %d store handles: %d increments committed, counter %u, version %lld\n", N, ok,
           count, (long long)got.version);
    CHECK(ok > 0 && count == (uint32_t)ok);
    CHECK(got.version == 1 + ok);
    sk_key_record_clear(&got);
    sk_key_record_clear(&k);
    sk_store_close(s);
    free(uri);
}

/* Event seqs become visible in commit order: a second appender waits for
 * the first one's commit and gets the next seq. */
struct appender {
    sk_store *s;
    int64_t seq;
    atomic_int done;
};

static void *append_one(void *arg)
{
    struct appender *a = arg;
    sk_event ev = {.at = 2, .kind = 2};
    CHECK_OK(sk_store_event_append(a->s, NULL, &ev));
    a->seq = ev.seq;
    atomic_store(&a->done, 1);
    return NULL;
}

static void test_pg_event_order(void)
{
    sk_store *s = open_store("order", NULL);
    sk_store_txn *txn;
    CHECK_OK(sk_store_begin(s, &txn));
    sk_event ev = {.at = 1, .kind = 1};
    CHECK_OK(sk_store_event_append(s, txn, &ev));
    struct appender b = {.s = s};
    atomic_init(&b.done, 0);
    pthread_t t;
    pthread_create(&t, NULL, append_one, &b);
    sv_sleep_ms(300);
    CHECK(atomic_load(&b.done) == 0); /* it waits for this transaction */
    sk_event *evs;
    size_t n;
    CHECK_OK(sk_store_events(s, NULL, &evs, &n, NULL, 0, 0));
    CHECK(n == 0); /* nothing committed yet */
    free(evs);
    CHECK_OK(sk_store_commit(txn));
    pthread_join(t, NULL);
    CHECK(b.seq == ev.seq + 1);
    CHECK_OK(sk_store_events(s, NULL, &evs, &n, NULL, 0, 0));
    CHECK(n == 2 && evs[0].seq == ev.seq && evs[1].seq == b.seq);
    free(evs);
    /* a rolled-back append leaves no gap */
    CHECK_OK(sk_store_begin(s, &txn));
    sk_event gone = {.at = 3, .kind = 3};
    CHECK_OK(sk_store_event_append(s, txn, &gone));
    sk_store_rollback(txn);
    sk_event next = {.at = 4, .kind = 4};
    CHECK_OK(sk_store_event_append(s, NULL, &next));
    CHECK(next.seq == b.seq + 1);
    sk_store_close(s);
}

/* FOR UPDATE SKIP LOCKED: a second taker gets another key at once. */
static void test_pg_pool_skip_locked(void)
{
    sk_store *s = open_store("skip", NULL);
    uint8_t p1[16], p2[16], got1[16], got2[16];
    memset(p1, 1, 16);
    memset(p2, 2, 16);
    CHECK_OK(sk_store_pool_add(s, NULL, p1, 4096, p1, 16));
    CHECK_OK(sk_store_pool_add(s, NULL, p2, 4096, p2, 16));
    sk_store_txn *a, *b;
    uint8_t *sa, *sb;
    size_t la, lb;
    CHECK_OK(sk_store_begin(s, &a));
    CHECK_OK(sk_store_begin(s, &b));
    CHECK_OK(sk_store_pool_take(s, a, got1, &sa, &la, 4096));
    CHECK_OK(sk_store_pool_take(s, b, got2, &sb, &lb, 4096));
    CHECK(memcmp(got1, p1, 16) == 0 && memcmp(got2, p2, 16) == 0);
    uint8_t *sc;
    size_t lc;
    uint8_t got3[16];
    sk_store_txn *c;
    CHECK_OK(sk_store_begin(s, &c));
    CHECK_RC(SK_ERR_NOT_FOUND, sk_store_pool_take(s, c, got3, &sc, &lc, 4096));
    sk_store_rollback(c);
    sk_store_rollback(a); /* p1 goes back */
    CHECK_OK(sk_store_commit(b));
    size_t count;
    CHECK_OK(sk_store_pool_count(s, NULL, &count, 4096));
    CHECK(count == 1);
    free(sa);
    free(sb);
    sk_store_close(s);
}

/* The change hook: another handle's commit to a key wakes it; so does a
 * reconnect of its listener. */
static atomic_int hook_calls;
static void count_hook(void *arg)
{
    (void)arg;
    atomic_fetch_add(&hook_calls, 1);
}

static void wait_calls(int at_least)
{
    while (atomic_load(&hook_calls) < at_least)
        sv_sleep_ms(20); /* ctest's timeout is the limit */
}

static void test_pg_change_hook(void)
{
    char *uri;
    sk_store *a = open_store("hook", &uri);
    sk_store *b = NULL;
    CHECK_OK(sk_store_open(&b, uri));
    atomic_init(&hook_calls, 0);
    CHECK_OK(sk_store_set_change_hook(a, count_hook, NULL));
    wait_calls(1); /* the first connect */
    int base = atomic_load(&hook_calls);
    sk_key_record k;
    make_key(&k, 0x33, "PNOLV-N", 1);
    CHECK_OK(sk_store_key_insert(b, NULL, &k)); /* another "server" */
    wait_calls(base + 1);
    base = atomic_load(&hook_calls);
    /* an event alone changes no key or session: no notification; then a
     * key update does */
    sk_event ev = {.at = 1, .kind = 1};
    CHECK_OK(sk_store_event_append(b, NULL, &ev));
    k.state = 3;
    CHECK_OK(sk_store_key_update(b, NULL, &k));
    wait_calls(base + 1);
    /* the listener's connection killed: it reconnects and calls once */
    base = atomic_load(&hook_calls);
    pg_kill_others(uri);
    wait_calls(base + 1);
    base = atomic_load(&hook_calls);
    k.state = 2;
    CHECK_OK(sk_store_key_update(b, NULL, &k)); /* b reconnects too */
    wait_calls(base + 1);
    CHECK_OK(sk_store_set_change_hook(a, NULL, NULL));
    sk_key_record_clear(&k);
    sk_store_close(b);
    sk_store_close(a);
    free(uri);
}

/* A URI with a password: the store logs it without. */
static void test_pg_uri_shown(void)
{
    char shown[256];
    sk_store_uri_shown("postgresql://alice:s3cretpw@db1:5432,db2:5433/sk"
                       "?target_session_attrs=read-write",
                       shown, sizeof shown);
    CHECK(strstr(shown, "s3cretpw") == NULL);
    CHECK(strstr(shown, "db1,db2") != NULL && strstr(shown, "read-write") != NULL);
    sk_store_uri_shown("postgresql://bob@h/sk?password=hunter22", shown, sizeof shown);
    CHECK(strstr(shown, "hunter22") == NULL && strstr(shown, "bob") != NULL);
    CHECK_OK(sk_store_uri_supported("postgresql://h/sk"));
    CHECK_OK(sk_store_uri_supported("postgres://h/sk"));
    CHECK_RC(SK_ERR_ARG, sk_store_uri_supported("mysql://h/sk"));
}

/* sk_store_meta_cas from several store handles at once: a counter kept in
 * store_meta loses no increment, and a swap from a stale value is refused. */
struct meta_incr {
    const char *uri;
    int ok;
};

static void *meta_increments(void *arg)
{
    struct meta_incr *m = arg;
    sk_store *s = NULL;
    if (sk_store_open(&s, m->uri) != SK_OK)
        return NULL;
    for (int i = 0; i < 50;) {
        uint8_t cur[24];
        size_t len = 0;
        int64_t v = 0;
        if (sk_store_meta_get(s, NULL, "counter", cur, sizeof cur, &len) != SK_OK ||
            sk_store_meta_decimal(cur, len, &v) != SK_OK)
            break;
        char next[24];
        int n = snprintf(next, sizeof next, "%lld", (long long)v + 1);
        int rc = sk_store_meta_cas(s, NULL, "counter", cur, len, (const uint8_t *)next,
                                   (size_t)n);
        if (rc == SK_OK) {
            m->ok++;
            i++;
        } else if (rc != SK_ERR_STORE_CONFLICT && rc != SK_ERR_STORE_BUSY) {
            break;
        }
    }
    sk_store_close(s);
    return NULL;
}

static void test_pg_meta_cas(void)
{
    char *uri;
    sk_store *s = open_store("metacas", &uri);
    CHECK_OK(sk_store_meta_cas(s, NULL, "counter", NULL, 0, (const uint8_t *)"0", 1));
    CHECK_RC(SK_ERR_STORE_CONFLICT,
             sk_store_meta_cas(s, NULL, "counter", NULL, 0, (const uint8_t *)"9", 1));
    CHECK_RC(SK_ERR_STORE_CONFLICT, sk_store_meta_cas(s, NULL, "counter", (const uint8_t *)"5",
                                                      1, (const uint8_t *)"9", 1));
    enum { N = 4 };
    struct meta_incr m[N];
    pthread_t t[N];
    for (int i = 0; i < N; i++) {
        m[i] = (struct meta_incr){.uri = uri};
        pthread_create(&t[i], NULL, meta_increments, &m[i]);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        CHECK(m[i].ok == 50);
    }
    CHECK(pg_is(uri, "SELECT convert_from(value, 'UTF8') FROM store_meta WHERE name = 'counter'",
                "200"));
    sk_store_close(s);
    free(uri);
}

/* The connection limit: a second transaction waits for the pool's only
 * connection; a thread that holds one and starts another is not stuck. */
struct limited {
    sk_store *s;
    atomic_int done;
};

static void *limited_read(void *arg)
{
    struct limited *l = arg;
    size_t count;
    CHECK_OK(sk_store_pool_count(l->s, NULL, &count, 1));
    atomic_store(&l->done, 1);
    return NULL;
}

static void test_pg_pool_limit(void)
{
    char *uri;
    sk_store *s = open_store("limit", &uri);
    CHECK_OK(sk_store_set_connections(s, 1));
    sk_store_txn *a, *c;
    CHECK_OK(sk_store_begin(s, &a));
    struct limited l = {.s = s};
    atomic_init(&l.done, 0);
    pthread_t t;
    pthread_create(&t, NULL, limited_read, &l);
    sv_sleep_ms(300);
    CHECK(atomic_load(&l.done) == 0); /* waits for the one connection */
    CHECK(pg_is(uri, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                     " AND pid <> pg_backend_pid() AND backend_type = 'client backend'", "1"));
    sk_store_rollback(a);
    pthread_join(t, NULL);
    CHECK(atomic_load(&l.done) == 1);
    /* nested in one thread: the second begin goes beyond the limit after
     * its wait instead of waiting for itself */
    CHECK_OK(sk_store_begin(s, &a));
    CHECK_OK(sk_store_begin(s, &c));
    sk_store_rollback(c);
    sk_store_rollback(a);
    CHECK_OK(sk_store_set_connections(s, 0));
    sk_store_close(s);
    free(uri);
}

static void pg_tests(void)
{
    test_pg_pool_limit();
    test_pg_meta_cas();
    test_pg_uri_shown();
    test_pg_schema();
    test_pg_concurrent_migrate();
    test_pg_lost_connection();
    test_pg_handles_cas();
    test_pg_event_order();
    test_pg_pool_skip_locked();
    test_pg_change_hook();
}
#endif

int main(int argc, char **argv)
{
    sk_test_init();
    tmp = sv_tmpdir("store");
    if (argc > 1) {
#ifdef SK_HAVE_POSTGRESQL
        pg_base = argv[1];
        pg_tests();
        test_keys_and_cas();
        test_transactions();
        test_session_seen();
        test_reply_cache();
        test_pool_atomic();
        test_events_append_only();
        test_faults();
        test_run_retries();
        sv_rmtree(tmp);
        free(tmp);
        return sk_test_done("test_svc_store_pg");
#else
        fprintf(stderr, "test_svc_store: built without the PostgreSQL backend\n");
        return 1;
#endif
    }
    test_open_and_migrate();
    test_keys_and_cas();
    test_transactions();
    test_session_seen();
    test_reply_cache();
    test_pool_atomic();
    test_events_append_only();
    test_faults();
    test_run_retries();
    sv_rmtree(tmp);
    free(tmp);
    return sk_test_done("test_svc_store");
}
