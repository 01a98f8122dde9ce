/*
 * main.c - the kura admin CLI: finds the subcommand and runs it. The
 * subcommands live one per file (get_nodes.c, ...).
 */
#include <stdio.h>
#include <string.h>

#include "tools/kura/cmd.h"

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} commands[] = {
    {"get-nodes", cmd_get_nodes, "where an account, container or object lives"},
    {"aio", cmd_aio, "start, stop or show the all-in-one cluster"},
    {"recon", cmd_recon, "ask every storage server for its recon data"},
    {"object-info", cmd_object_info,
     "show an object file's metadata and where the ring puts it"},
    {"dispersion-populate", cmd_dispersion_populate,
     "put items covering the rings' partitions, to report on"},
    {"dispersion-report", cmd_dispersion_report,
     "how many replicas of those items are in place"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: kura <command> [<args>]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(out, "  %-20s %s\n", commands[i].name, commands[i].summary);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "kura: no command given (try 'kura --help')\n");
        return CMD_EXIT_ERROR;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "kura: unknown command '%s' (try 'kura --help')\n",
            argv[1]);
    return CMD_EXIT_ERROR;
}
