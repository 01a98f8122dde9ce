/*
 * diskfile_io.c - the real system calls behind diskfile_io, and two
 * helpers every writer of object files needs. Tests replace the table;
 * see diskfile_io.h.
 */
#include "storage/diskfile_io.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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
