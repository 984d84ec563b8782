/* Unit tests of the REST views of store records and of the record type. */
#include <criterion/criterion.h>
#include <string.h>

#include "api_view.h"
#include "record.h"

Test(record, keeps_order_finds_the_first_and_clears)
{
    Record r = {0};
    cr_expect_null(record_get(&r, "x"), "an empty record has no fields");
    for (int i = 0; i < 40; i++) /* past the first growth */
        record_add(&r, i == 39 ? "last" : "n", i == 0 ? "first" : "later");
    record_add(&r, "num", "42");
    record_add(&r, "empty", "");
    cr_expect_str_eq(record_get(&r, "n"), "first");
    cr_expect_str_eq(record_get(&r, "last"), "later");
    cr_expect_eq(record_ll(&r, "num", -1), 42);
    cr_expect_eq(record_ll(&r, "empty", -1), -1, "an empty field reads as the default");
    cr_expect_eq(record_ll(&r, "missing", 7), 7);
    record_clear(&r);
    cr_expect_eq(r.n, 0);
    cr_expect_null(record_get(&r, "n"));
    RecordList l = {0};
    for (int i = 0; i < 20; i++)
        record_add(record_list_add(&l), "i", "v");
    cr_expect_eq(l.n, 20);
    record_list_clear(&l);
    cr_expect_eq(l.n, 0);
}

static Record task_record(void)
{
    Record h = {0};
    record_add(&h, "id", "01HTASK");
    record_add(&h, "spec",
               "{\"name\":\"n\",\"schedule\":{\"cron\":\"* * * * *\"},"
               "\"action\":{\"type\":\"http\",\"url\":\"http://127.0.0.1/\"},"
               "\"timeout_s\":5,\"retry\":{\"max_attempts\":2}}");
    record_add(&h, "state", "active");
    record_add(&h, "version", "3");
    record_add(&h, "created", "0");
    record_add(&h, "updated", "1000");
    record_add(&h, "next", "");
    record_add(&h, "runs_succeeded", "4");
    record_add(&h, "runs_failed", "1");
    return h;
}

Test(api_view, task_formats_times_at_the_edge_and_defaults_what_is_missing)
{
    Record h = task_record();
    json_t *t = api_view_task(&h);
    cr_assert_not_null(t);
    cr_expect_str_eq(json_string_value(json_object_get(t, "id")), "01HTASK");
    cr_expect_str_eq(json_string_value(json_object_get(t, "created_at")), "1970-01-01T00:00:00.000Z");
    cr_expect_str_eq(json_string_value(json_object_get(t, "updated_at")), "1970-01-01T00:00:01.000Z");
    cr_expect(json_is_null(json_object_get(t, "next_run_at")), "an empty next is null");
    cr_expect(json_is_null(json_object_get(t, "last_run")));
    cr_expect_eq(json_integer_value(json_object_get(t, "version")), 3);
    cr_expect(json_is_object(json_object_get(t, "labels")), "labels default to {}");
    cr_expect_not_null(json_object_get(t, "retry"), "a policy the spec has is shown");
    cr_expect_null(json_object_get(t, "overlap"), "a policy the spec lacks is not");
    json_t *runs = json_object_get(t, "runs");
    cr_expect_eq(json_integer_value(json_object_get(runs, "succeeded")), 4);
    cr_expect_eq(json_integer_value(json_object_get(runs, "dispatched")), 0);
    json_decref(t);
    record_clear(&h);
}

