/* SPDX-License-Identifier: Apache-2.0 */
/*
 * splitkey-ca - the CA issuer (doc/pki.md, "The CA issuer").
 *
 *   splitkey-ca init --dir DIR --subject "CN=...,O=...,C=.." [--key rsa3072|ec-p384]
 *       [--ocsp-url URL] [--ca-url URL] [--validity-days N] [--policy-oid OID] ...
 *   splitkey-ca run --dir DIR --listen URL
 *   splitkey-ca revoke --dir DIR --serial HEX --reason NAME
 *   splitkey-ca crl --dir DIR --out FILE
 *   splitkey-ca audit-verify --dir DIR
 *   splitkey-ca add-ra --dir DIR --pub FILE
 *
 * Exit status: 0 success (and after SIGTERM/SIGINT), 2 usage or
 * configuration error, 1 any other failure.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ca.pb-c.h"
#include "command.h"
#include "ca_dir.h"
#include "ca_handler.h"
#include "ca_store.h"
#include "config.h"
#include "connguard.h"
#include "fileio.h"
#include "log.h"
#include "metrics.h"
#include "rep_server.h"
#include "server_pub.h"
#include "signals.h"
#include "splitkey/splitkey.h"
#include "svc_error.h"

#define PROG "splitkey-ca"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: " PROG " COMMAND [OPTIONS]\n"
            "\n"
            "The CA issuer of splitkey: issues certificates for split keys to registered\n"
            "registration authorities (share servers), revokes them, writes CRLs, and keeps\n"
            "a hash-chained audit log.\n"
            "\n"
            "commands:\n"
            "  init --dir DIR --subject DN ...    create a CA (key, certificate, OCSP signer,\n"
            "                                     configuration, database, audit log)\n"
            "  run --dir DIR --listen URL         serve RA requests until SIGTERM\n"
            "  revoke --dir DIR --serial HEX --reason NAME\n"
            "                                     revoke a certificate (operator, offline)\n"
            "  crl --dir DIR --out FILE           write a signed CRL (PEM)\n"
            "  audit-verify --dir DIR             check the audit log and its database head\n"
            "  add-ra --dir DIR --pub FILE        register a share server (its server.pub)\n"
            "\n"
            "Run '" PROG " COMMAND --help' for the options of a command.\n"
            "Exit status: 0 success, 2 usage or configuration error, 1 other failure.\n");
}

static int fail(int code, const char *msg)
{
    fprintf(stderr, PROG ": %s\n", msg);
    return code;
}

/* Parses flags; returns -1 to go on, or the exit status (help, error). */
static int parse_flags(sk_opt *opts, int argc, char **argv, const char *synopsis)
{
    char err[512] = "";
    int rc = sk_config_parse_args(opts, NULL, argc, argv, 2, err, sizeof err);
    if (rc == SK_SVC_HELP) {
        printf("usage: " PROG " %s\n\n", synopsis);
        sk_config_usage(stdout, opts);
        return 0;
    }
    if (rc == SK_OK)
        rc = sk_config_validate(opts, err, sizeof err);
    if (rc != SK_OK)
        return fail(2, err);
    if (sk_init() != SK_OK)
        return fail(1, "cannot initialise libsplitkey");
    return -1;
}

/* Loads the CA or prints why not; returns -1 on success or an exit status. */
static int load_ca(ca_ctx *ca, const char *dir)
{
    char err[768] = "";
    int rc = ca_ctx_load(ca, dir, err, sizeof err);
    if (rc == SK_OK)
        return -1;
    fprintf(stderr, PROG ": %s\n", err[0] ? err : sk_svc_strerror(rc));
    return sk_svc_exit_code(rc);
}

/* ------------------------------------------------------------------ init */

struct init_options {
    char *dir, *subject, *key, *ocsp_url, *ca_url, *crl_url, *policy_oid, *pds_url, *pds_lang;
    unsigned validity_days, ca_validity_days, ocsp_validity_days;
};

static const char *const init_files[] = {CA_FILE_KEY,      CA_FILE_CERT, CA_FILE_OCSP_KEY,
                                         CA_FILE_OCSP_CERT, CA_FILE_CONF, CA_FILE_DB,
                                         CA_FILE_AUDIT};
#define N_INIT_FILES (sizeof init_files / sizeof init_files[0])

static bool has_newline(const char *s) { return s != NULL && strpbrk(s, "\r\n") != NULL; }

/* The OCSP signer's subject: the CA's CN with " OCSP Responder", and its
 * O and C. */
