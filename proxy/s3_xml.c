/*
 * s3_xml.c - S3's XML: the document writer (a growable buffer with a
 * stack of open elements), the table of S3 error codes with the error
 * document, and the request-body parsers.
 *
 * The parsers run expat in namespace mode over the whole body at once and
 * check it against a small table of rules per document (which element
 * may sit in which, how often, which ones hold text) as the elements go
 * by, the way s3api's RelaxNG schemas check its lxml tree; nothing but
 * the results is kept, so memory is bounded by what the caller allows.
 * Two kinds of failure keep s3api's precedence: a document that breaks
 * the rules stops the parse at once (MalformedXML, which s3api raises
 * before looking at any value), while an error in a value (an empty Key,
 * parts out of order) is noted at its first occurrence and the rest of
 * the document is still checked. What the values mean for the store
 * (does the part exist, is the key too long for Swift) is the caller's.
 */
#include "proxy/s3_xml.h"

#include <errno.h>
#include <expat.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the writer ---- */

static int grow(struct s3_xml *x, size_t more)
{
    size_t cap = x->cap ? x->cap : 256;
    char *p;

    if (x->len + more + 1 <= x->cap)
        return 0;
    while (cap < x->len + more + 1) {
        if (cap > SIZE_MAX / 2)
            return x->err = -ENOMEM;
        cap *= 2;
    }
    p = realloc(x->data, cap);
    if (!p)
        return x->err = -ENOMEM;
    x->data = p;
    x->cap = cap;
    return 0;
}

static int put(struct s3_xml *x, const char *s, size_t n)
{
    if (x->err || grow(x, n))
        return x->err;
    memcpy(x->data + x->len, s, n);
    x->len += n;
    x->data[x->len] = '\0';
    return 0;
}

static int puts_(struct s3_xml *x, const char *s)
{
    return put(x, s, strlen(s));
}

void s3_xml_release(struct s3_xml *x)
{
    free(x->data);
    memset(x, 0, sizeof(*x));
}

int s3_xml_declaration(struct s3_xml *x)
{
    return puts_(x, S3_XML_DECLARATION);
}

int s3_xml_open(struct s3_xml *x, const char *name)
{
    if (x->err)
        return x->err;
    if (x->depth == S3_XML_MAX_DEPTH)
        return x->err = -EINVAL;
    x->open[x->depth++] = name;
    puts_(x, "<");
    puts_(x, name);
    return puts_(x, ">");
}

int s3_xml_root(struct s3_xml *x, const char *name)
{
    if (x->err)
        return x->err;
    if (x->depth == S3_XML_MAX_DEPTH)
        return x->err = -EINVAL;
    x->open[x->depth++] = name;
    puts_(x, "<");
    puts_(x, name);
    return puts_(x, " xmlns=\"" S3_XML_NS "\">");
}

int s3_xml_close(struct s3_xml *x)
{
    if (x->err)
        return x->err;
    if (!x->depth)
        return x->err = -EINVAL;
    puts_(x, "</");
    puts_(x, x->open[--x->depth]);
    return puts_(x, ">");
}

/* The code point of the UTF-8 sequence at 's' (*n set to its length), or
 * -1 for a sequence that is not valid UTF-8: overlong, a surrogate, above
 * U+10FFFF or cut short. */
static long utf8_next(const unsigned char *s, size_t *n)
{
    long cp;
    size_t len, i;

    if (s[0] < 0x80) {
        *n = 1;
        return s[0];
    }
    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        len = 2;
        cp = s[0] & 0x1f;
    } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        len = 3;
        cp = s[0] & 0x0f;
    } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        len = 4;
        cp = s[0] & 0x07;
    } else {
        return -1;
    }
    for (i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) /* also stops at the NUL */
            return -1;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
        return -1;
    *n = len;
    return cp;
}

bool s3_xml_utf8_valid(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n;

    while (*p) {
        if (utf8_next(p, &n) < 0)
            return false;
        p += n;
    }
    return true;
}

/* Whether XML 1.0 can hold the character as it is (its Char production;
 * CR can, but a parser turns it into LF). */
static bool xml_char(long cp)
{
    if (cp < 0x20)
        return cp == '\t' || cp == '\n';
    return cp != 0xfffe && cp != 0xffff;
}

static int escape(struct s3_xml *x, const char *text)
{
    const unsigned char *p = (const unsigned char *)text;
    const unsigned char *run = p; /* bytes to copy as they are */
    char ref[24];
    size_t n;

    while (*p) {
        const char *rep = NULL;
        long cp = utf8_next(p, &n);

        if (cp < 0) {
            if (!x->err)
                x->err = -EILSEQ;
            return x->err;
        }
        switch (cp) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&apos;"; break;
        case '\r': rep = "&#13;"; break;
        default:
            if (!xml_char(cp)) {
                snprintf(ref, sizeof(ref), "&#x%lX;", cp);
                rep = ref;
            }
        }
        if (rep) {
            put(x, (const char *)run, (size_t)(p - run));
            puts_(x, rep);
            run = p + n;
        }
        p += n;
    }
    return put(x, (const char *)run, (size_t)(p - run));
}

int s3_xml_elem(struct s3_xml *x, const char *name, const char *text)
{
    if (s3_xml_open(x, name))
        return x->err;
    if (text && escape(x, text))
        return x->err;
    return s3_xml_close(x);
}

