/* SPDX-License-Identifier: Apache-2.0 */
/* ca_handler.c - decoding, authenticating and serving CA requests. */
#define _POSIX_C_SOURCE 200809L
#include "ca_handler.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "ca.pb-c.h"
#include "log.h"
#include "splitkey/splitkey.h"
#include "svc_error.h"
#include "svc_hex.h"

typedef Splitkey__Ca__Result ca_result;
#define R(x) SPLITKEY__CA__RESULT__RESULT_##x

#define CA_MAX_SUBJECT 512u
#define CA_MAX_PERSON_ID 128u
#define CA_MAX_N 2048u

/* What one request did, for its log line and its reply. */
typedef struct served {
    const char *op;
    char ra[9]; /* the RA key's first 4 bytes in hex, or "-" */
    char serial[2 * SK_SERIAL_MAX_LEN + 1];
    ca_result result;
    const char *detail;
} served;

static int64_t now_secs(void) { return (int64_t)time(NULL); }

/* The serial's hex for log lines ("?" if it cannot be written). */
static void hex_of(char *out, size_t cap, const sk_serial *serial)
{
    if (sk_serial_to_hex(out, cap, serial) != SK_OK)
        snprintf(out, cap, "?");
}

static void set_result(served *sv, ca_result r, const char *detail)
{
    sv->result = r;
    sv->detail = detail;
}

static const char *result_name(ca_result r)
{
    switch (r) {
    case R(OK): return "ok";
    case R(BAD_REQUEST): return "bad-request";
    case R(UNKNOWN_RA): return "unknown-ra";
    case R(BAD_SIGNATURE): return "bad-signature";
    case R(STALE): return "stale";
    case R(CSR_INVALID): return "csr-invalid";
    case R(POP_FAILED): return "pop-failed";
    case R(KEY_MISMATCH): return "key-mismatch";
    case R(SUBJECT_INVALID): return "subject-invalid";
    case R(NOT_FOUND): return "not-found";
    case R(NOT_OWNER): return "not-owner";
    case R(ALREADY_REVOKED): return "already-revoked";
    default: return "internal";
    }
}

/* Verifies the envelope signature over context || 0x00 || body. */
static bool signature_ok(const Splitkey__Ca__CaEnvelope *env)
{
    size_t cl = sizeof CA_SIG_CONTEXT; /* includes the NUL */
    size_t ml = cl + env->body.len;
    uint8_t *m = malloc(ml);
    if (m == NULL)
        return false;
    memcpy(m, CA_SIG_CONTEXT, cl);
    if (env->body.len > 0)
        memcpy(m + cl, env->body.data, env->body.len);
    bool ok = crypto_sign_verify_detached(env->signature.data, m, ml, env->ra_pub.data) == 0;
    free(m);
    return ok;
}

/* ------------------------------------------------------------ issue */

static sk_cert_profile profile_of(Splitkey__Ca__Purpose p, bool qualified, bool *ok)
{
    *ok = true;
    if (p == SPLITKEY__CA__PURPOSE__PURPOSE_SIGN)
        return qualified ? SK_CERT_SIGN_QUALIFIED : SK_CERT_SIGN_BASIC;
    if (p == SPLITKEY__CA__PURPOSE__PURPOSE_AUTH)
        return qualified ? SK_CERT_AUTH_QUALIFIED : SK_CERT_AUTH_BASIC;
    if (p == SPLITKEY__CA__PURPOSE__PURPOSE_SEAL && qualified)
        return SK_CERT_SEAL_QUALIFIED; /* seals are qualified only */
    *ok = false;
    return SK_CERT_SIGN_BASIC;
}

