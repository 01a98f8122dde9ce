/*
 * obj_stream.h - the body of an object GET, streamed from an open
 * diskfile with bounded memory: the whole object (its MD5 checked against
 * the ETag before the last block goes out: on a mismatch the object is
 * quarantined and the read fails, so the client sees a short body), one
 * byte range, or several as multipart/byteranges in swob's format:
 *
 *   --<boundary>\r\nContent-Type: <type>\r\nContent-Range: bytes a-b/size
 *   \r\n\r\n<bytes>\r\n ... --<boundary>--
 *
 * A stream belongs to one thread at a time (the connection's).
 */
#ifndef STORAGE_OBJ_STREAM_H
#define STORAGE_OBJ_STREAM_H

#include "storage/byte_range.h"
#include "storage/diskfile.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct obj_stream; /* opaque */

/* A body of 'n' ranges of the open diskfile 'df': none means the whole
 * object, one that range, more a multipart body (with a random 32-hex
 * boundary and 'ctype' in each part's header). Takes ownership of 'df'
 * and 'ranges' (malloc()ed) whatever the outcome. Returns 0 and sets *out
 * (free with obj_stream_free()), or -ENOMEM / -EINVAL (not open). */
int obj_stream_new(struct diskfile *df, struct byte_range *ranges, size_t n,
                   const char *ctype, struct obj_stream **out);
void obj_stream_free(struct obj_stream *s); /* NULL is fine */

/* The body's length in bytes (the Content-Length). */
uint64_t obj_stream_size(const struct obj_stream *s);

/* The multipart boundary, "" for a single part. */
const char *obj_stream_boundary(const struct obj_stream *s);

/* Writes the next bytes at body offset 'pos' (what was read so far) into
 * 'buf'. Returns the count (1..max), 0 at the end, or -errno: -EUCLEAN when
 * a whole-object read found the MD5 wrong (quarantined), -EIO... */
ssize_t obj_stream_read(struct obj_stream *s, uint64_t pos, char *buf,
                        size_t max);

#endif /* STORAGE_OBJ_STREAM_H */
