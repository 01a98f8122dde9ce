/*
 * policies.h - the storage policies <swift_dir>/swift.conf defines, as
 * the account and container servers need them: each [storage-policy:N]
 * section's index and name. Read once at startup; read-only after, so
 * request threads share it without locking.
 */
#ifndef STORAGE_POLICIES_H
#define STORAGE_POLICIES_H

#include <stddef.h>
#include <stdint.h>

#define POLICIES_MAX 64

struct policy {
    uint32_t index;
    char *name; /* NULL: none given (policy 0's is "Policy-0") */
};

/* A zeroed struct is empty; release with policies_release(). */
struct policies {
    struct policy items[POLICIES_MAX]; /* in the file's order */
    size_t n;
};

/* Reads the [storage-policy:N] sections of <swift_dir>/swift.conf (N a
 * decimal number up to UINT32_MAX; others are passed over, and so are
 * those past POLICIES_MAX). No file or no such section: Swift's default,
 * policy 0 alone, named "Policy-0". Returns 0 or -ENOMEM. */
int policies_load(const char *swift_dir, struct policies *out);
void policies_release(struct policies *p);

/* The policy of 'index', or NULL. Borrowed. */
const struct policy *policies_get(const struct policies *p, uint64_t index);

#endif /* STORAGE_POLICIES_H */
