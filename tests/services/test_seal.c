/* SPDX-License-Identifier: Apache-2.0 */
/* test_seal.c - sealing at rest: round trip, tamper, wrong associated data,
 * wrong key, and master key files. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "seal.h"
#include "splitkey/splitkey.h"
#include "svc_error.h"
#include "svctest.h"
#include "testutil.h"

int main(void)
{
    sk_test_init();
    char *tmp = sv_tmpdir("seal");
    uint8_t kbytes[32], kbytes2[32];
    randombytes_buf(kbytes, sizeof kbytes);
    memcpy(kbytes2, kbytes, sizeof kbytes2);
    kbytes2[31] ^= 1;
    sk_master_key *mk, *mk2;
    CHECK_OK(sk_master_key_from_bytes(&mk, kbytes, sizeof kbytes));
    CHECK_OK(sk_master_key_from_bytes(&mk2, kbytes2, sizeof kbytes2));
    sk_master_key *mk3 = (sk_master_key *)&kbytes;
    CHECK_RC(SK_ERR_KEY_FORMAT, sk_master_key_from_bytes(&mk3, kbytes, 31));
    CHECK(mk3 == NULL);

    uint8_t key_id[16], other_id[16];
    randombytes_buf(key_id, sizeof key_id);
    memcpy(other_id, key_id, 16);
    other_id[0] ^= 0x80;
    uint8_t plain[200], out[200];
    randombytes_buf(plain, sizeof plain);
    size_t sl = sk_sealed_len(sizeof plain);
    CHECK(sl == sizeof plain + SK_SEAL_OVERHEAD);
    uint8_t *sealed = malloc(sl), *sealed2 = malloc(sl), *t = malloc(sl);
    CHECK_OK(sk_seal(mk, sealed, sl, plain, sizeof plain, key_id, 16));
    CHECK_RC(SK_ERR_ARG, sk_seal(mk, sealed2, sl - 1, plain, sizeof plain, key_id, 16));
    CHECK_OK(sk_seal(mk, sealed2, sl, plain, sizeof plain, key_id, 16));
    CHECK(memcmp(sealed, sealed2, sl) != 0);              /* fresh nonce each time */
    CHECK(memmem(sealed, sl, plain, 16) == NULL);         /* no plaintext visible */

    size_t n = 0;
    CHECK_OK(sk_unseal(mk, out, sizeof out, &n, sealed, sl, key_id, 16));
    CHECK(n == sizeof plain && memcmp(out, plain, n) == 0);

    /* wrong associated data: the blob of another key */
    memset(out, 0x5C, sizeof out);
    CHECK_RC(SK_ERR_PROTO_AUTH, sk_unseal(mk, out, sizeof out, &n, sealed, sl, other_id, 16));
    CHECK(n == 0);
    uint8_t zero[200] = {0};
    CHECK(memcmp(out, zero, sizeof out) == 0); /* output wiped on failure */
    /* wrong master key */
    CHECK_RC(SK_ERR_PROTO_AUTH, sk_unseal(mk2, out, sizeof out, &n, sealed, sl, key_id, 16));

    /* every single-bit change after the magic is caught */
    int caught = 1;
    for (size_t i = 4; i < sl; i++) {
        memcpy(t, sealed, sl);
        t[i] ^= (uint8_t)(1u << (i % 8));
        if (sk_unseal(mk, out, sizeof out, &n, t, sl, key_id, 16) != SK_ERR_PROTO_AUTH)
            caught = 0;
    }
    CHECK(caught);
    memcpy(t, sealed, sl);
    t[0] = 'X';
    CHECK_RC(SK_ERR_KEY_FORMAT, sk_unseal(mk, out, sizeof out, &n, t, sl, key_id, 16));
    CHECK_RC(SK_ERR_KEY_FORMAT,
             sk_unseal(mk, out, sizeof out, &n, sealed, SK_SEAL_OVERHEAD - 1, key_id, 16));
    CHECK_RC(SK_ERR_PROTO_AUTH, sk_unseal(mk, out, sizeof out, &n, sealed, sl - 1, key_id, 16));
    CHECK_RC(SK_ERR_BUFFER_TOO_SMALL,
             sk_unseal(mk, out, sizeof plain - 1, &n, sealed, sl, key_id, 16));

    /* master key files */
    char *mpath = sv_path(tmp, "master.key");
    CHECK_OK(sk_master_key_create(mpath));
    CHECK(sv_mode(mpath) == 0600);
    CHECK_RC(SK_SVC_ERR_EXISTS, sk_master_key_create(mpath));
    sk_master_key *loaded;
    CHECK_OK(sk_master_key_load(&loaded, mpath));
    uint8_t s3[sizeof plain + SK_SEAL_OVERHEAD];
    CHECK_OK(sk_seal(loaded, s3, sizeof s3, plain, sizeof plain, key_id, 16));
    sk_master_key_free(loaded);
    CHECK_OK(sk_master_key_load(&loaded, mpath)); /* same key after reloading */
    CHECK_OK(sk_unseal(loaded, out, sizeof out, &n, s3, sizeof s3, key_id, 16));
    CHECK(n == sizeof plain && memcmp(out, plain, n) == 0);
    sk_master_key_free(loaded);
    chmod(mpath, 0640);
    CHECK_RC(SK_SVC_ERR_PERM, sk_master_key_load(&loaded, mpath));
    CHECK(loaded == NULL);
    char *short_path = sv_path(tmp, "short.key");
    CHECK(sv_write(short_path, "too short") == 0);
    CHECK_RC(SK_ERR_KEY_FORMAT, sk_master_key_load(&loaded, short_path));
    char *none = sv_path(tmp, "none.key");
    CHECK_RC(SK_ERR_NOT_FOUND, sk_master_key_load(&loaded, none));

    free(none);
    free(short_path);
    free(mpath);
    free(sealed);
    free(sealed2);
    free(t);
    sk_master_key_free(mk);
    sk_master_key_free(mk2);
    sv_rmtree(tmp);
    free(tmp);
    return sk_test_done("test_svc_seal");
}
