/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_enrol.c - splitkey-client enrol (doc/protocol.md section 3): makes a
 * split key with the share server.  The device share stays in the state
 * directory behind the new PIN, the server's share goes to the server once
 * (EnrolInit, EnrolSubmit), and the first signature of the key, over its
 * PKCS#10 request or a digest of its id, proves possession.  An enrolment
 * whose proof of possession did not happen is finished by running enrol
 * again.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "client.h"
#include "server_pub.h"
#include "splitkey/pki.h"
#include "splitkey/splitkey.h"
#include "svc_error.h"

/* The proof of possession (doc/protocol.md section 3, step 6): the first
 * signature of the new key.  When the registered subject is a person's name
 * (an organisation's for a seal key)
 * it signs the PKCS#10 request for n (kept as DIR/<purpose>.csr.pem);
 * otherwise a fixed digest of the key id. */
static int proof_of_possession(client *c, bool *wrote_csr)
{
    const sk_device_key *key = cl_key(c);
    const char *subject = sk_device_key_subject(key);
    const char *detail = NULL;
    sk_name *name = NULL;
    sk_pubkey *pub = NULL;
    sk_csr_tbs *tbs = NULL;
    uint8_t digest[32], sig[SK_MAX_SIG_LEN], der[8192];
    size_t sig_len = 0, der_len = 0;
    int rc;

    *wrote_csr = false;
    if (subject != NULL && subject[0] != '\0' &&
        (sk_device_key_purpose(key) == SK_PURPOSE_SEAL
             ? sk_name_parse_legal(&name, &detail, subject)
             : sk_name_parse_person(&name, &detail, subject)) == SK_OK &&
        sk_device_key_pubkey(key, &pub) == SK_OK &&
        sk_csr_tbs_new(&tbs, name, pub, SK_HASH_SHA256) == SK_OK &&
        sk_csr_tbs_digest(tbs, digest, sizeof digest) == SK_OK) {
        /* the request's to-be-signed digest */
    } else {
        sk_csr_tbs_free(tbs);
        tbs = NULL;
        uint8_t data[64] = "splitkey-client proof of possession v1:";
        size_t off = strlen((const char *)data);
        rc = sk_device_key_id(key, data + off, SK_KEY_ID_LEN);
        if (rc == SK_OK)
            rc = sk_digest(digest, sizeof digest, SK_HASH_SHA256, data, off + SK_KEY_ID_LEN);
        if (rc != SK_OK)
            goto out;
    }
    rc = sk_client_sign(c->sk, digest, sizeof digest, SK_HASH_SHA256, SK_SCHEME_PKCS1,
                        "Enrolment: proof of possession", c->pin.digits, c->pin.len, sig,
                        sizeof sig, &sig_len, NULL, &c->status);
    if (rc == SK_OK && tbs != NULL &&
        sk_csr_tbs_finish(tbs, der, sizeof der, &der_len, sig, sig_len) == SK_OK) {
        char *path = devstate_path(&c->st, sk_device_key_purpose(key), "csr.pem");
        if (path != NULL && cu_write_pem(path, "CERTIFICATE REQUEST", der, der_len) == SK_OK)
            *wrote_csr = true;
        free(path);
    }
out:
    sk_csr_tbs_free(tbs);
    sk_pubkey_free(pub);
    sk_name_free(name);
    return rc;
}

/* EnrolInit and EnrolSubmit through the client layer (which answers the
 * server's challenge when an earlier enrolment with this token never
 * finished, and sends a request again when its reply is lost), the new key
 * stored by the layer, then its server URL. */
static int enrol_exchange(client *c, const uint8_t *server_pub, sk_purpose purpose,
                          sk_profile profile, const char *token, const char *subject)
{
    sk_client_enrol_options eo = {
        .server_pub = server_pub, .server_pub_len = SK_SERVER_PUB_LEN, .purpose = purpose,
        .profile = profile, .pin = c->pin.digits, .pin_len = c->pin.len,
        .kdf_cost = SK_KDF_INTERACTIVE, .token = token, .subject = subject};
    int rc = cl_connect_server(c);
    if (rc == SK_OK)
        rc = cl_new_layer(c);
    if (rc == SK_OK) {
        c->enrolling = true;
        rc = sk_client_enrol(c->sk, &eo);
        c->enrolling = false;
    }
    if (rc == SK_OK) {
        rc = devstate_save_server(&c->st, purpose, c->url);
        if (rc != SK_OK)
            snprintf(c->err, sizeof c->err, "cannot write the server URL in %s", c->st.dir);
    }
    return rc;
}

