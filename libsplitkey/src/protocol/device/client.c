/* SPDX-License-Identifier: Apache-2.0 */
/*
 * client.c - the device role's request/reply loop (client.h): the state is
 * persisted after a request is built and before it is sent, a failed
 * exchange is sent again with the same request id, a challenge is answered,
 * the reply is read and the state persisted again; a request an earlier run
 * left in flight is finished before anything new.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/device/device_internal.h"
#include "splitkey/client.h"

/* Challenges answered for one request before giving up (an honest server
 * asks at most once). */
#define MAX_CHALLENGES 2u

/* The share service's error frame (doc/operations.md). */
#define FRAME_MAGIC "SKE1"
#define FRAME_HEADER_LEN 10u

struct sk_client {
    sk_client_io io;
    void (*progress)(void *ctx, sk_client_step step, int code); /* may be NULL */
    const sk_progress *pin_progress; /* given to every key the client holds; may be NULL */
    uint8_t storage_key[SK_STORAGE_KEY_LEN]; /* secret */
    sk_device_key *key;
    sk_device_enrolment *enrolment; /* only during sk_client_enrol() */
    int persist_rc;                 /* the last persist's outcome */
    uint8_t msg[SK_MAX_MESSAGE_LEN]; /* the request to send (may hold ds or y) */
    size_t msg_len;
    uint8_t reply[SK_MAX_MESSAGE_LEN];
    size_t reply_len;
    uint8_t state[SK_MAX_MESSAGE_LEN]; /* the sealed state on its way to persist */
};

/* One request's round: how its reply is read and how it is sent again. */
typedef struct round {
    int (*read)(sk_client *c, void *arg); /* reads c->reply */
    int (*resend)(sk_client *c, const struct round *r); /* the same request again into c->msg */
    void *arg;
    const uint8_t *pin; /* an approval's or a revocation's resend: secret, not kept */
    size_t pin_len;
    int persist_first; /* the request is new: store the state that holds it first */
} round;

static uint64_t now_of(const sk_client *c)
{
    return c->io.now != NULL ? c->io.now(c->io.ctx) : 0;
}

static void tell(const sk_client *c, sk_client_step step, int code)
{
    if (c->progress != NULL)
        c->progress(c->io.ctx, step, code);
}

static void wipe_msg(sk_client *c)
{
    sodium_memzero(c->msg, sizeof c->msg);
    c->msg_len = 0;
}

static void wipe_reply(sk_client *c)
{
    sodium_memzero(c->reply, sizeof c->reply);
    c->reply_len = 0;
}

/* Seals the key's state and hands it to persist. */
static int persist(sk_client *c)
{
    size_t len = 0;
    int rc = sk_device_key_seal(c->key, c->state, sizeof c->state, &len, c->storage_key,
                                sizeof c->storage_key);
    if (rc == SK_OK) {
        rc = c->io.persist(c->io.ctx, c->state, len);
        if (rc > 0)
            rc = SK_ERR_ARG;
    }
    sodium_memzero(c->state, sizeof c->state);
    c->persist_rc = rc;
    return rc;
}

int sk_client_frame_code(int code)
{
    switch (code) {
    case SK_ERR_PROTO_DECODE:
    case SK_ERR_PROTO_AUTH:
    case SK_ERR_PROTO_VERSION:
    case SK_ERR_LIMIT:
    case SK_ERR_NOT_FOUND:
    case SK_ERR_STORE:
    case SK_ERR_STORE_BUSY:
    case SK_ERR_STORE_CONFLICT:
    case SK_ERR_INTERNAL:
    case SK_ERR_NOMEM:
    case SK_ERR_UNSUPPORTED:
        return code;
    default:
        return SK_ERR_PROTO_DECODE;
    }
}

/* Whether reply is the service's error frame; *code receives its code. */
static int is_error_frame(const uint8_t *reply, size_t len, int *code)
{
    if (len < FRAME_HEADER_LEN || memcmp(reply, FRAME_MAGIC, 4) != 0)
        return 0;
    size_t tl = (size_t)reply[8] << 8 | reply[9];
    if (len != FRAME_HEADER_LEN + tl)
        return 0;
    uint32_t v = (uint32_t)reply[4] << 24 | (uint32_t)reply[5] << 16 | (uint32_t)reply[6] << 8 |
                 (uint32_t)reply[7];
    int32_t s;
    memcpy(&s, &v, sizeof s);
    *code = s < 0 ? sk_client_frame_code((int)s) : SK_ERR_PROTO_DECODE;
    return 1;
}

