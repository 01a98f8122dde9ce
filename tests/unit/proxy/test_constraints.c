/* Description: Swift's constraints: defaults and overrides, and the status
 * and body of every refusal, as Swift 2.30 gives them (expected values
 * computed with Debian's python3-swift). */
#include "proxy/constraints.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define NOW 1700000000.0

static struct constraints c;

static int setup(void **state)
{
    (void)state;
    constraints_default(&c);
    return 0;
}

static const char *conf_lookup(void *arg, const char *section, const char *key)
{
    const char **kv = arg;

    assert_string_equal(section, "swift-constraints");
    for (; kv[0]; kv += 2)
        if (!strcmp(kv[0], key))
            return kv[1];
    return NULL;
}

static void test_defaults(void **state)
{
    (void)state;
    assert_int_equal(c.max_file_size, 5368709122);
    assert_int_equal(c.max_meta_name_length, 128);
    assert_int_equal(c.max_meta_value_length, 256);
    assert_int_equal(c.max_meta_count, 90);
    assert_int_equal(c.max_meta_overall_size, 4096);
    assert_int_equal(c.max_header_size, 8192);
    assert_int_equal(c.max_object_name_length, 1024);
    assert_int_equal(c.container_listing_limit, 10000);
    assert_int_equal(c.account_listing_limit, 10000);
    assert_int_equal(c.max_account_name_length, 256);
    assert_int_equal(c.max_container_name_length, 256);
    assert_int_equal(c.extra_header_count, 0);
    assert_int_equal(constraints_max_header_count(&c), 126);
    assert_int_equal(constraints_max_request_headers(&c), 201);
    assert_true(constraints_valid_api_version(&c, "v1", 2));
    assert_true(constraints_valid_api_version(&c, "v1.0", 4));
    assert_false(constraints_valid_api_version(&c, "v2", 2));
    assert_string_equal(c.auto_create_account_prefix, ".");
}

static void test_load_overrides(void **state)
{
    const char *kv[] = {"max_file_size",
                        " +1_000 ",
                        "extra_header_count",
                        "-5",
                        "max_meta_count",
                        "10",
                        "valid_api_versions",
                        "v1, ,v2,",
                        NULL};
    struct constraints o;
    char err[256];

    (void)state;
    constraints_default(&o);
    assert_int_equal(constraints_load(&o, conf_lookup, kv, err, sizeof(err)),
                     0);
    assert_int_equal(o.max_file_size, 1000);
    assert_int_equal(o.max_meta_count, 10);
    assert_int_equal(o.max_object_name_length, 1024);
    /* a negative extra count adds nothing */
    assert_int_equal(constraints_max_header_count(&o), 46);
    assert_int_equal(o.n_valid_api_versions, 2);
    assert_true(constraints_valid_api_version(&o, "v2", 2));
    assert_false(constraints_valid_api_version(&o, "v1.0", 4));
}

static void test_load_rejects_non_integer(void **state)
{
    const char *kv[] = {"max_meta_count", "9_", NULL};
    struct constraints o;
    char err[256];

    (void)state;
    constraints_default(&o);
    assert_int_equal(constraints_load(&o, conf_lookup, kv, err, sizeof(err)),
                     -EINVAL);
    assert_non_null(strstr(err, "max_meta_count"));
}

/* Checks one refusal: status and body. */
static void expect(int r, struct constraints_error *e, int status,
                   const char *body)
{
    assert_int_equal(r, status);
    if (!status)
        return;
    assert_int_equal(e->status, status);
    assert_string_equal(e->body, body);
    constraints_error_release(e);
    assert_null(e->body);
}

