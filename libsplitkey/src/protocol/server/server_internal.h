/* SPDX-License-Identifier: Apache-2.0 */
/* server_internal.h - the server role's private state and shared functions. */
#ifndef SK_PROTOCOL_SERVER_INTERNAL_H
#define SK_PROTOCOL_SERVER_INTERNAL_H

#include <stdatomic.h>

#include "protocol/common/protocol.h"

struct sk_server_ident {
    uint8_t kx_sk[32]; /* secret */
    uint8_t kx_pk[32];
    uint8_t ed_seed[32]; /* secret */
    uint8_t ed_sk[64];   /* secret */
    uint8_t ed_pk[32];
};

struct sk_key_rec {
    uint64_t version;
    uint8_t key_id[SKP_KEY_ID_LEN];
    sk_purpose purpose;
    unsigned bits;
    sk_key_state state; /* ENROLLING, PENDING, ACTIVE or DESTROYED; a lock is locked_until */
    sk_destroy_reason destroy_reason;
    char subject[SKP_MAX_SUBJECT_LEN + 1];
    uint8_t n1[SKP_MAX_N1_LEN];
    uint8_t n2[SKP_MAX_N1_LEN];
    uint8_t n[SKP_MAX_N_LEN];
    uint8_t device_kx_pub[SKP_KX_PUB_LEN];
    uint8_t otp_hash[SKP_OTP_HASH_LEN]; /* the current one-time password's */
    /* retired one-time passwords, oldest first, each with the request that
     * retired it; the newest one's reply is kept for a resend */
    struct {
        uint8_t otp_hash[SKP_OTP_HASH_LEN];
        uint8_t request_id[SKP_REQUEST_ID_LEN];
    } hist[SKP_HIST_LEN];
    size_t n_hist;
    uint32_t last_reply_type;
    uint8_t last_reply[SKP_MAX_BODY_LEN]; /* sealed DeviceReply */
    size_t last_reply_len;
    uint8_t last_binding[SKP_BINDING_LEN]; /* the newest request's binding */
    bool has_last_binding;
    /* a PIN check charged (fail_count includes it) and not yet decided:
     * the request, its binding and the attempt charged (its partial
     * signature, sealed under a key derived from the identity) */
    bool has_lease;
    uint8_t lease_request_id[SKP_REQUEST_ID_LEN];
    uint8_t lease_otp_hash[SKP_OTP_HASH_LEN];
    uint8_t lease_binding[SKP_BINDING_LEN];
    uint8_t lease_y[SKP_NONCE_LEN + SKP_MAX_N1_LEN + SKP_TAG_LEN];
    size_t lease_y_len;
    uint64_t lease_at;
    uint32_t fail_count;
    uint64_t locked_until;
    uint8_t transcript[SKP_HASH32_LEN];
    bool has_transcript;
    uint8_t pop_session_id[SKP_SESSION_ID_LEN];
    bool has_pop;
    uint64_t pop_expires_at;
    uint8_t pop_digest[SKP_MAX_DIGEST_LEN];
    size_t pop_digest_len;
    uint8_t cert[SKP_MAX_CERT_LEN];
    size_t cert_len;
    uint64_t created_at;
    sk_cert_level level; /* fixed at enrolment; NONE in older records reads as ADVANCED */
    /* secrets, exported separately */
    uint8_t ds[SKP_MAX_N1_LEN];
    size_t ds_len;
    uint8_t server_key[SKP_MAX_SERVER_KEY_LEN];
    size_t server_key_len;
};

struct sk_session_rec {
    uint64_t version;
    uint8_t id[SKP_SESSION_ID_LEN];
    uint8_t key_id[SKP_KEY_ID_LEN];
    bool from_device;
    bool pop;
    sk_purpose purpose;
    uint8_t digest[SKP_MAX_DIGEST_LEN];
    size_t digest_len;
    sk_hash hash;
    sk_scheme scheme;
    uint8_t salt[SKP_MAX_SALT_LEN];
    size_t salt_len;
    char display_text[SKP_MAX_DISPLAY_TEXT_LEN + 1];
    char rp_name[SKP_MAX_RP_NAME_LEN + 1];
    uint8_t rp_ref[SKP_MAX_RP_REF_LEN]; /* the relying party's reference, as given */
    size_t rp_ref_len;
    char code[SKP_CODE_LEN + 1];
    uint64_t created_at;
    uint64_t expires_at;
    sk_session_state state;
    uint8_t signature[SKP_MAX_N_LEN];
    size_t signature_len;
    uint8_t cert[SKP_MAX_CERT_LEN];
    size_t cert_len;
    uint8_t csr_info[SKP_MAX_CSR_INFO_LEN]; /* proof of possession: the CSR's CRI */
    size_t csr_info_len;
    sk_interaction interaction;   /* as created (NONE: display text and PIN) */
    char vc_choices[SK_VC_CHOICES][SKP_CODE_LEN + 1]; /* VC-choice: as shown, one is code */
    size_t n_vc_choices;          /* 0 or SK_VC_CHOICES */
    sk_interaction refused_at;    /* REFUSED: where the person said no */
    sk_cert_level level;          /* the level of the key the session went to */
};

