/*
 * suffix_hash.h - per-partition suffix hashes for the replicator, Swift's
 * hashes.pkl and hashes.invalid in a format of our own.
 *
 * A suffix's hash is an XXH3-64 over the names of the live files in its
 * hash directories (doc/object-format.md). Two replicas of a partition
 * agree on a suffix exactly when they hold the same current files there,
 * so the replicator compares the maps and syncs only differing suffixes.
 *
 * Files in <devices>/<dev>/objects/<part>/:
 *   hashes.kura     the cached map, rewritten atomically
 *   hashes.invalid  suffixes written since, one "abc\n" per write
 *   .lock           flock()ed around both
 * The write path only appends to hashes.invalid (cheap); the next
 * suffix_hash_get() recomputes those suffixes. All calls lock the
 * partition, so processes and threads may call them concurrently.
 */
#ifndef STORAGE_SUFFIX_HASH_H
#define STORAGE_SUFFIX_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SUFFIX_HASH_FILE "hashes.kura"
#define SUFFIX_HASH_INVALID "hashes.invalid"
#define SUFFIX_HASH_LOCK ".lock"

struct suffix_hash {
    char suffix[4]; /* three lowercase hex digits and a NUL */
    uint64_t hash;
};

/* A partition's map, sorted by suffix. Zeroed is empty. */
struct suffix_hashes {
    struct suffix_hash *v;
    size_t n;
};

void suffix_hashes_release(struct suffix_hashes *sh);

/* The hash of 'suffix' in 'sh', or NULL. */
const struct suffix_hash *suffix_hashes_find(const struct suffix_hashes *sh,
                                             const char *suffix);

/* True for three lowercase hex digits. */
bool suffix_hash_valid_suffix(const char *suffix);

/* Marks 'suffix' of the partition directory 'part_dir' as changed. Call it
 * before renaming a file into the suffix (a crash after the rename leaves
 * the mark) and again after (a concurrent suffix_hash_get() between the
 * two consumed the first mark without seeing the file). Not fsynced: a
 * crash that loses it also changes the boot id, which invalidates the
 * whole cached map. Returns 0 or -errno. */
int suffix_hash_invalidate(const char *part_dir, const char *suffix);

/* A writer's marks: suffix_hash_invalidate() before and after its rename
 * with the partition's lock file and hashes.invalid opened once, not
 * twice (four path walks and closes less per PUT). Each mark takes the
 * lock, appends, and lets it go. Open: 0 or -errno; the marks
 * themselves: as suffix_hash_invalidate(). Close always, also after a
 * failed open. */
struct suffix_mark {
    int lock;
    int fd;
};
int suffix_mark_open(const char *part_dir, struct suffix_mark *m);
int suffix_mark_add(struct suffix_mark *m, const char *suffix);
void suffix_mark_close(struct suffix_mark *m);

/* The suffix -> hash map of 'part_dir' (a missing directory is an empty
 * map): the cached one with every invalidated suffix and those in
 * 'recalc' (may be NULL when 'nrecalc' is 0) recomputed, or all suffixes
 * recomputed when there is no valid cache. Recomputing removes obsolete
 * files, empty hash directories and empty suffix directories, and, when
 * 'reclaim_before' (Unix seconds: now - reclaim_age) is not 0, tombstones
 * and orphaned .meta files older than that (ondisk_reclaim()). Returns 0
 * and fills 'out' (release with suffix_hashes_release()), or -errno. */
int suffix_hash_get(const char *part_dir, const char *const *recalc,
                    size_t nrecalc, int64_t reclaim_before,
                    struct suffix_hashes *out);

/* Computes one suffix directory's hash without caching it. Sets *empty
 * when it holds no live file (it is then removed if possible). Returns 0
 * (a missing directory is empty) or -errno. */
int suffix_hash_compute(const char *suffix_dir, int64_t reclaim_before,
                        uint64_t *hash, bool *empty);

#endif /* STORAGE_SUFFIX_HASH_H */
