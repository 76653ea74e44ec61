/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rp_web.c - "splitkey-rp serve": the bank web site (rp_web.h).  Sessions
 * and logins live in memory (fixed tables under one mutex); each session
 * has a worker thread that waits for the share server's answer and checks
 * it, and the page polls /api/status, which only reads the table.
 */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <nng/nng.h>
#include <nng/supplemental/http/http.h>
#include <sodium.h>

#include "cliutil.h"
#include "fileio.h"
#include "http_listen.h"
#include "rp_check.h"
#include "rp_web.h"
#include "signals.h"
#include "splitkey/pki.h"
#include "splitkey/sign.h"
#include "splitkey/splitkey.h"
#include "svc_error.h"

#define PROG "splitkey-rp serve"
#define MAX_SESSIONS 64u
#define MAX_LOGINS 64u
#define LOGIN_TTL_S 1800u
#define MAX_BODY 4096u
#define POLL_WAIT_MS 10000u
#define COOKIE "sk_bank"

static const char CONTRACT[] =
    "Loan agreement No. 42: the bank lends 5000 EUR to the customer for 24 months "
    "at 4.9 % a year, paid back in equal monthly instalments.";

enum { ST_PENDING = 0, ST_OK, ST_REFUSED, ST_FAILED };
enum { KIND_AUTH = 1, KIND_SIGN };

typedef struct web_sess {
    bool used, worker; /* worker: a thread still owns the session */
    char id[33];
    int kind, state;
    char person[96], code[5], message[600], subject[256], serial[41], token[65];
    bool token_given;
    uint64_t created_ms; /* for the choice of a slot to reuse: the oldest */
    uint8_t digest[SK_MAX_HASH_LEN];
    char sid[128]; /* the share server's session id */
} web_sess;

typedef struct web_login {
    char token[65], person[96];
    uint64_t until;
} web_login;

typedef struct web {
    const rp_web_conf *c;
    pthread_mutex_t mu;
    web_sess sess[MAX_SESSIONS];
    web_login logins[MAX_LOGINS];
} web;

static uint64_t now_s(void) { return (uint64_t)time(NULL); }

static void rand_hex(char *out, size_t bytes)
{
    uint8_t b[32];
    randombytes_buf(b, bytes);
    sodium_bin2hex(out, 2 * bytes + 1, b, bytes);
}

/* ------------------------------------------------------------ the page */

static const char PAGE[] =
    "<!DOCTYPE html>\n"
    "<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<title>Splitkey Bank</title>\n"
    "<link rel=\"stylesheet\" href=\"/app.css\">\n"
    "<script src=\"/app.js\" defer></script>\n"
    "</head><body>\n"
    "<header><h1>Splitkey Bank</h1><p>Internet bank &middot; log in and sign with your "
    "phone</p></header>\n"
    "<main>\n"
    "<section id=\"login-box\">\n"
    "<h2>Log in</h2>\n"
    "<form id=\"login-form\"><label for=\"person\">Person id</label>\n"
    "<input id=\"person\" name=\"person\" autocomplete=\"username\" "
    "placeholder=\"PNOLV-010101-12345\" maxlength=\"64\" required>\n"
    "<button id=\"login\" type=\"submit\">Log in</button></form>\n"
    "</section>\n"
    "<section id=\"account\" hidden>\n"
    "<h2>Your account</h2>\n"
    "<p id=\"welcome\"></p>\n"
    "<h3>Contract to sign</h3>\n"
    "<pre id=\"contract\"></pre>\n"
    "<button id=\"sign\" type=\"button\">Sign the contract</button>\n"
    "<button id=\"logout\" type=\"button\" class=\"quiet\">Log out</button>\n"
    "</section>\n"
    "<section id=\"vc-box\" hidden>\n"
    "<p>Verification code</p><p id=\"vc\" class=\"vc\"></p>\n"
    "<p id=\"status\"></p>\n"
    "</section>\n"
    "<p id=\"outcome\" role=\"status\"></p>\n"
    "</main>\n"
    "<footer>The verification code on this page must be the one your device shows. "
    "If it is not, refuse on the device.</footer>\n"
    "</body></html>\n";

