/*
 * db_replicator.h - container and account replication: a thread of
 * kura-container-server (kura-account-server), as Swift's
 * swift-container-replicator (-account-replicator) is a daemon of its
 * own. LevelDB lets one process open a device's DBs, so the replicator
 * shares the server's (db_server.h) instead of opening them itself.
 *
 * Every 'interval' seconds a pass walks this server's devices in the ring
 * (local_devs.h) and each DB they hold, and pushes it to the partition's
 * other primaries with REPLICATE (db_repl_rpc.h, doc/replication.md §5);
 * a DB on a device that is not one of its primaries is pushed to every
 * primary and then removed. At the end of a pass the stats go to
 * <recon_cache_path>/<type>.recon (replication_time, replication_last,
 * replication_stats) as Swift's replicators write them.
 *
 * Thread safety: the thread is the only user of its struct; new and free
 * are called from the daemon's main thread.
 */
#ifndef STORAGE_DB_REPLICATOR_H
#define STORAGE_DB_REPLICATOR_H

#include <stdbool.h>

#include "common/conf.h"
#include "ring/live_ring.h"
#include "storage/db_repl_rpc.h"
#include "storage/db_server.h"

/* [container-replicator] / [account-replicator], with [DEFAULT] under it.
 * Names and defaults are Swift's. */
struct db_replicator_conf {
    double interval;             /* seconds between the starts of passes */
    unsigned int per_diff;       /* rows per merge_items */
    unsigned int max_diffs;      /* merge_items per DB and peer in a pass */
    double reclaim_age;          /* seconds before tombstones go */
    double conn_timeout;         /* seconds */
    double node_timeout;         /* seconds */
    double databases_per_second; /* 0: no limit */
    unsigned int ring_check_interval; /* seconds between ring file checks */
    char *recon_cache_path;
};

#define DB_REPLICATOR_CONF_OPTIONS(T)                                          \
    CONF_DOUBLE("interval", T, interval, 30, 0.01, 86400),                     \
        CONF_UINT("per_diff", T, per_diff, 1000, 1, DB_REPL_MAX_ROWS),         \
        CONF_UINT("max_diffs", T, max_diffs, 100, 1, 1000000),                 \
        CONF_DOUBLE("reclaim_age", T, reclaim_age, 604800, 0, 1e9),            \
        CONF_DOUBLE("conn_timeout", T, conn_timeout, 0.5, 0.001, 3600),        \
        CONF_DOUBLE("node_timeout", T, node_timeout, 10, 0.001, 3600),         \
        CONF_DOUBLE("databases_per_second", T, databases_per_second, 50, 0,    \
                    1e9),                                                      \
        CONF_UINT("ring_check_interval", T, ring_check_interval,               \
                  LIVE_RING_DEFAULT_RELOAD_TIME, 0, 86400),                    \
        CONF_STR("recon_cache_path", T, recon_cache_path, "/var/cache/kura")

/* The server's side: its DBs, where its ring is, and the address the
 * ring gives its devices. */
struct db_replicator_env {
    const struct db_repl_type *type;
    struct db_server *db;
    const char *swift_dir; /* <swift_dir>/<type>.ring.gz */
    const char *bind_ip;
    unsigned int bind_port;
    /* Called for each container on a primary device whose account
     * servers lack its current stats (NULL: not called): the container
     * server's updater sends them again, as Swift's container updater's
     * sweep. */
    void (*stale)(void *arg, const char *dev, uint32_t part,
                  const char *account, const char *container);
    void *stale_arg;
};

struct db_replicator; /* opaque */

/* Starts the thread; 'conf' and 'env' (and what they point to) are
 * borrowed and must outlive it. Returns 0, or -errno (-ENOENT: no ring;
 * -EINVAL: a malformed ring) after logging why. */
int db_replicator_new(const struct db_replicator_conf *conf,
                      const struct db_replicator_env *env,
                      struct db_replicator **out);
/* Stops the thread (a pass under way stops between two DBs) and frees.
 * NULL is fine. */
void db_replicator_free(struct db_replicator *r);

#endif /* STORAGE_DB_REPLICATOR_H */
