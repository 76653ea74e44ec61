/* SPDX-License-Identifier: Apache-2.0 */
/* ca_test_tool.c - a registration authority and a tiny HTTP client for the
 * end-to-end tests of splitkey-ca and splitkey-ocsp (ca_programs.sh).
 *
 *   ca_test_tool identity DIR
 *       a new Ed25519 RA identity: DIR/sign.key (0600) and DIR/server.pub
 *   ca_test_tool enrol DIR URL CA.pem OUT
 *       a split key (two-party CSR) and three certificates through
 *       ca_client: OUT/sign.pem (qualified SIGN), OUT/auth.pem (qualified
 *       AUTH), OUT/authb.pem (basic AUTH), with OUT/<name>.serial; then the
 *       refusals: a CSR whose signature does not match its key, a CSR for
 *       another n, a subject other than the registered one, garbage
 *   ca_test_tool enrol-extra DIR URL CA.pem OUT
 *       the other profiles the CA issues through ca_client: OUT/signb.pem
 *       (basic SIGN, a person's split key) and OUT/seal.pem (qualified
 *       seal, an organisation's split key with a legal-person subject,
 *       EN 319 412-3), with OUT/<name>.serial
 *   ca_test_tool issue-expect DIR URL RESULT
 *       an issue request that must get RESULT (unknown-ra, ...)
 *   ca_test_tool revoke DIR URL SERIAL REASON
 *       revoke through ca_client; prints the CA's result; exit 0 when ok
 *   ca_test_tool raw-checks DIR URL SERIAL
 *       hand-made envelopes: a bad signature, an old time, then a good
 *       revoke (cessationOfOperation) and its replay
 *   ca_test_tool status URL SERIAL
 *       prints good / revoked REASON / unknown (the public status operation)
 *   ca_test_tool http METHOD URL PATH BODYFILE|- OUT HEADERS
 *       one HTTP/1.1 request; writes the body to OUT and the status line and
 *       headers to HEADERS
 *
 * Every check prints "ok: ..." or "FAILED: ..."; the exit code is 0 only if
 * all held. */
#define _GNU_SOURCE /* memmem */
#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "ca.pb-c.h"
#include "ca_client.h"
#include "req_client.h"
#include "server_pub.h"
#include "splitfix.h"
#include "testutil.h"

#define SUBJECT "C=LV,GN=ANDRIS,SN=BERZINS,serialNumber=PNOLV-010101-12345"
#define SEAL_SUBJECT "C=LV,O=Example SIA,organizationIdentifier=VATLV-40003000000"
#define OTHER_SUBJECT "C=LV,GN=ANNA,SN=OZOLA,serialNumber=PNOLV-020202-22222"

static int failures;

static void ok(int cond, const char *what, const char *detail)
{
    if (cond) {
        printf("ok: %s\n", what);
    } else {
        printf("FAILED: %s (%s)\n", what, detail ? detail : "");
        failures++;
    }
}

static char *join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p == NULL)
        exit(1);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static int write_file(const char *path, const void *data, size_t len, int mode)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return -1;
    size_t n = fwrite(data, 1, len, f);
    int rc = fclose(f) == 0 && n == len ? 0 : -1;
    chmod(path, (mode_t)mode);
    return rc;
}

static uint8_t *read_all(const char *path, size_t *len)
{
    uint8_t *d = sk_test_read_file(path, len);
    if (d == NULL) {
        fprintf(stderr, "cannot read %s\n", path);
        exit(1);
    }
    return d;
}

static void load_secret(uint8_t sk[64], const char *dir)
{
    char *p = join(dir, "sign.key");
    size_t len;
    uint8_t *d = read_all(p, &len);
    if (len != 64) {
        fprintf(stderr, "%s: not a 64-byte key\n", p);
        exit(1);
    }
    memcpy(sk, d, 64);
    sodium_memzero(d, len);
    free(d);
    free(p);
}

static sk_ca_client *open_client(const char *dir, const char *url, const char *ca_pem)
{
    uint8_t sk[64];
    uint8_t *cert = NULL;
    size_t cert_len = 0;
    load_secret(sk, dir);
    if (ca_pem != NULL)
        cert = read_all(ca_pem, &cert_len);
    sk_ca_client *c = NULL;
    int rc = sk_ca_client_open(&c, url, sk, cert, cert_len, 0);
    sodium_memzero(sk, sizeof sk);
    free(cert);
    if (rc != SK_OK) {
        fprintf(stderr, "sk_ca_client_open: %s\n", sk_strerror(rc));
        exit(1);
    }
    return c;
}

