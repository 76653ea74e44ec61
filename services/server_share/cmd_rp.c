/* SPDX-License-Identifier: Apache-2.0 */
/* splitkey-server rp add|list|remove|pin: the registry of the relying
 * parties of the HTTPS listener (DIR/relying-parties.json, rp_registry.h)
 * and the pin of the listener's certificate. */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "command.h"
#include "config.h"
#include "fileio.h"
#include "handler.h"
#include "rp_https.h"
#include "rp_registry.h"
#include "server_cmd.h"
#include "splitkey/splitkey.h"
#include "store.h"
#include "svc_error.h"
#include "svc_hex.h"

static int rp_load_any(void **items, size_t *n, const char *path, char *err, size_t err_len)
{
    sk_rp_entry *rps = NULL;
    int rc = sk_rp_registry_load(&rps, n, path, err, err_len);
    *items = rps;
    return rc;
}

static int rp_save_any(const char *path, const void *items, size_t n)
{
    return sk_rp_registry_save(path, items, n);
}

/* add and remove: change DIR/relying-parties.json (atomically), the event
 * first; a running server reads the file again by itself. */
typedef struct rp_edit {
    bool add;
    char *uuid_in, *names, *cert, *cert_sha, *addresses, *levels, *purposes;
    unsigned rate, pending;
    sk_rp_entry e; /* the one added or removed */
} rp_edit;

/* Checks the options and makes the entry to add (or the UUID to remove). */
static int rp_check(server_registry_edit *ed, char *err, size_t err_len)
{
    rp_edit *x = ed->ctx;
    const bool add = x->add;
    const char *uuid_in = x->uuid_in, *names = x->names, *cert = x->cert;
    const char *cert_sha = x->cert_sha, *addresses = x->addresses, *levels = x->levels;
    const char *purposes = x->purposes;
    int rc = SK_OK;
    if (rc == SK_OK && add) {
        int creds = (cert != NULL) + (cert_sha != NULL) + (addresses != NULL);
        if (creds != 1) {
            snprintf(err, err_len, "give exactly one of --cert, --cert-sha256 and --addresses");
            rc = SK_SVC_ERR_CONFIG;
        }
    } else if (rc == SK_OK && (names || cert || cert_sha || addresses || levels || purposes)) {
        snprintf(err, err_len, "rp remove takes only --dir, --uuid, --db and --journal");
        rc = SK_SVC_ERR_CONFIG;
    }
    if (rc == SK_OK && uuid_in != NULL && !sk_rp_uuid_parse(x->e.uuid_bin, x->e.uuid, uuid_in)) {
        snprintf(err, err_len, "--uuid %s: expected 8-4-4-4-12 hex digits", uuid_in);
        rc = SK_SVC_ERR_CONFIG;
    }
    if (rc == SK_OK && add) {
        if (uuid_in == NULL) {
            uint8_t r[16];
            char text[SK_RP_UUID_LEN + 1], hex[33];
            randombytes_buf(r, sizeof r);
            r[6] = (uint8_t)((r[6] & 0x0f) | 0x40);
            r[8] = (uint8_t)((r[8] & 0x3f) | 0x80);
            sk_svc_hex(hex, r, sizeof r);
            snprintf(text, sizeof text, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12,
                     hex + 16, hex + 20);
            (void)sk_rp_uuid_parse(x->e.uuid_bin, x->e.uuid, text);
        }
        for (const char *p = names; rc == SK_OK && p != NULL;) {
            const char *bar = strchr(p, '|');
            size_t len = bar ? (size_t)(bar - p) : strlen(p);
            char one[SK_RP_NAME_MAX + 2] = "";
            if (len <= SK_RP_NAME_MAX) {
                memcpy(one, p, len);
                one[len] = '\0';
            }
            if (x->e.n_names == SK_RP_NAMES_MAX || len > SK_RP_NAME_MAX || !sk_rp_name_ok(one)) {
                snprintf(err, err_len, "--names: 1 to %u names of 1-32 bytes of printable "
                         "UTF-8, separated by '|'", SK_RP_NAMES_MAX);
                rc = SK_SVC_ERR_CONFIG;
                break;
            }
            memcpy(x->e.names[x->e.n_names++], one, len + 1);
            p = bar ? bar + 1 : NULL;
        }
        if (rc == SK_OK && cert != NULL && sk_https_cert_sha256(x->e.cert_sha256, cert) != SK_OK) {
            snprintf(err, err_len, "--cert %s: no certificate in it", cert);
            rc = SK_SVC_ERR_CONFIG;
        }
        if (rc == SK_OK && cert_sha != NULL &&
            sk_svc_unhex(x->e.cert_sha256, 32, cert_sha, strlen(cert_sha)) != SK_OK) {
            snprintf(err, err_len, "--cert-sha256: expected 64 hex digits");
            rc = SK_SVC_ERR_CONFIG;
        }
        for (const char *p = addresses; rc == SK_OK && p != NULL;) {
            const char *comma = strchr(p, ',');
            size_t len = comma ? (size_t)(comma - p) : strlen(p);
            char one[SK_RP_ADDR_MAX + 1];
            unsigned char bin[16];
            if (len == 0 || len > SK_RP_ADDR_MAX || x->e.n_addrs == SK_RP_ADDRS_MAX) {
                rc = SK_SVC_ERR_CONFIG;
            } else {
                memcpy(one, p, len);
                one[len] = '\0';
                if (inet_pton(AF_INET, one, bin) != 1 && inet_pton(AF_INET6, one, bin) != 1)
                    rc = SK_SVC_ERR_CONFIG;
                else
                    memcpy(x->e.addrs[x->e.n_addrs++], one, len + 1);
            }
            if (rc != SK_OK)
                snprintf(err, err_len, "--addresses: 1 to %u IP addresses, comma-separated",
                         SK_RP_ADDRS_MAX);
            x->e.by_address = true;
            p = comma ? comma + 1 : NULL;
        }
        x->e.levels = SK_RP_LEVEL_ADVANCED | SK_RP_LEVEL_QUALIFIED;
        x->e.purposes = SK_RP_PURPOSE_AUTH | SK_RP_PURPOSE_SIGN | SK_RP_PURPOSE_CERTCHOICE;
        if (rc == SK_OK && levels != NULL && !sk_rp_levels_parse(&x->e.levels, levels)) {
            snprintf(err, err_len, "--levels %s: expected ADVANCED, QUALIFIED or both", levels);
            rc = SK_SVC_ERR_CONFIG;
        }
        if (rc == SK_OK && purposes != NULL && !sk_rp_purposes_parse(&x->e.purposes, purposes)) {
            snprintf(err, err_len, "--purposes %s: expected a list of auth, sign, certchoice, seal",
                     purposes);
            rc = SK_SVC_ERR_CONFIG;
        }
        x->e.rate = x->rate;
        x->e.pending = x->pending;
    }
    return rc;
}

