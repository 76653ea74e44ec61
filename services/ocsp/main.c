/* SPDX-License-Identifier: Apache-2.0 */
/*
 * splitkey-ocsp - the OCSP responder (doc/pki.md, "The OCSP responder").
 *
 *   splitkey-ocsp run --ca-dir DIR --http 127.0.0.1:PORT
 *   splitkey-ocsp run --ca URL --ocsp-cert FILE --ocsp-key FILE --http HOST:PORT
 *
 * With --ca-dir the responder reads DIR/ca.pem, DIR/ocsp.pem, DIR/ocsp.key
 * and opens DIR/ca.db read-only; with --ca it asks a running splitkey-ca for
 * the CA certificate and for every status.
 *
 * Exit status: 0 success (and after SIGTERM/SIGINT), 2 usage or
 * configuration error, 1 any other failure.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "ca_client.h"
#include "ca_dir.h"
#include "ca_store.h"
#include "config.h"
#include "fileio.h"
#include "log.h"
#include "metrics.h"
#include "ocsp_http.h"
#include "signals.h"
#include "splitkey/splitkey.h"
#include "svc_error.h"

#define PROG "splitkey-ocsp"
#define CERT_FILE_MAX (64u * 1024u)

static void usage(FILE *out)
{
    fprintf(out,
            "usage: " PROG " run (--ca-dir DIR | --ca URL --ocsp-cert FILE --ocsp-key FILE)\n"
            "                     --http HOST:PORT [OPTIONS]\n"
            "\n"
            "The OCSP responder of splitkey (RFC 6960, RFC 5019): answers POST and GET\n"
            "requests for the certificates of one CA, signed by its delegated OCSP\n"
            "signer.  Run '" PROG " run --help' for the options.\n"
            "Exit status: 0 success, 2 usage or configuration error, 1 other failure.\n");
}

struct source {
    ca_store *store;
    sk_ca_client *client;
};

static int lookup(void *ctx, sk_cert_status *status, const sk_serial *serial)
{
    struct source *s = ctx;
    int rc = s->store != NULL ? ca_store_status(s->store, status, serial)
                              : sk_ca_client_status(s->client, status, serial);
    if (rc != SK_OK)
        sk_log_error("status lookup failed: %s", sk_svc_strerror(rc));
    return rc == SK_OK ? 0 : -1;
}

/* /health (metrics.h): with --ca-dir the database answers a trivial read;
 * with --ca the responder itself is the check (the CA is asked only for
 * requests). */
static int source_health(void *ctx, char *why, size_t why_len)
{
    struct source *s = ctx;
    if (s->store == NULL)
        return SK_OK;
    sk_serial one;
    sk_cert_status st;
    int rc = sk_serial_from_hex(&one, "01");
    if (rc == SK_OK)
        rc = ca_store_status(s->store, &st, &one);
    if (rc != SK_OK)
        snprintf(why, why_len, "CA database: cannot read: %s", sk_svc_strerror(rc));
    return rc;
}

/* Splits "HOST:PORT"; returns false when it is not that. */
static bool parse_hostport(char *host, size_t cap, unsigned *port, const char *text)
{
    const char *colon = strrchr(text, ':');
    if (colon == NULL || colon == text || (size_t)(colon - text) >= cap || colon[1] == '\0')
        return false;
    char *end;
    unsigned long p = strtoul(colon + 1, &end, 10);
    if (*end != '\0' || p > 65535)
        return false;
    memcpy(host, text, (size_t)(colon - text));
    host[colon - text] = '\0';
    if (strpbrk(host, "/ []") != NULL)
        return false;
    *port = (unsigned)p;
    return true;
}

static int read_file(uint8_t **out, size_t *len, const char *path, char *err, size_t err_len)
{
    int rc = sk_file_read(out, len, path, CERT_FILE_MAX, 0);
    if (rc != SK_OK)
        snprintf(err, err_len, "%s: %s", path, sk_svc_strerror(rc));
    return rc;
}

