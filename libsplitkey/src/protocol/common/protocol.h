/* SPDX-License-Identifier: Apache-2.0 */
/*
 * protocol.h - private declarations shared by the device and server roles:
 * the channel (envelopes), the wire glue (protobuf-c with a wiping
 * allocator, limit checks), one-time password hashing and fixed labels.
 */
#ifndef SK_PROTOCOL_COMMON_H
#define SK_PROTOCOL_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "internal.h"
#include "protocol/common/limits.h"
#include "splitkey.pb-c.h"

/* ------------------------------------------------------------------ wire */

/* Unpacks a message with an allocator that wipes every block it frees (bodies
 * carry ds and one-time passwords).  Inputs longer than max are refused with
 * SK_ERR_LIMIT before parsing; unknown fields at the top level are refused.
 * Returns SK_OK or SK_ERR_PROTO_DECODE. */
int skp_unpack(const ProtobufCMessageDescriptor *desc, ProtobufCMessage **out, const uint8_t *in,
               size_t len, size_t max);
void skp_free(ProtobufCMessage *msg);
/* Packs into out; SK_ERR_BUFFER_TOO_SMALL sets *written to the size needed. */
int skp_pack(const ProtobufCMessage *msg, uint8_t *out, size_t cap, size_t *written);

/* Field checks: SK_OK or SK_ERR_LIMIT. */
int skp_check_len(const ProtobufCBinaryData *b, size_t exact);
int skp_check_max(const ProtobufCBinaryData *b, size_t max);
/* A text field: at most max bytes, no control characters. */
int skp_check_text(const char *s, size_t max);
/* Copy a checked field into a fixed buffer. */
void skp_copy(uint8_t *dst, size_t *dst_len, const ProtobufCBinaryData *b);
static inline ProtobufCBinaryData skp_bin(const uint8_t *p, size_t len)
{
    ProtobufCBinaryData b;
    b.len = len;
    b.data = (uint8_t *)p;
    return b;
}

/* An sk_rng from the public callback form (NULL: the system CSPRNG). */
void skp_rng(sk_rng *rng, sk_random_fn fn, void *ctx);

/* Purpose, hash and scheme values from the wire: SK_OK or SK_ERR_PROTO_DECODE. */
int skp_purpose_ok(uint32_t purpose);
int skp_sign_hash_ok(uint32_t hash);
int skp_scheme_ok(uint32_t scheme);
int skp_profile_ok(uint32_t profile);

/* An Error body for a negative sk_error code and an optional status. */
int skp_error_body(uint8_t *out, size_t cap, size_t *written, int code,
                   const sk_key_status *status);
/* Reads an Error body: returns the (negative) code carried, fills status. */
int skp_error_read(const uint8_t *body, size_t len, sk_key_status *status);

/* --------------------------------------------------------------- channel */

/* The protocol version this library speaks (Envelope.version). */
#define SKP_PROTOCOL_VERSION 2u

/* A parsed envelope.  The payload is copied. */
typedef struct skp_env {
    uint8_t key_id[SKP_KEY_ID_LEN];
    size_t key_id_len; /* 0 or SKP_KEY_ID_LEN */
    uint32_t type;
    bool has_eph;
    uint8_t eph_pub[SKP_KX_PUB_LEN];
    uint8_t payload[SKP_MAX_MESSAGE_LEN];
    size_t payload_len;
} skp_env;

/* Parses and limit-checks an envelope (no cryptography).  A frame of another
 * protocol version is SK_ERR_PROTO_VERSION. */
int skp_env_parse(skp_env *env, const uint8_t *in, size_t len);

/* The device's ephemeral exchange for one request (secret; in memory only,
 * never in the sealed state): kept from sealing the request to opening its
 * reply, then wiped. */
typedef struct skp_eph {
    uint8_t sk[32];
    uint8_t pk[32];
    uint8_t shared[32];     /* X25519(sk, server key) */
    uint8_t server_pub[32];
    bool ready;
} skp_eph;

/* Seals a request (body = a serialised DeviceRequest): makes a fresh
 * ephemeral key pair into eph, key = BLAKE2b-256(key: tek_tx, "splitkey v2
 * request" || X25519(eph, server) || eph_pub || server_pub).  key_id and
 * tek_tx are NULL for EnrolInit (no transport key yet). */
