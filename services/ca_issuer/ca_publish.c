/* SPDX-License-Identifier: Apache-2.0 */
/* ca_publish.c - the CRL kept current in DIR/crl.der, and the HTTP server of
 * "splitkey-ca serve" that publishes it with the CA certificate. */
#define _POSIX_C_SOURCE 200809L
#include "ca_publish.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/supplemental/http/http.h>

#include "fileio.h"
#include "http_listen.h"
#include "log.h"
#include "splitkey/splitkey.h"
#include "svc_error.h"

#define CA_CRL_FILE_MAX (64u * 1024u * 1024u)

/* ------------------------------------------------------ reading a CRL */

typedef struct der_rd {
    const uint8_t *p, *end;
} der_rd;

/* One TLV with a one-byte tag; *val and *len its contents. */
static bool der_next(der_rd *r, uint8_t *tag, der_rd *val)
{
    if (r->end - r->p < 2)
        return false;
    uint8_t t = r->p[0];
    size_t avail = (size_t)(r->end - r->p) - 2, len = r->p[1];
    const uint8_t *v = r->p + 2;
    if ((t & 0x1f) == 0x1f)
        return false; /* high tag numbers: not in a CRL */
    if (len & 0x80) {
        size_t n = len & 0x7f;
        if (n == 0 || n > 4 || n > avail)
            return false;
        len = 0;
        for (size_t i = 0; i < n; i++)
            len = (len << 8) | v[i];
        v += n;
        avail -= n;
    }
    if (len > avail)
        return false;
    *tag = t;
    val->p = v;
    val->end = v + len;
    r->p = v + len;
    return true;
}

static bool der_expect(der_rd *r, uint8_t tag, der_rd *val)
{
    uint8_t t;
    der_rd save = *r;
    if (der_next(r, &t, val) && t == tag)
        return true;
    *r = save;
    return false;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static bool digits(const uint8_t *p, size_t n, unsigned *out)
{
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        v = v * 10 + (unsigned)(p[i] - '0');
    }
    *out = v;
    return true;
}

/* UTCTime YYMMDDHHMMSSZ or GeneralizedTime YYYYMMDDHHMMSSZ. */
static bool der_time(uint8_t tag, const der_rd *v, int64_t *t)
{
    size_t n = (size_t)(v->end - v->p);
    const uint8_t *p = v->p;
    unsigned y, mo, d, h, mi, s;
    if (tag == 0x17 && n == 13 && p[12] == 'Z' && digits(p, 2, &y)) {
        y += y < 50 ? 2000 : 1900;
        p += 2;
    } else if (tag == 0x18 && n == 15 && p[14] == 'Z' && digits(p, 4, &y)) {
        p += 4;
    } else {
        return false;
    }
    if (!digits(p, 2, &mo) || !digits(p + 2, 2, &d) || !digits(p + 4, 2, &h) ||
        !digits(p + 6, 2, &mi) || !digits(p + 8, 2, &s) || mo < 1 || mo > 12 || d < 1 ||
        d > 31 || h > 23 || mi > 59 || s > 60)
        return false;
    *t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
    return true;
}