static void test_metadata_limits(void **state)
{
    struct constraints_error e = {0};
    struct constraints_header h[1];
    char name[200], value[9000];

    (void)state;
    snprintf(name, sizeof(name), "X-Object-Meta-%0129d", 0);
    name[14] = 'k';
    h[0] = (struct constraints_header){name, "v"};
    expect(constraints_check_metadata(&c, h, 1, CONSTRAINTS_OBJECT, &e), &e,
           400,
           "Metadata name too long: x-object-meta-K"
           "0000000000000000000000000000000000000000000000000000000000"
           "0000000000000000000000000000000000000000000000000000000000"
           "000000000000");
    memset(value, 'v', 257);
    value[257] = '\0';
    h[0] = (struct constraints_header){"x-object-meta-color", value};
    expect(constraints_check_metadata(&c, h, 1, CONSTRAINTS_OBJECT, &e), &e,
           400, "Metadata value longer than 256: x-object-meta-Color");
    /* WSGI folds '_' into '-': Swift sees X-Object-Meta-A-B */
    h[0] = (struct constraints_header){"x_object_meta_a_b", value};
    expect(constraints_check_metadata(&c, h, 1, CONSTRAINTS_OBJECT, &e), &e,
           400, "Metadata value longer than 256: x-object-meta-A-B");
    h[0] = (struct constraints_header){"X-Object-Meta-", "v"};
    expect(constraints_check_metadata(&c, h, 1, CONSTRAINTS_OBJECT, &e), &e,
           400, "Metadata name cannot be empty");
    memset(value, 'v', 8193);
    value[8193] = '\0';
    h[0] = (struct constraints_header){"x-foo", value};
    expect(constraints_check_metadata(&c, h, 1, CONSTRAINTS_OBJECT, &e), &e,
           400, "Header value too long: X-Foo");
    /* exactly at the limits passes */
    value[256] = '\0';
    h[0] = (struct constraints_header){"X-Object-Meta-A", value};
    expect(constraints_check_metadata(&c, h, 1, CONSTRAINTS_OBJECT, &e), &e, 0,
           NULL);
    /* another target's metadata is not counted */
    value[256] = 'v';
    value[300] = '\0';
    h[0] = (struct constraints_header){"X-Container-Meta-A", value};
    expect(constraints_check_metadata(&c, h, 1, CONSTRAINTS_OBJECT, &e), &e, 0,
           NULL);
}

static void test_metadata_count_and_size(void **state)
{
    struct constraints_error e = {0};
    struct constraints_header h[91];
    char names[91][32], value[201];
    size_t i;

    (void)state;
    for (i = 0; i < 91; i++) {
        snprintf(names[i], sizeof(names[i]), "X-Object-Meta-%zu", i);
        h[i] = (struct constraints_header){names[i], "v"};
    }
    expect(constraints_check_metadata(&c, h, 90, CONSTRAINTS_OBJECT, &e), &e, 0,
           NULL);
    expect(constraints_check_metadata(&c, h, 91, CONSTRAINTS_OBJECT, &e), &e,
           400, "Too many metadata items; max 90");
    memset(value, 'v', 200);
    value[200] = '\0';
    for (i = 0; i < 21; i++) {
        snprintf(names[i], sizeof(names[i]), "X-Object-Meta-%03zu", i);
        h[i] = (struct constraints_header){names[i], value};
    }
    /* 20 items of 203 bytes fit in 4096; the 21st does not */
    expect(constraints_check_metadata(&c, h, 20, CONSTRAINTS_OBJECT, &e), &e, 0,
           NULL);
    expect(constraints_check_metadata(&c, h, 21, CONSTRAINTS_OBJECT, &e), &e,
           400, "Total metadata too large; max 4096");
}

static void test_metadata_utf8_for_account_and_container(void **state)
{
    struct constraints_error e = {0};
    struct constraints_header h[1] = {{"X-Container-Meta-A\xff", "v"}};

    (void)state;
    expect(constraints_check_metadata(&c, h, 1, CONSTRAINTS_CONTAINER, &e), &e,
           400, "Metadata must be valid UTF-8");
    h[0] = (struct constraints_header){"X-Container-Meta-A", "\xc3\xa9"};
    expect(constraints_check_metadata(&c, h, 1, CONSTRAINTS_CONTAINER, &e), &e,
           0, NULL);
    h[0] = (struct constraints_header){"X-Account-Meta-A", "\xc3"};
    expect(constraints_check_metadata(&c, h, 1, CONSTRAINTS_ACCOUNT, &e), &e,
           400, "Metadata must be valid UTF-8");
    /* objects take any bytes */
    h[0] = (struct constraints_header){"X-Object-Meta-A", "\xc3"};
    expect(constraints_check_metadata(&c, h, 1, CONSTRAINTS_OBJECT, &e), &e, 0,
           NULL);
}

