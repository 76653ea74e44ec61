/* SPDX-License-Identifier: Apache-2.0 */
/* sizes.c - upper bounds of the messages the device role writes, computed
 * from the message layout (splitkey.proto, the envelope of channel.c, the
 * sealed state of state.c) and the field limits (limits.h). */
#include "protocol/device/device_internal.h"
#include "pki/pki_internal.h"

/* Protobuf sizes: a varint, and a field with a tag of tag bytes. */
static size_t varint_len(size_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static size_t pb_bytes(size_t tag, size_t len) { return tag + varint_len(len) + len; }
#define PB_U32(tag) ((size_t)(tag) + 5u)
#define PB_U64(tag) ((size_t)(tag) + 10u)
#define PB_ENUM(tag) ((size_t)(tag) + 10u) /* an int32: 10 bytes when negative */

static size_t max2(size_t a, size_t b) { return a > b ? a : b; }

/* A DER header (tag and length) of a value of len bytes. */
static size_t der_hdr(size_t len) { return len < 0x80 ? 2u : len < 0x100 ? 3u : len < 0x10000 ? 4u : 5u; }

/* The CertificationRequestInfo of a proof of possession (csr.c): version,
 * a person subject (C, CN, SN, GN, serialNumber: five attributes of at most
 * SK_NAME_MAX_VALUE bytes each, name.c), the SubjectPublicKeyInfo of the
 * composite modulus (2k bits) and an empty attribute set. */
static size_t csr_info_max(unsigned bits)
{
    size_t attr = 5u /* OID 2.5.4.x */ + der_hdr(SK_NAME_MAX_VALUE) + SK_NAME_MAX_VALUE;
    size_t rdn = der_hdr(der_hdr(attr) + attr) + der_hdr(attr) + attr;
    size_t name = 5u * rdn;
    name += der_hdr(name);
    size_t n = (size_t)bits / 4u + 1u; /* the modulus and a leading zero */
    size_t rsa = der_hdr(n) + n + 5u;  /* INTEGER n, INTEGER 65537 */
    rsa += der_hdr(rsa);
    size_t bit_string = der_hdr(rsa + 1u) + 1u + rsa;
    size_t spki = 15u /* rsaEncryption, NULL */ + bit_string;
    spki += der_hdr(spki);
    size_t cri = 3u /* version 0 */ + name + spki + 2u /* [0] {} */;
    return der_hdr(cri) + cri;
}

/* The largest body of a request of the device role (field numbers below
 * 16: one-byte tags). */
static size_t request_body_max(unsigned bits)
{
    size_t k8 = (size_t)bits / 8u;
    size_t enrol_init = pb_bytes(1, SKP_KX_PUB_LEN) + pb_bytes(1, k8) + PB_ENUM(1) + PB_U32(1) +
                        pb_bytes(1, SKP_MAX_TOKEN_LEN) + pb_bytes(1, SKP_MAX_SUBJECT_LEN) +
                        pb_bytes(1, SKP_TOKEN_PROOF_LEN);
    size_t enrol_submit = pb_bytes(1, SKP_KEY_ID_LEN) + pb_bytes(1, k8) + pb_bytes(1, SKP_OTP_LEN);
    size_t session_create = pb_bytes(1, SKP_KEY_ID_LEN) + PB_ENUM(1) +
                            pb_bytes(1, SKP_MAX_DIGEST_LEN) + PB_U32(1) + PB_U32(1) +
                            pb_bytes(1, SKP_MAX_DISPLAY_TEXT_LEN) + pb_bytes(1, csr_info_max(bits));
    size_t sign_submit = pb_bytes(1, SKP_SESSION_ID_LEN) + pb_bytes(1, SKP_REQUEST_ID_LEN) +
                         pb_bytes(1, k8) + pb_bytes(1, SKP_OTP_LEN) +
                         pb_bytes(1, SKP_CODE_LEN) /* vc_chosen */;
    size_t revoke = pb_bytes(1, SKP_REQUEST_ID_LEN) + pb_bytes(1, k8) + pb_bytes(1, SKP_OTP_LEN);
    size_t small = pb_bytes(1, SKP_REQUEST_ID_LEN) + pb_bytes(1, SKP_OTP_LEN); /* OTP refresh */
    small = max2(small, pb_bytes(1, SKP_SESSION_ID_LEN) + PB_ENUM(1));         /* refuse */
    small = max2(small, pb_bytes(1, SKP_KEY_ID_LEN));                          /* key state */
    size_t m = max2(enrol_init, enrol_submit);
    m = max2(m, session_create);
    m = max2(m, sign_submit);
    m = max2(m, revoke);
    return max2(m, small);
}

/* The envelope around a DeviceRequest of body_max bytes. */
static size_t envelope_max(size_t body_max)
{
    size_t request = pb_bytes(1, SKP_REQUEST_ID_LEN) + pb_bytes(1, SKP_OTP_LEN) +
                     pb_bytes(1, SKP_CHALLENGE_LEN) + pb_bytes(1, body_max);
    size_t payload = SKP_NONCE_LEN + request + SKP_TAG_LEN;
    return pb_bytes(1, SKP_KEY_ID_LEN) + PB_U32(1) + PB_U64(1) + pb_bytes(1, payload) +
           PB_U32(1) + pb_bytes(1, SKP_KX_PUB_LEN);
}

static unsigned profile_bits(sk_profile profile)
{
    unsigned bits = sk_profile_bits(profile);
    return skp_profile_ok(bits) == SK_OK ? bits : 0;
}

size_t sk_device_request_max_len(sk_profile profile)
{
    unsigned bits = profile_bits(profile);
    if (bits == 0)
        return 0;
    return envelope_max(request_body_max(bits));
}

/* "SKD1" || nonce || XChaCha20-Poly1305 over a DeviceState (field numbers
 * up to 28: two-byte tags throughout, which over-counts the small ones). */
size_t sk_device_state_max_len(sk_profile profile)
{
    unsigned bits = profile_bits(profile);
    if (bits == 0)
        return 0;
    size_t k8 = (size_t)bits / 8u;
    size_t st = PB_U32(2) /* format */ + pb_bytes(2, SKP_KEY_ID_LEN) + PB_ENUM(2) + PB_U32(2) +
                PB_ENUM(2) + pb_bytes(2, SK_WRAPPED_LEN(bits)) + pb_bytes(2, k8) +
                pb_bytes(2, 2u * k8) + pb_bytes(2, SKP_TEK_LEN) + pb_bytes(2, SKP_TEK_LEN) +
                pb_bytes(2, SK_SERVER_PUB_LEN) + pb_bytes(2, SKP_OTP_LEN) +
                pb_bytes(2, SKP_MAX_SUBJECT_LEN) + pb_bytes(2, SKP_MAX_CERT_LEN) +
                pb_bytes(2, SKP_REQUEST_ID_LEN) + pb_bytes(2, SKP_SESSION_ID_LEN) +
                pb_bytes(2, SKP_MAX_DIGEST_LEN) + PB_U32(2) + PB_U32(2) + PB_U32(2) +
                pb_bytes(2, SKP_MAX_SALT_LEN) + pb_bytes(2, request_body_max(bits)) + PB_U32(2) +
                PB_U64(2) /* generation */ + pb_bytes(2, SKP_CODE_LEN) /* pending_vc_chosen */;
    return 4u + SKP_NONCE_LEN + st + SKP_TAG_LEN;
}
