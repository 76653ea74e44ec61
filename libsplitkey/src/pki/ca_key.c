/* SPDX-License-Identifier: Apache-2.0 */
/* ca_key.c - CA and OCSP signer keys (RSA-3072 or ECDSA P-384 in an
 * mbedTLS pk context): generation, import, export, and signing of DER
 * to-be-signed structures. */
#include <mbedtls/ecp.h>
#include <mbedtls/md.h>
#include <mbedtls/pk.h>
#include <mbedtls/rsa.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "pki/pki_internal.h"
#include "mbedtls_compat.h"

#define OID_SHA256_RSA "1.2.840.113549.1.1.11"
#define OID_ECDSA_SHA384 "1.2.840.10045.4.3.3"

int pki_rng(void *ctx, unsigned char *out, size_t len)
{
    (void)ctx;
    randombytes_buf(out, len);
    return 0;
}

static sk_ca_key *key_alloc(void)
{
    sk_ca_key *k = calloc(1, sizeof *k);
    if (k != NULL)
        mbedtls_pk_init(&k->pk);
    return k;
}

void sk_ca_key_free(sk_ca_key *key)
{
    if (key == NULL)
        return;
    mbedtls_pk_free(&key->pk); /* mbedTLS zeroises the key material */
    sk_wipe(key, sizeof *key);
    free(key);
}

/* Only RSA 2048..4096 with e = 65537 and EC P-384. */
static int key_classify(sk_ca_key *k)
{
    mbedtls_pk_type_t t = mbedtls_pk_get_type(&k->pk);
    if (t == MBEDTLS_PK_RSA) {
        size_t bits = mbedtls_pk_get_bitlen(&k->pk);
        if (bits < 2048 || bits > 4096)
            return SK_ERR_KEY_FORMAT;
        k->type = SK_CA_KEY_RSA3072;
        return SK_OK;
    }
    if (t == MBEDTLS_PK_ECKEY || t == MBEDTLS_PK_ECDSA) {
        if (sk_mbedtls_pk_ec_group(k->pk) != MBEDTLS_ECP_DP_SECP384R1)
            return SK_ERR_KEY_FORMAT;
        k->type = SK_CA_KEY_EC_P384;
        return SK_OK;
    }
    return SK_ERR_KEY_FORMAT;
}

int sk_ca_key_generate(sk_ca_key **out, sk_ca_key_type type)
{
    if (out == NULL)
        return SK_ERR_ARG;
    *out = NULL;
    if (!sk_is_initialised())
        return SK_ERR_NOT_INITIALISED;
    if (type != SK_CA_KEY_RSA3072 && type != SK_CA_KEY_EC_P384)
        return SK_ERR_ARG;
    sk_ca_key *k = key_alloc();
    if (k == NULL)
        return SK_ERR_NOMEM;
    int rc = SK_ERR_KEYGEN;
    if (type == SK_CA_KEY_RSA3072) {
        if (mbedtls_pk_setup(&k->pk, mbedtls_pk_info_from_type(MBEDTLS_PK_RSA)) != 0 ||
            mbedtls_rsa_gen_key(mbedtls_pk_rsa(k->pk), pki_rng, NULL, 3072, 65537) != 0)
            goto out;
    } else {
        if (mbedtls_pk_setup(&k->pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)) != 0 ||
            mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP384R1, mbedtls_pk_ec(k->pk), pki_rng, NULL) !=
                0)
            goto out;
    }
    k->type = type;
    rc = SK_OK;
out:
    if (rc != SK_OK) {
        sk_ca_key_free(k);
        return rc;
    }
    *out = k;
    return SK_OK;
}

