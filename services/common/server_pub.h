/* SPDX-License-Identifier: Apache-2.0 */
/*
 * server_pub.h - the share server's public identity file, DIR/server.pub.
 *
 * Text, one "name: value" per line, '#' starts a comment line:
 *
 *   # splitkey share server public keys
 *   format: splitkey-server-pub-1
 *   kx-x25519: <64 lowercase hex digits, crypto_kx public key>
 *   sign-ed25519: <64 lowercase hex digits, crypto_sign Ed25519 public key>
 *
 * Clients pin both keys (doc/protocol.md section 1); the CA registers the
 * signing key as a registration authority (splitkey-ca add-ra).  The parser accepts exactly
 * these three fields, each once, in any order after the format line, and
 * refuses anything else.
 */
#ifndef SK_SERVER_PUB_H
#define SK_SERVER_PUB_H

#include <stddef.h>
#include <stdint.h>

#define SK_SERVER_PUB_FORMAT "splitkey-server-pub-1"
#define SK_KX_PUBLIC_LEN 32u
#define SK_SIGN_PUBLIC_LEN 32u
#define SK_SERVER_PUB_MAX 4096u

typedef struct sk_server_pub {
    uint8_t kx_pub[SK_KX_PUBLIC_LEN];     /* X25519 (crypto_kx) */
    uint8_t sign_pub[SK_SIGN_PUBLIC_LEN]; /* Ed25519 */
} sk_server_pub;

/* Writes the text form into out (NUL-terminated).  Returns SK_OK or
 * SK_ERR_BUFFER_TOO_SMALL. */
int sk_server_pub_format(char *out, size_t cap, const sk_server_pub *pub);

/* Parses the text form.  Returns SK_OK or SK_ERR_KEY_FORMAT (*pub zeroed). */
int sk_server_pub_parse(sk_server_pub *pub, const char *text, size_t len);

/* Reads and parses a file.  Returns SK_OK, SK_ERR_NOT_FOUND, SK_ERR_LIMIT,
 * SK_SVC_ERR_IO or SK_ERR_KEY_FORMAT. */
int sk_server_pub_load(sk_server_pub *pub, const char *path);

#endif
