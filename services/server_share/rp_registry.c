/* SPDX-License-Identifier: Apache-2.0 */
/* rp_registry.c - DIR/relying-parties.json (rp_registry.h), read and
 * written with jansson:
 *
 *   {"relying_parties": [
 *     {"uuid": "...", "names": ["DEMO"], "credential": "certificate",
 *      "cert_sha256": "64 hex digits", "levels": ["ADVANCED", "QUALIFIED"],
 *      "purposes": ["auth", "sign", "certchoice", "seal"], "rate": 10, "pending": 50},
 *     {"uuid": "...", "names": ["Portal"], "credential": "address",
 *      "addresses": ["192.0.2.10"], ...}]}
 */
#include "rp_registry.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "fileio.h"
#include "splitkey/splitkey.h"
#include "svc_error.h"
#include "svc_hex.h"

#define REGISTRY_MAX_FILE (4u * 1024u * 1024u)

bool sk_rp_uuid_parse(uint8_t bin[16], char text[SK_RP_UUID_LEN + 1], const char *in)
{
    static const size_t dash[4] = {8, 13, 18, 23};
    if (in == NULL || strlen(in) != SK_RP_UUID_LEN)
        return false;
    size_t d = 0, nb = 0;
    for (size_t i = 0; i < SK_RP_UUID_LEN; i++) {
        if (d < 4 && i == dash[d]) {
            if (in[i] != '-')
                return false;
            d++;
            continue;
        }
        if (!isxdigit((unsigned char)in[i]))
            return false;
    }
    for (size_t i = 0; i < SK_RP_UUID_LEN; i++)
        text[i] = (char)tolower((unsigned char)in[i]);
    text[SK_RP_UUID_LEN] = '\0';
    for (size_t i = 0; i < SK_RP_UUID_LEN; i += 2) {
        if (text[i] == '-')
            i++;
        if (sk_svc_unhex(&bin[nb++], 1, &text[i], 2) != SK_OK)
            return false;
    }
    return nb == 16;
}

bool sk_rp_name_ok(const char *name)
{
    size_t len = name != NULL ? strlen(name) : 0;
    if (len == 0 || len > SK_RP_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c < 0x20 || c == 0x7f)
            return false;
    }
    /* valid UTF-8: let jansson judge it */
    json_t *s = json_string(name);
    bool ok = s != NULL;
    json_decref(s);
    return ok;
}

static const char *const level_words[] = {"ADVANCED", "QUALIFIED"};
static const char *const purpose_words[] = {"auth", "sign", "certchoice", "seal"};

static bool words_parse(unsigned *bits, const char *list, const char *const *words, size_t n)
{
    unsigned b = 0;
    const char *p = list;
    if (list == NULL || list[0] == '\0')
        return false;
    while (*p != '\0') {
        size_t len = strcspn(p, ",");
        bool found = false;
        for (size_t i = 0; i < n; i++)
            if (strlen(words[i]) == len && strncasecmp(p, words[i], len) == 0) {
                b |= 1u << i;
                found = true;
            }
        if (!found)
            return false;
        p += len;
        if (*p == ',')
            p++;
    }
    *bits = b;
    return b != 0;
}

static void words_text(char *out, size_t cap, unsigned bits, const char *const *words, size_t n)
{
    size_t at = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n; i++)
        if (bits & (1u << i)) {
            int w = snprintf(out + at, cap - at, "%s%s", at ? "," : "", words[i]);
            if (w < 0 || (size_t)w >= cap - at)
                return;
            at += (size_t)w;
        }
}

bool sk_rp_levels_parse(unsigned *bits, const char *list)
{
    return words_parse(bits, list, level_words, 2);
}

bool sk_rp_purposes_parse(unsigned *bits, const char *list)
{
    return words_parse(bits, list, purpose_words, 4);
}

void sk_rp_levels_text(char *out, size_t cap, unsigned bits)
{
    words_text(out, cap, bits, level_words, 2);
}

