/*
 * tier_tree.h - the failure domains of a builder as a tree:
 * cluster > region > zone > server (ip) > device.
 *
 * Every device gets a path of tiers, weighted or not, so replicas on a
 * device being drained still count where they sit. Only tiers holding a
 * weighted device are "in the tree" (have a parent link in children[]),
 * as Swift's build_tier_tree over weighted devices; the others keep a zero
 * replica plan and never receive partitions.
 *
 * Tiers are numbered in the order Swift sorts its (region, zone, ip, id)
 * tuples, a parent before its children, so index order is report order.
 */
#ifndef RING_TIER_TREE_H
#define RING_TIER_TREE_H

#include <stddef.h>

#include "ring/builder.h"

enum tier_depth {
    TIER_CLUSTER = 0,
    TIER_REGION = 1,
    TIER_ZONE = 2,
    TIER_SERVER = 3,
    TIER_DEVICE = 4,
};
#define TIER_LEVELS 5

struct tier {
    int depth;
    int parent;         /* -1 for the cluster */
    int region, zone;   /* as deep as the tier goes */
    const char *ip;     /* borrowed from the builder's device */
    int dev_id;         /* TIER_DEVICE only, else -1 */
    int *children;      /* weighted child tiers, in order */
    int n_children;
    int n_weighted_devs;
    double weight;      /* sum of the weights below */

    /* The replica plan (replica_plan.c): replicanths of each partition the
     * tier should hold, and the whole replicas it may hold. */
    double weighted;    /* by weight alone */
    double wanted;      /* as dispersed as the device counts allow */
    double target;      /* weighted moved toward wanted by the overload */
    int min, max;       /* floor/ceil of target */
    double max_float;   /* even split of replicas by child count */
    int max_ceil;       /* ceil-bounded split: dispersion's "max allowed" */
    long parts_target;  /* partition replicas the tier should hold */
    long parts_now;     /* partition replicas it holds when built */
};

struct tier_tree {
    struct tier *tiers;
    int n_tiers;
    int *dev_path;      /* dev_path[id * TIER_LEVELS + depth]; -1 for holes */
    size_t n_devs;
};

/* Builds the tree of 'b''s devices. Returns 0 or -ENOMEM. */
int tier_tree_build(const struct builder *b, struct tier_tree *t);
void tier_tree_release(struct tier_tree *t);

/* The tier of device 'id' at 'depth'. */
static inline int tier_of_dev(const struct tier_tree *t, int id, int depth)
{
    return t->dev_path[(size_t)id * TIER_LEVELS + depth];
}

#endif /* RING_TIER_TREE_H */
