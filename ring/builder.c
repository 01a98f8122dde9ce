/*
 * builder.c - the builder's device table and its bookkeeping.
 *
 * Owns struct builder's lifetime and every edit short of rebalancing
 * (rebalance.c) and persistence (builder_file.c). Invariants kept here:
 *   1. devs[i] is NULL or has d.id == i; n_devs <= BUILDER_MAX_DEVS.
 *   2. No two devices share ip:port/device (Swift's CLI refuses that too).
 *   3. devs[i]->parts counts the slots of replica2part2dev naming i.
 *   4. A device marked removing has weight 0 and keeps it until the
 *      rebalance that drops it.
 */
#include "ring/builder.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int builder_new(int part_power, double replicas, int min_part_hours,
                struct builder **out, char err[BUILDER_ERRLEN])
{
    struct builder *b;

    *out = NULL;
    if (part_power < 1 || part_power > 32) {
        snprintf(err, BUILDER_ERRLEN,
                 "part_power must be between 1 and 32 (was %d)", part_power);
        return -EINVAL;
    }
    if (!(replicas >= 1) || replicas > BUILDER_MAX_DEVS) {
        snprintf(err, BUILDER_ERRLEN,
                 "replicas must be at least 1 (was %.6f)", replicas);
        return -EINVAL;
    }
    if (min_part_hours < 0 || min_part_hours > 0xff) {
        snprintf(err, BUILDER_ERRLEN,
                 "min_part_hours must be between 0 and 255 (was %d)",
                 min_part_hours);
        return -EINVAL;
    }
    b = calloc(1, sizeof(*b));
    if (!b)
        return -ENOMEM;
    b->part_power = part_power;
    b->replicas = replicas;
    b->min_part_hours = min_part_hours;
    b->parts = (uint64_t)1 << part_power;
    b->dispersion = -1;
    b->last_part_moves = calloc(b->parts, 1);
    if (!b->last_part_moves) {
        free(b);
        return -ENOMEM;
    }
    *out = b;
    return 0;
}

void builder_free(struct builder *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->n_devs; i++) {
        if (b->devs[i])
            ring_dev_release(&b->devs[i]->d);
        free(b->devs[i]);
    }
    free(b->devs);
    for (size_t r = 0; r < b->n_replica_arrays; r++)
        free(b->replica2part2dev[r]);
    free(b->replica2part2dev);
    free(b->replica_parts);
    free(b->last_part_moves);
    free(b);
}

int builder_clone(const struct builder *b, struct builder **out)
{
    struct builder *c = calloc(1, sizeof(*c));

    *out = NULL;
    if (!c)
        return -ENOMEM;
    *c = *b;
    c->devs = NULL;
    c->n_devs = 0;
    c->replica2part2dev = NULL;
    c->replica_parts = NULL;
    c->n_replica_arrays = 0;
    c->last_part_moves = malloc(b->parts);
    c->devs = calloc(b->n_devs + 1, sizeof(*c->devs));
    if (!c->last_part_moves || !c->devs)
        goto fail;
    memcpy(c->last_part_moves, b->last_part_moves, b->parts);
    c->n_devs = b->n_devs;
    for (size_t i = 0; i < b->n_devs; i++) {
        if (!b->devs[i])
            continue;
        c->devs[i] = calloc(1, sizeof(**c->devs));
        if (!c->devs[i])
            goto fail;
        *c->devs[i] = *b->devs[i];
        if (ring_dev_copy(&c->devs[i]->d, &b->devs[i]->d)) {
            free(c->devs[i]);
            c->devs[i] = NULL;
            goto fail;
        }
    }
    if (b->replica2part2dev) {
        c->replica2part2dev =
            calloc(b->n_replica_arrays, sizeof(*c->replica2part2dev));
        c->replica_parts = calloc(b->n_replica_arrays, sizeof(size_t));
        if (!c->replica2part2dev || !c->replica_parts)
            goto fail;
        c->n_replica_arrays = b->n_replica_arrays;
        for (size_t r = 0; r < b->n_replica_arrays; r++) {
            size_t len = b->replica_parts[r] * sizeof(uint16_t);
            c->replica2part2dev[r] = malloc(len ? len : 1);
            if (!c->replica2part2dev[r])
                goto fail;
            memcpy(c->replica2part2dev[r], b->replica2part2dev[r], len);
            c->replica_parts[r] = b->replica_parts[r];
        }
    }
    *out = c;
    return 0;
fail:
    builder_free(c);
    return -ENOMEM;
}

