/* SPDX-License-Identifier: Apache-2.0 */
/*
 * config.h - command-line flags and an optional "key = value" file, described
 * once by a table of sk_opt.
 *
 * A flag --name VALUE (or --name=VALUE) and a file line "name = VALUE" set
 * the same option; flags win over the file.  Boolean options are flags
 * without a value (--open-enrolment) and take true/false/yes/no/1/0 in the
 * file.  In the file, blank lines and lines starting with '#' are ignored.
 *
 * Every error (unknown flag or key, missing value, bad number, bad URL,
 * missing directory, unreadable file) returns SK_SVC_ERR_CONFIG with a
 * one-line message in the caller's buffer; programs print it and exit 2.
 */
#ifndef SK_CONFIG_H
#define SK_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef enum sk_opt_type {
    SK_OPT_STRING, /* char *: any non-empty text */
    SK_OPT_BOOL,   /* bool */
    SK_OPT_UINT,   /* unsigned, within [min, max] */
    SK_OPT_URL,    /* char *: an nng URL (tcp://, tcp4://, tcp6://, ipc://, inproc://) */
    SK_OPT_DIR,    /* char *: an existing directory */
    SK_OPT_FILE    /* char *: an existing, readable regular file */
} sk_opt_type;

#define SK_OPT_FLAG_ONLY 0x1u /* not accepted in the config file (e.g. --dir) */
#define SK_OPT_REQUIRED 0x2u  /* must be set by a flag or the file */

typedef struct sk_opt {
    const char *name;   /* "listen" for --listen and "listen = ..." */
    sk_opt_type type;
    void *value;        /* char **, bool * or unsigned * (holds the default) */
    unsigned min, max;  /* SK_OPT_UINT only */
    unsigned flags;
    const char *arg;    /* placeholder in usage, e.g. "URL" */
    const char *help;   /* one line */
    /* set by the parser */
    bool from_flag;
    bool set;
    bool owned;         /* *value is a string allocated by the parser */
} sk_opt;

/* Parses argv[first..argc-1] into the table (terminated by an entry with
 * name NULL).  "--help" or "-h" return SK_SVC_HELP.  Arguments that do not
 * start with "--" are refused unless positional is non-NULL, in which case
 * the first one is stored there (at most one).
 * Returns SK_OK, SK_SVC_HELP or SK_SVC_ERR_CONFIG (message in err). */
int sk_config_parse_args(sk_opt *opts, const char **positional, int argc, char **argv, int first,
                         char *err, size_t err_len);

/* Reads a config file (at most 64 KiB); options already given as flags keep
 * their values.  Returns SK_OK or SK_SVC_ERR_CONFIG (message in err). */
int sk_config_parse_file(sk_opt *opts, const char *path, char *err, size_t err_len);

/* Checks required options and validates every set value by its type (URLs,
 * directories, files), whichever source it came from. */
int sk_config_validate(sk_opt *opts, char *err, size_t err_len);

/* Checks that url is an nng URL of a supported scheme.  Returns SK_OK or
 * SK_SVC_ERR_CONFIG. */
int sk_config_check_url(const char *url);

/* Prints "  --name ARG   help" lines for every option. */
void sk_config_usage(FILE *out, const sk_opt *opts);

/* Frees the strings the parser allocated (defaults given by the caller are
 * left alone). */
void sk_config_free(sk_opt *opts);

#endif
