/*
 * cmd_info.c - the read-only commands: the summary (no command), search
 * and list_parts. None of them writes anything.
 */
#include "tools/ring_cli/ring_cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tools/ring_cli/dev_search.h"
#include "tools/ring_cli/device_table.h"
#include "tools/ring_cli/pyfmt.h"
#include "tools/ring_cli/search_value.h"

static bool str_equal(const char *a, const char *b)
{
    return !strcmp(a ? a : "", b ? b : "");
}

static bool dev_equal(const struct ring_dev *a, const struct ring_dev *b)
{
    if (!a || !b)
        return a == b;
    return a->id == b->id && a->region == b->region && a->zone == b->zone &&
           str_equal(a->ip, b->ip) && a->port == b->port &&
           str_equal(a->replication_ip, b->replication_ip) &&
           a->replication_port == b->replication_port &&
           str_equal(a->device, b->device) && a->weight == b->weight &&
           str_equal(a->meta, b->meta);
}

/* Swift compares RingData.to_dict() of the builder and of the file. */
static bool ring_equal(const struct ring_data *a, const struct ring_data *b)
{
    if (a->n_devs != b->n_devs || a->part_shift != b->part_shift ||
        a->n_replicas != b->n_replicas || a->version != b->version ||
        a->next_part_power != b->next_part_power)
        return false;
    for (size_t i = 0; i < a->n_devs; i++)
        if (!dev_equal(a->devs[i], b->devs[i]))
            return false;
    for (size_t r = 0; r < a->n_replicas; r++)
        if (a->replica_parts[r] != b->replica_parts[r] ||
            memcmp(a->replica2part2dev[r], b->replica2part2dev[r],
                   a->replica_parts[r] * sizeof(uint16_t)))
            return false;
    return true;
}

static void print_ring_file_status(const struct cli *cli)
{
    struct ring_data built = {0}, on_disk = {0};
    char err[RINGFILE_ERRLEN] = "";
    struct stat st;
    int rc;

    if (stat(cli->ring_file, &st) == -1 && errno == ENOENT) {
        printf("Ring file %s not found, probably it hasn't been written "
               "yet\n",
               cli->ring_file);
        return;
    }
    rc = ringfile_read(cli->ring_file, &on_disk, err);
    if (rc) {
        printf("Ring file %s is invalid: %s\n", cli->ring_file,
               err[0] ? err : strerror(-rc));
        return;
    }
    /* a builder never rebalanced has no ring: any file is obsolete */
    if (builder_get_ring(cli->b, &built) == 0 && ring_equal(&built, &on_disk))
        printf("Ring file %s is up-to-date\n", cli->ring_file);
    else
        printf("Ring file %s is obsolete\n", cli->ring_file);
    ring_data_release(&built);
    ring_data_release(&on_disk);
}

static bool has_weight(const struct builder *b)
{
    for (size_t i = 0; i < b->n_devs; i++)
        if (b->devs[i] && b->devs[i]->d.weight > 0)
            return true;
    return false;
}

static int run_default(struct cli *cli)
{
    const struct builder *b = cli->b;
    char left[PYFMT_TIMEDELTA_LEN];
    int regions, zones, devices;

    printf("%s, build version %ld, id %s\n", cli->builder_file, b->version,
           b->id[0] ? b->id : "(not assigned)");
    builder_counts(b, &regions, &zones, &devices);
    printf("%llu partitions, %.6f replicas, %d regions, %d zones, "
           "%d devices, %.02f balance, %.02f dispersion\n",
           1ULL << b->part_power, b->replicas, regions, zones, devices,
           builder_get_balance(b), b->dispersion < 0 ? 0 : b->dispersion);
    printf("The minimum number of hours before a partition can be "
           "reassigned is %d (%s remaining)\n",
           b->min_part_hours,
           pyfmt_timedelta(builder_min_part_seconds_left(b), left));
    printf("The overload factor is %0.2f%% (%.6f)\n", b->overload * 100,
           b->overload);
    print_ring_file_status(cli);
    device_table_print(stdout, b);
    if (!has_weight(b))
        puts("There are no devices in this ring, or all devices have been "
             "deleted");
    return CLI_OK;
}

const struct cli_cmd cmd_default = {
    .name = "default",
    .run = run_default,
    .usage =
        "kura-ring <builder_file>\n"
        "    Shows information about the ring and the devices within. "
        "Output\n"
        "    includes a table that describes the report parameters (id, "
        "region,\n"
        "    port, flags, etc).\n"
        "    flags: possible values are 'DEL' and ''\n"
        "        DEL - indicates that the device is marked for removal from\n"
        "              ring and will be removed in next rebalance.\n",
};

