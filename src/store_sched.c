/* store_sched: the scheduler's side of the store: liveness, shard leases, due
 * reads and the dispatch compare-and-set. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "mem.h"
#include "occurrence.h"
#include "store_private.h"

/* How a retry token (or held occurrence) starts; task ids never do. */
static const char token_prefix[] = "retry:";

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int store_schedulers_alive(Store *st, const char *self, int64_t now_ms, int64_t ttl_ms, json_t **ids)
{
    char key[KEY_MAX];
    snprintf(key, sizeof key, "%s:schedulers", st->prefix);
    rconn_append(st->rc, "ZADD %s %lld %s", key, (long long)now_ms, self);
    rconn_append(st->rc, "ZREMRANGEBYSCORE %s -inf %lld", key, (long long)(now_ms - ttl_ms));
    rconn_append(st->rc, "ZRANGE %s 0 -1", key);
    redisReply *r[3];
    for (int i = 0; i < 3; i++)
        r[i] = rconn_read(st->rc);
    int rv = r[2] != NULL && r[2]->type == REDIS_REPLY_ARRAY ? STORE_OK : STORE_EIO;
    if (rv == STORE_OK) {
        /* The set is ordered by heartbeat time, which changes every beat: every
         * scheduler must see the same order, so sort by id. */
        size_t n = r[2]->elements;
        const char **names = xcalloc(n ? n : 1, sizeof *names);
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            if (reply_str(r[2]->element[i]) != NULL)
                names[m++] = r[2]->element[i]->str;
        n = m;
        qsort(names, n, sizeof *names, cmp_str);
        *ids = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(*ids, json_string(names[i]));
        free(names);
    }
    for (int i = 0; i < 3; i++)
        freeReplyObject(r[i]);
    return rv == STORE_OK ? rv : store_io_error(st);
}

void store_scheduler_leave(Store *st, const char *self)
{
    char key[KEY_MAX];
    snprintf(key, sizeof key, "%s:schedulers", st->prefix);
    freeReplyObject(rconn_cmd(st->rc, "ZREM %s %s", key, self));
}

int store_leases_acquire(Store *st, const int *shards, int n, const char *owner, int64_t ttl_ms, int *held)
{
    char k[KEY_MAX], ttl[32];
    Args a = {0};
    if (store_script_ensure(st, SCRIPT_LEASE) != STORE_OK)
        return STORE_EIO;
    ms_str(ttl, ttl_ms);
    for (int i = 0; i < n; i++) {
        skey(st, k, shards[i], "lease", NULL);
        args_add(&a, k);
        args_add(&a, owner);
        args_add(&a, ttl);
        store_eval_append(st, SCRIPT_LEASE, 1, &a);
        args_free(&a);
    }
    int rv = STORE_OK;
    for (int i = 0; i < n; i++) {
        redisReply *r = rconn_read(st->rc);
        if (r == NULL)
            rv = STORE_EIO;
        store_noscript(st, SCRIPT_LEASE, r); /* after a Redis restart: reloaded next time */
        held[i] = r != NULL && r->type == REDIS_REPLY_INTEGER && r->integer == 1;
        freeReplyObject(r);
    }
    return rv == STORE_OK ? rv : store_io_error(st);
}

int store_lease_release(Store *st, int shard, const char *owner)
{
    char k[KEY_MAX];
    Args a = {0};
    skey(st, k, shard, "lease", NULL);
    args_add(&a, k);
    args_add(&a, owner);
    redisReply *r = store_eval(st, SCRIPT_RELEASE, 1, &a);
    args_free(&a);
    freeReplyObject(r);
    return r ? STORE_OK : STORE_EIO;
}

/* Fills IT from a due-set member and its score; -1 for a malformed member. */
static int due_item_parse(DueItem *it, const char *member, const char *score)
{
    memset(it, 0, sizeof *it);
    snprintf(it->member, sizeof it->member, "%s", member);
    snprintf(it->due, sizeof it->due, "%s", score);
    it->due_ms = strtoll(score, NULL, 10);
    it->attempt = 1;
    if (strncmp(member, token_prefix, sizeof token_prefix - 1) != 0) {
        snprintf(it->id, sizeof it->id, "%s", member);
        it->sched_ms = it->due_ms;
        return 0;
    }
    Occurrence o; /* a held occurrence (paused while it waited) keeps its kind */
    if (occurrence_token_parse(member, &o) != 0)
        return -1;
    memcpy(it->id, o.task, sizeof it->id);
    snprintf(it->kind, sizeof it->kind, "%s", o.kind);
    it->retry = 1;
    it->sched_ms = o.sched_ms;
    it->attempt = o.attempt;
    return 0;
}

