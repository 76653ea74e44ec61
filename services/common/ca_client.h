/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ca_client.h - the registration authority's side of the CA protocol
 * (proto/ca.proto, doc/pki.md "The RA protocol"): a share server asks
 * splitkey-ca to issue or revoke certificates for its split keys.
 *
 * Security properties and limits
 * -------------------------------
 * - Every issue and revoke request is signed with the RA's Ed25519 key (the
 *   share server's identity key, DIR/sign.key, whose public half the CA
 *   operator registered with "splitkey-ca add-ra --pub server.pub").  The
 *   signed bytes are "splitkey-ca-request-v1" || 0x00 || the serialized
 *   CaRequest, which carries a random 16-byte request id and the RA's
 *   clock: the CA refuses a request whose time is more than its window
 *   (300 s by default) away from its own clock, and a request id it has
 *   served before.  Keep the RA's clock synchronised.
 * - The client copies the secret key into memory of its own and wipes it in
 *   sk_ca_client_close().  Nothing secret is ever sent: a CSR, a modulus
 *   and a subject are public.
 * - Every reply is signed by the CA key (a CaReplyEnvelope, signature over
 *   "splitkey-ca-reply-v1" || 0x00 || the serialized CaReply, which echoes
 *   the request id).  A client opened with the CA certificate verifies the
 *   signature under that certificate's key and that the reply names the
 *   request id it sent; a reply that fails either is no answer
 *   (SK_ERR_PROTO_AUTH, result SK_CA_NO_ANSWER): nothing from it is
 *   returned.  A client opened without it (the OCSP responder's --ca mode)
 *   cannot check the signature; give it the certificate whenever you can.
 *   sk_ca_client_issue() also checks the certificate itself: it parses,
 *   holds the enrolled modulus n with e = 65537 and - with the CA
 *   certificate - is signed by that CA.
 * - status and ca-cert requests are public: a client opened without a key
 *   (the OCSP responder) can make them, and nothing else.
 *
 * Call sk_init() before opening a client (it initialises libsodium, whose
 * guarded memory holds the key).  Calls are thread-safe (one nng context
 * per call) and block for at most the timeout given at open.
 *
 * Argument order: the client, then outputs, then inputs.  Every function
 * returns SK_OK or a negative code (splitkey.h, svc_error.h); *result (may
 * be NULL) always receives the CA's own answer, or SK_CA_NO_ANSWER when
 * there was none (transport error, undecodable reply).
 *
 * Example (enrolment, doc/protocol.md section 3, step 6):
 *
 *     sk_ca_client *ca;
 *     rc = sk_ca_client_open(&ca, "tcp://127.0.0.1:7400", identity->sign_secret,
 *                            ca_cert_der, ca_cert_len, 0);
 *     sk_ca_issue_params p = {.csr = csr, .csr_len = csr_len,
 *                             .purpose = SK_CA_PURPOSE_SIGN, .qualified = true,
 *                             .subject = registered_subject, .n = n, .n_len = n_len,
 *                             .person_id = "PNOLV-010101-12345"};
 *     uint8_t *cert; size_t cert_len; sk_serial serial; sk_ca_result why;
 *     rc = sk_ca_client_issue(ca, &cert, &cert_len, &serial, &why, &p);
 *     ... store cert and serial with the key; free(cert) ...
 *     sk_ca_client_close(ca);
 */
#ifndef SK_CA_CLIENT_H
#define SK_CA_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "splitkey/pki.h"

#define SK_CA_RA_SECRET_LEN 64u /* libsodium crypto_sign secret key: seed || public key */

/* The CA's answer (proto/ca.proto Result), for callers that need more than
 * the error code. */
typedef enum sk_ca_result {
    SK_CA_OK = 0,
    SK_CA_BAD_REQUEST = 1,     /* -> SK_ERR_PROTO_DECODE */
    SK_CA_UNKNOWN_RA = 2,      /* -> SK_ERR_PROTO_AUTH: run add-ra for this server */
    SK_CA_BAD_SIGNATURE = 3,   /* -> SK_ERR_PROTO_AUTH */
    SK_CA_STALE = 4,           /* -> SK_ERR_PROTO_REPLAY: clock skew or replayed id */
    SK_CA_CSR_INVALID = 5,     /* -> SK_ERR_CSR */
    SK_CA_POP_FAILED = 6,      /* -> SK_ERR_VERIFY: the CSR signature is bad */
    SK_CA_KEY_MISMATCH = 7,    /* -> SK_ERR_KEY_MISMATCH: CSR key is not n */
    SK_CA_SUBJECT_INVALID = 8, /* -> SK_ERR_PKI: not a person / not the registered one */
    SK_CA_NOT_FOUND = 9,       /* -> SK_ERR_NOT_FOUND */
    SK_CA_NOT_OWNER = 10,      /* -> SK_ERR_NOT_FOUND: another RA's certificate */
    SK_CA_ALREADY_REVOKED = 11,/* -> SK_ERR_PROTO_STATE */
    SK_CA_INTERNAL = 12,       /* -> SK_ERR_STORE: the CA failed; nothing changed */
    SK_CA_NO_ANSWER = -1       /* no (decodable) reply: see the return code */
} sk_ca_result;

/* Short name of a result ("unknown-ra"). */
const char *sk_ca_result_name(sk_ca_result r);

typedef enum sk_ca_purpose {
    SK_CA_PURPOSE_AUTH = 1,
    SK_CA_PURPOSE_SIGN = 2,
    SK_CA_PURPOSE_SEAL = 3 /* an organisation's seal (legal-person subject) */
} sk_ca_purpose;

typedef struct sk_ca_client sk_ca_client;

/* Opens a client that dials url (nng: tcp://, ipc://, inproc://).
 * ra_secret: in, secret, SK_CA_RA_SECRET_LEN bytes, or NULL for a client
 *            that only asks status and ca-cert; copied (the caller keeps and
 *            wipes its own).
 * ca_cert:   in, DER or PEM of the CA certificate, or NULL; when given,
 *            issued certificates must chain to it.
 * timeout_ms: per call (0: 10 s).
 * Returns SK_OK, SK_ERR_ARG, SK_ERR_CERT (ca_cert does not parse),
 * SK_SVC_ERR_CONFIG (bad URL), SK_SVC_ERR_TRANSPORT, SK_ERR_NOMEM;
 * *out is NULL on failure. */
int sk_ca_client_open(sk_ca_client **out, const char *url, const uint8_t *ra_secret,
                      const uint8_t *ca_cert, size_t ca_cert_len, unsigned timeout_ms);

/* Closes the socket and wipes the key.  NULL is ignored. */
void sk_ca_client_close(sk_ca_client *c);

typedef struct sk_ca_issue_params {
    const uint8_t *csr;     /* DER (or PEM) PKCS#10 signed through the split path */
    size_t csr_len;
    sk_ca_purpose purpose;
    bool qualified;         /* qualified (SIGN: QCP-n-qscd; AUTH: NCP+) or basic (NCP) */
    const char *subject;    /* the registered subject (text form), or NULL: the CSR's own
                             * subject, which must still be a valid person subject */
    const uint8_t *n;       /* the enrolled composite modulus, big-endian */
    size_t n_len;
    const char *person_id;  /* stored with the certificate; NULL: the subject's serialNumber */
} sk_ca_issue_params;

/* Asks the CA to issue a certificate for an enrolled split key.
 * cert:   out, malloc'd DER certificate (the caller frees it); NULL on failure.
 * serial: out (may be NULL), the certificate's serial.
 * result: out (may be NULL), the CA's answer.
 * Returns SK_OK, the code listed with sk_ca_result, SK_ERR_BAD_SIGNATURE
 * (the CA answered with a certificate that is not for n or not from the
 * configured CA), SK_ERR_PROTO_DECODE (undecodable reply), SK_ERR_ARG (bad
 * parameters, or a client opened without a key), or the transport errors
 * of req_client.h. */
int sk_ca_client_issue(sk_ca_client *c, uint8_t **cert, size_t *cert_len, sk_serial *serial,
                       sk_ca_result *result, const sk_ca_issue_params *p);

/* Asks the CA to revoke a certificate this RA requested.
 * revocation_time: out (may be NULL), Unix seconds.
 * reason: any RFC 5280 reason except removeFromCRL.
 * Returns SK_OK or a code listed with sk_ca_result (SK_ERR_NOT_FOUND for a
 * serial the CA does not know or another RA requested, SK_ERR_PROTO_STATE
 * if it is already revoked). */
int sk_ca_client_revoke(sk_ca_client *c, int64_t *revocation_time, sk_ca_result *result,
                        const sk_serial *serial, sk_crl_reason reason);

/* The status of a serial (good, revoked with time and reason, unknown). */
int sk_ca_client_status(sk_ca_client *c, sk_cert_status *status, const sk_serial *serial);

/* The CA certificate, DER (malloc'd; the caller frees it). */
int sk_ca_client_ca_cert(sk_ca_client *c, uint8_t **cert, size_t *cert_len);

/* Whether the client verifies the CA's reply signatures (it was opened
 * with the CA certificate). */
bool sk_ca_client_verifies(const sk_ca_client *c);

/* One revocation of a certificate this RA requested (sk_ca_client_revocations). */
typedef struct sk_ca_revocation {
    uint64_t seq;            /* the CA's revocation sequence number */
    sk_serial serial;
    int64_t revocation_time;
    sk_crl_reason reason;
    bool by_ra;              /* this RA asked for it */
    char person_id[129];
    sk_ca_purpose purpose;
} sk_ca_revocation;

/* The revocations (by the CA operator or anyone) of certificates this RA
 * requested with a sequence number above since, ascending, at most max
 * (0: the CA's limit, 1000).  *out is malloc'd (free()); *more says the CA
 * has further ones (ask again from the last seq).  The reply is checked:
 * sequence numbers strictly increase from since, serials and reasons are
 * valid (SK_ERR_PROTO_DECODE otherwise).  Returns SK_OK or a code listed
 * with sk_ca_result. */
int sk_ca_client_revocations(sk_ca_client *c, sk_ca_revocation **out, size_t *count, bool *more,
                             sk_ca_result *result, uint64_t since, unsigned max);

#endif
