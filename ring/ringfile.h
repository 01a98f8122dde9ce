/*
 * ringfile.h - Swift's ring file format v1 (*.ring.gz), read and written.
 *
 * Format (doc/ring-format.md): a gzip stream of
 *   "R1NG" | u16 version = 1 (big endian) | u32 json_len (big endian) |
 *   json header {"byteorder", "devs", "part_shift", "replica_count",
 *                ["version"], ["next_part_power"]} |
 *   replica_count arrays of u16 device ids, 2^(32 - part_shift) each but
 *   the last, which is shorter when the replica count is fractional.
 * A ring_data is plain data with no invariants beyond those the reader
 * checks; the runtime (ring.h) and the builder both use it.
 */
#ifndef RING_RINGFILE_H
#define RING_RINGFILE_H

#include <stddef.h>
#include <stdint.h>

#include "ring/dev.h"

#define RINGFILE_ERRLEN 256

struct ring_data {
    struct ring_dev **devs; /* indexed by id; NULL for holes */
    size_t n_devs;
    unsigned part_shift;    /* 32 - part_power */
    size_t n_replicas;      /* number of replica arrays */
    uint16_t **replica2part2dev;
    size_t *replica_parts;  /* length of each replica array */
    long version;           /* -1: not set */
    int next_part_power;    /* -1: not set */
};

/* Reads the ring file at 'path' into 'out' (which the caller later
 * releases with ring_data_release()). Every device id used by the arrays
 * must name a device. Returns 0; -ENOENT and other -errno from the file
 * system; -EINVAL for a malformed, truncated, oversized or device-less
 * file, with a one-line reason in 'err'. */
int ringfile_read(const char *path, struct ring_data *out,
                  char err[RINGFILE_ERRLEN]);

/* Writes 'rd' to 'path' atomically (temp file in the same directory,
 * fsync, rename, fsync of the directory), as gzip with a fixed mtime so the
 * same ring gives the same bytes. Returns 0 or -errno with 'err' set. */
int ringfile_write(const char *path, const struct ring_data *rd,
                   char err[RINGFILE_ERRLEN]);

/* Frees everything 'rd' holds and zeroes it. */
void ring_data_release(struct ring_data *rd);

#endif /* RING_RINGFILE_H */
