/*
 * cont_lifecycle.c - the container servers' S3 lifecycle pass
 * (cont_lifecycle.h): which DBs a node works on, the walk of their rows
 * under the rules' prefixes, and which objects are deleted and how (the
 * DELETE's timestamp, what is done with its outcome). When a rule makes
 * an object due is lifecycle_rules.c's; the DELETEs to the object
 * servers, their outcome and a multipart object's manifest and parts are
 * direct_delete.c's, shared with kura-expirer; what a DELETE does to an
 * object and to its listing row is the object server's (obj_server.c)
 * and the container server's.
 *
 * Invariants:
 * 1. Only the version a row lists is deleted: the DELETE's X-Timestamp is
 *    the row's created_at plus one offset, so no newer write loses to it
 *    (an object server holding one answers 409, and its .data outlives
 *    the tombstone everywhere else).
 * 2. Nothing is held across a request to an object server but ring
 *    references and one page of names: rows are read again from the DB
 *    (contdb_get_object()) just before their delete.
 * 3. A multipart upload's parts are deleted only after its manifest's
 *    DELETE settled with no newer version found, and only parts in the
 *    bucket's own segments container under its key, as DeleteObject
 *    does (proxy/s3_multipart.c; direct_delete.h says which manifests).
 */
#include "storage/cont_lifecycle.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/http_client.h"
#include "common/lifecycle_rules.h"
#include "common/log.h"
#include "common/recon.h"
#include "common/timestamp.h"
#include "ring/hash_path.h"
#include "storage/contdb.h"
#include "storage/db_bg.h"
#include "storage/dbrepl.h"
#include "storage/direct_delete.h"
#include "storage/local_devs.h"

#define LIFECYCLE_SYSMETA "X-Container-Sysmeta-S3api-Lifecycle"
#define MAX_LOCAL_DEVS 1024
#define MAX_POLICIES 64
#define PAGE_LIMIT 1000

struct cont_lifecycle {
    const struct cont_lifecycle_conf *conf;
    struct cont_lifecycle_env env;
    const struct hash_path_conf *hc;
    struct live_ring *cring;
    struct live_ring *orings[MAX_POLICIES]; /* loaded when first needed */
    struct local_ips ips;
    struct http_client *client;
    struct db_bg bg;
    /* this pass */
    double start;
    long long now;
    long rows, expired, raced, errors, containers;
    struct ring *ring;
    const struct ring_dev *dev;
    struct kvdb *kv;
};

/* ---- rings ---- */

static int load_ring(const struct cont_lifecycle *l, const char *name,
                     struct live_ring **out)
{
    char path[4096], err[RINGFILE_ERRLEN] = "";
    int rc;

    if ((size_t)snprintf(path, sizeof(path), "%s/%s.ring.gz", l->env.swift_dir,
                         name) >= sizeof(path))
        return -ENAMETOOLONG;
    rc = live_ring_new(path, l->conf->ring_check_interval, out, err);
    if (rc)
        log_err("container lifecycle: %s: %s", path,
                rc == -EINVAL && err[0] ? err : strerror(-rc));
    return rc;
}

/* The object ring of 'policy' (object.ring.gz, object-<n>.ring.gz), a
 * reference the caller frees with ring_free(), or NULL (logged once). */
static struct ring *object_ring(struct cont_lifecycle *l, uint32_t policy)
{
    char name[32];

    if (policy >= MAX_POLICIES)
        return NULL;
    if (!l->orings[policy]) {
        if (policy)
            snprintf(name, sizeof(name), "object-%" PRIu32, policy);
        else
            snprintf(name, sizeof(name), "object");
        if (load_ring(l, name, &l->orings[policy]))
            return NULL;
    }
    return live_ring_get(l->orings[policy]);
}

/* ---- one DB ---- */

/* The DB being worked on. */
struct cur {
    struct contdb db;
    const char *account, *container;
    uint32_t policy;
    struct direct_place cp; /* the container's partition and primaries */
    struct lifecycle_rules rules;
};

/* Whether the row's content type says it is a static large object: the
 * proxy appends swift_bytes to a manifest's (Swift's SLO does the same). */
static bool is_manifest(const char *ctype)
{
    return ctype && strstr(ctype, ";swift_bytes=");
}