/* ------------------------------------------------------------- identity */

static int cmd_identity(const char *dir)
{
    sk_server_pub pub;
    uint8_t sk[64], kx_sk[32];
    crypto_sign_keypair(pub.sign_pub, sk);
    crypto_kx_keypair(pub.kx_pub, kx_sk);
    char text[SK_SERVER_PUB_MAX];
    char *p = join(dir, "sign.key"), *q = join(dir, "server.pub");
    int rc = sk_server_pub_format(text, sizeof text, &pub) == SK_OK &&
                     write_file(p, sk, sizeof sk, 0600) == 0 &&
                     write_file(q, text, strlen(text), 0644) == 0
                 ? 0
                 : 1;
    sodium_memzero(sk, sizeof sk);
    sodium_memzero(kx_sk, sizeof kx_sk);
    free(p);
    free(q);
    return rc;
}

/* ---------------------------------------------------------------- enrol */

typedef struct refusal {
    const char *what;
    const uint8_t *csr;
    size_t csr_len;
    const uint8_t *n;
    size_t n_len;
    const char *subject;
    sk_ca_result want;
    int want_rc;
} refusal;

static void save_cert(const char *out, const char *name, const uint8_t *der, size_t len,
                      const sk_serial *serial)
{
    static char pem[4 * SK_PKI_MAX_CERT_LEN];
    size_t w;
    char file[64], hex[2 * SK_SERIAL_MAX_LEN + 1];
    snprintf(file, sizeof file, "%s.pem", name);
    char *p = join(out, file);
    if (sk_pem_encode(pem, sizeof pem, &w, "CERTIFICATE", der, len) != SK_OK ||
        write_file(p, pem, w, 0644) != 0) {
        fprintf(stderr, "cannot write %s\n", p);
        exit(1);
    }
    free(p);
    snprintf(file, sizeof file, "%s.serial", name);
    p = join(out, file);
    if (sk_serial_to_hex(hex, sizeof hex, serial) != SK_OK ||
        write_file(p, hex, strlen(hex), 0644) != 0)
        exit(1);
    free(p);
}

