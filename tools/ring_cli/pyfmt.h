/*
 * pyfmt.h - Python's way of printing floats, durations and strings.
 *
 * swift-ring-builder prints weights with str(float), durations with
 * str(timedelta) and bad values with repr(str); operators' scripts grep
 * that output, so kura-ring prints the same characters.
 */
#ifndef TOOLS_RING_CLI_PYFMT_H
#define TOOLS_RING_CLI_PYFMT_H

#include <stdio.h>

#define PYFMT_FLOAT_LEN 32
#define PYFMT_TIMEDELTA_LEN 48

/* str(float): the shortest digits that read back as 'v' ("100.0",
 * "0.1", "1e-05", "1e+16"). Returns 'out'. */
const char *pyfmt_float(double v, char out[PYFMT_FLOAT_LEN]);

/* str(timedelta(seconds=secs)): "0:00:00", "1 day, 2:03:04". */
const char *pyfmt_timedelta(long secs, char out[PYFMT_TIMEDELTA_LEN]);

/* repr(str) of 's' to 'f': 'abc', "it's", with backslash escapes. */
void pyfmt_repr(FILE *f, const char *s);

#endif /* TOOLS_RING_CLI_PYFMT_H */
