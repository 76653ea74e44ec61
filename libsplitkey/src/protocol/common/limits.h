/* SPDX-License-Identifier: Apache-2.0 */
/*
 * limits.h - every size limit of the protocol, in one place.
 *
 * Each field of a message or record is checked against its limit right after
 * unpacking and before it is used (wire.c has the checks).  Byte fields of a
 * fixed size are checked for that exact size.
 */
#ifndef SK_PROTOCOL_LIMITS_H
#define SK_PROTOCOL_LIMITS_H

#include "splitkey/device.h"
#include "splitkey/key.h"
#include "splitkey/server.h"

#define SKP_KEY_ID_LEN SK_KEY_ID_LEN         /* 16, random */
#define SKP_SESSION_ID_LEN SK_SESSION_ID_LEN /* 16, random */
#define SKP_REQUEST_ID_LEN SK_REQUEST_ID_LEN /* 16, random */
#define SKP_TOKEN_ID_LEN SK_TOKEN_ID_LEN
#define SKP_OTP_LEN 32u /* one-time password */
#define SKP_OTP_HASH_LEN 32u
#define SKP_KX_PUB_LEN 32u /* X25519 public key */
#define SKP_TEK_LEN 32u    /* transport key, one per direction */
#define SKP_ED_PUB_LEN 32u
#define SKP_ED_SIG_LEN 64u
#define SKP_NONCE_LEN 24u /* XChaCha20-Poly1305-IETF nonce */
#define SKP_TAG_LEN 16u
#define SKP_HASH32_LEN 32u /* transcript hashes */
#define SKP_HIST_LEN 8u    /* retired one-time passwords a key record remembers */
#define SKP_CHALLENGE_LEN 40u       /* issued_at (8) || BLAKE2b-256 tag */
#define SKP_CHALLENGE_SECONDS 120u  /* how long a challenge is honoured */
#define SKP_TOKEN_SECRET_LEN 32u    /* the secret part of a registration token */
#define SKP_TOKEN_PROOF_LEN 32u

#define SKP_MAX_BITS 4096u                 /* k of the largest profile */
#define SKP_MAX_N1_LEN (SKP_MAX_BITS / 8u) /* 512: n1, n2, ds, y */
#define SKP_MAX_N_LEN (SKP_MAX_BITS / 4u)  /* 1024: n, s */
#define SKP_MAX_SERVER_KEY_LEN SK_SERVER_KEY_LEN(SKP_MAX_BITS)
#define SKP_MAX_WRAPPED_LEN SK_WRAPPED_LEN(SKP_MAX_BITS)
#define SKP_MAX_DIGEST_LEN SK_MAX_HASH_LEN               /* 64 */
#define SKP_MAX_SALT_LEN SK_MAX_HASH_LEN                 /* 64 */
#define SKP_MAX_SUBJECT_LEN SK_MAX_SUBJECT_LEN           /* 512 */
#define SKP_MAX_TOKEN_LEN SK_MAX_TOKEN_LEN               /* 1024 (text) */
#define SKP_MAX_DISPLAY_TEXT_LEN SK_MAX_DISPLAY_TEXT_LEN /* 800 */
#define SKP_MAX_RP_NAME_LEN 128u
#define SKP_MAX_RP_REF_LEN 256u /* SessionCreate.rp_ref */
#define SKP_MAX_PERSON_ID_LEN SK_MAX_PERSON_ID_LEN
#define SKP_MAX_FETCH_SESSIONS SK_MAX_FETCH_SESSIONS /* sessions in one fetch reply */
#define SKP_CODE_LEN 4u                               /* verification code digits */
#define SKP_MAX_CERT_LEN 8192u                        /* DER certificate */
#define SKP_MAX_CSR_INFO_LEN 4096u /* a CSR's DER CertificationRequestInfo */
#define SKP_MAX_MESSAGE_LEN SK_MAX_MESSAGE_LEN        /* 16384: any envelope or RP message */
#define SKP_MAX_BODY_LEN (SKP_MAX_MESSAGE_LEN - 256u) /* a body inside an envelope */
#define SKP_MAX_RECORD_LEN SK_MAX_RECORD_LEN          /* a serialised key or session record */

#endif /* SK_PROTOCOL_LIMITS_H */
