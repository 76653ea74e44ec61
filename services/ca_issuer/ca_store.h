/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ca_store.h - the CA's certificate database (SQLite) and its audit log.
 *
 * One SQLite file, DIR/ca.db (0600, WAL, synchronous=FULL), holds:
 *   certificates  serial (lower-case hex), subject, person id, profile,
 *                 validity, status, revocation time and reason, the
 *                 requesting RA's Ed25519 key, the DER certificate;
 *   ras           registered registration authorities (Ed25519 + X25519);
 *   audit_head    the audit log's entry count, last hash and last time, so
 *                 a log cut short is detected;
 *   requests      RA request ids already served (replay refusal);
 *   counters      the CRL number.
 *
 * Every issuance and revocation runs as one write transaction (BEGIN
 * IMMEDIATE, which also serialises the running CA against the offline
 * operator commands): read the audit head, change the certificate row,
 * append the audit line to DIR/audit.log (written and fsynced), store the
 * new head, COMMIT.  If anything before COMMIT fails the transaction rolls
 * back; the log can then hold one line more than the database counts,
 * which audit-verify reports.  The log is never ahead by more than the one
 * transaction that failed at COMMIT.
 *
 * A store opened read-only (the OCSP responder) only answers status
 * lookups, each in its own read transaction, so a revocation committed by
 * the CA is visible to the next lookup.
 *
 * Values are always bound, never formatted into SQL.  Calls on one store
 * are serialised by a mutex inside it.
 */
#ifndef SK_CA_STORE_H
#define SK_CA_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "splitkey/pki.h"

#define CA_RA_KEY_LEN 32u
#define CA_REQUEST_ID_LEN 16u

typedef struct ca_store ca_store;

#define CA_STORE_CREATE 0x1u   /* create a new database; SK_SVC_ERR_EXISTS if the file exists */
#define CA_STORE_READONLY 0x2u /* status lookups only */

/* Opens (or with CA_STORE_CREATE creates, mode 0600) the database at path
 * and brings its schema up to date (not when read-only).  audit_path is the
 * audit log appended to by the record functions (may be NULL read-only).
 * Returns SK_OK, SK_SVC_ERR_EXISTS, SK_ERR_NOT_FOUND (no such database),
 * SK_ERR_STORE, SK_ERR_NOMEM. */
int ca_store_open(ca_store **out, const char *path, const char *audit_path, unsigned flags);
void ca_store_close(ca_store *s);

/* --- registration authorities */

/* Registers an RA.  Returns SK_OK, SK_SVC_ERR_EXISTS (already registered),
 * SK_ERR_STORE. */
int ca_store_ra_add(ca_store *s, const uint8_t sign_pub[CA_RA_KEY_LEN],
                    const uint8_t kx_pub[CA_RA_KEY_LEN], int64_t now);
/* *known = whether sign_pub is a registered RA. */
int ca_store_ra_known(ca_store *s, bool *known, const uint8_t sign_pub[CA_RA_KEY_LEN]);

/* --- replay refusal */

/* *seen = whether request_id was recorded by a successful issue/revoke. */
int ca_store_request_seen(ca_store *s, bool *seen, const uint8_t id[CA_REQUEST_ID_LEN]);

/* --- issuance and revocation */

/* The profile column of the OCSP signer certificates (id-kp-OCSPSigning,
 * id-pkix-ocsp-nocheck) that init and "ocsp-signer renew" record; person
 * certificates hold their sk_cert_profile (1..4). */
#define CA_PROFILE_OCSP_SIGNER ((sk_cert_profile)100)
/* Their person_id column. */
#define CA_PERSON_OCSP_SIGNER "ocsp-signer"

typedef struct ca_issue_record {
    const sk_serial *serial;
    const char *subject;      /* text form */
    const char *person_id;
    sk_cert_profile profile;
    int64_t not_before, not_after, issued_at;
    const uint8_t *ra_pub;    /* CA_RA_KEY_LEN bytes */
    const uint8_t *request_id;/* CA_REQUEST_ID_LEN bytes, or NULL */
    const uint8_t *der;
    size_t der_len;
} ca_issue_record;

