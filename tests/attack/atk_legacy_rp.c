/* SPDX-License-Identifier: Apache-2.0 */
/*
 * atk_legacy_rp - sends every kind of the old relying-party frame ("SKP1" +
 * RpRequest) to a running splitkey-server's device socket, over one
 * connection, and checks the replies (legacy_rp.sh):
 *
 *   atk_legacy_rp URL refused PERSON KEY_ID_HEX SESSION_ID_HEX
 *   atk_legacy_rp URL served  PERSON KEY_ID_HEX
 *
 * The frames: create by person id, create by key id, poll, cancel and key
 * state (authentication purpose).  "refused": each must be answered with
 * the error frame (error_reply.h) carrying SK_SVC_ERR_RP_REFUSED and its
 * text.  "served": each must be answered with a protocol reply the library
 * reads (two sessions created, the poll and the cancel of the first one,
 * the key's state); the first session's id is printed ("session HEX").
 * One line per frame; exit status 0 only if every frame went as asked.
 */
#include <stdbool.h>
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

/* served: the reply must not be an error frame, and the library reads it
 * with the reader of its kind (0 create, 1 poll or cancel, 2 key state). */
static void expect_served(const char *what, int kind, const uint8_t *req, size_t req_len,
                          uint8_t session_id[SK_SESSION_ID_LEN])
{
    size_t len = 0;
    uint8_t *reply = call(what, req, req_len, &len);
    if (reply == NULL)
        return;
    int code = 0, rc;
    sk_key_status st;
    if (sk_error_reply_decode(&code, reply, len) == SK_OK) {
        printf("FAIL %s: error frame %d (%s)\n", what, code, sk_svc_strerror(code));
        failures++;
        free(reply);
        return;
    }
    if (kind == 0) {
        sk_rp_created c;
        rc = sk_rp_read_created(&c, &st, reply, len);
        if (rc == SK_OK && session_id != NULL)
            memcpy(session_id, c.session_id, SK_SESSION_ID_LEN);
    } else if (kind == 1) {
        sk_rp_result *r = malloc(sizeof *r);
        rc = r == NULL ? SK_ERR_NOMEM : sk_rp_read_result(r, &st, reply, len);
        free(r);
    } else {
        rc = sk_rp_read_key_state(&st, reply, len);
    }
    if (rc != SK_OK) {
        printf("FAIL %s: reply not read (%s)\n", what, sk_strerror(rc));
        failures++;
    } else {
        printf("ok %s: served\n", what);
    }
    free(reply);
}

int main(int argc, char **argv)
{
    if (argc < 5 || (strcmp(argv[2], "refused") != 0 && strcmp(argv[2], "served") != 0) ||
        (strcmp(argv[2], "refused") == 0 && argc != 6) ||
        (strcmp(argv[2], "served") == 0 && argc != 5)) {
        fprintf(stderr, "usage: atk_legacy_rp URL refused PERSON KEY_ID_HEX SESSION_ID_HEX\n"
                        "       atk_legacy_rp URL served PERSON KEY_ID_HEX\n");
        return 2;
    }
    const char *url = argv[1], *person = argv[3];
    bool refused = strcmp(argv[2], "refused") == 0;
    uint8_t key_id[SK_KEY_ID_LEN], sid[SK_SESSION_ID_LEN] = {0};
    if (sk_init() != SK_OK || sodium_init() < 0)
        return 1;
    if (sk_svc_unhex(key_id, sizeof key_id, argv[4], strlen(argv[4])) != SK_OK ||
        (refused && sk_svc_unhex(sid, sizeof sid, argv[5], strlen(argv[5])) != SK_OK)) {
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

#define SEND(what, kind, out, build)                                                         \
    do {                                                                                     \
        rc = (build);                                                                        \
        if (rc != SK_OK) {                                                                   \
            printf("FAIL %s: cannot build (%s)\n", what, sk_strerror(rc));                  \
            failures++;                                                                      \
        } else if (refused) {                                                                \
            expect_refused(what, req, req_len);                                              \
        } else {                                                                             \
            expect_served(what, kind, req, req_len, out);                                    \
        }                                                                                    \
    } while (0)

    SEND("create by person id", 0, sid,
         sk_rp_create_request(req, sizeof req, &req_len, &by_person));
    SEND("create by key id", 0, NULL, sk_rp_create_request(req, sizeof req, &req_len, &by_key));
    SEND("poll", 1, NULL, sk_rp_poll_request(req, sizeof req, &req_len, sid, sizeof sid));
    SEND("key state", 2, NULL,
         sk_rp_key_state_request(req, sizeof req, &req_len, key_id, sizeof key_id));
    SEND("cancel", 1, NULL, sk_rp_cancel_request(req, sizeof req, &req_len, sid, sizeof sid));
#undef SEND

    if (!refused && failures == 0) {
        char hex[2 * SK_SESSION_ID_LEN + 1];
        sk_svc_hex(hex, sid, sizeof sid);
        printf("session %s\n", hex);
    }
    sk_req_client_close(net);
    return failures == 0 ? 0 : 1;
}
