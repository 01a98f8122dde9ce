/*
 * diskfile.h - one object's files on one device: Swift's DiskFile,
 * DiskFileWriter and DiskFileReader for replicated policies.
 *
 * Layout (doc/object-format.md):
 *   <devices>/<dev>/objects/<part>/<suffix>/<hash>/<timestamp>.data|.ts|.meta
 *   <devices>/<dev>/tmp/                      files being written
 *   <devices>/<dev>/quarantined/objects/<hash>  corrupt hash directories
 * where <hash> is hash_path_hex() of /account/container/object and
 * <suffix> its last three hex digits. Timestamps are strings in Swift's
 * normalized internal form ("1700000000.00000", optionally "_" and 16 hex
 * digits of offset); the caller normalizes them.
 *
 * Usage: diskfile_new() names the object (and checks the device);
 * diskfile_open() reads its current state for GET/HEAD; a writer streams a
 * PUT into a temp file and commits it; diskfile_delete() and
 * diskfile_post() write a tombstone and a .meta. A struct diskfile and its
 * reader or writer belong to one thread at a time; any number of them may
 * exist for the same object in other threads and processes: files are
 * immutable once renamed into place and the newest timestamp wins.
 *
 * Errors are -errno. Those callers map to statuses:
 *   -ENODEV   device missing or unmounted (mount_check): 507
 *   -ENOSPC, -EDQUOT   full: 507
 *   -ENOENT   no such object, or deleted (see diskfile_tombstone()): 404
 *   -EBADMSG  the body does not match the expected ETag: 422
 *   -EINVAL   bad argument (timestamp, device name), or the object's files
 *             were corrupt (they have been quarantined): 400 / 404
 *   -EUCLEAN  a full read found the data does not match its ETag; the
 *             object has been quarantined (abort the response)
 */
#ifndef STORAGE_DISKFILE_H
#define STORAGE_DISKFILE_H

#include "ring/hash_path.h"
#include "storage/objmeta.h"
#include "storage/ondisk.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct diskfile_conf {
    const char *devices; /* e.g. "/srv/node"; borrowed, must outlive us */
    bool mount_check;    /* refuse device directories that are not mounts */
    /* Swift's fallocate_reserve in bytes: a PUT that would leave less free
     * space on the device fails with -ENOSPC at once (507), so a device
     * never fills up completely; 0 turns the check off. */
    uint64_t fallocate_reserve;
    const struct hash_path_conf *hash_conf; /* borrowed */
};

struct diskfile;        /* opaque */
struct diskfile_writer; /* opaque */
struct diskfile_reader; /* opaque */

/* Names /account/container/object in partition 'part' of device 'dev'.
 * Checks the device (devices_check()). Returns 0 and sets *out (free with
 * diskfile_free()); -EINVAL for a bad device name or an empty account,
 * container or object; -ENODEV; -ENOMEM. Touches nothing on disk. */
int diskfile_new(const struct diskfile_conf *conf, const char *dev,
                 uint32_t part, const char *account, const char *container,
                 const char *object, struct diskfile **out);

/* The same for a hash directory known only by its hash (32 lowercase hex
 * digits), as the replicator and auditor see them. The name then comes
 * from the metadata, and diskfile_open() quarantines a .data whose name
 * does not hash to the directory (-EINVAL), as Swift does. */
int diskfile_new_from_hash(const struct diskfile_conf *conf, const char *dev,
                           uint32_t part, const char *hash,
                           struct diskfile **out);

void diskfile_free(struct diskfile *df); /* NULL is fine */

const char *diskfile_hash(const struct diskfile *df);     /* 32 hex */
const char *diskfile_hash_dir(const struct diskfile *df); /* full path */

/* Reads the object's current state. Returns 0 when a .data is current:
 * its file is open (a later DELETE does not disturb a reader) and
 * diskfile_metadata() holds its metadata merged with the newest .meta as
 * Swift merges them. Returns -ENOENT when there is no object; then
 * diskfile_tombstone() is the .ts timestamp if it was deleted, or NULL.
 * Returns -EINVAL when the metadata is corrupt or disagrees with the data
 * size (the hash directory is quarantined), -ENODEV, or another -errno.
 * Calling it again rereads. */
int diskfile_open(struct diskfile *df);

/* After a successful diskfile_open(); borrowed until the next open or
 * free. */
const struct objmeta *diskfile_metadata(const struct diskfile *df);
const char *diskfile_data_timestamp(const struct diskfile *df);
/* The newest of the .data and .meta timestamps (Swift's timestamp). */
const char *diskfile_timestamp(const struct diskfile *df);
uint64_t diskfile_content_length(const struct diskfile *df);
/* After diskfile_open() returned -ENOENT: the tombstone's timestamp, or
 * NULL when there is none. */
const char *diskfile_tombstone(const struct diskfile *df);

/* The metadata stored with one of the object's current files alone, not
 * merged: ONDISK_DATA the open .data's and ONDISK_META the current
 * .meta's (after a successful diskfile_open()), ONDISK_TS the tombstone's
 * (after diskfile_open() returned -ENOENT with a tombstone). What the
 * SSYNC sender sends as a PUT, a POST and a DELETE. Fills 'out' (released
 * first). Returns 0; -ENOENT when there is no such file (or it was
 * removed since the open); -EINVAL when it is corrupt; or -errno. */
