/*
 * mimetypes.h - the Content-Type Swift's proxy gives an object uploaded
 * without one: Python's mimetypes.guess_type() of the object name, which
 * on Debian reads /etc/mime.types (package media-types) over a small
 * built-in table; application/octet-stream when nothing matches.
 *
 * The table is read once, on first use; thread-safe after that.
 */
#ifndef PROXY_MIMETYPES_H
#define PROXY_MIMETYPES_H

/* The guessed type of 'name' (a static string). */
const char *mimetype_guess(const char *name);

#endif /* PROXY_MIMETYPES_H */