static const char CSS[] =
    "body{font-family:sans-serif;max-width:40em;margin:2em auto;padding:0 1em;color:#123}\n"
    "header{border-bottom:3px solid #0a5;margin-bottom:1em}h1{color:#0a5;margin-bottom:0}\n"
    "label{display:block;margin:.5em 0 .2em}input{font-size:1.1em;padding:.3em;width:16em}\n"
    "button{font-size:1.1em;padding:.4em 1em;margin:.5em .5em 0 0;background:#0a5;"
    "color:#fff;border:0;border-radius:4px}button.quiet{background:#789}\n"
    "button:disabled{background:#aaa}\n"
    "pre{white-space:pre-wrap;background:#f4f6f4;padding:1em;border-left:4px solid #0a5}\n"
    ".vc{font-size:3em;font-weight:bold;letter-spacing:.2em;margin:.2em 0}\n"
    "#outcome.ok{color:#063;font-weight:bold}#outcome.bad{color:#a00;font-weight:bold}\n"
    "footer{margin-top:3em;font-size:.85em;color:#567}\n";

static const char JS[] =
    "'use strict';\n"
    "const $ = (id) => document.getElementById(id);\n"
    "function outcome(text, ok) {\n"
    "  $('outcome').textContent = text;\n"
    "  $('outcome').className = ok === undefined ? '' : (ok ? 'ok' : 'bad');\n"
    "}\n"
    "async function call(method, path, body) {\n"
    "  const opt = {method, credentials: 'same-origin', headers: {}};\n"
    "  if (body !== undefined) {\n"
    "    opt.headers['Content-Type'] = 'application/json';\n"
    "    opt.body = JSON.stringify(body);\n"
    "  }\n"
    "  const r = await fetch(path, opt);\n"
    "  const j = await r.json().catch(() => ({}));\n"
    "  if (!r.ok) throw new Error(j.message || ('the bank answered HTTP ' + r.status));\n"
    "  return j;\n"
    "}\n"
    "const sleep = (ms) => new Promise((res) => setTimeout(res, ms));\n"
    "async function waitFor(id) {\n"
    "  for (;;) {\n"
    "    const j = await call('GET', '/api/status?id=' + encodeURIComponent(id));\n"
    "    if (j.state !== 'pending') return j;\n"
    "    await sleep(500);\n"
    "  }\n"
    "}\n"
    "function showCode(code, what) {\n"
    "  $('vc').textContent = code;\n"
    "  $('status').textContent = 'Check that your device shows ' + code + ', then ' + what + '.';\n"
    "  $('vc-box').hidden = false;\n"
    "}\n"
    "function loggedIn(person) {\n"
    "  $('login-box').hidden = true;\n"
    "  $('account').hidden = false;\n"
    "  $('welcome').textContent = 'Logged in as ' + person;\n"
    "}\n"
    "async function session(start, what, done) {\n"
    "  outcome('');\n"
    "  for (const b of document.querySelectorAll('button')) b.disabled = true;\n"
    "  try {\n"
    "    const s = await start();\n"
    "    showCode(s.code, what);\n"
    "    const r = await waitFor(s.id);\n"
    "    $('vc-box').hidden = true;\n"
    "    if (r.state === 'ok') done(r); else outcome(r.message, false);\n"
    "  } catch (e) {\n"
    "    $('vc-box').hidden = true;\n"
    "    outcome(e.message, false);\n"
    "  } finally {\n"
    "    for (const b of document.querySelectorAll('button')) b.disabled = false;\n"
    "  }\n"
    "}\n"
    "$('login-form').addEventListener('submit', (ev) => {\n"
    "  ev.preventDefault();\n"
    "  const person = $('person').value.trim();\n"
    "  session(() => call('POST', '/api/login', {person}), 'confirm with PIN1',\n"
    "    (r) => { loggedIn(r.person); outcome(r.message, true); });\n"
    "});\n"
    "$('sign').addEventListener('click', () => {\n"
    "  session(() => call('POST', '/api/sign', {}), 'confirm with PIN2',\n"
    "    (r) => outcome(r.message, true));\n"
    "});\n"
    "$('logout').addEventListener('click', async () => {\n"
    "  await call('POST', '/api/logout', {}).catch(() => {});\n"
    "  location.reload();\n"
    "});\n"
    "(async () => {\n"
    "  const me = await call('GET', '/api/me').catch(() => ({}));\n"
    "  $('contract').textContent = me.contract || '';\n"
    "  if (me.person) loggedIn(me.person);\n"
    "})();\n";

