/*
 * listing_format.c - turns listing entries into response bodies exactly
 * as Swift 2.30 does; the tests compare with Swift's own output.
 *
 * json: Python's json.dumps defaults: ", " and ": " separators, every
 * character outside ' '..'~' escaped (\uXXXX, surrogate pairs above the
 * BMP; \" \\ \b \f \n \r \t by name). xml: ElementTree's serialisation:
 * text escapes & < >, attributes also " \n \r \t; other bytes as they
 * are; an element without children or text is "<tag />".
 *
 * Speed: a 10,000-row page must take a few milliseconds, so an entry is
 * written straight into the body with room for its worst case reserved
 * once (no escape grows a byte past six), no printf, the date of
 * last_modified is worked out once per day, and the body's memory comes
 * back from a pool: on this kind of machine faulting in a few MiB of
 * fresh pages costs more than the whole listing.
 */
#include "storage/listing_format.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* ---- the body pool ---- */

#define POOL_BODIES 2
#define POOL_MAX_CAP ((size_t)16 << 20)

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    char *p;
    size_t cap;
} pool[POOL_BODIES];

/* A pooled buffer, else a new one of 'want' bytes. */
static char *pool_take(size_t want, size_t *cap)
{
    char *p = NULL;

    pthread_mutex_lock(&pool_lock);
    for (int i = 0; i < POOL_BODIES && !p; i++) {
        if (pool[i].p) {
            p = pool[i].p;
            *cap = pool[i].cap;
            pool[i].p = NULL;
        }
    }
    pthread_mutex_unlock(&pool_lock);
    if (p)
        return p;
    p = malloc(want);
    *cap = p ? want : 0;
    return p;
}

static void pool_give(char *p, size_t cap)
{
    pthread_mutex_lock(&pool_lock);
    for (int i = 0; i < POOL_BODIES && p && cap <= POOL_MAX_CAP; i++) {
        if (!pool[i].p) {
            pool[i].p = p;
            pool[i].cap = cap;
            p = NULL;
        }
    }
    pthread_mutex_unlock(&pool_lock);
    free(p);
}

void listing_body_free(void *body)
{
    struct listing_body *b = body;

    if (!b)
        return;
    pool_give(b->p, b->cap);
    free(b);
}

ssize_t listing_body_read(void *body, uint64_t pos, char *buf, size_t max)
{
    const struct listing_body *b = body;

    if (pos >= b->len)
        return 0;
    if (max > b->len - pos)
        max = b->len - (size_t)pos;
    memcpy(buf, b->p + pos, max);
    return (ssize_t)max;
}

/* ---- writing ---- */

static void put(struct dbenc *e, const char *s)
{
    dbenc_bytes(e, s, strlen(s));
}

/* Makes room for 'n' more bytes; false (and w->err) if there is none. */
static bool room(struct listing_writer *w, size_t n)
{
    size_t cap = w->cap ? w->cap : 4096;
    char *p;

    if (w->err)
        return false;
    if (w->cap - w->len >= n)
        return true;
    while (cap - w->len < n) {
        if (cap > SIZE_MAX / 2) {
            w->err = -ENOMEM;
            return false;
        }
        cap *= 2;
    }
    p = realloc(w->p, cap);
    if (!p) {
        w->err = -ENOMEM;
        return false;
    }
    w->p = p;
    w->cap = cap;
    return true;
}

static char *lit(char *o, const char *s, size_t n)
{
    memcpy(o, s, n);
    return o + n;
}

#define LIT(o, s) lit(o, s, sizeof(s) - 1)

static char *put_int(char *o, int64_t v)
{
    uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;
    char b[24], *p = b + sizeof(b);

    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    return lit(o, p, (size_t)(b + sizeof(b) - p));
}

static char *digits(char *o, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--, v /= 10)
        o[i] = (char)('0' + v % 10);
    return o + n;
}

/* Swift's Timestamp.isoformat rounds float(normal) to microseconds. Below
 * 2^33 s (the year 2242) a double is within 2^-21 s (< 0.5 us) of the
 * decimal timestamp, whose microseconds are a multiple of 10, so the
 * rounding gives them exactly: integers suffice. Later times take
 * db_ts_isoformat()'s floating point. */
#define ISO_FAST_TICKS (((uint64_t)1 << 33) * 100000)