Test(api_view, read_only_fields_are_what_the_view_adds_beyond_the_spec)
{
    Record h = task_record();
    json_t *t = api_view_task(&h);
    for (const char *const *f = api_view_read_only; *f; f++)
        /* task_redact adds redacted; api_view_task_get adds lateness (slo_ms) */
        if (strcmp(*f, "redacted") != 0 && strcmp(*f, "lateness") != 0)
            cr_expect_not_null(json_object_get(t, *f), "the view lacks read-only field %s", *f);
    const char *key;
    json_t *v;
    json_object_foreach(t, key, v)
    {
        int ro = 0;
        for (const char *const *f = api_view_read_only; *f; f++)
            ro |= strcmp(*f, key) == 0;
        static const char *const spec_side[] = {"id",     "name",      "labels", "schedule",
                                                "action", "timeout_s", "retry"};
        for (size_t i = 0; i < sizeof spec_side / sizeof *spec_side; i++)
            ro |= strcmp(spec_side[i], key) == 0;
        cr_expect(ro, "field %s is neither the spec's nor read-only", key);
    }
    json_decref(t);
    record_clear(&h);
}

Test(api_view, dead_letter_and_event)
{
    Record d = {0};
    record_add(&d, "id", "3-1-0");
    record_add(&d, "task", "");
    record_add(&d, "attempts", "5");
    record_add(&d, "at", "1000");
    json_t *j = api_view_dead(&d);
    cr_expect_str_eq(json_string_value(json_object_get(j, "id")), "3-1-0");
    cr_expect(json_is_null(json_object_get(j, "task_id")), "a malformed entry's letter names no task");
    cr_expect_str_eq(json_string_value(json_object_get(j, "error")), "");
    cr_expect_str_eq(json_string_value(json_object_get(j, "dead_at")), "1970-01-01T00:00:01.000Z");
    cr_expect_eq(json_integer_value(json_object_get(j, "attempts")), 5);
    json_decref(j);
    record_clear(&d);

    Record e = {0};
    record_add(&e, "id", "5-0.2");
    record_add(&e, "type", "run.finished");
    record_add(&e, "at", "2000");
    record_add(&e, "secret_inside", "x");
    j = api_view_event(&e);
    cr_expect_str_eq(json_string_value(json_object_get(j, "id")), "5-0.2");
    cr_expect_str_eq(json_string_value(json_object_get(j, "at")), "1970-01-01T00:00:02.000Z");
    cr_expect_null(json_object_get(j, "secret_inside"), "only the feed's fields are shown");
    json_decref(j);
    record_clear(&e);
}

Test(api_view, stats_histogram_and_percentiles)
{
    int64_t late[] = {0, 1, 3, 7, 20000};
    StoreStats s = {.now_ms = 3600000,
                    .start_ms = 0,
                    .bucket_ms = 60000,
                    .late = late,
                    .nlate = 5,
                    .nstates = 3,
                    .noutcomes = 1,
                    .tasks_total = 9,
                    .tasks_counted = 9};
    strcpy(s.states[0].name, "active");
    s.states[0].n = 9;
    strcpy(s.states[1].name, "paused");
    strcpy(s.states[2].name, "completed");
    strcpy(s.outcomes[0].name, "succeeded");
    s.outcomes[0].n = 2;
    json_t *j = api_view_stats(&s);
    json_t *lat = json_object_get(j, "lateness_ms");
    cr_expect_eq(json_integer_value(json_object_get(lat, "count")), 5);
    cr_expect_eq(json_integer_value(json_object_get(lat, "p50")), 3);
    json_t *hist = json_object_get(lat, "histogram");
    cr_expect_eq(json_integer_value(json_object_get(json_array_get(hist, 0), "count")), 2,
                 "0 and 1 are <= 1");
    json_t *last = json_array_get(hist, json_array_size(hist) - 1);
    cr_expect(json_is_null(json_object_get(last, "le")));
    cr_expect_eq(json_integer_value(json_object_get(last, "count")), 1, "20 s is past every bound");
    cr_expect_eq(json_integer_value(json_object_get(json_object_get(j, "tasks"), "paused")), 0);
    cr_expect_eq(json_integer_value(json_object_get(json_object_get(j, "runs_last_hour"), "succeeded")), 2);
    cr_expect_eq(json_array_size(json_object_get(json_object_get(j, "throughput"), "succeeded")),
                 STORE_STATS_BUCKETS);
    json_decref(j);
}
