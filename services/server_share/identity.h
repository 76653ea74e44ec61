/* SPDX-License-Identifier: Apache-2.0 */
/*
 * identity.h - the share server's directory: identity keys, master key,
 * public key file and configuration (doc/operations.md "Initialise").
 *
 *   DIR/master.key   32 random bytes, the sealing key (seal.h)       0600
 *   DIR/kx.key       X25519 key-exchange secret key (crypto_kx), 32  0600
 *   DIR/sign.key     Ed25519 secret key (crypto_sign, seed || pk), 64 0600
 *   DIR/server.pub   both public keys, text (server_pub.h)           0644
 *   DIR/server.conf  configuration, "key = value"                    0600
 *   DIR/server.db    the SQLite store (created by run)
 */
#ifndef SK_IDENTITY_H
#define SK_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

#include "server_pub.h"

#define SK_SERVER_FILE_MASTER "master.key"
#define SK_SERVER_FILE_KX "kx.key"
#define SK_SERVER_FILE_SIGN "sign.key"
#define SK_SERVER_FILE_PUB "server.pub"
#define SK_SERVER_FILE_CONF "server.conf"
#define SK_SERVER_FILE_DB "server.db"

#define SK_KX_SECRET_LEN 32u
#define SK_SIGN_SECRET_LEN 64u

/* The server's long-term keys.  kx_secret and sign_secret are secret; the
 * object lives in guarded memory and is wiped by sk_server_identity_free. */
typedef struct sk_server_identity {
    sk_server_pub pub;
    uint8_t kx_secret[SK_KX_SECRET_LEN];
    uint8_t sign_secret[SK_SIGN_SECRET_LEN];
} sk_server_identity;

/* Creates a new identity in dir (created with mode 0700 if missing; its
 * parent must exist): key pairs, master key, server.pub and server.conf.
 * Refuses (SK_SVC_ERR_EXISTS) if any of these files exists; if it fails
 * half-way it removes the files it created.  err receives a one-line
 * message on failure.  Returns SK_OK, SK_SVC_ERR_EXISTS, SK_SVC_ERR_CONFIG
 * (dir unusable) or SK_SVC_ERR_IO. */
int sk_server_identity_create(const char *dir, char *err, size_t err_len);

/* Loads kx.key and sign.key (0600 enforced) and checks that they match
 * server.pub.  Returns SK_OK, SK_ERR_NOT_FOUND, SK_SVC_ERR_PERM,
 * SK_ERR_KEY_FORMAT, SK_ERR_KEY_MISMATCH or SK_SVC_ERR_IO (err says which
 * file). */
int sk_server_identity_load(sk_server_identity **out, const char *dir, char *err,
                            size_t err_len);

void sk_server_identity_free(sk_server_identity *id);

#endif
