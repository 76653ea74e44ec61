/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_approve_refuse.c - splitkey-client approve and refuse: answer a
 * waiting session (see 'sessions'), found by its id among the keys of the
 * device.  Both are one command with one difference: approve signs with
 * the PIN of the session's key, refuse needs no PIN.  An earlier run's
 * answer to the same session that never got its reply is finished first,
 * and its outcome is this command's.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "client.h"
#include "fileio.h"
#include "splitkey/splitkey.h"

/* Finds the waiting session with this id among the keys of the state
 * directory; on success cl_key(c) is its key and *found the session. */
static int find_session(client *c, const uint8_t *id, sk_device_session **found)
{
    *found = NULL;
    const sk_purpose purposes[] = {SK_PURPOSE_AUTH, SK_PURPOSE_SIGN, SK_PURPOSE_SEAL};
    int last = SK_ERR_SESSION_UNKNOWN;
    for (size_t i = 0; i < sizeof purposes / sizeof purposes[0] && *found == NULL; i++) {
        if (!devstate_has(&c->st, purposes[i]))
            continue;
        int rc = cl_load_key(c, purposes[i]);
        if (rc != SK_OK)
            return rc;
        if (sk_device_key_state(cl_key(c)) == SK_KEY_DESTROYED) {
            last = SK_ERR_DESTROYED;
            continue;
        }
        sk_device_session *s[SK_MAX_FETCH_SESSIONS] = {NULL};
        size_t n = 0;
        rc = cl_fetch_sessions(c, s, &n);
        if (rc != SK_OK)
            return rc;
        for (size_t j = 0; j < n; j++) {
            uint8_t sid[SK_SESSION_ID_LEN];
            if (*found == NULL && sk_device_session_id(s[j], sid, sizeof sid) == SK_OK &&
                memcmp(sid, id, sizeof sid) == 0) {
                *found = s[j];
                s[j] = NULL;
            }
        }
        cl_free_sessions(s, n);
    }
    if (*found == NULL) {
        cl_drop_key(c);
        if (last == SK_ERR_DESTROYED)
            c->status.destroy_reason = SK_DESTROY_NONE;
        return last;
    }
    return SK_OK;
}

