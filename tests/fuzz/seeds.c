/* SPDX-License-Identifier: Apache-2.0 */
/* seeds.c - writes the seed corpora of the fuzz harnesses (deterministic: all
 * keys come from the test DRBG).  Usage: fuzz_seeds DIR, with DIR normally
 * tests/fuzz/corpus; writes DIR/<harness>/<name>.  The output is committed.
 * Regression inputs for fixed findings are committed beside the seeds by hand
 * (each named in the commit and the test that explains it) and are not
 * written here. */
#define _POSIX_C_SOURCE 200809L /* mkdir */

#include <mbedtls/asn1.h>
#include <mbedtls/pem.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"
#include "internal.h"
#include "splitkey/rp.h"

static const char *root;

static void put(const char *harness, const char *name, const uint8_t *data, size_t len)
{
    char path[1024];
    mkdir(root, 0755);
    snprintf(path, sizeof path, "%s/%s", root, harness);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/%s/%s", root, harness, name);
    FILE *f = fopen(path, "wb");
    FUZZ_ASSERT(f != NULL);
    FUZZ_ASSERT(fwrite(data, 1, len, f) == len);
    FUZZ_ASSERT(fclose(f) == 0);
}

static void put_prefixed(const char *harness, const char *name, const uint8_t *prefix,
                         size_t prefix_len, const uint8_t *data, size_t len)
{
    uint8_t *buf = malloc(prefix_len + len);
    FUZZ_ASSERT(buf != NULL);
    memcpy(buf, prefix, prefix_len);
    memcpy(buf + prefix_len, data, len);
    put(harness, name, buf, prefix_len + len);
    free(buf);
}

static void unhex_put(const char *harness, const char *name, const char *hex)
{
    size_t len = strlen(hex) / 2;
    uint8_t *buf = malloc(len);
    FUZZ_ASSERT(buf != NULL);
    for (size_t i = 0; i < len; i++) {
        unsigned v;
        FUZZ_ASSERT(sscanf(hex + 2 * i, "%2x", &v) == 1);
        buf[i] = (uint8_t)v;
    }
    put(harness, name, buf, len);
    free(buf);
}

/* ------------------------------------------------------------------ pubkey */

static void pubkey_seeds(sk_drbg *drbg, unsigned bits, const char *tag)
{
    sk_server_key *key = NULL;
    FUZZ_ASSERT(sk_server_keygen_rng(&key, bits, &drbg->rng) == SK_OK);
    uint8_t n[512], der[1024], pkcs1_pem[2048];
    char pem[2048], name[64];
    static const uint8_t e[] = {1, 0, 1};
    sk_pubkey *pub = NULL;
    FUZZ_ASSERT(sk_server_key_modulus(key, n, bits / 8) == SK_OK);
    FUZZ_ASSERT(sk_pubkey_from_modulus(&pub, n, bits / 8, e, sizeof e) == SK_OK);
    size_t der_len, pem_len, w;
    FUZZ_ASSERT(sk_pubkey_export_der(pub, der, sizeof der, &der_len) == SK_OK);
    FUZZ_ASSERT(sk_pubkey_export_pem(pub, pem, sizeof pem, &pem_len) == SK_OK);
    snprintf(name, sizeof name, "spki-%s.der", tag);
    put("pubkey", name, der, der_len);
    snprintf(name, sizeof name, "spki-%s.pem", tag);
    put("pubkey", name, (const uint8_t *)pem, pem_len);
    snprintf(name, sizeof name, "spki-%s-nul.pem", tag);
    put("pubkey", name, (const uint8_t *)pem, pem_len + 1);

    /* PKCS#1 RSAPublicKey: the BIT STRING's content inside the SPKI. */
    unsigned char *p = der, *end = der + der_len;
    size_t len;
    mbedtls_asn1_buf oid, params;
    FUZZ_ASSERT(mbedtls_asn1_get_tag(&p, end, &len,
                                     MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) == 0);
    FUZZ_ASSERT(mbedtls_asn1_get_alg(&p, end, &oid, &params) == 0);
    FUZZ_ASSERT(mbedtls_asn1_get_bitstring_null(&p, end, &len) == 0);
    snprintf(name, sizeof name, "pkcs1-%s.der", tag);
    put("pubkey", name, p, len);
    FUZZ_ASSERT(mbedtls_pem_write_buffer("-----BEGIN RSA PUBLIC KEY-----\n",
                                         "-----END RSA PUBLIC KEY-----\n", p, len, pkcs1_pem,
                                         sizeof pkcs1_pem, &w) == 0);
    snprintf(name, sizeof name, "pkcs1-%s.pem", tag);
    put("pubkey", name, pkcs1_pem, w - 1); /* w counts the NUL */
    sk_pubkey_free(pub);
    sk_server_key_free(key);
}

