/*
 * dispersion.c - 'kura dispersion-populate' and 'kura dispersion-report',
 * as Swift 2.30's swift-dispersion-populate and -report: populate puts
 * containers and objects through the proxy (tempauth v1.0) so that they
 * cover dispersion_coverage % of the container and object partitions;
 * report lists them back and HEADs each primary replica directly on its
 * storage server (device and partition from the rings), then prints how
 * many copies were found. A missing copy is the report's finding, not an
 * error: the report exits 0 whatever it finds.
 *
 * Names are Swift's for policy 0: containers dispersion_0_<n>, objects
 * dispersion_<n> in the container dispersion_objects_0. Kura adds the
 * account: with the containers, the report also HEADs the account on its
 * primaries ("account" in the JSON).
 *
 *   kura dispersion-populate [--conf FILE] [<options>]
 *   kura dispersion-report [--conf FILE] [-j|--json] [<options>]
 */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "common/conf.h"
#include "common/http.h"
#include "ring/hash_path.h"
#include "ring/ring.h"
#include "tools/kura/cmd.h"
#include "tools/kura/fanout.h"

#define DISPERSION_CONF "/etc/swift/dispersion.conf"
#define DISPERSION_SECTION "dispersion"
#define DISPERSION_POLICY 0
#define LISTING_LIMIT 10000

/* [dispersion] of dispersion.conf, Swift's keys and defaults. */
struct dispersion_conf {
    char *auth_url, *auth_user, *auth_key, *auth_version;
    char *swift_dir;
    double coverage; /* dispersion_coverage: % of the partitions */
    unsigned int retries, concurrency;
    bool container_populate, object_populate;
    bool container_report, object_report;
    bool dump_json;
    bool partitions; /* -p: each partition missing copies, on stderr */
};

static const struct conf_option dispersion_options[] = {
    CONF_STR("auth_url", struct dispersion_conf, auth_url, NULL),
    CONF_STR("auth_user", struct dispersion_conf, auth_user, NULL),
    CONF_STR("auth_key", struct dispersion_conf, auth_key, NULL),
    CONF_STR("auth_version", struct dispersion_conf, auth_version, "1.0"),
    CONF_STR("swift_dir", struct dispersion_conf, swift_dir, "/etc/swift"),
    CONF_DOUBLE("dispersion_coverage", struct dispersion_conf, coverage, 1, 0,
                100),
    CONF_UINT("retries", struct dispersion_conf, retries, 5, 0, 100),
    CONF_UINT("concurrency", struct dispersion_conf, concurrency, 25, 1, 1000),
    CONF_BOOL("container_populate", struct dispersion_conf, container_populate,
              true),
    CONF_BOOL("object_populate", struct dispersion_conf, object_populate, true),
    CONF_BOOL("container_report", struct dispersion_conf, container_report,
              true),
    CONF_BOOL("object_report", struct dispersion_conf, object_report, true),
    CONF_BOOL("dump_json", struct dispersion_conf, dump_json, false),
    CONF_END,
};

/* An http://host:port/path URL, the host resolved to a literal. */
struct url {
    char host[NI_MAXHOST];
    unsigned int port;
    char *path; /* "/v1/AUTH_test", malloc()ed */
};

/* What one run needs: the cluster, the token, the rings. */
struct dispersion {
    struct dispersion_conf c;
    const char *cmd; /* for messages */
    struct http_client *client;
    struct hash_path_conf hc;
    struct url storage;
    char *token;
    char *account; /* the storage URL's last segment */
};

__attribute__((format(printf, 2, 3))) static int
fail(const struct dispersion *d, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "kura %s: ", d->cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 1;
}

/* ---- options ---- */

static void print_help(const char *cmd)
{
    printf("usage: kura %s [--conf FILE] [<options>]\n"
           "Options override [dispersion] of FILE (default %s, if it "
           "exists):\n"
           "  --auth-url URL, --auth-user U, --auth-key K  tempauth v1.0\n"
           "  --swift-dir DIR       rings and swift.conf (/etc/swift)\n"
           "  --coverage PCT        dispersion_coverage (1)\n"
           "  --retries N           retries per request (5)\n"
           "  --concurrency N       requests at once (25)\n"
           "  --container-only, --object-only\n"
           "%s",
           cmd, DISPERSION_CONF,
           strcmp(cmd, "dispersion-report")
               ? ""
               : "  -j, --json, --dump-json  the report as JSON\n"
                 "  -p, --partitions      each partition missing copies, "
                 "and the copies, on stderr\n");
}

