/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ra_drive - a device (the library's device role) against a running
 * splitkey-server that is a registration authority of splitkey-ca, for the
 * RA tests (tests/services/server_ra.sh).  The device state is kept sealed
 * in --state FILE between runs (under a fixed storage key: test use only).
 *
 *   ra_drive --server URL --server-pub FILE --state FILE [options] MODE [ARGS]
 *
 * Modes:
 *   enrol            enrols (open enrolment with --subject) and makes the
 *                    proof of possession with sk_device_pop_create(); exit 0
 *                    when the sign reply carried a certificate for n (written
 *                    to --cert-out as DER), 3 when the server said the CA
 *                    is unavailable or refused (the state is kept), 1 else
 *   pop-retry        fetches the waiting proof-of-possession session and
 *                    approves it again; exits as enrol
 *   sign IN SIG      a device-initiated session over SHA-256(IN), PKCS#1
 *                    v1.5, approved; the raw signature goes to SIG, and the
 *                    certificate the reply carried to --cert-out
 *   rp IN SIG        a relying party on the server's HTTPS API (--api URL
 *                    --server-cert-sha256 HEX --rp-cert FILE --rp-key FILE
 *                    --rp-uuid UUID) asks by person id (--person) for a
 *                    signature of SHA-256(IN); the device fetches and
 *                    approves it; the session result's signature goes to SIG
 *                    and its certificate to --cert-out
 *   clone            signs with the state, then with the copy made before
 *                    (one second later, so its counter passes): exit 0 when
 *                    the copy gets CLONE_DETECTED
 *   lockout          wrong PINs until the key is destroyed, waiting out each
 *                    time lock (run the server with short --lock*-seconds):
 *                    exit 0 when the key is DESTROYED for lockout
 *   state            prints the server's view: "state N" (sk_key_state)
 *
 * Options: --purpose sign|auth (sign), --subject S, --person ID,
 * --cert-out FILE, --pub-out FILE (enrol: n as the device computed it, PEM),
 * --timeout MS.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "error_reply.h"
#include "fileio.h"
#include "req_client.h"
#include "rp_api.h"
#include "server_pub.h"
#include "splitkey/device.h"
#include "splitkey/key.h"
#include "splitkey/sign.h"
#include "splitkey/splitkey.h"

#define PIN_SIGN "52719"
#define PIN_AUTH "5271"
#define WRONG_SIGN "00000"
#define WRONG_AUTH "0000"

static const uint8_t storage_key[SK_STORAGE_KEY_LEN] = "ra_drive test storage key ......";

static struct {
    const char *url, *state, *subject, *person, *cert_out, *pub_out;
    uint8_t server_pub[SK_SERVER_PUB_LEN];
    sk_purpose purpose;
    unsigned timeout_ms;
} opt = {.purpose = SK_PURPOSE_SIGN, .timeout_ms = 20000};

/* rp: the relying party on the server's HTTPS API (rp_test_lib.sh's
 * RP_API_ARGS) */
static rp_api_conf rp = {.name = "ra_drive bank"};

static sk_req_client *net;
static uint8_t msg[SK_MAX_MESSAGE_LEN];
static size_t msg_len;

static void die(const char *what, int rc)
{
    fprintf(stderr, "ra_drive: %s%s%s\n", what, rc ? ": " : "", rc ? sk_strerror(rc) : "");
    exit(1);
}

static const char *pin(void) { return opt.purpose == SK_PURPOSE_SIGN ? PIN_SIGN : PIN_AUTH; }
static const char *wrong_pin(void)
{
    return opt.purpose == SK_PURPOSE_SIGN ? WRONG_SIGN : WRONG_AUTH;
}

/* tag || bytes -> the protocol reply (malloc'd), or an error code. */
static int call(const char *tag, const uint8_t *req, size_t len, uint8_t **rep, size_t *rep_len)
{
    uint8_t *buf = malloc(len + 4);
    *rep = NULL;
    *rep_len = 0;
    if (buf == NULL)
        return SK_ERR_NOMEM;
    memcpy(buf, tag, 4);
    memcpy(buf + 4, req, len);
    int rc = sk_req_client_call(net, rep, rep_len, buf, len + 4);
    sodium_memzero(buf, len + 4);
    free(buf);
    if (rc != SK_OK)
        return rc;
    int code = 0;
    if (sk_error_reply_decode(&code, *rep, *rep_len) == SK_OK) {
        free(*rep);
        *rep = NULL;
        *rep_len = 0;
        return code;
    }
    return SK_OK;
}

