/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_tsa.c - "splitkey-ca issue-tsa": certifies a time-stamping unit's key
 * (doc/pki.md, "Time stamps").
 *
 *   splitkey-ca issue-tsa --dir DIR --subject "C=LV,O=Example,CN=Example TSA"
 *       --csr tsa.csr --out tsa.pem [--days N]
 *
 * The request comes from "splitkey-tsa init"; its signature is the proof of
 * possession.  The certificate is recorded in ca.db and the audit log like
 * every other issuance, then written to --out (PEM).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ca_dir.h"
#include "ca_store.h"
#include "config.h"
#include "fileio.h"
#include "splitkey/splitkey.h"
#include "svc_error.h"

#define PROG "splitkey-ca"
#define CSR_FILE_MAX (64u * 1024u)
/* The profile column of ca.db for a TSA certificate (not a person profile). */
#define CA_PROFILE_TSA ((sk_cert_profile)16)

int cmd_issue_tsa(int argc, char **argv)
{
    char *dir = NULL, *subject_text = NULL, *csr_path = NULL, *out_path = NULL;
    unsigned days = 1095;
    sk_opt opts[] = {
        {.name = "dir", .type = SK_OPT_DIR, .value = &dir, .flags = SK_OPT_REQUIRED,
         .arg = "DIR", .help = "the CA directory"},
        {.name = "subject", .type = SK_OPT_STRING, .value = &subject_text,
         .flags = SK_OPT_REQUIRED, .arg = "DN",
         .help = "the TSA's name with C, O and CN, e.g. \"C=LV,O=Example,CN=Example TSA\""},
        {.name = "csr", .type = SK_OPT_FILE, .value = &csr_path, .flags = SK_OPT_REQUIRED,
         .arg = "FILE", .help = "the TSA's request (splitkey-tsa init writes DIR/tsa.csr)"},
        {.name = "out", .type = SK_OPT_STRING, .value = &out_path, .flags = SK_OPT_REQUIRED,
         .arg = "FILE", .help = "where to write the TSA certificate (PEM)"},
        {.name = "days", .type = SK_OPT_UINT, .value = &days, .min = 1, .max = 3650,
         .arg = "N", .help = "validity in days (default 1095)"},
        {0},
    };
    char err[512] = "";
    int rc = sk_config_parse_args(opts, NULL, argc, argv, 2, err, sizeof err);
    if (rc == SK_SVC_HELP) {
        printf("usage: " PROG " issue-tsa --dir DIR --subject DN --csr FILE --out FILE"
               " [--days N]\n\n");
        sk_config_usage(stdout, opts);
        sk_config_free(opts);
        return 0;
    }
    if (rc == SK_OK)
        rc = sk_config_validate(opts, err, sizeof err);
    if (rc != SK_OK) {
        fprintf(stderr, PROG ": %s\n", err);
        sk_config_free(opts);
        return 2;
    }
    if (sk_init() != SK_OK) {
        fprintf(stderr, PROG ": cannot initialise libsplitkey\n");
        sk_config_free(opts);
        return 1;
    }
    int ex = 2;
    sk_name *subject = NULL;
    uint8_t *csr = NULL, der[SK_PKI_MAX_CERT_LEN];
    size_t csr_len = 0, len = 0;
    char *pem = NULL;
    ca_ctx ca;
    bool loaded = false;
    const char *why = NULL;
    if (sk_name_parse(&subject, &why, subject_text) != SK_OK) {
        fprintf(stderr, PROG ": --subject %s: %s\n", subject_text, why ? why : "not a name");
        goto out;
    }
    rc = sk_file_read(&csr, &csr_len, csr_path, CSR_FILE_MAX, 0);
    if (rc != SK_OK) {
        fprintf(stderr, PROG ": --csr %s: %s\n", csr_path, sk_svc_strerror(rc));
        goto out;
    }
    rc = ca_ctx_load(&ca, dir, err, sizeof err);
    if (rc != SK_OK) {
        fprintf(stderr, PROG ": %s\n", err[0] ? err : sk_svc_strerror(rc));
        ex = sk_svc_exit_code(rc);
        goto out;
    }
    loaded = true;
    int64_t now = (int64_t)time(NULL);
    sk_serial serial;
    rc = sk_ca_issue_tsa(ca.ca, der, sizeof der, &len, &serial, subject, csr, csr_len, now,
                         days);
    if (rc != SK_OK) {
        const char *what = rc == SK_ERR_VERIFY ? "its signature does not verify under its key"
                           : rc == SK_ERR_PKI  ? "the subject needs C, O and CN"
                           : rc == SK_ERR_CSR  ? "not a PKCS#10 request for an RSA 2048..4096 "
                                                 "or EC P-384 key"
                                               : sk_strerror(rc);
        fprintf(stderr, PROG ": cannot issue the TSA certificate from %s: %s\n", csr_path,
                what);
        goto out;
    }
    ex = 1;
    char text[512], hex[2 * SK_SERIAL_MAX_LEN + 1];
    size_t tl = 0;
    if (sk_name_format(subject, text, sizeof text, &tl) != SK_OK ||
        sk_serial_to_hex(hex, sizeof hex, &serial) != SK_OK) {
        fprintf(stderr, PROG ": cannot format the subject or serial\n");
        goto out;
    }
    ca_issue_record r = {
        .serial = &serial,
        .subject = text,
        .person_id = "-",
        .profile = CA_PROFILE_TSA,
        .not_before = now,
        .not_after = now + (int64_t)days * 86400,
        .issued_at = now,
        .der = der,
        .der_len = len,
    };
    pthread_mutex_lock(&ca.sign_mu);
    rc = ca_store_record_issue(ca.store, &r);
    pthread_mutex_unlock(&ca.sign_mu);
    if (rc != SK_OK) {
        fprintf(stderr, PROG ": cannot record the certificate (nothing was issued): %s\n",
                sk_svc_strerror(rc));
        goto out;
    }
    size_t pcap = 2 * len + 256, w = 0;
    pem = malloc(pcap);
    rc = pem ? sk_pem_encode(pem, pcap, &w, "CERTIFICATE", der, len) : SK_ERR_NOMEM;
    if (rc == SK_OK)
        rc = sk_file_write_atomic(out_path, (const uint8_t *)pem, w, SK_FILE_PUBLIC_MODE, 0);
    if (rc != SK_OK) {
        fprintf(stderr, PROG ": certificate %s is recorded but %s could not be written: %s\n",
                hex, out_path, sk_svc_strerror(rc));
        goto out;
    }
    printf("issued TSA certificate %s for %s to %s\n", hex, text, out_path);
    ex = 0;
out:
    free(pem);
    free(csr); /* public */
    sk_name_free(subject);
    if (loaded)
        ca_ctx_free(&ca);
    sk_config_free(opts);
    return ex;
}
