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

/* Fills E from an entry reply [id, [field, value, ...]]. Returns 0, -1 if the
 * reply has no entry id, -2 if the entry is malformed (no task field). */
static int entry_parse(const redisReply *r, int shard, ReadyEntry *e)
{
    memset(e, 0, sizeof *e);
    e->shard = shard;
    e->attempt = 1;
    if (reply_str(reply_elem(r, 0)) == NULL || shard < 0)
        return -1;
    snprintf(e->entry, sizeof e->entry, "%s", r->element[0]->str);
    const redisReply *f = reply_elem(r, 1);
    if (f == NULL || f->type != REDIS_REPLY_ARRAY)
        return -2;
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
    return e->task[0] && e->attempt >= 1 ? 0 : -2;
}

/* Dead-letters malformed entry ID of SHARD delivered to CONSUMER. */
static void entry_reject(Store *st, int shard, const char *consumer, const char *id)
{
    char k[KEY_MAX];
    Args a = {0};
    skey(st, k, shard, "ready", NULL);
    args_add(&a, k);
    skey(st, k, shard, "dead", NULL);
    args_add(&a, k);
    args_add(&a, id);
    args_add(&a, STORE_GROUP);
    args_add(&a, consumer);
    args_add(&a, "malformed ready entry: no task field or a bad attempt");
    store_eval_int(st, SCRIPT_REJECT, 2, &a, NULL);
}

void store_entries_append(Store *st, const char *consumer, const redisReply *r, int shard, ReadyEntry **out,
                          int *n, int *cap)
{
    for (size_t i = 0; i < r->elements; i++) {
        if (*n == *cap) {
            *cap = *cap ? *cap * 2 : 16;
            *out = xrealloc(*out, (size_t)*cap * sizeof **out);
        }
        int rv = entry_parse(r->element[i], shard, &(*out)[*n]);
        if (rv == 0)
            (*n)++;
        else if (rv == -2)
            entry_reject(st, shard, consumer, (*out)[*n].entry);
    }
}

/* XREADGROUP over shards FIRST..FIRST+NSHARDS-1, at most COUNT per stream,
 * blocking BLOCK_MS (< 0: not at all). */
static int ready_read(Store *st, const char *consumer, int first, int nshards, int count, int block_ms,
                      ReadyEntry **out, int *n)
{
    char k[KEY_MAX];
    Args a = {0};
    args_add(&a, "XREADGROUP");
    args_add(&a, "GROUP");
    args_add(&a, STORE_GROUP);
    args_add(&a, consumer);
    args_add(&a, "COUNT");
    args_addf(&a, "%d", count);
    if (block_ms >= 0) {
        args_add(&a, "BLOCK");
        args_addf(&a, "%d", block_ms);
    }
    args_add(&a, "STREAMS");
    for (int s = first; s < first + nshards; s++) {
        skey(st, k, s, "ready", NULL);
        args_add(&a, k);
    }
    for (int s = 0; s < nshards; s++)
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
        if (sr->type == REDIS_REPLY_ARRAY && sr->elements == 2 && sr->element[1]->type == REDIS_REPLY_ARRAY)
            store_entries_append(st, consumer, sr->element[1], key_shard(reply_str(sr->element[0])), out, n, &cap);
    }
    freeReplyObject(r);
    return rv;
}

int store_ready_read(Store *st, const char *consumer, int count, int block_ms, ReadyEntry **out, int *n)
{
    if (rconn_is_cluster(st->rc)) /* no command may name every shard's stream */
        return store_ready_read_each(st, consumer, count, block_ms, out, n);
    return ready_read(st, consumer, 0, st->shards, count, block_ms, out, n);
}

int store_ready_read_shard(Store *st, int shard, const char *consumer, int count, ReadyEntry **out, int *n)
{
    return ready_read(st, consumer, shard, 1, count, -1, out, n);
}

