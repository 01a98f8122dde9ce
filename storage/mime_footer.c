/*
 * mime_footer.c - the streaming parser of a footer PUT's MIME document
 * (mime_footer.h). Owns the framing only: what the footer's metadata means
 * (which keys are stored, the ETag check) is obj_server.c's.
 *
 * The document is a state machine fed in pieces. Object data is never
 * copied, except for the tail of a piece that might be the start of the
 * delimiter "\r\n--<boundary>" (fewer bytes than the delimiter): it is held
 * back until the next piece says whether it is data. Part headers and the
 * footer are small and collected in capped buffers, so memory is
 * O(boundary + caps) whatever the object's size.
 *
 * Swift's reference (swift/common/utils.py): the first line, read with
 * readline(len(boundary) + 4), must be "--<boundary>" once stripped of
 * whitespace, after any number of "\r\n" lines; every later boundary is
 * found as "\r\n--<boundary>" and followed by two bytes, "--" for the end
 * of the document and anything else otherwise; a part's headers end at
 * the first "\r\n\r\n" (or at once, when the part starts with "\r\n"), or
 * at the next boundary.
 */
#include "storage/mime_footer.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum state {
    ST_PREAMBLE,       /* before and in the first boundary line */
    ST_DATA_HEADERS,   /* the object part's headers (ignored) */
    ST_DATA,           /* object data */
    ST_AFTER_DATA,     /* the two bytes after the data's boundary */
    ST_FOOTER_HEADERS, /* the footer part's headers */
    ST_FOOTER_BODY,    /* the footer's JSON */
    ST_DONE,           /* the footer is in; the rest is ignored */
    ST_CLOSED,         /* "--<boundary>--" after the data: no footer */
    ST_ERROR,
};

#define DELIM_MAX (4 + MIME_FOOTER_MAX_BOUNDARY)
#define HBUF_CAP (MIME_FOOTER_MAX_HEADERS + DELIM_MAX)
#define FBUF_CAP (MIME_FOOTER_MAX_FOOTER + DELIM_MAX)

struct mime_footer {
    enum state state;
    char delim[DELIM_MAX + 1]; /* "\r\n--<boundary>" */
    size_t dlen;
    char held[DELIM_MAX]; /* data that may start the delimiter */
    size_t held_len;
    char line[DELIM_MAX]; /* the first boundary line so far */
    size_t line_len;
    char after[2]; /* ST_AFTER_DATA: the bytes seen */
    size_t after_len;
    char *hbuf; /* a part's headers so far */
    size_t hlen;
    char *fbuf; /* the footer so far */
    size_t flen;
    size_t footer_len; /* the footer's length once its end is found */
    char content_md5[40];
    bool have_md5;
    const char *error;
};

int mime_footer_new(const char *boundary, struct mime_footer **out)
{
    size_t blen = boundary ? strlen(boundary) : 0;
    struct mime_footer *mf;

    *out = NULL;
    if (!blen || blen > MIME_FOOTER_MAX_BOUNDARY)
        return -EINVAL;
    mf = calloc(1, sizeof(*mf));
    if (!mf)
        return -ENOMEM;
    mf->hbuf = malloc(HBUF_CAP);
    if (!mf->hbuf) {
        free(mf);
        return -ENOMEM;
    }
    memcpy(mf->delim, "\r\n--", 4);
    memcpy(mf->delim + 4, boundary, blen + 1);
    mf->dlen = blen + 4;
    mf->error = "";
    *out = mf;
    return 0;
}

void mime_footer_free(struct mime_footer *mf)
{
    if (!mf)
        return;
    free(mf->hbuf);
    free(mf->fbuf);
    free(mf);
}

const char *mime_footer_error(const struct mime_footer *mf)
{
    return mf->error;
}

static int fail(struct mime_footer *mf, int err, const char *why)
{
    mf->state = ST_ERROR;
    mf->error = why;
    return err;
}

/* Python's str.strip() whitespace. */
static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
           c == '\f';
}

/* ---- the first boundary ---- */

/* The first line is complete: a blank "\r\n" is skipped, else it must be
 * the boundary. */
