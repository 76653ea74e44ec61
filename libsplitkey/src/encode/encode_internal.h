/* SPDX-License-Identifier: Apache-2.0 */
/* encode_internal.h - helpers shared by the files of src/encode only.  The
 * declarations other modules use are in ../internal.h. */
#ifndef SPLITKEY_ENCODE_INTERNAL_H
#define SPLITKEY_ENCODE_INTERNAL_H

#include <mbedtls/md.h>
#include <stdbool.h>

#include "internal.h"

/* True for the hashes a signature may be made with (SHA-256/384/512). */
bool sk_hash_is_signing(sk_hash hash);

/* The mbedTLS descriptor of a hash, or NULL for an unknown one. */
const mbedtls_md_info_t *sk_hash_md_info(sk_hash hash);

/* Largest modulus any function here accepts, in bits.  Bounds the work a
 * hostile key or signature can cause. */
#define SK_MAX_MODULUS_BITS 16384u

#endif /* SPLITKEY_ENCODE_INTERNAL_H */
