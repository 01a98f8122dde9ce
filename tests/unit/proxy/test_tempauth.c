/* Description: tempauth users, tokens (issue, reuse, expiry) and the
 * authorize() decision, against outcomes computed with Swift 2.30's
 * TempAuth. */
#include "proxy/tempauth.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#define NOW 1700000000.0

static struct tempauth *make(void)
{
    static const char *const conf[][2] = {
        {"user_test_tester", "testing .admin"},
        {"user_test2_tester2",
         "testing2 http://example.com:8080/v1/AUTH_other"},
        {"user64_dGVzdDM_dGVzdGVyMw", "testing3"},
        {"user_test4_t4", "k $HOST/v1/AUTH_4"},
        {"user_admin_admin", "admin .admin .reseller_admin"},
        {"user_rr_rr", "rr .reseller_reader"},
        {"token_life", "100"},
        {"use", "egg:swift#tempauth"},
    };
    struct tempauth *ta;
    char err[128];
    size_t i;

    assert_int_equal(tempauth_new(&ta), 0);
    for (i = 0; i < sizeof(conf) / sizeof(conf[0]); i++)
        assert_int_equal(
            tempauth_set(ta, conf[i][0], conf[i][1], err, sizeof(err)), 0);
    return ta;
}

static void test_config_errors(void **state)
{
    struct tempauth *ta;
    char err[128];

    (void)state;
    assert_int_equal(tempauth_new(&ta), 0);
    assert_string_equal(tempauth_reseller_prefix(ta), "AUTH_");
    assert_int_equal(tempauth_set(ta, "user_a_b_c", "k", err, sizeof(err)),
                     -EINVAL);
    assert_string_equal(err,
                        "key user_a_b_c was provided in an invalid format");
    assert_int_equal(tempauth_set(ta, "user_ab", "k", err, sizeof(err)),
                     -EINVAL);
    assert_int_equal(tempauth_set(ta, "user_a_b", "  ", err, sizeof(err)),
                     -EINVAL);
    assert_string_equal(err, "user_a_b: has no key set");
    assert_int_equal(tempauth_set(ta, "token_life", "x", err, sizeof(err)),
                     -EINVAL);
    assert_int_equal(tempauth_set(ta, "reseller_prefix", " SVC , '', SVC_", err,
                                  sizeof(err)),
                     0);
    assert_string_equal(tempauth_reseller_prefix(ta), "SVC_");
    assert_int_equal(tempauth_set(ta, "auth_prefix", "//", err, sizeof(err)),
                     0);
    assert_true(tempauth_is_auth_path(ta, "/auth/v1.0"));
    assert_int_equal(tempauth_set(ta, "auth_prefix", "x", err, sizeof(err)), 0);
    assert_true(tempauth_is_auth_path(ta, "/x/v1.0"));
    assert_false(tempauth_is_auth_path(ta, "/x"));
    tempauth_free(ta);
    tempauth_free(NULL);
}

static void test_user_groups(void **state)
{
    struct tempauth *ta = make();
    char *g;

    (void)state;
    g = tempauth_user_groups(ta, "test", "tester");
    assert_string_equal(g, "test,test:tester,AUTH_test");
    free(g);
    g = tempauth_user_groups(ta, "test2", "tester2");
    assert_string_equal(g, "test2,test2:tester2");
    free(g);
    g = tempauth_user_groups(ta, "admin", "admin");
    assert_string_equal(g, "admin,admin:admin,.reseller_admin,AUTH_admin");
    free(g);
    g = tempauth_user_groups(ta, "test3", "tester3"); /* from user64_ */
    assert_string_equal(g, "test3,test3:tester3");
    free(g);
    assert_null(tempauth_user_groups(ta, "test", "nobody"));
    tempauth_free(ta);
}

struct login_case {
    const char *method, *path, *auth_user, *auth_key, *storage_user,
        *storage_pass;
    unsigned int status;
    const char *realm, *url;
};

/* From Swift's TempAuth with the same users and host_url
 * "http://localhost". */
