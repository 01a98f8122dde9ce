/* Description: Swift's on-disk file rules: which of a hash directory's
 * .data/.ts/.meta files are current and which are obsolete. */
#include "storage/ondisk.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#define T1 "1700000001.00000"
#define T2 "1700000002.00000"
#define T2O "1700000002.00000_0000000000000001"
#define T3 "1700000003.00000"
#define T4 "1700000004.00000"

struct expect {
    const char *data, *ts, *meta; /* current, or NULL */
    const char *obsolete[8];      /* NULL-terminated */
};

static void check(const char *const *names, const struct expect *e)
{
    struct ondisk_file files[16];
    struct ondisk_state st;
    size_t n = 0, nobs = 0, want_obs = 0;

    for (; names[n]; n++)
        assert_int_equal(ondisk_parse_name(names[n], &files[n]), 0);
    ondisk_classify(files, n, &st);
    assert_string_equal(st.data >= 0 ? files[st.data].name : "-",
                        e->data ? e->data : "-");
    assert_string_equal(st.ts >= 0 ? files[st.ts].name : "-",
                        e->ts ? e->ts : "-");
    assert_string_equal(st.meta >= 0 ? files[st.meta].name : "-",
                        e->meta ? e->meta : "-");
    for (; e->obsolete[want_obs]; want_obs++) {
        bool found = false;

        for (size_t i = 0; i < n; i++)
            if (strcmp(files[i].name, e->obsolete[want_obs]) == 0) {
                assert_true(files[i].obsolete);
                found = true;
            }
        assert_true(found);
    }
    for (size_t i = 0; i < n; i++)
        nobs += files[i].obsolete;
    assert_int_equal(nobs, want_obs);
}

static void test_timestamps_and_names(void **state)
{
    struct ondisk_file f;

    (void)state;
    assert_true(ondisk_timestamp_valid(T1));
    assert_true(ondisk_timestamp_valid(T2O));
    assert_false(ondisk_timestamp_valid("1700000001.0"));
    assert_false(ondisk_timestamp_valid("1700000001.00000_1"));
    assert_false(ondisk_timestamp_valid("1700000001.00000_000000000000000G"));
    assert_false(ondisk_timestamp_valid("170000000a.00000"));
    assert_false(ondisk_timestamp_valid(""));
    assert_int_equal(ondisk_parse_name(T2O ".data", &f), 0);
    assert_string_equal(f.ts, T2O);
    assert_int_equal(f.ext, ONDISK_DATA);
    assert_int_equal(ondisk_parse_name(T1 ".ts", &f), 0);
    assert_int_equal(f.ext, ONDISK_TS);
    assert_int_equal(ondisk_parse_name(T1 ".meta", &f), 0);
    assert_int_equal(f.ext, ONDISK_META);
    assert_int_equal(ondisk_parse_name(T1 ".durable", &f), -EINVAL);
    assert_int_equal(ondisk_parse_name(T1 "#1.data", &f), -EINVAL);
    assert_int_equal(ondisk_parse_name(".lock", &f), -EINVAL);
    assert_int_equal(ondisk_parse_name("data", &f), -EINVAL);
    assert_int_equal(ondisk_parse_name(T1 "-1a.meta", &f), -EINVAL);
}

static void test_rules(void **state)
{
    (void)state;
    { /* nothing */
        const char *n[] = {NULL};
        struct expect e = {0};
        check(n, &e);
    }
    { /* newest .data wins */
        const char *n[] = {T1 ".data", T3 ".data", T2 ".data", NULL};
        struct expect e = {
            T3 ".data", NULL, NULL, {T1 ".data", T2 ".data", NULL}};
        check(n, &e);
    }
    { /* a newer .meta rides on the .data, older ones are obsolete */
        const char *n[] = {T2 ".data", T1 ".meta", T3 ".meta", T4 ".meta",
                           NULL};
        struct expect e = {
            T2 ".data", NULL, T4 ".meta", {T1 ".meta", T3 ".meta", NULL}};
        check(n, &e);
    }
    { /* a .ts newer than the .data deletes it */
        const char *n[] = {T1 ".data", T2 ".meta", T3 ".ts", NULL};
        struct expect e = {
            NULL, T3 ".ts", NULL, {T1 ".data", T2 ".meta", NULL}};
        check(n, &e);
    }
    { /* a .data newer than the .ts resurrects; the offset counts */
        const char *n[] = {T2 ".ts", T2O ".data", T1 ".ts", NULL};
        struct expect e = {T2O ".data", NULL, NULL, {T2 ".ts", T1 ".ts", NULL}};
        check(n, &e);
    }
    { /* a .data at the tombstone's timestamp loses */
        const char *n[] = {T2 ".ts", T2 ".data", NULL};
        struct expect e = {NULL, T2 ".ts", NULL, {T2 ".data", NULL}};
        check(n, &e);
    }
    { /* a .meta newer than a .ts without .data: kept, not reported */
        const char *n[] = {T1 ".data", T2 ".ts", T3 ".meta", NULL};
        struct expect e = {NULL, T2 ".ts", NULL, {T1 ".data", NULL}};
        check(n, &e);
    }
    { /* .meta alone */
        const char *n[] = {T3 ".meta", T1 ".meta", NULL};
        struct expect e = {NULL, NULL, NULL, {T1 ".meta", NULL}};
        check(n, &e);
    }
    { /* .meta at the .data's timestamp is obsolete */
        const char *n[] = {T2 ".data", T2 ".meta", NULL};
        struct expect e = {T2 ".data", NULL, NULL, {T2 ".meta", NULL}};
        check(n, &e);
    }
}