static int ocsp_subject(sk_name **out, const sk_name *ca)
{
    char cn[80] = "splitkey", o[80] = "", c[8] = "";
    char text[300];
    if (sk_name_get(ca, cn, sizeof cn, "CN") != SK_OK)
        snprintf(cn, sizeof cn, "splitkey");
    cn[48] = '\0'; /* CN values are at most 64 bytes */
    int n = snprintf(text, sizeof text, "CN=%s OCSP Responder", cn);
    if (sk_name_get(ca, o, sizeof o, "O") == SK_OK)
        n += snprintf(text + n, sizeof text - (size_t)n, ",O=%s", o);
    if (sk_name_get(ca, c, sizeof c, "C") == SK_OK)
        snprintf(text + n, sizeof text - (size_t)n, ",C=%s", c);
    /* escape nothing: the values came out of a parsed name; re-parse them */
    const char *why;
    int rc = sk_name_parse(out, &why, text);
    if (rc != SK_OK) /* a value with a ',' in it: fall back to a plain CN */
        rc = sk_name_parse(out, &why, "CN=splitkey OCSP Responder");
    return rc;
}

static int write_pem_file(const char *path, const char *label, const uint8_t *der, size_t len)
{
    size_t cap = 2 * len + 256, w;
    char *pem = malloc(cap);
    if (pem == NULL)
        return SK_ERR_NOMEM;
    int rc = sk_pem_encode(pem, cap, &w, label, der, len);
    if (rc == SK_OK)
        rc = sk_file_write_atomic(path, (const uint8_t *)pem, w, SK_FILE_PUBLIC_MODE,
                                  SK_FILE_NO_REPLACE);
    free(pem);
    return rc;
}

static int write_key_file(const char *path, const sk_ca_key *key)
{
    char pem[SK_PKI_MAX_KEY_PEM_LEN];
    size_t w = 0;
    int rc = sk_ca_key_export_pem(key, pem, sizeof pem, &w);
    if (rc == SK_OK)
        rc = sk_file_write_atomic(path, (const uint8_t *)pem, w, SK_FILE_SECRET_MODE,
                                  SK_FILE_NO_REPLACE);
    sk_wipe(pem, sizeof pem);
    return rc;
}

