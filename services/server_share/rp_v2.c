/* SPDX-License-Identifier: Apache-2.0 */
/* rp_v2.c - the v2-shaped relying-party API (rp_v2.h, doc/rp-api.md). */
#define _POSIX_C_SOURCE 200809L
#include "rp_v2.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "log.h"
#include "longpoll.h"
#include "rp_registry.h"
#include "splitkey/rp.h"
#include "splitkey/splitkey.h"
#include "store.h"
#include "etsi_id.h"
#include "svc_hex.h"

#define DOCNR_MAX (SK_STORE_PERSON_MAX + 16u)
#define EV_KINDS 6u /* 34..39 */

/* What this file remembers of a session. */
typedef struct v2_sess {
    char id[SK_RP_UUID_LEN + 1];  /* sessionID */
    uint8_t sid[SK_SESSION_ID_LEN];
    bool local;                   /* ended here, no protocol session (certificate
                                     choice, no supported interaction) */
    bool ended;                   /* a final state was seen */
    char owner[SK_RP_UUID_LEN + 1];
    char person[SK_STORE_PERSON_MAX + 1];
    char docnr[DOCNR_MAX + 1];
    sk_hash hash;
    unsigned level;               /* SK_RP_LEVEL_ of the key */
    const char *interaction;      /* interactionFlowUsed (static text), or NULL */
    const char *end_result;       /* local, or a result decided here: the end result */
    uint8_t key_id[SK_KEY_ID_LEN];
    char *ignored;                /* JSON array text of ignored properties, or NULL */
    uint8_t *cert;                /* local: the certificate (DER), or NULL */
    size_t cert_len;
    uint8_t idem[32];             /* what makes a create "the same" */
    uint64_t created_ms;
    uint64_t expires_s;           /* after this the session is over */
    uint64_t seen_until_ms;       /* its relying party waits until then (the create, or
                                     the last status request plus its timeoutMs) */
} v2_sess;

typedef struct rp_state {
    char uuid[SK_RP_UUID_LEN + 1];
    double tokens;
    uint64_t last_ms;
    unsigned waiting;             /* status requests parked now */
    uint64_t last_event_ms[EV_KINDS];
    unsigned suppressed[EV_KINDS];
    uint64_t last_level_ms;       /* its last level refusal logged (event 41) */
} rp_state;

struct sk_rp_v2 {
    sk_rp_v2_config cfg;
    pthread_mutex_t mu;
    sk_rp_entry *rps;
    size_t n_rps;
    struct stat reg_st;           /* the registry file as last read */
    bool reg_exists;
    rp_state *states;
    size_t n_states;
    v2_sess *sess;
    size_t n_sess, cap_sess;
    unsigned long long holds; /* places held so far (their ids) */
};

/* ------------------------------------------------------------- helpers */

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void set_json(sk_https_response *resp, int status, json_t *o)
{
    resp->status = status;
    resp->body = o != NULL ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    if (resp->body == NULL && o != NULL)
        resp->status = 500;
}

static void set_error(sk_https_response *resp, int status, const char *detail)
{
    set_json(resp, status,
             json_pack("{s:s,s:i,s:s}", "title", sk_https_reason(status), "status", status,
                       "detail", detail));
}

static void uuid_text(char out[SK_RP_UUID_LEN + 1], const uint8_t b[16])
{
    char hex[33];
    sk_svc_hex(hex, b, 16);
    snprintf(out, SK_RP_UUID_LEN + 1, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12,
             hex + 16, hex + 20);
}

static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xc0) != 0x80)
            n++;
    return n;
}

static const char *hash_name(sk_hash h)
{
    return h == SK_HASH_SHA512 ? "sha512WithRSAEncryption"
           : h == SK_HASH_SHA384 ? "sha384WithRSAEncryption"
                                 : "sha256WithRSAEncryption";
}

static const char *level_name(unsigned level)
{
    return level == SK_RP_LEVEL_QUALIFIED ? "QUALIFIED" : "ADVANCED";
}

/* ------------------------------------------------------------ registry */

static int reload_locked(sk_rp_v2 *v, char *err, size_t err_len)
{
    sk_rp_entry *rps = NULL;
    size_t n = 0;
    struct stat st;
    bool exists = stat(v->cfg.registry_path, &st) == 0;
    int rc = sk_rp_registry_load(&rps, &n, v->cfg.registry_path, err, err_len);
    /* remember the file even when it fails, so one bad edit logs once */
    v->reg_exists = exists;
    if (exists)
        v->reg_st = st;
    if (rc != SK_OK)
        return rc;
    free(v->rps);
    v->rps = rps;
    v->n_rps = n;
    return SK_OK;
}

/* Reads the registry again when the file changed since it was read. */
static void refresh_locked(sk_rp_v2 *v)
{
    struct stat st;
    bool exists = stat(v->cfg.registry_path, &st) == 0;
    if (exists == v->reg_exists &&
        (!exists || (st.st_ino == v->reg_st.st_ino && st.st_size == v->reg_st.st_size &&
                     st.st_mtim.tv_sec == v->reg_st.st_mtim.tv_sec &&
                     st.st_mtim.tv_nsec == v->reg_st.st_mtim.tv_nsec)))
        return;
    char err[512] = "";
    if (reload_locked(v, err, sizeof err) != SK_OK)
        sk_log_error("relying parties: %s (the registry read before stays in use)", err);
    else
        sk_log_notice("relying parties: registry read again, %zu registered", v->n_rps);
}

int sk_rp_v2_reload(sk_rp_v2 *v, char *err, size_t err_len)
{
    pthread_mutex_lock(&v->mu);
    int rc = reload_locked(v, err, err_len);
    pthread_mutex_unlock(&v->mu);
    return rc;
}

size_t sk_rp_v2_count(sk_rp_v2 *v)
{
    pthread_mutex_lock(&v->mu);
    size_t n = v->n_rps;
    pthread_mutex_unlock(&v->mu);
    return n;
}

int sk_rp_v2_new(sk_rp_v2 **out, const sk_rp_v2_config *cfg, char *err, size_t err_len)
{
    *out = NULL;
    sk_rp_v2 *v = calloc(1, sizeof *v);
    if (v == NULL)
        return SK_ERR_NOMEM;
    v->cfg = *cfg;
    if (v->cfg.person_pending == 0)
        v->cfg.person_pending = SK_RP_V2_PERSON_PENDING_DEFAULT;
    pthread_mutex_init(&v->mu, NULL);
    v->states = calloc(SK_RP_MAX, sizeof *v->states);
    int rc = v->states != NULL ? reload_locked(v, err, err_len) : SK_ERR_NOMEM;
    if (rc != SK_OK) {
        sk_rp_v2_free(v);
        return rc;
    }
    *out = v;
    return SK_OK;
}

static void sess_clear(v2_sess *s)
{
    free(s->ignored);
    free(s->cert);
    memset(s, 0, sizeof *s);
}

void sk_rp_v2_free(sk_rp_v2 *v)
{
    if (v == NULL)
        return;
    for (size_t i = 0; i < v->n_sess; i++)
        sess_clear(&v->sess[i]);
    free(v->sess);
    free(v->states);
    free(v->rps);
    pthread_mutex_destroy(&v->mu);
    free(v);
}