/* Fills IT's task fields from the thirteen values due_take.lua returns after
 * a member and its score (version stype cron tz created misfire misfire_ms
 * end_at max_runs dispatched jitter_ms exclude exclude_cron; '' for a missing
 * one). */
static void due_item_fill(DueItem *it, const char *const v[13])
{
    snprintf(it->version, sizeof it->version, "%s", v[0]);
    snprintf(it->stype, sizeof it->stype, "%s", v[1]);
    snprintf(it->cron, sizeof it->cron, "%s", v[2]);
    snprintf(it->tz, sizeof it->tz, "%s", v[3]);
    it->created_ms = strtoll(v[4], NULL, 10);
    snprintf(it->misfire, sizeof it->misfire, "%s", v[5]);
    it->misfire_ms = v[6][0] ? strtoll(v[6], NULL, 10) : -1;
    it->end_at_ms = strtoll(v[7], NULL, 10);
    it->max_runs = strtoll(v[8], NULL, 10);
    it->dispatched = strtoll(v[9], NULL, 10);
    it->jitter_ms = strtoll(v[10], NULL, 10); /* absent: 0 */
    snprintf(it->exclude, sizeof it->exclude, "%s", v[11]);
    snprintf(it->exclude_cron, sizeof it->exclude_cron, "%s", v[12]);
}
#define TAKE_HEAD 5    /* dispatched, read, earliest, lateness list, now */
#define TAKE_FIELDS 15 /* member, score and thirteen task fields per member left */

/* Appends shard SHARD's due_take.lua call to the pipeline. */
static void due_take_append(Store *st, int shard, int batch, int64_t threshold_ms)
{
    char k[KEY_MAX], ms[32];
    Args a = {0};
    skey(st, k, shard, "due", NULL);
    args_add(&a, k);
    skey(st, k, shard, "ready", NULL);
    args_add(&a, k);
    args_addf(&a, "%d", batch);
    skey(st, k, shard, "task", "");
    args_add(&a, k);
    args_add(&a, ms_str(ms, threshold_ms));
    args_add(&a, token_prefix);
    store_eval_append(st, SCRIPT_DUE_TAKE, 2, &a);
    args_free(&a);
}

/* Adds the comma-separated lateness list TEXT to T's. */
static void due_lates_add(const char *text, DueTaken *t, int cap)
{
    for (char *end; text != NULL && *text && t->nlate < cap; text = *end == ',' ? end + 1 : end) {
        t->late_ms[t->nlate++] = strtoll(text, &end, 10);
        if (end == text)
            break;
    }
}

/* Reads one shard's due_take.lua reply R into ITEMS (*count of them) and T.
 * STORE_EIO for an unexpected shape. */
static int due_take_read(const redisReply *r, int batch, DueItem *items, int *count, DueTaken *t,
                         int late_cap)
{
    *count = 0;
    if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements < TAKE_HEAD ||
        (r->elements - TAKE_HEAD) % TAKE_FIELDS != 0)
        return STORE_EIO;
    const redisReply *n = r->element[0], *read = r->element[1];
    const char *first = reply_str(r->element[2]);
    t->dispatched += n->type == REDIS_REPLY_INTEGER ? (int)n->integer : 0;
    t->full |= read->type == REDIS_REPLY_INTEGER && read->integer >= batch;
    if (first != NULL && first[0] && strtoll(first, NULL, 10) < t->earliest_ms)
        t->earliest_ms = strtoll(first, NULL, 10);
    due_lates_add(reply_str(r->element[3]), t, late_cap);
    const char *now = reply_str(r->element[4]);
    if (now != NULL && strtoll(now, NULL, 10) > t->now_ms)
        t->now_ms = strtoll(now, NULL, 10);
    for (size_t j = TAKE_HEAD; j < r->elements && *count < batch; j += TAKE_FIELDS) {
        const char *v[TAKE_FIELDS];
        int ok = 1;
        for (int f = 0; f < TAKE_FIELDS; f++)
            ok &= (v[f] = reply_str(r->element[j + (size_t)f])) != NULL;
        DueItem *it = &items[*count];
        if (ok && due_item_parse(it, v[0], v[1]) == 0) {
            due_item_fill(it, v + 2);
            (*count)++;
        }
    }
    return STORE_OK;
}

