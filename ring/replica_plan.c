/*
 * replica_plan.c - the replica plan of every tier (see replica_plan.h).
 *
 * The arithmetic follows swift/common/ring/builder.py (2.30) step by step,
 * including its tolerances, because "no worse than Swift" is measured
 * against the goals Swift sets; where Swift's loops could spin or divide by
 * zero on odd input we stop instead.
 */
#include "ring/replica_plan.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EPSILON 1e-10
#define MAX_SPREAD_ROUNDS 1000

/* Each weighted device's share of the replicas, capped at one replica. */
static int weigh_devices(const struct builder *b, struct tier_tree *t,
                         char err[BUILDER_ERRLEN])
{
    struct tier *root = &t->tiers[0];
    double *share = calloc(t->n_devs + 1, sizeof(*share));

    if (!share)
        return -ENOMEM;
    if (root->weight <= 0) {
        free(share);
        snprintf(err, BUILDER_ERRLEN, "there are no devices with weight in "
                                      "this ring");
        return -EINVAL;
    }
    for (size_t i = 0; i < b->n_devs; i++)
        if (b->devs[i] && b->devs[i]->d.weight > 0)
            share[i] = fmin(1.0, b->devs[i]->d.weight * b->replicas /
                                     root->weight);
    for (int round = 0; round < MAX_SPREAD_ROUNDS; round++) {
        double sum = 0, room = 0, rel;
        for (size_t i = 0; i < b->n_devs; i++) {
            sum += share[i];
            if (share[i] > 0 && share[i] < 1)
                room += share[i];
        }
        if (b->replicas - sum < EPSILON || room <= 0)
            break;
        rel = (b->replicas - sum) / room;
        for (size_t i = 0; i < b->n_devs; i++)
            if (share[i] > 0 && share[i] < 1)
                share[i] = fmin(1.0, share[i] * (rel + 1));
    }
    for (size_t i = 0; i < b->n_devs; i++) {
        if (share[i] <= 0)
            continue;
        for (int depth = 0; depth < TIER_LEVELS; depth++)
            t->tiers[tier_of_dev(t, (int)i, depth)].weighted += share[i];
    }
    free(share);
    return 0;
}

/* Even split of 'replicas' down the tree by child count, once unbounded
 * (Swift's bound=float, for wanted) and once rounded up (bound=ceil, the
 * "max allowed" that dispersion is measured against). */
static void split_evenly(struct tier_tree *t, int idx, double rf, int rc)
{
    struct tier *tr = &t->tiers[idx];

    if (tr->depth == TIER_DEVICE) {
        rf = fmin(1.0, rf);
        rc = rc < 1 ? rc : 1;
    }
    tr->max_float = rf;
    tr->max_ceil = rc;
    for (int i = 0; i < tr->n_children; i++)
        split_evenly(t, tr->children[i], rf / tr->n_children,
                     (int)ceil((double)rc / tr->n_children));
}

void replica_plan_split(const struct builder *b, struct tier_tree *t)
{
    split_evenly(t, 0, b->replicas, (int)ceil(b->replicas));
}

static int place_wanted(struct tier_tree *t, int idx, double replicanths,
                        char err[BUILDER_ERRLEN])
{
    struct tier *tr = &t->tiers[idx];
    int n = tr->n_children;
    double *to_place;
    char *spread;
    double remaining = replicanths;
    int device_limited = 0, rc = 0;

    if (replicanths > tr->n_weighted_devs + EPSILON) {
        snprintf(err, BUILDER_ERRLEN,
                 "more replicanths (%g) than devices (%d) in a tier",
                 replicanths, tr->n_weighted_devs);
        return -EINVAL;
    }
    tr->wanted = replicanths;
    if (!n)
        return 0;
    to_place = calloc((size_t)n, sizeof(*to_place));
    spread = malloc((size_t)n);
    if (!to_place || !spread) {
        rc = -ENOMEM;
        goto out;
    }
    memset(spread, 1, (size_t)n);
    for (int round = 0; round < MAX_SPREAD_ROUNDS; round++) {
        double sumw = 0, placed = 0, rel;
        int any = 0;

        for (int i = 0; i < n; i++)
            if (spread[i])
                sumw += t->tiers[tr->children[i]].weighted;
        if (sumw <= 0)
            break;
        rel = remaining / sumw;
        for (int i = 0; i < n; i++) {
            const struct tier *c = &t->tiers[tr->children[i]];
            double r, dmin = floor(c->max_float), dmax = ceil(c->max_float);
            if (!spread[i])
                continue;
            r = to_place[i] + c->weighted * rel;
            if (r < dmin)
                r = dmin;
            else if (r > dmax && !device_limited)
                r = dmax;
            if (r > c->n_weighted_devs)
                r = c->n_weighted_devs;
            to_place[i] = r;
        }
        for (int i = 0; i < n; i++)
            placed += to_place[i];
        remaining = replicanths - placed;
        if (fabs(remaining) <= EPSILON)
            break;
        for (int i = 0; i < n; i++) {
            const struct tier *c = &t->tiers[tr->children[i]];
            double tp = to_place[i];
            spread[i] = remaining < 0 ? tp > floor(c->max_float)
                                      : c->n_weighted_devs > tp &&
                                            tp < ceil(c->max_float);
            any |= spread[i];
        }
        if (remaining > 0 && !any) {
            device_limited = 1;
            for (int i = 0; i < n; i++) {
                spread[i] = to_place[i] <
                            t->tiers[tr->children[i]].n_weighted_devs;
                any |= spread[i];
            }
        }
        if (!any)
            break;
    }
    for (int i = 0; i < n && !rc; i++)
        rc = place_wanted(t, tr->children[i], to_place[i], err);
out:
    free(to_place);
    free(spread);
    return rc;
}

