/*
 * aio.c - 'kura aio': the all-in-one cluster, every daemon on one machine
 * under one directory. 'start' makes the layout on first use (swift.conf
 * with fresh secrets, rings built by kura-ring, one config per server),
 * starts each node's storage servers and background daemons and the proxy
 * detached and waits until they run; 'stop' and 'status' work from the pid
 * files. The daemons own everything else: this file writes their configs
 * and watches their processes, nothing more. doc/aio.md is the user's
 * view.
 *
 * Layout of DIR:
 *   etc/    swift.conf, aio.json (ip, ports, nodes, devices),
 *           <ring>.builder, <ring>.ring.gz, <server>.conf
 *   devices/d<k> with one node; nodes/<i>/d<k> with several
 *   recon/  the recon cache with one node; recon/<i>/ with several
 *   log/    <name>.log (the daemon's log), <name>.out (stdout and stderr)
 *   run/    <name>.pid, lock
 * A node's background daemons (object-replicator, -auditor, -updater,
 * -expirer) read its object server's config, from sections of their own.
 * Invariants:
 * 1. DIR/etc appears (by rename) only whole: swift.conf, the three rings
 *    and aio.json. A start that fails half-way leaves nothing to reuse, and
 *    rings and secrets are never rewritten afterwards.
 * 2. A pid file names a live daemon only if /proc/<pid>/cmdline is that
 *    daemon's binary with its config path last, so a stale file (a
 *    reboot, a reused pid) is never signalled.
 * 3. start and stop hold DIR/run/lock, so two of them never interleave.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/atomic_file.h"
#include "tools/kura/cmd.h"

/* without --devices: d1..d4 round the nodes, as before --devices */
#define AIO_ROUND_DEVICES 4
#define AIO_MAX_NODES 4
#define AIO_MAX_NODE_DEVICES 8
#define AIO_MAX_DEVICES (AIO_MAX_NODES * AIO_MAX_NODE_DEVICES)
#define AIO_REPLICAS 3
/* per node: 3 servers, 4 background daemons; then the proxy */
#define AIO_MAX_DAEMONS (7 * AIO_MAX_NODES + 1)
#define AIO_NAME_LEN 48
/* room left in PATH_MAX after DIR for "/etc/<name>.conf" and the like */
#define AIO_DIR_MAX (PATH_MAX - 128)
#define AIO_START_WAIT_MS 15000
/* a background daemon still running this long after its start read its
 * config: one with a bad config exits at once */
#define AIO_SETTLE_MS 500
#define AIO_STOP_WAIT_MS 10000
#define AIO_KILL_WAIT_MS 2000
#define AIO_POLL_MS 50
#define AIO_STOP_POLL_MS 10
#define AIO_TAIL_LINES 10
#define AIO_EXIT_NOT_RUNNING 3
/* aio.json's version: 2 gives each node of several its own address */
#define AIO_LAYOUT_VERSION 2

extern char **environ;

enum aio_kind {
    AIO_OBJECT,
    AIO_CONTAINER,
    AIO_ACCOUNT,
    AIO_PROXY,
    /* the background daemons of doc/replication.md §1: no port */
    AIO_REPLICATOR,
    AIO_AUDITOR,
    AIO_UPDATER,
    AIO_EXPIRER,
    AIO_N_KINDS,
};

/* The storage kinds come first and in port order: a node's object server
 * listens on its base port, the container server on +1, the account server
 * on +2, as Swift's all-in-one has them. */
static const struct {
    const char *name;   /* Swift's: the log and pid file name, and the
                           config's, or for a background daemon the
                           section it reads in the object server's */
    const char *binary; /* found by find_binary() */
    const char *subdir; /* where the build tree puts the binary */
    const char *ring;   /* the ring whose devices name this server */
} kinds[] = {
    [AIO_OBJECT] = {"object-server", "kura-object-server", "storage", "object"},
    [AIO_CONTAINER] = {"container-server", "kura-container-server", "storage",
                       "container"},
    [AIO_ACCOUNT] = {"account-server", "kura-account-server", "storage",
                     "account"},
    [AIO_PROXY] = {"proxy-server", "kura-proxy", "proxy", NULL},
    [AIO_REPLICATOR] = {"object-replicator", "kura-replicator", "replicator",
                        NULL},
    [AIO_AUDITOR] = {"object-auditor", "kura-auditor", "replicator", NULL},
    [AIO_UPDATER] = {"object-updater", "kura-updater", "replicator", NULL},
    [AIO_EXPIRER] = {"object-expirer", "kura-expirer", "replicator", NULL},
};

static bool background(enum aio_kind k)
{
    return k > AIO_PROXY;
}

/* What DIR/etc/aio.json keeps: the rings and configs depend on all of it,
 * so a later start must match it. */
struct aio_layout {
    char ip[INET6_ADDRSTRLEN]; /* the proxy's and node 1's */
    unsigned port;             /* the proxy's */
    unsigned storage_port;     /* node i's object server: + 10 * (i - 1) */
    unsigned nodes;
    unsigned devices; /* per node; 0: d1..d4 round the nodes */
};

struct daemon {
    enum aio_kind kind;
    unsigned node; /* 1-based; 0 for the proxy */
    char name[AIO_NAME_LEN];
    char ip[INET6_ADDRSTRLEN];
    unsigned port; /* 0 for a background daemon */
    pid_t pid;     /* the live process, or 0 */
    bool started;  /* by this run: a failed start stops it again */
};

struct aio {
    char *dir; /* absolute, at most AIO_DIR_MAX long */
    struct aio_layout lay;
    struct daemon daemons[AIO_MAX_DAEMONS];
    unsigned n_daemons;
};

enum aio_opt {
    OPT_DIR = 1,
    OPT_IP,
    OPT_PORT,
    OPT_STORAGE_PORT,
    OPT_NODES,
    OPT_DEVICES,
    OPT_NODE,
    OPT_HELP,
};

struct aio_opts {
    const char *dir;
    struct aio_layout lay;
    unsigned node;  /* --node: only that node's daemons; 0 for all */
    unsigned given; /* 1 << enum aio_opt, for the options on the command
                       line */
};

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* One line on stderr; returns the exit status for errors. */
static int fail(const char *fmt, ...)
{
    va_list ap;

    fputs("kura aio: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return CMD_EXIT_ERROR;
}

static void dir_path(char out[PATH_MAX], const struct aio *a, const char *fmt,
                     ...) __attribute__((format(printf, 3, 4)));

/* DIR followed by the formatted rest. DIR is at most AIO_DIR_MAX long and
 * the rest is short, so PATH_MAX always holds it. */
static void dir_path(char out[PATH_MAX], const struct aio *a, const char *fmt,
                     ...)
{
    size_t n = strlen(a->dir);
    va_list ap;

    memcpy(out, a->dir, n);
    va_start(ap, fmt);
    vsnprintf(out + n, PATH_MAX - n, fmt, ap);
    va_end(ap);
}

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};

    nanosleep(&ts, NULL);
}

/* An IPv6 address goes in brackets in URLs and ring device strings. */
static const char *host(const char *ip, char buf[64])
{
    if (!strchr(ip, ':'))
        return ip;
    snprintf(buf, 64, "[%s]", ip);
    return buf;
}

