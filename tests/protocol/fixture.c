/* SPDX-License-Identifier: Apache-2.0 */
/* fixture.c - the session tests' shared set-up and record checks
 * (fixture.h). */
#include <string.h>

#include "fixture.h"
#include "protocol/server/server_internal.h"

static uint8_t msg[SK_MAX_MESSAGE_LEN], reply[SK_MAX_MESSAGE_LEN];
static uint8_t rec_before[SK_MAX_RECORD_LEN];

world *fixture_new(sk_device_key **key)
{
    world *w = world_new();
    *key = NULL;
    CHECK_OK(world_enrol(w, key, SK_PROFILE_4K, SK_PURPOSE_SIGN, PIN_SIGN, NULL, true));
    return w;
}

void fixture_key_id(const sk_device_key *key, uint8_t *kid)
{
    CHECK_OK(sk_device_key_id(key, kid, SK_KEY_ID_LEN));
}

sk_key_status fixture_status(world *w, const sk_device_key *key)
{
    uint8_t kid[SK_KEY_ID_LEN];
    sk_key_status st;
    memset(&st, 0, sizeof st);
    fixture_key_id(key, kid);
    sk_key_rec *r = world_key_record(w, kid);
    CHECK(r != NULL);
    if (r != NULL)
        sk_key_rec_status(r, &st, &w->policy, w->now);
    sk_key_rec_free(r);
    return st;
}

size_t fixture_snapshot(world *w, const sk_device_key *key)
{
    uint8_t kid[SK_KEY_ID_LEN];
    fixture_key_id(key, kid);
    w_key *k = world_key(w, kid);
    if (k == NULL)
        return 0;
    memcpy(rec_before, k->rec, k->rec_len);
    return k->rec_len;
}

bool fixture_only_otp_moved(world *w, const sk_device_key *key, size_t before_len)
{
    uint8_t kid[SK_KEY_ID_LEN];
    fixture_key_id(key, kid);
    w_key *k = world_key(w, kid);
    return k != NULL && world_same_but_otp(rec_before, before_len, k->rec, k->rec_len);
}

sk_device_session *fixture_fetch(world *w, sk_device_key *key)
{
    size_t len = 0, rlen = 0;
    sk_device_session *s = NULL;
    sk_key_status st;
    CHECK_OK(sk_device_fetch(key, msg, sizeof msg, &len, w->now));
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    int rc = sk_device_read_session(key, &s, &st, reply, rlen);
    CHECK(rc == SK_OK || rc == SK_ERR_NOT_FOUND);
    return s;
}
