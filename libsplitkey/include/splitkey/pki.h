/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pki.h - the PKI of a split key (doc/pki.md): PKCS#10 requests
 * signed through the two-party protocol, proof-of-possession checks,
 * certificates for the SIGN and AUTH profiles (qualified and basic), the CA
 * and OCSP signer certificates, CRLs, RFC 6960 OCSP and a hash-chained audit
 * log.
 *
 * Security properties and limits
 * -------------------------------
 * - Everything here works on bytes: no file, socket or clock access.  Times
 *   are inputs (Unix seconds, UTC); the programs read the clock.
 * - Every parser (CSR, OCSP request, names, audit log) is bounds-checked and
 *   returns an error code for malformed input; none of them allocates more
 *   than a small multiple of its input.
 * - The CA and OCSP signer keys are RSA (2048..4096 bits, RSA-3072 by
 *   default) or ECDSA P-384, held in an opaque sk_ca_key.  The private key is
 *   wiped by sk_ca_key_free(); its PEM export is secret (the caller wipes it).
 * - A CSR's proof of possession is an RSASSA-PKCS1-v1_5 signature (SHA-256,
 *   -384 or -512) under the key inside it; for a split key it is produced by
 *   the two-party protocol, so issuing requires the device and the PIN.
 * - The audit log detects an edited, inserted, reordered or deleted entry in
 *   the middle of the log.  Cutting entries off its end is detected only by
 *   comparing the head (last hash and count) with a copy kept elsewhere, for
 *   instance in the CA database; sk_audit_verify() returns both.
 *
 * Conventions are those of splitkey.h.  Functions that write DER take
 * (out, cap, written): on SK_ERR_BUFFER_TOO_SMALL *written holds the size
 * needed and nothing else changed.  Profiles and formats: doc/pki.md.
 */
#ifndef SPLITKEY_PKI_H
#define SPLITKEY_PKI_H

#include <stddef.h>
#include <stdint.h>

#include "key.h"
#include "sign.h"
#include "splitkey.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Buffer sizes that always suffice for one object made by this library:
 * certificates and requests for keys up to 16384 bits, with 512-byte URLs. */
#define SK_PKI_MAX_CERT_LEN 8192u
#define SK_PKI_MAX_CSR_LEN 8192u
#define SK_PKI_MAX_KEY_PEM_LEN 4096u

/* ------------------------------------------------------------------ serials */

/* A certificate serial number: a positive integer, big-endian, minimal (no
 * leading zero byte), 1..20 bytes (RFC 5280 4.1.2.2). */
#define SK_SERIAL_MAX_LEN 20u
typedef struct sk_serial {
    size_t len;
    uint8_t bytes[SK_SERIAL_MAX_LEN];
} sk_serial;

/* Lower-case hex of the serial (no prefix, at least 2 digits); hex must hold
 * 2 * SK_SERIAL_MAX_LEN + 1 bytes.  Returns SK_OK or SK_ERR_ARG. */
SK_API SK_WARN_UNUSED int sk_serial_to_hex(char *hex, size_t cap, const sk_serial *serial)
    SK_NONNULL(1, 3);
/* Parses hex (either case, optional "0x", leading zeros ignored).  Returns
 * SK_OK or SK_ERR_ARG (empty, not hex, zero, more than 20 bytes). */
SK_API SK_WARN_UNUSED int sk_serial_from_hex(sk_serial *serial, const char *hex) SK_NONNULL(1, 2);

/* ------------------------------------------------------------ revocation */

/* CRLReason (RFC 5280 5.3.1).  7 is not used. */
typedef enum sk_crl_reason {
    SK_REASON_UNSPECIFIED = 0,
    SK_REASON_KEY_COMPROMISE = 1,
    SK_REASON_CA_COMPROMISE = 2,
    SK_REASON_AFFILIATION_CHANGED = 3,
    SK_REASON_SUPERSEDED = 4,
    SK_REASON_CESSATION_OF_OPERATION = 5,
    SK_REASON_CERTIFICATE_HOLD = 6,
    SK_REASON_REMOVE_FROM_CRL = 8,
    SK_REASON_PRIVILEGE_WITHDRAWN = 9,
    SK_REASON_AA_COMPROMISE = 10
} sk_crl_reason;

/* RFC 5280 names ("keyCompromise", ...).  parse returns SK_OK or SK_ERR_ARG;
 * name returns NULL for a value that is not a reason. */
SK_API SK_WARN_UNUSED int sk_crl_reason_parse(sk_crl_reason *out, const char *name)
    SK_NONNULL(1, 2);
SK_API const char *sk_crl_reason_name(sk_crl_reason reason);

/* ------------------------------------------------------------------- names */

/* A distinguished name: an ordered list of attributes, one per RDN.
 * Text form: "K=V,K=V,..." with K one of C, CN, SN, GN, serialNumber, O, OU,
 * L, ST, organizationIdentifier (or the attribute's dotted OID, e.g.
 * 2.5.4.97 for organizationIdentifier); a ',' or '\' inside a value is escaped with
 * '\'; spaces around names and values are trimmed.  C must be two upper-case
 * letters; serialNumber and organizationIdentifier are PrintableString; the
 * others UTF-8 (checked), 1..64 bytes each, at most 16 attributes. */
