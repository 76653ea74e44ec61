/* SPDX-License-Identifier: Apache-2.0 */
/* svc_hex.c - hex text of byte strings for the services (svc_hex.h). */
#include "svc_hex.h"

#include <string.h>

#include <sodium.h>

#include "splitkey/splitkey.h"

void sk_svc_hex(char *out, const uint8_t *in, size_t len)
{
    sodium_bin2hex(out, 2 * len + 1, in, len);
}

int sk_svc_unhex(uint8_t *out, size_t len, const char *text, size_t text_len)
{
    size_t got = 0;
    const char *end = NULL;
    if (out == NULL)
        return SK_ERR_ARG;
    if (text == NULL || text_len != 2 * len) {
        memset(out, 0, len);
        return SK_ERR_ARG;
    }
    /* sodium_hex2bin stops at the first character that is not a hex digit:
     * all of text must have been consumed, into all of out. */
    if (sodium_hex2bin(out, len, text, text_len, NULL, &got, &end) != 0 || got != len ||
        end != text + text_len) {
        memset(out, 0, len);
        return SK_ERR_ARG;
    }
    return SK_OK;
}
