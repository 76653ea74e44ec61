/* SPDX-License-Identifier: Apache-2.0 */
/* ca_store.c - the CA's SQLite certificate database and audit log appends. */
#define _POSIX_C_SOURCE 200809L
#include "ca_store.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "fileio.h"
#include "log.h"
#include "splitkey/splitkey.h"
#include "svc_error.h"

#define CA_BUSY_TIMEOUT_MS 10000
/* Request ids are kept this long (the CA's time window is far shorter). */
#define CA_REQUEST_KEEP_SECS (24 * 3600)

struct ca_store {
    sqlite3 *db;
    char *audit_path;
    bool readonly;
    pthread_mutex_t mu;
};

/* Migrations: entry i takes the schema from version i to i + 1.  Never
 * edit a released entry; append a new one. */
static const char *const migrations[] = {
    /* 1: certificates, RAs, audit head, request ids, counters */
    "CREATE TABLE certificates ("
    "  serial TEXT PRIMARY KEY CHECK (length(serial) BETWEEN 2 AND 40),"
    "  subject TEXT NOT NULL,"
    "  person_id TEXT NOT NULL,"
    "  profile INTEGER NOT NULL,"
    "  not_before INTEGER NOT NULL,"
    "  not_after INTEGER NOT NULL,"
    "  issued_at INTEGER NOT NULL,"
    "  status INTEGER NOT NULL DEFAULT 0 CHECK (status IN (0, 1)),"
    "  revoked_at INTEGER,"
    "  reason INTEGER,"
    "  ra_pub BLOB CHECK (ra_pub IS NULL OR length(ra_pub) = 32),"
    "  der BLOB NOT NULL);"
    "CREATE INDEX certificates_person ON certificates (person_id);"
    "CREATE INDEX certificates_status ON certificates (status);"
    "CREATE TABLE ras ("
    "  sign_pub BLOB PRIMARY KEY CHECK (length(sign_pub) = 32),"
    "  kx_pub BLOB CHECK (kx_pub IS NULL OR length(kx_pub) = 32),"
    "  added_at INTEGER NOT NULL);"
    "CREATE TABLE audit_head ("
    "  id INTEGER PRIMARY KEY CHECK (id = 1),"
    "  count INTEGER NOT NULL,"
    "  hash BLOB NOT NULL CHECK (length(hash) = 32),"
    "  last_time INTEGER NOT NULL);"
    "INSERT INTO audit_head (id, count, hash, last_time) VALUES (1, 0, zeroblob(32), 0);"
    "CREATE TABLE requests ("
    "  request_id BLOB PRIMARY KEY CHECK (length(request_id) = 16),"
    "  at INTEGER NOT NULL);"
    "CREATE INDEX requests_at ON requests (at);"
    "CREATE TABLE counters ("
    "  id INTEGER PRIMARY KEY CHECK (id = 1),"
    "  crl_number INTEGER NOT NULL);"
    "INSERT INTO counters (id, crl_number) VALUES (1, 0);"
    "CREATE TRIGGER certificates_no_delete BEFORE DELETE ON certificates"
    "  BEGIN SELECT RAISE(ABORT, 'certificates are never deleted'); END;",
    /* 2: a revocation sequence (what RAs poll: ca_store_revocations_since)
     * and who asked for each revocation; earlier revocations are numbered
     * in the order they were made */
    "ALTER TABLE certificates ADD COLUMN revocation_seq INTEGER;"
    "ALTER TABLE certificates ADD COLUMN revoked_by BLOB;"
    "ALTER TABLE counters ADD COLUMN revocation_seq INTEGER NOT NULL DEFAULT 0;"
    "UPDATE certificates SET revocation_seq = (SELECT count(*) FROM certificates c2"
    "  WHERE c2.status = 1 AND (c2.revoked_at < certificates.revoked_at OR"
    "  (c2.revoked_at = certificates.revoked_at AND c2.serial <= certificates.serial)))"
    "  WHERE status = 1;"
    "UPDATE counters SET revocation_seq = (SELECT count(*) FROM certificates WHERE status = 1);"
    "CREATE UNIQUE INDEX certificates_revocation_seq ON certificates (revocation_seq);",
};
#define CA_SCHEMA_LATEST ((int)(sizeof migrations / sizeof migrations[0]))

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
    default:
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

