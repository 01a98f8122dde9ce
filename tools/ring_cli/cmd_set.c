/*
 * cmd_set.c - changing devices in place: set_weight, set_region,
 * set_zone and set_info.
 *
 * Each takes "<search-value> <new value>" pairs or the --options form with
 * one new value, asks before changing several devices at once (unless
 * --yes), and saves once after every pair succeeded.
 */
#include "tools/ring_cli/ring_cli.h"

#include <assert.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/ring_cli/dev_search.h"
#include "tools/ring_cli/device_table.h"
#include "tools/ring_cli/pyfmt.h"
#include "tools/ring_cli/search_value.h"

/* What one set_* command changes, and how its new value is read. */
struct setter {
    const struct cli_cmd *cmd;
    const char *what; /* "weight", "region", "zone", "info" */
    /* Parses the new value (from 'value', or from the --change-* options
     * in 'vals' for set_info), asks whether to change several devices,
     * then applies it to each, printing a line per device. Returns CLI_OK
     * or CLI_ERROR (printed). */
    int (*apply)(const struct setter *s, struct builder *b,
                 const struct dev_list *devs, const char *value,
                 const struct opt_value *vals, bool yes);
    /* set_region and set_zone: the builder call that sets the tier */
    int (*set_tier)(struct builder *b, int id, int v, char err[BUILDER_ERRLEN]);
};

/* Asked once the new value is known to be good, as Swift does. */
static int confirm(const struct dev_list *devs, const char *what, bool yes)
{
    char question[128];

    snprintf(question, sizeof(question),
             "Are you sure you want to update the %s for these %zu "
             "devices? (y/N) ",
             what, devs->n);
    return dev_search_confirm(devs, question, "Aborting device modifications",
                              yes);
}

/* The pairs, or the options and their one value: which devices, and what
 * to set them to. */
static int run_setter(struct cli *cli, const struct setter *s)
{
    struct opt_value vals[DEV_OPT_COUNT] = {0};
    char err[SEARCH_VALUE_ERRLEN], **pos;
    struct dev_spec spec;
    struct dev_list devs = {0};
    int n_pos, rc = CLI_ERROR;
    bool opts_form;

    if (cli->argc < 2)
        return cli_usage_error(cli, "%s: missing arguments", cli->cmd->name);
    if (dev_search_parse_args(cli, vals, &pos, &n_pos))
        return CLI_ERROR;
    opts_form = dev_opts_given(vals);
    if (opts_form ? n_pos > 1 || (n_pos == 0 && strcmp(s->what, "info"))
                  : n_pos == 0 || n_pos % 2) {
        rc = cli_usage_error(cli, "%s: wrong number of arguments",
                             cli->cmd->name);
        goto out;
    }
    for (int i = 0; i < (opts_form ? 1 : n_pos); i += 2) {
        if (opts_form ? search_value_from_opts(vals, &spec, err)
                      : search_value_parse(pos[i], &spec, err)) {
            rc = cli_error("%s", err);
            goto out;
        }
        devs.n = 0;
        if (dev_search(cli->b, &spec, &devs)) {
            rc = cli_error("out of memory");
            goto out;
        }
        rc = s->apply(s, cli->b, &devs,
                      opts_form ? (n_pos ? pos[0] : NULL) : pos[i + 1],
                      opts_form ? vals : NULL, vals[DEV_OPT_YES].set);
        if (rc != CLI_OK)
            goto out;
    }
    rc = persist_save_builder(cli);
out:
    dev_list_release(&devs);
    free(pos);
    return rc;
}

static int apply_weight(const struct setter *s, struct builder *b,
                        const struct dev_list *devs, const char *value,
                        const struct opt_value *vals, bool yes)
{
    char err[BUILDER_ERRLEN], line[DEVICE_TABLE_LINE_MAX];
    char shown[PYFMT_FLOAT_LEN];
    double weight;

    (void)s;
    (void)vals;
    if (opts_double(value, &weight))
        return cli_error("Invalid weight value: '%s' is not a number", value);
    if (weight < 0)
        return cli_error("Invalid weight value: %s (must not be negative)",
                         value);
    if (confirm(devs, "weight", yes))
        return CLI_ERROR;
    for (size_t i = 0; i < devs->n; i++) {
        const struct ring_dev *d = &devs->devs[i]->d;

        if (builder_set_dev_weight(b, d->id, weight, err))
            return cli_error("%s", err);
        printf("%s weight set to %s\n", device_table_format(d, line),
               pyfmt_float(d->weight, shown));
    }
    return CLI_OK;
}

