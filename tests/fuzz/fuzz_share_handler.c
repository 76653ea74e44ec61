/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_share_handler.c - the share server's two request entries, through
 * the server role and the SQLite store (a temporary database), back to
 * reply bytes.  The first input byte picks the entry, the rest is the
 * request:
 *   even  the device socket: the bytes as they arrive there (a channel tag,
 *         then the protocol bytes), through sk_share_handle;
 *   odd   the HTTPS API's way in: a relying-party request (an RpRequest, no
 *         tag) through sk_share_handle_rp.
 *
 * Invariants for every input:
 * - the handler returns, and either produces a reply or says (service error,
 *   NULL reply) that the caller must answer with an error of its own;
 * - on the device socket, an old relying-party frame ("SKP1") is refused
 *   with SK_SVC_ERR_RP_REFUSED, no reply, and stores nothing; neither does
 *   anything shorter than a tag or with an unknown tag;
 * - a request answered with no reply changed nothing stored: no key,
 *   session or event appears. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */

#include <sodium.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "handler.h"
#include "log.h"
#include "store.h"
#include "svc_error.h"

static sk_share_server srv;
static sk_store *store;
static sk_master_key *master;
static sk_server_ident *ident;
static sqlite3 *peek; /* a second, read-only connection for the invariants */

static uint64_t fixed_clock(void) { return 1790000000u; }

/* Rows in the tables a request may write. */
static long long stored_rows(void)
{
    sqlite3_stmt *st = NULL;
    FUZZ_ASSERT(sqlite3_prepare_v2(peek,
                                   "SELECT (SELECT count(*) FROM keys) + "
                                   "(SELECT count(*) FROM sessions) + "
                                   "(SELECT count(*) FROM events)",
                                   -1, &st, NULL) == SQLITE_OK);
    FUZZ_ASSERT(sqlite3_step(st) == SQLITE_ROW);
    long long n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    FUZZ_ASSERT(sk_init() == SK_OK);
    sk_log_init("fuzz_share_handler");
    static char dir[] = "/tmp/sk-fuzz-share-XXXXXX";
    FUZZ_ASSERT(mkdtemp(dir) != NULL);
    char path[256], uri[sizeof path + 8];
    snprintf(path, sizeof path, "%s/fuzz.db", dir);
    snprintf(uri, sizeof uri, "sqlite:%s", path);
    FUZZ_ASSERT(sk_store_open(&store, uri) == SK_OK);
    FUZZ_ASSERT(sqlite3_open_v2(path, &peek, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
    uint8_t mk[SK_MASTER_KEY_LEN];
    randombytes_buf(mk, sizeof mk);
    FUZZ_ASSERT(sk_master_key_from_bytes(&master, mk, sizeof mk) == SK_OK);
    sodium_memzero(mk, sizeof mk);
    FUZZ_ASSERT(sk_server_ident_generate(&ident, NULL, NULL) == SK_OK);
    srv.store = store;
    srv.master = master;
    srv.ident = ident;
    srv.open_enrolment = true;
    srv.clock = fixed_clock;
    srv.cleanup_every_s = 1000000000u;
    atomic_init(&srv.last_cleanup, fixed_clock());
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    bool on_socket = (data[0] & 1u) == 0;
    const uint8_t *req = data + 1;
    size_t len = size - 1;
    long long before = stored_rows();
    uint8_t *reply = NULL;
    size_t reply_len = 0;
    int rc = on_socket ? sk_share_handle(&srv, req, len, &reply, &reply_len)
                    : sk_share_handle_rp(&srv, req, len, &reply, &reply_len);
    if (reply == NULL)
        FUZZ_ASSERT(rc != SK_OK && reply_len == 0);
    else
        FUZZ_ASSERT(reply_len > 0);
    if (reply != NULL) {
        sodium_memzero(reply, reply_len);
        free(reply);
    }
    if (on_socket) {
        bool device = len >= SK_FRAME_TAG_LEN &&
                      memcmp(req, SK_FRAME_DEVICE, SK_FRAME_TAG_LEN) == 0;
        bool rp_frame = len >= SK_FRAME_TAG_LEN &&
                        memcmp(req, SK_FRAME_RP, SK_FRAME_TAG_LEN) == 0;
        /* relying parties are not served on the device socket */
        if (rp_frame)
            FUZZ_ASSERT(rc == SK_SVC_ERR_RP_REFUSED && reply == NULL);
        /* only a device request can store anything there */
        if (!device)
            FUZZ_ASSERT(stored_rows() == before);
    }
    if (rc != SK_OK && reply == NULL)
        FUZZ_ASSERT(stored_rows() == before); /* no reply: nothing changed */
    return 0;
}
