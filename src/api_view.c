/* api_view: records from the store rendered as the REST API's JSON. */
#include "api_view.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "mem.h"
#include "store_slo.h"

const char *const api_view_read_only[] = {"state",    "version", "created_at", "updated_at", "next_run_at",
                                          "last_run", "runs",    "redacted",   "lateness", /* store_slo.c */
                                          NULL};

/* RFC 3339 of a time stored as ms; JSON null for an empty or missing one. */
static json_t *time_or_null(const char *ms)
{
    char buf[CLOCK_RFC3339_LEN];
    if (ms == NULL || ms[0] == '\0')
        return json_null();
    clock_format_rfc3339(strtoll(ms, NULL, 10), buf);
    return json_string(buf);
}

static json_t *json_or_null(const char *text)
{
    json_t *j = text && text[0] ? json_loads(text, 0, NULL) : NULL;
    return j ? j : json_null();
}

json_t *api_view_task(const Record *h)
{
    json_t *spec = json_or_null(record_get(h, "spec"));
    json_t *t = api_view_task_spec(h, spec);
    json_decref(spec);
    return t;
}

json_t *api_view_task_spec(const Record *h, json_t *spec)
{
    json_t *labels = json_object_get(spec, "labels"), *schedule = json_object_get(spec, "schedule");
    /* "o" steals a reference: give it one of its own for each member. */
    json_t *t = json_pack("{s:s?,s:O,s:o,s:o,s:O,s:O}", "id", record_get(h, "id"), "name",
                          json_object_get(spec, "name"), "labels",
                          labels ? json_incref(labels) : json_object(), "schedule",
                          schedule ? json_incref(schedule) : json_null(), "action",
                          json_object_get(spec, "action"), "timeout_s", json_object_get(spec, "timeout_s"));
    /* The policy members appear only when the spec has them, as it was sent. */
    static const char *const policy[] = {
        "retry",       "overlap",  "misfire", "misfire_threshold_s", "start_at", "end_at",
        "max_runs",    "jitter_s", "exclude", "exclude_cron",        "slo_ms",   "then",
        "concurrency", NULL};
    for (const char *const *p = policy; *p; p++)
        if (json_object_get(spec, *p) != NULL)
            json_object_set(t, *p, json_object_get(spec, *p));
    json_object_set_new(t, "state", json_string(record_get(h, "state")));
    json_object_set_new(t, "version", json_integer(record_ll(h, "version", 0)));
    json_object_set_new(t, "created_at", time_or_null(record_get(h, "created")));
    const char *updated = record_get(h, "updated"); /* never edited: left out, it is "created" */
    json_object_set_new(t, "updated_at",
                        time_or_null(updated && updated[0] ? updated : record_get(h, "created")));
    json_object_set_new(t, "next_run_at", time_or_null(record_get(h, "next")));
    json_object_set_new(t, "last_run", api_view_run(json_or_null(record_get(h, "last_run"))));
    json_object_set_new(t, "runs",
                        json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "succeeded",
                                  (json_int_t)record_ll(h, "runs_succeeded", 0), "failed",
                                  (json_int_t)record_ll(h, "runs_failed", 0), "dispatched",
                                  (json_int_t)record_ll(h, "dispatched", 0), "misfires_skipped",
                                  (json_int_t)record_ll(h, "misfires_skipped", 0), "misfires_coalesced",
                                  (json_int_t)record_ll(h, "misfires_coalesced", 0), "overlap_skipped",
                                  (json_int_t)record_ll(h, "overlap_skipped", 0), "excluded",
                                  (json_int_t)record_ll(h, "excluded", 0)));
    return t;
}

json_t *api_view_run(json_t *run)
{
    static const char *const times[][2] = {
        {"scheduled_ms", "scheduled_at"}, {"started_ms", "started_at"}, {"finished_ms", "finished_at"}};
    for (size_t i = 0; json_is_object(run) && i < sizeof times / sizeof times[0]; i++) {
        json_t *ms = json_object_get(run, times[i][0]);
        if (ms == NULL)
            continue;
        char text[CLOCK_RFC3339_LEN];
        if (json_is_integer(ms))
            clock_format_rfc3339(json_integer_value(ms), text);
        json_object_set_new(run, times[i][1], json_is_integer(ms) ? json_string(text) : json_null());
        json_object_del(run, times[i][0]);
    }
    return run;
}

