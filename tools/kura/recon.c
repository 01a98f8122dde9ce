/*
 * recon.c - 'kura recon': asks every storage server in the rings for its
 * GET /recon/... answers (storage/recon_server.c) and prints the summary
 * swift-recon prints (low/high/avg/total over the hosts, failures, ring
 * md5s against the local rings), plus Kura's refill progress and ETA
 * from replication_progress. --json prints the raw answers per host
 * instead. The servers own the data; this file only fetches and sums.
 *
 *   kura recon [--swift-dir DIR] [-r] [-a] [-q] [-d] [--md5] [-u] [-l]
 *              [-T] [--auditor] [--expirer] [--updater] [--all] [--json]
 *              [--timeout S] [object|container|account ...]
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ring/ring.h"
#include "storage/file_md5.h"
#include "storage/policies.h"
#include "tools/kura/cmd.h"
#include "tools/kura/fanout.h"

#define RECON_CONCURRENCY 30 /* swift-recon's pool size */
#define RECON_RULE                                                             \
    "==============================================================="          \
    "================"

struct host {
    char *ip;
    int port;
};

struct recon_opts {
    const char *swift_dir;
    unsigned int timeout; /* seconds */
    bool json;
    bool all;
    unsigned int checks; /* CHECK_* */
    const char *types[3];
    size_t n_types;
};

/* One run over the hosts of one server type. */
struct recon_run {
    const struct recon_opts *o;
    const char *type; /* "object", "container", "account" */
    struct http_client *client;
    struct host *hosts;
    size_t n_hosts;
    json_t *raw; /* --json: {"hosts": {...}, "errors": {...}} */
};

enum {
    CHECK_ASYNC = 1 << 0,
    CHECK_REPLICATION = 1 << 1,
    CHECK_AUDITOR = 1 << 2,
    CHECK_UPDATER = 1 << 3,
    CHECK_EXPIRER = 1 << 4,
    CHECK_UNMOUNTED = 1 << 5,
    CHECK_LOAD = 1 << 6,
    CHECK_DISKUSAGE = 1 << 7,
    CHECK_MD5 = 1 << 8,
    CHECK_QUARANTINED = 1 << 9,
    CHECK_TIME = 1 << 10,
    CHECK_VERSION = 1 << 11,
};

static int usage_error(const char *msg, const char *arg)
{
    fprintf(stderr, "kura recon: %s%s%s (try 'kura recon --help')\n", msg,
            arg ? ": " : "", arg ? arg : "");
    return CMD_EXIT_ERROR;
}

static void print_help(void)
{
    printf("usage: kura recon [<options>] [object|container|account ...]\n"
           "Asks every server in the ring(s) of <swift-dir> (default: object)\n"
           "for its recon data and prints a summary, as swift-recon.\n\n"
           "  --swift-dir DIR     rings and swift.conf (default /etc/swift)\n"
           "  -r, --replication   replication times, stats, refill progress\n"
           "  -a, --async         async pendings (object)\n"
           "  -q, --quarantined   quarantined objects, containers, accounts\n"
           "  -d, --diskusage     disk usage per device\n"
           "  -u, --unmounted     unmounted devices\n"
           "  -l, --loadstats     load averages\n"
           "  -T, --time          clocks against this host's\n"
           "  --md5               ring and swift.conf md5s against the local\n"
           "  --auditor, --updater, --expirer   those daemons' last passes\n"
           "  --swift-versions    versions the servers report\n"
           "  --all               all of the above\n"
           "  --json              the raw answers per host, as JSON\n"
           "  -t, --timeout S     seconds to wait for a server (default 5)\n");
}

