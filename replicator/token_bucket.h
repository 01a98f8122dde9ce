/*
 * token_bucket.h - a byte rate limit shared by threads: the replicator's
 * max_bytes_per_sec over every SSYNC body it sends, whatever partition job
 * sends it.
 *
 * The bucket holds up to one second of bytes, so a sender that was idle
 * may burst that much; after that the rate holds on average over any
 * window. A take may overdraw the bucket: the taker then sleeps until the
 * debt is paid, and later takers wait behind it, so big chunks cannot
 * starve small ones and the total never runs ahead of the rate.
 *
 * Thread-safe: a mutex guards the counters, and nobody sleeps under it.
 */
#ifndef REPLICATOR_TOKEN_BUCKET_H
#define REPLICATOR_TOKEN_BUCKET_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

struct token_bucket {
    double rate;   /* bytes per second; 0: no limit */
    double tokens; /* bytes that may go now; negative: debt */
    double last;   /* monotonic seconds of the last refill */
    pthread_mutex_t lock;
};

/* A bucket of 'rate' bytes per second (0: unlimited), full. Returns 0 or
 * -errno from pthread_mutex_init(). */
int token_bucket_init(struct token_bucket *tb, uint64_t rate);
void token_bucket_release(struct token_bucket *tb);

/* Takes 'bytes' at monotonic time 'now' (seconds) and returns how many
 * seconds the caller must wait before sending them (0: at once). The
 * clock is the caller's, so tests can drive it. */
double token_bucket_take(struct token_bucket *tb, double now, size_t bytes);

/* token_bucket_take() at CLOCK_MONOTONIC's now, then the sleep. The
 * signature of ssync_opts.throttle, with the bucket as 'arg'. */
void token_bucket_throttle(void *arg, size_t bytes);

#endif /* REPLICATOR_TOKEN_BUCKET_H */
