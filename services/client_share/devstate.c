/* SPDX-License-Identifier: Apache-2.0 */
/* devstate.c - the state directory of splitkey-client. */
#define _POSIX_C_SOURCE 200809L
#include "devstate.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "fileio.h"
#include "splitkey/splitkey.h"
#include "svc_error.h"

#define STORAGE_KEY_FILE "storage.key"
#define LOCK_FILE "lock"

/* One command at a time per state directory: an exclusive lock on DIR/lock
 * for the whole command, so two commands never build requests from the same
 * one-time password (which the server would rightly take for a clone).  A
 * second command waits for the first. */
static int take_lock(devstate *st, char *err, size_t err_len)
{
    char *path = sk_path_join(st->dir, LOCK_FILE);
    if (path == NULL)
        return SK_ERR_NOMEM;
    st->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    free(path);
    if (st->lock_fd < 0) {
        snprintf(err, err_len, "--state %s: cannot open its lock: %s", st->dir, strerror(errno));
        return SK_SVC_ERR_IO;
    }
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    while (fcntl(st->lock_fd, F_SETLKW, &fl) != 0) {
        if (errno != EINTR) {
            snprintf(err, err_len, "--state %s: cannot lock: %s", st->dir, strerror(errno));
            return SK_SVC_ERR_IO;
        }
    }
    return SK_OK;
}

const char *devstate_purpose_name(sk_purpose purpose)
{
    return purpose == SK_PURPOSE_SIGN ? "sign" : purpose == SK_PURPOSE_SEAL ? "seal" : "auth";
}

int devstate_purpose_parse(sk_purpose *out, const char *name)
{
    if (name != NULL && strcmp(name, "auth") == 0)
        *out = SK_PURPOSE_AUTH;
    else if (name != NULL && strcmp(name, "sign") == 0)
        *out = SK_PURPOSE_SIGN;
    else if (name != NULL && strcmp(name, "seal") == 0)
        *out = SK_PURPOSE_SEAL;
    else
        return SK_ERR_ARG;
    return SK_OK;
}

char *devstate_path(const devstate *st, sk_purpose purpose, const char *suffix)
{
    char name[64];
    snprintf(name, sizeof name, "%s.%s", devstate_purpose_name(purpose), suffix);
    return sk_path_join(st->dir, name);
}

static int load_storage_key(devstate *st, const char *path, char *err, size_t err_len)
{
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = sk_file_read(&data, &len, path, 1024, SK_FILE_SECRET);
    if (rc == SK_SVC_ERR_PERM) {
        snprintf(err, err_len, "%s: readable by others; it must be mode 0600", path);
        return rc;
    }
    if (rc != SK_OK) {
        snprintf(err, err_len, "%s: %s", path, sk_svc_strerror(rc));
        return rc;
    }
    if (len != SK_STORAGE_KEY_LEN) {
        sk_file_free(data, len);
        snprintf(err, err_len, "%s: not a %u-byte storage key", path, SK_STORAGE_KEY_LEN);
        return SK_ERR_KEY_FORMAT;
    }
    memcpy(st->storage_key, data, SK_STORAGE_KEY_LEN);
    sk_file_free(data, len);
    st->have_key = true;
    return SK_OK;
}

int devstate_open(devstate *st, const char *dir, bool create, char *err, size_t err_len)
{
    memset(st, 0, sizeof *st);
    st->lock_fd = -1;
    if (dir == NULL || dir[0] == '\0') {
        snprintf(err, err_len, "missing --state DIR");
        return SK_SVC_ERR_CONFIG;
    }
    if (!sk_is_dir(dir)) {
        if (!create || sk_path_exists(dir)) {
            snprintf(err, err_len, "--state %s: no such state directory%s", dir,
                     create ? "" : " (enrol a key first)");
            return SK_SVC_ERR_CONFIG;
        }
        if (mkdir(dir, 0700) != 0) {
            snprintf(err, err_len, "--state %s: cannot create: %s", dir, strerror(errno));
            return SK_SVC_ERR_IO;
        }
        st->made_dir = true;
    }
    st->dir = strdup(dir);
    char *path = sk_path_join(dir, STORAGE_KEY_FILE);
    if (st->dir == NULL || path == NULL) {
        free(path);
        devstate_close(st);
        return SK_ERR_NOMEM;
    }
    int rc = take_lock(st, err, err_len);
    if (rc != SK_OK) {
        free(path);
        devstate_close(st);
        return rc;
    }
    if (sk_path_exists(path)) {
        rc = load_storage_key(st, path, err, err_len);
    } else if (!create) {
        snprintf(err, err_len, "--state %s: no storage key (enrol a key first)", dir);
        rc = SK_SVC_ERR_CONFIG;
    } else {
        randombytes_buf(st->storage_key, sizeof st->storage_key);
        rc = sk_file_write_atomic(path, st->storage_key, sizeof st->storage_key,
                                  SK_FILE_SECRET_MODE, SK_FILE_NO_REPLACE);
        if (rc != SK_OK)
            snprintf(err, err_len, "%s: cannot write: %s", path, sk_svc_strerror(rc));
        else
            st->have_key = st->made_key = true;
    }
    free(path);
    if (rc != SK_OK)
        devstate_close(st);
    return rc;
}

