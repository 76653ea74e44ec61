/* SPDX-License-Identifier: Apache-2.0 */
/*
 * splitkey-rp - a relying party: asks the share server for a
 * person's signature or authentication, shows the verification code at once,
 * waits for the person to confirm it on the device, and checks the result.
 *
 *   splitkey-rp sign --server URL --person ID --purpose sign --in FILE
 *                    --out SIG [--scheme pkcs1|pss] [--hash H] [--text "..."]
 *                    [--cert-out CERT.pem] [--pub PUB.pem] [--timeout SEC]
 *   splitkey-rp auth --server URL --person ID [--cert-out CERT.pem]
 *                    [--pub PUB.pem] [--timeout SEC]
 *
 * The person id is what the share server indexes keys by: the
 * serialNumber of the registered subject (e.g. PNOLV-010101-12345).  The
 * signature is verified before the program reports success, under the key
 * of the certificate the server returns or, when the server has no CA, under
 * the public key given with --pub.
 *
 * A relying party that gives up - --timeout passed, or SIGINT / SIGTERM
 * while it waits - cancels the session (SessionCancel, bounded by
 * CANCEL_TIMEOUT_MS), so the person is not asked to approve what nobody
 * waits for any more.
 *
 * Exit status: 0 ok, 2 usage, 4 key locked, 5 key destroyed, 6 refused,
 * expired, cancelled or no answer within --timeout, 7 certificate invalid
 * (chain, dates, key usage, policy, person; --ca-cert), 8 certificate
 * revoked (OCSP), 9 OCSP unknown or unavailable, 130 interrupted by
 * SIGINT or SIGTERM, 1 anything else (including a signature that does not
 * verify).
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "command.h"
#include "cliutil.h"
#include "config.h"
#include "fileio.h"
#include "req_client.h"
#include "rp_api.h"
#include "rp_check.h"
#include "rp_web.h"
#include "splitkey/pki.h"
#include "splitkey/rp.h"
#include "splitkey/sign.h"
#include "splitkey/splitkey.h"
#include "svc_error.h"

#define PROG "splitkey-rp"
#define CALL_TIMEOUT_MS 10000u
#define POLL_INTERVAL_MS 300u /* the least time between two polls */
#define POLL_WAIT_MS 10000u    /* how long a poll lets the server hold the answer */
#define DEFAULT_TIMEOUT_S 150u
#define CANCEL_TIMEOUT_MS 2000u /* the bound on the cancel sent when giving up */
#define STOP_CHECK_MS 20u       /* how often a wait looks for a stop signal */
#define EXIT_INTERRUPTED 130    /* 128 + SIGINT, as a shell shows an interrupt */

typedef struct rp_opts {
    char *server, *person, *key_id, *purpose, *in, *out, *scheme, *hash, *text, *cert_out, *pub,
        *name, *ca_cert, *api, *server_cert, *server_cert_sha256, *rp_cert, *rp_key,
        *rp_uuid, *document;
    unsigned timeout, ocsp_timeout;
    uint8_t key_id_bin[SK_KEY_ID_LEN]; /* --key-id, decoded */
    char *level, *interaction;         /* --level, --interaction */
    sk_rp_create_ext ext;              /* decoded */
} rp_opts;

/* Who the session is for, as the messages name it. */
static const char *who(const rp_opts *o)
{
    return o->person != NULL ? o->person : o->key_id != NULL ? o->key_id : o->document;
}

#define usage_error(...) cu_usage_error(PROG, __VA_ARGS__)

static uint64_t now_s(void)
{
    return (uint64_t)time(NULL);
}

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ------------------------------------------------------------- stopping */

/* SIGINT or SIGTERM while a session is open: its number, set by the handler.
 * The waiting loop sees it, cancels the session and exits 130. */
static volatile sig_atomic_t stop_signal;

static void on_stop(int sig) { stop_signal = sig; }

/* on: SIGINT and SIGTERM set stop_signal, once (SA_RESETHAND: a second one
 * has its default effect, so a second Ctrl-C ends a cancel that hangs).
 * !on: the defaults again. */
static void catch_stop(bool on)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on ? on_stop : SIG_DFL;
    sa.sa_flags = on ? SA_RESETHAND : 0;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* One call made on a thread of its own: a signal does not end a call that
 * waits inside nng, so the main thread waits for the call or the signal. */
typedef struct rp_call {
    sk_req_client *net;
    uint8_t req[SK_MAX_MESSAGE_LEN];
    size_t req_len;
    unsigned timeout_ms;
    int rc;
    uint8_t *reply;
    size_t reply_len;
    atomic_int done;
} rp_call;

/* A call still under way when a signal ended the wait: left to its thread,
 * which the program's exit ends. */
static rp_call *left_call;

static void *call_main(void *arg)
{
    rp_call *c = arg;
    c->rc = cu_call_ms(c->net, CU_FRAME_RP, &c->reply, &c->reply_len, c->req, c->req_len,
                       c->timeout_ms);
    atomic_store(&c->done, 1);
    return NULL;
}

/* cu_call_ms() that gives way to a stop signal: *stopped is true (and
 * nothing else is returned) when stop_signal was set before the reply came. */
static int call_stoppable(sk_req_client *net, uint8_t **reply, size_t *reply_len,
                          const uint8_t *req, size_t req_len, unsigned timeout_ms, bool *stopped)
{
    pthread_t t;
    sigset_t block, old;
    *reply = NULL;
    *reply_len = 0;
    *stopped = false;
    rp_call *c = calloc(1, sizeof *c);
    if (c == NULL || req_len > sizeof c->req) {
        free(c);
        return SK_ERR_NOMEM;
    }
    c->net = net;
    memcpy(c->req, req, req_len);
    c->req_len = req_len;
    c->timeout_ms = timeout_ms;
    atomic_init(&c->done, 0);
    /* the signals go to this thread, whose sleeps they cut short */
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    int prc = pthread_create(&t, NULL, call_main, c);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (prc != 0) {
        free(c);
        return cu_call_ms(net, CU_FRAME_RP, reply, reply_len, req, req_len, timeout_ms);
    }
    while (!atomic_load(&c->done) && !stop_signal)
        sleep_ms(STOP_CHECK_MS);
    if (!atomic_load(&c->done)) {
        pthread_detach(t);
        left_call = c;
        *stopped = true;
        return SK_OK;
    }
    pthread_join(t, NULL);
    int rc = c->rc;
    *reply = c->reply;
    *reply_len = c->reply_len;
    free(c);
    return rc;
}

