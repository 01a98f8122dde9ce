/*
 * conf.c - reading Swift-style ini files and applying option tables.
 *
 * Owns the parsed file (struct conf) and the parsing rules; the meaning of
 * options belongs to each daemon's table. We parse the file ourselves
 * rather than with libinih: Debian's libinih is built with a 200-byte line
 * limit (INI_MAX_LINE, no realloc) and splits longer lines silently, and a
 * Swift proxy pipeline line is often longer; it also strips " ; comments"
 * that ConfigParser keeps as part of the value. The rules below are
 * ConfigParser's (see conf.h), so a file means what it means to Swift.
 *
 * Invariants of a loaded conf: section names are unique and non-empty;
 * within a section keys are unique, lower case and non-empty; every string
 * is NUL-terminated and owned by the conf.
 */
#include "common/conf.h"

#include "common/log.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

struct conf_entry {
    char *key;
    char *value;
    unsigned int line;
};

struct conf_section {
    char *name;
    unsigned int line;
    struct conf_entry *entries;
    size_t n_entries, cap_entries;
};

struct conf {
    char *path;
    struct conf_section *sections;
    size_t n_sections, cap_sections;
};

/* ---- parsing ---- */

/* The parser's position: the section and key a continuation line extends,
 * and the indentation of that key's line (deeper means continuation). */
struct parser {
    struct conf *conf;
    struct conf_section *sect;
    struct conf_entry *last;
    size_t last_indent;
    unsigned int lineno;
    char *err;
};

__attribute__((format(printf, 2, 3))) static int
parse_error(struct parser *p, const char *fmt, ...)
{
    char reason[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    snprintf(p->err, CONF_ERR_LEN, "%s:%u: %s", p->conf->path, p->lineno,
             reason);
    return -EINVAL;
}

static struct conf_section *find_section(const struct conf *conf,
                                         const char *name)
{
    size_t i;

    for (i = 0; i < conf->n_sections; i++)
        if (!strcmp(conf->sections[i].name, name))
            return &conf->sections[i];
    return NULL;
}

static struct conf_entry *find_entry(const struct conf_section *sect,
                                     const char *key)
{
    size_t i;

    if (!sect)
        return NULL;
    for (i = 0; i < sect->n_entries; i++)
        if (!strcmp(sect->entries[i].key, key))
            return &sect->entries[i];
    return NULL;
}

/* Grows an array of 'size'-byte elements to hold one more. */
static int grow(void **arr, size_t n, size_t *cap, size_t size)
{
    size_t new_cap;
    void *p;

    if (n < *cap)
        return 0;
    new_cap = *cap ? *cap * 2 : 8;
    p = reallocarray(*arr, new_cap, size);
    if (!p)
        return -ENOMEM;
    *arr = p;
    *cap = new_cap;
    return 0;
}

static char *strip(char *s)
{
    char *end;

    while (isspace((unsigned char)*s))
        s++;
    end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1]))
        *--end = '\0';
    return s;
}

static int add_section(struct parser *p, char *line)
{
    struct conf *conf = p->conf;
    struct conf_section *prev, *sect;
    char *name;

    line[strlen(line) - 1] = '\0'; /* the ']' */
    name = line + 1;
    if (!*name)
        return parse_error(p, "empty section name");
    prev = find_section(conf, name);
    if (prev)
        return parse_error(p, "section [%s] already defined on line %u", name,
                           prev->line);
    if (grow((void **)&conf->sections, conf->n_sections, &conf->cap_sections,
             sizeof(*conf->sections)))
        return -ENOMEM;
    sect = &conf->sections[conf->n_sections];
    memset(sect, 0, sizeof(*sect));
    sect->name = strdup(name);
    if (!sect->name)
        return -ENOMEM;
    sect->line = p->lineno;
    conf->n_sections++;
    p->sect = sect;
    p->last = NULL;
    return 0;
}

