/* SPDX-License-Identifier: Apache-2.0 */
/* rp_client.c - the relying party's requests and the readers of the share
 * server's replies (rp.h).  Plain protobuf, checked against the limits of
 * protocol/common/limits.h before anything is returned. */
#include <string.h>

#include "protocol/common/protocol.h"
#include "splitkey/rp.h"

_Static_assert(SKP_MAX_RP_REF_LEN == SK_MAX_RP_REF_LEN, "the relying party's reference: one limit");

static int pack_request(uint8_t *out, size_t cap, size_t *written, const Splitkey__RpRequest *r)
{
    return skp_pack(&r->base, out, cap, written);
}

int sk_rp_create_request(uint8_t *out, size_t cap, size_t *written, const sk_rp_create *req)
{
    return sk_rp_create_request_ext(out, cap, written, req, NULL);
}

int sk_rp_create_request_ext(uint8_t *out, size_t cap, size_t *written, const sk_rp_create *req,
                             const sk_rp_create_ext *ext)
{
    if (written == NULL)
        return SK_ERR_ARG;
    *written = 0;
    if (out == NULL || req == NULL || req->digest == NULL)
        return SK_ERR_ARG;
    if ((req->person_id == NULL) == (req->key_id == NULL))
        return SK_ERR_ARG;
    if (skp_purpose_ok((uint32_t)req->purpose) != SK_OK ||
        skp_sign_hash_ok((uint32_t)req->hash) != SK_OK ||
        skp_scheme_ok((uint32_t)req->scheme) != SK_OK)
        return SK_ERR_ARG;
    if (req->person_id != NULL &&
        (req->person_id[0] == '\0' ||
         skp_check_text(req->person_id, SKP_MAX_PERSON_ID_LEN) != SK_OK))
        return SK_ERR_LIMIT;
    if (req->display_text != NULL &&
        skp_check_text(req->display_text, SKP_MAX_DISPLAY_TEXT_LEN) != SK_OK)
        return SK_ERR_LIMIT;
    if (req->rp_name != NULL && skp_check_text(req->rp_name, SKP_MAX_RP_NAME_LEN) != SK_OK)
        return SK_ERR_LIMIT;
    if (ext != NULL &&
        ((unsigned)ext->certificate_level > (unsigned)SK_CERT_LEVEL_QUALIFIED ||
         (unsigned)ext->interaction > (unsigned)SK_INTERACTION_CONFIRMATION_AND_VC_CHOICE ||
         ext->rp_ref_len > SK_MAX_RP_REF_LEN || (ext->rp_ref == NULL && ext->rp_ref_len != 0)))
        return SK_ERR_ARG;

    Splitkey__RpRequest r = SPLITKEY__RP_REQUEST__INIT;
    Splitkey__SessionCreate c = SPLITKEY__SESSION_CREATE__INIT;
    if (req->key_id != NULL)
        c.key_id = skp_bin(req->key_id, SKP_KEY_ID_LEN);
    else
        c.person_id = (char *)req->person_id;
    c.purpose = (Splitkey__Purpose)req->purpose;
    c.digest = skp_bin(req->digest, sk_hash_len(req->hash));
    c.hash = (uint32_t)req->hash;
    c.scheme = (uint32_t)req->scheme;
    if (req->display_text != NULL)
        c.display_text = (char *)req->display_text;
    if (req->rp_name != NULL)
        c.rp_name = (char *)req->rp_name;
    if (ext != NULL) {
        c.certificate_level = (Splitkey__CertLevel)ext->certificate_level;
        c.interaction = (Splitkey__Interaction)ext->interaction;
        if (ext->rp_ref_len > 0)
            c.rp_ref = skp_bin(ext->rp_ref, ext->rp_ref_len);
    }
    r.req_case = SPLITKEY__RP_REQUEST__REQ_CREATE;
    r.create = &c;
    return pack_request(out, cap, written, &r);
}

