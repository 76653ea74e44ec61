/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rp_api.h - splitkey-rp's client of the share server's HTTPS/JSON
 * relying-party API (the Smart-ID RP API v2 shape, doc/rp-api.md): TLS
 * with the relying party's own certificate, the server's certificate
 * pinned (the PEM file's certificate, or its SHA-256), JSON with jansson.
 *
 *   POST BASE/authentication/etsi/ID | BASE/signature/etsi/ID  (or
 *        .../document/NUMBER)  -> {"sessionID": ...}
 *   GET  BASE/session/ID?timeoutMs=N  -> {"state": "RUNNING"|"COMPLETE",
 *        "result": {"endResult", "documentNumber"}, "signature": {"value",
 *        "algorithm"}, "cert": {"value", "certificateLevel"}, ...}
 * Each create carries a fresh random nonce, so two runs over the same
 * digest are two sessions, not an idempotent repeat.  One TLS connection
 * per call (Connection: close).
 */
#ifndef SK_RP_API_H
#define SK_RP_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "splitkey/device.h"
#include "splitkey/sign.h"

typedef struct rp_api rp_api;

typedef struct rp_api_conf {
    const char *url;                /* https://HOST:PORT/v2/ */
    const char *server_cert;        /* the pinned server certificate (PEM), or */
    const char *server_cert_sha256; /* its SHA-256, 64 hex digits */
    const char *rp_cert, *rp_key;   /* the relying party's TLS certificate and key */
    const char *uuid, *name;        /* relyingPartyUUID, relyingPartyName */
} rp_api_conf;

/* Reads the files.  Returns 0, or 2 (usage: a bad URL, file or pin) with
 * *why. */
int rp_api_new(rp_api **out, const rp_api_conf *c, char *why, size_t why_len);
void rp_api_free(rp_api *a);

typedef struct rp_api_create {
    sk_purpose purpose;     /* SIGN, SEAL (signature/) or AUTH (authentication/) */
    const char *person;     /* etsi/ID, or */
    const char *document;   /* document/NUMBER */
    const uint8_t *digest;
    sk_hash hash;
    const char *text;       /* displayText60 */
    bool advanced;          /* certificateLevel ADVANCED (default QUALIFIED) */
    const char *interaction; /* the v2 type name; NULL: displayTextAndPIN */
} rp_api_create;

/* Creates the session (a seal: signature/ with the organisation's
 * identifier); *sid (cap bytes) receives its id.  Returns 0, or an exit
 * status with *why: 2 bad input, 4 HTTP 472 (the account is locked or not
 * active: the person should look at the device), 1 any other refusal or a
 * transport error. */
int rp_api_start(rp_api *a, const rp_api_create *c, char *sid, size_t sid_len, char *why,
                 size_t why_len);

#define RP_API_MAX_SIG 2048u
#define RP_API_MAX_CERT 8192u

typedef struct rp_api_result {
    bool complete;            /* state COMPLETE */
    char end_result[64];      /* result.endResult */
    char document[96];        /* result.documentNumber */
    char level[16];           /* cert.certificateLevel */
    char interaction[64];     /* interactionFlowUsed */
    sk_scheme scheme;         /* from signature.algorithm */
    sk_hash sig_hash;
    uint8_t sig[RP_API_MAX_SIG];
    size_t sig_len;
    uint8_t cert[RP_API_MAX_CERT];
    size_t cert_len;
} rp_api_result;

/* One long poll of the session (the server holds it up to wait_ms).
 * Returns 0 (r filled; r->complete false while RUNNING), or an exit status
 * with *why. */
int rp_api_poll(rp_api *a, const char *sid, unsigned wait_ms, rp_api_result *r, char *why,
                size_t why_len);

/* The exit status for a COMPLETE session's endResult other than OK (6 for
 * refusals, TIMEOUT and WRONG_VC, 5 for DOCUMENT_UNUSABLE), with *what a
 * sentence for the person or the log. */
int rp_api_end_exit(const char *end_result, const char **what);

/* The v2 verification code of digest: the last two bytes of
 * SHA-256(digest), big-endian, mod 10000, four digits. */
void rp_api_vc(char code[5], const uint8_t *digest, size_t digest_len);

#endif
