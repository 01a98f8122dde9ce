/*
 * cmd.h - the subcommands of the kura admin CLI.
 *
 * Each takes the arguments from its own name on (argv[0] is "get-nodes")
 * and returns the process exit status: 0 done, 1 failed, CMD_EXIT_ERROR
 * for bad arguments (after one line on stderr).
 */
#ifndef TOOLS_KURA_CMD_H
#define TOOLS_KURA_CMD_H

#define CMD_EXIT_ERROR 2

int cmd_get_nodes(int argc, char **argv);

/* 'kura aio start|stop|status': the all-in-one cluster (aio.c,
 * doc/aio.md). status exits 3 when a daemon is not running. */
int cmd_aio(int argc, char **argv);

#endif /* TOOLS_KURA_CMD_H */
