/*
 * slo_manifest.c - the forms of a static large object's manifest and the
 * small formats around them, written byte for byte as Swift's Python
 * writes them, so that a manifest's stored bytes (and so its Etag), the
 * raw form a GET gives back and the bulk answers of a manifest PUT or
 * DELETE are Swift's own: json.dumps(), strict base64, the Accept match
 * of swob and bulk.py's response bodies. What the manifest means is
 * slo.c's (reading) and slo_put.c's (writing).
 */
#include "proxy/slo.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- json.dumps() ---- */

/* One UTF-8 sequence at 's' (valid: jansson checked it) as a code point;
 * its length in *n. */
static unsigned long utf8_next(const unsigned char *s, size_t *n)
{
    if (s[0] < 0x80) {
        *n = 1;
        return s[0];
    }
    if ((s[0] & 0xe0) == 0xc0) {
        *n = 2;
        return ((unsigned long)(s[0] & 0x1f) << 6) | (s[1] & 0x3f);
    }
    if ((s[0] & 0xf0) == 0xe0) {
        *n = 3;
        return ((unsigned long)(s[0] & 0x0f) << 12) |
               ((unsigned long)(s[1] & 0x3f) << 6) | (s[2] & 0x3f);
    }
    *n = 4;
    return ((unsigned long)(s[0] & 0x07) << 18) |
           ((unsigned long)(s[1] & 0x3f) << 12) |
           ((unsigned long)(s[2] & 0x3f) << 6) | (s[3] & 0x3f);
}

/* A string as json.dumps(ensure_ascii=True) quotes it: everything but
 * printable ASCII escaped, lowercase hex, surrogate pairs above U+FFFF. */
static void dump_string(FILE *f, const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0, n;

    fputc('"', f);
    while (i < len) {
        unsigned long c = utf8_next(s + i, &n);

        i += n;
        switch (c) {
        case '"': fputs("\\\"", f); continue;
        case '\\': fputs("\\\\", f); continue;
        case '\n': fputs("\\n", f); continue;
        case '\r': fputs("\\r", f); continue;
        case '\t': fputs("\\t", f); continue;
        case '\b': fputs("\\b", f); continue;
        case '\f': fputs("\\f", f); continue;
        default: break;
        }
        if (c >= 0x20 && c < 0x7f)
            fputc((int)c, f);
        else if (c < 0x10000)
            fprintf(f, "\\u%04lx", c);
        else
            fprintf(f, "\\u%04lx\\u%04lx", 0xd800 + ((c - 0x10000) >> 10),
                    0xdc00 + ((c - 0x10000) & 0x3ff));
    }
    fputc('"', f);
}

static int cmp_keys(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int dump(FILE *f, const json_t *v, bool sort_keys)
{
    switch (json_typeof(v)) {
    case JSON_STRING:
        dump_string(f, json_string_value(v), json_string_length(v));
        return 0;
    case JSON_INTEGER:
        fprintf(f, "%lld", (long long)json_integer_value(v));
        return 0;
    case JSON_TRUE: fputs("true", f); return 0;
    case JSON_FALSE: fputs("false", f); return 0;
    case JSON_NULL: fputs("null", f); return 0;
    case JSON_ARRAY:
        fputc('[', f);
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i)
                fputs(", ", f);
            if (dump(f, json_array_get(v, i), sort_keys))
                return -EINVAL;
        }
        fputc(']', f);
        return 0;
    case JSON_OBJECT: {
        size_t n = json_object_size(v), k = 0;
        const char **keys = calloc(n ? n : 1, sizeof(*keys));
        const char *key;
        json_t *val;
        int rc = 0;

        if (!keys)
            return -ENOMEM;
        json_object_foreach((json_t *)v, key, val) keys[k++] = key;
        if (sort_keys)
            qsort(keys, n, sizeof(*keys), cmp_keys);
        fputc('{', f);
        for (k = 0; !rc && k < n; k++) {
            if (k)
                fputs(", ", f);
            dump_string(f, keys[k], strlen(keys[k]));
            fputs(": ", f);
            rc = dump(f, json_object_get(v, keys[k]), sort_keys);
        }
        fputc('}', f);
        free(keys);
        return rc;
    }
    default: return -EINVAL;
    }
}

int slo_json_dump(const json_t *v, bool sort_keys, char **out, size_t *len)
{
    FILE *f = open_memstream(out, len);
    int rc;

    if (!f)
        return -ENOMEM;
    rc = dump(f, v, sort_keys);
    if (fclose(f))
        rc = -ENOMEM;
    if (rc) {
        free(*out);
        *out = NULL;
    }
    return rc;
}

/* ---- base64 ---- */

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64_value(char c)
{
    const char *p = c ? strchr(b64, c) : NULL;

    return p ? (int)(p - b64) : -1;
}

