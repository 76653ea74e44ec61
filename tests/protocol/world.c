/* SPDX-License-Identifier: Apache-2.0 */
#include "world.h"

#include <mbedtls/md.h>
#include <mbedtls/rsa.h>
#include <stdlib.h>
#include <string.h>

#include "splitkey.pb-c.h"
#include "splitkey/rp.h"

world *world_new(void)
{
    world *w = calloc(1, sizeof *w);
    if (w == NULL)
        abort();
    if (sk_server_ident_generate(&w->id, NULL, NULL) != SK_OK ||
        sk_server_ident_public(w->id, w->server_pub, sizeof w->server_pub) != SK_OK)
        abort();
    sk_server_policy_default(&w->policy);
    w->policy.open_enrolment = 1;
    w->now = 1700000000;
    return w;
}

void world_free(world *w)
{
    if (w == NULL)
        return;
    sk_server_ident_free(w->id);
    sk_wipe(w, sizeof *w);
    free(w);
}

w_key *world_key(world *w, const uint8_t *key_id)
{
    for (int i = 0; i < w->nkeys; i++)
        if (memcmp(w->keys[i].id, key_id, SK_KEY_ID_LEN) == 0)
            return &w->keys[i];
    return NULL;
}

sk_key_rec *world_key_record(world *w, const uint8_t *key_id)
{
    w_key *k = world_key(w, key_id);
    sk_key_rec *r = NULL;
    if (k == NULL ||
        sk_key_rec_import(&r, k->rec, k->rec_len, k->sec_len ? k->sec : NULL, k->sec_len) != SK_OK)
        return NULL;
    return r;
}

static w_session *find_session(world *w, const uint8_t *id)
{
    for (int i = 0; i < w->nsessions; i++)
        if (memcmp(w->sessions[i].id, id, SK_SESSION_ID_LEN) == 0)
            return &w->sessions[i];
    return NULL;
}

static sk_session_rec *load_session(const w_session *s)
{
    sk_session_rec *r = NULL;
    if (s == NULL || sk_session_rec_import(&r, s->rec, s->rec_len) != SK_OK)
        return NULL;
    return r;
}

/* Drops the sessions nobody can use any more (as a store's purge would). */
static void purge_sessions(world *w)
{
    int kept = 0;
    for (int i = 0; i < w->nsessions; i++) {
        sk_session_rec *r = load_session(&w->sessions[i]);
        bool keep = r != NULL && sk_session_rec_state(r) == SK_SESSION_PENDING &&
                    sk_session_rec_expires_at(r) > w->now;
        sk_session_rec_free(r);
        if (keep) {
            if (kept != i)
                w->sessions[kept] = w->sessions[i];
            kept++;
        }
    }
    w->nsessions = kept;
}

