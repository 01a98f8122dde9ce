/*
 * ssync_recv.h - the receiving end of SSYNC (doc/replication.md §4): the
 * object server's "SSYNC /<dev>/<part>" reads the sender's inventory as
 * it streams in and compares each line with the local hash directory;
 * the answer is the lines of what it wants (ssync.h has both formats).
 *
 * Nothing is written: the sender then sends what was wanted as ordinary
 * replication PUT/POST/DELETE requests. The object server checks the
 * device and the path; this module gets the partition directory. One
 * struct ssync_recv belongs to one request (one thread).
 */
#ifndef STORAGE_SSYNC_RECV_H
#define STORAGE_SSYNC_RECV_H

#include <stddef.h>

struct ssync_recv; /* opaque */

/* Starts reading an inventory of the partition directory 'part_dir'
 * (<devices>/<dev>/objects/<part>; copied; it need not exist: then every
 * object is wanted). Returns 0 and sets *out (free with
 * ssync_recv_free()), or -ENOMEM. */
int ssync_recv_new(const char *part_dir, struct ssync_recv **out);

/* Takes the next 'len' bytes of the inventory. Returns 0; -EINVAL for a
 * malformed line; -E2BIG past SSYNC_MAX_BODY bytes or SSYNC_MAX_LINES
 * lines; -ENOMEM; or the -errno of reading a hash directory (-EIO). After
 * an error the inventory is refused: feed no more. */
int ssync_recv_feed(struct ssync_recv *r, const char *data, size_t len);

/* At the end of the body: returns 0 and points *answer at the *len bytes
 * of the answer (valid until ssync_recv_free()), or -EINVAL when the last
 * line has no newline. */
int ssync_recv_finish(struct ssync_recv *r, const char **answer, size_t *len);

/* The number of the line that ssync_recv_feed() refused (from 1), for the
 * 400's text. */
size_t ssync_recv_lineno(const struct ssync_recv *r);

void ssync_recv_free(struct ssync_recv *r); /* NULL is fine */

#endif /* STORAGE_SSYNC_RECV_H */
