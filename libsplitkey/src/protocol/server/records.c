/* SPDX-License-Identifier: Apache-2.0 */
/* records.c - the key record and session record: serialisation (protobuf,
 * secrets apart), accessors, copies, the state as of a given time. */
#include <sodium.h>
#include <string.h>

#include "protocol/server/server_internal.h"

#define RECORD_FORMAT 2u
static const uint8_t secrets_magic[4] = {'S', 'K', 'R', '1'};

atomic_ulong sk_server_completions;

/* ------------------------------------------------------------- key record */

int sk_key_rec_export(const sk_key_rec *r, uint8_t *out, size_t cap, size_t *written)
{
    Splitkey__KeyRecord k = SPLITKEY__KEY_RECORD__INIT;
    k.format = RECORD_FORMAT;
    k.version = r->version;
    k.key_id = skp_bin(r->key_id, SKP_KEY_ID_LEN);
    k.purpose = (Splitkey__Purpose)r->purpose;
    k.profile = r->bits;
    k.state = (Splitkey__KeyState)r->state;
    k.destroy_reason = (Splitkey__DestroyReason)r->destroy_reason;
    k.subject = (char *)r->subject;
    k.n1 = skp_bin(r->n1, r->bits / 8);
    k.n2 = skp_bin(r->n2, r->bits / 8);
    k.n = skp_bin(r->n, r->bits / 4);
    k.device_kx_pub = skp_bin(r->device_kx_pub, SKP_KX_PUB_LEN);
    k.otp_hash = skp_bin(r->otp_hash, SKP_OTP_HASH_LEN);
    Splitkey__RetiredOtp hist[SKP_HIST_LEN], *hist_p[SKP_HIST_LEN];
    for (size_t i = 0; i < r->n_hist && i < SKP_HIST_LEN; i++) {
        splitkey__retired_otp__init(&hist[i]);
        hist[i].otp_hash = skp_bin(r->hist[i].otp_hash, SKP_OTP_HASH_LEN);
        hist[i].request_id = skp_bin(r->hist[i].request_id, SKP_REQUEST_ID_LEN);
        hist_p[i] = &hist[i];
    }
    k.n_hist = r->n_hist;
    k.hist = hist_p;
    k.last_reply = skp_bin(r->last_reply, r->last_reply_len);
    k.last_reply_type = r->last_reply_type;
    if (r->has_last_binding)
        k.last_binding = skp_bin(r->last_binding, SKP_BINDING_LEN);
    if (r->has_lease) {
        k.lease_request_id = skp_bin(r->lease_request_id, SKP_REQUEST_ID_LEN);
        k.lease_otp_hash = skp_bin(r->lease_otp_hash, SKP_OTP_HASH_LEN);
        k.lease_binding = skp_bin(r->lease_binding, SKP_BINDING_LEN);
        k.lease_y = skp_bin(r->lease_y, r->lease_y_len);
        k.lease_at = r->lease_at;
    }
    k.fail_count = r->fail_count;
    k.locked_until = r->locked_until;
    if (r->has_transcript)
        k.transcript = skp_bin(r->transcript, SKP_HASH32_LEN);
    if (r->has_pop) {
        k.pop_session_id = skp_bin(r->pop_session_id, SKP_SESSION_ID_LEN);
        k.pop_expires_at = r->pop_expires_at;
        k.pop_digest = skp_bin(r->pop_digest, r->pop_digest_len);
    }
    k.certificate = skp_bin(r->cert, r->cert_len);
    k.created_at = r->created_at;
    k.certificate_level = (Splitkey__CertLevel)r->level;
    *written = 0;
    return skp_pack(&k.base, out, cap, written);
}

