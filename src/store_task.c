/* store_task: tasks as the api sees them: create, replace, read, list, delete,
 * pause and resume, trigger, and run history. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "mem.h"
#include "store_private.h"

/* Adds the spec-derived hash fields, as name/value pairs: the spec itself,
 * and what the scheduler and executor read without parsing it. */
static void add_spec_fields(Args *a, const TaskSpec *spec)
{
    char *text = json_dumps(spec->json, JSON_COMPACT | JSON_PRESERVE_ORDER);
    args_add(a, "spec");
    args_add(a, text);
    free(text);
    args_add(a, "name");
    args_add(a, spec->name);
    args_add(a, "kind");
    args_add(a, task_kind_name(spec->kind));
    args_add(a, "cron");
    args_add(a, spec->cron ? spec->cron : "");
    args_add(a, "tz");
    args_add(a, spec->timezone ? spec->timezone : "");
    args_add(a, "overlap");
    args_add(a, task_overlap_name(spec->overlap));
    args_add(a, "misfire");
    args_add(a, task_misfire_name(spec->misfire));
    args_add(a, "misfire_ms");
    args_addf(a, "%lld", (long long)spec->misfire_threshold_ms);
    args_add(a, "end_at");
    args_addf(a, "%lld", (long long)spec->end_at_ms);
    args_add(a, "max_runs");
    args_addf(a, "%lld", (long long)spec->max_runs);
}

/* Adds the keys NAMES (NULL-terminated) of task ID's shard to A, in order.
 * Per-task keys (task, runs, runidx) carry the id; the others are the shard's. */
static void add_keys(Args *a, const char *prefix, int shards, const char *id, const char *const *names)
{
    char k[KEY_MAX];
    int shard = store_shard_of(id, shards);
    for (; *names; names++) {
        int per_task = strcmp(*names, "task") == 0 || strcmp(*names, "runs") == 0 ||
                       strcmp(*names, "runidx") == 0 || strcmp(*names, "held") == 0;
        store_key(k, sizeof k, prefix, shard, *names, per_task ? id : NULL);
        args_add(a, k);
    }
}

/* The create script's keys (5) and arguments for a new task. */
static void create_args(const char *prefix, int shards, const char *id, const TaskSpec *spec,
                        int64_t now_ms, int64_t due_ms, int immediate, Args *a)
{
    char ms[32];
    static const char *const names[] = {"task", "tasks", "due", "ready", "events", NULL};
    add_keys(a, prefix, shards, id, names);
    args_add(a, id);
    args_add(a, ms_str(ms, now_ms));
    args_add(a, ms_str(ms, due_ms));
    args_add(a, immediate ? "1" : "0");
    args_add(a, EVENTS_MAXLEN);
    add_spec_fields(a, spec);
}

int store_task_create(Store *st, const char *id, const TaskSpec *spec, int64_t now_ms,
                      int64_t due_ms, int immediate)
{
    Args a = {0};
    create_args(st->prefix, st->shards, id, spec, now_ms, due_ms, immediate, &a);
    return store_eval_int(st, SCRIPT_CREATE, 5, &a, NULL);
}

int store_task_create_argv(const char *prefix, int shards, const char *id, const TaskSpec *spec,
                           int64_t now_ms, int64_t due_ms, char ***argv, size_t **lens)
{
    Args a = {0};
    create_args(prefix, shards, id, spec, now_ms, due_ms, 0, &a);
    *argv = a.v;
    *lens = a.len;
    return a.n;
}

