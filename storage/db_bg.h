/*
 * db_bg.h - a background thread of a DB server (the replicator,
 * db_replicator.h; the auditor, db_auditor.h): a pass every 'interval'
 * seconds from the start of one to the start of the next, the first at a
 * random point of the first interval (Swift's daemons do the same, so
 * servers started together do not all work at once), and a stop that
 * wakes a sleeping thread at once.
 *
 * Thread safety: start and stop from one thread (the daemon's main);
 * db_bg_stopping() and db_bg_sleep_until() from the pass.
 */
#ifndef STORAGE_DB_BG_H
#define STORAGE_DB_BG_H

#include <pthread.h>
#include <stdbool.h>

struct db_bg {
    double interval;
    void (*pass)(void *arg);
    void *arg;
    /* the thread's */
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stop;
};

/* Wall-clock seconds (what recon reports). */
double db_bg_now(void);

/* Starts the thread calling pass(arg) every 'interval' seconds. Returns
 * 0 or -errno (nothing to stop then). */
int db_bg_start(struct db_bg *bg, double interval, void (*pass)(void *arg),
                void *arg);
/* Stops the thread: a sleep ends at once, a pass under way at its next
 * db_bg_stopping() or db_bg_sleep_until(); returns once it ended. */
void db_bg_stop(struct db_bg *bg);

bool db_bg_stopping(struct db_bg *bg);
/* Sleeps until wall time 'until' or a stop. Returns true when stopping. */
bool db_bg_sleep_until(struct db_bg *bg, double until);

/* Swift's *_per_second: the pass's n-th item not before start + n / rate
 * (rate 0: no limit). Returns true when stopping. */
bool db_bg_pace(struct db_bg *bg, double start, long n, double rate);

#endif /* STORAGE_DB_BG_H */
