/* SPDX-License-Identifier: Apache-2.0 */
/* handle.c - the server's handling of device requests (doc/protocol.md
 * sections 3-5) as a
 * pure function of the stored records, the request, the policy, the time and
 * the randomness; and the result object the caller acts on. */
#include <sodium.h>
#include <string.h>

#include "pki/csr_internal.h"
#include "protocol/server/server_internal.h"

/* ------------------------------------------------------------------ result */

const uint8_t *sk_server_result_reply(const sk_server_result *res, size_t *len)
{
    *len = res->reply_len;
    return res->reply;
}
const sk_key_rec *sk_server_result_key(const sk_server_result *res) { return res->key; }
const sk_session_rec *sk_server_result_session(const sk_server_result *res) { return res->session; }
const sk_key_rec *sk_server_result_superseded(const sk_server_result *res)
{
    return res->superseded;
}
int sk_server_result_status(const sk_server_result *res) { return res->status; }
unsigned sk_server_result_effects(const sk_server_result *res) { return res->effects; }
int sk_server_result_revoke_reason(const sk_server_result *res) { return res->revoke_reason; }
const uint8_t *sk_server_result_csr(const sk_server_result *res, size_t *len)
{
    *len = res->csr_len;
    return res->csr_len ? res->csr : NULL;
}

void sk_server_result_free(sk_server_result *res)
{
    if (res == NULL)
        return;
    sk_key_rec_free(res->key);
    sk_key_rec_free(res->superseded);
    sk_session_rec_free(res->session);
    sodium_memzero(res, sizeof *res);
    free(res);
}

int sk_server_plain_error(uint8_t *out, size_t cap, size_t *written, int code)
{
    uint8_t body[64];
    size_t len = 0;
    *written = 0;
    if (code >= 0)
        return SK_ERR_ARG;
    int rc = skp_error_body(body, sizeof body, &len, code, NULL);
    if (rc != SK_OK)
        return rc;
    return skp_env_plain(out, cap, written, NULL, SPLITKEY__MSG_TYPE__MSG_PLAIN_ERROR, body, len);
}

/* ------------------------------------------------------------------ context */

typedef struct sks_ctx {
    const sk_server_input *in;
    sk_rng rng;
    sk_server_result *res;
    sk_key_rec *rec;      /* working copy of the key record */
    sk_session_rec *sess; /* working copy or new session */
    bool sess_changed;
    uint8_t rx[SKP_TEK_LEN];  /* secret: transport key device -> server */
    uint8_t tx[SKP_TEK_LEN];  /* secret: transport key server -> device */
    uint8_t shared[32];       /* secret: X25519(server, the request's ephemeral) */
    uint8_t req_eph[SKP_KX_PUB_LEN];
    uint8_t rid[SKP_REQUEST_ID_LEN];   /* the request's id */
    uint8_t otp_hash[SKP_OTP_HASH_LEN]; /* of the one-time password it carried */
    uint8_t binding[SKP_BINDING_LEN];   /* skp_request_binding of the request */
    bool has_binding;                   /* not for EnrolInit */
    bool continuation; /* the PIN check under this request's committed charge */
    sk_key_status err_status; /* details for an error reply */
    bool has_err_status;
    /* the reply the operation chose: type and body (sealed at the end) */
    uint32_t reply_type;
    uint8_t reply_body[SKP_MAX_BODY_LEN];
    size_t reply_body_len;
    bool have_new_otp;
    uint8_t new_otp[SKP_OTP_LEN]; /* secret */
    bool no_reply;    /* a charge to store first, or a certificate to ask for */
    bool cert_needed; /* proof of possession signed; the caller asks the CA */
} sks_ctx;

static bool is_bad_request(int rc)
{
    return rc == SK_ERR_PROTO_DECODE || rc == SK_ERR_LIMIT || rc == SK_ERR_BAD_VALUE ||
           rc == SK_ERR_ARG || rc == SK_ERR_CSR;
}

static int plain_error(sk_server_result *res, int code)
{
    res->status = code;
    return sk_server_plain_error(res->reply, sizeof res->reply, &res->reply_len, code);
}

/* The operation's reply: packed now, sealed with the next one-time password
 * when the request is done (finish()). */
static int reply_msg(sks_ctx *c, uint32_t type, const ProtobufCMessage *m)
{
    c->reply_type = type;
    return skp_pack(m, c->reply_body, sizeof c->reply_body, &c->reply_body_len);
}

static int reply_error(sks_ctx *c, int code)
{
    sk_key_status st;
    if (!c->has_err_status)
        sks_status(c->rec, c->in->policy, c->in->now, &st);
    else
        st = c->err_status;
    c->res->status = code;
    c->reply_type = SPLITKEY__MSG_TYPE__MSG_ERROR;
    return skp_error_body(c->reply_body, sizeof c->reply_body, &c->reply_body_len, code, &st);
}

/* The charge ends (decided, or given back): the attempt it kept is wiped. */
static void lease_end(sk_key_rec *r)
{
    r->has_lease = false;
    sodium_memzero(r->lease_y, sizeof r->lease_y);
    r->lease_y_len = 0;
}

static void destroy_key(sks_ctx *c, sk_destroy_reason reason, int crl_reason)
{
    sk_key_rec *r = c->rec;
    r->state = SK_KEY_DESTROYED;
    r->destroy_reason = reason;
    r->locked_until = 0;
    r->has_pop = false;
    lease_end(r);
    sodium_memzero(r->ds, sizeof r->ds);
    r->ds_len = 0;
    sodium_memzero(r->server_key, sizeof r->server_key);
    r->server_key_len = 0;
    c->res->effects |= SK_EFFECT_REVOKE_CERT | SK_EFFECT_DELETE_SECRETS;
    c->res->revoke_reason = crl_reason;
}

/* The one-time password the reply hands over (made once per request). */
static int next_otp(sks_ctx *c)
{
    if (c->have_new_otp)
        return SK_OK;
    int rc = c->rng.fill(c->rng.ctx, c->new_otp, SKP_OTP_LEN);
    c->have_new_otp = rc == SK_OK;
    return rc;
}

/* ------------------------------------------------------ stored replies */

/* The key under which the reply to the newest request is kept in the
 * record, for a resend: BLAKE2b-256 (key: tx) of a label.  Whoever can
 * derive it could read the reply off the wire anyway. */
static void store_key(uint8_t *out, const uint8_t *tx)
{
    static const char label[] = "splitkey stored reply v2";
    crypto_generichash(out, 32, (const uint8_t *)label, sizeof label - 1, tx, SKP_TEK_LEN);
}

static int stored_seal(sks_ctx *c, const uint8_t *plain, size_t plain_len)
{
    uint8_t key[32];
    unsigned long long clen = 0;
    if (SKP_NONCE_LEN + plain_len + SKP_TAG_LEN > sizeof c->rec->last_reply)
        return SK_ERR_LIMIT;
    int rc = c->rng.fill(c->rng.ctx, c->rec->last_reply, SKP_NONCE_LEN);
    if (rc != SK_OK)
        return rc;
    store_key(key, c->tx);
    crypto_aead_xchacha20poly1305_ietf_encrypt(c->rec->last_reply + SKP_NONCE_LEN, &clen, plain,
                                               plain_len, c->rid, SKP_REQUEST_ID_LEN, NULL,
                                               c->rec->last_reply, key);
    sodium_memzero(key, sizeof key);
    c->rec->last_reply_len = SKP_NONCE_LEN + (size_t)clen;
    return SK_OK;
}

/* Seals a DeviceReply {rid, otp, challenge, body} to the request. */
static int seal_device_reply(sks_ctx *c, uint32_t type, const uint8_t *otp,
                             const uint8_t *challenge, const uint8_t *body, size_t body_len,
                             bool keep)
{
    Splitkey__DeviceReply d = SPLITKEY__DEVICE_REPLY__INIT;
    size_t len = 0;
    uint8_t *plain = malloc(SKP_MAX_BODY_LEN);
    if (plain == NULL)
        return SK_ERR_NOMEM;
    d.request_id = skp_bin(c->rid, SKP_REQUEST_ID_LEN);
    if (otp != NULL)
        d.otp = skp_bin(otp, SKP_OTP_LEN);
    if (challenge != NULL)
        d.challenge = skp_bin(challenge, SKP_CHALLENGE_LEN);
    if (c->has_binding)
        d.request_hash = skp_bin(c->binding, SKP_BINDING_LEN);
    d.body = skp_bin(body, body_len);
    int rc = skp_pack(&d.base, plain, SKP_MAX_BODY_LEN, &len);
    if (rc == SK_OK && keep) {
        rc = stored_seal(c, plain, len);
        c->rec->last_reply_type = type;
    }
    if (rc == SK_OK)
        rc = skp_rep_seal(c->res->reply, sizeof c->res->reply, &c->res->reply_len,
                          c->in->key != NULL ? c->in->key->key_id : c->rec->key_id, type, c->tx,
                          c->shared, c->req_eph, plain, len, &c->rng);
    sodium_memzero(plain, SKP_MAX_BODY_LEN);
    free(plain);
    return rc;
}

/* A resend of the newest request: the stored reply, sealed to this
 * request's ephemeral key.  Nothing changes. */
static int resend(sks_ctx *c)
{
    const sk_key_rec *r = c->in->key;
    uint8_t key[32];
    unsigned long long mlen = 0;
    ProtobufCMessage *m = NULL;
    if (r->last_reply_len < SKP_NONCE_LEN + SKP_TAG_LEN)
        return SK_ERR_INTERNAL;
    uint8_t *plain = malloc(SKP_MAX_BODY_LEN);
    if (plain == NULL)
        return SK_ERR_NOMEM;
    store_key(key, c->tx);
    int rc = SK_OK;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(
            plain, &mlen, NULL, r->last_reply + SKP_NONCE_LEN, r->last_reply_len - SKP_NONCE_LEN,
            c->rid, SKP_REQUEST_ID_LEN, r->last_reply, key) != 0)
        rc = SK_ERR_INTERNAL;
    sodium_memzero(key, sizeof key);
    if (rc == SK_OK)
        rc = skp_rep_seal(c->res->reply, sizeof c->res->reply, &c->res->reply_len, r->key_id,
                          r->last_reply_type, c->tx, c->shared, c->req_eph, plain, (size_t)mlen,
                          &c->rng);
    c->res->status = SK_OK;
    if (rc == SK_OK && r->last_reply_type == SPLITKEY__MSG_TYPE__MSG_ERROR &&
        skp_unpack(&splitkey__device_reply__descriptor, &m, plain, (size_t)mlen,
                   SKP_MAX_BODY_LEN) == SK_OK) {
        const Splitkey__DeviceReply *d = (const Splitkey__DeviceReply *)m;
        c->res->status = skp_error_read(d->body.data, d->body.len, NULL);
    }
    skp_free(m);
    sodium_memzero(plain, SKP_MAX_BODY_LEN);
    free(plain);
    return rc;
}

