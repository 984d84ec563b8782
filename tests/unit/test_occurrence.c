/* Unit tests of the identity codec: ids and tokens made, parsed back, and
 * hostile strings refused, fed as strings the way the store reads them. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "occurrence.h"

#define TASK "01a233544d3c1679ff253d16"
#define SCHED 1796157497540LL

Test(occurrence, ids_have_the_documented_shape)
{
    char buf[OCC_TOKEN_MAX + 1];
    occurrence_id(buf, sizeof buf, TASK, SCHED);
    cr_assert_str_eq(buf, TASK ":1796157497540");
    occurrence_run_id(buf, sizeof buf, TASK, SCHED, 3);
    cr_assert_str_eq(buf, TASK ":1796157497540:3");
    Occurrence o = {.task = TASK, .sched_ms = SCHED, .attempt = 2, .kind = "manual"};
    occurrence_token(buf, sizeof buf, &o, 0);
    cr_assert_str_eq(buf, "retry:" TASK ":1796157497540:2");
    occurrence_token(buf, sizeof buf, &o, 1);
    cr_assert_str_eq(buf, "retry:" TASK ":1796157497540:2:manual");
}

Test(occurrence, the_longest_ids_fit_their_bounds)
{
    char task[TASK_ID_MAX + 1], buf[OCC_TOKEN_MAX + 1];
    memset(task, 'z', TASK_ID_MAX);
    task[TASK_ID_MAX] = '\0';
    cr_assert_leq(occurrence_id(buf, sizeof buf, task, INT64_MAX / 2), OCC_ID_MAX);
    cr_assert_leq(occurrence_run_id(buf, sizeof buf, task, INT64_MAX / 2, 1000000), OCC_RUN_ID_MAX);
    Occurrence o = {.sched_ms = INT64_MAX / 2, .attempt = 1000000, .kind = "abcdefghijk"};
    memcpy(o.task, task, sizeof task);
    int n = occurrence_token(buf, sizeof buf, &o, 1);
    cr_assert_leq(n, OCC_TOKEN_MAX);
    Occurrence back;
    cr_assert_eq(occurrence_token_parse(buf, &back), 0);
    cr_assert_str_eq(back.task, task);
    cr_assert_str_eq(back.kind, "abcdefghijk");
}

Test(occurrence, run_ids_parse_back)
{
    Occurrence o;
    cr_assert_eq(occurrence_run_id_parse(TASK ":1796157497540:12", &o), 0);
    cr_assert_str_eq(o.task, TASK);
    cr_assert_eq(o.sched_ms, SCHED);
    cr_assert_eq(o.attempt, 12);
}

Test(occurrence, tokens_parse_back_with_their_kind)
{
    Occurrence o;
    cr_assert_eq(occurrence_token_parse("retry:" TASK ":1796157497540:2", &o), 0);
    cr_assert_str_eq(o.task, TASK);
    cr_assert_eq(o.sched_ms, SCHED);
    cr_assert_eq(o.attempt, 2);
    cr_assert_str_eq(o.kind, "retry");
    cr_assert_eq(occurrence_token_parse("retry:" TASK ":1796157497540:1:now", &o), 0);
    cr_assert_str_eq(o.kind, "now");
    cr_assert_eq(o.attempt, 1);
}

Test(occurrence, malformed_strings_are_refused)
{
    static const char *const bad_runs[] = {
        "",
        ":",
        TASK,
        TASK ":",
        TASK ":1",
        TASK ":1:",
        TASK "::1",
        TASK ":1:0",
        TASK ":1:-1",
        TASK ":-5:1",
        TASK ":1x:1",
        TASK ":1:1x",
        TASK ":1:1:",
        TASK ":1:1:now",
        "bad id:1:1",
        ":1:1",
        TASK ":99999999999999999999:1",
        TASK ":1:99999999999",
        "0123456789012345678901234567890123456789012345678901234567890123456789:1:1",
    };
    Occurrence o;
    for (size_t i = 0; i < sizeof bad_runs / sizeof bad_runs[0]; i++)
        cr_assert_eq(occurrence_run_id_parse(bad_runs[i], &o), -1, "accepted run id \"%s\"", bad_runs[i]);
    static const char *const bad_tokens[] = {
        TASK ":1:1",
        "retry:",
        "retry:" TASK,
        "retry:" TASK ":1",
        "retry:" TASK ":1:1:",
        "retry:" TASK ":1:1:NOW",
        "retry:" TASK ":1:1:now:x",
        "retry:" TASK ":1:1:abcdefghijkl",
        "Retry:" TASK ":1:1",
        "retry:" TASK ":1:0",
    };
    for (size_t i = 0; i < sizeof bad_tokens / sizeof bad_tokens[0]; i++)
        cr_assert_eq(occurrence_token_parse(bad_tokens[i], &o), -1, "accepted token \"%s\"", bad_tokens[i]);
}

Test(occurrence, entry_fields_fill_an_occurrence)
{
    static const char *const kv[] = {"task", TASK,   "sched",   "1796157497540", "attempt",
                                     "3",    "kind", "redrive", "extra",         "ignored"};
    Occurrence o;
    occurrence_entry_init(&o);
    cr_assert_not(occurrence_entry_valid(&o));
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i += 2)
        cr_assert_eq(occurrence_entry_field(&o, kv[i], kv[i + 1]), 0, "%s", kv[i]);
    cr_assert(occurrence_entry_valid(&o));
    cr_assert_str_eq(o.task, TASK);
    cr_assert_eq(o.sched_ms, SCHED);
    cr_assert_eq(o.attempt, 3);
    cr_assert_str_eq(o.kind, "redrive");
}

Test(occurrence, an_entry_without_attempt_is_the_first)
{
    Occurrence o;
    occurrence_entry_init(&o);
    cr_assert_eq(occurrence_entry_field(&o, "task", TASK), 0);
    cr_assert(occurrence_entry_valid(&o));
    cr_assert_eq(o.attempt, 1);
}

Test(occurrence, bad_entry_fields_are_refused)
{
    static const char *const kv[] = {
        "task",    "",  "task",    "a b", "sched", "", "sched", "12x", "sched", "-1",
        "attempt", "0", "attempt", "x",   "kind",  "", "kind",  "Now", "kind",  "averyverylongkind"};
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i += 2) {
        Occurrence o;
        occurrence_entry_init(&o);
        cr_assert_eq(occurrence_entry_field(&o, kv[i], kv[i + 1]), -1, "accepted %s=\"%s\"", kv[i],
                     kv[i + 1]);
    }
}

Test(occurrence, a_token_around_its_ms_is_the_token)
{
    char head[OCC_TOKEN_MAX + 1], tail[OCC_KIND_MAX + 16], whole[OCC_TOKEN_MAX + 1],
        made[OCC_TOKEN_MAX + 1];
    cr_assert_eq(occurrence_token_around(head, sizeof head, tail, sizeof tail, TASK, 1, "now"), 0);
    snprintf(whole, sizeof whole, "%s%lld%s", head, SCHED, tail);
    Occurrence o = {.task = TASK, .sched_ms = SCHED, .attempt = 1, .kind = "now"};
    occurrence_token(made, sizeof made, &o, 1);
    cr_assert_str_eq(whole, made);
    cr_assert_eq(occurrence_token_parse(whole, &o), 0);
    cr_assert_eq(occurrence_token_around(head, 4, tail, sizeof tail, TASK, 1, "now"), -1);
}

Test(occurrence, a_run_id_around_its_ms_is_the_run_id)
{
    char head[OCC_RUN_ID_MAX + 1], tail[16], whole[OCC_RUN_ID_MAX + 1], made[OCC_RUN_ID_MAX + 1];
    cr_assert_eq(occurrence_run_id_around(head, sizeof head, tail, sizeof tail, TASK, 1), 0);
    snprintf(whole, sizeof whole, "%s%lld%s", head, SCHED, tail);
    occurrence_run_id(made, sizeof made, TASK, SCHED, 1);
    cr_assert_str_eq(whole, made);
}
