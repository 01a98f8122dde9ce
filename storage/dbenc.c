/*
 * dbenc.c - value encodings of the container and account databases and
 * the text forms of Swift timestamps. Formats are specified in
 * doc/container-format.md; this file must change with it.
 */
#include "storage/dbenc.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h> /* modf, in libc */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define TICKS_PER_SEC 100000u

int db_ts_parse(const char *s, struct db_ts *out)
{
    uint64_t secs = 0, frac = 0, off = 0;
    int ndigits = 0, nfrac = 0, nhex = 0;

    *out = (struct db_ts){0};
    for (; *s >= '0' && *s <= '9'; s++, ndigits++) {
        if (secs > (UINT64_MAX / TICKS_PER_SEC - 9) / 10)
            return -EINVAL;
        secs = secs * 10 + (uint64_t)(*s - '0');
    }
    if (*s == '.') {
        for (s++; *s >= '0' && *s <= '9'; s++, nfrac++) {
            if (nfrac == 5)
                return -EINVAL;
            frac = frac * 10 + (uint64_t)(*s - '0');
        }
    }
    if (ndigits + nfrac == 0)
        return -EINVAL;
    for (int i = nfrac; i < 5; i++)
        frac *= 10;
    if (*s == '_') {
        for (s++; *s; s++, nhex++) {
            int c = *s;
            unsigned v;

            if (c >= '0' && c <= '9')
                v = (unsigned)(c - '0');
            else if (c >= 'a' && c <= 'f')
                v = (unsigned)(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F')
                v = (unsigned)(c - 'A' + 10);
            else
                return -EINVAL;
            if (nhex == 16)
                return -EINVAL;
            off = off << 4 | v;
        }
        if (nhex == 0)
            return -EINVAL;
    }
    if (*s)
        return -EINVAL;
    out->raw = secs * TICKS_PER_SEC + frac;
    out->offset = off;
    return 0;
}

void db_ts_format(const struct db_ts *ts, char out[DB_TS_LEN])
{
    uint64_t secs = ts->raw / TICKS_PER_SEC;
    unsigned frac = (unsigned)(ts->raw % TICKS_PER_SEC);

    if (ts->offset)
        snprintf(out, DB_TS_LEN, "%010" PRIu64 ".%05u_%016" PRIx64, secs, frac,
                 ts->offset);
    else
        snprintf(out, DB_TS_LEN, "%010" PRIu64 ".%05u", secs, frac);
}

/* Writes 'v' as exactly 'n' decimal digits. */
static char *digits(char *p, unsigned long long v, int n)
{
    for (int i = n - 1; i >= 0; i--, v /= 10)
        p[i] = (char)('0' + v % 10);
    return p + n;
}

/* Python's round() of a non-negative double below 2^52: x - trunc(x) is
 * exact there. */
static uint64_t round_half_even(double x)
{
    uint64_t i = (uint64_t)x;
    double d = x - (double)i;

    if (d > 0.5 || (d == 0.5 && (i & 1)))
        i++;
    return i;
}

/* Swift's Timestamp.isoformat computes in floating point: float(normal),
 * math.modf, round(frac * 1e6) half-even. Past ~2100 that differs from
 * the decimal digits (…35.21341 -> …35.213409), so we do the same with
 * doubles, strtod() rounding as Python's float() does. The date is then
 * arithmetic instead of gmtime_r(), whose glibc version takes the timezone
 * lock (a listing formats 10,000 of these): Howard Hinnant's civil date
 * from days, proleptic Gregorian as Python's datetime. */
void db_ts_isoformat(const struct db_ts *ts, char out[DB_ISO_LEN])
{
    struct db_ts normal = {.raw = ts->raw};
    char text[DB_TS_LEN];
    double t, ip, frac;
    uint64_t secs, us;

    db_ts_format(&normal, text);
    t = strtod(text, NULL);
    frac = modf(t, &ip);
    us = round_half_even(frac * 1e6);
    secs = (uint64_t)ip;
    if (us >= 1000000) {
        secs++;
        us -= 1000000;
    }

    uint64_t days = secs / 86400, sod = secs % 86400;
    uint64_t z = days + 719468, era = z / 146097, doe = z - era * 146097;
    uint64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    uint64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    uint64_t mp = (5 * doy + 2) / 153;
    uint64_t day = doy - (153 * mp + 2) / 5 + 1;
    uint64_t month = mp < 10 ? mp + 3 : mp - 9;
    uint64_t year = yoe + era * 400 + (month <= 2);
    char *p = out;

    /* Years past 9999 do not fit; Swift's datetime refuses them too. */
    p = digits(p, year % 10000, 4);
    *p++ = '-';
    p = digits(p, month, 2);
    *p++ = '-';
    p = digits(p, day, 2);
    *p++ = 'T';
    p = digits(p, sod / 3600, 2);
    *p++ = ':';
    p = digits(p, sod / 60 % 60, 2);
    *p++ = ':';
    p = digits(p, sod % 60, 2);
    *p++ = '.';
    p = digits(p, us, 6);
    *p = '\0';
}

int db_ts_cmp(const struct db_ts *a, const struct db_ts *b)
{
    if (a->raw != b->raw)
        return a->raw < b->raw ? -1 : 1;
    if (a->offset != b->offset)
        return a->offset < b->offset ? -1 : 1;
    return 0;
}

int db_make_id(char out[DB_ID_LEN])
{
    unsigned char r[16];

    if (getrandom(r, sizeof(r), 0) != sizeof(r))
        return -EIO;
    r[6] = (r[6] & 0x0f) | 0x40;
    r[8] = (r[8] & 0x3f) | 0x80;
    snprintf(out, DB_ID_LEN,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
             "%02x%02x%02x%02x%02x%02x",
             r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10],
             r[11], r[12], r[13], r[14], r[15]);
    return 0;
}

