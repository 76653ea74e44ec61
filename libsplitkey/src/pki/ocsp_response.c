/* SPDX-License-Identifier: Apache-2.0 */
/* ocsp_response.c - RFC 6960 responses: signed BasicOCSPResponses from a
 * delegated OCSP signer (responderID byKey, the signer certificate
 * included, RFC 8954 nonce echoed, archiveCutoff and optionally the Common
 * PKI certHash in every SingleResponse) and the unsigned error responses. */
#include <mbedtls/asn1.h>
#include <mbedtls/oid.h>
#include <stdlib.h>
#include <string.h>

#include "pki/ocsp_internal.h"
#include "mbedtls_compat.h"

#define OID_OCSP_BASIC "1.3.6.1.5.5.7.48.1.1"
#define OID_NONCE "1.3.6.1.5.5.7.48.1.2"
#define OID_ARCHIVE_CUTOFF "1.3.6.1.5.5.7.48.1.6"
#define OID_CERT_HASH "1.3.36.8.3.13"
#define OID_SHA256 "2.16.840.1.101.3.4.2.1"
#define SK_OCSP_MAX_BACKDATE (7u * 86400u)

struct sk_ocsp_responder {
    pki_cert ca, signer;
    const sk_ca_key *key; /* borrowed */
    uint32_t validity;
    uint32_t backdate;    /* thisUpdate = now - backdate */
    bool cert_hash;       /* add certHash to good and revoked answers */
    int64_t archive_cutoff; /* the CA certificate's notBefore */
    /* CertID hashes of the CA beyond the SHA-1 and SHA-256 ones in pki_cert */
    uint8_t name_sha384[48], key_sha384[48], name_sha512[64], key_sha512[64];
};

void sk_ocsp_responder_free(sk_ocsp_responder *r)
{
    if (r == NULL)
        return;
    pki_cert_free(&r->ca);
    pki_cert_free(&r->signer);
    sk_wipe(r, sizeof *r);
    free(r);
}

