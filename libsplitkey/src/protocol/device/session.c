/* SPDX-License-Identifier: Apache-2.0 */
/* session.c - the device's requests after enrolment and the replies to them:
 * sessions, approval (signing), refusal, revocation, OTP refresh, key state,
 * and the retry of a request whose reply was lost. */
#include <sodium.h>
#include <string.h>

#include "pki/csr_internal.h"
#include "protocol/device/device_internal.h"

/* ---------------------------------------------------------------- sessions */

int sk_device_session_id(const sk_device_session *s, uint8_t *id, size_t id_len)
{
    if (id_len != SKP_SESSION_ID_LEN)
        return SK_ERR_ARG;
    memcpy(id, s->id, SKP_SESSION_ID_LEN);
    return SK_OK;
}

const char *sk_device_session_display_text(const sk_device_session *s) { return s->display_text; }
const char *sk_device_session_rp_name(const sk_device_session *s) { return s->rp_name; }
const char *sk_device_session_code(const sk_device_session *s) { return s->code; }
uint64_t sk_device_session_expires_at(const sk_device_session *s) { return s->expires_at; }
sk_interaction sk_device_session_interaction(const sk_device_session *s) { return s->interaction; }

const char *sk_device_session_vc_choice(const sk_device_session *s, size_t i)
{
    return i < s->n_vc_choices ? s->vc_choices[i] : NULL;
}

static bool is_vc_choice(sk_interaction i)
{
    return i == SK_INTERACTION_VC_CHOICE || i == SK_INTERACTION_CONFIRMATION_AND_VC_CHOICE;
}

static bool is_confirmation(sk_interaction i)
{
    return i == SK_INTERACTION_CONFIRMATION_MESSAGE ||
           i == SK_INTERACTION_CONFIRMATION_AND_VC_CHOICE;
}
sk_hash sk_device_session_hash(const sk_device_session *s) { return s->hash; }
sk_scheme sk_device_session_scheme(const sk_device_session *s) { return s->scheme; }

void sk_device_session_free(sk_device_session *s)
{
    if (s == NULL)
        return;
    sodium_memzero(s, sizeof *s);
    free(s);
}

/* Common preconditions of a new request. */
static int can_request(const sk_device_key *key)
{
    if (key->state == SK_KEY_DESTROYED)
        return SK_ERR_DESTROYED;
    if (key->pending_kind != SKD_PENDING_NONE)
        return SK_ERR_PROTO_STATE;
    return SK_OK;
}

/* Starts a request whose body is sent again as it is on a retry: it is
 * kept in the device state until its reply is read. */
static int start_body(sk_device_key *key, uint8_t *msg, size_t cap, size_t *written, uint32_t kind,
                      uint32_t type, const ProtobufCMessage *m, const uint8_t *request_id)
{
    size_t len = 0;
    int rc = skp_pack(m, key->pending_body, sizeof key->pending_body, &len);
    if (rc != SK_OK)
        return rc;
    key->pending_kind = kind;
    key->generation++;
    key->pending_type = type;
    key->pending_body_len = len;
    if (request_id != NULL)
        memcpy(key->pending_request_id, request_id, SKP_REQUEST_ID_LEN);
    else
        randombytes_buf(key->pending_request_id, SKP_REQUEST_ID_LEN);
    rc = skd_send(key, msg, cap, written, key->pending_body, len);
    if (rc != SK_OK)
        skd_clear_pending(key);
    return rc;
}

/* The CertificationRequestInfo of a PENDING key's proof of possession: the
 * registered subject (which must be a person subject, or a legal person's
 * for a seal key: doc/pki.md "Subjects")
 * and n.
 * Returns SK_OK, SK_ERR_PKI (not a person subject), or what sk_csr_tbs_new()
 * returns. */
static int pop_tbs(const sk_device_key *key, sk_hash hash, sk_csr_tbs **tbs)
{
    sk_name *name = NULL;
    sk_pubkey *pub = NULL;
    *tbs = NULL;
    if (key->subject[0] == '\0')
        return SK_ERR_PKI;
    /* A seal key's subject is an organisation's (legal person). */
    if ((key->purpose == SK_PURPOSE_SEAL ? sk_name_parse_legal(&name, NULL, key->subject)
                                         : sk_name_parse_person(&name, NULL, key->subject)) !=
        SK_OK)
        return SK_ERR_PKI;
    int rc = sk_device_key_pubkey(key, &pub);
    if (rc == SK_OK)
        rc = sk_csr_tbs_new(tbs, name, pub, hash);
    sk_pubkey_free(pub);
    sk_name_free(name);
    return rc;
}

