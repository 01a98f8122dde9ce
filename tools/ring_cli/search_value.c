/*
 * search_value.c - Swift's device value grammars, parsed strictly.
 *
 * Each parser walks the value left to right as Swift's does, so the same
 * strings are accepted and mean the same devices; where Swift would raise
 * a Python exception (int('') for "d" with no digits, a port that is not a
 * number) we return -EINVAL with a message naming the value instead.
 */
#include "tools/ring_cli/search_value.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

const struct opt_spec dev_opt_specs[DEV_OPT_COUNT] = {
    [DEV_OPT_ID] = {"id", 'u', OPT_INT},
    [DEV_OPT_REGION] = {"region", 'r', OPT_INT},
    [DEV_OPT_ZONE] = {"zone", 'z', OPT_INT},
    [DEV_OPT_IP] = {"ip", 'i', OPT_STR},
    [DEV_OPT_PORT] = {"port", 'p', OPT_INT},
    [DEV_OPT_REPLICATION_IP] = {"replication-ip", 'j', OPT_STR},
    [DEV_OPT_REPLICATION_PORT] = {"replication-port", 'q', OPT_INT},
    [DEV_OPT_DEVICE] = {"device", 'd', OPT_STR},
    [DEV_OPT_WEIGHT] = {"weight", 'w', OPT_FLOAT},
    [DEV_OPT_META] = {"meta", 'm', OPT_STR},
    [DEV_OPT_CHANGE_IP] = {"change-ip", 'I', OPT_STR},
    [DEV_OPT_CHANGE_PORT] = {"change-port", 'P', OPT_INT},
    [DEV_OPT_CHANGE_REPLICATION_IP] = {"change-replication-ip", 'J', OPT_STR},
    [DEV_OPT_CHANGE_REPLICATION_PORT] = {"change-replication-port", 'Q',
                                         OPT_INT},
    [DEV_OPT_CHANGE_DEVICE] = {"change-device", 'D', OPT_STR},
    [DEV_OPT_CHANGE_META] = {"change-meta", 'M', OPT_STR},
    [DEV_OPT_YES] = {"yes", 'y', OPT_FLAG},
};

bool dev_opts_given(const struct opt_value *v)
{
    /* As Swift's validate_args: id, region, zone and weight count when
     * given (0 is a fine value); the others only when non-empty. */
    return v[DEV_OPT_ID].set || v[DEV_OPT_REGION].set || v[DEV_OPT_ZONE].set ||
           v[DEV_OPT_WEIGHT].set || (v[DEV_OPT_IP].set && *v[DEV_OPT_IP].s) ||
           v[DEV_OPT_PORT].set ||
           (v[DEV_OPT_REPLICATION_IP].set && *v[DEV_OPT_REPLICATION_IP].s) ||
           v[DEV_OPT_REPLICATION_PORT].set ||
           (v[DEV_OPT_DEVICE].set && *v[DEV_OPT_DEVICE].s) ||
           (v[DEV_OPT_META].set && *v[DEV_OPT_META].s);
}

/* Swift's validate_and_normalize_ip: an IPv4 or IPv6 literal only (no host
 * names), lowercased, IPv6 in its canonical compressed form. */
static int normalize_ip(const char *ip, size_t len, char out[],
                        char err[SEARCH_VALUE_ERRLEN])
{
    char buf[RING_DEV_IP_MAX + 1];
    unsigned char bin[16];

    if (len <= RING_DEV_IP_MAX) {
        for (size_t i = 0; i < len; i++)
            buf[i] = (char)tolower((unsigned char)ip[i]);
        buf[len] = '\0';
        if (inet_pton(AF_INET, buf, bin) == 1) {
            memcpy(out, buf, len + 1);
            return 0;
        }
        if (inet_pton(AF_INET6, buf, bin) == 1 &&
            inet_ntop(AF_INET6, bin, out, RING_DEV_IP_MAX + 1))
            return 0;
    }
    snprintf(err, SEARCH_VALUE_ERRLEN, "Invalid ip %.*s",
             (int)(len > 200 ? 200 : len), ip);
    return -EINVAL;
}

/* Swift's validate_and_normalize_address: an ip or a host name. */
static int normalize_address(const char *addr, char out[],
                             char err[SEARCH_VALUE_ERRLEN])
{
    if (ring_dev_normalize_ip(addr, out) == 0)
        return 0;
    snprintf(err, SEARCH_VALUE_ERRLEN, "Invalid address %.200s", addr);
    return -EINVAL;
}