/* Stores what a handler returned, checking versions as a store would. */
static void store(world *w, const sk_server_result *res, const sk_key_rec *old_key,
                  const sk_session_rec *old_sess)
{
    const sk_key_rec *k = sk_server_result_key(res);
    const sk_session_rec *s = sk_server_result_session(res);
    unsigned eff = sk_server_result_effects(res);
    const sk_key_rec *g = sk_server_result_superseded(res);
    w->stored_key = k != NULL;
    w->stored_session = s != NULL;
    if (g != NULL) {
        /* an unfinished enrolment given up, in the same step as the new key */
        uint8_t id[SK_KEY_ID_LEN];
        w_key *slot = NULL;
        if (sk_key_rec_key_id(g, id, sizeof id) != SK_OK || (slot = world_key(w, id)) == NULL ||
            old_key == NULL || sk_key_rec_version(g) != sk_key_rec_version(old_key) + 1 ||
            !(eff & SK_EFFECT_SUPERSEDE) || !(eff & SK_EFFECT_NEW_KEY))
            abort();
        if (sk_key_rec_export(g, slot->rec, sizeof slot->rec, &slot->rec_len) != SK_OK ||
            sk_key_rec_export_secrets(g, slot->sec, sizeof slot->sec, &slot->sec_len) != SK_OK)
            abort();
    }
    if (k != NULL) {
        uint8_t id[SK_KEY_ID_LEN];
        if (sk_key_rec_key_id(k, id, sizeof id) != SK_OK)
            abort();
        w_key *slot = world_key(w, id);
        if (eff & SK_EFFECT_NEW_KEY) {
            if (slot != NULL || w->nkeys == W_MAX_KEYS || sk_key_rec_version(k) != 1)
                abort();
            slot = &w->keys[w->nkeys++];
            memcpy(slot->id, id, sizeof id);
        } else if (slot == NULL || old_key == NULL ||
                   sk_key_rec_version(k) != sk_key_rec_version(old_key) + 1) {
            fprintf(stderr, "store: version conflict\n");
            abort();
        }
        if (sk_key_rec_export(k, slot->rec, sizeof slot->rec, &slot->rec_len) != SK_OK ||
            sk_key_rec_export_secrets(k, slot->sec, sizeof slot->sec, &slot->sec_len) != SK_OK)
            abort();
    }
    if (s != NULL) {
        uint8_t id[SK_SESSION_ID_LEN];
        if (sk_session_rec_id(s, id, sizeof id) != SK_OK)
            abort();
        w_session *slot = find_session(w, id);
        if (eff & SK_EFFECT_NEW_SESSION) {
            if (w->nsessions == W_MAX_SESSIONS)
                purge_sessions(w);
            if (slot != NULL || w->nsessions == W_MAX_SESSIONS || sk_session_rec_version(s) != 1)
                abort();
            slot = &w->sessions[w->nsessions++];
            memcpy(slot->id, id, sizeof id);
        } else if (slot == NULL || old_sess == NULL ||
                   sk_session_rec_version(s) != sk_session_rec_version(old_sess) + 1) {
            fprintf(stderr, "store: session version conflict\n");
            abort();
        }
        if (sk_session_rec_key_id(s, slot->key_id, sizeof slot->key_id) != SK_OK ||
            sk_session_rec_export(s, slot->rec, sizeof slot->rec, &slot->rec_len) != SK_OK)
            abort();
    }
    w->effects = eff;
    w->revoke_reason = sk_server_result_revoke_reason(res);
    w->status = sk_server_result_status(res);
}

static void copy_reply(const sk_server_result *res, uint8_t *reply, size_t *reply_len)
{
    size_t len = 0;
    const uint8_t *p = sk_server_result_reply(res, &len);
    memcpy(reply, p, len);
    *reply_len = len;
}