json_t *api_view_dead(const Record *d)
{
    char at[CLOCK_RFC3339_LEN];
    const char *task = record_get(d, "task"), *occ = record_get(d, "occurrence"),
               *err = record_get(d, "error");
    clock_format_rfc3339(record_ll(d, "at", 0), at);
    /* A malformed entry's dead letter names no task or occurrence: null. */
    return json_pack("{s:s,s:s?,s:s?,s:i,s:s,s:s}", "id", record_get(d, "id"), "task_id",
                     task && task[0] ? task : NULL, "occurrence_id", occ && occ[0] ? occ : NULL, "attempts",
                     (int)record_ll(d, "attempts", 0), "error", err ? err : "", "dead_at", at);
}

json_t *api_view_event(const Record *e)
{
    json_t *o = json_pack("{s:s}", "id", record_get(e, "id"));
    /* Only these fields are the feed's; an event's other fields stay inside. */
    static const char *const shown[] = {"type", "task", "at", "run", "status", NULL};
    for (size_t i = 0; i < e->n; i++) {
        for (const char *const *f = shown; *f; f++) {
            if (strcmp(e->name[i], *f) != 0)
                continue;
            json_object_set_new(
                o, *f, strcmp(*f, "at") == 0 ? time_or_null(e->value[i]) : json_string(e->value[i]));
        }
    }
    return o;
}

static json_t *counts_json(const StoreCount *c, int n)
{
    json_t *o = json_object();
    for (int i = 0; i < n; i++)
        json_object_set_new(o, c[i].name, json_integer(c[i].n));
    return o;
}

/* {count, p50, p99, histogram: [{le, count}]} from the sorted samples. */
static json_t *lateness_json(const StoreStats *s)
{
    static const int64_t le[] = {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000};
    const int nle = (int)(sizeof le / sizeof le[0]);
    json_t *hist = json_array();
    /* The last bucket (le: null) holds everything past the largest bound. */
    for (int i = 0, j = 0; i <= nle; i++) {
        int c = 0;
        while (j < s->nlate && (i == nle || s->late[j] <= le[i]))
            j++, c++;
        json_array_append_new(
            hist, json_pack("{s:o,s:i}", "le", i < nle ? json_integer(le[i]) : json_null(), "count", c));
    }
    json_t *p50 = s->nlate ? json_integer(s->late[(s->nlate - 1) * 50 / 100]) : json_null();
    json_t *p99 = s->nlate ? json_integer(s->late[(s->nlate - 1) * 99 / 100]) : json_null();
    return json_pack("{s:i,s:o,s:o,s:o}", "count", s->nlate, "p50", p50, "p99", p99, "histogram", hist);
}

static json_t *throughput_json(const StoreStats *s)
{
    char start[CLOCK_RFC3339_LEN];
    clock_format_rfc3339(s->start_ms, start);
    json_t *ok = json_array(), *bad = json_array();
    for (int i = 0; i < STORE_STATS_BUCKETS; i++) {
        json_array_append_new(ok, json_integer(s->succeeded[i]));
        json_array_append_new(bad, json_integer(s->failed[i]));
    }
    return json_pack("{s:s,s:I,s:o,s:o}", "start", start, "bucket_ms", (json_int_t)s->bucket_ms,
                     "succeeded", ok, "failed", bad);
}