/* Tells the server this relying party no longer waits for the session
 * (SessionCancel), within CANCEL_TIMEOUT_MS: the device is not offered it
 * any more.  *out: the session's state as the server answers (a session
 * that ended first keeps its state: COMPLETE with the signature when the
 * person approved).  Returns SK_OK or why the cancel did not go through. */
static int cancel_session(sk_req_client *net, const sk_rp_created *created, sk_rp_result *out,
                          sk_key_status *st)
{
    uint8_t req[128], *reply = NULL;
    size_t req_len = 0, reply_len = 0;
    int rc = sk_rp_cancel_request(req, sizeof req, &req_len, created->session_id,
                                  sizeof created->session_id);
    if (rc == SK_OK)
        rc = cu_call_ms(net, CU_FRAME_RP, &reply, &reply_len, req, req_len, CANCEL_TIMEOUT_MS);
    if (rc == SK_OK)
        rc = sk_rp_read_result(out, st, reply, reply_len);
    cu_reply_free(reply, reply_len);
    if (rc == SK_OK &&
        memcmp(out->session_id, created->session_id, sizeof created->session_id) != 0)
        rc = SK_ERR_PROTO_DECODE; /* an answer for another session */
    return rc;
}

static const char *state_name(sk_session_state state)
{
    switch (state) {
    case SK_SESSION_COMPLETE:
        return "signed";
    case SK_SESSION_REFUSED:
        return "refused";
    case SK_SESSION_EXPIRED:
        return "expired";
    case SK_SESSION_CANCELLED:
        return "cancelled";
    case SK_SESSION_WRONG_VC:
        return "wrong verification code";
    default:
        return "pending";
    }
}

/* Exit status and message for an error the server sent about the key or
 * the session. */
static int report(int rc, const sk_key_status *st, const char *what)
{
    char when[40];
    switch (rc) {
    case SK_ERR_NOT_FOUND:
        fprintf(stderr, PROG ": %s: the server knows no such person with a key of this "
                        "purpose\n", what);
        return CU_EXIT_FAIL;
    case SK_ERR_LOCKED:
        cu_time(when, sizeof when, st->locked_until);
        fprintf(stderr, PROG ": %s: the person's key is locked until %s\n", what, when);
        return CU_EXIT_LOCKED;
    case SK_ERR_DESTROYED:
    case SK_ERR_CLONE_DETECTED:
        fprintf(stderr, PROG ": %s: the person's key is destroyed\n", what);
        return CU_EXIT_DESTROYED;
    case SK_ERR_NOT_ACTIVE:
        fprintf(stderr, PROG ": %s: the person's key is not active yet\n", what);
        return CU_EXIT_FAIL;
    case SK_ERR_SESSION_EXPIRED:
        fprintf(stderr, PROG ": %s: the session expired before the person answered\n", what);
        return CU_EXIT_SESSION;
    case SK_ERR_SESSION_REFUSED:
        fprintf(stderr, PROG ": %s: the person refused\n", what);
        return CU_EXIT_SESSION;
    case SK_ERR_SESSION_UNKNOWN:
        fprintf(stderr, PROG ": %s: the server no longer knows the session\n", what);
        return CU_EXIT_SESSION;
    case SK_ERR_SESSION_CANCELLED:
        fprintf(stderr, PROG ": %s: the session was cancelled (the server saw no poll from "
                        "this relying party for too long)\n", what);
        return CU_EXIT_SESSION;
    case SK_ERR_WRONG_VC:
        fprintf(stderr, PROG ": %s: the person picked a wrong verification code; the session "
                        "ended\n", what);
        return CU_EXIT_SESSION;
    case SK_SVC_ERR_RP_REFUSED:
        fprintf(stderr, PROG ": %s: %s (the server runs without --legacy-rp): use --api\n",
                what, sk_svc_strerror(rc));
        return CU_EXIT_FAIL;
    case SK_ERR_LEVEL:
        fprintf(stderr, PROG ": %s: the person has no key of the certificate level asked for "
                        "(--level)\n", what);
        return CU_EXIT_FAIL;
    default:
        fprintf(stderr, PROG ": %s: %s\n", what, cu_strerror(rc));
        return CU_EXIT_FAIL;
    }
}

/* The key to verify under: --pub when given (the key the relying party
 * registered), else the certificate's key. */
static int verification_key(sk_pubkey **pub, const rp_opts *o, const uint8_t *certificate,
                            size_t cert_len)
{
    *pub = NULL;
    if (o->pub != NULL) {
        int rc = cu_read_pubkey(pub, o->pub);
        if (rc != SK_OK)
            fprintf(stderr, PROG ": --pub %s: not an RSA public key (%s)\n", o->pub,
                    sk_svc_strerror(rc));
        return rc;
    }
    if (cert_len == 0) {
        fprintf(stderr, PROG ": cannot verify the signature: the server has no certificate "
                        "for this key; give its public key with --pub PUB.pem\n");
        return SK_ERR_NOT_FOUND;
    }
    sk_cert *cert = NULL;
    int rc = sk_cert_parse(&cert, certificate, cert_len);
    if (rc == SK_OK)
        rc = sk_cert_pubkey(cert, pub);
    sk_cert_free(cert);
    if (rc != SK_OK)
        fprintf(stderr, PROG ": the certificate from the server is unusable (%s)\n",
                sk_strerror(rc));
    return rc;
}

/* The certificate checks of --ca-cert (rp_check.h), with the report
 * lines.  Returns the exit status: 0, 7 (invalid), 8 (revoked), 9 (OCSP),
 * 1 (could not check). */
