/*
 * db_server.c - the request plumbing the container and account servers
 * share: paths, devices and their LevelDBs, timestamps, listing
 * parameters and formats, metadata headers, responses.
 * What a request does to a DB is the server's own (cont_server.c,
 * acct_server.c); how rows and stats are kept is contdb.c and acctdb.c.
 *
 * A device's LevelDB is opened by the first request that needs it and
 * stays open until the server is freed: LevelDB allows one opener per
 * directory, and opening costs a log replay, so a DB per request is not
 * an option. The table is small (devices per node) and grows under a
 * mutex; lookups take the same mutex briefly.
 */
#include "storage/db_server.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/log.h"
#include "common/timestamp.h"
#include "storage/devices.h"

struct db_dev {
    char *name;
    struct kvdb *kv;
};

struct db_server {
    char *devices;
    char *db_name;
    struct kvdb_opts db_opts; /* .cache is ours */
    bool mount_check;
    const struct hash_path_conf *hc;
    pthread_mutex_t lock;
    struct db_dev *devs;
    size_t n_devs;
};

int db_server_new(const char *devices, bool mount_check, const char *db_name,
                  const struct kvdb_opts *db_opts,
                  const struct hash_path_conf *hc, struct db_server **out)
{
    struct db_server *s;

    *out = NULL;
    s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->devices = strdup(devices);
    s->db_name = strdup(db_name);
    if (db_opts)
        s->db_opts = *db_opts;
    /* one block cache for every device: the server's memory does not
     * grow with its device count */
    s->db_opts.cache = kvdb_cache_new(
        s->db_opts.cache_bytes ? s->db_opts.cache_bytes : 8u << 20);
    if (!s->devices || !s->db_name || !s->db_opts.cache) {
        kvdb_cache_free(s->db_opts.cache);
        free(s->devices);
        free(s->db_name);
        free(s);
        return -ENOMEM;
    }
    s->mount_check = mount_check;
    s->hc = hc;
    pthread_mutex_init(&s->lock, NULL);
    *out = s;
    return 0;
}

void db_server_free(struct db_server *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_devs; i++) {
        kvdb_close(s->devs[i].kv);
        free(s->devs[i].name);
    }
    free(s->devs);
    kvdb_cache_free(s->db_opts.cache); /* after the DBs using it */
    pthread_mutex_destroy(&s->lock);
    free(s->devices);
    free(s->db_name);
    free(s);
}

const struct hash_path_conf *db_server_hash_conf(const struct db_server *s)
{
    return s->hc;
}

static struct kvdb *find_dev(struct db_server *s, const char *dev)
{
    for (size_t i = 0; i < s->n_devs; i++)
        if (!strcmp(s->devs[i].name, dev))
            return s->devs[i].kv;
    return NULL;
}

/* Opens <devices>/<dev>/<db_name> and adds it to the table; the caller
 * holds s->lock. */
static int open_dev(struct db_server *s, const char *dev, struct kvdb **out)
{
    struct db_dev *devs;
    char *path = NULL, *name = NULL;
    struct kvdb *kv = NULL;
    int err;

    if (asprintf(&path, "%s/%s/%s", s->devices, dev, s->db_name) == -1)
        return -ENOMEM;
    name = strdup(dev);
    devs = realloc(s->devs, (s->n_devs + 1) * sizeof(*devs));
    if (!name || !devs) {
        err = -ENOMEM;
        goto out;
    }
    s->devs = devs;
    err = kvdb_open(path, &s->db_opts, &kv);
    if (err)
        goto out;
    s->devs[s->n_devs].name = name;
    s->devs[s->n_devs].kv = kv;
    s->n_devs++;
    name = NULL;
    *out = kv;
out:
    free(name);
    free(path);
    return err;
}

int db_server_kvdb(struct db_server *s, const char *dev, struct kvdb **out)
{
    int err;

    *out = NULL;
    /* checked on every request, as Swift's check_drive: a disk unmounted
     * under a running server must turn into 507s, not writes to / */
    err = devices_check(s->devices, dev, s->mount_check);
    if (err)
        return err == -EINVAL ? -ENODEV : err;
    pthread_mutex_lock(&s->lock);
    *out = find_dev(s, dev);
    err = *out ? 0 : open_dev(s, dev, out);
    pthread_mutex_unlock(&s->lock);
    return err;
}