static void do_issue(ca_handler *h, served *sv, Splitkey__Ca__CaReply *rep,
                     Splitkey__Ca__IssueReply *ir, const Splitkey__Ca__IssueRequest *q,
                     const uint8_t *ra_pub, const uint8_t *request_id, uint8_t *der,
                     sk_serial *serial)
{
    ca_ctx *ca = h->ca;
    bool ok;
    sk_cert_profile profile = profile_of(q->purpose, q->qualified, &ok);
    if (!ok || q->csr.len == 0 || q->csr.len > SK_PKI_MAX_CSR_LEN || q->n.len == 0 ||
        q->n.len > CA_MAX_N || strlen(q->subject) > CA_MAX_SUBJECT ||
        strlen(q->person_id) > CA_MAX_PERSON_ID) {
        set_result(sv, R(BAD_REQUEST), "issue: purpose, CSR, n, subject or person id missing "
                                       "or too long (a seal is qualified only)");
        return;
    }
    sk_name *registered = NULL;
    const char *why = NULL;
    bool seal = profile == SK_CERT_SEAL_QUALIFIED;
    if (q->subject[0] != '\0' &&
        (seal ? sk_name_parse_legal(&registered, &why, q->subject)
              : sk_name_parse_person(&registered, &why, q->subject)) != SK_OK) {
        set_result(sv, R(SUBJECT_INVALID), why ? why : "the registered subject is invalid");
        return;
    }
    size_t len = 0;
    int64_t now = now_secs();
    pthread_mutex_lock(&ca->sign_mu);
    int rc = sk_ca_issue_csr(ca->ca, der, SK_PKI_MAX_CERT_LEN, &len, serial, profile,
                             q->csr.data, q->csr.len, q->n.data, q->n.len, registered, now);
    pthread_mutex_unlock(&ca->sign_mu);
    sk_name_free(registered);
    switch (rc) {
    case SK_OK: break;
    case SK_ERR_CSR:
    case SK_ERR_PEM:
    case SK_ERR_KEY_FORMAT:
    case SK_ERR_DER:
        set_result(sv, R(CSR_INVALID), "the CSR does not parse as a PKCS#10 request");
        return;
    case SK_ERR_VERIFY:
        set_result(sv, R(POP_FAILED), "the CSR's signature does not verify under its key");
        return;
    case SK_ERR_KEY_MISMATCH:
        set_result(sv, R(KEY_MISMATCH), "the CSR's key is not the enrolled modulus n");
        return;
    case SK_ERR_PKI:
        set_result(sv, R(SUBJECT_INVALID),
                   seal ? "the CSR's subject is not a valid legal-person (organisation) subject "
                          "or not the registered one"
                        : "the CSR's subject is not a valid person subject or not the registered "
                          "one");
        return;
    default:
        set_result(sv, R(INTERNAL), "the CA could not issue the certificate");
        return;
    }
    hex_of(sv->serial, sizeof sv->serial, serial);

    /* Read back what the database records. */
    sk_cert *cert = NULL;
    sk_name *subj = NULL;
    char subject[CA_MAX_SUBJECT + 1], person[CA_MAX_PERSON_ID + 1];
    int64_t nb = 0, na = 0;
    size_t sl;
    rc = sk_cert_parse(&cert, der, len);
    if (rc == SK_OK)
        rc = sk_cert_validity(cert, &nb, &na);
    if (rc == SK_OK)
        rc = sk_cert_subject(cert, &subj);
    if (rc == SK_OK)
        rc = sk_name_format(subj, subject, sizeof subject, &sl);
    if (rc == SK_OK) {
        if (q->person_id[0] != '\0')
            snprintf(person, sizeof person, "%s", q->person_id);
        else if (sk_name_get(subj, person, sizeof person,
                             seal ? "organizationIdentifier" : "serialNumber") != SK_OK)
            snprintf(person, sizeof person, "-");
    }
    sk_name_free(subj);
    sk_cert_free(cert);
    if (rc != SK_OK) {
        set_result(sv, R(INTERNAL), "the issued certificate could not be read back");
        return;
    }
    ca_issue_record r = {
        .serial = serial,
        .subject = subject,
        .person_id = person,
        .profile = profile,
        .not_before = nb,
        .not_after = na,
        .issued_at = now,
        .ra_pub = ra_pub,
        .request_id = request_id,
        .der = der,
        .der_len = len,
    };
    rc = ca_store_record_issue(ca->store, &r);
    if (rc == SK_ERR_STORE_CONFLICT) {
        set_result(sv, R(STALE), "request id already served");
        return;
    }
    if (rc != SK_OK) {
        sk_log_error("issue %s: cannot record: %s", sv->serial, sk_svc_strerror(rc));
        set_result(sv, R(INTERNAL), "the certificate could not be recorded; nothing was issued");
        return;
    }
    ir->certificate.data = der;
    ir->certificate.len = len;
    ir->serial.data = serial->bytes;
    ir->serial.len = serial->len;
    rep->op_case = SPLITKEY__CA__CA_REPLY__OP_ISSUE;
    rep->issue = ir;
    set_result(sv, R(OK), "");
}

