/* SPDX-License-Identifier: Apache-2.0 */
/* svc_error.c - descriptions and exit codes of the service errors. */
#include "svc_error.h"

#include "splitkey/splitkey.h"

const char *sk_svc_strerror(int err)
{
    switch (err) {
    case SK_SVC_ERR_CONFIG: return "configuration error";
    case SK_SVC_ERR_TIMEOUT: return "timed out";
    case SK_SVC_ERR_TRANSPORT: return "transport error";
    case SK_SVC_ERR_IO: return "file input/output error";
    case SK_SVC_ERR_PERM: return "secret file is accessible by group or others";
    case SK_SVC_ERR_EXISTS: return "file exists";
    case SK_SVC_ERR_STALE: return "the stored state was changed by another writer";
    case SK_SVC_ERR_CONNECT: return "cannot connect to the server";
    case SK_SVC_ERR_RP_REFUSED:
        return "relying-party frames are not served on this socket; use the HTTPS API";
    case SK_SVC_HELP: return "help requested";
    default: return sk_strerror(err);
    }
}

int sk_svc_exit_code(int err)
{
    switch (err) {
    case SK_OK:
    case SK_SVC_HELP:
        return 0;
    case SK_SVC_ERR_CONFIG:
    case SK_SVC_ERR_PERM:
    case SK_SVC_ERR_EXISTS:
        return 2;
    default:
        return 1;
    }
}
