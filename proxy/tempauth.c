/*
 * tempauth.c - Swift's tempauth (swift/common/middleware/tempauth.py)
 * without the WSGI around it: the users table from the config, tokens,
 * and the authorize() decision. The HTTP filter that feeds it headers and
 * turns its answers into responses lives with the proxy server.
 *
 * Tokens: Swift keeps "<prefix>/token/<token>" -> (expires, groups) and
 * "<prefix>/user/<account:user>" -> token in memcache; here the same keys
 * live in a token_cache in this process. Users and options never change
 * once serving starts, so reading them takes no lock; the cache has its
 * own.
 */
#include "proxy/tempauth.h"

#include "proxy/acl.h"
#include "proxy/constraints.h"
#include "proxy/token_cache.h"

#include <ctype.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOKEN_HEX 32

struct user {
    char *account;
    char *name;
    char *key;
    char *url;     /* NULL: $HOST/v1/<prefix><quoted account> */
    char **groups; /* as configured: .admin, .reseller_admin, others */
    size_t n_groups;
};

struct tempauth {
    char **prefixes; /* reseller prefixes, "AUTH_" first; may hold "" */
    size_t n_prefixes;
    char *auth_prefix; /* "/auth/" */
    int64_t token_life;
    char *storage_url_scheme; /* "default" or a scheme */
    struct user *users;
    size_t n_users;
    char **require_group; /* "[<prefix>]require_group" keys and values */
    size_t n_require_group;
    struct token_cache *cache; /* thread-safe */
    /* Held from the look-up of a user's token to the storing of a new one:
     * logins of one user racing each other must get the same token, not
     * one each with the last stored winning (logins are rare). */
    pthread_mutex_t issue_lock;
};

static void user_release(struct user *u)
{
    size_t i;

    free(u->account);
    free(u->name);
    free(u->key);
    free(u->url);
    for (i = 0; i < u->n_groups; i++)
        free(u->groups[i]);
    free(u->groups);
    memset(u, 0, sizeof(*u));
}

static void free_prefixes(struct tempauth *ta)
{
    size_t i;

    for (i = 0; i < ta->n_prefixes; i++)
        free(ta->prefixes[i]);
    free(ta->prefixes);
    ta->prefixes = NULL;
    ta->n_prefixes = 0;
}

/* config_read_reseller_options(): comma-separated, stripped, "''" is the
 * empty prefix, "_" appended to non-empty ones, duplicates dropped, and
 * the empty prefix when nothing is left. */
static int set_prefixes(struct tempauth *ta, const char *value)
{
    char *copy = strdup(value), *item, *save = NULL, **list;
    size_t n = 0, i, cap = 1;
    int err = -ENOMEM;

    if (!copy)
        return -ENOMEM;
    for (item = copy; *item; item++)
        cap += *item == ',';
    list = calloc(cap, sizeof(*list));
    if (!list)
        goto out;
    for (item = strtok_r(copy, ",", &save); item;
         item = strtok_r(NULL, ",", &save)) {
        size_t len;
        char *p;

        while (isspace((unsigned char)*item))
            item++;
        len = strlen(item);
        while (len && isspace((unsigned char)item[len - 1]))
            item[--len] = '\0';
        if (!len)
            continue;
        if (!strcmp(item, "''"))
            item[len = 0] = '\0';
        p = malloc(len + 2);
        if (!p)
            goto out;
        memcpy(p, item, len);
        strcpy(p + len, len && item[len - 1] != '_' ? "_" : "");
        for (i = 0; i < n && strcmp(list[i], p); i++)
            ;
        if (i < n) {
            free(p);
            continue;
        }
        list[n++] = p;
    }
    if (!n) {
        list[0] = strdup("");
        if (!list[0])
            goto out;
        n = 1;
    }
    free_prefixes(ta);
    ta->prefixes = list;
    ta->n_prefixes = n;
    list = NULL;
    err = 0;
out:
    if (list) {
        for (i = 0; i < n; i++)
            free(list[i]);
        free(list);
    }
    free(copy);
    return err;
}

