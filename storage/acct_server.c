/*
 * acct_server.c - the account server's requests: Swift 2.30's
 * account/server.py and account/utils.py, method by method, over
 * acctdb.h. Paths, devices, listing parameters and formats are
 * db_server.c's; rows, stats and their durability are acctdb.c's.
 *
 * Container rows (PUT /dev/part/account/container from container servers)
 * are written with KVDB_SYNC: an unsynced batch under the DB's lock, then
 * a kvdb_sync() outside it that concurrent updates share (group commit).
 * Every request is answered in on_end.
 */
#include "storage/acct_server.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/timestamp.h"
#include "storage/acctdb.h"
#include "storage/db_repl_server.h"
#include "storage/db_server.h"
#include "storage/policies.h"

struct acct_server {
    const struct acct_server_conf *conf;
    struct db_server *db;
    struct policies policies;   /* for the per-policy stats */
    struct recon_server *recon; /* answers /recon/, passes the rest on */
};

struct areq {
    struct acct_server *s;
    struct request *req;
    struct db_path path;
    struct acctdb db;
};

static const char *policy_name(const struct acct_server *s, uint32_t index)
{
    const struct policy *p = policies_get(&s->policies, index);

    return p ? p->name : NULL;
}

static int on_end(struct request *req, void *arg); /* the routes */

int acct_server_new(const struct acct_server_conf *conf,
                    const struct hash_path_conf *hc, struct acct_server **out)
{
    const struct recon_server_conf rconf = {
        .devices = conf->devices,
        .mount_check = conf->mount_check,
        .swift_dir = conf->swift_dir,
        .recon_cache_path = conf->recon_cache_path,
    };
    struct http_handler api;
    struct acct_server *s;
    int err;

    *out = NULL;
    s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    api = (struct http_handler){
        .on_headers = db_server_on_headers,
        .on_body = db_repl_server_on_body, /* REPLICATE's JSON */
        .on_end = on_end,
        .on_done = db_repl_server_on_done,
        .arg = s,
    };
    s->conf = conf;
    err = db_server_new(conf->devices, conf->mount_check, "accounts.ldb",
                        &conf->db, hc, &s->db);
    if (!err)
        err = policies_load(conf->swift_dir, &s->policies);
    if (!err)
        err = recon_server_new(&rconf, &api, &s->recon);
    if (err) {
        acct_server_free(s);
        return err;
    }
    *out = s;
    return 0;
}

void acct_server_free(struct acct_server *s)
{
    if (!s)
        return;
    recon_server_free(s->recon);
    db_server_free(s->db);
    policies_release(&s->policies);
    free(s);
}

static int open_db(struct areq *a)
{
    unsigned char hash[16];
    struct kvdb *kv;
    int err = db_server_open(a->s->db, a->req, &a->path, false, &kv, hash);

    if (!err)
        acctdb_init(&a->db, kv, a->path.part, hash);
    return err;
}

/* Reads the info: *exists false for a missing DB. Answers 500 itself. */
static int read_info(struct areq *a, struct acctdb_info *info, bool *exists)
{
    int err = acctdb_get_info(&a->db, info);

    *exists = err != -ENOENT;
    if (err == -ENOENT) {
        acctdb_info_release(info);
        return 0;
    }
    if (err)
        db_server_respond_err(a->req, err);
    return err;
}

/* Swift's _deleted_response(): X-Account-Status: Deleted when the
 * account exists and was deleted. */
static int deleted_response(struct areq *a, const struct acctdb_info *info,
                            bool exists, unsigned int status, const char *body)
{
    if (exists && info->status_deleted)
        req_add_header(a->req, "X-Account-Status", "Deleted");
    /* Swift passes charset='utf-8' here, lower case unlike swob's default */
    req_add_header(a->req, "Content-Type", "text/html; charset=utf-8");
    return db_server_respond(a->req, status, body ? body : ""); /* no page */
}

static bool is_deleted(const struct acctdb_info *info, bool exists)
{
    return !exists || acctdb_info_is_deleted(info);
}

static int meta_update(void *db, const struct db_meta *updates)
{
    return acctdb_update_metadata(db, updates, true);
}

static int meta_read(void *db, struct db_meta *out)
{
    struct acctdb_info info = {0};
    int err = acctdb_get_info(db, &info);

    *out = info.meta;
    info.meta = (struct db_meta){0};
    acctdb_info_release(&info);
    return err;
}

static int update_metadata(struct areq *a, const struct db_ts *ts)
{
    const struct db_meta_store store = {meta_update, meta_read, &a->db};

    return db_server_update_meta(a->req, "account", NULL, ts, &store);
}

static int header_ts(struct request *req, const char *name, struct db_ts *out)
{
    const char *v = req_header(req, name);
    struct timestamp t;

    if (!v || timestamp_parse(v, &t))
        return -EINVAL;
    *out = (struct db_ts){t.ticks, t.offset};
    return 0;
}

static int header_int(struct request *req, const char *name, int64_t *out)
{
    const char *v = req_header(req, name);
    char *end;

    *out = 0;
    if (!v)
        return -EINVAL;
    errno = 0;
    *out = strtoll(v, &end, 10);
    return errno || end == v || *end ? -EINVAL : 0;
}