static int cmd_enrol(const char *dir, const char *url, const char *ca_pem, const char *out)
{
    splitfix fx;
    if (splitfix_init(&fx, 1024, "ca programs test split key") != 0) {
        fprintf(stderr, "split key generation failed\n");
        return 1;
    }
    sk_name *person = NULL;
    const char *why = NULL;
    static uint8_t csr[SK_PKI_MAX_CSR_LEN], bad[SK_PKI_MAX_CSR_LEN];
    size_t csr_len = 0;
    uint8_t n[512];
    size_t nl = 2 * fx.k / 8;
    if (sk_name_parse_person(&person, &why, SUBJECT) != SK_OK ||
        sk_csr_build(csr, sizeof csr, &csr_len, person, fx.pub, SK_HASH_SHA256, splitfix_sign,
                     &fx) != SK_OK ||
        sk_pubkey_modulus(fx.pub, n, nl) != SK_OK) {
        fprintf(stderr, "CSR through the split path failed\n");
        return 1;
    }
    ok(fx.sign_count == 1, "the CSR was signed through the two-party path", NULL);
    char *np = join(out, "n.bin");
    write_file(np, n, nl, 0644);
    free(np);

    sk_ca_client *c = open_client(dir, url, ca_pem);
    static const struct {
        const char *name;
        sk_ca_purpose purpose;
        int qualified;
    } certs[] = {{"sign", SK_CA_PURPOSE_SIGN, 1},
                 {"auth", SK_CA_PURPOSE_AUTH, 1},
                 {"authb", SK_CA_PURPOSE_AUTH, 0}};
    for (size_t i = 0; i < 3; i++) {
        sk_ca_issue_params p = {.csr = csr, .csr_len = csr_len, .purpose = certs[i].purpose,
                                .qualified = certs[i].qualified != 0, .subject = SUBJECT,
                                .n = n, .n_len = nl, .person_id = "PNOLV-010101-12345"};
        uint8_t *cert = NULL;
        size_t cert_len = 0;
        sk_serial serial;
        sk_ca_result res;
        int rc = sk_ca_client_issue(c, &cert, &cert_len, &serial, &res, &p);
        char what[96];
        snprintf(what, sizeof what, "the CA issues the %s certificate", certs[i].name);
        ok(rc == SK_OK && res == SK_CA_OK, what, sk_ca_result_name(res));
        if (rc == SK_OK) {
            ok(serial.len >= 15 && serial.len <= 16, "the serial has 128 random bits", NULL);
            save_cert(out, certs[i].name, cert, cert_len, &serial);
        }
        free(cert);
    }

    /* Refusals: each must leave nothing stored (the shell checks the
     * database count). */
    memcpy(bad, csr, csr_len);
    bad[csr_len - 5] ^= 0x01; /* inside the signature BIT STRING */
    uint8_t other_n[512];
    memcpy(other_n, n, nl);
    other_n[nl - 1] ^= 0x02; /* still odd, another modulus */
    static const uint8_t garbage[] = {0x30, 0x03, 0x02, 0x01, 0x00, 0xff};
    const refusal refusals[] = {
        {"a CSR whose signature does not match its key is refused", bad, csr_len, n, nl,
         SUBJECT, SK_CA_POP_FAILED, SK_ERR_VERIFY},
        {"a CSR for another modulus is refused", csr, csr_len, other_n, nl, SUBJECT,
         SK_CA_KEY_MISMATCH, SK_ERR_KEY_MISMATCH},
        {"a CSR for another person than registered is refused", csr, csr_len, n, nl,
         OTHER_SUBJECT, SK_CA_SUBJECT_INVALID, SK_ERR_PKI},
        {"a garbage CSR is refused", garbage, sizeof garbage, n, nl, SUBJECT,
         SK_CA_CSR_INVALID, SK_ERR_CSR},
        {"an invalid registered subject is refused", csr, csr_len, n, nl, "C=LV,CN=nobody",
         SK_CA_SUBJECT_INVALID, SK_ERR_PKI},
    };
    for (size_t i = 0; i < 5; i++) {
        sk_ca_issue_params p = {.csr = refusals[i].csr, .csr_len = refusals[i].csr_len,
                                .purpose = SK_CA_PURPOSE_SIGN, .qualified = true,
                                .subject = refusals[i].subject, .n = refusals[i].n,
                                .n_len = refusals[i].n_len};
        uint8_t *cert = NULL;
        size_t cert_len = 0;
        sk_ca_result res = SK_CA_OK;
        int rc = sk_ca_client_issue(c, &cert, &cert_len, NULL, &res, &p);
        ok(rc == refusals[i].want_rc && res == refusals[i].want && cert == NULL,
           refusals[i].what, sk_ca_result_name(res));
        free(cert);
    }
    sk_ca_client_close(c);
    sk_name_free(person);
    splitfix_free(&fx);
    return failures ? 1 : 0;
}

/* ---------------------------------------------------------- enrol-extra */

/* One split key per subject: a CSR signed through the two-party path with
 * the person's or the organisation's subject, issued as PURPOSE; the
 * certificate goes to OUT/NAME.pem. */
static void enrol_one(sk_ca_client *c, const char *out, const char *name, const char *seed,
                      sk_ca_purpose purpose, bool qualified, const char *subject)
{
    splitfix fx;
    if (splitfix_init(&fx, 1024, seed) != 0) {
        fprintf(stderr, "split key generation failed\n");
        exit(1);
    }
    bool legal = purpose == SK_CA_PURPOSE_SEAL;
    sk_name *who = NULL;
    const char *why = NULL;
    static uint8_t csr[SK_PKI_MAX_CSR_LEN];
    size_t csr_len = 0;
    uint8_t n[512];
    size_t nl = 2 * fx.k / 8;
    int rc = legal ? sk_name_parse_legal(&who, &why, subject)
                   : sk_name_parse_person(&who, &why, subject);
    if (rc != SK_OK ||
        sk_csr_build(csr, sizeof csr, &csr_len, who, fx.pub, SK_HASH_SHA256, splitfix_sign,
                     &fx) != SK_OK ||
        sk_pubkey_modulus(fx.pub, n, nl) != SK_OK) {
        fprintf(stderr, "%s: CSR through the split path failed (%s)\n", name, why ? why : "");
        exit(1);
    }
    sk_ca_issue_params p = {.csr = csr, .csr_len = csr_len, .purpose = purpose,
                            .qualified = qualified, .subject = subject, .n = n, .n_len = nl};
    uint8_t *cert = NULL;
    size_t cert_len = 0;
    sk_serial serial;
    sk_ca_result res = SK_CA_OK;
    rc = sk_ca_client_issue(c, &cert, &cert_len, &serial, &res, &p);
    char what[96];
    snprintf(what, sizeof what, "the CA issues the %s certificate", name);
    ok(rc == SK_OK && res == SK_CA_OK, what, sk_ca_result_name(res));
    if (rc == SK_OK)
        save_cert(out, name, cert, cert_len, &serial);
    free(cert);
    sk_name_free(who);
    splitfix_free(&fx);
}

