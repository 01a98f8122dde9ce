/*
 * builder.h - the ring builder: devices, weights and the partition
 * assignment that rebalance computes, kept in a builder file.
 *
 * A builder is what swift-ring-builder keeps in its pickle, held in a JSON
 * file of our own (doc/builder-format.md). Changes (add, remove, weights,
 * replicas...) only edit the device table; rebalance() then moves as few
 * partition replicas as it can to honour weights, the failure-domain tiers
 * (region > zone > server > device), overload and min_part_hours.
 *
 * The fields of struct builder are public for reading (the CLI prints them);
 * change them only through the functions below, which keep the counters
 * (parts per device, version, devs_changed) consistent. Not thread-safe.
 */
#ifndef RING_BUILDER_H
#define RING_BUILDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ring/dev.h"
#include "ring/ringfile.h"

#define BUILDER_ERRLEN 256
#define BUILDER_NONE_DEV 0xffff   /* unassigned slot in replica2part2dev */
#define BUILDER_MAX_DEVS 0xfffe   /* ids must fit the ring's u16 arrays */
#define BUILDER_MAX_BALANCE 999.99

struct builder_dev {
    struct ring_dev d;
    long parts;        /* partition replicas assigned to this device */
    bool removing;     /* marked for removal at the next rebalance */
};

struct builder {
    int part_power;
    double replicas;   /* may be fractional, >= 1 */
    int min_part_hours;
    uint64_t parts;    /* 2^part_power */
    double overload;   /* 0.1 = 10 % */
    long version;
    bool devs_changed;
    char id[33];       /* hex uuid, "" until first saved */

    struct builder_dev **devs; /* indexed by id; NULL for holes */
    size_t n_devs;             /* length of devs, holes included */

    /* NULL until the first rebalance; then n_replica_arrays arrays, the
     * last one shorter when replicas is fractional. */
    uint16_t **replica2part2dev;
    size_t *replica_parts;
    size_t n_replica_arrays;

    uint8_t *last_part_moves;   /* hours since each part last moved */
    int64_t last_part_moves_epoch;
    uint64_t last_part_gather_start;
    double dispersion;          /* < 0: never computed */
};

struct rebalance_result {
    long changed_parts; /* partition replicas that moved */
    double balance;     /* as builder_get_balance() after the rebalance */
    int removed_devs;   /* devices removed for good */
};

/* Creates an empty builder. Fails with -EINVAL and a message in 'err' for
 * part_power outside 1..32, replicas < 1 or min_part_hours < 0. */
int builder_new(int part_power, double replicas, int min_part_hours,
                struct builder **out, char err[BUILDER_ERRLEN]);
void builder_free(struct builder *b); /* NULL is fine */

/* Deep copy, e.g. to rebalance on a scratch copy (dry run). */
int builder_clone(const struct builder *b, struct builder **out);

/* Loads a builder file. -ENOENT when missing; -EINVAL with a one-line
 * message when malformed (any inconsistency is refused). */
int builder_load(const char *path, struct builder **out,
                 char err[BUILDER_ERRLEN]);

/* Saves atomically (temp file, fsync, rename, fsync dir); assigns the id on
 * first save. Returns 0 or -errno with 'err' set. */
int builder_save(struct builder *b, const char *path,
                 char err[BUILDER_ERRLEN]);

/* Adds a copy of 'dev'. dev->id < 0 picks the lowest free id. Refuses
 * (-EINVAL) a used id, a negative weight, a bad ip or port, an empty
 * device name, or an ip:port/device another device already has (-EEXIST).
 * Sets *id_out to the id given. */
int builder_add_dev(struct builder *b, const struct ring_dev *dev,
                    int *id_out, char err[BUILDER_ERRLEN]);

/* Marks device 'id' for removal: weight 0, removed for good at the next
 * rebalance once its partitions have been reassigned. */
int builder_remove_dev(struct builder *b, int id, char err[BUILDER_ERRLEN]);

