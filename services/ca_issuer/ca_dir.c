/* SPDX-License-Identifier: Apache-2.0 */
/* ca_dir.c - loading the CA directory: configuration, keys, certificate,
 * database, and the audit log check. */
#define _POSIX_C_SOURCE 200809L
#include "ca_dir.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fileio.h"
#include "splitkey/splitkey.h"
#include "svc_error.h"
#include "svc_hex.h"

#define CA_KEY_FILE_MAX (64u * 1024u)
#define CA_CERT_FILE_MAX (64u * 1024u)
#define CA_AUDIT_MAX ((size_t)1 << 30)

static void conf_table(ca_conf_file *f)
{
    ca_conf *c = &f->conf;
    const sk_opt opts[CA_CONF_NOPTS] = {
        {.name = "ocsp-url", .type = SK_OPT_STRING, .value = &c->ocsp_url,
         .flags = SK_OPT_REQUIRED, .help = "OCSP URL in every certificate's AIA"},
        {.name = "ca-url", .type = SK_OPT_STRING, .value = &c->ca_url, .flags = SK_OPT_REQUIRED,
         .help = "CA certificate URL (AIA caIssuers)"},
        {.name = "crl-url", .type = SK_OPT_STRING, .value = &c->crl_url,
         .help = "CRL distribution point"},
        {.name = "policy-oid", .type = SK_OPT_STRING, .value = &c->policy_oid,
         .help = "the operator's certificate policy OID"},
        {.name = "pds-url", .type = SK_OPT_STRING, .value = &c->pds_url,
         .help = "PKI disclosure statement URL (QcPDS)"},
        {.name = "pds-lang", .type = SK_OPT_STRING, .value = &c->pds_lang,
         .help = "PDS language, two letters"},
        {.name = "validity-days", .type = SK_OPT_UINT, .value = &c->validity_days, .min = 1,
         .max = 36500, .help = "person certificate validity"},
        {.name = "crl-days", .type = SK_OPT_UINT, .value = &c->crl_days, .min = 1,
         .max = CA_MAX_CRL_DAYS, .help = "CRL lifetime (nextUpdate - thisUpdate), days"},
        {.name = "listen", .type = SK_OPT_URL, .value = &c->listen,
         .help = "default listen URL for run"},
        {0},
    };
    memcpy(f->opts, opts, sizeof opts);
}

/* ------------------------------------------------------------- URLs */

static bool url_char_ok(char c) { return c > 0x20 && c < 0x7f; }

static const char *url_why(ca_url_kind kind)
{
    switch (kind) {
    case CA_URL_OCSP:
    case CA_URL_CA:
    case CA_URL_CRL:
        return "RFC 5280 and ETSI EN 319 411-1 want OCSP, CA certificate and CRL locations "
               "over plain http: fetching them over https would need a certificate check to "
               "check a certificate";
    default:
        return "ETSI EN 319 412-5 wants the PKI disclosure statement at an https URL";
    }
}

static const char *url_example(ca_url_kind kind)
{
    switch (kind) {
    case CA_URL_OCSP: return "http://ocsp.example.org/";
    case CA_URL_CA: return "http://pki.example.org/ca.crt";
    case CA_URL_CRL: return "http://pki.example.org/ca.crl";
    default: return "https://pki.example.org/pds_en.pdf";
    }
}

/* Where the authority (host and port) of an absolute URL ends, after the
 * scheme's "://" (NULL when the URL does not start with scheme://). */
static const char *url_after_scheme(const char *url, const char *scheme)
{
    size_t n = strlen(scheme);
    if (strncasecmp(url, scheme, n) != 0 || strncmp(url + n, "://", 3) != 0)
        return NULL;
    return url + n + 3;
}