static int create(const struct constraints_header *h, size_t n,
                  const char *name, int64_t *at, struct constraints_error *e)
{
    return constraints_check_object_creation(&c, h, n, name, NOW, at, e);
}

static void test_object_creation_length(void **state)
{
    struct constraints_error e = {0};
    int64_t at;

    (void)state;
    {
        struct constraints_header h[] = {{"Content-Length", "5368709123"},
                                         {"Content-Type", "t"}};
        expect(create(h, N(h), "o", &at, &e), &e, 413,
               "Your request is too large.");
    }
    {
        struct constraints_header h[] = {{"Content-Length", "5368709122"},
                                         {"Content-Type", "t"}};
        expect(create(h, N(h), "o", &at, &e), &e, 0, NULL);
        assert_int_equal(at, -1);
    }
    {
        struct constraints_header h[] = {{"Content-Type", "t"}};
        expect(create(h, N(h), "o", &at, &e), &e, 411,
               "Missing Content-Length header.");
    }
    {
        struct constraints_header h[] = {{"Transfer-Encoding", "chunked"},
                                         {"Content-Type", "t"}};
        expect(create(h, N(h), "o", &at, &e), &e, 0, NULL);
    }
    {
        struct constraints_header h[] = {{"Transfer-Encoding", "Chunked"},
                                         {"Content-Type", "t"}};
        expect(create(h, N(h), "o", &at, &e), &e, 411,
               "Missing Content-Length header.");
    }
    {
        struct constraints_header h[] = {{"Transfer-Encoding", "gzip,chunked"},
                                         {"Content-Type", "t"}};
        expect(create(h, N(h), "o", &at, &e), &e, 501,
               "Unsupported Transfer-Coding header value specified in "
               "Transfer-Encoding header");
    }
    {
        struct constraints_header h[] = {{"Transfer-Encoding", "gzip"},
                                         {"Content-Type", "t"}};
        expect(create(h, N(h), "o", &at, &e), &e, 400,
               "Invalid Transfer-Encoding header value");
    }
    {
        struct constraints_header h[] = {{"Content-Length", "abc"},
                                         {"Content-Type", "t"}};
        expect(create(h, N(h), "o", &at, &e), &e, 400,
               "Invalid Content-Length header value");
    }
}

static void test_object_creation_name_and_type(void **state)
{
    struct constraints_error e = {0};
    char name[2100];
    int64_t at;
    size_t i;

    (void)state;
    {
        struct constraints_header h[] = {{"Content-Length", "0"}};
        expect(create(h, N(h), "o", &at, &e), &e, 400, "No content type");
    }
    {
        struct constraints_header h[] = {{"Content-Length", "0"},
                                         {"Content-Type", ""}};
        expect(create(h, N(h), "o", &at, &e), &e, 400, "Invalid Content-Type");
    }
    struct constraints_header h[] = {{"Content-Length", "0"},
                                     {"Content-Type", "t"}};
    memset(name, 'o', 1025);
    name[1025] = '\0';
    expect(create(h, N(h), name, &at, &e), &e, 400,
           "Object name length of 1025 longer than 1024");
    /* 1024 characters of two bytes each fit: Swift counts characters */
    for (i = 0; i < 1024; i++)
        memcpy(name + 2 * i, "\xc3\xa9", 2);
    name[2048] = '\0';
    expect(create(h, N(h), name, &at, &e), &e, 0, NULL);
}

static void test_content_type_swift_params(void **state)
{
    struct constraints_error e = {0};
    struct constraints_header h[] = {
        {"Content-Type", "text/plain; swift_bytes=3"}};

    (void)state;
    expect(constraints_check_content_type(h, 1, &e), &e, 400,
           "Invalid Content-Type, swift_* is not a valid parameter name.");
    h[0].value = "text/plain; charset=utf-8";
    expect(constraints_check_content_type(h, 1, &e), &e, 0, NULL);
}

