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
 * The signer files are watched (device, inode, size, mtime, at most every
 * --signer-check seconds): a renewed pair that loads, matches and is an
 * OCSP signer of this CA replaces the old one; anything else (a bad or
 * half-renewed pair) is logged and the old pair stays.  A signer whose
 * certificate has expired (or is not yet valid) or whose serial the status
 * source reports revoked signs nothing: requests get tryLater.  SIGHUP
 * loads the signer files again at once (also with --ca, whose files are
 * not watched), with the same rules.
 *
 * Exit status: 0 success (and after SIGTERM/SIGINT), 2 usage or
 * configuration error, 1 any other failure.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "command.h"
#include "ca_client.h"
#include "ca_dir.h"
#include "ca_store.h"
#include "config.h"
#include "fileio.h"
#include "http_listen.h"
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
    bool want_der;
    uint8_t *der; /* the last lookup's certificate (lookups are serialised) */
};

static int lookup(void *ctx, sk_cert_status *status, const sk_serial *serial)
{
    struct source *s = ctx;
    free(s->der); /* public data */
    s->der = NULL;
    size_t der_len = 0;
    int rc;
    if (s->store != NULL && s->want_der)
        rc = ca_store_status_der(s->store, status, &s->der, &der_len, serial);
    else if (s->store != NULL)
        rc = ca_store_status(s->store, status, serial);
    else
        rc = sk_ca_client_status(s->client, status, serial);
    if (rc != SK_OK)
        sk_log_error("status lookup failed: %s", sk_svc_strerror(rc));
    if (rc == SK_OK && s->der != NULL) {
        status->cert = s->der;
        status->cert_len = der_len;
    }
    return rc == SK_OK ? 0 : -1;
}

/* ------------------------------------------------------------ the signer */

/* What identifies a file's version without reading it. */
typedef struct file_id {
    bool ok;
    dev_t dev;
    ino_t ino;
    off_t size;
    int64_t mtime_s;
    long mtime_ns;
} file_id;

static file_id file_id_of(const char *path)
{
    file_id f;
    memset(&f, 0, sizeof f);
    struct stat st;
    if (stat(path, &st) == 0) {
        f.ok = true;
        f.dev = st.st_dev;
        f.ino = st.st_ino;
        f.size = st.st_size;
        f.mtime_s = (int64_t)st.st_mtim.tv_sec;
        f.mtime_ns = st.st_mtim.tv_nsec;
    }
    return f;
}

static bool file_id_eq(const file_id *a, const file_id *b)
{
    return a->ok == b->ok && a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtime_s == b->mtime_s && a->mtime_ns == b->mtime_ns;
}

typedef enum signer_problem {
    SIGNER_OK = 0,
    SIGNER_EXPIRED,
    SIGNER_NOT_YET_VALID,
    SIGNER_REVOKED,
    SIGNER_STATUS_FAILED
} signer_problem;

typedef struct signer_state {
    pthread_mutex_t mu; /* for /health; requests are serialised by ocsp_http */
    const char *cert_path, *key_path;
    const uint8_t *ca_cert;
    size_t ca_len;
    unsigned validity, backdate, check_secs;
    bool cert_hash, watch;
    struct source *src;
    /* the pair in use */
    sk_ocsp_responder *responder;
    sk_ca_key *key;
    sk_serial serial;
    int64_t not_before, not_after;
    file_id cert_id, key_id;       /* of the pair in use */
    file_id bad_cert_id, bad_key_id; /* of a pair refused, not retried until it changes */
    int64_t last_check;
    signer_problem problem;
} signer_state;

/* Loads cert_path + key_path into a new responder.  Returns SK_OK or an
 * error with a sentence in err; nothing in *st changes. */
