/*
 * obj_replicator.c - the object replicator's passes and partition jobs
 * (obj_replicator.h). Hashing is suffix_hash.c's, the exchange ssync's
 * (storage/ssync.h), REPLICATE's client replicate_client.c; this file
 * decides who syncs what with whom, and when a handoff partition may go.
 *
 * Invariants:
 * 1. A handoff partition directory is removed only when every primary
 *    confirmed every suffix (hashes equal, or SSYNC took everything) and
 *    a fresh hashing after the syncs gives the hashes that were synced.
 * 2. The removal itself holds the partition's lock (suffix_hash.h) and
 *    happens only while hashes.invalid is empty. A writer marks the suffix
 *    under that lock before its rename and again after it, and fsyncs the
 *    hash directory last: a write that began before the removal has left
 *    a mark (so nothing is removed), and one that is blocked on the lock
 *    finds its directory gone and fails before answering. Either way no
 *    acknowledged object is deleted.
 * 3. Nothing here creates <devices>/<dev>: a device that fails
 *    devices_check() (missing, or unmounted with mount_check) is skipped.
 */
#include "replicator/obj_replicator.h"

#include "common/http_client.h"
#include "common/recon.h"
#include "replicator/replicate_client.h"
#include "replicator/token_bucket.h"
#include "ring/hash_path.h"
#include "ring/live_ring.h"
#include "storage/devices.h"
#include "storage/local_devs.h"
#include "storage/ssync.h"
#include "storage/suffix_hash.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Seconds between replication_progress updates in the recon cache. */
#define PROGRESS_INTERVAL 5
#define MAX_LOCAL_DEVS 4096

const struct conf_option obj_replicator_options[] = {
    LOG_CONF_OPTIONS(struct obj_replicator_conf, log, "object-replicator"),
    CONF_STR("devices", struct obj_replicator_conf, devices, "/srv/node"),
    CONF_BOOL("mount_check", struct obj_replicator_conf, mount_check, true),
    CONF_STR("swift_dir", struct obj_replicator_conf, swift_dir, "/etc/swift"),
    CONF_STR("bind_ip", struct obj_replicator_conf, bind_ip, "0.0.0.0"),
    CONF_UINT("bind_port", struct obj_replicator_conf, bind_port, 6200, 1,
              65535),
    /* at least a second: passes that find nothing must not spin */
    CONF_UINT("interval", struct obj_replicator_conf, interval, 30, 1,
              UINT32_MAX),
    CONF_UINT("concurrency", struct obj_replicator_conf, concurrency, 1, 1,
              256),
    CONF_UINT("ssync_concurrency", struct obj_replicator_conf,
              ssync_concurrency, 4, 1, 64),
    CONF_SIZE("max_bytes_per_sec", struct obj_replicator_conf,
              max_bytes_per_sec, 0, 0, UINT64_MAX),
    CONF_UINT("reclaim_age", struct obj_replicator_conf, reclaim_age, 604800, 0,
              UINT32_MAX),
    CONF_BOOL("handoffs_first", struct obj_replicator_conf, handoffs_first,
              false),
    CONF_DOUBLE("conn_timeout", struct obj_replicator_conf, conn_timeout, 0.5,
                0.001, 3600),
    CONF_DOUBLE("node_timeout", struct obj_replicator_conf, node_timeout, 10,
                0.001, 3600),
    CONF_UINT("ring_check_interval", struct obj_replicator_conf,
              ring_check_interval, LIVE_RING_DEFAULT_RELOAD_TIME, 0, 86400),
    CONF_STR("recon_cache_path", struct obj_replicator_conf, recon_cache_path,
             RECON_DEFAULT_CACHE_PATH),
    CONF_UINT("stats_interval", struct obj_replicator_conf, stats_interval, 300,
              1, UINT32_MAX),
    CONF_END,
};

struct obj_replicator {
    const struct obj_replicator_conf *conf;
    struct live_ring *ring;
    struct hash_path_conf hc; /* ssync opens objects by hash */
    struct local_ips ips;
    struct http_client *client;
    struct token_bucket bucket;
    char recon[PATH_MAX];
    atomic_bool stopping;
};