static int rp_apply(server_registry_edit *ed)
{
    rp_edit *x = ed->ctx;
    const char *cmd = ed->reg.cmd;
    sk_rp_entry *rps = ed->reg.items;
    size_t n = ed->reg.n;
    const sk_rp_entry *old = sk_rp_registry_find(rps, n, x->e.uuid);
    if (x->add) {
        if (old != NULL) {
            fprintf(stderr, PROG " %s: a relying party with UUID %s is registered already\n",
                    cmd, x->e.uuid);
            return 1;
        }
        if (n >= SK_RP_MAX) {
            fprintf(stderr, PROG " %s: too many relying parties\n", cmd);
            return 1;
        }
        rps[n++] = x->e;
    } else {
        if (old == NULL) {
            fprintf(stderr, PROG " %s: no relying party with UUID %s\n", cmd, x->e.uuid);
            return 1;
        }
        size_t at = (size_t)(old - rps);
        x->e = rps[at];
        memmove(&rps[at], &rps[at + 1], (n - at - 1) * sizeof *rps);
        n--;
    }
    ed->reg.n = n;
    ed->kind = x->add ? SK_EV_RP_ADDED : SK_EV_RP_REMOVED;
    ed->id = x->e.uuid_bin;
    ed->detail = x->add ? (int64_t)x->e.purposes : 0;
    return 0;
}

static void rp_done(server_registry_edit *ed, int logged)
{
    const rp_edit *x = ed->ctx;
    printf("relying party %s %s%s\n", x->e.uuid, x->add ? "added" : "removed",
           logged ? "" : "; no store yet, so not in the event log");
}

