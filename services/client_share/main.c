/*
 * splitkey-client - the device side of splitkey as a command-line program
 * (SPEC 5, 7): what a phone app does, for demonstrations, tests and desktop
 * use.  Its state lives in a directory (devstate.h).
 *
 *   splitkey-client enrol    --state DIR --server URL --server-pub FILE
 *                            --purpose auth|sign --pin-file F [--profile P]
 *                            [--token-file F | --subject S]
 *   splitkey-client sign     --state DIR --purpose auth|sign --pin-file F
 *                            --in FILE --out SIG [--scheme S] [--hash H]
 *   splitkey-client sessions --state DIR
 *   splitkey-client approve  SESSION --state DIR --pin-file F
 *   splitkey-client refuse   SESSION --state DIR
 *   splitkey-client pubkey   --state DIR --purpose auth|sign --out PUB.pem
 *   splitkey-client cert     --state DIR --purpose auth|sign --out CERT.pem
 *   splitkey-client status   --state DIR --purpose auth|sign
 *   splitkey-client revoke   --state DIR --purpose auth|sign --pin-file F
 *
 * Exit status: 0 ok, 2 usage or configuration, 3 wrong PIN, 4 key locked,
 * 5 key destroyed, 6 session expired or refused, 1 anything else.
 *
 * Secrets: the PIN (pin.h), the storage key (devstate.h) and every request
 * buffer (an approval carries y, an enrolment ds) are wiped on every path.
 * Nothing secret is printed.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "command.h"
#include "cliutil.h"
#include "config.h"
#include "devstate.h"
#include "fileio.h"
#include "pin.h"
#include "req_client.h"
#include "server_pub.h"
#include "splitkey/device.h"
#include "splitkey/pki.h"
#include "splitkey/sign.h"
#include "splitkey/splitkey.h"
#include "svc_error.h"

#define PROG "splitkey-client"
#define CALL_TIMEOUT_MS 20000u
#define LOST_REPLY_RETRIES 2

/* Everything one command works with; client_end() releases and wipes it. */
typedef struct client {
    devstate st;
    bool st_open;
    sk_device_key *key;
    char *url;
    sk_req_client *net;
    cu_pin pin;
    bool have_pin;
    sk_purpose pin_purpose;   /* the key the PIN was read for */
    const char *pin_file;     /* approve: where to read a PIN an earlier request needs */
    bool pin_on_demand;
    uint8_t msg[SK_MAX_MESSAGE_LEN]; /* request in the making (may hold y or ds) */
    size_t msg_len;
    uint8_t *reply;
    size_t reply_len;
    sk_key_status status;
    char err[1024];
    /* what settle_pending() finished: an earlier run's approval or refusal
     * of a session, its outcome and (an approval's) signature */
    bool settled_known;
    uint8_t settled_sid[SK_SESSION_ID_LEN];
    int settled_rc;
    uint8_t settled_sig[SK_MAX_SIG_LEN];
    size_t settled_sig_len;
} client;

static uint64_t now_s(void)
{
    return (uint64_t)time(NULL);
}

static void drop_reply(client *c)
{
    cu_reply_free(c->reply, c->reply_len);
    c->reply = NULL;
    c->reply_len = 0;
}

static void drop_key(client *c)
{
    sk_device_key_free(c->key);
    c->key = NULL;
    free(c->url);
    c->url = NULL;
    sk_req_client_close(c->net);
    c->net = NULL;
}

static void client_end(client *c)
{
    drop_reply(c);
    drop_key(c);
    if (c->st_open)
        devstate_close(&c->st);
    pin_wipe(&c->pin);
    sk_wipe(c, sizeof *c);
}

/* ------------------------------------------------------------ reporting */

#define usage_error(...) cu_usage_error(PROG, __VA_ARGS__)

static const char *reason_name(sk_destroy_reason r)
{
    switch (r) {
    case SK_DESTROY_USER:
        return "revoked by its owner";
    case SK_DESTROY_LOCKOUT:
        return "too many wrong PINs";
    case SK_DESTROY_CLONE:
        return "a copy of the device state was used: clone detected";
    case SK_DESTROY_OPERATOR:
        return "revoked by the operator";
    case SK_DESTROY_ABANDONED:
        return "its enrolment was started again";
    default:
        return "destroyed";
    }
}

static const char *state_name(sk_key_state s)
{
    switch (s) {
    case SK_KEY_ENROLLING:
        return "ENROLLING";
    case SK_KEY_PENDING:
        return "PENDING";
    case SK_KEY_ACTIVE:
        return "ACTIVE";
    case SK_KEY_TIMELOCKED:
        return "TIMELOCKED";
    case SK_KEY_DESTROYED:
        return "DESTROYED";
    default:
        return "UNKNOWN";
    }
}

/* Prints what went wrong in what (a short phrase) and returns the exit
 * status SPEC 7 gives it. */
static int report(const client *c, int rc, const char *what)
{
    const sk_key_status *st = &c->status;
    char when[40];
    switch (rc) {
    case SK_ERR_WRONG_PIN:
        if (st->destroy_reason != SK_DESTROY_NONE || st->state == SK_KEY_DESTROYED) {
            fprintf(stderr, PROG ": %s: wrong PIN; the key is now destroyed (%s)\n", what,
                    reason_name(st->destroy_reason));
            return CU_EXIT_DESTROYED;
        }
        if (st->locked_until > now_s()) {
            cu_time(when, sizeof when, st->locked_until);
            fprintf(stderr, PROG ": %s: wrong PIN; the key is now locked until %s\n", what, when);
            return CU_EXIT_LOCKED;
        }
        fprintf(stderr, PROG ": %s: wrong PIN; %u attempt%s left before the key is locked\n",
                what, st->attempts_left, st->attempts_left == 1 ? "" : "s");
        return CU_EXIT_WRONG_PIN;
    case SK_ERR_LOCKED:
        cu_time(when, sizeof when, st->locked_until);
        fprintf(stderr, PROG ": %s: the key is locked until %s\n", what,
                st->locked_until ? when : "further notice");
        return CU_EXIT_LOCKED;
    case SK_ERR_CLONE_DETECTED:
        fprintf(stderr,
                PROG ": %s: clone detected: another copy of this device's state signed first; "
                     "the server destroyed the key\n",
                what);
        return CU_EXIT_DESTROYED;
    case SK_ERR_DESTROYED:
        fprintf(stderr, PROG ": %s: the key is destroyed (%s)\n", what,
                reason_name(st->destroy_reason));
        return CU_EXIT_DESTROYED;
    case SK_ERR_SESSION_EXPIRED:
        fprintf(stderr, PROG ": %s: the session expired\n", what);
        return CU_EXIT_SESSION;
    case SK_ERR_SESSION_REFUSED:
        fprintf(stderr, PROG ": %s: the session was refused\n", what);
        return CU_EXIT_SESSION;
    case SK_ERR_SESSION_UNKNOWN:
        fprintf(stderr, PROG ": %s: no such session waiting (expired or already answered)\n",
                what);
        return CU_EXIT_SESSION;
    case SK_ERR_NOT_ACTIVE:
        fprintf(stderr, PROG ": %s: the key is not active yet (its enrolment is unfinished: "
                        "run enrol again)\n", what);
        return CU_EXIT_FAIL;
    case SK_SVC_ERR_CONFIG:
        fprintf(stderr, PROG ": %s\n", c->err[0] ? c->err : what);
        return CU_EXIT_USAGE;
    case SK_SVC_ERR_CONNECT:
        fprintf(stderr, PROG ": %s: %s\n", what, c->err[0] ? c->err : cu_strerror(rc));
        return CU_EXIT_FAIL;
    default:
        fprintf(stderr, PROG ": %s: %s\n", what, cu_strerror(rc));
        return CU_EXIT_FAIL;
    }
}

