/*
 * contdb_update.c - synced container updates per second: T threads each
 * put objects into their own container with KVDB_SYNC, as container
 * servers answer object servers' updates. One synced LevelDB write costs
 * ~0.25 ms here (~4k/s); concurrent updates should share fsyncs (group
 * commit, see kvdb.h). Build and run with bench/contdb.sh.
 *
 * Prints: RESULT contdb_update threads=<t> updates=<n> per_s=<rate>
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "storage/contdb.h"

#define SECONDS 2.0

struct worker {
    struct kvdb *kv;
    unsigned id;
    unsigned long done;
    int err;
};

static double now_s(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void *work(void *arg)
{
    struct worker *w = arg;
    unsigned char hash[16] = {0};
    struct db_ts ts = {.raw = 100000};
    struct contdb db;
    double end;
    char name[32];

    memcpy(hash, &w->id, sizeof(w->id));
    contdb_init(&db, w->kv, w->id % 1024, hash);
    w->err = contdb_create(&db, "AUTH_bench", "c", &ts, 0);
    if (w->err && w->err != -17 /* EEXIST */)
        return NULL;
    w->err = 0;
    end = now_s() + SECONDS;
    while (now_s() < end) {
        struct contdb_object o = {
            .name = name,
            .created_at = {.raw = 170000000000000ull + w->done},
            .size = 4096,
            .content_type = "application/octet-stream",
            .etag = "d41d8cd98f00b204e9800998ecf8427e",
        };

        o.name_len = (size_t)snprintf(name, sizeof(name), "o%08lu", w->done);
        w->err = contdb_put_object(&db, &o, KVDB_SYNC);
        if (w->err)
            return NULL;
        w->done++;
    }
    return NULL;
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "/tmp/kura-bench-update.ldb";
    static const unsigned threads[] = {1, 4, 16, 64};
    struct kvdb *kv;

    if (kvdb_open(path, NULL, &kv))
        return 1;
    for (size_t i = 0; i < sizeof(threads) / sizeof(threads[0]); i++) {
        unsigned t = threads[i];
        struct worker *w = calloc(t, sizeof(*w));
        pthread_t *th = calloc(t, sizeof(*th));
        unsigned long total = 0;
        double t0 = now_s();

        for (unsigned j = 0; j < t; j++) {
            w[j] = (struct worker){.kv = kv, .id = (unsigned)i * 1000 + j};
            pthread_create(&th[j], NULL, work, &w[j]);
        }
        for (unsigned j = 0; j < t; j++) {
            pthread_join(th[j], NULL);
            total += w[j].done;
            if (w[j].err)
                fprintf(stderr, "worker %u: error %d\n", j, w[j].err);
        }
        printf("RESULT contdb_update threads=%u updates=%lu per_s=%.0f\n", t,
               total, (double)total / (now_s() - t0));
        free(w);
        free(th);
    }
    kvdb_close(kv);
    return 0;
}
