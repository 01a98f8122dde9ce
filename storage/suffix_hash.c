/*
 * suffix_hash.c - computing, caching and invalidating a partition's suffix
 * hashes (suffix_hash.h). The replicator decides what to do with them.
 *
 * Invariants:
 * 1. A suffix written since hashes.kura was saved is listed in
 *    hashes.invalid (writers append before their rename and again after
 *    it), so hashes.kura + hashes.invalid never claim a stale hash as
 *    valid.
 * 2. hashes.kura is replaced atomically (temp, fsync, rename, fsync dir)
 *    and only then is hashes.invalid truncated; a crash in between makes
 *    us recompute a few suffixes again, nothing worse.
 * 3. hashes.invalid is not fsynced (that would cost a device flush per
 *    PUT). Losing it takes a power cut or kernel crash, i.e. a reboot, so
 *    hashes.kura records the boot id and a cache from another boot is
 *    thrown away whole.
 * 4. Every read-modify-write of the two files holds the partition's
 *    flock; recomputing happens under it too (NEEDSWORK: a first full
 *    listing of a big partition blocks that partition's writers meanwhile;
 *    Swift computes outside the lock and retries if hashes.invalid grew).
 */
#include "storage/suffix_hash.h"

#include "common/atomic_file.h"
#include "storage/diskfile_io.h"
#include "storage/ondisk.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#define MAGIC "KURASFX1"
#define MAGIC_LEN 8
#define BOOT_ID_LEN 36
#define ENTRY_LEN 12
#define HEAD_LEN (MAGIC_LEN + BOOT_ID_LEN + 4)
#define SUM_LEN 8
#define MAX_SUFFIXES 4096

void suffix_hashes_release(struct suffix_hashes *sh)
{
    free(sh->v);
    sh->v = NULL;
    sh->n = 0;
}

bool suffix_hash_valid_suffix(const char *s)
{
    for (int i = 0; i < 3; i++)
        if (!s[i] || !strchr("0123456789abcdef", s[i]))
            return false;
    return s[3] == '\0';
}

static bool valid_hash_name(const char *s)
{
    size_t i;

    for (i = 0; s[i]; i++)
        if (i >= 32 || !strchr("0123456789abcdef", s[i]))
            return false;
    return i == 32;
}

static int cmp_entries(const void *a, const void *b)
{
    return strcmp(((const struct suffix_hash *)a)->suffix,
                  ((const struct suffix_hash *)b)->suffix);
}

const struct suffix_hash *suffix_hashes_find(const struct suffix_hashes *sh,
                                             const char *suffix)
{
    struct suffix_hash key = {0};

    if (!sh->n || !suffix_hash_valid_suffix(suffix))
        return NULL;
    memcpy(key.suffix, suffix, 4);
    return bsearch(&key, sh->v, sh->n, sizeof(key), cmp_entries);
}

static void read_boot_id(char id[BOOT_ID_LEN])
{
    int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);

    memset(id, 0, BOOT_ID_LEN);
    if (fd == -1)
        return;
    if (read(fd, id, BOOT_ID_LEN) != BOOT_ID_LEN)
        memset(id, 0, BOOT_ID_LEN);
    close(fd);
}

/* Hashes one hash directory into 'st'; sets *live when it holds a live
 * file. Removes it when nothing at all is left in it. */
static int hash_one_dir(const char *suffix_dir, const char *name,
                        int64_t reclaim_before, XXH3_state_t *st, bool *live)
{
    struct ondisk_listing l;
    char path[PATH_MAX];
    int err;

    *live = false;
    snprintf(path, sizeof(path), "%s/%s", suffix_dir, name);
    err = ondisk_list(path, true, reclaim_before, &l);
    if (err == -ENOENT || err == -ENOTDIR) {
        err = 0; /* vanished, or junk that is not ours */
        goto out;
    }
    if (err)
        goto out;
    if (l.n == 0) {
        rmdir(path); /* fails harmlessly when junk remains */
        goto out;
    }
    *live = true;
    XXH3_64bits_update(st, name, strlen(name));
    for (size_t i = 0; i < l.n; i++) {
        XXH3_64bits_update(st, "/", 1);
        XXH3_64bits_update(st, l.files[i].name, strlen(l.files[i].name));
    }
    XXH3_64bits_update(st, "\n", 1);
out:
    ondisk_listing_release(&l);
    return err;
}

