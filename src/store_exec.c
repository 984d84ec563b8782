/* store_exec: the executor's side of the store: reading and claiming ready
 * entries, and the fenced start, heartbeat and completion of runs. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "mem.h"
#include "store_private.h"

int store_groups_create(Store *st)
{
    char k[KEY_MAX];
    for (int s = 0; s < st->shards; s++) {
        skey(st, k, s, "ready", NULL);
        rconn_append(st->rc, "XGROUP CREATE %s %s 0 MKSTREAM", k, STORE_GROUP);
    }
    int rv = STORE_OK;
    for (int s = 0; s < st->shards; s++) {
        redisReply *r = rconn_read(st->rc);
        if (r == NULL || (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "BUSYGROUP", 9) != 0))
            rv = STORE_EIO;
        freeReplyObject(r);
    }
    return rv == STORE_OK ? rv : store_io_error(st);
}

/* Shard number from a key "P:{N}:ready". */
static int key_shard(const char *key)
{
    const char *brace = key ? strchr(key, '{') : NULL;
    return brace ? atoi(brace + 1) : -1;
}

/* Fills E from an entry reply [id, [field, value, ...]]; 0 or -1 if deleted. */
static int entry_parse(const redisReply *r, int shard, ReadyEntry *e)
{
    memset(e, 0, sizeof *e);
    e->shard = shard;
    e->attempt = 1;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 || r->element[1]->type != REDIS_REPLY_ARRAY ||
        reply_str(r->element[0]) == NULL || shard < 0)
        return -1;
    snprintf(e->entry, sizeof e->entry, "%s", r->element[0]->str);
    const redisReply *f = r->element[1];
    for (size_t i = 0; i + 1 < f->elements; i += 2) {
        const char *k = reply_str(f->element[i]), *v = reply_str(f->element[i + 1]);
        if (k == NULL || v == NULL)
            continue;
        if (strcmp(k, "task") == 0)
            snprintf(e->task, sizeof e->task, "%s", v);
        else if (strcmp(k, "sched") == 0)
            e->sched_ms = strtoll(v, NULL, 10);
        else if (strcmp(k, "attempt") == 0)
            e->attempt = atoi(v);
        else if (strcmp(k, "kind") == 0)
            snprintf(e->kind, sizeof e->kind, "%s", v);
    }
    return e->task[0] ? 0 : -1;
}

void store_entries_append(const redisReply *r, int shard, ReadyEntry **out, int *n, int *cap)
{
    for (size_t i = 0; i < r->elements; i++) {
        if (*n == *cap) {
            *cap = *cap ? *cap * 2 : 16;
            *out = xrealloc(*out, (size_t)*cap * sizeof **out);
        }
        if (entry_parse(r->element[i], shard, &(*out)[*n]) == 0)
            (*n)++;
    }
}

int store_ready_read(Store *st, const char *consumer, int count, int block_ms, ReadyEntry **out, int *n)
{
    if (rconn_is_cluster(st->rc))
        return store_ready_read_each(st, consumer, count, block_ms, out, n);
    char k[KEY_MAX];
    Args a = {0};
    args_add(&a, "XREADGROUP");
    args_add(&a, "GROUP");
    args_add(&a, STORE_GROUP);
    args_add(&a, consumer);
    args_add(&a, "COUNT");
    args_addf(&a, "%d", count);
    args_add(&a, "BLOCK");
    args_addf(&a, "%d", block_ms);
    args_add(&a, "STREAMS");
    for (int s = 0; s < st->shards; s++) {
        skey(st, k, s, "ready", NULL);
        args_add(&a, k);
    }
    for (int s = 0; s < st->shards; s++)
        args_add(&a, ">");
    redisReply *r = rconn_argv(st->rc, a.n, (const char **)a.v, a.len);
    args_free(&a);
    *out = NULL;
    *n = 0;
    if (r == NULL)
        return store_io_error(st);
    int cap = 0, rv = STORE_OK;
    if (r->type == REDIS_REPLY_ERROR) {
        rv = store_reply_error(st, r);
        if (strncmp(r->str, "NOGROUP", 7) == 0) /* Redis lost its data: recreate */
            rv = store_groups_create(st) == STORE_OK ? STORE_OK : STORE_EIO;
    }
    for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
        const redisReply *sr = r->element[i];
        if (sr->type == REDIS_REPLY_ARRAY && sr->elements == 2)
            store_entries_append(sr->element[1], key_shard(reply_str(sr->element[0])), out, n, &cap);
    }
    freeReplyObject(r);
    return rv;
}

