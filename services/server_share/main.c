/* SPDX-License-Identifier: Apache-2.0 */
/*
 * splitkey-server - the share server (doc/operations.md).
 *
 *   splitkey-server init --dir DIR
 *   splitkey-server run --dir DIR --listen URL [--db sqlite:PATH]
 *       [--ca URL --ca-cert FILE] [--open-enrolment] [--workers N] ...
 *   splitkey-server token --dir DIR --subject "..." --purpose auth|sign|seal
 *       --operator-key FILE
 *   splitkey-server token approve --dir DIR --operator-key FILE --token-file FILE
 *   splitkey-server operator keygen|add|list|remove ...
 *   splitkey-server check --dir DIR [--db sqlite:PATH]
 *   splitkey-server backup --dir DIR --to FILE [--db sqlite:PATH]
 *   splitkey-server restore --dir DIR --from BACKUP [--journal FILE] [--db ...]
 *   splitkey-server migrate --from sqlite:PATH --to postgresql://...
 *
 * --db takes sqlite:PATH or, with the PostgreSQL backend built in, a
 * postgresql:// URI (never shown with its password: uri_shown).
 *
 * Exit status: 0 success (and after SIGTERM/SIGINT), 2 usage or
 * configuration error, 1 any other failure.
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <signal.h>

#include <sodium.h>

#include "backup.h"
#include "command.h"
#include "config.h"
#include "connguard.h"
#include "fileio.h"
#include "handler.h"
#include "http_listen.h"
#include "hwm.h"
#include "identity.h"
#include "log.h"
#include "longpoll.h"
#include "metrics.h"
#include "operators.h"
#include "pool.h"
#include "ra.h"
#include "rep_server.h"
#include "rp_https.h"
#include "rp_registry.h"
#include "rp_v2.h"
#include "seal.h"
#include "server_cmd.h"
#include "signals.h"
#include "splitkey/splitkey.h"
#include "store.h"
#include "storebind.h"
#include "svc_error.h"
#include "svc_hex.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: " PROG " COMMAND [OPTIONS]\n"
            "\n"
            "The share server of splitkey: holds the server half of every split key.\n"
            "\n"
            "commands:\n"
            "  init --dir DIR        create the server identity (X25519 + Ed25519 key\n"
            "                        pairs), the master key, DIR/server.pub and\n"
            "                        DIR/server.conf; refuses to overwrite an identity\n"
            "  run --dir DIR ...     serve requests (see " PROG " run --help)\n"
            "  token --dir DIR ...   mint a one-time registration token (operator A)\n"
            "  token approve ...     approve it as a second operator (operator B)\n"
            "  operator keygen|add|list|remove\n"
            "                        the registration operators and their keys\n"
            "  rp add|list|remove|pin\n"
            "                        the relying parties of the HTTPS listener and\n"
            "                        the fingerprint they pin\n"
            "  check --dir DIR       check the store without writing to it\n"
            "  backup --dir DIR --to FILE\n"
            "                        an online copy of the store, while servers run\n"
            "  restore --dir DIR --from BACKUP [--journal FILE]\n"
            "                        put a backup back (and replay the commit journal)\n"
            "  migrate --from sqlite:PATH --to postgresql://...\n"
            "                        move a stopped server's store into PostgreSQL\n"
            "\n"
            "Run '" PROG " COMMAND --help' for the options of a command.\n"
            "Exit status: 0 success, 2 usage or configuration error, 1 other failure.\n");
}

static int fail(int rc, const char *msg)
{
    fprintf(stderr, PROG ": %s\n", msg);
    return sk_svc_exit_code(rc);
}

/* ------------------------------------------------------------------ init */

/* Makes DIR/rp-tls.key and DIR/rp-tls.crt (a P-256 key and a self-signed
 * certificate for ten years) unless the key exists already. */
static int rp_tls_make(const char *dir, char *err, size_t err_len)
{
    char *crt = sk_path_join(dir, RP_TLS_CERT), *key = sk_path_join(dir, RP_TLS_KEY);
    int rc = crt != NULL && key != NULL ? SK_OK : SK_ERR_NOMEM;
    if (rc == SK_OK && !sk_path_exists(key)) {
        rc = sk_https_make_cert(crt, key, "splitkey-server relying-party API", 3650);
        if (rc != SK_OK)
            snprintf(err, err_len, "cannot make %s and %s: %s", key, crt, sk_svc_strerror(rc));
    }
    free(crt);
    free(key);
    return rc;
}

static int cmd_init(int argc, char **argv)
{
    char *dir = NULL;
    sk_opt opts[] = {
        {.name = "dir", .type = SK_OPT_STRING, .value = &dir, .flags = SK_OPT_REQUIRED,
         .arg = "DIR", .help = "directory for the identity (created if missing)"},
        {0},
    };
    char err[512] = "";
    int rc = sk_config_parse_args(opts, NULL, argc, argv, 2, err, sizeof err);
    if (rc == SK_SVC_HELP) {
        printf("usage: " PROG " init --dir DIR\n\n");
        sk_config_usage(stdout, opts);
        return 0;
    }
    if (rc == SK_OK)
        rc = sk_config_validate(opts, err, sizeof err);
    if (rc != SK_OK) {
        sk_config_free(opts);
        return fail(SK_SVC_ERR_CONFIG, err);
    }
    if (sk_init() != SK_OK) {
        sk_config_free(opts);
        return fail(SK_ERR_NOT_INITIALISED, "cannot initialise libsplitkey");
    }
    rc = sk_server_identity_create(dir, err, sizeof err);
    if (rc != SK_OK) {
        int code = sk_svc_exit_code(rc);
        sk_config_free(opts);
        fprintf(stderr, PROG ": %s\n", err);
        return code;
    }
    rc = rp_tls_make(dir, err, sizeof err);
    if (rc != SK_OK) {
        sk_config_free(opts);
        fprintf(stderr, PROG ": %s\n", err);
        return sk_svc_exit_code(rc);
    }
    printf("created the server identity in %s\n"
           "  %s/server.pub   public keys: give it to clients and to splitkey-ca add-ra\n"
           "  %s/server.conf  configuration\n"
           "  %s/" RP_TLS_CERT "  the relying-party listener's certificate ('rp pin' prints "
           "its fingerprint)\n",
           dir, dir, dir, dir);
    sk_config_free(opts);
    return 0;
}

/* ------------------------------------------------------------------- run */

struct run_options {
    char *dir, *config, *listen, *db, *ca, *ca_cert, *pool_profiles, *ready_file;
    char *journal; /* the commit journal, or NULL */
    bool open_enrolment, new_store;
    unsigned workers, pool_size, max_request, session_ttl, enrolling_ttl, session_keep;
    unsigned rp_idle_seconds;
    unsigned ca_timeout_ms, ca_retry_every, lock1_seconds, lock2_seconds;
    unsigned ca_revocations_every;
    unsigned max_conns, max_conns_per_peer, idle_seconds; /* 0: rep_server.h defaults */
    char *rp_listen, *rp_tls_cert, *rp_tls_key; /* the relying-party HTTPS listener */
    unsigned rp_workers, rp_person_pending;
};

/* Parses "4K,6K" into profiles. */
static int parse_profiles(sk_pool_config *pc, const char *list, char *err, size_t err_len)
{
    char *copy = strdup(list);
    if (copy == NULL)
        return SK_ERR_NOMEM;
    int rc = SK_OK;
    char *save = NULL;
    pc->nprofiles = 0;
    for (char *tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ')
            tok++;
        sk_profile p;
        if (sk_profile_parse(&p, tok) != SK_OK) {
            snprintf(err, err_len, "pool-profiles: unknown profile \"%s\" (use 4K, 6K, 8K)", tok);
            rc = SK_SVC_ERR_CONFIG;
            break;
        }
        bool dup = false;
        for (size_t i = 0; i < pc->nprofiles; i++)
            dup = dup || pc->profiles[i] == p;
        if (!dup && pc->nprofiles < SK_POOL_MAX_PROFILES)
            pc->profiles[pc->nprofiles++] = p;
    }
    free(copy);
    return rc;
}

/* Turns the db option into a store URI; a relative sqlite path from the
 * config file is relative to DIR. */
static int resolve_db(char **uri, const char *db, bool from_flag, const char *dir, char *err,
                      size_t err_len)
{
    *uri = NULL;
    int supported = sk_store_uri_supported(db);
    if (supported == SK_ERR_UNSUPPORTED) {
        char shown[256];
        sk_store_uri_shown(db, shown, sizeof shown);
        snprintf(err, err_len, "--db %s: the PostgreSQL store is not part of this build", shown);
        return SK_SVC_ERR_CONFIG;
    }
    if (supported == SK_OK && strncmp(db, "sqlite:", 7) != 0) {
        /* a database server's URI: passed on as it is */
        *uri = strdup(db);
        return *uri != NULL ? SK_OK : SK_ERR_NOMEM;
    }
    if (strncmp(db, "sqlite:", 7) != 0 || db[7] == '\0') {
        snprintf(err, err_len, "--db %s: expected sqlite:PATH or postgresql://...", db);
        return SK_SVC_ERR_CONFIG;
    }
    const char *path = db + 7;
    char *full = (path[0] == '/' || from_flag) ? strdup(path) : sk_path_join(dir, path);
    if (full == NULL)
        return SK_ERR_NOMEM;
    /* the database's directory must exist */
    char *slash = strrchr(full, '/');
    if (slash != NULL && slash != full) {
        *slash = '\0';
        bool ok = sk_is_dir(full);
        *slash = '/';
        if (!ok) {
            snprintf(err, err_len, "--db %s: no such directory", db);
            free(full);
            return SK_SVC_ERR_CONFIG;
        }
    }
    size_t n = strlen(full) + 8;
    *uri = malloc(n);
    if (*uri == NULL) {
        free(full);
        return SK_ERR_NOMEM;
    }
    snprintf(*uri, n, "sqlite:%s", full);
    free(full);
    return SK_OK;
}

static void run_usage(const sk_opt *opts)
{
    printf("usage: " PROG " run --dir DIR --listen URL [OPTIONS]\n\n"
           "Serves requests until SIGTERM or SIGINT.  Options may also be set in\n"
           "DIR/server.conf (or --config FILE) as \"name = value\"; flags win.\n\n");
    sk_config_usage(stdout, opts);
}

/* The store URI as messages may show it (no password). */
static const char *uri_shown(const char *uri)
{
    static _Thread_local char shown[512];
    sk_store_uri_shown(uri, shown, sizeof shown);
    return shown;
}