static int rp_validate(const rp_opts *o, sk_purpose purpose, const uint8_t *cert,
                       size_t cert_len)
{
    rp_check_opts co = {
        .ca_cert = o->ca_cert,
        .purpose = purpose,
        .person = o->person,
        .advanced = o->level != NULL && strcmp(o->level, "advanced") == 0,
        .ocsp_timeout_ms = o->ocsp_timeout * 1000u,
    };
    rp_check_info info;
    char why[512] = "", until[40], upd[40];
    int rc = rp_check_cert(&co, cert, cert_len, (int64_t)time(NULL), &info, why, sizeof why);
    if (rc != RP_CHECK_OK) {
        fprintf(stderr, PROG ": certificate %s%s%s refused: %s\n", info.serial,
                info.subject[0] ? " of " : "", info.subject, why);
        return rc;
    }
    cu_time(until, sizeof until, (uint64_t)info.not_after);
    cu_time(upd, sizeof upd, (uint64_t)info.this_update);
    printf("certificate %s of %s: chains to the CA, valid until %s, %s; OCSP %s: good "
           "(thisUpdate %s, nonce echoed)\n",
           info.serial, info.subject, until,
           co.advanced ? "policy qualified or advanced" : "qualified policy", info.ocsp_url,
           upd);
    return CU_EXIT_OK;
}

/* The end of every successful session, on either transport: the signature
 * must verify (under --pub or the certificate's key), the certificate must
 * pass --ca-cert's checks, and only then are --out and --cert-out written.
 * Returns the exit status. */
static int finish(const rp_opts *o, sk_purpose purpose, const uint8_t *digest, sk_hash hash,
                  sk_scheme scheme, const uint8_t *sig, size_t sig_len, const uint8_t *cert,
                  size_t cert_len, bool is_auth)
{
    sk_pubkey *pub = NULL;
    int exit_code = CU_EXIT_FAIL, rc;
    if (verification_key(&pub, o, cert, cert_len) != SK_OK)
        goto out;
    if (sk_verify(pub, scheme, hash, digest, sk_hash_len(hash), sig, sig_len) != SK_OK) {
        fprintf(stderr, PROG ": the signature from the server does NOT verify under %s\n",
                o->pub ? o->pub : "the certificate's key");
        goto out;
    }
    /* --ca-cert: the certificate must be valid for this purpose and person,
     * and not revoked (rp_check.h). */
    if (o->ca_cert != NULL &&
        (exit_code = rp_validate(o, purpose, cert, cert_len)) != CU_EXIT_OK)
        goto out;
    exit_code = CU_EXIT_FAIL;
    if (o->out != NULL) {
        rc = sk_file_write_atomic(o->out, sig, sig_len, SK_FILE_PUBLIC_MODE, 0);
        if (rc != SK_OK) {
            fprintf(stderr, PROG ": --out %s: %s\n", o->out, sk_svc_strerror(rc));
            goto out;
        }
    }
    if (o->cert_out != NULL) {
        if (cert_len == 0) {
            printf("no certificate: the server has none for this key (%s not written)\n",
                   o->cert_out);
        } else {
            rc = cu_write_pem(o->cert_out, "CERTIFICATE", cert, cert_len);
            if (rc != SK_OK) {
                fprintf(stderr, PROG ": --cert-out %s: %s\n", o->cert_out, sk_svc_strerror(rc));
                goto out;
            }
        }
    }
    if (is_auth)
        printf("authenticated %s: the signature over a fresh challenge verified under the "
               "key's public key (%u bits)\n",
               who(o), sk_pubkey_bits(pub));
    else
        printf("signed by %s: the signature verified under the key's public key (%u bits)%s%s\n",
               who(o), sk_pubkey_bits(pub), o->out ? "; written to " : "",
               o->out ? o->out : "");
    exit_code = CU_EXIT_OK;
out:
    sk_pubkey_free(pub);
    return exit_code;
}

/* The session over the HTTPS/JSON API (--api, rp_api.h): creates it,
 * prints the verification code computed here from the digest, long-polls
 * until COMPLETE or --timeout, and ends like the frame path (finish()).
 * The v2 API has no cancel: a relying party that gives up just stops
 * polling.  Returns the exit status. */
static int run_api_session(const rp_opts *o, sk_purpose purpose, const uint8_t *digest,
                           sk_hash hash, const char *text, bool is_auth)
{
    rp_api *a = NULL;
    rp_api_result *r = calloc(1, sizeof *r);
    char why[512] = "", sid[128], code[5];
    int exit_code = CU_EXIT_FAIL;
    if (r == NULL)
        return CU_EXIT_FAIL;
    rp_api_conf conf = {
        .url = o->api,
        .server_cert = o->server_cert,
        .server_cert_sha256 = o->server_cert_sha256,
        .rp_cert = o->rp_cert,
        .rp_key = o->rp_key,
        .uuid = o->rp_uuid,
        .name = o->name,
    };
    int rc = rp_api_new(&a, &conf, why, sizeof why);
    if (rc != 0) {
        exit_code = rc == CU_EXIT_USAGE ? usage_error("%s", why) : CU_EXIT_FAIL;
        if (rc != CU_EXIT_USAGE)
            fprintf(stderr, PROG ": %s\n", why);
        goto out;
    }
    rp_api_create c = {
        .purpose = purpose,
        .person = o->document != NULL ? NULL : o->person,
        .document = o->document,
        .digest = digest,
        .hash = hash,
        .text = text,
        .advanced = o->level != NULL && strcmp(o->level, "advanced") == 0,
        .interaction = o->interaction,
    };
    rc = rp_api_start(a, &c, sid, sizeof sid, why, sizeof why);
    if (rc != 0) {
        fprintf(stderr, PROG ": create the session: %s\n", why);
        exit_code = rc;
        goto out;
    }
    rp_api_vc(code, digest, sk_hash_len(hash));
    printf("session %s for %s\n"
           "verification code: %s\n"
           "waiting for the person to check the code and confirm with %s\n",
           sid, who(o), code, purpose == SK_PURPOSE_SIGN ? "PIN2" : "PIN1");
    fflush(stdout);
    uint64_t deadline_ms = mono_ms() + (uint64_t)o->timeout * 1000u;
    for (;;) {
        uint64_t now = mono_ms();
        if (now >= deadline_ms) {
            fprintf(stderr, PROG ": no answer within %u s%s%s\n", o->timeout,
                    why[0] ? ": " : "", why);
            exit_code = CU_EXIT_SESSION;
            goto out;
        }
        uint64_t left = deadline_ms - now;
        unsigned wait = left < POLL_WAIT_MS ? (unsigned)left : POLL_WAIT_MS;
        uint64_t start = mono_ms();
        why[0] = '\0';
        rc = rp_api_poll(a, sid, wait, r, why, sizeof why);
        if (rc == CU_EXIT_SESSION) {
            fprintf(stderr, PROG ": wait for the answer: %s\n", why);
            exit_code = rc;
            goto out;
        }
        if (rc == 0 && r->complete)
            break;
        /* RUNNING, or a transport error: poll again, no sooner than
         * POLL_INTERVAL_MS after the last one began */
        uint64_t took = mono_ms() - start;
        if (took < POLL_INTERVAL_MS)
            sleep_ms(POLL_INTERVAL_MS - (unsigned)took);
    }
    if (strcmp(r->end_result, "OK") != 0) {
        const char *what;
        exit_code = rp_api_end_exit(r->end_result, &what);
        fprintf(stderr, PROG ": session: %s (%s)\n", what, r->end_result);
        goto out;
    }
    if (r->sig_hash != hash) {
        fprintf(stderr, PROG ": the server signed with another hash than the one asked for\n");
        goto out;
    }
    if (r->document[0] != '\0')
        printf("document number %s, certificate level %s%s%s\n", r->document,
               r->level[0] ? r->level : "?", r->interaction[0] ? ", interaction " : "",
               r->interaction);
    exit_code = finish(o, purpose, digest, hash, r->scheme, r->sig, r->sig_len, r->cert,
                       r->cert_len, is_auth);
out:
    rp_api_free(a);
    free(r);
    return exit_code;
}

