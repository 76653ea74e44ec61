/* SPDX-License-Identifier: Apache-2.0 */
/* storebind.c - the checks a share server makes on its store at start. */
#define _POSIX_C_SOURCE 200809L
#include "storebind.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "log.h"
#include "splitkey/splitkey.h"
#include "svc_error.h"

#define STORE_ID_LEN 16
#define STORE_ID_FILE "store.id"

/* DIR/store.id: the id in hex and a newline.  SK_ERR_NOT_FOUND when the
 * file does not exist; SK_SVC_ERR_CONFIG when it does not hold an id. */
static int read_id_file(const char *path, uint8_t *id)
{
    uint8_t *buf = NULL;
    size_t len = 0, bin_len = 0;
    int rc = sk_file_read(&buf, &len, path, 256, 0);
    if (rc != SK_OK)
        return rc;
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
        len--;
    if (len != 2 * STORE_ID_LEN ||
        sodium_hex2bin(id, STORE_ID_LEN, (const char *)buf, len, NULL, &bin_len, NULL) != 0 ||
        bin_len != STORE_ID_LEN)
        rc = SK_SVC_ERR_CONFIG;
    sk_file_free(buf, len);
    return rc;
}

int sk_store_id_file_read(const char *dir, uint8_t *id)
{
    char *path = sk_path_join(dir, STORE_ID_FILE);
    if (path == NULL)
        return SK_ERR_NOMEM;
    int rc = read_id_file(path, id);
    free(path);
    return rc;
}

static int write_id_file(const char *path, const uint8_t *id)
{
    char hex[2 * STORE_ID_LEN + 2];
    sodium_bin2hex(hex, sizeof hex - 1, id, STORE_ID_LEN);
    size_t n = strlen(hex);
    hex[n] = '\n';
    return sk_file_write_atomic(path, (const uint8_t *)hex, n + 1, SK_FILE_PUBLIC_MODE, 0);
}

/* A new id, into the store first and then the directory (a crash between
 * the two leaves a store with an id and no file, which is adopted). */
static int new_id(sk_store *store, const char *path, char *err, size_t err_len)
{
    uint8_t id[STORE_ID_LEN];
    randombytes_buf(id, sizeof id);
    int rc = sk_store_meta_put(store, NULL, "store_id", id, sizeof id);
    if (rc != SK_OK) {
        snprintf(err, err_len, "the store cannot be written: %s", sk_strerror(rc));
        return rc;
    }
    rc = write_id_file(path, id);
    if (rc != SK_OK)
        snprintf(err, err_len, "%s: cannot be written", path);
    return rc;
}

int sk_store_bind_check(sk_store *store, const char *dir, char *err, size_t err_len)
{
    char what[256];
    uint8_t stored[STORE_ID_LEN], filed[STORE_ID_LEN];
    size_t stored_len = 0;
    int rc = sk_store_check(store, what, sizeof what);
    if (rc != SK_OK) {
        snprintf(err, err_len, "the store fails its consistency check: %s", what);
        return rc;
    }
    char *path = sk_path_join(dir, STORE_ID_FILE);
    if (path == NULL)
        return SK_ERR_NOMEM;
    rc = sk_store_meta_get(store, NULL, "store_id", stored, sizeof stored, &stored_len);
    int frc = read_id_file(path, filed);
    if (rc != SK_OK && rc != SK_ERR_NOT_FOUND) {
        snprintf(err, err_len, "the store cannot be read: %s", sk_strerror(rc));
    } else if (frc != SK_OK && frc != SK_ERR_NOT_FOUND) {
        snprintf(err, err_len, "%s: not a store id", path);
        rc = SK_SVC_ERR_CONFIG;
    } else if (frc == SK_OK && rc == SK_ERR_NOT_FOUND) {
        snprintf(err, err_len, "the store is empty, but %s names the store this server used",
                 path);
        rc = SK_SVC_ERR_CONFIG;
    } else if (frc == SK_OK &&
               (stored_len != STORE_ID_LEN || sodium_memcmp(stored, filed, STORE_ID_LEN) != 0)) {
        snprintf(err, err_len, "the store is not the one %s names", path);
        rc = SK_SVC_ERR_CONFIG;
    } else {
        rc = SK_OK;
    }
    free(path);
    return rc;
}

