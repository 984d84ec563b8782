/* api: the REST API under /api/v1.
 *
 * Concurrency: libmicrohttpd's internal thread pool (--threads) handles
 * requests; each pool thread owns one Redis connection (service_store), so no
 * lock is shared on the request path. The api keeps no state of its own: every
 * write is one Lua script, so a request either stores everything or nothing.
 * One more thread (api_stream.c) reads the event streams for the live feed's
 * Server-Sent Events clients, whose connections are parked while idle. */
#include "api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api_events.h"
#include "api_stats.h"
#include "api_stream.h"
#include "auth.h"
#include "clock.h"
#include "log.h"
#include "mem.h"
#include "metrics.h"
#include "plan.h"
#include "quota.h"
#include "router.h"
#include "service.h"
#include "task.h"

typedef struct Req {
    const HttpRequest *http;
    HttpResponse *res;
    const RouteMatch *m;
    Store *st;
    int64_t now;
    unsigned scopes;     /* the caller's token scopes (all when no tokens are configured) */
    const char *caller;  /* the token's name, or "anonymous" */
    char token_name[72];
} Req;

/* Set once at start-up (the token set inside is swapped on SIGHUP). */
static AuthLive *tokens;
static const char *cors_origin;
static long max_tasks, max_ready;
static Quota *trigger_quota;

typedef void (*ApiHandler)(Req *r);

#define API_PAGE_BYTES (4u << 20) /* a list page stops growing past this much JSON */
#define API_LIST_CHUNK 8          /* tasks read from the store at a time, at most */

static void problem(Req *r, int status, const char *title, const char *field, const char *detail)
{
    json_t *p = json_pack("{s:s,s:s,s:i,s:s}", "type", "about:blank", "title", title, "status",
                          status, "detail", detail);
    if (field != NULL)
        json_object_set_new(p, "field", json_string(field));
    char *text = json_dumps(p, JSON_COMPACT);
    http_respond(r->res, status, "application/problem+json", text);
    free(text);
    json_decref(p);
}

/* Answers a store failure with the matching status. */
static void store_problem(Req *r, int rv)
{
    switch (rv) {
    case STORE_ENOTFOUND:
        problem(r, 404, "Not Found", NULL, "no task with this id");
        break;
    case STORE_ESTALE:
        problem(r, 412, "Precondition Failed", NULL, "the task has changed; re-read it and retry");
        break;
    case STORE_ECONFLICT:
        problem(r, 409, "Conflict", NULL, store_errstr(r->st));
        break;
    default:
        log_warn("store error", "{s:s,s:s}", "path", r->http->path, "error", store_errstr(r->st));
        problem(r, 503, "Service Unavailable", NULL, "the task store is unreachable; retry");
    }
}

static void reply_json(Req *r, int status, json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
    http_respond(r->res, status, "application/json", text);
    free(text);
    json_decref(body);
}

static const char *task_id(Req *r)
{
    return r->m->params[0];
}

