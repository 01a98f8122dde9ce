/*
 * cmd_rebalance.c - the commands that produce a ring: rebalance (and its
 * dry run), write_ring and validate.
 *
 * rebalance follows swift-ring-builder's rules for when a result is worth
 * saving: something moved (or --force, or devices were dropped), and
 * balance or dispersion changed by at least 1% unless devices changed.
 * Only then are the ring, the builder and their backups written.
 */
#include "tools/ring_cli/ring_cli.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "tools/ring_cli/dry_run.h"
#include "tools/ring_cli/opts.h"
#include "tools/ring_cli/pyfmt.h"

#define RULE                                                                   \
    "-----------------------------------------------------------------------"  \
    "--------"

static int print_failure(const char *err)
{
    printf("%s\n"
           "An error has occurred during ring validation. Common\n"
           "causes of failure are rings that are empty or do not\n"
           "have enough devices to accommodate the replica count.\n"
           "Original exception message:\n %s\n"
           "%s\n",
           RULE, err, RULE);
    return cli_error("rebalance failed: %s", err);
}

/* Swift's test for a rebalance worth saving when no device changed. */
static bool changed_enough(double last_balance, double balance,
                           double last_dispersion, double dispersion)
{
    bool balance_changed =
        fabs(last_balance - balance) >= 1 ||
        (last_balance == BUILDER_MAX_BALANCE && balance == BUILDER_MAX_BALANCE);
    /* a builder that never computed dispersion is Swift's None */
    bool dispersion_changed =
        last_dispersion < 0 || fabs(last_dispersion - dispersion) >= 1;

    return balance_changed || dispersion_changed;
}

/* Prints Swift's NOTE when the result is usable but not good yet. */
static int print_notes(const struct builder *b, double balance)
{
    if (b->dispersion > 0) {
        printf("%s\n"
               "NOTE: Dispersion of %.06f indicates some parts are not\n"
               "      optimally dispersed.\n\n"
               "      You may want to adjust some device weights, increase\n"
               "      the overload or review the dispersion report.\n"
               "%s\n",
               RULE, b->dispersion, RULE);
        return CLI_WARNING;
    }
    if (balance > 5 && balance / 100.0 > b->overload) {
        printf("%s\n"
               "NOTE: Balance of %.02f indicates you should push this \n"
               "      ring, wait at least %d hours, and rebalance/repush.\n"
               "%s\n",
               RULE, balance, b->min_part_hours, RULE);
        return CLI_WARNING;
    }
    return CLI_OK;
}

/* Rebalances 'b' and prints what swift-ring-builder prints. *save says
 * whether Swift would write the result. Returns the exit status. */
static int rebalance_run(struct builder *b, long seed, bool force, bool *save)
{
    bool devs_changed = b->devs_changed;
    long secs_left = builder_min_part_seconds_left(b);
    double last_balance = builder_get_balance(b);
    double last_dispersion = b->dispersion;
    char err[BUILDER_ERRLEN] = "", left[PYFMT_TIMEDELTA_LEN];
    struct rebalance_result res;
    int rc;

    *save = false;
    rc = builder_rebalance(b, seed, &res, err);
    if (rc)
        return print_failure(err[0] ? err : "out of memory");
    if (!(res.changed_parts || force || res.removed_devs)) {
        puts("No partitions could be reassigned.");
        if (secs_left > 0)
            printf("The time between rebalances must be at least "
                   "min_part_hours: %d hours (%s remaining)\n",
                   b->min_part_hours,
                   pyfmt_timedelta(builder_min_part_seconds_left(b), left));
        else
            puts("There is no need to do so at this time");
        return CLI_WARNING;
    }
    if (!force && !devs_changed &&
        !changed_enough(last_balance, res.balance, last_dispersion,
                        b->dispersion)) {
        puts("Cowardly refusing to save rebalance as it did not change at "
             "least 1%.");
        return CLI_WARNING;
    }
    if (builder_validate(b, err))
        return print_failure(err);
    printf("Reassigned %ld (%.02f%%) partitions. Balance is now %.02f.  "
           "Dispersion is now %.02f\n",
           res.changed_parts,
           100.0 * (double)res.changed_parts / (double)(1ULL << b->part_power),
           res.balance, b->dispersion);
    *save = true;
    return print_notes(b, res.balance);
}

enum { REB_FORCE, REB_SEED, REB_DEBUG, REB_DRY_RUN, REB_USAGE, REB_COUNT };

static const struct opt_spec rebalance_opts[REB_COUNT] = {
    [REB_FORCE] = {"force", 'f', OPT_FLAG},
    [REB_SEED] = {"seed", 's', OPT_STR},
    [REB_DEBUG] = {"debug", 'd', OPT_FLAG},
    [REB_DRY_RUN] = {"dry-run", 'n', OPT_FLAG},
    [REB_USAGE] = {"usage", 'u', OPT_STR},
};

/* Rebalances a scratch copy and reports; writes nothing. */
static int run_dry(struct cli *cli, long seed, bool force,
                   const char *usage_file)
{
    struct builder *scratch;
    bool save;
    int status, rc;

    if (builder_clone(cli->b, &scratch))
        return cli_error("out of memory");
    puts("Dry run: nothing will be written.");
    status = rebalance_run(scratch, seed, force, &save);
    if (status != CLI_ERROR) {
        if (!save)
            puts("(rebalance would not save this result)");
        rc = dry_run_report(cli->b, scratch, usage_file);
        if (rc != CLI_OK)
            status = rc;
    }
    builder_free(scratch);
    return status;
}

