/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_client_crash.c - the client layer (client.h) against the server role
 * in process, with a crash at every step.
 *
 * The application is driven only through sk_client_*.  Its callbacks count
 * steps (every exchange and every persist is one); at step k the test
 * makes the callback fail and, for a crash, every later callback too, then
 * throws the client away and starts again from the last blob persist
 * stored, resumes, and finishes what the operation was for.  An exchange
 * step is crashed both before the request reaches the server and after the
 * server handled it (its reply lost), and once more as a lost reply without
 * a crash (the layer's own retry).  For enrolment, approval of a relying
 * party's session and signing, at every k until the operation runs through
 * without reaching k:
 * - the operation completes exactly once (a signature that verifies under
 *   the key's public key, one more completed session at the server);
 * - the server's key is ACTIVE and its PIN attempts are untouched;
 * - no clone verdict, ever: the next operation after each recovery is
 *   honest and succeeds.
 */
#include <stdlib.h>
#include <string.h>

#include "splitkey/client.h"
#include "splitkey/sign.h"
#include "world.h"

/* The application's own code for an exchange that got no reply. */
#define APP_LOST (-1000)

enum { MODE_BEFORE = 0, MODE_AFTER = 1, MODE_LOST = 2, N_MODES = 3 };

static const uint8_t storage_key[SK_STORAGE_KEY_LEN] = {
    7, 1, 4, 2, 8, 5, 7, 1, 4, 2, 8, 5, 7, 1, 4, 2, 8, 5, 7, 1, 4, 2, 8, 5, 7, 1, 4, 2, 8, 5, 7, 1};
static const char *subject = "C=LV,GN=ANNA,SN=BERZINA,serialNumber=PNOLV-010101-12345";

typedef struct app {
    world *w;
    int step;        /* callbacks called since arm() */
    int crash_at;    /* the step that fails (-1: none) */
    int mode;
    bool fired;      /* step crash_at was reached */
    char fired_kind; /* 'x' exchange, 'p' persist */
    bool crashed;    /* the process is gone: every callback fails */
    int clones;      /* clone verdicts the server gave */
    int persists;
    int exchanges;    /* exchanges that reached the server */
    struct seen *seen; /* the progress callbacks' record, or NULL */
    int lose_reply;   /* lose the reply of exchange number lose_reply (0: none) */
    uint8_t blob[SK_MAX_MESSAGE_LEN];
    size_t blob_len;
} app;

static int io_exchange(void *ctx, const uint8_t *req, size_t req_len, uint8_t *reply,
                       size_t cap, size_t *reply_len)
{
    app *a = ctx;
    static uint8_t buf[SK_MAX_MESSAGE_LEN];
    size_t len = 0;
    *reply_len = 0;
    if (a->crashed)
        return APP_LOST;
    int here = a->step++;
    bool hit = here == a->crash_at;
    if (hit) {
        a->fired = true;
        a->fired_kind = 'x';
    }
    if (hit && a->mode == MODE_BEFORE) {
        a->crashed = true;
        return APP_LOST;
    }
    int rc = world_device(a->w, req, req_len, buf, &len);
    if (rc != SK_OK)
        return rc;
    if (a->w->status == SK_ERR_CLONE_DETECTED)
        a->clones++;
    if (++a->exchanges == a->lose_reply) {
        sk_wipe(buf, len);
        return APP_LOST;
    }
    if (hit) {
        if (a->mode == MODE_AFTER)
            a->crashed = true;
        sk_wipe(buf, len);
        return APP_LOST;
    }
    if (len > cap)
        return SK_ERR_BUFFER_TOO_SMALL;
    memcpy(reply, buf, len);
    *reply_len = len;
    sk_wipe(buf, len);
    return SK_OK;
}

static int io_persist(void *ctx, const uint8_t *state, size_t state_len)
{
    app *a = ctx;
    if (a->crashed)
        return APP_LOST;
    int here = a->step++;
    if (here == a->crash_at) {
        a->fired = true;
        a->fired_kind = 'p';
        a->crashed = true;
        return APP_LOST;
    }
    if (state_len > sizeof a->blob)
        return SK_ERR_BUFFER_TOO_SMALL;
    memcpy(a->blob, state, state_len);
    a->blob_len = state_len;
    a->persists++;
    return SK_OK;
}

static uint64_t io_now(void *ctx)
{
    return ((app *)ctx)->w->now;
}

static void arm(app *a, int k, int mode)
{
    a->step = 0;
    a->crash_at = k;
    a->mode = mode;
    a->fired = false;
    a->fired_kind = 0;
    a->crashed = false;
}

static void disarm(app *a)
{
    a->crash_at = -1;
    a->crashed = false;
    a->lose_reply = 0;
}

/* A client as the application starts it: from the stored blob, if any. */
static sk_client *start(app *a)
{
    sk_client_io io = {io_exchange, io_persist, io_now, a, 2};
    sk_client *c = NULL;
    if (sk_client_new(&c, &io, storage_key, sizeof storage_key) != SK_OK)
        abort();
    if (a->blob_len > 0 && sk_client_load(c, a->blob, a->blob_len) != SK_OK)
        abort();
    return c;
}

static int sessions_in(world *w, const uint8_t *key_id, sk_session_state state)
{
    int n = 0;
    for (int i = 0; i < w->nsessions; i++) {
        sk_session_rec *r = NULL;
        if (memcmp(w->sessions[i].key_id, key_id, SK_KEY_ID_LEN) != 0 ||
            sk_session_rec_import(&r, w->sessions[i].rec, w->sessions[i].rec_len) != SK_OK)
            continue;
        n += sk_session_rec_state(r) == state;
        sk_session_rec_free(r);
    }
    return n;
}

static int completed_sessions(world *w, const uint8_t *key_id)
{
    return sessions_in(w, key_id, SK_SESSION_COMPLETE);
}

/* The server's view of a key. */
static sk_key_status server_status(world *w, const uint8_t *key_id)
{
    sk_key_status st;
    memset(&st, 0, sizeof st);
    sk_key_rec *r = world_key_record(w, key_id);
    if (r != NULL)
        sk_key_rec_status(r, &st, &w->policy, w->now);
    sk_key_rec_free(r);
    return st;
}

static bool verifies(world *w, const uint8_t *key_id, const uint8_t *digest, const uint8_t *sig,
                     size_t sig_len)
{
    sk_key_rec *r = world_key_record(w, key_id);
    sk_pubkey *pub = NULL;
    bool ok = r != NULL && sk_key_rec_pubkey(r, &pub) == SK_OK &&
              sk_verify(pub, SK_SCHEME_PKCS1, SK_HASH_SHA256, digest, 32, sig, sig_len) == SK_OK;
    sk_pubkey_free(pub);
    sk_key_rec_free(r);
    return ok;
}

static void make_digest(uint8_t *digest, const char *what, int k, int mode)
{
    char text[64];
    snprintf(text, sizeof text, "%s %d %d", what, k, mode);
    if (sk_digest(digest, 32, SK_HASH_SHA256, (const uint8_t *)text, strlen(text)) != SK_OK)
        abort();
}

/* After a failed operation: was it the crash, and the right kind of failure? */
static void check_failed(const app *a, int rc, const char *what, int k, int mode)
{
    if (rc == SK_OK)
        return;
    CHECK(a->fired);
    CHECK(a->crashed || rc == APP_LOST);
    if (!a->fired)
        fprintf(stderr, "%s k=%d mode=%d: failed without a crash: %d (%s)\n", what, k, mode, rc,
                sk_strerror(rc));
}

/* Signs a digest through the layer (a device-created session); crash at k. */
static bool sign_step(app *a, uint8_t *key_id, int k, int mode)
{
    uint8_t digest[32], sig[SK_MAX_SIG_LEN];
    size_t sig_len = 0;
    char code[5];
    int before = completed_sessions(a->w, key_id);
    sk_key_status st0 = server_status(a->w, key_id);
    make_digest(digest, "sign", k, mode);
    a->w->now += 7;

    arm(a, k, mode);
    sk_client *c = start(a);
    int rc = sk_client_sign(c, digest, 32, SK_HASH_SHA256, SK_SCHEME_PKCS1, "Pay 10 EUR",
                            (const uint8_t *)PIN_SIGN, strlen(PIN_SIGN), sig, sizeof sig,
                            &sig_len, code, NULL);
    bool got = rc == SK_OK;
    check_failed(a, rc, "sign", k, mode);
    sk_client_free(c); /* every in-memory handle goes */

    if (!got) {
        disarm(a);
        c = start(a);
        sk_client_resumed res;
        CHECK_OK(sk_client_resume(c, (const uint8_t *)PIN_SIGN, strlen(PIN_SIGN), &res));
        CHECK(sk_client_pending(c) == SK_CLIENT_REQ_NONE);
        if (res.request == SK_CLIENT_REQ_APPROVE) {
            CHECK_OK(res.result);
            got = res.result == SK_OK;
            memcpy(sig, res.signature, res.signature_len);
            sig_len = res.signature_len;
        } else if (res.request != SK_CLIENT_REQ_NONE) {
            CHECK(res.request == SK_CLIENT_REQ_CREATE);
            CHECK_OK(res.result);
        }
        if (!got) {
            CHECK_OK(sk_client_sign(c, digest, 32, SK_HASH_SHA256, SK_SCHEME_PKCS1, "Pay 10 EUR",
                                    (const uint8_t *)PIN_SIGN, strlen(PIN_SIGN), sig, sizeof sig,
                                    &sig_len, code, NULL));
            got = sig_len > 0;
        }
        sk_client_free(c);
    }
    CHECK(got);
    CHECK(verifies(a->w, key_id, digest, sig, sig_len));
    CHECK(completed_sessions(a->w, key_id) == before + 1);
    sk_key_status st = server_status(a->w, key_id);
    CHECK(st.state == SK_KEY_ACTIVE);
    CHECK(st.attempts_left == st0.attempts_left);
    CHECK(a->clones == 0);
    return a->fired;
}

/* Approves a relying party's session through the layer; crash at k. */
static bool approve_step(app *a, uint8_t *key_id, int k, int mode)
{
    uint8_t digest[32], sid[SK_SESSION_ID_LEN], sig[SK_MAX_SIG_LEN], rp_sig[SK_MAX_SIG_LEN];
    size_t sig_len = 0, rp_sig_len = 0;
    char code[5];
    int before = completed_sessions(a->w, key_id);
    sk_key_status st0 = server_status(a->w, key_id);
    make_digest(digest, "approve", k, mode);
    a->w->now += 7;

    disarm(a);
    sk_client *c = start(a);
    CHECK_OK(world_rp_create(a->w, sk_client_key(c), digest, SK_HASH_SHA256, SK_SCHEME_PKCS1, sid,
                             code));
    sk_client_free(c);

    bool got = false;
    for (int attempt = 0; attempt < 2 && !got; attempt++) {
        if (attempt == 0) {
            arm(a, k, mode);
        } else {
            /* the restart: resume first, then whatever is still to do */
            disarm(a);
        }
        c = start(a);
        int rc = SK_OK;
        if (attempt == 1) {
            sk_client_resumed res;
            rc = sk_client_resume(c, (const uint8_t *)PIN_SIGN, strlen(PIN_SIGN), &res);
            CHECK_OK(rc);
            if (res.request == SK_CLIENT_REQ_APPROVE) {
                CHECK(res.has_session && memcmp(res.session_id, sid, sizeof sid) == 0);
                CHECK_OK(res.result);
                got = res.result == SK_OK;
                memcpy(sig, res.signature, res.signature_len);
                sig_len = res.signature_len;
            } else if (res.request != SK_CLIENT_REQ_NONE) {
                CHECK(res.request == SK_CLIENT_REQ_FETCH);
                CHECK_OK(res.result);
            }
        }
        if (!got) {
            sk_device_session *list[SK_MAX_FETCH_SESSIONS] = {NULL};
            size_t n = 0;
            rc = sk_client_fetch(c, list, SK_MAX_FETCH_SESSIONS, &n, NULL);
            const sk_device_session *mine = NULL;
            for (size_t i = 0; i < n; i++) {
                uint8_t id[SK_SESSION_ID_LEN];
                if (sk_device_session_id(list[i], id, sizeof id) == SK_OK &&
                    memcmp(id, sid, sizeof id) == 0)
                    mine = list[i];
            }
            if (rc == SK_OK) {
                CHECK(mine != NULL);
                if (mine != NULL)
                    CHECK(strcmp(sk_device_session_code(mine), code) == 0);
            }
            if (rc == SK_OK && mine != NULL)
                rc = sk_client_approve(c, mine, (const uint8_t *)PIN_SIGN, strlen(PIN_SIGN), sig,
                                       sizeof sig, &sig_len, NULL);
            got = rc == SK_OK && mine != NULL;
            for (size_t i = 0; i < n; i++)
                sk_device_session_free(list[i]);
            if (attempt == 0)
                check_failed(a, rc, "approve", k, mode);
            else
                CHECK_OK(rc);
        }
        sk_client_free(c);
    }
    CHECK(got);
    CHECK_OK(world_rp_poll(a->w, sid, rp_sig, &rp_sig_len));
    CHECK(rp_sig_len == sig_len && memcmp(rp_sig, sig, sig_len) == 0);
    CHECK(verifies(a->w, key_id, digest, rp_sig, rp_sig_len));
    CHECK(completed_sessions(a->w, key_id) == before + 1);
    sk_key_status st = server_status(a->w, key_id);
    CHECK(st.state == SK_KEY_ACTIVE);
    CHECK(st.attempts_left == st0.attempts_left);
    CHECK(a->clones == 0);
    return a->fired;
}

static void enrol_options(sk_client_enrol_options *o, const world *w, const char *token)
{
    memset(o, 0, sizeof *o);
    o->server_pub = w->server_pub;
    o->server_pub_len = sizeof w->server_pub;
    o->purpose = SK_PURPOSE_SIGN;
    o->profile = SK_PROFILE_4K;
    o->pin = (const uint8_t *)PIN_SIGN;
    o->pin_len = strlen(PIN_SIGN);
    o->kdf_cost = SK_KDF_MINIMUM;
    o->token = token;
}

/* Enrols with a token and makes the proof of possession; crash at k
 * during the enrolment. */
static bool enrol_step(app *a, uint8_t *key_id, int k, int mode)
{
    char token[SK_MAX_TOKEN_LEN + 1];
    size_t tlen = 0;
    sk_client_enrol_options o;
    if (a->w->nkeys > W_MAX_KEYS - 3) {
        /* a new server for the next runs: its store holds a few keys only */
        bool fetch_as_list = a->w->fetch_as_list;
        world_free(a->w);
        a->w = world_new();
        a->w->policy.open_enrolment = 0;
        a->w->fetch_as_list = fetch_as_list;
    }
    int keys_before = a->w->nkeys;
    CHECK_OK(sk_server_token_mint(a->w->id, token, sizeof token, &tlen, subject, SK_PURPOSE_SIGN,
                                  a->w->now + 86400, NULL, NULL));
    enrol_options(&o, a->w, token);
    a->blob_len = 0;

    arm(a, k, mode);
    sk_client *c = start(a);
    int rc = sk_client_enrol(c, &o);
    check_failed(a, rc, "enrol", k, mode);
    if (rc != SK_OK) {
        sk_client_free(c);
        disarm(a);
        c = start(a);
        if (sk_client_key(c) == NULL) {
            /* nothing stored: the same token again */
            CHECK_OK(sk_client_enrol(c, &o));
        } else {
            sk_client_resumed res;
            CHECK_OK(sk_client_resume(c, NULL, 0, &res));
            CHECK(res.request == SK_CLIENT_REQ_NONE);
        }
    }
    disarm(a);
    const sk_device_key *key = sk_client_key(c);
    CHECK(key != NULL);
    if (key == NULL) {
        sk_client_free(c);
        return a->fired;
    }
    CHECK_OK(sk_device_key_id(key, key_id, SK_KEY_ID_LEN));
    CHECK(sk_device_key_state(key) == SK_KEY_PENDING);
    sk_key_status st0 = server_status(a->w, key_id);
    CHECK(st0.state == SK_KEY_PENDING);

    /* the next honest operation: the proof of possession */
    uint8_t digest[32], sig[SK_MAX_SIG_LEN];
    size_t sig_len = 0;
    make_digest(digest, "pop", k, mode);
    CHECK_OK(sk_client_sign(c, digest, 32, SK_HASH_SHA256, SK_SCHEME_PKCS1, "Enrolment",
                            (const uint8_t *)PIN_SIGN, strlen(PIN_SIGN), sig, sizeof sig,
                            &sig_len, NULL, NULL));
    CHECK(verifies(a->w, key_id, digest, sig, sig_len));
    CHECK(sk_device_key_state(sk_client_key(c)) == SK_KEY_ACTIVE);
    sk_client_free(c);
    sk_key_status st = server_status(a->w, key_id);
    CHECK(st.state == SK_KEY_ACTIVE);
    CHECK(st.attempts_left == st0.attempts_left);
    /* any key this token enrolled before is given up, never a clone */
    for (int i = keys_before; i < a->w->nkeys; i++) {
        if (memcmp(a->w->keys[i].id, key_id, SK_KEY_ID_LEN) == 0)
            continue;
        sk_key_status other = server_status(a->w, a->w->keys[i].id);
        CHECK(other.state == SK_KEY_DESTROYED);
        CHECK(other.destroy_reason == SK_DESTROY_ABANDONED);
    }
    CHECK(a->clones == 0);
    return a->fired;
}

typedef bool (*step_fn)(app *a, uint8_t *key_id, int k, int mode);

/* Runs fn with a crash at every step k in every mode, until it runs through
 * without reaching k.  Returns the number of steps. */
static int every_step(app *a, uint8_t *key_id, step_fn fn, const char *name)
{
    int k = 0;
    for (;; k++) {
        bool reached = false;
        for (int mode = 0; mode < N_MODES; mode++) {
            bool fired = fn(a, key_id, k, mode);
            reached = reached || fired;
            if (!fired || a->fired_kind == 'p')
                break; /* a persist step fails one way only */
        }
        if (!reached)
            break;
    }
    printf("%s: crash at each of %d steps, recovered every time\n", name, k);
    return k;
}

/* What the application's progress callbacks saw. */
typedef struct seen {
    int resends, challenges;
    int pin_reports;  /* SK_PROGRESS_PIN reports */
    int other_stage;  /* reports of any other stage */
    int cancel_at;    /* cancel at this PIN report (-1: never) */
} seen;

static void on_step(void *ctx, sk_client_step step, int code)
{
    seen *s = ((app *)ctx)->seen;
    (void)code;
    s->resends += step == SK_CLIENT_STEP_RESEND;
    s->challenges += step == SK_CLIENT_STEP_CHALLENGE;
}

static int on_pin(void *ctx, sk_progress_stage stage, unsigned done, unsigned total)
{
    seen *s = ctx;
    if (stage != SK_PROGRESS_PIN || total != 1 || done > 1) {
        s->other_stage++;
        return 0;
    }
    return s->pin_reports++ == s->cancel_at;
}

/* One signature through the layer with a fresh digest; returns its code. */
static int sign_once(app *a, sk_client *c, const char *what, const char *pin, uint8_t *digest,
                     uint8_t *sig, size_t *sig_len)
{
    char code[5];
    make_digest(digest, what, 0, 0);
    a->w->now += 7;
    return sk_client_sign(c, digest, 32, SK_HASH_SHA256, SK_SCHEME_PKCS1, "Pay 10 EUR",
                          (const uint8_t *)pin, strlen(pin), sig, SK_MAX_SIG_LEN, sig_len, code,
                          NULL);
}

int main(void)
{
    sk_test_init();
    uint8_t key_id[SK_KEY_ID_LEN];

    /* Enrolment, each run with its own token. */
    {
        app a;
        memset(&a, 0, sizeof a);
        a.w = world_new();
        a.w->policy.open_enrolment = 0;
        int steps = every_step(&a, key_id, enrol_step, "enrol");
        CHECK(steps >= 3); /* EnrolInit, EnrolSubmit, persist */
        world_free(a.w);
    }

    /* Approval of a relying party's session, then signing, on one key that
     * lives through every crash. */
    {
        app a;
        memset(&a, 0, sizeof a);
        a.w = world_new();
        a.w->policy.open_enrolment = 0;
        a.w->fetch_as_list = true;
        CHECK(!enrol_step(&a, key_id, -1, MODE_BEFORE));
        int steps = every_step(&a, key_id, approve_step, "approve");
        CHECK(steps >= 6); /* fetch and approve: persist, exchange, persist each */
        steps = every_step(&a, key_id, sign_step, "sign");
        CHECK(steps >= 6); /* create and approve: persist, exchange, persist each */
        /* and the key is still in step: one more of each */
        CHECK(!approve_step(&a, key_id, -1, MODE_BEFORE));
        CHECK(!sign_step(&a, key_id, -1, MODE_BEFORE));
        world_free(a.w);
    }

    /* Progress, cancel and a wrong PIN through the layer. */
    {
        app a;
        seen sn;
        memset(&a, 0, sizeof a);
        memset(&sn, 0, sizeof sn);
        sn.cancel_at = -1;
        a.seen = &sn;
        a.w = world_new();
        a.w->policy.open_enrolment = 0;
        CHECK(!enrol_step(&a, key_id, -1, MODE_BEFORE));
        disarm(&a);
        uint8_t digest[32], sig[SK_MAX_SIG_LEN];
        size_t sig_len = 0;
        sk_progress pin_progress = {on_pin, &sn};
        sk_client *c = start(&a);
        sk_client_set_progress(c, on_step);
        sk_client_set_pin_progress(c, &pin_progress);
        sk_key_status st0 = server_status(a.w, key_id);

        /* a lost reply is resent once and the progress callback hears of it;
         * the PIN is stretched again for the resend (y is never kept) */
        a.exchanges = 0;
        a.lose_reply = 2; /* SessionCreate, then SignSubmit: lose SignSubmit's */
        CHECK_OK(sign_once(&a, c, "resent", PIN_SIGN, digest, sig, &sig_len));
        CHECK(verifies(a.w, key_id, digest, sig, sig_len));
        CHECK(sn.resends == 1);
        CHECK(sn.pin_reports == 4);
        CHECK(sn.other_stage == 0);

        /* a wrong PIN is counted once and its session withdrawn */
        disarm(&a);
        int done = completed_sessions(a.w, key_id);
        CHECK_RC(SK_ERR_WRONG_PIN, sign_once(&a, c, "wrong", "99999", digest, sig, &sig_len));
        CHECK(server_status(a.w, key_id).attempts_left == st0.attempts_left - 1);
        CHECK(sessions_in(a.w, key_id, SK_SESSION_PENDING) == 0);
        CHECK(sessions_in(a.w, key_id, SK_SESSION_REFUSED) == 1);
        CHECK(sk_client_pending(c) == SK_CLIENT_REQ_NONE);
        /* a good PIN resets the count */
        CHECK_OK(sign_once(&a, c, "good", PIN_SIGN, digest, sig, &sig_len));
        CHECK(completed_sessions(a.w, key_id) == done + 1);
        CHECK(server_status(a.w, key_id).attempts_left == st0.attempts_left);

        /* a cancel before or after the PIN stretching sends nothing with
         * the PIN: no attempt counted, the session withdrawn, no request in
         * flight, the key's stored state still opens and signs */
        for (int at = 0; at < 2; at++) {
            sn.pin_reports = 0;
            sn.cancel_at = at;
            int persists = a.persists;
            int refused = sessions_in(a.w, key_id, SK_SESSION_REFUSED);
            CHECK_RC(SK_ERR_CANCELLED, sign_once(&a, c, "cancel", PIN_SIGN, digest, sig,
                                                 &sig_len));
            CHECK(sn.pin_reports == at + 1);
            CHECK(sig_len == 0);
            CHECK(sk_client_pending(c) == SK_CLIENT_REQ_NONE);
            CHECK(server_status(a.w, key_id).attempts_left == st0.attempts_left);
            CHECK(sessions_in(a.w, key_id, SK_SESSION_PENDING) == 0);
            CHECK(sessions_in(a.w, key_id, SK_SESSION_REFUSED) == refused + 1);
            CHECK(a.persists > persists); /* the withdrawal's state */
        }
        sn.cancel_at = -1;

        /* a cancel during a resend leaves the approval in flight, persisted;
         * sk_client_resume() finishes it with the same request id */
        sn.pin_reports = 0;
        sn.cancel_at = 2; /* the first send's two reports, then the resend's */
        a.exchanges = 0;
        a.lose_reply = 2;
        done = completed_sessions(a.w, key_id);
        CHECK_RC(SK_ERR_CANCELLED, sign_once(&a, c, "in flight", PIN_SIGN, digest, sig,
                                             &sig_len));
        CHECK(sk_client_pending(c) == SK_CLIENT_REQ_APPROVE);
        CHECK(completed_sessions(a.w, key_id) == done + 1); /* the server took it */
        sk_client_free(c);
        disarm(&a);
        c = start(&a); /* from the persisted blob: the approval is still there */
        CHECK(sk_client_pending(c) == SK_CLIENT_REQ_APPROVE);
        sk_client_resumed res;
        CHECK_OK(sk_client_resume(c, (const uint8_t *)PIN_SIGN, strlen(PIN_SIGN), &res));
        CHECK(res.request == SK_CLIENT_REQ_APPROVE);
        CHECK_OK(res.result);
        CHECK(verifies(a.w, key_id, digest, res.signature, res.signature_len));
        CHECK(completed_sessions(a.w, key_id) == done + 1); /* not signed twice */

        /* a PIN progress set before the key is loaded reaches the key */
        sn.pin_reports = 0;
        sk_client_free(c);
        sk_client_io io = {io_exchange, io_persist, io_now, &a, 2};
        CHECK_OK(sk_client_new(&c, &io, storage_key, sizeof storage_key));
        sk_client_set_pin_progress(c, &pin_progress);
        CHECK_OK(sk_client_load(c, a.blob, a.blob_len));
        CHECK_OK(sign_once(&a, c, "after load", PIN_SIGN, digest, sig, &sig_len));
        CHECK(sn.pin_reports == 2);
        /* and cleared, reports stop */
        sk_client_set_pin_progress(c, NULL);
        CHECK_OK(sign_once(&a, c, "cleared", PIN_SIGN, digest, sig, &sig_len));
        CHECK(sn.pin_reports == 2);
        CHECK(a.clones == 0);
        CHECK(server_status(a.w, key_id).state == SK_KEY_ACTIVE);
        sk_client_free(c);
        world_free(a.w);
    }

    /* The layer's contract at its edges. */
    {
        app a;
        memset(&a, 0, sizeof a);
        a.w = world_new();
        sk_client *c = start(&a);
        sk_client_resumed res;
        sk_key_status st;
        CHECK(sk_client_key(c) == NULL);
        CHECK(sk_client_pending(c) == SK_CLIENT_REQ_NONE);
        CHECK_RC(SK_ERR_PROTO_STATE, sk_client_resume(c, NULL, 0, &res));
        CHECK_RC(SK_ERR_PROTO_STATE, sk_client_key_state(c, &st));
        sk_client_free(c);
        sk_client_io io = {io_exchange, NULL, NULL, &a, 0};
        c = NULL;
        CHECK_RC(SK_ERR_ARG, sk_client_new(&c, &io, storage_key, sizeof storage_key));
        CHECK(c == NULL);
        world_free(a.w);
    }
    return sk_test_done("protocol_client_crash");
}