static int end_first_line(struct mime_footer *mf)
{
    const char *s = mf->line, *e = mf->line + mf->line_len;

    if (mf->line_len == 2 && s[0] == '\r' && s[1] == '\n') {
        mf->line_len = 0;
        return 0;
    }
    while (s < e && is_space(*s))
        s++;
    while (e > s && is_space(e[-1]))
        e--;
    /* the delimiter without its leading "\r\n" */
    if ((size_t)(e - s) != mf->dlen - 2 || memcmp(s, mf->delim + 2, e - s))
        return fail(mf, -EINVAL, "invalid starting boundary");
    mf->state = ST_DATA_HEADERS;
    mf->hlen = 0;
    return 0;
}

/* Swift's readline(len(boundary) + 4): up to a '\n' or that many bytes. */
static size_t feed_preamble(struct mime_footer *mf, const char *buf, size_t len,
                            int *err)
{
    size_t max = mf->dlen, used = 0; /* "--" + boundary + "\r\n" */

    while (used < len && mf->state == ST_PREAMBLE) {
        char c = buf[used++];

        mf->line[mf->line_len++] = c;
        if (c == '\n' || mf->line_len == max) {
            *err = end_first_line(mf);
            if (*err)
                break;
        }
    }
    return used;
}

/* ---- part headers ---- */

/* Where in 'hay' the first 'needle' is at or after 'from', or -1. */
static long find(const char *hay, size_t hlen, size_t from, const char *needle,
                 size_t nlen)
{
    const char *p;

    if (from >= hlen)
        return -1;
    p = memmem(hay + from, hlen - from, needle, nlen);
    return p ? p - hay : -1;
}

/* The Content-MD5 header of the footer part's header block, if any. Lines
 * end in "\n" (Python's email parser takes bare LFs too). */
static void parse_footer_headers(struct mime_footer *mf, const char *h,
                                 size_t n)
{
    const char *end = h + n;

    while (h < end) {
        const char *eol = memchr(h, '\n', (size_t)(end - h));
        const char *le = eol ? eol : end, *colon, *v, *ve;

        colon = memchr(h, ':', (size_t)(le - h));
        if (colon && colon - h == 11 && !strncasecmp(h, "content-md5", 11) &&
            !mf->have_md5) {
            v = colon + 1;
            ve = le;
            while (v < ve && is_space(*v))
                v++;
            while (ve > v && is_space(ve[-1]))
                ve--;
            if ((size_t)(ve - v) < sizeof(mf->content_md5)) {
                memcpy(mf->content_md5, v, (size_t)(ve - v));
                mf->content_md5[ve - v] = '\0';
            } else {
                strcpy(mf->content_md5, "-"); /* too long: cannot match */
            }
            mf->have_md5 = true;
        }
        h = le + (eol ? 1 : 0);
    }
}

/* The header block of the current part. Returns the bytes of 'buf' it
 * used. */
static size_t feed_headers(struct mime_footer *mf, const char *buf, size_t len,
                           mime_footer_data_fn data, void *arg, int *err)
{
    size_t old = mf->hlen, n = len < HBUF_CAP - old ? len : HBUF_CAP - old;
    size_t body_at;
    long blank, delim;
    bool footer = mf->state == ST_FOOTER_HEADERS;

    memcpy(mf->hbuf + old, buf, n);
    mf->hlen += n;
    delim = find(mf->hbuf, mf->hlen, old > mf->dlen ? old - mf->dlen : 0,
                 mf->delim, mf->dlen);
    if (mf->hlen >= 2 && mf->hbuf[0] == '\r' && mf->hbuf[1] == '\n')
        blank = 0; /* no headers */
    else
        blank = find(mf->hbuf, mf->hlen, old > 3 ? old - 3 : 0, "\r\n\r\n", 4);
    if (blank == 0 && delim != 0 && mf->hlen < mf->dlen &&
        !memcmp(mf->hbuf, mf->delim, mf->hlen))
        return n; /* "\r\n--...": a blank line or the boundary? wait */
    if (delim >= 0 && (blank < 0 || delim <= blank)) {
        /* the part ends inside its headers: an empty body */
        if (footer)
            parse_footer_headers(mf, mf->hbuf, (size_t)delim);
        mf->state = footer ? ST_DONE : ST_AFTER_DATA;
        mf->after_len = 0;
        mf->footer_len = 0;
        return (size_t)delim + mf->dlen - old;
    }
    if (blank < 0) {
        if (mf->hlen >= HBUF_CAP)
            *err = fail(mf, -EMSGSIZE, "MIME headers too large");
        return n;
    }
    body_at = blank == 0 ? 2 : (size_t)blank + 4;
    if (footer)
        parse_footer_headers(mf, mf->hbuf, (size_t)blank);
    mf->state = footer ? ST_FOOTER_BODY : ST_DATA;
    mf->held_len = 0;
    mf->flen = 0;
    if (body_at < old) {
        /* bytes kept while waiting belong to the body: feed them again,
         * then this piece from its start */
        char tmp[DELIM_MAX];
        size_t k = old - body_at;

        memcpy(tmp, mf->hbuf + body_at, k);
        *err = mime_footer_feed(mf, tmp, k, data, arg);
        return 0;
    }
    return body_at - old;
}

