/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_ocsp_request.c - libFuzzer harness for OCSP request parsing and the
 * whole responder path, with the fixed CA and signer of fixed_ca.h. */
#include <stdlib.h>
#include <string.h>

#include "fixed_ca.h"

#include "splitkey/pki.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Results land here so that none is ignored. */
/* Results are folded into an unsigned sink (wrap-around is defined) so the
 * calls cannot be optimised away. */
static volatile unsigned sink;

static sk_ocsp_responder *responder;

static int lookup(void *ctx, sk_cert_status *st, const sk_serial *serial)
{
    (void)ctx;
    st->state = (sk_cert_state)(serial->bytes[serial->len - 1] % 3);
    st->revocation_time = 1700000000;
    st->reason = SK_REASON_KEY_COMPROMISE;
    return 0;
}

static void setup(void)
{
    static sk_ca_key *okey;
    if (sk_init() != SK_OK ||
        sk_ca_key_import(&okey, (const uint8_t *)FUZZ_OCSP_KEY, sizeof FUZZ_OCSP_KEY - 1) !=
            SK_OK ||
        sk_ocsp_responder_new(&responder, (const uint8_t *)FUZZ_CA_CERT, sizeof FUZZ_CA_CERT - 1,
                              (const uint8_t *)FUZZ_OCSP_CERT, sizeof FUZZ_OCSP_CERT - 1, okey,
                              0) != SK_OK)
        abort(); /* the harness itself is broken */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        setup();
        ready = 1;
    }
    sk_ocsp_request *req = NULL;
    if (sk_ocsp_request_parse(&req, data, size) == SK_OK) {
        sk_serial s;
        for (size_t i = 0; i < sk_ocsp_request_count(req); i++)
            sink += (unsigned)sk_ocsp_request_serial(req, &s, i);
        size_t nl;
        (void)sk_ocsp_request_nonce(req, &nl);
        sk_ocsp_request_free(req);
    }
    /* the same bytes as the path of an RFC 5019 GET */
    static uint8_t der[65536];
    size_t dl;
    sink += (unsigned)sk_ocsp_decode_get(der, sizeof der, &dl, (const char *)data, size);
    if (responder != NULL) {
        static uint8_t out[65536];
        size_t w;
        sk_ocsp_status st;
        sink += (unsigned)sk_ocsp_respond(responder, out, sizeof out, &w, &st, data, size, 1700000100,
                              lookup, NULL);
    }
    return 0;
}
