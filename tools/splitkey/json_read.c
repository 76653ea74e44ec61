/* json_read.c - a strict reader for the flat JSON objects the vectors tool
 * writes: one object, members whose values are strings or non-negative
 * integers, no duplicate names, nothing but whitespace after the object.
 * Anything else (nesting, floats, negative numbers, true/false/null, bad
 * escapes, raw control characters, invalid UTF-8) is an error.  Vector files
 * hold (test) key shares, so every buffer that held file text is wiped before
 * it is released. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "splitkey/splitkey.h"

typedef struct parser {
    const char *p;
    size_t len;
    size_t pos;
    char *err;
    size_t err_len;
} parser;

static int fail(parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(parser *ps, const char *fmt, ...)
{
    char msg[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(ps->err, ps->err_len, "%s at byte %zu", msg, ps->pos);
    return -1;
}

static void skip_ws(parser *ps)
{
    while (ps->pos < ps->len) {
        char c = ps->p[ps->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        ps->pos++;
    }
}

static int peek(parser *ps) { return ps->pos < ps->len ? (unsigned char)ps->p[ps->pos] : -1; }

static int expect(parser *ps, char c)
{
    skip_ws(ps);
    if (peek(ps) != (unsigned char)c)
        return fail(ps, "expected '%c'", c);
    ps->pos++;
    return 0;
}

static int hex4(parser *ps, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int c = peek(ps);
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return fail(ps, "bad \\u escape");
        ps->pos++;
    }
    *out = v;
    return 0;
}

/* Length of a valid UTF-8 sequence starting at s (at most n bytes), 0 if
 * invalid (overlong forms, surrogates and values above U+10FFFF included). */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned cp;
    size_t len;
    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        len = 2, cp = s[0] & 0x1fu;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        len = 3, cp = s[0] & 0x0fu;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        len = 4, cp = s[0] & 0x07u;
    else
        return 0;
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3fu);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

static void free_wiped(char *p, size_t len)
{
    if (p != NULL) {
        sk_wipe(p, len);
        free(p);
    }
}

/* Parses a string at the cursor into a new NUL-terminated buffer.  \u escapes
 * are accepted for U+0001..U+007F only (the writer never emits others). */
static int parse_string(parser *ps, char **out)
{
    size_t cap = 64, used = 0;
    char *buf;

    *out = NULL;
    skip_ws(ps);
    if (peek(ps) != '"')
        return fail(ps, "expected a string");
    ps->pos++;
    buf = malloc(cap);
    if (buf == NULL)
        return fail(ps, "out of memory");
    for (;;) {
        int c = peek(ps);
        char add[4];
        size_t n = 1;

        if (c < 0) {
            free_wiped(buf, cap);
            return fail(ps, "unterminated string");
        }
        if (c == '"') {
            ps->pos++;
            break;
        }
        if (c < 0x20) {
            free_wiped(buf, cap);
            return fail(ps, "control character in string");
        }
        if (c == '\\') {
            int e;
            ps->pos++;
            e = peek(ps);
            ps->pos++;
            switch (e) {
            case '"': add[0] = '"'; break;
            case '\\': add[0] = '\\'; break;
            case '/': add[0] = '/'; break;
            case 'n': add[0] = '\n'; break;
            case 't': add[0] = '\t'; break;
            case 'r': add[0] = '\r'; break;
            case 'b': add[0] = '\b'; break;
            case 'f': add[0] = '\f'; break;
            case 'u': {
                unsigned v = 0;
                if (hex4(ps, &v) != 0) {
                    free_wiped(buf, cap);
                    return -1;
                }
                if (v == 0 || v > 0x7f) {
                    free_wiped(buf, cap);
                    return fail(ps, "\\u escape outside U+0001..U+007F");
                }
                add[0] = (char)v;
                break;
            }
            default:
                ps->pos--;
                free_wiped(buf, cap);
                return fail(ps, "bad escape");
            }
        } else {
            n = utf8_len((const unsigned char *)ps->p + ps->pos, ps->len - ps->pos);
            if (n == 0) {
                free_wiped(buf, cap);
                return fail(ps, "invalid UTF-8");
            }
            memcpy(add, ps->p + ps->pos, n);
            ps->pos += n;
        }
        if (used + n + 1 > cap) {
            /* grow by copying, so that no unwiped copy is left behind */
            char *nbuf = malloc(cap * 2);
            if (nbuf == NULL) {
                free_wiped(buf, cap);
                return fail(ps, "out of memory");
            }
            memcpy(nbuf, buf, used);
            free_wiped(buf, cap);
            buf = nbuf;
            cap *= 2;
        }
        memcpy(buf + used, add, n);
        used += n;
    }
    buf[used] = 0;
    *out = buf;
    return 0;
}

