/*
 * s3_xml.h - the XML side of the S3 API, without HTTP: a writer for the
 * documents S3 answers with, S3's error codes and error documents, and
 * parsers for the XML request bodies (DeleteObjects,
 * CompleteMultipartUpload, CreateBucketConfiguration, Tagging).
 *
 * Everything here is plain data and pure functions: no globals, no I/O,
 * thread-safe. Strings are UTF-8. Shapes and messages follow Swift
 * 2.30's s3api (s3response.py, the controllers and its RelaxNG schemas)
 * and AWS's "Error responses" page where s3api has nothing.
 */
#ifndef PROXY_S3_XML_H
#define PROXY_S3_XML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define S3_XML_NS "http://s3.amazonaws.com/doc/2006-03-01/"
#define S3_XML_XSI_NS "http://www.w3.org/2001/XMLSchema-instance"
#define S3_XML_DECLARATION "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"

/* ---- the writer ---- */

#define S3_XML_MAX_DEPTH 16

/* A document being written. A zeroed struct is an empty document; free it
 * with s3_xml_release() unless s3_xml_finish() took the buffer. Errors
 * are sticky: after the first failure (-ENOMEM, -EILSEQ, -EINVAL) every
 * call does nothing and returns it again, so a caller may write a whole
 * document and check once, at s3_xml_finish(). */
struct s3_xml {
    char *data; /* NUL-terminated once anything was written */
    size_t len, cap;
    int err;
    unsigned int depth;
    const char *open[S3_XML_MAX_DEPTH]; /* names of the open elements */
};

void s3_xml_release(struct s3_xml *x); /* frees, leaves x zeroed */

/* Appends S3_XML_DECLARATION. */
int s3_xml_declaration(struct s3_xml *x);

/* Opens the root element 'name' with xmlns=S3_XML_NS, as S3 and s3api
 * write every document but <Error>. */
int s3_xml_root(struct s3_xml *x, const char *name);

/* Opens element 'name' (no attributes). 'name' is borrowed until the
 * element is closed: pass a string literal. More than S3_XML_MAX_DEPTH
 * open elements is -EINVAL (a bug of the caller's, reported, no crash). */
int s3_xml_open(struct s3_xml *x, const char *name);

/* Closes the innermost open element; -EINVAL when none is open. */
int s3_xml_close(struct s3_xml *x);

/* <name>text</name>, with text escaped for XML (NULL is written as the
 * empty string: <name></name>):
 *   & < > " '   -> &amp; &lt; &gt; &quot; &apos;
 *   CR          -> &#13;  (a raw CR would reach the client as LF)
 *   other characters XML 1.0 cannot hold (C0 controls but TAB and LF,
 *   U+FFFE, U+FFFF) -> character references (&#x1; ...), as S3 writes
 *   them. Strict XML 1.0 parsers refuse those, which is why S3 clients
 *   list with encoding-type=url (s3_xml_elem_url()).
 * Invalid UTF-8 (overlong forms, surrogates, truncated sequences) cannot
 * be written at all: -EILSEQ, and the document is lost. */
int s3_xml_elem(struct s3_xml *x, const char *name, const char *text);

/* An ACL's <Grantee> for user 'id' (ID and DisplayName), typed as S3 and
 * s3api write it:
 *   <Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
 *   xsi:type="CanonicalUser"><ID>id</ID><DisplayName>id</DisplayName>
 *   </Grantee> */
int s3_xml_grantee(struct s3_xml *x, const char *id);

/* The same for a group: xsi:type="Group" and <URI>uri</URI>
 * ("http://acs.amazonaws.com/groups/global/AllUsers"). */
int s3_xml_grantee_group(struct s3_xml *x, const char *uri);