static const char CSP[] = "default-src 'none'; script-src 'self'; style-src 'self'; "
                          "connect-src 'self'; img-src 'self'; form-action 'self'; "
                          "base-uri 'none'; frame-ancestors 'none'";

/* --------------------------------------------------------------- replies */

static void reply(nng_aio *aio, uint16_t status, const char *type, const char *body,
                  size_t len, const char *cookie)
{
    nng_http_res *res = NULL;
    char date[40];
    if (nng_http_res_alloc(&res) != 0) {
        nng_aio_finish(aio, NNG_ENOMEM);
        return;
    }
    sk_http_date(date, sizeof date, (int64_t)now_s());
    int rv = nng_http_res_set_status(res, status);
    if (rv == 0)
        rv = nng_http_res_set_header(res, "Content-Type", type);
    if (rv == 0)
        rv = nng_http_res_set_header(res, "Content-Security-Policy", CSP);
    if (rv == 0)
        rv = nng_http_res_set_header(res, "X-Content-Type-Options", "nosniff");
    if (rv == 0)
        rv = nng_http_res_set_header(res, "X-Frame-Options", "DENY");
    if (rv == 0)
        rv = nng_http_res_set_header(res, "Referrer-Policy", "no-referrer");
    if (rv == 0)
        rv = nng_http_res_set_header(res, "Cache-Control", "no-store");
    if (rv == 0)
        rv = nng_http_res_set_header(res, "Date", date);
    if (rv == 0 && cookie != NULL)
        rv = nng_http_res_set_header(res, "Set-Cookie", cookie);
    if (rv == 0)
        rv = nng_http_res_copy_data(res, body, len);
    if (rv != 0) {
        nng_http_res_free(res);
        nng_aio_finish(aio, rv);
        return;
    }
    nng_aio_set_output(aio, 0, res);
    nng_aio_finish(aio, 0);
}

/* Replies with j (consumed). */
static void reply_json(nng_aio *aio, uint16_t status, json_t *j, const char *cookie)
{
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (s == NULL) {
        reply(aio, 500, "application/json", "{}", 2, NULL);
        return;
    }
    reply(aio, status, "application/json", s, strlen(s), cookie);
    free(s);
}

static void reply_error(nng_aio *aio, uint16_t status, const char *message)
{
    reply_json(aio, status, json_pack("{s:s}", "message", message), NULL);
}

/* ------------------------------------------------------------- checking */

/* The answer's signature and certificate, as the command line checks them:
 * ST_OK, or ST_FAILED with *msg. */
static int check_answer(const rp_web_conf *c, web_sess *s, sk_purpose purpose, sk_scheme scheme,
                        const uint8_t *sig, size_t sig_len, const uint8_t *cert,
                        size_t cert_len, char *msg, size_t cap)
{
    sk_cert *crt = NULL;
    sk_pubkey *pub = NULL;
    bool good = cert_len > 0 && sk_cert_parse(&crt, cert, cert_len) == SK_OK &&
                sk_cert_pubkey(crt, &pub) == SK_OK &&
                sk_verify(pub, scheme, SK_HASH_SHA256, s->digest, sk_hash_len(SK_HASH_SHA256),
                          sig, sig_len) == SK_OK;
    sk_pubkey_free(pub);
    sk_cert_free(crt);
    if (!good) {
        snprintf(msg, cap, "The answer from the share server did not verify: nothing was "
                           "accepted.");
        return ST_FAILED;
    }
    rp_check_opts co = {.ca_cert = c->ca_cert,
                        .purpose = purpose,
                        .person = s->person,
                        .advanced = c->advanced,
                        .ocsp_timeout_ms = c->ocsp_timeout_ms};
    rp_check_info info;
    char why[512] = "";
    int rc = rp_check_cert(&co, cert, cert_len, (int64_t)now_s(), &info, why, sizeof why);
    snprintf(s->subject, sizeof s->subject, "%s", info.subject);
    snprintf(s->serial, sizeof s->serial, "%s", info.serial);
    if (rc == RP_CHECK_REVOKED) {
        snprintf(msg, cap, "Your certificate is revoked: nothing was accepted (%s).", why);
        return ST_FAILED;
    }
    if (rc != RP_CHECK_OK) {
        snprintf(msg, cap, "Your certificate could not be accepted: %s.", why);
        return ST_FAILED;
    }
    return ST_OK;
}

