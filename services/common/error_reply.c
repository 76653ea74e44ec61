/* SPDX-License-Identifier: Apache-2.0 */
/* error_reply.c - encode and recognise the "SKE1" error frame. */
#include "error_reply.h"

#include <stdlib.h>
#include <string.h>

#include "splitkey/splitkey.h"
#include "svc_error.h"

int sk_error_reply_encode(uint8_t **out, size_t *out_len, int code)
{
    const char *text = sk_svc_strerror(code);
    size_t tl = strlen(text);
    if (tl > 0xffff)
        tl = 0xffff;
    uint8_t *b = malloc(SK_ERROR_REPLY_HEADER_LEN + tl);
    *out = NULL;
    *out_len = 0;
    if (b == NULL)
        return SK_ERR_NOMEM;
    uint32_t c = (uint32_t)code;
    memcpy(b, SK_ERROR_REPLY_MAGIC, 4);
    b[4] = (uint8_t)(c >> 24);
    b[5] = (uint8_t)(c >> 16);
    b[6] = (uint8_t)(c >> 8);
    b[7] = (uint8_t)c;
    b[8] = (uint8_t)(tl >> 8);
    b[9] = (uint8_t)tl;
    memcpy(b + SK_ERROR_REPLY_HEADER_LEN, text, tl);
    *out = b;
    *out_len = SK_ERROR_REPLY_HEADER_LEN + tl;
    return SK_OK;
}

int sk_error_reply_decode(int *code, const uint8_t *msg, size_t msg_len)
{
    if (msg == NULL || msg_len < SK_ERROR_REPLY_HEADER_LEN ||
        memcmp(msg, SK_ERROR_REPLY_MAGIC, 4) != 0)
        return SK_ERR_PROTO_DECODE;
    size_t tl = (size_t)msg[8] << 8 | msg[9];
    if (msg_len != SK_ERROR_REPLY_HEADER_LEN + tl)
        return SK_ERR_PROTO_DECODE;
    uint32_t c = (uint32_t)msg[4] << 24 | (uint32_t)msg[5] << 16 | (uint32_t)msg[6] << 8 | msg[7];
    int v = (int)c;
    if (v >= 0)
        return SK_ERR_PROTO_DECODE; /* an error reply always carries an error */
    *code = v;
    return SK_OK;
}
