/*
 * diskfile_io.c - the real system calls behind diskfile_io, and the
 * helpers every writer of object files needs: whole writes, directory
 * fsyncs, fsyncs of several files at once, directory listings. Tests
 * replace the table; see diskfile_io.h.
 */
#include "storage/diskfile_io.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

static int sys_fsetxattr(int fd, const char *name, const void *val, size_t len,
                         int flags)
{
    return fsetxattr(fd, name, val, len, flags);
}

const struct diskfile_io diskfile_io_sys = {
    .pwrite = pwrite,
    .fallocate = fallocate,
    .fsetxattr = sys_fsetxattr,
    .fsync = fsync,
    .rename = rename,
    .mkdir = mkdir,
    .unlink = unlink,
};

const struct diskfile_io *diskfile_io = &diskfile_io_sys;

int diskfile_io_pwrite_all(int fd, const void *buf, size_t len, off_t off)
{
    const char *p = buf;

    while (len > 0) {
        ssize_t n = diskfile_io->pwrite(fd, p, len, off);

        if (n == -1) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            return -EIO;
        p += n;
        len -= (size_t)n;
        off += n;
    }
    return 0;
}

int diskfile_io_fsync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int err = 0;

    if (fd == -1)
        return -errno;
    if (diskfile_io->fsync(fd) == -1)
        err = -errno;
    close(fd);
    return err;
}

/* ---- several fsyncs at once ---- */

/* A batch is at most 5 fds (the file and the parents of objects/, the
 * partition, the suffix and the hash dir); the ring holds them all. */
#define RING_ENTRIES 8

static atomic_bool use_io_uring;

void diskfile_io_set_fsync_io_uring(bool on)
{
    atomic_store(&use_io_uring, on);
}

static pthread_once_t ring_once = PTHREAD_ONCE_INIT;
static pthread_key_t ring_key;
static bool ring_key_ok;
static __thread bool ring_unavailable; /* no io_uring for this thread */

static void ring_free(void *p)
{
    struct io_uring *ring = p;

    io_uring_queue_exit(ring);
    free(ring);
}

static void make_ring_key(void)
{
    ring_key_ok = pthread_key_create(&ring_key, ring_free) == 0;
}

/* The calling thread's ring, made on first use; NULL when io_uring cannot
 * be had (ENOSYS, EPERM under seccomp, out of locked memory): the caller
 * then fsyncs one by one, which is only slower. */
static struct io_uring *thread_ring(void)
{
    struct io_uring *ring;

    if (ring_unavailable)
        return NULL;
    pthread_once(&ring_once, make_ring_key);
    if (!ring_key_ok) {
        ring_unavailable = true;
        return NULL;
    }
    ring = pthread_getspecific(ring_key);
    if (ring)
        return ring;
    ring = calloc(1, sizeof(*ring));
    if (!ring || io_uring_queue_init(RING_ENTRIES, ring, 0) < 0) {
        free(ring);
        ring_unavailable = true;
        return NULL;
    }
    if (pthread_setspecific(ring_key, ring)) {
        ring_free(ring);
        ring_unavailable = true;
        return NULL;
    }
    return ring;
}

/* After an error of the ring itself (not of an fsync) its state is
 * unknown: close it (the kernel finishes or cancels what it holds; it has
 * its own references to the files) and go on without io_uring. */
static void drop_thread_ring(struct io_uring *ring)
{
    pthread_setspecific(ring_key, NULL);
    ring_free(ring);
    ring_unavailable = true;
}

static int fsync_one(int fd)
{
    return diskfile_io->fsync(fd) == -1 ? -errno : 0;
}

/* fds[0] here, fds[1, n) through the ring; errs[i] gets each result.
 * n <= RING_ENTRIES + 1. An fd the ring could not answer for is fsynced
 * here afterwards (twice is harmless). */