/* -------------------------------------------------------------- challenges */

/* challenge = issued_at (8, big-endian) || BLAKE2b-256 (key: derived from
 * the identity's X25519 secret) of a label, key id, request id, issued_at.
 * Stateless: the server checks the tag and the age. */
static void challenge_tag(uint8_t *tag, const sk_server_ident *id, const uint8_t *key_id,
                          const uint8_t *rid, const uint8_t *issued)
{
    uint8_t msg[SKP_KEY_ID_LEN + SKP_REQUEST_ID_LEN];
    memcpy(msg, key_id, SKP_KEY_ID_LEN);
    memcpy(msg + SKP_KEY_ID_LEN, rid, SKP_REQUEST_ID_LEN);
    sks_derived_hash(tag, 32, id->kx_sk, "splitkey challenge key v2", "splitkey challenge v2", msg,
                     sizeof msg, issued, 8);
}

static bool challenge_ok(const sks_ctx *c, const ProtobufCBinaryData *ch)
{
    uint8_t tag[32];
    if (ch->len != SKP_CHALLENGE_LEN)
        return false;
    uint64_t issued = 0;
    for (int i = 0; i < 8; i++)
        issued = issued << 8 | ch->data[i];
    challenge_tag(tag, c->in->identity, c->in->key->key_id, c->rid, ch->data);
    bool ok = sodium_memcmp(tag, ch->data + 8, 32) == 0 && issued <= c->in->now &&
              c->in->now - issued <= SKP_CHALLENGE_SECONDS;
    sodium_memzero(tag, sizeof tag);
    return ok;
}

/* A CHALLENGE reply: send the same request again with this; no change. */
static int challenge(sks_ctx *c)
{
    uint8_t ch[SKP_CHALLENGE_LEN], body[64];
    size_t len = 0;
    for (int i = 7; i >= 0; i--)
        ch[7 - i] = (uint8_t)(c->in->now >> (8 * i));
    challenge_tag(ch + 8, c->in->identity, c->in->key->key_id, c->rid, ch);
    int rc = skp_error_body(body, sizeof body, &len, SK_ERR_PROTO_CHALLENGE, NULL);
    if (rc == SK_OK)
        rc = seal_device_reply(c, SPLITKEY__MSG_TYPE__MSG_ERROR, NULL, ch, body, len, false);
    c->res->status = SK_ERR_PROTO_CHALLENGE;
    return rc;
}

/* ----------------------------------------------------------- classification */

/* How an authentic request stands against the key's one-time passwords
 * (doc/protocol.md section 4, "Which request is this?"). */
typedef enum {
    REQ_FRESH,        /* the current OTP, a new request: handle it */
    REQ_CONTINUATION, /* the request whose PIN check was charged: decide it */
    REQ_RESEND,       /* the newest request again: its stored reply */
    REQ_CHALLENGE,    /* an old request, or an OTP too old to know: prove freshness */
    REQ_CLONE,        /* a second request under one OTP, or a fresh stale one */
    REQ_RESYNC        /* key_restored: a fresh request from a device ahead of the record */
} req_class;

static req_class classify(const sks_ctx *c, const ProtobufCBinaryData *ch)
{
    const sk_key_rec *r = c->in->key;
    bool current = sodium_memcmp(c->otp_hash, r->otp_hash, SKP_OTP_HASH_LEN) == 0;
    if (current) {
        if (!r->has_lease)
            return REQ_FRESH;
        if (sodium_memcmp(c->rid, r->lease_request_id, SKP_REQUEST_ID_LEN) == 0 &&
            sodium_memcmp(c->otp_hash, r->lease_otp_hash, SKP_OTP_HASH_LEN) == 0 &&
            sodium_memcmp(c->binding, r->lease_binding, SKP_BINDING_LEN) == 0)
            return REQ_CONTINUATION;
        /* The charged request holds this OTP: another request under it, or
         * another message under the charged request's id, is a second
         * holder of the device state. */
        return REQ_CLONE;
    }
    for (size_t i = r->n_hist; i-- > 0;) {
        if (sodium_memcmp(c->otp_hash, r->hist[i].otp_hash, SKP_OTP_HASH_LEN) != 0)
            continue;
        if (sodium_memcmp(c->rid, r->hist[i].request_id, SKP_REQUEST_ID_LEN) != 0)
            return REQ_CLONE; /* an honest device makes one request per OTP */
        if (i + 1 == r->n_hist) {
            /* A resend keeps its binding; another message under the newest
             * request's id and OTP was made by a copy of the device state.
             * (A record written before bindings were kept has none.) */
            if (r->has_last_binding &&
                sodium_memcmp(c->binding, r->last_binding, SKP_BINDING_LEN) != 0)
                return REQ_CLONE;
            return REQ_RESEND;
        }
        return challenge_ok(c, ch) ? REQ_CLONE : REQ_CHALLENGE;
    }
    /* An OTP the record never saw.  After a restore to an older point that
     * is the device having moved on; the challenge keeps recorded requests
     * (which cannot answer it) from taking that place. */
    if (c->in->key_restored)
        return challenge_ok(c, ch) ? REQ_RESYNC : REQ_CHALLENGE;
    return challenge_ok(c, ch) ? REQ_CLONE : REQ_CHALLENGE;
}

/* REQ_RESYNC: the request's OTP becomes the current one, and a charge the
 * restored record still held ends (its attempt stays counted). */
static void resync(sks_ctx *c, sk_key_rec *r)
{
    memcpy(r->otp_hash, c->otp_hash, SKP_OTP_HASH_LEN);
    lease_end(r);
    c->res->effects |= SK_EFFECT_RESYNC;
}

/* The gate before any PIN-checked operation; SK_OK means: go on. */
static int gate(sks_ctx *c)
{
    const sk_key_rec *r = c->rec;
    if (r->state == SK_KEY_DESTROYED)
        return SK_ERR_DESTROYED;
    if (r->state == SK_KEY_ENROLLING)
        return SK_ERR_NOT_ACTIVE;
    if (r->locked_until > c->in->now)
        return SK_ERR_LOCKED; /* before any exponentiation */
    return SK_OK;
}

/* The key under which a charged attempt is kept in the record: derived
 * from the identity's secret, so neither a reader of the store nor a holder
 * of the device state can read it (with the wrapped share, the partial
 * signature would let them test PINs offline).  The associated data names
 * the key, the request and the OTP it carried. */
static void lease_key(uint8_t *key, uint8_t *ad, const sks_ctx *c)
{
    memcpy(ad, c->rec->key_id, SKP_KEY_ID_LEN);
    memcpy(ad + SKP_KEY_ID_LEN, c->rid, SKP_REQUEST_ID_LEN);
    memcpy(ad + SKP_KEY_ID_LEN + SKP_REQUEST_ID_LEN, c->otp_hash, SKP_OTP_HASH_LEN);
    sks_derived_hash(key, 32, c->in->identity->kx_sk, "splitkey lease key v2",
                     "splitkey lease v2", ad, SKP_KEY_ID_LEN + SKP_REQUEST_ID_LEN, NULL, 0);
}

#define LEASE_AD_LEN (SKP_KEY_ID_LEN + SKP_REQUEST_ID_LEN + SKP_OTP_HASH_LEN)

/* Phase A of a PIN check: the attempt y is charged (fail_count + 1) and
 * kept with the lease; the caller stores this before the check runs, and
 * the check (the same request again) checks this y, whatever y the
 * request that continues it carries. */
static int charge(sks_ctx *c, const uint8_t *y, size_t y_len)
{
    sk_key_rec *r = c->rec;
    uint8_t key[32], ad[LEASE_AD_LEN];
    unsigned long long clen = 0;
    if (SKP_NONCE_LEN + y_len + SKP_TAG_LEN > sizeof r->lease_y)
        return SK_ERR_INTERNAL;
    int rc = c->rng.fill(c->rng.ctx, r->lease_y, SKP_NONCE_LEN);
    if (rc != SK_OK)
        return rc;
    lease_key(key, ad, c);
    crypto_aead_xchacha20poly1305_ietf_encrypt(r->lease_y + SKP_NONCE_LEN, &clen, y, y_len, ad,
                                               sizeof ad, NULL, r->lease_y, key);
    sodium_memzero(key, sizeof key);
    r->lease_y_len = SKP_NONCE_LEN + (size_t)clen;
    r->fail_count++;
    r->has_lease = true;
    memcpy(r->lease_request_id, c->rid, SKP_REQUEST_ID_LEN);
    memcpy(r->lease_otp_hash, c->otp_hash, SKP_OTP_HASH_LEN);
    memcpy(r->lease_binding, c->binding, SKP_BINDING_LEN);
    r->lease_at = c->in->now;
    c->no_reply = true;
    c->res->status = SK_ERR_LEASE;
    return SK_OK;
}

/* The attempt the lease charged, into y (y_len bytes). */
static int charged_attempt(const sks_ctx *c, uint8_t *y, size_t y_len)
{
    const sk_key_rec *r = c->rec;
    uint8_t key[32], ad[LEASE_AD_LEN];
    unsigned long long mlen = 0;
    if (r->lease_y_len != SKP_NONCE_LEN + y_len + SKP_TAG_LEN)
        return SK_ERR_INTERNAL;
    lease_key(key, ad, c);
    int rc = crypto_aead_xchacha20poly1305_ietf_decrypt(y, &mlen, NULL, r->lease_y + SKP_NONCE_LEN,
                                                        r->lease_y_len - SKP_NONCE_LEN, ad,
                                                        sizeof ad, r->lease_y, key);
    sodium_memzero(key, sizeof key);
    if (rc != 0 || mlen != y_len) {
        sodium_memzero(y, y_len);
        return SK_ERR_INTERNAL;
    }
    return SK_OK;
}

/* The check under the charge was not run (the session ended meanwhile):
 * the charge goes back. */
