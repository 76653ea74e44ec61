/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ra.h - the share server as a registration authority of splitkey-ca
 * (doc/protocol.md section 3, step 6; doc/pki.md "The share server as RA";
 * doc/operations.md "Running with a CA").
 *
 * - Issuance happens inside the request that completes a proof of
 *   possession (handler.c): the server role hands back the signed CSR, the
 *   handler calls sk_share_ra_issue() outside any store transaction, and
 *   handles the same request again with the certificate or the error.  A CA
 *   that does not answer or refuses leaves the key PENDING with nothing
 *   stored but the channel counters; the device is told to try again.
 * - Revocation follows a commit that destroyed a key (clone: keyCompromise;
 *   lockout, device or operator revocation: cessationOfOperation).  The
 *   event log holds SK_EV_REVOKE_CERT before the CA is asked; once the CA
 *   confirms, SK_EV_CERT_REVOKED is appended.  sk_share_ra_retry() finds
 *   every revocation without a confirmation and asks again, so a revocation
 *   the CA missed (down, unreachable, a crash in between) is never lost: the
 *   server runs it at start and then periodically (sk_share_ra_retry_start).
 * - The RA's identity is the server's Ed25519 key (DIR/sign.key); register
 *   DIR/server.pub with "splitkey-ca add-ra".
 */
#ifndef SK_SHARE_RA_H
#define SK_SHARE_RA_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#include "ca_client.h"
#include "handler.h"

/* Asks the CA for the certificate of a split key.  qualified (the key's
 * level is QUALIFIED: enrolled with a registration token, whose subject
 * the registration authority checked): purpose SIGN -> the qualified
 * signing profile (QCP-n-qscd), AUTH -> the qualified authentication
 * profile (NCP+), SEAL -> the qualified seal profile; otherwise (open
 * enrolment, nobody checked the subject) the basic profiles (NCP), and a
 * seal, qualified only, is refused.  subject is the registered subject
 * (text), n the enrolled modulus.  cert: out, malloc'd DER (the caller
 * frees it).
 * Returns SK_OK, SK_ERR_CA_UNAVAILABLE (no answer, a CA-side failure, a
 * stale request: worth retrying) or SK_ERR_CA_REFUSED (the CA said no, or
 * answered with a certificate that is not for n or not from its CA). */
int sk_share_ra_issue(sk_ca_client *ca, uint8_t **cert, size_t *cert_len, sk_purpose purpose,
                      bool qualified,
                      const uint8_t *csr, size_t csr_len, const char *subject, const uint8_t *n,
                      size_t n_len);

/* Revokes the certificate stored with key_id (reason: RFC 5280 CRLReason)
 * and, when the CA confirms (or says it is revoked already), appends
 * SK_EV_CERT_REVOKED.  A key without a certificate is recorded as settled
 * too (detail -1), and so is one that asking again cannot help (detail -2:
 * the stored certificate does not parse, or the CA does not know the serial
 * as this RA's), with an error in the log for the operator.  Returns SK_OK
 * or the error (the revocation stays due).  Blocks for at most the CA
 * client's timeout. */
int sk_share_ra_revoke(sk_share_server *srv, const uint8_t *key_id, int crl_reason,
                       uint64_t now);

/* One pass over the event log: every SK_EV_REVOKE_CERT after the last fully
 * confirmed point without a later SK_EV_CERT_REVOKED for its key is asked
 * again.  done / left (may be NULL) receive how many were confirmed now and
 * how many are still due.  Returns SK_OK or a store error. */
int sk_share_ra_retry(sk_share_server *srv, uint64_t now, size_t *done, size_t *left);

/* A thread that runs sk_share_ra_retry() at once and then every every_s
 * seconds (0: 30) until stopped. */
typedef struct sk_share_ra_retrier sk_share_ra_retrier;
int sk_share_ra_retry_start(sk_share_ra_retrier **out, sk_share_server *srv, unsigned every_s);
/* Revocations made at the CA (splitkey-ca revoke, or any revocation this
 * server did not ask for) of certificates this server requested: one pass
 * asks the CA (sk_ca_client_revocations, a signed request answered with a
 * signed reply) for those after the cursor kept in the store (store_meta
 * "ca_revocation_seq"), destroys each key that holds such a certificate
 * (sk_share_key_ca_revoked: event SK_EV_CA_REVOKED), and then moves the
 * cursor past what is settled - so a crash or a store failure in between
 * only makes the next pass ask again, and applying twice is a no-op.
 * Revocations this server asked for itself are skipped (the event log has
 * them); a serial no key here holds is logged and skipped.  *applied (may
 * be NULL) receives how many keys were destroyed.  Returns SK_OK, the CA
 * client's error (no answer, or a reply that is not signed by the CA or
 * not for this request: nothing applied) or a store error. */
int sk_share_ra_poll(sk_share_server *srv, uint64_t now, size_t *applied);

/* The poll's cursor (0 before the first revocation was settled). */
int sk_share_ra_cursor(sk_share_server *srv, uint64_t *seq);

/* A thread that runs sk_share_ra_poll() at once and then every every_s
 * seconds (0: 60) until stopped with sk_share_ra_retry_stop(). */
int sk_share_ra_poll_start(sk_share_ra_retrier **out, sk_share_server *srv, unsigned every_s);

/* Stops and frees the thread (waits for a pass in progress); NULL ignored. */
void sk_share_ra_retry_stop(sk_share_ra_retrier *r);

#endif
