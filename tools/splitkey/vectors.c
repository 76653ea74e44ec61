/* vectors.c - `splitkey vectors`: computing the deterministic two-party
 * vectors from their seeds, their JSON form, and `vectors --out`.  The check
 * (`vectors --check`) is in vectors_check.c. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <gmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"
#include "vectors.h"

#define CMD "vectors"

const char *const vec_field_names[VF_COUNT] = {
    "seed_client", "seed_server", "seed", "e",  "n1", "p1",      "q1",     "d1",
    "dc",          "ds",          "p2",   "q2", "d2", "n2",      "n",      "message",
    "digest",      "salt",        "em",   "y",  "s1", "s2",      "signature",
};

const sk_profile vec_profiles[3] = {SK_PROFILE_4K, SK_PROFILE_6K, SK_PROFILE_8K};
const sk_scheme vec_schemes[2] = {SK_SCHEME_PKCS1, SK_SCHEME_PSS};
const sk_hash vec_hashes[3] = {SK_HASH_SHA256, SK_HASH_SHA384, SK_HASH_SHA512};

const char vec_drbg_description[] =
    "ChaCha20 keystream (RFC 8439 block function, 96-bit all-zero nonce, block counter from 0) "
    "under the key SHA-256(\"splitkey drbg v1\" || seed); successive draws take successive "
    "keystream bytes";

const char vec_comment[] =
    "Two-party RSA test vector of splitkey: y = em^dc mod n1, s1 = y * em^ds mod n1, "
    "s2 = em^d2 mod n2, signature = CRT(s1, s2) mod n = n1 * n2, where dc + ds = d1 "
    "(mod lcm(p1 - 1, q1 - 1)). "
    "All integers are big-endian hex. See README.md beside this file.";

size_t vec_field_len(vec_field field, sk_profile profile, sk_scheme scheme, sk_hash hash)
{
    size_t kb = sk_profile_bits(profile) / 8; /* k/8 */
    size_t hl = sk_hash_len(hash);
    switch (field) {
    case VF_SEED_CLIENT:
    case VF_SEED_SERVER:
    case VF_SEED:
    case VF_MESSAGE:
        return 0;
    case VF_E:
        return 3;
    case VF_N1:
    case VF_D1:
    case VF_DS:
    case VF_D2:
    case VF_N2:
    case VF_Y:
    case VF_S1:
    case VF_S2:
        return kb;
    case VF_DC:
        return kb + 16;
    case VF_P1:
    case VF_Q1:
    case VF_P2:
    case VF_Q2:
        return kb / 2;
    case VF_N:
    case VF_EM:
    case VF_SIGNATURE:
        return 2 * kb;
    case VF_DIGEST:
        return hl;
    case VF_SALT:
        return scheme == SK_SCHEME_PSS ? hl : 0;
    case VF_COUNT:
        break;
    }
    return 0;
}