static int cmd_run(int argc, char **argv)
{
    char *ca_dir = NULL, *ca_url = NULL, *http = NULL, *ocsp_cert = NULL, *ocsp_key = NULL,
         *ready = NULL, *config = NULL;
    char *metrics_listen = NULL, *log_format = NULL, *log_target = NULL;
    bool metrics_remote = false;
    sk_metrics_http *metrics = NULL;
    unsigned validity = 3600, max_age = 300, max_request = 16384;
    sk_opt opts[] = {
        {.name = "config", .type = SK_OPT_FILE, .value = &config, .flags = SK_OPT_FLAG_ONLY,
         .arg = "FILE", .help = "read options from FILE as \"name = value\" lines; flags win"},
        {.name = "ca-dir", .type = SK_OPT_DIR, .value = &ca_dir, .arg = "DIR",
         .help = "the CA directory (its ca.db is opened read-only)"},
        {.name = "ca", .type = SK_OPT_URL, .value = &ca_url, .arg = "URL",
         .help = "a running splitkey-ca to ask for status instead"},
        {.name = "http", .type = SK_OPT_STRING, .value = &http, .flags = SK_OPT_REQUIRED,
         .arg = "HOST:PORT", .help = "where to serve HTTP, e.g. 127.0.0.1:8080 (port 0: any)"},
        {.name = "ocsp-cert", .type = SK_OPT_FILE, .value = &ocsp_cert, .arg = "FILE",
         .help = "OCSP signer certificate (default DIR/ocsp.pem)"},
        {.name = "ocsp-key", .type = SK_OPT_FILE, .value = &ocsp_key, .arg = "FILE",
         .help = "OCSP signer key, mode 0600 (default DIR/ocsp.key)"},
        {.name = "validity", .type = SK_OPT_UINT, .value = &validity, .min = 60,
         .max = 7 * 86400, .arg = "SECONDS", .help = "nextUpdate - thisUpdate (default 3600)"},
        {.name = "max-age", .type = SK_OPT_UINT, .value = &max_age, .min = 0,
         .max = 7 * 86400, .arg = "SECONDS",
         .help = "Cache-Control max-age of GET answers (default 300, at most --validity)"},
        {.name = "max-request", .type = SK_OPT_UINT, .value = &max_request, .min = 256,
         .max = 1024 * 1024, .arg = "BYTES", .help = "largest request accepted (default 16384)"},
        {.name = "ready-file", .type = SK_OPT_STRING, .value = &ready, .arg = "FILE",
         .help = "write the bound URL here once serving"},
        SK_METRICS_OPTS(&metrics_listen, &metrics_remote),
        SK_LOG_OPTS(&log_format, &log_target),
        {0},
    };
    char err[768] = "";
    int ex = 2;
    uint8_t *ca_cert = NULL, *signer_cert = NULL;
    size_t ca_len = 0, signer_len = 0;
    char *path = NULL;
    sk_ca_key *key = NULL;
    sk_ocsp_responder *responder = NULL;
    struct source src = {0};
    ocsp_http *srv = NULL;
    char host[256];
    unsigned port = 0;

    int rc = sk_config_parse_args(opts, NULL, argc, argv, 2, err, sizeof err);
    if (rc == SK_SVC_HELP) {
        printf("usage: " PROG " run (--ca-dir DIR | --ca URL --ocsp-cert FILE --ocsp-key FILE)"
               " --http HOST:PORT [OPTIONS]\n\n");
        sk_config_usage(stdout, opts);
        sk_config_free(opts);
        return 0;
    }
    if (rc == SK_OK && config != NULL)
        rc = sk_config_parse_file(opts, config, err, sizeof err);
    if (rc == SK_OK)
        rc = sk_config_validate(opts, err, sizeof err);
    if (rc != SK_OK)
        goto config_error;
    if ((ca_dir == NULL) == (ca_url == NULL)) {
        snprintf(err, sizeof err, "give exactly one of --ca-dir DIR and --ca URL");
        goto config_error;
    }
    if (ca_url != NULL && (ocsp_cert == NULL || ocsp_key == NULL)) {
        snprintf(err, sizeof err, "--ca URL needs --ocsp-cert FILE and --ocsp-key FILE");
        goto config_error;
    }
    if (!parse_hostport(host, sizeof host, &port, http)) {
        snprintf(err, sizeof err, "--http %s: expected HOST:PORT, e.g. 127.0.0.1:8080", http);
        goto config_error;
    }
    if (sk_log_configure(log_format, log_target, err, sizeof err) != SK_OK)
        goto config_error;
    if (metrics_listen != NULL &&
        sk_metrics_http_check(metrics_listen, metrics_remote, err, sizeof err) != SK_OK)
        goto config_error;
    sk_log_init(PROG);
    sk_metrics_init(PROG, SK_METRICS_OCSP);
    if (sk_init() != SK_OK) {
        fprintf(stderr, PROG ": cannot initialise libsplitkey\n");
        ex = 1;
        goto out;
    }

    /* The signer: certificate and key. */
    path = ocsp_cert ? strdup(ocsp_cert) : sk_path_join(ca_dir, CA_FILE_OCSP_CERT);
    if (path == NULL || read_file(&signer_cert, &signer_len, path, err, sizeof err) != SK_OK)
        goto config_error;
    free(path);
    path = ocsp_key ? strdup(ocsp_key) : sk_path_join(ca_dir, CA_FILE_OCSP_KEY);
    if (path == NULL || ca_load_key(&key, path, err, sizeof err) != SK_OK)
        goto config_error;

    /* The CA certificate and the status source. */
    if (ca_dir != NULL) {
        free(path);
        path = sk_path_join(ca_dir, CA_FILE_CERT);
        if (path == NULL || read_file(&ca_cert, &ca_len, path, err, sizeof err) != SK_OK)
            goto config_error;
        free(path);
        path = sk_path_join(ca_dir, CA_FILE_DB);
        rc = path ? ca_store_open(&src.store, path, NULL, CA_STORE_READONLY) : SK_ERR_NOMEM;
        if (rc != SK_OK) {
            snprintf(err, sizeof err, "%s: cannot open the CA database read-only: %s",
                     path ? path : ca_dir, sk_svc_strerror(rc));
            goto config_error;
        }
    } else {
        rc = sk_ca_client_open(&src.client, ca_url, NULL, NULL, 0, 0);
        if (rc == SK_OK)
            rc = sk_ca_client_ca_cert(src.client, &ca_cert, &ca_len);
        if (rc != SK_OK) {
            fprintf(stderr, PROG ": cannot get the CA certificate from %s: %s\n", ca_url,
                    sk_svc_strerror(rc));
            ex = rc == SK_SVC_ERR_CONFIG ? 2 : 1;
            goto out;
        }
    }
    rc = sk_ocsp_responder_new(&responder, ca_cert, ca_len, signer_cert, signer_len, key,
                               validity);
    if (rc != SK_OK) {
        snprintf(err, sizeof err, "the OCSP signer certificate is not issued by this CA for "
                                  "this key with id-kp-OCSPSigning (%s)", sk_strerror(rc));
        goto config_error;
    }
    if (sk_signals_install() != SK_OK) {
        fprintf(stderr, PROG ": cannot install signal handlers\n");
        ex = 1;
        goto out;
    }
    ocsp_http_config hc = {
        .host = host,
        .port = port,
        .max_request = max_request,
        .validity_secs = validity,
        .max_age_secs = max_age,
        .responder = responder,
        .lookup = lookup,
        .lookup_ctx = &src,
    };
    rc = ocsp_http_start(&srv, &hc);
    if (rc != SK_OK) {
        fprintf(stderr, PROG ": cannot serve HTTP on %s: %s\n", http, sk_svc_strerror(rc));
        ex = rc == SK_SVC_ERR_CONFIG ? 2 : 1;
        goto out;
    }
    char url[300];
    snprintf(url, sizeof url, "http://%s:%u/", host, ocsp_http_port(srv));
    sk_log_notice("serving OCSP on %s for the CA %s; status from %s", url,
                  ca_dir ? ca_dir : ca_url, ca_dir ? "its database (read-only)" : "the CA");
    if (metrics_listen != NULL) {
        sk_metrics_http_config mcfg = {.url = metrics_listen, .allow_remote = metrics_remote,
                                       .health = source_health, .health_ctx = &src};
        rc = sk_metrics_http_start(&metrics, &mcfg, err, sizeof err);
        if (rc == SK_SVC_ERR_CONFIG)
            goto config_error;
        if (rc != SK_OK) {
            fprintf(stderr, PROG ": %s\n", err);
            ex = 1;
            goto out;
        }
        sk_log_notice("metrics and health for the operator on %s (GET /metrics, /health)",
                      sk_metrics_http_url(metrics));
    }
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
    sk_metrics_set_draining(); /* /health: 503 from now on */
    sk_log_notice("signal %d: stopping", sig);
    ex = 0;
    goto out;

config_error:
    fprintf(stderr, PROG ": %s\n", err);
    ex = 2;
out:
    sk_metrics_set_draining();
    ocsp_http_stop(srv);
    sk_metrics_http_stop(metrics); /* before the database its health check reads */
    if (ex == 0)
        sk_log_notice("stopped");
    sk_ocsp_responder_free(responder);
    sk_ca_key_free(key);
    ca_store_close(src.store);
    sk_ca_client_close(src.client);
    free(path);
    free(ca_cert); /* public data */
    free(signer_cert);
    sk_config_free(opts);
    return ex;
}

int main(int argc, char **argv)
{
    static const sk_command commands[] = {
        {"run", cmd_run},
        {NULL, NULL},
    };
    return sk_command_dispatch(argc, argv, PROG, commands, usage);
}
