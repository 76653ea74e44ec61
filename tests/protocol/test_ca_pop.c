/* SPDX-License-Identifier: Apache-2.0 */
/* The proof of possession with a CA (sk_server_input.ca_mode), both roles
 * and an in-process CA: the device's CSR reaches the server with the
 * session, the first pass yields a signed PKCS#10 request for exactly n and
 * stores nothing, the CA's error leaves the key PENDING, a certificate for
 * another key is refused, and the right one is stored, activates the key and
 * reaches the device and later sessions.  Without ca_mode nothing changes. */
#include <sodium.h>
#include <string.h>

#include "pki/csr_internal.h"
#include "protocol/device/device_internal.h"
#include "splitkey/pki.h"
#include "world.h"

#define SUBJECT "C=LV,GN=ANNA,SN=BERZINA,serialNumber=PNOLV-010101-12345"

static uint8_t msg[SK_MAX_MESSAGE_LEN], reply[SK_MAX_MESSAGE_LEN];
static uint8_t rec_before[SK_MAX_RECORD_LEN], rec_after[SK_MAX_RECORD_LEN];

/* The stored key record's bytes. */
static size_t snapshot(world *w, const sk_device_key *key, uint8_t *out)
{
    uint8_t id[SK_KEY_ID_LEN];
    if (sk_device_key_id(key, id, sizeof id) != SK_OK)
        return 0;
    w_key *k = world_key(w, id);
    if (k == NULL)
        return 0;
    memcpy(out, k->rec, k->rec_len);
    return k->rec_len;
}

static sk_key_rec *record(world *w, const sk_device_key *key)
{
    uint8_t id[SK_KEY_ID_LEN];
    if (sk_device_key_id(key, id, sizeof id) != SK_OK)
        return NULL;
    return world_key_record(w, id);
}

typedef struct test_ca {
    sk_ca_key *key;
    sk_ca *ca;
} test_ca;

static int ca_open(test_ca *t)
{
    static uint8_t cert[SK_PKI_MAX_CERT_LEN];
    size_t len = 0;
    sk_name *name = NULL;
    sk_ca_config cfg = {.ocsp_url = "http://127.0.0.1/ocsp",
                        .ca_issuers_url = "http://127.0.0.1/ca.crt",
                        .pds_url = "https://example.org/pds_en.pdf"};
    memset(t, 0, sizeof *t);
    int rc = sk_ca_key_generate(&t->key, SK_CA_KEY_EC_P384);
    if (rc == SK_OK)
        rc = sk_name_parse(&name, NULL, "CN=Pop Test CA,O=Splitkey Test,C=LV");
    if (rc == SK_OK)
        rc = sk_ca_self_signed(t->key, cert, sizeof cert, &len, NULL, name, 1700000000 - 60, 0);
    if (rc == SK_OK)
        rc = sk_ca_new(&t->ca, cert, len, t->key, &cfg);
    sk_name_free(name);
    return rc;
}

static void ca_close(test_ca *t)
{
    sk_ca_free(t->ca);
    sk_ca_key_free(t->key);
}

/* A proof-of-possession approval sent to the server with whatever the world
 * hands in (w->certificate / w->ca_error). */
static int approve_pop(world *w, sk_device_key *key, const sk_device_session *s, size_t *len,
                       size_t *rlen)
{
    int rc = sk_device_approve(key, msg, sizeof msg, len, w->now, s, (const uint8_t *)PIN_SIGN,
                               strlen(PIN_SIGN));
    if (rc == SK_OK)
        rc = world_device(w, msg, *len, reply, rlen);
    return rc;
}

