/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli.h - declarations shared by the files of the `splitkey` auditor and
 * developer tool: commands, option parsing, file and hex functions (hex over
 * libsodium), and reading and writing the two-party test vectors' JSON (over
 * jansson).
 *
 * Exit codes: 0 success, 1 any other failure (an invalid signature,
 * a vector that does not match, an I/O error), 2 a usage error.
 */
#ifndef SPLITKEY_CLI_H
#define SPLITKEY_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#define CLI_OK 0
#define CLI_FAIL 1
#define CLI_USAGE 2
/* Returned by cli_parse_options() when --help was given: print usage, exit 0. */
#define CLI_HELP 100

/* ------------------------------------------------------------- commands */

int cmd_sign_local(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_vectors(int argc, char **argv);

/* -------------------------------------------------------------- options */

/* One accepted option.  Options taking a value accept "--name VALUE" and
 * "--name=VALUE"; each may appear once.  value receives the argument (or NULL
 * when absent); flag (for options without a value) is set to true. */
typedef struct cli_option {
    const char *name; /* with the leading "--" */
    const char **value;
    bool *flag;
} cli_option;

/* Parses argv[1..argc-1] (argv[0] is the command name) against opts.  Prints
 * a message naming the command on a usage error.  Returns CLI_OK, CLI_HELP or
 * CLI_USAGE. */
int cli_parse_options(const char *cmd, int argc, char **argv, const cli_option *opts,
                      size_t n_opts);

/* Prints "splitkey CMD: message" and a pointer to --help on stderr; returns
 * CLI_USAGE so callers can `return cli_usage_error(...)`. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prints "splitkey CMD: message" on stderr and returns CLI_FAIL. */
int cli_fail(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints "splitkey CMD: cannot read PATH: reason" (errno) on stderr.  An
 * input that does not exist is a usage error, as in every splitkey program:
 * returns CLI_USAGE for ENOENT, CLI_FAIL otherwise. */
int cli_read_fail(const char *cmd, const char *verb, const char *path);

/* Checks a required option and parses profile / scheme / hash names, printing
 * a usage error naming the option and the accepted values.  Return CLI_OK or
 * CLI_USAGE. */
int cli_require(const char *cmd, const char *name, const char *value);
int cli_parse_profile(const char *cmd, const char *value, int *out);
int cli_parse_scheme(const char *cmd, const char *value, int *out);
int cli_parse_hash(const char *cmd, const char *value, int *out);

/* ------------------------------------------------------- files and hex */

/* Reads a whole file (at most max bytes) into a new buffer with one extra NUL
 * byte after the data; *len excludes the NUL.  Returns NULL and sets errno on
 * failure (EFBIG when the file is larger than max). */
uint8_t *util_read_file(const char *path, size_t *len, size_t max);

/* Writes len bytes to path through a temporary file in the same directory and
 * a rename, so that a reader never sees half a file.  Returns 0 or -1 (errno). */
int util_write_file(const char *path, const void *data, size_t len);

/* Checks, before any work, that util_write_file() can write path: that path
 * is not a directory and that its directory lets a file be created there (a
 * file is created and removed again; nothing is left behind).  Returns 0 or
 * -1 (errno). */
int util_check_output(const char *path);

/* Lower-case hex of in; out must hold 2 * len + 1 bytes (NUL-terminated). */
void util_hex(char *out, const uint8_t *in, size_t len);

/* Strict hex decoding: even length, digits 0-9 a-f (lower case only, as the
 * vectors are written).  Returns a new buffer (NULL on error) and sets *len. */
uint8_t *util_unhex(const char *hex, size_t *len);

/* Monotonic clock in milliseconds. */
double util_now_ms(void);

/* --------------------------------------------------------------- JSON */

/* JSON goes through jansson.  cli_json_init() makes jansson wipe every block
 * it releases (vector files hold test key shares); main() calls it before any
 * command runs. */
void cli_json_init(void);

/* Parses text (len bytes) strictly: one object, no duplicate member names,
 * valid UTF-8, nothing but whitespace after it.  Returns a new reference, or
 * NULL with a message naming the line and byte offset in err. */
json_t *cli_json_parse(const char *text, size_t len, char *err, size_t err_len);

/* Writes obj with one member per line (two-space indent, members in the
 * order they were added) and a final newline.  Returns 0 or -1. */
int cli_json_write(FILE *f, const json_t *obj);

#endif /* SPLITKEY_CLI_H */
