/* SPDX-License-Identifier: Apache-2.0 */
/* rp_https.c - the relying-party API's HTTPS listener (rp_https.h). */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE
#include "rp_https.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/ecp.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/pk.h>
#include <mbedtls/sha256.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>
#include <mbedtls/bignum.h>
#include <sodium.h>

#include "fileio.h"
#include "http_listen.h"
#include "log.h"
#include "splitkey/splitkey.h"
#include "svc_error.h"

#define MAX_PEERS 256u

struct sk_https {
    int fd;
    unsigned port;
    mbedtls_ssl_config conf;
    mbedtls_x509_crt cert;
    mbedtls_pk_context key;
    sk_https_config cfg;
    pthread_t *threads;
    unsigned n_threads, n_started;
    pthread_mutex_t mu;
    bool stopping;
    struct {
        char addr[48];
        unsigned n;
    } peers[MAX_PEERS];
};

static int rng(void *ctx, unsigned char *out, size_t len)
{
    (void)ctx;
    randombytes_buf(out, len);
    return 0;
}

/* Any certificate will do: the handler compares its hash with the
 * registry.  The handshake still checks that the client holds its key. */
static int accept_any(void *ctx, mbedtls_x509_crt *crt, int depth, uint32_t *flags)
{
    (void)ctx;
    (void)crt;
    (void)depth;
    *flags = 0;
    return 0;
}

static int bio_send(void *ctx, const unsigned char *buf, size_t len)
{
    int fd = *(int *)ctx;
    ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
    if (n < 0)
        return errno == EINTR ? MBEDTLS_ERR_SSL_WANT_WRITE : MBEDTLS_ERR_NET_SEND_FAILED;
    return (int)n;
}

static int bio_recv(void *ctx, unsigned char *buf, size_t len)
{
    int fd = *(int *)ctx;
    ssize_t n = recv(fd, buf, len, 0);
    if (n < 0)
        return errno == EINTR ? MBEDTLS_ERR_SSL_WANT_READ : MBEDTLS_ERR_NET_RECV_FAILED;
    if (n == 0)
        return MBEDTLS_ERR_NET_CONN_RESET;
    return (int)n;
}

const char *sk_https_reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 471: return "No Suitable Account";
    case 472: return "Person Should View App";
    case 480: return "Client Too Old";
    case 500: return "Internal Server Error";
    case 580: return "Under Maintenance";
    default: return "Error";
    }
}

static bool peer_enter(sk_https *h, const char *addr)
{
    unsigned cap = h->cfg.per_peer ? h->cfg.per_peer : (h->n_threads / 2 ? h->n_threads / 2 : 1);
    bool ok = false;
    pthread_mutex_lock(&h->mu);
    size_t free_at = MAX_PEERS;
    for (size_t i = 0; i < MAX_PEERS; i++) {
        if (h->peers[i].n > 0 && strcmp(h->peers[i].addr, addr) == 0) {
            ok = h->peers[i].n < cap;
            if (ok)
                h->peers[i].n++;
            pthread_mutex_unlock(&h->mu);
            return ok;
        }
        if (h->peers[i].n == 0 && free_at == MAX_PEERS)
            free_at = i;
    }
    if (free_at < MAX_PEERS) {
        snprintf(h->peers[free_at].addr, sizeof h->peers[free_at].addr, "%s", addr);
        h->peers[free_at].n = 1;
        ok = true;
    }
    pthread_mutex_unlock(&h->mu);
    return ok;
}

static void peer_leave(sk_https *h, const char *addr)
{
    pthread_mutex_lock(&h->mu);
    for (size_t i = 0; i < MAX_PEERS; i++)
        if (h->peers[i].n > 0 && strcmp(h->peers[i].addr, addr) == 0) {
            h->peers[i].n--;
            break;
        }
    pthread_mutex_unlock(&h->mu);
}

