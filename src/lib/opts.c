/* opts: command-line flags with DTS_* environment fallbacks, described as data. */
#include "opts.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static void env_name(const char *name, char *out, size_t len)
{
    size_t i = 0, j = snprintf(out, len, "DTS_");
    for (; name[i] != '\0' && j + 1 < len; i++)
        out[j++] = (char)(name[i] == '-' ? '_' : toupper((unsigned char)name[i]));
    out[j] = '\0';
}

static int set_value(const Option *o, const char *value, const char *from, char *err, size_t errlen)
{
    if (o->type == OPT_STR) {
        *(const char **)o->dest = value;
        return 0;
    }
    char *end;
    long v = strtol(value, &end, 10);
    if (*value == '\0' || *end != '\0' || v < o->min || v > o->max) {
        snprintf(err, errlen, "%s: %s must be an integer from %ld to %ld (got \"%.40s\")", from, o->name,
                 o->min, o->max, value);
        return -1;
    }
    *(long *)o->dest = v;
    return 0;
}

static const Option *find(const Option *opts, const char *name, size_t len)
{
    for (const Option *o = opts; o->name != NULL; o++)
        if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
            return o;
    return NULL;
}

static int parse_flags(const Option *opts, int argc, char **argv, char *seen, char *err, size_t errlen)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
            return 1;
        if (strncmp(a, "--", 2) != 0) {
            snprintf(err, errlen, "unexpected argument \"%.60s\" (see --help)", a);
            return -1;
        }
        const char *eq = strchr(a + 2, '=');
        size_t len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
        const Option *o = find(opts, a + 2, len);
        if (o == NULL) {
            snprintf(err, errlen, "unknown option \"%.60s\" (see --help)", a);
            return -1;
        }
        const char *value = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
        if (value == NULL) {
            snprintf(err, errlen, "option --%s needs a value", o->name);
            return -1;
        }
        if (set_value(o, value, "flag", err, errlen) != 0)
            return -1;
        seen[o - opts] = 1;
    }
    return 0;
}

int opts_parse(const Option *opts, int argc, char **argv, char *err, size_t errlen)
{
    char seen[64] = {0};
    int rv = parse_flags(opts, argc, argv, seen, err, errlen);
    if (rv != 0)
        return rv;
    for (const Option *o = opts; o->name != NULL; o++) {
        if (seen[o - opts])
            continue;
        char env[64];
        env_name(o->name, env, sizeof env);
        const char *value = getenv(env);
        if (value != NULL && set_value(o, value, env, err, errlen) != 0)
            return -1;
        if (value == NULL && o->def != NULL && set_value(o, o->def, "default", err, errlen) != 0)
            return -1;
    }
    return 0;
}

void opts_usage(FILE *out, const char *role, const char *summary, const Option *opts)
{
    fprintf(out, "usage: dts %s [options]\n\n%s\n\noptions (each also settable as DTS_NAME):\n", role,
            summary);
    for (const Option *o = opts; o->name != NULL; o++) {
        char env[64];
        env_name(o->name, env, sizeof env);
        fprintf(out, "  --%-22s %s [%s%s%s]\n", o->name, o->help, env, o->def ? ", default " : "",
                o->def ? o->def : "");
    }
}
