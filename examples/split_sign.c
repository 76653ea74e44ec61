/* SPDX-License-Identifier: Apache-2.0 */
/* split_sign.c - the whole two-party signature in one program, using only the
 * public API: what the device does, what the server does, and a check that
 * the result is an ordinary RSA signature.
 *
 *   build/bin/example-split-sign ["text to sign"]     (default: "hello")
 *   build/bin/example-split-sign --help
 *
 * Exit status: 0 the signature verifies, 1 a failure, 2 a usage error.
 */
#include <splitkey/sign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROFILE SK_PROFILE_4K
#define K8 (SK_PROFILE_4K / 8)

static int fail(const char *what, int rc)
{
    fprintf(stderr, "%s: %s\n", what, sk_strerror(rc));
    return 1;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: example-split-sign [TEXT]\n"
               "Signs TEXT (default \"hello\") with a new 4096-bit split key, the device\n"
               "half and the server half in this one process, and verifies the signature.\n"
               "A TEXT that starts with '-' follows \"--\".  --version prints the\n"
               "library's version.\n"
               "Exit status: 0 the signature verifies, 1 a failure, 2 a usage error.\n");
}

int main(int argc, char **argv)
{
    const char *text = "hello";
    int i = 1;
    if (i < argc && (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)) {
        usage(stdout);
        return 0;
    }
    if (i < argc && strcmp(argv[i], "--version") == 0) {
        printf("example-split-sign %s\n", sk_version());
        return 0;
    }
    if (i < argc && strcmp(argv[i], "--") == 0)
        i++;
    else if (i < argc && argv[i][0] == '-' && argv[i][1] != '\0') {
        fprintf(stderr, "example-split-sign: unknown option '%s'\n", argv[i]);
        usage(stderr);
        return 2;
    }
    if (i < argc)
        text = argv[i++];
    if (i < argc) {
        fprintf(stderr, "example-split-sign: unexpected argument '%s'\n", argv[i]);
        usage(stderr);
        return 2;
    }
    const uint8_t pin[] = "24680";
    uint8_t ds[K8], n1[K8], y[K8], em[2 * K8], sig[2 * K8], digest[32];
    uint8_t wrapped[SK_WRAPPED_LEN(SK_PROFILE_4K)];
    sk_client_share *device = NULL;
    sk_server_key *server_key = NULL;
    sk_server_share *server = NULL;
    sk_pubkey *pub = NULL;
    int rc, status = 1;

    if ((rc = sk_init()) != SK_OK)
        return fail("init", rc);

    /* Device: make n1 and split its private exponent; keep dc behind the PIN,
     * hand ds to the server once. */
    if ((rc = sk_client_keygen(&device, ds, sizeof ds, PROFILE)) != SK_OK ||
        (rc = sk_client_share_modulus(device, n1, sizeof n1)) != SK_OK ||
        (rc = sk_client_share_wrap(device, wrapped, sizeof wrapped, pin, 5,
                                   SK_KDF_INTERACTIVE)) != SK_OK) {
        status = fail("device key", rc);
        goto out;
    }
    sk_client_share_free(device);
    device = NULL;

    /* Server: its own key n2, then the server half of the split key. */
    if ((rc = sk_server_keygen(&server_key, PROFILE)) != SK_OK ||
        (rc = sk_server_share_new(&server, n1, sizeof n1, ds, sizeof ds, server_key)) != SK_OK ||
        (rc = sk_server_share_pubkey(server, &pub)) != SK_OK) {
        status = fail("server key", rc);
        goto out;
    }
    sk_wipe(ds, sizeof ds);

    /* Both sides encode the same digest (PKCS#1 v1.5 here). */
    if ((rc = sk_digest(digest, sizeof digest, SK_HASH_SHA256, (const uint8_t *)text,
                        strlen(text))) != SK_OK ||
        (rc = sk_encode(em, sizeof em, SK_SCHEME_PKCS1, SK_HASH_SHA256, digest, sizeof digest,
                        NULL, 0, 2 * SK_PROFILE_4K)) != SK_OK) {
        status = fail("encode", rc);
        goto out;
    }

    /* Device: unwrap dc with the PIN and make the partial signature. */
    if ((rc = sk_client_share_unwrap(&device, wrapped, sizeof wrapped, n1, sizeof n1, pin, 5)) !=
            SK_OK ||
        (rc = sk_device_partial(device, y, sizeof y, em, sizeof em)) != SK_OK) {
        status = fail("device partial", rc);
        goto out;
    }

    /* Server: check the partial (the PIN check), complete, check again. */
    if ((rc = sk_server_complete(server, sig, sizeof sig, y, sizeof y, em, sizeof em)) != SK_OK) {
        status = fail("server completion", rc);
        goto out;
    }

    /* Anyone: an ordinary RSA signature under n = n1 * n2. */
    rc = sk_verify(pub, SK_SCHEME_PKCS1, SK_HASH_SHA256, digest, sizeof digest, sig, sizeof sig);
    printf("signed \"%s\" with a %u-bit split key: %s\n", text, sk_pubkey_bits(pub),
           rc == SK_OK ? "signature verifies" : sk_strerror(rc));
    status = rc == SK_OK ? 0 : 1;
out:
    sk_wipe(ds, sizeof ds);
    sk_client_share_free(device);
    sk_server_key_free(server_key);
    sk_server_share_free(server);
    sk_pubkey_free(pub);
    return status;
}