/* Whether a store named by a resolved URI exists: a file store's file; a
 * database server's store is there to be opened. */
static bool store_exists(const char *uri)
{
    return strncmp(uri, "sqlite:", 7) != 0 || sk_path_exists(uri + 7);
}

/* Wakes this server's long polls after another server committed a change
 * to a key or session in the shared database (sk_store_set_change_hook). */
static void store_changed(void *arg) { sk_longpoll_notify(arg); }

/* Workers when --workers is 0: one per CPU, but at least 4, because a
 * relying party's long poll holds a worker while it waits (at most all but
 * one of them: longpoll.h). */
static unsigned default_workers(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 4 ? 4u : n > 64 ? 64u : (unsigned)n;
}

/* /health (metrics.h): the store answers a trivial read (its store id). */
static int store_health(void *ctx, char *why, size_t why_len)
{
    uint8_t id[64];
    size_t len = 0;
    int rc = sk_store_meta_get(ctx, NULL, "store_id", id, sizeof id, &len);
    if (rc != SK_OK)
        snprintf(why, why_len, "store: cannot read: %s", sk_strerror(rc));
    return rc;
}

/* Why an SQLite store may not open, for the message: a file or a directory
 * this user cannot write (SQLite creates PATH-wal and PATH-shm beside the
 * database).  "" when nothing stands out. */
static const char *store_access_hint(const char *uri)
{
    static _Thread_local char hint[96];
    if (strncmp(uri, "sqlite:", 7) != 0)
        return "";
    const char *path = uri + 7;
    char *dir = strdup(path);
    const char *slash = dir != NULL ? strrchr(dir, '/') : NULL;
    hint[0] = '\0';
    if (access(path, F_OK) == 0 && access(path, R_OK | W_OK) != 0)
        snprintf(hint, sizeof hint, " (the database file is not writable by this user)");
    else if (dir != NULL) {
        if (slash != NULL)
            dir[slash - dir > 0 ? slash - dir : 1] = '\0';
        if (access(slash != NULL ? dir : ".", W_OK) != 0)
            snprintf(hint, sizeof hint, " (its directory is not writable by this user: SQLite "
                                        "keeps PATH-wal and PATH-shm there)");
    }
    free(dir);
    return hint;
}

