/*
 * cont_server.c - the container server's requests: Swift 2.30's
 * container/server.py, method by method, over contdb.h. It owns the
 * mapping from requests to DB calls, the response headers and statuses,
 * and the account update after a container PUT or DELETE. Paths,
 * devices, listing parameters and formats are db_server.c's; rows, stats
 * and their durability are contdb.c's.
 *
 * Durability: every acknowledged change is synced before the answer.
 * Object rows are written with KVDB_SYNC, which contdb.c turns into an
 * unsynced batch under the DB's lock and a kvdb_sync() after it, so
 * concurrent object servers' updates share LevelDB's fsyncs (group
 * commit); info changes are synced by contdb.c itself.
 *
 * Every request is answered in on_end: none but REPLICATE has a body
 * worth reading (shard ranges in PUT bodies are not supported).
 */
#include "storage/cont_server.h"

#include "storage/cont_updater.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/http_client.h"
#include "common/timestamp.h"
#include "storage/contdb.h"
#include "storage/db_repl_server.h"
#include "storage/db_server.h"
#include "storage/policies.h"

struct cont_server {
    const struct cont_server_conf *conf;
    struct db_server *db;
    struct http_client *client;
    struct cont_updater *updater; /* NULL: no account ring, no updates */
    struct policies policies;     /* the ones a request may name */
    struct recon_server *recon;   /* answers /recon/, passes the rest on */
};

/* What a container request has once the path, device and DB are known. */
struct creq {
    struct cont_server *s;
    struct request *req;
    struct db_path path;
    struct contdb db;
};

/* Swift's save_headers: stored as metadata and sent back like it. */
static const char *const save_headers[] = {
    "x-container-read", "x-container-write", "x-container-sync-key",
    "x-container-sync-to", NULL};

static int on_end(struct request *req, void *arg); /* the routes */

int cont_server_new(const struct cont_server_conf *conf,
                    const struct hash_path_conf *hc, struct cont_server **out)
{
    struct http_client_conf cc = {
        .conn_timeout_ms = (unsigned int)(conf->conn_timeout * 1000),
        .node_timeout_ms = (unsigned int)(conf->node_timeout * 1000),
    };
    const struct recon_server_conf rconf = {
        .devices = conf->devices,
        .mount_check = conf->mount_check,
        .swift_dir = conf->swift_dir,
        .recon_cache_path = conf->recon_cache_path,
    };
    struct http_handler api;
    struct cont_server *s;
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
    err = db_server_new(conf->devices, conf->mount_check, "containers.ldb",
                        &conf->db, hc, &s->db);
    if (!err)
        err = http_client_new(&cc, &s->client);
    if (!err)
        err = policies_load(conf->swift_dir, &s->policies);
    if (!err && conf->account_update_interval > 0) {
        err = cont_updater_new(s->db, s->client, conf->swift_dir,
                               conf->account_update_interval, &s->updater);
        if (err == -ENOENT) {
            log_warning("no %s/account.ring.gz: object counts will not "
                        "reach the accounts", conf->swift_dir);
            err = 0;
        }
    }
    if (!err)
        err = recon_server_new(&rconf, &api, &s->recon);
    if (err) {
        cont_server_free(s);
        return err;
    }
    *out = s;
    return 0;
}

void cont_server_free(struct cont_server *s)
{
    if (!s)
        return;
    cont_updater_free(s->updater); /* it uses the client and the DBs */
    http_client_free(s->client);
    recon_server_free(s->recon);
    db_server_free(s->db);
    policies_release(&s->policies);
    free(s);
}

/* Finds the device's DB and the container's place in it. Answers 507 or
 * 500 itself on failure. */
static int open_db(struct creq *c)
{
    unsigned char hash[16];
    struct kvdb *kv;
    int err = db_server_open(c->s->db, c->req, &c->path, true, &kv, hash);

    if (!err)
        contdb_init(&c->db, kv, c->path.part, hash);
    return err;
}

