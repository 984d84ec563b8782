/* Unit tests of the cron parser and cron_next, in UTC and in zones. */
#include <criterion/criterion.h>
#include <string.h>

#include "clock.h"
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
    cr_assert_eq(clock_parse_rfc3339(from, &from_ms), 0);
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

/* The parse error for TEXT, or "" if it parses. */
static const char *parse_err(const char *text)
{
    static char err[256];
    CronExpr *e = cron_parse(text, err, sizeof err);
    if (e) {
        cron_free(e);
        return "";
    }
    return err;
}

Test(cron, six_fields_and_names)
{
    cr_assert_str_eq(next_str("30 */10 * * * *", NULL, "2026-01-01T00:00:30Z"), "2026-01-01T00:10:30Z");
    cr_assert_str_eq(next_str("0 0 12 * jan-MAR Sun", NULL, "2026-04-01T00:00:00Z"),
                     "2027-01-03T12:00:00Z");
    cr_assert_str_eq(next_str("0 0 * * 7", NULL, "2026-01-01T00:00:00Z"), "2026-01-04T00:00:00Z");
    cr_assert_str_eq(next_str("0 0 * * 0", NULL, "2026-01-01T00:00:00Z"), "2026-01-04T00:00:00Z");
    cr_assert_str_eq(next_str("0 0 ? * 1", NULL, "2026-01-01T00:00:00Z"), "2026-01-05T00:00:00Z");
    cr_assert_str_eq(next_str("5/20 * * * *", NULL, "2026-01-01T00:46:00Z"), "2026-01-01T01:05:00Z");
    cr_assert_str_eq(next_str("10-30/10 * * * *", NULL, "2026-01-01T00:31:00Z"), "2026-01-01T01:10:00Z");
}

Test(cron, macros)
{
    cr_assert_str_eq(next_str("@yearly", NULL, "2026-05-01T00:00:00Z"), "2027-01-01T00:00:00Z");
    cr_assert_str_eq(next_str("@annually", NULL, "2026-05-01T00:00:00Z"), "2027-01-01T00:00:00Z");
    cr_assert_str_eq(next_str("@monthly", NULL, "2026-05-01T00:00:00Z"), "2026-06-01T00:00:00Z");
    cr_assert_str_eq(next_str("@weekly", NULL, "2026-01-01T00:00:00Z"), "2026-01-04T00:00:00Z");
    cr_assert_str_eq(next_str("@daily", NULL, "2026-01-01T00:00:00Z"), "2026-01-02T00:00:00Z");
    cr_assert_str_eq(next_str("@midnight", NULL, "2026-01-01T10:00:00Z"), "2026-01-02T00:00:00Z");
    cr_assert_str_eq(next_str("  @HOURLY ", NULL, "2026-01-01T10:00:00Z"), "2026-01-01T11:00:00Z");
}

Test(cron, every_is_anchored)
{
    char err[128];
    CronExpr *e = cron_parse("@every 1h30m", err, sizeof err);
    cr_assert(e, "%s", err);
    int64_t anchor = 1000;
    cr_assert_eq(cron_next(e, NULL, anchor, 0), 1000);              /* before the anchor */
    cr_assert_eq(cron_next(e, NULL, anchor, 1000), 1000 + 5400000); /* strictly after */
    cr_assert_eq(cron_next(e, NULL, anchor, 5401000), 1000 + 2 * 5400000);
    cr_assert_eq(cron_next(e, NULL, INT64_MIN, INT64_MAX), -1); /* no overflow */
    cron_free(e);
    cr_assert_str_eq(parse_err("@every 2d3h4m5s250ms"), "");
    cr_assert(strstr(parse_err("@every 500ms"), "shorter"));
    cr_assert(strstr(parse_err("@every"), "duration"));
    cr_assert(strstr(parse_err("@every 5x"), "unit"));
}

Test(cron, day_specials)
{
    cr_assert_str_eq(next_str("0 0 L * *", NULL, "2028-02-01T00:00:00Z"), "2028-02-29T00:00:00Z");
    cr_assert_str_eq(next_str("0 0 L-3 * *", NULL, "2026-02-01T00:00:00Z"), "2026-02-25T00:00:00Z");
    cr_assert_str_eq(next_str("0 0 LW * *", NULL, "2026-05-01T00:00:00Z"), "2026-05-29T00:00:00Z");
    cr_assert_str_eq(next_str("0 0 1W * *", NULL, "2026-08-01T00:00:00Z"), "2026-08-03T00:00:00Z");
    cr_assert_str_eq(next_str("0 0 31W * *", NULL, "2026-05-02T00:00:00Z"), "2026-05-29T00:00:00Z");
    cr_assert_str_eq(next_str("0 0 * * FRI#3", NULL, "2026-01-01T00:00:00Z"), "2026-01-16T00:00:00Z");
    cr_assert_str_eq(next_str("0 0 * * 1#5", NULL, "2026-01-01T00:00:00Z"), "2026-03-30T00:00:00Z");
    cr_assert_str_eq(next_str("0 0 * * 0L", NULL, "2026-01-01T00:00:00Z"), "2026-01-25T00:00:00Z");
}

Test(cron, vixie_or)
{
    /* Both day fields restricted: either matches. */
    cr_assert_str_eq(next_str("0 0 13 * 5", NULL, "2026-01-01T00:00:00Z"), "2026-01-02T00:00:00Z");
    cr_assert_str_eq(next_str("0 0 13 * 5", NULL, "2026-01-10T00:00:00Z"), "2026-01-13T00:00:00Z");
    /* One field unrestricted (also "1-31" or "*\/1"): the other alone decides. */
    cr_assert_str_eq(next_str("0 0 1-31 * 5", NULL, "2026-01-01T00:00:00Z"), "2026-01-02T00:00:00Z");
    cr_assert_str_eq(next_str("0 0 13 * 0-7", NULL, "2026-01-01T00:00:00Z"), "2026-01-13T00:00:00Z");
}