/* Node i of several listens on the i-th IPv4 address from --ip (127.0.0.1,
 * 127.0.0.2, ...), so the rings tell nodes apart by ip as real ones are,
 * and 'kura-ring remove <ip>' takes out exactly one. One node, and every
 * node of an IPv6 layout, listens on --ip itself (ports still differ).
 * layout_error() made sure the last address exists. */
static void node_ip(const struct aio_layout *lay, unsigned node,
                    char out[INET6_ADDRSTRLEN])
{
    struct in_addr addr;

    if (lay->nodes == 1 || node <= 1 ||
        inet_pton(AF_INET, lay->ip, &addr) != 1) {
        strcpy(out, lay->ip);
        return;
    }
    addr.s_addr = htonl(ntohl(addr.s_addr) + node - 1);
    inet_ntop(AF_INET, &addr, out, INET6_ADDRSTRLEN);
}

/* ---- options and the stored layout ---- */

static void print_help(void)
{
    printf("usage: kura aio start [--dir DIR] [--ip IP] [--port PORT] "
           "[--storage-port PORT]\n"
           "                      [--nodes 1..4] [--devices 1..8] "
           "[--node I]\n"
           "       kura aio stop [--dir DIR] [--node I]\n"
           "       kura aio status [--dir DIR] [--node I]\n"
           "DIR: --dir, else $KURA_AIO_DIR, else ./.aio. Defaults: --ip "
           "127.0.0.1 --port 8080\n"
           "--storage-port 6200 --nodes 1; without --devices, devices d1..d4 "
           "go round the\n"
           "nodes. Node i listens on the i-th address from --ip "
           "(127.0.0.i) when there are\n"
           "several, its object, container and account servers on "
           "storage-port +\n"
           "10 * (i - 1) + 0, 1 and 2. --node I: node I's daemons only. A "
           "DIR keeps the\noptions it was made with. See doc/aio.md.\n");
}

static int parse_uint(const char *s, unsigned min, unsigned max, unsigned *out)
{
    char *end;
    long n;

    errno = 0;
    n = strtol(s, &end, 10);
    if (errno || end == s || *end || n < (long)min || n > (long)max)
        return -EINVAL;
    *out = (unsigned)n;
    return 0;
}

/* NULL if the layout can run, else why not. */
static const char *layout_error(const struct aio_layout *lay)
{
    unsigned char addr[sizeof(struct in6_addr)];
    bool v4 = inet_pton(AF_INET, lay->ip, addr) == 1;

    if (!v4 && inet_pton(AF_INET6, lay->ip, addr) != 1)
        return "--ip must be an IPv4 or IPv6 address";
    if (lay->nodes < 1 || lay->nodes > AIO_MAX_NODES)
        return "--nodes must be 1, 2, 3 or 4";
    if (lay->devices > AIO_MAX_NODE_DEVICES)
        return "--devices must be 1 to 8";
    if (lay->devices && lay->nodes * lay->devices < AIO_REPLICAS)
        return "the rings keep 3 replicas: --nodes times --devices must be "
               "3 or more";
    if (v4 && lay->nodes > 1 && addr[3] + lay->nodes - 1 > 254)
        return "node i listens on the i-th address from --ip: its last "
               "number plus --nodes must stay under 256";
    if (lay->port < 1 || lay->port > 65535 || lay->storage_port < 1 ||
        lay->storage_port + 10 * (lay->nodes - 1) + 2 > 65535)
        return "ports must be between 1 and 65535 (the last node's account "
               "server listens on storage-port + 10 * (nodes - 1) + 2)";
    for (unsigned i = 0; i < lay->nodes; i++) {
        unsigned base = lay->storage_port + 10 * i;

        if (lay->port >= base && lay->port <= base + 2)
            return "--port is one of the storage servers' ports";
    }
    return NULL;
}

/* Returns 0, 1 after --help, or CMD_EXIT_ERROR after a message. */
static int parse_opts(int argc, char **argv, bool start, struct aio_opts *o)
{
    static const struct option longopts[] = {
        {"dir", required_argument, NULL, OPT_DIR},
        {"ip", required_argument, NULL, OPT_IP},
        {"port", required_argument, NULL, OPT_PORT},
        {"storage-port", required_argument, NULL, OPT_STORAGE_PORT},
        {"nodes", required_argument, NULL, OPT_NODES},
        {"devices", required_argument, NULL, OPT_DEVICES},
        {"node", required_argument, NULL, OPT_NODE},
        {"help", no_argument, NULL, OPT_HELP},
        {0},
    };
    int c, idx = 0, err = 0;

    *o = (struct aio_opts){
        .lay = {.ip = "127.0.0.1",
                .port = 8080,
                .storage_port = 6200,
                .nodes = 1},
    };
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", longopts, &idx)) != -1) {
        if (c == 'h' || c == OPT_HELP) {
            print_help();
            return 1;
        }
        if (c == ':')
            return fail("%s: option '%s' needs a value", argv[0],
                        argv[optind - 1]);
        if (c == '?')
            return fail("%s: unknown option '%s' (try 'kura aio --help')",
                        argv[0], argv[optind - 1]);
        if (c != OPT_DIR && c != OPT_NODE && !start)
            return fail("%s takes only --dir and --node", argv[0]);
        o->given |= 1u << c;
        switch (c) {
        case OPT_DIR: o->dir = optarg; break;
        case OPT_IP:
            if (strlen(optarg) >= sizeof(o->lay.ip))
                return fail("bad --ip '%s'", optarg);
            strcpy(o->lay.ip, optarg);
            break;
        case OPT_PORT: err = parse_uint(optarg, 1, 65535, &o->lay.port); break;
        case OPT_STORAGE_PORT:
            err = parse_uint(optarg, 1, 65535, &o->lay.storage_port);
            break;
        case OPT_NODES:
            err = parse_uint(optarg, 1, AIO_MAX_NODES, &o->lay.nodes);
            break;
        case OPT_DEVICES:
            err = parse_uint(optarg, 1, AIO_MAX_NODE_DEVICES, &o->lay.devices);
            break;
        case OPT_NODE:
            err = parse_uint(optarg, 1, AIO_MAX_NODES, &o->node);
            break;
        }
        if (err)
            return fail("bad --%s '%s'", longopts[idx].name, optarg);
    }
    if (optind < argc)
        return fail("%s: unexpected argument '%s'", argv[0], argv[optind]);
    if (!o->dir)
        o->dir = getenv("KURA_AIO_DIR");
    if (!o->dir || !*o->dir)
        o->dir = "./.aio";
    return 0;
}

/* Reads DIR/etc/aio.json. Returns 0, -ENOENT if there is none, or
 * -EINVAL after a message. */
