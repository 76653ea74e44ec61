/* SPDX-License-Identifier: Apache-2.0 */
/*
 * splitkey-rp - a relying party: asks the share server, over its HTTPS
 * relying-party API (doc/rp-api.md), for a person's signature or
 * authentication, shows the verification code at once, waits for the
 * person to confirm it on the device, and checks the result.
 *
 *   splitkey-rp sign --api URL AUTH... --person ID|--document NUMBER
 *                    --purpose sign|auth|seal --in FILE --out SIG
 *                    --ca-cert CA.pem|--pub PUB.pem [--hash H] [--text "..."]
 *   splitkey-rp auth --api URL AUTH... --person ID|--document NUMBER
 *                    --ca-cert CA.pem|--pub PUB.pem
 *   splitkey-rp serve --http HOST:PORT --api URL AUTH... --ca-cert CA.pem
 * AUTH: --server-cert PINNED.pem|--server-cert-sha256 HEX, --rp-cert,
 * --rp-key, --rp-uuid and --name as registered (splitkey-server rp add).
 *
 * The person id is the ETSI semantics identifier of the registered
 * subject (e.g. PNOLV-010101-12345; an organisation's, e.g.
 * VATLV-40003000000, for a seal).  The signature is verified before the
 * program reports success: under the certificate's key, which --ca-cert
 * validates too (chain, dates, key usage, policy, person, OCSP), or, for
 * a server without a CA, under the public key given with --pub.
 *
 * The v2 API has no cancel: a relying party that gives up (--timeout, or
 * SIGINT / SIGTERM) stops polling, and the server ends the session once
 * nobody has polled it for its idle limit (--rp-idle-seconds).
 *
 * Exit status: 0 ok, 2 usage, 4 the person's account needs attention on
 * the device (HTTP 472: locked, or not active yet), 5 the key can no longer
 * be used (DOCUMENT_UNUSABLE), 6 refused, expired, wrong verification code
 * or no answer within --timeout, 7 certificate invalid (chain, dates, key
 * usage, policy, person; --ca-cert), 8 certificate revoked (OCSP), 9 OCSP
 * unknown or unavailable, 130 interrupted (SIGINT or SIGTERM while
 * waiting), 1 anything else (including a signature that does not verify,
 * an unknown person and a refused request).
 */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "command.h"
#include "cliutil.h"
#include "config.h"
#include "fileio.h"
#include "rp_api.h"
#include "rp_check.h"
#include "rp_web.h"
#include "splitkey/pki.h"
#include "splitkey/sign.h"
#include "splitkey/splitkey.h"
#include "etsi_id.h"
#include "svc_error.h"

#define PROG "splitkey-rp"
#define POLL_INTERVAL_MS 300u /* the least time between two polls */
#define POLL_WAIT_MS 10000u    /* how long a poll lets the server hold the answer */
#define DEFAULT_TIMEOUT_S 150u
#define EXIT_INTERRUPTED 130 /* 128 + SIGINT, as a shell shows an interrupt */

typedef struct rp_opts {
    char *person, *purpose, *in, *out, *hash, *text, *cert_out, *pub, *server, *scheme,
        *name, *ca_cert, *api, *server_cert, *server_cert_sha256, *rp_cert, *rp_key,
        *rp_uuid, *document;
    unsigned timeout, ocsp_timeout;
    char *level, *interaction; /* --level, --interaction */
} rp_opts;

/* Who the session is for, as the messages name it. */
static const char *who(const rp_opts *o)
{
    return o->person != NULL ? o->person : o->document;
}

#define usage_error(...) cu_usage_error(PROG, __VA_ARGS__)

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

/* ------------------------------------------------------------- stopping */

/* SIGINT or SIGTERM while the session is open: the program says so and
 * exits 130 at once, nothing written (--out and --cert-out are written
 * only after the checks).  The v2 API has no cancel: the server ends a
 * session its relying party stopped polling (doc/rp.md).  The handler is
 * installed over whatever the program inherited - a shell starts
 * background jobs with SIGINT ignored - and the inherited actions come back
 * before the answer is checked and written. */
static void on_stop(int sig)
{
    static const char term[] = PROG ": interrupted (SIGTERM); the session is left to the "
                                    "server, which ends it once nobody polls\n";
    static const char intr[] = PROG ": interrupted (SIGINT); the session is left to the "
                                    "server, which ends it once nobody polls\n";
    if (sig == SIGTERM)
        (void)!write(2, term, sizeof term - 1);
    else
        (void)!write(2, intr, sizeof intr - 1);
    _exit(EXIT_INTERRUPTED);
}