static void test_delete_headers(void **state)
{
    struct constraints_error e = {0};
    int64_t at;

    (void)state;
    {
        struct constraints_header h[] = {{"X-Delete-At", "x"}};
        expect(constraints_check_delete_headers(h, 1, NOW, &at, &e), &e, 400,
               "Non-integer X-Delete-At");
    }
    {
        struct constraints_header h[] = {{"X-Delete-At", "1700000000"}};
        expect(constraints_check_delete_headers(h, 1, NOW, &at, &e), &e, 400,
               "X-Delete-At in past");
    }
    {
        struct constraints_header h[] = {{"X-Delete-At", "1700000000"},
                                         {"X-Backend-Replication", "yes"}};
        expect(constraints_check_delete_headers(h, 2, NOW, &at, &e), &e, 0,
               NULL);
        assert_int_equal(at, 1700000000);
    }
    {
        struct constraints_header h[] = {{"X-Delete-After", "0"}};
        expect(constraints_check_delete_headers(h, 1, NOW, &at, &e), &e, 400,
               "X-Delete-After in past");
    }
    {
        struct constraints_header h[] = {{"X-Delete-After", "1.5"}};
        expect(constraints_check_delete_headers(h, 1, NOW, &at, &e), &e, 400,
               "Non-integer X-Delete-After");
    }
    {
        /* X-Delete-After wins over X-Delete-At */
        struct constraints_header h[] = {{"X-Delete-At", "1"},
                                         {"X-Delete-After", "60"}};
        expect(constraints_check_delete_headers(h, 2, NOW, &at, &e), &e, 0,
               NULL);
        assert_int_equal(at, 1700000060);
    }
    {
        struct constraints_header h[] = {{"X-Delete-At", " 1_8000_00000 "}};
        expect(constraints_check_delete_headers(h, 1, NOW, &at, &e), &e, 0,
               NULL);
        assert_int_equal(at, 1800000000);
    }
    {
        /* capped at 9999999999, as normalize_delete_at_timestamp() */
        struct constraints_header h[] = {{"X-Delete-At", "123456789012345"}};
        expect(constraints_check_delete_headers(h, 1, NOW, &at, &e), &e, 0,
               NULL);
        assert_int_equal(at, 9999999999);
    }
}

static void test_check_utf8(void **state)
{
    (void)state;
    assert_true(constraints_check_utf8("abc", 3));
    assert_true(constraints_check_utf8("\xf0\x9f\xa5\x94", 4));
    assert_false(constraints_check_utf8("", 0));
    assert_false(constraints_check_utf8("a\0b", 3));
    assert_false(constraints_check_utf8("\xff", 1));
    assert_false(constraints_check_utf8("\xc0\xaf", 2));     /* overlong */
    assert_false(constraints_check_utf8("\xed\xa0\x80", 3)); /* surrogate */
    assert_false(constraints_check_utf8("\xc3", 1));         /* truncated */
}

static void test_name_format_and_length(void **state)
{
    struct constraints_error e = {0};
    char name[600];

    (void)state;
    expect(constraints_check_name_format("", CONSTRAINTS_CONTAINER, &e), &e,
           412, "Container name cannot be empty");
    expect(constraints_check_name_format("a/b", CONSTRAINTS_CONTAINER, &e), &e,
           412, "Container name cannot contain slashes");
    expect(constraints_check_name_format("a/b", CONSTRAINTS_ACCOUNT, &e), &e,
           412, "Account name cannot contain slashes");
    memset(name, 'c', 257);
    name[257] = '\0';
    expect(constraints_check_name_length(&c, CONSTRAINTS_CONTAINER, "AUTH_a",
                                         name, &e),
           &e, 400, "Container name length of 257 longer than 256");
    /* accounts under the auto-create prefix get twice the room */
    expect(constraints_check_name_length(&c, CONSTRAINTS_CONTAINER, ".acc",
                                         name, &e),
           &e, 0, NULL);
    expect(
        constraints_check_name_length(&c, CONSTRAINTS_ACCOUNT, name, name, &e),
        &e, 400, "Account name length of 257 longer than 256");
}