int sk_device_session_create(sk_device_key *key, uint8_t *msg, size_t cap, size_t *written,
                             uint64_t now, const uint8_t *digest, size_t digest_len, sk_hash hash,
                             sk_scheme scheme, const char *display_text)
{
    Splitkey__SessionCreate c = SPLITKEY__SESSION_CREATE__INIT;
    sk_csr_tbs *tbs = NULL;
    *written = 0;
    int rc = can_request(key);
    if (rc != SK_OK)
        return rc;
    if (skp_sign_hash_ok((uint32_t)hash) != SK_OK || skp_scheme_ok((uint32_t)scheme) != SK_OK ||
        digest_len != sk_hash_len(hash))
        return SK_ERR_ARG;
    if (display_text != NULL && skp_check_text(display_text, SKP_MAX_DISPLAY_TEXT_LEN) != SK_OK)
        return SK_ERR_LIMIT;
    c.key_id = skp_bin(key->key_id, SKP_KEY_ID_LEN);
    c.purpose = (Splitkey__Purpose)key->purpose;
    c.digest = skp_bin(digest, digest_len);
    c.hash = (uint32_t)hash;
    c.scheme = (uint32_t)scheme;
    c.display_text = (char *)(display_text != NULL ? display_text : "");
    /* A proof of possession over the digest of this key's CSR carries the
     * CertificationRequestInfo, so the server can assemble the signed
     * request for the CA (doc/protocol.md, enrolment step 6). */
    if (key->state == SK_KEY_PENDING && scheme == SK_SCHEME_PKCS1 &&
        pop_tbs(key, hash, &tbs) == SK_OK) {
        uint8_t d[SK_MAX_HASH_LEN];
        size_t cri_len = 0;
        const uint8_t *cri = pki_csr_tbs_info(tbs, &cri_len);
        if (sk_csr_tbs_digest(tbs, d, digest_len) == SK_OK && memcmp(d, digest, digest_len) == 0)
            c.csr_info = skp_bin(cri, cri_len);
    }
    (void)now;
    rc = start_body(key, msg, cap, written, SKD_PENDING_CREATE,
                    SPLITKEY__MSG_TYPE__MSG_SESSION_CREATE, &c.base, NULL);
    sk_csr_tbs_free(tbs);
    return rc;
}

int sk_device_pop_create(sk_device_key *key, uint8_t *msg, size_t cap, size_t *written,
                         uint64_t now, sk_hash hash, const char *display_text, uint8_t *digest,
                         size_t digest_len)
{
    uint8_t d[SK_MAX_HASH_LEN];
    sk_csr_tbs *tbs = NULL;
    *written = 0;
    if (key->state != SK_KEY_PENDING)
        return SK_ERR_PROTO_STATE;
    if (skp_sign_hash_ok((uint32_t)hash) != SK_OK)
        return SK_ERR_ARG;
    size_t hl = sk_hash_len(hash);
    if (digest != NULL && digest_len != hl)
        return SK_ERR_ARG;
    int rc = pop_tbs(key, hash, &tbs);
    if (rc == SK_OK)
        rc = sk_csr_tbs_digest(tbs, d, hl);
    sk_csr_tbs_free(tbs);
    if (rc == SK_OK)
        rc = sk_device_session_create(key, msg, cap, written, now, d, hl, hash, SK_SCHEME_PKCS1,
                                      display_text);
    if (rc == SK_OK && digest != NULL)
        memcpy(digest, d, hl);
    return rc;
}

int sk_device_fetch(sk_device_key *key, uint8_t *msg, size_t cap, size_t *written, uint64_t now)
{
    Splitkey__SessionFetch f = SPLITKEY__SESSION_FETCH__INIT;
    *written = 0;
    int rc = can_request(key);
    if (rc != SK_OK)
        return rc;
    (void)now;
    return start_body(key, msg, cap, written, SKD_PENDING_FETCH,
                      SPLITKEY__MSG_TYPE__MSG_SESSION_FETCH, &f.base, NULL);
}