static int parse_opts(struct recon_opts *o, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"swift-dir", required_argument, NULL, 'D'},
        {"swiftdir", required_argument, NULL, 'D'},
        {"replication", no_argument, NULL, 'r'},
        {"async", no_argument, NULL, 'a'},
        {"quarantined", no_argument, NULL, 'q'},
        {"diskusage", no_argument, NULL, 'd'},
        {"unmounted", no_argument, NULL, 'u'},
        {"loadstats", no_argument, NULL, 'l'},
        {"time", no_argument, NULL, 'T'},
        {"md5", no_argument, NULL, 'M'},
        {"auditor", no_argument, NULL, 'A'},
        {"updater", no_argument, NULL, 'U'},
        {"expirer", no_argument, NULL, 'E'},
        {"swift-versions", no_argument, NULL, 'V'},
        {"all", no_argument, NULL, 'L'},
        {"json", no_argument, NULL, 'J'},
        {"timeout", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    static const struct {
        int opt;
        unsigned int check;
    } flags[] = {
        {'r', CHECK_REPLICATION}, {'a', CHECK_ASYNC},
        {'q', CHECK_QUARANTINED}, {'d', CHECK_DISKUSAGE},
        {'u', CHECK_UNMOUNTED},   {'l', CHECK_LOAD},
        {'T', CHECK_TIME},        {'M', CHECK_MD5},
        {'A', CHECK_AUDITOR},     {'U', CHECK_UPDATER},
        {'E', CHECK_EXPIRER},     {'V', CHECK_VERSION},
    };
    char *end;
    int c;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "raqduMlTt:h", longopts, NULL)) != -1) {
        size_t i;

        for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
            if (flags[i].opt == c)
                o->checks |= flags[i].check;
        switch (c) {
        case 'D': o->swift_dir = optarg; break;
        case 'L': o->all = true; break;
        case 'J': o->json = true; break;
        case 't':
            o->timeout = (unsigned int)strtoul(optarg, &end, 10);
            if (*end || !*optarg || o->timeout == 0 || o->timeout > 3600)
                return usage_error("bad --timeout", optarg);
            break;
        case 'h': print_help(); return -1;
        case '?': return usage_error("unknown option", argv[optind - 1]);
        default: break;
        }
    }
    for (int i = optind; i < argc; i++) {
        if (strcmp(argv[i], "object") && strcmp(argv[i], "container") &&
            strcmp(argv[i], "account"))
            return usage_error("invalid server type", argv[i]);
        if (o->n_types == 3)
            return usage_error("too many server types", argv[i]);
        o->types[o->n_types++] = argv[i];
    }
    if (!o->n_types)
        o->types[o->n_types++] = "object";
    if (!o->checks && !o->all)
        return usage_error("no check given", NULL);
    return 0;
}

/* ---- hosts ---- */

static int host_cmp(const void *a, const void *b)
{
    const struct host *x = a, *y = b;
    int c = strcmp(x->ip, y->ip);

    return c ? c : x->port - y->port;
}

/* Adds each (ip, port) of 'path''s devices to run->hosts once. */
static int add_ring_hosts(struct recon_run *run, const char *path)
{
    char err[RINGFILE_ERRLEN];
    struct ring *ring;
    int rc = ring_load(path, &ring, err);

    if (rc) {
        fprintf(stderr, "kura recon: cannot load '%s': %s\n", path, err);
        return rc;
    }
    for (unsigned id = 0; id < ring_dev_slots(ring); id++) {
        const struct ring_dev *d = ring_get_dev(ring, id);
        struct host h, *grown;
        bool seen = false;

        if (!d)
            continue;
        for (size_t i = 0; i < run->n_hosts && !seen; i++)
            seen = run->hosts[i].port == d->port &&
                   !strcmp(run->hosts[i].ip, d->ip);
        if (seen)
            continue;
        h = (struct host){.ip = strdup(d->ip), .port = d->port};
        grown = realloc(run->hosts, (run->n_hosts + 1) * sizeof(*grown));
        if (!h.ip || !grown) {
            free(h.ip);
            if (grown)
                run->hosts = grown;
            rc = -ENOMEM;
            break;
        }
        run->hosts = grown;
        run->hosts[run->n_hosts++] = h;
    }
    ring_free(ring);
    return rc;
}

/* The ring file of 'type'; for objects, that of each storage policy. */
static int ring_paths(const char *swift_dir, const char *type, char ***out,
                      size_t *n)
{
    struct policies pol = {0};
    char **paths;
    int err = 0;

    *out = NULL;
    *n = 0;
    if (strcmp(type, "object")) {
        paths = calloc(1, sizeof(*paths));
        if (!paths ||
            asprintf(&paths[0], "%s/%s.ring.gz", swift_dir, type) == -1) {
            free(paths);
            return -ENOMEM;
        }
        *out = paths;
        *n = 1;
        return 0;
    }
    err = policies_load(swift_dir, &pol);
    paths = err ? NULL : calloc(pol.n, sizeof(*paths));
    for (size_t i = 0; paths && i < pol.n; i++) {
        int rc = pol.items[i].index
                     ? asprintf(&paths[i], "%s/object-%u.ring.gz", swift_dir,
                                pol.items[i].index)
                     : asprintf(&paths[i], "%s/object.ring.gz", swift_dir);

        if (rc == -1) {
            paths[i] = NULL;
            err = -ENOMEM;
        }
    }
    if (!err && !paths)
        err = -ENOMEM;
    if (!err) {
        *out = paths;
        *n = pol.n;
    } else if (paths) {
        for (size_t i = 0; i < pol.n; i++)
            free(paths[i]);
        free(paths);
    }
    policies_release(&pol);
    return err;
}

static void free_paths(char **paths, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(paths[i]);
    free(paths);
}

