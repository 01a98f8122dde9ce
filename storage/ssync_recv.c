/*
 * ssync_recv.c - the receiver's comparison of an SSYNC inventory with the
 * local partition, line by line as the body streams in, so memory is one
 * partial line and the answer (SSYNC_MAX_LINES short lines at most),
 * never the whole inventory.
 *
 * What counts locally is ondisk.c's verdict on the hash directory's file
 * names (the current .data or .ts and the .meta on top), read without
 * opening any file and without removing obsolete ones: the SSYNC verb
 * writes nothing. A corrupt current file therefore looks current here;
 * the auditor quarantines it and the next pass sends a good copy.
 */
#include "storage/ssync_recv.h"

#include "storage/ondisk.h"
#include "storage/ssync.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ssync_recv {
    char *part_dir;
    char line[SSYNC_LINE_MAX]; /* a line split across pieces */
    size_t line_len;
    size_t lines; /* complete lines so far */
    size_t bytes;
    char *answer;
    size_t answer_len, answer_cap;
};

int ssync_recv_new(const char *part_dir, struct ssync_recv **out)
{
    struct ssync_recv *r = calloc(1, sizeof(*r));

    *out = NULL;
    if (!r)
        return -ENOMEM;
    r->part_dir = strdup(part_dir);
    if (!r->part_dir) {
        free(r);
        return -ENOMEM;
    }
    *out = r;
    return 0;
}

void ssync_recv_free(struct ssync_recv *r)
{
    if (!r)
        return;
    free(r->part_dir);
    free(r->answer);
    free(r);
}

size_t ssync_recv_lineno(const struct ssync_recv *r)
{
    return r->lines + 1;
}

static int append_wanted(struct ssync_recv *r, const char *hash, unsigned want)
{
    if (r->answer_cap - r->answer_len < SSYNC_WANTED_LINE_MAX + 1) {
        size_t cap = r->answer_cap ? r->answer_cap * 2 : 4096;
        char *a = realloc(r->answer, cap);

        if (!a)
            return -ENOMEM;
        r->answer = a;
        r->answer_cap = cap;
    }
    r->answer_len += ssync_wanted_format(hash, want, r->answer + r->answer_len);
    return 0;
}

/* The local state of 'hash': true and *out filled when it has a current
 * .data or .ts; false when not; -errno in *err on a read error. */
static bool local_item(const struct ssync_recv *r, const char *hash,
                       struct ssync_item *out, int *err)
{
    char dir[PATH_MAX];
    struct ondisk_listing l;
    bool have = false;

    *err = 0;
    if (snprintf(dir, sizeof(dir), "%s/%s/%s", r->part_dir, hash + 29, hash) >=
        (int)sizeof(dir)) {
        *err = -ENAMETOOLONG;
        return false;
    }
    *err = ondisk_list(dir, false, 0, &l);
    if (*err == -ENOENT || *err == -ENOTDIR)
        *err = 0; /* none here */
    else if (!*err)
        have = ssync_item_from_listing(hash, &l, out);
    ondisk_listing_release(&l);
    return have;
}

static int take_line(struct ssync_recv *r, const char *line, size_t len)
{
    struct ssync_item remote, local;
    unsigned want;
    bool have;
    int err;

    if (r->lines == SSYNC_MAX_LINES)
        return -E2BIG;
    if (ssync_item_parse(line, len, &remote))
        return -EINVAL;
    have = local_item(r, remote.hash, &local, &err);
    if (err)
        return err;
    want = ssync_want(&remote, have ? &local : NULL);
    if (want && (err = append_wanted(r, remote.hash, want)))
        return err;
    r->lines++;
    return 0;
}

int ssync_recv_feed(struct ssync_recv *r, const char *data, size_t len)
{
    const char *end = data + len;
    int err;

    if (len > SSYNC_MAX_BODY - r->bytes)
        return -E2BIG;
    r->bytes += len;
    while (data < end) {
        const char *nl = memchr(data, '\n', (size_t)(end - data));
        size_t n = (size_t)((nl ? nl : end) - data);

        if (r->line_len + n > SSYNC_LINE_MAX - 1)
            return -EINVAL; /* longer than any line we write */
        memcpy(r->line + r->line_len, data, n);
        r->line_len += n;
        if (!nl)
            break;
        err = take_line(r, r->line, r->line_len);
        if (err)
            return err;
        r->line_len = 0;
        data = nl + 1;
    }
    return 0;
}

int ssync_recv_finish(struct ssync_recv *r, const char **answer, size_t *len)
{
    if (r->line_len)
        return -EINVAL; /* the last line was cut short */
    *answer = r->answer ? r->answer : "";
    *len = r->answer_len;
    return 0;
}
