/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mbedtls_compat.h - the few mbedTLS calls whose form changed between 2.28
 * (Debian 12) and 3.x, written once for both.
 *
 * 3.x made structure members private (MBEDTLS_PRIVATE), added a random
 * generator to key parsing and pair checks, and a buffer size to pk_sign.
 * Everything else the library calls (ASN.1, X.509 parsing, hashes, PEM,
 * base64) has the same form in both.  doc/abi.md lists what was checked
 * against 3.x and how.
 */
#ifndef SPLITKEY_MBEDTLS_COMPAT_H
#define SPLITKEY_MBEDTLS_COMPAT_H

#include <mbedtls/version.h>

#if MBEDTLS_VERSION_MAJOR >= 3
#define SK_MBEDTLS3 1
#include <mbedtls/private_access.h>
#else
#define SK_MBEDTLS3 0
#endif

/* Members 3.x declares private and offers no accessor for. */
#ifndef MBEDTLS_PRIVATE
#define MBEDTLS_PRIVATE(member) member
#endif

/* The random generator for pk operations (libsodium's, in pki/ca_key.c). */
int pki_rng(void *ctx, unsigned char *out, size_t len);

#if SK_MBEDTLS3
#define sk_mbedtls_pk_parse_key(pk, key, len) \
    mbedtls_pk_parse_key((pk), (key), (len), NULL, 0, pki_rng, NULL)
#define sk_mbedtls_pk_check_pair(pub, prv) mbedtls_pk_check_pair((pub), (prv), pki_rng, NULL)
#define sk_mbedtls_pk_sign(pk, md, hash, hash_len, sig, sig_cap, sig_len) \
    mbedtls_pk_sign((pk), (md), (hash), (hash_len), (sig), (sig_cap), (sig_len), pki_rng, NULL)
#define sk_mbedtls_pk_ec_group(pk) mbedtls_ecp_keypair_get_group_id(mbedtls_pk_ec(pk))
#define sk_mbedtls_crt_is_ca(crt) mbedtls_x509_crt_get_ca_istrue(crt)
#else
#define sk_mbedtls_pk_parse_key(pk, key, len) mbedtls_pk_parse_key((pk), (key), (len), NULL, 0)
#define sk_mbedtls_pk_check_pair(pub, prv) mbedtls_pk_check_pair((pub), (prv))
#define sk_mbedtls_pk_sign(pk, md, hash, hash_len, sig, sig_cap, sig_len) \
    ((void)(sig_cap), mbedtls_pk_sign((pk), (md), (hash), (hash_len), (sig), (sig_len), pki_rng, NULL))
#define sk_mbedtls_pk_ec_group(pk) (mbedtls_pk_ec(pk)->grp.id)
#define sk_mbedtls_crt_is_ca(crt) ((crt)->ca_istrue)
#endif

#endif /* SPLITKEY_MBEDTLS_COMPAT_H */
