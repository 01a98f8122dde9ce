/*
 * updater.c - the object updater's pass (updater.h): the walk over the
 * async pendings, the threads that send them, the counts and recon. The
 * pending's format and the sending itself are storage/obj_update.c's, the
 * same code the object server sends with.
 *
 * Invariant: a pending is removed only after every container replica it
 * names answered 2xx to it, or when a newer pending for the same object
 * exists (the container keeps the newest row; the older update would be
 * ignored). Removals fsync the directory, so a crash cannot bring back a
 * pending that was superseded after its newer one was sent and removed.
 */
#include "replicator/updater.h"

#include "common/http_client.h"
#include "common/recon.h"
#include "replicator/bg_daemon.h"
#include "ring/live_ring.h"
#include "storage/devices.h"
#include "storage/obj_update.h"
#include "storage/ondisk.h"
#include "storage/suffix_hash.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Far above any pending the object server writes (a few hundred bytes):
 * a larger file is not one. */
#define MAX_PENDING_SIZE (64 * 1024)
#define MAX_CONCURRENCY 256
#define MAX_CONTAINER_REPLICAS 16
/* "[v6]:port," per replica, and device names */
#define NODES_LIST_MAX (MAX_CONTAINER_REPLICAS * 64)
#define DEVS_LIST_MAX (MAX_CONTAINER_REPLICAS * 256)

const struct conf_option updater_options[] = {
    LOG_CONF_OPTIONS(struct updater_conf, log, "object-updater"),
    CONF_STR("devices", struct updater_conf, devices, "/srv/node"),
    CONF_BOOL("mount_check", struct updater_conf, mount_check, true),
    CONF_STR("swift_dir", struct updater_conf, swift_dir, "/etc/swift"),
    CONF_DOUBLE("interval", struct updater_conf, interval, 300,
                BG_DAEMON_MIN_INTERVAL, 86400 * 7),
    CONF_UINT("concurrency", struct updater_conf, concurrency, 8, 1,
              MAX_CONCURRENCY),
    CONF_DOUBLE("slowdown", struct updater_conf, slowdown, 0.01, 0, 60),
    CONF_DOUBLE("conn_timeout", struct updater_conf, conn_timeout, 0.5, 0.001,
                3600),
    CONF_DOUBLE("node_timeout", struct updater_conf, node_timeout, 10, 0.001,
                3600),
    CONF_STR("recon_cache_path", struct updater_conf, recon_cache_path,
             RECON_DEFAULT_CACHE_PATH),
    CONF_END,
};

struct updater {
    const struct updater_conf *c;
    const struct hash_path_conf *hc;
    struct live_ring *ring; /* the container ring, NULL without one */
    struct http_client *client;
    /* Held for the walk (the senders take files from it in turn) and the
     * counts. */
    pthread_mutex_t lock;
    char dev_path[PATH_MAX]; /* <devices>/<dev> of the device walked */
    DIR *top;                /* its async_pending/ */
    char suffix_dir[PATH_MAX];
    char **names; /* the suffix directory's files, newest first */
    size_t n_names, next;
    char last_hash[33]; /* of the last file handed out in this suffix */
    struct updater_stats st;
};

/* The container ring in swift_dir, when there is one (a lone object
 * server in tests has none). A bad ring file is logged: the pendings'
 * own nodes are used then. */
static void open_ring(struct updater *u)
{
    char path[PATH_MAX], err[RINGFILE_ERRLEN] = "";
    int rc;

    if (snprintf(path, sizeof(path), "%s/container.ring.gz", u->c->swift_dir) >=
        (int)sizeof(path))
        return;
    rc = live_ring_new(path, LIVE_RING_DEFAULT_RELOAD_TIME, &u->ring, err);
    if (rc && rc != -ENOENT)
        log_err("cannot load container ring '%s': %s (sending to the "
                "replicas the pendings name)",
                path, err[0] ? err : strerror(-rc));
}

int updater_new(const struct updater_conf *c, const struct hash_path_conf *hc,
                struct updater **out)
{
    struct http_client_conf cc = {
        .conn_timeout_ms = (unsigned int)(c->conn_timeout * 1000),
        .node_timeout_ms = (unsigned int)(c->node_timeout * 1000),
    };
    struct updater *u = calloc(1, sizeof(*u));

    *out = NULL;
    if (!u)
        return -ENOMEM;
    u->c = c;
    u->hc = hc;
    pthread_mutex_init(&u->lock, NULL);
    open_ring(u);
    if (http_client_new(&cc, &u->client)) {
        updater_free(u);
        return -ENOMEM;
    }
    *out = u;
    return 0;
}

