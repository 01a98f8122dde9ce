/*
 * db_server.h - what the container and account servers (cont_server.h,
 * acct_server.h) both do around their DBs: split and check the request
 * path, find the device's LevelDB (opened once, kept open), read listing
 * parameters and the output format as Swift's servers do, gather metadata
 * headers and send them back, answer with X-Trans-Id.
 *
 * Thread safety: a struct db_server is shared by all request threads;
 * db_server_kvdb() takes a mutex only to open a device's DB the first
 * time. Everything else works on one request.
 */
#ifndef STORAGE_DB_SERVER_H
#define STORAGE_DB_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "common/http_server.h"
#include "ring/hash_path.h"
#include "storage/dbenc.h"
#include "storage/dbmeta.h"
#include "storage/kvdb.h"
#include "storage/listing.h"
#include "storage/listing_format.h"

struct db_server; /* opaque */

/* 'devices' (copied) holds the device directories; 'db_name' is the
 * LevelDB directory inside a device ("containers.ldb"); 'db_opts' (copied,
 * NULL for kvdb's defaults) are the DBs' options, their block cache of
 * db_opts->cache_bytes shared by all devices; 'hc' is borrowed and must
 * outlive the server. Returns 0 or -ENOMEM; free with db_server_free(),
 * which closes the DBs. */
int db_server_new(const char *devices, bool mount_check, const char *db_name,
                  const struct kvdb_opts *db_opts,
                  const struct hash_path_conf *hc, struct db_server **out);
void db_server_free(struct db_server *s); /* NULL is fine */

const struct hash_path_conf *db_server_hash_conf(const struct db_server *s);

/* The DB of device 'dev': -ENODEV when the device is missing or
 * unmounted (507), -EIO when LevelDB cannot open it. */
int db_server_kvdb(struct db_server *s, const char *dev, struct kvdb **out);

/* Calls fn(dev, path, kv) for each device directory ('path') under 'devices'
 * that passes the mount check and holds this server's LevelDB already (none is
 * created: a background pass must not make DBs on a disk that has none),
 * stopping when fn returns non-zero (which is returned). A device whose DB
 * cannot be opened is logged and skipped. Returns 0, fn's value or opendir()'s
 * -errno. */
int db_server_foreach_kvdb(struct db_server *s,
                           int (*fn)(const char *dev, const char *path,
                                     struct kvdb *kv, void *arg),
                           void *arg);

/* A request path split as Swift's split_path(req, min, max,
 * rest_with_last): with it, the last segment keeps its slashes (object
 * names). Pointers into 'buf'. */
struct db_path {
    char *buf;
    const char *dev, *account, *container, *obj; /* NULL when absent */
    uint32_t part;
};
void db_path_release(struct db_path *p);

/* Splits req_path() into 'min_segs' to 'max_segs' segments. Returns 0, or
 * -EINVAL after answering 400 with Swift's message ("Invalid path: ..."),
 * or -ENOMEM. */
int db_path_parse(struct request *req, int min_segs, int max_segs,
                  bool rest_with_last, struct db_path *out);

/* Swift's check_utf8(path, internal=True): valid UTF-8, no NUL unless the
 * segment starts with it. */
bool db_server_path_ok(const char *path);

/* A method a server serves and the paths it takes, as Swift's
 * split_path(path, min_segs, max_segs, rest_with_last). */
struct db_route {
    const char *method;
    int (*fn)(void *ctx);
    int min_segs, max_segs;
    bool rest_with_last;
};

/* A request's way to its route, as Swift's __call__ and the method's
 * path split: 412 for a path that is not UTF-8, 405 for a method not in
 * 'routes', 400 for a bad path (db_path_parse()); else the route's
 * fn(ctx) with the path in *path (inside 'ctx'; released after), and a
 * status from the -errno fn returns unless it answered. Always answers. */
void db_server_dispatch(struct request *req, const struct db_route *routes,
                        size_t n_routes, struct db_path *path, void *ctx);

/* The servers' on_headers: every request is answered in on_end (none but
 * REPLICATE has a body worth reading: db_repl_server.h). */
int db_server_on_headers(struct request *req, void *arg);

/* The device's DB and the hash of the path's account, with its container
 * when 'container': 0, or -errno after answering 507 or 500. */
