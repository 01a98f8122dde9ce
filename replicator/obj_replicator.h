/*
 * obj_replicator.h - kura-replicator's logic: Swift's object replicator
 * over REPLICATE and SSYNC (doc/replication.md §3).
 *
 * A pass walks <devices>/<dev>/objects/<part> of every local device (ring
 * devices whose replication ip:port are this server's, local_devs.h) and
 * runs one job per partition directory:
 *
 * - primary (the device is one of the part's primaries): compare our
 *   suffix hashes with each other primary's (REPLICATE), SSYNC the
 *   suffixes that differ, then make the peer rehash them. A primary that
 *   is down (connection refused, no route) or unmounted (507) is
 *   replaced by the next handoff.
 * - handoff (it is not): sync every suffix to every primary; once all of
 *   them confirmed, and our hashes did not change meanwhile, remove the
 *   partition directory. An empty one is removed at once.
 *
 * Jobs run on 'concurrency' threads sharing one backend client and one
 * max_bytes_per_sec bucket. Progress and stats go to the recon cache
 * (<recon_cache_path>/object.recon). The ring is followed with
 * live_ring: a pass stops early when it changes, as Swift's does.
 *
 * Threads: an obj_replicator is used by one thread at a time (it runs its
 * workers itself), except obj_replicator_stop(), which may be called from
 * anywhere, a signal handler included.
 */
#ifndef REPLICATOR_OBJ_REPLICATOR_H
#define REPLICATOR_OBJ_REPLICATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/conf.h"
#include "common/log.h"
#include "ring/ring.h"

/* [object-replicator] options, with [DEFAULT] under them; see
 * etc/object-server.conf-sample. */
struct obj_replicator_conf {
    struct log_conf log;
    char *devices;
    bool mount_check;
    char *swift_dir; /* object.ring.gz */
    char *bind_ip;   /* with bind_port: which ring devices are ours */
    unsigned int bind_port;
    unsigned int interval;          /* seconds between pass starts */
    unsigned int concurrency;       /* partition jobs at once */
    unsigned int ssync_concurrency; /* objects one SSYNC sends at once */
    uint64_t max_bytes_per_sec;     /* SSYNC bodies, all jobs; 0: no limit */
    unsigned int reclaim_age;       /* seconds a tombstone is kept */
    bool handoffs_first;            /* handoff jobs before primary ones */
    double conn_timeout;            /* seconds */
    double node_timeout;            /* seconds */
    unsigned int ring_check_interval;
    char *recon_cache_path;
    unsigned int stats_interval; /* seconds between progress log lines */
};

/* The option table for conf_apply() on "object-replicator". */
extern const struct conf_option obj_replicator_options[];

/* What a pass covers (kura-replicator --devices, --partitions): NULL/0
 * means all. A pass restricted so does not write the recon cache, as
 * Swift's run_once with overrides does not. Borrowed. */
struct obj_replicator_filter {
    const char *const *devs;
    size_t n_devs;
    const uint32_t *parts;
    size_t n_parts;
};

struct obj_replicator; /* opaque */

/* Loads <swift_dir>/object.ring.gz and finds this host's addresses.
 * 'conf' is borrowed and must outlive the replicator. Returns 0 and sets
 * *out (free with obj_replicator_free()), or -errno with a reason in
 * 'err' (CONF_ERR_LEN bytes). */
int obj_replicator_new(const struct obj_replicator_conf *conf,
                       struct obj_replicator **out, char *err);
void obj_replicator_free(struct obj_replicator *r); /* NULL is fine */

/* One pass over the partitions 'f' selects (may be NULL). Returns 0 when
 * the pass ran (failed jobs are logged and counted in the stats, to be
 * retried next pass), or -errno when it could not start. */
int obj_replicator_run_once(struct obj_replicator *r,
                            const struct obj_replicator_filter *f);

/* A pass every 'interval' seconds until obj_replicator_stop(). */
int obj_replicator_run_forever(struct obj_replicator *r,
                               const struct obj_replicator_filter *f);

/* Asks the running pass to stop after the jobs in flight and
 * run_forever to return. Async-signal-safe. */
void obj_replicator_stop(struct obj_replicator *r);

/* True when ring device 'dev_id' is one of the primaries of 'part' (its
 * job is then a primary job, else a handoff job). */
bool obj_replicator_is_primary(const struct ring *ring, uint32_t part,
                               int dev_id);

#endif /* REPLICATOR_OBJ_REPLICATOR_H */