/* 1 if the Content-Type's media type (before any parameters) is TYPE. */
static int media_type_is(const char *ct, const char *type)
{
    size_t n = strlen(type);
    return strncasecmp(ct, type, n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* Accepts JSON bodies; curl's default for -d (form-urlencoded) too, so the
 * README's one-liners work; anything else is 415. */
static int body_acceptable(Req *r)
{
    const char *ct = http_header(r->http, "Content-Type");
    if (ct == NULL || media_type_is(ct, "application/json") ||
        media_type_is(ct, "application/x-www-form-urlencoded"))
        return 1;
    problem(r, 415, "Unsupported Media Type", NULL, "send the body as application/json");
    return 0;
}

/* Parses and validates a task body; shell actions need the shell scope. */
static TaskSpec *parse_body(Req *r, json_t *json)
{
    TaskError err;
    TaskSpec *spec = json ? task_spec_from_json(json, &err)
                          : task_spec_parse(r->http->body, r->http->body_len, &err);
    if (spec == NULL) {
        problem(r, 400, "Bad Request", err.field, err.detail);
        return NULL;
    }
    const char *type = json_string_value(json_object_get(json_object_get(spec->json, "action"), "type"));
    if (strcmp(type, "shell") == 0 && !(r->scopes & AUTH_SHELL)) {
        problem(r, 403, "Forbidden", "action.type", "shell actions need a token with the shell scope");
        task_spec_free(spec);
        return NULL;
    }
    return spec;
}

/* Secrets (env values, webhook headers) are shown only to callers who may
 * change the task anyway: write or admin. */
static void redact_for(const Req *r, json_t *task)
{
    if (!(r->scopes & (AUTH_WRITE | AUTH_ADMIN)))
        task_redact(task);
}

static void respond_task(Req *r, const char *id, int status)
{
    json_t *task;
    int rv = store_task_get(r->st, id, &task, NULL);
    if (rv != STORE_OK) {
        store_problem(r, rv);
        return;
    }
    char etag[32];
    snprintf(etag, sizeof etag, "\"%lld\"", (long long)json_integer_value(json_object_get(task, "version")));
    http_add_header(r->res, "ETag", etag);
    redact_for(r, task);
    reply_json(r, status, task);
}

/* Answers 429 with Retry-After (seconds, at least 1). */
static void too_many(Req *r, int64_t retry_ms, const char *detail)
{
    char after[24];
    snprintf(after, sizeof after, "%lld", (long long)(retry_ms + 999) / 1000);
    http_add_header(r->res, "Retry-After", after);
    problem(r, 429, "Too Many Requests", NULL, detail);
}

/* 1 if the quotas let a new task in (a "now" task also needs room in its
 * shard's ready stream); 0 after answering. */
static int quota_allows_create(Req *r, const char *id, int now_task)
{
    long long count = 0, len = 0, pending = 0;
    int shard = store_shard_of(id, store_shards(r->st));
    if (max_tasks > 0 && store_task_count(r->st, &count) == STORE_OK && count >= max_tasks) {
        too_many(r, 60000, "the store holds the most tasks it may (the api's --max-tasks); delete some first");
        return 0;
    }
    if (now_task && max_ready > 0 && store_ready_depth(r->st, &shard, 1, &len, &pending) == STORE_OK &&
        len >= max_ready) {
        too_many(r, 5000, "too many occurrences are waiting to run (the api's --max-ready); retry later");
        return 0;
    }
    return 1;
}

static void tasks_create(Req *r)
{
    if (!body_acceptable(r))
        return;
    TaskSpec *spec = parse_body(r, NULL);
    if (spec == NULL)
        return;
    char id[25], location[64];
    task_new_id(r->now, id);
    if (!quota_allows_create(r, id, spec->kind == SCHEDULE_NOW)) {
        task_spec_free(spec);
        return;
    }
    int64_t due = task_first_due(spec, r->now, r->now);
    int rv = store_task_create(r->st, id, spec, r->now, due, spec->kind == SCHEDULE_NOW);
    task_spec_free(spec);
    if (rv != STORE_OK) {
        store_problem(r, rv);
        return;
    }
    log_info("task created", "{s:s}", "task_id", id);
    snprintf(location, sizeof location, "/api/v1/tasks/%s", id);
    http_add_header(r->res, "Location", location);
    respond_task(r, id, 201);
}

static void tasks_get(Req *r)
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
    static const char *const ro[] = {"state", "version", "created_at", "updated_at",
                                     "next_run_at", "last_run", "runs", "redacted", NULL};
    json_t *id = json_object_get(body, "id");
    if (id != NULL && (!json_is_string(id) || strcmp(json_string_value(id), task_id(r)) != 0)) {
        problem(r, 400, "Bad Request", "id", "does not match the task in the URL");
        return -1;
    }
    json_object_del(body, "id");
    for (const char *const *f = ro; *f; f++)
        json_object_del(body, *f);
    return 0;
}

/* 1 if the specs schedule the same occurrences (what an edit must not move). */
static int same_schedule(json_t *a, json_t *b)
{
    static const char *const fields[] = {"schedule", "start_at", "end_at", NULL};
    for (const char *const *f = fields; *f; f++)
        if (!json_equal(json_object_get(a, *f), json_object_get(b, *f)) &&
            !(json_object_get(a, *f) == NULL && json_object_get(b, *f) == NULL))
            return 0;
    return 1;
}

/* Plans a PUT of SPEC over the stored task: keep its schedule, or settle what
 * the old schedule owes now (its misfire policy) and start the new one. */
static void plan_edit(Req *r, const TaskStored *old, const TaskSpec *spec, TaskReplace *rep, int64_t *settle)
{
    rep->keep_schedule = same_schedule(old->spec, spec->json);
    rep->expected_pending = old->pending_ms;
    rep->immediate = !rep->keep_schedule && spec->kind == SCHEDULE_NOW;
    rep->due_ms = rep->keep_schedule ? -1 : task_first_due(spec, r->now, old->created_ms);
    TaskError err;
    TaskSpec *was = rep->keep_schedule || strcmp(old->state, "paused") == 0
                        ? NULL
                        : task_spec_from_json(json_incref(old->spec), &err);
    if (was == NULL)
        return;
    PlanInput in = {.expr = was->kind == SCHEDULE_CRON ? was->expr : NULL, .tz = was->tz,
                    .anchor_ms = old->created_ms, .due_ms = old->pending_ms, .now_ms = r->now,
                    .threshold_ms = was->misfire_threshold_ms >= 0 ? was->misfire_threshold_ms
                                                                   : PLAN_DEFAULT_THRESHOLD_MS,
                    .misfire = was->misfire, .end_at_ms = was->end_at_ms, .max_runs = was->max_runs,
                    .dispatched = old->dispatched};
    rep->settle = settle;
    rep->nsettle = plan_settle(&in, settle, TASK_MISFIRE_RUN_ALL_CAP, &rep->skipped, &rep->coalesced);
    task_spec_free(was);
}

static void tasks_replace(Req *r)
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
    TaskSpec *spec = body ? parse_body(r, body) : parse_body(r, NULL);
    if (spec == NULL)
        return;
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
        problem(r, 503, "Service Unavailable", NULL, "the task kept being dispatched while it was edited; retry");
    else if (rv != STORE_OK)
        store_problem(r, rv);
    else
        respond_task(r, task_id(r), 200);
}

