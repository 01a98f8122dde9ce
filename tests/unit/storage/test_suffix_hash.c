/* Description: per-partition suffix hashes: computed from the live files,
 * cached, invalidated by writers, recomputed lazily; a bad or stale cache
 * is rebuilt. */
#include "storage/suffix_hash.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#define H1 "0123456789abcdef0123456789abcabc"
#define H2 "fedcba9876543210fedcba9876543abc"
#define H3 "00000000000000000000000000000123"
#define T1 "1700000001.00000"
#define T2 "1700000002.00000"

static char root[] = "/tmp/kura-suffix-XXXXXX";
static char part[128];

static int make_root(void **state)
{
    (void)state;
    return mkdtemp(root) ? 0 : -1;
}

static int setup(void **state)
{
    (void)state;
    snprintf(part, sizeof(part), "%s/1023", root);
    return mkdir(part, 0755);
}

static int teardown(void **state)
{
    char cmd[256];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'/*", root);
    return system(cmd);
}

static int remove_root(void **state)
{
    char cmd[256];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    return system(cmd);
}

static void put_file(const char *base, const char *hash, const char *name)
{
    char path[512];
    int fd;

    snprintf(path, sizeof(path), "%s/%s", base, hash + 29);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/%s/%s", base, hash + 29, hash);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/%s/%s/%s", base, hash + 29, hash, name);
    fd = open(path, O_WRONLY | O_CREAT, 0644);
    assert_true(fd >= 0);
    close(fd);
}

static bool exists(const char *rel)
{
    char path[512];

    snprintf(path, sizeof(path), "%s/%s", part, rel);
    return access(path, F_OK) == 0;
}

static uint64_t get_hash(const char *suffix, const char *const *recalc,
                         size_t n)
{
    struct suffix_hashes sh = {0};
    const struct suffix_hash *h;
    uint64_t v;

    assert_int_equal(suffix_hash_get(part, recalc, n, 0, &sh), 0);
    h = suffix_hashes_find(&sh, suffix);
    v = h ? h->hash : 0;
    suffix_hashes_release(&sh);
    return v;
}

static void test_missing_partition_is_empty(void **state)
{
    struct suffix_hashes sh = {0};
    char path[256];

    (void)state;
    snprintf(path, sizeof(path), "%s/missing", root);
    assert_int_equal(suffix_hash_get(path, NULL, 0, 0, &sh), 0);
    assert_int_equal(sh.n, 0);
    assert_int_equal(access(path, F_OK), -1);
    assert_int_equal(suffix_hash_get(part, NULL, 0, 0, &sh), 0);
    assert_int_equal(sh.n, 0);
}

static void test_hash_matches_the_definition(void **state)
{
    struct suffix_hashes sh = {0};
    const char *expect_in = H1 "/" T1 ".data/" T2 ".meta\n" H2 "/" T1 ".ts\n";

    (void)state;
    put_file(part, H2, T1 ".ts");
    put_file(part, H1, T1 ".data");
    put_file(part, H1, T2 ".meta");
    put_file(part, H3, T1 ".data");
    assert_int_equal(suffix_hash_get(part, NULL, 0, 0, &sh), 0);
    assert_int_equal(sh.n, 2);
    assert_string_equal(sh.v[0].suffix, "123");
    assert_string_equal(sh.v[1].suffix, "abc");
    assert_true(sh.v[1].hash == XXH3_64bits(expect_in, strlen(expect_in)));
    suffix_hashes_release(&sh);
    assert_true(exists(SUFFIX_HASH_FILE));
}

static void test_same_files_same_hash_anywhere(void **state)
{
    char other[256];
    uint64_t a, b;
    bool empty;

    (void)state;
    put_file(part, H1, T1 ".data");
    snprintf(other, sizeof(other), "%s/other", root);
    mkdir(other, 0755);
    put_file(other, H1, T1 ".data");
    a = get_hash("abc", NULL, 0);
    snprintf(other, sizeof(other), "%s/other/abc", root);
    assert_int_equal(suffix_hash_compute(other, 0, &b, &empty), 0);
    assert_false(empty);
    assert_true(a == b && a != 0);
}

