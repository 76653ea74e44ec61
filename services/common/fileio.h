/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fileio.h - whole-file reads with a size limit and atomic writes.
 *
 * sk_file_write_atomic() never leaves a half-written file under the final
 * name: it writes a temporary file in the same directory, fsyncs it, renames
 * (or, with SK_FILE_NO_REPLACE, links) it into place and fsyncs the
 * directory.  A crash leaves either the old file or the new one.
 */
#ifndef SK_FILEIO_H
#define SK_FILEIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SK_FILE_NO_REPLACE 0x1u /* fail with SK_SVC_ERR_EXISTS if the file exists */

/* Mode for files that hold secrets (master key, identity keys). */
#define SK_FILE_SECRET_MODE 0600
#define SK_FILE_PUBLIC_MODE 0644

/* Writes len bytes of data to path atomically with the given mode (the
 * umask does not apply).  data may be secret: it is not copied.
 * Returns SK_OK, SK_SVC_ERR_EXISTS (with SK_FILE_NO_REPLACE) or SK_SVC_ERR_IO
 * (errno says why); on failure the final file is unchanged and no temporary
 * file is left behind. */
int sk_file_write_atomic(const char *path, const uint8_t *data, size_t len, mode_t mode,
                         unsigned flags);

#define SK_FILE_SECRET 0x1u /* refuse a file readable or writable by group/others */

/* Reads a whole regular file into a new buffer (with one extra NUL byte after
 * the data, not counted in *len).  Files longer than max_len are refused.
 * With SK_FILE_SECRET the file must have no group or other permission bits.
 * out:  the buffer; release it with sk_file_free(), which wipes it.
 * Returns SK_OK, SK_ERR_NOT_FOUND, SK_ERR_LIMIT, SK_SVC_ERR_PERM or
 * SK_SVC_ERR_IO; on failure *out is NULL and *len is 0. */
int sk_file_read(uint8_t **out, size_t *len, const char *path, size_t max_len, unsigned flags);

/* Wipes and frees a buffer from sk_file_read() (len as returned; NULL ok). */
void sk_file_free(uint8_t *buf, size_t len);

/* 1 if path names an existing directory, else 0. */
int sk_is_dir(const char *path);
/* 1 if path exists (any type), else 0. */
int sk_path_exists(const char *path);

/* Joins dir and name with one '/' into a new string (malloc); NULL on
 * overflow or out of memory. */
char *sk_path_join(const char *dir, const char *name);

#endif