static const char *dev_label(const struct ring_dev *d, char *buf, size_t len)
{
    int v6 = ring_dev_ip_is_v6(d->ip);

    snprintf(buf, len, "%s%s%s:%d/%s", v6 ? "[" : "", d->ip, v6 ? "]" : "",
             d->port, d->device);
    return buf;
}

/* Another device with the same ip:port/device as 'd', or NULL. */
static const struct builder_dev *find_twin(const struct builder *b,
                                           const struct ring_dev *d,
                                           int self)
{
    for (size_t i = 0; i < b->n_devs; i++) {
        const struct builder_dev *o = b->devs[i];
        if (o && (int)i != self && o->d.port == d->port &&
            strcmp(o->d.ip, d->ip) == 0 && strcmp(o->d.device, d->device) == 0)
            return o;
    }
    return NULL;
}

/* Checks everything about a device but its id; normalizes the ips. */
static int check_dev(struct ring_dev *d, char err[BUILDER_ERRLEN])
{
    char ip[RING_DEV_IP_MAX + 1];

    if (!(d->weight >= 0) || isinf(d->weight)) {
        snprintf(err, BUILDER_ERRLEN, "invalid weight %g: must be a "
                                      "non-negative number", d->weight);
        return -EINVAL;
    }
    if (d->region < 0 || d->zone < 0) {
        snprintf(err, BUILDER_ERRLEN, "invalid region/zone r%dz%d",
                 d->region, d->zone);
        return -EINVAL;
    }
    if (!d->ip || ring_dev_normalize_ip(d->ip, ip)) {
        snprintf(err, BUILDER_ERRLEN, "invalid ip address '%s'",
                 d->ip ? d->ip : "");
        return -EINVAL;
    }
    if (d->port < 1 || d->port > 65535 || d->replication_port < 1 ||
        d->replication_port > 65535) {
        snprintf(err, BUILDER_ERRLEN, "invalid port %d",
                 d->port < 1 || d->port > 65535 ? d->port
                                                : d->replication_port);
        return -EINVAL;
    }
    if (!d->device || !d->device[0] || d->device[0] == ' ' ||
        d->device[strlen(d->device) - 1] == ' ' || strchr(d->device, '/') ||
        strlen(d->device) > RING_DEV_NAME_MAX) {
        snprintf(err, BUILDER_ERRLEN, "invalid device name '%s'",
                 d->device ? d->device : "");
        return -EINVAL;
    }
    strcpy(d->ip, ip); /* normalizing never lengthens */
    if (!d->replication_ip || ring_dev_normalize_ip(d->replication_ip, ip)) {
        snprintf(err, BUILDER_ERRLEN, "invalid replication ip address '%s'",
                 d->replication_ip ? d->replication_ip : "");
        return -EINVAL;
    }
    strcpy(d->replication_ip, ip);
    return 0;
}