int ca_crl_read(const uint8_t *der, size_t len, ca_crl_info *info)
{
    memset(info, 0, sizeof *info);
    der_rd all = {der, der + len}, list, tbs, v;
    uint8_t tag;
    if (!der_expect(&all, 0x30, &list) || all.p != all.end || !der_expect(&list, 0x30, &tbs))
        return SK_ERR_DER;
    (void)der_expect(&tbs, 0x02, &v); /* version */
    if (!der_expect(&tbs, 0x30, &v) || !der_expect(&tbs, 0x30, &v)) /* signature, issuer */
        return SK_ERR_DER;
    if (!der_next(&tbs, &tag, &v) || !der_time(tag, &v, &info->this_update))
        return SK_ERR_DER;
    der_rd save = tbs;
    if (der_next(&tbs, &tag, &v) && (tag == 0x17 || tag == 0x18)) {
        if (!der_time(tag, &v, &info->next_update))
            return SK_ERR_DER;
    } else {
        tbs = save;
    }
    der_rd revoked;
    if (der_expect(&tbs, 0x30, &revoked)) {
        der_rd entry;
        while (revoked.p < revoked.end) {
            if (!der_expect(&revoked, 0x30, &entry))
                return SK_ERR_DER;
            info->count++;
        }
    }
    der_rd exts, ext_list, ext;
    if (der_expect(&tbs, 0xa0, &exts)) {
        if (!der_expect(&exts, 0x30, &ext_list))
            return SK_ERR_DER;
        static const uint8_t crl_number_oid[] = {0x55, 0x1d, 0x14}; /* 2.5.29.20 */
        while (ext_list.p < ext_list.end) {
            der_rd oid, crit, oct, num;
            if (!der_expect(&ext_list, 0x30, &ext) || !der_expect(&ext, 0x06, &oid))
                return SK_ERR_DER;
            (void)der_expect(&ext, 0x01, &crit);
            if (!der_expect(&ext, 0x04, &oct))
                return SK_ERR_DER;
            if ((size_t)(oid.end - oid.p) == sizeof crl_number_oid &&
                memcmp(oid.p, crl_number_oid, sizeof crl_number_oid) == 0 &&
                der_expect(&oct, 0x02, &num) && num.end - num.p <= 9 && num.end > num.p) {
                uint64_t n = 0;
                for (const uint8_t *q = num.p; q < num.end; q++)
                    n = (n << 8) | *q;
                info->number = n;
            }
        }
    }
    return tbs.p == tbs.end ? SK_OK : SK_ERR_DER;
}

/* ------------------------------------------------------ making a CRL */

int ca_crl_make(ca_ctx *ca, unsigned days, int64_t now, uint8_t **der, size_t *len,
                uint64_t *number, size_t *count)
{
    *der = NULL;
    *len = 0;
    sk_crl_entry *entries = NULL;
    size_t n = 0, cap, w = 0;
    uint64_t num = 0;
    int rc = ca_store_crl_snapshot(ca->store, &num, &entries, &n);
    if (rc != SK_OK)
        return rc;
    int64_t next = now + (int64_t)days * 86400;
    cap = 4096 + n * 64;
    uint8_t *buf = malloc(cap);
    rc = buf ? SK_OK : SK_ERR_NOMEM;
    if (rc == SK_OK) {
        pthread_mutex_lock(&ca->sign_mu);
        rc = sk_ca_crl(ca->ca, buf, cap, &w, entries, n, num, now, next);
        if (rc == SK_ERR_BUFFER_TOO_SMALL && w > cap) { /* w is the size needed */
            uint8_t *bigger = realloc(buf, w);
            rc = SK_ERR_NOMEM;
            if (bigger != NULL) {
                buf = bigger;
                cap = w;
                rc = sk_ca_crl(ca->ca, buf, cap, &w, entries, n, num, now, next);
            }
        }
        pthread_mutex_unlock(&ca->sign_mu);
    }
    free(entries);
    if (rc != SK_OK) {
        free(buf);
        return rc;
    }
    *der = buf;
    *len = w;
    if (number != NULL)
        *number = num;
    if (count != NULL)
        *count = n;
    return SK_OK;
}

/* Opens and locks DIR/crl.lock; returns the descriptor or -1. */
static int crl_lock(const char *dir)
{
    char *path = sk_path_join(dir, CA_FILE_CRL_LOCK);
    if (path == NULL)
        return -1;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    free(path);
    if (fd < 0)
        return -1;
    while (flock(fd, LOCK_EX) != 0) {
        if (errno != EINTR) {
            close(fd);
            return -1;
        }
    }
    return fd;
}

int ca_crl_publish(ca_ctx *ca, unsigned days, uint64_t *number, size_t *count, char *err,
                   size_t err_len)
{
    char *path = sk_path_join(ca->dir, CA_FILE_CRL);
    if (path == NULL)
        return SK_ERR_NOMEM;
    int fd = crl_lock(ca->dir);
    if (fd < 0) {
        snprintf(err, err_len, "%s/%s: cannot lock: %s", ca->dir, CA_FILE_CRL_LOCK,
                 strerror(errno));
        free(path);
        return SK_SVC_ERR_IO;
    }
    uint8_t *der = NULL;
    size_t len = 0;
    int rc = ca_crl_make(ca, days, (int64_t)time(NULL), &der, &len, number, count);
    if (rc != SK_OK) {
        snprintf(err, err_len, "cannot make the CRL: %s", sk_svc_strerror(rc));
    } else {
        rc = sk_file_write_atomic(path, der, len, SK_FILE_PUBLIC_MODE, 0);
        if (rc != SK_OK)
            snprintf(err, err_len, "cannot write %s: %s (%s)", path, sk_svc_strerror(rc),
                     strerror(errno));
    }
    close(fd); /* releases the lock */
    free(der);
    free(path);
    return rc;
}

