/* SPDX-License-Identifier: Apache-2.0 */
/* Every parser of the protocol meets mutated input (random bit flips, byte
 * changes, truncations and extensions of valid messages, from a fixed seed):
 * it returns an error code and never crashes; authenticated messages never
 * pass once changed. */
#include <string.h>

#include "splitkey.pb-c.h"
#include "world.h"

static uint64_t seed = 0x9e3779b97f4a7c15ull;
static uint64_t next(void)
{
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    return seed;
}

/* A mutation of in into out; returns its length. */
static size_t mutate(uint8_t *out, size_t cap, const uint8_t *in, size_t len)
{
    memcpy(out, in, len);
    switch (next() % 4) {
    case 0: /* flip 1-4 bits */
        for (int i = 0, n = 1 + (int)(next() % 4); i < n; i++)
            out[next() % len] ^= (uint8_t)(1u << (next() % 8));
        return len;
    case 1: /* replace a byte */
        out[next() % len] = (uint8_t)next();
        return len;
    case 2: /* truncate */
        return (size_t)(next() % len);
    default: /* extend with garbage */ {
        size_t extra = 1 + (size_t)(next() % 32);
        if (len + extra > cap)
            extra = cap - len;
        for (size_t i = 0; i < extra; i++)
            out[len + i] = (uint8_t)next();
        return len + extra;
    }
    }
}

static bool is_error(int rc) { return rc < 0 && rc >= -139; }

static uint8_t msg[SK_MAX_MESSAGE_LEN], reply[SK_MAX_MESSAGE_LEN], buf[SK_MAX_MESSAGE_LEN + 64];
static uint8_t rbuf[SK_MAX_MESSAGE_LEN];