static rp_state *state_of(sk_rp_v2 *v, const char *uuid)
{
    for (size_t i = 0; i < v->n_states; i++)
        if (strcmp(v->states[i].uuid, uuid) == 0)
            return &v->states[i];
    if (v->n_states == SK_RP_MAX) {
        /* forget the state of one no longer registered */
        for (size_t i = 0; i < v->n_states; i++)
            if (sk_rp_registry_find(v->rps, v->n_rps, v->states[i].uuid) == NULL) {
                v->states[i] = v->states[--v->n_states];
                break;
            }
        if (v->n_states == SK_RP_MAX)
            return NULL;
    }
    rp_state *s = &v->states[v->n_states++];
    memset(s, 0, sizeof *s);
    snprintf(s->uuid, sizeof s->uuid, "%s", uuid); /* "-" for a request naming none */
    return s;
}

/* Appends a refusal or an audit event; refusals at most one a second per
 * relying party and kind (counted in the log line meanwhile). */
static void audit(sk_rp_v2 *v, uint32_t kind, const uint8_t *uuid_bin, const char *uuid,
                  int64_t detail, bool throttle)
{
    if (throttle) {
        pthread_mutex_lock(&v->mu);
        rp_state *st = state_of(v, uuid != NULL ? uuid : "-");
        uint64_t t = now_ms();
        unsigned k = kind - SK_EV_RP_ADDED;
        bool skip = st == NULL || k >= EV_KINDS || t < st->last_event_ms[k] + 1000u;
        unsigned suppressed = 0;
        if (st != NULL && k < EV_KINDS) {
            if (skip) {
                st->suppressed[k]++;
            } else {
                st->last_event_ms[k] = t;
                suppressed = st->suppressed[k];
                st->suppressed[k] = 0;
            }
        }
        pthread_mutex_unlock(&v->mu);
        if (skip)
            return;
        sk_log_notice("relying party %s: request refused (event %u, detail %lld; %u more "
                      "since the last one logged)",
                      uuid != NULL ? uuid : "(none registered)", (unsigned)kind,
                      (long long)detail, suppressed);
    }
    sk_event ev = {.at = (int64_t)time(NULL), .kind = kind, .detail = detail};
    if (uuid_bin != NULL) {
        memcpy(ev.key_id, uuid_bin, SK_STORE_ID_LEN);
        ev.has_key = 1;
    }
    int rc = sk_store_event_append(v->cfg.share->store, NULL, &ev);
    if (rc != SK_OK)
        sk_log_error("relying parties: cannot log event %u: %s", (unsigned)kind,
                     sk_strerror(rc));
}

/* --------------------------------------------------------- the sessions */

static void purge_locked(sk_rp_v2 *v, uint64_t t_ms)
{
    uint64_t t = t_ms / 1000u;
    size_t j = 0;
    for (size_t i = 0; i < v->n_sess; i++) {
        if (v->sess[i].expires_s + SK_RP_V2_KEEP_S < t) {
            sess_clear(&v->sess[i]);
            continue;
        }
        if (j != i) {
            v->sess[j] = v->sess[i];
            memset(&v->sess[i], 0, sizeof v->sess[i]);
        }
        j++;
    }
    v->n_sess = j;
}

static v2_sess *sess_find(sk_rp_v2 *v, const char *id)
{
    for (size_t i = 0; i < v->n_sess; i++)
        if (strcmp(v->sess[i].id, id) == 0)
            return &v->sess[i];
    return NULL;
}

/* Whether s still counts among its relying party's running sessions: not
 * ended or expired, and not left by it - a session its relying party has
 * not waited for during the idle limit is cancelled by the session logic
 * (handler.h, relying-party liveness) the next time anything names it, so
 * one never polled again must not hold a place under the limits. */
static bool running(const sk_rp_v2 *v, const v2_sess *s, uint64_t t_ms)
{
    uint64_t idle_ms = 1000u * (uint64_t)(v->cfg.share->rp_idle_s ? v->cfg.share->rp_idle_s
                                                                  : SK_SHARE_RP_IDLE_DEFAULT);
    return !s->local && !s->ended && s->expires_s * 1000u > t_ms &&
           (s->seen_until_ms == 0 || t_ms <= s->seen_until_ms + idle_ms);
}

/* Adds *s (moved in: the table owns its pointers after SK_OK). */
static int sess_add_locked(sk_rp_v2 *v, v2_sess *s)
{
    purge_locked(v, now_ms());
    if (v->n_sess == v->cap_sess) {
        if (v->cap_sess >= SK_RP_V2_MAX_SESSIONS)
            return SK_ERR_LIMIT;
        size_t cap = v->cap_sess ? v->cap_sess * 2 : 64;
        v2_sess *n = realloc(v->sess, cap * sizeof *n);
        if (n == NULL)
            return SK_ERR_NOMEM;
        v->sess = n;
        v->cap_sess = cap;
    }
    v->sess[v->n_sess++] = *s;
    memset(s, 0, sizeof *s);
    return SK_OK;
}

/* ------------------------------------------------------ authentication */

static bool credential_ok(const sk_rp_entry *e, const sk_https_request *req)
{
    if (e->by_address) {
        for (size_t i = 0; i < e->n_addrs; i++)
            if (strcmp(e->addrs[i], req->peer) == 0)
                return true;
        return false;
    }
    return req->has_cert && sodium_memcmp(e->cert_sha256, req->cert_sha256, 32) == 0;
}

/* ------------------------------------------------------------ creating */

enum v2_kind { K_AUTH, K_SIGN, K_CERTCHOICE };

typedef struct interaction_def {
    const char *type;
    const char *text_field;
    size_t max_chars;
    bool supported;
    sk_interaction proto;
    const char *refused; /* the end result of a refusal on its screen */
} interaction_def;

/* The interactions of the v2 API, whether sessions here can carry them, and
 * the protocol's name for each. */
static const interaction_def interactions[] = {
    {"displayTextAndPIN", "displayText60", 60, true, SK_INTERACTION_DISPLAY_TEXT_AND_PIN,
     "USER_REFUSED_DISPLAYTEXTANDPIN"},
    {"verificationCodeChoice", "displayText60", 60, true, SK_INTERACTION_VC_CHOICE,
     "USER_REFUSED_VC_CHOICE"},
    {"confirmationMessage", "displayText200", 200, true, SK_INTERACTION_CONFIRMATION_MESSAGE,
     "USER_REFUSED_CONFIRMATIONMESSAGE"},
    {"confirmationMessageAndVerificationCodeChoice", "displayText200", 200, true,
     SK_INTERACTION_CONFIRMATION_AND_VC_CHOICE,
     "USER_REFUSED_CONFIRMATIONMESSAGE_WITH_VC_CHOICE"},
};

static const interaction_def *interaction_of(sk_interaction in)
{
    for (size_t k = 0; k < sizeof interactions / sizeof *interactions; k++)
        if (interactions[k].proto == in)
            return &interactions[k];
    return in == SK_INTERACTION_NONE ? &interactions[0] : NULL;
}

