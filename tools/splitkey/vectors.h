/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vectors.h - the deterministic two-party test vectors: their fields, how
 * they are computed from seeds, and their JSON form.  See
 * tests/vectors/twoparty/README.md for the published description.
 */
#ifndef SPLITKEY_TOOL_VECTORS_H
#define SPLITKEY_TOOL_VECTORS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cli.h"
#include "splitkey/splitkey.h"

#define VEC_FORMAT "splitkey-twoparty-v1"
#define VEC_SEED_PREFIX "splitkey-twoparty-v1/"

/* Every byte-string member of a vector, in file order.  Integers are
 * big-endian, left-padded to a fixed width (see vec_field_len). */
typedef enum vec_field {
    VF_SEED_CLIENT, /* DRBG seed of the client key generation */
    VF_SEED_SERVER, /* DRBG seed of the server key generation */
    VF_SEED,        /* DRBG seed of this vector (PSS salt) */
    VF_E,
    VF_N1,
    VF_P1,          /* recovered from n1, e, dc, ds (the device never keeps it) */
    VF_Q1,
    VF_D1,          /* e^-1 mod lcm(p1 - 1, q1 - 1) */
    VF_DC,
    VF_DS,
    VF_P2,
    VF_Q2,
    VF_D2,
    VF_N2,
    VF_N,
    VF_MESSAGE,
    VF_DIGEST,
    VF_SALT,
    VF_EM,
    VF_Y,
    VF_S1,
    VF_S2,
    VF_SIGNATURE,
    VF_COUNT
} vec_field;

typedef struct vec_bytes {
    uint8_t *p;
    size_t len;
} vec_bytes;

typedef struct vec {
    sk_profile profile;
    sk_scheme scheme;
    sk_hash hash;
    vec_bytes f[VF_COUNT];
} vec;

/* The key material of one profile, shared by its scheme x hash vectors. */
typedef struct vec_keys {
    sk_profile profile;
    vec_bytes seed_client, seed_server;
    vec_bytes n1, p1, q1, d1, dc, ds, p2, q2;
} vec_keys;

extern const char *const vec_field_names[VF_COUNT];
extern const sk_profile vec_profiles[3];
extern const sk_scheme vec_schemes[2];
extern const sk_hash vec_hashes[3];

/* The DRBG description written into every file. */
extern const char vec_drbg_description[];
/* The comment written into every file. */
extern const char vec_comment[];

/* Fixed byte length of a field for the vector's parameters, or 0 for the
 * variable-length seeds and message. */
size_t vec_field_len(vec_field field, sk_profile profile, sk_scheme scheme, sk_hash hash);

/* Canonical seeds and message (new NUL-terminated strings; their bytes, without
 * the NUL, are the seed or message). */
char *vec_seed_client(sk_profile profile);
char *vec_seed_server(sk_profile profile);
char *vec_seed(sk_profile profile, sk_scheme scheme, sk_hash hash);
char *vec_message(sk_profile profile, sk_scheme scheme, sk_hash hash);
/* File name "<profile>-<scheme>-<hash>.json" (new string). */
char *vec_file_name(sk_profile profile, sk_scheme scheme, sk_hash hash);

int vec_bytes_set(vec_bytes *b, const void *data, size_t len); /* copies; SK_ERR_NOMEM */
void vec_bytes_free(vec_bytes *b);                            /* wipes */

/* Generates the profile's keys from the two seeds with the library's key
 * generation driven by the DRBG.  Returns an sk_error. */
int vec_keys_generate(vec_keys *out, sk_profile profile, const vec_bytes *seed_client,
                      const vec_bytes *seed_server);
/* Copies the key fields of a vector into a vec_keys (for recomputation). */
int vec_keys_from_vec(vec_keys *out, const vec *v);
void vec_keys_free(vec_keys *keys);

/* The PSS salt of a vector: the first hash-length bytes of DRBG(seed); empty
 * for PKCS#1 v1.5. */
int vec_salt(vec_bytes *out, sk_scheme scheme, sk_hash hash, const vec_bytes *seed);

/* Computes a whole vector through the library's two-party path (device
 * partial, server completion with its checks) from keys, a seed, a message
 * and a salt.  Returns an sk_error. */
int vec_compute(vec *out, const vec_keys *keys, sk_scheme scheme, sk_hash hash,
                const vec_bytes *seed, const vec_bytes *message, const vec_bytes *salt);
void vec_free(vec *v);

/* JSON form.  vec_write_json returns 0, or -1 when out of memory or when
 * writing fails.  vec_from_json takes the object cli_json_parse() read and
 * reports the first problem (naming the member) in err and returns -1. */
int vec_write_json(FILE *f, const vec *v);
int vec_from_json(vec *out, json_t *obj, char *err, size_t err_len);

/* Independent recomputation with plain GMP arithmetic (RFC 8017 encodings from
 * the library).  Calls report(ctx, field, what) for every relation that does
 * not hold and returns the number of such failures. */
typedef void (*vec_report_fn)(void *ctx, const char *field, const char *what);
int vec_check_math(const vec *v, vec_report_fn report, void *ctx);

int vectors_write(const char *dir);
int vectors_check(const char *dir);

#endif /* SPLITKEY_TOOL_VECTORS_H */
