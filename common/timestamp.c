/*
 * timestamp.c - parsing and formatting Swift timestamps.
 *
 * Swift keeps a timestamp as a Python float and derives every string from
 * "%016.05f" of it, so the string, not the float, is the real value: two
 * inputs that print alike are the same timestamp. We parse with strtod and
 * print with "%.5f" exactly as Python does, then keep the printed digits as
 * integer ticks; from then on nothing is floating point, except where Swift
 * itself goes back through a float (isoformat), which we mimic to print the
 * same microseconds. The process never calls setlocale(), so strtod and
 * printf use '.' as Swift does.
 */
#include "common/timestamp.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* snprintf through a va_list: gcc's -Wformat-truncation cannot see that
 * our fields (seconds < 10^10, tm fields) always fit, and we size every
 * buffer for the widest legal value. */
__attribute__((format(printf, 3, 4))) static void format(char *buf, size_t size,
                                                         const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, size, fmt, ap);
    va_end(ap);
}

/* Python's float() syntax without the parts Swift cannot use (inf, nan,
 * underscores, whitespace) and without '-': [+] digits [. digits] [exp],
 * where either side of the dot may be empty but not both. */
static bool is_decimal(const char *s, size_t len)
{
    size_t i = 0, int_digits = 0, frac_digits = 0;

    if (i < len && s[i] == '+')
        i++;
    while (i < len && isdigit((unsigned char)s[i]))
        i++, int_digits++;
    if (i < len && s[i] == '.') {
        i++;
        while (i < len && isdigit((unsigned char)s[i]))
            i++, frac_digits++;
    }
    if (int_digits + frac_digits == 0)
        return false;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        size_t exp_digits = 0;

        i++;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            i++;
        while (i < len && isdigit((unsigned char)s[i]))
            i++, exp_digits++;
        if (!exp_digits)
            return false;
    }
    return i == len;
}

/* Seconds as Swift's "%.5f" prints them, into ticks. */
static int ticks_from_decimal(const char *s, size_t len, uint64_t *ticks)
{
    char copy[64], printed[64], *end, *dot;
    double d;

    if (len == 0 || len >= sizeof(copy) || !is_decimal(s, len))
        return -EINVAL;
    memcpy(copy, s, len);
    copy[len] = '\0';
    errno = 0;
    d = strtod(copy, &end);
    if (*end || !isfinite(d) || d < 0 || d >= (double)TIMESTAMP_MAX_SECS)
        return -EINVAL;
    snprintf(printed, sizeof(printed), "%.5f", d);
    dot = strchr(printed, '.');
    if (!dot) /* cannot happen with %.5f */
        return -EINVAL;
    *dot = '\0';
    *ticks = strtoull(printed, NULL, 10) * TIMESTAMP_TICKS_PER_SEC +
             strtoull(dot + 1, NULL, 10);
    /* "%.5f" may round 9999999999.999996 up to 10^10 */
    if (*ticks >= TIMESTAMP_MAX_SECS * TIMESTAMP_TICKS_PER_SEC)
        return -EINVAL;
    return 0;
}

/* Python's int(s, 16) for what Swift writes: hex digits, any number of
 * leading zeros, a value that fits 64 bits. Empty means 0, as in Swift. */
static int offset_from_hex(const char *s, uint64_t *offset)
{
    uint64_t v = 0;

    for (; *s; s++) {
        int digit;

        if (!isxdigit((unsigned char)*s))
            return -EINVAL;
        digit = isdigit((unsigned char)*s)
                    ? *s - '0'
                    : tolower((unsigned char)*s) - 'a' + 10;
        if (v > (UINT64_MAX >> 4))
            return -EINVAL;
        v = v << 4 | (uint64_t)digit;
    }
    *offset = v;
    return 0;
}

int timestamp_parse(const char *s, struct timestamp *out)
{
    const char *underscore = strchr(s, '_');
    size_t base_len = underscore ? (size_t)(underscore - s) : strlen(s);
    struct timestamp ts = {0};
    int err;

    *out = ts;
    err = ticks_from_decimal(s, base_len, &ts.ticks);
    if (!err && underscore)
        err = offset_from_hex(underscore + 1, &ts.offset);
    if (!err)
        *out = ts;
    return err;
}

void timestamp_now(struct timestamp *out)
{
    struct timespec now;

    clock_gettime(CLOCK_REALTIME, &now);
    out->ticks = (uint64_t)now.tv_sec * TIMESTAMP_TICKS_PER_SEC +
                 ((uint64_t)now.tv_nsec + 5000) / 10000;
    out->offset = 0;
}