/* What a pass counts; Swift's replication_stats plus what SSYNC moved. */
struct repl_stats {
    uint64_t attempted;    /* partition jobs run */
    uint64_t success;      /* peers left in sync */
    uint64_t failure;      /* peers (or jobs) that failed */
    uint64_t hashmatch;    /* peers already in sync */
    uint64_t remove;       /* handoff partitions removed */
    uint64_t suffix_count; /* local suffixes checked */
    uint64_t suffix_hash;  /* differing suffixes rehashed */
    uint64_t suffix_sync;  /* suffixes sent with SSYNC */
    uint64_t objects;      /* .data, .ts and .meta files sent */
    uint64_t bytes;        /* body bytes sent */
};

struct job {
    int dev_id;
    uint32_t part;
    bool handoff;
};

/* One pass: the jobs, a cursor the workers share, and the totals. */
struct pass {
    struct obj_replicator *r;
    struct ring *ring;
    struct job *jobs;
    size_t n_jobs;
    atomic_size_t next;
    atomic_bool abort; /* the ring changed */
    int64_t reclaim_before;
    double started;    /* Unix time */
    double start_mono; /* monotonic */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    unsigned running;     /* workers still going (lock) */
    size_t done;          /* jobs finished (lock) */
    struct repl_stats st; /* (lock) */
    double *times;        /* per finished job, seconds (lock) */
};

/* What a job needs while it talks to peers. */
struct job_ctx {
    struct pass *p;
    const struct job *job;
    const char *dev;
    char part_dir[PATH_MAX];
    char txn[TXN_ID_LEN + 1];
    struct suffix_hashes local; /* freshest local hashes */
    unsigned local_changes;     /* times a rehash changed 'local' */
    struct repl_stats st;
};

enum sync_result { SYNC_OK, SYNC_FAILED, SYNC_UNAVAILABLE };

static double now_mono(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now_wall(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

bool obj_replicator_is_primary(const struct ring *ring, uint32_t part,
                               int dev_id)
{
    size_t max = ring_replica_arrays(ring), n;
    const struct ring_dev **nodes = calloc(max + 1, sizeof(*nodes));
    bool found = false;

    /* out of memory: "primary", the answer that never removes data */
    if (!nodes)
        return true;
    n = ring_get_part_nodes(ring, part, nodes, max);
    for (size_t i = 0; i < n && !found; i++)
        found = nodes[i]->id == dev_id;
    free(nodes);
    return found;
}

static void stats_add(struct repl_stats *a, const struct repl_stats *b)
{
    a->attempted += b->attempted;
    a->success += b->success;
    a->failure += b->failure;
    a->hashmatch += b->hashmatch;
    a->remove += b->remove;
    a->suffix_count += b->suffix_count;
    a->suffix_hash += b->suffix_hash;
    a->suffix_sync += b->suffix_sync;
    a->objects += b->objects;
    a->bytes += b->bytes;
}

/* ---- talking to one peer ---- */

static bool same_hashes(const struct suffix_hashes *a,
                        const struct suffix_hashes *b)
{
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->v[i].suffix, b->v[i].suffix) ||
            a->v[i].hash != b->v[i].hash)
            return false;
    return true;
}

static void target_of(const struct job_ctx *jc, const struct ring_dev *node,
                      struct ssync_target *t)
{
    t->ip = node->replication_ip;
    t->port = node->replication_port;
    t->dev = node->device;
    t->part = jc->job->part;
}

/* SSYNC 'suffixes' to 't', then a REPLICATE of them so the peer rehashes
 * (its cache does not know what the receiver wrote until then). */
