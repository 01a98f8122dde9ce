/*
 * main.c - kura-ring: swift-ring-builder's command line on our builder.
 *
 * Finds the command, loads the builder file and hands both to the command;
 * the commands (cmd_*.c) do the work and return the exit status.
 */
#include "tools/ring_cli/ring_cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Sorted by name, as the usage lists them. */
static const struct cli_cmd *const commands[] = {
    &cmd_add,
    &cmd_create,
    &cmd_dispersion,
    &cmd_list_parts,
    &cmd_pretend_min_part_hours_passed,
    &cmd_rebalance,
    &cmd_remove,
    &cmd_search,
    &cmd_set_info,
    &cmd_set_min_part_hours,
    &cmd_set_overload,
    &cmd_set_region,
    &cmd_set_replicas,
    &cmd_set_weight,
    &cmd_set_zone,
    &cmd_validate,
    &cmd_write_ring,
};
#define N_COMMANDS ((int)(sizeof(commands) / sizeof(commands[0])))

int cli_verror(const char *fmt, va_list ap)
{
    fflush(stdout); /* keep stdout and stderr in order on a terminal */
    fputs("kura-ring: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    return CLI_ERROR;
}

int cli_error(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    cli_verror(fmt, ap);
    va_end(ap);
    return CLI_ERROR;
}

static const struct cli_cmd *find_command(const char *name)
{
    if (!strcmp(name, cmd_default.name)) /* Swift has it by name too */
        return &cmd_default;
    for (int i = 0; i < N_COMMANDS; i++)
        if (!strcmp(commands[i]->name, name))
            return commands[i];
    return NULL;
}

static bool is_help(const char *word)
{
    return !strcmp(word, "--help") || !strcmp(word, "-h");
}

static bool wants_help(int argc, char **argv)
{
    for (int i = 0; i < argc && strcmp(argv[i], "--"); i++)
        if (is_help(argv[i]))
            return true;
    return false;
}

static int load_builder(struct cli *cli)
{
    char err[BUILDER_ERRLEN] = "";
    int rc = builder_load(cli->builder_file, &cli->b, err);

    if (rc == -ENOENT && cli->cmd->no_builder_ok)
        return CLI_OK;
    if (rc == -ENOENT)
        return cli_error("Ring Builder file does not exist: %s",
                         cli->builder_file);
    if (rc)
        return cli_error("Problem occurred while reading builder file: %s. "
                         "%s",
                         cli->builder_file, err[0] ? err : strerror(-rc));
    return CLI_OK;
}

int main(int argc, char **argv)
{
    struct cli cli = {0};
    char *builder_file = NULL;
    int rc;

    if (argc < 2 || is_help(argv[1])) {
        usage_print_all(commands, N_COMMANDS);
        return CLI_OK;
    }
    if (persist_file_names(argv[1], &builder_file, &cli.ring_file))
        return cli_error("out of memory");
    cli.builder_file = builder_file;
    if (strcmp(builder_file, argv[1]))
        printf("Note: using %s instead of %s as builder file\n", builder_file,
               argv[1]);
    cli.cmd = argc == 2 ? &cmd_default : find_command(argv[2]);
    cli.argc = argc > 3 ? argc - 3 : 0;
    cli.argv = argv + 3;
    if (cli.cmd && wants_help(cli.argc, cli.argv)) {
        usage_print_command(cli.cmd);
        rc = CLI_OK;
        goto out;
    }
    /* Swift loads the builder first, so a missing file wins over a typo */
    if (!cli.cmd) {
        cli.cmd = &cmd_default;
        rc = load_builder(&cli);
        if (rc == CLI_OK)
            rc = cli_error("Unknown command: %s", argv[2]);
        goto out;
    }
    rc = load_builder(&cli);
    if (rc == CLI_OK)
        rc = cli.cmd->run(&cli);
out:
    builder_free(cli.b);
    free(builder_file);
    free(cli.ring_file);
    if (fflush(stdout) == EOF && rc == CLI_OK)
        rc = CLI_ERROR;
    return rc;
}