static void test_ca_pop(void)
{
    world *w = world_new();
    sk_device_key *key = NULL, *other = NULL;
    sk_device_session *s = NULL;
    sk_csr *csr = NULL;
    sk_pubkey *pub = NULL, *other_pub = NULL;
    sk_name *subject = NULL;
    sk_key_rec *rec = NULL;
    test_ca ca;
    static uint8_t cert[SK_PKI_MAX_CERT_LEN], wrong[SK_PKI_MAX_CERT_LEN], got[SK_PKI_MAX_CERT_LEN];
    static uint8_t n[512], sig[SK_MAX_SIG_LEN], digest[32];
    size_t len = 0, rlen = 0, cert_len = 0, wrong_len = 0, got_len = 0, sig_len = 0, b, a;
    sk_key_status st;

    CHECK_OK(ca_open(&ca));
    w->ca_mode = 1;
    CHECK_OK(world_enrol(w, &key, SK_PROFILE_4K, SK_PURPOSE_SIGN, PIN_SIGN, NULL, false));
    CHECK_OK(world_enrol(w, &other, SK_PROFILE_4K, SK_PURPOSE_SIGN, PIN_SIGN, NULL, false));
    if (key == NULL || other == NULL)
        goto out;
    CHECK_OK(sk_device_key_pubkey(key, &pub));
    CHECK_OK(sk_device_key_pubkey(other, &other_pub));
    if (pub == NULL || other_pub == NULL)
        goto out;
    CHECK_OK(sk_pubkey_modulus(pub, n, sizeof n));

    /* With a CA, a proof of possession over anything but the CSR is refused
     * and changes nothing. */
    b = snapshot(w, key, rec_before);
    CHECK_OK(sk_digest(digest, sizeof digest, SK_HASH_SHA256, (const uint8_t *)"x", 1));
    CHECK_OK(sk_device_session_create(key, msg, sizeof msg, &len, w->now, digest, sizeof digest,
                                      SK_HASH_SHA256, SK_SCHEME_PKCS1, "not a CSR"));
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK_RC(SK_ERR_CSR, sk_device_read_session(key, &s, NULL, reply, rlen));
    CHECK(!w->stored_session);
    a = snapshot(w, key, rec_after);
    CHECK(world_same_but_otp(rec_before, b, rec_after, a));
    /* The device's CSR session. */
    uint8_t pop_digest[32];
    CHECK_OK(sk_device_pop_create(key, msg, sizeof msg, &len, w->now, SK_HASH_SHA256, "Enrolment",
                                  pop_digest, sizeof pop_digest));
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK_OK(sk_device_read_session(key, &s, NULL, reply, rlen));
    if (s == NULL)
        goto out;

    /* Pass 1: the signed CSR comes back, nothing is stored or sent. */
    b = snapshot(w, key, rec_before);
    CHECK_OK(approve_pop(w, key, s, &len, &rlen));
    CHECK(w->status == SK_ERR_PENDING);
    CHECK(w->effects == SK_EFFECT_CERT_REQUEST);
    /* Only the PIN check's charge was stored (before the check ran). */
    CHECK(w->charges == 1 && !w->stored_key && !w->stored_session && rlen == 0);
    a = snapshot(w, key, rec_after);
    CHECK(!world_same_but_otp(rec_before, b, rec_after, a));
    CHECK(w->csr_len > 0);
    CHECK_OK(sk_csr_parse(&csr, w->csr, w->csr_len));
    if (csr == NULL)
        goto out;
    CHECK_OK(sk_csr_verify(csr));
    CHECK_OK(sk_csr_check_key(csr, n, sizeof n));
    CHECK(sk_csr_hash(csr) == SK_HASH_SHA256);
    CHECK_OK(sk_csr_subject(csr, &subject));
    char text[SK_MAX_SUBJECT_LEN + 1];
    size_t tl = 0;
    if (subject != NULL) {
        CHECK_OK(sk_name_format(subject, text, sizeof text, &tl));
        CHECK(strstr(text, "serialNumber=PNOLV-010101-12345") != NULL);
    }

    static uint8_t signed_csr[8192];
    size_t signed_csr_len = w->csr_len;
    memcpy(signed_csr, w->csr, w->csr_len);

    /* Pass 2 with the CA's error: the device hears it, the key stays PENDING
     * without a certificate, the session stays open. */
    w->ca_error = SK_ERR_CA_UNAVAILABLE;
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    w->ca_error = 0;
    CHECK_RC(SK_ERR_CA_UNAVAILABLE,
             sk_device_read_signature(key, sig, sizeof sig, &sig_len, &st, reply, rlen));
    CHECK(sk_device_key_state(key) == SK_KEY_PENDING);
    rec = record(w, key);
    if (rec != NULL) {
        sk_key_rec_status(rec, &st, &w->policy, w->now);
        CHECK(st.state == SK_KEY_PENDING);
        size_t cl = 0;
        CHECK(sk_key_rec_certificate(rec, &cl) == NULL && cl == 0);
        sk_key_rec_free(rec);
        rec = NULL;
    }

    /* Again: pass 1, then a certificate for another key is refused. */
    CHECK_OK(sk_ca_issue_csr(ca.ca, cert, sizeof cert, &cert_len, NULL, SK_CERT_SIGN_QUALIFIED,
                             signed_csr, signed_csr_len, n, sizeof n, NULL, 1700000000));
    sk_name *person = NULL;
    CHECK_OK(sk_name_parse_person(&person, NULL, SUBJECT));
    if (person != NULL)
        CHECK_OK(sk_ca_issue(ca.ca, wrong, sizeof wrong, &wrong_len, NULL, SK_CERT_SIGN_QUALIFIED,
                             person, other_pub, 1700000000));
    sk_name_free(person);
    CHECK_OK(approve_pop(w, key, s, &len, &rlen));
    CHECK(w->status == SK_ERR_PENDING && w->csr_len > 0);
    w->certificate = wrong;
    w->certificate_len = wrong_len;
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    w->certificate = NULL;
    w->certificate_len = 0;
    CHECK_RC(SK_ERR_CA_REFUSED,
             sk_device_read_signature(key, sig, sizeof sig, &sig_len, &st, reply, rlen));
    CHECK(sk_device_key_state(key) == SK_KEY_PENDING);

    /* And with the right certificate: stored, ACTIVE, in the reply; the key,
     * enrolled openly (ADVANCED), is QUALIFIED once issued a qualified profile. */
    rec = record(w, key);
    CHECK(rec != NULL && sk_key_rec_level(rec) == SK_CERT_LEVEL_ADVANCED);
    sk_key_rec_free(rec);
    rec = NULL;
    CHECK_OK(approve_pop(w, key, s, &len, &rlen));
    CHECK(w->status == SK_ERR_PENDING);
    w->certificate = cert;
    w->certificate_len = cert_len;
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    w->certificate = NULL;
    w->certificate_len = 0;
    CHECK(w->effects & SK_EFFECT_CERT_STORED);
    CHECK(!(w->effects & SK_EFFECT_CERT_REQUEST));
    CHECK_OK(sk_device_read_signature(key, sig, sizeof sig, &sig_len, &st, reply, rlen));
    CHECK(sk_device_key_state(key) == SK_KEY_ACTIVE);
    CHECK_OK(sk_verify(pub, SK_SCHEME_PKCS1, SK_HASH_SHA256, pop_digest, 32, sig, sig_len));
    CHECK_OK(sk_device_key_certificate(key, got, sizeof got, &got_len));
    CHECK(got_len == cert_len && memcmp(got, cert, cert_len) == 0);
    rec = record(w, key);
    if (rec != NULL) {
        size_t cl = 0;
        const uint8_t *c = sk_key_rec_certificate(rec, &cl);
        CHECK(c != NULL && cl == cert_len && memcmp(c, cert, cl) == 0);
        sk_key_rec_status(rec, &st, &w->policy, w->now);
        CHECK(st.state == SK_KEY_ACTIVE);
        CHECK(sk_key_rec_level(rec) == SK_CERT_LEVEL_QUALIFIED);
    }

    /* Later signatures carry it to the device. */
    uint8_t sid[SK_SESSION_ID_LEN];
    CHECK_OK(world_rp_create(w, key, digest, SK_HASH_SHA256, SK_SCHEME_PKCS1, sid, NULL));
    CHECK_OK(world_approve(w, key, PIN_SIGN, sig, &sig_len, NULL));
    CHECK_OK(sk_device_key_certificate(key, got, sizeof got, &got_len));
    CHECK(got_len == cert_len);
out:
    sk_key_rec_free(rec);
    sk_name_free(subject);
    sk_csr_free(csr);
    sk_device_session_free(s);
    sk_pubkey_free(pub);
    sk_pubkey_free(other_pub);
    sk_device_key_free(key);
    sk_device_key_free(other);
    ca_close(&ca);
    world_free(w);
}