Test(cron, never_and_rare)
{
    cr_assert(strstr(parse_err("0 0 30 2 *"), "never fire"));
    cr_assert(strstr(parse_err("0 0 31 4,6,9,11 *"), "never fire"));
    cr_assert_str_eq(parse_err("0 0 30 2 1"), ""); /* Vixie OR: Mondays of February */
    cr_assert_str_eq(next_str("0 0 29 2 *", NULL, "2096-03-01T00:00:00Z"), "2104-02-29T00:00:00Z");
    cr_assert_str_eq(next_str("0 0 1 1 *", NULL, "9999-06-01T00:00:00Z"), "never");
}

Test(cron, errors_name_field_and_column)
{
    cr_assert_str_eq(parse_err("60 * * * *"),
                     "minute field (field 1, column 1): value 60 out of range 0-59");
    cr_assert_str_eq(parse_err("0 0 * * MOO"),
                     "day-of-week field (field 5, column 9): unknown name \"MOO\"");
    cr_assert_str_eq(parse_err("0 0 0 * * * "), "");
    cr_assert(strstr(parse_err("0 0 0 32 * *"), "day-of-month field (field 4, column 7)"));
    cr_assert(strstr(parse_err("* * * *"), "expected 5 fields"));
    cr_assert(strstr(parse_err("* * * * * * *"), "expected 5 fields"));
    cr_assert(strstr(parse_err("5-1 * * * *"), "backwards"));
    cr_assert(strstr(parse_err("*/0 * * * *"), "step"));
    cr_assert(strstr(parse_err("1,,2 * * * *"), "empty list item"));
    cr_assert(strstr(parse_err("? * * * *"), "only allowed in the day fields"));
    cr_assert(strstr(parse_err("0 0 L-31 * *"), "L-n"));
    cr_assert(strstr(parse_err("0 0 * * 1#6"), "d#n"));
    cr_assert(strstr(parse_err("@reboot"), "unknown macro"));
    cr_assert(strstr(parse_err(""), "expected 5 fields"));
    cr_assert_null(cron_parse(NULL, NULL, 0));
    cron_free(NULL);
}

Test(cron, dst_gap_and_overlap)
{
    /* Europe/Berlin: 2026-03-29 02:00 CET -> 03:00 CEST; 2026-10-25 03:00 CEST -> 02:00 CET. */
    cr_assert_str_eq(next_str("30 2 * * *", "Europe/Berlin", "2026-03-28T12:00:00Z"),
                     "2026-03-29T01:00:00Z");
    cr_assert_str_eq(next_str("30 2 * * *", "Europe/Berlin", "2026-03-29T00:59:59Z"),
                     "2026-03-29T01:00:00Z");
    cr_assert_str_eq(next_str("30 2 * * *", "Europe/Berlin", "2026-03-29T01:00:00Z"),
                     "2026-03-30T00:30:00Z");
    cr_assert_str_eq(next_str("30 2 * * *", "Europe/Berlin", "2026-10-25T00:30:00Z"),
                     "2026-10-26T01:30:00Z");
    cr_assert_str_eq(next_str("30 * * * *", "Europe/Berlin", "2026-10-25T00:30:00Z"),
                     "2026-10-25T01:30:00Z");
    cr_assert_str_eq(next_str("30 * * * *", "Europe/Berlin", "2026-03-29T00:30:00Z"),
                     "2026-03-29T01:30:00Z");
    /* Lord Howe moves by 30 minutes: 2026-10-04 02:00 -> 02:30 (+10:30 -> +11). */
    cr_assert_str_eq(next_str("15 2 * * *", "Australia/Lord_Howe", "2026-10-03T12:00:00Z"),
                     "2026-10-03T15:30:00Z");
    /* Chatham, +12:45 -> +13:45 at 02:45 on 2026-09-27: 03:00 lies in the gap. */
    cr_assert_str_eq(next_str("0 3 * * *", "Pacific/Chatham", "2026-09-26T00:00:00Z"),
                     "2026-09-26T14:00:00Z");
}

Test(cron, rare_dates_in_zones_skip_spans)
{
    /* February with five Mondays (a Monday Feb 29): decades apart, many DST spans. */
    cr_assert_str_eq(next_str("0 0 * 2 MON#5", "America/Santiago", "1970-01-01T00:00:00Z"),
                     "1988-02-29T03:00:00Z");
    cr_assert_str_eq(next_str("0 0 * 2 MON#5", "America/Santiago", "2100-01-01T00:00:00Z"),
                     "2112-02-29T03:00:00Z");
    cr_assert_str_eq(next_str("0 0 29 2 *", "Australia/Lord_Howe", "2101-01-01T00:00:00Z"),
                     "2104-02-28T13:00:00Z");
}

Test(cron, every_rejects_huge_durations)
{
    /* Found by the fuzzer: the product overflowed before the limit check. */
    cr_assert(strstr(parse_err("@every 1h10m222222222222d"), "longer than 3650 days"));
    cr_assert(strstr(parse_err("@every 9999999999999999999999s"), "longer than 3650 days"));
    cr_assert(strstr(parse_err("@every 3651d"), "longer than 3650 days"));
    cr_assert_str_eq(parse_err("@every 3650d"), "");
}
