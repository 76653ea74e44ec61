/* SPDX-License-Identifier: Apache-2.0 */
/*
 * svc_hex.h - hex text of byte strings for the services (key ids, session
 * ids, public keys, hashes in messages and files), over libsodium's
 * sodium_bin2hex / sodium_hex2bin.
 */
#ifndef SK_SVC_HEX_H
#define SK_SVC_HEX_H

#include <stddef.h>
#include <stdint.h>

/* Lower-case hex of len bytes into out, which holds 2 * len + 1 bytes
 * (NUL-terminated). */
void sk_svc_hex(char *out, const uint8_t *in, size_t len);

/* Decodes text (text_len characters, no NUL needed) into exactly len bytes:
 * text must be 2 * len hex digits of either case and nothing else.  On
 * failure out is zeroed.  Returns SK_OK or SK_ERR_ARG. */
int sk_svc_unhex(uint8_t *out, size_t len, const char *text, size_t text_len);

#endif