int store_ready_claim(Store *st, int shard, const char *consumer, int64_t min_idle_ms, int count,
                      char cursor[40], ReadyEntry **out, int *n)
{
    char k[KEY_MAX];
    skey(st, k, shard, "ready", NULL);
    redisReply *r = rconn_cmd(st->rc, "XAUTOCLAIM %s %s %s %lld %s COUNT %d", k, STORE_GROUP,
                              consumer, (long long)min_idle_ms, cursor, count);
    *out = NULL;
    *n = 0;
    if (r == NULL)
        return store_io_error(st);
    int cap = 0, rv = STORE_OK;
    if (r->type == REDIS_REPLY_ARRAY && r->elements >= 2 && reply_str(r->element[0]) != NULL &&
        r->element[1]->type == REDIS_REPLY_ARRAY) {
        snprintf(cursor, 40, "%s", r->element[0]->str);
        store_entries_append(r->element[1], shard, out, n, &cap);
    } else if (r->type == REDIS_REPLY_ERROR) {
        rv = store_reply_error(st, r);
    }
    /* Entries deleted while pending come back without fields: acknowledge them. */
    const redisReply *deleted = reply_elem(r, 2);
    for (size_t i = 0; rv == STORE_OK && deleted && deleted->type == REDIS_REPLY_ARRAY && i < deleted->elements; i++)
        if (reply_str(deleted->element[i]) != NULL)
            freeReplyObject(rconn_cmd(st->rc, "XACK %s %s %s", k, STORE_GROUP, deleted->element[i]->str));
    freeReplyObject(r);
    return rv;
}

/* Adds the run keys of E: ready, task, runs, runidx (in that order). */
static void add_run_keys(Store *st, Args *a, const ReadyEntry *e)
{
    char k[KEY_MAX];
    skey(st, k, e->shard, "ready", NULL);
    args_add(a, k);
    skey(st, k, e->shard, "task", e->task);
    args_add(a, k);
    skey(st, k, e->shard, "runs", e->task);
    args_add(a, k);
    skey(st, k, e->shard, "runidx", e->task);
    args_add(a, k);
}

int store_run_start(Store *st, const ReadyEntry *e, const char *consumer, int64_t now_ms,
                    int max_deliveries, int64_t stale_ms, StartVerdict *verdict, int *attempt,
                    json_t **spec)
{
    char k[KEY_MAX], ms[32], sched[CLOCK_RFC3339_LEN], now[CLOCK_RFC3339_LEN];
    Args a = {0};
    add_run_keys(st, &a, e);
    skey(st, k, e->shard, "dead", NULL);
    args_add(&a, k);
    skey(st, k, e->shard, "events", NULL);
    args_add(&a, k);
    clock_format_rfc3339(e->sched_ms, sched);
    clock_format_rfc3339(now_ms, now);
    args_add(&a, e->entry);
    args_add(&a, STORE_GROUP);
    args_add(&a, consumer);
    args_add(&a, e->task);
    args_add(&a, ms_str(ms, e->sched_ms));
    args_addf(&a, "%d", e->attempt);
    args_add(&a, sched);
    args_add(&a, now);
    args_add(&a, ms_str(ms, now_ms));
    args_addf(&a, "%d", max_deliveries);
    args_add(&a, EVENTS_MAXLEN);
    args_add(&a, e->kind[0] ? e->kind : "schedule");
    args_add(&a, ms_str(ms, stale_ms));
    redisReply *r = store_eval(st, SCRIPT_START, 6, &a);
    args_free(&a);
    *spec = NULL;
    if (r == NULL)
        return STORE_EIO;
    int rv = STORE_OK;
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 2) {
        rv = r->type == REDIS_REPLY_ERROR ? store_reply_error(st, r) : STORE_EIO;
    } else {
        const char *v = reply_str(r->element[0]) ? r->element[0]->str : "stale";
        *verdict = strcmp(v, "run") == 0       ? START_RUN
                   : strcmp(v, "gone") == 0    ? START_GONE
                   : strcmp(v, "dead") == 0    ? START_DEAD
                   : strcmp(v, "skipped") == 0 ? START_SKIPPED
                                               : START_STALE;
        *attempt = r->element[1]->type == REDIS_REPLY_INTEGER ? (int)r->element[1]->integer : 0;
        if (*verdict == START_RUN && r->elements == 3 && reply_str(r->element[2]) != NULL)
            *spec = json_loads(r->element[2]->str, 0, NULL);
    }
    freeReplyObject(r);
    return rv;
}

