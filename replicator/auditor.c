/*
 * auditor.c - the object auditor's pass (auditor.h): the walk over the
 * devices, the pacing, the counts and recon. Whether an object is good,
 * and moving a bad one to quarantine, is diskfile's: the auditor reads
 * objects exactly as a GET does, so both find the same faults.
 *
 * The auditor never writes an object file and never creates a directory
 * outside quarantined/ (diskfile_quarantine()); with mount_check on, an
 * unmounted device is skipped.
 */
#include "replicator/auditor.h"

#include "common/recon.h"
#include "replicator/bg_daemon.h"
#include "storage/devices.h"
#include "storage/diskfile.h"
#include "storage/suffix_hash.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define READ_CHUNK (64 * 1024)
/* Seconds of unused allowance a rate keeps: after a slow stretch (a big
 * directory listing, a busy disk) the auditor may catch up this much at
 * full speed, no more (Swift's rate_buffer). */
#define RATE_BUFFER 5.0

const struct conf_option auditor_options[] = {
    LOG_CONF_OPTIONS(struct auditor_conf, log, "object-auditor"),
    CONF_STR("devices", struct auditor_conf, devices, "/srv/node"),
    CONF_BOOL("mount_check", struct auditor_conf, mount_check, true),
    CONF_STR("swift_dir", struct auditor_conf, swift_dir, "/etc/swift"),
    CONF_DOUBLE("interval", struct auditor_conf, interval, 30,
                BG_DAEMON_MIN_INTERVAL, 86400 * 7),
    CONF_UINT("files_per_second", struct auditor_conf, files_per_second, 20, 0,
              UINT_MAX),
    CONF_SIZE("bytes_per_second", struct auditor_conf, bytes_per_second,
              10000000, 0, UINT64_MAX),
    CONF_UINT("reclaim_age", struct auditor_conf, reclaim_age, 604800, 0,
              UINT_MAX),
    CONF_STR("recon_cache_path", struct auditor_conf, recon_cache_path,
             RECON_DEFAULT_CACHE_PATH),
    CONF_END,
};

/* Swift's ratelimit_sleep(): 'next' is when the next unit may go. */
struct rate {
    double per_sec; /* 0: unlimited */
    double next;
};

struct auditor {
    const struct auditor_conf *c;
    struct diskfile_conf dconf;
    char **only; /* --devices, NULL-terminated, or NULL */
    struct rate files, bytes;
    double slept;  /* seconds spent pacing this pass */
    bool dev_gone; /* the device was unmounted or removed mid-walk */
    struct auditor_stats st;
    double start_wall, start_mono;
    char *buf; /* READ_CHUNK */
};

static void rate_sleep(struct auditor *a, struct rate *r, double units)
{
    double now, wait;

    if (r->per_sec <= 0)
        return;
    now = bg_daemon_now();
    if (now - r->next > RATE_BUFFER)
        r->next = now - RATE_BUFFER;
    wait = r->next - now;
    if (wait > 0) {
        bg_daemon_sleep(wait);
        a->slept += wait;
    }
    r->next += units / r->per_sec;
}

static char **split_devices(const char *list)
{
    size_t n = 2, i = 0;
    char **v, *copy, *save = NULL, *tok;

    for (const char *p = list; *p; p++)
        n += *p == ',';
    v = calloc(n, sizeof(*v));
    copy = strdup(list);
    if (!v || !copy) {
        free(v);
        free(copy);
        return NULL;
    }
    for (tok = strtok_r(copy, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save))
        if (*tok && !(v[i++] = strdup(tok)))
            break;
    free(copy);
    if (i && !v[i - 1]) {
        for (size_t j = 0; v[j]; j++)
            free(v[j]);
        free(v);
        return NULL;
    }
    return v;
}

int auditor_new(const struct auditor_conf *c, const struct hash_path_conf *hc,
                const char *devices, struct auditor **out)
{
    struct auditor *a = calloc(1, sizeof(*a));

    *out = NULL;
    if (!a)
        return -ENOMEM;
    a->c = c;
    a->dconf = (struct diskfile_conf){
        .devices = c->devices, .mount_check = c->mount_check, .hash_conf = hc};
    a->files.per_sec = c->files_per_second;
    a->bytes.per_sec = (double)c->bytes_per_second;
    a->buf = malloc(READ_CHUNK);
    if (!a->buf || (devices && !(a->only = split_devices(devices)))) {
        auditor_free(a);
        return -ENOMEM;
    }
    *out = a;
    return 0;
}

