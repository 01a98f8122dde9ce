/*
 * acl.c - container ACL strings: clean, parse, match a Referer. Follows
 * swift/common/middleware/acl.py byte for byte, including its habits on
 * Python 3 WSGI strings (one character per byte, Latin-1): strip() also
 * removes \x1c-\x1f, \x85 and \xa0, and error messages quote with
 * Python's repr(). Account ACLs (version 2, JSON) are read with jansson.
 * Who may do what with an ACL is tempauth.c's business.
 */
#include "proxy/acl.h"

#include "proxy/constraints.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* str.isspace() for a character of a Latin-1 WSGI string. */
static bool py_space(unsigned char ch)
{
    return (ch >= 0x09 && ch <= 0x0d) || (ch >= 0x1c && ch <= 0x20) ||
           ch == 0x85 || ch == 0xa0;
}

/* str.strip() of s[0..*len): returns the new start and updates *len. */
static const char *strip(const char *s, size_t *len)
{
    size_t n = *len;

    while (n && py_space((unsigned char)*s))
        s++, n--;
    while (n && py_space((unsigned char)s[n - 1]))
        n--;
    *len = n;
    return s;
}

/* repr() of a Latin-1 string, UTF-8 encoded as swob sends a str body.
 * Writes at most 4 * len + 3 bytes at 'out' and returns the end. */
static char *py_repr(char *out, const char *s, size_t len)
{
    char quote = '\'';
    size_t i;

    if (memchr(s, '\'', len) && !memchr(s, '"', len))
        quote = '"';
    *out++ = quote;
    for (i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];

        if (ch == (unsigned char)quote || ch == '\\') {
            *out++ = '\\';
            *out++ = (char)ch;
        } else if (ch == '\t' || ch == '\n' || ch == '\r') {
            *out++ = '\\';
            *out++ = ch == '\t' ? 't' : ch == '\n' ? 'n' : 'r';
        } else if (ch < 0x20 || (ch >= 0x7f && ch <= 0xa0) || ch == 0xad) {
            out += sprintf(out, "\\x%02x", ch);
        } else if (ch >= 0x80) {
            *out++ = (char)(0xc0 | ch >> 6);
            *out++ = (char)(0x80 | (ch & 0x3f));
        } else {
            *out++ = (char)ch;
        }
    }
    *out++ = quote;
    *out = '\0';
    return out;
}

/* Sets *message to head + repr(a) [+ mid + repr(b)]; returns -EINVAL. */
static int clean_error(char **message, const char *head, const char *a,
                       size_t alen, const char *mid, const char *b, size_t blen)
{
    size_t cap = strlen(head) + 4 * alen + 3 + (mid ? strlen(mid) : 0) +
                 4 * blen + 3 + 1;
    char *m = malloc(cap), *p;

    if (!m)
        return -ENOMEM;
    p = stpcpy(m, head);
    p = py_repr(p, a, alen);
    if (mid) {
        p = stpcpy(p, mid);
        py_repr(p, b, blen);
    }
    *message = m;
    return -EINVAL;
}

static bool is_referrer_designator(const char *s, size_t len)
{
    static const char *const names[] = {".r", ".ref", ".referer", ".referrer"};
    size_t i;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strlen(names[i]) == len && !memcmp(names[i], s, len))
            return true;
    return false;
}