int tempauth_new(struct tempauth **out)
{
    struct tempauth *ta = calloc(1, sizeof(*ta));

    *out = NULL;
    if (!ta)
        return -ENOMEM;
    pthread_mutex_init(&ta->issue_lock, NULL);
    ta->token_life = TEMPAUTH_DEFAULT_TOKEN_LIFE;
    ta->auth_prefix = strdup("/auth/");
    ta->storage_url_scheme = strdup("default");
    if (!ta->auth_prefix || !ta->storage_url_scheme ||
        token_cache_new(&ta->cache) || set_prefixes(ta, "AUTH")) {
        tempauth_free(ta);
        return -ENOMEM;
    }
    *out = ta;
    return 0;
}

void tempauth_free(struct tempauth *ta)
{
    size_t i;

    if (!ta)
        return;
    pthread_mutex_destroy(&ta->issue_lock);
    for (i = 0; i < ta->n_users; i++)
        user_release(&ta->users[i]);
    free(ta->users);
    free_prefixes(ta);
    free(ta->auth_prefix);
    free(ta->storage_url_scheme);
    for (i = 0; i < 2 * ta->n_require_group; i++)
        free(ta->require_group[i]);
    free(ta->require_group);
    token_cache_free(ta->cache);
    free(ta);
}

const char *tempauth_reseller_prefix(const struct tempauth *ta)
{
    return ta->prefixes[0];
}

bool tempauth_is_auth_path(const struct tempauth *ta, const char *path)
{
    return !strncmp(path, ta->auth_prefix, strlen(ta->auth_prefix));
}

/* base64.b64decode() of a user64_ name part, padded as Swift pads it
 * (which only matters for its validity): characters outside the alphabet
 * are skipped, decoding stops at '='. Returns a malloc'ed string, NULL
 * with errno EINVAL when malformed or ENOMEM. */
static char *b64_name(const char *s, size_t len)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *out = malloc(len + 1), *p = out;
    unsigned int acc = 0, n = 0;
    size_t i;

    if (!out) {
        errno = ENOMEM;
        return NULL;
    }
    for (i = 0; i < len && s[i] != '='; i++) {
        const char *c = s[i] ? strchr(alphabet, s[i]) : NULL;

        if (!c)
            continue;
        acc = acc << 6 | (unsigned int)(c - alphabet);
        if (++n % 4 == 0)
            for (int k = 2; k >= 0; k--)
                *p++ = (char)(acc >> (8 * k) & 0xff);
    }
    if (n % 4 == 1) {
        free(out);
        errno = EINVAL;
        return NULL;
    }
    if (n % 4 == 2)
        *p++ = (char)(acc >> 4 & 0xff);
    if (n % 4 == 3) {
        *p++ = (char)(acc >> 10 & 0xff);
        *p++ = (char)(acc >> 2 & 0xff);
    }
    *p = '\0';
    return out;
}

static struct user *find_user(const struct tempauth *ta, const char *account,
                              const char *name)
{
    size_t i;

    for (i = 0; i < ta->n_users; i++)
        if (!strcmp(ta->users[i].account, account) &&
            !strcmp(ta->users[i].name, name))
            return &ta->users[i];
    return NULL;
}

/* Fills u's key, groups and url from "<key> [group ...] [<url>]". */
static int parse_user_value(struct user *u, const char *value)
{
    char *copy = strdup(value), *w, *save = NULL;
    size_t n = 0, cap = 1;
    int err = -ENOMEM;

    if (!copy)
        return -ENOMEM;
    for (w = copy; *w; w++)
        cap += isspace((unsigned char)*w) != 0;
    u->groups = calloc(cap, sizeof(char *));
    if (!u->groups)
        goto out;
    for (w = strtok_r(copy, " \t\r\n\v\f", &save); w;
         w = strtok_r(NULL, " \t\r\n\v\f", &save)) {
        char *d = strdup(w);

        if (!d)
            goto out;
        if (!u->key)
            u->key = d;
        else
            u->groups[n++] = d;
        u->n_groups = n;
    }
    err = u->key ? 0 : -EINVAL;
    if (n && (strstr(u->groups[n - 1], "://") ||
              strstr(u->groups[n - 1], "$HOST"))) {
        u->url = u->groups[--n];
        u->groups[n] = NULL;
        u->n_groups = n;
    }
out:
    free(copy);
    return err;
}