typedef struct sk_name sk_name;

/* Parses a name.  detail (out, may be NULL) receives a static English
 * sentence saying what is wrong.  Returns SK_OK or SK_ERR_PKI. */
SK_API SK_WARN_UNUSED int sk_name_parse(sk_name **out, const char **detail, const char *text)
    SK_NONNULL(1, 3);

/* Parses a natural person's subject and normalises it to the order
 * C, CN, SN, GN, serialNumber.  Requires C, SN, GN and serialNumber
 * "PNO" + C + "-" + identifier (ETSI EN 319 412-1); CN is derived as
 * "SURNAME,GIVENNAME" and, when given, must equal it.  No other attribute is
 * allowed.  Returns SK_OK or SK_ERR_PKI (with *detail). */
SK_API SK_WARN_UNUSED int sk_name_parse_person(sk_name **out, const char **detail,
                                               const char *text) SK_NONNULL(1, 3);

/* Checks that a name is a valid person subject in the normal order. */
SK_API SK_WARN_UNUSED int sk_name_check_person(const sk_name *name, const char **detail)
    SK_NONNULL(1);

/* Parses a legal person's subject (an organisation, for electronic seals:
 * ETSI EN 319 412-3) and normalises it to the order C, O,
 * organizationIdentifier, CN.  Requires C, O (the organisation's name) and
 * organizationIdentifier = scheme + C + "-" + identifier (EN 319 412-1
 * 5.1.4; scheme "VAT", "NTR", "PSD", "LEI", or two upper-case letters and
 * ':' for a national scheme), e.g. "VATLV-40003000000".  CN is the name the
 * organisation uses: O when absent; when given it must contain a letter and
 * differ from the identifier.  No other attribute is allowed.  Returns SK_OK
 * or SK_ERR_PKI (with *detail). */
SK_API SK_WARN_UNUSED int sk_name_parse_legal(sk_name **out, const char **detail,
                                              const char *text) SK_NONNULL(1, 3);

/* Checks that a name is a valid legal-person subject in the normal order. */
SK_API SK_WARN_UNUSED int sk_name_check_legal(const sk_name *name, const char **detail)
    SK_NONNULL(1);

/* Writes the text form (NUL-terminated; *written excludes the NUL). */
SK_API SK_WARN_UNUSED int sk_name_format(const sk_name *name, char *out, size_t cap,
                                         size_t *written) SK_NONNULL(1, 4);

/* Copies the value of the first attribute with the given short name ("CN",
 * "serialNumber", ...) as a NUL-terminated string.  SK_ERR_NOT_FOUND when
 * absent. */
SK_API SK_WARN_UNUSED int sk_name_get(const sk_name *name, char *out, size_t cap,
                                      const char *type) SK_NONNULL(1, 2, 4);

SK_API void sk_name_free(sk_name *name);

/* -------------------------------------------------------------------- CSR */

/* Signing callback for a CSR: writes an RSASSA-PKCS1-v1_5 signature of
 * sig_len bytes (the modulus length) over digest (the hash of the
 * CertificationRequestInfo) into sig.  Returns 0 on success, any other value
 * on failure (passed back to the caller of sk_csr_build). */
typedef int (*sk_csr_sign_fn)(void *ctx, uint8_t *sig, size_t sig_len, sk_hash hash,
                              const uint8_t *digest, size_t digest_len);

/* Two-step CSR building, for a signature made elsewhere (over the network):
 * sk_csr_tbs_new() encodes the CertificationRequestInfo for the subject and
 * key, sk_csr_tbs_digest() gives the hash to sign, sk_csr_tbs_finish()
 * checks the signature under the key (a CSR that does not verify is never
 * produced: SK_ERR_VERIFY) and writes the DER CertificationRequest.
 * hash is SHA-256, -384 or -512; the key's modulus is at least 2048 bits. */
typedef struct sk_csr_tbs sk_csr_tbs;
SK_API SK_WARN_UNUSED int sk_csr_tbs_new(sk_csr_tbs **out, const sk_name *subject,
                                         const sk_pubkey *key, sk_hash hash) SK_NONNULL(1, 2, 3);
SK_API SK_WARN_UNUSED int sk_csr_tbs_digest(const sk_csr_tbs *tbs, uint8_t *digest,
                                            size_t digest_len) SK_NONNULL(1, 2);
SK_API SK_WARN_UNUSED int sk_csr_tbs_finish(const sk_csr_tbs *tbs, uint8_t *out, size_t cap,
                                            size_t *written, const uint8_t *sig, size_t sig_len)
    SK_NONNULL(1, 4, 5);
SK_API void sk_csr_tbs_free(sk_csr_tbs *tbs);

/* One call: the two steps above with the signature from sign(ctx, ...).
 * Returns SK_ERR_PKI when the callback fails, SK_ERR_VERIFY when its
 * signature does not verify. */
SK_API SK_WARN_UNUSED int sk_csr_build(uint8_t *out, size_t cap, size_t *written,
                                       const sk_name *subject, const sk_pubkey *key, sk_hash hash,
                                       sk_csr_sign_fn sign, void *ctx) SK_NONNULL(3, 4, 5, 7);

