/*
 * dry_run.c - the movement a rebalance would cause, measured.
 *
 * A partition replica moves when a device holds the partition after the
 * rebalance but not before: the replica's row in replica2part2dev does not
 * matter (a partition that only swapped rows moves no data). Per partition
 * the devices that lose it are paired, in order, with those that gain it
 * to give the from -> to pairs; a gain with no loss is a new replica
 * (copied from a device that keeps it), a loss with no gain a dropped one.
 */
#include "tools/ring_cli/dry_run.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/ring_cli/opts.h"
#include "tools/ring_cli/ring_cli.h"

#define NO_DEV (-1)

struct dev_move {
    long gained, lost;
    double bytes_in, bytes_out; /* estimated; with a usage file only */
};

struct move_pair {
    int from, to; /* NO_DEV: new or dropped replica */
    long count;
};

struct movement {
    const struct builder *before;
    struct dev_move *devs;  /* indexed by id, before->n_devs long */
    double *bytes_per_part; /* per id; < 0: unknown */
    struct move_pair *pairs;
    size_t n_pairs;
    long moved, unknown_bytes;
    uint64_t touched_parts;
};

/* The devices holding 'part' in 'b', each once. Returns how many. */
static int holders(const struct builder *b, uint64_t part, int *out, int max)
{
    int n = 0;

    for (size_t r = 0; b->replica2part2dev && r < b->n_replica_arrays; r++) {
        uint16_t id;
        bool seen = false;

        if (part >= b->replica_parts[r])
            continue;
        id = b->replica2part2dev[r][part];
        if (id == BUILDER_NONE_DEV)
            continue;
        for (int i = 0; i < n; i++)
            seen |= out[i] == id;
        if (!seen && n < max)
            out[n++] = id;
    }
    return n;
}

static bool contains(const int *set, int n, int id)
{
    for (int i = 0; i < n; i++)
        if (set[i] == id)
            return true;
    return false;
}

static int add_pair(struct movement *m, int from, int to)
{
    struct move_pair *grown;

    for (size_t i = 0; i < m->n_pairs; i++) {
        if (m->pairs[i].from == from && m->pairs[i].to == to) {
            m->pairs[i].count++;
            return 0;
        }
    }
    grown = realloc(m->pairs, (m->n_pairs + 1) * sizeof(*grown));
    if (!grown)
        return -ENOMEM;
    m->pairs = grown;
    m->pairs[m->n_pairs++] = (struct move_pair){from, to, 1};
    return 0;
}

/* Bytes one replica of a partition on 'id' holds; < 0 when unknown. */
static double replica_bytes(const struct movement *m, int id)
{
    if (id == NO_DEV || (size_t)id >= m->before->n_devs)
        return -1;
    return m->bytes_per_part[id];
}

static void account_bytes(struct movement *m, int from, int to, int source)
{
    double bytes = replica_bytes(m, source);

    if (bytes < 0) {
        m->unknown_bytes++;
        return;
    }
    if (from != NO_DEV)
        m->devs[from].bytes_out += bytes;
    m->devs[to].bytes_in += bytes;
}

static int compare_part(struct movement *m, const struct builder *after,
                        uint64_t part)
{
    int old[64], new[64], lost[64], gained[64];
    int n_old = holders(m->before, part, old, 64);
    int n_new = holders(after, part, new, 64);
    int n_lost = 0, n_gained = 0;

    for (int i = 0; i < n_old; i++)
        if (!contains(new, n_new, old[i]))
            lost[n_lost++] = old[i];
    for (int i = 0; i < n_new; i++)
        if (!contains(old, n_old, new[i]))
            gained[n_gained++] = new[i];
    if (n_lost || n_gained)
        m->touched_parts++;
    for (int i = 0; i < n_lost || i < n_gained; i++) {
        int from = i < n_lost ? lost[i] : NO_DEV;
        int to = i < n_gained ? gained[i] : NO_DEV;

        if (add_pair(m, from, to))
            return -ENOMEM;
        if (from != NO_DEV)
            m->devs[from].lost++;
        if (to == NO_DEV)
            continue; /* a dropped replica copies nothing */
        m->devs[to].gained++;
        m->moved++;
        /* a new replica is copied from a device that keeps the part */
        account_bytes(m, from, to,
                      from != NO_DEV ? from : (n_old ? old[0] : NO_DEV));
    }
    return 0;
}

static int load_usage(struct movement *m, const char *path)
{
    const struct builder *b = m->before;
    json_error_t jerr;
    json_t *doc, *value;
    const char *key;
    int rc = CLI_OK;

    for (size_t i = 0; i < b->n_devs; i++)
        m->bytes_per_part[i] = -1;
    if (!path)
        return CLI_OK;
    doc = json_load_file(path, 0, &jerr);
    if (!doc)
        return cli_error("cannot read usage file '%s': line %d: %s", path,
                         jerr.line, jerr.text);
    if (!json_is_object(doc)) {
        json_decref(doc);
        return cli_error("usage file '%s': want a JSON object of device id "
                         "to bytes used",
                         path);
    }
    json_object_foreach(doc, key, value)
    {
        long id;
        double bytes = json_number_value(value);

        if (opts_long(key, 0, (long)b->n_devs - 1, &id) || !b->devs[id]) {
            rc =
                cli_error("usage file '%s': no device with id '%s'", path, key);
            break;
        }
        if (!json_is_number(value) || bytes < 0) {
            rc = cli_error("usage file '%s': bytes for device %s must be a "
                           "number >= 0",
                           path, key);
            break;
        }
        m->bytes_per_part[id] =
            b->devs[id]->parts ? bytes / (double)b->devs[id]->parts : 0;
    }
    json_decref(doc);
    return rc;
}