int db_server_open(struct db_server *s, struct request *req,
                   const struct db_path *p, bool container, struct kvdb **kv,
                   unsigned char hash[16]);

/* X-Timestamp as valid_timestamp(): -EINVAL after answering 400
 * ("Missing X-Timestamp header" / "Invalid X-Timestamp header") when
 * absent or malformed. */
int db_server_timestamp(struct request *req, struct db_ts *out);

/* Listing parameters and format as Swift: a parameter that is not UTF-8
 * is 400 ('"x" parameter not valid UTF-8'), a limit over LISTING_LIMIT
 * 412 ("Maximum limit is 10000"), a bad delimiter 412 ("Bad
 * delimiter"), a bad Accept 400, no acceptable type 406. Returns 0, or
 * -EINVAL after answering. 'p' points into the request's parameters.
 * *ctype is the response's Content-Type without the charset. */
int db_server_listing_params(struct request *req, bool with_path,
                             struct listing_params *p);
int db_server_listing_format(struct request *req, enum listing_fmt *fmt,
                             const char **ctype);

/* The request's metadata headers as Swift's _update_metadata() takes
 * them: X-<type>-Meta-* and X-<type>-Sysmeta-* (names title-cased as WSGI
 * presents them), plus the 'extra' header names (lower case, NULL-
 * terminated) such as x-container-read, each at timestamp 'ts'. Returns 0,
 * -EINVAL after answering 400 (not UTF-8), -ENOMEM. Lengths are checked
 * on the merged map by contdb/acctdb_update_metadata(), as Swift's
 * backends do; per-header limits are the proxy's. */
int db_server_request_meta(struct request *req, const char *type,
                           const char *const *extra, const struct db_ts *ts,
                           struct db_meta *out);

/* Answers 400 with Swift's message for metadata that failed
 * db_meta_validate() once 'updates' were merged into 'current'. */
int db_server_respond_meta_invalid(struct request *req,
                                   const struct db_meta *current,
                                   const struct db_meta *updates);

/* Where a server's metadata goes: its DB's update (validating the merged
 * map: -EINVAL when it fails) and a read of the stored map (moved into
 * *out, which the caller releases). */
struct db_meta_store {
    int (*update)(void *db, const struct db_meta *updates);
    int (*read)(void *db, struct db_meta *out);
    void *db;
};

/* Swift's _update_metadata(): the request's metadata headers (as
 * db_server_request_meta()) into 'store' at 'ts'. Answers every failure
 * itself (400 for metadata too large or not UTF-8, else the errno's
 * status) and returns its -errno; 0 when done or nothing to do. */
int db_server_update_meta(struct request *req, const char *type,
                          const char *const *extra, const struct db_ts *ts,
                          const struct db_meta_store *store);

/* Adds each metadata item with a non-empty value as a response header. */
int db_server_add_meta(struct request *req, const struct db_meta *m);

/* Adds "name: value" for a timestamp in Swift's normal ("1700000000.12345")
 * or internal form. */
int db_server_add_ts(struct request *req, const char *name,
                     const struct db_ts *ts, bool internal);
int db_server_add_int(struct request *req, const char *name, int64_t v);

/* Responds with X-Trans-Id and 'body' under swob's default Content-Type
 * (text/html; charset=UTF-8), as Swift's HTTPBadRequest(body=...); for a
 * NULL body, Swift's HTML page for the status. */
int db_server_respond(struct request *req, unsigned int status,
                      const char *body);
/* The same with Content-Type text/plain (no charset), as Swift's path,
 * timestamp and parameter errors. */
int db_server_respond_text(struct request *req, unsigned int status,
                           const char *body);
/* A body of 'len' bytes with Content-Type 'ctype'; charset=utf-8 added. */
int db_server_respond_body(struct request *req, unsigned int status,
                           const char *ctype, const char *body, size_t len);

/* The one mapping from errno to status for both servers. */
unsigned int db_server_status_from_err(int err);
/* Answers the status of 'err' with Swift's HTML page for it. */
int db_server_respond_err(struct request *req, int err);

/* Swift's config_true_value() of request header 'name'. */
bool db_server_header_true(struct request *req, const char *name);

#endif /* STORAGE_DB_SERVER_H */
