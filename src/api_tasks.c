/* api_tasks: the task resource's writes and reads: create (with the quotas),
 * get, replace (planning an edit against the stored schedule), delete,
 * pause, resume, trigger and backfill. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_create.h"
#include "api_private.h"
#include "api_secret.h"
#include "api_view.h"
#include "backfill.h"
#include "clock.h"
#include "idem.h"
#include "log.h"
#include "mem.h"
#include "occurrence.h"
#include "plan.h"
#include "quota.h"
#include "store_backfill.h"
#include "store_create.h"
#include "store_sched.h"
#include "store_task.h"

/* Answers 429 with Retry-After (seconds, at least 1). */
static void too_many(Req *r, int64_t retry_ms, const char *detail)
{
    char after[24];
    snprintf(after, sizeof after, "%lld", (long long)(retry_ms + 999) / 1000);
    http_add_header(r->res, "Retry-After", after);
    problem(r, 429, "Too Many Requests", NULL, detail);
}

#define MAX_TASKS_DETAIL "the store holds the most tasks it may (the api's --max-tasks); delete some first"
#define MAX_READY_DETAIL "too many occurrences are waiting to run (the api's --max-ready); retry later"

/* Answers a repeated create with the first one's task: 200, Idempotent-Replayed. */
static void idem_replay(Req *r, const char *id)
{
    char location[96];
    snprintf(location, sizeof location, "/api/v1/tasks/%s", id);
    http_add_header(r->res, "Location", location);
    http_add_header(r->res, "Idempotent-Replayed", "true");
    respond_task(r, id, 200);
}

/* Under an Idempotency-Key: 1 if this request is to create task ID (which may
 * become the id the key is pinned to); 0 after answering a replay, a reused
 * key (422) or a store failure. */
static int idem_admits(Req *r, const char *key, char id[TASK_ID_MAX + 1], IdemClaim *claim)
{
    char hash[STORE_IDEM_HASH_LEN + 1];
    idem_hash(r->http->body, r->http->body_len, hash);
    int rv = idem_begin(r->st, r->caller, key, hash, id, claim);
    if (rv != STORE_OK)
        store_problem(r, rv);
    else if (claim->verdict == IDEM_MISMATCH)
        problem(r, 422, "Unprocessable Content", "Idempotency-Key",
                "was used with a different body in the last 24 hours; use a new key for a new task");
    else if (claim->verdict == IDEM_REPLAY)
        idem_replay(r, id);
    return rv == STORE_OK && claim->verdict == IDEM_CREATE;
}

void api_tasks_create(Req *r)
{
    if (!body_acceptable(r))
        return;
    const char *key = http_header(r->http, "Idempotency-Key");
    if (key != NULL && !idem_key_valid(key)) {
        problem(r, 400, "Bad Request", "Idempotency-Key", "must be 1 to 255 visible ASCII characters");
        return;
    }
    TaskSpec *spec = parse_body(r, NULL);
    if (spec == NULL)
        return;
    char id[TASK_ID_MAX + 1], location[96];
    IdemClaim claim;
    if (api_tasks_room(r->st) <= 0) {
        task_spec_free(spec);
        too_many(r, 60000, MAX_TASKS_DETAIL);
        return;
    }
    task_new_id(r->now, id);
    if (key != NULL && !idem_admits(r, key, id, &claim)) {
        task_spec_free(spec);
        return;
    }
    task_spec_bind(spec, id);
    /* One round trip: the script checks --max-ready itself, and the answer
     * is rendered from what it wrote, not read back. */
    TaskCreate c = {.id = id,
                    .spec = spec,
                    .due_ms = task_first_due(spec, r->now, r->now),
                    .immediate = spec->stype == SCHEDULE_NOW};
    int rv = store_task_create(r->st, &c, r->now, api_create_max_ready(), 1);
    json_t *view = rv == STORE_OK ? api_view_task_spec(&c.written, spec->json) : NULL;
    record_clear(&c.written);
    task_spec_free(spec);
    if (rv == STORE_EEXIST && key != NULL) { /* a concurrent repeat created it */
        idem_replay(r, id);
        return;
    }
    if (rv == STORE_EFULL) {
        too_many(r, 5000, MAX_READY_DETAIL);
        return;
    }
    if (rv != STORE_OK) {
        store_problem(r, rv);
        return;
    }
    if (key != NULL && idem_finish(r->st, &claim, id) != STORE_OK)
        log_warn("idempotency record not marked done", "{s:s}", "task_id", id);
    api_tasks_counted(1);
    log_info("task created", "{s:s}", "task_id", id);
    snprintf(location, sizeof location, "/api/v1/tasks/%s", id);
    http_add_header(r->res, "Location", location);
    respond_view(r, view, 201);
}