static int ssl_write_all(mbedtls_ssl_context *ssl, const char *buf, size_t len)
{
    while (len > 0) {
        int n = mbedtls_ssl_write(ssl, (const unsigned char *)buf, len);
        if (n == MBEDTLS_ERR_SSL_WANT_WRITE || n == MBEDTLS_ERR_SSL_WANT_READ)
            continue;
        if (n <= 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

static void respond(mbedtls_ssl_context *ssl, const sk_https_response *r)
{
    char date[40], head[512];
    const char *body = r->body != NULL ? r->body : "";
    size_t blen = strlen(body);
    sk_http_date(date, sizeof date, (int64_t)time(NULL));
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nDate: %s\r\nContent-Type: application/json; "
                     "charset=utf-8\r\nContent-Length: %zu\r\nCache-Control: no-store\r\n"
                     "Connection: close\r\n%s%s%s\r\n",
                     r->status, sk_https_reason(r->status), date, blen,
                     r->allow ? "Allow: " : "", r->allow ? r->allow : "", r->allow ? "\r\n" : "");
    if (n <= 0 || (size_t)n >= sizeof head)
        return;
    if (ssl_write_all(ssl, head, (size_t)n) == 0 && blen > 0)
        (void)ssl_write_all(ssl, body, blen);
}

static void respond_error(mbedtls_ssl_context *ssl, int status, const char *msg)
{
    char body[256];
    snprintf(body, sizeof body, "{\"title\":\"%s\",\"status\":%d,\"detail\":\"%s\"}",
             sk_https_reason(status), status, msg);
    sk_https_response r = {.status = status, .body = body};
    respond(ssl, &r);
}

/* Reads the head (up to the blank line) and the body; fills req.  Returns
 * 0, or an HTTP status to answer with (400), or -1 to close unanswered. */
static int read_request(sk_https *h, mbedtls_ssl_context *ssl, char *head, size_t *head_len,
                        uint8_t **body, sk_https_request *req, char **method, char **target)
{
    size_t len = 0;
    char *end = NULL;
    *body = NULL;
    while (end == NULL) {
        if (len >= SK_HTTPS_MAX_HEAD - 1)
            return 400;
        int n = mbedtls_ssl_read(ssl, (unsigned char *)head + len, SK_HTTPS_MAX_HEAD - 1 - len);
        if (n == MBEDTLS_ERR_SSL_WANT_READ || n == MBEDTLS_ERR_SSL_WANT_WRITE)
            continue;
        if (n <= 0)
            return -1;
        len += (size_t)n;
        head[len] = '\0';
        if (memchr(head, '\0', len) != NULL)
            return 400;
        end = strstr(head, "\r\n\r\n");
    }
    *head_len = len;
    size_t head_end = (size_t)(end - head) + 4;
    *end = '\0';
    /* request line */
    char *line_end = strstr(head, "\r\n");
    if (line_end != NULL)
        *line_end = '\0';
    char *sp1 = strchr(head, ' ');
    char *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
    if (sp1 == NULL || sp2 == NULL || strncmp(sp2 + 1, "HTTP/1.", 7) != 0)
        return 400;
    *sp1 = '\0';
    *sp2 = '\0';
    *method = head;
    *target = sp1 + 1;
    /* headers: Content-Length only; a chunked body is not taken */
    size_t clen = 0;
    bool has_clen = false;
    for (char *l = line_end ? line_end + 2 : NULL; l != NULL && *l != '\0';) {
        char *next = strstr(l, "\r\n");
        if (next != NULL)
            *next = '\0';
        char *colon = strchr(l, ':');
        if (colon != NULL) {
            *colon = '\0';
            char *v = colon + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            if (strcasecmp(l, "Content-Length") == 0) {
                char *e = NULL;
                errno = 0;
                unsigned long long x = strtoull(v, &e, 10);
                if (e == v || (*e != '\0' && *e != ' ') || errno != 0 || has_clen)
                    return 400;
                clen = (size_t)x;
                has_clen = true;
                if (x > h->cfg.max_body)
                    return 400;
            } else if (strcasecmp(l, "Transfer-Encoding") == 0) {
                return 400;
            }
        }
        l = next ? next + 2 : NULL;
    }
    if (clen > 0) {
        *body = malloc(clen);
        if (*body == NULL)
            return -1;
        size_t have = len - head_end;
        if (have > clen)
            return 400;
        memcpy(*body, head + head_end, have);
        while (have < clen) {
            int n = mbedtls_ssl_read(ssl, *body + have, clen - have);
            if (n == MBEDTLS_ERR_SSL_WANT_READ || n == MBEDTLS_ERR_SSL_WANT_WRITE)
                continue;
            if (n <= 0)
                return -1;
            have += (size_t)n;
        }
    }
    req->body = *body;
    req->body_len = clen;
    return 0;
}

static void serve(sk_https *h, int fd, const char *peer)
{
    mbedtls_ssl_context ssl;
    char *head = malloc(SK_HTTPS_MAX_HEAD);
    uint8_t *body = NULL;
    if (head == NULL)
        return;
    mbedtls_ssl_init(&ssl);
    if (mbedtls_ssl_setup(&ssl, &h->conf) != 0)
        goto out;
    mbedtls_ssl_set_bio(&ssl, &fd, bio_send, bio_recv, NULL);
    int rc;
    while ((rc = mbedtls_ssl_handshake(&ssl)) != 0) {
        if (rc != MBEDTLS_ERR_SSL_WANT_READ && rc != MBEDTLS_ERR_SSL_WANT_WRITE)
            goto out;
    }
    sk_https_request req;
    memset(&req, 0, sizeof req);
    snprintf(req.peer, sizeof req.peer, "%s", peer);
    const mbedtls_x509_crt *pc = mbedtls_ssl_get_peer_cert(&ssl);
    if (pc != NULL && pc->raw.len > 0) {
        req.has_cert = true;
        if (mbedtls_sha256_ret(pc->raw.p, pc->raw.len, req.cert_sha256, 0) != 0)
            req.has_cert = false;
    }
    size_t head_len = 0;
    char *method = NULL, *target = NULL;
    rc = read_request(h, &ssl, head, &head_len, &body, &req, &method, &target);
    if (rc > 0) {
        respond_error(&ssl, rc, "malformed HTTP request");
    } else if (rc == 0) {
        char *q = strchr(target, '?');
        if (q != NULL)
            *q++ = '\0';
        req.method = method;
        req.path = target;
        req.query = q ? q : "";
        sk_https_response resp = {.status = 500};
        h->cfg.handler(h->cfg.ctx, &req, &resp);
        respond(&ssl, &resp);
        free(resp.body);
    }
    (void)mbedtls_ssl_close_notify(&ssl);
out:
    mbedtls_ssl_free(&ssl);
    free(body);
    free(head);
}

static void *worker(void *arg)
{
    sk_https *h = arg;
    for (;;) {
        struct sockaddr_storage sa;
        socklen_t salen = sizeof sa;
        int fd = accept(h->fd, (struct sockaddr *)&sa, &salen);
        pthread_mutex_lock(&h->mu);
        bool stop = h->stopping;
        pthread_mutex_unlock(&h->mu);
        if (stop) {
            if (fd >= 0)
                close(fd);
            break;
        }
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                struct timespec ts = {0, 50 * 1000000L};
                nanosleep(&ts, NULL);
                continue;
            }
            break;
        }
        char peer[48] = "";
        if (sa.ss_family == AF_INET)
            inet_ntop(AF_INET, &((struct sockaddr_in *)&sa)->sin_addr, peer, sizeof peer);
        else if (sa.ss_family == AF_INET6)
            inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&sa)->sin6_addr, peer, sizeof peer);
        struct timeval tv = {.tv_sec = SK_HTTPS_IO_TIMEOUT_S};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        if (peer_enter(h, peer)) {
            serve(h, fd, peer);
            peer_leave(h, peer);
        }
        close(fd);
    }
    return NULL;
}

