/*
 * listing_format.c - turns listing entries into response bodies exactly
 * as Swift 2.30 does; the tests compare with Swift's own output.
 *
 * json: Python's json.dumps defaults: ", " and ": " separators, every
 * character outside ' '..'~' escaped (\uXXXX, surrogate pairs above the
 * BMP; \" \\ \b \f \n \r \t by name). xml: ElementTree's serialisation:
 * text escapes & < >, attributes also " \n \r \t; other bytes as they
 * are; an element without children or text is "<tag />".
 */
#include "storage/listing_format.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void put(struct dbenc *e, const char *s)
{
    dbenc_bytes(e, s, strlen(s));
}

/* Decodes one UTF-8 character; invalid bytes decode as U+FFFD, one byte
 * each, so bad stored bytes never stop a listing. */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    uint32_t c = s[0], min;
    size_t len, i;

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if ((c & 0xe0) == 0xc0)
        len = 2, c &= 0x1f, min = 0x80;
    else if ((c & 0xf0) == 0xe0)
        len = 3, c &= 0x0f, min = 0x800;
    else if ((c & 0xf8) == 0xf0)
        len = 4, c &= 0x07, min = 0x10000;
    else
        goto bad;
    if (len > n)
        goto bad;
    for (i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            goto bad;
        c = c << 6 | (s[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        goto bad;
    *cp = c;
    return len;
bad:
    *cp = 0xfffd;
    return 1;
}

static void json_str(struct dbenc *e, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    char esc[16];
    size_t i = 0;

    dbenc_u8(e, '"');
    while (i < n) {
        uint32_t cp;
        size_t run = i;

        while (run < n && u[run] >= 0x20 && u[run] < 0x7f && u[run] != '"' &&
               u[run] != '\\')
            run++;
        dbenc_bytes(e, s + i, run - i);
        i = run;
        if (i == n)
            break;
        i += utf8_decode(u + i, n - i, &cp);
        switch (cp) {
        case '"': put(e, "\\\""); continue;
        case '\\': put(e, "\\\\"); continue;
        case '\b': put(e, "\\b"); continue;
        case '\f': put(e, "\\f"); continue;
        case '\n': put(e, "\\n"); continue;
        case '\r': put(e, "\\r"); continue;
        case '\t': put(e, "\\t"); continue;
        }
        if (cp >= 0x10000) {
            cp -= 0x10000;
            snprintf(esc, sizeof(esc), "\\u%04x\\u%04x", 0xd800 + (cp >> 10),
                     0xdc00 + (cp & 0x3ff));
        } else {
            snprintf(esc, sizeof(esc), "\\u%04x", cp);
        }
        put(e, esc);
    }
    dbenc_u8(e, '"');
}

static void xml_str(struct dbenc *e, const char *s, size_t n, bool attr)
{
    size_t i = 0;

    while (i < n) {
        size_t run = i;

        while (run < n && !strchr("&<>\"\n\r\t", s[run]))
            run++;
        dbenc_bytes(e, s + i, run - i);
        if (run == n)
            break;
        switch (s[run]) {
        case '&': put(e, "&amp;"); break;
        case '<': put(e, "&lt;"); break;
        case '>': put(e, "&gt;"); break;
        case '"': put(e, attr ? "&quot;" : "\""); break;
        case '\n': put(e, attr ? "&#10;" : "\n"); break;
        case '\r': put(e, attr ? "&#13;" : "\r"); break;
        case '\t': put(e, attr ? "&#09;" : "\t"); break;
        default: dbenc_u8(e, (unsigned char)s[run]); break; /* NUL */
        }
        i = run + 1;
    }
}

static bool is_space(unsigned char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f);
}

/* A character of an RFC 2616 token as Swift's _rfc_token pattern. */
static bool is_token(unsigned char c)
{
    return c > 0x20 && c != 0x7f && !strchr("()<>@,;:\\\"/[]?={}", c);
}

/* One match of Swift's _rfc_extension_pattern at 's':
 * \s*;\s*(token)\s*(?:=\s*(token|"(?:[^"\\]|\\.)*"))?
 * Returns the length matched, 0 if none. */
static size_t match_param(const char *s, const char **k, size_t *klen,
                          const char **v, size_t *vlen)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, j, eq;

    while (is_space(u[i]))
        i++;
    if (u[i] != ';')
        return 0;
    i++;
    while (is_space(u[i]))
        i++;
    for (j = i; u[j] && is_token(u[j]); j++)
        ;
    if (j == i)
        return 0;
    *k = s + i, *klen = j - i;
    *v = "", *vlen = 0;
    for (i = j; is_space(u[i]); i++)
        ;
    if (u[i] != '=')
        return i;
    eq = i; /* where the match ends if the value does not match */
    for (j = i + 1; is_space(u[j]); j++)
        ;
    if (u[j] == '"') {
        size_t q = j + 1;

        while (u[q] && u[q] != '"' && u[q] != '\n') {
            if (u[q] == '\\') {
                if (!u[q + 1] || u[q + 1] == '\n')
                    break;
                q++;
            }
            q++;
        }
        if (u[q] != '"')
            return eq;
        *v = s + j, *vlen = q + 1 - j;
        return q + 1;
    }
    for (i = j; u[i] && is_token(u[i]); i++)
        ;
    if (i == j)
        return eq;
    *v = s + j, *vlen = i - j;
    return i;
}

