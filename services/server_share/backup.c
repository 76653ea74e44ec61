/* SPDX-License-Identifier: Apache-2.0 */
/*
 * backup.c - online backups of the SQLite store, the commit journal's file
 * format, and restores (backup.h).
 */
#define _POSIX_C_SOURCE 200809L
#define SQLITE_ENABLE_SESSION 1
#define SQLITE_ENABLE_PREUPDATE_HOOK 1
#include "backup.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "fileio.h"
#include "splitkey/splitkey.h"
#include "store_backend.h"
#include "store.h"
#include "storebind.h"

#define ID_LEN 16
#define BUSY_TIMEOUT_MS 5000

/* ----------------------------------------------------- the record format */

static void put_be(uint8_t *p, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

static uint64_t get_be(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

static void record_hash(uint8_t out[SK_JOURNAL_HASH], const uint8_t seq_be[8],
                        const uint8_t *changeset, size_t len)
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, SK_JOURNAL_HASH);
    crypto_generichash_update(&st, seq_be, 8);
    if (len > 0)
        crypto_generichash_update(&st, changeset, len);
    crypto_generichash_final(&st, out, SK_JOURNAL_HASH);
}

void sk_journal_frame(uint8_t head[SK_JOURNAL_HEAD], uint8_t hash[SK_JOURNAL_HASH], int64_t seq,
                      const uint8_t *changeset, size_t len)
{
    memcpy(head, SK_JOURNAL_MAGIC, 4);
    put_be(head + 4, (uint64_t)seq, 8);
    put_be(head + 12, (uint64_t)len, 4);
    record_hash(hash, head + 4, changeset, len);
}