static void uncharge(sks_ctx *c)
{
    if (c->rec->fail_count > 0)
        c->rec->fail_count--;
    lease_end(c->rec);
}

/* A wrong PIN, already charged: lock or destroy per policy. */
static int wrong_pin(sks_ctx *c)
{
    const sk_server_policy *p = c->in->policy;
    sk_key_rec *r = c->rec;
    lease_end(r);
    if (r->fail_count >= p->destroy_failures) {
        destroy_key(c, SK_DESTROY_LOCKOUT, SK_CRL_REASON_CESSATION_OF_OPERATION);
        return SK_ERR_DESTROYED;
    }
    if (r->fail_count == p->lock2_failures)
        r->locked_until = c->in->now + p->lock2_seconds;
    else if (r->fail_count == p->lock1_failures)
        r->locked_until = c->in->now + p->lock1_seconds;
    return SK_ERR_WRONG_PIN;
}

/* The PIN check and the signature (doc/protocol.md section 4, "PIN checks"),
 * under a charge. */
static int complete(sks_ctx *c, uint8_t *sig, const uint8_t *y, const uint8_t *em)
{
    sk_key_rec *r = c->rec;
    sk_server_key *skey = NULL;
    sk_server_share *share = NULL;
    size_t k8 = r->bits / 8, k4 = r->bits / 4;
    int rc;

    if (r->ds_len != k8 || r->server_key_len == 0)
        return SK_ERR_INTERNAL; /* the caller did not load the secrets */
    rc = sk_server_key_import(&skey, r->server_key, r->server_key_len);
    if (rc == SK_OK)
        rc = sk_server_share_new(&share, r->n1, k8, r->ds, k8, skey);
    if (rc != SK_OK) {
        rc = SK_ERR_INTERNAL;
        goto out;
    }
    atomic_fetch_add(&sk_server_completions, 1);
    rc = sk_server_complete(share, sig, k4, y, k8, em, k4);
    if (rc == SK_ERR_PARTIAL_INVALID || rc == SK_ERR_BAD_VALUE) {
        rc = wrong_pin(c); /* y out of range counts as a wrong PIN too */
        goto out;
    }
    if (rc != SK_OK)
        goto out; /* FAULT: withheld; the charge stays */
    lease_end(r);
    r->fail_count = 0;
    r->locked_until = 0;
out:
    sk_server_share_free(share);
    sk_server_key_free(skey);
    return rc;
}

/* ---------------------------------------------------------------- enrolment */

/* EnrolInit: decrypted with the server's X25519 key (no transport key yet).
 * Errors once the device's key is known are sealed to it; before, plain. */
static int handle_enrol_init(sks_ctx *c, const skp_env *env)
{
    const sk_server_input *in = c->in;
    sk_server_result *res = c->res;
    ProtobufCMessage *rm = NULL, *m = NULL;
    sk_key_rec *r = NULL;
    sk_server_key *skey = NULL;
    uint8_t otp[SKP_OTP_LEN], t0[SKP_HASH32_LEN];
    uint8_t signed_data[SKP_MAX_BODY_LEN + 64], sig[SKP_ED_SIG_LEN], token_id[SKP_TOKEN_ID_LEN];
    uint8_t *plain = malloc(SKP_MAX_BODY_LEN), *body = malloc(SKP_MAX_BODY_LEN);
    size_t plain_len = 0, body_len = 0, signed_len = 0;
    mpz_t n1, n2, n, g;
    int rc = SK_OK, err = SK_OK;
    bool sealed = false; /* the device's key is known: errors are sealed */

    mpz_inits(n1, n2, n, g, NULL);
    if (plain == NULL || body == NULL) {
        rc = SK_ERR_NOMEM;
        goto out;
    }
    err = skp_req_open(plain, &plain_len, c->shared, env, NULL, in->identity->kx_sk,
                       in->identity->kx_pk);
    if (err != SK_OK)
        goto out;
    memcpy(c->req_eph, env->eph_pub, SKP_KX_PUB_LEN);
    err = skp_unpack(&splitkey__device_request__descriptor, &rm, plain, plain_len,
                     SKP_MAX_BODY_LEN);
    if (err != SK_OK)
        goto out;
    const Splitkey__DeviceRequest *dr = (const Splitkey__DeviceRequest *)rm;
    if (skp_check_len(&dr->request_id, SKP_REQUEST_ID_LEN) || dr->otp.len != 0 ||
        (dr->challenge.len != 0 && dr->challenge.len != SKP_CHALLENGE_LEN)) {
        err = SK_ERR_LIMIT;
        goto out;
    }
    memcpy(c->rid, dr->request_id.data, SKP_REQUEST_ID_LEN);
    err = skp_unpack(&splitkey__enrol_init__descriptor, &m, dr->body.data, dr->body.len,
                     SKP_MAX_BODY_LEN);
    if (err != SK_OK)
        goto out;
    const Splitkey__EnrolInit *e = (const Splitkey__EnrolInit *)m;
    if (skp_profile_ok(e->profile) || skp_purpose_ok(e->purpose)) {
        err = SK_ERR_PROTO_DECODE;
        goto out;
    }
    unsigned k = e->profile;
    if (skp_check_len(&e->device_kx_pub, SKP_KX_PUB_LEN) || skp_check_len(&e->n1, k / 8) ||
        skp_check_max(&e->registration_token, SKP_MAX_TOKEN_LEN) ||
        skp_check_max(&e->token_proof, SKP_TOKEN_PROOF_LEN) ||
        skp_check_text(e->subject, SKP_MAX_SUBJECT_LEN)) {
        err = SK_ERR_LIMIT;
        goto out;
    }
    if (sks_tek(in->identity, e->device_kx_pub.data, c->rx, c->tx) != SK_OK) {
        err = SK_ERR_PROTO_DECODE;
        goto out;
    }
    sealed = true;
    r = calloc(1, sizeof *r);
    if (r == NULL) {
        rc = SK_ERR_NOMEM;
        goto out;
    }
    /* Registration: a token bound to subject and purpose, proven by a proof
     * over this device's key and n1; or open enrolment. */
    if (e->registration_token.len > 0) {
        if (sks_token_check(in->identity, e->registration_token.data, e->registration_token.len,
                            e->token_proof.data, e->token_proof.len, k, e->device_kx_pub.data,
                            e->n1.data, e->n1.len, (sk_purpose)e->purpose, in->now, r->subject,
                            sizeof r->subject, token_id) != SK_OK ||
            in->token_refused) {
            err = SK_ERR_TOKEN;
            goto out;
        }
        if (in->token_used) {
            /* The token enrolled a key before.  If that enrolment never
             * finished (a crash lost the device's half of it), whoever holds
             * the token may start again, once the request has proved it is
             * fresh: a replayed EnrolInit cannot answer the challenge, so it
             * can never undo an enrolment in progress. */
            const sk_key_rec *p = in->key;
            if (p == NULL || (p->state != SK_KEY_ENROLLING && p->state != SK_KEY_PENDING)) {
                err = SK_ERR_TOKEN;
                goto out;
            }
            if (!challenge_ok(c, &dr->challenge)) {
                sk_key_rec none;
                memset(&none, 0, sizeof none);
                c->rec = &none; /* sealed as enrolment replies are: no key named */
                rc = challenge(c);
                c->rec = NULL;
                goto out;
            }
            res->superseded = sks_key_copy(p);
            if (res->superseded == NULL) {
                rc = SK_ERR_NOMEM;
                goto out;
            }
            c->rec = res->superseded;
            destroy_key(c, SK_DESTROY_ABANDONED, 0);
            c->rec = NULL;
            res->superseded->version = p->version + 1;
            res->effects = SK_EFFECT_SUPERSEDE; /* no certificate to revoke */
        }
        res->effects |= SK_EFFECT_TOKEN_USED;
    } else if (in->policy->open_enrolment) {
        if (e->subject != NULL)
            memcpy(r->subject, e->subject, strlen(e->subject) + 1);
    } else {
        err = SK_ERR_TOKEN;
        goto out;
    }
    err = sk_check_client_modulus(e->n1.data, e->n1.len, (sk_profile)k);
    if (err != SK_OK)
        goto out;
    if (in->pool_key == NULL || in->pool_key_len != SK_SERVER_KEY_LEN(k) ||
        sk_server_key_import(&skey, in->pool_key, in->pool_key_len) != SK_OK ||
        sk_server_key_profile(skey) != (sk_profile)k) {
        rc = SK_ERR_ARG; /* the caller passed no pool key of this profile */
        goto out;
    }
    rc = sk_server_key_modulus(skey, r->n2, k / 8);
    if (rc != SK_OK)
        goto out;
    sk_mpz_from_bytes(n1, e->n1.data, k / 8);
    sk_mpz_from_bytes(n2, r->n2, k / 8);
    mpz_mul(n, n1, n2);
    mpz_gcd(g, n1, n2);
    if (mpz_cmp_ui(g, 1) != 0 || mpz_sizeinbase(n, 2) != 2 * k) {
        err = SK_ERR_KEY_MISMATCH;
        goto out;
    }
    r->version = 1;
    r->purpose = (sk_purpose)e->purpose;
    r->bits = k;
    r->state = SK_KEY_ENROLLING;
    memcpy(r->n1, e->n1.data, k / 8);
    rc = sk_mpz_to_bytes(r->n, k / 4, n);
    if (rc == SK_OK)
        rc = c->rng.fill(c->rng.ctx, r->key_id, SKP_KEY_ID_LEN);
    if (rc == SK_OK)
        rc = c->rng.fill(c->rng.ctx, otp, SKP_OTP_LEN);
    if (rc != SK_OK)
        goto out;
    memcpy(r->device_kx_pub, e->device_kx_pub.data, SKP_KX_PUB_LEN);
    skp_otp_hash(r->otp_hash, r->key_id, otp);
    r->server_key_len = SK_SERVER_KEY_LEN(k);
    memcpy(r->server_key, in->pool_key, r->server_key_len);
    r->created_at = in->now;
    /* The certificate level (doc/protocol.md, "Certificate levels"): a key
     * registered with a token (identity proofed by the registration
     * authority) is QUALIFIED, one enrolled openly ADVANCED. */
    r->level = e->registration_token.len > 0 ? SK_CERT_LEVEL_QUALIFIED : SK_CERT_LEVEL_ADVANCED;

    Splitkey__EnrolInitReplyBody b = SPLITKEY__ENROL_INIT_REPLY_BODY__INIT;
    b.key_id = skp_bin(r->key_id, SKP_KEY_ID_LEN);
    b.n2 = skp_bin(r->n2, k / 8);
    b.otp = skp_bin(otp, SKP_OTP_LEN);
    b.subject = r->subject;
    rc = skp_pack(&b.base, body, SKP_MAX_BODY_LEN, &body_len);
    if (rc != SK_OK)
        goto out;
    skp_sha256_3(t0, dr->body.data, dr->body.len, NULL, 0, NULL, 0);
    rc = skp_enrol_signed_data(signed_data, sizeof signed_data, &signed_len, SKP_LABEL_INIT_REPLY,
                               t0, body, body_len);
    if (rc != SK_OK)
        goto out;
    crypto_sign_detached(sig, NULL, signed_data, signed_len, in->identity->ed_sk);
    skp_sha256_3(r->transcript, t0, sizeof t0, body, body_len, NULL, 0);
    r->has_transcript = true;
    Splitkey__EnrolInitReply rep = SPLITKEY__ENROL_INIT_REPLY__INIT;
    rep.body = skp_bin(body, body_len);
    rep.signature = skp_bin(sig, sizeof sig);
    c->rec = r;
    rc = reply_msg(c, SPLITKEY__MSG_TYPE__MSG_ENROL_INIT_REPLY, &rep.base);
    if (rc == SK_OK)
        rc = seal_device_reply(c, c->reply_type, NULL, NULL, c->reply_body, c->reply_body_len,
                               false);
    c->rec = NULL;
    if (rc != SK_OK)
        goto out;
    res->effects |= SK_EFFECT_NEW_KEY | SK_EFFECT_POOL_KEY_USED | SK_EFFECT_STORE_SECRETS;
    res->key = r;
    r = NULL;
out:
    if (err != SK_OK) {
        res->effects = 0;
        sk_key_rec_free(res->superseded);
        res->superseded = NULL;
        if (sealed) {
            /* Sealed to the device that asked, so it can trust the refusal;
             * the error names no key. */
            uint8_t eb[64];
            size_t el = 0;
            sk_key_rec none;
            memset(&none, 0, sizeof none);
            c->rec = &none;
            rc = skp_error_body(eb, sizeof eb, &el, err, NULL);
            if (rc == SK_OK)
                rc = seal_device_reply(c, SPLITKEY__MSG_TYPE__MSG_ERROR, NULL, NULL, eb, el,
                                       false);
            c->rec = NULL;
            res->status = err;
        } else {
            rc = plain_error(res, err);
        }
    }
    mpz_clears(n1, n2, n, g, NULL);
    sk_server_key_free(skey);
    sk_key_rec_free(r);
    skp_free(m);
    skp_free(rm);
    sodium_memzero(otp, sizeof otp);
    sodium_memzero(signed_data, sizeof signed_data);
    if (plain != NULL) {
        sodium_memzero(plain, SKP_MAX_BODY_LEN);
        free(plain);
    }
    if (body != NULL) {
        sodium_memzero(body, SKP_MAX_BODY_LEN);
        free(body);
    }
    return rc;
}

