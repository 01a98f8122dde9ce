/*
 * cmd_devs.c - adding and removing devices: add and remove.
 *
 * Both edit the builder in memory for every value given and save once at
 * the end, so a bad value anywhere leaves the builder file unchanged.
 */
#include "tools/ring_cli/ring_cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/ring_cli/dev_search.h"
#include "tools/ring_cli/device_table.h"
#include "tools/ring_cli/pyfmt.h"
#include "tools/ring_cli/search_value.h"

/* Swift checks this itself to name the device already there. */
static int check_unused(const struct builder *b, const struct dev_spec *s)
{
    for (size_t i = 0; i < b->n_devs; i++) {
        const struct ring_dev *d = b->devs[i] ? &b->devs[i]->d : NULL;

        if (d && !strcmp(d->ip, s->ip) && d->port == s->port &&
            !strcmp(d->device, s->device))
            return cli_error("Device %d already uses %s:%d/%s. The on-disk "
                             "ring builder is unchanged.",
                             d->id, d->ip, d->port, d->device);
    }
    return CLI_OK;
}

static int add_one(struct builder *b, struct dev_spec *spec)
{
    char err[BUILDER_ERRLEN], line[DEVICE_TABLE_LINE_MAX];
    char weight[PYFMT_FLOAT_LEN];
    struct ring_dev dev = {.id = -1};
    int id;

    if (check_unused(b, spec))
        return CLI_ERROR;
    dev_spec_apply(spec, &dev);
    if (builder_add_dev(b, &dev, &id, err))
        return cli_error("%s. The on-disk ring builder is unchanged.", err);
    dev.id = id;
    printf("Device %s with %s weight got id %d\n",
           device_table_format(&dev, line), pyfmt_float(dev.weight, weight),
           id);
    return CLI_OK;
}

/* One "<devstr> <weight>" pair of the positional form. */
static int add_pair(struct builder *b, const char *devstr,
                    const char *weightstr)
{
    char err[SEARCH_VALUE_ERRLEN];
    struct dev_spec spec;

    if (add_value_parse(devstr, &spec, err))
        return cli_error("%s. The on-disk ring builder is unchanged.", err);
    if (!(spec.set & DEV_SPEC_REGION)) {
        fprintf(stderr,
                "WARNING: No region specified for %s. Defaulting to region "
                "1.\n",
                devstr);
        spec.region = 1;
    }
    if (!(spec.set & DEV_SPEC_REPLICATION_IP)) {
        strcpy(spec.replication_ip, spec.ip);
        spec.replication_port = spec.port;
    }
    spec.set |= DEV_SPEC_REGION | DEV_SPEC_REPLICATION_IP |
                DEV_SPEC_REPLICATION_PORT | DEV_SPEC_WEIGHT;
    if (opts_double(weightstr, &spec.weight))
        return cli_error("Invalid weight value: '%s' is not a number. The "
                         "on-disk ring builder is unchanged.",
                         weightstr);
    if (spec.weight < 0)
        return cli_error("Invalid weight value: %s %s. The on-disk ring "
                         "builder is unchanged.",
                         devstr, weightstr);
    return add_one(b, &spec);
}

static int run_add(struct cli *cli)
{
    struct opt_value vals[DEV_OPT_COUNT] = {0};
    char err[SEARCH_VALUE_ERRLEN], **pos;
    struct dev_spec spec;
    int n_pos, rc = CLI_ERROR;

    if (cli->argc < 2)
        return cli_usage_error(cli, "add: missing arguments");
    if (dev_search_parse_args(cli, vals, &pos, &n_pos))
        return CLI_ERROR;
    if (n_pos && (dev_opts_given(vals) || n_pos % 2)) {
        rc = cli_usage_error(cli, "add: give <devstr> <weight> pairs or "
                                  "options, not both");
        goto out;
    }
    if (!n_pos) {
        if (add_value_from_opts(vals, &spec, err)) {
            rc = cli_error("%s The on-disk ring builder is unchanged.", err);
            goto out;
        }
        if (spec.weight < 0) {
            rc = cli_error("Invalid weight value: %g", spec.weight);
            goto out;
        }
        rc = add_one(cli->b, &spec);
        if (rc != CLI_OK)
            goto out;
    }
    for (int i = 0; i < n_pos; i += 2) {
        rc = add_pair(cli->b, pos[i], pos[i + 1]);
        if (rc != CLI_OK)
            goto out;
    }
    rc = persist_save_builder(cli);
out:
    free(pos);
    return rc;
}

