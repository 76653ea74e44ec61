/* SPDX-License-Identifier: Apache-2.0 */
/* devdrive.c - a device driving a running splitkey-server (devdrive.h). */
#define _POSIX_C_SOURCE 200809L
#include "devdrive.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "error_reply.h"
#include "req_client.h"
#include "server_pub.h"

uint64_t sk_dev_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000u, .tv_nsec = (long)(ms % 1000u) * 1000000L};
    nanosleep(&ts, NULL);
}

uint64_t sk_dev_now(const sk_dev *d) { return (uint64_t)((int64_t)time(NULL) + d->now_offset); }

int sk_dev_config_load_server_pub(sk_dev_config *cfg, const char *path)
{
    sk_server_pub pub;
    int rc = sk_server_pub_load(&pub, path);
    if (rc != SK_OK)
        return rc;
    memcpy(cfg->server_pub, pub.kx_pub, SK_KX_PUBLIC_LEN);
    memcpy(cfg->server_pub + SK_KX_PUBLIC_LEN, pub.sign_pub, SK_SIGN_PUBLIC_LEN);
    return SK_OK;
}

int sk_dev_open(sk_dev *d, const sk_dev_config *cfg, sk_purpose purpose)
{
    memset(d, 0, sizeof *d);
    d->cfg = cfg;
    d->purpose = purpose;
    d->pin = purpose == SK_PURPOSE_AUTH ? SK_DEV_PIN_AUTH : SK_DEV_PIN_SIGN; /* SIGN, SEAL: 5 */
    return sk_req_client_open(&d->c, cfg->url, cfg->timeout_ms, 0);
}

int sk_dev_reconnect(sk_dev *d)
{
    sk_req_client_close(d->c);
    d->c = NULL;
    return sk_req_client_open(&d->c, d->cfg->url, d->cfg->timeout_ms, 0);
}

void sk_dev_close(sk_dev *d)
{
    sk_device_key_free(d->key);
    d->key = NULL;
    sk_req_client_close(d->c);
    d->c = NULL;
    sodium_memzero(d->msg, sizeof d->msg);
    d->msg_len = 0;
}

int sk_dev_xcall(sk_dev *d, const char *tag, const uint8_t *msg, size_t len, uint8_t **rep,
                 size_t *rep_len)
{
    uint8_t *buf = malloc(len + 4);
    *rep = NULL;
    *rep_len = 0;
    if (buf == NULL)
        return SK_ERR_NOMEM;
    memcpy(buf, tag, 4);
    memcpy(buf + 4, msg, len);
    int rc = sk_req_client_call(d->c, rep, rep_len, buf, len + 4);
    sodium_memzero(buf, len + 4);
    free(buf);
    if (rc != SK_OK)
        return rc;
    int code = 0;
    if (sk_error_reply_decode(&code, *rep, *rep_len) == SK_OK) {
        free(*rep);
        *rep = NULL;
        *rep_len = 0;
        d->last_service_error = code;
        return code;
    }
    return SK_OK;
}

void sk_dev_free_reply(uint8_t *rep, size_t len)
{
    if (rep != NULL) {
        sodium_memzero(rep, len);
        free(rep);
    }
}

int sk_dev_transact(sk_dev *d, sk_dev_rebuild_fn rebuild, sk_dev_read_fn read, void *arg)
{
    uint64_t deadline = sk_dev_mono_us() + (uint64_t)d->cfg->give_up_s * 1000000u;
    for (;;) {
        uint8_t *rep = NULL;
        size_t rl = 0;
        int rc = sk_dev_xcall(d, "SKD1", d->msg, d->msg_len, &rep, &rl);
        if (rc == SK_OK) {
            rc = read(d, rep, rl, arg);
            sk_dev_free_reply(rep, rl);
            if (rc != SK_ERR_PROTO_REPLAY || rebuild == NULL)
                return rc;
            d->replays++;
        } else {
            d->failures++;
        }
        if (sk_dev_mono_us() > deadline)
            return rc;
        sleep_ms(50);
        if (rebuild != NULL) {
            rc = rebuild(d, arg);
            if (rc != SK_OK)
                return rc;
        }
    }
}