/* "add" or "remove" (argv[1], as sk_command_dispatch passes it) */
static int cmd_rp_change(int argc, char **argv)
{
    const bool add = !strcmp(argv[1], "add");
    char *dir = NULL, *db = NULL, *journal = NULL;
    rp_edit x = {.add = add, .rate = SK_RP_DEFAULT_RATE, .pending = SK_RP_DEFAULT_PENDING};
    sk_opt opts[] = {
        SERVER_OPT_DIR(&dir),
        {.name = "uuid", .type = SK_OPT_STRING, .value = &x.uuid_in,
         .flags = add ? 0u : SK_OPT_REQUIRED, .arg = "UUID",
         .help = add ? "its relyingPartyUUID (default: a new random one, printed)"
                     : "the relying party's UUID"},
        {.name = "names", .type = SK_OPT_STRING, .value = &x.names,
         .flags = add ? SK_OPT_REQUIRED : 0u, .arg = "LIST",
         .help = "the names it may show, separated by '|' (1-32 bytes each, at most 8); "
                 "relyingPartyName must be one of them"},
        {.name = "cert", .type = SK_OPT_FILE, .value = &x.cert, .arg = "FILE",
         .help = "its TLS client certificate (PEM or DER): the credential is its SHA-256"},
        {.name = "cert-sha256", .type = SK_OPT_STRING, .value = &x.cert_sha, .arg = "HEX",
         .help = "the same given as the certificate's SHA-256 (64 hex digits)"},
        {.name = "addresses", .type = SK_OPT_STRING, .value = &x.addresses, .arg = "LIST",
         .help = "instead of a certificate: the UUID plus these source addresses "
                 "(comma-separated IPs) authenticate it (weaker: doc/security.md)"},
        {.name = "levels", .type = SK_OPT_STRING, .value = &x.levels, .arg = "LIST",
         .help = "certificate levels it may ask for: ADVANCED,QUALIFIED (default both)"},
        {.name = "purposes", .type = SK_OPT_STRING, .value = &x.purposes, .arg = "LIST",
         .help = "requests it may make: auth,sign,certchoice,seal (default auth,sign,certchoice)"},
        {.name = "rate", .type = SK_OPT_UINT, .value = &x.rate, .min = 1, .max = 100000,
         .arg = "N", .help = "session-creating requests per second at most (default 10)"},
        {.name = "pending", .type = SK_OPT_UINT, .value = &x.pending, .min = 1, .max = 100000,
         .arg = "N", .help = "its sessions running at once at most (default 50)"},
        SERVER_OPT_DB(&db, "store for the event log: sqlite:PATH (default sqlite:DIR/server.db)"),
        SERVER_OPT_JOURNAL(&journal),
        {0},
    };
    server_registry_edit ed = {
        .reg = {.cmd = add ? "rp add" : "rp remove", .file = SK_RP_REGISTRY_FILE,
                .load = rp_load_any, .save = rp_save_any},
        .help = add ? "usage: " PROG " rp add --dir DIR --names LIST (--cert FILE | "
                      "--cert-sha256 HEX | --addresses LIST) [OPTIONS]\n\n"
                      "Registers a relying party of the HTTPS listener (--rp-listen).  A\n"
                      "running server reads the registry again by itself.  Logged in the\n"
                      "event log.\n\n"
                    : "usage: " PROG " rp remove --dir DIR --uuid UUID\n\n"
                      "Removes a relying party: its next request is refused (401).  Logged\n"
                      "in the event log.\n\n",
        .opts = opts, .dir = &dir, .db = &db, .journal = &journal,
        .check = rp_check, .change = rp_apply, .done = rp_done, .ctx = &x};
    return server_registry_edit_run(&ed, argc, argv);
}

