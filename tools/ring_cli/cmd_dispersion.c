/*
 * cmd_dispersion.c - the dispersion report: how many partitions have how
 * many replicas in each tier, and the worst tier.
 *
 * The tier filter is Swift's regular expression, matched at the start of
 * the tier name like Python's re.match. We compile it as a POSIX extended
 * expression after turning Python's \d and \D into bracket expressions,
 * which covers the filters Swift's help shows.
 */
#include "tools/ring_cli/ring_cli.h"

#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/ring_cli/opts.h"

enum { DISP_RECALCULATE, DISP_VERBOSE, DISP_COUNT };

static const struct opt_spec dispersion_opts[DISP_COUNT] = {
    [DISP_RECALCULATE] = {"recalculate", 0, OPT_FLAG},
    [DISP_VERBOSE] = {"verbose", 'v', OPT_FLAG},
};

/* "^(" + pattern with \d -> [0-9], \D -> [^0-9] + ")" */
static int compile_filter(const char *pattern, regex_t *re)
{
    size_t len = strlen(pattern);
    char *ere = malloc(len * 6 + 8), *o = ere;
    int rc;

    if (!ere)
        return -1;
    o += sprintf(o, "^(");
    for (const char *p = pattern; *p; p++) {
        if (p[0] == '\\' && (p[1] == 'd' || p[1] == 'D')) {
            o += sprintf(o, p[1] == 'd' ? "[0-9]" : "[^0-9]");
            p++;
        } else if (p[0] == '\\' && p[1]) {
            *o++ = *p++;
            *o++ = *p;
        } else {
            *o++ = *p;
        }
    }
    strcpy(o, ")");
    rc = regcomp(re, ere, REG_EXTENDED | REG_NOSUB);
    free(ere);
    return rc ? -1 : 0;
}

struct graph_layout {
    int tier_width, count_width, n_counts;
};

static void print_graph(const struct dispersion_report *rep, const bool *shown,
                        struct graph_layout g)
{
    char header[1024];
    int n;

    n = snprintf(header, sizeof(header), "%-*s %*s %6s %6s", g.tier_width,
                 "Tier", g.count_width, "Parts", "%", "Max");
    for (int k = 0; k < g.n_counts && n < (int)sizeof(header); k++)
        n += snprintf(header + n, sizeof(header) - (size_t)n, "%s%*d",
                      k ? " " : " ", g.count_width, k);
    for (int i = 0; i < n; i++)
        putchar('-');
    printf("\n%s\n", header);
    for (int i = 0; i < n; i++)
        putchar('-');
    putchar('\n');
    for (size_t t = 0; t < rep->n_tiers; t++) {
        const struct dispersion_tier *tier = &rep->tiers[t];

        if (!shown[t])
            continue;
        printf("%-*s %*ld %6.02f %6d ", g.tier_width, tier->name, g.count_width,
               tier->placed_parts, tier->dispersion, tier->max_replicas);
        for (int k = 0; k < g.n_counts; k++)
            printf(k ? " %*ld" : "%*ld", g.count_width, tier->replicas[k]);
        putchar('\n');
    }
}

/* Swift's dispersion_report over the tiers the filter keeps: the worst
 * tier and, verbose, the graph. */
static int report(const struct builder *b, const struct dispersion_report *rep,
                  regex_t *filter, bool verbose)
{
    struct graph_layout g = {30, 5, (int)ceil(b->replicas) + 1};
    bool *shown = calloc(rep->n_tiers + 1, sizeof(*shown));
    const char *worst = NULL;
    double max_dispersion = 0;
    char parts[32];
    size_t n_shown = 0;

    if (!shown)
        return cli_error("out of memory");
    if (snprintf(parts, sizeof(parts), "%llu", 1ULL << b->part_power) >
        g.count_width)
        g.count_width = (int)strlen(parts);
    for (size_t t = 0; t < rep->n_tiers; t++) {
        const struct dispersion_tier *tier = &rep->tiers[t];

        if (filter && regexec(filter, tier->name, 0, NULL, 0))
            continue;
        if (tier->dispersion > max_dispersion) {
            max_dispersion = tier->dispersion;
            worst = tier->name;
        }
        shown[t] = verbose;
        n_shown += verbose;
        if (verbose && (int)strlen(tier->name) > g.tier_width)
            g.tier_width = (int)strlen(tier->name);
    }
    if (worst)
        printf("Worst tier is %.06f (%s)\n", max_dispersion, worst);
    if (n_shown)
        print_graph(rep, shown, g);
    free(shown);
    return worst ? CLI_WARNING : CLI_OK;
}

