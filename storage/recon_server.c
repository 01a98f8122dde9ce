/*
 * recon_server.c - GET /recon/<what> (recon_server.h): Swift's recon
 * middleware, its checks as rows of one table.
 *
 * Owns the answers' shapes and where each fact comes from: the recon
 * cache files (read whole per request; the daemons replace them
 * atomically, so a reader never sees half a file), the device
 * directories, the rings and swift.conf, and /proc. It writes nothing.
 * What the daemons put in the cache files is theirs (doc/replication.md
 * §7).
 */
#include "storage/recon_server.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "storage/devices.h"
#include "storage/file_md5.h"
#include "storage/policies.h"

struct recon_server {
    char *devices;
    char *swift_dir;
    char *cache_path;
    bool mount_check;
    struct http_handler inner;
};

/* How a check treats the path's third segment, Swift's rtype. */
enum recon_type {
    TYPE_ANY,  /* ignored: /recon/load/anything is /recon/load */
    TYPE_NONE, /* must be absent: /recon/replication (old style) */
    TYPE_EQ,   /* must be route->type */
};

#define RECON_MAX_KEYS 6

struct recon_route {
    const char *check; /* the second segment: "replication" */
    enum recon_type match;
    const char *type; /* TYPE_EQ */
    json_t *(*get)(const struct recon_server *r, const struct recon_route *rt);
    /* cache checks: the file (<cache>/<file>.recon) and its keys */
    const char *file;
    const char *keys[RECON_MAX_KEYS];
};

/* ---- the recon cache ---- */

/* Swift's _from_recon_cache(): each key's value, null when the file or
 * the key is missing or the file is not a JSON object. */
static json_t *get_cache(const struct recon_server *r,
                         const struct recon_route *rt)
{
    char path[4096];
    json_t *doc = NULL, *out = json_object();

    if (!out)
        return NULL;
    if (!recon_path(path, sizeof(path), r->cache_path, rt->file))
        doc = recon_read(path);
    for (size_t i = 0; i < RECON_MAX_KEYS && rt->keys[i]; i++) {
        json_t *v = doc ? json_object_get(doc, rt->keys[i]) : NULL;

        if (json_object_set(out, rt->keys[i], v ? v : json_null())) {
            json_decref(out);
            out = NULL;
            break;
        }
    }
    json_decref(doc);
    return out;
}

/* replication/object: Swift's object replicator writes each figure twice,
 * replication_time/_last and object_replication_time/_last, and
 * swift-recon reads the first spelling; kura-replicator writes only the
 * second, so it is served under both. */
static json_t *get_obj_replication(const struct recon_server *r,
                                   const struct recon_route *rt)
{
    static const char *const alias[][2] = {
        {"replication_time", "object_replication_time"},
        {"replication_last", "object_replication_last"},
    };
    json_t *out = get_cache(r, rt);

    for (size_t i = 0; out && i < sizeof(alias) / sizeof(alias[0]); i++) {
        json_t *v = json_object_get(out, alias[i][1]);

        if (json_is_null(json_object_get(out, alias[i][0])) && v &&
            json_object_set(out, alias[i][0], v)) {
            json_decref(out);
            out = NULL;
        }
    }
    return out;
}

/* ---- the devices ---- */

typedef int (*device_fn)(const struct recon_server *r, const char *dev,
                         const char *path, void *arg);

/* Calls fn for each directory in <devices> (in readdir order, as Swift's
 * os.listdir()); stops at a non-zero return and returns it. A devices
 * directory that cannot be read has no devices. */
static int foreach_device(const struct recon_server *r, device_fn fn, void *arg)
{
    DIR *d = opendir(r->devices);
    struct dirent *e;
    int err = 0;

    if (!d)
        return 0;
    while (!err && (e = readdir(d))) {
        char path[4096];
        struct stat st;

        if (e->d_name[0] == '.')
            continue;
        if ((size_t)snprintf(path, sizeof(path), "%s/%s", r->devices,
                             e->d_name) >= sizeof(path) ||
            stat(path, &st) || !S_ISDIR(st.st_mode))
            continue;
        err = fn(r, e->d_name, path, arg);
    }
    closedir(d);
    return err;
}

