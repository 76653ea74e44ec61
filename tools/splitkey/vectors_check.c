/* SPDX-License-Identifier: Apache-2.0 */
/* vectors_check.c - `splitkey vectors --check DIR`: recomputes every vector
 * three ways and names each field that does not match.
 *   1. Plain GMP arithmetic on the file's own values (vec_check_math): the
 *      relations of the split signature (tests/vectors/twoparty/README.md)
 *      written out directly, independent of the
 *      library's constant-time code.
 *   2. The library's two-party path (device partial, server completion) run
 *      on the file's keys, salt and message.
 *   3. The whole vector regenerated from its seeds with the DRBG, keys
 *      included, compared field by field.
 * Finally the signature is verified under n with sk_verify. */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <errno.h>
#include <gmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "vectors.h"

#define MAX_VECTOR_FILE (1u << 20)
#define MAX_CACHED_KEYS 8

static void mpz_of(mpz_t r, const vec_bytes *b) { sk_mpz_from_bytes(r, b->p, b->len); }

/* Checks a key's primes against the key rules: both probable primes of exactly
 * k/2 bits, p < q (vectors list them in that order for the client key; any
 * order for the server key), |p - q| > 2^(k/2 - 100), p * q = n and
 * n >= ceil(sqrt(2) * 2^(k-1)), that is n^2 >= 2^(2k - 1). */
static void check_prime_pair(const vec *v, const mpz_t p, const mpz_t q, const mpz_t n,
                             vec_field fp, vec_field fq, vec_field fn, vec_report_fn report,
                             void *ctx, int *failures)
{
    unsigned k = sk_profile_bits(v->profile);
    mpz_t t, bound;
    mpz_inits(t, bound, NULL);
    if (mpz_sizeinbase(p, 2) != k / 2 || mpz_probab_prime_p(p, 32) == 0) {
        report(ctx, vec_field_names[fp], "is not a prime of exactly k/2 bits");
        (*failures)++;
    }
    if (mpz_sizeinbase(q, 2) != k / 2 || mpz_probab_prime_p(q, 32) == 0) {
        report(ctx, vec_field_names[fq], "is not a prime of exactly k/2 bits");
        (*failures)++;
    }
    if (fp == VF_P1 && mpz_cmp(p, q) >= 0) {
        report(ctx, vec_field_names[fp], "is not below q1 (the vectors list p1 < q1)");
        (*failures)++;
    }
    mpz_sub(t, p, q);
    mpz_abs(t, t);
    mpz_set_ui(bound, 0);
    mpz_setbit(bound, k / 2 - 100);
    if (mpz_cmp(t, bound) <= 0) {
        report(ctx, vec_field_names[fq], "is within 2^(k/2 - 100) of the other prime");
        (*failures)++;
    }
    mpz_mul(t, p, q);
    if (mpz_cmp(t, n) != 0) {
        report(ctx, vec_field_names[fn], fn == VF_N1 ? "is not p1 * q1" : "is not p2 * q2");
        (*failures)++;
    }
    mpz_mul(t, n, n);
    mpz_set_ui(bound, 0);
    mpz_setbit(bound, 2 * k - 1);
    if (mpz_cmp(t, bound) < 0) {
        report(ctx, vec_field_names[fn], "is below sqrt(2) * 2^(k-1)");
        (*failures)++;
    }
    mpz_clears(t, bound, NULL);
}