static enum sync_result send_suffixes(struct job_ctx *jc,
                                      const struct ssync_target *t,
                                      const char *const *suffixes, size_t n)
{
    struct obj_replicator *r = jc->p->r;
    struct ssync_stats sst = {0};
    struct ssync_opts opts = {
        .conn_ms = (unsigned)(r->conf->conn_timeout * 1000),
        .node_ms = (unsigned)(r->conf->node_timeout * 1000),
        .txn = jc->txn,
        .throttle = r->conf->max_bytes_per_sec ? token_bucket_throttle : NULL,
        .throttle_arg = &r->bucket,
        .hash_conf = &r->hc,
        .mount_check = r->conf->mount_check,
        .concurrency = r->conf->ssync_concurrency,
    };
    int rc, status;

    rc = ssync_send(r->client, t, r->conf->devices, jc->dev, jc->job->part,
                    suffixes, n, &opts, &sst);
    jc->st.suffix_sync += n;
    jc->st.objects += sst.sent_data + sst.sent_ts + sst.sent_meta;
    jc->st.bytes += sst.bytes;
    if (rc < 0) {
        log_txn(LOG_ERR, jc->txn, "ssync of %s/%" PRIu32 " to %s:%d/%s: %s",
                jc->dev, jc->job->part, t->ip, t->port, t->dev, strerror(-rc));
        /* -ENODEV: the peer's device answered 507 (unmounted, full) */
        return rc == -ENODEV ? SYNC_UNAVAILABLE : SYNC_FAILED;
    }
    if (rc > 0) {
        log_txn(LOG_WARNING, jc->txn,
                "ssync of %s/%" PRIu32 " to %s:%d/%s: %" PRIu64
                " objects not taken",
                jc->dev, jc->job->part, t->ip, t->port, t->dev, sst.failures);
        return SYNC_FAILED;
    }
    status = replicate_client_hashes(r->client, t, suffixes, n, jc->txn, NULL);
    if (status < 0)
        log_txn(LOG_WARNING, jc->txn, "rehash of %s:%d/%s/%" PRIu32 ": %s",
                t->ip, t->port, t->dev, t->part, strerror(-status));
    else if (status != 200)
        log_txn(LOG_WARNING, jc->txn,
                "rehash of %s:%d/%s/%" PRIu32 ": status %d", t->ip, t->port,
                t->dev, t->part, status);
    return SYNC_OK; /* the objects are there; a stale cache is only slow */
}

/* Brings 'node' up to date with our partition: Swift's update() for one
 * node. SYNC_UNAVAILABLE when the peer refuses connections, has no route
 * or answers 507 (to REPLICATE or during SSYNC), so the caller may try a
 * handoff. */
static enum sync_result sync_node(struct job_ctx *jc,
                                  const struct ring_dev *node)
{
    struct obj_replicator *r = jc->p->r;
    struct suffix_hashes remote = {0}, fresh = {0};
    struct ssync_target t;
    const char **diff = NULL;
    enum sync_result res = SYNC_FAILED;
    size_t n;
    int status, err;

    target_of(jc, node, &t);
    status = replicate_client_hashes(r->client, &t, NULL, 0, jc->txn, &remote);
    if (status != 200) {
        /* down for sure: unmounted, or nothing listening or routed. A
         * timeout is not: under load it sent primaries' copies to
         * handoffs and back; it is retried next pass instead. */
        bool gone = status == 507 || status == -ECONNREFUSED ||
                    status == -EHOSTUNREACH || status == -ENETUNREACH;

        if (status < 0)
            log_txn(gone ? LOG_WARNING : LOG_ERR, jc->txn,
                    "REPLICATE %s:%d/%s/%" PRIu32 ": %s", t.ip, t.port, t.dev,
                    t.part, strerror(-status));
        else
            log_txn(gone ? LOG_WARNING : LOG_ERR, jc->txn,
                    "REPLICATE %s:%d/%s/%" PRIu32 ": status %d%s", t.ip, t.port,
                    t.dev, t.part, status, status == 507 ? " (unmounted)" : "");
        jc->st.failure++;
        return gone ? SYNC_UNAVAILABLE : SYNC_FAILED;
    }
    diff = calloc(jc->local.n + 1, sizeof(*diff));
    if (!diff)
        goto out;
    n = replicate_diff(&jc->local, &remote, diff);
    if (n) {
        /* our cache may be what is stale: recompute those suffixes first,
         * as Swift does (a write may also have landed since) */
        err = suffix_hash_get(jc->part_dir, diff, n, jc->p->reclaim_before,
                              &fresh);
        if (err) {
            log_txn(LOG_ERR, jc->txn, "cannot hash '%s': %s", jc->part_dir,
                    strerror(-err));
            goto out;
        }
        jc->st.suffix_hash += n;
        if (!same_hashes(&fresh, &jc->local))
            jc->local_changes++;
        suffix_hashes_release(&jc->local);
        jc->local = fresh;
        free(diff);
        diff = calloc(jc->local.n + 1, sizeof(*diff));
        if (!diff)
            goto out;
        n = replicate_diff(&jc->local, &remote, diff);
    }
    if (!n) {
        jc->st.hashmatch++;
        res = SYNC_OK;
        goto out;
    }
    res = send_suffixes(jc, &t, diff, n);
    if (res == SYNC_OK)
        jc->st.success++;
out:
    if (res != SYNC_OK)
        jc->st.failure++;
    free(diff);
    suffix_hashes_release(&remote);
    return res;
}

