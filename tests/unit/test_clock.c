/* Unit tests of RFC 3339 formatting and parsing. */
#include <criterion/criterion.h>

#include "clock.h"

Test(clock, formats_utc_with_milliseconds)
{
    char buf[CLOCK_RFC3339_LEN];
    clock_format_rfc3339(0, buf);
    cr_assert_str_eq(buf, "1970-01-01T00:00:00.000Z");
    clock_format_rfc3339(1795719894160, buf);
    cr_assert_str_eq(buf, "2026-11-26T19:04:54.160Z");
    clock_format_rfc3339(951782400000 - 1, buf); /* the instant before 2000-02-29 */
    cr_assert_str_eq(buf, "2000-02-28T23:59:59.999Z");
}

Test(clock, parses_offsets_and_fractions)
{
    int64_t ms;
    cr_assert_eq(clock_parse_rfc3339("2026-11-26T19:04:54.16Z", &ms), 0);
    cr_assert_eq(ms, 1795719894160);
    cr_assert_eq(clock_parse_rfc3339("2026-11-26T20:04:54.160123+01:00", &ms), 0);
    cr_assert_eq(ms, 1795719894160);
    cr_assert_eq(clock_parse_rfc3339("2024-02-29T00:00:00-05:30", &ms), 0);
    cr_assert_eq(ms, 1709184600000);
}

Test(clock, rejects_bad_text)
{
    static const char *bad[] = {"",
                                "2026-11-26",
                                "2026-11-26T19:04:54",
                                "2026-13-01T00:00:00Z",
                                "2025-02-29T00:00:00Z",
                                "2026-11-26T24:00:00Z",
                                "2026-11-26T19:04:54.Z",
                                "2026-11-26T19:04:54Zjunk",
                                "2026-11-26T19:04:54+1:00"};
    int64_t ms;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_expect_eq(clock_parse_rfc3339(bad[i], &ms), -1, "accepted \"%s\"", bad[i]);
}
