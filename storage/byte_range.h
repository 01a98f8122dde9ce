/*
 * byte_range.h - the Range header as Swift's swob reads it (Range and
 * ranges_for_length): which byte ranges of an object of a given length a
 * GET serves, or that it answers 416. Pure functions, thread-safe.
 */
#ifndef STORAGE_BYTE_RANGE_H
#define STORAGE_BYTE_RANGE_H

#include <stddef.h>
#include <stdint.h>

/* A half-open range [start, end) of the object's bytes. */
struct byte_range {
    uint64_t start, end;
};

/* swob's limits on egregious range sets (RFC 7233 §6.1): more ranges,
 * more overlapping pairs, or this many ranges out of order get 416. */
#define BYTE_RANGE_MAX 50
#define BYTE_RANGE_MAX_OVERLAPS 2
#define BYTE_RANGE_MAX_NONASCENDING 8

/* Parses the Range header 'hdr' against an object of 'length' bytes.
 * Returns 0 and *n 0 when the header is to be ignored (not "bytes=",
 * any syntactically bad spec such as "5-3", "-", "a-b": serve the whole
 * object); 0 with *n ranges in *out (malloc()ed, the caller frees) in
 * request order, clipped to the length; -ERANGE when none is satisfiable
 * or the set is egregious (answer 416); -ENOMEM. */
int byte_range_parse(const char *hdr, uint64_t length, struct byte_range **out,
                     size_t *n);

#endif /* STORAGE_BYTE_RANGE_H */