int sk_device_refuse(sk_device_key *key, uint8_t *msg, size_t cap, size_t *written, uint64_t now,
                     const sk_device_session *session)
{
    return sk_device_refuse_at(key, msg, cap, written, now, session, SK_INTERACTION_NONE);
}

int sk_device_refuse_at(sk_device_key *key, uint8_t *msg, size_t cap, size_t *written,
                        uint64_t now, const sk_device_session *session, sk_interaction refused_at)
{
    Splitkey__SessionRefuse r = SPLITKEY__SESSION_REFUSE__INIT;
    *written = 0;
    if ((unsigned)refused_at > (unsigned)SK_INTERACTION_CONFIRMATION_AND_VC_CHOICE)
        return SK_ERR_ARG;
    int rc = can_request(key);
    if (rc != SK_OK)
        return rc;
    r.session_id = skp_bin(session->id, SKP_SESSION_ID_LEN);
    r.refused_at = (Splitkey__Interaction)refused_at;
    (void)now;
    memcpy(key->pending_session_id, session->id, SKP_SESSION_ID_LEN);
    key->pending_session_id_len = SKP_SESSION_ID_LEN;
    return start_body(key, msg, cap, written, SKD_PENDING_REFUSE,
                      SPLITKEY__MSG_TYPE__MSG_SESSION_REFUSE, &r.base, NULL);
}

int sk_device_key_state_request(sk_device_key *key, uint8_t *msg, size_t cap, size_t *written,
                                uint64_t now)
{
    Splitkey__KeyStateRequest r = SPLITKEY__KEY_STATE_REQUEST__INIT;
    *written = 0;
    (void)now;
    if (key->pending_kind != SKD_PENDING_NONE)
        return SK_ERR_PROTO_STATE;
    r.key_id = skp_bin(key->key_id, SKP_KEY_ID_LEN);
    return start_body(key, msg, cap, written, SKD_PENDING_KEY_STATE,
                      SPLITKEY__MSG_TYPE__MSG_KEY_STATE, &r.base, NULL);
}

/* Sends the request in flight (first send and retries alike).  For an
 * approval or a revocation y is computed again from the PIN: y would let
 * anyone holding the stored state test PINs offline, so it is never kept.
 * Every other kind sends its kept body again. */
static int send_pending(sk_device_key *key, uint8_t *msg, size_t cap, size_t *written,
                        const uint8_t *pin, size_t pin_len)
{
    uint8_t y[SKP_MAX_N1_LEN];
    uint8_t body[SKP_MAX_BODY_LEN];
    size_t y_len = key->bits / 8, body_len = 0;
    int rc;

    if (key->pending_kind != SKD_PENDING_SIGN && key->pending_kind != SKD_PENDING_REVOKE)
        return skd_send(key, msg, cap, written, key->pending_body, key->pending_body_len);
    if (pin == NULL)
        return SK_ERR_ARG;
    rc = skd_partial(key, y, y_len, pin, pin_len, (sk_scheme)key->pending_scheme,
                     (sk_hash)key->pending_hash, key->pending_digest, key->pending_digest_len,
                     key->pending_salt_len ? key->pending_salt : NULL, key->pending_salt_len);
    if (rc != SK_OK)
        goto out;
    if (key->pending_kind == SKD_PENDING_SIGN) {
        Splitkey__SignSubmit s = SPLITKEY__SIGN_SUBMIT__INIT;
        s.session_id = skp_bin(key->pending_session_id, key->pending_session_id_len);
        s.request_id = skp_bin(key->pending_request_id, SKP_REQUEST_ID_LEN);
        s.y = skp_bin(y, y_len);
        s.otp = skp_bin(key->otp, SKP_OTP_LEN);
        s.vc_chosen = key->pending_vc_chosen;
        rc = skp_pack(&s.base, body, sizeof body, &body_len);
    } else {
        Splitkey__Revoke r = SPLITKEY__REVOKE__INIT;
        r.request_id = skp_bin(key->pending_request_id, SKP_REQUEST_ID_LEN);
        r.y = skp_bin(y, y_len);
        r.otp = skp_bin(key->otp, SKP_OTP_LEN);
        rc = skp_pack(&r.base, body, sizeof body, &body_len);
    }
    if (rc == SK_OK)
        rc = skd_send(key, msg, cap, written, body, body_len);
out:
    sodium_memzero(y, sizeof y);
    sodium_memzero(body, sizeof body);
    return rc;
}