/* --------------------------------------------------------------------- pss */

static void pss_seeds(void)
{
    static const sk_hash hashes[] = {SK_HASH_SHA256, SK_HASH_SHA384, SK_HASH_SHA512};
    static const char *names[] = {"sha256", "sha384", "sha512"};
    uint8_t em[130], digest[SK_MAX_HASH_LEN], salt[SK_MAX_HASH_LEN];
    char name[64];
    for (size_t i = 0; i < sizeof salt; i++)
        salt[i] = (uint8_t)(i * 3 + 1);
    for (int h = 0; h < 3; h++) {
        size_t hl = sk_hash_len(hashes[h]);
        FUZZ_ASSERT(sk_digest(digest, hl, hashes[h], (const uint8_t *)"fuzz", 4) == SK_OK);
        /* mode 0: a valid EM for a 1024-bit modulus (bits byte 8: 8 * 128) and
         * for a 1025-bit one (leading zero byte, bits byte 1: 8 * 129 - 7) */
        size_t sl = hashes[h] == SK_HASH_SHA512 ? 32 : hl;
        FUZZ_ASSERT(sk_emsa_pss_encode(em, 128, 1024, hashes[h], digest, hl, salt, sl) == SK_OK);
        uint8_t hdr[4] = {0, (uint8_t)(h + 6 * h), (uint8_t)sl, 8};
        snprintf(name, sizeof name, "decode-%s-1024", names[h]);
        put_prefixed("pss", name, hdr, 4, em, 128);
        FUZZ_ASSERT(sk_emsa_pss_encode(em, 129, 1025, hashes[h], digest, hl, salt, sl) == SK_OK);
        hdr[3] = 1;
        snprintf(name, sizeof name, "decode-%s-1025", names[h]);
        put_prefixed("pss", name, hdr, 4, em, 129);
        /* modes 1 and 2: EMs that verify under the harness's key */
        if (hashes[h] != SK_HASH_SHA512) {
            FUZZ_ASSERT(sk_encode(em, 128, SK_SCHEME_PSS, hashes[h], digest, hl, salt, hl,
                                  1024) == SK_OK);
            uint8_t h1[4] = {1, (uint8_t)h, 0, 0};
            snprintf(name, sizeof name, "verify-pss-%s", names[h]);
            put_prefixed("pss", name, h1, 4, em, 128);
        }
        FUZZ_ASSERT(sk_encode(em, 128, SK_SCHEME_PKCS1, hashes[h], digest, hl, NULL, 0, 1024) ==
                    SK_OK);
        uint8_t h2[4] = {2, (uint8_t)h, 0, 0};
        snprintf(name, sizeof name, "verify-pkcs1-%s", names[h]);
        put_prefixed("pss", name, h2, 4, em, 128);
        /* mode 3: round trips, PKCS#1 and PSS */
        uint8_t h3[4] = {3, (uint8_t)h, 0, 0};
        snprintf(name, sizeof name, "roundtrip-pkcs1-%s", names[h]);
        put_prefixed("pss", name, h3, 4, salt, 2 * hl);
        h3[0] = 7;
        snprintf(name, sizeof name, "roundtrip-pss-%s", names[h]);
        put_prefixed("pss", name, h3, 4, salt, 2 * hl);
    }
}

/* ------------------------------------------------------------------ unwrap */

