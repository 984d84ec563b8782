/* Unit tests of the due planner: misfire policies, bounded counting, ends. */
#include <criterion/criterion.h>

#include "plan.h"

#define T0 1795719900000LL /* a whole second */
#define HOUR 3600000LL

static CronExpr *every_second(void)
{
    char err[128];
    CronExpr *e = cron_parse("* * * * * *", err, sizeof err);
    cr_assert_not_null(e, "%s", err);
    return e;
}

static PlanInput late_by_an_hour(const CronExpr *e, MisfirePolicy m)
{
    return (PlanInput){
        .expr = e, .anchor_ms = T0, .due_ms = T0, .now_ms = T0 + HOUR, .threshold_ms = 5000, .misfire = m};
}

/* Plans IN over and over as successive scheduler passes would, with BUDGET
 * each, until the schedule is past now; counts what ran and what was counted. */
static void replay(PlanInput in, int64_t budget, int64_t *ran, int64_t *first_run, int64_t *skipped,
                   int64_t *coalesced, int64_t *next)
{
    *ran = *skipped = *coalesced = 0;
    *first_run = -1;
    for (int passes = 0; in.due_ms >= 0 && in.due_ms <= in.now_ms; passes++) {
        cr_assert_lt(passes, 100000, "the plan never converges");
        Plan p;
        plan_due(&in, budget, &p);
        cr_assert_leq(p.work, budget > PLAN_MIN_BUDGET ? budget : PLAN_MIN_BUDGET);
        if (p.dispatch && *first_run < 0)
            *first_run = in.due_ms;
        *ran += p.dispatch;
        *skipped += p.skipped;
        *coalesced += p.coalesced;
        in.dispatched += p.dispatch;
        in.due_ms = p.next_ms;
    }
    *next = in.due_ms;
}

Test(plan, on_time_runs_and_moves_to_the_next_fire)
{
    CronExpr *e = every_second();
    PlanInput in = {.expr = e, .anchor_ms = T0, .due_ms = T0, .now_ms = T0 + 30, .threshold_ms = 5000};
    Plan p;
    plan_due(&in, 1000, &p);
    cr_assert_eq(p.dispatch, 1);
    cr_assert_eq(p.next_ms, T0 + 1000);
    cr_assert_eq(p.skipped + p.coalesced, 0);
    cron_free(e);
}

/* An hour late, threshold 5 s: the fires due T0 .. T0 + 3594 s are misfires;
 * the six due within the threshold of now (T0 + 3595 s .. + 3600 s) are on
 * time and run whatever the policy. */
#define LATE 3595
#define ON_TIME 6

Test(plan, run_once_runs_one_and_coalesces_the_rest_whatever_the_budget)
{
    CronExpr *e = every_second();
    int64_t budgets[] = {INT64_MAX, 5000, PLAN_MIN_BUDGET};
    for (size_t i = 0; i < sizeof budgets / sizeof budgets[0]; i++) {
        int64_t ran, first, skipped, coalesced, next;
        replay(late_by_an_hour(e, MISFIRE_RUN_ONCE), budgets[i], &ran, &first, &skipped, &coalesced, &next);
        cr_assert_eq(ran, 1 + ON_TIME);
        if (budgets[i] == INT64_MAX) /* partial plans run a later overdue one */
            cr_assert_eq(first, T0);
        cr_assert_eq(coalesced, LATE - 1, "budget %lld: %lld coalesced", (long long)budgets[i],
                     (long long)coalesced);
        cr_assert_eq(skipped, 0);
        cr_assert_eq(next, T0 + HOUR + 1000);
    }
    cron_free(e);
}

Test(plan, skip_runs_none_and_counts_every_one)
{
    CronExpr *e = every_second();
    int64_t ran, first, skipped, coalesced, next;
    replay(late_by_an_hour(e, MISFIRE_SKIP), PLAN_MIN_BUDGET, &ran, &first, &skipped, &coalesced, &next);
    cr_assert_eq(ran, ON_TIME);
    cr_assert_eq(first, T0 + LATE * 1000LL, "the first on-time fire runs");
    cr_assert_eq(skipped, LATE);
    cr_assert_eq(next, T0 + HOUR + 1000);
    cron_free(e);
}

