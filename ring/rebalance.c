/*
 * rebalance.c - assigns partition replicas to devices.
 *
 * The goals are Swift's (replica_plan.c computes them exactly as
 * swift-ring-builder 2.30 does); the way there moves less:
 *
 *   1. Slots that must move are freed: new replica slots, replicas on
 *      removed devices, and replicas breaking the plan's per-tier maximum
 *      (one per partition, the one on the most overloaded device).
 *   2. Freed slots are placed by walking down the tiers, at each level into
 *      the child that still wants the most partition replicas among those
 *      the partition may still enter (below the plan's max).
 *   3. Balance: replicas on overloaded devices are moved *directly* to a
 *      device that wants one, only when such a legal destination exists.
 *      Swift instead gathers replicas first and places them after, which
 *      can move a replica to a place no better than where it was; here
 *      every balance move shrinks the imbalance by one, so the number of
 *      moves is the imbalance itself.
 *
 * Invariants, as in Swift: a partition moves at most one replica per
 * rebalance for balance reasons and none while min_part_hours has not
 * passed since it last moved (removed devices override that: their data
 * has no other home). A device never holds two replicas of a partition.
 */
#include "ring/builder.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ring/replica_plan.h"
#include "ring/tier_tree.h"

#define MAX_BALANCE_PASSES 8
#define TRADE_TRIES 1024   /* placed replicas tried per forced one */
#define TRADE_GIVE_UP 32   /* forced replicas failing in a row */

struct rebalance {
    struct builder *b;
    struct tier_tree t;
    long *wanted;    /* per device: parts it should gain (< 0: shed) */
    long *avail;     /* per tier: sum of positive wanted below */
    uint8_t *moved;  /* per partition: moved in this rebalance */
    uint64_t rng;
    int max_depth;
};