static int cmd_enrol_extra(const char *dir, const char *url, const char *ca_pem, const char *out)
{
    sk_ca_client *c = open_client(dir, url, ca_pem);
    enrol_one(c, out, "signb", "ca programs test basic sign key", SK_CA_PURPOSE_SIGN, false,
              SUBJECT);
    enrol_one(c, out, "seal", "ca programs test seal key", SK_CA_PURPOSE_SEAL, true,
              SEAL_SUBJECT);
    sk_ca_client_close(c);
    return failures ? 1 : 0;
}

/* ------------------------------------------------------- issue-expect */

static int cmd_issue_expect(const char *dir, const char *url, const char *want)
{
    /* A well-formed request; the CA must refuse it before looking at it. */
    static const uint8_t csr[] = {0x30, 0x00};
    static const uint8_t n[] = {0x01};
    sk_ca_client *c = open_client(dir, url, NULL);
    sk_ca_issue_params p = {.csr = csr, .csr_len = sizeof csr, .purpose = SK_CA_PURPOSE_AUTH,
                            .n = n, .n_len = sizeof n};
    uint8_t *cert = NULL;
    size_t len = 0;
    sk_ca_result res = SK_CA_OK;
    int rc = sk_ca_client_issue(c, &cert, &len, NULL, &res, &p);
    char what[96];
    snprintf(what, sizeof what, "the CA answers %s", want);
    ok(rc != SK_OK && strcmp(sk_ca_result_name(res), want) == 0, what, sk_ca_result_name(res));
    free(cert);
    sk_ca_client_close(c);
    return failures ? 1 : 0;
}

/* --------------------------------------------------------------- revoke */

static int cmd_revoke(const char *dir, const char *url, const char *hex, const char *reason)
{
    sk_serial s;
    sk_crl_reason r;
    if (sk_serial_from_hex(&s, hex) != SK_OK || sk_crl_reason_parse(&r, reason) != SK_OK)
        return 2;
    sk_ca_client *c = open_client(dir, url, NULL);
    int64_t at = 0;
    sk_ca_result res = SK_CA_NO_ANSWER;
    int rc = sk_ca_client_revoke(c, &at, &res, &s, r);
    printf("%s\n", sk_ca_result_name(res));
    sk_ca_client_close(c);
    return rc == SK_OK && res == SK_CA_OK && at > 0 ? 0 : 1;
}

/* ----------------------------------------------------------- raw-checks */

/* The CaReply inside a signed CaReplyEnvelope (not verified here). */
static Splitkey__Ca__CaReply *reply_body(const uint8_t *buf, size_t len)
{
    Splitkey__Ca__CaReplyEnvelope *e = splitkey__ca__ca_reply_envelope__unpack(NULL, len, buf);
    if (e == NULL)
        return NULL;
    Splitkey__Ca__CaReply *r = splitkey__ca__ca_reply__unpack(NULL, e->body.len, e->body.data);
    splitkey__ca__ca_reply_envelope__free_unpacked(e, NULL);
    return r;
}