int ca_check_url(const char *url, ca_url_kind kind, const char *what, char *err,
                 size_t err_len)
{
    const char *scheme = kind == CA_URL_PDS ? "https" : "http";
    const char *problem = NULL;
    size_t len = url ? strlen(url) : 0;
    const char *a = url ? url_after_scheme(url, scheme) : NULL;
    if (url == NULL || len == 0) {
        problem = "empty";
    } else if (len > 512) {
        problem = "longer than 512 bytes";
    } else {
        for (size_t i = 0; i < len && problem == NULL; i++)
            if (!url_char_ok(url[i]))
                problem = "contains a space, a control character or non-ASCII text";
    }
    if (problem == NULL && a == NULL)
        problem = kind == CA_URL_PDS ? "not an https:// URL" : "not an http:// URL";
    if (problem == NULL) {
        size_t alen = strcspn(a, "/?#");
        const char *host = a, *hend, *port = NULL;
        if (memchr(a, '@', alen) != NULL) {
            problem = "has a user name; a published URL has none";
        } else if (a[alen] == '#') {
            problem = "has a fragment (#...)";
        } else if (alen > 0 && a[0] == '[') {
            hend = memchr(a, ']', alen);
            if (hend == NULL || hend == a + 1)
                problem = "has no host";
            else if (hend + 1 < a + alen && hend[1] != ':')
                problem = "has something after the IPv6 address";
            else if (hend + 1 < a + alen)
                port = hend + 2;
        } else {
            hend = memchr(a, ':', alen);
            if (hend == NULL)
                hend = a + alen;
            else
                port = hend + 1;
            if (hend == host)
                problem = "has no host";
            for (const char *p = host; problem == NULL && p < hend; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                      (*p >= '0' && *p <= '9') || *p == '-' || *p == '.'))
                    problem = "has a host name with characters other than letters, digits, "
                              "'-' and '.'";
        }
        if (problem == NULL && port != NULL) {
            unsigned long v = 0;
            const char *p = port;
            while (p < a + alen && *p >= '0' && *p <= '9' && v <= 65535)
                v = v * 10 + (unsigned long)(*p++ - '0');
            if (p == port || p != a + alen || v == 0 || v > 65535)
                problem = "has a bad port";
        }
        if (problem == NULL && strchr(a, '#') != NULL)
            problem = "has a fragment (#...)";
    }
    if (problem == NULL)
        return SK_OK;
    snprintf(err, err_len, "%s %s: %s; give an absolute %s:// URL with a host, e.g. %s "
                           "(%s)",
             what, url ? url : "", problem, scheme, url_example(kind), url_why(kind));
    return SK_SVC_ERR_CONFIG;
}

int ca_url_path(char *out, size_t cap, const char *url)
{
    const char *a = strstr(url, "://");
    a = a ? a + 3 : url;
    const char *p = a + strcspn(a, "/?#");
    size_t n = *p == '/' ? strcspn(p, "?#") : 0;
    if (n == 0) {
        p = "/";
        n = 1;
    }
    if (n + 1 > cap)
        return SK_ERR_BUFFER_TOO_SMALL;
    memcpy(out, p, n);
    out[n] = '\0';
    return SK_OK;
}

int ca_check_lang(char *lang, const char *what, char *err, size_t err_len)
{
    bool ok = lang != NULL && strlen(lang) == 2;
    for (int i = 0; ok && i < 2; i++) {
        char c = lang[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        ok = c >= 'a' && c <= 'z';
        lang[i] = ok ? c : lang[i];
    }
    if (ok)
        return SK_OK;
    snprintf(err, err_len, "%s %s: not a language code; give the two letters of ISO 639-1, "
                           "e.g. en or lv (either case; written in lower case)",
             what, lang ? lang : "");
    return SK_SVC_ERR_CONFIG;
}

/* ------------------------------------------------------------ ca.conf */

/* The URL and language checks of ca.conf, with FILE: in front. */
static int conf_check(ca_conf *c, const char *path, char *err, size_t err_len)
{
    char what[600];
    struct {
        const char *key, *url;
        ca_url_kind kind;
    } urls[] = {
        {"ocsp-url", c->ocsp_url, CA_URL_OCSP},
        {"ca-url", c->ca_url, CA_URL_CA},
        {"crl-url", c->crl_url, CA_URL_CRL},
        {"pds-url", c->pds_url, CA_URL_PDS},
    };
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
        if (urls[i].url == NULL)
            continue;
        snprintf(what, sizeof what, "%s: %s", path, urls[i].key);
        if (ca_check_url(urls[i].url, urls[i].kind, what, err, err_len) != SK_OK)
            return SK_SVC_ERR_CONFIG;
    }
    snprintf(what, sizeof what, "%s: pds-lang", path);
    if (c->pds_lang != NULL && ca_check_lang(c->pds_lang, what, err, err_len) != SK_OK)
        return SK_SVC_ERR_CONFIG;
    return SK_OK;
}

