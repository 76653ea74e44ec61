/* vectors_json.c - the JSON form of a two-party vector: writing it, and
 * reading it back strictly (every member known and present, fixed widths). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vectors.h"

void vec_write_json(FILE *f, const vec *v)
{
    json_writer w;
    json_begin(&w, f);
    json_string(&w, "format", VEC_FORMAT);
    json_string(&w, "comment", vec_comment);
    json_string(&w, "profile", sk_profile_name(v->profile));
    json_int(&w, "k", sk_profile_bits(v->profile));
    json_string(&w, "scheme", sk_scheme_name(v->scheme));
    json_string(&w, "hash", sk_hash_name(v->hash));
    json_string(&w, "drbg", vec_drbg_description);
    for (int i = 0; i < VF_COUNT; i++)
        json_hex(&w, vec_field_names[i], v->f[i].p, v->f[i].len);
    json_end(&w);
}

#define VEC_MAX_SEED 256
#define VEC_MAX_MESSAGE 4096

static int expect_string(const json_object *obj, const char *key, const char **out, char *err,
                         size_t err_len)
{
    const json_member *m = json_get(obj, key);
    if (m == NULL) {
        snprintf(err, err_len, "field %s: missing", key);
        return -1;
    }
    if (m->type != JSON_STRING) {
        snprintf(err, err_len, "field %s: not a string", key);
        return -1;
    }
    *out = m->str;
    return 0;
}

int vec_from_json(vec *out, const json_object *obj, char *err, size_t err_len)
{
    static const char *const text_fields[] = {"format", "comment", "profile", "k",
                                              "scheme", "hash",    "drbg"};
    const char *s;
    const json_member *m;
    size_t expected_members = sizeof text_fields / sizeof text_fields[0] + VF_COUNT;

    memset(out, 0, sizeof *out);
    /* Every member must be known: a misspelt field is an error, not ignored. */
    for (size_t i = 0; i < obj->count; i++) {
        bool known = false;
        for (size_t j = 0; j < sizeof text_fields / sizeof text_fields[0]; j++)
            known = known || strcmp(obj->members[i].key, text_fields[j]) == 0;
        for (int j = 0; j < VF_COUNT; j++)
            known = known || strcmp(obj->members[i].key, vec_field_names[j]) == 0;
        if (!known) {
            snprintf(err, err_len, "field %s: unknown member", obj->members[i].key);
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
    m = json_get(obj, "k");
    if (m == NULL || m->type != JSON_INT) {
        snprintf(err, err_len, "field k: missing or not an integer");
        return -1;
    }
    if (m->num != sk_profile_bits(out->profile)) {
        snprintf(err, err_len, "field k: %lu does not match profile %s (k = %u)", m->num,
                 sk_profile_name(out->profile), sk_profile_bits(out->profile));
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
    if (obj->count != expected_members) {
        snprintf(err, err_len, "object has %zu members, expected %zu", obj->count,
                 expected_members);
        goto fail;
    }
    return 0;

fail:
    vec_free(out);
    return -1;
}

