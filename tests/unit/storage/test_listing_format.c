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

/* The same listing as the server makes it: formatted while scanned. */
static struct listing_body *streamed(struct kvdb *kv, bool account,
                                     const struct listing_params *lp,
                                     enum listing_fmt fmt, const char *name)
{
    struct listing_writer w;
    struct listing l = {0};
    struct listing_body *b;

    listing_writer_init(&w, fmt, account, name, lp->limit);
    listing_writer_attach(&w, &l);
    if (account) {
        struct acctdb db;

        acctdb_init(&db, kv, 7, acct_hash);
        assert_int_equal(acctdb_list(&db, lp, &l), 0);
    } else {
        struct contdb db;

        contdb_init(&db, kv, 7, cont_hash);
        assert_int_equal(contdb_list(&db, lp, &l), 0);
    }
    assert_null(l.entries);
    assert_int_equal(listing_writer_finish(&w, &b), 0);
    listing_release(&l);
    return b;
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
    struct listing_body *sb;
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
    sb = streamed(kv, account, &lp, fmt_of(str(q, "format")),
                  account
                      ? str(json_object_get(cases, "account"), "account")
                      : str(json_object_get(cases, "container"), "container"));
    if (sb->len != wlen || memcmp(sb->p, want, wlen)) {
        print_error("query %zu streamed:\n got: %.*s\nwant: %.*s\n", i,
                    (int)sb->len, sb->p, (int)wlen, want);
        fail();
    }
    listing_body_free(sb);
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

/* The body of one subdir entry named 'name' (n bytes), formatted both
 * ways; returns the stored way's (free it) after checking they agree. */
static char *subdir_json(const char *name, size_t n)
{
    struct listing l = {0};
    struct listing_entry e = {.subdir = true, .name_len = n};
    struct listing_writer w;
    struct listing_body *b;
    char *body;
    size_t len;

    listing_append(&l, &e, name, NULL, NULL);
    assert_int_equal(
        listing_format_container(&l, LISTING_JSON, "c", &body, &len), 0);
    listing_writer_init(&w, LISTING_JSON, false, "c", 1);
    assert_int_equal(listing_writer_entry(&w, &e, name, NULL, NULL), 0);
    assert_int_equal(listing_writer_finish(&w, &b), 0);
    assert_int_equal(b->len, len);
    assert_memory_equal(b->p, body, len);
    listing_body_free(b);
    listing_release(&l);
    return body;
}

static void test_json_escapes_every_control_char(void **state)
{
    char name[33], want[512], *p = want, *body;

    (void)state;
    for (int c = 0; c < 32; c++)
        name[c] = (char)c;
    name[32] = 0x7f;
    p += sprintf(p, "[{\"subdir\": \"");
    for (int c = 0; c < 33; c++) {
        int ch = c == 32 ? 0x7f : c;

        switch (ch) {
        case '\b': p += sprintf(p, "\\b"); break;
        case '\f': p += sprintf(p, "\\f"); break;
        case '\n': p += sprintf(p, "\\n"); break;
        case '\r': p += sprintf(p, "\\r"); break;
        case '\t': p += sprintf(p, "\\t"); break;
        default: p += sprintf(p, "\\u%04x", ch); break;
        }
    }
    sprintf(p, "\"}]");
    body = subdir_json(name, sizeof(name));
    assert_string_equal(body, want);
    free(body);
}

static void test_json_utf8_like_python(void **state)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"/a b~", "/a b~"}, /* '/' stays as it is */
        {"\"\\", "\\\"\\\\"},
        {"\xc2\x80", "\\u0080"},
        {"\xe2\x82\xac", "\\u20ac"},
        {"\xef\xbf\xbf", "\\uffff"},
        {"\xf0\x90\x80\x80", "\\ud800\\udc00"},
        {"\xf0\x9f\x98\x80", "\\ud83d\\ude00"},
        {"\xf4\x8f\xbf\xbf", "\\udbff\\udfff"},
        /* bytes Swift never stores: one U+FFFD each */
        {"\xe2\x82", "\\ufffd\\ufffd"},
        {"\xc0\xaf", "\\ufffd\\ufffd"},
        {"\xed\xa0\x80", "\\ufffd\\ufffd\\ufffd"},
        {"\xf4\x90\x80\x80", "\\ufffd\\ufffd\\ufffd\\ufffd"},
        {"x\xff", "x\\ufffd"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char want[128], *body = subdir_json(cases[i].in, strlen(cases[i].in));

        snprintf(want, sizeof(want), "[{\"subdir\": \"%s\"}]", cases[i].out);
        assert_string_equal(body, want);
        free(body);
    }
}

/* The 8-bytes-at-a-time scan: each byte that needs escaping, at every
 * place in a word, and its neighbours that do not. */