static int cmd_run(int argc, char **argv)
{
    struct run_options o = {.workers = 0, .pool_size = 4, .max_request = 64 * 1024,
                            .session_ttl = 120, .enrolling_ttl = 600, .session_keep = 3600,
                            .rp_idle_seconds = SK_SHARE_RP_IDLE_DEFAULT,
                            .ca_timeout_ms = 5000, .ca_retry_every = 30,
                            .ca_revocations_every = 60,
                            .lock1_seconds = 3 * 3600, .lock2_seconds = 24 * 3600};
    char default_profiles[] = "6K";
    o.pool_profiles = default_profiles;
    char *metrics_listen = NULL, *log_format = NULL, *log_target = NULL;
    bool metrics_remote = false;
    char *operators_path = NULL;
    sk_metrics_http *metrics = NULL;
    sk_opt opts[] = {
        {.name = "dir", .type = SK_OPT_DIR, .value = &o.dir,
         .flags = SK_OPT_FLAG_ONLY | SK_OPT_REQUIRED, .arg = "DIR",
         .help = "the directory made by init"},
        {.name = "config", .type = SK_OPT_FILE, .value = &o.config, .flags = SK_OPT_FLAG_ONLY,
         .arg = "FILE", .help = "config file (default DIR/server.conf if present)"},
        {.name = "listen", .type = SK_OPT_URL, .value = &o.listen, .flags = SK_OPT_REQUIRED,
         .arg = "URL", .help = "where to listen, e.g. tcp://127.0.0.1:7300"},
        {.name = "db", .type = SK_OPT_STRING, .value = &o.db, .arg = "URI",
         .help = "store: sqlite:PATH or a postgresql:// URI (default sqlite:DIR/server.db)"},
        {.name = "journal", .type = SK_OPT_STRING, .value = &o.journal, .arg = "FILE",
         .help = "append every commit to this journal first (best on another disk; "
                 "a relative path in the config file is relative to DIR)"},
        {.name = "ca", .type = SK_OPT_URL, .value = &o.ca, .arg = "URL",
         .help = "the CA issuer (splitkey-ca run) this server is an RA of; "
                 "without it keys activate without a certificate"},
        {.name = "ca-cert", .type = SK_OPT_FILE, .value = &o.ca_cert, .arg = "FILE",
         .help = "the CA certificate (PEM or DER), required with --ca: every CA reply "
                 "must be signed with its key and issued certificates must chain to it"},
        {.name = "ca-timeout", .type = SK_OPT_UINT, .value = &o.ca_timeout_ms, .min = 100,
         .max = 120000, .arg = "MS", .help = "wait at most this long for the CA (default 5000)"},
        {.name = "ca-retry-every", .type = SK_OPT_UINT, .value = &o.ca_retry_every, .min = 1,
         .max = 86400, .arg = "SECONDS",
         .help = "retry revocations the CA has not confirmed this often (default 30)"},
        {.name = "ca-revocations-every", .type = SK_OPT_UINT, .value = &o.ca_revocations_every,
         .min = 1, .max = 86400, .arg = "SECONDS",
         .help = "ask the CA this often for revocations made there (splitkey-ca revoke) "
                 "and destroy those keys (default 60)"},
        {.name = "lock1-seconds", .type = SK_OPT_UINT, .value = &o.lock1_seconds, .min = 1,
         .max = 30u * 86400u, .arg = "SECONDS",
         .help = "time lock after 3 wrong PINs (default 10800)"},
        {.name = "lock2-seconds", .type = SK_OPT_UINT, .value = &o.lock2_seconds, .min = 1,
         .max = 30u * 86400u, .arg = "SECONDS",
         .help = "time lock after 6 wrong PINs (default 86400)"},
        {.name = "new-store", .type = SK_OPT_BOOL, .value = &o.new_store,
         .flags = SK_OPT_FLAG_ONLY,
         .help = "start afresh with an empty store although DIR/store.id names the "
                 "store used before (after a lost database that cannot be restored)"},
        {.name = "open-enrolment", .type = SK_OPT_BOOL, .value = &o.open_enrolment,
         .help = "accept enrolments without a registration token (development)"},
        {.name = "workers", .type = SK_OPT_UINT, .value = &o.workers, .min = 0, .max = 256,
         .arg = "N", .help = "requests served at once (0: one per CPU, at least 4; "
                 "long polls hold at most N-1)"},
        {.name = "pool-size", .type = SK_OPT_UINT, .value = &o.pool_size, .min = 0, .max = 1000,
         .arg = "N", .help = "pre-generated server keys kept per profile (0: none)"},
        {.name = "pool-profiles", .type = SK_OPT_STRING, .value = &o.pool_profiles,
         .arg = "LIST", .help = "profiles to keep keys for, e.g. 4K,6K (default 6K)"},
        {.name = "max-request", .type = SK_OPT_UINT, .value = &o.max_request, .min = 256,
         .max = 16u * 1024u * 1024u, .arg = "BYTES",
         .help = "largest request served (default 65536)"},
        {.name = "max-conns", .type = SK_OPT_UINT, .value = &o.max_conns, .min = 1,
         .max = SK_CONNGUARD_MAX_LIMIT, .arg = "N",
         .help = "open connections at most; at the cap a new one closes the one idle "
                 "the longest (default: ulimit -n less 64, at most 512)"},
        {.name = "max-conns-per-peer", .type = SK_OPT_UINT, .value = &o.max_conns_per_peer,
         .min = 1, .max = SK_CONNGUARD_MAX_LIMIT, .arg = "N",
         .help = "open connections from one IP address at most (default: half of --max-conns)"},
        {.name = "idle-seconds", .type = SK_OPT_UINT, .value = &o.idle_seconds, .min = 1,
         .max = 86400, .arg = "SECONDS",
         .help = "close a connection after this long without a request (default 60)"},
        {.name = "session-ttl", .type = SK_OPT_UINT, .value = &o.session_ttl, .min = 10,
         .max = 3600, .arg = "SECONDS", .help = "signing session lifetime (default 120)"},
        {.name = "enrolling-ttl", .type = SK_OPT_UINT, .value = &o.enrolling_ttl, .min = 60,
         .max = 86400, .arg = "SECONDS",
         .help = "abandoned enrolments are removed after this (default 600)"},
        {.name = "session-keep", .type = SK_OPT_UINT, .value = &o.session_keep, .min = 60,
         .max = 30u * 86400u, .arg = "SECONDS",
         .help = "finished sessions are kept this long after expiry (default 3600)"},
        {.name = "rp-idle-seconds", .type = SK_OPT_UINT, .value = &o.rp_idle_seconds, .min = 2,
         .max = 3600, .arg = "SECONDS",
         .help = "a session whose relying party has not polled for this long is no "
                 "longer offered to the device and is cancelled (default 30)"},
        {.name = "rp-listen", .type = SK_OPT_STRING, .value = &o.rp_listen,
         .arg = "https://HOST:PORT",
         .help = "serve the relying-party API (Smart-ID RP API v2 shape, doc/rp-api.md) "
                 "over HTTPS here"},
        {.name = "rp-tls-cert", .type = SK_OPT_FILE, .value = &o.rp_tls_cert, .arg = "FILE",
         .help = "its TLS certificate, PEM (default DIR/rp-tls.crt, made by init)"},
        {.name = "rp-tls-key", .type = SK_OPT_FILE, .value = &o.rp_tls_key, .arg = "FILE",
         .help = "its TLS private key, PEM (default DIR/rp-tls.key)"},
        {.name = "rp-workers", .type = SK_OPT_UINT, .value = &o.rp_workers, .min = 2,
         .max = 1024, .arg = "N",
         .help = "HTTPS requests served at once (default 16; one relying party's long "
                 "polls hold at most a quarter)"},
        {.name = "rp-person-pending", .type = SK_OPT_UINT, .value = &o.rp_person_pending,
         .min = 1, .max = 100, .arg = "N",
         .help = "running sessions one relying party may have for one person (default 2)"},
        {.name = "ready-file", .type = SK_OPT_STRING, .value = &o.ready_file,
         .flags = SK_OPT_FLAG_ONLY, .arg = "FILE",
         .help = "write the bound URL here once listening (and the relying-party URL "
                 "on a second line)"},
        SK_METRICS_OPTS(&metrics_listen, &metrics_remote),
        SK_LOG_OPTS(&log_format, &log_target),
        {0},
    };
    char err[768] = "";
    int rc, exit_code = 1;
    char *db_uri = NULL, *conf_path = NULL;
    char *journal_path = NULL; /* o.journal resolved */
    int run_lock_fd = -1;      /* DIR/run.lock, shared while this server runs */
    sk_master_key *master = NULL;
    sk_server_identity *identity = NULL;
    sk_server_ident *ident = NULL;
    sk_store *store = NULL;
    sk_pool_filler *pool = NULL;
    sk_rep_server *srv = NULL;
    sk_longpoll *longpoll = NULL;
    sk_hwm *hwm = NULL;
    sk_ca_client *ca = NULL;
    sk_share_ra_retrier *retrier = NULL, *poller = NULL;
    sk_rp_v2 *rpv2 = NULL;
    sk_https *rp_https = NULL;
    char *rp_cert_path = NULL, *rp_key_path = NULL, *rp_registry_path = NULL;
    char rp_url[300] = "";
    char rp_host[256] = "";
    unsigned rp_port = 0;
    uint8_t *ca_cert = NULL;
    size_t ca_cert_len = 0;

    rc = sk_config_parse_args(opts, NULL, argc, argv, 2, err, sizeof err);
    if (rc == SK_SVC_HELP) {
        run_usage(opts);
        exit_code = 0;
        goto out;
    }
    if (rc != SK_OK)
        goto config_error;
    if (o.dir == NULL) {
        snprintf(err, sizeof err, "missing --dir");
        goto config_error;
    }
    if (!sk_is_dir(o.dir)) {
        snprintf(err, sizeof err, "--dir: no such directory: %s", o.dir);
        goto config_error;
    }
    if (o.config != NULL) {
        conf_path = strdup(o.config);
    } else {
        conf_path = sk_path_join(o.dir, SK_SERVER_FILE_CONF);
        if (conf_path != NULL && !sk_path_exists(conf_path)) {
            free(conf_path);
            conf_path = NULL;
        }
    }
    if (conf_path != NULL && sk_config_parse_file(opts, conf_path, err, sizeof err) != SK_OK)
        goto config_error;
    if (sk_config_validate(opts, err, sizeof err) != SK_OK)
        goto config_error;
    if (sk_log_configure(log_format, log_target, err, sizeof err) != SK_OK)
        goto config_error;
    if (metrics_listen != NULL &&
        sk_metrics_http_check(metrics_listen, metrics_remote, err, sizeof err) != SK_OK)
        goto config_error;
    if (o.rp_listen != NULL && (strncmp(o.rp_listen, "https://", 8) != 0 ||
                                !sk_parse_hostport(rp_host, sizeof rp_host, &rp_port,
                                                   o.rp_listen + 8))) {
        snprintf(err, sizeof err, "--rp-listen %s: expected https://HOST:PORT", o.rp_listen);
        goto config_error;
    }
    if (o.rp_listen == NULL && (o.rp_tls_cert != NULL || o.rp_tls_key != NULL)) {
        snprintf(err, sizeof err, "--rp-tls-cert and --rp-tls-key need --rp-listen");
        goto config_error;
    }

    sk_pool_config pc = {.target = o.pool_size};
    if (parse_profiles(&pc, o.pool_profiles, err, sizeof err) != SK_OK)
        goto config_error;
    {
        char default_db[] = "sqlite:" SK_SERVER_FILE_DB;
        bool db_flag = false;
        for (const sk_opt *op = opts; op->name != NULL; op++)
            if (op->value == (void *)&o.db)
                db_flag = op->from_flag;
        if (resolve_db(&db_uri, o.db ? o.db : default_db, db_flag, o.dir, err, sizeof err) !=
            SK_OK)
            goto config_error;
    }
    if (o.journal != NULL) {
        bool journal_flag = false;
        for (const sk_opt *op = opts; op->name != NULL; op++)
            if (op->value == (void *)&o.journal)
                journal_flag = op->from_flag;
        journal_path = (o.journal[0] == '/' || journal_flag) ? strdup(o.journal)
                                                              : sk_path_join(o.dir, o.journal);
        if (journal_path == NULL) {
            fprintf(stderr, PROG ": %s\n", sk_strerror(SK_ERR_NOMEM));
            goto out;
        }
    }

    sk_log_init(PROG);
    sk_metrics_init(PROG, SK_METRICS_REQUESTS | SK_METRICS_SHARE | SK_METRICS_CONNS);
    if (sk_init() != SK_OK) {
        fprintf(stderr, PROG ": cannot initialise libsplitkey\n");
        goto out;
    }
    {
        char *mk_path = sk_path_join(o.dir, SK_SERVER_FILE_MASTER);
        rc = mk_path ? sk_master_key_load(&master, mk_path) : SK_ERR_NOMEM;
        if (rc != SK_OK) {
            if (rc == SK_ERR_NOT_FOUND)
                snprintf(err, sizeof err, "%s: missing; run '" PROG " init --dir %s' first",
                         mk_path, o.dir);
            else
                snprintf(err, sizeof err, "%s: %s", mk_path ? mk_path : SK_SERVER_FILE_MASTER,
                         rc == SK_ERR_KEY_FORMAT ? "not a 32-byte master key"
                                                 : sk_svc_strerror(rc));
            free(mk_path);
            goto config_error;
        }
        free(mk_path);
    }
    if (sk_server_identity_load(&identity, o.dir, err, sizeof err) != SK_OK)
        goto config_error;
    rc = sk_share_ident_load(&ident, identity);
    if (rc != SK_OK) {
        snprintf(err, sizeof err, "%s: the identity keys do not form a server identity: %s",
                 o.dir, sk_strerror(rc));
        goto config_error;
    }

    if (o.ca_cert != NULL && o.ca == NULL) {
        snprintf(err, sizeof err, "--ca-cert needs --ca");
        goto config_error;
    }
    if (o.ca != NULL && o.ca_cert == NULL) {
        snprintf(err, sizeof err, "--ca needs --ca-cert FILE (the CA certificate, ca.pem): "
                                  "the CA's replies are verified under its key");
        goto config_error;
    }
    if (o.ca != NULL) {
        rc = sk_file_read(&ca_cert, &ca_cert_len, o.ca_cert, 64 * 1024, 0);
        if (rc != SK_OK) {
            snprintf(err, sizeof err, "--ca-cert %s: %s", o.ca_cert, sk_svc_strerror(rc));
            goto config_error;
        }
        rc = sk_ca_client_open(&ca, o.ca, identity->sign_secret, ca_cert, ca_cert_len,
                               o.ca_timeout_ms);
        if (rc != SK_OK) {
            snprintf(err, sizeof err, "--ca %s%s%s: %s", o.ca, o.ca_cert ? " --ca-cert " : "",
                     o.ca_cert ? o.ca_cert : "",
                     rc == SK_ERR_CERT ? "the CA certificate does not parse"
                                       : sk_svc_strerror(rc));
            goto config_error;
        }
    }

    /* held for the server's lifetime: restore refuses while it is */
    rc = sk_run_lock(o.dir, false, &run_lock_fd, err, sizeof err);
    if (rc != SK_OK) {
        fprintf(stderr, PROG ": %s\n", err);
        exit_code = rc == SK_ERR_STORE_BUSY ? 2 : 1;
        goto out;
    }
    rc = sk_store_open(&store, db_uri);
    if (rc != SK_OK) {
        fprintf(stderr, PROG ": cannot open the store %s: %s%s\n", uri_shown(db_uri),
                sk_strerror(rc), store_access_hint(db_uri));
        goto out;
    }
    /* a connection per worker, and some for the pool filler, the clean-up,
     * the CA threads and /health */
    sk_store_set_connections(store, (o.workers ? o.workers : default_workers()) + 4u);
    if (journal_path != NULL && !sk_store_has_journal(store, err, sizeof err)) {
        fprintf(stderr, PROG ": --journal: %s\n", err);
        exit_code = 2;
        goto out;
    }
    if (journal_path != NULL) {
        rc = sk_store_journal_open(store, journal_path, err, sizeof err);
        if (rc != SK_OK) {
            fprintf(stderr, PROG ": journal: %s\n", err);
            exit_code = rc == SK_ERR_STORE_CONFLICT ? 2 : 1;
            goto out;
        }
    }
    rc = sk_store_bind(store, o.dir, o.new_store, (uint64_t)time(NULL), err, sizeof err);
    if (rc != SK_OK) {
        fprintf(stderr, PROG ": store %s: %s\n", uri_shown(db_uri), err);
        exit_code = rc == SK_SVC_ERR_CONFIG ? 2 : 1;
        goto out;
    }
    if (sk_signals_install() != SK_OK) {
        fprintf(stderr, PROG ": cannot install signal handlers\n");
        goto out;
    }

    pc.store = store;
    pc.master = master;
    rc = sk_pool_filler_start(&pool, &pc);
    if (rc != SK_OK) {
        fprintf(stderr, PROG ": cannot start the server-key pool: %s\n", sk_strerror(rc));
        goto out;
    }

    operators_path = sk_path_join(o.dir, SK_OPERATORS_FILE);
    if (operators_path == NULL) {
        fprintf(stderr, PROG ": %s\n", sk_strerror(SK_ERR_NOMEM));
        goto out;
    }
    sk_share_server share = {
        .operators_file = operators_path,
        .store = store,
        .master = master,
        .ident = ident,
        .pool = pool,
        .ca_url = o.ca,
        .ca = ca,
        .ca_hook = sk_share_ca_hook_log,
        .lock1_s = o.lock1_seconds,
        .lock2_s = o.lock2_seconds,
        .open_enrolment = o.open_enrolment,
        .session_ttl_s = o.session_ttl,
        .enrolling_ttl_s = o.enrolling_ttl,
        .session_keep_s = o.session_keep,
        .rp_idle_s = o.rp_idle_seconds,
    };
    rc = sk_longpoll_new(&longpoll);
    if (rc != SK_OK) {
        fprintf(stderr, PROG ": %s\n", sk_strerror(rc));
        goto out;
    }
    share.longpoll = longpoll;
    /* other servers on the same database wake this one's long polls */
    rc = sk_store_set_change_hook(store, store_changed, longpoll);
    if (rc != SK_OK) {
        fprintf(stderr, PROG ": store %s: cannot listen for changes: %s\n", uri_shown(db_uri),
                sk_strerror(rc));
        goto out;
    }
    hwm = sk_hwm_new();
    if (hwm == NULL) {
        fprintf(stderr, PROG ": %s\n", sk_strerror(SK_ERR_NOMEM));
        goto out;
    }
    share.hwm = hwm;
    rc = sk_share_read_restore_mark(&share);
    if (rc != SK_OK) {
        fprintf(stderr, PROG ": store %s: its restore mark: %s\n", uri_shown(db_uri),
                sk_strerror(rc));
        goto out;
    }
    if (share.restored_at > 0)
        sk_log_notice("the store was restored to an older point at %lld: devices that moved on "
                      "since are taken up again once (event log: resynced)",
                      (long long)share.restored_at);
    atomic_init(&share.last_cleanup, 0);
    atomic_init(&share.ra_done_seq, 0);
    if (o.lock1_seconds > o.lock2_seconds) {
        snprintf(err, sizeof err, "--lock1-seconds must not exceed --lock2-seconds");
        goto config_error;
    }
    if (ca != NULL) {
        /* Revocations the CA has not confirmed (from before a crash, or while
         * it was down) are asked again at once and then periodically. */
        rc = sk_share_ra_retry_start(&retrier, &share, o.ca_retry_every);
        if (rc != SK_OK) {
            fprintf(stderr, PROG ": cannot start the revocation retry: %s\n", sk_strerror(rc));
            goto out;
        }
        /* Revocations made at the CA (its operator) reach this server by a
         * poll from the cursor kept in the store: at once, then periodically. */
        rc = sk_share_ra_poll_start(&poller, &share, o.ca_revocations_every);
        if (rc != SK_OK) {
            fprintf(stderr, PROG ": cannot start the revocation poll: %s\n", sk_strerror(rc));
            goto out;
        }
    }
    sk_rep_config rcfg = {
        .url = o.listen,
        .workers = o.workers ? o.workers : default_workers(),
        .max_request = o.max_request,
        .handler = sk_share_handle,
        .ctx = &share,
        .log_requests = 1,
        .max_conns = o.max_conns,
        .max_conns_per_peer = o.max_conns_per_peer,
        .idle_seconds = o.idle_seconds,
    };
    rc = sk_rep_server_start(&srv, &rcfg);
    if (rc != SK_OK) {
        snprintf(err, sizeof err, "cannot listen on %s: %s", o.listen, sk_svc_strerror(rc));
        if (rc == SK_SVC_ERR_CONFIG)
            goto config_error;
        fprintf(stderr, PROG ": %s\n", err);
        goto out;
    }
    /* Long polls park at most workers - 1 at a time: one worker is always
     * free for the device requests they wait for. */
    sk_longpoll_set_cap(longpoll, sk_rep_server_workers(srv) - 1u);
    char url[256];
    if (sk_rep_server_url(srv, url, sizeof url) != SK_OK)
        snprintf(url, sizeof url, "%s", o.listen);
    unsigned max_conns, per_peer, idle_s;
    sk_rep_server_conn_limits(srv, &max_conns, &per_peer, &idle_s);
    sk_log_notice("listening on %s with %u workers; connections at most %u, %u per peer, "
                  "closed after %u s idle; store %s; enrolment %s; CA %s",
                  url, sk_rep_server_workers(srv), max_conns, per_peer, idle_s, uri_shown(db_uri),
                  o.open_enrolment ? "open" : "by token", o.ca ? o.ca : "none");
    if (o.rp_listen != NULL) {
        rp_cert_path = o.rp_tls_cert ? strdup(o.rp_tls_cert) : sk_path_join(o.dir, RP_TLS_CERT);
        rp_key_path = o.rp_tls_key ? strdup(o.rp_tls_key) : sk_path_join(o.dir, RP_TLS_KEY);
        rp_registry_path = sk_path_join(o.dir, SK_RP_REGISTRY_FILE);
        if (rp_cert_path == NULL || rp_key_path == NULL || rp_registry_path == NULL) {
            fprintf(stderr, PROG ": %s\n", sk_strerror(SK_ERR_NOMEM));
            goto out;
        }
        if (o.rp_tls_cert == NULL && o.rp_tls_key == NULL &&
            rp_tls_make(o.dir, err, sizeof err) != SK_OK) /* a directory from before */
            goto config_error;
        /* the host as nng writes it: sk_parse_hostport keeps no brackets */
        unsigned rp_workers = o.rp_workers ? o.rp_workers : SK_HTTPS_DEFAULT_WORKERS;
        sk_rp_v2_config vcfg = {.share = &share, .registry_path = rp_registry_path,
                                .person_pending = o.rp_person_pending, .workers = rp_workers};
        rc = sk_rp_v2_new(&rpv2, &vcfg, err, sizeof err);
        if (rc != SK_OK)
            goto config_error;
        sk_https_config hcfg = {.host = rp_host, .port = rp_port, .cert_file = rp_cert_path,
                                .key_file = rp_key_path, .workers = rp_workers,
                                .max_body = 64 * 1024, .handler = sk_rp_v2_handle,
                                .ctx = rpv2};
        char herr[512] = "";
        rc = sk_https_start(&rp_https, &hcfg, herr, sizeof herr);
        if (rc != SK_OK) {
            snprintf(err, sizeof err, "--rp-listen %s: %s", o.rp_listen, herr);
            if (rc == SK_SVC_ERR_CONFIG)
                goto config_error;
            fprintf(stderr, PROG ": %s\n", err);
            goto out;
        }
        snprintf(rp_url, sizeof rp_url, "https://%s:%u", rp_host, sk_https_port(rp_https));
        uint8_t fp[32];
        char fp_hex[65] = "?";
        if (sk_https_cert_sha256(fp, rp_cert_path) == SK_OK)
            sk_svc_hex(fp_hex, fp, sizeof fp);
        sk_log_notice("relying-party API on %s/v2/ with %u workers; %zu relying parties "
                      "registered; certificate SHA-256 %s",
                      rp_url, rp_workers, sk_rp_v2_count(rpv2), fp_hex);
    }
    if (metrics_listen != NULL) {
        sk_metrics_http_config mcfg = {.url = metrics_listen, .allow_remote = metrics_remote,
                                       .health = store_health, .health_ctx = store};
        rc = sk_metrics_http_start(&metrics, &mcfg, err, sizeof err);
        if (rc == SK_SVC_ERR_CONFIG)
            goto config_error;
        if (rc != SK_OK) {
            fprintf(stderr, PROG ": %s\n", err);
            goto out;
        }
        sk_log_notice("metrics and health for the operator on %s (GET /metrics, /health)",
                      sk_metrics_http_url(metrics));
    }
    if (o.ready_file != NULL) {
        char line[700];
        int n = snprintf(line, sizeof line, "%s\n%s%s", url, rp_url, rp_url[0] ? "\n" : "");
        rc = sk_file_write_atomic(o.ready_file, (const uint8_t *)line, (size_t)n,
                                  SK_FILE_PUBLIC_MODE, 0);
        if (rc != SK_OK) {
            fprintf(stderr, PROG ": cannot write %s\n", o.ready_file);
            goto out;
        }
    }

    if (rpv2 != NULL && sk_signals_install_reload() != SK_OK) {
        fprintf(stderr, PROG ": cannot install signal handlers\n");
        goto out;
    }
    int sig;
    while ((sig = sk_signals_wait()) == SIGHUP) {
        char rerr[512] = "";
        if (sk_rp_v2_reload(rpv2, rerr, sizeof rerr) != SK_OK)
            sk_log_error("SIGHUP: relying parties: %s (the registry read before stays in use)",
                         rerr);
        else
            sk_log_notice("SIGHUP: relying parties read again, %zu registered",
                          sk_rp_v2_count(rpv2));
    }
    sk_metrics_set_draining(); /* /health: 503 from now on */
    sk_log_notice("signal %d: stopping", sig);
    exit_code = 0;
    goto out;

config_error:
    fprintf(stderr, PROG ": %s\n", err);
    exit_code = 2;
out:
    sk_metrics_set_draining();
    sk_longpoll_stop(longpoll); /* parked polls answer now, so the workers can stop */
    sk_https_stop(rp_https);
    sk_rp_v2_free(rpv2);
    sk_rep_server_stop(srv);    /* no request in flight after this */
    sk_metrics_http_stop(metrics); /* before the store its health check reads */
    if (store != NULL)
        sk_store_set_change_hook(store, NULL, NULL); /* before the long polls go */
    sk_longpoll_free(longpoll);
    sk_hwm_free(hwm);
    sk_share_ra_retry_stop(poller);
    sk_share_ra_retry_stop(retrier);
    sk_ca_client_close(ca);
    sk_file_free(ca_cert, ca_cert_len);
    sk_pool_filler_stop(pool);
    sk_store_close(store);
    sk_server_ident_free(ident);
    sk_server_identity_free(identity);
    sk_master_key_free(master);
    if (exit_code == 0 && srv != NULL)
        sk_log_notice("stopped");
    free(db_uri);
    free(conf_path);
    free(journal_path);
    free(operators_path);
    free(rp_cert_path);
    free(rp_key_path);
    free(rp_registry_path);
    if (run_lock_fd >= 0)
        close(run_lock_fd);
    sk_config_free(opts);
    return exit_code;
}