int store_ready_touch(Store *st, int shard, const char *consumer, const char *const *entries,
                      const char *const *tasks, int n, int64_t now_ms, int *lost)
{
    char k[KEY_MAX], ms[32];
    Args a = {0};
    skey(st, k, shard, "ready", NULL);
    args_add(&a, k);
    for (int i = 0; i < n; i++) {
        skey(st, k, shard, "task", tasks[i]);
        args_add(&a, k);
    }
    args_add(&a, STORE_GROUP);
    args_add(&a, consumer);
    args_add(&a, ms_str(ms, now_ms));
    for (int i = 0; i < n; i++)
        args_add(&a, entries[i]);
    redisReply *r = store_eval(st, SCRIPT_TOUCH, n + 1, &a);
    args_free(&a);
    if (r == NULL)
        return STORE_EIO;
    for (int i = 0; i < n; i++) {
        lost[i] = 0;
        for (size_t j = 0; r->type == REDIS_REPLY_ARRAY && j < r->elements; j++)
            lost[i] |= reply_str(r->element[j]) != NULL && strcmp(r->element[j]->str, entries[i]) == 0;
    }
    int rv = r->type == REDIS_REPLY_ARRAY ? STORE_OK : store_reply_error(st, r);
    freeReplyObject(r);
    return rv;
}

int store_run_complete(Store *st, const ReadyEntry *e, const char *consumer, const char *run_id,
                       const RunResult *res, int64_t now_ms, int *recorded)
{
    char k[KEY_MAX], ms[32], now[CLOCK_RFC3339_LEN];
    Args a = {0};
    add_run_keys(st, &a, e);
    static const char *const more[] = {"events", "due", "dead"};
    for (int i = 0; i < 3; i++) {
        skey(st, k, e->shard, more[i], NULL);
        args_add(&a, k);
    }
    clock_format_rfc3339(now_ms, now);
    args_add(&a, e->entry);
    args_add(&a, STORE_GROUP);
    args_add(&a, consumer);
    args_add(&a, run_id);
    args_add(&a, res->status);
    if (res->exit_code >= 0)
        args_addf(&a, "%d", res->exit_code);
    else
        args_add(&a, "");
    args_addn(&a, res->output ? res->output : "", res->output ? res->output_len : 0);
    args_add(&a, now);
    args_add(&a, res->error ? res->error : "");
    args_addf(&a, "%d", st->runs_kept);
    args_add(&a, ms_str(ms, now_ms));
    args_add(&a, EVENTS_MAXLEN);
    args_add(&a, res->retry_at_ms > 0 ? ms_str(ms, res->retry_at_ms) : "");
    args_addf(&a, "retry:%s:%lld:%d", e->task, (long long)e->sched_ms, res->attempt + 1);
    args_add(&a, res->dead ? "1" : "0");
    args_add(&a, ms_str(ms, res->history_max_age_ms > 0 ? res->history_max_age_ms : INT64_MAX / 2));
    if (res->http_status > 0)
        args_addf(&a, "%d", res->http_status);
    else
        args_add(&a, "");
    long long n = 0;
    int rv = store_eval_int(st, SCRIPT_COMPLETE, 7, &a, &n);
    *recorded = rv == STORE_OK && n == 1;
    return rv;
}

int store_ready_requeue(Store *st, const ReadyEntry *e, const char *consumer)
{
    char k[KEY_MAX];
    Args a = {0};
    skey(st, k, e->shard, "ready", NULL);
    args_add(&a, k);
    args_add(&a, e->entry);
    args_add(&a, STORE_GROUP);
    args_add(&a, consumer);
    args_add(&a, e->task);
    args_addf(&a, "%lld", (long long)e->sched_ms);
    args_addf(&a, "%d", e->attempt);
    args_add(&a, e->kind[0] ? e->kind : "schedule");
    redisReply *r = store_eval(st, SCRIPT_REQUEUE, 1, &a);
    args_free(&a);
    freeReplyObject(r);
    return r ? STORE_OK : STORE_EIO;
}

int store_executor_alive(Store *st, const char *self, int64_t now_ms)
{
    char key[KEY_MAX];
    snprintf(key, sizeof key, "%s:executors", st->prefix);
    redisReply *r = rconn_cmd(st->rc, "ZADD %s %lld %s", key, (long long)now_ms, self);
    freeReplyObject(r);
    return r ? STORE_OK : store_io_error(st);
}
