/* store_sched: the scheduler's side of the store: liveness, shard leases, due
 * reads and the dispatch compare-and-set. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "store_private.h"

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

/* Appends EVALSHA of a loaded script to the pipeline. */
static int append_eval(Store *st, ScriptId s, int nkeys, Args *a)
{
    Args full = {0};
    args_add(&full, "EVALSHA");
    args_add(&full, st->sha[s]);
    args_addf(&full, "%d", nkeys);
    for (int i = 0; i < a->n; i++)
        args_addn(&full, a->v[i], a->len[i]);
    int rv = rconn_append_argv(st->rc, full.n, (const char **)full.v, full.len);
    args_free(&full);
    return rv;
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
        append_eval(st, SCRIPT_LEASE, 1, &a);
        args_free(&a);
    }
    int rv = STORE_OK;
    for (int i = 0; i < n; i++) {
        redisReply *r = rconn_read(st->rc);
        if (r == NULL)
            rv = STORE_EIO;
        else if (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOSCRIPT", 8) == 0)
            st->sha[SCRIPT_LEASE][0] = '\0'; /* Redis restarted: reload next time */
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
    if (strncmp(member, "retry:", 6) != 0) {
        snprintf(it->id, sizeof it->id, "%s", member);
        it->sched_ms = it->due_ms;
        return 0;
    }
    long long sched;
    int attempt, n = 0, k = 0;
    if (sscanf(member + 6, "%64[A-Za-z0-9_-]:%lld:%d%n", it->id, &sched, &attempt, &n) != 3)
        return -1;
    /* A held occurrence (paused while it waited) keeps its kind: ":KIND". */
    snprintf(it->token_kind, sizeof it->token_kind, "retry");
    if (member[6 + n] == ':' && (sscanf(member + 7 + n, "%11[a-z]%n", it->token_kind, &k) != 1 || k == 0))
        return -1;
    if (member[6 + n + (k ? k + 1 : 0)] != '\0')
        return -1;
    it->retry = 1;
    it->sched_ms = sched;
    it->attempt = attempt;
    return 0;
}

int store_due_fetch(Store *st, const int *shards, int n, int64_t now_ms, int batch, DueItem *items,
                    int *counts, int64_t *earliest_ms)
{
    char k[KEY_MAX];
    for (int i = 0; i < n; i++) {
        skey(st, k, shards[i], "due", NULL);
        rconn_append(st->rc, "ZRANGE %s -inf %lld BYSCORE LIMIT 0 %d WITHSCORES", k,
                     (long long)now_ms, batch);
        rconn_append(st->rc, "ZRANGE %s 0 0 WITHSCORES", k);
    }
    /* On a cluster one node may be failing over: its shards read as empty
     * this pass, and the others go on. */
    int failed = 0;
    *earliest_ms = INT64_MAX;
    for (int i = 0; i < n; i++) {
        redisReply *due = rconn_read(st->rc), *first = rconn_read(st->rc);
        counts[i] = 0;
        int rv = due == NULL || first == NULL || due->type != REDIS_REPLY_ARRAY ? STORE_EIO : STORE_OK;
        failed += rv != STORE_OK;
        for (size_t j = 0; rv == STORE_OK && j + 1 < due->elements && counts[i] < batch; j += 2) {
            DueItem *it = &items[i * batch + counts[i]];
            const char *member = reply_str(due->element[j]), *score = reply_str(due->element[j + 1]);
            if (member != NULL && score != NULL && due_item_parse(it, member, score) == 0)
                counts[i]++;
        }
        if (rv == STORE_OK && reply_str(reply_elem(first, 1)) != NULL) {
            int64_t e = strtoll(first->element[1]->str, NULL, 10);
            if (e < *earliest_ms)
                *earliest_ms = e;
        }
        freeReplyObject(due);
        freeReplyObject(first);
    }
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
        pending[i] = pend && pend->type == REDIS_REPLY_ARRAY && pend->elements > 0 ? pend->element[0]->integer : 0;
        freeReplyObject(len);
        freeReplyObject(pend);
    }
    return rv == STORE_OK ? rv : store_io_error(st);
}

/* Fills IT's task fields from an HMGET reply. */
static int due_item_fill(DueItem *it, const redisReply *r)
{
    if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 10)
        return STORE_EIO;
    const char *v[10];
    for (int j = 0; j < 10; j++)
        v[j] = reply_str(r->element[j]) ? r->element[j]->str : "";
    snprintf(it->version, sizeof it->version, "%s", v[0]);
    snprintf(it->kind, sizeof it->kind, "%s", v[1]);
    snprintf(it->cron, sizeof it->cron, "%s", v[2]);
    snprintf(it->tz, sizeof it->tz, "%s", v[3]);
    it->created_ms = strtoll(v[4], NULL, 10);
    snprintf(it->misfire, sizeof it->misfire, "%s", v[5]);
    it->misfire_ms = v[6][0] ? strtoll(v[6], NULL, 10) : -1;
    it->end_at_ms = strtoll(v[7], NULL, 10);
    it->max_runs = strtoll(v[8], NULL, 10);
    it->dispatched = strtoll(v[9], NULL, 10);
    return STORE_OK;
}

int store_due_details(Store *st, const int *shards, int n, DueItem *items, const int *counts, int batch)
{
    char k[KEY_MAX];
    for (int i = 0; i < n; i++)
        for (int j = 0; j < counts[i]; j++) {
            skey(st, k, shards[i], "task", items[i * batch + j].id);
            rconn_append(st->rc, "HMGET %s version kind cron tz created misfire misfire_ms end_at max_runs dispatched", k);
        }
    int rv = STORE_OK;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < counts[i]; j++) {
            redisReply *r = rconn_read(st->rc);
            if (due_item_fill(&items[i * batch + j], r) != STORE_OK)
                rv = STORE_EIO;
            freeReplyObject(r);
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
        args_add(a, it->retry ? "" : it->version);
        args_add(a, ms_str(ms, it->next_ms));
        args_add(a, it->dispatch ? "1" : "0");
        args_add(a, ms_str(ms, it->skipped));
        args_add(a, ms_str(ms, it->coalesced));
        args_add(a, ms_str(ms, it->sched_ms));
        args_addf(a, "%d", it->attempt);
        args_add(a, it->retry ? it->token_kind : "schedule");
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
        else if (r != NULL && r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOSCRIPT", 8) == 0)
            st->sha[SCRIPT_DISPATCH][0] = '\0', rv = STORE_EIO; /* Redis restarted: reload next pass */
        else
            rv = r == NULL ? store_io_error(st) : store_reply_error(st, r);
        freeReplyObject(r);
    }
    return rv;
}