/* Cleans one non-empty item; appends it at *pp. Returns 0 or -EINVAL. */
static int clean_item(bool write_acl, const char *raw, size_t len, char **pp,
                      char **message)
{
    const char *colon = memchr(raw, ':', len), *first, *second;
    size_t flen, slen;
    bool negate = false;
    char *p = *pp;

    first = raw;
    flen = colon ? (size_t)(colon - raw) : len;
    first = strip(first, &flen);
    if (!colon || !flen || first[0] != '.') {
        memcpy(p, raw, len);
        *pp = p + len;
        return 0;
    }
    if (!is_referrer_designator(first, flen))
        return clean_error(message, "Unknown designator ", first, flen,
                           " in ACL: ", raw, len);
    if (write_acl)
        return clean_error(message, "Referrers not allowed in write ACL: ", raw,
                           len, NULL, NULL, 0);
    slen = len - (size_t)(colon + 1 - raw);
    second = strip(colon + 1, &slen);
    if (slen && second[0] == '-') {
        negate = true;
        slen--;
        second = strip(second + 1, &slen);
    }
    if (slen && !(slen == 1 && second[0] == '*') && second[0] == '*') {
        slen--;
        second = strip(second + 1, &slen);
    }
    if (!slen || (slen == 1 && second[0] == '.'))
        return clean_error(message,
                           "No host/domain value after referrer designation "
                           "in ACL: ",
                           raw, len, NULL, NULL, 0);
    p = stpcpy(p, negate ? ".r:-" : ".r:");
    memcpy(p, second, slen);
    *pp = p + slen;
    return 0;
}

int acl_clean(const char *header_name, const char *value, char **out,
              char **message)
{
    bool write_acl = strcasestr(header_name, "write") != NULL;
    const char *s = value, *comma;
    char *res, *p;
    int err;

    *out = NULL;
    *message = NULL;
    /* a cleaned item is never longer than the raw one */
    res = malloc(strlen(value) + 1);
    if (!res)
        return -ENOMEM;
    p = res;
    for (;;) {
        size_t len;
        const char *raw;

        comma = strchr(s, ',');
        len = comma ? (size_t)(comma - s) : strlen(s);
        raw = strip(s, &len);
        if (len) {
            if (p != res)
                *p++ = ',';
            err = clean_item(write_acl, raw, len, &p, message);
            if (err) {
                free(res);
                return err;
            }
        }
        if (!comma)
            break;
        s = comma + 1;
    }
    *p = '\0';
    *out = res;
    return 0;
}

void acl_release(struct acl *acl)
{
    size_t i;

    for (i = 0; i < acl->n_referrers; i++)
        free(acl->referrers[i]);
    for (i = 0; i < acl->n_groups; i++)
        free(acl->groups[i]);
    free(acl->referrers);
    free(acl->groups);
    memset(acl, 0, sizeof(*acl));
}

int acl_parse(const char *acl_string, struct acl *acl)
{
    const char *s = acl_string, *comma;
    size_t items = 1;

    memset(acl, 0, sizeof(*acl));
    if (!acl_string || !*acl_string)
        return 0;
    for (comma = s; (comma = strchr(comma, ',')); comma++)
        items++;
    acl->referrers = calloc(items, sizeof(char *));
    acl->groups = calloc(items, sizeof(char *));
    if (!acl->referrers || !acl->groups)
        goto nomem;
    for (;;) {
        size_t len;
        char *item;

        comma = strchr(s, ',');
        len = comma ? (size_t)(comma - s) : strlen(s);
        if (len >= 3 && !memcmp(s, ".r:", 3)) {
            item = strndup(s + 3, len - 3);
            if (!item)
                goto nomem;
            acl->referrers[acl->n_referrers++] = item;
        } else {
            item = constraints_unquote(s, len, NULL);
            if (!item)
                goto nomem;
            acl->groups[acl->n_groups++] = item;
        }
        if (!comma)
            break;
        s = comma + 1;
    }
    return 0;
nomem:
    acl_release(acl);
    return -ENOMEM;
}

bool acl_has_group(const struct acl *acl, const char *group)
{
    size_t i;

    for (i = 0; i < acl->n_groups; i++)
        if (!strcmp(acl->groups[i], group))
            return true;
    return false;
}

/* urlparse(referrer).hostname, lowercased, or "unknown", into 'host'
 * (malloc'ed). Python 3.11's urlsplit: leading C0 controls and spaces go,
 * tabs and newlines anywhere go, a scheme is letters, digits, "+-." after
 * a letter, and the netloc follows "//". An unbalanced IPv6 bracket makes
 * Python raise (a 500 in Swift); here the referrer is just "unknown". */
