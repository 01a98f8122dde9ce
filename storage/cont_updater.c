/*
 * cont_updater.c - see cont_updater.h.
 */
#include "storage/cont_updater.h"

#include "common/http.h"
#include "common/log.h"
#include "common/timestamp.h"
#include "ring/hash_path.h"
#include "ring/live_ring.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define MAX_ACCOUNT_REPLICAS 16

struct pending {
    struct pending *next;
    uint32_t part;
    char *dev, *account, *container;
};

struct cont_updater {
    struct db_server *db;
    struct http_client *client;
    struct live_ring *ring;
    double interval;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stop;
    struct pending *head; /* newest first; duplicates dropped on insert */
    size_t count;
};

int cont_account_put(struct http_client *client, const char *host,
                     const char *dev, const char *part, const char *account,
                     const char *container, const struct contdb_info *info,
                     const char *txn, bool override_deleted)
{
    char ip[256], ts_put[TIMESTAMP_INTERNAL_SIZE],
        ts_del[TIMESTAMP_INTERNAL_SIZE], count[32], bytes[32], policy[16],
        agent[64], *path = NULL, *qd, *qp, *qa, *qc;
    struct timestamp tp = {info->put_timestamp.raw, info->put_timestamp.offset};
    struct timestamp td = {info->delete_timestamp.raw,
                           info->delete_timestamp.offset};
    struct http_header hdrs[8];
    struct http_client_call *call = NULL;
    const char *colon = strrchr(host, ':');
    unsigned long port;
    size_t nh = 0;
    int status;

    if (!colon || colon == host || (size_t)(colon - host) >= sizeof(ip))
        return -EINVAL;
    port = strtoul(colon + 1, NULL, 10);
    if (!port || port > 65535)
        return -EINVAL;
    memcpy(ip, host, (size_t)(colon - host));
    ip[colon - host] = '\0';
    if (ip[0] == '[') { /* "[::1]:6202" */
        memmove(ip, ip + 1, strlen(ip));
        ip[strcspn(ip, "]")] = '\0';
    }
    qd = http_quote(dev);
    qp = http_quote(part);
    qa = http_quote(account);
    qc = http_quote(container);
    if (qd && qp && qa && qc &&
        asprintf(&path, "/%s/%s/%s/%s", qd, qp, qa, qc) < 0)
        path = NULL;
    free(qd);
    free(qp);
    free(qa);
    free(qc);
    if (!path)
        return -ENOMEM;
    snprintf(count, sizeof(count), "%" PRId64, info->object_count);
    snprintf(bytes, sizeof(bytes), "%" PRId64, info->bytes_used);
    snprintf(policy, sizeof(policy), "%" PRIu32, info->storage_policy_index);
    snprintf(agent, sizeof(agent), "container-server %d", (int)getpid());
    hdrs[nh++] = (struct http_header){"X-Put-Timestamp",
                                      timestamp_internal(&tp, ts_put)};
    hdrs[nh++] = (struct http_header){"X-Delete-Timestamp",
                                      timestamp_internal(&td, ts_del)};
    hdrs[nh++] = (struct http_header){"X-Object-Count", count};
    hdrs[nh++] = (struct http_header){"X-Bytes-Used", bytes};
    hdrs[nh++] = (struct http_header){"X-Trans-Id", txn && *txn ? txn : "-"};
    hdrs[nh++] = (struct http_header){"X-Backend-Storage-Policy-Index", policy};
    hdrs[nh++] = (struct http_header){"User-Agent", agent};
    if (override_deleted)
        hdrs[nh++] = (struct http_header){"X-Account-Override-Deleted", "yes"};

    struct http_client_req r = {
        .host = ip,
        .port = (unsigned int)port,
        .method = "PUT",
        .path = path,
        .headers = hdrs,
        .n_headers = nh,
    };
    status = http_client_request(client, &r, &call);
    if (call) {
        char *body = NULL;
        size_t len;

        http_client_read_all(call, 65536, &body, &len);
        free(body);
        http_client_end(call);
    }
    free(path);
    return status;
}

static void pending_free(struct pending *p)
{
    free(p->dev);
    free(p->account);
    free(p->container);
    free(p);
}

void cont_updater_note(struct cont_updater *u, const char *dev, uint32_t part,
                       const char *account, const char *container)
{
    struct pending *p;

    if (!u)
        return;
    pthread_mutex_lock(&u->lock);
    for (p = u->head; p; p = p->next)
        if (p->part == part && !strcmp(p->dev, dev) &&
            !strcmp(p->account, account) && !strcmp(p->container, container))
            break;
    if (!p && (p = calloc(1, sizeof(*p)))) {
        p->part = part;
        p->dev = strdup(dev);
        p->account = strdup(account);
        p->container = strdup(container);
        if (p->dev && p->account && p->container) {
            p->next = u->head;
            u->head = p;
            u->count++;
        } else {
            pending_free(p);
        }
    }
    pthread_mutex_unlock(&u->lock);
}