static int listen_on(sk_https *h, char *err, size_t err_len)
{
    struct addrinfo hints, *res = NULL;
    char port[16];
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    snprintf(port, sizeof port, "%u", h->cfg.port);
    const char *host = h->cfg.host;
    if (host != NULL && (host[0] == '\0' || strcmp(host, "*") == 0))
        host = NULL;
    int grc = getaddrinfo(host, port, &hints, &res);
    if (grc != 0) {
        snprintf(err, err_len, "%s: %s", h->cfg.host, gai_strerror(grc));
        return SK_SVC_ERR_CONFIG;
    }
    int fd = -1, e = 0;
    for (struct addrinfo *a = res; a != NULL; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) {
            e = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, a->ai_addr, a->ai_addrlen) == 0 && listen(fd, 128) == 0)
            break;
        e = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        snprintf(err, err_len, "cannot listen: %s", strerror(e));
        return SK_SVC_ERR_CONFIG;
    }
    struct sockaddr_storage sa;
    socklen_t salen = sizeof sa;
    h->port = h->cfg.port;
    if (getsockname(fd, (struct sockaddr *)&sa, &salen) == 0) {
        if (sa.ss_family == AF_INET)
            h->port = ntohs(((struct sockaddr_in *)&sa)->sin_port);
        else if (sa.ss_family == AF_INET6)
            h->port = ntohs(((struct sockaddr_in6 *)&sa)->sin6_port);
    }
    h->fd = fd;
    return SK_OK;
}

