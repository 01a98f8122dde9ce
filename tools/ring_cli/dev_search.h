/*
 * dev_search.h - picking the devices a command acts on: the builder's
 * devices matching a dev_spec, and Swift's confirmation when a search
 * matched more than one.
 */
#ifndef TOOLS_RING_CLI_DEV_SEARCH_H
#define TOOLS_RING_CLI_DEV_SEARCH_H

#include <stdbool.h>
#include <stddef.h>

#include "ring/builder.h"
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

/* Swift's check_devs: no device is an error ("Search value matched 0
 * devices."); several are listed and need 'yes', or a 'y' typed on a
 * terminal after 'question'. Without a terminal the answer is no, as when
 * Swift reads anything but 'y'. Returns CLI_OK or CLI_ERROR (printed). */
int dev_search_confirm(const struct dev_list *l, const char *question,
                       const char *abort_msg, bool yes);

#endif /* TOOLS_RING_CLI_DEV_SEARCH_H */