static int op_enrol_submit(sks_ctx *c, const uint8_t *body, size_t body_len)
{
    ProtobufCMessage *m = NULL;
    sk_server_key *skey = NULL;
    sk_server_share *share = NULL;
    sk_key_rec *r = c->rec;
    uint8_t otp[SKP_OTP_LEN], h[SKP_OTP_HASH_LEN], t[SKP_HASH32_LEN];
    uint8_t rbody[SKP_MAX_BODY_LEN], signed_data[SKP_MAX_BODY_LEN + 64], sig[SKP_ED_SIG_LEN];
    size_t rbody_len = 0, signed_len = 0;
    size_t k8 = r->bits / 8;

    int rc = skp_unpack(&splitkey__enrol_submit__descriptor, &m, body, body_len, SKP_MAX_BODY_LEN);
    if (rc != SK_OK)
        return rc;
    const Splitkey__EnrolSubmit *s = (const Splitkey__EnrolSubmit *)m;
    if (skp_check_len(&s->key_id, SKP_KEY_ID_LEN) || skp_check_len(&s->ds, k8) ||
        skp_check_len(&s->otp, SKP_OTP_LEN)) {
        rc = SK_ERR_LIMIT;
        goto out;
    }
    if (memcmp(s->key_id.data, r->key_id, SKP_KEY_ID_LEN) != 0) {
        rc = SK_ERR_PROTO_DECODE;
        goto out;
    }
    if (r->state != SK_KEY_ENROLLING || !r->has_transcript) {
        rc = SK_ERR_PROTO_STATE;
        goto out;
    }
    /* OTP_0 was checked with the request (it is the current one). */
    skp_otp_hash(h, r->key_id, s->otp.data);
    if (sodium_memcmp(h, c->otp_hash, SKP_OTP_HASH_LEN) != 0) {
        rc = SK_ERR_PROTO_DECODE;
        goto out;
    }
    rc = sk_server_key_import(&skey, r->server_key, r->server_key_len);
    if (rc == SK_OK)
        rc = sk_server_share_new(&share, r->n1, k8, s->ds.data, k8, skey);
    if (rc != SK_OK) {
        rc = rc == SK_ERR_NOMEM ? rc : SK_ERR_KEY_MISMATCH;
        goto out;
    }
    rc = next_otp(c);
    if (rc != SK_OK)
        goto out;
    memcpy(otp, c->new_otp, SKP_OTP_LEN);
    memcpy(r->ds, s->ds.data, k8);
    r->ds_len = k8;
    r->state = SK_KEY_PENDING;

    Splitkey__EnrolSubmitReplyBody b = SPLITKEY__ENROL_SUBMIT_REPLY_BODY__INIT;
    b.n = skp_bin(r->n, r->bits / 4);
    b.otp = skp_bin(otp, SKP_OTP_LEN);
    rc = skp_pack(&b.base, rbody, sizeof rbody, &rbody_len);
    if (rc != SK_OK)
        goto out;
    skp_sha256_3(t, r->transcript, SKP_HASH32_LEN, body, body_len, NULL, 0);
    rc = skp_enrol_signed_data(signed_data, sizeof signed_data, &signed_len, SKP_LABEL_SUBMIT_REPLY,
                               t, rbody, rbody_len);
    if (rc != SK_OK)
        goto out;
    crypto_sign_detached(sig, NULL, signed_data, signed_len, c->in->identity->ed_sk);
    Splitkey__EnrolSubmitReply rep = SPLITKEY__ENROL_SUBMIT_REPLY__INIT;
    rep.body = skp_bin(rbody, rbody_len);
    rep.signature = skp_bin(sig, sizeof sig);
    rc = reply_msg(c, SPLITKEY__MSG_TYPE__MSG_ENROL_SUBMIT_REPLY, &rep.base);
    if (rc == SK_OK) {
        r->has_transcript = false;
        sodium_memzero(r->transcript, sizeof r->transcript);
        c->res->effects |= SK_EFFECT_STORE_SECRETS;
    }
out:
    sk_server_share_free(share);
    sk_server_key_free(skey);
    skp_free(m);
    sodium_memzero(otp, sizeof otp);
    sodium_memzero(rbody, sizeof rbody);
    sodium_memzero(signed_data, sizeof signed_data);
    return rc;
}

/* ----------------------------------------------------------------- sessions */

static bool session_ours(const sks_ctx *c)
{
    return c->sess != NULL && memcmp(c->sess->key_id, c->rec->key_id, SKP_KEY_ID_LEN) == 0;
}

/* Settles a pending session nobody can sign any more: its time is up
 * (EXPIRED), or its relying party stopped waiting for it (CANCELLED; the
 * caller's liveness rule, in->session_abandoned). */
static void settle(sks_ctx *c)
{
    if (c->sess == NULL || c->sess->state != SK_SESSION_PENDING)
        return;
    if (c->in->now >= c->sess->expires_at) {
        c->sess->state = SK_SESSION_EXPIRED;
        c->sess_changed = true;
    } else if (c->in->session_abandoned && !c->sess->from_device) {
        c->sess->state = SK_SESSION_CANCELLED;
        c->sess_changed = true;
    }
}

static int session_fetch_reply(sks_ctx *c, uint32_t type, const sk_session_rec *const *list,
                               size_t n)
{
    Splitkey__SessionFetchReply r = SPLITKEY__SESSION_FETCH_REPLY__INIT;
    Splitkey__SessionInfo info[SKP_MAX_FETCH_SESSIONS];
    Splitkey__SessionInfo *more[SKP_MAX_FETCH_SESSIONS];
    char *choices[SKP_MAX_FETCH_SESSIONS][SK_VC_CHOICES];
    if (n > SKP_MAX_FETCH_SESSIONS)
        n = SKP_MAX_FETCH_SESSIONS;
    for (size_t i = 0; i < n; i++) {
        splitkey__session_info__init(&info[i]);
        sks_session_info(list[i], &info[i], choices[i]);
        more[i] = &info[i];
    }
    if (n > 0) {
        r.session = &info[0];
        r.n_more = n - 1;
        r.more = more + 1;
    }
    return reply_msg(c, type, &r.base);
}

/* The CSR a proof of possession signs (doc/protocol.md section 3, step 6): its
 * CertificationRequestInfo is for exactly n (e = 65537) and the registered
 * subject, the session's digest is its hash, and the scheme is PKCS#1 v1.5
 * (RFC 2986 with sha*WithRSAEncryption).  Any failure is SK_ERR_CSR. */