/* An error frame's code after which the same request may go again (the
 * server ran no protocol step and may succeed next time). */
static int frame_retryable(int code)
{
    return code == SK_ERR_STORE || code == SK_ERR_STORE_BUSY || code == SK_ERR_STORE_CONFLICT ||
           code == SK_ERR_INTERNAL || code == SK_ERR_NOMEM;
}

/* Sends c->msg (wiped afterwards) and receives the reply in c->reply.
 * *retry tells whether the same request may be sent again after a failure. */
static int send_once(sk_client *c, int *retry)
{
    size_t len = 0;
    int rc = c->io.exchange(c->io.ctx, c->msg, c->msg_len, c->reply, sizeof c->reply, &len);
    wipe_msg(c);
    *retry = 1;
    if (rc > 0)
        rc = SK_ERR_ARG; /* not a code: the callback broke its contract */
    if (rc == SK_OK && len > sizeof c->reply)
        rc = SK_ERR_LIMIT;
    if (rc != SK_OK) {
        wipe_reply(c);
        return rc;
    }
    c->reply_len = len;
    int code = 0;
    if (is_error_frame(c->reply, c->reply_len, &code)) {
        wipe_reply(c);
        *retry = frame_retryable(code);
        return code;
    }
    return SK_OK;
}

/* Runs one request whose first message is in c->msg: persists the state
 * (a new request), exchanges, answers a challenge, sends again after a
 * failed exchange (at most io.retries times), reads the reply and persists
 * the state once the reply changed it.  Returns the reader's result, or
 * the error that kept the request in flight. */
static int run(sk_client *c, const round *r)
{
    int rc = SK_OK;
    unsigned failures = 0, challenges = 0;

    if (r->persist_first && c->key != NULL) {
        rc = persist(c);
        if (rc != SK_OK)
            goto out;
    }
    for (;;) {
        int retry = 0;
        int xrc = send_once(c, &retry);
        if (xrc == SK_OK) {
            uint64_t gen = c->key != NULL ? sk_device_key_generation(c->key) : 0;
            rc = r->read(c, r->arg);
            wipe_reply(c);
            if (rc == SK_ERR_PROTO_CHALLENGE && challenges < MAX_CHALLENGES) {
                /* nothing changed: the same request again, with the challenge */
                challenges++;
                tell(c, SK_CLIENT_STEP_CHALLENGE, rc);
                rc = r->resend(c, r);
                if (rc != SK_OK)
                    goto out;
                continue;
            }
            if (rc == SK_OK || (c->key != NULL && sk_device_key_generation(c->key) != gen)) {
                /* the reply was taken: store what it changed */
                if (c->key != NULL) {
                    int prc = persist(c);
                    if (rc == SK_OK)
                        rc = prc;
                }
                goto out;
            }
            /* A reply that does not open or names another request changed
             * nothing: as if it had been lost.  Any other error is the
             * answer (a plain error from the server, a refused enrolment). */
            if (rc != SK_ERR_PROTO_AUTH && rc != SK_ERR_PROTO_REPLAY)
                goto out;
            xrc = rc;
        } else if (!retry) {
            rc = xrc;
            goto out;
        }
        if (failures >= c->io.retries) {
            rc = xrc;
            goto out;
        }
        failures++;
        tell(c, SK_CLIENT_STEP_RESEND, xrc);
        rc = r->resend(c, r);
        if (rc != SK_OK)
            goto out;
    }
out:
    if (rc != SK_OK)
        wipe_msg(c);
    wipe_reply(c);
    return rc;
}

static int resend_key(sk_client *c, const round *r)
{
    return sk_device_retry(c->key, c->msg, sizeof c->msg, &c->msg_len, now_of(c), r->pin,
                           r->pin_len);
}

static int resend_enrol(sk_client *c, const round *r)
{
    (void)r;
    return sk_device_enrol_retry(c->enrolment, c->msg, sizeof c->msg, &c->msg_len);
}

