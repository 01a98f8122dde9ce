/*
 * conf.h - Swift-style ini config files and typed option tables.
 *
 * A file is read once by conf_load() into a struct conf that keeps every
 * section (in file order) with its keys, values and line numbers. The
 * syntax is Python's ConfigParser as Swift and paste.deploy use it:
 * "[section]" headers, "key = value" or "key: value" lines, keys folded to
 * lower case, '#' and ';' comment lines (no inline comments: "a = b # c"
 * has the value "b # c"), indented lines continue the previous value
 * (joined with '\n'), a UTF-8 BOM is skipped, and a key repeated within a
 * section, a repeated section or a key before any section is an error.
 * paste.deploy's "set key = value" is read as "key = value". Unlike
 * ConfigParser, "%(name)s" interpolation is not done (NEEDSWORK: no Swift
 * sample needs it; "%%" stays "%%").
 *
 * [DEFAULT] supplies every section: a key missing in a section is looked
 * up there, as paste.deploy merges global_conf into each app and filter.
 *
 * Options are rows in one table per daemon, read by conf_apply():
 *
 *   struct proxy_conf { unsigned int bind_port; bool allow_account_management;
 *                       uint64_t max_file_size; char *swift_dir; ... };
 *   static const struct conf_option proxy_options[] = {
 *       CONF_UINT("bind_port", struct proxy_conf, bind_port, 8080, 1, 65535),
 *       CONF_BOOL("allow_account_management", struct proxy_conf,
 *                 allow_account_management, false),
 *       CONF_SIZE("max_file_size", struct proxy_conf, max_file_size,
 *                 5368709122, 0, UINT64_MAX),
 *       CONF_STR("swift_dir", struct proxy_conf, swift_dir, "/etc/kura"),
 *       CONF_END,
 *   };
 *
 * Each row checks at compile time that the member has the row's type.
 *
 * A struct conf is read-only after conf_load(): any number of threads may
 * read it at once. Strings it returns live as long as the conf.
 */
#ifndef COMMON_CONF_H
#define COMMON_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct conf; /* opaque */

/* Room for any error message conf_load() or conf_apply() writes. */
#define CONF_ERR_LEN 512

/* Reads and parses 'path'. On success returns 0 and sets *out to a conf the
 * caller frees with conf_free(). On failure returns -errno (-ENOENT: no
 * such file, -EINVAL: a syntax error, -ENOMEM), sets *out to NULL and
 * writes "path:line: reason" (or "path: reason") into 'err'. */
int conf_load(const char *path, struct conf **out, char err[CONF_ERR_LEN]);
void conf_free(struct conf *conf); /* NULL is fine */

const char *conf_path(const struct conf *conf);
bool conf_has_section(const struct conf *conf, const char *section);

/* The raw value of 'key' in 'section', or in [DEFAULT] when the section
 * lacks it; NULL if neither has it (or the section does not exist). If
 * 'line' is non-NULL it receives the value's line number. */
const char *conf_get(const struct conf *conf, const char *section,
                     const char *key, unsigned int *line);

/* Calls fn for each key of 'section' in file order, then (with
 * CONF_WITH_DEFAULTS) for each [DEFAULT] key the section does not set.
 * Stops early and returns fn's value when fn returns non-zero; returns
 * -ENOENT if the section does not exist, else 0. For keys that are data
 * rather than options, such as tempauth's user_<account>_<user>. */
enum conf_foreach_flags { CONF_WITH_DEFAULTS = 1 << 0 };
typedef int (*conf_key_fn)(const char *key, const char *value,
                           unsigned int line, void *arg);
int conf_foreach(const struct conf *conf, const char *section, int flags,
                 conf_key_fn fn, void *arg);

/* Calls fn(name, arg) for each section but [DEFAULT], in file order (to
 * find the [filter:*] sections of a pipeline). Stops on non-zero. */
int conf_foreach_section(const struct conf *conf,
                         int (*fn)(const char *name, void *arg), void *arg);

/* ---- option tables ---- */

enum conf_type {
    CONF_T_END,
    CONF_T_UINT,   /* unsigned int, decimal, within [min, max] */
    CONF_T_BOOL,   /* bool: Swift's true/1/yes/on/t/y, false/0/no/off/f/n */
    CONF_T_SIZE,   /* uint64_t bytes: decimal, optional K/M/G/T (x 1024) */
    CONF_T_DOUBLE, /* double, decimal, within [min, max] */
    CONF_T_STR,    /* char *, malloc()ed copy; NULL default allowed */
    CONF_T_CUSTOM, /* parse() fills the member */
};