int sk_rp_poll_request(uint8_t *out, size_t cap, size_t *written, const uint8_t *session_id,
                       size_t session_id_len)
{
    return sk_rp_poll_wait_request(out, cap, written, session_id, session_id_len, 0);
}

int sk_rp_poll_wait_request(uint8_t *out, size_t cap, size_t *written, const uint8_t *session_id,
                            size_t session_id_len, uint32_t wait_ms)
{
    if (written == NULL)
        return SK_ERR_ARG;
    *written = 0;
    if (out == NULL || session_id == NULL || session_id_len != SKP_SESSION_ID_LEN)
        return SK_ERR_ARG;
    if (wait_ms > SK_MAX_POLL_WAIT_MS)
        return SK_ERR_LIMIT;
    Splitkey__RpRequest r = SPLITKEY__RP_REQUEST__INIT;
    Splitkey__SessionPoll p = SPLITKEY__SESSION_POLL__INIT;
    p.session_id = skp_bin(session_id, session_id_len);
    p.wait_ms = wait_ms; /* 0 is not written: the old request, byte for byte */
    r.req_case = SPLITKEY__RP_REQUEST__REQ_POLL;
    r.poll = &p;
    return pack_request(out, cap, written, &r);
}

int sk_rp_cancel_request(uint8_t *out, size_t cap, size_t *written, const uint8_t *session_id,
                         size_t session_id_len)
{
    if (written == NULL)
        return SK_ERR_ARG;
    *written = 0;
    if (out == NULL || session_id == NULL || session_id_len != SKP_SESSION_ID_LEN)
        return SK_ERR_ARG;
    Splitkey__RpRequest r = SPLITKEY__RP_REQUEST__INIT;
    Splitkey__SessionCancel c = SPLITKEY__SESSION_CANCEL__INIT;
    c.session_id = skp_bin(session_id, session_id_len);
    r.req_case = SPLITKEY__RP_REQUEST__REQ_CANCEL;
    r.cancel = &c;
    return pack_request(out, cap, written, &r);
}

int sk_rp_key_state_request(uint8_t *out, size_t cap, size_t *written, const uint8_t *key_id,
                            size_t key_id_len)
{
    if (written == NULL)
        return SK_ERR_ARG;
    *written = 0;
    if (out == NULL || key_id == NULL || key_id_len != SKP_KEY_ID_LEN)
        return SK_ERR_ARG;
    Splitkey__RpRequest r = SPLITKEY__RP_REQUEST__INIT;
    Splitkey__KeyStateRequest k = SPLITKEY__KEY_STATE_REQUEST__INIT;
    k.key_id = skp_bin(key_id, key_id_len);
    r.req_case = SPLITKEY__RP_REQUEST__REQ_KEY_STATE;
    r.key_state = &k;
    return pack_request(out, cap, written, &r);
}

/* Unpacks an RpReply; an error reply becomes its code with *status. */
static int open_reply(Splitkey__RpReply **out, sk_key_status *status, const uint8_t *reply,
                      size_t reply_len)
{
    ProtobufCMessage *m = NULL;
    *out = NULL;
    if (status != NULL)
        memset(status, 0, sizeof *status);
    if (reply == NULL)
        return SK_ERR_ARG;
    int rc = skp_unpack(&splitkey__rp_reply__descriptor, &m, reply, reply_len, SKP_MAX_MESSAGE_LEN);
    if (rc != SK_OK)
        return rc;
    Splitkey__RpReply *r = (Splitkey__RpReply *)m;
    if (r->rep_case == SPLITKEY__RP_REPLY__REP_ERROR) {
        const Splitkey__Error *e = r->error;
        /* Only a code of the library's ranges is passed on. */
        rc = (e->code > 0 && e->code < 256) ? -e->code : SK_ERR_PROTO_DECODE;
        if (rc == SK_OK || rc == SK_ERR_PENDING)
            rc = SK_ERR_PROTO_DECODE;
        if (status != NULL && rc != SK_ERR_PROTO_DECODE) {
            status->attempts_left = e->attempts_left;
            status->locked_until = e->locked_until;
            status->destroy_reason = e->destroy_reason <= SK_DESTROY_ABANDONED
                                         ? (sk_destroy_reason)e->destroy_reason
                                         : SK_DESTROY_NONE;
        }
        skp_free(m);
        return rc;
    }
    *out = r;
    return SK_OK;
}