static int pop_csr_check(const sks_ctx *c, const Splitkey__SessionCreate *s)
{
    const sk_key_rec *r = c->rec;
    sk_pubkey *key = NULL;
    sk_name *subject = NULL, *registered = NULL;
    uint8_t d[SK_MAX_HASH_LEN];
    mpz_t n;
    if ((sk_scheme)s->scheme != SK_SCHEME_PKCS1 || s->csr_info.len == 0)
        return SK_ERR_CSR;
    mpz_init(n);
    int rc = pki_csr_info_parse(&key, &subject, s->csr_info.data, s->csr_info.len);
    if (rc == SK_OK)
        rc = sk_hash_compute((sk_hash)s->hash, d, s->csr_info.data, s->csr_info.len);
    if (rc == SK_OK && memcmp(d, s->digest.data, s->digest.len) != 0)
        rc = SK_ERR_CSR; /* the digest signed must be the request's */
    if (rc == SK_OK) {
        sk_mpz_from_bytes(n, r->n, r->bits / 4);
        if (mpz_cmp(n, key->n) != 0 || mpz_cmp_ui(key->e, SK_E) != 0)
            rc = SK_ERR_CSR; /* another key than the enrolled n */
    }
    if (rc == SK_OK) {
        int prc = r->purpose == SK_PURPOSE_SEAL ? sk_name_parse_legal(&registered, NULL, r->subject)
                                                : sk_name_parse_person(&registered, NULL, r->subject);
        if (prc != SK_OK || !pki_name_equal(registered, subject))
            rc = SK_ERR_CSR; /* not the registered person (organisation) subject */
    }
    mpz_clear(n);
    sk_pubkey_free(key);
    sk_name_free(subject);
    sk_name_free(registered);
    return rc == SK_OK || rc == SK_ERR_NOMEM ? rc : SK_ERR_CSR;
}

static int op_session_create(sks_ctx *c, const uint8_t *body, size_t body_len)
{
    ProtobufCMessage *m = NULL;
    sk_key_rec *r = c->rec;
    int rc =
        skp_unpack(&splitkey__session_create__descriptor, &m, body, body_len, SKP_MAX_BODY_LEN);
    if (rc != SK_OK)
        return rc;
    const Splitkey__SessionCreate *s = (const Splitkey__SessionCreate *)m;
    rc = sks_session_create_check(s);
    if (rc != SK_OK)
        goto out;
    if ((s->key_id.len != 0 && memcmp(s->key_id.data, r->key_id, SKP_KEY_ID_LEN) != 0) ||
        (sk_purpose)s->purpose != r->purpose) {
        rc = SK_ERR_ARG;
        goto out;
    }
    rc = gate(c);
    if (rc != SK_OK)
        goto out;
    /* A new proof-of-possession session takes the place of an earlier one
     * (a device that crashed before it read or kept the earlier one's reply
     * asks again); only the newest can be signed (op_sign compares
     * pop_session_id), the earlier one just expires. */
    bool pop = r->state == SK_KEY_PENDING;
    /* With a CA the proof of possession must be a CSR for n; without one a
     * CSR that comes along is checked all the same. */
    if (!pop && s->csr_info.len != 0) {
        rc = SK_ERR_ARG;
        goto out;
    }
    if (pop && (c->in->ca_mode || s->csr_info.len != 0)) {
        rc = pop_csr_check(c, s);
        if (rc != SK_OK)
            goto out;
    }
    sk_session_rec_free(c->sess); /* a routed session plays no part here */
    c->sess = NULL;
    rc = sks_session_new(&c->sess, r, s, true, pop, c->in->policy, c->in->now, &c->rng);
    if (rc != SK_OK)
        goto out;
    c->sess_changed = true;
    c->res->effects |= SK_EFFECT_NEW_SESSION;
    if (pop) {
        r->has_pop = true;
        memcpy(r->pop_session_id, c->sess->id, SKP_SESSION_ID_LEN);
        r->pop_expires_at = c->sess->expires_at;
        memcpy(r->pop_digest, c->sess->digest, c->sess->digest_len);
        r->pop_digest_len = c->sess->digest_len;
    }
    const sk_session_rec *created = c->sess;
    rc = session_fetch_reply(c, SPLITKEY__MSG_TYPE__MSG_SESSION_CREATE_REPLY, &created, 1);
out:
    skp_free(m);
    return rc;
}

static int op_session_fetch(sks_ctx *c, const uint8_t *body, size_t body_len)
{
    ProtobufCMessage *m = NULL;
    int rc = skp_unpack(&splitkey__session_fetch__descriptor, &m, body, body_len, SKP_MAX_BODY_LEN);
    if (rc != SK_OK)
        return rc;
    skp_free(m);
    if (c->rec->state == SK_KEY_DESTROYED)
        return SK_ERR_DESTROYED;
    const sk_session_rec *show[SKP_MAX_FETCH_SESSIONS];
    size_t n = 0;
    if (c->in->sessions != NULL) {
        /* The list the caller loaded: this key's, waiting, not expired. */
        for (size_t i = 0; i < c->in->n_sessions && n < SKP_MAX_FETCH_SESSIONS; i++) {
            const sk_session_rec *s = c->in->sessions[i];
            if (s != NULL && memcmp(s->key_id, c->rec->key_id, SKP_KEY_ID_LEN) == 0 &&
                s->state == SK_SESSION_PENDING && c->in->now < s->expires_at)
                show[n++] = s;
        }
    } else if (session_ours(c)) {
        settle(c);
        if (c->sess->state == SK_SESSION_PENDING)
            show[n++] = c->sess;
    }
    return session_fetch_reply(c, SPLITKEY__MSG_TYPE__MSG_SESSION_FETCH_REPLY, show, n);
}

/* The session named by a request must be this key's and still open. */
static int open_session(sks_ctx *c, const uint8_t *session_id)
{
    if (!session_ours(c) || memcmp(c->sess->id, session_id, SKP_SESSION_ID_LEN) != 0)
        return SK_ERR_SESSION_UNKNOWN;
    settle(c);
    switch (c->sess->state) {
    case SK_SESSION_PENDING:
        return SK_OK;
    case SK_SESSION_EXPIRED:
    case SK_SESSION_CANCELLED:
        /* Nobody waits for it any more: gone, as the device has always been
         * told of an expired session (one answer, one way to handle it). */
        return SK_ERR_SESSION_EXPIRED;
    case SK_SESSION_REFUSED:
        return SK_ERR_SESSION_REFUSED;
    case SK_SESSION_WRONG_VC:
        return SK_ERR_WRONG_VC; /* over: a new session is needed */
    default:
        return SK_ERR_PROTO_STATE; /* already completed */
    }
}

static int op_session_refuse(sks_ctx *c, const uint8_t *body, size_t body_len)
{
    ProtobufCMessage *m = NULL;
    int rc =
        skp_unpack(&splitkey__session_refuse__descriptor, &m, body, body_len, SKP_MAX_BODY_LEN);
    if (rc != SK_OK)
        return rc;
    const Splitkey__SessionRefuse *s = (const Splitkey__SessionRefuse *)m;
    if (skp_check_len(&s->session_id, SKP_SESSION_ID_LEN)) {
        rc = SK_ERR_LIMIT;
        goto out;
    }
    if (s->refused_at > SPLITKEY__INTERACTION__INTERACTION_CONFIRMATION_MESSAGE_AND_VC_CHOICE) {
        rc = SK_ERR_PROTO_DECODE;
        goto out;
    }
    rc = open_session(c, s->session_id.data);
    if (rc != SK_OK)
        goto out;
    c->sess->state = SK_SESSION_REFUSED;
    c->sess->refused_at = (sk_interaction)s->refused_at;
    c->sess_changed = true;
    if (c->sess->pop && c->rec->has_pop &&
        memcmp(c->rec->pop_session_id, c->sess->id, SKP_SESSION_ID_LEN) == 0)
        c->rec->has_pop = false;
    Splitkey__SessionRefuseReply rep = SPLITKEY__SESSION_REFUSE_REPLY__INIT;
    rep.session_id = s->session_id;
    rc = reply_msg(c, SPLITKEY__MSG_TYPE__MSG_SESSION_REFUSE_REPLY, &rep.base);
out:
    skp_free(m);
    return rc;
}

/* ---------------------------------------------------------------- signing */

/* A proof of possession with a CA (in->ca_mode), after the PIN and OTP
 * checks passed.  Without a certificate or CA error in the input: the signed
 * CSR goes into the result for the caller to take to the CA and nothing else
 * is kept (c->cert_needed).  With the CA's error: SK_ERR_CA_UNAVAILABLE or
 * SK_ERR_CA_REFUSED, the key stays PENDING and the session open.  With a
 * certificate: it must hold n (e = 65537); it is stored with the key. */
static int pop_certificate(sks_ctx *c, const uint8_t *sig, size_t sig_len)
{
    sk_key_rec *r = c->rec;
    const sk_server_input *in = c->in;
    if (c->sess->csr_info_len == 0)
        return SK_ERR_CA_REFUSED; /* a session from before the CA: make a new one */
    if (in->certificate == NULL || in->certificate_len == 0) {
        if (in->ca_error != 0)
            return in->ca_error == SK_ERR_CA_REFUSED ? SK_ERR_CA_REFUSED : SK_ERR_CA_UNAVAILABLE;
        int rc = pki_csr_assemble(c->res->csr, sizeof c->res->csr, &c->res->csr_len,
                                  c->sess->csr_info, c->sess->csr_info_len, c->sess->hash, sig,
                                  sig_len);
        if (rc != SK_OK)
            return rc == SK_ERR_NOMEM ? rc : SK_ERR_INTERNAL;
        c->cert_needed = true;
        return SK_OK;
    }
    if (in->certificate_len > SKP_MAX_CERT_LEN)
        return SK_ERR_CA_REFUSED;
    sk_cert *cert = NULL;
    int rc = sk_cert_parse(&cert, in->certificate, in->certificate_len);
    if (rc == SK_OK)
        rc = sk_cert_check_key(cert, r->n, r->bits / 4);
    size_t der_len = 0;
    const uint8_t *cert_der = rc == SK_OK ? sk_cert_der(cert, &der_len) : NULL;
    if (rc == SK_OK && (der_len == 0 || der_len > SKP_MAX_CERT_LEN))
        rc = SK_ERR_LIMIT;
    if (rc == SK_OK) {
        memcpy(r->cert, cert_der, der_len);
        r->cert_len = der_len;
    }
    sk_cert_free(cert);
    if (rc == SK_ERR_NOMEM)
        return rc;
    return rc == SK_OK ? SK_OK : SK_ERR_CA_REFUSED;
}

/* The session of a PIN-checked approval: open, this key's, and for a
 * PENDING key its own proof-of-possession session. */
static int sign_session(sks_ctx *c, const uint8_t *session_id, bool *pop)
{
    sk_key_rec *r = c->rec;
    int rc = open_session(c, session_id);
    if (rc != SK_OK)
        return rc;
    *pop = r->state == SK_KEY_PENDING;
    if (*pop != c->sess->pop ||
        (*pop && (!r->has_pop || memcmp(r->pop_session_id, c->sess->id, SKP_SESSION_ID_LEN) != 0)))
        return SK_ERR_NOT_ACTIVE;
    return SK_OK;
}

