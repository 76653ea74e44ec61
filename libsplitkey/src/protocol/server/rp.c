/* SPDX-License-Identifier: Apache-2.0 */
/* rp.c - the relying-party API (doc/protocol.md sections 2 and 4): create a
 * session for a key, poll for its result, cancel it, ask for a key's state.
 * Plain protobuf; the transport authenticates the relying party. */
#include <sodium.h>
#include <string.h>

#include "protocol/server/server_internal.h"

static int rp_pack(sk_server_result *res, const Splitkey__RpReply *rep)
{
    return skp_pack(&rep->base, res->reply, sizeof res->reply, &res->reply_len);
}

static int rp_error(sk_server_result *res, int code, const sk_key_status *st)
{
    Splitkey__RpReply rep = SPLITKEY__RP_REPLY__INIT;
    Splitkey__Error e = SPLITKEY__ERROR__INIT;
    e.code = -code;
    if (st != NULL) {
        e.attempts_left = st->attempts_left;
        e.locked_until = st->locked_until;
        e.destroy_reason = (uint32_t)st->destroy_reason;
    }
    rep.rep_case = SPLITKEY__RP_REPLY__REP_ERROR;
    rep.error = &e;
    res->status = code;
    return rp_pack(res, &rep);
}

/* The key state gate of a new session: ACTIVE and not locked. */
static int key_usable(const sk_key_rec *r, const sk_server_input *in, sk_key_status *st)
{
    sks_status(r, in->policy, in->now, st);
    switch (st->state) {
    case SK_KEY_ACTIVE:
        return SK_OK;
    case SK_KEY_TIMELOCKED:
        return SK_ERR_LOCKED;
    case SK_KEY_DESTROYED:
        return SK_ERR_DESTROYED;
    default:
        return SK_ERR_NOT_ACTIVE;
    }
}

static int rp_create(sk_server_result *res, const sk_server_input *in,
                     const Splitkey__SessionCreate *c, const sk_rng *rng)
{
    sk_key_status st;
    sk_session_rec *s = NULL;
    int rc = sks_session_create_check(c);
    if (rc != SK_OK)
        return rp_error(res, rc, NULL);
    if (c->csr_info.len != 0)
        return rp_error(res, SK_ERR_ARG, NULL); /* only a device proves possession */
    if (in->key == NULL)
        return rp_error(res, SK_ERR_NOT_FOUND, NULL);
    if ((c->key_id.len != 0 && memcmp(c->key_id.data, in->key->key_id, SKP_KEY_ID_LEN) != 0) ||
        (sk_purpose)c->purpose != in->key->purpose)
        return rp_error(res, SK_ERR_ARG, NULL);
    rc = key_usable(in->key, in, &st);
    if (rc != SK_OK)
        return rp_error(res, rc, &st);
    /* The least level the relying party accepts (NONE and ADVANCED: any). */
    if ((sk_cert_level)c->certificate_level == SK_CERT_LEVEL_QUALIFIED &&
        sks_key_level(in->key) != SK_CERT_LEVEL_QUALIFIED)
        return rp_error(res, SK_ERR_LEVEL, NULL);
    rc = sks_session_new(&s, in->key, c, false, false, in->policy, in->now, rng);
    if (rc != SK_OK)
        return rc;
    Splitkey__RpReply rep = SPLITKEY__RP_REPLY__INIT;
    Splitkey__SessionCreateReply cr = SPLITKEY__SESSION_CREATE_REPLY__INIT;
    cr.session_id = skp_bin(s->id, SKP_SESSION_ID_LEN);
    cr.verification_code = s->code;
    cr.expires_at = s->expires_at;
    rep.rep_case = SPLITKEY__RP_REPLY__REP_CREATED;
    rep.created = &cr;
    rc = rp_pack(res, &rep);
    if (rc != SK_OK) {
        sk_session_rec_free(s);
        return rc;
    }
    res->session = s;
    res->effects |= SK_EFFECT_NEW_SESSION;
    return SK_OK;
}

/* The session's state as of now: a PENDING session whose time is up is
 * EXPIRED, one whose relying party stopped waiting (the caller's liveness
 * rule) CANCELLED; either change goes into the result to be stored.
 * Returns SK_OK or SK_ERR_NOMEM. */
static int rp_settle(sk_server_result *res, const sk_server_input *in, const sk_session_rec *s,
                     sk_session_state to)
{
    sk_session_state state = s->state;
    if (state == SK_SESSION_PENDING && in->now >= s->expires_at)
        to = SK_SESSION_EXPIRED;
    else if (state == SK_SESSION_PENDING && in->session_abandoned && !s->from_device)
        to = SK_SESSION_CANCELLED;
    if (state != SK_SESSION_PENDING || to == SK_SESSION_PENDING)
        return SK_OK;
    sk_session_rec *n = sks_session_copy(s);
    if (n == NULL)
        return SK_ERR_NOMEM;
    n->state = to;
    n->version = s->version + 1;
    res->session = n;
    return SK_OK;
}