static const struct login_case logins[] = {
    {"GET", "/auth/v1.0", "test:tester", "testing", NULL, NULL, 200, NULL,
     "http://localhost/v1/AUTH_test"},
    {"GET", "/auth/v1.0", NULL, NULL, "test:tester", "testing", 200, NULL,
     "http://localhost/v1/AUTH_test"},
    {"GET", "/auth/v1.0", "test:tester", "wrong", NULL, NULL, 401, "unknown",
     NULL},
    {"GET", "/auth/v1.0", "test:nobody", "testing", NULL, NULL, 401, "test",
     NULL},
    {"GET", "/auth/v1.0", "tester", "testing", NULL, NULL, 401, "unknown",
     NULL},
    {"GET", "/auth/v1.0", "test:tester", NULL, NULL, NULL, 401, "test", NULL},
    {"GET", "/auth/v1.0", ":tester", "x", NULL, NULL, 401, "unknown", NULL},
    {"GET", "/auth/auth", "test2:tester2", "testing2", NULL, NULL, 200, NULL,
     "http://example.com:8080/v1/AUTH_other"},
    {"GET", "/auth/v1/test/auth", NULL, NULL, "tester", "testing", 200, NULL,
     "http://localhost/v1/AUTH_test"},
    {"GET", "/auth/v1/test/auth", "test:tester", "testing", NULL, NULL, 200,
     NULL, "http://localhost/v1/AUTH_test"},
    {"GET", "/auth/v1/test/auth", "test2:tester2", "testing2", NULL, NULL, 401,
     "test", NULL},
    {"GET", "/auth/v1/test", "test:tester", "testing", NULL, NULL, 400, NULL,
     NULL},
    {"GET", "/auth/v2", "test:tester", "testing", NULL, NULL, 400, NULL, NULL},
    {"GET", "/auth/", NULL, NULL, NULL, NULL, 404, NULL, NULL},
    {"POST", "/auth/v1.0", NULL, NULL, NULL, NULL, 405, NULL, NULL},
    {"GET", "/auth/v1.0", "test3:tester3", "testing3", NULL, NULL, 200, NULL,
     "http://localhost/v1/AUTH_test3"},
    {"GET", "/auth/v1.0", "test4:t4", "k", NULL, NULL, 200, NULL,
     "http://localhost/v1/AUTH_4"},
};

static void test_login(void **state)
{
    struct tempauth *ta = make();
    struct tempauth_grant g;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(logins) / sizeof(logins[0]); i++) {
        const struct login_case *c = &logins[i];
        struct tempauth_login in = {
            c->method,       c->path,         c->auth_user,      c->auth_key,
            c->storage_user, c->storage_pass, "http://localhost"};

        assert_int_equal(tempauth_login(ta, &in, NOW, &g), 0);
        if (g.status != c->status)
            fail_msg("case %zu: got %u want %u", i, g.status, c->status);
        if (c->realm)
            assert_string_equal(g.realm, c->realm);
        else
            assert_null(g.realm);
        if (c->url) {
            assert_string_equal(g.storage_url, c->url);
            assert_int_equal(g.expires_in, 100);
            assert_int_equal(strlen(g.token), strlen("AUTH_tk") + 32);
            assert_memory_equal(g.token, "AUTH_tk", 7);
            assert_int_equal(g.token[7 + 12], '4'); /* uuid4().hex */
        } else {
            assert_null(g.token);
        }
        tempauth_grant_release(&g);
    }
    tempauth_free(ta);
}

