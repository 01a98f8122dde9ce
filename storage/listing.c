/*
 * listing.c - the rows of a container or account listing, chosen exactly
 * as Swift 2.30's list_objects_iter and list_containers_iter choose them,
 * but with one LevelDB iterator instead of repeated SQL queries.
 *
 * Swift's loop re-queries "name > marker" after every row, and after a
 * subdirectory "name >= <dir><delimiter + 1>", so it never reads the rows
 * inside a subdirectory; here the same moves are seeks of the iterator,
 * so a prefix/delimiter listing costs one seek per subdirectory, not one
 * step per row. Names compare as bytes, which for UTF-8 is Python's code
 * point order and SQLite's BINARY collation.
 */
#include "storage/listing.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void listing_release(struct listing *l)
{
    free(l->entries);
    free(l->strs);
    *l = (struct listing){0};
}

static size_t add_str(struct listing *l, const char *s, size_t n)
{
    size_t off = l->strs_len;

    if (l->strs_len + n + 1 > l->strs_cap) {
        size_t cap = l->strs_cap ? l->strs_cap * 2 : 4096;
        char *p;

        while (cap < l->strs_len + n + 1)
            cap *= 2;
        p = realloc(l->strs, cap);
        if (!p) {
            l->err = -ENOMEM;
            return 0;
        }
        l->strs = p;
        l->strs_cap = cap;
    }
    memcpy(l->strs + off, s, n);
    l->strs[off + n] = '\0';
    l->strs_len += n + 1;
    return off;
}

void listing_append(struct listing *l, const struct listing_entry *e,
                    const char *name, const char *ctype, const char *etag)
{
    struct listing_entry *ne;

    if (l->err)
        return;
    if (l->emit) {
        l->err = l->emit(l->emit_arg, e, name, ctype, etag);
        if (!l->err)
            l->n++;
        return;
    }
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        struct listing_entry *p = realloc(l->entries, cap * sizeof(*p));

        if (!p) {
            l->err = -ENOMEM;
            return;
        }
        l->entries = p;
        l->cap = cap;
    }
    ne = &l->entries[l->n];
    *ne = *e;
    ne->name = add_str(l, name, e->name_len);
    ne->ctype = add_str(l, ctype ? ctype : "", ctype ? e->ctype_len : 0);
    ne->etag = add_str(l, etag ? etag : "", etag ? e->etag_len : 0);
    if (!l->err)
        l->n++;
}

/* Length of the UTF-8 character at 's', 0 if 's' does not start with one
 * (we only need to recognise delimiters, code points <= 254). */
static size_t utf8_char(const char *s, unsigned *cp)
{
    const unsigned char *u = (const unsigned char *)s;

    if (u[0] < 0x80) {
        *cp = u[0];
        return 1;
    }
    if ((u[0] & 0xe0) == 0xc0 && (u[1] & 0xc0) == 0x80 && u[0] >= 0xc2) {
        *cp = (unsigned)(u[0] & 0x1f) << 6 | (u[1] & 0x3f);
        return 2;
    }
    return 0;
}

int listing_params_check(const struct listing_params *p)
{
    unsigned cp;

    if (p->limit > LISTING_LIMIT)
        return -EINVAL;
    if (p->delimiter && *p->delimiter) {
        size_t n = utf8_char(p->delimiter, &cp);

        if (!n || p->delimiter[n] || cp > 254)
            return -EINVAL;
    }
    return 0;
}

struct scan {
    const struct listing_source *src;
    const struct listing_params *p;
    struct listing *out;
    struct kvdb_iter *it;
    struct dbenc key;   /* seek target: keyprefix + name bytes */
    const char *prefix; /* "" when none */
    size_t plen;
    const char *lo, *hi; /* exclusive bounds, NULL when none */
    size_t lolen, hilen;
    const char *delim; /* NULL unless delimiter mode */
    size_t dlen;
    char succ[3]; /* UTF-8 of the delimiter's code point + 1 */
    size_t succlen;
    char *path; /* normalised, path mode only */
    size_t pathlen;
    bool skip_eq; /* skip the row equal to the last forward seek */
};

static int name_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);

    if (c)
        return c;
    return alen < blen ? -1 : alen > blen;
}

