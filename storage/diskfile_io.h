/*
 * diskfile_io.h - the system calls the object layer writes through.
 *
 * Every call that changes an object's files on disk (write, fallocate,
 * fsetxattr, fsync, rename, mkdir, unlink) goes through the table that
 * 'diskfile_io' points at, so unit tests can swap in a table that fails
 * with -EIO or -ENOSPC at a chosen call and prove that no half-written
 * object and no temp file is left behind. Production code never changes
 * the pointer. Each entry has its system call's contract: it returns -1
 * and sets errno on failure.
 */
#ifndef STORAGE_DISKFILE_IO_H
#define STORAGE_DISKFILE_IO_H

#include <stdbool.h>
#include <sys/types.h>

struct diskfile_io {
    ssize_t (*pwrite)(int fd, const void *buf, size_t len, off_t off);
    int (*fallocate)(int fd, int mode, off_t off, off_t len);
    int (*fsetxattr)(int fd, const char *name, const void *val, size_t len,
                     int flags);
    int (*fsync)(int fd);
    int (*rename)(const char *from, const char *to);
    int (*mkdir)(const char *path, mode_t mode);
    int (*unlink)(const char *path);
};

/* The real system calls. */
extern const struct diskfile_io diskfile_io_sys;

/* Test-only: the table in use; &diskfile_io_sys unless a test swaps it.
 * Not synchronized: swap it only while no other thread does disk I/O. */
extern const struct diskfile_io *diskfile_io;

/* Writes all of 'buf' at 'off', retrying short writes. 0 or -errno. */
int diskfile_io_pwrite_all(int fd, const void *buf, size_t len, off_t off);

/* fsyncs the directory 'path'. 0 or -errno. */
int diskfile_io_fsync_dir(const char *path);

/* fsyncs every one of fds[0, n) and returns once all are done: fds[0] on
 * the calling thread, the others at the same time through the calling
 * thread's io_uring (the kernel's workers), so the device flushes they
 * cause overlap instead of queueing one after the other. Returns 0, or
 * the -errno of the first fd in array order whose fsync failed; every fd
 * was tried either way. Without io_uring (kernel too old, seccomp) and
 * while a test has swapped 'diskfile_io', the fds go one by one, in
 * order, through diskfile_io->fsync. Thread-safe: each thread has its own
 * ring, made on first use and freed when the thread exits. */
int diskfile_io_fsync_batch(const int *fds, size_t n);

/* Whether diskfile_io_fsync_batch() uses io_uring (object-server.conf
 * fsync_io_uring); off by default: on this project's 2-core test machine
 * the io-wq workers' wake-ups cost more than the overlapped flushes saved
 * (doc/benchmarks.md), and the fds then go one by one, in order. */
void diskfile_io_set_fsync_io_uring(bool on);

/* Lists the entries of directory 'path' but . and .., sorted by strcmp(),
 * into a malloc()ed array of strings freed with diskfile_io_free_names().
 * Returns 0 or -errno (-ENOENT, -ENOTDIR, -ENOMEM). */
int diskfile_io_listdir(const char *path, char ***names, size_t *n);
void diskfile_io_free_names(char **names, size_t n);

#endif /* STORAGE_DISKFILE_IO_H */
