/* SPDX-License-Identifier: Apache-2.0 */
/* Progress, cancel and buffer sizes of the device API.
 * - Key generation reports SK_PROGRESS_KEYGEN from 0 to 1000 (total 1000),
 *   never going back; a cancel at the first, a middle and the last report
 *   returns SK_ERR_CANCELLED with no share, ds wiped and no further report
 *   (the leak check of the sanitizer builds sees that nothing is kept).
 * - PIN stretching reports 0 of 1 and 1 of 1; a cancel at either gives
 *   SK_ERR_CANCELLED, a wiped output and no share.
 * - A cancelled sk_device_enrol_start_opts() writes nothing and leaves no
 *   enrolment (the server never hears of it); an uncancelled one reports
 *   key generation then PIN stretching and enrols.
 * - sk_device_request_max_len() bounds every request the device builds
 *   with every text at its limit (8K profile), and is less than twice the
 *   largest; sk_device_state_max_len() bounds the sealed state. */
#include <string.h>

#include "internal.h"
#include "world.h"

#define MAX_REPORTS 4096

typedef struct rec {
    unsigned n;
    unsigned cancel_at; /* 1-based report that returns nonzero; 0: none */
    /* or, when cancel_stage is set: the first report of that stage with
     * done >= cancel_done */
    sk_progress_stage cancel_stage;
    unsigned cancel_done;
    bool cancelled;
    sk_progress_stage stage[MAX_REPORTS];
    unsigned done[MAX_REPORTS], total[MAX_REPORTS];
} rec;

static rec r;

static int record(void *ctx, sk_progress_stage stage, unsigned done, unsigned total)
{
    rec *x = ctx;
    if (x->n < MAX_REPORTS) {
        x->stage[x->n] = stage;
        x->done[x->n] = done;
        x->total[x->n] = total;
    }
    x->n++;
    if (x->cancel_stage != 0)
        x->cancelled = stage == x->cancel_stage && done >= x->cancel_done;
    else
        x->cancelled = x->cancel_at != 0 && x->n == x->cancel_at;
    return x->cancelled;
}

static void rec_reset(unsigned cancel_at)
{
    memset(&r, 0, sizeof r);
    r.cancel_at = cancel_at;
}

static bool all_zero(const uint8_t *p, size_t len)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < len; i++)
        acc |= p[i];
    return acc == 0;
}

/* The reports of stage from index from on: total fixed, done never
 * decreasing and within total.  Returns how many there are. */
static unsigned check_reports(unsigned from, sk_progress_stage stage, unsigned total)
{
    unsigned i = from;
    for (; i < r.n && i < MAX_REPORTS && r.stage[i] == stage; i++) {
        CHECK(r.total[i] == total);
        CHECK(r.done[i] <= total);
        if (i > from)
            CHECK(r.done[i] >= r.done[i - 1]);
    }
    return i - from;
}

static void test_keygen(void)
{
    const unsigned k = 1024;
    const sk_progress cb = {record, &r};
    uint8_t ds[128];
    sk_client_share *s = NULL;
    sk_drbg d;

    /* A whole run with a fixed seed: the reference sequence. */
    rec_reset(0);
    sk_drbg_init(&d, (const uint8_t *)"progress", 8);
    CHECK_OK(sk_client_keygen_progress_rng(&s, ds, sizeof ds, k, &d.rng, &cb));
    CHECK(s != NULL);
    sk_client_share_free(s);
    s = NULL;
    unsigned total = r.n;
    CHECK(total >= 4 && total < MAX_REPORTS);
    CHECK(check_reports(0, SK_PROGRESS_KEYGEN, 1000) == total);
    CHECK(r.done[0] == 0);
    CHECK(r.done[total - 1] == 1000);
    CHECK(r.done[total / 2] > 0 && r.done[total / 2] < 1000);
    unsigned saw_second = 0;
    for (unsigned i = 0; i < total; i++)
        saw_second |= r.done[i] >= 500 && r.done[i] < 1000;
    CHECK(saw_second);

    /* The same run cancelled at the first, a middle and the last report. */
    const unsigned at[3] = {1, total / 2, total};
    for (int i = 0; i < 3; i++) {
        rec_reset(at[i]);
        memset(ds, 0xa5, sizeof ds);
        sk_drbg_init(&d, (const uint8_t *)"progress", 8);
        s = (sk_client_share *)&r; /* must be overwritten with NULL */
        CHECK_RC(SK_ERR_CANCELLED,
                 sk_client_keygen_progress_rng(&s, ds, sizeof ds, k, &d.rng, &cb));
        CHECK(s == NULL);
        CHECK(r.n == at[i]); /* nothing reported after the cancel */
        CHECK(all_zero(ds, sizeof ds));
    }

    /* The public function, and a NULL callback (no reports). */
    rec_reset(1);
    uint8_t ds4[SK_PARTIAL_LEN(SK_PROFILE_4K)];
    CHECK_RC(SK_ERR_CANCELLED,
             sk_client_keygen_progress(&s, ds4, sizeof ds4, SK_PROFILE_4K, &cb));
    CHECK(s == NULL && r.n == 1);
    const sk_progress none = {NULL, NULL};
    sk_drbg_init(&d, (const uint8_t *)"progress", 8);
    CHECK_OK(sk_client_keygen_progress_rng(&s, ds, sizeof ds, k, &d.rng, &none));
    sk_client_share_free(s);
    sk_drbg_wipe(&d);
}