static int load_layout(const struct aio *a, struct aio_layout *lay)
{
    char path[PATH_MAX];
    const char *ip;
    json_int_t version = 1, port, storage_port, nodes, devices = 0;
    json_error_t jerr;
    json_t *doc;
    int err = 0;

    dir_path(path, a, "/etc/aio.json");
    if (access(path, F_OK))
        return -ENOENT;
    doc = json_load_file(path, 0, &jerr);
    if (!doc) {
        fail("cannot read '%s': line %d: %s", path, jerr.line, jerr.text);
        return -EINVAL;
    }
    /* version 1 had no "devices": d1..d4 round the nodes */
    if (json_unpack_ex(doc, &jerr, 0, "{s?I, s:s, s:I, s:I, s:I, s?I}",
                       "version", &version, "ip", &ip, "port", &port,
                       "storage_port", &storage_port, "nodes", &nodes,
                       "devices", &devices) ||
        strlen(ip) >= sizeof(lay->ip) || port < 0 || port > 65535 ||
        storage_port < 0 || storage_port > 65535 || nodes < 0 ||
        nodes > AIO_MAX_NODES || devices < 0 ||
        devices > AIO_MAX_NODE_DEVICES) {
        fail("'%s' is not a kura aio layout", path);
        err = -EINVAL;
        goto out;
    }
    if (version < 2 && nodes > 1) {
        fail("'%s' was made by an older kura aio, with every node on one "
             "address: stop it and use another --dir",
             path);
        err = -EINVAL;
        goto out;
    }
    strcpy(lay->ip, ip);
    lay->port = (unsigned)port;
    lay->storage_port = (unsigned)storage_port;
    lay->nodes = (unsigned)nodes;
    lay->devices = (unsigned)devices;
    if (layout_error(lay)) {
        fail("'%s': %s", path, layout_error(lay));
        err = -EINVAL;
    }
out:
    json_decref(doc);
    return err;
}

static int write_layout(const char *path, const struct aio_layout *lay)
{
    json_t *doc;
    char *text = NULL;
    int err = -ENOMEM;

    doc = json_pack("{s:i, s:s, s:i, s:i, s:i, s:i}", "version",
                    AIO_LAYOUT_VERSION, "ip", lay->ip, "port", (int)lay->port,
                    "storage_port", (int)lay->storage_port, "nodes",
                    (int)lay->nodes, "devices", (int)lay->devices);
    if (doc)
        text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (text) {
        size_t n = strlen(text);

        text[n] = '\n'; /* over the NUL: the buffer is not used as a string
                           any more */
        err = atomic_file_replace(path, text, n + 1);
    }
    free(text);
    json_decref(doc);
    return err;
}

/* The layout this start runs: the stored one, which options on the command
 * line must match, or the options' for a new DIR. Sets *fresh for a new
 * DIR. Returns 0 or CMD_EXIT_ERROR after a message. */
static int settle_layout(struct aio *a, const struct aio_opts *o, bool *fresh)
{
    struct aio_layout old;
    char etc[PATH_MAX], devices[32] = "";
    int err;

    err = load_layout(a, &old);
    if (err == -EINVAL)
        return CMD_EXIT_ERROR;
    *fresh = err == -ENOENT;
    if (*fresh) {
        dir_path(etc, a, "/etc");
        if (!access(etc, F_OK))
            return fail("'%s' exists but has no aio.json: not a kura aio "
                        "layout (use another --dir)",
                        etc);
        a->lay = o->lay;
        return layout_error(&a->lay) ? fail("%s", layout_error(&a->lay)) : 0;
    }
    if (((o->given & 1u << OPT_IP) && strcmp(o->lay.ip, old.ip)) ||
        ((o->given & 1u << OPT_PORT) && o->lay.port != old.port) ||
        ((o->given & 1u << OPT_STORAGE_PORT) &&
         o->lay.storage_port != old.storage_port) ||
        ((o->given & 1u << OPT_NODES) && o->lay.nodes != old.nodes) ||
        ((o->given & 1u << OPT_DEVICES) && o->lay.devices != old.devices)) {
        if (old.devices)
            snprintf(devices, sizeof(devices), " --devices %u", old.devices);
        return fail("'%s' holds a cluster made with --ip %s --port %u "
                    "--storage-port %u --nodes %u%s: start it with those, "
                    "or use another --dir",
                    a->dir, old.ip, old.port, old.storage_port, old.nodes,
                    devices);
    }
    a->lay = old;
    return 0;
}

/* ---- the directory ---- */

static int mkdir_p(const char *path, mode_t mode)
{
    char buf[PATH_MAX];
    size_t n = strlen(path);

    if (n >= sizeof(buf))
        return -ENAMETOOLONG;
    memcpy(buf, path, n + 1);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, mode) == -1 && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    if (mkdir(buf, mode) == -1 && errno != EEXIST)
        return -errno;
    return 0;
}

/* Sets a->dir to the absolute form of 'dir', made first if 'make'.
 * Returns 0, -ENOENT if it does not exist, or CMD_EXIT_ERROR after a
 * message. */
static int open_dir(struct aio *a, const char *dir, bool make)
{
    int err;

    if (make && (err = mkdir_p(dir, 0755)))
        return fail("cannot create '%s': %s", dir, strerror(-err));
    a->dir = realpath(dir, NULL);
    if (!a->dir)
        return errno == ENOENT && !make
                   ? -ENOENT
                   : fail("cannot resolve '%s': %s", dir, strerror(errno));
    if (strlen(a->dir) > AIO_DIR_MAX)
        return fail("'%s': path too long", a->dir);
    return 0;
}

/* Takes DIR/run/lock (invariant 3). Returns the descriptor or -1 after a
 * message. */
static int take_lock(const struct aio *a)
{
    char path[PATH_MAX];
    int fd, err;

    dir_path(path, a, "/run");
    if ((err = mkdir_p(path, 0755))) {
        fail("cannot create '%s': %s", path, strerror(-err));
        return -1;
    }
    dir_path(path, a, "/run/lock");
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd == -1 || flock(fd, LOCK_EX) == -1) {
        fail("cannot lock '%s': %s", path, strerror(errno));
        if (fd != -1)
            close(fd);
        return -1;
    }
    return fd;
}

/* Where node 'node' keeps its devices. */
static void devices_dir(char out[PATH_MAX], const struct aio *a, unsigned node)
{
    if (a->lay.nodes == 1)
        dir_path(out, a, "/devices");
    else
        dir_path(out, a, "/nodes/%u", node);
}

/* Node 'node''s recon cache: not under its devices directory, where
 * daemons that list the devices would take it for a device. */
static void recon_dir(char out[PATH_MAX], const struct aio *a, unsigned node)
{
    if (a->lay.nodes == 1)
        dir_path(out, a, "/recon");
    else
        dir_path(out, a, "/recon/%u", node);
}

static unsigned n_devices(const struct aio *a)
{
    return a->lay.devices ? a->lay.nodes * a->lay.devices : AIO_ROUND_DEVICES;
}

/* Device d<k> (1-based) lives on node ((k - 1) % nodes) + 1 without
 * --devices; with it, node i has d<(i - 1) * devices + 1> onwards. */
static unsigned device_node(const struct aio *a, unsigned k)
{
    if (!a->lay.devices)
        return (k - 1) % a->lay.nodes + 1;
    return (k - 1) / a->lay.devices + 1;
}

/* Each node is a zone once there are enough of them for the 3 replicas,
 * as in Swift's all-in-one; with fewer nodes (and without --devices) each
 * device is a zone of its own, so the replicas still go to 3 zones. */
static unsigned device_zone(const struct aio *a, unsigned k)
{
    if (a->lay.devices && a->lay.nodes >= AIO_REPLICAS)
        return device_node(a, k);
    return k;
}

static int make_dirs(const struct aio *a)
{
    char path[PATH_MAX];
    int err;

    dir_path(path, a, "/log");
    if ((err = mkdir_p(path, 0755)))
        return fail("cannot create '%s': %s", path, strerror(-err));
    for (unsigned k = 1; k <= n_devices(a); k++) {
        size_t n;

        devices_dir(path, a, device_node(a, k));
        n = strlen(path);
        snprintf(path + n, sizeof(path) - n, "/d%u", k);
        if ((err = mkdir_p(path, 0755)))
            return fail("cannot create '%s': %s", path, strerror(-err));
    }
    return 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag,
                        struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path) == -1 ? -1 : 0;
}