static void unwrap_seeds(sk_drbg *drbg, unsigned bits, const char *tag)
{
    uint8_t ds[512];
    sk_client_share *share = NULL;
    FUZZ_ASSERT(sk_client_keygen_rng(&share, ds, bits / 8, bits, &drbg->rng) == SK_OK);
    size_t wl = SK_WRAPPED_LEN(bits);
    uint8_t *w = malloc(wl);
    FUZZ_ASSERT(w != NULL);
    static const uint8_t pin[] = "24680";
    FUZZ_ASSERT(sk_client_share_wrap_rng(share, w, wl, pin, 5, SK_KDF_MINIMUM, &drbg->rng) ==
                SK_OK);
    char name[64];
    uint8_t prefix[2 + 5] = {4, 0, '2', '4', '6', '8', '0'};
    snprintf(name, sizeof name, "minimum-%s-right-pin", tag);
    put_prefixed("unwrap", name, prefix, sizeof prefix, w, wl);
    prefix[6] = '1';
    snprintf(name, sizeof name, "minimum-%s-wrong-pin", tag);
    put_prefixed("unwrap", name, prefix, sizeof prefix, w, wl);
    prefix[1] = 1;
    snprintf(name, sizeof name, "minimum-%s-wrong-n1-size", tag);
    put_prefixed("unwrap", name, prefix, sizeof prefix, w, wl);
    sk_wipe(ds, sizeof ds);
    sk_client_share_free(share);
    free(w);
}

/* -------------------------------------------------------------- server key */

/* A valid key of the current form, and at 1024 bits the same key in the
 * earlier form "SKS1" | k | p2 | q2 (refused: the fuzzer starts from both). */
static void server_key_seeds(sk_drbg *drbg, unsigned bits, const char *tag)
{
    sk_server_key *key = NULL;
    FUZZ_ASSERT(sk_server_keygen_rng(&key, bits, &drbg->rng) == SK_OK);
    uint8_t out[SK_SERVER_KEY_LEN(2048)];
    size_t len = SK_SERVER_KEY_LEN(bits);
    char name[64];
    FUZZ_ASSERT(sk_server_key_export(key, out, len) == SK_OK);
    snprintf(name, sizeof name, "sks2-%s", tag);
    put("server_key", name, out, len);
    if (bits == 1024) {
        memcpy(out, "SKS1", 4);
        snprintf(name, sizeof name, "sks1-%s-refused", tag);
        put("server_key", name, out, 6 + bits / 8);
    }
    sk_server_key_free(key);
}

/* ---------------------------------------------------------- client modulus */

static void client_modulus_seeds(sk_drbg *drbg, unsigned bits, uint8_t profile_byte,
                                 const char *tag)
{
    uint8_t ds[512], n1[1 + 512];
    sk_client_share *share = NULL;
    FUZZ_ASSERT(sk_client_keygen_rng(&share, ds, bits / 8, bits, &drbg->rng) == SK_OK);
    n1[0] = profile_byte;
    FUZZ_ASSERT(sk_client_share_modulus(share, n1 + 1, bits / 8) == SK_OK);
    char name[64];
    snprintf(name, sizeof name, "valid-%s", tag);
    put("client_modulus", name, n1, 1 + bits / 8);
    n1[bits / 8] ^= 1; /* even */
    snprintf(name, sizeof name, "even-%s", tag);
    put("client_modulus", name, n1, 1 + bits / 8);
    sk_wipe(ds, sizeof ds);
    sk_client_share_free(share);
}

/* A square of a prime: the right size, odd, no small factor, but a perfect
 * power, which only the last check refuses. */
static void square_seed(sk_drbg *drbg, unsigned bits)
{
    mpz_t p, min, n;
    mpz_inits(p, min, n, NULL);
    mpz_setbit(min, bits - 1);
    mpz_sqrt(min, min);
    mpz_add_ui(min, min, 1); /* p >= this makes p^2 exactly `bits` bits */
    FUZZ_ASSERT(sk_prime_generate(p, bits / 2, min, SK_E, &drbg->rng) == SK_OK);
    mpz_mul(n, p, p);
    FUZZ_ASSERT(mpz_sizeinbase(n, 2) == bits);
    uint8_t buf[1 + 512];
    buf[0] = 0; /* profile 4K */
    FUZZ_ASSERT(sk_mpz_to_bytes(buf + 1, bits / 8, n) == SK_OK);
    put("client_modulus", "square-4k", buf, 1 + bits / 8);
    mpz_clears(p, min, n, NULL);
}