static void test_json_escapes_anywhere_in_a_word(void **state)
{
    static const unsigned char plain[] = {0x20, 0x21, 0x23, 0x5b,
                                          0x5d, 0x7e, 'a',  '/'};

    (void)state;
    for (int c = 0; c < 256; c++) {
        for (size_t pos = 0; pos < 17; pos++) {
            char name[17], want[64], esc[16], *body;
            bool is_plain = c >= 0x20 && c < 0x7f && c != '"' && c != '\\';

            memset(name, 'a', sizeof(name));
            name[pos] = (char)c;
            if (is_plain)
                snprintf(esc, sizeof(esc), "%c", c);
            else if (c == '"' || c == '\\')
                snprintf(esc, sizeof(esc), "\\%c", c);
            else if (c == '\b' || c == '\f' || c == '\n' || c == '\r' ||
                     c == '\t')
                snprintf(esc, sizeof(esc), "\\%c",
                         "bfnrt"[strchr("\b\f\n\r\t", c) - "\b\f\n\r\t"]);
            else if (c < 0x80)
                snprintf(esc, sizeof(esc), "\\u%04x", c);
            else
                snprintf(esc, sizeof(esc), "\\ufffd"); /* a lone byte */
            snprintf(want, sizeof(want), "[{\"subdir\": \"%.*s%s%.*s\"}]",
                     (int)pos, name, esc, (int)(16 - pos), name + pos + 1);
            body = subdir_json(name, sizeof(name));
            assert_string_equal(body, want);
            free(body);
        }
    }
    for (size_t i = 0; i < sizeof(plain); i++) {
        char name[24], want[64], *body;

        memset(name, plain[i], sizeof(name));
        snprintf(want, sizeof(want), "[{\"subdir\": \"%.24s\"}]", name);
        body = subdir_json(name, sizeof(name));
        assert_string_equal(body, want);
        free(body);
    }
}

/* Entries of a stored listing, formatted both ways. */
static char *both_ways(const struct listing *l, enum listing_fmt fmt,
                       bool account, const char *name)
{
    struct listing_writer w;
    struct listing_body *b;
    char *body;
    size_t len;

    if (account)
        assert_int_equal(listing_format_account(l, fmt, name, &body, &len), 0);
    else
        assert_int_equal(listing_format_container(l, fmt, name, &body, &len),
                         0);
    listing_writer_init(&w, fmt, account, name, l->n);
    for (size_t i = 0; i < l->n; i++) {
        const struct listing_entry *e = &l->entries[i];

        assert_int_equal(listing_writer_entry(&w, e, listing_str(l, e->name),
                                              listing_str(l, e->ctype),
                                              listing_str(l, e->etag)),
                         0);
    }
    assert_int_equal(listing_writer_finish(&w, &b), 0);
    assert_int_equal(b->len, len);
    assert_memory_equal(b->p, body, len);
    listing_body_free(b);
    return body;
}

static void add_object(struct listing *l, const char *name, const char *ct,
                       const char *etag, int64_t bytes, const char *ts)
{
    struct listing_entry e = {
        .name_len = strlen(name),
        .ctype_len = strlen(ct),
        .etag_len = strlen(etag),
        .bytes = bytes,
        .ts = ts_of(ts),
    };

    listing_append(l, &e, name, ct, etag);
}

static void test_container_entries_as_swift(void **state)
{
    struct listing l = {0};
    char *body;

    (void)state;
    add_object(&l, "a", "text/plain; swift_bytes=99; charset=utf-8", "e1", 7,
               "1700000000.12345");
    add_object(&l, "b", "x/y;swift_bytes=bad", "e2", 8, "0000000001.00000");
    add_object(&l, "c", "x/y;swift_bytes=-1_0", "\"q\"", 9,
               "1700000000.99999_000000000000000a");
    add_object(&l, "d\xc3\xa9", "t/\xc3\xa9", "", -3, "1699999999.00001");
    body = both_ways(&l, LISTING_JSON, false, "c");
    assert_string_equal(
        body, "[{\"bytes\": 99, \"hash\": \"e1\", \"name\": \"a\", "
              "\"content_type\": \"text/plain;charset=utf-8\", "
              "\"last_modified\": \"2023-11-14T22:13:20.123450\"}, "
              "{\"bytes\": 8, \"hash\": \"e2\", \"name\": \"b\", "
              "\"content_type\": \"x/y\", "
              "\"last_modified\": \"1970-01-01T00:00:01.000000\"}, "
              "{\"bytes\": -10, \"hash\": \"\\\"q\\\"\", \"name\": \"c\", "
              "\"content_type\": \"x/y\", "
              "\"last_modified\": \"2023-11-14T22:13:20.999990\"}, "
              "{\"bytes\": -3, \"hash\": \"\", \"name\": \"d\\u00e9\", "
              "\"content_type\": \"t/\\u00e9\", "
              "\"last_modified\": \"2023-11-14T22:13:19.000010\"}]");
    free(body);
    body = both_ways(&l, LISTING_XML, false, "c\"<&\n\t>");
    assert_string_equal(
        body,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<container name=\"c&quot;&lt;&amp;&#10;&#09;&gt;\">"
        "<object><name>a</name><hash>e1</hash><bytes>99</bytes>"
        "<content_type>text/plain;charset=utf-8</content_type>"
        "<last_modified>2023-11-14T22:13:20.123450</last_modified></object>"
        "<object><name>b</name><hash>e2</hash><bytes>8</bytes>"
        "<content_type>x/y</content_type>"
        "<last_modified>1970-01-01T00:00:01.000000</last_modified></object>"
        "<object><name>c</name><hash>\"q\"</hash><bytes>-10</bytes>"
        "<content_type>x/y</content_type>"
        "<last_modified>2023-11-14T22:13:20.999990</last_modified></object>"
        "<object><name>d\xc3\xa9</name><hash></hash><bytes>-3</bytes>"
        "<content_type>t/\xc3\xa9</content_type>"
        "<last_modified>2023-11-14T22:13:19.000010</last_modified></object>"
        "</container>");
    free(body);
    body = both_ways(&l, LISTING_PLAIN, false, "c");
    assert_string_equal(body, "a\nb\nc\nd\xc3\xa9\n");
    free(body);
    listing_release(&l);
}

