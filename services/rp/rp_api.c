/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rp_api.c - the HTTPS/JSON relying-party client (rp_api.h): HTTP/1.1 over
 * mbedTLS with the server's certificate pinned by its SHA-256 (checked
 * after the handshake on every connection), the relying party's own
 * certificate presented, and jansson for the JSON.
 */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/pk.h>
#include <mbedtls/sha256.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>
#include <sodium.h>

#include "rp_api.h"
#include "splitkey/splitkey.h"

#define MAX_RESPONSE (256u * 1024u)
#define CONNECT_TIMEOUT_MS 10000u

struct rp_api {
    char host[256], port[8], base[256]; /* base: the path, ending in '/' */
    uint8_t pin[32];
    mbedtls_x509_crt own;
    mbedtls_pk_context key;
    char uuid[128], name[128];
};

static void say(char *why, size_t why_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void say(char *why, size_t why_len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, why_len, fmt, ap);
    va_end(ap);
}

static int rng(void *ctx, unsigned char *out, size_t len)
{
    (void)ctx;
    randombytes_buf(out, len);
    return 0;
}

void rp_api_vc(char code[5], const uint8_t *digest, size_t digest_len)
{
    uint8_t h[32];
    mbedtls_sha256_ret(digest, digest_len, h, 0);
    snprintf(code, 5, "%04u", (unsigned)(((unsigned)h[30] << 8 | h[31]) % 10000u));
}

int rp_api_new(rp_api **out, const rp_api_conf *c, char *why, size_t why_len)
{
    *out = NULL;
    rp_api *a = calloc(1, sizeof *a);
    if (a == NULL) {
        say(why, why_len, "out of memory");
        return 1;
    }
    mbedtls_x509_crt_init(&a->own);
    mbedtls_pk_init(&a->key);
    int rc = 2;
    /* https://HOST:PORT/PATH/ */
    const char *u = c->url;
    if (strncmp(u, "https://", 8) != 0) {
        say(why, why_len, "--api %s: use https://HOST:PORT/v2/", u);
        goto fail;
    }
    u += 8;
    const char *slash = strchr(u, '/'), *colon;
    size_t hp = slash ? (size_t)(slash - u) : strlen(u);
    colon = memchr(u, ':', hp);
    if (colon == NULL || colon == u || (size_t)(colon - u) >= sizeof a->host ||
        hp - (size_t)(colon - u) - 1 == 0 || hp - (size_t)(colon - u) - 1 >= sizeof a->port) {
        say(why, why_len, "--api %s: use https://HOST:PORT/v2/", c->url);
        goto fail;
    }
    memcpy(a->host, u, (size_t)(colon - u));
    memcpy(a->port, colon + 1, hp - (size_t)(colon - u) - 1);
    for (const char *p = a->port; *p; p++)
        if (!isdigit((unsigned char)*p)) {
            say(why, why_len, "--api %s: the port is not a number", c->url);
            goto fail;
        }
    snprintf(a->base, sizeof a->base, "%s", slash ? slash : "/");
    size_t bl = strlen(a->base);
    if (bl + 1 < sizeof a->base && a->base[bl - 1] != '/')
        strcat(a->base, "/");
    for (const char *p = a->base; *p; p++)
        if (*p <= ' ' || *p >= 127) {
            say(why, why_len, "--api %s: the path has spaces or control characters", c->url);
            goto fail;
        }
    /* the pin */
    if (c->server_cert != NULL && c->server_cert_sha256 != NULL) {
        say(why, why_len, "pin the server with one of --server-cert and --server-cert-sha256");
        goto fail;
    }
    if (c->server_cert != NULL) {
        mbedtls_x509_crt pinned;
        mbedtls_x509_crt_init(&pinned);
        int prc = mbedtls_x509_crt_parse_file(&pinned, c->server_cert);
        if (prc == 0)
            mbedtls_sha256_ret(pinned.raw.p, pinned.raw.len, a->pin, 0);
        mbedtls_x509_crt_free(&pinned);
        if (prc != 0) {
            say(why, why_len, "--server-cert %s: not a certificate file", c->server_cert);
            goto fail;
        }
    } else if (c->server_cert_sha256 != NULL) {
        size_t n = 0;
        if (strlen(c->server_cert_sha256) != 64 ||
            sodium_hex2bin(a->pin, sizeof a->pin, c->server_cert_sha256, 64, NULL, &n, NULL) !=
                0 ||
            n != 32) {
            say(why, why_len, "--server-cert-sha256: use the 64 hex digits of the server "
                              "certificate's SHA-256");
            goto fail;
        }
    } else {
        say(why, why_len, "--api needs --server-cert PINNED.pem or --server-cert-sha256 HEX");
        goto fail;
    }
    if (c->rp_cert == NULL || c->rp_key == NULL) {
        say(why, why_len, "--api needs --rp-cert CERT.pem and --rp-key KEY.pem");
        goto fail;
    }
    if (mbedtls_x509_crt_parse_file(&a->own, c->rp_cert) != 0) {
        say(why, why_len, "--rp-cert %s: not a certificate file", c->rp_cert);
        goto fail;
    }
    if (mbedtls_pk_parse_keyfile(&a->key, c->rp_key, NULL) != 0) {
        say(why, why_len, "--rp-key %s: not an unencrypted private key file", c->rp_key);
        goto fail;
    }
    if (c->uuid == NULL || strlen(c->uuid) >= sizeof a->uuid || c->name == NULL ||
        strlen(c->name) >= sizeof a->name || strlen(c->name) > 32) {
        say(why, why_len, "--api needs --rp-uuid UUID and --rp-name NAME (at most 32 bytes)");
        goto fail;
    }
    snprintf(a->uuid, sizeof a->uuid, "%s", c->uuid);
    snprintf(a->name, sizeof a->name, "%s", c->name);
    *out = a;
    return 0;
fail:
    rp_api_free(a);
    return rc;
}

