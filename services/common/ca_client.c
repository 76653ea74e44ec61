/* SPDX-License-Identifier: Apache-2.0 */
/* ca_client.c - signed requests to splitkey-ca over nng REQ. */
#define _POSIX_C_SOURCE 200809L
#include "ca_client.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "ca.pb-c.h"
#include "req_client.h"
#include "splitkey/splitkey.h"
#include "svc_error.h"

#define CA_CLIENT_CONTEXT "splitkey-ca-request-v1"
#define CA_CLIENT_REPLY_CONTEXT "splitkey-ca-reply-v1"
#define CA_CLIENT_VERSION 1u
#define CA_CLIENT_ID_LEN 16u
#define CA_CLIENT_MAX_REPLY (256u * 1024u)

struct sk_ca_client {
    sk_req_client *req;
    uint8_t *secret; /* sodium_malloc'd, SK_CA_RA_SECRET_LEN, or NULL */
    uint8_t pub[crypto_sign_PUBLICKEYBYTES];
    sk_cert *ca_cert; /* or NULL */
};

const char *sk_ca_result_name(sk_ca_result r)
{
    switch (r) {
    case SK_CA_OK: return "ok";
    case SK_CA_BAD_REQUEST: return "bad-request";
    case SK_CA_UNKNOWN_RA: return "unknown-ra";
    case SK_CA_BAD_SIGNATURE: return "bad-signature";
    case SK_CA_STALE: return "stale";
    case SK_CA_CSR_INVALID: return "csr-invalid";
    case SK_CA_POP_FAILED: return "pop-failed";
    case SK_CA_KEY_MISMATCH: return "key-mismatch";
    case SK_CA_SUBJECT_INVALID: return "subject-invalid";
    case SK_CA_NOT_FOUND: return "not-found";
    case SK_CA_NOT_OWNER: return "not-owner";
    case SK_CA_ALREADY_REVOKED: return "already-revoked";
    case SK_CA_INTERNAL: return "internal";
    default: return "no-answer";
    }
}

static int result_code(sk_ca_result r)
{
    switch (r) {
    case SK_CA_OK: return SK_OK;
    case SK_CA_BAD_REQUEST: return SK_ERR_PROTO_DECODE;
    case SK_CA_UNKNOWN_RA:
    case SK_CA_BAD_SIGNATURE: return SK_ERR_PROTO_AUTH;
    case SK_CA_STALE: return SK_ERR_PROTO_REPLAY;
    case SK_CA_CSR_INVALID: return SK_ERR_CSR;
    case SK_CA_POP_FAILED: return SK_ERR_VERIFY;
    case SK_CA_KEY_MISMATCH: return SK_ERR_KEY_MISMATCH;
    case SK_CA_SUBJECT_INVALID: return SK_ERR_PKI;
    case SK_CA_NOT_FOUND:
    case SK_CA_NOT_OWNER: return SK_ERR_NOT_FOUND;
    case SK_CA_ALREADY_REVOKED: return SK_ERR_PROTO_STATE;
    case SK_CA_INTERNAL: return SK_ERR_STORE;
    default: return SK_ERR_PROTO_DECODE;
    }
}

int sk_ca_client_open(sk_ca_client **out, const char *url, const uint8_t *ra_secret,
                      const uint8_t *ca_cert, size_t ca_cert_len, unsigned timeout_ms)
{
    if (out == NULL || url == NULL || (ca_cert == NULL && ca_cert_len != 0))
        return SK_ERR_ARG;
    *out = NULL;
    sk_ca_client *c = calloc(1, sizeof *c);
    if (c == NULL)
        return SK_ERR_NOMEM;
    int rc = SK_OK;
    if (ra_secret != NULL) {
        c->secret = sodium_malloc(SK_CA_RA_SECRET_LEN);
        if (c->secret == NULL) {
            rc = SK_ERR_NOMEM;
            goto fail;
        }
        memcpy(c->secret, ra_secret, SK_CA_RA_SECRET_LEN);
        crypto_sign_ed25519_sk_to_pk(c->pub, c->secret);
    }
    if (ca_cert != NULL && (rc = sk_cert_parse(&c->ca_cert, ca_cert, ca_cert_len)) != SK_OK) {
        rc = SK_ERR_CERT;
        goto fail;
    }
    rc = sk_req_client_open(&c->req, url, timeout_ms, CA_CLIENT_MAX_REPLY);
    if (rc != SK_OK)
        goto fail;
    *out = c;
    return SK_OK;
fail:
    sk_ca_client_close(c);
    return rc;
}

