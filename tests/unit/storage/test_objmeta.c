/* Description: object metadata list, its encoding (round trip, garbage is
 * -EINVAL and never a crash) and its storage in an xattr or a spilled
 * trailer on this machine's ext4. */
#include "storage/objmeta.h"

#include "storage/diskfile_io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <xxhash.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

static char dir[] = "/tmp/kura-objmeta-XXXXXX";

static int make_dir(void **state)
{
    (void)state;
    return mkdtemp(dir) ? 0 : -1;
}

static int remove_dir(void **state)
{
    char cmd[128];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd);
}

static int open_file(const char *name, const char *content)
{
    char path[256];
    int fd;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    if (content)
        assert_int_equal(write(fd, content, strlen(content)),
                         (ssize_t)strlen(content));
    return fd;
}

static void assert_meta_equal(const struct objmeta *a, const struct objmeta *b)
{
    assert_int_equal(a->n, b->n);
    for (size_t i = 0; i < a->n; i++) {
        assert_int_equal(a->items[i].klen, b->items[i].klen);
        assert_int_equal(a->items[i].vlen, b->items[i].vlen);
        assert_memory_equal(a->items[i].key, b->items[i].key, a->items[i].klen);
        assert_memory_equal(a->items[i].val, b->items[i].val, a->items[i].vlen);
    }
}

/* Swift's limits at their maximum: 90 user items would exceed 4096 bytes
 * overall, so 16 items of 128-byte names and 128-byte values (4096 bytes of
 * names and values), plus a 1 KiB object name, system metadata and the
 * usual headers. */
static void max_swift_meta(struct objmeta *m)
{
    char key[160], val[300], name[1200];

    memset(name, 'n', sizeof(name));
    memcpy(name, "/AUTH_test/c/", 13);
    name[13 + 1024] = '\0';
    assert_int_equal(objmeta_set(m, "name", name), 0);
    assert_int_equal(objmeta_set(m, "Content-Type", "application/x-kura"), 0);
    assert_int_equal(objmeta_set(m, "ETag", "d41d8cd98f00b204e9800998ecf8427e"),
                     0);
    assert_int_equal(objmeta_set(m, "Content-Length", "0"), 0);
    assert_int_equal(objmeta_set(m, "X-Timestamp", "1700000000.00000"), 0);
    assert_int_equal(objmeta_set(m, "X-Delete-At", "1800000000"), 0);
    assert_int_equal(objmeta_set(m, "Content-Encoding", "gzip"), 0);
    assert_int_equal(
        objmeta_set(m, "Content-Disposition", "attachment; filename=x"), 0);
    for (int i = 0; i < 16; i++) {
        /* "X-Object-Meta-" + 114 = a 128-byte name after the prefix */
        snprintf(key, sizeof(key), "X-Object-Meta-%03d", i);
        memset(key + 17, 'k', 128 - 3);
        key[14 + 128] = '\0';
        memset(val, 'a' + i, 128);
        val[128] = '\0';
        assert_int_equal(objmeta_set(m, key, val), 0);
    }
    for (int i = 0; i < 8; i++) {
        snprintf(key, sizeof(key), "X-Object-Sysmeta-Kura-%d", i);
        memset(val, 'S', 256);
        val[256] = '\0';
        assert_int_equal(objmeta_set(m, key, val), 0);
    }
}

static void test_set_get_replace_delete(void **state)
{
    struct objmeta m = {0};

    (void)state;
    assert_int_equal(objmeta_set(&m, "Content-Type", "text/plain"), 0);
    assert_int_equal(objmeta_set(&m, "X-Object-Meta-A", "1"), 0);
    assert_int_equal(objmeta_set(&m, "content-type", "image/png"), 0);
    assert_int_equal(m.n, 2);
    assert_string_equal(m.items[0].key, "Content-Type"); /* first spelling */
    assert_string_equal(objmeta_get(&m, "CONTENT-TYPE"), "image/png");
    assert_null(objmeta_get(&m, "X-Object-Meta-B"));
    assert_int_equal(objmeta_del(&m, "x-object-meta-a"), 1);
    assert_int_equal(objmeta_del(&m, "x-object-meta-a"), 0);
    assert_int_equal(m.n, 1);
    objmeta_release(&m);
    assert_int_equal(m.n, 0);
    objmeta_release(&m); /* twice is fine */
}