/* An empty [dispersion]: the defaults, when there is no file. */
static int load_defaults(struct conf **out, char err[CONF_ERR_LEN])
{
    static const char text[] = "[" DISPERSION_SECTION "]\n";
    char path[64];
    int fd = memfd_create("dispersion.conf", MFD_CLOEXEC), rc;

    if (fd == -1)
        return -errno;
    if (write(fd, text, sizeof(text) - 1) != (ssize_t)sizeof(text) - 1) {
        close(fd);
        return -EIO;
    }
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    rc = conf_load(path, out, err);
    close(fd);
    return rc;
}

static int set_str(char **field, const char *value)
{
    free(*field);
    *field = strdup(value);
    return *field ? 0 : -ENOMEM;
}

static int parse_opts(struct dispersion *d, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"conf", required_argument, NULL, 'c'},
        {"auth-url", required_argument, NULL, 'A'},
        {"auth-user", required_argument, NULL, 'U'},
        {"auth-key", required_argument, NULL, 'K'},
        {"swift-dir", required_argument, NULL, 'd'},
        {"coverage", required_argument, NULL, 'C'},
        {"retries", required_argument, NULL, 'R'},
        {"concurrency", required_argument, NULL, 'N'},
        {"container-only", no_argument, NULL, 'o'},
        {"object-only", no_argument, NULL, 'O'},
        {"json", no_argument, NULL, 'j'},
        {"dump-json", no_argument, NULL, 'j'},
        {"partitions", no_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    const char *conf_path = NULL, *v[8] = {0};
    bool container_only = false, object_only = false, json = false;
    char err[CONF_ERR_LEN], *end;
    struct conf *conf = NULL;
    int c, rc;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "c:jph", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': conf_path = optarg; break;
        case 'A': v[0] = optarg; break;
        case 'U': v[1] = optarg; break;
        case 'K': v[2] = optarg; break;
        case 'd': v[3] = optarg; break;
        case 'C': v[4] = optarg; break;
        case 'R': v[5] = optarg; break;
        case 'N': v[6] = optarg; break;
        case 'o': container_only = true; break;
        case 'O': object_only = true; break;
        case 'j': json = true; break;
        case 'p': d->c.partitions = true; break;
        case 'h': print_help(d->cmd); return -1;
        default:
            fail(d, "unknown option '%s'", argv[optind - 1]);
            return CMD_EXIT_ERROR;
        }
    }
    if (optind < argc && !conf_path)
        conf_path = argv[optind++]; /* Swift's positional conf_file */
    if (optind < argc) {
        fail(d, "unexpected argument '%s'", argv[optind]);
        return CMD_EXIT_ERROR;
    }
    rc = conf_load(conf_path ? conf_path : DISPERSION_CONF, &conf, err);
    if (rc == -ENOENT && !conf_path)
        rc = load_defaults(&conf, err);
    if (!rc)
        rc = conf_apply(conf, DISPERSION_SECTION, dispersion_options, &d->c,
                        err);
    conf_free(conf);
    if (rc) {
        fail(d, "%s", err[0] ? err : strerror(-rc));
        return CMD_EXIT_ERROR;
    }
    for (int i = 0; i < 4; i++) {
        char **field[] = {&d->c.auth_url, &d->c.auth_user, &d->c.auth_key,
                          &d->c.swift_dir};

        if (v[i] && set_str(field[i], v[i]))
            return CMD_EXIT_ERROR;
    }
    if (v[4]) {
        d->c.coverage = strtod(v[4], &end);
        if (*end || !*v[4] || !(d->c.coverage >= 0 && d->c.coverage <= 100)) {
            fail(d, "bad --coverage '%s' (0 to 100)", v[4]);
            return CMD_EXIT_ERROR;
        }
    }
    for (int i = 5; i < 7; i++) {
        unsigned long n = v[i] ? strtoul(v[i], &end, 10) : 0;

        if (v[i] && (*end || !*v[i] || n > 1000 || (i == 6 && !n))) {
            fail(d, "bad --%s '%s'", i == 5 ? "retries" : "concurrency", v[i]);
            return CMD_EXIT_ERROR;
        }
        if (v[i] && i == 5)
            d->c.retries = (unsigned int)n;
        else if (v[i])
            d->c.concurrency = (unsigned int)n;
    }
    if (container_only)
        d->c.object_populate = d->c.object_report = false;
    if (object_only)
        d->c.container_populate = d->c.container_report = false;
    d->c.dump_json = d->c.dump_json || json;
    if (!d->c.auth_url || !d->c.auth_user || !d->c.auth_key) {
        fail(d, "auth_url, auth_user and auth_key are needed (--conf or "
                "--auth-url, --auth-user, --auth-key)");
        return CMD_EXIT_ERROR;
    }
    if (strcmp(d->c.auth_version, "1.0") && strcmp(d->c.auth_version, "1")) {
        fail(d, "auth_version %s: only 1.0 (tempauth) is supported",
             d->c.auth_version);
        return CMD_EXIT_ERROR;
    }
    return 0;
}

