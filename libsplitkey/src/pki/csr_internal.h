/* SPDX-License-Identifier: Apache-2.0 */
/* csr_internal.h - shared by csr.c and csr_parse.c, and by the protocol
 * roles that move a CSR's CertificationRequestInfo over the network (the
 * device builds it, the share server checks it and assembles the signed
 * request once the two-party signature exists). */
#ifndef SPLITKEY_CSR_INTERNAL_H
#define SPLITKEY_CSR_INTERNAL_H

#include "pki/pki_internal.h"

/* Dotted OID of sha{256,384,512}WithRSAEncryption, NULL for other hashes. */
const char *pki_csr_sig_oid(sk_hash hash);

/* The DER CertificationRequestInfo a tbs holds (a pointer into it). */
const uint8_t *pki_csr_tbs_info(const sk_csr_tbs *tbs, size_t *len);

/* Writes CertificationRequest { cri, sha*WithRSAEncryption (NULL params),
 * BIT STRING sig } per the (out, cap, written) convention.  Checks nothing
 * about the signature: the caller verifies it (or lets the CA do so).
 * Returns SK_OK, SK_ERR_ARG, SK_ERR_HASH, SK_ERR_BUFFER_TOO_SMALL,
 * SK_ERR_NOMEM. */
int pki_csr_assemble(uint8_t *out, size_t cap, size_t *written, const uint8_t *cri,
                     size_t cri_len, sk_hash hash, const uint8_t *sig, size_t sig_len);

/* Parses a DER CertificationRequestInfo that fills exactly [cri, cri+len):
 * version 0, a subject this library can represent, an RSA key, attributes
 * (carried, not interpreted).  key and subject (out, each may be NULL)
 * receive copies.  Returns SK_OK, SK_ERR_CSR, SK_ERR_KEY_FORMAT,
 * SK_ERR_NOMEM. */
int pki_csr_info_parse(sk_pubkey **key, sk_name **subject, const uint8_t *cri, size_t len);

#endif /* SPLITKEY_CSR_INTERNAL_H */