static int world_device_once(world *w, const uint8_t *req, size_t req_len, uint8_t *reply,
                             size_t *reply_len)
{
    sk_route_info info;
    sk_server_input in;
    sk_server_result *res = NULL;
    sk_key_rec *rec = NULL;
    sk_session_rec *sess = NULL;
    sk_server_key *pool = NULL;
    uint8_t pool_bytes[SK_SERVER_KEY_LEN(4096)];
    sk_session_rec *list[SK_MAX_FETCH_SESSIONS] = {NULL};
    size_t nlist = 0;
    int rc;

    *reply_len = 0;
    memset(&in, 0, sizeof in);
    in.identity = w->id;
    in.policy = &w->policy;
    in.now = w->now;
    in.ca_mode = w->ca_mode;
    in.certificate = w->certificate;
    in.certificate_len = w->certificate_len;
    in.ca_error = w->ca_error;
    w->csr_len = 0;
    rc = sk_server_peek_device(&info, w->id, NULL, req, req_len);
    if (rc != SK_OK) {
        /* Unroutable: the service answers with a plain error. */
        w->status = rc;
        w->stored_key = w->stored_session = false;
        return sk_server_plain_error(reply, SK_MAX_MESSAGE_LEN, reply_len, rc);
    }
    if (info.kind == SK_ROUTE_ENROL_INIT) {
        if (sk_server_keygen(&pool, info.profile) != SK_OK ||
            sk_server_key_export(pool, pool_bytes, sk_server_key_len(info.profile)) != SK_OK)
            abort();
        in.pool_key = pool_bytes;
        in.pool_key_len = sk_server_key_len(info.profile);
        if (info.has_token_id)
            for (int i = 0; i < w->nused_tokens; i++)
                if (memcmp(w->used_tokens[i], info.token_id, 16) == 0) {
                    in.token_used = 1;
                    rec = world_key_record(w, w->token_keys[i]);
                    in.key = rec;
                }
    } else {
        rec = world_key_record(w, info.key_id);
        in.key = rec;
        in.key_restored = w->key_restored;
        if (rec != NULL && sk_server_peek_device(&info, w->id, rec, req, req_len) == SK_OK) {
            if (info.has_session_id) {
                sess = load_session(find_session(w, info.session_id));
            } else if (info.wants_pending_session) {
                /* The store's query: this key's waiting sessions, oldest first. */
                for (int i = 0; i < w->nsessions && nlist < SK_MAX_FETCH_SESSIONS; i++) {
                    if (memcmp(w->sessions[i].key_id, info.key_id, SK_KEY_ID_LEN) != 0)
                        continue;
                    sk_session_rec *s = load_session(&w->sessions[i]);
                    if (s != NULL && sk_session_rec_state(s) == SK_SESSION_PENDING &&
                        sk_session_rec_expires_at(s) > w->now)
                        list[nlist++] = s;
                    else
                        sk_session_rec_free(s);
                }
                if (w->fetch_as_list) {
                    in.sessions = (const sk_session_rec *const *)list;
                    in.n_sessions = nlist;
                } else if (nlist > 0) {
                    sess = list[0];
                    list[0] = NULL;
                }
            }
        }
        in.session = sess;
        in.session_abandoned = sess != NULL && w->session_abandoned;
    }
    rc = sk_server_handle_device(&res, &in, req, req_len);
    if (rc == SK_OK) {
        size_t csr_len = 0;
        const uint8_t *csr = sk_server_result_csr(res, &csr_len);
        if (csr != NULL && csr_len <= sizeof w->csr) {
            memcpy(w->csr, csr, csr_len);
            w->csr_len = csr_len;
        }
        store(w, res, rec, sess);
        if (w->stored_key)
            w->key_restored = false;
        const sk_key_rec *nk = sk_server_result_key(res);
        if ((w->effects & SK_EFFECT_TOKEN_USED) && nk != NULL) {
            int i = 0;
            while (i < w->nused_tokens && memcmp(w->used_tokens[i], info.token_id, 16) != 0)
                i++;
            if (i == w->nused_tokens && i < 16)
                memcpy(w->used_tokens[w->nused_tokens++], info.token_id, 16);
            if (i < 16 && sk_key_rec_key_id(nk, w->token_keys[i], SK_KEY_ID_LEN) != SK_OK)
                abort();
        }
        copy_reply(res, reply, reply_len);
    }
    sk_server_result_free(res);
    sk_session_rec_free(sess);
    for (size_t i = 0; i < nlist; i++)
        sk_session_rec_free(list[i]);
    sk_key_rec_free(rec);
    sk_server_key_free(pool);
    sk_wipe(pool_bytes, sizeof pool_bytes);
    return rc;
}

int world_device(world *w, const uint8_t *req, size_t req_len, uint8_t *reply, size_t *reply_len)
{
    w->charges = 0;
    int rc = world_device_once(w, req, req_len, reply, reply_len);
    if (rc == SK_OK && w->status == SK_ERR_LEASE) {
        /* A PIN check's charge is stored: the same request again runs the
         * check (as the share server does), unless the test stops here as
         * a crash would. */
        w->charges++;
        if (w->stop_after_charge)
            return rc;
        rc = world_device_once(w, req, req_len, reply, reply_len);
    }
    return rc;
}

int world_rp(world *w, const uint8_t *req, size_t req_len, uint8_t *reply, size_t *reply_len)
{
    sk_route_info info;
    sk_server_input in;
    sk_server_result *res = NULL;
    sk_key_rec *rec = NULL;
    sk_session_rec *sess = NULL;
    int rc;

    memset(&in, 0, sizeof in);
    in.identity = w->id;
    in.policy = &w->policy;
    in.now = w->now;
    if (sk_server_peek_rp(&info, req, req_len) == SK_OK) {
        if (info.has_key_id)
            rec = world_key_record(w, info.key_id);
        if (info.has_person_id)
            for (int i = 0; i < w->nkeys && rec == NULL; i++) {
                sk_key_rec *r = world_key_record(w, w->keys[i].id);
                if (r != NULL && strcmp(sk_key_rec_subject(r), info.person_id) == 0 &&
                    sk_key_rec_purpose(r) == info.purpose)
                    rec = r;
                else
                    sk_key_rec_free(r);
            }
        if (info.has_session_id)
            sess = load_session(find_session(w, info.session_id));
    }
    in.key = rec;
    in.session = sess;
    in.session_abandoned = sess != NULL && w->session_abandoned;
    rc = sk_server_handle_rp(&res, &in, req, req_len);
    if (rc == SK_OK) {
        store(w, res, rec, sess);
        copy_reply(res, reply, reply_len);
    }
    sk_server_result_free(res);
    sk_session_rec_free(sess);
    sk_key_rec_free(rec);
    return rc;
}