static int invalid(const char *what, const char *value,
                   char err[SEARCH_VALUE_ERRLEN])
{
    snprintf(err, SEARCH_VALUE_ERRLEN, "Invalid %s: '%.200s'", what, value);
    return -EINVAL;
}

/* Reads the digits at *p into *out, as Swift's int(value[1:i]); none, or
 * too many, is an error. */
static int take_number(const char **p, long *out)
{
    const char *s = *p;
    long v = 0;

    if (!isdigit((unsigned char)*s))
        return -EINVAL;
    for (; isdigit((unsigned char)*s); s++) {
        if (v > (INT_MAX - (*s - '0')) / 10)
            return -EINVAL;
        v = v * 10 + (*s - '0');
    }
    *p = s;
    *out = v;
    return 0;
}

/* An ip at *p for search and change values: a run of digits and dots, or
 * "[...]". Absent is fine; present, it must be valid. */
static int take_ip(const char **p, char out[], bool *found,
                   char err[SEARCH_VALUE_ERRLEN])
{
    const char *s = *p, *start = s, *end;

    *found = false;
    if (isdigit((unsigned char)*s)) {
        while (isdigit((unsigned char)*s) || *s == '.')
            s++;
        end = s;
    } else if (*s == '[') {
        start = ++s;
        while (*s && *s != ']')
            s++;
        end = s;
        if (*s == ']')
            s++;
    } else {
        return 0;
    }
    *p = s;
    *found = true;
    return normalize_ip(start, (size_t)(end - start), out, err);
}

/* "/<device>" up to an '_' or the end. */
static int take_device(const char **p, char out[])
{
    const char *s = *p + 1;
    size_t len = strcspn(s, "_");

    if (len > RING_DEV_NAME_MAX)
        return -EINVAL;
    memcpy(out, s, len);
    out[len] = '\0';
    *p = s + len;
    return 0;
}

/* The "<ip>:<port>" of a search or change value, plus the R<ip>:<port>
 * that may follow; 'ip_bit' etc. say which spec fields they fill. */
static int take_ip_port(const char **p, char ip[], long *port, unsigned ip_bit,
                        unsigned port_bit, struct dev_spec *spec,
                        char err[SEARCH_VALUE_ERRLEN])
{
    bool found;

    if (take_ip(p, ip, &found, err))
        return -EINVAL;
    if (found)
        spec->set |= ip_bit;
    if (**p == ':') {
        (*p)++;
        if (take_number(p, port))
            return -EINVAL;
        spec->set |= port_bit;
    }
    return 0;
}

/* The tail shared by search and change values: R<ip>:<port>, /<device>,
 * _<meta>. Returns -EINVAL if anything is left over. */
static int take_tail(const char *s, struct dev_spec *spec,
                     char err[SEARCH_VALUE_ERRLEN])
{
    if (*s == 'R') {
        s++;
        if (take_ip_port(&s, spec->replication_ip, &spec->replication_port,
                         DEV_SPEC_REPLICATION_IP, DEV_SPEC_REPLICATION_PORT,
                         spec, err))
            return -EINVAL;
    }
    if (*s == '/') {
        if (take_device(&s, spec->device))
            return -EINVAL;
        spec->set |= DEV_SPEC_DEVICE;
    }
    if (*s == '_') {
        spec->meta = s + 1;
        spec->set |= DEV_SPEC_META;
        s += strlen(s);
    }
    return *s ? -EINVAL : 0;
}

static int take_prefixed(const char **p, char prefix, long *out, unsigned bit,
                         struct dev_spec *spec)
{
    if (**p != prefix)
        return 0;
    (*p)++;
    if (take_number(p, out))
        return -EINVAL;
    spec->set |= bit;
    return 0;
}

int search_value_parse(const char *value, struct dev_spec *spec,
                       char err[SEARCH_VALUE_ERRLEN])
{
    const char *s = value;

    memset(spec, 0, sizeof(*spec));
    err[0] = '\0';
    if (take_prefixed(&s, 'd', &spec->id, DEV_SPEC_ID, spec) ||
        take_prefixed(&s, 'r', &spec->region, DEV_SPEC_REGION, spec) ||
        take_prefixed(&s, 'z', &spec->zone, DEV_SPEC_ZONE, spec))
        return invalid("<search-value>", value, err);
    if (*s == '-')
        s++;
    if (take_ip_port(&s, spec->ip, &spec->port, DEV_SPEC_IP, DEV_SPEC_PORT,
                     spec, err) ||
        take_tail(s, spec, err)) {
        /* keep "Invalid ip x" when that was the problem */
        return err[0] ? -EINVAL : invalid("<search-value>", value, err);
    }
    if (!spec->set)
        return invalid("<search-value>", value, err);
    return 0;
}