static char *referrer_host(const char *referrer)
{
    const char *s = referrer ? referrer : "", *colon, *p, *end, *at;
    const char *host, *host_end, *ob, *cb;
    char *url, *q, *h;
    size_t i;

    while (*s && (unsigned char)*s <= 0x20)
        s++;
    url = malloc(strlen(s) + 1);
    if (!url)
        return NULL;
    for (q = url; *s; s++)
        if (*s != '\t' && *s != '\r' && *s != '\n')
            *q++ = *s;
    *q = '\0';
    p = url;
    colon = strchr(url, ':');
    if (colon && colon > url && isalpha((unsigned char)url[0]) &&
        (unsigned char)url[0] < 0x80) {
        for (q = url; q < colon; q++)
            if (!isalnum((unsigned char)*q) && !strchr("+-.", *q))
                break;
        if (q == colon)
            p = colon + 1;
    }
    host = host_end = NULL;
    if (p[0] == '/' && p[1] == '/') {
        p += 2;
        end = p + strcspn(p, "/?#");
        for (at = end; at > p && at[-1] != '@'; at--)
            ;
        host = at;
        ob = memchr(host, '[', (size_t)(end - host));
        if (ob) { /* user@[v6]:port */
            cb = memchr(ob, ']', (size_t)(end - ob));
            host = cb ? ob + 1 : NULL;
            host_end = cb;
        } else {
            host_end = memchr(host, ':', (size_t)(end - host));
            if (!host_end)
                host_end = end;
        }
        if (memchr(p, ']', (size_t)(end - p)) &&
            !memchr(p, '[', (size_t)(end - p)))
            host = NULL;
    }
    if (!host || host_end == host) {
        free(url);
        return strdup("unknown");
    }
    h = strndup(host, (size_t)(host_end - host));
    free(url);
    if (!h)
        return NULL;
    /* Python lowers only the part before a %zone */
    for (i = 0; h[i] && h[i] != '%'; i++)
        h[i] = (char)tolower((unsigned char)h[i]);
    return h;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);

    return n >= m && !memcmp(s + n - m, suffix, m);
}

bool acl_referrer_allowed(const char *referrer, const struct acl *acl)
{
    bool allow = false;
    char *rhost;
    size_t i;

    if (!acl->n_referrers)
        return false;
    rhost = referrer_host(referrer);
    if (!rhost)
        return false; /* out of memory: deny */
    for (i = 0; i < acl->n_referrers; i++) {
        const char *m = acl->referrers[i];

        if (m[0] == '-') {
            m++;
            if (!strcmp(m, rhost) || (m[0] == '.' && ends_with(rhost, m)))
                allow = false;
        } else if (!strcmp(m, "*") || !strcmp(m, rhost) ||
                   (m[0] == '.' && ends_with(rhost, m))) {
            allow = true;
        }
    }
    free(rhost);
    return allow;
}

static const char *const account_keys[] = {"admin", "read-write", "read-only"};

/* Whether 'doc' is a tempauth account ACL: 0, or -EINVAL with the
 * malloc'ed reason in *reason, or -ENOMEM. */
static int account_acl_error(json_t *doc, char **reason)
{
    const char *key;
    json_t *v, *el;
    char *q;
    size_t i, j;
    int n = 0;

    json_object_foreach(doc, key, v)
    {
        for (i = 0; i < 3 && strcmp(key, account_keys[i]); i++)
            ;
        if (i < 3)
            continue;
        v = json_string(key);
        q = v ? json_dumps(v, JSON_ENCODE_ANY | JSON_ENSURE_ASCII) : NULL;
        json_decref(v);
        n = q ? asprintf(reason, "Key %s not recognized", q) : -1;
        free(q);
        goto out;
    }
    for (i = 0; i < 3; i++) {
        v = json_object_get(doc, account_keys[i]);
        if (!v)
            continue;
        if (!json_is_array(v)) {
            n = asprintf(reason, "Value for key \"%s\" must be a list",
                         account_keys[i]);
            goto out;
        }
        json_array_foreach(v, j, el)
        {
            if (json_is_string(el))
                continue;
            n = asprintf(reason, "Elements of \"%s\" list must be strings",
                         account_keys[i]);
            goto out;
        }
    }
    return 0;
out:
    if (n < 0) {
        *reason = NULL;
        return -ENOMEM;
    }
    return -EINVAL;
}

