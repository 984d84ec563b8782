/* Unit tests of the TZif reader, POSIX footer rules, spans and RFC 3339 text. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "tz.h"

static int64_t at(const char *rfc3339)
{
    int64_t ms;
    cr_assert_eq(clock_parse_rfc3339(rfc3339, &ms), 0, "%s", rfc3339);
    return ms / 1000;
}

static const Tz *zone(const char *name)
{
    char err[128];
    const Tz *tz = tz_get(name, err, sizeof err);
    cr_assert(tz, "%s", err);
    return tz;
}

Test(tz, utc_and_names)
{
    char err[128];
    cr_assert_eq(tz_offset_at(NULL, 0), 0);
    cr_assert_eq(tz_offset_at(zone("UTC"), 1700000000), 0);
    cr_assert_str_eq(tz_name(zone("Europe/Berlin")), "Europe/Berlin");
    cr_assert_eq(zone("Europe/Berlin"), zone("Europe/Berlin")); /* cached */
    const char *bad[] = {
        "../etc/passwd", "/etc/localtime", "Europe//Berlin", "Europe/Berlin/", "Euro pe", "Europe/$x", "",
        "Mars/Base"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_null(tz_load(bad[i], err, sizeof err), "%s", bad[i]);
        cr_assert(err[0]);
    }
    cr_assert_null(tz_load("zone.tab", err, sizeof err)); /* not TZif */
    tz_free(NULL);
}

Test(tz, table_offsets)
{
    const Tz *b = zone("Europe/Berlin");
    cr_assert_eq(tz_offset_at(b, at("2026-03-29T00:59:59Z")), 3600);
    cr_assert_eq(tz_offset_at(b, at("2026-03-29T01:00:00Z")), 7200);
    cr_assert_eq(tz_offset_at(b, at("2026-10-25T00:59:59Z")), 7200);
    cr_assert_eq(tz_offset_at(b, at("2026-10-25T01:00:00Z")), 3600);
    cr_assert_eq(tz_offset_at(zone("Asia/Kolkata"), at("2026-06-01T00:00:00Z")), 19800);
    cr_assert_eq(tz_offset_at(zone("America/St_Johns"), at("2026-01-01T00:00:00Z")), -12600);
    cr_assert_eq(tz_offset_at(zone("Asia/Kathmandu"), at("2026-01-01T00:00:00Z")), 20700);
}

Test(tz, footer_rules_past_the_table)
{
    /* 2100 lies beyond every table: the POSIX footer decides. */
    cr_assert_eq(tz_offset_at(zone("Europe/Berlin"), at("2100-07-01T00:00:00Z")), 7200);
    cr_assert_eq(tz_offset_at(zone("Europe/Berlin"), at("2100-03-28T00:59:59Z")), 3600);
    cr_assert_eq(tz_offset_at(zone("Europe/Berlin"), at("2100-03-28T01:00:00Z")), 7200);
    cr_assert_eq(tz_offset_at(zone("Australia/Lord_Howe"), at("2100-01-01T00:00:00Z")), 39600);
    cr_assert_eq(tz_offset_at(zone("Australia/Lord_Howe"), at("2100-07-01T00:00:00Z")), 37800);
    cr_assert_eq(tz_offset_at(zone("Europe/Dublin"), at("2100-01-01T00:00:00Z")), 0);
    cr_assert_eq(tz_offset_at(zone("Europe/Dublin"), at("2100-07-01T00:00:00Z")), 3600);
    cr_assert_eq(tz_offset_at(zone("America/Santiago"), at("2100-01-01T00:00:00Z")), -10800);
    cr_assert_eq(tz_offset_at(zone("Antarctica/Troll"), at("2100-07-01T00:00:00Z")), 7200);
}

Test(tz, rule_tabulated_and_beyond)
{
    /* Transitions up to 2200 come from the tabulated rule, later ones from the rule itself. */
    const Tz *b = zone("Europe/Berlin");
    TzSpan sp;
    tz_span_at(b, INT64_C(5687802000), &sp); /* 2150-03-29T01:00:00Z */
    cr_assert_eq(sp.start, INT64_C(5687802000));
    cr_assert_eq(sp.off, 7200);
    cr_assert_eq(sp.off_before, 3600);
    tz_span_at(b, INT64_C(8843648400), &sp); /* 2250-03-31T01:00:00Z */
    cr_assert_eq(sp.start, INT64_C(8843648400));
    cr_assert_eq(sp.off, 7200);
    cr_assert_eq(tz_offset_at(b, INT64_C(8843648399)), 3600);
}

