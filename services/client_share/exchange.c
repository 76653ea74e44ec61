/* SPDX-License-Identifier: Apache-2.0 */
/*
 * exchange.c - the requests splitkey-client's commands send to the share
 * server (client.h): connecting at once, storing the state before a request
 * leaves, asking again with the same request id for a reply that does not
 * come, finishing a request an earlier run never got the reply to, and the
 * exchanges more than one command makes: approving a session, signing a
 * digest through a session of the device's own, fetching the waiting
 * sessions.
 */
#define _POSIX_C_SOURCE 200809L
#include "client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "splitkey/sign.h"
#include "splitkey/splitkey.h"
#include "svc_error.h"

/* ------------------------------------------------------------ exchanges */

/* Reads SPLITKEY_CLIENT_TIMEOUT_MS into *ms (CALL_TIMEOUT_MS when unset or
 * empty).  Returns 0, or -1 when it is not a whole number of milliseconds
 * from TIMEOUT_MIN_MS to TIMEOUT_MAX_MS. */
int cl_env_timeout(unsigned *ms)
{
    *ms = CALL_TIMEOUT_MS;
    const char *env = getenv(TIMEOUT_ENV);
    if (env == NULL || env[0] == '\0')
        return 0;
    if (env[0] < '0' || env[0] > '9')
        return -1;
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(env, &end, 10);
    if (errno != 0 || *end != '\0' || v < TIMEOUT_MIN_MS || v > TIMEOUT_MAX_MS)
        return -1;
    *ms = (unsigned)v;
    return 0;
}

/* The first connection of a command is made at once, so a server that is
 * not there is reported now (SK_SVC_ERR_CONNECT, the reason in c->err), not
 * after the reply timeout.  Once connected, a lost connection is dialled
 * again in the background and a request sent again reaches the restarted
 * server. */
int cl_connect_server(client *c)
{
    if (c->net != NULL)
        return SK_OK;
    unsigned timeout = CALL_TIMEOUT_MS;
    (void)cl_env_timeout(&timeout);
    char why[512];
    int rc = sk_req_client_connect(&c->net, c->url, timeout, 0, why, sizeof why);
    if (rc == SK_SVC_ERR_CONNECT)
        snprintf(c->err, sizeof c->err, "%s", why);
    else if (rc != SK_OK)
        snprintf(c->err, sizeof c->err, "server URL %s: %s", c->url, sk_svc_strerror(rc));
    return rc;
}

/* Stores the state (the request advanced the counter), sends c->msg and
 * waits for the reply in c->reply.  The request bytes are wiped. */
static int exchange(client *c)
{
    cl_drop_reply(c);
    /* connected first: a server that is not there leaves the state as it was */
    int rc = cl_connect_server(c);
    if (rc == SK_OK)
        rc = cl_save(c);
    if (rc == SK_OK)
        rc = cu_call(c->net, CU_FRAME_DEVICE, &c->reply, &c->reply_len, c->msg, c->msg_len);
    sk_wipe(c->msg, sizeof c->msg);
    /* The server asks for proof that the request in flight is fresh (it
     * saw that request id answered before, with another request after it,
     * which only a copy of this state makes): one more round with the
     * challenge, whose answer the caller reads as usual. */
    if (rc == SK_OK && c->key != NULL && sk_device_key_has_pending(c->key) &&
        sk_device_take_challenge(c->key, c->reply, c->reply_len) == SK_OK) {
        fprintf(stderr, PROG ": the server asked to confirm the request; sending it again\n");
        cl_drop_reply(c);
        rc = sk_device_retry(c->key, c->msg, sizeof c->msg, &c->msg_len, cl_now_s(),
                             c->have_pin ? c->pin.digits : NULL, c->have_pin ? c->pin.len : 0);
        if (rc == SK_OK)
            rc = cu_call(c->net, CU_FRAME_DEVICE, &c->reply, &c->reply_len, c->msg, c->msg_len);
        sk_wipe(c->msg, sizeof c->msg);
    }
    return rc;
}

bool cl_lost(int rc)
{
    return rc == SK_SVC_ERR_TIMEOUT || rc == SK_SVC_ERR_TRANSPORT;
}

/* Sends the request in flight (every request is one until its reply is
 * read): a reply that does not come - a lost connection, a server that
 * restarted - is asked for again with the same request id (sk_device_retry),
 * so the server answers from its stored reply (or handles it, if it never
 * saw it) and never takes the retry for a clone. */
