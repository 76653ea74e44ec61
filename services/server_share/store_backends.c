/* SPDX-License-Identifier: Apache-2.0 */
/* store_backends.c - the store backends compiled into this build, by URI
 * scheme (store_backend.h).  store.c looks backends up here only. */
#include <stddef.h>

#include "store_backend.h"

const struct sk_store_ops *const sk_store_backends[] = {
    &sk_store_sqlite_ops,
#ifdef SK_HAVE_POSTGRESQL
    &sk_store_pg_ops,
#endif
    NULL,
};

/* Known schemes whose backend this build lacks: SK_ERR_UNSUPPORTED. */
const char *const sk_store_backends_missing[] = {
#ifndef SK_HAVE_POSTGRESQL
    "postgresql://",
    "postgres://",
#endif
    NULL,
};
