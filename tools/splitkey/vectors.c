/* SPDX-License-Identifier: Apache-2.0 */
/* vectors.c - the deterministic two-party vectors: their fields, seeds and
 * message, key generation from the seeds, and the computation of a vector
 * through the library's two-party path.  JSON form: vectors_json.c; the
 * command and --out: vectors_cmd.c; --check: vectors_check.c. */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stdbool.h>
#include <gmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "vectors.h"

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

    /* Client key, with the DRBG in place of the system CSPRNG. */
    sk_drbg_init(&drbg, seed_client->p, seed_client->len);
    rc = sk_client_keygen_rng(&client, out->ds.p, out->ds.len, k, &drbg.rng);
    sk_drbg_wipe(&drbg);
    if (rc == SK_OK)
        rc = sk_client_share_modulus(client, out->n1.p, out->n1.len);
    if (rc == SK_OK)
        rc = sk_client_share_export_dc(client, out->dc.p, out->dc.len);
    if (rc != SK_OK)
        goto out;

    /* Server key, from its own DRBG.  The export format is
     * "SKS2" | k (2 bytes) | p2 | q2 | dp | dq | qinv, k/16 bytes each
     * (key.h); the vectors keep p2 and q2. */
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
    if (skey_len != 6 + 5 * (kb / 2) || memcmp(skey, "SKS2", 4) != 0) {
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
