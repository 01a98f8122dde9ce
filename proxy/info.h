/*
 * info.h - the body of GET /info: Swift 2.30's shape, {"swift": {version,
 * strict_cors_mode, policies, allow_account_management,
 * account_autocreate, <the constraints>}, "tempauth": {"account_acls":
 * true}}, less the disallowed sections. Only sections for features the
 * proxy has are emitted; a new filter adds its section here.
 */
#ifndef PROXY_INFO_H
#define PROXY_INFO_H

#include "proxy/constraints.h"

#include <jansson.h>
#include <stdbool.h>

struct info_opts {
    const char *version;           /* the "version" reported */
    const char *policy_name;       /* the one storage policy: "Policy-0" */
    bool strict_cors_mode;         /* Swift's default: true */
    bool allow_account_management; /* default false */
    bool account_autocreate;       /* default false */
    bool tempauth;                 /* tempauth is in the pipeline */
    /* proxy-server's disallowed_sections, comma-separated dotted paths;
     * NULL means Swift's default, "swift.auto_create_account_prefix,
     * swift.valid_api_versions" */
    const char *disallowed_sections;
};

/* Builds the /info document. Returns 0 and sets *out to a new reference
 * (json_decref() it; dump with JSON_PRESERVE_ORDER for Swift's key order),
 * or -ENOMEM. */
int info_new(const struct constraints *c, const struct info_opts *o,
             json_t **out);

#endif