static void test_token_reuse_and_expiry(void **state)
{
    struct tempauth *ta = make();
    struct tempauth_login in = {"GET", "/auth/v1.0", "test:tester",  "testing",
                                NULL,  NULL,         "http://h:8080"};
    struct tempauth_grant a, b, c;
    struct tempauth_identity id;
    char err[64];

    (void)state;
    assert_int_equal(tempauth_login(ta, &in, NOW, &a), 0);
    assert_int_equal(tempauth_login(ta, &in, NOW + 40, &b), 0);
    assert_string_equal(a.token, b.token); /* still valid: handed out again */
    assert_int_equal(b.expires_in, 60);
    assert_int_equal(
        tempauth_identify(ta, a.token, "/v1/AUTH_test", NOW + 99, &id), 0);
    assert_int_equal(id.status, 0);
    assert_true(id.authoritative);
    assert_false(id.reseller_request);
    assert_string_equal(id.groups, "test,test:tester,AUTH_test");
    tempauth_identity_release(&id);
    /* expired: a 401 naming the account, and login mints a new token */
    assert_int_equal(
        tempauth_identify(ta, a.token, "/v1/AUTH_test/c", NOW + 101, &id), 0);
    assert_int_equal(id.status, 401);
    assert_string_equal(id.realm, "AUTH_test");
    assert_null(id.groups);
    tempauth_identity_release(&id);
    assert_int_equal(tempauth_login(ta, &in, NOW + 101, &c), 0);
    assert_string_not_equal(a.token, c.token);
    assert_string_equal(c.storage_url, "http://h:8080/v1/AUTH_test");
    /* storage_url_scheme rewrites the scheme */
    assert_int_equal(
        tempauth_set(ta, "storage_url_scheme", "https", err, sizeof(err)), 0);
    tempauth_grant_release(&b);
    assert_int_equal(tempauth_login(ta, &in, NOW + 101, &b), 0);
    assert_string_equal(b.storage_url, "https://h:8080/v1/AUTH_test");
    tempauth_grant_release(&a);
    tempauth_grant_release(&b);
    tempauth_grant_release(&c);
    tempauth_free(ta);
}

static void test_identify(void **state)
{
    struct tempauth *ta = make();
    struct tempauth_identity id;

    (void)state;
    /* unknown token of ours: 401 at once; realm "unknown" for short paths */
    assert_int_equal(tempauth_identify(ta, "AUTH_tkbogus", "/v1", NOW, &id), 0);
    assert_int_equal(id.status, 401);
    assert_string_equal(id.realm, "unknown");
    tempauth_identity_release(&id);
    /* anonymous on our account: authorize() decides */
    assert_int_equal(tempauth_identify(ta, NULL, "/v1/AUTH_test/c/o", NOW, &id),
                     0);
    assert_int_equal(id.status, 0);
    assert_true(id.authoritative);
    tempauth_identity_release(&id);
    /* another reseller's token or account: denied later */
    assert_int_equal(
        tempauth_identify(ta, "OTHER_tk1", "/v1/OTHER_x/c", NOW, &id), 0);
    assert_int_equal(id.status, 0);
    assert_false(id.authoritative);
    tempauth_identity_release(&id);
    tempauth_free(ta);
}

struct authz_case {
    const char *who, *method, *path, *acl, *referer, *account_acl;
    int status, owner;
};

/* Generated by gen_tempauth_matrix.py, which runs Swift 2.30's
 * TempAuth.authorize() with these users
 * (REMOTE_USER as tempauth sets it; req.acl as the proxy sets it; account
 * ACLs as get_account_info() would return them). */