static void test_pin(void)
{
    const unsigned k = 1024;
    const sk_progress cb = {record, &r};
    const uint8_t *pin = (const uint8_t *)PIN_SIGN;
    uint8_t ds[128], n1[128], w[SK_WRAPPED_LEN(1024)];
    sk_client_share *s = NULL, *u = NULL;
    sk_drbg d;
    sk_drbg_init(&d, (const uint8_t *)"pin", 3);
    CHECK_OK(sk_client_keygen_rng(&s, ds, sizeof ds, k, &d.rng));
    if (s == NULL)
        return;
    CHECK_OK(sk_client_share_modulus(s, n1, sizeof n1));

    rec_reset(0);
    CHECK_OK(sk_client_share_wrap_progress(s, w, sizeof w, pin, 5, SK_KDF_MINIMUM, &cb));
    CHECK(r.n == 2 && check_reports(0, SK_PROGRESS_PIN, 1) == 2);
    CHECK(r.done[0] == 0 && r.done[1] == 1);
    rec_reset(0);
    CHECK_OK(sk_client_share_unwrap_progress(&u, w, sizeof w, n1, sizeof n1, pin, 5, &cb));
    CHECK(u != NULL);
    sk_client_share_free(u);
    u = NULL;
    CHECK(r.n == 2 && r.done[0] == 0 && r.done[1] == 1);

    for (unsigned at = 1; at <= 2; at++) {
        uint8_t w2[sizeof w];
        rec_reset(at);
        CHECK_RC(SK_ERR_CANCELLED,
                 sk_client_share_wrap_progress(s, w2, sizeof w2, pin, 5, SK_KDF_MINIMUM, &cb));
        CHECK(r.n == at && all_zero(w2, sizeof w2));
        rec_reset(at);
        CHECK_RC(SK_ERR_CANCELLED,
                 sk_client_share_unwrap_progress(&u, w, sizeof w, n1, sizeof n1, pin, 5, &cb));
        CHECK(r.n == at && u == NULL);
    }
    sk_client_share_free(s);
    sk_drbg_wipe(&d);
}

static uint8_t msg[SK_MAX_MESSAGE_LEN], reply[SK_MAX_MESSAGE_LEN];

static sk_device_enrol_options enrol_options(world *w, sk_profile profile, const sk_progress *cb)
{
    sk_device_enrol_options o;
    memset(&o, 0, sizeof o);
    o.server_pub = w->server_pub;
    o.server_pub_len = sizeof w->server_pub;
    o.purpose = SK_PURPOSE_SIGN;
    o.profile = profile;
    o.pin = (const uint8_t *)PIN_SIGN;
    o.pin_len = strlen(PIN_SIGN);
    o.kdf_cost = SK_KDF_MINIMUM;
    o.subject = "C=LV,GN=ANNA,SN=BERZINA,serialNumber=PNOLV-010101-12345";
    o.progress = cb;
    return o;
}

