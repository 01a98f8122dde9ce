/*
 * token_cache.c - an expiring string map under one mutex, for tempauth's
 * tokens. Chained hash buckets (FNV-1a), a fixed number of them: a proxy
 * holds about one live token per user, so the chains stay short.
 * Invariant, under the lock: n counts the entries in the buckets, and an
 * entry whose expiry is before 'now' is never handed out.
 */
#include "proxy/token_cache.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define BUCKETS 1024

struct entry {
    struct entry *next;
    char *key;
    char *value;
    double expires;
};

struct token_cache {
    pthread_mutex_t lock;
    struct entry *buckets[BUCKETS];
    size_t n;
    size_t sweep_at; /* sweep when n reaches this */
};

static void entry_free(struct entry *e)
{
    free(e->key);
    free(e->value);
    free(e);
}

int token_cache_new(struct token_cache **out)
{
    struct token_cache *tc = calloc(1, sizeof(*tc));

    *out = NULL;
    if (!tc)
        return -ENOMEM;
    pthread_mutex_init(&tc->lock, NULL);
    tc->sweep_at = BUCKETS;
    *out = tc;
    return 0;
}

void token_cache_free(struct token_cache *tc)
{
    struct entry *e, *next;
    size_t i;

    if (!tc)
        return;
    for (i = 0; i < BUCKETS; i++) {
        for (e = tc->buckets[i]; e; e = next) {
            next = e->next;
            entry_free(e);
        }
    }
    pthread_mutex_destroy(&tc->lock);
    free(tc);
}

static unsigned int bucket_of(const char *key)
{
    unsigned int h = 2166136261u; /* FNV-1a */

    for (; *key; key++)
        h = (h ^ (unsigned char)*key) * 16777619u;
    return h % BUCKETS;
}

/* Under the lock: walks the chain from link 'pp', dropping expired
 * entries, and returns the link pointing at 'key's entry, or at the NULL
 * ending the chain (always, when 'key' is NULL). An entry expiring at
 * 'now' still counts, as in Swift's tempauth. */
static struct entry **walk(struct token_cache *tc, struct entry **pp,
                           const char *key, double now)
{
    struct entry *e;

    while ((e = *pp)) {
        if (e->expires < now) {
            *pp = e->next;
            entry_free(e);
            tc->n--;
            continue;
        }
        if (key && !strcmp(e->key, key))
            return pp;
        pp = &e->next;
    }
    return pp;
}

static struct entry **find(struct token_cache *tc, const char *key, double now)
{
    return walk(tc, &tc->buckets[bucket_of(key)], key, now);
}

/* Under the lock: n counts what the buckets hold, and every entry sits in
 * the bucket of its key. O(n): run at sweeps only. */
static void assert_token_cache_ok(const struct token_cache *tc)
{
#ifndef NDEBUG
    const struct entry *e;
    size_t i, n = 0;

    for (i = 0; i < BUCKETS; i++) {
        for (e = tc->buckets[i]; e; e = e->next) {
            assert(bucket_of(e->key) == i);
            n++;
        }
    }
    assert(n == tc->n);
#else
    (void)tc;
#endif
}

static void sweep(struct token_cache *tc, double now)
{
    size_t i;

    assert_token_cache_ok(tc);
    for (i = 0; i < BUCKETS; i++)
        walk(tc, &tc->buckets[i], NULL, now);
    assert_token_cache_ok(tc);
}

int token_cache_get(struct token_cache *tc, const char *key, double now,
                    char **value, double *expires)
{
    struct entry *e;
    int err = 0;

    *value = NULL;
    pthread_mutex_lock(&tc->lock);
    e = *find(tc, key, now);
    if (!e) {
        err = -ENOENT;
    } else {
        *value = strdup(e->value);
        if (!*value)
            err = -ENOMEM;
        else if (expires)
            *expires = e->expires;
    }
    pthread_mutex_unlock(&tc->lock);
    return err;
}

int token_cache_set(struct token_cache *tc, const char *key, const char *value,
                    double expires, double now)
{
    char *v = strdup(value);
    struct entry **pp, *e = NULL;

    if (!v)
        return -ENOMEM;
    pthread_mutex_lock(&tc->lock);
    pp = find(tc, key, now);
    if (*pp) {
        free((*pp)->value);
        (*pp)->value = v;
        (*pp)->expires = expires;
        pthread_mutex_unlock(&tc->lock);
        return 0;
    }
    e = calloc(1, sizeof(*e));
    if (e)
        e->key = strdup(key);
    if (!e || !e->key) {
        pthread_mutex_unlock(&tc->lock);
        free(e);
        free(v);
        return -ENOMEM;
    }
    e->value = v;
    e->expires = expires;
    e->next = *pp; /* *pp is NULL: the chain's end */
    *pp = e;
    if (++tc->n >= tc->sweep_at) {
        sweep(tc, now);
        tc->sweep_at = 2 * tc->n + BUCKETS;
    }
    pthread_mutex_unlock(&tc->lock);
    return 0;
}