/* ---- first start: secrets and rings ---- */

static int write_swift_conf(const struct aio *a)
{
    unsigned char secret[2][8];
    char path[PATH_MAX];
    FILE *f;
    int fd;

    if (getrandom(secret, sizeof(secret), 0) != sizeof(secret))
        return -errno;
    dir_path(path, a, "/etc.new/swift.conf");
    /* the secrets decide where every object lives: readable by us only */
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd == -1)
        return -errno;
    f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        return -ENOMEM;
    }
    fprintf(f, "# swift.conf - written by 'kura aio start'; see "
               "etc/swift.conf-sample.\n\n[swift-hash]\n"
               "# Secret: never change these once data is stored.\n");
    for (int i = 0; i < 2; i++) {
        fprintf(f, "swift_hash_path_%s = ", i ? "suffix" : "prefix");
        for (size_t j = 0; j < sizeof(secret[i]); j++)
            fprintf(f, "%02x", secret[i][j]);
        fputc('\n', f);
    }
    fprintf(f, "\n[storage-policy:0]\nname = Policy-0\ndefault = yes\n");
    if (fflush(f) || fsync(fd)) {
        int err = -errno;

        fclose(f);
        return err;
    }
    return fclose(f) ? -errno : 0;
}

/* Runs argv to completion, stdin from /dev/null and its output appended to
 * 'out'. Returns its exit status (128 + signal if killed) or -errno. */
static int run_tool(char *const argv[], const char *out)
{
    posix_spawn_file_actions_t fa;
    pid_t pid;
    int st, err;

    if (posix_spawn_file_actions_init(&fa))
        return -ENOMEM;
    err = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    if (!err)
        err = posix_spawn_file_actions_addopen(
            &fa, 1, out, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (!err)
        err = posix_spawn_file_actions_adddup2(&fa, 1, 2);
    if (!err)
        err = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (err)
        return -err;
    while (waitpid(pid, &st, 0) == -1)
        if (errno != EINTR)
            return -errno;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Builds etc.new/<ring>.builder and .ring.gz for the servers of 'kind': 3
 * replicas, 2^10 partitions, min_part_hours 1, device d<k> in its zone
 * (device_zone()) on its node's ip and server port. Swift's rebalance
 * exits 1 for a warning: still a ring. Returns 0 or CMD_EXIT_ERROR after
 * a message. */
static int build_ring(const struct aio *a, const char *kura_ring,
                      enum aio_kind kind)
{
    char builder[PATH_MAX], out[PATH_MAX], devs[AIO_MAX_DEVICES][96], hb[64];
    char ip[INET6_ADDRSTRLEN];
    char *create[] = {
        (char *)kura_ring, builder, "create", "10", "3", "1", NULL};
    char *add[3 + 2 * AIO_MAX_DEVICES + 1] = {(char *)kura_ring, builder,
                                              "add"};
    char *rebalance[] = {(char *)kura_ring, builder, "rebalance",
                         "--seed",          "1",     NULL};
    char *const *steps[] = {create, add, rebalance};
    int rc;

    dir_path(builder, a, "/etc.new/%s.builder", kinds[kind].ring);
    dir_path(out, a, "/log/kura-ring.out");
    for (unsigned k = 1; k <= n_devices(a); k++) {
        unsigned node = device_node(a, k);
        unsigned port = a->lay.storage_port + 10 * (node - 1) + (unsigned)kind;

        node_ip(&a->lay, node, ip);
        snprintf(devs[k - 1], sizeof(devs[k - 1]), "r1z%u-%s:%u/d%u",
                 device_zone(a, k), host(ip, hb), port, k);
        add[3 + 2 * (k - 1)] = devs[k - 1];
        add[4 + 2 * (k - 1)] = "100";
    }
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        rc = run_tool(steps[i], out);
        if (rc < 0)
            return fail("cannot run '%s': %s", kura_ring, strerror(-rc));
        if (rc > (steps[i] == rebalance ? 1 : 0))
            return fail("'kura-ring %s %s' failed (exit %d): see '%s'", builder,
                        steps[i][2], rc, out);
    }
    return 0;
}

/* Makes DIR/etc whole or not at all (invariant 1): everything goes into
 * DIR/etc.new, renamed into place last. Returns 0 or CMD_EXIT_ERROR after
 * a message. */
static int make_etc(const struct aio *a, const char *kura_ring)
{
    char tmp[PATH_MAX], path[PATH_MAX];
    int err;

    dir_path(tmp, a, "/etc.new");
    /* left by a start that died half-way */
    if (nftw(tmp, remove_entry, 16, FTW_DEPTH | FTW_PHYS) == -1 &&
        errno != ENOENT)
        return fail("cannot remove '%s': %s", tmp, strerror(errno));
    if (mkdir(tmp, 0755) == -1)
        return fail("cannot create '%s': %s", tmp, strerror(errno));
    if ((err = write_swift_conf(a)))
        return fail("cannot write '%s/swift.conf': %s", tmp, strerror(-err));
    for (enum aio_kind k = AIO_OBJECT; k <= AIO_ACCOUNT; k++)
        if (build_ring(a, kura_ring, k))
            return CMD_EXIT_ERROR;
    dir_path(path, a, "/etc.new/aio.json");
    if ((err = write_layout(path, &a->lay)))
        return fail("cannot write '%s': %s", path, strerror(-err));
    dir_path(path, a, "/etc");
    if (rename(tmp, path) == -1)
        return fail("cannot rename '%s' to '%s': %s", tmp, path,
                    strerror(errno));
    if ((err = fsync_parent_dir(path)))
        return fail("cannot sync '%s': %s", a->dir, strerror(-err));
    return 0;
}

/* ---- the daemons and their configs ---- */

/* Reads a daemon's name: "object-server" (of the only node),
 * "object-replicator-2", "proxy-server". Sets *kind and *node (0 for the
 * proxy). False for a name of no kind. */
static bool parse_name(const char *name, enum aio_kind *kind, unsigned *node)
{
    for (enum aio_kind k = 0; k < AIO_N_KINDS; k++) {
        size_t len = strlen(kinds[k].name);

        if (strncmp(name, kinds[k].name, len))
            continue;
        *kind = k;
        *node = k == AIO_PROXY ? 0 : 1;
        if (name[len] == '\0')
            return true;
        if (name[len] == '-' && k != AIO_PROXY &&
            !parse_uint(name + len + 1, 1, AIO_MAX_NODES, node))
            return true;
    }
    return false;
}

/* The config the daemon 'name' runs with, DIR/etc/<name>.conf; for a
 * background daemon its node's object server's. */
static void conf_path(char out[PATH_MAX], const struct aio *a, const char *name)
{
    enum aio_kind k;
    unsigned node;

    if (parse_name(name, &k, &node) && background(k))
        /* "object-replicator-2" -> "object-server-2" */
        dir_path(out, a, "/etc/%s%s.conf", kinds[AIO_OBJECT].name,
                 name + strlen(kinds[k].name));
    else
        dir_path(out, a, "/etc/%s.conf", name);
}

/* The base name of the binary the daemon 'name' runs, NULL if unknown. */
static const char *binary_of(const char *name)
{
    enum aio_kind k;
    unsigned node;

    return parse_name(name, &k, &node) ? kinds[k].binary : NULL;
}

/* Every daemon of the layout that can run, node by node (the servers,
 * then the background daemons whose binary bins[] has), the proxy last;
 * only node 'only''s (not the proxy) unless it is 0. */
static void list_daemons(struct aio *a, char bins[][PATH_MAX], unsigned only)
{
    struct daemon *d;

    a->n_daemons = 0;
    for (unsigned node = 1; node <= a->lay.nodes; node++) {
        if (only && node != only)
            continue;
        for (enum aio_kind k = 0; k < AIO_N_KINDS; k++) {
            if (k == AIO_PROXY || (background(k) && !*bins[k]))
                continue;
            d = &a->daemons[a->n_daemons++];
            *d = (struct daemon){.kind = k, .node = node};
            if (!background(k))
                d->port = a->lay.storage_port + 10 * (node - 1) + (unsigned)k;
            node_ip(&a->lay, node, d->ip);
            if (a->lay.nodes == 1)
                snprintf(d->name, sizeof(d->name), "%s", kinds[k].name);
            else
                snprintf(d->name, sizeof(d->name), "%s-%u", kinds[k].name,
                         node);
        }
    }
    if (only)
        return;
    d = &a->daemons[a->n_daemons++];
    *d = (struct daemon){.kind = AIO_PROXY, .port = a->lay.port};
    strcpy(d->ip, a->lay.ip);
    snprintf(d->name, sizeof(d->name), "%s", kinds[AIO_PROXY].name);
}

/* The sections of the background daemons that read an object server's
 * config (doc/replication.md §1), each logging to a file of its own, with
 * an all-in-one's short intervals: a repair shows within seconds. The
 * auditor stays slow, as it re-reads every object. */
static void print_background_confs(FILE *f, const struct aio *a,
                                   const struct daemon *d)
{
    static const struct {
        enum aio_kind kind;
        const char *options;
    } sections[] = {
        {AIO_REPLICATOR, "interval = 5\n"},
        {AIO_AUDITOR, "interval = 30\nfiles_per_second = 20\n"
                      "bytes_per_second = 4194304\n"},
        {AIO_UPDATER, "interval = 5\n"},
        {AIO_EXPIRER, "interval = 5\n"},
    };
    /* "" or "-2" */
    const char *suffix = d->name + strlen(kinds[AIO_OBJECT].name);

    for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
        const char *name = kinds[sections[i].kind].name;

        fprintf(f, "\n[%s]\nlog_name = %s%s\nlog_file = %s/log/%s%s.log\n%s",
                name, name, suffix, a->dir, name, suffix, sections[i].options);
    }
}