int builder_add_dev(struct builder *b, const struct ring_dev *dev,
                    int *id_out, char err[BUILDER_ERRLEN])
{
    struct builder_dev *bd;
    const struct builder_dev *twin;
    char label[RING_DEV_IP_MAX + RING_DEV_NAME_MAX + 16];
    int id = dev->id, rc;

    if (id < 0)
        for (id = 0; (size_t)id < b->n_devs && b->devs[id]; id++)
            ;
    if (id >= BUILDER_MAX_DEVS) {
        snprintf(err, BUILDER_ERRLEN, "device id %d is too large (at most "
                                      "%d)", id, BUILDER_MAX_DEVS - 1);
        return -EINVAL;
    }
    if ((size_t)id < b->n_devs && b->devs[id]) {
        snprintf(err, BUILDER_ERRLEN, "duplicate device id: %d", id);
        return -EEXIST;
    }
    bd = calloc(1, sizeof(*bd));
    if (!bd)
        return -ENOMEM;
    if (ring_dev_copy(&bd->d, dev)) {
        free(bd);
        return -ENOMEM;
    }
    bd->d.id = id;
    rc = check_dev(&bd->d, err);
    if (!rc && (twin = find_twin(b, &bd->d, -1))) {
        snprintf(err, BUILDER_ERRLEN, "device %d already uses %.200s", twin->d.id,
                 dev_label(&twin->d, label, sizeof(label)));
        rc = -EEXIST;
    }
    if (!rc && (size_t)id >= b->n_devs) {
        struct builder_dev **devs =
            realloc(b->devs, sizeof(*devs) * ((size_t)id + 1));
        if (!devs) {
            rc = -ENOMEM;
        } else {
            memset(devs + b->n_devs, 0,
                   sizeof(*devs) * ((size_t)id + 1 - b->n_devs));
            b->devs = devs;
            b->n_devs = (size_t)id + 1;
        }
    }
    if (rc) {
        ring_dev_release(&bd->d);
        free(bd);
        return rc;
    }
    b->devs[id] = bd;
    b->devs_changed = true;
    b->version++;
    if (id_out)
        *id_out = id;
    return 0;
}

static struct builder_dev *lookup(struct builder *b, int id,
                                  char err[BUILDER_ERRLEN])
{
    if (id < 0 || (size_t)id >= b->n_devs || !b->devs[id]) {
        snprintf(err, BUILDER_ERRLEN, "no device with id %d", id);
        return NULL;
    }
    return b->devs[id];
}

/* Weight, region and zone of a device leaving the ring are frozen. */
static struct builder_dev *lookup_staying(struct builder *b, int id,
                                          const char *what,
                                          char err[BUILDER_ERRLEN])
{
    struct builder_dev *bd = lookup(b, id, err);

    if (bd && bd->removing) {
        snprintf(err, BUILDER_ERRLEN, "cannot set %s of dev_id %d because "
                                      "it is marked for removal", what, id);
        return NULL;
    }
    return bd;
}

int builder_remove_dev(struct builder *b, int id, char err[BUILDER_ERRLEN])
{
    struct builder_dev *bd = lookup(b, id, err);

    if (!bd)
        return -ENOENT;
    bd->d.weight = 0;
    bd->removing = true;
    b->devs_changed = true;
    b->version++;
    return 0;
}

int builder_set_dev_weight(struct builder *b, int id, double weight,
                           char err[BUILDER_ERRLEN])
{
    struct builder_dev *bd = lookup_staying(b, id, "weight", err);

    if (!bd)
        return -ENOENT;
    if (!(weight >= 0) || isinf(weight)) {
        snprintf(err, BUILDER_ERRLEN, "invalid weight %g: must be a "
                                      "non-negative number", weight);
        return -EINVAL;
    }
    bd->d.weight = weight;
    b->devs_changed = true;
    b->version++;
    return 0;
}

int builder_set_dev_region(struct builder *b, int id, int region,
                           char err[BUILDER_ERRLEN])
{
    struct builder_dev *bd = lookup_staying(b, id, "region", err);

    if (!bd)
        return -ENOENT;
    if (region < 0) {
        snprintf(err, BUILDER_ERRLEN, "invalid region %d", region);
        return -EINVAL;
    }
    bd->d.region = region;
    b->devs_changed = true;
    b->version++;
    return 0;
}

int builder_set_dev_zone(struct builder *b, int id, int zone,
                         char err[BUILDER_ERRLEN])
{
    struct builder_dev *bd = lookup_staying(b, id, "zone", err);

    if (!bd)
        return -ENOENT;
    if (zone < 0) {
        snprintf(err, BUILDER_ERRLEN, "invalid zone %d", zone);
        return -EINVAL;
    }
    bd->d.zone = zone;
    b->devs_changed = true;
    b->version++;
    return 0;
}

