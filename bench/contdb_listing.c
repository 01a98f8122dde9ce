/*
 * contdb_listing.c - container listing benchmark: a 10,000-row page from a
 * 1,000,000-object container (issue 3's target: <= 20 ms), through
 * contdb_list() and the json formatter, as the container server will run
 * them. Build and run with bench/contdb.sh.
 *
 * Objects are named "d%03u/o%06u" (1,000 directories of 1,000 objects)
 * and written in batches of 1,000, as a group-committing server would.
 *
 * Each case times contdb_list() writing the json body as it scans (the
 * container server's way, listing_writer), median and max of 15 runs, its
 * CPU time (the machine is shared: CPU time moves less with the load), and
 * the scan alone into a listing that keeps its entries. Prints:
 * RESULT contdb_listing case=<case> rows=<n> ms_median=<ms> ms_max=<ms>
 * cpu_ms_median=<ms> scan_ms_median=<ms> target_ms=20
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "storage/contdb.h"
#include "storage/listing_format.h"

#define OBJECTS 1000000u
#define PER_DIR 1000u
#define RUNS 15

static double clock_ms(clockid_t id)
{
    struct timespec t;

    clock_gettime(id, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static double now_ms(void)
{
    return clock_ms(CLOCK_MONOTONIC);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static int load(struct contdb *db)
{
    static char names[PER_DIR][32];
    struct contdb_object objs[PER_DIR];
    double t0 = now_ms();

    for (unsigned d = 0; d < OBJECTS / PER_DIR; d++) {
        for (unsigned i = 0; i < PER_DIR; i++) {
            unsigned n = d * PER_DIR + i;

            snprintf(names[i], sizeof(names[i]), "d%03u/o%06u", d, n);
            objs[i] = (struct contdb_object){
                .name = names[i],
                .name_len = strlen(names[i]),
                .created_at = {.raw = 170000000000000ull + n},
                .size = n,
                .content_type = "application/octet-stream",
                .etag = "d41d8cd98f00b204e9800998ecf8427e",
            };
        }
        int err = contdb_merge_objects(db, objs, PER_DIR, 0);

        if (err)
            return err;
    }
    printf("RESULT contdb_load objects=%u seconds=%.1f rows_per_s=%.0f\n",
           OBJECTS, (now_ms() - t0) / 1e3, OBJECTS / ((now_ms() - t0) / 1e3));
    return 0;
}

static int run_case(struct contdb *db, const char *name,
                    const struct listing_params *p)
{
    double ms[RUNS], cpu_ms[RUNS], list_ms[RUNS];
    size_t rows = 0;

    for (int r = 0; r < RUNS; r++) {
        struct listing l = {0}, kept = {0};
        struct listing_writer w;
        struct listing_body *body = NULL;
        double t0 = now_ms(), c0 = clock_ms(CLOCK_THREAD_CPUTIME_ID);
        int err;

        listing_writer_init(&w, LISTING_JSON, false, "c", p->limit);
        listing_writer_attach(&w, &l);
        err = contdb_list(db, p, &l);
        if (!err)
            err = listing_writer_finish(&w, &body);
        listing_writer_release(&w);
        ms[r] = now_ms() - t0;
        cpu_ms[r] = clock_ms(CLOCK_THREAD_CPUTIME_ID) - c0;
        t0 = now_ms();
        if (!err)
            err = contdb_list(db, p, &kept);
        list_ms[r] = now_ms() - t0;
        if (err) {
            fprintf(stderr, "%s: %s\n", name, strerror(-err));
            return err;
        }
        rows = l.n;
        listing_body_free(body);
        listing_release(&l);
        listing_release(&kept);
    }
    qsort(ms, RUNS, sizeof(ms[0]), cmp_double);
    qsort(cpu_ms, RUNS, sizeof(cpu_ms[0]), cmp_double);
    qsort(list_ms, RUNS, sizeof(list_ms[0]), cmp_double);
    printf("RESULT contdb_listing case=%s rows=%zu ms_median=%.2f "
           "ms_max=%.2f cpu_ms_median=%.2f scan_ms_median=%.2f "
           "target_ms=20\n",
           name, rows, ms[RUNS / 2], ms[RUNS - 1], cpu_ms[RUNS / 2],
           list_ms[RUNS / 2]);
    return 0;
}

int main(int argc, char **argv)
{
    static const unsigned char hash[16] = {0xab};
    const char *path = argc > 1 ? argv[1] : "/tmp/kura-bench-contdb.ldb";
    struct db_ts ts = {.raw = 100000};
    struct kvdb *kv;
    struct contdb db;
    struct contdb_info info;
    int err;

    err = kvdb_open(path, NULL, &kv);
    if (err)
        return 1;
    contdb_init(&db, kv, 1, hash);
    err = contdb_get_info(&db, &info);
    if (err == -ENOENT) {
        err = contdb_create(&db, "AUTH_bench", "c", &ts, 0);
        if (!err)
            err = load(&db);
    }
    contdb_info_release(&info);
    if (err) {
        fprintf(stderr, "cannot set up: %s\n", strerror(-err));
        return 1;
    }
    const struct {
        const char *name;
        struct listing_params p;
    } cases[] = {
        {"first_page", {.limit = 10000}},
        {"middle_page", {.limit = 10000, .marker = "d500/o500000"}},
        {"reverse_page",
         {.limit = 10000, .reverse = true, .marker = "d500/o500000"}},
        {"end_marker_page",
         {.limit = 10000, .marker = "d100/o100000", .end_marker = "d900"}},
        {"prefix_page", {.limit = 10000, .prefix = "d7"}},
        {"delimiter_top", {.limit = 10000, .delimiter = "/"}},
        {"prefix_delimiter",
         {.limit = 10000, .prefix = "d123/", .delimiter = "/"}},
        {"reverse_delimiter",
         {.limit = 10000, .delimiter = "/", .reverse = true}},
        {"path", {.limit = 10000, .path = "d999"}},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (run_case(&db, cases[i].name, &cases[i].p))
            return 1;
    kvdb_close(kv);
    return 0;
}