void sk_ca_client_close(sk_ca_client *c)
{
    if (c == NULL)
        return;
    sk_req_client_close(c->req);
    if (c->secret != NULL)
        sodium_free(c->secret); /* sodium_free wipes */
    sk_cert_free(c->ca_cert);
    free(c);
}

/* Unwraps a CaReplyEnvelope: with a CA certificate the signature must
 * verify under its key over CA_CLIENT_REPLY_CONTEXT || 0x00 || body and the
 * reply must echo exactly the request id sent (a reply to another request,
 * replayed, is refused); without one the body is taken as it is and an
 * empty request id is accepted.  Returns SK_OK with *reply set,
 * SK_ERR_PROTO_DECODE (undecodable; also an SKE1 error frame from the REP
 * loop) or SK_ERR_PROTO_AUTH (the signature or the request id is wrong). */
static int open_reply(sk_ca_client *c, Splitkey__Ca__CaReply **reply, const uint8_t *buf,
                      size_t len, const uint8_t id[CA_CLIENT_ID_LEN])
{
    *reply = NULL;
    Splitkey__Ca__CaReplyEnvelope *env = splitkey__ca__ca_reply_envelope__unpack(NULL, len, buf);
    if (env == NULL || env->version != CA_CLIENT_VERSION || env->body.len == 0) {
        if (env != NULL)
            splitkey__ca__ca_reply_envelope__free_unpacked(env, NULL);
        return SK_ERR_PROTO_DECODE;
    }
    int rc = SK_OK;
    if (c->ca_cert != NULL) {
        size_t cl = sizeof CA_CLIENT_REPLY_CONTEXT; /* with its NUL */
        uint8_t *m = malloc(cl + env->body.len);
        if (m == NULL) {
            rc = SK_ERR_NOMEM;
        } else {
            memcpy(m, CA_CLIENT_REPLY_CONTEXT, cl);
            memcpy(m + cl, env->body.data, env->body.len);
            if (sk_cert_verify_message(c->ca_cert, env->signature.data, env->signature.len, m,
                                       cl + env->body.len) != SK_OK)
                rc = SK_ERR_PROTO_AUTH;
            free(m);
        }
    }
    Splitkey__Ca__CaReply *r = NULL;
    if (rc == SK_OK) {
        r = splitkey__ca__ca_reply__unpack(NULL, env->body.len, env->body.data);
        if (r == NULL || r->version != CA_CLIENT_VERSION)
            rc = SK_ERR_PROTO_DECODE;
    }
    if (rc == SK_OK) {
        bool same = r->request_id.len == CA_CLIENT_ID_LEN &&
                    memcmp(r->request_id.data, id, CA_CLIENT_ID_LEN) == 0;
        if (!same && (c->ca_cert != NULL || r->request_id.len != 0))
            rc = c->ca_cert != NULL ? SK_ERR_PROTO_AUTH : SK_ERR_PROTO_DECODE;
    }
    splitkey__ca__ca_reply_envelope__free_unpacked(env, NULL);
    if (rc != SK_OK) {
        if (r != NULL)
            splitkey__ca__ca_reply__free_unpacked(r, NULL);
        return rc;
    }
    *reply = r;
    return SK_OK;
}

bool sk_ca_client_verifies(const sk_ca_client *c) { return c != NULL && c->ca_cert != NULL; }

/* Packs q into a (signed, if sign) envelope, makes the call and decodes the
 * reply.  On SK_OK *reply is an unpacked CaReply whose request id matched. */