/* A VC-choice session's approval must carry the code the person picked
 * (doc/protocol.md, "Verification-code choice").  None: SK_ERR_PROTO_STATE
 * and nothing changes.  A wrong one ends the session (WRONG_VC) before any
 * PIN check: no attempt is counted and y is not looked at, so guessing
 * costs the relying party a new session each time. */
static int vc_check(sks_ctx *c, const char *chosen)
{
    if (!sks_vc_choice(c->sess->interaction))
        return SK_OK;
    if (chosen == NULL || chosen[0] == '\0')
        return SK_ERR_PROTO_STATE;
    if (strlen(chosen) == SKP_CODE_LEN && sodium_memcmp(chosen, c->sess->code, SKP_CODE_LEN) == 0)
        return SK_OK;
    c->sess->state = SK_SESSION_WRONG_VC;
    c->sess_changed = true;
    return SK_ERR_WRONG_VC;
}

/* Approval (SignSubmit), in two steps (doc/protocol.md section 4):
 * fresh: the gate and the session, then the charge (no reply: the caller
 * stores it and hands the same request in again); continuation: the PIN
 * check and its outcome. */
static int op_sign(sks_ctx *c, const uint8_t *body, size_t body_len)
{
    ProtobufCMessage *m = NULL;
    sk_key_rec *r = c->rec;
    uint8_t em[SKP_MAX_N_LEN], sig[SKP_MAX_N_LEN], y[SKP_MAX_N1_LEN];
    size_t k8 = r->bits / 8, k4 = r->bits / 4;
    bool pop = false;
    int rc = skp_unpack(&splitkey__sign_submit__descriptor, &m, body, body_len, SKP_MAX_BODY_LEN);
    if (rc != SK_OK)
        return rc;
    const Splitkey__SignSubmit *s = (const Splitkey__SignSubmit *)m;
    if (skp_check_len(&s->session_id, SKP_SESSION_ID_LEN) ||
        skp_check_len(&s->request_id, SKP_REQUEST_ID_LEN) || skp_check_len(&s->y, k8) ||
        skp_check_len(&s->otp, SKP_OTP_LEN) || skp_check_text(s->vc_chosen, SKP_CODE_LEN)) {
        rc = SK_ERR_LIMIT;
        goto out;
    }
    if (!c->continuation) {
        rc = gate(c);
        if (rc == SK_OK)
            rc = sign_session(c, s->session_id.data, &pop);
        if (rc == SK_OK)
            rc = vc_check(c, s->vc_chosen);
        if (rc == SK_OK)
            rc = charge(c, s->y.data, k8);
        goto out;
    }
    if (r->state == SK_KEY_DESTROYED) {
        lease_end(r);
        rc = SK_ERR_DESTROYED;
        goto out;
    }
    rc = sign_session(c, s->session_id.data, &pop);
    if (rc != SK_OK) {
        uncharge(c); /* no check ran */
        goto out;
    }
    /* EM from the session's digest and salt, never from the device. */
    rc = sk_encode(em, k4, c->sess->scheme, c->sess->hash, c->sess->digest, c->sess->digest_len,
                   c->sess->salt_len ? c->sess->salt : NULL, c->sess->salt_len, 2 * r->bits);
    if (rc != SK_OK) {
        uncharge(c);
        rc = SK_ERR_INTERNAL;
        goto out;
    }
    /* The attempt charged, not the one this request carries. */
    rc = charged_attempt(c, y, k8);
    if (rc == SK_OK)
        rc = complete(c, sig, y, em);
    if (rc != SK_OK) {
        if (rc != SK_ERR_WRONG_PIN && rc != SK_ERR_DESTROYED)
            uncharge(c); /* no verdict on the PIN (secrets missing, a fault) */
        goto out;
    }
    if (pop && c->in->ca_mode) {
        rc = pop_certificate(c, sig, k4);
        if (rc != SK_OK || c->cert_needed) {
            if (c->cert_needed)
                c->no_reply = true; /* pass 1: nothing is stored yet */
            goto out;
        }
    }
    if (pop) {
        r->state = SK_KEY_ACTIVE;
        r->has_pop = false;
        if (c->in->ca_mode) {
            c->res->effects |= SK_EFFECT_CERT_STORED;
        } else {
            /* Certificate hook: the CSR's to-be-signed digest was signed; a
             * caller without a CA only takes note. */
            c->res->effects |= SK_EFFECT_CERT_REQUEST;
        }
    }
    c->sess->state = SK_SESSION_COMPLETE;
    memcpy(c->sess->signature, sig, k4);
    c->sess->signature_len = k4;
    memcpy(c->sess->cert, r->cert, r->cert_len);
    c->sess->cert_len = r->cert_len;
    c->sess_changed = true;
    Splitkey__SignReply rep = SPLITKEY__SIGN_REPLY__INIT;
    rep.session_id = s->session_id;
    rep.request_id = s->request_id;
    rep.signature = skp_bin(sig, k4);
    rep.certificate = skp_bin(r->cert, r->cert_len);
    rc = reply_msg(c, SPLITKEY__MSG_TYPE__MSG_SIGN_REPLY, &rep.base);
out:
    skp_free(m);
    sodium_memzero(em, sizeof em);
    sodium_memzero(sig, sizeof sig);
    sodium_memzero(y, sizeof y);
    return rc;
}

/* Revocation by the device, authorised by the PIN: charged and decided like
 * an approval, over the fixed revocation digest. */
static int op_revoke(sks_ctx *c, const uint8_t *body, size_t body_len)
{
    ProtobufCMessage *m = NULL;
    sk_key_rec *r = c->rec;
    uint8_t em[SKP_MAX_N_LEN], sig[SKP_MAX_N_LEN], y[SKP_MAX_N1_LEN], digest[32];
    size_t k8 = r->bits / 8, k4 = r->bits / 4;
    int rc = skp_unpack(&splitkey__revoke__descriptor, &m, body, body_len, SKP_MAX_BODY_LEN);
    if (rc != SK_OK)
        return rc;
    const Splitkey__Revoke *s = (const Splitkey__Revoke *)m;
    if (skp_check_len(&s->request_id, SKP_REQUEST_ID_LEN) || skp_check_len(&s->y, k8) ||
        skp_check_len(&s->otp, SKP_OTP_LEN)) {
        rc = SK_ERR_LIMIT;
        goto out;
    }
    if (!c->continuation) {
        rc = gate(c);
        if (rc == SK_OK)
            rc = charge(c, s->y.data, k8);
        goto out;
    }
    if (r->state == SK_KEY_DESTROYED) {
        lease_end(r);
        rc = SK_ERR_DESTROYED;
        goto out;
    }
    skp_revoke_digest(digest, r->key_id);
    rc = sk_encode(em, k4, SK_SCHEME_PKCS1, SK_HASH_SHA256, digest, sizeof digest, NULL, 0,
                   2 * r->bits);
    if (rc != SK_OK) {
        uncharge(c);
        rc = SK_ERR_INTERNAL;
        goto out;
    }
    rc = charged_attempt(c, y, k8); /* the attempt charged, not this request's */
    if (rc == SK_OK)
        rc = complete(c, sig, y, em);
    if (rc != SK_OK) {
        if (rc != SK_ERR_WRONG_PIN && rc != SK_ERR_DESTROYED)
            uncharge(c); /* no verdict on the PIN (secrets missing, a fault) */
        goto out;
    }
    destroy_key(c, SK_DESTROY_USER, SK_CRL_REASON_CESSATION_OF_OPERATION);
    Splitkey__RevokeReply rep = SPLITKEY__REVOKE_REPLY__INIT;
    rep.key_id = skp_bin(r->key_id, SKP_KEY_ID_LEN);
    rc = reply_msg(c, SPLITKEY__MSG_TYPE__MSG_REVOKE_REPLY, &rep.base);
out:
    skp_free(m);
    sodium_memzero(em, sizeof em);
    sodium_memzero(sig, sizeof sig);
    sodium_memzero(y, sizeof y);
    return rc;
}

/* RefreshOTP: every request rotates the OTP now; this one does nothing else
 * (a device that only wants to show the server it is still the one). */
static int op_otp_refresh(sks_ctx *c, const uint8_t *body, size_t body_len)
{
    ProtobufCMessage *m = NULL;
    int rc = skp_unpack(&splitkey__otp_refresh__descriptor, &m, body, body_len, SKP_MAX_BODY_LEN);
    if (rc != SK_OK)
        return rc;
    const Splitkey__OtpRefresh *s = (const Splitkey__OtpRefresh *)m;
    if (skp_check_len(&s->request_id, SKP_REQUEST_ID_LEN) || skp_check_len(&s->otp, SKP_OTP_LEN)) {
        rc = SK_ERR_LIMIT;
        goto out;
    }
    if (c->rec->state == SK_KEY_DESTROYED) {
        rc = SK_ERR_DESTROYED;
        goto out;
    }
    if (c->rec->state == SK_KEY_ENROLLING) {
        rc = SK_ERR_NOT_ACTIVE;
        goto out;
    }
    Splitkey__OtpRefreshReply rep = SPLITKEY__OTP_REFRESH_REPLY__INIT;
    rep.request_id = s->request_id;
    rc = reply_msg(c, SPLITKEY__MSG_TYPE__MSG_OTP_REFRESH_REPLY, &rep.base);
out:
    skp_free(m);
    return rc;
}

static int op_key_state(sks_ctx *c, const uint8_t *body, size_t body_len)
{
    ProtobufCMessage *m = NULL;
    sk_key_status st;
    int rc =
        skp_unpack(&splitkey__key_state_request__descriptor, &m, body, body_len, SKP_MAX_BODY_LEN);
    if (rc != SK_OK)
        return rc;
    skp_free(m);
    sks_status(c->rec, c->in->policy, c->in->now, &st);
    Splitkey__KeyStateReply rep = SPLITKEY__KEY_STATE_REPLY__INIT;
    rep.key_id = skp_bin(c->rec->key_id, SKP_KEY_ID_LEN);
    rep.state = (Splitkey__KeyState)st.state;
    rep.locked_until = st.locked_until;
    rep.attempts_left = st.attempts_left;
    rep.destroy_reason = (Splitkey__DestroyReason)st.destroy_reason;
    rep.certificate_level = (Splitkey__CertLevel)sks_key_level(c->rec);
    return reply_msg(c, SPLITKEY__MSG_TYPE__MSG_KEY_STATE_REPLY, &rep.base);
}