int search_value_from_opts(const struct opt_value *v, struct dev_spec *spec,
                           char err[SEARCH_VALUE_ERRLEN])
{
    static const struct {
        enum dev_opt opt;
        unsigned bit;
        size_t off;
    } ints[] = {
        {DEV_OPT_ID, DEV_SPEC_ID, offsetof(struct dev_spec, id)},
        {DEV_OPT_REGION, DEV_SPEC_REGION, offsetof(struct dev_spec, region)},
        {DEV_OPT_ZONE, DEV_SPEC_ZONE, offsetof(struct dev_spec, zone)},
        {DEV_OPT_PORT, DEV_SPEC_PORT, offsetof(struct dev_spec, port)},
        {DEV_OPT_REPLICATION_PORT, DEV_SPEC_REPLICATION_PORT,
         offsetof(struct dev_spec, replication_port)},
    };

    memset(spec, 0, sizeof(*spec));
    for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
        if (!v[ints[i].opt].set)
            continue;
        *(long *)((char *)spec + ints[i].off) = v[ints[i].opt].i;
        spec->set |= ints[i].bit;
    }
    if (v[DEV_OPT_IP].set) {
        if (normalize_address(v[DEV_OPT_IP].s, spec->ip, err))
            return -EINVAL;
        spec->set |= DEV_SPEC_IP;
    }
    if (v[DEV_OPT_REPLICATION_IP].set) {
        if (normalize_address(v[DEV_OPT_REPLICATION_IP].s, spec->replication_ip,
                              err))
            return -EINVAL;
        spec->set |= DEV_SPEC_REPLICATION_IP;
    }
    if (v[DEV_OPT_DEVICE].set) {
        if (strlen(v[DEV_OPT_DEVICE].s) > RING_DEV_NAME_MAX)
            return invalid("device name", v[DEV_OPT_DEVICE].s, err);
        strcpy(spec->device, v[DEV_OPT_DEVICE].s);
        spec->set |= DEV_SPEC_DEVICE;
    }
    if (v[DEV_OPT_WEIGHT].set) {
        spec->weight = v[DEV_OPT_WEIGHT].f;
        spec->set |= DEV_SPEC_WEIGHT;
    }
    if (v[DEV_OPT_META].set && *v[DEV_OPT_META].s) {
        spec->meta = v[DEV_OPT_META].s;
        spec->set |= DEV_SPEC_META;
    }
    /* Swift would match every device; refuse rather than act on all */
    if (!spec->set) {
        snprintf(err, SEARCH_VALUE_ERRLEN, "no search value given");
        return -EINVAL;
    }
    return 0;
}

/* Swift's validate_device_name: not empty, no space at either end. */
static bool valid_device_name(const char *name)
{
    size_t len = strlen(name);

    return len > 0 && name[0] != ' ' && name[len - 1] != ' ';
}

/* Swift's parse_address: "<ip>:<port>" up to an 'R' or '/', the ip in
 * optional brackets; the ip must be a literal. */
static int add_address(const char **p, char ip[], long *port,
                       char err[SEARCH_VALUE_ERRLEN])
{
    char buf[RING_DEV_IP_MAX + 16];
    const char *s = *p, *colon;
    size_t len = strcspn(s, "R/"), j = 0;
    bool dropped_open = false, dropped_close = false;
    long v;

    /* "[::1]:6200": drop the first '[' (at the start) and the first ']' */
    for (size_t i = 0; i < len && j < sizeof(buf) - 1; i++) {
        if (i == 0 && s[i] == '[') {
            dropped_open = true;
            continue;
        }
        if (dropped_open && !dropped_close && s[i] == ']') {
            dropped_close = true;
            continue;
        }
        buf[j++] = s[i];
    }
    buf[j] = '\0';
    colon = strrchr(buf, ':');
    if (!colon) {
        snprintf(err, SEARCH_VALUE_ERRLEN, "Invalid port in add value");
        return -EINVAL;
    }
    if (opts_long(colon + 1, 0, INT_MAX, &v) || colon[1] == '+' ||
        colon[1] == '-') {
        snprintf(err, SEARCH_VALUE_ERRLEN, "Invalid port %.100s in add value",
                 colon);
        return -EINVAL;
    }
    if (normalize_ip(buf, (size_t)(colon - buf), ip, err))
        return -EINVAL;
    *port = v;
    *p = s + len;
    return 0;
}