static int run_rebalance(struct cli *cli)
{
    struct opt_value vals[REB_COUNT] = {0};
    char err[OPTS_ERRLEN], *pos[8];
    const char *seed_str = NULL;
    struct ring_data rd = {0};
    long seed = -1;
    int n_pos, status;
    bool save;

    if (cli->argc > 8)
        return cli_usage_error(cli, "rebalance: too many arguments");
    if (opts_parse(rebalance_opts, REB_COUNT, vals, cli->argc, cli->argv, pos,
                   &n_pos, err))
        return cli_usage_error(cli, "%s", err);
    if (n_pos > 1)
        return cli_usage_error(cli, "rebalance: unexpected argument '%s'",
                               pos[1]);
    seed_str = vals[REB_SEED].set ? vals[REB_SEED].s : (n_pos ? pos[0] : NULL);
    if (seed_str && opts_long(seed_str, 0, LONG_MAX, &seed))
        return cli_error("invalid seed '%s': want an integer >= 0", seed_str);
    if (vals[REB_USAGE].set && !vals[REB_DRY_RUN].set)
        return cli_error("--usage needs --dry-run");
    if (vals[REB_DRY_RUN].set)
        return run_dry(cli, seed, vals[REB_FORCE].set, vals[REB_USAGE].s);

    status = rebalance_run(cli->b, seed, vals[REB_FORCE].set, &save);
    if (!save)
        return status;
    if (builder_get_ring(cli->b, &rd))
        return cli_error("cannot build the ring from '%s'", cli->builder_file);
    if (persist_write_ring(cli, &rd, true) != CLI_OK)
        status = CLI_ERROR;
    ring_data_release(&rd);
    return status;
}

const struct cli_cmd cmd_rebalance = {
    .name = "rebalance",
    .run = run_rebalance,
    .usage =
        "kura-ring <builder_file> rebalance [options]\n"
        "    Attempts to rebalance the ring by reassigning partitions that "
        "haven't been\n"
        "    recently reassigned.\n"
        "\n"
        "Options:\n"
        "  -f, --force          Force a rebalanced ring to save even if < 1% "
        "of parts\n"
        "                       changed\n"
        "  -s SEED, --seed=SEED seed to use for rebalance (an integer >= 0; "
        "also\n"
        "                       accepted as the only positional argument)\n"
        "  -d, --debug          accepted for compatibility; prints nothing "
        "more\n"
        "  -n, --dry-run        (kura-ring) rebalance a scratch copy and "
        "report what\n"
        "                       would move: partition replicas gained and "
        "lost per\n"
        "                       device, from -> to pairs and totals; writes "
        "nothing\n"
        "  -u FILE, --usage=FILE\n"
        "                       (kura-ring, with --dry-run) JSON object of "
        "bytes used\n"
        "                       per device id, e.g. {\"0\": 1073741824, "
        "\"1\": 52428800},\n"
        "                       to estimate the bytes to move (a device's "
        "bytes over\n"
        "                       the partition replicas it holds)\n",
};

static bool has_devices(const struct builder *b)
{
    for (size_t i = 0; i < b->n_devs; i++)
        if (b->devs[i])
            return true;
    return false;
}

static int run_write_ring(struct cli *cli)
{
    struct ring_data rd = {0};
    int rc;

    if (cli_want_args(cli, 0))
        return CLI_ERROR;
    if (!has_devices(cli->b))
        return cli_error("Unable to write empty ring.");
    if (!cli->b->replica2part2dev)
        return cli_error("Writing a ring with no partition assignments but "
                         "with devices is refused; did you forget to run "
                         "\"rebalance\"?");
    if (builder_get_ring(cli->b, &rd))
        return cli_error("cannot build the ring from '%s'", cli->builder_file);
    rc = persist_write_ring(cli, &rd, false);
    ring_data_release(&rd);
    return rc;
}

const struct cli_cmd cmd_write_ring = {
    .name = "write_ring",
    .run = run_write_ring,
    .usage =
        "kura-ring <builder_file> write_ring\n"
        "    Just rewrites the distributable ring file. This is done "
        "automatically after\n"
        "    a successful rebalance, so really this is only useful after one "
        "or more\n"
        "    'set_info' calls when no rebalance is needed but you want to "
        "send out the\n"
        "    new device information.\n",
};

static int run_validate(struct cli *cli)
{
    char err[BUILDER_ERRLEN] = "";

    if (cli_want_args(cli, 0))
        return CLI_ERROR;
    if (!cli->b->replica2part2dev)
        return cli_error("_replica2part2dev empty; did you forget to "
                         "rebalance?");
    if (builder_validate(cli->b, err))
        return cli_error("%s", err);
    return CLI_OK;
}

const struct cli_cmd cmd_validate = {
    .name = "validate",
    .run = run_validate,
    .usage = "kura-ring <builder_file> validate\n"
             "    Just runs the validation routines on the ring.\n",
};