/* ----------------------------------------------------------------- token */

/* ----------------------------------------------------------------- check */

static int cmd_check(int argc, char **argv)
{
    char *dir = NULL, *db = NULL, *uri = NULL;
    sk_opt opts[] = {
        {.name = "dir", .type = SK_OPT_DIR, .value = &dir, .flags = SK_OPT_REQUIRED,
         .arg = "DIR", .help = "the directory made by init"},
        {.name = "db", .type = SK_OPT_STRING, .value = &db, .arg = "URI",
         .help = "store: sqlite:PATH or a postgresql:// URI (default sqlite:DIR/server.db)"},
        {0},
    };
    char err[768] = "";
    sk_store *store = NULL;
    int exit_code = 2;
    int rc = sk_config_parse_args(opts, NULL, argc, argv, 2, err, sizeof err);
    if (rc == SK_SVC_HELP) {
        printf("usage: " PROG " check --dir DIR [--db URI]\n\n"
               "Checks the store as run does at start, without writing to it: the\n"
               "database's consistency check, and that it is the store DIR/store.id\n"
               "names.  Exit status 0: in order; 1: a problem (printed); 2: usage.\n\n");
        sk_config_usage(stdout, opts);
        exit_code = 0;
        goto out;
    }
    if (rc == SK_OK)
        rc = sk_config_validate(opts, err, sizeof err);
    if (rc == SK_OK)
        rc = resolve_db(&uri, db != NULL ? db : "sqlite:server.db", db != NULL, dir, err,
                        sizeof err);
    if (rc != SK_OK) {
        fprintf(stderr, PROG " check: %s\n", err);
        goto out;
    }
    if (!store_exists(uri)) {
        fprintf(stderr, PROG " check: %s: no such database\n", uri);
        exit_code = 1;
        goto out;
    }
    rc = sk_store_open(&store, uri);
    if (rc == SK_OK)
        rc = sk_store_bind_check(store, dir, err, sizeof err);
    else
        snprintf(err, sizeof err, "cannot open the store: %s", sk_strerror(rc));
    if (rc != SK_OK) {
        fprintf(stderr, PROG " check: %s: %s\n", uri_shown(uri), err);
        exit_code = 1;
        goto out;
    }
    printf("%s: in order\n", uri_shown(uri));
    exit_code = 0;
out:
    sk_store_close(store);
    free(uri);
    sk_config_free(opts);
    return exit_code;
}