int sk_store_bind(sk_store *store, const char *dir, bool new_store, uint64_t now, char *err,
                  size_t err_len)
{
    char what[256];
    uint8_t stored[STORE_ID_LEN], filed[STORE_ID_LEN], when[8];
    size_t stored_len = 0;
    int rc = sk_store_check(store, what, sizeof what);
    if (rc != SK_OK) {
        snprintf(err, err_len, "the store fails its consistency check: %s", what);
        return rc;
    }
    /* a store that opens but cannot be written is refused here, not at the
     * first request */
    for (int i = 0; i < 8; i++)
        when[i] = (uint8_t)(now >> (56 - 8 * i));
    rc = sk_store_meta_put(store, NULL, "last_start", when, sizeof when);
    if (rc != SK_OK) {
        snprintf(err, err_len,
                 "the store cannot be written (%s): check the permissions of the database "
                 "file and its directory, and the free space",
                 sk_strerror(rc));
        return rc;
    }
    char *path = sk_path_join(dir, STORE_ID_FILE);
    if (path == NULL)
        return SK_ERR_NOMEM;
    rc = sk_store_meta_get(store, NULL, "store_id", stored, sizeof stored, &stored_len);
    bool has_stored = rc == SK_OK && stored_len == STORE_ID_LEN;
    if (rc == SK_OK && !has_stored) {
        snprintf(err, err_len, "the store's id is malformed");
        rc = SK_SVC_ERR_CONFIG;
        goto out;
    }
    if (rc != SK_OK && rc != SK_ERR_NOT_FOUND) {
        snprintf(err, err_len, "the store cannot be read: %s", sk_strerror(rc));
        goto out;
    }
    int frc = read_id_file(path, filed);
    if (frc != SK_OK && frc != SK_ERR_NOT_FOUND) {
        snprintf(err, err_len, "%s: not a store id (%s)", path, sk_svc_strerror(frc));
        rc = SK_SVC_ERR_CONFIG;
        goto out;
    }
    bool has_filed = frc == SK_OK;
    if (new_store) {
        if (has_stored) {
            snprintf(err, err_len,
                     "--new-store: the store is not empty (it has an id); it is only for "
                     "starting afresh on an empty store");
            rc = SK_SVC_ERR_CONFIG;
            goto out;
        }
        rc = new_id(store, path, err, err_len);
        if (rc == SK_OK)
            sk_log_notice("--new-store: a new, empty store (every key enrolled before is "
                          "unknown to this server)");
        goto out;
    }
    if (has_stored && has_filed) {
        if (sodium_memcmp(stored, filed, STORE_ID_LEN) != 0) {
            snprintf(err, err_len,
                     "the store is not the one this server used (its id differs from %s): "
                     "another deployment's database, or a copy of it; if this is intended, "
                     "remove %s",
                     path, path);
            rc = SK_SVC_ERR_CONFIG;
        }
        goto out;
    }
    if (has_stored) {
        rc = write_id_file(path, stored); /* a new directory for this store */
        if (rc != SK_OK)
            snprintf(err, err_len, "%s: cannot be written", path);
        goto out;
    }
    if (has_filed) {
        snprintf(err, err_len,
                 "the store is empty, but this server has used a store before (%s): the "
                 "database was lost or replaced.  Restore it (doc/operations.md, backup and "
                 "restore), or start with --new-store to begin with an empty store (every key "
                 "enrolled before is then unknown to this server)",
                 path);
        rc = SK_SVC_ERR_CONFIG;
        goto out;
    }
    rc = new_id(store, path, err, err_len); /* the first start */
out:
    free(path);
    return rc;
}
