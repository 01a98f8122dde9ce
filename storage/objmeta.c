/*
 * objmeta.c - the metadata list, its binary encoding, and where the
 * encoding is kept (xattr or file trailer). Which keys an object carries
 * and how .data and .meta metadata merge is diskfile.c's business.
 *
 * Encoding v1 (doc/object-format.md is the specification):
 *   "KM" 0x01 0x00  varint count  {varint klen, key, varint vlen, value}*
 *   XXH3-64 of all preceding bytes, little endian
 * Spill pointer v1 (only ever in the xattr):
 *   "KM" 0x01 0x01  u64 LE offset  u32 LE length  XXH3-64 of the 16 bytes
 *   before it, little endian
 * Invariants:
 * 1. A decoder accepts nothing it did not produce: every length is
 *    bounded by the buffer, the checksum covers every byte, and trailing
 *    bytes are an error. Garbage is -EINVAL, never a crash.
 * 2. A spilled trailer is itself a complete encoding, so it is checked the
 *    same way; the pointer says where it is and its own checksum guards it.
 */
#include "storage/objmeta.h"

#include "storage/diskfile_io.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <xxhash.h>

#define MAGIC0 'K'
#define MAGIC1 'M'
#define VERSION 1
#define KIND_LIST 0
#define KIND_SPILL 1
#define HDR_LEN 4
#define SUM_LEN 8
#define SPILL_LEN (HDR_LEN + 8 + 4 + SUM_LEN)

void objmeta_release(struct objmeta *m)
{
    for (size_t i = 0; i < m->n; i++) {
        free(m->items[i].key); /* and the value, in the same block */
    }
    free(m->items);
    m->items = NULL;
    m->n = 0;
    m->cap = 0;
}

/* An item's key and value, NUL-terminated, in one block at it->key: a
 * GET decodes a dozen items, and two mallocs each showed in profiles. */
static int item_fill(struct objmeta_item *it, const char *key, size_t klen,
                     const char *val, size_t vlen)
{
    char *b = malloc(klen + vlen + 2);

    if (!b)
        return -ENOMEM;
    memcpy(b, key, klen);
    b[klen] = '\0';
    memcpy(b + klen + 1, val, vlen);
    b[klen + 1 + vlen] = '\0';
    it->key = b;
    it->klen = klen;
    it->val = b + klen + 1;
    it->vlen = vlen;
    return 0;
}

static ssize_t find_index(const struct objmeta *m, const char *key, size_t klen)
{
    for (size_t i = 0; i < m->n; i++)
        if (m->items[i].klen == klen &&
            strncasecmp(m->items[i].key, key, klen) == 0)
            return (ssize_t)i;
    return -1;
}

int objmeta_setn(struct objmeta *m, const char *key, size_t klen,
                 const char *val, size_t vlen)
{
    ssize_t i = find_index(m, key, klen);
    struct objmeta_item *it;

    if (i >= 0) {
        /* the key as it was (its case), the new value */
        struct objmeta_item old = m->items[i];
        int err = item_fill(&m->items[i], old.key, old.klen, val, vlen);

        if (!err)
            free(old.key);
        return err;
    }
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 16;
        struct objmeta_item *items = realloc(m->items, cap * sizeof(*items));

        if (!items)
            return -ENOMEM;
        m->items = items;
        m->cap = cap;
    }
    it = &m->items[m->n];
    if (item_fill(it, key, klen, val, vlen))
        return -ENOMEM;
    m->n++;
    return 0;
}

int objmeta_set(struct objmeta *m, const char *key, const char *val)
{
    return objmeta_setn(m, key, strlen(key), val, strlen(val));
}

const struct objmeta_item *objmeta_find(const struct objmeta *m,
                                        const char *key)
{
    ssize_t i = find_index(m, key, strlen(key));

    return i >= 0 ? &m->items[i] : NULL;
}

const char *objmeta_get(const struct objmeta *m, const char *key)
{
    const struct objmeta_item *it = objmeta_find(m, key);

    return it ? it->val : NULL;
}

int objmeta_del(struct objmeta *m, const char *key)
{
    ssize_t i = find_index(m, key, strlen(key));

    if (i < 0)
        return 0;
    free(m->items[i].key); /* and the value */
    memmove(&m->items[i], &m->items[i + 1],
            (m->n - (size_t)i - 1) * sizeof(m->items[0]));
    m->n--;
    return 1;
}

