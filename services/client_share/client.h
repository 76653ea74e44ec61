/* SPDX-License-Identifier: Apache-2.0 */
/*
 * client.h - what the commands of splitkey-client share, and each command's
 * entry point.
 *
 *   client.c              one command's state (client): releasing it,
 *                         reporting a failure as its exit status,
 *                         the options, the state directory and its keys
 *   exchange.c            the client layer (splitkey/client.h) over this
 *                         program: its exchange (the reply timeout, the
 *                         connection made at once), its persist (devstate.c)
 *                         and its progress messages; finishing an earlier
 *                         run's request, fetching sessions
 *   cmd_enrol.c           enrol
 *   cmd_sign.c            sign
 *   cmd_sessions.c        sessions
 *   cmd_approve_refuse.c  approve, refuse
 *   cmd_pubkey_cert.c     pubkey, cert
 *   cmd_status.c          status
 *   cmd_revoke.c          revoke
 *   main.c                the command table, the usage and main()
 *
 * Every command returns its exit status (CU_EXIT_*, cliutil.h) and releases
 * its client with cl_end() on every path, which wipes the PIN, the storage
 * key and every request buffer.
 */
#ifndef SK_CLIENT_CLIENT_H
#define SK_CLIENT_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cliutil.h"
#include "config.h"
#include "devstate.h"
#include "pin.h"
#include "req_client.h"
#include "splitkey/client.h"
#include "splitkey/device.h"

#define PROG "splitkey-client"
#define CALL_TIMEOUT_MS 20000u
#define LOST_REPLY_RETRIES 2

/* The reply timeout from SPLITKEY_CLIENT_TIMEOUT_MS (main() checked it). */
#define TIMEOUT_ENV "SPLITKEY_CLIENT_TIMEOUT_MS"
#define TIMEOUT_MIN_MS 100ul
#define TIMEOUT_MAX_MS 600000ul

/* Everything one command works with; cl_end() releases and wipes it. */
typedef struct client {
    devstate st;
    bool st_open;
    sk_client *sk;            /* the loaded key, behind the client layer */
    char *url;
    sk_req_client *net;
    bool enrolling;           /* what the progress messages speak of */
    cu_pin pin;
    bool have_pin;
    sk_purpose pin_purpose;   /* the key the PIN was read for */
    const char *pin_file;     /* approve: where to read a PIN an earlier request needs */
    bool pin_on_demand;
    sk_key_status status;
    char err[1024];
    /* what cl_settle_pending() finished: an earlier run's approval or
     * refusal of a session, its outcome and (an approval's) signature */
    sk_client_resumed settled;
} client;

/* The options of every command; each command's table fills some of them. */
typedef struct cmd_opts {
    char *state, *server, *server_pub, *purpose, *pin_file, *profile, *token, *token_file,
        *subject;
    char *in, *out, *scheme, *hash, *text;
    const char *session;
    char *vc;     /* approve: the verification code picked */
    bool confirm; /* approve: the confirmation message was read and confirmed */
} cmd_opts;

#define OPT_STATE(o)                                                                       \
    {.name = "state", .type = SK_OPT_STRING, .value = &(o).state, .flags = SK_OPT_REQUIRED, \
     .arg = "DIR", .help = "the device's state directory"}
#define OPT_PURPOSE(o)                                                                      \
    {.name = "purpose", .type = SK_OPT_STRING, .value = &(o).purpose,                       \
     .flags = SK_OPT_REQUIRED, .arg = "auth|sign",                                          \
     .help = "which key: authentication (PIN1) or signing (PIN2)"}
#define OPT_PIN(o)                                                                          \
    {.name = "pin-file", .type = SK_OPT_STRING, .value = &(o).pin_file, .arg = "FILE",      \
     .help = "read the PIN from FILE ('-': standard input); default: ask on the terminal"}

#define usage_error(...) cu_usage_error(PROG, __VA_ARGS__)

/* ------------------------------------------------------------ client.c */

/* The time now, in seconds since the Unix epoch. */
uint64_t cl_now_s(void);