/* Creates the session, prints the code, waits for the answer and verifies
 * the signature.  Returns the exit status. */
static int run_session(const rp_opts *o, sk_purpose purpose, const uint8_t *digest, sk_hash hash,
                       sk_scheme scheme, const char *text, bool is_auth)
{
    uint8_t req[SK_MAX_MESSAGE_LEN];
    size_t req_len = 0;
    uint8_t *reply = NULL;
    size_t reply_len = 0;
    sk_req_client *net = NULL;
    sk_key_status st;
    sk_rp_created created;
    sk_rp_result *res = calloc(1, sizeof *res);
    int exit_code = CU_EXIT_FAIL;
    char hex[2 * SK_SESSION_ID_LEN + 1], when[40];
    memset(&st, 0, sizeof st);
    if (res == NULL)
        return CU_EXIT_FAIL;

    sk_rp_create c = {
        .person_id = o->key_id != NULL ? NULL : o->person,
        .key_id = o->key_id != NULL ? o->key_id_bin : NULL,
        .purpose = purpose,
        .digest = digest,
        .hash = hash,
        .scheme = scheme,
        .display_text = text,
        .rp_name = o->name,
    };
    int rc = sk_rp_create_request_ext(req, sizeof req, &req_len, &c, &o->ext);
    if (rc != SK_OK) {
        exit_code = usage_error("the request is not valid (%s): check --person or --key-id, "
                                "--text and --name (length, control characters)",
                                sk_strerror(rc));
        goto out;
    }
    /* connected at once: a server that is not there is reported now, not
     * after the reply timeout; later polls reach a restarted server */
    char why[512];
    rc = sk_req_client_connect(&net, o->server, CALL_TIMEOUT_MS, 0, why, sizeof why);
    if (rc == SK_SVC_ERR_CONNECT) {
        fprintf(stderr, PROG ": %s\n", why);
        goto out;
    }
    if (rc != SK_OK) {
        exit_code = usage_error("--server %s: %s", o->server, sk_svc_strerror(rc));
        goto out;
    }
    /* From here on SIGINT and SIGTERM cancel the session before the program
     * ends (a signal during this create call is seen once it returns). */
    catch_stop(true);
    rc = cu_call(net, CU_FRAME_RP, &reply, &reply_len, req, req_len);
    if (rc == SK_OK)
        rc = sk_rp_read_created(&created, &st, reply, reply_len);
    cu_reply_free(reply, reply_len);
    reply = NULL;
    if (rc != SK_OK) {
        exit_code = report(rc, &st, "create the session");
        goto out;
    }
    /* The code is a function of the digest (rp_api_vc): a server that
     * shows the person another code gets no session. */
    char want[5];
    rp_api_vc(want, digest, sk_hash_len(hash));
    if (strcmp(want, created.code) != 0) {
        fprintf(stderr, PROG ": the server's verification code %s is not the one of this "
                        "document's digest (%s); the session is cancelled\n",
                created.code, want);
        if (cancel_session(net, &created, res, &st) != SK_OK)
            fprintf(stderr, PROG ": the cancel did not go through\n");
        goto out;
    }
    cu_hex(hex, created.session_id, sizeof created.session_id);
    cu_time(when, sizeof when, created.expires_at);
    printf("session %s for %s\n"
           "verification code: %s\n"
           "waiting for the person to check the code and confirm with %s (until %s)\n",
           hex, who(o), created.code,
           purpose == SK_PURPOSE_SIGN   ? "PIN2"
           : purpose == SK_PURPOSE_SEAL ? "the seal PIN"
                                        : "PIN1",
           when);
    fflush(stdout);

    /* Wait for the answer: long-poll (the server holds each poll up to
     * POLL_WAIT_MS, capped by what is left of --timeout, and answers as soon
     * as the session is no longer pending) until the session is no longer
     * pending, it expired, or --timeout passed.  A poll answered at once
     * (an older server, or all its workers busy) is repeated no sooner than
     * POLL_INTERVAL_MS later.  Each poll runs on a thread of its own so that
     * a stop signal is acted on at once. */
    uint64_t deadline = now_s() + o->timeout;
    uint64_t deadline_ms = mono_ms() + (uint64_t)o->timeout * 1000u;
    int last_err = SK_OK;
    bool timed_out = false;
    while (!stop_signal) {
        uint64_t start = mono_ms();
        uint64_t left = deadline_ms > start ? deadline_ms - start : 0;
        uint32_t wait = left < POLL_WAIT_MS ? (uint32_t)left : POLL_WAIT_MS;
        /* The call may take the wait longer than others, but ends about a
         * second after --timeout at the latest. */
        uint64_t call_ms = (uint64_t)wait + CALL_TIMEOUT_MS;
        if (call_ms > left + 1000u)
            call_ms = left + 1000u;
        bool stopped = false;
        rc = sk_rp_poll_wait_request(req, sizeof req, &req_len, created.session_id,
                                     sizeof created.session_id, wait);
        if (rc == SK_OK)
            rc = call_stoppable(net, &reply, &reply_len, req, req_len, (unsigned)call_ms,
                                &stopped);
        if (stopped)
            break;
        if (rc == SK_OK)
            rc = sk_rp_read_result(res, &st, reply, reply_len);
        cu_reply_free(reply, reply_len);
        reply = NULL;
        if (rc == SK_OK &&
            (memcmp(res->session_id, created.session_id, sizeof created.session_id) != 0 ||
             (res->code[0] != '\0' && strcmp(res->code, created.code) != 0))) {
            fprintf(stderr, PROG ": the server answered for another session\n");
            goto out;
        }
        if (rc == SK_OK && res->state != SK_SESSION_PENDING)
            break;
        if (rc != SK_OK && rc != SK_SVC_ERR_TIMEOUT && rc != SK_SVC_ERR_TRANSPORT) {
            exit_code = report(rc, &st, "wait for the answer");
            goto out;
        }
        last_err = rc;
        if (now_s() >= deadline) {
            timed_out = true;
            break;
        }
        uint64_t took = mono_ms() - start;
        if (took < POLL_INTERVAL_MS && !stop_signal)
            sleep_ms(POLL_INTERVAL_MS - (unsigned)took); /* a signal ends it early */
    }
    if (timed_out && !stop_signal) {
        /* Nobody answered in time: the session is cancelled, unless the
         * person answered just now (then that answer stands). */
        if (last_err != SK_OK)
            fprintf(stderr, PROG ": %s\n", cu_strerror(last_err));
        rc = cancel_session(net, &created, res, &st);
        if (rc != SK_OK || res->state == SK_SESSION_CANCELLED ||
            res->state == SK_SESSION_PENDING) {
            if (rc != SK_OK)
                fprintf(stderr, PROG ": no answer within %u s; the session could not be "
                                "cancelled (%s)\n", o->timeout, cu_strerror(rc));
            else
                fprintf(stderr, PROG ": no answer within %u s; the session is cancelled\n",
                        o->timeout);
            exit_code = CU_EXIT_SESSION;
            goto out;
        }
    }
    /* From here a signal has its default effect again; one that came
     * before is acted on now. */
    catch_stop(false);
    if (stop_signal) {
        /* Interrupted: nobody waits for the answer any more. */
        const char *sig = stop_signal == SIGINT ? "SIGINT" : "SIGTERM";
        rc = cancel_session(net, &created, res, &st);
        if (rc != SK_OK)
            fprintf(stderr, PROG ": interrupted (%s); the session %s could not be cancelled "
                            "(%s): the server stops offering it once it sees no poll for a "
                            "while\n", sig, hex, cu_strerror(rc));
        else if (res->state == SK_SESSION_CANCELLED)
            fprintf(stderr, PROG ": interrupted (%s); the session %s is cancelled\n", sig, hex);
        else
            fprintf(stderr, PROG ": interrupted (%s); the session %s had ended already (%s); "
                            "nothing written\n", sig, hex, state_name(res->state));
        exit_code = EXIT_INTERRUPTED;
        goto out;
    }
    if (res->state == SK_SESSION_REFUSED) {
        exit_code = report(SK_ERR_SESSION_REFUSED, &st, "session");
        goto out;
    }
    if (res->state == SK_SESSION_EXPIRED) {
        exit_code = report(SK_ERR_SESSION_EXPIRED, &st, "session");
        goto out;
    }
    if (res->state == SK_SESSION_CANCELLED) {
        exit_code = report(SK_ERR_SESSION_CANCELLED, &st, "session");
        goto out;
    }
    if (res->state == SK_SESSION_WRONG_VC) {
        exit_code = report(SK_ERR_WRONG_VC, &st, "session");
        goto out;
    }

    /* COMPLETE: the signature and certificate are checked before anything
     * is reported or written. */
    exit_code = finish(o, purpose, digest, hash, scheme, res->signature, res->sig_len,
                       res->certificate, res->cert_len, is_auth);
    goto out;
out:
    catch_stop(false);
    free(res);
    if (left_call == NULL)
        sk_req_client_close(net); /* else a poll still uses it: the exit ends both */
    return exit_code;
}

