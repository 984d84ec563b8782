/* Unit tests of the retry planner: backoffs, caps, jitter bounds, the last
 * attempt's dead letter, and what plans nothing. */
#include <criterion/criterion.h>

#include "retry_plan.h"

static const RetryPolicy fixed = {.max_attempts = 3, .exponential = 0, .initial_s = 2, .max_s = 300};
static const RetryPolicy expo = {.max_attempts = 10, .exponential = 1, .initial_s = 1, .max_s = 30};

Test(retry_plan, a_success_plans_nothing)
{
    RetryPlan p = retry_plan(&fixed, 1, 1, 0.5);
    cr_assert_eq(p.delay_ms, -1);
    cr_assert_eq(p.dead, 0);
}

Test(retry_plan, a_failure_without_a_policy_plans_nothing)
{
    static const RetryPolicy none = {.max_attempts = 1, .initial_s = 1, .max_s = 300};
    RetryPlan p = retry_plan(NULL, 0, 1, 0.5);
    cr_assert_eq(p.delay_ms, -1);
    cr_assert_eq(p.dead, 0);
    p = retry_plan(&none, 0, 1, 0.5);
    cr_assert_eq(p.delay_ms, -1);
    cr_assert_eq(p.dead, 0, "one attempt allowed is no retry policy: no dead letter");
}

Test(retry_plan, fixed_backoff_retries_until_the_last_attempt_then_is_dead)
{
    for (int attempt = 1; attempt < 3; attempt++) {
        RetryPlan p = retry_plan(&fixed, 0, attempt, 0.9);
        cr_assert_eq(p.delay_ms, 2000, "attempt %d", attempt);
        cr_assert_eq(p.dead, 0);
    }
    RetryPlan last = retry_plan(&fixed, 0, 3, 0.9);
    cr_assert_eq(last.delay_ms, -1);
    cr_assert_eq(last.dead, 1);
}

Test(retry_plan, exponential_backoff_doubles_up_to_its_cap)
{
    static const int64_t want[] = {1000, 2000, 4000, 8000, 16000, 30000, 30000};
    for (int i = 0; i < 7; i++)
        cr_assert_eq(retry_plan(&expo, 0, i + 1, 0).delay_ms, want[i], "attempt %d", i + 1);
}

Test(retry_plan, jitter_stays_within_a_quarter)
{
    RetryPolicy p = fixed;
    p.jitter = 1;
    int64_t lo = retry_plan(&p, 0, 1, 0.0).delay_ms, hi = retry_plan(&p, 0, 1, 0.999999).delay_ms;
    cr_assert_eq(lo, 1500);
    cr_assert(hi >= 2499 && hi <= 2500, "got %lld", (long long)hi);
    for (int i = 0; i < 8; i++) {
        double r = i / 8.0;
        int64_t d = retry_plan(&p, 0, 2, r).delay_ms;
        cr_assert(d >= 1500 && d <= 2500, "rnd %f gave %lld", r, (long long)d);
    }
}

Test(retry_plan, attempts_past_the_policy_are_dead)
{
    RetryPlan p = retry_plan(&fixed, 0, 7, 0.5);
    cr_assert_eq(p.delay_ms, -1);
    cr_assert_eq(p.dead, 1);
}
