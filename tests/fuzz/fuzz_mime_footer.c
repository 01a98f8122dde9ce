/*
 * fuzz_mime_footer.c - libFuzzer target for storage/mime_footer.c, the
 * parser of a footer PUT's MIME document (what a proxy, or anyone who can
 * reach an object server, sends).
 *
 * Input: a byte of piece size (1 + b % 64), then the document. The
 * document is parsed twice, whole and in pieces of that size, and both
 * parses must agree on the result, the error and every byte of object
 * data: a boundary cut between pieces must not change what the parser
 * sees. The data can never be longer than the document.
 */
#include "storage/mime_footer.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define BOUNDARY "b0undary"

/* CHECK() is gone under NDEBUG: a finding must abort in every build */
#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond))                                                           \
            abort();                                                           \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct sink {
    char *data;
    size_t len, cap;
};

static int collect(void *arg, const char *data, size_t len)
{
    struct sink *s = arg;

    CHECK(len > 0);
    CHECK(s->len + len <= s->cap);
    memcpy(s->data + s->len, data, len);
    s->len += len;
    return 0;
}

/* Returns the parse's result; the footer's JSON text in *json (free()). */
static int parse(const uint8_t *doc, size_t len, size_t piece, struct sink *s,
                 char **json, char *why, size_t why_cap)
{
    struct mime_footer *mf;
    json_t *footer = NULL;
    int err = 0;

    *json = NULL;
    if (mime_footer_new(BOUNDARY, &mf))
        abort();
    for (size_t at = 0; at < len && !err; at += piece) {
        size_t n = len - at < piece ? len - at : piece;

        err = mime_footer_feed(mf, (const char *)doc + at, n, collect, s);
    }
    if (!err)
        err = mime_footer_finish(mf, collect, s, &footer);
    CHECK(!err || !footer);
    if (footer)
        *json = json_dumps(footer, JSON_SORT_KEYS);
    strncpy(why, mime_footer_error(mf), why_cap - 1);
    why[why_cap - 1] = '\0';
    json_decref(footer);
    mime_footer_free(mf);
    return err;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sink whole = {0}, cut = {0};
    char *j1, *j2, why1[64], why2[64];
    size_t piece;
    int e1, e2;

    if (size < 1)
        return 0;
    piece = 1 + data[0] % 64;
    data++;
    size--;
    whole.cap = cut.cap = size;
    whole.data = malloc(size + 1);
    cut.data = malloc(size + 1);
    e1 = parse(data, size, size ? size : 1, &whole, &j1, why1, sizeof(why1));
    e2 = parse(data, size, piece, &cut, &j2, why2, sizeof(why2));
    CHECK(e1 == e2);
    CHECK(!strcmp(why1, why2));
    CHECK(whole.len == cut.len && !memcmp(whole.data, cut.data, cut.len));
    CHECK((!j1 && !j2) || (j1 && j2 && !strcmp(j1, j2)));
    free(j1);
    free(j2);
    free(whole.data);
    free(cut.data);
    return 0;
}
