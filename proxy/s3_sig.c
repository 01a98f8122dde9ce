/*
 * s3_sig.c - S3 request signatures: parsing the Authorization header and
 * the presigned query (V2 and V4), the time checks, the canonical request
 * and string to sign, and the HMACs (OpenSSL's libcrypto).
 *
 * The rules are AWS's, as Swift's s3api applies them: the canonical URI
 * is the path as sent (no normalization, no second encoding; V2 prefixes
 * a virtual-hosted bucket), the canonical query re-encodes decoded
 * parameters with only A-Za-z0-9-_.~ left bare, the canonical headers are
 * the signed ones with values trimmed and runs of blanks collapsed. Where
 * Swift 2.30 says nothing (streaming bodies, future presigned URLs,
 * duplicated parameters) we follow AWS and refuse what is ambiguous.
 *
 * Looking up the secret is the caller's (tempauth); this file only needs
 * it as a string, and compares signatures in constant time.
 */
#include "proxy/s3_sig.h"

#include "common/timestamp.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>
#include <time.h>

#define V4_ALGORITHM "AWS4-HMAC-SHA256"
#define V4_TERMINAL "aws4_request"
#define V4_SERVICE "s3"

#define MSG_HEADER_MALFORMED                                                   \
    "The authorization header is malformed; the authorization header "         \
    "requires three components: Credential, SignedHeaders, and Signature."
#define MSG_CREDENTIAL_MALFORMED                                               \
    "the Credential is mal-formed; expecting "                                 \
    "\"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\"."
#define MSG_QUERY_MISSING                                                      \
    "Query-string authentication version 4 requires the X-Amz-Algorithm, "     \
    "X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, "     \
    "and X-Amz-Expires parameters."
#define MSG_BAD_DATE                                                           \
    "AWS authentication requires a valid Date or x-amz-date header"
#define MSG_ACCESS_DENIED "Access Denied."
#define MSG_SKEWED                                                             \
    "The difference between the request time and the current time is too "     \
    "large."
#define MSG_NO_MATCH                                                           \
    "The request signature we calculated does not match the signature you "    \
    "provided. Check your key and signing method."

void s3_sig_set_error(struct s3_sig_error *err, const char *code,
                      unsigned int status, const char *fmt, ...)
{
    va_list ap;

    err->code = code;
    err->status = status;
    err->argument_name = NULL;
    err->argument_value[0] = '\0';
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
}

static int fail(struct s3_sig_error *err, const char *code, unsigned int status,
                const char *msg)
{
    s3_sig_set_error(err, code, status, "%s", msg);
    return -EINVAL;
}

static int invalid_argument(struct s3_sig_error *err, const char *name,
                            const char *value, const char *msg)
{
    s3_sig_set_error(err, "InvalidArgument", 400, "%s", msg);
    err->argument_name = name;
    {
        /* cut to fit, as S3 shows a long value only in part */
        size_t n = value ? strlen(value) : 0;

        if (n >= sizeof(err->argument_value))
            n = sizeof(err->argument_value) - 1;
        memcpy(err->argument_value, value ? value : "", n);
        err->argument_value[n] = '\0';
    }
    return -EINVAL;
}

static int out_of_memory(struct s3_sig_error *err)
{
    s3_sig_set_error(err, "InternalError", 500,
                     "We encountered an internal error. Please try again.");
    return -ENOMEM;
}

/* ---- a growing string; out of memory sticks until the end ---- */

struct sbuf {
    char *p;
    size_t len, cap;
    bool oom;
};

static void sb_add(struct sbuf *sb, const char *s, size_t n)
{
    if (sb->oom)
        return;
    if (sb->len + n + 1 > sb->cap) {
        size_t cap = sb->cap ? sb->cap : 256;
        char *p;

        while (cap < sb->len + n + 1)
            cap *= 2;
        p = realloc(sb->p, cap);
        if (!p) {
            sb->oom = true;
            return;
        }
        sb->p = p;
        sb->cap = cap;
    }
    memcpy(sb->p + sb->len, s, n);
    sb->len += n;
    sb->p[sb->len] = '\0';
}

static void sb_puts(struct sbuf *sb, const char *s)
{
    sb_add(sb, s, strlen(s));
}

static void sb_putc(struct sbuf *sb, char c)
{
    sb_add(sb, &c, 1);
}

/* ---- hashes ---- */

static void hex(const unsigned char *md, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < n; i++) {
        out[2 * i] = digits[md[i] >> 4];
        out[2 * i + 1] = digits[md[i] & 15];
    }
    out[2 * n] = '\0';
}

static int sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen;

    if (!EVP_Digest(data, len, md, &mdlen, s3_sig_sha256(), NULL))
        return -ENOMEM;
    hex(md, 32, out);
    return 0;
}

static const EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

const EVP_MD *s3_sig_sha256(void)
{
    pthread_once(&sha256_once, sha256_fetch);
    return sha256_md ? sha256_md : EVP_sha256();
}

/* HMAC-SHA256 (RFC 2104) on two digests with the fetched SHA-256:
 * OpenSSL 3's one-shot HMAC() looks up the MAC and the digest by name on
 * every call, most of its cost for the short inputs here. (The context
 * is made per call: a per-thread one would be lost with each connection
 * thread.) */
int s3_sig_hmac_sha256(const void *key, size_t klen, const void *data,
                       size_t dlen, unsigned char out[32])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    const EVP_MD *md = s3_sig_sha256();
    unsigned char k[64] = {0}, pad[64], inner[32];
    unsigned int n;
    int ok = ctx != NULL;

    if (ok && klen > sizeof(k))
        ok = EVP_DigestInit_ex(ctx, md, NULL) &&
             EVP_DigestUpdate(ctx, key, klen) && EVP_DigestFinal_ex(ctx, k, &n);
    else if (ok)
        memcpy(k, key, klen);
    for (size_t i = 0; i < 64; i++)
        pad[i] = k[i] ^ 0x36;
    ok = ok && EVP_DigestInit_ex(ctx, md, NULL) &&
         EVP_DigestUpdate(ctx, pad, 64) && EVP_DigestUpdate(ctx, data, dlen) &&
         EVP_DigestFinal_ex(ctx, inner, &n);
    for (size_t i = 0; i < 64; i++)
        pad[i] = k[i] ^ 0x5c;
    ok = ok && EVP_DigestInit_ex(ctx, md, NULL) &&
         EVP_DigestUpdate(ctx, pad, 64) && EVP_DigestUpdate(ctx, inner, 32) &&
         EVP_DigestFinal_ex(ctx, out, &n);
    OPENSSL_cleanse(k, sizeof(k));
    OPENSSL_cleanse(pad, sizeof(pad));
    EVP_MD_CTX_free(ctx);
    return ok ? 0 : -ENOMEM;
}

static int hmac_sha256(const void *key, size_t klen, const void *data,
                       size_t dlen, unsigned char out[32])
{
    return s3_sig_hmac_sha256(key, klen, data, dlen, out);
}