/* A SessionCreate the device library would never build: any CRI, digest
 * and scheme, sealed in the key's channel. */
static int crafted_create(world *w, sk_device_key *key, const uint8_t *cri, size_t cri_len,
                          const uint8_t *digest, sk_scheme scheme, size_t *rlen)
{
    Splitkey__SessionCreate c = SPLITKEY__SESSION_CREATE__INIT;
    uint8_t id[SK_KEY_ID_LEN], body[8192];
    size_t body_len = 0, len = 0;
    if (sk_device_key_id(key, id, sizeof id) != SK_OK)
        return SK_ERR_INTERNAL;
    c.key_id.data = id;
    c.key_id.len = sizeof id;
    c.purpose = (Splitkey__Purpose)sk_device_key_purpose(key);
    c.digest.data = (uint8_t *)digest;
    c.digest.len = 32;
    c.hash = SK_HASH_SHA256;
    c.scheme = (uint32_t)scheme;
    c.csr_info.data = (uint8_t *)cri;
    c.csr_info.len = cri_len;
    int rc = skp_pack(&c.base, body, sizeof body, &body_len);
    if (rc == SK_OK && body_len <= sizeof key->pending_body) {
        /* a request in flight with this body, as sk_device_session_create
         * would make it */
        key->pending_kind = SKD_PENDING_CREATE;
        key->pending_type = SPLITKEY__MSG_TYPE__MSG_SESSION_CREATE;
        memcpy(key->pending_body, body, body_len);
        key->pending_body_len = body_len;
        randombytes_buf(key->pending_request_id, sizeof key->pending_request_id);
        rc = skd_send(key, msg, sizeof msg, &len, body, body_len);
    }
    if (rc == SK_OK)
        rc = world_device(w, msg, len, reply, rlen);
    return rc;
}

