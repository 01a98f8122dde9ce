/*
 * auditor.h - kura-auditor: re-reads every object on this host's devices
 * and quarantines the bad ones, as Swift's object auditor (ALL pass).
 *
 * A pass walks <devices>/<dev>/objects/<part>/<suffix>/<hash>/ on every
 * device directory under 'devices' (or those of --devices): no ring is
 * needed, it audits whatever is there. Each current .data is opened with
 * diskfile, which checks that its metadata decodes, names this hash and
 * matches the data's size, then read whole, which checks its MD5 against
 * the ETag. A bad object is quarantined by diskfile (moved to
 * <dev>/quarantined/objects/<hash>, its suffix marked in hashes.invalid)
 * so the replicator brings a good copy back. Reads are paced by
 * files_per_second and bytes_per_second, sleeping.
 *
 * Recon (<recon_cache_path>/object.recon): "object_auditor_stats_ALL"
 * {"errors", "passes", "quarantined", "bytes_processed", "start_time",
 * "audit_time"} after each device and at the end of a pass, and
 * "object_auditor_last" (Unix time) after a pass.
 *
 * Not thread-safe: one thread runs a struct auditor.
 */
#ifndef REPLICATOR_AUDITOR_H
#define REPLICATOR_AUDITOR_H

#include "common/conf.h"
#include "common/log.h"
#include "ring/hash_path.h"

#include <stdbool.h>
#include <stdint.h>

/* [object-auditor] of object-server.conf, [DEFAULT] under it */
struct auditor_conf {
    char *devices;
    bool mount_check;
    char *swift_dir;
    double interval;               /* seconds from pass start to pass start */
    unsigned int files_per_second; /* 0: no limit */
    uint64_t bytes_per_second;     /* 0: no limit */
    unsigned int reclaim_age;      /* seconds; 0: tombstones kept forever */
    char *recon_cache_path;
    struct log_conf log;
};
extern const struct conf_option auditor_options[];

/* What a pass counted (Swift's names). */
struct auditor_stats {
    uint64_t passes;      /* objects read whole and found good */
    uint64_t quarantined; /* objects found bad and moved away */
    uint64_t errors;      /* objects that could not be audited (I/O) */
    uint64_t bytes_processed;
};

struct auditor; /* opaque */

/* Builds an auditor over the devices of 'c' ('devices': a comma-separated
 * list of device names to audit, or NULL for every device directory).
 * 'c' and 'hc' are borrowed and must outlive it. Returns 0 or -ENOMEM. */
int auditor_new(const struct auditor_conf *c, const struct hash_path_conf *hc,
                const char *devices, struct auditor **out);
void auditor_free(struct auditor *a); /* NULL is fine */

/* Runs one pass over every device, logs a summary and writes recon.
 * Fills 'st' (may be NULL) with the pass's counts. */
void auditor_pass(struct auditor *a, struct auditor_stats *st);

#endif /* REPLICATOR_AUDITOR_H */
