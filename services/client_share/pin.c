/* SPDX-License-Identifier: Apache-2.0 */
/* pin.c - the PIN from a file or from the terminal without echo. */
#define _POSIX_C_SOURCE 200809L
#include "pin.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sodium.h>
#include <termios.h>
#include <unistd.h>

#include "splitkey/splitkey.h"
#include "svc_error.h"

void pin_wipe(cu_pin *pin)
{
    sk_wipe(pin, sizeof *pin);
}

/* Reads at most cap bytes from fd up to the first newline (not stored).
 * Returns the number of bytes, or -1 on a read error or an overlong line. */
static long read_line(int fd, uint8_t *buf, size_t cap)
{
    size_t n = 0;
    for (;;) {
        uint8_t c;
        ssize_t r = read(fd, &c, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0 || c == '\n')
            break;
        if (n == cap) {
            c = 0;
            return -1;
        }
        buf[n++] = c;
        c = 0;
    }
    if (n > 0 && buf[n - 1] == '\r')
        buf[--n] = 0;
    return (long)n;
}

static int from_file(cu_pin *pin, const char *path, char *err, size_t err_len)
{
    int fd = strcmp(path, "-") == 0 ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, err_len, "--pin-file %s: %s", path, strerror(errno));
        return errno == ENOENT ? SK_ERR_NOT_FOUND : SK_SVC_ERR_IO;
    }
    long n = read_line(fd, pin->digits, sizeof pin->digits);
    if (fd != STDIN_FILENO)
        close(fd);
    if (n < 0) {
        snprintf(err, err_len, "--pin-file %s: cannot read a PIN (one line of digits)", path);
        return SK_ERR_ARG;
    }
    pin->len = (size_t)n;
    return SK_OK;
}

static int from_tty(cu_pin *pin, const char *prompt, char *err, size_t err_len)
{
    int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        snprintf(err, err_len, "no PIN: give --pin-file FILE (there is no terminal to ask)");
        return SK_ERR_ARG;
    }
    struct termios old, quiet;
    int have_tty = tcgetattr(fd, &old) == 0;
    if (have_tty) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
        quiet.c_lflag |= ICANON;
        (void)tcsetattr(fd, TCSAFLUSH, &quiet);
    }
    ssize_t w = write(fd, prompt, strlen(prompt));
    (void)w;
    long n = read_line(fd, pin->digits, sizeof pin->digits);
    if (have_tty)
        (void)tcsetattr(fd, TCSAFLUSH, &old);
    w = write(fd, "\n", 1);
    (void)w;
    close(fd);
    if (n < 0) {
        snprintf(err, err_len, "cannot read the PIN from the terminal");
        return SK_ERR_ARG;
    }
    pin->len = (size_t)n;
    return SK_OK;
}

int pin_read(cu_pin *pin, sk_purpose purpose, const char *path, const char *prompt, char *err,
             size_t err_len)
{
    pin_wipe(pin);
    int rc = path != NULL ? from_file(pin, path, err, err_len) : from_tty(pin, prompt, err, err_len);
    if (rc == SK_OK && sk_pin_check(purpose, pin->digits, pin->len) != SK_OK) {
        snprintf(err, err_len, "the PIN must be %u to %u digits for a%s key",
                 purpose == SK_PURPOSE_SIGN   ? SK_PIN_MIN_SIGN
                 : purpose == SK_PURPOSE_SEAL ? SK_PIN_MIN_SEAL
                                              : SK_PIN_MIN_AUTH,
                 SK_PIN_MAX,
                 purpose == SK_PURPOSE_SIGN   ? " signing"
                 : purpose == SK_PURPOSE_SEAL ? " seal"
                                              : "n authentication");
        rc = SK_ERR_ARG;
    }
    if (rc != SK_OK)
        pin_wipe(pin);
    return rc;
}

int token_read(char *out, size_t cap, const char *path, char *err, size_t err_len)
{
    int fd = strcmp(path, "-") == 0 ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, err_len, "--token-file %s: %s", path, strerror(errno));
        return errno == ENOENT ? SK_ERR_NOT_FOUND : SK_SVC_ERR_IO;
    }
    long n = read_line(fd, (uint8_t *)out, cap);
    if (fd != STDIN_FILENO)
        close(fd);
    if (n <= 0) {
        sodium_memzero(out, cap);
        snprintf(err, err_len, "--token-file %s: cannot read a token (one line)", path);
        return SK_ERR_ARG;
    }
    return SK_OK;
}
