/* SPDX-License-Identifier: Apache-2.0 */
/* pki_tool.c - writes the PKI objects the shell tests check with the real
 * openssl and GnuTLS tools.  Everything is made through libsplitkey; the
 * leaf key is a split key that signs through the two-party path.
 *
 *   pki_tool setup DIR rsa|ec          CA + OCSP signer + split key, CSR,
 *                                      four person certificates, a seal
 *                                      certificate (seal.pem) for the same
 *                                      key, a split signature over DIR/data.txt
 *   pki_tool revoke DIR SERIAL REASON  marks a serial revoked in DIR/db.txt
 *   pki_tool crl DIR OUT.pem           CRL of DIR/db.txt
 *   pki_tool ocsp DIR REQ RESP.der     answers a request file
 *   pki_tool csr-check DIR CSR         PoP + enrolled-key check (exit 0: both pass)
 *   pki_tool csr-tamper IN OUT         flips a bit of a CSR's signature
 *   pki_tool audit-sample OUT          a small valid audit log
 *
 * DIR/db.txt: one line per certificate, "serial state time reason". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "splitfix.h"
#include "testutil.h"

#include <time.h>

/* The tools check validity against the real clock, so the objects are made
 * with it too. */
static int64_t NOW;
#define SUBJECT "C=LV,GN=ANDRIS,SN=BERZINS,serialNumber=PNOLV-010101-12345"
#define SEAL_SUBJECT "C=LV,O=Example SIA,organizationIdentifier=VATLV-40003000000"

static const char *path(const char *dir, const char *name)
{
    static char buf[4][1024];
    static int i;
    i = (i + 1) % 4;
    snprintf(buf[i], sizeof buf[i], "%s/%s", dir, name);
    return buf[i];
}

static int write_file(const char *p, const void *data, size_t len)
{
    FILE *f = fopen(p, "wb");
    if (f == NULL)
        return -1;
    size_t n = fwrite(data, 1, len, f);
    return fclose(f) == 0 && n == len ? 0 : -1;
}

static int write_pem(const char *p, const char *label, const uint8_t *der, size_t len)
{
    static char pem[4 * SK_PKI_MAX_CERT_LEN];
    size_t w;
    if (sk_pem_encode(pem, sizeof pem, &w, label, der, len) != SK_OK)
        return -1;
    return write_file(p, pem, w);
}

#define FAIL(...)                                                                             \
    do {                                                                                      \
        fprintf(stderr, "pki_tool: " __VA_ARGS__);                                            \
        fputc('\n', stderr);                                                                  \
        exit(1);                                                                              \
    } while (0)

