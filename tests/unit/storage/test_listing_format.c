/* Description: container and account listings compared byte for byte
 * with Swift 2.30's (data/storage/listings and listing_random.json, made by
 * make_swift_listings.py from listing_cases.json there). */
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "db_fixture.h"
#include "storage/acctdb.h"
#include "storage/contdb.h"
#include "storage/listing_format.h"

static const unsigned char cont_hash[16] = {1, 2, 3};
static const unsigned char acct_hash[16] = {4, 5, 6};

static const char *str(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);

    return json_is_string(v) ? json_string_value(v) : NULL;
}

static struct db_ts ts_or_zero(json_t *o, const char *key)
{
    const char *s = str(o, key);

    return s ? ts_of(s) : (struct db_ts){0};
}

static void load_container(struct kvdb *kv, json_t *c)
{
    struct contdb db;
    struct db_ts one = ts_of("1");
    json_t *o;
    size_t i;

    contdb_init(&db, kv, 7, cont_hash);
    assert_int_equal(
        contdb_create(&db, str(c, "account"), str(c, "container"), &one, 0), 0);
    json_array_foreach(json_object_get(c, "objects"), i, o)
    {
        json_t *name = json_object_get(o, "name");
        struct contdb_object obj = {
            .name = json_string_value(name),
            .name_len = json_string_length(name),
            .created_at = ts_of(str(o, "created_at")),
            .ctype_timestamp = ts_or_zero(o, "ctype_timestamp"),
            .meta_timestamp = ts_or_zero(o, "meta_timestamp"),
            .size = json_integer_value(json_object_get(o, "size")),
            .content_type = str(o, "content_type"),
            .etag = str(o, "etag"),
            .deleted = json_integer_value(json_object_get(o, "deleted")),
        };

        assert_int_equal(contdb_put_object(&db, &obj, 0), 0);
    }
}