int store_due_take(Store *st, const int *shards, int n, int batch, int64_t threshold_ms, DueItem *items,
                   int *counts, DueTaken *t)
{
    t->dispatched = t->full = t->nlate = 0;
    t->earliest_ms = INT64_MAX;
    t->now_ms = -1;
    if (store_script_ensure(st, SCRIPT_DUE_TAKE) != STORE_OK)
        return STORE_EIO;
    for (int i = 0; i < n; i++)
        due_take_append(st, shards[i], batch, threshold_ms);
    /* On a cluster one node may be failing over: its shards read as empty
     * this pass, and the others go on. */
    int failed = 0;
    for (int i = 0; i < n; i++) {
        redisReply *r = rconn_read(st->rc);
        if (r != NULL && r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOSCRIPT", 8) == 0)
            st->sha[SCRIPT_DUE_TAKE][0] = '\0'; /* Redis restarted: reload next pass */
        failed += due_take_read(r, batch, &items[i * batch], &counts[i], t, n * batch) != STORE_OK;
        freeReplyObject(r);
    }
    if (t->now_ms >= 0)
        clock_shared_sync(t->now_ms);
    return failed < n || n == 0 ? STORE_OK : store_io_error(st);
}

int store_ready_depth(Store *st, const int *shards, int n, long long *length, long long *pending)
{
    char k[KEY_MAX];
    for (int i = 0; i < n; i++) {
        skey(st, k, shards[i], "ready", NULL);
        rconn_append(st->rc, "XLEN %s", k);
        rconn_append(st->rc, "XPENDING %s %s", k, STORE_GROUP);
    }
    int rv = STORE_OK;
    for (int i = 0; i < n; i++) {
        redisReply *len = rconn_read(st->rc), *pend = rconn_read(st->rc);
        if (len == NULL || pend == NULL)
            rv = STORE_EIO;
        length[i] = len && len->type == REDIS_REPLY_INTEGER ? len->integer : 0;
        pending[i] = pend && pend->type == REDIS_REPLY_ARRAY && pend->elements > 0
                         ? pend->element[0]->integer
                         : 0;
        freeReplyObject(len);
        freeReplyObject(pend);
    }
    return rv == STORE_OK ? rv : store_io_error(st);
}

/* The dispatch script's keys and arguments for one shard's N items. */
static void dispatch_args(Store *st, int shard, const DueItem *items, int n, int64_t now_ms, Args *a)
{
    char k[KEY_MAX], ms[32];
    int planned = 0;
    for (int i = 0; i < n; i++)
        planned += !items[i].defer;
    args_add(a, "EVALSHA");
    args_add(a, st->sha[SCRIPT_DISPATCH]);
    args_addf(a, "%d", 2 * planned + 2);
    skey(st, k, shard, "due", NULL);
    args_add(a, k);
    skey(st, k, shard, "ready", NULL);
    args_add(a, k);
    for (int i = 0; i < n; i++) {
        if (items[i].defer)
            continue;
        skey(st, k, shard, "task", items[i].id);
        args_add(a, k);
        skey(st, k, shard, "held", items[i].id);
        args_add(a, k);
    }
    args_add(a, ms_str(ms, now_ms));
    for (int i = 0; i < n; i++) {
        const DueItem *it = &items[i];
        if (it->defer)
            continue;
        args_add(a, it->member);
        args_add(a, it->id);
        args_add(a, it->due);
        /* A task the due read did not see (version '') must not be taken for
         * a retry (''): "-" matches no version, so the member is dropped if
         * its task is gone and left for the next read if not. */
        args_add(a, it->retry ? "" : it->version[0] ? it->version : "-");
        args_add(a, ms_str(ms, it->next_ms));
        args_add(a, it->dispatch ? "1" : "0");
        args_add(a, ms_str(ms, it->skipped));
        args_add(a, ms_str(ms, it->coalesced));
        args_add(a, ms_str(ms, it->excluded));
        args_add(a, ms_str(ms, it->sched_ms));
        args_addf(a, "%d", it->attempt);
        args_add(a, it->retry ? it->kind : "schedule");
    }
}

int store_dispatch(Store *st, const int *shards, int n, const DueItem *items, const int *counts, int batch,
                   int64_t now_ms, int *dispatched)
{
    *dispatched = 0;
    if (store_script_ensure(st, SCRIPT_DISPATCH) != STORE_OK)
        return STORE_EIO;
    int calls = 0, rv = STORE_OK;
    for (int i = 0; i < n; i++) {
        if (counts[i] == 0)
            continue;
        Args a = {0};
        dispatch_args(st, shards[i], &items[i * batch], counts[i], now_ms, &a);
        rconn_append_argv(st->rc, a.n, (const char **)a.v, a.len);
        args_free(&a);
        calls++;
    }
    for (int i = 0; i < calls; i++) {
        redisReply *r = rconn_read(st->rc);
        if (r != NULL && r->type == REDIS_REPLY_INTEGER)
            *dispatched += (int)r->integer;
        else if (store_noscript(st, SCRIPT_DISPATCH, r))
            rv = STORE_EIO; /* Redis restarted: reloaded next pass */
        else
            rv = r == NULL ? store_io_error(st) : store_reply_error(st, r);
        freeReplyObject(r);
    }
    return rv;
}
