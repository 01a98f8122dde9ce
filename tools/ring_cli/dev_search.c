/*
 * dev_search.c - the devices a command acts on: which words name them,
 * which devices match, and asking before acting on several.
 */
#include "tools/ring_cli/dev_search.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tools/ring_cli/device_table.h"

int dev_search_parse_args(const struct cli *cli,
                          struct opt_value vals[DEV_OPT_COUNT], char ***pos,
                          int *n_pos)
{
    char err[OPTS_ERRLEN];

    *pos = calloc((size_t)cli->argc + 1, sizeof(**pos));
    if (!*pos)
        return cli_error("out of memory");
    if (opts_parse(dev_opt_specs, DEV_OPT_COUNT, vals, cli->argc, cli->argv,
                   *pos, n_pos, err)) {
        free(*pos);
        *pos = NULL;
        return cli_usage_error(cli, "%s", err);
    }
    return CLI_OK;
}

int dev_search_args(const struct cli *cli, bool one_value, struct dev_list *out,
                    bool *yes)
{
    struct opt_value vals[DEV_OPT_COUNT] = {0};
    char err[SEARCH_VALUE_ERRLEN], **pos;
    struct dev_spec spec;
    int n_pos, rc;

    if (dev_search_parse_args(cli, vals, &pos, &n_pos))
        return CLI_ERROR;
    if (yes)
        *yes = vals[DEV_OPT_YES].set;
    rc = CLI_ERROR;
    if (n_pos && (dev_opts_given(vals) || (one_value && n_pos != 1))) {
        rc = cli_usage_error(cli, "give search values or options, not both");
        goto out;
    }
    if (!n_pos) {
        if (search_value_from_opts(vals, &spec, err)) {
            rc = cli_error("%s", err);
            goto out;
        }
        if (dev_search(cli->b, &spec, out))
            goto oom;
    }
    for (int i = 0; i < n_pos; i++) {
        if (search_value_parse(pos[i], &spec, err)) {
            rc = cli_error("%s", err);
            goto out;
        }
        if (dev_search(cli->b, &spec, out))
            goto oom;
    }
    rc = CLI_OK;
    goto out;
oom:
    rc = cli_error("out of memory");
out:
    free(pos);
    return rc;
}

int dev_search(const struct builder *b, const struct dev_spec *spec,
               struct dev_list *out)
{
    for (size_t i = 0; i < b->n_devs; i++) {
        struct builder_dev **grown;

        if (!b->devs[i] || !dev_spec_match(spec, &b->devs[i]->d) ||
            dev_list_has(out, (int)i))
            continue;
        grown = realloc(out->devs, (out->n + 1) * sizeof(*grown));
        if (!grown)
            return -ENOMEM;
        out->devs = grown;
        out->devs[out->n++] = b->devs[i];
    }
    return 0;
}

bool dev_list_has(const struct dev_list *l, int id)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->devs[i]->d.id == id)
            return true;
    return false;
}

void dev_list_release(struct dev_list *l)
{
    free(l->devs);
    l->devs = NULL;
    l->n = 0;
}

/* Reads one answer line from a terminal; anything else is a no. */
static bool answered_yes(const char *question)
{
    char line[16];

    fputs(question, stdout);
    fflush(stdout);
    if (!isatty(STDIN_FILENO)) {
        putchar('\n');
        return false;
    }
    if (!fgets(line, sizeof(line), stdin))
        return false;
    return !strcmp(line, "y\n") || !strcmp(line, "y");
}

int dev_search_confirm(const struct dev_list *l, const char *question,
                       const char *abort_msg, bool yes)
{
    char line[DEVICE_TABLE_LINE_MAX];

    if (!l->n)
        return cli_error("Search value matched 0 devices. "
                         "The on-disk ring builder is unchanged.");
    if (l->n == 1)
        return CLI_OK;
    puts("Matched more than one device:");
    for (size_t i = 0; i < l->n; i++)
        printf("    %s\n", device_table_format(&l->devs[i]->d, line));
    if (yes || answered_yes(question))
        return CLI_OK;
    return cli_error("%s", abort_msg);
}
