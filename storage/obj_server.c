/*
 * obj_server.c - the object server's requests: Swift 2.30's obj/server.py
 * over diskfile.
 *
 * Owns routing, validation (path, X-Timestamp, PUT constraints), the
 * newest-wins rules between a request and what is on disk, the metadata a
 * PUT or POST stores, the headers GET and HEAD return, conditionals and
 * ranges. Durability, file layout and quarantine are diskfile's
 * (doc/object-format.md); container updates and async pendings are
 * obj_update's; HTTP framing, the access log and 100-continue are
 * http_server's.
 *
 * A PUT's life: on_headers checks everything that can be checked before
 * the body (so "Expect: 100-continue" clients are refused without sending
 * it) and opens a diskfile writer; on_body streams into it; on_end commits
 * (ETag check, fsync, rename) and sends the container update; on_done frees
 * the writer, which removes its temp file unless committed. With
 * X-Backend-Obj-Metadata-Footer the body is a MIME document that
 * mime_footer.c takes apart as it streams: its data goes to the writer,
 * its footer (the ETag, metadata) is read in on_end.
 */
#include "storage/obj_server.h"

#include "common/http_client.h"
#include "common/timestamp.h"
#include "storage/byte_range.h"
#include "storage/devices.h"
#include "storage/diskfile.h"
#include "storage/diskfile_io.h"
#include "storage/mime_footer.h"
#include "storage/obj_expiring.h"
#include "storage/obj_stream.h"
#include "storage/obj_update.h"
#include "storage/recon_server.h"
#include "storage/ssync.h"
#include "storage/ssync_recv.h"
#include "storage/suffix_hash.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

const struct conf_option obj_server_options[] = {
    HTTP_SERVER_CONF_OPTIONS(struct obj_server_conf, http, 6200),
    LOG_CONF_OPTIONS(struct obj_server_conf, log, "object-server"),
    CONF_STR("devices", struct obj_server_conf, devices, "/srv/node"),
    CONF_BOOL("mount_check", struct obj_server_conf, mount_check, true),
    CONF_STR("swift_dir", struct obj_server_conf, swift_dir, "/etc/swift"),
    CONF_DOUBLE("conn_timeout", struct obj_server_conf, conn_timeout, 0.5,
                0.001, 3600),
    CONF_DOUBLE("node_timeout", struct obj_server_conf, node_timeout, 3, 0.001,
                3600),
    CONF_UINT("reclaim_age", struct obj_server_conf, reclaim_age, 604800, 0,
              UINT32_MAX),
    CONF_SIZE("fallocate_reserve", struct obj_server_conf, fallocate_reserve, 0,
              0, UINT64_MAX),
    CONF_BOOL("fsync_io_uring", struct obj_server_conf, fsync_io_uring, false),
    RECON_SERVER_CONF_OPTIONS(struct obj_server_conf, recon_cache_path),
    CONF_END,
};

struct obj_server {
    const struct obj_server_conf *conf;
    struct diskfile_conf dconf;
    struct http_client *client;
    struct recon_server *recon; /* answers /recon/, passes the rest on */
};

/* Swift's allowed_headers default: stored on PUT and POST, returned by GET
 * and HEAD. */
static const char *const allowed_headers[] = {
    "content-disposition",   "content-encoding",
    "x-delete-at",           "x-object-manifest",
    "x-static-large-object", "cache-control",
    "content-language",      "expires",
    "x-robots-tag",
};

enum method { M_GET, M_HEAD, M_PUT, M_POST, M_DELETE, M_REPLICATE, M_SSYNC };

/* One request's state, hung on the request; freed in on_done. */
struct obj_req {
    struct obj_server *srv;
    enum method method;
    char *names;     /* one copy of the path; the fields point into it */
    const char *dev; /* device */
    uint32_t part;
    const char *account, *container, *object;
    struct timestamp ts; /* X-Timestamp, or now for GET and HEAD */
    char ts_internal[TIMESTAMP_INTERNAL_SIZE];
    struct diskfile *df;
    struct diskfile_writer *w; /* PUT only, until committed */
    int64_t fsize;             /* PUT body size expected, -1 unknown */
    int body_err;              /* the first write error, 0 */
    struct mime_footer *mime;  /* a PUT with a metadata footer */
    json_t *footer;            /* its metadata, once parsed */
    /* X-Backend-Replication: a replicator's write (ssync_send.c): stores
     * the metadata it names, sends no container or expirer update */
    bool replication;
    struct ssync_recv *ssync; /* SSYNC, until answered */
    int64_t orig_delete_at;   /* PUT: the live object's X-Delete-At, 0 */
};

/* ---- small helpers ---- */

static unsigned int status_from_err(int err)
{
    switch (err) {
    case -ENOENT: return 404;
    case -EINVAL: return 400;
    case -EBADMSG: return 422;
    case -ENODEV: /* missing or unmounted device: the proxy tries another */
    case -ENOSPC:
    case -EDQUOT:
    case -ENOTSUP: return 507;
    case -ETIMEDOUT: return 408;
    case -ENOMEM: return 503;
    default: return 500;
    }
}

/* Errors with a text/plain body, as Swift's HTTPBadRequest(body=...). */
static int respond_text(struct request *req, unsigned int status,
                        const char *text)
{
    req_add_header(req, "Content-Type", "text/plain");
    return req_respond(req, status, text, strlen(text));
}

/* A body with swob's default type, as Swift's errors made without
 * content_type='text/plain'. */
static int respond_html(struct request *req, unsigned int status,
                        const char *text)
{
    return req_respond(req, status, text, strlen(text));
}

/* Swift's HTTPInsufficientStorage(drive=device): the device ends the
 * explanation. */
static int respond_507(struct request *req)
{
    const struct obj_req *o = req_ctx(req);
    char body[HTTP_ERROR_BODY_MAX + 256];
    size_t len = http_error_body(507, body);
    const char *tail = "</p></html>";
    size_t tlen = strlen(tail);
    int n;

    if (!o || !o->dev || len < tlen)
        return req_respond_error(req, 507);
    n = snprintf(body + len - tlen, sizeof(body) - (len - tlen), "%.200s%s",
                 o->dev, tail);
    return req_respond(req, 507, body, len - tlen + (size_t)n);
}

static int respond_err(struct request *req, int err)
{
    unsigned int status = status_from_err(err);

    return status == 507 ? respond_507(req) : req_respond_error(req, status);
}

/* For checks: answer and return 1, so that "if (check()) return 0;" stops
 * the handler whether or not the response could be made. */
static int refuse(struct request *req, unsigned int status)
{
    req_respond_error(req, status);
    return 1;
}

static int refuse_text(struct request *req, unsigned int status,
                       const char *text)
{
    respond_text(req, status, text);
    return 1;
}

static int refuse_err(struct request *req, int err)
{
    respond_err(req, err);
    return 1;
}

static bool has_prefix(const char *s, const char *prefix)
{
    size_t n = strlen(prefix);

    return !strncasecmp(s, prefix, n) && s[n];
}

/* Swift's is_sys_or_user_meta('object', k) or is_object_transient_sysmeta:
 * the prefix and at least one more character. */
static bool is_user_meta(const char *key)
{
    return has_prefix(key, "x-object-meta-");
}
static bool is_sysmeta(const char *key)
{
    return has_prefix(key, "x-object-sysmeta-");
}
static bool is_transient_sysmeta(const char *key)
{
    return has_prefix(key, "x-object-transient-sysmeta-");
}

