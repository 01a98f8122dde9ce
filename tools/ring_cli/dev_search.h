/*
 * dev_search.h - picking the devices a command acts on: reading the words
 * of a device command, the builder's devices matching a dev_spec, and
 * Swift's confirmation when a search matched more than one.
 */
#ifndef TOOLS_RING_CLI_DEV_SEARCH_H
#define TOOLS_RING_CLI_DEV_SEARCH_H

#include <stdbool.h>
#include <stddef.h>

#include "ring/builder.h"
#include "tools/ring_cli/ring_cli.h"
#include "tools/ring_cli/search_value.h"

struct dev_list {
    struct builder_dev **devs; /* borrowed from the builder */
    size_t n;
};

/* Appends the devices of 'b' matching 'spec' that 'out' does not hold
 * yet, in id order. Returns 0 or -ENOMEM. */
int dev_search(const struct builder *b, const struct dev_spec *spec,
               struct dev_list *out);
bool dev_list_has(const struct dev_list *l, int id);
void dev_list_release(struct dev_list *l);

/* Reads the words of a device command with dev_opt_specs: the options
 * into 'vals' (zeroed by the caller), the other words into *pos, which the
 * caller frees, and their count into *n_pos. Returns CLI_OK, or CLI_ERROR
 * (printed, with the usage for a bad option) and *pos NULL. */
int dev_search_parse_args(const struct cli *cli,
                          struct opt_value vals[DEV_OPT_COUNT], char ***pos,
                          int *n_pos);

/* The devices named by the words of remove, search and list_parts: search
 * values, or the --options form alone ('one_value': at most one search
 * value). Appends the matching devices to 'out' and, when 'yes' is not
 * NULL, sets *yes to whether --yes was given. Returns CLI_OK or CLI_ERROR
 * (printed). */
int dev_search_args(const struct cli *cli, bool one_value, struct dev_list *out,
                    bool *yes);

/* The usage text for the search options dev_search_args() reads, and for
 * what their values are, as Swift's docstrings repeat them. */
#define DEV_SEARCH_USAGE_OPTIONS                                               \
    "    --region <region> --zone <zone> --ip <ip or hostname> --port "        \
    "<port>\n"                                                                 \
    "    --replication-ip <r_ip or r_hostname> --replication-port "            \
    "<r_port>\n"
#define DEV_SEARCH_USAGE_WHERE                                                 \
    "    Where <r_ip>, <r_hostname> and <r_port> are replication ip, "         \
    "hostname\n"                                                               \
    "    and port.\n"                                                          \
    "    Any of the options are optional in both cases.\n"

/* Swift's check_devs: no device is an error ("Search value matched 0
 * devices."); several are listed and need 'yes', or a 'y' typed on a
 * terminal after 'question'. Without a terminal the answer is no, as when
 * Swift reads anything but 'y'. Returns CLI_OK or CLI_ERROR (printed). */
int dev_search_confirm(const struct dev_list *l, const char *question,
                       const char *abort_msg, bool yes);

#endif /* TOOLS_RING_CLI_DEV_SEARCH_H */
