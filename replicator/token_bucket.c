/*
 * token_bucket.c - a byte rate limit shared by threads (token_bucket.h).
 */
#include "replicator/token_bucket.h"

#include <errno.h>
#include <time.h>

int token_bucket_init(struct token_bucket *tb, uint64_t rate)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    tb->rate = (double)rate;
    tb->tokens = tb->rate; /* one second's burst */
    tb->last = (double)now.tv_sec + (double)now.tv_nsec / 1e9;
    return -pthread_mutex_init(&tb->lock, NULL);
}

void token_bucket_release(struct token_bucket *tb)
{
    pthread_mutex_destroy(&tb->lock);
}

double token_bucket_take(struct token_bucket *tb, double now, size_t bytes)
{
    double wait = 0;

    if (tb->rate <= 0)
        return 0;
    pthread_mutex_lock(&tb->lock);
    if (now > tb->last) {
        tb->tokens += (now - tb->last) * tb->rate;
        if (tb->tokens > tb->rate)
            tb->tokens = tb->rate;
        tb->last = now;
    }
    tb->tokens -= (double)bytes;
    if (tb->tokens < 0)
        wait = -tb->tokens / tb->rate;
    pthread_mutex_unlock(&tb->lock);
    return wait;
}

void token_bucket_throttle(void *arg, size_t bytes)
{
    struct token_bucket *tb = arg;
    struct timespec now, ts;
    double wait;

    clock_gettime(CLOCK_MONOTONIC, &now);
    wait = token_bucket_take(tb, (double)now.tv_sec + (double)now.tv_nsec / 1e9,
                             bytes);
    if (wait <= 0)
        return;
    ts.tv_sec = (time_t)wait;
    ts.tv_nsec = (long)((wait - (double)ts.tv_sec) * 1e9);
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
        ;
}