static int find_hosts(struct recon_run *run)
{
    char **paths;
    size_t n;
    int err = ring_paths(run->o->swift_dir, run->type, &paths, &n);

    for (size_t i = 0; !err && i < n; i++)
        err = add_ring_hosts(run, paths[i]);
    free_paths(paths, n);
    if (!err)
        qsort(run->hosts, run->n_hosts, sizeof(*run->hosts), host_cmp);
    return err;
}

/* ---- asking ---- */

/* GET /recon/<check> of every host; reqs[i] is hosts[i]'s answer. The
 * caller fanout_release()s and frees it. --json keeps a copy of each. */
static struct fanout_req *scout(struct recon_run *run, const char *check)
{
    struct fanout_req *reqs = calloc(run->n_hosts + 1, sizeof(*reqs));
    char path[128];

    if (!reqs)
        return NULL;
    snprintf(path, sizeof(path), "/recon/%s", check);
    for (size_t i = 0; i < run->n_hosts; i++)
        reqs[i] = (struct fanout_req){.host = run->hosts[i].ip,
                                      .port = (unsigned)run->hosts[i].port,
                                      .method = "GET",
                                      .path = path,
                                      .want_json = true};
    if (fanout_run(run->client, reqs, run->n_hosts, RECON_CONCURRENCY)) {
        free(reqs);
        return NULL;
    }
    for (size_t i = 0; i < run->n_hosts; i++) {
        struct fanout_req *r = &reqs[i];
        char name[300], why[128];
        const char *part = r->status == 200 ? "hosts" : "errors";
        json_t *per = json_object_get(run->raw, part), *h;

        r->path = NULL; /* 'path' is ours, gone after the return */
        if (!run->o->json && r->status != 200)
            printf("-> http://%s:%u/recon/%s: %s\n", r->host, r->port, check,
                   fanout_error(r, why, sizeof(why)));
        if (!run->o->json)
            continue;
        snprintf(name, sizeof(name), "%s:%u", r->host, r->port);
        h = json_object_get(per, name);
        if (!h) {
            h = json_object();
            json_object_set_new(per, name, h);
        }
        json_object_set_new(
            h, check,
            r->status == 200 ? json_incref(r->json)
                             : json_string(fanout_error(r, why, sizeof(why))));
    }
    return reqs;
}

static void done(struct recon_run *run, struct fanout_req *reqs)
{
    if (reqs)
        fanout_release(reqs, run->n_hosts);
    free(reqs);
}

/* ---- printing, as swift-recon ---- */

static char *ptime(double t, char *buf, size_t cap)
{
    time_t s = (time_t)t;
    struct tm tm;

    gmtime_r(&s, &tm);
    strftime(buf, cap, "%Y-%m-%d %H:%M:%S", &tm);
    return buf;
}

static void header(const char *what)
{
    char now[32];

    printf("[%s] %s\n", ptime((double)time(NULL), now, sizeof(now)), what);
}

/* Values gathered over the hosts; NAN stands for Swift's None. */
struct stats {
    double *v;
    size_t n;
};

static void stats_push(struct stats *s, double v)
{
    double *grown = realloc(s->v, (s->n + 1) * sizeof(*grown));

    if (!grown)
        return;
    s->v = grown;
    s->v[s->n++] = v;
}

static void stats_add(struct stats *s, const json_t *v)
{
    stats_push(s, json_is_number(v) ? json_number_value(v) : NAN);
}

/* Swift's _gen_stats() and _print_stats(). */
static void stats_print(struct stats *s, const char *name)
{
    double low = INFINITY, high = -INFINITY, total = 0;
    size_t reported = 0;

    for (size_t i = 0; i < s->n; i++) {
        if (isnan(s->v[i]))
            continue;
        low = fmin(low, s->v[i]);
        high = fmax(high, s->v[i]);
        total += s->v[i];
        reported++;
    }
    if (!reported)
        printf("[%s] - No hosts returned valid data.\n", name);
    else
        printf("[%s] low: %lld, high: %lld, avg: %.1f, total: %lld, Failed: "
               "%.1f%%, no_result: %zu, reported: %zu\n",
               name, (long long)low, (long long)high, total / (double)reported,
               (long long)total,
               100.0 * (double)(s->n - reported) / (double)s->n,
               s->n - reported, reported);
    free(s->v);
    *s = (struct stats){0};
}

/* Each key's values over the hosts that answered. */
static void print_keys(struct recon_run *run, const struct fanout_req *reqs,
                       const char *const *keys, const char *const *names)
{
    for (size_t k = 0; keys[k]; k++) {
        struct stats s = {0};

        for (size_t i = 0; i < run->n_hosts; i++)
            if (reqs[i].status == 200)
                stats_add(&s, json_object_get(reqs[i].json, keys[k]));
        stats_print(&s, names ? names[k] : keys[k]);
    }
}