static int add_user(struct tempauth *ta, const char *key, const char *value,
                    char *errbuf, size_t errlen)
{
    bool b64 = !strncmp(key, "user64_", 7);
    const char *rest = strchr(key, '_') + 1, *sep = strchr(rest, '_');
    struct user u = {0}, *old, *grown;
    int err;

    if (!sep || strchr(sep + 1, '_')) {
        snprintf(errbuf, errlen, "key %s was provided in an invalid format",
                 key);
        return -EINVAL;
    }
    if (b64) {
        u.account = b64_name(rest, (size_t)(sep - rest));
        u.name = u.account ? b64_name(sep + 1, strlen(sep + 1)) : NULL;
    } else {
        u.account = strndup(rest, (size_t)(sep - rest));
        u.name = strdup(sep + 1);
    }
    err = u.name ? parse_user_value(&u, value) : -errno;
    if (err == -EINVAL)
        snprintf(errbuf, errlen, "%s: %s", key,
                 u.name ? "has no key set" : "invalid base64 name");
    if (err)
        goto fail;
    old = find_user(ta, u.account, u.name);
    if (old) { /* a later line wins, as in a Python dict */
        user_release(old);
        *old = u;
        return 0;
    }
    grown = realloc(ta->users, (ta->n_users + 1) * sizeof(*grown));
    if (!grown) {
        err = -ENOMEM;
        goto fail;
    }
    ta->users = grown;
    ta->users[ta->n_users++] = u;
    return 0;
fail:
    user_release(&u);
    return err;
}

/* Keeps "require_group" or "<prefix>require_group" (prefix "''" for the
 * empty one), stripped; read when authorizing, once the prefixes are known.
 * An empty value is no value, as in config_read_prefixed_options(). */
static int add_require_group(struct tempauth *ta, const char *key,
                             const char *value)
{
    size_t len = strlen(value), n = ta->n_require_group;
    char **grown;

    while (len && isspace((unsigned char)value[len - 1]))
        len--;
    while (len && isspace((unsigned char)*value))
        value++, len--;
    grown = realloc(ta->require_group, 2 * (n + 1) * sizeof(char *));
    if (!grown)
        return -ENOMEM;
    ta->require_group = grown;
    grown[2 * n] = strdup(key);
    grown[2 * n + 1] = strndup(value, len);
    if (!grown[2 * n] || !grown[2 * n + 1]) {
        free(grown[2 * n]);
        free(grown[2 * n + 1]);
        return -ENOMEM;
    }
    ta->n_require_group++;
    return 0;
}

/* The require_group for accounts under 'prefix': "<prefix>require_group"
 * if set, else "require_group", else "" (the last setting wins). */
static const char *require_group(const struct tempauth *ta, const char *prefix)
{
    const char *general = "", *specific = NULL;
    size_t i, plen = strlen(prefix);
    const char *name = plen ? prefix : "''";

    plen = strlen(name);
    for (i = 0; i < ta->n_require_group; i++) {
        const char *k = ta->require_group[2 * i];
        const char *v = ta->require_group[2 * i + 1];

        if (!*v)
            continue;
        if (!strcmp(k, "require_group"))
            general = v;
        else if (!strncmp(k, name, plen) && !strcmp(k + plen, "require_group"))
            specific = v;
    }
    return specific ? specific : general;
}