static int parse(sk_opt *opts, int argc, char **argv, const char *synopsis, const char *about,
                 int *exit_code)
{
    return cu_parse_options(PROG, opts, NULL, argc, argv, synopsis, about, exit_code);
}

/* In every command's --help: --server is the deprecated transport. */
#define LEGACY_NOTE                                                                            \
    "--server speaks the old relying-party frames on the device socket (deprecated):\n"       \
    "the server must run with --legacy-rp.  Prefer --api (the HTTPS API)."

#define COMMON_OPTS(o)                                                                          \
    {.name = "server", .type = SK_OPT_URL, .value = &(o).server, .arg = "URL",                  \
     .help = "the share server's device socket, e.g. tcp://127.0.0.1:7300 (deprecated: "  \
             "needs a server run with --legacy-rp; use --api)"},                             \
    {.name = "api", .type = SK_OPT_STRING, .value = &(o).api, .arg = "URL",                     \
     .help = "the share server's HTTPS relying-party API, e.g. https://127.0.0.1:8443/v2/"},    \
    {.name = "server-cert", .type = SK_OPT_FILE, .value = &(o).server_cert, .arg = "PINNED.pem",\
     .help = "--api: the server's TLS certificate; no other is accepted"},                      \
    {.name = "server-cert-sha256", .type = SK_OPT_STRING, .value = &(o).server_cert_sha256,     \
     .arg = "HEX", .help = "--api: or the SHA-256 of the server's certificate (DER)"},          \
    {.name = "rp-cert", .type = SK_OPT_FILE, .value = &(o).rp_cert, .arg = "CERT.pem",          \
     .help = "--api: this relying party's TLS client certificate"},                             \
    {.name = "rp-key", .type = SK_OPT_FILE, .value = &(o).rp_key, .arg = "KEY.pem",             \
     .help = "--api: its private key"},                                                         \
    {.name = "rp-uuid", .type = SK_OPT_STRING, .value = &(o).rp_uuid, .arg = "UUID",            \
     .help = "--api: this relying party's UUID (splitkey-server rp add)"},                      \
    {.name = "document", .type = SK_OPT_STRING, .value = &(o).document, .arg = "NUMBER",        \
     .help = "--api: ask exactly this key, by its document number (or --person; both: the "    \
             "key must be that person's)"},                                                     \
    {.name = "person", .type = SK_OPT_STRING, .value = &(o).person, .arg = "ID",                \
     .help = "the person's id, e.g. PNOLV-010101-12345 (or --key-id)"},                          \
    {.name = "key-id", .type = SK_OPT_STRING, .value = &(o).key_id, .arg = "HEX",               \
     .help = "the key's id, 32 hex digits, as splitkey-client status shows it (or --person; "  \
             "both: the key must be that person's)"},  \
    {.name = "cert-out", .type = SK_OPT_STRING, .value = &(o).cert_out, .arg = "CERT.pem",      \
     .help = "write the key's certificate here (when the server has one)"},                     \
    {.name = "pub", .type = SK_OPT_FILE, .value = &(o).pub, .arg = "PUB.pem",                   \
     .help = "verify under this public key (default: the certificate's)"},                      \
    {.name = "scheme", .type = SK_OPT_STRING, .value = &(o).scheme, .arg = "pkcs1|pss",         \
     .help = "signature scheme (default pss)"},                                                 \
    {.name = "hash", .type = SK_OPT_STRING, .value = &(o).hash, .arg = "H",                     \
     .help = "sha256 (default), sha384 or sha512"},                                             \
    {.name = "text", .type = SK_OPT_STRING, .value = &(o).text, .arg = "TEXT",                  \
     .help = "what the device shows the person"},                                               \
    {.name = "name", .type = SK_OPT_STRING, .value = &(o).name, .arg = "NAME",                  \
     .help = "the relying party's name shown on the device (default splitkey-rp)"},             \
    {.name = "timeout", .type = SK_OPT_UINT, .value = &(o).timeout, .min = 1, .max = 3600,      \
     .arg = "SEC", .help = "give up, cancelling the session, after SEC seconds (default 150)"},  \
    {.name = "ca-cert", .type = SK_OPT_FILE, .value = &(o).ca_cert, .arg = "CA.pem",            \
     .help = "validate the certificate: chain to this CA, dates, key usage, policy, person, "  \
             "OCSP (exit 7, 8, 9)"},                                                            \
    {.name = "ocsp-timeout", .type = SK_OPT_UINT, .value = &(o).ocsp_timeout, .min = 1,         \
     .max = 300, .arg = "SEC", .help = "how long to wait for the OCSP responder (default 10)"},  \
    {.name = "level", .type = SK_OPT_STRING, .value = &(o).level, .arg = "LEVEL",               \
     .help = "the least certificate level accepted: qualified or advanced (default: any is "   \
             "asked for, qualified is what --ca-cert accepts)"},                                \
    {.name = "interaction", .type = SK_OPT_STRING, .value = &(o).interaction, .arg = "I",        \
     .help = "how the device asks: displayTextAndPIN (text up to 60 characters), "                \
             "verificationCodeChoice, confirmationMessage (up to 200), or "                      \
             "confirmationMessageAndVerificationCodeChoice"}

