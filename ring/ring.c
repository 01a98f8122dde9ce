/*
 * ring.c - the ring at run time: partition lookup, primaries, handoffs.
 *
 * Everything here must pick the same devices as Swift 2.30's Ring, or a
 * Kura proxy and a Swift proxy would look for the same object in
 * different places. The handoff walk is a direct transcription of
 * Ring.get_more_nodes, turned into a resumable iterator.
 *
 * Invariants once ring_from_data() returns:
 * 1. The ring never changes; only its reference count does.
 * 2. Every id in the replica arrays names a device (not a hole), and the
 *    first array has exactly 2^part_power entries.
 * 3. tier[id] holds dense indices of the device's region, (region, zone)
 *    and (region, zone, ip) among all devices; n_* counts those tiers
 *    among devices that hold at least one partition, as Swift's
 *    _update_bookkeeping does.
 * Reading files is ringfile.c's job; reloading is live_ring.c's.
 */
#include "ring/ring.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { TIER_REGION, TIER_ZONE, TIER_IP, N_TIERS };

struct ring {
    atomic_uint refs;
    struct ring_data rd;
    size_t parts; /* length of the first array */
    size_t n_live_devs;
    uint32_t (*tier)[N_TIERS];  /* per device id; see invariant 3 */
    size_t n_tier_idx[N_TIERS]; /* distinct tiers among all devices */
    size_t n_assigned[N_TIERS]; /* ... among devices with partitions */
    size_t n_assigned_devs;
};

struct ring_handoff_iter {
    const struct ring *ring;
    uint64_t *seen[N_TIERS]; /* bitmaps over the dense tier indices */
    uint64_t *used;          /* bitmap over device ids */
    size_t n_seen[N_TIERS];
    size_t n_used;
    int pass; /* 0..3 as in get_more_nodes, 4: done */
    bool pass_started;
    bool hit_all;      /* this pass has nothing more to find */
    size_t start, inc; /* the partition walk */
    int segment;       /* 0: start..parts, 1: wrap-around..start */
    size_t cur;        /* the handoff partition being looked at */
    size_t replica;    /* next replica array to look in */
};

/* ---- loading ---- */

/* Sorting device ids by tier, to number the distinct tiers. */
struct tier_sort {
    const struct ring_data *rd;
    int depth; /* compare region, then zone, then ip, down to this tier */
};

static int tier_cmp(const void *a, const void *b, void *arg)
{
    const struct tier_sort *ts = arg;
    const struct ring_dev *x = ts->rd->devs[*(const uint32_t *)a];
    const struct ring_dev *y = ts->rd->devs[*(const uint32_t *)b];

    if (x->region != y->region)
        return x->region < y->region ? -1 : 1;
    if (ts->depth >= TIER_ZONE && x->zone != y->zone)
        return x->zone < y->zone ? -1 : 1;
    if (ts->depth >= TIER_IP)
        return strcmp(x->ip, y->ip);
    return 0;
}

/* Numbers the distinct tiers of the devices 'ids' (sorting them), and
 * counts those holding partitions. Returns 0 or -ENOMEM. */
static int number_tiers(struct ring *ring, uint32_t *ids, size_t n,
                        const bool *assigned)
{
    struct tier_sort ts = {.rd = &ring->rd};

    for (ts.depth = 0; ts.depth < N_TIERS; ts.depth++) {
        size_t idx = 0;
        bool *hit;

        qsort_r(ids, n, sizeof(*ids), tier_cmp, &ts);
        for (size_t i = 0; i < n; i++) {
            if (i > 0 && tier_cmp(&ids[i - 1], &ids[i], &ts) != 0)
                idx++;
            ring->tier[ids[i]][ts.depth] = (uint32_t)idx;
        }
        ring->n_tier_idx[ts.depth] = n ? idx + 1 : 0;

        hit = calloc(idx + 1, sizeof(*hit));
        if (!hit)
            return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
            uint32_t t = ring->tier[ids[i]][ts.depth];

            if (assigned[ids[i]] && !hit[t]) {
                hit[t] = true;
                ring->n_assigned[ts.depth]++;
            }
        }
        free(hit);
    }
    return 0;
}

static int build_tiers(struct ring *ring)
{
    const struct ring_data *rd = &ring->rd;
    bool *assigned = calloc(rd->n_devs + 1, sizeof(*assigned));
    uint32_t *ids = calloc(rd->n_devs + 1, sizeof(*ids));
    size_t n = 0;
    int rc = 0;

    ring->tier = calloc(rd->n_devs + 1, sizeof(*ring->tier));
    if (!assigned || !ids || !ring->tier) {
        rc = -ENOMEM;
        goto out;
    }
    for (size_t r = 0; r < rd->n_replicas; r++)
        for (size_t p = 0; p < rd->replica_parts[r]; p++)
            assigned[rd->replica2part2dev[r][p]] = true;
    for (size_t id = 0; id < rd->n_devs; id++) {
        if (!rd->devs[id])
            continue;
        ids[n++] = (uint32_t)id;
        if (assigned[id])
            ring->n_assigned_devs++;
    }
    ring->n_live_devs = n;
    rc = number_tiers(ring, ids, n, assigned);
out:
    free(assigned);
    free(ids);
    return rc;
}