int s3_xml_grantee(struct s3_xml *x, const char *id)
{
    if (x->err)
        return x->err;
    if (x->depth == S3_XML_MAX_DEPTH)
        return x->err = -EINVAL;
    x->open[x->depth++] = "Grantee";
    puts_(x, "<Grantee xmlns:xsi=\"" S3_XML_XSI_NS
             "\" xsi:type=\"CanonicalUser\">");
    s3_xml_elem(x, "ID", id);
    s3_xml_elem(x, "DisplayName", id);
    return s3_xml_close(x);
}

int s3_xml_grantee_group(struct s3_xml *x, const char *uri)
{
    if (x->err)
        return x->err;
    if (x->depth == S3_XML_MAX_DEPTH)
        return x->err = -EINVAL;
    x->open[x->depth++] = "Grantee";
    puts_(x, "<Grantee xmlns:xsi=\"" S3_XML_XSI_NS "\" xsi:type=\"Group\">");
    s3_xml_elem(x, "URI", uri);
    return s3_xml_close(x);
}

int s3_xml_elemf(struct s3_xml *x, const char *name, const char *fmt, ...)
{
    va_list ap;
    char *text;
    int n;

    if (x->err)
        return x->err;
    va_start(ap, fmt);
    n = vasprintf(&text, fmt, ap);
    va_end(ap);
    if (n < 0)
        return x->err = -ENOMEM;
    s3_xml_elem(x, name, text);
    free(text);
    return x->err;
}

int s3_xml_elem_url(struct s3_xml *x, const char *name, const char *text)
{
    char *enc;

    if (x->err)
        return x->err;
    enc = s3_xml_url_encode(text ? text : "");
    if (!enc)
        return x->err = -ENOMEM;
    s3_xml_elem(x, name, enc);
    free(enc);
    return x->err;
}

int s3_xml_finish(struct s3_xml *x, char **out, size_t *len)
{
    int err;

    while (!x->err && x->depth)
        s3_xml_close(x);
    if (!x->err && !x->data)
        put(x, "", 0); /* an empty document is "" */
    err = x->err;
    if (err) {
        s3_xml_release(x);
        *out = NULL;
        *len = 0;
        return err;
    }
    *out = x->data;
    *len = x->len;
    memset(x, 0, sizeof(*x));
    return 0;
}

char *s3_xml_url_encode(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(s);
    char *out, *o;

    if (n > (SIZE_MAX - 1) / 3)
        return NULL;
    out = o = malloc(3 * n + 1);
    if (!out)
        return NULL;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned char c = *p;

        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
            c == '~' || c == '/') {
            *o++ = (char)c;
        } else {
            *o++ = '%';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        }
    }
    *o = '\0';
    return out;
}

/* ---- errors ---- */

struct err_row {
    const char *code;
    unsigned int status;
    const char *message;
};

