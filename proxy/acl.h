/*
 * acl.h - Swift's container ACLs (X-Container-Read, X-Container-Write) as
 * swift/common/middleware/acl.py defines them: cleaning what a client
 * sends, parsing what a container stores, and matching a Referer.
 *
 * An ACL is a comma-separated list of items: groups ("account",
 * "account:user", "*:user", ".rlistings") and, in read ACLs only, referrer
 * designations (".r:*", ".r:.example.com", ".r:-bad.example.com"). Strings
 * are bytes, as Swift's WSGI strings are: no UTF-8 decoding happens here.
 * Everything is thread-safe; nothing is kept between calls.
 */
#ifndef PROXY_ACL_H
#define PROXY_ACL_H

#include <stdbool.h>
#include <stddef.h>

/* A parsed ACL (parse_acl_v1). A zeroed struct is an empty ACL. */
struct acl {
    char **referrers; /* designations without ".r:", e.g. "-.bad.com" */
    size_t n_referrers;
    char **groups; /* percent-decoded */
    size_t n_groups;
};

/* clean_acl(): validates the value of ACL header 'header_name' and
 * normalizes it ("bob , sue" -> "bob,sue", ".ref:*.example.com" ->
 * ".r:.example.com"). Returns 0 and sets *out to a malloc'ed cleaned value;
 * -EINVAL with *message set to the malloc'ed 400 body Swift sends
 * ("Referrers not allowed in write ACL: '.r:*'", ...); or -ENOMEM. The
 * caller frees both with free(). */
int acl_clean(const char *header_name, const char *value, char **out,
              char **message);

/* parse_acl() (version 1) of a stored, cleaned ACL; NULL is an empty ACL.
 * Returns 0 or -ENOMEM. Release with acl_release(). */
int acl_parse(const char *acl_string, struct acl *acl);
void acl_release(struct acl *acl);

bool acl_has_group(const struct acl *acl, const char *group);

/* referrer_allowed(): whether the Referer header 'referrer' (NULL when
 * absent) passes the referrer designations, applied in order. */
bool acl_referrer_allowed(const char *referrer, const struct acl *acl);

/* Account ACLs: X-Account-Access-Control, version 2 (JSON), as tempauth
 * reads them: {"admin": [...], "read-write": [...], "read-only": [...]}
 * lists of groups. */
enum acl_account_level {
    ACL_ACCOUNT_ADMIN = 1 << 0,
    ACL_ACCOUNT_READ_WRITE = 1 << 1,
    ACL_ACCOUNT_READ_ONLY = 1 << 2,
};

/* tempauth's extract_acl_and_report_errors(): 0 when 'value' (the header
 * a client sent) is a valid account ACL; -EINVAL with *message set to the
 * malloc'ed 400 body ("X-Account-Access-Control invalid: Key \"foo\" not
 * recognized\n\nInput: ...\n"); or -ENOMEM. */
int acl_account_check(const char *value, char **message);

/* The X-Account-Access-Control header an account GET/HEAD returns to its
 * owner for the stored ACL 'stored' (format_acl version 2: compact JSON,
 * sorted keys, ASCII only). Sets *out to a malloc'ed value, or to NULL
 * when the ACL is absent, invalid or an empty object (no header). Returns
 * 0 or -ENOMEM. */
int acl_account_format(const char *stored, char **out);

/* The levels of the stored account ACL 'stored' (NULL: none) that any of
 * the comma-separated 'groups' holds, as a mask of acl_account_level; 0
 * when the ACL is absent, invalid or names none of them. */
unsigned int acl_account_match(const char *stored, const char *groups);

#endif