/* A parsed certification request. */
typedef struct sk_csr sk_csr;

/* Parses DER or PEM ("CERTIFICATE REQUEST" or "NEW CERTIFICATE REQUEST").
 * Checks the structure only (version 0, an RSA key, a PKCS1 v1.5 SHA-2
 * signature algorithm, a subject this library can represent).  Returns
 * SK_OK, SK_ERR_CSR, SK_ERR_PEM or SK_ERR_KEY_FORMAT. */
SK_API SK_WARN_UNUSED int sk_csr_parse(sk_csr **out, const uint8_t *data, size_t len)
    SK_NONNULL(1, 2);

/* Proof of possession: the request's signature verifies under its own key.
 * Returns SK_OK or SK_ERR_VERIFY. */
SK_API SK_WARN_UNUSED int sk_csr_verify(const sk_csr *csr) SK_NONNULL(1);

/* The request's key equals the enrolled key: modulus n (big-endian, leading
 * zeros allowed) and e = 65537.  Returns SK_OK or SK_ERR_KEY_MISMATCH. */
SK_API SK_WARN_UNUSED int sk_csr_check_key(const sk_csr *csr, const uint8_t *n, size_t n_len)
    SK_NONNULL(1, 2);

/* Copies of the request's key and subject (release with the _free functions). */
SK_API SK_WARN_UNUSED int sk_csr_pubkey(const sk_csr *csr, sk_pubkey **out) SK_NONNULL(1, 2);
SK_API SK_WARN_UNUSED int sk_csr_subject(const sk_csr *csr, sk_name **out) SK_NONNULL(1, 2);
SK_API sk_hash sk_csr_hash(const sk_csr *csr) SK_NONNULL(1);
SK_API void sk_csr_free(sk_csr *csr);

/* ------------------------------------------------------------- CA keys */

typedef enum sk_ca_key_type {
    SK_CA_KEY_RSA3072 = 1,
    SK_CA_KEY_EC_P384 = 2
} sk_ca_key_type;

/* "rsa3072", "ec-p384" (splitkey-ca init --key). */
SK_API SK_WARN_UNUSED int sk_ca_key_type_parse(sk_ca_key_type *out, const char *name)
    SK_NONNULL(1, 2);
SK_API const char *sk_ca_key_type_name(sk_ca_key_type type);

/* A CA or OCSP signer private key (secret). */
typedef struct sk_ca_key sk_ca_key;

/* Generates a key (system CSPRNG).  Returns SK_OK, SK_ERR_ARG, SK_ERR_NOMEM,
 * SK_ERR_KEYGEN. */
SK_API SK_WARN_UNUSED int sk_ca_key_generate(sk_ca_key **out, sk_ca_key_type type)
    SK_NONNULL(1);
/* Imports a private key, PEM (PKCS#1, SEC1 or PKCS#8, unencrypted) or DER.
 * data is secret.  Only RSA 2048..4096 and EC P-384 are accepted:
 * SK_ERR_KEY_FORMAT otherwise. */
SK_API SK_WARN_UNUSED int sk_ca_key_import(sk_ca_key **out, const uint8_t *data, size_t len)
    SK_NONNULL(1, 2);
/* Writes the private key as NUL-terminated PEM (secret; *written excludes
 * the NUL). */
SK_API SK_WARN_UNUSED int sk_ca_key_export_pem(const sk_ca_key *key, char *out, size_t cap,
                                               size_t *written) SK_NONNULL(1, 2, 4);
/* SK_CA_KEY_RSA3072 stands for any RSA key here (an import may be 2048..4096). */
SK_API sk_ca_key_type sk_ca_key_get_type(const sk_ca_key *key) SK_NONNULL(1);
SK_API void sk_ca_key_free(sk_ca_key *key);

/* ------------------------------------------------------------ certificates */

typedef enum sk_cert_profile {
    SK_CERT_SIGN_QUALIFIED = 1, /* KU nonRepudiation, QCP-n-qscd, qcStatements */
    SK_CERT_AUTH_QUALIFIED = 2, /* KU digitalSignature, EKU clientAuth, NCP+ */
    SK_CERT_SIGN_BASIC = 3,     /* KU nonRepudiation, NCP */
    SK_CERT_AUTH_BASIC = 4,     /* KU digitalSignature, EKU clientAuth, NCP */
    SK_CERT_SEAL_QUALIFIED = 5  /* legal person: KU nonRepudiation, QCP-l-qscd, qcStatements */
} sk_cert_profile;

/* "sign-qualified", "auth-qualified", "sign-basic", "auth-basic",
 * "seal-qualified". */
SK_API SK_WARN_UNUSED int sk_cert_profile_parse(sk_cert_profile *out, const char *name)
    SK_NONNULL(1, 2);
SK_API const char *sk_cert_profile_name(sk_cert_profile profile);

/* What a CA puts into every certificate it issues.  Strings are copied by
 * sk_ca_new().  URLs are ASCII without spaces, at most 512 bytes. */
