/*
 * ring.h - maps account/container/object names to partitions and devices,
 * exactly as Swift 2.30's swift.common.ring.Ring does.
 *
 * A ring is read-only once loaded, so request threads share it without
 * locking. It is reference counted (C11 atomics): ring_load() returns one
 * reference, ring_ref() adds one, ring_free() drops one and the last drop
 * frees it. To pick up a new ring file while running, see live_ring.h.
 *
 * Lookup: hash_path() (hash_path.h) gives a digest, ring_get_part() the
 * partition, ring_get_part_nodes() its primary devices, and a
 * ring_handoff_iter the handoff devices in Swift's order, as many as the
 * caller wants.
 */
#ifndef RING_RING_H
#define RING_RING_H

#include <stddef.h>
#include <stdint.h>

#include "ring/dev.h"
#include "ring/ringfile.h"

struct ring;              /* opaque */
struct ring_handoff_iter; /* opaque */

/* Loads the ring file at 'path'. On success returns 0 and sets *out to a
 * ring holding one reference. On failure returns -errno (-EINVAL: malformed
 * file; see ringfile_read()) with a one-line reason in 'err' (may be NULL)
 * and sets *out to NULL. */
int ring_load(const char *path, struct ring **out, char err[RINGFILE_ERRLEN]);

/* Makes a ring from ring data that ringfile_read() could have returned
 * (every id in the arrays names a device; the first array is full).
 * Takes ownership of the contents of 'rd' and zeroes it, whatever happens.
 * Returns 0, -EINVAL (inconsistent data) or -ENOMEM. */
int ring_from_data(struct ring_data *rd, struct ring **out);

/* Adds a reference and returns 'ring'. Thread-safe. */
struct ring *ring_ref(struct ring *ring);

/* Drops a reference; the last one frees the ring. NULL is fine.
 * Thread-safe. */
void ring_free(struct ring *ring);

/* What the ring was built from: devices, arrays, version. Read-only. */
const struct ring_data *ring_get_data(const struct ring *ring);

unsigned ring_part_power(const struct ring *ring);    /* 32 - part_shift */
size_t ring_partition_count(const struct ring *ring); /* 2^part_power */

/* Swift's calc_replica_count: full arrays plus the fraction of the last,
 * e.g. 2.5. */
double ring_replica_count(const struct ring *ring);

/* Number of replica arrays: the most primaries a partition can have. */
size_t ring_replica_arrays(const struct ring *ring);

/* Devices: ids run 0..ring_dev_slots() - 1, with holes (removed devices)
 * for which ring_get_dev() returns NULL, as it does for any id out of
 * range. The device is owned by the ring. */
size_t ring_dev_slots(const struct ring *ring);
size_t ring_device_count(const struct ring *ring); /* without the holes */
const struct ring_dev *ring_get_dev(const struct ring *ring, unsigned id);

/* The partition of a hash_path() digest: the top part_power bits of its
 * first four bytes, read big-endian. */
uint32_t ring_get_part(const struct ring *ring, const unsigned char digest[16]);

/* The primary devices of 'part', one per replica array in order, each
 * device once (a device holding two replicas appears at its first), as
 * Swift's get_part_nodes. Stores up to 'max' of them in 'nodes' and returns
 * how many there are (never more than ring_replica_arrays()). A part out
 * of range has none. */
size_t ring_get_part_nodes(const struct ring *ring, uint32_t part,
                           const struct ring_dev **nodes, size_t max);

/* Starts the handoffs of 'part' in Swift's get_more_nodes order: devices
 * in regions no primary uses, then in new zones, then on new ips, then
 * any device not yet returned, walking partitions from a start derived
 * from md5(str(part)). 'ring' must outlive the iterator (keep your
 * reference). Returns 0 or -ENOMEM. One iterator per thread; many may
 * share a ring. */
int ring_handoff_iter_new(const struct ring *ring, uint32_t part,
                          struct ring_handoff_iter **out);

/* The next handoff device, or NULL when every device that holds any
 * partition has been returned. */
const struct ring_dev *ring_handoff_iter_next(struct ring_handoff_iter *it);

void ring_handoff_iter_free(struct ring_handoff_iter *it); /* NULL is fine */

#endif /* RING_RING_H */