void auditor_free(struct auditor *a)
{
    if (!a)
        return;
    for (size_t i = 0; a->only && a->only[i]; i++)
        free(a->only[i]);
    free(a->only);
    free(a->buf);
    free(a);
}

/* Reads the open object whole, paced; the reader checks the MD5 at the
 * end. 0, -EUCLEAN (quarantined) or -errno. */
static int read_whole(struct auditor *a, struct diskfile *df)
{
    struct diskfile_reader *r;
    ssize_t n;
    int err = diskfile_reader_new(df, 0, UINT64_MAX, &r);

    if (err)
        return err;
    while ((n = diskfile_reader_read(r, a->buf, READ_CHUNK)) > 0) {
        a->st.bytes_processed += (uint64_t)n;
        rate_sleep(a, &a->bytes, (double)n);
    }
    diskfile_reader_free(r);
    return (int)n;
}

/* A tombstone older than reclaim_age is removed by the rehash of its
 * suffix, but nothing rehashes a suffix no write touches: mark it, so the
 * replicator's next REPLICATE of the partition reclaims it (Swift's
 * auditor does the same). 'hash_dir' is <part dir>/<suffix>/<hash>. */
static void mark_reclaimable(struct auditor *a, const struct diskfile *df,
                             const char *hash_dir)
{
    const char *ts = diskfile_tombstone(df);
    char part_dir[PATH_MAX], *slash;
    int err;

    if (!ts || !a->c->reclaim_age ||
        strtod(ts, NULL) >= (double)time(NULL) - a->c->reclaim_age)
        return;
    snprintf(part_dir, sizeof(part_dir), "%s", hash_dir);
    for (int i = 0; i < 2; i++) {
        slash = strrchr(part_dir, '/');
        if (!slash)
            return;
        *slash = '\0';
    }
    err = suffix_hash_invalidate(part_dir, slash + 1);
    if (err)
        log_warning("cannot mark '%s' for reclaiming: %s", hash_dir,
                    strerror(-err));
}

static void audit_object(struct auditor *a, const char *dev, uint32_t part,
                         const char *hash_dir, const char *hash)
{
    struct diskfile *df = NULL;
    int err = diskfile_new_from_hash(&a->dconf, dev, part, hash, &df);

    if (!err)
        err = diskfile_open(df);
    if (!err)
        err = read_whole(a, df);
    switch (err) {
    case 0: a->st.passes++; break;
    case -ENOENT: /* a tombstone, or gone since listed */
        mark_reclaimable(a, df, hash_dir);
        break;
    case -ENODEV:
        a->dev_gone = true;
        log_warning("device '%s' went away during the audit: skipping the "
                    "rest of it",
                    dev);
        break;
    case -EINVAL: /* diskfile_open() quarantined it */
        a->st.quarantined++;
        log_err("object '%s' failed audit and was quarantined: bad metadata "
                "or size",
                hash_dir);
        break;
    case -EUCLEAN:
        a->st.quarantined++;
        log_err("object '%s' failed audit and was quarantined: ETag does not "
                "match the data",
                hash_dir);
        break;
    default:
        a->st.errors++;
        log_err("cannot audit '%s': %s", hash_dir, strerror(-err));
    }
    diskfile_free(df);
    rate_sleep(a, &a->files, 1);
}

static bool is_hash_of(const char *name, const char *suffix)
{
    size_t i;

    for (i = 0; name[i]; i++)
        if (!((name[i] >= '0' && name[i] <= '9') ||
              (name[i] >= 'a' && name[i] <= 'f')))
            return false;
    return i == 32 && !strcmp(name + 29, suffix);
}

/* Partition directories are decimal uint32s; anything else is not ours. */
static bool parse_part(const char *name, uint32_t *part)
{
    char *end;
    unsigned long long v;

    if (*name < '0' || *name > '9')
        return false;
    errno = 0;
    v = strtoull(name, &end, 10);
    if (errno || *end || v > UINT32_MAX)
        return false;
    *part = (uint32_t)v;
    return true;
}

static void audit_suffix(struct auditor *a, const char *dev, uint32_t part,
                         const char *suffix_dir, const char *suffix)
{
    char path[PATH_MAX];
    struct dirent *e;
    DIR *d = opendir(suffix_dir);

    if (!d)
        return; /* emptied and removed by a replicator since listed */
    while (!a->dev_gone && (e = readdir(d))) {
        if (!is_hash_of(e->d_name, suffix))
            continue;
        if (snprintf(path, sizeof(path), "%s/%s", suffix_dir, e->d_name) >=
            (int)sizeof(path))
            continue;
        audit_object(a, dev, part, path, e->d_name);
    }
    closedir(d);
}