static void drop(uint8_t *rep, size_t len)
{
    if (rep != NULL)
        sodium_memzero(rep, len);
    free(rep);
}

static void save(const sk_device_key *key, const char *path)
{
    static uint8_t sealed[SK_MAX_MESSAGE_LEN];
    size_t len = 0;
    int rc = sk_device_key_seal(key, sealed, sizeof sealed, &len, storage_key, sizeof storage_key);
    if (rc == SK_OK)
        rc = sk_file_write_atomic(path, sealed, len, SK_FILE_SECRET_MODE, 0);
    if (rc != SK_OK)
        die("cannot store the device state", rc);
}

static sk_device_key *load(const char *path)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    sk_device_key *key = NULL;
    int rc = sk_file_read(&buf, &len, path, SK_MAX_MESSAGE_LEN, 0);
    if (rc == SK_OK)
        rc = sk_device_key_open(&key, buf, len, storage_key, sizeof storage_key);
    sk_file_free(buf, len);
    if (rc != SK_OK)
        die("cannot open the device state", rc);
    return key;
}

static uint64_t now_s(void) { return (uint64_t)time(NULL); }

/* Sends msg and reads the reply with read_session / read_signature ... */
static int exchange(uint8_t **rep, size_t *rl)
{
    int rc = call("SKD1", msg, msg_len, rep, rl);
    sodium_memzero(msg, sizeof msg);
    return rc;
}

static int approve(sk_device_key *key, const sk_device_session *s, const char *p, uint8_t *sig,
                   size_t *sig_len, sk_key_status *st)
{
    uint8_t *rep = NULL;
    size_t rl = 0;
    int rc = sk_device_approve(key, msg, sizeof msg, &msg_len, now_s(), s, (const uint8_t *)p,
                               strlen(p));
    if (rc == SK_OK)
        rc = exchange(&rep, &rl);
    if (rc == SK_OK)
        rc = sk_device_read_signature(key, sig, SK_MAX_SIG_LEN, sig_len, st, rep, rl);
    drop(rep, rl);
    return rc;
}

static int read_session_reply(sk_device_key *key, sk_device_session **s, sk_key_status *st)
{
    uint8_t *rep = NULL;
    size_t rl = 0;
    int rc = exchange(&rep, &rl);
    if (rc == SK_OK)
        rc = sk_device_read_session(key, s, st, rep, rl);
    drop(rep, rl);
    return rc;
}

static int sign_digest(sk_device_key *key, const uint8_t *digest, const char *p, uint8_t *sig,
                       size_t *sig_len, sk_key_status *st)
{
    sk_device_session *s = NULL;
    int rc = sk_device_session_create(key, msg, sizeof msg, &msg_len, now_s(), digest, 32,
                                      SK_HASH_SHA256, SK_SCHEME_PKCS1, "ra_drive");
    if (rc == SK_OK)
        rc = read_session_reply(key, &s, st);
    if (rc == SK_OK)
        rc = approve(key, s, p, sig, sig_len, st);
    sk_device_session_free(s);
    return rc;
}

static void write_cert(const sk_device_key *key)
{
    static uint8_t der[16384];
    size_t len = 0;
    if (sk_device_key_certificate(key, der, sizeof der, &len) != SK_OK || len == 0) {
        fprintf(stderr, "ra_drive: the device has no certificate\n");
        exit(1);
    }
    if (opt.cert_out != NULL &&
        sk_file_write_atomic(opt.cert_out, der, len, SK_FILE_PUBLIC_MODE, 0) != SK_OK)
        die("cannot write the certificate", 0);
}

/* The end of a proof of possession: 0 with a certificate, 3 when the CA
 * did not issue, 1 otherwise. */
static int pop_outcome(sk_device_key *key, int rc)
{
    save(key, opt.state);
    if (rc == SK_ERR_CA_UNAVAILABLE || rc == SK_ERR_CA_REFUSED) {
        printf("pop: %s; device state %d\n", sk_strerror(rc), (int)sk_device_key_state(key));
        return 3;
    }
    if (rc != SK_OK) {
        fprintf(stderr, "ra_drive: proof of possession: %s\n", sk_strerror(rc));
        return 1;
    }
    write_cert(key);
    printf("pop: certificate received; device state %d\n", (int)sk_device_key_state(key));
    return 0;
}

