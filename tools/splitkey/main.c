/* SPDX-License-Identifier: Apache-2.0 */
/* main.c - the splitkey auditor and developer tool: command dispatch and the
 * top-level usage text.  Each command lives in its own file. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "splitkey/splitkey.h"

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} commands[] = {
    {"sign-local", cmd_sign_local,
     "generate a client and a server share in this process and sign a file"},
    {"verify", cmd_verify, "verify an RSA signature (PKCS#1 v1.5 or PSS) over a file"},
    {"vectors", cmd_vectors, "write or check the deterministic two-party test vectors"},
};

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: splitkey COMMAND [OPTIONS]\n"
            "\n"
            "The auditor and developer tool of splitkey, two-party RSA signing in which\n"
            "the private key never exists in one place.\n"
            "\n"
            "Commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fprintf(f,
            "\n"
            "Run 'splitkey COMMAND --help' for the options of a command.\n"
            "Other options: --help, --version.\n"
            "Exit status: 0 success, 1 failure (invalid signature, mismatching vector,\n"
            "I/O error), 2 usage error (an input file that does not exist included).\n");
}

int main(int argc, char **argv)
{
    cli_json_init();
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return CLI_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("splitkey %s\n", sk_version());
        return CLI_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "splitkey: unknown command '%s'\n", argv[1]);
    fprintf(stderr, "Try 'splitkey --help'.\n");
    return CLI_USAGE;
}
