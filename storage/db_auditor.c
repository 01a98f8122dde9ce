/*
 * db_auditor.c - the auditor thread of a DB server (db_auditor.h): Swift's
 * container and account auditors' _one_audit_pass over this server's
 * LevelDBs, with the checks of contdb_audit() / acctdb_audit().
 *
 * Invariants:
 * 1. A DB is removed only when its audit says it is corrupt (-EBADMSG),
 *    never for a read error or wrong stats, and only after its quarantine
 *    file is on disk.
 * 2. Stats are rewritten only from a count made under the DB's lock
 *    (dbbroker_repair_stats()), never from the pass's snapshot.
 */
#include "storage/db_auditor.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/atomic_file.h"
#include "common/log.h"
#include "common/recon.h"
#include "ring/hash_path.h"
#include "storage/acctdb.h"
#include "storage/contdb.h"
#include "storage/db_bg.h"
#include "storage/dbrepl.h"

#define QUARANTINE_MAGIC "KURADBQ1"
#define DUMP_FLUSH (1u << 20) /* bytes buffered before a write() */

/* ---- the two kinds of DB ---- */

struct audit_type {
    const char *name; /* "container": recon, logs */
    const char *qdir; /* quarantined/<qdir> */
    /* The audit and the DB's path (/a/c) for the log, when it read. */
    int (*audit)(struct kvdb *kv, uint32_t part, const unsigned char hash[16],
                 struct dbbroker_audit *res, char *path, size_t cap);
    int (*repair)(struct kvdb *kv, uint32_t part, const unsigned char hash[16]);
};

static int cont_audit(struct kvdb *kv, uint32_t part,
                      const unsigned char hash[16], struct dbbroker_audit *res,
                      char *path, size_t cap)
{
    struct contdb db;
    struct contdb_info info;
    int err;

    contdb_init(&db, kv, part, hash);
    err = contdb_audit(&db, &info, res);
    if (info.account && info.container)
        snprintf(path, cap, "/%s/%s", info.account, info.container);
    contdb_info_release(&info);
    return err;
}

static int cont_repair(struct kvdb *kv, uint32_t part,
                       const unsigned char hash[16])
{
    struct contdb db;

    contdb_init(&db, kv, part, hash);
    return contdb_repair_stats(&db);
}

static int acct_audit(struct kvdb *kv, uint32_t part,
                      const unsigned char hash[16], struct dbbroker_audit *res,
                      char *path, size_t cap)
{
    struct acctdb db;
    struct acctdb_info info;
    int err;

    acctdb_init(&db, kv, part, hash);
    err = acctdb_audit(&db, &info, res);
    if (info.account)
        snprintf(path, cap, "/%s", info.account);
    acctdb_info_release(&info);
    return err;
}

static int acct_repair(struct kvdb *kv, uint32_t part,
                       const unsigned char hash[16])
{
    struct acctdb db;

    acctdb_init(&db, kv, part, hash);
    return acctdb_repair_stats(&db);
}

static const struct audit_type types[] = {
    {"container", "containers", cont_audit, cont_repair},
    {"account", "accounts", acct_audit, acct_repair},
};

static const struct audit_type *find_type(const char *name)
{
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (!strcmp(types[i].name, name))
            return &types[i];
    return NULL;
}

/* ---- quarantine ---- */

struct dump {
    struct atomic_file af;
    struct dbenc buf;
    int err;
};

static int dump_flush(struct dump *d)
{
    if (!d->err && d->buf.len)
        d->err = atomic_file_write(&d->af, d->buf.p, d->buf.len);
    d->buf.len = 0;
    return d->err;
}

static int dump_key(const void *key, size_t klen, const void *val, size_t vlen,
                    void *arg)
{
    struct dump *d = arg;

    dbenc_be32(&d->buf, (uint32_t)klen);
    dbenc_bytes(&d->buf, key, klen);
    dbenc_be32(&d->buf, (uint32_t)vlen);
    dbenc_bytes(&d->buf, val, vlen);
    if (d->buf.err)
        return d->buf.err;
    return d->buf.len >= DUMP_FLUSH ? dump_flush(d) : 0;
}

static int mkdir_ok(const char *path)
{
    return mkdir(path, 0755) && errno != EEXIST ? -errno : 0;
}

/* Copies the DB's keys and values, as far as they read (checksums not
 * checked: a damaged record is worth keeping too), into a new file of
 * quarantined/<qdir>/. Sets 'file' to its path. */