static void set_key(struct scan *s, const char *a, size_t alen, const char *b,
                    size_t blen)
{
    s->key.len = 0;
    dbenc_bytes(&s->key, s->src->keyprefix, s->src->keyprefix_len);
    dbenc_bytes(&s->key, a, alen);
    dbenc_bytes(&s->key, b, blen);
}

static void seek_forward(struct scan *s, const char *a, size_t alen,
                         const char *b, size_t blen, bool strict)
{
    set_key(s, a, alen, b, blen);
    if (s->key.err)
        return;
    kvdb_iter_seek(s->it, s->key.p, s->key.len);
    s->skip_eq = strict;
}

/* Reverse scans start at the last row below 'a' + 'b'; alen 0 and blen 0
 * means below the end of the DB's rows. */
static void seek_reverse(struct scan *s, const char *a, size_t alen,
                         const char *b, size_t blen)
{
    unsigned char end[DB_KEY_PREFIX_LEN + 2];
    size_t n;

    if (alen + blen) {
        set_key(s, a, alen, b, blen);
        if (s->key.err)
            return;
        kvdb_iter_seek_before(s->it, s->key.p, s->key.len);
        return;
    }
    n = kvdb_prefix_end(s->src->keyprefix, s->src->keyprefix_len, end);
    if (n)
        kvdb_iter_seek_before(s->it, end, n);
    else
        kvdb_iter_seek_last(s->it);
}

static void start(struct scan *s)
{
    const struct listing_params *p = s->p;

    if (!p->reverse) {
        /* "name > marker" if marker >= prefix, else "name >= prefix",
         * and never a reserved name unless asked. */
        bool use_lo =
            s->lo && name_cmp(s->lo, s->lolen, s->prefix, s->plen) >= 0;
        const char *from = use_lo ? s->lo : s->prefix;
        size_t flen = use_lo ? s->lolen : s->plen;

        if (!p->allow_reserved && (flen == 0 || from[0] == '\0'))
            seek_forward(s, "\x01", 1, NULL, 0, false);
        else
            seek_forward(s, from, flen, NULL, 0, use_lo);
        return;
    }
    if (s->plen) {
        char *end = malloc(s->plen);
        size_t elen;

        if (!end) {
            s->key.err = -ENOMEM;
            return;
        }
        elen = kvdb_prefix_end(s->prefix, s->plen, (unsigned char *)end);
        if (s->hi && (!elen || name_cmp(s->hi, s->hilen, end, elen) < 0))
            seek_reverse(s, s->hi, s->hilen, NULL, 0);
        else
            seek_reverse(s, end, elen, NULL, 0);
        free(end);
        return;
    }
    seek_reverse(s, s->hi, s->hi ? s->hilen : 0, NULL, 0);
}

/* The row's name if the iterator is still inside the listed range, else
 * NULL. */
static const char *current(struct scan *s, size_t *nlen)
{
    const struct listing_source *src = s->src;
    const char *key, *name;
    size_t klen;

    if (!kvdb_iter_valid(s->it))
        return NULL;
    key = kvdb_iter_key(s->it, &klen);
    if (klen < src->keyprefix_len ||
        memcmp(key, src->keyprefix, src->keyprefix_len) != 0)
        return NULL;
    name = key + src->keyprefix_len;
    *nlen = klen - src->keyprefix_len;
    if (s->plen && (*nlen < s->plen || memcmp(name, s->prefix, s->plen)))
        return NULL;
    if (!s->p->reverse) {
        if (s->hi && name_cmp(name, *nlen, s->hi, s->hilen) >= 0)
            return NULL;
    } else {
        if (s->lo && name_cmp(name, *nlen, s->lo, s->lolen) <= 0)
            return NULL;
        if (!s->p->allow_reserved && (*nlen == 0 || name[0] == '\0'))
            return NULL;
    }
    return name;
}

static void step(struct scan *s)
{
    if (s->p->reverse)
        kvdb_iter_prev(s->it);
    else
        kvdb_iter_next(s->it);
}

static void add_subdir(struct scan *s, const char *name, size_t n)
{
    struct listing_entry e = {.name_len = n, .subdir = true};

    listing_append(s->out, &e, name, NULL, NULL);
}

/* Swift's delimiter handling for one listed row. Returns true when the
 * row was consumed (subdirectory emitted or skipped, iterator moved). */
