/*
 * tempauth.h - Swift's tempauth as logic, without HTTP: the users of
 * [filter:tempauth], token issue and lookup (GET /auth/v1.0), and the
 * authorize() decision (allow, 401, 403) from a user's groups, the
 * request and the container and account ACLs.
 *
 * A request meets tempauth twice, as in Swift: tempauth_identify() when
 * it arrives (token -> groups, or an immediate 401), and
 * tempauth_authorize() once the controller knows the container's ACL.
 *
 * Tokens live in memory in this process, in a table guarded by a mutex:
 * every function here is thread-safe once the configuration is applied
 * (tempauth_set() is for startup only). A single proxy is assumed; see
 * doc/swift-api-constraints.md for several.
 */
#ifndef PROXY_TEMPAUTH_H
#define PROXY_TEMPAUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TEMPAUTH_DEFAULT_TOKEN_LIFE 86400

struct tempauth; /* opaque */

/* A tempauth with Swift's defaults: reseller_prefix AUTH, auth_prefix
 * /auth/, token_life 86400, storage_url_scheme default, no users. Returns
 * 0 or -ENOMEM; free with tempauth_free(). */
int tempauth_new(struct tempauth **out);
void tempauth_free(struct tempauth *ta); /* NULL is fine */

/* Applies one key of [filter:tempauth]: reseller_prefix (comma-separated,
 * "''" for empty; "_" appended as Swift does), auth_prefix, token_life,
 * storage_url_scheme, require_group and <prefix>require_group, and
 * user_<account>_<user> / user64_<b64 account>_<b64 user> = <key>
 * [group ...] [<storage url>]. Other keys are ignored and
 * return 0. Returns -EINVAL with the reason in 'errbuf' for a bad value,
 * or -ENOMEM. Not thread-safe: call before serving. */
int tempauth_set(struct tempauth *ta, const char *key, const char *value,
                 char *errbuf, size_t errlen);

/* The first reseller prefix ("AUTH_"), which prefixes tokens. */
const char *tempauth_reseller_prefix(const struct tempauth *ta);

/* Whether 'path' is for the auth handler (starts with auth_prefix). */
bool tempauth_is_auth_path(const struct tempauth *ta, const char *path);

/* A GET <auth_prefix>v1.0 (or auth, or v1/<account>/auth) request. */
struct tempauth_login {
    const char *method;
    const char *path;         /* e.g. "/auth/v1.0" */
    const char *auth_user;    /* X-Auth-User or NULL, likewise below */
    const char *auth_key;     /* X-Auth-Key */
    const char *storage_user; /* X-Storage-User */
    const char *storage_pass; /* X-Storage-Pass */
    const char *host_url;     /* replaces $HOST: "http://127.0.0.1:8080" */
};

/* The answer: status 200 with token (X-Auth-Token and X-Storage-Token),
 * expires_in (X-Auth-Token-Expires) and storage_url (X-Storage-Url); 401
 * with realm (Www-Authenticate: Swift realm="<realm>"); or 400, 404, 405
 * with nothing. A zeroed struct is empty; strings are malloc'ed. */
struct tempauth_grant {
    unsigned int status;
    char *token;
    int64_t expires_in;
    char *storage_url;
    char *realm;
};
void tempauth_grant_release(struct tempauth_grant *g);

/* handle_request()/handle_get_token(): checks the credentials and hands
 * out the user's current token, or a new one when it has none, it expired
 * or the user's groups changed. 'now' is Unix time. Returns 0 (the answer
 * is in *out) or -ENOMEM (or -EIO when no random bytes are available). */
int tempauth_login(struct tempauth *ta, const struct tempauth_login *in,
                   double now, struct tempauth_grant *out);

/* What tempauth learned of a request as it arrived (Swift's __call__). */
struct tempauth_identity {
    unsigned int status;   /* 401 to send at once (unknown or expired token) */
    char *realm;           /* with a 401: Swift realm="<realm>" */
    char *groups;          /* REMOTE_USER: "test,test:tester,AUTH_test" */
    bool authoritative;    /* authorize() decides; else the request is denied */
    bool reseller_request; /* groups hold .reseller_admin */
};
void tempauth_identity_release(struct tempauth_identity *id);

/* Looks up X-Auth-Token (or X-Storage-Token) 'token' (NULL: anonymous)
 * for a request to 'path'. Returns 0 or -ENOMEM. */
int tempauth_identify(struct tempauth *ta, const char *token, const char *path,
                      double now, struct tempauth_identity *id);

/* What authorize() needs; strings borrowed, NULL when absent. */
struct tempauth_request {
    const char *method;
    const char *path;   /* /v1/AUTH_test/c/o */
    const char *groups; /* tempauth_identity.groups */
    const char *acl;    /* req.acl: the container's read ACL for GET/HEAD,
                           its write ACL for object PUT/POST/DELETE */
    const char *referer;
    const char *account_acl_header; /* X-Account-Access-Control sent */
    const char *account_acl;        /* the account's stored ACL */
};

/* Swift's authorize() (or denied_response() when the identity is not
 * authoritative). Returns 0 to allow (*owner says whether the user owns
 * the account: swift_owner), 401 or 403, 404 for a path split_path
 * refuses, 400 with *body (malloc'ed) for a bad X-Account-Access-Control,
 * or -ENOMEM. */
int tempauth_authorize(const struct tempauth *ta,
                       const struct tempauth_identity *id,
                       const struct tempauth_request *req, bool *owner,
                       char **body);

/* The user's groups as tempauth computes them for a token (_get_user_
 * groups): "account,account:user[,group...]" with .admin replaced by the
 * reseller accounts. Returns a malloc'ed string, or NULL (unknown user or
 * no memory). For tests and tools. */
char *tempauth_user_groups(const struct tempauth *ta, const char *account,
                           const char *user);

/* A user as Swift's s3api meets it through tempauth: the S3 access key
 * is "<account>:<user>", the secret is the user's key, and requests go to
 * the account of the user's storage URL (its last segment, "AUTH_test").
 * Strings malloc'ed; a zeroed struct is empty. */
struct tempauth_s3_user {
    char *secret;
    char *groups;     /* as tempauth_user_groups() */
    char *account_id; /* "AUTH_test" */
};
/* Returns 0 and fills *out, -ENOENT when no user has 'access_key' (or
 * it has no ':'), or -ENOMEM. */
int tempauth_s3_user(const struct tempauth *ta, const char *access_key,
                     struct tempauth_s3_user *out);
void tempauth_s3_user_release(struct tempauth_s3_user *u);

#endif