void api_tasks_get(Req *r)
{
    respond_task(r, task_id(r), 200);
}

/* Parses If-Match ("3", "\"3\"", W/ forms refused); -1 when absent, -2 if bad. */
static int64_t if_match(Req *r)
{
    const char *h = http_header(r->http, "If-Match");
    if (h == NULL || strcmp(h, "*") == 0)
        return -1;
    char *end;
    const char *p = h[0] == '"' ? h + 1 : h;
    long long v = strtoll(p, &end, 10);
    if (end == p || v < 1 || (h[0] == '"' ? strcmp(end, "\"") : strcmp(end, "")) != 0)
        return -2;
    return v;
}

/* PUT bodies may carry the read-only fields a GET returned; they are dropped. */
static int strip_read_only(Req *r, json_t *body)
{
    json_t *id = json_object_get(body, "id");
    if (id != NULL && (!json_is_string(id) || strcmp(json_string_value(id), task_id(r)) != 0)) {
        problem(r, 400, "Bad Request", "id", "does not match the task in the URL");
        return -1;
    }
    json_object_del(body, "id");
    for (const char *const *f = api_view_read_only; *f; f++)
        json_object_del(body, *f);
    return 0;
}

/* 1 if the specs schedule the same occurrences (what an edit must not move). */
static int same_schedule(json_t *a, json_t *b)
{
    static const char *const fields[] = {"schedule", "start_at", "end_at", "jitter_s", NULL};
    for (const char *const *f = fields; *f; f++)
        if (!json_equal(json_object_get(a, *f), json_object_get(b, *f)) &&
            !(json_object_get(a, *f) == NULL && json_object_get(b, *f) == NULL))
            return 0;
    return 1;
}

/* Plans a PUT of SPEC over the stored task: keep its schedule, or settle what
 * the old schedule owes now (its misfire policy) and start the new one. */
static void plan_edit(Req *r, const TaskStored *old, const TaskSpec *spec, TaskReplace *rep,
                      int64_t *settle)
{
    rep->keep_schedule = same_schedule(old->spec, spec->json);
    rep->expected_pending = old->pending_ms;
    rep->immediate = !rep->keep_schedule && spec->stype == SCHEDULE_NOW;
    rep->due_ms = rep->keep_schedule ? -1 : task_first_due(spec, r->now, old->created_ms);
    TaskError err;
    TaskSpec *was = rep->keep_schedule || strcmp(old->state, "paused") == 0
                        ? NULL
                        : task_spec_from_json(json_incref(old->spec), &err);
    if (was == NULL)
        return;
    task_spec_bind(was, task_id(r));
    PlanInput in = {.expr = was->stype == SCHEDULE_CRON ? was->expr : NULL,
                    .tz = was->tz,
                    .offset_ms = was->offset_ms,
                    .anchor_ms = old->created_ms,
                    .due_ms = old->pending_ms,
                    .now_ms = r->now,
                    .threshold_ms = was->misfire_threshold_ms >= 0 ? was->misfire_threshold_ms
                                                                   : PLAN_DEFAULT_THRESHOLD_MS,
                    .misfire = was->misfire,
                    .end_at_ms = was->end_at_ms,
                    .max_runs = was->max_runs,
                    .dispatched = old->dispatched,
                    .excl = was->excl};
    rep->settle = settle;
    rep->nsettle = plan_settle(&in, settle, TASK_MISFIRE_RUN_ALL_CAP, &rep->skipped, &rep->coalesced);
    task_spec_free(was);
}

