/* SPDX-License-Identifier: Apache-2.0 */
/* test_wycheproof_verify.c - Wycheproof RSASSA-PKCS1-v1_5 and RSASSA-PSS
 * verification vectors through sk_verify_ex (and sk_verify where the group's
 * parameters are the public API's: MGF hash = hash, salt length = hLen).
 *
 *   valid       must verify
 *   invalid     must be rejected with SK_ERR_VERIFY
 *   acceptable  (PKCS1 MissingNull: DigestInfo without its NULL) must be
 *               rejected: the verifier compares against the one DER encoding
 *
 * Cases whose hash or MGF hash we lack are skipped and counted; the test
 * fails if everything was skipped or if checked + skipped falls short of the
 * number of tests the files declare.
 *
 * Usage: test_wycheproof_verify DATAFILE */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "testutil.h"
#include "wpdata.h"

typedef struct group {
    int active;       /* a key line was read */
    sk_pubkey *key;   /* NULL when the key failed to import */
    int usable;       /* hashes known */
    sk_scheme scheme;
    sk_hash hash, mgf_hash;
    size_t salt_len;
    int public_api;   /* sk_verify applies too */
} group;

static long checked, skipped, valid_ok, invalid_ok, acceptable_rejected, public_checked;

static void start_group(group *g, char **f, int n)
{
    sk_pubkey_free(g->key);
    memset(g, 0, sizeof *g);
    g->active = 1;
    CHECK(n == 6);
    if (n != 6)
        return;
    g->scheme = strcmp(f[1], "pss") == 0 ? SK_SCHEME_PSS : SK_SCHEME_PKCS1;
    CHECK(strcmp(f[1], "pss") == 0 || strcmp(f[1], "pkcs1") == 0);
    g->usable = wp_hash(&g->hash, f[2]) == 0;
    if (g->scheme == SK_SCHEME_PSS) {
        g->usable = g->usable && wp_hash(&g->mgf_hash, f[3]) == 0;
        g->salt_len = (size_t)strtoul(f[4], NULL, 10);
    } else {
        g->mgf_hash = g->hash;
    }
    g->public_api = g->usable &&
                    (g->hash == SK_HASH_SHA256 || g->hash == SK_HASH_SHA384 ||
                     g->hash == SK_HASH_SHA512) &&
                    (g->scheme == SK_SCHEME_PKCS1 ||
                     (g->mgf_hash == g->hash && g->salt_len == sk_hash_len(g->hash)));
    uint8_t *der;
    long der_len = wp_bytes(&der, f[5]);
    CHECK(der_len > 0);
    if (der_len > 0)
        CHECK_OK(sk_pubkey_import(&g->key, der, (size_t)der_len));
    free(der);
}

static int has_flag(const char *flags, const char *flag)
{
    size_t fl = strlen(flag);
    for (const char *p = flags; (p = strstr(p, flag)) != NULL; p += fl)
        if ((p == flags || p[-1] == ',') && (p[fl] == ',' || p[fl] == '\0'))
            return 1;
    return 0;
}

static void run_case(const group *g, const char *file, char **f, int n)
{
    CHECK(n == 6);
    if (n != 6)
        return;
    if (!g->usable) {
        skipped++;
        return;
    }
    const char *tcid = f[1], *result = f[2], *flags = f[5];
    uint8_t *msg = NULL, *sig = NULL;
    long msg_len = wp_bytes(&msg, f[3]), sig_len = wp_bytes(&sig, f[4]);
    CHECK(msg_len >= 0 && sig_len >= 0);
    CHECK(g->key != NULL);
    if (msg_len < 0 || sig_len < 0 || g->key == NULL)
        goto out;

    uint8_t digest[SK_MAX_HASH_LEN];
    size_t hlen = sk_hash_len_internal(g->hash);
    CHECK_OK(sk_hash_compute(g->hash, digest, msg, (size_t)msg_len));
    int rc = sk_verify_ex(g->key, g->scheme, g->hash, g->mgf_hash, g->salt_len, digest, hlen, sig,
                          (size_t)sig_len);
    int want;
    if (strcmp(result, "valid") == 0) {
        want = SK_OK;
    } else if (strcmp(result, "invalid") == 0) {
        want = SK_ERR_VERIFY;
    } else {
        /* The only acceptable cases in these files are PKCS1 signatures
         * without the NULL parameter; the strict verifier refuses them. */
        CHECK(strcmp(result, "acceptable") == 0);
        CHECK(g->scheme == SK_SCHEME_PKCS1 && has_flag(flags, "MissingNull"));
        want = SK_ERR_VERIFY;
    }
    checked++;
    sk_test_checks++;
    if (rc == want) {
        if (want == SK_OK)
            valid_ok++;
        else if (strcmp(result, "invalid") == 0)
            invalid_ok++;
        else
            acceptable_rejected++;
    } else {
        sk_test_failures++;
        fprintf(stderr, "%s tcId %s (%s, flags %s): got %d (%s), expected %d\n", file, tcid,
                result, flags, rc, sk_strerror(rc), want);
    }
    if (g->public_api) {
        int rc2 = sk_verify(g->key, g->scheme, g->hash, digest, hlen, sig, (size_t)sig_len);
        CHECK(rc2 == rc);
        public_checked++;
    }
out:
    free(msg);
    free(sig);
}

int main(int argc, char **argv)
{
    sk_test_init();
    if (argc != 2) {
        fprintf(stderr, "usage: %s DATAFILE\n", argv[0]);
        return 1;
    }
    wp_reader r;
    if (wp_open(&r, argv[1]) != 0)
        return 1;
    char *f[WP_MAX_FIELDS];
    char file[256] = "?";
    group g = {0};
    long cases = 0;
    int n;
    while ((n = wp_next(&r, f)) > 0) {
        if (strcmp(f[0], "file") == 0) {
            snprintf(file, sizeof file, "%s", f[1]);
            sk_pubkey_free(g.key);
            memset(&g, 0, sizeof g);
        } else if (strcmp(f[0], "key") == 0) {
            start_group(&g, f, n);
        } else if (strcmp(f[0], "case") == 0) {
            cases++;
            CHECK(g.active);
            if (g.active)
                run_case(&g, file, f, n);
        }
    }
    sk_pubkey_free(g.key);

    printf("wycheproof verify: %ld declared, %ld cases, %ld checked (%ld valid accepted, %ld "
           "invalid rejected, %ld acceptable rejected), %ld also through sk_verify, "
           "%ld skipped (hash not supported)\n",
           r.declared, cases, checked, valid_ok, invalid_ok, acceptable_rejected, public_checked,
           skipped);
    CHECK(r.missing == 0);
    CHECK(r.end_total == cases);
    CHECK(checked > 0 && skipped < cases);
    CHECK(cases == r.declared);
    CHECK(checked >= r.declared - skipped);
    CHECK(valid_ok > 0 && invalid_ok > 0 && acceptable_rejected > 0);
    wp_close(&r);
    return sk_test_done("test_wycheproof_verify");
}
