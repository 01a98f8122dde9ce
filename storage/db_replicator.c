/*
 * db_replicator.c - the replicator thread of a DB server
 * (db_replicator.h): passes over this server's devices, per DB Swift's
 * db_replicator._replicate_object and _repl_to_node over the exchange of
 * db_repl_rpc.h. The receiving side is db_repl_server.c on every peer.
 *
 * Invariants:
 * 1. A sync point only moves after the peer acknowledged (2xx, synced
 *    there before it answers) every row up to it: our outgoing point for
 *    a peer is set once merge_items of all rows since the old point and
 *    merge_syncs succeeded, and never past the max_row read before the
 *    rows were.
 * 2. A DB is removed here only when it is a reclaimable deleted DB (as
 *    Swift: deleted before now - reclaim_age, no objects, the account
 *    servers told) or a handoff
 *    copy that every primary took whole in this pass, and only when it
 *    did not change since it was read (destroy_unchanged()).
 * 3. Nothing is held across a request to a peer but the ring reference:
 *    the peer may be this very server (devices of one node replicate to
 *    each other over HTTP like any other).
 */
#include "storage/db_replicator.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/http.h"
#include "common/http_client.h"
#include "common/log.h"
#include "common/recon.h"
#include "ring/hash_path.h"
#include "storage/db_bg.h"
#include "storage/dbrepl.h"
#include "storage/local_devs.h"

#define MAX_LOCAL_DEVS 1024
#define MAX_NODES 64 /* primaries and the handoffs standing in for them */

struct stats {
    long attempted, success, failure, no_change, diff, rsync, remote_merge,
        diff_capped, remove;
    double start;
};

struct db_replicator {
    const struct db_replicator_conf *conf;
    struct db_replicator_env env;
    struct live_ring *ring;
    struct http_client *client;
    struct local_ips ips;
    struct stats stats;
    long dbs_this_pass; /* for databases_per_second */
    struct db_bg bg;
    /* the device being replicated */
    const struct ring *cur_ring;
    const struct ring_dev *cur_dev;
    struct kvdb *cur_kv;
};

static bool stopping(struct db_replicator *r)
{
    return db_bg_stopping(&r->bg);
}

/* ---- one request to a peer ---- */

struct peer {
    const struct ring_dev *dev;
    char *path; /* /<dev>/<part>/<hash>, quoted */
};

/* Sends REPLICATE with 'args' as its body. Returns the status, with the
 * body in *resp (NULL unless 'resp' and a JSON answer came), or -errno. */
static int call(struct db_replicator *r, const struct peer *p, json_t *args,
                json_t **resp)
{
    const char *ip =
        p->dev->replication_ip ? p->dev->replication_ip : p->dev->ip;
    int port =
        p->dev->replication_port ? p->dev->replication_port : p->dev->port;
    char agent[64], txn[TXN_ID_LEN + 1];
    const struct http_header hdrs[] = {
        {"Content-Type", "application/json"},
        {"User-Agent", agent},
        {"X-Trans-Id", txn},
    };
    struct http_client_call *c = NULL;
    char *body = json_dumps(args, JSON_COMPACT), *rbody = NULL;
    size_t rlen;
    int status;

    if (resp)
        *resp = NULL;
    if (!body)
        return -ENOMEM;
    snprintf(agent, sizeof(agent), "%s-replicator", r->env.type->name);
    txn_id_new(txn);
    struct http_client_req req = {
        .host = ip,
        .port = (unsigned int)port,
        .method = "REPLICATE",
        .path = p->path,
        .headers = hdrs,
        .n_headers = sizeof(hdrs) / sizeof(hdrs[0]),
        .body = body,
        .body_len = strlen(body),
    };
    status = http_client_request(r->client, &req, &c);
    if (status > 0) {
        int err = http_client_read_all(c, DB_REPL_MAX_BODY, &rbody, &rlen);

        if (err)
            status = err;
        else if (resp && status / 100 == 2)
            *resp = json_loadb(rbody, rlen, JSON_ALLOW_NUL, NULL);
    }
    http_client_end(c);
    free(rbody);
    free(body);
    return status;
}

static void log_peer_status(const struct peer *p, const char *op, int status)
{
    if (status < 0)
        log_warning("%s to %s:%d/%s: %s", op, p->dev->ip, p->dev->port,
                    p->dev->device, strerror(-status));
    else
        log_warning("%s to %s:%d/%s: status %d", op, p->dev->ip, p->dev->port,
                    p->dev->device, status);
}

/* ---- pushing one DB to one peer ---- */

