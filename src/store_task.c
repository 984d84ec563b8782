/* store_task: tasks as the api sees them: create, replace, read, list, delete,
 * pause and resume, trigger, and run history. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "mem.h"
#include "occurrence.h"
#include "store_private.h"

/* Adds name/value pair NAME, VALUE to A, unless SPARSE and VALUE is DEFLT
 * (what a reader takes an absent field for). */
static void add_field(Args *a, int sparse, const char *name, const char *value, const char *deflt)
{
    if (sparse && strcmp(value, deflt) == 0)
        return;
    args_add(a, name);
    args_add(a, value);
}

/* Adds the spec-derived hash fields, as name/value pairs: the spec itself,
 * and what the scheduler and executor read without parsing it. SPARSE (a new
 * task) leaves out the fields at their defaults, which every reader takes an
 * absent field for: Redis memory is per pending task. A replace writes them
 * all, since it must overwrite what the old spec stored. */
static void add_spec_fields(Args *a, const TaskSpec *spec, int sparse)
{
    char num[32];
    char *text = json_dumps(spec->json, JSON_COMPACT | JSON_PRESERVE_ORDER);
    args_add(a, "spec");
    args_add(a, text);
    free(text);
    args_add(a, "name");
    args_add(a, spec->name);
    args_add(a, "stype");
    args_add(a, task_schedule_type_name(spec->stype));
    add_field(a, sparse, "cron", spec->cron ? spec->cron : "", "");
    add_field(a, sparse, "tz", spec->timezone ? spec->timezone : "", "");
    add_field(a, sparse, "overlap", task_overlap_name(spec->overlap), "allow");
    add_field(a, sparse, "misfire", task_misfire_name(spec->misfire), "run_once");
    add_field(a, sparse, "misfire_ms", ms_str(num, spec->misfire_threshold_ms), "-1");
    add_field(a, sparse, "end_at", ms_str(num, spec->end_at_ms), "0");
    add_field(a, sparse, "max_runs", ms_str(num, spec->max_runs), "0");
    add_field(a, sparse, "jitter_ms", ms_str(num, spec->jitter_ms), "0");
    char excl[EXCLUDE_TEXT_MAX] = "";
    if (spec->excl != NULL)
        exclude_format(spec->excl, excl, sizeof excl);
    add_field(a, sparse, "exclude", excl, "");
    add_field(a, sparse, "exclude_cron", spec->exclude_cron ? spec->exclude_cron : "", "");
    /* issue 16: read by start.lua (slo_ms, conc_*) and complete.lua (then) */
    add_field(a, sparse, "slo_ms", ms_str(num, spec->slo_ms), "0");
    char *then = spec->then ? json_dumps(spec->then, JSON_COMPACT) : NULL;
    add_field(a, sparse, "then", then ? then : "", "");
    free(then);
    add_field(a, sparse, "conc_key", spec->concurrency_key ? spec->concurrency_key : "", "");
    char limit[16];
    snprintf(limit, sizeof limit, "%d", spec->concurrency_limit);
    add_field(a, sparse, "conc_limit", limit, "0");
}

/* Adds the keys NAMES (NULL-terminated) of task ID's shard to A, in order.
 * Per-task keys (task, runs, runidx) carry the id; the others are the shard's. */
static void add_keys(Args *a, const char *prefix, int shards, const char *id, const char *const *names)
{
    char k[KEY_MAX];
    int shard = store_shard_of(id, shards);
    for (; *names; names++) {
        int per_task = strcmp(*names, "task") == 0 || strcmp(*names, "runs") == 0 ||
                       strcmp(*names, "runidx") == 0 || strcmp(*names, "held") == 0 ||
                       strcmp(*names, "backfill") == 0;
        store_key(k, sizeof k, prefix, shard, *names, per_task ? id : NULL);
        args_add(a, k);
    }
}

void store_create_args(const char *prefix, int shards, const char *id, const TaskSpec *spec, int64_t now_ms,
                       int64_t due_ms, int immediate, long max_ready, Args *a)
{
    char ms[32];
    static const char *const names[] = {"task", "tasks", "due", "ready", "events", NULL};
    add_keys(a, prefix, shards, id, names);
    args_add(a, id);
    args_add(a, ms_str(ms, now_ms));
    args_add(a, ms_str(ms, due_ms));
    args_add(a, immediate ? "1" : "0");
    args_add(a, EVENTS_MAXLEN);
    args_addf(a, "%ld", max_ready);
    add_spec_fields(a, spec, 1);
}

int store_task_create_argv(const char *prefix, int shards, const char *id, const TaskSpec *spec,
                           int64_t now_ms, int64_t due_ms, char ***argv, size_t **lens)
{
    Args a = {0};
    store_create_args(prefix, shards, id, spec, now_ms, due_ms, 0, 0, &a);
    *argv = a.v;
    *lens = a.len;
    return a.n;
}