/* The server checks the CRI a proof of possession carries: exactly n, the
 * registered subject, the session's digest, PKCS#1 v1.5.  Each refusal is
 * SK_ERR_CSR and changes nothing. */
static void test_csr_checks(void)
{
    world *w = world_new();
    sk_device_key *key = NULL, *other = NULL;
    sk_pubkey *pub = NULL, *other_pub = NULL;
    sk_name *person = NULL, *stranger = NULL;
    sk_csr_tbs *good = NULL, *wrong_key = NULL, *wrong_subject = NULL;
    sk_device_session *s = NULL;
    uint8_t d_good[32], d_key[32], d_subject[32], d_other[32];
    size_t rlen = 0, b, a, gl = 0, kl = 0, sl = 0;
    w->ca_mode = 1;
    CHECK_OK(world_enrol(w, &key, SK_PROFILE_4K, SK_PURPOSE_SIGN, PIN_SIGN, NULL, false));
    CHECK_OK(world_enrol(w, &other, SK_PROFILE_4K, SK_PURPOSE_SIGN, PIN_SIGN, NULL, false));
    if (key == NULL || other == NULL)
        goto out;
    CHECK_OK(sk_device_key_pubkey(key, &pub));
    CHECK_OK(sk_device_key_pubkey(other, &other_pub));
    CHECK_OK(sk_name_parse_person(&person, NULL, SUBJECT));
    CHECK_OK(sk_name_parse_person(&stranger, NULL,
                                  "C=LV,GN=JANIS,SN=OZOLS,serialNumber=PNOLV-020202-22222"));
    if (pub == NULL || other_pub == NULL || person == NULL || stranger == NULL)
        goto out;
    CHECK_OK(sk_csr_tbs_new(&good, person, pub, SK_HASH_SHA256));
    CHECK_OK(sk_csr_tbs_new(&wrong_key, person, other_pub, SK_HASH_SHA256));
    CHECK_OK(sk_csr_tbs_new(&wrong_subject, stranger, pub, SK_HASH_SHA256));
    if (good == NULL || wrong_key == NULL || wrong_subject == NULL)
        goto out;
    const uint8_t *c_good = pki_csr_tbs_info(good, &gl);
    const uint8_t *c_key = pki_csr_tbs_info(wrong_key, &kl);
    const uint8_t *c_subject = pki_csr_tbs_info(wrong_subject, &sl);
    CHECK_OK(sk_csr_tbs_digest(good, d_good, 32));
    CHECK_OK(sk_csr_tbs_digest(wrong_key, d_key, 32));
    CHECK_OK(sk_csr_tbs_digest(wrong_subject, d_subject, 32));
    CHECK_OK(sk_digest(d_other, 32, SK_HASH_SHA256, (const uint8_t *)"other", 5));
    static const uint8_t garbage[] = {0x30, 0x05, 0x02, 0x01, 0x00, 0x30, 0x00};

    struct {
        const char *what;
        const uint8_t *cri;
        size_t len;
        const uint8_t *digest;
        sk_scheme scheme;
    } bad[] = {
        {"another key", c_key, kl, d_key, SK_SCHEME_PKCS1},
        {"another subject", c_subject, sl, d_subject, SK_SCHEME_PKCS1},
        {"a digest of something else", c_good, gl, d_other, SK_SCHEME_PKCS1},
        {"PSS", c_good, gl, d_good, SK_SCHEME_PSS},
        {"not a CRI", garbage, sizeof garbage, d_good, SK_SCHEME_PKCS1},
        {"a truncated CRI", c_good, gl - 1, d_good, SK_SCHEME_PKCS1},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        b = snapshot(w, key, rec_before);
        CHECK_OK(crafted_create(w, key, bad[i].cri, bad[i].len, bad[i].digest, bad[i].scheme,
                                &rlen));
        int rc = sk_device_read_session(key, &s, NULL, reply, rlen);
        if (rc != SK_ERR_CSR)
            fprintf(stderr, "CRI with %s: %s\n", bad[i].what, sk_strerror(rc));
        CHECK(rc == SK_ERR_CSR);
        sk_device_session_free(s);
        s = NULL;
        /* Refused: no session, and of the key only the one-time password
         * the request retired changed (state, counters, lock as before). */
        CHECK(!w->stored_session);
        a = snapshot(w, key, rec_after);
        CHECK(world_same_but_otp(rec_before, b, rec_after, a));
    }
    /* The same route with the right CRI is accepted: the checks above are
     * what refused. */
    CHECK_OK(crafted_create(w, key, c_good, gl, d_good, SK_SCHEME_PKCS1, &rlen));
    CHECK_OK(sk_device_read_session(key, &s, NULL, reply, rlen));
    CHECK(w->stored_session);
out:
    sk_device_session_free(s);
    sk_csr_tbs_free(good);
    sk_csr_tbs_free(wrong_key);
    sk_csr_tbs_free(wrong_subject);
    sk_name_free(person);
    sk_name_free(stranger);
    sk_pubkey_free(pub);
    sk_pubkey_free(other_pub);
    sk_device_key_free(key);
    sk_device_key_free(other);
    world_free(w);
}