int ca_conf_load(ca_conf_file *f, const char *dir, char *err, size_t err_len)
{
    memset(f, 0, sizeof *f);
    f->conf.validity_days = 1095;
    f->conf.crl_days = CA_DEFAULT_CRL_DAYS;
    conf_table(f);
    char *path = sk_path_join(dir, CA_FILE_CONF);
    if (path == NULL)
        return SK_ERR_NOMEM;
    int rc;
    if (!sk_path_exists(path)) {
        snprintf(err, err_len, "%s: missing; is %s a CA directory made by 'splitkey-ca init'?",
                 path, dir);
        rc = SK_SVC_ERR_CONFIG;
    } else {
        rc = sk_config_parse_file(f->opts, path, err, err_len);
        if (rc == SK_OK)
            rc = sk_config_validate(f->opts, err, err_len);
        if (rc == SK_OK)
            rc = conf_check(&f->conf, path, err, err_len);
    }
    free(path);
    return rc;
}

void ca_conf_free(ca_conf_file *f)
{
    if (f->opts[0].name != NULL)
        sk_config_free(f->opts);
    memset(f, 0, sizeof *f);
}

int ca_load_key(sk_ca_key **key, const char *path, char *err, size_t err_len)
{
    uint8_t *data = NULL;
    size_t len = 0;
    *key = NULL;
    int rc = sk_file_read(&data, &len, path, CA_KEY_FILE_MAX, SK_FILE_SECRET);
    if (rc == SK_SVC_ERR_PERM) {
        snprintf(err, err_len, "%s: readable by group or others; chmod 600 it", path);
        return SK_SVC_ERR_CONFIG;
    }
    if (rc != SK_OK) {
        snprintf(err, err_len, "%s: %s", path, sk_svc_strerror(rc));
        return SK_SVC_ERR_CONFIG;
    }
    rc = sk_ca_key_import(key, data, len);
    sk_file_free(data, len);
    if (rc != SK_OK) {
        snprintf(err, err_len, "%s: not a usable private key (%s)", path, sk_strerror(rc));
        return SK_SVC_ERR_CONFIG;
    }
    return SK_OK;
}

int ca_ctx_load(ca_ctx *c, const char *dir, char *err, size_t err_len)
{
    memset(c, 0, sizeof *c);
    pthread_mutex_init(&c->sign_mu, NULL);
    uint8_t *cert = NULL;
    size_t cert_len = 0;
    char *p = NULL;
    int rc = SK_ERR_NOMEM;
    c->dir = strdup(dir);
    c->audit_path = sk_path_join(dir, CA_FILE_AUDIT);
    if (c->dir == NULL || c->audit_path == NULL)
        goto out;
    if ((rc = ca_conf_load(&c->conf, dir, err, err_len)) != SK_OK)
        goto out;
    rc = SK_ERR_NOMEM;
    if ((p = sk_path_join(dir, CA_FILE_KEY)) == NULL)
        goto out;
    if ((rc = ca_load_key(&c->key, p, err, err_len)) != SK_OK)
        goto out;
    free(p);
    rc = SK_ERR_NOMEM;
    if ((p = sk_path_join(dir, CA_FILE_CERT)) == NULL)
        goto out;
    rc = sk_file_read(&cert, &cert_len, p, CA_CERT_FILE_MAX, 0);
    if (rc != SK_OK) {
        snprintf(err, err_len, "%s: %s", p, sk_svc_strerror(rc));
        rc = SK_SVC_ERR_CONFIG;
        goto out;
    }
    const ca_conf *cf = &c->conf.conf;
    sk_ca_config cc = {
        .ocsp_url = cf->ocsp_url,
        .ca_issuers_url = cf->ca_url,
        .crl_url = cf->crl_url,
        .policy_oid = cf->policy_oid,
        .pds_url = cf->pds_url,
        .pds_lang = cf->pds_lang,
        .validity_days = cf->validity_days,
    };
    rc = sk_ca_new(&c->ca, cert, cert_len, c->key, &cc);
    if (rc != SK_OK) {
        snprintf(err, err_len, "%s with %s and %s/" CA_FILE_CONF ": %s", p, CA_FILE_KEY, dir,
                 rc == SK_ERR_CERT ? "not a CA certificate for this key"
                                   : "bad configuration (URLs, policy OID or PDS language)");
        rc = SK_SVC_ERR_CONFIG;
        goto out;
    }
    c->cert_der = (uint8_t *)sk_ca_cert_der(c->ca, &c->cert_len);
    free(p);
    rc = SK_ERR_NOMEM;
    if ((p = sk_path_join(dir, CA_FILE_DB)) == NULL)
        goto out;
    rc = ca_store_open(&c->store, p, c->audit_path, 0);
    if (rc != SK_OK) {
        snprintf(err, err_len, "%s: cannot open the certificate database: %s", p,
                 sk_svc_strerror(rc));
        if (rc == SK_ERR_NOT_FOUND)
            rc = SK_SVC_ERR_CONFIG;
        goto out;
    }
out:
    free(p);
    sk_file_free(cert, cert_len);
    if (rc != SK_OK)
        ca_ctx_free(c); /* wipes the key if it was loaded */
    return rc;
}

