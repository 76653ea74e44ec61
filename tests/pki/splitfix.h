/* SPDX-License-Identifier: Apache-2.0 */
/* splitfix.h - a split key in one process for the PKI tests: a client share
 * and a server share whose composite key n = n1 * n2 signs through the
 * two-party path (device partial, then server completion). */
#ifndef SK_TEST_SPLITFIX_H
#define SK_TEST_SPLITFIX_H

#include "internal.h"
#include "splitkey/pki.h"

typedef struct splitfix {
    unsigned k;          /* share size in bits; n has 2k bits */
    uint8_t *n1, *dc;    /* n1 (k/8) and the unwrapped client part */
    size_t dc_len;
    sk_server_share *ss;
    sk_pubkey *pub;      /* the composite key */
    int sign_count;      /* signatures made through the callback */
} splitfix;

/* Generates a split key with shares of k bits from a seeded generator
 * (k >= 1024).  Returns 0 on success. */
int splitfix_init(splitfix *f, unsigned k, const char *seed);
void splitfix_free(splitfix *f);

/* sk_csr_sign_fn: RSASSA-PKCS1-v1_5 over the digest, made by the device and
 * the server halves. */
int splitfix_sign(void *ctx, uint8_t *sig, size_t sig_len, sk_hash hash, const uint8_t *digest,
                  size_t digest_len);

#endif