static const struct authz_case authz[] = {
    {"tester", "GET", "/v1/AUTH_test", NULL, NULL, NULL, 0, 1},
    {"tester2", "GET", "/v1/AUTH_test", NULL, NULL, NULL, 403, 0},
    {"admin", "GET", "/v1/AUTH_test", NULL, NULL, NULL, 0, 1},
    {"rr", "GET", "/v1/AUTH_test", NULL, NULL, NULL, 0, 0},
    {"anon", "GET", "/v1/AUTH_test", NULL, NULL, NULL, 401, 0},
    {"tester", "GET", "/v1/AUTH_test/c", NULL, NULL, NULL, 0, 1},
    {"tester2", "GET", "/v1/AUTH_test/c", NULL, NULL, NULL, 403, 0},
    {"admin", "GET", "/v1/AUTH_test/c", NULL, NULL, NULL, 0, 1},
    {"rr", "GET", "/v1/AUTH_test/c", NULL, NULL, NULL, 0, 0},
    {"anon", "GET", "/v1/AUTH_test/c", NULL, NULL, NULL, 401, 0},
    {"tester", "GET", "/v1/AUTH_test/c/o", NULL, NULL, NULL, 0, 1},
    {"tester2", "GET", "/v1/AUTH_test/c/o", NULL, NULL, NULL, 403, 0},
    {"admin", "GET", "/v1/AUTH_test/c/o", NULL, NULL, NULL, 0, 1},
    {"rr", "GET", "/v1/AUTH_test/c/o", NULL, NULL, NULL, 0, 0},
    {"anon", "GET", "/v1/AUTH_test/c/o", NULL, NULL, NULL, 401, 0},
    {"tester", "HEAD", "/v1/AUTH_test", NULL, NULL, NULL, 0, 1},
    {"tester2", "HEAD", "/v1/AUTH_test", NULL, NULL, NULL, 403, 0},
    {"admin", "HEAD", "/v1/AUTH_test", NULL, NULL, NULL, 0, 1},
    {"rr", "HEAD", "/v1/AUTH_test", NULL, NULL, NULL, 0, 0},
    {"anon", "HEAD", "/v1/AUTH_test", NULL, NULL, NULL, 401, 0},
    {"tester", "HEAD", "/v1/AUTH_test/c", NULL, NULL, NULL, 0, 1},
    {"tester2", "HEAD", "/v1/AUTH_test/c", NULL, NULL, NULL, 403, 0},
    {"admin", "HEAD", "/v1/AUTH_test/c", NULL, NULL, NULL, 0, 1},
    {"rr", "HEAD", "/v1/AUTH_test/c", NULL, NULL, NULL, 0, 0},
    {"anon", "HEAD", "/v1/AUTH_test/c", NULL, NULL, NULL, 401, 0},
    {"tester", "HEAD", "/v1/AUTH_test/c/o", NULL, NULL, NULL, 0, 1},
    {"tester2", "HEAD", "/v1/AUTH_test/c/o", NULL, NULL, NULL, 403, 0},
    {"admin", "HEAD", "/v1/AUTH_test/c/o", NULL, NULL, NULL, 0, 1},
    {"rr", "HEAD", "/v1/AUTH_test/c/o", NULL, NULL, NULL, 0, 0},
    {"anon", "HEAD", "/v1/AUTH_test/c/o", NULL, NULL, NULL, 401, 0},
    {"tester", "PUT", "/v1/AUTH_test", NULL, NULL, NULL, 403, 0},
    {"tester2", "PUT", "/v1/AUTH_test", NULL, NULL, NULL, 403, 0},
    {"admin", "PUT", "/v1/AUTH_test", NULL, NULL, NULL, 0, 1},
    {"rr", "PUT", "/v1/AUTH_test", NULL, NULL, NULL, 403, 0},
    {"anon", "PUT", "/v1/AUTH_test", NULL, NULL, NULL, 401, 0},
    {"tester", "PUT", "/v1/AUTH_test/c", NULL, NULL, NULL, 0, 1},
    {"tester2", "PUT", "/v1/AUTH_test/c", NULL, NULL, NULL, 403, 0},
    {"admin", "PUT", "/v1/AUTH_test/c", NULL, NULL, NULL, 0, 1},
    {"rr", "PUT", "/v1/AUTH_test/c", NULL, NULL, NULL, 403, 0},
    {"anon", "PUT", "/v1/AUTH_test/c", NULL, NULL, NULL, 401, 0},
    {"tester", "PUT", "/v1/AUTH_test/c/o", NULL, NULL, NULL, 0, 1},
    {"tester2", "PUT", "/v1/AUTH_test/c/o", NULL, NULL, NULL, 403, 0},
    {"admin", "PUT", "/v1/AUTH_test/c/o", NULL, NULL, NULL, 0, 1},
    {"rr", "PUT", "/v1/AUTH_test/c/o", NULL, NULL, NULL, 403, 0},
    {"anon", "PUT", "/v1/AUTH_test/c/o", NULL, NULL, NULL, 401, 0},
    {"tester", "POST", "/v1/AUTH_test", NULL, NULL, NULL, 0, 1},
    {"tester2", "POST", "/v1/AUTH_test", NULL, NULL, NULL, 403, 0},
    {"admin", "POST", "/v1/AUTH_test", NULL, NULL, NULL, 0, 1},
    {"rr", "POST", "/v1/AUTH_test", NULL, NULL, NULL, 403, 0},
    {"anon", "POST", "/v1/AUTH_test", NULL, NULL, NULL, 401, 0},
    {"tester", "POST", "/v1/AUTH_test/c", NULL, NULL, NULL, 0, 1},
    {"tester2", "POST", "/v1/AUTH_test/c", NULL, NULL, NULL, 403, 0},
    {"admin", "POST", "/v1/AUTH_test/c", NULL, NULL, NULL, 0, 1},
    {"rr", "POST", "/v1/AUTH_test/c", NULL, NULL, NULL, 403, 0},
    {"anon", "POST", "/v1/AUTH_test/c", NULL, NULL, NULL, 401, 0},
    {"tester", "POST", "/v1/AUTH_test/c/o", NULL, NULL, NULL, 0, 1},
    {"tester2", "POST", "/v1/AUTH_test/c/o", NULL, NULL, NULL, 403, 0},
    {"admin", "POST", "/v1/AUTH_test/c/o", NULL, NULL, NULL, 0, 1},
    {"rr", "POST", "/v1/AUTH_test/c/o", NULL, NULL, NULL, 403, 0},
    {"anon", "POST", "/v1/AUTH_test/c/o", NULL, NULL, NULL, 401, 0},
    {"tester", "DELETE", "/v1/AUTH_test", NULL, NULL, NULL, 403, 0},
    {"tester2", "DELETE", "/v1/AUTH_test", NULL, NULL, NULL, 403, 0},
    {"admin", "DELETE", "/v1/AUTH_test", NULL, NULL, NULL, 0, 1},
    {"rr", "DELETE", "/v1/AUTH_test", NULL, NULL, NULL, 403, 0},
    {"anon", "DELETE", "/v1/AUTH_test", NULL, NULL, NULL, 401, 0},
    {"tester", "DELETE", "/v1/AUTH_test/c", NULL, NULL, NULL, 0, 1},
    {"tester2", "DELETE", "/v1/AUTH_test/c", NULL, NULL, NULL, 403, 0},
    {"admin", "DELETE", "/v1/AUTH_test/c", NULL, NULL, NULL, 0, 1},
    {"rr", "DELETE", "/v1/AUTH_test/c", NULL, NULL, NULL, 403, 0},
    {"anon", "DELETE", "/v1/AUTH_test/c", NULL, NULL, NULL, 401, 0},
    {"tester", "DELETE", "/v1/AUTH_test/c/o", NULL, NULL, NULL, 0, 1},
    {"tester2", "DELETE", "/v1/AUTH_test/c/o", NULL, NULL, NULL, 403, 0},
    {"admin", "DELETE", "/v1/AUTH_test/c/o", NULL, NULL, NULL, 0, 1},
    {"rr", "DELETE", "/v1/AUTH_test/c/o", NULL, NULL, NULL, 403, 0},
    {"anon", "DELETE", "/v1/AUTH_test/c/o", NULL, NULL, NULL, 401, 0},
    {"tester", "OPTIONS", "/v1/AUTH_test", NULL, NULL, NULL, 0, 1},
    {"tester2", "OPTIONS", "/v1/AUTH_test", NULL, NULL, NULL, 0, 0},
    {"admin", "OPTIONS", "/v1/AUTH_test", NULL, NULL, NULL, 0, 1},
    {"rr", "OPTIONS", "/v1/AUTH_test", NULL, NULL, NULL, 0, 0},
    {"anon", "OPTIONS", "/v1/AUTH_test", NULL, NULL, NULL, 0, 0},
    {"tester", "OPTIONS", "/v1/AUTH_test/c", NULL, NULL, NULL, 0, 1},
    {"tester2", "OPTIONS", "/v1/AUTH_test/c", NULL, NULL, NULL, 0, 0},
    {"admin", "OPTIONS", "/v1/AUTH_test/c", NULL, NULL, NULL, 0, 1},
    {"rr", "OPTIONS", "/v1/AUTH_test/c", NULL, NULL, NULL, 0, 0},
    {"anon", "OPTIONS", "/v1/AUTH_test/c", NULL, NULL, NULL, 0, 0},
    {"tester", "OPTIONS", "/v1/AUTH_test/c/o", NULL, NULL, NULL, 0, 1},
    {"tester2", "OPTIONS", "/v1/AUTH_test/c/o", NULL, NULL, NULL, 0, 0},
    {"admin", "OPTIONS", "/v1/AUTH_test/c/o", NULL, NULL, NULL, 0, 1},
    {"rr", "OPTIONS", "/v1/AUTH_test/c/o", NULL, NULL, NULL, 0, 0},
    {"anon", "OPTIONS", "/v1/AUTH_test/c/o", NULL, NULL, NULL, 0, 0},
    {"tester", "GET", "/v1/OTHER_test", NULL, NULL, NULL, 403, 0},
    {"admin", "GET", "/v1/AUTH_", NULL, NULL, NULL, 403, 0},
    {"admin", "GET", "/v1/AUTH_.misc", NULL, NULL, NULL, 403, 0},
    {"rr", "GET", "/v1/AUTH_.misc", NULL, NULL, NULL, 403, 0},
    {"anon", "GET", "/v1", NULL, NULL, NULL, 401, 0},
    {"tester", "GET", "/v1", NULL, NULL, NULL, 403, 0},
    {"tester", "GET", "//x", NULL, NULL, NULL, 404, 0},
    {"tester2", "GET", "/v1/AUTH_test/c/o", ".r:*", NULL, NULL, 0, 0},
    {"tester2", "GET", "/v1/AUTH_test/c", ".r:*", NULL, NULL, 403, 0},
    {"tester2", "GET", "/v1/AUTH_test/c", ".r:*,.rlistings", NULL, NULL, 0, 0},
    {"tester2", "GET", "/v1/AUTH_test/c/o", ".r:.example.com",
     "http://www.example.com/page", NULL, 0, 0},
    {"tester2", "GET", "/v1/AUTH_test/c/o",
     ".r:.example.com,.r:-bad.example.com", "http://bad.example.com/", NULL,
     403, 0},
    {"tester2", "GET", "/v1/AUTH_test/c/o", "test2:tester2", NULL, NULL, 0, 0},
    {"tester2", "GET", "/v1/AUTH_test/c/o", "test2", NULL, NULL, 0, 0},
    {"tester2", "PUT", "/v1/AUTH_test/c/o", "*:tester2", NULL, NULL, 403, 0},
    {"tester2", "PUT", "/v1/AUTH_test/c/o", "test2:tester2", NULL, NULL, 0, 0},
    {"tester2", "PUT", "/v1/AUTH_test/c", "test2:tester2", NULL, NULL, 0, 0},
    {"anon", "GET", "/v1/AUTH_test/c/o", ".r:*", NULL, NULL, 0, 0},
    {"anon", "GET", "/v1/AUTH_test/c", ".r:*", NULL, NULL, 401, 0},
    {"anon", "GET", "/v1/AUTH_test/c", ".r:*,.rlistings", NULL, NULL, 0, 0},
    {"anon", "GET", "/v1/AUTH_test/c/o", ".r:.example.com",
     "http://www.example.com/page", NULL, 0, 0},
    {"anon", "GET", "/v1/AUTH_test/c/o", ".r:.example.com,.r:-bad.example.com",
     "http://bad.example.com/", NULL, 401, 0},
    {"anon", "GET", "/v1/AUTH_test/c/o", "test2:tester2", NULL, NULL, 401, 0},
    {"anon", "GET", "/v1/AUTH_test/c/o", "test2", NULL, NULL, 401, 0},
    {"anon", "PUT", "/v1/AUTH_test/c/o", "*:tester2", NULL, NULL, 401, 0},
    {"anon", "PUT", "/v1/AUTH_test/c/o", "test2:tester2", NULL, NULL, 401, 0},
    {"anon", "PUT", "/v1/AUTH_test/c", "test2:tester2", NULL, NULL, 401, 0},
    {"tester2", "PUT", "/v1/AUTH_test", NULL, NULL,
     "{\"admin\":[\"test2:tester2\"], \"read-write\": [], \"read-only\": []}",
     0, 1},
    {"tester2", "DELETE", "/v1/AUTH_test/c", NULL, NULL,
     "{\"admin\":[\"test2:tester2\"], \"read-write\": [], \"read-only\": []}",
     0, 1},
    {"tester2", "PUT", "/v1/AUTH_test/c", NULL, NULL,
     "{\"admin\":[], \"read-write\": [\"test2\"], \"read-only\": []}", 0, 0},
    {"tester2", "POST", "/v1/AUTH_test", NULL, NULL,
     "{\"admin\":[], \"read-write\": [\"test2\"], \"read-only\": []}", 403, 0},
    {"tester2", "HEAD", "/v1/AUTH_test", NULL, NULL,
     "{\"admin\":[], \"read-write\": [\"test2\"], \"read-only\": []}", 0, 0},
    {"tester2", "GET", "/v1/AUTH_test/c/o", NULL, NULL,
     "{\"admin\":[], \"read-write\": [], \"read-only\": [\"test2:tester2\"]}",
     0, 0},
    {"tester2", "PUT", "/v1/AUTH_test/c/o", NULL, NULL,
     "{\"admin\":[], \"read-write\": [], \"read-only\": [\"test2:tester2\"]}",
     403, 0},
};

