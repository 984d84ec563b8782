/* Unit tests of the run record codec: the text the completion script stamps
 * with its finish time is the record the api serves. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run_record.h"

/* Stamps TAIL as complete.lua does and parses it back. */
static json_t *stamped(char *tail)
{
    cr_assert_not_null(tail);
    char buf[8192];
    snprintf(buf, sizeof buf, "{\"finished_ms\":1796161098000,%s", tail);
    free(tail);
    json_error_t err;
    json_t *o = json_loads(buf, 0, &err);
    cr_assert_not_null(o, "%s: %s", err.text, buf);
    return o;
}

static RunRecord sample(void)
{
    return (RunRecord){.id = "t1:1000:2",
                       .task_id = "t1",
                       .occurrence_id = "t1:1000",
                       .sched_ms = 1000,
                       .started_ms = 1250,
                       .status = "failed",
                       .attempt = 2,
                       .exit_code = 3,
                       .output = "a\"b\n",
                       .output_len = 4,
                       .executor = "ex-1",
                       .kind = "retry",
                       .error = NULL,
                       .http_status = 0,
                       .next_attempt_in_ms = 500,
                       .dead = 0};
}

Test(run_record, the_final_record_has_every_field)
{
    RunRecord r = sample();
    json_t *o = stamped(run_record_tail(&r));
    cr_assert_str_eq(json_string_value(json_object_get(o, "id")), "t1:1000:2");
    cr_assert_str_eq(json_string_value(json_object_get(o, "occurrence_id")), "t1:1000");
    cr_assert_eq(json_integer_value(json_object_get(o, "scheduled_ms")), 1000);
    cr_assert_eq(json_integer_value(json_object_get(o, "started_ms")), 1250);
    cr_assert_eq(json_integer_value(json_object_get(o, "finished_ms")), 1796161098000);
    cr_assert_str_eq(json_string_value(json_object_get(o, "output")), "a\"b\n");
    cr_assert_str_eq(json_string_value(json_object_get(o, "kind")), "retry");
    cr_assert_eq(json_integer_value(json_object_get(o, "lateness_ms")), 250);
    cr_assert_eq(json_integer_value(json_object_get(o, "exit_code")), 3);
    cr_assert_eq(json_integer_value(json_object_get(o, "next_attempt_in_ms")), 500);
    cr_assert_null(json_object_get(o, "error"));
    cr_assert_null(json_object_get(o, "dead"));
    json_decref(o);
}

Test(run_record, unknowns_are_null_or_absent)
{
    RunRecord r = sample();
    r.started_ms = -1;
    r.exit_code = -1;
    r.next_attempt_in_ms = -1;
    r.error = "timed out";
    r.http_status = 503;
    r.dead = 1;
    json_t *o = stamped(run_record_tail(&r));
    cr_assert(json_is_null(json_object_get(o, "started_ms")));
    cr_assert(json_is_null(json_object_get(o, "exit_code")));
    cr_assert_null(json_object_get(o, "lateness_ms"));
    cr_assert_null(json_object_get(o, "next_attempt_in_ms"));
    cr_assert_str_eq(json_string_value(json_object_get(o, "error")), "timed out");
    cr_assert_eq(json_integer_value(json_object_get(o, "http_status")), 503);
    cr_assert(json_is_true(json_object_get(o, "dead")));
    json_decref(o);
}

Test(run_record, the_last_run_summary)
{
    RunRecord r = sample();
    json_t *o = stamped(run_record_last_tail(&r));
    cr_assert_str_eq(json_string_value(json_object_get(o, "id")), "t1:1000:2");
    cr_assert_str_eq(json_string_value(json_object_get(o, "status")), "failed");
    cr_assert_eq(json_integer_value(json_object_get(o, "attempt")), 2);
    cr_assert_eq(json_object_size(o), 5);
    json_decref(o);
}

