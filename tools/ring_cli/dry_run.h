/*
 * dry_run.h - what a rebalance would move, without moving it: kura-ring's
 * "rebalance --dry-run [--usage <file>]".
 *
 * The caller rebalances a scratch copy (builder_clone()); this compares
 * the copy's assignment with the original's, partition by partition, and
 * prints the partition replicas each device would gain and lose, the
 * from -> to pairs and, given a usage file, the bytes to copy.
 *
 * Usage file: JSON object mapping device ids (decimal strings) to bytes
 * used on that device, e.g. {"0": 1073741824, "3": 52428800}. A device's
 * bytes per partition replica are its bytes over the partition replicas it
 * holds before the rebalance; devices missing from the file count as
 * unknown.
 */
#ifndef TOOLS_RING_CLI_DRY_RUN_H
#define TOOLS_RING_CLI_DRY_RUN_H

#include "ring/builder.h"

/* Prints the movement from 'before' to 'after' (same devices, 'after'
 * rebalanced). 'usage_file' may be NULL. Returns CLI_OK or CLI_ERROR
 * (unreadable usage file, out of memory; message printed). */
int dry_run_report(const struct builder *before, const struct builder *after,
                   const char *usage_file);

#endif /* TOOLS_RING_CLI_DRY_RUN_H */