void sk_rp_purposes_text(char *out, size_t cap, unsigned bits)
{
    words_text(out, cap, bits, purpose_words, 4);
}

/* A JSON array of words into bits (false: not an array of known words). */
static bool json_words(unsigned *bits, json_t *arr, const char *const *words, size_t n)
{
    size_t i;
    json_t *v;
    unsigned b = 0;
    if (!json_is_array(arr))
        return false;
    json_array_foreach(arr, i, v)
    {
        bool found = false;
        for (size_t k = 0; k < n; k++)
            if (json_is_string(v) && strcmp(json_string_value(v), words[k]) == 0) {
                b |= 1u << k;
                found = true;
            }
        if (!found)
            return false;
    }
    *bits = b;
    return b != 0;
}

static bool entry_from_json(sk_rp_entry *e, json_t *o, const char **why)
{
    memset(e, 0, sizeof *e);
    json_t *names = json_object_get(o, "names"), *v;
    const char *cred = json_string_value(json_object_get(o, "credential"));
    size_t i;
    *why = "uuid";
    if (!sk_rp_uuid_parse(e->uuid_bin, e->uuid, json_string_value(json_object_get(o, "uuid"))))
        return false;
    *why = "names";
    if (!json_is_array(names) || json_array_size(names) == 0 ||
        json_array_size(names) > SK_RP_NAMES_MAX)
        return false;
    json_array_foreach(names, i, v)
    {
        const char *s = json_string_value(v);
        if (!sk_rp_name_ok(s))
            return false;
        memcpy(e->names[e->n_names++], s, strlen(s) + 1);
    }
    *why = "credential";
    if (cred != NULL && strcmp(cred, "certificate") == 0) {
        const char *h = json_string_value(json_object_get(o, "cert_sha256"));
        if (h == NULL || sk_svc_unhex(e->cert_sha256, 32, h, strlen(h)) != SK_OK)
            return false;
    } else if (cred != NULL && strcmp(cred, "address") == 0) {
        json_t *addrs = json_object_get(o, "addresses");
        e->by_address = true;
        if (!json_is_array(addrs) || json_array_size(addrs) == 0 ||
            json_array_size(addrs) > SK_RP_ADDRS_MAX)
            return false;
        json_array_foreach(addrs, i, v)
        {
            const char *s = json_string_value(v);
            if (s == NULL || s[0] == '\0' || strlen(s) > SK_RP_ADDR_MAX)
                return false;
            memcpy(e->addrs[e->n_addrs++], s, strlen(s) + 1);
        }
    } else {
        return false;
    }
    *why = "levels";
    if (!json_words(&e->levels, json_object_get(o, "levels"), level_words, 2))
        return false;
    *why = "purposes";
    if (!json_words(&e->purposes, json_object_get(o, "purposes"), purpose_words, 4))
        return false;
    *why = "rate";
    json_int_t rate = json_integer_value(json_object_get(o, "rate"));
    json_int_t pending = json_integer_value(json_object_get(o, "pending"));
    if (rate < 1 || rate > 100000)
        return false;
    *why = "pending";
    if (pending < 1 || pending > 100000)
        return false;
    e->rate = (unsigned)rate;
    e->pending = (unsigned)pending;
    return true;
}