Test(tz, spans)
{
    TzSpan sp;
    tz_span_at(zone("Europe/Berlin"), at("2026-06-01T00:00:00Z"), &sp);
    cr_assert_eq(sp.start, at("2026-03-29T01:00:00Z"));
    cr_assert_eq(sp.end, at("2026-10-25T01:00:00Z"));
    cr_assert_eq(sp.off, 7200);
    cr_assert_eq(sp.off_before, 3600);
    cr_assert_eq(sp.off_after, 3600);
    tz_span_at(NULL, 0, &sp);
    cr_assert_eq(sp.start, INT64_MIN);
    cr_assert_eq(sp.end, INT64_MAX);
}

Test(tz, local_to_utc)
{
    const Tz *b = zone("Europe/Berlin");
    int64_t out[2];
    cr_assert_eq(tz_local_to_utc(b, at("2026-06-01T12:00:00Z"), out), 1);
    cr_assert_eq(out[0], at("2026-06-01T10:00:00Z"));
    cr_assert_eq(tz_local_to_utc(b, at("2026-03-29T02:30:00Z"), out), 0); /* gap */
    cr_assert_eq(out[0], at("2026-03-29T01:00:00Z"));
    cr_assert_eq(tz_local_to_utc(b, at("2026-10-25T02:30:00Z"), out), 2); /* overlap */
    cr_assert_eq(out[0], at("2026-10-25T00:30:00Z"));
    cr_assert_eq(out[1], at("2026-10-25T01:30:00Z"));
    cr_assert_eq(tz_local_to_utc(NULL, 42, out), 1);
    cr_assert_eq(out[0], 42);
}

Test(tz, format)
{
    char buf[TZ_FORMAT_MAX];
    cr_assert_eq(tz_format(NULL, INT64_C(1795716000123), buf, sizeof buf), 0);
    cr_assert_str_eq(buf, "2026-11-26T18:00:00.123Z");
    cr_assert_eq(tz_format(zone("Europe/Berlin"), at("2026-03-29T01:00:00Z") * 1000, buf, sizeof buf), 0);
    cr_assert_str_eq(buf, "2026-03-29T03:00:00+02:00");
    cr_assert_eq(tz_format(zone("America/St_Johns"), 0, buf, sizeof buf), 0);
    cr_assert_str_eq(buf, "1969-12-31T20:30:00-03:30");
    cr_assert_eq(tz_format(NULL, -1, buf, sizeof buf), 0);
    cr_assert_str_eq(buf, "1969-12-31T23:59:59.999Z");
    cr_assert_eq(tz_format(NULL, INT64_MAX, buf, sizeof buf), -1);
    cr_assert_eq(tz_format(NULL, 0, buf, 5), -1);
}

Test(tz, parse_rfc3339)
{
    int64_t ms;
    cr_assert_eq(clock_parse_rfc3339("2026-11-26T18:00:00.123Z", &ms), 0);
    cr_assert_eq(ms, INT64_C(1795716000123));
    cr_assert_eq(clock_parse_rfc3339("2026-11-26t19:00:00.1234567+01:00", &ms), 0);
    cr_assert_eq(ms, INT64_C(1795716000123));
    cr_assert_eq(clock_parse_rfc3339("2026-11-26 12:30:00-05:30", &ms), 0);
    cr_assert_eq(ms, INT64_C(1795716000000));
    const char *bad[] = {"2026-02-29T00:00:00Z",     "2026-11-26T18:00:00",      "2026-11-26T24:00:00Z",
                         "2026-11-26T18:00:00.Z",    "2026-11-26T18:00Z",        "26-11-26T18:00:00Z",
                         "2026-11-26T18:00:00+0100", "2026-11-26T18:00:00Zjunk", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_eq(clock_parse_rfc3339(bad[i], &ms), -1, "%s", bad[i]);
}

Test(tz, zoneinfo_from_env)
{
    char err[128];
    setenv("DTS_ZONEINFO", "/nonexistent", 1);
    cr_assert_null(tz_load("Europe/Berlin", err, sizeof err));
    Tz *utc = tz_load("UTC", err, sizeof err); /* built in */
    cr_assert(utc);
    tz_free(utc);
}