/* Sends a hand-made revoke envelope; returns the CA's result or -1. */
static int raw_revoke(const char *url, const uint8_t sk[64], const sk_serial *s, int64_t t,
                      const uint8_t id[16], int flip_sig, uint8_t **sent, size_t *sent_len)
{
    Splitkey__Ca__RevokeRequest rr = SPLITKEY__CA__REVOKE_REQUEST__INIT;
    rr.serial.data = (uint8_t *)s->bytes;
    rr.serial.len = s->len;
    rr.reason = SK_REASON_CESSATION_OF_OPERATION;
    Splitkey__Ca__CaRequest q = SPLITKEY__CA__CA_REQUEST__INIT;
    q.version = 1;
    q.request_id.data = (uint8_t *)id;
    q.request_id.len = 16;
    q.time = t;
    q.op_case = SPLITKEY__CA__CA_REQUEST__OP_REVOKE;
    q.revoke = &rr;
    static const char ctx[] = "splitkey-ca-request-v1";
    size_t bl = splitkey__ca__ca_request__get_packed_size(&q);
    uint8_t *m = malloc(sizeof ctx + bl);
    memcpy(m, ctx, sizeof ctx);
    splitkey__ca__ca_request__pack(&q, m + sizeof ctx);
    uint8_t sig[64], pk[32];
    crypto_sign_detached(sig, NULL, m, sizeof ctx + bl, sk);
    crypto_sign_ed25519_sk_to_pk(pk, sk);
    if (flip_sig)
        sig[10] ^= 0x40;
    Splitkey__Ca__CaEnvelope env = SPLITKEY__CA__CA_ENVELOPE__INIT;
    env.version = 1;
    env.ra_pub.data = pk;
    env.ra_pub.len = 32;
    env.body.data = m + sizeof ctx;
    env.body.len = bl;
    env.signature.data = sig;
    env.signature.len = 64;
    size_t el = splitkey__ca__ca_envelope__get_packed_size(&env);
    uint8_t *e = malloc(el);
    splitkey__ca__ca_envelope__pack(&env, e);
    free(m);
    if (*sent == NULL) {
        *sent = e;
        *sent_len = el;
    } else {
        free(e);
    }
    uint8_t *reply = NULL;
    size_t rl = 0;
    int res = -1;
    if (sk_req_once(&reply, &rl, url, 0, *sent, *sent_len) == SK_OK) {
        Splitkey__Ca__CaReply *r = reply_body(reply, rl);
        if (r != NULL) {
            res = (int)r->result;
            splitkey__ca__ca_reply__free_unpacked(r, NULL);
        }
    }
    free(reply);
    return res;
}

static int cmd_raw_checks(const char *dir, const char *url, const char *hex)
{
    sk_serial s;
    if (sk_serial_from_hex(&s, hex) != SK_OK)
        return 2;
    uint8_t sk[64], id[16];
    load_secret(sk, dir);
    int64_t now = (int64_t)time(NULL);
    uint8_t *sent = NULL;
    size_t sent_len = 0;

    randombytes_buf(id, sizeof id);
    int r = raw_revoke(url, sk, &s, now, id, 1, &sent, &sent_len);
    ok(r == SK_CA_BAD_SIGNATURE, "a bad RA signature is refused", NULL);
    free(sent);
    sent = NULL;

    randombytes_buf(id, sizeof id);
    r = raw_revoke(url, sk, &s, now - 3600, id, 0, &sent, &sent_len);
    ok(r == SK_CA_STALE, "a request an hour old is refused", NULL);
    free(sent);
    sent = NULL;

    /* a garbage envelope */
    static const uint8_t junk[] = {0x0a, 0xff, 0xff, 0x01};
    uint8_t *reply = NULL;
    size_t rl = 0;
    r = -1;
    if (sk_req_once(&reply, &rl, url, 0, junk, sizeof junk) == SK_OK) {
        Splitkey__Ca__CaReply *rep = reply_body(reply, rl);
        if (rep != NULL) {
            r = (int)rep->result;
            splitkey__ca__ca_reply__free_unpacked(rep, NULL);
        }
    }
    free(reply);
    ok(r == SK_CA_BAD_REQUEST, "a garbage envelope gets bad-request", NULL);

    randombytes_buf(id, sizeof id);
    r = raw_revoke(url, sk, &s, now, id, 0, &sent, &sent_len);
    ok(r == SK_CA_OK, "a signed revoke is served", NULL);
    r = raw_revoke(url, sk, &s, now, id, 0, &sent, &sent_len);
    ok(r == SK_CA_STALE, "the same request replayed is refused", NULL);
    free(sent);
    sodium_memzero(sk, sizeof sk);
    return failures ? 1 : 0;
}

/* --------------------------------------------------------------- status */