/* ---- jobs ---- */

static int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if ((flag == FTW_DP ? rmdir(path) : unlink(path)) == -1 && errno != ENOENT)
        return -errno;
    return 0;
}

/* Removes the partition directory under its lock, unless a write marked a
 * suffix since our last hashing (invariant 2). Returns 0, -EAGAIN (a
 * write came in: kept), or -errno. */
static int remove_partition(const char *part_dir)
{
    char path[PATH_MAX];
    struct stat st;
    int fd, err = 0;

    snprintf(path, sizeof(path), "%s/" SUFFIX_HASH_LOCK, part_dir);
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd == -1)
        return errno == ENOENT ? 0 : -errno;
    while (flock(fd, LOCK_EX) == -1)
        if (errno != EINTR) {
            err = -errno;
            goto out;
        }
    snprintf(path, sizeof(path), "%s/" SUFFIX_HASH_INVALID, part_dir);
    if (stat(path, &st) == 0 && st.st_size > 0) {
        err = -EAGAIN;
    } else {
        /* rm_entry()'s -errno, or nftw's own -1 with errno */
        err = nftw(part_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        if (err == -1)
            err = -errno;
    }
out:
    close(fd); /* the lock goes with it */
    return err;
}

/* The removal of a handoff partition everyone has (invariant 1). */
static void revert_done(struct job_ctx *jc)
{
    struct suffix_hashes again = {0};
    int err;

    err = suffix_hash_get(jc->part_dir, NULL, 0, jc->p->reclaim_before, &again);
    if (!err && !same_hashes(&again, &jc->local))
        err = -EAGAIN;
    suffix_hashes_release(&again);
    if (!err)
        err = remove_partition(jc->part_dir);
    if (!err) {
        jc->st.remove++;
        log_txn(LOG_INFO, jc->txn, "removed handoff partition '%s'",
                jc->part_dir);
    } else if (err == -EAGAIN) {
        log_txn(LOG_INFO, jc->txn,
                "handoff partition '%s' written to during its sync: kept "
                "for the next pass",
                jc->part_dir);
    } else {
        log_txn(LOG_ERR, jc->txn, "cannot remove '%s': %s", jc->part_dir,
                strerror(-err));
    }
}

/* Swift's update_deleted(): push everything to every primary. */
static void handoff_job(struct job_ctx *jc, const struct ring_dev **nodes,
                        size_t n_nodes)
{
    bool all = true;

    if (jc->local.n == 0) { /* nothing to push: an empty leftover */
        revert_done(jc);
        return;
    }
    for (size_t i = 0; i < n_nodes; i++) {
        unsigned changes = jc->local_changes;

        if (sync_node(jc, nodes[i]) != SYNC_OK)
            all = false;
        /* a write seen while syncing a later primary may be missing on
         * the earlier ones: not everyone confirmed it, so keep it */
        if (i > 0 && jc->local_changes != changes)
            all = false;
    }
    if (all)
        revert_done(jc);
}

/* Swift's update(): every other primary, a handoff in place of one that
 * is unreachable or unmounted. */
static void primary_job(struct job_ctx *jc, const struct ring_dev **nodes,
                        size_t n_nodes)
{
    struct ring_handoff_iter *it = NULL;
    const struct ring_dev *node;
    size_t i = 0, left = n_nodes - 1; /* the others */

    if (jc->local.n == 0)
        return; /* nothing of ours to push; peers push to us */
    while (left > 0) {
        if (i < n_nodes) {
            node = nodes[i++];
            if (node->id == jc->job->dev_id)
                continue;
        } else {
            if (!it && ring_handoff_iter_new(jc->p->ring, jc->job->part, &it))
                break;
            node = ring_handoff_iter_next(it);
            if (!node)
                break;
        }
        left--;
        if (sync_node(jc, node) == SYNC_UNAVAILABLE)
            left++;
    }
    ring_handoff_iter_free(it);
}