/* Without a CA a CSR that comes along is checked all the same, and the key
 * activates at once with the note effect. */
static void test_no_ca(void)
{
    world *w = world_new();
    sk_device_key *key = NULL;
    sk_device_session *s = NULL;
    uint8_t sig[SK_MAX_SIG_LEN];
    size_t len = 0, rlen = 0, sig_len = 0, cl = 1;
    CHECK_OK(world_enrol(w, &key, SK_PROFILE_4K, SK_PURPOSE_SIGN, PIN_SIGN, NULL, false));
    if (key == NULL)
        goto out;
    CHECK_OK(sk_device_pop_create(key, msg, sizeof msg, &len, w->now, SK_HASH_SHA384, NULL, NULL,
                                  0));
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK_OK(sk_device_read_session(key, &s, NULL, reply, rlen));
    if (s == NULL)
        goto out;
    CHECK_OK(approve_pop(w, key, s, &len, &rlen));
    CHECK(w->effects & SK_EFFECT_CERT_REQUEST);
    CHECK(w->csr_len == 0);
    CHECK_OK(sk_device_read_signature(key, sig, sizeof sig, &sig_len, NULL, reply, rlen));
    CHECK(sk_device_key_state(key) == SK_KEY_ACTIVE);
    CHECK_OK(sk_device_key_certificate(key, sig, sizeof sig, &cl));
    CHECK(cl == 0);
    /* an ACTIVE key proves nothing again */
    CHECK_RC(SK_ERR_PROTO_STATE, sk_device_pop_create(key, msg, sizeof msg, &len, w->now,
                                                      SK_HASH_SHA256, NULL, NULL, 0));
out:
    sk_device_session_free(s);
    sk_device_key_free(key);
    world_free(w);
}