int world_enrol(world *w, sk_device_key **out, sk_profile profile, sk_purpose purpose,
                const char *pin, const char *token, bool do_pop)
{
    static uint8_t msg[SK_MAX_MESSAGE_LEN], reply[SK_MAX_MESSAGE_LEN];
    size_t msg_len = 0, reply_len = 0;
    sk_device_enrolment *e = NULL;
    sk_device_key *key = NULL;
    int rc;

    *out = NULL;
    rc = sk_device_enrol_start(
        &e, msg, sizeof msg, &msg_len, w->server_pub, sizeof w->server_pub, purpose, profile,
        (const uint8_t *)pin, strlen(pin), SK_KDF_MINIMUM, token,
        token == NULL ? "C=LV,GN=ANNA,SN=BERZINA,serialNumber=PNOLV-010101-12345" : NULL);
    if (rc != SK_OK)
        goto out;
    rc = world_device(w, msg, msg_len, reply, &reply_len);
    if (rc != SK_OK)
        goto out;
    rc = sk_device_enrol_continue(e, msg, sizeof msg, &msg_len, reply, reply_len);
    if (rc != SK_OK)
        goto out;
    rc = world_device(w, msg, msg_len, reply, &reply_len);
    if (rc != SK_OK)
        goto out;
    rc = sk_device_enrol_finish(e, &key, reply, reply_len);
    if (rc != SK_OK || !do_pop)
        goto out;
    /* Proof of possession: the device signs a digest of its own. */
    uint8_t digest[32];
    sk_device_session *s = NULL;
    uint8_t sig[SK_MAX_SIG_LEN];
    size_t sig_len = 0;
    if (sk_digest(digest, sizeof digest, SK_HASH_SHA256, (const uint8_t *)"csr tbs", 7) != SK_OK)
        abort();
    rc = sk_device_session_create(key, msg, sizeof msg, &msg_len, w->now, digest, sizeof digest,
                                  SK_HASH_SHA256, SK_SCHEME_PKCS1, "Enrolment");
    if (rc == SK_OK)
        rc = world_device(w, msg, msg_len, reply, &reply_len);
    if (rc == SK_OK)
        rc = sk_device_read_session(key, &s, NULL, reply, reply_len);
    if (rc == SK_OK)
        rc = sk_device_approve(key, msg, sizeof msg, &msg_len, w->now, s, (const uint8_t *)pin,
                               strlen(pin));
    sk_device_session_free(s);
    if (rc == SK_OK)
        rc = world_device(w, msg, msg_len, reply, &reply_len);
    if (rc == SK_OK)
        rc = sk_device_read_signature(key, sig, sizeof sig, &sig_len, NULL, reply, reply_len);
out:
    sk_device_enrolment_free(e);
    if (rc == SK_OK)
        *out = key;
    else
        sk_device_key_free(key);
    return rc;
}