void rp_api_free(rp_api *a)
{
    if (a == NULL)
        return;
    mbedtls_x509_crt_free(&a->own);
    mbedtls_pk_free(&a->key);
    sodium_memzero(a, sizeof *a);
    free(a);
}

/* One HTTPS exchange.  *status and *body (malloc'd, NUL-terminated) on
 * success (0); 1 with *why otherwise. */
static int https(rp_api *a, const char *method, const char *path, const char *body,
                 unsigned timeout_ms, unsigned *status, char **resp, char *why, size_t why_len)
{
    mbedtls_net_context net;
    mbedtls_ssl_context ssl;
    mbedtls_ssl_config conf;
    char *buf = NULL, *req = NULL;
    size_t len = 0;
    int rc = 1, r;
    *resp = NULL;
    *status = 0;
    mbedtls_net_init(&net);
    mbedtls_ssl_init(&ssl);
    mbedtls_ssl_config_init(&conf);
    if ((r = mbedtls_net_connect(&net, a->host, a->port, MBEDTLS_NET_PROTO_TCP)) != 0) {
        say(why, why_len, "cannot connect to %s:%s", a->host, a->port);
        goto out;
    }
    if (mbedtls_ssl_config_defaults(&conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                    MBEDTLS_SSL_PRESET_DEFAULT) != 0)
        goto tls_fail;
    /* the chain is not what is trusted: the pin is, checked below */
    mbedtls_ssl_conf_authmode(&conf, MBEDTLS_SSL_VERIFY_OPTIONAL);
    mbedtls_ssl_conf_rng(&conf, rng, NULL);
    mbedtls_ssl_conf_min_version(&conf, MBEDTLS_SSL_MAJOR_VERSION_3,
                                 MBEDTLS_SSL_MINOR_VERSION_3);
    mbedtls_ssl_conf_read_timeout(&conf, timeout_ms);
    if (mbedtls_ssl_conf_own_cert(&conf, &a->own, &a->key) != 0 ||
        mbedtls_ssl_setup(&ssl, &conf) != 0 || mbedtls_ssl_set_hostname(&ssl, a->host) != 0)
        goto tls_fail;
    mbedtls_ssl_set_bio(&ssl, &net, mbedtls_net_send, NULL, mbedtls_net_recv_timeout);
    while ((r = mbedtls_ssl_handshake(&ssl)) != 0) {
        if (r != MBEDTLS_ERR_SSL_WANT_READ && r != MBEDTLS_ERR_SSL_WANT_WRITE) {
            say(why, why_len, "TLS handshake with %s:%s failed (-0x%04x)", a->host, a->port,
                (unsigned)-r);
            goto out;
        }
    }
    const mbedtls_x509_crt *peer = mbedtls_ssl_get_peer_cert(&ssl);
    uint8_t h[32];
    if (peer == NULL || mbedtls_sha256_ret(peer->raw.p, peer->raw.len, h, 0) != 0 ||
        sodium_memcmp(h, a->pin, sizeof h) != 0) {
        say(why, why_len, "the server at %s:%s is not the pinned one (its certificate's "
                          "SHA-256 differs)", a->host, a->port);
        goto out;
    }
    size_t blen = body ? strlen(body) : 0;
    size_t cap = strlen(path) + strlen(a->host) + blen + 256;
    if ((req = malloc(cap)) == NULL)
        goto out;
    int n = snprintf(req, cap,
                     "%s %s HTTP/1.1\r\nHost: %s:%s\r\nAccept: application/json\r\n"
                     "Connection: close\r\n%s%zu\r\n\r\n%s",
                     method, path, a->host, a->port,
                     body ? "Content-Type: application/json\r\nContent-Length: "
                          : "Content-Length: ",
                     blen, body ? body : "");
    for (size_t off = 0; off < (size_t)n;) {
        r = mbedtls_ssl_write(&ssl, (const unsigned char *)req + off, (size_t)n - off);
        if (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE)
            continue;
        if (r <= 0) {
            say(why, why_len, "sending to %s:%s failed", a->host, a->port);
            goto out;
        }
        off += (size_t)r;
    }
    if ((buf = malloc(MAX_RESPONSE + 1)) == NULL)
        goto out;
    for (;;) {
        if (len == MAX_RESPONSE) {
            say(why, why_len, "the server's answer is too long");
            goto out;
        }
        r = mbedtls_ssl_read(&ssl, (unsigned char *)buf + len, MAX_RESPONSE - len);
        if (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE)
            continue;
        if (r == MBEDTLS_ERR_SSL_TIMEOUT) {
            say(why, why_len, "no answer from %s:%s within %u ms", a->host, a->port,
                timeout_ms);
            goto out;
        }
        if (r == 0 || r == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY || r == MBEDTLS_ERR_NET_CONN_RESET)
            break;
        if (r < 0) {
            say(why, why_len, "reading from %s:%s failed (-0x%04x)", a->host, a->port,
                (unsigned)-r);
            goto out;
        }
        len += (size_t)r;
        buf[len] = '\0';
        /* done once the headers and Content-Length bytes are in */
        char *end = strstr(buf, "\r\n\r\n");
        if (end != NULL) {
            const char *cl = NULL;
            for (char *l = strstr(buf, "\r\n"); l != NULL && l < end; l = strstr(l + 2, "\r\n"))
                if (strncasecmp(l + 2, "Content-Length:", 15) == 0)
                    cl = l + 17;
            if (cl != NULL && len >= (size_t)(end + 4 - buf) + strtoul(cl, NULL, 10))
                break;
        }
    }
    buf[len] = '\0';
    unsigned st = 0;
    char *hdr_end = strstr(buf, "\r\n\r\n");
    if (sscanf(buf, "HTTP/1.%*c %u", &st) != 1 || hdr_end == NULL) {
        say(why, why_len, "the server's answer is not HTTP");
        goto out;
    }
    *status = st;
    size_t body_len = len - (size_t)(hdr_end + 4 - buf);
    memmove(buf, hdr_end + 4, body_len);
    buf[body_len] = '\0';
    *resp = buf;
    buf = NULL;
    rc = 0;
    mbedtls_ssl_close_notify(&ssl);
    goto out;
tls_fail:
    say(why, why_len, "cannot set up TLS");
out:
    free(buf);
    free(req);
    mbedtls_ssl_free(&ssl);
    mbedtls_ssl_config_free(&conf);
    mbedtls_net_free(&net);
    return rc;
}