typedef struct create_req {
    enum v2_kind kind;
    const sk_rp_entry *rp;     /* a copy, see handle_create */
    const char *name;          /* the registered spelling */
    unsigned level;            /* SK_RP_LEVEL_ asked for */
    sk_hash hash;
    uint8_t digest[SK_MAX_HASH_LEN];
    size_t digest_len;
    const interaction_def *interaction; /* NULL: none supported */
    const char *display_text;
    char *ignored;             /* JSON array text, or NULL */
    char person[SK_STORE_PERSON_MAX + 1];
    bool by_document;
    char doc_hex[9];
    char doc_level;
} create_req;

/* Splits "<person>-<8 hex>-<Q|A>". */
static bool parse_docnr(create_req *c, const char *d)
{
    size_t len = strlen(d);
    if (len < 13 || len - 11 > SK_STORE_PERSON_MAX)
        return false;
    if (d[len - 2] != '-' || (d[len - 1] != 'Q' && d[len - 1] != 'A') || d[len - 11] != '-')
        return false;
    for (size_t i = len - 10; i < len - 2; i++)
        if (!isxdigit((unsigned char)d[i]))
            return false;
    memcpy(c->person, d, len - 11);
    c->person[len - 11] = '\0';
    for (size_t i = 0; i < 8; i++)
        c->doc_hex[i] = (char)toupper((unsigned char)d[len - 10 + i]);
    c->doc_hex[8] = '\0';
    c->doc_level = d[len - 1];
    c->by_document = true;
    return true;
}

static void make_docnr(char *out, size_t cap, const char *person, const uint8_t *key_id,
                       unsigned level)
{
    char hex[2 * SK_KEY_ID_LEN + 1];
    sk_svc_hex(hex, key_id, SK_KEY_ID_LEN);
    for (size_t i = 0; i < 8; i++)
        hex[i] = (char)toupper((unsigned char)hex[i]);
    snprintf(out, cap, "%s-%.8s-%c", person, hex, level == SK_RP_LEVEL_QUALIFIED ? 'Q' : 'A');
}

/* The state and certificate level of a key, as the session logic reports
 * them to a relying party (a key record without a level reads ADVANCED). */
static int key_state(sk_rp_v2 *v, const uint8_t *key_id, sk_key_status *ks, unsigned *level)
{
    uint8_t msg[128];
    size_t len = 0, rlen = 0;
    uint8_t *reply = NULL;
    sk_cert_level cl = SK_CERT_LEVEL_NONE;
    int rc = sk_rp_key_state_request(msg, sizeof msg, &len, key_id, SK_KEY_ID_LEN);
    if (rc == SK_OK)
        rc = sk_share_handle_rp(v->cfg.share, msg, len, &reply, &rlen);
    if (reply != NULL)
        rc = sk_rp_read_key_state_level(ks, &cl, reply, rlen);
    free(reply);
    if (level != NULL)
        *level = cl == SK_CERT_LEVEL_QUALIFIED ? SK_RP_LEVEL_QUALIFIED : SK_RP_LEVEL_ADVANCED;
    return rc;
}

/* Validates the JSON of an authentication or signature request into c;
 * returns 0 or an HTTP status with *why. */
static int parse_signing(create_req *c, json_t *body, const char **why)
{
    const char *ht = json_string_value(json_object_get(body, "hashType"));
    const char *h64 = json_string_value(json_object_get(body, "hash"));
    json_t *order = json_object_get(body, "allowedInteractionsOrder");
    json_t *props = json_object_get(body, "requestProperties");
    *why = "hashType: expected SHA256, SHA384 or SHA512";
    if (ht == NULL)
        return 400;
    if (strcmp(ht, "SHA256") == 0)
        c->hash = SK_HASH_SHA256;
    else if (strcmp(ht, "SHA384") == 0)
        c->hash = SK_HASH_SHA384;
    else if (strcmp(ht, "SHA512") == 0)
        c->hash = SK_HASH_SHA512;
    else
        return 400;
    size_t want = c->hash == SK_HASH_SHA256 ? 32 : c->hash == SK_HASH_SHA384 ? 48 : 64;
    *why = "hash: expected the base64 of a hash of hashType's length";
    if (h64 == NULL ||
        sodium_base642bin(c->digest, sizeof c->digest, h64, strlen(h64), NULL, &c->digest_len,
                          NULL, sodium_base64_VARIANT_ORIGINAL) != 0 ||
        c->digest_len != want)
        return 400;
    *why = "allowedInteractionsOrder: expected a non-empty array of interactions";
    if (!json_is_array(order) || json_array_size(order) == 0 || json_array_size(order) > 16)
        return 400;
    size_t i;
    json_t *it;
    json_array_foreach(order, i, it)
    {
        const char *type = json_string_value(json_object_get(it, "type"));
        const interaction_def *d = NULL;
        for (size_t k = 0; type != NULL && k < sizeof interactions / sizeof *interactions; k++)
            if (strcmp(type, interactions[k].type) == 0)
                d = &interactions[k];
        *why = "allowedInteractionsOrder: an unknown interaction type";
        if (d == NULL)
            return 400;
        const char *text = json_string_value(json_object_get(it, d->text_field));
        json_t *tv = json_object_get(it, d->text_field);
        *why = d->max_chars == 60 ? "displayText60: a string of 1 to 60 characters"
                                  : "displayText200: a string of 1 to 200 characters";
        if (tv != NULL && (text == NULL || text[0] == '\0' || utf8_chars(text) > d->max_chars ||
                           strlen(text) > SK_MAX_DISPLAY_TEXT_LEN))
            return 400;
        if (text == NULL && d->max_chars == 200)
            return 400; /* confirmation messages need their text */
        if (c->interaction == NULL && d->supported) {
            c->interaction = d;
            c->display_text = text;
        }
    }
    *why = "requestProperties: expected an object";
    if (props != NULL && !json_is_object(props))
        return 400;
    if (props != NULL && json_object_size(props) > 0) {
        /* no request property is supported: every one is ignored */
        json_t *arr = json_array();
        const char *key;
        json_t *val;
        json_object_foreach(props, key, val)
        {
            (void)val;
            json_array_append_new(arr, json_string(key));
        }
        c->ignored = json_dumps(arr, JSON_COMPACT);
        json_decref(arr);
    }
    return 0;
}

/* A protocol error of a create as an HTTP status. */
static int create_status(int rc, const char **why)
{
    switch (rc) {
    case SK_ERR_NOT_FOUND:
    case SK_ERR_DESTROYED:
        *why = "no usable account for this person or document";
        return 404;
    case SK_ERR_LEVEL:
        *why = "the person has no account of the requested certificate level";
        return 471;
    case SK_ERR_LOCKED:
    case SK_ERR_NOT_ACTIVE:
        *why = "the person should look at the app: the account is locked or not active yet";
        return 472;
    case SK_ERR_LIMIT:
    case SK_ERR_ARG:
    case SK_ERR_PROTO_DECODE:
        *why = "a field is too long or holds control characters";
        return 400;
    case SK_ERR_STORE:
    case SK_ERR_STORE_BUSY:
    case SK_ERR_STORE_CONFLICT:
        *why = "the service is under maintenance, retry later";
        return 580;
    default:
        *why = "internal error";
        return 500;
    }
}