/* ---- object data ---- */

/* The first position in 'buf' from which the rest of 'buf' is a proper
 * prefix of the delimiter (the data that must be held back), or 'len'. */
static size_t partial_at(const struct mime_footer *mf, const char *buf,
                         size_t len)
{
    size_t k = len > mf->dlen - 1 ? len - (mf->dlen - 1) : 0;

    for (; k < len; k++)
        if (buf[k] == '\r' && !memcmp(buf + k, mf->delim, len - k))
            return k;
    return len;
}

/* The delimiter ended the data: 'used' bytes of the piece are consumed. */
static size_t data_over(struct mime_footer *mf, size_t used)
{
    mf->state = ST_AFTER_DATA;
    mf->after_len = 0;
    mf->held_len = 0;
    return used;
}

/* Held-back bytes and the start of the new piece: either the delimiter
 * starts in the held bytes, or they are data after all. Returns the bytes
 * of 'buf' used (0 when the held bytes were released as data). */
static size_t resolve_held(struct mime_footer *mf, const char *buf, size_t len,
                           mime_footer_data_fn data, void *arg, int *err)
{
    char tmp[2 * DELIM_MAX];
    size_t take = len < mf->dlen ? len : mf->dlen, tlen, k;
    long at;

    memcpy(tmp, mf->held, mf->held_len);
    memcpy(tmp + mf->held_len, buf, take);
    tlen = mf->held_len + take;
    at = find(tmp, tlen, 0, mf->delim, mf->dlen);
    if (at >= 0 && (size_t)at < mf->held_len) {
        if (at > 0)
            *err = data(arg, tmp, (size_t)at);
        return data_over(mf, (size_t)at + mf->dlen - mf->held_len);
    }
    if (take == len) {
        /* the whole piece is in tmp: it may still end in a partial
         * delimiter that starts in the held bytes */
        k = partial_at(mf, tmp, tlen);
        if (k < mf->held_len) {
            if (k > 0)
                *err = data(arg, tmp, k);
            memmove(mf->held, tmp + k, tlen - k);
            mf->held_len = tlen - k;
            return len;
        }
    }
    *err = data(arg, mf->held, mf->held_len);
    mf->held_len = 0;
    return 0;
}

static size_t feed_data(struct mime_footer *mf, const char *buf, size_t len,
                        mime_footer_data_fn data, void *arg, int *err)
{
    size_t k;
    long at;

    if (mf->held_len) {
        size_t used = resolve_held(mf, buf, len, data, arg, err);

        if (*err || mf->state != ST_DATA || used)
            return used;
    }
    at = find(buf, len, 0, mf->delim, mf->dlen);
    if (at >= 0) {
        if (at > 0)
            *err = data(arg, buf, (size_t)at);
        return data_over(mf, (size_t)at + mf->dlen);
    }
    k = partial_at(mf, buf, len);
    if (k > 0)
        *err = data(arg, buf, k);
    memcpy(mf->held, buf + k, len - k);
    mf->held_len = len - k;
    return len;
}

/* ---- after the data, the footer ---- */

static size_t feed_after(struct mime_footer *mf, const char *buf, size_t len)
{
    size_t n = 0;

    while (n < len && mf->after_len < 2)
        mf->after[mf->after_len++] = buf[n++];
    if (mf->after_len == 2) {
        if (mf->after[0] == '-' && mf->after[1] == '-') {
            mf->state = ST_CLOSED;
        } else {
            mf->state = ST_FOOTER_HEADERS;
            mf->hlen = 0;
        }
    }
    return n;
}