static void rp_print(const void *items, size_t n)
{
    const sk_rp_entry *rps = items;
    for (size_t i = 0; i < n; i++) {
        const sk_rp_entry *e = &rps[i];
        char lv[64], pu[64], cred[1024] = "";
        sk_rp_levels_text(lv, sizeof lv, e->levels);
        sk_rp_purposes_text(pu, sizeof pu, e->purposes);
        if (e->by_address) {
            size_t at = (size_t)snprintf(cred, sizeof cred, "addr:");
            for (size_t k = 0; k < e->n_addrs && at < sizeof cred; k++)
                at += (size_t)snprintf(cred + at, sizeof cred - at, "%s%s", k ? "," : "",
                                       e->addrs[k]);
        } else {
            char hex[65];
            sk_svc_hex(hex, e->cert_sha256, 32);
            snprintf(cred, sizeof cred, "cert:%s", hex);
        }
        printf("%s ", e->uuid);
        for (size_t k = 0; k < e->n_names; k++)
            printf("%s%s", k ? "|" : "\"", e->names[k]);
        printf("\" %s %s %s rate=%u pending=%u\n", cred, lv, pu, e->rate, e->pending);
    }
}

static int cmd_rp_list(int argc, char **argv)
{
    server_registry reg = {.cmd = "rp list", .file = SK_RP_REGISTRY_FILE, .load = rp_load_any,
                           .save = rp_save_any};
    return server_registry_list_run(&reg,
                                    "usage: " PROG " rp list --dir DIR\n\n"
                                    "Prints the registered relying parties, one a line: UUID, "
                                    "names,\ncredential (cert:SHA-256 or addr:LIST), levels, "
                                    "purposes, rate, pending.\n\n",
                                    argc, argv, rp_print);
}

static int cmd_rp_pin(int argc, char **argv)
{
    char *dir = NULL, *cert = NULL;
    sk_opt opts[] = {
        {.name = "dir", .type = SK_OPT_DIR, .value = &dir, .flags = SK_OPT_REQUIRED,
         .arg = "DIR", .help = "the directory made by init"},
        {.name = "rp-tls-cert", .type = SK_OPT_FILE, .value = &cert, .arg = "FILE",
         .help = "the certificate run uses, when not DIR/rp-tls.crt"},
        {0},
    };
    char err[768] = "", *path = NULL;
    int rc = sk_config_parse_args(opts, NULL, argc, argv, 2, err, sizeof err);
    if (rc == SK_SVC_HELP) {
        printf("usage: " PROG " rp pin --dir DIR [--rp-tls-cert FILE]\n\n"
               "Prints the SHA-256 of the relying-party listener's certificate (DER), in\n"
               "hex and in base64: what a relying party pins.\n\n");
        sk_config_usage(stdout, opts);
        sk_config_free(opts);
        return 0;
    }
    if (rc == SK_OK)
        rc = sk_config_validate(opts, err, sizeof err);
    if (rc == SK_OK && (path = cert ? strdup(cert) : sk_path_join(dir, RP_TLS_CERT)) == NULL)
        rc = SK_ERR_NOMEM;
    uint8_t fp[32];
    if (rc == SK_OK && (rc = sk_https_cert_sha256(fp, path)) != SK_OK)
        snprintf(err, sizeof err, "%s: %s", path,
                 rc == SK_ERR_CERT ? "no certificate in it" : sk_svc_strerror(rc));
    if (rc != SK_OK) {
        fprintf(stderr, PROG " rp pin: %s\n", err);
        free(path);
        sk_config_free(opts);
        return sk_svc_exit_code(rc);
    }
    char hex[65], b64[64];
    sk_svc_hex(hex, fp, sizeof fp);
    sodium_bin2base64(b64, sizeof b64, fp, sizeof fp, sodium_base64_VARIANT_ORIGINAL);
    printf("sha256 %s\nsha256-base64 %s\n", hex, b64);
    free(path);
    sk_config_free(opts);
    return 0;
}

static void rp_usage(FILE *out)
{
    fprintf(out, "usage: " PROG " rp add|list|remove|pin [OPTIONS]\n"
                 "\n"
                 "The relying parties of the HTTPS listener (run --rp-listen).\n"
                 "  add --dir DIR --names LIST --cert FILE   register one\n"
                 "  list --dir DIR                the registered ones\n"
                 "  remove --dir DIR --uuid UUID  remove one\n"
                 "  pin --dir DIR                 the listener certificate's SHA-256\n");
}

int cmd_rp(int argc, char **argv)
{
    static const sk_command sub[] = {
        {"add", cmd_rp_change},
        {"list", cmd_rp_list},
        {"remove", cmd_rp_change},
        {"pin", cmd_rp_pin},
        {NULL, NULL},
    };
    return sk_command_dispatch(argc - 1, argv + 1, PROG " rp", sub, rp_usage);
}