int builder_set_dev_weight(struct builder *b, int id, double weight,
                           char err[BUILDER_ERRLEN]);
int builder_set_dev_region(struct builder *b, int id, int region,
                           char err[BUILDER_ERRLEN]);
int builder_set_dev_zone(struct builder *b, int id, int zone,
                         char err[BUILDER_ERRLEN]);

/* Replaces ip, port, replication ip/port, device name and meta of device
 * 'id' with those of 'info' (id, region, zone and weight are ignored).
 * Refuses a change that would duplicate another device's ip:port/device. */
int builder_set_dev_info(struct builder *b, int id,
                         const struct ring_dev *info,
                         char err[BUILDER_ERRLEN]);

int builder_set_replicas(struct builder *b, double replicas,
                         char err[BUILDER_ERRLEN]);
int builder_set_overload(struct builder *b, double overload,
                         char err[BUILDER_ERRLEN]);
int builder_set_min_part_hours(struct builder *b, int hours,
                               char err[BUILDER_ERRLEN]);
void builder_pretend_min_part_hours_passed(struct builder *b);

/* Seconds until min_part_hours has passed since the last rebalance. */
long builder_min_part_seconds_left(const struct builder *b);

/* Rebalances. seed < 0 seeds from the clock. -EINVAL with a message when
 * there are fewer weighted devices than replicas or no devices at all;
 * -ENOMEM. */
int builder_rebalance(struct builder *b, long seed,
                      struct rebalance_result *res,
                      char err[BUILDER_ERRLEN]);

/* Balance: the worst percentage by which a device's assigned partitions
 * differ from what its weight asks for (BUILDER_MAX_BALANCE when a zero
 * weight device still holds partitions). Returns 0 when no weight at all. */
double builder_get_balance(const struct builder *b);

/* Balance of one device, as in the device table. */
double builder_dev_balance(const struct builder *b, int id);

/* Overload that would make the ring fully dispersed (0.05 = 5 %). */
double builder_required_overload(const struct builder *b);

/* Checks the assignment as swift-ring-builder validate does: every replica
 * of every partition on a real device, no device twice in a partition,
 * parts counters consistent. -EINVAL with a message otherwise. */
int builder_validate(const struct builder *b, char err[BUILDER_ERRLEN]);

/* Counts devices with weight and the distinct regions and zones. */
void builder_counts(const struct builder *b, int *regions, int *zones,
                    int *devices);

/* The ring to write: devices without builder-only fields, the assignment
 * and part_shift. The caller releases 'out' with ring_data_release().
 * -EINVAL when never rebalanced. */
int builder_get_ring(const struct builder *b, struct ring_data *out);

/* One row of the dispersion report: a tier (region, zone, server = ip, or
 * device) and how many partitions have 0, 1, ... replicas in it. */
struct dispersion_tier {
    char *name;        /* "r1", "r1z2", "r1z2-10.0.0.1", "r1z2-10.0.0.1/sdb" */
    int max_replicas;  /* most replicas a part should have in this tier */
    long placed_parts; /* sum over parts of replicas in this tier */
    double dispersion; /* % of placed replicas over max_replicas */
    long *replicas;    /* replicas[k]: parts with k replicas here, k from 0
                        * to ceil(b->replicas) */
};

struct dispersion_report {
    double max_dispersion;
    const char *worst_tier;       /* points into tiers[]; NULL if none */
    struct dispersion_tier *tiers; /* every tier, sorted as Swift sorts
                                    * its (region, zone, ip, id) tuples */
    size_t n_tiers;
};

/* Builds the report for a rebalanced builder and refreshes b->dispersion.
 * -EINVAL when never rebalanced; -ENOMEM. */
int builder_dispersion_report(struct builder *b,
                              struct dispersion_report *out);
void dispersion_report_release(struct dispersion_report *r);

#endif /* RING_BUILDER_H */
