/* ctime_test.c - constant-time check of the signing paths (SPEC 6).
 *
 * Run under valgrind's memcheck.  The program marks every secret input as
 * undefined memory (a client request; memcheck then tracks everything
 * computed from it) and runs the code that handles it.  memcheck reports a
 * conditional jump or a memory address that depends on undefined bits, so a
 * clean run means no branch and no memory index in those paths depends on a
 * secret.  Values that are public by design (the yes/no of each signature
 * check, the device's partial signature y) are declassified inside the
 * library with SK_DECLASSIFY; the signature is declassified here once
 * sk_server_complete() has released it.
 *
 * Paths covered, each with its secrets undefined:
 *   unwrap    sk_client_share_unwrap: the PIN and the wrapped ciphertext
 *             (then the partial signature with the dc derived from them)
 *   partial   sk_device_partial: the share's dc limbs
 *   server    the server's per-request path from the stored bytes to the
 *             released signature: sk_server_key_import of the serialised key
 *             with its secret bytes undefined (p2, q2, dp, dq, qinv), then
 *             sk_server_share_new with the bytes of ds undefined, then
 *             sk_server_complete on the result; and the refusals on that path
 *             (a stored key with one bit flipped in any field, ds >= n1)
 *   complete  sk_server_complete: ds, p2, q2, dp, dq, qinv limbs; accepted
 *             partial, rejected partial (wrong PIN) and an injected CRT fault
 *   crt       sk_math_crt_sign: p2, q2, dp, dq, qinv limbs
 *
 * Modes (first argument):
 *   check        the checks above; exit 0 when every functional CHECK held
 *   leak-branch  deliberately branches on a secret byte (early-exit compare)
 *   leak-index   deliberately reads a table at a secret index
 * The leak modes exist to show that the check can fail: run under valgrind
 * they must make it report an error.  A second argument sets the share size
 * k in bits (default 1024).  With --require-valgrind the program fails when it
 * is not running under valgrind, so a ctest entry cannot pass vacuously.
 *
 * Outside valgrind every client request is a no-op and "check" is an
 * ordinary functional test (it also runs that way in the sanitizer build). */
#include <stdlib.h>
#include <string.h>
#include <valgrind/memcheck.h>

#include "internal.h"
#include "testutil.h"

#define SECRET(p, len) ((void)VALGRIND_MAKE_MEM_UNDEFINED((p), (len)))
#define PUBLIC(p, len) ((void)VALGRIND_MAKE_MEM_DEFINED((p), (len)))

static const uint8_t PIN[] = "27182";
#define PIN_LEN 5u

typedef struct fixture {
    unsigned k;
    size_t k8;
    sk_scheme scheme;
    uint8_t *n1, *wrapped, *em, *y_ref;
    uint8_t *ds, *skey; /* ds and the serialised server key, as stored */
    size_t skey_len;
    uint8_t digest[32];
    sk_server_key *key;
    sk_server_share *ss;
    sk_pubkey *pub;
} fixture;

static void sec_secret(const sk_sec *x) { SECRET(x->d, (size_t)x->n * sizeof(mp_limb_t)); }
static void sec_public(const sk_sec *x) { PUBLIC(x->d, (size_t)x->n * sizeof(mp_limb_t)); }

/* The one exception on the server's side (doc/security.md, "Constant time"):
 * when p2 or q2 is the modulus, GMP's mpn_sec_div_r (also inside
 * mpn_sec_powm) branches on the leading-zero count of the divisor's top limb
 * and inverts that limb with a table lookup indexed by its top 9 bits, and
 * mpn_sec_powm looks up an inverse table indexed by bits 1-7 of the low limb.
 * So the top two bytes and the low byte of p2 and q2 stay defined; every other
 * byte of them, and all of dp, dq and qinv, are secret. */
static void prime_secret(const sk_sec *x)
{
    size_t len = (size_t)x->n * sizeof(mp_limb_t);
    uint8_t *b = (uint8_t *)x->d;
    SECRET(b, len);
    PUBLIC(b, 1);                               /* low byte of the low limb */
    PUBLIC(b + len - 2, 2);                     /* top two bytes of the top limb */
}

static void key_mark(const sk_server_key *key, void (*mark)(const sk_sec *))
{
    mark(&key->p);
    mark(&key->q);
    mark(&key->dp);
    mark(&key->dq);
    mark(&key->qinv);
}

static void key_secret(const sk_server_key *key)
{
    key_mark(key, sec_secret);
    prime_secret(&key->p);
    prime_secret(&key->q);
}

/* The same for the serialised key "SKS2" | k | p2 | q2 | dp | dq | qinv
 * (big-endian, k/16 bytes each): the header is public, the five fields are
 * secret but for the bytes of the exception above (the first two and the last
 * byte of p2 and of q2). */
