/* SPDX-License-Identifier: Apache-2.0 */
/* rules.c - rules both roles apply: PIN format, verification codes. */
#include <sodium.h>
#include <string.h>

#include "protocol/common/protocol.h"

int sk_pin_check(sk_purpose purpose, const uint8_t *pin, size_t pin_len)
{
    size_t min;
    if (purpose == SK_PURPOSE_AUTH)
        min = SK_PIN_MIN_AUTH;
    else if (purpose == SK_PURPOSE_SIGN)
        min = SK_PIN_MIN_SIGN;
    else if (purpose == SK_PURPOSE_SEAL)
        min = SK_PIN_MIN_SEAL;
    else
        return SK_ERR_ARG;
    if (pin == NULL || pin_len < min || pin_len > SK_PIN_MAX)
        return SK_ERR_ARG;
    /* The length is public (it is shown as dots); the digits are not, so the
     * loop looks at every byte whatever it finds. */
    unsigned bad = 0;
    for (size_t i = 0; i < pin_len; i++)
        bad |= (unsigned)((uint8_t)(pin[i] - '0') > 9);
    return bad ? SK_ERR_ARG : SK_OK;
}

int sk_verification_code(char *code, size_t code_len, const uint8_t *digest, size_t digest_len)
{
    uint8_t h[crypto_hash_sha256_BYTES];
    if (code_len < SKP_CODE_LEN + 1 || digest_len == 0 || digest_len > SKP_MAX_DIGEST_LEN)
        return SK_ERR_ARG;
    crypto_hash_sha256(h, digest, digest_len);
    unsigned v = ((unsigned)h[30] << 8 | h[31]) % 10000u;
    for (int i = (int)SKP_CODE_LEN - 1; i >= 0; i--) {
        code[i] = (char)('0' + v % 10u);
        v /= 10u;
    }
    code[SKP_CODE_LEN] = '\0';
    return SK_OK;
}