static int add_entry(struct parser *p, char *line, size_t indent)
{
    struct conf_section *sect = p->sect;
    struct conf_entry *prev, *e;
    char *delim = line + strcspn(line, "=:"), *key, *value, *c;

    if (!*delim)
        return parse_error(p, "expected 'key = value', '[section]' or a "
                              "comment");
    *delim = '\0';
    key = strip(line);
    value = strip(delim + 1);
    /* paste.deploy: "set key = value" overrides the global value; for us a
     * section's own key already wins over [DEFAULT]. */
    if (!strncmp(key, "set", 3) && isspace((unsigned char)key[3]))
        key = strip(key + 4);
    if (!*key)
        return parse_error(p, "empty option name");
    if (!sect)
        return parse_error(p, "option '%s' before any [section]", key);
    for (c = key; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    prev = find_entry(sect, key);
    if (prev)
        return parse_error(p, "option '%s' already set in [%s] on line %u", key,
                           sect->name, prev->line);
    if (grow((void **)&sect->entries, sect->n_entries, &sect->cap_entries,
             sizeof(*sect->entries)))
        return -ENOMEM;
    e = &sect->entries[sect->n_entries];
    e->key = strdup(key);
    e->value = strdup(value);
    e->line = p->lineno;
    if (!e->key || !e->value) {
        free(e->key);
        free(e->value);
        return -ENOMEM;
    }
    sect->n_entries++;
    p->last = e;
    p->last_indent = indent;
    return 0;
}

/* An indented line extends the previous value, joined with '\n'. */
static int continue_value(struct parser *p, const char *text)
{
    size_t old = strlen(p->last->value), add = strlen(text);
    char *v = realloc(p->last->value, old + 1 + add + 1);

    if (!v)
        return -ENOMEM;
    v[old] = '\n';
    memcpy(v + old + 1, text, add + 1);
    p->last->value = v;
    return 0;
}

static int parse_line(struct parser *p, char *raw)
{
    size_t indent = strspn(raw, " \t");
    char *line = strip(raw);

    if (!*line) {
        p->last = NULL; /* a blank line ends a multi-line value */
        return 0;
    }
    if (*line == '#' || *line == ';')
        return 0;
    if (p->last && indent > p->last_indent)
        return continue_value(p, line);
    if (*line == '[' && line[strlen(line) - 1] == ']')
        return add_section(p, line);
    return add_entry(p, line, indent);
}

static int parse_file(struct parser *p, FILE *f)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int err = 0;

    while (!err && (len = getline(&line, &cap, f)) != -1) {
        char *start = line;

        p->lineno++;
        if (strlen(line) != (size_t)len) {
            err = parse_error(p, "NUL byte in line");
            break;
        }
        if (p->lineno == 1 && !strncmp(line, "\xef\xbb\xbf", 3))
            start += 3;
        err = parse_line(p, start);
    }
    if (!err && ferror(f))
        err = -EIO;
    free(line);
    return err;
}

int conf_load(const char *path, struct conf **out, char err[CONF_ERR_LEN])
{
    struct parser p = {0};
    struct conf *conf;
    FILE *f = NULL;
    int rc;

    *out = NULL;
    err[0] = '\0';
    conf = calloc(1, sizeof(*conf));
    if (!conf || !(conf->path = strdup(path))) {
        rc = -ENOMEM;
        goto out;
    }
    f = fopen(path, "re");
    if (!f) {
        rc = -errno;
        snprintf(err, CONF_ERR_LEN, "%s: cannot open: %s", path, strerror(-rc));
        goto out;
    }
    p.conf = conf;
    p.err = err;
    rc = parse_file(&p, f);
    if (rc == -ENOMEM || rc == -EIO)
        snprintf(err, CONF_ERR_LEN, "%s: cannot read: %s", path, strerror(-rc));
    if (rc)
        goto out;
    *out = conf;
    conf = NULL; /* the caller owns it now */
out:
    if (f)
        fclose(f);
    conf_free(conf);
    return rc;
}

void conf_free(struct conf *conf)
{
    size_t i, j;

    if (!conf)
        return;
    for (i = 0; i < conf->n_sections; i++) {
        struct conf_section *s = &conf->sections[i];

        for (j = 0; j < s->n_entries; j++) {
            free(s->entries[j].key);
            free(s->entries[j].value);
        }
        free(s->entries);
        free(s->name);
    }
    free(conf->sections);
    free(conf->path);
    free(conf);
}

/* ---- reading ---- */

const char *conf_path(const struct conf *conf)
{
    return conf->path;
}

bool conf_has_section(const struct conf *conf, const char *section)
{
    return find_section(conf, section) != NULL;
}

static const struct conf_entry *lookup(const struct conf *conf,
                                       const char *section, const char *key)
{
    const struct conf_section *sect = find_section(conf, section);
    const struct conf_entry *e;

    if (!sect)
        return NULL;
    e = find_entry(sect, key);
    if (!e)
        e = find_entry(find_section(conf, "DEFAULT"), key);
    return e;
}

