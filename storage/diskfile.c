/*
 * diskfile.c - an object's files in its hash directory: writing a .data,
 * .ts or .meta durably, reading the current state, quarantine. Which files
 * count is ondisk.c's; the metadata encoding is objmeta.c's; suffix hashes
 * are suffix_hash.c's; HTTP and timestamps' meaning are the object
 * server's.
 *
 * Layout: <devices>/<dev>/objects/<part>/<suffix>/<hash>/<timestamp>.<ext>
 * Invariants:
 * 1. A file appears in a hash directory only by rename(), after its data
 *    and metadata are fsynced (together with the parent of every
 *    directory we created on the way: a new directory is durable only
 *    once its entry is); then the hash directory is fsynced (a rename is
 *    durable only once its entry is). Only then do we report success.
 * 2. Files in a hash directory are never modified, only added and
 *    removed. The newest .data or .ts wins; a newer .meta on top of a
 *    .data carries POSTed metadata (ondisk.h has the exact rules).
 * 3. A new file makes older ones obsolete; we remove them after our
 *    rename, never before, so a crash leaves old + new (still correct,
 *    the newest wins), never neither. Tombstones stay until the
 *    replicator reclaims them after reclaim_age.
 * 4. The suffix is marked invalid before the rename (so a crash just after
 *    it still leaves the mark) and again after it (a rehash that ran in
 *    between consumed the first mark without seeing the new file).
 * 5. Temp files live in <dev>/tmp, on the same filesystem as the object,
 *    and are removed on every failure path. We use mkstemp + rename, not
 *    O_TMPFILE + linkat: on ext4 without a journal the link count of a
 *    linked O_TMPFILE inode is durable only after another fsync of the
 *    file, an extra device flush per PUT. A crash mid-PUT can leave a stray
 *    in <dev>/tmp; the replicator removes old ones (diskfile_cleanup_tmp).
 * 6. We never create <devices>/<dev>: a missing device is -ENODEV.
 */
#include "storage/diskfile.h"

#include "ring/hash_path.h"
#include "storage/devices.h"
#include "storage/diskfile_io.h"
#include "storage/ondisk.h"
#include "storage/suffix_hash.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

struct diskfile {
    /* the four paths share one block, at dev_path */
    char *dev_path;   /* <devices>/<dev> */
    char *part_dir;   /* .../objects/<part> */
    char *suffix_dir; /* .../<suffix> */
    char *hash_dir;   /* .../<hash> */
    char *name;       /* /a/c/o, or NULL when known only by hash */
    const struct hash_path_conf *hash_conf; /* borrowed from the conf */
    bool mount_check;
    uint64_t fallocate_reserve;
    char hash[33];
    char suffix[4];
    /* state after diskfile_open() */
    bool open;
    int fd; /* the current .data, or -1 */
    uint64_t data_len;
    struct objmeta meta;
    char data_ts[ONDISK_TS_SIZE];
    char meta_ts[ONDISK_TS_SIZE];
    char ts_ts[ONDISK_TS_SIZE];
};

struct diskfile_writer {
    struct diskfile *df;
    int fd;
    char *tmp_path; /* NULL once renamed or removed */
    uint64_t bytes;
    uint64_t written_back; /* bytes whose writeback was started */
    EVP_MD_CTX *md5; /* NULL after diskfile_writer_trust_etag() */
    char etag[33];
};

struct diskfile_reader {
    struct diskfile *df;
    uint64_t off;
    uint64_t end;
    EVP_MD_CTX *md5; /* whole-object reads only */
    bool done;
};

static void assert_diskfile_ok(const struct diskfile *df)
{
    assert(strlen(df->hash) == 32);
    assert(strcmp(df->suffix, df->hash + 29) == 0);
    assert(!df->open || df->fd >= 0);
    assert(df->open || df->fd == -1);
    (void)df;
}

static void close_state(struct diskfile *df)
{
    if (df->fd >= 0)
        close(df->fd);
    df->fd = -1;
    df->open = false;
    df->data_len = 0;
    objmeta_release(&df->meta);
    df->data_ts[0] = df->meta_ts[0] = df->ts_ts[0] = '\0';
}

void diskfile_free(struct diskfile *df)
{
    if (!df)
        return;
    close_state(df);
    free(df->dev_path); /* and the other paths */
    free(df->name);
    free(df);
}