/* Stores a new certificate and appends its ISSUE line to the audit log in
 * one transaction.  Returns SK_OK, SK_ERR_STORE_CONFLICT (serial or request
 * id already present), SK_ERR_STORE_BUSY, SK_ERR_STORE, SK_SVC_ERR_IO
 * (audit log not writable), SK_ERR_AUDIT (the log and the database head
 * disagree); on failure nothing is stored. */
int ca_store_record_issue(ca_store *s, const ca_issue_record *rec);

/* Revokes a certificate and appends its REVOKE line.  ra_pub NULL: the
 * operator (any certificate); otherwise only a certificate that RA
 * requested.  *revoked_at receives the revocation time.
 * Returns SK_OK, SK_ERR_NOT_FOUND (no such serial, or - for an RA - a
 * certificate another RA requested: ca_store_owner says which),
 * SK_ERR_PROTO_STATE (already revoked), SK_ERR_STORE_CONFLICT (request id
 * replayed), SK_ERR_STORE*, SK_SVC_ERR_IO. */
int ca_store_record_revoke(ca_store *s, int64_t *revoked_at, const sk_serial *serial,
                           sk_crl_reason reason, int64_t now, const uint8_t *ra_pub,
                           const uint8_t *request_id);

/* *owned = whether the certificate exists and was requested by ra_pub;
 * *exists = whether it exists at all. */
int ca_store_owner(ca_store *s, bool *exists, bool *owned, const sk_serial *serial,
                   const uint8_t ra_pub[CA_RA_KEY_LEN]);

/* --- lookups */

/* The OCSP status of a serial (UNKNOWN when never issued). */
int ca_store_status(ca_store *s, sk_cert_status *status, const sk_serial *serial);
/* The same, and for a known serial its DER certificate in *der (malloc'd,
 * free(); NULL for UNKNOWN), for the OCSP certHash. */
int ca_store_status_der(ca_store *s, sk_cert_status *status, uint8_t **der, size_t *der_len,
                        const sk_serial *serial);

/* Every revoked certificate, in serial order (malloc'd; free()).  */
int ca_store_revoked(ca_store *s, sk_crl_entry **entries, size_t *count);

/* Increments and returns the CRL number. */
int ca_store_next_crl_number(ca_store *s, uint64_t *number);

/* What the next CRL holds, read in the one write transaction that takes its
 * number: the incremented CRL number and every revoked certificate (in
 * serial order; malloc'd, free()).  Two processes never get the same
 * number, and a CRL with a higher number never lists fewer revocations. */
int ca_store_crl_snapshot(ca_store *s, uint64_t *number, sk_crl_entry **entries,
                          size_t *count);

/* The audit head kept in the database. */
int ca_store_audit_head(ca_store *s, uint8_t hash[SK_AUDIT_HASH_LEN], uint64_t *count);

/* Number of certificates and of revoked ones. */
int ca_store_counts(ca_store *s, uint64_t *issued, uint64_t *revoked);

/* --- revocations for registration authorities */

#define CA_PERSON_ID_MAX 128u

/* One revocation of a certificate an RA requested. */
typedef struct ca_revocation {
    uint64_t seq;               /* the revocation sequence number (1, 2, ...) */
    sk_serial serial;
    int64_t revocation_time;
    sk_crl_reason reason;
    bool by_ra;                 /* the RA itself asked for it */
    char person_id[CA_PERSON_ID_MAX + 1];
    sk_cert_profile profile;
} ca_revocation;

/* The revocations of certificates ra_pub requested whose sequence number is
 * above since, in sequence order, at most max (> 0).  Every revocation
 * (operator or RA, since schema 2; earlier ones numbered by the migration)
 * takes the next number of one CA-wide counter in its own transaction, so a
 * reader that has seen number k has seen every revocation up to k.
 * *out is malloc'd (free()).  Returns SK_OK, SK_ERR_ARG or a store error. */
int ca_store_revocations_since(ca_store *s, ca_revocation **out, size_t *count,
                               const uint8_t ra_pub[CA_RA_KEY_LEN], uint64_t since, size_t max);

#endif
