/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log.h - one line per request and per notice, with typed fields only.
 *
 * Nothing in this interface takes request or reply bytes: a request line
 * holds the time, the request kind (an enum), the first 4 bytes of the key id
 * (public, for correlation), the outcome (an error code) and the duration in
 * microseconds.  There is no way to hand it a buffer, a PIN, a share or an
 * OTP, so a handler cannot log one by accident.
 *
 * Lines go to stderr (the default) or to journald (sk_log_configure).  On
 * stderr, in text (the default; one write(2) per line, so lines from several
 * threads never interleave):
 *   2026-11-22T12:00:00.123456Z splitkey-server req kind=sign-submit
 *       key=0a1b2c3d outcome=0 us=1234
 * (on one line; key=- when the request names no key; outcome is 0 or a
 * negative error code, followed by err="..." with its description), or in
 * JSON, one object per line, also written at once:
 *   {"ts":"2026-11-22T12:00:00.123456Z","prog":"splitkey-server",
 *    "level":"info","msg":"request","kind":"sign-submit","key":"0a1b2c3d",
 *    "outcome":0,"err":null,"us":1234}
 * (notices and errors: ts, prog, level "notice" or "error", msg).  To
 * journald, one entry per line with MESSAGE (the text line without time and
 * program), PRIORITY, SYSLOG_IDENTIFIER and for requests SPLITKEY_KIND,
 * SPLITKEY_KEY, SPLITKEY_OUTCOME, SPLITKEY_ERR, SPLITKEY_US; when journald
 * cannot be reached the lines go to stderr instead, after one notice.
 *
 * The request being served by the current thread carries its own record:
 * the REP loop opens it before calling the handler and closes it after
 * (writing its line, and counting it in metrics.h: the same record feeds
 * both), and the handler fills in what only it knows with sk_reqlog_kind()
 * and sk_reqlog_key().
 */
#ifndef SK_LOG_H
#define SK_LOG_H

#include <stddef.h>
#include <stdint.h>

/* Request kinds of the share server and the CA (protocol message types). */
typedef enum sk_req_kind {
    SK_REQ_UNKNOWN = 0,   /* not parsed (malformed, oversized, not yet handled) */
    SK_REQ_ENROL_INIT,
    SK_REQ_ENROL_SUBMIT,
    SK_REQ_SESSION_CREATE,
    SK_REQ_SESSION_FETCH,
    SK_REQ_SESSION_RESULT,
    SK_REQ_SIGN_SUBMIT,
    SK_REQ_KEY_STATE,
    SK_REQ_REFRESH_OTP,
    SK_REQ_REVOKE,
    SK_REQ_ISSUE,
    SK_REQ_CA_STATUS,     /* the CA: a certificate's status */
    SK_REQ_CA_CERT,       /* the CA: its own certificate */
    SK_REQ_CA_REVOCATIONS, /* the CA: an RA's revocations since a sequence number */
    SK_REQ_KIND_COUNT
} sk_req_kind;

/* Short name of a kind ("sign-submit"); "unknown" for out-of-range values. */
const char *sk_req_kind_name(sk_req_kind kind);

/* Sets the program name printed on every line (a static string). */
void sk_log_init(const char *program);

/* Chooses the format of the lines on stderr ("text" or "json"; NULL: text)
 * and where they go ("stderr" or "journald"; NULL: stderr).  Call once at
 * start, before any thread logs.  Returns SK_OK or SK_SVC_ERR_CONFIG with a
 * one-line message in err. */
int sk_log_configure(const char *format, const char *target, char *err, size_t err_len);

/* The options of every service's run command, for its sk_opt table
 * (config.h): --log-format and --log-target, both char *. */
#define SK_LOG_OPTS(format_ptr, target_ptr)                                                  \
    {.name = "log-format", .type = SK_OPT_STRING, .value = (format_ptr),                     \
     .arg = "text|json", .help = "log lines as text (default) or as one JSON object each"},  \
    {.name = "log-target", .type = SK_OPT_STRING, .value = (target_ptr),                     \
     .arg = "TARGET",                                                                        \
     .help = "stderr (default) or journald: where the log goes (stderr when journald "      \
             "cannot be reached)"}

/* Writes a request line. key_id is NULL or SK_KEY_ID_LEN (16) bytes. */
void sk_log_request(sk_req_kind kind, const uint8_t *key_id, int outcome, uint64_t duration_us);

/* Operational messages (start, stop, configuration, pool refills).  The
 * format string must be a literal; never pass key material, request bytes
 * or anything read from a secret file. */
void sk_log_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void sk_log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Per-thread record of the request being served. */
void sk_reqlog_begin(void);
void sk_reqlog_kind(sk_req_kind kind);
void sk_reqlog_key(const uint8_t *key_id);
/* For a handler whose reply carries a result code of its own protocol (the
 * CA's): the result of this request, an index into the names given to
 * sk_metrics_result_names(); it names the outcome in the metrics when the
 * handler returns 0. */
void sk_reqlog_result(int result);
/* Closes the record of the current request: counts it (metrics.h) and, if
 * write_line, writes its line; then clears it. */
void sk_reqlog_finish(int outcome, int write_line);
/* sk_reqlog_finish(outcome, 1). */
void sk_reqlog_end(int outcome);

/* Monotonic clock in microseconds (durations only). */
uint64_t sk_clock_us(void);

#endif
