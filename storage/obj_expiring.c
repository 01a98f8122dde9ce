/*
 * obj_expiring.c - the names of the expirer queue, and the object
 * server's updates of it (Swift 2.30's delete_at_update).
 *
 * Owns the queue's naming (container, row) for both the object server and
 * kura-expirer, and which queue update a write sends. The wire form of an
 * update and its async pending are obj_update's, so a queue update that
 * fails is saved and replayed by kura-updater like any container update.
 *
 * Invariant: a write whose object gets a delete-at leaves a row for it in
 * the queue, or an async pending that makes one, before its 2xx (the
 * update is sent after the object is durable, and obj_update fsyncs the
 * pending). A stale row is harmless: the expirer's DELETE carries
 * X-If-Delete-At, which an object with another delete-at refuses (412).
 */
#include "storage/obj_expiring.h"

#include "common/conf.h"
#include "common/log.h"
#include "common/timestamp.h"
#include "ring/live_ring.h"
#include "storage/obj_update.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The empty string's MD5: the ETag of every row, as Swift sends. */
#define EMPTY_ETAG "d41d8cd98f00b204e9800998ecf8427e"

/* Swift's normalize_delete_at_timestamp(): clamped to 0..9999999999. */
static void normalize(int64_t at, char out[OBJ_EXPIRING_NAME_SIZE])
{
    if (at < 0)
        at = 0;
    if (at > OBJ_EXPIRING_MAX_AT)
        at = OBJ_EXPIRING_MAX_AT;
    snprintf(out, OBJ_EXPIRING_NAME_SIZE, "%010lld", (long long)at);
}

int obj_expiring_container(const struct hash_path_conf *hc, int64_t delete_at,
                           const char *account, const char *container,
                           const char *object, char out[OBJ_EXPIRING_NAME_SIZE])
{
    unsigned char digest[16];
    int64_t shard = 0;
    int err = hash_path(hc, account, container, object, digest);

    if (err)
        return err;
    /* int(hexdigest, 16) % 100, one byte at a time */
    for (size_t k = 0; k < sizeof(digest); k++)
        shard = (shard * 256 + digest[k]) % 100;
    normalize(delete_at / OBJ_EXPIRING_DIVISOR * OBJ_EXPIRING_DIVISOR - shard,
              out);
    return 0;
}

char *obj_expiring_task_name(int64_t delete_at, const char *account,
                             const char *container, const char *object)
{
    char at[OBJ_EXPIRING_NAME_SIZE];
    char *name;

    normalize(delete_at, at);
    if (asprintf(&name, "%s-%s/%s/%s", at, account, container, object) < 0)
        return NULL;
    return name;
}

int obj_expiring_task_parse(const char *name, struct obj_expiring_task *t)
{
    const char *dash = strchr(name, '-');
    struct timestamp ts;
    char at[64], *path, *slash;

    *t = (struct obj_expiring_task){0};
    if (!dash || (size_t)(dash - name) >= sizeof(at))
        return -EINVAL;
    memcpy(at, name, (size_t)(dash - name));
    at[dash - name] = '\0';
    if (timestamp_parse(at, &ts))
        return -EINVAL;
    path = strdup(dash + 1);
    if (!path)
        return -ENOMEM;
    /* split_path('/' + rest, 3, 3, True): three non-empty parts, the last
     * taking the rest */
    slash = strchr(path, '/');
    if (!slash || slash == path)
        goto bad;
    *slash = '\0';
    t->container = slash + 1;
    slash = strchr(slash + 1, '/');
    if (!slash || slash == t->container || !slash[1])
        goto bad;
    *slash = '\0';
    t->object = slash + 1;
    t->account = path;
    t->delete_at = (int64_t)(ts.ticks / TIMESTAMP_TICKS_PER_SEC);
    return 0;
bad:
    free(path);
    *t = (struct obj_expiring_task){0};
    return -EINVAL;
}

void obj_expiring_task_release(struct obj_expiring_task *t)
{
    free(t->account);
    *t = (struct obj_expiring_task){0};
}