void listing_extract_swift_bytes(const char *ct, struct dbenc *ct_out,
                                 const char **sb, size_t *sblen)
{
    const char *semi = strchr(ct, ';');
    const char *s;

    *sb = NULL;
    *sblen = 0;
    if (!semi) {
        put(ct_out, ct);
        return;
    }
    dbenc_bytes(ct_out, ct, (size_t)(semi - ct));
    /* re.findall: try a match at each position, skip a char if none */
    for (s = semi; *s;) {
        const char *k, *v;
        size_t klen, vlen, n = match_param(s, &k, &klen, &v, &vlen);

        if (!n) {
            s++;
            continue;
        }
        s += n;
        /* Python's strip() on a token or quoted string: nothing to do */
        if (klen == 11 && !memcmp(k, "swift_bytes", 11)) {
            *sb = v;
            *sblen = vlen;
            continue;
        }
        dbenc_u8(ct_out, ';');
        dbenc_bytes(ct_out, k, klen);
        dbenc_u8(ct_out, '=');
        dbenc_bytes(ct_out, v, vlen);
    }
}

/* Python's int() of a swift_bytes token: sign, digits, single '_'
 * between digits. false if it would raise (or overflow int64). */
static bool parse_pyint(const char *s, size_t n, int64_t *out)
{
    bool neg = false, digit = false;
    uint64_t v = 0;
    size_t i = 0;

    if (i < n && (s[i] == '+' || s[i] == '-'))
        neg = s[i++] == '-';
    for (; i < n; i++) {
        if (s[i] == '_' && digit && i + 1 < n && s[i + 1] >= '0' &&
            s[i + 1] <= '9')
            continue;
        if (s[i] < '0' || s[i] > '9')
            return false;
        if (v > (UINT64_MAX - 9) / 10)
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
        digit = true;
    }
    if (!digit || v > (uint64_t)INT64_MAX)
        return false;
    *out = neg ? -(int64_t)v : (int64_t)v;
    return true;
}

static void put_int(struct dbenc *e, int64_t v)
{
    uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;
    char b[24], *p = b + sizeof(b);

    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    dbenc_bytes(e, p, (size_t)(b + sizeof(b) - p));
}

static void container_entry(struct dbenc *e, const struct listing *l,
                            const struct listing_entry *it,
                            enum listing_fmt fmt, struct dbenc *ct)
{
    const char *name = listing_str(l, it->name), *sb;
    char iso[DB_ISO_LEN];
    int64_t bytes = it->bytes;
    size_t sblen;

    ct->len = 0;
    listing_extract_swift_bytes(listing_str(l, it->ctype), ct, &sb, &sblen);
    if (sb)
        parse_pyint(sb, sblen, &bytes); /* Swift logs and keeps bytes */
    db_ts_isoformat(&it->ts, iso);
    if (fmt == LISTING_JSON) {
        put(e, "{\"bytes\": ");
        put_int(e, bytes);
        put(e, ", \"hash\": ");
        json_str(e, listing_str(l, it->etag), it->etag_len);
        put(e, ", \"name\": ");
        json_str(e, name, it->name_len);
        put(e, ", \"content_type\": ");
        json_str(e, (const char *)ct->p, ct->len);
        put(e, ", \"last_modified\": \"");
        put(e, iso);
        put(e, "\"}");
        return;
    }
    put(e, "<object><name>");
    xml_str(e, name, it->name_len, false);
    put(e, "</name><hash>");
    xml_str(e, listing_str(l, it->etag), it->etag_len, false);
    put(e, "</hash><bytes>");
    put_int(e, bytes);
    put(e, "</bytes><content_type>");
    xml_str(e, (const char *)ct->p, ct->len, false);
    put(e, "</content_type><last_modified>");
    put(e, iso);
    put(e, "</last_modified></object>");
}

