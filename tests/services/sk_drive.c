/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sk_drive - drives a running splitkey-server with the library's device role
 * (and, for one scenario, a relying party on its HTTPS API), for the service
 * tests and for load measurements.  All device state stays in memory; PINs
 * are built in.  Device requests are framed as doc/operations.md says
 * ("SKD1").
 *
 *   sk_drive --server URL --server-pub FILE [options] MODE
 *
 * Modes (exit 0 when everything the mode expects happened, 1 otherwise):
 *   sign      each of --threads N threads enrols its own key and signs
 *             --signs M messages; a request that gets no protocol reply
 *             (timeout, transport, "SKE1" frame) is sent again - an approval
 *             with sk_device_retry() - until --give-up seconds pass.
 *             Prints one "key HEX signed N" line per thread and a summary
 *             "signed N failures F errors E seconds S rate R/s".
 *             Every signature is verified again at the end.
 *   lockout   three approvals with a wrong PIN, then the right PIN: LOCKED,
 *             and KeyState says TIMELOCKED.
 *   clone     signs, copies the device state, signs with the copy, then
 *             signs with the original: CLONE_DETECTED.
 *   rp        a relying party (--api URL --server-cert-sha256 HEX --rp-cert
 *             FILE --rp-key FILE --rp-uuid UUID [--name NAME]: the server's
 *             HTTPS API, doc/rp-api.md) creates a signing session by ETSI
 *             person id, the device fetches it (same code, text and
 *             registered name) and approves it, the relying party's long
 *             poll collects the signature and document number; an unknown
 *             person gets 404.  --level 2 asks QUALIFIED (0 and 1:
 *             ADVANCED) and --interaction 0..4 the interaction (a VC choice
 *             is answered with the relying party's code, a confirmation
 *             message confirmed); with --expect-level the create must be
 *             refused with 471.
 *   garbage   unknown tags, random, truncated and oversized requests get
 *             error replies; the key still signs afterwards.
 *
 * Options: --profile 4K|6K|8K, --scheme pkcs1|pss, --hash H, --threads N,
 * --signs M, --timeout MS (per call), --give-up S, --out DIR (public keys as
 * PEM, key ids, and the first three messages and signatures of each
 * thread), --ready FILE (written once every thread has enrolled), --token T,
 * --subject S, --max-request BYTES (the server's limit, for garbage).
 */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sodium.h>

#include "cliutil.h"
#include "devdrive.h"
#include "error_reply.h"
#include "req_client.h"
#include "rp_api.h"
#include "splitkey/device.h"
#include "splitkey/key.h"
#include "splitkey/sign.h"
#include "splitkey/splitkey.h"
#include "svc_error.h"
#include "svc_hex.h"

#define WRONG_PIN_SIGN "00000"
#define MAX_THREADS 64

/* The devices' settings (url, server keys, profile, scheme, hash, timeout,
 * give-up, token, subject, run tag) and this program's own. */
static sk_dev_config cfg = {.profile = SK_PROFILE_4K, .scheme = SK_SCHEME_PKCS1,
                            .hash = SK_HASH_SHA256, .timeout_ms = 10000, .give_up_s = 300};
static struct {
    const char *out_dir, *ready;
    unsigned threads, signs;
    size_t max_request;
    unsigned level, interaction; /* rp: SessionCreate.certificate_level, .interaction */
    int expect_level;            /* rp: the create is refused with SK_ERR_LEVEL */
} opt = {.threads = 1, .signs = 1, .max_request = 65536};

/* rp: the relying party on the server's HTTPS API (rp_test_lib.sh's
 * RP_API_ARGS) */
static rp_api_conf rp = {.name = "sk_drive bank"};

static pthread_barrier_t enrolled;

static void die(const char *what)
{
    fprintf(stderr, "sk_drive: %s\n", what);
    exit(2);
}

/* The device itself (sk_dev: enrolment, sessions, approvals) is in
 * services/drive/devdrive.c, shared with splitkey-bench. */

static void key_hex(const sk_dev *d, char out[2 * SK_KEY_ID_LEN + 1])
{
    uint8_t id[SK_KEY_ID_LEN];
    if (sk_device_key_id(d->key, id, sizeof id) != SK_OK)
        memset(id, 0, sizeof id);
    sk_svc_hex(out, id, sizeof id);
}

static int write_file(const char *dir, const char *name, const void *data, size_t len)
{
    char path[4096];
    if (dir != NULL)
        snprintf(path, sizeof path, "%s/%s", dir, name);
    else
        snprintf(path, sizeof path, "%s", name);
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return -1;
    size_t w = fwrite(data, 1, len, f);
    return fclose(f) == 0 && w == len ? 0 : -1;
}

static int write_pubkey(const sk_dev *d, const char *dir, const char *name)
{
    sk_pubkey *pk = NULL;
    char pem[4096];
    size_t n = 0;
    int rc = sk_device_key_pubkey(d->key, &pk);
    if (rc == SK_OK)
        rc = sk_pubkey_export_pem(pk, pem, sizeof pem, &n);
    sk_pubkey_free(pk);
    if (rc == SK_OK && write_file(dir, name, pem, strlen(pem)) != 0)
        rc = SK_ERR_INTERNAL;
    return rc;
}

/* ------------------------------------------------------------ sign mode */

typedef struct worker {
    unsigned index;
    pthread_t thread;
    sk_dev d;
    unsigned signed_count;
    int error; /* the first protocol error, or SK_OK */
    uint8_t *sigs; /* signs * SK_MAX_SIG_LEN */
    size_t *sig_lens;
    char key[2 * SK_KEY_ID_LEN + 1];
} worker;

static void message(uint8_t *digest, char *text, size_t text_cap, unsigned thread, unsigned j)
{
    snprintf(text, text_cap, "sk_drive %08x thread %u message %u\n", cfg.run_tag, thread, j);
    if (sk_digest(digest, sk_hash_len(cfg.hash), cfg.hash, (const uint8_t *)text,
                  strlen(text)) != SK_OK)
        die("digest failed");
}

static void *sign_main(void *arg)
{
    worker *w = arg;
    int rc = sk_dev_open(&w->d, &cfg, SK_PURPOSE_SIGN);
    if (rc == SK_OK)
        rc = sk_dev_enrol(&w->d, w->index);
    if (rc == SK_OK) {
        key_hex(&w->d, w->key);
        if (opt.out_dir != NULL) {
            char name[64];
            snprintf(name, sizeof name, "t%u.pem", w->index);
            rc = write_pubkey(&w->d, opt.out_dir, name);
            snprintf(name, sizeof name, "t%u.keyid", w->index);
            if (rc == SK_OK && write_file(opt.out_dir, name, w->key, strlen(w->key)) != 0)
                rc = SK_ERR_INTERNAL;
        }
    }
    if (rc != SK_OK)
        w->error = rc;
    pthread_barrier_wait(&enrolled);
    for (unsigned j = 0; w->error == SK_OK && j < opt.signs; j++) {
        uint8_t digest[64];
        char text[128];
        message(digest, text, sizeof text, w->index, j);
        rc = sk_dev_sign(&w->d, digest, w->d.pin, w->sigs + (size_t)j * SK_MAX_SIG_LEN,
                      &w->sig_lens[j], NULL);
        if (rc != SK_OK) {
            w->error = rc;
            break;
        }
        w->signed_count++;
        if (opt.out_dir != NULL && j < 3) {
            char name[64];
            snprintf(name, sizeof name, "t%u-%u.msg", w->index, j);
            write_file(opt.out_dir, name, text, strlen(text));
            snprintf(name, sizeof name, "t%u-%u.sig", w->index, j);
            write_file(opt.out_dir, name, w->sigs + (size_t)j * SK_MAX_SIG_LEN, w->sig_lens[j]);
        }
    }
    return NULL;
}

static int mode_sign(void)
{
    worker *ws = calloc(opt.threads, sizeof *ws);
    if (ws == NULL)
        die("out of memory");
    pthread_barrier_init(&enrolled, NULL, opt.threads + 1);
    for (unsigned i = 0; i < opt.threads; i++) {
        ws[i].index = i;
        ws[i].sigs = calloc(opt.signs ? opt.signs : 1, SK_MAX_SIG_LEN);
        ws[i].sig_lens = calloc(opt.signs ? opt.signs : 1, sizeof(size_t));
        if (ws[i].sigs == NULL || ws[i].sig_lens == NULL)
            die("out of memory");
        if (pthread_create(&ws[i].thread, NULL, sign_main, &ws[i]) != 0)
            die("cannot start a thread");
    }
    pthread_barrier_wait(&enrolled);
    uint64_t t0 = sk_dev_mono_us();
    if (opt.ready != NULL && write_file(NULL, opt.ready, "ready\n", 6) != 0)
        die("cannot write the ready file");
    for (unsigned i = 0; i < opt.threads; i++)
        pthread_join(ws[i].thread, NULL);
    double secs = (double)(sk_dev_mono_us() - t0) / 1e6;
    unsigned long total = 0, failures = 0, errors = 0, bad = 0;
    for (unsigned i = 0; i < opt.threads; i++) {
        worker *w = &ws[i];
        /* every acknowledged signature verifies under the key's n */
        sk_pubkey *pk = NULL;
        if (w->d.key != NULL && sk_device_key_pubkey(w->d.key, &pk) == SK_OK) {
            for (unsigned j = 0; j < w->signed_count; j++) {
                uint8_t digest[64];
                char text[128];
                message(digest, text, sizeof text, i, j);
                if (sk_verify(pk, cfg.scheme, cfg.hash, digest, sk_hash_len(cfg.hash),
                              w->sigs + (size_t)j * SK_MAX_SIG_LEN, w->sig_lens[j]) != SK_OK)
                    bad++;
            }
        }
        sk_pubkey_free(pk);
        printf("key %s signed %u failures %lu replays %lu error %d%s%s\n",
               w->key[0] ? w->key : "-", w->signed_count, w->d.failures, w->d.replays, w->error,
               w->error ? " " : "", w->error ? sk_strerror(w->error) : "");
        total += w->signed_count;
        failures += w->d.failures + w->d.replays;
        errors += w->error != SK_OK;
        sk_dev_close(&w->d);
        free(w->sigs);
        free(w->sig_lens);
    }
    printf("signed %lu failures %lu errors %lu unverified %lu seconds %.3f rate %.1f/s\n", total,
           failures, errors, bad, secs, secs > 0 ? (double)total / secs : 0.0);
    pthread_barrier_destroy(&enrolled);
    free(ws);
    return errors == 0 && bad == 0 && total == (unsigned long)opt.threads * opt.signs ? 0 : 1;
}

/* ------------------------------------------------------------ scenarios */

#define EXPECT(cond)                                                                   \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            fprintf(stderr, "sk_drive: line %d: expected %s\n", __LINE__, #cond);     \
            ok = 0;                                                                    \
        }                                                                              \
    } while (0)