int slo_b64decode(const char *in, unsigned char **out, size_t *len)
{
    size_t n = strlen(in), pad = 0, o = 0;
    unsigned char *buf;
    unsigned int acc = 0;
    int bits = 0;

    *out = NULL;
    while (pad < n && in[n - 1 - pad] == '=')
        pad++;
    /* what Python's b64decode accepts of what strict_b64decode lets
     * through: whole quads, at most two '=' at the end */
    if (n % 4 || pad > 2)
        return -EINVAL;
    for (size_t i = 0; i < n - pad; i++)
        if (b64_value(in[i]) < 0)
            return -EINVAL;
    buf = malloc(n / 4 * 3 + 1);
    if (!buf)
        return -ENOMEM;
    for (size_t i = 0; i < n - pad; i++) {
        acc = (acc << 6) | (unsigned int)b64_value(in[i]);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf[o++] = (unsigned char)(acc >> bits);
        }
    }
    *out = buf;
    *len = o;
    return 0;
}

char *slo_b64encode(const unsigned char *in, size_t len)
{
    char *out = malloc((len + 2) / 3 * 4 + 1), *o = out;

    if (!out)
        return NULL;
    for (size_t i = 0; i < len; i += 3) {
        unsigned int v = (unsigned int)in[i] << 16;

        if (i + 1 < len)
            v |= (unsigned int)in[i + 1] << 8;
        if (i + 2 < len)
            v |= in[i + 2];
        *o++ = b64[(v >> 18) & 63];
        *o++ = b64[(v >> 12) & 63];
        *o++ = i + 1 < len ? b64[(v >> 6) & 63] : '=';
        *o++ = i + 2 < len ? b64[v & 63] : '=';
    }
    *o = '\0';
    return out;
}

/* ---- the raw form ---- */

int slo_raw_manifest(const char *stored, size_t len, char **out,
                     size_t *out_len)
{
    json_t *doc = json_loadb(stored, len, 0, NULL), *row, *list;
    size_t i;
    int rc = 0;

    *out = NULL;
    /* Swift gives "[]" for what it cannot parse */
    list = json_is_array(doc) ? doc : json_array();
    if (!list) {
        json_decref(doc);
        return -ENOMEM;
    }
    json_array_foreach(list, i, row)
    {
        json_t *v;

        if (!json_is_object(row) || json_object_get(row, "data"))
            continue;
        json_object_del(row, "content_type");
        json_object_del(row, "last_modified");
        json_object_del(row, "sub_slo");
        v = json_object_get(row, "name");
        json_object_set(row, "path", v ? v : json_null());
        v = json_object_get(row, "bytes");
        json_object_set(row, "size_bytes", v ? v : json_null());
        v = json_object_get(row, "hash");
        json_object_set(row, "etag", v ? v : json_null());
        json_object_del(row, "name");
        json_object_del(row, "bytes");
        json_object_del(row, "hash");
    }
    rc = slo_json_dump(list, true, out, out_len);
    json_decref(list);
    if (list != doc)
        json_decref(doc);
    return rc;
}

/* ---- Accept ---- */

static bool is_token_char(unsigned char c)
{
    return c > 0x20 && c != 0x7f && !strchr("()<>@,;:\"/[]?={}", c);
}

struct accept_type {
    char type[64], sub[64];
    double q;
    bool exact;
    size_t order;
};

/* One media range of an Accept header, as swob's pattern reads it;
 * false when it does not parse. */
static bool parse_range(const char *s, size_t n, struct accept_type *t)
{
    size_t i = 0, k;
    bool seen_q = false;

    t->q = 1.0;
    while (i < n && isspace((unsigned char)s[i]))
        i++;
    for (k = 0; i < n && is_token_char((unsigned char)s[i]); i++)
        if (k + 1 < sizeof(t->type))
            t->type[k++] = s[i];
    t->type[k] = '\0';
    if (!k || i >= n || s[i++] != '/')
        return false;
    for (k = 0; i < n && is_token_char((unsigned char)s[i]); i++)
        if (k + 1 < sizeof(t->sub))
            t->sub[k++] = s[i];
    t->sub[k] = '\0';
    if (!k)
        return false;
    while (i < n) { /* parameters: ;name=value */
        char name[16] = "", value[32] = "";
        size_t nk = 0, vk = 0;

        while (i < n && isspace((unsigned char)s[i]))
            i++;
        if (i == n)
            break;
        if (s[i++] != ';')
            return false;
        while (i < n && isspace((unsigned char)s[i]))
            i++;
        for (; i < n && is_token_char((unsigned char)s[i]); i++)
            if (nk + 1 < sizeof(name))
                name[nk++] = s[i];
        name[nk] = '\0';
        while (i < n && isspace((unsigned char)s[i]))
            i++;
        if (!nk || i >= n || s[i++] != '=')
            return false;
        while (i < n && isspace((unsigned char)s[i]))
            i++;
        for (; i < n && is_token_char((unsigned char)s[i]); i++)
            if (vk + 1 < sizeof(value))
                value[vk++] = s[i];
        value[vk] = '\0';
        if (!vk)
            return false; /* quoted values: not for q, and rare */
        if (!strcmp(name, "q")) {
            char *end;

            if (seen_q)
                return false;
            seen_q = true;
            t->q = strtod(value, &end);
            if (*end)
                return false;
        }
    }
    t->exact = strcmp(t->type, "*") && strcmp(t->sub, "*");
    return true;
}