/* ------------------------------------------------------------ the client */

int sk_client_new(sk_client **out, const sk_client_io *io, const uint8_t *storage_key,
                  size_t storage_key_len)
{
    if (out == NULL)
        return SK_ERR_ARG;
    *out = NULL;
    if (io == NULL || io->exchange == NULL || io->persist == NULL || storage_key == NULL ||
        storage_key_len != SK_STORAGE_KEY_LEN)
        return SK_ERR_ARG;
    sk_client *c = calloc(1, sizeof *c);
    if (c == NULL)
        return SK_ERR_NOMEM;
    c->io = *io;
    memcpy(c->storage_key, storage_key, SK_STORAGE_KEY_LEN);
    *out = c;
    return SK_OK;
}

int sk_client_load(sk_client *c, const uint8_t *state, size_t state_len)
{
    sk_device_key *k = NULL;
    if (c == NULL || state == NULL)
        return SK_ERR_ARG;
    int rc = sk_device_key_open(&k, state, state_len, c->storage_key, sizeof c->storage_key);
    if (rc != SK_OK)
        return rc;
    sk_device_key_free(c->key);
    c->key = k;
    sk_device_key_set_progress(k, c->pin_progress);
    return SK_OK;
}

void sk_client_free(sk_client *c)
{
    if (c == NULL)
        return;
    sk_device_key_free(c->key);
    sk_device_enrolment_free(c->enrolment);
    sodium_memzero(c, sizeof *c);
    free(c);
}

void sk_client_set_progress(sk_client *c, void (*progress)(void *ctx, sk_client_step step, int code))
{
    if (c != NULL)
        c->progress = progress;
}

void sk_client_set_pin_progress(sk_client *c, const sk_progress *progress)
{
    if (c == NULL)
        return;
    c->pin_progress = progress;
    if (c->key != NULL)
        sk_device_key_set_progress(c->key, progress);
}

const sk_device_key *sk_client_key(const sk_client *c)
{
    return c != NULL ? c->key : NULL;
}

static sk_client_request request_of(uint32_t kind)
{
    switch (kind) {
    case SKD_PENDING_SIGN:
        return SK_CLIENT_REQ_APPROVE;
    case SKD_PENDING_REVOKE:
        return SK_CLIENT_REQ_REVOKE;
    case SKD_PENDING_OTP:
        return SK_CLIENT_REQ_OTP_REFRESH;
    case SKD_PENDING_FETCH:
        return SK_CLIENT_REQ_FETCH;
    case SKD_PENDING_CREATE:
        return SK_CLIENT_REQ_CREATE;
    case SKD_PENDING_REFUSE:
        return SK_CLIENT_REQ_REFUSE;
    case SKD_PENDING_KEY_STATE:
        return SK_CLIENT_REQ_KEY_STATE;
    default:
        return SK_CLIENT_REQ_NONE;
    }
}

sk_client_request sk_client_pending(const sk_client *c)
{
    if (c == NULL || c->key == NULL)
        return SK_CLIENT_REQ_NONE;
    return request_of(c->key->pending_kind);
}

/* A new request may start: a key, nothing in flight. */
static int can_start(const sk_client *c)
{
    if (c->key == NULL || c->enrolment != NULL)
        return SK_ERR_PROTO_STATE;
    if (sk_device_key_has_pending(c->key))
        return SK_ERR_PROTO_STATE;
    return SK_OK;
}

/* ------------------------------------------------------------ readers */

typedef struct sig_read {
    uint8_t *sig;
    size_t cap;
    size_t *sig_len;
    sk_key_status *status;
} sig_read;

static int read_signature(sk_client *c, void *arg)
{
    sig_read *a = arg;
    return sk_device_read_signature(c->key, a->sig, a->cap, a->sig_len, a->status, c->reply,
                                    c->reply_len);
}

typedef struct sessions_read {
    sk_device_session **out;
    size_t cap;
    size_t *count;
    sk_key_status *status;
} sessions_read;

static int read_sessions(sk_client *c, void *arg)
{
    sessions_read *a = arg;
    return sk_device_read_sessions(c->key, a->out, a->cap, a->count, a->status, c->reply,
                                   c->reply_len);
}

static int read_reply(sk_client *c, void *arg)
{
    return sk_device_read_reply(c->key, arg, c->reply, c->reply_len);
}