int objmeta_copy(struct objmeta *dst, const struct objmeta *src)
{
    objmeta_release(dst);
    for (size_t i = 0; i < src->n; i++) {
        const struct objmeta_item *it = &src->items[i];

        if (objmeta_setn(dst, it->key, it->klen, it->val, it->vlen)) {
            objmeta_release(dst);
            return -ENOMEM;
        }
    }
    return 0;
}

static size_t varint_len(uint64_t v)
{
    size_t n = 1;

    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static unsigned char *put_varint(unsigned char *p, uint64_t v)
{
    while (v >= 0x80) {
        *p++ = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    *p++ = (unsigned char)v;
    return p;
}

/* Reads a varint of at most 4 bytes (values < 2^28, far above any length we
 * accept) from [*p, end), in its shortest form only (a last byte of 0 after
 * the first is a padded encoding we never write). Returns 0 or -EINVAL. */
static int get_varint(const unsigned char **p, const unsigned char *end,
                      size_t *out)
{
    size_t v = 0;

    for (int shift = 0; shift < 28; shift += 7) {
        if (*p == end || (shift && **p == 0))
            return -EINVAL;
        v |= (size_t)(**p & 0x7f) << shift;
        if (!(*(*p)++ & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return -EINVAL;
}

static void put_le(unsigned char *p, uint64_t v, int nbytes)
{
    for (int i = 0; i < nbytes; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le(const unsigned char *p, int nbytes)
{
    uint64_t v = 0;

    for (int i = 0; i < nbytes; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

int objmeta_encode(const struct objmeta *m, unsigned char **out, size_t *len)
{
    size_t total = HDR_LEN + varint_len(m->n) + SUM_LEN;
    unsigned char *buf, *p;

    *out = NULL;
    *len = 0;
    for (size_t i = 0; i < m->n; i++) {
        total += varint_len(m->items[i].klen) + m->items[i].klen;
        total += varint_len(m->items[i].vlen) + m->items[i].vlen;
        if (total > OBJMETA_MAX_ENCODED)
            return -E2BIG;
    }
    buf = malloc(total);
    if (!buf)
        return -ENOMEM;
    p = buf;
    *p++ = MAGIC0;
    *p++ = MAGIC1;
    *p++ = VERSION;
    *p++ = KIND_LIST;
    p = put_varint(p, m->n);
    for (size_t i = 0; i < m->n; i++) {
        const struct objmeta_item *it = &m->items[i];

        p = put_varint(p, it->klen);
        memcpy(p, it->key, it->klen);
        p += it->klen;
        p = put_varint(p, it->vlen);
        memcpy(p, it->val, it->vlen);
        p += it->vlen;
    }
    put_le(p, XXH3_64bits(buf, (size_t)(p - buf)), SUM_LEN);
    *out = buf;
    *len = total;
    return 0;
}

static int check_frame(const unsigned char *b, size_t len, int kind)
{
    if (len < HDR_LEN + SUM_LEN || len > OBJMETA_MAX_ENCODED)
        return -EINVAL;
    if (b[0] != MAGIC0 || b[1] != MAGIC1 || b[2] != VERSION || b[3] != kind)
        return -EINVAL;
    if (XXH3_64bits(b, len - SUM_LEN) != get_le(b + len - SUM_LEN, SUM_LEN))
        return -EINVAL;
    return 0;
}

static int decode_items(struct objmeta *m, const unsigned char *p,
                        const unsigned char *end)
{
    size_t count, klen, vlen;
    int err;

    if (get_varint(&p, end, &count))
        return -EINVAL;
    for (size_t i = 0; i < count; i++) {
        const unsigned char *key;

        if (get_varint(&p, end, &klen) || klen > (size_t)(end - p))
            return -EINVAL;
        key = p;
        p += klen;
        if (get_varint(&p, end, &vlen) || vlen > (size_t)(end - p))
            return -EINVAL;
        /* a duplicate key would be silently merged: not ours, so corrupt */
        if (find_index(m, (const char *)key, klen) >= 0)
            return -EINVAL;
        err = objmeta_setn(m, (const char *)key, klen, (const char *)p, vlen);
        if (err)
            return err;
        p += vlen;
    }
    return p == end ? 0 : -EINVAL;
}

int objmeta_decode(struct objmeta *m, const void *buf, size_t len)
{
    const unsigned char *b = buf;
    int err;

    objmeta_release(m);
    err = check_frame(b, len, KIND_LIST);
    if (!err)
        err = decode_items(m, b + HDR_LEN, b + len - SUM_LEN);
    if (err)
        objmeta_release(m);
    return err;
}

static int set_xattr(int fd, const void *val, size_t len)
{
    if (diskfile_io->fsetxattr(fd, OBJMETA_XATTR, val, len, 0) == -1)
        return -errno;
    return 0;
}

static int write_spilled(int fd, const unsigned char *enc, size_t len,
                         uint64_t off)
{
    unsigned char ptr[SPILL_LEN];
    int err;

    err = diskfile_io_pwrite_all(fd, enc, len, (off_t)off);
    if (err)
        return err;
    ptr[0] = MAGIC0;
    ptr[1] = MAGIC1;
    ptr[2] = VERSION;
    ptr[3] = KIND_SPILL;
    put_le(ptr + 4, off, 8);
    put_le(ptr + 12, len, 4);
    put_le(ptr + 16, XXH3_64bits(ptr, 16), SUM_LEN);
    return set_xattr(fd, ptr, sizeof(ptr));
}

int objmeta_write_fd(int fd, const struct objmeta *m, uint64_t spill_off)
{
    unsigned char *enc;
    size_t len;
    int err;

    err = objmeta_encode(m, &enc, &len);
    if (err)
        return err;
    err = -E2BIG;
    if (len <= OBJMETA_XATTR_MAX)
        err = set_xattr(fd, enc, len);
    /* too big for this filesystem's xattr space: the trailer always fits */
    if (err == -E2BIG || err == -ENOSPC)
        err = write_spilled(fd, enc, len, spill_off);
    free(enc);
    return err;
}

static int read_spilled(int fd, const unsigned char *ptr, size_t plen,
                        struct objmeta *m, uint64_t *data_len)
{
    uint64_t off, len;
    struct stat st;
    unsigned char *buf;
    ssize_t n;
    int err;

    if (check_frame(ptr, plen, KIND_SPILL) || plen != SPILL_LEN)
        return -EINVAL;
    off = get_le(ptr + 4, 8);
    len = get_le(ptr + 12, 4);
    if (fstat(fd, &st) == -1)
        return -errno;
    if (len > OBJMETA_MAX_ENCODED || off > (uint64_t)st.st_size ||
        len != (uint64_t)st.st_size - off)
        return -EINVAL;
    buf = malloc(len ? len : 1);
    if (!buf)
        return -ENOMEM;
    n = pread(fd, buf, len, (off_t)off);
    if (n == -1)
        err = -errno;
    else if ((uint64_t)n != len)
        err = -EINVAL;
    else
        err = objmeta_decode(m, buf, len);
    free(buf);
    if (!err && data_len)
        *data_len = off;
    return err;
}

int objmeta_read_fd(int fd, struct objmeta *m, uint64_t *data_len)
{
    unsigned char small[OBJMETA_XATTR_MAX];
    unsigned char *buf = small;
    ssize_t n;
    struct stat st;
    int err;

    objmeta_release(m);
    n = fgetxattr(fd, OBJMETA_XATTR, small, sizeof(small));
    if (n == -1 && errno == ERANGE) {
        /* written by a build with a larger OBJMETA_XATTR_MAX */
        n = fgetxattr(fd, OBJMETA_XATTR, NULL, 0);
        if (n < 0 || (size_t)n > OBJMETA_MAX_ENCODED)
            return n < 0 ? -errno : -EINVAL;
        buf = malloc((size_t)n + 1);
        if (!buf)
            return -ENOMEM;
        n = fgetxattr(fd, OBJMETA_XATTR, buf, (size_t)n);
    }
    if (n == -1) {
        err = errno == ENODATA ? -ENODATA : -errno;
        goto out;
    }
    if (n >= HDR_LEN && buf[3] == KIND_SPILL) {
        err = read_spilled(fd, buf, (size_t)n, m, data_len);
        goto out;
    }
    err = objmeta_decode(m, buf, (size_t)n);
    if (!err && data_len) {
        if (fstat(fd, &st) == -1)
            err = -errno;
        else
            *data_len = (uint64_t)st.st_size;
    }
out:
    if (buf != small)
        free(buf);
    if (err)
        objmeta_release(m);
    return err;
}
