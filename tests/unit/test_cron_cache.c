/* Unit tests of the compiled-schedule cache: parsed once, bounded, exact. */
#include <criterion/criterion.h>

#include "cron_cache.h"

#define T0 1795719900000LL /* a whole second */

Test(cron_cache, parses_each_text_once)
{
    char err[128];
    CronCache *c = cron_cache_new(64);
    const CronExpr *a = cron_cache_get(c, "*/5 * * * *", err, sizeof err);
    cr_assert_not_null(a, "%s", err);
    for (int i = 0; i < 100; i++)
        cr_assert_eq(cron_cache_get(c, "*/5 * * * *", err, sizeof err), a);
    cr_assert_eq(cron_cache_misses(c), 1);
    cr_assert_eq(cron_cache_hits(c), 100);
    cron_cache_free(c);
}

Test(cron_cache, answers_as_a_fresh_parse_would)
{
    char err[128];
    static const char *const texts[] = {"0 9 * * 1-5", "*/7 * * * * *", "@hourly", "30 2 1 * *",
                                        "@every 90s"};
    CronCache *c = cron_cache_new(2); /* fewer slots than texts: entries get replaced */
    for (int round = 0; round < 3; round++)
        for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
            CronExpr *fresh = cron_parse(texts[i], err, sizeof err);
            cr_assert_not_null(fresh, "%s", err);
            const CronExpr *cached = cron_cache_get(c, texts[i], err, sizeof err);
            cr_assert_not_null(cached, "%s", err);
            for (int64_t t = T0, u = T0; t > 0 && u > 0;) {
                t = cron_next(fresh, NULL, T0, t);
                u = cron_next(cached, NULL, T0, u);
                cr_assert_eq(t, u, "%s: %lld != %lld", texts[i], (long long)t, (long long)u);
                if (t - T0 > 86400000LL * 3)
                    break;
            }
            cron_free(fresh);
        }
    cron_cache_free(c);
}

Test(cron_cache, a_bad_text_is_an_error_and_not_kept)
{
    char err[128] = "";
    CronCache *c = cron_cache_new(1);
    const CronExpr *good = cron_cache_get(c, "0 * * * *", err, sizeof err);
    cr_assert_not_null(good);
    cr_assert_null(cron_cache_get(c, "61 * * * *", err, sizeof err));
    cr_assert_neq(err[0], '\0');
    cr_assert_null(cron_cache_get(c, "61 * * * *", err, sizeof err));
    cr_assert_eq(cron_cache_misses(c), 3, "failures are parsed again, never cached");
    cr_assert_eq(cron_cache_get(c, "0 * * * *", err, sizeof err), good,
                 "a failure leaves the slot as it was");
    cron_cache_free(c);
}

Test(cron_cache, free_null_is_a_no_op)
{
    cron_cache_free(NULL);
}