int tempauth_set(struct tempauth *ta, const char *key, const char *value,
                 char *errbuf, size_t errlen)
{
    char *copy;
    int64_t life;
    char *end;

    if (!strncmp(key, "user_", 5) || !strncmp(key, "user64_", 7))
        return add_user(ta, key, value, errbuf, errlen);
    if (!strcmp(key, "reseller_prefix"))
        return set_prefixes(ta, value);
    if (!strcmp(key, "token_life")) {
        errno = 0;
        life = strtoll(value, &end, 10);
        while (isspace((unsigned char)*end))
            end++;
        if (errno || end == value || *end) {
            snprintf(errbuf, errlen, "token_life: not an integer: '%s'", value);
            return -EINVAL;
        }
        ta->token_life = life;
        return 0;
    }
    if (!strcmp(key, "auth_prefix")) {
        size_t len = strlen(value);

        /* as Swift: nothing but slashes means /auth/; then a slash on
         * either end */
        if (strspn(value, "/") == len)
            copy = strdup("/auth/");
        else if (asprintf(&copy, "%s%s%s", value[0] == '/' ? "" : "/", value,
                          value[len - 1] == '/' ? "" : "/") < 0)
            copy = NULL;
        if (!copy)
            return -ENOMEM;
        free(ta->auth_prefix);
        ta->auth_prefix = copy;
        return 0;
    }
    if (!strcmp(key, "storage_url_scheme")) {
        copy = strdup(value);
        if (!copy)
            return -ENOMEM;
        free(ta->storage_url_scheme);
        ta->storage_url_scheme = copy;
        return 0;
    }
    if (strlen(key) >= 13 && !strcmp(key + strlen(key) - 13, "require_group"))
        return add_require_group(ta, key, value);
    return 0;
}

/* urllib's quote(s, safe='/'). */
static char *quote(const char *s)
{
    char *q = malloc(3 * strlen(s) + 1), *p = q;

    if (!q)
        return NULL;
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;

        if (isalnum(ch) && ch < 0x80)
            *p++ = (char)ch;
        else if (strchr("_.-~/", ch) && ch)
            *p++ = (char)ch;
        else
            p += sprintf(p, "%%%02X", ch);
    }
    *p = '\0';
    return q;
}

/* The user's storage URL, $HOST not yet replaced; malloc'ed. */
static char *user_url(const struct tempauth *ta, const struct user *u)
{
    char *q, *url = NULL;

    if (u->url)
        return strdup(u->url);
    q = quote(u->account);
    if (q && asprintf(&url, "$HOST/v1/%s%s", ta->prefixes[0], q) < 0)
        url = NULL;
    free(q);
    return url;
}

/* Appends ",<s>" (or "<s>" when *p is at the start) to a string built in
 * a buffer known to be large enough. */
static char *append(char *start, char *p, const char *s)
{
    if (p != start)
        *p++ = ',';
    return stpcpy(p, s);
}

static bool list_has(const char *list, const char *item)
{
    size_t n = strlen(item);
    const char *p = list;

    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);

        if (len == n && !memcmp(p, item, n))
            return true;
        if (!comma)
            return false;
        p = comma + 1;
    }
}

/* _get_user_groups(): account,account:user,groups..., with the first
 * .admin replaced by <prefix><account> for every non-empty prefix and the
 * account id (the last segment of the storage URL). */
static char *user_groups(const struct tempauth *ta, const struct user *u)
{
    char *url = user_url(ta, u), *id, *out, *p;
    size_t cap, i;
    bool admin = false;

    if (!url)
        return NULL;
    id = strrchr(url, '/') ? strrchr(url, '/') + 1 : url;
    cap = 2 * strlen(u->account) + strlen(u->name) + strlen(id) + 4;
    for (i = 0; i < u->n_groups; i++)
        cap += strlen(u->groups[i]) + 1;
    for (i = 0; i < ta->n_prefixes; i++)
        cap += strlen(ta->prefixes[i]) + strlen(u->account) + 1;
    out = malloc(cap);
    if (!out)
        goto out;
    p = out;
    p = append(out, p, u->account);
    p = append(out, p, u->account);
    p = stpcpy(stpcpy(p, ":"), u->name);
    for (i = 0; i < u->n_groups; i++) {
        if (!admin && !strcmp(u->groups[i], ".admin")) {
            admin = true;
            continue;
        }
        p = append(out, p, u->groups[i]);
    }
    if (admin) {
        for (i = 0; i < ta->n_prefixes; i++) {
            if (!*ta->prefixes[i])
                continue;
            if (p != out)
                *p++ = ',';
            p = stpcpy(stpcpy(p, ta->prefixes[i]), u->account);
        }
        if (!list_has(out, id))
            p = append(out, p, id);
    }
out:
    free(url);
    return out;
}