int sk_key_rec_export_secrets(const sk_key_rec *r, uint8_t *out, size_t cap, size_t *written)
{
    *written = 0;
    if (r->ds_len == 0 && r->server_key_len == 0)
        return SK_OK;
    size_t need = 4 + 2 + r->ds_len + 2 + r->server_key_len;
    *written = need;
    if (need > cap)
        return SK_ERR_BUFFER_TOO_SMALL;
    uint8_t *p = out;
    memcpy(p, secrets_magic, 4);
    p += 4;
    *p++ = (uint8_t)(r->ds_len >> 8);
    *p++ = (uint8_t)r->ds_len;
    memcpy(p, r->ds, r->ds_len);
    p += r->ds_len;
    *p++ = (uint8_t)(r->server_key_len >> 8);
    *p++ = (uint8_t)r->server_key_len;
    memcpy(p, r->server_key, r->server_key_len);
    return SK_OK;
}

static int load_secrets(sk_key_rec *r, const uint8_t *in, size_t len)
{
    if (len < 8 || memcmp(in, secrets_magic, 4) != 0)
        return SK_ERR_KEY_FORMAT;
    size_t ds_len = (size_t)in[4] << 8 | in[5];
    if (ds_len != 0 && ds_len != r->bits / 8)
        return SK_ERR_KEY_FORMAT;
    if (6 + ds_len + 2 > len)
        return SK_ERR_KEY_FORMAT;
    const uint8_t *p = in + 6 + ds_len;
    size_t sk_len = (size_t)p[0] << 8 | p[1];
    if (sk_len != SK_SERVER_KEY_LEN(r->bits) || 6 + ds_len + 2 + sk_len != len)
        return SK_ERR_KEY_FORMAT;
    memcpy(r->ds, in + 6, ds_len);
    r->ds_len = ds_len;
    memcpy(r->server_key, p + 2, sk_len);
    r->server_key_len = sk_len;
    return SK_OK;
}

