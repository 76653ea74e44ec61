/* SPDX-License-Identifier: Apache-2.0 */
/* nullarg.h - for tests that pass NULL to arguments the public headers mark
 * nonnull, to check that the library still answers SK_ERR_ARG.  The NULL goes
 * through a volatile pointer (so the compiler cannot see it), and the
 * function is exempt from the sanitizer's call-site nonnull check. */
#ifndef SK_TEST_NULLARG_H
#define SK_TEST_NULLARG_H

#if defined(__GNUC__) || defined(__clang__)
#define SK_TEST_PASSES_NULL __attribute__((no_sanitize("nonnull-attribute")))
#else
#define SK_TEST_PASSES_NULL
#endif

#endif