int sk_journal_pwrite(int fd, const uint8_t *buf, size_t len, off_t off)
{
    while (len > 0) {
        ssize_t n = pwrite(fd, buf, len, off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return SK_ERR_STORE;
        buf += n;
        len -= (size_t)n;
        off += n;
    }
    return SK_OK;
}

/* Reads up to len bytes at off; the count read (short only at the end). */
static ssize_t pread_full(int fd, uint8_t *buf, size_t len, off_t off)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = pread(fd, buf + got, len - got, off + (off_t)got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

enum { REC_OK, REC_TORN, REC_BAD, REC_IOERR, REC_NOMEM };

/* One record at off into *buf (grown as needed): REC_OK; REC_TORN when it
 * does not fit in the file or has no magic; REC_BAD when it is whole but
 * fails its checksum (*rec_end is where it ends). */
static int read_record(int fd, off_t off, off_t size, uint8_t **buf, size_t *cap, int64_t *seq,
                       size_t *len, off_t *rec_end)
{
    uint8_t head[SK_JOURNAL_HEAD];
    if (size - off < (off_t)SK_JOURNAL_HEAD)
        return REC_TORN;
    ssize_t n = pread_full(fd, head, sizeof head, off);
    if (n < 0)
        return REC_IOERR;
    if (n < (ssize_t)sizeof head || memcmp(head, SK_JOURNAL_MAGIC, 4) != 0)
        return REC_TORN;
    uint64_t s = get_be(head + 4, 8);
    uint64_t l = get_be(head + 12, 4);
    if (s > (uint64_t)INT64_MAX || l > SK_JOURNAL_MAX)
        return REC_TORN;
    size_t total = SK_JOURNAL_HEAD + (size_t)l + SK_JOURNAL_HASH;
    if (size - off < (off_t)total)
        return REC_TORN;
    if (*cap < total) {
        uint8_t *nb = malloc(total);
        if (nb == NULL)
            return REC_NOMEM;
        if (*buf != NULL) {
            sodium_memzero(*buf, *cap);
            free(*buf);
        }
        *buf = nb;
        *cap = total;
    }
    n = pread_full(fd, *buf, total, off);
    if (n < 0)
        return REC_IOERR;
    if (n < (ssize_t)total)
        return REC_TORN;
    uint8_t want[SK_JOURNAL_HASH];
    record_hash(want, *buf + 4, *buf + SK_JOURNAL_HEAD, (size_t)l);
    *rec_end = off + (off_t)total;
    if (sodium_memcmp(want, *buf + SK_JOURNAL_HEAD + l, SK_JOURNAL_HASH) != 0)
        return REC_BAD;
    *seq = (int64_t)s;
    *len = (size_t)l;
    return REC_OK;
}

/* Whether a whole, good record starts anywhere in [from, size): a damaged
 * record followed by good ones is damage in the middle, not a torn tail. */
static bool good_record_after(int fd, off_t from, off_t size)
{
    enum { CHUNK = 65536 };
    uint8_t *chunk = malloc(CHUNK);
    uint8_t *buf = NULL;
    size_t cap = 0;
    bool found = false;
    if (chunk == NULL)
        return true; /* cannot tell: call it damage */
    for (off_t at = from; !found && at < size;) {
        ssize_t n = pread_full(fd, chunk, CHUNK, at);
        if (n < 4)
            break;
        for (ssize_t i = 0; i + 4 <= n && !found; i++) {
            if (memcmp(chunk + i, SK_JOURNAL_MAGIC, 4) != 0)
                continue;
            int64_t seq;
            size_t len;
            off_t end;
            int r = read_record(fd, at + i, size, &buf, &cap, &seq, &len, &end);
            found = r == REC_OK || r == REC_IOERR || r == REC_NOMEM;
        }
        at += n - 3; /* a magic across the chunk border */
        if (n < CHUNK)
            break;
    }
    if (buf != NULL) {
        sodium_memzero(buf, cap);
        free(buf);
    }
    free(chunk);
    return found;
}

int sk_journal_scan(int fd, sk_journal_pos *pos, sk_journal_visit visit, void *arg, char *err,
                    size_t err_len)
{
    struct stat st;
    if (fstat(fd, &st) != 0) {
        snprintf(err, err_len, "cannot read the journal: %s", strerror(errno));
        return SK_ERR_STORE;
    }
    pos->size = st.st_size;
    pos->torn = false;
    uint8_t *buf = NULL;
    size_t cap = 0;
    int rc = SK_OK;
    off_t p = pos->end;
    while (p < pos->size) {
        int64_t seq = 0;
        size_t len = 0;
        off_t rec_end = 0;
        int r = read_record(fd, p, pos->size, &buf, &cap, &seq, &len, &rec_end);
        if (r == REC_NOMEM) {
            rc = SK_ERR_NOMEM;
            break;
        }
        if (r == REC_IOERR) {
            snprintf(err, err_len, "cannot read the journal: %s", strerror(errno));
            rc = SK_ERR_STORE;
            break;
        }
        if (r != REC_OK) {
            bool at_end = r == REC_TORN || rec_end == pos->size;
            if (at_end && !good_record_after(fd, p + 1, pos->size)) {
                pos->torn = true;
                break;
            }
            snprintf(err, err_len,
                     "the journal is damaged: the record at offset %jd fails its %s, and good "
                     "records follow it",
                     (intmax_t)p, r == REC_BAD ? "checksum" : "framing");
            rc = SK_ERR_STORE;
            break;
        }
        if (pos->any && (len == 0 || seq != pos->last_seq + 1)) {
            snprintf(err, err_len,
                     "the journal is out of order: the record at offset %jd has seq %" PRId64
                     "%s after seq %" PRId64,
                     (intmax_t)p, seq, len == 0 ? " (a start mark)" : "", pos->last_seq);
            rc = SK_ERR_STORE;
            break;
        }
        if (visit != NULL) {
            rc = visit(arg, seq, buf + SK_JOURNAL_HEAD, len);
            if (rc != SK_OK)
                break;
        }
        if (!pos->any)
            pos->base = len == 0 ? seq : seq - 1;
        pos->any = true;
        pos->last_seq = seq;
        pos->last_start = p;
        pos->records++;
        p = rec_end;
        pos->end = p;
    }
    if (buf != NULL) {
        sodium_memzero(buf, cap);
        free(buf);
    }
    return rc;
}

/* ---------------------------------------------------------------- locks */

int sk_run_lock(const char *dir, bool exclusive, int *fd, char *err, size_t err_len)
{
    *fd = -1;
    char *path = sk_path_join(dir, "run.lock");
    if (path == NULL)
        return SK_ERR_NOMEM;
    int f = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (f < 0) {
        snprintf(err, err_len, "%s: %s", path, strerror(errno));
        free(path);
        return SK_ERR_STORE;
    }
    struct flock fl = {.l_type = exclusive ? F_WRLCK : F_RDLCK, .l_whence = SEEK_SET};
    if (fcntl(f, F_SETLK, &fl) != 0) {
        int e = errno;
        close(f);
        if (e == EAGAIN || e == EACCES) {
            if (exclusive)
                snprintf(err, err_len,
                         "a server runs on %s (it holds %s): stop every splitkey-server using "
                         "this directory first",
                         dir, path);
            else
                snprintf(err, err_len,
                         "a restore is in progress on %s (it holds %s): wait for it to end", dir,
                         path);
            free(path);
            return SK_ERR_STORE_BUSY;
        }
        snprintf(err, err_len, "%s: cannot lock: %s", path, strerror(e));
        free(path);
        return SK_ERR_STORE;
    }
    free(path);
    *fd = f;
    return SK_OK;
}

/* ------------------------------------------------------------- helpers */

static int fsync_path(const char *path, bool dir)
{
    int fd = open(path, (dir ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
    if (fd < 0)
        return SK_ERR_STORE;
    int rc = fsync(fd) == 0 ? SK_OK : SK_ERR_STORE;
    close(fd);
    return rc;
}

/* fsync of the directory that holds path */
static int fsync_parent(const char *path)
{
    char *copy = strdup(path);
    if (copy == NULL)
        return SK_ERR_NOMEM;
    char *slash = strrchr(copy, '/');
    const char *dir = ".";
    if (slash == copy)
        dir = "/";
    else if (slash != NULL) {
        *slash = '\0';
        dir = copy;
    }
    int rc = fsync_path(dir, true);
    free(copy);
    return rc;
}

static char *concat(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *s = malloc(la + lb + 1);
    if (s != NULL) {
        memcpy(s, a, la);
        memcpy(s + la, b, lb + 1);
    }
    return s;
}

static int db_open(sqlite3 **db, const char *path, int flags, char *err, size_t err_len)
{
    *db = NULL;
    int rc = sqlite3_open_v2(path, db, flags, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, err_len, "%s: cannot open: %s", path,
                 *db ? sqlite3_errmsg(*db) : sqlite3_errstr(rc));
        sqlite3_close(*db);
        *db = NULL;
        return SK_ERR_STORE;
    }
    sqlite3_extended_result_codes(*db, 1);
    sqlite3_busy_timeout(*db, BUSY_TIMEOUT_MS);
    return SK_OK;
}

static int db_exec(sqlite3 *db, const char *sql, const char *what, char *err, size_t err_len)
{
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK)
        return SK_OK;
    snprintf(err, err_len, "%s: %s", what, sqlite3_errmsg(db));
    return SK_ERR_STORE;
}

/* PRAGMA quick_check: SK_OK or the first problems in err. */
static int db_check(sqlite3 *db, const char *name, char *err, size_t err_len)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "PRAGMA quick_check(4)", -1, &st, NULL) != SQLITE_OK) {
        snprintf(err, err_len, "%s: not a usable database: %s", name, sqlite3_errmsg(db));
        return SK_ERR_STORE;
    }
    bool ok = false;
    char what[256] = "";
    size_t used = 0;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        if (t != NULL && strcmp(t, "ok") == 0) {
            ok = true;
        } else if (t != NULL && used < sizeof what) {
            int n = snprintf(what + used, sizeof what - used, "%s%s", used ? "; " : "", t);
            used += n > 0 ? (size_t)n : 0;
        }
    }
    if (step != SQLITE_DONE) {
        snprintf(err, err_len, "%s: not a usable database: %s", name, sqlite3_errmsg(db));
        sqlite3_finalize(st);
        return SK_ERR_STORE;
    }
    sqlite3_finalize(st);
    if (!ok) {
        snprintf(err, err_len, "%s fails its consistency check: %s", name, what);
        return SK_ERR_STORE;
    }
    return SK_OK;
}