/* The message of an error answer: its JSON "title" and "detail" (or
 * "message"/"error"), else a generic one for the status. */
static void http_error(char *why, size_t why_len, unsigned status, const char *body)
{
    json_t *j = json_loads(body, 0, NULL);
    const char *title = NULL, *detail = NULL;
    if (j != NULL) {
        const char *keys[] = {"detail", "message", "error"};
        for (size_t i = 0; i < 3 && detail == NULL; i++)
            detail = json_string_value(json_object_get(j, keys[i]));
        title = json_string_value(json_object_get(j, "title"));
    }
    const char *generic = status == 401   ? "this relying party is not registered or its "
                                            "certificate is not the registered one"
                          : status == 403 ? "not allowed for this relying party"
                          : status == 404 ? "no such person or session"
                          : status == 471 ? "the person has no key of the requested certificate "
                                            "level"
                          : status == 472 ? "the person should look at the device"
                                          : NULL;
    const char *what = detail != NULL ? detail : generic;
    say(why, why_len, "the server answered HTTP %u%s%s%s%s%s", status, title ? " " : "",
        title ? title : "", what ? " (" : "", what ? what : "", what ? ")" : "");
    json_decref(j);
}

static void rand_hex(char *out, size_t bytes)
{
    uint8_t b[16];
    randombytes_buf(b, bytes);
    sodium_bin2hex(out, 2 * bytes + 1, b, bytes);
}

