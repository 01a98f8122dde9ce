/*
 * byte_range.c - Range headers, exactly as swob's Range.__init__ (syntax:
 * one bad spec voids the header) and ranges_for_length (clipping, suffix
 * ranges, and the limits against egregious sets).
 *
 * Owns only the arithmetic; serving the ranges (206, multipart bodies) is
 * obj_server.c's.
 */
#include "storage/byte_range.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* One byte-range-spec "a-b", "a-" or "-n"; -EINVAL if bad. UINT64_MAX for
 * a missing end. */
static int parse_spec(const char *s, size_t len, uint64_t *a, uint64_t *b)
{
    const char *dash = memchr(s, '-', len);
    char num[24];
    size_t i, n;

    if (!dash)
        return -EINVAL;
    *a = *b = UINT64_MAX;
    for (i = 0; i < 2; i++) {
        const char *p = i ? dash + 1 : s;
        char *end;

        n = i ? (size_t)(s + len - dash - 1) : (size_t)(dash - s);
        if (!n)
            continue;
        if (n >= sizeof(num) || strspn(p, "0123456789") < n)
            return -EINVAL;
        memcpy(num, p, n);
        num[n] = '\0';
        errno = 0;
        *(i ? b : a) = strtoull(num, &end, 10);
        if (errno)
            return -EINVAL;
    }
    if (*a == UINT64_MAX && *b == UINT64_MAX)
        return -EINVAL;
    if (*a != UINT64_MAX && *b != UINT64_MAX && *b < *a)
        return -EINVAL;
    return 0;
}

static bool overlap(const struct byte_range *x, const struct byte_range *y)
{
    return (x->start < y->start && y->start < x->end) ||
           (x->start < y->end && y->end < x->end) ||
           (y->start < x->start && x->start < y->end) ||
           (y->start < x->end && x->end < y->end);
}

int byte_range_parse(const char *hdr, uint64_t length, struct byte_range **out,
                     size_t *n)
{
    char *spaceless = malloc(strlen(hdr) + 1), *d = spaceless, *p, *save;
    struct byte_range *r = NULL;
    size_t cnt = 0, overlaps = 0, i, j;
    int err = 0;

    *out = NULL;
    *n = 0;
    if (!spaceless)
        return -ENOMEM;
    for (; *hdr; hdr++)
        if (*hdr != ' ')
            *d++ = *hdr;
    *d = '\0';
    if (strncasecmp(spaceless, "bytes=", 6))
        goto out;
    r = calloc(strlen(spaceless) / 2 + 1, sizeof(*r));
    if (!r) {
        err = -ENOMEM;
        goto out;
    }
    /* Python's split(','): "a," has an empty last spec, which is bad */
    for (p = spaceless + 6; p; p = save) {
        uint64_t a, b;
        size_t len;

        save = strchr(p, ',');
        len = save ? (size_t)(save - p) : strlen(p);
        if (save)
            save++;
        if (parse_spec(p, len, &a, &b)) {
            cnt = 0; /* ignore the whole header */
            goto out;
        }
        if (a == UINT64_MAX) { /* suffix: the last b bytes */
            if (b == 0)
                continue;
            r[cnt].start = b > length ? 0 : length - b;
            r[cnt++].end = length;
        } else if (a < length) {
            r[cnt].start = a;
            r[cnt++].end = b == UINT64_MAX || b + 1 > length ? length : b + 1;
        }
    }
    if (cnt == 0 || cnt > BYTE_RANGE_MAX) {
        err = -ERANGE;
        goto out;
    }
    for (i = 0; i < cnt; i++)
        for (j = i + 1; j < cnt; j++)
            if (overlap(&r[i], &r[j]) && ++overlaps > BYTE_RANGE_MAX_OVERLAPS) {
                err = -ERANGE;
                goto out;
            }
    for (i = 1; i < cnt; i++) {
        if (r[i - 1].start > r[i].start ||
            (r[i - 1].start == r[i].start && r[i - 1].end > r[i].end)) {
            if (cnt >= BYTE_RANGE_MAX_NONASCENDING)
                err = -ERANGE;
            break;
        }
    }
out:
    free(spaceless);
    if (err || !cnt) {
        free(r);
        return err;
    }
    *out = r;
    *n = cnt;
    return 0;
}