char *tempauth_user_groups(const struct tempauth *ta, const char *account,
                           const char *user)
{
    const struct user *u = find_user(ta, account, user);

    return u ? user_groups(ta, u) : NULL;
}

int tempauth_s3_user(const struct tempauth *ta, const char *access_key,
                     struct tempauth_s3_user *out)
{
    const char *colon = strchr(access_key, ':');
    const struct user *u = NULL;
    char *account, *url, *slash;

    memset(out, 0, sizeof(*out));
    if (!colon)
        return -ENOENT;
    account = strndup(access_key, (size_t)(colon - access_key));
    if (!account)
        return -ENOMEM;
    u = find_user(ta, account, colon + 1);
    free(account);
    if (!u)
        return -ENOENT;
    url = user_url(ta, u);
    if (!url)
        return -ENOMEM;
    slash = strrchr(url, '/');
    out->account_id = strdup(slash ? slash + 1 : url);
    free(url);
    out->secret = strdup(u->key);
    out->groups = user_groups(ta, u);
    if (!out->account_id || !out->secret || !out->groups) {
        tempauth_s3_user_release(out);
        return -ENOMEM;
    }
    return 0;
}

void tempauth_s3_user_release(struct tempauth_s3_user *u)
{
    free(u->secret);
    free(u->groups);
    free(u->account_id);
    memset(u, 0, sizeof(*u));
}

/* "<prefix>tk" + uuid4().hex. */
static char *new_token_name(const struct tempauth *ta)
{
    unsigned char b[16];
    char *name, *p;
    size_t i;

    if (RAND_bytes(b, sizeof(b)) != 1)
        return NULL;
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    name = malloc(strlen(ta->prefixes[0]) + 2 + TOKEN_HEX + 1);
    if (!name)
        return NULL;
    p = stpcpy(stpcpy(name, ta->prefixes[0]), "tk");
    for (i = 0; i < sizeof(b); i++)
        p += sprintf(p, "%02x", b[i]);
    return name;
}

/* Whether the comma-separated lists hold the same set of groups. */
static bool same_groups(const char *a, const char *b)
{
    const char *lists[2] = {a, b};
    int i;

    for (i = 0; i < 2; i++) {
        const char *p = lists[i], *other = lists[1 - i];

        for (;;) {
            const char *comma = strchr(p, ',');
            size_t len = comma ? (size_t)(comma - p) : strlen(p);
            char *g = strndup(p, len);
            bool found = g && list_has(other, g);

            free(g);
            if (!found)
                return false;
            if (!comma)
                break;
            p = comma + 1;
        }
    }
    return true;
}

/* handle_get_token()'s reuse check and _create_new_token(), with Swift's
 * memcache keys: the user's token if it is still valid with the same
 * groups, else a new one. Returns 0 with *token (malloc'ed) and *expires,
 * -EIO when no random bytes, or -ENOMEM. */
static int issue_token(struct tempauth *ta, const char *account_user,
                       const char *groups, double now, char **token,
                       double *expires)
{
    const char *prefix = ta->prefixes[0];
    char *user_key = NULL, *token_key = NULL, *cand = NULL, *old = NULL;
    int err = -ENOMEM;

    *token = NULL;
    if (asprintf(&user_key, "%s/user/%s", prefix, account_user) < 0) {
        user_key = NULL;
        return err;
    }
    pthread_mutex_lock(&ta->issue_lock);
    err = token_cache_get(ta->cache, user_key, now, &cand, NULL);
    if (!err) {
        if (asprintf(&token_key, "%s/token/%s", prefix, cand) < 0) {
            token_key = NULL;
            err = -ENOMEM;
            goto out;
        }
        err = token_cache_get(ta->cache, token_key, now, &old, expires);
        if (!err && *expires > now && same_groups(old, groups)) {
            *token = cand;
            cand = NULL;
            goto out;
        }
        free(token_key);
        token_key = NULL;
    }
    if (err == -ENOMEM)
        goto out;
    free(cand);
    cand = new_token_name(ta);
    err = -EIO;
    if (!cand)
        goto out;
    err = -ENOMEM;
    if (asprintf(&token_key, "%s/token/%s", prefix, cand) < 0) {
        token_key = NULL;
        goto out;
    }
    *expires = now + (double)ta->token_life;
    err = token_cache_set(ta->cache, token_key, groups, *expires, now);
    if (!err)
        err = token_cache_set(ta->cache, user_key, cand, *expires, now);
    if (!err) {
        *token = cand;
        cand = NULL;
    }
out:
    pthread_mutex_unlock(&ta->issue_lock);
    free(user_key);
    free(token_key);
    free(cand);
    free(old);
    return err;
}

