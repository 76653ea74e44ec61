/* SPDX-License-Identifier: Apache-2.0 */
/* util.c - whole-file I/O, hex (over libsodium) and a monotonic clock for the
 * splitkey tool. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"

uint8_t *util_read_file(const char *path, size_t *len, size_t max)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    size_t used = 0, cap = 0;
    int saved;

    *len = 0;
    if (f == NULL)
        return NULL;
    for (;;) {
        if (cap - used < 2) {
            size_t ncap = cap == 0 ? 8192 : cap * 2;
            uint8_t *nbuf = realloc(buf, ncap);
            if (nbuf == NULL) {
                errno = ENOMEM;
                goto fail;
            }
            buf = nbuf;
            cap = ncap;
        }
        size_t got = fread(buf + used, 1, cap - used - 1, f);
        used += got;
        if (used > max) {
            errno = EFBIG;
            goto fail;
        }
        if (got == 0) {
            if (ferror(f)) {
                errno = errno ? errno : EIO;
                goto fail;
            }
            break;
        }
    }
    fclose(f);
    buf[used] = 0;
    *len = used;
    return buf;

fail:
    saved = errno;
    free(buf);
    fclose(f);
    errno = saved;
    return NULL;
}

int util_write_file(const char *path, const void *data, size_t len)
{
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 16);
    int fd, saved;
    const uint8_t *p = data;

    if (tmp == NULL) {
        errno = ENOMEM;
        return -1;
    }
    snprintf(tmp, plen + 16, "%s.tmp%ld", path, (long)getpid());
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        saved = errno;
        free(tmp);
        errno = saved;
        return -1;
    }
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            goto fail;
        }
        p += n;
        len -= (size_t)n;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        fd = -1;
        goto fail;
    }
    if (rename(tmp, path) != 0) {
        fd = -1;
        goto fail;
    }
    free(tmp);
    return 0;

fail:
    saved = errno;
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    free(tmp);
    errno = saved;
    return -1;
}

int util_check_output(const char *path)
{
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        errno = EISDIR;
        return -1;
    }
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 16);
    if (tmp == NULL) {
        errno = ENOMEM;
        return -1;
    }
    /* the name util_write_file() uses: the same directory, the same rights */
    snprintf(tmp, plen + 16, "%s.tmp%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd < 0) {
        int saved = errno;
        free(tmp);
        errno = saved;
        return -1;
    }
    close(fd);
    unlink(tmp);
    free(tmp);
    return 0;
}

void util_hex(char *out, const uint8_t *in, size_t len)
{
    sodium_bin2hex(out, 2 * len + 1, in, len);
}

uint8_t *util_unhex(const char *hex, size_t *len)
{
    size_t n = strlen(hex), got = 0;
    const char *end = NULL;
    uint8_t *out;

    *len = 0;
    /* Lower case only: sodium_hex2bin also takes A-F. */
    if (n % 2 != 0 || strspn(hex, "0123456789abcdef") != n)
        return NULL;
    out = malloc(n / 2 + 1); /* + 1: a valid pointer for the empty string */
    if (out == NULL)
        return NULL;
    if (sodium_hex2bin(out, n / 2, hex, n, NULL, &got, &end) != 0 || got != n / 2 ||
        end != hex + n) {
        free(out);
        return NULL;
    }
    *len = n / 2;
    return out;
}

double util_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}