int skp_req_seal(uint8_t *out, size_t cap, size_t *written, skp_eph *eph, const uint8_t *key_id,
                 uint32_t type, const uint8_t *tek_tx, const uint8_t *server_kx_pub,
                 const uint8_t *body, size_t body_len, const sk_rng *rng);
/* The server's side: shared (32, secret) receives X25519(server, eph) for
 * the reply.  SK_ERR_PROTO_AUTH when the frame does not authenticate. */
int skp_req_open(uint8_t *body, size_t *body_len, uint8_t *shared, const skp_env *env,
                 const uint8_t *tek_rx, const uint8_t *server_kx_sk, const uint8_t *server_kx_pub);
/* Seals a reply (body = a serialised DeviceReply) to the request whose
 * ephemeral key is req_eph, with a fresh server ephemeral f: key =
 * BLAKE2b-256(key: tek_tx, "splitkey v2 reply" || shared || X25519(f,
 * req_eph) || req_eph || f_pub).  The server wipes f at once, so a reply
 * stays secret even from a later thief of both sides' long-term keys. */
int skp_rep_seal(uint8_t *out, size_t cap, size_t *written, const uint8_t *key_id, uint32_t type,
                 const uint8_t *tek_tx, const uint8_t *shared, const uint8_t *req_eph,
                 const uint8_t *body, size_t body_len, const sk_rng *rng);
/* The device's side, with the ephemeral of the request in flight. */
int skp_rep_open(uint8_t *body, size_t *body_len, const skp_env *env, const uint8_t *tek_rx,
                 const skp_eph *eph);

/* An envelope carrying body in clear (EnrolInit, plain errors). key_id may be NULL. */
int skp_env_plain(uint8_t *out, size_t cap, size_t *written, const uint8_t *key_id, uint32_t type,
                  const uint8_t *body, size_t body_len);

/* ----------------------------------------------------------- primitives */

/* H = keyed BLAKE2b-256 (key: key_id) of "splitkey otp v1" || otp. */
void skp_otp_hash(uint8_t *out, const uint8_t *key_id, const uint8_t *otp);

/* The binding of a request: what every retry of it keeps the same.
 * BLAKE2b-256 of "splitkey request binding v2" || type (4, big-endian) ||
 * part, where part is the session id for SIGN_SUBMIT, empty for REVOKE
 * (a retry carries a new partial signature, never part of it) and the
 * whole body for every other type.  The server keeps it with the newest
 * request and with a charge; every sealed reply carries the binding of the
 * request it answers. */
#define SKP_BINDING_LEN 32u
void skp_request_binding(uint8_t *out, uint32_t type, const uint8_t *part, size_t part_len);

/* The proof of knowledge of a registration token's secret that EnrolInit
 * carries: keyed BLAKE2b-256 (key: the secret) of "splitkey token proof v2"
 * || purpose (1) || profile (4, big-endian) || kx_pub || n1.  Bound to the
 * device's key and n1, so whoever sees it cannot enrol another key. */
void skp_token_proof(uint8_t *out, const uint8_t *secret, uint32_t purpose, unsigned profile,
                     const uint8_t *kx_pub, const uint8_t *n1, size_t n1_len);

/* The digest the device signs (PKCS#1 v1.5, SHA-256) to revoke its key:
 * SHA-256("splitkey revoke v1" || key_id). */
void skp_revoke_digest(uint8_t *out, const uint8_t *key_id);

/* Labels of the Ed25519 signatures over the enrolment transcript. */
#define SKP_LABEL_INIT_REPLY "splitkey enrol-init-reply v1"
#define SKP_LABEL_SUBMIT_REPLY "splitkey enrol-submit-reply v1"

/* Bytes signed in an enrolment reply: label || t (32) || body. */
int skp_enrol_signed_data(uint8_t *out, size_t cap, size_t *written, const char *label,
                          const uint8_t *t, const uint8_t *body, size_t body_len);

/* SHA-256 over the concatenation of up to three parts (NULL parts skipped). */
void skp_sha256_3(uint8_t *out, const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len,
                  const uint8_t *c, size_t c_len);

/* Lengths of the integers of a profile. */
static inline size_t skp_k_bytes(unsigned k) { return (size_t)k / 8u; }

#endif /* SK_PROTOCOL_COMMON_H */