int sk_ocsp_responder_new(sk_ocsp_responder **out, const uint8_t *ca_cert, size_t ca_len,
                          const uint8_t *signer_cert, size_t signer_len,
                          const sk_ca_key *signer_key, uint32_t validity_secs)
{
    if (out == NULL)
        return SK_ERR_ARG;
    *out = NULL;
    if (ca_cert == NULL || signer_cert == NULL || signer_key == NULL ||
        validity_secs > 366u * 86400u)
        return SK_ERR_ARG;
    sk_ocsp_responder *r = calloc(1, sizeof *r);
    if (r == NULL)
        return SK_ERR_NOMEM;
    mbedtls_x509_crt_init(&r->ca.crt);
    mbedtls_x509_crt_init(&r->signer.crt);
    int rc = pki_cert_load(&r->ca, ca_cert, ca_len);
    if (rc == SK_OK)
        rc = pki_cert_load(&r->signer, signer_cert, signer_len);
    if (rc != SK_OK)
        goto out;
    rc = SK_ERR_CERT;
    /* Issued by the CA (signature and name; validity dates are the
     * program's concern), EKU OCSPSigning, and holding this key. */
    uint32_t flags = 0;
    const uint32_t time_flags = MBEDTLS_X509_BADCERT_EXPIRED | MBEDTLS_X509_BADCERT_FUTURE;
    int vr = mbedtls_x509_crt_verify(&r->signer.crt, &r->ca.crt, NULL, NULL, &flags, NULL, NULL);
    if (vr != 0 && (flags & ~time_flags) != 0)
        goto out;
    if (r->signer.crt.raw.len == r->ca.crt.raw.len &&
        memcmp(r->signer.crt.raw.p, r->ca.crt.raw.p, r->ca.crt.raw.len) == 0)
        goto out; /* the CA itself: responses need a delegated OCSP signer */
    /* mbedTLS accepts any usage when the extension is absent; RFC 6960
     * 4.2.2.2 wants id-kp-OCSPSigning present. */
    if ((r->signer.crt.ext_types & MBEDTLS_X509_EXT_EXTENDED_KEY_USAGE) == 0)
        goto out;
    if (mbedtls_x509_crt_check_extended_key_usage(&r->signer.crt, MBEDTLS_OID_OCSP_SIGNING,
                                                  MBEDTLS_OID_SIZE(MBEDTLS_OID_OCSP_SIGNING)) != 0)
        goto out;
    if (sk_mbedtls_pk_check_pair(&r->signer.crt.pk, &signer_key->pk) != 0)
        goto out;
    const uint8_t *bits;
    size_t bits_len;
    if (pki_spki_key_bits(&bits, &bits_len, r->ca.crt.pk_raw.p, r->ca.crt.pk_raw.len) != SK_OK)
        goto out;
    const mbedtls_x509_buf *subj = &r->ca.crt.subject_raw;
    if (sk_hash_compute(SK_HASH_SHA384, r->name_sha384, subj->p, subj->len) != SK_OK ||
        sk_hash_compute(SK_HASH_SHA512, r->name_sha512, subj->p, subj->len) != SK_OK ||
        sk_hash_compute(SK_HASH_SHA384, r->key_sha384, bits, bits_len) != SK_OK ||
        sk_hash_compute(SK_HASH_SHA512, r->key_sha512, bits, bits_len) != SK_OK) {
        rc = SK_ERR_INTERNAL;
        goto out;
    }
    const mbedtls_x509_time *nb = &r->ca.crt.valid_from;
    sk_tm nb_tm = {nb->year, nb->mon, nb->day, nb->hour, nb->min, nb->sec};
    r->archive_cutoff = sk_time_join(&nb_tm);
    r->key = signer_key;
    r->validity = validity_secs ? validity_secs : 3600;
    rc = SK_OK;
out:
    if (rc != SK_OK) {
        sk_ocsp_responder_free(r);
        return rc;
    }
    *out = r;
    return SK_OK;
}

int sk_ocsp_error_response(uint8_t *out, size_t cap, size_t *written, sk_ocsp_status status)
{
    if (written == NULL)
        return SK_ERR_ARG;
    *written = 0;
    if (status != SK_OCSP_MALFORMED_REQUEST && status != SK_OCSP_INTERNAL_ERROR &&
        status != SK_OCSP_TRY_LATER && status != SK_OCSP_SIG_REQUIRED &&
        status != SK_OCSP_UNAUTHORIZED)
        return SK_ERR_ARG;
    /* OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED } */
    const uint8_t resp[5] = {0x30, 0x03, 0x0a, 0x01, (uint8_t)status};
    *written = sizeof resp;
    if (out == NULL || cap < sizeof resp)
        return SK_ERR_BUFFER_TOO_SMALL;
    memcpy(out, resp, sizeof resp);
    return SK_OK;
}

/* Does the CertID name this responder's CA? */
static bool certid_ours(const sk_ocsp_responder *r, const ocsp_certid *id)
{
    if (id->hash == SK_HASH_SHA1)
        return memcmp(id->name_hash, r->ca.name_sha1, 20) == 0 &&
               memcmp(id->key_hash, r->ca.key_sha1, 20) == 0;
    if (id->hash == SK_HASH_SHA256)
        return memcmp(id->name_hash, r->ca.name_sha256, 32) == 0 &&
               memcmp(id->key_hash, r->ca.key_sha256, 32) == 0;
    if (id->hash == SK_HASH_SHA384)
        return memcmp(id->name_hash, r->name_sha384, 48) == 0 &&
               memcmp(id->key_hash, r->key_sha384, 48) == 0;
    if (id->hash == SK_HASH_SHA512)
        return memcmp(id->name_hash, r->name_sha512, 64) == 0 &&
               memcmp(id->key_hash, r->key_sha512, 64) == 0;
    return false;
}