/* ----------------------------------------------------------- revoke */

static bool serial_from_wire(sk_serial *s, const ProtobufCBinaryData *b)
{
    if (b->len == 0 || b->len > SK_SERIAL_MAX_LEN || b->data[0] == 0)
        return false;
    s->len = b->len;
    memcpy(s->bytes, b->data, b->len);
    return true;
}

static void do_revoke(ca_handler *h, served *sv, Splitkey__Ca__CaReply *rep,
                      Splitkey__Ca__RevokeReply *rr, const Splitkey__Ca__RevokeRequest *q,
                      const uint8_t *ra_pub, const uint8_t *request_id)
{
    sk_serial serial;
    if (!serial_from_wire(&serial, &q->serial)) {
        set_result(sv, R(BAD_REQUEST), "revoke: the serial is not a positive minimal integer");
        return;
    }
    hex_of(sv->serial, sizeof sv->serial, &serial);
    sk_crl_reason reason = (sk_crl_reason)q->reason;
    if (q->reason > 10 || sk_crl_reason_name(reason) == NULL ||
        reason == SK_REASON_REMOVE_FROM_CRL) {
        set_result(sv, R(BAD_REQUEST), "revoke: not a revocation reason");
        return;
    }
    bool exists, owned;
    int rc = ca_store_owner(h->ca->store, &exists, &owned, &serial, ra_pub);
    if (rc == SK_OK && !exists) {
        set_result(sv, R(NOT_FOUND), "no certificate with this serial");
        return;
    }
    if (rc == SK_OK && !owned) {
        set_result(sv, R(NOT_OWNER), "this certificate was requested by another RA");
        return;
    }
    int64_t at = 0;
    if (rc == SK_OK)
        rc = ca_store_record_revoke(h->ca->store, &at, &serial, reason, now_secs(), ra_pub,
                                    request_id);
    if (rc == SK_OK && h->revoked != NULL)
        h->revoked(h->revoked_ctx); /* committed: the CRL follows */
    switch (rc) {
    case SK_OK:
        rr->revocation_time = at;
        rep->op_case = SPLITKEY__CA__CA_REPLY__OP_REVOKE;
        rep->revoke = rr;
        set_result(sv, R(OK), "");
        return;
    case SK_ERR_NOT_FOUND: set_result(sv, R(NOT_FOUND), "no certificate with this serial"); return;
    case SK_ERR_PROTO_STATE: set_result(sv, R(ALREADY_REVOKED), "already revoked"); return;
    case SK_ERR_STORE_CONFLICT: set_result(sv, R(STALE), "request id already served"); return;
    default:
        sk_log_error("revoke %s: cannot record: %s", sv->serial, sk_svc_strerror(rc));
        set_result(sv, R(INTERNAL), "the revocation could not be recorded; nothing changed");
        return;
    }
}

/* ------------------------------------------------------ revocations */

/* The revocations of this RA's certificates after q->since.  The arrays
 * are the caller's (freed after the reply is packed). */
