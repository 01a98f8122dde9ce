/*
 * atomic_file.h - replace a file so that readers and crashes see either the
 * old content or the new, never a mix.
 *
 * Write into a temp file beside the target, then commit: fsync the data,
 * rename over the target, fsync the directory (a rename is durable only
 * once the directory entry is on disk). Abort removes the temp file.
 */
#ifndef COMMON_ATOMIC_FILE_H
#define COMMON_ATOMIC_FILE_H

#include <stddef.h>

struct atomic_file {
    int fd;       /* write here between open and commit */
    char *path;   /* the target */
    char *tmp;    /* the temp file */
};

/* Creates the temp file for 'path' (mode 0644). Returns 0 or -errno. */
int atomic_file_open(struct atomic_file *af, const char *path);

/* Writes all of 'buf', retrying short writes. Returns 0 or -errno. */
int atomic_file_write(struct atomic_file *af, const void *buf, size_t len);

/* fsync, rename over the target, fsync the directory. Releases 'af'
 * whatever happens; on failure the temp file is removed and the target is
 * untouched. Returns 0 or -errno. */
int atomic_file_commit(struct atomic_file *af);

/* Removes the temp file and releases 'af'. Safe on a zeroed struct and
 * after a failed open. */
void atomic_file_abort(struct atomic_file *af);

/* Convenience: the whole new content at once. */
int atomic_file_replace(const char *path, const void *buf, size_t len);

/* Replaces 'dst' with a copy of the file 'src', atomically as above (for
 * backups: one encoding, two files). Returns 0 or -errno. */
int atomic_file_copy(const char *src, const char *dst);

/* fsyncs the directory holding 'path'. Returns 0 or -errno. */
int fsync_parent_dir(const char *path);

#endif /* COMMON_ATOMIC_FILE_H */
