/* SPDX-License-Identifier: Apache-2.0 */
/* baselines.c - what other libraries do for the same work: OpenSSL's
 * constant-time floor, single-key RSA CRT signatures at the composite size
 * (mbedTLS and OpenSSL), OpenSSL key generation. */
#include <mbedtls/rsa.h>
#include <mbedtls/version.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#ifdef SK_BENCH_OPENSSL
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#endif

struct baselines {
    mbedtls_rsa_context rsa; /* single key of 2k bits */
    bool have_single;
#ifdef SK_BENCH_OPENSSL
    BN_CTX *ctx;
    BIGNUM *n1, *n2, *n, *n1inv, *ds, *p, *q, *dp, *dq, *qinv, *e;
    EVP_PKEY *pkey;
#endif
    size_t sig_len;
};

static int rng_cb(void *ctx, unsigned char *out, size_t len)
{
    (void)ctx;
    randombytes_buf(out, len);
    return 0;
}

#ifdef SK_BENCH_OPENSSL
static BIGNUM *bn_of(const mpz_t a)
{
    size_t len = (mpz_sizeinbase(a, 2) + 7) / 8;
    unsigned char *buf = calloc(len ? len : 1, 1);
    mpz_export(buf, NULL, 1, 1, 1, 0, a);
    BIGNUM *b = BN_bin2bn(buf, (int)len, NULL);
    free(buf);
    BN_set_flags(b, BN_FLG_CONSTTIME);
    return b;
}

static EVP_PKEY *openssl_key(const mpz_t n, const mpz_t e, const mpz_t d, const mpz_t p,
                             const mpz_t q, const mpz_t dp, const mpz_t dq, const mpz_t qinv)
{
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    BIGNUM *bn[8] = {bn_of(n), bn_of(e), bn_of(d), bn_of(p), bn_of(q), bn_of(dp), bn_of(dq),
                     bn_of(qinv)};
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn[0]);
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn[1]);
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_D, bn[2]);
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_FACTOR1, bn[3]);
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_FACTOR2, bn[4]);
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_EXPONENT1, bn[5]);
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_EXPONENT2, bn[6]);
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_COEFFICIENT1, bn[7]);
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    EVP_PKEY *pkey = NULL;
    if (pctx == NULL || EVP_PKEY_fromdata_init(pctx) <= 0 ||
        EVP_PKEY_fromdata(pctx, &pkey, EVP_PKEY_KEYPAIR, params) <= 0)
        pkey = NULL;
    EVP_PKEY_CTX_free(pctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    for (int i = 0; i < 8; i++)
        BN_clear_free(bn[i]);
    return pkey;
}
#endif

bool baseline_openssl_available(void)
{
#ifdef SK_BENCH_OPENSSL
    return true;
#else
    return false;
#endif
}

baselines *baselines_new(const bench_key *bk)
{
    baselines *b = calloc(1, sizeof *b);
    if (b == NULL)
        return NULL;
    b->sig_len = 2 * (size_t)bk->k / 8;
#if MBEDTLS_VERSION_MAJOR >= 3
    mbedtls_rsa_init(&b->rsa);
    mbedtls_rsa_set_padding(&b->rsa, MBEDTLS_RSA_PKCS_V15, MBEDTLS_MD_SHA256);
#else
    mbedtls_rsa_init(&b->rsa, MBEDTLS_RSA_PKCS_V15, MBEDTLS_MD_SHA256);
#endif

    /* A single two-prime key at the composite size: primes of k bits each. */
    mpz_t p, q, n, e, d, lam, t, dp, dq, qinv;
    mpz_inits(p, q, n, e, d, lam, t, dp, dq, qinv, NULL);
    mpz_set_ui(e, SK_E);
    if (sk_rsa_primes(p, q, 2 * bk->k, SK_E, sk_rng_system()) == SK_OK) {
        mpz_mul(n, p, q);
        mpz_sub_ui(t, p, 1);
        mpz_sub_ui(lam, q, 1);
        mpz_lcm(lam, lam, t);
        mpz_invert(d, e, lam);
        mpz_sub_ui(t, p, 1);
        mpz_mod(dp, d, t);
        mpz_sub_ui(t, q, 1);
        mpz_mod(dq, d, t);
        mpz_invert(qinv, q, p);
        size_t len = b->sig_len, hl = bk->k / 8;
        uint8_t *nb = malloc(len), *pb = malloc(hl), *qb = malloc(hl), *db = malloc(len);
        uint8_t eb[3] = {1, 0, 1};
        sk_mpz_to_bytes(nb, len, n);
        sk_mpz_to_bytes(pb, hl, p);
        sk_mpz_to_bytes(qb, hl, q);
        sk_mpz_to_bytes(db, len, d);
        b->have_single = mbedtls_rsa_import_raw(&b->rsa, nb, len, pb, hl, qb, hl, db, len, eb, 3) == 0 &&
                         mbedtls_rsa_complete(&b->rsa) == 0 && mbedtls_rsa_check_privkey(&b->rsa) == 0;
        sk_wipe(db, len);
        sk_wipe(pb, hl);
        sk_wipe(qb, hl);
        free(nb);
        free(pb);
        free(qb);
        free(db);
#ifdef SK_BENCH_OPENSSL
        b->pkey = openssl_key(n, e, d, p, q, dp, dq, qinv);
#endif
    }
    mpz_clears(p, q, n, e, d, lam, t, dp, dq, qinv, NULL);

#ifdef SK_BENCH_OPENSSL
    b->ctx = BN_CTX_new();
    b->n1 = bn_of(bk->n1);
    b->n2 = bn_of(bk->n2);
    b->n = bn_of(bk->n);
    b->n1inv = bn_of(bk->n1inv);
    b->ds = bn_of(bk->ds);
    b->p = bn_of(bk->p);
    b->q = bn_of(bk->q);
    b->dp = bn_of(bk->dp);
    b->dq = bn_of(bk->dq);
    b->qinv = bn_of(bk->qinv);
    b->e = BN_new();
    BN_set_word(b->e, SK_E);
#endif
    return b;
}

