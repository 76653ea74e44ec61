/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer harness for every parser of the protocol: envelopes and bodies
 * on the server (device and relying-party requests), records, the device's
 * sealed state and the device's reply readers.  Built with SK_BUILD_FUZZ=ON
 * and clang (-fsanitize=fuzzer,address). */
#include <stdlib.h>
#include <string.h>

#include "splitkey/device.h"
#include "splitkey/server.h"

static sk_server_ident *identity;
/* Results no invariant needs are folded into an unsigned sink (defined
 * wrap-around) so the calls cannot be optimised away. */
static volatile unsigned sink;
static sk_server_policy policy;

static int fixed_random(void *ctx, uint8_t *out, size_t len)
{
    (void)ctx;
    memset(out, 0x5a, len);
    return SK_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (identity == NULL) {
        if (sk_init() != SK_OK || sk_server_ident_generate(&identity, fixed_random, NULL))
            abort();
        sk_server_policy_default(&policy);
        policy.open_enrolment = 1;
    }
    sk_route_info info;
    sk_server_input in;
    sk_server_result *res = NULL;
    memset(&in, 0, sizeof in);
    in.identity = identity;
    in.policy = &policy;
    in.now = 1700000000;
    in.random = fixed_random;

    sink += (unsigned)sk_server_peek_device(&info, identity, NULL, data, size);
    if (sk_server_handle_device(&res, &in, data, size) == SK_OK) {
        size_t len = 0;
        if (sk_server_result_reply(res, &len) == NULL || len == 0)
            abort(); /* every handled request gets a reply */
    }
    sk_server_result_free(res);
    res = NULL;
    sink += (unsigned)sk_server_peek_rp(&info, data, size);
    if (sk_server_handle_rp(&res, &in, data, size) == SK_OK) {
        size_t len = 0;
        if (sk_server_result_reply(res, &len) == NULL || len == 0)
            abort();
    }
    sk_server_result_free(res);

    sk_key_rec *rec = NULL;
    if (sk_key_rec_import(&rec, data, size, NULL, 0) == SK_OK) {
        uint8_t out[SK_MAX_RECORD_LEN];
        size_t n = 0;
        if (sk_key_rec_export(rec, out, sizeof out, &n) != SK_OK)
            abort();
    }
    sk_key_rec_free(rec);
    sk_session_rec *s = NULL;
    sink += (unsigned)sk_session_rec_import(&s, data, size);
    sk_session_rec_free(s);

    static const uint8_t storage[SK_STORAGE_KEY_LEN];
    sk_device_key *key = NULL;
    if (sk_device_key_open(&key, data, size, storage, sizeof storage) == SK_OK)
        abort(); /* cannot forge a sealed state without the storage key */
    char code[5];
    sink += (unsigned)sk_verification_code(code, sizeof code, data, size);
    return 0;
}
