/* store_sweep: the sweeper's side of the store: dead executors, their
 * consumers, and a cursor walk over a shard's tasks (history, retention). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "store_private.h"

int store_sweep_executors(Store *st, int64_t now_ms, int64_t dead_ms, json_t **live)
{
    char key[KEY_MAX];
    snprintf(key, sizeof key, "%s:executors", st->prefix);
    rconn_append(st->rc, "ZREMRANGEBYSCORE %s -inf (%lld", key, (long long)(now_ms - dead_ms));
    rconn_append(st->rc, "ZRANGE %s 0 -1", key);
    redisReply *removed = rconn_read(st->rc), *r = rconn_read(st->rc);
    *live = json_array();
    int rv = removed != NULL && r != NULL && r->type == REDIS_REPLY_ARRAY ? STORE_OK : STORE_EIO;
    for (size_t i = 0; rv == STORE_OK && i < r->elements; i++)
        if (reply_str(r->element[i]) != NULL)
            json_array_append_new(*live, json_string(r->element[i]->str));
    freeReplyObject(removed);
    freeReplyObject(r);
    return rv == STORE_OK ? rv : store_io_error(st);
}

int store_sweep_consumers(Store *st, int shard, int64_t idle_ms, const json_t *live, int *removed)
{
    char k[KEY_MAX];
    Args a = {0};
    skey(st, k, shard, "ready", NULL);
    args_add(&a, k);
    args_add(&a, STORE_GROUP);
    args_addf(&a, "%lld", (long long)idle_ms);
    size_t i;
    json_t *v;
    json_array_foreach(live, i, v) args_add(&a, json_string_value(v));
    long long n = 0;
    int rv = store_eval_int(st, SCRIPT_SWEEP_CONSUMERS, 1, &a, &n);
    *removed = (int)n;
    return rv;
}

/* The next BATCH task ids of SHARD after the sweep cursor, into a reply
 * (caller frees), or NULL on I/O error. */
static redisReply *sweep_batch(Store *st, int shard, int batch)
{
    char tasks[KEY_MAX], state[KEY_MAX], from[TASK_ID_MAX + 2] = "-";
    skey(st, tasks, shard, "tasks", NULL);
    skey(st, state, shard, "sweep", NULL);
    redisReply *c = rconn_cmd(st->rc, "HGET %s cursor", state);
    if (c == NULL)
        return NULL;
    if (reply_str(c) != NULL && c->str[0] != '\0')
        snprintf(from, sizeof from, "(%s", c->str);
    freeReplyObject(c);
    return rconn_cmd(st->rc, "ZRANGE %s %s + BYLEX LIMIT 0 %d", tasks, from, batch);
}

int store_sweep_tasks(Store *st, int shard, int batch, int64_t history_max_age_ms, int64_t retention_ms,
                      int *trimmed, int *deleted)
{
    char k[KEY_MAX];
    *trimmed = *deleted = 0;
    redisReply *ids = sweep_batch(st, shard, batch);
    if (ids == NULL || ids->type != REDIS_REPLY_ARRAY) {
        freeReplyObject(ids);
        return store_io_error(st);
    }
    Args a = {0};
    static const char *const shard_keys[] = {"tasks", "due", "sweep", "events"};
    static const char *const task_keys[] = {"task", "runs", "runidx", "held", "backfill"};
    for (int i = 0; i < 4; i++) {
        skey(st, k, shard, shard_keys[i], NULL);
        args_add(&a, k);
    }
    int n = 0;
    for (size_t i = 0; i < ids->elements; i++) {
        if (reply_str(ids->element[i]) == NULL || strlen(ids->element[i]->str) > TASK_ID_MAX)
            continue;
        for (int j = 0; j < 5; j++) {
            skey(st, k, shard, task_keys[j], ids->element[i]->str);
            args_add(&a, k);
        }
        n++;
    }
    args_addf(&a, "%d", st->runs_kept);
    args_addf(&a, "%lld", (long long)history_max_age_ms);
    args_addf(&a, "%lld", (long long)retention_ms);
    args_add(&a, EVENTS_MAXLEN);
    /* A short batch reached the end of the index: the next pass starts over. */
    args_add(&a,
             (int)ids->elements < batch || ids->elements == 0 ? "" : ids->element[ids->elements - 1]->str);
    for (size_t i = 0; i < ids->elements; i++)
        if (reply_str(ids->element[i]) != NULL && strlen(ids->element[i]->str) <= TASK_ID_MAX)
            args_add(&a, ids->element[i]->str);
    freeReplyObject(ids);
    redisReply *r = store_eval(st, SCRIPT_SWEEP, 4 + n * 5, &a);
    args_free(&a);
    if (r == NULL)
        return STORE_EIO;
    int rv = r->type == REDIS_REPLY_ERROR ? store_reply_error(st, r) : STORE_OK;
    const redisReply *t = reply_elem(r, 0), *d = reply_elem(r, 1);
    if (t != NULL && t->type == REDIS_REPLY_INTEGER && d != NULL && d->type == REDIS_REPLY_INTEGER) {
        *trimmed = (int)t->integer;
        *deleted = (int)d->integer;
    }
    freeReplyObject(r);
    return rv;
}
