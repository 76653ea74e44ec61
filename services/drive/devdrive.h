/* SPDX-License-Identifier: Apache-2.0 */
/*
 * devdrive.h - a device (the library's device role, all state in memory)
 * driving a running splitkey-server over nng: enrolment with its proof of
 * possession, device-initiated sessions, approvals and key-state requests.
 * Shared by the service tests' driver (tests/services/sk_drive.c) and the
 * benchmark's end-to-end measurements (bench/e2e.c).
 *
 * Security properties and limits
 * -------------------------------
 * - For tests and measurements only: PINs are fixed (SK_DEV_PIN_SIGN,
 *   SK_DEV_PIN_AUTH) and the device key is never sealed or stored.
 * - Requests are framed as doc/operations.md says: "SKD1" || bytes.  A
 *   reply that is an "SKE1" frame (the server ran no protocol step) is
 *   returned as its error code.
 * - d->msg holds the request last built, which for an approval carries the
 *   device partial and for an enrolment submit carries ds: the functions
 *   below wipe it once the request is answered; sk_dev_close() wipes it too.
 * - Every reply buffer is wiped before it is freed.
 * - A dev is used by one thread at a time; different devs may run on
 *   different threads (each has its own connection).
 *
 * Conventions: context first, then outputs, then inputs; SK_OK or an error
 * of splitkey.h / svc_error.h.
 */
#ifndef SK_DEVDRIVE_H
#define SK_DEVDRIVE_H

#include <stddef.h>
#include <stdint.h>

#include "splitkey/device.h"
#include "splitkey/key.h"
#include "splitkey/sign.h"
#include "splitkey/splitkey.h"

#define SK_DEV_PIN_SIGN "52719"
#define SK_DEV_PIN_AUTH "5271"
#define SK_DEV_SUBJECT_FMT "C=LV,GN=ANNA,SN=BERZINA,serialNumber=PNOLV-%06u-%05u"

/* What every device of a run shares.  Not copied: it must outlive the devs
 * opened with it. */
typedef struct sk_dev_config {
    const char *url;                        /* the server, e.g. tcp://127.0.0.1:7300 */
    uint8_t server_pub[SK_SERVER_PUB_LEN];  /* pinned: X25519 || Ed25519 */
    sk_profile profile;                     /* of keys enrolled */
    sk_scheme scheme;                       /* of sessions created */
    sk_hash hash;                           /* of digests signed */
    unsigned timeout_ms;                    /* per call */
    unsigned give_up_s;                     /* resend a request without a reply this long;
                                               0: send once */
    const char *token;                      /* registration token, or NULL (open enrolment) */
    const char *subject;                    /* subject asked for, or NULL: SK_DEV_SUBJECT_FMT */
    uint32_t run_tag;                       /* in the default subject, so runs differ */
} sk_dev_config;

/* Loads DIR/server.pub (or any server.pub file) into cfg->server_pub.
 * Returns SK_OK or the error of sk_server_pub_load(). */
int sk_dev_config_load_server_pub(sk_dev_config *cfg, const char *path);

typedef struct sk_dev {
    const sk_dev_config *cfg;
    struct sk_req_client *c;
    sk_device_key *key; /* after sk_dev_enrol() */
    const char *pin;    /* SK_DEV_PIN_SIGN or SK_DEV_PIN_AUTH */
    sk_purpose purpose;
    int64_t now_offset;       /* added to the clock the device's counters read */
    unsigned long failures;   /* calls that got no protocol reply */
    unsigned long replays;    /* replies that said the request was a replay */
    int last_service_error;   /* the code of the last "SKE1" frame */
    uint8_t msg[SK_MAX_MESSAGE_LEN]; /* the request last built (may be secret) */
    size_t msg_len;
} sk_dev;

/* Monotonic microseconds. */
uint64_t sk_dev_mono_us(void);

/* The device clock: Unix seconds plus d->now_offset. */
uint64_t sk_dev_now(const sk_dev *d);