/* ------------------------------------------------------------ exchanges */

static int save(client *c)
{
    int rc = devstate_save(&c->st, c->key);
    if (rc != SK_OK)
        snprintf(c->err, sizeof c->err, "cannot write the device state in %s: %s", c->st.dir,
                 sk_svc_strerror(rc));
    return rc;
}

/* The reply timeout from SPLITKEY_CLIENT_TIMEOUT_MS (main() checked it). */
#define TIMEOUT_ENV "SPLITKEY_CLIENT_TIMEOUT_MS"
#define TIMEOUT_MIN_MS 100ul
#define TIMEOUT_MAX_MS 600000ul

/* Reads SPLITKEY_CLIENT_TIMEOUT_MS into *ms (CALL_TIMEOUT_MS when unset or
 * empty).  Returns 0, or -1 when it is not a whole number of milliseconds
 * from TIMEOUT_MIN_MS to TIMEOUT_MAX_MS. */
static int env_timeout(unsigned *ms)
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
static int connect_server(client *c)
{
    if (c->net != NULL)
        return SK_OK;
    unsigned timeout = CALL_TIMEOUT_MS;
    (void)env_timeout(&timeout);
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
    drop_reply(c);
    /* connected first: a server that is not there leaves the state as it was */
    int rc = connect_server(c);
    if (rc == SK_OK)
        rc = save(c);
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
        drop_reply(c);
        rc = sk_device_retry(c->key, c->msg, sizeof c->msg, &c->msg_len, now_s(),
                             c->have_pin ? c->pin.digits : NULL, c->have_pin ? c->pin.len : 0);
        if (rc == SK_OK)
            rc = cu_call(c->net, CU_FRAME_DEVICE, &c->reply, &c->reply_len, c->msg, c->msg_len);
        sk_wipe(c->msg, sizeof c->msg);
    }
    return rc;
}

static bool lost(int rc)
{
    return rc == SK_SVC_ERR_TIMEOUT || rc == SK_SVC_ERR_TRANSPORT;
}

/* Sends the request in flight (every request is one until its reply is
 * read): a reply that does not come - a lost connection, a server that
 * restarted - is asked for again with the same request id (sk_device_retry),
 * so the server answers from its stored reply (or handles it, if it never
 * saw it) and never takes the retry for a clone. */