/* A device that lost its proof-of-possession session (it crashed after the
 * reply was read, before it approved) asks for a new one: the new session
 * takes the place of the earlier, which can no longer be signed, and the key
 * activates with the new one. */
static void test_pop_again(void)
{
    world *w = world_new();
    sk_device_key *key = NULL;
    sk_device_session *s1 = NULL, *s2 = NULL;
    uint8_t sig[SK_MAX_SIG_LEN];
    size_t len = 0, rlen = 0, sig_len = 0;
    CHECK_OK(world_enrol(w, &key, SK_PROFILE_4K, SK_PURPOSE_SIGN, PIN_SIGN, NULL, false));
    if (key == NULL)
        goto out;
    CHECK_OK(sk_device_pop_create(key, msg, sizeof msg, &len, w->now, SK_HASH_SHA256, NULL, NULL,
                                  0));
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK_OK(sk_device_read_session(key, &s1, NULL, reply, rlen));
    CHECK_OK(sk_device_pop_create(key, msg, sizeof msg, &len, w->now, SK_HASH_SHA256, NULL, NULL,
                                  0));
    CHECK_OK(world_device(w, msg, len, reply, &rlen));
    CHECK_OK(w->status);
    CHECK_OK(sk_device_read_session(key, &s2, NULL, reply, rlen));
    if (s1 == NULL || s2 == NULL)
        goto out;
    /* the earlier session is no longer the key's proof of possession */
    CHECK_OK(approve_pop(w, key, s1, &len, &rlen));
    CHECK(w->status != SK_OK && !(w->effects & SK_EFFECT_CERT_REQUEST));
    CHECK(sk_device_read_signature(key, sig, sizeof sig, &sig_len, NULL, reply, rlen) != SK_OK);
    CHECK(sk_device_key_state(key) == SK_KEY_PENDING);
    CHECK_OK(approve_pop(w, key, s2, &len, &rlen));
    CHECK(w->effects & SK_EFFECT_CERT_REQUEST);
    CHECK_OK(sk_device_read_signature(key, sig, sizeof sig, &sig_len, NULL, reply, rlen));
    CHECK(sk_device_key_state(key) == SK_KEY_ACTIVE);
out:
    sk_device_session_free(s1);
    sk_device_session_free(s2);
    sk_device_key_free(key);
    world_free(w);
}

int main(void)
{
    sk_test_init();
    test_ca_pop();
    test_csr_checks();
    test_no_ca();
    test_pop_again();
    return sk_test_done("protocol_ca_pop");
}
