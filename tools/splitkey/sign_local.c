/* SPDX-License-Identifier: Apache-2.0 */
/* sign_local.c - `splitkey sign-local`: the whole two-party signing flow in
 * one process, with the same library calls the device and the server make
 * (keys, split, encoding, both halves), and a timing for each step.  Both
 * shares exist here only for demonstration and measurement; in a deployment they never meet. */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "splitkey/key.h"
#include "splitkey/sign.h"
#include "splitkey/splitkey.h"

#define CMD "sign-local"
#define MAX_IN_FILE ((size_t)1 << 31)
#define PEM_CAP 4096

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: splitkey sign-local [--profile 4K|6K|8K] --scheme pkcs1|pss\n"
            "                           --hash sha256|sha384|sha512 --in FILE\n"
            "                           --pub-out PUB.pem --sig-out SIG\n"
            "\n"
            "Runs the two-party signing flow in this process: generates a client share\n"
            "(n1, dc and the server part ds) and a server key (n2, p2, q2), enrols them into\n"
            "a composite key n = n1 * n2 of 2k bits, hashes FILE, encodes the digest (the\n"
            "server draws the PSS salt), computes the device's partial signature\n"
            "y = EM^dc mod n1, completes it on the server side and verifies the result.\n"
            "Writes the composite public key (SubjectPublicKeyInfo PEM) to PUB.pem and the\n"
            "raw signature (2k/8 bytes) to SIG; prints a key id and the time of each step.\n"
            "\n"
            "Profiles: 4K (k = 2048, n of 4096 bits), 6K (k = 3072, the default),\n"
            "8K (k = 4096).  PUB.pem and SIG are checked to be writable before any work.\n"
            "\n"
            "The result verifies with, e.g. for PSS and SHA-256:\n"
            "  openssl dgst -sha256 -verify PUB.pem -signature SIG \\\n"
            "    -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:digest FILE\n"
            "\n"
            "Exit status: 0 success, 1 failure (an output that cannot be written included),\n"
            "2 usage error (an input file that does not exist included).\n");
}

static void step(const char *name, double t0, const char *detail)
{
    printf("  %-22s %10.1f ms   %s\n", name, util_now_ms() - t0, detail);
}