static void tasks_delete(Req *r)
{
    int rv = store_task_delete(r->st, task_id(r), r->now);
    if (rv != STORE_OK) {
        store_problem(r, rv);
        return;
    }
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
        int64_t due = spec && spec->kind == SCHEDULE_CRON ? task_first_due(spec, r->now, old.created_ms) : -1;
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

static void tasks_pause(Req *r)
{
    set_state(r, "paused");
}

static void tasks_resume(Req *r)
{
    set_state(r, "active");
}

static void tasks_trigger(Req *r)
{
    long long len = 0, pending = 0;
    int shard = store_shard_of(task_id(r), store_shards(r->st));
    int64_t wait = quota_take(trigger_quota, r->caller, clock_mono_ms());
    if (wait > 0) {
        too_many(r, wait, "this caller triggers faster than the api's --trigger-rate allows");
        return;
    }
    if (max_ready > 0 && store_ready_depth(r->st, &shard, 1, &len, &pending) == STORE_OK && len >= max_ready) {
        too_many(r, 5000, "too many occurrences are waiting to run (the api's --max-ready); retry later");
        return;
    }
    int64_t sched;
    int rv = store_task_trigger(r->st, task_id(r), r->now, &sched);
    if (rv != STORE_OK) {
        store_problem(r, rv);
        return;
    }
    char at[CLOCK_RFC3339_LEN], occ[96];
    clock_format_rfc3339(sched, at);
    snprintf(occ, sizeof occ, "%s:%lld", task_id(r), (long long)sched);
    reply_json(r, 202, json_pack("{s:s,s:s,s:s}", "task_id", task_id(r), "occurrence_id", occ,
                                 "scheduled_at", at));
}

/* Reads an integer query argument in [lo, hi]; DEF when absent; -1 if bad. */
static long query_int(Req *r, const char *name, long def, long lo, long hi)
{
    const char *v = http_query(r->http, name);
    if (v == NULL)
        return def;
    char *end;
    long n = strtol(v, &end, 10);
    if (*v == '\0' || *end != '\0' || n < lo || n > hi) {
        char detail[96];
        snprintf(detail, sizeof detail, "must be an integer from %ld to %ld", lo, hi);
        problem(r, 400, "Bad Request", name, detail);
        return -1;
    }
    return n;
}

/* label=k=v (repeatable, all must hold) and sort=created|-created. */
static int list_filters(Req *r, TaskQuery *q)
{
    const char *sort = http_query(r->http, "sort");
    q->nlabels = http_query_all(r->http, "label", q->labels, TASK_QUERY_LABELS_MAX);
    if (q->nlabels > TASK_QUERY_LABELS_MAX) {
        problem(r, 400, "Bad Request", "label", "at most 8 label filters");
        return -1;
    }
    for (int i = 0; i < q->nlabels; i++) {
        const char *eq = strchr(q->labels[i], '=');
        if (eq == NULL || eq == q->labels[i] || eq - q->labels[i] > 63 || strlen(eq + 1) > 255) {
            problem(r, 400, "Bad Request", "label", "must be key=value (a key of 1-63 bytes)");
            return -1;
        }
    }
    static const char *const sorts[] = {"-created", "created", "name", "next_run", NULL};
    int k = 0;
    while (sort != NULL && sorts[k] != NULL && strcmp(sort, sorts[k]) != 0)
        k++;
    if (sort != NULL && sorts[k] == NULL) {
        problem(r, 400, "Bad Request", "sort", "must be -created (newest first), created, name or next_run");
        return -1;
    }
    q->oldest_first = k == 1;
    q->order = k == 2 ? TASK_ORDER_NAME : k == 3 ? TASK_ORDER_NEXT_RUN : TASK_ORDER_CREATED;
    return 0;
}

/* Lists Q's page in chunks and stops early once the page holds
 * API_PAGE_BYTES of JSON, so one request of big tasks cannot take the api's
 * memory (a shorter page with a next_cursor is still a page). */
static int list_within_budget(Store *st, const TaskQuery *q, json_t **items, char next[TASK_ID_MAX + 1])
{
    TaskQuery chunk = *q;
    char cursor[TASK_ID_MAX + 1];
    size_t bytes = 0;
    int rv = STORE_OK;
    *items = json_array();
    next[0] = '\0';
    while ((int)json_array_size(*items) < q->limit && bytes < API_PAGE_BYTES) {
        json_t *part;
        size_t have = json_array_size(*items), room = API_LIST_CHUNK;
        if (have > 0) /* no more than the budget's room, at the average size so far */
            room = (API_PAGE_BYTES - bytes) / (bytes / have) + 1;
        chunk.limit = q->limit - (int)have;
        chunk.limit = (size_t)chunk.limit < room ? chunk.limit : (int)(room < API_LIST_CHUNK ? room : API_LIST_CHUNK);
        if ((rv = store_task_list(st, &chunk, &part, next)) != STORE_OK)
            break;
        size_t i, got = json_array_size(part);
        json_t *item;
        json_array_foreach(part, i, item)
            bytes += json_dumpb(item, NULL, 0, JSON_COMPACT) + 1;
        json_array_extend(*items, part);
        json_decref(part);
        if ((int)got < chunk.limit || next[0] == '\0') /* the end, or the store's scan bound */
            break;
        snprintf(cursor, sizeof cursor, "%s", next);
        chunk.cursor = cursor;
    }
    if (rv != STORE_OK) {
        json_decref(*items);
        *items = NULL;
    }
    return rv;
}

static void tasks_list(Req *r)
{
    TaskQuery q = {.cursor = http_query(r->http, "cursor"), .state = http_query(r->http, "state"),
                   .name_prefix = http_query(r->http, "name_prefix")};
    long limit = query_int(r, "limit", 50, 1, 500);
    if (limit < 0)
        return;
    q.limit = (int)limit;
    if (q.cursor != NULL && !task_id_valid(q.cursor)) {
        problem(r, 400, "Bad Request", "cursor", "is not a cursor this API returned");
        return;
    }
    if (q.state != NULL && strcmp(q.state, "active") != 0 && strcmp(q.state, "paused") != 0 &&
        strcmp(q.state, "completed") != 0) {
        problem(r, 400, "Bad Request", "state", "must be active, paused or completed");
        return;
    }
    if (q.name_prefix != NULL && strlen(q.name_prefix) > TASK_NAME_MAX * 4) {
        problem(r, 400, "Bad Request", "name_prefix", "is too long");
        return;
    }
    if (list_filters(r, &q) != 0)
        return;
    json_t *items;
    char next[TASK_ID_MAX + 1];
    int rv = list_within_budget(r->st, &q, &items, next);
    if (rv == STORE_ECONFLICT) { /* only a sorted list says so: too many tasks, or a cursor gone */
        problem(r, 400, "Bad Request", q.cursor && strstr(store_errstr(r->st), "cursor") ? "cursor" : "sort",
                store_errstr(r->st));
        return;
    }
    if (rv != STORE_OK) {
        store_problem(r, rv);
        return;
    }
    size_t i;
    json_t *item;
    json_array_foreach(items, i, item)
        redact_for(r, item);
    reply_json(r, 200, json_pack("{s:o,s:s?}", "items", items, "next_cursor", next[0] ? next : NULL));
}

static void runs_list(Req *r)
{
    long limit = query_int(r, "limit", 50, 1, 1000);
    if (limit < 0)
        return;
    json_t *task, *items;
    int rv = store_task_get(r->st, task_id(r), &task, NULL);
    if (rv == STORE_OK) {
        json_decref(task);
        rv = store_runs_list(r->st, task_id(r), (int)limit, &items);
    }
    if (rv != STORE_OK)
        store_problem(r, rv);
    else
        reply_json(r, 200, json_pack("{s:o}", "items", items));
}

static void events_get(Req *r) { api_events_get(r->http, r->res, r->st); }
static void events_stream(Req *r) { api_stream_open(r->http, r->res, r->st); }
static void stats_get(Req *r) { api_stats_get(r->http, r->res, r->st, r->now); }

static void dead_list(Req *r)
{
    long limit = query_int(r, "limit", 50, 1, 1000);
    if (limit < 0)
        return;
    json_t *items;
    int rv = store_dead_list(r->st, (int)limit, &items);
    if (rv == STORE_OK && (rv = store_task_names(r->st, items, "task_id")) != STORE_OK)
        json_decref(items);
    if (rv != STORE_OK)
        store_problem(r, rv);
    else
        reply_json(r, 200, json_pack("{s:o}", "items", items));
}

static void dead_retry(Req *r)
{
    int rv = store_dead_retry(r->st, r->m->params[0], r->now);
    if (rv == STORE_ENOTFOUND)
        problem(r, 404, "Not Found", NULL, "no such dead occurrence, or its task is gone");
    else if (rv != STORE_OK)
        store_problem(r, rv);
    else
        reply_json(r, 202, json_pack("{s:s}", "id", r->m->params[0]));
}

typedef struct Preview {
    const char *cron, *zone;
    int count;
    int64_t after;
    CronExpr *expr;
    const Tz *tz;
    char field[32], err[192];
} Preview;

/* Names the bad field; ERR, if not NULL, replaces p->err. */
static int preview_fail(Preview *p, const char *field, const char *err)
{
    snprintf(p->field, sizeof p->field, "%s", field);
    if (err != NULL)
        snprintf(p->err, sizeof p->err, "%s", err);
    return -1;
}

/* Validates a preview request body into P; -1 with p->field and p->err. */
static int preview_parse(json_t *body, Preview *p)
{
    static const char *const keys[] = {"cron", "timezone", "count", "from", NULL};
    const char *key;
    json_t *v, *count = json_object_get(body, "count"), *from = json_object_get(body, "from");
    if (!json_is_object(body))
        return preview_fail(p, "", "the body must be a JSON object");
    json_object_foreach(body, key, v) {
        int known = 0;
        for (const char *const *k = keys; *k; k++)
            known |= strcmp(*k, key) == 0;
        if (!known)
            return preview_fail(p, key, "unknown field");
    }
    p->cron = json_string_value(json_object_get(body, "cron"));
    p->zone = json_object_get(body, "timezone") ? json_string_value(json_object_get(body, "timezone")) : "UTC";
    p->count = count ? (int)json_integer_value(count) : 5;
    if (p->cron == NULL)
        return preview_fail(p, "cron", "is required, as a string");
    if (p->zone == NULL)
        return preview_fail(p, "timezone", "must be a string");
    if (count && (!json_is_integer(count) || p->count < 1 || p->count > 100))
        return preview_fail(p, "count", "must be an integer from 1 to 100");
    if (from && (!json_is_string(from) || clock_parse_rfc3339(json_string_value(from), &p->after) != 0))
        return preview_fail(p, "from", "must be an RFC 3339 instant");
    if ((p->expr = cron_parse(p->cron, p->err, sizeof p->err)) == NULL)
        return preview_fail(p, "cron", NULL);
    if ((p->tz = tz_get(p->zone, p->err, sizeof p->err)) == NULL)
        return preview_fail(p, "timezone", NULL);
    return 0;
}

/* POST /cron/preview {"cron", "timezone", "count", "from"}: the next fire
 * times, in UTC and in the zone's local time, for forms to show. */
static void cron_preview(Req *r)
{
    if (!body_acceptable(r))
        return;
    json_t *body = json_loadb(r->http->body, r->http->body_len, 0, NULL);
    Preview p = {.after = r->now};
    if (preview_parse(body, &p) != 0) {
        problem(r, 400, "Bad Request", p.field, p.err);
    } else {
        json_t *items = json_array();
        int64_t t = p.after;
        for (int i = 0; i < p.count && (t = cron_next(p.expr, p.tz, r->now, t)) >= 0; i++) {
            char utc[CLOCK_RFC3339_LEN], local[TZ_FORMAT_MAX];
            clock_format_rfc3339(t, utc);
            tz_format(p.tz, t, local, sizeof local);
            json_array_append_new(items, json_pack("{s:s,s:s}", "utc", utc, "local", local));
        }
        reply_json(r, 200, json_pack("{s:s,s:s,s:o}", "cron", p.cron, "timezone", p.zone, "items", items));
    }
    cron_free(p.expr);
    json_decref(body);
}

static const Route routes[] = {
    {"POST", "/api/v1/tasks", tasks_create, AUTH_WRITE, "tasks.create"},
    {"GET", "/api/v1/tasks", tasks_list, AUTH_READ, "tasks.list"},
    {"GET", "/api/v1/tasks/{id}", tasks_get, AUTH_READ, "tasks.get"},
    {"PUT", "/api/v1/tasks/{id}", tasks_replace, AUTH_WRITE, "tasks.replace"},
    {"DELETE", "/api/v1/tasks/{id}", tasks_delete, AUTH_WRITE, "tasks.delete"},
    {"POST", "/api/v1/tasks/{id}/pause", tasks_pause, AUTH_WRITE, "tasks.pause"},
    {"POST", "/api/v1/tasks/{id}/resume", tasks_resume, AUTH_WRITE, "tasks.resume"},
    {"POST", "/api/v1/tasks/{id}/trigger", tasks_trigger, AUTH_WRITE, "tasks.trigger"},
    {"GET", "/api/v1/tasks/{id}/runs", runs_list, AUTH_READ, "runs.list"},
    {"GET", "/api/v1/dead", dead_list, AUTH_READ, "dead.list"},
    {"POST", "/api/v1/cron/preview", cron_preview, AUTH_READ, "cron.preview"},
    {"POST", "/api/v1/dead/{id}/retry", dead_retry, AUTH_ADMIN, "dead.retry"},
    {"GET", "/api/v1/events", events_get, AUTH_READ, "events.get"},
    {"GET", "/api/v1/events/stream", events_stream, AUTH_READ, "events.stream"},
    {"GET", "/api/v1/stats", stats_get, AUTH_READ, "stats.get"},
};

static void record(const char *route, int status, int64_t started)
{
    char labels[128];
    snprintf(labels, sizeof labels, "route=\"%s\",status=\"%d\"", route, status);
    metrics_add("dts_http_requests_total", labels, 1);
    snprintf(labels, sizeof labels, "route=\"%s\"", route);
    metrics_observe("dts_http_request_seconds", labels, (double)(clock_mono_ms() - started) / 1000.0);
}

/* Who is calling: 1 if the request may go on (r->scopes and r->caller set),
 * 0 after answering 401. With no tokens configured everyone has every scope
 * (the api then listens on loopback only). */
static int authenticate(Req *r)
{
    r->scopes = AUTH_READ | AUTH_WRITE | AUTH_SHELL | AUTH_ADMIN;
    r->caller = "anonymous";
    if (tokens == NULL)
        return 1;
    r->scopes = auth_live_check(tokens, http_header(r->http, "Authorization"), r->token_name,
                                sizeof r->token_name);
    if (r->scopes != 0) {
        r->caller = r->token_name;
        return 1;
    }
    http_add_header(r->res, "WWW-Authenticate", "Bearer realm=\"dts\"");
    problem(r, 401, "Unauthorized", NULL, "send a valid API token as Authorization: Bearer TOKEN");
    return 0;
}

/* CORS is off unless --cors-origin names the one origin allowed. Returns 1
 * if the request was a preflight, now answered. */
static int cors(Req *r)
{
    const char *origin = http_header(r->http, "Origin");
    if (cors_origin == NULL || origin == NULL || strcmp(origin, cors_origin) != 0)
        return 0;
    http_add_header(r->res, "Access-Control-Allow-Origin", cors_origin);
    http_add_header(r->res, "Vary", "Origin");
    if (strcmp(r->http->method, "OPTIONS") != 0)
        return 0;
    http_add_header(r->res, "Access-Control-Allow-Methods", "GET, POST, PUT, DELETE");
    http_add_header(r->res, "Access-Control-Allow-Headers", "Authorization, Content-Type, If-Match");
    http_add_header(r->res, "Access-Control-Max-Age", "600");
    r->res->status = 204;
    return 1;
}

/* Every request that may change something leaves an audit line (no token in it). */
static void audit(const Req *r, const char *route)
{
    if (strcmp(r->http->method, "GET") == 0 || strcmp(r->http->method, "HEAD") == 0)
        return;
    log_info("audit", "{s:s,s:s,s:s,s:s,s:i}", "caller", r->caller, "method", r->http->method,
             "route", route, "path", r->http->path, "status", r->res->status);
}

static void dispatch(Req *r, RouteMatch *m)
{
    /* HEAD is GET without a body (libmicrohttpd drops it). */
    const char *method = strcmp(r->http->method, "HEAD") == 0 ? "GET" : r->http->method;
    int rv = router_match(routes, sizeof routes / sizeof routes[0], method, r->http->path, m);
    if (rv == ROUTER_NOT_FOUND) {
        problem(r, 404, "Not Found", NULL, "no such resource");
    } else if (rv == ROUTER_METHOD_NOT_ALLOWED) {
        http_add_header(r->res, "Allow", m->allow);
        problem(r, 405, "Method Not Allowed", NULL, "this resource does not take that method");
    } else if (!(r->scopes & (unsigned)m->route->scope)) {
        problem(r, 403, "Forbidden", NULL, "this token's scopes do not allow that");
    } else if (m->nparams > 0 && !task_id_valid(m->params[0])) {
        problem(r, 404, "Not Found", NULL, "no such resource");
    } else {
        r->st = service_store();
        store_wait_shortfall(r->st);
        ((ApiHandler)m->route->handler)(r);
        if (store_wait_shortfall(r->st)) /* applied on the primary, not yet on its replicas */
            http_add_header(r->res, "Dts-Redis-Wait", "short");
    }
    m->route = rv == ROUTER_OK ? m->route : NULL;
}

static void request_cb(const HttpRequest *http, HttpResponse *res, void *ud)
{
    int64_t started = clock_mono_ms();
    RouteMatch m = {.route = NULL};
    Req r = {.http = http, .res = res, .m = &m, .now = clock_shared_ms()};
    if (service_probe(http, res) || cors(&r))
        return;
    if (authenticate(&r))
        dispatch(&r, &m);
    const char *route = m.route ? m.route->name : "unmatched";
    audit(&r, route);
    record(route, res->status, started);
}

/* SIGHUP: reads the tokens file again (revoking a token needs no restart). */
static void tokens_reload(const char *listen)
{
    char err[160];
    service_reload = 0;
    if (tokens == NULL) {
        log_warn("SIGHUP: no tokens file to reload", NULL);
        return;
    }
    int n = auth_live_reload(tokens, !http_is_loopback(listen), err, sizeof err);
    if (n < 0)
        log_error("tokens not reloaded; the previous ones stay", "{s:s}", "error", err);
    else
        log_info("tokens reloaded", "{s:i}", "tokens", n);
}

int api_main(int argc, char **argv)
{
    static ServiceConfig cfg;
    static const char *listen, *tokens_file, *cors, *hosts;
    static long threads, per_ip, trigger_rate, streams;
    static const Option opts[] = {
        {"listen", OPT_STR, &listen, "127.0.0.1:8321", 0, 0, "address to serve on (HOST:PORT)"},
        {"tokens", OPT_STR, &tokens_file, "", 0, 0, "API tokens file (NAME SCOPES SHA256HEX lines), also DTS_TOKENS_FILE; required beyond loopback"},
        {"cors-origin", OPT_STR, &cors, "", 0, 0, "the one browser origin allowed cross-origin (CORS is off without it)"},
        {"threads", OPT_INT, &threads, "4", 1, 256, "request threads (one Redis connection each)"},
        {"stream-clients", OPT_INT, &streams, "64", 1, 10000, "live feed streams (GET /api/v1/events/stream) at once; more get 503"},
        HTTP_GUARD_OPTIONS(hosts, per_ip),
        {"max-tasks", OPT_INT, &max_tasks, "100000", 0, 1000000000, "tasks the store may hold; more are refused with 429 (0: no limit)"},
        {"max-ready", OPT_INT, &max_ready, "100000", 0, 1000000000, "occurrences waiting in one shard's ready stream before triggers get 429 (0: no limit)"},
        {"trigger-rate", OPT_INT, &trigger_rate, "100", 0, 100000, "manual triggers a second per token (bursts of 2 s' worth) before 429 (0: no limit)"},
        SERVICE_OPTIONS(cfg),
        {0},
    };
    int rv = service_init("api", "Serves the REST API under /api/v1.", opts, argc, argv, &cfg);
    if (rv != 0)
        return rv - 1;
    char err[160];
    TokenSet *set;
    if ((rv = service_tokens("api", tokens_file, listen, &set)) != 0)
        return rv;
    tokens = set ? auth_live_new(set, tokens_file[0] ? tokens_file : getenv("DTS_TOKENS_FILE")) : NULL;
    cors_origin = cors[0] ? cors : NULL;
    trigger_quota = quota_new((double)trigger_rate, 2.0 * (double)trigger_rate);
    ReqGuard *guard;
    if ((rv = service_guard("api", hosts, cors_origin, &guard)) != 0)
        return rv;
    int64_t redis_now;
    if (service_wait_redis(service_store()) != 0 || store_time(service_store(), &redis_now) != STORE_OK)
        return 1;
    metrics_declare("dts_http_requests_total", METRIC_COUNTER, "HTTP requests by route and status.");
    metrics_declare("dts_http_request_seconds", METRIC_HISTOGRAM, "HTTP request latency by route.");
    HttpConfig hc = {.listen = listen, .max_body = TASK_BODY_MAX, .threads = (unsigned)threads,
                     .per_ip_connections = (unsigned)per_ip, .guard = guard, .handler = request_cb};
    if (api_stream_start(service_store, service_store_release, (int)streams) != 0) {
        fprintf(stderr, "dts api: cannot start the event stream thread\n");
        reqguard_free(guard);
        return 1;
    }
    HttpServer *srv = httpd_start(&hc, err, sizeof err);
    if (srv == NULL) {
        fprintf(stderr, "dts api: %s\n", err);
        api_stream_stop(0);
        reqguard_free(guard);
        return 1;
    }
    log_info("api listening", "{s:s,s:i}", "listen", listen, "port", httpd_port(srv));
    /* Requests decide on Redis's clock: keep the shared clock in step with it. */
    for (int64_t synced = clock_mono_ms(); !service_stopping; clock_sleep_ms(100)) {
        if (clock_mono_ms() - synced >= 1000 && store_time(service_store(), &redis_now) == STORE_OK)
            synced = clock_mono_ms();
        if (service_reload)
            tokens_reload(listen);
    }
    log_info("api stopping", NULL);
    api_stream_stop(2000);
    httpd_stop(srv);
    reqguard_free(guard);
    service_store_release();
    auth_live_free(tokens);
    quota_free(trigger_quota);
    return 0;
}
