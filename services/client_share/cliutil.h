/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cliutil.h - what the device program (splitkey-client) and the relying-party
 * program (splitkey-rp) share: the exit codes, file helpers, hex,
 * PEM output, and one request/reply exchange with the share server.
 */
#ifndef SK_CLIUTIL_H
#define SK_CLIUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "req_client.h"
#include "splitkey/device.h"
#include "splitkey/key.h"

/* The Smart-ID name of an interaction (displayTextAndPIN ...): as the
 * devices show it and as relying parties ask for it on the HTTPS API. */
const char *cu_interaction_name(sk_interaction i);

/* Exit codes, the same for both programs (their --help lists them). */
enum {
    CU_EXIT_OK = 0,
    CU_EXIT_FAIL = 1,      /* any other failure */
    CU_EXIT_USAGE = 2,     /* usage or configuration error */
    CU_EXIT_WRONG_PIN = 3, /* wrong PIN (attempts left printed) */
    CU_EXIT_LOCKED = 4,    /* key time-locked (until when printed) */
    CU_EXIT_DESTROYED = 5, /* key destroyed: clone detected, lockout or revoked */
    CU_EXIT_SESSION = 6    /* session expired, refused or gone */
};

/* Largest document signed or verified (read whole, then hashed). */
#define CU_MAX_DOCUMENT (256u * 1024u * 1024u)

/* Hashes the whole file at path.  digest receives sk_hash_len(hash) bytes.
 * Returns SK_OK, SK_ERR_NOT_FOUND, SK_ERR_LIMIT, SK_SVC_ERR_IO, SK_ERR_HASH. */
int cu_hash_file(uint8_t *digest, sk_hash hash, const char *path);

/* Lowercase hex of len bytes into out (2*len + 1 bytes): sk_svc_hex. */
void cu_hex(char *out, const uint8_t *in, size_t len);
/* Parses exactly 2*len hex digits of either case (sk_svc_unhex on the whole
 * string).  Returns SK_OK or SK_ERR_ARG. */
int cu_unhex(uint8_t *out, size_t len, const char *text);

/* Writes DER as a PEM block with the label ("CERTIFICATE" ...) to path,
 * atomically, mode 0644.  Returns SK_OK or an error code. */
int cu_write_pem(const char *path, const char *label, const uint8_t *der, size_t der_len);
/* Writes the SubjectPublicKeyInfo PEM of key to path (atomic, 0644). */
int cu_write_pubkey(const char *path, const sk_pubkey *key);
/* Reads an RSA public key (PEM or DER) from path. */
int cu_read_pubkey(sk_pubkey **out, const char *path);

/* "2026-11-22T15:30:00Z" for a Unix time, into out (at least 32 bytes). */
void cu_time(char *out, size_t cap, uint64_t t);

/* Channel tags in front of every request to the share server (the server's
 * wire framing, doc/operations.md): a device request or a relying-party
 * request.  Replies carry no tag. */
#define CU_FRAME_DEVICE "SKD1"
#define CU_FRAME_RP "SKP1"
#define CU_FRAME_TAG_LEN 4u

/* Sends tag || req and waits for the reply (malloc'd; the caller wipes and
 * frees it with cu_reply_free).  req may be secret: the framed copy is
 * wiped.  A service-level error frame from the server ("SKE1",
 * error_reply.h) is turned into its code (a relying party's requests; the
 * device's go through cu_call_raw() and the client layer, which lets such
 * a frame carry no verdict on a key).  Returns SK_OK, the frame's code,
 * SK_SVC_ERR_TIMEOUT, SK_SVC_ERR_TRANSPORT or SK_ERR_NOMEM. */
int cu_call(sk_req_client *client, const char *tag, uint8_t **reply, size_t *reply_len,
            const uint8_t *req, size_t req_len);
/* cu_call with a timeout of its own for this call (0: the client's). */
int cu_call_ms(sk_req_client *client, const char *tag, uint8_t **reply, size_t *reply_len,
               const uint8_t *req, size_t req_len, unsigned timeout_ms);
/* cu_call_ms without the error frame's decoding: the reply as it came. */
int cu_call_raw(sk_req_client *client, const char *tag, uint8_t **reply, size_t *reply_len,
                const uint8_t *req, size_t req_len, unsigned timeout_ms);
void cu_reply_free(uint8_t *reply, size_t reply_len);

/* A one-line description of a code for people (library and service codes). */
const char *cu_strerror(int code);

/* Parses a command's options (argv[2..], positional arguments into
 * *positional when not NULL).  On --help prints the usage and sets
 * *exit_code = CU_EXIT_OK; on a bad option prints "PROG COMMAND: reason" and
 * sets CU_EXIT_USAGE; both return -1.  Returns 0 when the command may run. */
int cu_parse_options(const char *prog, sk_opt *opts, const char **positional, int argc,
                     char **argv, const char *synopsis, const char *about, int *exit_code);

/* Prints "PROG: message" and a hint to run --help to stderr; returns
 * CU_EXIT_USAGE. */
int cu_usage_error(const char *prog, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