static bool is_allowed_header(const char *key)
{
    size_t i;

    for (i = 0; i < sizeof(allowed_headers) / sizeof(allowed_headers[0]); i++)
        if (!strcasecmp(key, allowed_headers[i]))
            return true;
    return false;
}

/* A header name as WSGI hands it to Swift: '_' read as '-', then Python's
 * str.title() ("x-object-meta-foo1bar" -> "X-Object-Meta-Foo1Bar"), so
 * stored keys and the names GET returns match Swift's byte for byte. */
static char *wsgi_title(const char *name)
{
    char *out = strdup(name), *p;
    bool prev_alpha = false;

    if (!out)
        return NULL;
    for (p = out; *p; p++) {
        unsigned char c = (unsigned char)*p;
        bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');

        if (c == '_')
            *p = '-';
        else if (alpha && !prev_alpha && c >= 'a')
            *p = (char)(c - 'a' + 'A');
        else if (alpha && prev_alpha && c <= 'Z')
            *p = (char)(c - 'A' + 'a');
        prev_alpha = alpha;
    }
    return out;
}

/* Swift's check_utf8 on the path: valid UTF-8 (NUL is refused earlier). */
static bool valid_utf8(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    while (*p) {
        size_t n, i;
        uint32_t cp;

        if (*p < 0x80) {
            p++;
            continue;
        }
        if ((*p & 0xe0) == 0xc0) {
            n = 1;
            cp = *p & 0x1f;
        } else if ((*p & 0xf0) == 0xe0) {
            n = 2;
            cp = *p & 0x0f;
        } else if ((*p & 0xf8) == 0xf0) {
            n = 3;
            cp = *p & 0x07;
        } else {
            return false;
        }
        for (i = 1; i <= n; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i] & 0x3f);
        }
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) ||
            (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        p += n + 1;
    }
    return true;
}

/* Swift's config_true_value() of a header; false when absent. */
static bool header_true(struct request *req, const char *name)
{
    const char *v = req_header(req, name);
    bool b = false;

    return v && !conf_parse_bool(v, &b) && b;
}

/* Parses a decimal integer that must be all digits (an optional '-'), as
 * Python's int() on a header. 0 or -EINVAL. */
static int parse_int(const char *s, int64_t *out)
{
    char *end;

    errno = 0;
    *out = strtoll(s, &end, 10);
    if (errno || end == s || *end)
        return -EINVAL;
    return 0;
}

/* The object's X-Delete-At has passed at 'now' (Swift's DiskFileExpired). */
static bool is_expired(const struct objmeta *m, const struct timestamp *now)
{
    const char *v = objmeta_get(m, "X-Delete-At");
    int64_t at;

    if (!v || parse_int(v, &at) || at <= 0)
        return false;
    return (uint64_t)at * TIMESTAMP_TICKS_PER_SEC <= now->ticks;
}

/* The internal form of the timestamp string 's' from diskfile (already
 * normalized), "0" style for none. */
static int ts_of(const char *s, struct timestamp *out)
{
    if (!s) {
        *out = (struct timestamp){0};
        return 0;
    }
    return timestamp_parse(s, out);
}

static void add_backend_timestamp(struct request *req,
                                  const struct timestamp *ts)
{
    char buf[TIMESTAMP_INTERNAL_SIZE];

    req_add_header(req, "X-Backend-Timestamp", timestamp_internal(ts, buf));
}

/* ---- parsing the request ---- */

/* Swift's validate_device_partition, and a partition that is a number. */
static int check_dev_part(struct request *req, struct obj_req *o,
                          const char *dev, const char *part_s)
{
    char msg[512], *end;
    unsigned long part;

    if (!strcmp(dev, ".") || !strcmp(dev, "..")) {
        snprintf(msg, sizeof(msg), "Invalid device: %.400s", dev);
        return refuse_text(req, 400, msg);
    }
    errno = 0;
    part = strtoul(part_s, &end, 10);
    if (errno || *end || part_s[0] < '0' || part_s[0] > '9' ||
        part > UINT32_MAX) {
        snprintf(msg, sizeof(msg), "Invalid partition: %.400s", part_s);
        return refuse_text(req, 400, msg);
    }
    o->dev = dev;
    o->part = (uint32_t)part;
    return 0;
}

/* Swift's split_and_validate_path(req, 5, 5, True) and
 * validate_device_partition; responds 400/412 itself. */
static int parse_path(struct request *req, struct obj_req *o)
{
    const char *path = req_path(req);
    char *segs[5], *p;
    char msg[512];
    int i;

    if (!valid_utf8(path))
        return refuse_text(req, 412, "Invalid UTF8 or contains NULL");
    o->names = strdup(path + 1);
    if (!o->names)
        return refuse(req, 503);
    p = o->names;
    for (i = 0; i < 5; i++) {
        segs[i] = p;
        if (i < 4) {
            p = strchr(p, '/');
            if (!p)
                break;
            *p++ = '\0';
        }
        if (!*segs[i])
            break;
    }
    if (path[0] != '/' || i < 5) {
        snprintf(msg, sizeof(msg), "Invalid path: %.400s", req_raw_path(req));
        return refuse_text(req, 400, msg);
    }
    if (check_dev_part(req, o, segs[0], segs[1]))
        return 1;
    o->account = segs[2];
    o->container = segs[3];
    o->object = segs[4];
    return 0;
}

/* X-Timestamp: required for writes; GET and HEAD default to now. */
static int parse_timestamp(struct request *req, struct obj_req *o,
                           bool required)
{
    const char *v = req_header(req, "X-Timestamp");

    if (!v) {
        if (required)
            return refuse_text(req, 400, "Missing X-Timestamp header");
        timestamp_now(&o->ts);
    } else if (timestamp_parse(v, &o->ts)) {
        return refuse_text(req, 400, "Invalid X-Timestamp header");
    }
    timestamp_internal(&o->ts, o->ts_internal);
    return 0;
}

/* Names the diskfile; 507 for a missing or unmounted device. */
static int make_diskfile(struct request *req, struct obj_req *o)
{
    int err = diskfile_new(&o->srv->dconf, o->dev, o->part, o->account,
                           o->container, o->object, &o->df);

    if (err) {
        if (err != -ENODEV)
            req_log(req, LOG_ERR, "cannot name object '%s': %s",
                    req_raw_path(req), strerror(-err));
        return refuse_err(req, err);
    }
    return 0;
}

/* What is on disk, as the write paths need it: 'orig' is the data's
 * timestamp (or the tombstone's, or the expired data's, or zero);
 * returns 1 when a live object is there, 0 when not, or responds to an
 * error and returns -1. */
static int read_orig(struct request *req, struct obj_req *o,
                     struct timestamp *orig, bool *expired)
{
    int err = diskfile_open(o->df);

    *expired = false;
    if (!err) {
        const struct objmeta *m = diskfile_metadata(o->df);

        if (is_expired(m, &o->ts)) {
            *expired = true;
            ts_of(objmeta_get(m, "X-Timestamp"), orig);
            return 0;
        }
        ts_of(diskfile_data_timestamp(o->df), orig);
        return 1;
    }
    if (err == -ENOENT || err == -EINVAL) { /* EINVAL: quarantined */
        ts_of(err == -ENOENT ? diskfile_tombstone(o->df) : NULL, orig);
        return 0;
    }
    if (err != -ENODEV)
        req_log(req, LOG_ERR, "cannot open object '%s': %s", req_raw_path(req),
                strerror(-err));
    respond_err(req, err);
    return -1;
}

