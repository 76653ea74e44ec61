/* SPDX-License-Identifier: Apache-2.0 */
/* json.c - the tool's use of jansson: memory that is wiped before it is
 * released, strict loading of one object with messages in the tool's words,
 * and the layout of the files it writes (two-space indent, members in the
 * order they were added, a final newline). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "splitkey/splitkey.h"

/* Every block jansson allocates carries its size in front, so that it can be
 * wiped when released: vector files hold (test) key shares, and jansson keeps
 * copies of the text it parses (tokens, strings, member names). */
typedef union block_head {
    size_t size;
    max_align_t align;
} block_head;

static void *wiping_malloc(size_t size)
{
    block_head *h;
    if (size > SIZE_MAX - sizeof *h)
        return NULL;
    h = malloc(sizeof *h + size);
    if (h == NULL)
        return NULL;
    h->size = size;
    return h + 1;
}

static void wiping_free(void *p)
{
    block_head *h;
    if (p == NULL)
        return;
    h = (block_head *)p - 1;
    sk_wipe(p, h->size);
    free(h);
}

void cli_json_init(void) { json_set_alloc_funcs(wiping_malloc, wiping_free); }

/* jansson's message for the codes it has no wording of ours for, without the
 * " near '...'" it may add: that part quotes the file, and the files hold key
 * shares. */
static void jansson_text(char *out, size_t cap, const json_error_t *e)
{
    char *near;
    snprintf(out, cap, "%s", e->text);
    near = strstr(out, " near ");
    if (near != NULL)
        *near = 0;
}

/* Whether text holds nothing but JSON whitespace. */
static int blank(const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (text[i] != ' ' && text[i] != '\t' && text[i] != '\r' && text[i] != '\n')
            return 0;
    return 1;
}

json_t *cli_json_parse(const char *text, size_t len, char *err, size_t err_len)
{
    json_error_t e;
    json_t *obj;
    char what[JSON_ERROR_TEXT_LENGTH];

    if (err_len > 0)
        err[0] = 0;
    obj = json_loadb(text, len, JSON_REJECT_DUPLICATES, &e);
    if (obj != NULL && json_is_object(obj))
        return obj;
    if (obj != NULL) {
        json_decref(obj);
        snprintf(err, err_len, "an array where one object was expected");
        return NULL;
    }
    switch (json_error_code(&e)) {
    case json_error_duplicate_key:
        snprintf(what, sizeof what, "duplicate member");
        break;
    case json_error_end_of_input_expected:
        snprintf(what, sizeof what, "trailing data after the object");
        break;
    case json_error_premature_end_of_input:
        if (blank(text, len))
            snprintf(what, sizeof what, "no object: the text is empty");
        else
            snprintf(what, sizeof what, "the text ends before the object is complete");
        break;
    case json_error_invalid_utf8:
        snprintf(what, sizeof what, "invalid UTF-8");
        break;
    case json_error_numeric_overflow:
        snprintf(what, sizeof what, "number too large");
        break;
    case json_error_null_character:
    case json_error_null_byte_in_key:
        snprintf(what, sizeof what, "NUL character in a string");
        break;
    case json_error_out_of_memory:
        snprintf(what, sizeof what, "out of memory");
        break;
    default:
        jansson_text(what, sizeof what, &e);
        break;
    }
    snprintf(err, err_len, "%s at line %d, byte %d", what, e.line, e.position);
    /* jansson's text (and what is left of it past the cut) may quote the file */
    sk_wipe(&e, sizeof e);
    sk_wipe(what, sizeof what);
    return NULL;
}

int cli_json_write(FILE *f, const json_t *obj)
{
    if (json_dumpf(obj, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0 || fputc('\n', f) == EOF)
        return -1;
    return 0;
}