static void load_account(struct kvdb *kv, json_t *a)
{
    struct acctdb db;
    struct db_ts one = ts_of("1");
    json_t *r;
    size_t i;

    acctdb_init(&db, kv, 7, acct_hash);
    assert_int_equal(acctdb_create(&db, str(a, "account"), &one), 0);
    json_array_foreach(json_object_get(a, "containers"), i, r)
    {
        json_t *name = json_object_get(r, "name");
        struct acctdb_container c = {
            .name = json_string_value(name),
            .name_len = json_string_length(name),
            .put_timestamp = ts_of(str(r, "put_timestamp")),
            .delete_timestamp = ts_of(str(r, "delete_timestamp")),
            .object_count =
                json_integer_value(json_object_get(r, "object_count")),
            .bytes_used = json_integer_value(json_object_get(r, "bytes_used")),
        };

        assert_int_equal(acctdb_put_container(&db, &c, 0), 0);
    }
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static enum listing_fmt fmt_of(const char *s)
{
    if (!strcmp(s, "json"))
        return LISTING_JSON;
    if (!strcmp(s, "xml"))
        return LISTING_XML;
    return LISTING_PLAIN;
}

static void run_query(struct kvdb *kv, json_t *cases, size_t i, json_t *q)
{
    json_t *p = json_object_get(q, "params");
    json_t *limit = json_object_get(p, "limit");
    struct listing_params lp = {
        .prefix = str(p, "prefix"),
        .delimiter = str(p, "delimiter"),
        .marker = str(p, "marker"),
        .end_marker = str(p, "end_marker"),
        .path = str(p, "path"),
        .limit = limit ? (size_t)json_integer_value(limit) : LISTING_LIMIT,
        .reverse = json_is_true(json_object_get(p, "reverse")),
        .allow_reserved = json_is_true(json_object_get(p, "allow_reserved")),
    };
    bool account = !strcmp(str(q, "kind"), "account");
    struct listing l = {0};
    char path[512], *body, *want;
    size_t len, wlen;

    if (account) {
        struct acctdb db;

        acctdb_init(&db, kv, 7, acct_hash);
        assert_int_equal(acctdb_list(&db, &lp, &l), 0);
        assert_int_equal(listing_format_account(
                             &l, fmt_of(str(q, "format")),
                             str(json_object_get(cases, "account"), "account"),
                             &body, &len),
                         0);
    } else {
        struct contdb db;

        contdb_init(&db, kv, 7, cont_hash);
        assert_int_equal(contdb_list(&db, &lp, &l), 0);
        assert_int_equal(
            listing_format_container(
                &l, fmt_of(str(q, "format")),
                str(json_object_get(cases, "container"), "container"), &body,
                &len),
            0);
    }
    snprintf(path, sizeof(path), TEST_DATA "/storage/listings/%03zu.out", i);
    want = read_file(path, &wlen);
    if (len != wlen || memcmp(body, want, len)) {
        char *dump = json_dumps(q, JSON_COMPACT);

        print_error("query %zu %s:\n got: %.*s\nwant: %.*s\n", i, dump,
                    (int)len, body, (int)wlen, want);
        free(dump);
        fail();
    }
    free(want);
    free(body);
    listing_release(&l);
}

static void test_listings_match_swift(void **state)
{
    struct db_fixture *f = *state;
    json_error_t jerr;
    json_t *cases, *q;
    size_t i;

    cases = json_load_file(TEST_DATA "/storage/listing_cases.json",
                           JSON_ALLOW_NUL, &jerr);
    if (!cases)
        print_error("listing_cases.json:%d: %s\n", jerr.line, jerr.text);
    assert_non_null(cases);
    load_container(f->kv, json_object_get(cases, "container"));
    load_account(f->kv, json_object_get(cases, "account"));
    json_array_foreach(json_object_get(cases, "queries"), i, q)
    {
        run_query(f->kv, cases, i, q);
    }
    json_decref(cases);
}

/* 400 random queries over 283 random names (make_swift_random_listings.py):
 * every mix of prefix, delimiter, markers, reverse, limit and path. */
static void test_random_listings_match_swift(void **state)
{
    static const unsigned char hash[16] = {8};
    struct db_fixture *f = *state;
    struct db_ts one = ts_of("1");
    json_error_t jerr;
    json_t *cases, *o;
    struct contdb db;
    size_t i;

    cases = json_load_file(TEST_DATA "/storage/listing_random.json", 0, &jerr);
    assert_non_null(cases);
    contdb_init(&db, f->kv, 1, hash);
    assert_int_equal(contdb_create(&db, "a", "c", &one, 0), 0);
    json_array_foreach(json_object_get(cases, "objects"), i, o)
    {
        struct contdb_object obj = {
            .name = str(o, "name"),
            .name_len = strlen(str(o, "name")),
            .created_at = ts_of(str(o, "created_at")),
            .size = json_integer_value(json_object_get(o, "size")),
            .content_type = str(o, "content_type"),
            .etag = str(o, "etag"),
            .deleted = json_integer_value(json_object_get(o, "deleted")),
        };

        assert_int_equal(contdb_put_object(&db, &obj, 0), 0);
    }
    json_array_foreach(json_object_get(cases, "queries"), i, o)
    {
        json_t *p = json_object_get(o, "params");
        struct listing_params lp = {
            .prefix = str(p, "prefix"),
            .delimiter = str(p, "delimiter"),
            .marker = str(p, "marker"),
            .end_marker = str(p, "end_marker"),
            .path = str(p, "path"),
            .limit = (size_t)json_integer_value(json_object_get(p, "limit")),
            .reverse = json_is_true(json_object_get(p, "reverse")),
        };
        struct listing l = {0};
        const char *want = str(o, "body");
        char *body;
        size_t len;

        assert_int_equal(contdb_list(&db, &lp, &l), 0);
        assert_int_equal(
            listing_format_container(&l, LISTING_PLAIN, "c", &body, &len), 0);
        if (strcmp(body, want)) {
            char *dump = json_dumps(p, JSON_COMPACT);

            print_error("query %zu %s:\n got: %s\nwant: %s\n", i, dump, body,
                        want);
            free(dump);
            fail();
        }
        free(body);
        listing_release(&l);
    }
    json_decref(cases);
}

static void test_swift_bytes_rewrites_parameters(void **state)
{
    static const struct {
        const char *in, *ct, *sb;
    } cases[] = {
        {"text/plain", "text/plain", NULL},
        {"text/plain; charset=utf-8", "text/plain;charset=utf-8", NULL},
        {"a/b;swift_bytes=12", "a/b", "12"},
        {"a/b; x=\"q;r\" ; swift_bytes=3; y=1", "a/b;x=\"q;r\";y=1", "3"},
        {"a/b;;", "a/b", NULL},
        {"a/b; junk", "a/b;junk=", NULL},
        {"a/b ; k = v", "a/b ;k=v", NULL},
        {"a/b;k=v=w", "a/b;k=v", NULL},
        {"a/b;k=\"unterminated", "a/b;k=", NULL},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct dbenc e = {0};
        const char *sb;
        size_t sblen;

        listing_extract_swift_bytes(cases[i].in, &e, &sb, &sblen);
        dbenc_u8(&e, 0);
        assert_string_equal((char *)e.p, cases[i].ct);
        if (cases[i].sb) {
            assert_non_null(sb);
            assert_int_equal(sblen, strlen(cases[i].sb));
            assert_memory_equal(sb, cases[i].sb, sblen);
        } else {
            assert_null(sb);
        }
        dbenc_release(&e);
    }
}

static void test_json_escapes_like_python(void **state)
{
    struct listing l = {0};
    struct listing_entry e = {.subdir = true};
    const char name[] = "\x7f\x01\xc3\xa9\xf0\x9f\x98\x80/\"\\\b\f\n\r\t\xff";
    char *body;
    size_t len;

    (void)state;
    e.name_len = sizeof(name) - 1;
    listing_append(&l, &e, name, NULL, NULL);
    assert_int_equal(
        listing_format_container(&l, LISTING_JSON, "c", &body, &len), 0);
    assert_string_equal(body, "[{\"subdir\": \"\\u007f\\u0001\\u00e9"
                              "\\ud83d\\ude00/\\\"\\\\\\b\\f\\n\\r\\t"
                              "\\ufffd\"}]");
    free(body);
    listing_release(&l);
}

static void test_empty_listings(void **state)
{
    struct listing l = {0};
    char *body;
    size_t len;

    (void)state;
    assert_int_equal(
        listing_format_container(&l, LISTING_XML, "c", &body, &len), 0);
    assert_string_equal(body, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                              "<container name=\"c\" />");
    free(body);
    assert_int_equal(listing_format_account(&l, LISTING_XML, "a", &body, &len),
                     0);
    assert_string_equal(body, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                              "<account name=\"a\">\n</account>");
    free(body);
    assert_int_equal(
        listing_format_container(&l, LISTING_JSON, "c", &body, &len), 0);
    assert_string_equal(body, "[]");
    free(body);
    assert_int_equal(
        listing_format_container(&l, LISTING_PLAIN, "c", &body, &len), 0);
    assert_int_equal(len, 0);
    free(body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_listings_match_swift,
                                        db_fixture_setup, db_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_random_listings_match_swift,
                                        db_fixture_setup, db_fixture_teardown),
        cmocka_unit_test(test_swift_bytes_rewrites_parameters),
        cmocka_unit_test(test_json_escapes_like_python),
        cmocka_unit_test(test_empty_listings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
