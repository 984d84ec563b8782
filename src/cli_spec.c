/* cli_spec: builds the task JSON the API takes from a file or from flags. */
#include "cli_spec.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "mem.h"
#include "yamljson.h"

#define SPEC_FILE_MAX (256u << 10) /* the API's body limit */

const CliOpt cli_spec_opts[] = {
    {"f", 1},     {"file", 1}, {"cron", 1},    {"tz", 1},      {"at", 1},      {"every", 1},  {"now", 0},
    {"label", 1}, {"env", 1},  {"cwd", 1},     {"timeout", 1}, {"http", 1},    {"method", 1}, {"header", 1},
    {"body", 1},  {"noop", 0}, {"retries", 1}, {"overlap", 1}, {"misfire", 1}, {"name", 1},
};
const int cli_spec_nopts = (int)(sizeof cli_spec_opts / sizeof cli_spec_opts[0]);

/* Reads all of F, at most SPEC_FILE_MAX bytes; NULL if larger or unreadable. */
static char *slurp(FILE *f, size_t *len)
{
    char *b = xmalloc(SPEC_FILE_MAX + 1);
    *len = fread(b, 1, SPEC_FILE_MAX + 1, f);
    if (ferror(f) || *len > SPEC_FILE_MAX) {
        free(b);
        return NULL;
    }
    b[*len] = '\0';
    return b;
}

int cli_spec_read(const Cli *c, const char *path, json_t **spec)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (f == NULL)
        return cli_fail(c, CLI_EUSAGE, "%s: %s", path, strerror(errno));
    size_t len;
    char *text = slurp(f, &len), err[160];
    if (f != stdin)
        fclose(f);
    if (text == NULL)
        return cli_fail(c, CLI_EUSAGE, "%s: unreadable, or larger than 256 KiB", path);
    int is_json = text[strspn(text, " \t\r\n")] == '{';
    json_error_t jerr;
    if (is_json)
        *spec = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    else
        *spec = yaml_to_json(text, len, err, sizeof err);
    free(text);
    if (*spec == NULL && is_json)
        return cli_fail(c, CLI_EUSAGE, "%s: line %d: %s", path, jerr.line, jerr.text);
    if (*spec == NULL)
        return cli_fail(c, CLI_EUSAGE, "%s: %s", path, err);
    if (!json_is_object(*spec)) {
        json_decref(*spec);
        return cli_fail(c, CLI_EUSAGE, "%s: a task spec is a mapping (an object)", path);
    }
    return CLI_OK;
}

/* Seconds from "90", "90s", "5m", "2h" or "1d"; -1 if bad. */
static long seconds_of(const char *s)
{
    char *end;
    errno = 0;
    long n = strtol(s, &end, 10);
    if (end == s || errno || n < 0)
        return -1;
    long mult = !*end || !strcmp(end, "s") ? 1
                : !strcmp(end, "m")        ? 60
                : !strcmp(end, "h")        ? 3600
                : !strcmp(end, "d")        ? 86400
                                           : -1;
    return mult < 0 || n > 100000000 / mult ? -1 : n * mult;
}

/* Sets key=value pairs from the repeatable flag NAME into OBJ[KEY] (an object
 * made if missing); "k-" removes k. SEP separates key and value. */
static int apply_pairs(const Cli *c, const CliArgs *a, const char *name, char sep, json_t *obj,
                       const char *key)
{
    int n = cli_opt_count(a, name);
    const char *const *v = cli_opt_values(a, name);
    if (n == 0)
        return CLI_OK;
    json_t *map = json_object_get(obj, key);
    if (!json_is_object(map)) {
        map = json_object();
        json_object_set_new(obj, key, map);
    }
    for (int i = 0; i < n; i++) {
        const char *s = strchr(v[i], sep);
        size_t klen = s ? (size_t)(s - v[i]) : strlen(v[i]);
        char k[256];
        if (s == NULL && klen > 1 && v[i][klen - 1] == '-' && klen < sizeof k) {
            snprintf(k, sizeof k, "%.*s", (int)klen - 1, v[i]);
            json_object_del(map, k);
            continue;
        }
        if (s == NULL || klen == 0 || klen >= sizeof k)
            return cli_fail(c, CLI_EUSAGE, "--%s wants KEY%cVALUE (or KEY- to remove), not \"%s\"", name,
                            sep, v[i]);
        snprintf(k, sizeof k, "%.*s", (int)klen, v[i]);
        const char *val = s + 1;
        while (sep == ':' && isspace((unsigned char)*val))
            val++;
        json_object_set_new(map, k, json_string(val));
    }
    return CLI_OK;
}

