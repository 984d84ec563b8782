/* Unit tests of the execution features of a task spec (task_exec.c): slo_ms,
 * then and concurrency normalize, and bad values name their field. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "task.h"

static TaskSpec *parse_with(const char *extra, TaskError *err)
{
    char body[1024];
    snprintf(body, sizeof body, "{\"name\":\"a\",\"action\":{\"type\":\"noop\"},%s}", extra);
    return task_spec_parse(body, strlen(body), err);
}

static void refused(const char *extra, const char *field)
{
    TaskError err = {0};
    TaskSpec *s = parse_with(extra, &err);
    cr_assert_null(s, "accepted: %s", extra);
    cr_assert_str_eq(err.field, field, "%s: %s (%s)", extra, err.field, err.detail);
}

Test(task_exec, features_parse_and_normalize)
{
    TaskError err;
    TaskSpec *s = parse_with(
        "\"slo_ms\":250,\"then\":[{\"task\":\"b\"},{\"task\":\"c\",\"on\":\"always\"}],"
        "\"concurrency\":{\"key\":\"billing\",\"limit\":2}",
        &err);
    cr_assert_not_null(s, "%s: %s", err.field, err.detail);
    cr_assert_eq(s->slo_ms, 250);
    cr_assert_eq(json_array_size(s->then), 2);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(s->then, 0), "on")), "success");
    cr_assert_str_eq(s->concurrency_key, "billing");
    cr_assert_eq(s->concurrency_limit, 2);
    task_spec_free(s);
}

Test(task_exec, absent_and_empty_mean_none)
{
    TaskError err;
    TaskSpec *s = parse_with("\"then\":[]", &err);
    cr_assert_not_null(s, "%s", err.detail);
    cr_assert_eq(s->slo_ms, 0);
    cr_assert_null(s->then);
    cr_assert_null(json_object_get(s->json, "then"), "[] is stored as no field");
    cr_assert_null(s->concurrency_key);
    task_spec_free(s);
}

Test(task_exec, bad_values_name_their_field)
{
    refused("\"slo_ms\":0", "slo_ms");
    refused("\"slo_ms\":\"5\"", "slo_ms");
    refused("\"slo_ms\":86400001", "slo_ms");
    refused("\"then\":{}", "then");
    refused("\"then\":[1]", "then[0]");
    refused("\"then\":[{\"task\":\"b c\"}]", "then[0].task");
    refused("\"then\":[{\"task\":\"b\",\"on\":\"maybe\"}]", "then[0].on");
    refused("\"then\":[{\"task\":\"b\"},{\"task\":\"b\"}]", "then[1].task");
    refused("\"then\":[{\"task\":\"b\",\"if\":1}]", "then[0].if");
    refused("\"concurrency\":{\"key\":\"k\",\"limit\":0}", "concurrency.limit");
    refused("\"concurrency\":{\"key\":\"k\",\"limit\":10001}", "concurrency.limit");
    refused("\"concurrency\":{\"key\":\"k.1\",\"limit\":1}", "concurrency.key");
    refused("\"concurrency\":{\"limit\":1}", "concurrency.key");
    refused("\"concurrency\":[]", "concurrency");
}
