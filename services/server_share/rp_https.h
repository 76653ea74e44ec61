/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rp_https.h - the HTTPS listener of the relying-party API (rp_v2.h): TLS
 * 1.2 over mbedTLS on a TCP socket of its own, a small HTTP/1.1 reader for
 * exactly what that API needs (a request line, headers, a body of
 * Content-Length bytes; one request per connection, "Connection: close"),
 * and a fixed pool of worker threads that each accept, read, hand the
 * request to the handler and answer.
 *
 * Why not nng's HTTP server: nng 1.5 gives an HTTP handler no way to learn
 * the client's certificate (its TLS streams expose only whether the peer
 * was verified, not who it is), and the relying party is identified by its
 * certificate.  Here the handler gets the SHA-256 of the certificate the
 * client presented and proved possession of in the handshake (any
 * certificate, self-signed included: it is compared with the registry, not
 * chained to a CA), and the source address.
 *
 * Limits: a connection must send its whole request within
 * SK_HTTPS_IO_TIMEOUT_S of each read; requests of more than
 * SK_HTTPS_MAX_HEAD bytes of head or the configured body size are answered
 * 400 (the handler never sees them); at most per_peer connections from one
 * address are served at once (more are closed unanswered).  A worker that
 * the handler keeps (a long poll) serves nothing else meanwhile: the
 * handler must bound how many of them one relying party may hold.
 */
#ifndef SK_RP_HTTPS_H
#define SK_RP_HTTPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SK_HTTPS_MAX_HEAD 8192u
#define SK_HTTPS_IO_TIMEOUT_S 10
#define SK_HTTPS_DEFAULT_WORKERS 16u

typedef struct sk_https_request {
    const char *method;      /* "GET", "POST" ... */
    const char *path;        /* the target up to '?', percent-escapes left as sent */
    const char *query;       /* after '?', or "" */
    const uint8_t *body;     /* Content-Length bytes (NULL when 0) */
    size_t body_len;
    bool has_cert;           /* the client presented a certificate and proved it */
    uint8_t cert_sha256[32]; /* SHA-256 of its DER */
    char peer[48];           /* the source address in text */
} sk_https_request;

typedef struct sk_https_response {
    int status;              /* HTTP status */
    char *body;              /* malloc'd JSON text (the listener frees it), or NULL */
    const char *allow;       /* 405: the Allow header's value */
} sk_https_response;

typedef void (*sk_https_handler)(void *ctx, const sk_https_request *req,
                                 sk_https_response *resp);

typedef struct sk_https_config {
    const char *host;       /* an IPv4/IPv6 address or a name; "" or "*": any */
    unsigned port;          /* 0: any free port */
    const char *cert_file;  /* the server's certificate (PEM) */
    const char *key_file;   /* its private key (PEM, unencrypted) */
    unsigned workers;       /* 0: SK_HTTPS_DEFAULT_WORKERS */
    unsigned per_peer;      /* connections served at once per address (0: workers / 2) */
    size_t max_body;        /* largest request body */
    sk_https_handler handler;
    void *ctx;
} sk_https_config;

typedef struct sk_https sk_https;

/* Loads the certificate and key, listens and starts the workers.  Returns
 * SK_OK, SK_SVC_ERR_CONFIG (a file that does not parse, an address that is
 * not usable: err says which) or SK_ERR_NOMEM / SK_SVC_ERR_TRANSPORT. */
int sk_https_start(sk_https **out, const sk_https_config *cfg, char *err, size_t err_len);

/* The port it listens on. */
unsigned sk_https_port(const sk_https *h);

/* Stops accepting, waits for the workers (a handler that waits must have
 * been woken first: sk_longpoll_stop) and frees everything.  NULL ok. */
void sk_https_stop(sk_https *h);

/* The reason phrase of an HTTP status, including the relying-party API's
 * own 471, 472, 480 and 580. */
const char *sk_https_reason(int status);

/* Makes a P-256 key and a self-signed certificate for common name cn, valid
 * for `days`, and writes them to key_file (0600, refusing to replace one)
 * and cert_file (PEM).  Returns SK_OK, SK_SVC_ERR_EXISTS, SK_SVC_ERR_IO or
 * SK_ERR_INTERNAL. */
int sk_https_make_cert(const char *cert_file, const char *key_file, const char *cn,
                       unsigned days);

/* The SHA-256 of the (first) certificate in a PEM or DER file: what a
 * relying party pins, and what `rp add --cert` registers.  Returns SK_OK,
 * SK_ERR_CERT (no certificate in it) or a file error. */
int sk_https_cert_sha256(uint8_t out[32], const char *file);

#endif