/* ---- talking to the proxy ---- */

/* Splits http://host[:port]/path and resolves the host. Returns 0 or
 * -EINVAL (not http, bad port, unknown host). */
static int url_parse(const char *s, struct url *u)
{
    const char *host, *end, *colon, *slash;
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai;
    char name[NI_MAXHOST];
    size_t len;

    if (strncmp(s, "http://", 7))
        return -EINVAL;
    host = s + 7;
    slash = strchr(host, '/');
    end = slash ? slash : host + strlen(host);
    if (*host == '[') { /* [v6]:port */
        const char *close = memchr(host, ']', (size_t)(end - host));

        if (!close)
            return -EINVAL;
        len = (size_t)(close - host - 1);
        colon = close[1] == ':' ? close + 1 : NULL;
        host++;
    } else {
        colon = memchr(host, ':', (size_t)(end - host));
        len = (size_t)((colon ? colon : end) - host);
    }
    if (!len || len >= sizeof(name))
        return -EINVAL;
    memcpy(name, host, len);
    name[len] = '\0';
    u->port = 80;
    if (colon) {
        char *pend;
        unsigned long p = strtoul(colon + 1, &pend, 10);

        if (pend != end || !p || p > 65535)
            return -EINVAL;
        u->port = (unsigned int)p;
    }
    if (getaddrinfo(name, NULL, &hints, &ai))
        return -EINVAL;
    getnameinfo(ai->ai_addr, ai->ai_addrlen, u->host, sizeof(u->host), NULL, 0,
                NI_NUMERICHOST);
    freeaddrinfo(ai);
    free(u->path);
    u->path = strdup(slash ? slash : "/");
    return u->path ? 0 : -ENOMEM;
}

/* tempauth v1.0: GET auth_url with X-Auth-User/-Key gives the storage URL
 * and the token. */
static int authenticate(struct dispersion *d)
{
    const struct http_header hdrs[] = {{"X-Auth-User", d->c.auth_user},
                                       {"X-Auth-Key", d->c.auth_key}};
    struct url auth = {0};
    struct http_client_call *call = NULL;
    const char *surl, *token, *slash;
    int status, rc = 1;

    if (url_parse(d->c.auth_url, &auth)) {
        fail(d, "bad auth_url '%s' (http://host:port/path)", d->c.auth_url);
        goto out;
    }
    status = http_client_request(d->client,
                                 &(struct http_client_req){.host = auth.host,
                                                           .port = auth.port,
                                                           .method = "GET",
                                                           .path = auth.path,
                                                           .headers = hdrs,
                                                           .n_headers = 2},
                                 &call);
    if (status < 0) {
        fail(d, "cannot reach '%s': %s", d->c.auth_url, strerror(-status));
        goto out;
    }
    surl = http_client_header(call, "X-Storage-Url");
    token = http_client_header(call, "X-Auth-Token");
    if (status / 100 != 2 || !surl || !token) {
        fail(d, "authentication as '%s' failed: HTTP %d", d->c.auth_user,
             status);
        goto out;
    }
    if (url_parse(surl, &d->storage)) {
        fail(d, "cannot use storage URL '%s'", surl);
        goto out;
    }
    slash = strrchr(d->storage.path, '/');
    d->account = strdup(slash ? slash + 1 : d->storage.path);
    d->token = strdup(token);
    if (d->account && d->token && *d->account)
        rc = 0;
out:
    http_client_end(call);
    free(auth.path);
    return rc;
}

