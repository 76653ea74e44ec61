/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_pubkey_cert.c - splitkey-client pubkey and cert: write what the state
 * directory holds about a key, with no request to the server: the
 * composite public key n (SubjectPublicKeyInfo, PEM) or the X.509
 * certificate the server delivered (PEM).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "client.h"
#include "splitkey/splitkey.h"
#include "svc_error.h"

static int cmd_pubkey_or_cert(int argc, char **argv, bool cert)
{
    cmd_opts o = {0};
    sk_opt opts[] = {
        OPT_STATE(o),
        OPT_PURPOSE(o),
        {.name = "out", .type = SK_OPT_STRING, .value = &o.out, .flags = SK_OPT_REQUIRED,
         .arg = cert ? "CERT.pem" : "PUB.pem", .help = "where to write it (PEM)"},
        {0},
    };
    int exit_code = CU_EXIT_OK;
    client c;
    memset(&c, 0, sizeof c);
    if (cl_parse(opts, NULL, argc, argv,
                 cert ? "cert --state DIR --purpose auth|sign|seal --out CERT.pem"
                      : "pubkey --state DIR --purpose auth|sign|seal --out PUB.pem",
                 cert ? "Writes the key's X.509 certificate as the server delivered it."
                      : "Writes the composite public key n (SubjectPublicKeyInfo, PEM).",
                 &exit_code) != 0)
        goto done;
    sk_purpose purpose;
    if ((exit_code = cl_open_key(&c, o.state, o.purpose, &purpose)) != 0)
        goto end;
    int rc;
    if (cert) {
        static uint8_t der[SK_MAX_MESSAGE_LEN];
        size_t len = 0;
        rc = sk_device_key_certificate(cl_key(&c), der, sizeof der, &len);
        if (rc == SK_OK && len == 0) {
            fprintf(stderr,
                    PROG ": no certificate is stored for the %s key (the server has no CA, "
                         "or it has not delivered one yet)\n",
                    devstate_purpose_name(purpose));
            exit_code = CU_EXIT_FAIL;
            goto end;
        }
        if (rc == SK_OK)
            rc = cu_write_pem(o.out, "CERTIFICATE", der, len);
    } else {
        sk_pubkey *pub = NULL;
        rc = sk_device_key_pubkey(cl_key(&c), &pub);
        if (rc == SK_OK)
            rc = cu_write_pubkey(o.out, pub);
        sk_pubkey_free(pub);
    }
    if (rc != SK_OK) {
        fprintf(stderr, PROG ": --out %s: %s\n", o.out, sk_svc_strerror(rc));
        exit_code = CU_EXIT_FAIL;
        goto end;
    }
    printf("wrote %s\n", o.out);
end:
    cl_end(&c);
done:
    sk_config_free(opts);
    return exit_code;
}

int cmd_pubkey(int argc, char **argv)
{
    return cmd_pubkey_or_cert(argc, argv, false);
}

int cmd_cert(int argc, char **argv)
{
    return cmd_pubkey_or_cert(argc, argv, true);
}