static void catch_stop(bool on, struct sigaction old[2])
{
    if (on) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sigemptyset(&sa.sa_mask);
        sa.sa_handler = on_stop;
        sigaction(SIGINT, &sa, &old[0]);
        sigaction(SIGTERM, &sa, &old[1]);
    } else {
        sigaction(SIGINT, &old[0], NULL);
        sigaction(SIGTERM, &old[1], NULL);
    }
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
    if (o->ca_cert != NULL && cert_len == 0) {
        /* --ca-cert: an answer without a certificate has nothing to validate */
        fprintf(stderr, PROG ": certificate refused: the answer carries none, and --ca-cert "
                        "requires one\n");
        return RP_CHECK_INVALID;
    }
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
    bool stopping = false;
    struct sigaction old_actions[2];
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
    catch_stop(true, old_actions);
    stopping = true;
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
    catch_stop(false, old_actions); /* answered: no session left to leave */
    stopping = false;
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
    if (stopping)
        catch_stop(false, old_actions);
    rp_api_free(a);
    free(r);
    return exit_code;
}
static int parse(sk_opt *opts, int argc, char **argv, const char *synopsis, const char *about,
                 int *exit_code)
{
    return cu_parse_options(PROG, opts, NULL, argc, argv, synopsis, about, exit_code);
}

/* How this relying party reaches and authenticates to the API: the same in
 * every command. */
#define API_OPTS(o)                                                                             \
    {.name = "api", .type = SK_OPT_STRING, .value = &(o).api, .arg = "URL",                     \
     .help = "the share server's HTTPS relying-party API, e.g. https://127.0.0.1:8443/v2/"},    \
    {.name = "server", .type = SK_OPT_STRING, .value = &(o).server, .arg = "URL",               \
     .help = "the same as --api (an https:// URL; the device socket refuses relying "          \
             "parties)"},                                                                       \
    {.name = "server-cert", .type = SK_OPT_FILE, .value = &(o).server_cert, .arg = "PINNED.pem",\
     .help = "the server's TLS certificate; no other is accepted"},                             \
    {.name = "server-cert-sha256", .type = SK_OPT_STRING, .value = &(o).server_cert_sha256,     \
     .arg = "HEX", .help = "or the SHA-256 of the server's certificate (DER)"},                 \
    {.name = "rp-cert", .type = SK_OPT_FILE, .value = &(o).rp_cert, .arg = "CERT.pem",          \
     .help = "this relying party's TLS client certificate"},                                    \
    {.name = "rp-key", .type = SK_OPT_FILE, .value = &(o).rp_key, .arg = "KEY.pem",             \
     .help = "its private key"},                                                                \
    {.name = "rp-uuid", .type = SK_OPT_STRING, .value = &(o).rp_uuid, .arg = "UUID",            \
     .help = "this relying party's UUID (splitkey-server rp add)"}