int store_task_replace(Store *st, const char *id, const TaskSpec *spec, const TaskReplace *rep, int64_t now_ms,
                       int64_t *version)
{
    char ms[32];
    Args a = {0};
    static const char *const names[] = {"task", "due", "ready", "events", "held", NULL};
    add_keys(&a, st->prefix, st->shards, id, names);
    args_add(&a, id);
    args_add(&a, rep->expected_version < 0 ? "" : ms_str(ms, rep->expected_version));
    args_add(&a, ms_str(ms, now_ms));
    args_add(&a, rep->keep_schedule ? "keep" : "reschedule");
    args_add(&a, rep->expected_pending < 0 ? "" : ms_str(ms, rep->expected_pending));
    args_add(&a, ms_str(ms, rep->due_ms));
    args_add(&a, rep->immediate ? "1" : "0");
    args_add(&a, EVENTS_MAXLEN);
    args_add(&a, ms_str(ms, rep->skipped));
    args_add(&a, ms_str(ms, rep->coalesced));
    args_addf(&a, "%d", rep->nsettle);
    for (int i = 0; i < rep->nsettle; i++)
        args_add(&a, ms_str(ms, rep->settle[i]));
    add_spec_fields(&a, spec);
    long long v = 0;
    int rv = store_eval_int(st, SCRIPT_REPLACE, 5, &a, &v);
    *version = v;
    return rv;
}

int store_task_delete(Store *st, const char *id, int64_t now_ms)
{
    char ms[32];
    Args a = {0};
    static const char *const names[] = {"task", "tasks", "due", "runs", "runidx", "events", "held", NULL};
    add_keys(&a, st->prefix, st->shards, id, names);
    args_add(&a, id);
    args_add(&a, ms_str(ms, now_ms));
    args_add(&a, EVENTS_MAXLEN);
    long long n = 0;
    int rv = store_eval_int(st, SCRIPT_DELETE, 7, &a, &n);
    return rv == STORE_OK && n == 0 ? STORE_ENOTFOUND : rv;
}

int store_task_set_state(Store *st, const char *id, int64_t version, const char *state,
                         int64_t due_ms, int64_t now_ms)
{
    char ms[32];
    Args a = {0};
    static const char *const names[] = {"task", "due", "events", "held", NULL};
    add_keys(&a, st->prefix, st->shards, id, names);
    args_add(&a, id);
    args_add(&a, ms_str(ms, version));
    args_add(&a, state);
    args_add(&a, ms_str(ms, due_ms));
    args_add(&a, ms_str(ms, now_ms));
    args_add(&a, EVENTS_MAXLEN);
    return store_eval_int(st, SCRIPT_SET_STATE, 4, &a, NULL);
}

int store_task_trigger(Store *st, const char *id, int64_t now_ms, int64_t *sched_ms)
{
    char ms[32];
    Args a = {0};
    static const char *const names[] = {"task", "ready", "events", "due", NULL};
    add_keys(&a, st->prefix, st->shards, id, names);
    args_add(&a, id);
    args_add(&a, ms_str(ms, now_ms));
    args_add(&a, EVENTS_MAXLEN);
    long long sched = 0;
    int rv = store_eval_int(st, SCRIPT_TRIGGER, 4, &a, &sched);
    *sched_ms = sched;
    return rv;
}

int store_task_stored(Store *st, const char *id, TaskStored *out)
{
    char k[KEY_MAX];
    memset(out, 0, sizeof *out);
    skey(st, k, store_shard_of(id, st->shards), "task", id);
    redisReply *r = rconn_cmd(st->rc, "HMGET %s version state next held_due created dispatched spec", k);
    if (r == NULL)
        return store_io_error(st);
    const char *v[7] = {0};
    for (int i = 0; i < 7; i++)
        v[i] = reply_str(reply_elem(r, (size_t)i));
    int rv = r->type != REDIS_REPLY_ARRAY ? STORE_EIO : v[0] == NULL ? STORE_ENOTFOUND : STORE_OK;
    if (rv == STORE_OK) {
        int paused = v[1] != NULL && strcmp(v[1], "paused") == 0;
        const char *pending = paused ? v[3] : v[2];
        out->version = strtoll(v[0], NULL, 10);
        snprintf(out->state, sizeof out->state, "%s", v[1] ? v[1] : "");
        out->pending_ms = pending != NULL && pending[0] ? strtoll(pending, NULL, 10) : -1;
        out->created_ms = v[4] ? strtoll(v[4], NULL, 10) : 0;
        out->dispatched = v[5] ? strtoll(v[5], NULL, 10) : 0;
        out->spec = v[6] ? json_loads(v[6], 0, NULL) : NULL;
        if (out->spec == NULL)
            rv = STORE_EIO;
    }
    freeReplyObject(r);
    return rv;
}