Test(plan, run_all_runs_exactly_the_cap_newest)
{
    CronExpr *e = every_second();
    int64_t budgets[] = {INT64_MAX, PLAN_MIN_BUDGET};
    for (size_t i = 0; i < 2; i++) {
        int64_t ran, first, skipped, coalesced, next;
        replay(late_by_an_hour(e, MISFIRE_RUN_ALL), budgets[i], &ran, &first, &skipped, &coalesced, &next);
        cr_assert_eq(ran, TASK_MISFIRE_RUN_ALL_CAP + ON_TIME, "ran %lld", (long long)ran);
        cr_assert_eq(skipped, LATE - TASK_MISFIRE_RUN_ALL_CAP);
        cr_assert_eq(first, T0 + (LATE - TASK_MISFIRE_RUN_ALL_CAP) * 1000LL);
        cr_assert_eq(next, T0 + HOUR + 1000);
    }
    cron_free(e);
}

Test(plan, run_all_under_the_cap_runs_every_one)
{
    CronExpr *e = every_second();
    PlanInput in = late_by_an_hour(e, MISFIRE_RUN_ALL);
    in.now_ms = T0 + 9000;
    int64_t ran, first, skipped, coalesced, next;
    replay(in, PLAN_MIN_BUDGET, &ran, &first, &skipped, &coalesced, &next);
    cr_assert_eq(ran, 10);
    cr_assert_eq(first, T0);
    cr_assert_eq(skipped + coalesced, 0);
    cron_free(e);
}

Test(plan, a_fire_due_just_now_is_never_coalesced)
{
    CronExpr *e = every_second();
    /* Resumed after a long pause: the fire due 20 ms ago is on time. */
    PlanInput in = late_by_an_hour(e, MISFIRE_RUN_ONCE);
    in.now_ms = T0 + HOUR + 20;
    Plan p;
    plan_due(&in, INT64_MAX, &p);
    cr_assert(p.dispatch == 1 && p.coalesced == LATE, "%lld coalesced", (long long)p.coalesced);
    cr_assert_eq(p.next_ms, T0 + (LATE + 1) * 1000LL, "the score stays on the first on-time fire");
    cron_free(e);
}

Test(plan, one_time_runs_late_unless_skip)
{
    PlanInput in = {.due_ms = T0, .now_ms = T0 + HOUR, .threshold_ms = 5000, .misfire = MISFIRE_RUN_ONCE};
    Plan p;
    plan_due(&in, 0, &p);
    cr_assert(p.dispatch == 1 && p.next_ms == -1 && p.skipped == 0);
    in.misfire = MISFIRE_SKIP;
    plan_due(&in, 0, &p);
    cr_assert(p.dispatch == 0 && p.next_ms == -1 && p.skipped == 1);
    in.now_ms = T0 + 10; /* on time: runs whatever the policy */
    plan_due(&in, 0, &p);
    cr_assert_eq(p.dispatch, 1);
}

Test(plan, max_runs_and_end_at_end_the_task)
{
    CronExpr *e = every_second();
    PlanInput in = {.expr = e,
                    .anchor_ms = T0,
                    .due_ms = T0,
                    .now_ms = T0,
                    .threshold_ms = 5000,
                    .max_runs = 3,
                    .dispatched = 2};
    Plan p;
    plan_due(&in, 1000, &p);
    cr_assert(p.dispatch == 1 && p.next_ms == -1);
    in.max_runs = 0;
    in.end_at_ms = T0 + 500;
    plan_due(&in, 1000, &p);
    cr_assert(p.dispatch == 1 && p.next_ms == -1);
    cron_free(e);
}

Test(plan, settle_runs_what_is_due_within_the_threshold)
{
    CronExpr *e = every_second();
    PlanInput in = {.expr = e, .anchor_ms = T0, .due_ms = T0, .now_ms = T0 + 3500, .threshold_ms = 5000};
    int64_t runs[TASK_MISFIRE_RUN_ALL_CAP], skipped = 0, coalesced = 0;
    int n = plan_settle(&in, runs, TASK_MISFIRE_RUN_ALL_CAP, &skipped, &coalesced);
    cr_assert_eq(n, 4); /* T0, +1 s, +2 s, +3 s */
    cr_assert(runs[0] == T0 && runs[3] == T0 + 3000);
    in.due_ms = T0 + 4000; /* not yet due: nothing owed */
    cr_assert_eq(plan_settle(&in, runs, TASK_MISFIRE_RUN_ALL_CAP, &skipped, &coalesced), 0);
    in.due_ms = T0;
    in.now_ms = T0 + HOUR; /* an hour late, run_once: one run, the rest coalesced */
    n = plan_settle(&in, runs, TASK_MISFIRE_RUN_ALL_CAP, &skipped, &coalesced);
    cr_assert(n == 1 + ON_TIME && runs[0] == T0 && runs[1] == T0 + LATE * 1000LL && coalesced == LATE - 1);
    cron_free(e);
}