int db_server_foreach_kvdb(struct db_server *s,
                           int (*fn)(const char *dev, const char *path,
                                     struct kvdb *kv, void *arg),
                           void *arg)
{
    DIR *d = opendir(s->devices);
    struct dirent *e;
    int err = 0;

    if (!d)
        return -errno;
    while (!err && (e = readdir(d))) {
        struct kvdb *kv;
        struct stat st;
        char path[4096];
        int rc;

        if (e->d_name[0] == '.' ||
            (size_t)snprintf(path, sizeof(path), "%s/%s/%s", s->devices,
                             e->d_name, s->db_name) >= sizeof(path) ||
            stat(path, &st) || !S_ISDIR(st.st_mode))
            continue;
        rc = db_server_kvdb(s, e->d_name, &kv);
        if (rc) {
            log_warning("skipping device %s: %s", e->d_name,
                        rc == -ENODEV ? "not mounted" : strerror(-rc));
            continue;
        }
        path[strlen(path) - strlen(s->db_name) - 1] = '\0';
        err = fn(e->d_name, path, kv, arg);
    }
    closedir(d);
    return err;
}

/* ---- paths ---- */

void db_path_release(struct db_path *p)
{
    free(p->buf);
    memset(p, 0, sizeof(*p));
}

static int respond_bad_path(struct request *req, const char *what,
                            const char *val)
{
    char msg[1200];

    snprintf(msg, sizeof(msg), "Invalid %s: %.1024s", what, val);
    db_server_respond_text(req, 400, msg);
    return -EINVAL;
}

static bool valid_part(const char *s, uint32_t *part)
{
    uint64_t v = 0;

    if (!*s)
        return false;
    for (; *s; s++) {
        if (!isdigit((unsigned char)*s))
            return false;
        v = v * 10 + (uint64_t)(*s - '0');
        if (v > UINT32_MAX)
            return false;
    }
    *part = (uint32_t)v;
    return true;
}

int db_path_parse(struct request *req, int min_segs, int max_segs,
                  bool rest_with_last, struct db_path *out)
{
    const char *path = req_path(req);
    char *segs[5] = {0};
    char *p;
    int n = 0;

    memset(out, 0, sizeof(*out));
    out->buf = strdup(path);
    if (!out->buf)
        return -ENOMEM;
    p = out->buf;
    if (*p != '/')
        goto bad;
    p++;
    /* split_path(): with rest_with_last the last segment keeps its
     * slashes; empty segments before it are invalid */
    while (n < max_segs) {
        char *slash = n + 1 < max_segs ? strchr(p, '/') : NULL;

        segs[n++] = p;
        if (!slash)
            break;
        *slash = '\0';
        p = slash + 1;
    }
    if (n < min_segs)
        goto bad;
    if (!rest_with_last && n == max_segs && strchr(segs[n - 1], '/'))
        goto bad; /* more segments than allowed */
    for (int i = 0; i < n; i++)
        if (!*segs[i] && (i < min_segs || i + 1 < n))
            goto bad;
    if (n > min_segs && !*segs[n - 1])
        n--; /* "/d/p/a/c/" has no object */
    if (!devices_valid_name(segs[0])) {
        respond_bad_path(req, "device", segs[0]);
        db_path_release(out);
        return -EINVAL;
    }
    if (!valid_part(segs[1], &out->part)) {
        respond_bad_path(req, "partition", segs[1]);
        db_path_release(out);
        return -EINVAL;
    }
    out->dev = segs[0];
    out->account = n > 2 ? segs[2] : NULL;
    out->container = n > 3 ? segs[3] : NULL;
    out->obj = n > 4 ? segs[4] : NULL;
    return 0;
bad:
    db_path_release(out);
    return respond_bad_path(req, "path", req_raw_path(req));
}

/* Length of the UTF-8 sequence at 's' (1-4), 0 if invalid. Overlong
 * forms, surrogates and code points past U+10FFFF are invalid, as
 * Python's decoder has them. */
