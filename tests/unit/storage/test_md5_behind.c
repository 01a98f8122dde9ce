/* Description: the MD5 hashed on a helper thread: the same digest as
 * hashing inline whatever the pieces' sizes against the blocks', and
 * freeing mid-stream neither hangs nor leaks. */
#include "storage/md5_behind.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

static void md5_inline(const void *buf, size_t len, char hex[33])
{
    unsigned char d[16];
    unsigned int n;

    EVP_Digest(buf, len, d, &n, EVP_md5(), NULL);
    for (int i = 0; i < 16; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
}

static char *pattern(size_t len)
{
    char *p = malloc(len ? len : 1);

    assert_non_null(p);
    for (size_t i = 0; i < len; i++)
        p[i] = (char)(i * 2654435761u >> 13);
    return p;
}

/* Hashes 'len' bytes in pieces cycling through 'sizes'. */
static void check(size_t len, size_t block, unsigned int n_blocks,
                  const size_t *sizes, size_t n_sizes)
{
    char *data = pattern(len);
    char want[33], got[33];
    struct md5_behind *mb;
    size_t off = 0;

    md5_inline(data, len, want);
    assert_int_equal(md5_behind_new(block, n_blocks, &mb), 0);
    for (size_t i = 0; off < len; i++) {
        size_t k = sizes[i % n_sizes];

        if (k > len - off)
            k = len - off;
        md5_behind_update(mb, data + off, k);
        off += k;
    }
    md5_behind_final(mb, got);
    md5_behind_free(mb);
    assert_string_equal(got, want);
    free(data);
}

static void test_same_digest_as_inline(void **state)
{
    const size_t odd[] = {1, 4095, 4096, 4097, 65536, 7, 100000};
    const size_t exact[] = {4096};
    const size_t zero[] = {0, 3};

    (void)state;
    check(0, 4096, 2, exact, 1);           /* nothing: MD5 of "" */
    check(1, 4096, 2, exact, 1);           /* less than a block */
    check(4096, 4096, 2, exact, 1);        /* exactly one block */
    check(3 * 4096, 4096, 3, exact, 1);    /* the ring, exactly full */
    check(1 << 20, 4096, 2, odd, 7);       /* pieces across blocks */
    check(1 << 20, 16, 2, odd, 7);         /* tiny blocks: much waiting */
    check(3 << 20, 256 * 1024, 4, odd, 7); /* diskfile's sizes */
    check(50000, 1000, 5, zero, 2);        /* empty updates are fine */
}

/* The digest is the same however the two threads interleave: many
 * streams at once, each waiting on its helper at different points. */
static void test_many_streams(void **state)
{
    const size_t sizes[] = {333, 65536, 1};
    struct md5_behind *mb[8];
    char *data = pattern(200000);
    char want[33], got[33];

    (void)state;
    md5_inline(data, 200000, want);
    for (int i = 0; i < 8; i++)
        assert_int_equal(
            md5_behind_new(512 + 64 * (size_t)i, 2 + i % 3, &mb[i]), 0);
    for (size_t off = 0, j = 0; off < 200000; j++) {
        size_t k = sizes[j % 3];

        if (k > 200000 - off)
            k = 200000 - off;
        for (int i = 0; i < 8; i++)
            md5_behind_update(mb[i], data + off, k);
        off += k;
    }
    for (int i = 0; i < 8; i++) {
        md5_behind_final(mb[i], got);
        md5_behind_free(mb[i]);
        assert_string_equal(got, want);
    }
    free(data);
}

/* Freed at any point without final: the helper stops, nothing hangs
 * (a full ring included) and nothing leaks (ASan). */
static void test_free_mid_stream(void **state)
{
    char *data = pattern(1 << 20);
    struct md5_behind *mb;

    (void)state;
    md5_behind_free(NULL);
    assert_int_equal(md5_behind_new(4096, 2, &mb), 0);
    md5_behind_free(mb);
    for (size_t len = 1; len <= (1 << 20); len *= 16) {
        assert_int_equal(md5_behind_new(4096, 3, &mb), 0);
        md5_behind_update(mb, data, len);
        md5_behind_free(mb);
    }
    free(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_digest_as_inline),
        cmocka_unit_test(test_many_streams),
        cmocka_unit_test(test_free_mid_stream),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
