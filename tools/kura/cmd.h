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

/* Operators' tools (doc/ops.md): 'kura recon' (recon.c), 'kura
 * object-info' (object_info.c), 'kura dispersion-populate' and 'kura
 * dispersion-report' (dispersion.c). */
int cmd_recon(int argc, char **argv);
int cmd_object_info(int argc, char **argv);
int cmd_dispersion_populate(int argc, char **argv);
int cmd_dispersion_report(int argc, char **argv);

#endif /* TOOLS_KURA_CMD_H */