/* Entries of 'path' but . and ..; -errno when it cannot be read. */
static int64_t count_entries(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *e;
    int64_t n = 0;

    if (!d)
        return -errno;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

/* Calls fn(path of each entry) for the entries of 'dir' whose name starts
 * with 'prefix'. */
static void foreach_entry(const char *dir, const char *prefix,
                          void (*fn)(const char *path, const char *name,
                                     void *arg),
                          void *arg)
{
    DIR *d = opendir(dir);
    struct dirent *e;

    if (!d)
        return;
    while ((e = readdir(d))) {
        char path[4096];

        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
            strncmp(e->d_name, prefix, strlen(prefix)))
            continue;
        if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) <
            sizeof(path))
            fn(path, e->d_name, arg);
    }
    closedir(d);
}

/* Swift's check_mount() as recon reports it: true, false (not a mount
 * point), or why the device could not be checked. Without mount_check a
 * device is a plain directory (the all-in-one's), so it counts mounted:
 * the servers write there. */
static json_t *mount_state(const struct recon_server *r, const char *path)
{
    struct stat st;

    if (stat(path, &st))
        return json_string(strerror(errno));
    return json_boolean(!r->mount_check || devices_is_mount(path));
}

/* ---- async pendings ---- */

static void add_count(const char *path, const char *name, void *arg)
{
    int64_t n = count_entries(path);

    (void)name;
    if (n > 0)
        *(int64_t *)arg += n;
}

static void count_suffixes(const char *path, const char *name, void *arg)
{
    (void)name;
    foreach_entry(path, "", add_count, arg);
}

static int count_async(const struct recon_server *r, const char *dev,
                       const char *path, void *arg)
{
    (void)r;
    (void)dev;
    /* <dev>/async_pending[-N]/<suffix>/<hash>-<timestamp> */
    foreach_entry(path, "async_pending", count_suffixes, arg);
    return 0;
}

/* The cache's async_pending (written by the updater's sweep), else a
 * count of the async pending files now on the devices. */
static json_t *get_async(const struct recon_server *r,
                         const struct recon_route *rt)
{
    json_t *out = get_cache(r, rt);
    int64_t n = 0;

    if (!out || !json_is_null(json_object_get(out, "async_pending")))
        return out;
    foreach_device(r, count_async, &n);
    if (json_object_set_new(out, "async_pending", json_integer(n))) {
        json_decref(out);
        return NULL;
    }
    return out;
}

/* ---- quarantined ---- */

struct qcounts {
    int64_t objects, containers, accounts;
    json_t *policies;
    int err;
};

static void count_quarantined(const char *path, const char *qtype, void *arg)
{
    struct qcounts *q = arg;
    int64_t n = count_entries(path);
    const char *pkey;
    json_t *p;

    if (n <= 0)
        return;
    if (!strcmp(qtype, "containers")) {
        q->containers += n;
        return;
    }
    if (!strcmp(qtype, "accounts")) {
        q->accounts += n;
        return;
    }
    if (strcmp(qtype, "objects") && strncmp(qtype, "objects-", 8))
        return; /* not one of Swift's quarantine types */
    pkey = qtype[7] ? qtype + 8 : "0";
    q->objects += n;
    p = json_object_get(q->policies, pkey);
    if (!p) {
        p = json_pack("{s:I}", "objects", (json_int_t)0);
        if (!p || json_object_set_new(q->policies, pkey, p)) {
            q->err = -ENOMEM;
            return;
        }
    }
    json_object_set_new(
        p, "objects",
        json_integer(json_integer_value(json_object_get(p, "objects")) + n));
}

static int quarantine_dev(const struct recon_server *r, const char *dev,
                          const char *path, void *arg)
{
    char qpath[4096];

    (void)r;
    (void)dev;
    if ((size_t)snprintf(qpath, sizeof(qpath), "%s/quarantined", path) <
        sizeof(qpath))
        foreach_entry(qpath, "", count_quarantined, arg);
    return ((struct qcounts *)arg)->err;
}

/* Swift counts the links of each quarantined/<type> directory, one per
 * subdirectory; we count the entries, which is the same on ext4 and XFS
 * and also right on filesystems whose directories keep one link. */
static json_t *get_quarantined(const struct recon_server *r,
                               const struct recon_route *rt)
{
    struct qcounts q = {.policies = json_object()};

    (void)rt;
    if (!q.policies || foreach_device(r, quarantine_dev, &q)) {
        json_decref(q.policies);
        return NULL;
    }
    return json_pack("{s:I, s:I, s:I, s:o}", "objects", (json_int_t)q.objects,
                     "containers", (json_int_t)q.containers, "accounts",
                     (json_int_t)q.accounts, "policies", q.policies);
}

