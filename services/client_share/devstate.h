/* SPDX-License-Identifier: Apache-2.0 */
/*
 * devstate.h - the device's state directory (splitkey-client --state DIR).
 *
 *   DIR/storage.key    the device storage key: 32 random bytes, mode 0600,
 *                      made at the first enrolment (it protects
 *                      everything the device keeps except dc, which only the
 *                      PIN protects)
 *   DIR/auth.state     the sealed state of the authentication key (PIN1)
 *   DIR/sign.state     the sealed state of the signing key (PIN2)
 *   DIR/auth.server    the share server's URL for that key (text)
 *   DIR/sign.server
 *   DIR/auth.csr.pem   the PKCS#10 request signed at enrolment (proof of
 *   DIR/sign.csr.pem   possession), when the subject is a person's name
 *   DIR/lock           locked exclusively by the command that has DIR open:
 *                      one command at a time per device state
 *
 * Every file is replaced atomically (fileio.h), so a crash leaves the old
 * state or the new one, never half of either.  The sealed state is written
 * after every request is built and before it is sent, and again after its
 * reply is read (device.h).
 */
#ifndef SK_CLIENT_DEVSTATE_H
#define SK_CLIENT_DEVSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "splitkey/device.h"

typedef struct devstate {
    char *dir;
    uint8_t storage_key[SK_STORAGE_KEY_LEN]; /* secret; wiped by devstate_close */
    bool have_key;
    bool made_dir;     /* this run created DIR */
    bool made_key;     /* this run created DIR/storage.key */
    int lock_fd;       /* DIR/lock, held exclusively while open (-1: none) */
    /* per purpose (auth, sign, seal): the generation of the sealed
     * state as this command loaded or last wrote it */
    uint64_t gen[3];
    bool have_gen[3];
} devstate;

/* Opens DIR.  With create, a missing DIR is made (0700) and a missing
 * storage key generated; without, both must exist.  Errors go to err.
 * Returns SK_OK, SK_SVC_ERR_CONFIG (no such state directory),
 * SK_SVC_ERR_PERM (storage key readable by others), SK_SVC_ERR_IO,
 * SK_ERR_KEY_FORMAT (a storage key of the wrong size). */
int devstate_open(devstate *st, const char *dir, bool create, char *err, size_t err_len);

/* Undoes what devstate_open(create) made in this run (the storage key and
 * the directory) when no key state was stored: a failed first enrolment
 * leaves nothing behind. */
void devstate_discard_new(devstate *st);

/* Wipes the storage key and frees the path. */
void devstate_close(devstate *st);

/* "auth" or "sign". */
const char *devstate_purpose_name(sk_purpose purpose);
/* Parses "auth" / "sign"; SK_OK or SK_ERR_ARG. */
int devstate_purpose_parse(sk_purpose *out, const char *name);

/* 1 if a sealed state exists for the purpose. */
int devstate_has(const devstate *st, sk_purpose purpose);

/* Loads and opens the sealed state of a purpose, and the server URL stored
 * with it (malloc'd).  Returns SK_OK, SK_ERR_NOT_FOUND (not enrolled),
 * SK_ERR_PROTO_AUTH (wrong storage key or a modified file), others. */
int devstate_load(devstate *st, sk_purpose purpose, sk_device_key **key, char **server_url,
                  char *err, size_t err_len);

/* The same, but the sealed state as stored (sk_client_load() takes it;
 * sk_file_free() frees it); the generation of the key it holds is noted
 * for devstate_save_sealed() as with devstate_load(). */
int devstate_load_sealed(devstate *st, sk_purpose purpose, uint8_t **sealed, size_t *sealed_len,
                         char **server_url, char *err, size_t err_len);

/* Seals and writes the state of key's purpose atomically (0600), but only
 * over the state this command loaded or last wrote (compared by
 * generation, sk_device_key_generation()), or where none is stored and
 * none was loaded.  The lock makes a conflict impossible between commands
 * that take it; this check stands even where the lock does not hold (a
 * file system without fcntl locks, a state directory put back from a copy
 * while a command ran).  Returns SK_OK, SK_SVC_ERR_STALE (nothing written:
 * the stored state is not the one this command started from), or a file or
 * seal error. */
int devstate_save(devstate *st, const sk_device_key *key);

/* devstate_save() of a state already sealed (what the client layer's
 * persist receives): purpose and generation are those of the key it
 * holds; the same compare-and-swap, the same results. */
int devstate_save_sealed(devstate *st, sk_purpose purpose, uint64_t generation,
                         const uint8_t *sealed, size_t sealed_len);

/* Writes the server URL of a purpose (atomic, 0644). */
int devstate_save_server(const devstate *st, sk_purpose purpose, const char *url);

/* DIR/<purpose>.<suffix> (malloc'd, NULL on overflow). */
char *devstate_path(const devstate *st, sk_purpose purpose, const char *suffix);

#endif