static int mode_lockout(void)
{
    sk_dev d;
    int ok = 1;
    uint8_t digest[64], sig[SK_MAX_SIG_LEN];
    size_t sig_len = 0;
    sk_key_status st;
    sk_device_session *s = NULL;
    char key[2 * SK_KEY_ID_LEN + 1];
    if (sk_dev_open(&d, &cfg, SK_PURPOSE_SIGN) != SK_OK || sk_dev_enrol(&d, 0) != SK_OK)
        die("enrolment failed");
    key_hex(&d, key);
    printf("key %s\n", key);
    if (sk_digest(digest, 32, SK_HASH_SHA256, (const uint8_t *)"lockout", 7) != SK_OK)
        die("digest");
    for (unsigned i = 1; i <= 3; i++) {
        sk_device_session_free(s);
        memset(&st, 0, sizeof st);
        EXPECT(sk_dev_create(&d, digest, "lockout", &s, NULL) == SK_OK);
        if (s == NULL)
            break;
        int rc = sk_dev_approve(&d, s, WRONG_PIN_SIGN, sig, &sig_len, &st);
        printf("wrong PIN %u: %s, attempts left %u, locked until %llu\n", i, sk_strerror(rc),
               st.attempts_left, (unsigned long long)st.locked_until);
        EXPECT(rc == SK_ERR_WRONG_PIN);
        EXPECT(st.attempts_left == 3 - i || (i == 3 && st.attempts_left == 3));
        EXPECT(i < 3 || st.locked_until > (uint64_t)time(NULL));
    }
    /* locked: the right PIN on the open session is refused before any
     * exponentiation, and no new session can start */
    if (s != NULL) {
        memset(&st, 0, sizeof st);
        int rc = sk_dev_approve(&d, s, d.pin, sig, &sig_len, &st);
        printf("right PIN while locked: %s\n", sk_strerror(rc));
        EXPECT(rc == SK_ERR_LOCKED);
    }
    sk_device_session *s2 = NULL;
    EXPECT(sk_dev_create(&d, digest, "lockout", &s2, NULL) == SK_ERR_LOCKED);
    sk_device_session_free(s2);
    memset(&st, 0, sizeof st);
    EXPECT(sk_dev_key_state(&d, &st) == SK_OK);
    printf("state %d attempts left %u locked until %llu\n", (int)st.state, st.attempts_left,
           (unsigned long long)st.locked_until);
    EXPECT(st.state == SK_KEY_TIMELOCKED && st.locked_until > (uint64_t)time(NULL));
    sk_device_session_free(s);
    sk_dev_close(&d);
    return ok ? 0 : 1;
}