enum repl_result { REPL_OK, REPL_FAILED, REPL_HANDOFF };

/* What a peer's answer to sync or complete must hold. */
struct remote_info {
    const char *id;
    int64_t point, max_row;
    json_t *meta;
};

static int parse_remote(json_t *j, struct remote_info *out)
{
    json_t *id = json_object_get(j, "id");
    json_t *point = json_object_get(j, "point");
    json_t *max_row = json_object_get(j, "max_row");

    out->id = json_string_value(id);
    out->meta = json_object_get(j, "metadata");
    if (!out->id || !json_string_length(id) ||
        json_string_length(id) >= DB_ID_LEN ||
        strlen(out->id) != json_string_length(id) || !json_is_integer(point) ||
        !json_is_integer(max_row))
        return -EINVAL;
    out->point = json_integer_value(point);
    out->max_row = json_integer_value(max_row);
    return 0;
}

/* Swift's _repl_to_node's start: sync, or complete when the peer has no
 * copy. Sets *rinfo (the peer's answer) and *whole (everything goes). */
static enum repl_result open_peer(struct db_replicator *r, const struct peer *p,
                                  const struct db_repl_info *info,
                                  json_t **rinfo, bool *whole)
{
    json_t *args = json_pack("[sO]", "sync", info->json);
    int status;

    *whole = false;
    if (!args)
        return REPL_FAILED;
    status = call(r, p, args, rinfo);
    json_decref(args);
    if (status == 404) {
        /* Swift's rsync of the whole DB: the info here, the rows next */
        args = json_pack("[sO]", "complete", info->json);
        if (!args)
            return REPL_FAILED;
        status = call(r, p, args, rinfo);
        json_decref(args);
        *whole = true;
        r->stats.rsync++;
    }
    if (status / 100 == 2 && *rinfo)
        return REPL_OK;
    log_peer_status(p, *whole ? "complete" : "sync", status);
    json_decref(*rinfo);
    *rinfo = NULL;
    /* down or unmounted: a handoff stands in, as Swift's DriveNotMounted */
    return status < 0 || status == 507 ? REPL_HANDOFF : REPL_FAILED;
}

/* Swift's _usync_db: rows since 'point' in merge_items of per_diff rows,
 * at most max_diffs of them unless 'whole', then our incoming sync points
 * (merge_syncs); then the peer's point moves (invariant 1). */
static enum repl_result push_rows(struct db_replicator *r, const struct peer *p,
                                  const struct db_repl_db *db,
                                  const struct db_repl_info *info,
                                  const char *remote_id, int64_t point,
                                  bool whole)
{
    const struct db_repl_type *t = r->env.type;
    unsigned int diffs = 0;
    json_t *args, *syncs;
    int status;

    for (;;) {
        json_t *rows = json_array();
        int64_t last;
        int err;

        if (!rows)
            return REPL_FAILED;
        err = t->rows_since(db, point, r->conf->per_diff, DB_REPL_MAX_BODY / 2,
                            rows, &last);
        if (err || !json_array_size(rows)) {
            json_decref(rows);
            if (err)
                return REPL_FAILED;
            break;
        }
        if (!whole && diffs >= r->conf->max_diffs) {
            json_decref(rows);
            log_info("%s sync with %s/%s fell more than %u rows behind; "
                     "it goes on next pass",
                     t->name, p->dev->ip, p->dev->device,
                     r->conf->max_diffs * r->conf->per_diff);
            r->stats.diff_capped++;
            return REPL_FAILED;
        }
        args = json_pack("[sos]", "merge_items", rows, info->id);
        if (!args)
            return REPL_FAILED;
        status = call(r, p, args, NULL);
        json_decref(args);
        if (status / 100 != 2) {
            log_peer_status(p, "merge_items", status);
            return REPL_FAILED;
        }
        point = last;
        diffs++;
        if (stopping(r))
            return REPL_FAILED;
    }
    syncs = db_repl_incoming_syncs(db);
    args = syncs ? json_pack("[so]", "merge_syncs", syncs) : NULL;
    if (!args)
        return REPL_FAILED;
    status = call(r, p, args, NULL);
    json_decref(args);
    if (status / 100 != 2) {
        log_peer_status(p, "merge_syncs", status);
        return REPL_FAILED;
    }
    if (point < info->max_row)
        point = info->max_row; /* every row up to it went (invariant 1) */
    return dbrepl_merge_sync(db->kv, db->prefix, remote_id, DBREPL_OUTGOING,
                             point)
               ? REPL_FAILED
               : REPL_OK;
}