static void print_storage_conf(FILE *f, const struct aio *a,
                               const struct daemon *d)
{
    char devices[PATH_MAX], recon[PATH_MAX];

    devices_dir(devices, a, d->node);
    recon_dir(recon, a, d->node);
    fprintf(f,
            "recon_cache_path = %s\n"
            "# Plain directories as devices: no mount points here.\n"
            "devices = %s\nmount_check = false\n\n[app:%s]\n",
            recon, devices, kinds[d->kind].name);
    if (d->kind == AIO_OBJECT) {
        print_background_confs(f, a, d);
        return;
    }
    /* the DB server's replicator and auditor threads, and the container
     * server's S3 lifecycle pass */
    fprintf(f, "\n[%s-replicator]\ninterval = 5\n", kinds[d->kind].ring);
    fprintf(f, "\n[%s-auditor]\ninterval = 30\n", kinds[d->kind].ring);
    if (d->kind == AIO_CONTAINER)
        fprintf(f, "\n[container-lifecycle]\ninterval = 5\n");
}

static void print_proxy_conf(FILE *f)
{
    fprintf(f, "\n[pipeline:main]\npipeline = catch_errors gatekeeper "
               "healthcheck proxy-logging cache s3api tempauth copy "
               "proxy-logging proxy-server\n\n"
               "[app:proxy-server]\n"
               "# The first container PUT creates the account.\n"
               "account_autocreate = true\n\n"
               "[filter:s3api]\n"
               "# S3 access key <account>:<user>, secret: the user's key\n"
               "location = us-east-1\n\n"
               "[filter:tempauth]\n"
               "user_admin_admin = admin .admin .reseller_admin\n"
               "user_test_tester = testing .admin\n"
               "user_test2_tester2 = testing2 .admin\n"
               "user_test_tester3 = testing3\n");
}

/* Writes DIR/etc/<name>.conf of a server unless it exists: a config is
 * the user's to edit once written. Background daemons have none of their
 * own. Returns 0 or CMD_EXIT_ERROR after a message. */
static int write_conf(const struct aio *a, const struct daemon *d)
{
    char path[PATH_MAX], *text = NULL;
    size_t len = 0;
    FILE *f;
    int err;

    dir_path(path, a, "/etc/%s.conf", d->name);
    if (background(d->kind) || !access(path, F_OK))
        return 0;
    f = open_memstream(&text, &len);
    if (!f)
        return fail("cannot write '%s': %s", path, strerror(ENOMEM));
    fprintf(f,
            "# %s.conf - written once by 'kura aio start'; edits are "
            "kept.\n# Every option, at its default, is in "
            "etc/%s.conf-sample.\n\n[DEFAULT]\nbind_ip = %s\n"
            "bind_port = %u\nswift_dir = %s/etc\nlog_name = %s\n"
            "log_file = %s/log/%s.log\n",
            d->name, kinds[d->kind].name, d->ip, d->port, a->dir, d->name,
            a->dir, d->name);
    if (d->kind == AIO_PROXY)
        print_proxy_conf(f);
    else
        print_storage_conf(f, a, d);
    if (fclose(f)) {
        free(text);
        return fail("cannot write '%s': %s", path, strerror(ENOMEM));
    }
    err = atomic_file_replace(path, text, len);
    free(text);
    return err ? fail("cannot write '%s': %s", path, strerror(-err)) : 0;
}

/* True if 'pid' runs 'binary' (its base name; any when NULL) with 'conf'
 * as its last argument (invariant 2). Reaps it if it is our child and has
 * exited. */
static bool proc_runs(pid_t pid, const char *binary, const char *conf)
{
    char path[64], buf[PATH_MAX + 256];
    const char *last, *exe;
    ssize_t n;
    int fd;

    if (pid <= 0 || waitpid(pid, NULL, WNOHANG) == pid)
        return false;
    snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd == -1)
        return false;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    /* a zombie has an empty command line; each argument ends with a NUL */
    if (n <= 1 || buf[n - 1] != '\0')
        return false;
    last = memrchr(buf, '\0', (size_t)n - 1);
    last = last ? last + 1 : buf;
    exe = strrchr(buf, '/');
    exe = exe ? exe + 1 : buf;
    return !strcmp(last, conf) && (!binary || !strcmp(exe, binary));
}

/* The live process DIR/run/<name>.pid names, or 0. */
static pid_t live_pid(const struct aio *a, const char *name)
{
    char path[PATH_MAX], buf[32];
    unsigned pid;
    ssize_t n;
    int fd;

    dir_path(path, a, "/run/%s.pid", name);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd == -1)
        return 0;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    buf[strcspn(buf, "\n")] = '\0';
    if (parse_uint(buf, 1, INT_MAX, &pid))
        return 0;
    conf_path(path, a, name);
    return proc_runs((pid_t)pid, binary_of(name), path) ? (pid_t)pid : 0;
}