static void free_names(struct updater *u)
{
    for (size_t i = 0; i < u->n_names; i++)
        free(u->names[i]);
    free(u->names);
    u->names = NULL;
    u->n_names = u->next = 0;
}

void updater_free(struct updater *u)
{
    if (!u)
        return;
    free_names(u);
    http_client_free(u->client);
    live_ring_free(u->ring);
    pthread_mutex_destroy(&u->lock);
    free(u);
}

static int fsync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), err = 0;

    if (fd == -1)
        return -errno;
    if (fsync(fd) == -1)
        err = -errno;
    close(fd);
    return err;
}

/* Removes dir/name durably. 0 or -errno (-ENOENT: already gone). */
static int remove_file(const char *dir, const char *name)
{
    char path[PATH_MAX];
    int n = snprintf(path, sizeof(path), "%s/%s", dir, name);

    if (n < 0 || (size_t)n >= sizeof(path))
        return -ENAMETOOLONG;
    if (unlink(path) == -1)
        return -errno;
    return fsync_dir(dir);
}

/* Moves dir/name to <dev>/quarantined/objects/name, as Swift's updater
 * does with a pending it cannot read. Under the lock. */
static void quarantine(struct updater *u, const char *dir, const char *name,
                       const char *why)
{
    char path[PATH_MAX], qdir[PATH_MAX], target[PATH_MAX + 256];
    int err = 0;

    if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path) ||
        snprintf(qdir, sizeof(qdir), "%s/quarantined", u->dev_path) >=
            (int)sizeof(qdir) - 8)
        err = -ENAMETOOLONG;
    else if (mkdir(qdir, 0755) == -1 && errno != EEXIST)
        err = -errno;
    strncat(qdir, "/objects", sizeof(qdir) - strlen(qdir) - 1);
    if (!err && mkdir(qdir, 0755) == -1 && errno != EEXIST)
        err = -errno;
    if (!err && snprintf(target, sizeof(target), "%s/%s", qdir, name) >=
                    (int)sizeof(target))
        err = -ENAMETOOLONG;
    if (!err && rename(path, target) == -1)
        err = -errno;
    if (!err)
        err = fsync_dir(qdir);
    if (!err)
        err = fsync_dir(dir);
    if (err) {
        log_err("cannot quarantine async pending '%s': %s", path,
                strerror(-err));
        return;
    }
    u->st.quarantines++;
    log_err("async pending '%s' quarantined to '%s': %s", path, target, why);
}

/* "<32 hex>-<timestamp>" */
static bool valid_name(const char *name)
{
    for (int i = 0; i < 32; i++)
        if (!((name[i] >= '0' && name[i] <= '9') ||
              (name[i] >= 'a' && name[i] <= 'f')))
            return false;
    return name[32] == '-' && ondisk_timestamp_valid(name + 33);
}

static int newest_first(const void *a, const void *b)
{
    return strcmp(*(char *const *)b, *(char *const *)a);
}

/* Reads the next suffix directory of the device into u->names. Returns
 * false when there is none left. Under the lock. */
static bool load_next_suffix(struct updater *u)
{
    struct dirent *e, *f;
    size_t cap = 0;
    DIR *d;

    free_names(u);
    u->last_hash[0] = '\0';
    while (u->top && (e = readdir(u->top))) {
        if (!suffix_hash_valid_suffix(e->d_name))
            continue;
        if (snprintf(u->suffix_dir, sizeof(u->suffix_dir),
                     "%s/async_pending/%s", u->dev_path,
                     e->d_name) >= (int)sizeof(u->suffix_dir))
            continue;
        d = opendir(u->suffix_dir);
        if (!d)
            continue;
        while ((f = readdir(d))) {
            /* dot files are the object server's temp files (or . and ..) */
            if (f->d_name[0] == '.')
                continue;
            if (u->n_names == cap) {
                size_t ncap = cap ? cap * 2 : 64;
                char **v = realloc(u->names, ncap * sizeof(*v));

                if (!v)
                    break;
                u->names = v;
                cap = ncap;
            }
            if (!(u->names[u->n_names] = strdup(f->d_name)))
                break;
            u->n_names++;
        }
        closedir(d);
        if (!u->n_names)
            continue;
        qsort(u->names, u->n_names, sizeof(*u->names), newest_first);
        return true;
    }
    return false;
}

/* Hands out the next pending to send: its directory and name. Removes the
 * obsolete ones and quarantines strays on the way. Returns false at the
 * end of the device. */