/* The loaded key (NULL when none is). */
const sk_device_key *cl_key(const client *c);
/* Releases the loaded key, its server URL and the connection to it. */
void cl_drop_key(client *c);
/* Releases everything c holds (closing the state directory) and wipes it. */
void cl_end(client *c);

/* What a destroyed key's reason and a key's state are called in messages. */
const char *cl_reason_name(sk_destroy_reason r);
const char *cl_state_name(sk_key_state s);

/* Prints what went wrong in what (a short phrase) and returns the exit
 * status it calls for (cliutil.h). */
int cl_report(const client *c, int rc, const char *what);

/* Reads the PIN for purpose (pin.h) into c->pin; the reason of a failure is
 * in c->err. */
int cl_get_pin(client *c, sk_purpose purpose, const char *pin_file, const char *prompt);
/* The prompt for a key's PIN: "PIN1: ", "PIN2: " or "Seal PIN: ". */
const char *cl_pin_prompt(sk_purpose purpose);

/* A client layer without a key in c->sk, over this program's exchange and
 * persist (exchange.c). */
int cl_new_layer(client *c);
/* Loads the key of a purpose (and its server URL) into a new c->sk. */
int cl_load_key(client *c, sk_purpose purpose);
/* Opens (with create, makes) the state directory dir and takes its lock. */
int cl_open_state(client *c, const char *dir, bool create);

/* Parses the command's options (argv[2..]); prints usage on --help.  A PIN
 * given as a flag value is refused before anything else.  Returns 0 when
 * the command may run, else -1 with the exit status in *exit_code. */
int cl_parse(sk_opt *opts, const char **positional, int argc, char **argv, const char *synopsis,
             const char *about, int *exit_code);
/* --purpose auth|sign; returns 0 or the exit status of a usage error. */
int cl_parse_purpose(sk_purpose *p, const char *name);

/* Opens DIR and loads the key of --purpose; prints and returns an exit
 * status on failure (0 on success). */
int cl_open_key(client *c, const char *dir, const char *purpose_name, sk_purpose *purpose);
/* Returns CU_EXIT_DESTROYED (and says so) when the device knows the loaded
 * key is destroyed, else 0. */
int cl_refuse_destroyed(client *c);

/* ------------------------------------------------------------ exchange.c */

/* Reads SPLITKEY_CLIENT_TIMEOUT_MS into *ms (CALL_TIMEOUT_MS when unset or
 * empty).  Returns 0, or -1 when it is not a whole number of milliseconds
 * from TIMEOUT_MIN_MS to TIMEOUT_MAX_MS. */
int cl_env_timeout(unsigned *ms);

/* Connects to c->url unless connected; a server that is not there is
 * SK_SVC_ERR_CONNECT at once, the reason in c->err. */
int cl_connect_server(client *c);

/* The client layer's callbacks (client.h of the library), ctx a client. */
int cl_io_exchange(void *ctx, const uint8_t *req, size_t req_len, uint8_t *reply,
                   size_t reply_cap, size_t *reply_len);
int cl_io_persist(void *ctx, const uint8_t *state, size_t state_len);
uint64_t cl_io_now(void *ctx);
void cl_io_progress(void *ctx, sk_client_step step, int code);

/* Finishes a request of an earlier run that never got its reply, before
 * anything new is asked (sk_client_resume); what it finished is in
 * c->settled.  A verdict on the key that it brought stops the command. */
int cl_settle_pending(client *c);

/* Fetches the sessions waiting for the loaded key into out (up to
 * SK_MAX_FETCH_SESSIONS), after cl_settle_pending(); the caller frees them
 * with cl_free_sessions. */
int cl_fetch_sessions(client *c, sk_device_session **out, size_t *count);
void cl_free_sessions(sk_device_session **s, size_t n);

/* ------------------------------------------------------------ commands */

/* Each runs "splitkey-client COMMAND ..." (argv[1] is the command's name)
 * and returns its exit status. */
int cmd_enrol(int argc, char **argv);
int cmd_sign(int argc, char **argv);
int cmd_sessions(int argc, char **argv);
int cmd_approve(int argc, char **argv);
int cmd_refuse(int argc, char **argv);
int cmd_pubkey(int argc, char **argv);
int cmd_cert(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_revoke(int argc, char **argv);

#endif
