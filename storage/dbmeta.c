/*
 * dbmeta.c - per-key timestamped metadata of container and account DBs.
 * The map is small (Swift allows 90 user keys plus a few system ones), so
 * it is a sorted array and lookups are binary searches.
 */
#include "storage/dbmeta.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void db_meta_release(struct db_meta *m)
{
    for (size_t i = 0; i < m->n; i++) {
        free(m->items[i].key);
        free(m->items[i].value);
    }
    free(m->items);
    *m = (struct db_meta){0};
}

/* Index of 'key', or of where it would go with *found false. */
static size_t find(const struct db_meta *m, const char *key, bool *found)
{
    size_t lo = 0, hi = m->n;

    *found = false;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(m->items[mid].key, key);

        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

const struct db_meta_item *db_meta_get(const struct db_meta *m, const char *key)
{
    bool found;
    size_t i = find(m, key, &found);

    return found ? &m->items[i] : NULL;
}

int db_meta_set(struct db_meta *m, const char *key, const char *value,
                const struct db_ts *ts)
{
    struct db_meta_item *items;
    char *v, *k = NULL;
    bool found;
    size_t i = find(m, key, &found);

    if (found && db_ts_cmp(ts, &m->items[i].ts) <= 0)
        return 0;
    v = strdup(value);
    if (!found)
        k = strdup(key);
    if (!v || (!found && !k))
        goto nomem;
    if (found) {
        free(m->items[i].value);
        m->items[i].value = v;
        m->items[i].ts = *ts;
        return 1;
    }
    items = realloc(m->items, (m->n + 1) * sizeof(*items));
    if (!items)
        goto nomem;
    m->items = items;
    memmove(&items[i + 1], &items[i], (m->n - i) * sizeof(*items));
    items[i] = (struct db_meta_item){.key = k, .value = v, .ts = *ts};
    m->n++;
    return 1;
nomem:
    free(k);
    free(v);
    return -ENOMEM;
}

int db_meta_merge(struct db_meta *m, const struct db_meta *updates)
{
    int changed = 0;

    for (size_t i = 0; i < updates->n; i++) {
        const struct db_meta_item *u = &updates->items[i];
        int r = db_meta_set(m, u->key, u->value, &u->ts);

        if (r < 0)
            return r;
        changed += r;
    }
    return changed;
}

/* Python's len() of a str: code points, i.e. bytes that are not UTF-8
 * continuation bytes. */
static size_t chars(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

int db_meta_validate(const struct db_meta *m)
{
    static const char *const prefixes[] = {"x-account-meta-",
                                           "x-container-meta-"};
    size_t count = 0, size = 0;

    for (size_t i = 0; i < m->n; i++) {
        const struct db_meta_item *it = &m->items[i];

        if (!*it->value)
            continue;
        for (size_t p = 0; p < 2; p++) {
            size_t plen = strlen(prefixes[p]);

            if (strncasecmp(it->key, prefixes[p], plen) == 0) {
                count++;
                size += chars(it->key + plen) + chars(it->value);
                break;
            }
        }
    }
    if (count > DB_META_MAX_COUNT || size > DB_META_MAX_OVERALL_SIZE)
        return -EINVAL;
    return 0;
}

size_t db_meta_reclaim(struct db_meta *m, const struct db_ts *age)
{
    size_t kept = 0, dropped = 0;

    for (size_t i = 0; i < m->n; i++) {
        struct db_meta_item *it = &m->items[i];

        if (!*it->value && db_ts_cmp(&it->ts, age) < 0) {
            free(it->key);
            free(it->value);
            dropped++;
            continue;
        }
        m->items[kept++] = *it;
    }
    m->n = kept;
    return dropped;
}

void db_meta_encode(const struct db_meta *m, struct dbenc *e)
{
    dbenc_varint(e, m->n);
    for (size_t i = 0; i < m->n; i++) {
        const struct db_meta_item *it = &m->items[i];

        dbenc_str(e, it->key, strlen(it->key));
        dbenc_str(e, it->value, strlen(it->value));
        dbenc_ts(e, &it->ts);
    }
}

int db_meta_decode(struct db_meta *m, struct dbdec *d)
{
    uint64_t n = dbdec_varint(d);

    db_meta_release(m);
    if (d->err)
        return d->err;
    if (n > (size_t)(d->end - d->p)) /* each item takes > 1 byte */
        return -EINVAL;
    m->items = calloc(n ? n : 1, sizeof(*m->items));
    if (!m->items)
        return -ENOMEM;
    for (; m->n < n; m->n++) {
        struct db_meta_item *it = &m->items[m->n];

        it->key = dbdec_strdup(d);
        it->value = dbdec_strdup(d);
        dbdec_ts(d, &it->ts);
        if (d->err) {
            m->n++;
            db_meta_release(m);
            return d->err;
        }
    }
    return 0;
}
