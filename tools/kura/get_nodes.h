/*
 * get_nodes.h - the pieces of 'kura get-nodes' shared between its files:
 * the human report (get_nodes.c) and the machine modes
 * (get_nodes_batch.c).
 */
#ifndef TOOLS_KURA_GET_NODES_H
#define TOOLS_KURA_GET_NODES_H

#include <stdbool.h>
#include <stdio.h>

#include "ring/hash_path.h"
#include "ring/ring.h"

/* Reads one "account[/container[/object]]" per line from 'in' and writes
 * one JSON object per line to 'out':
 *   {"path": ..., "part": N, "primaries": [ids], "handoffs": [ids]}
 * with the first 'n_handoffs' handoffs, or {"path": ..., "error": ...}
 * for a path that cannot be hashed. Returns 0 or -errno. */
int get_nodes_batch(const struct ring *ring, const struct hash_path_conf *hc,
                    unsigned n_handoffs, FILE *in, FILE *out);

/* Reads the ring file 'from' and writes it to 'to' with ringfile_write():
 * a test hook that makes Kura the writer of a ring Swift then reads.
 * Returns 0 or -errno after a message on stderr. */
int get_nodes_rewrite(const char *from, const char *to);

/* Prints where account t[0], container t[1], object t[2] (NULL or ""
 * when absent) live, as Swift's print_ring_locations(): partition and
 * hash, each primary's and handoff's device, a curl HEAD of each (with
 * X-Backend-Storage-Policy-Index unless 'policy_index' is -1) and an ssh
 * ls of its directory under 'datadir' ("objects", "containers"...);
 * as many handoffs as primaries, or every one with 'all'. Also used by
 * 'kura object-info'. Returns 0, -EINVAL (object without container) or
 * -ENOMEM. */
int get_nodes_print_locations(const struct ring *ring,
                              const struct hash_path_conf *hc,
                              const char *const t[3], const char *datadir,
                              int policy_index, bool all);

#endif /* TOOLS_KURA_GET_NODES_H */
