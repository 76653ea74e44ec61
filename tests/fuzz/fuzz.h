/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz.h - the libFuzzer entry points every harness defines.  The same
 * harness links either with libFuzzer (-fsanitize=fuzzer, SK_BUILD_FUZZ) or
 * with replay.c, a plain main() that feeds it the committed corpus so that
 * ctest exercises the corpus in every build.
 *
 * A harness returns 0 for every input; a bug is a crash, a sanitizer report
 * or a broken invariant, which the harness turns into abort(). */
#ifndef SK_FUZZ_H
#define SK_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An invariant that must hold for every input. */
#define FUZZ_ASSERT(cond)                                                            \
    do {                                                                             \
        if (!(cond)) {                                                               \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__,     \
                    #cond);                                                          \
            abort();                                                                 \
        }                                                                            \
    } while (0)

#endif