const char *ca_crl_due(ca_ctx *ca, unsigned days, unsigned refresh_secs, int64_t now)
{
    char *path = sk_path_join(ca->dir, CA_FILE_CRL);
    if (path == NULL)
        return "out of memory";
    uint8_t *der = NULL;
    size_t len = 0;
    int rc = sk_file_read(&der, &len, path, CA_CRL_FILE_MAX, 0);
    free(path);
    if (rc == SK_ERR_NOT_FOUND)
        return "there is none yet";
    if (rc != SK_OK)
        return "it cannot be read";
    ca_crl_info info;
    rc = ca_crl_read(der, len, &info);
    sk_file_free(der, len);
    if (rc != SK_OK || info.next_update == 0)
        return "it is not a CRL with a nextUpdate";
    uint64_t issued = 0, revoked = 0;
    if (ca_store_counts(ca->store, &issued, &revoked) == SK_OK && info.count < revoked)
        return "a revocation is not in it yet";
    int64_t lifetime = (int64_t)days * 86400;
    if ((info.next_update - now) * 2 < lifetime)
        return "less than half of its lifetime is left";
    if (refresh_secs > 0 && now - info.this_update >= (int64_t)refresh_secs)
        return "it is older than --crl-refresh-seconds";
    return NULL;
}

int ca_crl_refresh(ca_ctx *ca, unsigned days, unsigned refresh_secs)
{
    const char *why = ca_crl_due(ca, days, refresh_secs, (int64_t)time(NULL));
    if (why == NULL)
        return SK_OK;
    char err[600] = "";
    uint64_t number = 0;
    size_t count = 0;
    int rc = ca_crl_publish(ca, days, &number, &count, err, sizeof err);
    if (rc == SK_OK)
        sk_log_notice("CRL %llu with %zu revoked certificates published to %s/%s "
                      "(nextUpdate in %u days; reissued because %s)",
                      (unsigned long long)number, count, ca->dir, CA_FILE_CRL, days, why);
    else
        sk_log_error("CRL not published: %s (needed because %s; retrying at the next check)",
                     err, why);
    return rc;
}

/* ------------------------------------------------------ the scheduler */

struct ca_crl_scheduler {
    ca_ctx *ca;
    unsigned days, refresh_secs;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    bool stop;
};

unsigned ca_crl_check_secs(unsigned refresh_secs)
{
    unsigned every = CA_CRL_CHECK_SECS;
    if (refresh_secs > 0 && refresh_secs / 2 < every)
        every = refresh_secs / 2;
    return every ? every : 1;
}