static int load_record(sk_key_rec *r, const Splitkey__KeyRecord *k)
{
    if (k->format != RECORD_FORMAT || skp_profile_ok(k->profile) || skp_purpose_ok(k->purpose) ||
        k->state < SPLITKEY__KEY_STATE__KEY_ENROLLING ||
        k->state > SPLITKEY__KEY_STATE__KEY_DESTROYED ||
        k->destroy_reason > SPLITKEY__DESTROY_REASON__DESTROY_ABANDONED ||
        k->certificate_level > SPLITKEY__CERT_LEVEL__CERT_LEVEL_QUALIFIED)
        return SK_ERR_PROTO_DECODE;
    r->bits = k->profile;
    if (skp_check_len(&k->key_id, SKP_KEY_ID_LEN) || skp_check_len(&k->n1, r->bits / 8) ||
        skp_check_len(&k->n2, r->bits / 8) || skp_check_len(&k->n, r->bits / 4) ||
        skp_check_len(&k->device_kx_pub, SKP_KX_PUB_LEN) ||
        skp_check_len(&k->otp_hash, SKP_OTP_HASH_LEN) ||
        skp_check_text(k->subject, SKP_MAX_SUBJECT_LEN) ||
        skp_check_max(&k->last_reply, SKP_MAX_BODY_LEN) || k->n_hist > SKP_HIST_LEN ||
        skp_check_max(&k->certificate, SKP_MAX_CERT_LEN) ||
        skp_check_max(&k->pop_digest, SKP_MAX_DIGEST_LEN))
        return SK_ERR_LIMIT;
    for (size_t i = 0; i < k->n_hist; i++)
        if (skp_check_len(&k->hist[i]->otp_hash, SKP_OTP_HASH_LEN) ||
            skp_check_len(&k->hist[i]->request_id, SKP_REQUEST_ID_LEN))
            return SK_ERR_LIMIT;
    if ((k->lease_request_id.len != 0 &&
         (skp_check_len(&k->lease_request_id, SKP_REQUEST_ID_LEN) ||
          skp_check_len(&k->lease_otp_hash, SKP_OTP_HASH_LEN) ||
          skp_check_len(&k->lease_binding, SKP_BINDING_LEN) ||
          skp_check_len(&k->lease_y, SKP_NONCE_LEN + r->bits / 8 + SKP_TAG_LEN))) ||
        (k->last_binding.len != 0 && skp_check_len(&k->last_binding, SKP_BINDING_LEN)) ||
        (k->transcript.len != 0 && skp_check_len(&k->transcript, SKP_HASH32_LEN)) ||
        (k->pop_session_id.len != 0 && skp_check_len(&k->pop_session_id, SKP_SESSION_ID_LEN)))
        return SK_ERR_LIMIT;
    r->version = k->version;
    memcpy(r->key_id, k->key_id.data, SKP_KEY_ID_LEN);
    r->purpose = (sk_purpose)k->purpose;
    r->state = (sk_key_state)k->state;
    r->destroy_reason = (sk_destroy_reason)k->destroy_reason;
    if (k->subject != NULL)
        memcpy(r->subject, k->subject, strlen(k->subject) + 1);
    memcpy(r->n1, k->n1.data, r->bits / 8);
    memcpy(r->n2, k->n2.data, r->bits / 8);
    memcpy(r->n, k->n.data, r->bits / 4);
    memcpy(r->device_kx_pub, k->device_kx_pub.data, SKP_KX_PUB_LEN);
    memcpy(r->otp_hash, k->otp_hash.data, SKP_OTP_HASH_LEN);
    r->n_hist = k->n_hist;
    for (size_t i = 0; i < k->n_hist; i++) {
        memcpy(r->hist[i].otp_hash, k->hist[i]->otp_hash.data, SKP_OTP_HASH_LEN);
        memcpy(r->hist[i].request_id, k->hist[i]->request_id.data, SKP_REQUEST_ID_LEN);
    }
    skp_copy(r->last_reply, &r->last_reply_len, &k->last_reply);
    r->last_reply_type = k->last_reply_type;
    r->has_last_binding = k->last_binding.len != 0;
    if (r->has_last_binding)
        memcpy(r->last_binding, k->last_binding.data, SKP_BINDING_LEN);
    r->has_lease = k->lease_request_id.len != 0;
    if (r->has_lease) {
        memcpy(r->lease_request_id, k->lease_request_id.data, SKP_REQUEST_ID_LEN);
        memcpy(r->lease_otp_hash, k->lease_otp_hash.data, SKP_OTP_HASH_LEN);
        memcpy(r->lease_binding, k->lease_binding.data, SKP_BINDING_LEN);
        skp_copy(r->lease_y, &r->lease_y_len, &k->lease_y);
        r->lease_at = k->lease_at;
    }
    r->fail_count = k->fail_count;
    r->locked_until = k->locked_until;
    r->has_transcript = k->transcript.len != 0;
    if (r->has_transcript)
        memcpy(r->transcript, k->transcript.data, SKP_HASH32_LEN);
    r->has_pop = k->pop_session_id.len != 0;
    if (r->has_pop) {
        memcpy(r->pop_session_id, k->pop_session_id.data, SKP_SESSION_ID_LEN);
        r->pop_expires_at = k->pop_expires_at;
        skp_copy(r->pop_digest, &r->pop_digest_len, &k->pop_digest);
    }
    skp_copy(r->cert, &r->cert_len, &k->certificate);
    r->created_at = k->created_at;
    r->level = (sk_cert_level)k->certificate_level;
    return SK_OK;
}

int sk_key_rec_import(sk_key_rec **out, const uint8_t *record, size_t record_len,
                      const uint8_t *secrets, size_t secrets_len)
{
    ProtobufCMessage *m = NULL;
    *out = NULL;
    int rc =
        skp_unpack(&splitkey__key_record__descriptor, &m, record, record_len, SKP_MAX_RECORD_LEN);
    if (rc != SK_OK)
        return rc;
    sk_key_rec *r = calloc(1, sizeof *r);
    if (r == NULL) {
        skp_free(m);
        return SK_ERR_NOMEM;
    }
    rc = load_record(r, (const Splitkey__KeyRecord *)m);
    if (rc == SK_OK && secrets != NULL && secrets_len > 0)
        rc = load_secrets(r, secrets, secrets_len);
    skp_free(m);
    if (rc != SK_OK) {
        sk_key_rec_free(r);
        return rc;
    }
    *out = r;
    return SK_OK;
}

uint64_t sk_key_rec_version(const sk_key_rec *r) { return r->version; }
sk_cert_level sk_key_rec_level(const sk_key_rec *r) { return sks_key_level(r); }