static int cmd_init(int argc, char **argv)
{
    char default_key[] = "rsa3072";
    char default_ocsp[] = "http://localhost:8080/";
    char default_ca_url[] = "http://localhost:8080/ca.crt";
    char default_pds[] = "https://localhost/pds_en.pdf";
    char default_lang[] = "en";
    struct init_options o = {.key = default_key, .ocsp_url = default_ocsp,
                             .ca_url = default_ca_url, .pds_url = default_pds,
                             .pds_lang = default_lang, .validity_days = 1095,
                             .ca_validity_days = 3650, .ocsp_validity_days = 365};
    sk_opt opts[] = {
        {.name = "dir", .type = SK_OPT_STRING, .value = &o.dir, .flags = SK_OPT_REQUIRED,
         .arg = "DIR", .help = "the CA directory (created 0700 if missing)"},
        {.name = "subject", .type = SK_OPT_STRING, .value = &o.subject,
         .flags = SK_OPT_REQUIRED, .arg = "DN", .help = "CA name, e.g. \"CN=Example CA,O=Example,C=LV\""},
        {.name = "key", .type = SK_OPT_STRING, .value = &o.key, .arg = "TYPE",
         .help = "CA and OCSP key type: rsa3072 (default) or ec-p384"},
        {.name = "ocsp-url", .type = SK_OPT_STRING, .value = &o.ocsp_url, .arg = "URL",
         .help = "OCSP responder URL put into every certificate"},
        {.name = "ca-url", .type = SK_OPT_STRING, .value = &o.ca_url, .arg = "URL",
         .help = "where the CA certificate is published (AIA caIssuers)"},
        {.name = "crl-url", .type = SK_OPT_STRING, .value = &o.crl_url, .arg = "URL",
         .help = "CRL distribution point (default: none)"},
        {.name = "policy-oid", .type = SK_OPT_STRING, .value = &o.policy_oid, .arg = "OID",
         .help = "the operator's certificate policy OID (default: none)"},
        {.name = "pds-url", .type = SK_OPT_STRING, .value = &o.pds_url, .arg = "URL",
         .help = "PKI disclosure statement (QcPDS of qualified SIGN certificates)"},
        {.name = "pds-lang", .type = SK_OPT_STRING, .value = &o.pds_lang, .arg = "LL",
         .help = "PDS language (default en)"},
        {.name = "validity-days", .type = SK_OPT_UINT, .value = &o.validity_days, .min = 1,
         .max = 36500, .arg = "N", .help = "person certificate validity (default 1095)"},
        {.name = "ca-validity-days", .type = SK_OPT_UINT, .value = &o.ca_validity_days,
         .min = 1, .max = 36500, .arg = "N", .help = "CA certificate validity (default 3650)"},
        {.name = "ocsp-validity-days", .type = SK_OPT_UINT, .value = &o.ocsp_validity_days,
         .min = 1, .max = 36500, .arg = "N",
         .help = "OCSP signer certificate validity (default 365)"},
        {0},
    };
    int ex = parse_flags(opts, argc, argv, "init --dir DIR --subject DN [OPTIONS]");
    if (ex >= 0) {
        sk_config_free(opts);
        return ex;
    }
    char err[768] = "";
    char *paths[N_INIT_FILES] = {0};
    bool created[N_INIT_FILES] = {0};
    bool made_dir = false;
    sk_name *caname = NULL, *oname = NULL;
    sk_ca_key *cakey = NULL, *okey = NULL;
    sk_ca *ca = NULL;
    ca_store *store = NULL;
    uint8_t *der = malloc(SK_PKI_MAX_CERT_LEN);
    size_t len = 0;
    sk_ca_key_type type;
    const char *why = NULL;
    int rc;
    ex = 1;
    if (der == NULL)
        goto out;

    /* Everything that can be checked before touching the disk. */
    if (sk_ca_key_type_parse(&type, o.key) != SK_OK) {
        snprintf(err, sizeof err, "--key %s: use rsa3072 or ec-p384", o.key);
        goto usage_error;
    }
    if (sk_name_parse(&caname, &why, o.subject) != SK_OK) {
        snprintf(err, sizeof err, "--subject: %s", why ? why : "not a distinguished name");
        goto usage_error;
    }
    if (has_newline(o.ocsp_url) || has_newline(o.ca_url) || has_newline(o.crl_url) ||
        has_newline(o.policy_oid) || has_newline(o.pds_url) || has_newline(o.pds_lang)) {
        snprintf(err, sizeof err, "option values must be one line each");
        goto usage_error;
    }
    for (size_t i = 0; i < N_INIT_FILES; i++) {
        if ((paths[i] = sk_path_join(o.dir, init_files[i])) == NULL)
            goto out;
        if (sk_path_exists(paths[i])) {
            snprintf(err, sizeof err, "%s exists; refusing to overwrite a CA", paths[i]);
            goto usage_error;
        }
    }
    if (!sk_is_dir(o.dir)) {
        if (mkdir(o.dir, 0700) != 0) {
            snprintf(err, sizeof err, "--dir %s: cannot create: %s", o.dir, strerror(errno));
            goto usage_error;
        }
        made_dir = true;
    }

    /* Keys, CA certificate, and a trial CA object that checks the config. */
    if ((rc = sk_ca_key_generate(&cakey, type)) != SK_OK ||
        (rc = sk_ca_key_generate(&okey, type)) != SK_OK) {
        snprintf(err, sizeof err, "key generation failed: %s", sk_strerror(rc));
        goto fail;
    }
    int64_t now = (int64_t)time(NULL);
    rc = sk_ca_self_signed(cakey, der, SK_PKI_MAX_CERT_LEN, &len, NULL, caname, now - 60,
                           o.ca_validity_days);
    if (rc != SK_OK) {
        snprintf(err, sizeof err, "cannot make the CA certificate: %s", sk_strerror(rc));
        goto fail;
    }
    sk_ca_config cc = {.ocsp_url = o.ocsp_url, .ca_issuers_url = o.ca_url,
                       .crl_url = o.crl_url, .policy_oid = o.policy_oid,
                       .pds_url = o.pds_url, .pds_lang = o.pds_lang,
                       .validity_days = o.validity_days};
    rc = sk_ca_new(&ca, der, len, cakey, &cc);
    if (rc != SK_OK) {
        snprintf(err, sizeof err, "bad --ocsp-url, --ca-url, --crl-url, --policy-oid, "
                                  "--pds-url or --pds-lang (%s)", sk_strerror(rc));
        goto usage_error;
    }
    if ((rc = write_key_file(paths[0], cakey)) != SK_OK)
        goto io_fail;
    created[0] = true;
    if ((rc = write_pem_file(paths[1], "CERTIFICATE", der, len)) != SK_OK)
        goto io_fail;
    created[1] = true;
    if ((rc = ocsp_subject(&oname, caname)) != SK_OK ||
        (rc = sk_ca_issue_ocsp_signer(ca, der, SK_PKI_MAX_CERT_LEN, &len, NULL, oname, okey,
                                      now - 60, o.ocsp_validity_days)) != SK_OK) {
        snprintf(err, sizeof err, "cannot issue the OCSP signer certificate: %s",
                 sk_strerror(rc));
        goto fail;
    }
    if ((rc = write_key_file(paths[2], okey)) != SK_OK)
        goto io_fail;
    created[2] = true;
    if ((rc = write_pem_file(paths[3], "CERTIFICATE", der, len)) != SK_OK)
        goto io_fail;
    created[3] = true;

    char conf[4096];
    int n = snprintf(conf, sizeof conf,
                     "# splitkey CA configuration, written by '" PROG " init'.\n"
                     "# What goes into every certificate this CA issues.\n"
                     "ocsp-url = %s\nca-url = %s\n", o.ocsp_url, o.ca_url);
    if (o.crl_url)
        n += snprintf(conf + n, sizeof conf - (size_t)n, "crl-url = %s\n", o.crl_url);
    if (o.policy_oid)
        n += snprintf(conf + n, sizeof conf - (size_t)n, "policy-oid = %s\n", o.policy_oid);
    n += snprintf(conf + n, sizeof conf - (size_t)n,
                  "pds-url = %s\npds-lang = %s\nvalidity-days = %u\n"
                  "# listen = tcp://127.0.0.1:7400\n",
                  o.pds_url, o.pds_lang, o.validity_days);
    if (n >= (int)sizeof conf) {
        snprintf(err, sizeof err, "option values too long");
        goto usage_error;
    }
    if ((rc = sk_file_write_atomic(paths[4], (const uint8_t *)conf, (size_t)n,
                                   SK_FILE_PUBLIC_MODE, SK_FILE_NO_REPLACE)) != SK_OK)
        goto io_fail;
    created[4] = true;
    if ((rc = ca_store_open(&store, paths[5], paths[6], CA_STORE_CREATE)) != SK_OK) {
        created[5] = rc != SK_SVC_ERR_EXISTS;
        snprintf(err, sizeof err, "%s: cannot create the database: %s", paths[5],
                 sk_svc_strerror(rc));
        goto fail;
    }
    created[5] = true;
    if ((rc = sk_file_write_atomic(paths[6], (const uint8_t *)"", 0, SK_FILE_SECRET_MODE,
                                   SK_FILE_NO_REPLACE)) != SK_OK)
        goto io_fail;
    created[6] = true;

    printf("created a %s CA in %s\n"
           "  %s/ca.pem    CA certificate (give it to relying parties)\n"
           "  %s/ca.key    CA private key (0600)\n"
           "  %s/ocsp.pem  OCSP signer certificate, %s/ocsp.key its key (0600)\n"
           "  %s/ca.conf   configuration; %s/ca.db certificate database; "
           "%s/audit.log audit log\n"
           "Register share servers with '" PROG " add-ra --dir %s --pub server.pub'.\n",
           sk_ca_key_type_name(type), o.dir, o.dir, o.dir, o.dir, o.dir, o.dir, o.dir, o.dir,
           o.dir);
    ex = 0;
    goto out;

io_fail:
    snprintf(err, sizeof err, "cannot write the CA files: %s (%s)", sk_svc_strerror(rc),
             strerror(errno));
fail:
    fprintf(stderr, PROG ": %s\n", err);
    ex = 1;
    goto cleanup;
usage_error:
    fprintf(stderr, PROG ": %s\n", err);
    ex = 2;
cleanup:
    ca_store_close(store);
    store = NULL;
    for (size_t i = 0; i < N_INIT_FILES; i++) {
        if (created[i] && paths[i] != NULL) {
            unlink(paths[i]);
            if (i == 5) { /* the database's companions */
                char extra[4096];
                snprintf(extra, sizeof extra, "%s-wal", paths[i]);
                unlink(extra);
                snprintf(extra, sizeof extra, "%s-shm", paths[i]);
                unlink(extra);
            }
        }
    }
    if (made_dir)
        rmdir(o.dir);
out:
    ca_store_close(store);
    sk_ca_free(ca);
    sk_ca_key_free(cakey);
    sk_ca_key_free(okey);
    sk_name_free(caname);
    sk_name_free(oname);
    for (size_t i = 0; i < N_INIT_FILES; i++)
        free(paths[i]);
    free(der);
    sk_config_free(opts);
    return ex;
}