static bool next_pending(struct updater *u, char *dir, char *name)
{
    bool found = false;

    pthread_mutex_lock(&u->lock);
    for (;;) {
        if (u->next == u->n_names && !load_next_suffix(u))
            break;
        const char *n = u->names[u->next++];

        if (strlen(n) >= NAME_MAX || !valid_name(n)) {
            quarantine(u, u->suffix_dir, n, "not an async pending's name");
            continue;
        }
        if (!strncmp(n, u->last_hash, 32)) {
            /* a newer update of the same object was handed out */
            int err = remove_file(u->suffix_dir, n);

            if (!err)
                u->st.unlinks++;
            else if (err != -ENOENT)
                log_err("cannot remove obsolete async pending '%s/%s': %s",
                        u->suffix_dir, n, strerror(-err));
            continue;
        }
        memcpy(u->last_hash, n, 32);
        u->last_hash[32] = '\0';
        strcpy(dir, u->suffix_dir);
        strcpy(name, n);
        found = true;
        break;
    }
    pthread_mutex_unlock(&u->lock);
    return found;
}

/* Reads dir/name whole into 'buf' (MAX_PENDING_SIZE). Returns the length,
 * -EFBIG when it is too large to be a pending, or -errno. */
static ssize_t read_pending(const char *dir, const char *name, char *buf)
{
    char path[PATH_MAX];
    size_t len = 0;
    ssize_t n;
    int fd;

    if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
        return -ENAMETOOLONG;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd == -1)
        return -errno;
    do {
        n = read(fd, buf + len, MAX_PENDING_SIZE - len);
        if (n > 0)
            len += (size_t)n;
    } while ((n > 0 && len < MAX_PENDING_SIZE) || (n == -1 && errno == EINTR));
    if (n == -1)
        n = -errno;
    else if (len == MAX_PENDING_SIZE)
        n = -EFBIG;
    else
        n = (ssize_t)len;
    close(fd);
    return n;
}

static void count(struct updater *u, uint64_t *counter)
{
    pthread_mutex_lock(&u->lock);
    (*counter)++;
    pthread_mutex_unlock(&u->lock);
}

/* Points the update at the container's primaries in the current ring, as
 * Swift's updater does: the replicas named when the object was written
 * may have moved since. 'hosts', 'devs' and 'part' hold the lists.
 * Returns 0, or -errno to keep the pending's own nodes. */
static int nodes_from_ring(struct updater *u, struct obj_update *upd,
                           char *hosts, char *devs, char *part)
{
    const struct ring_dev *nodes[MAX_CONTAINER_REPLICAS];
    unsigned char digest[16];
    struct ring *ring;
    size_t n, hl = 0, dl = 0;
    uint32_t p;
    int err = 0;

    if (!u->ring)
        return -ENOENT;
    if (hash_path(u->hc, upd->account, upd->container, NULL, digest))
        return -EINVAL;
    ring = live_ring_get(u->ring);
    p = ring_get_part(ring, digest);
    n = ring_get_part_nodes(ring, p, nodes, MAX_CONTAINER_REPLICAS);
    for (size_t i = 0; i < n && !err; i++) {
        const char *sep = i ? "," : "";
        int a = snprintf(hosts + hl, NODES_LIST_MAX - hl,
                         strchr(nodes[i]->ip, ':') ? "%s[%s]:%d" : "%s%s:%d",
                         sep, nodes[i]->ip, nodes[i]->port);
        int b = snprintf(devs + dl, DEVS_LIST_MAX - dl, "%s%s", sep,
                         nodes[i]->device);

        if (a < 0 || b < 0 || (size_t)a >= NODES_LIST_MAX - hl ||
            (size_t)b >= DEVS_LIST_MAX - dl)
            err = -ENAMETOOLONG;
        hl += (size_t)a;
        dl += (size_t)b;
    }
    ring_free(ring);
    if (err || !n)
        return err ? err : -ENOENT;
    snprintf(part, 11, "%" PRIu32, p);
    upd->hosts = hosts;
    upd->devs = devs;
    upd->part = part;
    return 0;
}