int vec_check_math(const vec *v, vec_report_fn report, void *ctx)
{
    unsigned k = sk_profile_bits(v->profile);
    int failures = 0;
    uint8_t *em = NULL, digest[SK_MAX_HASH_LEN];
    size_t em_len = v->f[VF_EM].len;
    sk_pubkey *pub = NULL;
    mpz_t e, n1, p1, q1, d1, dc, ds, p2, q2, d2, n2, n, m, y, s1, s2, s, t, u, lambda;
    int rc;

#define FAIL(field, what)                                                                   \
    do {                                                                                    \
        report(ctx, vec_field_names[field], what);                                          \
        failures++;                                                                         \
    } while (0)

    mpz_inits(e, n1, p1, q1, d1, dc, ds, p2, q2, d2, n2, n, m, y, s1, s2, s, t, u, lambda, NULL);
    mpz_of(e, &v->f[VF_E]);
    mpz_of(n1, &v->f[VF_N1]);
    mpz_of(p1, &v->f[VF_P1]);
    mpz_of(q1, &v->f[VF_Q1]);
    mpz_of(d1, &v->f[VF_D1]);
    mpz_of(dc, &v->f[VF_DC]);
    mpz_of(ds, &v->f[VF_DS]);
    mpz_of(p2, &v->f[VF_P2]);
    mpz_of(q2, &v->f[VF_Q2]);
    mpz_of(d2, &v->f[VF_D2]);
    mpz_of(n2, &v->f[VF_N2]);
    mpz_of(n, &v->f[VF_N]);
    mpz_of(m, &v->f[VF_EM]);

    /* The keys. */
    if (mpz_cmp_ui(e, SK_E) != 0)
        FAIL(VF_E, "is not 65537");
    if (mpz_sizeinbase(n1, 2) != k || mpz_even_p(n1))
        FAIL(VF_N1, "is not an odd integer of exactly k bits");
    /* The client key and its split. */
    check_prime_pair(v, p1, q1, n1, VF_P1, VF_Q1, VF_N1, report, ctx, &failures);
    mpz_sub_ui(t, p1, 1);
    mpz_sub_ui(u, q1, 1);
    mpz_lcm(lambda, t, u);
    if (mpz_sgn(lambda) == 0 || mpz_invert(t, e, lambda) == 0) {
        FAIL(VF_P1, "e is not invertible modulo lcm(p1 - 1, q1 - 1)");
    } else {
        if (mpz_cmp(t, d1) != 0)
            FAIL(VF_D1, "is not e^-1 mod lcm(p1 - 1, q1 - 1)");
        mpz_sub(u, d1, dc);
        mpz_mod(u, u, lambda);
        if (mpz_cmp(u, ds) != 0)
            FAIL(VF_DS, "is not (d1 - dc) mod lcm(p1 - 1, q1 - 1)");
    }
    if (mpz_cmp(ds, n1) >= 0)
        FAIL(VF_DS, "is not below n1");
    /* The server key. */
    check_prime_pair(v, p2, q2, n2, VF_P2, VF_Q2, VF_N2, report, ctx, &failures);
    mpz_sub_ui(t, p2, 1);
    mpz_sub_ui(u, q2, 1);
    mpz_lcm(lambda, t, u);
    if (mpz_sgn(lambda) == 0 || mpz_invert(t, e, lambda) == 0) {
        FAIL(VF_P2, "e is not invertible modulo lcm(p2 - 1, q2 - 1)");
        mpz_set_ui(t, 1);
    }
    if (mpz_cmp(t, d2) != 0)
        FAIL(VF_D2, "is not e^-1 mod lcm(p2 - 1, q2 - 1)");
    mpz_mul(t, n1, n2);
    if (mpz_cmp(t, n) != 0)
        FAIL(VF_N, "is not n1 * n2");
    if (mpz_sizeinbase(n, 2) != 2 * k)
        FAIL(VF_N, "does not have exactly 2k bits");
    mpz_gcd(t, n1, n2);
    if (mpz_cmp_ui(t, 1) != 0)
        FAIL(VF_N, "gcd(n1, n2) is not 1");

    /* The encoding. */
    rc = sk_digest(digest, v->f[VF_DIGEST].len, v->hash, v->f[VF_MESSAGE].p,
                   v->f[VF_MESSAGE].len);
    if (rc != SK_OK || memcmp(digest, v->f[VF_DIGEST].p, v->f[VF_DIGEST].len) != 0)
        FAIL(VF_DIGEST, "is not the hash of message");
    em = malloc(em_len);
    if (em == NULL) {
        FAIL(VF_EM, "out of memory");
        goto out;
    }
    rc = sk_encode(em, em_len, v->scheme, v->hash, v->f[VF_DIGEST].p, v->f[VF_DIGEST].len,
                   v->f[VF_SALT].len ? v->f[VF_SALT].p : NULL, v->f[VF_SALT].len, 2 * k);
    if (rc != SK_OK || memcmp(em, v->f[VF_EM].p, em_len) != 0)
        FAIL(VF_EM, "is not the encoding of digest (and salt)");
    if (mpz_cmp(m, n) >= 0 || mpz_sgn(m) == 0)
        FAIL(VF_EM, "is not in [1, n)");

    if (mpz_sgn(n1) == 0)
        goto out; /* nothing below can be computed */

    /* Each relation below is checked between the values as the file gives
     * them, so a line names a relation that really fails in the file. */
    mpz_of(y, &v->f[VF_Y]);
    mpz_of(s1, &v->f[VF_S1]);
    mpz_of(s2, &v->f[VF_S2]);
    mpz_of(s, &v->f[VF_SIGNATURE]);
    mpz_of(d2, &v->f[VF_D2]);
    mpz_of(n2, &v->f[VF_N2]);
    mpz_of(n, &v->f[VF_N]);
    if (mpz_sgn(n2) == 0 || mpz_sgn(n) == 0)
        goto out;

    /* Device: y = em^dc mod n1. */
    mpz_powm(t, m, dc, n1);
    if (mpz_cmp(t, y) != 0)
        FAIL(VF_Y, "is not em^dc mod n1");
    /* dc + ds = d1 (mod lambda1): (em^dc * em^ds)^e = em (mod n1). */
    mpz_powm(u, m, ds, n1);
    mpz_mul(t, t, u);
    mpz_mod(t, t, n1);
    mpz_powm(t, t, e, n1);
    mpz_mod(u, m, n1);
    if (mpz_cmp(t, u) != 0) {
        report(ctx, "dc+ds", "is not a private exponent for n1: (em^dc * em^ds)^e != em (mod n1)");
        failures++;
    }
    /* Server: s1 = y * em^ds mod n1, and the PIN check s1^e = em (mod n1). */
    mpz_powm(t, m, ds, n1);
    mpz_mul(t, t, y);
    mpz_mod(t, t, n1);
    if (mpz_cmp(t, s1) != 0)
        FAIL(VF_S1, "is not y * em^ds mod n1");
    mpz_powm(t, s1, e, n1);
    if (mpz_cmp(t, u) != 0)
        FAIL(VF_S1, "s1^e != em (mod n1)");
    /* s2 = em^d2 mod n2, and s2^e = em (mod n2). */
    mpz_powm(t, m, d2, n2);
    if (mpz_cmp(t, s2) != 0)
        FAIL(VF_S2, "is not em^d2 mod n2");
    mpz_powm(t, s2, e, n2);
    mpz_mod(u, m, n2);
    if (mpz_cmp(t, u) != 0)
        FAIL(VF_S2, "s2^e != em (mod n2)");
    /* signature = s1 + n1 * ((s2 - s1) * n1^-1 mod n2). */
    if (mpz_invert(u, n1, n2) == 0) {
        FAIL(VF_N1, "is not invertible modulo n2");
        goto out;
    }
    mpz_sub(t, s2, s1);
    mpz_mul(t, t, u);
    mpz_mod(t, t, n2);
    mpz_mul(t, t, n1);
    mpz_add(t, t, s1);
    if (mpz_cmp(t, s) != 0)
        FAIL(VF_SIGNATURE, "is not the CRT combination of s1 and s2");
    /* The signature as given in the file, under n as given in the file. */
    mpz_powm(u, s, e, n);
    if (mpz_cmp(u, m) != 0)
        FAIL(VF_SIGNATURE, "signature^e mod n is not em");
    rc = sk_pubkey_from_modulus(&pub, v->f[VF_N].p, v->f[VF_N].len, v->f[VF_E].p,
                                v->f[VF_E].len);
    if (rc == SK_OK)
        rc = sk_verify(pub, v->scheme, v->hash, v->f[VF_DIGEST].p, v->f[VF_DIGEST].len,
                       v->f[VF_SIGNATURE].p, v->f[VF_SIGNATURE].len);
    if (rc != SK_OK)
        FAIL(VF_SIGNATURE, "does not verify under (n, e)");

out:
#undef FAIL
    sk_pubkey_free(pub);
    free(em);
    mpz_clears(e, n1, p1, q1, d1, dc, ds, p2, q2, d2, n2, n, m, y, s1, s2, s, t, u, lambda, NULL);
    return failures;
}

