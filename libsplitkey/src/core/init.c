/* SPDX-License-Identifier: Apache-2.0 */
/* init.c - library initialisation, version, names and sizes of the enums. */
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static atomic_bool initialised;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

/* GMP memory functions that wipe.  GMP passes the old size to realloc and
 * free, so every block is wiped with its exact length before it goes back. */
static void *sk_gmp_alloc(size_t n)
{
    void *p = malloc(n);
    if (p == NULL)
        abort(); /* GMP has no way to report allocation failure */
    return p;
}

static void *sk_gmp_realloc(void *old, size_t old_size, size_t new_size)
{
    void *p = sk_gmp_alloc(new_size);
    memcpy(p, old, old_size < new_size ? old_size : new_size);
    sodium_memzero(old, old_size);
    free(old);
    return p;
}

static void sk_gmp_free(void *p, size_t size)
{
    if (p == NULL)
        return;
    sodium_memzero(p, size);
    free(p);
}

static void sk_init_once(void)
{
    if (sodium_init() < 0)
        return;
    mp_set_memory_functions(sk_gmp_alloc, sk_gmp_realloc, sk_gmp_free);
    atomic_store(&initialised, true);
}

int sk_init(void)
{
    pthread_once(&init_once, sk_init_once);
    return atomic_load(&initialised) ? SK_OK : SK_ERR_NOT_INITIALISED;
}

bool sk_is_initialised(void) { return atomic_load(&initialised); }

const char *sk_version(void) { return SK_VERSION_STRING; }

static const struct {
    const char *name;
    int value;
} profiles[] = {{"4K", SK_PROFILE_4K}, {"6K", SK_PROFILE_6K}, {"8K", SK_PROFILE_8K}},
  hashes[] = {{"sha256", SK_HASH_SHA256}, {"sha384", SK_HASH_SHA384},
              {"sha512", SK_HASH_SHA512}},
  schemes[] = {{"pkcs1", SK_SCHEME_PKCS1}, {"pss", SK_SCHEME_PSS}};

#define SK_COUNT(a) (sizeof(a) / sizeof((a)[0]))

int sk_profile_parse(sk_profile *out, const char *name)
{
    for (size_t i = 0; i < SK_COUNT(profiles); i++)
        if (strcmp(name, profiles[i].name) == 0) {
            *out = (sk_profile)profiles[i].value;
            return SK_OK;
        }
    return SK_ERR_ARG;
}

int sk_hash_parse(sk_hash *out, const char *name)
{
    for (size_t i = 0; i < SK_COUNT(hashes); i++)
        if (strcmp(name, hashes[i].name) == 0) {
            *out = (sk_hash)hashes[i].value;
            return SK_OK;
        }
    return SK_ERR_ARG;
}

int sk_scheme_parse(sk_scheme *out, const char *name)
{
    for (size_t i = 0; i < SK_COUNT(schemes); i++)
        if (strcmp(name, schemes[i].name) == 0) {
            *out = (sk_scheme)schemes[i].value;
            return SK_OK;
        }
    return SK_ERR_ARG;
}

const char *sk_profile_name(sk_profile profile)
{
    for (size_t i = 0; i < SK_COUNT(profiles); i++)
        if ((int)profile == profiles[i].value)
            return profiles[i].name;
    return "?";
}

const char *sk_hash_name(sk_hash hash)
{
    if (hash == SK_HASH_SHA1)
        return "sha1";
    if (hash == SK_HASH_SHA224)
        return "sha224";
    for (size_t i = 0; i < SK_COUNT(hashes); i++)
        if ((int)hash == hashes[i].value)
            return hashes[i].name;
    return "?";
}

const char *sk_scheme_name(sk_scheme scheme)
{
    for (size_t i = 0; i < SK_COUNT(schemes); i++)
        if ((int)scheme == schemes[i].value)
            return schemes[i].name;
    return "?";
}

size_t sk_hash_len(sk_hash hash) { return sk_hash_len_internal(hash); }

unsigned sk_profile_bits(sk_profile profile)
{
    switch (profile) {
    case SK_PROFILE_4K:
    case SK_PROFILE_6K:
    case SK_PROFILE_8K:
        return (unsigned)profile;
    }
    return 0;
}

size_t sk_profile_sig_len(sk_profile profile) { return SK_SIG_LEN(sk_profile_bits(profile)); }
size_t sk_profile_partial_len(sk_profile profile)
{
    return SK_PARTIAL_LEN(sk_profile_bits(profile));
}
size_t sk_profile_dc_len(sk_profile profile)
{
    unsigned bits = sk_profile_bits(profile);
    return bits ? SK_DC_LEN(bits) : 0;
}

void sk_wipe(void *p, size_t len)
{
    if (p != NULL && len > 0)
        sodium_memzero(p, len);
}

int sk_memequal_ct(const void *a, const void *b, size_t len)
{
    return sodium_memcmp(a, b, len) == 0 ? 0 : -1;
}