static int mode_enrol(void)
{
    sk_device_enrolment *e = NULL;
    sk_device_key *key = NULL;
    uint8_t *rep = NULL;
    size_t rl = 0;
    int rc = sk_device_enrol_start(&e, msg, sizeof msg, &msg_len, opt.server_pub,
                                   sizeof opt.server_pub, opt.purpose, SK_PROFILE_4K,
                                   (const uint8_t *)pin(), strlen(pin()), SK_KDF_MINIMUM, NULL,
                                   opt.subject);
    if (rc == SK_OK)
        rc = exchange(&rep, &rl);
    if (rc == SK_OK)
        rc = sk_device_enrol_continue(e, msg, sizeof msg, &msg_len, rep, rl);
    drop(rep, rl);
    rep = NULL;
    if (rc == SK_OK)
        rc = exchange(&rep, &rl);
    if (rc == SK_OK)
        rc = sk_device_enrol_finish(e, &key, rep, rl);
    drop(rep, rl);
    sk_device_enrolment_free(e);
    if (rc != SK_OK)
        die("enrolment", rc);
    save(key, opt.state);
    if (opt.pub_out != NULL) {
        /* the composite n as the device computed it */
        sk_pubkey *pub = NULL;
        char pem[4096];
        size_t pem_len = 0;
        rc = sk_device_key_pubkey(key, &pub);
        if (rc == SK_OK)
            rc = sk_pubkey_export_pem(pub, pem, sizeof pem, &pem_len);
        sk_pubkey_free(pub);
        if (rc != SK_OK || sk_file_write_atomic(opt.pub_out, (const uint8_t *)pem, pem_len,
                                                SK_FILE_PUBLIC_MODE, 0) != SK_OK)
            die("cannot write the public key", rc);
    }

    sk_device_session *s = NULL;
    uint8_t sig[SK_MAX_SIG_LEN];
    size_t sig_len = 0;
    rc = sk_device_pop_create(key, msg, sizeof msg, &msg_len, now_s(), SK_HASH_SHA256,
                              "Enrolment", NULL, 0);
    if (rc == SK_OK)
        rc = read_session_reply(key, &s, NULL);
    if (rc == SK_OK)
        rc = approve(key, s, pin(), sig, &sig_len, NULL);
    sk_device_session_free(s);
    rc = pop_outcome(key, rc);
    sk_device_key_free(key);
    return rc;
}

static int mode_pop_retry(void)
{
    sk_device_key *key = load(opt.state);
    sk_device_session *s = NULL;
    uint8_t sig[SK_MAX_SIG_LEN];
    size_t sig_len = 0;
    int rc = sk_device_fetch(key, msg, sizeof msg, &msg_len, now_s());
    if (rc == SK_OK)
        rc = read_session_reply(key, &s, NULL);
    if (rc == SK_OK)
        rc = approve(key, s, pin(), sig, &sig_len, NULL);
    sk_device_session_free(s);
    rc = pop_outcome(key, rc);
    sk_device_key_free(key);
    return rc;
}

static void digest_file(uint8_t digest[32], const char *path)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    if (sk_file_read(&buf, &len, path, 1u << 20, 0) != SK_OK)
        die("cannot read the input", 0);
    if (sk_digest(digest, 32, SK_HASH_SHA256, buf, len) != SK_OK)
        die("hash", 0);
    sk_file_free(buf, len);
}

static int mode_sign(const char *in, const char *out)
{
    sk_device_key *key = load(opt.state);
    uint8_t digest[32], sig[SK_MAX_SIG_LEN];
    size_t sig_len = 0;
    digest_file(digest, in);
    int rc = sign_digest(key, digest, pin(), sig, &sig_len, NULL);
    save(key, opt.state);
    if (rc != SK_OK)
        die("sign", rc);
    if (sk_file_write_atomic(out, sig, sig_len, SK_FILE_PUBLIC_MODE, 0) != SK_OK)
        die("cannot write the signature", 0);
    write_cert(key);
    sk_device_key_free(key);
    return 0;
}

/* ---------------------------------------------------------- relying party */