/* ------------------------------------------------------------------- run */

/* The outcome label of a refused request (metrics.h): the reply's Result,
 * by its value. */
static const char *const ca_result_names[] = {
    "ok", "bad_request", "unknown_ra", "bad_signature", "stale", "csr_invalid", "pop_failed",
    "key_mismatch", "subject_invalid", "not_found", "not_owner", "already_revoked", "internal",
};
#define N_CA_RESULTS (sizeof ca_result_names / sizeof ca_result_names[0])

/* The kind of a CA request, from its envelope (decoded again by ca_handle). */
static sk_req_kind ca_kind(const uint8_t *req, size_t req_len)
{
    sk_req_kind kind = SK_REQ_UNKNOWN;
    Splitkey__Ca__CaEnvelope *env = splitkey__ca__ca_envelope__unpack(NULL, req_len, req);
    if (env == NULL)
        return kind;
    Splitkey__Ca__CaRequest *q =
        splitkey__ca__ca_request__unpack(NULL, env->body.len, env->body.data);
    if (q != NULL) {
        switch (q->op_case) {
        case SPLITKEY__CA__CA_REQUEST__OP_ISSUE: kind = SK_REQ_ISSUE; break;
        case SPLITKEY__CA__CA_REQUEST__OP_REVOKE: kind = SK_REQ_REVOKE; break;
        case SPLITKEY__CA__CA_REQUEST__OP_STATUS: kind = SK_REQ_CA_STATUS; break;
        case SPLITKEY__CA__CA_REQUEST__OP_CA_CERT: kind = SK_REQ_CA_CERT; break;
        case SPLITKEY__CA__CA_REQUEST__OP_REVOCATIONS: kind = SK_REQ_CA_REVOCATIONS; break;
        default: break;
        }
        splitkey__ca__ca_request__free_unpacked(q, NULL);
    }
    splitkey__ca__ca_envelope__free_unpacked(env, NULL);
    return kind;
}