/* A container row from a container server. */
static int put_container(struct areq *a)
{
    struct acctdb_container row = {0};
    struct acctdb_info info = {0};
    const char *od = req_header(a->req, "X-Account-Override-Deleted");
    const char *pol = req_header(a->req, "X-Backend-Storage-Policy-Index");
    struct timestamp now;
    struct db_ts ts;
    bool exists;
    int err;

    if (req_header(a->req, "X-Timestamp")) {
        if (db_server_timestamp(a->req, &ts))
            return 0;
    } else {
        timestamp_now(&now);
        ts = (struct db_ts){now.ticks, now.offset};
    }
    row.name = a->path.container;
    row.name_len = strlen(row.name);
    if (header_ts(a->req, "X-Put-Timestamp", &row.put_timestamp) ||
        header_ts(a->req, "X-Delete-Timestamp", &row.delete_timestamp) ||
        header_int(a->req, "X-Object-Count", &row.object_count) ||
        header_int(a->req, "X-Bytes-Used", &row.bytes_used))
        return db_server_respond(a->req, 400,
                                 "Missing or invalid container "
                                 "stats headers");
    row.storage_policy_index = pol ? (uint32_t)strtoul(pol, NULL, 10) : 0;
    if (open_db(a))
        return 0;
    const char *prefix = a->s->conf->auto_create_account_prefix;
    if (prefix && *prefix &&
        !strncmp(a->path.account, prefix, strlen(prefix))) {
        err = acctdb_create(&a->db, a->path.account, &ts);
        if (err && err != -EEXIST)
            return db_server_respond_err(a->req, err);
    }
    err = read_info(a, &info, &exists);
    if (err)
        goto out;
    if (!exists ||
        ((!od || strcasecmp(od, "yes")) && acctdb_info_is_deleted(&info))) {
        db_server_respond(a->req, 404, NULL);
        goto out;
    }
    err = acctdb_put_container(&a->db, &row, KVDB_SYNC);
    if (err) {
        db_server_respond_err(a->req, err);
        goto out;
    }
    db_server_respond(
        a->req,
        db_ts_cmp(&row.delete_timestamp, &row.put_timestamp) > 0 ? 204 : 201,
        NULL);
out:
    acctdb_info_release(&info);
    return 0;
}

static int do_put(void *ctx)
{
    struct areq *a = ctx;
    struct acctdb_info info = {0};
    bool created = false, exists;
    struct db_ts ts;
    int err;

    if (a->path.container)
        return put_container(a);
    if (db_server_timestamp(a->req, &ts) || open_db(a))
        return 0;
    err = acctdb_create(&a->db, a->path.account, &ts);
    if (!err) {
        created = true;
    } else if (err != -EEXIST) {
        return db_server_respond_err(a->req, err);
    } else {
        if (read_info(a, &info, &exists))
            goto out;
        if (info.status_deleted) {
            deleted_response(a, &info, exists, 403, "Recently deleted");
            goto out;
        }
        created = acctdb_info_is_deleted(&info);
        err = acctdb_update_put_timestamp(&a->db, &ts, NULL);
        acctdb_info_release(&info);
        if (!err)
            err = acctdb_get_info(&a->db, &info);
        if (err) {
            db_server_respond_err(a->req, err);
            goto out;
        }
        if (acctdb_info_is_deleted(&info)) {
            db_server_respond(a->req, 409, NULL);
            goto out;
        }
    }
    if (!update_metadata(a, &ts))
        db_server_respond(a->req, created ? 201 : 202, NULL);
out:
    acctdb_info_release(&info);
    return 0;
}

/* X-Account-Storage-Policy-<name>-<what> as swob's HeaderKeyDict has it:
 * Python's str.title() of the whole name. */
static int add_policy_stat(struct request *req, const char *policy,
                           const char *what, int64_t v)
{
    char name[256];
    bool up = true;

    snprintf(name, sizeof(name), "X-Account-Storage-Policy-%s-%s", policy,
             what);
    for (char *p = name; *p; p++) {
        bool alpha = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z');

        if (alpha)
            *p = up ? (char)toupper((unsigned char)*p)
                    : (char)tolower((unsigned char)*p);
        up = !alpha;
    }
    return db_server_add_int(req, name, v);
}

/* Swift's get_response_headers(): the stats, in total and per policy of
 * swift.conf, the timestamps and the metadata. */
static int add_info_headers(struct areq *a, const struct acctdb_info *info)
{
    struct request *req = a->req;
    int err = 0;

    err |= db_server_add_int(req, "X-Account-Container-Count",
                             info->container_count);
    err |= db_server_add_int(req, "X-Account-Object-Count", info->object_count);
    err |= db_server_add_int(req, "X-Account-Bytes-Used", info->bytes_used);
    err |= db_server_add_ts(req, "X-Timestamp", &info->created_at, false);
    err |=
        db_server_add_ts(req, "X-PUT-Timestamp", &info->put_timestamp, false);
    for (size_t i = 0; i < info->n_policies; i++) {
        const struct acctdb_policy_stats *ps = &info->policies[i];
        const char *name = policy_name(a->s, ps->index);

        if (!name)
            continue;
        err |= add_policy_stat(req, name, "Container-Count",
                               ps->container_count);
        err |= add_policy_stat(req, name, "Object-Count", ps->object_count);
        err |= add_policy_stat(req, name, "Bytes-Used", ps->bytes_used);
    }
    err |= db_server_add_meta(req, &info->meta);
    return err ? -ENOMEM : 0;
}