static int mode_rp(const char *in, const char *out)
{
    sk_device_key *key = load(opt.state);
    uint8_t digest[32], sig[SK_MAX_SIG_LEN];
    size_t sig_len = 0;
    char why[512], sid[128];
    rp_api *api = NULL;
    digest_file(digest, in);
    if (opt.person == NULL)
        die("rp needs --person", 0);
    if (rp.url == NULL)
        die("rp needs the relying-party API (--api, --server-cert-sha256, --rp-cert, "
            "--rp-key, --rp-uuid)", 0);
    if (rp_api_new(&api, &rp, why, sizeof why) != 0 ||
        rp_api_start(api,
                     &(rp_api_create){.purpose = opt.purpose, .person = opt.person,
                                      .digest = digest, .hash = SK_HASH_SHA256,
                                      .text = "Sign the contract", .advanced = true},
                     sid, sizeof sid, why, sizeof why) != 0) {
        fprintf(stderr, "ra_drive: relying party: %s\n", why);
        exit(1);
    }

    sk_device_session *s = NULL;
    int rc = sk_device_fetch(key, msg, sizeof msg, &msg_len, now_s());
    if (rc == SK_OK)
        rc = read_session_reply(key, &s, NULL);
    if (rc == SK_OK)
        rc = approve(key, s, pin(), sig, &sig_len, NULL);
    sk_device_session_free(s);
    save(key, opt.state);
    if (rc != SK_OK)
        die("device approval", rc);

    rp_api_result *res = calloc(1, sizeof *res);
    if (res == NULL)
        die("out of memory", 0);
    rc = 1;
    for (int round = 0; round < 30; round++) {
        rc = rp_api_poll(api, sid, 10000, res, why, sizeof why);
        if (rc != 0 || res->complete)
            break;
    }
    if (rc != 0 || !res->complete || strcmp(res->end_result, "OK") != 0) {
        fprintf(stderr, "ra_drive: relying party: poll: %s\n",
                rc != 0 ? why : res->complete ? res->end_result : "still running");
        exit(1);
    }
    int ok = res->sig_len > 0 && res->cert_len > 0 &&
             sk_file_write_atomic(out, res->sig, res->sig_len, SK_FILE_PUBLIC_MODE, 0) == SK_OK &&
             (opt.cert_out == NULL ||
              sk_file_write_atomic(opt.cert_out, res->cert, res->cert_len, SK_FILE_PUBLIC_MODE,
                                   0) == SK_OK);
    free(res);
    rp_api_free(api);
    sk_device_key_free(key);
    if (!ok)
        die("relying party: the result lacks a signature or a certificate", 0);
    return 0;
}

/* ------------------------------------------------------- clone, lockout */

static int mode_clone(void)
{
    sk_device_key *orig = load(opt.state);
    sk_device_key *copy = load(opt.state);
    uint8_t digest[32], sig[SK_MAX_SIG_LEN];
    size_t sig_len = 0;
    sk_key_status st;
    memset(digest, 0x5a, sizeof digest);
    int rc = sign_digest(orig, digest, pin(), sig, &sig_len, &st);
    save(orig, opt.state);
    if (rc != SK_OK)
        die("the original did not sign", rc);
    struct timespec later = {.tv_sec = 1, .tv_nsec = 100000000L};
    nanosleep(&later, NULL); /* the copy's counter must pass the replay check */
    memset(&st, 0, sizeof st);
    rc = sign_digest(copy, digest, pin(), sig, &sig_len, &st);
    printf("copy: %s (destroy reason %d)\n", sk_strerror(rc), (int)st.destroy_reason);
    sk_device_key_free(orig);
    sk_device_key_free(copy);
    return rc == SK_ERR_CLONE_DETECTED ? 0 : 1;
}

static int mode_lockout(void)
{
    sk_device_key *key = load(opt.state);
    uint8_t digest[32], sig[SK_MAX_SIG_LEN];
    size_t sig_len = 0;
    memset(digest, 0x33, sizeof digest);
    for (int i = 0; i < 40; i++) {
        sk_key_status st;
        memset(&st, 0, sizeof st);
        int rc = sign_digest(key, digest, wrong_pin(), sig, &sig_len, &st);
        save(key, opt.state);
        printf("wrong PIN: %s (attempts left %u)\n", sk_strerror(rc), st.attempts_left);
        if (rc == SK_ERR_DESTROYED) {
            sk_device_key_free(key);
            return st.destroy_reason == SK_DESTROY_LOCKOUT ? 0 : 1;
        }
        if (rc == SK_ERR_LOCKED || (rc == SK_ERR_WRONG_PIN && st.locked_until != 0)) {
            /* wait the lock out (the server's clock is this machine's) */
            while (now_s() <= st.locked_until) {
                struct timespec t = {.tv_sec = 0, .tv_nsec = 200000000L};
                nanosleep(&t, NULL);
            }
        } else if (rc != SK_ERR_WRONG_PIN) {
            die("unexpected reply", rc);
        }
    }
    sk_device_key_free(key);
    return 1;
}