/* The REP handler: ca_handle, with the request's kind and the reply's
 * result noted for the metrics (the REP loop counts the request).  The
 * extra decoding costs microseconds beside a signature. */
static int ca_serve(void *ctx, const uint8_t *req, size_t req_len, uint8_t **reply,
                    size_t *reply_len)
{
    sk_reqlog_kind(ca_kind(req, req_len));
    int rc = ca_handle(ctx, req, req_len, reply, reply_len);
    if (rc == SK_OK && *reply != NULL) {
        Splitkey__Ca__CaReplyEnvelope *e =
            splitkey__ca__ca_reply_envelope__unpack(NULL, *reply_len, *reply);
        Splitkey__Ca__CaReply *r =
            e != NULL ? splitkey__ca__ca_reply__unpack(NULL, e->body.len, e->body.data) : NULL;
        if (r != NULL && r->result != SPLITKEY__CA__RESULT__RESULT_OK)
            sk_reqlog_result((unsigned)r->result < N_CA_RESULTS ? (int)r->result
                                                                : (int)N_CA_RESULTS);
        if (r != NULL)
            splitkey__ca__ca_reply__free_unpacked(r, NULL);
        if (e != NULL)
            splitkey__ca__ca_reply_envelope__free_unpacked(e, NULL);
    }
    return rc;
}

/* /health (metrics.h): the database answers a trivial read. */
static int ca_health(void *ctx, char *why, size_t why_len)
{
    sk_serial one;
    sk_cert_status st;
    int rc = sk_serial_from_hex(&one, "01");
    if (rc == SK_OK)
        rc = ca_store_status(ctx, &st, &one);
    if (rc != SK_OK)
        snprintf(why, why_len, "certificate database: cannot read: %s", sk_svc_strerror(rc));
    return rc;
}