int sk_https_start(sk_https **out, const sk_https_config *cfg, char *err, size_t err_len)
{
    *out = NULL;
    sk_https *h = calloc(1, sizeof *h);
    if (h == NULL)
        return SK_ERR_NOMEM;
    h->fd = -1;
    h->cfg = *cfg;
    h->n_threads = cfg->workers ? cfg->workers : SK_HTTPS_DEFAULT_WORKERS;
    pthread_mutex_init(&h->mu, NULL);
    mbedtls_ssl_config_init(&h->conf);
    mbedtls_x509_crt_init(&h->cert);
    mbedtls_pk_init(&h->key);
    int rc = SK_SVC_ERR_CONFIG;
    if (mbedtls_x509_crt_parse_file(&h->cert, cfg->cert_file) != 0) {
        snprintf(err, err_len, "%s: not a PEM certificate", cfg->cert_file);
        goto fail;
    }
    if (mbedtls_pk_parse_keyfile(&h->key, cfg->key_file, NULL) != 0) {
        snprintf(err, err_len, "%s: not an unencrypted PEM private key", cfg->key_file);
        goto fail;
    }
    if (mbedtls_ssl_config_defaults(&h->conf, MBEDTLS_SSL_IS_SERVER, MBEDTLS_SSL_TRANSPORT_STREAM,
                                    MBEDTLS_SSL_PRESET_DEFAULT) != 0 ||
        mbedtls_ssl_conf_own_cert(&h->conf, &h->cert, &h->key) != 0) {
        snprintf(err, err_len, "%s and %s: the key does not match the certificate",
                 cfg->cert_file, cfg->key_file);
        goto fail;
    }
    mbedtls_ssl_conf_rng(&h->conf, rng, NULL);
    mbedtls_ssl_conf_min_version(&h->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
                                 MBEDTLS_SSL_MINOR_VERSION_3);
    mbedtls_ssl_conf_authmode(&h->conf, MBEDTLS_SSL_VERIFY_OPTIONAL);
    /* a chain is needed to ask for a client certificate; accept_any
     * overrides its verdict */
    mbedtls_ssl_conf_ca_chain(&h->conf, &h->cert, NULL);
    mbedtls_ssl_conf_verify(&h->conf, accept_any, NULL);
    mbedtls_ssl_conf_renegotiation(&h->conf, MBEDTLS_SSL_RENEGOTIATION_DISABLED);
    rc = listen_on(h, err, err_len);
    if (rc != SK_OK)
        goto fail;
    h->threads = calloc(h->n_threads, sizeof *h->threads);
    if (h->threads == NULL) {
        rc = SK_ERR_NOMEM;
        goto fail;
    }
    for (unsigned i = 0; i < h->n_threads; i++) {
        if (pthread_create(&h->threads[i], NULL, worker, h) != 0) {
            snprintf(err, err_len, "cannot start the HTTPS workers");
            sk_https_stop(h);
            return SK_SVC_ERR_TRANSPORT;
        }
        h->n_started++;
    }
    *out = h;
    return SK_OK;
fail:
    if (h->fd >= 0)
        close(h->fd);
    free(h->threads);
    mbedtls_ssl_config_free(&h->conf);
    mbedtls_x509_crt_free(&h->cert);
    mbedtls_pk_free(&h->key);
    pthread_mutex_destroy(&h->mu);
    free(h);
    return rc;
}

unsigned sk_https_port(const sk_https *h)
{
    return h->port;
}

void sk_https_stop(sk_https *h)
{
    if (h == NULL)
        return;
    pthread_mutex_lock(&h->mu);
    h->stopping = true;
    pthread_mutex_unlock(&h->mu);
    /* wakes every accept() */
    shutdown(h->fd, SHUT_RDWR);
    for (unsigned i = 0; i < h->n_started; i++)
        pthread_join(h->threads[i], NULL);
    close(h->fd);
    free(h->threads);
    mbedtls_ssl_config_free(&h->conf);
    mbedtls_x509_crt_free(&h->cert);
    mbedtls_pk_free(&h->key);
    pthread_mutex_destroy(&h->mu);
    free(h);
}

