/*
 * atomic_file.c - temp file, fsync, rename, fsync directory.
 *
 * Invariant: the target path only ever names a complete file. The temp
 * file is "<dir>/.<name>.XXXXXX" so a crash leaves at worst a hidden stray
 * beside the target, never a truncated target.
 */
#include "common/atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void release(struct atomic_file *af)
{
    if (af->path && af->fd >= 0)
        close(af->fd);
    af->fd = -1;
    free(af->path);
    free(af->tmp);
    af->path = NULL;
    af->tmp = NULL;
}

int fsync_parent_dir(const char *path)
{
    char *copy = strdup(path);
    int fd, err = 0;

    if (!copy)
        return -ENOMEM;
    fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd == -1) {
        err = -errno;
    } else {
        if (fsync(fd) == -1)
            err = -errno;
        close(fd);
    }
    free(copy);
    return err;
}

int atomic_file_open(struct atomic_file *af, const char *path)
{
    char *dcopy = strdup(path), *bcopy = strdup(path);
    int err = 0;

    af->fd = -1;
    af->path = strdup(path);
    af->tmp = NULL;
    if (!dcopy || !bcopy || !af->path) {
        err = -ENOMEM;
        goto out;
    }
    if (asprintf(&af->tmp, "%s/.%s.XXXXXX", dirname(dcopy),
                 basename(bcopy)) < 0) {
        af->tmp = NULL;
        err = -ENOMEM;
        goto out;
    }
    af->fd = mkostemp(af->tmp, O_CLOEXEC);
    if (af->fd == -1) {
        err = -errno;
        goto out;
    }
    if (fchmod(af->fd, 0644) == -1) {
        err = -errno;
        unlink(af->tmp);
    }
out:
    free(dcopy);
    free(bcopy);
    if (err)
        release(af);
    return err;
}

int atomic_file_write(struct atomic_file *af, const void *buf, size_t len)
{
    const char *p = buf;

    while (len > 0) {
        ssize_t n = write(af->fd, p, len);
        if (n == -1) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int atomic_file_commit(struct atomic_file *af)
{
    int err = 0;

    if (fsync(af->fd) == -1) {
        err = -errno;
        goto fail;
    }
    if (rename(af->tmp, af->path) == -1) {
        err = -errno;
        goto fail;
    }
    err = fsync_parent_dir(af->path);
    release(af);
    return err;
fail:
    unlink(af->tmp);
    release(af);
    return err;
}

void atomic_file_abort(struct atomic_file *af)
{
    if (af->tmp)
        unlink(af->tmp);
    release(af);
}

int atomic_file_replace(const char *path, const void *buf, size_t len)
{
    struct atomic_file af;
    int err = atomic_file_open(&af, path);

    if (err)
        return err;
    err = atomic_file_write(&af, buf, len);
    if (err) {
        atomic_file_abort(&af);
        return err;
    }
    return atomic_file_commit(&af);
}

int atomic_file_copy(const char *src, const char *dst)
{
    struct atomic_file af;
    char buf[1 << 16];
    int in = open(src, O_RDONLY | O_CLOEXEC), err;

    if (in == -1)
        return -errno;
    err = atomic_file_open(&af, dst);
    while (!err) {
        ssize_t n = read(in, buf, sizeof(buf));
        if (n == 0)
            break;
        if (n == -1) {
            if (errno == EINTR)
                continue;
            err = -errno;
            break;
        }
        err = atomic_file_write(&af, buf, (size_t)n);
        if (err)
            break;
    }
    close(in);
    if (err) {
        atomic_file_abort(&af);
        return err;
    }
    return atomic_file_commit(&af);
}