/* True if something accepts TCP connections on ip:port. */
static bool port_open(const char *ip, unsigned port)
{
    struct sockaddr_storage ss = {0};
    struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
    struct pollfd pfd;
    socklen_t len, elen = sizeof(int);
    int fd, soerr = -1;

    if (inet_pton(AF_INET, ip, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)port);
        len = sizeof(*sin);
    } else if (inet_pton(AF_INET6, ip, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)port);
        len = sizeof(*sin6);
    } else {
        return false;
    }
    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd == -1)
        return false;
    if (!connect(fd, (struct sockaddr *)&ss, len)) {
        soerr = 0;
    } else if (errno == EINPROGRESS) {
        pfd = (struct pollfd){.fd = fd, .events = POLLOUT};
        if (poll(&pfd, 1, 200) == 1)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &elen);
    }
    close(fd);
    return soerr == 0;
}

/* Prints the last lines of 'path' to stderr, if it has any. */
static void show_tail(const char *path)
{
    char buf[8192];
    size_t n, lines = 0, start;
    FILE *f = fopen(path, "re");
    long size;

    if (!f)
        return;
    if (fseek(f, 0, SEEK_END) || (size = ftell(f)) <= 0) {
        fclose(f);
        return;
    }
    fseek(f, size > (long)sizeof(buf) ? size - (long)sizeof(buf) : 0, SEEK_SET);
    n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    if (!n)
        return;
    start = n;
    if (start && buf[start - 1] == '\n')
        start--;
    while (start > 0 && lines < AIO_TAIL_LINES)
        if (buf[--start] == '\n')
            lines++;
    if (buf[start] == '\n')
        start++;
    fprintf(stderr, "--- %s:\n", path);
    fwrite(buf + start, 1, n - start, stderr);
    if (buf[n - 1] != '\n')
        fputc('\n', stderr);
}

static void show_logs(const struct aio *a, const struct daemon *d)
{
    char path[PATH_MAX];

    dir_path(path, a, "/log/%s.out", d->name);
    show_tail(path);
    dir_path(path, a, "/log/%s.log", d->name);
    show_tail(path);
}

static void child(int fd_null, int fd_out, char *const argv[])
    __attribute__((noreturn));

/* In the forked child (kura has one thread, so anything goes): a session
 * of its own, so the terminal's signals and hangup do not reach it. */
static void child(int fd_null, int fd_out, char *const argv[])
{
    if (setsid() == -1 || dup2(fd_null, 0) == -1 || dup2(fd_out, 1) == -1 ||
        dup2(fd_out, 2) == -1)
        _exit(127);
    execv(argv[0], argv);
    dprintf(2, "kura aio: cannot run '%s': %s\n", argv[0], strerror(errno));
    _exit(127);
}

/* Starts d detached and writes its pid file. Returns 0 or CMD_EXIT_ERROR
 * after a message. */
static int spawn(const struct aio *a, struct daemon *d, const char *binary)
{
    char conf[PATH_MAX], out[PATH_MAX], pidfile[PATH_MAX], pidbuf[24];
    char *const argv[] = {(char *)binary, conf, NULL};
    int fd_null, fd_out, err;
    pid_t pid;

    conf_path(conf, a, d->name);
    dir_path(out, a, "/log/%s.out", d->name);
    dir_path(pidfile, a, "/run/%s.pid", d->name);
    fd_out = open(out, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd_out == -1)
        return fail("cannot open '%s': %s", out, strerror(errno));
    fd_null = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd_null == -1) {
        close(fd_out);
        return fail("cannot open '/dev/null': %s", strerror(errno));
    }
    dprintf(fd_out, "--- kura aio start: %s %s\n", binary, conf);
    pid = fork();
    if (pid == 0)
        child(fd_null, fd_out, argv);
    err = pid == -1 ? errno : 0;
    close(fd_null);
    close(fd_out);
    if (err)
        return fail("cannot start %s: %s", d->name, strerror(err));
    d->pid = pid;
    d->started = true;
    snprintf(pidbuf, sizeof(pidbuf), "%d\n", (int)pid);
    err = atomic_file_replace(pidfile, pidbuf, strlen(pidbuf));
    if (err)
        return fail("cannot write '%s': %s", pidfile, strerror(-err));
    return 0;
}

/* True, after saying so and showing its logs, if 'd' (started by this
 * run) has exited. */
static bool died(const struct aio *a, struct daemon *d)
{
    char when[96] = "at its start";
    int st;

    if (waitpid(d->pid, &st, WNOHANG) != d->pid)
        return false;
    d->pid = 0;
    if (d->port)
        snprintf(when, sizeof(when), "before listening on %s:%u", d->ip,
                 d->port);
    if (WIFEXITED(st))
        fail("%s exited with status %d %s", d->name, WEXITSTATUS(st), when);
    else
        fail("%s died of signal %d %s", d->name, WTERMSIG(st), when);
    show_logs(a, d);
    return true;
}

/* Waits until every server this run started listens. Returns 0, or
 * CMD_EXIT_ERROR after naming the first that died or stayed deaf and
 * showing its logs. */
static int wait_listening(struct aio *a)
{
    bool up[AIO_MAX_DAEMONS] = {0};
    long long deadline = now_ms() + AIO_START_WAIT_MS;

    for (;;) {
        bool all_up = true;

        for (unsigned i = 0; i < a->n_daemons; i++) {
            struct daemon *d = &a->daemons[i];

            if (!d->started || !d->port || up[i])
                continue;
            if (died(a, d))
                return CMD_EXIT_ERROR;
            up[i] = port_open(d->ip, d->port);
            all_up = all_up && up[i];
        }
        if (all_up)
            return 0;
        if (now_ms() > deadline)
            break;
        sleep_ms(AIO_POLL_MS);
    }
    for (unsigned i = 0; i < a->n_daemons; i++) {
        struct daemon *d = &a->daemons[i];

        if (d->started && d->port && !up[i]) {
            fail("%s does not listen on %s:%u after %d s", d->name, d->ip,
                 d->port, AIO_START_WAIT_MS / 1000);
            show_logs(a, d);
            break;
        }
    }
    return CMD_EXIT_ERROR;
}

/* Background daemons listen on nothing: one this run started counts as
 * up if it still runs AIO_SETTLE_MS later (a bad config ends it sooner).
 * Returns 0 or CMD_EXIT_ERROR after naming the first that died. */
static int wait_settled(struct aio *a)
{
    long long deadline = now_ms() + AIO_SETTLE_MS;

    do {
        sleep_ms(AIO_POLL_MS);
        for (unsigned i = 0; i < a->n_daemons; i++) {
            struct daemon *d = &a->daemons[i];

            if (d->started && !d->port && d->pid && died(a, d))
                return CMD_EXIT_ERROR;
        }
    } while (now_ms() < deadline);
    return 0;
}

/* A stop goes in stages, so that no daemon is asked for work by one that
 * still runs after it stopped: the proxy and the background daemons first
 * (they feed the rest), then the object servers (their container
 * updates), the container servers (their account updates), the account
 * servers, and last any pid file whose name is none of these. Each server
 * finishes the requests it has and closes its idle keep-alive connections
 * at once, so a stage takes milliseconds unless a request is in flight;
 * the background daemons end at once (every file they write is replaced
 * atomically). */