/* Parses 'value' into the member at 'field'. Returns 0, or -EINVAL and
 * points *why at a static reason. It must not allocate: conf_release()
 * frees only CONF_STR members. */
typedef int (*conf_parse_fn)(const char *value, void *field, const char **why);

struct conf_option {
    const char *name;
    enum conf_type type;
    size_t offset;
    union {
        uint64_t u; /* UINT, SIZE, BOOL */
        double d;
        const char *s; /* STR, CUSTOM (parsed like a value) */
    } def;
    union {
        struct {
            uint64_t min, max;
        } u;
        struct {
            double min, max;
        } d;
    } range;
    conf_parse_fn parse;
};

/* A constant expression that fails to compile unless T's member m has type
 * 'type': pointer subtraction needs compatible pointer types. */
#define CONF_CHECK_(T, m, ty_) (0 * sizeof(&((T *)0)->m - (ty_ *)0))
#define CONF_ROW_(n_, t_, T, m, ty_)                                           \
    .name = (n_), .type = (t_),                                                \
    .offset = offsetof(T, m) + CONF_CHECK_(T, m, ty_)

#define CONF_UINT(n, T, m, def_, min_, max_)                                   \
    {                                                                          \
        CONF_ROW_(n, CONF_T_UINT, T, m, unsigned int), .def.u = (def_),        \
                                                       .range.u = {            \
                                                           (min_),             \
                                                           (max_)              \
                                                       }                       \
    }
#define CONF_BOOL(n, T, m, def_)                                               \
    {                                                                          \
        CONF_ROW_(n, CONF_T_BOOL, T, m, bool), .def.u = (def_)                 \
    }
#define CONF_SIZE(n, T, m, def_, min_, max_)                                   \
    {                                                                          \
        CONF_ROW_(n, CONF_T_SIZE, T, m, uint64_t), .def.u = (def_),            \
                                                   .range.u = {                \
                                                       (min_),                 \
                                                       (max_)                  \
                                                   }                           \
    }
#define CONF_DOUBLE(n, T, m, def_, min_, max_)                                 \
    {                                                                          \
        CONF_ROW_(n, CONF_T_DOUBLE, T, m, double), .def.d = (def_),            \
                                                   .range.d = {                \
                                                       (min_),                 \
                                                       (max_)                  \
                                                   }                           \
    }
#define CONF_STR(n, T, m, def_)                                                \
    {                                                                          \
        CONF_ROW_(n, CONF_T_STR, T, m, char *), .def.s = (def_)                \
    }
/* 'def_' is a string run through 'parse_' like a value from the file. */
#define CONF_CUSTOM(n, T, m, ty_, def_, parse_)                                \
    {                                                                          \
        CONF_ROW_(n, CONF_T_CUSTOM, T, m, ty_), .def.s = (def_),               \
                                                .parse = (parse_)              \
    }
#define CONF_END                                                               \
    {                                                                          \
        .name = NULL, .type = CONF_T_END                                       \
    }

/* Fills the struct at 'obj' from 'section' of 'conf' by 'table': every
 * member gets its default, then the value from the section or [DEFAULT].
 * Keys of the section that no row names get a warning through the logger
 * ("use", paste.deploy's, excepted); [DEFAULT] keys do not, as they serve
 * every daemon. Returns 0; -ENOENT if the section is missing; -EINVAL with
 * "path:line: option 'x': reason" in 'err' for a bad value; -ENOMEM. On
 * failure the struct holds no allocated strings. Release with
 * conf_release(). */
int conf_apply(const struct conf *conf, const char *section,
               const struct conf_option *table, void *obj,
               char err[CONF_ERR_LEN]);

/* Frees the strings conf_apply() put in 'obj' and zeroes their members. */
void conf_release(const struct conf_option *table, void *obj);

/* Swift's config_true_value() and its false counterpart, case-insensitive.
 * Returns 0 and sets *out, or -EINVAL for anything else. */
int conf_parse_bool(const char *value, bool *out);

#endif /* COMMON_CONF_H */