static void seconds_unit(double secs, double *v, const char **unit)
{
    *v = secs;
    *unit = "seconds";
    if (*v >= 60) {
        *v /= 60;
        *unit = "minutes";
        if (*v >= 60) {
            *v /= 60;
            *unit = "hours";
            if (*v >= 24) {
                *v /= 24;
                *unit = "days";
            }
        }
    }
}

/* swift-recon's size_suffix(): powers of 1000. */
static char *size_suffix(double bytes, char *buf, size_t cap)
{
    static const char *const suffixes[] = {"bytes", "kB", "MB", "GB",
                                           "TB",    "PB", "EB"};
    size_t i = 0;

    while (bytes >= 1000 && i + 1 < sizeof(suffixes) / sizeof(suffixes[0])) {
        bytes /= 1000;
        i++;
    }
    snprintf(buf, cap, "%.0f %s", floor(bytes), suffixes[i]);
    return buf;
}

/* Swift's _calculate_least_and_most_recent(). */
static void print_recent(struct recon_run *run, const double *last)
{
    size_t lo = SIZE_MAX, hi = SIZE_MAX;
    double now = (double)time(NULL), v;
    const char *unit;
    char when[32];

    for (size_t i = 0; i < run->n_hosts; i++) {
        if (isnan(last[i]))
            continue;
        if (lo == SIZE_MAX || last[i] < last[lo])
            lo = i;
        if (hi == SIZE_MAX || last[i] > last[hi])
            hi = i;
    }
    if (lo == SIZE_MAX)
        return;
    if (!last[lo]) {
        printf("Oldest completion was NEVER by %s:%d.\n", run->hosts[lo].ip,
               run->hosts[lo].port);
    } else {
        seconds_unit(now - last[lo], &v, &unit);
        printf("Oldest completion was %s (%d %s ago) by %s:%d.\n",
               ptime(last[lo], when, sizeof(when)), (int)v, unit,
               run->hosts[lo].ip, run->hosts[lo].port);
    }
    seconds_unit(now - last[hi], &v, &unit);
    printf("Most recent completion was %s (%d %s ago) by %s:%d.\n",
           ptime(last[hi], when, sizeof(when)), (int)v, unit, run->hosts[hi].ip,
           run->hosts[hi].port);
}

/* Kura: the passes still running, from replication_progress; with the
 * partitions left, the objects and bytes moved and the latest ETA. */
static void print_progress(struct recon_run *run, const struct fanout_req *reqs)
{
    double done = 0, total = 0, objects = 0, bytes = 0, eta = 0, v;
    size_t running = 0;
    const char *unit;
    char when[32], size[32];

    for (size_t i = 0; i < run->n_hosts; i++) {
        json_t *p = json_object_get(reqs[i].json, "replication_progress");
        double d = json_number_value(json_object_get(p, "parts_done"));
        double t = json_number_value(json_object_get(p, "parts_total"));
        json_t *e = json_object_get(p, "eta");

        if (reqs[i].status != 200 || !json_is_object(p) || d >= t)
            continue;
        running++;
        done += d;
        total += t;
        objects += json_number_value(json_object_get(p, "objects"));
        bytes += json_number_value(json_object_get(p, "bytes"));
        printf("-> %s:%u: %.0f/%.0f partitions (%.2f%%), %.0f objects, %s",
               reqs[i].host, reqs[i].port, d, t, 100.0 * d / t,
               json_number_value(json_object_get(p, "objects")),
               size_suffix(json_number_value(json_object_get(p, "bytes")), size,
                           sizeof(size)));
        if (json_is_number(e)) {
            printf(", ETA %s", ptime(json_number_value(e), when, sizeof(when)));
            eta = fmax(eta, json_number_value(e));
        } else {
            printf(", ETA unknown");
        }
        putchar('\n');
    }
    if (!running) {
        printf("[replication_progress] no pass in progress\n");
        return;
    }
    printf("[replication_progress] %zu host%s replicating: %.0f/%.0f "
           "partitions (%.2f%%), %.0f objects, %s moved",
           running, running == 1 ? "" : "s", done, total, 100.0 * done / total,
           objects, size_suffix(bytes, size, sizeof(size)));
    if (eta > 0) {
        seconds_unit(fmax(eta - (double)time(NULL), 0), &v, &unit);
        printf(", ETA %s (%d %s left)", ptime(eta, when, sizeof(when)), (int)v,
               unit);
    }
    putchar('\n');
}

/* ---- the checks ---- */

/* A check that prints keys of one recon answer: its header, the answers
 * asked of every host, each key's summary (under 'names' when given). */