static int do_head(void *ctx)
{
    struct areq *a = ctx;
    struct acctdb_info info = {0};
    enum listing_fmt fmt;
    const char *ctype;
    char ct[64];
    bool exists;

    if (db_server_listing_format(a->req, &fmt, &ctype))
        return 0;
    if (open_db(a) || read_info(a, &info, &exists))
        goto out;
    if (is_deleted(&info, exists)) {
        deleted_response(a, &info, exists, 404, NULL);
        goto out;
    }
    add_info_headers(a, &info);
    snprintf(ct, sizeof(ct), "%s; charset=utf-8", ctype);
    req_add_header(a->req, "Content-Type", ct);
    db_server_respond(a->req, 204, NULL);
out:
    acctdb_info_release(&info);
    return 0;
}

static int do_get(void *ctx)
{
    struct areq *a = ctx;
    struct acctdb_info info = {0};
    struct listing l = {0};
    struct listing_params p;
    enum listing_fmt fmt;
    const char *ctype;
    char *body = NULL;
    size_t len = 0;
    bool exists;
    int err;

    if (db_server_listing_params(a->req, false, &p) ||
        db_server_listing_format(a->req, &fmt, &ctype))
        return 0;
    p.allow_reserved =
        db_server_header_true(a->req, "X-Backend-Allow-Reserved-Names");
    if (open_db(a) || read_info(a, &info, &exists))
        goto out;
    if (is_deleted(&info, exists)) {
        deleted_response(a, &info, exists, 404, NULL);
        goto out;
    }
    add_info_headers(a, &info);
    err = acctdb_list(&a->db, &p, &l);
    if (!err)
        err = listing_format_account(&l, fmt, a->path.account, &body, &len);
    if (err) {
        db_server_respond_err(a->req, err == -ENOENT ? -EIO : err);
        goto out;
    }
    db_server_respond_body(a->req, len ? 200 : 204, ctype, body, len);
out:
    free(body);
    listing_release(&l);
    acctdb_info_release(&info);
    return 0;
}

static int do_delete(void *ctx)
{
    struct areq *a = ctx;
    struct acctdb_info info = {0};
    struct db_ts ts;
    bool exists;
    int err;

    if (open_db(a) || db_server_timestamp(a->req, &ts) ||
        read_info(a, &info, &exists))
        goto out;
    if (is_deleted(&info, exists)) {
        deleted_response(a, &info, exists, 404, NULL);
        goto out;
    }
    err = acctdb_delete_db(&a->db, &ts);
    acctdb_info_release(&info);
    if (!err)
        err = acctdb_get_info(&a->db, &info);
    if (err) {
        db_server_respond_err(a->req, err);
        goto out;
    }
    deleted_response(a, &info, true, 204, NULL);
out:
    acctdb_info_release(&info);
    return 0;
}

static int do_post(void *ctx)
{
    struct areq *a = ctx;
    struct acctdb_info info = {0};
    struct db_ts ts;
    bool exists;

    if (db_server_timestamp(a->req, &ts) || open_db(a) ||
        read_info(a, &info, &exists))
        goto out;
    if (is_deleted(&info, exists)) {
        deleted_response(a, &info, exists, 404, NULL);
        goto out;
    }
    if (!update_metadata(a, &ts))
        db_server_respond(a->req, 204, NULL);
out:
    acctdb_info_release(&info);
    return 0;
}

/* REPLICATE /<dev>/<part>/<hash>: account replication (db_repl_server.h) */
static int do_replicate(void *ctx)
{
    struct areq *a = ctx;

    return db_repl_server_replicate(a->s->db, a->req, &a->path,
                                    &db_repl_account);
}

/* Methods and their paths, as Swift's get_account_name_and_placement()
 * and get_container_name_and_placement(). */
static const struct db_route routes[] = {
    {"PUT", do_put, 3, 4, false},   {"DELETE", do_delete, 3, 3, false},
    {"HEAD", do_head, 3, 3, false}, {"GET", do_get, 3, 3, false},
    {"POST", do_post, 3, 3, false}, {"REPLICATE", do_replicate, 3, 3, false},
};

static int on_end(struct request *req, void *arg)
{
    struct areq a = {.s = arg, .req = req};

    db_server_dispatch(req, routes, sizeof(routes) / sizeof(routes[0]),
                       &a.path, &a);
    return 0;
}

void acct_server_handler(struct acct_server *s, struct http_handler *out)
{
    recon_server_handler(s->recon, out);
}

struct db_server *acct_server_db(struct acct_server *s)
{
    return s->db;
}