/* ----------------------------------------------------------------- dispatch */

static int check_input(const sk_server_input *in)
{
    if (in->identity == NULL || in->policy == NULL)
        return SK_ERR_ARG;
    if (in->policy->lock1_failures == 0 ||
        in->policy->lock1_failures > in->policy->lock2_failures ||
        in->policy->lock2_failures > in->policy->destroy_failures)
        return SK_ERR_ARG;
    return sk_is_initialised() ? SK_OK : SK_ERR_NOT_INITIALISED;
}

/* Ends a handled request: the OTP it carried is retired (with its request
 * id, for resends and clone detection), the reply hands over the next one,
 * and the reply is kept, sealed, for a resend. */
static int finish(sks_ctx *c)
{
    sk_key_rec *r = c->rec;
    int rc = next_otp(c);
    if (rc != SK_OK)
        return rc;
    if (sodium_memcmp(c->otp_hash, r->otp_hash, SKP_OTP_HASH_LEN) != 0)
        /* A clone verdict on a request with a stale OTP: the current one
         * stays where it is (the other holder's next request finds the
         * destroyed key), and this reply is not kept. */
        return seal_device_reply(c, c->reply_type, c->new_otp, NULL, c->reply_body,
                                 c->reply_body_len, false);
    if (r->n_hist == SKP_HIST_LEN) {
        memmove(&r->hist[0], &r->hist[1], sizeof r->hist[0] * (SKP_HIST_LEN - 1));
        r->n_hist--;
    }
    memcpy(r->hist[r->n_hist].otp_hash, c->otp_hash, SKP_OTP_HASH_LEN);
    memcpy(r->hist[r->n_hist].request_id, c->rid, SKP_REQUEST_ID_LEN);
    r->n_hist++;
    memcpy(r->last_binding, c->binding, SKP_BINDING_LEN);
    r->has_last_binding = true;
    skp_otp_hash(r->otp_hash, r->key_id, c->new_otp);
    return seal_device_reply(c, c->reply_type, c->new_otp, NULL, c->reply_body,
                             c->reply_body_len, true);
}

/* Opens an authentic request: DeviceRequest's fields into c.  A request
 * that does not authenticate or parse gets a plain error (SK_ERR_* < 0 in
 * *plain_err) and changes nothing. */
static int open_request(sks_ctx *c, const skp_env *env, ProtobufCMessage **dm, int *plain_err)
{
    const sk_server_input *in = c->in;
    uint8_t *plain = malloc(SKP_MAX_BODY_LEN);
    size_t len = 0;
    int rc = SK_OK;
    *plain_err = SK_OK;
    if (plain == NULL)
        return SK_ERR_NOMEM;
    if (env->key_id_len != SKP_KEY_ID_LEN ||
        memcmp(env->key_id, in->key->key_id, SKP_KEY_ID_LEN) != 0) {
        *plain_err = SK_ERR_ARG;
        goto out;
    }
    rc = sks_tek(in->identity, in->key->device_kx_pub, c->rx, c->tx);
    if (rc != SK_OK) {
        rc = SK_OK;
        *plain_err = SK_ERR_PROTO_AUTH;
        goto out;
    }
    *plain_err = skp_req_open(plain, &len, c->shared, env, c->rx, in->identity->kx_sk,
                              in->identity->kx_pk);
    if (*plain_err != SK_OK)
        goto out; /* tampered, or not for this key: nothing changes */
    memcpy(c->req_eph, env->eph_pub, SKP_KX_PUB_LEN);
    *plain_err = skp_unpack(&splitkey__device_request__descriptor, dm, plain, len,
                            SKP_MAX_BODY_LEN);
    if (*plain_err != SK_OK)
        goto out;
    const Splitkey__DeviceRequest *d = (const Splitkey__DeviceRequest *)*dm;
    if (skp_check_len(&d->request_id, SKP_REQUEST_ID_LEN) || skp_check_len(&d->otp, SKP_OTP_LEN) ||
        skp_check_max(&d->challenge, SKP_CHALLENGE_LEN) || d->body.len > SKP_MAX_BODY_LEN) {
        *plain_err = SK_ERR_LIMIT;
        goto out;
    }
    memcpy(c->rid, d->request_id.data, SKP_REQUEST_ID_LEN);
    skp_otp_hash(c->otp_hash, in->key->key_id, d->otp.data);
out:
    sodium_memzero(plain, SKP_MAX_BODY_LEN);
    free(plain);
    return rc;
}

/* The request's binding (skp_request_binding): for an approval, its
 * session id (a body that does not parse is bound as a whole). */
static void request_binding(sks_ctx *c, uint32_t type, const uint8_t *body, size_t body_len)
{
    ProtobufCMessage *m = NULL;
    c->has_binding = true;
    if (type == SPLITKEY__MSG_TYPE__MSG_REVOKE) {
        skp_request_binding(c->binding, type, NULL, 0);
        return;
    }
    if (type == SPLITKEY__MSG_TYPE__MSG_SIGN_SUBMIT &&
        skp_unpack(&splitkey__sign_submit__descriptor, &m, body, body_len, SKP_MAX_BODY_LEN) ==
            SK_OK) {
        const Splitkey__SignSubmit *s = (const Splitkey__SignSubmit *)m;
        if (s->session_id.len == SKP_SESSION_ID_LEN) {
            skp_request_binding(c->binding, type, s->session_id.data, SKP_SESSION_ID_LEN);
            skp_free(m);
            return;
        }
    }
    skp_free(m);
    skp_request_binding(c->binding, type, body, body_len);
}

/* Runs the operation of a fresh request or a continuation. */
static int dispatch(sks_ctx *c, uint32_t type, const uint8_t *body, size_t body_len)
{
    switch (type) {
    case SPLITKEY__MSG_TYPE__MSG_ENROL_SUBMIT:
        return op_enrol_submit(c, body, body_len);
    case SPLITKEY__MSG_TYPE__MSG_SESSION_CREATE:
        return op_session_create(c, body, body_len);
    case SPLITKEY__MSG_TYPE__MSG_SESSION_FETCH:
        return op_session_fetch(c, body, body_len);
    case SPLITKEY__MSG_TYPE__MSG_SESSION_REFUSE:
        return op_session_refuse(c, body, body_len);
    case SPLITKEY__MSG_TYPE__MSG_SIGN_SUBMIT:
        return op_sign(c, body, body_len);
    case SPLITKEY__MSG_TYPE__MSG_KEY_STATE:
        return op_key_state(c, body, body_len);
    case SPLITKEY__MSG_TYPE__MSG_OTP_REFRESH:
        return op_otp_refresh(c, body, body_len);
    case SPLITKEY__MSG_TYPE__MSG_REVOKE:
        return op_revoke(c, body, body_len);
    default:
        return SK_ERR_PROTO_DECODE;
    }
}

int sk_server_handle_device(sk_server_result **out, const sk_server_input *in, const uint8_t *req,
                            size_t req_len)
{
    sks_ctx c;
    skp_env *env = NULL;
    ProtobufCMessage *dm = NULL;
    int rc, plain_err = SK_OK;

    *out = NULL;
    rc = check_input(in);
    if (rc != SK_OK)
        return rc;
    memset(&c, 0, sizeof c);
    c.in = in;
    skp_rng(&c.rng, in->random, in->random_ctx);
    c.res = calloc(1, sizeof *c.res);
    env = malloc(sizeof *env);
    if (c.res == NULL || env == NULL) {
        rc = SK_ERR_NOMEM;
        goto out;
    }
    rc = skp_env_parse(env, req, req_len);
    if (rc != SK_OK) {
        rc = plain_error(c.res, rc);
        goto out;
    }
    if (env->type == SPLITKEY__MSG_TYPE__MSG_ENROL_INIT) {
        rc = handle_enrol_init(&c, env);
        goto out;
    }
    /* Everything else is for an existing key, inside the channel. */
    if (in->key == NULL) {
        rc = plain_error(c.res, SK_ERR_NOT_FOUND);
        goto out;
    }
    rc = open_request(&c, env, &dm, &plain_err);
    if (rc == SK_OK && plain_err != SK_OK)
        rc = plain_error(c.res, plain_err);
    if (rc != SK_OK || plain_err != SK_OK)
        goto out;
    const Splitkey__DeviceRequest *d = (const Splitkey__DeviceRequest *)dm;
    request_binding(&c, env->type, d->body.data, d->body.len);

    req_class cls = classify(&c, &d->challenge);
    if (cls == REQ_CONTINUATION && env->type != SPLITKEY__MSG_TYPE__MSG_SIGN_SUBMIT &&
        env->type != SPLITKEY__MSG_TYPE__MSG_REVOKE)
        cls = REQ_CLONE; /* the charged request's id and OTP in another message */
    if (cls == REQ_RESEND) {
        rc = resend(&c);
        goto out;
    }
    if (cls == REQ_CHALLENGE) {
        rc = challenge(&c);
        goto out;
    }
    c.rec = sks_key_copy(in->key);
    if (in->session != NULL)
        c.sess = sks_session_copy(in->session);
    if (c.rec == NULL || (in->session != NULL && c.sess == NULL)) {
        rc = SK_ERR_NOMEM;
        goto out;
    }
    if (cls == REQ_RESYNC) {
        resync(&c, c.rec);
        cls = REQ_FRESH;
    }
    if (cls == REQ_CLONE) {
        /* Two holders of the device state: whatever the request was. */
        if (c.rec->state == SK_KEY_DESTROYED) {
            rc = SK_ERR_DESTROYED;
        } else {
            destroy_key(&c, SK_DESTROY_CLONE, SK_CRL_REASON_KEY_COMPROMISE);
            rc = SK_ERR_CLONE_DETECTED;
        }
    } else {
        c.continuation = cls == REQ_CONTINUATION;
        rc = dispatch(&c, env->type, d->body.data, d->body.len);
    }
    if (rc == SK_ERR_NOMEM || rc == SK_ERR_RNG)
        goto out;
    if (rc == SK_OK && c.cert_needed) {
        /* Nothing to store or send yet: the caller gets the certificate for
         * the CSR in the result and hands the same request in again. */
        c.res->effects = SK_EFFECT_CERT_REQUEST;
        c.res->status = SK_ERR_PENDING;
        c.res->reply_len = 0;
        goto out;
    }
    if (rc == SK_OK && c.no_reply) {
        /* A charge: stored before the check runs (status SK_ERR_LEASE). */
        c.rec->version = in->key->version + 1;
        c.res->key = c.rec;
        c.rec = NULL;
        goto out;
    }
    if (rc != SK_OK && is_bad_request(rc) && !(c.res->effects & SK_EFFECT_DELETE_SECRETS)) {
        /* Malformed inside a valid envelope: refused, and nothing of the key
         * changes but the OTP this request retires. */
        unsigned resynced = c.res->effects & SK_EFFECT_RESYNC;
        c.res->effects = 0;
        sk_key_rec_free(c.rec);
        c.rec = sks_key_copy(in->key);
        c.sess_changed = false;
        if (c.rec == NULL) {
            rc = SK_ERR_NOMEM;
            goto out;
        }
        if (resynced)
            resync(&c, c.rec);
    }
    if (rc != SK_OK) {
        int code = rc;
        if (code == SK_ERR_DESTROYED || code == SK_ERR_CLONE_DETECTED) {
            sks_status(c.rec, in->policy, in->now, &c.err_status);
            c.has_err_status = true;
        }
        rc = reply_error(&c, code);
        if (rc != SK_OK)
            goto out;
    }
    rc = finish(&c);
    if (rc != SK_OK)
        goto out;
    c.rec->version = in->key->version + 1;
    c.res->key = c.rec;
    c.rec = NULL;
    if (c.sess_changed) {
        if (!(c.res->effects & SK_EFFECT_NEW_SESSION))
            c.sess->version = in->session->version + 1;
        c.res->session = c.sess;
        c.sess = NULL;
    }
    rc = SK_OK;
out:
    sodium_memzero(c.rx, sizeof c.rx);
    sodium_memzero(c.tx, sizeof c.tx);
    sodium_memzero(c.shared, sizeof c.shared);
    sodium_memzero(c.new_otp, sizeof c.new_otp);
    sodium_memzero(c.reply_body, sizeof c.reply_body);
    skp_free(dm);
    sk_key_rec_free(c.rec);
    sk_session_rec_free(c.sess);
    free(env);
    if (rc != SK_OK) {
        sk_server_result_free(c.res);
        return rc;
    }
    *out = c.res;
    return SK_OK;
}