static void blob_secret(uint8_t *blob, unsigned k)
{
    size_t half = k / 16;
    uint8_t *p = blob + 6, *q = p + half;
    SECRET(p, 5 * half);
    PUBLIC(p, 2);
    PUBLIC(p + half - 1, 1);
    PUBLIC(q, 2);
    PUBLIC(q + half - 1, 1);
}

/* Keys from a DRBG (all public to memcheck while they are made: key
 * generation is outside the constant-time claim, see doc/security.md). */
static int fixture_init(fixture *f, unsigned k, sk_scheme scheme)
{
    memset(f, 0, sizeof *f);
    f->k = k;
    f->k8 = k / 8;
    f->scheme = scheme;
    f->n1 = malloc(f->k8);
    f->y_ref = malloc(f->k8);
    f->wrapped = malloc(SK_WRAPPED_LEN(k));
    f->em = malloc(2 * f->k8);
    f->skey_len = SK_SERVER_KEY_LEN(k);
    f->skey = malloc(f->skey_len);
    uint8_t *ds = f->ds = malloc(f->k8);
    sk_client_share *cs = NULL;
    sk_drbg drbg;
    sk_drbg_init(&drbg, (const uint8_t *)"ctime", 5);
    int ok = 0;
    if (f->n1 == NULL || f->y_ref == NULL || f->wrapped == NULL || f->em == NULL ||
        f->skey == NULL || ds == NULL)
        goto out;
    CHECK_OK(sk_client_keygen_rng(&cs, ds, f->k8, k, &drbg.rng));
    CHECK_OK(sk_server_keygen_rng(&f->key, k, &drbg.rng));
    if (cs == NULL || f->key == NULL)
        goto out;
    CHECK_OK(sk_server_key_export(f->key, f->skey, f->skey_len));
    CHECK_OK(sk_client_share_modulus(cs, f->n1, f->k8));
    CHECK_OK(sk_client_share_wrap_rng(cs, f->wrapped, SK_WRAPPED_LEN(k), PIN, PIN_LEN,
                                      SK_KDF_MINIMUM, &drbg.rng));
    CHECK_OK(sk_server_share_new(&f->ss, f->n1, f->k8, ds, f->k8, f->key));
    if (f->ss == NULL)
        goto out;
    CHECK_OK(sk_server_share_pubkey(f->ss, &f->pub));
    CHECK_OK(sk_digest(f->digest, 32, SK_HASH_SHA256, (const uint8_t *)"ctime", 5));
    uint8_t salt[32];
    for (size_t i = 0; i < sizeof salt; i++)
        salt[i] = (uint8_t)(0xa5 ^ i);
    int src = sk_encode(f->em, 2 * f->k8, scheme, SK_HASH_SHA256, f->digest, 32,
                        scheme == SK_SCHEME_PSS ? salt : NULL,
                        scheme == SK_SCHEME_PSS ? sizeof salt : 0, 2 * k);
    CHECK_OK(src);
    /* The reference partial signature, computed with nothing marked. */
    CHECK_OK(sk_device_partial(cs, f->y_ref, f->k8, f->em, 2 * f->k8));
    ok = f->pub != NULL && src == SK_OK && sk_test_failures == 0;
out:
    sk_client_share_free(cs);
    sk_drbg_wipe(&drbg);
    return ok;
}

static void fixture_free(fixture *f)
{
    sk_server_share_free(f->ss);
    sk_server_key_free(f->key);
    sk_pubkey_free(f->pub);
    if (f->ds != NULL)
        sk_wipe(f->ds, f->k8);
    if (f->skey != NULL)
        sk_wipe(f->skey, f->skey_len);
    free(f->ds);
    free(f->skey);
    free(f->n1);
    free(f->y_ref);
    free(f->wrapped);
    free(f->em);
}

/* sk_client_share_unwrap with the PIN and the ciphertext undefined, then the
 * partial signature with the dc that came out of it. */
static void check_unwrap(fixture *f)
{
    size_t wlen = SK_WRAPPED_LEN(f->k);
    uint8_t *w = malloc(wlen), *y = malloc(f->k8);
    uint8_t pin[PIN_LEN];
    sk_client_share *cs = NULL;
    if (w == NULL || y == NULL) {
        CHECK(0);
        goto out;
    }
    memcpy(w, f->wrapped, wlen);
    memcpy(pin, PIN, PIN_LEN);
    SECRET(pin, PIN_LEN);
    SECRET(w + SK_WRAP_HEADER_LEN, wlen - SK_WRAP_HEADER_LEN);
    CHECK_OK(sk_client_share_unwrap(&cs, w, wlen, f->n1, f->k8, pin, PIN_LEN));
    if (cs != NULL) {
        CHECK_OK(sk_device_partial(cs, y, f->k8, f->em, 2 * f->k8));
        CHECK(memcmp(y, f->y_ref, f->k8) == 0); /* y is declassified by the library */
    }
out:
    PUBLIC(pin, PIN_LEN);
    sk_wipe(pin, PIN_LEN);
    sk_client_share_free(cs);
    free(w);
    free(y);
}