static int read_resumed(sk_client *c, void *arg)
{
    sk_client_resumed *r = arg;
    switch (r->request) {
    case SK_CLIENT_REQ_APPROVE:
        return sk_device_read_signature(c->key, r->signature, sizeof r->signature,
                                        &r->signature_len, &r->status, c->reply, c->reply_len);
    case SK_CLIENT_REQ_FETCH:
    case SK_CLIENT_REQ_CREATE: {
        /* listed again by sk_client_fetch() when wanted */
        sk_device_session *list[SK_MAX_FETCH_SESSIONS] = {NULL};
        size_t n = 0;
        int rc = sk_device_read_sessions(c->key, list, SK_MAX_FETCH_SESSIONS, &n, &r->status,
                                         c->reply, c->reply_len);
        for (size_t i = 0; i < n && i < SK_MAX_FETCH_SESSIONS; i++)
            sk_device_session_free(list[i]);
        return rc;
    }
    default:
        return sk_device_read_reply(c->key, &r->status, c->reply, c->reply_len);
    }
}

static int read_enrol_continue(sk_client *c, void *arg)
{
    (void)arg;
    return sk_device_enrol_continue(c->enrolment, c->msg, sizeof c->msg, &c->msg_len, c->reply,
                                    c->reply_len);
}

static int read_enrol_finish(sk_client *c, void *arg)
{
    (void)arg;
    sk_device_key *k = NULL;
    int rc = sk_device_enrol_finish(c->enrolment, &k, c->reply, c->reply_len);
    if (rc == SK_OK) {
        c->key = k;
        sk_device_key_set_progress(k, c->pin_progress);
    }
    return rc;
}

/* ------------------------------------------------------------ operations */

int sk_client_resume(sk_client *c, const uint8_t *pin, size_t pin_len, sk_client_resumed *out)
{
    sk_client_resumed res;
    memset(&res, 0, sizeof res);
    if (out != NULL)
        memset(out, 0, sizeof *out);
    if (c == NULL || c->key == NULL || c->enrolment != NULL)
        return SK_ERR_PROTO_STATE;
    res.request = request_of(c->key->pending_kind);
    if (res.request == SK_CLIENT_REQ_NONE)
        return SK_OK;
    res.has_session = sk_device_key_pending_session(c->key, res.session_id,
                                                    sizeof res.session_id) == SK_OK;
    /* The state as loaded already holds the request: no persist before the
     * resend, which keeps its request id and one-time password. */
    round r = {read_resumed, resend_key, &res, pin, pin_len, 0};
    int rc = sk_device_retry(c->key, c->msg, sizeof c->msg, &c->msg_len, now_of(c), pin, pin_len);
    c->persist_rc = SK_OK;
    if (rc == SK_OK)
        rc = run(c, &r);
    else
        wipe_msg(c);
    if (!sk_device_key_has_pending(c->key)) {
        res.result = rc;
        rc = c->persist_rc;
    }
    if (out != NULL && rc == SK_OK)
        *out = res;
    sodium_memzero(&res, sizeof res);
    return rc;
}

int sk_client_enrol(sk_client *c, const sk_client_enrol_options *opt)
{
    if (c == NULL || opt == NULL || opt->server_pub == NULL || opt->pin == NULL)
        return SK_ERR_ARG;
    if (c->key != NULL || c->enrolment != NULL)
        return SK_ERR_PROTO_STATE;
    const sk_device_enrol_options p = {.server_pub = opt->server_pub,
                                       .server_pub_len = opt->server_pub_len,
                                       .purpose = opt->purpose,
                                       .profile = opt->profile,
                                       .pin = opt->pin,
                                       .pin_len = opt->pin_len,
                                       .kdf_cost = opt->kdf_cost,
                                       .token = opt->token,
                                       .subject = opt->subject,
                                       .progress = opt->progress};
    int rc = sk_device_enrol_start_opts(&c->enrolment, c->msg, sizeof c->msg, &c->msg_len, &p);
    if (rc == SK_OK) {
        /* Nothing to persist yet: EnrolInit, then EnrolSubmit (which
         * carries ds), then the new key's state. */
        round init = {read_enrol_continue, resend_enrol, NULL, NULL, 0, 0};
        rc = run(c, &init);
    }
    if (rc == SK_OK) {
        round submit = {read_enrol_finish, resend_enrol, NULL, NULL, 0, 0};
        rc = run(c, &submit);
    }
    wipe_msg(c);
    sk_device_enrolment_free(c->enrolment);
    c->enrolment = NULL;
    return rc;
}