static char *put_iso(struct listing_writer *w, char *o, const struct db_ts *ts)
{
    uint64_t secs = ts->raw / 100000, day = secs / 86400, sod = secs % 86400;

    if (ts->raw >= ISO_FAST_TICKS) {
        char iso[DB_ISO_LEN];

        db_ts_isoformat(ts, iso);
        return lit(o, iso, DB_ISO_LEN - 1);
    }
    if (day != w->iso_day) {
        struct db_ts midnight = {.raw = day * 86400 * 100000};

        db_ts_isoformat(&midnight, w->iso_date); /* "YYYY-MM-DDT..." */
        w->iso_day = day;
    }
    o = lit(o, w->iso_date, 11);
    o = digits(o, sod / 3600, 2);
    *o++ = ':';
    o = digits(o, sod / 60 % 60, 2);
    *o++ = ':';
    o = digits(o, sod % 60, 2);
    *o++ = '.';
    return digits(o, ts->raw % 100000 * 10, 6);
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

static const char hex[] = "0123456789abcdef";

static char *put_u4(char *o, uint32_t cp)
{
    o[0] = '\\';
    o[1] = 'u';
    o[2] = hex[cp >> 12 & 0xf];
    o[3] = hex[cp >> 8 & 0xf];
    o[4] = hex[cp >> 4 & 0xf];
    o[5] = hex[cp & 0xf];
    return o + 6;
}

static bool json_plain(unsigned char c)
{
    return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

#define ONES ((uint64_t)0x0101010101010101)
#define HIGH ((uint64_t)0x8080808080808080)

/* Whether a byte of 'v' is zero; exact (borrows only reach bytes above
 * the first zero one). */
static uint64_t has_zero(uint64_t v)
{
    return (v - ONES) & ~v & HIGH;
}

/* json_plain() for 8 bytes at once: none < 0x20, >= 0x7f, '"' or '\\'. */
static bool json_plain8(const unsigned char *u)
{
    uint64_t v;

    memcpy(&v, u, 8);
    return !(((v - ONES * 0x20) & ~v & HIGH) | (v & HIGH) |
             has_zero(v ^ (ONES * 0x7f)) | has_zero(v ^ (ONES * '"')) |
             has_zero(v ^ (ONES * '\\')));
}

/* A json string of 'n' bytes of UTF-8; needs room for 6 * n + 2. */
static char *json_str(char *o, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;

    *o++ = '"';
    while (i < n) {
        uint32_t cp;
        size_t run = i;

        while (run + 8 <= n && json_plain8(u + run))
            run += 8;
        while (run < n && json_plain(u[run]))
            run++;
        o = lit(o, s + i, run - i);
        i = run;
        if (i == n)
            break;
        i += utf8_decode(u + i, n - i, &cp);
        switch (cp) {
        case '"': o = LIT(o, "\\\""); continue;
        case '\\': o = LIT(o, "\\\\"); continue;
        case '\b': o = LIT(o, "\\b"); continue;
        case '\f': o = LIT(o, "\\f"); continue;
        case '\n': o = LIT(o, "\\n"); continue;
        case '\r': o = LIT(o, "\\r"); continue;
        case '\t': o = LIT(o, "\\t"); continue;
        }
        if (cp >= 0x10000) {
            cp -= 0x10000;
            o = put_u4(o, 0xd800 + (cp >> 10));
            o = put_u4(o, 0xdc00 + (cp & 0x3ff));
        } else {
            o = put_u4(o, cp);
        }
    }
    *o++ = '"';
    return o;
}

/* xml text, or an attribute value; needs room for 6 * n. */
static char *xml_str(char *o, const char *s, size_t n, bool attr)
{
    for (size_t i = 0; i < n; i++) {
        switch (s[i]) {
        case '&': o = LIT(o, "&amp;"); break;
        case '<': o = LIT(o, "&lt;"); break;
        case '>': o = LIT(o, "&gt;"); break;
        case '"':
            if (attr)
                o = LIT(o, "&quot;");
            else
                *o++ = '"';
            break;
        case '\n':
            if (attr)
                o = LIT(o, "&#10;");
            else
                *o++ = '\n';
            break;
        case '\r':
            if (attr)
                o = LIT(o, "&#13;");
            else
                *o++ = '\r';
            break;
        case '\t':
            if (attr)
                o = LIT(o, "&#09;");
            else
                *o++ = '\t';
            break;
        default: *o++ = s[i]; break;
        }
    }
    return o;
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

/* The content type to list and the bytes it overrides: the stored type
 * up to a NUL, with Swift's parameter rewriting when it has any. */
static const char *list_ctype(struct listing_writer *w, const char *ctype,
                              size_t len, size_t *out_len, int64_t *bytes)
{
    const char *nul = memchr(ctype, '\0', len), *sb;
    struct dbenc in = {0};
    size_t sblen;

    if (nul)
        len = (size_t)(nul - ctype);
    if (!memchr(ctype, ';', len)) {
        *out_len = len;
        return ctype;
    }
    dbenc_bytes(&in, ctype, len);
    dbenc_u8(&in, '\0');
    w->ct.len = 0;
    if (!in.err)
        listing_extract_swift_bytes((const char *)in.p, &w->ct, &sb, &sblen);
    if (in.err || w->ct.err) {
        w->err = -ENOMEM;
        dbenc_release(&in);
        *out_len = 0;
        return "";
    }
    if (sb)
        parse_pyint(sb, sblen, bytes); /* Swift logs and keeps bytes */
    dbenc_release(&in);
    *out_len = w->ct.len;
    return (const char *)w->ct.p;
}

static char *container_entry(struct listing_writer *w, char *o,
                             const struct listing_entry *e, const char *name,
                             const char *ct, size_t ctlen, const char *etag,
                             int64_t bytes)
{
    if (w->fmt == LISTING_JSON) {
        o = LIT(o, "{\"bytes\": ");
        o = put_int(o, bytes);
        o = LIT(o, ", \"hash\": ");
        o = json_str(o, etag, e->etag_len);
        o = LIT(o, ", \"name\": ");
        o = json_str(o, name, e->name_len);
        o = LIT(o, ", \"content_type\": ");
        o = json_str(o, ct, ctlen);
        o = LIT(o, ", \"last_modified\": \"");
        o = put_iso(w, o, &e->ts);
        return LIT(o, "\"}");
    }
    o = LIT(o, "<object><name>");
    o = xml_str(o, name, e->name_len, false);
    o = LIT(o, "</name><hash>");
    o = xml_str(o, etag, e->etag_len, false);
    o = LIT(o, "</hash><bytes>");
    o = put_int(o, bytes);
    o = LIT(o, "</bytes><content_type>");
    o = xml_str(o, ct, ctlen, false);
    o = LIT(o, "</content_type><last_modified>");
    o = put_iso(w, o, &e->ts);
    return LIT(o, "</last_modified></object>");
}

static char *account_entry(struct listing_writer *w, char *o,
                           const struct listing_entry *e, const char *name)
{
    if (w->fmt == LISTING_JSON) {
        o = LIT(o, "{\"name\": ");
        o = json_str(o, name, e->name_len);
        o = LIT(o, ", \"count\": ");
        o = put_int(o, e->count);
        o = LIT(o, ", \"bytes\": ");
        o = put_int(o, e->bytes);
        o = LIT(o, ", \"last_modified\": \"");
        o = put_iso(w, o, &e->ts);
        return LIT(o, "\"}");
    }
    o = LIT(o, "<container><name>");
    o = xml_str(o, name, e->name_len, false);
    o = LIT(o, "</name><count>");
    o = put_int(o, e->count);
    o = LIT(o, "</count><bytes>");
    o = put_int(o, e->bytes);
    o = LIT(o, "</bytes><last_modified>");
    o = put_iso(w, o, &e->ts);
    return LIT(o, "</last_modified></container>");
}

static char *subdir_entry(struct listing_writer *w, char *o,
                          const struct listing_entry *e, const char *name)
{
    if (w->fmt == LISTING_JSON) {
        o = LIT(o, "{\"subdir\": ");
        o = json_str(o, name, e->name_len);
        return LIT(o, "}");
    }
    o = LIT(o, "<subdir name=\"");
    o = xml_str(o, name, e->name_len, true);
    if (w->account)
        return LIT(o, "\" />");
    o = LIT(o, "\"><name>");
    o = xml_str(o, name, e->name_len, false);
    return LIT(o, "</name></subdir>");
}

int listing_writer_entry(void *arg, const struct listing_entry *e,
                         const char *name, const char *ctype, const char *etag)
{
    struct listing_writer *w = arg;
    struct listing_entry ce = *e;
    const char *ct = "";
    size_t ctlen = 0, max;
    int64_t bytes = e->bytes;
    char *o;

    if (!etag || e->subdir || w->account) {
        etag = "";
        ce.etag_len = 0;
    }
    if (ctype && !e->subdir && !w->account)
        ct = list_ctype(w, ctype, e->ctype_len, &ctlen, &bytes);
    /* every tag and number, then no byte grows past six; a subdir's name
     * is written twice in xml */
    max = 256 + 12 * e->name_len + 6 * (ctlen + ce.etag_len);
    if (!room(w, max))
        return w->err;
    o = w->p + w->len;
    if (w->fmt == LISTING_PLAIN) {
        o = lit(o, name, e->name_len);
        *o++ = '\n';
    } else {
        if (w->fmt == LISTING_JSON && w->n)
            o = LIT(o, ", ");
        if (w->fmt == LISTING_XML && !w->account && !w->n)
            *o++ = '>'; /* the root has children after all */
        if (e->subdir)
            o = subdir_entry(w, o, e, name);
        else if (w->account)
            o = account_entry(w, o, e, name);
        else
            o = container_entry(w, o, &ce, name, ct, ctlen, etag, bytes);
        if (w->fmt == LISTING_XML && w->account)
            *o++ = '\n'; /* sub.tail */
    }
    w->len = (size_t)(o - w->p);
    w->n++;
    return 0;
}

/* What a body of 'n' entries likely needs. Virtual memory: only the
 * pages written get mapped. */
static size_t guess_size(size_t n)
{
    if (n > LISTING_LIMIT)
        n = LISTING_LIMIT;
    return n < 16 ? 4096 : n * 256;
}

/* Starts the body in 'p' (malloc()ed, 'cap' bytes; NULL: out of memory). */
static void start(struct listing_writer *w, enum listing_fmt fmt, bool account,
                  const char *name, char *p, size_t cap)
{
    size_t nlen = strlen(name);
    char *o;

    *w = (struct listing_writer){
        .p = p,
        .cap = p ? cap : 0,
        .err = p ? 0 : -ENOMEM,
        .fmt = fmt,
        .account = account,
        .root = account ? "account" : "container",
        .iso_day = UINT64_MAX,
    };
    if (fmt == LISTING_PLAIN || !room(w, 64 + 6 * nlen))
        return;
    o = w->p;
    if (fmt == LISTING_JSON) {
        *o++ = '[';
    } else {
        o = LIT(o, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<");
        o = lit(o, w->root, strlen(w->root));
        o = LIT(o, " name=\"");
        o = xml_str(o, name, nlen, true);
        *o++ = '"';
        /* account_to_xml sets doc.text = "\n"; container_to_xml no text,
         * so its root closes at the first entry or as "<container ... />" */
        if (account)
            o = LIT(o, ">\n");
    }
    w->len = (size_t)(o - w->p);
}

void listing_writer_init(struct listing_writer *w, enum listing_fmt fmt,
                         bool account, const char *name, size_t limit)
{
    size_t cap;
    char *p = pool_take(guess_size(limit), &cap);

    start(w, fmt, account, name, p, cap);
}

void listing_writer_attach(struct listing_writer *w, struct listing *l)
{
    l->emit = listing_writer_entry;
    l->emit_arg = w;
}

void listing_writer_release(struct listing_writer *w)
{
    if (w->p)
        pool_give(w->p, w->cap);
    dbenc_release(&w->ct);
    *w = (struct listing_writer){0};
}

int listing_writer_finish(struct listing_writer *w, struct listing_body **out)
{
    size_t rlen = strlen(w->root);
    struct listing_body *b;
    char *o;

    *out = NULL;
    if (room(w, rlen + 8)) {
        o = w->p + w->len;
        if (w->fmt == LISTING_JSON) {
            *o++ = ']';
        } else if (w->fmt == LISTING_XML && (w->account || w->n)) {
            o = LIT(o, "</");
            o = lit(o, w->root, rlen);
            *o++ = '>';
        } else if (w->fmt == LISTING_XML) {
            o = LIT(o, " />");
        }
        *o = '\0'; /* not counted */
        w->len = (size_t)(o - w->p);
    }
    b = w->err ? NULL : malloc(sizeof(*b));
    if (!b) {
        listing_writer_release(w);
        return -ENOMEM;
    }
    *b = (struct listing_body){.p = w->p, .len = w->len, .cap = w->cap};
    w->p = NULL;
    listing_writer_release(w);
    *out = b;
    return 0;
}

static int format(const struct listing *l, enum listing_fmt fmt,
                  const char *name, bool account, char **out, size_t *len)
{
    struct listing_writer w;
    struct listing_body *b;
    int err = 0;

    *out = NULL;
    *len = 0;
    /* not from the pool: the caller keeps the body */
    start(&w, fmt, account, name, malloc(guess_size(l->n)), guess_size(l->n));
    for (size_t i = 0; i < l->n && !err; i++) {
        const struct listing_entry *e = &l->entries[i];

        err = listing_writer_entry(&w, e, listing_str(l, e->name),
                                   listing_str(l, e->ctype),
                                   listing_str(l, e->etag));
    }
    if (err) {
        listing_writer_release(&w);
        return err;
    }
    err = listing_writer_finish(&w, &b);
    if (err)
        return err;
    *out = b->p; /* NUL-terminated by listing_writer_finish() */
    *len = b->len;
    free(b);
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