/* Opens d (zeroed first) with a connection to cfg->url.  Returns SK_OK or
 * the error of sk_req_client_open(). */
int sk_dev_open(sk_dev *d, const sk_dev_config *cfg, sk_purpose purpose);

/* Closes d's connection and opens a new one to d->cfg->url (after the
 * server moved, e.g. restarted on another port); the key is kept. */
int sk_dev_reconnect(sk_dev *d);

/* Frees the key and the connection and wipes d->msg.  d may be zeroed. */
void sk_dev_close(sk_dev *d);

/* Sends tag || msg.  SK_OK with a protocol reply in *rep (malloc'd; free it
 * with sk_dev_free_reply()), or the transport error, or the code of an
 * "SKE1" frame (*rep NULL). */
int sk_dev_xcall(sk_dev *d, const char *tag, const uint8_t *msg, size_t len, uint8_t **rep,
                 size_t *rep_len);

/* Wipes and frees a reply; accepts NULL. */
void sk_dev_free_reply(uint8_t *rep, size_t len);

/* Sends d->msg and reads the reply with read().  A request that got no
 * protocol reply (timeout, transport, "SKE1"), or whose reply says it was a
 * replay (the transport delivered it twice, or it was committed before a
 * crash), is rebuilt with rebuild() and sent again, until cfg->give_up_s
 * pass.  Without rebuild() the same bytes are sent again. */
typedef int (*sk_dev_rebuild_fn)(sk_dev *d, void *arg);
typedef int (*sk_dev_read_fn)(sk_dev *d, const uint8_t *rep, size_t rep_len, void *arg);
int sk_dev_transact(sk_dev *d, sk_dev_rebuild_fn rebuild, sk_dev_read_fn read, void *arg);

/* Enrols d's key (open enrolment with cfg->subject or the default subject
 * numbered index, or with cfg->token), then makes its proof-of-possession
 * signature: the key is ACTIVE on SK_OK. */
int sk_dev_enrol(sk_dev *d, unsigned index);

/* A device-initiated session over digest (cfg->hash, cfg->scheme); *s
 * receives the session (free it with sk_device_session_free()), st (may be
 * NULL) the status an error reply carried. */
int sk_dev_create(sk_dev *d, const uint8_t *digest, const char *text, sk_device_session **s,
                  sk_key_status *st);

/* Approval in two steps, so the device partial can be computed ahead of
 * the measured send: sk_dev_approve_build() unwraps dc with pin (secret,
 * not kept), computes the partial and writes SignSubmit to d->msg;
 * sk_dev_approve_send() sends it and reads the signature (sig:
 * SK_MAX_SIG_LEN bytes), resending with sk_device_retry() and the same pin
 * as cfg->give_up_s allows, and wipes d->msg.  pin must stay valid in
 * between.  sk_dev_approve() does both. */
int sk_dev_approve_build(sk_dev *d, const sk_device_session *s, const char *pin);
int sk_dev_approve_send(sk_dev *d, const char *pin, uint8_t *sig, size_t *sig_len,
                        sk_key_status *st);
int sk_dev_approve(sk_dev *d, const sk_device_session *s, const char *pin, uint8_t *sig,
                   size_t *sig_len, sk_key_status *st);
/* sk_dev_approve() for every interaction: vc is the code picked (VC-choice
 * sessions, else NULL), confirmed the confirmation of a confirmation
 * message (sk_device_approve_choice()). */
int sk_dev_approve_choice(sk_dev *d, const sk_device_session *s, const char *pin, const char *vc,
                          int confirmed, uint8_t *sig, size_t *sig_len, sk_key_status *st);

/* Create and approve: one signature of digest. */
int sk_dev_sign(sk_dev *d, const uint8_t *digest, const char *pin, uint8_t *sig, size_t *sig_len,
                sk_key_status *st);

/* The server's view of the key. */
int sk_dev_key_state(sk_dev *d, sk_key_status *st);

#endif
