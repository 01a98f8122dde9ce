/*
 * log.h - one logger per process, in Swift's shape: syslog levels, lines
 * prefixed with the process name ("object-server: ..."), and the
 * transaction id appended to every line written for a request:
 *
 *   object-server: cannot write '/srv/node/d1/...': No space left on device
 *   (txn: tx7f3ab2c0d1e4f5a6b7c8d-0065a1b2c3)
 *
 * Output goes to stderr unless log_open() names a file (appended to, each
 * line prefixed with its UTC time). Control characters in messages are
 * written as "#ooo" (octal, as syslog does) so that a line is always one
 * line, whatever a client put in a path or header.
 *
 * A daemon ignores SIGPIPE at startup (signal(SIGPIPE, SIG_IGN)): a log
 * written to a closed pipe must not kill it.
 *
 * Threads: log_open() and log_close() run at startup and shutdown, before
 * and after the request threads. Everything else is thread-safe: the level
 * is an atomic and each line reaches the fd in one write() (O_APPEND), so
 * lines from concurrent requests never interleave. The level is checked
 * before any formatting, so a disabled log_debug() costs one load.
 */
#ifndef COMMON_LOG_H
#define COMMON_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <syslog.h> /* LOG_ERR .. LOG_DEBUG */

/* Longest line written, newline included; longer messages are cut and end
 * with "...". */
#define LOG_LINE_MAX 4096

/* Sets the process name and level (LOG_INFO before any call) and opens
 * 'path' for appending, or uses stderr when 'path' is NULL. Returns 0 or
 * -errno (the previous output stays). 'name' and 'path' are copied. */
int log_open(const char *name, int level, const char *path);

/* Closes a log file opened by log_open() and goes back to stderr. */
void log_close(void);

void log_set_level(int level);
bool log_enabled(int level);

/* Swift's log_level names, case-insensitive: debug, info, notice, warning
 * (or warn), error, critical. Returns 0 and the syslog level in *level, or
 * -EINVAL. */
int log_level_parse(const char *name, int *level);

__attribute__((format(printf, 2, 3))) void log_msg(int level, const char *fmt,
                                                   ...);
/* As log_msg(), ending the line with " (txn: <txn>)" when txn is non-NULL
 * and non-empty. */
__attribute__((format(printf, 3, 4))) void log_txn(int level, const char *txn,
                                                   const char *fmt, ...);

/* log_txn() for wrappers that carry their own arguments (req_log). */
__attribute__((format(printf, 3, 0))) void
log_vtxn(int level, const char *txn, const char *fmt, va_list ap);

/* Checked before the arguments are evaluated, not just formatted. */
#define log_at(level, ...)                                                     \
    do {                                                                       \
        if (log_enabled(level))                                                \
            log_msg(level, __VA_ARGS__);                                       \
    } while (0)
#define log_crit(...) log_at(LOG_CRIT, __VA_ARGS__)
#define log_err(...) log_at(LOG_ERR, __VA_ARGS__)
#define log_warning(...) log_at(LOG_WARNING, __VA_ARGS__)
#define log_notice(...) log_at(LOG_NOTICE, __VA_ARGS__)
#define log_info(...) log_at(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_at(LOG_DEBUG, __VA_ARGS__)

/* Transaction ids, Swift's generate_trans_id(): "tx" + 21 hex digits of a
 * random UUID + "-" + 10 hex digits of the unix time, e.g.
 * "tx7f3ab2c0d1e4f5a6b7c8d-0065a1b2c3". Thread-safe. */
#define TXN_ID_LEN 34
void txn_id_new(char out[TXN_ID_LEN + 1]);

/* One access-log line per request (the proxy's proxy_logging), at
 * LOG_INFO: client method path status bytes_in bytes_out seconds txn, a '-'
 * for a missing field:
 *   proxy-server: 127.0.0.1 PUT /v1/AUTH_test/c/o 201 1024 0 0.0123 tx...
 * 'path' is logged as sent (still percent-encoded); no query strings, tokens
 * or bodies. */
struct log_access {
    const char *client;
    const char *method;
    const char *path;
    unsigned int status;
    uint64_t bytes_in;
    uint64_t bytes_out;
    double seconds;
    const char *txn;
};
void log_access(const struct log_access *a);

/* The logging options of every daemon's config table (see conf.h): the
 * daemon's struct embeds a struct log_conf as member 'm':
 *   LOG_CONF_OPTIONS(struct proxy_conf, log, "proxy-server"),
 * then calls log_open(c.log.name, c.log.level, c.log.file). Free the
 * strings with conf_release() like any other. */
struct log_conf {
    char *name; /* log_name */
    int level;  /* log_level */
    char *file; /* log_file: NULL means stderr (our option; Swift uses
                   syslog's log_address) */
};
int log_level_conf_parse(const char *value, void *field, const char **why);
#define LOG_CONF_OPTIONS(T, m, default_name)                                   \
    CONF_STR("log_name", T, m.name, default_name),                             \
        CONF_CUSTOM("log_level", T, m.level, int, "info",                      \
                    log_level_conf_parse),                                     \
        CONF_STR("log_file", T, m.file, NULL)

#endif /* COMMON_LOG_H */
