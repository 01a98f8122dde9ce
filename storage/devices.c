/*
 * devices.c - mount_check for object devices. Swift's ismount() compares
 * st_dev with the parent's and also treats a directory whose parent has
 * the same inode (a filesystem root) as mounted; we do the same.
 */
#include "storage/devices.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

bool devices_valid_name(const char *name)
{
    size_t len = strnlen(name, 256);

    return len > 0 && len < 256 && !strchr(name, '/') &&
           strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

bool devices_is_mount(const char *path)
{
    char parent[PATH_MAX];
    struct stat st, pst;

    if (lstat(path, &st) == -1 || !S_ISDIR(st.st_mode))
        return false;
    if (snprintf(parent, sizeof(parent), "%s/..", path) >= (int)sizeof(parent))
        return false;
    if (stat(parent, &pst) == -1)
        return false;
    return st.st_dev != pst.st_dev || st.st_ino == pst.st_ino;
}

int devices_check(const char *devices, const char *dev, bool mount_check)
{
    char path[PATH_MAX];
    struct stat st;

    if (!devices_valid_name(dev))
        return -EINVAL;
    if (snprintf(path, sizeof(path), "%s/%s", devices, dev) >=
        (int)sizeof(path))
        return -EINVAL;
    if (mount_check)
        return devices_is_mount(path) ? 0 : -ENODEV;
    if (stat(path, &st) == -1 || !S_ISDIR(st.st_mode))
        return -ENODEV;
    return 0;
}