static int cmd_status(const char *url, const char *hex)
{
    sk_serial s;
    if (sk_serial_from_hex(&s, hex) != SK_OK)
        return 2;
    sk_ca_client *c = NULL;
    if (sk_ca_client_open(&c, url, NULL, NULL, 0, 0) != SK_OK)
        return 1;
    sk_cert_status st;
    int rc = sk_ca_client_status(c, &st, &s);
    if (rc == SK_OK) {
        if (st.state == SK_CERT_GOOD)
            printf("good\n");
        else if (st.state == SK_CERT_REVOKED)
            printf("revoked %s\n", sk_crl_reason_name(st.reason));
        else
            printf("unknown\n");
    }
    sk_ca_client_close(c);
    return rc == SK_OK ? 0 : 1;
}

/* ----------------------------------------------------------------- http */

static int cmd_http(const char *method, const char *url, const char *path, const char *bodyf,
                    const char *outp, const char *headp)
{
    char host[256];
    unsigned port;
    if (sscanf(url, "http://%255[^:]:%u", host, &port) != 2)
        return 2;
    uint8_t *body = NULL;
    size_t blen = 0;
    if (strcmp(bodyf, "-") != 0)
        body = read_all(bodyf, &blen);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (fd < 0 || inet_pton(AF_INET, host, &sa.sin_addr) != 1 ||
        connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        fprintf(stderr, "cannot connect to %s\n", url);
        return 1;
    }
    char head[8192];
    int hl = snprintf(head, sizeof head,
                      "%s %s HTTP/1.1\r\nHost: %s:%u\r\nConnection: close\r\n"
                      "Content-Type: application/ocsp-request\r\nContent-Length: %zu\r\n\r\n",
                      method, path, host, port, blen);
    if (write(fd, head, (size_t)hl) != hl || (blen && write(fd, body, blen) != (ssize_t)blen))
        return 1;
    size_t cap = 1 << 20, got = 0;
    uint8_t *buf = malloc(cap);
    for (;;) {
        ssize_t r = read(fd, buf + got, cap - got);
        if (r <= 0)
            break;
        got += (size_t)r;
        /* stop once the whole body is in, whether or not the server closes */
        uint8_t *end = memmem(buf, got, "\r\n\r\n", 4);
        if (end != NULL) {
            size_t hlen = (size_t)(end - buf) + 4;
            const char *cl = NULL;
            for (size_t i = 0; i + 15 < hlen; i++)
                if (strncasecmp((char *)buf + i, "\r\nContent-Length:", 17) == 0) {
                    cl = (char *)buf + i + 17;
                    break;
                }
            if (cl != NULL && got >= hlen + strtoul(cl, NULL, 10))
                break;
        }
    }
    close(fd);
    uint8_t *end = memmem(buf, got, "\r\n\r\n", 4);
    if (end == NULL)
        return 1;
    size_t hlen = (size_t)(end - buf);
    write_file(headp, buf, hlen + 2, 0644);
    write_file(outp, end + 4, got - hlen - 4, 0644);
    free(buf);
    free(body);
    return 0;
}

int main(int argc, char **argv)
{
    if (sodium_init() < 0)
        return 1;
    sk_test_init();
    if (argc == 3 && !strcmp(argv[1], "identity"))
        return cmd_identity(argv[2]);
    if (argc == 6 && !strcmp(argv[1], "enrol"))
        return cmd_enrol(argv[2], argv[3], argv[4], argv[5]);
    if (argc == 6 && !strcmp(argv[1], "enrol-extra"))
        return cmd_enrol_extra(argv[2], argv[3], argv[4], argv[5]);
    if (argc == 5 && !strcmp(argv[1], "issue-expect"))
        return cmd_issue_expect(argv[2], argv[3], argv[4]);
    if (argc == 6 && !strcmp(argv[1], "revoke"))
        return cmd_revoke(argv[2], argv[3], argv[4], argv[5]);
    if (argc == 5 && !strcmp(argv[1], "raw-checks"))
        return cmd_raw_checks(argv[2], argv[3], argv[4]);
    if (argc == 4 && !strcmp(argv[1], "status"))
        return cmd_status(argv[2], argv[3]);
    if (argc == 8 && !strcmp(argv[1], "http"))
        return cmd_http(argv[2], argv[3], argv[4], argv[5], argv[6], argv[7]);
    fprintf(stderr, "usage: see the comment at the top of ca_test_tool.c\n");
    return 2;
}