static int dump_db(const struct audit_type *t, const char *dev_path,
                   struct kvdb *kv, const unsigned char prefix[], char *file,
                   size_t cap)
{
    unsigned char end[DB_KEY_PREFIX_LEN];
    size_t elen = kvdb_prefix_end(prefix, DB_KEY_PREFIX_LEN, end);
    struct dump d = {0};
    char hex[33], dir[4096];
    int err, scan;

    hash_path_hex(prefix + 4, hex);
    if ((size_t)snprintf(dir, sizeof(dir), "%s/quarantined/%s", dev_path,
                         t->qdir) >= sizeof(dir) ||
        (size_t)snprintf(file, cap, "%s/%s-%.5f.kv", dir, hex, db_bg_now()) >=
            cap)
        return -ENAMETOOLONG;
    *strrchr(dir, '/') = '\0';
    err = mkdir_ok(dir);
    dir[strlen(dir)] = '/';
    if (!err)
        err = mkdir_ok(dir);
    if (!err)
        err = fsync_parent_dir(dir);
    if (!err)
        err = atomic_file_open(&d.af, file);
    if (err)
        return err;
    dbenc_bytes(&d.buf, QUARANTINE_MAGIC, strlen(QUARANTINE_MAGIC));
    scan = kvdb_scan(kv, prefix, DB_KEY_PREFIX_LEN, elen ? end : NULL, elen,
                     dump_key, &d);
    err = d.buf.err ? d.buf.err : dump_flush(&d);
    /* a scan stopped by the damage still leaves what it read */
    if (scan && scan != -EIO && !err)
        err = scan;
    if (err)
        atomic_file_abort(&d.af);
    else
        err = atomic_file_commit(&d.af);
    dbenc_release(&d.buf);
    return err;
}

/* Invariant 1: the copy is on disk before the DB goes. */
static enum db_audit_result
quarantine(const struct audit_type *t, const char *dev_path, struct kvdb *kv,
           uint32_t part, const unsigned char hash[16], const char *what)
{
    unsigned char prefix[DB_KEY_PREFIX_LEN];
    char file[4096];
    int err;

    db_key_prefix(prefix, part, hash);
    err = dump_db(t, dev_path, kv, prefix, file, sizeof(file));
    if (err) {
        log_err("cannot quarantine corrupt %s DB %s: %s", t->name, what,
                strerror(-err));
        return DB_AUDIT_FAILED;
    }
    err = dbrepl_destroy(kv, prefix);
    if (err) {
        /* the next pass copies it again: one file per DB removed */
        unlink(file);
        log_err("cannot remove corrupt %s DB %s: %s", t->name, what,
                strerror(-err));
        return DB_AUDIT_FAILED;
    }
    log_err("quarantined corrupt %s DB %s to '%s'", t->name, what, file);
    return DB_AUDIT_QUARANTINED;
}

/* ---- one DB ---- */

static enum db_audit_result audit_db(const struct audit_type *t,
                                     const char *dev_path, struct kvdb *kv,
                                     uint32_t part,
                                     const unsigned char hash[16])
{
    struct dbbroker_audit res;
    char hex[33], what[1024];
    int err;

    hash_path_hex(hash, hex);
    /* until the info reads: where it is */
    snprintf(what, sizeof(what), "%" PRIu32 "/%s on %s", part, hex, dev_path);
    err = t->audit(kv, part, hash, &res, what, sizeof(what));
    if (err == -ENOENT)
        return DB_AUDIT_GONE; /* reclaimed or reverted meanwhile */
    if (err == -EBADMSG)
        return quarantine(t, dev_path, kv, part, hash, what);
    if (err) {
        log_err("cannot audit %s DB %s: %s", t->name, what, strerror(-err));
        return DB_AUDIT_FAILED;
    }
    if (!res.feed_ok)
        /* NEEDSWORK: a feed entry missing or astray hides rows from
         * replication (or sends them twice); rebuilding the feed from the
         * rows would repair it in place */
        log_err("%s DB %s: %zu feed entries for %zu rows", t->name, what,
                res.feed, res.rows);
    if (res.stats_ok)
        return res.feed_ok ? DB_AUDIT_PASSED : DB_AUDIT_FAILED;
    err = t->repair(kv, part, hash);
    if (err == -ENOENT)
        return DB_AUDIT_GONE;
    if (err) {
        log_err("cannot repair the stats of %s DB %s: %s", t->name, what,
                strerror(-err));
        return err == -EBADMSG ? quarantine(t, dev_path, kv, part, hash, what)
                               : DB_AUDIT_FAILED;
    }
    log_warning("%s DB %s: stats did not match its %zu rows, rewritten",
                t->name, what, res.rows);
    return res.feed_ok ? DB_AUDIT_REPAIRED : DB_AUDIT_FAILED;
}

