/*
 * lifecycle_rules.h - when an S3 bucket's lifecycle rules expire an
 * object: the one evaluation of the rules the proxy (s3_lifecycle.c, the
 * X-Delete-At of an object written) and the container servers
 * (cont_lifecycle.c, objects already in the bucket) share, so both give
 * an object the same time.
 *
 * The rules are the JSON array the proxy keeps in the bucket's sysmeta
 * (X-Container-Sysmeta-S3api-Lifecycle): [{"id", "prefix", "enabled",
 * "days", "date"}, ...], "days" > 0 or a "date" of
 * "YYYY-MM-DDTHH:MM:SS[.fff]Z". S3's rule: an object is due at the Date,
 * or at its creation plus Days rounded up to the next midnight UTC; of
 * several enabled rules whose prefix matches, the earliest wins.
 *
 * A parsed struct lifecycle_rules is read-only: threads may share it.
 */
#ifndef COMMON_LIFECYCLE_RULES_H
#define COMMON_LIFECYCLE_RULES_H

#include <stdbool.h>
#include <stddef.h>

struct lifecycle_rule {
    char *prefix; /* "" matches every key */
    bool enabled;
    long long days; /* > 0, or 0 with 'date' */
    long long date; /* Unix time, or 0 with 'days' */
};

struct lifecycle_rules {
    struct lifecycle_rule *v;
    size_t n;
};

/* Parses the stored JSON. A rule without a usable Days or Date is kept
 * but never makes an object due. Returns 0, -EINVAL (not a JSON array)
 * or -ENOMEM; release 'out' with lifecycle_rules_release() whatever the
 * return. */
int lifecycle_rules_parse(const char *json, struct lifecycle_rules *out);
void lifecycle_rules_release(struct lifecycle_rules *rs);

/* Whether any rule is enabled (a bucket with none has nothing to do). */
bool lifecycle_rules_any_enabled(const struct lifecycle_rules *rs);

/* The Unix time rule 'r' makes an object created at 'created' (Unix
 * seconds) due at, whatever the rule's status or prefix; 0 for none. */
long long lifecycle_rule_due(const struct lifecycle_rule *r, long long created);

/* The earliest time an enabled rule whose prefix matches 'key' makes it
 * due, for an object created at 'created'; 0 when no rule applies. */
long long lifecycle_rules_due(const struct lifecycle_rules *rs, const char *key,
                              long long created);

#endif /* COMMON_LIFECYCLE_RULES_H */
