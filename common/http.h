/*
 * http.h - HTTP vocabulary shared by the server glue (http_server.h) and
 * the backend client: Swift's statuses and their texts, and strict
 * percent-decoding. Pure functions, thread-safe.
 */
#ifndef COMMON_HTTP_H
#define COMMON_HTTP_H

#include <stdbool.h>
#include <stddef.h>

/* Swift's reason phrase for a status (swob.RESPONSE_REASONS: 404 is
 * "Not Found"), "" if Swift has none. */
const char *http_reason(unsigned int status);

/* Room for any error body below, NUL included. */
#define HTTP_ERROR_BODY_MAX 512

/* Writes the body Swift sends with an error status into 'buf', e.g. for
 * 404 "<html><h1>Not Found</h1><p>The resource could not be
 * found.</p></html>", and returns its length: 0 (and "") for statuses
 * without an explanation (2xx, 304, unknown ones). */
size_t http_error_body(unsigned int status, char buf[HTTP_ERROR_BODY_MAX]);

/* Percent-decodes 'len' bytes of 'in' into a new NUL-terminated string
 * (free() it), turning '+' into ' ' when 'plus_is_space' (query strings).
 * Returns 0, -EINVAL for '%' not followed by two hex digits or for a
 * decoded NUL, or -ENOMEM; *out is NULL on failure. */
int http_unquote(const char *in, size_t len, bool plus_is_space, char **out);

/* Swift's urllib quote(path, safe='/'): every byte but ASCII letters,
 * digits, "_.-~" and '/' becomes %XX. Returns a new string (free() it) or
 * NULL when out of memory. */
char *http_quote(const char *s);

#endif /* COMMON_HTTP_H */
