/*
 * s3_cors_xml.c - CORSConfiguration bodies on expat, and the matching of
 * a request against the rules they make (s3_cors.h). AWS's checks: 1 to
 * 100 CORSRules, each with at least one AllowedOrigin and AllowedMethod;
 * methods only GET, PUT, POST, DELETE and HEAD; at most one '*' in an
 * origin or an allowed header; an ID of at most 255 characters. An
 * element S3's schema does not have, or a DOCTYPE (no entity expansion),
 * is MalformedXML.
 */
#include "proxy/s3_cors.h"

#include "proxy/s3_expat.h"
#include "proxy/s3_sysmeta_doc.h"

#include <ctype.h>
#include <errno.h>
#include <expat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Longest text of one element kept: an origin or a header name longer
 * than this is no use to a browser. */
#define MAX_TEXT 4096

struct parse {
    struct s3_expat x; /* first: the handlers' user data */
    json_t *rules;
    json_t *rule; /* the CORSRule being read */
    int depth;
    bool bad, invalid, root_seen;
    char why[S3_CORS_WHY_LEN];
    char text[MAX_TEXT + 1];
    size_t text_len;
};

static const char *local(const char *name)
{
    const char *c = strrchr(name, ':');

    return c ? c + 1 : name;
}

static void stop(struct parse *ps)
{
    ps->bad = true;
    XML_StopParser(ps->x.p, XML_FALSE);
}

/* An InvalidRequest: ps->why says what. */
static void refuse(struct parse *ps)
{
    ps->invalid = true;
    XML_StopParser(ps->x.p, XML_FALSE);
}

/* The leaves of a CORSRule and the key each is kept under. */
static const char *leaf_key(const char *n)
{
    static const char *const map[][2] = {
        {"ID", "id"},
        {"AllowedOrigin", "origins"},
        {"AllowedMethod", "methods"},
        {"AllowedHeader", "headers"},
        {"ExposeHeader", "expose"},
        {"MaxAgeSeconds", "max_age"},
    };

    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (!strcmp(n, map[i][0]))
            return map[i][1];
    return NULL;
}

static void on_start(void *arg, const XML_Char *name, const XML_Char **attrs)
{
    struct parse *ps = arg;
    const char *n = local(name);

    (void)attrs;
    ps->text_len = 0;
    ps->depth++;
    if (ps->depth == 1 && !strcmp(n, "CORSConfiguration")) {
        ps->root_seen = true;
    } else if (ps->depth == 2 && !strcmp(n, "CORSRule")) {
        if (json_array_size(ps->rules) >= S3_CORS_MAX_RULES ||
            !(ps->rule = json_object()) ||
            json_array_append_new(ps->rules, ps->rule))
            stop(ps);
    } else if (ps->depth != 3 || !leaf_key(n)) {
        stop(ps);
    }
}

static void on_text(void *arg, const XML_Char *s, int len)
{
    struct parse *ps = arg;

    if (ps->depth < 3) /* whitespace between elements */
        return;
    if (ps->text_len + (size_t)len > MAX_TEXT) {
        stop(ps);
        return;
    }
    memcpy(ps->text + ps->text_len, s, (size_t)len);
    ps->text_len += (size_t)len;
}

/* S3 trims the values it reads. */
static char *trimmed(struct parse *ps)
{
    char *s = ps->text, *end;

    ps->text[ps->text_len] = '\0';
    while (isspace((unsigned char)*s))
        s++;
    end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1]))
        *--end = '\0';
    return s;
}

static bool valid_method(const char *m)
{
    static const char *const ok[] = {"GET", "PUT", "POST", "DELETE", "HEAD"};

    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        if (!strcmp(m, ok[i]))
            return true;
    return false;
}

static int append_string(json_t *rule, const char *key, const char *v)
{
    json_t *a = json_object_get(rule, key);

    if (!a) {
        a = json_array();
        if (!a || json_object_set_new(rule, key, a))
            return -1;
    }
    return json_array_append_new(a, json_string(v));
}

static void on_leaf(struct parse *ps, const char *n)
{
    const char *key = leaf_key(n);
    char *v = trimmed(ps), *end;
    long age;

    if (!strcmp(key, "id")) {
        /* 255 characters at most, and one ID per rule */
        if (strlen(v) > 255 || json_object_get(ps->rule, "id") ||
            json_object_set_new(ps->rule, "id", json_string(v)))
            stop(ps);
        return;
    }
    if (!strcmp(key, "max_age")) {
        errno = 0;
        age = strtol(v, &end, 10);
        if (!*v || *end || errno || age < 0 || age > 2147483647L ||
            json_object_get(ps->rule, "max_age") ||
            json_object_set_new(ps->rule, "max_age",
                                json_integer((json_int_t)age)))
            stop(ps);
        return;
    }
    if (!strcmp(key, "methods") && !valid_method(v)) {
        snprintf(ps->why, sizeof(ps->why),
                 "Found unsupported HTTP method in CORS config. Unsupported "
                 "method is %.200s",
                 v);
        refuse(ps);
        return;
    }
    if (!strcmp(key, "origins") && strchr(v, '*') &&
        strchr(v, '*') != strrchr(v, '*')) {
        snprintf(ps->why, sizeof(ps->why),
                 "AllowedOrigin \"%.200s\" can not have more than one "
                 "wildcard.",
                 v);
        refuse(ps);
        return;
    }
    if (!strcmp(key, "headers") && strchr(v, '*') &&
        strchr(v, '*') != strrchr(v, '*')) {
        snprintf(ps->why, sizeof(ps->why),
                 "AllowedHeader \"%.200s\" can not have more than one "
                 "wildcard.",
                 v);
        refuse(ps);
        return;
    }
    if (append_string(ps->rule, key, v))
        stop(ps); /* not UTF-8 (expat gives UTF-8), or out of memory */
}