const char *conf_get(const struct conf *conf, const char *section,
                     const char *key, unsigned int *line)
{
    const struct conf_entry *e = lookup(conf, section, key);

    if (line)
        *line = e ? e->line : 0;
    return e ? e->value : NULL;
}

int conf_foreach(const struct conf *conf, const char *section, int flags,
                 conf_key_fn fn, void *arg)
{
    const struct conf_section *sect = find_section(conf, section);
    const struct conf_section *defaults = find_section(conf, "DEFAULT");
    size_t i;
    int rc;

    if (!sect)
        return -ENOENT;
    for (i = 0; i < sect->n_entries; i++) {
        const struct conf_entry *e = &sect->entries[i];

        rc = fn(e->key, e->value, e->line, arg);
        if (rc)
            return rc;
    }
    if (!(flags & CONF_WITH_DEFAULTS) || !defaults || defaults == sect)
        return 0;
    for (i = 0; i < defaults->n_entries; i++) {
        const struct conf_entry *e = &defaults->entries[i];

        if (find_entry(sect, e->key))
            continue;
        rc = fn(e->key, e->value, e->line, arg);
        if (rc)
            return rc;
    }
    return 0;
}

int conf_foreach_section(const struct conf *conf,
                         int (*fn)(const char *name, void *arg), void *arg)
{
    size_t i;
    int rc;

    for (i = 0; i < conf->n_sections; i++) {
        if (!strcmp(conf->sections[i].name, "DEFAULT"))
            continue;
        rc = fn(conf->sections[i].name, arg);
        if (rc)
            return rc;
    }
    return 0;
}

/* ---- typed values ---- */

int conf_parse_bool(const char *value, bool *out)
{
    static const char *const yes[] = {"true", "1", "yes", "on", "t", "y"};
    static const char *const no[] = {"false", "0", "no", "off", "f", "n"};
    size_t i;

    for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (!strcasecmp(value, yes[i])) {
            *out = true;
            return 0;
        }
        if (!strcasecmp(value, no[i])) {
            *out = false;
            return 0;
        }
    }
    return -EINVAL;
}

/* Decimal digits only: no sign, no spaces, no base prefixes. */
static int parse_u64(const char *s, const char **end, uint64_t *out)
{
    uint64_t v = 0;

    if (!isdigit((unsigned char)*s))
        return -EINVAL;
    for (; isdigit((unsigned char)*s); s++) {
        unsigned int digit = (unsigned int)(*s - '0');

        if (v > (UINT64_MAX - digit) / 10)
            return -ERANGE;
        v = v * 10 + digit;
    }
    *end = s;
    *out = v;
    return 0;
}

static int parse_size(const char *s, uint64_t *out)
{
    const char *end;
    unsigned int shift = 0;
    uint64_t v;
    int err = parse_u64(s, &end, &v);

    if (err)
        return err;
    if (*end) {
        const char *units = "kmgt", *u = strchr(units, tolower(*end));

        if (!u || end[1])
            return -EINVAL;
        shift = 10 * (unsigned int)(u - units + 1);
    }
    if (shift && v > (UINT64_MAX >> shift))
        return -ERANGE;
    *out = v << shift;
    return 0;
}

static int parse_double(const char *s, double *out)
{
    char *end;
    size_t i;

    /* strtod alone would take "inf", "nan", hex and leading spaces */
    for (i = 0; s[i]; i++)
        if (!isdigit((unsigned char)s[i]) && !strchr("+-.eE", s[i]))
            return -EINVAL;
    errno = 0;
    *out = strtod(s, &end);
    if (end == s || *end || errno || !isfinite(*out))
        return -EINVAL;
    return 0;
}