/* RpReply{result} with the session's state (res->session when it changed)
 * and, once COMPLETE, the signature and certificate. */
static int rp_result(sk_server_result *res, const sk_session_rec *s)
{
    const sk_session_rec *now = res->session != NULL ? res->session : s;
    sk_session_state state = now->state;
    Splitkey__RpReply rep = SPLITKEY__RP_REPLY__INIT;
    Splitkey__SessionResult r = SPLITKEY__SESSION_RESULT__INIT;
    r.session_id = skp_bin(now->id, SKP_SESSION_ID_LEN);
    r.state = (Splitkey__SessionState)state;
    r.verification_code = (char *)now->code;
    r.interaction_used = (Splitkey__Interaction)(now->interaction == SK_INTERACTION_NONE
                                                     ? SK_INTERACTION_DISPLAY_TEXT_AND_PIN
                                                     : now->interaction);
    r.certificate_level = (Splitkey__CertLevel)now->level;
    r.rp_ref = skp_bin(now->rp_ref, now->rp_ref_len);
    if (state == SK_SESSION_REFUSED)
        r.refused_at = (Splitkey__Interaction)now->refused_at;
    if (state == SK_SESSION_COMPLETE) {
        r.signature = skp_bin(now->signature, now->signature_len);
        r.certificate = skp_bin(now->cert, now->cert_len);
    }
    rep.rep_case = SPLITKEY__RP_REPLY__REP_RESULT;
    rep.result = &r;
    if (state == SK_SESSION_EXPIRED)
        res->status = SK_ERR_SESSION_EXPIRED;
    else if (state == SK_SESSION_REFUSED)
        res->status = SK_ERR_SESSION_REFUSED;
    else if (state == SK_SESSION_CANCELLED)
        res->status = SK_ERR_SESSION_CANCELLED;
    else if (state == SK_SESSION_WRONG_VC)
        res->status = SK_ERR_WRONG_VC;
    else if (state == SK_SESSION_PENDING)
        res->status = SK_ERR_PENDING;
    return rp_pack(res, &rep);
}

static int rp_poll(sk_server_result *res, const sk_server_input *in, const Splitkey__SessionPoll *p)
{
    if (skp_check_len(&p->session_id, SKP_SESSION_ID_LEN) || p->wait_ms > SK_MAX_POLL_WAIT_MS)
        return rp_error(res, SK_ERR_LIMIT, NULL);
    const sk_session_rec *s = in->session;
    if (s == NULL || memcmp(s->id, p->session_id.data, SKP_SESSION_ID_LEN) != 0)
        return rp_error(res, SK_ERR_SESSION_UNKNOWN, NULL);
    int rc = rp_settle(res, in, s, SK_SESSION_PENDING);
    return rc != SK_OK ? rc : rp_result(res, s);
}

/* The relying party no longer waits: PENDING -> CANCELLED.  A session that
 * already ended (or expires now) keeps its state and is answered with it;
 * a CANCELLED one again is the same answer (idempotent).  The session id is
 * the capability; a device-created session (proof of possession, local
 * signing) has no relying party and is unknown here. */
static int rp_cancel(sk_server_result *res, const sk_server_input *in,
                     const Splitkey__SessionCancel *c)
{
    if (skp_check_len(&c->session_id, SKP_SESSION_ID_LEN))
        return rp_error(res, SK_ERR_LIMIT, NULL);
    const sk_session_rec *s = in->session;
    if (s == NULL || s->from_device || memcmp(s->id, c->session_id.data, SKP_SESSION_ID_LEN) != 0)
        return rp_error(res, SK_ERR_SESSION_UNKNOWN, NULL);
    int rc = rp_settle(res, in, s, SK_SESSION_CANCELLED);
    return rc != SK_OK ? rc : rp_result(res, s);
}

static int rp_key_state(sk_server_result *res, const sk_server_input *in,
                        const Splitkey__KeyStateRequest *k)
{
    sk_key_status st;
    if (skp_check_len(&k->key_id, SKP_KEY_ID_LEN))
        return rp_error(res, SK_ERR_LIMIT, NULL);
    if (in->key == NULL || memcmp(in->key->key_id, k->key_id.data, SKP_KEY_ID_LEN) != 0)
        return rp_error(res, SK_ERR_NOT_FOUND, NULL);
    sks_status(in->key, in->policy, in->now, &st);
    Splitkey__RpReply rep = SPLITKEY__RP_REPLY__INIT;
    Splitkey__KeyStateReply r = SPLITKEY__KEY_STATE_REPLY__INIT;
    r.key_id = k->key_id;
    r.state = (Splitkey__KeyState)st.state;
    r.locked_until = st.locked_until;
    r.attempts_left = st.attempts_left;
    r.destroy_reason = (Splitkey__DestroyReason)st.destroy_reason;
    r.certificate_level = (Splitkey__CertLevel)sks_key_level(in->key);
    rep.rep_case = SPLITKEY__RP_REPLY__REP_KEY_STATE;
    rep.key_state = &r;
    return rp_pack(res, &rep);
}

