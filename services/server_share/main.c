/* SPDX-License-Identifier: Apache-2.0 */
/*
 * splitkey-server - the share server (doc/operations.md).
 *
 *   splitkey-server init --dir DIR
 *   splitkey-server run --dir DIR --listen URL [--db sqlite:PATH]
 *       [--ca URL --ca-cert FILE] [--open-enrolment] [--workers N] ...
 *   splitkey-server token --dir DIR --subject "..." --purpose auth|sign|seal
 *   splitkey-server check --dir DIR [--db sqlite:PATH]
 *   splitkey-server backup --dir DIR --to FILE [--db sqlite:PATH]
 *   splitkey-server restore --dir DIR --from BACKUP [--journal FILE] [--db ...]
 *
 * Exit status: 0 success (and after SIGTERM/SIGINT), 2 usage or
 * configuration error, 1 any other failure.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backup.h"
#include "command.h"
#include "config.h"
#include "connguard.h"
#include "fileio.h"
#include "handler.h"
#include "hwm.h"
#include "identity.h"
#include "log.h"
#include "longpoll.h"
#include "metrics.h"
#include "pool.h"
#include "ra.h"
#include "rep_server.h"
#include "seal.h"
#include "signals.h"
#include "splitkey/splitkey.h"
#include "store.h"
#include "storebind.h"
#include "svc_error.h"

#define PROG "splitkey-server"

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
            "  token --dir DIR ...   mint a one-time registration token\n"
            "  check --dir DIR       check the store without writing to it\n"
            "  backup --dir DIR --to FILE\n"
            "                        an online copy of the store, while servers run\n"
            "  restore --dir DIR --from BACKUP [--journal FILE]\n"
            "                        put a backup back (and replay the commit journal)\n"
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
    printf("created the server identity in %s\n"
           "  %s/server.pub   public keys: give it to clients and to splitkey-ca add-ra\n"
           "  %s/server.conf  configuration\n",
           dir, dir, dir);
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
    if (strncmp(db, "postgresql://", 13) == 0 || strncmp(db, "postgres://", 11) == 0) {
        snprintf(err, err_len, "--db %s: the PostgreSQL store is not part of this build", db);
        return SK_SVC_ERR_CONFIG;
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
         .help = "store: sqlite:PATH (default sqlite:DIR/server.db)"},
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
        {.name = "ready-file", .type = SK_OPT_STRING, .value = &o.ready_file,
         .flags = SK_OPT_FLAG_ONLY, .arg = "FILE",
         .help = "write the bound URL here once listening"},
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
        fprintf(stderr, PROG ": cannot open the store %s: %s%s\n", db_uri, sk_strerror(rc),
                store_access_hint(db_uri));
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
        fprintf(stderr, PROG ": store %s: %s\n", db_uri, err);
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

    sk_share_server share = {
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
    hwm = sk_hwm_new();
    if (hwm == NULL) {
        fprintf(stderr, PROG ": %s\n", sk_strerror(SK_ERR_NOMEM));
        goto out;
    }
    share.hwm = hwm;
    rc = sk_share_read_restore_mark(&share);
    if (rc != SK_OK) {
        fprintf(stderr, PROG ": store %s: its restore mark: %s\n", db_uri, sk_strerror(rc));
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
                  url, sk_rep_server_workers(srv), max_conns, per_peer, idle_s, db_uri,
                  o.open_enrolment ? "open" : "by token", o.ca ? o.ca : "none");
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
        char line[300];
        int n = snprintf(line, sizeof line, "%s\n", url);
        rc = sk_file_write_atomic(o.ready_file, (const uint8_t *)line, (size_t)n,
                                  SK_FILE_PUBLIC_MODE, 0);
        if (rc != SK_OK) {
            fprintf(stderr, PROG ": cannot write %s\n", o.ready_file);
            goto out;
        }
    }

    int sig = sk_signals_wait();
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
    sk_rep_server_stop(srv);    /* no request in flight after this */
    sk_metrics_http_stop(metrics); /* before the store its health check reads */
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
         .help = "store: sqlite:PATH (default sqlite:DIR/server.db)"},
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
    if (!sk_path_exists(uri + 7)) {
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
        fprintf(stderr, PROG " check: %s: %s\n", uri, err);
        exit_code = 1;
        goto out;
    }
    printf("%s: in order\n", uri);
    exit_code = 0;
out:
    sk_store_close(store);
    free(uri);
    sk_config_free(opts);
    return exit_code;
}

static int cmd_token(int argc, char **argv)
{
    char *dir = NULL, *subject = NULL, *purpose_s = NULL;
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
        {0},
    };
    char err[512] = "";
    int exit_code = 2;
    sk_server_identity *identity = NULL;
    sk_server_ident *ident = NULL;
    char *token = NULL;
    int rc = sk_config_parse_args(opts, NULL, argc, argv, 2, err, sizeof err);
    if (rc == SK_SVC_HELP) {
        printf("usage: " PROG " token --dir DIR --subject \"C=..,GN=..,SN=..,"
               "serialNumber=..\" --purpose auth|sign|seal\n\n"
               "Prints a one-time registration token for a person whose identity an\n"
               "operator has verified.  The device passes it to enrolment; the server\n"
               "accepts it once, for this subject and purpose, until it expires.\n"
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
    rc = sk_share_ident_load(&ident, identity);
    if (rc != SK_OK) {
        snprintf(err, sizeof err, "%s: not a usable server identity: %s", dir, sk_strerror(rc));
        goto usage_error;
    }
    token = malloc(SK_MAX_TOKEN_LEN + 1);
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
    printf("%s\n", token);
    exit_code = 0;
    goto out;
usage_error:
    fprintf(stderr, PROG " token: %s\n", err);
    exit_code = 2;
out:
    free(token);
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
        if (sk_restore_run(uri + 7, dir, from, journal, stdout, err, sizeof err) != SK_OK) {
            fprintf(stderr, PROG " restore: %s; nothing was changed\n", err);
            exit_code = 1;
        }
    }
    free(uri);
    sk_config_free(opts);
    return exit_code;
}

int main(int argc, char **argv)
{
    static const sk_command commands[] = {
        {"init", cmd_init},
        {"run", cmd_run},
        {"token", cmd_token},
        {"check", cmd_check},
        {"backup", cmd_backup},
        {"restore", cmd_restore},
        {NULL, NULL},
    };
    return sk_command_dispatch(argc, argv, PROG, commands, usage);
}