/* A policy index header, or 'def' when absent. X-Backend-Storage-Policy-
 * Index must name a policy of swift.conf, as Swift's
 * get_and_validate_policy_index(). -EINVAL: answered 400. */
static int policy_index(struct creq *c, const char *name, uint32_t def,
                        uint32_t *out, bool *given)
{
    const char *v = req_header(c->req, name);
    bool validate = !strcasecmp(name, "X-Backend-Storage-Policy-Index");
    char *end, msg[160];
    unsigned long n;

    *out = def;
    if (given)
        *given = v != NULL;
    if (!v)
        return 0;
    errno = 0;
    n = strtoul(v, &end, 10);
    if (errno || end == v || *end || n > UINT32_MAX) {
        /* Swift's %r of the string it could not convert */
        snprintf(msg, sizeof(msg), "Invalid %s '%.64s'", name, v);
        db_server_respond_text(c->req, 400, msg);
        return -EINVAL;
    }
    if (validate && !policies_get(&c->s->policies, n)) {
        snprintf(msg, sizeof(msg), "Invalid %s %lu", name, n);
        db_server_respond_text(c->req, 400, msg);
        return -EINVAL;
    }
    *out = (uint32_t)n;
    return 0;
}

/* ---- account updates ---- */

/* Splits a comma-separated header into at most 'max' trimmed items in
 * 'buf'. Returns the count. */
static size_t split_csv(const char *v, char *buf, size_t bufsz, char **items,
                        size_t max)
{
    size_t n = 0;
    char *p, *save = NULL;

    if (!v || !*v)
        return 0;
    snprintf(buf, bufsz, "%s", v);
    for (p = strtok_r(buf, ",", &save); p && n < max;
         p = strtok_r(NULL, ",", &save)) {
        while (*p == ' ')
            p++;
        size_t len = strlen(p);
        while (len && p[len - 1] == ' ')
            p[--len] = '\0';
        items[n++] = p;
    }
    return n;
}

/* Sends the container's row to one account server. Returns the status or
 * -errno. */
static int send_update(struct creq *c, const char *host, const char *dev,
                       const char *part, const struct contdb_info *info)
{
    const char *od = req_header(c->req, "X-Account-Override-Deleted");

    return cont_account_put(c->s->client, host, dev, part, c->path.account,
                            c->path.container, info, req_txn(c->req),
                            od && !strcasecmp(od, "yes"));
}

/* Swift's account_update(): tells every account server named in the
 * request about the container. Returns 0, 404 when every one of them
 * answered 404 (the account does not exist), or 400 for a malformed
 * request (answered here). Failures are logged: the container updater
 * sends the row again later. */
static int account_update(struct creq *c)
{
    char hbuf[1024], dbuf[1024], *hosts[16], *devs[16];
    const char *part = req_header(c->req, "X-Account-Partition");
    struct contdb_info info = {0};
    size_t nh, nd, n404 = 0;
    int err;

    nh = split_csv(req_header(c->req, "X-Account-Host"), hbuf, sizeof(hbuf),
                   hosts, 16);
    nd = split_csv(req_header(c->req, "X-Account-Device"), dbuf, sizeof(dbuf),
                   devs, 16);
    if (nh != nd) {
        req_log(c->req, LOG_ERR,
                "account update failed: different numbers of hosts and "
                "devices in request: '%s' vs '%s'",
                req_header(c->req, "X-Account-Host"),
                req_header(c->req, "X-Account-Device"));
        db_server_respond(c->req, 400, NULL);
        return 400;
    }
    if (!part || !*part || !nh)
        return 0;
    err = contdb_get_info(&c->db, &info);
    if (err) {
        contdb_info_release(&info);
        return 0;
    }
    for (size_t i = 0; i < nh; i++) {
        int status = send_update(c, hosts[i], devs[i], part, &info);

        if (status == 404)
            n404++;
        else if (status < 0 || status / 100 != 2)
            req_log(c->req, LOG_ERR,
                    "account update failed with '%s/%s' (will retry later): "
                    "%s %d",
                    hosts[i], devs[i],
                    status < 0 ? strerror(-status) : "status",
                    status < 0 ? 0 : status);
    }
    contdb_info_release(&info);
    return n404 == nh ? 404 : 0;
}