static bool valid_hash(const char *h)
{
    size_t i;

    for (i = 0; h[i]; i++)
        if (i >= 32 || !strchr("0123456789abcdef", h[i]))
            return false;
    return i == 32;
}

/* The device's, partition's, suffix's and hash's paths, each a prefix of
 * the next, in one allocation. */
static int make_paths(struct diskfile *df, const char *devices,
                      const char *dev, uint32_t part)
{
    char full[PATH_MAX], *b;
    int n = snprintf(full, sizeof(full), "%s/%s/objects/%" PRIu32 "/%s/%s",
                     devices, dev, part, df->suffix, df->hash);
    size_t lh, ls, lp, ld;

    if (n < 0 || (size_t)n >= sizeof(full))
        return -ENAMETOOLONG;
    lh = (size_t)n;
    ls = lh - 33;                              /* cut "/<hash>" */
    lp = ls - 4;                               /* cut "/<suffix>" */
    ld = strlen(devices) + 1 + strlen(dev); /* cut "/objects/<part>" */
    b = malloc(ld + lp + ls + lh + 4);
    if (!b)
        return -ENOMEM;
    df->dev_path = b;
    df->part_dir = df->dev_path + ld + 1;
    df->suffix_dir = df->part_dir + lp + 1;
    df->hash_dir = df->suffix_dir + ls + 1;
    memcpy(df->dev_path, full, ld);
    df->dev_path[ld] = '\0';
    memcpy(df->part_dir, full, lp);
    df->part_dir[lp] = '\0';
    memcpy(df->suffix_dir, full, ls);
    df->suffix_dir[ls] = '\0';
    memcpy(df->hash_dir, full, lh + 1);
    return 0;
}

static int make(const struct diskfile_conf *conf, const char *dev,
                uint32_t part, const char *hash, struct diskfile **out)
{
    struct diskfile *df;
    int err;

    *out = NULL;
    if (!valid_hash(hash))
        return -EINVAL;
    err = devices_check(conf->devices, dev, conf->mount_check);
    if (err)
        return err;
    df = calloc(1, sizeof(*df));
    if (!df)
        return -ENOMEM;
    df->fd = -1;
    df->mount_check = conf->mount_check;
    df->fallocate_reserve = conf->fallocate_reserve;
    df->hash_conf = conf->hash_conf;
    memcpy(df->hash, hash, 33);
    memcpy(df->suffix, hash + 29, 4);
    if (make_paths(df, conf->devices, dev, part)) {
        diskfile_free(df);
        return -ENOMEM;
    }
    *out = df;
    return 0;
}

int diskfile_new_from_hash(const struct diskfile_conf *conf, const char *dev,
                           uint32_t part, const char *hash,
                           struct diskfile **out)
{
    return make(conf, dev, part, hash, out);
}

int diskfile_new(const struct diskfile_conf *conf, const char *dev,
                 uint32_t part, const char *account, const char *container,
                 const char *object, struct diskfile **out)
{
    unsigned char digest[16];
    char hex[33];
    int err;

    *out = NULL;
    if (!account || !*account || !container || !*container || !object ||
        !*object)
        return -EINVAL;
    err = hash_path(conf->hash_conf, account, container, object, digest);
    if (err)
        return err;
    hash_path_hex(digest, hex);
    err = make(conf, dev, part, hex, out);
    if (err)
        return err;
    if (asprintf(&(*out)->name, "/%s/%s/%s", account, container, object) < 0) {
        (*out)->name = NULL;
        diskfile_free(*out);
        *out = NULL;
        return -ENOMEM;
    }
    return 0;
}

const char *diskfile_hash(const struct diskfile *df)
{
    return df->hash;
}

const char *diskfile_hash_dir(const struct diskfile *df)
{
    return df->hash_dir;
}

const struct objmeta *diskfile_metadata(const struct diskfile *df)
{
    return &df->meta;
}

const char *diskfile_data_timestamp(const struct diskfile *df)
{
    return df->open ? df->data_ts : NULL;
}

const char *diskfile_timestamp(const struct diskfile *df)
{
    if (!df->open)
        return NULL;
    return strcmp(df->meta_ts, df->data_ts) > 0 ? df->meta_ts : df->data_ts;
}

uint64_t diskfile_content_length(const struct diskfile *df)
{
    return df->data_len;
}

