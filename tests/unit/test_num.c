/* Unit tests for num: whole-string and prefix decimal parsing with range checks, and writing. */
#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "num.h"

Test(num, parses_whole_decimal_in_range)
{
    long long v = 0;
    cr_assert_eq(num_parse("6380", 1, 65535, &v), 0);
    cr_assert_eq(v, 6380);
    cr_assert_eq(num_parse("-12", -100, 100, &v), 0);
    cr_assert_eq(v, -12);
    cr_assert_eq(num_parse("9223372036854775807", 0, LLONG_MAX, &v), 0);
    cr_assert_eq(v, LLONG_MAX);
}

Test(num, refuses_malformed_or_out_of_range_and_leaves_out_alone)
{
    const char *bad[] = {NULL, "", "abc", "12x", "1.5", "70000", "0", "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        long long v = 42;
        cr_expect_eq(num_parse(bad[i], 1, 65535, &v), -1, "accepted %s", bad[i] ? bad[i] : "NULL");
        cr_expect_eq(v, 42);
    }
}

Test(num, prefix_stops_after_the_digits)
{
    long long v = 0;
    const char *end = NULL;
    cr_assert_eq(num_prefix("17-3.2", 0, LLONG_MAX, &v, &end), 0);
    cr_assert_eq(v, 17);
    cr_assert_str_eq(end, "-3.2");
    cr_assert_eq(num_prefix("-x", 0, 10, &v, &end), -1);
    cr_assert_str_eq(end, "-3.2");
}

Test(num, put_writes_what_llu_writes)
{
    const unsigned long long vals[] = {0, 7, 10, 99, 100, 1796238092000ULL, ULLONG_MAX};
    for (size_t i = 0; i < sizeof vals / sizeof *vals; i++) {
        char got[32], want[32];
        memset(got, 'x', sizeof got);
        char *end = num_put(got, vals[i]);
        int n = snprintf(want, sizeof want, "%llu", vals[i]);
        cr_assert_eq(end - got, n, "%llu: %td characters", vals[i], end - got);
        cr_assert(memcmp(got, want, (size_t)n) == 0, "%llu written wrong", vals[i]);
        cr_assert_eq(got[n], 'x', "%llu: wrote a terminator", vals[i]);
    }
}
