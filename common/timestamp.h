/*
 * timestamp.h - Swift's Timestamp: the X-Timestamp of every write, the name
 * of every .data/.ts/.meta file and the order of every replica.
 *
 * A timestamp is seconds since the epoch in 10 µs ticks (Swift's 'raw')
 * plus an optional 64-bit offset that orders rewrites of the same instant.
 * Integers make comparisons exact: a < b iff (ticks, offset) is smaller,
 * which is also the order of the internal strings Swift compares.
 *
 * Strings (Swift's names):
 *   normal    "1700000000.12345"                  always 16 characters
 *   internal  "1700000000.12345_000000000000000a" offset only when non-zero
 *   short     "1700000000.12345_a"                offset only when non-zero
 *   isoformat "2023-11-14T22:13:20.123450"         container listings
 *   HTTP date "Tue, 14 Nov 2023 22:13:21 GMT"      Last-Modified (rounded up)
 *
 * struct timestamp is a value type: copy it, compare it, no cleanup. All
 * functions are thread-safe (they format into the caller's buffer).
 */
#ifndef COMMON_TIMESTAMP_H
#define COMMON_TIMESTAMP_H

#include <stdint.h>
#include <time.h>

#define TIMESTAMP_TICKS_PER_SEC 100000ULL
/* Swift refuses 10,000,000,000 (year 2286) and above. */
#define TIMESTAMP_MAX_SECS 10000000000ULL

/* Buffer sizes, terminating NUL included. */
#define TIMESTAMP_NORMAL_SIZE 17   /* "1700000000.12345" */
#define TIMESTAMP_INTERNAL_SIZE 34 /* normal + "_" + 16 hex */
#define TIMESTAMP_ISO_SIZE 27      /* "2023-11-14T22:13:20.123450" */
#define TIMESTAMP_HTTP_SIZE 30     /* "Tue, 14 Nov 2023 22:13:21 GMT" */

struct timestamp {
    uint64_t ticks;  /* 10 µs units since the epoch, < 10^15 */
    uint64_t offset; /* orders writes with equal ticks; 0 for clients */
};

/* Parses an X-Timestamp value as Swift's Timestamp() does: a decimal number
 * of seconds ("1700000000", "1700000000.12345", "1.7e9"), more than five
 * decimals rounded to ticks exactly as Swift's "%.5f", optionally followed
 * by "_" and a hex offset. Returns 0, or -EINVAL for anything else:
 * garbage, whitespace, a sign of '-', NaN, infinity, 10^10 s or more, an
 * offset over 16 hex digits of value. *out is zeroed on failure. */
int timestamp_parse(const char *s, struct timestamp *out);

/* The current time, like Swift's Timestamp.now(); offset 0. */
void timestamp_now(struct timestamp *out);

/* A timestamp from whole seconds (e.g. time(NULL)); 'secs' must be below
 * TIMESTAMP_MAX_SECS (-EINVAL otherwise). */
int timestamp_from_secs(uint64_t secs, struct timestamp *out);

/* <0, 0, >0 as a is older than, equal to, newer than b. */
int timestamp_cmp(const struct timestamp *a, const struct timestamp *b);

/* Formatters write into 'buf' (the size above) and return it. */
char *timestamp_normal(const struct timestamp *ts,
                       char buf[TIMESTAMP_NORMAL_SIZE]);
char *timestamp_internal(const struct timestamp *ts,
                         char buf[TIMESTAMP_INTERNAL_SIZE]);
char *timestamp_short(const struct timestamp *ts,
                      char buf[TIMESTAMP_INTERNAL_SIZE]);
char *timestamp_isoformat(const struct timestamp *ts,
                          char buf[TIMESTAMP_ISO_SIZE]);
/* RFC 1123 date of the timestamp rounded up to a whole second, as Swift
 * sets Last-Modified (math.ceil(float(x_timestamp))). */
char *timestamp_http_date(const struct timestamp *ts,
                          char buf[TIMESTAMP_HTTP_SIZE]);

/* Whole seconds rounded up (Swift's Timestamp.ceil()). */
uint64_t timestamp_ceil_secs(const struct timestamp *ts);

/* Parses an HTTP date in any of the three forms RFC 7231 requires
 * recipients to accept (IMF-fixdate, RFC 850, asctime), for
 * If-Modified-Since and friends. Returns 0 and the seconds since the epoch
 * in *out, or -EINVAL. */
int timestamp_parse_http_date(const char *s, time_t *out);

#endif /* COMMON_TIMESTAMP_H */