void tempauth_grant_release(struct tempauth_grant *g)
{
    free(g->token);
    free(g->storage_url);
    free(g->realm);
    memset(g, 0, sizeof(*g));
}

static const char *nonempty(const char *s)
{
    return s && *s ? s : NULL;
}

static int deny_login(struct tempauth_grant *out, const char *realm, size_t len)
{
    out->status = 401;
    out->realm = strndup(realm, len);
    return out->realm ? 0 : -ENOMEM;
}

/* The final storage URL: $HOST replaced, then storage_url_scheme. */
static char *storage_url(const struct tempauth *ta, const struct user *u,
                         const char *host_url)
{
    char *url = user_url(ta, u), *out, *p, *colon;
    const char *s;
    size_t n = 0;

    if (!url)
        return NULL;
    for (s = url; (s = strstr(s, "$HOST")); s += 5)
        n++;
    out = malloc(strlen(url) + n * strlen(host_url) +
                 strlen(ta->storage_url_scheme) + 2);
    if (out) {
        p = out;
        for (s = url; *s;) {
            if (!strncmp(s, "$HOST", 5)) {
                p = stpcpy(p, host_url);
                s += 5;
            } else {
                *p++ = *s++;
            }
        }
        *p = '\0';
        colon = strchr(out, ':');
        if (strcmp(ta->storage_url_scheme, "default") && colon) {
            memmove(out + strlen(ta->storage_url_scheme), colon,
                    strlen(colon) + 1);
            memcpy(out, ta->storage_url_scheme, strlen(ta->storage_url_scheme));
        }
    }
    free(url);
    return out;
}