/* swob's Match: is 'etag' (or anything, for '*') in the comma-separated
 * list 'hdr', each tag with or without quotes. */
static bool etag_matches(const char *hdr, const char *etag)
{
    size_t elen = etag ? strlen(etag) : 0;
    const char *p = hdr;

    while (*p) {
        const char *start, *end;

        while (*p == ' ' || *p == ',')
            p++;
        start = p;
        while (*p && *p != ',')
            p++;
        end = p;
        while (end > start && end[-1] == ' ')
            end--;
        if (end - start >= 2 && *start == '"' && end[-1] == '"') {
            start++;
            end--;
        }
        if (end - start == 1 && *start == '*')
            return true;
        if (etag && (size_t)(end - start) == elen && !memcmp(start, etag, elen))
            return true;
    }
    return false;
}

/* X-Delete-At on PUT and POST. PUT uses Swift's check_delete_headers
 * (at <= now is past); POST its own test (at < X-Timestamp), so 'strict'
 * lets at == now through. Responds. */
static int check_delete_at(struct request *req, const struct timestamp *now,
                           bool strict)
{
    const char *v = req_header(req, "X-Delete-At");
    int64_t at;

    if (!v)
        return 0;
    if (parse_int(v, &at))
        return refuse_text(req, 400, "Non-integer X-Delete-At");
    if (at < 0 || (uint64_t)at * TIMESTAMP_TICKS_PER_SEC < now->ticks ||
        (!strict && (uint64_t)at * TIMESTAMP_TICKS_PER_SEC == now->ticks))
        return refuse_text(req, 400, "X-Delete-At in past");
    return 0;
}

/* ---- metadata from request headers ---- */

struct meta_pick {
    struct objmeta *m;
    bool sysmeta; /* PUT keeps X-Object-Sysmeta-*, POST does not */
    int err;
};

static int set_titled(struct objmeta *m, const char *name, const char *value)
{
    char *key = wsgi_title(name);
    int err;

    if (!key)
        return -ENOMEM;
    err = objmeta_set(m, key, value);
    free(key);
    return err;
}

static int pick_header(const char *name, const char *value, void *arg)
{
    struct meta_pick *mp = arg;

    if (is_user_meta(name) || is_transient_sysmeta(name) ||
        (mp->sysmeta && is_sysmeta(name)) || is_allowed_header(name))
        mp->err = set_titled(mp->m, name, value);
    return mp->err;
}

/* The headers Swift's PUT and POST copy into metadata, plus those named by
 * X-Backend-Replication-Headers (the replicator's own list). */
static int meta_from_headers(struct request *req, struct objmeta *m,
                             bool sysmeta)
{
    struct meta_pick mp = {m, sysmeta, 0};
    const char *repl = req_header(req, "X-Backend-Replication-Headers");
    char *copy, *tok, *save = NULL;

    req_foreach_header(req, pick_header, &mp);
    if (mp.err || !repl)
        return mp.err;
    copy = strdup(repl);
    if (!copy)
        return -ENOMEM;
    for (tok = strtok_r(copy, " \t", &save); tok && !mp.err;
         tok = strtok_r(NULL, " \t", &save)) {
        const char *v = req_header(req, tok);

        if (v)
            mp.err = set_titled(m, tok, v);
    }
    free(copy);
    return mp.err;
}

/* ---- container updates ---- */

#define MAX_OVERRIDES 8

struct update_ctx {
    struct obj_update u;
    char overrides[MAX_OVERRIDES][128];
    size_t n_overrides;
    char policy[16];
    char agent[32];
    bool data_ts;   /* a POST's: X-Timestamp is the data's, set by the caller */
    json_t *footer; /* a footer PUT's metadata: overrides there win */
};

/* X-Backend-Container-Update-Override-Etag: v (or the sysmeta form) sends
 * X-Etag: v to the container, as Swift's _check_container_override. */
static int pick_override(const char *name, const char *value, void *arg)
{
    static const char *const prefixes[] = {
        "x-object-sysmeta-container-update-override-",
        "x-backend-container-update-override-",
    };
    struct update_ctx *uc = arg;
    size_t i;

    for (i = 0; i < 2; i++) {
        size_t n = strlen(prefixes[i]);
        char *key;
        size_t k;

        if (!has_prefix(name, prefixes[i]) || uc->n_overrides >= MAX_OVERRIDES)
            continue;
        key = uc->overrides[uc->n_overrides++];
        snprintf(key, 128, "x-%s", name + n);
        for (k = 0; key[k]; k++)
            if (key[k] >= 'A' && key[k] <= 'Z')
                key[k] = (char)(key[k] - 'A' + 'a');
        obj_update_set_header(&uc->u, key, value);
    }
    return 0;
}

static void container_update(struct request *req, struct obj_req *o,
                             struct update_ctx *uc, const char *op)
{
    const struct obj_server_conf *conf = o->srv->conf;
    const char *policy = req_header(req, "X-Backend-Storage-Policy-Index");
    const char *txn = req_txn(req);

    if (o->replication)
        return; /* the container heard of it from the original write */
    uc->u.op = op;
    uc->u.devices = conf->devices;
    uc->u.dev = o->dev;
    uc->u.hash = diskfile_hash(o->df);
    uc->u.account = o->account;
    uc->u.container = o->container;
    uc->u.object = o->object;
    uc->u.timestamp = o->ts_internal;
    uc->u.hosts = req_header(req, "X-Container-Host");
    uc->u.devs = req_header(req, "X-Container-Device");
    uc->u.part = req_header(req, "X-Container-Partition");
    snprintf(uc->policy, sizeof(uc->policy), "%d", policy ? atoi(policy) : 0);
    snprintf(uc->agent, sizeof(uc->agent), "object-server %d", (int)getpid());
    if (!uc->data_ts)
        obj_update_set_header(&uc->u, "X-Timestamp", o->ts_internal);
    obj_update_set_header(&uc->u, "X-Trans-Id", *txn ? txn : "-");
    obj_update_set_header(&uc->u, "X-Backend-Storage-Policy-Index", uc->policy);
    obj_update_set_header(&uc->u, "User-Agent", uc->agent);
    if (!strcmp(op, "PUT") && !uc->data_ts) {
        const char *key;
        json_t *v;

        req_foreach_header(req, pick_override, uc);
        json_object_foreach(uc->footer, key, v) {
            if (json_is_string(v))
                pick_override(key, json_string_value(v), uc);
        }
    }
    obj_update_send(o->srv->client, &uc->u,
                    (unsigned int)(conf->conn_timeout * 1000),
                    (unsigned int)(conf->node_timeout * 1000), txn);
}

/* Keeps the expirer queue in step with X-Delete-At (obj_expiring.c). */
static void expiring_update(struct request *req, struct obj_req *o,
                            int64_t orig_at)
{
    const struct obj_server_conf *conf = o->srv->conf;
    const struct obj_expiring_write w = {
        .client = o->srv->client,
        .hash_conf = o->srv->dconf.hash_conf,
        .swift_dir = conf->swift_dir,
        .devices = conf->devices,
        .dev = o->dev,
        .account = o->account,
        .container = o->container,
        .object = o->object,
        .timestamp = o->ts_internal,
        .conn_ms = (unsigned int)(conf->conn_timeout * 1000),
        .node_ms = (unsigned int)(conf->node_timeout * 1000),
    };

    obj_expiring_update(req, &w, orig_at,
                        o->method == M_DELETE
                            ? 0
                            : obj_expiring_at(req_header(req, "X-Delete-At")));
}

