/*
 * replication_fill.c - kura-replication-fill: writes objects straight into
 * the devices of a stopped or running one-node cluster, every replica on
 * its primary, in the object layer's on-disk format (doc/object-format.md),
 * for bench/replication.py. 100,000 objects through the proxy take many
 * minutes on a busy 2-core machine (three fsync'ed replicas and a
 * container update each); this writes them in seconds.
 *
 *   kura-replication-fill <swift_dir> <devices> <account> <container>
 *                         <count> <size>
 *
 * Objects are "o0000000000".. (ten digits), each 'size' bytes of the same
 * content, one timestamp. Nothing is fsynced and no suffix is marked in
 * hashes.invalid: the partitions are new, so the first hashing lists them
 * whole (no hashes.kura yet). No container rows are written: replication
 * does not read them. A benchmark tool, not a way to load a cluster.
 */
#include "ring/hash_path.h"
#include "ring/ring.h"
#include "storage/objmeta.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int mkdirs(char *path)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0755) && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    return mkdir(path, 0755) && errno != EEXIST ? -errno : 0;
}

static int write_replica(const char *dir, const char *ts, const char *body,
                         size_t size, const struct objmeta *m)
{
    char path[PATH_MAX + 64];
    int fd, err = 0;

    snprintf(path, sizeof(path), "%s/%s.data", dir, ts);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd == -1)
        return -errno;
    if (write(fd, body, size) != (ssize_t)size)
        err = -EIO;
    if (!err)
        err = objmeta_write_fd(fd, m, size);
    close(fd);
    return err;
}

static void md5_hex(const char *buf, size_t len, char hex[33])
{
    unsigned char d[16];
    unsigned int n = 16;

    EVP_Digest(buf, len, d, &n, EVP_md5(), NULL);
    for (int i = 0; i < 16; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
}

int main(int argc, char **argv)
{
    struct hash_path_conf hc = {0};
    struct ring *ring = NULL;
    const struct ring_dev *nodes[16];
    char err[RINGFILE_ERRLEN > HASH_PATH_ERRLEN ? RINGFILE_ERRLEN
                                                : HASH_PATH_ERRLEN];
    char path[PATH_MAX], ts[32], etag[33], len[32], *body;
    unsigned long count;
    size_t size;
    int rc;

    if (argc != 7) {
        fprintf(stderr, "usage: kura-replication-fill <swift_dir> <devices> "
                        "<account> <container> <count> <size>\n");
        return 2;
    }
    count = strtoul(argv[5], NULL, 10);
    size = strtoul(argv[6], NULL, 10);
    snprintf(path, sizeof(path), "%s/swift.conf", argv[1]);
    rc = hash_path_conf_load(&hc, path, err);
    if (!rc) {
        snprintf(path, sizeof(path), "%s/object.ring.gz", argv[1]);
        rc = ring_load(path, &ring, err);
    }
    body = malloc(size + 1);
    if (rc || !body) {
        fprintf(stderr, "kura-replication-fill: %s: %s\n", path,
                rc ? strerror(-rc) : "out of memory");
        return 1;
    }
    memset(body, 'x', size);
    md5_hex(body, size, etag);
    snprintf(ts, sizeof(ts), "%.5f", (double)time(NULL));
    snprintf(len, sizeof(len), "%zu", size);
    for (unsigned long i = 0; i < count && !rc; i++) {
        struct objmeta m = {0};
        unsigned char digest[16];
        char obj[32], hex[33], name[1024];
        size_t n;
        uint32_t part;

        snprintf(obj, sizeof(obj), "o%010lu", i);
        snprintf(name, sizeof(name), "/%s/%s/%s", argv[3], argv[4], obj);
        rc = hash_path(&hc, argv[3], argv[4], obj, digest);
        if (rc)
            break;
        hash_path_hex(digest, hex);
        part = ring_get_part(ring, digest);
        n = ring_get_part_nodes(ring, part, nodes, 16);
        rc = objmeta_set(&m, "name", name);
        if (!rc)
            rc = objmeta_set(&m, "X-Timestamp", ts);
        if (!rc)
            rc = objmeta_set(&m, "Content-Type", "application/octet-stream");
        if (!rc)
            rc = objmeta_set(&m, "Content-Length", len);
        if (!rc)
            rc = objmeta_set(&m, "ETag", etag);
        for (size_t k = 0; k < n && k < 16 && !rc; k++) {
            snprintf(path, sizeof(path), "%s/%s/objects/%" PRIu32 "/%s/%s",
                     argv[2], nodes[k]->device, part, hex + 29, hex);
            rc = mkdirs(path);
            if (!rc)
                rc = write_replica(path, ts, body, size, &m);
        }
        objmeta_release(&m);
    }
    if (rc)
        fprintf(stderr, "kura-replication-fill: %s\n", strerror(-rc));
    free(body);
    ring_free(ring);
    hash_path_conf_release(&hc);
    return rc ? 1 : 0;
}