/* ------------------------------------------------------------- signing */

struct create_arg {
    const uint8_t *digest;
    const char *text;
    sk_device_session *session; /* out */
    sk_key_status *status;      /* out, may be NULL */
};

static int build_create(sk_dev *d, void *arg)
{
    struct create_arg *a = arg;
    return sk_device_session_create(d->key, d->msg, sizeof d->msg, &d->msg_len, sk_dev_now(d),
                                    a->digest, sk_hash_len(d->cfg->hash), d->cfg->hash,
                                    d->cfg->scheme, a->text);
}

/* A lost request or reply: the same request again (every request stays in
 * flight until its reply is read). */
static int build_resend(sk_dev *d, void *arg)
{
    (void)arg;
    return sk_device_retry(d->key, d->msg, sizeof d->msg, &d->msg_len, sk_dev_now(d), NULL, 0);
}

static int read_create(sk_dev *d, const uint8_t *rep, size_t rl, void *arg)
{
    struct create_arg *a = arg;
    return sk_device_read_session(d->key, &a->session, a->status, rep, rl);
}

struct approve_arg {
    const char *pin;
    uint8_t *sig;          /* out, SK_MAX_SIG_LEN bytes */
    size_t *sig_len;       /* out */
    sk_key_status *status; /* out, may be NULL */
};

static int build_retry(sk_dev *d, void *arg)
{
    struct approve_arg *a = arg;
    return sk_device_retry(d->key, d->msg, sizeof d->msg, &d->msg_len, sk_dev_now(d),
                           (const uint8_t *)a->pin, strlen(a->pin));
}

static int read_signature(sk_dev *d, const uint8_t *rep, size_t rl, void *arg)
{
    struct approve_arg *a = arg;
    return sk_device_read_signature(d->key, a->sig, SK_MAX_SIG_LEN, a->sig_len, a->status, rep,
                                    rl);
}

int sk_dev_approve_build(sk_dev *d, const sk_device_session *s, const char *pin)
{
    int rc = sk_device_approve(d->key, d->msg, sizeof d->msg, &d->msg_len, sk_dev_now(d), s,
                               (const uint8_t *)pin, strlen(pin));
    if (rc != SK_OK)
        sodium_memzero(d->msg, sizeof d->msg);
    return rc;
}

int sk_dev_approve_send(sk_dev *d, const char *pin, uint8_t *sig, size_t *sig_len,
                        sk_key_status *st)
{
    struct approve_arg a = {pin, sig, sig_len, st};
    int rc = sk_dev_transact(d, build_retry, read_signature, &a);
    sodium_memzero(d->msg, sizeof d->msg);
    return rc;
}

int sk_dev_approve(sk_dev *d, const sk_device_session *s, const char *pin, uint8_t *sig,
                   size_t *sig_len, sk_key_status *st)
{
    int rc = sk_dev_approve_build(d, s, pin);
    return rc != SK_OK ? rc : sk_dev_approve_send(d, pin, sig, sig_len, st);
}

int sk_dev_approve_choice(sk_dev *d, const sk_device_session *s, const char *pin, const char *vc,
                          int confirmed, uint8_t *sig, size_t *sig_len, sk_key_status *st)
{
    int rc = sk_device_approve_choice(d->key, d->msg, sizeof d->msg, &d->msg_len, sk_dev_now(d), s,
                                      (const uint8_t *)pin, strlen(pin), vc, confirmed);
    if (rc != SK_OK) {
        sodium_memzero(d->msg, sizeof d->msg);
        return rc;
    }
    return sk_dev_approve_send(d, pin, sig, sig_len, st);
}

int sk_dev_create(sk_dev *d, const uint8_t *digest, const char *text, sk_device_session **s,
                  sk_key_status *st)
{
    struct create_arg a = {digest, text, NULL, st};
    int rc = build_create(d, &a);
    if (rc == SK_OK)
        rc = sk_dev_transact(d, build_resend, read_create, &a);
    *s = a.session;
    return rc;
}

