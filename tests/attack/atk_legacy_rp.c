/* SPDX-License-Identifier: Apache-2.0 */
/*
 * atk_legacy_rp - sends every kind of the old relying-party frame ("SKP1" +
 * RpRequest) to a running splitkey-server's device socket, over one
 * connection, and checks that each is refused (legacy_rp.sh):
 *
 *   atk_legacy_rp URL PERSON KEY_ID_HEX SESSION_ID_HEX
 *
 * The frames: create by person id, create by key id, poll and cancel of
 * SESSION_ID_HEX, and key state (authentication purpose).  Each must be
 * answered with the error frame (error_reply.h) carrying
 * SK_SVC_ERR_RP_REFUSED and its text.  One line per frame; exit status 0
 * only if every frame was refused so.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "error_reply.h"
#include "req_client.h"
#include "splitkey/rp.h"
#include "splitkey/splitkey.h"
#include "svc_error.h"
#include "svc_hex.h"

#define TAG "SKP1"
#define TIMEOUT_MS 20000u

static sk_req_client *net;
static int failures;

/* Sends TAG + req; returns the raw reply (the caller frees it) or NULL. */
static uint8_t *call(const char *what, const uint8_t *req, size_t req_len, size_t *reply_len)
{
    uint8_t framed[SK_MAX_MESSAGE_LEN + 4], *reply = NULL;
    memcpy(framed, TAG, 4);
    memcpy(framed + 4, req, req_len);
    int rc = sk_req_client_call(net, &reply, reply_len, framed, 4 + req_len);
    if (rc != SK_OK) {
        printf("FAIL %s: no reply (%s)\n", what, sk_svc_strerror(rc));
        failures++;
        return NULL;
    }
    return reply;
}

/* refused: the reply must be the error frame with SK_SVC_ERR_RP_REFUSED. */
static void expect_refused(const char *what, const uint8_t *req, size_t req_len)
{
    size_t len = 0;
    uint8_t *reply = call(what, req, req_len, &len);
    if (reply == NULL)
        return;
    int code = 0;
    const char *want = sk_svc_strerror(SK_SVC_ERR_RP_REFUSED);
    size_t wl = strlen(want);
    if (sk_error_reply_decode(&code, reply, len) != SK_OK) {
        printf("FAIL %s: served (a protocol reply of %zu bytes)\n", what, len);
        failures++;
    } else if (code != SK_SVC_ERR_RP_REFUSED) {
        printf("FAIL %s: error %d (%s), not the refusal\n", what, code, sk_svc_strerror(code));
        failures++;
    } else if (len != SK_ERROR_REPLY_HEADER_LEN + wl ||
               memcmp(reply + SK_ERROR_REPLY_HEADER_LEN, want, wl) != 0) {
        printf("FAIL %s: the refusal without its text\n", what);
        failures++;
    } else {
        printf("ok %s: refused: %.*s\n", what, (int)wl, (const char *)reply +
                                                         SK_ERROR_REPLY_HEADER_LEN);
    }
    free(reply);
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: atk_legacy_rp URL PERSON KEY_ID_HEX SESSION_ID_HEX\n");
        return 2;
    }
    const char *url = argv[1], *person = argv[2];
    uint8_t key_id[SK_KEY_ID_LEN], sid[SK_SESSION_ID_LEN];
    if (sk_init() != SK_OK || sodium_init() < 0)
        return 1;
    if (sk_svc_unhex(key_id, sizeof key_id, argv[3], strlen(argv[3])) != SK_OK ||
        sk_svc_unhex(sid, sizeof sid, argv[4], strlen(argv[4])) != SK_OK) {
        fprintf(stderr, "atk_legacy_rp: KEY_ID_HEX and SESSION_ID_HEX: 32 hex digits\n");
        return 2;
    }
    char err[512];
    if (sk_req_client_connect(&net, url, TIMEOUT_MS, 0, err, sizeof err) != SK_OK) {
        fprintf(stderr, "atk_legacy_rp: %s\n", err);
        return 1;
    }
    uint8_t digest[32], req[SK_MAX_MESSAGE_LEN];
    size_t req_len = 0;
    randombytes_buf(digest, sizeof digest);
    sk_rp_create by_person = {.person_id = person, .purpose = SK_PURPOSE_AUTH, .digest = digest,
                              .hash = SK_HASH_SHA256, .scheme = SK_SCHEME_PSS,
                              .display_text = "Log in to Bank A", .rp_name = "Bank A"};
    sk_rp_create by_key = by_person;
    by_key.person_id = NULL;
    by_key.key_id = key_id;
    int rc = SK_OK;

#define SEND(what, build)                                                                    \
    do {                                                                                     \
        rc = (build);                                                                        \
        if (rc != SK_OK) {                                                                   \
            printf("FAIL %s: cannot build (%s)\n", what, sk_strerror(rc));                  \
            failures++;                                                                      \
        } else {                                                                             \
            expect_refused(what, req, req_len);                                              \
        }                                                                                    \
    } while (0)

    SEND("create by person id", sk_rp_create_request(req, sizeof req, &req_len, &by_person));
    SEND("create by key id", sk_rp_create_request(req, sizeof req, &req_len, &by_key));
    SEND("poll", sk_rp_poll_request(req, sizeof req, &req_len, sid, sizeof sid));
    SEND("key state", sk_rp_key_state_request(req, sizeof req, &req_len, key_id, sizeof key_id));
    SEND("cancel", sk_rp_cancel_request(req, sizeof req, &req_len, sid, sizeof sid));
#undef SEND

    sk_req_client_close(net);
    return failures == 0 ? 0 : 1;
}