int64_t obj_expiring_at(const char *v)
{
    char *end;
    long long at;

    if (!v || !*v)
        return 0;
    errno = 0;
    at = strtoll(v, &end, 10);
    if (errno || *end || at < 0)
        return 0;
    return at;
}

/* Config_true_value() of a request header, 'dflt' when absent. */
static bool header_bool(struct request *req, const char *name, bool dflt)
{
    const char *v = req_header(req, name);
    bool b;

    if (!v)
        return dflt;
    return !conf_parse_bool(v, &b) && b;
}

/* The queue container the proxy named (X-Delete-At-Container, which
 * Swift normalizes as a number), else our own guess, as Swift's for an
 * old proxy. */
static int named_container(struct request *req,
                           const struct obj_expiring_write *w, int64_t at,
                           char out[OBJ_EXPIRING_NAME_SIZE])
{
    const char *v = req_header(req, "X-Delete-At-Container");
    char *end;
    double d;

    if (v) {
        errno = 0;
        d = strtod(v, &end);
        if (!errno && end != v && !*end && isfinite(d)) {
            normalize(d > (double)OBJ_EXPIRING_MAX_AT ? OBJ_EXPIRING_MAX_AT
                                                      : (int64_t)d,
                      out);
            return 0;
        }
    }
    log_txn(LOG_WARNING, req_txn(req),
            "X-Delete-At-Container header must be specified for expiring "
            "objects background PUT to work properly, making best guess as "
            "to the container name for now");
    return obj_expiring_container(w->hash_conf, at, w->account, w->container,
                                  w->object, out);
}

/* The container ring of <swift_dir>, loaded at the first need (the
 * object server has no other use for it) and kept, re-read when the file
 * changes, for the life of the process. */
static pthread_mutex_t ring_lock = PTHREAD_MUTEX_INITIALIZER;
static struct live_ring *container_ring;

static struct ring *get_container_ring(const char *swift_dir, const char *txn)
{
    char path[4096], err[RINGFILE_ERRLEN] = "";
    struct ring *ring = NULL;
    int rc = 0;

    pthread_mutex_lock(&ring_lock);
    if (!container_ring) {
        snprintf(path, sizeof(path), "%s/container.ring.gz", swift_dir);
        rc = live_ring_new(path, LIVE_RING_DEFAULT_RELOAD_TIME, &container_ring,
                           err);
    }
    pthread_mutex_unlock(&ring_lock);
    if (rc)
        log_txn(LOG_ERR, txn, "cannot load '%s/container.ring.gz': %s",
                swift_dir, err[0] ? err : strerror(-rc));
    else
        ring = live_ring_get(container_ring);
    return ring;
}

/* The replicas of queue container 'cont' from the container ring, as
 * X-Container-Host/-Device/-Partition would name them. 0 or -errno. */
static int ring_replicas(const struct obj_expiring_write *w, const char *cont,
                         const char *txn, char *hosts, char *devs, size_t cap,
                         char part[16])
{
    const struct ring_dev *nodes[16];
    struct ring *ring = get_container_ring(w->swift_dir, txn);
    unsigned char digest[16];
    size_t n, hl = 0, dl = 0;
    int err;

    if (!ring)
        return -ENOENT;
    err = hash_path(w->hash_conf, OBJ_EXPIRING_ACCOUNT, cont, NULL, digest);
    if (!err) {
        uint32_t p = ring_get_part(ring, digest);

        snprintf(part, 16, "%u", p);
        n = ring_get_part_nodes(ring, p, nodes, 16);
        hosts[0] = devs[0] = '\0';
        for (size_t i = 0; i < n && hl < cap && dl < cap; i++) {
            hl += (size_t)snprintf(
                hosts + hl, cap - hl, "%s%s%s%s:%d", i ? "," : "",
                ring_dev_ip_is_v6(nodes[i]->ip) ? "[" : "", nodes[i]->ip,
                ring_dev_ip_is_v6(nodes[i]->ip) ? "]" : "", nodes[i]->port);
            dl += (size_t)snprintf(devs + dl, cap - dl, "%s%s", i ? "," : "",
                                   nodes[i]->device);
        }
        if (!n || hl >= cap || dl >= cap)
            err = -EINVAL;
    }
    ring_free(ring);
    return err;
}