int sk_client_fetch(sk_client *c, sk_device_session **out, size_t cap, size_t *count,
                    sk_key_status *status)
{
    if (c == NULL || out == NULL || count == NULL || cap == 0)
        return SK_ERR_ARG;
    *count = 0;
    int rc = can_start(c);
    if (rc == SK_OK)
        rc = sk_device_fetch(c->key, c->msg, sizeof c->msg, &c->msg_len, now_of(c));
    if (rc != SK_OK) {
        wipe_msg(c);
        return rc;
    }
    sessions_read a = {out, cap, count, status};
    round r = {read_sessions, resend_key, &a, NULL, 0, 1};
    rc = run(c, &r);
    if (rc == SK_ERR_NOT_FOUND && !sk_device_key_has_pending(c->key)) {
        /* the reply was read: no session waits */
        *count = 0;
        rc = c->persist_rc;
    }
    return rc;
}

/* Approves session: the request, its round, the signature. */
static int approve(sk_client *c, const sk_device_session *session, const uint8_t *pin,
                   size_t pin_len, const char *vc_chosen, int confirmed, uint8_t *sig, size_t cap,
                   size_t *sig_len, sk_key_status *status)
{
    int rc = sk_device_approve_choice(c->key, c->msg, sizeof c->msg, &c->msg_len, now_of(c),
                                      session, pin, pin_len, vc_chosen, confirmed);
    if (rc != SK_OK) {
        wipe_msg(c);
        return rc;
    }
    sig_read a = {sig, cap, sig_len, status};
    round r = {read_signature, resend_key, &a, pin, pin_len, 1};
    return run(c, &r);
}

int sk_client_approve(sk_client *c, const sk_device_session *session, const uint8_t *pin,
                      size_t pin_len, uint8_t *sig, size_t cap, size_t *sig_len,
                      sk_key_status *status)
{
    if (c == NULL || session == NULL || pin == NULL || sig == NULL || sig_len == NULL)
        return SK_ERR_ARG;
    *sig_len = 0;
    int rc = can_start(c);
    if (rc != SK_OK)
        return rc;
    return approve(c, session, pin, pin_len, NULL, 0, sig, cap, sig_len, status);
}

int sk_client_approve_choice(sk_client *c, const sk_device_session *session, const uint8_t *pin,
                             size_t pin_len, const char *vc_chosen, int confirmed, uint8_t *sig,
                             size_t cap, size_t *sig_len, sk_key_status *status)
{
    if (c == NULL || session == NULL || pin == NULL || sig == NULL || sig_len == NULL)
        return SK_ERR_ARG;
    *sig_len = 0;
    int rc = can_start(c);
    if (rc != SK_OK)
        return rc;
    return approve(c, session, pin, pin_len, vc_chosen, confirmed, sig, cap, sig_len, status);
}

/* A request whose reply sk_device_read_reply() reads; msg already built. */
static int run_plain(sk_client *c, int rc, sk_key_status *status)
{
    sk_key_status ignored;
    if (rc != SK_OK) {
        wipe_msg(c);
        return rc;
    }
    round r = {read_reply, resend_key, status != NULL ? status : &ignored, NULL, 0, 1};
    return run(c, &r);
}

int sk_client_refuse(sk_client *c, const sk_device_session *session, sk_key_status *status)
{
    return sk_client_refuse_at(c, session, SK_INTERACTION_NONE, status);
}

int sk_client_refuse_at(sk_client *c, const sk_device_session *session,
                        sk_interaction refused_at, sk_key_status *status)
{
    if (c == NULL || session == NULL)
        return SK_ERR_ARG;
    int rc = can_start(c);
    if (rc == SK_OK)
        rc = sk_device_refuse_at(c->key, c->msg, sizeof c->msg, &c->msg_len, now_of(c), session,
                                 refused_at);
    return run_plain(c, rc, status);
}

