/* SPDX-License-Identifier: Apache-2.0 */
/* operators.c - the operator list of a share server (operators.h). */
#define _POSIX_C_SOURCE 200809L
#include "operators.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "svc_error.h"
#include "svc_hex.h"

#define OPERATORS_MAX_FILE (SK_OPERATORS_MAX * (SK_OPERATOR_NAME_MAX + 2 * SK_OPERATOR_PUB_LEN + 2) + 4096u)

int sk_operator_name_ok(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len > SK_OPERATOR_NAME_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-' || c == '@'))
            return 0;
    }
    return 1;
}

const sk_operator *sk_operators_find(const sk_operator *ops, size_t n, const uint8_t *pub)
{
    for (size_t i = 0; i < n; i++)
        if (sodium_memcmp(ops[i].pub, pub, SK_OPERATOR_PUB_LEN) == 0)
            return &ops[i];
    return NULL;
}

int64_t sk_operator_event_id(const uint8_t *pub)
{
    int64_t v = 0;
    for (int i = 0; i < 6; i++)
        v = v << 8 | pub[i];
    return v;
}

int sk_operators_load(sk_operator **ops, size_t *n, const char *path, char *err, size_t err_len)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    *ops = NULL;
    *n = 0;
    /* room for the whole list, so that a caller can add one */
    sk_operator *arr = calloc(SK_OPERATORS_MAX, sizeof *arr);
    size_t count = 0, lineno = 0;
    if (arr == NULL)
        return SK_ERR_NOMEM;
    int rc = sk_file_read(&buf, &len, path, OPERATORS_MAX_FILE, 0);
    if (rc == SK_ERR_NOT_FOUND) {
        *ops = arr;
        return SK_OK;
    }
    if (rc != SK_OK) {
        snprintf(err, err_len, "%s: %s", path, sk_svc_strerror(rc));
        free(arr);
        return rc;
    }
    char *save = NULL;
    rc = SK_OK;
    for (char *line = strtok_r((char *)buf, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        lineno++;
        if (line[0] == '#' || line[0] == '\0')
            continue;
        char *sp = strchr(line, ' ');
        if (sp == NULL) {
            rc = SK_SVC_ERR_CONFIG;
            break;
        }
        *sp = '\0';
        sk_operator *op = &arr[count];
        if (count == SK_OPERATORS_MAX || !sk_operator_name_ok(line) ||
            sk_svc_unhex(op->pub, SK_OPERATOR_PUB_LEN, sp + 1, strlen(sp + 1)) != SK_OK) {
            rc = SK_SVC_ERR_CONFIG;
            break;
        }
        memcpy(op->name, line, strlen(line) + 1);
        for (size_t i = 0; i < count; i++)
            if (!strcmp(arr[i].name, op->name) ||
                !memcmp(arr[i].pub, op->pub, SK_OPERATOR_PUB_LEN))
                rc = SK_SVC_ERR_CONFIG;
        if (rc != SK_OK)
            break;
        count++;
    }
    sk_file_free(buf, len);
    if (rc != SK_OK) {
        snprintf(err, err_len, "%s: line %zu: expected \"NAME HEX-PUBLIC-KEY\", each name and "
                 "key once", path, lineno);
        free(arr);
        return rc;
    }
    *ops = arr;
    *n = count;
    return SK_OK;
}

int sk_operators_save(const char *path, const sk_operator *ops, size_t n)
{
    static const char head[] = "# splitkey-server operators: NAME ED25519-PUBLIC-KEY (hex)\n";
    size_t cap = sizeof head + n * (SK_OPERATOR_NAME_MAX + 2 * SK_OPERATOR_PUB_LEN + 3);
    char *text = malloc(cap), *p = text;
    if (text == NULL)
        return SK_ERR_NOMEM;
    memcpy(p, head, sizeof head - 1);
    p += sizeof head - 1;
    for (size_t i = 0; i < n; i++) {
        char hex[2 * SK_OPERATOR_PUB_LEN + 1];
        sk_svc_hex(hex, ops[i].pub, SK_OPERATOR_PUB_LEN);
        p += snprintf(p, cap - (size_t)(p - text), "%s %s\n", ops[i].name, hex);
    }
    int rc = sk_file_write_atomic(path, (const uint8_t *)text, (size_t)(p - text),
                                  SK_FILE_PUBLIC_MODE, 0);
    free(text);
    return rc;
}

/* Reads a file of hex (one line) into exactly len bytes. */
static int hex_file(uint8_t *out, size_t len, const char *path, unsigned flags, char *err,
                    size_t err_len)
{
    uint8_t *buf = NULL;
    size_t blen = 0;
    int rc = sk_file_read(&buf, &blen, path, 4 * len + 64, flags);
    if (rc != SK_OK) {
        snprintf(err, err_len, "%s: %s", path,
                 rc == SK_SVC_ERR_PERM ? "readable by others (chmod 600)" : sk_svc_strerror(rc));
        return rc;
    }
    size_t tl = blen;
    while (tl > 0 && (buf[tl - 1] == '\n' || buf[tl - 1] == '\r'))
        tl--;
    rc = sk_svc_unhex(out, len, (const char *)buf, tl);
    sk_file_free(buf, blen);
    if (rc != SK_OK) {
        sodium_memzero(out, len); /* whatever was decoded of a secret key */
        snprintf(err, err_len, "%s: expected %zu hex digits", path, 2 * len);
        return SK_SVC_ERR_CONFIG;
    }
    return SK_OK;
}

int sk_operator_key_load(uint8_t *sk, const char *path, char *err, size_t err_len)
{
    uint8_t pk[crypto_sign_PUBLICKEYBYTES], check[crypto_sign_SECRETKEYBYTES];
    int rc = hex_file(sk, SK_OPERATOR_SECRET_LEN, path, SK_FILE_SECRET, err, err_len);
    if (rc != SK_OK)
        return rc;
    crypto_sign_seed_keypair(pk, check, sk);
    int ok = sodium_memcmp(check, sk, sizeof check) == 0;
    sodium_memzero(check, sizeof check);
    if (!ok) {
        sodium_memzero(sk, SK_OPERATOR_SECRET_LEN);
        snprintf(err, err_len, "%s: not an operator key (its halves do not match)", path);
        return SK_SVC_ERR_CONFIG;
    }
    return SK_OK;
}

int sk_operator_pub_load(uint8_t *pub, const char *path, char *err, size_t err_len)
{
    return hex_file(pub, SK_OPERATOR_PUB_LEN, path, 0, err, err_len);
}