/* Expected values from swift.common.request_helpers.check_path_header. */
static void test_path_header(void **state)
{
    static const char *const ok[][3] = {
        {"c/o", "c", "o"},   {"/c/o", "c", "o"},        {"c/o/p", "c", "o/p"},
        {"c%2Fo", "c", "o"}, {"%63/%6F%2", "c", "o%2"}, {"c//o", "c", "/o"},
    };
    static const char *const bad[] = {"c", "/c/", "//o", ""};
    struct constraints_error e = {0};
    char *cont, *obj;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        assert_int_equal(constraints_check_path_header("X-Copy-From", ok[i][0],
                                                       &cont, &obj, &e),
                         0);
        assert_string_equal(cont, ok[i][1]);
        assert_string_equal(obj, ok[i][2]);
        free(cont);
        free(obj);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        expect(constraints_check_path_header("Destination", bad[i], &cont, &obj,
                                             &e),
               &e, 412,
               "Destination header must be of the form <container "
               "name>/<object name>");
        assert_null(cont);
    }
    expect(
        constraints_check_path_header("X-Copy-From", "c/o%00", &cont, &obj, &e),
        &e, 412, "Invalid UTF8 or contains NULL");
}

/* Expected values from swift.common.utils.split_path. */
static void expect_split(const char *path, int min, int max, int rest,
                         const char *const *want)
{
    struct constraints_seg segs[8];
    int i;

    if (!want) {
        assert_int_equal(constraints_split_path(path, min, max, rest, segs),
                         -EINVAL);
        return;
    }
    assert_int_equal(constraints_split_path(path, min, max, rest, segs), 0);
    for (i = 0; i < max; i++) {
        if (!want[i]) {
            assert_null(segs[i].s);
            continue;
        }
        assert_non_null(segs[i].s);
        assert_int_equal(segs[i].len, strlen(want[i]));
        assert_memory_equal(segs[i].s, want[i], segs[i].len);
    }
}

static void test_split_path(void **state)
{
    (void)state;
    expect_split("/v1/a", 1, 4, 1, (const char *[]){"v1", "a", NULL, NULL});
    expect_split("/v1/a/", 1, 4, 1, (const char *[]){"v1", "a", "", NULL});
    expect_split("/v1/a/c/", 1, 4, 1, (const char *[]){"v1", "a", "c", ""});
    expect_split("/v1/a/c/o/r/", 1, 4, 1,
                 (const char *[]){"v1", "a", "c", "o/r/"});
    expect_split("/v1//c", 1, 4, 1, (const char *[]){"v1", "", "c", NULL});
    expect_split("/v1/a/c//o", 1, 4, 1, (const char *[]){"v1", "a", "c", "/o"});
    expect_split("/v1", 1, 4, 1, (const char *[]){"v1", NULL, NULL, NULL});
    expect_split("//a", 1, 4, 1, NULL);
    expect_split("v1/a", 1, 4, 1, NULL);
    expect_split("/a/c", 2, 2, 0, (const char *[]){"a", "c"});
    expect_split("/a/c/", 2, 2, 0, (const char *[]){"a", "c"});
    expect_split("/a/c/o", 2, 2, 0, NULL);
    expect_split("/a//", 2, 3, 0, NULL);
    expect_split("/a", 2, 3, 0, NULL);
    expect_split("", 1, 1, 0, NULL);
    expect_split("/", 1, 1, 0, NULL);
}

static void expect_route(const char *path, size_t len, int status,
                         enum constraints_route want, const char *body)
{
    struct constraints_error e = {0};
    struct constraints_seg segs[4];
    enum constraints_route route;
    int r;