/* ---------------------------------------------------------------- workers */

static void finish_sess(web *w, web_sess *s, int state, const char *msg)
{
    pthread_mutex_lock(&w->mu);
    s->state = state;
    snprintf(s->message, sizeof s->message, "%s", msg);
    if (state == ST_OK && s->kind == KIND_AUTH)
        rand_hex(s->token, 32);
    s->worker = false;
    pthread_mutex_unlock(&w->mu);
}

static const char *refusal(int kind)
{
    return kind == KIND_AUTH ? "You refused the login on your device: you are not logged in."
                             : "You refused to sign the contract on your device: nothing was "
                               "signed.";
}

static void ok_message(web_sess *s, char *msg, size_t cap)
{
    if (s->kind == KIND_AUTH)
        snprintf(msg, cap, "Welcome, %s: your identity was confirmed (certificate %s).",
                 s->person, s->serial);
    else
        snprintf(msg, cap, "Contract signed by %s; the signature and certificate %s were "
                           "verified.", s->person, s->serial);
}

static void *api_worker(void *arg)
{
    void **a = arg;
    web *w = a[0];
    web_sess *s = a[1];
    free(arg);
    sk_purpose purpose = s->kind == KIND_AUTH ? SK_PURPOSE_AUTH : SK_PURPOSE_SIGN;
    rp_api_result *r = calloc(1, sizeof *r);
    char msg[600] = "The session failed.", why[512];
    int state = ST_FAILED;
    uint64_t deadline = now_s() + w->c->timeout_s;
    while (r != NULL) {
        int rc = rp_api_poll(w->c->api, s->sid, POLL_WAIT_MS, r, why, sizeof why);
        if (rc == 0 && r->complete) {
            const char *what;
            if (strcmp(r->end_result, "OK") == 0) {
                state = r->sig_hash != SK_HASH_SHA256
                            ? ST_FAILED
                            : check_answer(w->c, s, purpose, r->scheme, r->sig, r->sig_len,
                                           r->cert, r->cert_len, msg, sizeof msg);
                if (state == ST_OK)
                    ok_message(s, msg, sizeof msg);
            } else if (rp_api_end_exit(r->end_result, &what) == 6 &&
                       strncmp(r->end_result, "USER_REFUSED", 12) == 0) {
                state = ST_REFUSED;
                snprintf(msg, sizeof msg, "%s", refusal(s->kind));
            } else {
                snprintf(msg, sizeof msg, "The session ended: %s.", what);
            }
            break;
        }
        if (rc == CU_EXIT_SESSION) {
            snprintf(msg, sizeof msg, "The share server no longer knows the session.");
            break;
        }
        if (now_s() >= deadline) {
            snprintf(msg, sizeof msg, "No answer from your device in time: try again.");
            break;
        }
        if (rc != 0) {
            struct timespec ts = {.tv_sec = 0, .tv_nsec = 300000000L};
            nanosleep(&ts, NULL);
        }
    }
    free(r);
    finish_sess(w, s, state, msg);
    return NULL;
}

/* ------------------------------------------------------------- sessions */

/* A free slot, else the oldest ended one (never one a worker owns), or
 * NULL.  Under w->mu. */