static void test_encode_round_trip_keeps_order_and_bytes(void **state)
{
    struct objmeta m = {0}, back = {0};
    unsigned char *enc;
    size_t len;

    (void)state;
    assert_int_equal(objmeta_set(&m, "Zeta", "last-set-first"), 0);
    assert_int_equal(objmeta_setn(&m, "Bin", 3, "a\0b\xff", 4), 0);
    assert_int_equal(objmeta_set(&m, "X-Object-Meta-\xc3\xa9", "\xe2\x82\xac"),
                     0);
    assert_int_equal(objmeta_set(&m, "Empty", ""), 0);
    assert_int_equal(objmeta_encode(&m, &enc, &len), 0);
    assert_memory_equal(enc, "KM\x01\x00", 4);
    assert_int_equal(objmeta_decode(&back, enc, len), 0);
    assert_meta_equal(&m, &back);
    free(enc);

    objmeta_release(&m);
    assert_int_equal(objmeta_encode(&m, &enc, &len), 0);
    assert_int_equal(len, 4 + 1 + 8); /* header, count 0, checksum */
    assert_int_equal(objmeta_decode(&back, enc, len), 0);
    assert_int_equal(back.n, 0);
    free(enc);
    objmeta_release(&back);
}

static void test_decode_rejects_every_truncation_and_bit_flip(void **state)
{
    struct objmeta m = {0}, back = {0};
    unsigned char *enc, *copy;
    size_t len;

    (void)state;
    assert_int_equal(objmeta_set(&m, "ETag", "abc"), 0);
    assert_int_equal(objmeta_set(&m, "X-Object-Meta-Color", "blue"), 0);
    assert_int_equal(objmeta_encode(&m, &enc, &len), 0);
    copy = malloc(len + 1);
    for (size_t cut = 0; cut < len; cut++)
        assert_int_equal(objmeta_decode(&back, enc, cut), -EINVAL);
    for (size_t i = 0; i < len * 8; i++) {
        memcpy(copy, enc, len);
        copy[i / 8] ^= (unsigned char)(1u << (i % 8));
        assert_int_equal(objmeta_decode(&back, copy, len), -EINVAL);
        assert_int_equal(back.n, 0);
    }
    memcpy(copy, enc, len);
    copy[len] = 0;
    assert_int_equal(objmeta_decode(&back, copy, len + 1), -EINVAL);
    free(copy);
    free(enc);
    objmeta_release(&m);
}

/* Builds a frame with a valid checksum around 'body', to get past the
 * checksum and test the parser itself. */
static size_t frame(unsigned char *buf, const void *body, size_t blen)
{
    uint64_t sum;

    memcpy(buf, "KM\x01\x00", 4);
    memcpy(buf + 4, body, blen);
    sum = XXH3_64bits(buf, 4 + blen);
    for (int i = 0; i < 8; i++)
        buf[4 + blen + i] = (unsigned char)(sum >> (8 * i));
    return 4 + blen + 8;
}

static void test_decode_rejects_bad_structure_with_good_checksum(void **state)
{
    static const struct {
        const char *body;
        size_t len;
    } bad[] = {
        {"\x01\x05"
         "ab",
         4}, /* key longer than data */
        {"\x01\x01"
         "a\x05"
         "b",
         5}, /* value longer */
        {"\x02\x01"
         "a\x01"
         "b",
         5}, /* count too big */
        {"\x01\x01"
         "a\x01"
         "bX",
         6},                         /* trailing byte */
        {"\xff\xff\xff\xff\x0f", 5}, /* over-long varint */
        {"\x02\x01"
         "a\x00\x01"
         "A\x00",
         7},         /* duplicate key */
        {"\x80", 1}, /* cut varint */
        {"\x01\x81\x00"
         "a\x01"
         "b",
         6}, /* padded varint: 1 written in two bytes */
    };
    unsigned char buf[64];
    struct objmeta m = {0};

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        size_t len = frame(buf, bad[i].body, bad[i].len);

        assert_int_equal(objmeta_decode(&m, buf, len), -EINVAL);
    }
    /* and the well-formed neighbour is accepted */
    assert_int_equal(objmeta_decode(&m, buf,
                                    frame(buf,
                                          "\x01\x01"
                                          "a\x01"
                                          "b",
                                          5)),
                     0);
    assert_string_equal(objmeta_get(&m, "a"), "b");
    objmeta_release(&m);
}

