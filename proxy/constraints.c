/*
 * constraints.c - Swift's request constraints (swift/common/constraints.py
 * and the checks the proxy's server and controllers make before asking a
 * backend). Owns the limits, their defaults and override parsing, and the
 * exact refusals Swift gives. Headers arrive as an array; turning the body
 * of a refusal into an HTTP response is the server's job.
 *
 * Lengths follow Swift on Python 3: header names and values are WSGI
 * strings, so they count bytes; account, container and object names are
 * decoded from UTF-8 before the proxy measures them, so they count
 * characters.
 */
#include "proxy/constraints.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void constraints_error_release(struct constraints_error *err)
{
    free(err->body);
    err->body = NULL;
    err->status = 0;
}

/* Returns 'status' with the formatted body in err, or -ENOMEM. */
__attribute__((format(printf, 3, 4))) static int
refuse(struct constraints_error *err, unsigned int status, const char *fmt, ...)
{
    va_list ap;
    int n;

    constraints_error_release(err);
    va_start(ap, fmt);
    n = vasprintf(&err->body, fmt, ap);
    va_end(ap);
    if (n < 0) {
        err->body = NULL;
        return -ENOMEM;
    }
    err->status = status;
    return (int)status;
}

void constraints_default(struct constraints *c)
{
    memset(c, 0, sizeof(*c));
    c->max_file_size = 5368709122;
    c->max_meta_name_length = 128;
    c->max_meta_value_length = 256;
    c->max_meta_count = 90;
    c->max_meta_overall_size = 4096;
    c->max_header_size = 8192;
    c->max_object_name_length = 1024;
    c->container_listing_limit = 10000;
    c->account_listing_limit = 10000;
    c->max_account_name_length = 256;
    c->max_container_name_length = 256;
    c->extra_header_count = 0;
    strcpy(c->valid_api_versions[0], "v1");
    strcpy(c->valid_api_versions[1], "v1.0");
    c->n_valid_api_versions = 2;
    strcpy(c->auto_create_account_prefix, ".");
}

/* Python's int(s) for base 10: surrounding whitespace, an optional sign,
 * digits with single underscores between them. Python's ints have no
 * limit; ours saturate at +-INT64_MAX. */
static int parse_pyint(const char *s, int64_t *out)
{
    const char *p = s;
    bool neg = false, digit = false, big = false;
    int64_t v = 0;

    while (isspace((unsigned char)*p))
        p++;
    if (*p == '+' || *p == '-')
        neg = *p++ == '-';
    for (; *p; p++) {
        if (*p == '_' && digit && isdigit((unsigned char)p[1]))
            continue;
        if (!isdigit((unsigned char)*p))
            break;
        if (big || v > (INT64_MAX - (*p - '0')) / 10)
            big = true;
        else
            v = v * 10 + (*p - '0');
        digit = true;
    }
    while (isspace((unsigned char)*p))
        p++;
    if (!digit || *p)
        return -EINVAL;
    if (big)
        v = INT64_MAX;
    *out = neg ? -v : v;
    return 0;
}

/* utils.list_from_csv(): split on commas, strip, drop empty items. */
static int load_versions(struct constraints *c, const char *value)
{
    const char *p = value;
    size_t n = 0;

    while (*p) {
        const char *start, *end;
        size_t len;

        while (isspace((unsigned char)*p))
            p++;
        start = p;
        while (*p && *p != ',')
            p++;
        end = p;
        while (end > start && isspace((unsigned char)end[-1]))
            end--;
        if (*p == ',')
            p++;
        len = (size_t)(end - start);
        if (!len)
            continue;
        if (n == CONSTRAINTS_MAX_API_VERSIONS ||
            len >= CONSTRAINTS_API_VERSION_LEN)
            return -EINVAL;
        memcpy(c->valid_api_versions[n], start, len);
        c->valid_api_versions[n][len] = '\0';
        n++;
    }
    c->n_valid_api_versions = n;
    return 0;
}