int tempauth_login(struct tempauth *ta, const struct tempauth_login *in,
                   double now, struct tempauth_grant *out)
{
    struct constraints_seg segs[4];
    const char *path = in->path, *user, *key, *colon;
    char *account = NULL, *groups = NULL, *account_user = NULL;
    struct user *u;
    double expires;
    int err = 0;

    memset(out, 0, sizeof(*out));
    if (strcmp(in->method, "GET")) {
        out->status = 405;
        return 0;
    }
    /* path_info_pop(): the first segment is the auth prefix */
    if (path[0] == '/')
        path += strcspn(path + 1, "/") + 1;
    if (constraints_split_path(path, 1, 4, true, segs) ||
        constraints_split_path(path, 1, 3, true, segs)) {
        out->status = 404;
        return 0;
    }
#define SEG_IS(i, lit)                                                         \
    (segs[i].s && segs[i].len == strlen(lit) &&                                \
     !memcmp(segs[i].s, lit, segs[i].len))
    if (SEG_IS(0, "v1") && SEG_IS(2, "auth")) {
        account = strndup(segs[1].s, segs[1].len);
        if (!account)
            return -ENOMEM;
        user = nonempty(in->storage_user);
        if (!user) {
            user = nonempty(in->auth_user);
            colon = user ? strchr(user, ':') : NULL;
            if (!colon || (size_t)(colon - user) != strlen(account) ||
                memcmp(user, account, strlen(account))) {
                err = deny_login(out, account, strlen(account));
                goto out;
            }
            user = colon + 1;
        }
        key = nonempty(in->storage_pass);
        if (!key)
            key = nonempty(in->auth_key);
    } else if (SEG_IS(0, "auth") || SEG_IS(0, "v1.0")) {
        user = nonempty(in->auth_user);
        if (!user)
            user = nonempty(in->storage_user);
        colon = user ? strchr(user, ':') : NULL;
        if (!colon) {
            err = deny_login(out, "unknown", 7);
            goto out;
        }
        account = strndup(user, (size_t)(colon - user));
        if (!account)
            return -ENOMEM;
        user = colon + 1;
        key = nonempty(in->auth_key);
        if (!key)
            key = nonempty(in->storage_pass);
    } else {
        out->status = 400; /* also any version but v1, v1.0 and auth */
        return 0;
    }
#undef SEG_IS
    if (!*account || !*user || !key) {
        err = *account ? deny_login(out, account, strlen(account))
                       : deny_login(out, "unknown", 7);
        goto out;
    }
    u = find_user(ta, account, user);
    if (!u) {
        err = deny_login(out, account, strlen(account));
        goto out;
    }
    if (strlen(u->key) != strlen(key) ||
        CRYPTO_memcmp(u->key, key, strlen(key))) {
        err = deny_login(out, "unknown", 7);
        goto out;
    }
    groups = user_groups(ta, u);
    out->storage_url = storage_url(ta, u, in->host_url ? in->host_url : "");
    if (!groups || !out->storage_url) {
        err = -ENOMEM;
        goto out;
    }
    if (asprintf(&account_user, "%s:%s", u->account, u->name) < 0) {
        account_user = NULL;
        err = -ENOMEM;
        goto out;
    }
    err = issue_token(ta, account_user, groups, now, &out->token, &expires);
    if (err)
        goto out;
    out->expires_in = (int64_t)(expires - now);
    out->status = 200;
out:
    if (err)
        tempauth_grant_release(out);
    free(account);
    free(groups);
    free(account_user);
    return err;
}

void tempauth_identity_release(struct tempauth_identity *id)
{
    free(id->realm);
    free(id->groups);
    memset(id, 0, sizeof(*id));
}

/* _get_account_prefix(): the reseller prefix 'account' falls under, the
 * empty one last, or NULL. */
static const char *account_prefix(const struct tempauth *ta,
                                  const char *account, size_t len)
{
    bool empty = false;
    size_t i, n;

    if (!account)
        return NULL;
    for (i = 0; i < ta->n_prefixes; i++) {
        n = strlen(ta->prefixes[i]);
        if (!n)
            empty = true;
        else if (len >= n && !memcmp(account, ta->prefixes[i], n))
            return ta->prefixes[i];
    }
    return empty ? "" : NULL;
}

int tempauth_identify(struct tempauth *ta, const char *token, const char *path,
                      double now, struct tempauth_identity *id)
{
    struct constraints_seg segs[4];
    const char *prefix = ta->prefixes[0], *pfx;
    char *key;
    int err;

    memset(id, 0, sizeof(*id));
    if (token && *token && !strncmp(token, prefix, strlen(prefix))) {
        if (asprintf(&key, "%s/token/%s", prefix, token) < 0)
            return -ENOMEM;
        err = token_cache_get(ta->cache, key, now, &id->groups, NULL);
        free(key);
        if (err == -ENOMEM)
            return err;
        if (id->groups && *id->groups) {
            id->authoritative = true;
            id->reseller_request =
                strstr(id->groups, ".reseller_admin") != NULL;
            return 0;
        }
        free(id->groups);
        id->groups = NULL;
        if (*prefix) { /* our token, and not a valid one */
            id->status = 401;
            if (!constraints_split_path(path, 2, 3, true, segs))
                id->realm = strndup(segs[1].s, segs[1].len);
            else
                id->realm = strdup("unknown");
            return id->realm ? 0 : -ENOMEM;
        }
        return 0; /* denied when authorized */
    }
    /* anonymous: authorize() decides for the accounts we own */
    if (!constraints_split_path(path, 1, 3, true, segs) && segs[1].s &&
        segs[1].len) {
        pfx = account_prefix(ta, segs[1].s, segs[1].len);
        if (pfx && *pfx) {
            id->authoritative = true;
            return 0;
        }
    }
    id->authoritative = !*prefix;
    return 0;
}

