/*
 * memory.c - glibc malloc's settings for a daemon and the trimming of
 * freed memory while the main thread waits for a stop signal.
 *
 * Owns nothing but calls into glibc; what the daemons allocate and when
 * they free it is theirs. The trim runs on the main thread, which has
 * nothing else to do: no thread of its own, and it stops with the signal.
 */
#include "common/memory.h"

#include <errno.h>
#include <malloc.h>
#include <stdbool.h>
#include <time.h>
#include <unistd.h>

void memory_setup(const struct memory_conf *conf)
{
    long arenas = conf->malloc_arena_max;

    if (!arenas)
        arenas = sysconf(_SC_NPROCESSORS_ONLN);
    if (arenas > 0)
        mallopt(M_ARENA_MAX, (int)arenas);
    /* A fixed threshold also stops glibc from raising the trim threshold
     * after large frees, so the top of a heap goes back at 128 KiB. */
    if (conf->malloc_mmap_threshold)
        mallopt(M_MMAP_THRESHOLD, (int)conf->malloc_mmap_threshold);
}

bool memory_trim(void)
{
    return malloc_trim(0) == 1;
}

int memory_sigwait(const sigset_t *set, const struct memory_conf *conf)
{
    struct timespec interval = {(time_t)conf->malloc_trim_interval, 0};
    int sig;

    if (!conf->malloc_trim_interval) {
        while (sigwait(set, &sig))
            ;
        return sig;
    }
    for (;;) {
        sig = sigtimedwait(set, NULL, &interval);
        if (sig > 0)
            return sig;
        if (errno == EAGAIN)
            memory_trim();
    }
}
