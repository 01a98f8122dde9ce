/*
 * http.c - HTTP vocabulary shared by the server glue and the backend
 * client: Swift's status texts and strict percent-decoding. No I/O here.
 */
#include "common/http.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- percent-decoding ---- */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

int http_unquote(const char *in, size_t len, bool plus_is_space, char **out)
{
    char *dst = malloc(len + 1);
    size_t i, n = 0;

    *out = NULL;
    if (!dst)
        return -ENOMEM;
    for (i = 0; i < len; i++) {
        char c = in[i];

        if (c == '%') {
            int hi = i + 2 < len ? hexval(in[i + 1]) : -1;
            int lo = i + 2 < len ? hexval(in[i + 2]) : -1;

            if (hi < 0 || lo < 0)
                goto bad;
            c = (char)(hi << 4 | lo);
            i += 2;
        } else if (c == '+' && plus_is_space) {
            c = ' ';
        }
        if (c == '\0')
            goto bad;
        dst[n++] = c;
    }
    dst[n] = '\0';
    *out = dst;
    return 0;
bad:
    free(dst);
    return -EINVAL;
}

char *http_quote(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    char *out = malloc(strlen(s) * 3 + 1), *p = out;

    if (!out)
        return NULL;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
            (c >= '0' && c <= '9') || (c && strchr("_.-~/", c))) {
            *p++ = (char)c;
        } else {
            *p++ = '%';
            *p++ = hex[c >> 4];
            *p++ = hex[c & 15];
        }
    }
    *p = '\0';
    return out;
}

/* ---- Swift's statuses (swob.RESPONSE_REASONS) ---- */

static const struct {
    unsigned int status;
    const char *reason, *explanation;
} reasons[] = {
    {100, "Continue", ""},
    {200, "OK", ""},
    {201, "Created", ""},
    {202, "Accepted", "The request is accepted for processing."},
    {204, "No Content", ""},
    {206, "Partial Content", ""},
    {301, "Moved Permanently", "The resource has moved permanently."},
    {302, "Found", "The resource has moved temporarily."},
    {303, "See Other",
     "The response to the request can be found under a different URI."},
    {304, "Not Modified", ""},
    {307, "Temporary Redirect", "The resource has moved temporarily."},
    {400, "Bad Request",
     "The server could not comply with the request since it is either "
     "malformed or otherwise incorrect."},
    {401, "Unauthorized",
     "This server could not verify that you are authorized to access the "
     "document you requested."},
    {402, "Payment Required", "Access was denied for financial reasons."},
    {403, "Forbidden", "Access was denied to this resource."},
    {404, "Not Found", "The resource could not be found."},
    {405, "Method Not Allowed", "The method is not allowed for this resource."},
    {406, "Not Acceptable",
     "The resource is not available in a format acceptable to your browser."},
    {408, "Request Timeout",
     "The server has waited too long for the request to be sent by the "
     "client."},
    {409, "Conflict",
     "There was a conflict when trying to complete your request."},
    {410, "Gone", "This resource is no longer available."},
    {411, "Length Required", "Content-Length header required."},
    {412, "Precondition Failed",
     "A precondition for this request was not met."},
    {413, "Request Entity Too Large",
     "The body of your request was too large for this server."},
    {414, "Request URI Too Long",
     "The request URI was too long for this server."},
    {415, "Unsupported Media Type",
     "The request media type is not supported by this server."},
    {416, "Requested Range Not Satisfiable",
     "The Range requested is not available."},
    {417, "Expectation Failed", "Expectation failed."},
    {422, "Unprocessable Entity",
     "Unable to process the contained instructions"},
    {431, "Request Header Fields Too Large",
     "The request's header fields were too large for this server."},
    {499, "Client Disconnect", "The client was disconnected during request."},
    {500, "Internal Error",
     "The server has either erred or is incapable of performing the requested "
     "operation."},
    {501, "Not Implemented",
     "The requested method is not implemented by this server."},
    {502, "Bad Gateway", "Bad gateway."},
    {503, "Service Unavailable",
     "The server is currently unavailable. Please try again at a later time."},
    {504, "Gateway Timeout",
     "A timeout has occurred speaking to a backend server."},
    {507, "Insufficient Storage",
     "There was not enough space to save the resource. Drive: "},
};

static int find_reason(unsigned int status)
{
    size_t i;

    for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
        if (reasons[i].status == status)
            return (int)i;
    return -1;
}

const char *http_reason(unsigned int status)
{
    int i = find_reason(status);

    return i < 0 ? "" : reasons[i].reason;
}

size_t http_error_body(unsigned int status, char buf[HTTP_ERROR_BODY_MAX])
{
    int i = find_reason(status), n;

    buf[0] = '\0';
    if (i < 0 || !*reasons[i].explanation)
        return 0;
    n = snprintf(buf, HTTP_ERROR_BODY_MAX, "<html><h1>%s</h1><p>%s</p></html>",
                 reasons[i].reason, reasons[i].explanation);
    return (size_t)n < HTTP_ERROR_BODY_MAX ? (size_t)n
                                           : HTTP_ERROR_BODY_MAX - 1;
}
