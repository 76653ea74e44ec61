/* SPDX-License-Identifier: Apache-2.0 */
/* ctime_test.c - constant-time check of the signing paths.
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
 *   handler   sk_server_handle_device on real requests made by the device
 *             role, in the test world of tests/protocol (key and session
 *             store, routing, a charged PIN check handed in again): the
 *             stored secrets of the key record (ds, and the serialised server
 *             key's p2, q2, dp, dq, qinv, with the exception above) are
 *             undefined on every request after enrolment; an accepted
 *             approval, a wrong PIN (counted) and a clone verdict.  Replies
 *             and stored public records that carry no signature must come out
 *             fully defined; the ones that carry the released signature are
 *             declassified as the handler returns (4K profile at every k)
 *
 * Modes (first argument):
 *   check         the checks above; exit 0 when every functional CHECK held
 *   leak-branch   deliberately branches on a secret byte (early-exit compare)
 *   leak-index    deliberately reads a table at a secret index
 *   leak-handler  the handler path with the stored server key's header marked
 *                 secret too: the handler reads it (format, profile), so a
 *                 report must name sk_server_handle_device
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
#ifdef SK_CTIME_HANDLER
#include "world.h"
#endif

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

#ifdef SK_CTIME_HANDLER
/* ---- the server's device-request handler, from the stored records ---- */

static uint8_t hmsg[SK_MAX_MESSAGE_LEN], hreply[SK_MAX_MESSAGE_LEN];

/* The key's stored secrets (sk_key_rec_export_secrets(): "SKR1" | ds length
 * (2) | ds | server key length (2) | serialised server key), as the service
 * unseals them and imports them with the record for every request: ds is
 * secret, the server key as in blob_secret(), the lengths and the server
 * key's header are public.  With header (leak-handler) the header is marked
 * as well: the handler reads it, so that must be reported. */
static void stored_secrets_secret(w_key *k, bool header)
{
    /* The layout is read from the public bytes (public again here, should an
     * earlier call have marked the header). */
    PUBLIC(k->sec, 6);
    size_t ds_len = (size_t)k->sec[4] << 8 | k->sec[5];
    CHECK(k->sec_len >= 6 + ds_len + 2 + 6);
    if (k->sec_len < 6 + ds_len + 2 + 6)
        return;
    uint8_t *skey = k->sec + 6 + ds_len + 2;
    size_t skey_len = k->sec_len - (6 + ds_len + 2);
    PUBLIC(skey - 2, 2 + 6);
    unsigned bits = (unsigned)skey[4] << 8 | skey[5];
    CHECK(ds_len == bits / 8 && skey_len == SK_SERVER_KEY_LEN(bits));
    if (ds_len != bits / 8 || skey_len != SK_SERVER_KEY_LEN(bits))
        return;
    SECRET(k->sec + 6, ds_len);
    blob_secret(skey, bits);
    if (header)
        SECRET(skey, 6);
}

/* One device request through the world's server (routing, loading the
 * records, handling, storing them, and a charged PIN check handed in again),
 * with the key's stored secrets undefined.  Every record the handler returns
 * is stored through sk_key_rec_export_secrets(), a copy, so the secrets stay
 * undefined from one request (or pass) to the next. */
static int serve(world *w, const uint8_t *key_id, bool header, size_t msg_len, size_t *reply_len)
{
    w_key *k = world_key(w, key_id);
    CHECK(k != NULL);
    if (k != NULL && k->sec_len > 0)
        stored_secrets_secret(k, header);
    return world_device(w, hmsg, msg_len, hreply, reply_len);
}

/* Nothing was released: the reply and every public record in the store must
 * be fully defined, i.e. no byte computed from a secret reaches the wire or
 * the clear part of the store (valgrind reports any undefined byte). */
static void released_nothing(const world *w, size_t reply_len)
{
    CHECK(VALGRIND_CHECK_MEM_IS_DEFINED(hreply, reply_len) == 0);
    for (int i = 0; i < w->nkeys; i++)
        CHECK(VALGRIND_CHECK_MEM_IS_DEFINED(w->keys[i].rec, w->keys[i].rec_len) == 0);
    for (int i = 0; i < w->nsessions; i++)
        CHECK(VALGRIND_CHECK_MEM_IS_DEFINED(w->sessions[i].rec, w->sessions[i].rec_len) == 0);
}