static const struct err_row err_table[S3_ERR_COUNT] = {
    [S3_OK] = {"InternalError", 500,
               "We encountered an internal error. Please try again."},
    [S3_ERR_ACCESS_DENIED] = {"AccessDenied", 403, "Access Denied."},
    [S3_ERR_ACCESS_FORBIDDEN] = {"AccessForbidden", 403,
                                 "CORSResponse: This CORS request is not "
                                 "allowed."},
    [S3_ERR_ACCOUNT_PROBLEM] =
        {"AccountProblem", 403,
         "There is a problem with your AWS account that prevents the "
         "operation from completing successfully."},
    [S3_ERR_AUTHORIZATION_HEADER_MALFORMED] =
        {"AuthorizationHeaderMalformed", 400,
         "The authorization header is malformed; the authorization header "
         "requires three components: Credential, SignedHeaders, and "
         "Signature."},
    [S3_ERR_AUTHORIZATION_QUERY_PARAMETERS_ERROR] =
        {"AuthorizationQueryParametersError", 400,
         "Query-string authentication version 4 requires the "
         "X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, "
         "X-Amz-SignedHeaders, and X-Amz-Expires parameters."},
    [S3_ERR_BAD_DIGEST] = {"BadDigest", 400,
                           "The Content-MD5 you specified did not match "
                           "what we received."},
    [S3_ERR_BAD_REQUEST] = {"BadRequest", 400, "Bad Request"},
    [S3_ERR_BUCKET_ALREADY_EXISTS] =
        {"BucketAlreadyExists", 409,
         "The requested bucket name is not available. The bucket namespace "
         "is shared by all users of the system. Please select a different "
         "name and try again."},
    [S3_ERR_BUCKET_ALREADY_OWNED_BY_YOU] =
        {"BucketAlreadyOwnedByYou", 409,
         "Your previous request to create the named bucket succeeded and "
         "you already own it."},
    [S3_ERR_BUCKET_NOT_EMPTY] = {"BucketNotEmpty", 409,
                                 "The bucket you tried to delete is not "
                                 "empty"},
    [S3_ERR_ENTITY_TOO_LARGE] = {"EntityTooLarge", 400,
                                 "Your proposed upload exceeds the maximum "
                                 "allowed object size."},
    [S3_ERR_ENTITY_TOO_SMALL] = {"EntityTooSmall", 400,
                                 "Your proposed upload is smaller than the "
                                 "minimum allowed object size."},
    [S3_ERR_EXPIRED_TOKEN] = {"ExpiredToken", 400,
                              "The provided token has expired."},
    [S3_ERR_ILLEGAL_VERSIONING_CONFIGURATION] =
        {"IllegalVersioningConfigurationException", 400,
         "The Versioning configuration specified in the request is "
         "invalid."},
    [S3_ERR_INCOMPLETE_BODY] = {"IncompleteBody", 400,
                                "You did not provide the number of bytes "
                                "specified by the Content-Length HTTP "
                                "header."},
    [S3_ERR_INTERNAL_ERROR] = {"InternalError", 500,
                               "We encountered an internal error. Please "
                               "try again."},
    [S3_ERR_INVALID_ACCESS_KEY_ID] = {"InvalidAccessKeyId", 403,
                                      "The AWS Access Key Id you provided "
                                      "does not exist in our records."},
    [S3_ERR_INVALID_ARGUMENT] = {"InvalidArgument", 400, "Invalid Argument."},
    [S3_ERR_INVALID_BUCKET_NAME] = {"InvalidBucketName", 400,
                                    "The specified bucket is not valid."},
    [S3_ERR_INVALID_BUCKET_STATE] = {"InvalidBucketState", 409,
                                     "The request is not valid with the "
                                     "current state of the bucket."},
    [S3_ERR_INVALID_CHUNK_SIZE] = {"InvalidChunkSizeError", 403,
                                   "Only the last chunk is allowed to have "
                                   "a size less than 8192 bytes"},
    [S3_ERR_INVALID_DIGEST] = {"InvalidDigest", 400,
                               "The Content-MD5 you specified is not "
                               "valid."},
    [S3_ERR_INVALID_LOCATION_CONSTRAINT] = {"InvalidLocationConstraint", 400,
                                            "The specified location "
                                            "constraint is not valid."},
    [S3_ERR_INVALID_OBJECT_STATE] = {"InvalidObjectState", 403,
                                     "The operation is not valid for the "
                                     "current state of the object."},
    [S3_ERR_INVALID_PART] =
        {"InvalidPart", 400,
         "One or more of the specified parts could not be found. The part "
         "might not have been uploaded, or the specified entity tag might "
         "not have matched the part's entity tag."},
    [S3_ERR_INVALID_PART_ORDER] = {"InvalidPartOrder", 400,
                                   "The list of parts was not in ascending "
                                   "order. Parts list must be specified in "
                                   "order by part number."},
    [S3_ERR_INVALID_RANGE] = {"InvalidRange", 416,
                              "The requested range cannot be satisfied."},
    [S3_ERR_INVALID_REQUEST] = {"InvalidRequest", 400, "Invalid Request."},
    [S3_ERR_INVALID_STORAGE_CLASS] = {"InvalidStorageClass", 400,
                                      "The storage class you specified is "
                                      "not valid."},
    [S3_ERR_INVALID_TAG] = {"InvalidTag", 400,
                            "The tag provided was not a valid tag."},
    [S3_ERR_INVALID_TOKEN] = {"InvalidToken", 400,
                              "The provided token is malformed or "
                              "otherwise invalid."},
    [S3_ERR_INVALID_URI] = {"InvalidURI", 400,
                            "Couldn't parse the specified URI."},
    [S3_ERR_KEY_TOO_LONG] = {"KeyTooLongError", 400, "Your key is too long."},
    [S3_ERR_MALFORMED_ACL] = {"MalformedACLError", 400,
                              "The XML you provided was not well-formed or "
                              "did not validate against our published "
                              "schema."},
    [S3_ERR_MALFORMED_XML] = {"MalformedXML", 400,
                              "The XML you provided was not well-formed or "
                              "did not validate against our published "
                              "schema"},
    [S3_ERR_MAX_MESSAGE_LENGTH_EXCEEDED] = {"MaxMessageLengthExceeded", 400,
                                            "Your request was too big."},
    [S3_ERR_METADATA_TOO_LARGE] = {"MetadataTooLarge", 400,
                                   "Your metadata headers exceed the "
                                   "maximum allowed metadata size."},
    [S3_ERR_METHOD_NOT_ALLOWED] = {"MethodNotAllowed", 405,
                                   "The specified method is not allowed "
                                   "against this resource."},
    [S3_ERR_MISSING_CONTENT_LENGTH] = {"MissingContentLength", 411,
                                       "You must provide the Content-Length "
                                       "HTTP header."},
    [S3_ERR_MISSING_REQUEST_BODY] = {"MissingRequestBodyError", 400,
                                     "Request body is empty."},
    [S3_ERR_MISSING_SECURITY_HEADER] = {"MissingSecurityHeader", 400,
                                        "Your request was missing a "
                                        "required header."},
    [S3_ERR_NO_SUCH_BUCKET] = {"NoSuchBucket", 404,
                               "The specified bucket does not exist."},
    [S3_ERR_NO_SUCH_BUCKET_POLICY] = {"NoSuchBucketPolicy", 404,
                                      "The specified bucket does not have a "
                                      "bucket policy."},
    [S3_ERR_NO_SUCH_CORS_CONFIGURATION] = {"NoSuchCORSConfiguration", 404,
                                           "The CORS configuration does not "
                                           "exist"},
    [S3_ERR_NO_SUCH_KEY] = {"NoSuchKey", 404,
                            "The specified key does not exist."},
    [S3_ERR_NO_SUCH_LIFECYCLE_CONFIGURATION] =
        {"NoSuchLifecycleConfiguration", 404,
         "The lifecycle configuration does not exist."},
    [S3_ERR_NO_SUCH_TAG_SET] = {"NoSuchTagSet", 404,
                                "The TagSet does not exist"},
    [S3_ERR_NO_SUCH_UPLOAD] = {"NoSuchUpload", 404,
                               "The specified multipart upload does not "
                               "exist. The upload ID might be invalid, or "
                               "the multipart upload might have been "
                               "aborted or completed."},
    [S3_ERR_NO_SUCH_VERSION] = {"NoSuchVersion", 404,
                                "The specified version does not exist."},
    [S3_ERR_NOT_IMPLEMENTED] = {"NotImplemented", 501, "Not implemented."},
    [S3_ERR_NOT_MODIFIED] = {"NotModified", 304, "Not Modified"},
    [S3_ERR_OPERATION_ABORTED] = {"OperationAborted", 409,
                                  "A conflicting conditional operation is "
                                  "currently in progress against this "
                                  "resource. Please try again."},
    [S3_ERR_PRECONDITION_FAILED] = {"PreconditionFailed", 412,
                                    "At least one of the preconditions you "
                                    "specified did not hold."},
    [S3_ERR_REQUEST_TIME_TOO_SKEWED] = {"RequestTimeTooSkewed", 403,
                                        "The difference between the request "
                                        "time and the current time is too "
                                        "large."},
    [S3_ERR_REQUEST_TIMEOUT] = {"RequestTimeout", 400,
                                "Your socket connection to the server was "
                                "not read from or written to within the "
                                "timeout period."},
    [S3_ERR_SERVICE_UNAVAILABLE] = {"ServiceUnavailable", 503,
                                    "Please reduce your request rate."},
    [S3_ERR_SIGNATURE_DOES_NOT_MATCH] = {"SignatureDoesNotMatch", 403,
                                         "The request signature we "
                                         "calculated does not match the "
                                         "signature you provided. Check "
                                         "your key and signing method."},
    [S3_ERR_SLOW_DOWN] = {"SlowDown", 503, "Please reduce your request rate."},
    [S3_ERR_TOO_MANY_BUCKETS] = {"TooManyBuckets", 400,
                                 "You have attempted to create more buckets "
                                 "than allowed."},
    [S3_ERR_UNEXPECTED_CONTENT] = {"UnexpectedContent", 400,
                                   "This request does not support content."},
    [S3_ERR_USER_KEY_MUST_BE_SPECIFIED] =
        {"UserKeyMustBeSpecified", 400,
         "The bucket POST must contain the specified field name. If it is "
         "specified, please check the order of the fields."},
    [S3_ERR_X_AMZ_CONTENT_SHA256_MISMATCH] =
        {"XAmzContentSHA256Mismatch", 400,
         "The provided 'x-amz-content-sha256' header does not match what "
         "was computed."},
};