static int apply_tier(const struct setter *s, struct builder *b,
                      const struct dev_list *devs, const char *value,
                      const struct opt_value *vals, bool yes)
{
    char err[BUILDER_ERRLEN], line[DEVICE_TABLE_LINE_MAX];
    long v;

    (void)vals;
    if (opts_long(value, 0, INT_MAX, &v))
        return cli_error("Invalid %s value: '%s' (want an integer >= 0)",
                         s->what, value);
    if (confirm(devs, s->what, yes))
        return CLI_ERROR;
    for (size_t i = 0; i < devs->n; i++) {
        const struct ring_dev *d = &devs->devs[i]->d;

        if (s->set_tier(b, d->id, (int)v, err))
            return cli_error("%s", err);
        printf("%s %s set to %ld\n", device_table_format(d, line), s->what, v);
    }
    return CLI_OK;
}

/* Swift checks this itself, against the device as it would become. */
static int check_unused(const struct builder *b, const struct ring_dev *t)
{
    for (size_t i = 0; i < b->n_devs; i++) {
        const struct ring_dev *d = b->devs[i] ? &b->devs[i]->d : NULL;

        if (d && d->id != t->id && !strcmp(d->ip, t->ip) &&
            d->port == t->port && !strcmp(d->device, t->device))
            return cli_error("Device %d already uses %s:%d/%s.", d->id, d->ip,
                             d->port, d->device);
    }
    return CLI_OK;
}

static int change_one(struct builder *b, const struct ring_dev *d,
                      const struct dev_spec *change)
{
    char err[BUILDER_ERRLEN], before[DEVICE_TABLE_LINE_MAX];
    char after[DEVICE_TABLE_LINE_MAX];
    struct ring_dev copy, info;
    int rc = CLI_OK;

    /* a deep copy: the builder may free the strings 'info' would share */
    if (ring_dev_copy(&copy, d))
        return cli_error("out of memory");
    info = copy;
    dev_spec_apply(change, &info);
    device_table_format(d, before);
    if (check_unused(b, &info))
        rc = CLI_ERROR;
    else if (builder_set_dev_info(b, d->id, &info, err))
        rc = cli_error("%s", err);
    else
        printf("Device %s is now %s\n", before,
               device_table_format(&b->devs[copy.id]->d, after));
    ring_dev_release(&copy);
    return rc;
}

static int apply_info(const struct setter *s, struct builder *b,
                      const struct dev_list *devs, const char *value,
                      const struct opt_value *vals, bool yes)
{
    char err[SEARCH_VALUE_ERRLEN];
    struct dev_spec change;

    (void)s;
    if (vals && value)
        return cli_error("set_info: unexpected argument '%s'", value);
    if (vals ? change_value_from_opts(vals, &change, err)
             : change_value_parse(value, &change, err))
        return cli_error("%s", err);
    if (confirm(devs, "info", yes))
        return CLI_ERROR;
    for (size_t i = 0; i < devs->n; i++)
        if (change_one(b, &devs->devs[i]->d, &change))
            return CLI_ERROR;
    return CLI_OK;
}

static const struct setter setters[] = {
    {&cmd_set_weight, "weight", apply_weight, NULL},
    {&cmd_set_region, "region", apply_tier, builder_set_dev_region},
    {&cmd_set_zone, "zone", apply_tier, builder_set_dev_zone},
    {&cmd_set_info, "info", apply_info, NULL},
};

static int run_set(struct cli *cli)
{
    for (size_t i = 0; i < sizeof(setters) / sizeof(setters[0]); i++)
        if (setters[i].cmd == cli->cmd)
            return run_setter(cli, &setters[i]);
    assert(!"a set_* command without a setter");
    return CLI_ERROR;
}

/* The end of Swift's set_weight, set_region and set_zone docstrings;
 * 'what' is plural ("weights"). */