static int session_command(int argc, char **argv, bool approve)
{
    cmd_opts o = {0};
    sk_opt approve_opts[] = {
        OPT_STATE(o),
        OPT_PIN(o),
        {.name = "out", .type = SK_OPT_STRING, .value = &o.out, .arg = "SIG",
         .help = "also keep the signature in SIG"},
        {.name = "vc", .type = SK_OPT_STRING, .value = &o.vc, .arg = "CODE",
         .help = "verification-code choice: the code (of the three shown) that the relying "
                 "party shows"},
        {.name = "confirm", .type = SK_OPT_BOOL, .value = &o.confirm,
         .help = "confirmation message: the message was read and is confirmed"},
        {0},
    };
    sk_opt refuse_opts[] = {OPT_STATE(o), {0}};
    sk_opt *opts = approve ? approve_opts : refuse_opts;
    int exit_code = CU_EXIT_OK;
    client c;
    memset(&c, 0, sizeof c);
    sk_device_session *s = NULL;
    if (cl_parse(opts, &o.session, argc, argv,
                 approve ? "approve SESSION --state DIR [--pin-file F] [--out SIG] [--vc CODE] "
                           "[--confirm]"
                         : "refuse SESSION --state DIR",
                 approve ? "Approves a waiting session (see 'sessions') with the PIN of its key."
                         : "Refuses a waiting session (see 'sessions').",
                 &exit_code) != 0)
        goto done;
    uint8_t id[SK_SESSION_ID_LEN];
    if (o.session == NULL) {
        exit_code = usage_error("%s", "missing SESSION (an id that 'sessions' lists)");
        goto done;
    }
    if (cu_unhex(id, sizeof id, o.session) != SK_OK) {
        exit_code = usage_error("%s: not a session id (32 hex digits)", o.session);
        goto done;
    }
    if (sk_init() != SK_OK || cl_open_state(&c, o.state, false) != SK_OK) {
        fprintf(stderr, PROG ": %s\n", c.err[0] ? c.err : "cannot initialise libsplitkey");
        exit_code = CU_EXIT_USAGE;
        goto end;
    }
    c.pin_file = o.pin_file;
    c.pin_on_demand = approve;
    uint8_t sig[SK_MAX_SIG_LEN];
    size_t sig_len = 0;
    int rc = find_session(&c, id, &s);
    if (s == NULL && c.settled.has_session &&
        memcmp(c.settled.session_id, id, sizeof c.settled.session_id) == 0) {
        /* An earlier run approved or refused this very session and never
         * read the answer; finishing that request answered it: its outcome
         * is this command's. */
        bool was_approval = c.settled.request == SK_CLIENT_REQ_APPROVE;
        if (c.settled.result != SK_OK) {
            exit_code = cl_report(&c, c.settled.result, approve ? "approve" : "refuse");
        } else if (approve && !was_approval) {
            exit_code = cl_report(&c, SK_ERR_SESSION_REFUSED, "approve");
        } else if (!approve && was_approval) {
            fprintf(stderr, PROG ": %s: an earlier run approved this session\n", o.session);
            exit_code = CU_EXIT_FAIL;
        } else if (approve) {
            memcpy(sig, c.settled.signature, c.settled.signature_len);
            sig_len = c.settled.signature_len;
            printf("this session's approval by an earlier run was answered now\n");
            goto approved;
        } else {
            printf("this session's refusal by an earlier run was answered now\nrefused\n");
        }
        goto end;
    }
    if (rc != SK_OK) {
        exit_code = cl_report(&c, rc, o.session);
        goto end;
    }
    sk_purpose purpose = sk_device_key_purpose(cl_key(&c));
    const char *rp = sk_device_session_rp_name(s);
    sk_interaction in = sk_device_session_interaction(s);
    bool vc_choice = sk_device_session_vc_choice(s, 0) != NULL;
    bool confirmation = in == SK_INTERACTION_CONFIRMATION_MESSAGE ||
                        in == SK_INTERACTION_CONFIRMATION_AND_VC_CHOICE;
    printf("%s asks: %s\ninteraction: %s\n", rp && rp[0] ? rp : "this device",
           sk_device_session_display_text(s), cu_interaction_name(in));
    if (vc_choice)
        printf("pick the verification code the relying party shows: %s %s %s\n",
               sk_device_session_vc_choice(s, 0), sk_device_session_vc_choice(s, 1),
               sk_device_session_vc_choice(s, 2));
    else
        printf("verification code: %s\n", sk_device_session_code(s));
    fflush(stdout);
    if (!approve) {
        /* the person said no on the screen of the session's interaction */
        rc = sk_client_refuse_at(c.sk, s, in, &c.status);
        if (rc != SK_OK) {
            exit_code = cl_report(&c, rc, "refuse");
            goto end;
        }
        printf("refused\n");
        goto end;
    }
    /* The person's part of the interaction, checked before the PIN is asked
     * for: nothing is sent without it. */
    if (vc_choice) {
        bool offered = false;
        for (size_t i = 0; o.vc != NULL && i < SK_VC_CHOICES; i++)
            offered = offered || strcmp(o.vc, sk_device_session_vc_choice(s, i)) == 0;
        if (!offered) {
            exit_code = usage_error("%s: %s", o.session,
                                    o.vc == NULL
                                        ? "this session asks to pick a verification code: run "
                                          "with --vc CODE, the one the relying party shows"
                                        : "--vc: not one of the codes this session offers");
            goto end;
        }
    } else if (o.vc != NULL) {
        exit_code = usage_error("%s: --vc: this session offers no codes to pick", o.session);
        goto end;
    }
    if (confirmation && !o.confirm) {
        exit_code = usage_error("%s: %s", o.session,
                                "this session shows a confirmation message: read it and run "
                                "with --confirm to approve it");
        goto end;
    }
    if (!c.have_pin || c.pin_purpose != purpose) {
        pin_wipe(&c.pin);
        rc = cl_get_pin(&c, purpose, o.pin_file, cl_pin_prompt(purpose));
        if (rc != SK_OK) {
            fprintf(stderr, PROG ": %s\n", c.err);
            exit_code = CU_EXIT_USAGE;
            goto end;
        }
    }
    rc = sk_client_approve_choice(c.sk, s, c.pin.digits, c.pin.len, vc_choice ? o.vc : NULL,
                                  o.confirm, sig, sizeof sig, &sig_len, &c.status);
    if (rc != SK_OK) {
        exit_code = cl_report(&c, rc, "approve");
        goto end;
    }
approved:
    if (o.out != NULL && sk_file_write_atomic(o.out, sig, sig_len, SK_FILE_PUBLIC_MODE, 0) != SK_OK) {
        fprintf(stderr, PROG ": --out %s: cannot write\n", o.out);
        exit_code = CU_EXIT_FAIL;
        goto end;
    }
    printf("approved: the signature (%zu bytes) verified under the key's public key\n", sig_len);
end:
    sk_device_session_free(s);
    cl_end(&c);
done:
    sk_config_free(opts);
    return exit_code;
}

int cmd_approve(int argc, char **argv)
{
    return session_command(argc, argv, true);
}

int cmd_refuse(int argc, char **argv)
{
    return session_command(argc, argv, false);
}
