/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_status.c - splitkey-client status: asks the server for a key's state,
 * its PIN attempts left and any lock, and prints them.  A key the device
 * knows is destroyed is reported without a request.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>

#include "client.h"
#include "splitkey/splitkey.h"

static void print_status(const client *c, sk_purpose purpose, const sk_key_status *st)
{
    uint8_t id[SK_KEY_ID_LEN];
    char hex[2 * SK_KEY_ID_LEN + 1] = "?", when[40] = "-";
    if (sk_device_key_id(cl_key(c), id, sizeof id) == SK_OK)
        cu_hex(hex, id, sizeof id);
    if (st->locked_until > cl_now_s())
        cu_time(when, sizeof when, st->locked_until);
    printf("purpose:       %s\n"
           "key id:        %s\n"
           "state:         %s%s%s%s\n"
           "attempts left: %u\n"
           "locked until:  %s\n",
           devstate_purpose_name(purpose), hex, cl_state_name(st->state),
           st->state == SK_KEY_DESTROYED ? " (" : "",
           st->state == SK_KEY_DESTROYED ? cl_reason_name(st->destroy_reason) : "",
           st->state == SK_KEY_DESTROYED ? ")" : "", st->attempts_left, when);
}

int cmd_status(int argc, char **argv)
{
    cmd_opts o = {0};
    sk_opt opts[] = {OPT_STATE(o), OPT_PURPOSE(o), {0}};
    int exit_code = CU_EXIT_OK;
    client c;
    memset(&c, 0, sizeof c);
    if (cl_parse(opts, NULL, argc, argv, "status --state DIR --purpose auth|sign|seal",
                 "Asks the server for the key's state, PIN attempts left and any lock.",
                 &exit_code) != 0)
        goto done;
    sk_purpose purpose;
    if ((exit_code = cl_open_key(&c, o.state, o.purpose, &purpose)) != 0)
        goto end;
    sk_key_status st;
    memset(&st, 0, sizeof st);
    if (sk_device_key_state(cl_key(&c)) == SK_KEY_DESTROYED) {
        st.state = SK_KEY_DESTROYED;
        print_status(&c, purpose, &st);
        goto end;
    }
    int rc = cl_connect_server(&c);
    if (rc == SK_OK)
        rc = cl_settle_pending(&c);
    if (rc == SK_OK)
        rc = sk_client_key_state(c.sk, &st);
    if (rc == SK_ERR_DESTROYED || rc == SK_ERR_CLONE_DETECTED) {
        st.state = SK_KEY_DESTROYED;
        rc = SK_OK;
    }
    if (rc != SK_OK) {
        exit_code = cl_report(&c, rc, "status");
        goto end;
    }
    print_status(&c, purpose, &st);
end:
    cl_end(&c);
done:
    sk_config_free(opts);
    return exit_code;
}
