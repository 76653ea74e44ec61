/* SPDX-License-Identifier: Apache-2.0 */
/*
 * splitkey-tsa - the time-stamping authority (doc/pki.md, "Time stamps").
 *
 *   splitkey-tsa init --dir DIR --subject "C=LV,O=Example,CN=Example TSA"
 *       [--key rsa3072|ec-p384]
 *   splitkey-ca issue-tsa --dir CADIR --subject ... --csr DIR/tsa.csr --out DIR/tsa.pem
 *   splitkey-tsa run --dir DIR --http HOST:PORT [--policy OID] [--qualified]
 *   splitkey-tsa run --config FILE     (the same options as "name = value" lines)
 *
 * The TSA directory holds DIR/tsa.key (the key, 0600), DIR/tsa.csr (its
 * request, for the CA) and DIR/tsa.pem (the certificate the CA issued).
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

#include "command.h"
#include "config.h"
#include "fileio.h"
#include "http_listen.h"
#include "log.h"
#include "signals.h"
#include "splitkey/splitkey.h"
#include "svc_error.h"
#include "tsa_http.h"

#define PROG "splitkey-tsa"
#define FILE_KEY "tsa.key"
#define FILE_CSR "tsa.csr"
#define FILE_CERT "tsa.pem"
#define CERT_FILE_MAX (64u * 1024u)
/* ETSI EN 319 421 best practices policy for time-stamp (BTSP). */
#define DEFAULT_POLICY "0.4.0.2023.1.1"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: " PROG " COMMAND [OPTIONS]\n"
            "\n"
            "The time-stamping authority of splitkey (RFC 3161, ETSI EN 319 422): answers\n"
            "time-stamp queries over HTTP with tokens signed by its key, whose certificate\n"
            "the CA issues with 'splitkey-ca issue-tsa'.\n"
            "\n"
            "commands:\n"
            "  init --dir DIR --subject DN       make the TSA key (DIR/tsa.key) and its\n"
            "                                    certificate request (DIR/tsa.csr)\n"
            "  run --dir DIR --http HOST:PORT    serve time-stamp queries until SIGTERM\n"
            "                                    (or run --config FILE)\n"
            "\n"
            "Run '" PROG " COMMAND --help' for the options of a command.\n"
            "Exit status: 0 success, 2 usage or configuration error, 1 other failure.\n");
}

/* Parses flags, then the file *config names if there is one (config may be
 * NULL: a command without --config); returns -1 to go on, or the exit
 * status (help, error). */
static int parse_flags(sk_opt *opts, char *const *config, int argc, char **argv,
                       const char *synopsis)
{
    char err[512] = "";
    int rc = sk_config_parse_args(opts, NULL, argc, argv, 2, err, sizeof err);
    if (rc == SK_SVC_HELP) {
        printf("usage: " PROG " %s\n\n", synopsis);
        sk_config_usage(stdout, opts);
        return 0;
    }
    if (rc == SK_OK && config != NULL && *config != NULL)
        rc = sk_config_parse_file(opts, *config, err, sizeof err);
    if (rc == SK_OK)
        rc = sk_config_validate(opts, err, sizeof err);
    if (rc != SK_OK) {
        fprintf(stderr, PROG ": %s\n", err);
        return 2;
    }
    if (sk_init() != SK_OK) {
        fprintf(stderr, PROG ": cannot initialise libsplitkey\n");
        return 1;
    }
    return -1;
}

/* An organisation's name: C, O and CN. */
static bool org_subject(const sk_name *n)
{
    char v[128];
    return sk_name_get(n, v, sizeof v, "C") == SK_OK && sk_name_get(n, v, sizeof v, "O") == SK_OK &&
           sk_name_get(n, v, sizeof v, "CN") == SK_OK;
}

/* ------------------------------------------------------------------ init */

