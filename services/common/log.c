/* log.c - request and notice lines on stderr. */
#define _POSIX_C_SOURCE 200809L
#include "log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "splitkey/splitkey.h"

static const char *log_program = "splitkey";

static const char *const kind_names[SK_REQ_KIND_COUNT] = {
    [SK_REQ_UNKNOWN] = "unknown",
    [SK_REQ_ENROL_INIT] = "enrol-init",
    [SK_REQ_ENROL_SUBMIT] = "enrol-submit",
    [SK_REQ_SESSION_CREATE] = "session-create",
    [SK_REQ_SESSION_FETCH] = "session-fetch",
    [SK_REQ_SESSION_RESULT] = "session-result",
    [SK_REQ_SIGN_SUBMIT] = "sign-submit",
    [SK_REQ_KEY_STATE] = "key-state",
    [SK_REQ_REFRESH_OTP] = "refresh-otp",
    [SK_REQ_REVOKE] = "revoke",
    [SK_REQ_ISSUE] = "issue",
};

const char *sk_req_kind_name(sk_req_kind kind)
{
    if ((int)kind < 0 || kind >= SK_REQ_KIND_COUNT)
        return "unknown";
    return kind_names[kind];
}

void sk_log_init(const char *program)
{
    if (program != NULL)
        log_program = program;
}

uint64_t sk_clock_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Writes "YYYY-MM-DDTHH:MM:SS.uuuuuuZ " into buf; returns its length. */
static size_t log_timestamp(char *buf, size_t cap)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(buf, cap, "%Y-%m-%dT%H:%M:%S", &tm);
    int m = snprintf(buf + n, cap - n, ".%06ldZ ", (long)(ts.tv_nsec / 1000));
    return m < 0 ? n : n + (size_t)m;
}

/* Emits one line with a single write so concurrent lines stay whole. */
static void log_write(const char *line, size_t len)
{
    while (len > 0) {
        ssize_t w = write(STDERR_FILENO, line, len);
        if (w <= 0)
            return;
        line += w;
        len -= (size_t)w;
    }
}

void sk_log_request(sk_req_kind kind, const uint8_t *key_id, int outcome, uint64_t duration_us)
{
    char line[512];
    char key[9] = "-";
    size_t n = log_timestamp(line, sizeof line);
    if (key_id != NULL)
        snprintf(key, sizeof key, "%02x%02x%02x%02x", key_id[0], key_id[1], key_id[2], key_id[3]);
    int m;
    if (outcome == 0)
        m = snprintf(line + n, sizeof line - n, "%s req kind=%s key=%s outcome=0 us=%llu\n",
                     log_program, sk_req_kind_name(kind), key, (unsigned long long)duration_us);
    else
        m = snprintf(line + n, sizeof line - n,
                     "%s req kind=%s key=%s outcome=%d err=\"%s\" us=%llu\n", log_program,
                     sk_req_kind_name(kind), key, outcome, sk_strerror(outcome),
                     (unsigned long long)duration_us);
    if (m > 0)
        log_write(line, n + ((size_t)m < sizeof line - n ? (size_t)m : sizeof line - n - 1));
}

__attribute__((format(printf, 2, 0)))
static void log_message(const char *level, const char *fmt, va_list ap)
{
    char line[1024];
    size_t n = log_timestamp(line, sizeof line);
    int m = snprintf(line + n, sizeof line - n, "%s %s ", log_program, level);
    if (m < 0)
        return;
    n += (size_t)m;
    if (n >= sizeof line - 2)
        return;
    m = vsnprintf(line + n, sizeof line - n - 1, fmt, ap);
    if (m < 0)
        return;
    n += (size_t)m < sizeof line - n - 1 ? (size_t)m : sizeof line - n - 2;
    line[n++] = '\n';
    log_write(line, n);
}

void sk_log_notice(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_message("notice", fmt, ap);
    va_end(ap);
}

void sk_log_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_message("error", fmt, ap);
    va_end(ap);
}

/* ------------------------------------------------ the current request */

struct reqlog {
    bool open;
    bool has_key;
    sk_req_kind kind;
    uint8_t key_id[SK_KEY_ID_LEN];
    uint64_t start_us;
};

static _Thread_local struct reqlog current;

void sk_reqlog_begin(void)
{
    memset(&current, 0, sizeof current);
    current.open = true;
    current.start_us = sk_clock_us();
}

void sk_reqlog_kind(sk_req_kind kind)
{
    if (current.open)
        current.kind = kind;
}

void sk_reqlog_key(const uint8_t *key_id)
{
    if (!current.open || key_id == NULL)
        return;
    memcpy(current.key_id, key_id, SK_KEY_ID_LEN);
    current.has_key = true;
}

void sk_reqlog_end(int outcome)
{
    if (!current.open)
        return;
    sk_log_request(current.kind, current.has_key ? current.key_id : NULL, outcome,
                   sk_clock_us() - current.start_us);
    memset(&current, 0, sizeof current);
}
