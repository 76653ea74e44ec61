/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rp_web.h - "splitkey-rp serve": a small bank web site for people (nng's
 * HTTP server).  A person logs in with the person id (an authentication
 * session) and then signs a contract (a signing session); the page shows
 * the verification code at once and the outcome when the person has
 * answered on the device.  The browser only talks to this program: a
 * worker thread per session long-polls the share server's HTTPS API and
 * checks the answer as the command line does (signature
 * under the certificate's key, rp_check.h validation).
 *
 *   GET  /                   the page (HTML, no inline script or style)
 *   GET  /app.js, /app.css   its script and style
 *   POST /api/login          {"person": ID}       -> {"id", "code"}
 *   POST /api/sign           (logged in)          -> {"id", "code", "contract"}
 *   GET  /api/status?id=ID   -> {"state": "pending"|"ok"|"refused"|"failed",
 *                                "message", "person", ...}; the answer that
 *                                completes a login sets the session cookie
 *   POST /api/logout
 * Every answer carries Content-Security-Policy (default-src 'none', the
 * page's own script, style and fetches only), X-Content-Type-Options,
 * Referrer-Policy and Cache-Control: no-store.
 */
#ifndef SK_RP_WEB_H
#define SK_RP_WEB_H

#include <stdbool.h>

#include "rp_api.h"

typedef struct rp_web_conf {
    rp_api *api;              /* the HTTPS API (borrowed) */
    const char *ca_cert;      /* the CA every certificate must chain to */
    const char *name;         /* the relying party's name on the device */
    bool advanced;            /* accept advanced certificates too */
    unsigned timeout_s;       /* a session's wait */
    unsigned ocsp_timeout_ms;
    const char *http;         /* HOST:PORT to serve */
    const char *ready_file;   /* NULL, or where to write http://HOST:PORT/ */
} rp_web_conf;

/* Serves until SIGINT or SIGTERM.  Returns the exit status (0, 1, 2). */
int rp_web_run(const rp_web_conf *c);

#endif
