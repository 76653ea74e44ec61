/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_share_handler.c - the share server's request path: bytes as they
 * arrive on the socket, through sk_share_handle, the server role and the
 * SQLite store (a temporary database), back to reply bytes.
 *
 * Invariants for every input:
 * - the handler returns, and either produces a reply or says (service error,
 *   NULL reply) that the loop must send the "SKE1" frame;
 * - an input that is not a well-formed request framed for a channel changes
 *   nothing stored: no key, session or event appears. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */

#include <sodium.h>
#include <sqlite3.h>
#include <string.h>

#include "fuzz.h"
#include "handler.h"
#include "log.h"
#include "store.h"

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
    srv.legacy_rp = true; /* the old relying-party frames (--legacy-rp) */
    srv.open_enrolment = true;
    srv.clock = fixed_clock;
    srv.cleanup_every_s = 1000000000u;
    atomic_init(&srv.last_cleanup, fixed_clock());
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    long long before = stored_rows();
    uint8_t *reply = NULL;
    size_t reply_len = 0;
    int rc = sk_share_handle(&srv, data, size, &reply, &reply_len);
    if (reply == NULL)
        FUZZ_ASSERT(rc != SK_OK && reply_len == 0);
    else
        FUZZ_ASSERT(reply_len > 0);
    if (reply != NULL) {
        sodium_memzero(reply, reply_len);
        free(reply);
    }
    /* Only a well-formed device or relying-party request can store anything;
     * anything shorter than a tag, or with an unknown tag, cannot. */
    if (size < SK_FRAME_TAG_LEN ||
        (memcmp(data, SK_FRAME_DEVICE, SK_FRAME_TAG_LEN) != 0 &&
         memcmp(data, SK_FRAME_RP, SK_FRAME_TAG_LEN) != 0))
        FUZZ_ASSERT(stored_rows() == before);
    if (rc != SK_OK && reply == NULL)
        FUZZ_ASSERT(stored_rows() == before); /* "SKE1": nothing changed */
    return 0;
}
