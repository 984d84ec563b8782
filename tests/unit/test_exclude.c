/* Unit tests of exclusions: the pure match (ranges, exclude_cron by minute,
 * dates as whole local days), the bounded search past excluded fires, the
 * planner never running an excluded occurrence, and the spec's validation. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "exclude.h"
#include "plan.h"
#include "task.h"

#define T0 1795717500000LL /* 2026-11-26T18:25:00Z, a whole minute */
#define MIN 60000LL
#define DAY (1440 * MIN)

static CronExpr *expr(const char *text)
{
    char err[128];
    CronExpr *e = cron_parse(text, err, sizeof err);
    cr_assert_not_null(e, "%s", err);
    return e;
}

Test(exclude, ranges_are_half_open_and_round_trip_as_text)
{
    Exclusions x = {.n = 2, .from = {T0, T0 + DAY}, .to = {T0 + MIN, T0 + 2 * DAY}};
    cr_expect(exclude_match(&x, T0));
    cr_expect(exclude_match(&x, T0 + MIN - 1));
    cr_expect(!exclude_match(&x, T0 + MIN)); /* to is not included */
    cr_expect(!exclude_match(&x, T0 - 1));
    cr_expect(exclude_match(&x, T0 + DAY + 5));
    cr_expect(!exclude_match(NULL, T0));
    char text[EXCLUDE_TEXT_MAX];
    exclude_format(&x, text, sizeof text);
    Exclusions y = {0};
    cr_assert_eq(exclude_parse(text, &y), 0, "%s", text);
    cr_expect_eq(y.n, 2);
    cr_expect_eq(y.to[1], T0 + 2 * DAY);
    cr_expect_eq(exclude_parse("12-", &y), -1);
    cr_expect_eq(exclude_parse("", &y), 0);
    cr_expect_eq(y.n, 0);
}

Test(exclude, full_text_fits)
{
    Exclusions x = {.n = EXCLUDE_RANGES_MAX};
    for (int i = 0; i < x.n; i++)
        x.from[i] = 9999999999999LL - 1, x.to[i] = 9999999999999LL;
    char text[EXCLUDE_TEXT_MAX];
    exclude_format(&x, text, sizeof text);
    Exclusions y = {0};
    cr_assert_eq(exclude_parse(text, &y), 0);
    cr_expect_eq(y.n, EXCLUDE_RANGES_MAX);
}

Test(exclude, cron_excludes_by_the_minute_in_its_zone)
{
    char err[128];
    const Tz *paris = tz_get("Europe/Paris", err, sizeof err);
    cr_assert_not_null(paris, "%s", err);
    CronExpr *e = expr("* 19 26 11 *"); /* 19:xx on 26 November, Paris time (UTC+1) */
    Exclusions x = {.cron = e, .tz = paris};
    cr_expect(exclude_match(&x, T0 + 5 * MIN)); /* 18:30Z is 19:30 in Paris */
    cr_expect(exclude_match(&x, T0 + 5 * MIN + 59999));
    cr_expect(!exclude_match(&x, T0 - 26 * MIN)); /* 17:59Z is 18:59 in Paris */
    cr_expect(!exclude_match(&x, T0 + DAY));
    cron_free(e);
}

Test(exclude, a_date_is_the_whole_local_day_dst_included)
{
    char err[128];
    const Tz *paris = tz_get("Europe/Paris", err, sizeof err);
    int64_t from, to;
    cr_assert_eq(exclude_day(NULL, "2026-11-26", &from, &to), 0);
    cr_expect_eq(from, T0 - (18 * 60 + 25) * MIN);
    cr_expect_eq(to - from, DAY);
    cr_assert_eq(exclude_day(paris, "2026-03-29", &from, &to), 0); /* spring forward: 23 hours */
    cr_expect_eq(to - from, 23 * 60 * MIN);
    cr_expect_eq(from, 1774738800000LL); /* 2026-03-28T23:00:00Z */
    cr_expect_eq(exclude_day(NULL, "2026-02-29", &from, &to), -1);
    cr_expect_eq(exclude_day(NULL, "2026-2-01", &from, &to), -1);
    cr_expect_eq(exclude_day(NULL, "2026-01-01x", &from, &to), -1);
}

Test(exclude, the_planner_never_runs_an_excluded_occurrence_and_counts_it)
{
    CronExpr *e = expr("* * * * *");
    Exclusions x = {.n = 1, .from = {T0 + MIN}, .to = {T0 + 4 * MIN}}; /* fires 1, 2, 3 */
    PlanInput in = {
        .expr = e, .anchor_ms = T0, .due_ms = T0, .now_ms = T0 + 10, .threshold_ms = 5000, .excl = &x};
    Plan p;
    plan_due(&in, PLAN_MIN_BUDGET, &p);
    cr_expect_eq(p.dispatch, 1);
    cr_expect_eq(p.next_ms, T0 + 4 * MIN); /* passed over the three excluded */
    cr_expect_eq(p.excluded, 3);
    in.due_ms = T0 + 2 * MIN, in.now_ms = T0 + 2 * MIN; /* an excluded due (say an edit put it there) */
    plan_due(&in, PLAN_MIN_BUDGET, &p);
    cr_expect_eq(p.dispatch, 0);
    cr_expect_eq(p.excluded, 2); /* itself and fire 3 */
    cr_expect_eq(p.next_ms, T0 + 4 * MIN);
    cron_free(e);
}