int cl_exchange_pending(client *c)
{
    int rc = exchange(c);
    for (int i = 0; i < LOST_REPLY_RETRIES && cl_lost(rc); i++) {
        fprintf(stderr, PROG ": %s; sending the same request again\n", cu_strerror(rc));
        rc = sk_device_retry(c->key, c->msg, sizeof c->msg, &c->msg_len, cl_now_s(),
                             c->have_pin ? c->pin.digits : NULL, c->have_pin ? c->pin.len : 0);
        if (rc != SK_OK)
            break;
        rc = exchange(c);
    }
    return rc;
}

/* Reads the reply to a retried request whose kind the caller does not know:
 * each reader refuses, without touching the state, a reply that is not its
 * own. */
static int read_any_pending_reply(client *c)
{
    uint8_t sig[SK_MAX_SIG_LEN];
    size_t sig_len = 0;
    int rc = sk_device_read_signature(c->key, sig, sizeof sig, &sig_len, &c->status, c->reply,
                                      c->reply_len);
    if (rc == SK_OK) {
        memcpy(c->settled_sig, sig, sig_len);
        c->settled_sig_len = sig_len;
    }
    if (rc == SK_ERR_PROTO_STATE && sk_device_key_has_pending(c->key))
        rc = sk_device_read_reply(c->key, &c->status, c->reply, c->reply_len);
    if (rc == SK_ERR_PROTO_STATE && sk_device_key_has_pending(c->key)) {
        /* a session creation or a fetch: the sessions it lists are fetched
         * again by whatever command needs them */
        sk_device_session *list[SK_MAX_FETCH_SESSIONS] = {NULL};
        size_t n = 0;
        rc = sk_device_read_sessions(c->key, list, SK_MAX_FETCH_SESSIONS, &n, &c->status,
                                     c->reply, c->reply_len);
        for (size_t i = 0; i < n && i < SK_MAX_FETCH_SESSIONS; i++)
            sk_device_session_free(list[i]);
    }
    sk_wipe(sig, sizeof sig);
    return rc;
}

/* A request of an earlier run may still wait for its reply (the program was
 * stopped, or the server never answered): resend it with the same request id
 * and read what the server says before anything new is asked. */
int cl_settle_pending(client *c)
{
    if (!sk_device_key_has_pending(c->key))
        return SK_OK;
    sk_purpose purpose = sk_device_key_purpose(c->key);
    if (c->pin_on_demand && (!c->have_pin || c->pin_purpose != purpose)) {
        pin_wipe(&c->pin);
        c->have_pin = false;
        int prc = cl_get_pin(c, purpose, c->pin_file,
                             purpose == SK_PURPOSE_SIGN ? "PIN2 (to finish an earlier approval): "
                                                        : "PIN1 (to finish an earlier approval): ");
        if (prc != SK_OK)
            return SK_SVC_ERR_CONFIG;
    }
    int rc = sk_device_retry(c->key, c->msg, sizeof c->msg, &c->msg_len, cl_now_s(),
                             c->have_pin ? c->pin.digits : NULL, c->have_pin ? c->pin.len : 0);
    if (rc == SK_ERR_ARG) {
        snprintf(c->err, sizeof c->err,
                 "an earlier approval or revocation of this %s key never got its reply; "
                 "run a command that takes the PIN (sign, approve, revoke) to finish it",
                 devstate_purpose_name(sk_device_key_purpose(c->key)));
        return SK_SVC_ERR_CONFIG;
    }
    if (rc != SK_OK)
        return rc;
    fprintf(stderr, PROG ": an earlier request had no reply; sending it again first\n");
    c->settled_known =
        sk_device_key_pending_session(c->key, c->settled_sid, sizeof c->settled_sid) == SK_OK;
    c->settled_sig_len = 0;
    rc = cl_exchange_pending(c);
    if (rc != SK_OK)
        return rc;
    rc = read_any_pending_reply(c);
    c->settled_rc = rc;
    int src = cl_save(c);
    cl_drop_reply(c);
    /* The outcome of the earlier request is not this command's: only a
     * verdict on the key itself stops it here. */
    if (rc == SK_ERR_CLONE_DETECTED || rc == SK_ERR_DESTROYED || rc == SK_ERR_LOCKED ||
        rc == SK_ERR_WRONG_PIN)
        return rc;
    return src;
}

/* ------------------------------------------------------------ signing */

