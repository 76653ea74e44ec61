/* SPDX-License-Identifier: Apache-2.0 */
/* config.c - one table of options, filled from flags and a config file. */
#define _POSIX_C_SOURCE 200809L
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <nng/nng.h>

#include "fileio.h"
#include "splitkey/splitkey.h"
#include "svc_error.h"

#define CONFIG_FILE_MAX (64u * 1024u)

__attribute__((format(printf, 3, 4)))
static int config_error(char *err, size_t err_len, const char *fmt, ...)
{
    if (err != NULL && err_len > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, err_len, fmt, ap);
        va_end(ap);
    }
    return SK_SVC_ERR_CONFIG;
}

static sk_opt *find_opt(sk_opt *opts, const char *name, size_t name_len)
{
    for (sk_opt *o = opts; o->name != NULL; o++)
        if (strlen(o->name) == name_len && memcmp(o->name, name, name_len) == 0)
            return o;
    return NULL;
}

static int parse_bool(bool *out, const char *s)
{
    if (!strcasecmp(s, "true") || !strcasecmp(s, "yes") || !strcmp(s, "1") ||
        !strcasecmp(s, "on")) {
        *out = true;
        return 0;
    }
    if (!strcasecmp(s, "false") || !strcasecmp(s, "no") || !strcmp(s, "0") ||
        !strcasecmp(s, "off")) {
        *out = false;
        return 0;
    }
    return -1;
}

/* Stores a textual value into o; where says where it came from. */
static int set_value(sk_opt *o, const char *text, const char *where, char *err, size_t err_len)
{
    switch (o->type) {
    case SK_OPT_BOOL:
        if (parse_bool((bool *)o->value, text) != 0)
            return config_error(err, err_len, "%s: %s: expected true or false, got \"%s\"",
                                where, o->name, text);
        break;
    case SK_OPT_UINT: {
        char *end;
        if (text[0] == '\0' || !isdigit((unsigned char)text[0]))
            return config_error(err, err_len, "%s: %s: not a number: \"%s\"", where, o->name,
                                text);
        errno = 0;
        unsigned long long v = strtoull(text, &end, 10);
        if (errno != 0 || *end != '\0' || v < o->min || v > o->max)
            return config_error(err, err_len, "%s: %s: expected a number from %u to %u, got \"%s\"",
                                where, o->name, o->min, o->max, text);
        *(unsigned *)o->value = (unsigned)v;
        break;
    }
    default: {
        if (text[0] == '\0')
            return config_error(err, err_len, "%s: %s: empty value", where, o->name);
        char *copy = strdup(text);
        if (copy == NULL)
            return config_error(err, err_len, "out of memory");
        if (o->owned)
            free(*(char **)o->value);
        *(char **)o->value = copy;
        o->owned = true;
        break;
    }
    }
    o->set = true;
    return SK_OK;
}

int sk_config_parse_args(sk_opt *opts, const char **positional, int argc, char **argv, int first,
                         char *err, size_t err_len)
{
    if (positional != NULL)
        *positional = NULL;
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h"))
            return SK_SVC_HELP;
        if (strncmp(a, "--", 2) != 0) {
            if (positional != NULL && *positional == NULL) {
                *positional = a;
                continue;
            }
            return config_error(err, err_len, "unexpected argument \"%s\"", a);
        }
        const char *name = a + 2;
        const char *eq = strchr(name, '=');
        size_t name_len = eq ? (size_t)(eq - name) : strlen(name);
        sk_opt *o = find_opt(opts, name, name_len);
        if (o == NULL)
            return config_error(err, err_len, "unknown option --%.*s (see --help)",
                                (int)name_len, name);
        const char *val;
        if (o->type == SK_OPT_BOOL && eq == NULL) {
            val = "true";
        } else if (eq != NULL) {
            val = eq + 1;
        } else {
            if (i + 1 >= argc)
                return config_error(err, err_len, "option --%s needs a value", o->name);
            val = argv[++i];
        }
        int rc = set_value(o, val, "command line", err, err_len);
        if (rc != SK_OK)
            return rc;
        o->from_flag = true;
    }
    return SK_OK;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