#define COMMON_OPTS(o)                                                                          \
    API_OPTS(o),                                                                                \
    {.name = "document", .type = SK_OPT_STRING, .value = &(o).document, .arg = "NUMBER",        \
     .help = "ask exactly this key, by its document number (or --person; both: the key "       \
             "must be that person's, which --ca-cert checks)"},                                 \
    {.name = "person", .type = SK_OPT_STRING, .value = &(o).person, .arg = "ID",                \
     .help = "the person's ETSI identifier, e.g. PNOLV-010101-12345 (an organisation's, e.g. " \
             "VATLV-40003000000, for a seal)"},                                                 \
    {.name = "cert-out", .type = SK_OPT_STRING, .value = &(o).cert_out, .arg = "CERT.pem",      \
     .help = "write the key's certificate here (when the server has one)"},                     \
    {.name = "pub", .type = SK_OPT_FILE, .value = &(o).pub, .arg = "PUB.pem",                   \
     .help = "a server without a CA: verify under this public key instead of --ca-cert"},      \
    {.name = "scheme", .type = SK_OPT_STRING, .value = &(o).scheme, .arg = "pkcs1",             \
     .help = "the signature scheme: pkcs1, the only one the v2 API signs with (default)"},     \
    {.name = "hash", .type = SK_OPT_STRING, .value = &(o).hash, .arg = "H",                     \
     .help = "sha256 (default), sha384 or sha512"},                                             \
    {.name = "text", .type = SK_OPT_STRING, .value = &(o).text, .arg = "TEXT",                  \
     .help = "what the device shows the person"},                                               \
    {.name = "name", .type = SK_OPT_STRING, .value = &(o).name, .arg = "NAME",                  \
     .help = "relyingPartyName: one of the names registered for --rp-uuid (default "           \
             "splitkey-rp); the device shows the registered spelling"},                         \
    {.name = "timeout", .type = SK_OPT_UINT, .value = &(o).timeout, .min = 1, .max = 3600,      \
     .arg = "SEC", .help = "give up after SEC seconds (default 150)"},                           \
    {.name = "ca-cert", .type = SK_OPT_FILE, .value = &(o).ca_cert, .arg = "CA.pem",            \
     .help = "validate the certificate: chain to this CA, dates, key usage, policy, person, "  \
             "OCSP (exit 7, 8, 9)"},                                                            \
    {.name = "ocsp-timeout", .type = SK_OPT_UINT, .value = &(o).ocsp_timeout, .min = 1,         \
     .max = 300, .arg = "SEC", .help = "how long to wait for the OCSP responder (default 10)"},  \
    {.name = "level", .type = SK_OPT_STRING, .value = &(o).level, .arg = "LEVEL",               \
     .help = "certificateLevel asked for, the least accepted: qualified (default) or "          \
             "advanced"},                                                                       \
    {.name = "interaction", .type = SK_OPT_STRING, .value = &(o).interaction, .arg = "I",        \
     .help = "how the device asks: displayTextAndPIN (text up to 60 characters), "                \
             "verificationCodeChoice, confirmationMessage (up to 200), or "                      \
             "confirmationMessageAndVerificationCodeChoice"}

/* --api URL, or --server with an https:// URL (the same): o->api, or a
 * usage error's exit status. */
static int api_url(rp_opts *o)
{
    if (o->server != NULL && o->api != NULL)
        return usage_error("give one of --api URL and --server URL (they are the same)");
    if (o->server != NULL) {
        if (strncmp(o->server, "https://", 8) != 0)
            return usage_error("--server %s: relying parties reach the share server over its "
                               "HTTPS API; give its https://HOST:PORT/v2/ URL (the device "
                               "socket refuses relying-party requests)",
                               o->server);
        o->api = o->server;
    }
    if (o->api == NULL)
        return usage_error("name the share server's relying-party API with --api "
                           "https://HOST:PORT/v2/");
    return 0;
}

