/*
 * db_bg.c - the pass loop of a DB server's background threads
 * (db_bg.h). What a pass does is its owner's.
 */
#include "storage/db_bg.h"

#include <time.h>

double db_bg_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

bool db_bg_sleep_until(struct db_bg *bg, double until)
{
    struct timespec ts = {.tv_sec = (time_t)until};
    bool stop;

    ts.tv_nsec = (long)((until - (double)ts.tv_sec) * 1e9);
    pthread_mutex_lock(&bg->lock);
    while (!bg->stop && db_bg_now() < until)
        pthread_cond_timedwait(&bg->wake, &bg->lock, &ts);
    stop = bg->stop;
    pthread_mutex_unlock(&bg->lock);
    return stop;
}

bool db_bg_stopping(struct db_bg *bg)
{
    bool stop;

    pthread_mutex_lock(&bg->lock);
    stop = bg->stop;
    pthread_mutex_unlock(&bg->lock);
    return stop;
}

bool db_bg_pace(struct db_bg *bg, double start, long n, double rate)
{
    if (rate <= 0)
        return db_bg_stopping(bg);
    return db_bg_sleep_until(bg, start + (double)n / rate);
}

static void *run(void *arg)
{
    struct db_bg *bg = arg;
    double start = db_bg_now();

    /* the first pass at a random point of the first interval (the
     * milliseconds of the start time are random enough) */
    if (db_bg_sleep_until(
            bg, start + bg->interval *
                            (double)((long long)(start * 1e3) % 1000) / 1e3))
        return NULL;
    do {
        start = db_bg_now();
        bg->pass(bg->arg);
    } while (!db_bg_sleep_until(bg, start + bg->interval));
    return NULL;
}

int db_bg_start(struct db_bg *bg, double interval, void (*pass)(void *arg),
                void *arg)
{
    int err;

    bg->interval = interval;
    bg->pass = pass;
    bg->arg = arg;
    bg->stop = false;
    pthread_mutex_init(&bg->lock, NULL);
    pthread_cond_init(&bg->wake, NULL);
    err = pthread_create(&bg->thread, NULL, run, bg);
    if (err) {
        pthread_cond_destroy(&bg->wake);
        pthread_mutex_destroy(&bg->lock);
        return -err;
    }
    return 0;
}

void db_bg_stop(struct db_bg *bg)
{
    pthread_mutex_lock(&bg->lock);
    bg->stop = true;
    pthread_cond_broadcast(&bg->wake);
    pthread_mutex_unlock(&bg->lock);
    pthread_join(bg->thread, NULL);
    pthread_cond_destroy(&bg->wake);
    pthread_mutex_destroy(&bg->lock);
}
