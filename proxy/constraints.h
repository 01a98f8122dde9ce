/*
 * constraints.h - Swift's request constraints as the proxy enforces them:
 * the limits of [swift-constraints] (Swift 2.30's defaults, overridable),
 * the metadata, object-creation, name and path checks, each refusing with
 * the status and text/plain body Swift sends.
 *
 * A struct constraints is a plain value: fill it once at startup with
 * constraints_default() and constraints_load(), then share it read-only
 * between request threads. The checks keep no state and are thread-safe.
 *
 * Checks return 0 when the request passes, the HTTP status (400, 411, 412,
 * 413, 501) when Swift would refuse it, with the body in *err, or -ENOMEM.
 */
#ifndef PROXY_CONSTRAINTS_H
#define PROXY_CONSTRAINTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONSTRAINTS_SECTION "swift-constraints"
#define CONSTRAINTS_MAX_API_VERSIONS 8
#define CONSTRAINTS_API_VERSION_LEN 16
#define CONSTRAINTS_PREFIX_LEN 32

struct constraints {
    int64_t max_file_size;             /* 5368709122 */
    int64_t max_meta_name_length;      /* 128 */
    int64_t max_meta_value_length;     /* 256 */
    int64_t max_meta_count;            /* 90 */
    int64_t max_meta_overall_size;     /* 4096 */
    int64_t max_header_size;           /* 8192 */
    int64_t max_object_name_length;    /* 1024 */
    int64_t container_listing_limit;   /* 10000 */
    int64_t account_listing_limit;     /* 10000 */
    int64_t max_account_name_length;   /* 256 */
    int64_t max_container_name_length; /* 256 */
    int64_t extra_header_count;        /* 0 */
    char valid_api_versions[CONSTRAINTS_MAX_API_VERSIONS]
                           [CONSTRAINTS_API_VERSION_LEN]; /* v1, v1.0 */
    size_t n_valid_api_versions;
    char auto_create_account_prefix[CONSTRAINTS_PREFIX_LEN]; /* "." */
};

/* A refusal: the status and the text/plain body Swift sends with it.
 * A zeroed struct means "no refusal"; the body is malloc'ed. */
struct constraints_error {
    unsigned int status;
    char *body;
};
void constraints_error_release(struct constraints_error *err);

/* One request header, both strings borrowed for the call. */
struct constraints_header {
    const char *name;
    const char *value;
};

enum constraints_target {
    CONSTRAINTS_ACCOUNT,
    CONSTRAINTS_CONTAINER,
    CONSTRAINTS_OBJECT,
};

/* Returns the value of 'key' in ini 'section', or NULL when it is unset.
 * The string must live until the call that was given the function ends. */
typedef const char *constraints_lookup_fn(void *arg, const char *section,
                                          const char *key);

/* Sets every limit to Swift 2.30's default. */
void constraints_default(struct constraints *c);

/* Overrides the defaults with the keys of [swift-constraints] that
 * 'lookup' knows, as Swift's reload_constraints(): integers as Python's
 * int() reads them, valid_api_versions as a comma-separated list. Returns
 * 0, or -EINVAL with the reason in 'errbuf' (c is then partly updated:
 * startup stops anyway). */
int constraints_load(struct constraints *c, constraints_lookup_fn *lookup,
                     void *arg, char *errbuf, size_t errlen);

/* MAX_HEADER_COUNT: max_meta_count + 36 + max(extra_header_count, 0). */
int64_t constraints_max_header_count(const struct constraints *c);

/* Header fields a request may carry before Swift's proxy answers 431
 * "Too many headers": it sets http.client's limit to MAX_HEADER_COUNT *
 * 1.6, so 201 pass by default and the 202nd is refused. */
int64_t constraints_max_request_headers(const struct constraints *c);

bool constraints_valid_api_version(const struct constraints *c,
                                   const char *version, size_t len);

/* Swift's check_utf8(): non-empty, valid UTF-8 without surrogates or NUL.
 * 'len' bytes of 's' are checked, so an embedded NUL is seen. */
bool constraints_check_utf8(const char *s, size_t len);

