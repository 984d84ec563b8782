/* opts: command-line flags with DTS_* environment fallbacks, described as data. */
#ifndef DTS_OPTS_H
#define DTS_OPTS_H

#include <stddef.h>
#include <stdio.h>

typedef enum { OPT_STR, OPT_INT } OptType;

typedef struct Option {
    const char *name; /* "redis": --redis VALUE, --redis=VALUE, or DTS_REDIS */
    OptType type;
    void *dest;      /* const char ** for OPT_STR, long * for OPT_INT */
    const char *def; /* default as text, or NULL */
    long min, max;   /* bounds for OPT_INT */
    const char *help;
} Option;

/* Fills every option from argv (flags win), then DTS_* variables, then
 * defaults. argv[0] is the role name. Returns 0, 1 if --help was asked for (the
 * caller prints usage), or -1 with a one-line message in err. String results
 * point into argv, the environment or the defaults: nothing to free. */
int opts_parse(const Option *opts, int argc, char **argv, char *err, size_t errlen);

/* Prints "usage: dts ROLE [options]", SUMMARY and a line for each option. */
void opts_usage(FILE *out, const char *role, const char *summary, const Option *opts);

#endif
