/*
 * aio.c - 'kura aio': the all-in-one cluster, every daemon on one machine
 * under one directory. 'start' makes the layout on first use (swift.conf
 * with fresh secrets, rings built by kura-ring, one config per daemon),
 * starts the storage servers of each node and the proxy detached and waits
 * until they listen; 'stop' and 'status' work from the pid files. The
 * daemons own everything else: this file writes their configs and watches
 * their processes, nothing more. doc/aio.md is the user's view.
 *
 * Layout of DIR:
 *   etc/    swift.conf, aio.json (ip, ports, nodes), <ring>.builder,
 *           <ring>.ring.gz, <name>.conf
 *   devices/d1..d4 with one node; nodes/<i>/d<k> with several
 *   log/    <name>.log (the daemon's log), <name>.out (stdout and stderr)
 *   run/    <name>.pid, lock
 * Invariants:
 * 1. DIR/etc appears (by rename) only whole: swift.conf, the three rings
 *    and aio.json. A start that fails half-way leaves nothing to reuse, and
 *    rings and secrets are never rewritten afterwards.
 * 2. A pid file names a live daemon only if /proc/<pid>/cmdline ends with
 *    that daemon's config path, so a stale file (a reboot, a reused pid)
 *    is never signalled.
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

#define AIO_DEVICES 4
#define AIO_MAX_NODES 4
#define AIO_MAX_DAEMONS (3 * AIO_MAX_NODES + 1)
#define AIO_NAME_LEN 48
/* room left in PATH_MAX after DIR for "/etc/<name>.conf" and the like */
#define AIO_DIR_MAX (PATH_MAX - 128)
#define AIO_START_WAIT_MS 15000
#define AIO_STOP_WAIT_MS 10000
#define AIO_KILL_WAIT_MS 2000
#define AIO_POLL_MS 50
#define AIO_STOP_POLL_MS 10
#define AIO_TAIL_LINES 10
#define AIO_EXIT_NOT_RUNNING 3

extern char **environ;

enum aio_kind { AIO_OBJECT, AIO_CONTAINER, AIO_ACCOUNT, AIO_PROXY };

/* The storage kinds come first and in port order: a node's object server
 * listens on its base port, the container server on +1, the account server
 * on +2, as Swift's all-in-one has them. */
static const struct {
    const char *name;   /* Swift's: the config, log and pid file name */
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
};

/* What DIR/etc/aio.json keeps: the rings and configs depend on all of it,
 * so a later start must match it. */
struct aio_layout {
    char ip[INET6_ADDRSTRLEN];
    unsigned port;         /* the proxy's */
    unsigned storage_port; /* node i's object server: + 10 * (i - 1) */
    unsigned nodes;
};

struct daemon {
    enum aio_kind kind;
    unsigned node; /* 1-based; 0 for the proxy */
    char name[AIO_NAME_LEN];
    unsigned port;
    pid_t pid;    /* the live process, or 0 */
    bool started; /* by this run: a failed start stops it again */
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
    OPT_HELP,
};

