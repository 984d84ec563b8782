/* Unit tests of the task-spec parser: good bodies normalize, bad ones name the field. */
#include <criterion/criterion.h>
#include <string.h>

#include "task.h"

static TaskSpec *parse(const char *body, TaskError *err)
{
    return task_spec_parse(body, strlen(body), err);
}

Test(task, immediate_shell_task_gets_defaults)
{
    TaskError err;
    TaskSpec *s = parse("{\"name\":\"a\",\"action\":{\"type\":\"shell\",\"command\":[\"echo\",\"hi\"]}}",
                        &err);
    cr_assert_not_null(s, "%s: %s", err.field, err.detail);
    cr_assert_eq(s->stype, SCHEDULE_NOW);
    cr_assert_str_eq(s->name, "a");
    cr_assert_eq(json_integer_value(json_object_get(s->json, "timeout_s")), 3600);
    cr_assert_eq(task_first_due(s, 1000, 1000), 1000);
    task_spec_free(s);
}

Test(task, at_is_canonical_and_past_means_now)
{
    TaskError err;
    TaskSpec *s = parse("{\"name\":\"a\",\"schedule\":{\"at\":\"2026-11-26T19:00:00+01:00\"},"
                        "\"action\":{\"type\":\"noop\"}}",
                        &err);
    cr_assert_not_null(s, "%s", err.detail);
    cr_assert_eq(s->stype, SCHEDULE_AT);
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(s->json, "schedule"), "at")),
                     "2026-11-26T18:00:00.000Z");
    cr_assert_eq(task_first_due(s, s->at_ms + 5000, 0), s->at_ms + 5000);
    cr_assert_eq(task_first_due(s, s->at_ms - 5000, 0), s->at_ms);
    task_spec_free(s);
}

Test(task, cron_defaults_to_utc_and_computes_next)
{
    TaskError err;
    TaskSpec *s = parse(
        "{\"name\":\"a\",\"schedule\":{\"cron\":\"*/5 * * * * *\"},\"action\":{\"type\":\"noop\"}}", &err);
    cr_assert_not_null(s, "%s", err.detail);
    cr_assert_str_eq(s->timezone, "UTC");
    cr_assert_eq(task_first_due(s, 1000, 0), 5000);
    cr_assert_eq(task_next_due(s, 0, 5000), 10000);
    task_spec_free(s);
}

typedef struct Bad {
    const char *body, *field;
} Bad;