/* "<storage path>[/<container>[/<object>]][?<query>]", quoted,
 * malloc()ed; NULL when out of memory. */
static char *proxy_path(const struct dispersion *d, const char *container,
                        const char *obj, const char *query)
{
    char *qc = container ? http_quote(container) : NULL;
    char *qo = obj ? http_quote(obj) : NULL, *path = NULL;

    if ((!container || qc) && (!obj || qo) &&
        asprintf(&path, "%s%s%s%s%s%s%s", d->storage.path, qc ? "/" : "",
                 qc ? qc : "", qo ? "/" : "", qo ? qo : "", query ? "?" : "",
                 query ? query : "") == -1)
        path = NULL;
    free(qc);
    free(qo);
    return path;
}

/* One page of a listing of the account ('container' NULL) or a container
 * after 'marker': appends its names to 'names' and sets *last to the last
 * one (borrowed from 'names'), or NULL for an empty page. Returns 0,
 * -ENOENT (no such container), -EPROTO (not a listing) or -errno. */
static int list_page(const struct dispersion *d, const char *container,
                     const char *prefix, const char *marker, json_t *names,
                     const char **last)
{
    const struct http_header hdrs[] = {{"X-Auth-Token", d->token}};
    char *qp = http_quote(prefix), *qm = http_quote(marker), *query = NULL;
    struct fanout_req r = {.host = d->storage.host,
                           .port = d->storage.port,
                           .method = "GET",
                           .headers = hdrs,
                           .n_headers = 1,
                           .want_json = true,
                           .retries = d->c.retries};
    json_t *row;
    size_t i;
    int err = 0;

    *last = NULL;
    if (qp && qm &&
        asprintf(&query, "format=json&limit=%d&prefix=%s&marker=%s",
                 LISTING_LIMIT, qp, qm) != -1)
        r.path = proxy_path(d, container, NULL, query);
    free(qp);
    free(qm);
    free(query);
    if (!r.path)
        return -ENOMEM;
    fanout_run(d->client, &r, 1, 1);
    free((char *)r.path);
    if (r.status == 204)
        return 0;
    if (r.status != 200)
        return r.status == 404 ? -ENOENT : r.status < 0 ? r.status : -EIO;
    if (!json_is_array(r.json))
        err = -EPROTO;
    json_array_foreach(r.json, i, row)
    {
        json_t *name = json_object_get(row, "name");

        if (!json_is_string(name)) {
            err = -EPROTO;
            break;
        }
        if (json_array_append(names, name)) {
            err = -ENOMEM;
            break;
        }
        *last = json_string_value(name);
    }
    json_decref(r.json);
    return err;
}

/* Every name in a listing of the account ('container' NULL) or of a
 * container, starting with 'prefix', page after page. Sets *out to a JSON
 * array of names; returns 0 or as list_page(). */
static int list_names(const struct dispersion *d, const char *container,
                      const char *prefix, json_t **out)
{
    json_t *names = json_array();
    const char *last = "";
    int err = names ? 0 : -ENOMEM;

    while (!err && last)
        err = list_page(d, container, prefix, last, names, &last);
    if (err)
        json_decref(names);
    else
        *out = names;
    return err;
}

static int load_ring(const struct dispersion *d, const char *name,
                     struct ring **out)
{
    char path[4096], err[RINGFILE_ERRLEN];

    snprintf(path, sizeof(path), "%s/%s.ring.gz", d->c.swift_dir, name);
    if (ring_load(path, out, err))
        return fail(d, "cannot load '%s': %s", path, err);
    return 0;
}

static uint32_t part_of(const struct dispersion *d, const struct ring *ring,
                        const char *container, const char *obj)
{
    unsigned char digest[16];

    hash_path(&d->hc, d->account, container, obj, digest);
    return ring_get_part(ring, digest);
}

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- populate ---- */

/* PUTs through the proxy, all at once; fails if any did not succeed
 * after its retries. *retries gets the retries made. */
