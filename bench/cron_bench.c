/* cron_bench: cron_next() calls per second for typical expressions, in UTC and in zones. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "cron.h"
#include "tz.h"

static double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Chains N calls of cron_next from 2026-01-01 and returns calls per second.
 * The chain wraps back to the start after 5 years so every call is typical. */
static double bench_one(const CronExpr *e, const Tz *zone, long n)
{
    const int64_t start = INT64_C(1767225600000), wrap = start + INT64_C(5) * 365 * 86400000;
    int64_t t = start;
    double t0 = bench_now();
    for (long i = 0; i < n; i++) {
        t = cron_next(e, zone, start, t);
        if (t < 0 || t > wrap)
            t = start;
    }
    return n / (bench_now() - t0);
}

int main(int argc, char **argv)
{
    static const char *const exprs[] = {
        "*/5 * * * *", "0 * * * *", "30 2 * * *", "0 9 * * MON-FRI", "0 0 1 * *",
        "*/15 9-17 * * 1-5", "0 0 L * *", "0 0 1,15 * 5L", "0 0 29 2 *", "*/10 * * * * *",
        "@every 90s"};
    static const char *const zones[] = {NULL, "Europe/Berlin", "America/New_York",
                                        "Australia/Lord_Howe"};
    long n = argc > 1 ? atol(argv[1]) : 2000000;
    char err[256];
    printf("%-22s %14s %14s %14s %14s\n", "calls/s", "UTC", "Europe/Berlin", "New_York",
           "Lord_Howe");
    for (size_t i = 0; i < sizeof exprs / sizeof exprs[0]; i++) {
        CronExpr *e = cron_parse(exprs[i], err, sizeof err);
        if (!e) {
            fprintf(stderr, "%s: %s\n", exprs[i], err);
            return 1;
        }
        printf("%-22s", exprs[i]);
        for (size_t z = 0; z < sizeof zones / sizeof zones[0]; z++) {
            const Tz *zone = zones[z] ? tz_get(zones[z], err, sizeof err) : NULL;
            printf(" %14.0f", bench_one(e, zone, n / (exprs[i][0] == '0' ? 4 : 1)));
        }
        printf("\n");
        cron_free(e);
    }
    /* Slow paths: rejecting a never-firing expression scans 400 years; a rare
     * expression in a zone past its table walks the footer rule's spans. */
    double t0 = bench_now();
    for (int i = 0; i < 1000; i++)
        cron_free(cron_parse("0 0 31 2,4,6,9,11 *", err, sizeof err));
    printf("worst cases: never-firing parse %.1f us,", (bench_now() - t0) * 1e3);
    CronExpr *rare = cron_parse("0 0 0 29 2 *", err, sizeof err);
    const Tz *lhi = tz_get("Australia/Lord_Howe", err, sizeof err);
    t0 = bench_now();
    for (int i = 0; i < 1000; i++)
        cron_next(rare, lhi, 0, INT64_C(4102444800000) + i * INT64_C(86400000));
    printf(" Feb 29 in Lord_Howe after 2100 %.2f us\n", (bench_now() - t0) * 1e3);
    cron_free(rare);
    t0 = bench_now();
    long parsed = 0;
    for (; parsed < n / 10; parsed++)
        cron_free(cron_parse(exprs[parsed % (sizeof exprs / sizeof exprs[0])], err, sizeof err));
    printf("cron_parse: %.0f calls/s\n", parsed / (bench_now() - t0));
    return 0;
}