static web_sess *slot(web *w)
{
    web_sess *best = NULL;
    for (size_t i = 0; i < MAX_SESSIONS; i++) {
        web_sess *s = &w->sess[i];
        if (!s->used)
            return s;
        if (!s->worker && (best == NULL || s->created_ms < best->created_ms))
            best = s;
    }
    return best;
}

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Starts a session for person; its id and code (copied: the slot is the
 * worker's) on success (200), else an HTTP status with *msg. */
static uint16_t start(web *w, int kind, const char *person, char id[33], char code[5],
                      char *msg, size_t cap)
{
    const rp_web_conf *c = w->c;
    web_sess tmp;
    memset(&tmp, 0, sizeof tmp);
    tmp.kind = kind;
    snprintf(tmp.person, sizeof tmp.person, "%s", person);
    const char *text;
    char login_text[64];
    if (kind == KIND_AUTH) {
        uint8_t challenge[32];
        randombytes_buf(challenge, sizeof challenge);
        if (sk_digest(tmp.digest, sk_hash_len(SK_HASH_SHA256), SK_HASH_SHA256, challenge,
                      sizeof challenge) != SK_OK)
            return 500;
        snprintf(login_text, sizeof login_text, "Log in to %.40s", c->name);
        text = login_text;
    } else {
        if (sk_digest(tmp.digest, sk_hash_len(SK_HASH_SHA256), SK_HASH_SHA256,
                      (const uint8_t *)CONTRACT, strlen(CONTRACT)) != SK_OK)
            return 500;
        text = "Sign loan agreement No. 42";
    }
    sk_purpose purpose = kind == KIND_AUTH ? SK_PURPOSE_AUTH : SK_PURPOSE_SIGN;
    char why[512] = "";
    {
        rp_api_create ac = {.purpose = purpose,
                            .person = person,
                            .digest = tmp.digest,
                            .hash = SK_HASH_SHA256,
                            .text = text,
                            .advanced = c->advanced};
        int rc = rp_api_start(c->api, &ac, tmp.sid, sizeof tmp.sid, why, sizeof why);
        if (rc != 0) {
            snprintf(msg, cap, "The bank could not start the session: %s.", why);
            return rc == 4 ? 423 : strstr(why, "404") ? 404 : 502;
        }
        rp_api_vc(tmp.code, tmp.digest, sk_hash_len(SK_HASH_SHA256));
    }
    pthread_mutex_lock(&w->mu);
    web_sess *s = slot(w);
    if (s == NULL) {
        pthread_mutex_unlock(&w->mu);
        snprintf(msg, cap, "The bank is busy: try again in a moment.");
        return 503;
    }
    *s = tmp;
    s->used = true;
    s->worker = true;
    s->state = ST_PENDING;
    s->created_ms = mono_ms();
    rand_hex(s->id, 16);
    memcpy(id, s->id, 33);
    memcpy(code, s->code, 5);
    pthread_mutex_unlock(&w->mu);
    void **arg = malloc(2 * sizeof *arg);
    pthread_t t;
    if (arg != NULL) {
        arg[0] = w;
        arg[1] = s;
    }
    if (arg == NULL ||
        pthread_create(&t, NULL, api_worker, arg) != 0) {
        free(arg);
        finish_sess(w, s, ST_FAILED, "The bank could not wait for the answer.");
    } else {
        pthread_detach(t);
    }
    return 200;
}

/* The logged-in person of the request's cookie, copied into person;
 * false when none.  Under w->mu. */
static bool whoami(web *w, nng_http_req *req, char *person, size_t cap)
{
    const char *ck = nng_http_req_get_header(req, "Cookie");
    if (ck == NULL)
        return false;
    const char *p = strstr(ck, COOKIE "=");
    while (p != NULL && p != ck && p[-1] != ' ' && p[-1] != ';')
        p = strstr(p + 1, COOKIE "=");
    if (p == NULL)
        return false;
    p += strlen(COOKIE) + 1;
    uint64_t now = now_s();
    for (size_t i = 0; i < MAX_LOGINS; i++) {
        web_login *l = &w->logins[i];
        if (l->token[0] != '\0' && l->until > now && strncmp(p, l->token, 64) == 0 &&
            (p[64] == '\0' || p[64] == ';' || p[64] == ' ')) {
            snprintf(person, cap, "%s", l->person);
            return true;
        }
    }
    return false;
}

static bool person_ok(const char *p)
{
    size_t n = strlen(p);
    if (n == 0 || n > 64)
        return false;
    for (; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != ':')
            return false;
    return true;
}

/* ----------------------------------------------------------------- routes */

static void handle(nng_aio *aio)
{
    nng_http_req *req = nng_aio_get_input(aio, 0);
    nng_http_handler *hd = nng_aio_get_input(aio, 1);
    web *w = nng_http_handler_get_data(hd);
    const char *method = nng_http_req_get_method(req);
    const char *uri = nng_http_req_get_uri(req);
    char path[256];
    snprintf(path, sizeof path, "%s", uri);
    char *q = strchr(path, '?');
    const char *query = "";
    if (q != NULL) {
        *q = '\0';
        query = uri + (q - path) + 1;
    }
    bool get = strcmp(method, "GET") == 0, post = strcmp(method, "POST") == 0;

    if (get && strcmp(path, "/") == 0) {
        reply(aio, 200, "text/html; charset=utf-8", PAGE, sizeof PAGE - 1, NULL);
        return;
    }
    if (get && strcmp(path, "/app.js") == 0) {
        reply(aio, 200, "text/javascript; charset=utf-8", JS, sizeof JS - 1, NULL);
        return;
    }
    if (get && strcmp(path, "/app.css") == 0) {
        reply(aio, 200, "text/css; charset=utf-8", CSS, sizeof CSS - 1, NULL);
        return;
    }
    if (strncmp(path, "/api/", 5) != 0 || (!get && !post)) {
        reply_error(aio, 404, "No such page.");
        return;
    }
    if (post) {
        /* JSON only: a cross-site form cannot send it without CORS */
        const char *ct = nng_http_req_get_header(req, "Content-Type");
        if (ct == NULL || strncmp(ct, "application/json", 16) != 0) {
            reply_error(aio, 415, "Send JSON.");
            return;
        }
    }
    char person[96] = "", msg[600] = "";
    if (get && strcmp(path, "/api/me") == 0) {
        pthread_mutex_lock(&w->mu);
        bool in = whoami(w, req, person, sizeof person);
        pthread_mutex_unlock(&w->mu);
        reply_json(aio, 200,
                   in ? json_pack("{s:s, s:s}", "person", person, "contract", CONTRACT)
                      : json_pack("{s:s}", "contract", CONTRACT),
                   NULL);
        return;
    }
    if (post && (strcmp(path, "/api/login") == 0 || strcmp(path, "/api/sign") == 0)) {
        bool login = strcmp(path, "/api/login") == 0;
        if (login) {
            void *body = NULL;
            size_t blen = 0;
            nng_http_req_get_data(req, &body, &blen);
            json_t *j = blen ? json_loadb(body, blen, 0, NULL) : NULL;
            const char *p = json_string_value(json_object_get(j, "person"));
            if (p == NULL || !person_ok(p)) {
                json_decref(j);
                reply_error(aio, 400, "Type your person id, e.g. PNOLV-010101-12345.");
                return;
            }
            snprintf(person, sizeof person, "%s", p);
            json_decref(j);
        } else {
            pthread_mutex_lock(&w->mu);
            bool in = whoami(w, req, person, sizeof person);
            pthread_mutex_unlock(&w->mu);
            if (!in) {
                reply_error(aio, 401, "Log in first.");
                return;
            }
        }
        char id[33], code[5];
        uint16_t st = start(w, login ? KIND_AUTH : KIND_SIGN, person, id, code, msg,
                            sizeof msg);
        if (st != 200) {
            reply_error(aio, st, msg);
            return;
        }
        reply_json(aio, 200,
                   json_pack("{s:s, s:s, s:s}", "id", id, "code", code, "contract",
                             login ? "" : CONTRACT),
                   NULL);
        return;
    }
    if (get && strcmp(path, "/api/status") == 0) {
        char id[33] = "", cookie[160] = "";
        if (strncmp(query, "id=", 3) == 0 && strlen(query + 3) == 32)
            snprintf(id, sizeof id, "%s", query + 3);
        pthread_mutex_lock(&w->mu);
        web_sess *s = NULL;
        for (size_t i = 0; id[0] && i < MAX_SESSIONS; i++)
            if (w->sess[i].used && strcmp(w->sess[i].id, id) == 0)
                s = &w->sess[i];
        if (s == NULL) {
            pthread_mutex_unlock(&w->mu);
            reply_error(aio, 404, "No such session.");
            return;
        }
        static const char *names[] = {"pending", "ok", "refused", "failed"};
        /* subject and serial are the worker's until the state changes */
        bool done = s->state != ST_PENDING;
        json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s}", "state", names[s->state], "message",
                              s->message, "person", s->person, "certificate",
                              done ? s->subject : "", "serial", done ? s->serial : "");
        if (s->state == ST_OK && s->kind == KIND_AUTH && !s->token_given) {
            /* the login: a cookie, given once, to the poller of this session */
            web_login *l = &w->logins[0];
            for (size_t i = 0; i < MAX_LOGINS; i++)
                if (w->logins[i].until < l->until)
                    l = &w->logins[i];
            snprintf(l->token, sizeof l->token, "%s", s->token);
            snprintf(l->person, sizeof l->person, "%s", s->person);
            l->until = now_s() + LOGIN_TTL_S;
            snprintf(cookie, sizeof cookie,
                     COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%u", s->token,
                     LOGIN_TTL_S);
            s->token_given = true;
            sodium_memzero(s->token, sizeof s->token);
        }
        pthread_mutex_unlock(&w->mu);
        reply_json(aio, 200, j, cookie[0] ? cookie : NULL);
        sodium_memzero(cookie, sizeof cookie);
        return;
    }
    if (post && strcmp(path, "/api/logout") == 0) {
        const char *ck = nng_http_req_get_header(req, "Cookie");
        pthread_mutex_lock(&w->mu);
        for (size_t i = 0; ck != NULL && i < MAX_LOGINS; i++)
            if (w->logins[i].token[0] && strstr(ck, w->logins[i].token) != NULL)
                memset(&w->logins[i], 0, sizeof w->logins[i]);
        pthread_mutex_unlock(&w->mu);
        reply_json(aio, 200, json_pack("{s:b}", "ok", 1),
                   COOKIE "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
        return;
    }
    reply_error(aio, 404, "No such page.");
}