#define INT_KEY(name)                                                          \
    {                                                                          \
#name, offsetof(struct constraints, name)                              \
    }
static const struct {
    const char *key;
    size_t offset;
} int_keys[] = {
    INT_KEY(max_file_size),
    INT_KEY(max_meta_name_length),
    INT_KEY(max_meta_value_length),
    INT_KEY(max_meta_count),
    INT_KEY(max_meta_overall_size),
    INT_KEY(max_header_size),
    INT_KEY(max_object_name_length),
    INT_KEY(container_listing_limit),
    INT_KEY(account_listing_limit),
    INT_KEY(max_account_name_length),
    INT_KEY(max_container_name_length),
    INT_KEY(extra_header_count),
};

int constraints_load(struct constraints *c, constraints_lookup_fn *lookup,
                     void *arg, char *errbuf, size_t errlen)
{
    const char *v;
    size_t i;

    for (i = 0; i < sizeof(int_keys) / sizeof(int_keys[0]); i++) {
        v = lookup(arg, CONSTRAINTS_SECTION, int_keys[i].key);
        if (!v)
            continue;
        if (parse_pyint(v, (int64_t *)((char *)c + int_keys[i].offset))) {
            snprintf(errbuf, errlen, "[%s] %s: not an integer: '%s'",
                     CONSTRAINTS_SECTION, int_keys[i].key, v);
            return -EINVAL;
        }
    }
    v = lookup(arg, CONSTRAINTS_SECTION, "valid_api_versions");
    if (v && load_versions(c, v)) {
        snprintf(errbuf, errlen,
                 "[%s] valid_api_versions: at most %d versions of at most "
                 "%d characters: '%s'",
                 CONSTRAINTS_SECTION, CONSTRAINTS_MAX_API_VERSIONS,
                 CONSTRAINTS_API_VERSION_LEN - 1, v);
        return -EINVAL;
    }
    v = lookup(arg, CONSTRAINTS_SECTION, "auto_create_account_prefix");
    if (v) {
        if (strlen(v) >= CONSTRAINTS_PREFIX_LEN) {
            snprintf(errbuf, errlen,
                     "[%s] auto_create_account_prefix: too long: '%s'",
                     CONSTRAINTS_SECTION, v);
            return -EINVAL;
        }
        strcpy(c->auto_create_account_prefix, v);
    }
    return 0;
}

int64_t constraints_max_header_count(const struct constraints *c)
{
    return c->max_meta_count + 36 +
           (c->extra_header_count > 0 ? c->extra_header_count : 0);
}

int64_t constraints_max_request_headers(const struct constraints *c)
{
    /* Python compares len(headers) > 201.6: the integer part passes */
    return constraints_max_header_count(c) * 16 / 10;
}

bool constraints_valid_api_version(const struct constraints *c,
                                   const char *version, size_t len)
{
    size_t i;

    for (i = 0; i < c->n_valid_api_versions; i++)
        if (strlen(c->valid_api_versions[i]) == len &&
            !memcmp(c->valid_api_versions[i], version, len))
            return true;
    return false;
}

/* Length in bytes of the UTF-8 sequence at s (at most 'left' bytes), or 0
 * when it is malformed, overlong, a surrogate or beyond U+10FFFF. */
