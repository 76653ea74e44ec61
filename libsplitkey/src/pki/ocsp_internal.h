/* SPDX-License-Identifier: Apache-2.0 */
/* ocsp_internal.h - shared by ocsp_request.c and ocsp_response.c. */
#ifndef SPLITKEY_OCSP_INTERNAL_H
#define SPLITKEY_OCSP_INTERNAL_H

#include "pki/cert_internal.h"

#define OCSP_MAX_REQUEST_LEN 65536u

typedef struct ocsp_certid {
    size_t raw_off, raw_len; /* the CertID TLV, echoed in the response */
    sk_hash hash;            /* SHA1, SHA256, SHA384 or SHA512; 0 for any other */
    const uint8_t *name_hash, *key_hash;
    size_t name_hash_len, key_hash_len;
    bool serial_ok; /* representable as an sk_serial (positive, <= 20 bytes) */
    sk_serial serial;
} ocsp_certid;

struct sk_ocsp_request {
    uint8_t *der;
    size_t der_len;
    size_t count;
    ocsp_certid ids[SK_OCSP_MAX_REQUESTS];
    bool has_nonce;
    size_t nonce_ext_off, nonce_ext_len; /* extnValue contents, echoed as is */
    size_t nonce_off, nonce_len;         /* the nonce octets */
};

#endif /* SPLITKEY_OCSP_INTERNAL_H */