static void test_enrol(void)
{
    world *w = world_new();
    const sk_progress cb = {record, &r};
    sk_device_enrolment *e = NULL;
    sk_device_key *key = NULL;
    size_t len = 0, rlen = 0;

    /* A whole enrolment start: key generation, then PIN stretching. */
    rec_reset(0);
    sk_device_enrol_options o = enrol_options(w, SK_PROFILE_4K, &cb);
    CHECK_OK(sk_device_enrol_start_opts(&e, msg, sizeof msg, &len, &o));
    unsigned kg = check_reports(0, SK_PROGRESS_KEYGEN, 1000);
    CHECK(kg >= 3 && r.done[0] == 0 && r.done[kg - 1] == 1000);
    CHECK(check_reports(kg, SK_PROGRESS_PIN, 1) == 2 && r.n == kg + 2);
    unsigned whole = r.n;
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK_OK(sk_device_enrol_continue(e, msg, sizeof msg, &len, reply, rlen));
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK_OK(sk_device_enrol_finish(e, &key, reply, rlen));
    CHECK(key != NULL && w->nkeys == 1);
    sk_device_key_free(key);
    sk_device_enrolment_free(e);
    e = NULL;

    /* Cancelled at the first report, in the middle and at the end of key
     * generation, and before and after PIN stretching: nothing written, no
     * enrolment, no report after the cancel. */
    const struct {
        sk_progress_stage stage;
        unsigned done;
    } at[5] = {{SK_PROGRESS_KEYGEN, 0},
               {SK_PROGRESS_KEYGEN, 500},
               {SK_PROGRESS_KEYGEN, 1000},
               {SK_PROGRESS_PIN, 0},
               {SK_PROGRESS_PIN, 1}};
    for (int i = 0; i < 5; i++) {
        rec_reset(0);
        r.cancel_stage = at[i].stage;
        r.cancel_done = at[i].done;
        memset(msg, 0, sizeof msg);
        len = 1;
        e = (sk_device_enrolment *)&r;
        CHECK_RC(SK_ERR_CANCELLED, sk_device_enrol_start_opts(&e, msg, sizeof msg, &len, &o));
        CHECK(e == NULL && len == 0 && r.cancelled);
        CHECK(r.n >= 1 && r.n <= MAX_REPORTS && r.stage[r.n - 1] == at[i].stage);
        CHECK(all_zero(msg, sizeof msg));
        if (e != NULL && e != (sk_device_enrolment *)&r)
            sk_device_enrolment_free(e);
    }
    CHECK(w->nkeys == 1);
    CHECK(whole >= 5);
    world_free(w);
}

/* A registration token of exactly SK_MAX_TOKEN_LEN characters in the
 * device's format ("skt2." public part "." 43 base64url characters). */
static void long_token(char *t)
{
    size_t secret = 43, pub = SK_MAX_TOKEN_LEN - 5 - 1 - secret;
    memcpy(t, "skt2.", 5);
    memset(t + 5, 'P', pub);
    t[5 + pub] = '.';
    memset(t + 6 + pub, 'A', secret);
    t[SK_MAX_TOKEN_LEN] = '\0';
}

static size_t largest;

static void fits(const char *what, size_t written, size_t bound)
{
    if (written > bound)
        fprintf(stderr, "%s: %zu bytes, bound %zu\n", what, written, bound);
    CHECK(written > 0 && written <= bound);
    if (written > largest)
        largest = written;
}

