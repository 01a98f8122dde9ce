/*
 * live_ring.c - holds the current ring of a file and swaps in new ones.
 *
 * Invariants:
 * 1. lr->ring is never NULL and always a completely loaded ring; it only
 *    changes under lr->lock, and the reference lr holds is dropped only
 *    after the pointer no longer leads to it.
 * 2. One thread at a time checks the file (lr->checking); the file
 *    identities below belong to that thread while it holds the flag.
 * Lookups are ring.c's job; parsing is ringfile.c's.
 */
#include "ring/live_ring.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* What tells us the file changed: Swift looks at the mtime only; a
 * rename over the file changes the inode even within one mtime tick. */
struct file_id {
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
};

struct live_ring {
    char *path;
    long long reload_ms;
    pthread_mutex_t lock; /* guards ring, last_rc, last_err */
    struct ring *ring;
    int last_rc;
    char last_err[RINGFILE_ERRLEN];
    atomic_llong next_check_ms; /* CLOCK_MONOTONIC */
    atomic_bool checking;
    struct file_id loaded; /* the file lr->ring came from */
    struct file_id bad;    /* the last file that failed to load */
    bool have_bad;
};

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int stat_id(const char *path, struct file_id *id)
{
    struct stat st;

    if (stat(path, &st) == -1)
        return -errno;
    memset(id, 0, sizeof(*id));
    id->dev = st.st_dev;
    id->ino = st.st_ino;
    id->size = st.st_size;
    id->mtime = st.st_mtim;
    return 0;
}

static bool same_id(const struct file_id *a, const struct file_id *b)
{
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtime.tv_sec == b->mtime.tv_sec &&
           a->mtime.tv_nsec == b->mtime.tv_nsec;
}

static void set_result(struct live_ring *lr, int rc, const char *err)
{
    pthread_mutex_lock(&lr->lock);
    lr->last_rc = rc;
    snprintf(lr->last_err, sizeof(lr->last_err), "%s", rc ? err : "");
    pthread_mutex_unlock(&lr->lock);
}

/* The check itself; the caller holds lr->checking. */
static int check_file(struct live_ring *lr, char *err)
{
    char msg[RINGFILE_ERRLEN] = "";
    struct ring *fresh, *old;
    struct file_id id;
    int rc;

    rc = stat_id(lr->path, &id);
    if (rc) {
        snprintf(msg, sizeof(msg), "cannot stat ring '%s': %s", lr->path,
                 strerror(-rc));
        goto failed;
    }
    if (same_id(&id, &lr->loaded) || (lr->have_bad && same_id(&id, &lr->bad)))
        return 0;
    rc = ring_load(lr->path, &fresh, msg);
    if (rc) {
        lr->bad = id;
        lr->have_bad = true;
        goto failed;
    }
    lr->loaded = id;
    lr->have_bad = false;
    pthread_mutex_lock(&lr->lock);
    old = lr->ring;
    lr->ring = fresh;
    lr->last_rc = 0;
    lr->last_err[0] = '\0';
    pthread_mutex_unlock(&lr->lock);
    ring_free(old);
    return 1;
failed:
    set_result(lr, rc, msg);
    if (err)
        snprintf(err, RINGFILE_ERRLEN, "%s", msg);
    return rc;
}

int live_ring_new(const char *path, unsigned reload_time,
                  struct live_ring **out, char err[RINGFILE_ERRLEN])
{
    struct live_ring *lr;
    int rc;

    *out = NULL;
    lr = calloc(1, sizeof(*lr));
    if (!lr || !(lr->path = strdup(path))) {
        free(lr);
        return -ENOMEM;
    }
    lr->reload_ms = (long long)reload_time * 1000;
    pthread_mutex_init(&lr->lock, NULL);
    atomic_init(&lr->checking, false);
    atomic_init(&lr->next_check_ms, now_ms() + lr->reload_ms);
    rc = stat_id(path, &lr->loaded);
    if (!rc)
        rc = ring_load(path, &lr->ring, err);
    else if (err)
        snprintf(err, RINGFILE_ERRLEN, "cannot stat ring '%s': %s", path,
                 strerror(-rc));
    if (rc) {
        live_ring_free(lr);
        return rc;
    }
    *out = lr;
    return 0;
}

void live_ring_free(struct live_ring *lr)
{
    if (!lr)
        return;
    ring_free(lr->ring);
    pthread_mutex_destroy(&lr->lock);
    free(lr->path);
    free(lr);
}

struct ring *live_ring_get(struct live_ring *lr)
{
    long long now = now_ms();
    struct ring *ring;

    if (now >= atomic_load_explicit(&lr->next_check_ms, memory_order_relaxed) &&
        !atomic_exchange(&lr->checking, true)) {
        atomic_store(&lr->next_check_ms, now + lr->reload_ms);
        check_file(lr, NULL);
        atomic_store(&lr->checking, false);
    }
    pthread_mutex_lock(&lr->lock);
    ring = ring_ref(lr->ring);
    pthread_mutex_unlock(&lr->lock);
    return ring;
}

int live_ring_reload(struct live_ring *lr, char err[RINGFILE_ERRLEN])
{
    int rc;

    while (atomic_exchange(&lr->checking, true))
        sched_yield();
    atomic_store(&lr->next_check_ms, now_ms() + lr->reload_ms);
    rc = check_file(lr, err);
    atomic_store(&lr->checking, false);
    return rc;
}

int live_ring_last_error(struct live_ring *lr, char err[RINGFILE_ERRLEN])
{
    int rc;

    pthread_mutex_lock(&lr->lock);
    rc = lr->last_rc;
    if (err)
        snprintf(err, RINGFILE_ERRLEN, "%s", lr->last_err);
    pthread_mutex_unlock(&lr->lock);
    return rc;
}