static void test_decode_random_garbage(void **state)
{
    unsigned char buf[512];
    struct objmeta m = {0};

    (void)state;
    srandom(42);
    for (int round = 0; round < 20000; round++) {
        size_t len = (size_t)random() % sizeof(buf);

        for (size_t i = 0; i < len; i++)
            buf[i] = (unsigned char)random();
        if (round % 2 && len >= 4)
            memcpy(buf, "KM\x01", 3); /* get past the magic */
        assert_int_equal(objmeta_decode(&m, buf, len), -EINVAL);
    }
}

static void read_xattr_kind(int fd, int *kind, ssize_t *len)
{
    unsigned char v[4096];

    *len = fgetxattr(fd, OBJMETA_XATTR, v, sizeof(v));
    assert_true(*len >= 4);
    *kind = v[3];
}

static void test_small_metadata_lives_in_the_xattr(void **state)
{
    struct objmeta m = {0}, back = {0};
    uint64_t data_len = 0;
    ssize_t xlen;
    int fd = open_file("small", "hello"), kind;

    (void)state;
    assert_int_equal(
        objmeta_set(&m, "ETag", "5d41402abc4b2a76b9719d911017c592"), 0);
    assert_int_equal(objmeta_write_fd(fd, &m, 5), 0);
    read_xattr_kind(fd, &kind, &xlen);
    assert_int_equal(kind, 0);
    assert_int_equal(objmeta_read_fd(fd, &back, &data_len), 0);
    assert_int_equal(data_len, 5);
    assert_meta_equal(&m, &back);
    close(fd);
    objmeta_release(&m);
    objmeta_release(&back);
}

static void test_max_swift_metadata_spills_and_round_trips_on_ext4(void **state)
{
    struct objmeta m = {0}, back = {0};
    uint64_t data_len = 0;
    unsigned char *enc;
    size_t len;
    ssize_t xlen;
    struct stat st;
    int fd = open_file("big", "0123456789"), kind;

    (void)state;
    max_swift_meta(&m);
    assert_int_equal(objmeta_encode(&m, &enc, &len), 0);
    assert_true(len > 3584); /* more than ext4 holds in xattrs */
    free(enc);
    assert_int_equal(objmeta_write_fd(fd, &m, 10), 0);
    read_xattr_kind(fd, &kind, &xlen);
    assert_int_equal(kind, 1);
    assert_int_equal(xlen, 24);
    assert_int_equal(fstat(fd, &st), 0);
    assert_int_equal(st.st_size, 10 + (off_t)len);
    assert_int_equal(objmeta_read_fd(fd, &back, &data_len), 0);
    assert_int_equal(data_len, 10);
    assert_meta_equal(&m, &back);
    close(fd);
    objmeta_release(&m);
    objmeta_release(&back);
}

static int fail_xattr_errno;
static int failing_fsetxattr(int fd, const char *name, const void *val,
                             size_t len, int flags)
{
    /* refuse inline encodings, accept the 24-byte spill pointer */
    if (len > 24) {
        errno = fail_xattr_errno;
        return -1;
    }
    return fsetxattr(fd, name, val, len, flags);
}