int store_ready_claim(Store *st, int shard, const char *consumer, int64_t min_idle_ms, int count,
                      ReadyEntry **out, int *n)
{
    char k[KEY_MAX];
    skey(st, k, shard, "ready", NULL);
    *out = NULL;
    *n = 0;
    /* XPENDING IDLE filters the whole pending list on the server, so entries
     * idle behind a long list of live ones are found in one call. */
    redisReply *r = rconn_cmd(st->rc, "XPENDING %s %s IDLE %lld - + %d", k, STORE_GROUP, (long long)min_idle_ms,
                              count);
    if (r == NULL)
        return store_io_error(st);
    int rv = r->type == REDIS_REPLY_ERROR ? store_reply_error(st, r) : STORE_OK;
    Args a = {0};
    args_add(&a, "XCLAIM");
    args_add(&a, k);
    args_add(&a, STORE_GROUP);
    args_add(&a, consumer);
    args_addf(&a, "%lld", (long long)min_idle_ms);
    for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++)
        if (reply_str(reply_elem(r->element[i], 0)) != NULL)
            args_add(&a, r->element[i]->element[0]->str);
    freeReplyObject(r);
    if (rv != STORE_OK || a.n == 5) {
        args_free(&a);
        return rv;
    }
    /* XCLAIM rechecks the idle time: an entry touched meanwhile stays put. */
    r = rconn_argv(st->rc, a.n, (const char **)a.v, a.len);
    args_free(&a);
    if (r == NULL)
        return store_io_error(st);
    int cap = 0;
    if (r->type == REDIS_REPLY_ARRAY)
        store_entries_append(st, consumer, r, shard, out, n, &cap);
    else
        rv = store_reply_error(st, r);
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

/* The occurrence id of E: "TASK:SCHED_MS" (DESIGN.md, "Identity"). */
static void occurrence_id(char *buf, size_t len, const ReadyEntry *e)
{
    snprintf(buf, len, "%s:%lld", e->task, (long long)e->sched_ms);
}

void store_run_id(char *buf, size_t len, const ReadyEntry *e, int attempt)
{
    snprintf(buf, len, "%s:%lld:%d", e->task, (long long)e->sched_ms, attempt);
}

static StartVerdict verdict_parse(const char *v)
{
    static const struct { const char *name; StartVerdict v; } names[] = {
        {"run", START_RUN}, {"gone", START_GONE}, {"dead", START_DEAD}, {"skipped", START_SKIPPED},
        {"held", START_HELD},
    };
    for (size_t i = 0; v != NULL && i < sizeof names / sizeof names[0]; i++)
        if (strcmp(v, names[i].name) == 0)
            return names[i].v;
    return START_STALE;
}

int store_run_start(Store *st, ReadyEntry *e, const char *consumer, int max_deliveries, int64_t stale_ms,
                    StartVerdict *verdict, int *attempt, json_t **spec)
{
    char k[KEY_MAX], ms[32], sched[CLOCK_RFC3339_LEN];
    Args a = {0};
    add_run_keys(st, &a, e);
    static const char *const more[] = {"dead", "events"};
    for (int i = 0; i < 2; i++) {
        skey(st, k, e->shard, more[i], NULL);
        args_add(&a, k);
    }
    skey(st, k, e->shard, "held", e->task);
    args_add(&a, k);
    clock_format_rfc3339(e->sched_ms, sched);
    args_add(&a, e->entry);
    args_add(&a, STORE_GROUP);
    args_add(&a, consumer);
    args_add(&a, e->task);
    args_add(&a, ms_str(ms, e->sched_ms));
    args_addf(&a, "%d", e->attempt);
    args_add(&a, sched);
    args_add(&a, ""); /* reserved: the script labels the run with Redis's time */
    args_addf(&a, "retry:%s:%lld:", e->task, (long long)e->sched_ms); /* + ATTEMPT:KIND in the script */
    args_addf(&a, "%d", max_deliveries);
    args_add(&a, EVENTS_MAXLEN);
    args_add(&a, e->kind[0] ? e->kind : "schedule");
    args_add(&a, ms_str(ms, stale_ms));
    redisReply *r = store_eval(st, SCRIPT_START, 7, &a);
    args_free(&a);
    *spec = NULL;
    if (r == NULL)
        return STORE_EIO;
    int rv = STORE_OK;
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 2) {
        rv = r->type == REDIS_REPLY_ERROR ? store_reply_error(st, r) : STORE_EIO;
    } else {
        *verdict = verdict_parse(reply_str(r->element[0]));
        *attempt = r->element[1]->type == REDIS_REPLY_INTEGER ? (int)r->element[1]->integer : 0;
        if (*verdict == START_RUN && reply_str(reply_elem(r, 2)) != NULL)
            *spec = json_loads(r->element[2]->str, 0, NULL);
        const redisReply *d = reply_elem(r, 3);
        e->deliveries = d != NULL && d->type == REDIS_REPLY_INTEGER ? d->integer : 0;
    }
    freeReplyObject(r);
    return rv;
}