enum db_audit_result db_audit_one(const char *type, const char *dev_path,
                                  struct kvdb *kv, uint32_t part,
                                  const unsigned char hash[16])
{
    const struct audit_type *t = find_type(type);

    return t ? audit_db(t, dev_path, kv, part, hash) : DB_AUDIT_FAILED;
}

/* ---- the thread ---- */

struct db_auditor {
    const struct db_auditor_conf *conf;
    const struct audit_type *type;
    struct db_server *db;
    struct db_bg bg;
    /* this pass */
    double start;
    long n, passed, failed, repaired, quarantined;
    const char *dev_path;
    struct kvdb *kv;
};

static int audit_one(uint32_t part, const unsigned char hash[16], void *arg)
{
    struct db_auditor *a = arg;

    /* Swift's containers_per_second */
    if (db_bg_pace(&a->bg, a->start, ++a->n, a->conf->dbs_per_second))
        return 1;
    switch (audit_db(a->type, a->dev_path, a->kv, part, hash)) {
    case DB_AUDIT_REPAIRED: a->repaired++; /* fall through */
    case DB_AUDIT_PASSED: a->passed++; break;
    case DB_AUDIT_QUARANTINED: a->quarantined++; /* fall through */
    case DB_AUDIT_FAILED: a->failed++; break;
    case DB_AUDIT_GONE: break;
    }
    return 0;
}

static int audit_device(const char *dev, const char *path, struct kvdb *kv,
                        void *arg)
{
    struct db_auditor *a = arg;
    int err;

    a->dev_path = path;
    a->kv = kv;
    err = dbrepl_walk_device(kv, audit_one, a);
    if (err < 0) {
        log_err("cannot list the %s DBs of %s: %s", a->type->name, dev,
                strerror(-err));
        a->failed++;
        return 0; /* the other devices still get their audit */
    }
    return err;
}

static void report(struct db_auditor *a)
{
    double end = db_bg_now();
    char path[4096], key[4][64];
    const char *t = a->type->name;
    json_t *patch;

    log_info("%s audit pass completed: %.2f s, %ld passed (%ld stats "
             "repaired), %ld failed (%ld quarantined)",
             t, end - a->start, a->passed, a->repaired, a->failed,
             a->quarantined);
    if (recon_path(path, sizeof(path), a->conf->recon_cache_path, t))
        return;
    snprintf(key[0], sizeof(key[0]), "%s_audits_passed", t);
    snprintf(key[1], sizeof(key[1]), "%s_audits_failed", t);
    snprintf(key[2], sizeof(key[2]), "%s_audits_since", t);
    snprintf(key[3], sizeof(key[3]), "%s_auditor_pass_completed", t);
    patch = json_pack("{s:I,s:I,s:f,s:f}", key[0], (json_int_t)a->passed,
                      key[1], (json_int_t)a->failed, key[2], a->start, key[3],
                      end - a->start);
    if (!patch || recon_update(path, patch))
        log_err("cannot write '%s'", path);
    json_decref(patch);
}

static void run_pass(void *arg)
{
    struct db_auditor *a = arg;
    int err;

    a->start = db_bg_now();
    a->n = a->passed = a->failed = a->repaired = a->quarantined = 0;
    log_info("begin %s audit pass", a->type->name);
    err = db_server_foreach_kvdb(a->db, audit_device, a);
    if (err < 0)
        log_err("cannot list devices: %s", strerror(-err));
    if (!db_bg_stopping(&a->bg))
        report(a);
}

int db_auditor_new(const struct db_auditor_conf *conf, const char *type,
                   struct db_server *db, struct db_auditor **out)
{
    struct db_auditor *a;
    int err;

    *out = NULL;
    a = calloc(1, sizeof(*a));
    if (!a)
        return -ENOMEM;
    a->conf = conf;
    a->db = db;
    a->type = find_type(type);
    err = a->type ? db_bg_start(&a->bg, conf->interval, run_pass, a) : -EINVAL;
    if (err) {
        free(a);
        return err;
    }
    *out = a;
    return 0;
}

void db_auditor_free(struct db_auditor *a)
{
    if (!a)
        return;
    db_bg_stop(&a->bg);
    free(a);
}
