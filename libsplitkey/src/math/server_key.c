/* server_key.c - the server's whole RSA key (SPEC 2.2) with CRT parameters. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const uint8_t server_key_magic[4] = {'S', 'K', 'S', '1'};

static void server_key_clear(sk_server_key *k)
{
    sk_sec_free(&k->p);
    sk_sec_free(&k->q);
    sk_sec_free(&k->dp);
    sk_sec_free(&k->dq);
    sk_sec_free(&k->qinv);
    if (k->bits != 0)
        mpz_clear(k->n2);
    sk_wipe(k, sizeof *k);
}

/* Fills k (zeroed by the caller) from the primes: n2, dp, dq, qinv. */
static int server_key_fill(sk_server_key *k, unsigned bits, const mpz_t p, const mpz_t q)
{
    int rc = SK_ERR_KEY_FORMAT;
    unsigned half = bits / 2;
    mp_size_t hl = SK_LIMBS(half);
    mpz_t pm1, qm1, lambda, d, t, e;

    k->bits = bits;
    mpz_init(k->n2);
    if (sk_sec_alloc(&k->p, hl) || sk_sec_alloc(&k->q, hl) || sk_sec_alloc(&k->dp, hl) ||
        sk_sec_alloc(&k->dq, hl) || sk_sec_alloc(&k->qinv, hl))
        return SK_ERR_NOMEM;

    mpz_inits(pm1, qm1, lambda, d, t, e, NULL);
    mpz_set_ui(e, SK_E);
    if (mpz_sizeinbase(p, 2) != half || mpz_sizeinbase(q, 2) != half || mpz_cmp(p, q) == 0 ||
        mpz_even_p(p) || mpz_even_p(q))
        goto out;
    mpz_mul(k->n2, p, q);
    if (mpz_sizeinbase(k->n2, 2) != bits)
        goto out;
    mpz_sub_ui(pm1, p, 1);
    mpz_sub_ui(qm1, q, 1);
    mpz_lcm(lambda, pm1, qm1);
    if (mpz_invert(d, e, lambda) == 0)
        goto out;
    if (mpz_invert(t, q, p) == 0)
        goto out;
    rc = sk_sec_from_mpz(&k->qinv, t);
    mpz_mod(t, d, pm1);
    rc = rc ? rc : sk_sec_from_mpz(&k->dp, t);
    mpz_mod(t, d, qm1);
    rc = rc ? rc : sk_sec_from_mpz(&k->dq, t);
    rc = rc ? rc : sk_sec_from_mpz(&k->p, p);
    rc = rc ? rc : sk_sec_from_mpz(&k->q, q);
out:
    mpz_clears(pm1, qm1, lambda, d, t, e, NULL);
    return rc;
}

int sk_server_key_from_primes(sk_server_key **out, unsigned bits, const mpz_t p, const mpz_t q)
{
    if (out == NULL)
        return SK_ERR_ARG;
    *out = NULL;
    if (bits < 512 || bits % 128 != 0)
        return SK_ERR_ARG;
    sk_server_key *k = calloc(1, sizeof *k);
    if (k == NULL)
        return SK_ERR_NOMEM;
    int rc = server_key_fill(k, bits, p, q);
    if (rc != SK_OK) {
        server_key_clear(k);
        free(k);
        return rc;
    }
    *out = k;
    return SK_OK;
}

int sk_server_keygen_rng(sk_server_key **out, unsigned bits, const sk_rng *rng)
{
    if (out == NULL || rng == NULL)
        return SK_ERR_ARG;
    *out = NULL;
    mpz_t p, q;
    mpz_inits(p, q, NULL);
    int rc = sk_rsa_primes(p, q, bits, SK_E, rng);
    if (rc == SK_OK)
        rc = sk_server_key_from_primes(out, bits, p, q);
    mpz_clears(p, q, NULL);
    return rc;
}

int sk_server_keygen(sk_server_key **out, sk_profile profile)
{
    if (!sk_is_initialised())
        return SK_ERR_NOT_INITIALISED;
    unsigned bits = sk_profile_bits(profile);
    if (bits == 0)
        return SK_ERR_ARG;
    return sk_server_keygen_rng(out, bits, sk_rng_system());
}

size_t sk_server_key_len(sk_profile profile)
{
    unsigned bits = sk_profile_bits(profile);
    return bits ? SK_SERVER_KEY_LEN(bits) : 0;
}

int sk_server_key_export(const sk_server_key *key, uint8_t *out, size_t out_len)
{
    size_t half = key->bits / 16;
    if (out_len != SK_SERVER_KEY_LEN(key->bits))
        return SK_ERR_ARG;
    memcpy(out, server_key_magic, 4);
    out[4] = (uint8_t)(key->bits >> 8);
    out[5] = (uint8_t)key->bits;
    sk_sec_to_bytes(out + 6, half, &key->p);
    sk_sec_to_bytes(out + 6 + half, half, &key->q);
    return SK_OK;
}

int sk_server_key_import(sk_server_key **out, const uint8_t *in, size_t in_len)
{
    *out = NULL;
    if (in_len < 6 || memcmp(in, server_key_magic, 4) != 0)
        return SK_ERR_KEY_FORMAT;
    unsigned bits = (unsigned)in[4] << 8 | in[5];
    if (bits < 512 || bits % 128 != 0 || in_len != SK_SERVER_KEY_LEN(bits))
        return SK_ERR_KEY_FORMAT;
    size_t half = bits / 16;
    mpz_t p, q;
    mpz_inits(p, q, NULL);
    sk_mpz_from_bytes(p, in + 6, half);
    sk_mpz_from_bytes(q, in + 6 + half, half);
    int rc = sk_server_key_from_primes(out, bits, p, q);
    mpz_clears(p, q, NULL);
    return rc == SK_ERR_ARG ? SK_ERR_KEY_FORMAT : rc;
}

sk_profile sk_server_key_profile(const sk_server_key *key) { return (sk_profile)key->bits; }

int sk_server_key_modulus(const sk_server_key *key, uint8_t *n2, size_t n2_len)
{
    if (n2_len != key->bits / 8)
        return SK_ERR_ARG;
    return sk_mpz_to_bytes(n2, n2_len, key->n2);
}

void sk_server_key_free(sk_server_key *key)
{
    if (key == NULL)
        return;
    server_key_clear(key);
    free(key);
}

/* Deep copy into dst (zeroed), used by the server share. */
int sk_server_key_copy(sk_server_key *dst, const sk_server_key *src)
{
    mpz_t p, q;
    mpz_inits(p, q, NULL);
    sk_sec_to_mpz(p, &src->p);
    sk_sec_to_mpz(q, &src->q);
    int rc = server_key_fill(dst, src->bits, p, q);
    mpz_clears(p, q, NULL);
    if (rc != SK_OK)
        server_key_clear(dst);
    return rc;
}

void sk_server_key_release(sk_server_key *key) { server_key_clear(key); }
