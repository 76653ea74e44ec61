/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ca_dir.h - the CA directory made by "splitkey-ca init" and everything
 * loaded from it.
 *
 *   DIR/ca.key     the CA private key, PEM                        0600
 *   DIR/ca.pem     the self-signed CA certificate                 0644
 *   DIR/ocsp.key   the OCSP signer's private key, PEM             0600
 *   DIR/ocsp.pem   the OCSP signer certificate (issued by the CA) 0644
 *   DIR/ca.conf    configuration, "name = value"                  0644
 *   DIR/ca.db      the certificate database (ca_store.h)          0600
 *   DIR/audit.log  the hash-chained audit log                     0600
 *   DIR/crl.der    the current CRL, DER (ca_publish.h)            0644
 *   DIR/crl.lock   serialises CRL publication between processes   0600
 *
 * Private keys are read with sk_file_read(SK_FILE_SECRET), which refuses a
 * key file readable by group or others, and are wiped when released.
 */
#ifndef SK_CA_DIR_H
#define SK_CA_DIR_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "ca_store.h"
#include "config.h"
#include "splitkey/pki.h"

#define CA_FILE_KEY "ca.key"
#define CA_FILE_CERT "ca.pem"
#define CA_FILE_OCSP_KEY "ocsp.key"
#define CA_FILE_OCSP_CERT "ocsp.pem"
#define CA_FILE_CONF "ca.conf"
#define CA_FILE_DB "ca.db"
#define CA_FILE_AUDIT "audit.log"
#define CA_FILE_CRL "crl.der"
#define CA_FILE_CRL_LOCK "crl.lock"

#define CA_DEFAULT_CRL_DAYS 7u
#define CA_MAX_CRL_DAYS 366u

/* ca.conf: what goes into every certificate, and the run defaults. */
typedef struct ca_conf {
    char *ocsp_url, *ca_url, *crl_url, *policy_oid, *pds_url, *pds_lang, *listen;
    unsigned validity_days;
    unsigned crl_days; /* CRL lifetime: nextUpdate - thisUpdate, days */
} ca_conf;

#define CA_CONF_NOPTS 10
typedef struct ca_conf_file {
    ca_conf conf;
    sk_opt opts[CA_CONF_NOPTS];
} ca_conf_file;

/* Reads DIR/ca.conf (which must exist) into f and checks its URLs and PDS
 * language as init does (ca_check_url, ca_check_lang; the language is
 * lower-cased in place).  Returns SK_OK or SK_SVC_ERR_CONFIG with a message
 * in err.  Release with ca_conf_free. */
int ca_conf_load(ca_conf_file *f, const char *dir, char *err, size_t err_len);
void ca_conf_free(ca_conf_file *f);

/* The kinds of URL a CA publishes. */
typedef enum ca_url_kind {
    CA_URL_OCSP, /* AIA id-ad-ocsp: http:// */
    CA_URL_CA,   /* AIA id-ad-caIssuers: http:// */
    CA_URL_CRL,  /* cRLDistributionPoints: http:// */
    CA_URL_PDS   /* QcPDS: https:// */
} ca_url_kind;

/* Checks a URL that goes into certificates: absolute, http:// (https:// for
 * the PDS), with a host and at most a numeric port, no user name, printable
 * ASCII without spaces, at most 512 bytes.  Returns SK_OK, or
 * SK_SVC_ERR_CONFIG with a one-line message in err that starts with what
 * (e.g. "--ocsp-url") and says why http (or https) is wanted. */
int ca_check_url(const char *url, ca_url_kind kind, const char *what, char *err,
                 size_t err_len);

/* The path of an http(s) URL checked by ca_check_url, without query: "/"
 * when it has none.  Returns SK_OK or SK_ERR_BUFFER_TOO_SMALL. */
int ca_url_path(char *out, size_t cap, const char *url);

/* Checks a PDS language (ISO 639-1: two letters, either case) and writes
 * it in lower case in place.  Returns SK_OK or SK_SVC_ERR_CONFIG with a
 * message starting with what. */
int ca_check_lang(char *lang, const char *what, char *err, size_t err_len);

/* Everything a running CA needs.  key is secret (wiped by ca_ctx_free). */
typedef struct ca_ctx {
    char *dir;
    char *audit_path;
    ca_conf_file conf;
    sk_ca_key *key;
    sk_ca *ca;
    uint8_t *cert_der; /* points into ca */
    size_t cert_len;
    ca_store *store;
    pthread_mutex_t sign_mu; /* one signing operation with the CA key at a time */
} ca_ctx;

/* Loads the CA from dir: config, key, certificate and database (opened
 * read-write).  Returns SK_OK, SK_SVC_ERR_CONFIG (missing or bad files:
 * the message in err says which), or another error with a message. */
int ca_ctx_load(ca_ctx *c, const char *dir, char *err, size_t err_len);
void ca_ctx_free(ca_ctx *c);

/* Reads a private key file (0600 required) and imports it. */
int ca_load_key(sk_ca_key **key, const char *path, char *err, size_t err_len);

/* Checks DIR/audit.log against the database head: every line valid, count
 * and last hash equal.  Returns SK_OK or SK_ERR_AUDIT with a sentence in
 * err naming the first bad line or the mismatch. */
int ca_audit_check(ca_store *store, const char *audit_path, char *err, size_t err_len);

/* "splitkey-ca issue-tsa" (cmd_tsa.c): the TSA certificate. */
int cmd_issue_tsa(int argc, char **argv);

#endif