static void check_keys(struct recon_run *run, const char *title,
                       const char *check, const char *const *keys,
                       const char *const *names)
{
    struct fanout_req *reqs;

    if (!run->o->json)
        header(title);
    reqs = scout(run, check);
    if (reqs && !run->o->json)
        print_keys(run, reqs, keys, names);
    done(run, reqs);
}

static void check_async(struct recon_run *run)
{
    static const char *const keys[] = {"async_pending", NULL};

    check_keys(run, "Checking async pendings", "async", keys, NULL);
}

static void check_replication(struct recon_run *run)
{
    char check[64];
    struct fanout_req *reqs;
    double *last;

    snprintf(check, sizeof(check), "replication/%s", run->type);
    if (!run->o->json)
        header("Checking on replication");
    reqs = scout(run, check);
    last = calloc(run->n_hosts + 1, sizeof(*last));
    if (reqs && last && !run->o->json) {
        static const char *const stat_keys[] = {"attempted", "failure",
                                                "success", NULL};
        struct stats s = {0};

        for (size_t i = 0; i < run->n_hosts; i++) {
            json_t *j = reqs[i].json,
                   *t = json_object_get(j, "replication_time");
            json_t *l = json_object_get(j, "replication_last");

            if (!t || json_is_null(t))
                t = json_object_get(j, "object_replication_time");
            if (!l || json_is_null(l))
                l = json_object_get(j, "object_replication_last");
            last[i] = reqs[i].status == 200 && json_is_number(l)
                          ? json_number_value(l)
                          : NAN;
            if (reqs[i].status == 200)
                stats_add(&s, t);
        }
        stats_print(&s, "replication_time");
        for (size_t k = 0; stat_keys[k]; k++) {
            char name[64];

            for (size_t i = 0; i < run->n_hosts; i++) {
                json_t *st = json_object_get(reqs[i].json, "replication_stats");

                if (reqs[i].status == 200 && json_is_object(st))
                    stats_add(&s, json_object_get(st, stat_keys[k]));
            }
            snprintf(name, sizeof(name), "replication_%s", stat_keys[k]);
            stats_print(&s, name);
        }
        print_recent(run, last);
        if (!strcmp(run->type, "object"))
            print_progress(run, reqs);
    }
    free(last);
    done(run, reqs);
}

/* Sums of one key over an object auditor's stats, which may be nested one
 * level per device (Swift's nested_get_value()). */
static double nested_sum(const json_t *v, const char *key)
{
    double sum = 0;
    const char *k;
    json_t *x;

    json_object_foreach((json_t *)v, k, x)
    {
        if (json_is_object(x))
            sum += nested_sum(x, key);
        if (!strcmp(k, key) && json_is_number(x))
            sum += json_number_value(x);
    }
    return sum;
}

static void check_auditor(struct recon_run *run)
{
    char check[64];
    struct fanout_req *reqs;

    snprintf(check, sizeof(check), "auditor/%s", run->type);
    if (!run->o->json)
        header("Checking auditor stats");
    reqs = scout(run, check);
    if (reqs && !run->o->json && !strcmp(run->type, "object")) {
        static const char *const keys[] = {"audit_time",  "bytes_processed",
                                           "passes",      "errors",
                                           "quarantined", NULL};
        static const char *const kinds[] = {"ALL", "ZBF", NULL};

        for (size_t z = 0; kinds[z]; z++) {
            char stat[64], name[64];
            bool any = false;

            snprintf(stat, sizeof(stat), "object_auditor_stats_%s", kinds[z]);
            for (size_t k = 0; keys[k]; k++) {
                struct stats s = {0};

                for (size_t i = 0; i < run->n_hosts; i++) {
                    json_t *a = json_object_get(reqs[i].json, stat);

                    if (reqs[i].status == 200 && json_is_object(a))
                        stats_push(&s, nested_sum(a, keys[k]));
                }
                any = any || s.n;
                snprintf(name, sizeof(name), "%s_%s_last_path", kinds[z],
                         keys[k]);
                if (s.n)
                    stats_print(&s, name);
            }
            if (!any)
                printf("[%s_auditor] - No hosts returned valid data.\n",
                       kinds[z]);
        }
    } else if (reqs && !run->o->json) {
        static const char *const sfx[] = {"_auditor_pass_completed",
                                          "_audits_failed", "_audits_passed",
                                          NULL};
        char k0[64], k1[64], k2[64];
        const char *keys[] = {k0, k1, k2, NULL};

        snprintf(k0, sizeof(k0), "%s%s", run->type, sfx[0]);
        snprintf(k1, sizeof(k1), "%s%s", run->type, sfx[1]);
        snprintf(k2, sizeof(k2), "%s%s", run->type, sfx[2]);
        print_keys(run, reqs, keys, NULL);
    }
    done(run, reqs);
}

