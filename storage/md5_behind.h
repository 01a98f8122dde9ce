/*
 * md5_behind.h - the MD5 of a byte stream, computed on a helper thread a
 * few blocks behind the thread that produces the bytes.
 *
 * A large GET reads, checks and sends every byte of the object on its
 * connection's thread; MD5 is the slowest of the three (about 0.7 GB/s
 * here) and is serial. Handing it to a second thread lets one stream go
 * as fast as the MD5 alone instead of as fast as all three in turn.
 *
 * md5_behind_update() copies the bytes into a ring of blocks that the
 * helper thread hashes in order; the caller's buffer is free again when
 * it returns. When every block is queued, the caller waits for the block
 * the helper is in the middle of, or, if the helper is not hashing (a
 * loaded machine gives it no CPU), hashes the next block itself: memory
 * is bounded (n_blocks * block_size) and the stream never waits on a
 * helper that does not run. md5_behind_final() hashes or waits for the
 * rest and gives the digest. One md5_behind belongs to one producer
 * thread (its calls are not thread-safe); the helper thread is its own
 * business: md5_behind_free() stops and joins it whatever state the
 * stream is in (a client that went away mid-body), without hashing what
 * is left.
 */
#ifndef STORAGE_MD5_BEHIND_H
#define STORAGE_MD5_BEHIND_H

#include <stddef.h>

struct md5_behind; /* opaque */

/* Starts the helper thread with 'n_blocks' blocks of 'block_size' bytes
 * (n_blocks >= 2, block_size > 0). Returns 0 and sets *out (free with
 * md5_behind_free()), or -ENOMEM / -EAGAIN (no thread: the caller can
 * hash inline instead) with *out NULL. */
int md5_behind_new(size_t block_size, unsigned int n_blocks,
                   struct md5_behind **out);

/* Queues 'len' bytes to be hashed after those queued before; copies them,
 * making room as above when all blocks are queued. Not after
 * md5_behind_final(). */
void md5_behind_update(struct md5_behind *mb, const void *buf, size_t len);

/* Hashes (or waits for the helper to hash) everything queued and writes
 * the MD5 as 32 lowercase hex digits and a NUL into 'hex'. Call once. */
void md5_behind_final(struct md5_behind *mb, char hex[33]);

/* Stops the helper thread (at once: blocks still queued are dropped),
 * joins it and frees 'mb'. NULL is fine. */
void md5_behind_free(struct md5_behind *mb);

#endif /* STORAGE_MD5_BEHIND_H */