json_t *api_view_stats(const StoreStats *s)
{
    char at[CLOCK_RFC3339_LEN];
    clock_format_rfc3339(s->now_ms, at);
    json_t *tasks = counts_json(s->states, s->nstates);
    json_object_set_new(tasks, "total", json_integer(s->tasks_total));
    json_object_set_new(tasks, "counted", json_integer(s->tasks_counted));
    json_t *o = json_pack("{s:s,s:o}", "at", at, "tasks", tasks);
    json_object_set_new(o, "queue",
                        json_pack("{s:I,s:I}", "ready", (json_int_t)s->ready, "due", (json_int_t)s->due));
    json_object_set_new(o, "processes",
                        json_pack("{s:I,s:I}", "schedulers", (json_int_t)s->schedulers, "executors",
                                  (json_int_t)s->executors));
    json_object_set_new(o, "runs_last_hour", counts_json(s->outcomes, s->noutcomes));
    json_object_set_new(o, "throughput", throughput_json(s));
    json_object_set_new(o, "lateness_ms", lateness_json(s));
    json_object_set_new(o, "events_scanned", json_integer(s->events_scanned));
    return o;
}

/* Renders every record of L with VIEW into a new JSON array. */
static json_t *list_json(const RecordList *l, json_t *(*view)(const Record *))
{
    json_t *a = json_array();
    for (size_t i = 0; i < l->n; i++)
        json_array_append_new(a, view(&l->items[i]));
    return a;
}

int api_view_task_get(Store *st, const char *id, json_t **out)
{
    Record h = {0};
    int rv = store_task_get(st, id, &h);
    *out = rv == STORE_OK ? api_view_task(&h) : NULL;
    if (rv == STORE_OK && json_object_get(*out, "slo_ms") != NULL && /* store_slo.c */
        (rv = store_task_lateness(st, id, record_get(&h, "runs_late"), *out)) != STORE_OK) {
        json_decref(*out);
        *out = NULL;
    }
    record_clear(&h);
    return rv;
}

int api_view_task_list(Store *st, const TaskQuery *q, json_t **items, char next_cursor[TASK_ID_MAX + 1])
{
    RecordList l = {0};
    int rv = store_task_list(st, q, &l, next_cursor);
    *items = rv == STORE_OK ? list_json(&l, api_view_task) : NULL;
    record_list_clear(&l);
    return rv;
}

int api_view_dead_list(Store *st, int limit, json_t **items)
{
    RecordList l = {0};
    int rv = store_dead_list(st, limit, &l);
    *items = rv == STORE_OK ? list_json(&l, api_view_dead) : NULL;
    record_list_clear(&l);
    return rv;
}

int api_view_events_read(Store *st, const EventCursor *c, int count, json_t **events)
{
    RecordList l = {0};
    int rv = store_events_read(st, c, count, &l);
    *events = rv == STORE_OK ? list_json(&l, api_view_event) : NULL;
    record_list_clear(&l);
    return rv;
}

int api_view_stats_read(Store *st, int64_t now_ms, int scan, json_t **stats)
{
    StoreStats s;
    int rv = store_stats(st, now_ms, scan, &s);
    *stats = rv == STORE_OK ? api_view_stats(&s) : NULL;
    store_stats_free(&s);
    return rv;
}

int api_view_task_names(Store *st, json_t *items, const char *id_key)
{
    json_t *seen = json_object(), *item; /* id -> its index in ids */
    const char *ids[API_VIEW_NAMES_MAX], *id;
    size_t i;
    int n = 0;
    json_array_foreach(items, i, item)
    {
        id = json_string_value(json_object_get(item, id_key));
        if (id == NULL || json_object_get(seen, id) != NULL || n == API_VIEW_NAMES_MAX ||
            !task_id_valid(id))
            continue;
        json_object_set_new(seen, id, json_integer(n));
        ids[n++] = id;
    }
    char **names = xcalloc((size_t)n + 1, sizeof *names);
    int rv = n > 0 ? store_task_names(st, ids, n, names) : STORE_OK;
    json_array_foreach(items, i, item)
    {
        id = json_string_value(json_object_get(item, id_key));
        json_t *at = id ? json_object_get(seen, id) : NULL;
        const char *name = at ? names[json_integer_value(at)] : NULL;
        if (name != NULL)
            json_object_set_new(item, "task_name", json_string(name));
    }
    for (int j = 0; j < n; j++)
        free(names[j]);
    free(names);
    json_decref(seen);
    return rv;
}