typedef struct sk_ca_config {
    const char *ocsp_url;       /* AIA id-ad-ocsp; required */
    const char *ca_issuers_url; /* AIA id-ad-caIssuers; required */
    const char *crl_url;        /* cRLDistributionPoints; NULL: none */
    const char *policy_oid;     /* the operator's policy, dotted; NULL: none */
    const char *pds_url;        /* QcPDS (qualified SIGN, SEAL); required for them */
    const char *pds_lang;       /* ISO 639-1, two letters in either case ("en", "EN"),
                                   written in lower case; NULL: "en" */
    uint32_t validity_days;     /* person certificates; 0: 1095 (3 years) */
} sk_ca_config;

/* Writes a self-signed CA certificate (v3, basicConstraints CA:TRUE
 * pathLen 0, KU keyCertSign cRLSign, SKI/AKI) for the key.  not_before is
 * Unix seconds; validity_days 0 means 3650.  serial (out, may be NULL)
 * receives the random serial. */
SK_API SK_WARN_UNUSED int sk_ca_self_signed(const sk_ca_key *key, uint8_t *out, size_t cap,
                                            size_t *written, sk_serial *serial,
                                            const sk_name *subject, int64_t not_before,
                                            uint32_t validity_days) SK_NONNULL(1, 4, 6);

/* A CA: its certificate (DER or PEM) and its key.  The key is borrowed: it
 * must outlive the CA object and is not freed by sk_ca_free().  Returns
 * SK_ERR_CERT for a certificate that is not a CA certificate or whose key is
 * not this key, SK_ERR_ARG for a bad config. */
typedef struct sk_ca sk_ca;
SK_API SK_WARN_UNUSED int sk_ca_new(sk_ca **out, const uint8_t *cert, size_t cert_len,
                                    const sk_ca_key *key, const sk_ca_config *config)
    SK_NONNULL(1, 2, 4, 5);
SK_API void sk_ca_free(sk_ca *ca);

/* The CA certificate as DER (pointer into the object). */
SK_API const uint8_t *sk_ca_cert_der(const sk_ca *ca, size_t *len) SK_NONNULL(1, 2);

/* Issues a person certificate for an RSA key (for a split key: the composite
 * n) under a profile.  subject must pass sk_name_check_person(), or
 * sk_name_check_legal() for SK_CERT_SEAL_QUALIFIED.  The serial
 * is 128 random bits (positive); not_before is Unix seconds, validity from
 * the config.  serial (out, may be NULL) receives the serial. */
SK_API SK_WARN_UNUSED int sk_ca_issue(const sk_ca *ca, uint8_t *out, size_t cap, size_t *written,
                                      sk_serial *serial, sk_cert_profile profile,
                                      const sk_name *subject, const sk_pubkey *key,
                                      int64_t not_before) SK_NONNULL(1, 4, 7, 8);

/* The CA's whole check-and-issue step for an enrolment (doc/pki.md,
 * "Enrolment: the CSR"): parses the CSR, checks its proof of possession,
 * that its key is the enrolled modulus n (e = 65537) and that its subject is a valid person
 * subject (legal-person subject for SK_CERT_SEAL_QUALIFIED) equal to `registered`
 * (when not NULL: the subject bound to the
 * registration token), then issues from the CSR's key and subject.
 * Returns what the steps return: SK_ERR_CSR / SK_ERR_PEM / SK_ERR_KEY_FORMAT
 * (unparsable), SK_ERR_VERIFY (no proof of possession), SK_ERR_KEY_MISMATCH
 * (another key), SK_ERR_PKI (subject invalid or not the registered one), or
 * what sk_ca_issue() returns. */
SK_API SK_WARN_UNUSED int sk_ca_issue_csr(const sk_ca *ca, uint8_t *out, size_t cap,
                                          size_t *written, sk_serial *serial,
                                          sk_cert_profile profile, const uint8_t *csr,
                                          size_t csr_len, const uint8_t *n, size_t n_len,
                                          const sk_name *registered, int64_t not_before)
    SK_NONNULL(1, 4, 7, 9);

/* Issues the delegated OCSP signing certificate (EKU id-kp-OCSPSigning,
 * id-pkix-ocsp-nocheck, KU digitalSignature) for signer's public key.
 * validity_days 0 means 365. */
SK_API SK_WARN_UNUSED int sk_ca_issue_ocsp_signer(const sk_ca *ca, uint8_t *out, size_t cap,
                                                  size_t *written, sk_serial *serial,
                                                  const sk_name *subject,
                                                  const sk_ca_key *signer, int64_t not_before,
                                                  uint32_t validity_days)
    SK_NONNULL(1, 4, 6, 7);

/* Reading a certificate back (DER or PEM): the share server checks the one
 * the CA returns, the CA records serial, subject and validity. */
typedef struct sk_cert sk_cert;
/* Returns SK_OK, SK_ERR_CERT (not a certificate mbedTLS accepts), SK_ERR_PEM. */
SK_API SK_WARN_UNUSED int sk_cert_parse(sk_cert **out, const uint8_t *data, size_t len)
    SK_NONNULL(1, 2);
SK_API void sk_cert_free(sk_cert *cert);
/* The DER encoding (pointer into the object). */
SK_API const uint8_t *sk_cert_der(const sk_cert *cert, size_t *len) SK_NONNULL(1, 2);
/* SK_ERR_CERT for a serial that is zero, negative or longer than 20 bytes. */
SK_API SK_WARN_UNUSED int sk_cert_serial(const sk_cert *cert, sk_serial *serial)
    SK_NONNULL(1, 2);