static int mode_clone(void)
{
    sk_dev d, copy;
    int ok = 1;
    uint8_t digest[64], sig[SK_MAX_SIG_LEN], storage[SK_STORAGE_KEY_LEN];
    uint8_t sealed[SK_MAX_MESSAGE_LEN];
    size_t sig_len = 0, sealed_len = 0;
    sk_key_status st;
    char key[2 * SK_KEY_ID_LEN + 1];
    if (sk_dev_open(&d, &cfg, SK_PURPOSE_SIGN) != SK_OK || sk_dev_enrol(&d, 0) != SK_OK)
        die("enrolment failed");
    key_hex(&d, key);
    printf("key %s\n", key);
    if (sk_digest(digest, 32, SK_HASH_SHA256, (const uint8_t *)"clone", 5) != SK_OK)
        die("digest");
    EXPECT(sk_dev_sign(&d, digest, d.pin, sig, &sig_len, NULL) == SK_OK);
    /* copy the device's stored state, as a thief copying its storage would */
    randombytes_buf(storage, sizeof storage);
    if (sk_dev_open(&copy, &cfg, SK_PURPOSE_SIGN) != SK_OK ||
        sk_device_key_seal(d.key, sealed, sizeof sealed, &sealed_len, storage, sizeof storage) !=
            SK_OK ||
        sk_device_key_open(&copy.key, sealed, sealed_len, storage, sizeof storage) != SK_OK)
        die("cannot copy the device state");
    int rc = sk_dev_sign(&copy, digest, copy.pin, sig, &sig_len, NULL);
    printf("copy signs: %s\n", sk_strerror(rc));
    EXPECT(rc == SK_OK);
    /* the original, later (its counter is seeded from a later clock) */
    d.now_offset = 2;
    memset(&st, 0, sizeof st);
    rc = sk_dev_sign(&d, digest, d.pin, sig, &sig_len, &st);
    printf("original signs: %s, destroy reason %d\n", sk_strerror(rc), (int)st.destroy_reason);
    EXPECT(rc == SK_ERR_CLONE_DETECTED);
    EXPECT(st.destroy_reason == SK_DESTROY_CLONE);
    /* and the key never signs again, for either copy */
    copy.now_offset = 4;
    rc = sk_dev_sign(&copy, digest, copy.pin, sig, &sig_len, NULL);
    printf("copy afterwards: %s\n", sk_strerror(rc));
    EXPECT(rc == SK_ERR_DESTROYED);
    sodium_memzero(storage, sizeof storage);
    sk_dev_close(&copy);
    sk_dev_close(&d);
    return ok ? 0 : 1;
}