static int signer_load(const signer_state *st, sk_ocsp_responder **resp, sk_ca_key **key,
                       sk_serial *serial, int64_t *nb, int64_t *na, char *err, size_t err_len)
{
    uint8_t *cert = NULL;
    size_t cert_len = 0;
    sk_cert *parsed = NULL;
    *resp = NULL;
    *key = NULL;
    int rc = sk_file_read(&cert, &cert_len, st->cert_path, CERT_FILE_MAX, 0);
    if (rc != SK_OK) {
        snprintf(err, err_len, "%s: %s", st->cert_path, sk_svc_strerror(rc));
        goto out;
    }
    rc = ca_load_key(key, st->key_path, err, err_len);
    if (rc != SK_OK)
        goto out;
    rc = sk_ocsp_responder_new(resp, st->ca_cert, st->ca_len, cert, cert_len, *key,
                               st->validity);
    if (rc != SK_OK) {
        snprintf(err, err_len,
                 "%s: the OCSP signer certificate is not issued by this CA for the key in %s "
                 "with id-kp-OCSPSigning (%s)",
                 st->cert_path, st->key_path, sk_strerror(rc));
        goto out;
    }
    if ((rc = sk_ocsp_responder_set_backdate(*resp, st->backdate)) != SK_OK ||
        (rc = sk_ocsp_responder_set_cert_hash(*resp, st->cert_hash)) != SK_OK ||
        (rc = sk_cert_parse(&parsed, cert, cert_len)) != SK_OK ||
        (rc = sk_cert_serial(parsed, serial)) != SK_OK ||
        (rc = sk_cert_validity(parsed, nb, na)) != SK_OK) {
        snprintf(err, err_len, "%s: %s", st->cert_path, sk_strerror(rc));
        goto out;
    }
out:
    sk_cert_free(parsed);
    free(cert); /* public data */
    if (rc != SK_OK) {
        sk_ocsp_responder_free(*resp);
        sk_ca_key_free(*key);
        *resp = NULL;
        *key = NULL;
    }
    return rc;
}

/* Picks up renewed signer files (a changed file id), keeping the old pair
 * when the new one does not load.  forced (SIGHUP): now, whatever the
 * interval, --ca or --ca-dir, and even when the files look unchanged or
 * were refused before. */
static void signer_reload(signer_state *st, int64_t now, bool forced)
{
    if (!forced && (!st->watch || (st->last_check != 0 &&
                                   now - st->last_check < (int64_t)st->check_secs &&
                                   now >= st->last_check)))
        return;
    st->last_check = now;
    file_id c = file_id_of(st->cert_path), k = file_id_of(st->key_path);
    if (!forced && file_id_eq(&c, &st->cert_id) && file_id_eq(&k, &st->key_id))
        return;
    if (!forced && file_id_eq(&c, &st->bad_cert_id) && file_id_eq(&k, &st->bad_key_id))
        return; /* already refused: wait for the next change */
    sk_ocsp_responder *r = NULL;
    sk_ca_key *key = NULL;
    sk_serial serial;
    int64_t nb = 0, na = 0;
    char err[512] = "";
    if (signer_load(st, &r, &key, &serial, &nb, &na, err, sizeof err) != SK_OK) {
        sk_log_error("warning: the OCSP signer files %s but cannot be used; still "
                     "signing with the previous signer: %s",
                     forced ? "were reloaded (SIGHUP)" : "changed", err);
        st->bad_cert_id = c;
        st->bad_key_id = k;
        return;
    }
    char hex[2 * SK_SERIAL_MAX_LEN + 1] = "?";
    if (sk_serial_to_hex(hex, sizeof hex, &serial) != SK_OK)
        hex[0] = '\0';
    pthread_mutex_lock(&st->mu);
    sk_ocsp_responder_free(st->responder);
    sk_ca_key_free(st->key);
    st->responder = r;
    st->key = key;
    st->serial = serial;
    st->not_before = nb;
    st->not_after = na;
    st->cert_id = c;
    st->key_id = k;
    memset(&st->bad_cert_id, 0, sizeof st->bad_cert_id);
    memset(&st->bad_key_id, 0, sizeof st->bad_key_id);
    pthread_mutex_unlock(&st->mu);
    if (forced)
        sk_log_notice("SIGHUP: loaded the OCSP signer %s (serial %s)", st->cert_path, hex);
    else
        sk_log_notice("loaded the renewed OCSP signer %s (serial %s)", st->cert_path, hex);
}