/* notBefore and notAfter as Unix seconds. */
SK_API SK_WARN_UNUSED int sk_cert_validity(const sk_cert *cert, int64_t *not_before,
                                           int64_t *not_after) SK_NONNULL(1, 2, 3);
/* The subject; SK_ERR_PKI when it uses attributes sk_name cannot hold. */
SK_API SK_WARN_UNUSED int sk_cert_subject(const sk_cert *cert, sk_name **out) SK_NONNULL(1, 2);
/* The RSA key; SK_ERR_KEY_FORMAT for any other key type. */
SK_API SK_WARN_UNUSED int sk_cert_pubkey(const sk_cert *cert, sk_pubkey **out) SK_NONNULL(1, 2);
/* The certificate is for modulus n (big-endian) and e = 65537: SK_OK or
 * SK_ERR_KEY_MISMATCH. */
SK_API SK_WARN_UNUSED int sk_cert_check_key(const sk_cert *cert, const uint8_t *n, size_t n_len)
    SK_NONNULL(1, 2);
/* The certificate is signed by issuer and names it (dates not checked):
 * SK_OK or SK_ERR_CERT. */
SK_API SK_WARN_UNUSED int sk_cert_check_issuer(const sk_cert *cert, const sk_cert *issuer)
    SK_NONNULL(1, 2);

/* DER <-> PEM "CERTIFICATE" (any DER object: the label is an input).
 * sk_pem_encode writes a NUL-terminated block; sk_pem_decode accepts input
 * that is already DER (copied as is) and returns SK_ERR_PEM otherwise. */
SK_API SK_WARN_UNUSED int sk_pem_encode(char *out, size_t cap, size_t *written, const char *label,
                                        const uint8_t *der, size_t der_len) SK_NONNULL(3, 4, 5);
SK_API SK_WARN_UNUSED int sk_pem_decode(uint8_t *out, size_t cap, size_t *written,
                                        const char *label, const uint8_t *data, size_t len)
    SK_NONNULL(3, 4, 5);

/* -------------------------------------------------------------------- CRL */

typedef struct sk_crl_entry {
    sk_serial serial;
    int64_t revocation_time; /* Unix seconds */
    sk_crl_reason reason;    /* UNSPECIFIED: no reasonCode extension */
} sk_crl_entry;

/* Writes a signed CRL v2: issuer = the CA's subject, thisUpdate, nextUpdate,
 * the entries in the given order with reason codes, cRLNumber and AKI.
 * crl_number is the monotonically increasing CRL number.  Returns SK_OK,
 * SK_ERR_ARG (next_update <= this_update, a bad entry), SK_ERR_BUFFER_TOO_SMALL. */
SK_API SK_WARN_UNUSED int sk_ca_crl(const sk_ca *ca, uint8_t *out, size_t cap, size_t *written,
                                    const sk_crl_entry *entries, size_t count, uint64_t crl_number,
                                    int64_t this_update, int64_t next_update) SK_NONNULL(1, 4);

/* ------------------------------------------------------------------- OCSP */

/* A parsed OCSP request (RFC 6960 4.1.1): its CertIDs and nonce. */
typedef struct sk_ocsp_request sk_ocsp_request;

#define SK_OCSP_MAX_REQUESTS 16u
#define SK_OCSP_MAX_NONCE_LEN 128u

/* Parses a DER OCSPRequest.  Accepts CertIDs hashed with SHA-1, SHA-256,
 * SHA-384 or SHA-512 (others are kept; sk_ocsp_respond() never matches them to its CA), at
 * most SK_OCSP_MAX_REQUESTS of them, and an RFC 8954 nonce of 1..32 octets
 * inside at most SK_OCSP_MAX_NONCE_LEN bytes.  A signed request's signature is ignored.
 * Returns SK_OK or SK_ERR_OCSP (malformed), SK_ERR_LIMIT. */
SK_API SK_WARN_UNUSED int sk_ocsp_request_parse(sk_ocsp_request **out, const uint8_t *der,
                                                size_t len) SK_NONNULL(1, 2);
SK_API size_t sk_ocsp_request_count(const sk_ocsp_request *req) SK_NONNULL(1);
/* The serial of the i-th CertID.  Returns SK_OK, SK_ERR_ARG (i out of range)
 * or SK_ERR_NOT_FOUND (negative or longer than 20 bytes: no serial of ours). */
SK_API SK_WARN_UNUSED int sk_ocsp_request_serial(const sk_ocsp_request *req, sk_serial *serial,
                                                 size_t i) SK_NONNULL(1, 2);
/* The nonce's octets (not its encoding); *len 0 when there is none. */
SK_API const uint8_t *sk_ocsp_request_nonce(const sk_ocsp_request *req, size_t *len)
    SK_NONNULL(1, 2);
SK_API void sk_ocsp_request_free(sk_ocsp_request *req);

typedef enum sk_cert_state {
    SK_CERT_GOOD = 0,
    SK_CERT_REVOKED = 1,
    SK_CERT_UNKNOWN = 2
} sk_cert_state;