/* The key the request names (by person or document number), for purpose. */
static int resolve_key(sk_rp_v2 *v, const create_req *c, sk_purpose purpose, sk_key_record *row,
                       unsigned *level)
{
    int rc = sk_store_key_get_by_person(v->cfg.share->store, NULL, row, c->person,
                                        (uint32_t)purpose);
    if (rc != SK_OK)
        return rc == SK_ERR_ARG || rc == SK_ERR_LIMIT ? SK_ERR_NOT_FOUND : rc;
    sk_key_status ks;
    memset(&ks, 0, sizeof ks);
    rc = key_state(v, row->key_id, &ks, level);
    if (rc != SK_OK)
        return rc;
    if (c->by_document) {
        char hex[2 * SK_KEY_ID_LEN + 1];
        sk_svc_hex(hex, row->key_id, SK_KEY_ID_LEN);
        if (strncasecmp(hex, c->doc_hex, 8) != 0 ||
            c->doc_level != (*level == SK_RP_LEVEL_QUALIFIED ? 'Q' : 'A'))
            return SK_ERR_NOT_FOUND;
    }
    if (ks.state == SK_KEY_DESTROYED)
        return SK_ERR_DESTROYED;
    if (ks.state == SK_KEY_TIMELOCKED)
        return SK_ERR_LOCKED;
    if (ks.state != SK_KEY_ACTIVE)
        return SK_ERR_NOT_ACTIVE;
    if (*level < c->level)
        return SK_ERR_LEVEL;
    return SK_OK;
}

static void created(sk_https_response *resp, const char *id)
{
    set_json(resp, 200, json_pack("{s:s}", "sessionID", id));
}

/* The idempotency key: the relying party, the path and the body as JSON
 * with sorted keys (so the same fields in another order are the same). */
static void idem_of(uint8_t out[32], const char *uuid, const char *path, json_t *body)
{
    char *canon = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (const uint8_t *)uuid, strlen(uuid) + 1);
    crypto_hash_sha256_update(&st, (const uint8_t *)path, strlen(path) + 1);
    if (canon != NULL)
        crypto_hash_sha256_update(&st, (const uint8_t *)canon, strlen(canon));
    crypto_hash_sha256_final(&st, out);
    free(canon);
}

/* The reference kept with a session in the store (sk_rp_create_ext.rp_ref):
 * "OWNER HASH KEYID DOCNR", what the table needs to answer for the session
 * when this process does not know it (made before a restart, or by another
 * server on the same store).  Returns its length, or -1. */
static int make_ref(char *out, size_t cap, const v2_sess *s)
{
    char kid[2 * SK_KEY_ID_LEN + 1];
    sk_svc_hex(kid, s->key_id, SK_KEY_ID_LEN);
    int n = snprintf(out, cap, "%s %u %s %s", s->owner, (unsigned)s->hash, kid, s->docnr);
    return n > 0 && (size_t)n < cap ? n : -1;
}

/* A session the table does not hold: the session logic's answer for it, and
 * its reference, make it again (without the ignored properties, which only
 * the create's answer needs).  false: no such session, or none made
 * through this API. */
static bool adopt(sk_rp_v2 *v, const uint8_t sid[SK_SESSION_ID_LEN], const char *id,
                  v2_sess *out)
{
    uint8_t msg[128], *reply = NULL;
    size_t msg_len = 0, reply_len = 0;
    sk_rp_result *res = malloc(sizeof *res);
    sk_rp_result_ext *ext = malloc(sizeof *ext);
    bool ok = false;
    memset(out, 0, sizeof *out);
    if (res == NULL || ext == NULL ||
        sk_rp_poll_request(msg, sizeof msg, &msg_len, sid, SK_SESSION_ID_LEN) != SK_OK)
        goto done;
    (void)sk_share_handle_rp(v->cfg.share, msg, msg_len, &reply, &reply_len);
    if (reply == NULL || sk_rp_read_result_ext(res, ext, NULL, reply, reply_len) != SK_OK ||
        ext->rp_ref_len == 0 || ext->rp_ref_len >= SK_MAX_RP_REF_LEN)
        goto done;
    char ref[SK_MAX_RP_REF_LEN + 1], owner[SK_RP_UUID_LEN + 1], kid[2 * SK_KEY_ID_LEN + 1];
    char docnr[DOCNR_MAX + 1];
    unsigned hash = 0;
    memcpy(ref, ext->rp_ref, ext->rp_ref_len);
    ref[ext->rp_ref_len] = '\0';
    uint8_t owner_bin[16];
    /* four fields split at single spaces: OWNER HASH KEYID DOCNR */
    char *f[4] = {ref, NULL, NULL, NULL};
    for (int i = 1; i < 4 && f[i - 1] != NULL; i++) {
        f[i] = strchr(f[i - 1], ' ');
        if (f[i] != NULL)
            *f[i]++ = '\0';
    }
    size_t dl;
    char *end = NULL;
    if (f[3] != NULL) {
        hash = (unsigned)strtoul(f[1], &end, 10);
        if (strlen(f[0]) > SK_RP_UUID_LEN || strlen(f[2]) != 2 * SK_KEY_ID_LEN ||
            strlen(f[3]) > DOCNR_MAX || end == f[1] || *end != '\0')
            f[3] = NULL;
    }
    if (f[3] != NULL) {
        memcpy(owner, f[0], strlen(f[0]) + 1);
        memcpy(kid, f[2], strlen(f[2]) + 1);
        memcpy(docnr, f[3], strlen(f[3]) + 1);
    }
    if (f[3] == NULL ||
        !sk_rp_uuid_parse(owner_bin, out->owner, owner) ||
        sk_svc_unhex(out->key_id, SK_KEY_ID_LEN, kid, strlen(kid)) != SK_OK ||
        (dl = strlen(docnr)) < 13 ||
        dl - 11 > SK_STORE_PERSON_MAX || (hash != SK_HASH_SHA256 && hash != SK_HASH_SHA384 &&
                                          hash != SK_HASH_SHA512))
        goto done;
    memcpy(out->id, id, SK_RP_UUID_LEN + 1);
    memcpy(out->sid, sid, SK_SESSION_ID_LEN);
    memcpy(out->docnr, docnr, dl + 1);
    memcpy(out->person, docnr, dl - 11);
    out->person[dl - 11] = '\0';
    out->level = docnr[dl - 1] == 'Q' ? SK_RP_LEVEL_QUALIFIED : SK_RP_LEVEL_ADVANCED;
    out->hash = (sk_hash)hash;
    uint64_t t = now_ms();
    unsigned ttl = v->cfg.share->session_ttl_s ? v->cfg.share->session_ttl_s : 120u;
    out->expires_s = t / 1000u + ttl; /* a bound for the table: the logic decides */
    out->seen_until_ms = t;
    ok = true;
done:
    free(reply);
    free(res);
    free(ext);
    return ok;
}

