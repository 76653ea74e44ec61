/* SPDX-License-Identifier: Apache-2.0 */
/*
 * splitkey-ca - the CA issuer (doc/pki.md, "The CA issuer").
 *
 *   splitkey-ca init --dir DIR --subject "CN=...,O=...,C=.." --ocsp-url http://...
 *       --ca-url http://... --pds-url https://... [--crl-url http://...]
 *       [--key rsa3072|ec-p384] [--validity-days N] [--policy-oid OID] ...
 *   splitkey-ca run --dir DIR --listen URL
 *   splitkey-ca serve --dir DIR --http HOST:PORT
 *   splitkey-ca revoke --dir DIR --serial HEX --reason NAME
 *   splitkey-ca crl --dir DIR --out FILE
 *   splitkey-ca ocsp-signer renew|show --dir DIR
 *   splitkey-ca audit-verify --dir DIR
 *   splitkey-ca add-ra --dir DIR --pub FILE
 *   splitkey-ca issue-tsa --dir DIR --subject DN --csr FILE --out FILE (cmd_tsa.c)
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
#include "ca_publish.h"
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
            "  init --dir DIR --subject DN --ocsp-url URL --ca-url URL --pds-url URL ...\n"
            "                                     create a CA (key, certificate, OCSP signer,\n"
            "                                     configuration, database, audit log)\n"
            "  run --dir DIR --listen URL         serve RA requests until SIGTERM; keeps\n"
            "                                     DIR/crl.der current\n"
            "  serve --dir DIR --http HOST:PORT   publish the CA certificate and the CRL over\n"
            "                                     HTTP at the paths of ca-url and crl-url\n"
            "  revoke --dir DIR --serial HEX --reason NAME\n"
            "                                     revoke a certificate (operator, offline)\n"
            "                                     and publish a new DIR/crl.der\n"
            "  crl --dir DIR --out FILE           write a signed CRL (PEM)\n"
            "  ocsp-signer renew|show --dir DIR   a new OCSP signer key and certificate, or\n"
            "                                     the current signer's serial, dates, status\n"
            "  audit-verify --dir DIR             check the audit log and its database head\n"
            "  add-ra --dir DIR --pub FILE        register a share server (its server.pub)\n"
            "  issue-tsa --dir DIR --subject DN --csr FILE --out FILE\n"
            "                                     certify a time-stamping unit's key (the\n"
            "                                     request of 'splitkey-tsa init')\n"
            "\n"
            "Run '" PROG " COMMAND --help' for the options of a command.\n"
            "Exit status: 0 success, 2 usage or configuration error, 1 other failure.\n");
}

static int fail(int code, const char *msg)
{
    fprintf(stderr, PROG ": %s\n", msg);
    return code;
}

/* Parses flags from argv[first]; returns -1 to go on, or the exit status
 * (help, error). */
