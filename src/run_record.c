/* run_record: encodes the finished run record and the task's last_run
 * summary for the completion script (see run_record.h). */
#include "run_record.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

/* A record's text is written member by member: the keys and numbers need no
 * escaping, and each string is jansson's encoding of it unless it is plain
 * printable ASCII without a quote or a backslash, which JSON holds as it is.
 * jansson's object encoder took ~23k instructions a record, three records a
 * run: a quarter of an executor's CPU per no-op run (callgrind). The text is
 * the one json_dumps(JSON_COMPACT | JSON_PRESERVE_ORDER) wrote for the same
 * object (tests/unit/test_run_record.c compares them). */
typedef struct Out {
    Buf b;      /* the members so far, comma-separated */
    int failed; /* a string jansson could not encode */
} Out;

static void member(Out *o, const char *key)
{
    if (o->b.len > 0)
        buf_add(&o->b, ",", 1);
    buf_add(&o->b, "\"", 1);
    buf_adds(&o->b, key);
    buf_add(&o->b, "\":", 2);
}

static int plain(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
            return 0;
    }
    return 1;
}

/* Adds KEY with the N bytes of S. CHECKED: S is validated as json_stringn
 * does, and left out, as an object leaves out a NULL value, when it is not
 * UTF-8 (or is NULL); else it is stored as given (the executor keeps it
 * UTF-8; if it is not, the record cannot be encoded). */
static void add_str(Out *o, const char *key, const char *s, size_t n, int checked)
{
    if (s == NULL)
        return;
    if (plain(s, n)) {
        member(o, key);
        buf_add(&o->b, "\"", 1);
        buf_add(&o->b, s, n);
        buf_add(&o->b, "\"", 1);
        return;
    }
    json_t *v = checked ? json_stringn(s, n) : json_stringn_nocheck(s, n);
    if (v == NULL)
        return;
    char *text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    json_decref(v);
    if (text == NULL) {
        o->failed = 1;
        return;
    }
    member(o, key);
    buf_adds(&o->b, text);
    free(text);
}

static void add_checked(Out *o, const char *key, const char *s)
{
    add_str(o, key, s, s ? strlen(s) : 0, 1);
}

static void add_int(Out *o, const char *key, long long v)
{
    member(o, key);
    buf_addf(&o->b, "%lld", v);
}

static void add_lit(Out *o, const char *key, const char *literal)
{
    member(o, key);
    buf_adds(&o->b, literal);
}

/* KEY is MS (integer ms, as every time inside Redis: the api formats them,
 * api_view_run), or null when MS < 0. */
static void add_time(Out *o, const char *key, int64_t ms)
{
    if (ms < 0)
        add_lit(o, key, "null");
    else
        add_int(o, key, ms);
}

/* The text after the opening brace, or NULL (nothing, or a failure). */
static char *tail_of(Out *o)
{
    if (o->failed || o->b.len == 0) {
        buf_free(&o->b);
        return NULL;
    }
    buf_add(&o->b, "}", 1);
    return buf_take(&o->b, NULL);
}

/* The members every stored run record has: R's identity, its schedule, who
 * ran it, and STATUS, EXIT_CODE (< 0: null) and OUTPUT (N bytes). */
static void record_head(Out *o, const RunRecord *r, const char *status, int exit_code, const char *output,
                        size_t n)
{
    add_checked(o, "id", r->id);
    add_checked(o, "task_id", r->task_id);
    add_checked(o, "occurrence_id", r->occurrence_id);
    add_time(o, "scheduled_ms", r->sched_ms);
    add_checked(o, "status", status);
    add_int(o, "attempt", r->attempt);
    if (exit_code >= 0)
        add_int(o, "exit_code", exit_code);
    else
        add_lit(o, "exit_code", "null");
    add_str(o, "output", output, n, 0);
    add_checked(o, "executor", r->executor);
    add_checked(o, "kind", r->kind); /* NULL: none, left out */
}

char *run_record_tail(const RunRecord *r)
{
    Out o = {.failed = 0};
    record_head(&o, r, r->status, r->exit_code, r->output ? r->output : "", r->output ? r->output_len : 0);
    add_time(&o, "started_ms", r->started_ms);
    if (r->started_ms >= 0)
        add_int(&o, "lateness_ms", r->started_ms - r->sched_ms);
    if (r->started_ms >= 0 && r->slo_ms > 0) { /* slo (issue 16), as start.lua judged it */
        add_int(&o, "slo_ms", r->slo_ms);
        add_lit(&o, "late", r->started_ms - r->sched_ms > r->slo_ms ? "true" : "false");
    }
    if (r->error != NULL)
        add_str(&o, "error", r->error, strlen(r->error), 0);
    if (r->http_status > 0)
        add_int(&o, "http_status", r->http_status);
    if (r->next_attempt_in_ms >= 0)
        add_int(&o, "next_attempt_in_ms", r->next_attempt_in_ms);
    if (r->dead)
        add_lit(&o, "dead", "true");
    return tail_of(&o);
}

char *run_record_start_tail(const RunRecord *r)
{
    Out o = {.failed = 0};
    record_head(&o, r, "running", -1, "", 0);
    add_time(&o, "finished_ms", -1);
    return tail_of(&o);
}

char *run_record_last_tail(const RunRecord *r)
{
    Out o = {.failed = 0};
    add_checked(&o, "id", r->id);
    add_checked(&o, "status", r->status);
    add_time(&o, "scheduled_ms", r->sched_ms);
    add_int(&o, "attempt", r->attempt);
    return tail_of(&o);
}
