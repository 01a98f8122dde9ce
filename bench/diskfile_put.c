/*
 * diskfile_put.c - small-object rates of the object layer on one device:
 * 4 KiB PUTs (temp file, fsync, rename, directory fsyncs, suffix
 * invalidation), then HEADs (diskfile_open) and GETs (open + full read with
 * MD5 check), with 1 and with N writer threads. Prints RESULT lines.
 *
 * Build (Release flags, no sanitizers) from the repository root:
 *   gcc -std=c17 -D_GNU_SOURCE -O2 -I. bench/diskfile_put.c storage/objmeta.c \
 *       storage/diskfile_io.c storage/ondisk.c storage/devices.c \
 *       storage/suffix_hash.c storage/diskfile.c common/atomic_file.c \
 *       ring/hash_path.c -linih -lcrypto -lxxhash -lpthread \
 *       -o /tmp/diskfile_put
 *   /tmp/diskfile_put [dir on the device to test, default /tmp] [count] [threads]
 */
#include "storage/diskfile.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static struct hash_path_conf hc;
static struct diskfile_conf conf;
static int count_per_thread;
static char body[4096];

enum op { OP_PUT, OP_HEAD, OP_GET };

struct job {
    int id;
    enum op op;
    int fails;
};

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int one(int id, int i, enum op op)
{
    struct objmeta m = {0};
    struct diskfile *df;
    struct diskfile_writer *w;
    struct diskfile_reader *r;
    char name[64], buf[8192];
    ssize_t n;
    int err;

    snprintf(name, sizeof(name), "bench-%d-%d", id, i);
    err = diskfile_new(&conf, "sda", (unsigned)(i % 1024), "AUTH_bench", "c",
                       name, &df);
    if (err)
        return err;
    if (op == OP_PUT) {
        objmeta_set(&m, "Content-Type", "application/octet-stream");
        objmeta_set(&m, "X-Object-Meta-Bench", "yes");
        err = diskfile_writer_new(df, sizeof(body), &w);
        if (!err)
            err = diskfile_writer_write(w, body, sizeof(body));
        if (!err)
            err = diskfile_writer_commit(w, &m, "1700000001.00000", NULL);
        if (!err || w)
            diskfile_writer_free(w);
        objmeta_release(&m);
    } else {
        err = diskfile_open(df);
        if (!err && op == OP_GET) {
            err = diskfile_reader_new(df, 0, UINT64_MAX, &r);
            while (!err && (n = diskfile_reader_read(r, buf, sizeof(buf))) > 0)
                ;
            if (!err && n < 0)
                err = (int)n;
            diskfile_reader_free(r);
        }
    }
    diskfile_free(df);
    return err;
}

static void *run(void *arg)
{
    struct job *j = arg;

    for (int i = 0; i < count_per_thread; i++)
        j->fails += one(j->id, i, j->op) != 0;
    return NULL;
}

static void phase(const char *label, enum op op, int threads, int base_id)
{
    pthread_t t[64];
    struct job jobs[64];
    double t0 = now(), dt;
    int fails = 0;

    for (int i = 0; i < threads; i++) {
        jobs[i] = (struct job){.id = base_id + i, .op = op};
        pthread_create(&t[i], NULL, run, &jobs[i]);
    }
    for (int i = 0; i < threads; i++) {
        pthread_join(t[i], NULL);
        fails += jobs[i].fails;
    }
    dt = now() - t0;
    printf("RESULT diskfile_%s_4k threads=%d ops=%d fails=%d rate=%.0f/s\n",
           label, threads, threads * count_per_thread, fails,
           threads * count_per_thread / dt);
}

int main(int argc, char **argv)
{
    const char *base = argc > 1 ? argv[1] : "/tmp";
    char root[512], path[600], cmd[700];
    int threads = argc > 3 ? atoi(argv[3]) : 8;

    count_per_thread = argc > 2 ? atoi(argv[2]) : 2000;
    if (threads < 1 || threads > 64 || count_per_thread < 1)
        return 2;
    snprintf(root, sizeof(root), "%s/kura-bench-XXXXXX", base);
    if (!mkdtemp(root))
        return 1;
    snprintf(path, sizeof(path), "%s/sda", root);
    mkdir(path, 0755);
    hash_path_conf_set(&hc, "", "bench");
    conf.devices = root;
    conf.hash_conf = &hc;
    memset(body, 'x', sizeof(body));

    /* the first PUTs also create partition and suffix directories; the
     * second round finds the partitions there, as a running node does */
    phase("put_cold", OP_PUT, 1, 0);
    phase("put", OP_PUT, 1, 1);
    phase("put", OP_PUT, threads, 100);
    phase("head", OP_HEAD, 1, 0);
    phase("get", OP_GET, 1, 0);
    phase("head", OP_HEAD, threads, 100);
    phase("get", OP_GET, threads, 100);

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    hash_path_conf_release(&hc);
    return system(cmd) == 0 ? 0 : 1;
}
