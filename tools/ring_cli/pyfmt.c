/*
 * pyfmt.c - Python's str(float), str(timedelta) and repr(str) in C.
 *
 * Only what swift-ring-builder's messages need; the rules are CPython's
 * (float_repr_style 'short'): shortest round-tripping digits, exponent
 * form when the decimal exponent is below -4 or at least 16.
 */
#include "tools/ring_cli/pyfmt.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Shortest "%.*e" rendering of 'v' that strtod() reads back exactly. */
static int shortest_digits(double v, char *buf, size_t len)
{
    int prec;

    for (prec = 1; prec < 17; prec++) {
        snprintf(buf, len, "%.*e", prec - 1, v);
        if (strtod(buf, NULL) == v)
            return prec;
    }
    snprintf(buf, len, "%.*e", 16, v);
    return 17;
}

const char *pyfmt_float(double v, char out[PYFMT_FLOAT_LEN])
{
    char sci[PYFMT_FLOAT_LEN];
    char *e;
    int n_digits, exp10, decimals;

    n_digits = shortest_digits(v, sci, sizeof(sci));
    e = strchr(sci, 'e');
    if (!e) { /* inf or nan: never parsed from our input, but be safe */
        snprintf(out, PYFMT_FLOAT_LEN, "%s", sci);
        return out;
    }
    exp10 = atoi(e + 1);
    if (exp10 < -4 || exp10 >= 16) {
        /* "1.5e+16": mantissa as is, exponent with at least two digits */
        snprintf(out, PYFMT_FLOAT_LEN, "%.*se%c%02d", (int)(e - sci), sci,
                 exp10 < 0 ? '-' : '+', abs(exp10));
        return out;
    }
    decimals = n_digits - 1 - exp10;
    if (decimals < 0)
        decimals = 0;
    snprintf(out, PYFMT_FLOAT_LEN, "%.*f", decimals, v);
    if (decimals == 0)
        strcat(out, ".0");
    return out;
}

const char *pyfmt_timedelta(long secs, char out[PYFMT_TIMEDELTA_LEN])
{
    long days = secs / 86400, rest = secs % 86400;
    int n = 0;

    if (days)
        n = snprintf(out, PYFMT_TIMEDELTA_LEN, "%ld day%s, ", days,
                     days == 1 ? "" : "s");
    snprintf(out + n, PYFMT_TIMEDELTA_LEN - n, "%ld:%02ld:%02ld", rest / 3600,
             rest % 3600 / 60, rest % 60);
    return out;
}

void pyfmt_repr(FILE *f, const char *s)
{
    /* Python prefers single quotes unless the text has one and no double */
    char q = strchr(s, '\'') && !strchr(s, '"') ? '"' : '\'';

    fputc(q, f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            if (*p == q)
                fprintf(f, "\\%c", q);
            else if (*p < 0x20 || *p == 0x7f)
                fprintf(f, "\\x%02x", *p);
            else
                fputc(*p, f);
        }
    }
    fputc(q, f);
}