#define AIO_STOP_STAGES 5
static int stop_stage(const struct daemon *d)
{
    enum aio_kind k;
    unsigned node;

    if (!parse_name(d->name, &k, &node))
        return AIO_STOP_STAGES - 1;
    if (k == AIO_PROXY || background(k))
        return 0;
    return 1 + (int)k; /* object, container, account */
}

/* Waits until 'deadline' (now_ms()) for the listed processes of stop
 * stage 'stage' (any stage when -1) to end, clearing their pids as they
 * do. True if none is left. */
static bool wait_gone(const struct aio *a, struct daemon *ds, unsigned n,
                      int stage, long long deadline)
{
    char conf[PATH_MAX];

    for (;;) {
        bool gone = true;

        for (unsigned i = 0; i < n; i++) {
            if (!ds[i].pid || (stage >= 0 && stop_stage(&ds[i]) != stage))
                continue;
            conf_path(conf, a, ds[i].name);
            if (!proc_runs(ds[i].pid, binary_of(ds[i].name), conf))
                ds[i].pid = 0;
            gone = gone && !ds[i].pid;
        }
        if (gone)
            return true;
        if (now_ms() > deadline)
            return false;
        sleep_ms(AIO_STOP_POLL_MS);
    }
}

/* Stops the daemons in ds stage by stage (stop_stage()): SIGTERM to the
 * stage's live ones, then the next stage once they are gone; SIGKILL to
 * whatever still runs AIO_STOP_WAIT_MS after the first SIGTERM. Removes
 * the pid files of those gone. Returns how many were running. */
static unsigned stop_daemons(const struct aio *a, struct daemon *ds, unsigned n)
{
    long long deadline = now_ms() + AIO_STOP_WAIT_MS;
    char path[PATH_MAX];
    unsigned n_live = 0;
    bool gone = true;

    for (int stage = 0; stage < AIO_STOP_STAGES && gone; stage++) {
        for (unsigned i = 0; i < n; i++)
            if (ds[i].pid && stop_stage(&ds[i]) == stage &&
                kill(ds[i].pid, SIGTERM) == 0)
                n_live++;
        gone = wait_gone(a, ds, n, stage, deadline);
    }
    if (!gone) {
        for (unsigned i = 0; i < n; i++) {
            if (!ds[i].pid)
                continue;
            fprintf(stderr,
                    "kura aio: %s (pid %d) still runs %d s after "
                    "the stop began: sending SIGKILL\n",
                    ds[i].name, (int)ds[i].pid, AIO_STOP_WAIT_MS / 1000);
            kill(ds[i].pid, SIGKILL);
        }
        wait_gone(a, ds, n, -1, now_ms() + AIO_KILL_WAIT_MS);
    }
    for (unsigned i = 0; i < n; i++) {
        if (ds[i].pid) {
            fprintf(stderr,
                    "kura aio: %s (pid %d) does not die; its pid "
                    "file stays\n",
                    ds[i].name, (int)ds[i].pid);
            continue;
        }
        dir_path(path, a, "/run/%s.pid", ds[i].name);
        unlink(path);
    }
    return n_live;
}

static bool executable(char out[PATH_MAX])
{
    char real[PATH_MAX];

    if (access(out, X_OK))
        return false;
    if (realpath(out, real)) /* no "/../" in messages and logs */
        memcpy(out, real, strlen(real) + 1);
    return true;
}

/* Finds 'name' in the build tree beside kura (<kura's dir>/../<subdir>/),
 * then beside kura (an installed layout), then in $PATH. */
static bool find_binary(const char *subdir, const char *name,
                        char out[PATH_MAX])
{
    char exe[PATH_MAX], *slash, *path, *save = NULL;
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

    if (n > 0) {
        exe[n] = '\0';
        slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            if (snprintf(out, PATH_MAX, "%s/../%s/%s", exe, subdir, name) <
                    PATH_MAX &&
                executable(out))
                return true;
            if (snprintf(out, PATH_MAX, "%s/%s", exe, name) < PATH_MAX &&
                executable(out))
                return true;
        }
    }
    path = strdup(getenv("PATH") ? getenv("PATH") : "");
    for (char *p = path ? strtok_r(path, ":", &save) : NULL; p;
         p = strtok_r(NULL, ":", &save)) {
        if (*p == '/' && snprintf(out, PATH_MAX, "%s/%s", p, name) < PATH_MAX &&
            executable(out)) {
            free(path);
            return true;
        }
    }
    free(path);
    return false;
}

/* ---- the commands ---- */

static void print_endpoint(const struct aio *a)
{
    char hb[64], url[128];

    snprintf(url, sizeof(url), "http://%s:%u", host(a->lay.ip, hb),
             a->lay.port);
    printf("auth:     %s/auth/v1.0\n"
           "user:     test:tester\n"
           "key:      testing\n"
           "storage:  %s/v1/AUTH_test\n"
           "try:      swift -A %s/auth/v1.0 -U test:tester -K testing stat\n"
           "s3:       %s (path style, region us-east-1)\n"
           "s3_key:   test:tester\n"
           "s3_secret: testing\n"
           "try_s3:   AWS_ACCESS_KEY_ID=test:tester "
           "AWS_SECRET_ACCESS_KEY=testing aws --endpoint-url %s s3 ls\n",
           url, url, url, url, url);
}

static void print_summary(const struct aio *a, bool proxy)
{
    printf("dir:      %s\n", a->dir);
    if (proxy)
        print_endpoint(a);
    printf("logs:     %s/log\n"
           "stop:     %s aio stop --dir %s\n",
           a->dir, program_invocation_name, a->dir);
}

/* After a failed start: stops what this run started, and only that (the
 * others ran before it). */
static void stop_started(const struct aio *a)
{
    struct daemon mine[AIO_MAX_DAEMONS];
    unsigned n = 0;

    for (unsigned i = 0; i < a->n_daemons; i++)
        if (a->daemons[i].started)
            mine[n++] = a->daemons[i];
    stop_daemons(a, mine, n);
}

/* Spawns the daemons of 'a' that do not run yet, the servers if
 * 'servers', else the background daemons. Returns how many it started, or
 * -1 after a message. */
static int spawn_missing(struct aio *a, char bins[][PATH_MAX], bool servers)
{
    int n_started = 0;

    for (unsigned i = 0; i < a->n_daemons; i++) {
        struct daemon *d = &a->daemons[i];

        if (d->pid || !*bins[d->kind] || background(d->kind) == servers)
            continue;
        if (spawn(a, d, bins[d->kind]))
            return -1;
        n_started++;
    }
    return n_started;
}

/* Starts the daemons of 'a' that do not run yet: the servers first, then,
 * once those listen, the background daemons (a replicator that found its
 * peers down would take them for failed and write to handoffs). bins[k]
 * is the binary of kinds[k], "" if missing (list_daemons() lists no
 * background daemon without one; the proxy may lack it). Returns 0, 1 if
 * all were running, or CMD_EXIT_ERROR after a message (having stopped
 * those it started). */