const char *diskfile_tombstone(const struct diskfile *df)
{
    return df->ts_ts[0] ? df->ts_ts : NULL;
}

/* ---- quarantine ---- */

/* mkdir that treats "already there" as success and a missing parent under
 * the device as a missing device. */
static int mkdir_one(const char *path, bool *created)
{
    *created = false;
    if (diskfile_io->mkdir(path, 0755) == 0) {
        *created = true;
        return 0;
    }
    return errno == EEXIST ? 0 : -errno;
}

int diskfile_quarantine(struct diskfile *df)
{
    char qdir[PATH_MAX], target[PATH_MAX];
    bool created;
    int err;

    close_state(df);
    snprintf(qdir, sizeof(qdir), "%s/quarantined", df->dev_path);
    err = mkdir_one(qdir, &created);
    if (!err) {
        strncat(qdir, "/objects", sizeof(qdir) - strlen(qdir) - 1);
        err = mkdir_one(qdir, &created);
    }
    if (err)
        return err == -ENOENT ? -ENODEV : err;
    if (snprintf(target, sizeof(target), "%s/%s", qdir, df->hash) >=
        (int)sizeof(target))
        return -ENAMETOOLONG;
    /* a hash quarantined before keeps its copy: add a random suffix */
    for (int tries = 0; tries < 8; tries++) {
        struct stat st;

        if (lstat(target, &st) == -1 && errno == ENOENT)
            break;
        if (snprintf(target, sizeof(target), "%s/%s-%08lx%08lx", qdir, df->hash,
                     random(), random()) >= (int)sizeof(target))
            return -ENAMETOOLONG;
    }
    if (diskfile_io->rename(df->hash_dir, target) == -1)
        return -errno;
    return suffix_hash_invalidate(df->part_dir, df->suffix);
}

/* ---- open for read ---- */

static int read_meta_file(const char *dir, const char *name, struct objmeta *m,
                          int *fd_out, uint64_t *len)
{
    char path[PATH_MAX];
    int fd, err;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd == -1)
        return -errno;
    err = objmeta_read_fd(fd, m, len);
    if (err == -ENODATA)
        err = -EINVAL; /* an object file without metadata is corrupt */
    if (err || !fd_out)
        close(fd);
    else
        *fd_out = fd;
    return err;
}

static bool is_sysmeta_kept(const char *key)
{
    static const char *const kept[] = {"content-length", "deleted", "etag",
                                       "x-static-large-object"};

    for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
        if (strcasecmp(key, kept[i]) == 0)
            return true;
    return strncasecmp(key, "x-object-sysmeta-", 17) == 0;
}

/* Swift's merge: the .meta's items, then the .data's reserved and system
 * items over them; the .data's Content-Type unless the .meta carries a
 * newer Content-Type-Timestamp. */
static int merge_meta(struct objmeta *out, const struct objmeta *data,
                      const struct objmeta *meta, const char *data_ts)
{
    const char *ctt = objmeta_get(meta, "Content-Type-Timestamp");
    const struct objmeta_item *ct = objmeta_find(data, "Content-Type");
    int err = objmeta_copy(out, meta);

    for (size_t i = 0; !err && i < data->n; i++) {
        const struct objmeta_item *it = &data->items[i];

        if (is_sysmeta_kept(it->key))
            err = objmeta_setn(out, it->key, it->klen, it->val, it->vlen);
    }
    if (!err && ct && (!ctt || strcmp(data_ts, ctt) > 0)) {
        err = objmeta_setn(out, ct->key, ct->klen, ct->val, ct->vlen);
        objmeta_del(out, "Content-Type-Timestamp");
    }
    return err;
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;

    if (!s || *s < '0' || *s > '9')
        return -EINVAL;
    errno = 0;
    *out = strtoull(s, &end, 10);
    return errno || *end ? -EINVAL : 0;
}

/* Swift's _verify_name_matches_hash: a diskfile opened by hash trusts the
 * name in the metadata only if it hashes back to the directory. Swift
 * hashes the whole name as one "account", which gives the same MD5. */