static int prepare(rp_opts *o, sk_purpose purpose, sk_hash *hash)
{
    int api_rc = api_url(o);
    if (api_rc != 0)
        return api_rc;
    if (o->scheme != NULL && strcmp(o->scheme, "pkcs1") != 0)
        return usage_error("--scheme %s: the v2 API signs with RSASSA-PKCS1-v1_5 only (pkcs1)",
                           o->scheme);
    if (o->person == NULL && o->document == NULL)
        return usage_error("name the key with --person ID or --document NUMBER");
    if (o->person != NULL && o->document != NULL && o->ca_cert == NULL)
        return usage_error("--person with --document names the person the key must belong "
                           "to: give --ca-cert too");
    if ((o->ca_cert == NULL) == (o->pub == NULL))
        return usage_error("give one of --ca-cert CA.pem (validate the certificate) and --pub "
                           "PUB.pem (a server without a CA: the key's public key)");
    const char *id = o->person != NULL ? o->person : o->document;
    if (purpose == SK_PURPOSE_SEAL && !sk_etsi_legal_person(id))
        return usage_error("--purpose seal: name the organisation by its identifier (VAT, NTR, "
                           "PSD or LEI, e.g. VATLV-40003000000)");
    if (purpose != SK_PURPOSE_SEAL && sk_etsi_legal_person(id))
        return usage_error("%s is an organisation's identifier: its key is a seal (--purpose "
                           "seal)", id);
    if (o->ca_cert != NULL) {
        char why[512];
        if (rp_check_ca_file(o->ca_cert, why, sizeof why) != RP_CHECK_OK)
            return usage_error("%s", why);
    }
    *hash = SK_HASH_SHA256;
    if (o->hash != NULL && sk_hash_parse(hash, o->hash) != SK_OK)
        return usage_error("--hash %s: use sha256, sha384 or sha512", o->hash);
    if (o->level != NULL && strcmp(o->level, "qualified") != 0 &&
        strcmp(o->level, "advanced") != 0)
        return usage_error("--level %s: use qualified or advanced", o->level);
    if (o->interaction != NULL) {
        static const char *const names[] = {
            "displayTextAndPIN", "verificationCodeChoice", "confirmationMessage",
            "confirmationMessageAndVerificationCodeChoice"};
        size_t i = 0;
        while (i < sizeof names / sizeof names[0] && strcmp(o->interaction, names[i]) != 0)
            i++;
        if (i == sizeof names / sizeof names[0])
            return usage_error("--interaction %s: use displayTextAndPIN, verificationCodeChoice, "
                               "confirmationMessage or "
                               "confirmationMessageAndVerificationCodeChoice",
                               o->interaction);
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
              "sign --api URL --person ID|--document NUMBER --purpose sign --in FILE --out SIG "
              "--ca-cert CA.pem|--pub PUB.pem [OPTIONS]",
              "Asks the person for a signature over FILE: prints the verification code,\n"
              "waits for the answer, verifies the signature and writes it.",
              &exit_code) != 0)
        goto done;
    sk_purpose purpose;
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
    if ((exit_code = prepare(&o, purpose, &hash)) != 0)
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
    exit_code = run_api_session(&o, purpose, digest, hash, text, false);
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
    if (parse(opts, argc, argv,
              "auth --api URL --person ID|--document NUMBER --ca-cert CA.pem|--pub PUB.pem "
              "[OPTIONS]",
              "Authenticates the person: asks the authentication key (PIN1) to sign a\n"
              "fresh random challenge and verifies the signature.",
              &exit_code) != 0)
        goto done;
    sk_hash hash;
    uint8_t challenge[32], digest[SK_MAX_HASH_LEN];
    if ((exit_code = prepare(&o, SK_PURPOSE_AUTH, &hash)) != 0)
        goto done;
    randombytes_buf(challenge, sizeof challenge);
    if (sk_digest(digest, sk_hash_len(hash), hash, challenge, sizeof challenge) != SK_OK) {
        exit_code = CU_EXIT_FAIL;
        goto done;
    }
    exit_code = run_api_session(&o, SK_PURPOSE_AUTH, digest, hash,
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
        API_OPTS(o),
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
              "serve --http HOST:PORT --api URL --ca-cert CA.pem [OPTIONS]",
              "Serves a small bank web site: a person logs in with the person id (an\n"
              "authentication session) and signs a contract (a signing session); the page\n"
              "shows the verification code and then the outcome.",
              &exit_code) != 0)
        goto done;
    if ((exit_code = api_url(&o)) != 0)
        goto done;
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
    rp_web_conf wc = {
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
                 "A relying party of splitkey: asks a person, through the share server's\n"
                 "HTTPS relying-party API, for a signature (sign) or an authentication (auth),\n"
                 "shows the verification code the person's device shows too, and verifies\n"
                 "the answer.\n"
                 "\n"
                 "commands:\n"
                 "  sign   --api URL --person ID|--document NUMBER --purpose sign --in FILE\n"
                 "         --out SIG --ca-cert CA.pem|--pub PUB.pem\n"
                 "  auth   --api URL --person ID|--document NUMBER --ca-cert CA.pem|--pub PUB.pem\n"
                 "  serve  --http HOST:PORT --api URL --ca-cert CA.pem\n"
                 "         a small bank web site: log in and sign a contract with the device\n"
                 "Every command also takes how this relying party is known to the server:\n"
                 "  --server-cert PINNED.pem (or --server-cert-sha256 HEX) --rp-cert CERT.pem\n"
                 "  --rp-key KEY.pem --rp-uuid UUID --name NAME (splitkey-server rp add)\n"
                 "\n"
                 "Run '" PROG " COMMAND --help' for every option.\n"
                 "\n"
                 "With --ca-cert CA.pem the certificate is validated: chain to the CA, dates,\n"
                 "key usage and policy for the purpose, the person, and its OCSP status (a\n"
                 "fresh nonce, the response signed by the CA or its OCSP signer).  --pub is\n"
                 "for a server without a CA: the signature is checked under that key only.\n"
                 "\n"
                 "Exit status: 0 ok (signature verified), 2 usage, 4 the account needs\n"
                 "attention on the device (locked or not active), 5 key unusable, 6 refused,\n"
                 "expired, wrong verification code or no answer within --timeout,\n"
                 "7 certificate invalid (chain, dates, key usage, policy, person),\n"
                 "8 certificate revoked, 9 OCSP status unknown or unavailable,\n"
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