static void on_end(void *arg, const XML_Char *name)
{
    struct parse *ps = arg;
    const char *n = local(name);

    /* expat may still end the element it was stopped in */
    if (ps->bad || ps->invalid)
        return;
    if (ps->depth == 3 && leaf_key(n))
        on_leaf(ps, n);
    else if (ps->depth == 2 &&
             (!json_array_size(json_object_get(ps->rule, "origins")) ||
              !json_array_size(json_object_get(ps->rule, "methods"))))
        stop(ps);
    ps->depth--;
    ps->text_len = 0;
}

int s3_cors_parse(const char *body, size_t len, char **stored,
                  char why[S3_CORS_WHY_LEN])
{
    struct parse ps = {0};
    int ok, rc;

    *stored = NULL;
    why[0] = '\0';
    if (len > S3_CORS_MAX_BODY)
        return S3_CORS_MALFORMED;
    ps.rules = json_array();
    if (!ps.rules)
        return -ENOMEM;
    ok = s3_expat_parse(&ps.x, body, len, on_start, on_end, on_text);
    if (ok < 0) {
        json_decref(ps.rules);
        return ok;
    }
    if (ps.invalid) {
        snprintf(why, S3_CORS_WHY_LEN, "%s", ps.why);
        rc = S3_CORS_INVALID;
    } else if (!ok || ps.bad || !ps.root_seen || !json_array_size(ps.rules)) {
        rc = S3_CORS_MALFORMED;
    } else {
        rc = s3_sysmeta_doc_dump(ps.rules, S3_CORS_MAX_STORED, stored);
        if (rc >= 0)
            rc = rc ? S3_CORS_TOO_LARGE : S3_CORS_OK;
    }
    json_decref(ps.rules);
    return rc;
}

/* ---- matching ---- */

static bool chars_equal(char a, char b, bool nocase)
{
    return nocase ? tolower((unsigned char)a) == tolower((unsigned char)b)
                  : a == b;
}

static bool prefix_equal(const char *a, const char *b, size_t n, bool nocase)
{
    for (size_t i = 0; i < n; i++)
        if (!chars_equal(a[i], b[i], nocase))
            return false;
    return true;
}

bool s3_cors_wildcard_match(const char *pattern, const char *s, bool nocase)
{
    const char *star = strchr(pattern, '*');
    size_t plen = strlen(pattern), slen = strlen(s), head, tail;

    if (!star)
        return plen == slen && prefix_equal(pattern, s, slen, nocase);
    head = (size_t)(star - pattern);
    tail = plen - head - 1;
    return slen >= head + tail && prefix_equal(pattern, s, head, nocase) &&
           prefix_equal(star + 1, s + slen - tail, tail, nocase);
}

static bool any_matches(const json_t *patterns, const char *s, bool nocase)
{
    size_t i;
    json_t *p;

    json_array_foreach(patterns, i, p)
    {
        const char *v = json_string_value(p);

        if (v && s3_cors_wildcard_match(v, s, nocase))
            return true;
    }
    return false;
}

static bool method_listed(const json_t *methods, const char *m)
{
    size_t i;
    json_t *v;

    json_array_foreach(methods, i, v)
    {
        if (json_string_value(v) && !strcmp(json_string_value(v), m))
            return true;
    }
    return false;
}

/* Every name of the comma-separated 'list' matches an allowed header. */
static bool headers_allowed(const json_t *allowed, const char *list)
{
    while (list && *list) {
        size_t n = strcspn(list, ",");
        char name[MAX_TEXT + 1];
        const char *s = list, *e = list + n;

        list = *e ? e + 1 : e;
        while (s < e && isspace((unsigned char)*s))
            s++;
        while (e > s && isspace((unsigned char)e[-1]))
            e--;
        if (e == s)
            continue;
        if ((size_t)(e - s) > MAX_TEXT)
            return false;
        memcpy(name, s, (size_t)(e - s));
        name[e - s] = '\0';
        if (!any_matches(allowed, name, true))
            return false;
    }
    return true;
}

json_t *s3_cors_match(const json_t *rules, const char *origin,
                      const char *method, const char *headers)
{
    size_t i;
    json_t *r;

    if (!origin || !method)
        return NULL;
    json_array_foreach(rules, i, r)
    {
        if (any_matches(json_object_get(r, "origins"), origin, false) &&
            method_listed(json_object_get(r, "methods"), method) &&
            headers_allowed(json_object_get(r, "headers"), headers))
            return r;
    }
    return NULL;
}