int sk_config_parse_file(sk_opt *opts, const char *path, char *err, size_t err_len)
{
    uint8_t *buf;
    size_t len;
    int rc = sk_file_read(&buf, &len, path, CONFIG_FILE_MAX, 0);
    if (rc == SK_ERR_NOT_FOUND)
        return config_error(err, err_len, "%s: no such file", path);
    if (rc == SK_ERR_LIMIT)
        return config_error(err, err_len, "%s: larger than %u bytes", path, CONFIG_FILE_MAX);
    if (rc != SK_OK)
        return config_error(err, err_len, "%s: cannot read: %s", path, strerror(errno));
    if (memchr(buf, '\0', len) != NULL) {
        sk_file_free(buf, len);
        return config_error(err, err_len, "%s: not a text file", path);
    }
    unsigned lineno = 0;
    rc = SK_OK;
    char *p = (char *)buf;
    while (rc == SK_OK && p != NULL && *p != '\0') {
        char *nl = strchr(p, '\n');
        if (nl != NULL)
            *nl = '\0';
        lineno++;
        char *line = trim(p);
        p = nl ? nl + 1 : NULL;
        if (line[0] == '\0' || line[0] == '#')
            continue;
        char *eq = strchr(line, '=');
        if (eq == NULL) {
            rc = config_error(err, err_len, "%s:%u: expected \"key = value\"", path, lineno);
            break;
        }
        *eq = '\0';
        char *key = trim(line), *val = trim(eq + 1);
        sk_opt *o = find_opt(opts, key, strlen(key));
        if (o == NULL || (o->flags & SK_OPT_FLAG_ONLY)) {
            rc = config_error(err, err_len, "%s:%u: unknown key \"%s\"", path, lineno, key);
            break;
        }
        if (o->from_flag)
            continue;
        /* every message about a line reads "FILE:LINE: message" */
        char where[512];
        snprintf(where, sizeof where, "%s:%u", path, lineno);
        rc = set_value(o, val, where, err, err_len);
    }
    sk_file_free(buf, len);
    return rc;
}

int sk_config_check_url(const char *url)
{
    static const char *const schemes[] = {"tcp", "tcp4", "tcp6", "ipc", "inproc"};
    nng_url *u = NULL;
    if (url == NULL || nng_url_parse(&u, url) != 0)
        return SK_SVC_ERR_CONFIG;
    int rc = SK_SVC_ERR_CONFIG;
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
        if (strcmp(u->u_scheme, schemes[i]) != 0)
            continue;
        if (i <= 2) {
            /* a TCP URL needs a port number */
            char *end;
            const char *port = u->u_port;
            long v = port && *port ? strtol(port, &end, 10) : -1;
            if (v >= 0 && v <= 65535 && *end == '\0')
                rc = SK_OK;
        } else if (u->u_path != NULL && strlen(u->u_path) > 0) {
            rc = SK_OK;
        }
        break;
    }
    nng_url_free(u);
    return rc;
}

int sk_config_validate(sk_opt *opts, char *err, size_t err_len)
{
    for (sk_opt *o = opts; o->name != NULL; o++) {
        if (!o->set) {
            if (o->flags & SK_OPT_REQUIRED)
                return config_error(err, err_len, "missing --%s", o->name);
            continue;
        }
        const char *s = (o->type == SK_OPT_BOOL || o->type == SK_OPT_UINT)
                            ? NULL
                            : *(char **)o->value;
        switch (o->type) {
        case SK_OPT_URL:
            if (sk_config_check_url(s) != SK_OK)
                return config_error(err, err_len,
                                    "--%s: bad URL \"%s\" (expected tcp://HOST:PORT, "
                                    "ipc://PATH or inproc://NAME)",
                                    o->name, s);
            break;
        case SK_OPT_DIR:
            if (!sk_is_dir(s))
                return config_error(err, err_len, "--%s: no such directory: %s", o->name, s);
            break;
        case SK_OPT_FILE:
            if (access(s, R_OK) != 0)
                return config_error(err, err_len, "--%s: cannot read %s: %s", o->name, s,
                                    strerror(errno));
            break;
        default:
            break;
        }
    }
    return SK_OK;
}

void sk_config_usage(FILE *out, const sk_opt *opts)
{
    for (const sk_opt *o = opts; o->name != NULL; o++) {
        char left[64];
        if (o->type == SK_OPT_BOOL)
            snprintf(left, sizeof left, "--%s", o->name);
        else
            snprintf(left, sizeof left, "--%s %s", o->name, o->arg ? o->arg : "VALUE");
        fprintf(out, "  %-26s %s\n", left, o->help ? o->help : "");
    }
}

void sk_config_free(sk_opt *opts)
{
    for (sk_opt *o = opts; o->name != NULL; o++) {
        if (o->owned) {
            free(*(char **)o->value);
            *(char **)o->value = NULL;
            o->owned = false;
        }
    }
}