sk_cert_level sks_key_level(const sk_key_rec *r)
{
    return r->level == SK_CERT_LEVEL_QUALIFIED ? SK_CERT_LEVEL_QUALIFIED : SK_CERT_LEVEL_ADVANCED;
}

bool sks_vc_choice(sk_interaction i)
{
    return i == SK_INTERACTION_VC_CHOICE || i == SK_INTERACTION_CONFIRMATION_AND_VC_CHOICE;
}
sk_purpose sk_key_rec_purpose(const sk_key_rec *r) { return r->purpose; }
const char *sk_key_rec_subject(const sk_key_rec *r) { return r->subject; }

int sk_key_rec_key_id(const sk_key_rec *r, uint8_t *key_id, size_t key_id_len)
{
    if (key_id_len != SKP_KEY_ID_LEN)
        return SK_ERR_ARG;
    memcpy(key_id, r->key_id, SKP_KEY_ID_LEN);
    return SK_OK;
}

static uint32_t attempts_left(const sk_key_rec *r, const sk_server_policy *p)
{
    uint32_t f = r->fail_count;
    if (f < p->lock1_failures)
        return p->lock1_failures - f;
    if (f < p->lock2_failures)
        return p->lock2_failures - f;
    if (f < p->destroy_failures)
        return p->destroy_failures - f;
    return 0;
}

void sks_status(const sk_key_rec *r, const sk_server_policy *p, uint64_t now, sk_key_status *st)
{
    memset(st, 0, sizeof *st);
    st->state = r->state;
    st->destroy_reason = r->destroy_reason;
    if (r->state == SK_KEY_DESTROYED)
        return;
    st->attempts_left = attempts_left(r, p);
    if (r->locked_until > now) {
        st->state = SK_KEY_TIMELOCKED;
        st->locked_until = r->locked_until;
    }
}

void sk_key_rec_status(const sk_key_rec *r, sk_key_status *st, const sk_server_policy *policy,
                       uint64_t now)
{
    sks_status(r, policy, now, st);
}

int sk_key_rec_pubkey(const sk_key_rec *r, sk_pubkey **out)
{
    static const uint8_t e[3] = {0x01, 0x00, 0x01};
    *out = NULL;
    if (r->state == SK_KEY_ENROLLING)
        return SK_ERR_PROTO_STATE;
    return sk_pubkey_from_modulus(out, r->n, r->bits / 4, e, sizeof e);
}

void sk_key_rec_free(sk_key_rec *r)
{
    if (r == NULL)
        return;
    sodium_memzero(r, sizeof *r);
    free(r);
}

int sk_key_rec_set_certificate(sk_key_rec **out, const sk_key_rec *rec, const uint8_t *der,
                               size_t der_len)
{
    *out = NULL;
    if (der_len == 0 || der_len > SKP_MAX_CERT_LEN)
        return SK_ERR_LIMIT;
    if (rec->state == SK_KEY_ENROLLING || rec->state == SK_KEY_DESTROYED)
        return SK_ERR_PROTO_STATE;
    sk_key_rec *c = sks_key_copy(rec);
    if (c == NULL)
        return SK_ERR_NOMEM;
    memcpy(c->cert, der, der_len);
    c->cert_len = der_len;
    c->version = rec->version + 1;
    *out = c;
    return SK_OK;
}

int sk_key_rec_rewrite(sk_key_rec **out, const sk_key_rec *rec)
{
    *out = sks_key_copy(rec);
    if (*out == NULL)
        return SK_ERR_NOMEM;
    (*out)->version = rec->version + 1;
    return SK_OK;
}

const uint8_t *sk_key_rec_certificate(const sk_key_rec *rec, size_t *len)
{
    *len = rec->cert_len;
    return rec->cert_len ? rec->cert : NULL;
}

sk_key_rec *sks_key_copy(const sk_key_rec *r)
{
    sk_key_rec *c = malloc(sizeof *c);
    if (c != NULL)
        memcpy(c, r, sizeof *c);
    return c;
}

/* --------------------------------------------------------- session record */