static void *scheduler_main(void *arg)
{
    ca_crl_scheduler *s = arg;
    unsigned every = ca_crl_check_secs(s->refresh_secs);
    pthread_mutex_lock(&s->mu);
    while (!s->stop) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += (time_t)every;
        while (!s->stop && pthread_cond_timedwait(&s->cond, &s->mu, &until) != ETIMEDOUT) {
        }
        if (s->stop)
            break;
        pthread_mutex_unlock(&s->mu);
        (void)ca_crl_refresh(s->ca, s->days, s->refresh_secs);
        pthread_mutex_lock(&s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

int ca_crl_scheduler_start(ca_crl_scheduler **out, ca_ctx *ca, unsigned days,
                           unsigned refresh_secs)
{
    *out = NULL;
    ca_crl_scheduler *s = calloc(1, sizeof *s);
    if (s == NULL)
        return SK_ERR_NOMEM;
    s->ca = ca;
    s->days = days;
    s->refresh_secs = refresh_secs;
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cond, &attr);
    pthread_condattr_destroy(&attr);
    pthread_mutex_init(&s->mu, NULL);
    if (pthread_create(&s->thread, NULL, scheduler_main, s) != 0) {
        pthread_cond_destroy(&s->cond);
        pthread_mutex_destroy(&s->mu);
        free(s);
        return SK_ERR_INTERNAL;
    }
    *out = s;
    return SK_OK;
}

void ca_crl_scheduler_stop(ca_crl_scheduler *s)
{
    if (s == NULL)
        return;
    pthread_mutex_lock(&s->mu);
    s->stop = true;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->thread, NULL);
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

/* ------------------------------------------------------ HTTP */

#define CA_HTTP_PATH_MAX 512u

struct ca_http {
    ca_ctx *ca;
    nng_http_server *server;
    char ca_path[CA_HTTP_PATH_MAX + 1];
    char crl_path[CA_HTTP_PATH_MAX + 1]; /* "" when no crl-url */
    char *crl_file;
    int64_t ca_mtime;
    char url[300];
};

/* A response with the Date header, a text or DER body. */
static nng_http_res *response(uint16_t status, const char *type, const void *body, size_t len,
                              int64_t now)
{
    nng_http_res *res = NULL;
    char d[64];
    sk_http_date(d, sizeof d, now);
    int rv = nng_http_res_alloc(&res);
    if (rv == 0)
        rv = nng_http_res_set_status(res, status);
    if (rv == 0)
        rv = nng_http_res_set_header(res, "Content-Type", type);
    if (rv == 0)
        rv = nng_http_res_set_header(res, "Date", d);
    if (rv == 0 && len > 0)
        rv = nng_http_res_copy_data(res, body, len);
    if (rv != 0 && res != NULL) {
        nng_http_res_free(res);
        res = NULL;
    }
    return res;
}

static bool path_is(const char *uri, size_t len, const char *path)
{
    return path[0] != '\0' && strlen(path) == len && memcmp(uri, path, len) == 0;
}

static void http_handle(nng_aio *aio)
{
    uint64_t t0 = sk_clock_us();
    nng_http_req *req = nng_aio_get_input(aio, 0);
    nng_http_handler *hd = nng_aio_get_input(aio, 1);
    ca_http *h = nng_http_handler_get_data(hd);
    const char *method = nng_http_req_get_method(req);
    const char *uri = nng_http_req_get_uri(req);
    size_t plen = strcspn(uri, "?#");
    int64_t now = (int64_t)time(NULL);
    static const char text[] = "text/plain; charset=utf-8";
    nng_http_res *res = NULL;
    const char *what = "-";
    unsigned status = 0;
    size_t bytes = 0;
    bool is_ca = path_is(uri, plen, h->ca_path), is_crl = path_is(uri, plen, h->crl_path);
    char d[64];

    if (!is_ca && !is_crl) {
        static const char msg[] = "not found: this server publishes the CA certificate and "
                                  "its CRL only\n";
        status = NNG_HTTP_STATUS_NOT_FOUND;
        res = response(NNG_HTTP_STATUS_NOT_FOUND, text, msg, sizeof msg - 1, now);
    } else if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        static const char msg[] = "method not allowed: use GET\n";
        what = is_ca ? "ca" : "crl";
        status = NNG_HTTP_STATUS_METHOD_NOT_ALLOWED;
        res = response(NNG_HTTP_STATUS_METHOD_NOT_ALLOWED, text, msg, sizeof msg - 1, now);
        if (res != NULL && nng_http_res_set_header(res, "Allow", "GET, HEAD") != 0) {
            nng_http_res_free(res);
            res = NULL;
        }
    } else if (is_ca) {
        what = "ca";
        status = NNG_HTTP_STATUS_OK;
        bytes = h->ca->cert_len;
        res = response(NNG_HTTP_STATUS_OK, "application/pkix-cert", h->ca->cert_der,
                       h->ca->cert_len, now);
        sk_http_date(d, sizeof d, h->ca_mtime);
        if (res != NULL && nng_http_res_set_header(res, "Last-Modified", d) != 0) {
            nng_http_res_free(res);
            res = NULL;
        }
    } else {
        /* The file as it is now: run, serve and revoke replace it by rename. */
        what = "crl";
        uint8_t *der = NULL;
        size_t len = 0;
        ca_crl_info info;
        int rc = sk_file_read(&der, &len, h->crl_file, CA_CRL_FILE_MAX, 0);
        if (rc == SK_OK && ca_crl_read(der, len, &info) == SK_OK) {
            status = NNG_HTTP_STATUS_OK;
            bytes = len;
            res = response(NNG_HTTP_STATUS_OK, "application/pkix-crl", der, len, now);
            sk_http_date(d, sizeof d, info.this_update);
            /* a new CRL follows every revocation: caches must ask again */
            if (res != NULL && (nng_http_res_set_header(res, "Last-Modified", d) != 0 ||
                                nng_http_res_set_header(res, "Cache-Control", "no-cache") != 0)) {
                nng_http_res_free(res);
                res = NULL;
            }
        } else {
            static const char msg[] = "the CRL is not published yet; try again shortly\n";
            status = NNG_HTTP_STATUS_SERVICE_UNAVAILABLE;
            res = response(NNG_HTTP_STATUS_SERVICE_UNAVAILABLE, text, msg, sizeof msg - 1, now);
            if (res != NULL && nng_http_res_set_header(res, "Retry-After", "60") != 0) {
                nng_http_res_free(res);
                res = NULL;
            }
        }
        sk_file_free(der, len);
    }
    /* the method is one of a few words nng accepted; the path is not logged */
    char m[12];
    snprintf(m, sizeof m, "%s", method);
    for (char *c = m; *c; c++)
        if (*c < 'A' || *c > 'Z')
            *c = '?';
    sk_log_notice("req method=%s what=%s http=%u bytes=%zu us=%llu", m, what, status, bytes,
                  (unsigned long long)(sk_clock_us() - t0));
    if (res == NULL) {
        nng_aio_finish(aio, NNG_ENOMEM);
        return;
    }
    nng_aio_set_output(aio, 0, res);
    nng_aio_finish(aio, 0);
}