static void check_updater(struct recon_run *run)
{
    static const char *const names[] = {"updater_last_sweep"};
    char check[64], key[64];
    const char *keys[] = {key, NULL};

    if (!strcmp(run->type, "account")) {
        if (!run->o->json)
            printf("Error: Can't check updaters on account servers.\n%s\n",
                   RECON_RULE);
        return;
    }
    snprintf(check, sizeof(check), "updater/%s", run->type);
    snprintf(key, sizeof(key), "%s_updater_sweep", run->type);
    check_keys(run, "Checking updater times", check, keys, names);
}

static void check_expirer(struct recon_run *run)
{
    static const char *const keys[] = {"object_expiration_pass",
                                       "expired_last_pass", NULL};

    if (strcmp(run->type, "object")) {
        if (!run->o->json)
            printf("Error: Can't check expirer on non object servers.\n%s\n",
                   RECON_RULE);
        return;
    }
    check_keys(run, "Checking on expirers", "expirer/object", keys, NULL);
}

static void check_unmounted(struct recon_run *run)
{
    struct fanout_req *reqs;
    char what[64];

    snprintf(what, sizeof(what), "Getting unmounted drives from %zu hosts...",
             run->n_hosts);
    if (!run->o->json)
        header(what);
    reqs = scout(run, "unmounted");
    for (size_t i = 0; reqs && !run->o->json && i < run->n_hosts; i++) {
        json_t *e;
        size_t k;

        if (reqs[i].status != 200)
            continue;
        json_array_foreach(reqs[i].json, k, e)
        {
            const char *dev = json_string_value(json_object_get(e, "device"));

            printf("%s: %s on %s:%u\n",
                   json_is_boolean(json_object_get(e, "mounted"))
                       ? "Not mounted"
                       : "Device errors",
                   dev ? dev : "?", reqs[i].host, reqs[i].port);
        }
    }
    done(run, reqs);
}

static void check_load(struct recon_run *run)
{
    static const char *const keys[] = {"1m", "5m", "15m", NULL};
    static const char *const names[] = {"1m_load_avg", "5m_load_avg",
                                        "15m_load_avg"};

    check_keys(run, "Checking load averages", "load", keys, names);
}

static void check_quarantined(struct recon_run *run)
{
    static const char *const keys[] = {"objects", "containers", "accounts",
                                       NULL};
    static const char *const names[] = {"quarantined_objects",
                                        "quarantined_containers",
                                        "quarantined_accounts"};

    check_keys(run, "Checking quarantine", "quarantined", keys, names);
}

static void check_diskusage(struct recon_run *run)
{
    double used = 0, avail = 0, low = INFINITY, high = -INFINITY;
    struct fanout_req *reqs;
    size_t n = 0;
    char a[32], b[32];

    if (!run->o->json)
        header("Checking disk usage now");
    reqs = scout(run, "diskusage");
    for (size_t i = 0; reqs && !run->o->json && i < run->n_hosts; i++) {
        json_t *e;
        size_t k;

        if (reqs[i].status != 200)
            continue;
        json_array_foreach(reqs[i].json, k, e)
        {
            json_t *m = json_object_get(e, "mounted");
            double size = json_number_value(json_object_get(e, "size"));
            double u = json_number_value(json_object_get(e, "used"));
            const char *dev = json_string_value(json_object_get(e, "device"));

            if (!json_is_boolean(m))
                printf("-> http://%s:%u/recon/diskusage: %s: Error: %s\n",
                       reqs[i].host, reqs[i].port, dev ? dev : "?",
                       json_is_string(m) ? json_string_value(m) : "?");
            if (!json_is_true(m) || size <= 0)
                continue;
            used += u;
            avail += json_number_value(json_object_get(e, "avail"));
            low = fmin(low, 100.0 * u / size);
            high = fmax(high, 100.0 * u / size);
            n++;
        }
    }
    if (!run->o->json && n) {
        printf("Disk usage: space used: %s of %s\n",
               size_suffix(used, a, sizeof(a)),
               size_suffix(used + avail, b, sizeof(b)));
        printf("Disk usage: space free: %s of %s\n",
               size_suffix(avail, a, sizeof(a)),
               size_suffix(used + avail, b, sizeof(b)));
        printf("Disk usage: lowest: %.2f%%, highest: %.2f%%, avg: %.2f%%\n",
               low, high, 100.0 * used / (used + avail));
    } else if (!run->o->json) {
        printf("No hosts returned valid data.\n");
    }
    done(run, reqs);
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');

    return slash ? slash + 1 : path;
}