/* A store_meta value; *len 0 and SK_ERR_NOT_FOUND when absent. */
static int meta_read(sqlite3 *db, const char *name, uint8_t *v, size_t cap, size_t *len)
{
    sqlite3_stmt *st;
    *len = 0;
    if (sqlite3_prepare_v2(db, "SELECT value FROM store_meta WHERE name = ?1", -1, &st, NULL) !=
        SQLITE_OK)
        return SK_ERR_STORE;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    int rc = SK_ERR_NOT_FOUND;
    if (step == SQLITE_ROW) {
        size_t n = (size_t)sqlite3_column_bytes(st, 0);
        if (n > cap) {
            rc = SK_ERR_STORE;
        } else {
            if (n > 0)
                memcpy(v, sqlite3_column_blob(st, 0), n);
            *len = n;
            rc = SK_OK;
        }
    } else if (step != SQLITE_DONE) {
        rc = SK_ERR_STORE;
    }
    sqlite3_finalize(st);
    return rc;
}

static int meta_write(sqlite3 *db, const char *name, const uint8_t *v, size_t len)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO store_meta (name, value) VALUES (?1, ?2)"
                           " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                           -1, &st, NULL) != SQLITE_OK)
        return SK_ERR_STORE;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, v, (int)len, SQLITE_STATIC);
    int step = sqlite3_step(st);
    sqlite3_finalize(st);
    return step == SQLITE_DONE ? SK_OK : SK_ERR_STORE;
}