/* sk_device_partial with the share's dc undefined. */
static void check_partial(fixture *f)
{
    uint8_t *y = malloc(f->k8);
    sk_client_share *cs = NULL;
    CHECK(y != NULL);
    CHECK_OK(sk_client_share_unwrap(&cs, f->wrapped, SK_WRAPPED_LEN(f->k), f->n1, f->k8, PIN,
                                    PIN_LEN));
    if (cs != NULL && y != NULL) {
        sec_secret(&cs->dc);
        CHECK_OK(sk_device_partial(cs, y, f->k8, f->em, 2 * f->k8));
        CHECK(memcmp(y, f->y_ref, f->k8) == 0);
    }
    sk_client_share_free(cs);
    free(y);
}

static void flip_one_bit(mp_limb_t *s2, mp_size_t n)
{
    (void)n;
    s2[0] ^= 4;
}

/* What the server does per sign or revoke request (complete() in
 * src/protocol/server/handle.c), from the stored bytes: import the serialised
 * server key, build the share from n1 and ds, complete the signature.  The
 * secret bytes of the key and of ds are undefined from the start, so
 * everything computed from them on the way is checked; only the yes/no of the
 * import checks, n2 once the key is accepted, the yes/no of ds < n1 and the
 * yes/no of the three signature checks are declassified, by the library. */
static void check_server(fixture *f)
{
    size_t sl = 2 * f->k8, half = f->k / 16;
    uint8_t *blob = malloc(f->skey_len), *ds = malloc(f->k8), *sig = malloc(sl);
    sk_server_key *key = NULL;
    sk_server_share *ss = NULL;
    if (blob == NULL || ds == NULL || sig == NULL) {
        CHECK(0);
        goto out;
    }
    memcpy(blob, f->skey, f->skey_len);
    memcpy(ds, f->ds, f->k8);
    blob_secret(blob, f->k);
    SECRET(ds, f->k8);
    CHECK_OK(sk_server_key_import(&key, blob, f->skey_len));
    if (key != NULL)
        CHECK_OK(sk_server_share_new(&ss, f->n1, f->k8, ds, f->k8, key));
    if (ss != NULL) {
        CHECK_OK(sk_server_complete(ss, sig, sl, f->y_ref, f->k8, f->em, sl));
        PUBLIC(sig, sl); /* released: the signature is public from here on */
        CHECK_OK(sk_verify(f->pub, f->scheme, SK_HASH_SHA256, f->digest, 32, sig, sl));
        /* A wrong PIN, on the share just built. */
        uint8_t *y = malloc(f->k8);
        if (y != NULL) {
            memcpy(y, f->y_ref, f->k8);
            y[f->k8 / 3] ^= 0x04;
            CHECK_RC(SK_ERR_PARTIAL_INVALID,
                     sk_server_complete(ss, sig, sl, y, f->k8, f->em, sl));
        }
        free(y);
    }
    sk_server_share_free(ss);
    ss = NULL;

    /* ds >= n1 is refused (the comparison is constant time), with the same
     * imported key. */
    memcpy(ds, f->n1, f->k8);
    SECRET(ds, f->k8);
    if (key != NULL)
        CHECK_RC(SK_ERR_BAD_VALUE, sk_server_share_new(&ss, f->n1, f->k8, ds, f->k8, key));
    CHECK(ss == NULL);
    sk_server_key_free(key);
    key = NULL;

    /* A stored key with one bit flipped is refused, whichever field it is in,
     * without a branch on anything but the final yes/no. */
    for (size_t field = 0; field < 5; field++) {
        memcpy(blob, f->skey, f->skey_len);
        blob[6 + field * half + half / 2] ^= 0x08;
        blob_secret(blob, f->k);
        CHECK_RC(SK_ERR_KEY_FORMAT, sk_server_key_import(&key, blob, f->skey_len));
        CHECK(key == NULL);
    }
out:
    if (blob != NULL)
        sk_wipe(blob, f->skey_len);
    if (ds != NULL)
        sk_wipe(ds, f->k8);
    free(blob);
    free(ds);
    free(sig);
}

/* sk_server_complete with ds and the server key's secrets undefined: the
 * accepted path, a rejected partial (what a wrong PIN gives) and a CRT fault. */
