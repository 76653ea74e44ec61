/* SPDX-License-Identifier: Apache-2.0 */
/* csr.c - PKCS#10 certification requests (RFC 2986) for an RSA key whose
 * private half does not exist in one place: the CertificationRequestInfo is
 * encoded here, its digest is signed by the two-party protocol (directly
 * through a callback or over the network with the two-step API), and the
 * signature is checked under the key before a request is produced. */
#include <mbedtls/asn1.h>
#include <stdlib.h>
#include <string.h>

#include "pki/csr_internal.h"

struct sk_csr_tbs {
    der cri;
    sk_hash hash;
    sk_pubkey *key;
};

const char *pki_csr_sig_oid(sk_hash hash)
{
    switch (hash) {
    case SK_HASH_SHA256:
        return "1.2.840.113549.1.1.11";
    case SK_HASH_SHA384:
        return "1.2.840.113549.1.1.12";
    case SK_HASH_SHA512:
        return "1.2.840.113549.1.1.13";
    default:
        return NULL;
    }
}

void sk_csr_tbs_free(sk_csr_tbs *tbs)
{
    if (tbs == NULL)
        return;
    pki_der_free(&tbs->cri);
    sk_pubkey_free(tbs->key);
    sk_wipe(tbs, sizeof *tbs);
    free(tbs);
}

int sk_csr_tbs_new(sk_csr_tbs **out, const sk_name *subject, const sk_pubkey *key, sk_hash hash)
{
    if (out == NULL)
        return SK_ERR_ARG;
    *out = NULL;
    if (subject == NULL || key == NULL)
        return SK_ERR_ARG;
    if (pki_csr_sig_oid(hash) == NULL)
        return SK_ERR_HASH;
    if (sk_pubkey_bits(key) < 2048)
        return SK_ERR_KEY_SIZE;
    uint8_t spki[SK_PKI_MAX_CSR_LEN];
    size_t spki_len = 0;
    int rc = sk_pubkey_export_der(key, spki, sizeof spki, &spki_len);
    if (rc != SK_OK)
        return rc;
    sk_csr_tbs *t = calloc(1, sizeof *t);
    if (t == NULL)
        return SK_ERR_NOMEM;
    pki_der_init(&t->cri);
    t->hash = hash;
    rc = sk_pubkey_import(&t->key, spki, spki_len);
    if (rc != SK_OK)
        goto out;
    /* CertificationRequestInfo ::= SEQUENCE { version 0, subject Name,
     * subjectPKInfo, attributes [0] IMPLICIT SET OF Attribute (empty) } */
    der *d = &t->cri;
    size_t s = pki_der_open(d, 0x30);
    pki_der_small_int(d, MBEDTLS_ASN1_INTEGER, 0);
    pki_name_write(d, subject);
    pki_der_raw(d, spki, spki_len);
    pki_der_tlv(d, 0xa0, NULL, 0);
    pki_der_close(d, s);
    rc = d->err;
out:
    if (rc != SK_OK) {
        sk_csr_tbs_free(t);
        return rc;
    }
    *out = t;
    return SK_OK;
}

int sk_csr_tbs_digest(const sk_csr_tbs *tbs, uint8_t *digest, size_t digest_len)
{
    if (tbs == NULL || digest == NULL || digest_len != sk_hash_len(tbs->hash))
        return SK_ERR_ARG;
    return sk_hash_compute(tbs->hash, digest, tbs->cri.p, tbs->cri.len);
}

const uint8_t *pki_csr_tbs_info(const sk_csr_tbs *tbs, size_t *len)
{
    *len = tbs->cri.len;
    return tbs->cri.p;
}

int pki_csr_assemble(uint8_t *out, size_t cap, size_t *written, const uint8_t *cri,
                     size_t cri_len, sk_hash hash, const uint8_t *sig, size_t sig_len)
{
    if (written == NULL)
        return SK_ERR_ARG;
    *written = 0;
    if (cri == NULL || cri_len == 0 || sig == NULL || sig_len == 0 ||
        sig_len > SK_MAX_SIG_LEN * 2)
        return SK_ERR_ARG;
    const char *oid = pki_csr_sig_oid(hash);
    if (oid == NULL)
        return SK_ERR_HASH;
    der d;
    pki_der_init(&d);
    size_t s = pki_der_open(&d, 0x30);
    pki_der_raw(&d, cri, cri_len);
    size_t a = pki_der_open(&d, 0x30);
    pki_der_oid(&d, oid);
    pki_der_null(&d);
    pki_der_close(&d, a);
    size_t b = pki_der_open(&d, MBEDTLS_ASN1_BIT_STRING);
    static const uint8_t unused = 0;
    pki_der_raw(&d, &unused, 1);
    pki_der_raw(&d, sig, sig_len);
    pki_der_close(&d, b);
    pki_der_close(&d, s);
    int rc = d.err != SK_OK ? d.err : pki_der_output(&d, out, cap, written);
    pki_der_free(&d);
    return rc;
}

int sk_csr_tbs_finish(const sk_csr_tbs *tbs, uint8_t *out, size_t cap, size_t *written,
                      const uint8_t *sig, size_t sig_len)
{
    if (written == NULL)
        return SK_ERR_ARG;
    *written = 0;
    if (tbs == NULL || sig == NULL || sig_len == 0 || sig_len > SK_MAX_SIG_LEN * 2)
        return SK_ERR_ARG;
    uint8_t digest[SK_MAX_HASH_LEN];
    size_t hl = sk_hash_len(tbs->hash);
    int rc = sk_hash_compute(tbs->hash, digest, tbs->cri.p, tbs->cri.len);
    if (rc != SK_OK)
        return rc;
    rc = sk_verify(tbs->key, SK_SCHEME_PKCS1, tbs->hash, digest, hl, sig, sig_len);
    if (rc != SK_OK)
        return SK_ERR_VERIFY;
    return pki_csr_assemble(out, cap, written, tbs->cri.p, tbs->cri.len, tbs->hash, sig, sig_len);
}

int sk_csr_build(uint8_t *out, size_t cap, size_t *written, const sk_name *subject,
                 const sk_pubkey *key, sk_hash hash, sk_csr_sign_fn sign, void *ctx)
{
    if (written == NULL)
        return SK_ERR_ARG;
    *written = 0;
    if (sign == NULL || key == NULL)
        return SK_ERR_ARG;
    sk_csr_tbs *tbs = NULL;
    int rc = sk_csr_tbs_new(&tbs, subject, key, hash);
    if (rc != SK_OK)
        return rc;
    uint8_t digest[SK_MAX_HASH_LEN];
    size_t hl = sk_hash_len(hash);
    size_t sig_len = sk_bytes(sk_pubkey_bits(key));
    uint8_t *sig = calloc(1, sig_len);
    if (sig == NULL) {
        rc = SK_ERR_NOMEM;
        goto out;
    }
    rc = sk_csr_tbs_digest(tbs, digest, hl);
    if (rc != SK_OK)
        goto out;
    if (sign(ctx, sig, sig_len, hash, digest, hl) != 0) {
        rc = SK_ERR_PKI;
        goto out;
    }
    rc = sk_csr_tbs_finish(tbs, out, cap, written, sig, sig_len);
out:
    free(sig);
    sk_csr_tbs_free(tbs);
    return rc;
}