/* ---- container requests ---- */

/* Swift's gen_resp_headers(). */
static int add_info_headers(struct request *req, const struct contdb_info *info,
                            bool deleted)
{
    int err = 0;

    err |=
        db_server_add_ts(req, "X-Backend-Timestamp", &info->created_at, true);
    err |= db_server_add_ts(req, "X-Backend-PUT-Timestamp",
                            &info->put_timestamp, true);
    err |= db_server_add_ts(req, "X-Backend-DELETE-Timestamp",
                            &info->delete_timestamp, true);
    err |= db_server_add_ts(req, "X-Backend-Status-Changed-At",
                            &info->status_changed_at, true);
    err |= db_server_add_int(req, "X-Backend-Storage-Policy-Index",
                             info->storage_policy_index);
    if (deleted)
        return err ? -ENOMEM : 0;
    err |=
        db_server_add_int(req, "X-Container-Object-Count", info->object_count);
    err |= db_server_add_int(req, "X-Container-Bytes-Used", info->bytes_used);
    err |= db_server_add_ts(req, "X-Timestamp", &info->created_at, false);
    err |=
        db_server_add_ts(req, "X-PUT-Timestamp", &info->put_timestamp, false);
    err |= req_add_header(req, "X-Backend-Sharding-State", "unsharded");
    err |= db_server_add_meta(req, &info->meta);
    return err ? -ENOMEM : 0;
}

static void add_last_modified(struct request *req, const struct db_ts *put)
{
    struct timestamp t = {put->raw, put->offset};
    char buf[TIMESTAMP_HTTP_SIZE];

    req_add_header(req, "Last-Modified", timestamp_http_date(&t, buf));
}

/* Reads the info; a missing DB reads as Swift's empty info, deleted. */
static int read_info(struct creq *c, struct contdb_info *info, bool *deleted)
{
    int err = contdb_get_info(&c->db, info);

    if (err == -ENOENT) {
        contdb_info_release(info);
        memset(info, 0, sizeof(*info));
        *deleted = true;
        return 0;
    }
    if (err) {
        db_server_respond_err(c->req, err);
        return err;
    }
    *deleted = contdb_info_is_deleted(info);
    return 0;
}

static bool should_autocreate(struct creq *c)
{
    const char *prefix = c->s->conf->auto_create_account_prefix;

    if (req_header(c->req, "X-Backend-Auto-Create"))
        return db_server_header_true(c->req, "X-Backend-Auto-Create");
    return prefix && *prefix &&
           !strncmp(c->path.account, prefix, strlen(prefix));
}

/* Swift's _maybe_autocreate(): -ENOENT (404) when the DB does not exist. */
static int maybe_autocreate(struct creq *c, const struct db_ts *ts,
                            uint32_t policy)
{
    struct contdb_info info = {0};
    int err = contdb_get_info(&c->db, &info);

    contdb_info_release(&info);
    if (err != -ENOENT || !should_autocreate(c))
        return err;
    err = contdb_create(&c->db, c->path.account, c->path.container, ts, policy);
    return err == -EEXIST ? 0 : err;
}

static int meta_update(void *db, const struct db_meta *updates)
{
    return contdb_update_metadata(db, updates, true);
}

static int meta_read(void *db, struct db_meta *out)
{
    struct contdb_info info = {0};
    int err = contdb_get_info(db, &info);

    *out = info.meta;
    info.meta = (struct db_meta){0};
    contdb_info_release(&info);
    return err;
}

/* Metadata from the request into the DB, Swift's _update_metadata().
 * Answers 400 itself. */