static void send_pending(struct updater *u, const char *dir, const char *name,
                         char *buf)
{
    struct obj_update upd = {0};
    char hosts[NODES_LIST_MAX], devs[DEVS_LIST_MAX], part[11];
    json_t *doc = NULL;
    ssize_t len = read_pending(dir, name, buf);
    int rc;

    if (len == -ENOENT)
        return; /* taken by another updater */
    if (len < 0 && len != -EFBIG) {
        log_err("cannot read async pending '%s/%s': %s", dir, name,
                strerror((int)-len));
        count(u, &u->st.failures);
        count(u, &u->st.left);
        return;
    }
    if (len < 0 || obj_update_parse_async(buf, (size_t)len, &upd, &doc)) {
        pthread_mutex_lock(&u->lock);
        quarantine(u, dir, name, "malformed");
        pthread_mutex_unlock(&u->lock);
        return;
    }
    nodes_from_ring(u, &upd, hosts, devs, part);
    rc = obj_update_replay(u->client, &upd, 0, 0,
                           json_string_value(json_object_get(
                               json_object_get(doc, "headers"), "X-Trans-Id")));
    if (rc == 0) {
        rc = remove_file(dir, name);
        if (rc && rc != -ENOENT)
            log_err("cannot remove async pending '%s/%s': %s", dir, name,
                    strerror(-rc));
        count(u, &u->st.successes);
    } else { /* a replica failed (or no memory): the next sweep retries */
        count(u, &u->st.failures);
        count(u, &u->st.left);
    }
    json_decref(doc);
}

static void *sender(void *arg)
{
    struct updater *u = arg;
    char dir[PATH_MAX], name[NAME_MAX + 1];
    char *buf = malloc(MAX_PENDING_SIZE);

    if (!buf) {
        log_err("updater: out of memory");
        return NULL;
    }
    while (next_pending(u, dir, name)) {
        send_pending(u, dir, name, buf);
        bg_daemon_sleep(u->c->slowdown);
    }
    free(buf);
    return NULL;
}

static void update_device(struct updater *u, const char *dev)
{
    pthread_t threads[MAX_CONCURRENCY];
    unsigned int i, n = 0;
    char top[PATH_MAX];
    int err = devices_check(u->c->devices, dev, u->c->mount_check);

    if (err) {
        log_warning("skipping device '%s/%s': %s", u->c->devices, dev,
                    err == -ENODEV && u->c->mount_check ? "not mounted"
                                                        : strerror(-err));
        return;
    }
    snprintf(u->dev_path, sizeof(u->dev_path), "%s/%s", u->c->devices, dev);
    if (snprintf(top, sizeof(top), "%s/async_pending", u->dev_path) >=
        (int)sizeof(top))
        return;
    u->top = opendir(top);
    if (!u->top) {
        if (errno != ENOENT)
            log_err("cannot list '%s': %s", top, strerror(errno));
        return;
    }
    for (i = 0; i < u->c->concurrency; i++)
        if (!pthread_create(&threads[n], NULL, sender, u))
            n++;
    if (!n) /* no thread to be had: send from this one */
        sender(u);
    for (i = 0; i < n; i++)
        pthread_join(threads[i], NULL);
    closedir(u->top);
    u->top = NULL;
    free_names(u);
}

static void dump_recon(struct updater *u, double sweep)
{
    char path[PATH_MAX] = "";
    json_t *patch = json_pack(
        "{s:I, s:f, s:f, s:{s:I, s:I, s:I, s:I}}", "async_pending",
        (json_int_t)u->st.left, "async_pending_last", (double)time(NULL),
        "object_updater_sweep", sweep, "object_updater_stats", "successes",
        (json_int_t)u->st.successes, "failures", (json_int_t)u->st.failures,
        "quarantines", (json_int_t)u->st.quarantines, "unlinks",
        (json_int_t)u->st.unlinks);
    int err;

    if (!patch)
        return;
    err = recon_path(path, sizeof(path), u->c->recon_cache_path, "object");
    if (!err)
        err = recon_update(path, patch);
    if (err)
        log_err("cannot write recon cache '%s': %s", path, strerror(-err));
    json_decref(patch);
}

void updater_pass(struct updater *u, struct updater_stats *st)
{
    struct dirent **names = NULL;
    double begin = bg_daemon_now(), sweep;
    int n;

    memset(&u->st, 0, sizeof(u->st));
    log_info("begin object update sweep");
    n = scandir(u->c->devices, &names, NULL, alphasort);
    if (n < 0)
        log_err("cannot list devices '%s': %s", u->c->devices, strerror(errno));
    for (int i = 0; i < n; i++) {
        if (names[i]->d_name[0] != '.')
            update_device(u, names[i]->d_name);
        free(names[i]);
    }
    free(names);
    sweep = bg_daemon_now() - begin;
    dump_recon(u, sweep);
    log_info("object update sweep completed: %.2fs, %" PRIu64
             " successes, %" PRIu64 " failures, %" PRIu64
             " quarantines, %" PRIu64 " unlinks",
             sweep, u->st.successes, u->st.failures, u->st.quarantines,
             u->st.unlinks);
    if (st)
        *st = u->st;
}
