/* SPDX-License-Identifier: Apache-2.0 */
/* svctest.h - helpers for the service tests: temporary directories, files,
 * and child processes of the real programs. */
#ifndef SK_SVCTEST_H
#define SK_SVCTEST_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Creates a fresh directory under $TMPDIR (or /tmp); exits on failure.
 * The caller frees the string after sv_rmtree(). */
char *sv_tmpdir(const char *tag);
/* Removes a directory tree. */
void sv_rmtree(const char *dir);
/* Joins dir/name into a static-free buffer the caller frees. */
char *sv_path(const char *dir, const char *name);
/* Writes text to path (mode 0600); returns 0 on success. */
int sv_write(const char *path, const char *text);
/* File mode bits (07777) of path, or -1. */
int sv_mode(const char *path);

/* Starts argv[0] with argv, stdout and stderr redirected to the given files
 * (NULL: /dev/null).  Returns the pid or -1. */
pid_t sv_spawn(char *const argv[], const char *out_path, const char *err_path);
/* Waits for pid; returns its exit status, or 128 + signal, or -1. */
int sv_wait(pid_t pid);
/* Runs to completion; returns the exit status as sv_wait. */
int sv_run(char *const argv[], const char *out_path, const char *err_path);

/* 1 if the file at path contains needle. */
int sv_file_contains(const char *path, const char *needle);

/* Sleeps ms milliseconds (for polling, never as a limit). */
void sv_sleep_ms(unsigned ms);

#endif
