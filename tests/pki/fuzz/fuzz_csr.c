/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_csr.c - libFuzzer harness for the CSR parser and the checks a CA
 * runs on a parsed request. */
#include <string.h>

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
    sk_csr *csr = NULL;
    if (size == 0 || sk_csr_parse(&csr, data, size) != SK_OK)
        return 0;
    static const uint8_t n[256] = {0xc0, [255] = 0x01};
    sink += (unsigned)sk_csr_verify(csr);
    sink += (unsigned)sk_csr_check_key(csr, n, sizeof n);
    sk_name *subject = NULL;
    sk_pubkey *key = NULL;
    if (sk_csr_subject(csr, &subject) == SK_OK) {
        char text[2048];
        size_t w;
        sink += (unsigned)sk_name_format(subject, text, sizeof text, &w);
        sink += (unsigned)sk_name_check_person(subject, NULL);
    }
    sink += (unsigned)sk_csr_pubkey(csr, &key);
    sk_name_free(subject);
    sk_pubkey_free(key);
    sk_csr_free(csr);
    return 0;
}
