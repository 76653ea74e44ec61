/* SPDX-License-Identifier: Apache-2.0 */
/* ocsp_get.c - the request of an RFC 5019 GET ("GET {url}/{url-encoded
 * base64 of the DER request}") decoded back to DER, so that the HTTP
 * program only has to cut the path. */
#include <mbedtls/base64.h>
#include <stdlib.h>
#include <string.h>

#include "pki/ocsp_internal.h"

static int hexv(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

int sk_ocsp_decode_get(uint8_t *out, size_t cap, size_t *written, const char *path,
                       size_t path_len)
{
    if (written == NULL)
        return SK_ERR_ARG;
    *written = 0;
    if (path == NULL || path_len == 0)
        return SK_ERR_OCSP;
    if (path_len > 4 * OCSP_MAX_REQUEST_LEN)
        return SK_ERR_LIMIT;
    /* Percent-decoding first (clients encode '+', '/' and '='; some send
     * them raw), then base64 with or without padding. */
    size_t cap64 = path_len + 4;
    char *b64 = malloc(cap64);
    if (b64 == NULL)
        return SK_ERR_NOMEM;
    int rc = SK_ERR_OCSP;
    size_t n = 0;
    for (size_t i = 0; i < path_len; i++) {
        char c = path[i];
        if (c == '%') {
            if (i + 2 >= path_len || hexv(path[i + 1]) < 0 || hexv(path[i + 2]) < 0)
                goto out;
            c = (char)(hexv(path[i + 1]) << 4 | hexv(path[i + 2]));
            i += 2;
        }
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/' || c == '='))
            goto out;
        b64[n++] = c;
    }
    while (n % 4 != 0)
        b64[n++] = '=';
    size_t olen = 0;
    int mr = mbedtls_base64_decode(NULL, 0, &olen, (const unsigned char *)b64, n);
    if (mr != MBEDTLS_ERR_BASE64_BUFFER_TOO_SMALL || olen == 0)
        goto out;
    if (olen > OCSP_MAX_REQUEST_LEN) {
        rc = SK_ERR_LIMIT;
        goto out;
    }
    *written = olen;
    if (out == NULL || cap < olen) {
        rc = SK_ERR_BUFFER_TOO_SMALL;
        goto out;
    }
    if (mbedtls_base64_decode(out, cap, &olen, (const unsigned char *)b64, n) != 0) {
        *written = 0;
        goto out;
    }
    *written = olen;
    rc = SK_OK;
out:
    free(b64);
    return rc;
}