int sk_session_rec_export(const sk_session_rec *s, uint8_t *out, size_t cap, size_t *written)
{
    Splitkey__SessionRecord r = SPLITKEY__SESSION_RECORD__INIT;
    r.format = RECORD_FORMAT;
    r.version = s->version;
    r.session_id = skp_bin(s->id, SKP_SESSION_ID_LEN);
    r.key_id = skp_bin(s->key_id, SKP_KEY_ID_LEN);
    r.from_device = s->from_device;
    r.pop = s->pop;
    r.purpose = (Splitkey__Purpose)s->purpose;
    r.digest = skp_bin(s->digest, s->digest_len);
    r.hash = (uint32_t)s->hash;
    r.scheme = (uint32_t)s->scheme;
    r.salt = skp_bin(s->salt, s->salt_len);
    r.display_text = (char *)s->display_text;
    r.rp_name = (char *)s->rp_name;
    r.rp_ref = skp_bin(s->rp_ref, s->rp_ref_len);
    r.verification_code = (char *)s->code;
    r.created_at = s->created_at;
    r.expires_at = s->expires_at;
    r.state = (Splitkey__SessionState)s->state;
    r.signature = skp_bin(s->signature, s->signature_len);
    r.certificate = skp_bin(s->cert, s->cert_len);
    r.csr_info = skp_bin(s->csr_info, s->csr_info_len);
    r.interaction = (Splitkey__Interaction)s->interaction;
    char *choices[SK_VC_CHOICES];
    for (size_t i = 0; i < s->n_vc_choices && i < SK_VC_CHOICES; i++)
        choices[i] = (char *)s->vc_choices[i];
    r.n_vc_choices = s->n_vc_choices;
    r.vc_choices = choices;
    r.refused_at = (Splitkey__Interaction)s->refused_at;
    r.certificate_level = (Splitkey__CertLevel)s->level;
    *written = 0;
    return skp_pack(&r.base, out, cap, written);
}