static const struct err_row *err_row(enum s3_err err)
{
    if ((unsigned int)err >= S3_ERR_COUNT || !err_table[err].code)
        return &err_table[S3_ERR_INTERNAL_ERROR];
    return &err_table[err];
}

const char *s3_err_code(enum s3_err err)
{
    return err_row(err)->code;
}

unsigned int s3_err_status(enum s3_err err)
{
    return err_row(err)->status;
}

const char *s3_err_message(enum s3_err err)
{
    return err_row(err)->message;
}

enum s3_err s3_err_from_code(const char *code)
{
    for (int i = 1; i < S3_ERR_COUNT; i++)
        if (err_table[i].code && !strcmp(err_table[i].code, code))
            return (enum s3_err)i;
    return S3_OK;
}

int s3_xml_error_doc(enum s3_err err, const char *message,
                     const struct s3_xml_field *fields, size_t n_fields,
                     const char *request_id, const char *host_id, char **out,
                     size_t *len)
{
    struct s3_xml x = {0};

    *out = NULL;
    *len = 0;
    if (err == S3_ERR_NOT_MODIFIED)
        return 0;
    if (!message || !s3_xml_utf8_valid(message))
        message = s3_err_message(err);
    s3_xml_declaration(&x);
    s3_xml_open(&x, "Error");
    s3_xml_elem(&x, "Code", s3_err_code(err));
    s3_xml_elem(&x, "Message", message);
    for (size_t i = 0; i < n_fields; i++) {
        const char *v = fields[i].value;

        if (v)
            s3_xml_elem(&x, fields[i].name,
                        s3_xml_utf8_valid(v) ? v : "(invalid string)");
    }
    if (request_id)
        s3_xml_elem(&x, "RequestId",
                    s3_xml_utf8_valid(request_id) ? request_id
                                                  : "(invalid string)");
    if (host_id)
        s3_xml_elem(&x, "HostId",
                    s3_xml_utf8_valid(host_id) ? host_id : "(invalid string)");
    return s3_xml_finish(&x, out, len);
}

/* ---- request bodies: the rule checker on expat ---- */

/* expat in namespace mode with triplets names an element "local",
 * "uri<SEP>local" (default namespace) or "uri<SEP>local<SEP>prefix".
 * 0xff never occurs in UTF-8, so it cannot be part of a URI. */
#define NS_SEP '\xff'
#define MAX_RULES 10
#define PARSE_MAX_DEPTH 6
#define N_RULES(r) ((int)(sizeof(r) / sizeof((r)[0])))

struct rule {
    const char *name;
    int parent; /* index of the enclosing rule; -1 for the root */
    unsigned int min, max;
    bool leaf; /* holds text, no elements */
};

struct parse;
typedef void (*leaf_fn)(struct parse *ps, int rule, const char *text,
                        size_t len);
typedef void (*end_fn)(struct parse *ps, int rule);

struct parse {
    XML_Parser xp;
    const struct rule *rules;
    int n_rules;
    int stack[PARSE_MAX_DEPTH];                    /* rules of open elements */
    unsigned int seen[PARSE_MAX_DEPTH][MAX_RULES]; /* children so far */
    int depth;
    char *text; /* the open leaf's text so far */
    size_t text_len, text_cap;
    int fatal; /* MalformedXML or -ENOMEM: the parse stopped */
    int err;   /* the first error in a value; the parse goes on */
    leaf_fn leaf;
    end_fn end;
    void *arg;
};