static void run_job(struct pass *p, const struct job *job,
                    struct repl_stats *st)
{
    struct obj_replicator *r = p->r;
    const struct ring_dev *me = ring_get_dev(p->ring, (unsigned)job->dev_id);
    const struct ring_dev **nodes = NULL;
    struct job_ctx jc = {.p = p, .job = job, .dev = me->device};
    size_t max = ring_replica_arrays(p->ring), n;
    int err;

    txn_id_new(jc.txn);
    jc.st.attempted = 1;
    snprintf(jc.part_dir, sizeof(jc.part_dir), "%s/%s/objects/%" PRIu32,
             r->conf->devices, jc.dev, job->part);
    err = devices_check(r->conf->devices, jc.dev, r->conf->mount_check);
    if (err) {
        log_txn(LOG_WARNING, jc.txn, "skipping %s: %s", jc.dev,
                err == -ENODEV ? "not mounted" : strerror(-err));
        goto out;
    }
    nodes = calloc(max + 1, sizeof(*nodes));
    if (!nodes) {
        err = -ENOMEM;
        goto out;
    }
    n = ring_get_part_nodes(p->ring, job->part, nodes, max);
    err = suffix_hash_get(jc.part_dir, NULL, 0, p->reclaim_before, &jc.local);
    if (err) {
        log_txn(LOG_ERR, jc.txn, "cannot hash '%s': %s", jc.part_dir,
                strerror(-err));
        goto out;
    }
    jc.st.suffix_count += jc.local.n;
    if (job->handoff)
        handoff_job(&jc, nodes, n);
    else
        primary_job(&jc, nodes, n);
out:
    if (err)
        jc.st.failure++;
    suffix_hashes_release(&jc.local);
    free(nodes);
    *st = jc.st;
}

/* ---- a pass ---- */

static bool wanted(const char *const *v, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(v[i], s))
            return true;
    return n == 0;
}

static bool wanted_part(const struct obj_replicator_filter *f, uint32_t part)
{
    for (size_t i = 0; i < f->n_parts; i++)
        if (f->parts[i] == part)
            return true;
    return f->n_parts == 0;
}

/* A partition directory's name: a decimal number below 2^32, nothing
 * else (objects/ also holds lock and status files). */
static bool part_name(const char *s, uint32_t *part)
{
    uint64_t v = 0;

    if (!*s || strlen(s) > 10)
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    if (v > UINT32_MAX)
        return false;
    *part = (uint32_t)v;
    return true;
}

static int add_job(struct pass *p, size_t *cap, const struct job *job)
{
    if (p->n_jobs == *cap) {
        size_t ncap = *cap ? *cap * 2 : 256;
        struct job *v = realloc(p->jobs, ncap * sizeof(*v));

        if (!v)
            return -ENOMEM;
        p->jobs = v;
        *cap = ncap;
    }
    p->jobs[p->n_jobs++] = *job;
    return 0;
}

/* The jobs of one local device: its partition directories. */
static int collect_dev(struct pass *p, const struct ring_dev *dev,
                       const struct obj_replicator_filter *f, size_t *cap)
{
    const struct obj_replicator_conf *c = p->r->conf;
    char path[PATH_MAX];
    struct dirent *de;
    DIR *d;
    int err = devices_check(c->devices, dev->device, c->mount_check);

    if (err) {
        log_warning("skipping %s: %s", dev->device,
                    err == -ENODEV ? "not mounted" : strerror(-err));
        return 0;
    }
    snprintf(path, sizeof(path), "%s/%s/objects", c->devices, dev->device);
    d = opendir(path);
    if (!d)
        return errno == ENOENT ? 0 : -errno;
    while (!err && (de = readdir(d))) {
        struct job job = {.dev_id = dev->id};

        if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
            continue;
        if (!part_name(de->d_name, &job.part) || !wanted_part(f, job.part))
            continue;
        if (job.part >= ring_partition_count(p->ring)) {
            /* no primaries to confirm anything: never a handoff to drop */
            log_warning("skipping '%s/%s': partition out of the ring's range",
                        path, de->d_name);
            continue;
        }
        job.handoff = !obj_replicator_is_primary(p->ring, job.part, dev->id);
        err = add_job(p, cap, &job);
    }
    closedir(d);
    return err;
}

/* Swift shuffles a pass's jobs (load spreads over devices and peers);
 * handoffs_first then puts the handoff jobs in front. */