static int put_all(struct dispersion *d, struct fanout_req *reqs, size_t n,
                   unsigned int *retries)
{
    char why[128];
    int rc = 0;

    if (fanout_run(d->client, reqs, n, d->c.concurrency))
        return fail(d, "cannot start threads");
    for (size_t i = 0; i < n; i++) {
        *retries += reqs[i].tries - 1;
        if (reqs[i].status / 100 != 2 && !rc)
            rc = fail(d, "PUT %s: %s; gave up", reqs[i].path,
                      fanout_error(&reqs[i], why, sizeof(why)));
    }
    return rc;
}

/* Names "<prefix><n>" for n = 0, 1... whose partitions are new, until
 * 'coverage' % of the ring's partitions are covered. Returns the names
 * (a JSON array) or NULL. */
static json_t *pick_names(const struct dispersion *d, const struct ring *ring,
                          const char *container, const char *prefix)
{
    size_t parts = ring_partition_count(ring);
    double need = d->c.coverage / 100.0 * (double)parts;
    unsigned char *seen = calloc(parts, 1);
    json_t *names = json_array();
    size_t left = parts;

    for (unsigned long n = 0; seen && names && need >= 1 && left; n++) {
        char name[64];
        uint32_t part;

        snprintf(name, sizeof(name), "%s%lu", prefix, n);
        part = part_of(d, ring, container ? container : name,
                       container ? name : NULL);
        if (seen[part])
            continue;
        seen[part] = 1;
        left--;
        need -= 1;
        json_array_append_new(names, json_string(name));
    }
    if (!seen) {
        json_decref(names);
        names = NULL;
    }
    free(seen);
    return names;
}

/* PUTs of each name: containers, or objects of 'container' (a body and
 * X-Object-Meta-Dispersion of the name, as Swift's). */
static int put_names(struct dispersion *d, json_t *names, const char *container,
                     unsigned int *retries)
{
    size_t n = json_array_size(names);
    struct fanout_req *reqs = calloc(n + 1, sizeof(*reqs));
    struct http_header *hdrs = calloc(2 * (n + 1), sizeof(*hdrs));
    int rc = reqs && hdrs ? 0 : fail(d, "out of memory");

    for (size_t i = 0; !rc && i < n; i++) {
        const char *name = json_string_value(json_array_get(names, i));
        char *path = container ? proxy_path(d, container, name, NULL)
                               : proxy_path(d, name, NULL, NULL);

        hdrs[2 * i] = (struct http_header){"X-Auth-Token", d->token};
        hdrs[2 * i + 1] =
            (struct http_header){"X-Object-Meta-Dispersion", name};
        reqs[i] = (struct fanout_req){.host = d->storage.host,
                                      .port = d->storage.port,
                                      .method = "PUT",
                                      .path = path,
                                      .headers = &hdrs[2 * i],
                                      .n_headers = container ? 2 : 1,
                                      .body = container ? name : NULL,
                                      .body_len = container ? strlen(name) : 0,
                                      .retries = d->c.retries};
        if (!path)
            rc = fail(d, "out of memory");
    }
    if (!rc)
        rc = put_all(d, reqs, n, retries);
    for (size_t i = 0; reqs && i < n; i++)
        free((char *)reqs[i].path);
    free(reqs);
    free(hdrs);
    return rc;
}

static int populate_containers(struct dispersion *d)
{
    struct ring *ring = NULL;
    json_t *names = NULL;
    unsigned int retries = 0;
    double t0 = now();
    char prefix[32];
    int rc = load_ring(d, "container", &ring);

    snprintf(prefix, sizeof(prefix), "dispersion_%d_", DISPERSION_POLICY);
    if (!rc) {
        names = pick_names(d, ring, NULL, prefix);
        rc = names ? put_names(d, names, NULL, &retries)
                   : fail(d, "out of memory");
    }
    if (!rc)
        printf("Created %zu containers for dispersion reporting, %.0fs, %u "
               "retries\n",
               json_array_size(names), now() - t0, retries);
    json_decref(names);
    ring_free(ring);
    return rc;
}

