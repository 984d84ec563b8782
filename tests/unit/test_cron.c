/* Unit tests of the cron parser and cron_next, in UTC and in zones. */
#include <criterion/criterion.h>
#include <string.h>

#include "cron.h"
#include "tz.h"

/* Parses TEXT and returns the next fire time after RFC 3339 FROM, formatted. */
static const char *next_str(const char *text, const char *zone, const char *from)
{
    static char out[TZ_FORMAT_MAX];
    char err[256];
    CronExpr *e = cron_parse(text, err, sizeof err);
    cr_assert(e, "%s: %s", text, err);
    const Tz *tz = zone ? tz_get(zone, err, sizeof err) : NULL;
    cr_assert(!zone || tz, "%s", err);
    int64_t from_ms;
    cr_assert_eq(tz_parse_rfc3339(from, &from_ms), 0);
    int64_t t = cron_next(e, tz, from_ms, from_ms);
    cron_free(e);
    if (t < 0)
        return "never";
    cr_assert_eq(tz_format(NULL, t, out, sizeof out), 0);
    return out;
}

Test(cron, every_five_minutes)
{
    cr_assert_str_eq(next_str("*/5 * * * *", NULL, "2026-01-01T00:00:00Z"), "2026-01-01T00:05:00Z");
    cr_assert_str_eq(next_str("*/5 * * * *", NULL, "2026-01-01T00:04:59.999Z"), "2026-01-01T00:05:00Z");
    cr_assert_str_eq(next_str("*/5 * * * *", NULL, "2026-12-31T23:59:00Z"), "2027-01-01T00:00:00Z");
}