int sk_server_handle_rp(sk_server_result **out, const sk_server_input *in, const uint8_t *req,
                        size_t req_len)
{
    ProtobufCMessage *m = NULL;
    sk_rng rng;
    *out = NULL;
    if (in->identity == NULL || in->policy == NULL)
        return SK_ERR_ARG;
    if (!sk_is_initialised())
        return SK_ERR_NOT_INITIALISED;
    sk_server_result *res = calloc(1, sizeof *res);
    if (res == NULL)
        return SK_ERR_NOMEM;
    skp_rng(&rng, in->random, in->random_ctx);
    int rc = skp_unpack(&splitkey__rp_request__descriptor, &m, req, req_len, SKP_MAX_MESSAGE_LEN);
    if (rc != SK_OK) {
        rc = rp_error(res, rc, NULL);
    } else {
        const Splitkey__RpRequest *r = (const Splitkey__RpRequest *)m;
        switch (r->req_case) {
        case SPLITKEY__RP_REQUEST__REQ_CREATE:
            rc = rp_create(res, in, r->create, &rng);
            break;
        case SPLITKEY__RP_REQUEST__REQ_POLL:
            rc = rp_poll(res, in, r->poll);
            break;
        case SPLITKEY__RP_REQUEST__REQ_KEY_STATE:
            rc = rp_key_state(res, in, r->key_state);
            break;
        case SPLITKEY__RP_REQUEST__REQ_CANCEL:
            rc = rp_cancel(res, in, r->cancel);
            break;
        default:
            rc = rp_error(res, SK_ERR_PROTO_DECODE, NULL);
        }
    }
    skp_free(m);
    if (rc != SK_OK) {
        sk_server_result_free(res);
        return rc;
    }
    *out = res;
    return SK_OK;
}

int sk_server_peek_rp(sk_route_info *info, const uint8_t *req, size_t req_len)
{
    ProtobufCMessage *m = NULL;
    memset(info, 0, sizeof *info);
    int rc = skp_unpack(&splitkey__rp_request__descriptor, &m, req, req_len, SKP_MAX_MESSAGE_LEN);
    if (rc != SK_OK)
        return rc;
    const Splitkey__RpRequest *r = (const Splitkey__RpRequest *)m;
    switch (r->req_case) {
    case SPLITKEY__RP_REQUEST__REQ_CREATE: {
        const Splitkey__SessionCreate *c = r->create;
        info->kind = SK_ROUTE_RP_CREATE;
        rc = sks_session_create_check(c);
        if (rc != SK_OK)
            break;
        info->purpose = (sk_purpose)c->purpose;
        if (c->key_id.len == SKP_KEY_ID_LEN) {
            info->has_key_id = 1;
            memcpy(info->key_id, c->key_id.data, SKP_KEY_ID_LEN);
        } else if (c->person_id != NULL && c->person_id[0] != '\0') {
            info->has_person_id = 1;
            memcpy(info->person_id, c->person_id, strlen(c->person_id) + 1);
        } else {
            rc = SK_ERR_PROTO_DECODE;
        }
        break;
    }
    case SPLITKEY__RP_REQUEST__REQ_POLL:
        info->kind = SK_ROUTE_RP_POLL;
        if (skp_check_len(&r->poll->session_id, SKP_SESSION_ID_LEN) ||
            r->poll->wait_ms > SK_MAX_POLL_WAIT_MS) {
            rc = SK_ERR_LIMIT;
            break;
        }
        info->wait_ms = r->poll->wait_ms;
        info->has_session_id = 1;
        memcpy(info->session_id, r->poll->session_id.data, SKP_SESSION_ID_LEN);
        break;
    case SPLITKEY__RP_REQUEST__REQ_KEY_STATE:
        info->kind = SK_ROUTE_RP_KEY_STATE;
        if (skp_check_len(&r->key_state->key_id, SKP_KEY_ID_LEN)) {
            rc = SK_ERR_LIMIT;
            break;
        }
        info->has_key_id = 1;
        memcpy(info->key_id, r->key_state->key_id.data, SKP_KEY_ID_LEN);
        break;
    case SPLITKEY__RP_REQUEST__REQ_CANCEL:
        info->kind = SK_ROUTE_RP_CANCEL;
        if (skp_check_len(&r->cancel->session_id, SKP_SESSION_ID_LEN)) {
            rc = SK_ERR_LIMIT;
            break;
        }
        info->has_session_id = 1;
        memcpy(info->session_id, r->cancel->session_id.data, SKP_SESSION_ID_LEN);
        break;
    default:
        rc = SK_ERR_PROTO_DECODE;
    }
    skp_free(m);
    return rc;
}