/* ---- disk usage, mounts ---- */

static int usage_dev(const struct recon_server *r, const char *dev,
                     const char *path, void *arg)
{
    json_t *mounted = mount_state(r, path), *entry;
    struct statvfs vfs;

    if (!mounted)
        return -ENOMEM;
    if (json_is_true(mounted) && statvfs(path, &vfs)) {
        json_decref(mounted);
        mounted = json_string(strerror(errno));
    }
    if (json_is_true(mounted))
        entry = json_pack(
            "{s:s, s:o, s:I, s:I, s:I}", "device", dev, "mounted", mounted,
            "size", (json_int_t)(vfs.f_frsize * vfs.f_blocks), "used",
            (json_int_t)(vfs.f_frsize * (vfs.f_blocks - vfs.f_bavail)), "avail",
            (json_int_t)(vfs.f_frsize * vfs.f_bavail));
    else
        entry = json_pack("{s:s, s:o, s:s, s:s, s:s}", "device", dev, "mounted",
                          mounted, "size", "", "used", "", "avail", "");
    return entry && !json_array_append_new(arg, entry) ? 0 : -ENOMEM;
}

/* The array of what fn appends for each device; NULL on failure. */
static json_t *device_array(const struct recon_server *r, device_fn fn)
{
    json_t *out = json_array();

    if (out && foreach_device(r, fn, out)) {
        json_decref(out);
        return NULL;
    }
    return out;
}

static json_t *get_diskusage(const struct recon_server *r,
                             const struct recon_route *rt)
{
    (void)rt;
    return device_array(r, usage_dev);
}

static int unmounted_dev(const struct recon_server *r, const char *dev,
                         const char *path, void *arg)
{
    json_t *mounted = mount_state(r, path);

    if (!mounted)
        return -ENOMEM;
    if (json_is_true(mounted)) {
        json_decref(mounted);
        return 0;
    }
    return json_array_append_new(
               arg, json_pack("{s:s, s:o}", "device", dev, "mounted", mounted))
               ? -ENOMEM
               : 0;
}

static json_t *get_unmounted(const struct recon_server *r,
                             const struct recon_route *rt)
{
    (void)rt;
    return device_array(r, unmounted_dev);
}

static json_t *get_devices(const struct recon_server *r,
                           const struct recon_route *rt)
{
    json_t *names = json_array();
    DIR *d = opendir(r->devices);
    struct dirent *e;

    (void)rt;
    if (!names) {
        if (d)
            closedir(d);
        return NULL;
    }
    if (!d) {
        json_decref(names);
        return json_pack("{s:n}", r->devices);
    }
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            json_array_append_new(names, json_string(e->d_name));
    closedir(d);
    return json_pack("{s:o}", r->devices, names);
}

/* ---- rings and swift.conf ---- */

/* 'path': its md5, null when it cannot be read. */
static int add_md5(json_t *out, const char *path)
{
    char hex[33];

    return json_object_set_new(
        out, path, file_md5_path(path, hex) ? json_null() : json_string(hex));
}

/* The md5 of each ring file there is: account, container and the object
 * ring of every storage policy in swift.conf. */
static json_t *get_ringmd5(const struct recon_server *r,
                           const struct recon_route *rt)
{
    struct policies pol = {0};
    json_t *out = json_object();
    char path[4096];
    int err;

    (void)rt;
    err = out ? policies_load(r->swift_dir, &pol) : -ENOMEM;
    for (size_t i = 0; !err && i < 2 + pol.n; i++) {
        if (i < 2)
            snprintf(path, sizeof(path), "%s/%s.ring.gz", r->swift_dir,
                     i ? "container" : "account");
        else if (pol.items[i - 2].index == 0)
            snprintf(path, sizeof(path), "%s/object.ring.gz", r->swift_dir);
        else
            snprintf(path, sizeof(path), "%s/object-%u.ring.gz", r->swift_dir,
                     pol.items[i - 2].index);
        if (!access(path, F_OK))
            err = add_md5(out, path);
    }
    policies_release(&pol);
    if (err) {
        json_decref(out);
        return NULL;
    }
    return out;
}