/* One PUT or DELETE of the row for 'at' in queue container 'cont' to the
 * replicas 'hosts'/'devs'/'part' when given, else to those of the
 * container ring; obj_update saves it as an async pending when some
 * replica does not take it. */
static void send_update(struct request *req, const struct obj_expiring_write *w,
                        const char *op, int64_t at, const char *cont,
                        const char *hosts, const char *devs, const char *part)
{
    const char *txn = req_txn(req);
    struct obj_update u = {0};
    unsigned char digest[16];
    char hash[33], agent[32], rhosts[1024], rdevs[1024], rpart[16];
    char *task =
        obj_expiring_task_name(at, w->account, w->container, w->object);
    int err;

    if (!task) {
        err = -ENOMEM;
        goto out;
    }
    err = hash_path(w->hash_conf, OBJ_EXPIRING_ACCOUNT, cont, task, digest);
    if (err)
        goto out;
    hash_path_hex(digest, hash);
    snprintf(agent, sizeof(agent), "object-server %d", (int)getpid());
    u = (struct obj_update){
        .op = op,
        .devices = w->devices,
        .dev = w->dev,
        .hash = hash, /* the row's, so it never clashes with the object's */
        .account = OBJ_EXPIRING_ACCOUNT,
        .container = cont,
        .object = task,
        .timestamp = w->timestamp,
        .hosts = hosts,
        .devs = devs,
        .part = part,
    };
    /* the queue account is always in policy 0 */
    obj_update_set_header(&u, "X-Backend-Storage-Policy-Index", "0");
    obj_update_set_header(&u, "X-Timestamp", w->timestamp);
    obj_update_set_header(&u, "X-Trans-Id", *txn ? txn : "-");
    obj_update_set_header(&u, "User-Agent", agent);
    if (!strcmp(op, "PUT")) {
        obj_update_set_header(&u, "X-Size", "0");
        obj_update_set_header(&u, "X-Content-Type", "text/plain");
        obj_update_set_header(&u, "X-Etag", EMPTY_ETAG);
    }
    err = -EINVAL;
    if (hosts && devs && part && *part)
        err = obj_update_send(w->client, &u, w->conn_ms, w->node_ms, txn);
    if (err == -EINVAL) {
        /* none named, or names that do not pair up: the ring's replicas
         * (an async pending must name them for kura-updater) */
        err = ring_replicas(w, cont, txn, rhosts, rdevs, sizeof(rhosts), rpart);
        u.hosts = rhosts;
        u.devs = rdevs;
        u.part = rpart;
        if (!err)
            err = obj_update_send(w->client, &u, w->conn_ms, w->node_ms, txn);
    }
out:
    if (err < 0)
        log_txn(LOG_ERR, txn, "expirer queue %s of '%s' failed: %s", op,
                task ? task : "?", strerror(-err));
    free(task);
}

void obj_expiring_update(struct request *req,
                         const struct obj_expiring_write *w, int64_t orig_at,
                         int64_t new_at)
{
    const char *hosts = req_header(req, "X-Delete-At-Host");
    char cont[OBJ_EXPIRING_NAME_SIZE];

    if (orig_at == new_at || header_bool(req, "X-Backend-Replication", false))
        return;
    /* without X-Delete-At-Host this replica is not one of those the proxy
     * chose to queue the object: the others do */
    if (new_at && hosts && !named_container(req, w, new_at, cont))
        send_update(req, w, "PUT", new_at, cont, hosts,
                    req_header(req, "X-Delete-At-Device"),
                    req_header(req, "X-Delete-At-Partition"));
    if (!orig_at ||
        !header_bool(req, "X-Backend-Clean-Expiring-Object-Queue", true))
        return;
    /* The old row's replicas are not named in the request: the container
     * ring's (Swift saves this DELETE as an async pending at once, for its
     * updater to look them up). */
    if (!obj_expiring_container(w->hash_conf, orig_at, w->account, w->container,
                                w->object, cont))
        send_update(req, w, "DELETE", orig_at, cont, NULL, NULL, NULL);
}