int store_task_replace(Store *st, const char *id, const TaskSpec *spec, const TaskReplace *rep,
                       int64_t now_ms, int64_t *version)
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
    char head[OCC_TOKEN_MAX + 1], tail[OCC_KIND_MAX + 16]; /* a run-now edit's held token, if paused */
    occurrence_token_around(head, sizeof head, tail, sizeof tail, id, 1, "now");
    args_add(&a, head);
    args_add(&a, tail);
    args_addf(&a, "%d", rep->nsettle);
    for (int i = 0; i < rep->nsettle; i++)
        args_add(&a, ms_str(ms, rep->settle[i]));
    add_spec_fields(&a, spec, 0);
    long long v = 0;
    int rv = store_eval_int(st, SCRIPT_REPLACE, 5, &a, &v);
    *version = v;
    return rv;
}

int store_task_delete(Store *st, const char *id, int64_t now_ms)
{
    char ms[32];
    Args a = {0};
    static const char *const names[] = {"task",   "tasks", "due",      "runs", "runidx",
                                        "events", "held",  "backfill", NULL};
    add_keys(&a, st->prefix, st->shards, id, names);
    args_add(&a, id);
    args_add(&a, ms_str(ms, now_ms));
    args_add(&a, EVENTS_MAXLEN);
    long long n = 0;
    int rv = store_eval_int(st, SCRIPT_DELETE, 8, &a, &n);
    return rv == STORE_OK && n == 0 ? STORE_ENOTFOUND : rv;
}

int store_task_set_state(Store *st, const char *id, int64_t version, const char *state, int64_t due_ms,
                         int64_t now_ms)
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

/* A task hash's field (NULL if absent). */
static const char *field(const redisReply *h, const char *name)
{
    return reply_field(h, name);
}

static int hash_valid(const redisReply *h)
{
    static const char *const need[] = {"id", "spec", "state", "version", NULL};
    if (h == NULL || h->type != REDIS_REPLY_ARRAY || h->elements == 0)
        return 0;
    for (const char *const *n = need; *n; n++)
        if (field(h, *n) == NULL)
            return 0;
    return 1;
}

int store_task_get(Store *st, const char *id, Record *out)
{
    char k[KEY_MAX];
    skey(st, k, store_shard_of(id, st->shards), "task", id);
    redisReply *r = rconn_cmd(st->rc, "HGETALL %s", k);
    if (r == NULL)
        return store_io_error(st);
    int rv = hash_valid(r) ? STORE_OK : STORE_ENOTFOUND;
    if (rv == STORE_OK)
        reply_record(r, out);
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
static int list_fetch(Store *st, char **ids, int n, const TaskQuery *q, RecordList *items)
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
        else if ((int)items->n < q->limit && matches(r, q))
            reply_record(r, record_list_add(items));
        freeReplyObject(r);
    }
    return rv == STORE_OK ? rv : store_io_error(st);
}

/* Filters can make pages sparse; scan at most this many ids for one page. */
#define LIST_SCAN_MAX 5000

int store_task_list(Store *st, const TaskQuery *q, RecordList *items, char next_cursor[TASK_ID_MAX + 1])
{
    if (q->order != TASK_ORDER_CREATED)
        return store_task_list_sorted(st, q, items, next_cursor);
    char cursor[TASK_ID_MAX + 1] = "";
    char **ids = xcalloc((size_t)q->limit, sizeof *ids);
    int scanned = 0, rv = STORE_OK;
    if (q->cursor)
        snprintf(cursor, sizeof cursor, "%s", q->cursor);
    *items = (RecordList){0};
    next_cursor[0] = '\0';
    while ((int)items->n < q->limit && scanned < LIST_SCAN_MAX) {
        int want = q->limit - (int)items->n;
        int n = list_ids(st, cursor[0] ? cursor : NULL, want, q->oldest_first, ids);
        if (n < 0) {
            rv = n;
            break;
        }
        if (n > 0)
            rv = list_fetch(st, ids, n, q, items);
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
    if (rv != STORE_OK)
        record_list_clear(items);
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
    int rv = STORE_OK;
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
        /* No reply, or an error one (the history key of another type): the
         * history is unreadable, which is not the same as empty. */
        if (h == NULL || h->type != REDIS_REPLY_ARRAY)
            rv = h == NULL ? store_io_error(st) : store_reply_error(st, h);
        for (size_t i = 0; rv == STORE_OK && h != NULL && i < h->elements; i++) {
            json_t *run = reply_str(h->element[i]) ? json_loads(h->element[i]->str, 0, NULL) : NULL;
            if (run != NULL)
                json_array_append_new(*items, run);
        }
        freeReplyObject(h);
    } else if (r->type != REDIS_REPLY_ARRAY) {
        rv = store_reply_error(st, r);
    }
    freeReplyObject(r);
    if (rv != STORE_OK) {
        json_decref(*items);
        *items = NULL;
    }
    return rv;
}

int store_task_matches(const redisReply *h, const TaskQuery *q)
{
    return matches(h, q);
}