static json_t *get_swiftconfmd5(const struct recon_server *r,
                                const struct recon_route *rt)
{
    json_t *out = json_object();
    char path[4096];

    (void)rt;
    snprintf(path, sizeof(path), "%s/swift.conf", r->swift_dir);
    if (out && add_md5(out, path)) {
        json_decref(out);
        return NULL;
    }
    return out;
}

/* ---- the host: /proc, time, version ---- */

static json_t *get_load(const struct recon_server *r,
                        const struct recon_route *rt)
{
    double l1, l5, l15;
    char tasks[64];
    long long procs;
    FILE *f = fopen("/proc/loadavg", "r");
    int n;

    (void)r;
    (void)rt;
    if (!f)
        return NULL;
    n = fscanf(f, "%lf %lf %lf %63s %lld", &l1, &l5, &l15, tasks, &procs);
    fclose(f);
    if (n != 5)
        return NULL;
    return json_pack("{s:f, s:f, s:f, s:s, s:I}", "1m", l1, "5m", l5, "15m",
                     l15, "tasks", tasks, "processes", (json_int_t)procs);
}

/* Strips leading and trailing blanks in place. */
static char *strip(char *s)
{
    char *end;

    while (*s == ' ' || *s == '\t')
        s++;
    end = s + strlen(s);
    while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n'))
        *--end = '\0';
    return s;
}

static json_t *get_mem(const struct recon_server *r,
                       const struct recon_route *rt)
{
    FILE *f = fopen("/proc/meminfo", "r");
    json_t *out = json_object();
    char line[256];

    (void)r;
    (void)rt;
    if (!f || !out) {
        if (f)
            fclose(f);
        json_decref(out);
        return NULL;
    }
    while (fgets(line, sizeof(line), f)) {
        char *colon = strchr(line, ':');

        if (!colon)
            continue;
        *colon = '\0';
        json_object_set_new(out, line, json_string(strip(colon + 1)));
    }
    fclose(f);
    return out;
}

static json_t *get_mounted(const struct recon_server *r,
                           const struct recon_route *rt)
{
    FILE *f = fopen("/proc/mounts", "r");
    json_t *out = json_array();
    char dev[1024], path[1024];

    (void)r;
    (void)rt;
    if (!f || !out) {
        if (f)
            fclose(f);
        json_decref(out);
        return NULL;
    }
    while (fscanf(f, "%1023s %1023s %*[^\n]", dev, path) == 2)
        json_array_append_new(
            out, json_pack("{s:s, s:s}", "device", dev, "path", path));
    fclose(f);
    return out;
}

/* Swift's get_socket_info(): TCP counts from /proc/net/sockstat[6], the
 * memory (kernel pages) in bytes. */
static json_t *get_sockstat(const struct recon_server *r,
                            const struct recon_route *rt)
{
    long long inuse, orphan, tw, alloc, mem, inuse6;
    json_t *out = json_object();
    char line[256];
    FILE *f;

    (void)r;
    (void)rt;
    if (!out)
        return NULL;
    if ((f = fopen("/proc/net/sockstat", "r"))) {
        while (fgets(line, sizeof(line), f))
            if (sscanf(line,
                       "TCP: inuse %lld orphan %lld tw %lld alloc %lld "
                       "mem %lld",
                       &inuse, &orphan, &tw, &alloc, &mem) == 5) {
                json_object_set_new(out, "tcp_in_use", json_integer(inuse));
                json_object_set_new(out, "orphan", json_integer(orphan));
                json_object_set_new(out, "time_wait", json_integer(tw));
                json_object_set_new(
                    out, "tcp_mem_allocated_bytes",
                    json_integer(mem * (long long)sysconf(_SC_PAGESIZE)));
            }
        fclose(f);
    }
    if ((f = fopen("/proc/net/sockstat6", "r"))) {
        while (fgets(line, sizeof(line), f))
            if (sscanf(line, "TCP6: inuse %lld", &inuse6) == 1)
                json_object_set_new(out, "tcp6_in_use", json_integer(inuse6));
        fclose(f);
    }
    return out;
}