/* Records a request in flight and sends it; forgets it if it cannot be sent. */
static int start_pending(sk_device_key *key, uint8_t *msg, size_t cap, size_t *written,
                         uint32_t kind, const uint8_t *pin, size_t pin_len)
{
    key->pending_kind = kind;
    key->generation++;
    randombytes_buf(key->pending_request_id, SKP_REQUEST_ID_LEN);
    int rc = send_pending(key, msg, cap, written, pin, pin_len);
    if (rc != SK_OK)
        skd_clear_pending(key);
    return rc;
}

int sk_device_approve(sk_device_key *key, uint8_t *msg, size_t cap, size_t *written, uint64_t now,
                      const sk_device_session *session, const uint8_t *pin, size_t pin_len)
{
    return sk_device_approve_choice(key, msg, cap, written, now, session, pin, pin_len, NULL, 0);
}

int sk_device_approve_choice(sk_device_key *key, uint8_t *msg, size_t cap, size_t *written,
                             uint64_t now, const sk_device_session *session, const uint8_t *pin,
                             size_t pin_len, const char *vc_chosen, int confirmed)
{
    *written = 0;
    int rc = can_request(key);
    if (rc != SK_OK)
        return rc;
    if (session->purpose != key->purpose)
        return SK_ERR_ARG;
    /* The person's part of the interaction, before anything is sent: the
     * confirmation of the message, the code picked among those offered. */
    if (is_confirmation(session->interaction) && !confirmed)
        return SK_ERR_ARG;
    bool offered = false;
    if (is_vc_choice(session->interaction)) {
        for (size_t i = 0; vc_chosen != NULL && i < session->n_vc_choices; i++)
            offered = offered || strcmp(vc_chosen, session->vc_choices[i]) == 0;
        if (!offered)
            return SK_ERR_ARG;
    } else if (vc_chosen != NULL && vc_chosen[0] != '\0') {
        return SK_ERR_ARG; /* no codes were offered */
    }
    if (offered)
        memcpy(key->pending_vc_chosen, vc_chosen, SKP_CODE_LEN + 1);
    else
        key->pending_vc_chosen[0] = '\0';
    memcpy(key->pending_session_id, session->id, SKP_SESSION_ID_LEN);
    key->pending_session_id_len = SKP_SESSION_ID_LEN;
    memcpy(key->pending_digest, session->digest, session->digest_len);
    key->pending_digest_len = session->digest_len;
    memcpy(key->pending_salt, session->salt, session->salt_len);
    key->pending_salt_len = session->salt_len;
    key->pending_hash = (uint32_t)session->hash;
    key->pending_scheme = (uint32_t)session->scheme;
    (void)now;
    return start_pending(key, msg, cap, written, SKD_PENDING_SIGN, pin, pin_len);
}

int sk_device_revoke(sk_device_key *key, uint8_t *msg, size_t cap, size_t *written, uint64_t now,
                     const uint8_t *pin, size_t pin_len)
{
    *written = 0;
    int rc = can_request(key);
    if (rc != SK_OK)
        return rc;
    skp_revoke_digest(key->pending_digest, key->key_id);
    key->pending_digest_len = 32;
    key->pending_hash = SK_HASH_SHA256;
    key->pending_scheme = SK_SCHEME_PKCS1;
    key->pending_salt_len = 0;
    (void)now;
    return start_pending(key, msg, cap, written, SKD_PENDING_REVOKE, pin, pin_len);
}