/* One session from approval to a verified signature: sig receives it.  The
 * state is stored after the request is built and after the reply is read. */
int cl_approve_session(client *c, const sk_device_session *s, uint8_t *sig, size_t *sig_len)
{
    *sig_len = 0;
    int rc = sk_device_approve(c->key, c->msg, sizeof c->msg, &c->msg_len, cl_now_s(), s,
                               c->pin.digits, c->pin.len);
    if (rc != SK_OK)
        return rc;
    rc = cl_exchange_pending(c);
    if (rc != SK_OK)
        return rc;
    rc = sk_device_read_signature(c->key, sig, SK_MAX_SIG_LEN, sig_len, &c->status, c->reply,
                                  c->reply_len);
    int src = cl_save(c);
    cl_drop_reply(c);
    if (rc != SK_OK)
        return rc;
    /* sk_device_read_signature() verified s under n over the session's
     * digest before returning it. */
    return src;
}

/* Refuses a session of this device's own making; best effort: the outcome
 * of the signing attempt is what the caller reports. */
static void withdraw_session(client *c, const sk_device_session *s)
{
    sk_key_status keep = c->status;
    if (sk_device_refuse(c->key, c->msg, sizeof c->msg, &c->msg_len, cl_now_s(), s) == SK_OK &&
        cl_exchange_pending(c) == SK_OK) {
        sk_key_status ignored;
        int rc = sk_device_read_reply(c->key, &ignored, c->reply, c->reply_len);
        (void)rc; /* an error reply moved the counters all the same: store */
        (void)cl_save(c);
    }
    cl_drop_reply(c);
    c->status = keep;
}

/* A device-initiated session over digest, approved at once with the PIN. */
int cl_sign_digest(client *c, const uint8_t *digest, sk_hash hash, sk_scheme scheme,
                   const char *text, uint8_t *sig, size_t *sig_len, char *code)
{
    sk_device_session *s = NULL;
    int rc = sk_device_session_create(c->key, c->msg, sizeof c->msg, &c->msg_len, cl_now_s(),
                                      digest, sk_hash_len(hash), hash, scheme, text);
    if (rc == SK_OK)
        rc = cl_exchange_pending(c);
    if (rc == SK_OK) {
        rc = sk_device_read_session(c->key, &s, &c->status, c->reply, c->reply_len);
        int src = cl_save(c);
        cl_drop_reply(c);
        if (rc == SK_OK)
            rc = src;
    }
    if (rc == SK_OK && code != NULL)
        snprintf(code, 5, "%s", sk_device_session_code(s));
    if (rc == SK_OK) {
        rc = cl_approve_session(c, s, sig, sig_len);
        /* A session this device opened for itself and could not complete
         * would wait in every 'sessions' listing until it expires: close it. */
        if (rc == SK_ERR_WRONG_PIN)
            withdraw_session(c, s);
    }
    /* the signature must verify under n over this digest */
    if (rc == SK_OK) {
        sk_pubkey *pub = NULL;
        rc = sk_device_key_pubkey(c->key, &pub);
        if (rc == SK_OK && sk_verify(pub, scheme, hash, digest, sk_hash_len(hash), sig,
                                     *sig_len) != SK_OK)
            rc = SK_ERR_BAD_SIGNATURE;
        sk_pubkey_free(pub);
    }
    sk_device_session_free(s);
    return rc;
}

/* ------------------------------------------------------------ sessions */

/* Fetches the sessions waiting for the loaded key.  out receives up to
 * SK_MAX_FETCH_SESSIONS sessions the caller frees. */
int cl_fetch_sessions(client *c, sk_device_session **out, size_t *count)
{
    *count = 0;
    int rc = cl_settle_pending(c);
    if (rc == SK_OK)
        rc = sk_device_fetch(c->key, c->msg, sizeof c->msg, &c->msg_len, cl_now_s());
    if (rc == SK_OK)
        rc = cl_exchange_pending(c);
    if (rc != SK_OK)
        return rc;
    rc = sk_device_read_sessions(c->key, out, SK_MAX_FETCH_SESSIONS, count, &c->status, c->reply,
                                 c->reply_len);
    int src = cl_save(c);
    cl_drop_reply(c);
    if (rc == SK_ERR_NOT_FOUND) {
        *count = 0;
        rc = SK_OK;
    }
    return rc != SK_OK ? rc : src;
}

void cl_free_sessions(sk_device_session **s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        sk_device_session_free(s[i]);
        s[i] = NULL;
    }
}
