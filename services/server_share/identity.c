/* SPDX-License-Identifier: Apache-2.0 */
/* identity.c - create and load the share server's keys. */
#define _POSIX_C_SOURCE 200809L
#include "identity.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "fileio.h"
#include "seal.h"
#include "splitkey/splitkey.h"
#include "svc_error.h"

static const char default_conf[] =
    "# splitkey-server configuration: one \"key = value\" per line.\n"
    "# Command-line flags override these; relative paths are relative to this\n"
    "# directory.  See doc/operations.md.\n"
    "#\n"
    "# listen = tcp://127.0.0.1:7300\n"
    "db = sqlite:" SK_SERVER_FILE_DB "\n"
    "# ca = tcp://127.0.0.1:7400\n"
    "open-enrolment = false\n"
    "# requests served at once; 0 = one per CPU\n"
    "workers = 0\n"
    "# pre-generated server keys kept per profile, and for which profiles\n"
    "pool-size = 4\n"
    "pool-profiles = 6K\n";

static const char *const identity_files[] = {SK_SERVER_FILE_MASTER, SK_SERVER_FILE_KX,
                                             SK_SERVER_FILE_SIGN, SK_SERVER_FILE_PUB,
                                             SK_SERVER_FILE_CONF};
#define N_IDENTITY_FILES (sizeof identity_files / sizeof identity_files[0])

static void remove_created(const char *dir, const int *created)
{
    for (size_t i = 0; i < N_IDENTITY_FILES; i++) {
        if (!created[i])
            continue;
        char *p = sk_path_join(dir, identity_files[i]);
        if (p != NULL)
            unlink(p);
        free(p);
    }
}

int sk_server_identity_create(const char *dir, char *err, size_t err_len)
{
    int rc = SK_SVC_ERR_IO;
    int created[N_IDENTITY_FILES] = {0};
    char *paths[N_IDENTITY_FILES] = {0};
    sk_server_pub pub;
    uint8_t *kx_sk = sodium_malloc(SK_KX_SECRET_LEN);
    uint8_t *sign_sk = sodium_malloc(SK_SIGN_SECRET_LEN);
    char pubtext[SK_SERVER_PUB_MAX];

    if (kx_sk == NULL || sign_sk == NULL) {
        rc = SK_ERR_NOMEM;
        snprintf(err, err_len, "out of memory");
        goto out;
    }
    if (!sk_is_dir(dir)) {
        if (mkdir(dir, 0700) != 0) {
            rc = SK_SVC_ERR_CONFIG;
            snprintf(err, err_len, "cannot create directory %s: %s", dir, strerror(errno));
            goto out;
        }
    }
    for (size_t i = 0; i < N_IDENTITY_FILES; i++) {
        paths[i] = sk_path_join(dir, identity_files[i]);
        if (paths[i] == NULL) {
            rc = SK_ERR_NOMEM;
            snprintf(err, err_len, "out of memory");
            goto out;
        }
        if (sk_path_exists(paths[i])) {
            rc = SK_SVC_ERR_EXISTS;
            snprintf(err, err_len,
                     "%s exists: %s already holds a server identity; refusing to overwrite it",
                     paths[i], dir);
            goto out;
        }
    }

    crypto_kx_keypair(pub.kx_pub, kx_sk);
    crypto_sign_keypair(pub.sign_pub, sign_sk);
    rc = sk_server_pub_format(pubtext, sizeof pubtext, &pub);
    if (rc != SK_OK)
        goto out;

    /* secrets first; the public file last, so its presence means complete */
    rc = sk_master_key_create(paths[0]);
    created[0] = rc == SK_OK;
    if (rc == SK_OK) {
        rc = sk_file_write_atomic(paths[1], kx_sk, SK_KX_SECRET_LEN, SK_FILE_SECRET_MODE,
                                  SK_FILE_NO_REPLACE);
        created[1] = rc == SK_OK;
    }
    if (rc == SK_OK) {
        rc = sk_file_write_atomic(paths[2], sign_sk, SK_SIGN_SECRET_LEN, SK_FILE_SECRET_MODE,
                                  SK_FILE_NO_REPLACE);
        created[2] = rc == SK_OK;
    }
    if (rc == SK_OK) {
        rc = sk_file_write_atomic(paths[4], (const uint8_t *)default_conf,
                                  sizeof default_conf - 1, SK_FILE_SECRET_MODE,
                                  SK_FILE_NO_REPLACE);
        created[4] = rc == SK_OK;
    }
    if (rc == SK_OK) {
        rc = sk_file_write_atomic(paths[3], (const uint8_t *)pubtext, strlen(pubtext),
                                  SK_FILE_PUBLIC_MODE, SK_FILE_NO_REPLACE);
        created[3] = rc == SK_OK;
    }
    if (rc != SK_OK) {
        if (rc == SK_SVC_ERR_EXISTS)
            snprintf(err, err_len, "%s: a file appeared while creating the identity; refusing "
                     "to overwrite it", dir);
        else
            snprintf(err, err_len, "cannot write the identity in %s: %s", dir,
                     strerror(errno));
        remove_created(dir, created);
    }
out:
    for (size_t i = 0; i < N_IDENTITY_FILES; i++)
        free(paths[i]);
    sodium_free(kx_sk);
    sodium_free(sign_sk);
    return rc;
}

