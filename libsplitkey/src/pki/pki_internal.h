/* SPDX-License-Identifier: Apache-2.0 */
/* pki_internal.h - declarations shared by the files of src/pki only. */
#ifndef SPLITKEY_PKI_INTERNAL_H
#define SPLITKEY_PKI_INTERNAL_H

#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>
#include <stdbool.h>

#include "internal.h"
#include "splitkey/pki.h"

/* ---------------------------------------------------------- DER writing */

/* A growing buffer written front to back.  A constructed element is opened
 * with pki_der_open() (which writes the tag) and closed with pki_der_close(), which
 * inserts the length before the content.  Errors are sticky: after the
 * first failure every call is a no-op and der->err holds the code. */
typedef struct der {
    uint8_t *p;
    size_t len, cap;
    int err;
} der;

#define DER_LIMIT (1u << 24) /* 16 MiB: no object of ours comes close */

void pki_der_init(der *d);
void pki_der_free(der *d); /* wipes */
void pki_der_raw(der *d, const uint8_t *data, size_t len);
size_t pki_der_open(der *d, uint8_t tag);
void pki_der_close(der *d, size_t mark);
void pki_der_tlv(der *d, uint8_t tag, const uint8_t *val, size_t len);
/* INTEGER from a non-negative big-endian magnitude (leading zeros dropped,
 * a 0x00 added when the top bit is set). */
void pki_der_uint(der *d, const uint8_t *mag, size_t len);
void pki_der_small_int(der *d, uint8_t tag, uint64_t v); /* INTEGER/ENUMERATED */
void pki_der_oid(der *d, const char *dotted);
void pki_der_bool_true(der *d);
void pki_der_null(der *d);
/* UTCTime before 2050, GeneralizedTime from 2050 (RFC 5280 4.1.2.5). */
void pki_der_time(der *d, int64_t t);
void pki_der_gentime(der *d, int64_t t);
/* Copies the result out per the (out, cap, written) convention. */
int pki_der_output(const der *d, uint8_t *out, size_t cap, size_t *written);

/* Dotted OID -> DER content octets.  Returns the length or 0 when invalid. */
size_t pki_oid_encode(uint8_t *out, size_t cap, const char *dotted);

/* --------------------------------------------------------------- times */

/* Broken-down UTC time; valid for years 1..9999. */
typedef struct sk_tm {
    int year, mon, day, hour, min, sec;
} sk_tm;
int sk_time_split(sk_tm *tm, int64_t t);
int64_t sk_time_join(const sk_tm *tm);

/* -------------------------------------------------------------- parsing */

/* Reads one TLV with the given tag from [*p, end); *p moves past it. */
int pki_asn1_expect(uint8_t **p, const uint8_t *end, size_t *len, int tag);
/* Parses a DER time (UTCTime or GeneralizedTime, Z form). */
int pki_asn1_time(int64_t *t, const uint8_t *v, size_t len, int tag);
/* The BIT STRING contents (without unused-bits byte) of a
 * SubjectPublicKeyInfo. */
int pki_spki_key_bits(const uint8_t **bits, size_t *bits_len, const uint8_t *spki, size_t len);

/* ---------------------------------------------------------------- names */

#define SK_NAME_MAX_ATTRS 16
#define SK_NAME_MAX_VALUE 64

typedef struct sk_name_attr {
    int type; /* index into the attribute table of name.c */
    size_t len;
    char value[SK_NAME_MAX_VALUE + 1];
} sk_name_attr;

struct sk_name {
    size_t count;
    sk_name_attr attr[SK_NAME_MAX_ATTRS];
};

void pki_name_write(der *d, const sk_name *name);
/* Same attributes with the same values in the same order. */
bool pki_name_equal(const sk_name *a, const sk_name *b);
/* Parses a DER Name (filling exactly [p, p+len)); SK_ERR_PKI when it uses
 * attributes or string types this library does not represent. */
int pki_name_from_der(sk_name **out, const uint8_t *p, size_t len);

/* -------------------------------------------------------------- signing */

struct sk_ca_key {
    mbedtls_pk_context pk;
    sk_ca_key_type type;
};

/* mbedTLS RNG callback over the system CSPRNG. */
int pki_rng(void *ctx, unsigned char *out, size_t len);

/* Signs der bytes with the key: appends AlgorithmIdentifier and the BIT
 * STRING signature, all inside one SEQUENCE, to d (the usual
 * SIGNED{ToBeSigned} form).  RSA: sha256WithRSAEncryption; P-384:
 * ecdsa-with-SHA384. */
void pki_sign_into(der *d, const sk_ca_key *key, const uint8_t *tbs, size_t tbs_len);
/* The same three fields without the enclosing SEQUENCE. */
void pki_sign_body(der *d, const sk_ca_key *key, const uint8_t *tbs, size_t tbs_len);
void pki_sig_alg(der *d, const sk_ca_key *key);
/* SubjectPublicKeyInfo DER of the key into a fresh buffer. */
int pki_key_spki(der *d, const sk_ca_key *key);
/* SHA-1 over the subjectPublicKey bits of an SPKI (RFC 5280 4.2.1.2 (1)). */
int pki_key_id(uint8_t id[20], const uint8_t *spki, size_t len);

/* ----------------------------------------------------------- extensions */

/* Extension { extnID, critical, extnValue OCTET STRING { value } } where the
 * caller writes the value between ext_open and ext_close. */
typedef struct ext_mark {
    size_t seq, octets;
} ext_mark;
ext_mark pki_ext_open(der *d, const char *oid, bool critical);
void pki_ext_close(der *d, ext_mark m);

/* Random positive serial of 128 bits. */
int pki_random_serial(sk_serial *serial);

/* A parsed certificate and the values issuers and responders need. */
typedef struct pki_cert {
    mbedtls_x509_crt crt;
    uint8_t key_id[20]; /* SKI extension if present, else SHA-1 of the key */
    uint8_t name_sha1[20], key_sha1[20];     /* OCSP CertID hashes */
    uint8_t name_sha256[32], key_sha256[32];
} pki_cert;
int pki_cert_load(pki_cert *c, const uint8_t *data, size_t len);
void pki_cert_free(pki_cert *c);

/* The bare signature of data with the key (RSA PKCS#1 v1.5 over SHA-256,
 * or ECDSA over SHA-384, DER Ecdsa-Sig-Value), for CMS signatures.
 * Returns SK_OK or SK_ERR_PKI. */
int pki_sign_raw(const sk_ca_key *key, uint8_t *sig, size_t cap, size_t *sig_len,
                 const uint8_t *data, size_t len);

#endif /* SPLITKEY_PKI_INTERNAL_H */
