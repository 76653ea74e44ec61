/* SPDX-License-Identifier: Apache-2.0 */
/* The offline commands of splitkey-server kept outside main.c (cmd_rp.c: the
 * relying-party registry) and what they share with the ones in main.c: a
 * registry file of DIR loaded, changed and saved atomically after its audit
 * event is logged. */
#ifndef SK_SERVER_CMD_H
#define SK_SERVER_CMD_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define PROG "splitkey-server"

#define RP_TLS_CERT "rp-tls.crt"
#define RP_TLS_KEY "rp-tls.key"

/* One registry file of DIR (operators, relying parties) being changed by the
 * command cmd ("operator add": the prefix of its messages). */
typedef struct server_registry {
    const char *cmd;
    const char *file; /* its name in DIR */
    /* reads path into a new array (*items, *n entries) */
    int (*load)(void **items, size_t *n, const char *path, char *err, size_t err_len);
    /* writes the n entries of items to path atomically */
    int (*save)(const char *path, const void *items, size_t n);
    char *path;  /* DIR/file, after server_registry_load */
    void *items; /* the entries, after server_registry_load */
    size_t n;
} server_registry;

/* Loads DIR/r->file into r->path, r->items, r->n; on failure prints the error
 * as "PROG cmd: ..." and returns it. */
int server_registry_load(server_registry *r, const char *dir);

/* Appends the event (kind, id, detail) to the event log of DIR (--db,
 * --journal as given to the command; a store not made yet is no error,
 * *logged 0), then saves r->items, r->n to r->path.  On failure prints why
 * and returns it: an event that cannot be logged changes nothing. */
int server_registry_commit(server_registry *r, const char *dir, const char *db,
                           const char *journal, uint32_t kind, const uint8_t *id,
                           int64_t detail, int *logged);

/* Frees r->path and r->items. */
void server_registry_free(server_registry *r);

/* The options --dir, --db (with its help text) and --journal of the offline
 * commands that change DIR, as entries of an sk_opt table. */
#define SERVER_OPT_DIR(var)                                                              \
    {.name = "dir", .type = SK_OPT_DIR, .value = (var), .flags = SK_OPT_REQUIRED,        \
     .arg = "DIR", .help = "the directory made by init"}
#define SERVER_DB_HELP                                                                   \
    "store for the event log: sqlite:PATH or postgresql://... (default sqlite:DIR/server.db)"
#define SERVER_OPT_DB(var, text)                                                         \
    {.name = "db", .type = SK_OPT_STRING, .value = (var), .arg = "URI", .help = (text)}
#define SERVER_OPT_JOURNAL(var)                                                          \
    {.name = "journal", .type = SK_OPT_STRING, .value = (var), .arg = "FILE",            \
     .help = "run's commit journal, when it keeps one (as given to run)"}

/* A list command on a registry (--dir DIR only): help (the text before the
 * options) for --help, else print(items, n) on the loaded entries.  The exit
 * code: 0, or 2 with the error printed. */
int server_registry_list_run(server_registry *r, const char *help, int argc, char **argv,
                             void (*print)(const void *items, size_t n));

/* One add or remove command on a registry: the options parsed and checked,
 * the registry loaded, changed, its event logged, the registry saved. */
typedef struct server_registry_edit {
    server_registry reg;
    const char *help; /* --help: the text before the options */
    sk_opt *opts;     /* with --dir, --db, --journal among them */
    char **dir, **db, **journal;
    /* checks what opts cannot: SK_OK or an error in err */
    int (*check)(struct server_registry_edit *ed, char *err, size_t err_len);
    /* changes reg.items, reg.n and sets the event: 0, or the exit code of a
     * refusal it printed */
    int (*change)(struct server_registry_edit *ed);
    /* prints what was done */
    void (*done)(struct server_registry_edit *ed, int logged);
    uint32_t kind;     /* the event */
    const uint8_t *id; /* its id, or NULL */
    int64_t detail;
    void *ctx; /* the command's own */
} server_registry_edit;

/* Runs ed on argv: the exit code (0 done, 1 refused, 2 bad options). */
int server_registry_edit_run(server_registry_edit *ed, int argc, char **argv);

/* splitkey-server rp add|list|remove|pin (cmd_rp.c) */
int cmd_rp(int argc, char **argv);

#endif