static int exchange_pending(client *c)
{
    int rc = exchange(c);
    for (int i = 0; i < LOST_REPLY_RETRIES && lost(rc); i++) {
        fprintf(stderr, PROG ": %s; sending the same request again\n", cu_strerror(rc));
        rc = sk_device_retry(c->key, c->msg, sizeof c->msg, &c->msg_len, now_s(),
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

static int get_pin(client *c, sk_purpose purpose, const char *pin_file, const char *prompt)
{
    int rc = pin_read(&c->pin, purpose, pin_file, prompt, c->err, sizeof c->err);
    c->have_pin = rc == SK_OK;
    c->pin_purpose = purpose;
    return rc;
}

/* A request of an earlier run may still wait for its reply (the program was
 * stopped, or the server never answered): resend it with the same request id
 * and read what the server says before anything new is asked. */
static int settle_pending(client *c)
{
    if (!sk_device_key_has_pending(c->key))
        return SK_OK;
    sk_purpose purpose = sk_device_key_purpose(c->key);
    if (c->pin_on_demand && (!c->have_pin || c->pin_purpose != purpose)) {
        pin_wipe(&c->pin);
        c->have_pin = false;
        int prc = get_pin(c, purpose, c->pin_file,
                          purpose == SK_PURPOSE_SIGN ? "PIN2 (to finish an earlier approval): "
                                                     : "PIN1 (to finish an earlier approval): ");
        if (prc != SK_OK)
            return SK_SVC_ERR_CONFIG;
    }
    int rc = sk_device_retry(c->key, c->msg, sizeof c->msg, &c->msg_len, now_s(),
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
    rc = exchange_pending(c);
    if (rc != SK_OK)
        return rc;
    rc = read_any_pending_reply(c);
    c->settled_rc = rc;
    int src = save(c);
    drop_reply(c);
    /* The outcome of the earlier request is not this command's: only a
     * verdict on the key itself stops it here. */
    if (rc == SK_ERR_CLONE_DETECTED || rc == SK_ERR_DESTROYED || rc == SK_ERR_LOCKED ||
        rc == SK_ERR_WRONG_PIN)
        return rc;
    return src;
}

/* Loads the key of a purpose (and its server URL). */
static int load_key(client *c, sk_purpose purpose)
{
    drop_key(c);
    int rc = devstate_load(&c->st, purpose, &c->key, &c->url, c->err, sizeof c->err);
    return rc == SK_ERR_NOT_FOUND ? SK_SVC_ERR_CONFIG : rc;
}

static int open_state(client *c, const char *dir, bool create)
{
    int rc = devstate_open(&c->st, dir, create, c->err, sizeof c->err);
    c->st_open = rc == SK_OK;
    return rc;
}

/* ------------------------------------------------------------ options */

/* Refuses a PIN given as a command-line value, whatever the spelling. */
static int refuse_pin_values(int argc, char **argv)
{
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--pin", 5) == 0 && strncmp(a, "--pin-file", 10) != 0) {
            fprintf(stderr, PROG ": %s: a PIN is never taken from the command line; use "
                            "--pin-file FILE or type it when asked\n", a);
            return 1;
        }
    }
    return 0;
}

typedef struct cmd_opts {
    char *state, *server, *server_pub, *purpose, *pin_file, *profile, *token, *token_file,
        *subject;
    char *in, *out, *scheme, *hash, *text;
    const char *session;
} cmd_opts;

#define OPT_STATE(o)                                                                       \
    {.name = "state", .type = SK_OPT_STRING, .value = &(o).state, .flags = SK_OPT_REQUIRED, \
     .arg = "DIR", .help = "the device's state directory"}
#define OPT_PURPOSE(o)                                                                      \
    {.name = "purpose", .type = SK_OPT_STRING, .value = &(o).purpose,                       \
     .flags = SK_OPT_REQUIRED, .arg = "auth|sign",                                          \
     .help = "which key: authentication (PIN1) or signing (PIN2)"}
#define OPT_PIN(o)                                                                          \
    {.name = "pin-file", .type = SK_OPT_STRING, .value = &(o).pin_file, .arg = "FILE",      \
     .help = "read the PIN from FILE ('-': standard input); default: ask on the terminal"}

/* Parses the command's options (argv[2..]); prints usage on --help.  A PIN
 * given as a flag value is refused before anything else. */
static int parse(sk_opt *opts, const char **positional, int argc, char **argv, const char *synopsis,
                 const char *about, int *exit_code)
{
    if (refuse_pin_values(argc, argv)) {
        *exit_code = CU_EXIT_USAGE;
        return -1;
    }
    return cu_parse_options(PROG, opts, positional, argc, argv, synopsis, about, exit_code);
}

static int parse_purpose(sk_purpose *p, const char *name)
{
    if (devstate_purpose_parse(p, name) != SK_OK)
        return usage_error("--purpose %s: use auth or sign", name);
    return 0;
}

/* --scheme / --hash with the defaults PSS and SHA-256. */
static int parse_algs(sk_scheme *scheme, sk_hash *hash, const cmd_opts *o)
{
    *scheme = SK_SCHEME_PSS;
    *hash = SK_HASH_SHA256;
    if (o->scheme != NULL && sk_scheme_parse(scheme, o->scheme) != SK_OK)
        return usage_error("--scheme %s: use pkcs1 or pss", o->scheme);
    if (o->hash != NULL && sk_hash_parse(hash, o->hash) != SK_OK)
        return usage_error("--hash %s: use sha256, sha384 or sha512", o->hash);
    return 0;
}


/* ------------------------------------------------------------ signing */

/* One session from approval to a verified signature: sig receives it.  The
 * state is stored after the request is built and after the reply is read. */
static int approve_session(client *c, const sk_device_session *s, uint8_t *sig, size_t *sig_len)
{
    *sig_len = 0;
    int rc = sk_device_approve(c->key, c->msg, sizeof c->msg, &c->msg_len, now_s(), s,
                               c->pin.digits, c->pin.len);
    if (rc != SK_OK)
        return rc;
    rc = exchange_pending(c);
    if (rc != SK_OK)
        return rc;
    rc = sk_device_read_signature(c->key, sig, SK_MAX_SIG_LEN, sig_len, &c->status, c->reply,
                                  c->reply_len);
    int src = save(c);
    drop_reply(c);
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
    if (sk_device_refuse(c->key, c->msg, sizeof c->msg, &c->msg_len, now_s(), s) == SK_OK &&
        exchange_pending(c) == SK_OK) {
        sk_key_status ignored;
        int rc = sk_device_read_reply(c->key, &ignored, c->reply, c->reply_len);
        (void)rc; /* an error reply moved the counters all the same: store */
        (void)save(c);
    }
    drop_reply(c);
    c->status = keep;
}

/* A device-initiated session over digest, approved at once with the PIN. */
static int sign_digest(client *c, const uint8_t *digest, sk_hash hash, sk_scheme scheme,
                       const char *text, uint8_t *sig, size_t *sig_len, char *code)
{
    sk_device_session *s = NULL;
    int rc = sk_device_session_create(c->key, c->msg, sizeof c->msg, &c->msg_len, now_s(), digest,
                                      sk_hash_len(hash), hash, scheme, text);
    if (rc == SK_OK)
        rc = exchange_pending(c);
    if (rc == SK_OK) {
        rc = sk_device_read_session(c->key, &s, &c->status, c->reply, c->reply_len);
        int src = save(c);
        drop_reply(c);
        if (rc == SK_OK)
            rc = src;
    }
    if (rc == SK_OK && code != NULL)
        snprintf(code, 5, "%s", sk_device_session_code(s));
    if (rc == SK_OK) {
        rc = approve_session(c, s, sig, sig_len);
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

/* ------------------------------------------------------------ enrol */

/* The proof of possession (SPEC 3.2 step 3): the first signature of the new
 * key.  When the registered subject is a person's name it signs the PKCS#10
 * request for n (kept as DIR/<purpose>.csr.pem); otherwise a fixed digest of
 * the key id. */
static int proof_of_possession(client *c, bool *wrote_csr)
{
    const char *subject = sk_device_key_subject(c->key);
    const char *detail = NULL;
    sk_name *name = NULL;
    sk_pubkey *pub = NULL;
    sk_csr_tbs *tbs = NULL;
    uint8_t digest[32], sig[SK_MAX_SIG_LEN], der[8192];
    size_t sig_len = 0, der_len = 0;
    int rc;

    *wrote_csr = false;
    if (subject != NULL && subject[0] != '\0' &&
        sk_name_parse_person(&name, &detail, subject) == SK_OK &&
        sk_device_key_pubkey(c->key, &pub) == SK_OK &&
        sk_csr_tbs_new(&tbs, name, pub, SK_HASH_SHA256) == SK_OK &&
        sk_csr_tbs_digest(tbs, digest, sizeof digest) == SK_OK) {
        /* the request's to-be-signed digest */
    } else {
        sk_csr_tbs_free(tbs);
        tbs = NULL;
        uint8_t data[64] = "splitkey-client proof of possession v1:";
        size_t off = strlen((const char *)data);
        rc = sk_device_key_id(c->key, data + off, SK_KEY_ID_LEN);
        if (rc == SK_OK)
            rc = sk_digest(digest, sizeof digest, SK_HASH_SHA256, data, off + SK_KEY_ID_LEN);
        if (rc != SK_OK)
            goto out;
    }
    rc = sign_digest(c, digest, SK_HASH_SHA256, SK_SCHEME_PKCS1, "Enrolment: proof of possession",
                     sig, &sig_len, NULL);
    if (rc == SK_OK && tbs != NULL &&
        sk_csr_tbs_finish(tbs, der, sizeof der, &der_len, sig, sig_len) == SK_OK) {
        char *path = devstate_path(&c->st, sk_device_key_purpose(c->key), "csr.pem");
        if (path != NULL && cu_write_pem(path, "CERTIFICATE REQUEST", der, der_len) == SK_OK)
            *wrote_csr = true;
        free(path);
    }
out:
    sk_csr_tbs_free(tbs);
    sk_pubkey_free(pub);
    sk_name_free(name);
    return rc;
}

/* Sends the enrolment message in flight (c->msg) until a reply comes: a
 * lost reply is asked for again with the same request (sk_device_enrol_retry). */
static int enrol_call(client *c, sk_device_enrolment *e)
{
    int rc = cu_call(c->net, CU_FRAME_DEVICE, &c->reply, &c->reply_len, c->msg, c->msg_len);
    for (int i = 0; i < LOST_REPLY_RETRIES && lost(rc); i++) {
        fprintf(stderr, PROG ": %s; sending the enrolment again\n", cu_strerror(rc));
        sk_wipe(c->msg, sizeof c->msg);
        rc = sk_device_enrol_retry(e, c->msg, sizeof c->msg, &c->msg_len);
        if (rc == SK_OK)
            rc = cu_call(c->net, CU_FRAME_DEVICE, &c->reply, &c->reply_len, c->msg, c->msg_len);
    }
    sk_wipe(c->msg, sizeof c->msg);
    return rc;
}

/* EnrolInit and its reply.  When the server already took an EnrolInit with
 * this token (this one, whose reply was lost, or one of a run that crashed)
 * and that enrolment never finished, it asks this request to prove that it
 * is fresh, and then gives the earlier one up. */
static int enrol_init(client *c, sk_device_enrolment *e)
{
    int rc = enrol_call(c, e);
    if (rc == SK_OK)
        rc = sk_device_enrol_continue(e, c->msg, sizeof c->msg, &c->msg_len, c->reply,
                                      c->reply_len);
    if (rc == SK_ERR_PROTO_CHALLENGE) {
        fprintf(stderr, PROG ": an earlier enrolment with this token never finished; "
                        "starting again\n");
        drop_reply(c);
        rc = sk_device_enrol_retry(e, c->msg, sizeof c->msg, &c->msg_len);
        if (rc == SK_OK)
            rc = enrol_call(c, e);
        if (rc == SK_OK)
            rc = sk_device_enrol_continue(e, c->msg, sizeof c->msg, &c->msg_len, c->reply,
                                          c->reply_len);
    }
    drop_reply(c);
    return rc;
}

/* EnrolInit, EnrolSubmit (retried with the same bytes when its reply is
 * lost), and the new key in c->key, stored. */
static int enrol_exchange(client *c, const uint8_t *server_pub, sk_purpose purpose,
                          sk_profile profile, const char *token, const char *subject)
{
    sk_device_enrolment *e = NULL;
    int rc = sk_device_enrol_start(&e, c->msg, sizeof c->msg, &c->msg_len, server_pub,
                                   SK_SERVER_PUB_LEN, purpose, profile, c->pin.digits, c->pin.len,
                                   SK_KDF_INTERACTIVE, token, subject);
    if (rc == SK_OK)
        rc = connect_server(c);
    if (rc == SK_OK)
        rc = enrol_init(c, e);
    if (rc == SK_OK)
        rc = enrol_call(c, e); /* EnrolSubmit: c->msg carries ds */
    sk_wipe(c->msg, sizeof c->msg);
    if (rc == SK_OK)
        rc = sk_device_enrol_finish(e, &c->key, c->reply, c->reply_len);
    drop_reply(c);
    sk_device_enrolment_free(e);
    if (rc == SK_OK)
        rc = save(c);
    if (rc == SK_OK) {
        rc = devstate_save_server(&c->st, purpose, c->url);
        if (rc != SK_OK)
            snprintf(c->err, sizeof c->err, "cannot write the server URL in %s", c->st.dir);
    }
    return rc;
}

static int cmd_enrol(int argc, char **argv)
{
    cmd_opts o = {0};
    sk_opt opts[] = {
        OPT_STATE(o),
        {.name = "server", .type = SK_OPT_URL, .value = &o.server, .flags = SK_OPT_REQUIRED,
         .arg = "URL", .help = "the share server, e.g. tcp://127.0.0.1:7300"},
        {.name = "server-pub", .type = SK_OPT_FILE, .value = &o.server_pub,
         .flags = SK_OPT_REQUIRED, .arg = "FILE",
         .help = "the server's public keys (its server.pub), pinned from now on"},
        OPT_PURPOSE(o),
        OPT_PIN(o),
        {.name = "profile", .type = SK_OPT_STRING, .value = &o.profile, .arg = "4K|6K|8K",
         .help = "key size: n of 4096, 6144 (default) or 8192 bits"},
        {.name = "token-file", .type = SK_OPT_STRING, .value = &o.token_file, .arg = "F",
         .help = "the one-time registration token from the operator (secret: a file, - for "
                 "standard input)"},
        {.name = "token", .type = SK_OPT_STRING, .value = &o.token, .arg = "T",
         .help = "refused: a token on the command line is visible to other users"},
        {.name = "subject", .type = SK_OPT_STRING, .value = &o.subject, .arg = "S",
         .help = "\"C=LV,GN=..,SN=..,serialNumber=PNOLV-..\" (open enrolment only)"},
        {0},
    };
    int exit_code = CU_EXIT_OK;
    char token[SK_MAX_TOKEN_LEN + 2]; /* secret until used */
    memset(token, 0, sizeof token);
    if (parse(opts, NULL, argc, argv,
              "enrol --state DIR --server URL --server-pub FILE --purpose auth|sign "
              "[--pin-file F] [--profile 4K|6K|8K] [--token-file F | --subject S]",
              "Creates a split key: the device share stays here behind the PIN, the other\n"
              "share goes to the server once.  The first signature proves possession.",
              &exit_code) != 0)
        goto done;

    client c;
    memset(&c, 0, sizeof c);
    sk_purpose purpose;
    sk_profile profile = SK_PROFILE_6K;
    sk_server_pub pub;
    uint8_t spub[SK_SERVER_PUB_LEN];
    bool resume = false, wrote_csr = false;
    int rc;

    if ((exit_code = parse_purpose(&purpose, o.purpose)) != 0)
        goto done;
    if (o.profile != NULL && sk_profile_parse(&profile, o.profile) != SK_OK) {
        exit_code = usage_error("--profile %s: use 4K, 6K or 8K", o.profile);
        goto done;
    }
    if (o.token != NULL) {
        exit_code = usage_error("%s", "--token T: a registration token is secret until used; "
                                      "give it with --token-file FILE (or - for standard input)");
        goto done;
    }
    if (o.token_file != NULL && o.subject != NULL) {
        exit_code = usage_error("%s", "give --token-file or --subject, not both");
        goto done;
    }
    if (o.token_file != NULL) {
        char terr[256];
        if (token_read(token, sizeof token, o.token_file, terr, sizeof terr) != SK_OK) {
            exit_code = usage_error("%s", terr);
            goto done;
        }
    }
    if (sk_server_pub_load(&pub, o.server_pub) != SK_OK) {
        exit_code = usage_error("--server-pub %s: not a splitkey server.pub file", o.server_pub);
        goto done;
    }
    memcpy(spub, pub.kx_pub, SK_KX_PUBLIC_LEN);
    memcpy(spub + SK_KX_PUBLIC_LEN, pub.sign_pub, SK_SIGN_PUBLIC_LEN);
    if (sk_init() != SK_OK) {
        fprintf(stderr, PROG ": cannot initialise libsplitkey\n");
        exit_code = CU_EXIT_FAIL;
        goto done;
    }
    rc = open_state(&c, o.state, true);
    if (rc != SK_OK) {
        exit_code = report(&c, rc == SK_SVC_ERR_CONFIG ? rc : SK_SVC_ERR_CONFIG, "state");
        goto end;
    }
    if (devstate_has(&c.st, purpose)) {
        rc = load_key(&c, purpose);
        if (rc != SK_OK) {
            exit_code = report(&c, SK_SVC_ERR_CONFIG, "state");
            goto end;
        }
        sk_key_state ks = sk_device_key_state(c.key);
        if (ks == SK_KEY_PENDING) {
            resume = true; /* enrolled, proof of possession still to make */
        } else if (ks != SK_KEY_DESTROYED) {
            fprintf(stderr, PROG ": a %s key is already enrolled in %s (revoke it first)\n",
                    devstate_purpose_name(purpose), o.state);
            exit_code = CU_EXIT_FAIL;
            goto end;
        } else {
            drop_key(&c);
        }
    }
    free(c.url);
    c.url = strdup(o.server);
    if (c.url == NULL) {
        exit_code = CU_EXIT_FAIL;
        goto end;
    }

    const char *prompt = purpose == SK_PURPOSE_SIGN ? "New PIN2 for the signing key: "
                                                    : "New PIN1 for the authentication key: ";
    if (resume)
        prompt = purpose == SK_PURPOSE_SIGN ? "PIN2: " : "PIN1: ";
    rc = get_pin(&c, purpose, o.pin_file, prompt);
    if (rc == SK_OK && o.pin_file == NULL && !resume) {
        cu_pin again;
        rc = pin_read(&again, purpose, NULL, "Repeat the PIN: ", c.err, sizeof c.err);
        if (rc == SK_OK && (again.len != c.pin.len ||
                            sk_memequal_ct(again.digits, c.pin.digits, c.pin.len) != 0)) {
            snprintf(c.err, sizeof c.err, "the two PINs differ");
            rc = SK_ERR_ARG;
        }
        pin_wipe(&again);
    }
    if (rc != SK_OK) {
        fprintf(stderr, PROG ": %s\n", c.err);
        exit_code = CU_EXIT_USAGE;
        goto end;
    }

    if (!resume) {
        printf("generating the device share (profile %s: n1 of %u bits) and enrolling at %s\n",
               sk_profile_name(profile), sk_profile_bits(profile), o.server);
        fflush(stdout);
        rc = enrol_exchange(&c, spub, purpose, profile, o.token_file ? token : NULL, o.subject);
        if (rc != SK_OK) {
            exit_code = report(&c, rc, "enrolment");
            goto end;
        }
    } else {
        printf("resuming the enrolment of the %s key: proof of possession\n",
               devstate_purpose_name(purpose));
    }
    rc = settle_pending(&c);
    if (rc == SK_OK)
        rc = proof_of_possession(&c, &wrote_csr);
    if (rc != SK_OK) {
        exit_code = report(&c, rc, "proof of possession");
        if (exit_code != CU_EXIT_DESTROYED)
            fprintf(stderr, PROG ": the key is enrolled but not active; run enrol again to "
                            "finish\n");
        goto end;
    }

    uint8_t key_id[SK_KEY_ID_LEN];
    char hex[2 * SK_KEY_ID_LEN + 1];
    sk_pubkey *pk = NULL;
    unsigned bits = 0;
    if (sk_device_key_id(c.key, key_id, sizeof key_id) == SK_OK)
        cu_hex(hex, key_id, sizeof key_id);
    else
        snprintf(hex, sizeof hex, "?");
    if (sk_device_key_pubkey(c.key, &pk) == SK_OK)
        bits = sk_pubkey_bits(pk);
    sk_pubkey_free(pk);
    uint8_t certbuf[1];
    size_t cert_len = 0;
    int crc = sk_device_key_certificate(c.key, certbuf, 0, &cert_len);
    (void)crc;
    printf("enrolled the %s key\n"
           "  key id:      %s\n"
           "  public key:  RSA, n of %u bits (e = 65537)\n"
           "  subject:     %s\n"
           "  state:       %s\n"
           "  certificate: %s\n",
           devstate_purpose_name(purpose), hex, bits,
           sk_device_key_subject(c.key)[0] ? sk_device_key_subject(c.key) : "(none)",
           state_name(sk_device_key_state(c.key)),
           cert_len ? "stored" : "none (the server issued none)");
    if (wrote_csr) {
        char *p = devstate_path(&c.st, purpose, "csr.pem");
        printf("  request:     %s (PKCS#10, signed as the proof of possession)\n", p ? p : "");
        free(p);
    }
    exit_code = CU_EXIT_OK;
end:
    if (exit_code != CU_EXIT_OK && c.st_open)
        devstate_discard_new(&c.st);
    client_end(&c);
done:
    sodium_memzero(token, sizeof token);
    sk_config_free(opts);
    return exit_code;
}

/* ------------------------------------------------------------ sign */

/* Opens DIR and loads the key of --purpose; prints and returns an exit
 * status on failure (0 on success). */
static int open_key(client *c, const char *dir, const char *purpose_name, sk_purpose *purpose)
{
    int e = parse_purpose(purpose, purpose_name);
    if (e != 0)
        return e;
    if (sk_init() != SK_OK) {
        fprintf(stderr, PROG ": cannot initialise libsplitkey\n");
        return CU_EXIT_FAIL;
    }
    int rc = open_state(c, dir, false);
    if (rc == SK_OK)
        rc = load_key(c, *purpose);
    if (rc != SK_OK) {
        fprintf(stderr, PROG ": %s\n", c->err[0] ? c->err : sk_svc_strerror(rc));
        return (rc == SK_SVC_ERR_CONFIG || rc == SK_SVC_ERR_PERM) ? CU_EXIT_USAGE : CU_EXIT_FAIL;
    }
    return 0;
}

/* The key is destroyed as far as the device knows: nothing to ask. */
static int refuse_destroyed(client *c)
{
    if (sk_device_key_state(c->key) != SK_KEY_DESTROYED)
        return 0;
    fprintf(stderr, PROG ": the %s key is destroyed; enrol a new one\n",
            devstate_purpose_name(sk_device_key_purpose(c->key)));
    return CU_EXIT_DESTROYED;
}

static int cmd_sign(int argc, char **argv)
{
    cmd_opts o = {0};
    sk_opt opts[] = {
        OPT_STATE(o),
        OPT_PURPOSE(o),
        OPT_PIN(o),
        {.name = "in", .type = SK_OPT_FILE, .value = &o.in, .flags = SK_OPT_REQUIRED,
         .arg = "FILE", .help = "the document to sign"},
        {.name = "out", .type = SK_OPT_STRING, .value = &o.out, .flags = SK_OPT_REQUIRED,
         .arg = "SIG", .help = "where to write the raw RSA signature"},
        {.name = "scheme", .type = SK_OPT_STRING, .value = &o.scheme, .arg = "pkcs1|pss",
         .help = "signature scheme (default pss)"},
        {.name = "hash", .type = SK_OPT_STRING, .value = &o.hash, .arg = "H",
         .help = "sha256 (default), sha384 or sha512"},
        {.name = "text", .type = SK_OPT_STRING, .value = &o.text, .arg = "TEXT",
         .help = "what the session says (default: the file's name)"},
        {0},
    };
    int exit_code = CU_EXIT_OK;
    client c;
    memset(&c, 0, sizeof c);
    if (parse(opts, NULL, argc, argv,
              "sign --state DIR --purpose auth|sign [--pin-file F] --in FILE --out SIG "
              "[--scheme pkcs1|pss] [--hash H]",
              "Signs FILE with the split key: a session the device opens itself, approved\n"
              "with the PIN.  The signature is verified under n before it is written.",
              &exit_code) != 0)
        goto done;
    sk_purpose purpose;
    sk_scheme scheme;
    sk_hash hash;
    uint8_t digest[SK_MAX_HASH_LEN], sig[SK_MAX_SIG_LEN];
    size_t sig_len = 0;
    char code[5] = "", text[SK_MAX_DISPLAY_TEXT_LEN + 1];
    int rc;

    if ((exit_code = parse_algs(&scheme, &hash, &o)) != 0)
        goto done;
    if ((exit_code = open_key(&c, o.state, o.purpose, &purpose)) != 0)
        goto end;
    if ((exit_code = refuse_destroyed(&c)) != 0)
        goto end;
    rc = cu_hash_file(digest, hash, o.in);
    if (rc != SK_OK) {
        fprintf(stderr, PROG ": --in %s: %s\n", o.in, sk_svc_strerror(rc));
        exit_code = CU_EXIT_USAGE;
        goto end;
    }
    if (o.text != NULL) {
        snprintf(text, sizeof text, "%s", o.text);
    } else {
        const char *base = strrchr(o.in, '/');
        snprintf(text, sizeof text, "Sign %s", base ? base + 1 : o.in);
    }
    for (char *p = text; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = ' ';
    rc = get_pin(&c, purpose, o.pin_file, purpose == SK_PURPOSE_SIGN ? "PIN2: " : "PIN1: ");
    if (rc != SK_OK) {
        fprintf(stderr, PROG ": %s\n", c.err);
        exit_code = CU_EXIT_USAGE;
        goto end;
    }
    rc = settle_pending(&c);
    if (rc == SK_OK)
        rc = sign_digest(&c, digest, hash, scheme, text, sig, &sig_len, code);
    if (rc != SK_OK) {
        exit_code = report(&c, rc, "sign");
        goto end;
    }
    rc = sk_file_write_atomic(o.out, sig, sig_len, SK_FILE_PUBLIC_MODE, 0);
    if (rc != SK_OK) {
        fprintf(stderr, PROG ": --out %s: %s\n", o.out, sk_svc_strerror(rc));
        exit_code = CU_EXIT_FAIL;
        goto end;
    }
    printf("signed %s (%s, %s; verification code %s)\n"
           "signature: %s (%zu bytes), verified under the key's public key\n",
           o.in, sk_scheme_name(scheme), sk_hash_name(hash), code, o.out, sig_len);
end:
    client_end(&c);
done:
    sk_config_free(opts);
    return exit_code;
}

/* ------------------------------------------------------------ sessions */

/* Fetches the sessions waiting for the loaded key.  out receives up to
 * SK_MAX_FETCH_SESSIONS sessions the caller frees. */
static int fetch_sessions(client *c, sk_device_session **out, size_t *count)
{
    *count = 0;
    int rc = settle_pending(c);
    if (rc == SK_OK)
        rc = sk_device_fetch(c->key, c->msg, sizeof c->msg, &c->msg_len, now_s());
    if (rc == SK_OK)
        rc = exchange_pending(c);
    if (rc != SK_OK)
        return rc;
    rc = sk_device_read_sessions(c->key, out, SK_MAX_FETCH_SESSIONS, count, &c->status, c->reply,
                                 c->reply_len);
    int src = save(c);
    drop_reply(c);
    if (rc == SK_ERR_NOT_FOUND) {
        *count = 0;
        rc = SK_OK;
    }
    return rc != SK_OK ? rc : src;
}

static void free_sessions(sk_device_session **s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        sk_device_session_free(s[i]);
        s[i] = NULL;
    }
}

static void print_session(const sk_device_session *s, sk_purpose purpose)
{
    uint8_t id[SK_SESSION_ID_LEN];
    char hex[2 * SK_SESSION_ID_LEN + 1];
    if (sk_device_session_id(s, id, sizeof id) != SK_OK)
        return;
    cu_hex(hex, id, sizeof id);
    const char *rp = sk_device_session_rp_name(s);
    uint64_t exp = sk_device_session_expires_at(s), now = now_s();
    printf("%s  %s  code %s  %s: %s  (%s/%s, expires in %llu s)\n", hex,
           devstate_purpose_name(purpose), sk_device_session_code(s),
           rp != NULL && rp[0] ? rp : "this device", sk_device_session_display_text(s),
           sk_scheme_name(sk_device_session_scheme(s)), sk_hash_name(sk_device_session_hash(s)),
           (unsigned long long)(exp > now ? exp - now : 0));
}

static int cmd_sessions(int argc, char **argv)
{
    cmd_opts o = {0};
    sk_opt opts[] = {OPT_STATE(o), {0}};
    int exit_code = CU_EXIT_OK;
    client c;
    memset(&c, 0, sizeof c);
    if (parse(opts, NULL, argc, argv, "sessions --state DIR",
              "Lists the sessions waiting for this device: id, key, verification code,\n"
              "relying party and what it asks.",
              &exit_code) != 0)
        goto done;
    if (sk_init() != SK_OK || open_state(&c, o.state, false) != SK_OK) {
        fprintf(stderr, PROG ": %s\n", c.err[0] ? c.err : "cannot initialise libsplitkey");
        exit_code = CU_EXIT_USAGE;
        goto end;
    }
    int keys = 0, listed = 0;
    const sk_purpose purposes[] = {SK_PURPOSE_AUTH, SK_PURPOSE_SIGN};
    for (size_t i = 0; i < 2; i++) {
        if (!devstate_has(&c.st, purposes[i]))
            continue;
        int rc = load_key(&c, purposes[i]);
        if (rc != SK_OK) {
            exit_code = report(&c, rc, "state");
            goto end;
        }
        if (sk_device_key_state(c.key) == SK_KEY_DESTROYED)
            continue;
        keys++;
        sk_device_session *s[SK_MAX_FETCH_SESSIONS] = {NULL};
        size_t n = 0;
        rc = fetch_sessions(&c, s, &n);
        if (rc != SK_OK) {
            exit_code = report(&c, rc, devstate_purpose_name(purposes[i]));
            goto end;
        }
        for (size_t j = 0; j < n; j++)
            print_session(s[j], purposes[i]);
        listed += (int)n;
        free_sessions(s, n);
    }
    if (keys == 0) {
        fprintf(stderr, PROG ": no usable key in %s\n", o.state);
        exit_code = CU_EXIT_FAIL;
    } else if (listed == 0) {
        printf("no session is waiting\n");
    }
end:
    client_end(&c);
done:
    sk_config_free(opts);
    return exit_code;
}

/* Finds the waiting session with this id among the keys of the state
 * directory; on success c->key is its key and *found the session. */
static int find_session(client *c, const uint8_t *id, sk_device_session **found)
{
    *found = NULL;
    const sk_purpose purposes[] = {SK_PURPOSE_AUTH, SK_PURPOSE_SIGN};
    int last = SK_ERR_SESSION_UNKNOWN;
    for (size_t i = 0; i < 2 && *found == NULL; i++) {
        if (!devstate_has(&c->st, purposes[i]))
            continue;
        int rc = load_key(c, purposes[i]);
        if (rc != SK_OK)
            return rc;
        if (sk_device_key_state(c->key) == SK_KEY_DESTROYED) {
            last = SK_ERR_DESTROYED;
            continue;
        }
        sk_device_session *s[SK_MAX_FETCH_SESSIONS] = {NULL};
        size_t n = 0;
        rc = fetch_sessions(c, s, &n);
        if (rc != SK_OK)
            return rc;
        for (size_t j = 0; j < n; j++) {
            uint8_t sid[SK_SESSION_ID_LEN];
            if (*found == NULL && sk_device_session_id(s[j], sid, sizeof sid) == SK_OK &&
                memcmp(sid, id, sizeof sid) == 0) {
                *found = s[j];
                s[j] = NULL;
            }
        }
        free_sessions(s, n);
    }
    if (*found == NULL) {
        drop_key(c);
        if (last == SK_ERR_DESTROYED)
            c->status.destroy_reason = SK_DESTROY_NONE;
        return last;
    }
    return SK_OK;
}

static int session_command(int argc, char **argv, bool approve)
{
    cmd_opts o = {0};
    sk_opt approve_opts[] = {
        OPT_STATE(o),
        OPT_PIN(o),
        {.name = "out", .type = SK_OPT_STRING, .value = &o.out, .arg = "SIG",
         .help = "also keep the signature in SIG"},
        {0},
    };
    sk_opt refuse_opts[] = {OPT_STATE(o), {0}};
    sk_opt *opts = approve ? approve_opts : refuse_opts;
    int exit_code = CU_EXIT_OK;
    client c;
    memset(&c, 0, sizeof c);
    sk_device_session *s = NULL;
    if (parse(opts, &o.session, argc, argv,
              approve ? "approve SESSION --state DIR [--pin-file F] [--out SIG]"
                      : "refuse SESSION --state DIR",
              approve ? "Approves a waiting session (see 'sessions') with the PIN of its key."
                      : "Refuses a waiting session (see 'sessions').",
              &exit_code) != 0)
        goto done;
    uint8_t id[SK_SESSION_ID_LEN];
    if (o.session == NULL) {
        exit_code = usage_error("%s", "missing SESSION (an id that 'sessions' lists)");
        goto done;
    }
    if (cu_unhex(id, sizeof id, o.session) != SK_OK) {
        exit_code = usage_error("%s: not a session id (32 hex digits)", o.session);
        goto done;
    }
    if (sk_init() != SK_OK || open_state(&c, o.state, false) != SK_OK) {
        fprintf(stderr, PROG ": %s\n", c.err[0] ? c.err : "cannot initialise libsplitkey");
        exit_code = CU_EXIT_USAGE;
        goto end;
    }
    c.pin_file = o.pin_file;
    c.pin_on_demand = approve;
    uint8_t sig[SK_MAX_SIG_LEN];
    size_t sig_len = 0;
    int rc = find_session(&c, id, &s);
    if (s == NULL && c.settled_known && memcmp(c.settled_sid, id, sizeof c.settled_sid) == 0) {
        /* An earlier run approved or refused this very session and never
         * read the answer; finishing that request answered it: its outcome
         * is this command's. */
        bool was_approval = c.settled_rc == SK_OK && c.settled_sig_len > 0;
        if (c.settled_rc != SK_OK) {
            exit_code = report(&c, c.settled_rc, approve ? "approve" : "refuse");
        } else if (approve && !was_approval) {
            exit_code = report(&c, SK_ERR_SESSION_REFUSED, "approve");
        } else if (!approve && was_approval) {
            fprintf(stderr, PROG ": %s: an earlier run approved this session\n", o.session);
            exit_code = CU_EXIT_FAIL;
        } else if (approve) {
            memcpy(sig, c.settled_sig, c.settled_sig_len);
            sig_len = c.settled_sig_len;
            printf("this session's approval by an earlier run was answered now\n");
            goto approved;
        } else {
            printf("this session's refusal by an earlier run was answered now\nrefused\n");
        }
        goto end;
    }
    if (rc != SK_OK) {
        exit_code = report(&c, rc, o.session);
        goto end;
    }
    sk_purpose purpose = sk_device_key_purpose(c.key);
    const char *rp = sk_device_session_rp_name(s);
    printf("%s asks: %s\nverification code: %s\n", rp && rp[0] ? rp : "this device",
           sk_device_session_display_text(s), sk_device_session_code(s));
    fflush(stdout);
    if (!approve) {
        rc = sk_device_refuse(c.key, c.msg, sizeof c.msg, &c.msg_len, now_s(), s);
        if (rc == SK_OK)
            rc = exchange_pending(&c);
        if (rc == SK_OK) {
            rc = sk_device_read_reply(c.key, &c.status, c.reply, c.reply_len);
            int src = save(&c);
            drop_reply(&c);
            if (rc == SK_OK)
                rc = src;
        }
        if (rc != SK_OK) {
            exit_code = report(&c, rc, "refuse");
            goto end;
        }
        printf("refused\n");
        goto end;
    }
    if (!c.have_pin || c.pin_purpose != purpose) {
        pin_wipe(&c.pin);
        rc = get_pin(&c, purpose, o.pin_file, purpose == SK_PURPOSE_SIGN ? "PIN2: " : "PIN1: ");
        if (rc != SK_OK) {
            fprintf(stderr, PROG ": %s\n", c.err);
            exit_code = CU_EXIT_USAGE;
            goto end;
        }
    }
    rc = approve_session(&c, s, sig, &sig_len);
    if (rc != SK_OK) {
        exit_code = report(&c, rc, "approve");
        goto end;
    }
approved:
    if (o.out != NULL && sk_file_write_atomic(o.out, sig, sig_len, SK_FILE_PUBLIC_MODE, 0) != SK_OK) {
        fprintf(stderr, PROG ": --out %s: cannot write\n", o.out);
        exit_code = CU_EXIT_FAIL;
        goto end;
    }
    printf("approved: the signature (%zu bytes) verified under the key's public key\n", sig_len);
end:
    sk_device_session_free(s);
    client_end(&c);
done:
    sk_config_free(opts);
    return exit_code;
}

static int cmd_approve(int argc, char **argv)
{
    return session_command(argc, argv, true);
}

static int cmd_refuse(int argc, char **argv)
{
    return session_command(argc, argv, false);
}

/* ------------------------------------------------------------ local reads */

static int cmd_pubkey_or_cert(int argc, char **argv, bool cert)
{
    cmd_opts o = {0};
    sk_opt opts[] = {
        OPT_STATE(o),
        OPT_PURPOSE(o),
        {.name = "out", .type = SK_OPT_STRING, .value = &o.out, .flags = SK_OPT_REQUIRED,
         .arg = cert ? "CERT.pem" : "PUB.pem", .help = "where to write it (PEM)"},
        {0},
    };
    int exit_code = CU_EXIT_OK;
    client c;
    memset(&c, 0, sizeof c);
    if (parse(opts, NULL, argc, argv,
              cert ? "cert --state DIR --purpose auth|sign --out CERT.pem"
                   : "pubkey --state DIR --purpose auth|sign --out PUB.pem",
              cert ? "Writes the key's X.509 certificate as the server delivered it."
                   : "Writes the composite public key n (SubjectPublicKeyInfo, PEM).",
              &exit_code) != 0)
        goto done;
    sk_purpose purpose;
    if ((exit_code = open_key(&c, o.state, o.purpose, &purpose)) != 0)
        goto end;
    int rc;
    if (cert) {
        static uint8_t der[SK_MAX_MESSAGE_LEN];
        size_t len = 0;
        rc = sk_device_key_certificate(c.key, der, sizeof der, &len);
        if (rc == SK_OK && len == 0) {
            fprintf(stderr,
                    PROG ": no certificate is stored for the %s key (the server has no CA, "
                         "or it has not delivered one yet)\n",
                    devstate_purpose_name(purpose));
            exit_code = CU_EXIT_FAIL;
            goto end;
        }
        if (rc == SK_OK)
            rc = cu_write_pem(o.out, "CERTIFICATE", der, len);
    } else {
        sk_pubkey *pub = NULL;
        rc = sk_device_key_pubkey(c.key, &pub);
        if (rc == SK_OK)
            rc = cu_write_pubkey(o.out, pub);
        sk_pubkey_free(pub);
    }
    if (rc != SK_OK) {
        fprintf(stderr, PROG ": --out %s: %s\n", o.out, sk_svc_strerror(rc));
        exit_code = CU_EXIT_FAIL;
        goto end;
    }
    printf("wrote %s\n", o.out);
end:
    client_end(&c);
done:
    sk_config_free(opts);
    return exit_code;
}

static int cmd_pubkey(int argc, char **argv)
{
    return cmd_pubkey_or_cert(argc, argv, false);
}

static int cmd_cert(int argc, char **argv)
{
    return cmd_pubkey_or_cert(argc, argv, true);
}

/* ------------------------------------------------------------ status, revoke */

static void print_status(const client *c, sk_purpose purpose, const sk_key_status *st)
{
    uint8_t id[SK_KEY_ID_LEN];
    char hex[2 * SK_KEY_ID_LEN + 1] = "?", when[40] = "-";
    if (sk_device_key_id(c->key, id, sizeof id) == SK_OK)
        cu_hex(hex, id, sizeof id);
    if (st->locked_until > now_s())
        cu_time(when, sizeof when, st->locked_until);
    printf("purpose:       %s\n"
           "key id:        %s\n"
           "state:         %s%s%s%s\n"
           "attempts left: %u\n"
           "locked until:  %s\n",
           devstate_purpose_name(purpose), hex, state_name(st->state),
           st->state == SK_KEY_DESTROYED ? " (" : "",
           st->state == SK_KEY_DESTROYED ? reason_name(st->destroy_reason) : "",
           st->state == SK_KEY_DESTROYED ? ")" : "", st->attempts_left, when);
}

static int cmd_status(int argc, char **argv)
{
    cmd_opts o = {0};
    sk_opt opts[] = {OPT_STATE(o), OPT_PURPOSE(o), {0}};
    int exit_code = CU_EXIT_OK;
    client c;
    memset(&c, 0, sizeof c);
    if (parse(opts, NULL, argc, argv, "status --state DIR --purpose auth|sign",
              "Asks the server for the key's state, PIN attempts left and any lock.",
              &exit_code) != 0)
        goto done;
    sk_purpose purpose;
    if ((exit_code = open_key(&c, o.state, o.purpose, &purpose)) != 0)
        goto end;
    sk_key_status st;
    memset(&st, 0, sizeof st);
    if (sk_device_key_state(c.key) == SK_KEY_DESTROYED) {
        st.state = SK_KEY_DESTROYED;
        print_status(&c, purpose, &st);
        goto end;
    }
    int rc = settle_pending(&c);
    if (rc == SK_OK)
        rc = sk_device_key_state_request(c.key, c.msg, sizeof c.msg, &c.msg_len, now_s());
    if (rc == SK_OK)
        rc = exchange_pending(&c);
    if (rc == SK_OK) {
        rc = sk_device_read_reply(c.key, &st, c.reply, c.reply_len);
        int src = save(&c);
        drop_reply(&c);
        if (rc == SK_OK)
            rc = src;
    }
    if (rc == SK_ERR_DESTROYED || rc == SK_ERR_CLONE_DETECTED) {
        st.state = SK_KEY_DESTROYED;
        rc = SK_OK;
    }
    if (rc != SK_OK) {
        exit_code = report(&c, rc, "status");
        goto end;
    }
    print_status(&c, purpose, &st);
end:
    client_end(&c);
done:
    sk_config_free(opts);
    return exit_code;
}

static int cmd_revoke(int argc, char **argv)
{
    cmd_opts o = {0};
    sk_opt opts[] = {OPT_STATE(o), OPT_PURPOSE(o), OPT_PIN(o), {0}};
    int exit_code = CU_EXIT_OK;
    client c;
    memset(&c, 0, sizeof c);
    if (parse(opts, NULL, argc, argv, "revoke --state DIR --purpose auth|sign [--pin-file F]",
              "Destroys the key at the server (authorised by the PIN) and revokes its\n"
              "certificate.  It never signs again.",
              &exit_code) != 0)
        goto done;
    sk_purpose purpose;
    if ((exit_code = open_key(&c, o.state, o.purpose, &purpose)) != 0)
        goto end;
    if ((exit_code = refuse_destroyed(&c)) != 0)
        goto end;
    int rc = get_pin(&c, purpose, o.pin_file, purpose == SK_PURPOSE_SIGN ? "PIN2: " : "PIN1: ");
    if (rc != SK_OK) {
        fprintf(stderr, PROG ": %s\n", c.err);
        exit_code = CU_EXIT_USAGE;
        goto end;
    }
    rc = settle_pending(&c);
    if (rc == SK_OK)
        rc = sk_device_revoke(c.key, c.msg, sizeof c.msg, &c.msg_len, now_s(), c.pin.digits,
                              c.pin.len);
    if (rc == SK_OK)
        rc = exchange_pending(&c);
    if (rc == SK_OK) {
        rc = sk_device_read_reply(c.key, &c.status, c.reply, c.reply_len);
        int src = save(&c);
        drop_reply(&c);
        if (rc == SK_OK)
            rc = src;
    }
    if (rc != SK_OK) {
        exit_code = report(&c, rc, "revoke");
        goto end;
    }
    printf("revoked: the %s key is destroyed at the server and will never sign again\n",
           devstate_purpose_name(purpose));
end:
    client_end(&c);
done:
    sk_config_free(opts);
    return exit_code;
}

/* ------------------------------------------------------------ main */

static void usage(FILE *out)
{
    fprintf(out,
            "usage: " PROG " COMMAND [OPTIONS]\n"
            "\n"
            "The device side of splitkey: one share of each split key stays here, behind\n"
            "a PIN (PIN1: authentication key, at least 4 digits; PIN2: signing key, at\n"
            "least 5); the share server holds the other.\n"
            "\n"
            "commands:\n"
            "  enrol     create a key with the share server (--purpose auth|sign)\n"
            "  sign      sign a file with a key (a session this device opens)\n"
            "  sessions  list the sessions relying parties opened for this device\n"
            "  approve   approve a session with the PIN\n"
            "  refuse    refuse a session\n"
            "  pubkey    write a key's public key (PEM)\n"
            "  cert      write a key's certificate (PEM)\n"
            "  status    a key's state at the server: attempts left, lock\n"
            "  revoke    destroy a key at the server (with the PIN)\n"
            "\n"
            "Run '" PROG " COMMAND --help' for the options of a command.  The PIN is read\n"
            "from --pin-file FILE or from the terminal, never from the command line.\n"
            "A server that is not there is reported at once.  A request waits\n"
            "SPLITKEY_CLIENT_TIMEOUT_MS milliseconds for its reply (100 to 600000,\n"
            "default 20000); an approval or revocation whose reply is lost is sent\n"
            "again with the same request id.\n"
            "Exit status: 0 ok, 2 usage or configuration, 3 wrong PIN, 4 key locked,\n"
            "5 key destroyed, 6 session expired or refused, 1 other failure.\n");
}

int main(int argc, char **argv)
{
    static const sk_command commands[] = {
        {"enrol", cmd_enrol},
        {"sign", cmd_sign},
        {"sessions", cmd_sessions},
        {"approve", cmd_approve},
        {"refuse", cmd_refuse},
        {"pubkey", cmd_pubkey},
        {"cert", cmd_cert},
        {"status", cmd_status},
        {"revoke", cmd_revoke},
        {NULL, NULL},
    };
    /* a bad reply timeout is a usage error of every command (but --help) */
    bool help = false;
    for (int i = 1; i < argc; i++)
        help = help || strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0;
    unsigned timeout;
    if (!help && argc > 1 && env_timeout(&timeout) != 0)
        return usage_error(TIMEOUT_ENV "=%s: not a number of milliseconds from %lu to %lu",
                           getenv(TIMEOUT_ENV), TIMEOUT_MIN_MS, TIMEOUT_MAX_MS);
    return sk_command_dispatch(argc, argv, PROG, commands, usage);
}