static void fail(struct parse *ps, int err)
{
    if (!ps->fatal) {
        ps->fatal = err;
        XML_StopParser(ps->xp, XML_FALSE);
    }
}

static void note(struct parse *ps, int err)
{
    if (!ps->err)
        ps->err = err;
}

static bool name_is(const char *qname, const char *want)
{
    const char *sep = strchr(qname, NS_SEP), *local, *end;
    size_t ulen, nslen = strlen(S3_XML_NS);

    if (!sep)
        return !strcmp(qname, want);
    local = sep + 1;
    end = strchr(local, NS_SEP);
    ulen = (size_t)(sep - qname);
    if (end && !(ulen == nslen && !memcmp(qname, S3_XML_NS, nslen)))
        return false; /* prefixed, in a namespace not S3's */
    if (!end)
        end = local + strlen(local);
    return (size_t)(end - local) == strlen(want) &&
           !memcmp(local, want, strlen(want));
}

static void XMLCALL on_start(void *arg, const XML_Char *name,
                             const XML_Char **atts)
{
    struct parse *ps = arg;
    int parent = ps->depth ? ps->stack[ps->depth - 1] : -1;
    int r;

    (void)atts;
    if (ps->fatal)
        return;
    for (r = 0; r < ps->n_rules; r++)
        if (ps->rules[r].parent == parent && name_is(name, ps->rules[r].name))
            break;
    if (r == ps->n_rules || ps->depth == PARSE_MAX_DEPTH) {
        fail(ps, S3_ERR_MALFORMED_XML);
        return;
    }
    if (ps->depth && ++ps->seen[ps->depth - 1][r] > ps->rules[r].max) {
        fail(ps, S3_ERR_MALFORMED_XML);
        return;
    }
    ps->stack[ps->depth] = r;
    memset(ps->seen[ps->depth], 0, sizeof(ps->seen[0]));
    ps->depth++;
    ps->text_len = 0;
}

static bool xml_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void XMLCALL on_text(void *arg, const XML_Char *s, int len)
{
    struct parse *ps = arg;
    size_t n = (size_t)len;

    if (ps->fatal || !ps->depth)
        return;
    if (!ps->rules[ps->stack[ps->depth - 1]].leaf) {
        for (size_t i = 0; i < n; i++)
            if (!xml_space(s[i])) {
                fail(ps, S3_ERR_MALFORMED_XML);
                return;
            }
        return;
    }
    if (ps->text_len + n + 1 > ps->text_cap) {
        size_t cap = 2 * (ps->text_len + n + 1);
        char *p = realloc(ps->text, cap);

        if (!p) {
            fail(ps, -ENOMEM);
            return;
        }
        ps->text = p;
        ps->text_cap = cap;
    }
    memcpy(ps->text + ps->text_len, s, n);
    ps->text_len += n;
    ps->text[ps->text_len] = '\0';
}

static void XMLCALL on_end(void *arg, const XML_Char *name)
{
    struct parse *ps = arg;
    int r;

    (void)name;
    if (ps->fatal || !ps->depth)
        return;
    r = ps->stack[ps->depth - 1];
    if (ps->rules[r].leaf) {
        ps->leaf(ps, r, ps->text_len ? ps->text : "", ps->text_len);
    } else {
        for (int c = 0; c < ps->n_rules; c++)
            if (ps->rules[c].parent == r &&
                ps->seen[ps->depth - 1][c] < ps->rules[c].min) {
                fail(ps, S3_ERR_MALFORMED_XML);
                return;
            }
        if (ps->end)
            ps->end(ps, r);
    }
    ps->depth--;
    ps->text_len = 0;
}

/* A DTD could declare entities (billion laughs, external files): none of
 * S3's documents has one, so its start ends the parse. */
static void XMLCALL on_doctype(void *arg, const XML_Char *name,
                               const XML_Char *sysid, const XML_Char *pubid,
                               int has_internal_subset)
{
    (void)name;
    (void)sysid;
    (void)pubid;
    (void)has_internal_subset;
    fail(arg, S3_ERR_MALFORMED_XML);
}

static void XMLCALL on_entity(void *arg, const XML_Char *name, int is_param,
                              const XML_Char *value, int value_len,
                              const XML_Char *base, const XML_Char *sysid,
                              const XML_Char *pubid, const XML_Char *notation)
{
    (void)name;
    (void)is_param;
    (void)value;
    (void)value_len;
    (void)base;
    (void)sysid;
    (void)pubid;
    (void)notation;
    fail(arg, S3_ERR_MALFORMED_XML);
}