/* Expires the object of row 'obj' (due): its manifest's parts too when it
 * is a multipart object. */
static void expire_row(struct cont_lifecycle *l, struct cur *c,
                       const struct contdb_object *obj)
{
    const struct direct_delete dd = {.client = l->client, .hc = l->hc};
    struct ring *oring = object_ring(l, c->policy);
    struct db_ts ts = obj->created_at;
    char sts[DB_TS_LEN], txn[TXN_ID_LEN + 1];
    char *name = strndup(obj->name, obj->name_len);
    struct direct_delete_target t = {
        .account = c->account,
        .container = c->container,
        .object = name,
        .policy = c->policy,
        .oring = oring,
        .cp = &c->cp,
        .txn = txn,
    };
    int status[DIRECT_DELETE_MAX_REPLICAS], got = -ENOENT;
    enum direct_delete_outcome out = DIRECT_DELETE_FAILED;
    bool manifest_row = is_manifest(obj->content_type);
    json_t *manifest = NULL;
    size_t n;

    txn_id_new(txn);
    /* invariant 1: just newer than the version listed */
    ts.offset++;
    db_ts_format(&ts, sts);
    if (oring && name) {
        if (manifest_row)
            got = direct_delete_get_manifest(&dd, &t, 0, &manifest);
        if (!direct_delete_object(&dd, &t, sts, NULL, 0, status, &n))
            out = direct_delete_outcome(status, n);
    }
    switch (out) {
    case DIRECT_DELETE_DONE:
        l->expired++;
        log_txn(LOG_INFO, txn, "lifecycle expired '/%s/%s/%s' (%s)", c->account,
                c->container, name ? name : "", sts);
        if (manifest) { /* invariant 3 */
            struct ring *cring = live_ring_get(l->cring);

            direct_delete_parts(&dd, &t, cring, manifest);
            ring_free(cring);
        } else if (manifest_row && got) {
            log_txn(LOG_WARNING, txn,
                    "no manifest of '/%s/%s/%s' read: its parts stay",
                    c->account, c->container, name ? name : "");
        }
        break;
    case DIRECT_DELETE_REFUSED:
        l->raced++;
        log_txn(LOG_INFO, txn,
                "lifecycle kept '/%s/%s/%s': a newer version exists",
                c->account, c->container, name ? name : "");
        break;
    case DIRECT_DELETE_FAILED:
        l->errors++;
        log_txn(LOG_WARNING, txn,
                "cannot expire '/%s/%s/%s', retried next pass", c->account,
                c->container, name ? name : "");
        break;
    }
    json_decref(manifest);
    ring_free(oring);
    free(name);
}

/* Reads row 'name' again (invariant 2) and expires it when it is due. */
static void check_row(struct cont_lifecycle *l, struct cur *c, const char *name,
                      size_t len)
{
    struct contdb_object obj;
    void *buf = NULL;
    long long due;
    char *key;
    int err = contdb_get_object(&c->db, name, len, &obj, &buf);

    if (err) {
        if (err != -ENOENT) {
            log_err("cannot read row '%.*s' of '/%s/%s': %s", (int)len, name,
                    c->account, c->container, strerror(-err));
            l->errors++;
        }
        free(buf);
        return;
    }
    key = strndup(name, len);
    due = key && !obj.deleted
              ? lifecycle_rules_due(
                    &c->rules, key,
                    (long long)(obj.created_at.raw / TIMESTAMP_TICKS_PER_SEC))
              : 0;
    if (due > 0 && due <= l->now)
        expire_row(l, c, &obj);
    free(key);
    free(buf);
}