static size_t utf8_seq(const unsigned char *s, size_t left)
{
    unsigned int cp;
    size_t n, i;

    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        n = 2, cp = s[0] & 0x1f;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        n = 3, cp = s[0] & 0x0f;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        n = 4, cp = s[0] & 0x07;
    else
        return 0;
    if (left < n)
        return 0;
    for (i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
        (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
        return 0;
    return n;
}

bool constraints_check_utf8(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, n;

    if (!len)
        return false;
    while (i < len) {
        if (!p[i])
            return false;
        n = utf8_seq(p + i, len - i);
        if (!n)
            return false;
        i += n;
    }
    return true;
}

/* Characters in valid UTF-8 (continuation bytes do not count). */
static size_t utf8_chars(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        if (((unsigned char)*s & 0xc0) != 0x80)
            n++;
    return n;
}

static const char *target_name(enum constraints_target t)
{
    switch (t) {
    case CONSTRAINTS_ACCOUNT: return "account";
    case CONSTRAINTS_CONTAINER: return "container";
    default: return "object";
    }
}

/* The last header named 'name' (case-insensitive), as swob's dict-like
 * headers keep, or NULL. */
static const char *header(const struct constraints_header *hdrs, size_t n,
                          const char *name)
{
    const char *v = NULL;
    size_t i;

    for (i = 0; i < n; i++)
        if (!strcasecmp(hdrs[i].name, name))
            v = hdrs[i].value;
    return v;
}

/* A header name as Swift sees it: WSGI folds '-' and '_' together
 * (HTTP_X_OBJECT_META_A_B), swob turns them back into '-' and applies
 * Python's str.title() (here on ASCII): a letter after a letter is
 * lowered, any other letter raised. Returns a malloc'ed copy of at most
 * 'max' bytes of 's', or NULL. */
static char *header_title(const char *s, size_t max)
{
    size_t len = strnlen(s, max), i;
    char *t = malloc(len + 1);
    bool prev_alpha = false;

    if (!t)
        return NULL;
    for (i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        bool alpha = ch < 0x80 && isalpha(ch);

        if (ch == '_')
            ch = '-';
        t[i] = (char)(alpha ? (prev_alpha ? tolower(ch) : toupper(ch)) : ch);
        prev_alpha = alpha;
    }
    t[len] = '\0';
    return t;
}

/* Whether header 'name' starts with the lower-case 'prefix', with '_'
 * and '-' alike (see header_title()). */
static bool has_prefix(const char *name, const char *prefix, size_t plen)
{
    size_t i;

    for (i = 0; i < plen; i++) {
        char ch = (char)tolower((unsigned char)name[i]);

        if (ch != prefix[i] && !(ch == '_' && prefix[i] == '-'))
            return false;
    }
    return true;
}

/* Refuses with 400 and 'head' followed by the title-cased 'key'. */
static int refuse_key(struct constraints_error *err, const char *head,
                      const char *key, size_t max)
{
    char *t = header_title(key, max);
    int r;

    if (!t)
        return -ENOMEM;
    r = refuse(err, 400, "%s%s", head, t);
    free(t);
    return r;
}

int constraints_check_metadata(const struct constraints *c,
                               const struct constraints_header *hdrs,
                               size_t n_hdrs, enum constraints_target target,
                               struct constraints_error *err)
{
    char prefix[32], msg[96];
    size_t plen, i;
    int64_t count = 0, size = 0;

    plen = (size_t)snprintf(prefix, sizeof(prefix), "x-%s-meta-",
                            target_name(target));
    for (i = 0; i < n_hdrs; i++) {
        const char *key = hdrs[i].name, *value = hdrs[i].value;
        size_t klen, vlen = strlen(value);

        if ((int64_t)vlen > c->max_header_size)
            return refuse_key(err, "Header value too long: ", key,
                              c->max_meta_name_length > 0
                                  ? (size_t)c->max_meta_name_length
                                  : 0);
        if (!has_prefix(key, prefix, plen))
            continue;
        key += plen;
        klen = strlen(key);
        if (!klen)
            return refuse(err, 400, "Metadata name cannot be empty");
        if (target != CONSTRAINTS_OBJECT &&
            (!constraints_check_utf8(key, klen) ||
             (vlen && !constraints_check_utf8(value, vlen))))
            return refuse(err, 400, "Metadata must be valid UTF-8");
        count++;
        size += (int64_t)(klen + vlen);
        if ((int64_t)klen > c->max_meta_name_length) {
            snprintf(msg, sizeof(msg), "Metadata name too long: %s", prefix);
            return refuse_key(err, msg, key, SIZE_MAX);
        }
        if ((int64_t)vlen > c->max_meta_value_length) {
            snprintf(msg, sizeof(msg), "Metadata value longer than %lld: %s",
                     (long long)c->max_meta_value_length, prefix);
            return refuse_key(err, msg, key, SIZE_MAX);
        }
        if (count > c->max_meta_count)
            return refuse(err, 400, "Too many metadata items; max %lld",
                          (long long)c->max_meta_count);
        if (size > c->max_meta_overall_size)
            return refuse(err, 400, "Total metadata too large; max %lld",
                          (long long)c->max_meta_overall_size);
    }
    return 0;
}

/* normalize_delete_at_timestamp(): clamp to [0, 9999999999.99999] and
 * truncate to whole seconds. */
static int64_t normalize_delete_at(double t)
{
    if (!(t > 0)) /* NaN too */
        return 0;
    if (t > 9999999999.99999)
        t = 9999999999.99999;
    return (int64_t)t;
}

int constraints_check_delete_headers(const struct constraints_header *hdrs,
                                     size_t n_hdrs, double now,
                                     int64_t *delete_at,
                                     struct constraints_error *err)
{
    const char *after = header(hdrs, n_hdrs, "x-delete-after");
    const char *at = header(hdrs, n_hdrs, "x-delete-at");
    const char *repl = header(hdrs, n_hdrs, "x-backend-replication");
    int64_t v;

    *delete_at = -1;
    if (after) {
        if (parse_pyint(after, &v))
            return refuse(err, 400, "Non-integer X-Delete-After");
        *delete_at = normalize_delete_at(now + (double)v);
        if ((double)*delete_at <= now)
            return refuse(err, 400, "X-Delete-After in past");
        return 0; /* replaces any X-Delete-At, already normalized */
    }
    if (!at)
        return 0;
    if (parse_pyint(at, &v))
        return refuse(err, 400, "Non-integer X-Delete-At");
    *delete_at = normalize_delete_at((double)v);
    if ((double)*delete_at <= now &&
        !(repl && (!strcasecmp(repl, "true") || !strcasecmp(repl, "1") ||
                   !strcasecmp(repl, "yes") || !strcasecmp(repl, "on") ||
                   !strcasecmp(repl, "t") || !strcasecmp(repl, "y"))))
        return refuse(err, 400, "X-Delete-At in past");
    return 0;
}

/* swob's message_length(): -1 for chunked or absent, else the length. */
static int message_length(const struct constraints_header *hdrs, size_t n,
                          int64_t *len, struct constraints_error *err)
{
    const char *te = header(hdrs, n, "transfer-encoding");
    const char *cl;

    *len = -1;
    if (te && *te) {
        if (strchr(te, ','))
            return refuse(err, 501,
                          "Unsupported Transfer-Coding header value "
                          "specified in Transfer-Encoding header");
        if (strcasecmp(te, "chunked"))
            return refuse(err, 400, "Invalid Transfer-Encoding header value");
        return 0;
    }
    cl = header(hdrs, n, "content-length");
    if (cl && parse_pyint(cl, len))
        return refuse(err, 400, "Invalid Content-Length header value");
    return 0;
}

int constraints_check_object_creation(const struct constraints *c,
                                      const struct constraints_header *hdrs,
                                      size_t n_hdrs, const char *object_name,
                                      double now, int64_t *delete_at,
                                      struct constraints_error *err)
{
    const char *te, *ctype;
    int64_t ml;
    size_t name_len;
    int r;

    *delete_at = -1;
    r = message_length(hdrs, n_hdrs, &ml, err);
    if (r)
        return r;
    if (ml > c->max_file_size)
        return refuse(err, 413, "Your request is too large.");
    te = header(hdrs, n_hdrs, "transfer-encoding");
    /* Swift compares the coding case-sensitively here, so "Chunked"
     * passes message_length() yet gets a 411 without a Content-Length. */
    if (!header(hdrs, n_hdrs, "content-length") &&
        !(te && !strcmp(te, "chunked")))
        return refuse(err, 411, "Missing Content-Length header.");
    name_len = utf8_chars(object_name);
    if ((int64_t)name_len > c->max_object_name_length)
        return refuse(err, 400, "Object name length of %zu longer than %lld",
                      name_len, (long long)c->max_object_name_length);
    ctype = header(hdrs, n_hdrs, "content-type");
    if (!ctype)
        return refuse(err, 400, "No content type");
    r = constraints_check_delete_headers(hdrs, n_hdrs, now, delete_at, err);
    if (r)
        return r;
    if (!constraints_check_utf8(ctype, strlen(ctype)))
        return refuse(err, 400, "Invalid Content-Type");
    return constraints_check_metadata(c, hdrs, n_hdrs, CONSTRAINTS_OBJECT, err);
}

int constraints_check_content_type(const struct constraints_header *hdrs,
                                   size_t n_hdrs, struct constraints_error *err)
{
    const char *ctype = header(hdrs, n_hdrs, "content-type");
    const char *p;

    if (!ctype)
        return 0;
    for (p = strchr(ctype, ';'); p; p = strchr(p, ';')) {
        p++;
        while (isspace((unsigned char)*p))
            p++;
        if (!strncmp(p, "swift_", 6))
            return refuse(err, 400,
                          "Invalid Content-Type, swift_* is not a valid "
                          "parameter name.");
    }
    return 0;
}

int constraints_check_name_format(const char *name,
                                  enum constraints_target target,
                                  struct constraints_error *err)
{
    const char *type = target == CONSTRAINTS_ACCOUNT ? "Account" : "Container";

    if (!name || !*name)
        return refuse(err, 412, "%s name cannot be empty", type);
    if (strchr(name, '/'))
        return refuse(err, 412, "%s name cannot contain slashes", type);
    return 0;
}

int constraints_check_name_length(const struct constraints *c,
                                  enum constraints_target target,
                                  const char *account, const char *name,
                                  struct constraints_error *err)
{
    const char *pfx = c->auto_create_account_prefix;
    int64_t limit, mult, len;

    mult = !strncmp(account, pfx, strlen(pfx)) ? 2 : 1;
    len = (int64_t)utf8_chars(name);
    if (target == CONSTRAINTS_ACCOUNT) {
        limit = c->max_account_name_length * mult;
        if (len > limit)
            return refuse(err, 400,
                          "Account name length of %lld longer "
                          "than %lld",
                          (long long)len, (long long)limit);
    } else if (target == CONSTRAINTS_CONTAINER) {
        limit = c->max_container_name_length * mult;
        if (len > limit)
            return refuse(err, 400,
                          "Container name length of %lld longer "
                          "than %lld",
                          (long long)len, (long long)limit);
    }
    return 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

char *constraints_unquote(const char *s, size_t slen, size_t *len)
{
    char *u = malloc(slen + 1), *p = u;
    size_t i;

    if (!u)
        return NULL;
    for (i = 0; i < slen; i++) {
        if (s[i] == '%' && i + 2 < slen && hexval(s[i + 1]) >= 0 &&
            hexval(s[i + 2]) >= 0) {
            *p++ = (char)(hexval(s[i + 1]) << 4 | hexval(s[i + 2]));
            i += 2;
        } else {
            *p++ = s[i];
        }
    }
    *p = '\0';
    if (len)
        *len = (size_t)(p - u);
    return u;
}

int constraints_check_path_header(const char *header, const char *value,
                                  char **container, char **object,
                                  struct constraints_error *err)
{
    struct constraints_seg segs[2];
    size_t len;
    char *hdr, *path;
    int r = 0;

    *container = *object = NULL;
    hdr = constraints_unquote(value, strlen(value), &len);
    if (!hdr)
        return -ENOMEM;
    if (asprintf(&path, "%s%s", hdr[0] == '/' ? "" : "/", hdr) < 0) {
        free(hdr);
        return -ENOMEM;
    }
    /* a decoded NUL: Swift's copy goes on to read the source, and that
     * subrequest gets 412 "Invalid UTF8 or contains NULL"; answer so now */
    if (strlen(hdr) != len) {
        r = refuse(err, 412, "Invalid UTF8 or contains NULL");
    } else if (constraints_split_path(path, 2, 2, true, segs)) {
        r = refuse(err, 412,
                   "%s header must be of the form <container name>/<object "
                   "name>",
                   header);
    } else {
        *container = strndup(segs[0].s, segs[0].len);
        *object = strndup(segs[1].s, segs[1].len);
        if (!*container || !*object) {
            free(*container);
            free(*object);
            *container = *object = NULL;
            r = -ENOMEM;
        }
    }
    free(path);
    free(hdr);
    return r;
}

int constraints_split_path(const char *path, int minsegs, int maxsegs,
                           bool rest_with_last, struct constraints_seg *segs)
{
    /* Python: path.split('/', maxsegs) (+1 with rest_with_last folded in
     * below), so at most maxsegs + 2 pieces; piece 0 must be empty. */
    struct constraints_seg piece[64];
    const char *p = path, *slash;
    int count = 0, i, limit;

    if (maxsegs <= 0)
        maxsegs = minsegs;
    if (minsegs > maxsegs || maxsegs > 60)
        return -EINVAL;
    minsegs++;
    maxsegs++;
    limit = rest_with_last ? maxsegs - 1 : maxsegs; /* number of splits */
    for (;;) {
        slash = count < limit ? strchr(p, '/') : NULL;
        piece[count].s = p;
        piece[count].len = slash ? (size_t)(slash - p) : strlen(p);
        count++;
        if (!slash)
            break;
        p = slash + 1;
    }
    if (piece[0].len || count < minsegs)
        return -EINVAL;
    if (rest_with_last ? count > maxsegs : count > maxsegs + 1)
        return -EINVAL;
    for (i = 1; i < minsegs; i++)
        if (!piece[i].len)
            return -EINVAL;
    if (!rest_with_last && count == maxsegs + 1 && piece[maxsegs].len)
        return -EINVAL;
    for (i = 1; i < maxsegs; i++) {
        if (i < count) {
            segs[i - 1] = piece[i];
        } else {
            segs[i - 1].s = NULL;
            segs[i - 1].len = 0;
        }
    }
    return 0;
}

int constraints_route_path(const struct constraints *c, const char *path,
                           size_t len, enum constraints_route *route,
                           struct constraints_seg segs[4],
                           struct constraints_error *err)
{
    bool a, co, o;

    *route = 0;
    memset(segs, 0, 4 * sizeof(*segs));
    if (!constraints_check_utf8(path, len))
        return refuse(err, 412, "Invalid UTF8 or contains NULL");
    if (!strcmp(path, "/info")) {
        *route = CONSTRAINTS_ROUTE_INFO;
        return 0;
    }
    if (constraints_split_path(path, 1, 4, true, segs)) {
        constraints_error_release(err);
        err->status = 404; /* Swift's default body */
        return 404;
    }
    a = segs[1].s && segs[1].len;
    co = segs[2].s && segs[2].len;
    o = segs[3].s && segs[3].len;
    if (a && !constraints_valid_api_version(c, segs[0].s, segs[0].len)) {
        constraints_error_release(err);
        err->status = 400; /* "Invalid path", with Swift's default body */
        return 400;
    }
    if (a && co && o)
        *route = CONSTRAINTS_ROUTE_OBJECT;
    else if (a && co)
        *route = CONSTRAINTS_ROUTE_CONTAINER;
    else if (a && !co && !o)
        *route = CONSTRAINTS_ROUTE_ACCOUNT;
    else
        return refuse(err, 412, "Bad URL");
    return 0;
}