static int finish(sqlite3_stmt *st, int step_rc)
{
    sqlite3_finalize(st);
    return map_rc(step_rc);
}

static int exec(sqlite3 *db, const char *sql)
{
    return map_rc(sqlite3_exec(db, sql, NULL, NULL, NULL));
}

static void rollback(sqlite3 *db)
{
    if (!sqlite3_get_autocommit(db))
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

/* ------------------------------------------------------------ open */

static int migrate(sqlite3 *db, const char *path)
{
    int rc = exec(db, "BEGIN IMMEDIATE");
    if (rc != SK_OK)
        return rc;
    int version = 0;
    sqlite3_stmt *st = NULL;
    rc = exec(db, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
    if (rc == SK_OK)
        rc = prep(db, &st, "SELECT version FROM schema_version");
    if (rc == SK_OK) {
        int step = sqlite3_step(st);
        version = step == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
        rc = finish(st, step);
    }
    if (rc == SK_OK && version < 0) {
        version = 0;
        rc = exec(db, "INSERT INTO schema_version (version) VALUES (0)");
    }
    if (rc == SK_OK && version > CA_SCHEMA_LATEST) {
        sk_log_error("database %s: schema version %d is newer than this program's (%d)", path,
                     version, CA_SCHEMA_LATEST);
        rc = SK_ERR_STORE;
    }
    for (int v = version; rc == SK_OK && v < CA_SCHEMA_LATEST; v++) {
        rc = exec(db, migrations[v]);
        if (rc == SK_OK)
            rc = prep(db, &st, "UPDATE schema_version SET version = ?1");
        if (rc == SK_OK) {
            sqlite3_bind_int(st, 1, v + 1);
            rc = finish(st, sqlite3_step(st));
        }
    }
    if (rc == SK_OK)
        rc = exec(db, "COMMIT");
    if (rc != SK_OK)
        rollback(db);
    return rc == SK_ERR_STORE_CONFLICT ? SK_ERR_STORE : rc;
}

int ca_store_open(ca_store **out, const char *path, const char *audit_path, unsigned flags)
{
    *out = NULL;
    bool ro = (flags & CA_STORE_READONLY) != 0;
    if (flags & CA_STORE_CREATE) {
        int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0)
            return errno == EEXIST ? SK_SVC_ERR_EXISTS : SK_SVC_ERR_IO;
        fchmod(fd, 0600);
        close(fd);
    } else if (!sk_path_exists(path)) {
        return SK_ERR_NOT_FOUND;
    }
    ca_store *s = calloc(1, sizeof *s);
    if (s == NULL)
        return SK_ERR_NOMEM;
    s->readonly = ro;
    if (audit_path != NULL && (s->audit_path = strdup(audit_path)) == NULL) {
        free(s);
        return SK_ERR_NOMEM;
    }
    pthread_mutex_init(&s->mu, NULL);
    int oflags = (ro ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) | SQLITE_OPEN_FULLMUTEX;
    int rc = map_rc(sqlite3_open_v2(path, &s->db, oflags, NULL));
    if (rc == SK_OK) {
        sqlite3_extended_result_codes(s->db, 1);
        sqlite3_busy_timeout(s->db, CA_BUSY_TIMEOUT_MS);
        if (!ro)
            rc = exec(s->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                             "PRAGMA secure_delete=ON;");
    }
    if (rc == SK_OK && !ro)
        rc = migrate(s->db, path);
    if (rc == SK_OK && ro) {
        /* a read-only open must still find a CA database here */
        sqlite3_stmt *st;
        rc = prep(s->db, &st, "SELECT version FROM schema_version");
        if (rc == SK_OK) {
            int step = sqlite3_step(st);
            if (step != SQLITE_ROW || sqlite3_column_int(st, 0) < 1)
                step = SQLITE_CORRUPT;
            rc = finish(st, step);
        }
    }
    if (rc != SK_OK) {
        ca_store_close(s);
        return rc == SK_ERR_STORE_BUSY ? rc : (rc == SK_ERR_NOMEM ? rc : SK_ERR_STORE);
    }
    *out = s;
    return SK_OK;
}

void ca_store_close(ca_store *s)
{
    if (s == NULL)
        return;
    sqlite3_close(s->db);
    pthread_mutex_destroy(&s->mu);
    free(s->audit_path);
    free(s);
}

/* ------------------------------------------------------------ RAs */

int ca_store_ra_add(ca_store *s, const uint8_t sign_pub[CA_RA_KEY_LEN],
                    const uint8_t kx_pub[CA_RA_KEY_LEN], int64_t now)
{
    sqlite3_stmt *st;
    pthread_mutex_lock(&s->mu);
    int rc = prep(s->db, &st, "INSERT INTO ras (sign_pub, kx_pub, added_at) VALUES (?1, ?2, ?3)");
    if (rc == SK_OK) {
        sqlite3_bind_blob(st, 1, sign_pub, CA_RA_KEY_LEN, SQLITE_STATIC);
        if (kx_pub != NULL)
            sqlite3_bind_blob(st, 2, kx_pub, CA_RA_KEY_LEN, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, now);
        rc = finish(st, sqlite3_step(st));
    }
    pthread_mutex_unlock(&s->mu);
    return rc == SK_ERR_STORE_CONFLICT ? SK_SVC_ERR_EXISTS : rc;
}

/* Runs a one-row existence query with a blob bound to ?1. */
static int exists_blob(ca_store *s, bool *found, const char *sql, const uint8_t *b, size_t len)
{
    sqlite3_stmt *st;
    *found = false;
    pthread_mutex_lock(&s->mu);
    int rc = prep(s->db, &st, sql);
    if (rc == SK_OK) {
        sqlite3_bind_blob(st, 1, b, (int)len, SQLITE_STATIC);
        int step = sqlite3_step(st);
        *found = step == SQLITE_ROW;
        rc = finish(st, step);
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int ca_store_ra_known(ca_store *s, bool *known, const uint8_t sign_pub[CA_RA_KEY_LEN])
{
    return exists_blob(s, known, "SELECT 1 FROM ras WHERE sign_pub = ?1", sign_pub,
                       CA_RA_KEY_LEN);
}

int ca_store_request_seen(ca_store *s, bool *seen, const uint8_t id[CA_REQUEST_ID_LEN])
{
    return exists_blob(s, seen, "SELECT 1 FROM requests WHERE request_id = ?1", id,
                       CA_REQUEST_ID_LEN);
}

/* ------------------------------------------------------ audit appends */

typedef struct audit_head {
    uint64_t count;
    uint8_t hash[SK_AUDIT_HASH_LEN];
    int64_t last_time;
} audit_head;

static int head_read(sqlite3 *db, audit_head *h)
{
    sqlite3_stmt *st;
    int rc = prep(db, &st, "SELECT count, hash, last_time FROM audit_head WHERE id = 1");
    if (rc != SK_OK)
        return rc;
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW && sqlite3_column_bytes(st, 1) == SK_AUDIT_HASH_LEN) {
        h->count = (uint64_t)sqlite3_column_int64(st, 0);
        memcpy(h->hash, sqlite3_column_blob(st, 1), SK_AUDIT_HASH_LEN);
        h->last_time = sqlite3_column_int64(st, 2);
    } else if (step == SQLITE_ROW || step == SQLITE_DONE) {
        step = SQLITE_CORRUPT;
    }
    return finish(st, step);
}

static int head_write(sqlite3 *db, const audit_head *h)
{
    sqlite3_stmt *st;
    int rc = prep(db, &st, "UPDATE audit_head SET count = ?1, hash = ?2, last_time = ?3 "
                           "WHERE id = 1");
    if (rc != SK_OK)
        return rc;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)h->count);
    sqlite3_bind_blob(st, 2, h->hash, SK_AUDIT_HASH_LEN, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, h->last_time);
    return finish(st, sqlite3_step(st));
}