static void order_jobs(struct pass *p, bool handoffs_first)
{
    unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
    size_t i, front = 0;

    for (i = p->n_jobs; i > 1; i--) {
        size_t j = (size_t)rand_r(&seed) % i;
        struct job tmp = p->jobs[i - 1];

        p->jobs[i - 1] = p->jobs[j];
        p->jobs[j] = tmp;
    }
    if (!handoffs_first)
        return;
    for (i = 0; i < p->n_jobs; i++) {
        if (p->jobs[i].handoff) {
            struct job tmp = p->jobs[front];

            p->jobs[front++] = p->jobs[i];
            p->jobs[i] = tmp;
        }
    }
}

static int collect_jobs(struct pass *p, const struct obj_replicator_filter *f)
{
    int *ids = calloc(MAX_LOCAL_DEVS, sizeof(*ids));
    size_t n, cap = 0;
    int err = 0;

    if (!ids)
        return -ENOMEM;
    n = local_devs_find(p->ring, &p->r->ips, (int)p->r->conf->bind_port, ids,
                        MAX_LOCAL_DEVS);
    if (n == 0)
        log_warning("no local devices in the object ring for %s:%u",
                    p->r->conf->bind_ip, p->r->conf->bind_port);
    for (size_t i = 0; i < n && i < MAX_LOCAL_DEVS && !err; i++) {
        const struct ring_dev *dev = ring_get_dev(p->ring, (unsigned)ids[i]);

        if (dev && wanted(f->devs, f->n_devs, dev->device))
            err = collect_dev(p, dev, f, &cap);
    }
    free(ids);
    if (!err)
        order_jobs(p, p->r->conf->handoffs_first);
    return err;
}