static int check_data(const struct ring_data *rd)
{
    if (rd->part_shift > 32 || rd->n_replicas < 1 || !rd->replica_parts ||
        rd->replica_parts[0] != (size_t)1 << (32 - rd->part_shift))
        return -EINVAL;
    for (size_t r = 0; r < rd->n_replicas; r++) {
        if (rd->replica_parts[r] > rd->replica_parts[0])
            return -EINVAL;
        for (size_t p = 0; p < rd->replica_parts[r]; p++) {
            uint16_t id = rd->replica2part2dev[r][p];

            if (id >= rd->n_devs || !rd->devs[id] || !rd->devs[id]->ip)
                return -EINVAL;
        }
    }
    return 0;
}

int ring_from_data(struct ring_data *rd, struct ring **out)
{
    struct ring *ring;
    int rc;

    *out = NULL;
    rc = check_data(rd);
    if (rc) {
        ring_data_release(rd);
        return rc;
    }
    ring = calloc(1, sizeof(*ring));
    if (!ring) {
        ring_data_release(rd);
        return -ENOMEM;
    }
    atomic_init(&ring->refs, 1);
    ring->rd = *rd;
    memset(rd, 0, sizeof(*rd));
    rd->version = -1;
    rd->next_part_power = -1;
    ring->parts = ring->rd.replica_parts[0];
    rc = build_tiers(ring);
    if (rc) {
        ring_free(ring);
        return rc;
    }
    *out = ring;
    return 0;
}

int ring_load(const char *path, struct ring **out, char err[RINGFILE_ERRLEN])
{
    struct ring_data rd;
    int rc;

    *out = NULL;
    rc = ringfile_read(path, &rd, err);
    if (rc)
        return rc;
    rc = ring_from_data(&rd, out);
    if (rc && err)
        snprintf(err, RINGFILE_ERRLEN, "cannot load ring '%s': %s", path,
                 strerror(-rc));
    return rc;
}

struct ring *ring_ref(struct ring *ring)
{
    atomic_fetch_add_explicit(&ring->refs, 1, memory_order_relaxed);
    return ring;
}

void ring_free(struct ring *ring)
{
    if (!ring)
        return;
    /* acq_rel: the freeing thread must see every other holder's reads
     * finished before it tears the ring down */
    if (atomic_fetch_sub_explicit(&ring->refs, 1, memory_order_acq_rel) != 1)
        return;
    ring_data_release(&ring->rd);
    free(ring->tier);
    free(ring);
}

/* ---- lookups ---- */

const struct ring_data *ring_get_data(const struct ring *ring)
{
    return &ring->rd;
}

unsigned ring_part_power(const struct ring *ring)
{
    return 32 - ring->rd.part_shift;
}

size_t ring_partition_count(const struct ring *ring)
{
    return ring->parts;
}

double ring_replica_count(const struct ring *ring)
{
    const struct ring_data *rd = &ring->rd;

    return (double)(rd->n_replicas - 1) +
           (double)rd->replica_parts[rd->n_replicas - 1] / (double)ring->parts;
}

size_t ring_replica_arrays(const struct ring *ring)
{
    return ring->rd.n_replicas;
}

size_t ring_dev_slots(const struct ring *ring)
{
    return ring->rd.n_devs;
}

size_t ring_device_count(const struct ring *ring)
{
    return ring->n_live_devs;
}

const struct ring_dev *ring_get_dev(const struct ring *ring, unsigned id)
{
    return id < ring->rd.n_devs ? ring->rd.devs[id] : NULL;
}

uint32_t ring_get_part(const struct ring *ring, const unsigned char digest[16])
{
    uint32_t top = (uint32_t)digest[0] << 24 | (uint32_t)digest[1] << 16 |
                   (uint32_t)digest[2] << 8 | digest[3];

    /* part_shift 32 (part power 0, one partition) is Swift's too */
    return (uint32_t)((uint64_t)top >> ring->rd.part_shift);
}

size_t ring_get_part_nodes(const struct ring *ring, uint32_t part,
                           const struct ring_dev **nodes, size_t max)
{
    const struct ring_data *rd = &ring->rd;
    size_t n = 0;

    for (size_t r = 0; r < rd->n_replicas; r++) {
        uint16_t id;
        bool dup = false;

        if (part >= rd->replica_parts[r])
            continue;
        id = rd->replica2part2dev[r][part];
        /* dedup against the earlier arrays, not nodes[]: 'max' may have
         * cut nodes[] short */
        for (size_t q = 0; q < r && !dup; q++)
            dup = part < rd->replica_parts[q] &&
                  rd->replica2part2dev[q][part] == id;
        if (dup)
            continue;
        if (n < max)
            nodes[n] = rd->devs[id];
        n++;
    }
    return n;
}

/* ---- handoffs: Swift's get_more_nodes as an iterator ---- */

