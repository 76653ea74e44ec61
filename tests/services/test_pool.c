/* SPDX-License-Identifier: Apache-2.0 */
/* test_pool.c - server-key pool: fill, take, seal binding, refill thread. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <sqlite3.h>

#include "pool.h"
#include "seal.h"
#include "splitkey/key.h"
#include "splitkey/splitkey.h"
#include "store.h"
#include "svctest.h"
#include "testutil.h"

static sk_store *open_at(const char *dir, const char *name, char **path_out)
{
    char *path = sv_path(dir, name);
    char uri[4200];
    snprintf(uri, sizeof uri, "sqlite:%s", path);
    sk_store *s = NULL;
    CHECK_OK(sk_store_open(&s, uri));
    *path_out = path;
    return s;
}

int main(void)
{
    sk_test_init();
    char *tmp = sv_tmpdir("pool");
    uint8_t kb[32];
    randombytes_buf(kb, sizeof kb);
    sk_master_key *mk;
    CHECK_OK(sk_master_key_from_bytes(&mk, kb, sizeof kb));

    char *path;
    sk_store *s = open_at(tmp, "a.db", &path);
    size_t count;
    sk_server_key *key = NULL;
    CHECK_RC(SK_ERR_NOT_FOUND, sk_pool_take_key(s, NULL, mk, SK_PROFILE_4K, &key));
    CHECK_OK(sk_pool_fill_one(s, mk, SK_PROFILE_4K));
    CHECK_OK(sk_pool_fill_one(s, mk, SK_PROFILE_4K));
    CHECK_OK(sk_store_pool_count(s, NULL, &count, SK_PROFILE_4K));
    CHECK(count == 2);

    /* a take inside a transaction yields a whole key of the profile */
    sk_store_txn *txn;
    CHECK_OK(sk_store_begin(s, &txn));
    CHECK_OK(sk_pool_take_key(s, txn, mk, SK_PROFILE_4K, &key));
    CHECK(key != NULL && sk_server_key_profile(key) == SK_PROFILE_4K);
    uint8_t n2[256];
    CHECK_OK(sk_server_key_modulus(key, n2, sizeof n2));
    CHECK((n2[0] & 0x80) != 0); /* a full 2048-bit modulus */
    sk_server_key_free(key);
    sk_store_rollback(txn); /* an enrolment that fails puts the key back */
    CHECK_OK(sk_store_pool_count(s, NULL, &count, SK_PROFILE_4K));
    CHECK(count == 2);

    CHECK_OK(sk_pool_take_key(s, NULL, mk, SK_PROFILE_4K, &key));
    sk_server_key_free(key);
    CHECK_OK(sk_store_pool_count(s, NULL, &count, SK_PROFILE_4K));
    CHECK(count == 1);
    CHECK_RC(SK_ERR_NOT_FOUND, sk_pool_take_key(s, NULL, mk, SK_PROFILE_6K, &key));

    /* a blob swapped onto another pool id does not open */
    sk_store_close(s);
    sqlite3 *db;
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, "UPDATE server_key_pool SET pool_id = zeroblob(16)", NULL, NULL,
                       NULL) == SQLITE_OK);
    sqlite3_close(db);
    char uri[4200];
    snprintf(uri, sizeof uri, "sqlite:%s", path);
    CHECK_OK(sk_store_open(&s, uri));
    CHECK_RC(SK_ERR_PROTO_AUTH, sk_pool_take_key(s, NULL, mk, SK_PROFILE_4K, &key));
    CHECK(key == NULL);
    /* and a wrong master key opens nothing */
    CHECK_OK(sk_pool_fill_one(s, mk, SK_PROFILE_4K));
    sk_master_key *other;
    kb[0] ^= 1;
    CHECK_OK(sk_master_key_from_bytes(&other, kb, sizeof kb));
    CHECK_RC(SK_ERR_PROTO_AUTH, sk_pool_take_key(s, NULL, other, SK_PROFILE_4K, &key));
    sk_master_key_free(other);
    sk_store_close(s);
    free(path);

    /* the refill thread brings every configured profile up to its target
     * and then stops adding */
    s = open_at(tmp, "b.db", &path);
    sk_pool_config pc = {.store = s, .master = mk, .profiles = {SK_PROFILE_4K},
                         .nprofiles = 1, .target = 3, .recheck_ms = 50};
    sk_pool_filler *f;
    CHECK_OK(sk_pool_filler_start(&f, &pc));
    do {
        sv_sleep_ms(20);
        CHECK_OK(sk_store_pool_count(s, NULL, &count, SK_PROFILE_4K));
    } while (count < 3);
    sv_sleep_ms(200); /* several recounts */
    CHECK_OK(sk_store_pool_count(s, NULL, &count, SK_PROFILE_4K));
    CHECK(count == 3);
    CHECK(sk_pool_filler_added(f) == 3);
    /* a take is refilled */
    CHECK_OK(sk_pool_take_key(s, NULL, mk, SK_PROFILE_4K, &key));
    sk_server_key_free(key);
    sk_pool_filler_kick(f);
    while (sk_pool_filler_added(f) < 4)
        sv_sleep_ms(20);
    CHECK_OK(sk_store_pool_count(s, NULL, &count, SK_PROFILE_4K));
    CHECK(count == 3);
    sk_pool_filler_stop(f);

    /* target 0: no thread, nothing added */
    pc.target = 0;
    CHECK_OK(sk_pool_filler_start(&f, &pc));
    CHECK(sk_pool_filler_added(f) == 0);
    sk_pool_filler_stop(f);

    sk_store_close(s);
    free(path);
    sk_master_key_free(mk);
    sodium_memzero(kb, sizeof kb);
    sv_rmtree(tmp);
    free(tmp);
    return sk_test_done("test_svc_pool");
}