static int call(sk_ca_client *c, Splitkey__Ca__CaReply **reply, Splitkey__Ca__CaRequest *q,
                bool sign)
{
    *reply = NULL;
    if (sign && c->secret == NULL)
        return SK_ERR_ARG;
    uint8_t id[CA_CLIENT_ID_LEN];
    randombytes_buf(id, sizeof id);
    q->version = CA_CLIENT_VERSION;
    q->request_id.data = id;
    q->request_id.len = sizeof id;
    q->time = (int64_t)time(NULL);

    size_t cl = sizeof CA_CLIENT_CONTEXT; /* with its NUL */
    size_t bl = splitkey__ca__ca_request__get_packed_size(q);
    uint8_t *signed_msg = malloc(cl + bl), *env_buf = NULL, *rbuf = NULL;
    uint8_t sig[crypto_sign_BYTES];
    size_t rlen = 0;
    int rc = SK_ERR_NOMEM;
    if (signed_msg == NULL)
        goto out;
    memcpy(signed_msg, CA_CLIENT_CONTEXT, cl);
    splitkey__ca__ca_request__pack(q, signed_msg + cl);

    Splitkey__Ca__CaEnvelope env = SPLITKEY__CA__CA_ENVELOPE__INIT;
    env.version = CA_CLIENT_VERSION;
    env.body.data = signed_msg + cl;
    env.body.len = bl;
    if (sign) {
        crypto_sign_detached(sig, NULL, signed_msg, cl + bl, c->secret);
        env.ra_pub.data = c->pub;
        env.ra_pub.len = sizeof c->pub;
        env.signature.data = sig;
        env.signature.len = sizeof sig;
    }
    size_t el = splitkey__ca__ca_envelope__get_packed_size(&env);
    if ((env_buf = malloc(el ? el : 1)) == NULL)
        goto out;
    splitkey__ca__ca_envelope__pack(&env, env_buf);
    rc = sk_req_client_call(c->req, &rbuf, &rlen, env_buf, el);
    if (rc != SK_OK)
        goto out;
    Splitkey__Ca__CaReply *r = NULL;
    rc = open_reply(c, &r, rbuf, rlen, id);
    if (rc != SK_OK)
        goto out;
    *reply = r;
    rc = SK_OK;
out:
    free(signed_msg);
    free(env_buf);
    free(rbuf);
    return rc;
}

/* Maps a decoded reply to the caller's result and a code; checks that a
 * successful reply carries the expected operation. */
static int answer(sk_ca_result *result, const Splitkey__Ca__CaReply *r,
                  Splitkey__Ca__CaReply__OpCase want)
{
    int v = (int)r->result;
    sk_ca_result res = (v >= 0 && v <= (int)SK_CA_INTERNAL) ? (sk_ca_result)v : SK_CA_INTERNAL;
    if (res == SK_CA_OK && r->op_case != want)
        res = SK_CA_NO_ANSWER;
    if (result != NULL)
        *result = res;
    return result_code(res);
}

int sk_ca_client_issue(sk_ca_client *c, uint8_t **cert, size_t *cert_len, sk_serial *serial,
                       sk_ca_result *result, const sk_ca_issue_params *p)
{
    if (result != NULL)
        *result = SK_CA_NO_ANSWER;
    if (c == NULL || cert == NULL || cert_len == NULL || p == NULL || p->csr == NULL ||
        p->n == NULL || p->n_len == 0 ||
        (p->purpose != SK_CA_PURPOSE_AUTH && p->purpose != SK_CA_PURPOSE_SIGN &&
         p->purpose != SK_CA_PURPOSE_SEAL))
        return SK_ERR_ARG;
    *cert = NULL;
    *cert_len = 0;
    Splitkey__Ca__IssueRequest ir = SPLITKEY__CA__ISSUE_REQUEST__INIT;
    ir.csr.data = (uint8_t *)p->csr;
    ir.csr.len = p->csr_len;
    ir.purpose = p->purpose == SK_CA_PURPOSE_SIGN   ? SPLITKEY__CA__PURPOSE__PURPOSE_SIGN
                 : p->purpose == SK_CA_PURPOSE_SEAL ? SPLITKEY__CA__PURPOSE__PURPOSE_SEAL
                                                    : SPLITKEY__CA__PURPOSE__PURPOSE_AUTH;
    ir.qualified = p->qualified;
    if (p->subject != NULL)
        ir.subject = (char *)p->subject;
    ir.n.data = (uint8_t *)p->n;
    ir.n.len = p->n_len;
    if (p->person_id != NULL)
        ir.person_id = (char *)p->person_id;
    Splitkey__Ca__CaRequest q = SPLITKEY__CA__CA_REQUEST__INIT;
    q.op_case = SPLITKEY__CA__CA_REQUEST__OP_ISSUE;
    q.issue = &ir;
    Splitkey__Ca__CaReply *r = NULL;
    int rc = call(c, &r, &q, true);
    if (rc != SK_OK)
        return rc;
    rc = answer(result, r, SPLITKEY__CA__CA_REPLY__OP_ISSUE);
    sk_cert *got = NULL;
    if (rc == SK_OK) {
        /* Check what came back before anyone stores it. */
        const ProtobufCBinaryData *d = &r->issue->certificate;
        sk_serial s;
        if (d->len == 0 || sk_cert_parse(&got, d->data, d->len) != SK_OK ||
            sk_cert_check_key(got, p->n, p->n_len) != SK_OK ||
            (c->ca_cert != NULL && sk_cert_check_issuer(got, c->ca_cert) != SK_OK) ||
            sk_cert_serial(got, &s) != SK_OK) {
            rc = SK_ERR_BAD_SIGNATURE;
        } else if ((*cert = malloc(d->len)) == NULL) {
            rc = SK_ERR_NOMEM;
        } else {
            memcpy(*cert, d->data, d->len);
            *cert_len = d->len;
            if (serial != NULL)
                *serial = s;
        }
    }
    sk_cert_free(got);
    splitkey__ca__ca_reply__free_unpacked(r, NULL);
    return rc;
}