static int check_name(const struct diskfile *df, const struct objmeta *m)
{
    const char *name = objmeta_get(m, "name");
    unsigned char digest[16];
    char hex[33];

    if (!name || name[0] != '/')
        return -EINVAL;
    if (df->name)
        return 0; /* NEEDSWORK: Swift answers a collision with 403 */
    if (!df->hash_conf ||
        hash_path(df->hash_conf, name + 1, NULL, NULL, digest))
        return -EINVAL;
    hash_path_hex(digest, hex);
    return strcmp(hex, df->hash) == 0 ? 0 : -EINVAL;
}

/* Loads the .data (and .meta) chosen in 'l' into df. -EINVAL: corrupt. */
static int load_current(struct diskfile *df, const struct ondisk_listing *l)
{
    const struct ondisk_file *data = &l->files[l->st.data];
    struct objmeta dmeta = {0}, mmeta = {0};
    uint64_t clen;
    int err;

    err = read_meta_file(df->hash_dir, data->name, &dmeta, &df->fd,
                         &df->data_len);
    if (err)
        goto out;
    memcpy(df->data_ts, data->ts, ONDISK_TS_SIZE);
    err = -EINVAL;
    if (parse_u64(objmeta_get(&dmeta, "Content-Length"), &clen) ||
        clen != df->data_len || !objmeta_get(&dmeta, "ETag") ||
        check_name(df, &dmeta))
        goto out;
    if (l->st.meta < 0) {
        objmeta_release(&df->meta);
        df->meta = dmeta;
        dmeta = (struct objmeta){0};
        err = 0;
        goto out;
    }
    err = read_meta_file(df->hash_dir, l->files[l->st.meta].name, &mmeta, NULL,
                         NULL);
    if (err)
        goto out;
    memcpy(df->meta_ts, l->files[l->st.meta].ts, ONDISK_TS_SIZE);
    err = merge_meta(&df->meta, &dmeta, &mmeta, df->data_ts);
out:
    objmeta_release(&dmeta);
    objmeta_release(&mmeta);
    return err;
}

int diskfile_open(struct diskfile *df)
{
    struct ondisk_listing l;
    int err;

    close_state(df);
    if (df->mount_check && !devices_is_mount(df->dev_path))
        return -ENODEV;
    err = ondisk_list(df->hash_dir, false, 0, &l);
    if (err == -ENOENT || err == -ENOTDIR) {
        struct stat st;

        err = stat(df->dev_path, &st) == -1 ? -ENODEV : -ENOENT;
        goto out;
    }
    if (err)
        goto out;
    if (l.st.data < 0) {
        if (l.st.ts >= 0)
            memcpy(df->ts_ts, l.files[l.st.ts].ts, ONDISK_TS_SIZE);
        err = -ENOENT;
        goto out;
    }
    err = load_current(df, &l);
    if (err == -EINVAL) {
        diskfile_quarantine(df);
        err = -EINVAL;
    } else if (!err) {
        df->open = true;
    }
    if (err)
        close_state(df);
out:
    ondisk_listing_release(&l);
    assert_diskfile_ok(df);
    return err;
}

int diskfile_read_file_metadata(struct diskfile *df, enum ondisk_ext which,
                                struct objmeta *out)
{
    const char *ts = which == ONDISK_META ? df->meta_ts : df->ts_ts;
    char name[ONDISK_TS_SIZE + 8];

    objmeta_release(out);
    if (which == ONDISK_DATA)
        return df->open ? objmeta_read_fd(df->fd, out, NULL) : -ENOENT;
    if (!ts[0])
        return -ENOENT;
    snprintf(name, sizeof(name), "%s%s", ts,
             which == ONDISK_META ? ".meta" : ".ts");
    return read_meta_file(df->hash_dir, name, out, NULL, NULL);
}

/* ---- read ---- */

ssize_t diskfile_pread(struct diskfile *df, void *buf, size_t len, uint64_t off)
{
    ssize_t n;

    if (!df->open)
        return -EINVAL;
    if (off >= df->data_len)
        return 0;
    if (len > df->data_len - off)
        len = (size_t)(df->data_len - off);
    do {
        n = pread(df->fd, buf, len, (off_t)off);
    } while (n == -1 && errno == EINTR);
    return n == -1 ? -errno : n;
}

/* The MD5 of a whole-object read, hashed as it is read, on the reading
 * thread. (A helper thread hashing behind the reader, tried for large
 * GETs, measured slower and costlier here: doc/benchmarks.md.) 0 or
 * -ENOMEM. */