static void test_xattr_full_falls_back_to_spill(void **state)
{
    static const int errs[] = {ENOSPC, E2BIG};
    struct diskfile_io io = diskfile_io_sys;
    struct objmeta m = {0}, back = {0};
    ssize_t xlen;
    int kind;

    (void)state;
    io.fsetxattr = failing_fsetxattr;
    assert_int_equal(objmeta_set(&m, "X-Object-Meta-A", "small"), 0);
    for (size_t i = 0; i < 2; i++) {
        int fd = open_file("fallback", NULL);

        fail_xattr_errno = errs[i];
        diskfile_io = &io;
        assert_int_equal(objmeta_write_fd(fd, &m, 0), 0);
        diskfile_io = &diskfile_io_sys;
        read_xattr_kind(fd, &kind, &xlen);
        assert_int_equal(kind, 1);
        assert_int_equal(objmeta_read_fd(fd, &back, NULL), 0);
        assert_meta_equal(&m, &back);
        close(fd);
    }
    /* other errors are errors */
    fail_xattr_errno = EIO;
    diskfile_io = &io;
    int fd = open_file("fallback", NULL);
    assert_int_equal(objmeta_write_fd(fd, &m, 0), -EIO);
    diskfile_io = &diskfile_io_sys;
    close(fd);
    objmeta_release(&m);
    objmeta_release(&back);
}

static void test_reads_a_large_inline_xattr(void **state)
{
    struct objmeta m = {0}, back = {0};
    char val[3000];
    unsigned char *enc;
    size_t len;
    int fd = open_file("large-inline", NULL);

    (void)state;
    /* a build with a larger OBJMETA_XATTR_MAX, or an XFS device, may have
     * stored more than 2048 bytes inline */
    memset(val, 'v', sizeof(val) - 1);
    val[sizeof(val) - 1] = '\0';
    assert_int_equal(objmeta_set(&m, "X-Object-Meta-Big", val), 0);
    assert_int_equal(objmeta_encode(&m, &enc, &len), 0);
    assert_true(len > OBJMETA_XATTR_MAX);
    assert_int_equal(fsetxattr(fd, OBJMETA_XATTR, enc, len, 0), 0);
    assert_int_equal(objmeta_read_fd(fd, &back, NULL), 0);
    assert_meta_equal(&m, &back);
    free(enc);
    close(fd);
    objmeta_release(&m);
    objmeta_release(&back);
}

static void test_read_rejects_missing_and_corrupt(void **state)
{
    struct objmeta m = {0}, back = {0};
    int fd = open_file("corrupt", "data");

    (void)state;
    assert_int_equal(objmeta_read_fd(fd, &back, NULL), -ENODATA);
    assert_int_equal(fsetxattr(fd, OBJMETA_XATTR, "garbage", 7, 0), 0);
    assert_int_equal(objmeta_read_fd(fd, &back, NULL), -EINVAL);

    /* a spilled trailer that was damaged */
    max_swift_meta(&m);
    close(fd);
    fd = open_file("corrupt", "data");
    assert_int_equal(objmeta_write_fd(fd, &m, 4), 0);
    assert_int_equal(pwrite(fd, "X", 1, 100), 1);
    assert_int_equal(objmeta_read_fd(fd, &back, NULL), -EINVAL);
    /* ... or truncated, or grown */
    close(fd);
    fd = open_file("corrupt", "data");
    assert_int_equal(objmeta_write_fd(fd, &m, 4), 0);
    assert_int_equal(ftruncate(fd, 1000), 0);
    assert_int_equal(objmeta_read_fd(fd, &back, NULL), -EINVAL);
    assert_int_equal(ftruncate(fd, 100000), 0);
    assert_int_equal(objmeta_read_fd(fd, &back, NULL), -EINVAL);
    assert_int_equal(back.n, 0);
    close(fd);
    objmeta_release(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_get_replace_delete),
        cmocka_unit_test(test_encode_round_trip_keeps_order_and_bytes),
        cmocka_unit_test(test_decode_rejects_every_truncation_and_bit_flip),
        cmocka_unit_test(test_decode_rejects_bad_structure_with_good_checksum),
        cmocka_unit_test(test_decode_random_garbage),
        cmocka_unit_test(test_small_metadata_lives_in_the_xattr),
        cmocka_unit_test(
            test_max_swift_metadata_spills_and_round_trips_on_ext4),
        cmocka_unit_test(test_xattr_full_falls_back_to_spill),
        cmocka_unit_test(test_reads_a_large_inline_xattr),
        cmocka_unit_test(test_read_rejects_missing_and_corrupt),
    };
    return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
