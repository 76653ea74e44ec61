/* SPDX-License-Identifier: Apache-2.0 */
/* fileio.c - atomic writes (temp + fsync + rename) and bounded reads. */
#define _POSIX_C_SOURCE 200809L
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "splitkey/splitkey.h"
#include "svc_error.h"

char *sk_path_join(const char *dir, const char *name)
{
    size_t dl = strlen(dir), nl = strlen(name);
    while (dl > 1 && dir[dl - 1] == '/')
        dl--;
    if (dl > 4096 || nl > 4096)
        return NULL;
    char *p = malloc(dl + 1 + nl + 1);
    if (p == NULL)
        return NULL;
    memcpy(p, dir, dl);
    p[dl] = '/';
    memcpy(p + dl + 1, name, nl + 1);
    return p;
}

/* The directory part of path ("." when it has none), for fsync and mkstemp. */
static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

int sk_file_write_atomic(const char *path, const uint8_t *data, size_t len, mode_t mode,
                         unsigned flags)
{
    if (path == NULL || (data == NULL && len > 0))
        return SK_ERR_ARG;
    int rc = SK_SVC_ERR_IO, saved = 0, fd = -1;
    char *dir = dir_of(path);
    char *tmp = malloc(strlen(path) + 16);
    if (dir == NULL || tmp == NULL) {
        rc = SK_ERR_NOMEM;
        goto out;
    }
    if ((flags & SK_FILE_NO_REPLACE) && sk_path_exists(path)) {
        rc = SK_SVC_ERR_EXISTS;
        goto out;
    }
    sprintf(tmp, "%s.tmp.XXXXXX", path);
    fd = mkstemp(tmp); /* created 0600, O_EXCL */
    if (fd < 0) {
        saved = errno;
        tmp[0] = '\0';
        goto out;
    }
    if (fchmod(fd, mode) != 0)
        goto fail;
    for (size_t off = 0; off < len;) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            goto fail;
        off += (size_t)w;
    }
    if (fsync(fd) != 0)
        goto fail;
    if (close(fd) != 0) {
        fd = -1;
        goto fail;
    }
    fd = -1;
    if (flags & SK_FILE_NO_REPLACE) {
        /* link() fails with EEXIST instead of replacing: no race with a
         * concurrent writer of the same name. */
        if (link(tmp, path) != 0) {
            saved = errno;
            rc = saved == EEXIST ? SK_SVC_ERR_EXISTS : SK_SVC_ERR_IO;
            goto out;
        }
        unlink(tmp);
    } else if (rename(tmp, path) != 0) {
        goto fail;
    }
    tmp[0] = '\0';
    if (fsync_dir(dir) != 0)
        goto fail;
    rc = SK_OK;
    goto out;
fail:
    saved = errno;
out:
    if (fd >= 0)
        close(fd);
    if (tmp != NULL && tmp[0] != '\0')
        unlink(tmp);
    free(tmp);
    free(dir);
    if (saved != 0)
        errno = saved;
    return rc;
}

int sk_file_read(uint8_t **out, size_t *len, const char *path, size_t max_len, unsigned flags)
{
    if (out == NULL || len == NULL || path == NULL)
        return SK_ERR_ARG;
    *out = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return errno == ENOENT ? SK_ERR_NOT_FOUND : SK_SVC_ERR_IO;
    int rc = SK_SVC_ERR_IO, saved = 0;
    uint8_t *buf = NULL;
    size_t size = 0, got = 0;
    struct stat st;
    if (fstat(fd, &st) != 0)
        goto fail;
    if (!S_ISREG(st.st_mode)) {
        saved = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
        goto out;
    }
    if ((flags & SK_FILE_SECRET) && (st.st_mode & 077) != 0) {
        rc = SK_SVC_ERR_PERM;
        goto out;
    }
    if (st.st_size < 0 || (uint64_t)st.st_size > max_len) {
        rc = SK_ERR_LIMIT;
        goto out;
    }
    size = (size_t)st.st_size;
    buf = malloc(size + 1);
    if (buf == NULL) {
        rc = SK_ERR_NOMEM;
        goto out;
    }
    /* Read one byte past the size seen by fstat to notice a file that grew. */
    while (got <= size) {
        ssize_t r = read(fd, buf + got, size + 1 - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            goto fail;
        if (r == 0)
            break;
        got += (size_t)r;
    }
    if (got > size) {
        rc = SK_ERR_LIMIT;
        goto out;
    }
    buf[got] = 0;
    *out = buf;
    *len = got;
    buf = NULL;
    rc = SK_OK;
    goto out;
fail:
    saved = errno;
out:
    if (buf != NULL) {
        sk_wipe(buf, size + 1);
        free(buf);
    }
    close(fd);
    if (saved != 0)
        errno = saved;
    return rc;
}

void sk_file_free(uint8_t *buf, size_t len)
{
    if (buf == NULL)
        return;
    sk_wipe(buf, len + 1);
    free(buf);
}

int sk_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int sk_path_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}