/* Takes the peer's metadata, as Swift's sender does with the answer. */
static void take_remote_meta(struct db_replicator *r,
                             const struct db_repl_db *db, json_t *meta)
{
    struct db_meta m = {0};

    if (!meta || db_repl_meta_parse(meta, &m))
        return;
    if (m.n)
        r->env.type->update_metadata(db, &m);
    db_meta_release(&m);
}

static enum repl_result repl_to_node(struct db_replicator *r,
                                     const struct peer *p,
                                     const struct db_repl_db *db,
                                     const struct db_repl_info *info)
{
    struct remote_info ri;
    enum repl_result res;
    json_t *rinfo = NULL;
    int64_t local_sync, point;
    bool whole;

    res = open_peer(r, p, info, &rinfo, &whole);
    if (res != REPL_OK)
        return res;
    if (parse_remote(rinfo, &ri) ||
        dbrepl_get_sync(db->kv, db->prefix, ri.id, DBREPL_OUTGOING,
                        &local_sync)) {
        json_decref(rinfo);
        return REPL_FAILED;
    }
    take_remote_meta(r, db, ri.meta);
    point = ri.point > local_sync ? ri.point : local_sync;
    if (!whole) {
        if (point >= info->max_row) {
            r->stats.no_change++;
            json_decref(rinfo);
            return REPL_OK;
        }
        /* far behind (under half our rows, more than per_diff): Swift
         * copies the whole DB; here every row goes, max_diffs aside */
        if (ri.max_row * 2 < info->max_row &&
            info->max_row - ri.max_row > (int64_t)r->conf->per_diff) {
            r->stats.remote_merge++;
            whole = true;
        } else {
            r->stats.diff++;
        }
    }
    res = push_rows(r, p, db, info, ri.id, point, whole);
    json_decref(rinfo);
    return res;
}

/* ---- one DB ---- */

static bool same_dev(const struct ring_dev *a, const struct ring_dev *b)
{
    return a->id == b->id;
}

static bool in_nodes(const struct ring_dev *d, const struct ring_dev **nodes,
                     size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (same_dev(d, nodes[i]))
            return true;
    return false;
}

/* The next handoff that is neither us nor already asked. */
static const struct ring_dev *next_handoff(struct ring_handoff_iter *it,
                                           const struct ring_dev *local,
                                           const struct ring_dev **nodes,
                                           size_t n)
{
    const struct ring_dev *d;

    while (it && (d = ring_handoff_iter_next(it)))
        if (!same_dev(d, local) && !in_nodes(d, nodes, n))
            return d;
    return NULL;
}

static char *db_path(const struct ring_dev *dev, uint32_t part,
                     const unsigned char hash[16])
{
    char hex[33], *qdev = http_quote(dev->device), *path = NULL;

    hash_path_hex(hash, hex);
    if (qdev && asprintf(&path, "/%s/%" PRIu32 "/%s", qdev, part, hex) < 0)
        path = NULL;
    free(qdev);
    return path;
}

/* Swift's is_reclaimable() and report_up_to_date(): the account servers
 * know the container is gone before its last copy is. */
static bool reclaimable(const struct db_repl_info *info,
                        const struct db_ts *age)
{
    return info->count == 0 && info->reported &&
           db_ts_cmp(age, &info->delete_timestamp) > 0 &&
           db_ts_cmp(&info->delete_timestamp, &info->put_timestamp) > 0;
}

/* Removes the DB unless it changed since 'info' was read: a row, a POST
 * or a PUT that came meanwhile keeps it for the next pass. Returns 0 when
 * removed, -EAGAIN when it changed. NEEDSWORK: a write between the check
 * and dbrepl_destroy() is lost; the check would have to be made under
 * the DB's lock, inside dbrepl.c. */
static int destroy_unchanged(const struct db_repl_type *t,
                             const struct db_repl_db *db,
                             const struct db_repl_info *info)
{
    struct db_repl_info cur = {0};
    int err = t->read_info(db, &cur);

    if (!err && !json_equal(cur.json, info->json))
        err = -EAGAIN;
    db_repl_info_release(&cur);
    return err ? err : dbrepl_destroy(db->kv, db->prefix);
}

