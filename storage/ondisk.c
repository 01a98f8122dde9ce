/*
 * ondisk.c - file-name parsing and Swift's on-disk file rules (see
 * ondisk.h). diskfile.c applies them on open and after writes; the suffix
 * hashing applies them before hashing a suffix.
 */
#include "storage/ondisk.h"

#include "storage/diskfile_io.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return true;
}

static bool valid_n(const char *ts, size_t len)
{
    if (len != 16 && len != 33)
        return false;
    if (!all_digits(ts, 10) || ts[10] != '.' || !all_digits(ts + 11, 5))
        return false;
    if (len == 16)
        return true;
    if (ts[16] != '_')
        return false;
    for (size_t i = 17; i < 33; i++)
        if (!strchr("0123456789abcdef", ts[i]) || ts[i] == '\0')
            return false;
    return true;
}

bool ondisk_timestamp_valid(const char *ts)
{
    return valid_n(ts, strnlen(ts, ONDISK_TS_SIZE));
}

static const struct {
    const char *dot_ext;
    enum ondisk_ext ext;
} exts[] = {
    {".data", ONDISK_DATA},
    {".ts", ONDISK_TS},
    {".meta", ONDISK_META},
};

int ondisk_parse_name(const char *name, struct ondisk_file *f)
{
    const char *dot = strrchr(name, '.');
    size_t tslen;

    if (!dot)
        return -EINVAL;
    tslen = (size_t)(dot - name);
    if (!valid_n(name, tslen))
        return -EINVAL;
    for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
        if (strcmp(dot, exts[i].dot_ext) == 0) {
            f->name = name;
            memcpy(f->ts, name, tslen);
            f->ts[tslen] = '\0';
            f->ext = exts[i].ext;
            f->obsolete = false;
            return 0;
        }
    }
    return -EINVAL;
}

/* Index of the newest live file with extension 'ext', or -1. */
static int newest(const struct ondisk_file *files, size_t n,
                  enum ondisk_ext ext)
{
    int best = -1;

    for (size_t i = 0; i < n; i++)
        if (files[i].ext == ext && !files[i].obsolete &&
            (best < 0 || strcmp(files[i].ts, files[best].ts) > 0))
            best = (int)i;
    return best;
}

/* Marks obsolete every live file other than 'keep' whose timestamp is not
 * newer than files[keep], or (same_ext) that shares its extension. */
static void obsolete_below(struct ondisk_file *files, size_t n, int keep,
                           bool same_ext)
{
    for (size_t i = 0; i < n; i++) {
        struct ondisk_file *f = &files[i];

        if ((int)i == keep || f->obsolete)
            continue;
        if (strcmp(f->ts, files[keep].ts) <= 0 ||
            (same_ext && f->ext == files[keep].ext))
            f->obsolete = true;
    }
}

void ondisk_classify(struct ondisk_file *files, size_t n,
                     struct ondisk_state *st)
{
    int ts, meta, data;

    for (size_t i = 0; i < n; i++)
        files[i].obsolete = false;
    ts = newest(files, n, ONDISK_TS);
    st->data = st->ts = st->meta = -1;
    if (ts >= 0)
        obsolete_below(files, n, ts, true);
    meta = newest(files, n, ONDISK_META);
    if (meta >= 0)
        for (size_t i = 0; i < n; i++)
            if ((int)i != meta && files[i].ext == ONDISK_META)
                files[i].obsolete = true;
    data = newest(files, n, ONDISK_DATA);
    if (data >= 0) {
        obsolete_below(files, n, data, true);
        st->data = data;
        if (meta >= 0 && !files[meta].obsolete)
            st->meta = meta;
    } else if (ts >= 0) {
        st->ts = ts;
    }
}

static bool older_than(const struct ondisk_file *f, int64_t t)
{
    /* the ten digits before the dot are whole seconds */
    return strtoll(f->ts, NULL, 10) < t;
}

void ondisk_reclaim(struct ondisk_file *files, size_t n,
                    struct ondisk_state *st, int64_t reclaim_before)
{
    if (st->ts >= 0 && older_than(&files[st->ts], reclaim_before)) {
        files[st->ts].obsolete = true;
        st->ts = -1;
    }
    if (st->data >= 0)
        return;
    for (size_t i = 0; i < n; i++)
        if (files[i].ext == ONDISK_META &&
            older_than(&files[i], reclaim_before))
            files[i].obsolete = true;
}

void ondisk_listing_release(struct ondisk_listing *l)
{
    diskfile_io_free_names(l->names, l->n_names);
    free(l->files);
    memset(l, 0, sizeof(*l));
}

static void drop_obsolete(const char *hash_dir, struct ondisk_listing *l)
{
    char path[PATH_MAX];
    size_t kept = 0;
    int data = -1, ts = -1, meta = -1;

    for (size_t i = 0; i < l->n; i++) {
        struct ondisk_file *f = &l->files[i];

        if (f->obsolete) {
            snprintf(path, sizeof(path), "%s/%s", hash_dir, f->name);
            if (diskfile_io->unlink(path) == 0 || errno == ENOENT)
                continue;
        }
        if ((int)i == l->st.data)
            data = (int)kept;
        if ((int)i == l->st.ts)
            ts = (int)kept;
        if ((int)i == l->st.meta)
            meta = (int)kept;
        l->files[kept++] = *f;
    }
    l->n = kept;
    l->st.data = data;
    l->st.ts = ts;
    l->st.meta = meta;
}

int ondisk_list(const char *hash_dir, bool cleanup, int64_t reclaim_before,
                struct ondisk_listing *out)
{
    int err;

    memset(out, 0, sizeof(*out));
    out->st.data = out->st.ts = out->st.meta = -1;
    err = diskfile_io_listdir(hash_dir, &out->names, &out->n_names);
    if (err)
        return err;
    out->files = calloc(out->n_names ? out->n_names : 1, sizeof(*out->files));
    if (!out->files)
        return -ENOMEM;
    for (size_t i = 0; i < out->n_names; i++)
        if (ondisk_parse_name(out->names[i], &out->files[out->n]) == 0)
            out->n++;
    ondisk_classify(out->files, out->n, &out->st);
    if (reclaim_before)
        ondisk_reclaim(out->files, out->n, &out->st, reclaim_before);
    if (cleanup)
        drop_obsolete(hash_dir, out);
    return 0;
}
