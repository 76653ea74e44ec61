/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_name.c - libFuzzer harness for the distinguished-name text parser:
 * whatever parses must format and parse back to the same name. */
#include <stdlib.h>
#include <string.h>

#include "splitkey/pki.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Results land here so that none is ignored. */
/* Results are folded into an unsigned sink (wrap-around is defined) so the
 * calls cannot be optimised away. */
static volatile unsigned sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready)
        ready = sk_init() == SK_OK;
    char *text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    sk_name *a = NULL, *b = NULL, *p = NULL;
    const char *why;
    if (sk_name_parse(&a, &why, text) == SK_OK) {
        static char out[8192], again[8192];
        size_t w, w2;
        if (sk_name_format(a, out, sizeof out, &w) != SK_OK ||
            sk_name_parse(&b, &why, out) != SK_OK ||
            sk_name_format(b, again, sizeof again, &w2) != SK_OK || w != w2 ||
            memcmp(out, again, w) != 0)
            abort(); /* the text form must round-trip */
    }
    sink += (unsigned)sk_name_parse_person(&p, &why, text);
    sk_name_free(a);
    sk_name_free(b);
    sk_name_free(p);
    free(text);
    return 0;
}