static int populate_objects(struct dispersion *d)
{
    struct ring *ring = NULL;
    json_t *names = NULL, *one = json_array();
    unsigned int retries = 0;
    double t0 = now();
    char container[64];
    int rc = load_ring(d, "object", &ring);

    snprintf(container, sizeof(container), "dispersion_objects_%d",
             DISPERSION_POLICY);
    if (!rc && !one)
        rc = fail(d, "out of memory");
    if (!rc && !json_array_append_new(one, json_string(container)))
        rc = put_names(d, one, NULL, &retries);
    if (!rc) {
        names = pick_names(d, ring, container, "dispersion_");
        retries = 0;
        rc = names ? put_names(d, names, container, &retries)
                   : fail(d, "out of memory");
    }
    if (!rc)
        printf("Created %zu objects for dispersion reporting, %.0fs, %u "
               "retries\n",
               json_array_size(names), now() - t0, retries);
    json_decref(one);
    json_decref(names);
    ring_free(ring);
    return rc;
}

/* ---- report ---- */

/* Copies found per partition of one kind of item. */
struct tally {
    size_t listed, parts;
    unsigned long found, expected, retries;
    unsigned long *missing; /* missing[k]: partitions missing k copies */
    size_t replicas;
};

/* Swift's "# Object partition N missing 1 copy" line (-p), and the
 * copies missing. */
static void print_partition(const char *kind, uint32_t part,
                            const struct fanout_req *reqs, size_t n,
                            size_t found)
{
    char why[128];

    fprintf(stderr, "# %c%s partition %u missing %zu cop%s\n",
            kind[0] - 'a' + 'A', kind + 1, part, n - found,
            n - found == 1 ? "y" : "ies");
    for (size_t k = 0; k < n; k++)
        if (reqs[k].status / 100 != 2)
            fprintf(stderr, "#   %s:%u%s: %s\n", reqs[k].host, reqs[k].port,
                    reqs[k].path, fanout_error(&reqs[k], why, sizeof(why)));
}

/* HEADs of every primary of each item's partition (once per partition),
 * straight to the storage servers. t[i] = {container, object} per item
 * (NULL container: the account itself). */
static int head_primaries(struct dispersion *d, const struct ring *ring,
                          const char *kind, const char *const (*t)[2], size_t n,
                          struct tally *out)
{
    size_t max = ring_replica_arrays(ring), n_reqs = 0, parts = 0;
    size_t n_parts = ring_partition_count(ring);
    unsigned char *seen = calloc(n_parts, 1);
    struct fanout_req *reqs = calloc(n * max + 1, sizeof(*reqs));
    size_t *first = calloc(n + 1, sizeof(*first));
    size_t *count = calloc(n + 1, sizeof(*count));
    uint32_t *part_no = calloc(n + 1, sizeof(*part_no));
    const struct ring_dev **nodes = calloc(max + 1, sizeof(*nodes));
    const struct http_header hdrs[] = {{"X-Backend-Storage-Policy-Index", "0"}};
    int rc = seen && reqs && first && count && part_no && nodes ? 0 : -ENOMEM;

    for (size_t i = 0; !rc && i < n; i++) {
        uint32_t part = part_of(d, ring, t[i][0], t[i][1]);
        char *qa = http_quote(d->account), *qc = NULL, *qo = NULL;

        if (seen[part])
            goto next;
        seen[part] = 1;
        first[parts] = n_reqs;
        part_no[parts] = part;
        count[parts] = ring_get_part_nodes(ring, part, nodes, max);
        qc = t[i][0] ? http_quote(t[i][0]) : NULL;
        qo = t[i][1] ? http_quote(t[i][1]) : NULL;
        for (size_t k = 0; k < count[parts]; k++) {
            char *path = NULL;

            if (asprintf(&path, "/%s/%u/%s%s%s%s%s", nodes[k]->device, part, qa,
                         qc ? "/" : "", qc ? qc : "", qo ? "/" : "",
                         qo ? qo : "") == -1) {
                rc = -ENOMEM;
                break;
            }
            reqs[n_reqs++] =
                (struct fanout_req){.host = nodes[k]->ip,
                                    .port = (unsigned)nodes[k]->port,
                                    .method = "HEAD",
                                    .path = path,
                                    .headers = hdrs,
                                    .n_headers = qo ? 1 : 0,
                                    .retries = d->c.retries};
        }
        parts++;
    next:
        free(qa);
        free(qc);
        free(qo);
    }
    if (!rc)
        rc = fanout_run(d->client, reqs, n_reqs, d->c.concurrency);
    out->missing = rc ? NULL : calloc(max + 1, sizeof(*out->missing));
    if (!rc && !out->missing)
        rc = -ENOMEM;
    out->replicas = max;
    out->listed = n;
    out->parts = parts;
    for (size_t p = 0; !rc && p < parts; p++) {
        size_t found = 0;

        for (size_t k = 0; k < count[p]; k++) {
            const struct fanout_req *r = &reqs[first[p] + k];
            char why[128];

            out->retries += r->tries ? r->tries - 1 : 0;
            if (r->status / 100 == 2)
                found++;
            else if (r->status == 507)
                fprintf(stderr,
                        "ERROR: %s:%u/%.*s is unmounted -- This will "
                        "cause replicas designated for that device to "
                        "be considered missing until resolved or the "
                        "ring is updated.\n",
                        r->host, r->port, (int)strcspn(r->path + 1, "/"),
                        r->path + 1);
            else if (r->status != 404)
                fprintf(stderr, "ERROR: %s:%u%s: %s\n", r->host, r->port,
                        r->path, fanout_error(r, why, sizeof(why)));
        }
        if (d->c.partitions && found < count[p])
            print_partition(kind, part_no[p], &reqs[first[p]], count[p], found);
        out->found += found;
        out->expected += count[p];
        out->missing[count[p] - found]++;
    }
    for (size_t i = 0; reqs && i < n_reqs; i++)
        free((char *)reqs[i].path);
    free(reqs);
    free(seen);
    free(first);
    free(count);
    free(part_no);
    free(nodes);
    return rc;
}