typedef struct sk_cert_status {
    sk_cert_state state;
    int64_t revocation_time; /* REVOKED only */
    sk_crl_reason reason;    /* REVOKED only; UNSPECIFIED: no reason sent */
    /* GOOD or REVOKED, optional: the certificate's DER when the source has
     * it (for certHash, sk_ocsp_responder_set_cert_hash).  Borrowed: it
     * must stay valid until the lookup is called again or sk_ocsp_respond
     * returns.  NULL: no certHash for this answer. */
    const uint8_t *cert;
    size_t cert_len;
} sk_cert_status;

/* Status lookup by serial for the CA whose certificate the responder holds.
 * Returns 0 and fills *status; any other value makes the whole response
 * internalError. */
typedef int (*sk_ocsp_lookup_fn)(void *ctx, sk_cert_status *status, const sk_serial *serial);

/* OCSPResponseStatus (RFC 6960 4.2.1). */
typedef enum sk_ocsp_status {
    SK_OCSP_SUCCESSFUL = 0,
    SK_OCSP_MALFORMED_REQUEST = 1,
    SK_OCSP_INTERNAL_ERROR = 2,
    SK_OCSP_TRY_LATER = 3,
    SK_OCSP_SIG_REQUIRED = 5,
    SK_OCSP_UNAUTHORIZED = 6
} sk_ocsp_status;

/* A responder: the CA certificate, the delegated signer certificate (issued by
 * that CA, with EKU OCSPSigning) and the signer's key (borrowed, must outlive
 * the responder).  validity_secs is nextUpdate - thisUpdate (0: 3600).
 * Returns SK_ERR_CERT when the signer certificate is not issued by the CA,
 * lacks the EKU or does not hold this key. */
typedef struct sk_ocsp_responder sk_ocsp_responder;
SK_API SK_WARN_UNUSED int sk_ocsp_responder_new(sk_ocsp_responder **out, const uint8_t *ca_cert,
                                                size_t ca_len, const uint8_t *signer_cert,
                                                size_t signer_len, const sk_ca_key *signer_key,
                                                uint32_t validity_secs)
    SK_NONNULL(1, 2, 4, 6);
SK_API void sk_ocsp_responder_free(sk_ocsp_responder *r);

/* Answers one request: always writes a DER OCSPResponse unless the buffer is
 * too small or an argument is bad.  A malformed request gives
 * malformedRequest; a request none of whose CertIDs names this CA gives
 * unauthorized (CertIDs for other issuers among ours are answered
 * "unknown"); a failing lookup gives internalError.  A successful response
 * is a BasicOCSPResponse signed by the signer key, responderID byKey, one
 * SingleResponse per CertID (echoing its CertID), producedAt = now,
 * thisUpdate = now - backdate (sk_ocsp_responder_set_backdate, default 0),
 * nextUpdate = now + validity, archiveCutoff (the CA certificate's
 * notBefore) and, when enabled, certHash in every SingleResponse, the
 * request's nonce extension echoed and the signer certificate included.  status (out, may be NULL) receives the
 * response status. */
SK_API SK_WARN_UNUSED int sk_ocsp_respond(const sk_ocsp_responder *r, uint8_t *out, size_t cap,
                                          size_t *written, sk_ocsp_status *status,
                                          const uint8_t *request, size_t request_len,
                                          int64_t now, sk_ocsp_lookup_fn lookup, void *ctx)
    SK_NONNULL(1, 4, 9);

/* Decodes the last path segment of an RFC 5019 GET request (URL-encoded
 * base64 of the DER OCSPRequest; raw '+', '/' and missing padding accepted)
 * into DER.  Returns SK_OK, SK_ERR_OCSP (not base64), SK_ERR_LIMIT,
 * SK_ERR_BUFFER_TOO_SMALL (*written holds the size needed). */
SK_API SK_WARN_UNUSED int sk_ocsp_decode_get(uint8_t *out, size_t cap, size_t *written,
                                             const char *path, size_t path_len)
    SK_NONNULL(3, 4);

/* The unsigned error response for a status other than SUCCESSFUL (5 bytes). */
SK_API SK_WARN_UNUSED int sk_ocsp_error_response(uint8_t *out, size_t cap, size_t *written,
                                                 sk_ocsp_status status) SK_NONNULL(3);

/* thisUpdate = now - secs in every SingleResponse (producedAt stays now,
 * nextUpdate now + validity), so a client whose clock is behind still
 * accepts fresh answers.  At most 7 days.  Returns SK_OK or SK_ERR_ARG. */
SK_API SK_WARN_UNUSED int sk_ocsp_responder_set_backdate(sk_ocsp_responder *r, uint32_t secs);
/* on != 0: good and revoked answers whose lookup gave the certificate carry the
 * Common PKI extension certHash (1.3.36.8.3.13, SHA-256 of the certificate
 * DER).  A lookup certificate that is not the serial's certificate from
 * this CA makes the response internalError.  Returns SK_OK or SK_ERR_ARG. */
SK_API SK_WARN_UNUSED int sk_ocsp_responder_set_cert_hash(sk_ocsp_responder *r, int on);
/* The archiveCutoff every SingleResponse carries (RFC 6960 4.4.4): the CA
 * certificate's notBefore, since status is kept for every certificate the
 * CA ever issued.  Unix seconds. */