static void test_cached_until_invalidated(void **state)
{
    const char *abc[] = {"abc"};
    uint64_t h1, h2;

    (void)state;
    put_file(part, H1, T1 ".data");
    h1 = get_hash("abc", NULL, 0);
    /* a file that arrives without invalidation is not seen: the cache
     * is trusted (writers always invalidate) */
    put_file(part, H2, T1 ".data");
    assert_true(get_hash("abc", NULL, 0) == h1);
    /* invalidation makes the next get recompute */
    assert_int_equal(suffix_hash_invalidate(part, "abc"), 0);
    assert_true(exists(SUFFIX_HASH_INVALID));
    h2 = get_hash("abc", NULL, 0);
    assert_true(h2 != h1);
    /* and the invalid list is consumed */
    struct stat st;
    char path[256];
    snprintf(path, sizeof(path), "%s/" SUFFIX_HASH_INVALID, part);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, 0);
    /* an explicit recalc list works too */
    put_file(part, H2, T2 ".meta");
    assert_true(get_hash("abc", NULL, 0) == h2);
    assert_true(get_hash("abc", abc, 1) != h2);
    assert_int_equal(suffix_hash_invalidate(part, "ABC"), -EINVAL);
    assert_int_equal(suffix_hash_invalidate(part, "abcd"), -EINVAL);
}

/* A get with nothing invalidated answers from the cache without
 * rewriting it (no temp file, rename and fsyncs on every REPLICATE). */
static void test_unchanged_cache_is_not_rewritten(void **state)
{
    struct stat before, after;
    char path[256];

    (void)state;
    put_file(part, H1, T1 ".data");
    assert_true(get_hash("abc", NULL, 0) != 0);
    snprintf(path, sizeof(path), "%s/" SUFFIX_HASH_FILE, part);
    assert_int_equal(stat(path, &before), 0);
    assert_true(get_hash("abc", NULL, 0) != 0);
    assert_int_equal(stat(path, &after), 0);
    assert_true(before.st_ino == after.st_ino);
    /* an invalidation still rewrites it */
    assert_int_equal(suffix_hash_invalidate(part, "abc"), 0);
    assert_true(get_hash("abc", NULL, 0) != 0);
    assert_int_equal(stat(path, &after), 0);
    assert_true(before.st_ino != after.st_ino);
}

/* A writer's marks opened once: a rehash between its two marks (it
 * truncates hashes.invalid) does not lose the second one, which lands at
 * the start of the truncated file, and the second get sees the new file. */
static void test_marks_survive_a_rehash_between_them(void **state)
{
    struct suffix_mark m;
    char path[256], buf[16];
    uint64_t h1, h2;
    int fd;
    ssize_t n;

    (void)state;
    put_file(part, H1, T1 ".data");
    h1 = get_hash("abc", NULL, 0);
    assert_int_equal(suffix_mark_open(part, &m), 0);
    assert_int_equal(suffix_mark_add(&m, "abc"), 0);
    assert_true(get_hash("abc", NULL, 0) == h1); /* consumed the mark */
    put_file(part, H2, T1 ".data");               /* the rename */
    assert_int_equal(suffix_mark_add(&m, "abc"), 0);
    assert_int_equal(suffix_mark_add(&m, "ABC"), -EINVAL);
    suffix_mark_close(&m);
    suffix_mark_close(&m); /* twice is harmless */
    snprintf(path, sizeof(path), "%s/" SUFFIX_HASH_INVALID, part);
    fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    n = read(fd, buf, sizeof(buf));
    close(fd);
    assert_int_equal(n, 4);
    assert_memory_equal(buf, "abc\n", 4);
    h2 = get_hash("abc", NULL, 0);
    assert_true(h2 != h1);
}