int sk_https_make_cert(const char *cert_file, const char *key_file, const char *cn,
                       unsigned days)
{
    mbedtls_pk_context pk;
    mbedtls_x509write_cert crt;
    mbedtls_mpi serial;
    unsigned char *pem = NULL;
    const size_t pem_cap = 8192;
    int rc = SK_ERR_INTERNAL;
    mbedtls_pk_init(&pk);
    mbedtls_x509write_crt_init(&crt);
    mbedtls_mpi_init(&serial);
    pem = calloc(1, pem_cap);
    if (pem == NULL) {
        rc = SK_ERR_NOMEM;
        goto out;
    }
    if (mbedtls_pk_setup(&pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)) != 0 ||
        mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(pk), rng, NULL) != 0)
        goto out;
    uint8_t sn[16];
    randombytes_buf(sn, sizeof sn);
    sn[0] &= 0x7f;
    sn[0] |= 0x01;
    char subject[160], nb[16], na[16];
    snprintf(subject, sizeof subject, "CN=%s", cn);
    time_t now = time(NULL) - 3600;
    time_t end = now + (time_t)days * 86400;
    struct tm t;
    gmtime_r(&now, &t);
    strftime(nb, sizeof nb, "%Y%m%d%H%M%S", &t);
    gmtime_r(&end, &t);
    strftime(na, sizeof na, "%Y%m%d%H%M%S", &t);
    mbedtls_x509write_crt_set_version(&crt, MBEDTLS_X509_CRT_VERSION_3);
    mbedtls_x509write_crt_set_md_alg(&crt, MBEDTLS_MD_SHA256);
    mbedtls_x509write_crt_set_subject_key(&crt, &pk);
    mbedtls_x509write_crt_set_issuer_key(&crt, &pk);
    if (mbedtls_mpi_read_binary(&serial, sn, sizeof sn) != 0 ||
        mbedtls_x509write_crt_set_serial(&crt, &serial) != 0 ||
        mbedtls_x509write_crt_set_subject_name(&crt, subject) != 0 ||
        mbedtls_x509write_crt_set_issuer_name(&crt, subject) != 0 ||
        mbedtls_x509write_crt_set_validity(&crt, nb, na) != 0 ||
        mbedtls_x509write_crt_set_basic_constraints(&crt, 0, -1) != 0 ||
        mbedtls_x509write_crt_set_subject_key_identifier(&crt) != 0)
        goto out;
    if (mbedtls_pk_write_key_pem(&pk, pem, pem_cap) != 0)
        goto out;
    rc = sk_file_write_atomic(key_file, pem, strlen((char *)pem), SK_FILE_SECRET_MODE,
                              SK_FILE_NO_REPLACE);
    sodium_memzero(pem, pem_cap);
    if (rc != SK_OK)
        goto out;
    rc = SK_ERR_INTERNAL;
    if (mbedtls_x509write_crt_pem(&crt, pem, pem_cap, rng, NULL) != 0)
        goto out;
    rc = sk_file_write_atomic(cert_file, pem, strlen((char *)pem), SK_FILE_PUBLIC_MODE, 0);
out:
    if (pem != NULL) {
        sodium_memzero(pem, pem_cap);
        free(pem);
    }
    mbedtls_mpi_free(&serial);
    mbedtls_x509write_crt_free(&crt);
    mbedtls_pk_free(&pk);
    return rc;
}

int sk_https_cert_sha256(uint8_t out[32], const char *file)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = sk_file_read(&buf, &len, file, 256 * 1024, 0);
    if (rc != SK_OK)
        return rc;
    mbedtls_x509_crt crt;
    mbedtls_x509_crt_init(&crt);
    /* PEM needs its terminating NUL */
    uint8_t *z = malloc(len + 1);
    rc = SK_ERR_NOMEM;
    if (z != NULL) {
        memcpy(z, buf, len);
        z[len] = 0;
        bool pem = len > 0 && strstr((char *)z, "-----BEGIN CERTIFICATE-----") != NULL;
        rc = mbedtls_x509_crt_parse(&crt, z, pem ? len + 1 : len) >= 0 && crt.raw.len > 0
                 ? SK_OK
                 : SK_ERR_CERT;
        if (rc == SK_OK && mbedtls_sha256_ret(crt.raw.p, crt.raw.len, out, 0) != 0)
            rc = SK_ERR_CERT;
        free(z);
    }
    mbedtls_x509_crt_free(&crt);
    sk_file_free(buf, len);
    return rc;
}