static const char *hash_name(sk_hash h)
{
    return h == SK_HASH_SHA512 ? "SHA512" : h == SK_HASH_SHA384 ? "SHA384" : "SHA256";
}

static bool path_safe(const char *s)
{
    if (s == NULL || *s == '\0' || strlen(s) > 96)
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_' && *s != '.' && *s != ':')
            return false;
    return true;
}

int rp_api_start(rp_api *a, const rp_api_create *c, char *sid, size_t sid_len, char *why,
                 size_t why_len)
{
    char b64[SK_MAX_HASH_LEN * 2], path[512];
    const char *who = c->document ? c->document : c->person;
    if (!path_safe(who)) {
        say(why, why_len, "the person id or document number has characters a URL path "
                          "cannot carry");
        return 2;
    }
    sodium_bin2base64(b64, sizeof b64, c->digest, sk_hash_len(c->hash),
                      sodium_base64_VARIANT_ORIGINAL);
    snprintf(path, sizeof path, "%s%s/%s/%s", a->base,
             c->purpose == SK_PURPOSE_AUTH ? "authentication" : "signature",
             c->document ? "document" : "etsi", who);
    /* a fresh nonce: each call is a new request, never the idempotent
     * repeat of an earlier one with the same digest (doc/rp-api.md) */
    char nonce[25];
    rand_hex(nonce, 12);
    const char *type = c->interaction ? c->interaction : "displayTextAndPIN";
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:[{s:s, s:s}]}", "relyingPartyUUID",
                          a->uuid, "relyingPartyName", a->name, "certificateLevel",
                          c->advanced ? "ADVANCED" : "QUALIFIED", "hash", b64, "hashType",
                          hash_name(c->hash), "nonce", nonce, "allowedInteractionsOrder",
                          "type", type, strncmp(type, "confirmationMessage", 19) == 0
                                            ? "displayText200"
                                            : "displayText60",
                          c->text ? c->text : "");
    char *body = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (body == NULL) {
        say(why, why_len, "cannot encode the request (is --text valid UTF-8?)");
        return 2;
    }
    unsigned status;
    char *resp = NULL;
    int rc = https(a, "POST", path, body, CONNECT_TIMEOUT_MS + 10000u, &status, &resp, why,
                   why_len);
    free(body);
    if (rc != 0)
        return 1;
    if (status != 200) {
        http_error(why, why_len, status, resp);
        free(resp);
        return status == 472 ? 4 : 1; /* the account needs the person's attention */
    }
    json_t *r = json_loads(resp, 0, NULL);
    const char *s = json_string_value(json_object_get(r, "sessionID"));
    rc = 1;
    if (s == NULL || !path_safe(s) || strlen(s) >= sid_len) {
        say(why, why_len, "the server's answer has no usable sessionID");
    } else {
        snprintf(sid, sid_len, "%s", s);
        rc = 0;
    }
    json_decref(r);
    free(resp);
    return rc;
}

static void copy_str(char *out, size_t cap, json_t *v)
{
    const char *s = json_string_value(v);
    snprintf(out, cap, "%s", s ? s : "");
}