int cmd_sign_local(int argc, char **argv)
{
    const char *profile_name, *scheme_name, *hash_name, *in_path, *pub_path, *sig_path;
    const cli_option opts[] = {
        {"--profile", &profile_name, NULL}, {"--scheme", &scheme_name, NULL},
        {"--hash", &hash_name, NULL},       {"--in", &in_path, NULL},
        {"--pub-out", &pub_path, NULL},     {"--sig-out", &sig_path, NULL},
    };
    int profile_i = 0, scheme_i = 0, hash_i = 0, rc;
    sk_profile profile;
    sk_scheme scheme;
    sk_hash hash;
    unsigned k;
    size_t hlen, n1_len, ds_len, em_len, y_len, sig_len, pem_len = 0;
    uint8_t *in_data = NULL, *n1 = NULL, *ds = NULL, *em = NULL, *y = NULL, *sig = NULL;
    size_t in_len = 0;
    uint8_t digest[SK_MAX_HASH_LEN], salt[SK_MAX_HASH_LEN], key_id[SK_KEY_ID_LEN];
    char key_id_hex[2 * SK_KEY_ID_LEN + 1], detail[160], pem[PEM_CAP];
    sk_client_share *client = NULL;
    sk_server_key *server_key = NULL;
    sk_server_share *server_share = NULL;
    sk_pubkey *pub = NULL;
    double t, total;
    int ret = CLI_FAIL;

    rc = cli_parse_options(CMD, argc, argv, opts, sizeof opts / sizeof opts[0]);
    if (rc == CLI_HELP) {
        usage(stdout);
        return CLI_OK;
    }
    if (rc != CLI_OK)
        return rc;
    if (profile_name == NULL)
        profile_name = "6K";
    if (cli_require(CMD, "--scheme", scheme_name) || cli_require(CMD, "--hash", hash_name) ||
        cli_require(CMD, "--in", in_path) || cli_require(CMD, "--pub-out", pub_path) ||
        cli_require(CMD, "--sig-out", sig_path))
        return CLI_USAGE;
    if (cli_parse_profile(CMD, profile_name, &profile_i) ||
        cli_parse_scheme(CMD, scheme_name, &scheme_i) || cli_parse_hash(CMD, hash_name, &hash_i))
        return CLI_USAGE;
    profile = (sk_profile)profile_i;
    scheme = (sk_scheme)scheme_i;
    hash = (sk_hash)hash_i;

    /* an output that cannot be written fails now, not after the work */
    if (util_check_output(pub_path) != 0)
        return cli_fail(CMD, "cannot write %s: %s", pub_path, strerror(errno));
    if (util_check_output(sig_path) != 0)
        return cli_fail(CMD, "cannot write %s: %s", sig_path, strerror(errno));

    if (sk_init() != SK_OK)
        return cli_fail(CMD, "library initialisation failed");

    k = sk_profile_bits(profile);
    hlen = sk_hash_len(hash);
    n1_len = sk_profile_partial_len(profile); /* k/8: n1, ds, y */
    ds_len = n1_len;
    y_len = n1_len;
    sig_len = sk_profile_sig_len(profile); /* 2k/8: n, EM, s */
    em_len = sig_len;
    n1 = malloc(n1_len);
    ds = malloc(ds_len);
    y = malloc(y_len);
    em = malloc(em_len);
    sig = malloc(sig_len);
    if (!n1 || !ds || !y || !em || !sig) {
        cli_fail(CMD, "out of memory");
        goto out;
    }

    in_data = util_read_file(in_path, &in_len, MAX_IN_FILE);
    if (in_data == NULL) {
        ret = cli_read_fail(CMD, "read", in_path);
        goto out;
    }

    randombytes_buf(key_id, sizeof key_id);
    util_hex(key_id_hex, key_id, sizeof key_id);
    printf("splitkey sign-local: profile %s (k = %u; n1, n2 of %u bits; n of %u bits), "
           "%s, %s\n",
           profile_name, k, k, 2 * k, scheme_name, hash_name);
    printf("  key id                 %s\n", key_id_hex);
    total = util_now_ms();

    /* Device: client key.  Keeps n1 and dc; ds goes to the server. */
    t = util_now_ms();
    rc = sk_client_keygen(&client, ds, ds_len, profile);
    if (rc == SK_OK)
        rc = sk_client_share_modulus(client, n1, n1_len);
    if (rc != SK_OK) {
        cli_fail(CMD, "client key generation failed: %s", sk_strerror(rc));
        goto out;
    }
    snprintf(detail, sizeof detail, "device: n1 (%u bits), dc (%u bits), ds (%u bits)", k,
             k + 128, k);
    step("client keygen", t, detail);

    /* Server: its own RSA key (n2, d2). */
    t = util_now_ms();
    rc = sk_server_keygen(&server_key, profile);
    if (rc != SK_OK) {
        cli_fail(CMD, "server key generation failed: %s", sk_strerror(rc));
        goto out;
    }
    snprintf(detail, sizeof detail, "server: n2 = p2 * q2 (%u bits)", k);
    step("server keygen", t, detail);

    /* Enrolment: the server receives n1 and ds, checks them with its key and
     * forms n = n1 * n2.  The device wipes its copy of ds. */
    t = util_now_ms();
    rc = sk_check_client_modulus(n1, n1_len, profile);
    if (rc == SK_OK)
        rc = sk_server_share_new(&server_share, n1, n1_len, ds, ds_len, server_key);
    sk_wipe(ds, ds_len);
    if (rc == SK_OK)
        rc = sk_server_share_pubkey(server_share, &pub);
    if (rc != SK_OK) {
        cli_fail(CMD, "enrolment failed: %s", sk_strerror(rc));
        goto out;
    }
    if (sk_pubkey_bits(pub) != 2 * k) {
        cli_fail(CMD, "composite modulus has %u bits, expected %u", sk_pubkey_bits(pub),
                 2 * k);
        goto out;
    }
    snprintf(detail, sizeof detail, "server: checks n1, stores ds; n = n1 * n2 (%u bits)",
             sk_pubkey_bits(pub));
    step("enrolment", t, detail);

    t = util_now_ms();
    rc = sk_digest(digest, hlen, hash, in_data, in_len);
    if (rc != SK_OK) {
        cli_fail(CMD, "hashing failed: %s", sk_strerror(rc));
        goto out;
    }
    snprintf(detail, sizeof detail, "%s of %zu bytes", hash_name, in_len);
    step("hash", t, detail);

    /* The server chooses the PSS salt and both sides encode the same EM. */
    t = util_now_ms();
    if (scheme == SK_SCHEME_PSS)
        randombytes_buf(salt, hlen);
    rc = sk_encode(em, em_len, scheme, hash, digest, hlen,
                   scheme == SK_SCHEME_PSS ? salt : NULL, scheme == SK_SCHEME_PSS ? hlen : 0,
                   2 * k);
    if (rc != SK_OK) {
        cli_fail(CMD, "encoding failed: %s", sk_strerror(rc));
        goto out;
    }
    snprintf(detail, sizeof detail, "%s EM of %zu bytes%s", scheme_name, em_len,
             scheme == SK_SCHEME_PSS ? " (salt drawn by the server)" : "");
    step("encode", t, detail);

    /* Device: y = EM^dc mod n1 (consumes dc). */
    t = util_now_ms();
    rc = sk_device_partial(client, y, y_len, em, em_len);
    if (rc != SK_OK) {
        cli_fail(CMD, "device partial signature failed: %s", sk_strerror(rc));
        goto out;
    }
    step("device partial", t, "device: y = EM^dc mod n1");

    /* Server: s1, s2, CRT combination, three checks. */
    t = util_now_ms();
    rc = sk_server_complete(server_share, sig, sig_len, y, y_len, em, em_len);
    if (rc != SK_OK) {
        cli_fail(CMD, "server completion failed: %s", sk_strerror(rc));
        goto out;
    }
    step("server complete", t, "server: s1 = y * EM^ds mod n1, s2 = EM^d2 mod n2, CRT");

    t = util_now_ms();
    rc = sk_verify(pub, scheme, hash, digest, hlen, sig, sig_len);
    if (rc != SK_OK) {
        cli_fail(CMD, "the signature does not verify: %s", sk_strerror(rc));
        goto out;
    }
    step("verify", t, "s under (n, e = 65537)");
    printf("  %-22s %10.1f ms\n", "total", util_now_ms() - total);

    rc = sk_pubkey_export_pem(pub, pem, sizeof pem, &pem_len);
    if (rc != SK_OK) {
        cli_fail(CMD, "exporting the public key failed: %s", sk_strerror(rc));
        goto out;
    }
    if (util_write_file(pub_path, pem, pem_len) != 0) {
        cli_fail(CMD, "cannot write %s: %s", pub_path, strerror(errno));
        goto out;
    }
    if (util_write_file(sig_path, sig, sig_len) != 0) {
        cli_fail(CMD, "cannot write %s: %s", sig_path, strerror(errno));
        goto out;
    }
    printf("  wrote %s (composite public key, %u bits) and %s (%zu-byte signature)\n",
           pub_path, 2 * k, sig_path, sig_len);
    ret = CLI_OK;

out:
    if (ds != NULL)
        sk_wipe(ds, ds_len);
    sk_wipe(salt, sizeof salt);
    sk_client_share_free(client);
    sk_server_share_free(server_share);
    sk_server_key_free(server_key);
    sk_pubkey_free(pub);
    free(in_data);
    free(n1);
    free(ds);
    free(y);
    free(em);
    free(sig);
    return ret;
}