int sk_device_otp_refresh(sk_device_key *key, uint8_t *msg, size_t cap, size_t *written,
                          uint64_t now)
{
    *written = 0;
    int rc = can_request(key);
    if (rc != SK_OK)
        return rc;
    (void)now;
    Splitkey__OtpRefresh r = SPLITKEY__OTP_REFRESH__INIT;
    uint8_t rid[SKP_REQUEST_ID_LEN];
    randombytes_buf(rid, sizeof rid);
    r.request_id = skp_bin(rid, sizeof rid);
    r.otp = skp_bin(key->otp, SKP_OTP_LEN);
    return start_body(key, msg, cap, written, SKD_PENDING_OTP, SPLITKEY__MSG_TYPE__MSG_OTP_REFRESH,
                      &r.base, rid);
}

int sk_device_retry(sk_device_key *key, uint8_t *msg, size_t cap, size_t *written, uint64_t now,
                    const uint8_t *pin, size_t pin_len)
{
    *written = 0;
    if (key->pending_kind == SKD_PENDING_NONE)
        return SK_ERR_PROTO_STATE;
    (void)now;
    return send_pending(key, msg, cap, written, pin, pin_len);
}

/* ----------------------------------------------------------------- replies */

static int load_session(sk_device_session *s, const Splitkey__SessionInfo *i)
{
    char code[SKP_CODE_LEN + 1];
    if (skp_check_len(&i->session_id, SKP_SESSION_ID_LEN) ||
        skp_check_max(&i->digest, SKP_MAX_DIGEST_LEN) ||
        skp_check_max(&i->salt, SKP_MAX_SALT_LEN) ||
        skp_check_text(i->display_text, SKP_MAX_DISPLAY_TEXT_LEN) ||
        skp_check_text(i->rp_name, SKP_MAX_RP_NAME_LEN) ||
        skp_check_text(i->verification_code, SKP_CODE_LEN))
        return SK_ERR_LIMIT;
    if (skp_sign_hash_ok(i->hash) || skp_scheme_ok(i->scheme) || skp_purpose_ok(i->purpose) ||
        i->digest.len != sk_hash_len((sk_hash)i->hash))
        return SK_ERR_PROTO_DECODE;
    if (i->scheme == SK_SCHEME_PSS ? i->salt.len != i->digest.len : i->salt.len != 0)
        return SK_ERR_PROTO_DECODE;
    if (i->interaction > SPLITKEY__INTERACTION__INTERACTION_CONFIRMATION_MESSAGE_AND_VC_CHOICE)
        return SK_ERR_PROTO_DECODE;
    sk_interaction in = i->interaction == SPLITKEY__INTERACTION__INTERACTION_NONE
                            ? SK_INTERACTION_DISPLAY_TEXT_AND_PIN
                            : (sk_interaction)i->interaction;
    if (sk_verification_code(code, sizeof code, i->digest.data, i->digest.len) != SK_OK)
        return SK_ERR_PROTO_DECODE;
    if (is_vc_choice(in)) {
        /* Three distinct four-digit codes, the digest's among them; the
         * server's own code is not given (it would give the answer away). */
        bool found = false;
        if (i->n_vc_choices != SK_VC_CHOICES ||
            (i->verification_code != NULL && i->verification_code[0] != '\0'))
            return SK_ERR_PROTO_DECODE;
        for (size_t k = 0; k < SK_VC_CHOICES; k++) {
            const char *v = i->vc_choices[k];
            if (v == NULL || strlen(v) != SKP_CODE_LEN || strspn(v, "0123456789") != SKP_CODE_LEN)
                return SK_ERR_PROTO_DECODE;
            for (size_t j = 0; j < k; j++)
                if (strcmp(v, i->vc_choices[j]) == 0)
                    return SK_ERR_PROTO_DECODE;
            found = found || strcmp(v, code) == 0;
            memcpy(s->vc_choices[k], v, SKP_CODE_LEN + 1);
        }
        if (!found)
            return SK_ERR_PROTO_DECODE;
        s->n_vc_choices = SK_VC_CHOICES;
    } else {
        /* The code shown is the device's own; the server's must agree. */
        if (i->n_vc_choices != 0 || i->verification_code == NULL ||
            strcmp(code, i->verification_code) != 0)
            return SK_ERR_PROTO_DECODE;
    }
    s->interaction = in;
    memcpy(s->id, i->session_id.data, SKP_SESSION_ID_LEN);
    s->purpose = (sk_purpose)i->purpose;
    skp_copy(s->digest, &s->digest_len, &i->digest);
    s->hash = (sk_hash)i->hash;
    s->scheme = (sk_scheme)i->scheme;
    skp_copy(s->salt, &s->salt_len, &i->salt);
    if (i->display_text != NULL)
        memcpy(s->display_text, i->display_text, strlen(i->display_text) + 1);
    if (i->rp_name != NULL)
        memcpy(s->rp_name, i->rp_name, strlen(i->rp_name) + 1);
    if (!is_vc_choice(in))
        memcpy(s->code, code, sizeof code);
    s->expires_at = i->expires_at;
    return SK_OK;
}

