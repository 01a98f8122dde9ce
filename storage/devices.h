/*
 * devices.h - is a device usable: Swift's mount_check and check_drive.
 *
 * A device is the directory <devices>/<dev>, normally a mount point. With
 * mount_check on, a device directory that is not a mount point is an
 * unmounted disk: writing there would fill the root filesystem, so it is
 * refused. With mount_check off, the directory must still exist. Nobody in
 * the object layer ever creates <devices>/<dev> itself. Thread-safe.
 */
#ifndef STORAGE_DEVICES_H
#define STORAGE_DEVICES_H

#include <stdbool.h>

/* True for a name usable as a device or path component: non-empty, no
 * '/', not "." or "..", at most 255 bytes. */
bool devices_valid_name(const char *name);

/* Checks <devices>/<dev>. Returns 0; -EINVAL for a bad device name;
 * -ENODEV when the directory is missing, not a directory, or (mount_check)
 * not a mount point, i.e. its st_dev equals its parent's. The object
 * server answers 507 to -ENODEV. */
int devices_check(const char *devices, const char *dev, bool mount_check);

/* True if 'path' is a mount point (st_dev differs from its parent's, or
 * it is the root of its filesystem). */
bool devices_is_mount(const char *path);

#endif /* STORAGE_DEVICES_H */