/* Sets one member from 'value'. On -EINVAL, 'why' holds the reason. */
static int set_member(const struct conf_option *o, void *obj, const char *value,
                      char *why, size_t why_len)
{
    void *field = (char *)obj + o->offset;
    const char *reason = NULL;
    uint64_t u;
    double d;
    int err = 0;

    switch (o->type) {
    case CONF_T_UINT:
    case CONF_T_SIZE: {
        const char *end;

        if (o->type == CONF_T_UINT)
            err = parse_u64(value, &end, &u) ? -EINVAL : *end ? -EINVAL : 0;
        else
            err = parse_size(value, &u) ? -EINVAL : 0;
        if (!err && (u < o->range.u.min || u > o->range.u.max))
            err = -EINVAL;
        if (err) {
            snprintf(why, why_len, "expected %s from %llu to %llu",
                     o->type == CONF_T_UINT ? "an integer"
                                            : "a size in bytes (K/M/G/T)",
                     (unsigned long long)o->range.u.min,
                     (unsigned long long)o->range.u.max);
            return err;
        }
        if (o->type == CONF_T_UINT)
            *(unsigned int *)field = (unsigned int)u;
        else
            *(uint64_t *)field = u;
        return 0;
    }
    case CONF_T_BOOL:
        err = conf_parse_bool(value, field);
        if (err)
            snprintf(why, why_len, "expected true or false");
        return err;
    case CONF_T_DOUBLE:
        err = parse_double(value, &d);
        if (err || d < o->range.d.min || d > o->range.d.max) {
            snprintf(why, why_len, "expected a number from %g to %g",
                     o->range.d.min, o->range.d.max);
            return -EINVAL;
        }
        *(double *)field = d;
        return 0;
    case CONF_T_STR: {
        char **s = field, *copy = value ? strdup(value) : NULL;

        if (value && !copy)
            return -ENOMEM;
        free(*s);
        *s = copy;
        return 0;
    }
    case CONF_T_CUSTOM:
        err = o->parse(value, field, &reason);
        if (err == -EINVAL)
            snprintf(why, why_len, "%s", reason ? reason : "invalid value");
        return err;
    case CONF_T_END: break;
    }
    return -EINVAL;
}

static int set_default(const struct conf_option *o, void *obj, char *why,
                       size_t why_len)
{
    void *field = (char *)obj + o->offset;

    switch (o->type) {
    case CONF_T_UINT: *(unsigned int *)field = (unsigned int)o->def.u; break;
    case CONF_T_SIZE: *(uint64_t *)field = o->def.u; break;
    case CONF_T_BOOL: *(bool *)field = o->def.u != 0; break;
    case CONF_T_DOUBLE: *(double *)field = o->def.d; break;
    case CONF_T_STR:
    case CONF_T_CUSTOM: return set_member(o, obj, o->def.s, why, why_len);
    case CONF_T_END: break;
    }
    return 0;
}

static const struct conf_option *find_option(const struct conf_option *table,
                                             const char *name)
{
    for (; table->name; table++)
        if (!strcmp(table->name, name))
            return table;
    return NULL;
}

static void warn_unknown(const struct conf *conf, const char *section,
                         const struct conf_option *table)
{
    const struct conf_section *sect = find_section(conf, section);
    size_t i;

    for (i = 0; i < sect->n_entries; i++) {
        const struct conf_entry *e = &sect->entries[i];

        if (strcmp(e->key, "use") && !find_option(table, e->key))
            log_warning("%s:%u: unknown option '%s' in [%s]", conf->path,
                        e->line, e->key, section);
    }
}

int conf_apply(const struct conf *conf, const char *section,
               const struct conf_option *table, void *obj,
               char err[CONF_ERR_LEN])
{
    const struct conf_option *o;
    char why[256];
    int rc = 0;

    err[0] = '\0';
    /* set_member() frees the previous string; start from none */
    for (o = table; o->name; o++)
        if (o->type == CONF_T_STR)
            *(char **)((char *)obj + o->offset) = NULL;
    if (!find_section(conf, section)) {
        snprintf(err, CONF_ERR_LEN, "%s: no section [%s]", conf->path, section);
        return -ENOENT;
    }
    for (o = table; o->name; o++) {
        const struct conf_entry *e = lookup(conf, section, o->name);

        rc = set_default(o, obj, why, sizeof(why));
        if (rc) {
            snprintf(err, CONF_ERR_LEN, "option '%s': bad default: %s", o->name,
                     why);
            break;
        }
        if (!e)
            continue;
        rc = set_member(o, obj, e->value, why, sizeof(why));
        if (rc) {
            snprintf(err, CONF_ERR_LEN, "%s:%u: option '%s': %s", conf->path,
                     e->line, o->name, rc == -ENOMEM ? "out of memory" : why);
            break;
        }
    }
    if (rc)
        conf_release(table, obj);
    else
        warn_unknown(conf, section, table);
    return rc;
}

void conf_release(const struct conf_option *table, void *obj)
{
    for (; table->name; table++) {
        if (table->type == CONF_T_STR) {
            char **s = (char **)((char *)obj + table->offset);

            free(*s);
            *s = NULL;
        }
    }
}
