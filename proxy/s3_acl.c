/*
 * s3_acl.c - S3 bucket ACLs as Swift container ACLs, where they can be
 * (s3api without s3_acl keeps no S3 ACL of its own either):
 *   canned: private (none), public-read (.r:*,.rlistings), public-read-
 *     write (and write .r:*);
 *   grants (x-amz-grant-* headers or an AccessControlPolicy body): READ
 *     to a user "<account>:<user>" (the access key is the S3 user id) or
 *     to an account, and to AllUsers (.r:*,.rlistings); WRITE likewise
 *     (AllUsers: .r:*); FULL_CONTROL is both. The owner's own grants say
 *     nothing Swift needs.
 * What Swift's ACLs cannot say is NotImplemented, never silently dropped:
 * grants to AuthenticatedUsers or LogDelivery, by e-mail, READ_ACP and
 * WRITE_ACP to anyone but the owner.
 */
#include "proxy/s3_acl.h"

#include "proxy/s3_expat.h"

#include <errno.h>
#include <expat.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ALL_USERS "http://acs.amazonaws.com/groups/global/AllUsers"

static void append(char **acl, const char *entry, int *err)
{
    size_t old = *acl ? strlen(*acl) : 0, n = strlen(entry);
    char *grown;

    if (*err)
        return;
    if (*acl) { /* once is enough */
        const char *p = *acl;

        while ((p = strstr(p, entry))) {
            if ((p == *acl || p[-1] == ',') && (p[n] == ',' || !p[n]))
                return;
            p += n;
        }
    }
    grown = realloc(*acl, old + n + 2);
    if (!grown) {
        *err = -ENOMEM;
        return;
    }
    if (old)
        grown[old++] = ',';
    memcpy(grown + old, entry, n + 1);
    *acl = grown;
}

/* A user or account name an ACL can hold: no controls, spaces or commas
 * (the ACL's separator), not a '.' rule. */
static bool name_ok(const char *id)
{
    if (!*id || id[0] == '.')
        return false;
    for (const unsigned char *p = (const unsigned char *)id; *p; p++)
        if (*p <= 0x20 || *p == 0x7f || *p == ',')
            return false;
    return true;
}

/* One grant. 'id' a user or account (CanonicalUser), or 'uri' a group. */
static void grant(struct s3_acl *a, const char *id, const char *uri,
                  const char *permission)
{
    bool rd = !strcmp(permission, "READ"), wr = !strcmp(permission, "WRITE"),
         full = !strcmp(permission, "FULL_CONTROL");

    if (id && !strcmp(id, a->owner))
        return; /* the owner has it all already */
    if (!rd && !wr && !full) {
        a->unsupported = "READ_ACP and WRITE_ACP grants have no Swift ACL";
        return;
    }
    if (uri) {
        if (strcmp(uri, ALL_USERS)) {
            a->unsupported = "Only the AllUsers group maps onto Swift ACLs";
            return;
        }
        if (rd || full) {
            append(&a->read, ".r:*", &a->err);
            append(&a->read, ".rlistings", &a->err);
        }
        if (wr || full)
            append(&a->write, ".r:*", &a->err);
        return;
    }
    if (!id || !name_ok(id)) {
        a->unsupported = "Grantees must be access keys (<account>:<user>) "
                         "or accounts";
        return;
    }
    if (rd || full)
        append(&a->read, id, &a->err);
    if (wr || full)
        append(&a->write, id, &a->err);
}

/* x-amz-grant-<permission>: id="a:b", uri="...", emailAddress="..." */
static void grant_header(struct s3_acl *a, const char *v, const char *perm)
{
    while (v && *v && !a->unsupported && !a->err) {
        char key[32], val[512];
        int used = 0;

        while (*v == ' ' || *v == ',')
            v++;
        if (!*v)
            break;
        if (sscanf(v, "%31[^=]=\"%511[^\"]\"%n", key, val, &used) != 2 ||
            !used) {
            a->unsupported = "Malformed x-amz-grant header";
            return;
        }
        v += used;
        if (!strcasecmp(key, "id"))
            grant(a, val, NULL, perm);
        else if (!strcasecmp(key, "uri"))
            grant(a, NULL, val, perm);
        else
            a->unsupported = "Grants by e-mail address are not supported";
    }
}

/* ---- the AccessControlPolicy body ---- */