/* Reads a session-create or fetch reply into up to cap sessions. */
static int read_sessions(sk_device_key *key, sk_device_session **out, size_t cap, size_t *count,
                         sk_key_status *status, const uint8_t *reply, size_t reply_len)
{
    static const uint32_t types[] = {SPLITKEY__MSG_TYPE__MSG_SESSION_CREATE_REPLY,
                                     SPLITKEY__MSG_TYPE__MSG_SESSION_FETCH_REPLY};
    uint8_t body[SKP_MAX_BODY_LEN];
    size_t body_len = 0, n = 0;
    uint32_t type = 0;
    ProtobufCMessage *m = NULL;

    *count = 0;
    for (size_t i = 0; i < cap; i++)
        out[i] = NULL;
    if (key->pending_kind != SKD_PENDING_FETCH && key->pending_kind != SKD_PENDING_CREATE)
        return SK_ERR_PROTO_STATE;
    int rc = skd_open(key, &type, body, &body_len, status,
                      key->pending_kind == SKD_PENDING_FETCH ? types + 1 : types, 1, reply,
                      reply_len);
    if (rc != SK_OK)
        return rc;
    skd_clear_pending(key); /* answered: whatever the body holds */
    rc = skp_unpack(&splitkey__session_fetch_reply__descriptor, &m, body, body_len,
                    SKP_MAX_BODY_LEN);
    if (rc != SK_OK)
        goto out;
    const Splitkey__SessionFetchReply *r = (const Splitkey__SessionFetchReply *)m;
    if (r->session == NULL) {
        rc = r->n_more == 0 ? SK_ERR_NOT_FOUND : SK_ERR_PROTO_DECODE;
        goto out;
    }
    if (r->n_more >= SKP_MAX_FETCH_SESSIONS ||
        (type == SPLITKEY__MSG_TYPE__MSG_SESSION_CREATE_REPLY && r->n_more != 0)) {
        rc = SK_ERR_LIMIT;
        goto out;
    }
    for (size_t i = 0; i <= r->n_more && n < cap; i++) {
        const Splitkey__SessionInfo *info = i == 0 ? r->session : r->more[i - 1];
        sk_device_session *s = calloc(1, sizeof *s);
        if (s == NULL) {
            rc = SK_ERR_NOMEM;
            goto out;
        }
        out[n++] = s;
        rc = load_session(s, info);
        if (rc != SK_OK)
            goto out;
    }
    *count = n;
out:
    if (rc != SK_OK) {
        for (size_t i = 0; i < n; i++) {
            sk_device_session_free(out[i]);
            out[i] = NULL;
        }
    }
    skp_free(m);
    return rc;
}

int sk_device_read_session(sk_device_key *key, sk_device_session **out, sk_key_status *status,
                           const uint8_t *reply, size_t reply_len)
{
    size_t count = 0;
    return read_sessions(key, out, 1, &count, status, reply, reply_len);
}

int sk_device_read_sessions(sk_device_key *key, sk_device_session **out, size_t cap,
                            size_t *count, sk_key_status *status, const uint8_t *reply,
                            size_t reply_len)
{
    if (cap == 0) {
        *count = 0;
        return SK_ERR_ARG;
    }
    return read_sessions(key, out, cap, count, status, reply, reply_len);
}