/* Appends one line to the log file and makes it durable. */
static int audit_write(const char *path, const char *line, size_t len)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd < 0)
        return SK_SVC_ERR_IO;
    int rc = SK_OK;
    while (len > 0) {
        ssize_t w = write(fd, line, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            rc = SK_SVC_ERR_IO;
            break;
        }
        line += w;
        len -= (size_t)w;
    }
    if (rc == SK_OK && fsync(fd) != 0)
        rc = SK_SVC_ERR_IO;
    close(fd);
    return rc;
}

/* Builds the next audit entry on the head inside the open transaction,
 * writes it to the log and updates the head row. */
static int audit_append(ca_store *s, sk_audit_event event, const sk_serial *serial,
                        const char *subject, sk_crl_reason reason, int64_t now)
{
    audit_head h;
    int rc = head_read(s->db, &h);
    if (rc != SK_OK)
        return rc;
    sk_audit_entry e = {
        .seq = h.count + 1,
        .time = now < h.last_time ? h.last_time : now,
        .event = event,
        .serial = *serial,
        .subject = subject,
        .reason = reason,
    };
    char line[SK_AUDIT_MAX_LINE];
    size_t len;
    uint8_t next[SK_AUDIT_HASH_LEN];
    rc = sk_audit_append(line, sizeof line, &len, next, h.hash, &e);
    if (rc != SK_OK)
        return rc;
    h.count = e.seq;
    h.last_time = e.time;
    memcpy(h.hash, next, sizeof next);
    rc = head_write(s->db, &h);
    if (rc == SK_OK)
        rc = audit_write(s->audit_path, line, len);
    return rc;
}

