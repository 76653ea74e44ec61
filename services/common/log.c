/* SPDX-License-Identifier: Apache-2.0 */
/* log.c - request and notice lines: text or JSON on stderr, or journald. */
#define _POSIX_C_SOURCE 200809L
#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <systemd/sd-journal.h>

#include "metrics.h"
#include "splitkey/splitkey.h"
#include "svc_error.h"

static const char *log_program = "splitkey";
static bool log_json;    /* JSON lines on stderr */
static bool log_journal; /* journald, while it answers */
static atomic_bool journal_lost;

/* syslog(3) priorities, as journald takes them */
#define PRIO_ERR 3
#define PRIO_NOTICE 5
#define PRIO_INFO 6

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
    [SK_REQ_CA_STATUS] = "status",
    [SK_REQ_CA_CERT] = "ca-cert",
    [SK_REQ_CA_REVOCATIONS] = "revocations",
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

int sk_log_configure(const char *format, const char *target, char *err, size_t err_len)
{
    bool json = false, journal = false;
    if (format != NULL && strcmp(format, "json") == 0) {
        json = true;
    } else if (format != NULL && strcmp(format, "text") != 0) {
        snprintf(err, err_len, "--log-format %s: expected text or json", format);
        return SK_SVC_ERR_CONFIG;
    }
    if (target != NULL && strcmp(target, "journald") == 0) {
        journal = true;
    } else if (target != NULL && strcmp(target, "stderr") != 0) {
        snprintf(err, err_len, "--log-target %s: expected stderr or journald", target);
        return SK_SVC_ERR_CONFIG;
    }
    log_json = json;
    log_journal = journal;
    atomic_store(&journal_lost, false);
    return SK_OK;
}

uint64_t sk_clock_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Writes "YYYY-MM-DDTHH:MM:SS.uuuuuuZ" and then sep (" " or "") into buf;
 * returns its length. */
static size_t log_timestamp(char *buf, size_t cap, const char *sep)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(buf, cap, "%Y-%m-%dT%H:%M:%S", &tm);
    int m = snprintf(buf + n, cap - n, ".%06ldZ%s", (long)(ts.tv_nsec / 1000), sep);
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

/* A JSON string of s; if s is not UTF-8, its bytes above 0x7f become '?'. */
static json_t *json_text(const char *s)
{
    json_t *j = json_string(s);
    if (j != NULL)
        return j;
    char *copy = strdup(s);
    if (copy == NULL)
        return NULL;
    for (char *p = copy; *p != '\0'; p++)
        if ((unsigned char)*p >= 0x80)
            *p = '?';
    j = json_string(copy);
    free(copy);
    return j;
}

/* Writes obj as one JSON line on stderr (one write) and releases it. */
static void json_line(json_t *obj)
{
    char buf[4096];
    if (obj == NULL)
        return;
    size_t n = json_dumpb(obj, buf, sizeof buf - 1, JSON_COMPACT);
    if (n > 0 && n < sizeof buf - 1) {
        buf[n] = '\n';
        log_write(buf, n + 1);
    } else if (n > 0) {
        char *big = malloc(n + 1);
        if (big != NULL && json_dumpb(obj, big, n, JSON_COMPACT) == n) {
            big[n] = '\n';
            log_write(big, n + 1);
        }
        free(big);
    }
    json_decref(obj);
}

/* A JSON line's common fields. */
static json_t *json_head(const char *level, const char *msg)
{
    char ts[64];
    log_timestamp(ts, sizeof ts, "");
    json_t *o = json_object();
    if (o == NULL)
        return NULL;
    json_object_set_new(o, "ts", json_string(ts));
    json_object_set_new(o, "prog", json_text(log_program));
    json_object_set_new(o, "level", json_string(level));
    json_object_set_new(o, "msg", json_text(msg));
    return o;
}

/* A notice or error line on stderr. */
static void stderr_message(const char *level, const char *msg)
{
    if (log_json) {
        json_line(json_head(level, msg));
        return;
    }
    char line[1200];
    size_t n = log_timestamp(line, sizeof line, " ");
    int m = snprintf(line + n, sizeof line - n, "%s %s %s\n", log_program, level, msg);
    if (m < 0)
        return;
    n += (size_t)m < sizeof line - n ? (size_t)m : sizeof line - n - 1;
    if (line[n - 1] != '\n')
        line[n - 1] = '\n';
    log_write(line, n);
}

/* Whether journald took the entry (rc of sd_journal_send); the first time it
 * does not, the log moves to stderr for good, with one notice. */
static bool journal_sent(int rc)
{
    if (rc >= 0)
        return true;
    bool was = false;
    if (atomic_compare_exchange_strong(&journal_lost, &was, true)) {
        char msg[200];
        snprintf(msg, sizeof msg, "journald is not reachable (%s): logging to stderr",
                 strerror(-rc));
        stderr_message("notice", msg);
    }
    return false;
}