static void handle_create(sk_rp_v2 *v, const sk_https_request *req, sk_https_response *resp,
                          enum v2_kind kind, const char *target_kind, const char *target)
{
    const char *why = "";
    int status;
    json_error_t jerr;
    create_req c;
    sk_rp_entry rp;
    sk_key_record row;
    v2_sess s;
    char held_id[SK_RP_UUID_LEN + 1] = "";
    memset(&c, 0, sizeof c);
    memset(&row, 0, sizeof row);
    memset(&s, 0, sizeof s);
    c.kind = kind;
    json_t *body = req->body_len > 0 ? json_loadb((const char *)req->body, req->body_len,
                                                  JSON_REJECT_DUPLICATES, &jerr)
                                     : NULL;
    if (!json_is_object(body)) {
        set_error(resp, 400, "the body is not a JSON object");
        goto out;
    }
    /* 1. who asks */
    uint8_t uuid_bin[16];
    char uuid[SK_RP_UUID_LEN + 1];
    const char *name = json_string_value(json_object_get(body, "relyingPartyName"));
    if (!sk_rp_uuid_parse(uuid_bin, uuid,
                          json_string_value(json_object_get(body, "relyingPartyUUID")))) {
        set_error(resp, 400, "relyingPartyUUID: expected a UUID");
        goto out;
    }
    if (name == NULL) {
        set_error(resp, 400, "relyingPartyName: missing");
        goto out;
    }
    pthread_mutex_lock(&v->mu);
    refresh_locked(v);
    const sk_rp_entry *e = sk_rp_registry_find(v->rps, v->n_rps, uuid);
    if (e != NULL)
        rp = *e;
    pthread_mutex_unlock(&v->mu);
    if (e == NULL || !credential_ok(&rp, req)) {
        audit(v, SK_EV_RP_REFUSED_AUTH, e != NULL ? uuid_bin : NULL, e != NULL ? uuid : NULL,
              e != NULL ? 2 : 1, true);
        set_error(resp, 401, "unknown relying party or wrong credential");
        goto out;
    }
    c.rp = &rp;
    for (size_t i = 0; i < rp.n_names; i++)
        if (strcasecmp(rp.names[i], name) == 0 && strlen(rp.names[i]) == strlen(name))
            c.name = rp.names[i];
    if (c.name == NULL) {
        audit(v, SK_EV_RP_REFUSED_PERMISSION, uuid_bin, uuid, 1, true);
        set_error(resp, 403, "relyingPartyName is not one registered for this relying party");
        goto out;
    }
    unsigned purpose_bit = kind == K_AUTH   ? SK_RP_PURPOSE_AUTH
                           : kind == K_SIGN ? SK_RP_PURPOSE_SIGN
                                            : SK_RP_PURPOSE_CERTCHOICE;
    if (!(rp.purposes & purpose_bit)) {
        audit(v, SK_EV_RP_REFUSED_PERMISSION, uuid_bin, uuid, 3, true);
        set_error(resp, 403, "this relying party may not use this request");
        goto out;
    }
    /* 2. what it asks */
    json_t *lv = json_object_get(body, "certificateLevel");
    const char *ls = lv != NULL ? json_string_value(lv) : "QUALIFIED";
    if (ls != NULL && strcmp(ls, "ADVANCED") == 0)
        c.level = SK_RP_LEVEL_ADVANCED;
    else if (ls != NULL && (strcmp(ls, "QUALIFIED") == 0 ||
                            (kind != K_AUTH && strcmp(ls, "QSCD") == 0)))
        c.level = SK_RP_LEVEL_QUALIFIED;
    else {
        set_error(resp, 400, kind == K_AUTH ? "certificateLevel: ADVANCED or QUALIFIED"
                                            : "certificateLevel: ADVANCED, QUALIFIED or QSCD");
        goto out;
    }
    if (!(rp.levels & c.level)) {
        audit(v, SK_EV_RP_REFUSED_PERMISSION, uuid_bin, uuid, 2, true);
        set_error(resp, 403, "this relying party may not ask for this certificate level");
        goto out;
    }
    json_t *nonce = json_object_get(body, "nonce");
    if (nonce != NULL && (!json_is_string(nonce) || json_string_length(nonce) == 0 ||
                          utf8_chars(json_string_value(nonce)) > 30)) {
        set_error(resp, 400, "nonce: a string of 1 to 30 characters");
        goto out;
    }
    json_t *caps = json_object_get(body, "capabilities");
    if (caps != NULL && !json_is_array(caps)) {
        set_error(resp, 400, "capabilities: expected an array");
        goto out;
    }
    if (kind != K_CERTCHOICE && (status = parse_signing(&c, body, &why)) != 0) {
        set_error(resp, status, why);
        goto out;
    }
    if (strcmp(target_kind, "etsi") == 0) {
        if (strlen(target) == 0 || strlen(target) > SK_STORE_PERSON_MAX) {
            set_error(resp, 404, "no such person");
            goto out;
        }
        memcpy(c.person, target, strlen(target) + 1);
    } else if (!parse_docnr(&c, target)) {
        set_error(resp, 404, "no such document");
        goto out;
    }
    /* An organisation (VAT, NTR, PSD, LEI identifier) has a seal key and
     * nothing else: its signature and certificate choice use the seal, for
     * a relying party allowed seals; it never authenticates. */
    bool seal = sk_etsi_legal_person(c.person);
    if (seal && kind == K_AUTH) {
        set_error(resp, 404, "no such person: an organisation does not authenticate");
        goto out;
    }
    if (seal && !(rp.purposes & SK_RP_PURPOSE_SEAL)) {
        audit(v, SK_EV_RP_REFUSED_PERMISSION, uuid_bin, uuid, 3, true);
        set_error(resp, 403, "this relying party may not ask for an organisation's seal");
        goto out;
    }

    /* 3. the same request again within 15 s: the same session */
    idem_of(s.idem, uuid, req->path, body);
    uint64_t t = now_ms();
    pthread_mutex_lock(&v->mu);
    for (size_t i = 0; i < v->n_sess; i++) {
        const v2_sess *o = &v->sess[i];
        if (strcmp(o->owner, uuid) == 0 && o->created_ms + SK_RP_V2_IDEMPOTENT_MS > t &&
            sodium_memcmp(o->idem, s.idem, 32) == 0) {
            char id[SK_RP_UUID_LEN + 1];
            memcpy(id, o->id, sizeof id);
            pthread_mutex_unlock(&v->mu);
            created(resp, id);
            goto out;
        }
    }
    /* 4. limits */
    rp_state *st = state_of(v, uuid);
    int limit = 0;
    if (st != NULL) {
        double elapsed = st->last_ms ? (double)(t - st->last_ms) / 1000.0 : (double)rp.rate;
        st->tokens += elapsed * rp.rate;
        if (st->tokens > rp.rate)
            st->tokens = rp.rate;
        st->last_ms = t;
        if (st->tokens < 1.0)
            limit = 1;
    }
    unsigned rp_pending = 0, person_pending = 0;
    for (size_t i = 0; i < v->n_sess; i++) {
        const v2_sess *o = &v->sess[i];
        if (strcmp(o->owner, uuid) != 0 || !running(v, o, t))
            continue;
        rp_pending++;
        if (strcmp(o->person, c.person) == 0)
            person_pending++;
    }
    if (limit == 0 && kind != K_CERTCHOICE && rp_pending >= rp.pending)
        limit = 2;
    if (limit == 0 && kind != K_CERTCHOICE && person_pending >= v->cfg.person_pending)
        limit = 3;
    if (limit == 0 && st != NULL)
        st->tokens -= 1.0;
    /* A place among the running sessions, held while the session is made,
     * so that requests at the same time cannot pass the limits together. */
    v2_sess hold;
    memset(&hold, 0, sizeof hold);
    if (limit == 0) {
        snprintf(hold.id, sizeof hold.id, "held-%llu", (unsigned long long)++v->holds);
        memcpy(hold.owner, uuid, sizeof hold.owner);
        memcpy(hold.person, c.person, strlen(c.person) + 1);
        hold.created_ms = 0; /* never an idempotent match */
        hold.expires_s = t / 1000u + 3600u;
        memcpy(held_id, hold.id, sizeof held_id);
        if (sess_add_locked(v, &hold) != SK_OK)
            limit = 2;
    }
    pthread_mutex_unlock(&v->mu);
    if (limit != 0) {
        audit(v, SK_EV_RP_REFUSED_LIMIT, uuid_bin, uuid, limit, true);
        set_error(resp, 403, limit == 1   ? "too many requests per second for this relying party"
                             : limit == 2 ? "too many running sessions for this relying party"
                                          : "too many running sessions of this relying party "
                                            "for this person");
        goto out;
    }

