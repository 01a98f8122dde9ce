/*
 * replica_plan.h - how many replicas of each partition every tier should
 * hold, computed as swift-ring-builder 2.30 plans them so that Kura's rings
 * have the same balance and dispersion goals as Swift's:
 *
 *   weighted  replicanths by weight alone (no device above one replica);
 *   wanted    as unique as possible: replicas spread over failure domains
 *             as evenly as their device counts allow, weights within that;
 *   target    weighted, moved toward wanted by at most the overload;
 *   min/max   floor/ceil of target: the bounds placement must respect;
 *   parts_target  target * partitions, rounded so every level sums to
 *             int(replicas * partitions).
 */
#ifndef RING_REPLICA_PLAN_H
#define RING_REPLICA_PLAN_H

#include "ring/builder.h"
#include "ring/tier_tree.h"

/* Fills the plan fields of every tier of 't' (built from 'b'). Returns 0;
 * -EINVAL with a message when there is no weight or the plan is
 * impossible (more replicas than weighted devices). */
int replica_plan_build(const struct builder *b, struct tier_tree *t,
                       char err[BUILDER_ERRLEN]);

/* Fills only max_float and max_ceil: the even split of replicas by child
 * count that dispersion is measured against. replica_plan_build() does
 * this too. */
void replica_plan_split(const struct builder *b, struct tier_tree *t);

/* The overload needed for full dispersion: the largest relative amount by
 * which a device's wanted replicanths exceed its weighted ones. Needs the
 * weighted and wanted fields, i.e. replica_plan_build() done. */
double replica_plan_required_overload(const struct tier_tree *t);

#endif /* RING_REPLICA_PLAN_H */