/* One container's row to each of its account's primaries. */
static void update_one(struct cont_updater *u, const struct pending *p)
{
    const struct hash_path_conf *hc = db_server_hash_conf(u->db);
    const struct ring_dev *nodes[MAX_ACCOUNT_REPLICAS];
    unsigned char hash[16];
    struct contdb_info info = {0};
    struct contdb db;
    struct kvdb *kv;
    struct ring *ring;
    char part[16], host[300], txn[TXN_ID_LEN + 1];
    size_t n, acked = 0;
    uint32_t apart;

    if (db_server_kvdb(u->db, p->dev, &kv) ||
        hash_path(hc, p->account, p->container, NULL, hash))
        return;
    contdb_init(&db, kv, p->part, hash);
    if (contdb_get_info(&db, &info)) {
        contdb_info_release(&info);
        return;
    }
    if (hash_path(hc, p->account, NULL, NULL, hash)) {
        contdb_info_release(&info);
        return;
    }
    txn_id_new(txn);
    ring = live_ring_get(u->ring);
    apart = ring_get_part(ring, hash);
    n = ring_get_part_nodes(ring, apart, nodes, MAX_ACCOUNT_REPLICAS);
    snprintf(part, sizeof(part), "%" PRIu32, apart);
    for (size_t i = 0; i < n; i++) {
        int st;

        snprintf(host, sizeof(host), strchr(nodes[i]->ip, ':') ? "[%s]:%d"
                                                               : "%s:%d",
                 nodes[i]->ip, nodes[i]->port);
        st = cont_account_put(u->client, host, nodes[i]->device, part,
                              p->account, p->container, &info, txn, false);
        if (st < 0 || st / 100 != 2)
            log_txn(LOG_WARNING, txn, "container updater: %s/%s to %s/%s: %s "
                    "%d", p->account, p->container, host, nodes[i]->device,
                    st < 0 ? strerror(-st) : "status", st < 0 ? 0 : st);
        else
            acked++;
    }
    /* Swift's reported(): what every account server took, so that the
     * replicator's sweep sends only what they lack (db_replicator.h) */
    if (n && acked == n)
        contdb_set_reported(&db, &info.put_timestamp, &info.delete_timestamp,
                            info.object_count, info.bytes_used);
    ring_free(ring);
    contdb_info_release(&info);
}

static void *run(void *arg)
{
    struct cont_updater *u = arg;

    pthread_mutex_lock(&u->lock);
    while (!u->stop) {
        struct pending *batch;
        struct timespec until;

        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += (time_t)u->interval;
        until.tv_nsec += (long)((u->interval - (double)(time_t)u->interval) *
                                1e9);
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&u->wake, &u->lock, &until);
        batch = u->head;
        u->head = NULL;
        u->count = 0;
        pthread_mutex_unlock(&u->lock);
        while (batch) {
            struct pending *next = batch->next;

            update_one(u, batch);
            pending_free(batch);
            batch = next;
        }
        pthread_mutex_lock(&u->lock);
    }
    pthread_mutex_unlock(&u->lock);
    return NULL;
}

int cont_updater_new(struct db_server *db, struct http_client *client,
                     const char *swift_dir, double interval,
                     struct cont_updater **out)
{
    struct cont_updater *u;
    char path[4096], err[RINGFILE_ERRLEN];
    int rc;

    *out = NULL;
    snprintf(path, sizeof(path), "%s/account.ring.gz", swift_dir);
    if (access(path, R_OK))
        return -ENOENT;
    u = calloc(1, sizeof(*u));
    if (!u)
        return -ENOMEM;
    u->db = db;
    u->client = client;
    u->interval = interval > 0 ? interval : 1;
    rc = live_ring_new(path, LIVE_RING_DEFAULT_RELOAD_TIME, &u->ring, err);
    if (rc) {
        log_err("container updater: %s: %s", path,
                rc == -EINVAL ? err : strerror(-rc));
        free(u);
        return rc;
    }
    pthread_mutex_init(&u->lock, NULL);
    pthread_cond_init(&u->wake, NULL);
    rc = -pthread_create(&u->thread, NULL, run, u);
    if (rc) {
        live_ring_free(u->ring);
        free(u);
        return rc;
    }
    *out = u;
    return 0;
}

void cont_updater_free(struct cont_updater *u)
{
    struct pending *p, *next;

    if (!u)
        return;
    pthread_mutex_lock(&u->lock);
    u->stop = true;
    pthread_cond_signal(&u->wake);
    pthread_mutex_unlock(&u->lock);
    pthread_join(u->thread, NULL);
    for (p = u->head; p; p = next) {
        next = p->next;
        pending_free(p);
    }
    live_ring_free(u->ring);
    pthread_cond_destroy(&u->wake);
    pthread_mutex_destroy(&u->lock);
    free(u);
}
