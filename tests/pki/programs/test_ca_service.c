/* SPDX-License-Identifier: Apache-2.0 */
/* test_ca_service.c - the CA issuer's handler and store in one process:
 * ca_client against ca_handle over inproc://, several RAs issuing and
 * revoking at once, the audit chain and the database head afterwards, and
 * refusals that must leave the database and the log as they were. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "ca.pb-c.h"
#include "ca_client.h"
#include "ca_dir.h"
#include "ca_handler.h"
#include "ca_store.h"
#include "rep_server.h"
#include "req_client.h"
#include "svc_error.h"
#include "splitfix.h"
#include "testutil.h"

#define URL "inproc://test-ca-service"
#define SUBJECT "C=LV,GN=ANDRIS,SN=BERZINS,serialNumber=PNOLV-010101-12345"
#define THREADS 4
#define PER_THREAD 3

static char *tmp_path(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static long file_size(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 ? (long)st.st_size : -1;
}

static uint8_t csr[SK_PKI_MAX_CSR_LEN];
static size_t csr_len;
static uint8_t n[256];
static size_t n_len;
static uint8_t ra_sk[THREADS][64];

typedef struct worker {
    int index;
    int issued, revoked;
    sk_serial serials[PER_THREAD];
} worker;

static void *worker_main(void *arg)
{
    worker *w = arg;
    sk_ca_client *c = NULL;
    if (sk_ca_client_open(&c, URL, ra_sk[w->index], NULL, 0, 0) != SK_OK)
        return NULL;
    for (int i = 0; i < PER_THREAD; i++) {
        sk_ca_issue_params p = {.csr = csr, .csr_len = csr_len,
                                .purpose = i % 2 ? SK_CA_PURPOSE_AUTH : SK_CA_PURPOSE_SIGN,
                                .qualified = true, .subject = SUBJECT, .n = n, .n_len = n_len};
        uint8_t *cert = NULL;
        size_t len = 0;
        if (sk_ca_client_issue(c, &cert, &len, &w->serials[i], NULL, &p) == SK_OK)
            w->issued++;
        free(cert);
    }
    /* revoke the first two of its own */
    for (int i = 0; i < 2 && i < w->issued; i++) {
        int64_t at = 0;
        if (sk_ca_client_revoke(c, &at, NULL, &w->serials[i], SK_REASON_SUPERSEDED) == SK_OK)
            w->revoked++;
    }
    sk_ca_client_close(c);
    return NULL;
}

/* A fake CA for the reply-authentication checks: it answers every request
 * with the bytes it holds (a genuine reply to an earlier request, or one
 * signed with another key). */
typedef struct fake_ca {
    uint8_t *reply;
    size_t len;
} fake_ca;

static int fake_handle(void *ctx, const uint8_t *req, size_t req_len, uint8_t **reply,
                       size_t *reply_len)
{
    fake_ca *f = ctx;
    (void)req;
    (void)req_len;
    *reply = malloc(f->len);
    if (*reply == NULL)
        return SK_ERR_NOMEM;
    memcpy(*reply, f->reply, f->len);
    *reply_len = f->len;
    return SK_OK;
}

/* A status request (unsigned) for serial, packed as the CA reads it. */
static uint8_t *status_request(size_t *len, const sk_serial *serial)
{
    uint8_t id[16];
    randombytes_buf(id, sizeof id);
    Splitkey__Ca__StatusRequest sr = SPLITKEY__CA__STATUS_REQUEST__INIT;
    sr.serial.data = (uint8_t *)serial->bytes;
    sr.serial.len = serial->len;
    Splitkey__Ca__CaRequest q = SPLITKEY__CA__CA_REQUEST__INIT;
    q.version = 1;
    q.request_id.data = id;
    q.request_id.len = sizeof id;
    q.time = (int64_t)time(NULL);
    q.op_case = SPLITKEY__CA__CA_REQUEST__OP_STATUS;
    q.status = &sr;
    size_t bl = splitkey__ca__ca_request__get_packed_size(&q);
    uint8_t *body = malloc(bl);
    splitkey__ca__ca_request__pack(&q, body);
    Splitkey__Ca__CaEnvelope env = SPLITKEY__CA__CA_ENVELOPE__INIT;
    env.version = 1;
    env.body.data = body;
    env.body.len = bl;
    *len = splitkey__ca__ca_envelope__get_packed_size(&env);
    uint8_t *out = malloc(*len);
    splitkey__ca__ca_envelope__pack(&env, out);
    free(body);
    return out;
}

