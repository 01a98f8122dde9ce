/*
 * object_info.c - 'kura object-info': what one object file on a device
 * holds, printed as Swift's swift-object-info: the name and hash from its
 * metadata, timestamp, content type, every metadata item by kind, the
 * ETag checked against an MD5 of the data and the length against the
 * file, then where the ring puts the object (get_nodes.c's locations).
 * It only reads: a bad file is reported, never quarantined or fixed.
 *
 *   kura object-info [--swift-dir DIR] [-n] <path to .data/.ts/.meta>
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/timestamp.h"
#include "ring/hash_path.h"
#include "ring/ring.h"
#include "storage/file_md5.h"
#include "storage/objmeta.h"
#include "storage/ondisk.h"
#include "tools/kura/cmd.h"
#include "tools/kura/get_nodes.h"

struct object_info_opts {
    const char *swift_dir;
    bool check_etag;
    const char *path;
};

__attribute__((format(printf, 1, 2))) static int fail(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "kura object-info: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return CMD_EXIT_ERROR;
}

static int parse_opts(struct object_info_opts *o, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"swift-dir", required_argument, NULL, 'd'},
        {"no-check-etag", no_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    int c;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "d:nh", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': o->swift_dir = optarg; break;
        case 'n': o->check_etag = false; break;
        case 'h':
            printf("usage: kura object-info [--swift-dir DIR] [-n] <file>\n"
                   "Prints an object file's metadata, checks its ETag "
                   "(not with -n, --no-check-etag)\nand length, and shows "
                   "where the ring of DIR (default /etc/swift) puts it.\n");
            return -1;
        default: return fail("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind != 1)
        return fail("need one object file (try --help)");
    o->path = argv[optind];
    return 0;
}

/* Swift's is_user_meta / is_sys_meta / is_object_transient_sysmeta. */
enum meta_kind { META_SYS, META_TRANSIENT, META_USER, META_OTHER, META_N };

static enum meta_kind meta_kind(const char *key)
{
    if (!strncasecmp(key, "x-object-sysmeta-", 17))
        return META_SYS;
    if (!strncasecmp(key, "x-object-transient-sysmeta-", 27))
        return META_TRANSIENT;
    if (!strncasecmp(key, "x-object-meta-", 14))
        return META_USER;
    return META_OTHER;
}

static int item_cmp(const void *a, const void *b)
{
    const struct objmeta_item *const *x = a, *const *y = b;

    return strcmp((*x)->key, (*y)->key);
}

/* The metadata not printed on a line of its own, by kind, sorted. */
static void print_metadata(const struct objmeta *m)
{
    static const char *const skip[] = {"name", "Content-Type", "X-Timestamp",
                                       "ETag", "Content-Length"};
    static const char *const titles[META_N] = {
        "System Metadata:", "Transient System Metadata:", "User Metadata:",
        "Other Metadata:"};
    const struct objmeta_item **items = calloc(m->n + 1, sizeof(*items));

    for (int k = 0; k < META_N; k++) {
        size_t n = 0;

        for (size_t i = 0; items && i < m->n; i++) {
            bool skipped = false;

            for (size_t s = 0; s < sizeof(skip) / sizeof(skip[0]); s++)
                skipped = skipped || !strcasecmp(m->items[i].key, skip[s]);
            if (!skipped && meta_kind(m->items[i].key) == (enum meta_kind)k)
                items[n++] = &m->items[i];
        }
        qsort(items, n, sizeof(*items), item_cmp);
        printf("%s\n", titles[k]);
        for (size_t i = 0; i < n; i++)
            printf("  %s: %s\n", items[i]->key, items[i]->val);
        if (!n)
            printf("  No metadata found\n");
    }
    free(items);
}

/* The policy index from the path's objects[-N] directory, 4 levels up
 * (<dev>/objects-N/<part>/<suffix>/<hash>/<file>); 0 when not there. */
static unsigned int path_policy(const char *path)
{
    char *copy = strdup(path), *p = copy;
    unsigned int policy = 0;

    for (int up = 0; p && up < 4; up++)
        p = dirname(p);
    if (p && !strncmp(basename(p), "objects-", 8))
        policy = (unsigned int)strtoul(basename(p) + 8, NULL, 10);
    free(copy);
    return policy;
}

/* Path, names, hash, content type and timestamp, as Swift's
 * print_obj_metadata(); splits the name into t[3] (inside *buf). */
static int print_head(const struct object_info_opts *o, const struct objmeta *m,
                      const struct hash_path_conf *hc, const char *t[3],
                      char **buf)
{
    const char *name = objmeta_get(m, "name");
    const char *ctype = objmeta_get(m, "Content-Type");
    const char *ts = objmeta_get(m, "X-Timestamp");
    struct timestamp parsed;

    if (name) {
        char *s, *slash;
        unsigned char digest[16];
        char hex[33] = "", *dir;

        *buf = strdup(name);
        if (!*buf)
            return -ENOMEM;
        s = *buf + (**buf == '/');
        t[0] = s;
        for (int i = 1; i < 3 && (slash = strchr(s, '/')); i++) {
            *slash = '\0';
            s = slash + 1;
            t[i] = s;
        }
        if (!t[1] || !t[2])
            return fail("path is invalid for object '%s'", name);
        if (hc && !hash_path(hc, t[0], t[1], t[2], digest))
            hash_path_hex(digest, hex);
        printf("Path: %s\n  Account: %s\n  Container: %s\n  Object: %s\n"
               "  Object hash: %s\n",
               name, t[0], t[1], t[2], *hex ? hex : "None");
        dir = strdup(o->path);
        if (*hex && dir && strcmp(basename(dirname(dir)), hex))
            printf("  Warning: the file is not in its hash directory "
                   "(%s)\n",
                   hex);
        free(dir);
    } else {
        printf("Path: Not found in metadata\n");
    }
    if (ctype)
        printf("Content-Type: %s\n", ctype);
    else
        printf("Content-Type: Not found in metadata\n");
    if (ts && !timestamp_parse(ts, &parsed)) {
        char iso[TIMESTAMP_ISO_SIZE], internal[TIMESTAMP_INTERNAL_SIZE];

        printf("Timestamp: %s (%s)\n", timestamp_isoformat(&parsed, iso),
               timestamp_internal(&parsed, internal));
    } else {
        printf("Timestamp: Not found in metadata\n");
    }
    return 0;
}

