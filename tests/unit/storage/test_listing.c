/* Description: listing parameters and the row walk on its own (the full
 * comparison with Swift is test_listing_format.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "db_fixture.h"
#include "storage/listing.h"

static void test_params_check(void **state)
{
    struct listing_params p = {.limit = LISTING_LIMIT};

    (void)state;
    assert_int_equal(listing_params_check(&p), 0);
    p.limit = LISTING_LIMIT + 1;
    assert_int_equal(listing_params_check(&p), -EINVAL);
    p.limit = 1;
    p.delimiter = "//";
    assert_int_equal(listing_params_check(&p), -EINVAL);
    p.delimiter = "\xc3\xbe"; /* U+00FE: allowed */
    assert_int_equal(listing_params_check(&p), 0);
    p.delimiter = "\xc3\xbf"; /* U+00FF: over 254 */
    assert_int_equal(listing_params_check(&p), -EINVAL);
    p.delimiter = "\xe2\x82\xac";
    assert_int_equal(listing_params_check(&p), -EINVAL);
    p.delimiter = "\xc3";
    assert_int_equal(listing_params_check(&p), -EINVAL);
    p.delimiter = "";
    assert_int_equal(listing_params_check(&p), 0);
}

/* Rows are keys "R" + name; a value "d" marks a deleted row. */
static int accept(const void *val, size_t vlen, void *arg)
{
    (void)arg;
    return !(vlen == 1 && *(const char *)val == 'd');
}

static int append(struct listing *l, const char *name, size_t nlen,
                  const void *val, size_t vlen, void *arg)
{
    struct listing_entry e = {.name_len = nlen};

    (void)val;
    (void)vlen;
    ++*(int *)arg;
    listing_append(l, &e, name, NULL, NULL);
    return l->err;
}

static void list(struct db_fixture *f, const struct listing_params *p,
                 const char *want)
{
    int appended = 0;
    struct listing_source src = {
        f->kv, (const unsigned char *)"R", 1, accept, append, &appended};
    struct listing l = {0};
    char got[256] = "";

    assert_int_equal(listing_scan(&src, p, &l), 0);
    for (size_t i = 0; i < l.n; i++) {
        strcat(got, listing_str(&l, l.entries[i].name));
        strcat(got, l.entries[i].subdir ? "(d) " : " ");
    }
    assert_string_equal(got, want);
    listing_release(&l);
}

/* Reserved names hold NUL bytes: listed with allow_reserved, and the
 * parameters that hold them give their lengths. */
static void test_reserved_names(void **state)
{
    struct db_fixture *f = *state;
    static const char *const rows[] = {"R\0a", "R\0b\0x", "R\0b\0y", "Rz"};
    static const size_t lens[] = {3, 5, 5, 2};
    struct kvdb_batch *b = kvdb_batch_new();
    struct listing_params p = {.limit = 100};
    int appended = 0;
    struct listing_source src = {
        f->kv, (const unsigned char *)"R", 1, accept, append, &appended};
    struct listing l = {0};

    for (size_t i = 0; i < 4; i++)
        kvdb_batch_put(b, rows[i], lens[i], "", 0);
    assert_int_equal(kvdb_write(f->kv, b, 0), 0);
    kvdb_batch_free(b);
    list(f, &p, "z ");
    p.reverse = true;
    list(f, &p, "z ");
    p = (struct listing_params){.limit = 100,
                                .allow_reserved = true,
                                .prefix = "\0b",
                                .prefix_len = 2,
                                .marker = "\0b\0x",
                                .marker_len = 4};
    assert_int_equal(listing_scan(&src, &p, &l), 0);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.entries[0].name_len, 4);
    assert_memory_equal(listing_str(&l, l.entries[0].name), "\0b\0y", 4);
    listing_release(&l);
}

static void test_walk(void **state)
{
    struct db_fixture *f = *state;
    static const char *const rows[] = {"Ra",  "Ra/1", "Ra/2", "Rb/1",
                                       "Rb2", "Rc",   "S"};
    struct kvdb_batch *b = kvdb_batch_new();
    struct listing_params p = {.limit = 100};

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        kvdb_batch_put(b, rows[i], strlen(rows[i]), "", 0);
    kvdb_batch_put(b, "Rb/0", 4, "d", 1); /* deleted: never listed */
    kvdb_batch_put(b, "Rd/x", 4, "d", 1); /* no subdir from it either */
    kvdb_batch_put(b, "Q", 1, "", 0);     /* another DB's key */
    assert_int_equal(kvdb_write(f->kv, b, 0), 0);
    kvdb_batch_free(b);
    list(f, &p, "a a/1 a/2 b/1 b2 c ");
    p.delimiter = "/";
    list(f, &p, "a a/(d) b/(d) b2 c ");
    p.reverse = true;
    list(f, &p, "c b2 b/(d) a/(d) a ");
    p.limit = 2;
    list(f, &p, "c b2 ");
    p = (struct listing_params){.limit = 100, .prefix = "b"};
    list(f, &p, "b/1 b2 ");
    p.limit = 0;
    list(f, &p, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_params_check),
        cmocka_unit_test_setup_teardown(test_walk, db_fixture_setup,
                                        db_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_reserved_names, db_fixture_setup,
                                        db_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