/* Runs the parse; returns 0, the fatal error, or the first noted one. */
static int parse_run(struct parse *ps, const char *body, size_t len,
                     size_t max_len)
{
    enum XML_Status st;
    int rc;

    if (len > max_len || len > INT_MAX)
        return S3_ERR_MALFORMED_XML;
    ps->xp = XML_ParserCreateNS(NULL, NS_SEP);
    if (!ps->xp)
        return -ENOMEM;
    XML_SetReturnNSTriplet(ps->xp, XML_TRUE);
    XML_SetParamEntityParsing(ps->xp, XML_PARAM_ENTITY_PARSING_NEVER);
    XML_SetUserData(ps->xp, ps);
    XML_SetElementHandler(ps->xp, on_start, on_end);
    XML_SetCharacterDataHandler(ps->xp, on_text);
    XML_SetStartDoctypeDeclHandler(ps->xp, on_doctype);
    XML_SetEntityDeclHandler(ps->xp, on_entity);
    st = XML_Parse(ps->xp, body, (int)len, XML_TRUE);
    if (ps->fatal)
        rc = ps->fatal;
    else if (st != XML_STATUS_OK)
        rc = XML_GetErrorCode(ps->xp) == XML_ERROR_NO_MEMORY
                 ? -ENOMEM
                 : S3_ERR_MALFORMED_XML;
    else
        rc = ps->err;
    XML_ParserFree(ps->xp);
    ps->xp = NULL;
    free(ps->text);
    ps->text = NULL;
    return rc;
}

static void parse_init(struct parse *ps, const struct rule *rules, int n_rules,
                       leaf_fn leaf, end_fn end, void *arg)
{
    memset(ps, 0, sizeof(*ps));
    ps->rules = rules;
    ps->n_rules = n_rules;
    ps->leaf = leaf;
    ps->end = end;
    ps->arg = arg;
}

/* 's' without the XML whitespace around it, in place. */
static char *trim(char *s, size_t *len)
{
    size_t n = *len;

    while (n && xml_space(*s)) {
        s++;
        n--;
    }
    while (n && xml_space(s[n - 1]))
        n--;
    s[n] = '\0';
    *len = n;
    return s;
}

static char *dup_text(struct parse *ps, const char *text, size_t len)
{
    char *s = malloc(len + 1);

    if (!s) {
        fail(ps, -ENOMEM);
        return NULL;
    }
    memcpy(s, text, len);
    s[len] = '\0';
    return s;
}

/* ---- DeleteObjects ---- */

enum { DEL_DELETE, DEL_QUIET, DEL_OBJECT, DEL_KEY, DEL_VERSION_ID };

static const struct rule delete_rules[] = {
    [DEL_DELETE] = {"Delete", -1, 1, 1, false},
    [DEL_QUIET] = {"Quiet", DEL_DELETE, 0, 1, true},
    [DEL_OBJECT] = {"Object", DEL_DELETE, 1, UINT_MAX, false},
    [DEL_KEY] = {"Key", DEL_OBJECT, 1, 1, true},
    [DEL_VERSION_ID] = {"VersionId", DEL_OBJECT, 0, 1, true},
};

struct delete_state {
    struct s3_xml_delete *out;
    size_t max_keys, n_objects, cap;
    char *key, *version_id; /* of the open Object */
};

static void delete_leaf(struct parse *ps, int rule, const char *text,
                        size_t len)
{
    struct delete_state *d = ps->arg;
    char buf[8], *v;

    switch (rule) {
    case DEL_QUIET:
        /* xsd:boolean; s3api is quiet for "true" only, but its schema
         * lets "1" through, which S3 takes as true */
        if (len >= sizeof(buf)) {
            fail(ps, S3_ERR_MALFORMED_XML);
            return;
        }
        memcpy(buf, text, len + 1);
        v = trim(buf, &len);
        if (!strcmp(v, "true") || !strcmp(v, "1"))
            d->out->quiet = true;
        else if (!strcmp(v, "false") || !strcmp(v, "0"))
            d->out->quiet = false;
        else
            fail(ps, S3_ERR_MALFORMED_XML);
        return;
    case DEL_KEY: d->key = dup_text(ps, text, len); return;
    case DEL_VERSION_ID: d->version_id = dup_text(ps, text, len); return;
    }
}

static void delete_end(struct parse *ps, int rule)
{
    struct delete_state *d = ps->arg;
    struct s3_xml_delete *out = d->out;

    if (rule != DEL_OBJECT)
        return;
    d->n_objects++;
    if (d->key && !*d->key)
        note(ps, S3_ERR_USER_KEY_MUST_BE_SPECIFIED);
    if (ps->err || !d->key || d->n_objects > d->max_keys)
        goto drop;
    if (out->n_keys == d->cap) {
        size_t cap = d->cap ? 2 * d->cap : 16;
        struct s3_xml_delete_key *p =
            realloc(out->keys, cap * sizeof(*out->keys));

        if (!p) {
            fail(ps, -ENOMEM);
            goto drop;
        }
        out->keys = p;
        d->cap = cap;
    }
    out->keys[out->n_keys].key = d->key;
    out->keys[out->n_keys].version_id = d->version_id;
    out->n_keys++;
    d->key = d->version_id = NULL;
    return;
drop:
    free(d->key);
    free(d->version_id);
    d->key = d->version_id = NULL;
}

void s3_xml_delete_release(struct s3_xml_delete *d)
{
    for (size_t i = 0; i < d->n_keys; i++) {
        free(d->keys[i].key);
        free(d->keys[i].version_id);
    }
    free(d->keys);
    memset(d, 0, sizeof(*d));
}

int s3_xml_parse_delete(const char *body, size_t len, size_t max_len,
                        size_t max_keys, struct s3_xml_delete *out)
{
    struct delete_state d = {.out = out, .max_keys = max_keys};
    struct parse ps;
    int rc;

    memset(out, 0, sizeof(*out));
    if (!len)
        return S3_ERR_MISSING_REQUEST_BODY;
    parse_init(&ps, delete_rules, N_RULES(delete_rules), delete_leaf,
               delete_end, &d);
    rc = parse_run(&ps, body, len, max_len);
    /* s3api counts the keys once they all proved non-empty */
    if (!rc && d.n_objects > max_keys)
        rc = S3_ERR_MALFORMED_XML;
    free(d.key);
    free(d.version_id);
    if (rc)
        s3_xml_delete_release(out);
    return rc;
}