int builder_set_dev_info(struct builder *b, int id,
                         const struct ring_dev *info,
                         char err[BUILDER_ERRLEN])
{
    struct builder_dev *bd = lookup(b, id, err);
    const struct builder_dev *twin;
    char label[RING_DEV_IP_MAX + RING_DEV_NAME_MAX + 16];
    struct ring_dev nd;
    int rc;

    if (!bd)
        return -ENOENT;
    if (ring_dev_copy(&nd, info))
        return -ENOMEM;
    nd.id = id;
    nd.region = bd->d.region;
    nd.zone = bd->d.zone;
    nd.weight = bd->d.weight;
    rc = check_dev(&nd, err);
    if (!rc && (twin = find_twin(b, &nd, id))) {
        snprintf(err, BUILDER_ERRLEN, "device %d already uses %.200s", twin->d.id,
                 dev_label(&twin->d, label, sizeof(label)));
        rc = -EEXIST;
    }
    if (rc) {
        ring_dev_release(&nd);
        return rc;
    }
    ring_dev_release(&bd->d);
    bd->d = nd;
    return 0;
}

int builder_set_replicas(struct builder *b, double replicas,
                         char err[BUILDER_ERRLEN])
{
    if (!(replicas >= 1) || replicas > BUILDER_MAX_DEVS) {
        snprintf(err, BUILDER_ERRLEN,
                 "replicas must be at least 1 (was %.6f)", replicas);
        return -EINVAL;
    }
    if ((long long)(b->parts * b->replicas) !=
        (long long)(b->parts * replicas))
        b->devs_changed = true;
    b->replicas = replicas;
    return 0;
}

int builder_set_overload(struct builder *b, double overload,
                         char err[BUILDER_ERRLEN])
{
    if (!(overload >= 0) || isinf(overload)) {
        snprintf(err, BUILDER_ERRLEN, "invalid overload %g: must be a "
                                      "non-negative number", overload);
        return -EINVAL;
    }
    b->overload = overload;
    return 0;
}

int builder_set_min_part_hours(struct builder *b, int hours,
                               char err[BUILDER_ERRLEN])
{
    if (hours < 0 || hours > 0xff) {
        snprintf(err, BUILDER_ERRLEN,
                 "min_part_hours must be between 0 and 255 (was %d)", hours);
        return -EINVAL;
    }
    b->min_part_hours = hours;
    return 0;
}

void builder_pretend_min_part_hours_passed(struct builder *b)
{
    b->last_part_moves_epoch = 0;
    memset(b->last_part_moves, 0xff, b->parts);
}

long builder_min_part_seconds_left(const struct builder *b)
{
    long elapsed = (long)(time(NULL) - b->last_part_moves_epoch);
    long left = (long)b->min_part_hours * 3600 - elapsed;

    return left > 0 ? left : 0;
}

static double total_weight(const struct builder *b)
{
    double w = 0;

    for (size_t i = 0; i < b->n_devs; i++)
        if (b->devs[i])
            w += b->devs[i]->d.weight;
    return w;
}

/* Percent by which a device's parts differ from its weight's share. */
static double balance_of(const struct builder_dev *bd, double part_weight)
{
    if (bd->d.weight <= 0)
        return bd->parts ? BUILDER_MAX_BALANCE : 0;
    return 100.0 * (double)bd->parts / (bd->d.weight * part_weight) - 100.0;
}

double builder_dev_balance(const struct builder *b, int id)
{
    double w = total_weight(b);

    if (w <= 0 || id < 0 || (size_t)id >= b->n_devs || !b->devs[id])
        return 0;
    return balance_of(b->devs[id], b->parts * b->replicas / w);
}

double builder_get_balance(const struct builder *b)
{
    double w = total_weight(b), worst = 0;

    if (w <= 0)
        return 0;
    for (size_t i = 0; i < b->n_devs; i++) {
        double bal;
        if (!b->devs[i])
            continue;
        bal = fabs(balance_of(b->devs[i], b->parts * b->replicas / w));
        if (bal > worst)
            worst = bal;
    }
    return worst;
}

