/* SPDX-License-Identifier: Apache-2.0 */
/* cliutil.c - helpers shared by splitkey-client and splitkey-rp. */
#define _POSIX_C_SOURCE 200809L
#include "cliutil.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error_reply.h"
#include "fileio.h"
#include "splitkey/client.h"
#include "splitkey/pki.h"
#include "splitkey/splitkey.h"
#include "svc_error.h"
#include "svc_hex.h"

int cu_hash_file(uint8_t *digest, sk_hash hash, const char *path)
{
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = sk_file_read(&data, &len, path, CU_MAX_DOCUMENT, 0);
    if (rc != SK_OK)
        return rc;
    rc = sk_digest(digest, sk_hash_len(hash), hash, data, len);
    sk_file_free(data, len);
    return rc;
}

void cu_hex(char *out, const uint8_t *in, size_t len) { sk_svc_hex(out, in, len); }

int cu_unhex(uint8_t *out, size_t len, const char *text)
{
    if (text == NULL)
        return SK_ERR_ARG;
    return sk_svc_unhex(out, len, text, strlen(text));
}

int cu_write_pem(const char *path, const char *label, const uint8_t *der, size_t der_len)
{
    size_t need = 0;
    int rc = sk_pem_encode(NULL, 0, &need, label, der, der_len);
    if (rc != SK_OK && rc != SK_ERR_BUFFER_TOO_SMALL)
        return rc;
    /* some encoders report the size without the NUL: leave room for it */
    size_t cap = need + 1;
    char *pem = malloc(cap);
    if (pem == NULL)
        return SK_ERR_NOMEM;
    size_t written = 0;
    rc = sk_pem_encode(pem, cap, &written, label, der, der_len);
    if (rc == SK_OK)
        rc = sk_file_write_atomic(path, (const uint8_t *)pem, strlen(pem), SK_FILE_PUBLIC_MODE, 0);
    free(pem);
    return rc;
}

int cu_write_pubkey(const char *path, const sk_pubkey *key)
{
    char pem[4096];
    size_t written = 0;
    int rc = sk_pubkey_export_pem(key, pem, sizeof pem, &written);
    if (rc != SK_OK)
        return rc;
    return sk_file_write_atomic(path, (const uint8_t *)pem, written, SK_FILE_PUBLIC_MODE, 0);
}

int cu_read_pubkey(sk_pubkey **out, const char *path)
{
    uint8_t *data = NULL;
    size_t len = 0;
    *out = NULL;
    int rc = sk_file_read(&data, &len, path, 64 * 1024, 0);
    if (rc != SK_OK)
        return rc;
    rc = sk_pubkey_import(out, data, len);
    sk_file_free(data, len);
    return rc;
}

void cu_time(char *out, size_t cap, uint64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (gmtime_r(&tt, &tm) == NULL || strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(out, cap, "%llu", (unsigned long long)t);
}

int cu_call(sk_req_client *client, const char *tag, uint8_t **reply, size_t *reply_len,
            const uint8_t *req, size_t req_len)
{
    return cu_call_ms(client, tag, reply, reply_len, req, req_len, 0);
}

int cu_call_raw(sk_req_client *client, const char *tag, uint8_t **reply, size_t *reply_len,
                const uint8_t *req, size_t req_len, unsigned timeout_ms)
{
    *reply = NULL;
    *reply_len = 0;
    size_t framed_len = CU_FRAME_TAG_LEN + req_len;
    uint8_t *framed = malloc(framed_len);
    if (framed == NULL)
        return SK_ERR_NOMEM;
    memcpy(framed, tag, CU_FRAME_TAG_LEN);
    memcpy(framed + CU_FRAME_TAG_LEN, req, req_len);
    int rc = sk_req_client_call_ms(client, reply, reply_len, framed, framed_len, timeout_ms);
    sk_wipe(framed, framed_len);
    free(framed);
    return rc;
}

int cu_call_ms(sk_req_client *client, const char *tag, uint8_t **reply, size_t *reply_len,
               const uint8_t *req, size_t req_len, unsigned timeout_ms)
{
    uint8_t *r = NULL;
    size_t rl = 0;
    int rc = cu_call_raw(client, tag, &r, &rl, req, req_len, timeout_ms);
    if (rc != SK_OK)
        return rc;
    int code = 0;
    if (sk_error_reply_decode(&code, r, rl) == SK_OK) {
        cu_reply_free(r, rl);
        if (code == SK_OK)
            return SK_ERR_PROTO_DECODE;
        /* An error frame authenticates nothing: for a device request it may
         * say only what went wrong on the way (transport, service, store),
         * never a verdict on the key (wrong PIN, locked, destroyed, clone),
         * which comes sealed inside the protocol or not at all. */
        return strcmp(tag, CU_FRAME_DEVICE) == 0 ? sk_client_frame_code(code) : code;
    }
    *reply = r;
    *reply_len = rl;
    return SK_OK;
}

void cu_reply_free(uint8_t *reply, size_t reply_len)
{
    if (reply == NULL)
        return;
    sk_wipe(reply, reply_len);
    free(reply);
}

const char *cu_strerror(int code)
{
    switch (code) {
    case SK_SVC_ERR_TIMEOUT:
        return "no reply from the server in time";
    case SK_SVC_ERR_TRANSPORT:
        return "cannot reach the server";
    case SK_ERR_UNSUPPORTED:
        return "the server does not serve this request";
    default:
        return sk_svc_strerror(code);
    }
}

int cu_parse_options(const char *prog, sk_opt *opts, const char **positional, int argc,
                     char **argv, const char *synopsis, const char *about, int *exit_code)
{
    char err[512] = "";
    int rc = sk_config_parse_args(opts, positional, argc, argv, 2, err, sizeof err);
    if (rc == SK_SVC_HELP) {
        printf("usage: %s %s\n\n%s\n\n", prog, synopsis, about);
        sk_config_usage(stdout, opts);
        *exit_code = CU_EXIT_OK;
        return -1;
    }
    if (rc == SK_OK)
        rc = sk_config_validate(opts, err, sizeof err);
    if (rc != SK_OK) {
        fprintf(stderr, "%s %s: %s\n", prog, argv[1], err);
        *exit_code = CU_EXIT_USAGE;
        return -1;
    }
    return 0;
}

int cu_usage_error(const char *prog, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", prog);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n(run '%s --help' for the commands and their options)\n", prog);
    return CU_EXIT_USAGE;
}

const char *cu_interaction_name(sk_interaction i)
{
    switch (i) {
    case SK_INTERACTION_VC_CHOICE:
        return "verificationCodeChoice";
    case SK_INTERACTION_CONFIRMATION_MESSAGE:
        return "confirmationMessage";
    case SK_INTERACTION_CONFIRMATION_AND_VC_CHOICE:
        return "confirmationMessageAndVerificationCodeChoice";
    default:
        return "displayTextAndPIN";
    }
}