int ca_http_start(ca_http **out, ca_ctx *ca, const char *hostport, char *err, size_t err_len)
{
    *out = NULL;
    char host[256];
    unsigned port = 0;
    /* sk_parse_hostport takes a port as strtoul does, with a sign or spaces
     * before it; this --http wants a digit right after the last ':'. */
    const char *colon = strrchr(hostport, ':');
    if (colon == NULL || colon[1] < '0' || colon[1] > '9' ||
        !sk_parse_hostport(host, sizeof host, &port, hostport)) {
        snprintf(err, err_len, "--http %s: expected HOST:PORT, e.g. 127.0.0.1:8081", hostport);
        return SK_SVC_ERR_CONFIG;
    }
    ca_http *h = calloc(1, sizeof *h);
    if (h == NULL)
        return SK_ERR_NOMEM;
    h->ca = ca;
    const ca_conf *cf = &ca->conf.conf;
    int rc = SK_SVC_ERR_CONFIG;
    if (ca_url_path(h->ca_path, sizeof h->ca_path, cf->ca_url) != SK_OK ||
        (cf->crl_url != NULL &&
         ca_url_path(h->crl_path, sizeof h->crl_path, cf->crl_url) != SK_OK)) {
        snprintf(err, err_len, "ca-url or crl-url: the path is too long");
        goto fail;
    }
    if (strcmp(h->ca_path, h->crl_path) == 0) {
        snprintf(err, err_len, "%s/" CA_FILE_CONF ": ca-url and crl-url have the same path %s; "
                               "give them different ones",
                 ca->dir, h->ca_path);
        goto fail;
    }
    rc = SK_ERR_NOMEM;
    if ((h->crl_file = sk_path_join(ca->dir, CA_FILE_CRL)) == NULL)
        goto fail;
    char *cert_path = sk_path_join(ca->dir, CA_FILE_CERT);
    struct stat st;
    h->ca_mtime = cert_path != NULL && stat(cert_path, &st) == 0 ? (int64_t)st.st_mtime
                                                                 : (int64_t)time(NULL);
    free(cert_path);

    sk_http_failure why;
    rc = sk_http_listen(&h->server, &port, host, port, http_handle, h, 0, &why);
    if (rc != SK_OK) {
        sk_http_listen_error(err, err_len, "--http", hostport, "not a usable address", &why);
        goto fail;
    }
    snprintf(h->url, sizeof h->url, "http://%s:%u/", host, port);
    *out = h;
    return SK_OK;
fail:
    free(h->crl_file);
    free(h);
    return rc;
}

const char *ca_http_url(const ca_http *h) { return h->url; }

void ca_http_stop(ca_http *h)
{
    if (h == NULL)
        return;
    sk_http_unlisten(h->server);
    free(h->crl_file);
    free(h);
}