void devstate_discard_new(devstate *st)
{
    if (st->dir == NULL || devstate_has(st, SK_PURPOSE_AUTH) || devstate_has(st, SK_PURPOSE_SIGN) ||
        devstate_has(st, SK_PURPOSE_SEAL))
        return;
    if (st->made_key) {
        char *path = sk_path_join(st->dir, STORAGE_KEY_FILE);
        if (path != NULL && remove(path) == 0)
            st->made_key = false;
        free(path);
    }
    if (st->made_dir && !st->made_key) {
        char *lock = sk_path_join(st->dir, LOCK_FILE);
        if (lock != NULL)
            (void)remove(lock);
        free(lock);
    }
    if (st->made_dir && !st->made_key && rmdir(st->dir) == 0)
        st->made_dir = false;
}

void devstate_close(devstate *st)
{
    if (st->lock_fd >= 0)
        close(st->lock_fd); /* releases the lock */
    free(st->dir);
    sk_wipe(st, sizeof *st);
}

int devstate_has(const devstate *st, sk_purpose purpose)
{
    char *path = devstate_path(st, purpose, "state");
    int has = path != NULL && sk_path_exists(path);
    free(path);
    return has;
}

static int slot(sk_purpose purpose)
{
    return purpose == SK_PURPOSE_SIGN ? 1 : purpose == SK_PURPOSE_SEAL ? 2 : 0;
}

int devstate_load_sealed(devstate *st, sk_purpose purpose, uint8_t **sealed, size_t *sealed_len,
                         char **server_url, char *err, size_t err_len)
{
    *sealed = NULL;
    *sealed_len = 0;
    if (server_url != NULL)
        *server_url = NULL;
    char *path = devstate_path(st, purpose, "state");
    char *url_path = devstate_path(st, purpose, "server");
    uint8_t *blob = NULL, *url = NULL;
    size_t blob_len = 0, url_len = 0;
    sk_device_key *key = NULL;
    int rc = (path && url_path) ? SK_OK : SK_ERR_NOMEM;
    if (rc == SK_OK)
        rc = sk_file_read(&blob, &blob_len, path, SK_MAX_MESSAGE_LEN, SK_FILE_SECRET);
    if (rc == SK_ERR_NOT_FOUND) {
        snprintf(err, err_len, "no %s key in %s (run splitkey-client enrol --purpose %s)",
                 devstate_purpose_name(purpose), st->dir, devstate_purpose_name(purpose));
        goto out;
    }
    if (rc != SK_OK) {
        snprintf(err, err_len, "%s: %s", path ? path : "state", sk_svc_strerror(rc));
        goto out;
    }
    rc = sk_device_key_open(&key, blob, blob_len, st->storage_key, sizeof st->storage_key);
    if (rc != SK_OK) {
        snprintf(err, err_len, "%s: cannot open the sealed state (%s)", path, sk_strerror(rc));
        goto out;
    }
    st->gen[slot(purpose)] = sk_device_key_generation(key);
    st->have_gen[slot(purpose)] = true;
    if (server_url != NULL) {
        rc = sk_file_read(&url, &url_len, url_path, 1024, 0);
        if (rc != SK_OK) {
            snprintf(err, err_len, "%s: %s", url_path, sk_svc_strerror(rc));
            goto out;
        }
        while (url_len > 0 && (url[url_len - 1] == '\n' || url[url_len - 1] == ' '))
            url[--url_len] = '\0';
        *server_url = strdup((const char *)url);
        if (*server_url == NULL)
            rc = SK_ERR_NOMEM;
    }
out:
    sk_device_key_free(key);
    if (rc == SK_OK) {
        *sealed = blob;
        *sealed_len = blob_len;
    } else {
        sk_file_free(blob, blob_len);
        if (server_url != NULL) {
            free(*server_url);
            *server_url = NULL;
        }
    }
    sk_file_free(url, url_len);
    free(path);
    free(url_path);
    return rc;
}