void baselines_free(baselines *b)
{
    if (b == NULL)
        return;
    mbedtls_rsa_free(&b->rsa);
#ifdef SK_BENCH_OPENSSL
    BIGNUM *all[] = {b->n1, b->n2, b->n, b->n1inv, b->ds, b->p, b->q, b->dp, b->dq, b->qinv, b->e};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        BN_clear_free(all[i]);
    BN_CTX_free(b->ctx);
    EVP_PKEY_free(b->pkey);
#endif
    free(b);
}

bool floor_openssl(baselines *b, const mpz_t m, const mpz_t y)
{
#ifdef SK_BENCH_OPENSSL
    BN_CTX *c = b->ctx;
    BN_CTX_start(c);
    BIGNUM *bm = bn_of(m), *by = bn_of(y);
    BIGNUM *t = BN_CTX_get(c), *s1 = BN_CTX_get(c), *s2 = BN_CTX_get(c), *sp = BN_CTX_get(c),
           *sq = BN_CTX_get(c), *chk = BN_CTX_get(c), *s = BN_CTX_get(c);
    bool ok = s != NULL;
    ok = ok && BN_nnmod(t, bm, b->n1, c) && BN_mod_exp_mont_consttime(s1, t, b->ds, b->n1, c, NULL) &&
         BN_mod_mul(s1, s1, by, b->n1, c) && BN_mod_exp(chk, s1, b->e, b->n1, c);
    ok = ok && BN_nnmod(t, bm, b->p, c) && BN_mod_exp_mont_consttime(sp, t, b->dp, b->p, c, NULL) &&
         BN_nnmod(t, bm, b->q, c) && BN_mod_exp_mont_consttime(sq, t, b->dq, b->q, c, NULL) &&
         BN_mod_sub(t, sp, sq, b->p, c) && BN_mod_mul(t, t, b->qinv, b->p, c) &&
         BN_mul(s2, t, b->q, c) && BN_add(s2, s2, sq) && BN_mod_exp(chk, s2, b->e, b->n2, c);
    ok = ok && BN_mod_sub(t, s2, s1, b->n2, c) && BN_mod_mul(t, t, b->n1inv, b->n2, c) &&
         BN_mul(s, t, b->n1, c) && BN_add(s, s, s1) && BN_mod_exp(chk, s, b->e, b->n, c);
    BN_free(bm);
    BN_free(by);
    BN_CTX_end(c);
    return ok;
#else
    (void)b;
    (void)m;
    (void)y;
    return false;
#endif
}

bool single_sign_mbedtls(baselines *b, const uint8_t *digest32)
{
    if (!b->have_single)
        return false;
    uint8_t sig[SK_MAX_SIG_LEN];
#if MBEDTLS_VERSION_MAJOR >= 3
    return mbedtls_rsa_pkcs1_sign(&b->rsa, rng_cb, NULL, MBEDTLS_MD_SHA256, 32, digest32, sig) == 0;
#else
    return mbedtls_rsa_pkcs1_sign(&b->rsa, rng_cb, NULL, MBEDTLS_RSA_PRIVATE, MBEDTLS_MD_SHA256, 32,
                                  digest32, sig) == 0;
#endif
}

bool single_sign_openssl(baselines *b, const uint8_t *digest32)
{
#ifdef SK_BENCH_OPENSSL
    if (b->pkey == NULL)
        return false;
    uint8_t sig[SK_MAX_SIG_LEN];
    size_t len = sizeof sig;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(b->pkey, NULL);
    bool ok = ctx != NULL && EVP_PKEY_sign_init(ctx) > 0 &&
              EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) > 0 &&
              EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) > 0 &&
              EVP_PKEY_sign(ctx, sig, &len, digest32, 32) > 0;
    EVP_PKEY_CTX_free(ctx);
    return ok;
#else
    (void)b;
    (void)digest32;
    return false;
#endif
}

bool keygen_openssl(unsigned bits)
{
#ifdef SK_BENCH_OPENSSL
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
    bool ok = k != NULL;
    EVP_PKEY_free(k);
    return ok;
#else
    (void)bits;
    return false;
#endif
}