static int code_ok(const char *code)
{
    if (code == NULL || strlen(code) != SKP_CODE_LEN)
        return 0;
    for (size_t i = 0; i < SKP_CODE_LEN; i++)
        if (code[i] < '0' || code[i] > '9')
            return 0;
    return 1;
}

int sk_rp_read_created(sk_rp_created *out, sk_key_status *status, const uint8_t *reply,
                       size_t reply_len)
{
    Splitkey__RpReply *r = NULL;
    if (out == NULL)
        return SK_ERR_ARG;
    memset(out, 0, sizeof *out);
    int rc = open_reply(&r, status, reply, reply_len);
    if (rc != SK_OK)
        return rc;
    const Splitkey__SessionCreateReply *c = r->created;
    if (r->rep_case != SPLITKEY__RP_REPLY__REP_CREATED || c == NULL) {
        rc = SK_ERR_PROTO_DECODE;
    } else if (skp_check_len(&c->session_id, SKP_SESSION_ID_LEN) != SK_OK) {
        rc = SK_ERR_LIMIT;
    } else if (!code_ok(c->verification_code)) {
        rc = SK_ERR_PROTO_DECODE;
    } else {
        memcpy(out->session_id, c->session_id.data, SKP_SESSION_ID_LEN);
        memcpy(out->code, c->verification_code, SKP_CODE_LEN + 1);
        out->expires_at = c->expires_at;
    }
    skp_free(&r->base);
    return rc;
}

int sk_rp_read_result(sk_rp_result *out, sk_key_status *status, const uint8_t *reply,
                      size_t reply_len)
{
    return sk_rp_read_result_ext(out, NULL, status, reply, reply_len);
}