static json_t *get_time(const struct recon_server *r,
                        const struct recon_route *rt)
{
    struct timespec ts;

    (void)r;
    (void)rt;
    clock_gettime(CLOCK_REALTIME, &ts);
    return json_real((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

static json_t *get_version(const struct recon_server *r,
                           const struct recon_route *rt)
{
    (void)r;
    (void)rt;
    return json_pack("{s:s}", "version", RECON_SERVER_VERSION);
}

/* ---- the checks ---- */

#define REPL_KEYS "replication_time", "replication_stats", "replication_last"
/* Kura's replication_progress: a refill's progress and ETA. */
#define OBJ_REPL_KEYS                                                          \
    REPL_KEYS, "object_replication_time", "object_replication_last",           \
        "replication_progress"

/* In Swift's order of GET(); the first match answers. */
static const struct recon_route routes[] = {
    {"mem", TYPE_ANY, NULL, get_mem, NULL, {NULL}},
    {"load", TYPE_ANY, NULL, get_load, NULL, {NULL}},
    {"async",
     TYPE_ANY,
     NULL,
     get_async,
     "object",
     {"async_pending", "async_pending_last"}},
    {"replication", TYPE_EQ, "account", get_cache, "account", {REPL_KEYS}},
    {"replication", TYPE_EQ, "container", get_cache, "container", {REPL_KEYS}},
    {"replication",
     TYPE_EQ,
     "object",
     get_obj_replication,
     "object",
     {OBJ_REPL_KEYS}},
    {"replication",
     TYPE_NONE,
     NULL,
     get_obj_replication,
     "object",
     {OBJ_REPL_KEYS}},
    {"devices", TYPE_ANY, NULL, get_devices, NULL, {NULL}},
    {"updater",
     TYPE_EQ,
     "container",
     get_cache,
     "container",
     {"container_updater_sweep"}},
    {"updater",
     TYPE_EQ,
     "object",
     get_cache,
     "object",
     {"object_updater_sweep"}},
    {"auditor",
     TYPE_EQ,
     "account",
     get_cache,
     "account",
     {"account_audits_passed", "account_auditor_pass_completed",
      "account_audits_since", "account_audits_failed"}},
    {"auditor",
     TYPE_EQ,
     "container",
     get_cache,
     "container",
     {"container_audits_passed", "container_auditor_pass_completed",
      "container_audits_since", "container_audits_failed"}},
    {"auditor",
     TYPE_EQ,
     "object",
     get_cache,
     "object",
     {"object_auditor_stats_ALL", "object_auditor_stats_ZBF"}},
    {"expirer",
     TYPE_EQ,
     "object",
     get_cache,
     "object",
     {"object_expiration_pass", "expired_last_pass"}},
    /* Kura's S3 lifecycle pass (cont_lifecycle.h) */
    {"lifecycle",
     TYPE_EQ,
     "container",
     get_cache,
     "container",
     {"container_lifecycle_expired", "container_lifecycle_raced",
      "container_lifecycle_errors", "container_lifecycle_containers",
      "container_lifecycle_since", "container_lifecycle_pass_completed"}},
    {"mounted", TYPE_ANY, NULL, get_mounted, NULL, {NULL}},
    {"unmounted", TYPE_ANY, NULL, get_unmounted, NULL, {NULL}},
    {"diskusage", TYPE_ANY, NULL, get_diskusage, NULL, {NULL}},
    {"ringmd5", TYPE_ANY, NULL, get_ringmd5, NULL, {NULL}},
    {"swiftconfmd5", TYPE_ANY, NULL, get_swiftconfmd5, NULL, {NULL}},
    {"quarantined", TYPE_ANY, NULL, get_quarantined, NULL, {NULL}},
    {"sockstat", TYPE_ANY, NULL, get_sockstat, NULL, {NULL}},
    {"version", TYPE_ANY, NULL, get_version, NULL, {NULL}},
    {"driveaudit", TYPE_ANY, NULL, get_cache, "drive", {"drive_audit_errors"}},
    {"time", TYPE_ANY, NULL, get_time, NULL, {NULL}},
    {"sharding",
     TYPE_ANY,
     NULL,
     get_cache,
     "container",
     {"sharding_stats", "sharding_time", "sharding_last"}},
    {"relinker", TYPE_ANY, NULL, get_cache, "relinker", {"devices", "workers"}},
    {"reconstruction",
     TYPE_EQ,
     "object",
     get_cache,
     "object",
     {"object_reconstruction_last", "object_reconstruction_time"}},
};

/* Swift's split_path(path, 1, 3, True) after "/recon/": the check, and
 * the rest after the next '/' (NULL when there is none). */
static const struct recon_route *find_route(const char *path)
{
    const char *check = path + strlen("/recon/");
    const char *slash = strchr(check, '/');
    size_t len = slash ? (size_t)(slash - check) : strlen(check);
    const char *type = slash ? slash + 1 : NULL;

    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        const struct recon_route *rt = &routes[i];

        if (strlen(rt->check) != len || strncmp(rt->check, check, len))
            continue;
        if (rt->match == TYPE_ANY || (rt->match == TYPE_NONE && !type) ||
            (rt->match == TYPE_EQ && type && !strcmp(type, rt->type)))
            return rt;
    }
    return NULL;
}

unsigned int recon_server_get(const struct recon_server *r, const char *path,
                              json_t **out)
{
    const struct recon_route *rt;

    *out = NULL;
    if (strncmp(path, "/recon/", strlen("/recon/")))
        return 404;
    rt = find_route(path);
    if (!rt)
        return 404;
    *out = rt->get(r, rt);
    return *out ? 200 : 500;
}

/* ---- the wrapping handler ---- */

static bool is_recon(const struct request *req)
{
    return !strncmp(req_path(req), "/recon/", strlen("/recon/"));
}

static int respond_text(struct request *req, unsigned int status,
                        const char *text)
{
    req_add_header(req, "Content-Type", "text/plain");
    return req_respond(req, status, text, strlen(text));
}

static int respond(const struct recon_server *r, struct request *req)
{
    unsigned int status = 0;
    json_t *content = NULL;
    char *body = NULL, *msg = NULL;
    int err;

    status = recon_server_get(r, req_path(req), &content);
    if (status == 404) {
        if (asprintf(&msg, "Invalid path: %s", req_path(req)) == -1)
            return req_respond_error(req, 503);
        err = respond_text(req, 404, msg);
        free(msg);
        return err;
    }
    if (content)
        body = json_dumps(content, JSON_ENCODE_ANY | JSON_REAL_PRECISION(16));
    json_decref(content);
    if (!body) {
        req_log(req, LOG_ERR, "cannot answer '%s'", req_path(req));
        return respond_text(req, 500, "Internal server error.");
    }
    req_add_header(req, "Content-Type", "application/json");
    err = req_respond(req, 200, body, strlen(body));
    free(body);
    return err;
}

static int on_headers(struct request *req, void *arg)
{
    struct recon_server *r = arg;

    if (is_recon(req))
        return respond(r, req);
    return r->inner.on_headers(req, r->inner.arg);
}

static int on_body(struct request *req, const char *data, size_t len, void *arg)
{
    struct recon_server *r = arg;

    if (is_recon(req) || !r->inner.on_body)
        return 0; /* dropped, as without an on_body */
    return r->inner.on_body(req, data, len, r->inner.arg);
}

static int on_end(struct request *req, void *arg)
{
    struct recon_server *r = arg;

    if (is_recon(req))
        return 0; /* answered in on_headers */
    return r->inner.on_end(req, r->inner.arg);
}

static void on_done(struct request *req, bool ok, void *arg)
{
    struct recon_server *r = arg;

    if (!is_recon(req) && r->inner.on_done)
        r->inner.on_done(req, ok, r->inner.arg);
}

int recon_server_new(const struct recon_server_conf *conf,
                     const struct http_handler *inner,
                     struct recon_server **out)
{
    struct recon_server *r = calloc(1, sizeof(*r));

    *out = NULL;
    if (!r)
        return -ENOMEM;
    r->devices = strdup(conf->devices);
    r->swift_dir = strdup(conf->swift_dir);
    r->cache_path = strdup(conf->recon_cache_path ? conf->recon_cache_path
                                                  : RECON_DEFAULT_CACHE_PATH);
    r->mount_check = conf->mount_check;
    r->inner = *inner;
    if (!r->devices || !r->swift_dir || !r->cache_path) {
        recon_server_free(r);
        return -ENOMEM;
    }
    *out = r;
    return 0;
}

void recon_server_free(struct recon_server *r)
{
    if (!r)
        return;
    free(r->devices);
    free(r->swift_dir);
    free(r->cache_path);
    free(r);
}

void recon_server_handler(struct recon_server *r, struct http_handler *h)
{
    *h = (struct http_handler){
        .on_headers = on_headers,
        .on_body = on_body,
        .on_end = on_end,
        .on_done = on_done,
        .arg = r,
    };
}
