/* SPDX-License-Identifier: Apache-2.0 */
/* verify.c - `splitkey verify`: checks an RSASSA-PKCS1-v1_5 or RSASSA-PSS
 * signature over a file under any RSA public key (PSS: MGF1 with the same
 * hash, salt length = hash length). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "splitkey/key.h"
#include "splitkey/sign.h"
#include "splitkey/splitkey.h"

#define CMD "verify"
#define MAX_KEY_FILE (1u << 20)
#define MAX_SIG_FILE (1u << 16)
#define MAX_IN_FILE ((size_t)1 << 31)

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: splitkey verify --pub PUB.pem --scheme pkcs1|pss --hash sha256|sha384|sha512\n"
            "                       --in FILE --sig SIG\n"
            "\n"
            "Verifies the raw signature SIG over FILE under the RSA public key PUB.pem\n"
            "(SubjectPublicKeyInfo or PKCS#1 RSAPublicKey, PEM or DER).  PSS uses MGF1 with\n"
            "the same hash and a salt as long as the hash.  Any RSA key is accepted, not\n"
            "only splitkey composite keys.\n"
            "\n"
            "Exit status: 0 the signature is valid, 1 it is not (or a file cannot be read),\n"
            "2 usage error (a file that does not exist included).\n");
}

int cmd_verify(int argc, char **argv)
{
    const char *pub_path, *scheme_name, *hash_name, *in_path, *sig_path;
    const cli_option opts[] = {
        {"--pub", &pub_path, NULL},     {"--scheme", &scheme_name, NULL},
        {"--hash", &hash_name, NULL},   {"--in", &in_path, NULL},
        {"--sig", &sig_path, NULL},
    };
    int scheme = 0, hash = 0, rc;
    uint8_t *pub_data = NULL, *in_data = NULL, *sig_data = NULL;
    size_t pub_len, in_len, sig_len;
    uint8_t digest[SK_MAX_HASH_LEN];
    sk_pubkey *pub = NULL;
    int ret = CLI_FAIL;

    rc = cli_parse_options(CMD, argc, argv, opts, sizeof opts / sizeof opts[0]);
    if (rc == CLI_HELP) {
        usage(stdout);
        return CLI_OK;
    }
    if (rc != CLI_OK)
        return rc;
    if (cli_require(CMD, "--pub", pub_path) || cli_require(CMD, "--scheme", scheme_name) ||
        cli_require(CMD, "--hash", hash_name) || cli_require(CMD, "--in", in_path) ||
        cli_require(CMD, "--sig", sig_path))
        return CLI_USAGE;
    if (cli_parse_scheme(CMD, scheme_name, &scheme) || cli_parse_hash(CMD, hash_name, &hash))
        return CLI_USAGE;

    if (sk_init() != SK_OK)
        return cli_fail(CMD, "library initialisation failed");

    pub_data = util_read_file(pub_path, &pub_len, MAX_KEY_FILE);
    if (pub_data == NULL) {
        ret = cli_read_fail(CMD, "read", pub_path);
        goto out;
    }
    in_data = util_read_file(in_path, &in_len, MAX_IN_FILE);
    if (in_data == NULL) {
        ret = cli_read_fail(CMD, "read", in_path);
        goto out;
    }
    sig_data = util_read_file(sig_path, &sig_len, MAX_SIG_FILE);
    if (sig_data == NULL) {
        ret = cli_read_fail(CMD, "read", sig_path);
        goto out;
    }
    rc = sk_pubkey_import(&pub, pub_data, pub_len);
    if (rc != SK_OK) {
        cli_fail(CMD, "%s is not a usable RSA public key: %s", pub_path, sk_strerror(rc));
        goto out;
    }
    rc = sk_digest(digest, sk_hash_len((sk_hash)hash), (sk_hash)hash, in_data, in_len);
    if (rc != SK_OK) {
        cli_fail(CMD, "hashing %s failed: %s", in_path, sk_strerror(rc));
        goto out;
    }
    rc = sk_verify(pub, (sk_scheme)scheme, (sk_hash)hash, digest, sk_hash_len((sk_hash)hash),
                   sig_data, sig_len);
    if (rc == SK_OK) {
        printf("valid: %s %s signature of %zu bytes under a %u-bit RSA key\n", scheme_name,
               hash_name, sig_len, sk_pubkey_bits(pub));
        ret = CLI_OK;
    } else {
        printf("INVALID: %s\n", sk_strerror(rc));
    }

out:
    sk_pubkey_free(pub);
    free(pub_data);
    free(in_data);
    free(sig_data);
    return ret;
}