static int cmp_accept(const void *a, const void *b)
{
    const struct accept_type *x = a, *y = b;

    if (x->q != y->q)
        return x->q < y->q ? 1 : -1;
    if (x->exact != y->exact)
        return x->exact ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

const char *slo_accept_format(const char *accept)
{
    static const char *const formats[] = {"text/plain", "application/json",
                                          "application/xml", "text/xml"};
    struct accept_type types[32];
    size_t n = 0;

    if (!accept || !*accept)
        return formats[0];
    for (const char *s = accept;; s++) {
        size_t len = strcspn(s, ",");

        if (n == sizeof(types) / sizeof(types[0]) ||
            !parse_range(s, len, &types[n]))
            return NULL;
        types[n].order = n;
        n++;
        s += len;
        if (!*s)
            break;
    }
    qsort(types, n, sizeof(types[0]), cmp_accept);
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < 4; k++) {
            const char *slash = strchr(formats[k], '/');
            size_t tl = (size_t)(slash - formats[k]);

            if ((!strcmp(types[i].type, "*") ||
                 (strlen(types[i].type) == tl &&
                  !strncmp(types[i].type, formats[k], tl))) &&
                (!strcmp(types[i].sub, "*") ||
                 !strcmp(types[i].sub, slash + 1)))
                return formats[k];
        }
    return NULL;
}

/* ---- bulk answers ---- */

static void xml_escape(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '&')
            fputs("&amp;", f);
        else if (*s == '<')
            fputs("&lt;", f);
        else if (*s == '>')
            fputs("&gt;", f);
        else
            fputc(*s, f);
    }
}

/* str() of a value of the answer's dict. */
static void put_value(FILE *f, const json_t *v, bool xml)
{
    if (json_is_integer(v))
        fprintf(f, "%lld", (long long)json_integer_value(v));
    else if (xml)
        xml_escape(f, json_string_value(v) ? json_string_value(v) : "");
    else
        fputs(json_string_value(v) ? json_string_value(v) : "", f);
}

int slo_bulk_body(const char *format, const char *const *keys,
                  const json_t *const *values, size_t n,
                  const char *const *names, const char *const *statuses,
                  size_t n_err, const char *root, char **out, size_t *len)
{
    size_t order[8];
    FILE *f;
    int rc = 0;

    if (n > 8)
        return -EINVAL;
    if (format && !strcmp(format, "application/json")) {
        json_t *d = json_object(), *errs = json_array();

        for (size_t i = 0; d && errs && !rc && i < n; i++)
            rc = json_object_set(d, keys[i], (json_t *)values[i]);
        for (size_t i = 0; d && errs && !rc && i < n_err; i++)
            rc = json_array_append_new(
                errs, json_pack("[s,s]", names[i], statuses[i]));
        if (!d || !errs || rc || json_object_set(d, "Errors", errs))
            rc = -ENOMEM;
        json_decref(errs);
        if (!rc)
            rc = slo_json_dump(d, false, out, len);
        json_decref(d);
        return rc;
    }
    /* text and XML list the dict's keys sorted */
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    for (size_t i = 1; i < n; i++)
        for (size_t k = i;
             k > 0 && strcmp(keys[order[k - 1]], keys[order[k]]) > 0; k--) {
            size_t t = order[k];

            order[k] = order[k - 1];
            order[k - 1] = t;
        }
    f = open_memstream(out, len);
    if (!f)
        return -ENOMEM;
    if (format && strlen(format) > 4 &&
        !strcmp(format + strlen(format) - 4, "/xml")) {
        fprintf(f, "<%s>\n", root);
        for (size_t i = 0; i < n; i++) {
            char tag[64];
            size_t k;

            for (k = 0; keys[order[i]][k] && k + 1 < sizeof(tag); k++)
                tag[k] = keys[order[i]][k] == ' '
                             ? '_'
                             : (char)tolower((unsigned char)keys[order[i]][k]);
            tag[k] = '\0';
            fprintf(f, "<%s>", tag);
            put_value(f, values[order[i]], true);
            fprintf(f, "</%s>\n", tag);
        }
        fputs("<errors>\n", f);
        for (size_t i = 0; i < n_err; i++) {
            fputs("<object><name>", f);
            xml_escape(f, names[i]);
            fputs("</name><status>", f);
            xml_escape(f, statuses[i]);
            fputs("</status></object>\n", f);
        }
        fprintf(f, "</errors>\n</%s>\n", root);
    } else {
        for (size_t i = 0; i < n; i++) {
            fprintf(f, "%s: ", keys[order[i]]);
            put_value(f, values[order[i]], false);
            fputc('\n', f);
        }
        fputs("Errors:\n", f);
        for (size_t i = 0; i < n_err; i++)
            fprintf(f, "%s, %s\n", names[i], statuses[i]);
    }
    if (fclose(f)) {
        free(*out);
        *out = NULL;
        return -ENOMEM;
    }
    return 0;
}