static int mode_rp(void)
{
    sk_dev d;
    int ok = 1;
    char person[64], key[2 * SK_KEY_ID_LEN + 1], why[512], sid[128], code[5];
    uint8_t digest[64], sig[SK_MAX_SIG_LEN];
    size_t sig_len = 0;
    rp_api *api = NULL;
    if (rp.url == NULL)
        die("rp: the relying-party API is needed (--api, --server-cert-sha256, --rp-cert, "
            "--rp-key, --rp-uuid)");
    if (rp_api_new(&api, &rp, why, sizeof why) != 0) {
        fprintf(stderr, "sk_drive: %s\n", why);
        exit(2);
    }
    if (sk_dev_open(&d, &cfg, SK_PURPOSE_SIGN) != SK_OK || sk_dev_enrol(&d, 7) != SK_OK)
        die("enrolment failed");
    key_hex(&d, key);
    printf("key %s\n", key);
    snprintf(person, sizeof person, "PNOLV-%06u-%05u", (unsigned)(cfg.run_tag % 1000000u), 7u);
    if (cfg.subject != NULL || cfg.token != NULL) {
        const char *p = strstr(sk_device_key_subject(d.key), "serialNumber=");
        snprintf(person, sizeof person, "%s", p ? p + 13 : "");
        char *comma = strchr(person, ',');
        if (comma != NULL)
            *comma = '\0';
    }
    if (sk_digest(digest, 32, SK_HASH_SHA256, (const uint8_t *)"contract", 8) != SK_OK)
        die("digest");

    /* level 2 asks QUALIFIED; 0 (any) and 1 ask ADVANCED, which both levels
     * of key satisfy */
    rp_api_create c = {.purpose = SK_PURPOSE_SIGN, .person = person, .digest = digest,
                       .hash = SK_HASH_SHA256, .text = "Sign contract 42",
                       .advanced = opt.level != 2,
                       .interaction = cu_interaction_name((sk_interaction)opt.interaction)};
    int rc = rp_api_start(api, &c, sid, sizeof sid, why, sizeof why);
    if (opt.expect_level) {
        printf("create: %s\n", rc != 0 ? why : "not refused");
        EXPECT(rc != 0 && strstr(why, "HTTP 471") != NULL);
        rp_api_free(api);
        sk_dev_close(&d);
        return ok ? 0 : 1;
    }
    if (rc != 0) {
        fprintf(stderr, "sk_drive: create: %s\n", why);
        rp_api_free(api);
        sk_dev_close(&d);
        return 1;
    }
    rp_api_vc(code, digest, 32);
    printf("session %s code %s\n", sid, code);

    /* the device fetches the waiting session and approves it */
    uint8_t *frep = NULL;
    size_t frl = 0;
    sk_device_session *s = NULL;
    rc = sk_device_fetch(d.key, d.msg, sizeof d.msg, &d.msg_len, sk_dev_now(&d));
    if (rc == SK_OK)
        rc = sk_dev_xcall(&d, "SKD1", d.msg, d.msg_len, &frep, &frl);
    if (rc == SK_OK)
        rc = sk_device_read_session(d.key, &s, NULL, frep, frl);
    sk_dev_free_reply(frep, frl);
    EXPECT(rc == SK_OK && s != NULL);
    if (s != NULL) {
        sk_interaction in = sk_device_session_interaction(s);
        bool vc = in == SK_INTERACTION_VC_CHOICE || in == SK_INTERACTION_CONFIRMATION_AND_VC_CHOICE;
        EXPECT(opt.interaction == 0 ? in == SK_INTERACTION_DISPLAY_TEXT_AND_PIN
                                    : in == (sk_interaction)opt.interaction);
        if (vc) {
            /* the three codes, the relying party's among them, none shown as the code */
            int hits = 0;
            for (size_t i = 0; i < SK_VC_CHOICES; i++)
                hits += sk_device_session_vc_choice(s, i) != NULL &&
                        strcmp(sk_device_session_vc_choice(s, i), code) == 0;
            EXPECT(hits == 1 && sk_device_session_code(s)[0] == '\0');
        } else {
            EXPECT(strcmp(sk_device_session_code(s), code) == 0);
        }
        EXPECT(strcmp(sk_device_session_display_text(s), "Sign contract 42") == 0);
        /* the device shows the registered name the request named */
        EXPECT(strcmp(sk_device_session_rp_name(s), rp.name) == 0);
        EXPECT(sk_dev_approve_choice(&d, s, d.pin, vc ? code : NULL, 1, sig, &sig_len, NULL) ==
               SK_OK);
    }
    sk_device_session_free(s);

    /* the relying party collects the signature (a long poll, bounded) */
    rp_api_result *res = calloc(1, sizeof *res);
    if (res == NULL)
        die("out of memory");
    rc = 1;
    for (int round = 0; round < 30; round++) {
        rc = rp_api_poll(api, sid, 10000, res, why, sizeof why);
        if (rc != 0 || res->complete)
            break;
    }
    if (rc != 0)
        fprintf(stderr, "sk_drive: poll: %s\n", why);
    EXPECT(rc == 0 && res->complete && strcmp(res->end_result, "OK") == 0);
    if (rc == 0 && res->complete) {
        sk_pubkey *pk = NULL;
        EXPECT(sk_device_key_pubkey(d.key, &pk) == SK_OK);
        EXPECT(pk != NULL && sk_verify(pk, res->scheme, res->sig_hash, digest, 32, res->sig,
                                       res->sig_len) == SK_OK);
        EXPECT(res->sig_len == sig_len && memcmp(res->sig, sig, sig_len) == 0);
        sk_pubkey_free(pk);
        /* the document number names the key: person, its id's first 8
         * hex digits, the level */
        char want[96];
        snprintf(want, sizeof want, "%s-%.8s-", person, key);
        for (char *q = want; *q; q++)
            *q = (char)toupper((unsigned char)*q);
        printf("document %s\n", res->document);
        EXPECT(strncasecmp(res->document, want, strlen(want)) == 0);
    }
    free(res);

    /* an unknown person gets 404 and nothing is created */
    c.person = "PNOLV-000000-00000";
    rc = rp_api_start(api, &c, sid, sizeof sid, why, sizeof why);
    printf("unknown person: %s\n", rc != 0 ? why : "created");
    EXPECT(rc != 0 && strstr(why, "HTTP 404") != NULL);
    rp_api_free(api);
    sk_dev_close(&d);
    return ok ? 0 : 1;
}

