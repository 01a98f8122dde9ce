/*
 * listing.h - container and account listings: which rows a GET returns
 * (Swift's list_objects_iter / list_containers_iter, parameter for
 * parameter) and the entries a formatter turns into json, xml or plain
 * text (listing_format.h).
 *
 * A listing is a snapshot of the rows when the scan started. A zeroed
 * struct listing is empty; release with listing_release(). A listing
 * with 'emit' set keeps nothing: each entry goes to 'emit' as the scan
 * finds it (a formatter writing the body at once: listing_format.h).
 */
#ifndef STORAGE_LISTING_H
#define STORAGE_LISTING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/dbenc.h"
#include "storage/kvdb.h"

#define LISTING_LIMIT 10000 /* container_listing_limit */

/* Query parameters as the server parsed them. NULL and "" are both "not
 * given" except for 'prefix' and 'path', where Swift tells them apart.
 * Strings are NUL-terminated unless their _len is set: reserved names
 * (Swift's internal "\0versions\0..." and the like) contain NUL bytes, so
 * a prefix or marker holding one gives its length (0: use strlen()). */
struct listing_params {
    const char *prefix;
    const char *delimiter; /* one character, code point <= 254 */
    const char *marker;
    const char *end_marker;
    const char *path; /* containers only; sets prefix and '/' */
    size_t limit;     /* 0 lists nothing; see LISTING_LIMIT */
    bool reverse;
    bool allow_reserved; /* include names starting with "\0" */
    size_t prefix_len, marker_len, end_marker_len;
};

struct listing_entry {
    size_t name, name_len;   /* offsets into listing.strs */
    size_t ctype, ctype_len; /* containers: content type as stored */
    size_t etag, etag_len;   /* containers */
    int64_t bytes;           /* object size or container bytes used */
    int64_t count;           /* accounts: the container's object count */
    struct db_ts ts;         /* last_modified (object meta ts / put ts) */
    bool subdir;             /* only name is set */
};

/* Takes one entry; the strings are borrowed for the call, 'ctype' and
 * 'etag' are NULL unless the entry has them. Returns 0 or -ENOMEM. */
typedef int (*listing_emit_fn)(void *arg, const struct listing_entry *e,
                               const char *name, const char *ctype,
                               const char *etag);

struct listing {
    struct listing_entry *entries; /* none when 'emit' is set */
    size_t n, cap;                 /* n counts emitted entries too */
    char *strs;                    /* names and strings of every entry */
    size_t strs_len, strs_cap;
    int err; /* -ENOMEM once an append failed */
    listing_emit_fn emit;
    void *emit_arg;
};

void listing_release(struct listing *l);

/* Appends an entry (strings are copied) or emits it. Sets l->err on
 * failure. */
void listing_append(struct listing *l, const struct listing_entry *e,
                    const char *name, const char *ctype, const char *etag);
static inline const char *listing_str(const struct listing *l, size_t off)
{
    return l->strs + off;
}

/* Where the rows are and how to read them: keys 'keyprefix' + name. */
struct listing_source {
    struct kvdb *kv;
    const unsigned char *keyprefix;
    size_t keyprefix_len;
    /* 1 if the row is listed (not deleted, right policy), 0 if not,
     * -EINVAL if the value is malformed. */
    int (*accept)(const void *val, size_t vlen, void *arg);
    /* Appends the row's entry to 'l'. */
    int (*append)(struct listing *l, const char *name, size_t nlen,
                  const void *val, size_t vlen, void *arg);
    void *arg;
};

/* Checks parameters the way Swift's servers do: -EINVAL for a delimiter
 * of more than one character or a code point over 254, a limit over
 * LISTING_LIMIT. */
int listing_params_check(const struct listing_params *p);

/* Fills 'out' (which must be empty) from 'src'. Returns 0, -EINVAL (bad
 * parameters or a malformed row), -EIO or -ENOMEM. */
int listing_scan(const struct listing_source *src,
                 const struct listing_params *p, struct listing *out);

#endif