void builder_counts(const struct builder *b, int *regions, int *zones,
                    int *devices)
{
    int nr = 0, nz = 0, nd = 0;

    for (size_t i = 0; i < b->n_devs; i++) {
        const struct builder_dev *d = b->devs[i];
        int new_region = 1, new_zone = 1;
        if (!d)
            continue;
        nd++;
        for (size_t j = 0; j < i; j++) {
            const struct builder_dev *o = b->devs[j];
            if (!o || o->d.region != d->d.region)
                continue;
            new_region = 0;
            if (o->d.zone == d->d.zone)
                new_zone = 0;
        }
        nr += new_region;
        nz += new_zone;
    }
    *regions = nr;
    *zones = nz;
    *devices = nd;
}

int builder_validate(const struct builder *b, char err[BUILDER_ERRLEN])
{
    long *count;
    int rc = 0;

    if (!b->replica2part2dev) {
        snprintf(err, BUILDER_ERRLEN,
                 "replica2part2dev empty; did you forget to rebalance?");
        return -EINVAL;
    }
    count = calloc(b->n_devs + 1, sizeof(*count));
    if (!count)
        return -ENOMEM;
    for (size_t r = 0; r < b->n_replica_arrays && !rc; r++) {
        if (r + 1 < b->n_replica_arrays && b->replica_parts[r] != b->parts) {
            snprintf(err, BUILDER_ERRLEN, "the partition assignments of "
                     "replica %zu were shorter than expected (%zu < %llu)",
                     r, b->replica_parts[r], (unsigned long long)b->parts);
            rc = -EINVAL;
        }
        for (size_t p = 0; p < b->replica_parts[r] && !rc; p++) {
            uint16_t id = b->replica2part2dev[r][p];
            if (id >= b->n_devs || !b->devs[id]) {
                snprintf(err, BUILDER_ERRLEN, "partition %zu, replica %zu "
                         "was not allocated to a device", p, r);
                rc = -EINVAL;
                break;
            }
            count[id]++;
            for (size_t o = 0; o < r; o++) {
                if (b->replica2part2dev[o][p] == id) {
                    snprintf(err, BUILDER_ERRLEN, "the partition %zu has "
                             "been assigned to duplicate devices", p);
                    rc = -EINVAL;
                    break;
                }
            }
        }
    }
    for (size_t i = 0; i < b->n_devs && !rc; i++) {
        if (b->devs[i] && b->devs[i]->parts != count[i]) {
            snprintf(err, BUILDER_ERRLEN, "all partitions are not double "
                     "accounted for: device %zu has %ld, counts %ld", i,
                     b->devs[i]->parts, count[i]);
            rc = -EINVAL;
        }
    }
    free(count);
    return rc;
}

int builder_get_ring(const struct builder *b, struct ring_data *out)
{
    memset(out, 0, sizeof(*out));
    out->version = b->version;
    out->next_part_power = -1;
    out->part_shift = (unsigned)(32 - b->part_power);
    if (!b->replica2part2dev)
        return -EINVAL;
    out->devs = calloc(b->n_devs + 1, sizeof(*out->devs));
    out->replica2part2dev = calloc(b->n_replica_arrays,
                                   sizeof(*out->replica2part2dev));
    out->replica_parts = calloc(b->n_replica_arrays, sizeof(size_t));
    if (!out->devs || !out->replica2part2dev || !out->replica_parts)
        goto fail;
    out->n_devs = b->n_devs;
    for (size_t i = 0; i < b->n_devs; i++) {
        if (!b->devs[i])
            continue;
        out->devs[i] = calloc(1, sizeof(**out->devs));
        if (!out->devs[i] || ring_dev_copy(out->devs[i], &b->devs[i]->d)) {
            free(out->devs[i]);
            out->devs[i] = NULL;
            goto fail;
        }
    }
    out->n_replicas = b->n_replica_arrays;
    for (size_t r = 0; r < b->n_replica_arrays; r++) {
        size_t len = b->replica_parts[r] * sizeof(uint16_t);
        out->replica2part2dev[r] = malloc(len ? len : 1);
        if (!out->replica2part2dev[r])
            goto fail;
        memcpy(out->replica2part2dev[r], b->replica2part2dev[r], len);
        out->replica_parts[r] = b->replica_parts[r];
    }
    return 0;
fail:
    ring_data_release(out);
    return -ENOMEM;
}
