/*
 * error_limit.c - see error_limit.h. A chained hash table of node keys;
 * entries are few (one per device that ever failed) and never removed,
 * only reset, so pointers stay valid without reference counts.
 */
#include "proxy/error_limit.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUCKETS 256
#define KEY_MAX 320

struct entry {
    struct entry *next;
    unsigned int errors;
    double last_error;
    double limited_until; /* 0: not limited */
    char key[];
};

struct error_limit {
    pthread_mutex_t lock;
    double interval;
    unsigned int limit;
    struct entry *buckets[BUCKETS];
};

int error_limit_new(double interval, unsigned int limit,
                    struct error_limit **out)
{
    struct error_limit *el = calloc(1, sizeof(*el));

    *out = NULL;
    if (!el)
        return -ENOMEM;
    pthread_mutex_init(&el->lock, NULL);
    el->interval = interval;
    el->limit = limit;
    *out = el;
    return 0;
}

void error_limit_free(struct error_limit *el)
{
    if (!el)
        return;
    for (size_t i = 0; i < BUCKETS; i++) {
        struct entry *e = el->buckets[i], *next;

        for (; e; e = next) {
            next = e->next;
            free(e);
        }
    }
    pthread_mutex_destroy(&el->lock);
    free(el);
}

static void node_key(const struct ring_dev *dev, char key[KEY_MAX])
{
    snprintf(key, KEY_MAX, "%s:%d/%s", dev->ip, dev->port, dev->device);
}

static uint32_t fnv1a(const char *s)
{
    uint32_t h = 2166136261u;

    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* The entry of 'key'; created when 'create' (NULL when out of memory).
 * Called with the lock held. */
static struct entry *find(struct error_limit *el, const char *key,
                          bool create)
{
    struct entry **head = &el->buckets[fnv1a(key) % BUCKETS], *e;
    size_t len;

    for (e = *head; e; e = e->next)
        if (!strcmp(e->key, key))
            return e;
    if (!create)
        return NULL;
    len = strlen(key);
    e = calloc(1, sizeof(*e) + len + 1);
    if (!e)
        return NULL;
    memcpy(e->key, key, len + 1);
    e->next = *head;
    *head = e;
    return e;
}

bool error_limited(struct error_limit *el, const struct ring_dev *dev,
                   double now)
{
    char key[KEY_MAX];
    struct entry *e;
    bool limited = false;

    node_key(dev, key);
    pthread_mutex_lock(&el->lock);
    e = find(el, key, false);
    if (e && e->limited_until) {
        if (now <= e->limited_until) { /* Swift: still limited at the end */
            limited = true;
        } else {
            e->limited_until = 0;
            e->errors = 0;
        }
    }
    pthread_mutex_unlock(&el->lock);
    return limited;
}

void error_limit_occurred(struct error_limit *el, const struct ring_dev *dev,
                          double now)
{
    char key[KEY_MAX];
    struct entry *e;

    node_key(dev, key);
    pthread_mutex_lock(&el->lock);
    e = find(el, key, true);
    if (e) {
        /* errors further apart than the interval start a new count */
        if (now - e->last_error > el->interval) {
            e->errors = 0;
            e->limited_until = 0;
        }
        e->errors++;
        e->last_error = now;
        if (e->errors > el->limit)
            e->limited_until = now + el->interval;
    }
    pthread_mutex_unlock(&el->lock);
}

void error_limit_now(struct error_limit *el, const struct ring_dev *dev,
                     double now)
{
    char key[KEY_MAX];
    struct entry *e;

    node_key(dev, key);
    pthread_mutex_lock(&el->lock);
    e = find(el, key, true);
    if (e) {
        e->errors = el->limit + 1;
        e->last_error = now;
        e->limited_until = now + el->interval;
    }
    pthread_mutex_unlock(&el->lock);
}