/* search and list_parts: finding no device is an error. */
static int find_devs(const struct cli *cli, bool one_value,
                     struct dev_list *out)
{
    int rc = dev_search_args(cli, one_value, out, NULL);

    if (rc == CLI_OK && !out->n)
        rc = cli_error("No matching devices found");
    return rc;
}

static int run_search(struct cli *cli)
{
    struct dev_list found = {0};
    int rc;

    if (cli->argc < 1)
        return cli_usage_error(cli, "search: missing search value");
    rc = find_devs(cli, true, &found);
    if (rc == CLI_OK)
        device_table_print_search(stdout, cli->b,
                                  (const struct builder_dev *const *)found.devs,
                                  found.n);
    dev_list_release(&found);
    return rc;
}

const struct cli_cmd cmd_search = {
    .name = "search",
    .run = run_search,
    .search_help = true,
    .usage = "kura-ring <builder_file> search <search-value>\n"
             "\n"
             "or\n"
             "\n"
             "kura-ring <builder_file> search\n" DEV_SEARCH_USAGE_OPTIONS
             "    --device <device_name> --meta <meta> --weight <weight>\n"
             "\n" DEV_SEARCH_USAGE_WHERE "\n"
             "    Shows information about matching devices.\n",
};

struct part_count {
    uint32_t part;
    uint32_t first_replica; /* Python's dict keeps first-seen order */
    long count;
};

static int cmp_part_count(const void *pa, const void *pb)
{
    const struct part_count *a = pa, *b = pb;

    if (a->count != b->count)
        return a->count > b->count ? -1 : 1;
    if (a->first_replica != b->first_replica)
        return a->first_replica < b->first_replica ? -1 : 1;
    return a->part < b->part ? -1 : a->part > b->part;
}

/* Swift's _find_parts: partitions with a replica on any of 'devs', most
 * matches first, ties in the order Swift's dict first saw them. */
static int print_parts(const struct builder *b, const struct dev_list *devs)
{
    size_t n_parts = (size_t)1 << b->part_power, n = 0;
    struct part_count *counts = calloc(n_parts, sizeof(*counts));
    bool *matches = calloc(b->n_devs ? b->n_devs : 1, sizeof(*matches));

    if (!counts || !matches) {
        free(counts);
        free(matches);
        return cli_error("out of memory");
    }
    for (size_t i = 0; i < devs->n; i++)
        matches[devs->devs[i]->d.id] = true;
    for (size_t r = 0; r < b->n_replica_arrays; r++) {
        for (size_t p = 0; p < b->replica_parts[r]; p++) {
            uint16_t id = b->replica2part2dev[r][p];

            if (id >= b->n_devs || !matches[id])
                continue;
            if (!counts[p].count)
                counts[p] = (struct part_count){(uint32_t)p, (uint32_t)r, 0};
            counts[p].count++;
        }
    }
    for (size_t p = 0; p < n_parts; p++)
        if (counts[p].count)
            counts[n++] = counts[p];
    qsort(counts, n, sizeof(*counts), cmp_part_count);
    if (n)
        puts("Partition   Matches");
    for (size_t i = 0; i < n; i++)
        printf("%9u   %7ld\n", counts[i].part, counts[i].count);
    free(counts);
    free(matches);
    return n ? CLI_OK : cli_error("No matching devices found");
}

static int run_list_parts(struct cli *cli)
{
    struct dev_list found = {0};
    int rc;

    if (cli->argc < 1)
        return cli_usage_error(cli, "list_parts: missing search value");
    if (!cli->b->replica2part2dev)
        return cli_error("Specified builder file \"%s\" is not rebalanced "
                         "yet. Please rebalance first.",
                         cli->builder_file);
    rc = find_devs(cli, false, &found);
    if (rc == CLI_OK)
        rc = print_parts(cli->b, &found);
    dev_list_release(&found);
    return rc;
}

const struct cli_cmd cmd_list_parts = {
    .name = "list_parts",
    .run = run_list_parts,
    .search_help = true,
    .usage =
        "kura-ring <builder_file> list_parts <search-value> "
        "[<search-value>] ..\n"
        "\n"
        "or\n"
        "\n"
        "kura-ring <builder_file> list_parts\n" DEV_SEARCH_USAGE_OPTIONS
        "    --device <device_name> --meta <meta> --weight <weight>\n"
        "\n" DEV_SEARCH_USAGE_WHERE "\n"
        "    Returns a 2 column list of all the partitions that are assigned "
        "to any of\n"
        "    the devices matching the search values given. The first column "
        "is the\n"
        "    assigned partition number and the second column is the number "
        "of device\n"
        "    matches for that partition. The list is ordered from most "
        "number of matches\n"
        "    to least. If there are a lot of devices to match against, this "
        "command\n"
        "    could take a while to run.\n",
};