#define MUST(call)                                                                            \
    do {                                                                                      \
        int rc_ = (call);                                                                     \
        if (rc_ != SK_OK)                                                                     \
            FAIL("%s: %s", #call, sk_strerror(rc_));                                          \
    } while (0)

static sk_ca_key *load_key(const char *p)
{
    size_t len;
    uint8_t *d = sk_test_read_file(p, &len);
    if (d == NULL)
        FAIL("cannot read %s", p);
    sk_ca_key *k = NULL;
    MUST(sk_ca_key_import(&k, d, len));
    sk_wipe(d, len);
    free(d);
    return k;
}

static void save_key(const char *p, const sk_ca_key *k)
{
    char pem[SK_PKI_MAX_KEY_PEM_LEN];
    size_t w;
    MUST(sk_ca_key_export_pem(k, pem, sizeof pem, &w));
    if (write_file(p, pem, w) != 0)
        FAIL("cannot write %s", p);
    sk_wipe(pem, sizeof pem);
}

static const sk_ca_config CONFIG = {
    .ocsp_url = "http://127.0.0.1:8080/ocsp",
    .ca_issuers_url = "http://127.0.0.1:8080/ca.der",
    .crl_url = "http://127.0.0.1:8080/ca.crl",
    .policy_oid = "1.3.6.1.4.1.99999.1.1",
    .pds_url = "https://example.org/pds_en.pdf",
    .pds_lang = "en",
    .validity_days = 0,
};

static sk_ca *load_ca(const char *dir, sk_ca_key **key)
{
    *key = load_key(path(dir, "ca.key"));
    size_t len;
    uint8_t *cert = sk_test_read_file(path(dir, "ca.pem"), &len);
    if (cert == NULL)
        FAIL("cannot read ca.pem");
    sk_ca *ca = NULL;
    MUST(sk_ca_new(&ca, cert, len, *key, &CONFIG));
    free(cert);
    return ca;
}

static void db_add(const char *dir, const sk_serial *s)
{
    char hex[2 * SK_SERIAL_MAX_LEN + 1];
    MUST(sk_serial_to_hex(hex, sizeof hex, s));
    FILE *f = fopen(path(dir, "db.txt"), "a");
    if (f == NULL)
        FAIL("cannot open db.txt");
    fprintf(f, "%s good 0 -\n", hex);
    fclose(f);
}

static int cmd_setup(const char *dir, const char *type)
{
    sk_ca_key *cakey = NULL, *okey = NULL;
    MUST(sk_ca_key_generate(&cakey, strcmp(type, "ec") == 0 ? SK_CA_KEY_EC_P384
                                                             : SK_CA_KEY_RSA3072));
    /* the OCSP signer's key is of the CA's type, so both signing paths run */
    MUST(sk_ca_key_generate(&okey, strcmp(type, "ec") == 0 ? SK_CA_KEY_EC_P384
                                                           : SK_CA_KEY_RSA3072));
    save_key(path(dir, "ca.key"), cakey);
    save_key(path(dir, "ocsp.key"), okey);

    sk_name *caname = NULL, *oname = NULL, *person = NULL;
    const char *detail = NULL;
    MUST(sk_name_parse(&caname, &detail, "CN=Splitkey Test Qualified CA,O=Splitkey Test,"
                                         "organizationIdentifier=NTRLV-40000000000,C=LV"));
    MUST(sk_name_parse(&oname, &detail, "CN=Splitkey Test OCSP Responder,O=Splitkey Test,C=LV"));
    static uint8_t der[SK_PKI_MAX_CERT_LEN];
    size_t len;
    sk_serial serial;
    MUST(sk_ca_self_signed(cakey, der, sizeof der, &len, &serial, caname, NOW - 86400, 0));
    if (write_pem(path(dir, "ca.pem"), "CERTIFICATE", der, len) != 0)
        FAIL("write ca.pem");
    sk_ca *ca = NULL;
    MUST(sk_ca_new(&ca, der, len, cakey, &CONFIG));
    MUST(sk_ca_issue_ocsp_signer(ca, der, sizeof der, &len, &serial, oname, okey, NOW - 3600, 30));
    if (write_pem(path(dir, "ocsp.pem"), "CERTIFICATE", der, len) != 0)
        FAIL("write ocsp.pem");

    /* The split key, its CSR signed through the two-party path. */
    splitfix fx;
    if (splitfix_init(&fx, 1024, "pki tool split key") != 0)
        FAIL("split key generation");
    MUST(sk_name_parse_person(&person, &detail, SUBJECT));
    MUST(sk_csr_build(der, sizeof der, &len, person, fx.pub, SK_HASH_SHA256, splitfix_sign, &fx));
    if (write_pem(path(dir, "csr.pem"), "CERTIFICATE REQUEST", der, len) != 0)
        FAIL("write csr.pem");
    char pub[2048];
    size_t pl;
    MUST(sk_pubkey_export_pem(fx.pub, pub, sizeof pub, &pl));
    write_file(path(dir, "pub.pem"), pub, pl);
    size_t nl = 2 * fx.k / 8;
    uint8_t n[1024];
    MUST(sk_pubkey_modulus(fx.pub, n, nl));
    write_file(path(dir, "n.bin"), n, nl);

    /* The CA side: parse the CSR, check possession and the enrolled key,
     * issue from the CSR's own key and subject. */
    sk_csr *csr = NULL;
    sk_pubkey *ckey = NULL;
    sk_name *csubj = NULL;
    static uint8_t csr_copy[SK_PKI_MAX_CSR_LEN];
    size_t csr_len = len;
    memcpy(csr_copy, der, len);
    MUST(sk_csr_parse(&csr, der, len));
    MUST(sk_csr_verify(csr));
    MUST(sk_csr_check_key(csr, n, nl));
    MUST(sk_csr_pubkey(csr, &ckey));
    MUST(sk_csr_subject(csr, &csubj));
    static const struct {
        sk_cert_profile profile;
        const char *file;
    } out[] = {{SK_CERT_SIGN_QUALIFIED, "sign.pem"},
               {SK_CERT_AUTH_QUALIFIED, "auth.pem"},
               {SK_CERT_SIGN_BASIC, "signb.pem"},
               {SK_CERT_AUTH_BASIC, "authb.pem"}};
    for (size_t i = 0; i < 4; i++) {
        /* the qualified ones through the CA's one-call enrolment check */
        if (i < 2)
            MUST(sk_ca_issue_csr(ca, der, sizeof der, &len, &serial, out[i].profile, csr_copy,
                                 csr_len, n, nl, person, NOW - 60));
        else
            MUST(sk_ca_issue(ca, der, sizeof der, &len, &serial, out[i].profile, csubj, ckey,
                             NOW - 60));
        if (write_pem(path(dir, out[i].file), "CERTIFICATE", der, len) != 0)
            FAIL("write %s", out[i].file);
        db_add(dir, &serial);
    }

    /* An organisation's seal (EN 319 412-3) for the same split key, from a
     * CSR with the legal-person subject, through the CA's enrolment check. */
    sk_name *org = NULL;
    MUST(sk_name_parse_legal(&org, &detail, SEAL_SUBJECT));
    MUST(sk_csr_build(der, sizeof der, &len, org, fx.pub, SK_HASH_SHA256, splitfix_sign, &fx));
    memcpy(csr_copy, der, len);
    csr_len = len;
    MUST(sk_ca_issue_csr(ca, der, sizeof der, &len, &serial, SK_CERT_SEAL_QUALIFIED, csr_copy,
                         csr_len, n, nl, org, NOW - 60));
    if (write_pem(path(dir, "seal.pem"), "CERTIFICATE", der, len) != 0)
        FAIL("write seal.pem");
    sk_name_free(org);

    /* A message signed through the split path, for openssl dgst -verify. */
    static const char msg[] = "an agreement signed with a split key\n";
    uint8_t digest[32], sig[1024];
    write_file(path(dir, "data.txt"), msg, strlen(msg));
    MUST(sk_digest(digest, 32, SK_HASH_SHA256, (const uint8_t *)msg, strlen(msg)));
    if (splitfix_sign(&fx, sig, nl, SK_HASH_SHA256, digest, 32) != 0)
        FAIL("split signature");
    write_file(path(dir, "data.sig"), sig, nl);

    sk_csr_free(csr);
    sk_pubkey_free(ckey);
    sk_name_free(csubj);
    sk_name_free(person);
    sk_name_free(caname);
    sk_name_free(oname);
    splitfix_free(&fx);
    sk_ca_free(ca);
    sk_ca_key_free(cakey);
    sk_ca_key_free(okey);
    return 0;
}

typedef struct db_row {
    sk_serial serial;
    int revoked;
    int64_t time;
    sk_crl_reason reason;
} db_row;

static size_t db_load(const char *dir, db_row *rows, size_t max)
{
    FILE *f = fopen(path(dir, "db.txt"), "r");
    if (f == NULL)
        FAIL("cannot read db.txt");
    char hex[64], state[16], reason[64];
    long long t;
    size_t n = 0;
    while (n < max && fscanf(f, "%63s %15s %lld %63s", hex, state, &t, reason) == 4) {
        db_row *r = &rows[n++];
        MUST(sk_serial_from_hex(&r->serial, hex));
        r->revoked = strcmp(state, "revoked") == 0;
        r->time = t;
        r->reason = SK_REASON_UNSPECIFIED;
        if (r->revoked)
            MUST(sk_crl_reason_parse(&r->reason, reason));
    }
    fclose(f);
    return n;
}

static void db_save(const char *dir, const db_row *rows, size_t n)
{
    FILE *f = fopen(path(dir, "db.txt"), "w");
    if (f == NULL)
        FAIL("cannot write db.txt");
    for (size_t i = 0; i < n; i++) {
        char hex[64];
        MUST(sk_serial_to_hex(hex, sizeof hex, &rows[i].serial));
        fprintf(f, "%s %s %lld %s\n", hex, rows[i].revoked ? "revoked" : "good",
                (long long)rows[i].time,
                rows[i].revoked ? sk_crl_reason_name(rows[i].reason) : "-");
    }
    fclose(f);
}

static int cmd_revoke(const char *dir, const char *hex, const char *reason)
{
    db_row rows[64];
    size_t n = db_load(dir, rows, 64);
    sk_serial s;
    MUST(sk_serial_from_hex(&s, hex));
    for (size_t i = 0; i < n; i++)
        if (rows[i].serial.len == s.len && memcmp(rows[i].serial.bytes, s.bytes, s.len) == 0) {
            rows[i].revoked = 1;
            rows[i].time = NOW - 30;
            MUST(sk_crl_reason_parse(&rows[i].reason, reason));
            db_save(dir, rows, n);
            return 0;
        }
    FAIL("serial %s not in db", hex);
}

static int cmd_crl(const char *dir, const char *outp)
{
    sk_ca_key *key;
    sk_ca *ca = load_ca(dir, &key);
    db_row rows[64];
    size_t n = db_load(dir, rows, 64);
    sk_crl_entry e[64];
    size_t ne = 0;
    for (size_t i = 0; i < n; i++)
        if (rows[i].revoked) {
            e[ne].serial = rows[i].serial;
            e[ne].revocation_time = rows[i].time;
            e[ne].reason = rows[i].reason;
            ne++;
        }
    static uint8_t der[65536];
    size_t len;
    MUST(sk_ca_crl(ca, der, sizeof der, &len, e, ne, 7, NOW - 10, NOW + 7 * 86400));
    if (write_pem(outp, "X509 CRL", der, len) != 0)
        FAIL("write %s", outp);
    sk_ca_free(ca);
    sk_ca_key_free(key);
    return 0;
}

typedef struct lookup_ctx {
    db_row *rows;
    size_t n;
} lookup_ctx;

static int lookup(void *ctx, sk_cert_status *st, const sk_serial *serial)
{
    lookup_ctx *lc = ctx;
    st->state = SK_CERT_UNKNOWN;
    for (size_t i = 0; i < lc->n; i++) {
        const db_row *r = &lc->rows[i];
        if (r->serial.len == serial->len &&
            memcmp(r->serial.bytes, serial->bytes, r->serial.len) == 0) {
            st->state = r->revoked ? SK_CERT_REVOKED : SK_CERT_GOOD;
            st->revocation_time = r->time;
            st->reason = r->reason;
        }
    }
    return 0;
}

static int cmd_ocsp(const char *dir, const char *reqp, const char *respp)
{
    sk_ca_key *okey = load_key(path(dir, "ocsp.key"));
    size_t ca_len, o_len, req_len;
    uint8_t *ca = sk_test_read_file(path(dir, "ca.pem"), &ca_len);
    uint8_t *oc = sk_test_read_file(path(dir, "ocsp.pem"), &o_len);
    uint8_t *req = sk_test_read_file(reqp, &req_len);
    if (ca == NULL || oc == NULL || req == NULL)
        FAIL("cannot read the inputs");
    sk_ocsp_responder *r = NULL;
    MUST(sk_ocsp_responder_new(&r, ca, ca_len, oc, o_len, okey, 0));
    db_row rows[64];
    lookup_ctx lc = {rows, db_load(dir, rows, 64)};
    static uint8_t resp[65536];
    size_t len;
    sk_ocsp_status st;
    MUST(sk_ocsp_respond(r, resp, sizeof resp, &len, &st, req, req_len, NOW - 5, lookup, &lc));
    if (write_file(respp, resp, len) != 0)
        FAIL("write %s", respp);
    printf("status %d\n", (int)st);
    sk_ocsp_responder_free(r);
    sk_ca_key_free(okey);
    free(ca);
    free(oc);
    free(req);
    return 0;
}

static int cmd_csr_check(const char *dir, const char *csrp)
{
    size_t len, nl;
    uint8_t *d = sk_test_read_file(csrp, &len);
    uint8_t *n = sk_test_read_file(path(dir, "n.bin"), &nl);
    if (d == NULL || n == NULL)
        FAIL("cannot read the inputs");
    sk_csr *csr = NULL;
    int rc = sk_csr_parse(&csr, d, len);
    if (rc == SK_OK)
        rc = sk_csr_verify(csr);
    if (rc == SK_OK)
        rc = sk_csr_check_key(csr, n, nl);
    printf("csr-check: %s\n", sk_strerror(rc));
    sk_csr_free(csr);
    free(d);
    free(n);
    return rc == SK_OK ? 0 : 1;
}

static int cmd_csr_tamper(const char *in, const char *outp)
{
    size_t len;
    uint8_t *d = sk_test_read_file(in, &len);
    static uint8_t der[SK_PKI_MAX_CSR_LEN];
    size_t dl;
    if (d == NULL)
        FAIL("cannot read %s", in);
    MUST(sk_pem_decode(der, sizeof der, &dl, "CERTIFICATE REQUEST", d, len));
    der[dl - 5] ^= 0x01; /* inside the signature BIT STRING */
    free(d);
    return write_pem(outp, "CERTIFICATE REQUEST", der, dl);
}

static int cmd_audit_sample(const char *outp)
{
    static char log[8192];
    size_t off = 0, w;
    uint8_t prev[SK_AUDIT_HASH_LEN] = {0};
    sk_serial s;
    MUST(sk_serial_from_hex(&s, "5974dd0d39859044b93ef07ac2e92bad"));
    for (uint64_t i = 1; i <= 4; i++) {
        sk_audit_entry e = {i, NOW + (int64_t)i, i == 4 ? SK_AUDIT_REVOKE : SK_AUDIT_ISSUE, s,
                            "C=LV,CN=BERZINS\\,ANDRIS,SN=BERZINS,GN=ANDRIS,"
                            "serialNumber=PNOLV-010101-12345",
                            SK_REASON_KEY_COMPROMISE};
        s.bytes[15]++;
        MUST(sk_audit_append(log + off, sizeof log - off, &w, prev, prev, &e));
        off += w;
    }
    return write_file(outp, log, off);
}

int main(int argc, char **argv)
{
    sk_test_init();
    NOW = (int64_t)time(NULL);
    if (argc == 4 && strcmp(argv[1], "setup") == 0)
        return cmd_setup(argv[2], argv[3]);
    if (argc == 5 && strcmp(argv[1], "revoke") == 0)
        return cmd_revoke(argv[2], argv[3], argv[4]);
    if (argc == 4 && strcmp(argv[1], "crl") == 0)
        return cmd_crl(argv[2], argv[3]);
    if (argc == 5 && strcmp(argv[1], "ocsp") == 0)
        return cmd_ocsp(argv[2], argv[3], argv[4]);
    if (argc == 4 && strcmp(argv[1], "csr-check") == 0)
        return cmd_csr_check(argv[2], argv[3]);
    if (argc == 4 && strcmp(argv[1], "csr-tamper") == 0)
        return cmd_csr_tamper(argv[2], argv[3]);
    if (argc == 3 && strcmp(argv[1], "audit-sample") == 0)
        return cmd_audit_sample(argv[2]);
    fprintf(stderr, "usage: see the comment at the top of pki_tool.c\n");
    return 2;
}