void ca_ctx_free(ca_ctx *c)
{
    ca_store_close(c->store);
    sk_ca_free(c->ca);
    sk_ca_key_free(c->key);
    ca_conf_free(&c->conf);
    free(c->dir);
    free(c->audit_path);
    pthread_mutex_destroy(&c->sign_mu);
    memset(c, 0, sizeof *c);
}

int ca_audit_check(ca_store *store, const char *audit_path, char *err, size_t err_len)
{
    uint8_t *log = NULL;
    size_t len = 0;
    int rc = sk_file_read(&log, &len, audit_path, CA_AUDIT_MAX, 0);
    if (rc != SK_OK) {
        snprintf(err, err_len, "%s: %s", audit_path, sk_svc_strerror(rc));
        return rc == SK_ERR_NOT_FOUND ? SK_ERR_AUDIT : rc;
    }
    size_t bad = 0;
    uint8_t head[SK_AUDIT_HASH_LEN], dbhead[SK_AUDIT_HASH_LEN];
    uint64_t count = 0, dbcount = 0;
    rc = sk_audit_verify(&bad, head, &count, (const char *)log, len);
    if (rc != SK_OK) {
        /* show the offending line (audit lines hold no secrets) */
        const char *l = (const char *)log;
        for (size_t i = 1; i < bad && l != NULL; i++) {
            l = memchr(l, '\n', len - (size_t)(l - (const char *)log));
            if (l != NULL)
                l++;
        }
        int n = 0;
        if (l != NULL && (size_t)(l - (const char *)log) < len) {
            const char *e = memchr(l, '\n', len - (size_t)(l - (const char *)log));
            n = (int)(e ? e - l : (const char *)log + len - l);
            if (n > 200)
                n = 200;
        }
        snprintf(err, err_len, "%s: line %zu is bad: %.*s", audit_path, bad, n, l ? l : "");
        sk_file_free(log, len);
        return SK_ERR_AUDIT;
    }
    sk_file_free(log, len);
    rc = ca_store_audit_head(store, dbhead, &dbcount);
    if (rc != SK_OK) {
        snprintf(err, err_len, "cannot read the audit head from the database: %s",
                 sk_strerror(rc));
        return rc;
    }
    if (count != dbcount) {
        snprintf(err, err_len,
                 "%s: %llu entries, but the database recorded %llu (%s)", audit_path,
                 (unsigned long long)count, (unsigned long long)dbcount,
                 count < dbcount ? "entries were cut off the end"
                                 : "entries were added outside the CA, or a commit failed");
        return SK_ERR_AUDIT;
    }
    if (memcmp(head, dbhead, SK_AUDIT_HASH_LEN) != 0) {
        char a[2 * SK_AUDIT_HASH_LEN + 1], b[2 * SK_AUDIT_HASH_LEN + 1];
        sk_svc_hex(a, head, SK_AUDIT_HASH_LEN);
        sk_svc_hex(b, dbhead, SK_AUDIT_HASH_LEN);
        snprintf(err, err_len, "%s: last hash %s differs from the database's %s", audit_path, a,
                 b);
        return SK_ERR_AUDIT;
    }
    snprintf(err, err_len, "%s: %llu entries, chain and database head agree", audit_path,
             (unsigned long long)count);
    return SK_OK;
}