static int run_dispersion(struct cli *cli)
{
    struct opt_value vals[DISP_COUNT] = {0};
    struct dispersion_report rep = {0};
    char err[OPTS_ERRLEN], *pos[4];
    regex_t filter;
    int n_pos, status;

    if (!cli->b->replica2part2dev)
        return cli_error("Specified builder file \"%s\" is not rebalanced "
                         "yet. Please rebalance first.",
                         cli->builder_file);
    if (cli->argc > 4)
        return cli_usage_error(cli, "dispersion: too many arguments");
    if (opts_parse(dispersion_opts, DISP_COUNT, vals, cli->argc, cli->argv, pos,
                   &n_pos, err))
        return cli_usage_error(cli, "%s", err);
    if (n_pos > 1)
        return cli_usage_error(cli, "dispersion: unexpected argument '%s'",
                               pos[1]);
    if (n_pos && compile_filter(pos[0], &filter))
        return cli_error("invalid search filter '%s'", pos[0]);
    /* the report is always recalculated, so --recalculate changes nothing */
    if (builder_dispersion_report(cli->b, &rep)) {
        status = cli_error("cannot compute the dispersion report");
        goto out;
    }
    printf("Dispersion is %.06f, Balance is %.06f, Overload is %0.2f%%\n",
           cli->b->dispersion, builder_get_balance(cli->b),
           cli->b->overload * 100);
    printf("Required overload is %.6f%%\n",
           builder_required_overload(cli->b) * 100);
    status =
        report(cli->b, &rep, n_pos ? &filter : NULL, vals[DISP_VERBOSE].set);
out:
    dispersion_report_release(&rep);
    if (n_pos)
        regfree(&filter);
    return status;
}

const struct cli_cmd cmd_dispersion = {
    .name = "dispersion",
    .run = run_dispersion,
    .usage =
        "kura-ring <builder_file> dispersion <search_filter> [options]\n"
        "\n"
        "    Output report on dispersion.\n"
        "\n"
        "    --recalculate option will rebuild cached dispersion info and "
        "save builder\n"
        "    --verbose option will display dispersion graph broken down by "
        "tier\n"
        "\n"
        "    You can filter which tiers are evaluated to drill down using a "
        "regex\n"
        "    in the optional search_filter argument.  i.e.\n"
        "\n"
        "        kura-ring <builder_file> dispersion \"r\\d+z\\d+$\" -v\n"
        "\n"
        "    ... would only display rows for the zone tiers\n"
        "\n"
        "        kura-ring <builder_file> dispersion \".*\\-[^/]*$\" -v\n"
        "\n"
        "    ... would only display rows for the server tiers\n"
        "\n"
        "    The reports columns are:\n"
        "\n"
        "    Tier  : the name of the tier\n"
        "    parts : the total number of partitions with assignment in the "
        "tier\n"
        "    %     : the percentage of parts in the tier with replicas over "
        "assigned\n"
        "    max   : maximum replicas a part should have assigned at the "
        "tier\n"
        "    0 - N : the number of parts with that many replicas assigned\n"
        "\n"
        "    e.g.\n"
        "        Tier:  parts      %   max   0    1    2   3\n"
        "        r1z1    1022  79.45     1   2  210  784  28\n"
        "\n"
        "        r1z1 has 1022 total parts assigned, 79% of them have more "
        "than the\n"
        "        recommend max replica count of 1 assigned.  Only 2 parts in "
        "the ring\n"
        "        are *not* assigned in this tier (0 replica count), 210 parts "
        "have\n"
        "        the recommend replica count of 1, 784 have 2 replicas, and 28 "
        "sadly\n"
        "        have all three replicas in this tier.\n",
};