static size_t utf8_seq(const unsigned char *s)
{
    unsigned c = s[0];

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        return (s[1] & 0xc0) == 0x80 ? 2 : 0;
    if (c >= 0xe0 && c <= 0xef) {
        if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
            return 0;
        if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] >= 0xa0))
            return 0;
        return 3;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 ||
            (s[3] & 0xc0) != 0x80)
            return 0;
        if ((c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] >= 0x90))
            return 0;
        return 4;
    }
    return 0;
}

static bool utf8_ok(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    while (*p) {
        size_t n = utf8_seq(p);

        if (!n)
            return false;
        p += n;
    }
    return true;
}

bool db_server_path_ok(const char *path)
{
    /* http_unquote() refuses %00, so only the UTF-8 check is left */
    return utf8_ok(path);
}

void db_server_dispatch(struct request *req, const struct db_route *routes,
                        size_t n_routes, struct db_path *path, void *ctx)
{
    const struct db_route *r = NULL;
    int err;

    for (size_t i = 0; i < n_routes && !r; i++)
        if (!strcmp(req_method(req), routes[i].method))
            r = &routes[i];
    if (!db_server_path_ok(req_path(req))) {
        db_server_respond(req, 412, "Invalid UTF8 or contains NULL");
        return;
    }
    if (!r) {
        db_server_respond(req, 405, NULL);
        return;
    }
    err = db_path_parse(req, r->min_segs, r->max_segs, r->rest_with_last,
                        path);
    if (err == -EINVAL)
        return;
    if (err) {
        db_server_respond_err(req, err);
        return;
    }
    err = r->fn(ctx);
    db_path_release(path);
    if (err && !req_status(req))
        db_server_respond_err(req, err);
}

int db_server_on_headers(struct request *req, void *arg)
{
    (void)req;
    (void)arg;
    return 0;
}

int db_server_open(struct db_server *s, struct request *req,
                   const struct db_path *p, bool container, struct kvdb **kv,
                   unsigned char hash[16])
{
    int err;

    err = db_server_kvdb(s, p->dev, kv);
    if (!err)
        err = hash_path(s->hc, p->account, container ? p->container : NULL,
                        NULL, hash);
    if (err)
        db_server_respond_err(req, err);
    return err;
}

int db_server_timestamp(struct request *req, struct db_ts *out)
{
    const char *v = req_header(req, "X-Timestamp");
    struct timestamp ts;

    memset(out, 0, sizeof(*out));
    if (!v) {
        db_server_respond_text(req, 400, "Missing X-Timestamp header");
        return -EINVAL;
    }
    if (timestamp_parse(v, &ts)) {
        db_server_respond_text(req, 400, "Invalid X-Timestamp header");
        return -EINVAL;
    }
    out->raw = ts.ticks;
    out->offset = ts.offset;
    return 0;
}

/* ---- listings ---- */

/* Swift's get_param(): the value, 400 when it is not UTF-8. */
static int get_param(struct request *req, const char *name, const char **out)
{
    const char *v = req_param(req, name);
    char msg[128];

    *out = v;
    if (!v || utf8_ok(v))
        return 0;
    snprintf(msg, sizeof(msg), "\"%s\" parameter not valid UTF-8", name);
    db_server_respond_text(req, 400, msg);
    return -EINVAL;
}

static bool config_true(const char *v)
{
    static const char *const yes[] = {"true", "1", "yes", "on", "t", "y"};

    for (size_t i = 0; v && i < sizeof(yes) / sizeof(yes[0]); i++)
        if (!strcasecmp(v, yes[i]))
            return true;
    return false;
}

int db_server_listing_params(struct request *req, bool with_path,
                             struct listing_params *p)
{
    static const char *const names[] = {"prefix",     "delimiter", "marker",
                                        "end_marker", "path",      "format",
                                        "reverse",    "limit"};
    const char *v[8];
    size_t i;