/* An accepted approval: the handler released the signature, which is public
 * from that moment (it goes to the device and to the relying party).  It is
 * in the reply, in the completed session and, sealed, in the reply the key
 * record keeps for a resend; the handler's return is the first point where
 * the caller holds them, so they are declassified here, before the device
 * opens the reply and the store reads the records back.  (The stored secrets
 * are not touched: they stay undefined.) */
static void released_signature(const world *w, size_t reply_len)
{
    PUBLIC(hreply, reply_len);
    for (int i = 0; i < w->nkeys; i++)
        PUBLIC(w->keys[i].rec, w->keys[i].rec_len);
    for (int i = 0; i < w->nsessions; i++)
        PUBLIC(w->sessions[i].rec, w->sessions[i].rec_len);
}

/* The relying party opens a session over a digest of text; the device
 * fetches it and approves it with pin.  Returns what the device read from
 * the reply to its approval (the signature into sig). */
static int handler_approve(world *w, sk_device_key *key, const uint8_t *key_id, bool header,
                           const char *text, const char *pin, uint8_t *sig, size_t *sig_len,
                           sk_key_status *st)
{
    uint8_t digest[32], sid[SK_SESSION_ID_LEN];
    size_t len = 0, rlen = 0;
    sk_device_session *s = NULL;
    memset(st, 0, sizeof *st);
    CHECK_OK(sk_digest(digest, sizeof digest, SK_HASH_SHA256, (const uint8_t *)text,
                       strlen(text)));
    CHECK_OK(world_rp_create(w, key, digest, SK_HASH_SHA256, SK_SCHEME_PSS, sid, NULL));
    int rc = sk_device_fetch(key, hmsg, sizeof hmsg, &len, w->now);
    if (rc == SK_OK)
        rc = serve(w, key_id, header, len, &rlen);
    if (rc == SK_OK) {
        released_nothing(w, rlen);
        rc = sk_device_read_session(key, &s, st, hreply, rlen);
    }
    if (rc == SK_OK)
        rc = sk_device_approve(key, hmsg, sizeof hmsg, &len, w->now, s, (const uint8_t *)pin,
                               strlen(pin));
    sk_device_session_free(s);
    if (rc == SK_OK)
        rc = serve(w, key_id, header, len, &rlen);
    if (rc == SK_OK) {
        CHECK(w->charges == 1); /* charged, then decided */
        /* The status is the outcome right/wrong, public by design (the
         * library declassifies it): a branch on it must not be reported. */
        if (w->status == SK_OK)
            released_signature(w, rlen);
        else
            released_nothing(w, rlen);
        rc = sk_device_read_signature(key, sig, SK_MAX_SIG_LEN, sig_len, st, hreply, rlen);
    }
    return rc;
}

/* A copy of the device state, as a thief who copied the phone's storage
 * would hold it. */
static sk_device_key *device_copy(const sk_device_key *key)
{
    static const uint8_t skey[SK_STORAGE_KEY_LEN] = {7, 1, 8, 2, 8};
    size_t len = 0;
    sk_device_key *c = NULL;
    CHECK_OK(sk_device_key_seal(key, hmsg, sizeof hmsg, &len, skey, sizeof skey));
    CHECK_OK(sk_device_key_open(&c, hmsg, len, skey, sizeof skey));
    return c;
}

/* The key's state in the store, as of now. */
static sk_key_status stored_status(world *w, const uint8_t *key_id)
{
    sk_key_status st;
    memset(&st, 0, sizeof st);
    sk_key_rec *rec = world_key_record(w, key_id);
    CHECK(rec != NULL);
    if (rec != NULL)
        sk_key_rec_status(rec, &st, &w->policy, w->now);
    sk_key_rec_free(rec);
    return st;
}

/* sk_server_handle_device with the stored secrets undefined (header: see
 * stored_secrets_secret()).  The key is enrolled (with its proof of
 * possession) with nothing marked: key generation and enrolment are outside
 * the constant-time claim.  Then, with the secrets undefined on every
 * request: an accepted approval, an approval with a wrong PIN, and a clone
 * verdict (a copy of the device state makes a request; the original's next
 * one is a second holder's).  With header only the accepted approval runs. */
