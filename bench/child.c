/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE /* prctl */
/* child.c - the server processes of splitkey-bench (child.h). */
#include "child.h"

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

void bench_sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000u, .tv_nsec = (long)(ms % 1000u) * 1000000L};
    nanosleep(&ts, NULL);
}

pid_t bench_spawn(const char *dir, const char *bin, char *const *argv, const char *log)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/%s", dir, log);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    /* the child: async-signal-safe calls only until exec */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
        _exit(127);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);
    int null = open("/dev/null", O_RDONLY);
    if (fd < 0 || null < 0 || dup2(null, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
        _exit(127);
    execv(bin, argv);
    _exit(127);
}

int bench_wait_exit(pid_t pid, unsigned timeout_ms)
{
    for (unsigned waited = 0;; waited += 10) {
        int st = 0;
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid)
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        if (r < 0 || waited >= timeout_ms)
            return -1;
        bench_sleep_ms(10);
    }
}

bool bench_child_failed(const char *who, const char *dir, const char *what, const char *log)
{
    fprintf(stderr, "\nsplitkey-bench: %s: %s\n", who, what);
    char path[PATH_MAX + 32], buf[2048];
    snprintf(path, sizeof path, "%s/%s", dir, log);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return false;
    if (fseek(f, 0, SEEK_END) == 0 && ftell(f) > (long)sizeof buf - 1)
        fseek(f, -(long)(sizeof buf - 1), SEEK_END);
    else
        rewind(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    if (n > 0)
        fprintf(stderr, "--- end of %s\n%s%s---\n", log, buf, buf[n - 1] == '\n' ? "" : "\n");
    return false;
}