/* "  447.6 MiB": 13 columns, to line up in the device table */
static void print_bytes(double bytes)
{
    static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    int u = 0;

    while (bytes >= 1024 && u < 5) {
        bytes /= 1024;
        u++;
    }
    printf(" %8.1f %-3s", bytes, units[u]);
}

static int cmp_pair(const void *pa, const void *pb)
{
    const struct move_pair *a = pa, *b = pb;

    if (a->count != b->count)
        return a->count > b->count ? -1 : 1;
    if (a->from != b->from)
        return a->from < b->from ? -1 : 1;
    return a->to < b->to ? -1 : a->to > b->to;
}

static void print_devices(const struct movement *m, const struct builder *after,
                          bool with_bytes)
{
    printf("%6s %-32s %10s %10s %10s %10s%s\n", "id", "device", "before",
           "after", "gained", "lost",
           with_bytes ? "      bytes in     bytes out" : "");
    for (size_t i = 0; i < m->before->n_devs; i++) {
        const struct builder_dev *bd = m->before->devs[i];
        const struct dev_move *dm = &m->devs[i];
        char label[RING_DEV_IP_MAX + RING_DEV_NAME_MAX + 32];
        long parts_after =
            i < after->n_devs && after->devs[i] ? after->devs[i]->parts : 0;

        if (!bd || (!dm->gained && !dm->lost))
            continue;
        snprintf(label, sizeof(label),
                 ring_dev_ip_is_v6(bd->d.ip) ? "r%dz%d-[%s]:%d/%s"
                                             : "r%dz%d-%s:%d/%s",
                 bd->d.region, bd->d.zone, bd->d.ip, bd->d.port, bd->d.device);
        printf("%6zu %-32s %10ld %10ld %+10ld %10ld", i, label, bd->parts,
               parts_after, dm->gained, -dm->lost);
        if (with_bytes) {
            print_bytes(dm->bytes_in);
            print_bytes(dm->bytes_out);
        }
        putchar('\n');
    }
}

static void print_pairs(struct movement *m)
{
    qsort(m->pairs, m->n_pairs, sizeof(*m->pairs), cmp_pair);
    puts("Moves (from -> to: partition replicas):");
    for (size_t i = 0; i < m->n_pairs; i++) {
        const struct move_pair *p = &m->pairs[i];
        char from[16] = "new", to[16] = "dropped";

        if (p->from != NO_DEV)
            snprintf(from, sizeof(from), "d%d", p->from);
        if (p->to != NO_DEV)
            snprintf(to, sizeof(to), "d%d", p->to);
        printf("    %s -> %s: %ld\n", from, to, p->count);
    }
}

static void print_report(struct movement *m, const struct builder *after,
                         const char *usage_file)
{
    uint64_t parts = 1ULL << after->part_power;
    double slots = (double)parts * after->replicas;
    double total = 0;

    printf("Partition replicas that would move: %ld of %.0f (%.02f%%) in "
           "%llu of %llu partitions\n",
           m->moved, slots, slots > 0 ? 100.0 * (double)m->moved / slots : 0,
           (unsigned long long)m->touched_parts, (unsigned long long)parts);
    if (!m->moved && !m->n_pairs)
        return;
    print_devices(m, after, usage_file != NULL);
    print_pairs(m);
    if (!usage_file)
        return;
    for (size_t i = 0; i < m->before->n_devs; i++)
        total += m->devs[i].bytes_in;
    fputs("Estimated bytes to move:", stdout);
    print_bytes(total);
    printf(" (%.0f bytes)", total);
    if (m->unknown_bytes)
        printf("; %ld partition replicas from devices not in the usage file "
               "not counted",
               m->unknown_bytes);
    putchar('\n');
}

int dry_run_report(const struct builder *before, const struct builder *after,
                   const char *usage_file)
{
    struct movement m = {.before = before};
    size_t n = before->n_devs ? before->n_devs : 1;
    int rc = CLI_ERROR;

    m.devs = calloc(n, sizeof(*m.devs));
    m.bytes_per_part = calloc(n, sizeof(*m.bytes_per_part));
    if (!m.devs || !m.bytes_per_part) {
        rc = cli_error("out of memory");
        goto out;
    }
    if (load_usage(&m, usage_file) != CLI_OK)
        goto out;
    if (!before->replica2part2dev) {
        puts("Initial placement: the builder was never rebalanced, so no "
             "data moves.");
        rc = CLI_OK;
        goto out;
    }
    for (uint64_t p = 0; p < (1ULL << before->part_power); p++) {
        if (compare_part(&m, after, p)) {
            rc = cli_error("out of memory");
            goto out;
        }
    }
    print_report(&m, after, usage_file);
    rc = CLI_OK;
out:
    free(m.devs);
    free(m.bytes_per_part);
    free(m.pairs);
    return rc;
}