    memset(p, 0, sizeof(*p));
    for (i = 0; i < 8; i++)
        if (get_param(req, names[i], &v[i]))
            return -EINVAL;
    p->prefix = v[0];
    p->delimiter = v[1] && *v[1] ? v[1] : NULL;
    p->marker = v[2];
    p->end_marker = v[3];
    p->path = with_path ? v[4] : NULL;
    p->reverse = config_true(v[6]);
    p->limit = LISTING_LIMIT;
    if (v[7] && *v[7]) {
        bool digits = true;

        for (i = 0; v[7][i]; i++)
            digits = digits && isdigit((unsigned char)v[7][i]);
        if (digits) { /* constrain_req_limit(): anything else is ignored */
            unsigned long long n;

            errno = 0;
            n = strtoull(v[7], NULL, 10);
            if (errno || n > LISTING_LIMIT) {
                db_server_respond(req, 412, "Maximum limit is 10000");
                return -EINVAL;
            }
            p->limit = (size_t)n;
        }
    }
    if (listing_params_check(p)) {
        db_server_respond(req, 412, "Bad delimiter");
        return -EINVAL;
    }
    return 0;
}

/* One media range of an Accept header. */
struct accept_range {
    char type[64], sub[64];
    double q;
    bool exact; /* no '*' in it: sorts before globs of the same q */
};

static void trim(char *s)
{
    size_t n = strlen(s), i = 0;

    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    while (isspace((unsigned char)s[i]))
        i++;
    memmove(s, s + i, n - i + 1);
}

/* Parses one "type/sub;q=0.5" range as swob's Accept does. Returns 0 or
 * -EINVAL. */
static int parse_range(char *item, struct accept_range *r)
{
    char *params = strchr(item, ';');
    char *slash, *save = NULL;
    bool seen_q = false;

    r->q = 1.0;
    if (params) {
        *params++ = '\0';
        for (char *tok = strtok_r(params, ";", &save); tok;
             tok = strtok_r(NULL, ";", &save)) {
            char *eq = strchr(tok, '='), *end;

            if (!eq)
                return -EINVAL;
            *eq = '\0';
            trim(tok);
            trim(eq + 1);
            if (strcmp(tok, "q"))
                continue;
            if (seen_q)
                return -EINVAL;
            seen_q = true;
            r->q = strtod(eq + 1, &end);
            if (end == eq + 1 || *end)
                return -EINVAL;
        }
    }
    trim(item);
    slash = strchr(item, '/');
    if (!slash || slash == item || !slash[1] || strchr(slash + 1, '/') ||
        strpbrk(item, " \t()<>@:\"[]?={}") || strlen(item) >= sizeof(r->type))
        return -EINVAL;
    *slash = '\0';
    snprintf(r->type, sizeof(r->type), "%s", item);
    snprintf(r->sub, sizeof(r->sub), "%s", slash + 1);
    r->exact = strcmp(r->type, "*") && strcmp(r->sub, "*");
    return 0;
}

static bool range_matches(const struct accept_range *r, const char *offer)
{
    const char *slash = strchr(offer, '/');
    size_t tlen = (size_t)(slash - offer);

    if (strcmp(r->type, "*") &&
        (strlen(r->type) != tlen || strncmp(r->type, offer, tlen)))
        return false;
    return !strcmp(r->sub, "*") || !strcmp(r->sub, slash + 1);
}

static bool range_before(const struct accept_range *a,
                         const struct accept_range *b)
{
    return a->q > b->q || (a->q == b->q && a->exact && !b->exact);
}

/* swob's Accept.best_match(): ranges sorted by q, then exact before
 * globs (stable), and the first offer the first range matches. An empty
 * header takes the first offer; *out NULL: nothing acceptable (406).
 * Returns 0, -EINVAL (malformed: 400) or -ENOMEM. */
static int best_match(const char *accept, const char *const *offers,
                      size_t n_offers, const char **out)
{
    struct accept_range ranges[32], tmp;
    size_t n = 0;
    char *copy, *it, *next;
    int err = 0;

    *out = NULL;
    if (!*accept) {
        *out = offers[0];
        return 0;
    }
    copy = strdup(accept);
    if (!copy)
        return -ENOMEM;
    for (it = copy; it && n < 32; it = next) {
        next = strchr(it, ',');
        if (next)
            *next++ = '\0';
        err = parse_range(it, &ranges[n]);
        if (err)
            goto out;
        /* insertion sort, stable */
        tmp = ranges[n];
        size_t j = n++;
        for (; j > 0 && range_before(&tmp, &ranges[j - 1]); j--)
            ranges[j] = ranges[j - 1];
        ranges[j] = tmp;
    }
    for (size_t i = 0; i < n && !*out; i++)
        for (size_t j = 0; j < n_offers && !*out; j++)
            if (range_matches(&ranges[i], offers[j]))
                *out = offers[j];
out:
    free(copy);
    return err;
}