int sk_session_rec_import(sk_session_rec **out, const uint8_t *in, size_t in_len)
{
    ProtobufCMessage *m = NULL;
    *out = NULL;
    int rc = skp_unpack(&splitkey__session_record__descriptor, &m, in, in_len, SKP_MAX_RECORD_LEN);
    if (rc != SK_OK)
        return rc;
    const Splitkey__SessionRecord *r = (const Splitkey__SessionRecord *)m;
    sk_session_rec *s = calloc(1, sizeof *s);
    if (s == NULL) {
        skp_free(m);
        return SK_ERR_NOMEM;
    }
    if (r->format != RECORD_FORMAT || skp_purpose_ok(r->purpose) || skp_sign_hash_ok(r->hash) ||
        skp_scheme_ok(r->scheme) || r->state < SPLITKEY__SESSION_STATE__SESSION_PENDING ||
        r->state > SPLITKEY__SESSION_STATE__SESSION_WRONG_VC ||
        r->interaction > SPLITKEY__INTERACTION__INTERACTION_CONFIRMATION_MESSAGE_AND_VC_CHOICE ||
        r->refused_at > SPLITKEY__INTERACTION__INTERACTION_CONFIRMATION_MESSAGE_AND_VC_CHOICE ||
        r->certificate_level > SPLITKEY__CERT_LEVEL__CERT_LEVEL_QUALIFIED ||
        (r->n_vc_choices != 0 && r->n_vc_choices != SK_VC_CHOICES) ||
        (r->n_vc_choices != 0) != sks_vc_choice((sk_interaction)r->interaction))
        rc = SK_ERR_PROTO_DECODE;
    else if (skp_check_len(&r->session_id, SKP_SESSION_ID_LEN) ||
             skp_check_len(&r->key_id, SKP_KEY_ID_LEN) ||
             skp_check_len(&r->digest, sk_hash_len((sk_hash)r->hash)) ||
             skp_check_max(&r->salt, SKP_MAX_SALT_LEN) ||
             skp_check_text(r->display_text, SKP_MAX_DISPLAY_TEXT_LEN) ||
             skp_check_text(r->rp_name, SKP_MAX_RP_NAME_LEN) ||
             skp_check_max(&r->rp_ref, SKP_MAX_RP_REF_LEN) || r->verification_code == NULL ||
             strlen(r->verification_code) != SKP_CODE_LEN ||
             skp_check_max(&r->signature, SKP_MAX_N_LEN) ||
             skp_check_max(&r->certificate, SKP_MAX_CERT_LEN) ||
             skp_check_max(&r->csr_info, SKP_MAX_CSR_INFO_LEN))
        rc = SK_ERR_LIMIT;
    for (size_t i = 0; rc == SK_OK && i < r->n_vc_choices; i++)
        if (r->vc_choices[i] == NULL || strlen(r->vc_choices[i]) != SKP_CODE_LEN)
            rc = SK_ERR_LIMIT;
    if (rc == SK_OK) {
        s->version = r->version;
        memcpy(s->id, r->session_id.data, SKP_SESSION_ID_LEN);
        memcpy(s->key_id, r->key_id.data, SKP_KEY_ID_LEN);
        s->from_device = r->from_device;
        s->pop = r->pop;
        s->purpose = (sk_purpose)r->purpose;
        skp_copy(s->digest, &s->digest_len, &r->digest);
        s->hash = (sk_hash)r->hash;
        s->scheme = (sk_scheme)r->scheme;
        skp_copy(s->salt, &s->salt_len, &r->salt);
        if (r->display_text != NULL)
            memcpy(s->display_text, r->display_text, strlen(r->display_text) + 1);
        if (r->rp_name != NULL)
            memcpy(s->rp_name, r->rp_name, strlen(r->rp_name) + 1);
        skp_copy(s->rp_ref, &s->rp_ref_len, &r->rp_ref);
        memcpy(s->code, r->verification_code, SKP_CODE_LEN + 1);
        s->created_at = r->created_at;
        s->expires_at = r->expires_at;
        s->state = (sk_session_state)r->state;
        skp_copy(s->signature, &s->signature_len, &r->signature);
        skp_copy(s->cert, &s->cert_len, &r->certificate);
        skp_copy(s->csr_info, &s->csr_info_len, &r->csr_info);
        s->interaction = (sk_interaction)r->interaction;
        s->n_vc_choices = r->n_vc_choices;
        for (size_t i = 0; i < r->n_vc_choices; i++)
            memcpy(s->vc_choices[i], r->vc_choices[i], SKP_CODE_LEN + 1);
        s->refused_at = (sk_interaction)r->refused_at;
        s->level = (sk_cert_level)r->certificate_level;
        *out = s;
        s = NULL;
    }
    skp_free(m);
    sk_session_rec_free(s);
    return rc;
}

uint64_t sk_session_rec_version(const sk_session_rec *s) { return s->version; }
sk_session_state sk_session_rec_state(const sk_session_rec *s) { return s->state; }
uint64_t sk_session_rec_expires_at(const sk_session_rec *s) { return s->expires_at; }
const char *sk_session_rec_code(const sk_session_rec *s) { return s->code; }
sk_interaction sk_session_rec_interaction(const sk_session_rec *s) { return s->interaction; }

const char *sk_session_rec_vc_choice(const sk_session_rec *s, size_t i)
{
    return i < s->n_vc_choices ? s->vc_choices[i] : NULL;
}

int sk_session_rec_id(const sk_session_rec *s, uint8_t *id, size_t id_len)
{
    if (id_len != SKP_SESSION_ID_LEN)
        return SK_ERR_ARG;
    memcpy(id, s->id, SKP_SESSION_ID_LEN);
    return SK_OK;
}

int sk_session_rec_key_id(const sk_session_rec *s, uint8_t *key_id, size_t key_id_len)
{
    if (key_id_len != SKP_KEY_ID_LEN)
        return SK_ERR_ARG;
    memcpy(key_id, s->key_id, SKP_KEY_ID_LEN);
    return SK_OK;
}

void sk_session_rec_free(sk_session_rec *s)
{
    if (s == NULL)
        return;
    sodium_memzero(s, sizeof *s);
    free(s);
}