static void do_revocations(ca_handler *h, served *sv, Splitkey__Ca__CaReply *rep,
                           Splitkey__Ca__RevocationsReply *rr,
                           const Splitkey__Ca__RevocationsRequest *q, const uint8_t *ra_pub,
                           ca_revocation **rows, Splitkey__Ca__Revocation **items,
                           Splitkey__Ca__Revocation ***ptrs)
{
    size_t max = q->max == 0 || q->max > CA_REVOCATIONS_MAX ? CA_REVOCATIONS_MAX : q->max;
    size_t n = 0;
    if (q->since > (uint64_t)INT64_MAX) {
        set_result(sv, R(BAD_REQUEST), "revocations: since is out of range");
        return;
    }
    /* one more than asked for, to know whether there are more */
    int rc = ca_store_revocations_since(h->ca->store, rows, &n, ra_pub, q->since, max + 1);
    if (rc != SK_OK) {
        sk_log_error("revocations: cannot read: %s", sk_svc_strerror(rc));
        set_result(sv, R(INTERNAL), "cannot read the certificate database");
        return;
    }
    rr->more = n > max;
    if (n > max)
        n = max;
    *items = calloc(n ? n : 1, sizeof **items);
    *ptrs = calloc(n ? n : 1, sizeof **ptrs);
    if (*items == NULL || *ptrs == NULL) {
        set_result(sv, R(INTERNAL), "out of memory");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        ca_revocation *r = &(*rows)[i];
        Splitkey__Ca__Revocation *it = &(*items)[i];
        splitkey__ca__revocation__init(it);
        it->seq = r->seq;
        it->serial.data = r->serial.bytes;
        it->serial.len = r->serial.len;
        it->revocation_time = r->revocation_time;
        it->reason = (uint32_t)r->reason;
        it->by_ra = r->by_ra;
        it->person_id = r->person_id;
        it->purpose = r->profile == SK_CERT_AUTH_QUALIFIED || r->profile == SK_CERT_AUTH_BASIC
                          ? SPLITKEY__CA__PURPOSE__PURPOSE_AUTH
                          : SPLITKEY__CA__PURPOSE__PURPOSE_SIGN;
        (*ptrs)[i] = it;
    }
    rr->n_revocations = n;
    rr->revocations = *ptrs;
    snprintf(sv->serial, sizeof sv->serial, "%zu", n);
    rep->op_case = SPLITKEY__CA__CA_REPLY__OP_REVOCATIONS;
    rep->revocations = rr;
    set_result(sv, R(OK), "");
}

int ca_operator_revoke(ca_ctx *ca, int64_t *revoked_at, const sk_serial *serial,
                       sk_crl_reason reason)
{
    return ca_store_record_revoke(ca->store, revoked_at, serial, reason, now_secs(), NULL, NULL);
}

/* ------------------------------------------------------------ serve */

/* Packs rep and wraps it in a CaReplyEnvelope signed with the CA key over
 * CA_REPLY_SIG_CONTEXT || 0x00 || body. */
static int seal_reply(ca_handler *h, uint8_t **reply, size_t *reply_len,
                      const Splitkey__Ca__CaReply *rep)
{
    size_t cl = sizeof CA_REPLY_SIG_CONTEXT; /* with its NUL */
    size_t bl = splitkey__ca__ca_reply__get_packed_size(rep);
    uint8_t *m = malloc(cl + bl), *out = NULL;
    uint8_t sig[SK_CA_MSG_SIG_MAX];
    size_t sig_len = 0;
    if (m == NULL)
        return SK_ERR_NOMEM;
    memcpy(m, CA_REPLY_SIG_CONTEXT, cl);
    splitkey__ca__ca_reply__pack(rep, m + cl);
    pthread_mutex_lock(&h->ca->sign_mu);
    int rc = sk_ca_key_sign_message(h->ca->key, sig, sizeof sig, &sig_len, m, cl + bl);
    pthread_mutex_unlock(&h->ca->sign_mu);
    if (rc == SK_OK) {
        Splitkey__Ca__CaReplyEnvelope env = SPLITKEY__CA__CA_REPLY_ENVELOPE__INIT;
        env.version = CA_WIRE_VERSION;
        env.body.data = m + cl;
        env.body.len = bl;
        env.signature.data = sig;
        env.signature.len = sig_len;
        size_t n = splitkey__ca__ca_reply_envelope__get_packed_size(&env);
        if ((out = malloc(n ? n : 1)) == NULL) {
            rc = SK_ERR_NOMEM;
        } else {
            splitkey__ca__ca_reply_envelope__pack(&env, out);
            *reply = out;
            *reply_len = n;
        }
    }
    free(m);
    return rc;
}