int devstate_load(devstate *st, sk_purpose purpose, sk_device_key **key, char **server_url,
                  char *err, size_t err_len)
{
    uint8_t *blob = NULL;
    size_t len = 0;
    *key = NULL;
    int rc = devstate_load_sealed(st, purpose, &blob, &len, server_url, err, err_len);
    if (rc == SK_OK)
        rc = sk_device_key_open(key, blob, len, st->storage_key, sizeof st->storage_key);
    if (rc != SK_OK && server_url != NULL) {
        free(*server_url);
        *server_url = NULL;
    }
    sk_file_free(blob, len);
    return rc;
}

/* The generation of the state stored for a purpose: SK_OK with *have 0
 * when none is stored. */
static int stored_generation(const devstate *st, const char *path, uint64_t *gen, bool *have)
{
    uint8_t *blob = NULL;
    size_t len = 0;
    sk_device_key *key = NULL;
    *have = false;
    int rc = sk_file_read(&blob, &len, path, SK_MAX_MESSAGE_LEN, SK_FILE_SECRET);
    if (rc == SK_ERR_NOT_FOUND)
        return SK_OK;
    if (rc == SK_OK)
        rc = sk_device_key_open(&key, blob, len, st->storage_key, sizeof st->storage_key);
    if (rc == SK_OK) {
        *gen = sk_device_key_generation(key);
        *have = true;
    }
    sk_device_key_free(key);
    sk_file_free(blob, len);
    return rc;
}

int devstate_save_sealed(devstate *st, sk_purpose purpose, uint64_t generation,
                         const uint8_t *sealed, size_t sealed_len)
{
    int i = slot(purpose);
    char *path = devstate_path(st, purpose, "state");
    uint64_t stored = 0;
    bool have = false;
    int rc = path != NULL ? SK_OK : SK_ERR_NOMEM;
    if (rc == SK_OK)
        rc = stored_generation(st, path, &stored, &have);
    if (rc == SK_OK && (have != st->have_gen[i] || (have && stored != st->gen[i])))
        rc = SK_SVC_ERR_STALE;
    if (rc == SK_OK)
        rc = sk_file_write_atomic(path, sealed, sealed_len, SK_FILE_SECRET_MODE, 0);
    if (rc == SK_OK) {
        st->gen[i] = generation;
        st->have_gen[i] = true;
    }
    free(path);
    return rc;
}

int devstate_save(devstate *st, const sk_device_key *key)
{
    uint8_t *sealed = malloc(SK_MAX_MESSAGE_LEN);
    size_t len = 0;
    int rc = sealed != NULL ? SK_OK : SK_ERR_NOMEM;
    if (rc == SK_OK)
        rc = sk_device_key_seal(key, sealed, SK_MAX_MESSAGE_LEN, &len, st->storage_key,
                                sizeof st->storage_key);
    if (rc == SK_OK)
        rc = devstate_save_sealed(st, sk_device_key_purpose(key), sk_device_key_generation(key),
                                  sealed, len);
    if (sealed != NULL) {
        sk_wipe(sealed, SK_MAX_MESSAGE_LEN);
        free(sealed);
    }
    return rc;
}

int devstate_save_server(const devstate *st, sk_purpose purpose, const char *url)
{
    char *path = devstate_path(st, purpose, "server");
    if (path == NULL)
        return SK_ERR_NOMEM;
    size_t n = strlen(url);
    char *line = malloc(n + 2);
    int rc = SK_ERR_NOMEM;
    if (line != NULL) {
        memcpy(line, url, n);
        line[n] = '\n';
        rc = sk_file_write_atomic(path, (const uint8_t *)line, n + 1, SK_FILE_PUBLIC_MODE, 0);
        free(line);
    }
    free(path);
    return rc;
}
