/* SPDX-License-Identifier: Apache-2.0 */
/*
 * child.h - the server processes splitkey-bench runs (e2e.c, e2e_store.c):
 * started with their output in a log file of a directory, waited for, and
 * reported with the end of that log when they fail.
 */
#ifndef SK_BENCH_CHILD_H
#define SK_BENCH_CHILD_H

#include <stdbool.h>
#include <sys/types.h>

/* Sleeps ms milliseconds. */
void bench_sleep_ms(unsigned ms);

/* Runs bin with argv, stdin from /dev/null and its output appended to
 * DIR/log (0600); the child dies with the bench (PR_SET_PDEATHSIG).
 * Returns the pid, or -1 when fork fails (an exec failure exits 127). */
pid_t bench_spawn(const char *dir, const char *bin, char *const *argv, const char *log);

/* Waits for pid: its exit status (128 + signal when killed), or -1 after
 * timeout_ms or when it is not a child. */
int bench_wait_exit(pid_t pid, unsigned timeout_ms);

/* Prints "splitkey-bench: WHO: WHAT" and the last lines of DIR/log to
 * stderr.  Returns false, for `return bench_child_failed(...)`. */
bool bench_child_failed(const char *who, const char *dir, const char *what, const char *log);

#endif