int db_server_listing_format(struct request *req, enum listing_fmt *fmt,
                             const char **ctype)
{
    static const char *const offers[] = {"text/plain", "application/json",
                                         "application/xml", "text/xml"};
    const char *format, *accept, *match;
    int err;

    err = get_param(req, "format", &format);
    if (err)
        return err;
    accept = req_header(req, "Accept");
    if (format && *format) {
        if (!strcasecmp(format, "json"))
            accept = "application/json";
        else if (!strcasecmp(format, "xml"))
            accept = "application/xml";
        else
            accept = "text/plain";
    }
    if (!accept)
        accept = ""; /* swob: no header, the first offer */
    err = best_match(accept, offers, 4, &match);
    if (err == -ENOMEM)
        return err;
    if (err) {
        db_server_respond(req, 400, "Invalid Accept header");
        return -EINVAL;
    }
    if (!match) {
        db_server_respond(req, 406, NULL);
        return -EINVAL;
    }
    *ctype = match;
    *fmt = !strcmp(match, "application/json") ? LISTING_JSON
           : strcmp(match, "text/plain")      ? LISTING_XML
                                              : LISTING_PLAIN;
    return 0;
}

/* ---- metadata ---- */

struct meta_walk {
    struct request *req;
    const char *meta, *sysmeta; /* "x-container-meta-", "...-sysmeta-" */
    const char *const *extra;
    const struct db_ts *ts;
    struct db_meta *out;
    int err;
};

static bool wanted(const struct meta_walk *w, const char *lname)
{
    size_t ml = strlen(w->meta), sl = strlen(w->sysmeta);

    if ((!strncmp(lname, w->meta, ml) && lname[ml]) ||
        (!strncmp(lname, w->sysmeta, sl) && lname[sl]))
        return true;
    for (size_t i = 0; w->extra && w->extra[i]; i++)
        if (!strcmp(lname, w->extra[i]))
            return true;
    return false;
}

/* The header name as WSGI hands it to Swift: '_' read as '-', then
 * str.title(). */
static void title_case(char *s)
{
    bool up = true;

    for (; *s; s++) {
        if (*s == '_')
            *s = '-';
        if (isalpha((unsigned char)*s)) {
            *s = (char)(up ? toupper((unsigned char)*s)
                           : tolower((unsigned char)*s));
            up = false;
        } else {
            up = true;
        }
    }
}

static int meta_header(const char *name, const char *value, void *arg)
{
    struct meta_walk *w = arg;
    char *key;
    int err = 0;

    key = strdup(name);
    if (!key) {
        w->err = -ENOMEM;
        return 1;
    }
    for (size_t i = 0; key[i]; i++)
        key[i] = (char)tolower((unsigned char)(key[i] == '_' ? '-' : key[i]));
    if (!wanted(w, key))
        goto out;
    /* lengths per header are the proxy's check (constraints.py); the
     * backend checks only the merged map, as validate_metadata() */
    if (!utf8_ok(value) || !utf8_ok(name)) {
        db_server_respond(w->req, 400, "Metadata must be valid UTF-8");
        err = -EINVAL;
        goto out;
    }
    title_case(key);
    if (db_meta_set(w->out, key, value, w->ts) < 0)
        err = -ENOMEM;
out:
    free(key);
    w->err = err;
    return err ? 1 : 0;
}

int db_server_request_meta(struct request *req, const char *type,
                           const char *const *extra, const struct db_ts *ts,
                           struct db_meta *out)
{
    char meta[64], sysmeta[64];
    struct meta_walk w = {.req = req,
                          .meta = meta,
                          .sysmeta = sysmeta,
                          .extra = extra,
                          .ts = ts,
                          .out = out};

    snprintf(meta, sizeof(meta), "x-%s-meta-", type);
    snprintf(sysmeta, sizeof(sysmeta), "x-%s-sysmeta-", type);
    req_foreach_header(req, meta_header, &w);
    return w.err;
}