int sk_ocsp_responder_set_backdate(sk_ocsp_responder *r, uint32_t secs)
{
    if (r == NULL || secs > SK_OCSP_MAX_BACKDATE)
        return SK_ERR_ARG;
    r->backdate = secs;
    return SK_OK;
}

int sk_ocsp_responder_set_cert_hash(sk_ocsp_responder *r, int on)
{
    if (r == NULL)
        return SK_ERR_ARG;
    r->cert_hash = on != 0;
    return SK_OK;
}

int64_t sk_ocsp_responder_archive_cutoff(const sk_ocsp_responder *r)
{
    return r == NULL ? 0 : r->archive_cutoff;
}

/* The certificate the lookup gave for a good or revoked serial must be that
 * serial's certificate from this CA; its SHA-256 goes into certHash. */
static int cert_hash_of(const sk_ocsp_responder *r, uint8_t hash[32], const sk_cert_status *st,
                        const sk_serial *serial)
{
    mbedtls_x509_crt crt;
    mbedtls_x509_crt_init(&crt);
    int rc = SK_ERR_CERT;
    if (mbedtls_x509_crt_parse_der(&crt, st->cert, st->cert_len) != 0)
        goto out;
    /* exactly one certificate, no trailing bytes */
    if (crt.raw.len != st->cert_len || crt.next != NULL)
        goto out;
    const uint8_t *sp = crt.serial.p;
    size_t sl = crt.serial.len;
    while (sl > 1 && sp[0] == 0) {
        sp++;
        sl--;
    }
    if (sl != serial->len || memcmp(sp, serial->bytes, sl) != 0)
        goto out;
    if (crt.issuer_raw.len != r->ca.crt.subject_raw.len ||
        memcmp(crt.issuer_raw.p, r->ca.crt.subject_raw.p, crt.issuer_raw.len) != 0)
        goto out;
    rc = sk_hash_compute(SK_HASH_SHA256, hash, st->cert, st->cert_len);
out:
    mbedtls_x509_crt_free(&crt);
    return rc;
}

static void single_response(der *d, const sk_ocsp_responder *r, const sk_ocsp_request *req,
                            const ocsp_certid *id, const sk_cert_status *st,
                            const uint8_t *cert_hash, int64_t this_update, int64_t next)
{
    size_t s = pki_der_open(d, 0x30);
    pki_der_raw(d, req->der + id->raw_off, id->raw_len);
    if (st->state == SK_CERT_GOOD) {
        pki_der_tlv(d, 0x80, NULL, 0); /* good [0] IMPLICIT NULL */
    } else if (st->state == SK_CERT_REVOKED) {
        size_t rv = pki_der_open(d, 0xa1); /* revoked [1] IMPLICIT RevokedInfo */
        pki_der_gentime(d, st->revocation_time);
        if (st->reason != SK_REASON_UNSPECIFIED) {
            size_t rs = pki_der_open(d, 0xa0); /* revocationReason [0] EXPLICIT */
            pki_der_small_int(d, MBEDTLS_ASN1_ENUMERATED, (uint64_t)st->reason);
            pki_der_close(d, rs);
        }
        pki_der_close(d, rv);
    } else {
        pki_der_tlv(d, 0x82, NULL, 0); /* unknown [2] IMPLICIT NULL */
    }
    pki_der_gentime(d, this_update);
    size_t nu = pki_der_open(d, 0xa0); /* nextUpdate [0] EXPLICIT */
    pki_der_gentime(d, next);
    pki_der_close(d, nu);
    size_t se = pki_der_open(d, 0xa1); /* singleExtensions [1] EXPLICIT */
    size_t exts = pki_der_open(d, 0x30);
    /* RFC 6960 4.4.4: ArchiveCutoff ::= GeneralizedTime */
    ext_mark m = pki_ext_open(d, OID_ARCHIVE_CUTOFF, false);
    pki_der_gentime(d, r->archive_cutoff);
    pki_ext_close(d, m);
    if (cert_hash != NULL) {
        /* Common PKI: CertHash ::= SEQUENCE { hashAlgorithm AlgorithmIdentifier,
         * certificateHash OCTET STRING } */
        m = pki_ext_open(d, OID_CERT_HASH, false);
        size_t ch = pki_der_open(d, 0x30);
        size_t alg = pki_der_open(d, 0x30);
        pki_der_oid(d, OID_SHA256);
        pki_der_close(d, alg);
        pki_der_tlv(d, MBEDTLS_ASN1_OCTET_STRING, cert_hash, 32);
        pki_der_close(d, ch);
        pki_ext_close(d, m);
    }
    pki_der_close(d, exts);
    pki_der_close(d, se);
    pki_der_close(d, s);
}