int sk_client_key_state(sk_client *c, sk_key_status *status)
{
    if (c == NULL || status == NULL)
        return SK_ERR_ARG;
    int rc = can_start(c);
    if (rc == SK_OK)
        rc = sk_device_key_state_request(c->key, c->msg, sizeof c->msg, &c->msg_len, now_of(c));
    return run_plain(c, rc, status);
}

int sk_client_otp_refresh(sk_client *c, sk_key_status *status)
{
    if (c == NULL)
        return SK_ERR_ARG;
    int rc = can_start(c);
    if (rc == SK_OK)
        rc = sk_device_otp_refresh(c->key, c->msg, sizeof c->msg, &c->msg_len, now_of(c));
    return run_plain(c, rc, status);
}

int sk_client_revoke(sk_client *c, const uint8_t *pin, size_t pin_len, sk_key_status *status)
{
    if (c == NULL || pin == NULL)
        return SK_ERR_ARG;
    int rc = can_start(c);
    if (rc == SK_OK)
        rc = sk_device_revoke(c->key, c->msg, sizeof c->msg, &c->msg_len, now_of(c), pin,
                              pin_len);
    if (rc != SK_OK) {
        wipe_msg(c);
        return rc;
    }
    sk_key_status ignored;
    round r = {read_reply, resend_key, status != NULL ? status : &ignored, pin, pin_len, 1};
    return run(c, &r);
}

int sk_client_sign(sk_client *c, const uint8_t *digest, size_t digest_len, sk_hash hash,
                   sk_scheme scheme, const char *display_text, const uint8_t *pin,
                   size_t pin_len, uint8_t *sig, size_t cap, size_t *sig_len, char *code,
                   sk_key_status *status)
{
    sk_device_session *s = NULL;
    size_t n = 0;
    sk_pubkey *pub = NULL;

    if (c == NULL || digest == NULL || pin == NULL || sig == NULL || sig_len == NULL)
        return SK_ERR_ARG;
    *sig_len = 0;
    if (code != NULL)
        code[0] = '\0';
    int rc = can_start(c);
    if (rc == SK_OK)
        rc = sk_device_session_create(c->key, c->msg, sizeof c->msg, &c->msg_len, now_of(c),
                                      digest, digest_len, hash, scheme, display_text);
    if (rc != SK_OK) {
        wipe_msg(c);
        return rc;
    }
    sessions_read a = {&s, 1, &n, status};
    round r = {read_sessions, resend_key, &a, NULL, 0, 1};
    rc = run(c, &r);
    if (rc != SK_OK)
        goto out;
    /* the session must be the one asked for */
    if (s == NULL || s->digest_len != digest_len || memcmp(s->digest, digest, digest_len) != 0 ||
        s->hash != hash || s->scheme != scheme) {
        rc = SK_ERR_PROTO_STATE;
        goto out;
    }
    if (code != NULL)
        memcpy(code, s->code, SKP_CODE_LEN + 1);
    rc = approve(c, s, pin, pin_len, NULL, 0, sig, cap, sig_len, status);
    if ((rc == SK_ERR_WRONG_PIN || rc == SK_ERR_CANCELLED) && !sk_device_key_has_pending(c->key)) {
        /* a session of the device's own that cannot complete (a wrong PIN,
         * or the PIN stretching cancelled before anything was sent):
         * withdrawn, so that it does not wait among the key's sessions */
        sk_key_status ignored;
        int wrc = sk_device_refuse(c->key, c->msg, sizeof c->msg, &c->msg_len, now_of(c), s);
        (void)run_plain(c, wrc, &ignored);
    }
    if (rc != SK_OK)
        goto out;
    /* sk_device_read_signature() verified it under n over the session's
     * digest, which is this one; checked here once more over the caller's */
    rc = sk_device_key_pubkey(c->key, &pub);
    if (rc == SK_OK && sk_verify(pub, scheme, hash, digest, digest_len, sig, *sig_len) != SK_OK)
        rc = SK_ERR_BAD_SIGNATURE;
out:
    if (rc != SK_OK && *sig_len > 0) {
        sodium_memzero(sig, *sig_len);
        *sig_len = 0;
    }
    sk_pubkey_free(pub);
    sk_device_session_free(s);
    return rc;
}