static void test_recompute_cleans_up(void **state)
{
    const char *abc[] = {"abc"};
    struct suffix_hashes sh = {0};

    (void)state;
    put_file(part, H1, T1 ".data");
    put_file(part, H1, T2 ".ts");
    put_file(part, H2, T1 ".meta"); /* a lone .meta: kept */
    assert_int_equal(suffix_hash_get(part, abc, 1, 0, &sh), 0);
    assert_int_equal(sh.n, 1);
    suffix_hashes_release(&sh);
    assert_false(exists("abc/" H1 "/" T1 ".data"));
    assert_true(exists("abc/" H1 "/" T2 ".ts"));
    assert_true(exists("abc/" H2 "/" T1 ".meta"));
    /* an emptied hash dir and suffix disappear from disk and map */
    {
        char path[512];

        snprintf(path, sizeof(path), "%s/abc/%s/" T2 ".ts", part, H1);
        assert_int_equal(unlink(path), 0);
        snprintf(path, sizeof(path), "%s/abc/%s/" T1 ".meta", part, H2);
        assert_int_equal(unlink(path), 0);
    }
    assert_int_equal(suffix_hash_invalidate(part, "abc"), 0);
    assert_int_equal(suffix_hash_get(part, NULL, 0, 0, &sh), 0);
    assert_int_equal(sh.n, 0);
    assert_false(exists("abc"));
}

static void test_reclaim_happens_when_asked(void **state)
{
    const char *abc[] = {"abc"};
    struct suffix_hashes sh = {0};

    (void)state;
    put_file(part, H1, T1 ".ts");
    put_file(part, H2, T2 ".data");
    assert_int_equal(suffix_hash_get(part, NULL, 0, 0, &sh), 0);
    suffix_hashes_release(&sh);
    assert_true(exists("abc/" H1 "/" T1 ".ts"));
    /* past reclaim_age: the tombstone and its directory go */
    assert_int_equal(suffix_hash_get(part, abc, 1, 1700000002, &sh), 0);
    assert_int_equal(sh.n, 1);
    suffix_hashes_release(&sh);
    assert_false(exists("abc/" H1));
    assert_true(exists("abc/" H2 "/" T2 ".data"));
}

static void write_cache(const void *buf, size_t len)
{
    char path[256];
    FILE *f;

    snprintf(path, sizeof(path), "%s/" SUFFIX_HASH_FILE, part);
    f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, len, f), len);
    fclose(f);
}

static size_t read_cache(unsigned char *buf, size_t cap)
{
    char path[256];
    FILE *f;
    size_t n;

    snprintf(path, sizeof(path), "%s/" SUFFIX_HASH_FILE, part);
    f = fopen(path, "r");
    assert_non_null(f);
    n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

static void test_bad_or_stale_cache_is_rebuilt(void **state)
{
    unsigned char buf[4096];
    uint64_t h, sum;
    size_t len;

    (void)state;
    put_file(part, H1, T1 ".data");
    h = get_hash("abc", NULL, 0);
    len = read_cache(buf, sizeof(buf));
    assert_int_equal(len, 8 + 36 + 4 + 12 + 8);

    /* garbage in place of the cache */
    write_cache("garbage", 7);
    put_file(part, H2, T1 ".data"); /* not invalidated: only a rebuild */
    uint64_t h2 = get_hash("abc", NULL, 0);
    assert_true(h2 != h);

    /* a well-formed cache from another boot (say, before a power cut lost
     * hashes.invalid) is thrown away too */
    len = read_cache(buf, sizeof(buf));
    buf[8] ^= 1;           /* boot id */
    buf[len - 8 - 8] ^= 1; /* and a wrong hash to notice its use */
    sum = XXH3_64bits(buf, len - 8);
    for (int i = 0; i < 8; i++)
        buf[len - 8 + i] = (unsigned char)(sum >> (8 * i));
    write_cache(buf, len);
    assert_true(get_hash("abc", NULL, 0) == h2);

    /* the checksum-correct cache of this boot is used as is */
    len = read_cache(buf, sizeof(buf));
    buf[len - 8 - 8] ^= 1;
    sum = XXH3_64bits(buf, len - 8);
    for (int i = 0; i < 8; i++)
        buf[len - 8 + i] = (unsigned char)(sum >> (8 * i));
    write_cache(buf, len);
    assert_true(get_hash("abc", NULL, 0) == (h2 ^ 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_marks_survive_a_rehash_between_them, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unchanged_cache_is_not_rewritten,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_partition_is_empty, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_hash_matches_the_definition, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_same_files_same_hash_anywhere,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_cached_until_invalidated, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_recompute_cleans_up, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_reclaim_happens_when_asked, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_bad_or_stale_cache_is_rebuilt,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, make_root, remove_root);
}