/* ------------------------------------------------------- four eyes */

/* Appends one event to the store of DIR (--db as for run) in a transaction
 * of its own: the offline commands write the audit trail through the same
 * store API as run, which may hold the store at the same time (SQLite's
 * busy timeout lets the second writer wait).  id: a token id, or NULL.
 * missing_ok: a store that does not exist yet is not an error (*logged 0). */
static const char *audit_journal; /* --journal of the offline commands, or NULL */

static int audit_event(const char *dir, const char *db, uint32_t kind, const uint8_t *id,
                       int64_t detail, bool missing_ok, int *logged, char *err, size_t err_len)
{
    char *uri = NULL;
    sk_store *store = NULL;
    *logged = 0;
    int rc = resolve_db(&uri, db != NULL ? db : "sqlite:" SK_SERVER_FILE_DB, db != NULL, dir, err,
                        err_len);
    if (rc != SK_OK)
        return rc;
    if (!store_exists(uri)) {
        if (missing_ok) {
            free(uri);
            return SK_OK;
        }
        snprintf(err, err_len, "%s: no such store; start the server (run) once first, so that "
                 "the event log can record this", uri);
        free(uri);
        return SK_SVC_ERR_CONFIG;
    }
    sk_event ev = {.at = (int64_t)time(NULL), .kind = kind, .detail = detail};
    if (id != NULL) {
        memcpy(ev.key_id, id, SK_STORE_ID_LEN);
        ev.has_key = 1;
    }
    char jerr[256] = "";
    rc = sk_store_open(&store, uri);
    /* run's commit journal, if it keeps one: this commit goes into it too
     * (the journal's lock orders the writers), else run's next commit
     * would find the journal behind the store */
    if (rc == SK_OK && audit_journal != NULL)
        rc = sk_store_journal_open(store, audit_journal, jerr, sizeof jerr);
    if (rc == SK_OK)
        rc = sk_store_event_append(store, NULL, &ev);
    if (rc != SK_OK)
        snprintf(err, err_len, "%s: cannot write the event log: %s%s%s", uri_shown(uri),
                 sk_svc_strerror(rc),
                 jerr[0] ? ": " : "", jerr);
    else
        *logged = 1;
    sk_store_close(store);
    free(uri);
    return rc;
}

int server_registry_load(server_registry *r, const char *dir)
{
    char err[768] = "";
    int rc = SK_ERR_NOMEM;
    r->path = sk_path_join(dir, r->file);
    if (r->path != NULL)
        rc = r->load(&r->items, &r->n, r->path, err, sizeof err);
    if (rc != SK_OK)
        fprintf(stderr, PROG " %s: %s\n", r->cmd, err);
    return rc;
}

int server_registry_commit(server_registry *r, const char *dir, const char *db,
                           const char *journal, uint32_t kind, const uint8_t *id,
                           int64_t detail, int *logged)
{
    char err[768] = "";
    audit_journal = journal;
    int rc = audit_event(dir, db, kind, id, detail, true, logged, err, sizeof err);
    if (rc != SK_OK) {
        fprintf(stderr, PROG " %s: %s; nothing was changed\n", r->cmd, err);
        return rc;
    }
    rc = r->save(r->path, r->items, r->n);
    if (rc != SK_OK)
        fprintf(stderr, PROG " %s: cannot write %s: %s\n", r->cmd, r->path,
                sk_svc_strerror(rc));
    return rc;
}

void server_registry_free(server_registry *r)
{
    free(r->path);
    free(r->items);
    r->path = NULL;
    r->items = NULL;
    r->n = 0;
}

int server_registry_list_run(server_registry *r, const char *help, int argc, char **argv,
                             void (*print)(const void *items, size_t n))
{
    char *dir = NULL;
    sk_opt opts[] = {SERVER_OPT_DIR(&dir), {0}};
    char err[768] = "";
    int exit_code = 2;
    int rc = sk_config_parse_args(opts, NULL, argc, argv, 2, err, sizeof err);
    if (rc == SK_SVC_HELP) {
        fputs(help, stdout);
        sk_config_usage(stdout, opts);
        exit_code = 0;
    } else {
        if (rc == SK_OK)
            rc = sk_config_validate(opts, err, sizeof err);
        if (rc != SK_OK)
            fprintf(stderr, PROG " %s: %s\n", r->cmd, err);
        else if (server_registry_load(r, dir) == SK_OK) {
            print(r->items, r->n);
            exit_code = 0;
        }
    }
    server_registry_free(r);
    sk_config_free(opts);
    return exit_code;
}

int server_registry_edit_run(server_registry_edit *ed, int argc, char **argv)
{
    char err[768] = "";
    int exit_code = 2, logged = 0;
    int rc = sk_config_parse_args(ed->opts, NULL, argc, argv, 2, err, sizeof err);
    if (rc == SK_SVC_HELP) {
        fputs(ed->help, stdout);
        sk_config_usage(stdout, ed->opts);
        exit_code = 0;
        goto out;
    }
    if (rc == SK_OK)
        rc = sk_config_validate(ed->opts, err, sizeof err);
    if (rc == SK_OK)
        rc = ed->check(ed, err, sizeof err);
    if (rc != SK_OK) {
        fprintf(stderr, PROG " %s: %s\n", ed->reg.cmd, err);
        goto out;
    }
    if (server_registry_load(&ed->reg, *ed->dir) != SK_OK)
        goto out;
    exit_code = ed->change(ed);
    if (exit_code != 0)
        goto out;
    exit_code = 1;
    if (server_registry_commit(&ed->reg, *ed->dir, *ed->db, *ed->journal, ed->kind, ed->id,
                               ed->detail, &logged) != SK_OK)
        goto out;
    ed->done(ed, logged);
    exit_code = 0;
out:
    server_registry_free(&ed->reg);
    sk_config_free(ed->opts);
    return exit_code;
}

/* Reads a whole token text from path ("-": standard input) into a new
 * buffer (secret: the caller wipes it); trailing newlines dropped. */
static int token_file_read(char **out, size_t *len, const char *path, char *err, size_t err_len)
{
    char *buf = calloc(1, SK_MAX_TOKEN_LEN + 2);
    size_t n = 0;
    *out = NULL;
    *len = 0;
    if (buf == NULL)
        return SK_ERR_NOMEM;
    if (!strcmp(path, "-")) {
        n = fread(buf, 1, SK_MAX_TOKEN_LEN + 1, stdin);
    } else {
        uint8_t *f = NULL;
        size_t flen = 0;
        int rc = sk_file_read(&f, &flen, path, SK_MAX_TOKEN_LEN + 1, 0);
        if (rc != SK_OK) {
            snprintf(err, err_len, "--token-file %s: %s", path,
                     rc == SK_ERR_LIMIT ? "too long for a token" : sk_svc_strerror(rc));
            free(buf);
            return SK_SVC_ERR_CONFIG;
        }
        memcpy(buf, f, flen);
        n = flen;
        sk_file_free(f, flen);
    }
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    if (n == 0 || n > SK_MAX_TOKEN_LEN) {
        snprintf(err, err_len, "--token-file %s: no token in it", path);
        sodium_memzero(buf, SK_MAX_TOKEN_LEN + 2);
        free(buf);
        return SK_SVC_ERR_CONFIG;
    }
    *out = buf;
    *len = n;
    return SK_OK;
}

static void token_free(char *token)
{
    if (token != NULL) {
        sodium_memzero(token, SK_MAX_TOKEN_LEN + 2);
        free(token);
    }
}

/* Loads DIR/operators. */
static int operators_of(sk_operator **ops, size_t *n, const char *dir, char *err, size_t err_len)
{
    char *path = sk_path_join(dir, SK_OPERATORS_FILE);
    if (path == NULL)
        return SK_ERR_NOMEM;
    int rc = sk_operators_load(ops, n, path, err, err_len);
    free(path);
    return rc;
}

static const char *purpose_name(sk_purpose p)
{
    return p == SK_PURPOSE_AUTH ? "auth" : p == SK_PURPOSE_SIGN ? "sign" : "other";
}

