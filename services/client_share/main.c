/* SPDX-License-Identifier: Apache-2.0 */
/*
 * splitkey-client - the device side of splitkey as a command-line program
 * (README.md, "The device"): what a phone app does, for demonstrations,
 * tests and desktop use.  Its state lives in a directory (devstate.h).
 *
 *   splitkey-client enrol    --state DIR --server URL --server-pub FILE
 *                            --purpose auth|sign|seal --pin-file F [--profile P]
 *                            [--token-file F | --subject S]
 *   splitkey-client sign     --state DIR --purpose auth|sign|seal --pin-file F
 *                            --in FILE --out SIG [--scheme S] [--hash H]
 *   splitkey-client sessions --state DIR
 *   splitkey-client approve  SESSION --state DIR --pin-file F
 *   splitkey-client refuse   SESSION --state DIR
 *   splitkey-client pubkey   --state DIR --purpose auth|sign|seal --out PUB.pem
 *   splitkey-client cert     --state DIR --purpose auth|sign|seal --out CERT.pem
 *   splitkey-client status   --state DIR --purpose auth|sign|seal
 *   splitkey-client revoke   --state DIR --purpose auth|sign|seal --pin-file F
 *
 * Exit status: 0 ok, 2 usage or configuration, 3 wrong PIN, 4 key locked,
 * 5 key destroyed, 6 session expired or refused, 1 anything else.
 *
 * Secrets: the PIN (pin.h), the storage key (devstate.h) and every request
 * buffer (an approval carries y, an enrolment ds) are wiped on every path.
 * Nothing secret is printed.
 *
 * This file holds the command table, the usage and main(); each command is
 * in cmd_<name>.c, and what the commands share in client.c and exchange.c
 * (client.h lists them).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "command.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: " PROG " COMMAND [OPTIONS]\n"
            "\n"
            "The device side of splitkey: one share of each split key stays here, behind\n"
            "a PIN (PIN1: authentication key, at least 4 digits; PIN2: signing key, at\n"
            "least 5; an organisation's seal key: at least 5); the share server holds\n"
            "the other.\n"
            "\n"
            "commands:\n"
            "  enrol     create a key with the share server (--purpose auth|sign|seal)\n"
            "  sign      sign a file with a key (a session this device opens)\n"
            "  sessions  list the sessions relying parties opened for this device\n"
            "  approve   approve a session with the PIN\n"
            "  refuse    refuse a session\n"
            "  pubkey    write a key's public key (PEM)\n"
            "  cert      write a key's certificate (PEM)\n"
            "  status    a key's state at the server: attempts left, lock\n"
            "  revoke    destroy a key at the server (with the PIN)\n"
            "\n"
            "Run '" PROG " COMMAND --help' for the options of a command.  The PIN is read\n"
            "from --pin-file FILE or from the terminal, never from the command line.\n"
            "A server that is not there is reported at once.  A request waits\n"
            "SPLITKEY_CLIENT_TIMEOUT_MS milliseconds for its reply (100 to 600000,\n"
            "default 20000); an approval or revocation whose reply is lost is sent\n"
            "again with the same request id.\n"
            "Exit status: 0 ok, 2 usage or configuration, 3 wrong PIN, 4 key locked,\n"
            "5 key destroyed, 6 session expired or refused, 1 other failure.\n");
}

int main(int argc, char **argv)
{
    static const sk_command commands[] = {
        {"enrol", cmd_enrol},
        {"sign", cmd_sign},
        {"sessions", cmd_sessions},
        {"approve", cmd_approve},
        {"refuse", cmd_refuse},
        {"pubkey", cmd_pubkey},
        {"cert", cmd_cert},
        {"status", cmd_status},
        {"revoke", cmd_revoke},
        {NULL, NULL},
    };
    /* a bad reply timeout is a usage error of every command (but --help) */
    bool help = false;
    for (int i = 1; i < argc; i++)
        help = help || strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0;
    unsigned timeout;
    if (!help && argc > 1 && cl_env_timeout(&timeout) != 0)
        return usage_error(TIMEOUT_ENV "=%s: not a number of milliseconds from %lu to %lu",
                           getenv(TIMEOUT_ENV), TIMEOUT_MIN_MS, TIMEOUT_MAX_MS);
    return sk_command_dispatch(argc, argv, PROG, commands, usage);
}
