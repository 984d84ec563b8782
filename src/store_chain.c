/* store_chain: the chaining outbox (issue 16, "then"). The completion script
 * adds an entry per chained task to the source shard's outbox; a drainer
 * reads it here, runs each target through chain.lua on the target's shard
 * (deduplicated on the source run id), then deletes the entry. No script
 * touches two shards. */
#include <stdio.h>
#include <string.h>

#include "mem.h"
#include "occurrence.h"
#include "store_chain.h"
#include "store_private.h"

/* Fills IT from one XRANGE entry reply of SHARD's outbox; 0, or -1 if it has
 * no entry id. An entry without a task or source is kept, marked malformed,
 * so the drainer deletes it. */
static int item_parse(const redisReply *e, int shard, ChainItem *it)
{
    const redisReply *fields = reply_elem(e, 1);
    if (reply_str(reply_elem(e, 0)) == NULL)
        return -1;
    memset(it, 0, sizeof *it);
    it->shard = shard;
    snprintf(it->entry, sizeof it->entry, "%s", e->element[0]->str);
    for (size_t i = 0; fields != NULL && i + 1 < fields->elements; i += 2) {
        const char *k = reply_str(fields->element[i]), *v = reply_str(fields->element[i + 1]);
        if (k == NULL || v == NULL)
            continue;
        if (strcmp(k, "task") == 0)
            snprintf(it->task, sizeof it->task, "%s", v);
        else if (strcmp(k, "source") == 0)
            snprintf(it->source, sizeof it->source, "%s", v);
        else if (strcmp(k, "source_task") == 0)
            snprintf(it->source_task, sizeof it->source_task, "%s", v);
    }
    it->malformed = !it->task[0] || !it->source[0];
    return 0;
}

int store_outbox_read(Store *st, const int *shards, int n, int count, ChainItem **out, int *nout)
{
    char k[KEY_MAX], c[16];
    snprintf(c, sizeof c, "%d", count);
    for (int i = 0; i < n; i++) {
        skey(st, k, shards[i], "outbox", NULL);
        const char *argv[] = {"XRANGE", k, "-", "+", "COUNT", c};
        rconn_append_argv(st->rc, 6, argv, NULL);
    }
    *out = xcalloc((size_t)(n * count) + 1, sizeof **out);
    *nout = 0;
    int rv = STORE_OK;
    for (int i = 0; i < n; i++) {
        redisReply *r = rconn_read(st->rc);
        if (r == NULL)
            rv = STORE_EIO;
        for (size_t j = 0; r != NULL && r->type == REDIS_REPLY_ARRAY && j < r->elements; j++) {
            if (item_parse(r->element[j], shards[i], &(*out)[*nout]) == 0)
                (*nout)++;
        }
        freeReplyObject(r);
    }
    return rv == STORE_OK ? STORE_OK : store_io_error(st);
}

int store_chain_trigger(Store *st, const ChainItem *it, ChainVerdict *verdict, int64_t *sched)
{
    char k[KEY_MAX];
    Args a = {0};
    int shard = store_shard_of(it->task, st->shards);
    static const char *const names[] = {"task", "ready", "events", "due", "chainseen", "held"};
    for (int i = 0; i < 6; i++) {
        int per_task = i == 0 || i == 5;
        skey(st, k, shard, names[i], per_task ? it->task : NULL);
        args_add(&a, k);
    }
    args_add(&a, it->task);
    args_add(&a, it->source);
    args_add(&a, it->source_task);
    args_add(&a, EVENTS_MAXLEN);
    char head[OCC_TOKEN_MAX + 1], tail[OCC_KIND_MAX + 16]; /* its held token, if the task is paused */
    occurrence_token_around(head, sizeof head, tail, sizeof tail, it->task, 1, "chained");
    args_add(&a, head);
    args_add(&a, tail);
    redisReply *r = store_eval(st, SCRIPT_CHAIN, 6, &a);
    args_free(&a);
    if (r == NULL)
        return STORE_EIO;
    int rv = STORE_OK;
    const char *v = reply_str(reply_elem(r, 0));
    const redisReply *s = reply_elem(r, 1);
    if (v == NULL || s == NULL || s->type != REDIS_REPLY_INTEGER) {
        rv = r->type == REDIS_REPLY_ERROR ? store_reply_error(st, r) : STORE_EIO;
    } else {
        *verdict = strcmp(v, "queued") == 0      ? CHAIN_QUEUED
                   : strcmp(v, "held") == 0      ? CHAIN_HELD
                   : strcmp(v, "duplicate") == 0 ? CHAIN_DUPLICATE
                                                 : CHAIN_GONE;
        *sched = s->integer;
    }
    freeReplyObject(r);
    return rv;
}

int store_outbox_ack(Store *st, const ChainItem *it)
{
    char k[KEY_MAX];
    skey(st, k, it->shard, "outbox", NULL);
    redisReply *r = rconn_cmd(st->rc, "XDEL %s %s", k, it->entry);
    if (r == NULL)
        return store_io_error(st);
    freeReplyObject(r);
    return STORE_OK;
}

int store_task_then(Store *st, const char *id, json_t **then)
{
    char k[KEY_MAX];
    skey(st, k, store_shard_of(id, st->shards), "task", id);
    redisReply *r = rconn_cmd(st->rc, "HMGET %s state then", k);
    if (r == NULL)
        return store_io_error(st);
    *then = NULL;
    int rv = reply_str(reply_elem(r, 0)) != NULL ? STORE_OK : STORE_ENOTFOUND;
    const char *text = reply_str(reply_elem(r, 1));
    if (rv == STORE_OK && text != NULL && text[0] != '\0')
        *then = json_loads(text, 0, NULL);
    freeReplyObject(r);
    return rv;
}
