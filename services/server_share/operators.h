/* SPDX-License-Identifier: Apache-2.0 */
/*
 * operators.h - the registration operators of a share server (four eyes,
 * doc/operations.md): DIR/operators lists each operator's name and Ed25519
 * public key, one per line ("NAME HEX"; '#' starts a comment line).  A
 * registration token enrols a key only with the approvals of two distinct
 * operators listed there when the enrolment is checked.  The secret keys
 * stay with the operators (splitkey-server operator keygen).
 */
#ifndef SK_OPERATORS_H
#define SK_OPERATORS_H

#include <stddef.h>
#include <stdint.h>

#include "splitkey/server.h"

#define SK_OPERATORS_FILE "operators"
#define SK_OPERATOR_NAME_MAX 64u
#define SK_OPERATORS_MAX 1024u

typedef struct sk_operator {
    char name[SK_OPERATOR_NAME_MAX + 1];
    uint8_t pub[SK_OPERATOR_PUB_LEN];
} sk_operator;

/* 1 when name is 1-64 characters of [A-Za-z0-9._-@], else 0. */
int sk_operator_name_ok(const char *name);

/* Reads the operator list at path into *ops (malloc'd with room for
 * SK_OPERATORS_MAX entries, even when empty; free()).  A missing
 * file is an empty list.  Returns SK_OK, SK_SVC_ERR_CONFIG (a malformed
 * line, a name or key twice: err says which), or a file error. */
int sk_operators_load(sk_operator **ops, size_t *n, const char *path, char *err, size_t err_len);

/* Writes the list atomically (mode 0644).  Returns SK_OK or SK_SVC_ERR_IO. */
int sk_operators_save(const char *path, const sk_operator *ops, size_t n);

/* The operator with this public key, or NULL. */
const sk_operator *sk_operators_find(const sk_operator *ops, size_t n, const uint8_t *pub);

/* The operator's number in the event log: the first 6 bytes of the public
 * key, big-endian (what `operator list` prints as "id"). */
int64_t sk_operator_event_id(const uint8_t *pub);

/* Reads an operator's secret key file (hex of SK_OPERATOR_SECRET_LEN bytes;
 * no group or other permissions) into sk and checks that its two halves
 * belong together.  sk is secret: wipe it.  Returns SK_OK, SK_SVC_ERR_PERM,
 * SK_SVC_ERR_CONFIG (not a key: err says why), or a file error. */
int sk_operator_key_load(uint8_t *sk, const char *path, char *err, size_t err_len);

/* Reads a public key file (hex of 32 bytes, optional newline). */
int sk_operator_pub_load(uint8_t *pub, const char *path, char *err, size_t err_len);

#endif