/* The kind of reply: 1 "SKE1" frame (*code set), 2 a protocol reply, 0 none. */
static int raw_reply(sk_dev *d, const uint8_t *req, size_t len, int *code)
{
    uint8_t *rep = NULL;
    size_t rl = 0;
    *code = 0;
    if (sk_req_client_call(d->c, &rep, &rl, req, len) != SK_OK)
        return 0;
    int kind = sk_error_reply_decode(code, rep, rl) == SK_OK ? 1 : rl > 0 ? 2 : 0;
    sk_dev_free_reply(rep, rl);
    return kind;
}

static int mode_garbage(void)
{
    sk_dev d;
    int ok = 1, code = 0;
    uint8_t digest[64], sig[SK_MAX_SIG_LEN], junk[512];
    size_t sig_len = 0;
    if (sk_dev_open(&d, &cfg, SK_PURPOSE_SIGN) != SK_OK || sk_dev_enrol(&d, 3) != SK_OK)
        die("enrolment failed");
    if (sk_digest(digest, 32, SK_HASH_SHA256, (const uint8_t *)"garbage", 7) != SK_OK)
        die("digest");

    /* no tag, an unknown tag, an empty request: the service-level frame */
    EXPECT(raw_reply(&d, (const uint8_t *)"", 0, &code) == 1 && code == SK_ERR_PROTO_DECODE);
    EXPECT(raw_reply(&d, (const uint8_t *)"SKD", 3, &code) == 1 && code == SK_ERR_PROTO_DECODE);
    EXPECT(raw_reply(&d, (const uint8_t *)"SKX1abcdef", 10, &code) == 1 &&
           code == SK_ERR_PROTO_DECODE);
    /* random bytes behind the device tag: the protocol's own error replies;
     * behind the old relying-party tag: the service-level refusal (relying
     * parties use the HTTPS API), whatever the bytes */
    for (int i = 0; i < 50; i++) {
        size_t n = 4 + randombytes_uniform(sizeof junk - 4);
        randombytes_buf(junk, sizeof junk);
        memcpy(junk, i % 2 ? "SKD1" : "SKP1", 4);
        int kind = raw_reply(&d, junk, n, &code);
        if (i % 2)
            EXPECT(kind == 2);
        else
            EXPECT(kind == 1 && code == SK_SVC_ERR_RP_REFUSED);
    }
    /* a real request, truncated at every length: refused, nothing changes */
    int rc = sk_device_key_state_request(d.key, d.msg, sizeof d.msg, &d.msg_len, sk_dev_now(&d));
    EXPECT(rc == SK_OK);
    uint8_t framed[SK_MAX_MESSAGE_LEN + 4];
    memcpy(framed, "SKD1", 4);
    memcpy(framed + 4, d.msg, d.msg_len);
    for (size_t cut = 0; cut < d.msg_len; cut += 1 + cut / 8) {
        int kind = raw_reply(&d, framed, 4 + cut, &code);
        EXPECT(kind == 2);
    }
    /* one bit flipped in the whole request: refused */
    framed[4 + d.msg_len - 3] ^= 0x01;
    EXPECT(raw_reply(&d, framed, 4 + d.msg_len, &code) == 2);
    /* the same request twice: the second gets the stored reply again, which
     * the device, having read the first, refuses */
    framed[4 + d.msg_len - 3] ^= 0x01;
    {
        uint8_t *rep = NULL;
        size_t rl = 0;
        sk_key_status st;
        EXPECT(sk_req_client_call(d.c, &rep, &rl, framed, 4 + d.msg_len) == SK_OK);
        EXPECT(rep != NULL && sk_device_read_reply(d.key, &st, rep, rl) == SK_OK);
        sk_dev_free_reply(rep, rl);
        rep = NULL;
        EXPECT(sk_req_client_call(d.c, &rep, &rl, framed, 4 + d.msg_len) == SK_OK);
        EXPECT(rep != NULL && sk_device_read_reply(d.key, &st, rep, rl) == SK_ERR_PROTO_STATE);
        sk_dev_free_reply(rep, rl);
    }
    /* oversized: refused before the handler */
    size_t big_len = opt.max_request + 1;
    uint8_t *big = calloc(1, big_len);
    if (big == NULL)
        die("out of memory");
    memcpy(big, "SKD1", 4);
    EXPECT(raw_reply(&d, big, big_len, &code) == 1 && code == SK_ERR_LIMIT);
    free(big);
    /* still serving, and the key is intact */
    rc = sk_dev_sign(&d, digest, d.pin, sig, &sig_len, NULL);
    printf("sign after garbage: %s\n", sk_strerror(rc));
    EXPECT(rc == SK_OK);
    sk_dev_close(&d);
    return ok ? 0 : 1;
}