static int prepare(rp_opts *o, sk_scheme *scheme, sk_hash *hash)
{
    if (o->person == NULL && o->key_id == NULL && o->document == NULL)
        return usage_error("name the key with --person ID or --key-id HEX (--document NUMBER "
                           "with --api)");
    if (o->document != NULL && (o->api == NULL || o->key_id != NULL))
        return usage_error("--document goes with --api, --key-id with --server");
    if (o->key_id != NULL && o->api != NULL)
        return usage_error("--key-id goes with --server; with --api name the key by "
                           "--document NUMBER");
    if (o->person != NULL && (o->key_id != NULL || o->document != NULL) && o->ca_cert == NULL)
        return usage_error("--person with --key-id names the person the key must belong to: "
                           "give --ca-cert too");
    if ((o->server == NULL) == (o->api == NULL))
        return usage_error("name the share server with one of --server URL and --api URL");
    if (o->api != NULL && o->ca_cert == NULL)
        return usage_error("--api needs --ca-cert CA.pem: the certificate is always validated");
    if (o->api == NULL && (o->server_cert || o->server_cert_sha256 || o->rp_cert || o->rp_key ||
                           o->rp_uuid))
        return usage_error("--server-cert, --server-cert-sha256, --rp-cert, --rp-key and "
                           "--rp-uuid go with --api");
    if (o->ca_cert != NULL && o->pub != NULL)
        return usage_error("--ca-cert validates the certificate's key: leave out --pub");
    if (o->ca_cert != NULL) {
        char why[512];
        if (rp_check_ca_file(o->ca_cert, why, sizeof why) != RP_CHECK_OK)
            return usage_error("%s", why);
    }
    if (o->key_id != NULL && (strlen(o->key_id) != 2 * SK_KEY_ID_LEN ||
                              cu_unhex(o->key_id_bin, sizeof o->key_id_bin, o->key_id) != 0))
        return usage_error("--key-id %s: use the 32 hex digits of the key id", o->key_id);
    *scheme = SK_SCHEME_PSS;
    *hash = SK_HASH_SHA256;
    if (o->scheme != NULL && sk_scheme_parse(scheme, o->scheme) != SK_OK)
        return usage_error("--scheme %s: use pkcs1 or pss", o->scheme);
    if (o->hash != NULL && sk_hash_parse(hash, o->hash) != SK_OK)
        return usage_error("--hash %s: use sha256, sha384 or sha512", o->hash);
    if (o->level != NULL) {
        if (strcmp(o->level, "qualified") == 0)
            o->ext.certificate_level = SK_CERT_LEVEL_QUALIFIED;
        else if (strcmp(o->level, "advanced") == 0)
            o->ext.certificate_level = SK_CERT_LEVEL_ADVANCED;
        else
            return usage_error("--level %s: use qualified or advanced", o->level);
    }
    if (o->interaction != NULL) {
        static const char *const names[] = {
            NULL, "displayTextAndPIN", "verificationCodeChoice", "confirmationMessage",
            "confirmationMessageAndVerificationCodeChoice"};
        size_t i = 1;
        while (i < sizeof names / sizeof names[0] && strcmp(o->interaction, names[i]) != 0)
            i++;
        if (i == sizeof names / sizeof names[0])
            return usage_error("--interaction %s: use displayTextAndPIN, verificationCodeChoice, "
                               "confirmationMessage or "
                               "confirmationMessageAndVerificationCodeChoice",
                               o->interaction);
        o->ext.interaction = (sk_interaction)i;
    }
    if (sk_init() != SK_OK) {
        fprintf(stderr, PROG ": cannot initialise libsplitkey\n");
        return CU_EXIT_FAIL;
    }
    return 0;
}