int sk_ca_key_import(sk_ca_key **out, const uint8_t *data, size_t len)
{
    if (out == NULL)
        return SK_ERR_ARG;
    *out = NULL;
    if (data == NULL || len == 0 || len > 65536)
        return SK_ERR_ARG;
    if (!sk_is_initialised())
        return SK_ERR_NOT_INITIALISED;
    sk_ca_key *k = key_alloc();
    if (k == NULL)
        return SK_ERR_NOMEM;
    /* mbedTLS wants the terminating NUL counted for PEM input. */
    uint8_t *copy = malloc(len + 1);
    int rc = SK_ERR_NOMEM;
    if (copy == NULL)
        goto out;
    memcpy(copy, data, len);
    copy[len] = 0;
    /* PEM (after optional white space) is passed with its NUL; DER as is. */
    size_t skip = 0;
    while (skip < len && (data[skip] == ' ' || data[skip] == '\t' || data[skip] == '\r' ||
                          data[skip] == '\n'))
        skip++;
    bool pem = len - skip >= 10 && memcmp(data + skip, "-----BEGIN", 10) == 0;
    size_t use = pem && data[len - 1] != 0 ? len + 1 : len;
    rc = SK_ERR_KEY_FORMAT;
    if (sk_mbedtls_pk_parse_key(&k->pk, copy, use) != 0)
        goto out;
    rc = key_classify(k);
out:
    if (copy != NULL) {
        sk_wipe(copy, len + 1);
        free(copy);
    }
    if (rc != SK_OK) {
        sk_ca_key_free(k);
        return rc;
    }
    *out = k;
    return SK_OK;
}

int sk_ca_key_export_pem(const sk_ca_key *key, char *out, size_t cap, size_t *written)
{
    if (written == NULL)
        return SK_ERR_ARG;
    *written = 0;
    if (key == NULL || out == NULL)
        return SK_ERR_ARG;
    uint8_t buf[SK_PKI_MAX_KEY_PEM_LEN];
    int rc = SK_OK;
    if (mbedtls_pk_write_key_pem((mbedtls_pk_context *)&key->pk, buf, sizeof buf) != 0) {
        rc = SK_ERR_INTERNAL;
        goto out;
    }
    size_t n = strlen((const char *)buf);
    *written = n;
    if (cap < n + 1) {
        rc = SK_ERR_BUFFER_TOO_SMALL;
        goto out;
    }
    memcpy(out, buf, n + 1);
out:
    sk_wipe(buf, sizeof buf);
    return rc;
}

int sk_ca_key_type_parse(sk_ca_key_type *out, const char *name)
{
    if (out == NULL || name == NULL)
        return SK_ERR_ARG;
    if (strcmp(name, "rsa3072") == 0)
        *out = SK_CA_KEY_RSA3072;
    else if (strcmp(name, "ec-p384") == 0)
        *out = SK_CA_KEY_EC_P384;
    else
        return SK_ERR_ARG;
    return SK_OK;
}

const char *sk_ca_key_type_name(sk_ca_key_type type)
{
    return type == SK_CA_KEY_RSA3072 ? "rsa3072" : type == SK_CA_KEY_EC_P384 ? "ec-p384" : NULL;
}

sk_ca_key_type sk_ca_key_get_type(const sk_ca_key *key) { return key->type; }

/* ------------------------------------------------------------ signatures */

void pki_sig_alg(der *d, const sk_ca_key *key)
{
    size_t m = pki_der_open(d, 0x30);
    if (key->type == SK_CA_KEY_EC_P384) {
        pki_der_oid(d, OID_ECDSA_SHA384);
    } else {
        pki_der_oid(d, OID_SHA256_RSA);
        pki_der_null(d);
    }
    pki_der_close(d, m);
}