/* ---------------------------------------------------------------- main */

static void usage(void)
{
    fprintf(stderr, "usage: sk_drive --server URL --server-pub FILE [--profile 4K|6K|8K]\n"
                    "  [--scheme pkcs1|pss] [--hash H] [--threads N] [--signs M]\n"
                    "  [--timeout MS] [--give-up S] [--out DIR] [--ready FILE]\n"
                    "  [--token T] [--subject S] [--max-request BYTES]\n"
                    "  [--level 0|1|2] [--interaction 0..4] [--expect-level]\n"
                    "  [--api URL --server-cert-sha256 HEX --rp-cert F --rp-key F\n"
                    "   --rp-uuid UUID [--name NAME]]\n"
                    "  sign|lockout|clone|rp|garbage\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *mode = NULL, *pub_path = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define OPT(name) (strcmp(a, name) == 0 && v != NULL && (i++, 1))
        if (OPT("--server"))
            cfg.url = v;
        else if (OPT("--server-pub"))
            pub_path = v;
        else if (OPT("--profile")) {
            if (sk_profile_parse(&cfg.profile, v) != SK_OK)
                usage();
        } else if (OPT("--scheme")) {
            if (sk_scheme_parse(&cfg.scheme, v) != SK_OK)
                usage();
        } else if (OPT("--hash")) {
            if (sk_hash_parse(&cfg.hash, v) != SK_OK)
                usage();
        } else if (OPT("--threads"))
            opt.threads = (unsigned)strtoul(v, NULL, 10);
        else if (OPT("--signs"))
            opt.signs = (unsigned)strtoul(v, NULL, 10);
        else if (OPT("--timeout"))
            cfg.timeout_ms = (unsigned)strtoul(v, NULL, 10);
        else if (OPT("--give-up"))
            cfg.give_up_s = (unsigned)strtoul(v, NULL, 10);
        else if (OPT("--max-request"))
            opt.max_request = (size_t)strtoul(v, NULL, 10);
        else if (OPT("--out"))
            opt.out_dir = v;
        else if (OPT("--ready"))
            opt.ready = v;
        else if (OPT("--token"))
            cfg.token = v;
        else if (OPT("--subject"))
            cfg.subject = v;
        else if (OPT("--level"))
            opt.level = (unsigned)strtoul(v, NULL, 10);
        else if (OPT("--interaction"))
            opt.interaction = (unsigned)strtoul(v, NULL, 10);
        else if (OPT("--api"))
            rp.url = v;
        else if (OPT("--server-cert-sha256"))
            rp.server_cert_sha256 = v;
        else if (OPT("--rp-cert"))
            rp.rp_cert = v;
        else if (OPT("--rp-key"))
            rp.rp_key = v;
        else if (OPT("--rp-uuid"))
            rp.uuid = v;
        else if (OPT("--name"))
            rp.name = v;
        else if (strcmp(a, "--expect-level") == 0)
            opt.expect_level = 1;
        else if (a[0] != '-' && mode == NULL)
            mode = a;
        else
            usage();
#undef OPT
    }
    if (mode == NULL || cfg.url == NULL || pub_path == NULL || opt.threads == 0 ||
        opt.threads > MAX_THREADS)
        usage();
    if (sk_init() != SK_OK)
        die("cannot initialise libsplitkey");
    if (sk_dev_config_load_server_pub(&cfg, pub_path) != SK_OK)
        die("cannot read the server's public keys");
    cfg.run_tag = randombytes_random();
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!strcmp(mode, "sign"))
        return mode_sign();
    if (!strcmp(mode, "lockout"))
        return mode_lockout();
    if (!strcmp(mode, "clone"))
        return mode_clone();
    if (!strcmp(mode, "rp"))
        return mode_rp();
    if (!strcmp(mode, "garbage"))
        return mode_garbage();
    usage();
    return 2;
}