static int cmd_sign(int argc, char **argv)
{
    rp_opts o = {.timeout = DEFAULT_TIMEOUT_S, .ocsp_timeout = 10};
    char default_name[] = "splitkey-rp";
    o.name = default_name;
    sk_opt opts[] = {
        COMMON_OPTS(o),
        {.name = "purpose", .type = SK_OPT_STRING, .value = &o.purpose, .flags = SK_OPT_REQUIRED,
         .arg = "sign", .help = "the key to ask for: sign (qualified signature), auth, or seal "
                                "(an organisation's seal; --person is its "
                                "organizationIdentifier)"},
        {.name = "in", .type = SK_OPT_FILE, .value = &o.in, .flags = SK_OPT_REQUIRED,
         .arg = "FILE", .help = "the document to have signed"},
        {.name = "out", .type = SK_OPT_STRING, .value = &o.out, .flags = SK_OPT_REQUIRED,
         .arg = "SIG", .help = "where to write the verified signature"},
        {0},
    };
    int exit_code = CU_EXIT_OK;
    if (parse(opts, argc, argv,
              "sign --server URL|--api URL --person ID|--key-id HEX --purpose sign --in FILE --out SIG "
              "[OPTIONS]",
              "Asks the person for a signature over FILE: prints the verification code,\n"
              "waits for the answer, verifies the signature and writes it.\n" LEGACY_NOTE,
              &exit_code) != 0)
        goto done;
    sk_purpose purpose;
    sk_scheme scheme;
    sk_hash hash;
    uint8_t digest[SK_MAX_HASH_LEN];
    char text[SK_MAX_DISPLAY_TEXT_LEN + 1];
    if (!strcmp(o.purpose, "sign")) {
        purpose = SK_PURPOSE_SIGN;
    } else if (!strcmp(o.purpose, "auth")) {
        purpose = SK_PURPOSE_AUTH;
    } else if (!strcmp(o.purpose, "seal")) {
        purpose = SK_PURPOSE_SEAL;
    } else {
        exit_code = usage_error("--purpose %s: use sign, auth or seal", o.purpose);
        goto done;
    }
    if ((exit_code = prepare(&o, &scheme, &hash)) != 0)
        goto done;
    int rc = cu_hash_file(digest, hash, o.in);
    if (rc != SK_OK) {
        exit_code = usage_error("--in %s: %s", o.in, sk_svc_strerror(rc));
        goto done;
    }
    if (o.text != NULL) {
        snprintf(text, sizeof text, "%s", o.text);
    } else {
        const char *base = strrchr(o.in, '/');
        snprintf(text, sizeof text, "Sign %s", base ? base + 1 : o.in);
    }
    if (o.api != NULL && purpose == SK_PURPOSE_SEAL)
        exit_code = usage_error("--api: seals go over --server");
    else if (o.api != NULL)
        exit_code = run_api_session(&o, purpose, digest, hash, text, false);
    else
        exit_code = run_session(&o, purpose, digest, hash, scheme, text, false);
done:
    sk_config_free(opts);
    return exit_code;
}

static int cmd_auth(int argc, char **argv)
{
    rp_opts o = {.timeout = DEFAULT_TIMEOUT_S, .ocsp_timeout = 10};
    char default_name[] = "splitkey-rp";
    o.name = default_name;
    sk_opt opts[] = {
        COMMON_OPTS(o),
        {.name = "out", .type = SK_OPT_STRING, .value = &o.out, .arg = "SIG",
         .help = "also keep the signature over the challenge"},
        {0},
    };
    int exit_code = CU_EXIT_OK;
    if (parse(opts, argc, argv, "auth --server URL|--api URL --person ID|--key-id HEX [OPTIONS]",
              "Authenticates the person: asks the authentication key (PIN1) to sign a\n"
              "fresh random challenge and verifies the signature.\n" LEGACY_NOTE,
              &exit_code) != 0)
        goto done;
    sk_scheme scheme;
    sk_hash hash;
    uint8_t challenge[32], digest[SK_MAX_HASH_LEN];
    if ((exit_code = prepare(&o, &scheme, &hash)) != 0)
        goto done;
    randombytes_buf(challenge, sizeof challenge);
    if (sk_digest(digest, sk_hash_len(hash), hash, challenge, sizeof challenge) != SK_OK) {
        exit_code = CU_EXIT_FAIL;
        goto done;
    }
    if (o.api != NULL)
        exit_code = run_api_session(&o, SK_PURPOSE_AUTH, digest, hash,
                                    o.text != NULL ? o.text : "Log in", true);
    else
        exit_code = run_session(&o, SK_PURPOSE_AUTH, digest, hash, scheme,
                                o.text != NULL ? o.text : "Log in", true);
done:
    sk_config_free(opts);
    return exit_code;
}

