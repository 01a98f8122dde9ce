/*
 * info_cache.c - what the proxy knows of accounts and containers: the
 * status and headers of their last HEAD, kept for
 * recheck_account_existence / recheck_container_existence seconds (a
 * tenth of that for a 404), as Swift keeps them in memcache. Writes
 * through this proxy invalidate the entry at once.
 *
 * Thread-safe: a mutex guards a chained hash table. A hit is not copied
 * (copying every header for the account and the container was a third of
 * the proxy's mallocs per GET): the caller's info shares the entry's
 * headers, read-only, and holds a reference that info_release() drops;
 * an entry replaced or swept meanwhile is freed by its last holder.
 */
#include "proxy/preq.h"

#include "common/conn_pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUCKETS 1024
/* Past this many entries expired ones are swept, then everything if
 * still too many: memory stays bounded whatever the request mix. */
#define MAX_ENTRIES 100000

struct info_entry {
    struct info_entry *next;
    atomic_uint refs; /* the table's, and one per info sharing it */
    double expires;   /* monotonic seconds */
    int status;
    struct hlist headers;
    char key[];
};

struct info_cache {
    pthread_mutex_t lock;
    size_t count;
    struct info_entry *buckets[BUCKETS];
};

static double mono_now(void)
{
    return conn_pool_now_ms() / 1000.0;
}

int info_cache_new(struct info_cache **out)
{
    struct info_cache *ic = calloc(1, sizeof(*ic));

    *out = ic;
    if (!ic)
        return -ENOMEM;
    pthread_mutex_init(&ic->lock, NULL);
    return 0;
}

static void entry_put(struct info_entry *e)
{
    if (atomic_fetch_sub(&e->refs, 1) != 1)
        return;
    hlist_release(&e->headers);
    free(e);
}

/* Drops entries expired at 'now' (everything when 'now' < 0). Lock held. */
static void sweep(struct info_cache *ic, double now)
{
    for (size_t i = 0; i < BUCKETS; i++) {
        struct info_entry **pp = &ic->buckets[i];

        while (*pp) {
            struct info_entry *e = *pp;

            if (now < 0 || e->expires <= now) {
                *pp = e->next;
                entry_put(e);
                ic->count--;
            } else {
                pp = &e->next;
            }
        }
    }
}

void info_cache_free(struct info_cache *ic)
{
    if (!ic)
        return;
    sweep(ic, -1);
    pthread_mutex_destroy(&ic->lock);
    free(ic);
}

