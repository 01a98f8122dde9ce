/*
 * dispersion.c - how well each partition's replicas are spread over the
 * failure domains, measured exactly as swift-ring-builder 2.30 does.
 *
 * For every partition, count its replicas in each tier; a tier holding
 * more than its "max allowed" (replicas split evenly by child count,
 * rounded up) puts the excess at risk. A partition's risk is its worst
 * depth's excess; the ring's dispersion is the percentage of all replicas
 * at risk. The report adds, per tier, how many partitions have 0, 1, ...
 * replicas there.
 */
#include "ring/builder.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ring/replica_plan.h"
#include "ring/tier_tree.h"

static char *tier_name(const struct builder *b, const struct tier *tr)
{
    char *s = NULL;
    int n = -1;

    switch (tr->depth) {
    case TIER_REGION: n = asprintf(&s, "r%d", tr->region); break;
    case TIER_ZONE: n = asprintf(&s, "r%dz%d", tr->region, tr->zone); break;
    case TIER_SERVER:
        n = asprintf(&s, "r%dz%d-%s", tr->region, tr->zone, tr->ip);
        break;
    case TIER_DEVICE:
        n = asprintf(&s, "r%dz%d-%s/%s", tr->region, tr->zone, tr->ip,
                     b->devs[tr->dev_id]->d.device);
        break;
    default: break;
    }
    return n < 0 ? NULL : s;
}

/* Counts, per tier, partitions by replicas held (counts[tier * width + k])
 * and returns the replicas at risk over the whole ring. */
static long count_graph(const struct builder *b, const struct tier_tree *t,
                        long *counts, size_t width)
{
    int path[64][TIER_LEVELS];
    long at_risk = 0;

    for (uint64_t p = 0; p < b->parts; p++) {
        long risk[TIER_LEVELS] = {0}, worst = 0;
        int n = 0;

        for (size_t r = 0; r < b->n_replica_arrays && n < 64; r++) {
            uint16_t dev;
            if (p >= b->replica_parts[r])
                continue;
            dev = b->replica2part2dev[r][p];
            if (dev == BUILDER_NONE_DEV)
                continue;
            for (int d = 1; d < TIER_LEVELS; d++)
                path[n][d] = tier_of_dev(t, dev, d);
            n++;
        }
        /* each distinct tier once, with its replica count; once no two
         * replicas share a tier, deeper tiers hold one replica each */
        for (int d = 1, shared = 1; d < TIER_LEVELS; d++) {
            if (!shared) {
                for (int i = 0; i < n; i++) {
                    counts[(size_t)path[i][d] * width + 1]++;
                    if (1 > t->tiers[path[i][d]].max_ceil)
                        risk[d]++;
                }
                continue;
            }
            shared = 0;
            for (int i = 0; i < n; i++) {
                int tier = path[i][d], k = 0, first = 1;
                for (int j = 0; j < n; j++) {
                    k += path[j][d] == tier;
                    first &= !(j < i && path[j][d] == tier);
                }
                if (!first)
                    continue;
                shared |= k > 1;
                counts[(size_t)tier * width + (size_t)k]++;
                if (k > t->tiers[tier].max_ceil)
                    risk[d] += k - t->tiers[tier].max_ceil;
            }
        }
        for (int d = 1; d < TIER_LEVELS; d++)
            if (risk[d] > worst)
                worst = risk[d];
        at_risk += worst;
    }
    return at_risk;
}

int builder_dispersion_report(struct builder *b,
                              struct dispersion_report *out)
{
    size_t width = (size_t)ceil(b->replicas) + 1;
    struct tier_tree t;
    long *counts = NULL;
    long at_risk;
    int rc;

    memset(out, 0, sizeof(*out));
    if (!b->replica2part2dev)
        return -EINVAL;
    rc = tier_tree_build(b, &t);
    if (rc)
        return rc;
    replica_plan_split(b, &t);
    counts = calloc((size_t)t.n_tiers * width, sizeof(*counts));
    out->tiers = calloc((size_t)t.n_tiers, sizeof(*out->tiers));
    if (!counts || !out->tiers) {
        rc = -ENOMEM;
        goto out;
    }
    at_risk = count_graph(b, &t, counts, width);
    b->dispersion = 100.0 * (double)at_risk / ((double)b->parts * b->replicas);

    for (int i = 1; i < t.n_tiers; i++) {
        long *row = counts + (size_t)i * width, holding = 0, over = 0;
        struct dispersion_tier *dt;
        int max = t.tiers[i].max_ceil;

        for (size_t k = 1; k < width; k++)
            holding += row[k];
        if (!holding)
            continue; /* Swift's graph only has tiers that hold replicas */
        dt = &out->tiers[out->n_tiers];
        dt->name = tier_name(b, &t.tiers[i]);
        dt->replicas = calloc(width, sizeof(long));
        if (!dt->name || !dt->replicas) {
            free(dt->name);
            free(dt->replicas);
            dt->name = NULL;
            dt->replicas = NULL;
            rc = -ENOMEM;
            goto out;
        }
        out->n_tiers++;
        row[0] = (long)b->parts - holding;
        memcpy(dt->replicas, row, width * sizeof(long));
        dt->max_replicas = max;
        for (size_t k = 1; k < width; k++) {
            dt->placed_parts += (long)k * row[k];
            if ((int)k > max)
                over += row[k] * ((long)k - max);
        }
        dt->dispersion = 100.0 * (double)over / (double)dt->placed_parts;
        if (dt->dispersion > out->max_dispersion) {
            out->max_dispersion = dt->dispersion;
            out->worst_tier = dt->name;
        }
    }
out:
    free(counts);
    tier_tree_release(&t);
    if (rc)
        dispersion_report_release(out);
    return rc;
}

void dispersion_report_release(struct dispersion_report *r)
{
    for (size_t i = 0; i < r->n_tiers; i++) {
        free(r->tiers[i].name);
        free(r->tiers[i].replicas);
    }
    free(r->tiers);
    memset(r, 0, sizeof(*r));
}