int add_value_parse(const char *value, struct dev_spec *spec,
                    char err[SEARCH_VALUE_ERRLEN])
{
    const char *s = value;

    memset(spec, 0, sizeof(*spec));
    if (take_prefixed(&s, 'r', &spec->region, DEV_SPEC_REGION, spec) ||
        *s != 'z' || take_prefixed(&s, 'z', &spec->zone, DEV_SPEC_ZONE, spec) ||
        *s != '-') {
        snprintf(err, SEARCH_VALUE_ERRLEN, "Invalid add value: %.200s", value);
        return -EINVAL;
    }
    s++;
    if (add_address(&s, spec->ip, &spec->port, err))
        return -EINVAL;
    spec->set |= DEV_SPEC_IP | DEV_SPEC_PORT;
    if (*s == 'R') {
        s++;
        if (add_address(&s, spec->replication_ip, &spec->replication_port, err))
            return -EINVAL;
        spec->set |= DEV_SPEC_REPLICATION_IP | DEV_SPEC_REPLICATION_PORT;
    }
    if (*s != '/') {
        snprintf(err, SEARCH_VALUE_ERRLEN, "Invalid add value: %.200s", value);
        return -EINVAL;
    }
    if (take_device(&s, spec->device) || !valid_device_name(spec->device)) {
        snprintf(err, SEARCH_VALUE_ERRLEN, "Invalid device name");
        return -EINVAL;
    }
    spec->set |= DEV_SPEC_DEVICE | DEV_SPEC_META;
    spec->meta = *s == '_' ? s + 1 : "";
    return 0;
}

int add_value_from_opts(const struct opt_value *v, struct dev_spec *spec,
                        char err[SEARCH_VALUE_ERRLEN])
{
    static const struct {
        enum dev_opt opt;
        const char *name;
    } required[] = {
        {DEV_OPT_REGION, "-r/--region"}, {DEV_OPT_ZONE, "-z/--zone"},
        {DEV_OPT_IP, "-i/--ip"},         {DEV_OPT_PORT, "-p/--port"},
        {DEV_OPT_DEVICE, "-d/--device"}, {DEV_OPT_WEIGHT, "-w/--weight"},
    };

    for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
        if (!v[required[i].opt].set) {
            snprintf(err, SEARCH_VALUE_ERRLEN,
                     "Required argument %s not specified.", required[i].name);
            return -EINVAL;
        }
    }
    if (search_value_from_opts(v, spec, err))
        return -EINVAL;
    spec->set &= ~DEV_SPEC_ID;
    if (!valid_device_name(spec->device)) {
        snprintf(err, SEARCH_VALUE_ERRLEN, "Invalid device name");
        return -EINVAL;
    }
    /* as Swift: "replication_ip or ip", "replication_port or port" */
    if (!(spec->set & DEV_SPEC_REPLICATION_IP))
        strcpy(spec->replication_ip, spec->ip);
    if (!(spec->set & DEV_SPEC_REPLICATION_PORT) || !spec->replication_port)
        spec->replication_port = spec->port;
    spec->set |=
        DEV_SPEC_REPLICATION_IP | DEV_SPEC_REPLICATION_PORT | DEV_SPEC_META;
    if (!spec->meta)
        spec->meta = "";
    return 0;
}

int change_value_parse(const char *value, struct dev_spec *spec,
                       char err[SEARCH_VALUE_ERRLEN])
{
    const char *s = value;

    memset(spec, 0, sizeof(*spec));
    err[0] = '\0';
    if (take_ip_port(&s, spec->ip, &spec->port, DEV_SPEC_IP, DEV_SPEC_PORT,
                     spec, err) ||
        take_tail(s, spec, err) || !spec->set) {
        if (err[0])
            return -EINVAL;
        snprintf(err, SEARCH_VALUE_ERRLEN,
                 "Invalid set info change value: '%.200s'", value);
        return -EINVAL;
    }
    return 0;
}