const struct cli_cmd cmd_add = {
    .name = "add",
    .run = run_add,
    .usage =
        "kura-ring <builder_file> add\n"
        "    [r<region>]z<zone>-<ip>:<port>[R<r_ip>:<r_port>]/<device_name>_"
        "<meta>\n"
        "     <weight>\n"
        "    [[r<region>]z<zone>-<ip>:<port>[R<r_ip>:<r_port>]/<device_name>"
        "_<meta>\n"
        "     <weight>] ...\n"
        "\n"
        "    Where <r_ip> and <r_port> are replication ip and port.\n"
        "\n"
        "or\n"
        "\n"
        "kura-ring <builder_file> add\n"
        "    --region <region> --zone <zone> --ip <ip or hostname> --port "
        "<port>\n"
        "    [--replication-ip <r_ip or r_hostname>] [--replication-port "
        "<r_port>]\n"
        "    --device <device_name> --weight <weight>\n"
        "    [--meta <meta>]\n"
        "\n"
        "    Adds devices to the ring with the given information. No "
        "partitions will be\n"
        "    assigned to the new device until after running 'rebalance'. "
        "This is so you\n"
        "    can make multiple device changes and rebalance them all just "
        "once.\n",
};

static int run_remove(struct cli *cli)
{
    char question[128], err[BUILDER_ERRLEN], line[DEVICE_TABLE_LINE_MAX];
    struct dev_list devs = {0};
    bool yes = false;
    int rc;

    if (cli->argc < 1)
        return cli_usage_error(cli, "remove: missing search value");
    rc = dev_search_args(cli, false, &devs, &yes);
    snprintf(question, sizeof(question),
             "Are you sure you want to remove these %zu devices? (y/N) ",
             devs.n);
    if (rc == CLI_OK)
        rc = dev_search_confirm(&devs, question, "Aborting device removals",
                                yes);
    for (size_t i = 0; rc == CLI_OK && i < devs.n; i++) {
        const struct ring_dev *d = &devs.devs[i]->d;

        if (builder_remove_dev(cli->b, d->id, err)) {
            rc = cli_error("An error occurred while removing device with id "
                           "%d: %s. The on-disk ring builder is unchanged.",
                           d->id, err);
            break;
        }
        printf("%s marked for removal and will be removed next rebalance.\n",
               device_table_format(d, line));
    }
    if (rc == CLI_OK)
        rc = persist_save_builder(cli);
    dev_list_release(&devs);
    return rc;
}

const struct cli_cmd cmd_remove = {
    .name = "remove",
    .run = run_remove,
    .search_help = true,
    .usage =
        "kura-ring <builder_file> remove <search-value> [search-value ...]\n"
        "    [--yes]\n"
        "\n"
        "or\n"
        "\n"
        "kura-ring <builder_file> remove\n" DEV_SEARCH_USAGE_OPTIONS
        "    --device <device_name> --meta <meta> --weight <weight>\n"
        "    [--yes]\n"
        "\n" DEV_SEARCH_USAGE_WHERE "\n"
        "    Removes the device(s) from the ring. This should normally just "
        "be used for\n"
        "    a device that has failed. For a device you wish to "
        "decommission, it's best\n"
        "    to set its weight to 0, wait for it to drain all its data, then "
        "use this\n"
        "    remove command. This will not take effect until after running "
        "'rebalance'.\n"
        "    This is so you can make multiple device changes and rebalance "
        "them all just\n"
        "    once.\n"
        "\n"
        "    Option --yes assume a yes response to all questions.\n",
};