int timestamp_from_secs(uint64_t secs, struct timestamp *out)
{
    if (secs >= TIMESTAMP_MAX_SECS)
        return -EINVAL;
    out->ticks = secs * TIMESTAMP_TICKS_PER_SEC;
    out->offset = 0;
    return 0;
}

int timestamp_cmp(const struct timestamp *a, const struct timestamp *b)
{
    if (a->ticks != b->ticks)
        return a->ticks < b->ticks ? -1 : 1;
    if (a->offset != b->offset)
        return a->offset < b->offset ? -1 : 1;
    return 0;
}

char *timestamp_normal(const struct timestamp *ts,
                       char buf[TIMESTAMP_NORMAL_SIZE])
{
    format(buf, TIMESTAMP_NORMAL_SIZE, "%010llu.%05llu",
           (unsigned long long)(ts->ticks / TIMESTAMP_TICKS_PER_SEC),
           (unsigned long long)(ts->ticks % TIMESTAMP_TICKS_PER_SEC));
    return buf;
}

char *timestamp_internal(const struct timestamp *ts,
                         char buf[TIMESTAMP_INTERNAL_SIZE])
{
    timestamp_normal(ts, buf);
    if (ts->offset)
        snprintf(buf + TIMESTAMP_NORMAL_SIZE - 1,
                 TIMESTAMP_INTERNAL_SIZE - TIMESTAMP_NORMAL_SIZE + 1,
                 "_%016llx", (unsigned long long)ts->offset);
    return buf;
}

char *timestamp_short(const struct timestamp *ts,
                      char buf[TIMESTAMP_INTERNAL_SIZE])
{
    timestamp_normal(ts, buf);
    if (ts->offset)
        snprintf(buf + TIMESTAMP_NORMAL_SIZE - 1,
                 TIMESTAMP_INTERNAL_SIZE - TIMESTAMP_NORMAL_SIZE + 1, "_%llx",
                 (unsigned long long)ts->offset);
    return buf;
}

/* Python's round() of a non-negative double: half to even. Spelled out to
 * keep libm out of the library. */
static double round_half_even(double x)
{
    double r = (double)(uint64_t)x, diff = x - r;

    if (diff > 0.5 || (diff == 0.5 && (uint64_t)r % 2))
        r += 1;
    return r;
}

char *timestamp_isoformat(const struct timestamp *ts,
                          char buf[TIMESTAMP_ISO_SIZE])
{
    /* Swift: t = float(normal); frac, t = modf(t); us = round(frac * 1e6).
     * Near 10^10 a double resolves only ~2 µs, so the float detour can move
     * the microseconds; take the same detour to print the same digits. */
    double t = (double)ts->ticks / 1e5;
    double whole = (double)(uint64_t)t;
    double us = round_half_even((t - whole) * 1e6);
    time_t secs;
    struct tm tm;

    if (us >= 1e6) {
        whole += 1;
        us -= 1e6;
    }
    secs = (time_t)whole;
    gmtime_r(&secs, &tm);
    format(buf, TIMESTAMP_ISO_SIZE, "%04d-%02d-%02dT%02d:%02d:%02d.%06d",
           tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
           tm.tm_sec, (int)us);
    return buf;
}

uint64_t timestamp_ceil_secs(const struct timestamp *ts)
{
    return (ts->ticks + TIMESTAMP_TICKS_PER_SEC - 1) / TIMESTAMP_TICKS_PER_SEC;
}

/* strftime's %a and %b follow the locale; HTTP wants English. */
static const char wdays[7][4] = {"Sun", "Mon", "Tue", "Wed",
                                 "Thu", "Fri", "Sat"};
static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

char *timestamp_http_date(const struct timestamp *ts,
                          char buf[TIMESTAMP_HTTP_SIZE])
{
    time_t secs = (time_t)timestamp_ceil_secs(ts);
    struct tm tm;

    gmtime_r(&secs, &tm);
    format(buf, TIMESTAMP_HTTP_SIZE, "%s, %02d %s %04d %02d:%02d:%02d GMT",
           wdays[tm.tm_wday], tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900,
           tm.tm_hour, tm.tm_min, tm.tm_sec);
    return buf;
}

int timestamp_parse_http_date(const char *s, time_t *out)
{
    static const char *const formats[] = {
        "%a, %d %b %Y %H:%M:%S GMT", /* IMF-fixdate */
        "%A, %d-%b-%y %H:%M:%S GMT", /* RFC 850 */
        "%a %b %e %H:%M:%S %Y",      /* asctime */
    };
    size_t i;

    for (i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
        struct tm tm = {0};
        const char *end = strptime(s, formats[i], &tm);

        if (end && *end == '\0') {
            *out = timegm(&tm);
            return 0;
        }
    }
    return -EINVAL;
}