int world_rp_create(world *w, const sk_device_key *key, const uint8_t *digest, sk_hash hash,
                    sk_scheme scheme, uint8_t *session_id, char *code)
{
    uint8_t key_id[SK_KEY_ID_LEN], req[1024], reply[SK_MAX_MESSAGE_LEN];
    size_t req_len = 0, reply_len = 0;
    Splitkey__RpRequest r = SPLITKEY__RP_REQUEST__INIT;
    Splitkey__SessionCreate c = SPLITKEY__SESSION_CREATE__INIT;
    if (sk_device_key_id(key, key_id, sizeof key_id) != SK_OK)
        abort();
    c.key_id.data = key_id;
    c.key_id.len = sizeof key_id;
    c.purpose = (Splitkey__Purpose)sk_device_key_purpose(key);
    c.digest.data = (uint8_t *)digest;
    c.digest.len = sk_hash_len(hash);
    c.hash = (uint32_t)hash;
    c.scheme = (uint32_t)scheme;
    c.display_text = (char *)"Sign contract 42";
    c.rp_name = (char *)"Bank";
    r.req_case = SPLITKEY__RP_REQUEST__REQ_CREATE;
    r.create = &c;
    req_len = protobuf_c_message_pack(&r.base, req);
    int rc = world_rp(w, req, req_len, reply, &reply_len);
    if (rc != SK_OK)
        return rc;
    Splitkey__RpReply *rep = splitkey__rp_reply__unpack(NULL, reply_len, reply);
    if (rep == NULL)
        return SK_ERR_PROTO_DECODE;
    if (rep->rep_case == SPLITKEY__RP_REPLY__REP_ERROR) {
        rc = -rep->error->code;
    } else if (rep->rep_case == SPLITKEY__RP_REPLY__REP_CREATED &&
               rep->created->session_id.len == SK_SESSION_ID_LEN) {
        memcpy(session_id, rep->created->session_id.data, SK_SESSION_ID_LEN);
        if (code != NULL)
            snprintf(code, 5, "%s", rep->created->verification_code);
    } else {
        rc = SK_ERR_PROTO_DECODE;
    }
    splitkey__rp_reply__free_unpacked(rep, NULL);
    return rc;
}

/* Sends a poll or a cancel and maps its SessionResult to a code. */
static int rp_result(world *w, const uint8_t *req, size_t req_len, uint8_t *sig, size_t *sig_len)
{
    uint8_t reply[SK_MAX_MESSAGE_LEN];
    size_t reply_len = 0;
    int rc = world_rp(w, req, req_len, reply, &reply_len);
    if (rc != SK_OK)
        return rc;
    Splitkey__RpReply *rep = splitkey__rp_reply__unpack(NULL, reply_len, reply);
    if (rep == NULL)
        return SK_ERR_PROTO_DECODE;
    if (rep->rep_case == SPLITKEY__RP_REPLY__REP_ERROR) {
        rc = -rep->error->code;
    } else if (rep->rep_case == SPLITKEY__RP_REPLY__REP_RESULT) {
        switch (rep->result->state) {
        case SPLITKEY__SESSION_STATE__SESSION_COMPLETE:
            if (sig != NULL) {
                memcpy(sig, rep->result->signature.data, rep->result->signature.len);
                *sig_len = rep->result->signature.len;
            }
            break;
        case SPLITKEY__SESSION_STATE__SESSION_PENDING:
            rc = SK_ERR_PENDING;
            break;
        case SPLITKEY__SESSION_STATE__SESSION_REFUSED:
            rc = SK_ERR_SESSION_REFUSED;
            break;
        case SPLITKEY__SESSION_STATE__SESSION_EXPIRED:
            rc = SK_ERR_SESSION_EXPIRED;
            break;
        case SPLITKEY__SESSION_STATE__SESSION_CANCELLED:
            rc = SK_ERR_SESSION_CANCELLED;
            break;
        default:
            rc = SK_ERR_PROTO_DECODE;
        }
    } else {
        rc = SK_ERR_PROTO_DECODE;
    }
    splitkey__rp_reply__free_unpacked(rep, NULL);
    return rc;
}

int world_rp_poll(world *w, const uint8_t *session_id, uint8_t *sig, size_t *sig_len)
{
    uint8_t req[128];
    Splitkey__RpRequest r = SPLITKEY__RP_REQUEST__INIT;
    Splitkey__SessionPoll p = SPLITKEY__SESSION_POLL__INIT;
    p.session_id.data = (uint8_t *)session_id;
    p.session_id.len = SK_SESSION_ID_LEN;
    r.req_case = SPLITKEY__RP_REQUEST__REQ_POLL;
    r.poll = &p;
    size_t req_len = protobuf_c_message_pack(&r.base, req);
    return rp_result(w, req, req_len, sig, sig_len);
}

int world_rp_cancel(world *w, const uint8_t *session_id, uint8_t *sig, size_t *sig_len)
{
    uint8_t req[128];
    size_t req_len = 0;
    if (sk_rp_cancel_request(req, sizeof req, &req_len, session_id, SK_SESSION_ID_LEN) != SK_OK)
        abort();
    return rp_result(w, req, req_len, sig, sig_len);
}

