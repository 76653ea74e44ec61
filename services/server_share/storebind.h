/* SPDX-License-Identifier: Apache-2.0 */
/* storebind.h - the checks a share server makes on its store at start. */
#ifndef SK_STOREBIND_H
#define SK_STOREBIND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* Runs the store's consistency check, proves that it can be written, and
 * binds it to the server directory: the store keeps a random id
 * (store_meta "store_id") and DIR/store.id the id of the store this server
 * used last.  Refused, with the reason in err:
 * - a store that fails its consistency check, or cannot be written;
 * - an empty store (no id) where DIR/store.id names one: the database was
 *   lost or replaced - unless new_store, which starts afresh;
 * - a store whose id differs from DIR/store.id (another deployment's);
 * - new_store with a store that has an id.
 * A store with an id and no DIR/store.id is adopted (a new directory for an
 * existing store).  Returns SK_OK, SK_SVC_ERR_CONFIG or a store error. */
int sk_store_bind(sk_store *store, const char *dir, bool new_store, uint64_t now, char *err,
                  size_t err_len);

/* The same checks without writing anything (splitkey-server check): the
 * consistency check, and the store's id against DIR/store.id. */
int sk_store_bind_check(sk_store *store, const char *dir, char *err, size_t err_len);

/* The store id DIR/store.id names (16 bytes into id).  SK_OK,
 * SK_ERR_NOT_FOUND when the file does not exist, SK_SVC_ERR_CONFIG when it
 * holds no id. */
int sk_store_id_file_read(const char *dir, uint8_t *id);

#endif
