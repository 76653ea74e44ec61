/* SPDX-License-Identifier: Apache-2.0 */
/* req_client.c - nng REQ request/reply with a timeout per call. */
#include "req_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "config.h"
#include "splitkey/splitkey.h"
#include "svc_error.h"

struct sk_req_client {
    nng_socket sock;
    unsigned timeout_ms;
    size_t max_reply;
};

static int map_nng(int rv)
{
    switch (rv) {
    case 0: return SK_OK;
    case NNG_ETIMEDOUT: return SK_SVC_ERR_TIMEOUT;
    case NNG_ENOMEM: return SK_ERR_NOMEM;
    default: return SK_SVC_ERR_TRANSPORT;
    }
}

static int open_client(sk_req_client **out, const char *url, unsigned timeout_ms,
                       size_t max_reply, int dial_flags, char *err, size_t err_cap)
{
    if (out == NULL || url == NULL)
        return SK_ERR_ARG;
    *out = NULL;
    if (sk_config_check_url(url) != SK_OK)
        return SK_SVC_ERR_CONFIG;
    sk_req_client *c = calloc(1, sizeof *c);
    if (c == NULL)
        return SK_ERR_NOMEM;
    c->timeout_ms = timeout_ms ? timeout_ms : SK_REQ_DEFAULT_TIMEOUT_MS;
    c->max_reply = max_reply ? max_reply : SK_REQ_DEFAULT_MAX_REPLY;
    int rv = nng_req0_open(&c->sock);
    if (rv != 0) {
        free(c);
        return map_nng(rv);
    }
    if ((rv = nng_socket_set_size(c->sock, NNG_OPT_RECVMAXSZ, c->max_reply)) != 0 ||
        (rv = nng_dial(c->sock, url, NULL, dial_flags)) != 0) {
        nng_close(c->sock);
        free(c);
        if (rv == NNG_EADDRINVAL || rv == NNG_ENOTSUP)
            return SK_SVC_ERR_CONFIG;
        if (rv == NNG_ENOMEM || (dial_flags & NNG_FLAG_NONBLOCK) != 0)
            return map_nng(rv);
        if (err != NULL && err_cap > 0) {
            /* nng's texts start with a capital: "Connection refused" */
            const char *why = nng_strerror(rv);
            snprintf(err, err_cap, "cannot connect to %s: %c%s", url,
                     why[0] >= 'A' && why[0] <= 'Z' ? why[0] - 'A' + 'a' : why[0],
                     why[0] != '\0' ? why + 1 : "");
        }
        return SK_SVC_ERR_CONNECT;
    }
    *out = c;
    return SK_OK;
}

int sk_req_client_open(sk_req_client **out, const char *url, unsigned timeout_ms,
                       size_t max_reply)
{
    return open_client(out, url, timeout_ms, max_reply, NNG_FLAG_NONBLOCK, NULL, 0);
}

int sk_req_client_connect(sk_req_client **out, const char *url, unsigned timeout_ms,
                          size_t max_reply, char *err, size_t err_cap)
{
    if (err != NULL && err_cap > 0)
        err[0] = '\0';
    /* without NNG_FLAG_NONBLOCK nng_dial returns once the first attempt
     * connected or failed; only after a success does the dialer keep
     * reconnecting in the background */
    return open_client(out, url, timeout_ms, max_reply, 0, err, err_cap);
}

int sk_req_client_call(sk_req_client *c, uint8_t **reply, size_t *reply_len, const uint8_t *req,
                       size_t req_len)
{
    return sk_req_client_call_ms(c, reply, reply_len, req, req_len, 0);
}

int sk_req_client_call_ms(sk_req_client *c, uint8_t **reply, size_t *reply_len,
                          const uint8_t *req, size_t req_len, unsigned timeout_ms)
{
    if (c == NULL || reply == NULL || reply_len == NULL || (req == NULL && req_len > 0))
        return SK_ERR_ARG;
    *reply = NULL;
    *reply_len = 0;
    nng_ctx ctx;
    nng_aio *aio = NULL;
    nng_msg *msg = NULL;
    int rv = nng_ctx_open(&ctx, c->sock);
    if (rv != 0)
        return map_nng(rv);
    if ((rv = nng_aio_alloc(&aio, NULL, NULL)) != 0 || (rv = nng_msg_alloc(&msg, 0)) != 0 ||
        (rv = nng_msg_append(msg, req, req_len)) != 0)
        goto out;
    nng_duration timeout = (nng_duration)(timeout_ms ? timeout_ms : c->timeout_ms);
    nng_aio_set_timeout(aio, timeout);
    nng_aio_set_msg(aio, msg);
    nng_ctx_send(ctx, aio);
    nng_aio_wait(aio);
    if ((rv = nng_aio_result(aio)) != 0)
        goto out; /* the message is still ours */
    msg = NULL;
    nng_aio_set_timeout(aio, timeout);
    nng_ctx_recv(ctx, aio);
    nng_aio_wait(aio);
    if ((rv = nng_aio_result(aio)) != 0)
        goto out;
    msg = nng_aio_get_msg(aio);
    size_t len = nng_msg_len(msg);
    uint8_t *buf = malloc(len ? len : 1);
    if (buf == NULL) {
        rv = NNG_ENOMEM;
        goto out;
    }
    memcpy(buf, nng_msg_body(msg), len);
    *reply = buf;
    *reply_len = len;
out:
    if (msg != NULL) {
        sk_wipe(nng_msg_body(msg), nng_msg_len(msg));
        nng_msg_free(msg);
    }
    if (aio != NULL)
        nng_aio_free(aio);
    nng_ctx_close(ctx);
    return map_nng(rv);
}

void sk_req_client_close(sk_req_client *c)
{
    if (c == NULL)
        return;
    nng_close(c->sock);
    free(c);
}

int sk_req_once(uint8_t **reply, size_t *reply_len, const char *url, unsigned timeout_ms,
                const uint8_t *req, size_t req_len)
{
    sk_req_client *c;
    int rc = sk_req_client_open(&c, url, timeout_ms, 0);
    if (rc != SK_OK)
        return rc;
    rc = sk_req_client_call(c, reply, reply_len, req, req_len);
    sk_req_client_close(c);
    return rc;
}