static bool delimit(struct scan *s, const char *name, size_t nlen)
{
    const char *d;
    size_t end;

    d = memmem(name + s->plen, nlen - s->plen, s->delim, s->dlen);
    if (s->path && nlen == s->pathlen && !memcmp(name, s->path, nlen)) {
        step(s);
        return true;
    }
    if (!d)
        return false;
    end = (size_t)(d - name);
    if (s->path && nlen <= end + s->dlen)
        return false; /* path mode lists "dir/" itself as an object */
    if (!s->path &&
        !(s->lo && s->lolen == end + s->dlen && !memcmp(s->lo, name, s->lolen)))
        add_subdir(s, name, end + s->dlen);
    if (s->p->reverse)
        seek_reverse(s, name, end + s->dlen, NULL, 0);
    else
        seek_forward(s, name, end, s->succ, s->succlen, s->path != NULL);
    return true;
}

static int run(struct scan *s)
{
    const struct listing_source *src = s->src;
    const char *name;
    size_t nlen;
    int r;

    start(s);
    while (s->out->n < s->p->limit && !s->key.err && !s->out->err &&
           (name = current(s, &nlen))) {
        const void *val;
        size_t vlen;

        if (s->skip_eq) {
            s->skip_eq = false;
            if (s->key.len == src->keyprefix_len + nlen &&
                !memcmp(s->key.p + src->keyprefix_len, name, nlen)) {
                step(s);
                continue;
            }
        }
        val = kvdb_iter_value(s->it, &vlen);
        r = src->accept(val, vlen, src->arg);
        if (r < 0)
            return r;
        if (r == 0) {
            step(s);
            continue;
        }
        if (s->delim && delimit(s, name, nlen))
            continue;
        r = src->append(s->out, name, nlen, val, vlen, src->arg);
        if (r < 0)
            return r;
        step(s);
    }
    if (s->key.err)
        return s->key.err;
    if (s->out->err)
        return s->out->err;
    return kvdb_iter_status(s->it);
}

static const char *given(const char *s, size_t len, size_t *n)
{
    if (!s)
        return NULL;
    *n = len ? len : strlen(s);
    return *n ? s : NULL;
}

int listing_scan(const struct listing_source *src,
                 const struct listing_params *p, struct listing *out)
{
    struct scan s = {.src = src, .p = p, .out = out, .prefix = ""};
    const char *marker, *end_marker;
    size_t mlen = 0, elen = 0;
    unsigned cp = 0; /* set by utf8_char(); gcc -O2 cannot see it */
    int err;

    err = listing_params_check(p);
    if (err)
        return err;
    marker = given(p->marker, p->marker_len, &mlen);
    end_marker = given(p->end_marker, p->end_marker_len, &elen);
    s.lo = p->reverse ? end_marker : marker;
    s.lolen = p->reverse ? elen : mlen;
    s.hi = p->reverse ? marker : end_marker;
    s.hilen = p->reverse ? mlen : elen;
    if (p->prefix) {
        s.prefix = p->prefix;
        s.plen = p->prefix_len ? p->prefix_len : strlen(p->prefix);
    }
    if (p->delimiter && *p->delimiter) {
        s.delim = p->delimiter;
        s.dlen = strlen(p->delimiter);
    }
    if (p->path) {
        /* prefix = path.rstrip('/') + '/' unless path is "" */
        size_t n = strlen(p->path);

        while (n && p->path[n - 1] == '/')
            n--;
        s.path = malloc(n + 2);
        if (!s.path)
            return -ENOMEM;
        memcpy(s.path, p->path, n);
        s.path[n] = '/';
        s.path[n + 1] = '\0';
        s.pathlen = *p->path ? n + 1 : 0;
        s.path[s.pathlen] = '\0';
        s.prefix = s.path;
        s.plen = s.pathlen;
        s.delim = "/";
        s.dlen = 1;
    }
    if (s.delim) {
        utf8_char(s.delim, &cp);
        cp++;
        if (cp < 0x80) {
            s.succ[0] = (char)cp;
            s.succlen = 1;
        } else {
            s.succ[0] = (char)(0xc0 | cp >> 6);
            s.succ[1] = (char)(0x80 | (cp & 0x3f));
            s.succlen = 2;
        }
    }
    s.it = kvdb_iter_new(src->kv);
    err = s.it ? run(&s) : -ENOMEM;
    kvdb_iter_free(s.it);
    dbenc_release(&s.key);
    free(s.path);
    return err;
}
