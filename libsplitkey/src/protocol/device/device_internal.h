/* device_internal.h - the device role's private state and shared functions. */
#ifndef SK_PROTOCOL_DEVICE_INTERNAL_H
#define SK_PROTOCOL_DEVICE_INTERNAL_H

#include "protocol/common/protocol.h"

/* Kinds of request kept in flight for a retry. */
enum { SKD_PENDING_NONE = 0, SKD_PENDING_SIGN = 1, SKD_PENDING_REVOKE = 2, SKD_PENDING_OTP = 3 };

struct sk_device_key {
    uint8_t key_id[SKP_KEY_ID_LEN];
    sk_purpose purpose;
    unsigned bits; /* k */
    sk_key_state state;
    uint8_t wrapped[SKP_MAX_WRAPPED_LEN];
    size_t wrapped_len;
    uint8_t n1[SKP_MAX_N1_LEN];
    size_t n1_len;
    uint8_t n[SKP_MAX_N_LEN];
    size_t n_len;
    uint8_t tek_rx[SKP_TEK_LEN]; /* secret: server -> device */
    uint8_t tek_tx[SKP_TEK_LEN]; /* secret: device -> server */
    uint8_t server_pub[SK_SERVER_PUB_LEN];
    uint64_t send_counter;
    uint64_t recv_counter;
    uint8_t otp[SKP_OTP_LEN]; /* secret */
    char subject[SKP_MAX_SUBJECT_LEN + 1];
    uint8_t cert[SKP_MAX_CERT_LEN];
    size_t cert_len;
    /* the request in flight */
    uint32_t pending_kind;
    uint8_t pending_request_id[SKP_REQUEST_ID_LEN];
    uint8_t pending_session_id[SKP_SESSION_ID_LEN];
    size_t pending_session_id_len;
    uint8_t pending_salt[SKP_MAX_SALT_LEN];
    size_t pending_salt_len;
    uint8_t pending_digest[SKP_MAX_DIGEST_LEN];
    size_t pending_digest_len;
    uint32_t pending_hash;
    uint32_t pending_scheme;
};

struct sk_device_session {
    uint8_t id[SKP_SESSION_ID_LEN];
    sk_purpose purpose;
    uint8_t digest[SKP_MAX_DIGEST_LEN];
    size_t digest_len;
    sk_hash hash;
    sk_scheme scheme;
    uint8_t salt[SKP_MAX_SALT_LEN];
    size_t salt_len;
    char display_text[SKP_MAX_DISPLAY_TEXT_LEN + 1];
    char rp_name[SKP_MAX_RP_NAME_LEN + 1];
    char code[SKP_CODE_LEN + 1];
    uint64_t expires_at;
};

/* counter = max(previous + 1, now * 2^16) */
uint64_t skd_next_counter(uint64_t previous, uint64_t now);

/* Seals body as a request of the given type and advances the send counter. */
int skd_send(sk_device_key *key, uint8_t *msg, size_t cap, size_t *written, uint64_t now,
             uint32_t type, const uint8_t *body, size_t body_len);

/* Opens a reply.  Accepts a type listed in types (n of them) or MSG_ERROR.
 * On an authenticated reply the receive counter advances.  For MSG_ERROR the
 * carried code is returned (and *status filled) and the key's state updated;
 * for MSG_PLAIN_ERROR the carried code is returned and nothing changes.
 * On SK_OK, *type and body hold the reply. */
int skd_open(sk_device_key *key, uint32_t *type, uint8_t *body, size_t *body_len,
             sk_key_status *status, const uint32_t *types, size_t n, const uint8_t *reply,
             size_t reply_len);

/* Builds the key's partial signature y of a digest with the PIN. */
int skd_partial(const sk_device_key *key, uint8_t *y, size_t y_len, const uint8_t *pin,
                size_t pin_len, sk_scheme scheme, sk_hash hash, const uint8_t *digest,
                size_t digest_len, const uint8_t *salt, size_t salt_len);

#endif