/* The rows under one rule's prefix, a page of names at a time. */
static int scan_prefix(struct cont_lifecycle *l, struct cur *c,
                       const char *prefix)
{
    char *marker = strdup("");
    int err = marker ? 0 : -ENOMEM;

    while (!err && marker) {
        struct listing page = {0};
        struct listing_params p = {
            .prefix = prefix,
            .marker = marker,
            .limit = PAGE_LIMIT,
        };
        char *next = NULL;

        err = contdb_list(&c->db, &p, &page);
        for (size_t i = 0; !err && i < page.n; i++) {
            const struct listing_entry *e = &page.entries[i];

            if (db_bg_pace(&l->bg, l->start, ++l->rows,
                           l->conf->rows_per_second)) {
                err = 1;
                break;
            }
            check_row(l, c, listing_str(&page, e->name), e->name_len);
        }
        if (!err && page.n == PAGE_LIMIT) {
            const struct listing_entry *e = &page.entries[page.n - 1];

            next = strndup(listing_str(&page, e->name), e->name_len);
            if (!next)
                err = -ENOMEM;
        }
        listing_release(&page);
        free(marker);
        marker = next;
    }
    free(marker);
    return err;
}

/* The bucket's stored rules, or NULL (matched without regard to case:
 * the server keeps metadata names title-cased, "S3Api"). */
static const char *stored_rules(const struct contdb_info *info)
{
    for (size_t i = 0; i < info->meta.n; i++)
        if (!strcasecmp(info->meta.items[i].key, LIFECYCLE_SYSMETA))
            return info->meta.items[i].value;
    return NULL;
}

/* Whether this device is the first primary of the DB's partition, and
 * the partition's primaries into 'cp'. */
static bool is_first_primary(const struct cont_lifecycle *l,
                             const unsigned char hash[16],
                             struct direct_place *cp)
{
    cp->part = ring_get_part(l->ring, hash);
    cp->n = ring_get_part_nodes(l->ring, cp->part, cp->nodes,
                                DIRECT_DELETE_MAX_REPLICAS);
    return cp->n && cp->nodes[0]->id == l->dev->id;
}

/* Whether rule i can make a row due now: enabled, and Days, or a Date
 * that has come. A Date still to come makes nothing due yet under its
 * prefix; a row another rule makes due is found under that one's. */
static bool can_be_due(const struct lifecycle_rule *r, long long now)
{
    return r->enabled && (r->days > 0 || (r->date > 0 && r->date <= now));
}

/* Whether the rows under rule i's prefix are read: it can make a row due
 * and no other such rule's scan covers them already (a shorter prefix of
 * it, or the same prefix earlier), since a row's due time is reckoned
 * from every rule whichever scan finds it. */
static bool to_scan(const struct lifecycle_rules *rs, size_t i, long long now)
{
    const char *p = rs->v[i].prefix;

    if (!can_be_due(&rs->v[i], now))
        return false;
    for (size_t k = 0; k < rs->n; k++) {
        const char *q = rs->v[k].prefix;
        size_t qlen = strlen(q);

        if (k == i || !can_be_due(&rs->v[k], now) || strncmp(p, q, qlen))
            continue;
        if (qlen < strlen(p) || k < i)
            return false;
    }
    return true;
}

static int lifecycle_db(uint32_t part, const unsigned char hash[16], void *arg)
{
    struct cont_lifecycle *l = arg;
    struct contdb_info info = {0};
    struct cur c = {0};
    const char *stored;
    int err = 0;

    if (db_bg_stopping(&l->bg))
        return 1;
    if (!is_first_primary(l, hash, &c.cp))
        return 0; /* another replica's work (a handoff DB too) */
    contdb_init(&c.db, l->kv, part, hash);
    if (contdb_get_info(&c.db, &info) || contdb_info_is_deleted(&info) ||
        !(stored = stored_rules(&info)) || !*stored)
        goto out;
    if (lifecycle_rules_parse(stored, &c.rules)) {
        log_err("'/%s/%s': cannot read its lifecycle rules", info.account,
                info.container);
        l->errors++;
        goto out;
    }
    if (!lifecycle_rules_any_enabled(&c.rules))
        goto out;
    l->containers++;
    c.account = info.account;
    c.container = info.container;
    c.policy = info.storage_policy_index;
    for (size_t i = 0; !err && i < c.rules.n; i++)
        if (to_scan(&c.rules, i, l->now))
            err = scan_prefix(l, &c, c.rules.v[i].prefix);
    if (err < 0) {
        log_err("cannot list '/%s/%s': %s", c.account, c.container,
                strerror(-err));
        l->errors++;
    }
out:
    lifecycle_rules_release(&c.rules);
    contdb_info_release(&info);
    return err > 0 ? err : 0;
}

/* ---- the pass ---- */