/* Swift's missing_string(). */
static void print_missing(size_t n_parts, size_t missing, size_t copies)
{
    char count[32];

    snprintf(count, sizeof(count), "%zu", missing);
    printf("%sThere %s %zu partition%s missing %s cop%s.\n",
           missing == copies       ? "!!! "
           : copies - missing == 1 ? "! "
                                   : "",
           n_parts > 1 ? "were" : "was", n_parts, n_parts > 1 ? "s" : "",
           missing == copies ? "all" : count, missing == 1 ? "y" : "ies");
}

/* Prints one section of the report, or adds it to 'json' as 'kind'. */
static int tally_out(const struct dispersion *d, const char *kind,
                     const char *plural, const struct tally *t,
                     const struct ring *ring, double secs, json_t *json)
{
    double pct =
        t->expected ? 100.0 * (double)t->found / (double)t->expected : 0;
    json_t *res;

    if (!d->c.dump_json) {
        printf("Queried %zu %s for dispersion reporting, %.0fs, %lu "
               "retries\n",
               t->listed, plural, secs, t->retries);
        if (t->listed > t->parts)
            printf("There were %zu overlapping partitions\n",
                   t->listed - t->parts);
        for (size_t k = 1; k <= t->replicas; k++)
            if (t->missing[k])
                print_missing(t->missing[k], k, t->replicas);
        printf("%.02f%% of %s copies found (%lu of %lu)\n", pct, kind, t->found,
               t->expected);
        printf("Sample represents %.02f%% of the %s partition space\n",
               100.0 * (double)t->parts / (double)ring_partition_count(ring),
               kind);
        return fflush(stdout) ? -EIO : 0;
    }
    res = json_pack("{s:I, s:I, s:f, s:I, s:I}", "retries",
                    (json_int_t)t->retries, "overlapping",
                    (json_int_t)(t->listed - t->parts), "pct_found", pct,
                    "copies_found", (json_int_t)t->found, "copies_expected",
                    (json_int_t)t->expected);
    for (size_t k = 1; res && k <= t->replicas; k++) {
        char key[32];

        snprintf(key, sizeof(key), "missing_%zu", k);
        if (t->missing[k])
            json_object_set_new(res, key,
                                json_integer((json_int_t)t->missing[k]));
    }
    return res && !json_object_set_new(json, kind, res) ? 0 : -ENOMEM;
}

/* Lists the items, HEADs their primaries, reports. 'names' may hold no
 * items: then Swift's hint to populate and a null section. */
