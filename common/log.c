/*
 * log.c - the process logger and transaction ids.
 *
 * Owns the output fd and the level; callers own nothing. A line is built
 * whole in a stack buffer and written with one write() so that threads
 * need no lock: the kernel keeps O_APPEND writes (and pipe writes up to
 * PIPE_BUF) whole. The fd is swapped only by log_open()/log_close(), which
 * run while the process is single-threaded.
 */
#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

static char log_name[64] = "kura";
static int log_fd = STDERR_FILENO;
static atomic_int log_level = LOG_INFO;

int log_open(const char *name, int level, const char *path)
{
    int fd = STDERR_FILENO;

    if (path) {
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (fd == -1)
            return -errno;
    }
    log_close();
    log_fd = fd;
    if (name)
        snprintf(log_name, sizeof(log_name), "%s", name);
    log_set_level(level);
    return 0;
}

void log_close(void)
{
    if (log_fd != STDERR_FILENO)
        close(log_fd);
    log_fd = STDERR_FILENO;
}

void log_set_level(int level)
{
    atomic_store_explicit(&log_level, level, memory_order_relaxed);
}

bool log_enabled(int level)
{
    return level <= atomic_load_explicit(&log_level, memory_order_relaxed);
}

static const struct {
    const char *name;
    int level;
} level_names[] = {
    {"debug", LOG_DEBUG},     {"info", LOG_INFO},    {"notice", LOG_NOTICE},
    {"warning", LOG_WARNING}, {"warn", LOG_WARNING}, {"error", LOG_ERR},
    {"critical", LOG_CRIT},
};

int log_level_parse(const char *name, int *level)
{
    size_t i;

    for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
        if (!strcasecmp(name, level_names[i].name)) {
            *level = level_names[i].level;
            return 0;
        }
    }
    return -EINVAL;
}

int log_level_conf_parse(const char *value, void *field, const char **why)
{
    int err = log_level_parse(value, field);

    if (err)
        *why = "expected debug, info, notice, warning, error or critical";
    return err;
}

/* A growing line in a fixed buffer; 'len' stops at the capacity and
 * 'cut' remembers that something did not fit. */
struct line {
    char buf[LOG_LINE_MAX];
    size_t len;
    bool cut;
};

/* Room for "...\n" is kept back so a cut line still ends well. */
#define LINE_ROOM (LOG_LINE_MAX - 4)

static void put_raw(struct line *l, const char *s, size_t n)
{
    if (l->len + n > LINE_ROOM) {
        n = LINE_ROOM - l->len;
        l->cut = true;
    }
    memcpy(l->buf + l->len, s, n);
    l->len += n;
}

/* Control characters become syslog's "#ooo" so one message is one line. */
static void put_escaped(struct line *l, const char *s)
{
    for (; *s && !l->cut; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[5];

        if (c < 0x20 || c == 0x7f) {
            snprintf(esc, sizeof(esc), "#%03o", c);
            put_raw(l, esc, 4);
        } else {
            put_raw(l, (const char *)&c, 1);
        }
    }
}

static void put_time(struct line *l)
{
    struct timespec now;
    struct tm tm;
    char buf[40];
    int n;

    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    n = snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ ",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                 tm.tm_min, tm.tm_sec, now.tv_nsec / 1000);
    put_raw(l, buf, (size_t)n);
}

__attribute__((format(printf, 3, 0))) static void
emit(const char *txn, struct line *l, const char *fmt, va_list ap)
{
    char msg[LOG_LINE_MAX];
    ssize_t n;

    if (log_fd != STDERR_FILENO)
        put_time(l);
    put_raw(l, log_name, strlen(log_name));
    put_raw(l, ": ", 2);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    put_escaped(l, msg);
    if (txn && *txn) {
        put_raw(l, " (txn: ", 7);
        put_escaped(l, txn);
        put_raw(l, ")", 1);
    }
    if (l->cut) {
        memcpy(l->buf + l->len, "...", 3);
        l->len += 3;
    }
    l->buf[l->len++] = '\n';
    /* One write; a short or failed write to a log has nowhere to go. */
    n = write(log_fd, l->buf, l->len);
    (void)n;
}

void log_msg(int level, const char *fmt, ...)
{
    struct line l;
    va_list ap;

    if (!log_enabled(level))
        return;
    l.len = 0;
    l.cut = false;
    va_start(ap, fmt);
    emit(NULL, &l, fmt, ap);
    va_end(ap);
}

void log_vtxn(int level, const char *txn, const char *fmt, va_list ap)
{
    struct line l;

    if (!log_enabled(level))
        return;
    l.len = 0;
    l.cut = false;
    emit(txn, &l, fmt, ap);
}

void log_txn(int level, const char *txn, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_vtxn(level, txn, fmt, ap);
    va_end(ap);
}

static const char *or_dash(const char *s)
{
    return s && *s ? s : "-";
}

void log_access(const struct log_access *a)
{
    log_msg(LOG_INFO, "%s %s %s %u %llu %llu %.4f %s", or_dash(a->client),
            or_dash(a->method), or_dash(a->path), a->status,
            (unsigned long long)a->bytes_in, (unsigned long long)a->bytes_out,
            a->seconds, or_dash(a->txn));
}

/* 'n' random bytes from a per-thread pool refilled 256 bytes at a time:
 * a getrandom() per request showed in profiles. Transaction ids need to
 * be unique, not secret. */
static void random_bytes(unsigned char *out, size_t n)
{
    static __thread unsigned char pool[256];
    static __thread size_t left;

    if (left < n) {
        /* getrandom() without flags only blocks before the pool is
         * seeded at boot; if it fails anyway, a weaker id is still a
         * usable id. */
        if (getrandom(pool, sizeof(pool), 0) != (ssize_t)sizeof(pool)) {
            struct timespec now;

            clock_gettime(CLOCK_MONOTONIC, &now);
            for (size_t i = 0; i < sizeof(pool); i++)
                pool[i] ^= (unsigned char)((uint64_t)now.tv_nsec >>
                                               (i % 8 * 8) ^
                                           (uintptr_t)&now >> (i % 16) ^ i);
        }
        left = sizeof(pool);
    }
    memcpy(out, pool + sizeof(pool) - left, n);
    left -= n;
}

void txn_id_new(char out[TXN_ID_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char rnd[11];
    size_t i;

    random_bytes(rnd, sizeof(rnd));
    out[0] = 't';
    out[1] = 'x';
    for (i = 0; i < 21; i++)
        out[2 + i] = hex[(rnd[i / 2] >> (i % 2 ? 0 : 4)) & 0xf];
    /* uuid4().hex[:21]: digit 12 is the version, digit 16 the variant */
    out[2 + 12] = '4';
    out[2 + 16] = hex[8 | (rnd[10] & 3)];
    snprintf(out + 23, TXN_ID_LEN + 1 - 23, "-%010llx",
             (unsigned long long)time(NULL) & 0xffffffffffULL);
}
