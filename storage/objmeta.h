/*
 * objmeta.h - an object's metadata and how it is kept with its file.
 *
 * Metadata is an ordered list of key/value byte strings (name, Content-Type,
 * ETag, Content-Length, X-Timestamp, X-Object-Meta-*, X-Object-Sysmeta-*,
 * ...). Keys match case-insensitively, as HTTP headers do; the first
 * spelling set is the one stored. The encoding is ours, versioned and
 * checksummed (doc/object-format.md): it lives in the xattr
 * "user.kura.meta" when small, else in a trailer of the file with a small
 * pointer in that xattr (ext4 holds only about 3.5 KiB of xattrs per file,
 * Swift allows more metadata than that).
 *
 * A struct objmeta is a plain value: a zeroed one is empty and valid;
 * objmeta_release() frees it. Not thread-safe; one owner at a time.
 */
#ifndef STORAGE_OBJMETA_H
#define STORAGE_OBJMETA_H

#include <stddef.h>
#include <stdint.h>

#define OBJMETA_XATTR "user.kura.meta"
/* Encodings up to this size go in the xattr; larger ones spill. */
#define OBJMETA_XATTR_MAX 2048
/* Upper bound of one encoding; a larger one is refused (-E2BIG) on write
 * and treated as corrupt (-EINVAL) on read. */
#define OBJMETA_MAX_ENCODED (1u << 20)

struct objmeta_item {
    char *key; /* NUL-terminated; klen excludes the NUL; the one block
                  holding key and value (freed through key) */
    char *val; /* NUL-terminated; may hold NULs itself */
    size_t klen;
    size_t vlen;
};

struct objmeta {
    struct objmeta_item *items;
    size_t n;
    size_t cap;
};

void objmeta_release(struct objmeta *m);

/* Sets 'key' to 'val' (byte strings): replaces the value of an existing
 * key in place, or appends. Returns 0 or -ENOMEM. */
int objmeta_setn(struct objmeta *m, const char *key, size_t klen,
                 const char *val, size_t vlen);
int objmeta_set(struct objmeta *m, const char *key, const char *val);

/* The value of 'key' (borrowed, valid until 'm' changes), or NULL. */
const char *objmeta_get(const struct objmeta *m, const char *key);
const struct objmeta_item *objmeta_find(const struct objmeta *m,
                                        const char *key);

/* Removes 'key'; returns 1 if it was there, else 0. */
int objmeta_del(struct objmeta *m, const char *key);

/* Replaces 'dst' with a deep copy of 'src'. Returns 0 or -ENOMEM (dst is
 * then empty). */
int objmeta_copy(struct objmeta *dst, const struct objmeta *src);

/* Encodes 'm' into a malloc()ed buffer the caller frees. Returns 0,
 * -E2BIG above OBJMETA_MAX_ENCODED, or -ENOMEM. */
int objmeta_encode(const struct objmeta *m, unsigned char **out, size_t *len);

/* Decodes 'len' bytes into 'm' (which it first releases). Returns 0,
 * -EINVAL for anything but a well-formed encoding whose checksum holds
 * (then 'm' is empty), or -ENOMEM. */
int objmeta_decode(struct objmeta *m, const void *buf, size_t len);

/* Stores 'm' with the open file 'fd': in the xattr if the encoding fits,
 * else as a trailer written at 'spill_off' (the end of the object's data)
 * and a pointer in the xattr. The caller fsyncs. Disk calls go through
 * diskfile_io. Returns 0 or -errno (-ENOSPC, -EIO, -E2BIG, -ENOTSUP when
 * the filesystem has no user xattrs). */
int objmeta_write_fd(int fd, const struct objmeta *m, uint64_t spill_off);

/* Loads the metadata stored with 'fd' into 'm'. Sets *data_len (if not
 * NULL) to the length of the data before any trailer. Returns 0; -ENODATA
 * when the file has no metadata xattr; -EINVAL when it is corrupt;
 * -ENOMEM or another -errno. */
int objmeta_read_fd(int fd, struct objmeta *m, uint64_t *data_len);

#endif /* STORAGE_OBJMETA_H */
