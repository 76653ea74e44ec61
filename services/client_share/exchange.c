/* SPDX-License-Identifier: Apache-2.0 */
/*
 * exchange.c - splitkey-client over the device library's client layer
 * (splitkey/client.h, client.h): the layer keeps the order of every request
 * (stored before it leaves, sent again with the same request id when its
 * reply does not come, the reply read, stored again) and finishes what an
 * earlier run left in flight; this file gives it the program's transport
 * (connected at once, SPLITKEY_CLIENT_TIMEOUT_MS for each reply), its state
 * directory (devstate.c: the lock, the generation compare-and-swap, the
 * atomic write) and its messages.
 */
#define _POSIX_C_SOURCE 200809L
#include "client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "splitkey/splitkey.h"
#include "svc_error.h"

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
 * after the reply timeout, and before the layer stores a request.  Once
 * connected, a lost connection is dialled again in the background and a
 * request sent again reaches the restarted server. */
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

/* ------------------------------------------------------------ the layer's callbacks */

/* One device request ("SKD1" || req) and its reply as it came; the layer
 * decodes an error frame itself.  A timeout or a lost connection is
 * SK_SVC_ERR_TIMEOUT / SK_SVC_ERR_TRANSPORT, which the layer answers by
 * sending the same request again. */
int cl_io_exchange(void *ctx, const uint8_t *req, size_t req_len, uint8_t *reply,
                   size_t reply_cap, size_t *reply_len)
{
    client *c = ctx;
    uint8_t *r = NULL;
    size_t rl = 0;
    *reply_len = 0;
    int rc = cl_connect_server(c);
    if (rc == SK_OK)
        rc = cu_call_raw(c->net, CU_FRAME_DEVICE, &r, &rl, req, req_len, 0);
    if (rc == SK_OK && rl > reply_cap)
        rc = SK_ERR_LIMIT;
    if (rc == SK_OK) {
        memcpy(reply, r, rl);
        *reply_len = rl;
    }
    cu_reply_free(r, rl);
    return rc;
}

/* The sealed state, written over the state this command loaded or last
 * wrote, or nothing (SK_SVC_ERR_STALE): devstate_save_sealed(). */
int cl_io_persist(void *ctx, const uint8_t *state, size_t state_len)
{
    client *c = ctx;
    const sk_device_key *key = cl_key(c);
    if (key == NULL)
        return SK_ERR_ARG;
    int rc = devstate_save_sealed(&c->st, sk_device_key_purpose(key),
                                  sk_device_key_generation(key), state, state_len);
    if (rc != SK_OK)
        snprintf(c->err, sizeof c->err, "cannot write the device state in %s: %s", c->st.dir,
                 sk_svc_strerror(rc));
    return rc;
}

uint64_t cl_io_now(void *ctx)
{
    (void)ctx;
    return cl_now_s();
}

void cl_io_progress(void *ctx, sk_client_step step, int code)
{
    const client *c = ctx;
    if (step == SK_CLIENT_STEP_CHALLENGE && c->enrolling)
        fprintf(stderr, PROG ": an earlier enrolment with this token never finished; "
                        "starting again\n");
    else if (step == SK_CLIENT_STEP_CHALLENGE)
        fprintf(stderr, PROG ": the server asked to confirm the request; sending it again\n");
    else
        fprintf(stderr, PROG ": %s; sending %s again\n", cu_strerror(code),
                c->enrolling ? "the enrolment" : "the same request");
}

/* ------------------------------------------------------------ requests */

/* A request of an earlier run may still wait for its reply (the program was
 * stopped, or the server never answered): the layer sends it again with the
 * same request id and reads what the server says before anything new is
 * asked.  An approval or a revocation needs the PIN again. */
int cl_settle_pending(client *c)
{
    sk_client_request req = sk_client_pending(c->sk);
    if (req == SK_CLIENT_REQ_NONE)
        return SK_OK;
    sk_purpose purpose = sk_device_key_purpose(cl_key(c));
    bool needs_pin = req == SK_CLIENT_REQ_APPROVE || req == SK_CLIENT_REQ_REVOKE;
    if (needs_pin && c->pin_on_demand && (!c->have_pin || c->pin_purpose != purpose)) {
        pin_wipe(&c->pin);
        c->have_pin = false;
        int prc = cl_get_pin(c, purpose, c->pin_file,
                             purpose == SK_PURPOSE_SIGN   ? "PIN2 (to finish an earlier approval): "
                             : purpose == SK_PURPOSE_SEAL ? "Seal PIN (to finish an earlier approval): "
                                                          : "PIN1 (to finish an earlier approval): ");
        if (prc != SK_OK)
            return SK_SVC_ERR_CONFIG;
    }
    if (needs_pin && !c->have_pin) {
        snprintf(c->err, sizeof c->err,
                 "an earlier approval or revocation of this %s key never got its reply; "
                 "run a command that takes the PIN (sign, approve, revoke) to finish it",
                 devstate_purpose_name(purpose));
        return SK_SVC_ERR_CONFIG;
    }
    int rc = cl_connect_server(c);
    if (rc != SK_OK)
        return rc;
    fprintf(stderr, PROG ": an earlier request had no reply; sending it again first\n");
    rc = sk_client_resume(c->sk, c->have_pin ? c->pin.digits : NULL,
                          c->have_pin ? c->pin.len : 0, &c->settled);
    if (rc != SK_OK)
        return rc;
    c->status = c->settled.status;
    /* The outcome of the earlier request is not this command's: only a
     * verdict on the key itself stops it here. */
    rc = c->settled.result;
    if (rc == SK_ERR_CLONE_DETECTED || rc == SK_ERR_DESTROYED || rc == SK_ERR_LOCKED ||
        rc == SK_ERR_WRONG_PIN)
        return rc;
    return SK_OK;
}

/* Fetches the sessions waiting for the loaded key.  out receives up to
 * SK_MAX_FETCH_SESSIONS sessions the caller frees. */
int cl_fetch_sessions(client *c, sk_device_session **out, size_t *count)
{
    *count = 0;
    int rc = cl_settle_pending(c);
    if (rc == SK_OK)
        rc = cl_connect_server(c);
    if (rc == SK_OK)
        rc = sk_client_fetch(c->sk, out, SK_MAX_FETCH_SESSIONS, count, &c->status);
    return rc;
}

void cl_free_sessions(sk_device_session **s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        sk_device_session_free(s[i]);
        s[i] = NULL;
    }
}