/* ------------------------------------------------------------ the check */

typedef struct check_ctx {
    const char *file;
    int failures;
} check_ctx;

static void report(void *p, const char *field, const char *what)
{
    check_ctx *c = p;
    printf("%s: field %s: %s\n", c->file, field, what);
    c->failures++;
}

/* Compares every byte-string field of got (recomputed) against the file. */
static void compare_all(check_ctx *c, const vec *file, const vec *got, const char *how)
{
    char what[160];
    for (int i = 0; i < VF_COUNT; i++) {
        if (file->f[i].len == got->f[i].len &&
            (got->f[i].len == 0 || memcmp(file->f[i].p, got->f[i].p, got->f[i].len) == 0))
            continue;
        snprintf(what, sizeof what, "differs from the value %s", how);
        report(c, vec_field_names[i], what);
    }
}

typedef struct key_cache {
    vec_keys keys[MAX_CACHED_KEYS];
    int count;
} key_cache;

static bool same_bytes(const vec_bytes *a, const vec_bytes *b)
{
    return a->len == b->len && (a->len == 0 || memcmp(a->p, b->p, a->len) == 0);
}

/* Keys regenerated from the vector's seeds (cached: the vectors of one
 * profile share them).  Returns NULL with *rc set on failure; the result
 * belongs to the cache unless *owned is set. */
