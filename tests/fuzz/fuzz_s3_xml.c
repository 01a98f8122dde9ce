/* Description: libFuzzer target: S3's request-body parsers (s3_xml.c on
 * expat) and listing documents (s3_list.c on jansson) on arbitrary
 * bytes never crash, and what they accept keeps their promises: Delete
 * keys are non-empty, parts ascend with 32-hex etags, tag keys are
 * unique, all within the limits, and every accepted string can be
 * written back into a document. The first byte picks the parser. */
#include "proxy/s3_list.h"
#include "proxy/s3_xml.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_LEN (64 * 1024)

static void check_rc(int rc)
{
    if (rc != -ENOMEM && (rc < 0 || rc >= S3_ERR_COUNT))
        abort();
}

/* Writes 's' into a document and URL-encodes it: parsed text is UTF-8,
 * so neither may fail. */
static void write_back(struct s3_xml *x, const char *s)
{
    char *enc = s3_xml_url_encode(s);

    if (!enc || s3_xml_elem(x, "T", s))
        abort();
    free(enc);
}

static void fuzz_delete(const char *body, size_t len, size_t max)
{
    struct s3_xml_delete d;
    struct s3_xml x = {0};
    int rc = s3_xml_parse_delete(body, len, MAX_LEN, max, &d);

    check_rc(rc);
    if (rc) {
        if (d.keys || d.n_keys)
            abort();
        return;
    }
    if (!d.n_keys || d.n_keys > max)
        abort();
    for (size_t i = 0; i < d.n_keys; i++) {
        if (!*d.keys[i].key)
            abort();
        write_back(&x, d.keys[i].key);
        if (d.keys[i].version_id)
            write_back(&x, d.keys[i].version_id);
    }
    s3_xml_release(&x);
    s3_xml_delete_release(&d);
}

static void fuzz_complete(const char *body, size_t len, uint32_t max)
{
    struct s3_xml_complete c;
    int rc = s3_xml_parse_complete(body, len, MAX_LEN, max, &c);

    check_rc(rc);
    if (rc) {
        if (c.parts || c.n_parts)
            abort();
        return;
    }
    if (!c.n_parts || c.n_parts > max)
        abort();
    for (size_t i = 0; i < c.n_parts; i++) {
        if (c.parts[i].number < 1 || c.parts[i].number > max ||
            (i && c.parts[i].number <= c.parts[i - 1].number) ||
            strlen(c.parts[i].etag) != 32 ||
            strspn(c.parts[i].etag, "0123456789abcdef") != 32)
            abort();
    }
    s3_xml_complete_release(&c);
}

static void fuzz_create_bucket(const char *body, size_t len)
{
    struct s3_xml x = {0};
    char *location;
    int rc = s3_xml_parse_create_bucket(body, len, MAX_LEN, &location);

    check_rc(rc);
    if (rc && location)
        abort();
    if (location)
        write_back(&x, location);
    s3_xml_release(&x);
    free(location);
}

static void fuzz_tagging(const char *body, size_t len, size_t max)
{
    struct s3_xml_tagging t;
    struct s3_xml x = {0};
    int rc = s3_xml_parse_tagging(body, len, MAX_LEN, max, &t);

    check_rc(rc);
    if (rc) {
        if (t.tags || t.n_tags)
            abort();
        return;
    }
    if (t.n_tags > max)
        abort();
    for (size_t i = 0; i < t.n_tags; i++) {
        if (!*t.tags[i].key)
            abort();
        for (size_t j = 0; j < i; j++)
            if (!strcmp(t.tags[i].key, t.tags[j].key))
                abort();
        write_back(&x, t.tags[i].key);
        write_back(&x, t.tags[i].value);
    }
    s3_xml_release(&x);
    s3_xml_tagging_release(&t);
}

static void fuzz_listing(const char *json, size_t len, uint8_t flags)
{
    struct s3_list_query q = {
        .bucket = "b",
        .version = flags & 1 ? 2 : 1,
        .delimiter = flags & 2 ? "/" : NULL,
        .prefix = flags & 4 ? "p" : NULL,
        .url = flags & 8,
        .fetch_owner = flags & 16,
        .owner = "o",
        .max_keys = flags >> 5,
        .limit = flags >> 5,
    };
    char *doc, *last;
    size_t n;
    struct s3_xml x = {0};
    int rc = s3_list_objects(&q, json, len, &doc, &n);

    if (rc && rc != -EINVAL && rc != -ENOMEM)
        abort();
    if (!rc && strlen(doc) != n)
        abort();
    free(doc);
    s3_list_buckets_begin(&x, "o");
    rc = s3_list_buckets_add(&x, json, len, NULL, NULL, &n, &last);
    if (rc && rc != -EINVAL && rc != -ENOMEM)
        abort();
    free(last);
    s3_xml_release(&x);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *body = (const char *)data + 1;
    size_t len = size ? size - 1 : 0;

    if (!size)
        return 0;
    /* small limits, so the fuzzer reaches them */
    switch (data[0] & 7) {
    case 0: fuzz_delete(body, len, 1 + (data[0] >> 3)); break;
    case 1: fuzz_complete(body, len, 1 + (data[0] >> 3)); break;
    case 2: fuzz_create_bucket(body, len); break;
    case 3: fuzz_tagging(body, len, 1 + (data[0] >> 3)); break;
    default: fuzz_listing(body, len, data[0]); break;
    }
    return 0;
}
