/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_ca_request.c - libFuzzer harness for the CA issuer's request path:
 * envelope and request decoding, RA lookup, signature check and the
 * operations behind them, on a real CA (P-384 key, SQLite store) made once
 * in a temporary directory.  The registered RA's key comes from a fixed
 * seed, so seed files can carry requests it signed; a mutated request never
 * verifies, so the store does not grow while fuzzing.  Every input must get
 * a decodable CaReply. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "ca.pb-c.h"
#include "ca_dir.h"
#include "ca_handler.h"
#include "ca_store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The RA key seed the corpus was signed with. */
static const uint8_t ra_seed[32] = "splitkey fuzz RA key seed 32 b.";

static ca_ctx ca;
static ca_handler handler = {.ca = &ca, .skew_secs = 3600u * 24u * 365u * 30u};
static char dir[] = "/tmp/fuzz_ca_request.XXXXXX";

static void cleanup(void)
{
    ca_ctx_free(&ca);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
}

static int setup(void)
{
    if (sk_init() != SK_OK || mkdtemp(dir) == NULL)
        return -1;
    memset(&ca, 0, sizeof ca);
    pthread_mutex_init(&ca.sign_mu, NULL);
    ca.dir = strdup(dir);
    size_t n = strlen(dir) + 16;
    ca.audit_path = malloc(n);
    char *db = malloc(n);
    if (ca.dir == NULL || ca.audit_path == NULL || db == NULL)
        return -1;
    snprintf(ca.audit_path, n, "%s/audit.log", dir);
    snprintf(db, n, "%s/ca.db", dir);
    FILE *f = fopen(ca.audit_path, "w");
    if (f == NULL)
        return -1;
    fclose(f);
    sk_name *name = NULL;
    const char *why;
    static uint8_t der[SK_PKI_MAX_CERT_LEN];
    size_t len;
    sk_ca_config cc = {.ocsp_url = "http://127.0.0.1/", .ca_issuers_url = "http://127.0.0.1/ca",
                       .pds_url = "https://example.org/pds.pdf"};
    uint8_t pk[32], sk[64];
    crypto_sign_seed_keypair(pk, sk, ra_seed);
    int rc = sk_ca_key_generate(&ca.key, SK_CA_KEY_EC_P384);
    if (rc == SK_OK)
        rc = sk_name_parse(&name, &why, "CN=Fuzz CA,C=LV");
    if (rc == SK_OK)
        rc = sk_ca_self_signed(ca.key, der, sizeof der, &len, NULL, name, time(NULL) - 60, 0);
    if (rc == SK_OK)
        rc = sk_ca_new(&ca.ca, der, len, ca.key, &cc);
    if (rc == SK_OK) {
        ca.cert_der = (uint8_t *)sk_ca_cert_der(ca.ca, &ca.cert_len);
        rc = ca_store_open(&ca.store, db, ca.audit_path, CA_STORE_CREATE);
    }
    if (rc == SK_OK)
        rc = ca_store_ra_add(ca.store, pk, NULL, 0);
    sodium_memzero(sk, sizeof sk);
    sk_name_free(name);
    free(db);
    atexit(cleanup);
    return rc == SK_OK ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        if (setup() != 0) {
            fprintf(stderr, "fuzz_ca_request: setup failed\n");
            abort();
        }
        ready = 1;
    }
    if (size > CA_MAX_REQUEST)
        return 0;
    uint8_t *reply = NULL;
    size_t reply_len = 0;
    int rc = ca_handle(&handler, data, size, &reply, &reply_len);
    if (rc != SK_OK)
        abort(); /* only out-of-memory may fail, and not here */
    Splitkey__Ca__CaReplyEnvelope *e =
        splitkey__ca__ca_reply_envelope__unpack(NULL, reply_len, reply);
    if (e == NULL || e->signature.len == 0)
        abort(); /* every input gets a signed reply ... */
    Splitkey__Ca__CaReply *r = splitkey__ca__ca_reply__unpack(NULL, e->body.len, e->body.data);
    if (r == NULL)
        abort(); /* ... with a decodable body */
    splitkey__ca__ca_reply__free_unpacked(r, NULL);
    splitkey__ca__ca_reply_envelope__free_unpacked(e, NULL);
    free(reply);
    return 0;
}
