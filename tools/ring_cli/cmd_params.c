/*
 * cmd_params.c - the commands that set the ring's parameters rather than
 * its devices: create, set_replicas, set_overload, set_min_part_hours and
 * pretend_min_part_hours_passed. Each takes fixed positional words and no
 * options.
 */
#include "tools/ring_cli/ring_cli.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "tools/ring_cli/opts.h"

static int run_create(struct cli *cli)
{
    char err[BUILDER_ERRLEN];
    struct builder *b;
    long part_power, hours;
    double replicas;

    if (cli_want_args(cli, 3))
        return CLI_ERROR;
    if (opts_long(cli->argv[0], LONG_MIN, LONG_MAX, &part_power))
        return cli_error("invalid part_power '%s': not an integer",
                         cli->argv[0]);
    if (opts_double(cli->argv[1], &replicas))
        return cli_error("invalid replicas '%s': not a number", cli->argv[1]);
    if (opts_long(cli->argv[2], LONG_MIN, LONG_MAX, &hours))
        return cli_error("invalid min_part_hours '%s': not an integer",
                         cli->argv[2]);
    if (part_power < 1 || part_power > 32)
        return cli_error("part_power must be between 1 and 32 (was %ld)",
                         part_power);
    if (hours < 0 || hours > INT_MAX)
        return cli_error("min_part_hours must be non-negative (was %ld)",
                         hours);
    if (builder_new((int)part_power, replicas, (int)hours, &b, err))
        return cli_error("%s", err);
    /* as Swift, create replaces whatever builder was there */
    builder_free(cli->b);
    cli->b = b;
    return persist_save_builder(cli);
}

const struct cli_cmd cmd_create = {
    .name = "create",
    .run = run_create,
    .no_builder_ok = true,
    .usage = "kura-ring <builder_file> create <part_power> <replicas>\n"
             "                                <min_part_hours>\n"
             "    Creates <builder_file> with 2^<part_power> partitions and "
             "<replicas>.\n"
             "    <min_part_hours> is number of hours to restrict moving a "
             "partition more\n"
             "    than once.\n",
};

static int run_set_replicas(struct cli *cli)
{
    char err[BUILDER_ERRLEN];
    double replicas;

    if (cli_want_args(cli, 1))
        return CLI_ERROR;
    if (opts_double(cli->argv[0], &replicas))
        return cli_usage_error(cli, "\"%s\" is not a valid number.",
                               cli->argv[0]);
    if (replicas < 1)
        return cli_error("Replica count must be at least 1.");
    if (builder_set_replicas(cli->b, replicas, err))
        return cli_error("%s", err);
    printf("The replica count is now %.6f.\n"
           "The change will take effect after the next rebalance.\n",
           cli->b->replicas);
    return persist_save_builder(cli);
}

const struct cli_cmd cmd_set_replicas = {
    .name = "set_replicas",
    .run = run_set_replicas,
    .usage =
        "kura-ring <builder_file> set_replicas <replicas>\n"
        "    Changes the replica count to the given <replicas>. <replicas> "
        "may\n"
        "    be a floating-point value, in which case some partitions will "
        "have\n"
        "    floor(<replicas>) replicas and some will have "
        "ceiling(<replicas>)\n"
        "    in the correct proportions.\n"
        "\n"
        "    A rebalance is needed to make the change take effect.\n",
};

static int run_set_overload(struct cli *cli)
{
    char err[BUILDER_ERRLEN], number[64];
    bool percent;
    double overload;
    size_t len;
    int status = CLI_OK;

    if (cli_want_args(cli, 1))
        return CLI_ERROR;
    /* "10%" or 0.1; like Swift's rstrip('%'), every trailing % goes */
    len = strlen(cli->argv[0]);
    percent = len && cli->argv[0][len - 1] == '%';
    while (len && cli->argv[0][len - 1] == '%')
        len--;
    snprintf(number, sizeof(number), "%.*s", (int)len, cli->argv[0]);
    if (len >= sizeof(number) || opts_double(number, &overload))
        return cli_usage_error(cli, "'%s' is not a valid number.", number);
    if (percent)
        overload *= 0.01;
    if (overload < 0)
        return cli_error("Overload must be non-negative.");
    if (overload > 1 && !percent) {
        puts("!?! Warning overload is greater than 100% !?!");
        status = CLI_WARNING;
    }
    if (builder_set_overload(cli->b, overload, err))
        return cli_error("%s", err);
    printf("The overload factor is now %0.2f%% (%.6f)\n"
           "The change will take effect after the next rebalance.\n",
           cli->b->overload * 100, cli->b->overload);
    return persist_save_builder(cli) == CLI_OK ? status : CLI_ERROR;
}

const struct cli_cmd cmd_set_overload = {
    .name = "set_overload",
    .run = run_set_overload,
    .usage = "kura-ring <builder_file> set_overload <overload>[%]\n"
             "    Changes the overload factor to the given <overload>.\n"
             "\n"
             "    A rebalance is needed to make the change take effect.\n",
};

static int run_set_min_part_hours(struct cli *cli)
{
    char err[BUILDER_ERRLEN];
    long hours;

    if (cli_want_args(cli, 1))
        return CLI_ERROR;
    if (opts_long(cli->argv[0], LONG_MIN, LONG_MAX, &hours))
        return cli_error("invalid min_part_hours '%s': not an integer",
                         cli->argv[0]);
    if (hours < 0 || hours > INT_MAX)
        return cli_error("min_part_hours must be non-negative (was %ld)",
                         hours);
    if (builder_set_min_part_hours(cli->b, (int)hours, err))
        return cli_error("%s", err);
    printf("The minimum number of hours before a partition can be "
           "reassigned is now set to %ld\n",
           hours);
    return persist_save_builder(cli);
}

const struct cli_cmd cmd_set_min_part_hours = {
    .name = "set_min_part_hours",
    .run = run_set_min_part_hours,
    .usage =
        "kura-ring <builder_file> set_min_part_hours <hours>\n"
        "    Changes the <min_part_hours> to the given <hours>. This should "
        "be set to\n"
        "    however long a full replication/update cycle takes. We're "
        "working on a way\n"
        "    to determine this more easily than scanning logs.\n",
};

static int run_pretend(struct cli *cli)
{
    if (cli_want_args(cli, 0))
        return CLI_ERROR;
    builder_pretend_min_part_hours_passed(cli->b);
    return persist_save_builder(cli);
}

const struct cli_cmd cmd_pretend_min_part_hours_passed = {
    .name = "pretend_min_part_hours_passed",
    .run = run_pretend,
    .usage =
        "kura-ring <builder_file> pretend_min_part_hours_passed\n"
        "    Resets the clock on the last time a rebalance happened, thus\n"
        "    circumventing the min_part_hours check.\n"
        "\n"
        "    *****************************\n"
        "    USE THIS WITH EXTREME CAUTION\n"
        "    *****************************\n"
        "\n"
        "    If you run this command and deploy rebalanced rings before a "
        "replication\n"
        "    pass completes, you may introduce unavailability in your "
        "cluster. This\n"
        "    has an end-user impact.\n",
};