sk_session_rec *sks_session_copy(const sk_session_rec *s)
{
    sk_session_rec *c = malloc(sizeof *c);
    if (c != NULL)
        memcpy(c, s, sizeof *c);
    return c;
}

void sks_session_info(const sk_session_rec *s, Splitkey__SessionInfo *i,
                      char *choices[SK_VC_CHOICES])
{
    i->session_id = skp_bin(s->id, SKP_SESSION_ID_LEN);
    i->purpose = (Splitkey__Purpose)s->purpose;
    i->digest = skp_bin(s->digest, s->digest_len);
    i->hash = (uint32_t)s->hash;
    i->scheme = (uint32_t)s->scheme;
    i->salt = skp_bin(s->salt, s->salt_len);
    i->display_text = (char *)s->display_text;
    i->rp_name = (char *)s->rp_name;
    i->verification_code = (char *)s->code;
    i->expires_at = s->expires_at;
    i->interaction = (Splitkey__Interaction)(s->interaction == SK_INTERACTION_NONE
                                                 ? SK_INTERACTION_DISPLAY_TEXT_AND_PIN
                                                 : s->interaction);
    if (sks_vc_choice(s->interaction)) {
        /* The device shows the three codes, not the right one: the person
         * finds it by comparing with the relying party's screen. */
        i->verification_code = (char *)"";
        for (size_t k = 0; k < s->n_vc_choices && k < SK_VC_CHOICES; k++)
            choices[k] = (char *)s->vc_choices[k];
        i->n_vc_choices = s->n_vc_choices;
        i->vc_choices = choices;
    }
}

/* Characters (UTF-8 code points: bytes that do not continue a sequence). */
static size_t utf8_chars(const char *t)
{
    size_t n = 0;
    for (; t != NULL && *t != '\0'; t++)
        n += ((unsigned char)*t & 0xC0u) != 0x80u;
    return n;
}

/* A random number below bound (rejection sampling over 16 bits). */
static int rng_below(const sk_rng *rng, unsigned bound, unsigned *out)
{
    unsigned limit = 65536u - 65536u % bound;
    for (;;) {
        uint8_t b[2];
        int rc = rng->fill(rng->ctx, b, sizeof b);
        if (rc != SK_OK)
            return rc;
        unsigned v = (unsigned)b[0] << 8 | b[1];
        if (v < limit) {
            *out = v % bound;
            return SK_OK;
        }
    }
}

/* Two random decoys distinct from the right code and from each other,
 * and the three in a random order (fixed here, stored with the session). */
static int make_choices(sk_session_rec *s, const sk_rng *rng)
{
    char codes[SK_VC_CHOICES][SKP_CODE_LEN + 1];
    memcpy(codes[0], s->code, SKP_CODE_LEN + 1);
    for (size_t k = 1; k < SK_VC_CHOICES;) {
        unsigned v = 0;
        int rc = rng_below(rng, 10000u, &v);
        if (rc != SK_OK)
            return rc;
        for (int d = (int)SKP_CODE_LEN - 1; d >= 0; d--, v /= 10u)
            codes[k][d] = (char)('0' + v % 10u);
        codes[k][SKP_CODE_LEN] = '\0';
        bool seen = false;
        for (size_t j = 0; j < k; j++)
            seen = seen || strcmp(codes[j], codes[k]) == 0;
        if (!seen)
            k++;
    }
    /* Fisher-Yates over the three */
    for (size_t k = SK_VC_CHOICES - 1; k > 0; k--) {
        unsigned j = 0;
        int rc = rng_below(rng, (unsigned)k + 1u, &j);
        if (rc != SK_OK)
            return rc;
        char t[SKP_CODE_LEN + 1];
        memcpy(t, codes[k], sizeof t);
        memcpy(codes[k], codes[j], sizeof t);
        memcpy(codes[j], t, sizeof t);
    }
    memcpy(s->vc_choices, codes, sizeof codes);
    s->n_vc_choices = SK_VC_CHOICES;
    return SK_OK;
}