void pki_sign_body(der *d, const sk_ca_key *key, const uint8_t *tbs, size_t tbs_len)
{
    if (d->err != SK_OK)
        return;
    bool ec = key->type == SK_CA_KEY_EC_P384;
    mbedtls_md_type_t md = ec ? MBEDTLS_MD_SHA384 : MBEDTLS_MD_SHA256;
    uint8_t hash[48];
    uint8_t sig[MBEDTLS_PK_SIGNATURE_MAX_SIZE + 1];
    size_t sig_len = 0;
    if (sk_hash_compute(ec ? SK_HASH_SHA384 : SK_HASH_SHA256, hash, tbs, tbs_len) != SK_OK ||
        sk_mbedtls_pk_sign((mbedtls_pk_context *)&key->pk, md, hash, ec ? 48 : 32, sig + 1,
                           sizeof sig - 1, &sig_len) != 0) {
        d->err = SK_ERR_PKI;
        return;
    }
    sig[0] = 0; /* no unused bits */
    pki_der_raw(d, tbs, tbs_len);
    pki_sig_alg(d, key);
    pki_der_tlv(d, MBEDTLS_ASN1_BIT_STRING, sig, sig_len + 1);
}

void pki_sign_into(der *d, const sk_ca_key *key, const uint8_t *tbs, size_t tbs_len)
{
    size_t m = pki_der_open(d, 0x30);
    pki_sign_body(d, key, tbs, tbs_len);
    pki_der_close(d, m);
}

int pki_key_spki(der *d, const sk_ca_key *key)
{
    uint8_t buf[2048];
    int n = mbedtls_pk_write_pubkey_der((mbedtls_pk_context *)&key->pk, buf, sizeof buf);
    if (n <= 0)
        return SK_ERR_INTERNAL;
    pki_der_raw(d, buf + sizeof buf - (size_t)n, (size_t)n);
    return d->err;
}

int pki_key_id(uint8_t id[20], const uint8_t *spki, size_t len)
{
    const uint8_t *bits;
    size_t bits_len;
    int rc = pki_spki_key_bits(&bits, &bits_len, spki, len);
    if (rc != SK_OK)
        return rc;
    return sk_hash_compute(SK_HASH_SHA1, id, bits, bits_len);
}

int pki_random_serial(sk_serial *serial)
{
    uint8_t b[16];
    do {
        randombytes_buf(b, sizeof b);
    } while (b[0] == 0); /* keep every serial 16 bytes long and non-zero */
    memset(serial, 0, sizeof *serial);
    memcpy(serial->bytes, b, sizeof b);
    serial->len = sizeof b;
    return SK_OK;
}

int pki_sign_raw(const sk_ca_key *key, uint8_t *sig, size_t cap, size_t *sig_len,
                 const uint8_t *data, size_t len)
{
    /* the same signature as a CA reply's, over other bytes */
    return sk_ca_key_sign_message(key, sig, cap, sig_len, data, len) == SK_OK ? SK_OK
                                                                              : SK_ERR_PKI;
}

/* ------------------------------------------------- signatures over messages */

int sk_ca_key_sign_message(const sk_ca_key *key, uint8_t *sig, size_t cap, size_t *sig_len,
                           const uint8_t *msg, size_t msg_len)
{
    if (key == NULL || sig == NULL || sig_len == NULL || (msg == NULL && msg_len != 0))
        return SK_ERR_ARG;
    *sig_len = 0;
    if (cap < SK_CA_MSG_SIG_MAX)
        return SK_ERR_BUFFER_TOO_SMALL;
    bool ec = key->type == SK_CA_KEY_EC_P384;
    uint8_t hash[48];
    static const uint8_t empty[1] = {0};
    if (sk_hash_compute(ec ? SK_HASH_SHA384 : SK_HASH_SHA256, hash, msg ? msg : empty,
                        msg_len) != SK_OK)
        return SK_ERR_PKI;
    size_t len = 0;
    uint8_t buf[MBEDTLS_PK_SIGNATURE_MAX_SIZE];
    int rc = sk_mbedtls_pk_sign((mbedtls_pk_context *)&key->pk,
                                ec ? MBEDTLS_MD_SHA384 : MBEDTLS_MD_SHA256, hash, ec ? 48 : 32,
                                buf, sizeof buf, &len);
    sk_wipe(hash, sizeof hash);
    if (rc != 0 || len == 0 || len > cap)
        return SK_ERR_PKI;
    memcpy(sig, buf, len);
    *sig_len = len;
    return SK_OK;
}