static int cmd_init(int argc, char **argv)
{
    char *dir = NULL, *subject_text = NULL, *key_name = NULL;
    char default_key[] = "rsa3072";
    key_name = default_key;
    sk_opt opts[] = {
        {.name = "dir", .type = SK_OPT_STRING, .value = &dir, .flags = SK_OPT_REQUIRED,
         .arg = "DIR", .help = "the TSA directory (made, mode 0700, if it does not exist)"},
        {.name = "subject", .type = SK_OPT_STRING, .value = &subject_text,
         .flags = SK_OPT_REQUIRED, .arg = "DN",
         .help = "the TSA's name with C, O and CN, e.g. \"C=LV,O=Example,CN=Example TSA\""},
        {.name = "key", .type = SK_OPT_STRING, .value = &key_name, .arg = "TYPE",
         .help = "rsa3072 (default) or ec-p384"},
        {0},
    };
    int ex = parse_flags(opts, NULL, argc, argv,
                         "init --dir DIR --subject DN [--key rsa3072|ec-p384]");
    if (ex >= 0) {
        sk_config_free(opts);
        return ex;
    }
    ex = 2;
    sk_name *subject = NULL;
    sk_ca_key *key = NULL;
    char *key_path = NULL, *csr_path = NULL, pem[SK_PKI_MAX_KEY_PEM_LEN];
    char csr_pem[2 * SK_PKI_MAX_CSR_LEN];
    uint8_t csr[SK_PKI_MAX_CSR_LEN];
    size_t pem_len = 0, csr_len = 0, csr_pem_len = 0;
    const char *why = NULL;
    sk_ca_key_type type;
    if (sk_ca_key_type_parse(&type, key_name) != SK_OK) {
        fprintf(stderr, PROG ": --key %s: use rsa3072 or ec-p384\n", key_name);
        goto out;
    }
    if (sk_name_parse(&subject, &why, subject_text) != SK_OK || !org_subject(subject)) {
        fprintf(stderr, PROG ": --subject %s: %s\n", subject_text,
                why ? why : "an organisation's name with C, O and CN is required");
        goto out;
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, PROG ": --dir %s: cannot create: %s\n", dir, strerror(errno));
        goto out;
    }
    key_path = sk_path_join(dir, FILE_KEY);
    csr_path = sk_path_join(dir, FILE_CSR);
    if (key_path == NULL || csr_path == NULL) {
        ex = 1;
        goto out;
    }
    if (sk_path_exists(key_path)) {
        fprintf(stderr, PROG ": %s exists: refusing to replace a TSA key\n", key_path);
        goto out;
    }
    ex = 1;
    int rc = sk_ca_key_generate(&key, type);
    if (rc == SK_OK)
        rc = sk_tsa_csr(key, csr, sizeof csr, &csr_len, subject);
    if (rc == SK_OK)
        rc = sk_pem_encode(csr_pem, sizeof csr_pem, &csr_pem_len, "CERTIFICATE REQUEST", csr,
                           csr_len);
    if (rc == SK_OK)
        rc = sk_ca_key_export_pem(key, pem, sizeof pem, &pem_len);
    if (rc != SK_OK) {
        fprintf(stderr, PROG ": cannot make the TSA key and request: %s\n", sk_strerror(rc));
        goto out;
    }
    rc = sk_file_write_atomic(key_path, (const uint8_t *)pem, pem_len, SK_FILE_SECRET_MODE,
                              SK_FILE_NO_REPLACE);
    if (rc != SK_OK) {
        fprintf(stderr, PROG ": cannot write %s: %s\n", key_path, sk_svc_strerror(rc));
        goto out;
    }
    rc = sk_file_write_atomic(csr_path, (const uint8_t *)csr_pem, csr_pem_len,
                              SK_FILE_PUBLIC_MODE, 0);
    if (rc != SK_OK) {
        fprintf(stderr, PROG ": cannot write %s: %s\n", csr_path, sk_svc_strerror(rc));
        remove(key_path); /* nothing half made */
        goto out;
    }
    printf("TSA key (%s) in %s, its request in %s\n"
           "next: splitkey-ca issue-tsa --dir CADIR --subject \"%s\" --csr %s --out %s/%s\n",
           sk_ca_key_type_name(type), key_path, csr_path, subject_text, csr_path, dir,
           FILE_CERT);
    ex = 0;
