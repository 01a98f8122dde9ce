/*
 * info.c - GET /info as Swift's register_swift_info()/get_swift_info()
 * build it: sections registered by the proxy and its filters, then the
 * operator's disallowed_sections removed. Serving it (and the HMAC-signed
 * admin variant, which Kura does not offer) is the server's job.
 */
#include "proxy/info.h"

#include "proxy/slo.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_DISALLOWED                                                     \
    "swift.auto_create_account_prefix, swift.valid_api_versions"

static int set(json_t *obj, const char *key, json_t *v)
{
    return v && !json_object_set_new(obj, key, v) ? 0 : -ENOMEM;
}

static json_t *policies(const struct info_opts *o)
{
    const char *name = o->policy_name ? o->policy_name : "Policy-0";
    json_t *list = json_array(), *p = json_object();

    if (!list || !p || set(p, "name", json_string(name)) ||
        set(p, "aliases", json_string(name)) ||
        set(p, "default", json_true()) || json_array_append_new(list, p)) {
        json_decref(list);
        return NULL;
    }
    return list;
}

static json_t *swift_section(const struct constraints *c,
                             const struct info_opts *o)
{
    json_t *s = json_object(), *versions = json_array();
    size_t i;
    int err = s && versions ? 0 : -ENOMEM;

    for (i = 0; !err && i < c->n_valid_api_versions; i++)
        err = json_array_append_new(versions,
                                    json_string(c->valid_api_versions[i]))
                  ? -ENOMEM
                  : 0;
    if (!err)
        err = set(s, "version", json_string(o->version ? o->version : ""));
    if (!err)
        err = set(s, "strict_cors_mode", json_boolean(o->strict_cors_mode));
    if (!err)
        err = set(s, "policies", policies(o));
    if (!err)
        err = set(s, "allow_account_management",
                  json_boolean(o->allow_account_management));
    if (!err)
        err = set(s, "account_autocreate", json_boolean(o->account_autocreate));
#define INT(name)                                                              \
    if (!err)                                                                  \
        err = set(s, #name, json_integer(c->name));
    INT(max_file_size)
    INT(max_meta_name_length)
    INT(max_meta_value_length)
    INT(max_meta_count)
    INT(max_meta_overall_size)
    INT(max_header_size)
    INT(max_object_name_length)
    INT(container_listing_limit)
    INT(account_listing_limit)
    INT(max_account_name_length)
    INT(max_container_name_length)
#undef INT
    if (!err) {
        err = set(s, "valid_api_versions", versions);
        versions = NULL;
    }
    if (!err)
        err = set(s, "extra_header_count", json_integer(c->extra_header_count));
    if (!err)
        err = set(s, "auto_create_account_prefix",
                  json_string(c->auto_create_account_prefix));
    json_decref(versions);
    if (err) {
        json_decref(s);
        return NULL;
    }
    return s;
}

/* Removes the dotted path 'section' (e.g. "swift.valid_api_versions"), as
 * get_swift_info(): a missing or non-object step removes nothing. */
static void disallow(json_t *info, char *section)
{
    char *step, *save = NULL, *key = NULL;
    json_t *obj = info;

    for (step = strtok_r(section, ".", &save); step;
         step = strtok_r(NULL, ".", &save)) {
        if (key) {
            obj = json_object_get(obj, key);
            if (!json_is_object(obj))
                return;
        }
        key = step;
    }
    if (key)
        json_object_del(obj, key);
}

static int disallow_all(json_t *info, const char *csv)
{
    char *copy = strdup(csv), *item, *save = NULL;

    if (!copy)
        return -ENOMEM;
    for (item = strtok_r(copy, ",", &save); item;
         item = strtok_r(NULL, ",", &save)) {
        char *end = item + strlen(item);

        while (*item == ' ' || *item == '\t')
            item++;
        while (end > item && (end[-1] == ' ' || end[-1] == '\t'))
            *--end = '\0';
        if (*item)
            disallow(info, item);
    }
    free(copy);
    return 0;
}

int info_new(const struct constraints *c, const struct info_opts *o,
             json_t **out)
{
    json_t *info = json_object(), *ta;
    int err = info ? set(info, "swift", swift_section(c, o)) : -ENOMEM;

    *out = NULL;
    /* the proxy always serves static large objects (slo.c), with
     * Swift's default limits; heartbeats and async deletes are not */
    if (!err) {
        json_t *slo = json_object();

        err = slo ? 0 : -ENOMEM;
        if (!err)
            err = set(slo, "max_manifest_segments",
                      json_integer(SLO_MAX_MANIFEST_SEGMENTS));
        if (!err)
            err = set(slo, "max_manifest_size",
                      json_integer(SLO_MAX_MANIFEST_SIZE));
        if (!err)
            err = set(slo, "yield_frequency", json_integer(10));
        if (!err)
            err = set(slo, "min_segment_size", json_integer(1));
        if (!err)
            err = set(slo, "allow_async_delete", json_false());
        if (!err)
            err = set(info, "slo", slo);
        else
            json_decref(slo);
    }
    if (!err && o->tempauth) {
        ta = json_object();
        err = ta ? set(ta, "account_acls", json_true()) : -ENOMEM;
        if (!err)
            err = set(info, "tempauth", ta);
        else
            json_decref(ta);
    }
    if (!err)
        err = disallow_all(info, o->disallowed_sections ? o->disallowed_sections
                                                        : DEFAULT_DISALLOWED);
    if (err) {
        json_decref(info);
        return err;
    }
    *out = info;
    return 0;
}
