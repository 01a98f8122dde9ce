/*
 * opts.c - optparse-style option scanning and strict number parsing.
 *
 * The scanner keeps no state between calls and never reorders argv; the
 * option tables live with the commands that use them.
 */
#include "tools/ring_cli/opts.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int opts_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    long v;

    if (!*s || isspace((unsigned char)*s))
        return -EINVAL;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || *end || v < lo || v > hi)
        return -EINVAL;
    *out = v;
    return 0;
}

int opts_double(const char *s, double *out)
{
    char *end;
    double v;

    if (!*s || isspace((unsigned char)*s))
        return -EINVAL;
    errno = 0;
    v = strtod(s, &end);
    if (errno || *end || !isfinite(v))
        return -EINVAL;
    *out = v;
    return 0;
}

/* "-1", "-0.5", "-10.0.0.1", "-[::1]": values, not options. */
static bool looks_positional(const char *w)
{
    return w[0] != '-' || w[1] == '\0' || isdigit((unsigned char)w[1]) ||
           w[1] == '.' || w[1] == '[';
}

static const struct opt_spec *find_long(const struct opt_spec *specs, size_t n,
                                        const char *name, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(specs[i].name) == len && !strncmp(specs[i].name, name, len))
            return &specs[i];
    return NULL;
}

static const struct opt_spec *find_short(const struct opt_spec *specs, size_t n,
                                         char c)
{
    for (size_t i = 0; i < n; i++)
        if (specs[i].short_name && specs[i].short_name == c)
            return &specs[i];
    return NULL;
}

static int set_value(const struct opt_spec *spec, const char *shown,
                     struct opt_value *v, const char *arg,
                     char err[OPTS_ERRLEN])
{
    switch (spec->type) {
    case OPT_FLAG: break;
    case OPT_STR: v->s = arg; break;
    case OPT_INT:
        if (opts_long(arg, -2147483647L - 1, 2147483647L, &v->i)) {
            snprintf(err, OPTS_ERRLEN, "option %s: invalid integer value: '%s'",
                     shown, arg);
            return -EINVAL;
        }
        break;
    case OPT_FLOAT:
        if (opts_double(arg, &v->f)) {
            snprintf(err, OPTS_ERRLEN,
                     "option %s: invalid floating-point value: '%s'", shown,
                     arg);
            return -EINVAL;
        }
        break;
    }
    v->set = true;
    return 0;
}

int opts_parse(const struct opt_spec *specs, size_t n_specs,
               struct opt_value *vals, int argc, char **argv, char **pos,
               int *n_pos, char err[OPTS_ERRLEN])
{
    bool only_pos = false;

    *n_pos = 0;
    for (int i = 0; i < argc; i++) {
        const char *w = argv[i], *inline_arg = NULL;
        const struct opt_spec *spec;
        char shown[64];

        if (only_pos || looks_positional(w)) {
            pos[(*n_pos)++] = argv[i];
            continue;
        }
        if (!strcmp(w, "--")) {
            only_pos = true;
            continue;
        }
        if (!strcmp(w, "--help") || !strcmp(w, "-h"))
            return OPTS_HELP;
        if (w[1] == '-') {
            const char *eq = strchr(w + 2, '=');
            size_t len = eq ? (size_t)(eq - w - 2) : strlen(w + 2);

            spec = find_long(specs, n_specs, w + 2, len);
            inline_arg = eq ? eq + 1 : NULL;
            snprintf(shown, sizeof(shown), "--%.*s", (int)len, w + 2);
        } else {
            spec = find_short(specs, n_specs, w[1]);
            inline_arg = w[2] ? w + 2 : NULL;
            snprintf(shown, sizeof(shown), "-%c", w[1]);
        }
        if (!spec) {
            snprintf(err, OPTS_ERRLEN, "no such option: %s", shown);
            return -EINVAL;
        }
        if (spec->type == OPT_FLAG) {
            if (inline_arg) {
                snprintf(err, OPTS_ERRLEN, "%s option does not take a value",
                         shown);
                return -EINVAL;
            }
        } else if (!inline_arg) {
            if (i + 1 >= argc) {
                snprintf(err, OPTS_ERRLEN, "%s option requires an argument",
                         shown);
                return -EINVAL;
            }
            inline_arg = argv[++i];
        }
        if (set_value(spec, shown, &vals[spec - specs], inline_arg, err))
            return -EINVAL;
    }
    return 0;
}