static const char *problem_text(signer_problem p)
{
    switch (p) {
    case SIGNER_EXPIRED: return "its certificate has expired";
    case SIGNER_NOT_YET_VALID: return "its certificate is not valid yet";
    case SIGNER_REVOKED: return "it is revoked in the CA database";
    case SIGNER_STATUS_FAILED: return "its own status cannot be read";
    default: return "ok";
    }
}

/* Whether the signer in use may sign now: not expired, not revoked (its
 * status is read like any other); logs a change. */
static signer_problem signer_assess(signer_state *st, int64_t now)
{
    signer_problem p = SIGNER_OK;
    if (now > st->not_after) {
        p = SIGNER_EXPIRED;
    } else if (now < st->not_before) {
        p = SIGNER_NOT_YET_VALID;
    } else {
        sk_cert_status cs;
        int rc = st->src->store != NULL ? ca_store_status(st->src->store, &cs, &st->serial)
                                        : sk_ca_client_status(st->src->client, &cs, &st->serial);
        if (rc != SK_OK)
            p = SIGNER_STATUS_FAILED;
        else if (cs.state == SK_CERT_REVOKED)
            p = SIGNER_REVOKED;
    }
    if (p != st->problem) {
        char hex[2 * SK_SERIAL_MAX_LEN + 1] = "?";
        if (sk_serial_to_hex(hex, sizeof hex, &st->serial) != SK_OK)
            hex[0] = '\0';
        if (p != SIGNER_OK)
            sk_log_error("refusing to sign with the OCSP signer (serial %s): %s; answering "
                         "tryLater until a renewed signer is installed",
                         hex, problem_text(p));
        else
            sk_log_notice("the OCSP signer (serial %s) is usable again", hex);
        pthread_mutex_lock(&st->mu);
        st->problem = p;
        pthread_mutex_unlock(&st->mu);
    }
    return p;
}

/* ocsp_http_config.responder: the signer in use unless it is expired or
 * revoked. */
static const sk_ocsp_responder *current_responder(void *ctx, int64_t now)
{
    signer_state *st = ctx;
    signer_reload(st, now, false);
    return signer_assess(st, now) == SIGNER_OK ? st->responder : NULL;
}

/* SIGHUP, run under the signing lock (ocsp_http_with_signing_lock): load
 * the signer files again now, and check the pair then in use. */
static void signer_hup(void *ctx)
{
    signer_state *st = ctx;
    int64_t now = (int64_t)time(NULL);
    sk_log_notice("SIGHUP: reloading the OCSP signer files %s and %s", st->cert_path,
                  st->key_path);
    signer_reload(st, now, true);
    (void)signer_assess(st, now);
}

/* /health (metrics.h): with --ca-dir the database answers a trivial read;
 * with --ca the responder itself is the check (the CA is asked only for
 * requests). */