/* Reads a secret file of exactly len bytes into out. */
static int load_secret(uint8_t *out, size_t len, const char *dir, const char *name, char *err,
                       size_t err_len)
{
    char *path = sk_path_join(dir, name);
    if (path == NULL)
        return SK_ERR_NOMEM;
    uint8_t *buf;
    size_t got;
    int rc = sk_file_read(&buf, &got, path, 4096, SK_FILE_SECRET);
    if (rc == SK_OK && got != len) {
        rc = SK_ERR_KEY_FORMAT;
        sk_file_free(buf, got);
    } else if (rc == SK_OK) {
        memcpy(out, buf, len);
        sk_file_free(buf, got);
    }
    if (rc != SK_OK)
        snprintf(err, err_len, "%s: %s", path,
                 rc == SK_ERR_KEY_FORMAT ? "wrong size" : sk_svc_strerror(rc));
    free(path);
    return rc;
}

int sk_server_identity_load(sk_server_identity **out, const char *dir, char *err,
                            size_t err_len)
{
    *out = NULL;
    sk_server_identity *id = sodium_malloc(sizeof *id);
    if (id == NULL)
        return SK_ERR_NOMEM;
    memset(id, 0, sizeof *id);
    char *pub_path = sk_path_join(dir, SK_SERVER_FILE_PUB);
    int rc = pub_path ? SK_OK : SK_ERR_NOMEM;
    if (rc == SK_OK) {
        rc = sk_server_pub_load(&id->pub, pub_path);
        if (rc != SK_OK)
            snprintf(err, err_len, "%s: %s", pub_path, sk_svc_strerror(rc));
    }
    if (rc == SK_OK)
        rc = load_secret(id->kx_secret, SK_KX_SECRET_LEN, dir, SK_SERVER_FILE_KX, err, err_len);
    if (rc == SK_OK)
        rc = load_secret(id->sign_secret, SK_SIGN_SECRET_LEN, dir, SK_SERVER_FILE_SIGN, err,
                         err_len);
    if (rc == SK_OK) {
        uint8_t pk[crypto_scalarmult_BYTES];
        uint8_t spk[crypto_sign_PUBLICKEYBYTES];
        crypto_scalarmult_base(pk, id->kx_secret);
        crypto_sign_ed25519_sk_to_pk(spk, id->sign_secret);
        if (sodium_memcmp(pk, id->pub.kx_pub, sizeof pk) != 0 ||
            sodium_memcmp(spk, id->pub.sign_pub, sizeof spk) != 0) {
            rc = SK_ERR_KEY_MISMATCH;
            snprintf(err, err_len, "%s does not match the secret keys in %s", pub_path, dir);
        }
    }
    free(pub_path);
    if (rc != SK_OK) {
        sodium_free(id);
        return rc;
    }
    sodium_mprotect_readonly(id);
    *out = id;
    return SK_OK;
}

void sk_server_identity_free(sk_server_identity *id)
{
    if (id != NULL)
        sodium_free(id);
}
