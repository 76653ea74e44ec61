/* SPDX-License-Identifier: Apache-2.0 */
/* A server reply carrying a wrong signature is caught by the device.
 *
 * The reply is rebuilt with the transport key the device holds, so it passes
 * every envelope check (authentic, fresh counter, right request and session)
 * and only the RSA signature inside is wrong.  The device must refuse it with
 * SK_ERR_BAD_SIGNATURE, must not report success, and must keep the one-time
 * password the server rotated, so that its next honest signing works and
 * raises no clone alarm. */
#include <string.h>

#include "internal.h"
#include "protocol/device/device_internal.h"
#include "splitkey.pb-c.h"
#include "world.h"

static uint8_t msg[SK_MAX_MESSAGE_LEN], reply[SK_MAX_MESSAGE_LEN];

/* Opens the SignReply with the device's receive key and the ephemeral of
 * its request, flips one bit of the signature, and seals it again as the
 * server would (a fresh server ephemeral, the same request). */
static int corrupt_signature(const sk_device_key *key, uint8_t *buf, size_t *len, size_t cap)
{
    static skp_env env;
    static uint8_t plain[SKP_MAX_BODY_LEN], body[SKP_MAX_BODY_LEN];
    size_t plain_len = 0, body_len = 0;
    int rc = skp_env_parse(&env, buf, *len);
    if (rc != SK_OK)
        return rc;
    if (env.type != SPLITKEY__MSG_TYPE__MSG_SIGN_REPLY)
        return SK_ERR_PROTO_STATE;
    rc = skp_rep_open(plain, &plain_len, &env, key->tek_rx, &key->eph);
    if (rc != SK_OK)
        return rc;
    Splitkey__DeviceReply *d = splitkey__device_reply__unpack(NULL, plain_len, plain);
    if (d == NULL)
        return SK_ERR_PROTO_DECODE;
    Splitkey__SignReply *r = splitkey__sign_reply__unpack(NULL, d->body.len, d->body.data);
    if (r == NULL || r->signature.len == 0) {
        splitkey__device_reply__free_unpacked(d, NULL);
        return SK_ERR_PROTO_DECODE;
    }
    r->signature.data[r->signature.len / 2] ^= 0x01;
    body_len = splitkey__sign_reply__pack(r, body);
    splitkey__sign_reply__free_unpacked(r, NULL);
    ProtobufCBinaryData own = d->body;
    d->body.data = body;
    d->body.len = body_len;
    plain_len = splitkey__device_reply__pack(d, plain);
    d->body = own; /* the unpacker's, for free_unpacked */
    splitkey__device_reply__free_unpacked(d, NULL);
    return skp_rep_seal(buf, cap, len, env.key_id, env.type, key->tek_rx, key->eph.shared,
                        key->eph.pk, plain, plain_len, sk_rng_system());
}

static void sign_once(world *w, sk_device_key *key, uint8_t fill, bool corrupt)
{
    uint8_t digest[32], sid[SK_SESSION_ID_LEN], sig[SK_MAX_SIG_LEN];
    size_t len = 0, rlen = 0, sig_len = 0;
    sk_device_session *s = NULL;
    sk_key_status st;
    memset(digest, fill, sizeof digest);

    CHECK_OK(world_rp_create(w, key, digest, SK_HASH_SHA256, SK_SCHEME_PSS, sid, NULL));
    CHECK_OK(sk_device_fetch(key, msg, sizeof msg, &len, w->now));
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK_OK(sk_device_read_session(key, &s, &st, reply, rlen));
    if (s == NULL)
        return;
    CHECK_OK(sk_device_approve(key, msg, sizeof msg, &len, w->now, s, (const uint8_t *)PIN_SIGN,
                               strlen(PIN_SIGN)));
    sk_device_session_free(s);
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK(w->status == SK_OK); /* the server itself signed correctly */

    if (corrupt) {
        CHECK_OK(corrupt_signature(key, reply, &rlen, sizeof reply));
        memset(sig, 0xAA, sizeof sig);
        CHECK_RC(SK_ERR_BAD_SIGNATURE,
                 sk_device_read_signature(key, sig, sizeof sig, &sig_len, &st, reply, rlen));
        CHECK(sig_len == 0);
        /* nothing was handed out as a signature */
        uint8_t aa[SK_MAX_SIG_LEN];
        memset(aa, 0xAA, sizeof aa);
        CHECK(memcmp(sig, aa, sizeof sig) == 0);
    } else {
        CHECK_OK(sk_device_read_signature(key, sig, sizeof sig, &sig_len, &st, reply, rlen));
        CHECK(sig_len == 2 * SK_PROFILE_4K / 8);
        CHECK(mbedtls_check(key, SK_SCHEME_PSS, SK_HASH_SHA256, digest, sig, sig_len) == 0);
    }
}

int main(void)
{
    sk_test_init();
    world *w = world_new();
    sk_device_key *key = NULL;
    CHECK_OK(world_enrol(w, &key, SK_PROFILE_4K, SK_PURPOSE_SIGN, PIN_SIGN, NULL, true));
    if (key != NULL) {
        sign_once(w, key, 0x11, true);  /* wrong signature: refused */
        w->now += 1;
        sign_once(w, key, 0x22, false); /* next honest signing: fine, no clone alarm */
        sk_key_status st;
        sk_key_rec *rec = world_key_record(w, key->key_id);
        CHECK(rec != NULL);
        if (rec != NULL) {
            sk_key_rec_status(rec, &st, &w->policy, w->now);
            CHECK(st.state == SK_KEY_ACTIVE);
            sk_key_rec_free(rec);
        }
    }
    sk_device_key_free(key);
    world_free(w);
    return sk_test_done("attack_bad_signature");
}