static const char *groups_of(const char *who)
{
    if (!strcmp(who, "tester"))
        return "test,test:tester,AUTH_test";
    if (!strcmp(who, "tester2"))
        return "test2,test2:tester2";
    if (!strcmp(who, "admin"))
        return "admin,admin:admin,.reseller_admin,AUTH_admin";
    if (!strcmp(who, "rr"))
        return "rr,rr:rr,.reseller_reader";
    return NULL;
}

static void test_authorize_matrix(void **state)
{
    struct tempauth *ta = make();
    struct tempauth_identity id = {.authoritative = true};
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(authz) / sizeof(authz[0]); i++) {
        const struct authz_case *c = &authz[i];
        struct tempauth_request req = {
            c->method,  c->path, groups_of(c->who), c->acl,
            c->referer, NULL,    c->account_acl};
        bool owner;
        char *body;
        int r;

        r = tempauth_authorize(ta, &id, &req, &owner, &body);
        if (r != c->status || owner != (bool)c->owner)
            fail_msg("case %zu: %s %s %s: got %d owner %d, want %d owner %d", i,
                     c->who, c->method, c->path, r, owner, c->status, c->owner);
        assert_null(body);
    }
    tempauth_free(ta);
}

static void test_authorize_account_acl_header(void **state)
{
    struct tempauth *ta = make();
    struct tempauth_identity id = {.authoritative = true};
    struct tempauth_request req = {"POST",
                                   "/v1/AUTH_test",
                                   "test,test:tester,AUTH_test",
                                   NULL,
                                   NULL,
                                   "{\"foo\":[]}",
                                   NULL};
    bool owner;
    char *body;

    (void)state;
    assert_int_equal(tempauth_authorize(ta, &id, &req, &owner, &body), 400);
    assert_string_equal(body, "X-Account-Access-Control invalid: Key "
                              "\"foo\" not recognized\n\nInput: "
                              "{\"foo\":[]}\n");
    free(body);
    req.account_acl_header = "{\"read-only\":[\"test2\"]}";
    assert_int_equal(tempauth_authorize(ta, &id, &req, &owner, &body), 0);
    assert_true(owner);
    /* not authoritative: denied_response() */
    id.authoritative = false;
    assert_int_equal(tempauth_authorize(ta, &id, &req, &owner, &body), 403);
    req.groups = NULL;
    assert_int_equal(tempauth_authorize(ta, &id, &req, &owner, &body), 401);
    tempauth_free(ta);
}