static size_t feed_footer(struct mime_footer *mf, const char *buf, size_t len,
                          int *err)
{
    size_t old = mf->flen, n;
    long at;

    if (!mf->fbuf) {
        mf->fbuf = malloc(FBUF_CAP);
        if (!mf->fbuf) {
            *err = fail(mf, -ENOMEM, "out of memory");
            return len;
        }
    }
    n = len < FBUF_CAP - old ? len : FBUF_CAP - old;
    memcpy(mf->fbuf + old, buf, n);
    mf->flen += n;
    at = find(mf->fbuf, mf->flen, old >= mf->dlen ? old - mf->dlen + 1 : 0,
              mf->delim, mf->dlen);
    if (at >= 0) {
        mf->footer_len = (size_t)at;
        mf->state = ST_DONE;
        return (size_t)at + mf->dlen - old;
    }
    if (mf->flen >= FBUF_CAP)
        *err = fail(mf, -EMSGSIZE, "footer too large");
    return n;
}

int mime_footer_feed(struct mime_footer *mf, const char *buf, size_t len,
                     mime_footer_data_fn data, void *arg)
{
    int err = 0;

    while (len && !err) {
        size_t used = 0;

        switch (mf->state) {
        case ST_PREAMBLE: used = feed_preamble(mf, buf, len, &err); break;
        case ST_DATA_HEADERS:
        case ST_FOOTER_HEADERS:
            used = feed_headers(mf, buf, len, data, arg, &err);
            break;
        case ST_DATA: used = feed_data(mf, buf, len, data, arg, &err); break;
        case ST_AFTER_DATA: used = feed_after(mf, buf, len); break;
        case ST_FOOTER_BODY: used = feed_footer(mf, buf, len, &err); break;
        case ST_DONE:
        case ST_CLOSED: used = len; break;
        case ST_ERROR: return -EINVAL;
        }
        buf += used;
        len -= used;
    }
    if (err && mf->state != ST_ERROR)
        mf->state = ST_ERROR; /* the callback's: no more input */
    return err;
}

/* The footer's Content-MD5 and JSON, as Swift's _parse_footer. */
static int check_footer(struct mime_footer *mf, const char *body, size_t len,
                        json_t **footer)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    char hex[2 * EVP_MAX_MD_SIZE + 1];
    json_t *doc;

    if (!mf->have_md5)
        return fail(mf, -EINVAL, "no Content-MD5 in footer");
    if (!EVP_Digest(body, len, md, &mdlen, EVP_md5(), NULL))
        return fail(mf, -ENOMEM, "out of memory");
    for (unsigned int i = 0; i < mdlen; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    if (strcmp(hex, mf->content_md5))
        return fail(mf, -EBADMSG, "footer MD5 mismatch");
    doc = json_loadb(body, len, JSON_DECODE_ANY, NULL);
    if (!json_is_object(doc)) {
        json_decref(doc);
        return fail(mf, -EINVAL, "invalid JSON for footer doc");
    }
    *footer = doc;
    return 0;
}

int mime_footer_finish(struct mime_footer *mf, mime_footer_data_fn data,
                       void *arg, json_t **footer)
{
    int err;

    *footer = NULL;
    switch (mf->state) {
    case ST_PREAMBLE: return fail(mf, -EINVAL, "invalid starting boundary");
    case ST_DATA:
        /* no boundary after the data: all of it was data */
        if (mf->held_len) {
            err = data(arg, mf->held, mf->held_len);
            mf->held_len = 0;
            if (err) {
                mf->state = ST_ERROR;
                return err;
            }
        }
        /* fall through */
    case ST_DATA_HEADERS:
    case ST_CLOSED: return fail(mf, -EINVAL, "couldn't find footer MIME doc");
    case ST_AFTER_DATA: /* an empty footer part */
        return check_footer(mf, "", 0, footer);
    case ST_FOOTER_HEADERS:
        parse_footer_headers(mf, mf->hbuf, mf->hlen);
        return check_footer(mf, "", 0, footer);
    case ST_FOOTER_BODY: /* the footer runs to the end */
        return check_footer(mf, mf->fbuf ? mf->fbuf : "", mf->flen, footer);
    case ST_DONE:
        return check_footer(mf, mf->fbuf ? mf->fbuf : "", mf->footer_len,
                            footer);
    case ST_ERROR: break;
    }
    return -EINVAL;
}