static bool is_hex_string(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (!s[i] || !strchr("0123456789abcdefABCDEF", s[i]))
            return false;
    return s[n] == '\0';
}

/* ---- the query string ---- */

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

/* Decodes a query component as Python's unquote_plus: '+' is a space and
 * a '%' without two hex digits stays as it is. 'out' has room for 'len'
 * bytes and a NUL; returns the decoded length. */
static size_t unquote(const char *in, size_t len, char *out)
{
    size_t i, n = 0;

    for (i = 0; i < len; i++) {
        if (in[i] == '%' && i + 2 < len && hexval(in[i + 1]) >= 0 &&
            hexval(in[i + 2]) >= 0) {
            out[n++] = (char)(hexval(in[i + 1]) << 4 | hexval(in[i + 2]));
            i += 2;
        } else {
            out[n++] = in[i] == '+' ? ' ' : in[i];
        }
    }
    out[n] = '\0';
    return n;
}

/* One name=value of the query, decoded (either may hold NULs). */
struct qparam {
    char *name, *value;
    size_t nlen, vlen;
    size_t index; /* its position in the query */
};

static void qparams_free(struct qparam *qp, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        free(qp[i].name);
        free(qp[i].value);
    }
    free(qp);
}

/* Splits the raw query on '&' and decodes each parameter (a parameter
 * without '=' has an empty value; empty pieces are skipped, as
 * parse_qsl() does). Returns 0 or -ENOMEM. */
static int qparams_split(const char *q, struct qparam **out, size_t *n_out)
{
    struct qparam *qp = NULL;
    size_t n = 0, cap = 0;
    const char *p = q;

    *out = NULL;
    *n_out = 0;
    while (*p) {
        const char *end = strchrnul(p, '&');
        const char *eq = memchr(p, '=', (size_t)(end - p));
        const char *kend = eq ? eq : end;
        const char *v = eq ? eq + 1 : end;
        struct qparam *e;

        if (end == p) {
            p++;
            continue;
        }
        if (n == cap) {
            struct qparam *bigger;

            cap = cap ? cap * 2 : 8;
            bigger = realloc(qp, cap * sizeof(*qp));
            if (!bigger)
                goto nomem;
            qp = bigger;
        }
        e = &qp[n];
        e->name = malloc((size_t)(kend - p) + 1);
        e->value = malloc((size_t)(end - v) + 1);
        if (!e->name || !e->value) {
            free(e->name);
            free(e->value);
            goto nomem;
        }
        e->nlen = unquote(p, (size_t)(kend - p), e->name);
        e->vlen = unquote(v, (size_t)(end - v), e->value);
        e->index = n++;
        p = *end ? end + 1 : end;
    }
    *out = qp;
    *n_out = n;
    return 0;
nomem:
    qparams_free(qp, n);
    return -ENOMEM;
}

enum qget { Q_ABSENT, Q_FOUND, Q_DUP, Q_BAD };

/* Looks up parameter 'name' without allocating: its decoded value goes to
 * 'buf' (room for 'cap' bytes with the NUL). Q_BAD: the value does not
 * fit or holds a NUL; Q_DUP: the name is there twice. */
static enum qget query_get(const char *q, const char *name, char *buf,
                           size_t cap)
{
    size_t nlen = strlen(name);
    enum qget res = Q_ABSENT;
    const char *p = q;

    buf[0] = '\0';
    while (*p) {
        const char *end = strchrnul(p, '&');
        const char *eq = memchr(p, '=', (size_t)(end - p));
        size_t klen = (size_t)((eq ? eq : end) - p);
        char key[64];

        /* a name can only shrink by decoding: 3 bytes per %XX */
        if (klen < sizeof(key) && unquote(p, klen, key) == nlen &&
            !memcmp(key, name, nlen)) {
            size_t vlen = eq ? (size_t)(end - eq - 1) : 0;

            if (res != Q_ABSENT)
                return Q_DUP;
            if (vlen >= cap) {
                res = Q_BAD;
            } else {
                size_t n = eq ? unquote(eq + 1, vlen, buf) : 0;

                buf[n] = '\0';
                res = memchr(buf, '\0', n) ? Q_BAD : Q_FOUND;
            }
        }
        p = *end ? end + 1 : end;
    }
    return res;
}

static bool query_has(const char *q, const char *name)
{
    char dummy[1];

    return query_get(q, name, dummy, sizeof(dummy)) != Q_ABSENT;
}

/* ---- dates ---- */

/* X-Amz-Date: exactly "YYYYMMDDTHHMMSSZ". */
static int parse_amz_date(const char *s, int64_t *out)
{
    struct tm tm = {0}, back;
    time_t t;
    int i;

    if (strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z')
        return -EINVAL;
    for (i = 0; i < 15; i++)
        if (i != 8 && (s[i] < '0' || s[i] > '9'))
            return -EINVAL;
    tm.tm_year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 +
                 (s[3] - '0') - 1900;
    tm.tm_mon = (s[4] - '0') * 10 + (s[5] - '0') - 1;
    tm.tm_mday = (s[6] - '0') * 10 + (s[7] - '0');
    tm.tm_hour = (s[9] - '0') * 10 + (s[10] - '0');
    tm.tm_min = (s[11] - '0') * 10 + (s[12] - '0');
    tm.tm_sec = (s[13] - '0') * 10 + (s[14] - '0');
    back = tm;
    t = timegm(&back);
    /* timegm() normalizes Feb 30 into March (in place): refuse what moved */
    if (back.tm_mday != tm.tm_mday || back.tm_mon != tm.tm_mon ||
        back.tm_hour != tm.tm_hour || back.tm_min != tm.tm_min ||
        back.tm_sec != tm.tm_sec)
        return -EINVAL;
    *out = t;
    return 0;
}

static void format_amz_date(int64_t t, char out[S3_SIG_AMZ_DATE_SIZE])
{
    time_t tt = (time_t)t;
    struct tm tm;

    if (!gmtime_r(&tt, &tm) ||
        strftime(out, S3_SIG_AMZ_DATE_SIZE, "%Y%m%dT%H%M%SZ", &tm) != 16)
        out[0] = '\0';
}

/* A Date header as Python's email.utils.parsedate_tz() reads the usual
 * ones: the three HTTP forms, and RFC 2822's numeric zone ("Tue, 27 Mar
 * 2007 19:36:42 +0000"), or Swift's V2 fallback "%Y-%m-%dT%H:%M:%S". */
static int parse_http_date(const char *s, int64_t *out)
{
    struct tm tm = {0};
    const char *end;
    time_t t;

    if (!timestamp_parse_http_date(s, &t)) {
        *out = t;
        return 0;
    }
    end = strptime(s, "%a, %d %b %Y %H:%M:%S", &tm);
    if (!end)
        end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!end)
        return -EINVAL;
    t = timegm(&tm);
    while (*end == ' ')
        end++;
    if ((end[0] == '+' || end[0] == '-') && strlen(end) == 5 &&
        strspn(end + 1, "0123456789") == 4) {
        int mins = ((end[1] - '0') * 10 + (end[2] - '0')) * 60 +
                   (end[3] - '0') * 10 + (end[4] - '0');

        t += end[0] == '+' ? -mins * 60 : mins * 60;
    } else if (*end && strcmp(end, "GMT") && strcmp(end, "UTC") &&
               strcmp(end, "Z")) {
        return -EINVAL;
    }
    *out = t;
    return 0;
}

