/* SPDX-License-Identifier: Apache-2.0 */
/*
 * seal.h - sealing secrets at rest under the server master key
 * (doc/operations.md "Secrets at rest").
 *
 * ds, the server keys (p2, q2) and every other secret the share server
 * stores are sealed with XChaCha20-Poly1305 (libsodium's IETF construction)
 * under the 32-byte master key from DIR/master.key, with a fresh random
 * nonce per seal and associated data = the key id (or the pool id of a
 * server key not yet bound to a key).  A sealed blob moved to another key's
 * row, or changed in any bit, fails to open.
 *
 * Sealed layout:  "SKX1" | nonce (24) | ciphertext | tag (16)
 *
 * The master key lives in guarded memory (sodium_malloc: guard pages,
 * locked, read-only after loading) and is wiped when freed.
 */
#ifndef SK_SEAL_H
#define SK_SEAL_H

#include <stddef.h>
#include <stdint.h>

#define SK_MASTER_KEY_LEN 32u
#define SK_SEAL_MAGIC "SKX1"
#define SK_SEAL_NONCE_LEN 24u
#define SK_SEAL_TAG_LEN 16u
#define SK_SEAL_OVERHEAD (4u + SK_SEAL_NONCE_LEN + SK_SEAL_TAG_LEN)

typedef struct sk_master_key sk_master_key;

/* Loads DIR/master.key: exactly SK_MASTER_KEY_LEN bytes, mode without group
 * or other bits.  Returns SK_OK, SK_ERR_NOT_FOUND, SK_SVC_ERR_PERM,
 * SK_ERR_KEY_FORMAT (wrong size), SK_SVC_ERR_IO or SK_ERR_NOMEM. */
int sk_master_key_load(sk_master_key **out, const char *path);

/* Creates a new random master key file (mode 0600); refuses to replace an
 * existing one (SK_SVC_ERR_EXISTS). */
int sk_master_key_create(const char *path);

/* Builds a master key from bytes (secret; the caller wipes its copy). */
int sk_master_key_from_bytes(sk_master_key **out, const uint8_t *key, size_t key_len);

/* Wipes and frees.  NULL is ignored. */
void sk_master_key_free(sk_master_key *mk);

/* Size of the sealed form of plain_len bytes. */
size_t sk_sealed_len(size_t plain_len);

/* Seals plain (secret) into out, which must hold exactly
 * sk_sealed_len(plain_len) bytes.  ad is the key id (or pool id).
 * Returns SK_OK or SK_ERR_ARG. */
int sk_seal(const sk_master_key *mk, uint8_t *out, size_t out_len, const uint8_t *plain,
            size_t plain_len, const uint8_t *ad, size_t ad_len);

/* Opens a sealed blob into plain (cap bytes; needs sealed_len -
 * SK_SEAL_OVERHEAD).  plain is secret: the caller wipes it after use.
 * Returns SK_OK, SK_ERR_KEY_FORMAT (not a sealed blob), SK_ERR_BUFFER_TOO_SMALL
 * or SK_ERR_PROTO_AUTH (wrong key, wrong associated data or tampered); on
 * failure plain is zeroed and *plain_len is 0. */
int sk_unseal(const sk_master_key *mk, uint8_t *plain, size_t cap, size_t *plain_len,
              const uint8_t *sealed, size_t sealed_len, const uint8_t *ad, size_t ad_len);

#endif
