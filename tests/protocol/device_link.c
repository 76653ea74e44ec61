/* SPDX-License-Identifier: Apache-2.0 */
/* Linked against splitkey_device alone (public headers only): the device
 * part builds and links without the server role, nng, SQLite, files or
 * sockets.  Every device function is referenced so the link proves they are
 * all in the device library. */
#include <stdio.h>
#include <string.h>

#include "splitkey/device.h"

typedef void (*fn)(void);

int main(void)
{
    const fn all[] = {
        (fn)sk_pin_check,
        (fn)sk_verification_code,
        (fn)sk_device_enrol_start,
        (fn)sk_device_enrol_continue,
        (fn)sk_device_enrol_finish,
        (fn)sk_device_enrol_retry,
        (fn)sk_device_enrolment_free,
        (fn)sk_device_key_seal,
        (fn)sk_device_key_open,
        (fn)sk_device_key_free,
        (fn)sk_device_key_id,
        (fn)sk_device_key_state,
        (fn)sk_device_key_purpose,
        (fn)sk_device_key_profile,
        (fn)sk_device_key_subject,
        (fn)sk_device_key_pubkey,
        (fn)sk_device_key_has_pending,
        (fn)sk_device_key_certificate,
        (fn)sk_device_session_id,
        (fn)sk_device_session_display_text,
        (fn)sk_device_session_rp_name,
        (fn)sk_device_session_code,
        (fn)sk_device_session_expires_at,
        (fn)sk_device_session_hash,
        (fn)sk_device_session_scheme,
        (fn)sk_device_session_free,
        (fn)sk_device_session_create,
        (fn)sk_device_pop_create,
        (fn)sk_device_fetch,
        (fn)sk_device_refuse,
        (fn)sk_device_approve,
        (fn)sk_device_revoke,
        (fn)sk_device_otp_refresh,
        (fn)sk_device_key_state_request,
        (fn)sk_device_retry,
        (fn)sk_device_read_session, (fn)sk_device_read_sessions,
        (fn)sk_device_read_signature,
        (fn)sk_device_read_reply,
    };
    int failures = 0;
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        failures += all[i] == NULL;

    if (sk_init() != SK_OK) {
        fprintf(stderr, "sk_init failed\n");
        return 1;
    }
    /* Start an enrolment against some pinned key: the device work runs. */
    static uint8_t msg[SK_MAX_MESSAGE_LEN];
    uint8_t pinned[SK_SERVER_PUB_LEN];
    size_t len = 0;
    sk_device_enrolment *e = NULL;
    for (size_t i = 0; i < sizeof pinned; i++)
        pinned[i] = (uint8_t)(i * 7 + 1);
    int rc = sk_device_enrol_start(&e, msg, sizeof msg, &len, pinned, sizeof pinned,
                                   SK_PURPOSE_AUTH, SK_PROFILE_4K, (const uint8_t *)"2468", 4,
                                   SK_KDF_MINIMUM, NULL, "C=LV,CN=LINK");
    failures += rc != SK_OK || e == NULL || len < 256;
    sk_device_enrolment_free(e);
    /* A sealed state that is not one is refused. */
    sk_device_key *k = NULL;
    uint8_t storage[SK_STORAGE_KEY_LEN] = {0};
    failures += sk_device_key_open(&k, msg, len, storage, sizeof storage) == SK_OK;
    failures += k != NULL;
    printf("device_link: %d failures\n", failures);
    return failures == 0 ? 0 : 1;
}