/* The store's journal_seq (0 when it has none). */
static int journal_seq_of(sqlite3 *db, int64_t *seq)
{
    uint8_t v[24];
    size_t len = 0;
    *seq = 0;
    int rc = meta_read(db, "journal_seq", v, sizeof v, &len);
    if (rc == SK_ERR_NOT_FOUND)
        return SK_OK;
    if (rc != SK_OK)
        return SK_ERR_STORE;
    return sk_store_meta_decimal(v, len, seq);
}

static int schema_version_of(sqlite3 *db, int *version)
{
    sqlite3_stmt *st;
    *version = -1;
    if (sqlite3_prepare_v2(db, "SELECT version FROM schema_version", -1, &st, NULL) != SQLITE_OK)
        return SK_ERR_STORE;
    if (sqlite3_step(st) == SQLITE_ROW)
        *version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return *version >= 0 ? SK_OK : SK_ERR_STORE;
}

static int64_t count_of(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    int64_t n = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

/* The store id in the database against DIR/store.id. */
static int check_store_id(sqlite3 *db, const char *name, const char *dir, char *err,
                          size_t err_len)
{
    uint8_t stored[ID_LEN], filed[ID_LEN];
    size_t len = 0;
    int rc = meta_read(db, "store_id", stored, sizeof stored, &len);
    if (rc != SK_OK || len != ID_LEN) {
        snprintf(err, err_len, "%s has no store id: not a share server's store", name);
        return SK_ERR_STORE;
    }
    rc = sk_store_id_file_read(dir, filed);
    if (rc == SK_ERR_NOT_FOUND) {
        fprintf(stderr, "notice: %s/store.id does not exist: the server adopts this store at "
                        "its next start\n",
                dir);
        return SK_OK;
    }
    if (rc != SK_OK) {
        snprintf(err, err_len, "%s/store.id: not a store id", dir);
        return SK_ERR_STORE;
    }
    if (sodium_memcmp(stored, filed, ID_LEN) != 0) {
        snprintf(err, err_len,
                 "%s is not the store %s/store.id names (another deployment's database?)", name,
                 dir);
        return SK_ERR_STORE;
    }
    return SK_OK;
}

/* Copies every page of src into dst in one step (one consistent read of
 * src; in WAL mode writers go on meanwhile). */
static int copy_pages(sqlite3 *dst, sqlite3 *src, char *err, size_t err_len)
{
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
    if (b == NULL) {
        snprintf(err, err_len, "cannot start the copy: %s", sqlite3_errmsg(dst));
        return SK_ERR_STORE;
    }
    int rc;
    for (int tries = 0;; tries++) {
        rc = sqlite3_backup_step(b, -1);
        if ((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED)
            break;
        if (tries >= 200)
            break;
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    int frc = sqlite3_backup_finish(b);
    if (rc != SQLITE_DONE || frc != SQLITE_OK) {
        snprintf(err, err_len, "the copy failed: %s",
                 sqlite3_errstr(rc != SQLITE_DONE ? rc : frc));
        return SK_ERR_STORE;
    }
    return SK_OK;
}

static void print_counts(FILE *out, sqlite3 *db)
{
    static const struct {
        const char *name, *sql;
    } rows[] = {
        {"keys", "SELECT count(*) FROM keys"},
        {"  active", "SELECT count(*) FROM keys WHERE state = 3"},
        {"  destroyed", "SELECT count(*) FROM keys WHERE state = 5"},
        {"sessions", "SELECT count(*) FROM sessions"},
        {"cached replies", "SELECT count(*) FROM reply_cache"},
        {"used tokens", "SELECT count(*) FROM used_tokens"},
        {"pooled server keys", "SELECT count(*) FROM server_key_pool"},
        {"events", "SELECT count(*) FROM events"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        fprintf(out, "  %-20s %" PRId64 "\n", rows[i].name, count_of(db, rows[i].sql));
}

/* --------------------------------------------------------------- backup */

int sk_backup_run(const char *db_path, const char *dir, const char *to, FILE *out, char *err,
                  size_t err_len)
{
    sqlite3 *src = NULL, *dst = NULL;
    char *tmp = concat(to, ".tmp");
    bool made_tmp = false;
    int rc = SK_OK;
    int64_t seq = 0;
    if (tmp == NULL)
        return SK_ERR_NOMEM;
    if (sk_path_exists(to)) {
        snprintf(err, err_len, "%s exists: a backup never overwrites a file", to);
        rc = SK_ERR_STORE;
        goto out;
    }
    if (!sk_path_exists(db_path)) {
        snprintf(err, err_len, "%s: no such database", db_path);
        rc = SK_ERR_STORE;
        goto out;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, err_len, "%s: %s%s", tmp, strerror(errno),
                 errno == EEXIST ? " (another backup running, or one that failed: remove it)"
                                 : "");
        rc = SK_ERR_STORE;
        goto out;
    }
    close(fd);
    made_tmp = true;
    rc = db_open(&src, db_path, SQLITE_OPEN_READWRITE, err, err_len);
    if (rc == SK_OK)
        rc = db_open(&dst, tmp, SQLITE_OPEN_READWRITE, err, err_len);
    if (rc == SK_OK)
        rc = copy_pages(dst, src, err, err_len);
    sqlite3_close(src);
    src = NULL;
    /* the copy is one self-contained file */
    if (rc == SK_OK)
        rc = db_exec(dst, "PRAGMA journal_mode=DELETE", "the copy", err, err_len);
    if (rc == SK_OK)
        rc = db_check(dst, "the copy", err, err_len);
    if (rc == SK_OK)
        rc = check_store_id(dst, db_path, dir, err, err_len);
    if (rc == SK_OK && journal_seq_of(dst, &seq) != SK_OK) {
        snprintf(err, err_len, "the copy's journal_seq is malformed");
        rc = SK_ERR_STORE;
    }
    if (rc != SK_OK)
        goto out;
    if (fsync_path(tmp, false) != SK_OK) {
        snprintf(err, err_len, "%s: cannot be flushed to disk", tmp);
        rc = SK_ERR_STORE;
        goto out;
    }
    /* link, not rename: a file that appeared meanwhile is not replaced */
    if (link(tmp, to) != 0) {
        snprintf(err, err_len, "%s: %s", to, strerror(errno));
        rc = SK_ERR_STORE;
        goto out;
    }
    unlink(tmp);
    made_tmp = false;
    if (fsync_parent(to) != SK_OK) {
        snprintf(err, err_len, "%s: its directory cannot be flushed to disk", to);
        rc = SK_ERR_STORE;
        goto out;
    }
    fprintf(out, "backup %s of %s\n  journal seq          %" PRId64 "\n", to, db_path, seq);
    print_counts(out, dst);
out:
    sqlite3_close(src);
    sqlite3_close(dst);
    if (made_tmp)
        unlink(tmp);
    free(tmp);
    return rc;
}

/* -------------------------------------------------------------- restore */

struct replay {
    sqlite3 *db;
    int64_t backup_seq;
    uint64_t applied;
    bool started;
    char conflict_table[64];
    int conflict;
    char *err;
    size_t err_len;
};

static int on_conflict(void *arg, int kind, sqlite3_changeset_iter *it)
{
    struct replay *r = arg;
    const char *tab = NULL;
    int ncol = 0, op = 0, indirect = 0;
    r->conflict = kind;
    if (sqlite3changeset_op(it, &tab, &ncol, &op, &indirect) == SQLITE_OK && tab != NULL)
        snprintf(r->conflict_table, sizeof r->conflict_table, "%s", tab);
    return SQLITE_CHANGESET_ABORT;
}

/* Every table the changeset touches exists in the database with at least
 * its columns and the same primary key (sqlite3changeset_apply would skip a
 * table that differs, silently).  More columns are fine: a record written
 * before a migration that added a column applies to the migrated table as
 * the row it changed was migrated (the column's default). */
static int check_tables(struct replay *r, int64_t seq, const uint8_t *cs, size_t len)
{
    sqlite3_changeset_iter *it = NULL;
    char seen[16][64];
    int nseen = 0, rc = SK_OK;
    if (sqlite3changeset_start(&it, (int)len, (void *)(uintptr_t)cs) != SQLITE_OK) {
        snprintf(r->err, r->err_len, "journal record %" PRId64 ": not a changeset", seq);
        return SK_ERR_STORE;
    }
    while (rc == SK_OK && sqlite3changeset_next(it) == SQLITE_ROW) {
        const char *tab = NULL;
        int ncol = 0, op = 0, indirect = 0, npk = 0;
        unsigned char *pk = NULL;
        if (sqlite3changeset_op(it, &tab, &ncol, &op, &indirect) != SQLITE_OK ||
            sqlite3changeset_pk(it, &pk, &npk) != SQLITE_OK || tab == NULL) {
            rc = SK_ERR_STORE;
            snprintf(r->err, r->err_len, "journal record %" PRId64 ": a malformed change", seq);
            break;
        }
        bool known = false;
        for (int i = 0; i < nseen && !known; i++)
            known = strcmp(seen[i], tab) == 0;
        if (known)
            continue;
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(r->db, "SELECT pk FROM pragma_table_info(?1) ORDER BY cid", -1,
                               &st, NULL) != SQLITE_OK) {
            snprintf(r->err, r->err_len, "cannot read the schema: %s", sqlite3_errmsg(r->db));
            rc = SK_ERR_STORE;
            break;
        }
        sqlite3_bind_text(st, 1, tab, -1, SQLITE_TRANSIENT);
        int cols = 0;
        bool same = true;
        while (sqlite3_step(st) == SQLITE_ROW) {
            bool is_pk = sqlite3_column_int(st, 0) > 0;
            if (cols < ncol ? is_pk != (pk[cols] != 0) : is_pk)
                same = false;
            cols++;
        }
        sqlite3_finalize(st);
        if (!same || cols < ncol) {
            snprintf(r->err, r->err_len,
                     "journal record %" PRId64 " changes table %s with %d columns, but the "
                     "restored table has %d (or another primary key): the record is from a "
                     "newer schema than this program's",
                     seq, tab, ncol, cols);
            rc = SK_ERR_STORE;
            break;
        }
        if (nseen < (int)(sizeof seen / sizeof seen[0]) && strlen(tab) < sizeof seen[0])
            snprintf(seen[nseen++], sizeof seen[0], "%s", tab);
    }
    int frc = sqlite3changeset_finalize(it);
    if (rc == SK_OK && frc != SQLITE_OK) {
        snprintf(r->err, r->err_len, "journal record %" PRId64 ": a malformed changeset", seq);
        rc = SK_ERR_STORE;
    }
    return rc;
}

static int replay_visit(void *arg, int64_t seq, const uint8_t *cs, size_t len)
{
    struct replay *r = arg;
    if (!r->started) {
        r->started = true;
        int64_t base = len == 0 ? seq : seq - 1;
        if (base > r->backup_seq) {
            snprintf(r->err, r->err_len,
                     "the journal holds the commits after seq %" PRId64 " only, but the "
                     "backup ends at seq %" PRId64 ": the commits in between are in neither "
                     "(the journal was started after this backup was taken); use a backup "
                     "taken after the journal was started",
                     base, r->backup_seq);
            return SK_ERR_STORE;
        }
    }
    if (seq <= r->backup_seq || len == 0)
        return SK_OK;
    if (len > INT32_MAX) {
        snprintf(r->err, r->err_len, "journal record %" PRId64 ": too long", seq);
        return SK_ERR_STORE;
    }
    int rc = check_tables(r, seq, cs, len);
    if (rc != SK_OK)
        return rc;
    r->conflict = 0;
    int arc = sqlite3changeset_apply(r->db, (int)len, (void *)(uintptr_t)cs, NULL, on_conflict, r);
    if (arc != SQLITE_OK) {
        if (r->conflict != 0)
            snprintf(r->err, r->err_len,
                     "journal record %" PRId64 " does not apply to the backup (conflict %d on "
                     "table %s): the journal and the backup do not belong together",
                     seq, r->conflict, r->conflict_table);
        else
            snprintf(r->err, r->err_len, "journal record %" PRId64 " cannot be applied: %s",
                     seq, sqlite3_errmsg(r->db));
        return SK_ERR_STORE;
    }
    int64_t now_seq = 0;
    if (journal_seq_of(r->db, &now_seq) != SK_OK || now_seq != seq) {
        snprintf(r->err, r->err_len,
                 "journal record %" PRId64 " left the store at seq %" PRId64
                 " (expected the record's own)",
                 seq, now_seq);
        return SK_ERR_STORE;
    }
    r->applied++;
    return SK_OK;
}

/* Whether a process has the database open: SQLite (unix VFS) holds a
 * shared lock on byte 128 of the -shm file (the "DMS" lock of the WAL-index
 * format) for as long as a connection is open.  Servers of another
 * directory on the same database do not hold DIR/run.lock; this catches
 * them.  *pid is the holder. */
static bool db_in_use(const char *db_path, long *pid)
{
    char *shm = concat(db_path, "-shm");
    bool used = false;
    *pid = 0;
    int fd = shm ? open(shm, O_RDONLY | O_CLOEXEC) : -1;
    if (fd >= 0) {
        struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 128, .l_len = 1};
        if (fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK) {
            used = true;
            *pid = (long)fl.l_pid;
        }
        close(fd);
    }
    free(shm);
    return used;
}

static int remove_if_there(const char *path)
{
    if (unlink(path) == 0 || errno == ENOENT)
        return SK_OK;
    return SK_ERR_STORE;
}

int sk_restore_run(const char *db_path, const char *dir, const char *from, const char *journal,
                   FILE *out, char *err, size_t err_len)
{
    int lock_fd = -1, jfd = -1;
    sqlite3 *src = NULL, *db = NULL;
    char *tmp = concat(db_path, ".restore-tmp");
    char *tmp_journal = concat(db_path, ".restore-tmp-journal");
    char *tmp_wal = concat(db_path, ".restore-tmp-wal");
    char *tmp_shm = concat(db_path, ".restore-tmp-shm");
    bool made_tmp = false;
    int64_t backup_seq = 0, final_seq = 0, keys = 0, restored_at = 0;
    sk_journal_pos pos;
    struct replay r = {.err = err, .err_len = err_len};
    memset(&pos, 0, sizeof pos);
    int rc = tmp && tmp_journal && tmp_wal && tmp_shm ? SK_OK : SK_ERR_NOMEM;
    if (rc != SK_OK)
        goto out;

    rc = sk_run_lock(dir, true, &lock_fd, err, err_len);
    if (rc != SK_OK)
        goto out;
    long holder = 0;
    if (db_in_use(db_path, &holder)) {
        snprintf(err, err_len,
                 "%s is open in another process (pid %ld; a server of another directory on "
                 "the same database?): stop it first",
                 db_path, holder);
        rc = SK_ERR_STORE_BUSY;
        goto out;
    }
    if (!sk_path_exists(from)) {
        snprintf(err, err_len, "%s: no such backup", from);
        rc = SK_ERR_STORE;
        goto out;
    }
    if (journal != NULL) {
        jfd = open(journal, O_RDONLY | O_CLOEXEC);
        if (jfd < 0) {
            snprintf(err, err_len, "%s: %s", journal, strerror(errno));
            rc = SK_ERR_STORE;
            goto out;
        }
    }

    /* the backup: in order, this directory's store, a schema this program
     * knows */
    rc = db_open(&src, from, SQLITE_OPEN_READONLY, err, err_len);
    if (rc == SK_OK)
        rc = db_check(src, from, err, err_len);
    if (rc == SK_OK)
        rc = check_store_id(src, from, dir, err, err_len);
    int version = -1;
    if (rc == SK_OK && (schema_version_of(src, &version) != SK_OK ||
                        version > sk_store_schema_latest())) {
        snprintf(err, err_len, "%s: schema version %d is not one this program knows", from,
                 version);
        rc = SK_ERR_STORE;
    }
    if (rc == SK_OK && journal_seq_of(src, &backup_seq) != SK_OK) {
        snprintf(err, err_len, "%s: its journal_seq is malformed", from);
        rc = SK_ERR_STORE;
    }
    if (rc != SK_OK)
        goto out;

    /* a copy beside the database, changed there and renamed over it last */
    if (remove_if_there(tmp) != SK_OK || remove_if_there(tmp_journal) != SK_OK ||
        remove_if_there(tmp_wal) != SK_OK || remove_if_there(tmp_shm) != SK_OK) {
        snprintf(err, err_len, "%s: cannot remove a left-over file: %s", tmp, strerror(errno));
        rc = SK_ERR_STORE;
        goto out;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, err_len, "%s: %s", tmp, strerror(errno));
        rc = SK_ERR_STORE;
        goto out;
    }
    close(fd);
    made_tmp = true;
    rc = db_open(&db, tmp, SQLITE_OPEN_READWRITE, err, err_len);
    if (rc == SK_OK)
        rc = copy_pages(db, src, err, err_len);
    sqlite3_close(src);
    src = NULL;
    sqlite3_close(db);
    db = NULL;
    /* the copy at this program's schema, as the server would migrate it:
     * journal records from after an upgrade then apply, and those from
     * before it too (migrations only add) */
    if (rc == SK_OK) {
        char *uri = concat("sqlite:", tmp);
        sk_store *st = NULL;
        int orc = uri ? sk_store_open(&st, uri) : SK_ERR_NOMEM;
        sk_store_close(st);
        free(uri);
        if (orc != SK_OK) {
            snprintf(err, err_len, "the copy cannot be brought to this program's schema: %s",
                     sk_strerror(orc));
            rc = SK_ERR_STORE;
        }
    }
    if (rc == SK_OK)
        rc = db_open(&db, tmp, SQLITE_OPEN_READWRITE, err, err_len);
    if (rc == SK_OK)
        rc = db_exec(db,
                     "PRAGMA journal_mode=DELETE; PRAGMA synchronous=FULL;"
                     " PRAGMA foreign_keys=ON; BEGIN IMMEDIATE",
                     "the copy", err, err_len);
    if (rc != SK_OK)
        goto out;

    if (journal != NULL) {
        r.db = db;
        r.backup_seq = backup_seq;
        rc = sk_journal_scan(jfd, &pos, replay_visit, &r, err, err_len);
        if (rc != SK_OK)
            goto out;
        if (!pos.any) {
            snprintf(err, err_len,
                     "%s holds no record: it cannot tell which commits followed the backup; "
                     "restore without --journal if this is the journal you have",
                     journal);
            rc = SK_ERR_STORE;
            goto out;
        }
        if (pos.last_seq < backup_seq) {
            snprintf(err, err_len,
                     "%s ends at seq %" PRId64 ", before the backup (seq %" PRId64
                     "): not this store's journal, or an older one",
                     journal, pos.last_seq, backup_seq);
            rc = SK_ERR_STORE;
            goto out;
        }
        if (pos.torn)
            fprintf(stderr,
                    "notice: %s ends in %jd bytes that are no whole record (a write cut short "
                    "by a crash; its transaction was never committed): ignored\n",
                    journal, (intmax_t)(pos.size - pos.end));
    } else {
        char v[24];
        restored_at = (int64_t)time(NULL);
        int n = snprintf(v, sizeof v, "%" PRId64, restored_at);
        if (meta_write(db, "restored_at", (const uint8_t *)v, (size_t)n) != SK_OK) {
            snprintf(err, err_len, "cannot write restored_at: %s", sqlite3_errmsg(db));
            rc = SK_ERR_STORE;
            goto out;
        }
    }
    rc = db_exec(db, "COMMIT", "the restored copy", err, err_len);
    if (rc == SK_OK)
        rc = db_check(db, "the restored copy", err, err_len);
    if (rc == SK_OK && journal_seq_of(db, &final_seq) != SK_OK)
        rc = SK_ERR_STORE;
    if (rc != SK_OK)
        goto out;
    keys = count_of(db, "SELECT count(*) FROM keys");
    sqlite3_close(db);
    db = NULL;
    if (fsync_path(tmp, false) != SK_OK) {
        snprintf(err, err_len, "%s: cannot be flushed to disk", tmp);
        rc = SK_ERR_STORE;
        goto out;
    }

    /* The old database's WAL must not meet the new file: remove it first. */
    char *side[3] = {concat(db_path, "-wal"), concat(db_path, "-shm"),
                     concat(db_path, "-journal")};
    for (int i = 0; i < 3; i++) {
        if (rc == SK_OK && (side[i] == NULL || remove_if_there(side[i]) != SK_OK)) {
            snprintf(err, err_len, "%s: cannot be removed: %s", side[i] ? side[i] : db_path,
                     strerror(errno));
            rc = SK_ERR_STORE;
        }
        free(side[i]);
    }
    if (rc != SK_OK)
        goto out;
    if (rename(tmp, db_path) != 0) {
        snprintf(err, err_len, "%s: cannot be replaced: %s", db_path, strerror(errno));
        rc = SK_ERR_STORE;
        goto out;
    }
    made_tmp = false;
    if (fsync_parent(db_path) != SK_OK) {
        snprintf(err, err_len, "%s: its directory cannot be flushed to disk", db_path);
        rc = SK_ERR_STORE;
        goto out;
    }

    fprintf(out,
            "restored %s from %s\n"
            "  backup seq           %" PRId64 "\n"
            "  records replayed     %" PRIu64 "%s%s\n"
            "  final seq            %" PRId64 "\n"
            "  keys                 %" PRId64 "\n",
            db_path, from, backup_seq, r.applied, journal ? " from " : " (no journal)",
            journal ? journal : "", final_seq, keys);
    if (journal != NULL) {
        fprintf(out, "Every commit the journal holds is restored; start the server with the "
                     "same journal.\n");
    } else {
        fprintf(out,
                "WARNING: without a journal, everything after the backup is lost: keys "
                "enrolled, sessions, PIN-attempt counts, key destructions and revocations made "
                "after the backup point.\n"
                "Keys that signed after the backup point resynchronise at their next request "
                "(once; each resynchronisation is written to the event log).\n"
                "store_meta restored_at = %" PRId64 ".  A journal kept beside this store now "
                "describes commits it no longer has: move it aside before the next start.\n",
                restored_at);
    }
out:
    if (jfd >= 0)
        close(jfd);
    sqlite3_close(src);
    sqlite3_close(db);
    if (made_tmp) {
        unlink(tmp);
        unlink(tmp_journal);
        unlink(tmp_wal);
        unlink(tmp_shm);
    }
    if (lock_fd >= 0)
        close(lock_fd);
    free(tmp);
    free(tmp_journal);
    free(tmp_wal);
    free(tmp_shm);
    return rc;
}
