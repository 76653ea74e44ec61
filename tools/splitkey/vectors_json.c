/* SPDX-License-Identifier: Apache-2.0 */
/* vectors_json.c - the JSON form of a two-party vector (through jansson):
 * writing it, and reading it back strictly (every member known and present,
 * fixed widths). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vectors.h"

/* A JSON string holding the lower-case hex of b (NULL when out of memory). */
static json_t *hex_string(const vec_bytes *b)
{
    size_t cap = 2 * b->len + 1;
    char *hex = malloc(cap);
    json_t *s;

    if (hex == NULL)
        return NULL;
    util_hex(hex, b->p, b->len);
    s = json_stringn(hex, cap - 1);
    sk_wipe(hex, cap);
    free(hex);
    return s;
}

int vec_write_json(FILE *f, const vec *v)
{
    json_t *o = json_object();
    /* json_object_set_new takes the value even when it fails, and fails on a
     * NULL object or value: one check per member is enough. */
    bool ok = json_object_set_new(o, "format", json_string(VEC_FORMAT)) == 0 &&
              json_object_set_new(o, "comment", json_string(vec_comment)) == 0 &&
              json_object_set_new(o, "profile", json_string(sk_profile_name(v->profile))) == 0 &&
              json_object_set_new(o, "k", json_integer(sk_profile_bits(v->profile))) == 0 &&
              json_object_set_new(o, "scheme", json_string(sk_scheme_name(v->scheme))) == 0 &&
              json_object_set_new(o, "hash", json_string(sk_hash_name(v->hash))) == 0 &&
              json_object_set_new(o, "drbg", json_string(vec_drbg_description)) == 0;
    for (int i = 0; ok && i < VF_COUNT; i++)
        ok = json_object_set_new(o, vec_field_names[i], hex_string(&v->f[i])) == 0;
    if (ok)
        ok = cli_json_write(f, o) == 0;
    json_decref(o);
    return ok ? 0 : -1;
}

#define VEC_MAX_SEED 256
#define VEC_MAX_MESSAGE 4096

static int expect_string(json_t *obj, const char *key, const char **out, char *err,
                         size_t err_len)
{
    json_t *m = json_object_get(obj, key);
    if (m == NULL) {
        snprintf(err, err_len, "field %s: missing", key);
        return -1;
    }
    if (!json_is_string(m)) {
        snprintf(err, err_len, "field %s: not a string", key);
        return -1;
    }
    *out = json_string_value(m);
    return 0;
}

int vec_from_json(vec *out, json_t *obj, char *err, size_t err_len)
{
    static const char *const text_fields[] = {"format", "comment", "profile", "k",
                                              "scheme", "hash",    "drbg"};
    const char *s;
    json_t *m;
    size_t expected_members = sizeof text_fields / sizeof text_fields[0] + VF_COUNT;

    memset(out, 0, sizeof *out);
    /* Every member must be known: a misspelt field is an error, not ignored.
     * jansson keeps the members in file order. */
    for (void *it = json_object_iter(obj); it != NULL; it = json_object_iter_next(obj, it)) {
        const char *key = json_object_iter_key(it);
        bool known = false;
        for (size_t j = 0; j < sizeof text_fields / sizeof text_fields[0]; j++)
            known = known || strcmp(key, text_fields[j]) == 0;
        for (int j = 0; j < VF_COUNT; j++)
            known = known || strcmp(key, vec_field_names[j]) == 0;
        if (!known) {
            snprintf(err, err_len, "field %s: unknown member", key);
            return -1;
        }
    }
    if (expect_string(obj, "format", &s, err, err_len) != 0)
        return -1;
    if (strcmp(s, VEC_FORMAT) != 0) {
        snprintf(err, err_len, "field format: expected \"%s\"", VEC_FORMAT);
        return -1;
    }
    if (expect_string(obj, "comment", &s, err, err_len) != 0)
        return -1;
    if (strcmp(s, vec_comment) != 0) {
        snprintf(err, err_len, "field comment: differs from the canonical comment");
        return -1;
    }
    if (expect_string(obj, "profile", &s, err, err_len) != 0)
        return -1;
    if (sk_profile_parse(&out->profile, s) != SK_OK) {
        snprintf(err, err_len, "field profile: unknown profile \"%s\"", s);
        return -1;
    }
    if (expect_string(obj, "scheme", &s, err, err_len) != 0)
        return -1;
    if (sk_scheme_parse(&out->scheme, s) != SK_OK) {
        snprintf(err, err_len, "field scheme: unknown scheme \"%s\"", s);
        return -1;
    }
    if (expect_string(obj, "hash", &s, err, err_len) != 0)
        return -1;
    if (sk_hash_parse(&out->hash, s) != SK_OK) {
        snprintf(err, err_len, "field hash: unknown hash \"%s\"", s);
        return -1;
    }
    if (expect_string(obj, "drbg", &s, err, err_len) != 0)
        return -1;
    if (strcmp(s, vec_drbg_description) != 0) {
        snprintf(err, err_len, "field drbg: not the DRBG this format uses");
        return -1;
    }
    m = json_object_get(obj, "k");
    if (m == NULL || !json_is_integer(m)) {
        snprintf(err, err_len, "field k: missing or not an integer");
        return -1;
    }
    if (json_integer_value(m) != (json_int_t)sk_profile_bits(out->profile)) {
        snprintf(err, err_len,
                 "field k: %" JSON_INTEGER_FORMAT " does not match profile %s (k = %u)",
                 json_integer_value(m), sk_profile_name(out->profile),
                 sk_profile_bits(out->profile));
        return -1;
    }
    for (int i = 0; i < VF_COUNT; i++) {
        const char *name = vec_field_names[i];
        size_t want = vec_field_len((vec_field)i, out->profile, out->scheme, out->hash);
        size_t len;
        uint8_t *bytes;

        if (expect_string(obj, name, &s, err, err_len) != 0)
            goto fail;
        bytes = util_unhex(s, &len);
        if (bytes == NULL) {
            snprintf(err, err_len, "field %s: not lower-case hex of whole bytes", name);
            goto fail;
        }
        out->f[i].p = bytes;
        out->f[i].len = len;
        if (want != 0 && len != want) {
            snprintf(err, err_len, "field %s: %zu bytes, expected %zu", name, len, want);
            goto fail;
        }
        if (want == 0 && i != VF_SALT && i != VF_MESSAGE && (len == 0 || len > VEC_MAX_SEED)) {
            snprintf(err, err_len, "field %s: a seed of 1..%d bytes expected", name,
                     VEC_MAX_SEED);
            goto fail;
        }
        if (i == VF_MESSAGE && len > VEC_MAX_MESSAGE) {
            snprintf(err, err_len, "field message: longer than %d bytes", VEC_MAX_MESSAGE);
            goto fail;
        }
    }
    if (json_object_size(obj) != expected_members) {
        snprintf(err, err_len, "object has %zu members, expected %zu", json_object_size(obj),
                 expected_members);
        goto fail;
    }
    return 0;

fail:
    vec_free(out);
    return -1;
}