static int64_t skew_of(const struct s3_sig_conf *conf)
{
    return conf->max_skew > 0 ? conf->max_skew : S3_SIG_DEFAULT_SKEW;
}

static int check_skew(const struct s3_sig_conf *conf, int64_t date, int64_t now,
                      struct s3_sig_error *err)
{
    int64_t d = date > now ? date - now : now - date;

    if (date < 0)
        return fail(err, "AccessDenied", 403, MSG_BAD_DATE);
    if (d > skew_of(conf))
        return fail(err, "RequestTimeTooSkewed", 403, MSG_SKEWED);
    return 0;
}

/* ---- strings copied into fixed fields ---- */

static bool copy_field(char *dst, size_t cap, const char *s, size_t n)
{
    if (n >= cap || memchr(s, '\0', n))
        return false;
    memcpy(dst, s, n);
    dst[n] = '\0';
    return true;
}

/* ---- V4 ---- */

/* "AKID/20130524/us-east-1/s3/aws4_request" */
struct credential {
    const char *part[5]; /* access, date, region, service, terminal */
    size_t len[5];
};

static bool split_credential(const char *s, size_t n, struct credential *c)
{
    size_t i = 0, k = 0, start = 0;

    for (i = 0; i <= n; i++) {
        if (i < n && s[i] != '/')
            continue;
        if (k == 5)
            return false;
        c->part[k] = s + start;
        c->len[k++] = i - start;
        start = i + 1;
    }
    return k == 5 && c->len[0] > 0;
}

/* Checks the credential against the request's date and our region, as
 * Swift does (messages differ between the header and the query form),
 * and fills access_key, region and scope. */
static int check_credential(const struct s3_sig_conf *conf, const char *cred,
                            size_t n, bool query, struct s3_sig *out,
                            struct s3_sig_error *err)
{
    const char *code = query ? "AuthorizationQueryParametersError"
                             : "AuthorizationHeaderMalformed";
    const char *what = query ? "Error parsing the X-Amz-Credential parameter"
                             : "The authorization header is malformed";
    const char *region = conf->region ? conf->region : "us-east-1";
    struct credential c;
    char date8[9];
    size_t rlen = strlen(region), i;
    bool region_ok;

    if (!split_credential(cred, n, &c) ||
        !copy_field(out->access_key, sizeof(out->access_key), c.part[0],
                    c.len[0]) ||
        !copy_field(out->region, sizeof(out->region), c.part[2], c.len[2]) ||
        c.len[1] > 64 || c.len[3] > 64 || c.len[4] > 64) {
        s3_sig_set_error(err, code, 400, "%s; %s", what,
                         MSG_CREDENTIAL_MALFORMED);
        return -EINVAL;
    }
    memcpy(date8, out->amz_date, 8);
    date8[8] = '\0';
    if (c.len[1] != 8 || memcmp(c.part[1], date8, 8)) {
        s3_sig_set_error(err, code, 400,
                         "Invalid credential date \"%.*s\". This date is not "
                         "the same as X-Amz-Date: \"%s\".",
                         (int)c.len[1], c.part[1], date8);
        return -EINVAL;
    }
    /* a lowercased region is fine, for the AWS .NET SDK (as Swift) */
    region_ok = c.len[2] == rlen;
    for (i = 0; region_ok && i < rlen; i++)
        region_ok = c.part[2][i] == region[i] ||
                    (c.part[2][i] >= 'a' && c.part[2][i] <= 'z' &&
                     c.part[2][i] - 'a' + 'A' == region[i]);
    if (!region_ok) {
        s3_sig_set_error(err, code, 400,
                         "%s; the region '%.*s' is wrong; expecting '%s'", what,
                         (int)c.len[2], c.part[2], region);
        return -EINVAL;
    }
    if (c.len[3] != strlen(V4_SERVICE) ||
        memcmp(c.part[3], V4_SERVICE, c.len[3])) {
        s3_sig_set_error(err, code, 400,
                         "%s; incorrect service \"%.*s\". This endpoint "
                         "belongs to \"%s\".",
                         what, (int)c.len[3], c.part[3], V4_SERVICE);
        return -EINVAL;
    }
    if (c.len[4] != strlen(V4_TERMINAL) ||
        memcmp(c.part[4], V4_TERMINAL, c.len[4])) {
        s3_sig_set_error(err, code, 400,
                         "%s; incorrect terminal \"%.*s\". This endpoint "
                         "uses \"%s\".",
                         what, (int)c.len[4], c.part[4], V4_TERMINAL);
        return -EINVAL;
    }
    snprintf(out->scope, sizeof(out->scope), "%s/%s/%s/%s", date8, out->region,
             V4_SERVICE, V4_TERMINAL);
    return 0;
}