int suffix_hash_compute(const char *suffix_dir, int64_t reclaim_before,
                        uint64_t *hash, bool *empty)
{
    XXH3_state_t *st = XXH3_createState();
    char **names = NULL;
    size_t n = 0;
    bool live, any = false;
    int err;

    *hash = 0;
    *empty = true;
    if (!st)
        return -ENOMEM;
    XXH3_64bits_reset(st);
    err = diskfile_io_listdir(suffix_dir, &names, &n);
    if (err == -ENOENT) {
        err = 0;
        goto out;
    }
    for (size_t i = 0; !err && i < n; i++) {
        if (!valid_hash_name(names[i]))
            continue;
        err = hash_one_dir(suffix_dir, names[i], reclaim_before, st, &live);
        any |= live;
    }
    if (err)
        goto out;
    *empty = !any;
    if (any)
        *hash = XXH3_64bits_digest(st);
    else
        rmdir(suffix_dir); /* fails harmlessly if junk remains */
out:
    diskfile_io_free_names(names, n);
    XXH3_freeState(st);
    return err;
}

/* The partition's lock file, open (not locked). fd or -errno. */
static int open_lock(const char *part_dir)
{
    char path[PATH_MAX];
    int fd;

    snprintf(path, sizeof(path), "%s/" SUFFIX_HASH_LOCK, part_dir);
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    return fd == -1 ? -errno : fd;
}

static int take_lock(int fd)
{
    while (flock(fd, LOCK_EX) == -1)
        if (errno != EINTR)
            return -errno;
    return 0;
}

/* The partition's lock file, open and locked. fd or -errno. */
static int lock_part(const char *part_dir)
{
    int fd = open_lock(part_dir), err;

    if (fd < 0)
        return fd;
    err = take_lock(fd);
    if (err) {
        close(fd);
        return err;
    }
    return fd;
}

int suffix_mark_open(const char *part_dir, struct suffix_mark *m)
{
    char path[PATH_MAX];

    m->fd = -1;
    m->lock = open_lock(part_dir);
    if (m->lock < 0)
        return m->lock;
    /* truncated in place by a rehash, never replaced: the fd stays good */
    snprintf(path, sizeof(path), "%s/" SUFFIX_HASH_INVALID, part_dir);
    m->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    return m->fd == -1 ? -errno : 0;
}

int suffix_mark_add(struct suffix_mark *m, const char *suffix)
{
    char line[4];
    int err;

    if (!suffix_hash_valid_suffix(suffix))
        return -EINVAL;
    err = take_lock(m->lock);
    if (err)
        return err;
    memcpy(line, suffix, 3);
    line[3] = '\n';
    err = diskfile_io_pwrite_all(m->fd, line, 4, 0);
    flock(m->lock, LOCK_UN);
    return err;
}

void suffix_mark_close(struct suffix_mark *m)
{
    if (m->fd >= 0)
        close(m->fd);
    if (m->lock >= 0)
        close(m->lock);
    m->fd = m->lock = -1;
}

int suffix_hash_invalidate(const char *part_dir, const char *suffix)
{
    struct suffix_mark m;
    int err;

    if (!suffix_hash_valid_suffix(suffix))
        return -EINVAL;
    err = suffix_mark_open(part_dir, &m);
    if (!err)
        err = suffix_mark_add(&m, suffix);
    suffix_mark_close(&m);
    return err;
}