static size_t utf8_chars(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

int db_server_respond_meta_invalid(struct request *req,
                                   const struct db_meta *current,
                                   const struct db_meta *updates)
{
    struct db_meta m = {0};
    size_t count = 0, size = 0;
    int err;

    err = db_meta_merge(&m, current) < 0 || db_meta_merge(&m, updates) < 0
              ? -ENOMEM
              : 0;
    for (size_t i = 0; !err && i < m.n; i++) {
        const char *k = m.items[i].key;
        size_t plen = !strncasecmp(k, "x-account-meta-", 15)     ? 15
                      : !strncasecmp(k, "x-container-meta-", 17) ? 17
                                                                 : 0;

        if (!plen || !m.items[i].value[0])
            continue;
        count++;
        size += utf8_chars(k + plen) + utf8_chars(m.items[i].value);
    }
    db_meta_release(&m);
    if (err)
        return db_server_respond(req, 503, NULL);
    if (count > DB_META_MAX_COUNT)
        return db_server_respond(req, 400, "Too many metadata items; max 90");
    return db_server_respond(req, 400, "Total metadata too large; max 4096");
}

static void respond_meta_invalid(struct request *req,
                                 const struct db_meta_store *store,
                                 const struct db_meta *updates)
{
    struct db_meta current = {0};

    store->read(store->db, &current);
    db_server_respond_meta_invalid(req, &current, updates);
    db_meta_release(&current);
}

int db_server_update_meta(struct request *req, const char *type,
                          const char *const *extra, const struct db_ts *ts,
                          const struct db_meta_store *store)
{
    struct db_meta m = {0};
    int err;

    err = db_server_request_meta(req, type, extra, ts, &m);
    if (!err && m.n) {
        err = store->update(store->db, &m);
        if (err == -EINVAL)
            respond_meta_invalid(req, store, &m);
        else if (err)
            db_server_respond_err(req, err);
    } else if (err == -ENOMEM) {
        db_server_respond_err(req, err);
    }
    db_meta_release(&m);
    return err;
}

int db_server_add_meta(struct request *req, const struct db_meta *m)
{
    for (size_t i = 0; i < m->n; i++) {
        if (!m->items[i].value[0])
            continue;
        int err = req_add_header(req, m->items[i].key, m->items[i].value);

        if (err && err != -EINVAL) /* a stored CR/LF is not sent */
            return err;
    }
    return 0;
}

int db_server_add_ts(struct request *req, const char *name,
                     const struct db_ts *ts, bool internal)
{
    struct timestamp t = {.ticks = ts->raw, .offset = ts->offset};
    char buf[TIMESTAMP_INTERNAL_SIZE + TIMESTAMP_NORMAL_SIZE];

    if (internal)
        timestamp_internal(&t, buf);
    else
        timestamp_normal(&t, buf);
    return req_add_header(req, name, buf);
}

int db_server_add_int(struct request *req, const char *name, int64_t v)
{
    char buf[32];

    snprintf(buf, sizeof(buf), "%" PRId64, v);
    return req_add_header(req, name, buf);
}

/* ---- responses ---- */

int db_server_respond(struct request *req, unsigned int status,
                      const char *body)
{
    if (!body)
        return req_respond_error(req, status);
    /* swob's default Content-Type, as Swift's HTTPBadRequest(body=...) */
    return req_respond(req, status, body, strlen(body));
}

int db_server_respond_text(struct request *req, unsigned int status,
                           const char *body)
{
    req_add_header(req, "Content-Type", "text/plain");
    return req_respond(req, status, body, strlen(body));
}

int db_server_respond_body(struct request *req, unsigned int status,
                           const char *ctype, const char *body, size_t len)
{
    char ct[96];

    snprintf(ct, sizeof(ct), "%s; charset=utf-8", ctype);
    req_add_header(req, "Content-Type", ct);
    return req_respond(req, status, body, len);
}

unsigned int db_server_status_from_err(int err)
{
    switch (err) {
    case -ENOENT: return 404;
    case -EINVAL: return 400;
    case -ENODEV: /* 507 sends the proxy to a handoff */
    case -ENOSPC: return 507;
    default: return 500;
    }
}

int db_server_respond_err(struct request *req, int err)
{
    return db_server_respond(req, db_server_status_from_err(err), NULL);
}

bool db_server_header_true(struct request *req, const char *name)
{
    return config_true(req_header(req, name));
}