int main(void)
{
    sk_test_init();
    char tmpl[] = "/tmp/test_ca_service.XXXXXX";
    char *dir = mkdtemp(tmpl);
    CHECK(dir != NULL);
    if (dir == NULL)
        return sk_test_done("test_ca_service");

    /* A CA made directly with the library (init is tested by the shell). */
    ca_ctx ca;
    memset(&ca, 0, sizeof ca);
    pthread_mutex_init(&ca.sign_mu, NULL);
    ca.dir = strdup(dir);
    ca.audit_path = tmp_path(dir, CA_FILE_AUDIT);
    char *db_path = tmp_path(dir, CA_FILE_DB);
    FILE *f = fopen(ca.audit_path, "w");
    CHECK(f != NULL);
    if (f)
        fclose(f);
    sk_name *caname = NULL, *person = NULL;
    const char *why;
    static uint8_t der[SK_PKI_MAX_CERT_LEN];
    size_t len;
    CHECK_OK(sk_ca_key_generate(&ca.key, SK_CA_KEY_EC_P384));
    CHECK_OK(sk_name_parse(&caname, &why, "CN=Service Test CA,C=LV"));
    CHECK_OK(sk_ca_self_signed(ca.key, der, sizeof der, &len, NULL, caname, time(NULL) - 60, 0));
    sk_ca_config cc = {.ocsp_url = "http://127.0.0.1/", .ca_issuers_url = "http://127.0.0.1/ca",
                       .pds_url = "https://example.org/pds.pdf"};
    CHECK_OK(sk_ca_new(&ca.ca, der, len, ca.key, &cc));
    ca.cert_der = (uint8_t *)sk_ca_cert_der(ca.ca, &ca.cert_len);
    CHECK_OK(ca_store_open(&ca.store, db_path, ca.audit_path, CA_STORE_CREATE));
    CHECK_RC(SK_SVC_ERR_EXISTS, ca_store_open(&(ca_store *){NULL}, db_path, NULL,
                                              CA_STORE_CREATE));

    /* RAs: all registered but the last, which stays a stranger. */
    uint8_t pubs[THREADS + 1][32], stranger_sk[64];
    for (int i = 0; i < THREADS; i++) {
        crypto_sign_keypair(pubs[i], ra_sk[i]);
        CHECK_OK(ca_store_ra_add(ca.store, pubs[i], NULL, time(NULL)));
    }
    crypto_sign_keypair(pubs[THREADS], stranger_sk);
    CHECK_RC(SK_SVC_ERR_EXISTS, ca_store_ra_add(ca.store, pubs[0], NULL, time(NULL)));

    /* The split key and its CSR. */
    splitfix fx;
    CHECK(splitfix_init(&fx, 1024, "test ca service") == 0);
    n_len = 2 * fx.k / 8;
    CHECK_OK(sk_name_parse_person(&person, &why, SUBJECT));
    CHECK_OK(sk_csr_build(csr, sizeof csr, &csr_len, person, fx.pub, SK_HASH_SHA256,
                          splitfix_sign, &fx));
    CHECK_OK(sk_pubkey_modulus(fx.pub, n, n_len));

    ca_handler h = {.ca = &ca};
    sk_rep_config rc = {.url = URL, .workers = 4, .max_request = CA_MAX_REQUEST,
                        .handler = ca_handle, .ctx = &h};
    sk_rep_server *srv = NULL;
    CHECK_OK(sk_rep_server_start(&srv, &rc));

    /* A stranger is refused and nothing is stored. */
    {
        sk_ca_client *c = NULL;
        CHECK_OK(sk_ca_client_open(&c, URL, stranger_sk, ca.cert_der, ca.cert_len, 0));
        sk_ca_issue_params p = {.csr = csr, .csr_len = csr_len, .purpose = SK_CA_PURPOSE_SIGN,
                                .qualified = true, .subject = SUBJECT, .n = n, .n_len = n_len};
        uint8_t *cert = NULL;
        size_t cl = 0;
        sk_ca_result res = SK_CA_OK;
        CHECK_RC(SK_ERR_PROTO_AUTH, sk_ca_client_issue(c, &cert, &cl, NULL, &res, &p));
        CHECK(res == SK_CA_UNKNOWN_RA && cert == NULL);
        uint8_t *cadr = NULL;
        size_t cadl = 0;
        CHECK_OK(sk_ca_client_ca_cert(c, &cadr, &cadl));
        CHECK(cadl == ca.cert_len && cadr && memcmp(cadr, ca.cert_der, cadl) == 0);
        free(cadr);
        sk_ca_client_close(c);
    }

    /* Several RAs at once. */
    pthread_t th[THREADS];
    worker w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].index = i;
        CHECK(pthread_create(&th[i], NULL, worker_main, &w[i]) == 0);
    }
    int issued = 0, revoked = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        issued += w[i].issued;
        revoked += w[i].revoked;
    }
    CHECK(issued == THREADS * PER_THREAD);
    CHECK(revoked == THREADS * 2);
    /* serials are distinct */
    for (int a = 0; a < THREADS * PER_THREAD; a++)
        for (int b = a + 1; b < THREADS * PER_THREAD; b++) {
            const sk_serial *x = &w[a / PER_THREAD].serials[a % PER_THREAD];
            const sk_serial *y = &w[b / PER_THREAD].serials[b % PER_THREAD];
            CHECK(x->len != y->len || memcmp(x->bytes, y->bytes, x->len) != 0);
        }
    uint64_t ci = 0, cr = 0;
    CHECK_OK(ca_store_counts(ca.store, &ci, &cr));
    CHECK(ci == (uint64_t)issued && cr == (uint64_t)revoked);

    /* The audit chain survived concurrent writers and matches the head. */
    char err[512];
    CHECK_OK(ca_audit_check(ca.store, ca.audit_path, err, sizeof err));
    uint8_t head[32];
    uint64_t count = 0;
    CHECK_OK(ca_store_audit_head(ca.store, head, &count));
    CHECK(count == (uint64_t)(issued + revoked));

    /* Status through the public operation and from the store. */
    {
        sk_ca_client *c = NULL;
        sk_cert_status st;
        CHECK_OK(sk_ca_client_open(&c, URL, NULL, NULL, 0, 0));
        CHECK_OK(sk_ca_client_status(c, &st, &w[0].serials[0]));
        CHECK(st.state == SK_CERT_REVOKED && st.reason == SK_REASON_SUPERSEDED &&
              st.revocation_time > 0);
        CHECK_OK(sk_ca_client_status(c, &st, &w[0].serials[2]));
        CHECK(st.state == SK_CERT_GOOD);
        sk_serial never = {.len = 3, .bytes = {1, 2, 3}};
        CHECK_OK(sk_ca_client_status(c, &st, &never));
        CHECK(st.state == SK_CERT_UNKNOWN);
        /* a keyless client cannot revoke */
        CHECK_RC(SK_ERR_ARG, sk_ca_client_revoke(c, NULL, NULL, &w[0].serials[2],
                                                 SK_REASON_SUPERSEDED));
        sk_ca_client_close(c);
    }

    /* One RA may not revoke another's certificate; the owner may. */
    {
        sk_ca_client *c = NULL;
        sk_ca_result res;
        CHECK_OK(sk_ca_client_open(&c, URL, ra_sk[1], NULL, 0, 0));
        CHECK_RC(SK_ERR_NOT_FOUND, sk_ca_client_revoke(c, NULL, &res, &w[0].serials[2],
                                                       SK_REASON_KEY_COMPROMISE));
        CHECK(res == SK_CA_NOT_OWNER);
        CHECK_RC(SK_ERR_PROTO_STATE, sk_ca_client_revoke(c, NULL, &res, &w[1].serials[0],
                                                         SK_REASON_KEY_COMPROMISE));
        CHECK(res == SK_CA_ALREADY_REVOKED);
        sk_ca_client_close(c);
    }

    /* Garbage gets a decodable bad-request reply. */
    {
        static const uint8_t junk[] = {0xff, 0xff, 0xff};
        uint8_t *reply = NULL;
        size_t rl = 0;
        CHECK_OK(sk_req_once(&reply, &rl, URL, 0, junk, sizeof junk));
        CHECK(reply != NULL && rl > 0);
        free(reply);
    }
    /* Replies are signed with the CA key: a client that has the CA
     * certificate accepts them, one that expects another CA does not. */
    {
        sk_ca_key *other = NULL;
        sk_name *oname = NULL;
        static uint8_t oder[SK_PKI_MAX_CERT_LEN];
        size_t olen = 0;
        CHECK_OK(sk_ca_key_generate(&other, SK_CA_KEY_EC_P384));
        CHECK_OK(sk_name_parse(&oname, &why, "CN=Service Test CA,C=LV"));
        CHECK_OK(sk_ca_self_signed(other, oder, sizeof oder, &olen, NULL, oname,
                                   time(NULL) - 60, 0));
        sk_ca_client *c = NULL;
        sk_cert_status st;
        CHECK_OK(sk_ca_client_open(&c, URL, NULL, ca.cert_der, ca.cert_len, 0));
        CHECK(sk_ca_client_verifies(c));
        CHECK_OK(sk_ca_client_status(c, &st, &w[0].serials[0]));
        CHECK(st.state == SK_CERT_REVOKED);
        sk_ca_client_close(c);
        CHECK_OK(sk_ca_client_open(&c, URL, ra_sk[2], oder, olen, 0));
        CHECK_RC(SK_ERR_PROTO_AUTH, sk_ca_client_status(c, &st, &w[0].serials[0]));
        sk_ca_result res = SK_CA_OK;
        CHECK_RC(SK_ERR_PROTO_AUTH,
                 sk_ca_client_revoke(c, NULL, &res, &w[2].serials[2], SK_REASON_SUPERSEDED));
        CHECK(res == SK_CA_NO_ANSWER);
        sk_ca_client_close(c);
        /* the revocation above was served but its reply refused: */
        CHECK_OK(ca_store_status(ca.store, &st, &w[2].serials[2]));
        CHECK(st.state == SK_CERT_REVOKED);
        revoked++;

        /* A genuine, signed reply to an earlier request, replayed to a new
         * one, and a reply re-signed with another key: both refused. */
        size_t ql = 0;
        uint8_t *q = status_request(&ql, &w[0].serials[2]);
        fake_ca fake = {0};
        CHECK_OK(ca_handle(&h, q, ql, &fake.reply, &fake.len));
        free(q);
        Splitkey__Ca__CaReplyEnvelope *e =
            splitkey__ca__ca_reply_envelope__unpack(NULL, fake.len, fake.reply);
        CHECK(e != NULL && e->signature.len > 0);
        if (e != NULL) {
            /* the signature is over the context, a 0x00, then the body */
            size_t cl = sizeof CA_REPLY_SIG_CONTEXT;
            uint8_t *m = malloc(cl + e->body.len);
            memcpy(m, CA_REPLY_SIG_CONTEXT, cl);
            memcpy(m + cl, e->body.data, e->body.len);
            sk_cert *cert = NULL;
            CHECK_OK(sk_cert_parse(&cert, ca.cert_der, ca.cert_len));
            CHECK_OK(sk_cert_verify_message(cert, e->signature.data, e->signature.len, m,
                                            cl + e->body.len));
            m[cl] ^= 1;
            CHECK_RC(SK_ERR_VERIFY, sk_cert_verify_message(cert, e->signature.data,
                                                           e->signature.len, m,
                                                           cl + e->body.len));
            m[cl] ^= 1;
            CHECK_RC(SK_ERR_VERIFY, sk_cert_verify_message(cert, e->signature.data,
                                                           e->signature.len, m + 1,
                                                           cl - 1 + e->body.len));
            sk_cert_free(cert);
            free(m);
        }
        sk_rep_server *fsrv = NULL;
        sk_rep_config fc = {.url = "inproc://test-ca-fake", .workers = 1,
                            .max_request = CA_MAX_REQUEST, .handler = fake_handle, .ctx = &fake};
        CHECK_OK(sk_rep_server_start(&fsrv, &fc));
        CHECK_OK(sk_ca_client_open(&c, "inproc://test-ca-fake", ra_sk[0], ca.cert_der,
                                   ca.cert_len, 0));
        CHECK_RC(SK_ERR_PROTO_AUTH, sk_ca_client_status(c, &st, &w[0].serials[2]));
        sk_ca_revocation *rv = NULL;
        size_t nrv = 0;
        bool more = false;
        CHECK_RC(SK_ERR_PROTO_AUTH,
                 sk_ca_client_revocations(c, &rv, &nrv, &more, &res, 0, 0));
        CHECK(rv == NULL && nrv == 0 && res == SK_CA_NO_ANSWER);
        /* re-signed with another key, the same body */
        if (e != NULL) {
            size_t cl = sizeof CA_REPLY_SIG_CONTEXT;
            uint8_t *m = malloc(cl + e->body.len);
            memcpy(m, CA_REPLY_SIG_CONTEXT, cl);
            memcpy(m + cl, e->body.data, e->body.len);
            uint8_t sig[SK_CA_MSG_SIG_MAX];
            size_t sl = 0;
            CHECK_OK(sk_ca_key_sign_message(other, sig, sizeof sig, &sl, m, cl + e->body.len));
            ProtobufCBinaryData genuine = e->signature; /* owned by e: put back below */
            e->signature.data = sig;
            e->signature.len = sl;
            free(fake.reply);
            fake.len = splitkey__ca__ca_reply_envelope__get_packed_size(e);
            fake.reply = malloc(fake.len);
            splitkey__ca__ca_reply_envelope__pack(e, fake.reply);
            e->signature = genuine;
            free(m);
        }
        CHECK_RC(SK_ERR_PROTO_AUTH, sk_ca_client_status(c, &st, &w[0].serials[2]));
        sk_ca_client_close(c);
        sk_rep_server_stop(fsrv);
        if (e != NULL)
            splitkey__ca__ca_reply_envelope__free_unpacked(e, NULL);
        free(fake.reply);
        sk_ca_key_free(other);
        sk_name_free(oname);
    }

    /* Revocations for an RA: its own certificates, in sequence order,
     * with who asked; another RA sees none of them. */
    {
        sk_ca_client *c = NULL;
        sk_ca_revocation *rv = NULL;
        size_t nrv = 0;
        bool more = true;
        sk_ca_result res = SK_CA_NO_ANSWER;
        CHECK_OK(sk_ca_client_open(&c, URL, ra_sk[1], ca.cert_der, ca.cert_len, 0));
        CHECK_OK(sk_ca_client_revocations(c, &rv, &nrv, &more, &res, 0, 0));
        CHECK(res == SK_CA_OK && !more && nrv >= 2);
        for (size_t i = 0; i < nrv; i++) {
            CHECK(rv[i].by_ra); /* all asked for by RA 1 so far */
            CHECK(i == 0 || rv[i].seq > rv[i - 1].seq);
        }
        uint64_t last = nrv ? rv[nrv - 1].seq : 0;
        free(rv);
        rv = NULL;
        /* an operator revocation shows up after the cursor, not by the RA */
        int64_t when = 0;
        CHECK_OK(ca_operator_revoke(&ca, &when, &w[1].serials[2], SK_REASON_KEY_COMPROMISE));
        revoked++;
        CHECK_OK(sk_ca_client_revocations(c, &rv, &nrv, &more, &res, last, 0));
        CHECK(nrv == 1);
        if (nrv == 1) {
            CHECK(!rv[0].by_ra && rv[0].seq > last && rv[0].reason == SK_REASON_KEY_COMPROMISE);
            CHECK(rv[0].serial.len == w[1].serials[2].len &&
                  memcmp(rv[0].serial.bytes, w[1].serials[2].bytes, rv[0].serial.len) == 0);
            CHECK(strcmp(rv[0].person_id, "PNOLV-010101-12345") == 0);
        }
        free(rv);
        rv = NULL;
        /* max 1 pages */
        CHECK_OK(sk_ca_client_revocations(c, &rv, &nrv, &more, &res, 0, 1));
        CHECK(nrv == 1 && more);
        free(rv);
        rv = NULL;
        sk_ca_client_close(c);
        /* a stranger may not ask */
        CHECK_OK(sk_ca_client_open(&c, URL, stranger_sk, ca.cert_der, ca.cert_len, 0));
        CHECK_RC(SK_ERR_PROTO_AUTH, sk_ca_client_revocations(c, &rv, &nrv, &more, &res, 0, 0));
        CHECK(res == SK_CA_UNKNOWN_RA);
        sk_ca_client_close(c);
        /* the two revocations above went into the audit chain */
        CHECK_OK(ca_store_audit_head(ca.store, head, &count));
        CHECK(count == (uint64_t)(issued + revoked));
    }

    sk_rep_server_stop(srv);

    /* A failed audit append stores nothing: the same database with a log
     * that cannot be written. */
    {
        long before = file_size(ca.audit_path);
        ca_store *bad = NULL;
        CHECK_OK(ca_store_open(&bad, db_path, "/nonexistent/dir/audit.log", 0));
        sk_serial s = {.len = 2, .bytes = {0x7f, 0x01}};
        ca_issue_record r = {.serial = &s, .subject = "C=LV", .person_id = "x",
                             .profile = SK_CERT_AUTH_BASIC, .issued_at = time(NULL),
                             .ra_pub = pubs[0], .der = der, .der_len = 10};
        CHECK_RC(SK_SVC_ERR_IO, ca_store_record_issue(bad, &r));
        int64_t at;
        CHECK_RC(SK_SVC_ERR_IO, ca_store_record_revoke(bad, &at, &w[0].serials[2],
                                                       SK_REASON_SUPERSEDED, time(NULL),
                                                       NULL, NULL));
        ca_store_close(bad);
        sk_cert_status st;
        CHECK_OK(ca_store_status(ca.store, &st, &s));
        CHECK(st.state == SK_CERT_UNKNOWN);
        CHECK_OK(ca_store_status(ca.store, &st, &w[0].serials[2]));
        CHECK(st.state == SK_CERT_GOOD);
        uint64_t c2 = 0;
        uint8_t head2[32];
        CHECK_OK(ca_store_audit_head(ca.store, head2, &c2));
        CHECK(c2 == count && memcmp(head, head2, 32) == 0);
        CHECK(file_size(ca.audit_path) == before);
        /* a duplicate serial is a conflict and changes nothing either */
        r.serial = &w[0].serials[2];
        CHECK_RC(SK_ERR_STORE_CONFLICT, ca_store_record_issue(ca.store, &r));
        CHECK(file_size(ca.audit_path) == before);
        CHECK_OK(ca_audit_check(ca.store, ca.audit_path, err, sizeof err));
    }

    /* The operator's revocation goes into the same chain. */
    int64_t at = 0;
    CHECK_OK(ca_operator_revoke(&ca, &at, &w[0].serials[2], SK_REASON_KEY_COMPROMISE));
    CHECK_RC(SK_ERR_PROTO_STATE,
             ca_operator_revoke(&ca, &at, &w[0].serials[2], SK_REASON_KEY_COMPROMISE));
    CHECK_OK(ca_audit_check(ca.store, ca.audit_path, err, sizeof err));
    sk_crl_entry *entries = NULL;
    size_t ne = 0;
    CHECK_OK(ca_store_revoked(ca.store, &entries, &ne));
    CHECK(ne == (size_t)revoked + 1);
    free(entries);
    uint64_t n1 = 0, n2 = 0;
    CHECK_OK(ca_store_next_crl_number(ca.store, &n1));
    CHECK_OK(ca_store_next_crl_number(ca.store, &n2));
    CHECK(n1 == 1 && n2 == 2);

    /* A read-only store answers status and refuses to record. */
    {
        ca_store *ro = NULL;
        CHECK_OK(ca_store_open(&ro, db_path, NULL, CA_STORE_READONLY));
        sk_cert_status st;
        CHECK_OK(ca_store_status(ro, &st, &w[0].serials[2]));
        CHECK(st.state == SK_CERT_REVOKED && st.reason == SK_REASON_KEY_COMPROMISE);
        int64_t t;
        CHECK(ca_store_record_revoke(ro, &t, &w[1].serials[2], SK_REASON_SUPERSEDED,
                                     time(NULL), NULL, NULL) != SK_OK);
        ca_store_close(ro);
    }

    splitfix_free(&fx);
    sk_name_free(person);
    sk_name_free(caname);
    ca_ctx_free(&ca);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
    free(db_path);
    sodium_memzero(ra_sk, sizeof ra_sk);
    sodium_memzero(stranger_sk, sizeof stranger_sk);
    return sk_test_done("test_ca_service");
}