int sk_rp_read_result_ext(sk_rp_result *out, sk_rp_result_ext *ext, sk_key_status *status,
                          const uint8_t *reply, size_t reply_len)
{
    Splitkey__RpReply *r = NULL;
    if (out == NULL)
        return SK_ERR_ARG;
    memset(out, 0, sizeof *out);
    if (ext != NULL)
        memset(ext, 0, sizeof *ext);
    int rc = open_reply(&r, status, reply, reply_len);
    if (rc != SK_OK)
        return rc;
    const Splitkey__SessionResult *s = r->result;
    if (r->rep_case != SPLITKEY__RP_REPLY__REP_RESULT || s == NULL) {
        rc = SK_ERR_PROTO_DECODE;
        goto out;
    }
    if (skp_check_len(&s->session_id, SKP_SESSION_ID_LEN) != SK_OK ||
        skp_check_max(&s->signature, SKP_MAX_N_LEN) != SK_OK ||
        skp_check_max(&s->certificate, SKP_MAX_CERT_LEN) != SK_OK) {
        rc = SK_ERR_LIMIT;
        goto out;
    }
    if ((s->verification_code != NULL && s->verification_code[0] != '\0' &&
         !code_ok(s->verification_code)) ||
        s->interaction_used > SPLITKEY__INTERACTION__INTERACTION_CONFIRMATION_MESSAGE_AND_VC_CHOICE ||
        s->refused_at > SPLITKEY__INTERACTION__INTERACTION_CONFIRMATION_MESSAGE_AND_VC_CHOICE ||
        s->certificate_level > SPLITKEY__CERT_LEVEL__CERT_LEVEL_QUALIFIED) {
        rc = SK_ERR_PROTO_DECODE;
        goto out;
    }
    switch (s->state) {
    case SPLITKEY__SESSION_STATE__SESSION_COMPLETE: {
        size_t n = s->signature.len;
        if (n != sk_profile_sig_len(SK_PROFILE_4K) && n != sk_profile_sig_len(SK_PROFILE_6K) &&
            n != sk_profile_sig_len(SK_PROFILE_8K)) {
            rc = SK_ERR_PROTO_DECODE;
            goto out;
        }
        memcpy(out->signature, s->signature.data, n);
        out->sig_len = n;
        if (s->certificate.len > 0)
            memcpy(out->certificate, s->certificate.data, s->certificate.len);
        out->cert_len = s->certificate.len;
        out->state = SK_SESSION_COMPLETE;
        break;
    }
    case SPLITKEY__SESSION_STATE__SESSION_PENDING:
        out->state = SK_SESSION_PENDING;
        break;
    case SPLITKEY__SESSION_STATE__SESSION_REFUSED:
        out->state = SK_SESSION_REFUSED;
        break;
    case SPLITKEY__SESSION_STATE__SESSION_EXPIRED:
        out->state = SK_SESSION_EXPIRED;
        break;
    case SPLITKEY__SESSION_STATE__SESSION_CANCELLED:
        out->state = SK_SESSION_CANCELLED;
        break;
    case SPLITKEY__SESSION_STATE__SESSION_WRONG_VC:
        out->state = SK_SESSION_WRONG_VC;
        break;
    default:
        rc = SK_ERR_PROTO_DECODE;
        goto out;
    }
    memcpy(out->session_id, s->session_id.data, SKP_SESSION_ID_LEN);
    if (s->verification_code != NULL && s->verification_code[0] != '\0')
        memcpy(out->code, s->verification_code, SKP_CODE_LEN + 1);
    if (ext != NULL) {
        ext->interaction_used = (sk_interaction)s->interaction_used;
        ext->certificate_level = (sk_cert_level)s->certificate_level;
        ext->refused_at = (sk_interaction)s->refused_at;
        if (s->rp_ref.len > SK_MAX_RP_REF_LEN) {
            rc = SK_ERR_PROTO_DECODE;
            goto out;
        }
        if (s->rp_ref.len > 0)
            memcpy(ext->rp_ref, s->rp_ref.data, s->rp_ref.len);
        ext->rp_ref_len = s->rp_ref.len;
    }
out:
    if (rc != SK_OK) {
        memset(out, 0, sizeof *out);
        if (ext != NULL)
            memset(ext, 0, sizeof *ext);
    }
    skp_free(&r->base);
    return rc;
}

int sk_rp_read_key_state(sk_key_status *status, const uint8_t *reply, size_t reply_len)
{
    return sk_rp_read_key_state_level(status, NULL, reply, reply_len);
}

int sk_rp_read_key_state_level(sk_key_status *status, sk_cert_level *level, const uint8_t *reply,
                               size_t reply_len)
{
    Splitkey__RpReply *r = NULL;
    if (status == NULL)
        return SK_ERR_ARG;
    if (level != NULL)
        *level = SK_CERT_LEVEL_NONE;
    int rc = open_reply(&r, status, reply, reply_len);
    if (rc != SK_OK)
        return rc;
    const Splitkey__KeyStateReply *k = r->key_state;
    if (r->rep_case != SPLITKEY__RP_REPLY__REP_KEY_STATE || k == NULL ||
        k->state < SPLITKEY__KEY_STATE__KEY_ENROLLING ||
        k->state > SPLITKEY__KEY_STATE__KEY_DESTROYED ||
        k->destroy_reason > SPLITKEY__DESTROY_REASON__DESTROY_ABANDONED ||
        k->certificate_level > SPLITKEY__CERT_LEVEL__CERT_LEVEL_QUALIFIED) {
        rc = SK_ERR_PROTO_DECODE;
    } else {
        if (level != NULL)
            *level = (sk_cert_level)k->certificate_level;
        status->state = (sk_key_state)k->state;
        status->attempts_left = k->attempts_left;
        status->locked_until = k->locked_until;
        status->destroy_reason = (sk_destroy_reason)k->destroy_reason;
    }
    skp_free(&r->base);
    return rc;
}