    r = constraints_route_path(&c, path, len, &route, segs, &e);
    assert_int_equal(r, status);
    if (!status) {
        assert_int_equal(route, want);
        return;
    }
    if (body)
        assert_string_equal(e.body, body);
    else
        assert_null(e.body); /* the server's default body for the status */
    constraints_error_release(&e);
}

static void test_route_path(void **state)
{
    (void)state;
    expect_route("/info", 5, 0, CONSTRAINTS_ROUTE_INFO, NULL);
    expect_route("/v1/AUTH_a", 10, 0, CONSTRAINTS_ROUTE_ACCOUNT, NULL);
    expect_route("/v1/AUTH_a/", 11, 0, CONSTRAINTS_ROUTE_ACCOUNT, NULL);
    expect_route("/v1/AUTH_a/c", 12, 0, CONSTRAINTS_ROUTE_CONTAINER, NULL);
    expect_route("/v1/AUTH_a/c/", 13, 0, CONSTRAINTS_ROUTE_CONTAINER, NULL);
    expect_route("/v1/AUTH_a/c/o/p", 16, 0, CONSTRAINTS_ROUTE_OBJECT, NULL);
    expect_route("/v1.0/AUTH_a/c/..", 17, 0, CONSTRAINTS_ROUTE_OBJECT, NULL);
    expect_route("/v1/AUTH_a/c/o\0x", 16, 412, 0,
                 "Invalid UTF8 or contains NULL");
    expect_route("/v1/AUTH_a/c/\xff", 14, 412, 0,
                 "Invalid UTF8 or contains NULL");
    expect_route("/v2/AUTH_a", 10, 400, 0, NULL);
    expect_route("//AUTH_a", 8, 404, 0, NULL);
    expect_route("/v1", 3, 412, 0, "Bad URL");
    expect_route("/v1//c", 6, 412, 0, "Bad URL");
    expect_route("/v1/AUTH_a//o", 13, 412, 0, "Bad URL");
}

/* Random paths and headers: no crash, no leak (ASan). */
static void test_random_input(void **state)
{
    static const char alphabet[] = "/v1.0a_-%2Fx\xc3\xa9\xff:;=, ";
    struct constraints_error e = {0};
    struct constraints_seg segs[4];
    enum constraints_route route;
    char path[48], *co, *ob;
    unsigned int seed = 7;
    int64_t at;
    int i, j, n;

    (void)state;
    for (i = 0; i < 20000; i++) {
        n = (int)(rand_r(&seed) % (sizeof(path) - 1));
        for (j = 0; j < n; j++)
            path[j] = alphabet[rand_r(&seed) % (sizeof(alphabet) - 1)];
        path[n] = '\0';
        (void)constraints_route_path(&c, path, (size_t)n, &route, segs, &e);
        constraints_error_release(&e);
        if (!constraints_check_path_header("Destination", path, &co, &ob, &e)) {
            free(co);
            free(ob);
        }
        constraints_error_release(&e);
        struct constraints_header h[] = {{path, path},
                                         {"Content-Length", path},
                                         {"X-Delete-At", path},
                                         {"Content-Type", path}};
        (void)constraints_check_object_creation(&c, h, 4, path, NOW, &at, &e);
        constraints_error_release(&e);
        (void)constraints_check_metadata(&c, h, 4, CONSTRAINTS_CONTAINER, &e);
        constraints_error_release(&e);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_load_overrides),
        cmocka_unit_test(test_load_rejects_non_integer),
        cmocka_unit_test(test_metadata_limits),
        cmocka_unit_test(test_metadata_count_and_size),
        cmocka_unit_test(test_metadata_utf8_for_account_and_container),
        cmocka_unit_test(test_object_creation_length),
        cmocka_unit_test(test_object_creation_name_and_type),
        cmocka_unit_test(test_content_type_swift_params),
        cmocka_unit_test(test_delete_headers),
        cmocka_unit_test(test_check_utf8),
        cmocka_unit_test(test_name_format_and_length),
        cmocka_unit_test(test_split_path),
        cmocka_unit_test(test_path_header),
        cmocka_unit_test(test_random_input),
        cmocka_unit_test(test_route_path),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
