/* SPDX-License-Identifier: Apache-2.0 */
/* signals.c - a self-pipe for SIGTERM/SIGINT (and SIGHUP on request). */
#define _POSIX_C_SOURCE 200809L
#include "signals.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "splitkey/splitkey.h"
#include "svc_error.h"

static int sig_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
    int saved = errno;
    unsigned char b = (unsigned char)sig;
    /* async-signal-safe; a full pipe already holds a wake-up */
    ssize_t w = write(sig_pipe[1], &b, 1);
    (void)w;
    errno = saved;
}

static int set_flags(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    int fd_fl = fcntl(fd, F_GETFD);
    if (fl < 0 || fd_fl < 0)
        return -1;
    if (fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, fd_fl | FD_CLOEXEC) < 0)
        return -1;
    return 0;
}

int sk_signals_install(void)
{
    if (sig_pipe[0] < 0) {
        if (pipe(sig_pipe) != 0)
            return SK_SVC_ERR_IO;
        if (set_flags(sig_pipe[0]) != 0 || set_flags(sig_pipe[1]) != 0)
            return SK_SVC_ERR_IO;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGTERM, &sa, NULL) != 0 || sigaction(SIGINT, &sa, NULL) != 0)
        return SK_SVC_ERR_IO;
    sa.sa_handler = SIG_IGN;
    if (sigaction(SIGPIPE, &sa, NULL) != 0)
        return SK_SVC_ERR_IO;
    return SK_OK;
}

int sk_signals_install_reload(void)
{
    if (sig_pipe[0] < 0)
        return SK_SVC_ERR_IO; /* sk_signals_install() first */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    return sigaction(SIGHUP, &sa, NULL) == 0 ? SK_OK : SK_SVC_ERR_IO;
}

int sk_signals_wait(void)
{
    for (;;) {
        struct pollfd p = {.fd = sig_pipe[0], .events = POLLIN};
        int r = poll(&p, 1, -1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        unsigned char b;
        ssize_t n = read(sig_pipe[0], &b, 1);
        if (n == 1)
            return b;
    }
}

void sk_signals_raise(void)
{
    unsigned char b = 0;
    ssize_t w = write(sig_pipe[1], &b, 1);
    (void)w;
}
