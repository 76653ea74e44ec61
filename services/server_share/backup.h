/* SPDX-License-Identifier: Apache-2.0 */
/*
 * backup.h - online backups of the SQLite store, the commit journal and
 * restores (splitkey-server backup / restore; doc/operations.md, "Backup and
 * restore").
 *
 * The commit journal is a file of records, one per committed write
 * transaction of the SQLite store, appended and flushed to disk before the
 * transaction's COMMIT (store_sqlite.c).  A record:
 *
 *   offset  size  field
 *   0       4     magic "SKJ1"
 *   4       8     seq, unsigned big-endian: the store's journal_seq after
 *                 the transaction (store_meta "journal_seq", decimal text)
 *   12      4     len, unsigned big-endian: length of the changeset
 *   16      len   the transaction's changeset (SQLite session extension)
 *   16+len  32    BLAKE2b-256 (crypto_generichash, no key) over
 *                 seq (the 8 bytes above) || changeset
 *
 * Records follow each other with seq increasing by one.  The first record
 * of a journal may be a start mark: len 0, seq = the store's journal_seq
 * when the journal was started; the journal then holds every commit after
 * that seq.  A record that is cut short or fails its checksum at the very
 * end of the file is a write that never completed (its transaction was
 * never committed) and is ignored; anywhere else it is damage.
 */
#ifndef SK_BACKUP_H
#define SK_BACKUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define SK_JOURNAL_MAGIC "SKJ1"
#define SK_JOURNAL_HEAD 16u
#define SK_JOURNAL_HASH 32u
#define SK_JOURNAL_MAX (256u * 1024u * 1024u) /* longest changeset accepted */

/* The header and the checksum of a record around a changeset of len bytes. */
void sk_journal_frame(uint8_t head[SK_JOURNAL_HEAD], uint8_t hash[SK_JOURNAL_HASH], int64_t seq,
                      const uint8_t *changeset, size_t len);

/* Where a scan of a journal stands.  Zero it before the first scan; a later
 * scan continues from end. */
typedef struct sk_journal_pos {
    bool any;          /* at least one good record */
    int64_t base;      /* the journal holds the commits after base */
    int64_t last_seq;  /* seq of the last good record */
    off_t last_start;  /* its offset */
    off_t end;         /* the offset after it */
    uint64_t records;  /* good records seen by the scans (start mark included) */
    bool torn;         /* bytes after end that are no whole record */
    off_t size;        /* the file's size at the scan */
} sk_journal_pos;

/* Called for each good record; a non-zero return stops the scan with it. */
typedef int (*sk_journal_visit)(void *arg, int64_t seq, const uint8_t *changeset, size_t len);

/* Reads the records from pos->end to the end of the file, checks magic,
 * checksum and order, and calls visit (may be NULL) for each.  A torn tail
 * sets pos->torn and leaves pos->end before it.  Returns SK_OK, the
 * visitor's error, SK_ERR_STORE for damage (described in err) or
 * SK_ERR_NOMEM. */
int sk_journal_scan(int fd, sk_journal_pos *pos, sk_journal_visit visit, void *arg, char *err,
                    size_t err_len);

/* Writes all of buf at offset off. */
int sk_journal_pwrite(int fd, const uint8_t *buf, size_t len, off_t off);

/* DIR/run.lock: run holds a shared lock on it for its lifetime, restore an
 * exclusive one; neither waits.  *fd is the open, locked file (close it to
 * release).  SK_OK, SK_ERR_STORE_BUSY when the other kind holds it (err says
 * so), or SK_ERR_STORE. */
int sk_run_lock(const char *dir, bool exclusive, int *fd, char *err, size_t err_len);

/* splitkey-server backup: an online, consistent copy of the SQLite database
 * db_path into `to` (written to to.tmp, flushed, then linked into place; an
 * existing `to` is never overwritten).  The copy is checked (quick_check)
 * and must be the store DIR/store.id names.  Prints the copy's journal seq
 * and row counts to out.  SK_OK, or an error with err set. */
int sk_backup_run(const char *db_path, const char *dir, const char *to, FILE *out, char *err,
                  size_t err_len);

/* splitkey-server restore: replaces db_path with the backup `from` and,
 * when journal is non-NULL, every journal record after the backup's seq;
 * without a journal the restored store gets store_meta "restored_at" (Unix
 * seconds, decimal).  Requires the exclusive run lock of DIR.  Nothing
 * changes on any error.  Prints a report to out.  SK_OK, or an error with
 * err set (SK_ERR_STORE_BUSY: a server runs on DIR). */
int sk_restore_run(const char *db_path, const char *dir, const char *from, const char *journal,
                   FILE *out, char *err, size_t err_len);

#endif
