/* SPDX-License-Identifier: Apache-2.0 */
#include "wpdata.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

int wp_open(wp_reader *r, const char *path)
{
    memset(r, 0, sizeof *r);
    r->end_total = -1;
    size_t len;
    r->text = (char *)sk_test_read_file(path, &len);
    if (r->text == NULL) {
        fprintf(stderr,
                "FAIL: cannot read the Wycheproof data %s.\n"
                "It is generated at build time from SK_WYCHEPROOF_DIR (../shared/vectors/"
                "wycheproof beside the checkout) by scripts/wycheproof_convert.py; is the folder "
                "there and python3 installed?\n",
                path);
        return -1;
    }
    r->pos = r->text;
    return 0;
}

void wp_close(wp_reader *r)
{
    free(r->text);
    memset(r, 0, sizeof *r);
}

int wp_next(wp_reader *r, char **fields)
{
    for (;;) {
        if (r->pos == NULL || *r->pos == '\0')
            return 0;
        char *line = r->pos;
        char *nl = strchr(line, '\n');
        if (nl != NULL) {
            *nl = '\0';
            r->pos = nl + 1;
        } else {
            r->pos = line + strlen(line);
        }
        r->line++;
        if (line[0] == '#' || line[0] == '\0')
            continue;
        int n = 0;
        for (char *tok = strtok(line, " "); tok != NULL && n < WP_MAX_FIELDS;
             tok = strtok(NULL, " "))
            fields[n++] = tok;
        if (n == 0)
            continue;
        if (strcmp(fields[0], "missing") == 0 && n == 2) {
            fprintf(stderr, "FAIL: Wycheproof file %s is missing from SK_WYCHEPROOF_DIR\n",
                    fields[1]);
            r->missing++;
        } else if (strcmp(fields[0], "file") == 0 && n == 3) {
            r->declared += atol(fields[2]);
        } else if (strcmp(fields[0], "end") == 0 && n == 2) {
            r->end_total = atol(fields[1]);
        }
        return n;
    }
}

long wp_bytes(uint8_t **out, const char *hex)
{
    if (strcmp(hex, "-") == 0) {
        *out = calloc(1, 1);
        return *out != NULL ? 0 : -1;
    }
    return sk_test_unhex(out, hex);
}

int wp_hash(sk_hash *out, const char *name)
{
    static const struct {
        const char *name;
        sk_hash hash;
    } table[] = {{"sha1", SK_HASH_SHA1},     {"sha224", SK_HASH_SHA224},
                 {"sha256", SK_HASH_SHA256}, {"sha384", SK_HASH_SHA384},
                 {"sha512", SK_HASH_SHA512}};
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcmp(name, table[i].name) == 0) {
            *out = table[i].hash;
            return 0;
        }
    return -1;
}