int store_ready_touch(Store *st, int shard, const char *consumer, const char *const *entries,
                      const char *const *tasks, const long long *deliveries, int n, int *lost)
{
    char k[KEY_MAX];
    Args a = {0};
    skey(st, k, shard, "ready", NULL);
    args_add(&a, k);
    for (int i = 0; i < n; i++) {
        skey(st, k, shard, "task", tasks[i]);
        args_add(&a, k);
    }
    args_add(&a, STORE_GROUP);
    args_add(&a, consumer);
    for (int i = 0; i < n; i++) {
        args_add(&a, entries[i]);
        args_addf(&a, "%lld", deliveries[i]);
    }
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

/* Adds the fencing arguments of E: entry id, group, consumer, delivery count. */
static void add_fence(Args *a, const ReadyEntry *e, const char *consumer)
{
    args_add(a, e->entry);
    args_add(a, STORE_GROUP);
    args_add(a, consumer);
    args_addf(a, "%lld", e->deliveries);
}

int store_run_complete(Store *st, const ReadyEntry *e, const char *consumer, const char *run_id,
                       const RunResult *res, int *recorded)
{
    char k[KEY_MAX], ms[32], sched[CLOCK_RFC3339_LEN], occ[TASK_ID_MAX + 32];
    Args a = {0};
    add_run_keys(st, &a, e);
    static const char *const more[] = {"events", "due", "dead"};
    for (int i = 0; i < 3; i++) {
        skey(st, k, e->shard, more[i], NULL);
        args_add(&a, k);
    }
    skey(st, k, e->shard, "held", e->task);
    args_add(&a, k);
    add_fence(&a, e, consumer);
    args_add(&a, run_id);
    args_add(&a, res->status);
    if (res->exit_code >= 0)
        args_addf(&a, "%d", res->exit_code);
    else
        args_add(&a, "");
    args_addn(&a, res->output ? res->output : "", res->output ? res->output_len : 0);
    args_add(&a, ""); /* reserved: the script labels the run with Redis's time */
    args_add(&a, res->error ? res->error : "");
    args_addf(&a, "%d", st->runs_kept);
    args_add(&a, EVENTS_MAXLEN);
    args_add(&a, res->retry_delay_ms >= 0 ? ms_str(ms, res->retry_delay_ms) : "");
    args_addf(&a, "retry:%s:%lld:%d", e->task, (long long)e->sched_ms, res->attempt + 1);
    args_add(&a, res->dead ? "1" : "0");
    args_add(&a, ms_str(ms, res->history_max_age_ms > 0 ? res->history_max_age_ms : INT64_MAX / 2));
    if (res->http_status > 0)
        args_addf(&a, "%d", res->http_status);
    else
        args_add(&a, "");
    args_add(&a, e->task);
    occurrence_id(occ, sizeof occ, e);
    args_add(&a, occ);
    args_add(&a, ms_str(ms, e->sched_ms));
    args_addf(&a, "%d", res->attempt);
    clock_format_rfc3339(e->sched_ms, sched);
    args_add(&a, sched);
    long long n = 0;
    int rv = store_eval_int(st, SCRIPT_COMPLETE, 8, &a, &n);
    *recorded = rv == STORE_OK && n == 1;
    return rv;
}

int store_run_handback(Store *st, const ReadyEntry *e, const char *consumer, const char *run_id, int attempt,
                       const char *output, size_t output_len, int64_t now_ms, int *handed)
{
    char k[KEY_MAX], ms[32], now[CLOCK_RFC3339_LEN];
    Args a = {0};
    static const char *const keys[] = {"ready", "task", "runs", "events"};
    for (int i = 0; i < 4; i++) {
        skey(st, k, e->shard, keys[i], i == 1 || i == 2 ? e->task : NULL);
        args_add(&a, k);
    }
    add_fence(&a, e, consumer);
    args_add(&a, run_id);
    args_add(&a, e->task);
    args_add(&a, ms_str(ms, e->sched_ms));
    args_addf(&a, "%d", attempt + 1);
    args_add(&a, e->kind[0] ? e->kind : "schedule");
    clock_format_rfc3339(now_ms, now);
    args_add(&a, now);
    args_add(&a, "executor shut down before the run finished; handed back");
    args_add(&a, EVENTS_MAXLEN);
    args_addn(&a, output ? output : "", output ? output_len : 0);
    long long n = 0;
    int rv = store_eval_int(st, SCRIPT_HANDBACK, 4, &a, &n);
    *handed = rv == STORE_OK && n == 1;
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