static void check_handler(bool header)
{
    world *w = world_new();
    sk_device_key *key = NULL, *copy = NULL;
    sk_pubkey *pub = NULL;
    sk_device_session *s = NULL;
    sk_key_status st;
    uint8_t kid[SK_KEY_ID_LEN], digest[32], sig[SK_MAX_SIG_LEN];
    size_t sig_len = 0, len = 0, rlen = 0;

    CHECK_OK(world_enrol(w, &key, SK_PROFILE_4K, SK_PURPOSE_SIGN, PIN_SIGN, NULL, true));
    if (key == NULL)
        goto out;
    CHECK_OK(sk_device_key_id(key, kid, sizeof kid));
    CHECK_OK(sk_device_key_pubkey(key, &pub));

    /* Accepted: the signature comes back and verifies. */
    w->now += 10;
    CHECK_OK(handler_approve(w, key, kid, header, "contract 1", PIN_SIGN, sig, &sig_len, &st));
    CHECK(w->status == SK_OK && sig_len == SK_SIG_LEN(SK_PROFILE_4K));
    CHECK_OK(sk_digest(digest, sizeof digest, SK_HASH_SHA256, (const uint8_t *)"contract 1", 10));
    if (pub != NULL)
        CHECK_OK(sk_verify(pub, SK_SCHEME_PSS, SK_HASH_SHA256, digest, sizeof digest, sig,
                           sig_len));
    if (header)
        goto out;

    /* A wrong PIN: refused, and the attempt counted. */
    uint32_t left = stored_status(w, kid).attempts_left;
    w->now += 10;
    CHECK_RC(SK_ERR_WRONG_PIN,
             handler_approve(w, key, kid, false, "contract 2", "54321", sig, &sig_len, &st));
    CHECK(w->status == SK_ERR_WRONG_PIN);
    CHECK(left > 1 && st.attempts_left == left - 1);
    CHECK(stored_status(w, kid).attempts_left == left - 1);

    /* A clone: the copy asks for its sessions (answered as any fetch), then
     * the original's next request carries a one-time password the copy used
     * up.  The key is destroyed and its secrets deleted. */
    copy = device_copy(key);
    if (copy == NULL)
        goto out;
    w->now += 10;
    CHECK_OK(sk_device_fetch(copy, hmsg, sizeof hmsg, &len, w->now));
    CHECK_OK(serve(w, kid, false, len, &rlen));
    CHECK(w->status == SK_OK);
    released_nothing(w, rlen);
    CHECK_OK(sk_device_read_session(copy, &s, &st, hreply, rlen)); /* contract 2 waits */
    sk_device_session_free(s);
    s = NULL;
    w->now += 10;
    CHECK_OK(sk_device_fetch(key, hmsg, sizeof hmsg, &len, w->now));
    CHECK_OK(serve(w, kid, false, len, &rlen));
    CHECK(w->status == SK_ERR_CLONE_DETECTED);
    CHECK((w->effects & SK_EFFECT_DELETE_SECRETS) &&
          w->revoke_reason == SK_CRL_REASON_KEY_COMPROMISE);
    released_nothing(w, rlen);
    CHECK_RC(SK_ERR_CLONE_DETECTED, sk_device_read_session(key, &s, &st, hreply, rlen));
    CHECK(s == NULL);
    CHECK(st.state == SK_KEY_DESTROYED && st.destroy_reason == SK_DESTROY_CLONE);
    w_key *k = world_key(w, kid);
    CHECK(k != NULL && k->sec_len == 0);
out:
    sk_device_session_free(s);
    sk_pubkey_free(pub);
    sk_device_key_free(copy);
    sk_device_key_free(key);
    world_free(w);
}

static int leak_handler(void)
{
    check_handler(true);
    printf("leak-handler: handled a request with the stored server key's header secret\n");
    return sk_test_done("ctime_test leak-handler");
}
#endif

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
#ifdef SK_CTIME_HANDLER
    if (strcmp(mode, "leak-handler") == 0)
        return leak_handler();
#endif
    if (strcmp(mode, "check") != 0 || k < 512 || k % 128 != 0) {
        fprintf(stderr, "usage: ctime_test [check|leak-branch|leak-index|leak-handler] [k] "
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
#ifdef SK_CTIME_HANDLER
    check_handler(false);
#endif
    return sk_test_done("ctime_test");
}