#define USAGE_RESETS(what)                                                     \
    "    Resets the devices' " what ". No partitions will be reassigned to "   \
    "or from\n"                                                                \
    "    the device until after running 'rebalance'. This is so you can "      \
    "make\n"                                                                   \
    "    multiple device changes and rebalance them all just once.\n"          \
    "\n"                                                                       \
    "    Option --yes assume a yes response to all questions.\n"

/* Swift's set_region and set_zone docstrings, the same but for the tier. */
#define USAGE_SET_TIER(tier)                                                   \
    "kura-ring <builder_file> set_" tier " <search-value> <" tier ">\n"        \
    "    [<search-value> <" tier "] ...\n"                                     \
    "\n"                                                                       \
    "or\n"                                                                     \
    "\n"                                                                       \
    "kura-ring <builder_file> set_" tier "\n" DEV_SEARCH_USAGE_OPTIONS         \
    "    --device <device_name> --meta <meta> <new " tier "> [--yes]\n"        \
    "\n" DEV_SEARCH_USAGE_WHERE "\n" USAGE_RESETS(tier "s")

const struct cli_cmd cmd_set_weight = {
    .name = "set_weight",
    .run = run_set,
    .search_help = true,
    .usage =
        "kura-ring <builder_file> set_weight <search-value> <new_weight>\n"
        "    [<search-value> <new_weight>] ...\n"
        "    [--yes]\n"
        "\n"
        "or\n"
        "\n"
        "kura-ring <builder_file> set_weight\n" DEV_SEARCH_USAGE_OPTIONS
        "    --device <device_name> --meta <meta> --weight <weight> "
        "<new_weight>\n"
        "    [--yes]\n"
        "\n"
        "    Where <r_ip>, <r_hostname> and <r_port> are replication ip, "
        "hostname\n"
        "    and port. <weight> and <new_weight> are the search weight and "
        "new\n"
        "    weight values respectively.\n"
        "    Any of the options are optional in both cases.\n"
        "\n" USAGE_RESETS("weights"),
};

const struct cli_cmd cmd_set_region = {
    .name = "set_region",
    .run = run_set,
    .search_help = true,
    .usage = USAGE_SET_TIER("region"),
};

const struct cli_cmd cmd_set_zone = {
    .name = "set_zone",
    .run = run_set,
    .search_help = true,
    .usage = USAGE_SET_TIER("zone"),
};

const struct cli_cmd cmd_set_info = {
    .name = "set_info",
    .run = run_set,
    .search_help = true,
    .usage =
        "kura-ring <builder_file> set_info\n"
        "    <search-value> <ip>:<port>[R<r_ip>:<r_port>]/<device_name>_"
        "<meta>\n"
        "    [<search-value> <ip>:<port>[R<r_ip>:<r_port>]/<device_name>_"
        "<meta>] ...\n"
        "    [--yes]\n"
        "\n"
        "or\n"
        "\n"
        "kura-ring <builder_file> set_info\n"
        "    --ip <ip or hostname> --port <port>\n"
        "    --replication-ip <r_ip or r_hostname> --replication-port "
        "<r_port>\n"
        "    --device <device_name> --meta <meta>\n"
        "    --change-ip <ip or hostname> --change-port <port>\n"
        "    --change-replication-ip <r_ip or r_hostname>\n"
        "    --change-replication-port <r_port>\n"
        "    --change-device <device_name>\n"
        "    --change-meta <meta>\n"
        "    [--yes]\n"
        "\n" DEV_SEARCH_USAGE_WHERE "\n"
        "    For each search-value, resets the matched device's "
        "information.\n"
        "    This information isn't used to assign partitions, so you can "
        "use\n"
        "    'write_ring' afterward to rewrite the current ring with the "
        "newer\n"
        "    device information. Any of the parts are optional in the final\n"
        "    <ip>:<port>/<device_name>_<meta> parameter; just give what you\n"
        "    want to change. For instance set_info d74 _\"snet: 5.6.7.8\" "
        "would\n"
        "    just update the meta data for device id 74.\n"
        "\n"
        "    Option --yes assume a yes response to all questions.\n",
};
