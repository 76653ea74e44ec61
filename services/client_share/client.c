/* SPDX-License-Identifier: Apache-2.0 */
/*
 * client.c - what every splitkey-client command does around its requests:
 * releasing one command's state, reporting a failure as its exit status
 * (cliutil.h), reading the PIN, opening the state directory and loading a
 * key, and parsing the options (client.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fileio.h"
#include "splitkey/splitkey.h"
#include "svc_error.h"

uint64_t cl_now_s(void)
{
    return (uint64_t)time(NULL);
}

const sk_device_key *cl_key(const client *c)
{
    return c->sk != NULL ? sk_client_key(c->sk) : NULL;
}

void cl_drop_key(client *c)
{
    sk_client_free(c->sk); /* wipes the key, its copy of the storage key, its buffers */
    c->sk = NULL;
    free(c->url);
    c->url = NULL;
    sk_req_client_close(c->net);
    c->net = NULL;
}

void cl_end(client *c)
{
    cl_drop_key(c);
    if (c->st_open)
        devstate_close(&c->st);
    pin_wipe(&c->pin);
    sk_wipe(c, sizeof *c);
}

/* ------------------------------------------------------------ reporting */

const char *cl_reason_name(sk_destroy_reason r)
{
    switch (r) {
    case SK_DESTROY_USER:
        return "revoked by its owner";
    case SK_DESTROY_LOCKOUT:
        return "too many wrong PINs";
    case SK_DESTROY_CLONE:
        return "a copy of the device state was used: clone detected";
    case SK_DESTROY_OPERATOR:
        return "revoked by the operator";
    case SK_DESTROY_ABANDONED:
        return "its enrolment was started again";
    default:
        return "destroyed";
    }
}

const char *cl_state_name(sk_key_state s)
{
    switch (s) {
    case SK_KEY_ENROLLING:
        return "ENROLLING";
    case SK_KEY_PENDING:
        return "PENDING";
    case SK_KEY_ACTIVE:
        return "ACTIVE";
    case SK_KEY_TIMELOCKED:
        return "TIMELOCKED";
    case SK_KEY_DESTROYED:
        return "DESTROYED";
    default:
        return "UNKNOWN";
    }
}

/* Prints what went wrong in what (a short phrase) and returns the exit
 * status it calls for (cliutil.h). */
int cl_report(const client *c, int rc, const char *what)
{
    const sk_key_status *st = &c->status;
    char when[40];
    switch (rc) {
    case SK_ERR_WRONG_PIN:
        if (st->destroy_reason != SK_DESTROY_NONE || st->state == SK_KEY_DESTROYED) {
            fprintf(stderr, PROG ": %s: wrong PIN; the key is now destroyed (%s)\n", what,
                    cl_reason_name(st->destroy_reason));
            return CU_EXIT_DESTROYED;
        }
        if (st->locked_until > cl_now_s()) {
            cu_time(when, sizeof when, st->locked_until);
            fprintf(stderr, PROG ": %s: wrong PIN; the key is now locked until %s\n", what, when);
            return CU_EXIT_LOCKED;
        }
        fprintf(stderr, PROG ": %s: wrong PIN; %u attempt%s left before the key is locked\n",
                what, st->attempts_left, st->attempts_left == 1 ? "" : "s");
        return CU_EXIT_WRONG_PIN;
    case SK_ERR_LOCKED:
        cu_time(when, sizeof when, st->locked_until);
        fprintf(stderr, PROG ": %s: the key is locked until %s\n", what,
                st->locked_until ? when : "further notice");
        return CU_EXIT_LOCKED;
    case SK_ERR_CLONE_DETECTED:
        fprintf(stderr,
                PROG ": %s: clone detected: another copy of this device's state signed first; "
                     "the server destroyed the key\n",
                what);
        return CU_EXIT_DESTROYED;
    case SK_ERR_DESTROYED:
        fprintf(stderr, PROG ": %s: the key is destroyed (%s)\n", what,
                cl_reason_name(st->destroy_reason));
        return CU_EXIT_DESTROYED;
    case SK_ERR_SESSION_EXPIRED:
        fprintf(stderr, PROG ": %s: the session expired\n", what);
        return CU_EXIT_SESSION;
    case SK_ERR_SESSION_REFUSED:
        fprintf(stderr, PROG ": %s: the session was refused\n", what);
        return CU_EXIT_SESSION;
    case SK_ERR_SESSION_UNKNOWN:
        fprintf(stderr, PROG ": %s: no such session waiting (expired or already answered)\n",
                what);
        return CU_EXIT_SESSION;
    case SK_ERR_WRONG_VC:
        fprintf(stderr, PROG ": %s: wrong verification code picked: the session ended (no PIN "
                        "attempt was counted; the relying party must start a new one)\n", what);
        return CU_EXIT_SESSION;
    case SK_ERR_NOT_ACTIVE:
        fprintf(stderr, PROG ": %s: the key is not active yet (its enrolment is unfinished: "
                        "run enrol again)\n", what);
        return CU_EXIT_FAIL;
    case SK_SVC_ERR_CONFIG:
        fprintf(stderr, PROG ": %s\n", c->err[0] ? c->err : what);
        return CU_EXIT_USAGE;
    case SK_SVC_ERR_CONNECT:
        fprintf(stderr, PROG ": %s: %s\n", what, c->err[0] ? c->err : cu_strerror(rc));
        return CU_EXIT_FAIL;
    default:
        fprintf(stderr, PROG ": %s: %s\n", what, cu_strerror(rc));
        return CU_EXIT_FAIL;
    }
}

