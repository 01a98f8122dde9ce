/*
 * db_auditor.h - the container and account auditor: a thread of
 * kura-container-server (kura-account-server), as Swift's
 * swift-container-auditor (-account-auditor) is a daemon of its own.
 * LevelDB lets one process open a device's DBs, so the auditor shares
 * the server's (db_server.h), as the replicator does.
 *
 * Every 'interval' seconds a pass reads every DB of every device of this
 * server that holds a LevelDB already (no ring: whatever this host holds;
 * mount_check as the server's), at most containers_per_second
 * (accounts_per_second) DBs a second, each whole with LevelDB's checksums
 * verified (contdb_audit(), acctdb_audit()): info and stats as a HEAD
 * reads them, every row decoded, the stats against the rows.
 *
 * - Stats that disagree with rows that all decode are rewritten from the
 *   rows (contdb_repair_stats()): the data is there, only a sum is wrong.
 * - A corrupt DB (a checksum, a record that does not decode, info
 *   without stats) is Swift's quarantined DB file: its keys and values,
 *   as far as they read, are copied to <dev>/quarantined/containers/
 *   <hash>-<timestamp>.kv (accounts/; format below) and the DB is removed
 *   (dbrepl_destroy()), so that the replicator restores it from the other
 *   replicas.
 * - A read error (LevelDB's IO error, which may pass) fails the audit and
 *   changes nothing.
 *
 * Quarantine file: "KURADBQ1", then per key: be32 key length, key, be32
 * value length, value, in key order; written whole and fsynced (with its
 * directory) before the DB is removed.
 *
 * Recon, at the end of a pass, in <recon_cache_path>/<type>.recon:
 * <type>_audits_passed, <type>_audits_failed (this pass's DBs; repaired
 * ones passed, quarantined ones failed), <type>_audits_since (the pass's
 * start, Unix time) and <type>_auditor_pass_completed (seconds), Swift's
 * keys.
 *
 * Thread safety: the thread is the only user of its struct; new and free
 * are called from the daemon's main thread.
 */
#ifndef STORAGE_DB_AUDITOR_H
#define STORAGE_DB_AUDITOR_H

#include <stdint.h>

#include "common/conf.h"
#include "storage/db_server.h"

/* [container-auditor] / [account-auditor], with [DEFAULT] under it. */
struct db_auditor_conf {
    double interval;       /* seconds between the starts of passes */
    double dbs_per_second; /* 0: no limit */
    char *recon_cache_path;
};

/* 'rate' is Swift's name of the limit: "containers_per_second" or
 * "accounts_per_second". */
#define DB_AUDITOR_CONF_OPTIONS(T, rate)                                       \
    CONF_DOUBLE("interval", T, interval, 1800, 0.01, 86400 * 365),             \
        CONF_DOUBLE(rate, T, dbs_per_second, 200, 0, 1e9),                     \
        CONF_STR("recon_cache_path", T, recon_cache_path, "/var/cache/kura")

enum db_audit_result {
    DB_AUDIT_PASSED,
    DB_AUDIT_REPAIRED,    /* stats rewritten from the rows */
    DB_AUDIT_QUARANTINED, /* corrupt: copied to quarantined/, removed */
    DB_AUDIT_FAILED,      /* a read error, or corrupt and not removed */
    DB_AUDIT_GONE,        /* removed since it was listed */
};

/* Audits one DB of 'type' ("container" or "account") on the device
 * directory 'dev_path' whose LevelDB is 'kv', as a pass does (logged). */
enum db_audit_result db_audit_one(const char *type, const char *dev_path,
                                  struct kvdb *kv, uint32_t part,
                                  const unsigned char hash[16]);

struct db_auditor; /* opaque */

/* Starts the thread for DBs of 'type' ("container", "account"); 'conf'
 * and 'db' are borrowed and must outlive it. Returns 0, -EINVAL (another
 * type) or -errno. */
int db_auditor_new(const struct db_auditor_conf *conf, const char *type,
                   struct db_server *db, struct db_auditor **out);
/* Stops the thread (a pass under way stops between two DBs) and frees.
 * NULL is fine. */
void db_auditor_free(struct db_auditor *a);

#endif /* STORAGE_DB_AUDITOR_H */
