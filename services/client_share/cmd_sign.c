/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_sign.c - splitkey-client sign: signs a file with a key of the device
 * through a session the device opens itself and approves at once with the
 * PIN; the signature is verified under n before it is written.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>

#include "client.h"
#include "fileio.h"
#include "splitkey/splitkey.h"
#include "svc_error.h"

/* --scheme / --hash with the defaults PSS and SHA-256. */
static int parse_algs(sk_scheme *scheme, sk_hash *hash, const cmd_opts *o)
{
    *scheme = SK_SCHEME_PSS;
    *hash = SK_HASH_SHA256;
    if (o->scheme != NULL && sk_scheme_parse(scheme, o->scheme) != SK_OK)
        return usage_error("--scheme %s: use pkcs1 or pss", o->scheme);
    if (o->hash != NULL && sk_hash_parse(hash, o->hash) != SK_OK)
        return usage_error("--hash %s: use sha256, sha384 or sha512", o->hash);
    return 0;
}

int cmd_sign(int argc, char **argv)
{
    cmd_opts o = {0};
    sk_opt opts[] = {
        OPT_STATE(o),
        OPT_PURPOSE(o),
        OPT_PIN(o),
        {.name = "in", .type = SK_OPT_FILE, .value = &o.in, .flags = SK_OPT_REQUIRED,
         .arg = "FILE", .help = "the document to sign"},
        {.name = "out", .type = SK_OPT_STRING, .value = &o.out, .flags = SK_OPT_REQUIRED,
         .arg = "SIG", .help = "where to write the raw RSA signature"},
        {.name = "scheme", .type = SK_OPT_STRING, .value = &o.scheme, .arg = "pkcs1|pss",
         .help = "signature scheme (default pss)"},
        {.name = "hash", .type = SK_OPT_STRING, .value = &o.hash, .arg = "H",
         .help = "sha256 (default), sha384 or sha512"},
        {.name = "text", .type = SK_OPT_STRING, .value = &o.text, .arg = "TEXT",
         .help = "what the session says (default: the file's name)"},
        {0},
    };
    int exit_code = CU_EXIT_OK;
    client c;
    memset(&c, 0, sizeof c);
    if (cl_parse(opts, NULL, argc, argv,
                 "sign --state DIR --purpose auth|sign|seal [--pin-file F] --in FILE --out SIG "
                 "[--scheme pkcs1|pss] [--hash H]",
                 "Signs FILE with the split key: a session the device opens itself, approved\n"
                 "with the PIN.  The signature is verified under n before it is written.",
                 &exit_code) != 0)
        goto done;
    sk_purpose purpose;
    sk_scheme scheme;
    sk_hash hash;
    uint8_t digest[SK_MAX_HASH_LEN], sig[SK_MAX_SIG_LEN];
    size_t sig_len = 0;
    char code[5] = "", text[SK_MAX_DISPLAY_TEXT_LEN + 1];
    int rc;

    if ((exit_code = parse_algs(&scheme, &hash, &o)) != 0)
        goto done;
    if ((exit_code = cl_open_key(&c, o.state, o.purpose, &purpose)) != 0)
        goto end;
    if ((exit_code = cl_refuse_destroyed(&c)) != 0)
        goto end;
    rc = cu_hash_file(digest, hash, o.in);
    if (rc != SK_OK) {
        fprintf(stderr, PROG ": --in %s: %s\n", o.in, sk_svc_strerror(rc));
        exit_code = CU_EXIT_USAGE;
        goto end;
    }
    if (o.text != NULL) {
        snprintf(text, sizeof text, "%s", o.text);
    } else {
        const char *base = strrchr(o.in, '/');
        snprintf(text, sizeof text, "Sign %s", base ? base + 1 : o.in);
    }
    for (char *p = text; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = ' ';
    rc = cl_get_pin(&c, purpose, o.pin_file, cl_pin_prompt(purpose));
    if (rc != SK_OK) {
        fprintf(stderr, PROG ": %s\n", c.err);
        exit_code = CU_EXIT_USAGE;
        goto end;
    }
    rc = cl_connect_server(&c);
    if (rc == SK_OK)
        rc = cl_settle_pending(&c);
    if (rc == SK_OK)
        rc = sk_client_sign(c.sk, digest, sk_hash_len(hash), hash, scheme, text, c.pin.digits,
                            c.pin.len, sig, sizeof sig, &sig_len, code, &c.status);
    if (rc != SK_OK) {
        exit_code = cl_report(&c, rc, "sign");
        goto end;
    }
    rc = sk_file_write_atomic(o.out, sig, sig_len, SK_FILE_PUBLIC_MODE, 0);
    if (rc != SK_OK) {
        fprintf(stderr, PROG ": --out %s: %s\n", o.out, sk_svc_strerror(rc));
        exit_code = CU_EXIT_FAIL;
        goto end;
    }
    printf("signed %s (%s, %s; verification code %s)\n"
           "signature: %s (%zu bytes), verified under the key's public key\n",
           o.in, sk_scheme_name(scheme), sk_hash_name(hash), code, o.out, sig_len);
end:
    cl_end(&c);
done:
    sk_config_free(opts);
    return exit_code;
}