static int reader_hash_init(struct diskfile_reader *r)
{
    r->md5 = EVP_MD_CTX_new();
    if (!r->md5 || !EVP_DigestInit_ex(r->md5, EVP_md5(), NULL))
        return -ENOMEM;
    return 0;
}

int diskfile_reader_new(struct diskfile *df, uint64_t off, uint64_t len,
                        struct diskfile_reader **out)
{
    struct diskfile_reader *r;

    *out = NULL;
    if (!df->open || off > df->data_len)
        return -EINVAL;
    if (len > df->data_len - off)
        len = df->data_len - off;
    r = calloc(1, sizeof(*r));
    if (!r)
        return -ENOMEM;
    r->df = df;
    r->off = off;
    r->end = off + len;
    if (off == 0 && len == df->data_len && reader_hash_init(r)) {
        diskfile_reader_free(r);
        return -ENOMEM;
    }
    *out = r;
    return 0;
}

static void md5_hex(EVP_MD_CTX *ctx, char hex[33])
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int n = 0;

    EVP_DigestFinal_ex(ctx, d, &n);
    hash_path_hex(d, hex);
}

static int verify_end(struct diskfile_reader *r)
{
    const char *etag = objmeta_get(&r->df->meta, "ETag");
    char hex[33];

    md5_hex(r->md5, hex);
    if (etag && strcasecmp(etag, hex) == 0)
        return 0;
    diskfile_quarantine(r->df);
    return -EUCLEAN;
}

ssize_t diskfile_reader_read(struct diskfile_reader *r, void *buf, size_t cap)
{
    ssize_t n;

    if (r->done)
        return 0;
    if (r->off == r->end) {
        r->done = true;
        return r->md5 ? verify_end(r) : 0;
    }
    if (cap > r->end - r->off)
        cap = (size_t)(r->end - r->off);
    n = diskfile_pread(r->df, buf, cap, r->off);
    if (n == 0)
        return -EIO; /* the file shrank under us */
    if (n < 0)
        return n;
    if (r->md5)
        EVP_DigestUpdate(r->md5, buf, (size_t)n);
    r->off += (uint64_t)n;
    return n;
}

void diskfile_reader_free(struct diskfile_reader *r)
{
    if (!r)
        return;
    EVP_MD_CTX_free(r->md5);
    free(r);
}

/* ---- write ---- */

/* Swift's fallocate_reserve: refuse a write that would leave less than
 * 'reserve' bytes free, before reading its body. */
static int check_reserve(int fd, int64_t size, uint64_t reserve)
{
    struct statvfs sv;
    uint64_t avail;

    if (!reserve)
        return 0;
    if (fstatvfs(fd, &sv) == -1)
        return -errno;
    avail = (uint64_t)sv.f_bavail * sv.f_frsize;
    if (size > 0)
        avail = avail > (uint64_t)size ? avail - (uint64_t)size : 0;
    return avail <= reserve ? -ENOSPC : 0;
}

int diskfile_writer_new(struct diskfile *df, int64_t size,
                        struct diskfile_writer **out)
{
    struct diskfile_writer *w;
    char tmp_dir[PATH_MAX];
    bool created;
    int err;

    *out = NULL;
    if (df->mount_check && !devices_is_mount(df->dev_path))
        return -ENODEV;
    snprintf(tmp_dir, sizeof(tmp_dir), "%s/tmp", df->dev_path);
    w = calloc(1, sizeof(*w));
    if (!w)
        return -ENOMEM;
    w->df = df;
    w->fd = -1;
    w->md5 = EVP_MD_CTX_new();
    if (!w->md5 || !EVP_DigestInit_ex(w->md5, EVP_md5(), NULL) ||
        asprintf(&w->tmp_path, "%s/tmpXXXXXX", tmp_dir) < 0) {
        w->tmp_path = NULL;
        err = -ENOMEM;
        goto fail;
    }
    w->fd = mkostemp(w->tmp_path, O_CLOEXEC);
    if (w->fd == -1 && errno == ENOENT) {
        /* the device's first write: tmp/ is made then (no mkdir() per
         * PUT); a device directory that is not there is a 507 */
        err = mkdir_one(tmp_dir, &created);
        if (err) {
            free(w->tmp_path);
            w->tmp_path = NULL;
            err = err == -ENOENT ? -ENODEV : err;
            goto fail;
        }
        memcpy(w->tmp_path + strlen(w->tmp_path) - 6, "XXXXXX", 6);
        w->fd = mkostemp(w->tmp_path, O_CLOEXEC);
    }
    if (w->fd == -1) {
        err = -errno;
        free(w->tmp_path);
        w->tmp_path = NULL;
        goto fail;
    }
    err = check_reserve(w->fd, size, df->fallocate_reserve);
    if (err)
        goto fail;
    if (size > 0 && diskfile_io->fallocate(w->fd, FALLOC_FL_KEEP_SIZE, 0,
                                           (off_t)size) == -1) {
        err = -errno;
        if (err != -EOPNOTSUPP && err != -ENOSYS)
            goto fail;
    }
    *out = w;
    return 0;
fail:
    diskfile_writer_free(w);
    return err;
}