int rp_web_run(const rp_web_conf *c)
{
    char host[256], err[600];
    unsigned port = 0, bound = 0;
    if (!sk_parse_hostport(host, sizeof host, &port, c->http)) {
        fprintf(stderr, PROG ": --http %s: use HOST:PORT, e.g. 127.0.0.1:8080\n", c->http);
        return CU_EXIT_USAGE;
    }
    web *w = calloc(1, sizeof *w);
    if (w == NULL)
        return CU_EXIT_FAIL;
    w->c = c;
    pthread_mutex_init(&w->mu, NULL);
    nng_http_server *srv = NULL;
    sk_http_failure why;
    if (sk_signals_install() != SK_OK) {
        free(w);
        return CU_EXIT_FAIL;
    }
    int rc = sk_http_listen(&srv, &bound, host, port, handle, w, MAX_BODY, &why);
    if (rc != SK_OK) {
        sk_http_listen_error(err, sizeof err, "--http", c->http, "use HOST:PORT", &why);
        fprintf(stderr, PROG ": %s\n", err);
        free(w);
        return rc == SK_SVC_ERR_CONFIG ? CU_EXIT_USAGE : CU_EXIT_FAIL;
    }
    char url[300];
    int n = snprintf(url, sizeof url, "http://%s:%u/\n", host, bound);
    printf("serving the bank at %s", url);
    fflush(stdout);
    if (c->ready_file != NULL &&
        sk_file_write_atomic(c->ready_file, (const uint8_t *)url, (size_t)n,
                             SK_FILE_PUBLIC_MODE, 0) != SK_OK) {
        fprintf(stderr, PROG ": --ready-file %s: cannot write it\n", c->ready_file);
        sk_http_unlisten(srv);
        free(w);
        return CU_EXIT_FAIL;
    }
    sk_signals_wait();
    sk_http_unlisten(srv);
    /* Nothing serves requests any more.  A worker still waiting for the share
     * server owns its session (and w): it ends with the process; without one,
     * w is freed here. */
    pthread_mutex_lock(&w->mu);
    bool busy = false;
    for (size_t i = 0; i < MAX_SESSIONS; i++)
        busy = busy || (w->sess[i].used && w->sess[i].worker);
    pthread_mutex_unlock(&w->mu);
    if (!busy) {
        pthread_mutex_destroy(&w->mu);
        sodium_memzero(w, sizeof *w);
        free(w);
    }
    return CU_EXIT_OK;
}