int main(void)
{
    sk_test_init();
    world *w = world_new();
    sk_device_key *key = NULL;
    sk_key_status st;
    size_t len = 0, rlen = 0, n = 0, out_len = 0;
    int bad = 0;

    CHECK_OK(world_enrol(w, &key, SK_PROFILE_4K, SK_PURPOSE_SIGN, PIN_SIGN, NULL, true));
    if (key == NULL)
        return sk_test_done("protocol_mutate");
    uint8_t kid[SK_KEY_ID_LEN];
    CHECK_OK(sk_device_key_id(key, kid, sizeof kid));

    /* Requests to the server: a signing request inside the channel. */
    uint8_t sid[SK_SESSION_ID_LEN], digest[32] = {1};
    CHECK_OK(world_rp_create(w, key, digest, SK_HASH_SHA256, SK_SCHEME_PSS, sid, NULL));
    sk_device_session *s = NULL;
    CHECK_OK(sk_device_fetch(key, msg, sizeof msg, &len, w->now));
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK_OK(sk_device_read_session(key, &s, &st, reply, rlen));
    if (s != NULL)
        CHECK_OK(sk_device_approve(key, msg, sizeof msg, &len, w->now, s, (const uint8_t *)PIN_SIGN,
                                   strlen(PIN_SIGN)));
    sk_device_session_free(s);
    int accepted = 0;
    for (int i = 0; i < 3000; i++) {
        n = mutate(buf, sizeof buf, msg, len);
        if (n == len && memcmp(buf, msg, len) == 0)
            continue;
        int rc = world_device(w, buf, n, rbuf, &out_len);
        if (rc != SK_OK || !is_error(w->status) || w->stored_key) {
            if (accepted < 3)
                fprintf(stderr, "accepted: rc %d status %d stored %d len %zu/%zu\n", rc, w->status,
                        w->stored_key, n, len);
            accepted++;
        }
    }
    CHECK(accepted == 0);
    /* The real one still works: nothing was counted or changed. */
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK(w->status == SK_OK);

    /* Replies to the device: any change is refused and changes nothing. */
    {
        uint8_t sig[SK_MAX_SIG_LEN];
        size_t sig_len = 0;
        uint8_t skey[SK_STORAGE_KEY_LEN] = {4}, sealed[SK_MAX_MESSAGE_LEN];
        size_t sealed_len = 0;
        CHECK_OK(sk_device_key_seal(key, sealed, sizeof sealed, &sealed_len, skey, sizeof skey));
        for (int i = 0; i < 2000; i++) {
            n = mutate(buf, sizeof buf, reply, rlen);
            if (n == rlen && memcmp(buf, reply, rlen) == 0)
                continue;
            int rc = sk_device_read_signature(key, sig, sizeof sig, &sig_len, &st, buf, n);
            bad += !is_error(rc) || !sk_device_key_has_pending(key);
        }
        CHECK(bad == 0);
        CHECK_OK(sk_device_read_signature(key, sig, sizeof sig, &sig_len, &st, reply, rlen));
        /* The sealed state: every change is refused. */
        bad = 0;
        for (int i = 0; i < 2000; i++) {
            n = mutate(buf, sizeof buf, sealed, sealed_len);
            if (n == sealed_len && memcmp(buf, sealed, n) == 0)
                continue;
            sk_device_key *k = NULL;
            int rc = sk_device_key_open(&k, buf, n, skey, sizeof skey);
            bad += !is_error(rc) || k != NULL;
            sk_device_key_free(k);
        }
        CHECK(bad == 0);
    }

    /* Relying-party requests: always an answer, never a crash. */
    {
        Splitkey__RpRequest r = SPLITKEY__RP_REQUEST__INIT;
        Splitkey__SessionCreate c = SPLITKEY__SESSION_CREATE__INIT;
        c.key_id.data = kid;
        c.key_id.len = sizeof kid;
        c.purpose = SPLITKEY__PURPOSE__PURPOSE_SIGN;
        c.digest.data = digest;
        c.digest.len = sizeof digest;
        c.hash = SK_HASH_SHA256;
        c.scheme = SK_SCHEME_PKCS1;
        c.display_text = (char *)"x";
        r.req_case = SPLITKEY__RP_REQUEST__REQ_CREATE;
        r.create = &c;
        len = protobuf_c_message_pack(&r.base, msg);
        bad = 0;
        for (int i = 0; i < 2000; i++) {
            n = mutate(buf, sizeof buf, msg, len);
            sk_route_info info;
            int prc = sk_server_peek_rp(&info, buf, n);
            bad += prc != SK_OK && !is_error(prc);
            if (w->nsessions >= W_MAX_SESSIONS - 1)
                w->nsessions = 0;
            int rc = world_rp(w, buf, n, rbuf, &out_len);
            bad += rc != SK_OK || out_len == 0;
        }
        CHECK(bad == 0);
    }

    /* Stored records: import either refuses or gives a record that exports. */
    {
        w_key *k = world_key(w, kid);
        bad = 0;
        for (int i = 0; k != NULL && i < 2000; i++) {
            n = mutate(buf, sizeof buf, k->rec, k->rec_len);
            sk_key_rec *rec = NULL;
            int rc = sk_key_rec_import(&rec, buf, n, k->sec, k->sec_len);
            if (rc == SK_OK) {
                size_t m = 0;
                bad += sk_key_rec_export(rec, rbuf, sizeof rbuf, &m) != SK_OK;
            } else {
                bad += !is_error(rc) || rec != NULL;
            }
            sk_key_rec_free(rec);
            n = mutate(buf, sizeof buf, k->sec, k->sec_len);
            rc = sk_key_rec_import(&rec, k->rec, k->rec_len, buf, n);
            bad += rc != SK_OK && (!is_error(rc) || rec != NULL);
            sk_key_rec_free(rec);
        }
        CHECK(bad == 0);
    }

    /* Messages of every type in clear to the peek functions. */
    bad = 0;
    for (int i = 0; i < 3000; i++) {
        n = (size_t)(next() % 200);
        for (size_t j = 0; j < n; j++)
            buf[j] = (uint8_t)next();
        sk_route_info info;
        int rc = sk_server_peek_device(&info, w->id, NULL, buf, n);
        bad += rc != SK_OK && !is_error(rc);
    }
    CHECK(bad == 0);

    sk_device_key_free(key);
    world_free(w);
    return sk_test_done("protocol_mutate");
}
