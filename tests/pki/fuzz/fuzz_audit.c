/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_audit.c - libFuzzer harness for the audit-log verifier. */
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
    size_t bad;
    uint8_t head[SK_AUDIT_HASH_LEN];
    uint64_t count;
    sink += (unsigned)sk_audit_verify(&bad, head, &count, (const char *)data, size);
    return 0;
}
