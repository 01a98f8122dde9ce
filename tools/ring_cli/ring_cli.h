/*
 * ring_cli.h - what the kura-ring commands share: the builder being edited,
 * the files beside it, exit codes, and how a command reports failure.
 *
 * kura-ring mirrors swift-ring-builder 2.30: one process runs one command
 * on one builder file. A command returns its exit status; main() owns the
 * builder and frees it afterwards. A command never saves a partly applied
 * change: it edits the builder in memory and saves once at the end, so an
 * error leaves the builder file byte-identical.
 */
#ifndef TOOLS_RING_CLI_RING_CLI_H
#define TOOLS_RING_CLI_RING_CLI_H

#include <stdarg.h>
#include <stdbool.h>

#include "ring/builder.h"

#define CLI_ERRLEN 256

/* Exit codes, as swift-ring-builder documents them. */
enum cli_status {
    CLI_OK = 0,      /* operation successful */
    CLI_WARNING = 1, /* operation completed with warnings */
    CLI_ERROR = 2,   /* error; nothing was written */
};

struct cli_cmd;

struct cli {
    const char *builder_file;
    char *ring_file;   /* <name>.ring.gz beside the builder */
    struct builder *b; /* NULL only for create on a missing file */
    const struct cli_cmd *cmd;
    int argc; /* the words after the command name */
    char **argv;
};

struct cli_cmd {
    const char *name;
    int (*run)(struct cli *cli);
    const char *usage;  /* Swift's docstring, naming kura-ring */
    bool search_help;   /* usage errors also explain search values */
    bool no_builder_ok; /* runs when the builder file is missing */
};

/* The commands, one definition each in the cmd_*.c files. */
extern const struct cli_cmd cmd_default, cmd_create, cmd_add, cmd_remove,
    cmd_set_weight, cmd_set_region, cmd_set_zone, cmd_set_info,
    cmd_set_replicas, cmd_set_overload, cmd_set_min_part_hours,
    cmd_pretend_min_part_hours_passed, cmd_search, cmd_list_parts,
    cmd_rebalance, cmd_dispersion, cmd_validate, cmd_write_ring;

/* Prints "kura-ring: <message>" as one line on stderr; returns CLI_ERROR. */
int cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* cli_error() for callers that have a va_list (left for them to end). */
int cli_verror(const char *fmt, va_list ap)
    __attribute__((format(printf, 1, 0)));

/* Prints the command's usage on stdout (as Swift does), then the one-line
 * error on stderr; returns CLI_ERROR. */
int cli_usage_error(const struct cli *cli, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* For commands that take exactly 'n' words and no options: CLI_OK, or
 * CLI_ERROR after cli_usage_error() names the missing or extra words. */
int cli_want_args(const struct cli *cli, int n);

/* Prints the usage of one command, or of all of them (cmd NULL). */
void usage_print_command(const struct cli_cmd *cmd);
void usage_print_all(const struct cli_cmd *const *cmds, int n_cmds);

/* Saves the builder atomically, after a copy in backups/<time>.<name>.
 * Returns CLI_OK or CLI_ERROR (message printed). */
int persist_save_builder(struct cli *cli);

/* Writes the ring file and its backup copy; with 'with_builder' also the
 * builder and its backup (rebalance), in Swift's order: ring backup,
 * builder backup, ring, builder. Returns CLI_OK or CLI_ERROR. */
int persist_write_ring(struct cli *cli, const struct ring_data *rd,
                       bool with_builder);

/* The ring file beside 'builder_file' ("x.builder" -> "x.ring.gz"). With a
 * ring file name, the builder file is derived the other way. Both are
 * malloc()ed; returns 0 or -ENOMEM. */
int persist_file_names(const char *arg, char **builder_file, char **ring_file);

#endif /* TOOLS_RING_CLI_RING_CLI_H */