Test(task, bad_bodies_name_their_field)
{
    static const Bad bad[] = {
        {"", ""},
        {"[1]", ""},
        {"{\"action\":{\"type\":\"noop\"}}", "name"},
        {"{\"name\":\"\",\"action\":{\"type\":\"noop\"}}", "name"},
        {"{\"name\":7,\"action\":{\"type\":\"noop\"}}", "name"},
        {"{\"name\":\"a\"}", "action"},
        {"{\"name\":\"a\",\"action\":{\"type\":\"shell\"}}", "action.command"},
        {"{\"name\":\"a\",\"action\":{\"type\":\"shell\",\"command\":[\"\"]}}", "action.command[0]"},
        {"{\"name\":\"a\",\"action\":{\"type\":\"shell\",\"command\":[\"x\"],\"cwd\":\"rel\"}}",
         "action.cwd"},
        {"{\"name\":\"a\",\"action\":{\"type\":\"shell\",\"command\":[\"x\"],\"env\":{\"DTS_RUN_ID\":\"x\"}"
         "}}",
         "action.env.DTS_RUN_ID"},
        {"{\"name\":\"a\",\"action\":{\"type\":\"shell\",\"command\":[\"x\"],\"shell\":true}}",
         "action.shell"},
        {"{\"name\":\"a\",\"action\":{\"type\":\"noop\"},\"schedule\":{\"cron\":\"* * * * * * * *\"}}",
         "schedule.cron"},
        {"{\"name\":\"a\",\"action\":{\"type\":\"noop\"},\"schedule\":{\"cron\":\"* * * * "
         "*\",\"timezone\":\"No/Where\"}}",
         "schedule.timezone"},
        {"{\"name\":\"a\",\"action\":{\"type\":\"noop\"},\"schedule\":{\"at\":\"2026-02-30T00:00:00Z\"}}",
         "schedule.at"},
        {"{\"name\":\"a\",\"action\":{\"type\":\"noop\"},\"schedule\":{\"at\":\"2026-01-01T00:00:00Z\","
         "\"timezone\":\"UTC\"}}",
         "schedule.timezone"},
        {"{\"name\":\"a\",\"action\":{\"type\":\"noop\"},\"schedule\":{\"every\":5}}", "schedule.every"},
        {"{\"name\":\"a\",\"action\":{\"type\":\"noop\"},\"timeout_s\":1.5}", "timeout_s"},
        {"{\"name\":\"a\",\"action\":{\"type\":\"noop\"},\"labels\":[]}", "labels"},
        {"{\"name\":\"a\",\"action\":{\"type\":\"noop\"},\"extra\":1}", "extra"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        TaskError err;
        memset(&err, 0, sizeof err);
        TaskSpec *s = parse(bad[i].body, &err);
        cr_expect_null(s, "accepted %s", bad[i].body);
        cr_expect_str_eq(err.field, bad[i].field, "body %s: field %s (%s)", bad[i].body, err.field,
                         err.detail);
        cr_expect_neq(err.detail[0], '\0');
        task_spec_free(s);
    }
}

Test(task, name_limit_counts_characters_not_bytes)
{
    char body[2048], name[1024] = "";
    for (int i = 0; i < 200; i++)
        snprintf(name + 2 * i, sizeof name - 2 * i, "\xc3\xa9"); /* é: 2 bytes, 1 character */
    snprintf(body, sizeof body, "{\"name\":\"%s\",\"action\":{\"type\":\"noop\"}}", name);
    TaskError err;
    TaskSpec *s = parse(body, &err);
    cr_assert_not_null(s, "%s", err.detail);
    task_spec_free(s);
    snprintf(body, sizeof body, "{\"name\":\"%sx\",\"action\":{\"type\":\"noop\"}}", name);
    cr_assert_null(parse(body, &err));
    cr_assert_str_eq(err.field, "name");
}

Test(task, ids_are_time_ordered_and_valid)
{
    char a[25], b[25];
    task_new_id(1000, a);
    task_new_id(2000, b);
    cr_assert_eq(strlen(a), 24);
    cr_assert(strcmp(a, b) < 0);
    cr_assert(task_id_valid(a));
    cr_assert_not(task_id_valid(""));
    cr_assert_not(task_id_valid("a/b"));
    cr_assert_not(task_id_valid("a b"));
}

/* Parses an action with one env variable (shell) or header (http) named
 * NAME; expects it refused naming its field when REFUSED. */
static void expect_name(const char *kind, const char *name, int refused)
{
    char body[512], field[96];
    TaskError err = {0};
    if (strcmp(kind, "env") == 0)
        snprintf(body, sizeof body,
                 "{\"name\":\"a\",\"action\":{\"type\":\"shell\",\"command\":[\"x\"],"
                 "\"env\":{\"%s\":\"v\"}}}",
                 name);
    else
        snprintf(body, sizeof body,
                 "{\"name\":\"a\",\"action\":{\"type\":\"http\",\"url\":\"http://h.example/\","
                 "\"headers\":{\"%s\":\"v\"}}}",
                 name);
    TaskSpec *s = parse(body, &err);
    snprintf(field, sizeof field, "action.%s.%s", strcmp(kind, "env") == 0 ? "env" : "headers", name);
    if (refused) {
        cr_expect_null(s, "accepted %s %s", kind, name);
        cr_expect_str_eq(err.field, field);
    } else {
        cr_expect_not_null(s, "refused %s %s: %s", kind, name, err.detail);
    }
    task_spec_free(s);
}

/* Issue 12, items 4 and 11: action.env may not hook a shell, the loader or an
 * interpreter; webhook headers may not spoof dts's own or the framing. */
Test(task, dangerous_env_names_and_reserved_headers_are_refused)
{
    static const char *env_bad[] = {"BASH_ENV",
                                    "ENV",
                                    "SHELLOPTS",
                                    "PS4",
                                    "LD_PRELOAD",
                                    "LD_AUDIT",
                                    "LD_LIBRARY_PATH",
                                    "PERL5OPT",
                                    "PERL5LIB",
                                    "NODE_OPTIONS",
                                    "PYTHONSTARTUP",
                                    "PYTHONPATH",
                                    "PATH",
                                    "IFS",
                                    "GCONV_PATH",
                                    "BASH_FUNC_x%%",
                                    "GLIBC_TUNABLES",
                                    "1X",
                                    "A-B",
                                    "A B",
                                    ""};
    static const char *env_ok[] = {"FOO", "_x1", "PYTHONUNBUFFERED", "LANGUAGE", "NODE_ENV", "MY_PATH"};
    static const char *hdr_bad[] = {"X-Dts-Task-Id",  "x-dts-anything",    "Idempotency-Key", "Host",
                                    "Content-Length", "Transfer-Encoding", "connection"};
    for (size_t i = 0; i < sizeof env_bad / sizeof *env_bad; i++)
        expect_name("env", env_bad[i], 1);
    for (size_t i = 0; i < sizeof env_ok / sizeof *env_ok; i++)
        expect_name("env", env_ok[i], 0);
    for (size_t i = 0; i < sizeof hdr_bad / sizeof *hdr_bad; i++)
        expect_name("header", hdr_bad[i], 1);
    expect_name("header", "Authorization", 0);
}

Test(task, a_retry_policy_parses_alone_with_its_defaults)
{
    TaskError err;
    RetryPolicy p;
    cr_assert_eq(task_retry_parse(NULL, &p, &err), 0);
    cr_assert_eq(p.max_attempts, 1);
    json_t *r = json_pack("{s:i}", "max_attempts", 4);
    cr_assert_eq(task_retry_parse(r, &p, &err), 0);
    cr_assert_eq(p.max_attempts, 4);
    cr_assert_str_eq(json_string_value(json_object_get(r, "backoff")), "exponential");
    json_object_set_new(r, "backoff", json_string("linear"));
    cr_assert_eq(task_retry_parse(r, &p, &err), -1);
    cr_assert_str_eq(err.field, "retry.backoff");
    json_decref(r);
}
