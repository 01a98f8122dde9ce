/*
 * ondisk.h - which files in an object's hash directory count, Swift's
 * get_ondisk_files() rules for replicated policies.
 *
 * File names are <timestamp>.data, <timestamp>.ts and <timestamp>.meta,
 * the timestamp in Swift's normalized internal form: ten digits, a dot,
 * five digits, and optionally "_" and sixteen lowercase hex digits of
 * offset ("1700000000.00000", "1700000000.00000_0000000000000001").
 * Normalized timestamps order as strings, so they are compared with
 * strcmp(). All but ondisk_list() are pure functions; all are
 * thread-safe.
 */
#ifndef STORAGE_ONDISK_H
#define STORAGE_ONDISK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest timestamp: 16 + 1 + 16 characters, plus the NUL. */
#define ONDISK_TS_SIZE 34

enum ondisk_ext { ONDISK_DATA, ONDISK_TS, ONDISK_META };

struct ondisk_file {
    const char *name; /* borrowed */
    char ts[ONDISK_TS_SIZE];
    enum ondisk_ext ext;
    bool obsolete; /* set by ondisk_classify(): safe to delete */
};

struct ondisk_state {
    int data; /* index of the current .data, or -1 */
    int ts;   /* index of the current .ts (only when no .data), or -1 */
    int meta; /* index of the .meta on top of the .data, or -1 */
};

/* True if 'ts' is a normalized internal timestamp (see above). */
bool ondisk_timestamp_valid(const char *ts);

/* Parses a file name into 'f' (f->name = name). Returns 0, or -EINVAL for
 * a name that is not ours (left alone: neither current nor obsolete). */
int ondisk_parse_name(const char *name, struct ondisk_file *f);

/* Applies Swift's rules to 'n' parsed files (any order):
 * - the newest .ts makes every older-or-equal file obsolete (and older .ts);
 * - only the newest .meta is kept;
 * - the newest .data newer than any .ts is current; older .data and any
 *   .ts/.meta not newer than it are obsolete;
 * - a .meta is reported only on top of a current .data; a .meta newer
 *   than a .ts with no .data is kept (not obsolete) but not reported.
 * Sets (or clears) each file's 'obsolete' and fills 'st'. */
void ondisk_classify(struct ondisk_file *files, size_t n,
                     struct ondisk_state *st);

/* Swift's reclaim_age, applied after ondisk_classify(): a current .ts, and
 * any .meta while no .data is current, whose timestamp is older than
 * 'reclaim_before' (Unix seconds) becomes obsolete too; st->ts is cleared
 * if its tombstone went. Tombstones must live long enough for every replica
 * to have seen them, or a stale replica resurrects the object: only the
 * replicator's hashing passes a reclaim time. */
void ondisk_reclaim(struct ondisk_file *files, size_t n,
                    struct ondisk_state *st, int64_t reclaim_before);

/* A hash directory's files, classified. */
struct ondisk_listing {
    char **names; /* every entry but . and .., sorted */
    size_t n_names;
    struct ondisk_file *files; /* the entries that parse, sorted by name */
    size_t n;
    struct ondisk_state st; /* indexes into 'files' */
};

/* Lists and classifies 'hash_dir', then applies ondisk_reclaim() when
 * 'reclaim_before' is not 0. With 'cleanup', unlinks the obsolete files
 * (through diskfile_io; a failed unlink is left for next time) and drops
 * them from the listing. Returns 0, -ENOENT (no such directory),
 * -ENOTDIR, -ENOMEM or -errno; release 'out' with ondisk_listing_release()
 * either way. */
int ondisk_list(const char *hash_dir, bool cleanup, int64_t reclaim_before,
                struct ondisk_listing *out);
void ondisk_listing_release(struct ondisk_listing *l);

#endif /* STORAGE_ONDISK_H */