/* splitmix64: small, seedable, good enough to break ties and pick starts */
static uint64_t next_random(struct rebalance *rb)
{
    uint64_t z = (rb->rng += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static int can_move(const struct rebalance *rb, uint64_t part)
{
    return !rb->moved[part] &&
           rb->b->last_part_moves[part] >= rb->b->min_part_hours;
}

static void mark_moved(struct rebalance *rb, uint64_t part)
{
    rb->moved[part] = 1;
    rb->b->last_part_moves[part] = 0;
}

/* Changes a device's wanted count, keeping the tiers' avail sums. */
static void add_wanted(struct rebalance *rb, int dev, long delta)
{
    long before = rb->wanted[dev] > 0 ? rb->wanted[dev] : 0, after;

    rb->wanted[dev] += delta;
    after = rb->wanted[dev] > 0 ? rb->wanted[dev] : 0;
    if (after == before)
        return;
    for (int depth = 0; depth < TIER_LEVELS; depth++)
        rb->avail[tier_of_dev(&rb->t, dev, depth)] += after - before;
}

static void unassign(struct rebalance *rb, size_t r, uint64_t part)
{
    uint16_t dev = rb->b->replica2part2dev[r][part];

    rb->b->devs[dev]->parts--;
    add_wanted(rb, dev, 1);
    rb->b->replica2part2dev[r][part] = BUILDER_NONE_DEV;
}

static void assign(struct rebalance *rb, size_t r, uint64_t part, int dev)
{
    rb->b->devs[dev]->parts++;
    add_wanted(rb, dev, -1);
    rb->b->replica2part2dev[r][part] = (uint16_t)dev;
}

/* Where one partition's replicas are: for each assigned replica its tier
 * at every depth, how many of the partition's replicas share that tier,
 * and whether the tier is closed to another replica (at its plan max, or
 * the device itself). Built once per decision: replica counts are tiny, so
 * scanning this beats any index. */
#define VIEW_MAX 64
struct part_view {
    int n;
    int tier[VIEW_MAX][TIER_LEVELS];
    int count[VIEW_MAX][TIER_LEVELS];
    bool closed[VIEW_MAX][TIER_LEVELS];
};

static void view_part(const struct rebalance *rb, uint64_t part,
                      struct part_view *v)
{
    const struct builder *b = rb->b;

    v->n = 0;
    for (size_t r = 0; r < b->n_replica_arrays && v->n < VIEW_MAX; r++) {
        uint16_t dev;
        if (part >= b->replica_parts[r])
            continue;
        dev = b->replica2part2dev[r][part];
        if (dev == BUILDER_NONE_DEV)
            continue;
        for (int d = 0; d < TIER_LEVELS; d++)
            v->tier[v->n][d] = tier_of_dev(&rb->t, dev, d);
        v->n++;
    }
    for (int i = 0; i < v->n; i++) {
        for (int d = 1; d < TIER_LEVELS; d++) {
            int c = 0;
            for (int j = 0; j < v->n; j++)
                c += v->tier[j][d] == v->tier[i][d];
            v->count[i][d] = c;
            v->closed[i][d] = d == TIER_DEVICE ||
                              c >= rb->t.tiers[v->tier[i][d]].max;
        }
    }
}

/* Replicas of the partition in tier 'tier' at 'depth'. */
static int view_count(const struct part_view *v, int tier, int depth)
{
    for (int i = 0; i < v->n; i++)
        if (v->tier[i][depth] == tier)
            return v->count[i][depth];
    return 0;
}

/* The room the partition can actually use below 'tier' (at 'depth'): its
 * avail less that of the closed subtrees inside it that hold replicas
 * (the topmost closed tier on each replica's path, each once). */
static long usable_room(const struct rebalance *rb, const struct part_view *v,
                        int tier, int depth)
{
    long room = rb->avail[tier];
    int seen[VIEW_MAX], n_seen = 0;

    for (int i = 0; i < v->n; i++) {
        int e = depth + 1, dup = 0;
        if (v->tier[i][depth] != tier)
            continue;
        while (!v->closed[i][e])
            e++; /* ends at the device, which is always closed */
        for (int j = 0; j < n_seen; j++)
            dup |= seen[j] == v->tier[i][e];
        if (!dup) {
            seen[n_seen++] = v->tier[i][e];
            room -= rb->avail[v->tier[i][e]];
        }
    }
    return room;
}

static bool view_closed(const struct part_view *v, int tier, int depth)
{
    for (int i = 0; i < v->n; i++)
        if (v->tier[i][depth] == tier)
            return v->closed[i][depth];
    return false;
}

/* Walks down from the cluster into the child with the most room this
 * partition can use. Looking past the child's own room matters: a zone
 * may want replicas only on the server that already holds this one.
 * strict: only where a device wants the replica (balance moves), and
 * preferring tiers where the replica adds no dispersion risk; otherwise
 * the replica must land somewhere, past the plan's max if nothing else is
 * left (never on a device holding the partition). Returns a device or -1.
 */
static int find_home(struct rebalance *rb, uint64_t part, int strict)
{
    struct part_view v;
    int tier = 0;

    view_part(rb, part, &v);
    for (int depth = 1; depth <= TIER_DEVICE; depth++) {
        const struct tier *tr = &rb->t.tiers[tier];
        int best = -1, ties = 0, risky, best_risky = 1;
        long best_room = 0;

        if (!strict && depth < TIER_DEVICE && tr->n_children == 1) {
            tier = tr->children[0]; /* the only way down, full or not */
            continue;
        }
        for (int i = 0; i < tr->n_children; i++) {
            int c = tr->children[i];
            long room;
            if (view_closed(&v, c, depth))
                continue;
            room = usable_room(rb, &v, c, depth);
            if (strict && room <= 0)
                continue;
            /* A tier that would hold more than its even share of this
             * partition's replicas puts data at risk (that is what
             * dispersion counts): any tier with room is better. */
            risky = strict &&
                    view_count(&v, c, depth) >= rb->t.tiers[c].max_ceil;
            /* ties are broken at random: a fixed order would pair the
             * same devices in partition after partition */
            if (best < 0 || risky < best_risky ||
                (risky == best_risky && room > best_room)) {
                best = c;
                best_room = room;
                best_risky = risky;
                ties = 1;
            } else if (risky == best_risky && room == best_room &&
                       ((next_random(rb) >> 32) * (uint64_t)++ties) >> 32 ==
                           0) {
                best = c;
            }
        }
        if (best < 0 && !strict) {
            /* past the plan: any child with a device free of this part */
            for (int i = 0; i < tr->n_children && best < 0; i++) {
                int c = tr->children[i];
                if (depth < TIER_DEVICE || !view_count(&v, c, depth))
                    best = c;
            }
        }
        if (best < 0)
            return -1;
        tier = best;
    }
    return rb->t.tiers[tier].dev_id;
}

/* Makes the replica arrays fit the replica count; new slots stay
 * unassigned (BUILDER_NONE_DEV), dropped slots give their parts back. */
static int resize_arrays(struct builder *b)
{
    double whole, frac = modf(b->replicas, &whole);
    size_t n = (size_t)whole + (frac > 0);
    uint16_t **arrays;
    size_t *lens;

    for (size_t r = n; r < b->n_replica_arrays; r++) {
        for (size_t p = 0; p < b->replica_parts[r]; p++)
            b->devs[b->replica2part2dev[r][p]]->parts--;
        free(b->replica2part2dev[r]);
    }
    arrays = realloc(b->replica2part2dev, sizeof(*arrays) * n);
    lens = realloc(b->replica_parts, sizeof(*lens) * n);
    if (arrays)
        b->replica2part2dev = arrays;
    if (lens)
        b->replica_parts = lens;
    if (!arrays || !lens)
        return -ENOMEM;
    for (size_t r = b->n_replica_arrays; r < n; r++) {
        b->replica2part2dev[r] = NULL;
        b->replica_parts[r] = 0;
    }
    if (b->n_replica_arrays > n)
        b->n_replica_arrays = n;
    for (size_t r = 0; r < n; r++) {
        size_t want = r + 1 == n && frac > 0 ? (size_t)(b->parts * frac)
                                             : (size_t)b->parts;
        size_t have = r < b->n_replica_arrays ? b->replica_parts[r] : 0;
        uint16_t *a;

        for (size_t p = want; p < have; p++)
            b->devs[b->replica2part2dev[r][p]]->parts--;
        a = realloc(b->replica2part2dev[r], sizeof(*a) * (want ? want : 1));
        if (!a)
            return -ENOMEM;
        for (size_t p = have; p < want; p++)
            a[p] = BUILDER_NONE_DEV;
        b->replica2part2dev[r] = a;
        b->replica_parts[r] = want;
    }
    b->n_replica_arrays = n;
    return 0;
}

/* Frees the slots of devices marked for removal and drops the devices. */
static int drop_removed_devices(struct builder *b, uint8_t *moved)
{
    int removed = 0;

    for (size_t r = 0; r < b->n_replica_arrays; r++) {
        for (size_t p = 0; p < b->replica_parts[r]; p++) {
            uint16_t dev = b->replica2part2dev[r][p];
            if (dev != BUILDER_NONE_DEV && b->devs[dev]->removing) {
                b->replica2part2dev[r][p] = BUILDER_NONE_DEV;
                b->last_part_moves[p] = 0;
                moved[p] = 1;
            }
        }
    }
    for (size_t i = 0; i < b->n_devs; i++) {
        if (b->devs[i] && b->devs[i]->removing) {
            ring_dev_release(&b->devs[i]->d);
            free(b->devs[i]);
            b->devs[i] = NULL;
            removed++;
        }
    }
    while (b->n_devs > 0 && !b->devs[b->n_devs - 1])
        b->n_devs--;
    return removed;
}

/* Hours since each partition moved, advanced to now. */
static void age_part_moves(struct builder *b)
{
    int64_t now = (int64_t)time(NULL);
    int64_t hours = (now - b->last_part_moves_epoch) / 3600;

    if (hours <= 0)
        return;
    for (uint64_t p = 0; p < b->parts; p++) {
        int64_t h = b->last_part_moves[p] + hours;
        b->last_part_moves[p] = (uint8_t)(h < 0xff ? h : 0xff);
    }
    b->last_part_moves_epoch = now;
}

static int setup(struct rebalance *rb, char err[BUILDER_ERRLEN])
{
    struct builder *b = rb->b;
    int rc = tier_tree_build(b, &rb->t);

    if (rc)
        return rc;
    rc = replica_plan_build(b, &rb->t, err);
    if (rc)
        return rc;
    rb->wanted = calloc(b->n_devs + 1, sizeof(*rb->wanted));
    rb->avail = calloc((size_t)rb->t.n_tiers, sizeof(*rb->avail));
    if (!rb->wanted || !rb->avail)
        return -ENOMEM;
    for (size_t i = 0; i < b->n_devs; i++) {
        const struct builder_dev *bd = b->devs[i];
        long target;
        if (!bd)
            continue;
        if (bd->d.weight > 0)
            target = rb->t.tiers[tier_of_dev(&rb->t, (int)i, TIER_DEVICE)]
                         .parts_target;
        else
            target = 0;
        rb->wanted[i] = 0;
        add_wanted(rb, (int)i, target - bd->parts);
    }
    return 0;
}

/* Frees, for each movable partition, one replica that breaks the plan's
 * max at one of its tiers: the one on the most overloaded device. */
static void gather_for_dispersion(struct rebalance *rb)
{
    const struct builder *b = rb->b;
    int devs[VIEW_MAX];
    size_t slot[VIEW_MAX];

    for (uint64_t p = 0; p < b->parts; p++) {
        long worst_wanted = 0;
        int worst = -1, n = 0;

        if (!can_move(rb, p))
            continue;
        for (size_t r = 0; r < b->n_replica_arrays && n < VIEW_MAX; r++) {
            if (p >= b->replica_parts[r] ||
                b->replica2part2dev[r][p] == BUILDER_NONE_DEV)
                continue;
            slot[n] = r;
            devs[n++] = b->replica2part2dev[r][p];
        }
        /* Going down the tiers: once no two replicas share a tier they
         * share none deeper, and a tier holding one replica is over its
         * max only when it has no weight at all (a device being
         * drained): the usual partition is done after one or two depths. */
        for (int depth = 1; depth <= TIER_DEVICE; depth++) {
            int shared = 0;
            for (int i = 0; i < n; i++) {
                int tier = tier_of_dev(&rb->t, devs[i], depth), count = 0;
                for (int j = 0; j < n; j++)
                    count += tier_of_dev(&rb->t, devs[j], depth) == tier;
                shared |= count > 1;
                if (count > rb->t.tiers[tier].max &&
                    (worst < 0 || rb->wanted[devs[i]] < worst_wanted)) {
                    worst = i;
                    worst_wanted = rb->wanted[devs[i]];
                }
            }
            if (!shared)
                break;
        }
        for (int i = 0; i < n; i++) {
            if (b->devs[devs[i]]->d.weight <= 0 &&
                (worst < 0 || rb->wanted[devs[i]] < worst_wanted)) {
                worst = i;
                worst_wanted = rb->wanted[devs[i]];
            }
        }
        if (worst >= 0) {
            unassign(rb, slot[worst], p);
            mark_moved(rb, p);
        }
    }
}

static bool any_hungry(const struct rebalance *rb)
{
    for (size_t i = 0; i < rb->b->n_devs; i++)
        if (rb->b->devs[i] && rb->wanted[i] > 0)
            return true;
    return false;
}

/* Whether a replica of 'part' may go to 'dev' within the plan. */
static bool fits(const struct rebalance *rb, uint64_t part, int dev)
{
    struct part_view v;

    view_part(rb, part, &v);
    for (int depth = 1; depth <= TIER_DEVICE; depth++) {
        int tier = tier_of_dev(&rb->t, dev, depth);
        if (view_closed(&v, tier, depth) ||
            view_count(&v, tier, depth) >= rb->t.tiers[tier].max)
            return false;
    }
    return true;
}

struct slot {
    uint64_t part;
    size_t replica;
};

/* A replica of part P that had to go to a device with no room left (D),
 * while some device E still wants one P may not enter, is fixed for free
 * by trading with a replica placed in this same rebalance: Q on G moves to
 * E and P takes G. Both were being moved anyway, so the rebalance moves no
 * more replicas, and D is not left overloaded for a balance move to fix.
 * Returns true if traded. */
static bool trade_forced(struct rebalance *rb, const struct slot *forced,
                         const struct slot *placed, uint64_t n_placed)
{
    struct builder *b = rb->b;
    uint64_t part = forced->part, start;
    int d = b->replica2part2dev[forced->replica][part];

    if (!n_placed)
        return false;
    start = next_random(rb) % n_placed;
    unassign(rb, forced->replica, part);
    for (uint64_t k = 0; k < n_placed && k < TRADE_TRIES; k++) {
        const struct slot *q = &placed[(start + k) % n_placed];
        int g = b->replica2part2dev[q->replica][q->part];
        if (q->part == part || g == d || !fits(rb, part, g))
            continue;
        unassign(rb, q->replica, q->part);
        for (size_t e = 0; e < b->n_devs; e++) {
            if (!b->devs[e] || rb->wanted[e] <= 0 || (int)e == g ||
                !fits(rb, q->part, (int)e))
                continue;
            assign(rb, q->replica, q->part, (int)e);
            if (fits(rb, part, g)) {
                assign(rb, forced->replica, part, g);
                return true;
            }
            unassign(rb, q->replica, q->part);
        }
        assign(rb, q->replica, q->part, g);
    }
    assign(rb, forced->replica, part, d);
    return false;
}

/* Places every free slot, partitions in a random order so no region of
 * the partition space is favoured when room runs short; then trades away
 * the placements that found no room (trade_forced). */
static int place_free_slots(struct rebalance *rb, char err[BUILDER_ERRLEN])
{
    struct builder *b = rb->b;
    uint64_t *order, n = 0, n_placed = 0, n_forced = 0;
    struct slot *placed = NULL, *forced = NULL;
    int rc = 0;

    order = malloc(sizeof(*order) * b->parts);
    if (!order)
        return -ENOMEM;
    for (uint64_t p = 0; p < b->parts; p++) {
        for (size_t r = 0; r < b->n_replica_arrays; r++) {
            if (p < b->replica_parts[r] &&
                b->replica2part2dev[r][p] == BUILDER_NONE_DEV) {
                order[n++] = p;
                break;
            }
        }
    }
    for (uint64_t i = n; i > 1; i--) {
        uint64_t j = next_random(rb) % i, tmp = order[i - 1];
        order[i - 1] = order[j];
        order[j] = tmp;
    }
    placed = malloc(sizeof(*placed) * (n * b->n_replica_arrays + 1));
    forced = malloc(sizeof(*forced) * (n * b->n_replica_arrays + 1));
    if (!placed || !forced) {
        rc = -ENOMEM;
        goto out;
    }
    for (uint64_t i = 0; i < n; i++) {
        uint64_t p = order[i];
        for (size_t r = 0; r < b->n_replica_arrays; r++) {
            int dev;
            if (p >= b->replica_parts[r] ||
                b->replica2part2dev[r][p] != BUILDER_NONE_DEV)
                continue;
            dev = find_home(rb, p, 0);
            if (dev < 0) {
                snprintf(err, BUILDER_ERRLEN, "no device can take partition "
                         "%llu replica %zu", (unsigned long long)p, r);
                rc = -EINVAL;
                goto out;
            }
            if (rb->wanted[dev] <= 0)
                forced[n_forced++] = (struct slot){p, r};
            else
                placed[n_placed++] = (struct slot){p, r};
            assign(rb, r, p, dev);
            rb->b->last_part_moves[p] = 0;
        }
    }
    /* Trading fails for good when the plan itself leaves no better home
     * (weights against dispersion): stop after a run of failures. */
    for (uint64_t i = 0, failed = 0; i < n_forced && failed < TRADE_GIVE_UP;
         i++) {
        if (!any_hungry(rb))
            break;
        failed = trade_forced(rb, &forced[i], placed, n_placed) ? 0
                                                                : failed + 1;
    }
out:
    free(order);
    free(placed);
    free(forced);
    return rc;
}

static int any_overloaded(const struct rebalance *rb)
{
    for (size_t i = 0; i < rb->b->n_devs; i++)
        if (rb->b->devs[i] && rb->wanted[i] < 0)
            return 1;
    return 0;
}

/* Replicas of 'part' at risk, as Swift's dispersion counts them: at each
 * depth, the replicas beyond each tier's even share; the worst depth. */
static long part_risk(const struct rebalance *rb, uint64_t part)
{
    struct part_view v;
    long worst = 0;

    view_part(rb, part, &v);
    for (int depth = 1; depth <= TIER_DEVICE; depth++) {
        long excess = 0;
        for (int i = 0; i < v.n; i++) {
            int tier = v.tier[i][depth], first = 1;
            for (int j = 0; j < i; j++)
                first &= v.tier[j][depth] != tier;
            if (first && v.count[i][depth] > rb->t.tiers[tier].max_ceil)
                excess += v.count[i][depth] - rb->t.tiers[tier].max_ceil;
        }
        if (excess > worst)
            worst = excess;
    }
    return worst;
}

/* Moves one replica of 'p' off an overloaded device straight to a device
 * that wants one, if the plan allows such a move. careful: only moves
 * that leave the partition no less dispersed. Returns 1 if moved. */
static int shed_one(struct rebalance *rb, uint64_t p, int careful)
{
    struct builder *b = rb->b;
    int tried[64], n_tried = 0;
    long risk = -1;

    for (;;) {
        int pick = -1, dev, home;
        for (size_t r = 0; r < b->n_replica_arrays && r < 64; r++) {
            int d, seen = 0;
            if (p >= b->replica_parts[r])
                continue;
            d = b->replica2part2dev[r][p];
            if (rb->wanted[d] >= 0)
                continue;
            for (int i = 0; i < n_tried; i++)
                seen |= tried[i] == (int)r;
            if (!seen && (pick < 0 ||
                          rb->wanted[d] <
                              rb->wanted[b->replica2part2dev[pick][p]]))
                pick = (int)r;
        }
        if (pick < 0)
            return 0;
        if (careful && risk < 0)
            risk = part_risk(rb, p);
        tried[n_tried++] = pick;
        dev = b->replica2part2dev[pick][p];
        unassign(rb, (size_t)pick, p);
        home = find_home(rb, p, 1);
        if (home >= 0 && home != dev) {
            assign(rb, (size_t)pick, p, home);
            if (!careful || part_risk(rb, p) <= risk) {
                mark_moved(rb, p);
                return 1;
            }
            unassign(rb, (size_t)pick, p);
        }
        assign(rb, (size_t)pick, p, dev);
    }
}

/* Passes over the partitions from a random start, shedding replicas of
 * overloaded devices; the first passes only make moves that keep each
 * partition as dispersed as it was, later ones any legal move. */
static void balance(struct rebalance *rb)
{
    struct builder *b = rb->b;
    int careful = 1;

    for (int pass = 0; pass < MAX_BALANCE_PASSES && any_overloaded(rb);
         pass++) {
        uint64_t start = (b->last_part_gather_start + b->parts / 4 +
                          next_random(rb) % (b->parts / 2 + 1)) %
                         b->parts;
        long moves = 0;

        b->last_part_gather_start = start;
        for (uint64_t i = 0; i < b->parts; i++) {
            uint64_t p = (start + i) % b->parts;
            if (can_move(rb, p))
                moves += shed_one(rb, p, careful);
        }
        if (!moves && !careful)
            break;
        if (!moves)
            careful = 0;
    }
}

static long count_changes(const struct builder *b, uint16_t **old,
                          const size_t *old_len, size_t old_n)
{
    long changed = 0;

    for (size_t r = 0; r < b->n_replica_arrays; r++)
        for (size_t p = 0; p < b->replica_parts[r]; p++)
            changed += r >= old_n || p >= old_len[r] ||
                       old[r][p] != b->replica2part2dev[r][p];
    return changed;
}

static void release(struct rebalance *rb)
{
    tier_tree_release(&rb->t);
    free(rb->wanted);
    free(rb->avail);
    free(rb->moved);
}

static int weighted_devices(const struct builder *b)
{
    int n = 0;

    for (size_t i = 0; i < b->n_devs; i++)
        if (b->devs[i] && b->devs[i]->d.weight > 0)
            n++;
    return n;
}

int builder_rebalance(struct builder *b, long seed,
                      struct rebalance_result *res, char err[BUILDER_ERRLEN])
{
    struct rebalance rb = {.b = b};
    struct builder *before = NULL;
    int rc, removed;

    memset(res, 0, sizeof(*res));
    if (weighted_devices(b) < b->replicas) {
        snprintf(err, BUILDER_ERRLEN, "Replica count of %g requires more "
                 "than %d devices", b->replicas, weighted_devices(b));
        return -EINVAL;
    }
    /* Work on a copy so that a failure leaves 'b' as it was. */
    rc = builder_clone(b, &before);
    if (rc)
        return rc;
    rb.rng = seed >= 0 ? (uint64_t)seed
                       : (uint64_t)time(NULL) ^ ((uint64_t)clock() << 32);
    rb.moved = calloc(b->parts, 1);
    if (!rb.moved) {
        rc = -ENOMEM;
        goto fail;
    }
    age_part_moves(b);
    rc = resize_arrays(b);
    if (rc)
        goto fail;
    removed = drop_removed_devices(b, rb.moved);
    rc = setup(&rb, err);
    if (rc)
        goto fail;
    gather_for_dispersion(&rb);
    rc = place_free_slots(&rb, err);
    if (rc)
        goto fail;
    balance(&rb);

    b->devs_changed = false;
    b->version++; /* as Swift: a rebalance is a new version of the ring */
    res->changed_parts = count_changes(b, before->replica2part2dev,
                                       before->replica_parts,
                                       before->n_replica_arrays);
    res->removed_devs = removed;
    res->balance = builder_get_balance(b);
    release(&rb);
    builder_free(before);
    {
        struct dispersion_report rep;
        if (builder_dispersion_report(b, &rep) == 0)
            dispersion_report_release(&rep);
    }
    return 0;
fail:
    release(&rb);
    /* restore the untouched copy's contents into the caller's builder */
    {
        struct builder tmp = *b;
        *b = *before;
        *before = tmp;
    }
    builder_free(before);
    return rc;
}

double builder_required_overload(const struct builder *b)
{
    struct tier_tree t;
    char err[BUILDER_ERRLEN];
    double r = 0;

    if (tier_tree_build(b, &t))
        return 0;
    if (replica_plan_build(b, &t, err) == 0)
        r = replica_plan_required_overload(&t);
    tier_tree_release(&t);
    return r;
}
