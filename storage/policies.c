/*
 * policies.c - reads the storage policies of swift.conf (policies.h).
 * What a policy means to a request (a valid X-Backend-Storage-Policy-Index,
 * the per-policy stats of an account) is the servers'.
 */
#include "storage/policies.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/conf.h"

#define SECTION_PREFIX "storage-policy:"

struct load {
    const struct conf *conf;
    struct policies *out;
};

static int add_policy(const char *section, void *arg)
{
    struct load *l = arg;
    const char *digits = section + strlen(SECTION_PREFIX), *name;
    struct policy *p;
    char *end;
    unsigned long idx;

    if (strncmp(section, SECTION_PREFIX, strlen(SECTION_PREFIX)) ||
        l->out->n == POLICIES_MAX)
        return 0;
    errno = 0;
    idx = strtoul(digits, &end, 10);
    if (errno || end == digits || *end || idx > UINT32_MAX)
        return 0;
    name = conf_get(l->conf, section, "name", NULL);
    if (!name || !*name) /* Swift names an unnamed policy 0 "Policy-0" */
        name = idx ? NULL : "Policy-0";
    p = &l->out->items[l->out->n];
    p->index = (uint32_t)idx;
    p->name = name ? strdup(name) : NULL;
    if (name && !p->name)
        return -ENOMEM;
    l->out->n++;
    return 0;
}

int policies_load(const char *swift_dir, struct policies *out)
{
    char *path = NULL, err[CONF_ERR_LEN];
    struct load l = {.out = out};
    struct conf *conf = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    if (asprintf(&path, "%s/swift.conf", swift_dir) == -1)
        return -ENOMEM;
    rc = conf_load(path, &conf, err);
    free(path);
    if (!rc) {
        l.conf = conf;
        rc = conf_foreach_section(conf, add_policy, &l);
    }
    conf_free(conf);
    if (rc == -ENOMEM) {
        policies_release(out);
        return rc;
    }
    if (!out->n) {
        out->items[0].index = 0;
        out->items[0].name = strdup("Policy-0");
        if (!out->items[0].name)
            return -ENOMEM;
        out->n = 1;
    }
    return 0;
}

void policies_release(struct policies *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->items[i].name);
    memset(p, 0, sizeof(*p));
}

const struct policy *policies_get(const struct policies *p, uint64_t index)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->items[i].index == index)
            return &p->items[i];
    return NULL;
}