static bool test_and_set(uint64_t *bits, size_t i)
{
    uint64_t mask = (uint64_t)1 << (i % 64);
    bool was = bits[i / 64] & mask;

    bits[i / 64] |= mask;
    return was;
}

static bool is_set(const uint64_t *bits, size_t i)
{
    return bits[i / 64] & ((uint64_t)1 << (i % 64));
}

/* Marks device 'id' used, and its tiers from 'from_tier' down seen. */
static void mark(struct ring_handoff_iter *it, uint16_t id, int from_tier)
{
    if (!test_and_set(it->used, id))
        it->n_used++;
    for (int t = from_tier; t < N_TIERS; t++)
        if (!test_and_set(it->seen[t], it->ring->tier[id][t]))
            it->n_seen[t]++;
}

static size_t words(size_t bits)
{
    return bits / 64 + 1;
}

/* md5(str(part)) >> part_shift: where the walk starts. */
static size_t walk_start(const struct ring *ring, uint32_t part)
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    char text[16];
    int len = snprintf(text, sizeof(text), "%u", part);

    if (EVP_Digest(text, (size_t)len, digest, NULL, EVP_md5(), NULL) != 1)
        return 0; /* NEEDSWORK: MD5 unavailable (FIPS mode?); not Swift's */
    return ring_get_part(ring, digest);
}

int ring_handoff_iter_new(const struct ring *ring, uint32_t part,
                          struct ring_handoff_iter **out)
{
    const struct ring_data *rd = &ring->rd;
    size_t n_words = words(rd->n_devs);
    struct ring_handoff_iter *it;
    uint64_t *bits;

    for (int t = 0; t < N_TIERS; t++)
        n_words += words(ring->n_tier_idx[t]);
    *out = NULL;
    it = calloc(1, sizeof(*it));
    bits = calloc(n_words, sizeof(*bits));
    if (!it || !bits) {
        free(it);
        free(bits);
        return -ENOMEM;
    }
    it->ring = ring;
    it->used = bits;
    bits += words(rd->n_devs);
    for (int t = 0; t < N_TIERS; t++) {
        it->seen[t] = bits;
        bits += words(ring->n_tier_idx[t]);
    }
    for (size_t r = 0; r < rd->n_replicas; r++)
        if (part < rd->replica_parts[r])
            mark(it, rd->replica2part2dev[r][part], TIER_REGION);
    it->start = walk_start(ring, part);
    it->inc = ring->parts / 65536 ? ring->parts / 65536 : 1;
    *out = it;
    return 0;
}

void ring_handoff_iter_free(struct ring_handoff_iter *it)
{
    if (!it)
        return;
    free(it->used);
    free(it);
}

/* Has this pass's tier been exhausted? (hit_all_regions and friends) */
static bool pass_done(const struct ring_handoff_iter *it)
{
    if (it->pass == 3)
        return it->n_used == it->ring->n_assigned_devs;
    return it->n_seen[it->pass] == it->ring->n_assigned[it->pass];
}

/* Moves the walk to the next handoff partition: chain(range(start, parts,
 * inc), range(inc - (parts - start) % inc, start, inc)). Returns false at
 * the end of the walk. */
static bool walk_next(struct ring_handoff_iter *it)
{
    it->replica = 0;
    it->cur += it->inc;
    if (it->segment == 0 && it->cur >= it->ring->parts) {
        it->segment = 1;
        it->cur = it->inc - (it->ring->parts - it->start) % it->inc;
    }
    return it->segment == 0 || it->cur < it->start;
}

static void begin_pass(struct ring_handoff_iter *it)
{
    it->pass_started = true;
    it->hit_all = pass_done(it);
    it->segment = 0;
    it->cur = it->start;
    it->replica = 0;
}

static void end_pass(struct ring_handoff_iter *it)
{
    it->pass++;
    it->pass_started = false;
}

/* Would this pass hand off to device 'id'? */
static bool wanted(const struct ring_handoff_iter *it, uint16_t id)
{
    if (is_set(it->used, id))
        return false;
    if (it->pass == 3)
        return true;
    return !is_set(it->seen[it->pass], it->ring->tier[id][it->pass]);
}

const struct ring_dev *ring_handoff_iter_next(struct ring_handoff_iter *it)
{
    const struct ring_data *rd = &it->ring->rd;

    while (it->pass < 4) {
        if (!it->pass_started)
            begin_pass(it);
        if (it->hit_all) {
            end_pass(it);
            continue;
        }
        while (it->replica < rd->n_replicas) {
            size_t r = it->replica++;
            uint16_t id;

            if (it->cur >= rd->replica_parts[r])
                continue;
            id = rd->replica2part2dev[r][it->cur];
            if (!wanted(it, id))
                continue;
            /* pass 0 marks region, zone and ip; pass 1 zone and ip; ... */
            mark(it, id, it->pass < 3 ? it->pass : N_TIERS);
            it->hit_all = pass_done(it);
            return rd->devs[id];
        }
        if (!walk_next(it))
            end_pass(it);
    }
    return NULL;
}
