/*
 * opts.h - command-line options the way Python's optparse reads them, and
 * strict number parsing.
 *
 * swift-ring-builder parses each command's words with optparse: options
 * may come anywhere ("--zone 1", "--zone=1", "-z 1", "-z1"), "--" ends
 * them, the rest are positional. Unlike optparse, a word that looks like a
 * negative number or an ip ("-1", "-10.0.0.1", "-[::1]") is positional, so
 * "set_weight d0 -1" is diagnosed as a bad weight rather than an unknown
 * option.
 */
#ifndef TOOLS_RING_CLI_OPTS_H
#define TOOLS_RING_CLI_OPTS_H

#include <stdbool.h>
#include <stddef.h>

#define OPTS_ERRLEN 256
#define OPTS_HELP 1 /* opts_parse(): -h or --help was given */

enum opt_type { OPT_FLAG, OPT_INT, OPT_FLOAT, OPT_STR };

struct opt_spec {
    const char *name; /* without the leading "--" */
    char short_name;  /* 0: none */
    enum opt_type type;
};

struct opt_value {
    bool set;
    long i;        /* OPT_INT */
    double f;      /* OPT_FLOAT */
    const char *s; /* OPT_STR: borrowed from argv */
};

/* Parses argv[0..argc) against specs[0..n_specs), filling vals (same
 * indexes; zero them first) and pos/n_pos with the positional words (pos
 * has room for argc). Returns 0, OPTS_HELP, or -EINVAL with a message in
 * 'err' (unknown option, missing or malformed value). */
int opts_parse(const struct opt_spec *specs, size_t n_specs,
               struct opt_value *vals, int argc, char **argv, char **pos,
               int *n_pos, char err[OPTS_ERRLEN]);

/* Reads all of 's' as a decimal integer in lo..hi. Returns 0 or -EINVAL
 * (not a number, trailing junk, out of range). */
int opts_long(const char *s, long lo, long hi, long *out);

/* Reads all of 's' as a finite decimal number. Returns 0 or -EINVAL. */
int opts_double(const char *s, double *out);

#endif /* TOOLS_RING_CLI_OPTS_H */