/* ---- reading ---- */

static const char *field(const redisReply *h, const char *name)
{
    for (size_t i = 0; i + 1 < h->elements; i += 2) {
        const char *k = reply_str(h->element[i]);
        if (k != NULL && strcmp(k, name) == 0)
            return reply_str(h->element[i + 1]);
    }
    return NULL;
}

static json_t *time_or_null(const char *ms)
{
    char buf[CLOCK_RFC3339_LEN];
    if (ms == NULL || ms[0] == '\0')
        return json_null();
    clock_format_rfc3339(strtoll(ms, NULL, 10), buf);
    return json_string(buf);
}

static json_int_t counter(const redisReply *h, const char *name)
{
    const char *v = field(h, name);
    return v ? (json_int_t)strtoll(v, NULL, 10) : 0;
}

static json_t *json_or_null(const char *text)
{
    json_t *j = text && text[0] ? json_loads(text, 0, NULL) : NULL;
    return j ? j : json_null();
}

/* Builds the API's view of a task from its HGETALL reply. */
static json_t *task_view(const redisReply *h, json_t **spec_out)
{
    json_t *spec = json_or_null(field(h, "spec"));
    json_t *labels = json_object_get(spec, "labels"), *schedule = json_object_get(spec, "schedule");
    /* "o" steals a reference: give it one of its own for each member. */
    json_t *t = json_pack("{s:s,s:O,s:o,s:o,s:O,s:O}", "id", field(h, "id"), "name",
                          json_object_get(spec, "name"), "labels", labels ? json_incref(labels) : json_object(),
                          "schedule", schedule ? json_incref(schedule) : json_null(), "action",
                          json_object_get(spec, "action"), "timeout_s", json_object_get(spec, "timeout_s"));
    static const char *const policy[] = {"retry", "overlap", "misfire", "misfire_threshold_s",
                                         "start_at", "end_at", "max_runs", NULL};
    for (const char *const *p = policy; *p; p++)
        if (json_object_get(spec, *p) != NULL)
            json_object_set(t, *p, json_object_get(spec, *p));
    json_object_set_new(t, "state", json_string(field(h, "state")));
    json_object_set_new(t, "version", json_integer(strtoll(field(h, "version"), NULL, 10)));
    json_object_set_new(t, "created_at", time_or_null(field(h, "created")));
    json_object_set_new(t, "updated_at", time_or_null(field(h, "updated")));
    json_object_set_new(t, "next_run_at", time_or_null(field(h, "next")));
    json_object_set_new(t, "last_run", json_or_null(field(h, "last_run")));
    json_object_set_new(t, "runs", json_pack("{s:I,s:I,s:I,s:I,s:I,s:I}",
                                             "succeeded", counter(h, "runs_succeeded"),
                                             "failed", counter(h, "runs_failed"),
                                             "dispatched", counter(h, "dispatched"),
                                             "misfires_skipped", counter(h, "misfires_skipped"),
                                             "misfires_coalesced", counter(h, "misfires_coalesced"),
                                             "overlap_skipped", counter(h, "overlap_skipped")));
    if (spec_out != NULL)
        *spec_out = spec;
    else
        json_decref(spec);
    return t;
}

static int hash_valid(const redisReply *h)
{
    static const char *const need[] = {"id", "spec", "state", "version", "runs_succeeded",
                                       "runs_failed", NULL};
    if (h == NULL || h->type != REDIS_REPLY_ARRAY || h->elements == 0)
        return 0;
    for (const char *const *n = need; *n; n++)
        if (field(h, *n) == NULL)
            return 0;
    return 1;
}