/* The ETag against the data's MD5 and the length against the data. */
static int print_checks(const struct object_info_opts *o, int fd,
                        const struct objmeta *m, uint64_t data_len)
{
    const char *etag = objmeta_get(m, "ETag");
    const char *length = objmeta_get(m, "Content-Length");
    char hex[33], *end;
    uint64_t n = data_len;
    int err;

    if (o->check_etag) {
        err = file_md5_fd(fd, data_len, hex, &n);
        if (err)
            return fail("cannot read '%s': %s", o->path, strerror(-err));
        if (!etag)
            printf("ETag: Not found in metadata\n");
        else if (!strcmp(etag, hex))
            printf("ETag: %s (valid)\n", etag);
        else
            printf("ETag: %s doesn't match file hash of %s!\n", etag, hex);
    } else {
        printf("ETag: %s (not checked)\n", etag ? etag : "");
    }
    if (!length)
        printf("Content-Length: Not found in metadata\n");
    else if (strtoull(length, &end, 10) == n && !*end && *length)
        printf("Content-Length: %s (valid)\n", length);
    else
        printf("Content-Length: %s doesn't match file length of %llu\n", length,
               (unsigned long long)n);
    return 0;
}

static void print_ring(const struct object_info_opts *o,
                       const struct hash_path_conf *hc, const char *const t[3])
{
    unsigned int policy = path_policy(o->path);
    char ring_path[4096], datadir[32], err[RINGFILE_ERRLEN];
    struct ring *ring;

    if (policy) {
        snprintf(ring_path, sizeof(ring_path), "%s/object-%u.ring.gz",
                 o->swift_dir, policy);
        snprintf(datadir, sizeof(datadir), "objects-%u", policy);
    } else {
        snprintf(ring_path, sizeof(ring_path), "%s/object.ring.gz",
                 o->swift_dir);
        snprintf(datadir, sizeof(datadir), "objects");
    }
    if (!hc || !t[2]) /* no hash secrets or no name: nowhere to look */
        return;
    if (ring_load(ring_path, &ring, err)) {
        printf("Ring: cannot load '%s': %s\n", ring_path, err);
        return;
    }
    get_nodes_print_locations(ring, hc, t, datadir, (int)policy, false);
    ring_free(ring);
}

int cmd_object_info(int argc, char **argv)
{
    struct object_info_opts o = {.swift_dir = "/etc/swift", .check_etag = true};
    struct hash_path_conf hc = {0};
    struct objmeta m = {0};
    struct ondisk_file f;
    const char *t[3] = {NULL, NULL, NULL};
    char *names = NULL, *copy = NULL, conf[4096], herr[HASH_PATH_ERRLEN];
    uint64_t data_len = 0;
    bool have_hc;
    int fd = -1, err, rc = parse_opts(&o, argc, argv);

    if (rc)
        goto out;
    copy = strdup(o.path);
    if (!copy || ondisk_parse_name(basename(copy), &f)) {
        rc = fail("'%s' is not an object file (<timestamp>.data, .ts or "
                  ".meta)",
                  o.path);
        goto out;
    }
    fd = open(o.path, O_RDONLY | O_CLOEXEC);
    if (fd == -1) {
        rc = fail("cannot open '%s': %s", o.path, strerror(errno));
        goto out;
    }
    err = objmeta_read_fd(fd, &m, &data_len);
    if (err) {
        rc = fail("invalid metadata in '%s': %s", o.path,
                  err == -ENODATA ? "no metadata" : strerror(-err));
        goto out;
    }
    snprintf(conf, sizeof(conf), "%s/swift.conf", o.swift_dir);
    err = hash_path_conf_load(&hc, conf, herr);
    have_hc = !err;
    if (err)
        fprintf(stderr, "kura object-info: no hash or ring: %s: %s\n", conf,
                err == -EINVAL ? herr : strerror(-err));
    rc = print_head(&o, &m, have_hc ? &hc : NULL, t, &names);
    if (!rc) {
        print_metadata(&m);
        rc = print_checks(&o, fd, &m, data_len);
    }
    if (!rc)
        print_ring(&o, have_hc ? &hc : NULL, t);
    if (!rc && fflush(stdout))
        rc = 1;
out:
    if (fd != -1)
        close(fd);
    objmeta_release(&m);
    hash_path_conf_release(&hc);
    free(names);
    free(copy);
    return rc < 0 ? 0 : rc; /* -1: --help */
}