/* From Swift's TempAuth with reseller_prefix "AUTH, SVC",
 * require_group g1 and SVC_require_group g2. */
static void test_require_group(void **state)
{
    static const struct {
        const char *groups, *path;
        int status;
    } cases[] = {
        {"test,test:tester,AUTH_test,SVC_test", "/v1/AUTH_test/c", 403},
        {"test,test:tester,AUTH_test,SVC_test", "/v1/SVC_test/c", 403},
        {"test,test:tester,g1,AUTH_test,SVC_test", "/v1/AUTH_test/c", 0},
        {"test,test:tester,g1,AUTH_test,SVC_test", "/v1/SVC_test/c", 403},
        {"test,test:tester,g2,AUTH_test,SVC_test", "/v1/AUTH_test/c", 403},
        {"test,test:tester,g2,AUTH_test,SVC_test", "/v1/SVC_test/c", 0},
    };
    struct tempauth_identity id = {.authoritative = true};
    struct tempauth *ta;
    char err[64], *g, *body;
    bool owner;
    size_t i;

    (void)state;
    assert_int_equal(tempauth_new(&ta), 0);
    assert_int_equal(
        tempauth_set(ta, "reseller_prefix", "AUTH, SVC", err, sizeof(err)), 0);
    assert_int_equal(
        tempauth_set(ta, "require_group", " g1 ", err, sizeof(err)), 0);
    assert_int_equal(
        tempauth_set(ta, "SVC_require_group", "g2", err, sizeof(err)), 0);
    assert_int_equal(
        tempauth_set(ta, "user_test_tester", "x .admin", err, sizeof(err)), 0);
    g = tempauth_user_groups(ta, "test", "tester");
    assert_string_equal(g, "test,test:tester,AUTH_test,SVC_test");
    free(g);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct tempauth_request req = {
            "GET", cases[i].path, cases[i].groups, NULL, NULL, NULL, NULL};

        assert_int_equal(tempauth_authorize(ta, &id, &req, &owner, &body),
                         cases[i].status);
        assert_int_equal(owner, cases[i].status == 0);
    }
    tempauth_free(ta);
}