int world_approve(world *w, sk_device_key *key, const char *pin, uint8_t *sig, size_t *sig_len,
                  sk_key_status *status)
{
    static uint8_t msg[SK_MAX_MESSAGE_LEN], reply[SK_MAX_MESSAGE_LEN];
    size_t msg_len = 0, reply_len = 0;
    sk_device_session *s = NULL;
    int rc = sk_device_fetch(key, msg, sizeof msg, &msg_len, w->now);
    if (rc == SK_OK)
        rc = world_device(w, msg, msg_len, reply, &reply_len);
    if (rc == SK_OK)
        rc = sk_device_read_session(key, &s, status, reply, reply_len);
    if (rc == SK_OK)
        rc = sk_device_approve(key, msg, sizeof msg, &msg_len, w->now, s, (const uint8_t *)pin,
                               strlen(pin));
    sk_device_session_free(s);
    if (rc == SK_OK)
        rc = world_device(w, msg, msg_len, reply, &reply_len);
    if (rc == SK_OK)
        rc = sk_device_read_signature(key, sig, SK_MAX_SIG_LEN, sig_len, status, reply, reply_len);
    return rc;
}

int mbedtls_check(const sk_device_key *key, sk_scheme scheme, sk_hash hash, const uint8_t *digest,
                  const uint8_t *sig, size_t sig_len)
{
    sk_pubkey *pub = NULL;
    uint8_t n[1024];
    static const uint8_t e[3] = {1, 0, 1};
    mbedtls_md_type_t md = hash == SK_HASH_SHA256   ? MBEDTLS_MD_SHA256
                           : hash == SK_HASH_SHA384 ? MBEDTLS_MD_SHA384
                                                    : MBEDTLS_MD_SHA512;
    size_t n_len = sig_len;
    int rc = -1;
    if (sk_device_key_pubkey(key, &pub) != SK_OK)
        return -1;
    if (sk_pubkey_modulus(pub, n, n_len) != SK_OK)
        goto out;
    mbedtls_rsa_context rsa;
    mbedtls_rsa_init(&rsa, scheme == SK_SCHEME_PSS ? MBEDTLS_RSA_PKCS_V21 : MBEDTLS_RSA_PKCS_V15,
                     md);
    if (mbedtls_rsa_import_raw(&rsa, n, n_len, NULL, 0, NULL, 0, NULL, 0, e, sizeof e) == 0 &&
        mbedtls_rsa_complete(&rsa) == 0 &&
        mbedtls_rsa_pkcs1_verify(&rsa, NULL, NULL, MBEDTLS_RSA_PUBLIC, md,
                                 (unsigned)sk_hash_len(hash), digest, sig) == 0)
        rc = 0;
    if (rc == 0 && scheme == SK_SCHEME_PSS &&
        mbedtls_rsa_rsassa_pss_verify_ext(&rsa, NULL, NULL, MBEDTLS_RSA_PUBLIC, md,
                                          (unsigned)sk_hash_len(hash), digest, md,
                                          (int)sk_hash_len(hash), sig) != 0)
        rc = -1;
    mbedtls_rsa_free(&rsa);
out:
    sk_pubkey_free(pub);
    return rc;
}

/* Two exported key records equal but for what every answered request
 * changes: the version, the one-time password, its history and the kept
 * reply. */
bool world_same_but_otp(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len)
{
    Splitkey__KeyRecord *ra = splitkey__key_record__unpack(NULL, a_len, a);
    Splitkey__KeyRecord *rb = splitkey__key_record__unpack(NULL, b_len, b);
    bool same = false;
    if (ra != NULL && rb != NULL) {
        Splitkey__KeyRecord *r[2] = {ra, rb};
        static uint8_t buf[2][SK_MAX_RECORD_LEN];
        size_t len[2];
        for (int i = 0; i < 2; i++) {
            Splitkey__KeyRecord c = *r[i];
            c.version = 0;
            c.otp_hash.len = 0;
            c.n_hist = 0;
            c.last_reply.len = 0;
            c.last_reply_type = 0;
            c.last_binding.len = 0;
            len[i] = splitkey__key_record__pack(&c, buf[i]);
        }
        same = len[0] == len[1] && memcmp(buf[0], buf[1], len[0]) == 0;
    }
    if (ra != NULL)
        splitkey__key_record__free_unpacked(ra, NULL);
    if (rb != NULL)
        splitkey__key_record__free_unpacked(rb, NULL);
    return same;
}
