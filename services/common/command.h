/* SPDX-License-Identifier: Apache-2.0 */
/* command.h - "PROGRAM COMMAND [OPTIONS]" dispatch shared by the service
 * programs: --help / -h / help print the usage and exit 0; a missing or
 * unknown command prints the usage to stderr and exits 2 (README.md, "The
 * programs"). */
#ifndef SK_COMMAND_H
#define SK_COMMAND_H

#include <stdio.h>

typedef struct sk_command {
    const char *name;
    int (*run)(int argc, char **argv); /* argv[1] is the command's name */
} sk_command;

/* Runs the command named by argv[1] from cmds (terminated by a NULL name) and
 * returns its exit code, or handles help and usage errors as above. */
int sk_command_dispatch(int argc, char **argv, const char *prog, const sk_command *cmds,
                        void (*usage)(FILE *out));

#endif