/* last_modified is worked out with integers below 2^33 s and a date per
 * day: the same as db_ts_isoformat(), which does as Swift does. */
static void test_last_modified_matches_isoformat(void **state)
{
    enum { N = 5000 };
    struct listing l = {0};
    struct dbenc want = {0};
    char *body;

    (void)state;
    srand48(42);
    dbenc_u8(&want, '[');
    for (int i = 0; i < N; i++) {
        struct listing_entry e = {.name_len = 1, .ctype_len = 1, .etag_len = 1};
        char iso[DB_ISO_LEN], text[160];
        uint64_t secs;

        switch (i % 5) {
        case 0: secs = (uint64_t)(drand48() * 8589934592.0); break;
        case 1: secs = (uint64_t)(drand48() * 100000.0); break;
        case 2: secs = 8589934592ull - 1 - (uint64_t)(drand48() * 86400); break;
        case 3: secs = 8589934592ull + (uint64_t)(drand48() * 1e9); break;
        default: secs = 1700000000 + (uint64_t)i / 7 * 86399; break;
        }
        e.ts.raw = secs * 100000 + (i & 1 ? (uint64_t)(drand48() * 100000)
                                          : (uint64_t)(i % 3) * 49999);
        listing_append(&l, &e, "n", "t", "e");
        db_ts_isoformat(&e.ts, iso);
        snprintf(text, sizeof(text),
                 "%s{\"bytes\": 0, \"hash\": \"e\", \"name\": \"n\", "
                 "\"content_type\": \"t\", \"last_modified\": \"%s\"}",
                 i ? ", " : "", iso);
        dbenc_bytes(&want, text, strlen(text));
    }
    dbenc_bytes(&want, "]", 2);
    body = both_ways(&l, LISTING_JSON, false, "c");
    assert_string_equal(body, (char *)want.p);
    free(body);
    dbenc_release(&want);
    listing_release(&l);
}

/* A body far past its first guess grows, and reads back in pieces. */
static void test_body_grows_and_reads_back(void **state)
{
    enum { N = 3000, LEN = 700 };
    struct listing_entry e = {.subdir = true, .name_len = LEN};
    struct listing_writer w;
    struct listing_body *b;
    char name[LEN], piece[1000];
    size_t pos = 0, entry = 14 + 6 * LEN;

    (void)state;
    memset(name, '\x01', sizeof(name));
    listing_writer_init(&w, LISTING_JSON, false, "c", 1);
    for (int i = 0; i < N; i++)
        assert_int_equal(listing_writer_entry(&w, &e, name, NULL, NULL), 0);
    assert_int_equal(listing_writer_finish(&w, &b), 0);
    assert_int_equal(b->len, 2 + N * entry + (N - 1) * 2);
    for (;;) {
        ssize_t n = listing_body_read(b, pos, piece, sizeof(piece));

        assert_true(n >= 0);
        if (!n)
            break;
        assert_memory_equal(piece, b->p + pos, (size_t)n);
        if (pos == 0)
            assert_memory_equal(piece, "[{\"subdir\": \"\\u0001", 19);
        pos += (size_t)n;
    }
    assert_int_equal(pos, b->len);
    assert_memory_equal(b->p + b->len - 3, "\"}]", 3);
    listing_body_free(b);
    listing_body_free(NULL);
    /* a writer dropped half-way gives its memory back too */
    listing_writer_init(&w, LISTING_XML, true, "a", 10);
    assert_int_equal(listing_writer_entry(&w, &e, name, NULL, NULL), 0);
    listing_writer_release(&w);
    listing_writer_release(&w);
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
        cmocka_unit_test(test_json_escapes_every_control_char),
        cmocka_unit_test(test_json_utf8_like_python),
        cmocka_unit_test(test_json_escapes_anywhere_in_a_word),
        cmocka_unit_test(test_container_entries_as_swift),
        cmocka_unit_test(test_last_modified_matches_isoformat),
        cmocka_unit_test(test_body_grows_and_reads_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