static int update_metadata(struct creq *c, const struct db_ts *ts)
{
    const struct db_meta_store store = {meta_update, meta_read, &c->db};

    return db_server_update_meta(c->req, "container", save_headers, ts,
                                 &store);
}

static int put_object(struct creq *c, const struct db_ts *ts, uint32_t policy)
{
    const char *size = req_header(c->req, "X-Size");
    const char *ctype = req_header(c->req, "X-Content-Type");
    const char *etag = req_header(c->req, "X-Etag");
    const char *ctts = req_header(c->req, "X-Content-Type-Timestamp");
    const char *mts = req_header(c->req, "X-Meta-Timestamp");
    struct contdb_object o = {0};
    struct timestamp t;
    char *end;
    int err;

    if (!size || !ctype || !etag) {
        return db_server_respond(c->req, 400,
                                 "Missing X-Size, X-Content-Type or X-Etag");
    }
    errno = 0;
    o.size = strtoll(size, &end, 10);
    if (errno || end == size || *end)
        return db_server_respond(c->req, 400, "Invalid X-Size");
    if (ctts && !timestamp_parse(ctts, &t))
        o.ctype_timestamp = (struct db_ts){t.ticks, t.offset};
    if (mts && !timestamp_parse(mts, &t))
        o.meta_timestamp = (struct db_ts){t.ticks, t.offset};
    o.name = c->path.obj;
    o.name_len = strlen(c->path.obj);
    o.created_at = *ts;
    o.content_type = ctype;
    o.etag = etag;
    o.storage_policy_index = policy;
    err = maybe_autocreate(c, ts, policy);
    if (!err)
        err = contdb_put_object(&c->db, &o, KVDB_SYNC);
    if (err)
        return db_server_respond_err(c->req, err);
    cont_updater_note(c->s->updater, c->path.dev, c->path.part,
                      c->path.account, c->path.container);
    return db_server_respond(c->req, 201, NULL);
}

/* Swift's _update_or_create(): sets *created. Answers 409 itself. */
static int update_or_create(struct creq *c, const struct db_ts *ts,
                            uint32_t policy, bool policy_given, bool *created)
{
    struct contdb_info info = {0};
    bool recreated, deleted;
    int err;

    *created = false;
    err = contdb_create(&c->db, c->path.account, c->path.container, ts, policy);
    if (!err) {
        *created = true;
        return 0;
    }
    if (err != -EEXIST)
        goto fail;
    err = contdb_get_info(&c->db, &info);
    if (err)
        goto fail;
    recreated = contdb_info_is_deleted(&info);
    if (!recreated && policy_given && policy != info.storage_policy_index) {
        db_server_add_int(c->req, "X-Backend-Storage-Policy-Index",
                          info.storage_policy_index);
        db_server_respond(c->req, 409, NULL);
        err = -EEXIST;
        goto out;
    }
    /* NEEDSWORK: Swift sets the policy of a recreated container to the
     * new one; contdb keeps the policy it was created with. */
    err = contdb_update_put_timestamp(&c->db, ts, NULL);
    if (err)
        goto fail;
    contdb_info_release(&info);
    err = contdb_get_info(&c->db, &info);
    if (err)
        goto fail;
    deleted = contdb_info_is_deleted(&info);
    if (deleted) {
        db_server_respond(c->req, 409, NULL);
        err = -EEXIST;
        goto out;
    }
    *created = recreated;
    goto out;
fail:
    db_server_respond_err(c->req, err);
out:
    contdb_info_release(&info);
    return err;
}

