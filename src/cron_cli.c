/* cron_cli: `dts cron next|batch`, the command-line face of the cron engine. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "clock.h"
#include "cron.h"
#include "tz.h"

#define CLI_COUNT_MAX 100000

static const char cli_usage[] =
    "usage: dts cron next EXPR [--tz ZONE] [--from RFC3339] [--count N] [--local]\n"
    "\n"
    "Prints the next N (default 5) fire times of the cron expression EXPR after\n"
    "--from (default now), one RFC 3339 UTC instant a line; with --local, in the\n"
    "zone's local time with its offset. ZONE is an IANA name (default UTC).\n"
    "EXPR has 5 fields (minute hour day-of-month month day-of-week), 6 with a\n"
    "leading second, or is a macro (@hourly, @daily, @every 90s, ...); quote it.\n"
    "See docs/cron.md for the language and the DST policy.\n";

/* Options of `dts cron next`. */
typedef struct CliNext {
    const char *expr, *zone;
    int64_t from_ms;
    long count;
    int local;
} CliNext;

static int64_t cli_now_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static int cli_parse_next(int argc, char **argv, CliNext *o)
{
    *o = (CliNext){NULL, "UTC", cli_now_ms(), 5, 0};
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        char *end;
        if (strcmp(a, "--local") == 0) {
            o->local = 1;
            continue;
        }
        if (strcmp(a, "--tz") != 0 && strcmp(a, "--from") != 0 && strcmp(a, "--count") != 0) {
            if (a[0] == '-' && a[1] == '-') {
                fprintf(stderr, "dts cron next: unknown option %s (see --help)\n", a);
                return -1;
            }
            if (o->expr) {
                fprintf(stderr, "dts cron next: one expression expected; quote it\n");
                return -1;
            }
            o->expr = a;
            continue;
        }
        if (!v) {
            fprintf(stderr, "dts cron next: %s needs a value\n", a);
            return -1;
        }
        i++;
        if (strcmp(a, "--tz") == 0) {
            o->zone = v;
        } else if (strcmp(a, "--from") == 0 && clock_parse_rfc3339(v, &o->from_ms) < 0) {
            fprintf(stderr, "dts cron next: --from %s is not an RFC 3339 instant\n", v);
            return -1;
        } else if (strcmp(a, "--count") == 0) {
            errno = 0;
            o->count = strtol(v, &end, 10);
            if (errno || *end || end == v || o->count < 1 || o->count > CLI_COUNT_MAX) {
                fprintf(stderr, "dts cron next: --count must be 1-%d\n", CLI_COUNT_MAX);
                return -1;
            }
        }
    }
    if (!o->expr) {
        fprintf(stderr, "dts cron next: missing the expression (see --help)\n");
        return -1;
    }
    return 0;
}

static int cli_next(int argc, char **argv)
{
    CliNext o;
    char err[256], buf[TZ_FORMAT_MAX];
    if (cli_parse_next(argc, argv, &o) < 0)
        return 2;
    const Tz *zone = tz_get(o.zone, err, sizeof err);
    if (!zone) {
        fprintf(stderr, "dts cron next: %s\n", err);
        return 1;
    }
    CronExpr *e = cron_parse(o.expr, err, sizeof err);
    if (!e) {
        fprintf(stderr, "dts cron next: %s\n", err);
        return 1;
    }
    int64_t t = o.from_ms;
    for (long i = 0; i < o.count; i++) {
        t = cron_next(e, zone, o.from_ms, t);
        if (t < 0 || tz_format(o.local ? zone : NULL, t, buf, sizeof buf) < 0)
            break;
        puts(buf);
    }
    cron_free(e);
    return 0;
}

/* One batch line "N<TAB>ZONE<TAB>FROM_MS<TAB>COUNT<TAB>EXPR": the next COUNT
 * fire times in ms, space-separated, or "ERR message". */
static void cli_batch_next(char *line)
{
    char *f[4], err[256];
    for (int i = 0; i < 4; i++) {
        f[i] = strsep(&line, "\t");
        if (!f[i] || (i < 3 && !line)) {
            puts("ERR malformed line");
            return;
        }
    }
    const Tz *zone = tz_get(f[0], err, sizeof err);
    CronExpr *e = zone ? cron_parse(f[3], err, sizeof err) : NULL;
    if (!e) {
        printf("ERR %s\n", err);
        return;
    }
    int64_t from = strtoll(f[1], NULL, 10), t = from;
    long count = strtol(f[2], NULL, 10);
    for (long i = 0; i < count && i < CLI_COUNT_MAX; i++) {
        t = cron_next(e, zone, from, t);
        printf(i ? " %" PRId64 : "%" PRId64, t);
        if (t < 0)
            break;
    }
    putchar('\n');
    cron_free(e);
}

/* One batch line "O<TAB>ZONE<TAB>T1 T2 ...": the UTC offsets at those instants. */
static void cli_batch_offsets(char *line)
{
    char err[256];
    char *zname = strsep(&line, "\t");
    const Tz *zone = line ? tz_get(zname, err, sizeof err) : NULL;
    if (!zone) {
        printf("ERR %s\n", line ? err : "malformed line");
        return;
    }
    const char *sep = "";
    for (char *tok; (tok = strsep(&line, " ")) != NULL;) {
        if (*tok) {
            printf("%s%d", sep, (int)tz_offset_at(zone, strtoll(tok, NULL, 10)));
            sep = " ";
        }
    }
    putchar('\n');
}

/* Hidden `dts cron batch`, for the conformance tests: one query a line on
 * stdin ("N..." next times, "O..." offsets), one answer a line on stdout. */
static int cli_batch(void)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, stdin)) > 0) {
        if (line[n - 1] == '\n')
            line[n - 1] = '\0';
        if (line[0] == 'N' && line[1] == '\t')
            cli_batch_next(line + 2);
        else if (line[0] == 'O' && line[1] == '\t')
            cli_batch_offsets(line + 2);
        else
            puts("ERR unknown query");
    }
    free(line);
    return 0;
}

int cron_cli_main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        fputs(cli_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "next") == 0) {
        for (int i = 2; i < argc; i++) {
            if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
                fputs(cli_usage, stdout);
                return 0;
            }
        }
        return cli_next(argc, argv);
    }
    if (strcmp(argv[1], "batch") == 0)
        return cli_batch();
    fprintf(stderr, "dts cron: unknown command %s (see dts cron --help)\n", argv[1]);
    return 2;
}