    /* 5. the key */
    sk_purpose purpose = kind == K_AUTH ? SK_PURPOSE_AUTH : seal ? SK_PURPOSE_SEAL
                                                                 : SK_PURPOSE_SIGN;
    unsigned level = SK_RP_LEVEL_ADVANCED;
    int rc = resolve_key(v, &c, purpose, &row, &level);
    bool log_level = false;
    if (rc == SK_ERR_LEVEL) {
        /* at most one a second per relying party: a relying party asking
         * too high a level in a loop does not fill the event log */
        pthread_mutex_lock(&v->mu);
        rp_state *lst = state_of(v, uuid);
        uint64_t lt = now_ms();
        if (lst != NULL && lt >= lst->last_level_ms + 1000u) {
            lst->last_level_ms = lt;
            log_level = true;
        }
        pthread_mutex_unlock(&v->mu);
    }
    if (log_level) {
        /* as the session logic logs it: event 41 on the key, its level as
         * the detail (SK_RP_LEVEL_ and sk_cert_level agree: 1, 2) */
        sk_event ev = {.at = (int64_t)time(NULL), .kind = SK_EV_LEVEL_REFUSED,
                       .detail = level, .has_key = 1};
        memcpy(ev.key_id, row.key_id, SK_KEY_ID_LEN);
        int erc = sk_store_event_append(v->cfg.share->store, NULL, &ev);
        if (erc != SK_OK)
            sk_log_error("relying parties: cannot log event %u: %s",
                         (unsigned)SK_EV_LEVEL_REFUSED, sk_strerror(erc));
    }
    if (rc != SK_OK) {
        status = create_status(rc, &why);
        set_error(resp, status, why);
        goto out;
    }
    memcpy(s.owner, uuid, sizeof s.owner);
    memcpy(s.key_id, row.key_id, SK_KEY_ID_LEN);
    memcpy(s.person, c.person, strlen(c.person) + 1);
    make_docnr(s.docnr, sizeof s.docnr, c.person, row.key_id, level);
    s.level = level;
    s.hash = c.hash;
    s.created_ms = t;
    s.seen_until_ms = t;
    s.ignored = c.ignored;
    c.ignored = NULL;

    if (kind == K_CERTCHOICE || c.interaction == NULL) {
        /* ends at once: one signing key per person and purpose here, so
         * the choice is made; or no interaction this server can show */
        uint8_t rnd[16];
        randombytes_buf(rnd, sizeof rnd);
        rnd[6] = (uint8_t)((rnd[6] & 0x0f) | 0x40);
        rnd[8] = (uint8_t)((rnd[8] & 0x3f) | 0x80);
        uuid_text(s.id, rnd);
        s.local = true;
        s.ended = true;
        s.expires_s = t / 1000u;
        if (kind == K_CERTCHOICE) {
            s.end_result = "OK";
            rc = sk_share_key_certificate(v->cfg.share, row.key_id, &s.cert, &s.cert_len);
            if (rc != SK_OK) {
                status = create_status(rc, &why);
                set_error(resp, status, why);
                goto out;
            }
            audit(v, SK_EV_RP_CERT_CHOICE, uuid_bin, uuid, 0, false);
        } else {
            s.end_result = "REQUIRED_INTERACTION_NOT_SUPPORTED_BY_APP";
        }
    } else {
        uint8_t msg[SK_MAX_MESSAGE_LEN];
        size_t msg_len = 0, reply_len = 0;
        uint8_t *reply = NULL;
        sk_rp_create cr = {.key_id = row.key_id,
                           .purpose = purpose,
                           .digest = c.digest,
                           .hash = c.hash,
                           .scheme = SK_SCHEME_PKCS1,
                           .display_text = c.display_text,
                           .rp_name = c.name};
        char ref[SK_MAX_RP_REF_LEN];
        int ref_len = make_ref(ref, sizeof ref, &s);
        sk_rp_create_ext ext = {
            .certificate_level = c.level == SK_RP_LEVEL_QUALIFIED ? SK_CERT_LEVEL_QUALIFIED
                                                                   : SK_CERT_LEVEL_ADVANCED,
            .interaction = c.interaction->proto,
            .rp_ref = (const uint8_t *)ref,
            .rp_ref_len = ref_len > 0 ? (size_t)ref_len : 0};
        rc = sk_rp_create_request_ext(msg, sizeof msg, &msg_len, &cr, &ext);
        if (rc == SK_OK) {
            rc = sk_share_handle_rp(v->cfg.share, msg, msg_len, &reply, &reply_len);
            if (reply != NULL) {
                sk_rp_created cd;
                rc = sk_rp_read_created(&cd, NULL, reply, reply_len);
                if (rc == SK_OK) {
                    memcpy(s.sid, cd.session_id, SK_SESSION_ID_LEN);
                    uuid_text(s.id, cd.session_id);
                    s.expires_s = cd.expires_at;
                }
            }
        }
        free(reply);
        if (rc != SK_OK) {
            status = create_status(rc, &why);
            set_error(resp, status, why);
            goto out;
        }
        s.interaction = c.interaction->type;
    }
    char new_id[SK_RP_UUID_LEN + 1];
    memcpy(new_id, s.id, sizeof new_id);
    pthread_mutex_lock(&v->mu);
    v2_sess *h = sess_find(v, held_id);
    if (h != NULL) {
        /* the held place becomes the session */
        sess_clear(h);
        *h = s;
        memset(&s, 0, sizeof s);
        held_id[0] = '\0';
    }
    pthread_mutex_unlock(&v->mu);
    created(resp, new_id);
out:
    if (held_id[0] != '\0') {
        pthread_mutex_lock(&v->mu);
        v2_sess *h2 = sess_find(v, held_id);
        if (h2 != NULL) {
            sess_clear(h2);
            *h2 = v->sess[--v->n_sess];
            memset(&v->sess[v->n_sess], 0, sizeof v->sess[v->n_sess]);
        }
        pthread_mutex_unlock(&v->mu);
    }
    sess_clear(&s);
    free(c.ignored);
    sk_key_record_clear(&row);
    json_decref(body);
    sodium_memzero(&rp, sizeof rp);
}

/* -------------------------------------------------------------- status */