struct parse {
    struct s3_expat x; /* first: the handlers' user data */
    struct s3_acl *a;
    int depth;
    bool in_grant, in_grantee, bad;
    char field[32]; /* the text element being read */
    char text[512];
    size_t text_len;
    char id[512], uri[512], permission[32];
    bool email;
};

static const char *local(const char *name)
{
    const char *c = strrchr(name, ':');

    return c ? c + 1 : name;
}

static void on_start(void *arg, const XML_Char *name, const XML_Char **attrs)
{
    struct parse *ps = arg;
    const char *n = local(name);

    (void)attrs;
    if (++ps->depth > 8) {
        ps->bad = true;
        XML_StopParser(ps->x.p, XML_FALSE);
        return;
    }
    ps->text_len = 0;
    ps->field[0] = '\0';
    if (!strcmp(n, "Grant")) {
        ps->in_grant = true;
        ps->id[0] = ps->uri[0] = ps->permission[0] = '\0';
        ps->email = false;
    } else if (!strcmp(n, "Grantee")) {
        ps->in_grantee = true;
    } else if (ps->in_grant &&
               (!strcmp(n, "ID") || !strcmp(n, "URI") ||
                !strcmp(n, "EmailAddress") || !strcmp(n, "Permission"))) {
        snprintf(ps->field, sizeof(ps->field), "%s", n);
    }
}

static void on_text(void *arg, const XML_Char *s, int len)
{
    struct parse *ps = arg;

    if (!ps->field[0])
        return;
    if (ps->text_len + (size_t)len >= sizeof(ps->text)) {
        ps->bad = true;
        XML_StopParser(ps->x.p, XML_FALSE);
        return;
    }
    memcpy(ps->text + ps->text_len, s, (size_t)len);
    ps->text_len += (size_t)len;
}

static void on_end(void *arg, const XML_Char *name)
{
    struct parse *ps = arg;
    const char *n = local(name);

    ps->depth--;
    ps->text[ps->text_len] = '\0';
    if (ps->field[0]) {
        if (!strcmp(ps->field, "ID") && ps->in_grantee)
            snprintf(ps->id, sizeof(ps->id), "%s", ps->text);
        else if (!strcmp(ps->field, "URI"))
            snprintf(ps->uri, sizeof(ps->uri), "%s", ps->text);
        else if (!strcmp(ps->field, "EmailAddress"))
            ps->email = true;
        else if (!strcmp(ps->field, "Permission"))
            snprintf(ps->permission, sizeof(ps->permission), "%.31s", ps->text);
        ps->field[0] = '\0';
    }
    if (!strcmp(n, "Grantee")) {
        ps->in_grantee = false;
    } else if (!strcmp(n, "Grant")) {
        ps->in_grant = false;
        if (ps->email)
            ps->a->unsupported = "Grants by e-mail address are not supported";
        else if (!ps->permission[0] || (!ps->id[0] && !ps->uri[0]))
            ps->bad = true;
        else
            grant(ps->a, ps->id[0] ? ps->id : NULL, ps->uri[0] ? ps->uri : NULL,
                  ps->permission);
    }
}

int s3_acl_policy(struct s3_acl *a, const char *body, size_t len)
{
    struct parse ps = {.a = a};
    int ok;

    ok = s3_expat_parse(&ps.x, body, len, on_start, on_end, on_text);
    if (ok < 0)
        a->err = ok;
    if (a->err)
        return a->err;
    return ok && !ps.bad ? 0 : 1;
}

int s3_acl_grant_header(struct s3_acl *a, const char *value,
                        const char *permission)
{
    grant_header(a, value, permission);
    return a->err;
}

int s3_acl_canned(struct s3_acl *a, const char *canned)
{
    if (!strcmp(canned, "public-read") || !strcmp(canned, "public-read-write"))
        grant(a, NULL, ALL_USERS, "READ");
    if (!strcmp(canned, "public-read-write"))
        grant(a, NULL, ALL_USERS, "WRITE");
    else if (strcmp(canned, "private") && strcmp(canned, "public-read"))
        a->unsupported = "Only the canned ACLs private, public-read and "
                         "public-read-write map onto Swift ACLs";
    return a->err;
}

void s3_acl_release(struct s3_acl *a)
{
    free(a->read);
    free(a->write);
    memset(a, 0, sizeof(*a));
}