static int cmd_run(int argc, char **argv)
{
    char *dir = NULL, *listen = NULL, *ready = NULL;
    char *metrics_listen = NULL, *log_format = NULL, *log_target = NULL;
    bool metrics_remote = false;
    sk_metrics_http *metrics = NULL;
    unsigned workers = 0, skew = CA_DEFAULT_SKEW_SECS;
    unsigned max_conns = 0, max_conns_per_peer = 0, idle_seconds = 0; /* 0: the defaults */
    sk_opt opts[] = {
        {.name = "dir", .type = SK_OPT_DIR, .value = &dir, .flags = SK_OPT_REQUIRED,
         .arg = "DIR", .help = "the CA directory made by init"},
        {.name = "listen", .type = SK_OPT_URL, .value = &listen, .arg = "URL",
         .help = "where to listen, e.g. tcp://127.0.0.1:7400 (or listen in ca.conf)"},
        {.name = "workers", .type = SK_OPT_UINT, .value = &workers, .min = 0, .max = 64,
         .arg = "N", .help = "requests served at once (0: one per CPU)"},
        {.name = "skew", .type = SK_OPT_UINT, .value = &skew, .min = 1, .max = 3600,
         .arg = "SECONDS", .help = "accepted clock difference of RA requests (default 300)"},
        {.name = "max-conns", .type = SK_OPT_UINT, .value = &max_conns, .min = 1,
         .max = SK_CONNGUARD_MAX_LIMIT, .arg = "N",
         .help = "open connections at most (default: ulimit -n less 64, at most 512)"},
        {.name = "max-conns-per-peer", .type = SK_OPT_UINT, .value = &max_conns_per_peer,
         .min = 1, .max = SK_CONNGUARD_MAX_LIMIT, .arg = "N",
         .help = "open connections from one IP address at most (default: half of --max-conns)"},
        {.name = "idle-seconds", .type = SK_OPT_UINT, .value = &idle_seconds, .min = 1,
         .max = 86400, .arg = "SECONDS",
         .help = "close a connection after this long without a request (default 60)"},
        {.name = "ready-file", .type = SK_OPT_STRING, .value = &ready, .arg = "FILE",
         .help = "write the bound URL here once listening"},
        SK_METRICS_OPTS(&metrics_listen, &metrics_remote),
        SK_LOG_OPTS(&log_format, &log_target),
        {0},
    };
    int ex = parse_flags(opts, argc, argv, "run --dir DIR --listen URL [OPTIONS]");
    if (ex >= 0) {
        sk_config_free(opts);
        return ex;
    }
    ca_ctx ca;
    sk_rep_server *srv = NULL;
    char err[768] = "";
    if (sk_log_configure(log_format, log_target, err, sizeof err) != SK_OK ||
        (metrics_listen != NULL &&
         sk_metrics_http_check(metrics_listen, metrics_remote, err, sizeof err) != SK_OK)) {
        sk_config_free(opts);
        return fail(2, err);
    }
    sk_log_init(PROG);
    sk_metrics_init(PROG, SK_METRICS_REQUESTS | SK_METRICS_CONNS);
    sk_metrics_result_names(ca_result_names, N_CA_RESULTS);
    ex = load_ca(&ca, dir);
    if (ex >= 0) {
        sk_config_free(opts);
        return ex;
    }
    ex = 1;
    const char *url = listen ? listen : ca.conf.conf.listen;
    if (url == NULL) {
        fprintf(stderr, PROG ": missing --listen (or listen = URL in ca.conf)\n");
        ex = 2;
        goto out;
    }
    int rc = ca_audit_check(ca.store, ca.audit_path, err, sizeof err);
    if (rc != SK_OK) {
        fprintf(stderr, PROG ": refusing to start: %s\n", err);
        goto out;
    }
    if (sk_signals_install() != SK_OK) {
        fprintf(stderr, PROG ": cannot install signal handlers\n");
        goto out;
    }
    ca_handler handler = {.ca = &ca, .skew_secs = skew};
    sk_rep_config rcfg = {
        .url = url,
        .workers = workers,
        .max_request = CA_MAX_REQUEST,
        .handler = ca_serve,
        .ctx = &handler,
        .log_requests = 0, /* the handler writes its own line */
        .max_conns = max_conns,
        .max_conns_per_peer = max_conns_per_peer,
        .idle_seconds = idle_seconds,
    };
    rc = sk_rep_server_start(&srv, &rcfg);
    if (rc != SK_OK) {
        fprintf(stderr, PROG ": cannot listen on %s: %s\n", url, sk_svc_strerror(rc));
        ex = rc == SK_SVC_ERR_CONFIG ? 2 : 1;
        goto out;
    }
    char bound[256];
    if (sk_rep_server_url(srv, bound, sizeof bound) != SK_OK)
        snprintf(bound, sizeof bound, "%s", url);
    uint64_t issued = 0, revoked = 0;
    (void)ca_store_counts(ca.store, &issued, &revoked);
    unsigned cap, per_peer, idle_s;
    sk_rep_server_conn_limits(srv, &cap, &per_peer, &idle_s);
    sk_log_notice("listening on %s with %u workers; connections at most %u, %u per peer, "
                  "closed after %u s idle; %llu certificates, %llu revoked",
                  bound, sk_rep_server_workers(srv), cap, per_peer, idle_s,
                  (unsigned long long)issued, (unsigned long long)revoked);
    if (metrics_listen != NULL) {
        sk_metrics_http_config mcfg = {.url = metrics_listen, .allow_remote = metrics_remote,
                                       .health = ca_health, .health_ctx = ca.store};
        rc = sk_metrics_http_start(&metrics, &mcfg, err, sizeof err);
        if (rc != SK_OK) {
            fprintf(stderr, PROG ": %s\n", err);
            ex = rc == SK_SVC_ERR_CONFIG ? 2 : 1;
            goto out;
        }
        sk_log_notice("metrics and health for the operator on %s (GET /metrics, /health)",
                      sk_metrics_http_url(metrics));
    }
    if (ready != NULL) {
        char line[300];
        int n = snprintf(line, sizeof line, "%s\n", bound);
        if (sk_file_write_atomic(ready, (const uint8_t *)line, (size_t)n, SK_FILE_PUBLIC_MODE,
                                 0) != SK_OK) {
            fprintf(stderr, PROG ": cannot write %s\n", ready);
            goto out;
        }
    }
    int sig = sk_signals_wait();
    sk_metrics_set_draining(); /* /health: 503 from now on */
    sk_log_notice("signal %d: stopping", sig);
    ex = 0;
out:
    sk_metrics_set_draining();
    sk_rep_server_stop(srv);
    sk_metrics_http_stop(metrics); /* before the database its health check reads */
    if (ex == 0)
        sk_log_notice("stopped");
    ca_ctx_free(&ca);
    sk_config_free(opts);
    return ex;
}

/* ---------------------------------------------------------------- revoke */