struct race {
    struct tempauth *ta;
    char token[64];
};

static void *login_many(void *arg)
{
    struct race *r = arg;
    struct tempauth_login in = {"GET", "/auth/v1.0", "test:tester", "testing",
                                NULL,  NULL,         "http://h"};
    struct tempauth_identity id;
    struct tempauth_grant g;
    int i;

    for (i = 0; i < 200; i++) {
        if (tempauth_login(r->ta, &in, NOW + i, &g) || g.status != 200)
            return "login";
        snprintf(r->token, sizeof(r->token), "%s", g.token);
        tempauth_grant_release(&g);
        if (tempauth_identify(r->ta, r->token, "/v1/AUTH_test", NOW + i, &id) ||
            id.status)
            return "identify";
        tempauth_identity_release(&id);
    }
    return NULL;
}

/* Threads logging in and checking the same user's token share it. */
static void test_threads_share_tokens(void **state)
{
    struct race r[4];
    pthread_t t[4];
    struct tempauth *ta = make();
    void *ret;
    int i;

    (void)state;
    for (i = 0; i < 4; i++) {
        r[i].ta = ta;
        assert_int_equal(pthread_create(&t[i], NULL, login_many, &r[i]), 0);
    }
    for (i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(t[i], &ret), 0);
        assert_null(ret);
    }
    for (i = 1; i < 4; i++)
        assert_string_equal(r[0].token, r[i].token);
    tempauth_free(ta);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_user_groups),
        cmocka_unit_test(test_login),
        cmocka_unit_test(test_token_reuse_and_expiry),
        cmocka_unit_test(test_identify),
        cmocka_unit_test(test_authorize_matrix),
        cmocka_unit_test(test_authorize_account_acl_header),
        cmocka_unit_test(test_require_group),
        cmocka_unit_test(test_threads_share_tokens),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