/* The rings of this server type in swift_dir against each host's. */
static void check_ringmd5(struct recon_run *run)
{
    struct fanout_req *reqs;
    size_t matches = 0, errors = 0;
    char **paths, (*local)[33];
    size_t n_paths;

    if (!run->o->json)
        header("Checking ring md5sums");
    if (ring_paths(run->o->swift_dir, run->type, &paths, &n_paths))
        return;
    local = calloc(n_paths + 1, sizeof(*local));
    for (size_t p = 0; local && p < n_paths; p++)
        if (file_md5_path(paths[p], local[p]))
            local[p][0] = '\0';
    reqs = scout(run, "ringmd5");
    for (size_t i = 0; reqs && !run->o->json && i < run->n_hosts; i++) {
        bool ok = true;
        const char *file;
        json_t *sum;

        if (reqs[i].status != 200) {
            errors++;
            continue;
        }
        json_object_foreach(reqs[i].json, file, sum)
        {
            const char *name = base_name(file), *mine = NULL;

            if (strncmp(name, run->type, strlen(run->type)))
                continue;
            for (size_t p = 0; local && p < n_paths; p++)
                if (!strcmp(base_name(paths[p]), name))
                    mine = local[p];
            if (!mine || !json_is_string(sum) ||
                strcmp(mine, json_string_value(sum))) {
                ok = false;
                printf("!! http://%s:%u/recon/ringmd5 (%s => %s) doesn't "
                       "match on disk md5sum\n",
                       reqs[i].host, reqs[i].port, name,
                       json_is_string(sum) ? json_string_value(sum) : "None");
            }
        }
        if (ok)
            matches++;
        else
            errors++;
    }
    if (!run->o->json)
        printf(
            "%zu/%zu hosts matched, %zu error[s] while checking hosts.\n%s\n",
            matches, run->n_hosts, errors, RECON_RULE);
    free_paths(paths, n_paths);
    free(local);
    done(run, reqs);
}

static void check_swiftconfmd5(struct recon_run *run)
{
    struct fanout_req *reqs;
    size_t matches = 0, errors = 0;
    char path[4096], local[33] = "";

    if (!run->o->json)
        header("Checking swift.conf md5sum");
    snprintf(path, sizeof(path), "%s/swift.conf", run->o->swift_dir);
    if (file_md5_path(path, local))
        local[0] = '\0';
    reqs = scout(run, "swiftconfmd5");
    for (size_t i = 0; reqs && !run->o->json && i < run->n_hosts; i++) {
        const char *file, *remote = NULL;
        json_t *sum;

        if (reqs[i].status != 200) {
            errors++;
            continue;
        }
        json_object_foreach(reqs[i].json, file, sum) remote =
            json_string_value(sum);
        if (remote && !strcmp(remote, local))
            matches++;
        else
            printf("!! http://%s:%u/recon/swiftconfmd5 (%s) doesn't match on "
                   "disk md5sum\n",
                   reqs[i].host, reqs[i].port, remote ? remote : "None");
    }
    if (!run->o->json)
        printf(
            "%zu/%zu hosts matched, %zu error[s] while checking hosts.\n%s\n",
            matches, run->n_hosts, errors, RECON_RULE);
    done(run, reqs);
}

static void check_time(struct recon_run *run)
{
    struct fanout_req *reqs;
    size_t matches = 0, errors = 0;
    char a[32], b[32];

    if (!run->o->json)
        header("Checking time-sync");
    reqs = scout(run, "time");
    for (size_t i = 0; reqs && !run->o->json && i < run->n_hosts; i++) {
        double remote = json_number_value(reqs[i].json);

        if (reqs[i].status != 200 || !json_is_number(reqs[i].json)) {
            errors++;
            continue;
        }
        if (remote < reqs[i].t_start || remote > reqs[i].t_end) {
            printf("!! http://%s:%u/recon/time current time is %s, but "
                   "remote is %s, differs by %.4f sec\n",
                   reqs[i].host, reqs[i].port, ptime(reqs[i].t_end, a, 32),
                   ptime(remote, b, 32), fabs(reqs[i].t_end - remote));
            continue;
        }
        matches++;
    }
    if (!run->o->json)
        printf("%zu/%zu hosts matched, %zu error[s] while checking hosts.\n",
               matches, run->n_hosts, errors);
    done(run, reqs);
}