static void check_complete(fixture *f)
{
    size_t sl = 2 * f->k8;
    uint8_t *sig = malloc(sl), *y = malloc(f->k8);
    if (sig == NULL || y == NULL) {
        CHECK(0);
        goto out;
    }
    sec_secret(&f->ss->ds);
    key_secret(&f->ss->key);

    CHECK_OK(sk_server_complete(f->ss, sig, sl, f->y_ref, f->k8, f->em, sl));
    PUBLIC(sig, sl); /* released: the signature is public from here on */
    CHECK_OK(sk_verify(f->pub, f->scheme, SK_HASH_SHA256, f->digest, 32, sig, sl));

    memcpy(y, f->y_ref, f->k8);
    y[f->k8 / 2] ^= 0x20;
    CHECK_RC(SK_ERR_PARTIAL_INVALID, sk_server_complete(f->ss, sig, sl, y, f->k8, f->em, sl));

    sk_test_fault_hook = flip_one_bit;
    CHECK_RC(SK_ERR_FAULT, sk_server_complete(f->ss, sig, sl, f->y_ref, f->k8, f->em, sl));
    sk_test_fault_hook = NULL;

    sec_public(&f->ss->ds);
    key_mark(&f->ss->key, sec_public);
out:
    free(sig);
    free(y);
}

/* sk_math_crt_sign alone, with p2, q2, dp, dq and qinv undefined. */
static void check_crt(fixture *f)
{
    sk_sec s2 = {0};
    mpz_t m, t;
    mpz_inits(m, t, NULL);
    sk_mpz_from_bytes(m, f->em, 2 * f->k8);
    CHECK_OK(sk_sec_alloc(&s2, (mp_size_t)mpz_size(f->key->n2)));
    if (s2.d != NULL) {
        key_secret(f->key);
        CHECK_OK(sk_math_crt_sign(&s2, m, f->key, SK_E));
        key_mark(f->key, sec_public);
        sec_public(&s2); /* compared below only to prove the result right */
        sk_sec_to_mpz(t, &s2);
        mpz_powm_ui(t, t, SK_E, f->key->n2);
        mpz_mod(m, m, f->key->n2);
        CHECK(mpz_cmp(t, m) == 0);
    }
    sk_sec_free(&s2);
    mpz_clears(m, t, NULL);
}

/* ---- deliberate leaks: these must make valgrind report an error ---- */

/* The classic mistake: a comparison that stops at the first difference. */
static __attribute__((noinline)) int naive_equal(const uint8_t *a, const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i])
            return 0;
    return 1;
}

static int leak_branch(void)
{
    uint8_t pin[PIN_LEN];
    memcpy(pin, PIN, PIN_LEN);
    SECRET(pin, PIN_LEN);
    int eq = naive_equal(pin, PIN, PIN_LEN);
    PUBLIC(&eq, sizeof eq); /* only the branches inside may be reported */
    printf("leak-branch: compared a secret PIN with an early exit (%d)\n", eq);
    return 0;
}

static int leak_index(void)
{
    static uint8_t table[256];
    for (size_t i = 0; i < sizeof table; i++)
        table[i] = (uint8_t)(i * 13 + 1);
    uint8_t pin[PIN_LEN];
    memcpy(pin, PIN, PIN_LEN);
    SECRET(pin, PIN_LEN);
    volatile uint8_t v = table[pin[0]];
    uint8_t out = v;
    PUBLIC(&out, sizeof out);
    printf("leak-index: read a table at a secret index (%u)\n", (unsigned)out);
    return 0;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "check";
    unsigned k = 1024;
    int require_vg = 0;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--require-valgrind") == 0)
            require_vg = 1;
        else
            k = (unsigned)strtoul(argv[i], NULL, 10);
    }
    if (require_vg && !RUNNING_ON_VALGRIND) {
        fprintf(stderr, "ctime_test: not running under valgrind\n");
        return 1;
    }
    sk_test_init();
    if (strcmp(mode, "leak-branch") == 0)
        return leak_branch();
    if (strcmp(mode, "leak-index") == 0)
        return leak_index();
    if (strcmp(mode, "check") != 0 || k < 512 || k % 128 != 0) {
        fprintf(stderr, "usage: ctime_test [check|leak-branch|leak-index] [k] "
                        "[--require-valgrind]\n");
        return 2;
    }

    static const sk_scheme schemes[] = {SK_SCHEME_PKCS1, SK_SCHEME_PSS};
    for (size_t i = 0; i < 2; i++) {
        fixture f;
        if (fixture_init(&f, k, schemes[i])) {
            check_unwrap(&f);
            check_partial(&f);
            check_server(&f);
            check_complete(&f);
            check_crt(&f);
        }
        fixture_free(&f);
    }
    return sk_test_done("ctime_test");
}