/* Latin-1 (the WSGI string) to UTF-8 (the body swob sends). */
static char *latin1_to_utf8(const char *s)
{
    char *u = malloc(2 * strlen(s) + 1), *p = u;

    if (!u)
        return NULL;
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;

        if (ch < 0x80) {
            *p++ = (char)ch;
        } else {
            *p++ = (char)(0xc0 | ch >> 6);
            *p++ = (char)(0x80 | (ch & 0x3f));
        }
    }
    *p = '\0';
    return u;
}

int acl_account_check(const char *value, char **message)
{
    char *reason = NULL, *input = NULL;
    size_t len = strlen(value);
    json_t *doc;
    int err;

    *message = NULL;
    if (!len) /* an empty header clears the ACL */
        return 0;
    doc = json_loads(value, JSON_DECODE_ANY, NULL);
    if (json_is_object(doc)) {
        err = account_acl_error(doc, &reason);
    } else {
        err = -ENOMEM;
        reason = malloc(4 * len + 32);
        if (reason) {
            strcpy(
                py_repr(stpcpy(reason, "Syntax error in input ("), value, len),
                ")");
            err = -EINVAL;
        }
    }
    json_decref(doc);
    if (err != -EINVAL)
        return err;
    input = latin1_to_utf8(value);
    if (!input ||
        asprintf(message, "X-Account-Access-Control invalid: %s\n\nInput: %s\n",
                 reason, input) < 0) {
        *message = NULL;
        err = -ENOMEM;
    }
    free(reason);
    free(input);
    return err;
}

/* Whether the JSON list 'members' names one of the comma-separated
 * 'groups'. */
static bool names_any(json_t *members, const char *groups)
{
    json_t *el;
    size_t i;

    json_array_foreach(members, i, el)
    {
        const char *m = json_string_value(el), *g = groups;
        size_t mlen;

        if (!m)
            continue;
        mlen = strlen(m);
        for (;;) {
            const char *comma = strchr(g, ',');
            size_t glen = comma ? (size_t)(comma - g) : strlen(g);

            if (glen == mlen && !memcmp(g, m, mlen))
                return true;
            if (!comma)
                break;
            g = comma + 1;
        }
    }
    return false;
}

unsigned int acl_account_match(const char *stored, const char *groups)
{
    static const unsigned int levels[] = {
        ACL_ACCOUNT_ADMIN, ACL_ACCOUNT_READ_WRITE, ACL_ACCOUNT_READ_ONLY};
    unsigned int mask = 0;
    json_t *doc, *v;
    size_t i;

    if (!stored || !*stored)
        return 0;
    doc = json_loads(stored, JSON_DECODE_ANY, NULL);
    if (json_is_object(doc)) {
        for (i = 0; i < 3; i++) {
            v = json_object_get(doc, account_keys[i]);
            if (json_is_array(v) && names_any(v, groups ? groups : ""))
                mask |= levels[i];
        }
    }
    json_decref(doc);
    return mask;
}

/* jansson writes \u00E9 where Python's json writes \u00e9. */
static void lower_unicode_escapes(char *s)
{
    int i;

    for (; *s; s++) {
        if (*s != '\\')
            continue;
        s++; /* the escaped character: never a backslash that starts one */
        if (!*s)
            break;
        if (*s != 'u')
            continue;
        for (i = 1; i <= 4 && s[i]; i++)
            s[i] = (char)tolower((unsigned char)s[i]);
    }
}

int acl_account_format(const char *stored, char **out)
{
    json_t *doc;

    *out = NULL;
    if (!stored || !*stored)
        return 0;
    doc = json_loads(stored, JSON_DECODE_ANY, NULL);
    if (json_is_object(doc) && json_object_size(doc)) {
        *out = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS |
                                   JSON_ENSURE_ASCII | JSON_ENCODE_ANY);
        if (!*out) {
            json_decref(doc);
            return -ENOMEM;
        }
        lower_unicode_escapes(*out);
    }
    json_decref(doc);
    return 0;
}
