/* SPDX-License-Identifier: Apache-2.0 */
/*
 * error_reply.h - the service-level error reply.
 *
 * Until the protocol's own error message exists, a server answers a request
 * it cannot serve (malformed, oversized, not implemented, store failure)
 * with this small fixed frame, which every client can recognise:
 *
 *   "SKE1" | code (int32, big-endian, an sk_error or sk_svc_error) |
 *   text length (uint16, big-endian) | text (sk_svc_strerror(code), ASCII)
 *
 * The text is for people; programs act on the code.  The frame carries no
 * request data.
 */
#ifndef SK_ERROR_REPLY_H
#define SK_ERROR_REPLY_H

#include <stddef.h>
#include <stdint.h>

#define SK_ERROR_REPLY_MAGIC "SKE1"
#define SK_ERROR_REPLY_HEADER_LEN 10u

/* Encodes the error reply for code into a new buffer (malloc; the caller
 * frees it).  Returns SK_OK or SK_ERR_NOMEM. */
int sk_error_reply_encode(uint8_t **out, size_t *out_len, int code);

/* If msg is a well-formed error reply, sets *code and returns SK_OK;
 * otherwise returns SK_ERR_PROTO_DECODE. */
int sk_error_reply_decode(int *code, const uint8_t *msg, size_t msg_len);

#endif