/* ---- PUT ---- */

/* Swift's check_object_creation, as far as the object server sees it. */
static int check_creation(struct request *req, struct obj_req *o)
{
    const char *te = req_header(req, "Transfer-Encoding");
    int64_t cl = req_content_length(req);
    size_t name_chars;
    char msg[128];

    if (te && strcasecmp(te, "chunked") && strcasecmp(te, "identity"))
        return refuse_text(req, 501, "Invalid Transfer-Encoding header value");
    if (cl > 0 && (uint64_t)cl > OBJ_SERVER_MAX_FILE_SIZE)
        return refuse_text(req, 413, "Your request is too large.");
    if (cl < 0 && !req_chunked(req))
        return refuse_text(req, 411, "Missing Content-Length header.");
    /* counted in characters, as Swift 2.30 (1024 'é' are fine) */
    name_chars = 0;
    for (const char *p = o->object; *p; p++)
        name_chars += ((unsigned char)*p & 0xC0) != 0x80;
    if (name_chars > OBJ_SERVER_MAX_OBJECT_NAME) {
        snprintf(msg, sizeof(msg), "Object name length of %zu longer than %d",
                 name_chars, OBJ_SERVER_MAX_OBJECT_NAME);
        return refuse_text(req, 400, msg);
    }
    if (!req_header(req, "Content-Type"))
        return refuse_text(req, 400, "No content type");
    /* a replica of an object past its X-Delete-At (not yet expired by the
     * expirer) keeps it: Swift's check_delete_headers lets replication
     * through */
    if (check_delete_at(req, o->replication ? &(struct timestamp){0} : &o->ts,
                        o->replication))
        return 1;
    if (!valid_utf8(req_header(req, "Content-Type")))
        return refuse_text(req, 400, "Invalid Content-Type");
    return 0;
}

/* X-Backend-Obj-Metadata-Footer: the body is a MIME document, object
 * data then JSON metadata (mime_footer.h), as Swift's proxy sends it for
 * EC and encryption and kura-proxy for every upload. The 100 Continue
 * says we understand it (a proxy that sees no "X-Obj-Metadata-Footer:
 * yes" there sends this replica nothing). */
static int start_footer(struct request *req, struct obj_req *o)
{
    const char *b = req_header(req, "X-Backend-Obj-Multipart-Mime-Boundary");
    int err;

    if (!b || !*b)
        return respond_html(req, 400, "no MIME boundary");
    err = mime_footer_new(b, &o->mime);
    if (err == -EINVAL)
        return respond_html(req, 400, "invalid MIME boundary");
    if (err)
        return respond_err(req, err);
    req_continue_headers(req, "X-Obj-Metadata-Footer: yes\r\n");
    return 0;
}

/* Everything decided before the body: refusals here reach a client that
 * sent "Expect: 100-continue" before it sends the body. */
static int put_headers(struct request *req, struct obj_req *o)
{
    const char *inm = req_header(req, "If-None-Match");
    const char *blen = req_header(req, "X-Backend-Obj-Content-Length");
    bool footer = header_true(req, "X-Backend-Obj-Metadata-Footer");
    struct timestamp orig;
    bool expired;
    int live, err;

    if (parse_timestamp(req, o, true) || check_creation(req, o) ||
        make_diskfile(req, o))
        return 0;
    live = read_orig(req, o, &orig, &expired);
    if (live < 0)
        return 0;
    if (inm && live &&
        etag_matches(inm, objmeta_get(diskfile_metadata(o->df), "ETag")))
        return req_respond_error(req, 412);
    if (timestamp_cmp(&orig, &o->ts) >= 0) {
        add_backend_timestamp(req, &orig);
        return req_respond_error(req, 409);
    }
    if (live)
        o->orig_delete_at = obj_expiring_at(
            objmeta_get(diskfile_metadata(o->df), "X-Delete-At"));
    /* with a footer, Content-Length (if any) frames the MIME document:
     * the data's size is X-Backend-Obj-Content-Length or unknown */
    o->fsize = footer ? -1 : req_content_length(req);
    if (o->fsize < 0 && blen && parse_int(blen, &o->fsize))
        return respond_text(req, 400, "Invalid X-Backend-Obj-Content-Length");
    if (footer && (start_footer(req, o) || req_status(req)))
        return 0;
    err = diskfile_writer_new(o->df, o->fsize, &o->w);
    if (err) {
        if (err != -ENOSPC && err != -ENODEV)
            req_log(req, LOG_ERR, "cannot start writing '%s': %s",
                    req_raw_path(req), strerror(-err));
        return respond_err(req, err);
    }
    /* the sender hashed exactly this body and says so: its footer ETag
     * becomes ours without a second MD5 (a full GET still checks it) */
    if (o->mime && header_true(req, "X-Backend-Kura-Footer-Etag-Trusted"))
        diskfile_writer_trust_etag(o->w);
    return 0;
}

/* A write failed: the temp file goes now, the answer says why. */
static int write_failed(struct request *req, struct obj_req *o, int err)
{
    o->body_err = err;
    diskfile_writer_free(o->w);
    o->w = NULL;
    if (err != -ENOSPC && err != -EDQUOT)
        req_log(req, LOG_ERR, "cannot write '%s': %s", req_raw_path(req),
                strerror(-err));
    return respond_err(req, err);
}

/* The MIME document is not what Swift's object server takes: 400 (422 for
 * a footer whose Content-MD5 disagrees) with Swift's reason, and the temp
 * file goes before the answer. */
static int mime_failed(struct request *req, struct obj_req *o, int err)
{
    diskfile_writer_free(o->w);
    o->w = NULL;
    if (err == -ENOMEM)
        return req_respond_error(req, 503);
    return respond_html(req, err == -EBADMSG ? 422 : 400,
                        mime_footer_error(o->mime));
}

/* The object data found in a footer PUT's MIME document. */
static int mime_data(void *arg, const char *data, size_t len)
{
    struct obj_req *o = arg;
    int err = diskfile_writer_write(o->w, data, len);

    if (err)
        o->body_err = err;
    return err;
}

static int put_body(struct request *req, struct obj_req *o, const char *data,
                    size_t len)
{
    int err;

    if (!o->w || o->body_err)
        return 0;
    if (o->mime) {
        err = mime_footer_feed(o->mime, data, len, mime_data, o);
        if (o->body_err)
            return write_failed(req, o, o->body_err);
        return err ? mime_failed(req, o, err) : 0;
    }
    err = diskfile_writer_write(o->w, data, len);
    return err ? write_failed(req, o, err) : 0;
}

/* A footer value as Swift's HeaderKeyDict keeps it (str() of a JSON
 * scalar); NULL for null (no such item) and for arrays and objects. */