/* Authenticates an issue or revoke request; sets the result on refusal. */
static bool authenticate(ca_handler *h, served *sv, const Splitkey__Ca__CaEnvelope *env,
                         const Splitkey__Ca__CaRequest *q)
{
    if (env->ra_pub.len != crypto_sign_PUBLICKEYBYTES ||
        env->signature.len != crypto_sign_BYTES) {
        set_result(sv, R(UNKNOWN_RA), "issue, revoke and revocations need a signed request "
                                      "from an RA");
        return false;
    }
    bool known = false;
    if (ca_store_ra_known(h->ca->store, &known, env->ra_pub.data) != SK_OK) {
        set_result(sv, R(INTERNAL), "cannot read the RA table");
        return false;
    }
    if (!known) {
        set_result(sv, R(UNKNOWN_RA), "this key is not a registered RA (splitkey-ca add-ra)");
        return false;
    }
    if (!signature_ok(env)) {
        set_result(sv, R(BAD_SIGNATURE), "the RA signature does not verify");
        return false;
    }
    unsigned skew = h->skew_secs ? h->skew_secs : CA_DEFAULT_SKEW_SECS;
    int64_t now = now_secs();
    if (q->time < now - (int64_t)skew || q->time > now + (int64_t)skew) {
        set_result(sv, R(STALE), "the request time is outside the CA's window");
        return false;
    }
    bool seen = true;
    if (ca_store_request_seen(h->ca->store, &seen, q->request_id.data) != SK_OK || seen) {
        set_result(sv, R(STALE), "request id already served");
        return false;
    }
    return true;
}