void api_tasks_replace(Req *r)
{
    int64_t expected = if_match(r), version;
    if (expected == -2) {
        problem(r, 400, "Bad Request", "If-Match", "must be the task's version, like \"3\"");
        return;
    }
    if (!body_acceptable(r))
        return;
    json_error_t jerr;
    json_t *body = json_loadb(r->http->body, r->http->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (body != NULL && json_is_object(body) && strip_read_only(r, body) != 0) {
        json_decref(body);
        return;
    }
    int kept = body != NULL && json_is_object(body) ? api_secret_keep(r->st, task_id(r), body) : STORE_OK;
    if (kept != STORE_OK) {
        json_decref(body);
        store_problem(r, kept);
        return;
    }
    TaskSpec *spec = body ? parse_body(r, body) : parse_body(r, NULL);
    if (spec == NULL)
        return;
    task_spec_bind(spec, task_id(r));
    int rv = STORE_ERETRY;
    for (int tries = 0; tries < 5 && rv == STORE_ERETRY; tries++) {
        TaskStored old;
        int64_t settle[TASK_MISFIRE_RUN_ALL_CAP];
        if ((rv = store_task_stored(r->st, task_id(r), &old)) != STORE_OK)
            break;
        TaskReplace rep = {.expected_version = expected};
        plan_edit(r, &old, spec, &rep, settle);
        json_decref(old.spec);
        rv = store_task_replace(r->st, task_id(r), spec, &rep, r->now, &version);
    }
    task_spec_free(spec);
    if (rv == STORE_ERETRY)
        problem(r, 503, "Service Unavailable", NULL,
                "the task kept being dispatched while it was edited; retry");
    else if (rv != STORE_OK)
        store_problem(r, rv);
    else
        respond_task(r, task_id(r), 200);
}

void api_tasks_delete(Req *r)
{
    int rv = store_task_delete(r->st, task_id(r), r->now);
    if (rv != STORE_OK) {
        store_problem(r, rv);
        return;
    }
    api_tasks_counted(-1);
    log_info("task deleted", "{s:s}", "task_id", task_id(r));
    r->res->status = 204;
}

/* Pause or resume: read, compute the due time, compare-and-set; retried when a
 * concurrent change moved the version. Pausing keeps the pending occurrence
 * (held) and resuming restores it, so the misfire policy decides what fell
 * due meanwhile; the due time computed here serves only a task that had none. */
static void set_state(Req *r, const char *state)
{
    int rv = STORE_ESTALE;
    for (int tries = 0; tries < 5 && rv == STORE_ESTALE; tries++) {
        TaskStored old;
        if ((rv = store_task_stored(r->st, task_id(r), &old)) != STORE_OK)
            break;
        TaskError err;
        TaskSpec *spec = task_spec_from_json(json_incref(old.spec), &err);
        if (spec != NULL)
            task_spec_bind(spec, task_id(r));
        int64_t due = spec && spec->stype == SCHEDULE_CRON ? task_first_due(spec, r->now, old.created_ms)
                                                           : -1;
        rv = store_task_set_state(r->st, task_id(r), old.version, state, due, r->now);
        task_spec_free(spec);
        json_decref(old.spec);
    }
    if (rv == STORE_ESTALE) /* no If-Match was sent: this is a conflict, not a precondition */
        problem(r, 409, "Conflict", NULL, "the task kept changing while its state was being set; retry");
    else if (rv != STORE_OK)
        store_problem(r, rv);
    else
        respond_task(r, task_id(r), 200);
}

void api_tasks_pause(Req *r)
{
    set_state(r, "paused");
}

void api_tasks_resume(Req *r)
{
    set_state(r, "active");
}

void api_tasks_trigger(Req *r)
{
    long long len = 0, pending = 0;
    int shard = store_shard_of(task_id(r), store_shards(r->st));
    int64_t wait = quota_take(trigger_quota, r->caller, clock_mono_ms());
    if (wait > 0) {
        too_many(r, wait, "this caller triggers faster than the api's --trigger-rate allows");
        return;
    }
    if (max_ready > 0 && store_ready_depth(r->st, &shard, 1, &len, &pending) == STORE_OK &&
        len >= max_ready) {
        too_many(r, 5000, MAX_READY_DETAIL);
        return;
    }
    int64_t sched;
    int rv = store_task_trigger(r->st, task_id(r), r->now, &sched);
    if (rv != STORE_OK) {
        store_problem(r, rv);
        return;
    }
    char at[CLOCK_RFC3339_LEN], occ[OCC_ID_MAX + 1];
    clock_format_rfc3339(sched, at);
    occurrence_id(occ, sizeof occ, task_id(r), sched);
    reply_json(r, 202,
               json_pack("{s:s,s:s,s:s}", "task_id", task_id(r), "occurrence_id", occ, "scheduled_at", at));
}

/* Reads a backfill body {"from", "to"} into [*from, *to): RFC 3339 instants,
 * from before to, to not after NOW. 0, or -1 with the problem answered. */
static int backfill_range(Req *r, json_t *body, int64_t *from, int64_t *to)
{
    const char *field = NULL, *why = "must be an RFC 3339 instant";
    json_t *f = json_object_get(body, "from"), *t = json_object_get(body, "to");
    const char *key;
    json_t *v;
    if (!json_is_object(body))
        field = "", why = "the body must be a JSON object {\"from\", \"to\"}";
    else if (!json_is_string(f) || clock_parse_rfc3339(json_string_value(f), from) != 0)
        field = "from";
    else if (!json_is_string(t) || clock_parse_rfc3339(json_string_value(t), to) != 0)
        field = "to";
    else if (*to <= *from)
        field = "to", why = "must be after from (the range [from, to) is empty or reversed)";
    else if (*to > r->now)
        field = "to", why = "must not be in the future: a backfill runs past occurrences";
    json_object_foreach(body, key, v)
    {
        if (field == NULL && strcmp(key, "from") != 0 && strcmp(key, "to") != 0)
            field = key, why = "is not a backfill field (from, to)";
    }
    if (field == NULL)
        return 0;
    problem(r, 400, "Bad Request", field[0] ? field : NULL, why);
    return -1;
}

/* Queues the occurrences of the stored task OLD in [FROM, TO), answering the
 * request; ESTALE when the task changed since it was read. */
static int backfill_queue(Req *r, const TaskStored *old, int64_t from, int64_t to, int64_t *sched)
{
    TaskError err;
    TaskSpec *spec = task_spec_from_json(json_incref(old->spec), &err);
    if (spec == NULL)
        return STORE_EIO;
    if (spec->stype != SCHEDULE_CRON || strcmp(old->state, "paused") == 0) {
        problem(r, 409, "Conflict", NULL,
                spec->stype != SCHEDULE_CRON
                    ? "backfill applies to cron tasks; trigger a one-time task instead"
                    : "the task is paused; resume it first");
        task_spec_free(spec);
        return STORE_OK;
    }
    task_spec_bind(spec, task_id(r));
    int n = backfill_occurrences(spec, old->created_ms, from, to, sched, BACKFILL_MAX);
    task_spec_free(spec);
    if (n < 0) {
        problem(r, 400, "Bad Request", "to",
                "the range holds more than 10000 occurrences; backfill it in parts");
        return STORE_OK;
    }
    long long queued = 0, already = 0;
    int rv = store_task_backfill(r->st, task_id(r), old->version, sched, n, r->now, &queued, &already);
    if (rv == STORE_OK)
        reply_json(r, 202,
                   json_pack("{s:s,s:i,s:I,s:I}", "task_id", task_id(r), "occurrences", n, "queued",
                             (json_int_t)queued, "already", (json_int_t)already));
    return rv;
}

/* POST /tasks/{id}/backfill {"from", "to"}: runs each occurrence of the
 * schedule in [from, to) once, as kind backfill (at most BACKFILL_MAX). */
void api_tasks_backfill(Req *r)
{
    int64_t from, to;
    if (!body_acceptable(r))
        return;
    json_t *body = json_loadb(r->http->body, r->http->body_len, 0, NULL);
    int rv = backfill_range(r, body, &from, &to);
    json_decref(body);
    if (rv != 0)
        return;
    int64_t *sched = xmalloc(BACKFILL_MAX * sizeof *sched);
    for (int tries = 0; tries < 3; tries++) { /* an edit meanwhile: plan again from the new spec */
        TaskStored old;
        if ((rv = store_task_stored(r->st, task_id(r), &old)) != STORE_OK)
            break;
        rv = backfill_queue(r, &old, from, to, sched);
        json_decref(old.spec);
        if (rv != STORE_ESTALE)
            break;
    }
    free(sched);
    if (rv != STORE_OK)
        store_problem(r, rv);
}