void diskfile_writer_trust_etag(struct diskfile_writer *w)
{
    assert(w->bytes == 0);
    EVP_MD_CTX_free(w->md5);
    w->md5 = NULL;
}

/* A large body's writeback starts every WRITEBACK_EVERY bytes while it
 * streams (2 MiB: 180-194 MB/s of 64 MiB PUTs against 137 without, 156-217
 * with 8 MiB, same load), so the disk writes as the network delivers and the fsync
 * before the rename finds little left to do (it wrote the whole 64 MiB
 * of each replica at once, a third of a 64 MiB PUT's time). Only a hint:
 * the fsync still decides, and reports any error. */
#define WRITEBACK_EVERY (2u << 20)

static void start_writeback(struct diskfile_writer *w)
{
    if (w->bytes - w->written_back < WRITEBACK_EVERY)
        return;
    sync_file_range(w->fd, (off64_t)w->written_back,
                    (off64_t)(w->bytes - w->written_back),
                    SYNC_FILE_RANGE_WRITE);
    w->written_back = w->bytes;
}

int diskfile_writer_write(struct diskfile_writer *w, const void *buf,
                          size_t len)
{
    int err;

    if (!w->tmp_path)
        return -EINVAL;
    err = diskfile_io_pwrite_all(w->fd, buf, len, (off_t)w->bytes);
    if (err)
        return err;
    if (w->md5)
        EVP_DigestUpdate(w->md5, buf, len);
    w->bytes += len;
    start_writeback(w);
    return 0;
}

uint64_t diskfile_writer_bytes(const struct diskfile_writer *w)
{
    return w->bytes;
}

const char *diskfile_writer_etag(const struct diskfile_writer *w)
{
    return w->etag;
}

static void remove_tmp(struct diskfile_writer *w)
{
    if (w->tmp_path)
        unlink(w->tmp_path); /* not through diskfile_io: must not fail */
    free(w->tmp_path);
    w->tmp_path = NULL;
}

void diskfile_writer_free(struct diskfile_writer *w)
{
    if (!w)
        return;
    remove_tmp(w);
    if (w->fd >= 0)
        close(w->fd);
    EVP_MD_CTX_free(w->md5);
    free(w);
}

/* Creates objects/, <part>, <suffix> and <hash> as needed. Sets *top to
 * the index (0 objects .. 3 hash) of the first directory created, or 4. */
static int make_dirs(struct diskfile *df, int *top)
{
    char objects[PATH_MAX];
    const char *dirs[4];
    bool created;
    int err;

    snprintf(objects, sizeof(objects), "%s/objects", df->dev_path);
    dirs[0] = objects;
    dirs[1] = df->part_dir;
    dirs[2] = df->suffix_dir;
    dirs[3] = df->hash_dir;
    *top = 4;
    /* usually the hash dir exists or only it is new: try deepest first */
    for (int i = 3; i >= 0; i--) {
        err = mkdir_one(dirs[i], &created);
        if (err == -ENOENT)
            continue;
        if (err)
            return err;
        if (created)
            *top = i;
        for (int j = i + 1; j < 4; j++) {
            err = mkdir_one(dirs[j], &created);
            if (err)
                return err;
            if (created && j < *top)
                *top = j;
        }
        return 0;
    }
    return -ENODEV; /* even objects/ cannot be made: no device */
}

/* Opens the parent of each directory make_dirs() created (from 'top'
 * down to the hash dir) into fds[], for their fsync. Returns how many,
 * or -errno after closing what it opened. */