int sks_session_create_check(const Splitkey__SessionCreate *c)
{
    if (skp_check_max(&c->key_id, SKP_KEY_ID_LEN) ||
        skp_check_text(c->person_id, SKP_MAX_PERSON_ID_LEN) ||
        skp_check_max(&c->digest, SKP_MAX_DIGEST_LEN) ||
        skp_check_text(c->display_text, SKP_MAX_DISPLAY_TEXT_LEN) ||
        skp_check_text(c->rp_name, SKP_MAX_RP_NAME_LEN) ||
        skp_check_max(&c->rp_ref, SKP_MAX_RP_REF_LEN) ||
        skp_check_max(&c->csr_info, SKP_MAX_CSR_INFO_LEN))
        return SK_ERR_LIMIT;
    if (c->key_id.len != 0 && c->key_id.len != SKP_KEY_ID_LEN)
        return SK_ERR_LIMIT;
    if (skp_purpose_ok(c->purpose) || skp_sign_hash_ok(c->hash) || skp_scheme_ok(c->scheme) ||
        c->digest.len != sk_hash_len((sk_hash)c->hash) ||
        c->certificate_level > SPLITKEY__CERT_LEVEL__CERT_LEVEL_QUALIFIED ||
        c->interaction > SPLITKEY__INTERACTION__INTERACTION_CONFIRMATION_MESSAGE_AND_VC_CHOICE)
        return SK_ERR_PROTO_DECODE;
    /* The display text's length in characters, per interaction (a request
     * that names none keeps the byte limit alone). */
    sk_interaction in = (sk_interaction)c->interaction;
    if (in != SK_INTERACTION_NONE &&
        utf8_chars(c->display_text) > (in == SK_INTERACTION_CONFIRMATION_MESSAGE ||
                                               in == SK_INTERACTION_CONFIRMATION_AND_VC_CHOICE
                                           ? SK_DISPLAY_TEXT_LONG_CHARS
                                           : SK_DISPLAY_TEXT_SHORT_CHARS))
        return SK_ERR_LIMIT;
    return SK_OK;
}

int sks_session_new(sk_session_rec **out, const sk_key_rec *rec, const Splitkey__SessionCreate *c,
                    bool from_device, bool pop, const sk_server_policy *policy, uint64_t now,
                    const sk_rng *rng)
{
    *out = NULL;
    sk_session_rec *s = calloc(1, sizeof *s);
    if (s == NULL)
        return SK_ERR_NOMEM;
    int rc = rng->fill(rng->ctx, s->id, SKP_SESSION_ID_LEN);
    s->version = 1;
    memcpy(s->key_id, rec->key_id, SKP_KEY_ID_LEN);
    s->from_device = from_device;
    s->pop = pop;
    s->purpose = rec->purpose;
    skp_copy(s->digest, &s->digest_len, &c->digest);
    s->hash = (sk_hash)c->hash;
    s->scheme = (sk_scheme)c->scheme;
    if (rc == SK_OK && s->scheme == SK_SCHEME_PSS) {
        /* The server chooses the PSS salt; the device encodes with it. */
        s->salt_len = s->digest_len;
        rc = rng->fill(rng->ctx, s->salt, s->salt_len);
    }
    if (c->display_text != NULL)
        memcpy(s->display_text, c->display_text, strlen(c->display_text) + 1);
    if (c->rp_name != NULL)
        memcpy(s->rp_name, c->rp_name, strlen(c->rp_name) + 1);
    if (!from_device)
        skp_copy(s->rp_ref, &s->rp_ref_len, &c->rp_ref);
    if (pop)
        skp_copy(s->csr_info, &s->csr_info_len, &c->csr_info);
    if (rc == SK_OK)
        rc = sk_verification_code(s->code, sizeof s->code, s->digest, s->digest_len);
    s->interaction = (sk_interaction)c->interaction;
    s->level = sks_key_level(rec);
    if (rc == SK_OK && sks_vc_choice(s->interaction))
        rc = make_choices(s, rng);
    s->created_at = now;
    s->expires_at = now + policy->session_seconds;
    s->state = SK_SESSION_PENDING;
    if (rc != SK_OK) {
        sk_session_rec_free(s);
        return rc;
    }
    *out = s;
    return SK_OK;
}