Test(run_record, the_running_record)
{
    RunRecord r = sample();
    char *tail = run_record_start_tail(&r);
    cr_assert_not_null(tail);
    cr_assert_not_null(strstr(tail, "\"status\":\"running\""), "trimming looks for this text: %s", tail);
    char buf[4096];
    snprintf(buf, sizeof buf, "{\"started_ms\":1250,\"lateness_ms\":250,%s", tail);
    free(tail);
    json_t *o = json_loads(buf, 0, NULL);
    cr_assert_not_null(o, "%s", buf);
    cr_assert(json_is_null(json_object_get(o, "finished_ms")));
    cr_assert(json_is_null(json_object_get(o, "exit_code")));
    cr_assert_str_eq(json_string_value(json_object_get(o, "output")), "");
    cr_assert_str_eq(json_string_value(json_object_get(o, "executor")), "ex-1");
    cr_assert_str_eq(json_string_value(json_object_get(o, "kind")), "retry");
    cr_assert_eq(json_integer_value(json_object_get(o, "lateness_ms")), 250);
    json_decref(o);
}

/* The reference: jansson's object encoder, which the codec wrote with before
 * it wrote the members itself; the text must stay the same byte for byte. */
static char *reference_tail(const RunRecord *r)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(r->id));
    json_object_set_new(o, "task_id", json_string(r->task_id));
    json_object_set_new(o, "occurrence_id", json_string(r->occurrence_id));
    json_object_set_new(o, "scheduled_ms", json_integer(r->sched_ms));
    json_object_set_new(o, "status", json_string(r->status));
    json_object_set_new(o, "attempt", json_integer(r->attempt));
    json_object_set_new(o, "exit_code", r->exit_code >= 0 ? json_integer(r->exit_code) : json_null());
    json_object_set_new(o, "output", json_stringn_nocheck(r->output, r->output_len));
    json_object_set_new(o, "executor", json_string(r->executor));
    if (r->kind)
        json_object_set_new(o, "kind", json_string(r->kind));
    json_object_set_new(o, "started_ms", r->started_ms < 0 ? json_null() : json_integer(r->started_ms));
    if (r->started_ms >= 0)
        json_object_set_new(o, "lateness_ms", json_integer(r->started_ms - r->sched_ms));
    if (r->started_ms >= 0 && r->slo_ms > 0) {
        json_object_set_new(o, "slo_ms", json_integer(r->slo_ms));
        json_object_set_new(o, "late", json_boolean(r->started_ms - r->sched_ms > r->slo_ms));
    }
    if (r->error)
        json_object_set_new(o, "error", json_string_nocheck(r->error));
    if (r->http_status > 0)
        json_object_set_new(o, "http_status", json_integer(r->http_status));
    if (r->next_attempt_in_ms >= 0)
        json_object_set_new(o, "next_attempt_in_ms", json_integer(r->next_attempt_in_ms));
    if (r->dead)
        json_object_set_new(o, "dead", json_true());
    char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (text == NULL)
        return NULL;
    memmove(text, text + 1, strlen(text));
    return text;
}

static void same_as_reference(const RunRecord *r)
{
    char *want = reference_tail(r), *got = run_record_tail(r);
    if (want == NULL)
        cr_assert_null(got, "jansson refused it, the codec wrote %s", got);
    else
        cr_assert_str_eq(got, want);
    free(want);
    free(got);
}

Test(run_record, writes_what_janssons_encoder_wrote)
{
    RunRecord r = sample();
    same_as_reference(&r);
    static const char out[] =
        "tab\there, nul\0after, ctl\x01\x1f, del\x7f, slash / \\ \"q\", \xc3\xa9t\xc3\xa9 \xe2\x82\xac";
    r.output = out;
    r.output_len = sizeof out - 1;
    r.error = "exit \"1\"\n\xe2\x9c\x97";
    r.slo_ms = 100;
    r.http_status = 502;
    r.dead = 1;
    same_as_reference(&r);
    r.slo_ms = 1000; /* judged, not late */
    r.kind = NULL;
    r.started_ms = -1;
    r.exit_code = -1;
    r.next_attempt_in_ms = -1;
    same_as_reference(&r);
    r.output = "one\ttwo"; /* a control character alone */
    r.output_len = 7;
    r.error = "line\nnext";
    same_as_reference(&r);
    r.executor = "host-\xff"; /* not UTF-8: left out, as an object leaves out a NULL value */
    same_as_reference(&r);
    r.output = "bad \xc3"; /* stored as given, but jansson cannot encode it: no record */
    r.output_len = 5;
    same_as_reference(&r);
}