/* The share server's two entries (fuzz_share_handler.c): a first byte 0
 * for the device socket (a device frame, an old relying-party frame, an
 * unknown tag), 1 for a relying-party request as the HTTPS API hands it
 * over (no tag). */
static void share_handler_seeds(sk_drbg *drbg)
{
    static const uint8_t api[1] = {1};
    uint8_t req[4096], frame[4096 + 5], digest[32], id[16];
    size_t n = 0;
    FUZZ_ASSERT(drbg->rng.fill(drbg->rng.ctx, digest, sizeof digest) == SK_OK);
    FUZZ_ASSERT(drbg->rng.fill(drbg->rng.ctx, id, sizeof id) == SK_OK);
    sk_rp_create c = {.person_id = "PNOLV-010101-12345",
                      .purpose = SK_PURPOSE_SIGN,
                      .digest = digest,
                      .hash = SK_HASH_SHA256,
                      .scheme = SK_SCHEME_PSS,
                      .display_text = "Agreement of sale, 350 EUR",
                      .rp_name = "Demo Bank"};
    FUZZ_ASSERT(sk_rp_create_request(req, sizeof req, &n, &c) == SK_OK);
    put_prefixed("share_handler", "rp-create-person", api, 1, req, n);
    memcpy(frame, "\0SKP1", 5);
    memcpy(frame + 5, req, n);
    put("share_handler", "socket-rp-create-person", frame, 5 + n);
    c.person_id = NULL;
    c.key_id = id;
    c.purpose = SK_PURPOSE_AUTH;
    c.scheme = SK_SCHEME_PKCS1;
    FUZZ_ASSERT(sk_rp_create_request(req, sizeof req, &n, &c) == SK_OK);
    put_prefixed("share_handler", "rp-create-key", api, 1, req, n);
    FUZZ_ASSERT(sk_rp_poll_wait_request(req, sizeof req, &n, id, sizeof id, 1000) == SK_OK);
    put_prefixed("share_handler", "rp-poll", api, 1, req, n);
    memcpy(frame + 5, req, n);
    put("share_handler", "socket-rp-poll", frame, 5 + n);
    FUZZ_ASSERT(sk_rp_cancel_request(req, sizeof req, &n, id, sizeof id) == SK_OK);
    put_prefixed("share_handler", "rp-cancel", api, 1, req, n);
    FUZZ_ASSERT(sk_rp_key_state_request(req, sizeof req, &n, id, sizeof id) == SK_OK);
    put_prefixed("share_handler", "rp-key-state", api, 1, req, n);
    put("share_handler", "device-empty", (const uint8_t *)"\0SKD1", 5);
    put("share_handler", "unknown-tag", (const uint8_t *)"\0SKX1\x08\x01", 7);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: fuzz_seeds DIR\n");
        return 2;
    }
    root = argv[1];
    FUZZ_ASSERT(sk_init() == SK_OK);
    sk_drbg drbg;
    sk_drbg_init(&drbg, (const uint8_t *)"fuzz seeds", 10);

    pubkey_seeds(&drbg, 1024, "1024");
    pubkey_seeds(&drbg, 2048, "2048");
    unhex_put("pubkey", "spki-ec-p256.der",
              "3059301306072a8648ce3d020106082a8648ce3d03010703420004bb33c08d2560ea3d0945579952"
              "a360c55f2fe64a0ff32e4613495c56eb359c6fff9c3a0b1e79d85a8c945dd80759b24bb22fb1a851"
              "b5884bab40c211e10bcffa");
    unhex_put("pubkey", "spki-ed25519.der",
              "302a300506032b6570032100c9d9a2771e51b72dad69532be09facc284f3d46d1d4ed78bc49b6fc2"
              "40c982e2");
    pss_seeds();
    unwrap_seeds(&drbg, 512, "512");
    unwrap_seeds(&drbg, 2048, "4k");
    server_key_seeds(&drbg, 512, "512");
    server_key_seeds(&drbg, 1024, "1024");
    server_key_seeds(&drbg, 2048, "4k");
    client_modulus_seeds(&drbg, 2048, 0, "4k");
    client_modulus_seeds(&drbg, 3072, 1, "6k");
    square_seed(&drbg, 2048);
    share_handler_seeds(&drbg);
    sk_drbg_wipe(&drbg);
    return 0;
}