static uint32_t fnv1a(const char *s)
{
    uint32_t h = 2166136261u;

    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* "a" or "a/c": names hold no NUL, so "\n" cannot collide either. */
static char *cache_key(const char *a, const char *c)
{
    char *key;

    if (asprintf(&key, "%s%s%s", a, c ? "\n" : "", c ? c : "") < 0)
        return NULL;
    return key;
}

static struct info_entry **find(struct info_cache *ic, const char *key)
{
    struct info_entry **pp = &ic->buckets[fnv1a(key) % BUCKETS];

    for (; *pp; pp = &(*pp)->next)
        if (!strcmp((*pp)->key, key))
            return pp;
    return pp;
}

static int copy_headers(struct hlist *dst, const struct hlist *src)
{
    dst->v = calloc(src->n ? src->n : 1, sizeof(*dst->v));
    if (!dst->v)
        return -ENOMEM;
    dst->cap = src->n ? src->n : 1;
    for (size_t i = 0; i < src->n; i++)
        if (hlist_add(dst, src->v[i].name, src->v[i].value))
            return -ENOMEM;
    return 0;
}

static bool lookup(struct info_cache *ic, const char *key, struct info *out)
{
    struct info_entry **pp;
    bool hit = false;
    double now = mono_now();

    pthread_mutex_lock(&ic->lock);
    pp = find(ic, key);
    if (*pp && (*pp)->expires > now) {
        atomic_fetch_add(&(*pp)->refs, 1);
        out->status = (*pp)->status;
        out->headers = (*pp)->headers;
        out->shared = *pp;
        hit = true;
    }
    pthread_mutex_unlock(&ic->lock);
    return hit;
}

static void store(struct info_cache *ic, const char *key, const struct info *in,
                  double ttl)
{
    size_t len = strlen(key);
    struct info_entry *e = calloc(1, sizeof(*e) + len + 1), **pp;

    if (!e)
        return;
    memcpy(e->key, key, len + 1);
    atomic_init(&e->refs, 1);
    e->status = in->status;
    e->expires = mono_now() + ttl;
    if (copy_headers(&e->headers, &in->headers)) {
        entry_put(e);
        return;
    }
    pthread_mutex_lock(&ic->lock);
    if (ic->count >= MAX_ENTRIES) {
        sweep(ic, mono_now());
        if (ic->count >= MAX_ENTRIES)
            sweep(ic, -1);
    }
    pp = find(ic, key);
    if (*pp) {
        struct info_entry *old = *pp;

        e->next = old->next;
        *pp = e;
        entry_put(old);
    } else {
        *pp = e;
        ic->count++;
    }
    pthread_mutex_unlock(&ic->lock);
}

void info_invalidate(struct proxy *p, const char *a, const char *c)
{
    char *key = cache_key(a, c);
    struct info_entry **pp, *e;

    if (!key)
        return;
    pthread_mutex_lock(&p->cache->lock);
    pp = find(p->cache, key);
    if (*pp) {
        e = *pp;
        *pp = e->next;
        entry_put(e);
        p->cache->count--;
    }
    pthread_mutex_unlock(&p->cache->lock);
    free(key);
}

void info_release(struct info *in)
{
    if (in->shared) {
        entry_put(in->shared);
        in->shared = NULL;
        memset(&in->headers, 0, sizeof(in->headers));
    } else {
        hlist_release(&in->headers);
    }
    in->status = 0;
}

/* HEAD to the nodes until one answers for the DB; a 404 from a primary
 * is believed only once every primary said so or failed. */
static void fetch(struct preq *pr, const char *a, const char *c,
                  struct info *out)
{
    struct live_ring *lr = c ? pr->p->container_ring : pr->p->account_ring;
    struct hlist h = {0};
    struct nodes n;
    char *tail = backend_tail(a, c, NULL);
    const struct ring_dev *d;
    bool failed = false, not_found = false;

    out->status = 503;
    if (!tail || backend_base_headers(pr, NULL, &h) ||
        nodes_init(pr->p, lr, a, c, NULL, &n)) {
        free(tail);
        hlist_release(&h);
        return;
    }
    while ((d = nodes_next(pr->p, &n))) {
        struct bresp r;
        int st = backend_call(pr, d, n.part, "HEAD", tail, NULL, &h, NULL, 0,
                              &r);

        if (st >= 200 && st < 300) {
            out->status = st;
            out->headers = r.headers;
            memset(&r.headers, 0, sizeof(r.headers));
            bresp_release(&r);
            not_found = false;
            break;
        }
        bresp_release(&r);
        if (st == 404)
            not_found = true;
        else
            failed = true;
        /* every primary answered 404: the DB does not exist */
        if (not_found && !failed && n.next_prim >= n.n_prim && !n.handoffs)
            break;
    }
    if (not_found)
        out->status = 404;
    nodes_release(&n);
    hlist_release(&h);
    free(tail);
}

void info_get(struct preq *pr, const char *a, const char *c, struct info *out)
{
    char *key = cache_key(a, c);
    unsigned int ttl = c ? pr->p->conf->recheck_container_existence
                         : pr->p->conf->recheck_account_existence;

    memset(out, 0, sizeof(*out));
    if (key && lookup(pr->p->cache, key, out)) {
        free(key);
        return;
    }
    fetch(pr, a, c, out);
    if (key && ttl && (out->status / 100 == 2 || out->status == 404))
        store(pr->p->cache, key, out, out->status == 404 ? ttl / 10.0 : ttl);
    free(key);
}
