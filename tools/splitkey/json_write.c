/* json_write.c - writes one flat JSON object, one member per line.  Enough
 * for the test-vector files; strings are escaped per RFC 8259. */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

void json_begin(json_writer *w, FILE *f)
{
    w->f = f;
    w->members = 0;
    fputs("{\n", f);
}

static void write_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", f);
        else if (c == '\t')
            fputs("\\t", f);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static void member(json_writer *w, const char *key)
{
    if (w->members++ > 0)
        fputs(",\n", w->f);
    fputs("  ", w->f);
    write_string(w->f, key);
    fputs(": ", w->f);
}

void json_string(json_writer *w, const char *key, const char *value)
{
    member(w, key);
    write_string(w->f, value);
}

void json_int(json_writer *w, const char *key, unsigned long value)
{
    member(w, key);
    fprintf(w->f, "%lu", value);
}

void json_hex(json_writer *w, const char *key, const uint8_t *data, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    member(w, key);
    fputc('"', w->f);
    for (size_t i = 0; i < len; i++) {
        fputc(digits[data[i] >> 4], w->f);
        fputc(digits[data[i] & 15], w->f);
    }
    fputc('"', w->f);
}

void json_end(json_writer *w) { fputs("\n}\n", w->f); }