/* check_metadata(): every header value at most max_header_size, and the
 * X-<target>-Meta-* names and values within the limits, in header order
 * (the first fault is the one reported, as in Swift). */
int constraints_check_metadata(const struct constraints *c,
                               const struct constraints_header *hdrs,
                               size_t n_hdrs, enum constraints_target target,
                               struct constraints_error *err);

/* check_delete_headers(): X-Delete-After turns into an X-Delete-At of
 * now + after; X-Delete-At must be an integer in the future (unless
 * X-Backend-Replication is true). On success *delete_at is the value the
 * proxy forwards as X-Delete-At (in place of X-Delete-After), or -1 when
 * neither header was sent. */
int constraints_check_delete_headers(const struct constraints_header *hdrs,
                                     size_t n_hdrs, double now,
                                     int64_t *delete_at,
                                     struct constraints_error *err);

/* check_object_creation() for an object PUT named 'object_name' (decoded,
 * valid UTF-8): Transfer-Encoding and Content-Length, size, name length,
 * Content-Type, the delete headers (as above) and metadata. */
int constraints_check_object_creation(const struct constraints *c,
                                      const struct constraints_header *hdrs,
                                      size_t n_hdrs, const char *object_name,
                                      double now, int64_t *delete_at,
                                      struct constraints_error *err);

/* The proxy's check_content_type(): no swift_* Content-Type parameter. */
int constraints_check_content_type(const struct constraints_header *hdrs,
                                   size_t n_hdrs,
                                   struct constraints_error *err);

/* check_account_format()/check_container_format() for names taken from
 * headers (X-Copy-From, Destination, ...): 412 when empty or with '/'. */
int constraints_check_name_format(const char *name,
                                  enum constraints_target target,
                                  struct constraints_error *err);

/* The proxy controllers' name length checks: 400 "Account name length of
 * N longer than M" (counted in characters; the limit doubles for accounts
 * starting with auto_create_account_prefix). Object names are checked by
 * constraints_check_object_creation(). */
int constraints_check_name_length(const struct constraints *c,
                                  enum constraints_target target,
                                  const char *account, const char *name,
                                  struct constraints_error *err);

/* urllib's unquote() of a WSGI string: each %XX becomes that byte,
 * malformed escapes stay as they are. Returns a malloc'ed string of
 * *len bytes (len may be NULL; the result may hold NULs), or NULL. */
char *constraints_unquote(const char *s, size_t slen, size_t *len);

/* check_path_header() for X-Copy-From and Destination: 'value' (as sent,
 * percent-encoded) must name "<container>/<object>", with or without a
 * leading slash. On success sets *container and *object (malloc'ed,
 * decoded; free() both); else 412 "<header> header must be of the form
 * <container name>/<object name>". */
int constraints_check_path_header(const char *header, const char *value,
                                  char **container, char **object,
                                  struct constraints_error *err);

/* One segment of a split path: s == NULL is Python's None (absent);
 * otherwise 'len' bytes at 's', possibly zero. */
struct constraints_seg {
    const char *s;
    size_t len;
};

/* Swift's split_path(path, minsegs, maxsegs, rest_with_last): fills
 * segs[0..maxsegs-1] (pointers into 'path'). Returns 0 or -EINVAL. */
int constraints_split_path(const char *path, int minsegs, int maxsegs,
                           bool rest_with_last, struct constraints_seg *segs);

enum constraints_route {
    CONSTRAINTS_ROUTE_INFO = 1,
    CONSTRAINTS_ROUTE_ACCOUNT,
    CONSTRAINTS_ROUTE_CONTAINER,
    CONSTRAINTS_ROUTE_OBJECT,
};

/* What the proxy's handle_request()/get_controller() decide from the
 * decoded request path before any backend is asked: 412 "Invalid UTF8 or
 * contains NULL", 404 for a path split_path refuses, 400 for an unknown
 * API version, 412 "Bad URL" when no controller fits. On success *route
 * is set and segs[0..3] hold version, account, container, object. */
int constraints_route_path(const struct constraints *c, const char *path,
                           size_t len, enum constraints_route *route,
                           struct constraints_seg segs[4],
                           struct constraints_error *err);

#endif
