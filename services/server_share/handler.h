/*
 * handler.h - the share server's request handler: the point where the
 * library's server role (sans I/O) meets the store and the socket.
 */
#ifndef SK_HANDLER_H
#define SK_HANDLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "identity.h"
#include "pool.h"
#include "seal.h"
#include "store.h"

/* Everything a request may need, shared by all workers (read-only after
 * start, apart from the thread-safe store and pool). */
typedef struct sk_share_server {
    sk_store *store;
    const sk_master_key *master;
    const sk_server_identity *identity;
    sk_pool_filler *pool;
    const char *ca_url;      /* NULL: activate keys without a certificate */
    bool open_enrolment;
    unsigned session_ttl_s;  /* default 120 (SPEC 3.3) */
} sk_share_server;

/* The sk_rep_handler of splitkey-server; ctx is an sk_share_server. */
int sk_share_handle(void *ctx, const uint8_t *req, size_t req_len, uint8_t **reply,
                    size_t *reply_len);

#endif