static void account_entry(struct dbenc *e, const struct listing *l,
                          const struct listing_entry *it, enum listing_fmt fmt)
{
    const char *name = listing_str(l, it->name);
    char iso[DB_ISO_LEN];

    db_ts_isoformat(&it->ts, iso);
    if (fmt == LISTING_JSON) {
        put(e, "{\"name\": ");
        json_str(e, name, it->name_len);
        put(e, ", \"count\": ");
        put_int(e, it->count);
        put(e, ", \"bytes\": ");
        put_int(e, it->bytes);
        put(e, ", \"last_modified\": \"");
        put(e, iso);
        put(e, "\"}");
        return;
    }
    put(e, "<container><name>");
    xml_str(e, name, it->name_len, false);
    put(e, "</name><count>");
    put_int(e, it->count);
    put(e, "</count><bytes>");
    put_int(e, it->bytes);
    put(e, "</bytes><last_modified>");
    put(e, iso);
    put(e, "</last_modified></container>");
}

static void subdir_entry(struct dbenc *e, const struct listing *l,
                         const struct listing_entry *it, enum listing_fmt fmt,
                         bool account)
{
    const char *name = listing_str(l, it->name);

    if (fmt == LISTING_JSON) {
        put(e, "{\"subdir\": ");
        json_str(e, name, it->name_len);
        put(e, "}");
        return;
    }
    put(e, "<subdir name=\"");
    xml_str(e, name, it->name_len, true);
    if (account) {
        put(e, "\" />");
        return;
    }
    put(e, "\"><name>");
    xml_str(e, name, it->name_len, false);
    put(e, "</name></subdir>");
}

static int format(const struct listing *l, enum listing_fmt fmt,
                  const char *name, bool account, char **out, size_t *len)
{
    const char *root = account ? "account" : "container";
    struct dbenc e = {0}, ct = {0};

    *out = NULL;
    *len = 0;
    if (fmt == LISTING_JSON) {
        dbenc_u8(&e, '[');
    } else if (fmt == LISTING_XML) {
        put(&e, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<");
        put(&e, root);
        put(&e, " name=\"");
        xml_str(&e, name, strlen(name), true);
        put(&e, "\"");
        /* account_to_xml sets doc.text = "\n", container_to_xml no text */
        put(&e, account ? ">\n" : (l->n ? ">" : " />"));
    }
    for (size_t i = 0; i < l->n; i++) {
        const struct listing_entry *it = &l->entries[i];

        if (fmt == LISTING_PLAIN) {
            dbenc_bytes(&e, listing_str(l, it->name), it->name_len);
            dbenc_u8(&e, '\n');
            continue;
        }
        if (fmt == LISTING_JSON && i)
            put(&e, ", ");
        if (it->subdir)
            subdir_entry(&e, l, it, fmt, account);
        else if (account)
            account_entry(&e, l, it, fmt);
        else
            container_entry(&e, l, it, fmt, &ct);
        if (fmt == LISTING_XML && account)
            dbenc_u8(&e, '\n'); /* sub.tail */
    }
    if (fmt == LISTING_JSON) {
        dbenc_u8(&e, ']');
    } else if (fmt == LISTING_XML && (account || l->n)) {
        put(&e, "</");
        put(&e, root);
        put(&e, ">");
    }
    dbenc_u8(&e, '\0');
    dbenc_release(&ct);
    if (e.err) {
        dbenc_release(&e);
        return -ENOMEM;
    }
    *out = (char *)e.p;
    *len = e.len - 1;
    return 0;
}

int listing_format_container(const struct listing *l, enum listing_fmt fmt,
                             const char *name, char **out, size_t *len)
{
    return format(l, fmt, name, false, out, len);
}

int listing_format_account(const struct listing *l, enum listing_fmt fmt,
                           const char *name, char **out, size_t *len)
{
    return format(l, fmt, name, true, out, len);
}