static int cmd_token(int argc, char **argv)
{
    char *dir = NULL, *subject = NULL, *purpose_s = NULL, *key_file = NULL, *db = NULL;
    char *journal = NULL;
    unsigned valid_hours = 72;
    sk_opt opts[] = {
        {.name = "dir", .type = SK_OPT_DIR, .value = &dir, .flags = SK_OPT_REQUIRED,
         .arg = "DIR", .help = "the directory made by init"},
        {.name = "subject", .type = SK_OPT_STRING, .value = &subject, .flags = SK_OPT_REQUIRED,
         .arg = "DN", .help = "certificate subject, e.g. \"C=LV,GN=ANNA,SN=BERZINA,"
                              "serialNumber=PNOLV-010101-12345\"; for a seal \"C=LV,"
                              "O=Example SIA,organizationIdentifier=VATLV-40003000000\""},
        {.name = "purpose", .type = SK_OPT_STRING, .value = &purpose_s,
         .flags = SK_OPT_REQUIRED, .arg = "auth|sign|seal", .help = "the key the token enrols"},
        {.name = "valid-hours", .type = SK_OPT_UINT, .value = &valid_hours, .min = 1,
         .max = 24u * 365u, .arg = "H", .help = "how long the token can be used (default 72)"},
        {.name = "operator-key", .type = SK_OPT_FILE, .value = &key_file,
         .flags = SK_OPT_REQUIRED, .arg = "FILE",
         .help = "your operator secret key (operator keygen; mode 0600)"},
        SERVER_OPT_DB(&db, SERVER_DB_HELP),
        SERVER_OPT_JOURNAL(&journal),
        {0},
    };
    char err[512] = "";
    int exit_code = 2;
    sk_server_identity *identity = NULL;
    sk_server_ident *ident = NULL;
    char *token = NULL, *requested = NULL;
    uint8_t op_sk[SK_OPERATOR_SECRET_LEN];
    sk_operator *ops = NULL;
    size_t n_ops = 0;
    int logged = 0;
    memset(op_sk, 0, sizeof op_sk);
    int rc = sk_config_parse_args(opts, NULL, argc, argv, 2, err, sizeof err);
    if (rc == SK_SVC_HELP) {
        printf("usage: " PROG " token --dir DIR --subject \"C=..,GN=..,SN=..,"
               "serialNumber=..\" --purpose auth|sign|seal --operator-key FILE\n"
               "       " PROG " token approve --help\n\n"
               "Prints a one-time registration token for a person whose identity you,\n"
               "a registered operator, have verified, signed with your operator key.\n"
               "Four eyes: it is not usable until a second, different operator\n"
               "approves it (token approve).  The device passes it to enrolment; the\n"
               "server accepts it once, for this subject and purpose, until it expires.\n"
               "A seal token (--purpose seal) is for an organisation: its subject is\n"
               "\"C=..,O=..,organizationIdentifier=VATLV-..\" (ETSI EN 319 412-3).\n\n");
        sk_config_usage(stdout, opts);
        exit_code = 0;
        goto out;
    }
    if (rc == SK_OK)
        rc = sk_config_validate(opts, err, sizeof err);
    if (rc != SK_OK)
        goto usage_error;
    sk_purpose purpose;
    if (!strcmp(purpose_s, "auth")) {
        purpose = SK_PURPOSE_AUTH;
    } else if (!strcmp(purpose_s, "sign")) {
        purpose = SK_PURPOSE_SIGN;
    } else if (!strcmp(purpose_s, "seal")) {
        purpose = SK_PURPOSE_SEAL;
    } else {
        snprintf(err, sizeof err, "--purpose %s: expected auth, sign or seal", purpose_s);
        goto usage_error;
    }
    {
        /* A seal is an organisation's: its subject must be a legal person's,
         * and an organisation's subject enrols only a seal key. */
        sk_name *legal = NULL;
        const char *why = NULL;
        int lrc = sk_name_parse_legal(&legal, &why, subject);
        sk_name_free(legal);
        if (purpose == SK_PURPOSE_SEAL && lrc != SK_OK) {
            snprintf(err, sizeof err, "--subject: not an organisation's subject for a seal: %s",
                     why != NULL ? why : "invalid");
            goto usage_error;
        }
        if (purpose != SK_PURPOSE_SEAL && lrc == SK_OK) {
            snprintf(err, sizeof err, "--subject is an organisation's: use --purpose seal");
            goto usage_error;
        }
    }
    size_t sl = strlen(subject);
    if (sl == 0 || sl > SK_MAX_SUBJECT_LEN) {
        snprintf(err, sizeof err, "--subject: 1 to %u characters", SK_MAX_SUBJECT_LEN);
        goto usage_error;
    }
    if (sk_init() != SK_OK) {
        fprintf(stderr, PROG ": cannot initialise libsplitkey\n");
        exit_code = 1;
        goto out;
    }
    if (sk_server_identity_load(&identity, dir, err, sizeof err) != SK_OK)
        goto usage_error;
    if (sk_operator_key_load(op_sk, key_file, err, sizeof err) != SK_OK ||
        operators_of(&ops, &n_ops, dir, err, sizeof err) != SK_OK)
        goto usage_error;
    const sk_operator *self = sk_operators_find(ops, n_ops, op_sk + 32);
    rc = sk_share_ident_load(&ident, identity);
    if (rc != SK_OK) {
        snprintf(err, sizeof err, "%s: not a usable server identity: %s", dir, sk_strerror(rc));
        goto usage_error;
    }
    token = malloc(SK_MAX_TOKEN_LEN + 2);
    size_t written = 0;
    uint64_t expires = (uint64_t)time(NULL) + (uint64_t)valid_hours * 3600u;
    rc = token ? sk_server_token_mint(ident, token, SK_MAX_TOKEN_LEN + 1, &written, subject,
                                      purpose, expires, NULL, NULL)
               : SK_ERR_NOMEM;
    if (rc != SK_OK) {
        fprintf(stderr, PROG " token: cannot mint a token: %s\n", sk_strerror(rc));
        exit_code = rc == SK_ERR_ARG || rc == SK_ERR_LIMIT ? 2 : 1;
        goto out;
    }
    sk_token_info info;
    if (sk_server_token_read(&info, token, written) != SK_OK) {
        fprintf(stderr, PROG " token: cannot read the token minted\n");
        exit_code = 1;
        goto out;
    }
    exit_code = 1;
    if (self == NULL) {
        audit_journal = journal;
        rc = audit_event(dir, db, SK_EV_APPROVAL_REFUSED_UNKNOWN, NULL,
                         sk_operator_event_id(op_sk + 32), false, &logged, err, sizeof err);
        fprintf(stderr, PROG " token: refused: %s is not the key of a registered operator "
                        "(operator list)%s\n", key_file, logged ? "; logged" : "");
        if (rc != SK_OK)
            fprintf(stderr, PROG " token: %s\n", err);
        goto out;
    }
    requested = malloc(SK_MAX_TOKEN_LEN + 2);
    rc = requested ? sk_server_token_approve(requested, SK_MAX_TOKEN_LEN + 2, &written, token,
                                             written, op_sk)
                   : SK_ERR_NOMEM;
    if (rc != SK_OK) {
        fprintf(stderr, PROG " token: cannot sign the token: %s%s\n", sk_strerror(rc),
                rc == SK_ERR_LIMIT ? " (the subject is too long for a token with two "
                                     "operators' approvals)"
                                   : "");
        exit_code = rc == SK_ERR_LIMIT ? 2 : 1;
        goto out;
    }
    audit_journal = journal;
    rc = audit_event(dir, db, SK_EV_TOKEN_REQUESTED, info.token_id,
                     sk_operator_event_id(op_sk + 32), false, &logged, err, sizeof err);
    if (rc != SK_OK) {
        fprintf(stderr, PROG " token: %s; no token printed\n", err);
        goto out;
    }
    fprintf(stderr, PROG " token: requested by operator %s; NOT YET USABLE: a second, "
                    "different operator must approve it (" PROG " token approve --dir DIR "
                    "--operator-key FILE --token-file FILE)\n", self->name);
    printf("%s\n", requested);
    exit_code = 0;
    goto out;
usage_error:
    fprintf(stderr, PROG " token: %s\n", err);
    exit_code = 2;
out:
    sodium_memzero(op_sk, sizeof op_sk);
    token_free(token);
    token_free(requested);
    free(ops);
    sk_server_ident_free(ident);
    sk_server_identity_free(identity);
    sk_config_free(opts);
    return exit_code;
}

/* ---------------------------------------------------------- backup, restore */

/* The start the commands on a store file share: parses the options, prints
 * the help, resolves --db (an SQLite store: *path is its file, malloc'd in
 * *uri) and initialises the library.  Returns 1 to go on; else 0 with
 * *exit_code set (0 after --help, 2 for usage, 1 otherwise). */
static int store_command(const char *cmd, const char *help, sk_opt *opts, int argc, char **argv,
                         char *const *dir, char *const *db, char **uri, int *exit_code)
{
    char err[768] = "";
    *uri = NULL;
    *exit_code = 2;
    int rc = sk_config_parse_args(opts, NULL, argc, argv, 2, err, sizeof err);
    if (rc == SK_SVC_HELP) {
        fputs(help, stdout);
        sk_config_usage(stdout, opts);
        *exit_code = 0;
        return 0;
    }
    if (rc == SK_OK)
        rc = sk_config_validate(opts, err, sizeof err);
    if (rc == SK_OK)
        rc = resolve_db(uri, *db != NULL ? *db : "sqlite:" SK_SERVER_FILE_DB, *db != NULL, *dir,
                        err, sizeof err);
    if (rc != SK_OK) {
        fprintf(stderr, PROG " %s: %s\n", cmd, err);
        return 0;
    }
    if (sk_init() != SK_OK) {
        fprintf(stderr, PROG ": cannot initialise libsplitkey\n");
        *exit_code = 1;
        return 0;
    }
    return 1;
}

static int cmd_backup(int argc, char **argv)
{
    char *dir = NULL, *db = NULL, *to = NULL, *uri = NULL;
    sk_opt opts[] = {
        {.name = "dir", .type = SK_OPT_DIR, .value = &dir, .flags = SK_OPT_REQUIRED,
         .arg = "DIR", .help = "the directory made by init"},
        {.name = "to", .type = SK_OPT_STRING, .value = &to, .flags = SK_OPT_REQUIRED,
         .arg = "FILE", .help = "the backup file to write (never overwritten)"},
        {.name = "db", .type = SK_OPT_STRING, .value = &db, .arg = "URI",
         .help = "store: sqlite:PATH (default sqlite:DIR/server.db), as given to run"},
        {0},
    };
    static const char help[] =
        "usage: " PROG " backup --dir DIR --to FILE [--db URI]\n\n"
        "Copies the store, consistently, while servers run on it (SQLite's\n"
        "online backup), into FILE (through FILE.tmp, flushed to disk, then\n"
        "put in place; an existing FILE is never overwritten).  Prints the\n"
        "journal seq the copy holds and its row counts.  Exit status 0: done;\n"
        "1: a problem (printed); 2: usage.\n\n";
    int exit_code = 2;
    if (store_command("backup", help, opts, argc, argv, &dir, &db, &uri, &exit_code)) {
        char err[768] = "";
        exit_code = 0;
        if (strncmp(uri, "sqlite:", 7) != 0) {
            fprintf(stderr, PROG " backup: %s is not an SQLite store: back a PostgreSQL store "
                            "up with PostgreSQL's own tools (pg_basebackup for the cluster, or "
                            "pg_dump of the database; doc/operations.md, \"The store\")\n",
                    uri_shown(uri));
            free(uri);
            sk_config_free(opts);
            return 1;
        }
        if (sk_backup_run(uri + 7, dir, to, stdout, err, sizeof err) != SK_OK) {
            fprintf(stderr, PROG " backup: %s\n", err);
            exit_code = 1;
        }
    }
    free(uri);
    sk_config_free(opts);
    return exit_code;
}

