/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_sessions.c - splitkey-client sessions: lists the sessions waiting for
 * the keys of the device (id, key, verification code, relying party, what
 * it asks).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>

#include "client.h"
#include "splitkey/splitkey.h"

static void print_session(const sk_device_session *s, sk_purpose purpose)
{
    uint8_t id[SK_SESSION_ID_LEN];
    char hex[2 * SK_SESSION_ID_LEN + 1];
    if (sk_device_session_id(s, id, sizeof id) != SK_OK)
        return;
    cu_hex(hex, id, sizeof id);
    const char *rp = sk_device_session_rp_name(s);
    uint64_t exp = sk_device_session_expires_at(s), now = cl_now_s();
    printf("%s  %s  code %s  %s: %s  (%s/%s, expires in %llu s)\n", hex,
           devstate_purpose_name(purpose),
           sk_device_session_code(s)[0] ? sk_device_session_code(s) : "----",
           rp != NULL && rp[0] ? rp : "this device", sk_device_session_display_text(s),
           sk_scheme_name(sk_device_session_scheme(s)), sk_hash_name(sk_device_session_hash(s)),
           (unsigned long long)(exp > now ? exp - now : 0));
    printf("    interaction %s", cu_interaction_name(sk_device_session_interaction(s)));
    if (sk_device_session_vc_choice(s, 0) != NULL)
        printf("  choices %s %s %s", sk_device_session_vc_choice(s, 0),
               sk_device_session_vc_choice(s, 1), sk_device_session_vc_choice(s, 2));
    printf("\n");
}

int cmd_sessions(int argc, char **argv)
{
    cmd_opts o = {0};
    sk_opt opts[] = {OPT_STATE(o), {0}};
    int exit_code = CU_EXIT_OK;
    client c;
    memset(&c, 0, sizeof c);
    if (cl_parse(opts, NULL, argc, argv, "sessions --state DIR",
                 "Lists the sessions waiting for this device: id, key, verification code,\n"
                 "relying party and what it asks.",
                 &exit_code) != 0)
        goto done;
    if (sk_init() != SK_OK || cl_open_state(&c, o.state, false) != SK_OK) {
        fprintf(stderr, PROG ": %s\n", c.err[0] ? c.err : "cannot initialise libsplitkey");
        exit_code = CU_EXIT_USAGE;
        goto end;
    }
    int keys = 0, listed = 0;
    const sk_purpose purposes[] = {SK_PURPOSE_AUTH, SK_PURPOSE_SIGN, SK_PURPOSE_SEAL};
    for (size_t i = 0; i < sizeof purposes / sizeof purposes[0]; i++) {
        if (!devstate_has(&c.st, purposes[i]))
            continue;
        int rc = cl_load_key(&c, purposes[i]);
        if (rc != SK_OK) {
            exit_code = cl_report(&c, rc, "state");
            goto end;
        }
        if (sk_device_key_state(cl_key(&c)) == SK_KEY_DESTROYED)
            continue;
        keys++;
        sk_device_session *s[SK_MAX_FETCH_SESSIONS] = {NULL};
        size_t n = 0;
        rc = cl_fetch_sessions(&c, s, &n);
        if (rc != SK_OK) {
            exit_code = cl_report(&c, rc, devstate_purpose_name(purposes[i]));
            goto end;
        }
        for (size_t j = 0; j < n; j++)
            print_session(s[j], purposes[i]);
        listed += (int)n;
        cl_free_sessions(s, n);
    }
    if (keys == 0) {
        fprintf(stderr, PROG ": no usable key in %s\n", o.state);
        exit_code = CU_EXIT_FAIL;
    } else if (listed == 0) {
        printf("no session is waiting\n");
    }
end:
    cl_end(&c);
done:
    sk_config_free(opts);
    return exit_code;
}