static int serial_ok(const sk_serial *s)
{
    return s != NULL && s->len >= 1 && s->len <= SK_SERIAL_MAX_LEN && s->bytes[0] != 0;
}

int sk_ca_client_revoke(sk_ca_client *c, int64_t *revocation_time, sk_ca_result *result,
                        const sk_serial *serial, sk_crl_reason reason)
{
    if (result != NULL)
        *result = SK_CA_NO_ANSWER;
    if (c == NULL || !serial_ok(serial) || sk_crl_reason_name(reason) == NULL ||
        reason == SK_REASON_REMOVE_FROM_CRL)
        return SK_ERR_ARG;
    Splitkey__Ca__RevokeRequest rr = SPLITKEY__CA__REVOKE_REQUEST__INIT;
    rr.serial.data = (uint8_t *)serial->bytes;
    rr.serial.len = serial->len;
    rr.reason = (uint32_t)reason;
    Splitkey__Ca__CaRequest q = SPLITKEY__CA__CA_REQUEST__INIT;
    q.op_case = SPLITKEY__CA__CA_REQUEST__OP_REVOKE;
    q.revoke = &rr;
    Splitkey__Ca__CaReply *r = NULL;
    int rc = call(c, &r, &q, true);
    if (rc != SK_OK)
        return rc;
    rc = answer(result, r, SPLITKEY__CA__CA_REPLY__OP_REVOKE);
    if (rc == SK_OK && revocation_time != NULL)
        *revocation_time = r->revoke->revocation_time;
    splitkey__ca__ca_reply__free_unpacked(r, NULL);
    return rc;
}

int sk_ca_client_status(sk_ca_client *c, sk_cert_status *status, const sk_serial *serial)
{
    if (c == NULL || status == NULL || !serial_ok(serial))
        return SK_ERR_ARG;
    memset(status, 0, sizeof *status);
    status->state = SK_CERT_UNKNOWN;
    Splitkey__Ca__StatusRequest sr = SPLITKEY__CA__STATUS_REQUEST__INIT;
    sr.serial.data = (uint8_t *)serial->bytes;
    sr.serial.len = serial->len;
    Splitkey__Ca__CaRequest q = SPLITKEY__CA__CA_REQUEST__INIT;
    q.op_case = SPLITKEY__CA__CA_REQUEST__OP_STATUS;
    q.status = &sr;
    Splitkey__Ca__CaReply *r = NULL;
    int rc = call(c, &r, &q, false);
    if (rc != SK_OK)
        return rc;
    rc = answer(NULL, r, SPLITKEY__CA__CA_REPLY__OP_STATUS);
    if (rc == SK_OK) {
        switch (r->status->state) {
        case SPLITKEY__CA__CERT_STATE__CERT_GOOD:
            status->state = SK_CERT_GOOD;
            break;
        case SPLITKEY__CA__CERT_STATE__CERT_REVOKED:
            status->state = SK_CERT_REVOKED;
            status->revocation_time = r->status->revocation_time;
            status->reason = (sk_crl_reason)r->status->reason;
            if (sk_crl_reason_name(status->reason) == NULL)
                rc = SK_ERR_PROTO_DECODE;
            break;
        default:
            status->state = SK_CERT_UNKNOWN;
            break;
        }
    }
    splitkey__ca__ca_reply__free_unpacked(r, NULL);
    return rc;
}

