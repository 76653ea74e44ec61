/* SPDX-License-Identifier: Apache-2.0 */
/*
 * signals.h - SIGTERM and SIGINT (and SIGHUP where asked for) turned into
 * an event the main thread waits for (a self-pipe), so that shutdown runs
 * as ordinary code: close the socket, join the workers, close the store.
 */
#ifndef SK_SIGNALS_H
#define SK_SIGNALS_H

/* Installs handlers for SIGTERM and SIGINT and ignores SIGPIPE.
 * Returns SK_OK or SK_SVC_ERR_IO. */
int sk_signals_install(void);

/* Also turns SIGHUP into an event (a program that reloads files on it);
 * without this call SIGHUP keeps its default action.  Call after
 * sk_signals_install().  Returns SK_OK or SK_SVC_ERR_IO. */
int sk_signals_install_reload(void);

/* Blocks until SIGTERM or SIGINT (or SIGHUP, after
 * sk_signals_install_reload()) arrives (or sk_signals_raise() is called);
 * returns the signal number (0 for sk_signals_raise). */
int sk_signals_wait(void);

/* Wakes sk_signals_wait() from any thread (used when a fatal error makes
 * the program stop on its own). */
void sk_signals_raise(void);

#endif