void dbenc_release(struct dbenc *e)
{
    free(e->p);
    *e = (struct dbenc){0};
}

static bool reserve(struct dbenc *e, size_t n)
{
    size_t cap;
    unsigned char *p;

    if (e->err)
        return false;
    if (e->len + n <= e->cap)
        return true;
    cap = e->cap ? e->cap * 2 : 256;
    while (cap < e->len + n)
        cap *= 2;
    p = realloc(e->p, cap);
    if (!p) {
        e->err = -ENOMEM;
        return false;
    }
    e->p = p;
    e->cap = cap;
    return true;
}

void dbenc_bytes(struct dbenc *e, const void *p, size_t n)
{
    if (!n || !reserve(e, n))
        return;
    memcpy(e->p + e->len, p, n);
    e->len += n;
}

void dbenc_u8(struct dbenc *e, unsigned v)
{
    unsigned char c = (unsigned char)v;

    dbenc_bytes(e, &c, 1);
}

void dbenc_be32(struct dbenc *e, uint32_t v)
{
    unsigned char b[4] = {v >> 24, v >> 16, v >> 8, v};

    dbenc_bytes(e, b, 4);
}

void dbenc_be64(struct dbenc *e, uint64_t v)
{
    unsigned char b[8];

    for (int i = 7; i >= 0; i--, v >>= 8)
        b[i] = (unsigned char)v;
    dbenc_bytes(e, b, 8);
}

void dbenc_varint(struct dbenc *e, uint64_t v)
{
    unsigned char b[10];
    size_t n = 0;

    while (v >= 0x80) {
        b[n++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    b[n++] = (unsigned char)v;
    dbenc_bytes(e, b, n);
}

void dbenc_svarint(struct dbenc *e, int64_t v)
{
    dbenc_varint(e, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

void dbenc_str(struct dbenc *e, const void *p, size_t n)
{
    dbenc_varint(e, n);
    dbenc_bytes(e, p, n);
}

void dbenc_ts(struct dbenc *e, const struct db_ts *ts)
{
    dbenc_varint(e, ts->raw);
    dbenc_varint(e, ts->offset);
}

void dbdec_init(struct dbdec *d, const void *p, size_t n)
{
    d->p = p;
    d->end = d->p + n;
    d->err = 0;
}

static bool need(struct dbdec *d, size_t n)
{
    if (d->err)
        return false;
    if ((size_t)(d->end - d->p) < n) {
        d->err = -EINVAL;
        return false;
    }
    return true;
}

unsigned dbdec_u8(struct dbdec *d)
{
    if (!need(d, 1))
        return 0;
    return *d->p++;
}

uint64_t dbdec_be64(struct dbdec *d)
{
    uint64_t v = 0;

    if (!need(d, 8))
        return 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | *d->p++;
    return v;
}

uint64_t dbdec_varint(struct dbdec *d)
{
    uint64_t v = 0;

    for (unsigned shift = 0; shift < 64; shift += 7) {
        unsigned c;

        if (!need(d, 1))
            return 0;
        c = *d->p++;
        v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80))
            return v;
    }
    d->err = -EINVAL;
    return 0;
}

int64_t dbdec_svarint(struct dbdec *d)
{
    uint64_t v = dbdec_varint(d);

    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

size_t dbdec_str(struct dbdec *d, const char **p)
{
    uint64_t n = dbdec_varint(d);

    *p = "";
    if (!need(d, n))
        return 0;
    *p = (const char *)d->p;
    d->p += n;
    return (size_t)n;
}

char *dbdec_strdup(struct dbdec *d)
{
    const char *p;
    size_t n = dbdec_str(d, &p);
    char *s;

    if (d->err)
        return NULL;
    s = malloc(n + 1);
    if (!s) {
        d->err = -ENOMEM;
        return NULL;
    }
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

void dbdec_ts(struct dbdec *d, struct db_ts *ts)
{
    ts->raw = dbdec_varint(d);
    ts->offset = dbdec_varint(d);
}

void db_key_prefix(unsigned char out[DB_KEY_PREFIX_LEN], uint32_t part,
                   const unsigned char hash[16])
{
    out[0] = (unsigned char)(part >> 24);
    out[1] = (unsigned char)(part >> 16);
    out[2] = (unsigned char)(part >> 8);
    out[3] = (unsigned char)part;
    memcpy(out + 4, hash, 16);
}