static vec_keys *regenerate_keys(key_cache *cache, const vec *v, vec_keys *tmp, bool *owned,
                                 int *rc)
{
    *owned = false;
    for (int i = 0; i < cache->count; i++) {
        vec_keys *k = &cache->keys[i];
        if (k->profile == v->profile && same_bytes(&k->seed_client, &v->f[VF_SEED_CLIENT]) &&
            same_bytes(&k->seed_server, &v->f[VF_SEED_SERVER]))
            return k;
    }
    vec_keys *slot = cache->count < MAX_CACHED_KEYS ? &cache->keys[cache->count] : tmp;
    *rc = vec_keys_generate(slot, v->profile, &v->f[VF_SEED_CLIENT], &v->f[VF_SEED_SERVER]);
    if (*rc != SK_OK)
        return NULL;
    if (slot == tmp)
        *owned = true;
    else
        cache->count++;
    return slot;
}

static void check_canonical(check_ctx *c, const vec *v, const char *base)
{
    char *want[3] = {vec_seed_client(v->profile), vec_seed_server(v->profile),
                     vec_seed(v->profile, v->scheme, v->hash)};
    static const vec_field fields[3] = {VF_SEED_CLIENT, VF_SEED_SERVER, VF_SEED};
    char *msg = vec_message(v->profile, v->scheme, v->hash);
    char *name = vec_file_name(v->profile, v->scheme, v->hash);

    for (int i = 0; i < 3; i++) {
        vec_bytes b = {(uint8_t *)want[i], want[i] ? strlen(want[i]) : 0};
        if (want[i] == NULL || !same_bytes(&b, &v->f[fields[i]]))
            report(c, vec_field_names[fields[i]],
                   "is not the canonical seed for this profile, scheme and hash");
        free(want[i]);
    }
    {
        vec_bytes b = {(uint8_t *)msg, msg ? strlen(msg) : 0};
        if (msg == NULL || !same_bytes(&b, &v->f[VF_MESSAGE]))
            report(c, "message", "is not the canonical message for this vector");
    }
    if (name == NULL || strcmp(name, base) != 0)
        report(c, "profile", "the file name does not match the profile, scheme and hash");
    free(msg);
    free(name);
}

/* Checks one file; returns the number of mismatches (at least 1 when the
 * file cannot be read or parsed). */