static uint64_t get_le(const unsigned char *p, int nbytes)
{
    uint64_t v = 0;

    for (int i = 0; i < nbytes; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static void put_le(unsigned char *p, uint64_t v, int nbytes)
{
    for (int i = 0; i < nbytes; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static int read_file(const char *path, unsigned char **buf, size_t *len,
                     size_t max)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    ssize_t n;
    int err = 0;

    *buf = NULL;
    *len = 0;
    if (fd == -1)
        return -errno;
    if (fstat(fd, &st) == -1) {
        err = -errno;
    } else if ((size_t)st.st_size > max) {
        err = -EINVAL;
    } else {
        *buf = malloc((size_t)st.st_size + 1);
        if (!*buf) {
            err = -ENOMEM;
        } else {
            n = pread(fd, *buf, (size_t)st.st_size, 0);
            if (n < 0)
                err = -errno;
            else
                *len = (size_t)n;
        }
    }
    close(fd);
    if (err) {
        free(*buf);
        *buf = NULL;
    }
    return err;
}

/* Loads hashes.kura into 'sh'. Returns 0, or -EINVAL/-ENOENT/-ESTALE when
 * there is no usable cache (then 'sh' is empty). */
static int load_cache(const char *part_dir, const char boot_id[BOOT_ID_LEN],
                      struct suffix_hashes *sh)
{
    char path[PATH_MAX];
    unsigned char *buf;
    size_t len, count;
    int err;

    snprintf(path, sizeof(path), "%s/" SUFFIX_HASH_FILE, part_dir);
    err = read_file(path, &buf, &len,
                    HEAD_LEN + MAX_SUFFIXES * ENTRY_LEN + SUM_LEN);
    if (err)
        return err == -ENOMEM ? err : -ENOENT;
    err = -EINVAL;
    if (len < HEAD_LEN + SUM_LEN || memcmp(buf, MAGIC, MAGIC_LEN) != 0 ||
        XXH3_64bits(buf, len - SUM_LEN) != get_le(buf + len - SUM_LEN, 8))
        goto out;
    count = get_le(buf + MAGIC_LEN + BOOT_ID_LEN, 4);
    if (len != HEAD_LEN + count * ENTRY_LEN + SUM_LEN)
        goto out;
    err = -ESTALE;
    if (memcmp(buf + MAGIC_LEN, boot_id, BOOT_ID_LEN) != 0)
        goto out;
    err = -ENOMEM;
    sh->v = calloc(count ? count : 1, sizeof(*sh->v));
    if (!sh->v)
        goto out;
    err = -EINVAL;
    for (size_t i = 0; i < count; i++) {
        const unsigned char *e = buf + HEAD_LEN + i * ENTRY_LEN;

        memcpy(sh->v[i].suffix, e, 3);
        sh->v[i].suffix[3] = '\0';
        if (!suffix_hash_valid_suffix(sh->v[i].suffix) || e[3] != 0 ||
            (i && strcmp(sh->v[i - 1].suffix, sh->v[i].suffix) >= 0))
            goto out;
        sh->v[i].hash = get_le(e + 4, 8);
        sh->n++;
    }
    err = 0;
out:
    if (err)
        suffix_hashes_release(sh);
    free(buf);
    return err;
}

static int save_cache(const char *part_dir, const char boot_id[BOOT_ID_LEN],
                      const struct suffix_hashes *sh)
{
    size_t len = HEAD_LEN + sh->n * ENTRY_LEN + SUM_LEN;
    unsigned char *buf = calloc(1, len), *p;
    char path[PATH_MAX];
    int err;

    if (!buf)
        return -ENOMEM;
    memcpy(buf, MAGIC, MAGIC_LEN);
    memcpy(buf + MAGIC_LEN, boot_id, BOOT_ID_LEN);
    put_le(buf + MAGIC_LEN + BOOT_ID_LEN, sh->n, 4);
    p = buf + HEAD_LEN;
    for (size_t i = 0; i < sh->n; i++, p += ENTRY_LEN) {
        memcpy(p, sh->v[i].suffix, 3);
        put_le(p + 4, sh->v[i].hash, 8);
    }
    put_le(p, XXH3_64bits(buf, len - SUM_LEN), 8);
    snprintf(path, sizeof(path), "%s/" SUFFIX_HASH_FILE, part_dir);
    err = atomic_file_replace(path, buf, len);
    free(buf);
    return err;
}

/* A set of suffixes as a 4096-bit map. */
struct suffix_set {
    unsigned char bits[MAX_SUFFIXES / 8];
};

static unsigned suffix_index(const char *s)
{
    return (unsigned)strtoul(s, NULL, 16);
}

static void set_add(struct suffix_set *set, const char *s)
{
    if (suffix_hash_valid_suffix(s))
        set->bits[suffix_index(s) / 8] |= 1u << (suffix_index(s) % 8);
}

static bool set_has(const struct suffix_set *set, unsigned i)
{
    return set->bits[i / 8] & (1u << (i % 8));
}

static bool set_empty(const struct suffix_set *set)
{
    for (size_t i = 0; i < sizeof(set->bits); i++)
        if (set->bits[i])
            return false;
    return true;
}

static int read_invalid(const char *part_dir, struct suffix_set *set)
{
    char path[PATH_MAX], s[4];
    unsigned char *buf;
    size_t len;
    int err;

    snprintf(path, sizeof(path), "%s/" SUFFIX_HASH_INVALID, part_dir);
    err = read_file(path, &buf, &len, 64u << 20);
    if (err == -ENOENT)
        return 0;
    if (err == -EINVAL) /* absurdly large: recompute everything */
        return -EINVAL;
    if (err)
        return err;
    for (size_t i = 0; i + 4 <= len; i += 4) {
        memcpy(s, buf + i, 3);
        s[3] = '\0';
        set_add(set, s); /* a torn or garbage line is skipped */
    }
    free(buf);
    return 0;
}

static int list_suffixes(const char *part_dir, struct suffix_set *set)
{
    char **names;
    size_t n;
    int err = diskfile_io_listdir(part_dir, &names, &n);

    if (err)
        return err;
    for (size_t i = 0; i < n; i++)
        set_add(set, names[i]);
    diskfile_io_free_names(names, n);
    return 0;
}

/* Rebuilds 'sh' from 'old' with the suffixes in 'dirty' recomputed. */
static int recompute(const char *part_dir, const struct suffix_hashes *old,
                     const struct suffix_set *dirty, int64_t reclaim_before,
                     struct suffix_hashes *sh)
{
    char path[PATH_MAX];
    size_t j = 0;
    int err;

    sh->v = calloc(MAX_SUFFIXES, sizeof(*sh->v));
    if (!sh->v)
        return -ENOMEM;
    for (unsigned i = 0; i < MAX_SUFFIXES; i++) {
        struct suffix_hash *e = &sh->v[sh->n];
        bool empty;

        snprintf(e->suffix, sizeof(e->suffix), "%03x", i);
        while (j < old->n && suffix_index(old->v[j].suffix) < i)
            j++;
        if (!set_has(dirty, i)) {
            if (j < old->n && suffix_index(old->v[j].suffix) == i) {
                e->hash = old->v[j].hash;
                sh->n++;
            }
            continue;
        }
        snprintf(path, sizeof(path), "%s/%s", part_dir, e->suffix);
        err = suffix_hash_compute(path, reclaim_before, &e->hash, &empty);
        if (err)
            return err;
        if (!empty)
            sh->n++;
    }
    return 0;
}

int suffix_hash_get(const char *part_dir, const char *const *recalc,
                    size_t nrecalc, int64_t reclaim_before,
                    struct suffix_hashes *out)
{
    struct suffix_hashes old = {0};
    struct suffix_set dirty = {0};
    char boot_id[BOOT_ID_LEN], path[PATH_MAX];
    struct stat st;
    bool cached;
    int lock, err;

    memset(out, 0, sizeof(*out));
    if (stat(part_dir, &st) == -1)
        return errno == ENOENT ? 0 : -errno;
    read_boot_id(boot_id);
    lock = lock_part(part_dir);
    if (lock < 0)
        return lock;
    err = load_cache(part_dir, boot_id, &old);
    if (!err)
        err = read_invalid(part_dir, &dirty);
    if (err == -ENOMEM)
        goto out;
    cached = !err;
    if (err) /* no usable cache: list every suffix */
        err = list_suffixes(part_dir, &dirty);
    if (err)
        goto out;
    for (size_t i = 0; i < nrecalc; i++)
        set_add(&dirty, recalc[i]);
    if (cached && set_empty(&dirty)) {
        /* nothing written since the cache was saved: it is the answer as
         * it is, without a rewrite (two fsyncs per REPLICATE made a
         * replication pass that changes nothing take minutes) */
        *out = old;
        old = (struct suffix_hashes){0};
        goto out;
    }
    err = recompute(part_dir, &old, &dirty, reclaim_before, out);
    if (!err && out->n == 0)
        suffix_hashes_release(out);
    if (!err)
        err = save_cache(part_dir, boot_id, out);
    if (!err) {
        snprintf(path, sizeof(path), "%s/" SUFFIX_HASH_INVALID, part_dir);
        if (truncate(path, 0) == -1 && errno != ENOENT)
            err = -errno;
    }
out:
    if (err)
        suffix_hashes_release(out);
    suffix_hashes_release(&old);
    close(lock);
    return err;
}