int cmd_enrol(int argc, char **argv)
{
    cmd_opts o = {0};
    sk_opt opts[] = {
        OPT_STATE(o),
        {.name = "server", .type = SK_OPT_URL, .value = &o.server, .flags = SK_OPT_REQUIRED,
         .arg = "URL", .help = "the share server, e.g. tcp://127.0.0.1:7300"},
        {.name = "server-pub", .type = SK_OPT_FILE, .value = &o.server_pub,
         .flags = SK_OPT_REQUIRED, .arg = "FILE",
         .help = "the server's public keys (its server.pub), pinned from now on"},
        OPT_PURPOSE(o),
        OPT_PIN(o),
        {.name = "profile", .type = SK_OPT_STRING, .value = &o.profile, .arg = "4K|6K|8K",
         .help = "key size: n of 4096, 6144 (default) or 8192 bits"},
        {.name = "token-file", .type = SK_OPT_STRING, .value = &o.token_file, .arg = "F",
         .help = "the one-time registration token from the operator (secret: a file, - for "
                 "standard input)"},
        {.name = "token", .type = SK_OPT_STRING, .value = &o.token, .arg = "T",
         .help = "refused: a token on the command line is visible to other users"},
        {.name = "subject", .type = SK_OPT_STRING, .value = &o.subject, .arg = "S",
         .help = "\"C=LV,GN=..,SN=..,serialNumber=PNOLV-..\" or, for a seal, "
                 "\"C=LV,O=..,organizationIdentifier=VATLV-..\" (open enrolment only)"},
        {0},
    };
    int exit_code = CU_EXIT_OK;
    char token[SK_MAX_TOKEN_LEN + 2]; /* secret until used */
    memset(token, 0, sizeof token);
    if (cl_parse(opts, NULL, argc, argv,
                 "enrol --state DIR --server URL --server-pub FILE --purpose auth|sign|seal "
                 "[--pin-file F] [--profile 4K|6K|8K] [--token-file F | --subject S]",
                 "Creates a split key: the device share stays here behind the PIN, the other\n"
                 "share goes to the server once.  The first signature proves possession.",
                 &exit_code) != 0)
        goto done;

    client c;
    memset(&c, 0, sizeof c);
    sk_purpose purpose;
    sk_profile profile = SK_PROFILE_6K;
    sk_server_pub pub;
    uint8_t spub[SK_SERVER_PUB_LEN];
    bool resume = false, wrote_csr = false;
    int rc;

    if ((exit_code = cl_parse_purpose(&purpose, o.purpose)) != 0)
        goto done;
    if (o.profile != NULL && sk_profile_parse(&profile, o.profile) != SK_OK) {
        exit_code = usage_error("--profile %s: use 4K, 6K or 8K", o.profile);
        goto done;
    }
    if (o.token != NULL) {
        exit_code = usage_error("%s", "--token T: a registration token is secret until used; "
                                      "give it with --token-file FILE (or - for standard input)");
        goto done;
    }
    if (o.token_file != NULL && o.subject != NULL) {
        exit_code = usage_error("%s", "give --token-file or --subject, not both");
        goto done;
    }
    if (o.token_file != NULL) {
        char terr[256];
        if (token_read(token, sizeof token, o.token_file, terr, sizeof terr) != SK_OK) {
            exit_code = usage_error("%s", terr);
            goto done;
        }
    }
    if (sk_server_pub_load(&pub, o.server_pub) != SK_OK) {
        exit_code = usage_error("--server-pub %s: not a splitkey server.pub file", o.server_pub);
        goto done;
    }
    memcpy(spub, pub.kx_pub, SK_KX_PUBLIC_LEN);
    memcpy(spub + SK_KX_PUBLIC_LEN, pub.sign_pub, SK_SIGN_PUBLIC_LEN);
    if (sk_init() != SK_OK) {
        fprintf(stderr, PROG ": cannot initialise libsplitkey\n");
        exit_code = CU_EXIT_FAIL;
        goto done;
    }
    rc = cl_open_state(&c, o.state, true);
    if (rc != SK_OK) {
        exit_code = cl_report(&c, rc == SK_SVC_ERR_CONFIG ? rc : SK_SVC_ERR_CONFIG, "state");
        goto end;
    }
    if (devstate_has(&c.st, purpose)) {
        rc = cl_load_key(&c, purpose);
        if (rc != SK_OK) {
            exit_code = cl_report(&c, SK_SVC_ERR_CONFIG, "state");
            goto end;
        }
        sk_key_state ks = sk_device_key_state(cl_key(&c));
        if (ks == SK_KEY_PENDING) {
            resume = true; /* enrolled, proof of possession still to make */
        } else if (ks != SK_KEY_DESTROYED) {
            fprintf(stderr, PROG ": a %s key is already enrolled in %s (revoke it first)\n",
                    devstate_purpose_name(purpose), o.state);
            exit_code = CU_EXIT_FAIL;
            goto end;
        } else {
            cl_drop_key(&c);
        }
    }
    free(c.url);
    c.url = strdup(o.server);
    if (c.url == NULL) {
        exit_code = CU_EXIT_FAIL;
        goto end;
    }

    const char *prompt = purpose == SK_PURPOSE_SIGN   ? "New PIN2 for the signing key: "
                         : purpose == SK_PURPOSE_SEAL ? "New PIN for the seal key: "
                                                      : "New PIN1 for the authentication key: ";
    if (resume)
        prompt = cl_pin_prompt(purpose);
    rc = cl_get_pin(&c, purpose, o.pin_file, prompt);
    if (rc == SK_OK && o.pin_file == NULL && !resume) {
        cu_pin again;
        rc = pin_read(&again, purpose, NULL, "Repeat the PIN: ", c.err, sizeof c.err);
        if (rc == SK_OK && (again.len != c.pin.len ||
                            sk_memequal_ct(again.digits, c.pin.digits, c.pin.len) != 0)) {
            snprintf(c.err, sizeof c.err, "the two PINs differ");
            rc = SK_ERR_ARG;
        }
        pin_wipe(&again);
    }
    if (rc != SK_OK) {
        fprintf(stderr, PROG ": %s\n", c.err);
        exit_code = CU_EXIT_USAGE;
        goto end;
    }

    if (!resume) {
        printf("generating the device share (profile %s: n1 of %u bits) and enrolling at %s\n",
               sk_profile_name(profile), sk_profile_bits(profile), o.server);
        fflush(stdout);
        rc = enrol_exchange(&c, spub, purpose, profile, o.token_file ? token : NULL, o.subject);
        if (rc != SK_OK) {
            exit_code = cl_report(&c, rc, "enrolment");
            goto end;
        }
    } else {
        printf("resuming the enrolment of the %s key: proof of possession\n",
               devstate_purpose_name(purpose));
    }
    rc = cl_connect_server(&c);
    if (rc == SK_OK)
        rc = cl_settle_pending(&c);
    if (rc == SK_OK)
        rc = proof_of_possession(&c, &wrote_csr);
    if (rc != SK_OK) {
        exit_code = cl_report(&c, rc, "proof of possession");
        if (exit_code != CU_EXIT_DESTROYED)
            fprintf(stderr, PROG ": the key is enrolled but not active; run enrol again to "
                            "finish\n");
        goto end;
    }

    uint8_t key_id[SK_KEY_ID_LEN];
    char hex[2 * SK_KEY_ID_LEN + 1];
    sk_pubkey *pk = NULL;
    unsigned bits = 0;
    if (sk_device_key_id(cl_key(&c), key_id, sizeof key_id) == SK_OK)
        cu_hex(hex, key_id, sizeof key_id);
    else
        snprintf(hex, sizeof hex, "?");
    if (sk_device_key_pubkey(cl_key(&c), &pk) == SK_OK)
        bits = sk_pubkey_bits(pk);
    sk_pubkey_free(pk);
    uint8_t certbuf[1];
    size_t cert_len = 0;
    int crc = sk_device_key_certificate(cl_key(&c), certbuf, 0, &cert_len);
    (void)crc;
    printf("enrolled the %s key\n"
           "  key id:      %s\n"
           "  public key:  RSA, n of %u bits (e = 65537)\n"
           "  subject:     %s\n"
           "  state:       %s\n"
           "  certificate: %s\n",
           devstate_purpose_name(purpose), hex, bits,
           sk_device_key_subject(cl_key(&c))[0] ? sk_device_key_subject(cl_key(&c)) : "(none)",
           cl_state_name(sk_device_key_state(cl_key(&c))),
           cert_len ? "stored" : "none (the server issued none)");
    if (wrote_csr) {
        char *p = devstate_path(&c.st, purpose, "csr.pem");
        printf("  request:     %s (PKCS#10, signed as the proof of possession)\n", p ? p : "");
        free(p);
    }
    exit_code = CU_EXIT_OK;
end:
    if (exit_code != CU_EXIT_OK && c.st_open)
        devstate_discard_new(&c.st);
    cl_end(&c);
done:
    sodium_memzero(token, sizeof token);
    sk_config_free(opts);
    return exit_code;
}