static bool is_method(const char *m, const char *a, const char *b)
{
    return !strcmp(m, a) || (b && !strcmp(m, b));
}

/* denied_response(): 403 for a known user, 401 for anonymous. */
static int denied(const struct tempauth_request *req)
{
    return req->groups && *req->groups ? 403 : 401;
}

/* Whether any of the user's groups is in the ACL's groups. */
static bool acl_names_user(const struct acl *acl, const char *groups)
{
    const char *p = groups ? groups : "";
    char *g;
    bool hit;

    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);

        g = strndup(p, len);
        if (!g)
            return false;
        hit = acl_has_group(acl, g);
        free(g);
        if (hit)
            return true;
        if (!comma)
            return false;
        p = comma + 1;
    }
}

/* The ACL part of authorize(): referrers, groups, account ACLs. */
static int authorize_acls(const struct tempauth_request *req, bool container,
                          bool obj, bool *owner)
{
    bool read = is_method(req->method, "GET", "HEAD");
    unsigned int levels;
    struct acl acl;
    bool ok;

    if (acl_parse(req->acl, &acl))
        return -ENOMEM;
    ok = acl_referrer_allowed(req->referer, &acl) &&
         (obj || acl_has_group(&acl, ".rlistings"));
    ok = ok || acl_names_user(&acl, req->groups);
    acl_release(&acl);
    if (ok)
        return 0;
    levels =
        acl_account_match(req->account_acl, req->groups ? req->groups : "");
    if (levels & ACL_ACCOUNT_ADMIN) {
        *owner = true;
        return 0;
    }
    if ((levels & ACL_ACCOUNT_READ_WRITE) && (container || read))
        return 0;
    if ((levels & ACL_ACCOUNT_READ_ONLY) && read)
        return 0;
    return denied(req);
}

int tempauth_authorize(const struct tempauth *ta,
                       const struct tempauth_identity *id,
                       const struct tempauth_request *req, bool *owner,
                       char **body)
{
    struct constraints_seg segs[4];
    const char *groups = req->groups ? req->groups : "", *pfx;
    bool container, obj, is_prefix = false;
    char *account;
    size_t i;
    int r;

    *owner = false;
    *body = NULL;
    if (!id->authoritative)
        return denied(req);
    if (constraints_split_path(req->path, 1, 4, true, segs))
        return 404;
    pfx = account_prefix(ta, segs[1].s, segs[1].len);
    if (!pfx)
        return denied(req);
    if (req->account_acl_header) {
        r = acl_account_check(req->account_acl_header, body);
        if (r)
            return r == -EINVAL ? 400 : r;
    }
    container = segs[2].s && segs[2].len;
    obj = segs[3].s && segs[3].len;
    account = strndup(segs[1].s, segs[1].len);
    if (!account)
        return -ENOMEM;
    for (i = 0; i < ta->n_prefixes; i++)
        is_prefix = is_prefix || !strcmp(account, ta->prefixes[i]);
    /* _dot_account(): the name goes on with a dot after its prefix */
    if (!is_prefix && account[strlen(pfx)] != '.') {
        if (list_has(groups, ".reseller_admin")) {
            *owner = true;
            r = 0;
            goto out;
        }
        if (list_has(groups, ".reseller_reader") &&
            is_method(req->method, "GET", "HEAD")) {
            r = 0;
            goto out;
        }
    }
    if (list_has(groups, account) &&
        (!is_method(req->method, "DELETE", "PUT") || container)) {
        const char *rg = require_group(ta, pfx);

        if (!*rg || list_has(groups, rg)) {
            *owner = true;
            r = 0;
            goto out;
        }
    }
    if (!strcmp(req->method, "OPTIONS")) {
        r = 0;
        goto out;
    }
    r = authorize_acls(req, container, obj, owner);
out:
    free(account);
    return r;
}
