/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ca_handler.h - the CA issuer's request handler (proto/ca.proto), run by
 * the REP loop of rep_server.h on several worker threads.
 *
 * Every request gets a CaReply with a Result; bad input of any kind gets a
 * refusal and changes nothing stored.  Order of checks for issue and
 * revoke: envelope and body decode, the RA is registered, its Ed25519
 * signature verifies, the request time is within skew_secs of the CA's
 * clock, the request id was never served; then the operation itself.
 * One log line per request (operation, the RA key's first 4 bytes, the
 * serial when there is one, the result, the duration); never a CSR,
 * certificate or key.
 */
#ifndef SK_CA_HANDLER_H
#define SK_CA_HANDLER_H

#include <stddef.h>
#include <stdint.h>

#include "ca_dir.h"

/* The signed message is this context string, a 0x00 byte, then the body. */
#define CA_SIG_CONTEXT "splitkey-ca-request-v1"
/* Every reply is a CaReplyEnvelope whose signature, by the CA key, is over
 * this context string, a 0x00 byte, then the serialized CaReply. */
#define CA_REPLY_SIG_CONTEXT "splitkey-ca-reply-v1"
/* The most revocations one RevocationsReply carries. */
#define CA_REVOCATIONS_MAX 1000u
#define CA_WIRE_VERSION 1u
#define CA_DEFAULT_SKEW_SECS 300u
#define CA_MAX_REQUEST (64u * 1024u)

typedef struct ca_handler {
    ca_ctx *ca;
    unsigned skew_secs; /* 0: CA_DEFAULT_SKEW_SECS */
    /* Called after a revocation committed, before its reply (run publishes
     * the CRL there: ca_publish.h); NULL: nothing. */
    void (*revoked)(void *ctx);
    void *revoked_ctx;
} ca_handler;

/* sk_rep_handler: ctx is a ca_handler. */
int ca_handle(void *ctx, const uint8_t *req, size_t req_len, uint8_t **reply,
              size_t *reply_len);

/* Issues (or revokes) as the REP handler would, for the operator commands:
 * the revocation path of "splitkey-ca revoke".  Returns what
 * ca_store_record_revoke returns. */
int ca_operator_revoke(ca_ctx *ca, int64_t *revoked_at, const sk_serial *serial,
                       sk_crl_reason reason);

#endif
