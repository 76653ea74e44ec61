/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ca_publish.h - what the CA publishes for validators: its CRL, kept
 * current in DIR/crl.der, and "splitkey-ca serve", the HTTP server that
 * hands out the CA certificate and that CRL at the paths of the configured
 * ca-url and crl-url (doc/pki.md, "Publication").
 *
 * CRL publication.  ca_crl_publish() makes a CRL of every revoked
 * certificate with the next CRL number and replaces DIR/crl.der with it
 * atomically (temporary file, fsync, rename).  The whole step - number,
 * revoked list, signature, rename - runs under an exclusive flock() of
 * DIR/crl.lock, so CRLs from several threads or processes (run, serve, the
 * operator's revoke) land in the order of their numbers: a CRL with a lower
 * number never replaces one with a higher number, and the database
 * transaction that takes the number never hands it out twice.
 *
 * When.  After every revocation that commits (run's RA revoke, the
 * operator's revoke) and whenever ca_crl_due() says so: DIR/crl.der is
 * missing or unreadable, lists fewer certificates than the database has
 * revoked (a publication after a revocation failed), has less than half of
 * its lifetime (crl-days) left, or - with a refresh interval - is older than
 * that.  run and serve check at start and then at least once a minute
 * (ca_crl_scheduler).
 */
#ifndef SK_CA_PUBLISH_H
#define SK_CA_PUBLISH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ca_dir.h"

/* How often the scheduler looks at DIR/crl.der at most (seconds). */
#define CA_CRL_CHECK_SECS 60u

/* What a DER CRL says about itself (the fields ca_crl_due needs). */
typedef struct ca_crl_info {
    int64_t this_update, next_update; /* next_update 0: none */
    size_t count;                     /* revoked certificates listed */
    uint64_t number;                  /* cRLNumber, 0 when absent */
} ca_crl_info;

/* Reads a DER CertificateList (RFC 5280 5.1).  Returns SK_OK or SK_ERR_DER. */
int ca_crl_read(const uint8_t *der, size_t len, ca_crl_info *info);

/* Makes a signed CRL of every revoked certificate with the next CRL number,
 * thisUpdate now and nextUpdate days later.  *der is malloc'd (free()).
 * number and count (may be NULL) receive its number and entry count. */
int ca_crl_make(ca_ctx *ca, unsigned days, int64_t now, uint8_t **der, size_t *len,
                uint64_t *number, size_t *count);

/* ca_crl_make under the lock, written to DIR/crl.der.  Returns SK_OK or an
 * error with a sentence in err. */
int ca_crl_publish(ca_ctx *ca, unsigned days, uint64_t *number, size_t *count, char *err,
                   size_t err_len);

/* Why DIR/crl.der should be reissued now (a static phrase), or NULL when it
 * is current.  refresh_secs 0: only the lifetime rule. */
const char *ca_crl_due(ca_ctx *ca, unsigned days, unsigned refresh_secs, int64_t now);

/* One check: publishes when ca_crl_due says so, logging what it did.
 * Returns SK_OK (also when nothing was due) or the publication's error. */
int ca_crl_refresh(ca_ctx *ca, unsigned days, unsigned refresh_secs);

/* A thread that runs ca_crl_refresh every min(60, refresh_secs / 2, at
 * least 1) seconds until stopped. */
typedef struct ca_crl_scheduler ca_crl_scheduler;
int ca_crl_scheduler_start(ca_crl_scheduler **out, ca_ctx *ca, unsigned days,
                           unsigned refresh_secs);
void ca_crl_scheduler_stop(ca_crl_scheduler *s); /* NULL is fine */

/* The check interval the scheduler uses for refresh_secs. */
unsigned ca_crl_check_secs(unsigned refresh_secs);

/* --- serve: HTTP on nng's HTTP server */

typedef struct ca_http ca_http;

/* Serves on "HOST:PORT" (port 0: any): GET and HEAD of the path of ca-url
 * (the CA certificate, DER, application/pkix-cert) and of crl-url when set
 * (DIR/crl.der as it is at each request, application/pkix-crl), with Date
 * and Last-Modified; 404 for any other path, 405 with "Allow: GET, HEAD" for
 * any other method.  Returns SK_OK, SK_SVC_ERR_CONFIG (a bad HOST:PORT, the
 * two paths equal; message in err) or SK_SVC_ERR_TRANSPORT. */
int ca_http_start(ca_http **out, ca_ctx *ca, const char *hostport, char *err, size_t err_len);
/* "http://HOST:PORT/" with the bound port. */
const char *ca_http_url(const ca_http *h);
void ca_http_stop(ca_http *h); /* NULL is fine */

#endif
