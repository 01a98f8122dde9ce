/*
 * memory.h - how a daemon's process holds memory: glibc malloc's settings,
 * made once at start, and freed memory handed back to the kernel while the
 * daemon waits for its stop signal.
 *
 * Why. Every daemon runs a thread per connection (http_server.h). glibc
 * gives threads their own malloc arenas (up to 8 per core), and an arena
 * keeps what its threads freed: after a burst of requests each arena
 * holds a few MiB nobody uses. One arena per core (no more threads than
 * cores run at once, and tcache serves small blocks without a lock), a
 * fixed mmap threshold (glibc otherwise raises
 * it after each large free, up to 32 MiB, so large buffers stay in the
 * arenas) and a periodic malloc_trim() keep the RSS close to what is in
 * use.
 *
 * Not thread-safe: call memory_setup() once from main() before any thread
 * starts, and memory_sigwait() from the main thread.
 */
#ifndef COMMON_MEMORY_H
#define COMMON_MEMORY_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/conf.h"

struct memory_conf {
    unsigned int malloc_arena_max;  /* 0: one per online core */
    uint64_t malloc_mmap_threshold; /* bytes; 0: glibc's dynamic one */
    unsigned int malloc_trim_interval; /* seconds; 0: never trim */
};

/* Rows for a daemon's option table (conf.h). */
#define MEMORY_CONF_OPTIONS(T, m)                                              \
    CONF_UINT("malloc_arena_max", T, m.malloc_arena_max, 0, 0, 1024),          \
        CONF_SIZE("malloc_mmap_threshold", T, m.malloc_mmap_threshold, 131072, \
                  0, 33554432),                                                \
        CONF_UINT("malloc_trim_interval", T, m.malloc_trim_interval, 1, 0,     \
                  86400)

/* Applies the malloc settings of 'conf' (mallopt()). */
void memory_setup(const struct memory_conf *conf);

/* Hands free memory of every arena back to the kernel (malloc_trim()).
 * Returns true if some was. */
bool memory_trim(void);

/* sigwait() on 'set' (blocked in every thread), trimming every
 * conf->malloc_trim_interval seconds meanwhile. Returns the signal. */
int memory_sigwait(const sigset_t *set, const struct memory_conf *conf);

#endif /* COMMON_MEMORY_H */
