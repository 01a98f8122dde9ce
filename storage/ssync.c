/*
 * ssync.c - SSYNC's two line formats, the inventory and the answer, and
 * the comparison that turns one into the other. Both ends use it: the
 * sender (ssync_send.c) formats the inventory and parses the answer, the
 * receiver (ssync_recv.c) the other way round. Which files of a hash
 * directory count is ondisk.c's; this file only reads its verdict.
 *
 * Parsing is strict because the receiver's input comes from the network:
 * anything but exactly what ssync_item_format() writes is -EINVAL, so a
 * broken or hostile sender gets a 400 and not a guess.
 */
#include "storage/ssync.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

bool ssync_item_from_listing(const char *hash, const struct ondisk_listing *l,
                             struct ssync_item *out)
{
    const struct ondisk_state *st = &l->st;
    int cur = st->data >= 0 ? st->data : st->ts;

    if (cur < 0)
        return false;
    memset(out, 0, sizeof(*out));
    snprintf(out->hash, sizeof(out->hash), "%s", hash);
    memcpy(out->ts, l->files[cur].ts, ONDISK_TS_SIZE);
    out->tombstone = st->data < 0;
    if (st->data >= 0 && st->meta >= 0)
        memcpy(out->meta, l->files[st->meta].ts, ONDISK_TS_SIZE);
    return true;
}

size_t ssync_item_format(const struct ssync_item *it, char *buf)
{
    int n;

    if (it->tombstone)
        n = snprintf(buf, SSYNC_LINE_MAX + 1, "%s %s t\n", it->hash, it->ts);
    else if (it->meta[0])
        n = snprintf(buf, SSYNC_LINE_MAX + 1, "%s %s m:%s\n", it->hash, it->ts,
                     it->meta);
    else
        n = snprintf(buf, SSYNC_LINE_MAX + 1, "%s %s\n", it->hash, it->ts);
    return (size_t)n;
}

static bool valid_hash(const char *s, size_t len)
{
    if (len != 32)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!strchr("0123456789abcdef", s[i]) || !s[i])
            return false;
    return true;
}

/* Copies the token [s, s + len) into 'ts' if it is a normalized
 * timestamp. */
static bool take_ts(const char *s, size_t len, char ts[ONDISK_TS_SIZE])
{
    if (len == 0 || len >= ONDISK_TS_SIZE)
        return false;
    memcpy(ts, s, len);
    ts[len] = '\0';
    return strlen(ts) == len && ondisk_timestamp_valid(ts); /* no NUL */
}

/* The next space-separated token of [*p, end): sets *tok and *len and
 * moves *p past it and one space. False at the end, or for an empty
 * token (two spaces, a leading or trailing one). */
static bool next_token(const char **p, const char *end, const char **tok,
                       size_t *len)
{
    const char *sp;

    if (*p >= end)
        return false;
    sp = memchr(*p, ' ', (size_t)(end - *p));
    *tok = *p;
    *len = (size_t)((sp ? sp : end) - *p);
    *p = sp ? sp + 1 : end;
    if (sp && *p == end)
        return false; /* a trailing space */
    return *len > 0;
}

int ssync_item_parse(const char *line, size_t len, struct ssync_item *out)
{
    const char *p = line, *end = line + len, *tok;
    size_t tlen;

    memset(out, 0, sizeof(*out));
    if (!next_token(&p, end, &tok, &tlen) || !valid_hash(tok, tlen))
        return -EINVAL;
    memcpy(out->hash, tok, 32);
    if (!next_token(&p, end, &tok, &tlen) || !take_ts(tok, tlen, out->ts))
        return -EINVAL;
    if (p == end)
        return 0;
    if (!next_token(&p, end, &tok, &tlen))
        return -EINVAL;
    if (tlen == 1 && tok[0] == 't')
        out->tombstone = true;
    else if (tlen < 2 || memcmp(tok, "m:", 2) ||
             !take_ts(tok + 2, tlen - 2, out->meta) ||
             strcmp(out->meta, out->ts) <= 0)
        return -EINVAL; /* a .meta not newer than its .data is obsolete */
    return p == end ? 0 : -EINVAL;
}

unsigned ssync_want(const struct ssync_item *remote,
                    const struct ssync_item *local)
{
    unsigned want = 0;
    const char *have_meta;

    if (!local || strcmp(local->ts, remote->ts) < 0)
        want |= SSYNC_WANT_DATA;
    if (!remote->meta[0])
        return want;
    if (want & SSYNC_WANT_DATA)
        return want | SSYNC_WANT_META;
    if (local->tombstone)
        return want; /* a .meta applies only to a .data */
    have_meta = local->meta[0] ? local->meta : local->ts;
    if (strcmp(have_meta, remote->meta) < 0)
        want |= SSYNC_WANT_META;
    return want;
}

size_t ssync_wanted_format(const char *hash, unsigned want, char *buf)
{
    int n = snprintf(buf, SSYNC_WANTED_LINE_MAX + 1, "%.32s %s%s\n", hash,
                     want & SSYNC_WANT_DATA ? "d" : "",
                     want & SSYNC_WANT_META ? "m" : "");

    return (size_t)n;
}

int ssync_wanted_parse(const char *line, size_t len, char hash[33],
                       unsigned *want)
{
    const char *w = line + 33;
    size_t wlen;

    *want = 0;
    if (len < 34 || len > SSYNC_WANTED_LINE_MAX - 1 || line[32] != ' ' ||
        !valid_hash(line, 32))
        return -EINVAL;
    wlen = len - 33;
    if (w[0] == 'd') {
        *want |= SSYNC_WANT_DATA;
        w++;
        wlen--;
    }
    if (wlen == 1 && w[0] == 'm') {
        *want |= SSYNC_WANT_META;
        wlen--;
    }
    if (wlen || !*want)
        return -EINVAL;
    memcpy(hash, line, 32);
    hash[32] = '\0';
    return 0;
}