SK_API int64_t sk_ocsp_responder_archive_cutoff(const sk_ocsp_responder *r);

/* -------------------------------------------------------------- audit log */

/* One line per event:
 *   seq time event serial subject reason prev_hash hash
 * separated by single spaces; seq decimal from 1, time "YYYY-MM-DDTHH:MM:SSZ",
 * event ISSUE or REVOKE, serial lower-case hex, subject percent-encoded
 * (no spaces), reason an RFC 5280 name or "-", hashes 64 hex digits.
 * hash = SHA-256(prev_hash || the line up to and including reason), the
 * first prev_hash is 32 zero bytes.  Details: doc/pki.md. */
#define SK_AUDIT_HASH_LEN 32u
#define SK_AUDIT_MAX_LINE 1024u

typedef enum sk_audit_event {
    SK_AUDIT_ISSUE = 1,
    SK_AUDIT_REVOKE = 2
} sk_audit_event;

typedef struct sk_audit_entry {
    uint64_t seq;          /* previous seq + 1; 1 for the first */
    int64_t time;          /* Unix seconds, not before the previous entry */
    sk_audit_event event;
    sk_serial serial;
    const char *subject;   /* text form of the subject; at most 256 bytes */
    sk_crl_reason reason;  /* REVOKE only */
} sk_audit_entry;

/* Writes the entry's line (with '\n', NUL-terminated; *written excludes the
 * NUL) chained to prev_hash, and its hash into next_hash (which the caller
 * keeps for the next entry).  Returns SK_OK, SK_ERR_ARG or
 * SK_ERR_BUFFER_TOO_SMALL. */
SK_API SK_WARN_UNUSED int sk_audit_append(char *line, size_t cap, size_t *written,
                                          uint8_t next_hash[SK_AUDIT_HASH_LEN],
                                          const uint8_t prev_hash[SK_AUDIT_HASH_LEN],
                                          const sk_audit_entry *entry) SK_NONNULL(1, 3, 4, 5, 6);

/* Verifies a whole log (lines ending in '\n'; an empty log is valid).
 * Outputs (each may be NULL): bad_line, the 1-based number of the first bad
 * line (0 when the log is valid); head, the last hash (zeros for an empty
 * log); count, the number of entries.  Returns SK_OK or SK_ERR_AUDIT. */
SK_API SK_WARN_UNUSED int sk_audit_verify(size_t *bad_line, uint8_t head[SK_AUDIT_HASH_LEN],
                                          uint64_t *count, const char *log, size_t len)
    SK_NONNULL(4);

/* ---------------------------------------------------------- time stamps */

/* A time-stamping authority (RFC 3161 with the RFC 5816 ESSCertIDv2 update,
 * ETSI EN 319 422 profile; doc/pki.md, "Time stamps").  The TSA key is an
 * sk_ca_key (RSA: sha256WithRSAEncryption, P-384: ecdsa-with-SHA384); its
 * certificate is issued by the CA with sk_ca_issue_tsa(). */

/* Writes a PKCS#10 request (DER) for the TSA key under subject, signed by
 * the key itself (the proof of possession sk_ca_issue_tsa() checks).
 * Returns SK_OK, SK_ERR_ARG, SK_ERR_PKI, SK_ERR_BUFFER_TOO_SMALL. */
SK_API SK_WARN_UNUSED int sk_tsa_csr(const sk_ca_key *key, uint8_t *out, size_t cap,
                                     size_t *written, const sk_name *subject)
    SK_NONNULL(1, 4, 5);

/* Issues the TSA certificate: parses the request (DER or PEM; an RSA
 * 2048..4096 or EC P-384 key), checks its proof of possession and certifies
 * its key under subject (an organisation: C, O and CN required; the
 * request's own subject is ignored).  Extensions: keyUsage
 * digitalSignature (critical), extKeyUsage id-kp-timeStamping only
 * (critical, RFC 3161 2.3), certificatePolicies with the CA's policy OID
 * when configured, AIA and CRL distribution point as for persons, SKI/AKI.
 * validity_days 0 means 1095.  Returns SK_OK, SK_ERR_CSR (unparsable or
 * unsupported key), SK_ERR_VERIFY (no proof of possession), SK_ERR_PKI
 * (subject), SK_ERR_ARG, SK_ERR_BUFFER_TOO_SMALL. */
SK_API SK_WARN_UNUSED int sk_ca_issue_tsa(const sk_ca *ca, uint8_t *out, size_t cap,
                                          size_t *written, sk_serial *serial,
                                          const sk_name *subject, const uint8_t *csr,
                                          size_t csr_len, int64_t not_before,
                                          uint32_t validity_days) SK_NONNULL(1, 4, 6, 7);

/* PKIFailureInfo bits (RFC 3161 2.4.2): bit n of the BIT STRING is 1u << n. */
#define SK_TSA_FAIL_BAD_ALG (1u << 0)
#define SK_TSA_FAIL_BAD_REQUEST (1u << 2)
#define SK_TSA_FAIL_BAD_DATA_FORMAT (1u << 5)
#define SK_TSA_FAIL_UNACCEPTED_POLICY (1u << 15)
#define SK_TSA_FAIL_UNACCEPTED_EXTENSION (1u << 16)
#define SK_TSA_FAIL_SYSTEM_FAILURE (1u << 25)

