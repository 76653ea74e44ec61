/* SPDX-License-Identifier: Apache-2.0 */
/* server_pub.c - text form of the share server's public keys. */
#include "server_pub.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "fileio.h"
#include "splitkey/splitkey.h"
#include "svc_hex.h"

int sk_server_pub_format(char *out, size_t cap, const sk_server_pub *pub)
{
    char kx[2 * SK_KX_PUBLIC_LEN + 1], sg[2 * SK_SIGN_PUBLIC_LEN + 1];
    sk_svc_hex(kx, pub->kx_pub, sizeof pub->kx_pub);
    sk_svc_hex(sg, pub->sign_pub, sizeof pub->sign_pub);
    int n = snprintf(out, cap,
                     "# splitkey share server public keys: pin them in clients,\n"
                     "# register them with the CA (splitkey-ca add-ra).\n"
                     "format: %s\n"
                     "kx-x25519: %s\n"
                     "sign-ed25519: %s\n",
                     SK_SERVER_PUB_FORMAT, kx, sg);
    if (n < 0 || (size_t)n >= cap)
        return SK_ERR_BUFFER_TOO_SMALL;
    return SK_OK;
}

int sk_server_pub_parse(sk_server_pub *pub, const char *text, size_t len)
{
    memset(pub, 0, sizeof *pub);
    bool have_format = false, have_kx = false, have_sign = false;
    size_t pos = 0;
    while (pos < len) {
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t ll = nl ? (size_t)(nl - line) : len - pos;
        pos += ll + (nl ? 1 : 0);
        if (ll > 0 && line[ll - 1] == '\r')
            ll--;
        if (ll == 0 || line[0] == '#')
            continue;
        if (memchr(line, '\0', ll) != NULL)
            goto bad;
        const char *colon = memchr(line, ':', ll);
        if (colon == NULL)
            goto bad;
        size_t nlen = (size_t)(colon - line);
        const char *val = colon + 1;
        size_t vlen = ll - nlen - 1;
        while (vlen > 0 && *val == ' ') {
            val++;
            vlen--;
        }
        while (vlen > 0 && val[vlen - 1] == ' ')
            vlen--;
        if (nlen == 6 && !memcmp(line, "format", 6)) {
            if (have_format || vlen != strlen(SK_SERVER_PUB_FORMAT) ||
                memcmp(val, SK_SERVER_PUB_FORMAT, vlen) != 0)
                goto bad;
            have_format = true;
        } else if (!have_format) {
            goto bad; /* the format line comes first */
        } else if (nlen == 9 && !memcmp(line, "kx-x25519", 9)) {
            if (have_kx || sk_svc_unhex(pub->kx_pub, sizeof pub->kx_pub, val, vlen) != SK_OK)
                goto bad;
            have_kx = true;
        } else if (nlen == 12 && !memcmp(line, "sign-ed25519", 12)) {
            if (have_sign || sk_svc_unhex(pub->sign_pub, sizeof pub->sign_pub, val, vlen) != SK_OK)
                goto bad;
            have_sign = true;
        } else {
            goto bad;
        }
    }
    if (have_format && have_kx && have_sign)
        return SK_OK;
bad:
    memset(pub, 0, sizeof *pub);
    return SK_ERR_KEY_FORMAT;
}

int sk_server_pub_load(sk_server_pub *pub, const char *path)
{
    uint8_t *buf;
    size_t len;
    memset(pub, 0, sizeof *pub);
    int rc = sk_file_read(&buf, &len, path, SK_SERVER_PUB_MAX, 0);
    if (rc != SK_OK)
        return rc;
    rc = sk_server_pub_parse(pub, (const char *)buf, len);
    sk_file_free(buf, len);
    return rc;
}
