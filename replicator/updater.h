/*
 * updater.h - kura-updater: sends the container updates the object server
 * could not deliver (async pendings, storage/obj_update.h), as Swift's
 * object updater.
 *
 * A pass walks <devices>/<dev>/async_pending/<suffix>/ on every device
 * directory under 'devices' (unmounted ones skipped with mount_check).
 * Per suffix directory the files are taken newest first; of several for
 * the same object only the newest is sent and the older ones, obsolete,
 * are removed. Each update goes to every primary of its container in the
 * container ring (<swift_dir>/container.ring.gz, reloaded when it
 * changes), as in Swift; without a ring, to the replicas the pending names
 * (those the proxy gave the object server). Once all answered 2xx the
 * file is removed (and its directory fsynced), otherwise it stays for the
 * next pass. A file that is not a
 * well-formed pending is logged and moved to
 * <dev>/quarantined/objects/<name> (where Swift puts unreadable ones).
 * 'concurrency' threads send at once, each sleeping 'slowdown' seconds
 * after every file.
 *
 * Recon (<recon_cache_path>/object.recon) after a pass: "async_pending"
 * (files left), "async_pending_last" (Unix time), "object_updater_sweep"
 * (seconds) and "object_updater_stats" {"successes", "failures", "quarantines",
 * "unlinks"}.
 *
 * One thread calls updater_pass() at a time.
 */
#ifndef REPLICATOR_UPDATER_H
#define REPLICATOR_UPDATER_H

#include "common/conf.h"
#include "common/log.h"
#include "ring/hash_path.h"

#include <stdbool.h>
#include <stdint.h>

/* [object-updater] of object-server.conf, [DEFAULT] under it */
struct updater_conf {
    char *devices;
    bool mount_check;
    char *swift_dir;
    double interval;
    unsigned int concurrency; /* files sent at once */
    double slowdown;          /* seconds each sender sleeps after a file */
    double conn_timeout;      /* seconds */
    double node_timeout;      /* seconds */
    char *recon_cache_path;
    struct log_conf log;
};
extern const struct conf_option updater_options[];

/* What a pass did (Swift's names). */
struct updater_stats {
    uint64_t successes;   /* updates every replica took: file removed */
    uint64_t failures;    /* updates some replica did not take: kept */
    uint64_t quarantines; /* malformed files moved aside */
    uint64_t unlinks;     /* obsolete files removed */
    uint64_t left;        /* files still pending after the pass */
};

struct updater; /* opaque */

/* 'c' and 'hc' are borrowed and must outlive the updater. Returns 0 or
 * -ENOMEM. */
int updater_new(const struct updater_conf *c, const struct hash_path_conf *hc,
                struct updater **out);
void updater_free(struct updater *u); /* NULL is fine */

/* Runs one pass over every device, logs a summary and writes recon.
 * Fills 'st' (may be NULL). */
void updater_pass(struct updater *u, struct updater_stats *st);

#endif /* REPLICATOR_UPDATER_H */