int sk_ca_client_ca_cert(sk_ca_client *c, uint8_t **cert, size_t *cert_len)
{
    if (c == NULL || cert == NULL || cert_len == NULL)
        return SK_ERR_ARG;
    *cert = NULL;
    *cert_len = 0;
    Splitkey__Ca__CaCertRequest cr = SPLITKEY__CA__CA_CERT_REQUEST__INIT;
    Splitkey__Ca__CaRequest q = SPLITKEY__CA__CA_REQUEST__INIT;
    q.op_case = SPLITKEY__CA__CA_REQUEST__OP_CA_CERT;
    q.ca_cert = &cr;
    Splitkey__Ca__CaReply *r = NULL;
    int rc = call(c, &r, &q, false);
    if (rc != SK_OK)
        return rc;
    rc = answer(NULL, r, SPLITKEY__CA__CA_REPLY__OP_CA_CERT);
    if (rc == SK_OK) {
        const ProtobufCBinaryData *d = &r->ca_cert->certificate;
        if (d->len == 0)
            rc = SK_ERR_PROTO_DECODE;
        else if ((*cert = malloc(d->len)) == NULL)
            rc = SK_ERR_NOMEM;
        else {
            memcpy(*cert, d->data, d->len);
            *cert_len = d->len;
        }
    }
    splitkey__ca__ca_reply__free_unpacked(r, NULL);
    return rc;
}

int sk_ca_client_revocations(sk_ca_client *c, sk_ca_revocation **out, size_t *count, bool *more,
                             sk_ca_result *result, uint64_t since, unsigned max)
{
    if (result != NULL)
        *result = SK_CA_NO_ANSWER;
    if (c == NULL || out == NULL || count == NULL || more == NULL)
        return SK_ERR_ARG;
    *out = NULL;
    *count = 0;
    *more = false;
    Splitkey__Ca__RevocationsRequest rr = SPLITKEY__CA__REVOCATIONS_REQUEST__INIT;
    rr.since = since;
    rr.max = max;
    Splitkey__Ca__CaRequest q = SPLITKEY__CA__CA_REQUEST__INIT;
    q.op_case = SPLITKEY__CA__CA_REQUEST__OP_REVOCATIONS;
    q.revocations = &rr;
    Splitkey__Ca__CaReply *r = NULL;
    int rc = call(c, &r, &q, true);
    if (rc != SK_OK)
        return rc;
    rc = answer(result, r, SPLITKEY__CA__CA_REPLY__OP_REVOCATIONS);
    sk_ca_revocation *v = NULL;
    size_t n = 0;
    if (rc == SK_OK) {
        const Splitkey__Ca__RevocationsReply *rv = r->revocations;
        n = rv->n_revocations;
        if (n > 0 && (v = calloc(n, sizeof *v)) == NULL)
            rc = SK_ERR_NOMEM;
        uint64_t last = since;
        for (size_t i = 0; rc == SK_OK && i < n; i++) {
            const Splitkey__Ca__Revocation *it = rv->revocations[i];
            sk_ca_revocation *d = &v[i];
            /* strictly increasing, after since; a serial, a reason */
            if (it->seq <= last || it->serial.len == 0 || it->serial.len > SK_SERIAL_MAX_LEN ||
                it->serial.data[0] == 0 || sk_crl_reason_name((sk_crl_reason)it->reason) == NULL ||
                strlen(it->person_id) >= sizeof d->person_id) {
                rc = SK_ERR_PROTO_DECODE;
                break;
            }
            last = it->seq;
            d->seq = it->seq;
            d->serial.len = it->serial.len;
            memcpy(d->serial.bytes, it->serial.data, it->serial.len);
            d->revocation_time = it->revocation_time;
            d->reason = (sk_crl_reason)it->reason;
            d->by_ra = it->by_ra;
            memcpy(d->person_id, it->person_id, strlen(it->person_id) + 1);
            d->purpose = it->purpose == SPLITKEY__CA__PURPOSE__PURPOSE_AUTH ? SK_CA_PURPOSE_AUTH
                                                                           : SK_CA_PURPOSE_SIGN;
        }
        if (rc == SK_OK)
            *more = rv->more && n > 0;
    }
    splitkey__ca__ca_reply__free_unpacked(r, NULL);
    if (rc != SK_OK) {
        free(v);
        return rc;
    }
    *out = v;
    *count = n;
    return SK_OK;
}
