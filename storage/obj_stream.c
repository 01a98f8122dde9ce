/*
 * obj_stream.c - a GET's body, read block by block as the client takes it:
 * the whole object, one range, or multipart/byteranges laid out exactly
 * as swob's multi_range_iterator writes them.
 *
 * Owns the diskfile it reads (moved from the request, so it outlives the
 * request's state whatever order the server frees them in), its readers
 * and the part headers. Memory is one part header and the reader's block,
 * whatever the object's size. Which ranges to serve is byte_range's call,
 * statuses and headers obj_server's.
 */
#include "storage/obj_stream.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

struct obj_stream {
    struct diskfile *df;
    struct diskfile_reader *r;
    struct byte_range *ranges; /* multipart only */
    size_t n, next;            /* ranges, the next to open */
    uint64_t size;             /* the object's */
    uint64_t total;            /* the response body's */
    char *ctype;
    char boundary[33];
    char *pend; /* bytes to send before more data */
    size_t pend_len, pend_off;
    bool done;
};

void obj_stream_free(struct obj_stream *s)
{
    if (!s)
        return;
    diskfile_reader_free(s->r);
    diskfile_free(s->df);
    free(s->ranges);
    free(s->ctype);
    free(s->pend);
    free(s);
}

static int part_header(struct obj_stream *s, const struct byte_range *r,
                       char **out)
{
    int n = asprintf(out,
                     "--%s\r\nContent-Type: %s\r\nContent-Range: bytes "
                     "%" PRIu64 "-%" PRIu64 "/%" PRIu64 "\r\n\r\n",
                     s->boundary, s->ctype, r->start, r->end - 1, s->size);

    return n < 0 ? -ENOMEM : n;
}

/* Moves to the next part of a multipart body: its header and reader, or
 * the closing boundary. 0 or -errno. */
static int next_part(struct obj_stream *s)
{
    const struct byte_range *r;
    int n, err;

    free(s->pend);
    s->pend = NULL;
    s->pend_off = 0;
    diskfile_reader_free(s->r);
    s->r = NULL;
    if (s->next == s->n) {
        n = asprintf(&s->pend, "%s--%s--", s->n ? "\r\n" : "", s->boundary);
        s->done = true;
    } else {
        r = &s->ranges[s->next];
        err = diskfile_reader_new(s->df, r->start, r->end - r->start, &s->r);
        if (err)
            return err;
        n = part_header(s, r, &s->pend);
        if (n >= 0 && s->next > 0) { /* the CRLF ending the previous part */
            char *both;

            n = asprintf(&both, "\r\n%s", s->pend);
            free(s->pend);
            s->pend = n < 0 ? NULL : both;
        }
        s->next++;
    }
    if (n < 0)
        return -ENOMEM;
    s->pend_len = (size_t)n;
    return 0;
}

/* The server stops calling once it has the Content-Length, so the read
 * that finds the end (and checks a whole object's MD5) is done here,
 * before the last bytes go: on a mismatch the object is quarantined and
 * the client gets a short body, never a complete bad one. */
static ssize_t last_read(struct obj_stream *s, ssize_t got)
{
    char probe[1];
    ssize_t end = diskfile_reader_read(s->r, probe, sizeof(probe));

    return end < 0 ? end : got;
}

ssize_t obj_stream_read(struct obj_stream *s, uint64_t pos, char *buf,
                        size_t max)
{
    ssize_t got;
    int err;

    for (;;) {
        if (s->pend && s->pend_off < s->pend_len) {
            size_t k = s->pend_len - s->pend_off;

            if (k > max)
                k = max;
            memcpy(buf, s->pend + s->pend_off, k);
            s->pend_off += k;
            return (ssize_t)k;
        }
        if (s->r) {
            got = diskfile_reader_read(s->r, buf, max);
            if (got > 0 && !s->ranges && pos + (uint64_t)got >= s->total)
                got = last_read(s, got);
            if (got != 0)
                return got; /* data, or -EUCLEAN: quarantined, cut */
        }
        if (!s->ranges || s->done)
            return 0;
        err = next_part(s);
        if (err)
            return err;
    }
}

int obj_stream_new(struct diskfile *df, struct byte_range *ranges, size_t n,
                   const char *ctype, struct obj_stream **out)
{
    struct obj_stream *s = calloc(1, sizeof(*s));
    uint64_t off = 0, len = UINT64_MAX;
    unsigned char rnd[16];
    size_t i;
    int err = 0;

    *out = NULL;
    if (!s) {
        diskfile_free(df);
        free(ranges);
        return -ENOMEM;
    }
    s->df = df;
    s->size = s->total = diskfile_content_length(df);
    if (n == 1) {
        off = ranges[0].start;
        len = s->total = ranges[0].end - ranges[0].start;
        free(ranges);
    } else if (n > 1) {
        s->ranges = ranges;
        s->n = n;
        s->ctype = strdup(ctype ? ctype : "");
        if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
            memset(rnd, 0x5a, sizeof(rnd));
        for (i = 0; i < sizeof(rnd); i++)
            snprintf(s->boundary + 2 * i, 3, "%02x", rnd[i]);
        s->total = strlen(s->boundary) + 4;
        for (i = 0; i < n && !err; i++) {
            char *h = NULL;
            int hl = s->ctype ? part_header(s, &ranges[i], &h) : -ENOMEM;

            if (hl < 0)
                err = -ENOMEM;
            else
                s->total +=
                    (uint64_t)hl + (ranges[i].end - ranges[i].start) + 2;
            free(h);
        }
    } else {
        free(ranges);
    }
    if (!err && !s->ranges)
        err = diskfile_reader_new(s->df, off, len, &s->r);
    if (err) {
        obj_stream_free(s);
        return err;
    }
    *out = s;
    return 0;
}

uint64_t obj_stream_size(const struct obj_stream *s)
{
    return s->total;
}

const char *obj_stream_boundary(const struct obj_stream *s)
{
    return s->boundary;
}
