/*
 * live_ring.h - a ring that follows its file: the ring every daemon uses.
 *
 * Like Swift's Ring with reload_time: at most every 'reload_time' seconds
 * a caller of live_ring_get() checks whether the file changed (mtime,
 * size, inode), and if so loads the new file completely, in that caller's
 * thread, while every other thread keeps using the current ring. Only a
 * fully loaded ring is swapped in; a bad file keeps the old ring, the
 * error is kept for live_ring_last_error(), and that same file is not
 * retried until it changes again.
 *
 * Thread-safety: every function but live_ring_free() may be called from
 * any thread at once. A reader holds a reference (ring_free() drops it),
 * so a swap never frees a ring someone is using; the lookup functions of
 * ring.h need no lock. A mutex is held only to copy the pointer and bump
 * the count, and a reload never happens under it.
 */
#ifndef RING_LIVE_RING_H
#define RING_LIVE_RING_H

#include "ring/ring.h"

#define LIVE_RING_DEFAULT_RELOAD_TIME 15 /* seconds, as Swift */

struct live_ring; /* opaque */

/* Loads the ring file at 'path' and sets *out to a live ring checking it
 * every 'reload_time' seconds (0: on every live_ring_get()). Returns 0,
 * or -errno (-EINVAL: malformed ring) with a reason in 'err' and *out
 * NULL: unlike a reload, the first load has no old ring to keep. */
int live_ring_new(const char *path, unsigned reload_time,
                  struct live_ring **out, char err[RINGFILE_ERRLEN]);

/* Frees the live ring; rings readers still hold stay valid until they
 * ring_free() them. No other call on 'lr' may be running. NULL is fine. */
void live_ring_free(struct live_ring *lr);

/* Returns a reference to the current ring, never NULL; the caller drops
 * it with ring_free(). Reloads first when the check is due. */
struct ring *live_ring_get(struct live_ring *lr);

/* Checks the file now, whatever the timer says, waiting for a check
 * another thread is running. Returns 1 when a new ring was swapped in, 0
 * when the file is unchanged (or is the bad file already reported), or
 * -errno with a reason in 'err' (may be NULL) when the new file cannot be
 * loaded and the old ring stays. */
int live_ring_reload(struct live_ring *lr, char err[RINGFILE_ERRLEN]);

/* The outcome of the last check that looked at a changed file: 0, or the
 * -errno of a failed load with its reason copied into 'err'. */
int live_ring_last_error(struct live_ring *lr, char err[RINGFILE_ERRLEN]);

#endif /* RING_LIVE_RING_H */