int store_task_get(Store *st, const char *id, json_t **out, json_t **spec_out)
{
    char k[KEY_MAX];
    skey(st, k, store_shard_of(id, st->shards), "task", id);
    redisReply *r = rconn_cmd(st->rc, "HGETALL %s", k);
    if (r == NULL)
        return store_io_error(st);
    int rv = hash_valid(r) ? STORE_OK : STORE_ENOTFOUND;
    if (rv == STORE_OK)
        *out = task_view(r, spec_out);
    freeReplyObject(r);
    return rv;
}

static int cmp_desc(const void *a, const void *b)
{
    return -strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_asc(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One page of ids across shards, newest first, after CURSOR: up to N ids into
 * ids (caller frees each). Returns how many, or STORE_EIO. */
static int list_ids(Store *st, const char *cursor, int n, int asc, char **ids)
{
    char k[KEY_MAX], start[TASK_ID_MAX + 2], count[16];
    snprintf(start, sizeof start, cursor ? "(%s" : asc ? "-" : "+", cursor);
    snprintf(count, sizeof count, "%d", n);
    for (int s = 0; s < st->shards; s++) {
        skey(st, k, s, "tasks", NULL);
        const char *rev[] = {"ZRANGE", k, start, "-", "BYLEX", "REV", "LIMIT", "0", count};
        const char *fwd[] = {"ZRANGE", k, start, "+", "BYLEX", "LIMIT", "0", count};
        if (asc)
            rconn_append_argv(st->rc, 8, fwd, NULL);
        else
            rconn_append_argv(st->rc, 9, rev, NULL);
    }
    int total = 0, cap = n * st->shards;
    char **all = xcalloc((size_t)cap, sizeof *all);
    int rv = 0;
    for (int s = 0; s < st->shards; s++) {
        redisReply *r = rconn_read(st->rc);
        if (r == NULL || r->type != REDIS_REPLY_ARRAY)
            rv = STORE_EIO;
        for (size_t i = 0; rv == 0 && i < r->elements && total < cap; i++)
            if (reply_str(r->element[i]) != NULL)
                all[total++] = xstrdup(r->element[i]->str);
        freeReplyObject(r);
    }
    qsort(all, (size_t)total, sizeof *all, asc ? cmp_asc : cmp_desc);
    int keep = rv == 0 ? (total < n ? total : n) : 0;
    for (int i = 0; i < total; i++) {
        if (i < keep)
            ids[i] = all[i];
        else
            free(all[i]);
    }
    free(all);
    return rv == 0 ? keep : store_io_error(st);
}

/* 1 if the spec's labels hold every "key=value" of the query. */
static int labels_match(const char *spec_text, const TaskQuery *q)
{
    json_t *spec = spec_text ? json_loads(spec_text, 0, NULL) : NULL;
    json_t *labels = json_object_get(spec, "labels");
    int ok = 1;
    for (int i = 0; i < q->nlabels && ok; i++) {
        const char *eq = strchr(q->labels[i], '=');
        char key[256];
        snprintf(key, sizeof key, "%.*s", eq ? (int)(eq - q->labels[i]) : 0, q->labels[i]);
        const char *v = json_string_value(json_object_get(labels, key));
        ok = eq != NULL && v != NULL && strcmp(v, eq + 1) == 0;
    }
    json_decref(spec);
    return ok;
}

static int matches(const redisReply *h, const TaskQuery *q)
{
    if (!hash_valid(h))
        return 0;
    if (q->state && strcmp(field(h, "state"), q->state) != 0)
        return 0;
    const char *name = field(h, "name");
    if (q->name_prefix && !(name && strncmp(name, q->name_prefix, strlen(q->name_prefix)) == 0))
        return 0;
    return q->nlabels == 0 || labels_match(field(h, "spec"), q);
}

/* Fetches the N tasks in IDS in one pipeline and appends those matching Q. */
static int list_fetch(Store *st, char **ids, int n, const TaskQuery *q, json_t *items)
{
    char k[KEY_MAX];
    for (int i = 0; i < n; i++) {
        skey(st, k, store_shard_of(ids[i], st->shards), "task", ids[i]);
        rconn_append(st->rc, "HGETALL %s", k);
    }
    int rv = STORE_OK;
    for (int i = 0; i < n; i++) {
        redisReply *r = rconn_read(st->rc);
        if (r == NULL)
            rv = STORE_EIO;
        else if ((int)json_array_size(items) < q->limit && matches(r, q))
            json_array_append_new(items, task_view(r, NULL));
        freeReplyObject(r);
    }
    return rv == STORE_OK ? rv : store_io_error(st);
}

/* Filters can make pages sparse; scan at most this many ids for one page. */
#define LIST_SCAN_MAX 5000

int store_task_list(Store *st, const TaskQuery *q, json_t **items, char next_cursor[TASK_ID_MAX + 1])
{
    if (q->order != TASK_ORDER_CREATED)
        return store_task_list_sorted(st, q, items, next_cursor);
    char cursor[TASK_ID_MAX + 1] = "";
    char **ids = xcalloc((size_t)q->limit, sizeof *ids);
    int scanned = 0, rv = STORE_OK;
    if (q->cursor)
        snprintf(cursor, sizeof cursor, "%s", q->cursor);
    *items = json_array();
    next_cursor[0] = '\0';
    while ((int)json_array_size(*items) < q->limit && scanned < LIST_SCAN_MAX) {
        int want = q->limit - (int)json_array_size(*items);
        int n = list_ids(st, cursor[0] ? cursor : NULL, want, q->oldest_first, ids);
        if (n < 0) {
            rv = n;
            break;
        }
        if (n > 0)
            rv = list_fetch(st, ids, n, q, *items);
        if (n > 0)
            snprintf(cursor, sizeof cursor, "%s", ids[n - 1]);
        for (int i = 0; i < n; i++)
            free(ids[i]);
        scanned += n;
        snprintf(next_cursor, TASK_ID_MAX + 1, "%s", n == want ? cursor : "");
        if (rv != STORE_OK || n < want)
            break;
    }
    free(ids);
    if (rv != STORE_OK) {
        json_decref(*items);
        *items = NULL;
    }
    return rv;
}

int store_runs_list(Store *st, const char *id, int limit, json_t **items)
{
    char idx[KEY_MAX], runs[KEY_MAX];
    int shard = store_shard_of(id, st->shards);
    skey(st, idx, shard, "runidx", id);
    skey(st, runs, shard, "runs", id);
    redisReply *r = rconn_cmd(st->rc, "ZRANGE %s 0 %d REV", idx, limit - 1);
    if (r == NULL)
        return store_io_error(st);
    *items = json_array();
    if (r->type == REDIS_REPLY_ARRAY && r->elements > 0) {
        Args a = {0};
        args_add(&a, "HMGET");
        args_add(&a, runs);
        for (size_t i = 0; i < r->elements; i++)
            if (reply_str(r->element[i]) != NULL)
                args_add(&a, r->element[i]->str);
        redisReply *h = rconn_argv(st->rc, a.n, (const char **)a.v, a.len);
        args_free(&a);
        for (size_t i = 0; h && h->type == REDIS_REPLY_ARRAY && i < h->elements; i++) {
            json_t *run = reply_str(h->element[i]) ? json_loads(h->element[i]->str, 0, NULL) : NULL;
            if (run != NULL)
                json_array_append_new(*items, run);
        }
        freeReplyObject(h);
    }
    freeReplyObject(r);
    return STORE_OK;
}

json_t *store_task_view_of(const redisReply *h)
{
    return task_view(h, NULL);
}

int store_task_matches(const redisReply *h, const TaskQuery *q)
{
    return matches(h, q);
}

const char *store_hash_field(const redisReply *h, const char *name)
{
    return field(h, name);
}