static json_t *result_json(const v2_sess *s, const char *end_result, const uint8_t *sig,
                           size_t sig_len, const uint8_t *cert, size_t cert_len)
{
    json_t *o = json_object();
    json_object_set_new(o, "state", json_string("COMPLETE"));
    json_t *r = json_pack("{s:s}", "endResult", end_result);
    if (strcmp(end_result, "OK") == 0)
        json_object_set_new(r, "documentNumber", json_string(s->docnr));
    json_object_set_new(o, "result", r);
    if (sig != NULL && sig_len > 0) {
        size_t cap = sodium_base64_encoded_len(sig_len, sodium_base64_VARIANT_ORIGINAL);
        char *b = malloc(cap);
        if (b != NULL) {
            sodium_bin2base64(b, cap, sig, sig_len, sodium_base64_VARIANT_ORIGINAL);
            json_object_set_new(o, "signature", json_pack("{s:s,s:s}", "value", b, "algorithm",
                                                          hash_name(s->hash)));
            free(b);
        }
    }
    if (cert != NULL && cert_len > 0) {
        size_t cap = sodium_base64_encoded_len(cert_len, sodium_base64_VARIANT_ORIGINAL);
        char *b = malloc(cap);
        if (b != NULL) {
            sodium_bin2base64(b, cap, cert, cert_len, sodium_base64_VARIANT_ORIGINAL);
            json_object_set_new(o, "cert", json_pack("{s:s,s:s}", "value", b, "certificateLevel",
                                                     level_name(s->level)));
            free(b);
        }
    }
    if (s->interaction != NULL && strcmp(end_result, "OK") == 0)
        json_object_set_new(o, "interactionFlowUsed", json_string(s->interaction));
    if (s->ignored != NULL)
        json_object_set_new(o, "ignoredProperties", json_loads(s->ignored, 0, NULL));
    return o;
}

static bool parse_timeout(const char *query, unsigned *ms)
{
    *ms = SK_RP_V2_TIMEOUT_DEFAULT_MS;
    for (const char *p = query; p != NULL && *p != '\0';) {
        size_t len = strcspn(p, "&");
        if (len > 10 && strncmp(p, "timeoutMs=", 10) == 0) {
            unsigned long x = 0;
            for (size_t i = 10; i < len; i++) {
                if (!isdigit((unsigned char)p[i]) || x > SK_RP_V2_TIMEOUT_MAX_MS)
                    return false;
                x = x * 10 + (unsigned)(p[i] - '0');
            }
            if (x < SK_RP_V2_TIMEOUT_MIN_MS || x > SK_RP_V2_TIMEOUT_MAX_MS)
                return false;
            *ms = (unsigned)x;
        } else if (len >= 9 && strncmp(p, "timeoutMs", 9) == 0) {
            return false;
        }
        p += len;
        if (*p == '&')
            p++;
    }
    return true;
}

/* Whether the key of a running session is time-locked or destroyed (its
 * state as the session logic reports it to a relying party). */
static bool key_unusable(sk_rp_v2 *v, const uint8_t *key_id)
{
    sk_key_status ks;
    memset(&ks, 0, sizeof ks);
    return key_state(v, key_id, &ks, NULL) == SK_OK &&
           (ks.state == SK_KEY_TIMELOCKED || ks.state == SK_KEY_DESTROYED);
}