/* PKIStatus values this TSA sends. */
#define SK_TSA_GRANTED 0
#define SK_TSA_REJECTION 2

#define SK_TSA_MAX_NONCE_LEN 32u

typedef struct sk_tsa_config {
    const char *policy_oid;    /* the TSA's policy, dotted; required */
    uint32_t accuracy_seconds; /* Accuracy.seconds; 0: no accuracy field */
    int qualified;             /* non-zero: esi4-qtstStatement-1 in every token */
    int include_name;          /* non-zero: TSTInfo.tsa = the certificate's subject */
} sk_tsa_config;

/* A TSA: its certificate (DER or PEM) and key (borrowed: it must outlive the
 * TSA).  Returns SK_ERR_CERT when the certificate does not hold this key or
 * lacks extKeyUsage id-kp-timeStamping as its only purpose, SK_ERR_ARG for
 * a bad config. */
typedef struct sk_tsa sk_tsa;
SK_API SK_WARN_UNUSED int sk_tsa_new(sk_tsa **out, const uint8_t *cert, size_t cert_len,
                                     const sk_ca_key *key, const sk_tsa_config *config)
    SK_NONNULL(1, 2, 4, 5);
SK_API void sk_tsa_free(sk_tsa *tsa);

/* What sk_tsa_respond() did, for the caller's log line. */
typedef struct sk_tsa_result {
    int status;         /* SK_TSA_GRANTED or SK_TSA_REJECTION */
    uint32_t fail_info; /* SK_TSA_FAIL_* bits; 0 when granted */
    sk_serial serial;   /* the token's serialNumber (granted only) */
    sk_hash hash;       /* the imprint's algorithm (0 when not recognised) */
    int nonce;          /* the request had a nonce */
    int cert_req;       /* the request asked for the certificate */
} sk_tsa_result;

/* Answers one DER TimeStampReq with a DER TimeStampResp (always, unless the
 * buffer is too small or an argument is bad).  Checks: version 1; the
 * imprint is SHA-256, -384 or -512 with a digest of that length (SHA-1 and
 * any other algorithm: badAlg); reqPolicy absent or the TSA's policy
 * (unacceptedPolicy); a nonce of 1..SK_TSA_MAX_NONCE_LEN octets; no
 * extensions (unacceptedExtension); anything unparsable or trailing:
 * badDataFormat; another version or an over-long nonce: badRequest.  A
 * rejection is PKIStatusInfo {rejection, statusString, failInfo} only.  A
 * granted response carries a CMS SignedData over TSTInfo {version 1, the
 * policy, the imprint echoed, serialNumber, genTime = now (UTC, seconds),
 * accuracy, the nonce echoed, tsa name and the qualified statement as
 * configured}; signed attributes contentType, signingTime, messageDigest and
 * signingCertificateV2 (ESSCertIDv2, SHA-256 of the TSA certificate, with
 * issuerSerial); the certificate included when certReq is true.  serial
 * (may be NULL: 128 random bits) is the serialNumber to use; now is Unix
 * seconds.  result (out, may be NULL) says what was answered. */
SK_API SK_WARN_UNUSED int sk_tsa_respond(const sk_tsa *tsa, uint8_t *out, size_t cap,
                                         size_t *written, sk_tsa_result *result,
                                         const uint8_t *request, size_t request_len,
                                         int64_t now, const sk_serial *serial)
    SK_NONNULL(1, 4);
/* ----------------------------------------------- signatures over messages */

/* Largest signature sk_ca_key_sign_message() writes (RSA-4096, or a DER
 * ECDSA P-384 signature). */
#define SK_CA_MSG_SIG_MAX 512u

/* Signs msg with a CA key: RSA PKCS#1 v1.5 over SHA-256, or ECDSA (DER
 * Ecdsa-Sig-Value) over SHA-384 for a P-384 key - the algorithms the key
 * signs certificates with.  The caller puts a context string of its own in
 * front of what it signs (domain separation).  Returns SK_OK, SK_ERR_ARG,
 * SK_ERR_BUFFER_TOO_SMALL (cap below SK_CA_MSG_SIG_MAX) or SK_ERR_PKI. */
SK_API SK_WARN_UNUSED int sk_ca_key_sign_message(const sk_ca_key *key, uint8_t *sig, size_t cap,
                                                 size_t *sig_len, const uint8_t *msg,
                                                 size_t msg_len) SK_NONNULL(1, 2, 4);

/* Verifies a signature made by sk_ca_key_sign_message() under the key of
 * cert (RSA: SHA-256, EC P-384: SHA-384).  Returns SK_OK, SK_ERR_VERIFY or
 * SK_ERR_ARG. */
SK_API SK_WARN_UNUSED int sk_cert_verify_message(const sk_cert *cert, const uint8_t *sig,
                                                 size_t sig_len, const uint8_t *msg,
                                                 size_t msg_len) SK_NONNULL(1);

#ifdef __cplusplus
}
#endif

#endif /* SPLITKEY_PKI_H */