static int do_put(void *ctx)
{
    struct creq *c = ctx;
    struct contdb_info info = {0};
    uint32_t policy, def;
    struct db_ts ts;
    bool given, created;
    int err;

    if (db_server_timestamp(c->req, &ts))
        return 0;
    if (policy_index(c, "X-Backend-Storage-Policy-Index", 0, &policy, &given))
        return 0;
    if (open_db(c))
        return 0;
    if (c->path.obj)
        return put_object(c, &ts, policy);
    if (!given) {
        if (policy_index(c, "X-Backend-Storage-Policy-Default", 0, &def, NULL))
            return 0;
        policy = def;
    }
    if (update_or_create(c, &ts, policy, given, &created))
        return 0;
    if (update_metadata(c, &ts))
        return 0;
    err = account_update(c);
    if (err == 400)
        return 0;
    if (err == 404)
        return db_server_respond(c->req, 404, NULL);
    err = contdb_get_info(&c->db, &info);
    if (!err)
        db_server_add_int(c->req, "X-Backend-Storage-Policy-Index",
                          info.storage_policy_index);
    contdb_info_release(&info);
    return db_server_respond(c->req, created ? 201 : 202, NULL);
}

static int do_delete(void *ctx)
{
    struct creq *c = ctx;
    struct contdb_info info = {0};
    uint32_t policy;
    struct db_ts ts;
    bool existed;
    int err;

    if (db_server_timestamp(c->req, &ts))
        return 0;
    if (policy_index(c, "X-Backend-Storage-Policy-Index", 0, &policy, NULL))
        return 0;
    if (open_db(c))
        return 0;
    if (c->path.obj) {
        err = maybe_autocreate(c, &ts, policy);
        if (!err)
            err = contdb_delete_object(&c->db, c->path.obj, strlen(c->path.obj),
                                       &ts, policy, KVDB_SYNC);
        if (err)
            return db_server_respond_err(c->req, err);
        cont_updater_note(c->s->updater, c->path.dev, c->path.part,
                          c->path.account, c->path.container);
        return db_server_respond(c->req, 204, NULL);
    }
    err = contdb_get_info(&c->db, &info);
    if (err)
        goto fail;
    if (info.object_count > 0) {
        err = db_server_respond(c->req, 409, NULL);
        goto out;
    }
    existed = (info.put_timestamp.raw || info.put_timestamp.offset) &&
              !contdb_info_is_deleted(&info);
    err = contdb_delete_db(&c->db, &ts);
    contdb_info_release(&info);
    if (!err)
        err = contdb_get_info(&c->db, &info);
    if (err)
        goto fail;
    if (!contdb_info_is_deleted(&info)) { /* an object row came in between */
        err = db_server_respond(c->req, 409, NULL);
        goto out;
    }
    err = account_update(c);
    if (err == 400) {
        err = 0;
        goto out;
    }
    err = db_server_respond(c->req, existed && err != 404 ? 204 : 404, NULL);
    goto out;
fail:
    db_server_respond_err(c->req, err);
    err = 0;
out:
    contdb_info_release(&info);
    return err;
}

static int do_head(void *ctx)
{
    struct creq *c = ctx;
    struct contdb_info info = {0};
    enum listing_fmt fmt;
    const char *ctype;
    char ct[64];
    bool deleted;

    if (db_server_listing_format(c->req, &fmt, &ctype))
        return 0;
    if (open_db(c) || read_info(c, &info, &deleted))
        goto out;
    add_info_headers(c->req, &info, deleted);
    if (deleted) {
        db_server_respond(c->req, 404, NULL);
        goto out;
    }
    snprintf(ct, sizeof(ct), "%s; charset=utf-8", ctype);
    req_add_header(c->req, "Content-Type", ct);
    add_last_modified(c->req, &info.put_timestamp);
    db_server_respond(c->req, 204, NULL);
out:
    contdb_info_release(&info);
    return 0;
}

/* A listing body goes out from the memory it was written in (no copy)
 * and goes back to listing_format.c's pool once sent. Takes 'body'. */
static void respond_listing(struct request *req, const char *ctype,
                            struct listing_body *body)
{
    char ct[96];

