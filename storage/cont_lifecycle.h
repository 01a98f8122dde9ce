/*
 * cont_lifecycle.h - S3 lifecycle expiration of the objects already in a
 * bucket: a thread of kura-container-server, run when its config has a
 * [container-lifecycle] section. The proxy gives an object written under
 * an enabled rule its X-Delete-At (proxy/s3_lifecycle.c) and
 * kura-expirer removes it; objects that were in the bucket before the
 * rule have none, and this pass expires them, as S3 does.
 *
 * Every 'interval' seconds a pass walks the container DBs of this
 * server's devices in <swift_dir>/container.ring.gz. A DB is worked on
 * only on the device that is its partition's first primary (replica 0),
 * so one replica does the work, and only when its metadata holds enabled
 * rules (X-Container-Sysmeta-S3api-Lifecycle, lifecycle_rules.h). Its
 * rows under each enabled rule's prefix are read, at most rows_per_second
 * a second; a row due by the rules (lifecycle_rules_due() of its
 * created_at) has its object deleted on every primary of the object ring
 * of the container's policy, as kura-expirer deletes: a DELETE straight
 * to each object server, with X-Container-Host/-Device/-Partition so that
 * each tells its container replicas and the row goes too.
 *
 * Invariant: only the version listed is removed. The DELETE's X-Timestamp
 * is the row's timestamp plus the smallest offset
 * ("<ts>_<offset + 1>"): newer than the listed .data, older than any
 * overwrite made since, so an object server holding a newer version
 * answers 409 and keeps it, and a replica that has not seen the
 * overwrite yet gets a tombstone that the overwrite's .data wins over.
 *
 * Recon, at the end of a pass, in <recon_cache_path>/container.recon:
 * container_lifecycle_expired, _raced (a newer version kept: 409),
 * _errors (retried next pass), _containers (DBs with enabled rules worked
 * on), _since (the pass's start) and _pass_completed (seconds).
 *
 * Thread safety: the thread is the only user of its struct; new and free
 * are called from the daemon's main thread.
 */
#ifndef STORAGE_CONT_LIFECYCLE_H
#define STORAGE_CONT_LIFECYCLE_H

#include "common/conf.h"
#include "ring/live_ring.h"
#include "storage/db_server.h"

/* [container-lifecycle], with [DEFAULT] under it. */
struct cont_lifecycle_conf {
    double interval;        /* seconds between the starts of passes */
    double rows_per_second; /* rows read (and objects deleted); 0: no limit */
    double conn_timeout;    /* seconds, to an object server */
    double node_timeout;
    unsigned int ring_check_interval;
    char *recon_cache_path;
};

#define CONT_LIFECYCLE_CONF_OPTIONS(T)                                         \
    CONF_DOUBLE("interval", T, interval, 3600, 0.01, 86400 * 365),             \
        CONF_DOUBLE("rows_per_second", T, rows_per_second, 200, 0, 1e9),       \
        CONF_DOUBLE("conn_timeout", T, conn_timeout, 0.5, 0.001, 3600),        \
        CONF_DOUBLE("node_timeout", T, node_timeout, 10, 0.001, 3600),         \
        CONF_UINT("ring_check_interval", T, ring_check_interval,               \
                  LIVE_RING_DEFAULT_RELOAD_TIME, 0, 86400),                    \
        CONF_STR("recon_cache_path", T, recon_cache_path, "/var/cache/kura")

/* The server's side: its DBs, where the rings are, the address the ring
 * gives its devices. */
struct cont_lifecycle_env {
    struct db_server *db;
    const char *swift_dir;
    const char *bind_ip;
    unsigned int bind_port;
};

struct cont_lifecycle; /* opaque */

/* Starts the thread; 'conf' and 'env' (and what they point to) are
 * borrowed and must outlive it. Returns 0, or -errno (-ENOENT: no
 * container ring) after logging why. */
int cont_lifecycle_new(const struct cont_lifecycle_conf *conf,
                       const struct cont_lifecycle_env *env,
                       struct cont_lifecycle **out);
/* Stops the thread (a pass under way stops between two rows) and frees.
 * NULL is fine. */
void cont_lifecycle_free(struct cont_lifecycle *l);

#endif /* STORAGE_CONT_LIFECYCLE_H */
