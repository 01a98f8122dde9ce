/*
 * tier_tree.c - builds the failure-domain tree from a builder's devices.
 *
 * Devices are sorted by (region, zone, ip, id); walking them in that order
 * opens a new tier whenever a prefix changes, which numbers tiers in
 * Swift's tuple order with every parent before its children.
 */
#include "ring/tier_tree.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const struct builder *sort_builder;

static int cmp_dev(const void *a, const void *b)
{
    const struct ring_dev *x = &sort_builder->devs[*(const int *)a]->d;
    const struct ring_dev *y = &sort_builder->devs[*(const int *)b]->d;
    int c;

    if (x->region != y->region)
        return x->region < y->region ? -1 : 1;
    if (x->zone != y->zone)
        return x->zone < y->zone ? -1 : 1;
    c = strcmp(x->ip, y->ip);
    if (c)
        return c;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* Whether 'd' belongs to tier 'tr' at 'depth' (which must be the tier's
 * own depth); the prefix above is known to match already. */
static int same_tier(const struct tier *tr, const struct ring_dev *d,
                     int depth)
{
    switch (depth) {
    case TIER_CLUSTER: return 1;
    case TIER_REGION: return tr->region == d->region;
    case TIER_ZONE: return tr->zone == d->zone;
    case TIER_SERVER: return strcmp(tr->ip, d->ip) == 0;
    default: return tr->dev_id == d->id;
    }
}

static int add_child(struct tier *parent, int child)
{
    int *c = realloc(parent->children,
                     sizeof(*c) * (size_t)(parent->n_children + 1));

    if (!c)
        return -ENOMEM;
    c[parent->n_children++] = child;
    parent->children = c;
    return 0;
}

int tier_tree_build(const struct builder *b, struct tier_tree *t)
{
    int *order = NULL, n = 0, open[TIER_LEVELS];
    int err = -ENOMEM;

    memset(t, 0, sizeof(*t));
    t->n_devs = b->n_devs;
    t->dev_path = malloc(sizeof(int) * TIER_LEVELS * (b->n_devs + 1));
    order = malloc(sizeof(int) * (b->n_devs + 1));
    /* at most one new tier per level per device, plus the cluster */
    t->tiers = calloc(TIER_LEVELS * b->n_devs + 1, sizeof(*t->tiers));
    if (!t->dev_path || !order || !t->tiers)
        goto out;
    memset(t->dev_path, 0xff, sizeof(int) * TIER_LEVELS * (b->n_devs + 1));
    for (size_t i = 0; i < b->n_devs; i++)
        if (b->devs[i])
            order[n++] = (int)i;
    sort_builder = b;
    qsort(order, (size_t)n, sizeof(*order), cmp_dev);

    t->tiers[0] = (struct tier){.depth = 0, .parent = -1, .dev_id = -1};
    t->n_tiers = 1;
    open[0] = 0;
    for (int i = 0; i < n; i++) {
        const struct builder_dev *bd = b->devs[order[i]];
        const struct ring_dev *d = &bd->d;
        int fresh = 0;

        for (int depth = 1; depth < TIER_LEVELS; depth++) {
            if (fresh || i == 0 ||
                !same_tier(&t->tiers[open[depth]], d, depth)) {
                struct tier *tr = &t->tiers[t->n_tiers];
                *tr = (struct tier){.depth = depth,
                                    .parent = open[depth - 1],
                                    .region = d->region,
                                    .zone = d->zone,
                                    .ip = d->ip,
                                    .dev_id = depth == TIER_DEVICE ? d->id
                                                                   : -1};
                open[depth] = t->n_tiers++;
                fresh = 1;
            }
        }
        for (int depth = 0; depth < TIER_LEVELS; depth++) {
            struct tier *tr = &t->tiers[open[depth]];
            t->dev_path[(size_t)d->id * TIER_LEVELS + depth] = open[depth];
            tr->parts_now += bd->parts;
            if (d->weight > 0) {
                tr->n_weighted_devs++;
                tr->weight += d->weight;
            }
        }
    }
    /* Link weighted tiers to their parents, in index (= sorted) order. */
    for (int i = 1; i < t->n_tiers; i++) {
        struct tier *tr = &t->tiers[i];
        if (tr->n_weighted_devs && add_child(&t->tiers[tr->parent], i))
            goto out;
    }
    err = 0;
out:
    free(order);
    if (err)
        tier_tree_release(t);
    return err;
}

void tier_tree_release(struct tier_tree *t)
{
    if (t->tiers)
        for (int i = 0; i < t->n_tiers; i++)
            free(t->tiers[i].children);
    free(t->tiers);
    free(t->dev_path);
    memset(t, 0, sizeof(*t));
}
