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