/* A non-negative integer without sign, fraction, exponent or leading zero. */
static int parse_uint(parser *ps, unsigned long *out)
{
    unsigned long v = 0;
    size_t start = ps->pos;
    while (peek(ps) >= '0' && peek(ps) <= '9') {
        unsigned d = (unsigned)(peek(ps) - '0');
        if (v > (999999999UL - d) / 10)
            return fail(ps, "integer too large");
        v = v * 10 + d;
        ps->pos++;
    }
    if (ps->pos == start)
        return fail(ps, "expected a string or a non-negative integer");
    if (ps->pos - start > 1 && ps->p[start] == '0')
        return fail(ps, "leading zero in integer");
    if (peek(ps) == '.' || peek(ps) == 'e' || peek(ps) == 'E')
        return fail(ps, "only integers are accepted");
    *out = v;
    return 0;
}

void json_free(json_object *obj)
{
    for (size_t i = 0; i < obj->count; i++) {
        free_wiped(obj->members[i].key, strlen(obj->members[i].key));
        if (obj->members[i].str != NULL)
            free_wiped(obj->members[i].str, strlen(obj->members[i].str));
    }
    free(obj->members);
    obj->members = NULL;
    obj->count = 0;
}

const json_member *json_get(const json_object *obj, const char *key)
{
    for (size_t i = 0; i < obj->count; i++)
        if (strcmp(obj->members[i].key, key) == 0)
            return &obj->members[i];
    return NULL;
}

int json_parse(json_object *out, const char *text, size_t len, char *err, size_t err_len)
{
    parser ps = {text, len, 0, err, err_len};
    size_t cap = 0;

    out->members = NULL;
    out->count = 0;
    if (err_len > 0)
        err[0] = 0;
    if (expect(&ps, '{') != 0)
        return -1;
    skip_ws(&ps);
    if (peek(&ps) == '}') {
        ps.pos++;
    } else {
        for (;;) {
            json_member m = {NULL, JSON_STRING, NULL, 0};
            if (parse_string(&ps, &m.key) != 0)
                goto fail;
            if (json_get(out, m.key) != NULL) {
                fail(&ps, "duplicate member \"%s\"", m.key);
                free(m.key);
                goto fail;
            }
            if (expect(&ps, ':') != 0) {
                free(m.key);
                goto fail;
            }
            skip_ws(&ps);
            if (peek(&ps) == '"') {
                m.type = JSON_STRING;
                if (parse_string(&ps, &m.str) != 0) {
                    free(m.key);
                    goto fail;
                }
            } else {
                m.type = JSON_INT;
                if (parse_uint(&ps, &m.num) != 0) {
                    free(m.key);
                    goto fail;
                }
            }
            if (out->count == cap) {
                size_t ncap = cap ? cap * 2 : 32;
                json_member *nm = realloc(out->members, ncap * sizeof *nm);
                if (nm == NULL) {
                    free(m.key);
                    if (m.str != NULL)
                        free_wiped(m.str, strlen(m.str));
                    fail(&ps, "out of memory");
                    goto fail;
                }
                out->members = nm;
                cap = ncap;
            }
            out->members[out->count++] = m;
            skip_ws(&ps);
            if (peek(&ps) == ',') {
                ps.pos++;
                continue;
            }
            if (peek(&ps) == '}') {
                ps.pos++;
                break;
            }
            fail(&ps, "expected ',' or '}'");
            goto fail;
        }
    }
    skip_ws(&ps);
    if (ps.pos != ps.len) {
        fail(&ps, "trailing data after the object");
        goto fail;
    }
    return 0;

fail:
    json_free(out);
    return -1;
}