/* --cron, --every, --at, --now (at most one) and --tz. */
static int apply_schedule(const Cli *c, const CliArgs *a, json_t *spec)
{
    const char *cron = cli_opt(a, "cron"), *every = cli_opt(a, "every"), *at = cli_opt(a, "at");
    const char *tz = cli_opt(a, "tz");
    int now = cli_opt_count(a, "now") > 0, given = !!cron + !!every + !!at + now;
    int64_t ms;
    if (given > 1)
        return cli_fail(c, CLI_EUSAGE, "give one of --cron, --every, --at and --now");
    if (at && clock_parse_rfc3339(at, &ms) != 0)
        return cli_fail(c, CLI_EUSAGE, "--at wants an RFC 3339 instant like 2026-12-01T09:00:00Z");
    json_t *sched = json_object_get(spec, "schedule");
    if (now) {
        json_object_del(spec, "schedule");
        sched = NULL;
    } else if (given) {
        char expr[128];
        snprintf(expr, sizeof expr, "@every %s", every ? every : "");
        sched = json_object();
        if (cron || every)
            json_object_set_new(sched, "cron", json_string(cron ? cron : expr));
        if (at)
            json_object_set_new(sched, "at", json_string(at));
        json_object_set_new(spec, "schedule", sched);
    }
    if (tz != NULL && !json_is_object(sched))
        return cli_fail(c, CLI_EUSAGE, "--tz needs a --cron or --every schedule");
    if (tz != NULL)
        json_object_set_new(sched, "timezone", json_string(tz));
    return CLI_OK;
}

/* The argv after "--", --http URL or --noop (at most one) make the action;
 * --env, --cwd, --method, --header, --body refine it. */
static int apply_action(const Cli *c, const CliArgs *a, json_t *spec)
{
    const char *url = cli_opt(a, "http");
    int noop = cli_opt_count(a, "noop") > 0, given = (a->rest != NULL && a->nrest > 0) + !!url + noop;
    if (given > 1)
        return cli_fail(c, CLI_EUSAGE, "give one action: -- COMMAND ARGS..., --http URL or --noop");
    json_t *action = json_object_get(spec, "action");
    if (given) {
        action = json_object();
        json_object_set_new(spec, "action", action);
    }
    if (a->rest != NULL && a->nrest > 0) {
        json_t *argv = json_array();
        for (int i = 0; i < a->nrest; i++)
            json_array_append_new(argv, json_string(a->rest[i]));
        json_object_set_new(action, "type", json_string("shell"));
        json_object_set_new(action, "command", argv);
    } else if (url) {
        json_object_set_new(action, "type", json_string("http"));
        json_object_set_new(action, "url", json_string(url));
    } else if (noop) {
        json_object_set_new(action, "type", json_string("noop"));
    }
    static const char *const refine[] = {"env", "cwd", "method", "header", "body", NULL};
    for (const char *const *r = refine; *r; r++)
        if (cli_opt_count(a, *r) && !json_is_object(action))
            return cli_fail(c, CLI_EUSAGE, "--%s needs an action (-- COMMAND..., --http URL)", *r);
    if (cli_opt(a, "cwd"))
        json_object_set_new(action, "cwd", json_string(cli_opt(a, "cwd")));
    if (cli_opt(a, "method"))
        json_object_set_new(action, "method", json_string(cli_opt(a, "method")));
    if (cli_opt(a, "body"))
        json_object_set_new(action, "body", json_string(cli_opt(a, "body")));
    int rv = apply_pairs(c, a, "env", '=', action, "env");
    return rv != CLI_OK ? rv : apply_pairs(c, a, "header", ':', action, "headers");
}

/* --timeout, --retries, --overlap, --misfire, --name. */
static int apply_policies(const Cli *c, const CliArgs *a, json_t *spec)
{
    const char *timeout = cli_opt(a, "timeout"), *retries = cli_opt(a, "retries");
    if (timeout != NULL) {
        long s = seconds_of(timeout);
        if (s < 1)
            return cli_fail(c, CLI_EUSAGE, "--timeout wants a duration like 90, 90s, 5m or 2h");
        json_object_set_new(spec, "timeout_s", json_integer(s));
    }
    if (retries != NULL) {
        char *end;
        long n = strtol(retries, &end, 10);
        if (*retries == '\0' || *end || n < 0 || n > 100)
            return cli_fail(c, CLI_EUSAGE, "--retries wants a number from 0 to 100");
        json_t *retry = json_object_get(spec, "retry");
        if (!json_is_object(retry))
            json_object_set_new(spec, "retry", retry = json_object());
        json_object_set_new(retry, "max_attempts", json_integer(n + 1));
    }
    if (cli_opt(a, "overlap"))
        json_object_set_new(spec, "overlap", json_string(cli_opt(a, "overlap")));
    if (cli_opt(a, "misfire"))
        json_object_set_new(spec, "misfire", json_string(cli_opt(a, "misfire")));
    if (cli_opt(a, "name"))
        json_object_set_new(spec, "name", json_string(cli_opt(a, "name")));
    return CLI_OK;
}

int cli_spec_apply(const Cli *c, const CliArgs *a, json_t *spec)
{
    int rv = apply_schedule(c, a, spec);
    if (rv == CLI_OK)
        rv = apply_action(c, a, spec);
    if (rv == CLI_OK)
        rv = apply_policies(c, a, spec);
    if (rv == CLI_OK)
        rv = apply_pairs(c, a, "label", '=', spec, "labels");
    return rv;
}

int cli_spec_has_flags(const CliArgs *a)
{
    for (int i = 0; i < cli_spec_nopts; i++)
        if (strcmp(cli_spec_opts[i].name, "f") != 0 && strcmp(cli_spec_opts[i].name, "file") != 0 &&
            cli_opt_count(a, cli_spec_opts[i].name))
            return 1;
    return a->nrest > 0;
}