static int cmd_restore(int argc, char **argv)
{
    char *dir = NULL, *db = NULL, *from = NULL, *journal = NULL, *uri = NULL;
    sk_opt opts[] = {
        {.name = "dir", .type = SK_OPT_DIR, .value = &dir, .flags = SK_OPT_REQUIRED,
         .arg = "DIR", .help = "the directory made by init"},
        {.name = "from", .type = SK_OPT_FILE, .value = &from, .flags = SK_OPT_REQUIRED,
         .arg = "BACKUP", .help = "a file written by backup"},
        {.name = "journal", .type = SK_OPT_FILE, .value = &journal, .arg = "FILE",
         .help = "the commit journal: its records after the backup are replayed"},
        {.name = "db", .type = SK_OPT_STRING, .value = &db, .arg = "URI",
         .help = "store: sqlite:PATH (default sqlite:DIR/server.db), as given to run"},
        {0},
    };
    static const char help[] =
        "usage: " PROG " restore --dir DIR --from BACKUP [--journal FILE] [--db URI]\n"
        "\n"
        "Replaces the store with a backup, after checking it (consistency, and\n"
        "that it is the store DIR/store.id names), and replays every record of\n"
        "the journal after the backup: with the journal nothing committed is\n"
        "lost.  Without it, everything after the backup is lost, and the store\n"
        "notes the restore time (store_meta restored_at) so that devices ahead\n"
        "of it resynchronise once.  Refused while a server runs on DIR.  Nothing\n"
        "changes when it fails.  Exit status 0: done; 1: a problem (printed);\n"
        "2: usage.\n\n";
    int exit_code = 2;
    if (store_command("restore", help, opts, argc, argv, &dir, &db, &uri, &exit_code)) {
        char err[768] = "";
        exit_code = 0;
        if (strncmp(uri, "sqlite:", 7) != 0) {
            fprintf(stderr, PROG " restore: %s is not an SQLite store: restore a PostgreSQL "
                            "store with PostgreSQL's own tools (a pg_basebackup copy, or "
                            "pg_restore of a pg_dump; doc/operations.md, \"The store\")\n",
                    uri_shown(uri));
            free(uri);
            sk_config_free(opts);
            return 1;
        }
        if (sk_restore_run(uri + 7, dir, from, journal, stdout, err, sizeof err) != SK_OK) {
            fprintf(stderr, PROG " restore: %s; nothing was changed\n", err);
            exit_code = 1;
        }
    }
    free(uri);
    sk_config_free(opts);
    return exit_code;
}

/* ---------------------------------------------------------------- migrate */

static int cmd_migrate(int argc, char **argv)
{
    char *from = NULL, *to = NULL;
    sk_opt opts[] = {
        {.name = "from", .type = SK_OPT_STRING, .value = &from, .flags = SK_OPT_REQUIRED,
         .arg = "sqlite:PATH", .help = "the store to move (the server stopped)"},
        {.name = "to", .type = SK_OPT_STRING, .value = &to, .flags = SK_OPT_REQUIRED,
         .arg = "URI", .help = "the new store: a postgresql:// URI of an empty database"},
        {0},
    };
    char err[1024] = "";
    int exit_code = 2;
    int rc = sk_config_parse_args(opts, NULL, argc, argv, 2, err, sizeof err);
    if (rc == SK_SVC_HELP) {
        printf("usage: " PROG " migrate --from sqlite:PATH --to URI\n\n"
               "Copies every row of an SQLite store (keys, sessions, cached replies,\n"
               "used tokens, the server-key pool, the event log with its seqs, store\n"
               "facts and the event counter) into an empty PostgreSQL database, in one\n"
               "transaction, then compares both row for row (counts and a SHA-256 digest\n"
               "per table) before committing, and prints what it moved.  Stop the share\n"
               "server first.  The source must be at this program's schema version.\n"
               "Nothing changes when it fails.  Exit status 0: done; 1: a problem\n"
               "(printed); 2: usage.\n\n");
        sk_config_usage(stdout, opts);
        exit_code = 0;
        goto out;
    }
    if (rc == SK_OK)
        rc = sk_config_validate(opts, err, sizeof err);
    if (rc != SK_OK) {
        fprintf(stderr, PROG " migrate: %s\n", err);
        goto out;
    }
    if (sk_init() != SK_OK) {
        fprintf(stderr, PROG ": cannot initialise libsplitkey\n");
        exit_code = 1;
        goto out;
    }
    rc = sk_store_migrate(from, to, stdout, err, sizeof err);
    if (rc != SK_OK) {
        fprintf(stderr, PROG " migrate: %s\n", err);
        exit_code = rc == SK_ERR_ARG ? 2 : 1;
        goto out;
    }
    printf("moved %s to %s\n", from, uri_shown(to));
    exit_code = 0;
out:
    sk_config_free(opts);
    return exit_code;
}

static int cmd_token_approve(int argc, char **argv)
{
    char *dir = NULL, *key_file = NULL, *token_path = NULL, *db = NULL;
    char *journal = NULL;
    sk_opt opts[] = {
        {.name = "dir", .type = SK_OPT_DIR, .value = &dir, .flags = SK_OPT_REQUIRED,
         .arg = "DIR", .help = "the directory made by init (its operators file)"},
        {.name = "operator-key", .type = SK_OPT_FILE, .value = &key_file,
         .flags = SK_OPT_REQUIRED, .arg = "FILE",
         .help = "your operator secret key (operator keygen; mode 0600)"},
        {.name = "token-file", .type = SK_OPT_STRING, .value = &token_path,
         .flags = SK_OPT_REQUIRED, .arg = "FILE",
         .help = "the token the first operator printed (- for standard input)"},
        SERVER_OPT_DB(&db, SERVER_DB_HELP),
        SERVER_OPT_JOURNAL(&journal),
        {0},
    };
    char err[768] = "";
    int exit_code = 2, logged = 0;
    uint8_t op_sk[SK_OPERATOR_SECRET_LEN];
    char *token = NULL, *out = NULL;
    size_t token_len = 0;
    sk_operator *ops = NULL;
    size_t n_ops = 0;
    sk_token_info info;
    memset(&info, 0, sizeof info);
    int rc = sk_config_parse_args(opts, NULL, argc, argv, 2, err, sizeof err);
    if (rc == SK_SVC_HELP) {
        printf("usage: " PROG " token approve --dir DIR --operator-key FILE --token-file FILE\n\n"
               "Four eyes: adds your approval, as a second registered operator, to a\n"
               "registration token another operator requested, and prints the token the\n"
               "person can enrol with.  Refused (and logged) when you requested it\n"
               "yourself or your key is not a registered operator.\n\n");
        sk_config_usage(stdout, opts);
        exit_code = 0;
        goto out;
    }
    if (rc == SK_OK)
        rc = sk_config_validate(opts, err, sizeof err);
    if (rc == SK_OK && sk_init() != SK_OK) {
        snprintf(err, sizeof err, "cannot initialise libsplitkey");
        rc = SK_ERR_INTERNAL;
    }
    if (rc == SK_OK)
        rc = sk_operator_key_load(op_sk, key_file, err, sizeof err);
    if (rc == SK_OK)
        rc = token_file_read(&token, &token_len, token_path, err, sizeof err);
    if (rc == SK_OK)
        rc = operators_of(&ops, &n_ops, dir, err, sizeof err);
    if (rc != SK_OK)
        goto usage_error;
    exit_code = 1;
    if (sk_server_token_read(&info, token, token_len) != SK_OK) {
        fprintf(stderr, PROG " token approve: not a readable registration token (or an "
                        "approval in it does not verify)\n");
        goto out;
    }
    const uint8_t *me = op_sk + 32;
    const sk_operator *self = sk_operators_find(ops, n_ops, me);
    if (self == NULL) {
        audit_journal = journal;
        rc = audit_event(dir, db, SK_EV_APPROVAL_REFUSED_UNKNOWN, info.token_id,
                         sk_operator_event_id(me), false, &logged, err, sizeof err);
        fprintf(stderr, PROG " token approve: refused: %s is not the key of a registered "
                        "operator (operator list)%s\n", key_file,
                logged ? "; logged" : "");
        if (rc != SK_OK)
            fprintf(stderr, PROG " token approve: %s\n", err);
        goto out;
    }
    for (size_t i = 0; i < info.n_operators; i++) {
        if (sodium_memcmp(info.operators[i], me, SK_OPERATOR_PUB_LEN) == 0) {
            audit_journal = journal;
            rc = audit_event(dir, db, SK_EV_APPROVAL_REFUSED_SAME, info.token_id,
                             sk_operator_event_id(me), false, &logged, err, sizeof err);
            fprintf(stderr, PROG " token approve: refused: operator %s approved this token "
                            "already; a second, different operator must approve it%s\n",
                    self->name, logged ? " (logged)" : "");
            if (rc != SK_OK)
                fprintf(stderr, PROG " token approve: %s\n", err);
            goto out;
        }
    }
    if (info.n_operators == 0) {
        fprintf(stderr, PROG " token approve: the token carries no operator's request "
                        "(mint it with token --operator-key)\n");
        goto out;
    }
    if (info.n_operators >= SK_MAX_TOKEN_APPROVALS) {
        fprintf(stderr, PROG " token approve: the token is approved already\n");
        goto out;
    }
    const sk_operator *first = sk_operators_find(ops, n_ops, info.operators[0]);
    if (first == NULL) {
        fprintf(stderr, PROG " token approve: refused: the token was requested by an operator "
                        "who is not registered (any more)\n");
        goto out;
    }
    if ((uint64_t)time(NULL) >= info.expires_at) {
        fprintf(stderr, PROG " token approve: the token has expired\n");
        goto out;
    }
    out = malloc(SK_MAX_TOKEN_LEN + 2);
    size_t written = 0;
    rc = out ? sk_server_token_approve(out, SK_MAX_TOKEN_LEN + 2, &written, token, token_len,
                                       op_sk)
             : SK_ERR_NOMEM;
    if (rc != SK_OK) {
        fprintf(stderr, PROG " token approve: cannot approve: %s\n", sk_strerror(rc));
        goto out;
    }
    audit_journal = journal;
    rc = audit_event(dir, db, SK_EV_TOKEN_APPROVED, info.token_id, sk_operator_event_id(me),
                     false, &logged, err, sizeof err);
    if (rc != SK_OK) {
        fprintf(stderr, PROG " token approve: %s; no token printed\n", err);
        goto out;
    }
    fprintf(stderr, PROG " token approve: subject \"%s\", purpose %s, requested by operator %s, "
                    "approved by operator %s: the token is usable\n",
            info.subject, purpose_name(info.purpose), first->name, self->name);
    printf("%s\n", out);
    exit_code = 0;
    goto out;
usage_error:
    fprintf(stderr, PROG " token approve: %s\n", err);
    exit_code = rc == SK_SVC_ERR_CONFIG || rc == SK_SVC_ERR_PERM ? 2 : 1;
out:
    sodium_memzero(op_sk, sizeof op_sk);
    token_free(token);
    token_free(out);
    free(ops);
    sk_config_free(opts);
    return exit_code;
}