static int mode_state(void)
{
    sk_device_key *key = load(opt.state);
    sk_key_status st;
    uint8_t *rep = NULL;
    size_t rl = 0;
    memset(&st, 0, sizeof st);
    int rc = sk_device_key_state_request(key, msg, sizeof msg, &msg_len, now_s());
    if (rc == SK_OK)
        rc = exchange(&rep, &rl);
    if (rc == SK_OK)
        rc = sk_device_read_reply(key, &st, rep, rl);
    drop(rep, rl);
    save(key, opt.state);
    sk_device_key_free(key);
    if (rc != SK_OK)
        die("key state", rc);
    printf("state %d\n", (int)st.state);
    return 0;
}

int main(int argc, char **argv)
{
    const char *server_pub = NULL;
    int i = 1;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
        if (i + 1 >= argc)
            die("option without a value", 0);
        const char *v = argv[i + 1];
        if (!strcmp(argv[i], "--server"))
            opt.url = v;
        else if (!strcmp(argv[i], "--server-pub"))
            server_pub = v;
        else if (!strcmp(argv[i], "--state"))
            opt.state = v;
        else if (!strcmp(argv[i], "--subject"))
            opt.subject = v;
        else if (!strcmp(argv[i], "--person"))
            opt.person = v;
        else if (!strcmp(argv[i], "--cert-out"))
            opt.cert_out = v;
        else if (!strcmp(argv[i], "--pub-out"))
            opt.pub_out = v;
        else if (!strcmp(argv[i], "--timeout"))
            opt.timeout_ms = (unsigned)strtoul(v, NULL, 10);
        else if (!strcmp(argv[i], "--api"))
            rp.url = v;
        else if (!strcmp(argv[i], "--server-cert-sha256"))
            rp.server_cert_sha256 = v;
        else if (!strcmp(argv[i], "--rp-cert"))
            rp.rp_cert = v;
        else if (!strcmp(argv[i], "--rp-key"))
            rp.rp_key = v;
        else if (!strcmp(argv[i], "--rp-uuid"))
            rp.uuid = v;
        else if (!strcmp(argv[i], "--purpose"))
            opt.purpose = !strcmp(v, "auth") ? SK_PURPOSE_AUTH : SK_PURPOSE_SIGN;
        else
            die("unknown option", 0);
    }
    if (i >= argc || opt.url == NULL || server_pub == NULL || opt.state == NULL) {
        fprintf(stderr, "usage: ra_drive --server URL --server-pub FILE --state FILE "
                        "[options] MODE [ARGS]\n");
        return 2;
    }
    const char *mode = argv[i];
    if (sk_init() != SK_OK)
        die("sk_init", 0);
    sk_server_pub pub;
    if (sk_server_pub_load(&pub, server_pub) != SK_OK)
        die("cannot read --server-pub", 0);
    memcpy(opt.server_pub, pub.kx_pub, 32);
    memcpy(opt.server_pub + 32, pub.sign_pub, 32);
    if (sk_req_client_open(&net, opt.url, opt.timeout_ms, 0) != SK_OK)
        die("cannot open a client", 0);
    int rc;
    if (!strcmp(mode, "enrol"))
        rc = mode_enrol();
    else if (!strcmp(mode, "pop-retry"))
        rc = mode_pop_retry();
    else if (!strcmp(mode, "sign") && i + 2 < argc)
        rc = mode_sign(argv[i + 1], argv[i + 2]);
    else if (!strcmp(mode, "rp") && i + 2 < argc)
        rc = mode_rp(argv[i + 1], argv[i + 2]);
    else if (!strcmp(mode, "clone"))
        rc = mode_clone();
    else if (!strcmp(mode, "lockout"))
        rc = mode_lockout();
    else if (!strcmp(mode, "state"))
        rc = mode_state();
    else {
        fprintf(stderr, "ra_drive: unknown mode %s\n", mode);
        rc = 2;
    }
    sk_req_client_close(net);
    return rc;
}
