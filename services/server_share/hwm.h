/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hwm.h - the highest version of each key record this process has stored or
 * read in a write transaction: a key record put back by a database writer
 * (an older row, rolling back the failure counter or the one-time password)
 * is detected while this process runs (doc/security.md, "Rolling back a key
 * record").  Thread-safe.
 */
#ifndef SK_SHARE_HWM_H
#define SK_SHARE_HWM_H

#include <stdint.h>

typedef struct sk_hwm sk_hwm;

/* NULL when out of memory. */
sk_hwm *sk_hwm_new(void);
void sk_hwm_free(sk_hwm *hwm);

/* The highest version recorded for the key (0: none). */
int64_t sk_hwm_get(sk_hwm *hwm, const uint8_t *key_id);
/* Raises the key's mark to version (never lowers it). */
void sk_hwm_raise(sk_hwm *hwm, const uint8_t *key_id, int64_t version);

#endif