int sk_rp_registry_load(sk_rp_entry **rps, size_t *n, const char *path, char *err,
                        size_t err_len)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    *rps = NULL;
    *n = 0;
    /* room for the whole registry, so that a caller can add one */
    sk_rp_entry *arr = calloc(SK_RP_MAX, sizeof *arr);
    if (arr == NULL)
        return SK_ERR_NOMEM;
    int rc = sk_file_read(&buf, &len, path, REGISTRY_MAX_FILE, 0);
    if (rc == SK_ERR_NOT_FOUND) {
        *rps = arr;
        return SK_OK;
    }
    if (rc != SK_OK) {
        snprintf(err, err_len, "%s: %s", path, sk_svc_strerror(rc));
        free(arr);
        return rc;
    }
    json_error_t jerr;
    json_t *root = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &jerr);
    sk_file_free(buf, len);
    json_t *list = json_object_get(root, "relying_parties"), *v;
    size_t i, count = 0;
    if (root == NULL) {
        snprintf(err, err_len, "%s: line %d: %s", path, jerr.line, jerr.text);
        rc = SK_SVC_ERR_CONFIG;
    } else if (!json_is_array(list) || json_array_size(list) > SK_RP_MAX) {
        snprintf(err, err_len, "%s: expected {\"relying_parties\": [...]} with at most %u "
                 "entries", path, SK_RP_MAX);
        rc = SK_SVC_ERR_CONFIG;
    } else {
        json_array_foreach(list, i, v)
        {
            const char *why = "";
            if (!json_is_object(v) || !entry_from_json(&arr[count], v, &why)) {
                snprintf(err, err_len, "%s: entry %zu: missing or malformed \"%s\"", path,
                         i + 1, why);
                rc = SK_SVC_ERR_CONFIG;
                break;
            }
            if (sk_rp_registry_find(arr, count, arr[count].uuid) != NULL) {
                snprintf(err, err_len, "%s: entry %zu: UUID %s twice", path, i + 1,
                         arr[count].uuid);
                rc = SK_SVC_ERR_CONFIG;
                break;
            }
            count++;
        }
    }
    json_decref(root);
    if (rc != SK_OK) {
        free(arr);
        return rc;
    }
    *rps = arr;
    *n = count;
    return SK_OK;
}

static json_t *words_json(unsigned bits, const char *const *words, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a != NULL && i < n; i++)
        if (bits & (1u << i))
            json_array_append_new(a, json_string(words[i]));
    return a;
}

int sk_rp_registry_save(const char *path, const sk_rp_entry *rps, size_t n)
{
    json_t *list = json_array();
    json_t *root = json_pack("{s:o}", "relying_parties", list);
    if (root == NULL)
        return SK_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        const sk_rp_entry *e = &rps[i];
        json_t *o = json_object(), *names = json_array();
        for (size_t k = 0; k < e->n_names; k++)
            json_array_append_new(names, json_string(e->names[k]));
        json_object_set_new(o, "uuid", json_string(e->uuid));
        json_object_set_new(o, "names", names);
        if (e->by_address) {
            json_t *addrs = json_array();
            for (size_t k = 0; k < e->n_addrs; k++)
                json_array_append_new(addrs, json_string(e->addrs[k]));
            json_object_set_new(o, "credential", json_string("address"));
            json_object_set_new(o, "addresses", addrs);
        } else {
            char hex[65];
            sk_svc_hex(hex, e->cert_sha256, 32);
            json_object_set_new(o, "credential", json_string("certificate"));
            json_object_set_new(o, "cert_sha256", json_string(hex));
        }
        json_object_set_new(o, "levels", words_json(e->levels, level_words, 2));
        json_object_set_new(o, "purposes", words_json(e->purposes, purpose_words, 4));
        json_object_set_new(o, "rate", json_integer(e->rate));
        json_object_set_new(o, "pending", json_integer(e->pending));
        json_array_append_new(list, o);
    }
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (text == NULL)
        return SK_ERR_NOMEM;
    size_t len = strlen(text);
    text[len] = '\0';
    char *withnl = malloc(len + 2);
    int rc = SK_ERR_NOMEM;
    if (withnl != NULL) {
        memcpy(withnl, text, len);
        withnl[len] = '\n';
        rc = sk_file_write_atomic(path, (const uint8_t *)withnl, len + 1, SK_FILE_PUBLIC_MODE, 0);
        free(withnl);
    }
    free(text);
    return rc;
}

const sk_rp_entry *sk_rp_registry_find(const sk_rp_entry *rps, size_t n, const char *uuid)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(rps[i].uuid, uuid) == 0)
            return &rps[i];
    return NULL;
}
