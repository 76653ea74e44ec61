/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pin.h - reading a PIN for splitkey-client: from a file (--pin-file FILE,
 * "-" for standard input) or from the terminal with echo off.  Never from a
 * command-line value, where other users could read it.
 *
 * The PIN is secret: it lives only in the caller's cu_pin, which pin_wipe()
 * clears on every path.  Nothing here prints it.
 */
#ifndef SK_CLIENT_PIN_H
#define SK_CLIENT_PIN_H

#include <stddef.h>
#include <stdint.h>

#include "splitkey/device.h"

typedef struct cu_pin {
    uint8_t digits[SK_PIN_MAX + 8];
    size_t len;
} cu_pin;

/* Reads the PIN for purpose: from path when not NULL, else from /dev/tty
 * after printing prompt there.  Checks it with sk_pin_check().  On failure
 * writes a one-line reason to err and leaves *pin wiped.
 * Returns SK_OK, SK_ERR_ARG (the PIN breaks the rules of its purpose, or
 * there is no terminal to ask), SK_ERR_NOT_FOUND / SK_SVC_ERR_IO (file). */
int pin_read(cu_pin *pin, sk_purpose purpose, const char *path, const char *prompt, char *err,
             size_t err_len);

void pin_wipe(cu_pin *pin);

/* Reads a registration token (secret until used, like a PIN: never a flag
 * value) from path, "-" for standard input, into out (NUL-terminated). */
int token_read(char *out, size_t cap, const char *path, char *err, size_t err_len);

#endif