int change_value_from_opts(const struct opt_value *v, struct dev_spec *spec,
                           char err[SEARCH_VALUE_ERRLEN])
{
    memset(spec, 0, sizeof(*spec));
    if (v[DEV_OPT_CHANGE_IP].set && *v[DEV_OPT_CHANGE_IP].s) {
        if (normalize_address(v[DEV_OPT_CHANGE_IP].s, spec->ip, err))
            return -EINVAL;
        spec->set |= DEV_SPEC_IP;
    }
    if (v[DEV_OPT_CHANGE_REPLICATION_IP].set &&
        *v[DEV_OPT_CHANGE_REPLICATION_IP].s) {
        if (normalize_address(v[DEV_OPT_CHANGE_REPLICATION_IP].s,
                              spec->replication_ip, err))
            return -EINVAL;
        spec->set |= DEV_SPEC_REPLICATION_IP;
    }
    if (v[DEV_OPT_CHANGE_PORT].set && v[DEV_OPT_CHANGE_PORT].i) {
        spec->port = v[DEV_OPT_CHANGE_PORT].i;
        spec->set |= DEV_SPEC_PORT;
    }
    if (v[DEV_OPT_CHANGE_REPLICATION_PORT].set &&
        v[DEV_OPT_CHANGE_REPLICATION_PORT].i) {
        spec->replication_port = v[DEV_OPT_CHANGE_REPLICATION_PORT].i;
        spec->set |= DEV_SPEC_REPLICATION_PORT;
    }
    if (v[DEV_OPT_CHANGE_DEVICE].set && *v[DEV_OPT_CHANGE_DEVICE].s) {
        if (strlen(v[DEV_OPT_CHANGE_DEVICE].s) > RING_DEV_NAME_MAX)
            return invalid("device name", v[DEV_OPT_CHANGE_DEVICE].s, err);
        strcpy(spec->device, v[DEV_OPT_CHANGE_DEVICE].s);
        spec->set |= DEV_SPEC_DEVICE;
    }
    if (v[DEV_OPT_CHANGE_META].set && *v[DEV_OPT_CHANGE_META].s) {
        spec->meta = v[DEV_OPT_CHANGE_META].s;
        spec->set |= DEV_SPEC_META;
    }
    return 0;
}

bool dev_spec_match(const struct dev_spec *spec, const struct ring_dev *d)
{
    unsigned set = spec->set;

    return (!(set & DEV_SPEC_ID) || spec->id == d->id) &&
           (!(set & DEV_SPEC_REGION) || spec->region == d->region) &&
           (!(set & DEV_SPEC_ZONE) || spec->zone == d->zone) &&
           (!(set & DEV_SPEC_IP) || !strcmp(spec->ip, d->ip)) &&
           (!(set & DEV_SPEC_PORT) || spec->port == d->port) &&
           (!(set & DEV_SPEC_REPLICATION_IP) ||
            !strcmp(spec->replication_ip, d->replication_ip)) &&
           (!(set & DEV_SPEC_REPLICATION_PORT) ||
            spec->replication_port == d->replication_port) &&
           (!(set & DEV_SPEC_DEVICE) || !strcmp(spec->device, d->device)) &&
           (!(set & DEV_SPEC_WEIGHT) || spec->weight == d->weight) &&
           (!(set & DEV_SPEC_META) || strstr(d->meta, spec->meta));
}

void dev_spec_apply(const struct dev_spec *spec, struct ring_dev *d)
{
    /* The casts lend spec's storage to 'dev' for one builder call, which
     * copies what it keeps. */
    if (spec->set & DEV_SPEC_ID)
        d->id = (int)spec->id;
    if (spec->set & DEV_SPEC_REGION)
        d->region = (int)spec->region;
    if (spec->set & DEV_SPEC_ZONE)
        d->zone = (int)spec->zone;
    if (spec->set & DEV_SPEC_IP)
        d->ip = (char *)spec->ip;
    if (spec->set & DEV_SPEC_PORT)
        d->port = (int)spec->port;
    if (spec->set & DEV_SPEC_REPLICATION_IP)
        d->replication_ip = (char *)spec->replication_ip;
    if (spec->set & DEV_SPEC_REPLICATION_PORT)
        d->replication_port = (int)spec->replication_port;
    if (spec->set & DEV_SPEC_DEVICE)
        d->device = (char *)spec->device;
    if (spec->set & DEV_SPEC_WEIGHT)
        d->weight = spec->weight;
    if (spec->set & DEV_SPEC_META)
        d->meta = (char *)spec->meta;
}
