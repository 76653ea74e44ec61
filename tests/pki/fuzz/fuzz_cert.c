/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_cert.c - libFuzzer harness for reading certificates back (mbedTLS's
 * parser, then this library's extension walk and accessors). */
#include "splitkey/pki.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Results land here so that none is ignored. */
/* Results are folded into an unsigned sink (wrap-around is defined) so the
 * calls cannot be optimised away. */
static volatile unsigned sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready)
        ready = sk_init() == SK_OK;
    sk_cert *cert = NULL;
    if (size == 0 || sk_cert_parse(&cert, data, size) != SK_OK)
        return 0;
    sk_serial s;
    int64_t nb, na;
    sk_name *subject = NULL;
    sk_pubkey *key = NULL;
    static const uint8_t n[256] = {0xc0, [255] = 0x01};
    sink += (unsigned)sk_cert_serial(cert, &s);
    sink += (unsigned)sk_cert_validity(cert, &nb, &na);
    sink += (unsigned)sk_cert_subject(cert, &subject);
    sink += (unsigned)sk_cert_pubkey(cert, &key);
    sink += (unsigned)sk_cert_check_key(cert, n, sizeof n);
    sink += (unsigned)sk_cert_check_issuer(cert, cert);
    sk_name_free(subject);
    sk_pubkey_free(key);
    sk_cert_free(cert);
    return 0;
}