/* ------------------------------------------------------------ state and keys */

int cl_get_pin(client *c, sk_purpose purpose, const char *pin_file, const char *prompt)
{
    int rc = pin_read(&c->pin, purpose, pin_file, prompt, c->err, sizeof c->err);
    c->have_pin = rc == SK_OK;
    c->pin_purpose = purpose;
    return rc;
}

const char *cl_pin_prompt(sk_purpose purpose)
{
    return purpose == SK_PURPOSE_SIGN   ? "PIN2: "
           : purpose == SK_PURPOSE_SEAL ? "Seal PIN: "
                                        : "PIN1: ";
}

int cl_new_layer(client *c)
{
    sk_client_io io = {.exchange = cl_io_exchange, .persist = cl_io_persist, .now = cl_io_now,
                       .ctx = c, .retries = LOST_REPLY_RETRIES};
    int rc = sk_client_new(&c->sk, &io, c->st.storage_key, sizeof c->st.storage_key);
    if (rc == SK_OK)
        sk_client_set_progress(c->sk, cl_io_progress);
    return rc;
}

/* Loads the key of a purpose (and its server URL). */
int cl_load_key(client *c, sk_purpose purpose)
{
    uint8_t *sealed = NULL;
    size_t len = 0;
    cl_drop_key(c);
    int rc = devstate_load_sealed(&c->st, purpose, &sealed, &len, &c->url, c->err, sizeof c->err);
    if (rc == SK_OK) {
        rc = cl_new_layer(c);
        if (rc == SK_OK)
            rc = sk_client_load(c->sk, sealed, len);
        if (rc != SK_OK)
            snprintf(c->err, sizeof c->err, "cannot load the %s key: %s",
                     devstate_purpose_name(purpose), sk_strerror(rc));
    }
    sk_file_free(sealed, len);
    if (rc != SK_OK)
        cl_drop_key(c);
    return rc == SK_ERR_NOT_FOUND ? SK_SVC_ERR_CONFIG : rc;
}

int cl_open_state(client *c, const char *dir, bool create)
{
    int rc = devstate_open(&c->st, dir, create, c->err, sizeof c->err);
    c->st_open = rc == SK_OK;
    return rc;
}

/* Opens DIR and loads the key of --purpose; prints and returns an exit
 * status on failure (0 on success). */
int cl_open_key(client *c, const char *dir, const char *purpose_name, sk_purpose *purpose)
{
    int e = cl_parse_purpose(purpose, purpose_name);
    if (e != 0)
        return e;
    if (sk_init() != SK_OK) {
        fprintf(stderr, PROG ": cannot initialise libsplitkey\n");
        return CU_EXIT_FAIL;
    }
    int rc = cl_open_state(c, dir, false);
    if (rc == SK_OK)
        rc = cl_load_key(c, *purpose);
    if (rc != SK_OK) {
        fprintf(stderr, PROG ": %s\n", c->err[0] ? c->err : sk_svc_strerror(rc));
        return (rc == SK_SVC_ERR_CONFIG || rc == SK_SVC_ERR_PERM) ? CU_EXIT_USAGE : CU_EXIT_FAIL;
    }
    return 0;
}

/* The key is destroyed as far as the device knows: nothing to ask. */
int cl_refuse_destroyed(client *c)
{
    if (sk_device_key_state(cl_key(c)) != SK_KEY_DESTROYED)
        return 0;
    fprintf(stderr, PROG ": the %s key is destroyed; enrol a new one\n",
            devstate_purpose_name(sk_device_key_purpose(cl_key(c))));
    return CU_EXIT_DESTROYED;
}

/* ------------------------------------------------------------ options */

/* Refuses a PIN given as a command-line value, whatever the spelling. */
static int refuse_pin_values(int argc, char **argv)
{
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--pin", 5) == 0 && strncmp(a, "--pin-file", 10) != 0) {
            fprintf(stderr, PROG ": %s: a PIN is never taken from the command line; use "
                            "--pin-file FILE or type it when asked\n", a);
            return 1;
        }
    }
    return 0;
}

/* Parses the command's options (argv[2..]); prints usage on --help.  A PIN
 * given as a flag value is refused before anything else. */
int cl_parse(sk_opt *opts, const char **positional, int argc, char **argv, const char *synopsis,
             const char *about, int *exit_code)
{
    if (refuse_pin_values(argc, argv)) {
        *exit_code = CU_EXIT_USAGE;
        return -1;
    }
    return cu_parse_options(PROG, opts, positional, argc, argv, synopsis, about, exit_code);
}

int cl_parse_purpose(sk_purpose *p, const char *name)
{
    if (devstate_purpose_parse(p, name) != SK_OK)
        return usage_error("--purpose %s: use auth, sign or seal", name);
    return 0;
}