static int start_daemons(struct aio *a, char bins[][PATH_MAX])
{
    int n_servers, n_background;

    for (unsigned i = 0; i < a->n_daemons; i++) {
        struct daemon *d = &a->daemons[i];

        d->pid = live_pid(a, d->name);
        if (d->pid || !*bins[d->kind] || !d->port)
            continue;
        /* else the new daemon could fail to bind while we talk to the
         * squatter and call it up */
        if (port_open(d->ip, d->port))
            return fail("port %u (for %s) is in use on %s", d->port, d->name,
                        d->ip);
    }
    n_servers = spawn_missing(a, bins, true);
    if (n_servers < 0 || (n_servers && wait_listening(a)))
        goto fail;
    n_background = spawn_missing(a, bins, false);
    if (n_background < 0 || (n_background && wait_settled(a)))
        goto fail;
    return n_servers || n_background ? 0 : 1;
fail:
    stop_started(a);
    return CMD_EXIT_ERROR;
}

/* Looks up every kind's binary into bins[kind] ("" when missing). Returns
 * 0, or CMD_EXIT_ERROR after a message if a storage server is missing and
 * 'need_servers'. */
static int find_binaries(char bins[][PATH_MAX], bool need_servers)
{
    for (enum aio_kind k = 0; k < AIO_N_KINDS; k++) {
        if (find_binary(kinds[k].subdir, kinds[k].binary, bins[k]))
            continue;
        bins[k][0] = '\0';
        if (need_servers && k != AIO_PROXY && !background(k))
            return fail("%s not built (looked beside kura and in $PATH)",
                        kinds[k].binary);
    }
    return 0;
}

/* 0, or CMD_EXIT_ERROR after a message if 'node' (--node, 0 if none) is
 * no node of the layout. */
static int check_node(const struct aio *a, unsigned node)
{
    if (node > a->lay.nodes)
        return fail("--node %u: '%s' has %u node%s", node, a->dir, a->lay.nodes,
                    a->lay.nodes == 1 ? "" : "s");
    return 0;
}

static int aio_start(const struct aio_opts *o)
{
    char bins[AIO_N_KINDS][PATH_MAX], ring[PATH_MAX];
    struct aio a = {0};
    bool fresh;
    int lock = -1, rc = CMD_EXIT_ERROR;

    if (open_dir(&a, o->dir, true) || (lock = take_lock(&a)) == -1 ||
        settle_layout(&a, o, &fresh) || check_node(&a, o->node) ||
        find_binaries(bins, true))
        goto out;
    list_daemons(&a, bins, o->node);
    if (fresh && !find_binary("tools", "kura-ring", ring)) {
        fail("kura-ring not built (looked beside kura and in $PATH)");
        goto out;
    }
    if (make_dirs(&a) || (fresh && make_etc(&a, ring)))
        goto out;
    for (unsigned i = 0; i < a.n_daemons; i++)
        if (write_conf(&a, &a.daemons[i]))
            goto out;
    rc = start_daemons(&a, bins);
    if (rc == CMD_EXIT_ERROR)
        goto out;
    if (rc == 1)
        printf("kura aio: already running in %s\n", a.dir);
    else
        printf("kura aio: started in %s\n", a.dir);
    print_summary(&a, *bins[AIO_PROXY]);
    rc = 0;
    if (!*bins[AIO_PROXY] && !o->node) {
        fflush(stdout);
        rc = fail("kura-proxy not built (looked beside kura and in $PATH): "
                  "the storage servers run, the proxy does not");
    }
out:
    if (lock != -1)
        close(lock);
    free(a.dir);
    return rc;
}

/* Stops whatever DIR/run has pid files for (with --node, of that node):
 * works without aio.json and after a layout change. */
static int aio_stop(const struct aio_opts *o)
{
    struct daemon ds[64];
    char path[PATH_MAX];
    struct dirent *e;
    unsigned n = 0, n_live;
    DIR *dir;
    struct aio a = {0};
    int lock = -1, rc = CMD_EXIT_ERROR, err;

    err = open_dir(&a, o->dir, false);
    if (err == -ENOENT) {
        printf("kura aio: nothing runs in %s\n", o->dir);
        return 0;
    }
    if (err || (lock = take_lock(&a)) == -1)
        goto out;
    if (o->node && !load_layout(&a, &a.lay) && check_node(&a, o->node))
        goto out;
    dir_path(path, &a, "/run");
    dir = opendir(path);
    if (!dir) {
        fail("cannot read '%s': %s", path, strerror(errno));
        goto out;
    }
    while ((e = readdir(dir)) && n < sizeof(ds) / sizeof(ds[0])) {
        size_t len = strlen(e->d_name);
        enum aio_kind k;
        unsigned node;

        if (len <= 4 || len - 4 >= AIO_NAME_LEN ||
            strcmp(e->d_name + len - 4, ".pid"))
            continue;
        ds[n] = (struct daemon){0};
        memcpy(ds[n].name, e->d_name, len - 4);
        if (o->node && (!parse_name(ds[n].name, &k, &node) || node != o->node))
            continue;
        ds[n].pid = live_pid(&a, ds[n].name);
        n++;
    }
    closedir(dir);
    n_live = stop_daemons(&a, ds, n);
    if (n_live)
        printf("kura aio: stopped %u daemons in %s\n", n_live, a.dir);
    else
        printf("kura aio: nothing runs in %s\n", a.dir);
    rc = 0;
out:
    if (lock != -1)
        close(lock);
    free(a.dir);
    return rc;
}

static int aio_status(const struct aio_opts *o)
{
    char bins[AIO_N_KINDS][PATH_MAX];
    struct aio a = {0};
    unsigned n_running = 0;
    int err, rc = CMD_EXIT_ERROR;

    err = open_dir(&a, o->dir, false);
    if (!err)
        err = load_layout(&a, &a.lay);
    if (err == -ENOENT) {
        fprintf(stderr,
                "kura aio: no cluster in %s ('kura aio start' makes "
                "one)\n",
                a.dir ? a.dir : o->dir);
        rc = AIO_EXIT_NOT_RUNNING;
    }
    if (err || check_node(&a, o->node))
        goto out;
    /* a server that is not built is listed, stopped */
    find_binaries(bins, false);
    list_daemons(&a, bins, o->node);
    for (unsigned i = 0; i < a.n_daemons; i++) {
        struct daemon *d = &a.daemons[i];
        char port[12] = "-";

        if (d->port)
            snprintf(port, sizeof(port), "%u", d->port);
        d->pid = live_pid(&a, d->name);
        if (d->pid) {
            printf("%s %d running %s\n", d->name, (int)d->pid, port);
            n_running++;
        } else {
            printf("%s - stopped %s\n", d->name, port);
        }
    }
    rc = n_running == a.n_daemons ? 0 : AIO_EXIT_NOT_RUNNING;
out:
    free(a.dir);
    return rc;
}

int cmd_aio(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*run)(const struct aio_opts *o);
    } verbs[] = {
        {"start", aio_start},
        {"stop", aio_stop},
        {"status", aio_status},
    };
    struct aio_opts o;
    int rc;

    if (argc < 2)
        return fail("no command given (start, stop or status; try 'kura aio "
                    "--help')");
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        print_help();
        return 0;
    }
    for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
        if (strcmp(argv[1], verbs[i].name))
            continue;
        rc = parse_opts(argc - 1, argv + 1, verbs[i].run == aio_start, &o);
        if (rc)
            return rc == 1 ? 0 : rc;
        return verbs[i].run(&o);
    }
    return fail("unknown command '%s' (start, stop or status)", argv[1]);
}