struct aio_opts {
    const char *dir;
    struct aio_layout lay;
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
static const char *host(const struct aio_layout *lay, char buf[64])
{
    if (!strchr(lay->ip, ':'))
        return lay->ip;
    snprintf(buf, 64, "[%s]", lay->ip);
    return buf;
}

/* ---- options and the stored layout ---- */

static void print_help(void)
{
    printf("usage: kura aio start [--dir DIR] [--ip IP] [--port PORT] "
           "[--storage-port PORT] [--nodes 1|2|3|4]\n"
           "       kura aio stop [--dir DIR]\n"
           "       kura aio status [--dir DIR]\n"
           "DIR: --dir, else $KURA_AIO_DIR, else ./.aio. Defaults: --ip "
           "127.0.0.1 --port 8080\n"
           "--storage-port 6200 --nodes 1. Node i's object, container and "
           "account servers\n"
           "listen on storage-port + 10 * (i - 1) + 0, 1 and 2. A DIR "
           "keeps the options it\nwas made with. See doc/aio.md.\n");
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

    if (inet_pton(AF_INET, lay->ip, addr) != 1 &&
        inet_pton(AF_INET6, lay->ip, addr) != 1)
        return "--ip must be an IPv4 or IPv6 address";
    if (lay->nodes < 1 || lay->nodes > AIO_MAX_NODES)
        return "--nodes must be 1, 2, 3 or 4";
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
        if (c != OPT_DIR && !start)
            return fail("%s takes only --dir", argv[0]);
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
    json_int_t port, storage_port, nodes;
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
    if (json_unpack_ex(doc, &jerr, 0, "{s:s, s:I, s:I, s:I}", "ip", &ip, "port",
                       &port, "storage_port", &storage_port, "nodes", &nodes) ||
        strlen(ip) >= sizeof(lay->ip) || port < 0 || port > 65535 ||
        storage_port < 0 || storage_port > 65535 || nodes < 0 ||
        nodes > AIO_MAX_NODES) {
        fail("'%s' is not a kura aio layout", path);
        err = -EINVAL;
        goto out;
    }
    strcpy(lay->ip, ip);
    lay->port = (unsigned)port;
    lay->storage_port = (unsigned)storage_port;
    lay->nodes = (unsigned)nodes;
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

    doc = json_pack("{s:i, s:s, s:i, s:i, s:i}", "version", 1, "ip", lay->ip,
                    "port", (int)lay->port, "storage_port",
                    (int)lay->storage_port, "nodes", (int)lay->nodes);
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
    char etc[PATH_MAX];
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
        ((o->given & 1u << OPT_NODES) && o->lay.nodes != old.nodes))
        return fail("'%s' holds a cluster made with --ip %s --port %u "
                    "--storage-port %u --nodes %u: start it with those, or "
                    "use another --dir",
                    a->dir, old.ip, old.port, old.storage_port, old.nodes);
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

/* Device d<k> (1-based) lives on node ((k - 1) % nodes) + 1. */
static unsigned device_node(const struct aio *a, unsigned k)
{
    return (k - 1) % a->lay.nodes + 1;
}

static int make_dirs(const struct aio *a)
{
    char path[PATH_MAX];
    int err;

    dir_path(path, a, "/log");
    if ((err = mkdir_p(path, 0755)))
        return fail("cannot create '%s': %s", path, strerror(-err));
    for (unsigned k = 1; k <= AIO_DEVICES; k++) {
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
 * replicas, 2^10 partitions, min_part_hours 1, device d<k> in zone k on
 * its node's server. Swift's rebalance exits 1 for a warning: still a
 * ring. Returns 0 or CMD_EXIT_ERROR after a message. */
static int build_ring(const struct aio *a, const char *kura_ring,
                      enum aio_kind kind)
{
    char builder[PATH_MAX], out[PATH_MAX], devs[AIO_DEVICES][96], hb[64];
    char *create[] = {
        (char *)kura_ring, builder, "create", "10", "3", "1", NULL};
    char *add[3 + 2 * AIO_DEVICES + 1] = {(char *)kura_ring, builder, "add"};
    char *rebalance[] = {(char *)kura_ring, builder, "rebalance",
                         "--seed",          "1",     NULL};
    char *const *steps[] = {create, add, rebalance};
    int rc;

    dir_path(builder, a, "/etc.new/%s.builder", kinds[kind].ring);
    dir_path(out, a, "/log/kura-ring.out");
    for (unsigned k = 1; k <= AIO_DEVICES; k++) {
        unsigned port =
            a->lay.storage_port + 10 * (device_node(a, k) - 1) + (unsigned)kind;

        snprintf(devs[k - 1], sizeof(devs[k - 1]), "r1z%u-%s:%u/d%u", k,
                 host(&a->lay, hb), port, k);
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

static void list_daemons(struct aio *a)
{
    struct daemon *d;

    a->n_daemons = 0;
    for (unsigned node = 1; node <= a->lay.nodes; node++) {
        for (enum aio_kind k = AIO_OBJECT; k <= AIO_ACCOUNT; k++) {
            d = &a->daemons[a->n_daemons++];
            *d = (struct daemon){
                .kind = k,
                .node = node,
                .port = a->lay.storage_port + 10 * (node - 1) + (unsigned)k,
            };
            if (a->lay.nodes == 1)
                snprintf(d->name, sizeof(d->name), "%s", kinds[k].name);
            else
                snprintf(d->name, sizeof(d->name), "%s-%u", kinds[k].name,
                         node);
        }
    }
    d = &a->daemons[a->n_daemons++];
    *d = (struct daemon){.kind = AIO_PROXY, .port = a->lay.port};
    snprintf(d->name, sizeof(d->name), "%s", kinds[AIO_PROXY].name);
}

static void print_storage_conf(FILE *f, const struct aio *a,
                               const struct daemon *d)
{
    char devices[PATH_MAX];

    devices_dir(devices, a, d->node);
    fprintf(f,
            "# Plain directories as devices: no mount points here.\n"
            "devices = %s\nmount_check = false\n\n[app:%s]\n",
            devices, kinds[d->kind].name);
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

/* Writes DIR/etc/<name>.conf unless it exists: a config is the user's to
 * edit once written. Returns 0 or CMD_EXIT_ERROR after a message. */
static int write_conf(const struct aio *a, const struct daemon *d)
{
    char path[PATH_MAX], *text = NULL;
    size_t len = 0;
    FILE *f;
    int err;

    dir_path(path, a, "/etc/%s.conf", d->name);
    if (!access(path, F_OK))
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
            d->name, kinds[d->kind].name, a->lay.ip, d->port, a->dir, d->name,
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

/* True if 'pid' runs with 'conf' as its last argument (invariant 2). Reaps
 * it if it is our child and has exited. */
static bool proc_runs(pid_t pid, const char *conf)
{
    char path[64], buf[PATH_MAX + 256];
    const char *last;
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
    return !strcmp(last, conf);
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
    dir_path(path, a, "/etc/%s.conf", name);
    return proc_runs((pid_t)pid, path) ? (pid_t)pid : 0;
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

    dir_path(conf, a, "/etc/%s.conf", d->name);
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

/* Waits until every daemon this run started listens. Returns 0, or
 * CMD_EXIT_ERROR after naming the first that died or stayed deaf and
 * showing its logs. */
static int wait_listening(struct aio *a)
{
    bool up[AIO_MAX_DAEMONS] = {0};
    long long deadline = now_ms() + AIO_START_WAIT_MS;
    int st;

    for (;;) {
        bool all_up = true;

        for (unsigned i = 0; i < a->n_daemons; i++) {
            struct daemon *d = &a->daemons[i];

            if (!d->started || up[i])
                continue;
            if (waitpid(d->pid, &st, WNOHANG) == d->pid) {
                d->pid = 0;
                if (WIFEXITED(st))
                    fail("%s exited with status %d before listening on "
                         "port %u",
                         d->name, WEXITSTATUS(st), d->port);
                else
                    fail("%s died of signal %d before listening on port %u",
                         d->name, WTERMSIG(st), d->port);
                show_logs(a, d);
                return CMD_EXIT_ERROR;
            }
            up[i] = port_open(a->lay.ip, d->port);
            all_up = all_up && up[i];
        }
        if (all_up)
            return 0;
        if (now_ms() > deadline)
            break;
        sleep_ms(AIO_POLL_MS);
    }
    for (unsigned i = 0; i < a->n_daemons; i++) {
        if (a->daemons[i].started && !up[i]) {
            fail("%s does not listen on %s:%u after %d s", a->daemons[i].name,
                 a->lay.ip, a->daemons[i].port, AIO_START_WAIT_MS / 1000);
            show_logs(a, &a->daemons[i]);
            break;
        }
    }
    return CMD_EXIT_ERROR;
}

/* A stop goes in stages, so that no daemon is asked for work by one that
 * still runs after it stopped: the proxy first (it feeds the rest), then
 * the object servers (their container updates), the container servers
 * (their account updates), the account servers, and last any pid file
 * whose name is none of these. Each server finishes the requests it has
 * and closes its idle keep-alive connections at once, so a stage takes
 * milliseconds unless a request is in flight. */
#define AIO_STOP_STAGES 5
static int stop_stage(const struct daemon *d)
{
    static const enum aio_kind order[] = {AIO_PROXY, AIO_OBJECT,
                                          AIO_CONTAINER, AIO_ACCOUNT};

    for (int i = 0; i < 4; i++) {
        size_t len = strlen(kinds[order[i]].name);

        /* "object-server" and "object-server-2" */
        if (!strncmp(d->name, kinds[order[i]].name, len) &&
            (d->name[len] == '\0' || d->name[len] == '-'))
            return i;
    }
    return AIO_STOP_STAGES - 1;
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
            dir_path(conf, a, "/etc/%s.conf", ds[i].name);
            if (!proc_runs(ds[i].pid, conf))
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

    snprintf(url, sizeof(url), "http://%s:%u", host(&a->lay, hb), a->lay.port);
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

/* Starts the daemons of 'a' that do not run yet. bins[i] is the binary of
 * kinds[i], "" if missing (only the proxy may be). Returns 0, 1 if all
 * were running, or CMD_EXIT_ERROR after a message (having stopped those it
 * started). */
static int start_daemons(struct aio *a, char bins[][PATH_MAX])
{
    unsigned n_started = 0;

    for (unsigned i = 0; i < a->n_daemons; i++) {
        struct daemon *d = &a->daemons[i];

        d->pid = live_pid(a, d->name);
        if (d->pid || !*bins[d->kind])
            continue;
        /* else the new daemon could fail to bind while we talk to the
         * squatter and call it up */
        if (port_open(a->lay.ip, d->port))
            return fail("port %u (for %s) is in use on %s", d->port, d->name,
                        a->lay.ip);
    }
    for (unsigned i = 0; i < a->n_daemons; i++) {
        struct daemon *d = &a->daemons[i];

        if (d->pid || !*bins[d->kind])
            continue;
        if (spawn(a, d, bins[d->kind]))
            goto fail;
        n_started++;
    }
    if (!n_started)
        return 1;
    if (wait_listening(a))
        goto fail;
    return 0;
fail:
    stop_started(a);
    return CMD_EXIT_ERROR;
}

static int aio_start(const struct aio_opts *o)
{
    char bins[AIO_PROXY + 1][PATH_MAX], ring[PATH_MAX];
    struct aio a = {0};
    bool fresh;
    int lock = -1, rc = CMD_EXIT_ERROR;

    if (open_dir(&a, o->dir, true) || (lock = take_lock(&a)) == -1 ||
        settle_layout(&a, o, &fresh))
        goto out;
    list_daemons(&a);
    for (enum aio_kind k = AIO_OBJECT; k <= AIO_PROXY; k++) {
        if (find_binary(kinds[k].subdir, kinds[k].binary, bins[k]))
            continue;
        bins[k][0] = '\0';
        if (k != AIO_PROXY) {
            fail("%s not built (looked beside kura and in $PATH)",
                 kinds[k].binary);
            goto out;
        }
    }
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
    if (!*bins[AIO_PROXY]) {
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

/* Stops whatever DIR/run has pid files for: works without aio.json and
 * after a layout change. */
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
    dir_path(path, &a, "/run");
    dir = opendir(path);
    if (!dir) {
        fail("cannot read '%s': %s", path, strerror(errno));
        goto out;
    }
    while ((e = readdir(dir)) && n < sizeof(ds) / sizeof(ds[0])) {
        size_t len = strlen(e->d_name);

        if (len <= 4 || len - 4 >= AIO_NAME_LEN ||
            strcmp(e->d_name + len - 4, ".pid"))
            continue;
        ds[n] = (struct daemon){0};
        memcpy(ds[n].name, e->d_name, len - 4);
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
    if (err)
        goto out;
    list_daemons(&a);
    for (unsigned i = 0; i < a.n_daemons; i++) {
        struct daemon *d = &a.daemons[i];

        d->pid = live_pid(&a, d->name);
        if (d->pid) {
            printf("%s %d running %u\n", d->name, (int)d->pid, d->port);
            n_running++;
        } else {
            printf("%s - stopped %u\n", d->name, d->port);
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