static int check_file(const char *path, const char *base, key_cache *cache)
{
    check_ctx c = {path, 0};
    char err[256];
    size_t len;
    uint8_t *text = util_read_file(path, &len, MAX_VECTOR_FILE);
    json_t *obj;
    vec v, got;
    vec_keys file_keys, tmp_keys;
    vec_keys *keys;
    vec_bytes salt = {0};
    bool owned = false;
    int rc, before_regen;

    if (text == NULL) {
        printf("%s: cannot read: %s\n", path, strerror(errno));
        return 1;
    }
    obj = cli_json_parse((const char *)text, len, err, sizeof err);
    sk_wipe(text, len);
    free(text);
    if (obj == NULL) {
        printf("%s: not valid JSON: %s\n", path, err);
        return 1;
    }
    rc = vec_from_json(&v, obj, err, sizeof err);
    json_decref(obj);
    if (rc != 0) {
        printf("%s: %s\n", path, err);
        return 1;
    }

    check_canonical(&c, &v, base);

    /* 1. Independent arithmetic on the file's values. */
    vec_check_math(&v, report, &c);

    /* 2. The library's two-party path on the file's keys, message and salt. */
    rc = vec_keys_from_vec(&file_keys, &v);
    if (rc == SK_OK) {
        rc = vec_compute(&got, &file_keys, v.scheme, v.hash, &v.f[VF_SEED], &v.f[VF_MESSAGE],
                         &v.f[VF_SALT]);
        vec_keys_free(&file_keys);
    }
    if (rc == SK_OK) {
        compare_all(&c, &v, &got, "computed by the library's two-party signing on the file's keys");
        vec_free(&got);
    } else {
        char what[160];
        snprintf(what, sizeof what, "the library's two-party signing on the file's keys failed: %s",
                 sk_strerror(rc));
        report(&c, "signature", what);
    }

    /* 3. Everything again from the seeds. */
    before_regen = c.failures;
    keys = regenerate_keys(cache, &v, &tmp_keys, &owned, &rc);
    if (keys != NULL) {
        char *msg = vec_message(v.profile, v.scheme, v.hash);
        vec_bytes message = {(uint8_t *)msg, msg ? strlen(msg) : 0};
        rc = msg ? vec_salt(&salt, v.scheme, v.hash, &v.f[VF_SEED]) : SK_ERR_NOMEM;
        if (rc == SK_OK)
            rc = vec_compute(&got, keys, v.scheme, v.hash, &v.f[VF_SEED], &message, &salt);
        vec_bytes_free(&salt);
        free(msg);
        if (owned)
            vec_keys_free(keys);
    }
    if (rc == SK_OK) {
        compare_all(&c, &v, &got, "regenerated from the seeds");
        vec_free(&got);
    } else {
        char what[160];
        snprintf(what, sizeof what, "regenerating the vector from the seeds failed: %s",
                 sk_strerror(rc));
        report(&c, "seed", what);
    }

    /* A vector that is consistent in itself but no longer comes out of its
     * seeds points at a changed key generation, not at a damaged file. */
    if (before_regen == 0 && c.failures > 0)
        printf("%s: note: every relation in the file holds; only regeneration from the seeds "
               "differs, so the library's key generation (src/math) has changed. If that is "
               "intended, regenerate the set with 'splitkey vectors --out DIR' and review.\n",
               path);
    vec_free(&v);
    return c.failures;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int vectors_check(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char **names = NULL;
    size_t count = 0, cap = 0, bad = 0;
    key_cache cache;
    int ret = CLI_FAIL;

    memset(&cache, 0, sizeof cache);
    if (d == NULL)
        return cli_read_fail("vectors", "open", dir);
    while ((de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name);
        if (l < 6 || strcmp(de->d_name + l - 5, ".json") != 0 || de->d_name[0] == '.')
            continue;
        if (count == cap) {
            size_t ncap = cap ? 2 * cap : 32;
            char **nn = realloc(names, ncap * sizeof *nn);
            if (nn == NULL)
                goto out;
            names = nn;
            cap = ncap;
        }
        names[count] = strdup(de->d_name);
        if (names[count] == NULL)
            goto out;
        count++;
    }
    if (count == 0) {
        cli_fail("vectors", "no *.json files in %s", dir);
        goto out;
    }
    qsort(names, count, sizeof *names, compare_names);
    for (size_t i = 0; i < count; i++) {
        char *path = malloc(strlen(dir) + strlen(names[i]) + 2);
        int failures;
        if (path == NULL)
            goto out;
        sprintf(path, "%s/%s", dir, names[i]);
        failures = check_file(path, names[i], &cache);
        if (failures == 0)
            printf("%s: ok\n", path);
        else {
            printf("%s: FAILED (%d mismatches)\n", path, failures);
            bad++;
        }
        free(path);
    }
    if (bad == 0) {
        printf("checked %zu vectors: all match\n", count);
        ret = CLI_OK;
    } else {
        printf("checked %zu vectors: %zu do not match\n", count, bad);
    }

out:
    if (d != NULL)
        closedir(d);
    for (size_t i = 0; i < count; i++)
        free(names[i]);
    free(names);
    for (int i = 0; i < cache.count; i++)
        vec_keys_free(&cache.keys[i]);
    return ret;
}