struct sk_server_result {
    uint8_t reply[SKP_MAX_MESSAGE_LEN];
    size_t reply_len;
    uint8_t csr[SKP_MAX_CSR_INFO_LEN + SKP_MAX_N_LEN + 64]; /* SK_EFFECT_CERT_REQUEST */
    size_t csr_len;
    sk_key_rec *key;
    sk_key_rec *superseded; /* SK_EFFECT_SUPERSEDE */
    sk_session_rec *session;
    int status;
    unsigned effects;
    int revoke_reason;
};

/* Counts the split-signature completions (each one an exponentiation with
 * ds and d2) the server role starts; tests use it to see that a locked key
 * is answered without one. */
extern atomic_ulong sk_server_completions;

/* Copies (deep) a record; NULL on allocation failure. */
sk_key_rec *sks_key_copy(const sk_key_rec *rec);
sk_session_rec *sks_session_copy(const sk_session_rec *s);

/* The state as of now, with a running lock shown as TIMELOCKED. */
void sks_status(const sk_key_rec *rec, const sk_server_policy *policy, uint64_t now,
                sk_key_status *st);

/* Transport keys of a key: rx (device -> server), tx (server -> device). */
int sks_tek(const sk_server_ident *id, const uint8_t *device_kx_pub, uint8_t *rx, uint8_t *tx);

/* out = keyed BLAKE2b (out_len bytes; key: BLAKE2b-256 of key_label keyed
 * with the 32-byte identity secret) of label || a || b (b may be NULL).
 * The server's stateless secrets: token secrets, challenge tags. */
void sks_derived_hash(uint8_t *out, size_t out_len, const uint8_t *secret, const char *key_label,
                      const char *label, const uint8_t *a, size_t a_len, const uint8_t *b,
                      size_t b_len);

/* Token: verifies signature, purpose, expiry and the device's proof of the
 * token secret over (purpose, profile, kx_pub, n1); gives subject and id. */
int sks_token_check(const sk_server_ident *id, const uint8_t *token, size_t token_len,
                    const uint8_t *proof, size_t proof_len, unsigned profile,
                    const uint8_t *kx_pub, const uint8_t *n1, size_t n1_len, sk_purpose purpose,
                    uint64_t now, char *subject, size_t subject_cap, uint8_t *token_id);
/* Reads the token id without verifying anything (routing only). */
int sks_token_id(const uint8_t *token, size_t token_len, uint8_t *token_id);
/* Reads a token's public part (what the device sends): its fields and its
 * verified operator approvals (sk_server_token_read without the secret). */
int sks_token_info(sk_token_info *info, const uint8_t *pub, size_t pub_len);
/* SK_OK when the token's payload carries the identity's signature, else
 * SK_ERR_TOKEN. */
int sks_token_signed(const sk_server_ident *id, const uint8_t *pub, size_t pub_len);

/* SessionInfo of a session (pointers into s); choices receives the
 * pointers of info->vc_choices. */
void sks_session_info(const sk_session_rec *s, Splitkey__SessionInfo *info,
                      char *choices[SK_VC_CHOICES]);

/* The level a key answers with (NONE in an older record is ADVANCED). */
sk_cert_level sks_key_level(const sk_key_rec *rec);
/* Whether an interaction asks the person to pick a verification code. */
bool sks_vc_choice(sk_interaction i);

/* Creates a PENDING session from a SessionCreate that was checked by
 * sks_session_create_check(). */
int sks_session_create_check(const Splitkey__SessionCreate *c);
int sks_session_new(sk_session_rec **out, const sk_key_rec *rec, const Splitkey__SessionCreate *c,
                    bool from_device, bool pop, const sk_server_policy *policy, uint64_t now,
                    const sk_rng *rng);

#endif