out:
    sk_wipe(pem, sizeof pem);
    sk_ca_key_free(key);
    sk_name_free(subject);
    free(key_path);
    free(csr_path);
    sk_config_free(opts);
    return ex;
}

/* ------------------------------------------------------------------- run */

static int cmd_run(int argc, char **argv)
{
    char default_policy[] = DEFAULT_POLICY;
    char *dir = NULL, *http = NULL, *policy = default_policy, *cert_path = NULL,
         *key_path = NULL, *ready = NULL, *log_format = NULL, *log_target = NULL,
         *config = NULL;
    bool qualified = false, tsa_name = false;
    unsigned accuracy = 1, max_request = 16384;
    sk_opt opts[] = {
        {.name = "config", .type = SK_OPT_FILE, .value = &config, .flags = SK_OPT_FLAG_ONLY,
         .arg = "FILE", .help = "read options from FILE as \"name = value\" lines; flags win"},
        {.name = "dir", .type = SK_OPT_DIR, .value = &dir, .flags = SK_OPT_REQUIRED,
         .arg = "DIR", .help = "the TSA directory (splitkey-tsa init)"},
        {.name = "http", .type = SK_OPT_STRING, .value = &http, .flags = SK_OPT_REQUIRED,
         .arg = "HOST:PORT", .help = "where to serve HTTP, e.g. 127.0.0.1:8090 (port 0: any)"},
        {.name = "policy", .type = SK_OPT_STRING, .value = &policy, .arg = "OID",
         .help = "the TSA policy in every token (default 0.4.0.2023.1.1, ETSI BTSP)"},
        {.name = "qualified", .type = SK_OPT_BOOL, .value = &qualified,
         .help = "qualified time stamps: esi4-qtstStatement-1 in every token"},
        {.name = "accuracy-seconds", .type = SK_OPT_UINT, .value = &accuracy, .min = 1,
         .max = 60, .arg = "N", .help = "the accuracy stated in every token (default 1)"},
        {.name = "tsa-name", .type = SK_OPT_BOOL, .value = &tsa_name,
         .help = "name the TSA (its certificate's subject) in every token"},
        {.name = "cert", .type = SK_OPT_FILE, .value = &cert_path, .arg = "FILE",
         .help = "the TSA certificate (default DIR/tsa.pem)"},
        {.name = "key", .type = SK_OPT_FILE, .value = &key_path, .arg = "FILE",
         .help = "the TSA key, mode 0600 (default DIR/tsa.key)"},
        {.name = "max-request", .type = SK_OPT_UINT, .value = &max_request, .min = 256,
         .max = 1024 * 1024, .arg = "BYTES", .help = "largest query accepted (default 16384)"},
        {.name = "ready-file", .type = SK_OPT_STRING, .value = &ready, .arg = "FILE",
         .help = "write the bound URL here once serving"},
        SK_LOG_OPTS(&log_format, &log_target),
        {0},
    };
    int ex = parse_flags(opts, &config, argc, argv,
                         "run --dir DIR --http HOST:PORT [--config FILE] [OPTIONS]");
    if (ex >= 0) {
        sk_config_free(opts);
        return ex;
    }
    ex = 2;
    char err[512] = "", host[256];
    unsigned port = 0;
    char *path = NULL;
    uint8_t *cert = NULL, *key_pem = NULL;
    size_t cert_len = 0, key_len = 0;
    sk_ca_key *key = NULL;
    sk_tsa *tsa = NULL;
    tsa_http *srv = NULL;
    if (!sk_parse_hostport(host, sizeof host, &port, http)) {
        fprintf(stderr, PROG ": --http %s: expected HOST:PORT, e.g. 127.0.0.1:8090\n", http);
        goto out;
    }
    if (sk_log_configure(log_format, log_target, err, sizeof err) != SK_OK) {
        fprintf(stderr, PROG ": %s\n", err);
        goto out;
    }
    sk_log_init(PROG);
    path = cert_path ? strdup(cert_path) : sk_path_join(dir, FILE_CERT);
    int rc = path ? sk_file_read(&cert, &cert_len, path, CERT_FILE_MAX, 0) : SK_ERR_NOMEM;
    if (rc != SK_OK) {
        fprintf(stderr, PROG ": %s: %s\n", path ? path : dir, sk_svc_strerror(rc));
        goto out;
    }
    free(path);
    path = key_path ? strdup(key_path) : sk_path_join(dir, FILE_KEY);
    rc = path ? sk_file_read(&key_pem, &key_len, path, CERT_FILE_MAX, SK_FILE_SECRET)
              : SK_ERR_NOMEM;
    if (rc == SK_OK)
        rc = sk_ca_key_import(&key, key_pem, key_len);
    if (key_pem != NULL) {
        sk_wipe(key_pem, key_len);
        free(key_pem);
    }
    if (rc != SK_OK) {
        fprintf(stderr, PROG ": %s: cannot load the TSA key: %s\n", path ? path : dir,
                sk_svc_strerror(rc));
        goto out;
    }
    sk_tsa_config tc = {.policy_oid = policy, .accuracy_seconds = accuracy,
                        .qualified = qualified, .include_name = tsa_name};
    rc = sk_tsa_new(&tsa, cert, cert_len, key, &tc);
    if (rc != SK_OK) {
        fprintf(stderr,
                PROG ": %s\n",
                rc == SK_ERR_ARG ? "--policy: not an object identifier (dotted digits)"
                                 : "the TSA certificate is not for this key with extKeyUsage "
                                   "id-kp-timeStamping only");
        goto out;
    }
    if (sk_signals_install() != SK_OK) {
        fprintf(stderr, PROG ": cannot install signal handlers\n");
        ex = 1;
        goto out;
    }
    tsa_http_config hc = {.host = host, .port = port, .max_request = max_request, .tsa = tsa};
    rc = tsa_http_start(&srv, &hc);
    if (rc != SK_OK) {
        fprintf(stderr, PROG ": cannot serve HTTP on %s: %s\n", http, sk_svc_strerror(rc));
        ex = rc == SK_SVC_ERR_CONFIG ? 2 : 1;
        goto out;
    }
    char url[300];
    snprintf(url, sizeof url, "http://%s:%u/", host, tsa_http_port(srv));
    sk_log_notice("serving time stamps on %s: policy %s, accuracy %us, %s", url, policy,
                  accuracy, qualified ? "qualified" : "not qualified");
    if (ready != NULL) {
        char line[320];
        int n = snprintf(line, sizeof line, "%s\n", url);
        if (sk_file_write_atomic(ready, (const uint8_t *)line, (size_t)n, SK_FILE_PUBLIC_MODE,
                                 0) != SK_OK) {
            fprintf(stderr, PROG ": cannot write %s\n", ready);
            ex = 1;
            goto out;
        }
    }
    int sig = sk_signals_wait();
    sk_log_notice("signal %d: stopping", sig);
    ex = 0;
out:
    tsa_http_stop(srv);
    if (ex == 0)
        sk_log_notice("stopped");
    sk_tsa_free(tsa);
    sk_ca_key_free(key);
    free(cert); /* public */
    free(path);
    sk_config_free(opts);
    return ex;
}

int main(int argc, char **argv)
{
    static const sk_command commands[] = {
        {"init", cmd_init},
        {"run", cmd_run},
        {NULL, NULL},
    };
    return sk_command_dispatch(argc, argv, PROG, commands, usage);
}
