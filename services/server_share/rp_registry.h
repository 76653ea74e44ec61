/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rp_registry.h - the relying parties registered with a share server for
 * its HTTPS listener (rp_v2.h, doc/rp-api.md): DIR/relying-parties.json,
 * written by `splitkey-server rp add|remove`, read by `run` at start, on
 * SIGHUP and whenever the file changed (its modification time and size).
 *
 * Each relying party has a UUID (what its requests name in
 * relyingPartyUUID), the names it may show to a person (relyingPartyName
 * must be one of them, compared without regard to case; the device is
 * shown the registered spelling, never the caller's), a credential, the
 * certificate levels and purposes it may ask for, and its limits.  The
 * credential is the SHA-256 of its TLS client certificate (DER), or - only
 * when the operator registered it so - a list of source addresses (the
 * UUID and the connection's address then authenticate it, as in the public
 * v2 API; weaker: see doc/security.md).
 *
 * Nothing here is secret: a certificate's fingerprint is public.
 */
#ifndef SK_RP_REGISTRY_H
#define SK_RP_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SK_RP_REGISTRY_FILE "relying-parties.json"
#define SK_RP_MAX 1024u
#define SK_RP_NAMES_MAX 8u
#define SK_RP_NAME_MAX 32u     /* bytes of UTF-8, as in the public v2 API */
#define SK_RP_ADDRS_MAX 16u
#define SK_RP_ADDR_MAX 45u     /* an IPv4 or IPv6 address in text */
#define SK_RP_UUID_LEN 36u     /* 8-4-4-4-12 hex digits */

/* Allowed levels and purposes, as bits. */
#define SK_RP_LEVEL_ADVANCED 0x1u
#define SK_RP_LEVEL_QUALIFIED 0x2u
#define SK_RP_PURPOSE_AUTH 0x1u
#define SK_RP_PURPOSE_SIGN 0x2u
#define SK_RP_PURPOSE_CERTCHOICE 0x4u
#define SK_RP_PURPOSE_SEAL 0x8u /* an organisation's seal (signature/, certchoice/) */

/* Defaults of rp add. */
#define SK_RP_DEFAULT_RATE 10u     /* session-creating requests per second */
#define SK_RP_DEFAULT_PENDING 50u  /* sessions of the relying party still running */

typedef struct sk_rp_entry {
    char uuid[SK_RP_UUID_LEN + 1];  /* lower case */
    uint8_t uuid_bin[16];
    size_t n_names;
    char names[SK_RP_NAMES_MAX][SK_RP_NAME_MAX + 1];
    bool by_address;                /* the credential is the source address */
    uint8_t cert_sha256[32];        /* !by_address: the client certificate's hash */
    size_t n_addrs;
    char addrs[SK_RP_ADDRS_MAX][SK_RP_ADDR_MAX + 1]; /* by_address: allowed sources */
    unsigned levels;                /* SK_RP_LEVEL_ bits */
    unsigned purposes;              /* SK_RP_PURPOSE_ bits */
    unsigned rate;                  /* session-creating requests per second (>= 1) */
    unsigned pending;               /* sessions still running at most (>= 1) */
} sk_rp_entry;

/* Parses "de305d54-75b4-431b-adb2-eb6b9e546014" (either case) into 16
 * bytes and the lower-case text.  False when it is not 8-4-4-4-12 hex. */
bool sk_rp_uuid_parse(uint8_t bin[16], char text[SK_RP_UUID_LEN + 1], const char *in);

/* A name a relying party may register: 1-32 bytes of printable UTF-8
 * (no control characters). */
bool sk_rp_name_ok(const char *name);

/* Reads the registry at path into *rps (malloc'd, free()), *n entries.  A
 * missing file is an empty registry.  Returns SK_OK, SK_SVC_ERR_CONFIG (a
 * malformed file or entry, a UUID twice: err says which) or a file error. */
int sk_rp_registry_load(sk_rp_entry **rps, size_t *n, const char *path, char *err,
                        size_t err_len);

/* Writes the registry atomically (mode 0644).  Returns SK_OK, SK_ERR_NOMEM
 * or SK_SVC_ERR_IO. */
int sk_rp_registry_save(const char *path, const sk_rp_entry *rps, size_t n);

/* The entry with this UUID (lower-case text), or NULL. */
const sk_rp_entry *sk_rp_registry_find(const sk_rp_entry *rps, size_t n, const char *uuid);

/* "ADVANCED,QUALIFIED" and "auth,sign,certchoice" lists to and from bits.
 * The parsers return false for an empty list or an unknown word. */
bool sk_rp_levels_parse(unsigned *bits, const char *list);
bool sk_rp_purposes_parse(unsigned *bits, const char *list);
void sk_rp_levels_text(char *out, size_t cap, unsigned bits);
void sk_rp_purposes_text(char *out, size_t cap, unsigned bits);

#endif