static int cmd_revoke(int argc, char **argv)
{
    char *dir = NULL, *serial_hex = NULL, *reason_name = NULL;
    sk_opt opts[] = {
        {.name = "dir", .type = SK_OPT_DIR, .value = &dir, .flags = SK_OPT_REQUIRED,
         .arg = "DIR", .help = "the CA directory"},
        {.name = "serial", .type = SK_OPT_STRING, .value = &serial_hex,
         .flags = SK_OPT_REQUIRED, .arg = "HEX", .help = "serial number of the certificate"},
        {.name = "reason", .type = SK_OPT_STRING, .value = &reason_name,
         .flags = SK_OPT_REQUIRED, .arg = "NAME",
         .help = "keyCompromise, cessationOfOperation, superseded, affiliationChanged, "
                 "unspecified, ..."},
        {0},
    };
    int ex = parse_flags(opts, argc, argv, "revoke --dir DIR --serial HEX --reason NAME");
    if (ex >= 0) {
        sk_config_free(opts);
        return ex;
    }
    sk_serial serial;
    sk_crl_reason reason;
    if (sk_serial_from_hex(&serial, serial_hex) != SK_OK) {
        fprintf(stderr, PROG ": --serial %s: not a serial number (hex, 1..20 bytes)\n",
                serial_hex);
        sk_config_free(opts);
        return 2;
    }
    if (sk_crl_reason_parse(&reason, reason_name) != SK_OK ||
        reason == SK_REASON_REMOVE_FROM_CRL) {
        fprintf(stderr,
                PROG ": --reason %s: use unspecified, keyCompromise, cACompromise, "
                     "affiliationChanged, superseded, cessationOfOperation, certificateHold, "
                     "privilegeWithdrawn or aACompromise\n",
                reason_name);
        sk_config_free(opts);
        return 2;
    }
    ca_ctx ca;
    ex = load_ca(&ca, dir);
    if (ex >= 0) {
        sk_config_free(opts);
        return ex;
    }
    char hex[2 * SK_SERIAL_MAX_LEN + 1];
    if (sk_serial_to_hex(hex, sizeof hex, &serial) != SK_OK)
        snprintf(hex, sizeof hex, "?");
    int64_t at = 0;
    int rc = ca_operator_revoke(&ca, &at, &serial, reason);
    switch (rc) {
    case SK_OK:
        printf("revoked %s (%s)\n", hex, sk_crl_reason_name(reason));
        ex = 0;
        break;
    case SK_ERR_NOT_FOUND:
        fprintf(stderr, PROG ": no certificate with serial %s\n", hex);
        ex = 1;
        break;
    case SK_ERR_PROTO_STATE:
        fprintf(stderr, PROG ": certificate %s is already revoked\n", hex);
        ex = 1;
        break;
    default:
        fprintf(stderr, PROG ": cannot revoke %s: %s\n", hex, sk_svc_strerror(rc));
        ex = 1;
        break;
    }
    ca_ctx_free(&ca);
    sk_config_free(opts);
    return ex;
}

/* ------------------------------------------------------------------- crl */

static int cmd_crl(int argc, char **argv)
{
    char *dir = NULL, *outp = NULL;
    unsigned days = 7;
    sk_opt opts[] = {
        {.name = "dir", .type = SK_OPT_DIR, .value = &dir, .flags = SK_OPT_REQUIRED,
         .arg = "DIR", .help = "the CA directory"},
        {.name = "out", .type = SK_OPT_STRING, .value = &outp, .flags = SK_OPT_REQUIRED,
         .arg = "FILE", .help = "where to write the CRL (PEM)"},
        {.name = "days", .type = SK_OPT_UINT, .value = &days, .min = 1, .max = 366,
         .arg = "N", .help = "nextUpdate after this many days (default 7)"},
        {0},
    };
    int ex = parse_flags(opts, argc, argv, "crl --dir DIR --out FILE [--days N]");
    if (ex >= 0) {
        sk_config_free(opts);
        return ex;
    }
    ca_ctx ca;
    ex = load_ca(&ca, dir);
    if (ex >= 0) {
        sk_config_free(opts);
        return ex;
    }
    ex = 1;
    sk_crl_entry *entries = NULL;
    size_t count = 0, len = 0, cap = 0;
    uint64_t number = 0;
    uint8_t *der = NULL;
    int rc = ca_store_revoked(ca.store, &entries, &count);
    if (rc == SK_OK)
        rc = ca_store_next_crl_number(ca.store, &number);
    if (rc != SK_OK) {
        fprintf(stderr, PROG ": cannot read the certificate database: %s\n",
                sk_svc_strerror(rc));
        goto out;
    }
    int64_t now = (int64_t)time(NULL);
    cap = 4096 + count * 64;
    der = malloc(cap);
    rc = der ? SK_OK : SK_ERR_NOMEM;
    if (rc == SK_OK) {
        rc = sk_ca_crl(ca.ca, der, cap, &len, entries, count, number, now,
                       now + (int64_t)days * 86400);
        if (rc == SK_ERR_BUFFER_TOO_SMALL && len > cap) { /* len is the size needed */
            uint8_t *bigger = realloc(der, len);
            rc = SK_ERR_NOMEM;
            if (bigger != NULL) {
                der = bigger;
                cap = len;
                rc = sk_ca_crl(ca.ca, der, cap, &len, entries, count, number, now,
                               now + (int64_t)days * 86400);
            }
        }
    }
    if (rc != SK_OK) {
        fprintf(stderr, PROG ": cannot make the CRL: %s\n", sk_strerror(rc));
        goto out;
    }
    size_t pcap = 2 * len + 256, w;
    char *pem = malloc(pcap);
    rc = pem ? sk_pem_encode(pem, pcap, &w, "X509 CRL", der, len) : SK_ERR_NOMEM;
    if (rc == SK_OK)
        rc = sk_file_write_atomic(outp, (const uint8_t *)pem, w, SK_FILE_PUBLIC_MODE, 0);
    free(pem);
    if (rc != SK_OK) {
        fprintf(stderr, PROG ": cannot write %s: %s\n", outp, sk_svc_strerror(rc));
        goto out;
    }
    printf("CRL number %llu with %zu revoked certificates written to %s\n",
           (unsigned long long)number, count, outp);
    ex = 0;
out:
    free(der);
    free(entries);
    ca_ctx_free(&ca);
    sk_config_free(opts);
    return ex;
}