static int cmd_token_dispatch(int argc, char **argv)
{
    if (argc > 2 && !strcmp(argv[2], "approve"))
        return cmd_token_approve(argc - 1, argv + 1);
    return cmd_token(argc, argv);
}

/* ---------------------------------------------------------------- operator */

static int cmd_operator_keygen(int argc, char **argv)
{
    char *out_path = NULL;
    sk_opt opts[] = {
        {.name = "out", .type = SK_OPT_STRING, .value = &out_path, .flags = SK_OPT_REQUIRED,
         .arg = "FILE", .help = "secret key file to write (0600; FILE.pub: the public key)"},
        {0},
    };
    char err[512] = "";
    int exit_code = 2;
    uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    char hex[2 * crypto_sign_SECRETKEYBYTES + 2];
    char *pub_path = NULL;
    int rc = sk_config_parse_args(opts, NULL, argc, argv, 2, err, sizeof err);
    if (rc == SK_SVC_HELP) {
        printf("usage: " PROG " operator keygen --out FILE\n\n"
               "Makes an operator's Ed25519 key pair: FILE (secret, mode 0600, stays\n"
               "with the operator) and FILE.pub (give it to operator add).  Never\n"
               "overwrites a file.\n\n");
        sk_config_usage(stdout, opts);
        exit_code = 0;
        goto out;
    }
    if (rc == SK_OK)
        rc = sk_config_validate(opts, err, sizeof err);
    if (rc != SK_OK) {
        fprintf(stderr, PROG " operator keygen: %s\n", err);
        goto out;
    }
    exit_code = 1;
    if (sk_init() != SK_OK)
        goto out;
    size_t pl = strlen(out_path) + 5;
    pub_path = malloc(pl);
    if (pub_path == NULL)
        goto out;
    snprintf(pub_path, pl, "%s.pub", out_path);
    if (sk_path_exists(out_path) || sk_path_exists(pub_path)) {
        fprintf(stderr, PROG " operator keygen: %s or %s exists; not overwritten\n", out_path,
                pub_path);
        goto out;
    }
    crypto_sign_keypair(pk, sk);
    sk_svc_hex(hex, sk, sizeof sk);
    size_t hl = strlen(hex);
    hex[hl++] = '\n';
    rc = sk_file_write_atomic(out_path, (const uint8_t *)hex, hl, SK_FILE_SECRET_MODE,
                              SK_FILE_NO_REPLACE);
    if (rc == SK_OK) {
        sk_svc_hex(hex, pk, sizeof pk);
        hl = strlen(hex);
        hex[hl++] = '\n';
        rc = sk_file_write_atomic(pub_path, (const uint8_t *)hex, hl, SK_FILE_PUBLIC_MODE,
                                  SK_FILE_NO_REPLACE);
        if (rc != SK_OK)
            (void)remove(out_path);
    }
    if (rc != SK_OK) {
        fprintf(stderr, PROG " operator keygen: cannot write %s: %s\n", out_path,
                sk_svc_strerror(rc));
        goto out;
    }
    printf("%s\n", pub_path);
    exit_code = 0;
out:
    sodium_memzero(sk, sizeof sk);
    sodium_memzero(hex, sizeof hex);
    free(pub_path);
    sk_config_free(opts);
    return exit_code;
}

static int operators_load_any(void **items, size_t *n, const char *path, char *err,
                              size_t err_len)
{
    sk_operator *ops = NULL;
    int rc = sk_operators_load(&ops, n, path, err, err_len);
    *items = ops;
    return rc;
}

static int operators_save_any(const char *path, const void *items, size_t n)
{
    return sk_operators_save(path, items, n);
}

/* add and remove: change DIR/operators (atomically), the event first. */
typedef struct operator_edit {
    bool add;
    char *name, *pub_file;
    sk_operator op;
} operator_edit;

static int operator_check(server_registry_edit *ed, char *err, size_t err_len)
{
    const operator_edit *oe = ed->ctx;
    if (!sk_operator_name_ok(oe->name)) {
        snprintf(err, err_len, "--name %s: 1-64 characters of A-Z a-z 0-9 . _ - @", oe->name);
        return SK_SVC_ERR_CONFIG;
    }
    if (!oe->add && oe->pub_file != NULL) {
        snprintf(err, err_len, "--pub: not used by operator remove");
        return SK_SVC_ERR_CONFIG;
    }
    return SK_OK;
}

static int operator_apply(server_registry_edit *ed)
{
    operator_edit *oe = ed->ctx;
    const char *cmd = ed->reg.cmd;
    sk_operator *ops = ed->reg.items;
    size_t n = ed->reg.n, at = n;
    char err[768] = "";
    for (size_t i = 0; i < n; i++)
        if (!strcmp(ops[i].name, oe->name))
            at = i;
    if (oe->add) {
        if (sk_operator_pub_load(oe->op.pub, oe->pub_file, err, sizeof err) != SK_OK) {
            fprintf(stderr, PROG " %s: %s\n", cmd, err);
            return 2;
        }
        if (at != n || sk_operators_find(ops, n, oe->op.pub) != NULL) {
            fprintf(stderr, PROG " %s: an operator with this name or key is registered "
                            "already\n", cmd);
            return 1;
        }
        if (n >= SK_OPERATORS_MAX) {
            fprintf(stderr, PROG " %s: too many operators\n", cmd);
            return 1;
        }
        memcpy(oe->op.name, oe->name, strlen(oe->name) + 1);
        ops[n++] = oe->op;
    } else {
        if (at == n) {
            fprintf(stderr, PROG " %s: no operator named %s\n", cmd, oe->name);
            return 1;
        }
        oe->op = ops[at];
        memmove(&ops[at], &ops[at + 1], (n - at - 1) * sizeof *ops);
        n--;
    }
    ed->reg.n = n;
    ed->kind = oe->add ? SK_EV_OPERATOR_ADDED : SK_EV_OPERATOR_REMOVED;
    ed->detail = sk_operator_event_id(oe->op.pub);
    return 0;
}

static void operator_done(server_registry_edit *ed, int logged)
{
    const operator_edit *oe = ed->ctx;
    printf("operator %s %s (id %lld)%s\n", oe->op.name, oe->add ? "added" : "removed",
           (long long)ed->detail, logged ? "" : "; no store yet, so not in the event log");
}

/* "add" or "remove" (argv[1], as sk_command_dispatch passes it) */
static int cmd_operator_change(int argc, char **argv)
{
    const bool add = !strcmp(argv[1], "add");
    char *dir = NULL, *db = NULL, *journal = NULL;
    operator_edit oe = {.add = add};
    sk_opt opts[] = {
        SERVER_OPT_DIR(&dir),
        {.name = "name", .type = SK_OPT_STRING, .value = &oe.name, .flags = SK_OPT_REQUIRED,
         .arg = "NAME", .help = "the operator's name (1-64 of A-Z a-z 0-9 . _ - @)"},
        {.name = "pub", .type = SK_OPT_FILE, .value = &oe.pub_file,
         .flags = add ? SK_OPT_REQUIRED : 0u, .arg = "FILE",
         .help = "the operator's public key (FILE.pub of operator keygen)"},
        SERVER_OPT_DB(&db, SERVER_DB_HELP),
        SERVER_OPT_JOURNAL(&journal),
        {0},
    };
    server_registry_edit ed = {
        .reg = {.cmd = add ? "operator add" : "operator remove", .file = SK_OPERATORS_FILE,
                .load = operators_load_any, .save = operators_save_any},
        .help = add ? "usage: " PROG " operator add --dir DIR --name NAME --pub FILE\n\n"
                      "Registers an operator who may request and approve registration\n"
                      "tokens (four eyes).  Logged in the event log.\n\n"
                    : "usage: " PROG " operator remove --dir DIR --name NAME\n\n"
                      "Removes an operator: tokens that operator approved no longer enrol,\n"
                      "even those approved before.  Logged in the event log.\n\n",
        .opts = opts, .dir = &dir, .db = &db, .journal = &journal,
        .check = operator_check, .change = operator_apply, .done = operator_done, .ctx = &oe};
    return server_registry_edit_run(&ed, argc, argv);
}

static void operators_print(const void *items, size_t n)
{
    const sk_operator *ops = items;
    for (size_t i = 0; i < n; i++) {
        char hex[2 * SK_OPERATOR_PUB_LEN + 1];
        sk_svc_hex(hex, ops[i].pub, SK_OPERATOR_PUB_LEN);
        printf("%s %lld %s\n", ops[i].name, (long long)sk_operator_event_id(ops[i].pub), hex);
    }
}

static int cmd_operator_list(int argc, char **argv)
{
    server_registry reg = {.cmd = "operator list", .file = SK_OPERATORS_FILE,
                           .load = operators_load_any, .save = operators_save_any};
    return server_registry_list_run(&reg,
                                    "usage: " PROG " operator list --dir DIR\n\n"
                                    "Prints the registered operators: name, id (as in the "
                                    "event log) and\npublic key.\n\n",
                                    argc, argv, operators_print);
}

static void operator_usage(FILE *out)
{
    fprintf(out, "usage: " PROG " operator keygen|add|list|remove [OPTIONS]\n"
                 "\n"
                 "The registration operators (four eyes: a token enrols only with the\n"
                 "approvals of two different registered operators).\n"
                 "  keygen --out FILE             make an operator key pair\n"
                 "  add --dir DIR --name N --pub FILE   register an operator\n"
                 "  list --dir DIR                the registered operators\n"
                 "  remove --dir DIR --name N     remove an operator\n");
}

static int cmd_operator(int argc, char **argv)
{
    static const sk_command sub[] = {
        {"keygen", cmd_operator_keygen},
        {"add", cmd_operator_change},
        {"list", cmd_operator_list},
        {"remove", cmd_operator_change},
        {NULL, NULL},
    };
    return sk_command_dispatch(argc - 1, argv + 1, PROG " operator", sub, operator_usage);
}

int main(int argc, char **argv)
{
    static const sk_command commands[] = {
        {"init", cmd_init},
        {"run", cmd_run},
        {"token", cmd_token_dispatch},
        {"operator", cmd_operator},
        {"rp", cmd_rp},
        {"check", cmd_check},
        {"backup", cmd_backup},
        {"restore", cmd_restore},
        {"migrate", cmd_migrate},
        {NULL, NULL},
    };
    return sk_command_dispatch(argc, argv, PROG, commands, usage);
}