int sk_device_read_signature(sk_device_key *key, uint8_t *sig, size_t cap, size_t *written,
                             sk_key_status *status, const uint8_t *reply, size_t reply_len)
{
    static const uint32_t types[] = {SPLITKEY__MSG_TYPE__MSG_SIGN_REPLY};
    uint8_t body[SKP_MAX_BODY_LEN];
    size_t body_len = 0;
    uint32_t type = 0;
    ProtobufCMessage *m = NULL;
    sk_pubkey *pub = NULL;

    *written = 0;
    if (key->pending_kind != SKD_PENDING_SIGN)
        return SK_ERR_PROTO_STATE;
    size_t sig_len = key->bits / 4;
    if (cap < sig_len)
        return SK_ERR_BUFFER_TOO_SMALL;
    int rc = skd_open(key, &type, body, &body_len, status, types, 1, reply, reply_len);
    if (rc != SK_OK)
        return rc;
    /* Answered (skd_open took the next OTP): the request in flight ends
     * here whatever the body is worth. */
    sk_hash hash = (sk_hash)key->pending_hash;
    sk_scheme scheme = (sk_scheme)key->pending_scheme;
    uint8_t digest[SKP_MAX_DIGEST_LEN], request_id[SKP_REQUEST_ID_LEN],
        session_id[SKP_SESSION_ID_LEN];
    size_t digest_len = key->pending_digest_len;
    memcpy(digest, key->pending_digest, digest_len);
    memcpy(request_id, key->pending_request_id, sizeof request_id);
    memcpy(session_id, key->pending_session_id, sizeof session_id);
    skd_clear_pending(key);
    rc = skp_unpack(&splitkey__sign_reply__descriptor, &m, body, body_len, SKP_MAX_BODY_LEN);
    if (rc != SK_OK)
        goto out;
    const Splitkey__SignReply *r = (const Splitkey__SignReply *)m;
    if (skp_check_len(&r->signature, sig_len) ||
        skp_check_len(&r->request_id, SKP_REQUEST_ID_LEN) ||
        skp_check_len(&r->session_id, SKP_SESSION_ID_LEN) ||
        skp_check_max(&r->certificate, SKP_MAX_CERT_LEN)) {
        rc = SK_ERR_LIMIT;
        goto out;
    }
    if (memcmp(r->request_id.data, request_id, SKP_REQUEST_ID_LEN) != 0 ||
        memcmp(r->session_id.data, session_id, SKP_SESSION_ID_LEN) != 0) {
        rc = SK_ERR_PROTO_STATE;
        goto out;
    }
    rc = sk_device_key_pubkey(key, &pub);
    if (rc != SK_OK)
        goto out;
    if (sk_verify(pub, scheme, hash, digest, digest_len, r->signature.data, sig_len) != SK_OK) {
        rc = SK_ERR_BAD_SIGNATURE;
        goto out;
    }
    memcpy(sig, r->signature.data, sig_len);
    *written = sig_len;
    if (r->certificate.len > 0)
        skp_copy(key->cert, &key->cert_len, &r->certificate);
    if (key->state == SK_KEY_PENDING || key->state == SK_KEY_TIMELOCKED)
        key->state = SK_KEY_ACTIVE;
    if (status != NULL) {
        memset(status, 0, sizeof *status);
        status->state = key->state;
    }
out:
    sk_pubkey_free(pub);
    skp_free(m);
    sodium_memzero(body, sizeof body);
    return rc;
}

int sk_device_take_challenge(sk_device_key *key, const uint8_t *reply, size_t reply_len)
{
    skd_reply *r = NULL;
    /* no reply type but MSG_ERROR is wanted: anything else is not ours */
    int rc = skd_open_pending(key, &r, NULL, 0, reply, reply_len);
    if (rc == SK_OK)
        rc = skp_error_read(r->body, r->body_len, NULL) == SK_ERR_PROTO_CHALLENGE &&
                     skd_keep_challenge(key, r) == SK_OK
                 ? SK_OK
                 : SK_ERR_PROTO_STATE;
    skd_reply_free(r);
    return rc;
}

