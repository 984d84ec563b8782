/* Unit tests of the per-caller rate limiter. */
#include <criterion/criterion.h>
#include <stdio.h>

#include "quota.h"

Test(quota, bursts_then_paces_each_caller_alone)
{
    Quota *q = quota_new(10, 3);
    for (int i = 0; i < 3; i++)
        cr_expect_eq(quota_take(q, "ci", 1000), 0);
    int64_t wait = quota_take(q, "ci", 1000);
    cr_expect(wait > 0 && wait <= 101, "wait %lld", (long long)wait);
    cr_expect_eq(quota_take(q, "other", 1000), 0, "one caller's use limited another");
    cr_expect_eq(quota_take(q, "ci", 1101), 0, "a token came back after 100 ms");
    cr_expect_neq(quota_take(q, "ci", 1101), 0);
    cr_expect_eq(quota_take(q, "ci", 100000), 0);
    quota_free(q);
}

Test(quota, zero_rate_is_off_and_many_callers_share_the_last_bucket)
{
    Quota *off = quota_new(0, 0);
    for (int i = 0; i < 1000; i++)
        cr_expect_eq(quota_take(off, "x", 0), 0);
    quota_free(off);
    quota_free(NULL);
    Quota *q = quota_new(1, 1);
    char who[16];
    int refused = 0;
    for (int i = 0; i < 1000; i++) {
        snprintf(who, sizeof who, "c%d", i);
        refused += quota_take(q, who, 0) != 0;
    }
    cr_expect_eq(refused, 1000 - 256, "refused %d", refused);
    quota_free(q);
}