    if (!body->len) {
        listing_body_free(body);
        db_server_respond_body(req, 204, ctype, "", 0);
        return;
    }
    snprintf(ct, sizeof(ct), "%s; charset=utf-8", ctype);
    req_add_header(req, "Content-Type", ct);
    req_respond_stream(req, 200, body->len, listing_body_read, body,
                       listing_body_free);
}

static int do_get(void *ctx)
{
    struct creq *c = ctx;
    struct contdb_info info = {0};
    struct listing l = {0};
    struct listing_writer w;
    struct listing_body *body = NULL;
    struct listing_params p;
    enum listing_fmt fmt;
    const char *ctype;
    bool deleted;
    int err;

    if (db_server_listing_params(c->req, true, &p) ||
        db_server_listing_format(c->req, &fmt, &ctype))
        return 0;
    p.allow_reserved = db_server_header_true(c->req, "X-Backend-Allow-Reserved-Names");
    if (open_db(c) || read_info(c, &info, &deleted))
        goto out;
    add_info_headers(c->req, &info, deleted);
    if (deleted) {
        db_server_respond(c->req, 404, NULL);
        goto out;
    }
    req_add_header(c->req, "X-Backend-Record-Type", "object");
    db_server_add_int(c->req, "X-Backend-Record-Storage-Policy-Index",
                      info.storage_policy_index);
    /* formatted while scanned: no entry is kept */
    listing_writer_init(&w, fmt, false, c->path.container, p.limit);
    listing_writer_attach(&w, &l);
    err = contdb_list(&c->db, &p, &l);
    if (!err)
        err = listing_writer_finish(&w, &body);
    listing_writer_release(&w);
    if (err) {
        db_server_respond_err(c->req, err == -ENOENT ? -EIO : err);
        goto out;
    }
    add_last_modified(c->req, &info.put_timestamp);
    respond_listing(c->req, ctype, body);
out:
    listing_release(&l);
    contdb_info_release(&info);
    return 0;
}

static int do_post(void *ctx)
{
    struct creq *c = ctx;
    struct contdb_info info = {0};
    struct db_ts ts;
    bool deleted;

    if (db_server_timestamp(c->req, &ts))
        return 0;
    if (open_db(c) || read_info(c, &info, &deleted))
        goto out;
    if (deleted) {
        db_server_respond(c->req, 404, NULL);
        goto out;
    }
    if (contdb_update_put_timestamp(&c->db, &ts, NULL)) {
        db_server_respond_err(c->req, -EIO);
        goto out;
    }
    if (!update_metadata(c, &ts))
        db_server_respond(c->req, 204, NULL);
out:
    contdb_info_release(&info);
    return 0;
}

/* REPLICATE /<dev>/<part>/<hash>: container replication
 * (db_repl_server.h) */
static int do_replicate(void *ctx)
{
    struct creq *c = ctx;

    return db_repl_server_replicate(c->s->db, c->req, &c->path,
                                    &db_repl_container);
}

/* Methods and their paths, as Swift's get_obj_name_and_placement() and
 * get_container_name_and_placement(). */
static const struct db_route routes[] = {
    {"PUT", do_put, 4, 5, true},    {"DELETE", do_delete, 4, 5, true},
    {"HEAD", do_head, 4, 5, true},  {"GET", do_get, 4, 5, true},
    {"POST", do_post, 4, 4, false}, {"REPLICATE", do_replicate, 3, 3, false},
};

static int on_end(struct request *req, void *arg)
{
    struct creq c = {.s = arg, .req = req};

    db_server_dispatch(req, routes, sizeof(routes) / sizeof(routes[0]),
                       &c.path, &c);
    return 0;
}

void cont_server_handler(struct cont_server *s, struct http_handler *out)
{
    recon_server_handler(s->recon, out);
}

struct db_server *cont_server_db(struct cont_server *s)
{
    return s->db;
}

void cont_server_note_stale(struct cont_server *s, const char *dev,
                            uint32_t part, const char *account,
                            const char *container)
{
    if (account && container)
        cont_updater_note(s->updater, dev, part, account, container);
}