static int report_kind(struct dispersion *d, const char *kind,
                       const char *plural, const char *ring_name,
                       const char *container, json_t *names, json_t *json)
{
    size_t n = json_array_size(names);
    const char *(*t)[2] = calloc(n + 1, sizeof(*t));
    struct tally tally = {0};
    struct ring *ring = NULL;
    double t0 = now();
    int rc;

    if (!n) {
        fprintf(stderr,
                "No %s to query. Has kura dispersion-populate been "
                "run?\n",
                plural);
        free(t);
        return json_object_set_new(json, kind, json_null()) ? -ENOMEM : 0;
    }
    rc = t ? load_ring(d, ring_name, &ring) : -ENOMEM;
    for (size_t i = 0; !rc && i < n; i++) {
        const char *name = json_string_value(json_array_get(names, i));

        t[i][0] = container ? container : name;
        t[i][1] = container ? name : NULL;
        if (!strcmp(kind, "account"))
            t[i][0] = NULL;
    }
    if (!rc)
        rc = head_primaries(d, ring, kind, t, n, &tally);
    if (!rc)
        rc = tally_out(d, kind, plural, &tally, ring, now() - t0, json);
    free(tally.missing);
    free(t);
    ring_free(ring);
    return rc > 0 ? rc : rc ? fail(d, "%s report: %s", kind, strerror(-rc)) : 0;
}

static int report(struct dispersion *d)
{
    json_t *json = json_object(), *names = NULL;
    char prefix[32], container[64];
    int rc = json ? 0 : -ENOMEM, err;

    if (!d->c.dump_json)
        printf("Using storage policy: Policy-%d \n", DISPERSION_POLICY);
    snprintf(prefix, sizeof(prefix), "dispersion_%d", DISPERSION_POLICY);
    snprintf(container, sizeof(container), "dispersion_objects_%d",
             DISPERSION_POLICY);
    if (!rc && d->c.container_report) {
        err = list_names(d, NULL, prefix, &names);
        rc = err ? fail(d, "cannot list the account: %s", strerror(-err))
                 : report_kind(d, "container", "containers", "container", NULL,
                               names, json);
        json_decref(names);
        names = NULL;
    }
    if (!rc && d->c.object_report) {
        err = list_names(d, container, "dispersion_", &names);
        if (err == -ENOENT)
            names = json_array(), err = names ? 0 : -ENOMEM;
        rc = err ? fail(d, "cannot list '%s': %s", container, strerror(-err))
                 : report_kind(d, "object", "objects", "object", container,
                               names, json);
        json_decref(names);
        names = NULL;
    }
    if (!rc && d->c.container_report) { /* Kura: the account's copies */
        names = json_pack("[s]", d->account);
        rc = names ? report_kind(d, "account", "accounts", "account", NULL,
                                 names, json)
                   : -ENOMEM;
        json_decref(names);
    }
    if (!rc && d->c.dump_json) {
        char *text = json_dumps(json, JSON_SORT_KEYS);

        rc = text && puts(text) >= 0 ? 0 : 1;
        free(text);
    }
    json_decref(json);
    return rc < 0 ? fail(d, "%s", strerror(-rc)) : rc;
}

/* ---- the commands ---- */

static int run(const char *cmd, int argc, char **argv, bool populate)
{
    struct dispersion d = {.cmd = cmd};
    char conf[4096], herr[HASH_PATH_ERRLEN];
    int rc = parse_opts(&d, argc, argv), err;

    if (rc)
        goto out;
    snprintf(conf, sizeof(conf), "%s/swift.conf", d.c.swift_dir);
    err = hash_path_conf_load(&d.hc, conf, herr);
    if (err) {
        rc = fail(&d, "%s: %s", conf, err == -EINVAL ? herr : strerror(-err));
        goto out;
    }
    err = http_client_new(NULL, &d.client);
    if (err) {
        rc = fail(&d, "%s", strerror(-err));
        goto out;
    }
    rc = authenticate(&d);
    if (!rc && populate) {
        printf("Using storage policy: Policy-%d \n", DISPERSION_POLICY);
        if (d.c.container_populate)
            rc = populate_containers(&d);
        if (!rc && d.c.object_populate)
            rc = populate_objects(&d);
    } else if (!rc) {
        rc = report(&d);
    }
out:
    http_client_free(d.client);
    hash_path_conf_release(&d.hc);
    conf_release(dispersion_options, &d.c);
    free(d.storage.path);
    free(d.token);
    free(d.account);
    return rc < 0 ? 0 : rc; /* -1: --help */
}

int cmd_dispersion_populate(int argc, char **argv)
{
    return run("dispersion-populate", argc, argv, true);
}

int cmd_dispersion_report(int argc, char **argv)
{
    return run("dispersion-report", argc, argv, false);
}