static void test_reclaim_old_tombstones_and_orphaned_meta(void **state)
{
    struct ondisk_file f[4];
    struct ondisk_state st;

    (void)state;
    /* a tombstone older than the reclaim time goes; a newer one stays */
    assert_int_equal(ondisk_parse_name(T1 ".ts", &f[0]), 0);
    assert_int_equal(ondisk_parse_name(T3 ".meta", &f[1]), 0);
    ondisk_classify(f, 2, &st);
    ondisk_reclaim(f, 2, &st, 1700000002);
    assert_true(f[0].obsolete);
    assert_int_equal(st.ts, -1);
    assert_false(f[1].obsolete); /* the orphaned .meta is newer */
    ondisk_classify(f, 2, &st);
    ondisk_reclaim(f, 2, &st, 1700000001);
    assert_false(f[0].obsolete);
    assert_int_equal(st.ts, 0);
    ondisk_classify(f, 2, &st);
    ondisk_reclaim(f, 2, &st, 1700000004);
    assert_true(f[0].obsolete && f[1].obsolete);
    /* a current .data and its .meta never go, however old */
    assert_int_equal(ondisk_parse_name(T1 ".data", &f[0]), 0);
    assert_int_equal(ondisk_parse_name(T2 ".meta", &f[1]), 0);
    ondisk_classify(f, 2, &st);
    ondisk_reclaim(f, 2, &st, 1800000000);
    assert_false(f[0].obsolete || f[1].obsolete);
    assert_int_equal(st.meta, 1);
}

static void touch(const char *dir, const char *name)
{
    char path[256];
    int fd;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    fd = open(path, O_WRONLY | O_CREAT, 0644);
    assert_true(fd >= 0);
    close(fd);
}

static void test_list_with_cleanup_removes_obsolete_only(void **state)
{
    char dir[] = "/tmp/kura-ondisk-XXXXXX", path[256];
    struct ondisk_listing l;

    (void)state;
    assert_non_null(mkdtemp(dir));
    touch(dir, T1 ".data");
    touch(dir, T2 ".data");
    touch(dir, T3 ".meta");
    touch(dir, T1 ".meta");
    touch(dir, "junk");
    assert_int_equal(ondisk_list(dir, false, 0, &l), 0);
    assert_int_equal(l.n_names, 5);
    assert_int_equal(l.n, 4);
    ondisk_listing_release(&l);

    assert_int_equal(ondisk_list(dir, true, 0, &l), 0);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.files[l.st.data].name, T2 ".data");
    assert_string_equal(l.files[l.st.meta].name, T3 ".meta");
    ondisk_listing_release(&l);
    snprintf(path, sizeof(path), "%s/" T1 ".data", dir);
    assert_int_equal(access(path, F_OK), -1);
    snprintf(path, sizeof(path), "%s/junk", dir);
    assert_int_equal(access(path, F_OK), 0); /* not ours: left alone */

    snprintf(path, sizeof(path), "%s/missing", dir);
    assert_int_equal(ondisk_list(path, true, 0, &l), -ENOENT);
    ondisk_listing_release(&l);
    snprintf(path, sizeof(path), "rm -rf '%s'", dir);
    assert_int_equal(system(path), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timestamps_and_names),
        cmocka_unit_test(test_rules),
        cmocka_unit_test(test_reclaim_old_tombstones_and_orphaned_meta),
        cmocka_unit_test(test_list_with_cleanup_removes_obsolete_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