int sk_server_operator_revoke(sk_server_result **out, const sk_server_input *in)
{
    sks_ctx c;
    *out = NULL;
    int rc = check_input(in);
    if (rc != SK_OK)
        return rc;
    if (in->key == NULL)
        return SK_ERR_ARG;
    memset(&c, 0, sizeof c);
    c.in = in;
    c.res = calloc(1, sizeof *c.res);
    c.rec = sks_key_copy(in->key);
    if (c.res == NULL || c.rec == NULL) {
        sk_key_rec_free(c.rec);
        sk_server_result_free(c.res);
        return SK_ERR_NOMEM;
    }
    if (c.rec->state != SK_KEY_DESTROYED)
        destroy_key(&c, SK_DESTROY_OPERATOR, SK_CRL_REASON_CESSATION_OF_OPERATION);
    c.rec->version = in->key->version + 1;
    c.res->key = c.rec;
    *out = c.res;
    return SK_OK;
}

/* ------------------------------------------------------------------ routing */

/* Opens an EnrolInit request (sealed to the server's key alone): the
 * DeviceRequest in *dm and the EnrolInit in *m, both for skp_free(); plain
 * and shared hold secrets the caller wipes. */
static int open_enrol_init(const sk_server_ident *id, const skp_env *env, uint8_t *plain,
                           uint8_t *shared, ProtobufCMessage **dm, ProtobufCMessage **m)
{
    size_t plain_len = 0;
    int rc = skp_req_open(plain, &plain_len, shared, env, NULL, id->kx_sk, id->kx_pk);
    if (rc == SK_OK)
        rc = skp_unpack(&splitkey__device_request__descriptor, dm, plain, plain_len,
                        SKP_MAX_BODY_LEN);
    if (rc != SK_OK)
        return rc;
    const Splitkey__DeviceRequest *d = (const Splitkey__DeviceRequest *)*dm;
    return skp_unpack(&splitkey__enrol_init__descriptor, m, d->body.data, d->body.len,
                      SKP_MAX_BODY_LEN);
}

int sk_server_peek_device(sk_route_info *info, const sk_server_ident *id, const sk_key_rec *rec,
                          const uint8_t *req, size_t req_len)
{
    skp_env *env = malloc(sizeof *env);
    uint8_t *plain = malloc(SKP_MAX_BODY_LEN);
    uint8_t rx[SKP_TEK_LEN], tx[SKP_TEK_LEN], shared[32];
    size_t plain_len = 0;
    ProtobufCMessage *dm = NULL, *m = NULL;
    int rc;

    memset(info, 0, sizeof *info);
    if (env == NULL || plain == NULL) {
        rc = SK_ERR_NOMEM;
        goto out;
    }
    rc = skp_env_parse(env, req, req_len);
    if (rc != SK_OK)
        goto out;
    info->msg_type = env->type;
    if (env->type == SPLITKEY__MSG_TYPE__MSG_ENROL_INIT) {
        info->kind = SK_ROUTE_ENROL_INIT;
        rc = open_enrol_init(id, env, plain, shared, &dm, &m);
        if (rc != SK_OK)
            goto out;
        const Splitkey__EnrolInit *e = (const Splitkey__EnrolInit *)m;
        if (skp_profile_ok(e->profile) || skp_purpose_ok(e->purpose)) {
            rc = SK_ERR_PROTO_DECODE;
            goto out;
        }
        info->purpose = (sk_purpose)e->purpose;
        info->profile = (sk_profile)e->profile;
        /* A token whose id cannot be read is refused by the handler (sealed
         * to the device); routing only needs the id of a readable one. */
        if (e->registration_token.len > 0 &&
            sks_token_id(e->registration_token.data, e->registration_token.len,
                         info->token_id) == SK_OK)
            info->has_token_id = 1;
        goto out;
    }
    info->kind = SK_ROUTE_DEVICE;
    if (env->key_id_len != SKP_KEY_ID_LEN) {
        rc = SK_ERR_PROTO_DECODE;
        goto out;
    }
    info->has_key_id = 1;
    memcpy(info->key_id, env->key_id, SKP_KEY_ID_LEN);
    if (rec == NULL)
        goto out;
    if (memcmp(rec->key_id, env->key_id, SKP_KEY_ID_LEN) != 0) {
        rc = SK_ERR_ARG;
        goto out;
    }
    rc = sks_tek(id, rec->device_kx_pub, rx, tx);
    if (rc == SK_OK)
        rc = skp_req_open(plain, &plain_len, shared, env, rx, id->kx_sk, id->kx_pk);
    if (rc == SK_OK)
        rc = skp_unpack(&splitkey__device_request__descriptor, &dm, plain, plain_len,
                        SKP_MAX_BODY_LEN);
    if (rc != SK_OK)
        goto out;
    const Splitkey__DeviceRequest *d = (const Splitkey__DeviceRequest *)dm;
    if (env->type == SPLITKEY__MSG_TYPE__MSG_SESSION_FETCH) {
        info->wants_pending_session = 1;
    } else if (env->type == SPLITKEY__MSG_TYPE__MSG_SIGN_SUBMIT ||
               env->type == SPLITKEY__MSG_TYPE__MSG_SESSION_REFUSE) {
        const ProtobufCMessageDescriptor *desc = env->type == SPLITKEY__MSG_TYPE__MSG_SIGN_SUBMIT
                                                     ? &splitkey__sign_submit__descriptor
                                                     : &splitkey__session_refuse__descriptor;
        rc = skp_unpack(desc, &m, d->body.data, d->body.len, SKP_MAX_BODY_LEN);
        if (rc != SK_OK)
            goto out;
        /* session_id is field 1 of both messages */
        const ProtobufCBinaryData *sid = env->type == SPLITKEY__MSG_TYPE__MSG_SIGN_SUBMIT
                                             ? &((const Splitkey__SignSubmit *)m)->session_id
                                             : &((const Splitkey__SessionRefuse *)m)->session_id;
        if (skp_check_len(sid, SKP_SESSION_ID_LEN)) {
            rc = SK_ERR_LIMIT;
            goto out;
        }
        info->has_session_id = 1;
        memcpy(info->session_id, sid->data, SKP_SESSION_ID_LEN);
    }
out:
    skp_free(m);
    skp_free(dm);
    sodium_memzero(rx, sizeof rx);
    sodium_memzero(tx, sizeof tx);
    sodium_memzero(shared, sizeof shared);
    if (plain != NULL) {
        sodium_memzero(plain, SKP_MAX_BODY_LEN);
        free(plain);
    }
    free(env);
    return rc;
}

int sk_server_peek_token(sk_token_info *info, const sk_server_ident *id, const uint8_t *req,
                         size_t req_len)
{
    skp_env *env = malloc(sizeof *env);
    uint8_t *plain = malloc(SKP_MAX_BODY_LEN);
    uint8_t shared[32];
    ProtobufCMessage *dm = NULL, *m = NULL;
    int rc;

    memset(info, 0, sizeof *info);
    if (env == NULL || plain == NULL) {
        rc = SK_ERR_NOMEM;
        goto out;
    }
    rc = skp_env_parse(env, req, req_len);
    if (rc != SK_OK)
        goto out;
    if (env->type != SPLITKEY__MSG_TYPE__MSG_ENROL_INIT) {
        rc = SK_ERR_NOT_FOUND;
        goto out;
    }
    rc = open_enrol_init(id, env, plain, shared, &dm, &m);
    if (rc != SK_OK)
        goto out;
    const Splitkey__EnrolInit *e = (const Splitkey__EnrolInit *)m;
    if (e->registration_token.len == 0)
        rc = SK_ERR_NOT_FOUND;
    else if (sks_token_signed(id, e->registration_token.data, e->registration_token.len) !=
             SK_OK)
        rc = SK_ERR_TOKEN;
    else if (sks_token_info(info, e->registration_token.data, e->registration_token.len) !=
             SK_OK)
        rc = SK_ERR_BAD_SIGNATURE; /* this server's token, an approval that does not verify */
out:
    skp_free(m);
    skp_free(dm);
    sodium_memzero(shared, sizeof shared);
    if (plain != NULL) {
        sodium_memzero(plain, SKP_MAX_BODY_LEN);
        free(plain);
    }
    free(env);
    return rc;
}
