/* SPDX-License-Identifier: Apache-2.0 */
/*
 * svc_error.h - error codes of the service layer (sockets, files,
 * configuration), in a range of their own (-200 .. -219) next to the
 * library's sk_error codes.  sk_svc_strerror() describes both.
 */
#ifndef SK_SVC_ERROR_H
#define SK_SVC_ERROR_H

enum sk_svc_error {
    SK_SVC_ERR_CONFIG = -200,    /* bad flag, config key, URL, directory ... */
    SK_SVC_ERR_TIMEOUT = -201,   /* no reply in time */
    SK_SVC_ERR_TRANSPORT = -202, /* nng refused to send, receive, dial or listen */
    SK_SVC_ERR_IO = -203,        /* a file operation failed (errno kept) */
    SK_SVC_ERR_PERM = -204,      /* a secret file is readable by others */
    SK_SVC_ERR_EXISTS = -205,    /* refusing to overwrite an existing file */
    SK_SVC_ERR_STALE = -206,     /* a stored state changed since it was loaded */
    SK_SVC_ERR_CONNECT = -207,   /* the first connection to a server failed */
    SK_SVC_ERR_RP_REFUSED = -208, /* a relying-party frame on the device socket
                                     (relying parties use the HTTPS API) */
    SK_SVC_HELP = -219           /* not an error: --help was given */
};

/* Static description of an sk_error or sk_svc_error code; never NULL. */
const char *sk_svc_strerror(int err);

/* Exit status for a program that failed with err (README.md, "The programs"):
 * 0 for SK_OK and
 * SK_SVC_HELP, 2 for a usage or configuration error, 1 otherwise. */
int sk_svc_exit_code(int err);

#endif