/* ---- CompleteMultipartUpload ---- */

enum {
    CMU_ROOT,
    CMU_PART,
    CMU_NUMBER,
    CMU_ETAG,
    CMU_CRC32,
    CMU_CRC32C,
    CMU_CRC64NVME,
    CMU_SHA1,
    CMU_SHA256
};

static const struct rule complete_rules[] = {
    [CMU_ROOT] = {"CompleteMultipartUpload", -1, 1, 1, false},
    [CMU_PART] = {"Part", CMU_ROOT, 1, UINT_MAX, false},
    [CMU_NUMBER] = {"PartNumber", CMU_PART, 1, 1, true},
    [CMU_ETAG] = {"ETag", CMU_PART, 1, 1, true},
    [CMU_CRC32] = {"ChecksumCRC32", CMU_PART, 0, 1, true},
    [CMU_CRC32C] = {"ChecksumCRC32C", CMU_PART, 0, 1, true},
    [CMU_CRC64NVME] = {"ChecksumCRC64NVME", CMU_PART, 0, 1, true},
    [CMU_SHA1] = {"ChecksumSHA1", CMU_PART, 0, 1, true},
    [CMU_SHA256] = {"ChecksumSHA256", CMU_PART, 0, 1, true},
};

struct complete_state {
    struct s3_xml_complete *out;
    uint32_t max_parts;
    size_t cap;
    int64_t prev;   /* the last part number in order */
    int64_t number; /* of the open Part */
    bool etag_ok;
    char etag[33];
};

/* xsd:int: an optional sign and digits, whitespace around, 32 bits. */
static bool parse_xsd_int(const char *text, size_t len, int64_t *out)
{
    char buf[32], *s, *end;
    long long v;

    if (len >= sizeof(buf))
        return false; /* longer than any int, even with spaces: refuse */
    memcpy(buf, text, len + 1);
    s = trim(buf, &len);
    if (!len || (!(*s >= '0' && *s <= '9') && *s != '-' && *s != '+'))
        return false;
    if ((*s == '-' || *s == '+') && !(s[1] >= '0' && s[1] <= '9'))
        return false;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || *end || v < INT32_MIN || v > INT32_MAX)
        return false;
    *out = v;
    return true;
}

/* s3api's normalize_etag() and its check: the quotes go, 32 lower-case
 * hex digits must remain. */