static int status_ok(const sk_cert_status *st)
{
    sk_tm tm;
    if (st->state == SK_CERT_GOOD || st->state == SK_CERT_UNKNOWN)
        return SK_OK;
    if (st->state != SK_CERT_REVOKED || sk_crl_reason_name(st->reason) == NULL ||
        sk_time_split(&tm, st->revocation_time) != SK_OK)
        return SK_ERR_ARG;
    return SK_OK;
}

static int error_out(uint8_t *out, size_t cap, size_t *written, sk_ocsp_status *status,
                     sk_ocsp_status s)
{
    if (status != NULL)
        *status = s;
    return sk_ocsp_error_response(out, cap, written, s);
}

int sk_ocsp_respond(const sk_ocsp_responder *r, uint8_t *out, size_t cap, size_t *written,
                    sk_ocsp_status *status, const uint8_t *request, size_t request_len,
                    int64_t now, sk_ocsp_lookup_fn lookup, void *ctx)
{
    if (written == NULL)
        return SK_ERR_ARG;
    *written = 0;
    if (status != NULL)
        *status = SK_OCSP_INTERNAL_ERROR;
    if (r == NULL || lookup == NULL)
        return SK_ERR_ARG;
    sk_tm tm;
    if (sk_time_split(&tm, now) != SK_OK || sk_time_split(&tm, now + r->validity) != SK_OK ||
        sk_time_split(&tm, now - (int64_t)r->backdate) != SK_OK)
        return SK_ERR_ARG;
    if (request == NULL || request_len == 0)
        return error_out(out, cap, written, status, SK_OCSP_MALFORMED_REQUEST);

    sk_ocsp_request *req = NULL;
    int rc = sk_ocsp_request_parse(&req, request, request_len);
    if (rc == SK_ERR_NOMEM)
        return error_out(out, cap, written, status, SK_OCSP_INTERNAL_ERROR);
    if (rc != SK_OK)
        return error_out(out, cap, written, status, SK_OCSP_MALFORMED_REQUEST);

    sk_cert_status st[SK_OCSP_MAX_REQUESTS];
    uint8_t hashes[SK_OCSP_MAX_REQUESTS][32];
    bool hashed[SK_OCSP_MAX_REQUESTS] = {false};
    size_t ours = 0;
    for (size_t i = 0; i < req->count; i++) {
        const ocsp_certid *id = &req->ids[i];
        memset(&st[i], 0, sizeof st[i]);
        st[i].state = SK_CERT_UNKNOWN;
        if (!certid_ours(r, id))
            continue;
        ours++;
        if (!id->serial_ok)
            continue;
        if (lookup(ctx, &st[i], &id->serial) != 0 || status_ok(&st[i]) != SK_OK) {
            sk_ocsp_request_free(req);
            return error_out(out, cap, written, status, SK_OCSP_INTERNAL_ERROR);
        }
        /* The certificate is only valid until the next lookup: hash it now.
         * A certificate that is not this serial's from this CA means the
         * status source is inconsistent: internalError, not a wrong hash. */
        if (r->cert_hash && st[i].state != SK_CERT_UNKNOWN && st[i].cert != NULL) {
            if (cert_hash_of(r, hashes[i], &st[i], &id->serial) != SK_OK) {
                sk_ocsp_request_free(req);
                return error_out(out, cap, written, status, SK_OCSP_INTERNAL_ERROR);
            }
            hashed[i] = true;
        }
        st[i].cert = NULL;
        st[i].cert_len = 0;
    }
    if (ours == 0) {
        sk_ocsp_request_free(req);
        return error_out(out, cap, written, status, SK_OCSP_UNAUTHORIZED);
    }

    int64_t next = now + r->validity;
    der tbs, basic, resp;
    pki_der_init(&tbs);
    pki_der_init(&basic);
    pki_der_init(&resp);
    /* ResponseData */
    size_t s = pki_der_open(&tbs, 0x30);
    size_t rid = pki_der_open(&tbs, 0xa2); /* responderID byKey [2] EXPLICIT KeyHash */
    pki_der_tlv(&tbs, MBEDTLS_ASN1_OCTET_STRING, r->signer.key_sha1, 20);
    pki_der_close(&tbs, rid);
    pki_der_gentime(&tbs, now);
    size_t list = pki_der_open(&tbs, 0x30);
    for (size_t i = 0; i < req->count; i++)
        single_response(&tbs, r, req, &req->ids[i], &st[i], hashed[i] ? hashes[i] : NULL,
                        now - (int64_t)r->backdate, next);
    pki_der_close(&tbs, list);
    if (req->has_nonce) {
        size_t re = pki_der_open(&tbs, 0xa1); /* responseExtensions [1] EXPLICIT */
        size_t exts = pki_der_open(&tbs, 0x30);
        ext_mark m = pki_ext_open(&tbs, OID_NONCE, false);
        pki_der_raw(&tbs, req->der + req->nonce_ext_off, req->nonce_ext_len);
        pki_ext_close(&tbs, m);
        pki_der_close(&tbs, exts);
        pki_der_close(&tbs, re);
    }
    pki_der_close(&tbs, s);
    rc = tbs.err;
    if (rc != SK_OK)
        goto out;
    /* BasicOCSPResponse { tbsResponseData, signatureAlgorithm, signature,
     * certs [0] EXPLICIT SEQUENCE OF Certificate } */
    size_t b = pki_der_open(&basic, 0x30);
    pki_sign_body(&basic, r->key, tbs.p, tbs.len);
    size_t c0 = pki_der_open(&basic, 0xa0);
    size_t cs = pki_der_open(&basic, 0x30);
    pki_der_raw(&basic, r->signer.crt.raw.p, r->signer.crt.raw.len);
    pki_der_close(&basic, cs);
    pki_der_close(&basic, c0);
    pki_der_close(&basic, b);
    rc = basic.err;
    if (rc != SK_OK)
        goto out;
    /* OCSPResponse { successful, responseBytes [0] EXPLICIT { id-pkix-ocsp-basic,
     * OCTET STRING } } */
    size_t o = pki_der_open(&resp, 0x30);
    pki_der_small_int(&resp, MBEDTLS_ASN1_ENUMERATED, SK_OCSP_SUCCESSFUL);
    size_t rb0 = pki_der_open(&resp, 0xa0);
    size_t rb = pki_der_open(&resp, 0x30);
    pki_der_oid(&resp, OID_OCSP_BASIC);
    pki_der_tlv(&resp, MBEDTLS_ASN1_OCTET_STRING, basic.p, basic.len);
    pki_der_close(&resp, rb);
    pki_der_close(&resp, rb0);
    pki_der_close(&resp, o);
    rc = pki_der_output(&resp, out, cap, written);
    if (rc == SK_OK && status != NULL)
        *status = SK_OCSP_SUCCESSFUL;
out:
    pki_der_free(&tbs);
    pki_der_free(&basic);
    pki_der_free(&resp);
    sk_ocsp_request_free(req);
    return rc;
}
