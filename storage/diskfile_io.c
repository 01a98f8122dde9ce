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

int diskfile_io_listdir(const char *path, char ***names, size_t *n)
{
    DIR *d = opendir(path);
    struct dirent *e;
    char **v = NULL;
    size_t len = 0, cap = 0;
    int err = 0;

    *names = NULL;
    *n = 0;
    if (!d)
        return -errno;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (len == cap) {
            char **nv;

            cap = cap ? cap * 2 : 16;
            nv = realloc(v, cap * sizeof(*v));
            if (!nv) {
                err = -ENOMEM;
                break;
            }
            v = nv;
        }
        v[len] = strdup(e->d_name);
        if (!v[len]) {
            err = -ENOMEM;
            break;
        }
        len++;
    }
    closedir(d);
    if (err) {
        diskfile_io_free_names(v, len);
        return err;
    }
    if (len)
        qsort(v, len, sizeof(*v), cmp_names);
    *names = v;
    *n = len;
    return 0;
}