static void audit_partition(struct auditor *a, const char *dev, uint32_t part,
                            const char *part_dir)
{
    char path[PATH_MAX];
    struct dirent *e;
    DIR *d = opendir(part_dir);

    if (!d)
        return;
    while (!a->dev_gone && (e = readdir(d))) {
        if (!suffix_hash_valid_suffix(e->d_name))
            continue;
        if (snprintf(path, sizeof(path), "%s/%s", part_dir, e->d_name) >=
            (int)sizeof(path))
            continue;
        audit_suffix(a, dev, part, path, e->d_name);
    }
    closedir(d);
}

static void audit_device(struct auditor *a, const char *dev)
{
    char objects[PATH_MAX], path[PATH_MAX];
    struct dirent *e;
    uint32_t part;
    DIR *d;
    int err = devices_check(a->c->devices, dev, a->c->mount_check);

    if (err) {
        log_warning("skipping device '%s/%s': %s", a->c->devices, dev,
                    err == -ENODEV && a->c->mount_check ? "not mounted"
                                                        : strerror(-err));
        return;
    }
    a->dev_gone = false;
    snprintf(objects, sizeof(objects), "%s/%s/objects", a->c->devices, dev);
    d = opendir(objects);
    if (!d) {
        if (errno != ENOENT) {
            a->st.errors++;
            log_err("cannot list '%s': %s", objects, strerror(errno));
        }
        return;
    }
    while (!a->dev_gone && (e = readdir(d))) {
        if (!parse_part(e->d_name, &part) ||
            snprintf(path, sizeof(path), "%s/%s", objects, e->d_name) >=
                (int)sizeof(path))
            continue;
        audit_partition(a, dev, part, path);
    }
    closedir(d);
}

static void dump_recon(struct auditor *a, bool pass_done)
{
    char path[PATH_MAX] = "";
    double audit_time = bg_daemon_now() - a->start_mono - a->slept;
    json_t *patch = json_pack(
        "{s:{s:I, s:I, s:I, s:I, s:f, s:f}}", "object_auditor_stats_ALL",
        "errors", (json_int_t)a->st.errors, "passes", (json_int_t)a->st.passes,
        "quarantined", (json_int_t)a->st.quarantined, "bytes_processed",
        (json_int_t)a->st.bytes_processed, "start_time", a->start_wall,
        "audit_time", audit_time);
    int err;

    if (!patch)
        return;
    if (pass_done)
        json_object_set_new(patch, "object_auditor_last",
                            json_real((double)time(NULL)));
    err = recon_path(path, sizeof(path), a->c->recon_cache_path, "object");
    if (!err)
        err = recon_update(path, patch);
    if (err)
        log_err("cannot write recon cache '%s': %s", path, strerror(-err));
    json_decref(patch);
}

static void audit_all_devices(struct auditor *a)
{
    struct dirent **names = NULL;
    int n;

    n = scandir(a->c->devices, &names, NULL, alphasort);
    if (n < 0) {
        a->st.errors++;
        log_err("cannot list devices '%s': %s", a->c->devices, strerror(errno));
        return;
    }
    for (int i = 0; i < n; i++) {
        if (names[i]->d_name[0] != '.') {
            audit_device(a, names[i]->d_name);
            dump_recon(a, false);
        }
        free(names[i]);
    }
    free(names);
}

void auditor_pass(struct auditor *a, struct auditor_stats *st)
{
    double elapsed;

    memset(&a->st, 0, sizeof(a->st));
    a->slept = 0;
    a->start_wall = (double)time(NULL);
    a->start_mono = bg_daemon_now();
    a->files.next = a->bytes.next = a->start_mono;
    log_info("begin object audit (ALL)");
    if (a->only) {
        for (size_t i = 0; a->only[i]; i++) {
            audit_device(a, a->only[i]);
            dump_recon(a, false);
        }
    } else {
        audit_all_devices(a);
    }
    dump_recon(a, true);
    elapsed = bg_daemon_now() - a->start_mono;
    log_info("object audit (ALL) complete: %.2fs, %" PRIu64 " passed, %" PRIu64
             " quarantined, %" PRIu64 " errors, %" PRIu64 " bytes",
             elapsed, a->st.passes, a->st.quarantined, a->st.errors,
             a->st.bytes_processed);
    if (st)
        *st = a->st;
}