static void test_sizes(void)
{
    const sk_profile profile = SK_PROFILE_8K;
    const size_t bound = sk_device_request_max_len(profile);
    const size_t state_bound = sk_device_state_max_len(profile);
    CHECK(sk_device_request_max_len((sk_profile)1234) == 0);
    CHECK(sk_device_state_max_len((sk_profile)1234) == 0);
    CHECK(sk_device_request_max_len(SK_PROFILE_4K) < sk_device_request_max_len(SK_PROFILE_6K));
    CHECK(sk_device_request_max_len(SK_PROFILE_6K) < bound);
    CHECK(bound <= SK_MAX_MESSAGE_LEN && state_bound <= SK_MAX_MESSAGE_LEN);

    world *w = world_new();
    sk_device_enrolment *e = NULL;
    sk_device_key *key = NULL;
    size_t len = 0, rlen = 0;
    static char token[SK_MAX_TOKEN_LEN + 1], subject[SK_MAX_SUBJECT_LEN + 1],
        text[SK_MAX_DISPLAY_TEXT_LEN + 1];
    long_token(token);
    memset(subject, 'S', SK_MAX_SUBJECT_LEN);
    memset(text, 'D', SK_MAX_DISPLAY_TEXT_LEN);
    largest = 0;

    /* EnrolInit at its largest (never sent: the token is not one the
     * server issued), and with a challenge. */
    sk_device_enrol_options o = enrol_options(w, profile, NULL);
    o.token = token;
    o.subject = subject;
    CHECK_OK(sk_device_enrol_start_opts(&e, msg, sizeof msg, &len, &o));
    fits("EnrolInit", len, bound);
    sk_device_enrolment_free(e);
    e = NULL;

    /* A real enrolment (open, person subject): EnrolSubmit and its retry. */
    o = enrol_options(w, profile, NULL);
    CHECK_OK(sk_device_enrol_start_opts(&e, msg, sizeof msg, &len, &o));
    fits("EnrolInit", len, bound);
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK_OK(sk_device_enrol_continue(e, msg, sizeof msg, &len, reply, rlen));
    fits("EnrolSubmit", len, bound);
    CHECK_OK(sk_device_enrol_retry(e, msg, sizeof msg, &len));
    fits("EnrolSubmit again", len, bound);
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK_OK(sk_device_enrol_finish(e, &key, reply, rlen));
    sk_device_enrolment_free(e);
    if (key == NULL) {
        world_free(w);
        return;
    }

    /* Every request of the key from the same stored state. */
    static uint8_t state[SK_MAX_MESSAGE_LEN];
    size_t state_len = 0;
    const uint8_t skey[SK_STORAGE_KEY_LEN] = {1};
    CHECK_OK(sk_device_key_seal(key, state, sizeof state, &state_len, skey, sizeof skey));
    CHECK(state_len <= state_bound);
    uint8_t digest[SK_MAX_HASH_LEN] = {7};
    const uint8_t *pin = (const uint8_t *)PIN_SIGN;

    CHECK_OK(sk_device_pop_create(key, msg, sizeof msg, &len, w->now, SK_HASH_SHA512, text, NULL,
                                  0));
    fits("SessionCreate (proof of possession)", len, bound);
    static uint8_t sealed[SK_MAX_MESSAGE_LEN];
    size_t sealed_len = 0;
    CHECK_OK(sk_device_key_seal(key, sealed, sizeof sealed, &sealed_len, skey, sizeof skey));
    CHECK(sealed_len <= state_bound);
    CHECK_OK(sk_device_retry(key, msg, sizeof msg, &len, w->now, NULL, 0));
    fits("SessionCreate again", len, bound);
    sk_device_session *s = NULL;
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK_OK(sk_device_read_session(key, &s, NULL, reply, rlen));
    sk_device_key_free(key);

#define FRESH()                                                                                \
    do {                                                                                       \
        key = NULL;                                                                            \
        CHECK_OK(sk_device_key_open(&key, state, state_len, skey, sizeof skey));               \
    } while (0)
    FRESH();
    CHECK_OK(sk_device_session_create(key, msg, sizeof msg, &len, w->now, digest, 64,
                                      SK_HASH_SHA512, SK_SCHEME_PSS, text));
    fits("SessionCreate", len, bound);
    sk_device_key_free(key);
    FRESH();
    CHECK_OK(sk_device_fetch(key, msg, sizeof msg, &len, w->now));
    fits("SessionFetch", len, bound);
    sk_device_key_free(key);
    if (s != NULL) {
        FRESH();
        CHECK_OK(sk_device_refuse(key, msg, sizeof msg, &len, w->now, s));
        fits("SessionRefuse", len, bound);
        sk_device_key_free(key);
        FRESH();
        CHECK_OK(sk_device_approve(key, msg, sizeof msg, &len, w->now, s, pin, 5));
        fits("SignSubmit", len, bound);
        CHECK_OK(sk_device_retry(key, msg, sizeof msg, &len, w->now, pin, 5));
        fits("SignSubmit again", len, bound);
        CHECK_OK(sk_device_key_seal(key, sealed, sizeof sealed, &sealed_len, skey, sizeof skey));
        CHECK(sealed_len <= state_bound);
        sk_device_key_free(key);
    }
    FRESH();
    CHECK_OK(sk_device_revoke(key, msg, sizeof msg, &len, w->now, pin, 5));
    fits("Revoke", len, bound);
    sk_device_key_free(key);
    FRESH();
    CHECK_OK(sk_device_otp_refresh(key, msg, sizeof msg, &len, w->now));
    fits("OtpRefresh", len, bound);
    sk_device_key_free(key);
    FRESH();
    CHECK_OK(sk_device_key_state_request(key, msg, sizeof msg, &len, w->now));
    fits("KeyState", len, bound);
    sk_device_key_free(key);
#undef FRESH
    sk_device_session_free(s);

    /* Not absurdly loose: the largest request is more than half the bound. */
    fprintf(stderr, "largest request %zu bytes, bound %zu, state bound %zu\n", largest, bound,
            state_bound);
    CHECK(2 * largest > bound);
    world_free(w);
}

int main(void)
{
    sk_test_init();
    test_keygen();
    test_pin();
    test_enrol();
    test_sizes();
    return sk_test_done("protocol_progress");
}