int rp_api_poll(rp_api *a, const char *sid, unsigned wait_ms, rp_api_result *r, char *why,
                size_t why_len)
{
    char path[512];
    memset(r, 0, sizeof *r);
    if (wait_ms < 1000)
        wait_ms = 1000;
    snprintf(path, sizeof path, "%ssession/%s?timeoutMs=%u", a->base, sid, wait_ms);
    unsigned status;
    char *resp = NULL;
    if (https(a, "GET", path, NULL, wait_ms + CONNECT_TIMEOUT_MS, &status, &resp, why,
              why_len) != 0)
        return 1;
    if (status != 200) {
        http_error(why, why_len, status, resp);
        free(resp);
        return status == 404 ? 6 : 1;
    }
    json_t *j = json_loads(resp, 0, NULL);
    free(resp);
    int rc = 1;
    const char *state = json_string_value(json_object_get(j, "state"));
    if (state == NULL) {
        say(why, why_len, "the server's answer has no state");
        goto out;
    }
    if (strcmp(state, "COMPLETE") != 0) {
        rc = 0; /* RUNNING */
        goto out;
    }
    r->complete = true;
    json_t *res = json_object_get(j, "result");
    copy_str(r->end_result, sizeof r->end_result, json_object_get(res, "endResult"));
    copy_str(r->document, sizeof r->document, json_object_get(res, "documentNumber"));
    copy_str(r->interaction, sizeof r->interaction, json_object_get(j, "interactionFlowUsed"));
    if (r->end_result[0] == '\0') {
        say(why, why_len, "the server's answer has no endResult");
        goto out;
    }
    if (strcmp(r->end_result, "OK") != 0) {
        rc = 0;
        goto out;
    }
    json_t *sig = json_object_get(j, "signature"), *cert = json_object_get(j, "cert");
    const char *sv = json_string_value(json_object_get(sig, "value"));
    const char *alg = json_string_value(json_object_get(sig, "algorithm"));
    const char *cv = json_string_value(json_object_get(cert, "value"));
    copy_str(r->level, sizeof r->level, json_object_get(cert, "certificateLevel"));
    /* a server without a CA has no certificate to send (cert_len 0): the
     * caller decides whether it can do without one */
    if (sv == NULL || alg == NULL ||
        sodium_base642bin(r->sig, sizeof r->sig, sv, strlen(sv), NULL, &r->sig_len, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        (cv != NULL &&
         sodium_base642bin(r->cert, sizeof r->cert, cv, strlen(cv), NULL, &r->cert_len, NULL,
                           sodium_base64_VARIANT_ORIGINAL) != 0)) {
        say(why, why_len, "the server's OK answer lacks a usable signature or has an "
                          "undecodable certificate");
        goto out;
    }
    /* sha256WithRSAEncryption (PKCS#1 v1.5) or an RSASSA-PSS name */
    r->sig_hash = strncasecmp(alg, "sha512", 6) == 0   ? SK_HASH_SHA512
                  : strncasecmp(alg, "sha384", 6) == 0 ? SK_HASH_SHA384
                                                       : SK_HASH_SHA256;
    r->scheme = strstr(alg, "PSS") || strstr(alg, "pss") ? SK_SCHEME_PSS : SK_SCHEME_PKCS1;
    rc = 0;
out:
    json_decref(j);
    return rc;
}

int rp_api_end_exit(const char *end_result, const char **what)
{
    static const struct {
        const char *name, *what;
        int exit_code;
    } map[] = {
        {"USER_REFUSED", "the person refused", 6},
        {"USER_REFUSED_DISPLAYTEXTANDPIN", "the person refused (at the PIN)", 6},
        {"USER_REFUSED_VC_CHOICE", "the person refused (at the code choice)", 6},
        {"USER_REFUSED_CONFIRMATIONMESSAGE", "the person refused (at the confirmation)", 6},
        {"USER_REFUSED_CONFIRMATIONMESSAGE_WITH_VC_CHOICE",
         "the person refused (at the confirmation and code choice)", 6},
        {"USER_REFUSED_CERT_CHOICE", "the person refused (at the account choice)", 6},
        {"TIMEOUT", "the person did not answer in time", 6},
        {"WRONG_VC", "the person picked a wrong verification code", 6},
        {"REQUIRED_INTERACTION_NOT_SUPPORTED_BY_APP",
         "the person's device cannot show the interaction asked for", 6},
        {"DOCUMENT_UNUSABLE", "the person's key cannot be used (locked, destroyed or revoked)",
         5},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(end_result, map[i].name) == 0) {
            *what = map[i].what;
            return map[i].exit_code;
        }
    *what = "the session ended without a signature";
    return 1;
}