static void *worker(void *arg)
{
    struct pass *p = arg;
    struct obj_replicator *r = p->r;

    for (;;) {
        struct repl_stats st;
        struct ring *cur;
        double t0;
        size_t i;

        if (atomic_load(&r->stopping) || atomic_load(&p->abort))
            break;
        i = atomic_fetch_add(&p->next, 1);
        if (i >= p->n_jobs)
            break;
        cur = live_ring_get(r->ring);
        if (cur != p->ring) {
            if (!atomic_exchange(&p->abort, true))
                log_notice("ring change detected: aborting the current "
                           "replication pass");
            ring_free(cur);
            break;
        }
        ring_free(cur);
        t0 = now_mono();
        run_job(p, &p->jobs[i], &st);
        pthread_mutex_lock(&p->lock);
        stats_add(&p->st, &st);
        p->times[p->done++] = now_mono() - t0;
        pthread_mutex_unlock(&p->lock);
    }
    pthread_mutex_lock(&p->lock);
    p->running--;
    pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

/* "3m", "2h": Swift's stats_line remaining time. */
static void fmt_remaining(char *buf, size_t cap, double secs)
{
    static const struct {
        double div;
        char unit;
    } units[] = {{60, 's'}, {60, 'm'}, {24, 'h'}};
    size_t i;

    for (i = 0; i < 3 && secs >= units[i].div; i++)
        secs /= units[i].div;
    snprintf(buf, cap, "%.0f%c", secs, i < 3 ? units[i].unit : 'd');
}

static double remaining(const struct pass *p, double elapsed)
{
    if (!p->done)
        return 0;
    return elapsed / (double)p->done * (double)(p->n_jobs - p->done);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* Swift's stats_line(), under p->lock. */
static void log_stats(struct pass *p)
{
    double elapsed = now_mono() - p->start_mono, rate;
    char left[32];

    rate = elapsed > 0 ? (double)p->done / elapsed : 0;
    fmt_remaining(left, sizeof(left), remaining(p, elapsed));
    log_info("%zu/%zu (%.2f%%) partitions replicated in %.2fs (%.2f/sec, %s "
             "remaining)",
             p->done, p->n_jobs,
             p->n_jobs ? 100.0 * (double)p->done / (double)p->n_jobs : 100.0,
             elapsed, rate, left);
    if (p->st.suffix_count)
        log_info("%" PRIu64 " suffixes checked - %.2f%% hashed, %.2f%% synced",
                 p->st.suffix_count,
                 100.0 * (double)p->st.suffix_hash / (double)p->st.suffix_count,
                 100.0 * (double)p->st.suffix_sync /
                     (double)p->st.suffix_count);
    if (p->done) {
        qsort(p->times, p->done, sizeof(*p->times), cmp_double);
        log_info("partition times: max %.4fs, min %.4fs, med %.4fs",
                 p->times[p->done - 1], p->times[0], p->times[p->done / 2]);
    }
}

/* replication_progress, under p->lock. */
static json_t *progress_json(const struct pass *p)
{
    double elapsed = now_mono() - p->start_mono;
    json_t *eta =
        p->done ? json_real(now_wall() + remaining(p, elapsed)) : json_null();

    return json_pack("{s:I, s:I, s:I, s:I, s:f, s:o}", "parts_done",
                     (json_int_t)p->done, "parts_total", (json_int_t)p->n_jobs,
                     "bytes", (json_int_t)p->st.bytes, "objects",
                     (json_int_t)p->st.objects, "started", p->started, "eta",
                     eta);
}

static void recon_write(struct pass *p, json_t *patch)
{
    int err;

    if (!patch) {
        log_err("cannot update '%s': %s", p->r->recon, strerror(ENOMEM));
        return;
    }
    err = recon_update(p->r->recon, patch);
    if (err)
        log_err("cannot update '%s': %s", p->r->recon, strerror(-err));
    json_decref(patch);
}

static void recon_progress(struct pass *p)
{
    json_t *prog = progress_json(p);

    recon_write(p,
                prog ? json_pack("{s:o}", "replication_progress", prog) : NULL);
}

static void recon_final(struct pass *p)
{
    const struct repl_stats *s = &p->st;
    double elapsed = now_mono() - p->start_mono;
    json_t *stats, *prog = progress_json(p);

    stats = json_pack(
        "{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
        "s:f}",
        "attempted", (json_int_t)s->attempted, "success",
        (json_int_t)s->success, "failure", (json_int_t)s->failure, "hashmatch",
        (json_int_t)s->hashmatch, "remove", (json_int_t)s->remove,
        "suffix_count", (json_int_t)s->suffix_count, "suffix_hash",
        (json_int_t)s->suffix_hash, "suffix_sync", (json_int_t)s->suffix_sync,
        "objects", (json_int_t)s->objects, "bytes", (json_int_t)s->bytes,
        "start", p->started);
    if (!stats || !prog) {
        json_decref(stats);
        json_decref(prog);
        recon_write(p, NULL);
        return;
    }
    recon_write(p, json_pack("{s:f, s:f, s:o, s:o}", "object_replication_time",
                             elapsed / 60.0, "object_replication_last",
                             now_wall(), "replication_stats", stats,
                             "replication_progress", prog));
}

/* Starts the workers, then logs and records progress until they are done. */
static int run_workers(struct pass *p, bool record)
{
    unsigned n = p->r->conf->concurrency, started = 0;
    double last_log = now_mono();
    pthread_t *tids = calloc(n, sizeof(*tids));
    struct timespec until;

    if (!tids)
        return -ENOMEM;
    pthread_mutex_lock(&p->lock);
    for (; started < n; started++) {
        if (pthread_create(&tids[started], NULL, worker, p))
            break;
        p->running++;
    }
    if (!started) {
        pthread_mutex_unlock(&p->lock);
        free(tids);
        return -EAGAIN;
    }
    while (p->running) {
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += PROGRESS_INTERVAL;
        pthread_cond_timedwait(&p->cond, &p->lock, &until);
        if (!p->running)
            break;
        if (record)
            recon_progress(p);
        if (now_mono() - last_log >= p->r->conf->stats_interval) {
            log_stats(p);
            last_log = now_mono();
        }
    }
    pthread_mutex_unlock(&p->lock);
    for (unsigned i = 0; i < started; i++)
        pthread_join(tids[i], NULL);
    free(tids);
    return 0;
}

int obj_replicator_run_once(struct obj_replicator *r,
                            const struct obj_replicator_filter *f)
{
    static const struct obj_replicator_filter all = {0};
    struct pass p = {.r = r};
    bool record;
    int err;

    f = f ? f : &all;
    record = !f->n_devs && !f->n_parts;
    p.ring = live_ring_get(r->ring);
    p.started = now_wall();
    p.start_mono = now_mono();
    p.reclaim_before =
        r->conf->reclaim_age ? (int64_t)p.started - r->conf->reclaim_age : 0;
    pthread_mutex_init(&p.lock, NULL);
    pthread_cond_init(&p.cond, NULL);
    log_info("starting object replication pass");
    err = collect_jobs(&p, f);
    if (!err) {
        p.times = calloc(p.n_jobs + 1, sizeof(*p.times));
        if (!p.times)
            err = -ENOMEM;
    }
    if (!err && record)
        recon_progress(&p);
    if (!err)
        err = run_workers(&p, record);
    if (err) {
        log_err("cannot run a replication pass: %s", strerror(-err));
    } else {
        log_stats(&p);
        if (p.done < p.n_jobs) {
            log_notice("pass ended early: %zu of %zu partitions", p.done,
                       p.n_jobs);
            /* no pass runs now: recon must not show one in progress */
            p.n_jobs = p.done;
        }
        if (record)
            recon_final(&p);
        log_info("object replication complete (%.2f minutes)",
                 (now_mono() - p.start_mono) / 60.0);
    }
    free(p.times);
    free(p.jobs);
    pthread_cond_destroy(&p.cond);
    pthread_mutex_destroy(&p.lock);
    ring_free(p.ring);
    return err;
}

int obj_replicator_run_forever(struct obj_replicator *r,
                               const struct obj_replicator_filter *f)
{
    while (!atomic_load(&r->stopping)) {
        double t0 = now_mono();

        obj_replicator_run_once(r, f);
        /* sleep out the interval in short steps, to stop promptly */
        while (!atomic_load(&r->stopping) &&
               now_mono() - t0 < r->conf->interval) {
            struct timespec ts = {.tv_sec = 0, .tv_nsec = 200000000};

            nanosleep(&ts, NULL);
        }
    }
    return 0;
}

void obj_replicator_stop(struct obj_replicator *r)
{
    atomic_store(&r->stopping, true);
}

int obj_replicator_new(const struct obj_replicator_conf *conf,
                       struct obj_replicator **out, char *err)
{
    struct obj_replicator *r;
    char path[PATH_MAX], rerr[RINGFILE_ERRLEN], herr[HASH_PATH_ERRLEN];
    struct http_client_conf hc = {
        .conn_timeout_ms = (unsigned)(conf->conn_timeout * 1000),
        .node_timeout_ms = (unsigned)(conf->node_timeout * 1000),
    };
    int rc;

    *out = NULL;
    r = calloc(1, sizeof(*r));
    if (!r) {
        snprintf(err, CONF_ERR_LEN, "out of memory");
        return -ENOMEM;
    }
    r->conf = conf;
    atomic_init(&r->stopping, false);
    snprintf(path, sizeof(path), "%s/swift.conf", conf->swift_dir);
    rc = hash_path_conf_load(&r->hc, path, herr);
    if (rc) {
        snprintf(err, CONF_ERR_LEN, "%.300s: %.150s", path,
                 rc == -EINVAL ? herr : strerror(-rc));
        goto fail;
    }
    snprintf(path, sizeof(path), "%s/object.ring.gz", conf->swift_dir);
    rc = live_ring_new(path, conf->ring_check_interval, &r->ring, rerr);
    if (rc) {
        snprintf(err, CONF_ERR_LEN, "cannot load '%.300s': %.150s", path,
                 rc == -EINVAL ? rerr : strerror(-rc));
        goto fail;
    }
    rc = recon_path(r->recon, sizeof(r->recon), conf->recon_cache_path,
                    "object");
    if (!rc)
        rc = local_ips_get(conf->bind_ip, &r->ips);
    if (!rc)
        rc = http_client_new(&hc, &r->client);
    if (!rc)
        rc = token_bucket_init(&r->bucket, conf->max_bytes_per_sec);
    if (rc) {
        snprintf(err, CONF_ERR_LEN, "cannot start: %s", strerror(-rc));
        goto fail;
    }
    *out = r;
    return 0;
fail:
    hash_path_conf_release(&r->hc);
    live_ring_free(r->ring);
    local_ips_release(&r->ips);
    http_client_free(r->client);
    free(r);
    return rc;
}

void obj_replicator_free(struct obj_replicator *r)
{
    if (!r)
        return;
    token_bucket_release(&r->bucket);
    http_client_free(r->client);
    local_ips_release(&r->ips);
    live_ring_free(r->ring);
    hash_path_conf_release(&r->hc);
    free(r);
}