Test(exclude, a_schedule_excluded_for_ever_costs_a_bounded_plan)
{
    CronExpr *e = expr("* * * * *"), *all = expr("* * * * *");
    Exclusions x = {.cron = all};
    PlanInput in = {
        .expr = e, .anchor_ms = T0, .due_ms = T0, .now_ms = T0, .threshold_ms = 5000, .excl = &x};
    Plan p;
    plan_due(&in, PLAN_MIN_BUDGET, &p);
    cr_expect_eq(p.dispatch, 0);
    cr_expect_leq(p.work, EXCLUDE_SEARCH_MAX + 1);
    cr_expect(exclude_match(&x, p.next_ms));
    cr_expect_eq(p.excluded, 1 + EXCLUDE_SEARCH_MAX);             /* the due one and those passed */
    cr_expect_eq(p.next_ms, T0 + (1 + EXCLUDE_SEARCH_MAX) * MIN); /* looked at, counted when due */
    /* plan_settle (an edit) stops too, and runs nothing. */
    int64_t runs[4], skipped = 0, coalesced = 0;
    in.now_ms = T0 + 10 * MIN;
    cr_expect_eq(plan_settle(&in, runs, 4, &skipped, &coalesced), 0);
    cron_free(e);
    cron_free(all);
}

static TaskSpec *spec(const char *json, TaskError *err)
{
    return task_spec_parse(json, strlen(json), err);
}

#define CRON_TASK "{\"name\":\"x\",\"action\":{\"type\":\"noop\"},\"schedule\":{\"cron\":\"0 9 * * *\"},"

Test(exclude, spec_validates_and_names_the_field)
{
    static const char *const bad[][2] = {
        {CRON_TASK "\"exclude\":{}}", "exclude"},
        {CRON_TASK "\"exclude\":[1]}", "exclude[0]"},
        {CRON_TASK "\"exclude\":[{\"from\":\"2026-12-24\"}]}", "exclude[0].to"},
        {CRON_TASK "\"exclude\":[{\"from\":\"2026-12-24\",\"to\":\"2026-12-26\",\"x\":1}]}",
         "exclude[0].x"},
        {CRON_TASK
         "\"exclude\":[{\"from\":\"2026-12-24\",\"to\":\"2026-12-26\"},"
         "{\"from\":\"2026-12-24\",\"to\":\"2026-12-26\"},{\"from\":\"2026-12-24\",\"to\":\"2026-12-26\"},"
         "{\"from\":\"2026-12-24T10:00:00Z\",\"to\":\"2026-12-24T09:00:00Z\"}]}",
         "exclude[3].to"},
        {CRON_TASK "\"exclude\":[{\"from\":\"2026-13-01\",\"to\":\"2026-12-26\"}]}", "exclude[0].from"},
        {CRON_TASK "\"exclude_cron\":\"61 * * * *\"}", "exclude_cron"},
        {CRON_TASK "\"exclude_cron\":5}", "exclude_cron"},
        {"{\"name\":\"x\",\"action\":{\"type\":\"noop\"},\"exclude_cron\":\"* * * * *\"}", "exclude_cron"},
    };
    TaskError err;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        TaskSpec *s = spec(bad[i][0], &err);
        cr_expect_null(s, "%s should be refused", bad[i][0]);
        cr_expect_str_eq(err.field, bad[i][1], "%s: %s", bad[i][0], err.detail);
        task_spec_free(s);
    }
}

Test(exclude, at_most_a_hundred_ranges)
{
    char json[16384];
    size_t n = (size_t)snprintf(json, sizeof json, CRON_TASK "\"exclude\":[");
    for (int i = 0; i < EXCLUDE_RANGES_MAX + 1; i++)
        n += (size_t)snprintf(json + n, sizeof json - n,
                              "%s{\"from\":\"2026-12-24\",\"to\":\"2026-12-25\"}", i ? "," : "");
    snprintf(json + n, sizeof json - n, "]}");
    TaskError err;
    TaskSpec *s = spec(json, &err);
    cr_expect_null(s);
    cr_expect_str_eq(err.field, "exclude");
    task_spec_free(s);
}

Test(exclude, spec_keeps_dates_and_resolves_them_in_the_zone)
{
    TaskError err;
    TaskSpec *s = spec(
        "{\"name\":\"x\",\"action\":{\"type\":\"noop\"},"
        "\"schedule\":{\"cron\":\"0 9 * * *\",\"timezone\":\"Europe/Paris\"},"
        "\"exclude\":[{\"from\":\"2026-12-24\",\"to\":\"2026-12-26\"}],\"exclude_cron\":\"* * 1 1 *\"}",
        &err);
    cr_assert_not_null(s, "%s: %s", err.field, err.detail);
    cr_assert_not_null(s->excl);
    cr_expect_eq(s->excl->n, 1);
    cr_expect_eq(s->excl->from[0], 1798066800000LL);          /* 2026-12-23T23:00:00Z: Paris midnight */
    cr_expect_eq(s->excl->to[0], s->excl->from[0] + 3 * DAY); /* the 26th included */
    cr_expect_str_eq(s->exclude_cron, "* * 1 1 *");
    cr_expect(exclude_match(s->excl, 1798761600000LL + 8 * 60 * MIN)); /* 2027-01-01T09:00 Paris */
    cr_expect_str_eq(
        json_string_value(json_object_get(json_array_get(json_object_get(s->json, "exclude"), 0), "to")),
        "2026-12-26");
    task_spec_free(s);
}