static int cmd_serve(int argc, char **argv)
{
    rp_opts o = {.timeout = DEFAULT_TIMEOUT_S, .ocsp_timeout = 10};
    char default_name[] = "Splitkey Bank";
    char *http = NULL, *ready = NULL;
    o.name = default_name;
    sk_opt opts[] = {
        {.name = "http", .type = SK_OPT_STRING, .value = &http, .flags = SK_OPT_REQUIRED,
         .arg = "HOST:PORT", .help = "where to serve the web site, e.g. 127.0.0.1:8080 (port 0: "
                                     "any)"},
        {.name = "ready-file", .type = SK_OPT_STRING, .value = &ready, .arg = "FILE",
         .help = "write the site's URL here once serving"},
        {.name = "server", .type = SK_OPT_URL, .value = &o.server, .arg = "URL",
         .help = "the share server's device socket (or --api)"},
        {.name = "api", .type = SK_OPT_STRING, .value = &o.api, .arg = "URL",
         .help = "the share server's HTTPS relying-party API, e.g. https://127.0.0.1:8443/v2/"},
        {.name = "server-cert", .type = SK_OPT_FILE, .value = &o.server_cert, .arg = "PINNED.pem",
         .help = "--api: the server's TLS certificate; no other is accepted"},
        {.name = "server-cert-sha256", .type = SK_OPT_STRING, .value = &o.server_cert_sha256,
         .arg = "HEX", .help = "--api: or the SHA-256 of the server's certificate (DER)"},
        {.name = "rp-cert", .type = SK_OPT_FILE, .value = &o.rp_cert, .arg = "CERT.pem",
         .help = "--api: this relying party's TLS client certificate"},
        {.name = "rp-key", .type = SK_OPT_FILE, .value = &o.rp_key, .arg = "KEY.pem",
         .help = "--api: its private key"},
        {.name = "rp-uuid", .type = SK_OPT_STRING, .value = &o.rp_uuid, .arg = "UUID",
         .help = "--api: this relying party's UUID"},
        {.name = "ca-cert", .type = SK_OPT_FILE, .value = &o.ca_cert, .flags = SK_OPT_REQUIRED,
         .arg = "CA.pem", .help = "every certificate must chain to this CA and pass the "
                                  "checks of --ca-cert"},
        {.name = "level", .type = SK_OPT_STRING, .value = &o.level,
         .arg = "qualified|advanced",
         .help = "the least certificate level accepted (default qualified)"},
        {.name = "name", .type = SK_OPT_STRING, .value = &o.name, .arg = "NAME",
         .help = "the bank's name shown on the device (default Splitkey Bank)"},
        {.name = "timeout", .type = SK_OPT_UINT, .value = &o.timeout, .min = 1, .max = 3600,
         .arg = "SEC", .help = "how long a session waits for the person (default 150)"},
        {.name = "ocsp-timeout", .type = SK_OPT_UINT, .value = &o.ocsp_timeout, .min = 1,
         .max = 300, .arg = "SEC", .help = "how long to wait for the OCSP responder (default 10)"},
        {0},
    };
    int exit_code = CU_EXIT_OK;
    rp_api *api = NULL;
    if (parse(opts, argc, argv,
              "serve --http HOST:PORT --server URL|--api URL --ca-cert CA.pem [OPTIONS]",
              "Serves a small bank web site: a person logs in with the person id (an\n"
              "authentication session) and signs a contract (a signing session); the page\n"
              "shows the verification code and then the outcome.\n" LEGACY_NOTE,
              &exit_code) != 0)
        goto done;
    if ((o.server == NULL) == (o.api == NULL)) {
        exit_code = usage_error("name the share server with one of --server URL and --api URL");
        goto done;
    }
    if (o.level != NULL && strcmp(o.level, "qualified") != 0 &&
        strcmp(o.level, "advanced") != 0) {
        exit_code = usage_error("--level %s: use qualified or advanced", o.level);
        goto done;
    }
    char why[512];
    if (rp_check_ca_file(o.ca_cert, why, sizeof why) != RP_CHECK_OK) {
        exit_code = usage_error("%s", why);
        goto done;
    }
    if (sk_init() != SK_OK) {
        exit_code = CU_EXIT_FAIL;
        goto done;
    }
    if (o.api != NULL) {
        rp_api_conf conf = {.url = o.api,
                            .server_cert = o.server_cert,
                            .server_cert_sha256 = o.server_cert_sha256,
                            .rp_cert = o.rp_cert,
                            .rp_key = o.rp_key,
                            .uuid = o.rp_uuid,
                            .name = o.name};
        if (rp_api_new(&api, &conf, why, sizeof why) != 0) {
            exit_code = usage_error("%s", why);
            goto done;
        }
    }
    rp_web_conf wc = {
        .server = o.server,
        .api = api,
        .ca_cert = o.ca_cert,
        .name = o.name,
        .advanced = o.level != NULL && strcmp(o.level, "advanced") == 0,
        .timeout_s = o.timeout,
        .ocsp_timeout_ms = o.ocsp_timeout * 1000u,
        .http = http,
        .ready_file = ready,
    };
    exit_code = rp_web_run(&wc);
done:
    rp_api_free(api);
    sk_config_free(opts);
    return exit_code;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: " PROG " COMMAND [OPTIONS]\n"
                 "\n"
                 "A relying party of splitkey: asks a person, through the share server, for a\n"
                 "signature (sign) or an authentication (auth), shows the verification code\n"
                 "the person's device shows too, and verifies the answer.\n"
                 "\n"
                 "commands:\n"
                 "  sign   --server URL --person ID|--key-id HEX --purpose sign --in FILE --out SIG\n"
                 "  auth   --server URL --person ID|--key-id HEX\n"
                 "  (or, for sign and auth, over the HTTPS API: --api https://HOST:PORT/v2/\n"
                 "   --server-cert PINNED.pem --rp-cert CERT.pem --rp-key KEY.pem --rp-uuid UUID\n"
                 "   --name NAME --ca-cert CA.pem, and --document NUMBER for one key)\n"
                 "  serve  --http HOST:PORT --server URL|--api URL --ca-cert CA.pem\n"
                 "         a small bank web site: log in and sign a contract with the device\n"
                 "\n"
                 "Run '" PROG " COMMAND --help' for every option.\n"
                 "Giving up - --timeout passed, or SIGINT / SIGTERM while waiting - cancels\n"
                 "the session at the server, so the device no longer offers it.\n"
                 "\n"
                 "With --ca-cert CA.pem the certificate is validated too: chain to the CA,\n"
                 "dates, key usage and policy for the purpose, the person, and its OCSP\n"
                 "status (a fresh nonce, the response signed by the CA or its OCSP signer).\n"
                 "\n"
                 "Exit status: 0 ok (signature verified), 2 usage, 4 key locked, 5 key\n"
                 "destroyed, 6 refused, expired, cancelled or no answer within --timeout,\n"
                 "7 certificate invalid (chain, dates, key usage, policy, person), 8\n"
                 "certificate revoked, 9 OCSP status unknown or unavailable,\n"
                 "130 interrupted (SIGINT or SIGTERM), 1 other failure.\n");
}

int main(int argc, char **argv)
{
    static const sk_command commands[] = {
        {"sign", cmd_sign},
        {"auth", cmd_auth},
        {"serve", cmd_serve},
        {NULL, NULL},
    };
    return sk_command_dispatch(argc, argv, PROG, commands, usage);
}