static void replicate_db(struct db_replicator *r, const struct ring *ring,
                         const struct ring_dev *local, struct kvdb *kv,
                         uint32_t part, const unsigned char hash[16])
{
    const struct db_repl_type *t = r->env.type;
    const struct ring_dev *nodes[MAX_NODES], *prim[MAX_NODES];
    struct ring_handoff_iter *it = NULL;
    struct db_repl_info info = {0};
    struct db_repl_db db;
    double t0 = db_bg_now();
    struct db_ts age = {0}; /* now - reclaim_age, in 10 us ticks */
    uint32_t bpart = ring_get_part(ring, hash);
    size_t np, n = 0, ok = 0, failed = 0, first = 0;
    bool here = false;
    char hex[33];
    int err;

    hash_path_hex(hash, hex);
    r->stats.attempted++;
    db_repl_db_init(&db, kv, part, hash);
    if (t0 > r->conf->reclaim_age)
        age.raw = (uint64_t)((t0 - r->conf->reclaim_age) * 1e5);
    /* a DB that cannot be reclaimed (a damaged row) is still replicated */
    err = t->reclaim(&db, &age, NULL);
    if (err)
        log_err("cannot reclaim %s DB %" PRIu32 "/%s on %s: %s", t->name, part,
                hex, local->device, strerror(-err));
    err = t->read_info(&db, &info);
    if (err) {
        log_err("cannot read %s DB %" PRIu32 "/%s on %s: %s", t->name, part,
                hex, local->device, strerror(-err));
        r->stats.failure++;
        return;
    }
    if (info.deleted && reclaimable(&info, &age)) {
        if (!destroy_unchanged(t, &db, &info))
            r->stats.remove++;
        db_repl_info_release(&info);
        return;
    }
    /* a DB in another partition than its ring's (a changed part power)
     * goes to its ring's partition and is removed here, as Swift */
    np = ring_get_part_nodes(ring, bpart, prim, MAX_NODES);
    for (size_t i = 0; i < np; i++)
        here = here || (bpart == part && same_dev(prim[i], local));
    if (here && !info.reported && r->env.stale)
        r->env.stale(
            r->env.stale_arg, local->device, part,
            json_string_value(json_object_get(info.json, "account")),
            json_string_value(json_object_get(info.json, "container")));
    /* each primary first contacts the next one (Swift's footnote [1]) */
    for (size_t i = 0; i < np; i++)
        if (same_dev(prim[i], local))
            first = i + 1;
    for (size_t k = 0; k < np; k++)
        if (!same_dev(prim[(first + k) % np], local))
            nodes[n++] = prim[(first + k) % np];
    for (size_t i = 0; i < n && !stopping(r); i++) {
        struct peer p = {nodes[i], db_path(nodes[i], bpart, hash)};
        enum repl_result res =
            p.path ? repl_to_node(r, &p, &db, &info) : REPL_FAILED;

        free(p.path);
        if (res == REPL_OK) {
            ok++;
            continue;
        }
        failed++;
        if (res == REPL_HANDOFF && n < MAX_NODES) {
            if (!it)
                ring_handoff_iter_new(ring, bpart, &it);
            nodes[n] = next_handoff(it, local, nodes, n);
            if (nodes[n])
                n++;
            else
                log_err("not enough handoff nodes to reach replica count "
                        "for partition %" PRIu32,
                        bpart);
        }
    }
    ring_handoff_iter_free(it);
    r->stats.success += (long)ok;
    r->stats.failure += (long)failed;
    /* a handoff copy goes once every primary took all of it (invariant 2) */
    if (!here && n && !failed && !stopping(r)) {
        err = destroy_unchanged(t, &db, &info);
        if (!err)
            r->stats.remove++;
        else if (err != -EAGAIN)
            log_err("cannot remove handoff %s DB %" PRIu32 "/%s on %s: %s",
                    t->name, part, hex, local->device, strerror(-err));
    }
    db_repl_info_release(&info);
}

/* ---- a pass ---- */

static int replicate_one(uint32_t part, const unsigned char hash[16], void *arg)
{
    struct db_replicator *r = arg;

    /* Swift's databases_per_second */
    if (db_bg_pace(&r->bg, r->stats.start, ++r->dbs_this_pass,
                   r->conf->databases_per_second))
        return 1;
    replicate_db(r, r->cur_ring, r->cur_dev, r->cur_kv, part, hash);
    return 0;
}

static void replicate_device(struct db_replicator *r, const struct ring *ring,
                             const struct ring_dev *dev, struct kvdb *kv)
{
    int err;

    r->cur_ring = ring;
    r->cur_dev = dev;
    r->cur_kv = kv;
    err = dbrepl_walk_device(kv, replicate_one, r);
    if (err < 0) {
        log_err("cannot list the DBs of %s: %s", dev->device, strerror(-err));
        r->stats.failure++;
    }
}

