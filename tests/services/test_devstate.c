/* SPDX-License-Identifier: Apache-2.0 */
/* test_devstate.c - the state directory of splitkey-client has one writer.
 *
 * The lock on DIR/lock keeps two commands apart (e2e_state_lock).  Behind it
 * stands a compare-and-swap on the state's generation: a writer whose view
 * of the state is not the stored one writes nothing.  Within one process
 * fcntl locks do not exclude each other, so two devstate handles here play
 * two commands for which the lock did not hold. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "devstate.h"
#include "fileio.h"
#include "splitkey/splitkey.h"
#include "svc_error.h"
#include "svctest.h"
#include "testutil.h"
#include "world.h"

static uint8_t msg[SK_MAX_MESSAGE_LEN], reply[SK_MAX_MESSAGE_LEN];

/* One key-state round trip: the state moves on by a request and a reply. */
static void round_trip(world *w, sk_device_key *key)
{
    size_t len = 0, rlen = 0;
    sk_key_status st;
    uint64_t before = sk_device_key_generation(key);
    CHECK_OK(sk_device_key_state_request(key, msg, sizeof msg, &len, w->now));
    CHECK(sk_device_key_generation(key) > before);
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK_OK(sk_device_read_reply(key, &st, reply, rlen));
}

static uint64_t stored_generation(const char *dir)
{
    devstate s;
    char err[256];
    sk_device_key *key = NULL;
    uint64_t gen = UINT64_MAX;
    CHECK_OK(devstate_open(&s, dir, false, err, sizeof err));
    CHECK_OK(devstate_load(&s, SK_PURPOSE_SIGN, &key, NULL, err, sizeof err));
    if (key != NULL)
        gen = sk_device_key_generation(key);
    sk_device_key_free(key);
    devstate_close(&s);
    return gen;
}

int main(void)
{
    sk_test_init();
    char *tmp = sv_tmpdir("devstate");
    char *dir = sv_path(tmp, "dev");
    char err[256];
    world *w = world_new();
    sk_device_key *key = NULL, *ka = NULL, *kb = NULL;
    devstate a, b, c;
    uint8_t *old = NULL;
    size_t old_len = 0;
    CHECK_OK(world_enrol(w, &key, SK_PROFILE_4K, SK_PURPOSE_SIGN, PIN_SIGN, NULL, true));
    if (key == NULL)
        goto out;

    /* the first write where nothing was stored or loaded */
    CHECK_OK(devstate_open(&a, dir, true, err, sizeof err));
    CHECK_OK(devstate_save(&a, key));
    devstate_close(&a);
    CHECK(stored_generation(dir) == sk_device_key_generation(key));

    /* two commands load the same state */
    CHECK_OK(devstate_open(&a, dir, false, err, sizeof err));
    CHECK_OK(devstate_open(&b, dir, false, err, sizeof err));
    CHECK_OK(devstate_load(&a, SK_PURPOSE_SIGN, &ka, NULL, err, sizeof err));
    CHECK_OK(devstate_load(&b, SK_PURPOSE_SIGN, &kb, NULL, err, sizeof err));
    if (ka == NULL || kb == NULL)
        goto out;
    char *path = devstate_path(&a, SK_PURPOSE_SIGN, "state");
    CHECK_OK(sk_file_read(&old, &old_len, path, SK_MAX_MESSAGE_LEN, SK_FILE_SECRET));

    /* b moves on and writes, twice (its own writes follow each other) */
    round_trip(w, kb);
    CHECK_OK(devstate_save(&b, kb));
    round_trip(w, kb);
    CHECK_OK(devstate_save(&b, kb));
    uint64_t newest = sk_device_key_generation(kb);
    CHECK(stored_generation(dir) == newest);

    /* a, still on the old view, builds a request: its write is refused and
     * the stored state stays b's (its OTP would have been rolled back) */
    size_t len = 0;
    CHECK_OK(sk_device_key_state_request(ka, msg, sizeof msg, &len, w->now));
    CHECK_RC(SK_SVC_ERR_STALE, devstate_save(&a, ka));
    CHECK(stored_generation(dir) == newest);

    /* a state put back from an older copy under a running command: that
     * command's next write is refused too */
    CHECK_OK(sk_file_write_atomic(path, old, old_len, SK_FILE_SECRET_MODE, 0));
    round_trip(w, kb);
    CHECK_RC(SK_SVC_ERR_STALE, devstate_save(&b, kb));
    CHECK(stored_generation(dir) < newest);

    /* a handle that loaded nothing may not write over a stored state */
    CHECK_OK(devstate_open(&c, dir, false, err, sizeof err));
    CHECK_RC(SK_SVC_ERR_STALE, devstate_save(&c, kb));
    devstate_close(&c);

    /* loading again is the way on */
    sk_device_key_free(ka);
    ka = NULL;
    CHECK_OK(devstate_load(&a, SK_PURPOSE_SIGN, &ka, NULL, err, sizeof err));
    CHECK(ka != NULL && sk_device_key_generation(ka) < newest);
    free(path);
    devstate_close(&a);
    devstate_close(&b);
out:
    sk_file_free(old, old_len);
    sk_device_key_free(ka);
    sk_device_key_free(kb);
    sk_device_key_free(key);
    world_free(w);
    sv_rmtree(tmp);
    free(dir);
    free(tmp);
    return sk_test_done("test_devstate");
}