static char *str_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *str_printf(const char *fmt, ...)
{
    va_list ap;
    int n;
    char *s;
    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    s = malloc((size_t)n + 1);
    if (s == NULL)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

char *vec_seed_client(sk_profile profile)
{
    return str_printf(VEC_SEED_PREFIX "%s/client", sk_profile_name(profile));
}

char *vec_seed_server(sk_profile profile)
{
    return str_printf(VEC_SEED_PREFIX "%s/server", sk_profile_name(profile));
}

char *vec_seed(sk_profile profile, sk_scheme scheme, sk_hash hash)
{
    return str_printf(VEC_SEED_PREFIX "%s/%s/%s", sk_profile_name(profile),
                      sk_scheme_name(scheme), sk_hash_name(hash));
}

char *vec_message(sk_profile profile, sk_scheme scheme, sk_hash hash)
{
    return str_printf("splitkey two-party RSA test vector: profile %s, scheme %s, hash %s",
                      sk_profile_name(profile), sk_scheme_name(scheme), sk_hash_name(hash));
}

char *vec_file_name(sk_profile profile, sk_scheme scheme, sk_hash hash)
{
    return str_printf("%s-%s-%s.json", sk_profile_name(profile), sk_scheme_name(scheme),
                      sk_hash_name(hash));
}

int vec_bytes_set(vec_bytes *b, const void *data, size_t len)
{
    vec_bytes_free(b);
    b->p = malloc(len + 1);
    if (b->p == NULL)
        return SK_ERR_NOMEM;
    if (len > 0)
        memcpy(b->p, data, len);
    b->len = len;
    return SK_OK;
}

/* Allocates a zeroed buffer of len bytes. */
static int vec_bytes_alloc(vec_bytes *b, size_t len)
{
    vec_bytes_free(b);
    b->p = calloc(1, len + 1);
    if (b->p == NULL)
        return SK_ERR_NOMEM;
    b->len = len;
    return SK_OK;
}

void vec_bytes_free(vec_bytes *b)
{
    if (b->p != NULL) {
        sk_wipe(b->p, b->len);
        free(b->p);
    }
    b->p = NULL;
    b->len = 0;
}

void vec_keys_free(vec_keys *keys)
{
    vec_bytes_free(&keys->seed_client);
    vec_bytes_free(&keys->seed_server);
    vec_bytes_free(&keys->n1);
    vec_bytes_free(&keys->p1);
    vec_bytes_free(&keys->q1);
    vec_bytes_free(&keys->d1);
    vec_bytes_free(&keys->dc);
    vec_bytes_free(&keys->ds);
    vec_bytes_free(&keys->p2);
    vec_bytes_free(&keys->q2);
}

void vec_free(vec *v)
{
    for (int i = 0; i < VF_COUNT; i++)
        vec_bytes_free(&v->f[i]);
}

static int private_exponent(uint8_t *out, size_t len, const vec_bytes *p, const vec_bytes *q);

/* The client key generation wipes p1 and q1; the vectors publish them so that
 * the split ds = (d1 - dc) mod lambda1 can be checked.  They follow from n1,
 * e and dc + ds: e * (dc + ds) - 1 is a multiple of lambda1, and a multiple of
 * lambda factors n (RFC 8017 does not need it; this is the classical argument
 * of Miller, run with the deterministic bases 2, 3, 4, ...).  Writes p1 < q1
 * and d1 = e^-1 mod lcm(p1 - 1, q1 - 1). */
static int recover_client_primes(vec_keys *keys)
{
    size_t half = keys->n1.len / 2;
    mpz_t n, m, r, a, x, y, nm1, p, q, t;
    int rc = SK_ERR_KEY_MISMATCH;
    mp_bitcnt_t twos;

    mpz_inits(n, m, r, a, x, y, nm1, p, q, t, NULL);
    sk_mpz_from_bytes(n, keys->n1.p, keys->n1.len);
    sk_mpz_from_bytes(m, keys->dc.p, keys->dc.len);
    sk_mpz_from_bytes(t, keys->ds.p, keys->ds.len);
    mpz_add(m, m, t);
    mpz_mul_ui(m, m, SK_E);
    mpz_sub_ui(m, m, 1);
    mpz_sub_ui(nm1, n, 1);
    if (mpz_sgn(m) <= 0 || mpz_cmp_ui(n, 15) < 0)
        goto out;
    twos = mpz_scan1(m, 0);
    mpz_tdiv_q_2exp(r, m, twos);
    for (unsigned long base = 2; base < 1000 && rc != SK_OK; base++) {
        mpz_set_ui(a, base);
        mpz_powm(x, a, r, n);
        if (mpz_cmp_ui(x, 1) == 0 || mpz_cmp(x, nm1) == 0)
            continue;
        for (mp_bitcnt_t i = 0; i < twos; i++) {
            mpz_powm_ui(y, x, 2, n);
            if (mpz_cmp_ui(y, 1) == 0) {
                /* x is a non-trivial square root of 1 */
                mpz_sub_ui(t, x, 1);
                mpz_gcd(p, t, n);
                rc = SK_OK;
                break;
            }
            if (mpz_cmp(y, nm1) == 0)
                break;
            mpz_set(x, y);
        }
    }
    if (rc != SK_OK)
        goto out;
    mpz_divexact(q, n, p);
    if (mpz_cmp(p, q) > 0)
        mpz_swap(p, q);
    rc = vec_bytes_alloc(&keys->p1, half);
    if (rc == SK_OK)
        rc = vec_bytes_alloc(&keys->q1, half);
    if (rc == SK_OK)
        rc = vec_bytes_alloc(&keys->d1, keys->n1.len);
    if (rc == SK_OK)
        rc = sk_mpz_to_bytes(keys->p1.p, half, p);
    if (rc == SK_OK)
        rc = sk_mpz_to_bytes(keys->q1.p, half, q);
    if (rc == SK_OK)
        rc = private_exponent(keys->d1.p, keys->d1.len, &keys->p1, &keys->q1);

out:
    mpz_clears(n, m, r, a, x, y, nm1, p, q, t, NULL);
    return rc;
}

int vec_keys_generate(vec_keys *out, sk_profile profile, const vec_bytes *seed_client,
                      const vec_bytes *seed_server)
{
    unsigned k = sk_profile_bits(profile);
    size_t kb = k / 8;
    sk_drbg drbg;
    sk_client_share *client = NULL;
    sk_server_key *server = NULL;
    uint8_t *skey = NULL;
    size_t skey_len = sk_server_key_len(profile);
    int rc;

    memset(out, 0, sizeof *out);
    out->profile = profile;
    if (k == 0)
        return SK_ERR_ARG;
    rc = vec_bytes_set(&out->seed_client, seed_client->p, seed_client->len);
    if (rc == SK_OK)
        rc = vec_bytes_set(&out->seed_server, seed_server->p, seed_server->len);
    if (rc == SK_OK)
        rc = vec_bytes_alloc(&out->n1, kb);
    if (rc == SK_OK)
        rc = vec_bytes_alloc(&out->ds, kb);
    if (rc == SK_OK)
        rc = vec_bytes_alloc(&out->dc, kb + 16);
    if (rc == SK_OK)
        rc = vec_bytes_alloc(&out->p2, kb / 2);
    if (rc == SK_OK)
        rc = vec_bytes_alloc(&out->q2, kb / 2);
    if (rc != SK_OK)
        goto out;

    /* Client key: SPEC 2.1 with the DRBG in place of the system CSPRNG. */
    sk_drbg_init(&drbg, seed_client->p, seed_client->len);
    rc = sk_client_keygen_rng(&client, out->ds.p, out->ds.len, k, &drbg.rng);
    sk_drbg_wipe(&drbg);
    if (rc == SK_OK)
        rc = sk_client_share_modulus(client, out->n1.p, out->n1.len);
    if (rc == SK_OK)
        rc = sk_client_share_export_dc(client, out->dc.p, out->dc.len);
    if (rc != SK_OK)
        goto out;

    /* Server key: SPEC 2.2, its own DRBG.  The export format is
     * "SKS1" | k (2 bytes) | p2 (k/16) | q2 (k/16) (key.h). */
    sk_drbg_init(&drbg, seed_server->p, seed_server->len);
    rc = sk_server_keygen_rng(&server, k, &drbg.rng);
    sk_drbg_wipe(&drbg);
    if (rc != SK_OK)
        goto out;
    skey = malloc(skey_len);
    if (skey == NULL) {
        rc = SK_ERR_NOMEM;
        goto out;
    }
    rc = sk_server_key_export(server, skey, skey_len);
    if (rc != SK_OK)
        goto out;
    if (skey_len != 6 + kb || memcmp(skey, "SKS1", 4) != 0) {
        rc = SK_ERR_INTERNAL;
        goto out;
    }
    memcpy(out->p2.p, skey + 6, kb / 2);
    memcpy(out->q2.p, skey + 6 + kb / 2, kb / 2);
    rc = recover_client_primes(out);

out:
    if (skey != NULL) {
        sk_wipe(skey, skey_len);
        free(skey);
    }
    sk_client_share_free(client);
    sk_server_key_free(server);
    if (rc != SK_OK)
        vec_keys_free(out);
    return rc;
}

int vec_keys_from_vec(vec_keys *out, const vec *v)
{
    int rc;
    memset(out, 0, sizeof *out);
    out->profile = v->profile;
    rc = vec_bytes_set(&out->seed_client, v->f[VF_SEED_CLIENT].p, v->f[VF_SEED_CLIENT].len);
    if (rc == SK_OK)
        rc = vec_bytes_set(&out->seed_server, v->f[VF_SEED_SERVER].p, v->f[VF_SEED_SERVER].len);
    if (rc == SK_OK)
        rc = vec_bytes_set(&out->n1, v->f[VF_N1].p, v->f[VF_N1].len);
    if (rc == SK_OK)
        rc = vec_bytes_set(&out->p1, v->f[VF_P1].p, v->f[VF_P1].len);
    if (rc == SK_OK)
        rc = vec_bytes_set(&out->q1, v->f[VF_Q1].p, v->f[VF_Q1].len);
    if (rc == SK_OK)
        rc = vec_bytes_set(&out->d1, v->f[VF_D1].p, v->f[VF_D1].len);
    if (rc == SK_OK)
        rc = vec_bytes_set(&out->dc, v->f[VF_DC].p, v->f[VF_DC].len);
    if (rc == SK_OK)
        rc = vec_bytes_set(&out->ds, v->f[VF_DS].p, v->f[VF_DS].len);
    if (rc == SK_OK)
        rc = vec_bytes_set(&out->p2, v->f[VF_P2].p, v->f[VF_P2].len);
    if (rc == SK_OK)
        rc = vec_bytes_set(&out->q2, v->f[VF_Q2].p, v->f[VF_Q2].len);
    if (rc != SK_OK)
        vec_keys_free(out);
    return rc;
}

int vec_salt(vec_bytes *out, sk_scheme scheme, sk_hash hash, const vec_bytes *seed)
{
    sk_drbg drbg;
    int rc;
    size_t len = scheme == SK_SCHEME_PSS ? sk_hash_len(hash) : 0;

    memset(out, 0, sizeof *out);
    rc = vec_bytes_alloc(out, len);
    if (rc != SK_OK || len == 0)
        return rc;
    sk_drbg_init(&drbg, seed->p, seed->len);
    rc = drbg.rng.fill(drbg.rng.ctx, out->p, len);
    sk_drbg_wipe(&drbg);
    if (rc != SK_OK)
        vec_bytes_free(out);
    return rc;
}

/* d2 = e^-1 mod lcm(p2 - 1, q2 - 1), written into out (len bytes). */
static int private_exponent(uint8_t *out, size_t len, const vec_bytes *p, const vec_bytes *q)
{
    mpz_t pm, qm, lambda, e, d;
    int rc = SK_OK;
    mpz_inits(pm, qm, lambda, e, d, NULL);
    sk_mpz_from_bytes(pm, p->p, p->len);
    sk_mpz_from_bytes(qm, q->p, q->len);
    mpz_sub_ui(pm, pm, 1);
    mpz_sub_ui(qm, qm, 1);
    mpz_lcm(lambda, pm, qm);
    mpz_set_ui(e, SK_E);
    if (mpz_sgn(lambda) == 0 || mpz_invert(d, e, lambda) == 0)
        rc = SK_ERR_KEY_MISMATCH;
    if (rc == SK_OK)
        rc = sk_mpz_to_bytes(out, len, d);
    mpz_clears(pm, qm, lambda, e, d, NULL);
    return rc;
}

/* out = value mod m (both big-endian), written to out_len bytes. */
static int reduce_bytes(uint8_t *out, size_t out_len, const uint8_t *value, size_t value_len,
                        const uint8_t *m, size_t m_len)
{
    mpz_t a, b;
    int rc;
    mpz_inits(a, b, NULL);
    sk_mpz_from_bytes(a, value, value_len);
    sk_mpz_from_bytes(b, m, m_len);
    if (mpz_sgn(b) == 0) {
        rc = SK_ERR_BAD_VALUE;
    } else {
        mpz_mod(a, a, b);
        rc = sk_mpz_to_bytes(out, out_len, a);
    }
    mpz_clears(a, b, NULL);
    return rc;
}

int vec_compute(vec *out, const vec_keys *keys, sk_scheme scheme, sk_hash hash,
                const vec_bytes *seed, const vec_bytes *message, const vec_bytes *salt)
{
    sk_profile profile = keys->profile;
    unsigned k = sk_profile_bits(profile);
    sk_client_share *client = NULL;
    sk_server_key *server = NULL;
    sk_server_share *share = NULL;
    sk_pubkey *pub = NULL;
    mpz_t p, q;
    int rc = SK_OK;
    static const uint8_t e_bytes[3] = {0x01, 0x00, 0x01};

    memset(out, 0, sizeof *out);
    out->profile = profile;
    out->scheme = scheme;
    out->hash = hash;
    mpz_inits(p, q, NULL);
    if (k == 0 || sk_hash_len(hash) == 0) {
        rc = SK_ERR_ARG;
        goto out;
    }
    for (int i = 0; i < VF_COUNT && rc == SK_OK; i++) {
        size_t len = vec_field_len((vec_field)i, profile, scheme, hash);
        if (len > 0)
            rc = vec_bytes_alloc(&out->f[i], len);
    }
    if (rc == SK_OK)
        rc = vec_bytes_set(&out->f[VF_SEED_CLIENT], keys->seed_client.p, keys->seed_client.len);
    if (rc == SK_OK)
        rc = vec_bytes_set(&out->f[VF_SEED_SERVER], keys->seed_server.p, keys->seed_server.len);
    if (rc == SK_OK)
        rc = vec_bytes_set(&out->f[VF_SEED], seed->p, seed->len);
    if (rc == SK_OK)
        rc = vec_bytes_set(&out->f[VF_MESSAGE], message->p, message->len);
    if (rc == SK_OK)
        rc = vec_bytes_set(&out->f[VF_SALT], salt->p, salt->len);
    if (rc != SK_OK)
        goto out;
    if (salt->len != vec_field_len(VF_SALT, profile, scheme, hash) ||
        keys->n1.len != k / 8 || keys->ds.len != k / 8 || keys->dc.len != k / 8 + 16 ||
        keys->p1.len != k / 16 || keys->q1.len != k / 16 || keys->d1.len != k / 8 ||
        keys->p2.len != k / 16 || keys->q2.len != k / 16) {
        rc = SK_ERR_ARG;
        goto out;
    }
    memcpy(out->f[VF_E].p, e_bytes, sizeof e_bytes);
    memcpy(out->f[VF_N1].p, keys->n1.p, keys->n1.len);
    memcpy(out->f[VF_P1].p, keys->p1.p, keys->p1.len);
    memcpy(out->f[VF_Q1].p, keys->q1.p, keys->q1.len);
    memcpy(out->f[VF_D1].p, keys->d1.p, keys->d1.len);
    memcpy(out->f[VF_DC].p, keys->dc.p, keys->dc.len);
    memcpy(out->f[VF_DS].p, keys->ds.p, keys->ds.len);
    memcpy(out->f[VF_P2].p, keys->p2.p, keys->p2.len);
    memcpy(out->f[VF_Q2].p, keys->q2.p, keys->q2.len);

    /* The two key objects, rebuilt from their parts. */
    rc = sk_client_share_from_parts(&client, k, keys->n1.p, keys->n1.len, keys->dc.p,
                                    keys->dc.len);
    if (rc != SK_OK)
        goto out;
    sk_mpz_from_bytes(p, keys->p2.p, keys->p2.len);
    sk_mpz_from_bytes(q, keys->q2.p, keys->q2.len);
    rc = sk_server_key_from_primes(&server, k, p, q);
    if (rc == SK_OK)
        rc = sk_server_key_modulus(server, out->f[VF_N2].p, out->f[VF_N2].len);
    if (rc == SK_OK)
        rc = private_exponent(out->f[VF_D2].p, out->f[VF_D2].len, &keys->p2, &keys->q2);
    /* Enrolment: the server's half and the composite key. */
    if (rc == SK_OK)
        rc = sk_server_share_new(&share, keys->n1.p, keys->n1.len, keys->ds.p, keys->ds.len,
                                 server);
    if (rc == SK_OK)
        rc = sk_server_share_pubkey(share, &pub);
    if (rc == SK_OK)
        rc = sk_pubkey_modulus(pub, out->f[VF_N].p, out->f[VF_N].len);
    if (rc != SK_OK)
        goto out;

    /* Signing: digest, EM, the device's y, the server's completion. */
    rc = sk_digest(out->f[VF_DIGEST].p, out->f[VF_DIGEST].len, hash, message->p, message->len);
    if (rc == SK_OK)
        rc = sk_encode(out->f[VF_EM].p, out->f[VF_EM].len, scheme, hash, out->f[VF_DIGEST].p,
                       out->f[VF_DIGEST].len, salt->len ? salt->p : NULL, salt->len, 2 * k);
    if (rc == SK_OK)
        rc = sk_device_partial(client, out->f[VF_Y].p, out->f[VF_Y].len, out->f[VF_EM].p,
                               out->f[VF_EM].len);
    if (rc == SK_OK)
        rc = sk_server_complete(share, out->f[VF_SIGNATURE].p, out->f[VF_SIGNATURE].len,
                                out->f[VF_Y].p, out->f[VF_Y].len, out->f[VF_EM].p,
                                out->f[VF_EM].len);
    /* s1 and s2 are the signature's residues mod n1 and n2 (CRT). */
    if (rc == SK_OK)
        rc = reduce_bytes(out->f[VF_S1].p, out->f[VF_S1].len, out->f[VF_SIGNATURE].p,
                          out->f[VF_SIGNATURE].len, keys->n1.p, keys->n1.len);
    if (rc == SK_OK)
        rc = reduce_bytes(out->f[VF_S2].p, out->f[VF_S2].len, out->f[VF_SIGNATURE].p,
                          out->f[VF_SIGNATURE].len, out->f[VF_N2].p, out->f[VF_N2].len);

out:
    mpz_clears(p, q, NULL);
    sk_client_share_free(client);
    sk_server_key_free(server);
    sk_server_share_free(share);
    sk_pubkey_free(pub);
    if (rc != SK_OK)
        vec_free(out);
    return rc;
}

/* ------------------------------------------------------------------ JSON */

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

/* ------------------------------------------------------------ --out DIR */

static int make_dir(const char *dir)
{
    struct stat st;
    if (mkdir(dir, 0755) == 0)
        return 0;
    if (errno == EEXIST && stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
        return 0;
    if (errno == EEXIST)
        errno = ENOTDIR;
    return -1;
}

/* Writes one vector to DIR/NAME (through a memory buffer and an atomic
 * rename). */
static int write_vector(const char *dir, const vec *v)
{
    char *name = vec_file_name(v->profile, v->scheme, v->hash);
    char *path = NULL, *buf = NULL;
    size_t buf_len = 0;
    FILE *mem;
    int rc = -1;

    if (name == NULL)
        return -1;
    path = malloc(strlen(dir) + strlen(name) + 2);
    mem = open_memstream(&buf, &buf_len);
    if (path != NULL && mem != NULL) {
        sprintf(path, "%s/%s", dir, name);
        vec_write_json(mem, v);
        if (fclose(mem) == 0 && buf != NULL) {
            rc = util_write_file(path, buf, buf_len);
            if (rc != 0)
                cli_fail(CMD, "cannot write %s: %s", path, strerror(errno));
        }
        mem = NULL;
    }
    if (mem != NULL)
        fclose(mem);
    if (buf != NULL) {
        sk_wipe(buf, buf_len);
        free(buf);
    }
    free(path);
    free(name);
    return rc;
}

static void report_to_stderr(void *ctx, const char *field, const char *what)
{
    fprintf(stderr, "splitkey vectors: %s: field %s: %s\n", (const char *)ctx, field, what);
}

static int bytes_from_string(vec_bytes *b, char *s)
{
    int rc;
    if (s == NULL)
        return SK_ERR_NOMEM;
    rc = vec_bytes_set(b, s, strlen(s));
    free(s);
    return rc;
}

int vectors_write(const char *dir)
{
    int ret = CLI_FAIL, written = 0;

    if (make_dir(dir) != 0)
        return cli_fail(CMD, "cannot create %s: %s", dir, strerror(errno));
    for (size_t pi = 0; pi < 3; pi++) {
        sk_profile profile = vec_profiles[pi];
        vec_bytes seed_client = {0}, seed_server = {0};
        vec_keys keys;
        double t = util_now_ms();
        int rc;

        rc = bytes_from_string(&seed_client, vec_seed_client(profile));
        if (rc == SK_OK)
            rc = bytes_from_string(&seed_server, vec_seed_server(profile));
        if (rc == SK_OK)
            rc = vec_keys_generate(&keys, profile, &seed_client, &seed_server);
        vec_bytes_free(&seed_client);
        vec_bytes_free(&seed_server);
        if (rc != SK_OK) {
            cli_fail(CMD, "key generation for %s failed: %s", sk_profile_name(profile),
                     sk_strerror(rc));
            return CLI_FAIL;
        }
        printf("%s: keys generated from their seeds in %.0f ms\n", sk_profile_name(profile),
               util_now_ms() - t);
        for (size_t si = 0; si < 2; si++) {
            for (size_t hi = 0; hi < 3; hi++) {
                sk_scheme scheme = vec_schemes[si];
                sk_hash hash = vec_hashes[hi];
                vec_bytes seed = {0}, message = {0}, salt = {0};
                vec v;
                char *name = vec_file_name(profile, scheme, hash);
                int failures;

                rc = bytes_from_string(&seed, vec_seed(profile, scheme, hash));
                if (rc == SK_OK)
                    rc = bytes_from_string(&message, vec_message(profile, scheme, hash));
                if (rc == SK_OK)
                    rc = vec_salt(&salt, scheme, hash, &seed);
                if (rc == SK_OK)
                    rc = vec_compute(&v, &keys, scheme, hash, &seed, &message, &salt);
                vec_bytes_free(&seed);
                vec_bytes_free(&message);
                vec_bytes_free(&salt);
                if (rc != SK_OK) {
                    cli_fail(CMD, "computing %s failed: %s", name ? name : "a vector",
                             sk_strerror(rc));
                    free(name);
                    vec_keys_free(&keys);
                    return CLI_FAIL;
                }
                /* Never publish a vector that the independent recomputation
                 * does not confirm. */
                failures = vec_check_math(&v, report_to_stderr, name ? name : "?");
                if (failures == 0 && write_vector(dir, &v) == 0) {
                    printf("  wrote %s/%s\n", dir, name ? name : "?");
                    written++;
                } else if (failures != 0) {
                    cli_fail(CMD, "%s: the library's result failed %d independent checks",
                             name ? name : "?", failures);
                }
                vec_free(&v);
                free(name);
                if (failures != 0) {
                    vec_keys_free(&keys);
                    return CLI_FAIL;
                }
            }
        }
        vec_keys_free(&keys);
    }
    if (written == 18) {
        printf("wrote %d vectors to %s\n", written, dir);
        ret = CLI_OK;
    }
    return ret;
}

/* ---------------------------------------------------------------- command */

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: splitkey vectors --out DIR\n"
            "       splitkey vectors --check DIR\n"
            "\n"
            "--out DIR    writes the deterministic two-party test vectors, one JSON file\n"
            "             per profile (4K, 6K, 8K), scheme (pkcs1, pss) and hash (sha256,\n"
            "             sha384, sha512): DIR/<profile>-<scheme>-<hash>.json.  All\n"
            "             randomness comes from a seeded DRBG, so the output is the same\n"
            "             on every run.\n"
            "--check DIR  reads every *.json file in DIR and recomputes it: the partial\n"
            "             signature from dc and em, the completion from ds, p2 and q2, em\n"
            "             from the digest and the salt, the whole vector again from its\n"
            "             seeds, and verifies the signature under n.  Prints one line per\n"
            "             mismatch, naming the file and the field.\n"
            "\n"
            "The format is described in tests/vectors/twoparty/README.md.\n"
            "Exit status: 0 all vectors written or all match, 1 a mismatch or another\n"
            "failure, 2 usage error.\n");
}

int cmd_vectors(int argc, char **argv)
{
    const char *out_dir, *check_dir;
    const cli_option opts[] = {{"--out", &out_dir, NULL}, {"--check", &check_dir, NULL}};
    int rc = cli_parse_options(CMD, argc, argv, opts, sizeof opts / sizeof opts[0]);

    if (rc == CLI_HELP) {
        usage(stdout);
        return CLI_OK;
    }
    if (rc != CLI_OK)
        return rc;
    if ((out_dir == NULL) == (check_dir == NULL))
        return cli_usage_error(CMD, "give exactly one of --out DIR and --check DIR");
    if (sk_init() != SK_OK)
        return cli_fail(CMD, "library initialisation failed");
    return out_dir ? vectors_write(out_dir) : vectors_check(check_dir);
}