static const char *footer_value(json_t *v, char *buf, size_t cap)
{
    if (json_is_string(v))
        return json_string_value(v);
    if (json_is_integer(v))
        snprintf(buf, cap, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else if (json_is_real(v))
        snprintf(buf, cap, "%.17g", json_real_value(v));
    else if (json_is_boolean(v))
        snprintf(buf, cap, "%s", json_is_true(v) ? "True" : "False");
    else
        return NULL;
    return buf;
}

/* The footer's metadata Swift stores (_apply_extra_metadata): user,
 * system and transient system metadata, over the headers'. */
static int meta_from_footer(json_t *footer, struct objmeta *m)
{
    const char *key;
    json_t *v;
    char num[64];
    int err = 0;

    json_object_foreach(footer, key, v) {
        const char *s = footer_value(v, num, sizeof(num));

        if (s && (is_user_meta(key) || is_sysmeta(key) ||
                  is_transient_sysmeta(key)))
            err = set_titled(m, key, s);
        if (err)
            break;
    }
    return err;
}

/* The footer's Etag item (any case, as HeaderKeyDict), or NULL. */
static const char *footer_etag(json_t *footer, char *buf, size_t cap)
{
    const char *key;
    json_t *v;

    json_object_foreach(footer, key, v) {
        if (!strcasecmp(key, "etag")) {
            const char *s = footer_value(v, buf, cap);

            return s && *s ? s : NULL;
        }
    }
    return NULL;
}

/* 'v' without surrounding quotes (Swift's normalize_etag), in 'buf' when
 * they had to go. */
static const char *normalize_etag(const char *v, char *buf, size_t cap)
{
    size_t n;

    if (!v || !*v)
        return NULL;
    n = strlen(v);
    if (n >= 2 && v[0] == '"' && v[n - 1] == '"' && n - 2 < cap) {
        memmove(buf, v + 1, n - 2);
        buf[n - 2] = '\0';
        return buf;
    }
    return v;
}

/* The ETag the client expects, without quotes (Swift's normalize_etag):
 * the footer's when it has one, else the ETag header's. */
static const char *expected_etag(struct request *req, struct obj_req *o,
                                 char *buf, size_t cap)
{
    char fbuf[128];
    const char *f = o->footer ? footer_etag(o->footer, fbuf, sizeof(fbuf))
                              : NULL;

    return normalize_etag(f ? f : req_header(req, "ETag"), buf, cap);
}

static int put_end(struct request *req, struct obj_req *o)
{
    struct objmeta meta = {0};
    struct update_ctx uc = {0};
    char etagbuf[128], quoted[72], size[24];
    uint64_t got = diskfile_writer_bytes(o->w);
    const char *ctype = req_header(req, "Content-Type");
    int err;

    int mime_err = 0;

    if (o->mime) {
        /* the end of the data may still be held back by the parser */
        mime_err = mime_footer_finish(o->mime, mime_data, o, &o->footer);
        if (o->body_err)
            return write_failed(req, o, o->body_err);
        got = diskfile_writer_bytes(o->w);
    }
    if (o->fsize >= 0 && got != (uint64_t)o->fsize) {
        /* the temp file goes before the answer, not after it */
        diskfile_writer_free(o->w);
        o->w = NULL;
        return req_respond_error(req, 499); /* Swift's HTTPClientDisconnect */
    }
    if (mime_err)
        return mime_failed(req, o, mime_err);
    err = objmeta_set(&meta, "Content-Type", ctype);
    if (!err)
        err = meta_from_headers(req, &meta, true);
    if (!err && o->footer)
        err = meta_from_footer(o->footer, &meta);
    if (!err)
        err = diskfile_writer_commit(
            o->w, &meta, o->ts_internal,
            expected_etag(req, o, etagbuf, sizeof(etagbuf)));
    objmeta_release(&meta);
    if (err) {
        if (err != -EBADMSG && err != -ENOSPC)
            req_log(req, LOG_ERR, "cannot commit '%s': %s", req_raw_path(req),
                    strerror(-err));
        /* a directory gone under the commit is our failure, not a 404
         * the proxy would pass on to the client */
        return respond_err(req, err == -ENOENT ? -EIO : err);
    }
    snprintf(size, sizeof(size), "%" PRIu64, got);
    obj_update_set_header(&uc.u, "X-Size", size);
    obj_update_set_header(&uc.u, "X-Content-Type", ctype);
    obj_update_set_header(&uc.u, "X-Etag", diskfile_writer_etag(o->w));
    uc.footer = o->footer;
    expiring_update(req, o, o->orig_delete_at);
    container_update(req, o, &uc, "PUT");
    snprintf(quoted, sizeof(quoted), "\"%s\"", diskfile_writer_etag(o->w));
    req_add_header(req, "ETag", quoted);
    return req_respond_error(req, 201);
}

/* ---- DELETE ---- */

static int do_delete(struct request *req, struct obj_req *o)
{
    const char *ifda = req_header(req, "X-If-Delete-At");
    struct timestamp orig, resp_ts, want, have = {0};
    struct update_ctx uc = {0};
    const char *ctype = NULL;
    unsigned int status;
    bool expired;
    int live, err;

    if (parse_timestamp(req, o, true) || make_diskfile(req, o))
        return 0;
    live = read_orig(req, o, &orig, &expired);
    if (live < 0)
        return 0;
    if (live || expired) {
        const struct objmeta *m = diskfile_metadata(o->df);

        ctype = objmeta_get(m, "Content-Type");
        ts_of(objmeta_get(m, "X-Delete-At"), &have);
    }
    if (live)
        status = timestamp_cmp(&orig, &o->ts) < 0 ? 204 : 409;
    else
        status = 404;
    if (ifda) {
        if (timestamp_parse(ifda, &want))
            return respond_html(req, 400, "Bad X-If-Delete-At header value");
        if (!orig.ticks && !orig.offset)
            return req_respond_error(req, 404);
        if (timestamp_cmp(&orig, &o->ts) >= 0)
            return req_respond_error(req, 409);
        if (timestamp_cmp(&have, &want))
            return respond_html(req, 412,
                                "X-If-Delete-At and X-Delete-At do not match");
        status = 204;
    }
    resp_ts = timestamp_cmp(&orig, &o->ts) > 0 ? orig : o->ts;
    if (timestamp_cmp(&orig, &o->ts) < 0) {
        err = diskfile_delete(o->df, o->ts_internal);
        if (err) {
            if (err != -ENOSPC)
                req_log(req, LOG_ERR, "cannot delete '%s': %s",
                        req_raw_path(req), strerror(-err));
            return respond_err(req, err);
        }
        expiring_update(req, o,
                        (int64_t)(have.ticks / TIMESTAMP_TICKS_PER_SEC));
        container_update(req, o, &uc, "DELETE");
    }
    add_backend_timestamp(req, &resp_ts);
    if (ctype && *ctype)
        req_add_header(req, "X-Backend-Content-Type", ctype);
    return req_respond_error(req, status);
}

/* ---- POST ---- */

/* The content type a .meta carries, as Swift 2.30: a new one from the
 * request (timestamped with the POST), else the one an earlier POST set
 * (kept, with its timestamp), else none (the .data's stays). */
static int post_content_type(struct obj_req *o, const struct objmeta *orig,
                             const char *ctype, struct objmeta *meta)
{
    const char *ctt = objmeta_get(orig, "Content-Type-Timestamp");
    int err = 0;

    if (ctype) {
        err = objmeta_set(meta, "Content-Type", ctype);
        if (!err)
            err = objmeta_set(meta, "Content-Type-Timestamp", o->ts_internal);
    } else if (ctt && objmeta_get(orig, "Content-Type")) {
        err = objmeta_set(meta, "Content-Type",
                          objmeta_get(orig, "Content-Type"));
        if (!err)
            err = objmeta_set(meta, "Content-Type-Timestamp", ctt);
    }
    return err;
}

static int pick_item_override(struct update_ctx *uc, const struct objmeta *m)
{
    size_t i;

    for (i = 0; i < m->n; i++)
        pick_override(m->items[i].key, m->items[i].val, uc);
    return 0;
}

/* After a POST: Swift's response headers (the content type, the system
 * metadata) and its container update, a PUT carrying the data's
 * timestamp and the .meta's. */
static void post_update(struct request *req, struct obj_req *o,
                        const struct objmeta *orig, const struct objmeta *meta)
{
    struct update_ctx uc = {.data_ts = true};
    const char *ct = objmeta_get(meta, "Content-Type");
    const char *ctt = objmeta_get(meta, "Content-Type-Timestamp");
    const char *data_ts = diskfile_data_timestamp(o->df);
    size_t i;

    if (!ct) {
        ct = objmeta_get(orig, "Content-Type");
        ctt = data_ts;
    }
    for (i = 0; i < orig->n; i++)
        if (is_sysmeta(orig->items[i].key) && orig->items[i].vlen)
            req_add_header(req, orig->items[i].key, orig->items[i].val);
    if (ct && *ct)
        req_add_header(req, "X-Backend-Content-Type", ct);
    obj_update_set_header(&uc.u, "X-Size", objmeta_get(orig, "Content-Length"));
    obj_update_set_header(&uc.u, "X-Content-Type", ct);
    obj_update_set_header(&uc.u, "X-Timestamp", data_ts);
    obj_update_set_header(&uc.u, "X-Content-Type-Timestamp", ctt);
    obj_update_set_header(&uc.u, "X-Meta-Timestamp", o->ts_internal);
    obj_update_set_header(&uc.u, "X-Etag", objmeta_get(orig, "ETag"));
    pick_item_override(&uc, orig);
    container_update(req, o, &uc, "PUT");
}

static int do_post(struct request *req, struct obj_req *o)
{
    const char *ctype = req_header(req, "Content-Type");
    struct objmeta meta = {0}, orig_meta = {0};
    struct timestamp orig;
    const struct objmeta *m;
    int err;

    /* Swift's proxy sends "Content-Type:" empty when the client gave
     * none; Swift takes that as no new content type. */
    if (ctype && !*ctype)
        ctype = NULL;
    if (parse_timestamp(req, o, true) || check_delete_at(req, &o->ts, true) ||
        make_diskfile(req, o))
        return 0;
    err = diskfile_open(o->df);
    if (err == -ENOENT || err == -EINVAL)
        return req_respond_error(req, 404);
    if (err) {
        if (err != -ENODEV)
            req_log(req, LOG_ERR, "cannot open object '%s': %s",
                    req_raw_path(req), strerror(-err));
        return respond_err(req, err);
    }
    m = diskfile_metadata(o->df);
    if (is_expired(m, &o->ts) && !o->replication) /* Swift's open_expired */
        return req_respond_error(req, 404);
    ts_of(objmeta_get(m, "X-Timestamp"), &orig);
    if (timestamp_cmp(&orig, &o->ts) >= 0) {
        add_backend_timestamp(req, &orig);
        return req_respond_error(req, 409);
    }
    err = objmeta_copy(&orig_meta, m); /* m goes with the next open */
    if (!err)
        err = meta_from_headers(req, &meta, false);
    if (!err && !o->replication) /* else named, with its timestamp */
        err = post_content_type(o, &orig_meta, ctype, &meta);
    if (!err)
        err = diskfile_post(o->df, &meta, o->ts_internal);
    if (err) {
        if (err != -ENOSPC)
            req_log(req, LOG_ERR, "cannot post '%s': %s", req_raw_path(req),
                    strerror(-err));
        respond_err(req, err);
    } else {
        expiring_update(
            req, o, obj_expiring_at(objmeta_get(&orig_meta, "X-Delete-At")));
        post_update(req, o, &orig_meta, &meta);
        req_respond_error(req, 202);
    }
    objmeta_release(&meta);
    objmeta_release(&orig_meta);
    return 0;
}

/* ---- GET and HEAD ---- */

/* The item of the first name in the comma-separated list 'hdr' (NULL is
 * fine) that 'm' has, or NULL: Swift's list_from_csv() looked up in a
 * HeaderKeyDict, for X-Backend-Etag-Is-At and
 * X-Backend-Ignore-Range-If-Metadata-Present, which middlewares of Swift's
 * proxy (slo, symlink, encryption) send. */
static const struct objmeta_item *first_present(const struct objmeta *m,
                                                const char *hdr)
{
    char name[256];

    while (hdr && *hdr) {
        const char *start, *end;
        const struct objmeta_item *it;

        while (*hdr == ' ' || *hdr == '\t' || *hdr == ',')
            hdr++;
        start = hdr;
        while (*hdr && *hdr != ',')
            hdr++;
        end = hdr;
        while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
        if (end == start || (size_t)(end - start) >= sizeof(name))
            continue;
        memcpy(name, start, (size_t)(end - start));
        name[end - start] = '\0';
        it = objmeta_find(m, name);
        if (it)
            return it;
    }
    return NULL;
}

/* Swift's Response conditional_response: 304 or 412, or 0. */
static unsigned int conditional_status(struct request *req, const char *etag,
                                       uint64_t last_modified)
{
    const char *inm = req_header(req, "If-None-Match");
    const char *im = req_header(req, "If-Match");
    const char *ims = req_header(req, "If-Modified-Since");
    const char *ius = req_header(req, "If-Unmodified-Since");
    time_t t;

    if (inm && etag_matches(inm, etag))
        return 304;
    if (im && !etag_matches(im, etag))
        return 412;
    if (ims && !timestamp_parse_http_date(ims, &t) &&
        last_modified <= (uint64_t)t)
        return 304;
    if (ius && !timestamp_parse_http_date(ius, &t) &&
        last_modified > (uint64_t)t)
        return 412;
    return 0;
}

static int add_meta_header(struct request *req, const struct objmeta_item *it)
{
    if (is_user_meta(it->key) || is_sysmeta(it->key) ||
        is_transient_sysmeta(it->key) || is_allowed_header(it->key))
        if (strlen(it->val) == it->vlen)
            req_add_header(req, it->key, it->val);
    return 0;
}

static void add_content_type(struct request *req, struct diskfile *df)
{
    const char *ctype = objmeta_get(diskfile_metadata(df), "Content-Type");

    req_add_header(req, "Content-Type",
                   ctype && *ctype ? ctype : "application/octet-stream");
}

/* The object's headers, as Swift's GET and HEAD set them, but for
 * Content-Type (a multipart body has its own). */
static void add_object_headers(struct request *req, struct diskfile *df,
                               const struct timestamp *ts)
{
    const struct objmeta *m = diskfile_metadata(df);
    const char *etag = objmeta_get(m, "ETag");
    char buf[TIMESTAMP_INTERNAL_SIZE], quoted[80];
    size_t i;

    for (i = 0; i < m->n; i++)
        add_meta_header(req, &m->items[i]);
    if (etag) {
        snprintf(quoted, sizeof(quoted), "\"%s\"", etag);
        req_add_header(req, "ETag", quoted);
    }
    req_add_header(req, "Last-Modified", timestamp_http_date(ts, buf));
    req_add_header(req, "X-Timestamp", timestamp_normal(ts, buf));
    req_add_header(req, "X-Backend-Timestamp", timestamp_internal(ts, buf));
    req_add_header(req, "X-Backend-Data-Timestamp",
                   diskfile_data_timestamp(df));
    req_add_header(req, "X-Backend-Durable-Timestamp",
                   diskfile_data_timestamp(df));
    /* no Accept-Ranges: Swift's proxy adds it to the responses it serves
     * from a backend's 2xx, and a 304 or 412 of ours would carry it */
}

static int respond_not_found(struct request *req, const char *ts_str)
{
    const char *im = req_header(req, "If-Match");
    struct timestamp ts;

    if (ts_str && !timestamp_parse(ts_str, &ts))
        add_backend_timestamp(req, &ts);
    if (im && etag_matches(im, NULL)) /* '*' and no object: swob's empty */
        return req_respond(req, 412, NULL, 0);
    return req_respond_error(req, 404);
}

static ssize_t stream_read(void *arg, uint64_t pos, char *buf, size_t max)
{
    return obj_stream_read(arg, pos, buf, max);
}

static void stream_free(void *arg)
{
    obj_stream_free(arg);
}

/* 200, 206 or 416 with the body the Range header asks for; the whole
 * body (200) when the object has metadata named in
 * X-Backend-Ignore-Range-If-Metadata-Present. */
static int serve_body(struct request *req, struct obj_req *o, uint64_t size)
{
    const struct objmeta *m = diskfile_metadata(o->df);
    const char *range = req_header(req, "Range");
    const char *ctype = objmeta_get(m, "Content-Type");
    struct byte_range *r = NULL;
    struct obj_stream *s;
    size_t n = 0;
    char hdr[96];
    int err;

    if (first_present(
            m, req_header(req, "X-Backend-Ignore-Range-If-Metadata-Present")))
        range = NULL;
    err = range ? byte_range_parse(range, size, &r, &n) : 0;
    if (err == -ERANGE) {
        add_content_type(req, o->df);
        snprintf(hdr, sizeof(hdr), "bytes */%" PRIu64, size);
        req_add_header(req, "Content-Range", hdr);
        return req_respond_error(req, 416);
    }
    if (err || size == 0) { /* -ENOMEM, or swob's 200 for empty objects */
        free(r);
        r = NULL;
        n = 0;
    }
    if (n == 1) {
        snprintf(hdr, sizeof(hdr), "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64,
                 r[0].start, r[0].end - 1, size);
        req_add_header(req, "Content-Range", hdr);
    }
    if (n <= 1)
        add_content_type(req, o->df);
    err = obj_stream_new(o->df, r, n, ctype, &s);
    o->df = NULL; /* the stream owns it now, even on failure */
    if (err)
        return respond_err(req, err);
    if (n > 1) {
        snprintf(hdr, sizeof(hdr), "multipart/byteranges;boundary=%s",
                 obj_stream_boundary(s));
        req_add_header(req, "Content-Type", hdr);
    }
    return req_respond_stream(req, n ? 206 : 200, obj_stream_size(s),
                              stream_read, s, stream_free);
}

static ssize_t no_read(void *arg, uint64_t pos, char *buf, size_t max)
{
    (void)arg;
    (void)pos;
    (void)buf;
    (void)max;
    return 0;
}

static int do_get(struct request *req, struct obj_req *o)
{
    bool head = o->method == M_HEAD;
    const struct objmeta *m;
    const struct objmeta_item *alt;
    struct timestamp ts;
    unsigned int cond;
    uint64_t size;
    int err;

    if (parse_timestamp(req, o, false) || make_diskfile(req, o))
        return 0;
    err = diskfile_open(o->df);
    if (err == -ENOENT)
        return respond_not_found(req, diskfile_tombstone(o->df));
    if (err == -EINVAL) /* quarantined */
        return respond_not_found(req, NULL);
    if (err) {
        if (err != -ENODEV)
            req_log(req, LOG_ERR, "cannot open object '%s': %s",
                    req_raw_path(req), strerror(-err));
        return respond_err(req, err);
    }
    m = diskfile_metadata(o->df);
    if (is_expired(m, &o->ts) && !header_true(req, "X-Backend-Replication"))
        return respond_not_found(req, objmeta_get(m, "X-Timestamp"));
    if (ts_of(objmeta_get(m, "X-Timestamp"), &ts))
        ts_of(diskfile_timestamp(o->df), &ts);
    size = diskfile_content_length(o->df);
    /* conditions compare the ETag that X-Backend-Etag-Is-At points at */
    alt = first_present(m, req_header(req, "X-Backend-Etag-Is-At"));
    cond = conditional_status(req, alt ? alt->val : objmeta_get(m, "ETag"),
                              timestamp_ceil_secs(&ts));
    add_object_headers(req, o->df, &ts);
    if (cond || head)
        add_content_type(req, o->df);
    if (cond)
        return req_respond(req, cond, NULL, 0);
    if (head)
        return req_respond_stream(req, 200, size, no_read, NULL, NULL);
    return serve_body(req, o, size);
}

/* ---- REPLICATE ---- */

#define MAX_SUFFIXES 4096

/* The suffixes of "abc-def-012" (in place); -EINVAL for a bad one. */
static int split_suffixes(char *s, const char **out, size_t *n)
{
    char *save = NULL, *tok;

    *n = 0;
    for (tok = strtok_r(s, "-", &save); tok; tok = strtok_r(NULL, "-", &save)) {
        if (!suffix_hash_valid_suffix(tok) || *n == MAX_SUFFIXES)
            return -EINVAL;
        out[(*n)++] = tok;
    }
    return 0;
}

static char *hashes_json(const struct suffix_hashes *sh)
{
    json_t *doc = json_object();
    char *out = NULL, hex[17];
    size_t i;

    for (i = 0; doc && i < sh->n; i++) {
        snprintf(hex, sizeof(hex), "%016" PRIx64, sh->v[i].hash);
        if (json_object_set_new(doc, sh->v[i].suffix, json_string(hex)))
            goto out;
    }
    if (doc)
        out = json_dumps(doc, JSON_SORT_KEYS | JSON_COMPACT);
out:
    json_decref(doc);
    return out;
}

/* The path of REPLICATE and SSYNC, /<dev>/<part>[/<rest>], 'rest' only
 * when 'rest' is not NULL, and the device: sets o->dev, o->part and *rest
 * (NULL when absent); answers 400 or 507 itself and returns 1. */
static int parse_part_path(struct request *req, struct obj_req *o, char **rest)
{
    const struct obj_server_conf *conf = o->srv->conf;
    const char *path = req_path(req);
    char *part, *tail = NULL, msg[512];
    int err;

    o->names = strdup(path + (path[0] == '/'));
    if (!o->names)
        return refuse(req, 503);
    part = strchr(o->names, '/');
    if (part) {
        *part++ = '\0';
        tail = strchr(part, '/');
        if (tail)
            *tail++ = '\0';
    }
    if (path[0] != '/' || !part || !*o->names || !*part ||
        (tail && (!rest || strchr(tail, '/')))) {
        snprintf(msg, sizeof(msg), "Invalid path: %.400s", req_raw_path(req));
        return refuse_text(req, 400, msg);
    }
    if (check_dev_part(req, o, o->names, part))
        return 1;
    err = devices_check(conf->devices, o->dev, conf->mount_check);
    if (err)
        return refuse_err(req, err);
    if (rest)
        *rest = tail;
    return 0;
}

/* REPLICATE /<dev>/<part>[/<suffix>-<suffix>...]: the partition's suffix
 * hashes as JSON {"abc": "<16 hex>"} (Swift answers a pickle), the named
 * suffixes recomputed first. For kura-replicator. */
static int do_replicate(struct request *req, struct obj_req *o)
{
    const struct obj_server_conf *conf = o->srv->conf;
    const char **suffixes = NULL;
    struct suffix_hashes sh = {0};
    char *rest = NULL, *body = NULL, dir[4096];
    size_t n = 0;
    int err;

    if (parse_part_path(req, o, &rest))
        return 0;
    suffixes = calloc(MAX_SUFFIXES, sizeof(*suffixes));
    if (!suffixes)
        return req_respond_error(req, 503);
    if (rest && split_suffixes(rest, suffixes, &n)) {
        free(suffixes);
        return respond_text(req, 400, "Invalid suffix");
    }
    snprintf(dir, sizeof(dir), "%s/%s/objects/%" PRIu32, conf->devices, o->dev,
             o->part);
    err = suffix_hash_get(
        dir, suffixes, n,
        conf->reclaim_age ? time(NULL) - conf->reclaim_age : 0, &sh);
    free(suffixes);
    if (!err) {
        body = hashes_json(&sh);
        if (!body)
            err = -ENOMEM;
    }
    suffix_hashes_release(&sh);
    if (err) {
        req_log(req, LOG_ERR, "cannot hash '%s': %s", dir, strerror(-err));
        return respond_err(req, err);
    }
    req_add_header(req, "Content-Type", "application/json");
    err = req_respond(req, 200, body, strlen(body));
    free(body);
    return err;
}

/* ---- SSYNC ---- */

/* SSYNC /<dev>/<part>: the sender's inventory (ssync.h) is compared with
 * the partition as it streams in (ssync_recv.c); the answer, at the end,
 * is what we want sent. Writes nothing. */
static int ssync_headers(struct request *req, struct obj_req *o)
{
    const struct obj_server_conf *conf = o->srv->conf;
    char dir[4096];
    int err;

    if (parse_part_path(req, o, NULL))
        return 0;
    if (req_content_length(req) > (int64_t)SSYNC_MAX_BODY)
        return respond_text(req, 413, "Inventory too large");
    snprintf(dir, sizeof(dir), "%s/%s/objects/%" PRIu32, conf->devices, o->dev,
             o->part);
    err = ssync_recv_new(dir, &o->ssync);
    return err ? respond_err(req, err) : 0;
}

/* Answers a refused inventory; the reader goes, so nothing more is fed. */
static int ssync_refuse(struct request *req, struct obj_req *o, int err)
{
    char msg[64];

    if (err == -EINVAL) {
        snprintf(msg, sizeof(msg), "Invalid inventory line %zu",
                 ssync_recv_lineno(o->ssync));
        respond_text(req, 400, msg);
    } else if (err == -E2BIG) {
        respond_text(req, 413, "Inventory too large");
    } else {
        req_log(req, LOG_ERR, "cannot compare '%s': %s", req_raw_path(req),
                strerror(-err));
        respond_err(req, err);
    }
    ssync_recv_free(o->ssync);
    o->ssync = NULL;
    return 0;
}

static int ssync_end(struct request *req, struct obj_req *o)
{
    const char *answer;
    size_t len;
    int err = ssync_recv_finish(o->ssync, &answer, &len);

    if (err)
        return ssync_refuse(req, o, err);
    req_add_header(req, "Content-Type", "text/plain");
    return req_respond(req, 200, answer, len);
}

/* ---- routing ---- */

static const struct {
    const char *name;
    enum method method;
} methods[] = {
    {"GET", M_GET},     {"HEAD", M_HEAD},     {"PUT", M_PUT},
    {"POST", M_POST},   {"DELETE", M_DELETE}, {"REPLICATE", M_REPLICATE},
    {"SSYNC", M_SSYNC},
};

static int on_headers(struct request *req, void *arg)
{
    struct obj_server *srv = arg;
    struct obj_req *o;
    size_t i;

    for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
        if (!strcmp(req_method(req), methods[i].name))
            break;
    if (i == sizeof(methods) / sizeof(methods[0])) {
        req_add_header(req, "Allow",
                       "DELETE, GET, HEAD, POST, PUT, REPLICATE, SSYNC");
        return req_respond_error(req, 405);
    }
    o = calloc(1, sizeof(*o));
    if (!o)
        return req_respond_error(req, 503);
    o->srv = srv;
    o->method = methods[i].method;
    o->fsize = -1;
    o->replication = header_true(req, "X-Backend-Replication");
    req_set_ctx(req, o);
    if (o->method == M_REPLICATE)
        return do_replicate(req, o);
    if (o->method == M_SSYNC)
        return ssync_headers(req, o);
    if (parse_path(req, o))
        return 0;
    switch (o->method) {
    case M_GET:
    case M_HEAD: return do_get(req, o);
    case M_PUT: return put_headers(req, o);
    case M_POST: return do_post(req, o);
    case M_DELETE: return do_delete(req, o);
    case M_REPLICATE:
    case M_SSYNC: break;
    }
    return -EINVAL;
}

static int on_body(struct request *req, const char *data, size_t len, void *arg)
{
    struct obj_req *o = req_ctx(req);

    (void)arg;
    if (o && o->ssync) {
        int err = ssync_recv_feed(o->ssync, data, len);

        return err ? ssync_refuse(req, o, err) : 0;
    }
    if (!o || o->method != M_PUT)
        return 0;
    return put_body(req, o, data, len);
}

static int on_end(struct request *req, void *arg)
{
    struct obj_req *o = req_ctx(req);

    (void)arg;
    if (o && o->ssync)
        return ssync_end(req, o);
    if (!o || o->method != M_PUT || !o->w)
        return -EINVAL; /* every other path answered in on_headers */
    return put_end(req, o);
}

static void on_done(struct request *req, bool ok, void *arg)
{
    struct obj_req *o = req_ctx(req);

    (void)ok;
    (void)arg;
    if (!o)
        return;
    diskfile_writer_free(o->w); /* removes an uncommitted temp file */
    mime_footer_free(o->mime);
    json_decref(o->footer);
    ssync_recv_free(o->ssync);
    diskfile_free(o->df);
    free(o->names);
    free(o);
}

int obj_server_new(const struct obj_server_conf *conf,
                   const struct hash_path_conf *hash_conf,
                   struct obj_server **out)
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
    struct obj_server *srv = calloc(1, sizeof(*srv));
    struct http_handler api = {
        .on_headers = on_headers,
        .on_body = on_body,
        .on_end = on_end,
        .on_done = on_done,
        .arg = srv,
    };
    int err;

    *out = NULL;
    if (!srv)
        return -ENOMEM;
    srv->conf = conf;
    srv->dconf.devices = conf->devices;
    srv->dconf.mount_check = conf->mount_check;
    srv->dconf.fallocate_reserve = conf->fallocate_reserve;
    diskfile_io_set_fsync_io_uring(conf->fsync_io_uring);
    srv->dconf.hash_conf = hash_conf;
    err = http_client_new(&cc, &srv->client);
    if (!err)
        err = recon_server_new(&rconf, &api, &srv->recon);
    if (err) {
        obj_server_free(srv);
        return err;
    }
    *out = srv;
    return 0;
}

void obj_server_free(struct obj_server *srv)
{
    if (!srv)
        return;
    recon_server_free(srv->recon);
    http_client_free(srv->client);
    free(srv);
}

void obj_server_handler(struct obj_server *srv, struct http_handler *h)
{
    recon_server_handler(srv->recon, h);
}