int sk_dev_sign(sk_dev *d, const uint8_t *digest, const char *pin, uint8_t *sig, size_t *sig_len,
                sk_key_status *st)
{
    sk_device_session *s = NULL;
    int rc = sk_dev_create(d, digest, "sk_drive", &s, st);
    if (rc == SK_OK)
        rc = sk_dev_approve(d, s, pin, sig, sig_len, st);
    sk_device_session_free(s);
    return rc;
}

/* ----------------------------------------------------------- enrolment */

int sk_dev_enrol(sk_dev *d, unsigned index)
{
    const sk_dev_config *cfg = d->cfg;
    sk_device_enrolment *e = NULL;
    uint8_t *rep = NULL;
    size_t rl = 0;
    char subject[256];
    snprintf(subject, sizeof subject, SK_DEV_SUBJECT_FMT, (unsigned)(cfg->run_tag % 1000000u),
             index);
    int rc = sk_device_enrol_start(&e, d->msg, sizeof d->msg, &d->msg_len, cfg->server_pub,
                                   sizeof cfg->server_pub, d->purpose, cfg->profile,
                                   (const uint8_t *)d->pin, strlen(d->pin), SK_KDF_MINIMUM,
                                   cfg->token, cfg->token ? NULL : cfg->subject ? cfg->subject
                                                                                : subject);
    if (rc == SK_OK) {
        uint64_t deadline = sk_dev_mono_us() + (uint64_t)cfg->give_up_s * 1000000u;
        while ((rc = sk_dev_xcall(d, "SKD1", d->msg, d->msg_len, &rep, &rl)) != SK_OK &&
               sk_dev_mono_us() < deadline) {
            d->failures++;
            sleep_ms(50);
        }
    }
    if (rc == SK_OK)
        rc = sk_device_enrol_continue(e, d->msg, sizeof d->msg, &d->msg_len, rep, rl);
    sk_dev_free_reply(rep, rl);
    rep = NULL;
    if (rc == SK_OK) {
        uint64_t deadline = sk_dev_mono_us() + (uint64_t)cfg->give_up_s * 1000000u;
        while ((rc = sk_dev_xcall(d, "SKD1", d->msg, d->msg_len, &rep, &rl)) != SK_OK &&
               sk_dev_mono_us() < deadline) {
            d->failures++;
            sleep_ms(50);
            rc = sk_device_enrol_retry(e, d->msg, sizeof d->msg, &d->msg_len);
            if (rc != SK_OK)
                break;
        }
    }
    sodium_memzero(d->msg, sizeof d->msg); /* EnrolSubmit carries ds */
    if (rc == SK_OK)
        rc = sk_device_enrol_finish(e, &d->key, rep, rl);
    sk_dev_free_reply(rep, rl);
    sk_device_enrolment_free(e);
    if (rc != SK_OK)
        return rc;
    uint8_t digest[64], sig[SK_MAX_SIG_LEN];
    size_t sig_len = 0;
    rc = sk_digest(digest, sk_hash_len(cfg->hash), cfg->hash, (const uint8_t *)"pop", 3);
    if (rc == SK_OK)
        rc = sk_dev_sign(d, digest, d->pin, sig, &sig_len, NULL);
    return rc;
}

/* ----------------------------------------------------------- key state */

static int read_state(sk_dev *d, const uint8_t *rep, size_t rl, void *arg)
{
    return sk_device_read_reply(d->key, arg, rep, rl);
}

static int build_state(sk_dev *d, void *arg)
{
    (void)arg;
    return sk_device_key_state_request(d->key, d->msg, sizeof d->msg, &d->msg_len, sk_dev_now(d));
}

int sk_dev_key_state(sk_dev *d, sk_key_status *st)
{
    int rc = build_state(d, NULL);
    return rc != SK_OK ? rc : sk_dev_transact(d, build_resend, read_state, st);
}