static int open_new_parents(struct diskfile *df, int top, int *fds)
{
    char objects[PATH_MAX];
    const char *parents[4] = {df->dev_path, objects, df->part_dir,
                              df->suffix_dir};
    int n = 0;

    snprintf(objects, sizeof(objects), "%s/objects", df->dev_path);
    /* directory i of make_dirs() has parents[i] as its parent */
    for (int i = top; i < 4; i++) {
        fds[n] = open(parents[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fds[n] == -1) {
            int err = -errno;

            while (n > 0)
                close(fds[--n]);
            return err;
        }
        n++;
    }
    return n;
}

/* Makes the temp file and the entries of the directories we created
 * durable, all at once: the file's fsync and the new directories'
 * parents' fsyncs do not depend on each other, and flushes issued
 * together share the device's flush instead of queueing one after
 * another (4 in a row for a new suffix before, 1 now). */
static int sync_file_and_new_dirs(struct diskfile_writer *w, int top)
{
    int fds[5], n, err;

    fds[0] = w->fd;
    n = open_new_parents(w->df, top, fds + 1);
    if (n < 0)
        return n;
    err = diskfile_io_fsync_batch(fds, (size_t)n + 1);
    for (int i = 1; i <= n; i++)
        close(fds[i]);
    return err;
}

static int build_meta(struct diskfile *df, struct objmeta *out,
                      const struct objmeta *meta, const char *timestamp)
{
    int err = meta ? objmeta_copy(out, meta) : 0;

    if (!err && df->name && !objmeta_get(out, "name"))
        err = objmeta_set(out, "name", df->name);
    if (!err)
        err = objmeta_set(out, "X-Timestamp", timestamp);
    return err;
}

/* Round 1 and the rename of commit_file(): the directories made (*top
 * lowered to the first one this call created), the suffix marked, the
 * temp file and the new directories' parents fsynced, the file renamed
 * to 'target'. 'mark' is opened here; the caller closes it. */
static int place_file(struct diskfile_writer *w, struct suffix_mark *mark,
                      const char *target, int *top)
{
    struct diskfile *df = w->df;
    int made, err;

    err = make_dirs(df, &made);
    if (!err && made < *top)
        *top = made;
    if (!err)
        err = suffix_mark_open(df->part_dir, mark);
    if (!err)
        err = suffix_mark_add(mark, df->suffix);
    if (!err)
        err = sync_file_and_new_dirs(w, made);
    if (!err && diskfile_io->rename(w->tmp_path, target) == -1)
        err = -errno;
    return err;
}

/* The common tail of PUT, DELETE and POST. Two rounds of device flushes:
 *  1. directories made, suffix marked invalid; then at once: fsync of the
 *     temp file (data and metadata) and of the parent of every directory
 *     we created (their entries);
 *  2. rename into the hash dir (only after 1: a file appears only once
 *     its content is durable), suffix marked again, fsync of the hash dir
 *     (the new entry).
 * Then obsolete files are removed, unless this write made the hash dir
 * (a listing saved per new object): only a concurrent writer can have put
 * a file there, readers take the newest anyway, and the suffix rehash
 * removes what is obsolete, as it does after a crash. A failure in 1
 * leaves no file (the temp file is removed; new empty directories stay
 * for the rehash to remove); a failure in 2 after the rename leaves the
 * file complete and in place but maybe not durable, reported as an
 * error. */
static int commit_file(struct diskfile_writer *w, const struct objmeta *m,
                       const char *timestamp, const char *ext)
{
    struct diskfile *df = w->df;
    char target[PATH_MAX];
    struct ondisk_listing l;
    struct suffix_mark mark = {.lock = -1, .fd = -1};
    int top, err;

    err = objmeta_write_fd(w->fd, m, w->bytes);
    if (!err && df->mount_check && !devices_is_mount(df->dev_path))
        err = -ENODEV;
    snprintf(target, sizeof(target), "%s/%s%s", df->hash_dir, timestamp, ext);
    top = 4;
    for (int tries = 0; !err; tries++) {
        err = place_file(w, &mark, target, &top);
        /* A rehash (REPLICATE, the replicator) removes hash and suffix
         * directories it finds empty, and the replicator a handoff
         * partition it pushed: ours, made a moment ago, may be gone
         * before the rename. Make them again and retry, as Swift's
         * renamer() does. */
        if (err != -ENOENT || tries == 2)
            break;
        suffix_mark_close(&mark);
        err = 0;
    }
    if (err) {
        suffix_mark_close(&mark);
        remove_tmp(w);
        return err;
    }
    free(w->tmp_path);
    w->tmp_path = NULL;
    /* again: a rehash between the first mark and the rename consumed it
     * without seeing the new file */
    err = suffix_mark_add(&mark, df->suffix);
    suffix_mark_close(&mark);
    if (!err)
        err = diskfile_io_fsync_dir(df->hash_dir);
    if (err)
        return err;
    if (top == 4) {
        ondisk_list(df->hash_dir, true, 0, &l);
        ondisk_listing_release(&l);
    }
    return 0;
}

/* A trusted ETag becomes the object's: 32 hex digits, stored lowercase. */
static bool take_etag(struct diskfile_writer *w, const char *etag)
{
    if (!etag || strlen(etag) != 32)
        return false;
    for (size_t i = 0; i < 32; i++) {
        if (!isxdigit((unsigned char)etag[i]))
            return false;
        w->etag[i] = (char)tolower((unsigned char)etag[i]);
    }
    w->etag[32] = '\0';
    return true;
}

int diskfile_writer_commit(struct diskfile_writer *w,
                           const struct objmeta *meta, const char *timestamp,
                           const char *expected_etag)
{
    struct objmeta m = {0};
    char len[24];
    int err = 0;

    if (!w->tmp_path)
        return -EINVAL;
    if (w->md5)
        md5_hex(w->md5, w->etag);
    if (!ondisk_timestamp_valid(timestamp))
        err = -EINVAL;
    else if (!w->md5 && !take_etag(w, expected_etag))
        err = -EBADMSG;
    else if (expected_etag && strcasecmp(expected_etag, w->etag) != 0)
        err = -EBADMSG;
    else
        err = build_meta(w->df, &m, meta, timestamp);
    snprintf(len, sizeof(len), "%" PRIu64, w->bytes);
    if (!err)
        err = objmeta_set(&m, "ETag", w->etag);
    if (!err)
        err = objmeta_set(&m, "Content-Length", len);
    if (!err)
        err = commit_file(w, &m, timestamp, ".data");
    if (err)
        remove_tmp(w);
    objmeta_release(&m);
    return err;
}

static int write_empty(struct diskfile *df, const struct objmeta *meta,
                       const char *timestamp, const char *ext)
{
    struct diskfile_writer *w;
    struct objmeta m = {0};
    int err;

    if (!ondisk_timestamp_valid(timestamp))
        return -EINVAL;
    err = diskfile_writer_new(df, -1, &w);
    if (err)
        return err;
    err = build_meta(df, &m, meta, timestamp);
    if (!err)
        err = commit_file(w, &m, timestamp, ext);
    objmeta_release(&m);
    diskfile_writer_free(w);
    return err;
}

int diskfile_delete(struct diskfile *df, const char *timestamp)
{
    return write_empty(df, NULL, timestamp, ".ts");
}

int diskfile_post(struct diskfile *df, const struct objmeta *meta,
                  const char *timestamp)
{
    return write_empty(df, meta, timestamp, ".meta");
}

int diskfile_cleanup_tmp(const struct diskfile_conf *conf, const char *dev,
                         int64_t older_than)
{
    char dir[PATH_MAX], path[PATH_MAX];
    char **names;
    size_t n;
    struct stat st;
    int err, removed = 0;

    err = devices_check(conf->devices, dev, conf->mount_check);
    if (err)
        return err;
    if (snprintf(dir, sizeof(dir), "%s/%s/tmp", conf->devices, dev) >=
        (int)sizeof(dir))
        return -ENAMETOOLONG;
    err = diskfile_io_listdir(dir, &names, &n);
    if (err)
        return err == -ENOENT ? 0 : err;
    for (size_t i = 0; i < n; i++) {
        if (snprintf(path, sizeof(path), "%s/%s", dir, names[i]) >=
            (int)sizeof(path))
            continue;
        if (lstat(path, &st) == -1 || !S_ISREG(st.st_mode) ||
            st.st_mtime >= older_than)
            continue;
        if (diskfile_io->unlink(path) == 0)
            removed++;
    }
    diskfile_io_free_names(names, n);
    return removed;
}