static int source_health(void *ctx, char *why, size_t why_len)
{
    signer_state *sg = ctx;
    struct source *s = sg->src;
    pthread_mutex_lock(&sg->mu);
    signer_problem p = sg->problem;
    pthread_mutex_unlock(&sg->mu);
    if (p != SIGNER_OK) {
        snprintf(why, why_len, "OCSP signer unusable: %s", problem_text(p));
        return SK_ERR_CERT;
    }
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
    bool metrics_remote = false, cert_hash = false;
    sk_metrics_http *metrics = NULL;
    unsigned validity = 3600, max_age = 300, max_request = 16384, backdate = 900,
             signer_check = 5;
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
         .max = 7 * 86400, .arg = "SECONDS", .help = "nextUpdate - producedAt (default 3600)"},
        {.name = "max-age", .type = SK_OPT_UINT, .value = &max_age, .min = 0,
         .max = 7 * 86400, .arg = "SECONDS",
         .help = "Cache-Control max-age of GET answers (default 300, at most --validity)"},
        {.name = "max-request", .type = SK_OPT_UINT, .value = &max_request, .min = 256,
         .max = 1024 * 1024, .arg = "BYTES", .help = "largest request accepted (default 16384)"},
        {.name = "ready-file", .type = SK_OPT_STRING, .value = &ready, .arg = "FILE",
         .help = "write the bound URL here once serving"},
        {.name = "this-update-backdate", .type = SK_OPT_UINT, .value = &backdate, .min = 0,
         .max = 86400, .arg = "SECONDS",
         .help = "thisUpdate = now - SECONDS for clients with slow clocks (default 900)"},
        {.name = "cert-hash", .type = SK_OPT_BOOL, .value = &cert_hash,
         .help = "add the certHash extension (1.3.36.8.3.13) to good and revoked answers "
                 "(--ca-dir only)"},
        {.name = "signer-check", .type = SK_OPT_UINT, .value = &signer_check, .min = 0,
         .max = 3600, .arg = "SECONDS",
         .help = "look for renewed signer files at most this often (default 5; 0: always)"},
        SK_METRICS_OPTS(&metrics_listen, &metrics_remote),
        SK_LOG_OPTS(&log_format, &log_target),
        {0},
    };
    char err[768] = "";
    int ex = 2;
    uint8_t *ca_cert = NULL;
    size_t ca_len = 0;
    char *path = NULL, *cert_path = NULL, *key_path = NULL;
    struct source src = {0};
    signer_state signer;
    memset(&signer, 0, sizeof signer);
    pthread_mutex_init(&signer.mu, NULL);
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
    if (ca_url != NULL && cert_hash) {
        snprintf(err, sizeof err, "--cert-hash needs --ca-dir: the CA's status operation "
                                  "(--ca URL) does not return certificates to hash");
        goto config_error;
    }
    if (!sk_parse_hostport(host, sizeof host, &port, http)) {
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

    /* The signer's files. */
    cert_path = ocsp_cert ? strdup(ocsp_cert) : sk_path_join(ca_dir, CA_FILE_OCSP_CERT);
    key_path = ocsp_key ? strdup(ocsp_key) : sk_path_join(ca_dir, CA_FILE_OCSP_KEY);
    if (cert_path == NULL || key_path == NULL) {
        fprintf(stderr, PROG ": out of memory\n");
        ex = 1;
        goto out;
    }

    /* The CA certificate and the status source. */
    if (ca_dir != NULL) {
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
    src.want_der = cert_hash;
    signer.cert_path = cert_path;
    signer.key_path = key_path;
    signer.ca_cert = ca_cert;
    signer.ca_len = ca_len;
    signer.validity = validity;
    signer.backdate = backdate;
    signer.check_secs = signer_check;
    signer.cert_hash = cert_hash;
    signer.watch = ca_dir != NULL;
    signer.src = &src;
    signer.cert_id = file_id_of(cert_path);
    signer.key_id = file_id_of(key_path);
    signer.last_check = (int64_t)time(NULL);
    if (signer_load(&signer, &signer.responder, &signer.key, &signer.serial, &signer.not_before,
                    &signer.not_after, err, sizeof err) != SK_OK)
        goto config_error;
    /* An expired or revoked signer is not a reason to stop: the responder
     * answers tryLater (and logs why) until a renewed signer appears. */
    (void)current_responder(&signer, (int64_t)time(NULL));
    if (sk_signals_install() != SK_OK || sk_signals_install_reload() != SK_OK) {
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
        .responder = current_responder,
        .responder_ctx = &signer,
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
                                       .health = source_health, .health_ctx = &signer};
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
    int sig;
    while ((sig = sk_signals_wait()) == SIGHUP)
        ocsp_http_with_signing_lock(srv, signer_hup, &signer);
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
    sk_ocsp_responder_free(signer.responder);
    sk_ca_key_free(signer.key);
    pthread_mutex_destroy(&signer.mu);
    ca_store_close(src.store);
    sk_ca_client_close(src.client);
    free(src.der); /* public data */
    free(path);
    free(cert_path);
    free(key_path);
    free(ca_cert); /* public data */
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
