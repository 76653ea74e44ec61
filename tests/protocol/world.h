/* SPDX-License-Identifier: Apache-2.0 */
/* world.h - both protocol roles wired back to back in one process: an
 * in-memory store of key and session records (with version checks, as a
 * database would do compare-and-swap), an injected clock, and short device flows. */
#ifndef SK_TEST_WORLD_H
#define SK_TEST_WORLD_H

#include <stdbool.h>

#include "splitkey/device.h"
#include "splitkey/server.h"
#include "testutil.h"

#define W_MAX_KEYS 8
#define W_MAX_SESSIONS 64
#define W_SECRETS_MAX 2048

typedef struct w_key {
    uint8_t id[SK_KEY_ID_LEN];
    uint8_t rec[SK_MAX_RECORD_LEN];
    size_t rec_len;
    uint8_t sec[W_SECRETS_MAX];
    size_t sec_len;
} w_key;

typedef struct w_session {
    uint8_t id[SK_SESSION_ID_LEN];
    uint8_t key_id[SK_KEY_ID_LEN];
    uint8_t rec[SK_MAX_RECORD_LEN];
    size_t rec_len;
} w_session;

typedef struct world {
    sk_server_ident *id;
    uint8_t server_pub[SK_SERVER_PUB_LEN];
    sk_server_policy policy;
    uint64_t now;
    w_key keys[W_MAX_KEYS];
    int nkeys;
    w_session sessions[W_MAX_SESSIONS];
    int nsessions;
    uint8_t used_tokens[16][16];
    uint8_t token_keys[16][SK_KEY_ID_LEN]; /* the key each token enrolled */
    int nused_tokens;
    /* fetch: pass all waiting sessions (sessions/n_sessions) rather than
     * the oldest alone (session) */
    bool fetch_as_list;
    /* what the last handled request did */
    unsigned effects;
    int revoke_reason;
    int status;
    bool stored_key;
    bool stored_session;
    /* a server with a CA (sk_server_input.ca_mode): what the next request
     * hands in, and the CSR the last one asked a certificate for */
    int ca_mode;
    const uint8_t *certificate;
    size_t certificate_len;
    int ca_error;
    uint8_t csr[8192];
    size_t csr_len;
    /* PIN checks: the charges stored by the last world_device(), and a
     * switch that stops after the charge (a server that crashed there) */
    int charges;
    bool stop_after_charge;
    /* the store was restored to an older point (sk_server_input.key_restored):
     * true until a key record is stored again, as the service sees a record
     * last written before the restore */
    bool key_restored;
    /* the relying party of the routed session stopped waiting
     * (sk_server_input.session_abandoned), as the service's idle rule says */
    bool session_abandoned;
} world;

world *world_new(void);
void world_free(world *w);

/* One device request through the server: routing, loading, handling,
 * storing.  Returns the handler's return code. */
int world_device(world *w, const uint8_t *req, size_t req_len, uint8_t *reply, size_t *reply_len);
/* One relying-party request. */
int world_rp(world *w, const uint8_t *req, size_t req_len, uint8_t *reply, size_t *reply_len);

w_key *world_key(world *w, const uint8_t *key_id);
/* The stored key record as an object (caller frees). */
sk_key_rec *world_key_record(world *w, const uint8_t *key_id);

/* Enrols a key and (unless pop_only_start) completes the proof-of-possession
 * signature.  Returns SK_OK or the first failing code. */
int world_enrol(world *w, sk_device_key **out, sk_profile profile, sk_purpose purpose,
                const char *pin, const char *token, bool do_pop);

/* Relying party creates a session over a digest for the key. */
int world_rp_create(world *w, const sk_device_key *key, const uint8_t *digest, sk_hash hash,
                    sk_scheme scheme, uint8_t *session_id, char *code);
/* Relying party polls; fills sig when complete; returns the result status
 * (SK_OK complete, SK_ERR_PENDING, SK_ERR_SESSION_REFUSED, _EXPIRED,
 * _CANCELLED, or the error the reply carries). */
int world_rp_poll(world *w, const uint8_t *session_id, uint8_t *sig, size_t *sig_len);
/* Relying party cancels (sk_rp_cancel_request); the same result mapping. */
int world_rp_cancel(world *w, const uint8_t *session_id, uint8_t *sig, size_t *sig_len);

/* Device: fetch the waiting session, approve it with pin, read the signature. */
int world_approve(world *w, sk_device_key *key, const char *pin, uint8_t *sig, size_t *sig_len,
                  sk_key_status *status);

/* mbedTLS as an independent verifier (PKCS1 via mbedtls_rsa_pkcs1_verify;
 * PSS also with the exact salt length). */
int mbedtls_check(const sk_device_key *key, sk_scheme scheme, sk_hash hash, const uint8_t *digest,
                  const uint8_t *sig, size_t sig_len);

/* Two exported key records equal but for the version, the one-time
 * password, its history, the kept reply and its request's binding (what
 * every answer changes). */
bool world_same_but_otp(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len);
#define PIN_SIGN "12345"
#define PIN_AUTH "1234"

#endif
