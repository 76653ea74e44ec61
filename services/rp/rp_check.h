/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rp_check.h - what splitkey-rp checks about the certificate that comes with
 * a signature, before it reports success (doc/rp.md, "Validation"):
 *   1. the chain: issued and signed by the CA of --ca-cert (mbedTLS
 *      mbedtls_x509_crt_verify), within its validity dates now;
 *   2. the purpose: keyUsage nonRepudiation (sign, seal) or
 *      digitalSignature (auth) present, and a certificate policy of the
 *      accepted level (qualified: QCP-n-qscd for sign, NCP+ for auth,
 *      QCP-l-qscd for seal; advanced also accepts NCP);
 *   3. the person: the subject's serialNumber (organizationIdentifier for a
 *      seal) equals the id asked for;
 *   4. the status: an RFC 6960 OCSP request (SHA-256 CertID, a fresh
 *      16-byte nonce) POSTed to the certificate's AIA OCSP URL; the
 *      response must be successful, signed by the CA or by a signer the CA
 *      issued with extKeyUsage OCSPSigning, echo the nonce and the CertID,
 *      and have thisUpdate not in the future and nextUpdate not past.
 * The signature itself is checked by the caller (sk_verify under the
 * certificate's key), on every transport.
 */
#ifndef SK_RP_CHECK_H
#define SK_RP_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "splitkey/device.h"

/* The outcome, which is also splitkey-rp's exit status. */
enum {
    RP_CHECK_OK = 0,
    RP_CHECK_ERROR = 1,   /* could not check at all (memory, a bad CA file) */
    RP_CHECK_INVALID = 7, /* chain, dates, key usage, policy or person */
    RP_CHECK_REVOKED = 8, /* OCSP says revoked */
    RP_CHECK_OCSP = 9     /* OCSP unknown, unavailable or not trustworthy */
};

typedef struct rp_check_opts {
    const char *ca_cert;    /* the CA certificate file, PEM or DER */
    sk_purpose purpose;     /* what the key was asked for */
    const char *person;     /* the id asked for; NULL: not checked (--key-id) */
    bool advanced;          /* accept an advanced (NCP) certificate too */
    const char *ocsp_url;   /* NULL: the certificate's AIA OCSP URL */
    unsigned ocsp_timeout_ms;
} rp_check_opts;

/* What was found, for the report line. */
typedef struct rp_check_info {
    char serial[41];      /* lower-case hex */
    char subject[256];
    int64_t not_after;
    char ocsp_url[513];
    int64_t this_update, next_update, revoked_at;
    char reason[32];      /* revoked: the RFC 5280 name, or "" */
} rp_check_info;

/* Reads the CA file once to see that it is a CA certificate.  Returns
 * RP_CHECK_OK or RP_CHECK_ERROR with *why. */
int rp_check_ca_file(const char *path, char *why, size_t why_len);

/* Runs checks 1-4 on cert (DER) at time now (Unix seconds).  Returns one of
 * the RP_CHECK_ values; *why says what failed (a sentence, no newline). */
int rp_check_cert(const rp_check_opts *o, const uint8_t *cert, size_t cert_len, int64_t now,
                  rp_check_info *info, char *why, size_t why_len);

#endif