static bool part_etag(const char *text, size_t len, char out[33])
{
    char buf[65], *s;
    bool ok;

    if (len >= sizeof(buf)) /* 32 digits, quotes and some whitespace */
        return false;
    memcpy(buf, text, len + 1);
    s = trim(buf, &len);
    if (len >= 2 && s[0] == '"' && s[len - 1] == '"') {
        s++;
        len -= 2;
    }
    ok = len == 32;
    for (size_t i = 0; ok && i < len; i++)
        ok = (s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f');
    if (ok) {
        memcpy(out, s, 32);
        out[32] = '\0';
    }
    return ok;
}

static void complete_leaf(struct parse *ps, int rule, const char *text,
                          size_t len)
{
    struct complete_state *c = ps->arg;

    if (rule == CMU_NUMBER) {
        if (!parse_xsd_int(text, len, &c->number))
            fail(ps, S3_ERR_MALFORMED_XML);
    } else if (rule == CMU_ETAG) {
        c->etag_ok = part_etag(text, len, c->etag);
    }
    /* the checksums: accepted, not checked (NEEDSWORK: compare them with
     * the parts' once parts keep them) */
}

static void complete_end(struct parse *ps, int rule)
{
    struct complete_state *c = ps->arg;
    struct s3_xml_complete *out = c->out;
    struct s3_xml_part *p;

    if (rule != CMU_PART || ps->err)
        return;
    if (c->number <= c->prev) {
        note(ps, S3_ERR_INVALID_PART_ORDER);
        return;
    }
    c->prev = c->number;
    if (!c->etag_ok || c->number > c->max_parts) {
        out->bad_part = (uint32_t)c->number;
        note(ps, S3_ERR_INVALID_PART);
        return;
    }
    if (out->n_parts == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 16;

        p = realloc(out->parts, cap * sizeof(*p));
        if (!p) {
            fail(ps, -ENOMEM);
            return;
        }
        out->parts = p;
        c->cap = cap;
    }
    p = &out->parts[out->n_parts++];
    p->number = (uint32_t)c->number;
    memcpy(p->etag, c->etag, sizeof(p->etag));
}

void s3_xml_complete_release(struct s3_xml_complete *c)
{
    free(c->parts);
    memset(c, 0, sizeof(*c));
}

int s3_xml_parse_complete(const char *body, size_t len, size_t max_len,
                          uint32_t max_parts, struct s3_xml_complete *out)
{
    struct complete_state c = {.out = out, .max_parts = max_parts};
    struct parse ps;
    uint32_t bad;
    int rc;

    memset(out, 0, sizeof(*out));
    if (!len)
        return S3_ERR_INVALID_REQUEST;
    parse_init(&ps, complete_rules, N_RULES(complete_rules), complete_leaf,
               complete_end, &c);
    rc = parse_run(&ps, body, len, max_len);
    if (rc) {
        bad = rc == S3_ERR_INVALID_PART ? out->bad_part : 0;
        s3_xml_complete_release(out);
        out->bad_part = bad;
    }
    return rc;
}

/* ---- CreateBucketConfiguration ---- */

static const struct rule create_bucket_rules[] = {
    {"CreateBucketConfiguration", -1, 1, 1, false},
    {"LocationConstraint", 0, 0, 1, true},
};

static void create_bucket_leaf(struct parse *ps, int rule, const char *text,
                               size_t len)
{
    char **location = ps->arg;

    (void)rule;
    *location = dup_text(ps, text, len);
}

int s3_xml_parse_create_bucket(const char *body, size_t len, size_t max_len,
                               char **location)
{
    struct parse ps;
    int rc;

    *location = NULL;
    if (!len)
        return 0;
    parse_init(&ps, create_bucket_rules, N_RULES(create_bucket_rules),
               create_bucket_leaf, NULL, location);
    rc = parse_run(&ps, body, len, max_len);
    if (rc) {
        free(*location);
        *location = NULL;
    }
    return rc;
}

/* ---- Tagging ---- */

enum { TAG_ROOT, TAG_SET, TAG_TAG, TAG_KEY, TAG_VALUE };

static const struct rule tagging_rules[] = {
    [TAG_ROOT] = {"Tagging", -1, 1, 1, false},
    [TAG_SET] = {"TagSet", TAG_ROOT, 1, 1, false},
    [TAG_TAG] = {"Tag", TAG_SET, 0, UINT_MAX, false},
    [TAG_KEY] = {"Key", TAG_TAG, 1, 1, true},
    [TAG_VALUE] = {"Value", TAG_TAG, 1, 1, true},
};

#define TAG_KEY_MAX 128
#define TAG_VALUE_MAX 256

struct tagging_state {
    struct s3_xml_tagging *out;
    size_t max_tags, n_tags;
    char *key, *value; /* of the open Tag */
};

/* Characters, as S3 counts a tag's length. */
static size_t utf8_chars(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

static void tag_invalid(struct parse *ps, const char *message)
{
    struct tagging_state *t = ps->arg;

    if (ps->err)
        return;
    note(ps, S3_ERR_INVALID_TAG);
    snprintf(t->out->message, sizeof(t->out->message), "%s", message);
}

static void tagging_leaf(struct parse *ps, int rule, const char *text,
                         size_t len)
{
    struct tagging_state *t = ps->arg;

    if (rule == TAG_KEY)
        t->key = dup_text(ps, text, len);
    else if (rule == TAG_VALUE)
        t->value = dup_text(ps, text, len);
}

static void tagging_end(struct parse *ps, int rule)
{
    struct tagging_state *t = ps->arg;
    struct s3_xml_tagging *out = t->out;
    struct s3_xml_tag *p;

    if (rule != TAG_TAG)
        return;
    if (++t->n_tags > t->max_tags || ps->err || !t->key || !t->value)
        goto drop;
    if (!*t->key)
        tag_invalid(ps, "The TagKey you have provided is invalid");
    else if (utf8_chars(t->key) > TAG_KEY_MAX)
        tag_invalid(ps, "The TagKey you have provided is too long, max 128");
    else if (utf8_chars(t->value) > TAG_VALUE_MAX)
        tag_invalid(ps, "The TagValue you have provided is too long, max 256");
    for (size_t i = 0; !ps->err && i < out->n_tags; i++)
        if (!strcmp(out->tags[i].key, t->key))
            tag_invalid(ps, "Cannot provide multiple Tags with the same key");
    if (ps->err)
        goto drop;
    /* at most max_tags are kept, so growing one by one is cheap enough */
    p = realloc(out->tags, (out->n_tags + 1) * sizeof(*p));
    if (!p) {
        fail(ps, -ENOMEM);
        goto drop;
    }
    out->tags = p;
    out->tags[out->n_tags].key = t->key;
    out->tags[out->n_tags].value = t->value;
    out->n_tags++;
    t->key = t->value = NULL;
    return;
drop:
    free(t->key);
    free(t->value);
    t->key = t->value = NULL;
}

void s3_xml_tagging_release(struct s3_xml_tagging *t)
{
    for (size_t i = 0; i < t->n_tags; i++) {
        free(t->tags[i].key);
        free(t->tags[i].value);
    }
    free(t->tags);
    memset(t, 0, sizeof(*t));
}

int s3_xml_parse_tagging(const char *body, size_t len, size_t max_len,
                         size_t max_tags, struct s3_xml_tagging *out)
{
    struct tagging_state t = {.out = out, .max_tags = max_tags};
    struct parse ps;
    char message[sizeof(out->message)];
    int rc;

    memset(out, 0, sizeof(*out));
    if (!len)
        return S3_ERR_MALFORMED_XML;
    parse_init(&ps, tagging_rules, N_RULES(tagging_rules), tagging_leaf,
               tagging_end, &t);
    rc = parse_run(&ps, body, len, max_len);
    /* S3 counts the tags before it looks at any of them */
    if ((rc == 0 || rc == S3_ERR_INVALID_TAG) && t.n_tags > max_tags) {
        rc = S3_ERR_BAD_REQUEST;
        snprintf(out->message, sizeof(out->message),
                 "Object tags cannot be greater than %zu", max_tags);
    }
    free(t.key);
    free(t.value);
    if (rc) {
        memcpy(message, out->message, sizeof(message));
        s3_xml_tagging_release(out);
        if (rc == S3_ERR_INVALID_TAG || rc == S3_ERR_BAD_REQUEST)
            memcpy(out->message, message, sizeof(message));
    }
    return rc;
}
