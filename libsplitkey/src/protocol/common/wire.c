/* SPDX-License-Identifier: Apache-2.0 */
/* wire.c - protobuf-c glue: a wiping allocator, packing, field limit checks,
 * error bodies. */
#include <sodium.h>
#include <string.h>

#include "protocol/common/protocol.h"

/* Blocks carry their size in front so that free can wipe them: protobuf-c's
 * free callback is not told the size. */
typedef union {
    size_t size;
    max_align_t align;
} skp_block_head;

static void *wipe_alloc(void *ctx, size_t size)
{
    (void)ctx;
    if (size > SIZE_MAX - sizeof(skp_block_head))
        return NULL;
    skp_block_head *h = malloc(sizeof *h + size);
    if (h == NULL)
        return NULL;
    h->size = size;
    return h + 1;
}

static void wipe_free(void *ctx, void *p)
{
    (void)ctx;
    if (p == NULL)
        return;
    skp_block_head *h = (skp_block_head *)p - 1;
    sodium_memzero(p, h->size);
    free(h);
}

static ProtobufCAllocator wiping_allocator = {wipe_alloc, wipe_free, NULL};

int skp_unpack(const ProtobufCMessageDescriptor *desc, ProtobufCMessage **out, const uint8_t *in,
               size_t len, size_t max)
{
    *out = NULL;
    if (len > max)
        return SK_ERR_LIMIT;
    ProtobufCMessage *m = protobuf_c_message_unpack(desc, &wiping_allocator, len, in);
    if (m == NULL)
        return SK_ERR_PROTO_DECODE;
    /* Strict parsing: a field this version does not know is refused, so no
     * two different byte strings carry the same message. */
    if (m->n_unknown_fields != 0) {
        protobuf_c_message_free_unpacked(m, &wiping_allocator);
        return SK_ERR_PROTO_DECODE;
    }
    *out = m;
    return SK_OK;
}

void skp_free(ProtobufCMessage *msg)
{
    if (msg != NULL)
        protobuf_c_message_free_unpacked(msg, &wiping_allocator);
}

int skp_pack(const ProtobufCMessage *msg, uint8_t *out, size_t cap, size_t *written)
{
    size_t need = protobuf_c_message_get_packed_size(msg);
    *written = need;
    if (need > cap)
        return SK_ERR_BUFFER_TOO_SMALL;
    if (protobuf_c_message_pack(msg, out) != need)
        return SK_ERR_INTERNAL;
    return SK_OK;
}

int skp_check_len(const ProtobufCBinaryData *b, size_t exact)
{
    return b->len == exact ? SK_OK : SK_ERR_LIMIT;
}

int skp_check_max(const ProtobufCBinaryData *b, size_t max)
{
    return b->len <= max ? SK_OK : SK_ERR_LIMIT;
}

int skp_check_text(const char *s, size_t max)
{
    if (s == NULL)
        return SK_OK;
    const char *end = memchr(s, '\0', max + 1);
    if (end == NULL)
        return SK_ERR_LIMIT;
    size_t n = (size_t)(end - s);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            return SK_ERR_LIMIT;
    }
    return SK_OK;
}

void skp_copy(uint8_t *dst, size_t *dst_len, const ProtobufCBinaryData *b)
{
    if (b->len > 0)
        memcpy(dst, b->data, b->len);
    *dst_len = b->len;
}

void skp_rng(sk_rng *rng, sk_random_fn fn, void *ctx)
{
    if (fn == NULL) {
        *rng = *sk_rng_system();
    } else {
        rng->fill = fn;
        rng->ctx = ctx;
    }
}

int skp_purpose_ok(uint32_t purpose)
{
    return purpose == SK_PURPOSE_AUTH || purpose == SK_PURPOSE_SIGN || purpose == SK_PURPOSE_SEAL
               ? SK_OK
               : SK_ERR_PROTO_DECODE;
}

int skp_sign_hash_ok(uint32_t hash)
{
    return hash == SK_HASH_SHA256 || hash == SK_HASH_SHA384 || hash == SK_HASH_SHA512
               ? SK_OK
               : SK_ERR_PROTO_DECODE;
}

int skp_scheme_ok(uint32_t scheme)
{
    return scheme == SK_SCHEME_PKCS1 || scheme == SK_SCHEME_PSS ? SK_OK : SK_ERR_PROTO_DECODE;
}

int skp_profile_ok(uint32_t profile)
{
    return profile == SK_PROFILE_4K || profile == SK_PROFILE_6K || profile == SK_PROFILE_8K
               ? SK_OK
               : SK_ERR_PROTO_DECODE;
}

int skp_error_body(uint8_t *out, size_t cap, size_t *written, int code, const sk_key_status *status)
{
    Splitkey__Error e = SPLITKEY__ERROR__INIT;
    e.code = -code;
    if (status != NULL) {
        e.attempts_left = status->attempts_left;
        e.locked_until = status->locked_until;
        e.destroy_reason = (uint32_t)status->destroy_reason;
    }
    return skp_pack(&e.base, out, cap, written);
}

int skp_error_read(const uint8_t *body, size_t len, sk_key_status *status)
{
    ProtobufCMessage *m;
    int rc = skp_unpack(&splitkey__error__descriptor, &m, body, len, SKP_MAX_BODY_LEN);
    if (rc != SK_OK)
        return rc;
    Splitkey__Error *e = (Splitkey__Error *)m;
    int code = -e->code;
    /* Only the protocol's own error range travels; anything else is malformed. */
    if (code > -1 || code < -139 || e->destroy_reason > SK_DESTROY_ABANDONED)
        rc = SK_ERR_PROTO_DECODE;
    else
        rc = code;
    if (status != NULL && rc != SK_ERR_PROTO_DECODE) {
        status->attempts_left = e->attempts_left;
        status->locked_until = e->locked_until;
        status->destroy_reason = (sk_destroy_reason)e->destroy_reason;
        if (rc == SK_ERR_DESTROYED || rc == SK_ERR_CLONE_DETECTED)
            status->state = SK_KEY_DESTROYED;
        else if (rc == SK_ERR_LOCKED || (rc == SK_ERR_WRONG_PIN && e->locked_until != 0))
            status->state = SK_KEY_TIMELOCKED;
    }
    skp_free(m);
    return rc;
}
