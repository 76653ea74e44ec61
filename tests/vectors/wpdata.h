/* SPDX-License-Identifier: Apache-2.0 */
/* wpdata.h - reader for the line format scripts/wycheproof_convert.py
 * writes (described at the top of that script). */
#ifndef SK_TEST_WPDATA_H
#define SK_TEST_WPDATA_H

#include <stddef.h>
#include <stdint.h>

#include "splitkey/splitkey.h"

#define WP_MAX_FIELDS 8

typedef struct wp_reader {
    char *text;  /* the whole file, split in place */
    char *pos;
    long line;
    long missing;  /* "missing" lines seen */
    long declared; /* sum of the COUNT of "file" lines */
    long end_total;/* the TOTAL of the "end" line, -1 until seen */
} wp_reader;

/* Opens the data file; prints why and returns -1 when it cannot. */
int wp_open(wp_reader *r, const char *path);
void wp_close(wp_reader *r);

/* Splits the next record into fields (comments skipped); returns the field
 * count, 0 at the end of the file.  "missing", "file" and "end" records are
 * tallied here (and still returned). */
int wp_next(wp_reader *r, char **fields);

/* A hex field ("-" is empty) into a fresh buffer (never NULL on success);
 * returns the length or -1. */
long wp_bytes(uint8_t **out, const char *hex);

/* Hash name as the script writes it -> sk_hash; -1 for one we lack. */
int wp_hash(sk_hash *out, const char *name);

#endif