double replica_plan_required_overload(const struct tier_tree *t)
{
    double worst = 0;

    for (int i = 0; i < t->n_tiers; i++) {
        const struct tier *tr = &t->tiers[i];
        double required;
        if (tr->depth != TIER_DEVICE || tr->weighted <= 0)
            continue;
        required = (tr->wanted - tr->weighted) / tr->weighted;
        if (required > worst)
            worst = required;
    }
    return worst;
}

static void set_targets(const struct builder *b, struct tier_tree *t)
{
    double max_overload = replica_plan_required_overload(t);
    double overload = fmin(b->overload, max_overload);

    for (int i = 0; i < t->n_tiers; i++) {
        struct tier *tr = &t->tiers[i];
        if (!tr->n_weighted_devs)
            tr->target = 0;
        else if (max_overload <= 0)
            tr->target = tr->wanted;
        else
            tr->target = tr->weighted + (tr->wanted - tr->weighted) /
                                            max_overload * overload;
        tr->min = (int)floor(tr->target + EPSILON);
        tr->max = (int)ceil(tr->target - EPSILON);
    }
}

static const struct tier_tree *sort_tree;

/* Who gets the partition replicas left over after rounding down: tiers
 * already holding more than their rounded-down share first (so a rebalance
 * does not move a replica only to trade which tier rounds up), then, as in
 * Swift, the smallest targets; ties keep tier order. */
static int cmp_leftover(const void *x, const void *y)
{
    int a = *(const int *)x, b = *(const int *)y;
    const struct tier *ta = &sort_tree->tiers[a], *tb = &sort_tree->tiers[b];
    long sa = ta->parts_now - ta->parts_target;
    long sb = tb->parts_now - tb->parts_target;

    if ((sa > 0) != (sb > 0))
        return sa > 0 ? -1 : 1;
    if (ta->target != tb->target)
        return ta->target < tb->target ? -1 : 1;
    return a < b ? -1 : a > b;
}

/* Hands out whole partition replicas: floor(target * parts) to each child,
 * the rest one by one in cmp_leftover() order, so every child ends within
 * one of its exact share, as Swift's _set_parts_wanted. */
static int place_parts(struct tier_tree *t, int idx, long parts,
                       uint64_t nparts)
{
    struct tier *tr = &t->tiers[idx];
    int n = tr->n_children, *order;

    tr->parts_target = parts;
    if (!n)
        return 0;
    order = malloc(sizeof(*order) * (size_t)n);
    if (!order)
        return -ENOMEM;
    for (int i = 0; i < n; i++) {
        struct tier *c = &t->tiers[tr->children[i]];
        long want = (long)floor(c->target * (double)nparts);
        c->parts_target = want < parts ? want : parts;
        parts -= c->parts_target;
        order[i] = tr->children[i];
    }
    sort_tree = t;
    qsort(order, (size_t)n, sizeof(*order), cmp_leftover);
    for (int i = 0; parts > 0; i = (i + 1) % n, parts--)
        t->tiers[order[i]].parts_target++;
    for (int i = 0; i < n; i++) {
        int c = tr->children[i];
        int rc = place_parts(t, c, t->tiers[c].parts_target, nparts);
        if (rc) {
            free(order);
            return rc;
        }
    }
    free(order);
    return 0;
}

int replica_plan_build(const struct builder *b, struct tier_tree *t,
                       char err[BUILDER_ERRLEN])
{
    int rc = weigh_devices(b, t, err);

    if (rc)
        return rc;
    replica_plan_split(b, t);
    rc = place_wanted(t, 0, b->replicas, err);
    if (rc)
        return rc;
    set_targets(b, t);
    return place_parts(t, 0, (long)(b->replicas * b->parts), b->parts);
}
