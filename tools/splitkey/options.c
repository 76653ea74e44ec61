/* SPDX-License-Identifier: Apache-2.0 */
/* options.c - command-line option parsing and usage errors for the splitkey
 * tool.  Every command takes long options only, each at most once. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "splitkey/splitkey.h"

__attribute__((format(printf, 2, 0))) static void vreport(const char *cmd, const char *fmt,
                                                          va_list ap)
{
    fprintf(stderr, "splitkey %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(cmd, fmt, ap);
    va_end(ap);
    fprintf(stderr, "Try 'splitkey %s --help'.\n", cmd);
    return CLI_USAGE;
}

int cli_fail(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(cmd, fmt, ap);
    va_end(ap);
    return CLI_FAIL;
}

int cli_read_fail(const char *cmd, const char *verb, const char *path)
{
    int saved = errno;
    cli_fail(cmd, "cannot %s %s: %s", verb, path, strerror(saved));
    return saved == ENOENT ? CLI_USAGE : CLI_FAIL;
}

int cli_parse_options(const char *cmd, int argc, char **argv, const cli_option *opts,
                      size_t n_opts)
{
    bool seen[32] = {false};

    if (n_opts > sizeof seen / sizeof seen[0])
        return cli_usage_error(cmd, "internal error: too many options");
    for (size_t i = 0; i < n_opts; i++) {
        if (opts[i].value)
            *opts[i].value = NULL;
        if (opts[i].flag)
            *opts[i].flag = false;
    }
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *eq, *value = NULL;
        size_t name_len;
        size_t j;

        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)
            return CLI_HELP;
        if (strncmp(arg, "--", 2) != 0 || arg[2] == 0)
            return cli_usage_error(cmd, "unexpected argument '%s'", arg);
        eq = strchr(arg, '=');
        name_len = eq ? (size_t)(eq - arg) : strlen(arg);
        for (j = 0; j < n_opts; j++)
            if (strlen(opts[j].name) == name_len && strncmp(opts[j].name, arg, name_len) == 0)
                break;
        if (j == n_opts)
            return cli_usage_error(cmd, "unknown option '%.*s'", (int)name_len, arg);
        if (seen[j])
            return cli_usage_error(cmd, "option '%s' given more than once", opts[j].name);
        seen[j] = true;
        if (opts[j].flag) {
            if (eq)
                return cli_usage_error(cmd, "option '%s' takes no value", opts[j].name);
            *opts[j].flag = true;
            continue;
        }
        if (eq) {
            value = eq + 1;
        } else {
            /* "--in --sig x" is a forgotten value, not a file named "--sig"
             * (such a file can still be given as --in=--sig). */
            if (i + 1 >= argc || strncmp(argv[i + 1], "--", 2) == 0)
                return cli_usage_error(cmd, "option '%s' needs a value", opts[j].name);
            value = argv[++i];
        }
        if (value[0] == 0)
            return cli_usage_error(cmd, "option '%s' needs a non-empty value", opts[j].name);
        *opts[j].value = value;
    }
    return CLI_OK;
}

int cli_require(const char *cmd, const char *name, const char *value)
{
    if (value == NULL)
        return cli_usage_error(cmd, "missing required option '%s'", name);
    return CLI_OK;
}

int cli_parse_profile(const char *cmd, const char *value, int *out)
{
    sk_profile p;
    if (sk_profile_parse(&p, value) != SK_OK)
        return cli_usage_error(cmd, "unknown profile '%s' (expected 4K, 6K or 8K)", value);
    *out = (int)p;
    return CLI_OK;
}

int cli_parse_scheme(const char *cmd, const char *value, int *out)
{
    sk_scheme s;
    if (sk_scheme_parse(&s, value) != SK_OK)
        return cli_usage_error(cmd, "unknown scheme '%s' (expected pkcs1 or pss)", value);
    *out = (int)s;
    return CLI_OK;
}

int cli_parse_hash(const char *cmd, const char *value, int *out)
{
    sk_hash h;
    if (sk_hash_parse(&h, value) != SK_OK)
        return cli_usage_error(cmd, "unknown hash '%s' (expected sha256, sha384 or sha512)",
                               value);
    *out = (int)h;
    return CLI_OK;
}