int diskfile_read_file_metadata(struct diskfile *df, enum ondisk_ext which,
                                struct objmeta *out);

/* Reads up to 'len' bytes of data at 'off' (never the metadata trailer).
 * Returns the byte count (0 at or past the end) or -errno. No ETag check:
 * use a reader for that. */
ssize_t diskfile_pread(struct diskfile *df, void *buf, size_t len,
                       uint64_t off);

/* A sequential reader of bytes [off, off + len) of an open diskfile;
 * len UINT64_MAX means to the end. A reader of the whole object checks its
 * MD5 against the ETag at the end. Returns 0, -EINVAL (range past the end,
 * or the diskfile is not open) or -ENOMEM. The diskfile must outlive it. */
int diskfile_reader_new(struct diskfile *df, uint64_t off, uint64_t len,
                        struct diskfile_reader **out);

/* Reads the next bytes into 'buf'. Returns the count, 0 at the end, or
 * -errno; -EUCLEAN instead of the final 0 when the MD5 of a whole-object
 * read does not match the ETag (the object is then quarantined). */
ssize_t diskfile_reader_read(struct diskfile_reader *r, void *buf, size_t cap);
void diskfile_reader_free(struct diskfile_reader *r); /* NULL is fine */

/* Starts a PUT: creates a temp file in <dev>/tmp. When 'size' >= 0 the
 * space is reserved now, so a full disk fails here (-ENOSPC) before the
 * body is read; so does a PUT that would eat into fallocate_reserve. Returns 0
 * and sets *out (free with diskfile_writer_free()), -ENODEV, -ENOSPC or -errno.
 */
int diskfile_writer_new(struct diskfile *df, int64_t size,
                        struct diskfile_writer **out);

/* Makes 'w' take the body's MD5 from diskfile_writer_commit()'s
 * 'expected_etag' instead of computing it: for a body whose MD5 the sender
 * computed as it streamed (kura-proxy hashes an upload once and sends the
 * ETag in a footer, instead of every replica hashing it again). Call
 * before the first write. */
void diskfile_writer_trust_etag(struct diskfile_writer *w);

/* Appends a chunk of the body and folds it into the MD5. 0 or -errno. */
int diskfile_writer_write(struct diskfile_writer *w, const void *buf,
                          size_t len);

/* Bytes written so far. */
uint64_t diskfile_writer_bytes(const struct diskfile_writer *w);

/* Finishes the PUT: checks the body's MD5 against 'expected_etag' (hex,
 * case-insensitive; NULL skips the check; after
 * diskfile_writer_trust_etag() it must be 32 hex digits, -EBADMSG if not,
 * and becomes the ETag), stores 'meta' plus name,
 * X-Timestamp, ETag and Content-Length (set here, overriding the
 * caller's), fsyncs, renames to <hash dir>/<timestamp>.data, fsyncs the
 * directories, invalidates the suffix hash and removes files the new one
 * makes obsolete. On any failure before the rename the temp file is gone
 * and no object file was added. Returns 0; -EBADMSG on an ETag mismatch;
 * -EINVAL for a bad timestamp; -ENOSPC, -EIO, -ENODEV or -errno. After a
 * failed directory fsync (-EIO) the object is in place but maybe not
 * durable: answer 5xx. Call once. */
int diskfile_writer_commit(struct diskfile_writer *w,
                           const struct objmeta *meta, const char *timestamp,
                           const char *expected_etag);

/* The body's MD5 in hex, set by diskfile_writer_commit() (even when it
 * returns -EBADMSG); "" before. */
const char *diskfile_writer_etag(const struct diskfile_writer *w);

/* Removes the temp file unless committed (a client that disconnects
 * mid-upload leaves nothing behind) and frees 'w'. NULL is fine. */
void diskfile_writer_free(struct diskfile_writer *w);

/* DELETE: writes <timestamp>.ts (metadata: name, X-Timestamp) durably as a
 * PUT is written, removing older files. Returns 0 or -errno as commit. */
int diskfile_delete(struct diskfile *df, const char *timestamp);

/* POST: writes <timestamp>.meta holding 'meta' plus name and X-Timestamp.
 * Readers then see it merged over the .data (user metadata replaced,
 * system metadata kept). Returns 0 or -errno as commit. */
int diskfile_post(struct diskfile *df, const struct objmeta *meta,
                  const char *timestamp);

/* Moves the hash directory to <dev>/quarantined/objects/<hash> (with a
 * random suffix if that exists) and invalidates the suffix hash so the
 * replicator restores a good copy. Closes an open data file. Returns 0,
 * -ENOENT (nothing to move) or -errno. */
int diskfile_quarantine(struct diskfile *df);

/* Removes temp files in <devices>/<dev>/tmp last modified before
 * 'older_than' (Unix seconds; the replicator passes now - reclaim_age):
 * strays of writers that crashed mid-PUT. A live upload touches its file
 * with every write, so it is never taken. Returns the number removed,
 * -ENODEV, or -errno. */
int diskfile_cleanup_tmp(const struct diskfile_conf *conf, const char *dev,
                         int64_t older_than);

#endif /* STORAGE_DISKFILE_H */