static int remember_request(sqlite3 *db, const uint8_t *id, int64_t now)
{
    if (id == NULL)
        return SK_OK;
    sqlite3_stmt *st;
    int rc = prep(db, &st, "DELETE FROM requests WHERE at < ?1");
    if (rc == SK_OK) {
        sqlite3_bind_int64(st, 1, now - CA_REQUEST_KEEP_SECS);
        rc = finish(st, sqlite3_step(st));
    }
    if (rc == SK_OK)
        rc = prep(db, &st, "INSERT INTO requests (request_id, at) VALUES (?1, ?2)");
    if (rc == SK_OK) {
        sqlite3_bind_blob(st, 1, id, CA_REQUEST_ID_LEN, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, now);
        rc = finish(st, sqlite3_step(st));
    }
    return rc;
}

int ca_store_record_issue(ca_store *s, const ca_issue_record *r)
{
    if (s->readonly || s->audit_path == NULL)
        return SK_ERR_ARG;
    char hex[2 * SK_SERIAL_MAX_LEN + 1];
    int rc = sk_serial_to_hex(hex, sizeof hex, r->serial);
    if (rc != SK_OK)
        return rc;
    pthread_mutex_lock(&s->mu);
    rc = exec(s->db, "BEGIN IMMEDIATE");
    if (rc == SK_OK)
        rc = remember_request(s->db, r->request_id, r->issued_at);
    if (rc == SK_OK) {
        sqlite3_stmt *st;
        rc = prep(s->db, &st,
                  "INSERT INTO certificates (serial, subject, person_id, profile, not_before,"
                  " not_after, issued_at, status, ra_pub, der)"
                  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, ?8, ?9)");
        if (rc == SK_OK) {
            sqlite3_bind_text(st, 1, hex, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 2, r->subject, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 3, r->person_id, -1, SQLITE_STATIC);
            sqlite3_bind_int(st, 4, (int)r->profile);
            sqlite3_bind_int64(st, 5, r->not_before);
            sqlite3_bind_int64(st, 6, r->not_after);
            sqlite3_bind_int64(st, 7, r->issued_at);
            if (r->ra_pub != NULL)
                sqlite3_bind_blob(st, 8, r->ra_pub, CA_RA_KEY_LEN, SQLITE_STATIC);
            sqlite3_bind_blob(st, 9, r->der, (int)r->der_len, SQLITE_STATIC);
            rc = finish(st, sqlite3_step(st));
        }
    }
    if (rc == SK_OK)
        rc = audit_append(s, SK_AUDIT_ISSUE, r->serial, r->subject, SK_REASON_UNSPECIFIED,
                          r->issued_at);
    if (rc == SK_OK)
        rc = exec(s->db, "COMMIT");
    if (rc != SK_OK)
        rollback(s->db);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int ca_store_owner(ca_store *s, bool *exists, bool *owned, const sk_serial *serial,
                   const uint8_t ra_pub[CA_RA_KEY_LEN])
{
    char hex[2 * SK_SERIAL_MAX_LEN + 1];
    *exists = *owned = false;
    int rc = sk_serial_to_hex(hex, sizeof hex, serial);
    if (rc != SK_OK)
        return rc;
    sqlite3_stmt *st;
    pthread_mutex_lock(&s->mu);
    rc = prep(s->db, &st, "SELECT ra_pub FROM certificates WHERE serial = ?1");
    if (rc == SK_OK) {
        sqlite3_bind_text(st, 1, hex, -1, SQLITE_STATIC);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
            *exists = true;
            *owned = sqlite3_column_bytes(st, 0) == CA_RA_KEY_LEN &&
                     memcmp(sqlite3_column_blob(st, 0), ra_pub, CA_RA_KEY_LEN) == 0;
        }
        rc = finish(st, step);
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int ca_store_record_revoke(ca_store *s, int64_t *revoked_at, const sk_serial *serial,
                           sk_crl_reason reason, int64_t now, const uint8_t *ra_pub,
                           const uint8_t *request_id)
{
    if (s->readonly || s->audit_path == NULL || sk_crl_reason_name(reason) == NULL)
        return SK_ERR_ARG;
    char hex[2 * SK_SERIAL_MAX_LEN + 1];
    int rc = sk_serial_to_hex(hex, sizeof hex, serial);
    if (rc != SK_OK)
        return rc;
    char *subject = NULL;
    pthread_mutex_lock(&s->mu);
    rc = exec(s->db, "BEGIN IMMEDIATE");
    if (rc == SK_OK) {
        sqlite3_stmt *st;
        rc = prep(s->db, &st, "SELECT subject, status, ra_pub FROM certificates WHERE serial = ?1");
        if (rc == SK_OK) {
            sqlite3_bind_text(st, 1, hex, -1, SQLITE_STATIC);
            int step = sqlite3_step(st);
            if (step == SQLITE_ROW) {
                bool owned = ra_pub == NULL ||
                             (sqlite3_column_bytes(st, 2) == CA_RA_KEY_LEN &&
                              memcmp(sqlite3_column_blob(st, 2), ra_pub, CA_RA_KEY_LEN) == 0);
                const char *subj = (const char *)sqlite3_column_text(st, 0);
                if (!owned)
                    rc = SK_ERR_NOT_FOUND;
                else if (sqlite3_column_int(st, 1) != 0)
                    rc = SK_ERR_PROTO_STATE;
                else if ((subject = strdup(subj ? subj : "-")) == NULL)
                    rc = SK_ERR_NOMEM;
                sqlite3_finalize(st);
            } else {
                rc = finish(st, step);
                if (rc == SK_OK)
                    rc = SK_ERR_NOT_FOUND;
            }
        }
    }
    if (rc == SK_OK)
        rc = remember_request(s->db, request_id, now);
    if (rc == SK_OK) {
        sqlite3_stmt *st;
        rc = exec(s->db, "UPDATE counters SET revocation_seq = revocation_seq + 1 WHERE id = 1");
        if (rc == SK_OK)
            rc = prep(s->db, &st,
                      "UPDATE certificates SET status = 1, revoked_at = ?2, reason = ?3,"
                      " revoked_by = ?4,"
                      " revocation_seq = (SELECT revocation_seq FROM counters WHERE id = 1)"
                      " WHERE serial = ?1 AND status = 0");
        if (rc == SK_OK) {
            sqlite3_bind_text(st, 1, hex, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 2, now);
            sqlite3_bind_int(st, 3, (int)reason);
            if (ra_pub != NULL)
                sqlite3_bind_blob(st, 4, ra_pub, CA_RA_KEY_LEN, SQLITE_STATIC);
            rc = finish(st, sqlite3_step(st));
        }
        if (rc == SK_OK && sqlite3_changes(s->db) != 1)
            rc = SK_ERR_PROTO_STATE;
    }
    if (rc == SK_OK)
        rc = audit_append(s, SK_AUDIT_REVOKE, serial, subject, reason, now);
    if (rc == SK_OK)
        rc = exec(s->db, "COMMIT");
    if (rc != SK_OK)
        rollback(s->db);
    pthread_mutex_unlock(&s->mu);
    free(subject);
    if (rc == SK_OK)
        *revoked_at = now;
    return rc;
}

/* ------------------------------------------------------------ lookups */

int ca_store_status(ca_store *s, sk_cert_status *status, const sk_serial *serial)
{
    char hex[2 * SK_SERIAL_MAX_LEN + 1];
    memset(status, 0, sizeof *status);
    status->state = SK_CERT_UNKNOWN;
    int rc = sk_serial_to_hex(hex, sizeof hex, serial);
    if (rc != SK_OK)
        return SK_OK; /* not a serial of ours */
    sqlite3_stmt *st;
    pthread_mutex_lock(&s->mu);
    rc = prep(s->db, &st, "SELECT status, revoked_at, reason FROM certificates WHERE serial = ?1");
    if (rc == SK_OK) {
        sqlite3_bind_text(st, 1, hex, -1, SQLITE_STATIC);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
            if (sqlite3_column_int(st, 0) == 1) {
                status->state = SK_CERT_REVOKED;
                status->revocation_time = sqlite3_column_int64(st, 1);
                status->reason = (sk_crl_reason)sqlite3_column_int(st, 2);
            } else {
                status->state = SK_CERT_GOOD;
            }
        }
        rc = finish(st, step);
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int ca_store_status_der(ca_store *s, sk_cert_status *status, uint8_t **der, size_t *der_len,
                        const sk_serial *serial)
{
    char hex[2 * SK_SERIAL_MAX_LEN + 1];
    memset(status, 0, sizeof *status);
    status->state = SK_CERT_UNKNOWN;
    *der = NULL;
    *der_len = 0;
    int rc = sk_serial_to_hex(hex, sizeof hex, serial);
    if (rc != SK_OK)
        return SK_OK; /* not a serial of ours */
    sqlite3_stmt *st;
    pthread_mutex_lock(&s->mu);
    rc = prep(s->db, &st,
              "SELECT status, revoked_at, reason, der FROM certificates WHERE serial = ?1");
    if (rc == SK_OK) {
        sqlite3_bind_text(st, 1, hex, -1, SQLITE_STATIC);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
            const void *blob = sqlite3_column_blob(st, 3);
            int n = sqlite3_column_bytes(st, 3);
            if (blob != NULL && n > 0 && (*der = malloc((size_t)n)) != NULL) {
                memcpy(*der, blob, (size_t)n);
                *der_len = (size_t)n;
            }
            if (sqlite3_column_int(st, 0) == 1) {
                status->state = SK_CERT_REVOKED;
                status->revocation_time = sqlite3_column_int64(st, 1);
                status->reason = (sk_crl_reason)sqlite3_column_int(st, 2);
            } else {
                status->state = SK_CERT_GOOD;
            }
        }
        rc = finish(st, step);
        if (rc == SK_OK && step == SQLITE_ROW && *der == NULL)
            rc = SK_ERR_NOMEM;
        if (rc != SK_OK) {
            free(*der);
            *der = NULL;
            *der_len = 0;
        }
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* Every revoked certificate; the caller holds the mutex. */
static int revoked_locked(ca_store *s, sk_crl_entry **entries, size_t *count)
{
    *entries = NULL;
    *count = 0;
    sqlite3_stmt *st;
    size_t cap = 0, n = 0;
    sk_crl_entry *e = NULL;
    int rc = prep(s->db, &st, "SELECT serial, revoked_at, reason FROM certificates"
                              " WHERE status = 1 ORDER BY serial");
    if (rc == SK_OK) {
        int step;
        while ((step = sqlite3_step(st)) == SQLITE_ROW) {
            if (n == cap) {
                size_t nc = cap ? 2 * cap : 16;
                sk_crl_entry *ne = realloc(e, nc * sizeof *e);
                if (ne == NULL) {
                    step = SQLITE_NOMEM;
                    break;
                }
                e = ne;
                cap = nc;
            }
            const char *hex = (const char *)sqlite3_column_text(st, 0);
            if (hex == NULL || sk_serial_from_hex(&e[n].serial, hex) != SK_OK) {
                step = SQLITE_CORRUPT;
                break;
            }
            e[n].revocation_time = sqlite3_column_int64(st, 1);
            e[n].reason = (sk_crl_reason)sqlite3_column_int(st, 2);
            n++;
        }
        rc = finish(st, step);
    }
    if (rc != SK_OK) {
        free(e);
        return rc;
    }
    *entries = e;
    *count = n;
    return SK_OK;
}

int ca_store_revoked(ca_store *s, sk_crl_entry **entries, size_t *count)
{
    pthread_mutex_lock(&s->mu);
    int rc = revoked_locked(s, entries, count);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int ca_store_next_crl_number(ca_store *s, uint64_t *number)
{
    return ca_store_crl_snapshot(s, number, NULL, NULL);
}

int ca_store_crl_snapshot(ca_store *s, uint64_t *number, sk_crl_entry **entries,
                          size_t *count)
{
    sqlite3_stmt *st;
    if (entries != NULL) {
        *entries = NULL;
        *count = 0;
    }
    if (s->readonly)
        return SK_ERR_ARG;
    pthread_mutex_lock(&s->mu);
    int rc = exec(s->db, "BEGIN IMMEDIATE");
    if (rc == SK_OK)
        rc = exec(s->db, "UPDATE counters SET crl_number = crl_number + 1 WHERE id = 1");
    if (rc == SK_OK)
        rc = prep(s->db, &st, "SELECT crl_number FROM counters WHERE id = 1");
    if (rc == SK_OK) {
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW)
            *number = (uint64_t)sqlite3_column_int64(st, 0);
        else
            step = SQLITE_CORRUPT;
        rc = finish(st, step);
    }
    if (rc == SK_OK && entries != NULL)
        rc = revoked_locked(s, entries, count);
    if (rc == SK_OK)
        rc = exec(s->db, "COMMIT");
    if (rc != SK_OK) {
        rollback(s->db);
        if (entries != NULL) {
            free(*entries);
            *entries = NULL;
            *count = 0;
        }
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int ca_store_audit_head(ca_store *s, uint8_t hash[SK_AUDIT_HASH_LEN], uint64_t *count)
{
    audit_head h = {0};
    pthread_mutex_lock(&s->mu);
    int rc = head_read(s->db, &h);
    pthread_mutex_unlock(&s->mu);
    if (rc == SK_OK) {
        memcpy(hash, h.hash, SK_AUDIT_HASH_LEN);
        *count = h.count;
    }
    return rc;
}

int ca_store_counts(ca_store *s, uint64_t *issued, uint64_t *revoked)
{
    sqlite3_stmt *st;
    pthread_mutex_lock(&s->mu);
    int rc = prep(s->db, &st, "SELECT count(*), coalesce(sum(status), 0) FROM certificates");
    if (rc == SK_OK) {
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
            *issued = (uint64_t)sqlite3_column_int64(st, 0);
            *revoked = (uint64_t)sqlite3_column_int64(st, 1);
        }
        rc = finish(st, step);
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int ca_store_revocations_since(ca_store *s, ca_revocation **out, size_t *count,
                               const uint8_t ra_pub[CA_RA_KEY_LEN], uint64_t since, size_t max)
{
    *out = NULL;
    *count = 0;
    if (max == 0 || since > (uint64_t)INT64_MAX)
        return SK_ERR_ARG;
    ca_revocation *v = calloc(max, sizeof *v);
    if (v == NULL)
        return SK_ERR_NOMEM;
    size_t n = 0;
    sqlite3_stmt *st;
    pthread_mutex_lock(&s->mu);
    int rc = prep(s->db, &st,
                  "SELECT revocation_seq, serial, revoked_at, reason, revoked_by, person_id,"
                  " profile FROM certificates WHERE ra_pub = ?1 AND status = 1"
                  " AND revocation_seq > ?2 ORDER BY revocation_seq LIMIT ?3");
    if (rc == SK_OK) {
        sqlite3_bind_blob(st, 1, ra_pub, CA_RA_KEY_LEN, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)since);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)max);
        int step;
        while ((step = sqlite3_step(st)) == SQLITE_ROW && n < max) {
            ca_revocation *r = &v[n];
            const char *hex = (const char *)sqlite3_column_text(st, 1);
            const char *person = (const char *)sqlite3_column_text(st, 5);
            if (sqlite3_column_int64(st, 0) <= 0 || hex == NULL ||
                sk_serial_from_hex(&r->serial, hex) != SK_OK) {
                step = SQLITE_CORRUPT;
                break;
            }
            r->seq = (uint64_t)sqlite3_column_int64(st, 0);
            r->revocation_time = sqlite3_column_int64(st, 2);
            r->reason = (sk_crl_reason)sqlite3_column_int(st, 3);
            r->by_ra = sqlite3_column_bytes(st, 4) == CA_RA_KEY_LEN &&
                       memcmp(sqlite3_column_blob(st, 4), ra_pub, CA_RA_KEY_LEN) == 0;
            snprintf(r->person_id, sizeof r->person_id, "%s", person ? person : "");
            r->profile = (sk_cert_profile)sqlite3_column_int(st, 6);
            n++;
        }
        rc = finish(st, step);
    }
    pthread_mutex_unlock(&s->mu);
    if (rc != SK_OK) {
        free(v);
        return rc;
    }
    *out = v;
    *count = n;
    return SK_OK;
}