static void handle_status(sk_rp_v2 *v, const sk_https_request *req, sk_https_response *resp,
                          const char *id_in)
{
    unsigned timeout_ms;
    uint8_t sid_check[16];
    char id[SK_RP_UUID_LEN + 1];
    if (!sk_rp_uuid_parse(sid_check, id, id_in)) {
        set_error(resp, 404, "no such session");
        return;
    }
    if (!parse_timeout(req->query, &timeout_ms)) {
        set_error(resp, 400, "timeoutMs: an integer from 1000 to 120000");
        return;
    }
    /* not in the table (made before a restart, or through another server
     * on the same store): made again from the session logic's record */
    pthread_mutex_lock(&v->mu);
    bool known = sess_find(v, id) != NULL;
    pthread_mutex_unlock(&v->mu);
    v2_sess adopted;
    if (!known && adopt(v, sid_check, id, &adopted)) {
        pthread_mutex_lock(&v->mu);
        if (sess_find(v, id) == NULL)
            (void)sess_add_locked(v, &adopted);
        pthread_mutex_unlock(&v->mu);
    }
    /* the owner's credential: a session is only its relying party's */
    pthread_mutex_lock(&v->mu);
    refresh_locked(v);
    v2_sess *found = sess_find(v, id);
    v2_sess s;
    memset(&s, 0, sizeof s);
    bool known_caller = false, owner_ok = false;
    for (size_t i = 0; i < v->n_rps; i++)
        if (credential_ok(&v->rps[i], req)) {
            known_caller = true;
            if (found != NULL && strcmp(v->rps[i].uuid, found->owner) == 0)
                owner_ok = true;
        }
    rp_state *st = NULL;
    bool may_wait = false;
    if (found != NULL && owner_ok) {
        s = *found;
        s.ignored = found->ignored ? strdup(found->ignored) : NULL;
        s.cert = NULL;
        if (found->cert_len > 0 && (s.cert = malloc(found->cert_len)) != NULL)
            memcpy(s.cert, found->cert, found->cert_len);
        else
            s.cert_len = 0;
        st = state_of(v, s.owner);
        unsigned share = v->cfg.workers / 4 ? v->cfg.workers / 4 : 1;
        if (st != NULL && st->waiting < share) {
            st->waiting++;
            may_wait = true;
        }
        /* until when its relying party waits, as the session logic records it */
        uint64_t until = now_ms() + (may_wait ? timeout_ms : 0);
        if (found->seen_until_ms != 0 && found->seen_until_ms < until)
            found->seen_until_ms = until;
    }
    pthread_mutex_unlock(&v->mu);
    if (!known_caller) {
        audit(v, SK_EV_RP_REFUSED_AUTH, NULL, NULL, 2, true);
        set_error(resp, 401, "unknown relying party or wrong credential");
        return;
    }
    if (!owner_ok) {
        set_error(resp, 404, "no such session");
        return;
    }
    if (s.local || s.end_result != NULL) {
        set_json(resp, 200, result_json(&s, s.end_result, NULL, 0, s.cert, s.cert_len));
        goto out;
    }
    sk_longpoll *lp = v->cfg.share->longpoll;
    uint64_t deadline = sk_longpoll_now_ms() + (may_wait ? timeout_ms : 0);
    for (;;) {
        uint64_t gen = lp != NULL ? sk_longpoll_generation(lp) : 0;
        uint64_t now = sk_longpoll_now_ms();
        uint64_t left = deadline > now ? deadline - now : 0;
        uint32_t step = (uint32_t)(left < SK_RP_V2_POLL_STEP_MS ? left : SK_RP_V2_POLL_STEP_MS);
        uint8_t msg[128];
        size_t msg_len = 0, reply_len = 0;
        uint8_t *reply = NULL;
        sk_rp_result *res = NULL;
        sk_rp_result_ext ext;
        memset(&ext, 0, sizeof ext);
        int rc = sk_rp_poll_wait_request(msg, sizeof msg, &msg_len, s.sid, SK_SESSION_ID_LEN,
                                         step);
        if (rc == SK_OK)
            rc = sk_share_handle_rp(v->cfg.share, msg, msg_len, &reply, &reply_len);
        if (reply != NULL) {
            res = malloc(sizeof *res);
            rc = res != NULL ? sk_rp_read_result_ext(res, &ext, NULL, reply, reply_len)
                             : SK_ERR_NOMEM;
        }
        free(reply);
        const char *end = NULL;
        bool pending = false;
        if (rc == SK_OK) {
            switch (res->state) {
            case SK_SESSION_PENDING: pending = true; break;
            case SK_SESSION_COMPLETE: end = "OK"; break;
            case SK_SESSION_REFUSED: {
                const interaction_def *d = ext.refused_at != SK_INTERACTION_NONE
                                               ? interaction_of(ext.refused_at)
                                               : NULL;
                end = d != NULL ? d->refused : "USER_REFUSED";
                break;
            }
            case SK_SESSION_EXPIRED:
            case SK_SESSION_CANCELLED: end = "TIMEOUT"; break;
            case SK_SESSION_WRONG_VC: end = "WRONG_VC"; break;
            default: rc = SK_ERR_INTERNAL;
            }
            if (end != NULL && strcmp(end, "OK") == 0) {
                const interaction_def *d = interaction_of(ext.interaction_used);
                if (d != NULL)
                    s.interaction = d->type;
                s.level = ext.certificate_level == SK_CERT_LEVEL_QUALIFIED
                              ? SK_RP_LEVEL_QUALIFIED
                              : SK_RP_LEVEL_ADVANCED;
            }
        } else if (rc == SK_ERR_SESSION_EXPIRED || rc == SK_ERR_SESSION_CANCELLED) {
            end = "TIMEOUT";
            rc = SK_OK;
        } else if (rc == SK_ERR_SESSION_REFUSED) {
            end = "USER_REFUSED";
            rc = SK_OK;
        } else if (rc == SK_ERR_WRONG_VC) {
            end = "WRONG_VC";
            rc = SK_OK;
        } else if (rc == SK_ERR_DESTROYED || rc == SK_ERR_LOCKED || rc == SK_ERR_NOT_ACTIVE) {
            end = "DOCUMENT_UNUSABLE";
            rc = SK_OK;
        }
        if (rc != SK_OK) {
            const char *why;
            int status = rc == SK_ERR_SESSION_UNKNOWN ? 404 : create_status(rc, &why);
            set_error(resp, status, status == 404 ? "no such session" : why);
            free(res);
            break;
        }
        if (end != NULL) {
            bool ok = strcmp(end, "OK") == 0;
            set_json(resp, 200, result_json(&s, end, ok ? res->signature : NULL,
                                            ok ? res->sig_len : 0, ok ? res->certificate : NULL,
                                            ok ? res->cert_len : 0));
            free(res);
            pthread_mutex_lock(&v->mu);
            v2_sess *f = sess_find(v, s.id);
            if (f != NULL)
                f->ended = true;
            pthread_mutex_unlock(&v->mu);
            break;
        }
        free(res);
        if (pending && key_unusable(v, s.key_id)) {
            /* locked or destroyed meanwhile: the session ends here, and is
             * cancelled so that the device no longer offers it */
            uint8_t cmsg[128];
            size_t clen = 0, rlen = 0;
            uint8_t *creply = NULL;
            if (sk_rp_cancel_request(cmsg, sizeof cmsg, &clen, s.sid, SK_SESSION_ID_LEN) ==
                SK_OK)
                (void)sk_share_handle_rp(v->cfg.share, cmsg, clen, &creply, &rlen);
            free(creply);
            pthread_mutex_lock(&v->mu);
            v2_sess *f = sess_find(v, s.id);
            if (f != NULL) {
                f->ended = true;
                f->end_result = "DOCUMENT_UNUSABLE";
            }
            pthread_mutex_unlock(&v->mu);
            set_json(resp, 200, result_json(&s, "DOCUMENT_UNUSABLE", NULL, 0, NULL, 0));
            break;
        }
        now = sk_longpoll_now_ms();
        if (lp == NULL || now >= deadline) {
            set_json(resp, 200, json_pack("{s:s}", "state", "RUNNING"));
            break;
        }
        uint64_t until = now + (deadline - now < SK_RP_V2_POLL_STEP_MS ? deadline - now
                                                                      : SK_RP_V2_POLL_STEP_MS);
        if (!sk_longpoll_wait(lp, &gen, until) && sk_longpoll_now_ms() < until) {
            /* stopping */
            set_json(resp, 200, json_pack("{s:s}", "state", "RUNNING"));
            break;
        }
    }
out:
    if (may_wait) {
        pthread_mutex_lock(&v->mu);
        rp_state *st2 = state_of(v, s.owner);
        if (st2 != NULL && st2->waiting > 0)
            st2->waiting--;
        pthread_mutex_unlock(&v->mu);
    }
    free(s.ignored);
    free(s.cert);
}

/* -------------------------------------------------------------- routing */

void sk_rp_v2_handle(void *ctx, const sk_https_request *req, sk_https_response *resp)
{
    sk_rp_v2 *v = ctx;
    char path[1024];
    if (strlen(req->path) >= sizeof path) {
        set_error(resp, 404, "no such resource");
        return;
    }
    memcpy(path, req->path, strlen(req->path) + 1);
    /* an optional prefix before /v2/ (e.g. /rp/v2/) is allowed */
    char *p = strstr(path, "/v2/");
    if (p == NULL) {
        if (strstr(path, "/v1/") != NULL)
            set_error(resp, 480, "the RP API v1 is not served: use v2");
        else
            set_error(resp, 404, "no such resource");
        return;
    }
    p += 4;
    char *parts[5] = {0};
    size_t n = 0;
    for (char *save = NULL, *t = strtok_r(p, "/", &save); t != NULL;
         t = strtok_r(NULL, "/", &save)) {
        if (n == 5) {
            set_error(resp, 404, "no such resource");
            return;
        }
        parts[n++] = t;
    }
    bool is_session = n == 2 && strcmp(parts[0], "session") == 0;
    enum v2_kind kind = K_AUTH;
    bool is_create = false;
    if (n >= 3) {
        if (strcmp(parts[0], "authentication") == 0)
            kind = K_AUTH, is_create = true;
        else if (strcmp(parts[0], "signature") == 0)
            kind = K_SIGN, is_create = true;
        else if (strcmp(parts[0], "certificatechoice") == 0)
            kind = K_CERTCHOICE, is_create = true;
    }
    if (!is_session && !is_create) {
        set_error(resp, 404, "no such resource");
        return;
    }
    if (is_session) {
        if (strcmp(req->method, "GET") != 0) {
            resp->allow = "GET";
            set_error(resp, 405, "use GET");
            return;
        }
        handle_status(v, req, resp, parts[1]);
        return;
    }
    if (strcmp(req->method, "POST") != 0) {
        resp->allow = "POST";
        set_error(resp, 405, "use POST");
        return;
    }
    if (strcmp(parts[1], "private") == 0 && n == 4) {
        set_error(resp, 403, "private identifiers are not supported: use etsi/ or document/");
        return;
    }
    if (n != 3 || (strcmp(parts[1], "etsi") != 0 && strcmp(parts[1], "document") != 0)) {
        set_error(resp, 404, "no such resource");
        return;
    }
    handle_create(v, req, resp, kind, parts[1], parts[2]);
}
