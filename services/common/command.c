/* SPDX-License-Identifier: Apache-2.0 */
/* command.c - subcommand dispatch for the service programs. */
#include "command.h"

#include <string.h>

#include "splitkey/splitkey.h"

int sk_command_dispatch(int argc, char **argv, const char *prog, const sk_command *cmds,
                        void (*usage)(FILE *out))
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *name = argv[1];
    if (!strcmp(name, "--help") || !strcmp(name, "-h") || !strcmp(name, "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(name, "--version")) {
        printf("%s %s\n", prog, sk_version());
        return 0;
    }
    for (const sk_command *c = cmds; c->name != NULL; c++)
        if (!strcmp(name, c->name))
            return c->run(argc, argv);
    fprintf(stderr, "%s: unknown command \"%s\"\n", prog, name);
    usage(stderr);
    return 2;
}
