/* SPDX-License-Identifier: Apache-2.0 */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "splitkey/splitkey.h"

int sk_test_failures;
int sk_test_checks;

void sk_test_init(void)
{
    if (sk_init() != 0) {
        fprintf(stderr, "sk_init failed\n");
        exit(1);
    }
}

int sk_test_done(const char *name)
{
    printf("%s: %d checks, %d failed\n", name, sk_test_checks, sk_test_failures);
    if (sk_test_checks == 0) {
        fprintf(stderr, "%s: no check ran\n", name);
        return 1;
    }
    return sk_test_failures == 0 ? 0 : 1;
}

long sk_test_unhex(uint8_t **out, const char *hex)
{
    size_t n = strlen(hex), got = 0;
    const char *end = NULL;
    if (n % 2 != 0)
        return -1;
    uint8_t *buf = malloc(n / 2 + 1); /* + 1: a valid pointer for "" */
    if (buf == NULL)
        return -1;
    /* sodium_hex2bin stops at the first non-hex character: all of hex must
     * have been read */
    if (sodium_hex2bin(buf, n / 2, hex, n, NULL, &got, &end) != 0 || got != n / 2 ||
        end != hex + n) {
        free(buf);
        return -1;
    }
    *out = buf;
    return (long)(n / 2);
}

void sk_test_hex(char *out, const uint8_t *in, size_t len)
{
    sodium_bin2hex(out, 2 * len + 1, in, len);
}

uint8_t *sk_test_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap + 1);
    while (buf != NULL) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n < cap)
            break;
        cap *= 2;
        uint8_t *nb = realloc(buf, cap + 1);
        if (nb == NULL) {
            free(buf);
            buf = NULL;
        } else {
            buf = nb;
        }
    }
    fclose(f);
    if (buf != NULL) {
        buf[n] = 0;
        *len = n;
    }
    return buf;
}
