/* Unit tests of jitter: the stable per-task offset, shifted fires (never
 * early), the period check, and the planner and spec using them. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "plan.h"
#include "shift.h"
#include "task.h"

#define T0 1795719900000LL /* 2026-11-26T18:25:00Z, a whole minute */
#define MIN 60000LL

static CronExpr *expr(const char *text)
{
    char err[128];
    CronExpr *e = cron_parse(text, err, sizeof err);
    cr_assert_not_null(e, "%s", err);
    return e;
}

Test(shift, offset_is_stable_in_range_and_spread_across_ids)
{
    char id[32];
    int64_t lo = MIN, hi = -1, buckets[60] = {0};
    for (int i = 0; i < 6000; i++) {
        snprintf(id, sizeof id, "019b%08x%012d", i, i);
        int64_t o = shift_offset_ms(id, MIN);
        cr_assert(o >= 0 && o < MIN, "%lld out of range", (long long)o);
        cr_assert_eq(o, shift_offset_ms(id, MIN)); /* the same every time */
        lo = o < lo ? o : lo;
        hi = o > hi ? o : hi;
        buckets[o / 1000]++;
    }
    for (int b = 0; b < 60; b++) /* 100 expected per one-second bucket */
        cr_expect(buckets[b] > 50 && buckets[b] < 150, "bucket %d holds %lld", b, (long long)buckets[b]);
    cr_expect_eq(shift_offset_ms("any", 0), 0);
}

Test(shift, fires_are_cron_times_plus_the_offset_never_early)
{
    CronExpr *e = expr("*/5 * * * *");
    const int64_t off = 123456;
    int64_t t = T0 - 1;
    for (int i = 0; i < 20; i++) {
        int64_t next = shift_next(e, NULL, T0, t, off);
        int64_t cron = cron_next(e, NULL, T0, t - off);
        cr_assert_eq(next, cron + off);
        cr_assert_gt(next, t);
        cr_assert_eq((next - off) % (5 * MIN), 0);
        t = next;
    }
    cr_expect_eq(shift_next(e, NULL, T0, T0, 0), cron_next(e, NULL, T0, T0));
    /* Just before a shifted fire, that fire is next, not the cron time before it. */
    cr_expect_eq(shift_next(e, NULL, T0, T0 + off - 1, off), T0 + off);
    cr_expect_eq(shift_next(e, NULL, T0, T0 + off, off), T0 + 5 * MIN + off);
    cron_free(e);
}

Test(shift, min_period)
{
    CronExpr *a = expr("*/5 * * * *"), *b = expr("0 9,17 * * *"), *c = expr("0 0 1 1 *");
    cr_expect_eq(shift_min_period_ms(a, NULL, T0, T0), 5 * MIN);
    cr_expect_eq(shift_min_period_ms(b, NULL, T0, T0), 8 * 60 * MIN);
    cr_expect_geq(shift_min_period_ms(c, NULL, T0, T0), 365 * 24 * 60 * MIN);
    cron_free(a);
    cron_free(b);
    cron_free(c);
}

Test(shift, planner_moves_the_score_to_the_next_shifted_fire)
{
    CronExpr *e = expr("* * * * *");
    const int64_t off = 7000;
    PlanInput in = {.expr = e,
                    .anchor_ms = T0,
                    .due_ms = T0 + off,
                    .now_ms = T0 + off + 10,
                    .threshold_ms = 5000,
                    .offset_ms = off};
    Plan p;
    plan_due(&in, PLAN_MIN_BUDGET, &p);
    cr_expect_eq(p.dispatch, 1);
    cr_expect_eq(p.next_ms, T0 + MIN + off);
    /* An hour late with skip: every shifted fire missed is counted, the next is shifted. */
    in.now_ms = T0 + 60 * MIN + off + 10, in.misfire = MISFIRE_SKIP;
    plan_due(&in, PLAN_MIN_BUDGET, &p);
    cr_expect_eq(p.dispatch, 0);
    cr_expect_eq((p.next_ms - off) % MIN, 0);
    cr_expect_gt(p.next_ms, in.now_ms - in.threshold_ms);
    cron_free(e);
}

static TaskSpec *spec(const char *json, TaskError *err)
{
    return task_spec_parse(json, strlen(json), err);
}

Test(shift, spec_validates_jitter_s)
{
    TaskError err;
    static const char *const bad[] = {
        "{\"name\":\"x\",\"action\":{\"type\":\"noop\"},\"jitter_s\":5}",
        "{\"name\":\"x\",\"action\":{\"type\":\"noop\"},\"schedule\":{\"at\":\"2030-01-01T00:00:00Z\"},"
        "\"jitter_s\":5}",
        "{\"name\":\"x\",\"action\":{\"type\":\"noop\"},\"schedule\":{\"cron\":\"* * * * "
        "*\"},\"jitter_s\":0}",
        "{\"name\":\"x\",\"action\":{\"type\":\"noop\"},\"schedule\":{\"cron\":\"* * * * "
        "*\"},\"jitter_s\":1.5}",
        "{\"name\":\"x\",\"action\":{\"type\":\"noop\"},\"schedule\":{\"cron\":\"* * * * "
        "*\"},\"jitter_s\":61}",
        "{\"name\":\"x\",\"action\":{\"type\":\"noop\"},\"schedule\":{\"cron\":\"0 0 1 1 "
        "*\"},\"jitter_s\":86401}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        TaskSpec *s = spec(bad[i], &err);
        cr_expect_null(s, "%s should be refused", bad[i]);
        cr_expect_str_eq(err.field, "jitter_s", "%s", bad[i]);
        task_spec_free(s);
    }
    TaskSpec *s = spec(
        "{\"name\":\"x\",\"action\":{\"type\":\"noop\"},\"schedule\":{\"cron\":\"* * * * *\"},"
        "\"jitter_s\":60}",
        &err);
    cr_assert_not_null(s, "%s: %s", err.field, err.detail);
    cr_expect_eq(s->jitter_ms, 60000);
    task_spec_bind(s, "0123456789abcdef01234567");
    int64_t off = shift_offset_ms("0123456789abcdef01234567", 60000);
    cr_expect_eq(s->offset_ms, off);
    int64_t first = task_first_due(s, T0 + 1, T0);
    cr_expect_eq(first, off > 1 ? T0 + off : T0 + MIN + off);
    cr_expect_eq(task_next_due(s, T0, first), first + MIN);
    task_spec_free(s);
}
