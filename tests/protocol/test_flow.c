/* SPDX-License-Identifier: Apache-2.0 */
/* Full enrolment (with the proof-of-possession signature) and relying-party
 * signing for every profile and both schemes; each signature is checked by
 * sk_verify and independently by mbedTLS. */
#include <string.h>

#include "world.h"

static void sign_and_check(world *w, sk_device_key *key, sk_scheme scheme, sk_hash hash,
                           const char *text)
{
    uint8_t digest[SK_MAX_HASH_LEN], sid[SK_SESSION_ID_LEN], sig[SK_MAX_SIG_LEN],
        rp_sig[SK_MAX_SIG_LEN];
    size_t sig_len = 0, rp_sig_len = 0;
    char code[5], expect[5];
    sk_pubkey *pub = NULL;
    sk_key_status st;

    CHECK_OK(sk_digest(digest, sk_hash_len(hash), hash, (const uint8_t *)text, strlen(text)));
    CHECK_OK(world_rp_create(w, key, digest, hash, scheme, sid, code));
    CHECK_OK(sk_verification_code(expect, sizeof expect, digest, sk_hash_len(hash)));
    CHECK(strcmp(code, expect) == 0);
    CHECK_RC(SK_ERR_PENDING, world_rp_poll(w, sid, NULL, NULL));
    CHECK_OK(world_approve(w, key, PIN_SIGN, sig, &sig_len, &st));
    CHECK(sig_len == sk_profile_sig_len(sk_device_key_profile(key)));
    CHECK(st.state == SK_KEY_ACTIVE);
    CHECK_OK(sk_device_key_pubkey(key, &pub));
    CHECK_OK(sk_verify(pub, scheme, hash, digest, sk_hash_len(hash), sig, sig_len));
    CHECK(mbedtls_check(key, scheme, hash, digest, sig, sig_len) == 0);
    /* The relying party collects the same signature. */
    CHECK_OK(world_rp_poll(w, sid, rp_sig, &rp_sig_len));
    CHECK(rp_sig_len == sig_len && memcmp(rp_sig, sig, sig_len) == 0);
    /* A changed digest must not verify (the checks above can fail). */
    digest[0] ^= 1;
    CHECK_RC(SK_ERR_VERIFY, sk_verify(pub, scheme, hash, digest, sk_hash_len(hash), sig, sig_len));
    CHECK(mbedtls_check(key, scheme, hash, digest, sig, sig_len) != 0);
    sk_pubkey_free(pub);
}

static void run_profile(sk_profile profile, int rounds)
{
    world *w = world_new();
    sk_device_key *key = NULL;
    CHECK_OK(world_enrol(w, &key, profile, SK_PURPOSE_SIGN, PIN_SIGN, NULL, true));
    if (key == NULL) {
        world_free(w);
        return;
    }
    CHECK(sk_device_key_state(key) == SK_KEY_ACTIVE);
    CHECK(w->effects & SK_EFFECT_CERT_REQUEST);
    /* The server's view agrees, and its n is the device's. */
    uint8_t key_id[SK_KEY_ID_LEN];
    CHECK_OK(sk_device_key_id(key, key_id, sizeof key_id));
    sk_key_rec *rec = world_key_record(w, key_id);
    CHECK(rec != NULL);
    if (rec != NULL) {
        sk_key_status st;
        sk_key_rec_status(rec, &st, &w->policy, w->now);
        CHECK(st.state == SK_KEY_ACTIVE);
        CHECK(st.attempts_left == 3);
        sk_pubkey *a = NULL, *b = NULL;
        uint8_t na[1024], nb[1024];
        size_t nl = sk_profile_sig_len(profile);
        CHECK_OK(sk_key_rec_pubkey(rec, &a));
        CHECK_OK(sk_device_key_pubkey(key, &b));
        if (a != NULL && b != NULL) {
            CHECK(sk_pubkey_bits(a) == 2 * sk_profile_bits(profile));
            CHECK_OK(sk_pubkey_modulus(a, na, nl));
            CHECK_OK(sk_pubkey_modulus(b, nb, nl));
            CHECK(memcmp(na, nb, nl) == 0);
        }
        sk_pubkey_free(a);
        sk_pubkey_free(b);
        sk_key_rec_free(rec);
    }
    sign_and_check(w, key, SK_SCHEME_PKCS1, SK_HASH_SHA256, "contract one");
    sign_and_check(w, key, SK_SCHEME_PSS, SK_HASH_SHA256, "contract two");
    if (rounds > 1) {
        sign_and_check(w, key, SK_SCHEME_PKCS1, SK_HASH_SHA384, "contract three");
        sign_and_check(w, key, SK_SCHEME_PSS, SK_HASH_SHA512, "contract four");
        sign_and_check(w, key, SK_SCHEME_PSS, SK_HASH_SHA384, "contract five");
        sign_and_check(w, key, SK_SCHEME_PKCS1, SK_HASH_SHA512, "contract six");
    }
    /* The state survives sealing and opening with the storage key. */
    uint8_t skey[SK_STORAGE_KEY_LEN] = {7}, sealed[SK_MAX_MESSAGE_LEN];
    size_t sealed_len = 0;
    sk_device_key *again = NULL;
    CHECK_OK(sk_device_key_seal(key, sealed, sizeof sealed, &sealed_len, skey, sizeof skey));
    CHECK_OK(sk_device_key_open(&again, sealed, sealed_len, skey, sizeof skey));
    if (again != NULL) {
        sign_and_check(w, again, SK_SCHEME_PSS, SK_HASH_SHA256, "after reopening");
        sk_device_key_free(again);
    }
    skey[0] ^= 1;
    CHECK_RC(SK_ERR_PROTO_AUTH, sk_device_key_open(&again, sealed, sealed_len, skey, sizeof skey));
    sk_device_key_free(key);
    world_free(w);
}

int main(int argc, char **argv)
{
    sk_test_init();
    const char *which = argc > 1 ? argv[1] : "all";
    if (strcmp(which, "4K") == 0 || strcmp(which, "all") == 0)
        run_profile(SK_PROFILE_4K, 2);
    if (strcmp(which, "6K") == 0 || strcmp(which, "all") == 0)
        run_profile(SK_PROFILE_6K, 1);
    if (strcmp(which, "8K") == 0 || strcmp(which, "all") == 0)
        run_profile(SK_PROFILE_8K, 1);
    return sk_test_done("protocol_flow");
}
