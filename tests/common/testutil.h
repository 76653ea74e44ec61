/* SPDX-License-Identifier: Apache-2.0 */
/* testutil.h - a minimal assertion kit for the C tests.
 * A test program returns 0 only if every CHECK held; each failed CHECK prints
 * its file, line and expression and the run continues so that one run shows
 * every failure. */
#ifndef SK_TESTUTIL_H
#define SK_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

extern int sk_test_failures;
extern int sk_test_checks;

#define CHECK(cond)                                                                   \
    do {                                                                              \
        sk_test_checks++;                                                             \
        if (!(cond)) {                                                                \
            sk_test_failures++;                                                       \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);  \
        }                                                                             \
    } while (0)

/* CHECK that an sk_* call returned the expected code, printing both on failure. */
#define CHECK_RC(expected, call)                                                      \
    do {                                                                              \
        int rc_ = (call);                                                             \
        sk_test_checks++;                                                             \
        if (rc_ != (expected)) {                                                      \
            sk_test_failures++;                                                       \
            fprintf(stderr, "%s:%d: %s returned %d (%s), expected %d\n", __FILE__,    \
                    __LINE__, #call, rc_, sk_strerror(rc_), (int)(expected));         \
        }                                                                             \
    } while (0)

#define CHECK_OK(call) CHECK_RC(0, call)

/* Initialise the library or exit(1). */
void sk_test_init(void);
/* Print a summary line and return the process exit code (0 when all passed,
 * 1 on any failure or when no check ran at all). */
int sk_test_done(const char *name);

/* Hex helpers: decode returns the length or -1; the caller frees *out. */
long sk_test_unhex(uint8_t **out, const char *hex);
void sk_test_hex(char *out, const uint8_t *in, size_t len);

/* Reads a whole file (NUL-terminated copy); NULL on error. */
uint8_t *sk_test_read_file(const char *path, size_t *len);

#endif