/* Like s3_xml_elem() with the text formatted by printf(). */
int s3_xml_elemf(struct s3_xml *x, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Like s3_xml_elem() with the text URL-encoded first (s3_xml_url_encode),
 * for the fields S3 encodes when a listing asks encoding-type=url. Never
 * -EILSEQ: any bytes can be percent-encoded. */
int s3_xml_elem_url(struct s3_xml *x, const char *name, const char *text);

/* Closes the elements still open and hands the document over: *out is
 * NUL-terminated, malloc'ed (free() it), *len its length without the NUL;
 * x is left zeroed. On a sticky error returns it, frees the document and
 * sets *out to NULL and *len to 0. */
int s3_xml_finish(struct s3_xml *x, char **out, size_t *len);

/* Percent-encodes 's' as Python's urllib.parse.quote(s, safe='/') does,
 * which is what s3api sends for encoding-type=url: every byte but
 * A-Z a-z 0-9 - . _ ~ / becomes %XX (upper-case hex), so a space is %20
 * and '+' is %2B (clients decode with unquote_plus, which keeps both
 * right). Returns a malloc'ed string, or NULL (no memory). */
char *s3_xml_url_encode(const char *s);

/* Whether 's' is valid UTF-8 (no overlong forms, surrogates or
 * truncated sequences): what s3_xml_elem() can write. */
bool s3_xml_utf8_valid(const char *s);

/* ---- errors ---- */

/* S3 error codes. 0 is "no error", so a parser's return value can be
 * tested as a boolean; s3_err_code() names each one. */
enum s3_err {
    S3_OK = 0,
    S3_ERR_ACCESS_DENIED,
    S3_ERR_ACCESS_FORBIDDEN, /* a CORS preflight refused */
    S3_ERR_ACCOUNT_PROBLEM,
    S3_ERR_AUTHORIZATION_HEADER_MALFORMED,
    S3_ERR_AUTHORIZATION_QUERY_PARAMETERS_ERROR,
    S3_ERR_BAD_DIGEST,
    S3_ERR_BAD_REQUEST,
    S3_ERR_BUCKET_ALREADY_EXISTS,
    S3_ERR_BUCKET_ALREADY_OWNED_BY_YOU,
    S3_ERR_BUCKET_NOT_EMPTY,
    S3_ERR_ENTITY_TOO_LARGE,
    S3_ERR_ENTITY_TOO_SMALL,
    S3_ERR_EXPIRED_TOKEN,
    S3_ERR_ILLEGAL_VERSIONING_CONFIGURATION,
    S3_ERR_INCOMPLETE_BODY,
    S3_ERR_INTERNAL_ERROR,
    S3_ERR_INVALID_ACCESS_KEY_ID,
    S3_ERR_INVALID_ARGUMENT,
    S3_ERR_INVALID_BUCKET_NAME,
    S3_ERR_INVALID_BUCKET_STATE,
    S3_ERR_INVALID_CHUNK_SIZE,
    S3_ERR_INVALID_DIGEST,
    S3_ERR_INVALID_LOCATION_CONSTRAINT,
    S3_ERR_INVALID_OBJECT_STATE,
    S3_ERR_INVALID_PART,
    S3_ERR_INVALID_PART_ORDER,
    S3_ERR_INVALID_RANGE,
    S3_ERR_INVALID_REQUEST,
    S3_ERR_INVALID_STORAGE_CLASS,
    S3_ERR_INVALID_TAG,
    S3_ERR_INVALID_TOKEN,
    S3_ERR_INVALID_URI,
    S3_ERR_KEY_TOO_LONG,
    S3_ERR_MALFORMED_ACL,
    S3_ERR_MALFORMED_XML,
    S3_ERR_MAX_MESSAGE_LENGTH_EXCEEDED,
    S3_ERR_METADATA_TOO_LARGE,
    S3_ERR_METHOD_NOT_ALLOWED,
    S3_ERR_MISSING_CONTENT_LENGTH,
    S3_ERR_MISSING_REQUEST_BODY,
    S3_ERR_MISSING_SECURITY_HEADER,
    S3_ERR_NO_SUCH_BUCKET,
    S3_ERR_NO_SUCH_BUCKET_POLICY,
    S3_ERR_NO_SUCH_CORS_CONFIGURATION,
    S3_ERR_NO_SUCH_KEY,
    S3_ERR_NO_SUCH_LIFECYCLE_CONFIGURATION,
    S3_ERR_NO_SUCH_TAG_SET,
    S3_ERR_NO_SUCH_UPLOAD,
    S3_ERR_NO_SUCH_VERSION,
    S3_ERR_NOT_IMPLEMENTED,
    S3_ERR_NOT_MODIFIED,
    S3_ERR_OPERATION_ABORTED,
    S3_ERR_PRECONDITION_FAILED,
    S3_ERR_REQUEST_TIME_TOO_SKEWED,
    S3_ERR_REQUEST_TIMEOUT,
    S3_ERR_SERVICE_UNAVAILABLE,
    S3_ERR_SIGNATURE_DOES_NOT_MATCH,
    S3_ERR_SLOW_DOWN,
    S3_ERR_TOO_MANY_BUCKETS,
    S3_ERR_UNEXPECTED_CONTENT,
    S3_ERR_USER_KEY_MUST_BE_SPECIFIED,
    S3_ERR_X_AMZ_CONTENT_SHA256_MISMATCH,
    S3_ERR_COUNT
};

/* The code as S3 spells it ("NoSuchKey"); "InternalError" for a value out
 * of range, and for S3_OK. */
const char *s3_err_code(enum s3_err err);

/* The HTTP status S3 answers the code with (NoSuchKey 404, SlowDown 503,
 * NotModified 304 ...); 500 out of range. */
unsigned int s3_err_status(enum s3_err err);

/* The default <Message>: s3api's text, AWS's where s3api has a typo or
 * no class. */
const char *s3_err_message(enum s3_err err);

/* The code for its name ("NoSuchKey"), case-sensitive; S3_OK when
 * unknown. */
enum s3_err s3_err_from_code(const char *code);

/* An element added to an error document after Code and Message, in the
 * caller's order: BucketName, Key, Resource, ArgumentName,
 * ArgumentValue, UploadId, PartNumber, Method, ResourceType ... */
struct s3_xml_field {
    const char *name;  /* an element name: a literal, never escaped */
    const char *value; /* text, escaped; NULL skips the field */
};

/* Writes S3's error document:
 *   <?xml version="1.0" encoding="UTF-8"?>\n
 *   <Error><Code>NoSuchKey</Code><Message>...</Message>
 *   <Key>a/b</Key>[more fields]<RequestId>tx...</RequestId>
 *   <HostId>...</HostId></Error>
 * as S3 orders it (s3api writes RequestId before the fields; clients read
 * elements by name). The root has no xmlns, as with S3 and s3api.
 * 'message' NULL means s3_err_message(); 'request_id' and 'host_id' are
 * left out when NULL. A field value that is not valid UTF-8 is written as
 * "(invalid string)", as s3api does. NotModified has no body: returns 0
 * with *out NULL and *len 0. Otherwise returns 0 and a malloc'ed
 * document in *out, or -ENOMEM (*out NULL). */
int s3_xml_error_doc(enum s3_err err, const char *message,
                     const struct s3_xml_field *fields, size_t n_fields,
                     const char *request_id, const char *host_id, char **out,
                     size_t *len);

/* ---- request bodies ----
 *
 * Each parser takes the whole body ('len' bytes, not NUL-terminated) and
 * 'max_len', the largest body the operation accepts; a longer body is
 * MalformedXML, as s3api's req.xml() answers. It returns 0 with the
 * result filled in, a positive enum s3_err with the result empty, or
 * -ENOMEM. Element names match with no namespace, in S3_XML_NS, or in any
 * default namespace (s3api strips both); an element in another prefixed
 * namespace is unknown. Unknown elements, missing or repeated ones,
 * non-whitespace text between elements and elements inside text fields
 * are MalformedXML, as s3api's schemas make them; attributes are ignored.
 * A DOCTYPE (and so any entity declaration: billion laughs, external
 * entities) is MalformedXML; so is anything expat finds ill-formed and
 * nesting beyond the document's shape. Text fields keep their whitespace
 * (Key, VersionId, LocationConstraint, tag Key and Value); numbers and
 * booleans may have it around them, as xsd:int and xsd:boolean allow. */

struct s3_xml_delete_key {
    char *key;
    char *version_id; /* NULL when the Object had no VersionId */
};

/* DeleteObjects: <Delete><Quiet/>?<Object><Key/><VersionId/>?</Object>+
 * </Delete>, in any order. A zeroed struct is empty. */
struct s3_xml_delete {
    bool quiet;
    struct s3_xml_delete_key *keys; /* in document order */
    size_t n_keys;
};

/* Parses a DeleteObjects body. Errors, as s3api: an empty body is
 * MissingRequestBodyError; an Object whose Key is empty is
 * UserKeyMustBeSpecified; more than 'max_keys' Objects (S3: 1000) is
 * MalformedXML, as are no Object and a Quiet other than true, false, 1
 * or 0. Free with s3_xml_delete_release(). */
int s3_xml_parse_delete(const char *body, size_t len, size_t max_len,
                        size_t max_keys, struct s3_xml_delete *out);
void s3_xml_delete_release(struct s3_xml_delete *d);

struct s3_xml_part {
    uint32_t number;
    char etag[33]; /* 32 lower-case hex digits, quotes removed */
};

/* CompleteMultipartUpload: <CompleteMultipartUpload><Part><PartNumber/>
 * <ETag/></Part>+</CompleteMultipartUpload>; a Part may also carry
 * ChecksumCRC32, ChecksumCRC32C, ChecksumCRC64NVME, ChecksumSHA1 or
 * ChecksumSHA256 (newer SDKs send them), which are accepted and not
 * checked. A zeroed struct is empty. */
struct s3_xml_complete {
    struct s3_xml_part *parts; /* ascending part numbers */
    size_t n_parts;
    uint32_t bad_part; /* with InvalidPart: the <PartNumber> to report */
};

/* Parses a CompleteMultipartUpload body. Errors, as s3api (checked in
 * document order, after the whole document proved well-formed): an empty
 * body is InvalidRequest ("You must specify at least one part"); no Part,
 * or a PartNumber that is not an xsd:int, is MalformedXML; a number not
 * above the previous one (so also 0 and below) is InvalidPartOrder; an
 * ETag that is not 32 hex digits once its quotes are removed, or a
 * number above 'max_parts' (S3: 10,000; such a part cannot have been
 * uploaded) is InvalidPart with out->bad_part set. So 10,001 parts are
 * always refused, and at most 'max_parts' are kept. Free with
 * s3_xml_complete_release(). */
int s3_xml_parse_complete(const char *body, size_t len, size_t max_len,
                          uint32_t max_parts, struct s3_xml_complete *out);
void s3_xml_complete_release(struct s3_xml_complete *c);

/* CreateBucketConfiguration: an empty body, or
 * <CreateBucketConfiguration><LocationConstraint>region
 * </LocationConstraint>?</CreateBucketConfiguration>. Sets *location to
 * the malloc'ed region, or NULL when the body or the element is absent;
 * comparing it with the configured location (InvalidLocationConstraint)
 * is the caller's. */
int s3_xml_parse_create_bucket(const char *body, size_t len, size_t max_len,
                               char **location);

struct s3_xml_tag {
    char *key;
    char *value;
};

/* Tagging: <Tagging><TagSet><Tag><Key/><Value/></Tag>*</TagSet>
 * </Tagging>. A zeroed struct is empty. */
struct s3_xml_tagging {
    struct s3_xml_tag *tags; /* in document order */
    size_t n_tags;
    char message[96]; /* with an error, S3's <Message>; "": the default */
};

/* Parses a PutObjectTagging or PutBucketTagging body, with AWS's
 * limits: more than 'max_tags' tags (10 for an object, 50 for a bucket)
 * is BadRequest "Object tags cannot be greater than 10"; an empty key,
 * a key over 128 or a value over 256 characters, or a key given twice
 * is InvalidTag, with S3's message in out->message. An empty body is
 * MalformedXML. Free with s3_xml_tagging_release(). */
int s3_xml_parse_tagging(const char *body, size_t len, size_t max_len,
                         size_t max_tags, struct s3_xml_tagging *out);
void s3_xml_tagging_release(struct s3_xml_tagging *t);

#endif
