/* SPDX-License-Identifier: Apache-2.0 */
/* rp_wire_test.c - splitkey/rp.h against the library's server role in one
 * process (tests/protocol/world.h): the relying party's requests are
 * accepted and routed by the server, its readers take the server's replies
 * (created, pending, complete, refused, expired, errors with their status),
 * and refuse malformed or foreign bytes without filling anything. */
#include <string.h>

#include "splitkey/rp.h"
#include "splitkey/sign.h"
#include "testutil.h"
#include "world.h"

#define SUBJECT "C=LV,GN=ANNA,SN=BERZINA,serialNumber=PNOLV-010101-12345"

static uint8_t req[SK_MAX_MESSAGE_LEN], reply[SK_MAX_MESSAGE_LEN];
static size_t req_len, reply_len;

static void digest_of(uint8_t *d, const char *text)
{
    CHECK_OK(sk_digest(d, 32, SK_HASH_SHA256, (const uint8_t *)text, strlen(text)));
}

/* Request building: what is accepted and what is refused. */
static void test_build(void)
{
    uint8_t d[32], id[SK_KEY_ID_LEN] = {1};
    digest_of(d, "doc");
    sk_rp_create c = {.person_id = "PNOLV-010101-12345", .purpose = SK_PURPOSE_SIGN, .digest = d,
                      .hash = SK_HASH_SHA256, .scheme = SK_SCHEME_PSS,
                      .display_text = "Contract 42", .rp_name = "Bank"};
    CHECK_OK(sk_rp_create_request(req, sizeof req, &req_len, &c));
    sk_route_info info;
    CHECK_OK(sk_server_peek_rp(&info, req, req_len));
    CHECK(info.kind == SK_ROUTE_RP_CREATE);
    CHECK(info.has_person_id && strcmp(info.person_id, "PNOLV-010101-12345") == 0);
    CHECK(info.purpose == SK_PURPOSE_SIGN && !info.has_key_id);

    sk_rp_create k = c;
    k.person_id = NULL;
    k.key_id = id;
    CHECK_OK(sk_rp_create_request(req, sizeof req, &req_len, &k));
    CHECK_OK(sk_server_peek_rp(&info, req, req_len));
    CHECK(info.has_key_id && memcmp(info.key_id, id, sizeof id) == 0);

    sk_rp_create bad = c;
    bad.key_id = id; /* both */
    CHECK_RC(SK_ERR_ARG, sk_rp_create_request(req, sizeof req, &req_len, &bad));
    CHECK(req_len == 0);
    bad = c;
    bad.person_id = NULL; /* neither */
    CHECK_RC(SK_ERR_ARG, sk_rp_create_request(req, sizeof req, &req_len, &bad));
    bad = c;
    bad.hash = SK_HASH_SHA1;
    CHECK_RC(SK_ERR_ARG, sk_rp_create_request(req, sizeof req, &req_len, &bad));
    bad = c;
    bad.scheme = (sk_scheme)7;
    CHECK_RC(SK_ERR_ARG, sk_rp_create_request(req, sizeof req, &req_len, &bad));
    bad = c;
    bad.purpose = (sk_purpose)9;
    CHECK_RC(SK_ERR_ARG, sk_rp_create_request(req, sizeof req, &req_len, &bad));
    char long_id[SK_MAX_PERSON_ID_LEN + 2];
    memset(long_id, 'A', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    bad = c;
    bad.person_id = long_id;
    CHECK_RC(SK_ERR_LIMIT, sk_rp_create_request(req, sizeof req, &req_len, &bad));
    bad = c;
    bad.person_id = "";
    CHECK_RC(SK_ERR_LIMIT, sk_rp_create_request(req, sizeof req, &req_len, &bad));
    bad = c;
    bad.display_text = "line one\nline two";
    CHECK_RC(SK_ERR_LIMIT, sk_rp_create_request(req, sizeof req, &req_len, &bad));
    char long_text[SK_MAX_DISPLAY_TEXT_LEN + 2];
    memset(long_text, 'x', sizeof long_text - 1);
    long_text[sizeof long_text - 1] = '\0';
    bad = c;
    bad.display_text = long_text;
    CHECK_RC(SK_ERR_LIMIT, sk_rp_create_request(req, sizeof req, &req_len, &bad));
    CHECK_RC(SK_ERR_BUFFER_TOO_SMALL, sk_rp_create_request(req, 8, &req_len, &c));

    uint8_t sid[SK_SESSION_ID_LEN] = {7};
    CHECK_OK(sk_rp_poll_request(req, sizeof req, &req_len, sid, sizeof sid));
    CHECK_OK(sk_server_peek_rp(&info, req, req_len));
    CHECK(info.kind == SK_ROUTE_RP_POLL && info.has_session_id &&
          memcmp(info.session_id, sid, sizeof sid) == 0);
    CHECK(info.wait_ms == 0);
    CHECK_RC(SK_ERR_ARG, sk_rp_poll_request(req, sizeof req, &req_len, sid, 15));

    /* a long poll: wait 0 is the old request byte for byte; the wait is
     * routed to the service and bounded */
    {
        uint8_t old[64];
        size_t old_len = req_len;
        CHECK_OK(sk_rp_poll_request(req, sizeof req, &req_len, sid, sizeof sid));
        old_len = req_len;
        memcpy(old, req, old_len);
        CHECK_OK(sk_rp_poll_wait_request(req, sizeof req, &req_len, sid, sizeof sid, 0));
        CHECK(req_len == old_len && memcmp(req, old, old_len) == 0);
        CHECK_OK(sk_rp_poll_wait_request(req, sizeof req, &req_len, sid, sizeof sid, 2500));
        CHECK(req_len > old_len);
        CHECK_OK(sk_server_peek_rp(&info, req, req_len));
        CHECK(info.kind == SK_ROUTE_RP_POLL && info.wait_ms == 2500 &&
              memcmp(info.session_id, sid, sizeof sid) == 0);
        CHECK_OK(sk_rp_poll_wait_request(req, sizeof req, &req_len, sid, sizeof sid,
                                         SK_MAX_POLL_WAIT_MS));
        CHECK_OK(sk_server_peek_rp(&info, req, req_len));
        CHECK(info.wait_ms == SK_MAX_POLL_WAIT_MS);
        CHECK_RC(SK_ERR_LIMIT, sk_rp_poll_wait_request(req, sizeof req, &req_len, sid,
                                                       sizeof sid, SK_MAX_POLL_WAIT_MS + 1));
        CHECK(req_len == 0);
        /* the same over the limit, written by hand: the server refuses it */
        uint8_t big[64];
        size_t big_len = 0;
        CHECK_OK(sk_rp_poll_wait_request(big, sizeof big, &big_len, sid, sizeof sid, 1));
        /* RpRequest{poll = 2 {session_id = 1, wait_ms = 2 (varint 1)}}: the
         * last byte is the wait; make it a 3-byte varint of 30001 */
        CHECK(big_len >= 2 && big[big_len - 2] == 0x10 && big[big_len - 1] == 0x01);
        if (big_len >= 2 && big[1] == big_len - 2) {
            big[big_len - 1] = (uint8_t)(0x80 | (30001u & 0x7f));
            big[big_len] = (uint8_t)(0x80 | ((30001u >> 7) & 0x7f));
            big[big_len + 1] = (uint8_t)(30001u >> 14);
            big[1] = (uint8_t)(big[1] + 2);
            big_len += 2;
            CHECK_RC(SK_ERR_LIMIT, sk_server_peek_rp(&info, big, big_len));
        }
    }
    CHECK_OK(sk_rp_key_state_request(req, sizeof req, &req_len, id, sizeof id));
    CHECK_OK(sk_server_peek_rp(&info, req, req_len));
    CHECK(info.kind == SK_ROUTE_RP_KEY_STATE);
    CHECK_RC(SK_ERR_ARG, sk_rp_key_state_request(req, sizeof req, &req_len, id, 3));
}

/* Creates a session for the key through world_rp with the rp.h builder. */
static int create(world *w, const sk_device_key *key, const uint8_t *digest, sk_scheme scheme,
                  sk_rp_created *created, sk_key_status *st)
{
    uint8_t key_id[SK_KEY_ID_LEN];
    CHECK_OK(sk_device_key_id(key, key_id, sizeof key_id));
    sk_rp_create c = {.key_id = key_id, .purpose = sk_device_key_purpose(key), .digest = digest,
                      .hash = SK_HASH_SHA256, .scheme = scheme, .display_text = "Contract",
                      .rp_name = "Bank"};
    CHECK_OK(sk_rp_create_request(req, sizeof req, &req_len, &c));
    CHECK_OK(world_rp(w, req, req_len, reply, &reply_len));
    return sk_rp_read_created(created, st, reply, reply_len);
}

static int poll(world *w, const sk_rp_created *created, sk_rp_result *res, sk_key_status *st)
{
    CHECK_OK(sk_rp_poll_request(req, sizeof req, &req_len, created->session_id,
                                sizeof created->session_id));
    CHECK_OK(world_rp(w, req, req_len, reply, &reply_len));
    return sk_rp_read_result(res, st, reply, reply_len);
}

static void test_flow(void)
{
    static sk_rp_result res;
    world *w = world_new();
    sk_device_key *key = NULL;
    sk_key_status st;
    sk_rp_created created;
    uint8_t d[32];
    char code[5];
    CHECK_OK(world_enrol(w, &key, SK_PROFILE_4K, SK_PURPOSE_SIGN, PIN_SIGN, NULL, true));
    if (key == NULL) {
        world_free(w);
        return;
    }
    digest_of(d, "contract 42");

    /* created: the code is the digest's, and pending until the device answers */
    CHECK_OK(create(w, key, d, SK_SCHEME_PSS, &created, &st));
    CHECK_OK(sk_verification_code(code, sizeof code, d, sizeof d));
    CHECK(strcmp(created.code, code) == 0);
    CHECK(created.expires_at == w->now + w->policy.session_seconds);
    CHECK_OK(poll(w, &created, &res, &st));
    CHECK(res.state == SK_SESSION_PENDING && res.sig_len == 0);
    CHECK(memcmp(res.session_id, created.session_id, SK_SESSION_ID_LEN) == 0);
    /* the role never waits: a poll with a wait is answered PENDING at once */
    CHECK_OK(sk_rp_poll_wait_request(req, sizeof req, &req_len, created.session_id,
                                     sizeof created.session_id, 10000));
    CHECK_OK(world_rp(w, req, req_len, reply, &reply_len));
    CHECK_OK(sk_rp_read_result(&res, &st, reply, reply_len));
    CHECK(res.state == SK_SESSION_PENDING && res.sig_len == 0);

    /* complete: the signature verifies under n */
    uint8_t sig[SK_MAX_SIG_LEN];
    size_t sig_len = 0;
    CHECK_OK(world_approve(w, key, PIN_SIGN, sig, &sig_len, &st));
    CHECK_OK(poll(w, &created, &res, &st));
    CHECK(res.state == SK_SESSION_COMPLETE);
    CHECK(res.sig_len == sig_len && memcmp(res.signature, sig, sig_len) == 0);
    CHECK(strcmp(res.code, code) == 0);
    sk_pubkey *pub = NULL;
    CHECK_OK(sk_device_key_pubkey(key, &pub));
    if (pub != NULL)
        CHECK_OK(sk_verify(pub, SK_SCHEME_PSS, SK_HASH_SHA256, d, sizeof d, res.signature,
                           res.sig_len));
    sk_pubkey_free(pub);

    /* expired: nobody answered in time */
    CHECK_OK(create(w, key, d, SK_SCHEME_PKCS1, &created, &st));
    w->now += w->policy.session_seconds;
    CHECK_OK(poll(w, &created, &res, &st));
    CHECK(res.state == SK_SESSION_EXPIRED && res.sig_len == 0);

    /* unknown session: an error reply becomes its code */
    sk_rp_created ghost = created;
    ghost.session_id[0] ^= 1;
    CHECK_RC(SK_ERR_SESSION_UNKNOWN, poll(w, &ghost, &res, &st));
    CHECK(res.state == 0);

    /* a locked key: the create is refused with the lock's end */
    for (int i = 0; i < 3; i++) {
        sk_rp_created c2;
        CHECK_OK(create(w, key, d, SK_SCHEME_PSS, &c2, &st));
        CHECK(world_approve(w, key, "99999", sig, &sig_len, &st) == SK_ERR_WRONG_PIN);
    }
    CHECK_RC(SK_ERR_LOCKED, create(w, key, d, SK_SCHEME_PSS, &created, &st));
    CHECK(st.locked_until > w->now);
    CHECK(created.code[0] == '\0');

    /* key state */
    uint8_t key_id[SK_KEY_ID_LEN];
    CHECK_OK(sk_device_key_id(key, key_id, sizeof key_id));
    CHECK_OK(sk_rp_key_state_request(req, sizeof req, &req_len, key_id, sizeof key_id));
    CHECK_OK(world_rp(w, req, req_len, reply, &reply_len));
    memset(&st, 0, sizeof st);
    CHECK_OK(sk_rp_read_key_state(&st, reply, reply_len));
    CHECK(st.state == SK_KEY_TIMELOCKED && st.locked_until > w->now);

    /* readers refuse each other's replies and malformed bytes */
    CHECK_RC(SK_ERR_PROTO_DECODE, sk_rp_read_created(&created, NULL, reply, reply_len));
    CHECK_RC(SK_ERR_PROTO_DECODE, sk_rp_read_result(&res, NULL, reply, reply_len));
    static const uint8_t junk[] = {0xff, 0xff, 0xff, 0x01, 0x02};
    CHECK(sk_rp_read_result(&res, NULL, junk, sizeof junk) < 0);
    CHECK(sk_rp_read_created(&created, NULL, junk, sizeof junk) < 0);
    CHECK(sk_rp_read_key_state(&st, junk, sizeof junk) < 0);
    sk_device_key_free(key);
    world_free(w);
}

/* A complete result cut short at every length never yields a signature of
 * the wrong size. */
static void test_truncated(void)
{
    static sk_rp_result res;
    world *w = world_new();
    sk_device_key *key = NULL;
    sk_key_status st;
    sk_rp_created created;
    uint8_t d[32], sig[SK_MAX_SIG_LEN];
    size_t sig_len = 0;
    CHECK_OK(world_enrol(w, &key, SK_PROFILE_4K, SK_PURPOSE_AUTH, PIN_AUTH, NULL, true));
    if (key == NULL) {
        world_free(w);
        return;
    }
    digest_of(d, "challenge");
    CHECK_OK(create(w, key, d, SK_SCHEME_PKCS1, &created, &st));
    CHECK_OK(world_approve(w, key, PIN_AUTH, sig, &sig_len, &st));
    CHECK_OK(poll(w, &created, &res, &st));
    CHECK(res.state == SK_SESSION_COMPLETE);
    uint8_t full[SK_MAX_MESSAGE_LEN];
    size_t full_len = reply_len;
    memcpy(full, reply, full_len);
    int odd = 0;
    for (size_t n = 0; n < full_len; n++) {
        int rc = sk_rp_read_result(&res, NULL, full, n);
        if (rc == SK_OK && res.state == SK_SESSION_COMPLETE && res.sig_len != sig_len)
            odd++;
        if (rc != SK_OK && (res.state != 0 || res.sig_len != 0))
            odd++;
    }
    CHECK(odd == 0);
    sk_device_key_free(key);
    world_free(w);
}

int main(void)
{
    sk_test_init();
    test_build();
    test_flow();
    test_truncated();
    return sk_test_done("rp_wire_test");
}
