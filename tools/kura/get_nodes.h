/*
 * get_nodes.h - the pieces of 'kura get-nodes' shared between its files:
 * the human report (get_nodes.c) and the machine modes
 * (get_nodes_batch.c).
 */
#ifndef TOOLS_KURA_GET_NODES_H
#define TOOLS_KURA_GET_NODES_H

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

#endif /* TOOLS_KURA_GET_NODES_H */