static void fsync_chunk(struct io_uring *ring, const int *fds, size_t n,
                        int *errs)
{
    bool got[RING_ENTRIES + 1] = {false};
    unsigned int queued = 0, done = 0;
    int submitted;

    for (size_t i = 1; i < n; i++) {
        struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

        if (!sqe)
            break;
        io_uring_prep_fsync(sqe, fds[i], 0);
        io_uring_sqe_set_data64(sqe, i);
        /* fsync blocks: straight to a worker, no non-blocking try */
        io_uring_sqe_set_flags(sqe, IOSQE_ASYNC);
        queued++;
    }
    submitted = queued ? io_uring_submit(ring) : 0;
    errs[0] = fsync_one(fds[0]);
    if (submitted < 0 || (unsigned int)submitted != queued) {
        /* some sqes may still sit in the ring: it must not be reused */
        drop_thread_ring(ring);
        ring = NULL;
    }
    while (ring && done < (unsigned int)submitted) {
        struct io_uring_cqe *cqe;
        uint64_t i;
        /* one wait for all that are left, then each in turn */
        int err = io_uring_wait_cqe_nr(ring, &cqe, submitted - done);

        if (err == -EINTR)
            continue;
        if (err) {
            drop_thread_ring(ring);
            break;
        }
        i = io_uring_cqe_get_data64(cqe);
        if (i > 0 && i < n && !got[i] && cqe->res != -ECANCELED &&
            cqe->res != -EAGAIN && cqe->res != -EINTR) {
            errs[i] = cqe->res;
            got[i] = true;
        }
        io_uring_cqe_seen(ring, cqe);
        done++;
    }
    for (size_t i = 1; i < n; i++)
        if (!got[i])
            errs[i] = fsync_one(fds[i]);
}

int diskfile_io_fsync_batch(const int *fds, size_t n)
{
    int errs[RING_ENTRIES + 1];
    bool uring = n > 1 && atomic_load(&use_io_uring) &&
                 diskfile_io == &diskfile_io_sys;
    int first = 0;

    for (size_t at = 0; at < n; at += RING_ENTRIES + 1) {
        size_t k = n - at < RING_ENTRIES + 1 ? n - at : RING_ENTRIES + 1;
        struct io_uring *ring = uring ? thread_ring() : NULL;

        if (ring) {
            fsync_chunk(ring, fds + at, k, errs);
        } else {
            for (size_t i = 0; i < k; i++)
                errs[i] = fsync_one(fds[at + i]);
        }
        for (size_t i = 0; i < k && !first; i++)
            first = errs[i];
    }
    return first;
}

void diskfile_io_free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Appends a copy of 'name' to v[0, *len), growing it. 0 or -ENOMEM. */
static int names_add(char ***v, size_t *len, size_t *cap, const char *name)
{
    if (*len == *cap) {
        size_t ncap = *cap ? *cap * 2 : 8;
        char **nv = realloc(*v, ncap * sizeof(**v));

        if (!nv)
            return -ENOMEM;
        *v = nv;
        *cap = ncap;
    }
    (*v)[*len] = strdup(name);
    if (!(*v)[*len])
        return -ENOMEM;
    (*len)++;
    return 0;
}

/* getdents64() into a stack buffer rather than opendir()/readdir(): a hash
 * dir holds one to three names, and opendir() costs an fstat() and a
 * 32 KiB allocation on every GET, HEAD and PUT. */
int diskfile_io_listdir(const char *path, char ***names, size_t *n)
{
    char buf[4096] __attribute__((aligned(8)));
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    char **v = NULL;
    size_t len = 0, cap = 0;
    int err = 0;

    *names = NULL;
    *n = 0;
    if (fd == -1)
        return -errno;
    for (;;) {
        ssize_t got = getdents64(fd, buf, sizeof(buf));

        if (got == -1) {
            err = -errno;
            break;
        }
        if (got == 0)
            break;
        for (ssize_t off = 0; off < got && !err;) {
            const struct dirent64 *e = (const struct dirent64 *)(buf + off);

            off += e->d_reclen;
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
                err = names_add(&v, &len, &cap, e->d_name);
        }
        if (err)
            break;
    }
    close(fd);
    if (err) {
        diskfile_io_free_names(v, len);
        return err;
    }
    if (len > 1)
        qsort(v, len, sizeof(*v), cmp_names);
    *names = v;
    *n = len;
    return 0;
}
