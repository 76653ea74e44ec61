/* SPDX-License-Identifier: Apache-2.0 */
/* seal.c - XChaCha20-Poly1305 at rest under the master key. */
#include "seal.h"

#include <string.h>

#include <sodium.h>

#include "fileio.h"
#include "splitkey/splitkey.h"
#include "svc_error.h"

struct sk_master_key {
    uint8_t key[SK_MASTER_KEY_LEN];
};

int sk_master_key_from_bytes(sk_master_key **out, const uint8_t *key, size_t key_len)
{
    if (out == NULL || key == NULL)
        return SK_ERR_ARG;
    *out = NULL;
    if (key_len != SK_MASTER_KEY_LEN)
        return SK_ERR_KEY_FORMAT;
    sk_master_key *mk = sodium_malloc(sizeof *mk);
    if (mk == NULL)
        return SK_ERR_NOMEM;
    memcpy(mk->key, key, SK_MASTER_KEY_LEN);
    sodium_mprotect_readonly(mk);
    *out = mk;
    return SK_OK;
}

int sk_master_key_load(sk_master_key **out, const char *path)
{
    if (out == NULL || path == NULL)
        return SK_ERR_ARG;
    *out = NULL;
    uint8_t *buf;
    size_t len;
    int rc = sk_file_read(&buf, &len, path, 4096, SK_FILE_SECRET);
    if (rc != SK_OK)
        return rc;
    rc = sk_master_key_from_bytes(out, buf, len);
    sk_file_free(buf, len);
    return rc;
}

int sk_master_key_create(const char *path)
{
    uint8_t key[SK_MASTER_KEY_LEN];
    randombytes_buf(key, sizeof key);
    int rc = sk_file_write_atomic(path, key, sizeof key, SK_FILE_SECRET_MODE, SK_FILE_NO_REPLACE);
    sodium_memzero(key, sizeof key);
    return rc;
}

void sk_master_key_free(sk_master_key *mk)
{
    if (mk != NULL)
        sodium_free(mk); /* wipes */
}

size_t sk_sealed_len(size_t plain_len) { return plain_len + SK_SEAL_OVERHEAD; }

int sk_seal(const sk_master_key *mk, uint8_t *out, size_t out_len, const uint8_t *plain,
            size_t plain_len, const uint8_t *ad, size_t ad_len)
{
    if (mk == NULL || out == NULL || (plain == NULL && plain_len > 0) || ad == NULL ||
        plain_len > SIZE_MAX - SK_SEAL_OVERHEAD || out_len != sk_sealed_len(plain_len))
        return SK_ERR_ARG;
    uint8_t *nonce = out + 4;
    memcpy(out, SK_SEAL_MAGIC, 4);
    randombytes_buf(nonce, SK_SEAL_NONCE_LEN);
    unsigned long long clen = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(out + 4 + SK_SEAL_NONCE_LEN, &clen, plain,
                                               plain_len, ad, ad_len, NULL, nonce, mk->key);
    return SK_OK;
}

int sk_unseal(const sk_master_key *mk, uint8_t *plain, size_t cap, size_t *plain_len,
              const uint8_t *sealed, size_t sealed_len, const uint8_t *ad, size_t ad_len)
{
    if (mk == NULL || plain_len == NULL || sealed == NULL || ad == NULL ||
        (plain == NULL && cap > 0))
        return SK_ERR_ARG;
    *plain_len = 0;
    if (sealed_len < SK_SEAL_OVERHEAD || memcmp(sealed, SK_SEAL_MAGIC, 4) != 0)
        return SK_ERR_KEY_FORMAT;
    size_t n = sealed_len - SK_SEAL_OVERHEAD;
    if (cap < n)
        return SK_ERR_BUFFER_TOO_SMALL;
    unsigned long long mlen = 0;
    const uint8_t *nonce = sealed + 4;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(
            plain, &mlen, NULL, sealed + 4 + SK_SEAL_NONCE_LEN, sealed_len - 4 - SK_SEAL_NONCE_LEN,
            ad, ad_len, nonce, mk->key) != 0) {
        if (cap > 0)
            sodium_memzero(plain, cap);
        return SK_ERR_PROTO_AUTH;
    }
    *plain_len = (size_t)mlen;
    return SK_OK;
}