static void check_version(struct recon_run *run)
{
    struct fanout_req *reqs;
    json_t *seen = json_object();
    size_t errors = 0;

    if (!run->o->json)
        header("Checking versions");
    reqs = scout(run, "version");
    for (size_t i = 0; reqs && seen && i < run->n_hosts; i++) {
        const char *v =
            json_string_value(json_object_get(reqs[i].json, "version"));

        if (reqs[i].status != 200 || !v)
            errors++;
        else
            json_object_set_new(seen, v, json_true());
    }
    if (!run->o->json && json_object_size(seen) == 0) {
        printf("No hosts returned valid data.\n");
    } else if (!run->o->json) {
        const char *v;
        json_t *x;
        bool first = true;

        printf("Versions %smatched (",
               json_object_size(seen) == 1 ? "" : "not ");
        json_object_foreach(seen, v, x)
        {
            printf("%s%s", first ? "" : ", ", v);
            first = false;
        }
        printf("), %zu error[s] while checking hosts.\n", errors);
    }
    json_decref(seen);
    done(run, reqs);
}

static void check_md5(struct recon_run *run)
{
    check_ringmd5(run);
    check_swiftconfmd5(run);
}

/* In the order swift-recon --all runs them. */
static const struct {
    unsigned int flag;
    void (*fn)(struct recon_run *run);
    const char *only; /* the server type it is for under --all, or NULL */
    bool ruled;       /* prints its own rule (the md5 checks) */
} checks[] = {
    {CHECK_ASYNC, check_async, "object", false},
    {CHECK_AUDITOR, check_auditor, NULL, false},
    {CHECK_UPDATER, check_updater, NULL, false},
    {CHECK_EXPIRER, check_expirer, "object", false},
    {CHECK_REPLICATION, check_replication, NULL, false},
    {CHECK_UNMOUNTED, check_unmounted, NULL, false},
    {CHECK_LOAD, check_load, NULL, false},
    {CHECK_DISKUSAGE, check_diskusage, NULL, false},
    {CHECK_MD5, check_md5, NULL, true},
    {CHECK_QUARANTINED, check_quarantined, NULL, false},
    {CHECK_TIME, check_time, NULL, false},
    {CHECK_VERSION, check_version, NULL, false},
};

static int run_type(struct recon_run *run, json_t *out)
{
    int err = find_hosts(run);

    if (err)
        return err;
    run->raw = json_pack("{s:{}, s:{}}", "hosts", "errors");
    if (!run->raw)
        return -ENOMEM;
    if (!run->o->json)
        printf("--> Starting reconnaissance on %zu hosts (%s)\n%s\n",
               run->n_hosts, run->type, RECON_RULE);
    for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
        bool wanted =
            run->o->all ? !checks[i].only || !strcmp(checks[i].only, run->type)
                        : (run->o->checks & checks[i].flag) != 0;

        if (!wanted)
            continue;
        if (checks[i].flag == CHECK_UPDATER && run->o->all &&
            !strcmp(run->type, "account"))
            continue;
        if (checks[i].flag == CHECK_ASYNC && strcmp(run->type, "object")) {
            if (!run->o->json)
                printf("Error: Can't check asyncs on non object servers.\n%s"
                       "\n",
                       RECON_RULE);
            continue;
        }
        checks[i].fn(run);
        if (!run->o->json && !checks[i].ruled)
            printf("%s\n", RECON_RULE);
    }
    return json_object_set(out, run->type, run->raw) ? -ENOMEM : 0;
}

int cmd_recon(int argc, char **argv)
{
    struct recon_opts o = {.swift_dir = "/etc/swift", .timeout = 5};
    struct http_client *client = NULL;
    json_t *out = json_object();
    int rc = parse_opts(&o, argc, argv);

    if (rc)
        goto out;
    rc = out ? http_client_new(&(struct http_client_conf){.conn_timeout_ms =
                                                              o.timeout * 1000,
                                                          .node_timeout_ms =
                                                              o.timeout * 1000},
                               &client)
             : -ENOMEM;
    if (rc) {
        fprintf(stderr, "kura recon: %s\n", strerror(-rc));
        rc = 1;
        goto out;
    }
    if (!o.json)
        printf("%s\n", RECON_RULE);
    for (size_t t = 0; !rc && t < o.n_types; t++) {
        struct recon_run run = {.o = &o, .type = o.types[t], .client = client};

        rc = run_type(&run, out);
        for (size_t i = 0; i < run.n_hosts; i++)
            free(run.hosts[i].ip);
        free(run.hosts);
        json_decref(run.raw);
    }
    if (rc) {
        rc = 1;
        goto out;
    }
    if (o.json) {
        char *text = json_dumps(out, JSON_INDENT(2) | JSON_SORT_KEYS |
                                         JSON_REAL_PRECISION(16));

        rc = text && puts(text) >= 0 ? 0 : 1;
        free(text);
    }
    if (fflush(stdout))
        rc = 1;
out:
    http_client_free(client);
    json_decref(out);
    return rc < 0 ? 0 : rc; /* -1: --help */
}