static int parse_flags_at(sk_opt *opts, int argc, char **argv, int first, const char *synopsis)
{
    char err[512] = "";
    int rc = sk_config_parse_args(opts, NULL, argc, argv, first, err, sizeof err);
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

static int parse_flags(sk_opt *opts, int argc, char **argv, const char *synopsis)
{
    return parse_flags_at(opts, argc, argv, 2, synopsis);
}

/* "2026-11-22T12:00:00Z" */
static void fmt_time(char *out, size_t cap, int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (gmtime_r(&tt, &tm) == NULL || strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(out, cap, "%lld", (long long)t);
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

/* The OCSP signer's default lifetime.  Its certificate carries
 * id-pkix-ocsp-nocheck (RFC 6960 4.2.2.2.1): a relying party never asks
 * whether the signer itself is revoked, so a stolen signer key would sign
 * "good" answers until the certificate expires.  A short life bounds that;
 * "ocsp-signer renew" replaces it. */
#define CA_OCSP_SIGNER_DAYS 30u

/* In the order they are written; audit.log before ca.db, whose first
 * entry (the OCSP signer's ISSUE) is appended to it. */
enum { F_KEY, F_CERT, F_OCSP_KEY, F_OCSP_CERT, F_CONF, F_AUDIT, F_DB, N_INIT_FILES };
static const char *const init_files[N_INIT_FILES] = {
    [F_KEY] = CA_FILE_KEY,         [F_CERT] = CA_FILE_CERT, [F_OCSP_KEY] = CA_FILE_OCSP_KEY,
    [F_OCSP_CERT] = CA_FILE_OCSP_CERT, [F_CONF] = CA_FILE_CONF, [F_AUDIT] = CA_FILE_AUDIT,
    [F_DB] = CA_FILE_DB,
};

static bool has_newline(const char *s) { return s != NULL && strpbrk(s, "\r\n") != NULL; }

/* Appends ",K=V" (or "K=V" first) to text with ',', '=' and '\' escaped. */
static void name_append(char *text, size_t cap, const char *k, const char *v)
{
    size_t n = strlen(text);
    if (n + 2 >= cap)
        return;
    n += (size_t)snprintf(text + n, cap - n, "%s%s=", n ? "," : "", k);
    for (; *v && n + 3 < cap; v++) {
        if (*v == ',' || *v == '=' || *v == '\\')
            text[n++] = '\\';
        text[n++] = *v;
    }
    text[n < cap ? n : cap - 1] = '\0';
}

/* The OCSP signer's subject: the CA's CN with " OCSP Responder", and its
 * O, organizationIdentifier and C. */
static int ocsp_subject(sk_name **out, const sk_name *ca)
{
    char cn[80] = "splitkey", v[80], text[600] = "";
    if (sk_name_get(ca, cn, sizeof cn, "CN") != SK_OK)
        snprintf(cn, sizeof cn, "splitkey");
    cn[48] = '\0'; /* CN values are at most 64 bytes */
    char full[80];
    snprintf(full, sizeof full, "%s OCSP Responder", cn);
    name_append(text, sizeof text, "CN", full);
    static const char *const copied[] = {"O", "organizationIdentifier", "C"};
    for (size_t i = 0; i < sizeof copied / sizeof copied[0]; i++)
        if (sk_name_get(ca, v, sizeof v, copied[i]) == SK_OK)
            name_append(text, sizeof text, copied[i], v);
    const char *why;
    int rc = sk_name_parse(out, &why, text);
    if (rc != SK_OK) /* not expected: the values came out of a parsed name */
        rc = sk_name_parse(out, &why, "CN=splitkey OCSP Responder");
    return rc;
}

/* What EN 319 412-2 wants in the name of the issuer of a qualified
 * certificate: C, O and CN.  Returns SK_OK or SK_SVC_ERR_CONFIG with err. */
static int check_ca_name(const sk_name *name, char *err, size_t err_len)
{
    static const struct {
        const char *type, *label;
    } need[] = {{"C", "C (countryName)"}, {"O", "O (organizationName)"}, {"CN", "CN (commonName)"}};
    char missing[160] = "", v[80];
    size_t count = 0;
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++) {
        int rc = sk_name_get(name, v, sizeof v, need[i].type);
        if (rc == SK_OK || rc == SK_ERR_BUFFER_TOO_SMALL)
            continue;
        size_t n = strlen(missing);
        snprintf(missing + n, sizeof missing - n, "%s%s", count ? " and " : "", need[i].label);
        count++;
    }
    if (count == 0)
        return SK_OK;
    snprintf(err, err_len,
             "--subject: the CA name has no %s; ETSI EN 319 412-2 requires C, O and CN in the "
             "issuer of a qualified certificate, e.g. \"CN=Example Qualified CA,O=Example,C=LV\" "
             "(organizationIdentifier, 2.5.4.97, may be added)",
             missing);
    return SK_SVC_ERR_CONFIG;
}

static int write_pem_file(const char *path, const char *label, const uint8_t *der, size_t len,
                          unsigned flags)
{
    size_t cap = 2 * len + 256, w;
    char *pem = malloc(cap);
    if (pem == NULL)
        return SK_ERR_NOMEM;
    int rc = sk_pem_encode(pem, cap, &w, label, der, len);
    if (rc == SK_OK)
        rc = sk_file_write_atomic(path, (const uint8_t *)pem, w, SK_FILE_PUBLIC_MODE, flags);
    free(pem);
    return rc;
}

static int write_key_file(const char *path, const sk_ca_key *key, unsigned flags)
{
    char pem[SK_PKI_MAX_KEY_PEM_LEN];
    size_t w = 0;
    int rc = sk_ca_key_export_pem(key, pem, sizeof pem, &w);
    if (rc == SK_OK)
        rc = sk_file_write_atomic(path, (const uint8_t *)pem, w, SK_FILE_SECRET_MODE, flags);
    sk_wipe(pem, sizeof pem);
    return rc;
}

/* A new OCSP signer key of type and its certificate from ca (under
 * sign_mu when given), valid from now - 60 for days.  *okey is the caller's. */
static int make_signer(sk_ca_key **okey, uint8_t *der, size_t *len, sk_serial *serial,
                       const sk_ca *ca, pthread_mutex_t *sign_mu, sk_ca_key_type type,
                       const sk_name *caname, int64_t now, unsigned days)
{
    sk_name *oname = NULL;
    int rc = sk_ca_key_generate(okey, type);
    if (rc == SK_OK)
        rc = ocsp_subject(&oname, caname);
    if (rc == SK_OK) {
        if (sign_mu != NULL)
            pthread_mutex_lock(sign_mu);
        rc = sk_ca_issue_ocsp_signer(ca, der, SK_PKI_MAX_CERT_LEN, len, serial, oname, *okey,
                                     now - 60, days);
        if (sign_mu != NULL)
            pthread_mutex_unlock(sign_mu);
    }
    sk_name_free(oname);
    if (rc != SK_OK) {
        sk_ca_key_free(*okey);
        *okey = NULL;
    }
    return rc;
}

/* Records an OCSP signer certificate in ca.db (profile ocsp-signer) with
 * its ISSUE line in the audit log.  Returns what ca_store_record_issue
 * returns, or SK_ERR_CERT when the certificate cannot be read back. */
static int record_signer(ca_store *store, const uint8_t *der, size_t len, int64_t now)
{
    sk_cert *cert = NULL;
    sk_name *subj = NULL;
    sk_serial serial;
    char subject[600];
    size_t sl;
    int64_t nb = 0, na = 0;
    int rc = sk_cert_parse(&cert, der, len);
    if (rc == SK_OK)
        rc = sk_cert_serial(cert, &serial);
    if (rc == SK_OK)
        rc = sk_cert_validity(cert, &nb, &na);
    if (rc == SK_OK)
        rc = sk_cert_subject(cert, &subj);
    if (rc == SK_OK)
        rc = sk_name_format(subj, subject, sizeof subject, &sl);
    sk_name_free(subj);
    sk_cert_free(cert);
    if (rc != SK_OK)
        return SK_ERR_CERT;
    ca_issue_record r = {
        .serial = &serial,
        .subject = subject,
        .person_id = CA_PERSON_OCSP_SIGNER,
        .profile = CA_PROFILE_OCSP_SIGNER,
        .not_before = nb,
        .not_after = na,
        .issued_at = now,
        .der = der,
        .der_len = len,
    };
    return ca_store_record_issue(store, &r);
}

/* The URL flags init cannot do without: there are no defaults, since any
 * default would be a placeholder in every qualified certificate. */
static int check_required_urls(const struct init_options *o, char *err, size_t err_len)
{
    static const struct {
        const char *flag, *what;
    } req[] = {
        {"--ocsp-url", "the OCSP responder's http:// URL, put into every certificate"},
        {"--ca-url", "the http:// URL where the CA certificate is published (AIA caIssuers)"},
        {"--pds-url", "the https:// URL of the PKI disclosure statement (QcPDS of qualified "
                      "signing certificates)"},
    };
    const char *vals[] = {o->ocsp_url, o->ca_url, o->pds_url};
    for (size_t i = 0; i < sizeof req / sizeof req[0]; i++) {
        if (vals[i] == NULL) {
            snprintf(err, err_len, "missing %s: %s; there is no default", req[i].flag,
                     req[i].what);
            return SK_SVC_ERR_CONFIG;
        }
    }
    return SK_OK;
}

static int cmd_init(int argc, char **argv)
{
    char default_key[] = "rsa3072";
    char default_lang[] = "en";
    struct init_options o = {.key = default_key, .pds_lang = default_lang,
                             .validity_days = 1095, .ca_validity_days = 3650,
                             .ocsp_validity_days = CA_OCSP_SIGNER_DAYS};
    sk_opt opts[] = {
        {.name = "dir", .type = SK_OPT_STRING, .value = &o.dir, .flags = SK_OPT_REQUIRED,
         .arg = "DIR", .help = "the CA directory (created 0700 if missing)"},
        {.name = "subject", .type = SK_OPT_STRING, .value = &o.subject,
         .flags = SK_OPT_REQUIRED, .arg = "DN",
         .help = "CA name with C, O and CN, e.g. \"CN=Example CA,O=Example,C=LV\""},
        {.name = "ocsp-url", .type = SK_OPT_STRING, .value = &o.ocsp_url, .arg = "URL",
         .help = "required: the OCSP responder's http:// URL, put into every certificate"},
        {.name = "ca-url", .type = SK_OPT_STRING, .value = &o.ca_url, .arg = "URL",
         .help = "required: http:// URL of the CA certificate (AIA caIssuers; served by "
                 "serve)"},
        {.name = "pds-url", .type = SK_OPT_STRING, .value = &o.pds_url, .arg = "URL",
         .help = "required: https:// URL of the PKI disclosure statement (QcPDS)"},
        {.name = "crl-url", .type = SK_OPT_STRING, .value = &o.crl_url, .arg = "URL",
         .help = "http:// CRL distribution point (default: none; served by serve)"},
        {.name = "key", .type = SK_OPT_STRING, .value = &o.key, .arg = "TYPE",
         .help = "CA and OCSP key type: rsa3072 (default) or ec-p384"},
        {.name = "policy-oid", .type = SK_OPT_STRING, .value = &o.policy_oid, .arg = "OID",
         .help = "the operator's certificate policy OID (default: none)"},
        {.name = "pds-lang", .type = SK_OPT_STRING, .value = &o.pds_lang, .arg = "LL",
         .help = "PDS language, ISO 639-1, either case (default en)"},
        {.name = "validity-days", .type = SK_OPT_UINT, .value = &o.validity_days, .min = 1,
         .max = 36500, .arg = "N", .help = "person certificate validity (default 1095)"},
        {.name = "ca-validity-days", .type = SK_OPT_UINT, .value = &o.ca_validity_days,
         .min = 1, .max = 36500, .arg = "N", .help = "CA certificate validity (default 3650)"},
        {.name = "ocsp-validity-days", .type = SK_OPT_UINT, .value = &o.ocsp_validity_days,
         .min = 1, .max = 36500, .arg = "N",
         .help = "OCSP signer certificate validity (default 30; short, as it is no-check)"},
        {0},
    };
    int ex = parse_flags(opts, argc, argv,
                         "init --dir DIR --subject DN --ocsp-url URL --ca-url URL --pds-url URL "
                         "[OPTIONS]");
    if (ex >= 0) {
        sk_config_free(opts);
        return ex;
    }
    char err[1024] = "";
    char *paths[N_INIT_FILES] = {0};
    bool created[N_INIT_FILES] = {0};
    bool made_dir = false;
    sk_name *caname = NULL;
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
    if (check_required_urls(&o, err, sizeof err) != SK_OK)
        goto usage_error;
    if (sk_name_parse(&caname, &why, o.subject) != SK_OK) {
        snprintf(err, sizeof err, "--subject: %s", why ? why : "not a distinguished name");
        goto usage_error;
    }
    if (check_ca_name(caname, err, sizeof err) != SK_OK)
        goto usage_error;
    if (sk_ca_key_type_parse(&type, o.key) != SK_OK) {
        snprintf(err, sizeof err, "--key %s: use rsa3072 or ec-p384", o.key);
        goto usage_error;
    }
    if (has_newline(o.ocsp_url) || has_newline(o.ca_url) || has_newline(o.crl_url) ||
        has_newline(o.policy_oid) || has_newline(o.pds_url) || has_newline(o.pds_lang)) {
        snprintf(err, sizeof err, "option values must be one line each");
        goto usage_error;
    }
    if (ca_check_url(o.ocsp_url, CA_URL_OCSP, "--ocsp-url", err, sizeof err) != SK_OK ||
        ca_check_url(o.ca_url, CA_URL_CA, "--ca-url", err, sizeof err) != SK_OK ||
        (o.crl_url != NULL &&
         ca_check_url(o.crl_url, CA_URL_CRL, "--crl-url", err, sizeof err) != SK_OK) ||
        ca_check_url(o.pds_url, CA_URL_PDS, "--pds-url", err, sizeof err) != SK_OK ||
        ca_check_lang(o.pds_lang, "--pds-lang", err, sizeof err) != SK_OK)
        goto usage_error;
    if (o.crl_url != NULL) {
        char a[600], b[600];
        if (ca_url_path(a, sizeof a, o.ca_url) == SK_OK &&
            ca_url_path(b, sizeof b, o.crl_url) == SK_OK && strcmp(a, b) == 0) {
            snprintf(err, sizeof err, "--ca-url and --crl-url have the same path %s; serve "
                                      "publishes the certificate and the CRL at their paths",
                     a);
            goto usage_error;
        }
    }
    for (size_t i = 0; i < N_INIT_FILES; i++) {
        if ((paths[i] = sk_path_join(o.dir, init_files[i])) == NULL)
            goto out;
        if (sk_path_exists(paths[i])) {
            snprintf(err, sizeof err, "%s exists; refusing to overwrite a CA", paths[i]);
            goto usage_error;
        }
    }

    /* Keys, CA certificate, and a trial CA object that checks the config,
     * all before the directory is made. */
    if ((rc = sk_ca_key_generate(&cakey, type)) != SK_OK) {
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
    if (!sk_is_dir(o.dir)) {
        if (mkdir(o.dir, 0700) != 0) {
            snprintf(err, sizeof err, "--dir %s: cannot create: %s", o.dir, strerror(errno));
            goto usage_error;
        }
        made_dir = true;
    }
    if ((rc = write_key_file(paths[F_KEY], cakey, SK_FILE_NO_REPLACE)) != SK_OK)
        goto io_fail;
    created[F_KEY] = true;
    if ((rc = write_pem_file(paths[F_CERT], "CERTIFICATE", der, len, SK_FILE_NO_REPLACE)) !=
        SK_OK)
        goto io_fail;
    created[F_CERT] = true;
    rc = make_signer(&okey, der, &len, NULL, ca, NULL, type, caname, now,
                     o.ocsp_validity_days);
    if (rc != SK_OK) {
        snprintf(err, sizeof err, "cannot issue the OCSP signer certificate: %s",
                 sk_strerror(rc));
        goto fail;
    }

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
                  "# CRL lifetime in days (nextUpdate - thisUpdate); run and serve reissue\n"
                  "# DIR/crl.der when less than half of it is left\n"
                  "#crl-days = %u\n"
                  "# listen = tcp://127.0.0.1:7400\n",
                  o.pds_url, o.pds_lang, o.validity_days, CA_DEFAULT_CRL_DAYS);
    if (n >= (int)sizeof conf) {
        snprintf(err, sizeof err, "option values too long");
        goto usage_error;
    }
    if ((rc = sk_file_write_atomic(paths[F_CONF], (const uint8_t *)conf, (size_t)n,
                                   SK_FILE_PUBLIC_MODE, SK_FILE_NO_REPLACE)) != SK_OK)
        goto io_fail;
    created[F_CONF] = true;
    if ((rc = sk_file_write_atomic(paths[F_AUDIT], (const uint8_t *)"", 0, SK_FILE_SECRET_MODE,
                                   SK_FILE_NO_REPLACE)) != SK_OK)
        goto io_fail;
    created[F_AUDIT] = true;
    if ((rc = ca_store_open(&store, paths[F_DB], paths[F_AUDIT], CA_STORE_CREATE)) != SK_OK) {
        created[F_DB] = rc != SK_SVC_ERR_EXISTS;
        snprintf(err, sizeof err, "%s: cannot create the database: %s", paths[F_DB],
                 sk_svc_strerror(rc));
        goto fail;
    }
    created[F_DB] = true;
    /* The signer is an issued certificate like any other: in ca.db (so the
     * responder answers for it and revoke finds it) and in the audit log. */
    if ((rc = record_signer(store, der, len, now)) != SK_OK) {
        snprintf(err, sizeof err, "cannot record the OCSP signer certificate: %s",
                 sk_svc_strerror(rc));
        goto fail;
    }
    if ((rc = write_key_file(paths[F_OCSP_KEY], okey, SK_FILE_NO_REPLACE)) != SK_OK)
        goto io_fail;
    created[F_OCSP_KEY] = true;
    if ((rc = write_pem_file(paths[F_OCSP_CERT], "CERTIFICATE", der, len,
                             SK_FILE_NO_REPLACE)) != SK_OK)
        goto io_fail;
    created[F_OCSP_CERT] = true;

    printf("created a %s CA in %s\n"
           "  %s/ca.pem    CA certificate (give it to relying parties)\n"
           "  %s/ca.key    CA private key (0600)\n"
           "  %s/ocsp.pem  OCSP signer certificate (%u days; renew it with '" PROG
           " ocsp-signer renew'), %s/ocsp.key its key (0600)\n"
           "  %s/ca.conf   configuration; %s/ca.db certificate database; "
           "%s/audit.log audit log\n"
           "Register share servers with '" PROG " add-ra --dir %s --pub server.pub'.\n",
           sk_ca_key_type_name(type), o.dir, o.dir, o.dir, o.dir, o.ocsp_validity_days, o.dir,
           o.dir, o.dir, o.dir, o.dir);
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
            if (i == F_DB) { /* the database's companions */
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

/* The CRL options of run and serve. */
#define CRL_OPTS(days_ptr, refresh_ptr)                                                       \
    {.name = "crl-days", .type = SK_OPT_UINT, .value = (days_ptr), .min = 1,                  \
     .max = CA_MAX_CRL_DAYS, .arg = "N",                                                      \
     .help = "CRL lifetime, nextUpdate - thisUpdate (default 7, or crl-days in ca.conf); "   \
             "DIR/crl.der is reissued when less than half of it is left"},                    \
    {.name = "crl-refresh-seconds", .type = SK_OPT_UINT, .value = (refresh_ptr), .min = 1,   \
     .max = 366u * 86400u, .arg = "SECONDS",                                                  \
     .help = "also reissue DIR/crl.der once it is this old (default: only by --crl-days; "   \
             "checked every min(60, SECONDS/2) seconds)"}

/* --crl-days when given, else crl-days of ca.conf. */
static unsigned crl_days_of(const sk_opt *opts, unsigned flag_value, const ca_ctx *ca)
{
    for (const sk_opt *o = opts; o->name != NULL; o++)
        if (strcmp(o->name, "crl-days") == 0 && o->set)
            return flag_value;
    return ca->conf.conf.crl_days;
}

/* run's revocation hook: the CRL follows every committed revocation. */
struct crl_hook {
    ca_ctx *ca;
    unsigned days;
};

static void publish_after_revoke(void *ctx)
{
    struct crl_hook *h = ctx;
    char err[600] = "";
    uint64_t number = 0;
    size_t count = 0;
    if (ca_crl_publish(h->ca, h->days, &number, &count, err, sizeof err) == SK_OK)
        sk_log_notice("CRL %llu with %zu revoked certificates published to %s/%s after a "
                      "revocation",
                      (unsigned long long)number, count, h->ca->dir, CA_FILE_CRL);
    else
        sk_log_error("CRL not published after a revocation: %s (the next check retries)",
                     err);
}

static int cmd_run(int argc, char **argv)
{
    char *dir = NULL, *listen = NULL, *ready = NULL;
    char *metrics_listen = NULL, *log_format = NULL, *log_target = NULL;
    bool metrics_remote = false;
    sk_metrics_http *metrics = NULL;
    unsigned workers = 0, skew = CA_DEFAULT_SKEW_SECS;
    unsigned max_conns = 0, max_conns_per_peer = 0, idle_seconds = 0; /* 0: the defaults */
    unsigned crl_days = CA_DEFAULT_CRL_DAYS, crl_refresh = 0;
    ca_crl_scheduler *sched = NULL;
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
        CRL_OPTS(&crl_days, &crl_refresh),
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
    /* The CRL: current before the first request, then checked on a schedule
     * and reissued after every revocation. */
    struct crl_hook hook = {.ca = &ca, .days = crl_days_of(opts, crl_days, &ca)};
    (void)ca_crl_refresh(&ca, hook.days, crl_refresh);
    if (ca_crl_scheduler_start(&sched, &ca, hook.days, crl_refresh) != SK_OK) {
        fprintf(stderr, PROG ": cannot start the CRL schedule\n");
        goto out;
    }
    ca_handler handler = {.ca = &ca, .skew_secs = skew, .revoked = publish_after_revoke,
                          .revoked_ctx = &hook};
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
    ca_crl_scheduler_stop(sched);
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
    case SK_OK: {
        printf("revoked %s (%s)\n", hex, sk_crl_reason_name(reason));
        ex = 0;
        /* The revocation is committed (OCSP answers it from now on); the CRL
         * follows.  If it cannot be written, the next check of a running
         * run or serve reissues it (it lists fewer certificates than are
         * revoked). */
        char err[600] = "";
        uint64_t number = 0;
        size_t count = 0;
        if (ca_crl_publish(&ca, ca.conf.conf.crl_days, &number, &count, err, sizeof err) ==
            SK_OK)
            printf("CRL %llu with %zu revoked certificates published to %s/%s\n",
                   (unsigned long long)number, count, dir, CA_FILE_CRL);
        else
            fprintf(stderr,
                    PROG ": warning: %s; %s/%s does not list %s yet (a running run or serve "
                         "reissues it within a minute)\n",
                    err, dir, CA_FILE_CRL, hex);
        break;
    }
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
    unsigned days = 0;
    sk_opt opts[] = {
        {.name = "dir", .type = SK_OPT_DIR, .value = &dir, .flags = SK_OPT_REQUIRED,
         .arg = "DIR", .help = "the CA directory"},
        {.name = "out", .type = SK_OPT_STRING, .value = &outp, .flags = SK_OPT_REQUIRED,
         .arg = "FILE", .help = "where to write the CRL (PEM)"},
        {.name = "days", .type = SK_OPT_UINT, .value = &days, .min = 1, .max = CA_MAX_CRL_DAYS,
         .arg = "N", .help = "nextUpdate after this many days (default: crl-days of ca.conf, "
                             "itself 7 by default)"},
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
    size_t count = 0, len = 0;
    uint64_t number = 0;
    uint8_t *der = NULL;
    int rc = ca_crl_make(&ca, days ? days : ca.conf.conf.crl_days, (int64_t)time(NULL), &der,
                         &len, &number, &count);
    if (rc != SK_OK) {
        fprintf(stderr, PROG ": cannot make the CRL: %s\n", sk_svc_strerror(rc));
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
    ca_ctx_free(&ca);
    sk_config_free(opts);
    return ex;
}

/* ----------------------------------------------------------------- serve */

static int cmd_serve(int argc, char **argv)
{
    char *dir = NULL, *http = NULL, *ready = NULL, *log_format = NULL, *log_target = NULL;
    unsigned crl_days = CA_DEFAULT_CRL_DAYS, crl_refresh = 0;
    sk_opt opts[] = {
        {.name = "dir", .type = SK_OPT_DIR, .value = &dir, .flags = SK_OPT_REQUIRED,
         .arg = "DIR", .help = "the CA directory made by init"},
        {.name = "http", .type = SK_OPT_STRING, .value = &http, .flags = SK_OPT_REQUIRED,
         .arg = "HOST:PORT",
         .help = "where to serve HTTP, e.g. 127.0.0.1:8081 (port 0: any); put it behind the "
                 "hosts of ca-url and crl-url"},
        {.name = "ready-file", .type = SK_OPT_STRING, .value = &ready, .arg = "FILE",
         .help = "write the bound URL here once serving"},
        CRL_OPTS(&crl_days, &crl_refresh),
        SK_LOG_OPTS(&log_format, &log_target),
        {0},
    };
    int ex = parse_flags(opts, argc, argv, "serve --dir DIR --http HOST:PORT [OPTIONS]");
    if (ex >= 0) {
        sk_config_free(opts);
        return ex;
    }
    char err[768] = "";
    if (sk_log_configure(log_format, log_target, err, sizeof err) != SK_OK) {
        sk_config_free(opts);
        return fail(2, err);
    }
    sk_log_init(PROG);
    ca_ctx ca;
    ex = load_ca(&ca, dir);
    if (ex >= 0) {
        sk_config_free(opts);
        return ex;
    }
    ex = 1;
    ca_http *srv = NULL;
    ca_crl_scheduler *sched = NULL;
    unsigned days = crl_days_of(opts, crl_days, &ca);
    if (sk_signals_install() != SK_OK) {
        fprintf(stderr, PROG ": cannot install signal handlers\n");
        goto out;
    }
    /* A CRL to serve from the first request on. */
    (void)ca_crl_refresh(&ca, days, crl_refresh);
    if (ca_crl_scheduler_start(&sched, &ca, days, crl_refresh) != SK_OK) {
        fprintf(stderr, PROG ": cannot start the CRL schedule\n");
        goto out;
    }
    int rc = ca_http_start(&srv, &ca, http, err, sizeof err);
    if (rc != SK_OK) {
        fprintf(stderr, PROG ": %s\n", err);
        ex = rc == SK_SVC_ERR_CONFIG ? 2 : 1;
        goto out;
    }
    char cpath[600], lpath[600] = "-";
    (void)ca_url_path(cpath, sizeof cpath, ca.conf.conf.ca_url);
    if (ca.conf.conf.crl_url != NULL)
        (void)ca_url_path(lpath, sizeof lpath, ca.conf.conf.crl_url);
    sk_log_notice("serving HTTP on %s: the CA certificate at %s, the CRL at %s%s; CRL "
                  "lifetime %u days",
                  ca_http_url(srv), cpath, lpath,
                  ca.conf.conf.crl_url ? "" : " (no crl-url in ca.conf: not served)", days);
    if (ready != NULL) {
        char line[320];
        int n = snprintf(line, sizeof line, "%s\n", ca_http_url(srv));
        if (sk_file_write_atomic(ready, (const uint8_t *)line, (size_t)n, SK_FILE_PUBLIC_MODE,
                                 0) != SK_OK) {
            fprintf(stderr, PROG ": cannot write %s\n", ready);
            goto out;
        }
    }
    int sig = sk_signals_wait();
    sk_log_notice("signal %d: stopping", sig);
    ex = 0;
out:
    ca_http_stop(srv);
    ca_crl_scheduler_stop(sched);
    if (ex == 0)
        sk_log_notice("stopped");
    ca_ctx_free(&ca);
    sk_config_free(opts);
    return ex;
}

/* ----------------------------------------------------------- ocsp-signer */

static const char ocsp_signer_synopsis[] =
    "ocsp-signer renew --dir DIR [--days N]\n"
    "       " PROG " ocsp-signer show --dir DIR";

static void ocsp_signer_help(FILE *out)
{
    fprintf(out,
            "usage: " PROG " %s\n"
            "\n"
            "The CA's delegated OCSP signer (DIR/ocsp.pem, DIR/ocsp.key).  Its certificate\n"
            "is id-pkix-ocsp-nocheck, so relying parties never check it: keep it short-lived\n"
            "and renew it before it expires.  Every signer is recorded in ca.db and the\n"
            "audit log; revoke one with '" PROG " revoke --serial HEX'.\n"
            "\n"
            "  renew   make a new signer key and certificate, record them, and replace\n"
            "          ocsp.key, then ocsp.pem (each atomically); the old signer stays\n"
            "          valid until it expires\n"
            "  show    the current signer's serial, notBefore, notAfter and status\n"
            "\n"
            "options:\n"
            "  --dir DIR                  the CA directory\n"
            "  --days N                   renew: validity of the new certificate (default 30)\n",
            ocsp_signer_synopsis);
}

/* Reads and parses DIR/ocsp.pem. */
static int load_signer_cert(sk_cert **cert, const char *dir, char *err, size_t err_len)
{
    char *path = sk_path_join(dir, CA_FILE_OCSP_CERT);
    uint8_t *data = NULL;
    size_t len = 0;
    *cert = NULL;
    int rc = path ? sk_file_read(&data, &len, path, 64u * 1024u, 0) : SK_ERR_NOMEM;
    if (rc == SK_OK && (rc = sk_cert_parse(cert, data, len)) != SK_OK)
        snprintf(err, err_len, "%s: not a certificate (%s)", path, sk_strerror(rc));
    else if (rc != SK_OK)
        snprintf(err, err_len, "%s: %s", path ? path : dir, sk_svc_strerror(rc));
    sk_file_free(data, len);
    free(path);
    return rc;
}

static int ocsp_signer_renew(int argc, char **argv)
{
    char *dir = NULL;
    unsigned days = CA_OCSP_SIGNER_DAYS;
    sk_opt opts[] = {
        {.name = "dir", .type = SK_OPT_DIR, .value = &dir, .flags = SK_OPT_REQUIRED,
         .arg = "DIR", .help = "the CA directory"},
        {.name = "days", .type = SK_OPT_UINT, .value = &days, .min = 1, .max = 36500,
         .arg = "N", .help = "validity of the new signer certificate (default 30)"},
        {0},
    };
    int ex = parse_flags_at(opts, argc, argv, 3, "ocsp-signer renew --dir DIR [--days N]");
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
    char err[768] = "", old_hex[2 * SK_SERIAL_MAX_LEN + 1] = "", hex[2 * SK_SERIAL_MAX_LEN + 1];
    char nb_s[32], na_s[32];
    sk_cert *cacert = NULL, *old = NULL;
    sk_name *caname = NULL;
    sk_ca_key *okey = NULL;
    sk_serial serial;
    size_t len = 0;
    int64_t now = (int64_t)time(NULL), nb = 0, na = 0;
    char *kpath = sk_path_join(dir, CA_FILE_OCSP_KEY), *cpath = sk_path_join(dir, CA_FILE_OCSP_CERT);
    uint8_t *der = malloc(SK_PKI_MAX_CERT_LEN);
    int rc = kpath && cpath && der ? SK_OK : SK_ERR_NOMEM;
    if (rc == SK_OK)
        rc = sk_cert_parse(&cacert, ca.cert_der, ca.cert_len);
    if (rc == SK_OK)
        rc = sk_cert_subject(cacert, &caname);
    if (rc == SK_OK)
        rc = make_signer(&okey, der, &len, &serial, ca.ca, &ca.sign_mu,
                         sk_ca_key_get_type(ca.key), caname, now, days);
    if (rc != SK_OK) {
        fprintf(stderr, PROG ": cannot issue the OCSP signer certificate: %s\n",
                sk_strerror(rc));
        goto out;
    }
    sk_serial old_serial;
    if (load_signer_cert(&old, dir, err, sizeof err) == SK_OK &&
        sk_cert_serial(old, &old_serial) == SK_OK &&
        sk_serial_to_hex(old_hex, sizeof old_hex, &old_serial) != SK_OK)
        old_hex[0] = '\0';
    /* Recorded first: a signer that is in use is always in ca.db. */
    if ((rc = record_signer(ca.store, der, len, now)) != SK_OK) {
        fprintf(stderr, PROG ": cannot record the new OCSP signer: %s; nothing was replaced\n",
                sk_svc_strerror(rc));
        goto out;
    }
    /* The key first, the certificate last: a reader that sees the new
     * certificate finds its key already in place; one that reads between
     * the two renames gets a pair that does not match, and must try again. */
    if ((rc = write_key_file(kpath, okey, 0)) != SK_OK) {
        fprintf(stderr, PROG ": cannot write %s: %s (%s); the signer files are unchanged\n",
                kpath, sk_svc_strerror(rc), strerror(errno));
        goto out;
    }
    if ((rc = write_pem_file(cpath, "CERTIFICATE", der, len, 0)) != SK_OK) {
        fprintf(stderr,
                PROG ": cannot write %s: %s (%s); %s holds the new key and no certificate "
                     "for it: run renew again\n",
                cpath, sk_svc_strerror(rc), strerror(errno), kpath);
        goto out;
    }
    sk_cert *fresh = NULL;
    if (sk_serial_to_hex(hex, sizeof hex, &serial) != SK_OK)
        snprintf(hex, sizeof hex, "?");
    if (sk_cert_parse(&fresh, der, len) != SK_OK || sk_cert_validity(fresh, &nb, &na) != SK_OK)
        nb = na = 0;
    sk_cert_free(fresh);
    fmt_time(nb_s, sizeof nb_s, nb);
    fmt_time(na_s, sizeof na_s, na);
    printf("new OCSP signer %s, valid %s to %s, in %s and %s\n", hex, nb_s, na_s, kpath, cpath);
    if (old_hex[0] != '\0')
        printf("the previous signer %s stays valid until it expires; revoke it with '" PROG
               " revoke --dir %s --serial %s --reason superseded' if it must stop now\n",
               old_hex, dir, old_hex);
    printf("a running splitkey-ocsp reloads the new files; otherwise restart it\n");
    ex = 0;
out:
    sk_cert_free(old);
    sk_cert_free(cacert);
    sk_name_free(caname);
    sk_ca_key_free(okey);
    free(der);
    free(kpath);
    free(cpath);
    ca_ctx_free(&ca);
    sk_config_free(opts);
    return ex;
}

static int ocsp_signer_show(int argc, char **argv)
{
    char *dir = NULL;
    sk_opt opts[] = {
        {.name = "dir", .type = SK_OPT_DIR, .value = &dir, .flags = SK_OPT_REQUIRED,
         .arg = "DIR", .help = "the CA directory"},
        {0},
    };
    int ex = parse_flags_at(opts, argc, argv, 3, "ocsp-signer show --dir DIR");
    if (ex >= 0) {
        sk_config_free(opts);
        return ex;
    }
    char err[768] = "", hex[2 * SK_SERIAL_MAX_LEN + 1], subject[600] = "?", nb_s[32], na_s[32];
    char *db = sk_path_join(dir, CA_FILE_DB);
    sk_cert *cert = NULL;
    sk_name *subj = NULL;
    ca_store *store = NULL;
    sk_serial serial;
    sk_cert_status st;
    int64_t nb = 0, na = 0, now = (int64_t)time(NULL);
    size_t sl;
    ex = 1;
    int rc = load_signer_cert(&cert, dir, err, sizeof err);
    if (rc != SK_OK) {
        fprintf(stderr, PROG ": %s\n", err);
        ex = rc == SK_ERR_NOT_FOUND ? 2 : 1;
        goto out;
    }
    if (sk_cert_serial(cert, &serial) != SK_OK || sk_cert_validity(cert, &nb, &na) != SK_OK ||
        sk_serial_to_hex(hex, sizeof hex, &serial) != SK_OK) {
        fprintf(stderr, PROG ": %s/%s: cannot read its serial and validity\n", dir,
                CA_FILE_OCSP_CERT);
        goto out;
    }
    if (sk_cert_subject(cert, &subj) != SK_OK ||
        sk_name_format(subj, subject, sizeof subject, &sl) != SK_OK)
        snprintf(subject, sizeof subject, "?");
    rc = db ? ca_store_open(&store, db, NULL, CA_STORE_READONLY) : SK_ERR_NOMEM;
    if (rc == SK_OK)
        rc = ca_store_status(store, &st, &serial);
    if (rc != SK_OK) {
        fprintf(stderr, PROG ": %s: cannot read the certificate database: %s\n",
                db ? db : dir, sk_svc_strerror(rc));
        ex = rc == SK_ERR_NOT_FOUND ? 2 : 1;
        goto out;
    }
    fmt_time(nb_s, sizeof nb_s, nb);
    fmt_time(na_s, sizeof na_s, na);
    printf("serial: %s\nsubject: %s\nnotBefore: %s\nnotAfter: %s\n", hex, subject, nb_s, na_s);
    if (st.state == SK_CERT_REVOKED) {
        char at[32];
        fmt_time(at, sizeof at, st.revocation_time);
        const char *r = sk_crl_reason_name(st.reason);
        printf("status: revoked %s (%s): renew it now\n", at, r ? r : "unspecified");
    } else if (st.state == SK_CERT_UNKNOWN) {
        printf("status: not in ca.db (not issued by this CA's database); renew it\n");
    } else if (na < now) {
        printf("status: expired %lld days ago: renew it now\n",
               (long long)((now - na) / 86400));
    } else {
        printf("status: good, expires in %lld days\n", (long long)((na - now) / 86400));
    }
    ex = 0;
out:
    ca_store_close(store);
    sk_name_free(subj);
    sk_cert_free(cert);
    free(db);
    sk_config_free(opts);
    return ex;
}

static int cmd_ocsp_signer(int argc, char **argv)
{
    const char *sub = argc > 2 ? argv[2] : NULL;
    if (sub != NULL && (!strcmp(sub, "--help") || !strcmp(sub, "-h") || !strcmp(sub, "help"))) {
        ocsp_signer_help(stdout);
        return 0;
    }
    if (sub != NULL && strcmp(sub, "renew") == 0)
        return ocsp_signer_renew(argc, argv);
    if (sub != NULL && strcmp(sub, "show") == 0)
        return ocsp_signer_show(argc, argv);
    if (sub == NULL)
        fprintf(stderr, PROG ": ocsp-signer: missing renew or show\n");
    else
        fprintf(stderr, PROG ": ocsp-signer: unknown \"%s\": use renew or show\n", sub);
    return 2;
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
        {"serve", cmd_serve},
        {"revoke", cmd_revoke},
        {"crl", cmd_crl},
        {"ocsp-signer", cmd_ocsp_signer},
        {"audit-verify", cmd_audit_verify},
        {"add-ra", cmd_add_ra},
        {"issue-tsa", cmd_issue_tsa},
        {NULL, NULL},
    };
    return sk_command_dispatch(argc, argv, PROG, commands, usage);
}