/* sd_journal_send() drops an entry without an error when journald's socket
 * does not exist, so whether journald listens is asked once, before the
 * first entry: a datagram socket connected to it. */
#define JOURNAL_SOCKET "/run/systemd/journal/socket"
static pthread_once_t journal_once = PTHREAD_ONCE_INIT;
static int journal_probe_errno;

static void journal_probe(void)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    memcpy(sa.sun_path, JOURNAL_SOCKET, sizeof JOURNAL_SOCKET);
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        journal_probe_errno = errno;
        return;
    }
    journal_probe_errno = connect(fd, (const struct sockaddr *)&sa, sizeof sa) == 0 ? 0 : errno;
    close(fd);
}

static bool use_journal(void)
{
    if (!log_journal || atomic_load(&journal_lost))
        return false;
    pthread_once(&journal_once, journal_probe);
    if (journal_probe_errno != 0)
        return journal_sent(-journal_probe_errno); /* false, with the notice once */
    return true;
}

void sk_log_request(sk_req_kind kind, const uint8_t *key_id, int outcome, uint64_t duration_us)
{
    char key[9] = "-";
    if (key_id != NULL)
        snprintf(key, sizeof key, "%02x%02x%02x%02x", key_id[0], key_id[1], key_id[2], key_id[3]);
    const char *kname = sk_req_kind_name(kind);
    unsigned long long us = (unsigned long long)duration_us;
    /* the text line, without its time and program */
    char text[400];
    if (outcome == 0)
        snprintf(text, sizeof text, "req kind=%s key=%s outcome=0 us=%llu", kname, key, us);
    else
        snprintf(text, sizeof text, "req kind=%s key=%s outcome=%d err=\"%s\" us=%llu", kname,
                 key, outcome, sk_strerror(outcome), us);

    if (use_journal() &&
        journal_sent(sd_journal_send("MESSAGE=%s", text, "PRIORITY=%d", PRIO_INFO,
                                     "SYSLOG_IDENTIFIER=%s", log_program, "SPLITKEY_KIND=%s",
                                     kname, "SPLITKEY_KEY=%s", key, "SPLITKEY_OUTCOME=%d",
                                     outcome, "SPLITKEY_ERR=%s",
                                     outcome == 0 ? "" : sk_strerror(outcome),
                                     "SPLITKEY_US=%llu", us, NULL)))
        return;
    if (log_json) {
        json_t *o = json_head("info", "request");
        if (o == NULL)
            return;
        json_object_set_new(o, "kind", json_string(kname));
        json_object_set_new(o, "key", key_id != NULL ? json_string(key) : json_null());
        json_object_set_new(o, "outcome", json_integer(outcome));
        json_object_set_new(o, "err", outcome == 0 ? json_null() : json_text(sk_strerror(outcome)));
        json_object_set_new(o, "us", json_integer((json_int_t)duration_us));
        json_line(o);
        return;
    }
    char line[512];
    size_t n = log_timestamp(line, sizeof line, " ");
    int m = snprintf(line + n, sizeof line - n, "%s %s\n", log_program, text);
    if (m > 0)
        log_write(line, n + ((size_t)m < sizeof line - n ? (size_t)m : sizeof line - n - 1));
}

__attribute__((format(printf, 3, 0)))
static void log_message(const char *level, int priority, const char *fmt, va_list ap)
{
    char msg[1024];
    int m = vsnprintf(msg, sizeof msg, fmt, ap);
    if (m < 0)
        return;
    msg[strcspn(msg, "\n")] = '\0'; /* one line, whatever the message holds */
    if (use_journal() &&
        journal_sent(sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%d", priority,
                                     "SYSLOG_IDENTIFIER=%s", log_program, NULL)))
        return;
    stderr_message(level, msg);
}

void sk_log_notice(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_message("notice", PRIO_NOTICE, fmt, ap);
    va_end(ap);
}

void sk_log_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_message("error", PRIO_ERR, fmt, ap);
    va_end(ap);
}

/* ------------------------------------------------ the current request */

struct reqlog {
    bool open;
    bool has_key;
    sk_req_kind kind;
    int result; /* -1: none (sk_reqlog_result) */
    uint8_t key_id[SK_KEY_ID_LEN];
    uint64_t start_us;
};

static _Thread_local struct reqlog current;

void sk_reqlog_begin(void)
{
    memset(&current, 0, sizeof current);
    current.open = true;
    current.result = -1;
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

void sk_reqlog_result(int result)
{
    if (current.open)
        current.result = result;
}

void sk_reqlog_finish(int outcome, int write_line)
{
    if (!current.open)
        return;
    uint64_t us = sk_clock_us() - current.start_us;
    sk_metrics_request(current.kind, outcome, current.result, us);
    if (write_line)
        sk_log_request(current.kind, current.has_key ? current.key_id : NULL, outcome, us);
    memset(&current, 0, sizeof current);
}

void sk_reqlog_end(int outcome) { sk_reqlog_finish(outcome, 1); }