static void report(struct cont_lifecycle *l)
{
    double end = db_bg_now();
    char path[4096];
    json_t *patch;

    log_info("container lifecycle pass completed: %.2f s, %ld containers, "
             "%ld rows, %ld expired, %ld kept (newer version), %ld errors",
             end - l->start, l->containers, l->rows, l->expired, l->raced,
             l->errors);
    if (recon_path(path, sizeof(path), l->conf->recon_cache_path, "container"))
        return;
    patch = json_pack(
        "{s:I,s:I,s:I,s:I,s:f,s:f}", "container_lifecycle_expired",
        (json_int_t)l->expired, "container_lifecycle_raced",
        (json_int_t)l->raced, "container_lifecycle_errors",
        (json_int_t)l->errors, "container_lifecycle_containers",
        (json_int_t)l->containers, "container_lifecycle_since", l->start,
        "container_lifecycle_pass_completed", end - l->start);
    if (!patch || recon_update(path, patch))
        log_err("cannot write '%s'", path);
    json_decref(patch);
}

static void run_pass(void *arg)
{
    struct cont_lifecycle *l = arg;
    int *ids = calloc(MAX_LOCAL_DEVS, sizeof(*ids));
    size_t n = 0;

    l->start = db_bg_now();
    l->now = (long long)l->start;
    l->rows = l->expired = l->raced = l->errors = l->containers = 0;
    l->ring = live_ring_get(l->cring);
    if (ids)
        n = local_devs_find(l->ring, &l->ips, (int)l->env.bind_port, ids,
                            MAX_LOCAL_DEVS);
    if (!n)
        log_err("cannot find this server (%s port %u) in the container "
                "ring, no lifecycle pass",
                l->env.bind_ip, l->env.bind_port);
    for (size_t i = 0; i < n && !db_bg_stopping(&l->bg); i++) {
        int err;

        l->dev = ring_get_dev(l->ring, (unsigned)ids[i]);
        err = l->dev ? db_server_kvdb(l->env.db, l->dev->device, &l->kv)
                     : -ENODEV;
        if (err && !l->dev)
            continue;
        if (err) {
            log_warning("lifecycle: skipping device %s: %s", l->dev->device,
                        err == -ENODEV ? "not mounted" : strerror(-err));
            continue;
        }
        err = dbrepl_walk_device(l->kv, lifecycle_db, l);
        if (err < 0) {
            log_err("cannot list the container DBs of %s: %s", l->dev->device,
                    strerror(-err));
            l->errors++;
        }
    }
    if (!db_bg_stopping(&l->bg))
        report(l);
    ring_free(l->ring);
    l->ring = NULL;
    free(ids);
}

int cont_lifecycle_new(const struct cont_lifecycle_conf *conf,
                       const struct cont_lifecycle_env *env,
                       struct cont_lifecycle **out)
{
    struct http_client_conf cc = {
        .conn_timeout_ms = (unsigned int)(conf->conn_timeout * 1000),
        .node_timeout_ms = (unsigned int)(conf->node_timeout * 1000),
    };
    struct cont_lifecycle *l;
    int rc;

    *out = NULL;
    l = calloc(1, sizeof(*l));
    if (!l)
        return -ENOMEM;
    l->conf = conf;
    l->env = *env;
    l->hc = db_server_hash_conf(env->db);
    rc = load_ring(l, "container", &l->cring);
    if (!rc)
        rc = local_ips_get(env->bind_ip, &l->ips);
    if (!rc)
        rc = http_client_new(&cc, &l->client);
    if (!rc)
        rc = db_bg_start(&l->bg, conf->interval, run_pass, l);
    if (rc) {
        http_client_free(l->client);
        local_ips_release(&l->ips);
        live_ring_free(l->cring);
        free(l);
        return rc;
    }
    *out = l;
    return 0;
}

void cont_lifecycle_free(struct cont_lifecycle *l)
{
    if (!l)
        return;
    db_bg_stop(&l->bg);
    http_client_free(l->client);
    local_ips_release(&l->ips);
    live_ring_free(l->cring);
    for (size_t i = 0; i < MAX_POLICIES; i++)
        live_ring_free(l->orings[i]);
    free(l);
}
