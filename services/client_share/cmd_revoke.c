/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_revoke.c - splitkey-client revoke: destroys a key at the server,
 * authorised by its PIN; the server revokes its certificate and the key
 * never signs again.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>

#include "client.h"
#include "splitkey/splitkey.h"

int cmd_revoke(int argc, char **argv)
{
    cmd_opts o = {0};
    sk_opt opts[] = {OPT_STATE(o), OPT_PURPOSE(o), OPT_PIN(o), {0}};
    int exit_code = CU_EXIT_OK;
    client c;
    memset(&c, 0, sizeof c);
    if (cl_parse(opts, NULL, argc, argv, "revoke --state DIR --purpose auth|sign|seal [--pin-file F]",
                 "Destroys the key at the server (authorised by the PIN) and revokes its\n"
                 "certificate.  It never signs again.",
                 &exit_code) != 0)
        goto done;
    sk_purpose purpose;
    if ((exit_code = cl_open_key(&c, o.state, o.purpose, &purpose)) != 0)
        goto end;
    if ((exit_code = cl_refuse_destroyed(&c)) != 0)
        goto end;
    int rc = cl_get_pin(&c, purpose, o.pin_file, cl_pin_prompt(purpose));
    if (rc != SK_OK) {
        fprintf(stderr, PROG ": %s\n", c.err);
        exit_code = CU_EXIT_USAGE;
        goto end;
    }
    rc = cl_connect_server(&c);
    if (rc == SK_OK)
        rc = cl_settle_pending(&c);
    if (rc == SK_OK)
        rc = sk_client_revoke(c.sk, c.pin.digits, c.pin.len, &c.status);
    if (rc != SK_OK) {
        exit_code = cl_report(&c, rc, "revoke");
        goto end;
    }
    printf("revoked: the %s key is destroyed at the server and will never sign again\n",
           devstate_purpose_name(purpose));
end:
    cl_end(&c);
done:
    sk_config_free(opts);
    return exit_code;
}