/* SignedHeaders: names separated by ';', none empty, token characters. */
static bool valid_signed_headers(const char *s)
{
    const char *p = s;

    if (!*s)
        return false;
    for (;;) {
        size_t n = strspn(p, "abcdefghijklmnopqrstuvwxyz"
                             "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                             "!#$%&'*+-.^_`|~");

        if (n == 0)
            return false;
        p += n;
        if (*p == '\0')
            return true;
        if (*p != ';')
            return false;
        p++;
    }
}

static bool is_signed(const char *signed_headers, const char *name)
{
    const char *p = signed_headers;
    size_t n = strlen(name);

    while (*p) {
        size_t len = strcspn(p, ";");

        if (len == n && !strncasecmp(p, name, n))
            return true;
        p += len;
        if (*p)
            p++;
    }
    return false;
}

static int unsigned_amz_header(const char *name, const char *value, void *fa)
{
    static const char *const must_sign[] = {"x-amz-copy", "x-amz-acl",
                                            "x-amz-grant", "x-amz-meta"};
    const char *signed_headers = fa;
    size_t i;

    (void)value;
    for (i = 0; i < sizeof(must_sign) / sizeof(must_sign[0]); i++)
        if (!strncasecmp(name, must_sign[i], strlen(must_sign[i])) &&
            !is_signed(signed_headers, name))
            return 1;
    return 0;
}

/* Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=...,
 * Signature=... (components in any order, each once). */
static int parse_v4_header(const struct s3_sig_conf *conf,
                           const struct s3_sig_request *r, const char *auth,
                           struct s3_sig *out, struct s3_sig_error *err)
{
    const char *p = auth + strlen(V4_ALGORITHM);
    const char *cred = NULL, *sh = NULL, *sig = NULL;
    size_t cred_len = 0, sh_len = 0, sig_len = 0;
    const char *xdate, *date;
    int rc;

    while (*p) {
        const char *end, *eq, *name;
        size_t nlen, vlen;

        p += strspn(p, " \t,");
        if (!*p)
            break;
        end = p + strcspn(p, ",");
        eq = memchr(p, '=', (size_t)(end - p));
        if (!eq)
            return fail(err, "AuthorizationHeaderMalformed", 400,
                        MSG_HEADER_MALFORMED);
        name = p;
        nlen = (size_t)(eq - p);
        vlen = (size_t)(end - eq - 1);
        while (vlen && (eq[vlen] == ' ' || eq[vlen] == '\t'))
            vlen--;
#define COMPONENT(str, var, len)                                               \
    if (nlen == strlen(str) && !memcmp(name, str, nlen)) {                     \
        if (var)                                                               \
            return fail(err, "AuthorizationHeaderMalformed", 400,              \
                        MSG_HEADER_MALFORMED);                                 \
        var = eq + 1;                                                          \
        len = vlen;                                                            \
    } else
        COMPONENT("Credential", cred, cred_len)
        COMPONENT("SignedHeaders", sh, sh_len)
        COMPONENT("Signature", sig, sig_len)
        return fail(err, "AuthorizationHeaderMalformed", 400,
                    MSG_HEADER_MALFORMED);
#undef COMPONENT
        p = end;
    }
    if (!cred || !sh || !sig || !sig_len)
        return fail(err, "AuthorizationHeaderMalformed", 400,
                    MSG_HEADER_MALFORMED);
    if (!copy_field(out->signed_headers, sizeof(out->signed_headers), sh,
                    sh_len) ||
        !valid_signed_headers(out->signed_headers) ||
        !copy_field(out->signature, sizeof(out->signature), sig, sig_len))
        return fail(err, "AuthorizationHeaderMalformed", 400,
                    MSG_HEADER_MALFORMED);

    /* the date: X-Amz-Date, else Date */
    xdate = r->header(r->arg, "X-Amz-Date");
    date = r->header(r->arg, "Date");
    if (xdate && *xdate)
        rc = parse_amz_date(xdate, &out->date);
    else if (date && *date)
        rc = parse_http_date(date, &out->date);
    else
        rc = -EINVAL;
    if (rc || out->date < 0)
        return fail(err, "AccessDenied", 403, MSG_BAD_DATE);
    format_amz_date(out->date, out->amz_date);
    if (!out->amz_date[0])
        return fail(err, "AccessDenied", 403, MSG_BAD_DATE);
    rc = check_skew(conf, out->date, r->now, err);
    if (rc)
        return rc;
    return check_credential(conf, cred, cred_len, false, out, err);
}

static int parse_expires(const char *s, int64_t *out)
{
    int64_t v = 0;
    const char *p = s;

    if (*p == '-' && p[1])
        p++;
    if (!*p)
        return -EINVAL;
    for (; *p; p++) {
        if (*p < '0' || *p > '9')
            return -EINVAL;
        if (v > (INT64_MAX - 9) / 10)
            return -ERANGE;
        v = v * 10 + (*p - '0');
    }
    *out = *s == '-' ? -v : v;
    return 0;
}

/* ?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=...&X-Amz-Date=
 * &X-Amz-Expires=&X-Amz-SignedHeaders=&X-Amz-Signature= */
static int parse_v4_query(const struct s3_sig_conf *conf,
                          const struct s3_sig_request *r, struct s3_sig *out,
                          struct s3_sig_error *err)
{
    static const char *const names[] = {
        "X-Amz-Algorithm", "X-Amz-Credential",    "X-Amz-Date",
        "X-Amz-Expires",   "X-Amz-SignedHeaders", "X-Amz-Signature"};
    char val[6][S3_SIG_SIGNED_HEADERS_MAX + 1];
    const char *q = r->raw_query;
    size_t i;
    int rc;

    for (i = 0; i < 6; i++) {
        switch (query_get(q, names[i], val[i], sizeof(val[i]))) {
        case Q_FOUND: break;
        case Q_ABSENT:
            if (i == 0) /* as Swift: the algorithm is an argument */
                return invalid_argument(err, names[0], "", "Invalid Argument.");
            return fail(err, "AuthorizationQueryParametersError", 400,
                        MSG_QUERY_MISSING);
        case Q_DUP:
        case Q_BAD:
            s3_sig_set_error(err, "AuthorizationQueryParametersError", 400,
                             "Error parsing the %s parameter.", names[i]);
            return -EINVAL;
        }
    }
    if (strcmp(val[0], V4_ALGORITHM))
        return invalid_argument(err, names[0], val[0], "Invalid Argument.");
    if (parse_amz_date(val[2], &out->date))
        return fail(err, "AccessDenied", 403, MSG_BAD_DATE);
    format_amz_date(out->date, out->amz_date);
    rc = parse_expires(val[3], &out->expires);
    if (rc)
        return fail(err, "AuthorizationQueryParametersError", 400,
                    "X-Amz-Expires should be a number");
    if (out->expires < 0)
        return fail(err, "AuthorizationQueryParametersError", 400,
                    "X-Amz-Expires must be non-negative");
    if (out->expires > S3_SIG_MAX_EXPIRES)
        return fail(err, "AuthorizationQueryParametersError", 400,
                    "X-Amz-Expires must be less than a week (in seconds); "
                    "that is, the given X-Amz-Expires must be less than "
                    "604800 seconds");
    if (out->date + out->expires < r->now)
        return fail(err, "AccessDenied", 403, "Request has expired");
    /* Swift takes any date; a URL dated in the future would outlive its
     * X-Amz-Expires, so allow only the clock skew (as AWS) */
    if (out->date > r->now + skew_of(conf))
        return fail(err, "AccessDenied", 403, "Request is not valid yet");
    if (!valid_signed_headers(val[4]) || !val[5][0] ||
        !copy_field(out->signed_headers, sizeof(out->signed_headers), val[4],
                    strlen(val[4])) ||
        !copy_field(out->signature, sizeof(out->signature), val[5],
                    strlen(val[5])))
        return fail(err, "AuthorizationQueryParametersError", 400,
                    MSG_QUERY_MISSING);
    return check_credential(conf, val[1], strlen(val[1]), true, out, err);
}

/* ---- V2 ---- */

/* Authorization: AWS <access key>:<signature>; the key may hold ':'. */
static int parse_v2_header(const struct s3_sig_conf *conf,
                           const struct s3_sig_request *r, const char *auth,
                           struct s3_sig *out, struct s3_sig_error *err)
{
    const char *cred = auth + 4, *colon = strrchr(cred, ':');
    const char *xdate, *date;

    if (!colon || colon == cred || !colon[1] ||
        !copy_field(out->access_key, sizeof(out->access_key), cred,
                    (size_t)(colon - cred)) ||
        !copy_field(out->signature, sizeof(out->signature), colon + 1,
                    strlen(colon + 1)))
        return fail(err, "AccessDenied", 403, MSG_ACCESS_DENIED);
    xdate = r->header(r->arg, "X-Amz-Date");
    date = r->header(r->arg, "Date");
    if (!(xdate && *xdate) && !(date && *date))
        return fail(err, "AccessDenied", 403, MSG_BAD_DATE);
    if (parse_http_date(xdate && *xdate ? xdate : date, &out->date))
        return fail(err, "AccessDenied", 403, MSG_BAD_DATE);
    return check_skew(conf, out->date, r->now, err);
}

/* ?AWSAccessKeyId=&Expires=&Signature= (Expires: Unix seconds) */
static int parse_v2_query(const struct s3_sig_request *r, struct s3_sig *out,
                          struct s3_sig_error *err)
{
    char expires[32];
    const char *dot;
    int64_t ex;

    if (query_get(r->raw_query, "AWSAccessKeyId", out->access_key,
                  sizeof(out->access_key)) != Q_FOUND ||
        query_get(r->raw_query, "Signature", out->signature,
                  sizeof(out->signature)) != Q_FOUND ||
        query_get(r->raw_query, "Expires", expires, sizeof(expires)) !=
            Q_FOUND ||
        !out->access_key[0] || !out->signature[0] || !expires[0])
        return fail(err, "AccessDenied", 403, MSG_ACCESS_DENIED);
    /* a float in Swift: keep the whole seconds, check the fraction */
    dot = strchr(expires, '.');
    if (dot &&
        (dot[1] == '\0' || strspn(dot + 1, "0123456789") != strlen(dot + 1))) {
        return fail(err, "AccessDenied", 403, MSG_ACCESS_DENIED);
    } else {
        char whole[32];

        snprintf(whole, sizeof(whole), "%.*s",
                 (int)(dot ? (size_t)(dot - expires) : strlen(expires)),
                 expires);
        if (parse_expires(whole, &ex))
            return fail(err, "AccessDenied", 403, MSG_ACCESS_DENIED);
    }
    if (r->now > ex)
        return fail(err, "AccessDenied", 403, "Request has expired");
    if (ex >= (int64_t)1 << 31) {
        s3_sig_set_error(err, "AccessDenied", 403,
                         "Invalid date (should be seconds since epoch): %s",
                         expires);
        return -EINVAL;
    }
    out->expires = ex;
    return 0;
}

/* ---- x-amz-content-sha256 ---- */

static int parse_payload(const struct s3_sig_request *r, struct s3_sig *out,
                         struct s3_sig_error *err)
{
    static const char *const streams[] = {
        "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
        "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD",
        "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER"};
    const char *v = r->header(r->arg, "x-amz-content-sha256");
    const char *dl;
    size_t i;

    out->decoded_length = -1;
    if (!v) {
        out->payload = S3_PAYLOAD_NONE;
        if (out->kind == S3_SIG_V4_HEADER)
            return fail(err, "InvalidRequest", 400,
                        "Missing required header for this request: "
                        "x-amz-content-sha256");
        return 0;
    }
    if (!strcmp(v, "UNSIGNED-PAYLOAD")) {
        out->payload = S3_PAYLOAD_UNSIGNED;
        return 0;
    }
    if (is_hex_string(v, S3_SIG_SHA256_HEX)) {
        out->payload = S3_PAYLOAD_SIGNED;
        for (i = 0; i < S3_SIG_SHA256_HEX; i++)
            out->payload_sha256[i] =
                v[i] >= 'A' && v[i] <= 'F' ? v[i] - 'A' + 'a' : v[i];
        out->payload_sha256[S3_SIG_SHA256_HEX] = '\0';
        return 0;
    }
    for (i = 0; i < sizeof(streams) / sizeof(streams[0]); i++)
        if (!strcmp(v, streams[i])) {
            s3_sig_set_error(err, "NotImplemented", 501,
                             "Don't know how to validate %s streams", v);
            return -EINVAL;
        }
    if (strcmp(v, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"))
        return invalid_argument(err, "x-amz-content-sha256", v,
                                "x-amz-content-sha256 must be "
                                "UNSIGNED-PAYLOAD, "
                                "STREAMING-AWS4-HMAC-SHA256-PAYLOAD or a "
                                "valid sha256 value.");
    /* chunk signatures chain from a header signature */
    if (out->kind != S3_SIG_V4_HEADER)
        return fail(err, "NotImplemented", 501,
                    "Transferring payloads in multiple chunks using "
                    "aws-chunked is not supported with this authentication "
                    "method.");
    out->payload = S3_PAYLOAD_STREAMING;
    dl = r->header(r->arg, "x-amz-decoded-content-length");
    if (!dl || parse_expires(dl, &out->decoded_length))
        return fail(err, "MissingContentLength", 411,
                    "You must provide the Content-Length HTTP header.");
    if (out->decoded_length < 0)
        return invalid_argument(err, "x-amz-decoded-content-length", dl,
                                "Invalid Argument.");
    return 0;
}

int s3_sig_parse(const struct s3_sig_conf *conf, const struct s3_sig_request *r,
                 struct s3_sig *out, struct s3_sig_error *err)
{
    const char *auth = r->header(r->arg, "Authorization");
    const char *q = r->raw_query ? r->raw_query : "";
    bool v4q = query_has(q, "X-Amz-Credential");
    bool v2q = !v4q && query_has(q, "AWSAccessKeyId");
    int rc;

    memset(out, 0, sizeof(*out));
    memset(err, 0, sizeof(*err));
    out->decoded_length = -1;
    if (!auth && !v4q && !v2q)
        return 0;
    if (auth && (v4q || v2q))
        return invalid_argument(
            err, "Authorization", auth,
            "Only one auth mechanism allowed; only the X-Amz-Algorithm "
            "query parameter, Signature query string parameter or the "
            "Authorization header should be specified");
    if (v4q) {
        out->kind = S3_SIG_V4_QUERY;
        rc = parse_v4_query(conf, r, out, err);
    } else if (v2q) {
        out->kind = S3_SIG_V2_QUERY;
        rc = parse_v2_query(r, out, err);
    } else if (!strncmp(auth, V4_ALGORITHM " ", strlen(V4_ALGORITHM) + 1)) {
        out->kind = S3_SIG_V4_HEADER;
        rc = parse_v4_header(conf, r, auth, out, err);
    } else if (!strncmp(auth, "AWS ", 4)) {
        out->kind = S3_SIG_V2_HEADER;
        rc = parse_v2_header(conf, r, auth, out, err);
    } else {
        rc = fail(err, "AccessDenied", 403, MSG_ACCESS_DENIED);
    }
    if (!rc &&
        (out->kind == S3_SIG_V4_HEADER || out->kind == S3_SIG_V4_QUERY) &&
        r->foreach_header(r->arg, unsigned_amz_header, out->signed_headers))
        rc = fail(err, "AccessDenied", 403,
                  "There were headers present in the request which were "
                  "not signed");
    if (!rc)
        rc = parse_payload(r, out, err);
    if (rc) {
        enum s3_sig_kind kind = out->kind;

        memset(out, 0, sizeof(*out));
        out->kind = kind;
        out->decoded_length = -1;
        return rc;
    }
    return 1;
}

/* ---- canonical request (V4) ---- */

static void put_encoded(struct sbuf *sb, const char *s, size_t n)
{
    static const char digits[] = "0123456789ABCDEF";
    size_t i;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
            (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
            c == '~') {
            sb_putc(sb, (char)c);
        } else {
            char e[3] = {'%', digits[c >> 4], digits[c & 15]};

            sb_add(sb, e, 3);
        }
    }
}

struct qpair {
    char *name, *value; /* encoded */
};

static int qpair_cmp(const void *a, const void *b)
{
    const struct qpair *x = a, *y = b;
    int c = strcmp(x->name, y->name);

    return c ? c : strcmp(x->value, y->value);
}

/* name=value&... encoded, sorted by name then value, X-Amz-Signature
 * left out. */
static int canonical_query(const char *q, struct sbuf *out)
{
    struct qparam *qp;
    struct qpair *pairs = NULL;
    size_t n, i, k = 0;
    int rc;

    rc = qparams_split(q, &qp, &n);
    if (rc)
        return rc;
    pairs = calloc(n ? n : 1, sizeof(*pairs));
    if (!pairs)
        goto nomem;
    for (i = 0; i < n; i++) {
        struct sbuf a = {0}, b = {0};

        if (qp[i].nlen == 15 && !memcmp(qp[i].name, "X-Amz-Signature", 15))
            continue;
        put_encoded(&a, qp[i].name, qp[i].nlen);
        put_encoded(&b, qp[i].value, qp[i].vlen);
        sb_add(&a, "", 0); /* a string even when empty */
        sb_add(&b, "", 0);
        pairs[k].name = a.p;
        pairs[k++].value = b.p;
        if (!a.p || !b.p)
            goto nomem;
    }
    qsort(pairs, k, sizeof(*pairs), qpair_cmp);
    for (i = 0; i < k; i++) {
        if (i)
            sb_putc(out, '&');
        sb_puts(out, pairs[i].name);
        sb_putc(out, '=');
        sb_puts(out, pairs[i].value);
    }
    rc = out->oom ? -ENOMEM : 0;
    goto out;
nomem:
    rc = -ENOMEM;
out:
    for (i = 0; i < k; i++) {
        free(pairs[i].name);
        free(pairs[i].value);
    }
    free(pairs);
    qparams_free(qp, n);
    return rc;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
           c == '\f' || (c >= 0x1c && c <= 0x1f);
}

/* A header value as V4 signs it: control characters and blanks trimmed
 * at both ends, inner runs of blanks made one space. */
static void put_trimmed(struct sbuf *sb, const char *v)
{
    const char *end = v + strlen(v);
    bool blank = false;

    while (v < end && (unsigned char)*v <= 0x20)
        v++;
    while (end > v && (unsigned char)end[-1] <= 0x20)
        end--;
    for (; v < end; v++) {
        if (is_blank(*v)) {
            blank = true;
            continue;
        }
        if (blank)
            sb_putc(sb, ' ');
        blank = false;
        sb_putc(sb, *v);
    }
}

struct header_values {
    const char *name;
    size_t nlen;
    struct sbuf *sb;
    int found;
};

static int collect_value(const char *name, const char *value, void *fa)
{
    struct header_values *hv = fa;

    if (strlen(name) != hv->nlen || strncasecmp(name, hv->name, hv->nlen))
        return 0;
    if (hv->found++)
        sb_putc(hv->sb, ',');
    put_trimmed(hv->sb, value);
    return 0;
}

struct name {
    const char *p;
    size_t len;
};

static int name_cmp(const void *a, const void *b)
{
    const struct name *x = a, *y = b;
    size_t i;

    for (i = 0; i < x->len && i < y->len; i++) {
        int cx = x->p[i] >= 'A' && x->p[i] <= 'Z' ? x->p[i] + 32 : x->p[i];
        int cy = y->p[i] >= 'A' && y->p[i] <= 'Z' ? y->p[i] + 32 : y->p[i];

        if (cx != cy)
            return cx - cy;
    }
    return x->len < y->len ? -1 : x->len > y->len;
}

static void put_lower(struct sbuf *sb, const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        sb_putc(sb, s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
}

/* The canonical headers and the signed headers line, names sorted and
 * lowercased, each once. -EINVAL when a signed header is absent. */
static int canonical_headers(const struct s3_sig *sig,
                             const struct s3_sig_request *r, struct sbuf *out)
{
    struct name names[S3_SIG_SIGNED_HEADERS_MAX / 2 + 1];
    const char *p = sig->signed_headers;
    size_t n = 0, i;

    while (*p) {
        size_t len = strcspn(p, ";");

        if (len) {
            names[n].p = p;
            names[n++].len = len;
        }
        p += len;
        if (*p)
            p++;
    }
    qsort(names, n, sizeof(names[0]), name_cmp);
    for (i = 0; i < n; i++) {
        struct header_values hv = {names[i].p, names[i].len, out, 0};

        if (i && !name_cmp(&names[i - 1], &names[i]))
            continue;
        put_lower(out, names[i].p, names[i].len);
        sb_putc(out, ':');
        r->foreach_header(r->arg, collect_value, &hv);
        if (!hv.found)
            return -EINVAL;
        sb_putc(out, '\n');
    }
    sb_putc(out, '\n');
    for (i = 0; i < n; i++) {
        if (i && !name_cmp(&names[i - 1], &names[i]))
            continue;
        if (i)
            sb_putc(out, ';');
        put_lower(out, names[i].p, names[i].len);
    }
    return 0;
}

static int v4_canonical(const struct s3_sig *sig,
                        const struct s3_sig_request *r, struct sbuf *cr,
                        struct s3_sig_error *err)
{
    const char *payload = r->header(r->arg, "x-amz-content-sha256");
    int rc;

    sb_puts(cr, r->method);
    sb_putc(cr, '\n');
    sb_puts(cr, r->raw_path && *r->raw_path ? r->raw_path : "/");
    sb_putc(cr, '\n');
    rc = canonical_query(r->raw_query ? r->raw_query : "", cr);
    if (rc)
        return out_of_memory(err);
    sb_putc(cr, '\n');
    if (canonical_headers(sig, r, cr))
        /* AWS answers a signed header that is not there with this */
        return fail(err, "SignatureDoesNotMatch", 403, MSG_NO_MATCH);
    sb_putc(cr, '\n');
    sb_puts(cr, payload ? payload : "UNSIGNED-PAYLOAD");
    return cr->oom ? out_of_memory(err) : 0;
}

static int v4_string_to_sign(const struct s3_sig *sig, const struct sbuf *cr,
                             struct sbuf *sts)
{
    char h[65];

    if (sha256_hex(cr->p, cr->len, h))
        return -ENOMEM;
    sb_puts(sts, V4_ALGORITHM "\n");
    sb_puts(sts, sig->amz_date);
    sb_putc(sts, '\n');
    sb_puts(sts, sig->scope);
    sb_putc(sts, '\n');
    sb_puts(sts, h);
    return sts->oom ? -ENOMEM : 0;
}

/* The last signing key each request thread derived: a client signs with
 * one key a day, and deriving it is four HMACs. Per thread, so no lock;
 * the secret is the server's own copy of the user's key. */
struct key_cache {
    char date8[9];
    char region[S3_SIG_REGION_MAX + 1];
    char secret[128];
    unsigned char key[32];
    bool valid;
};
static __thread struct key_cache key_cache;

static int v4_signing_key(const struct s3_sig *sig, const char *secret,
                          unsigned char key[32])
{
    const char *steps[] = {NULL, sig->region, V4_SERVICE, V4_TERMINAL};
    struct key_cache *kc = &key_cache;
    char date8[9], *k0;
    size_t slen = strlen(secret), i;
    int rc;

    memcpy(date8, sig->amz_date, 8);
    date8[8] = '\0';
    if (kc->valid && !strcmp(kc->date8, date8) &&
        !strcmp(kc->region, sig->region) && !strcmp(kc->secret, secret)) {
        memcpy(key, kc->key, 32);
        return 0;
    }
    steps[0] = date8;
    k0 = malloc(slen + 5);
    if (!k0)
        return -ENOMEM;
    memcpy(k0, "AWS4", 4);
    memcpy(k0 + 4, secret, slen + 1);
    rc = hmac_sha256(k0, slen + 4, steps[0], strlen(steps[0]), key);
    OPENSSL_cleanse(k0, slen + 4);
    free(k0);
    for (i = 1; !rc && i < 4; i++)
        rc = hmac_sha256(key, 32, steps[i], strlen(steps[i]), key);
    kc->valid = !rc && slen < sizeof(kc->secret);
    if (kc->valid) {
        memcpy(kc->date8, date8, sizeof(date8));
        snprintf(kc->region, sizeof(kc->region), "%s", sig->region);
        memcpy(kc->secret, secret, slen + 1);
        memcpy(kc->key, key, 32);
    }
    return rc;
}

/* ---- string to sign (V2) ---- */

/* Swift 2.30's sub-resources, plus object-lock (later Swifts), in ASCII
 * order: the resource lists those present in this order. */
static const char *const sub_resources[] = {
    "acl",
    "cors",
    "delete",
    "lifecycle",
    "location",
    "logging",
    "notification",
    "object-lock",
    "partNumber",
    "policy",
    "requestPayment",
    "response-cache-control",
    "response-content-disposition",
    "response-content-encoding",
    "response-content-language",
    "response-content-type",
    "response-expires",
    "restore",
    "tagging",
    "torrent",
    "uploadId",
    "uploads",
    "versionId",
    "versioning",
    "versions",
    "website",
};

static const char *stripped(const char *v, size_t *len)
{
    const char *end;

    if (!v) {
        *len = 0;
        return "";
    }
    end = v + strlen(v);
    while (v < end && (unsigned char)*v <= 0x20)
        v++;
    while (end > v && (unsigned char)end[-1] <= 0x20)
        end--;
    *len = (size_t)(end - v);
    return v;
}

struct amz_header {
    const char *name, *value;
    size_t index;
};

struct amz_headers {
    struct amz_header *h;
    size_t n, cap;
    bool oom;
};

static int collect_amz(const char *name, const char *value, void *fa)
{
    struct amz_headers *ah = fa;

    if (strncasecmp(name, "x-amz-", 6))
        return 0;
    if (ah->n == ah->cap) {
        size_t cap = ah->cap ? ah->cap * 2 : 16;
        struct amz_header *h = realloc(ah->h, cap * sizeof(*h));

        if (!h) {
            ah->oom = true;
            return 1;
        }
        ah->h = h;
        ah->cap = cap;
    }
    ah->h[ah->n].name = name;
    ah->h[ah->n].value = value;
    ah->h[ah->n].index = ah->n;
    ah->n++;
    return 0;
}

static int amz_cmp(const void *a, const void *b)
{
    const struct amz_header *x = a, *y = b;
    struct name nx, ny;
    int c;

    nx.p = stripped(x->name, &nx.len);
    ny.p = stripped(y->name, &ny.len);
    c = name_cmp(&nx, &ny);
    if (c)
        return c;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* x-amz-* headers: "name:value" lines, names lowercased and sorted,
 * repeated headers joined by ',' in the order received. */
static int v2_amz_headers(const struct s3_sig_request *r, struct sbuf *sts,
                          bool *has_amz_date)
{
    struct amz_headers ah = {0};
    size_t i;

    *has_amz_date = false;
    r->foreach_header(r->arg, collect_amz, &ah);
    if (ah.oom) {
        free(ah.h);
        return -ENOMEM;
    }
    if (ah.n)
        qsort(ah.h, ah.n, sizeof(*ah.h), amz_cmp);
    for (i = 0; i < ah.n; i++) {
        struct name nm;
        const char *v;
        size_t vlen;

        nm.p = stripped(ah.h[i].name, &nm.len);
        v = stripped(ah.h[i].value, &vlen);
        if (nm.len == 10 && !strncasecmp(nm.p, "x-amz-date", 10))
            *has_amz_date = true;
        if (i) {
            struct name prev;

            prev.p = stripped(ah.h[i - 1].name, &prev.len);
            if (!name_cmp(&prev, &nm)) {
                sb_putc(sts, ',');
                sb_add(sts, v, vlen);
                continue;
            }
        }
        sb_putc(sts, '\n');
        put_lower(sts, nm.p, nm.len);
        sb_putc(sts, ':');
        sb_add(sts, v, vlen);
    }
    free(ah.h);
    return 0;
}

/* The resource: [/bucket]/path[?sub-resource[=value]&...] */
static int v2_resource(const struct s3_sig_request *r, struct sbuf *sts)
{
    struct qparam *qp;
    size_t n, i, j;
    bool first = true;
    int rc;

    if (r->bucket_in_host) {
        sb_putc(sts, '/');
        sb_puts(sts, r->bucket_in_host);
    }
    sb_puts(sts, r->raw_path ? r->raw_path : "");
    rc = qparams_split(r->raw_query ? r->raw_query : "", &qp, &n);
    if (rc)
        return rc;
    for (i = 0; i < sizeof(sub_resources) / sizeof(sub_resources[0]); i++) {
        const struct qparam *last = NULL;
        size_t len = strlen(sub_resources[i]);

        /* the last of a repeated parameter, as Swift's params dict */
        for (j = 0; j < n; j++)
            if (qp[j].nlen == len && !memcmp(qp[j].name, sub_resources[i], len))
                last = &qp[j];
        if (!last)
            continue;
        sb_putc(sts, first ? '?' : '&');
        first = false;
        sb_add(sts, last->name, last->nlen);
        if (last->vlen) {
            sb_putc(sts, '=');
            sb_add(sts, last->value, last->vlen);
        }
    }
    qparams_free(qp, n);
    return 0;
}

static int v2_string_to_sign(const struct s3_sig *sig,
                             const struct s3_sig_request *r, struct sbuf *sts)
{
    struct sbuf amz = {0};
    const char *v;
    size_t len;
    bool has_amz_date;
    int rc;

    sb_puts(sts, r->method);
    sb_putc(sts, '\n');
    v = stripped(r->header(r->arg, "Content-MD5"), &len);
    sb_add(sts, v, len);
    sb_putc(sts, '\n');
    v = stripped(r->header(r->arg, "Content-Type"), &len);
    sb_add(sts, v, len);
    rc = v2_amz_headers(r, &amz, &has_amz_date);
    if (rc)
        goto out;
    if (sig->kind == S3_SIG_V2_QUERY) {
        char expires[32];

        query_get(r->raw_query, "Expires", expires, sizeof(expires));
        sb_putc(sts, '\n');
        sb_puts(sts, expires);
    } else if (has_amz_date) {
        sb_putc(sts, '\n');
    } else if ((v = r->header(r->arg, "Date"))) {
        sb_putc(sts, '\n');
        sb_puts(sts, v);
    }
    if (amz.len)
        sb_add(sts, amz.p, amz.len);
    sb_putc(sts, '\n');
    rc = v2_resource(r, sts);
    if (!rc && (sts->oom || amz.oom))
        rc = -ENOMEM;
out:
    free(amz.p);
    return rc;
}

/* ---- verification ---- */

int s3_sig_canonical(const struct s3_sig *sig, const struct s3_sig_request *r,
                     char **canonical, char **string_to_sign,
                     struct s3_sig_error *err)
{
    struct sbuf cr = {0}, sts = {0};
    int rc;

    *canonical = *string_to_sign = NULL;
    memset(err, 0, sizeof(*err));
    if (sig->kind == S3_SIG_V2_HEADER || sig->kind == S3_SIG_V2_QUERY) {
        rc = v2_string_to_sign(sig, r, &sts);
        if (rc)
            rc = out_of_memory(err);
    } else if (sig->kind == S3_SIG_V4_HEADER || sig->kind == S3_SIG_V4_QUERY) {
        rc = v4_canonical(sig, r, &cr, err);
        if (!rc && v4_string_to_sign(sig, &cr, &sts))
            rc = out_of_memory(err);
    } else {
        rc = fail(err, "AccessDenied", 403, MSG_ACCESS_DENIED);
    }
    if (rc) {
        free(cr.p);
        free(sts.p);
        return rc;
    }
    *canonical = cr.p;
    *string_to_sign = sts.p ? sts.p : strdup("");
    if (!*string_to_sign) {
        free(cr.p);
        *canonical = NULL;
        return out_of_memory(err);
    }
    return 0;
}

static bool same_signature(const char *want, const char *got)
{
    size_t n = strlen(want);

    return strlen(got) == n && !CRYPTO_memcmp(want, got, n);
}

static int verify_v2(const struct s3_sig *sig, const char *secret,
                     const char *sts, struct s3_sig_error *err)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    char b64[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];

    if (!HMAC(EVP_sha1(), secret, (int)strlen(secret),
              (const unsigned char *)sts, strlen(sts), md, &mdlen))
        return out_of_memory(err);
    EVP_EncodeBlock((unsigned char *)b64, md, (int)mdlen);
    if (!same_signature(b64, sig->signature))
        return fail(err, "SignatureDoesNotMatch", 403, MSG_NO_MATCH);
    return 0;
}

static int verify_v4(const struct s3_sig *sig, const char *secret,
                     const char *sts, struct s3_sig_seed *seed,
                     struct s3_sig_error *err)
{
    unsigned char key[32], md[32];
    char want[65];
    int rc;

    if (v4_signing_key(sig, secret, key) ||
        hmac_sha256(key, 32, sts, strlen(sts), md)) {
        OPENSSL_cleanse(key, sizeof(key));
        return out_of_memory(err);
    }
    hex(md, 32, want);
    if (!same_signature(want, sig->signature)) {
        rc = fail(err, "SignatureDoesNotMatch", 403, MSG_NO_MATCH);
    } else {
        rc = 0;
        if (seed) {
            memcpy(seed->key, key, 32);
            memcpy(seed->amz_date, sig->amz_date, sizeof(seed->amz_date));
            memcpy(seed->scope, sig->scope, sizeof(seed->scope));
            memcpy(seed->signature, want, sizeof(seed->signature));
        }
    }
    OPENSSL_cleanse(key, sizeof(key));
    return rc;
}

int s3_sig_verify(const struct s3_sig *sig, const struct s3_sig_request *r,
                  const char *secret, struct s3_sig_seed *seed,
                  struct s3_sig_error *err)
{
    char *cr, *sts;
    int rc;

    if (seed)
        memset(seed, 0, sizeof(*seed));
    rc = s3_sig_canonical(sig, r, &cr, &sts, err);
    if (rc)
        return rc;
    if (sig->kind == S3_SIG_V2_HEADER || sig->kind == S3_SIG_V2_QUERY)
        rc = verify_v2(sig, secret, sts, err);
    else
        rc = verify_v4(sig, secret, sts, seed, err);
    free(cr);
    free(sts);
    return rc;
}

/* ---- x-amz-content-sha256 of a plain body ---- */

struct s3_sig_payload {
    EVP_MD_CTX *md;
    char expected[S3_SIG_SHA256_HEX + 1];
};

int s3_sig_payload_new(const char *expected_hex, struct s3_sig_payload **out)
{
    struct s3_sig_payload *p = calloc(1, sizeof(*p));

    *out = NULL;
    if (!p)
        return -ENOMEM;
    p->md = EVP_MD_CTX_new();
    if (!p->md || !EVP_DigestInit_ex(p->md, s3_sig_sha256(), NULL)) {
        s3_sig_payload_free(p);
        return -ENOMEM;
    }
    snprintf(p->expected, sizeof(p->expected), "%s", expected_hex);
    *out = p;
    return 0;
}

void s3_sig_payload_update(struct s3_sig_payload *p, const void *data,
                           size_t len)
{
    EVP_DigestUpdate(p->md, data, len);
}

int s3_sig_payload_finish(struct s3_sig_payload *p, struct s3_sig_error *err)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    char got[65];

    if (!EVP_DigestFinal_ex(p->md, md, &mdlen))
        return out_of_memory(err);
    hex(md, 32, got);
    if (strcasecmp(got, p->expected)) {
        s3_sig_set_error(err, "XAmzContentSHA256Mismatch", 400,
                         "The provided 'x-amz-content-sha256' header does "
                         "not match what was computed.");
        return -EINVAL;
    }
    return 0;
}

void s3_sig_payload_free(struct s3_sig_payload *p)
{
    if (!p)
        return;
    EVP_MD_CTX_free(p->md);
    free(p);
}