int sk_device_read_reply(sk_device_key *key, sk_key_status *status, const uint8_t *reply,
                         size_t reply_len)
{
    static const uint32_t types[] = {
        SPLITKEY__MSG_TYPE__MSG_SESSION_REFUSE_REPLY, SPLITKEY__MSG_TYPE__MSG_REVOKE_REPLY,
        SPLITKEY__MSG_TYPE__MSG_OTP_REFRESH_REPLY, SPLITKEY__MSG_TYPE__MSG_KEY_STATE_REPLY};
    uint8_t body[SKP_MAX_BODY_LEN];
    size_t body_len = 0;
    uint32_t type = 0;
    ProtobufCMessage *m = NULL;

    /* Only a reply to the request in flight, of the type it expects. */
    uint32_t want;
    switch (key->pending_kind) {
    case SKD_PENDING_REFUSE:
        want = types[0];
        break;
    case SKD_PENDING_REVOKE:
        want = types[1];
        break;
    case SKD_PENDING_OTP:
        want = types[2];
        break;
    case SKD_PENDING_KEY_STATE:
        want = types[3];
        break;
    default:
        return SK_ERR_PROTO_STATE;
    }
    int rc = skd_open(key, &type, body, &body_len, status, &want, 1, reply, reply_len);
    if (rc != SK_OK)
        return rc;
    skd_clear_pending(key); /* answered: whatever the body holds */
    switch (type) {
    case SPLITKEY__MSG_TYPE__MSG_SESSION_REFUSE_REPLY:
        rc = skp_unpack(&splitkey__session_refuse_reply__descriptor, &m, body, body_len,
                        SKP_MAX_BODY_LEN);
        if (rc == SK_OK && skp_check_len(&((const Splitkey__SessionRefuseReply *)m)->session_id,
                                         SKP_SESSION_ID_LEN))
            rc = SK_ERR_LIMIT;
        break;
    case SPLITKEY__MSG_TYPE__MSG_REVOKE_REPLY:
        rc = skp_unpack(&splitkey__revoke_reply__descriptor, &m, body, body_len, SKP_MAX_BODY_LEN);
        if (rc != SK_OK)
            break;
        if (skp_check_len(&((const Splitkey__RevokeReply *)m)->key_id, SKP_KEY_ID_LEN) ||
            memcmp(((const Splitkey__RevokeReply *)m)->key_id.data, key->key_id, SKP_KEY_ID_LEN) !=
                0) {
            rc = SK_ERR_PROTO_DECODE;
            break;
        }
        key->state = SK_KEY_DESTROYED;
        if (status != NULL) {
            memset(status, 0, sizeof *status);
            status->state = SK_KEY_DESTROYED;
            status->destroy_reason = SK_DESTROY_USER;
        }
        break;
    case SPLITKEY__MSG_TYPE__MSG_OTP_REFRESH_REPLY: {
        rc = skp_unpack(&splitkey__otp_refresh_reply__descriptor, &m, body, body_len,
                        SKP_MAX_BODY_LEN);
        if (rc != SK_OK)
            break;
        if (skp_check_len(&((const Splitkey__OtpRefreshReply *)m)->request_id,
                          SKP_REQUEST_ID_LEN))
            rc = SK_ERR_LIMIT;
        break;
    }
    case SPLITKEY__MSG_TYPE__MSG_KEY_STATE_REPLY: {
        rc = skp_unpack(&splitkey__key_state_reply__descriptor, &m, body, body_len,
                        SKP_MAX_BODY_LEN);
        if (rc != SK_OK)
            break;
        const Splitkey__KeyStateReply *r = (const Splitkey__KeyStateReply *)m;
        if (r->state < SPLITKEY__KEY_STATE__KEY_ENROLLING ||
            r->state > SPLITKEY__KEY_STATE__KEY_DESTROYED ||
            r->destroy_reason > SPLITKEY__DESTROY_REASON__DESTROY_ABANDONED) {
            rc = SK_ERR_PROTO_DECODE;
            break;
        }
        if (status != NULL) {
            status->state = (sk_key_state)r->state;
            status->attempts_left = r->attempts_left;
            status->locked_until = r->locked_until;
            status->destroy_reason = (sk_destroy_reason)r->destroy_reason;
        }
        if (r->state == SPLITKEY__KEY_STATE__KEY_DESTROYED)
            key->state = SK_KEY_DESTROYED;
        break;
    }
    default:
        rc = SK_ERR_PROTO_STATE;
    }
    skp_free(m);
    sodium_memzero(body, sizeof body);
    return rc;
}