static void report(struct db_replicator *r)
{
    const struct stats *s = &r->stats;
    double end = db_bg_now();
    char path[4096];
    json_t *patch;

    log_info("replication pass: %ld dbs in %.2f s, %ld removed, %ld "
             "successes, %ld failures; no_change:%ld diff:%ld rsync:%ld "
             "remote_merge:%ld diff_capped:%ld",
             s->attempted, end - s->start, s->remove, s->success, s->failure,
             s->no_change, s->diff, s->rsync, s->remote_merge, s->diff_capped);
    if (recon_path(path, sizeof(path), r->conf->recon_cache_path,
                   r->env.type->name))
        return;
    patch = json_pack(
        "{s:{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:f},s:f,s:f}",
        "replication_stats", "attempted", (json_int_t)s->attempted, "success",
        (json_int_t)s->success, "failure", (json_int_t)s->failure, "no_change",
        (json_int_t)s->no_change, "diff", (json_int_t)s->diff, "rsync",
        (json_int_t)s->rsync, "remote_merge", (json_int_t)s->remote_merge,
        "diff_capped", (json_int_t)s->diff_capped, "remove",
        (json_int_t)s->remove,
        /* Swift reports ts_repl and never counts it: 0 for its tools */
        "ts_repl", (json_int_t)0, "start", s->start, "replication_time",
        end - s->start, "replication_last", end);
    if (!patch || recon_update(path, patch))
        log_err("cannot write '%s'", path);
    json_decref(patch);
}

static void run_pass(void *arg)
{
    struct db_replicator *r = arg;
    struct ring *ring = live_ring_get(r->ring);
    int *ids = calloc(MAX_LOCAL_DEVS, sizeof(*ids));
    size_t n = 0;

    memset(&r->stats, 0, sizeof(r->stats));
    r->stats.start = db_bg_now();
    r->dbs_this_pass = 0;
    if (ids)
        n = local_devs_find(ring, &r->ips, (int)r->env.bind_port, ids,
                            MAX_LOCAL_DEVS);
    if (!n)
        log_err("cannot find this server (%s port %u) in the %s ring, not "
                "replicating",
                r->env.bind_ip, r->env.bind_port, r->env.type->name);
    log_info("beginning %s replication pass", r->env.type->name);
    for (size_t i = 0; i < n && i < MAX_LOCAL_DEVS && !stopping(r); i++) {
        const struct ring_dev *dev = ring_get_dev(ring, (unsigned)ids[i]);
        struct kvdb *kv;
        int err = db_server_kvdb(r->env.db, dev->device, &kv);

        if (err) {
            log_warning("skipping device %s: %s", dev->device,
                        err == -ENODEV ? "not mounted" : strerror(-err));
            continue;
        }
        replicate_device(r, ring, dev, kv);
    }
    if (!stopping(r))
        report(r);
    free(ids);
    ring_free(ring);
}

int db_replicator_new(const struct db_replicator_conf *conf,
                      const struct db_replicator_env *env,
                      struct db_replicator **out)
{
    struct http_client_conf cc = {
        .conn_timeout_ms = (unsigned int)(conf->conn_timeout * 1000),
        .node_timeout_ms = (unsigned int)(conf->node_timeout * 1000),
    };
    struct db_replicator *r;
    char path[4096], err[RINGFILE_ERRLEN];
    int rc;

    *out = NULL;
    r = calloc(1, sizeof(*r));
    if (!r)
        return -ENOMEM;
    r->conf = conf;
    r->env = *env;
    snprintf(path, sizeof(path), "%s/%s.ring.gz", env->swift_dir,
             env->type->name);
    rc = live_ring_new(path, conf->ring_check_interval, &r->ring, err);
    if (rc) {
        log_err("%s replicator: %s: %s", env->type->name, path,
                rc == -EINVAL ? err : strerror(-rc));
        goto fail;
    }
    rc = local_ips_get(env->bind_ip, &r->ips);
    if (!rc)
        rc = http_client_new(&cc, &r->client);
    if (!rc)
        rc = db_bg_start(&r->bg, conf->interval, run_pass, r);
    if (rc)
        goto fail;
    *out = r;
    return 0;
fail:
    http_client_free(r->client);
    local_ips_release(&r->ips);
    live_ring_free(r->ring);
    free(r);
    return rc;
}

void db_replicator_free(struct db_replicator *r)
{
    if (!r)
        return;
    db_bg_stop(&r->bg);
    http_client_free(r->client);
    local_ips_release(&r->ips);
    live_ring_free(r->ring);
    free(r);
}