/* ---------------------------------------------------------- audit-verify */

static int cmd_audit_verify(int argc, char **argv)
{
    char *dir = NULL;
    sk_opt opts[] = {
        {.name = "dir", .type = SK_OPT_DIR, .value = &dir, .flags = SK_OPT_REQUIRED,
         .arg = "DIR", .help = "the CA directory"},
        {0},
    };
    int ex = parse_flags(opts, argc, argv, "audit-verify --dir DIR");
    if (ex >= 0) {
        sk_config_free(opts);
        return ex;
    }
    /* Only the database and the log are needed: no key is loaded. */
    char *db = sk_path_join(dir, CA_FILE_DB), *log = sk_path_join(dir, CA_FILE_AUDIT);
    ca_store *store = NULL;
    char err[768] = "";
    ex = 1;
    int rc = db && log ? ca_store_open(&store, db, NULL, CA_STORE_READONLY) : SK_ERR_NOMEM;
    if (rc != SK_OK) {
        fprintf(stderr, PROG ": %s: cannot open the certificate database: %s\n",
                db ? db : dir, sk_svc_strerror(rc));
        ex = rc == SK_ERR_NOT_FOUND ? 2 : 1;
    } else {
        rc = ca_audit_check(store, log, err, sizeof err);
        if (rc == SK_OK) {
            printf("%s\n", err);
            ex = 0;
        } else {
            fprintf(stderr, PROG ": audit log is NOT valid: %s\n", err);
        }
    }
    ca_store_close(store);
    free(db);
    free(log);
    sk_config_free(opts);
    return ex;
}

/* ---------------------------------------------------------------- add-ra */

static int cmd_add_ra(int argc, char **argv)
{
    char *dir = NULL, *pubp = NULL;
    sk_opt opts[] = {
        {.name = "dir", .type = SK_OPT_DIR, .value = &dir, .flags = SK_OPT_REQUIRED,
         .arg = "DIR", .help = "the CA directory"},
        {.name = "pub", .type = SK_OPT_FILE, .value = &pubp, .flags = SK_OPT_REQUIRED,
         .arg = "FILE", .help = "the share server's server.pub"},
        {0},
    };
    int ex = parse_flags(opts, argc, argv, "add-ra --dir DIR --pub FILE");
    if (ex >= 0) {
        sk_config_free(opts);
        return ex;
    }
    sk_server_pub pub;
    int rc = sk_server_pub_load(&pub, pubp);
    if (rc != SK_OK) {
        fprintf(stderr, PROG ": --pub %s: not a splitkey server.pub file (%s)\n", pubp,
                sk_svc_strerror(rc));
        sk_config_free(opts);
        return 2;
    }
    char *db = sk_path_join(dir, CA_FILE_DB);
    ca_store *store = NULL;
    rc = db ? ca_store_open(&store, db, NULL, 0) : SK_ERR_NOMEM;
    if (rc != SK_OK) {
        fprintf(stderr, PROG ": %s: cannot open the certificate database: %s\n",
                db ? db : dir, sk_svc_strerror(rc));
        ex = rc == SK_ERR_NOT_FOUND ? 2 : 1;
    } else {
        char hex[2 * SK_SIGN_PUBLIC_LEN + 1];
        for (size_t i = 0; i < SK_SIGN_PUBLIC_LEN; i++)
            snprintf(hex + 2 * i, 3, "%02x", pub.sign_pub[i]);
        rc = ca_store_ra_add(store, pub.sign_pub, pub.kx_pub, (int64_t)time(NULL));
        if (rc == SK_OK) {
            printf("registered RA %s\n", hex);
            ex = 0;
        } else if (rc == SK_SVC_ERR_EXISTS) {
            printf("RA %s is already registered\n", hex);
            ex = 0;
        } else {
            fprintf(stderr, PROG ": cannot register the RA: %s\n", sk_svc_strerror(rc));
            ex = 1;
        }
    }
    ca_store_close(store);
    free(db);
    sk_config_free(opts);
    return ex;
}

int main(int argc, char **argv)
{
    static const sk_command commands[] = {
        {"init", cmd_init},
        {"run", cmd_run},
        {"revoke", cmd_revoke},
        {"crl", cmd_crl},
        {"audit-verify", cmd_audit_verify},
        {"add-ra", cmd_add_ra},
        {"issue-tsa", cmd_issue_tsa},
        {NULL, NULL},
    };
    return sk_command_dispatch(argc, argv, PROG, commands, usage);
}