int ca_handle(void *ctx, const uint8_t *req, size_t req_len, uint8_t **reply, size_t *reply_len)
{
    ca_handler *h = ctx;
    uint64_t t0 = sk_clock_us();
    served sv = {.op = "unknown", .ra = "-", .serial = "-", .result = R(OK), .detail = ""};
    Splitkey__Ca__CaEnvelope *env = NULL;
    Splitkey__Ca__CaRequest *q = NULL;
    Splitkey__Ca__CaReply rep = SPLITKEY__CA__CA_REPLY__INIT;
    Splitkey__Ca__IssueReply ir = SPLITKEY__CA__ISSUE_REPLY__INIT;
    Splitkey__Ca__RevokeReply rr = SPLITKEY__CA__REVOKE_REPLY__INIT;
    Splitkey__Ca__StatusReply str = SPLITKEY__CA__STATUS_REPLY__INIT;
    Splitkey__Ca__CaCertReply cr = SPLITKEY__CA__CA_CERT_REPLY__INIT;
    Splitkey__Ca__RevocationsReply rvr = SPLITKEY__CA__REVOCATIONS_REPLY__INIT;
    ca_revocation *rv_rows = NULL;
    Splitkey__Ca__Revocation *rv_items = NULL, **rv_ptrs = NULL;
    static const uint8_t no_id[1] = {0};
    uint8_t *der = NULL;
    sk_serial serial;

    *reply = NULL;
    *reply_len = 0;
    env = splitkey__ca__ca_envelope__unpack(NULL, req_len, req);
    if (env == NULL || env->version != CA_WIRE_VERSION) {
        set_result(&sv, R(BAD_REQUEST), "not a version 1 CaEnvelope");
        goto reply;
    }
    if (env->ra_pub.len == crypto_sign_PUBLICKEYBYTES)
        sk_svc_hex(sv.ra, env->ra_pub.data, (sizeof sv.ra - 1) / 2);
    q = splitkey__ca__ca_request__unpack(NULL, env->body.len, env->body.data);
    if (q == NULL || q->version != CA_WIRE_VERSION || q->request_id.len != CA_REQUEST_ID_LEN) {
        set_result(&sv, R(BAD_REQUEST), "not a version 1 CaRequest with a 16-byte request id");
        goto reply;
    }
    rep.request_id = q->request_id;
    switch (q->op_case) {
    case SPLITKEY__CA__CA_REQUEST__OP_ISSUE:
        sv.op = "issue";
        if (!authenticate(h, &sv, env, q))
            break;
        der = malloc(SK_PKI_MAX_CERT_LEN);
        if (der == NULL) {
            set_result(&sv, R(INTERNAL), "out of memory");
            break;
        }
        do_issue(h, &sv, &rep, &ir, q->issue, env->ra_pub.data, q->request_id.data, der,
                 &serial);
        break;
    case SPLITKEY__CA__CA_REQUEST__OP_REVOKE:
        sv.op = "revoke";
        if (authenticate(h, &sv, env, q))
            do_revoke(h, &sv, &rep, &rr, q->revoke, env->ra_pub.data, q->request_id.data);
        break;
    case SPLITKEY__CA__CA_REQUEST__OP_REVOCATIONS:
        sv.op = "revocations";
        if (authenticate(h, &sv, env, q))
            do_revocations(h, &sv, &rep, &rvr, q->revocations, env->ra_pub.data, &rv_rows,
                           &rv_items, &rv_ptrs);
        break;
    case SPLITKEY__CA__CA_REQUEST__OP_STATUS: {
        sv.op = "status";
        sk_serial s;
        sk_cert_status st;
        if (!serial_from_wire(&s, &q->status->serial)) {
            set_result(&sv, R(BAD_REQUEST), "status: the serial is not a positive minimal integer");
            break;
        }
        hex_of(sv.serial, sizeof sv.serial, &s);
        if (ca_store_status(h->ca->store, &st, &s) != SK_OK) {
            set_result(&sv, R(INTERNAL), "cannot read the certificate database");
            break;
        }
        str.state = st.state == SK_CERT_GOOD      ? SPLITKEY__CA__CERT_STATE__CERT_GOOD
                    : st.state == SK_CERT_REVOKED ? SPLITKEY__CA__CERT_STATE__CERT_REVOKED
                                                  : SPLITKEY__CA__CERT_STATE__CERT_UNKNOWN;
        str.revocation_time = st.revocation_time;
        str.reason = (uint32_t)st.reason;
        rep.op_case = SPLITKEY__CA__CA_REPLY__OP_STATUS;
        rep.status = &str;
        break;
    }
    case SPLITKEY__CA__CA_REQUEST__OP_CA_CERT:
        sv.op = "ca-cert";
        cr.certificate.data = h->ca->cert_der;
        cr.certificate.len = h->ca->cert_len;
        rep.op_case = SPLITKEY__CA__CA_REPLY__OP_CA_CERT;
        rep.ca_cert = &cr;
        break;
    default:
        set_result(&sv, R(BAD_REQUEST), "no operation in the request");
        break;
    }

reply:
    if (rep.request_id.len == 0) {
        rep.request_id.data = (uint8_t *)no_id;
        rep.request_id.len = 0;
    }
    rep.version = CA_WIRE_VERSION;
    rep.result = sv.result;
    rep.detail = (char *)sv.detail;
    if (sv.result != R(OK))
        rep.op_case = SPLITKEY__CA__CA_REPLY__OP__NOT_SET;
    int rc = seal_reply(h, reply, reply_len, &rep);
    if (rc != SK_OK)
        sk_log_error("reply not signed: %s", sk_svc_strerror(rc));
    sk_log_notice("req op=%s ra=%s serial=%s result=%s us=%llu", sv.op, sv.ra, sv.serial,
                  result_name(sv.result), (unsigned long long)(sk_clock_us() - t0));
    if (q != NULL)
        splitkey__ca__ca_request__free_unpacked(q, NULL);
    if (env != NULL)
        splitkey__ca__ca_envelope__free_unpacked(env, NULL);
    free(der);
    free(rv_rows);
    free(rv_items);
    free(rv_ptrs);
    return rc;
}
