/* store_exec: the executor's side of the store: reading and claiming ready
 * entries, and the fenced start, heartbeat and completion of runs. */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "mem.h"
#include "num.h"
#include "occurrence.h"
#include "run_record.h"
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
    const char *brace = key ? strchr(key, '{') : NULL, *end;
    long long n;
    return brace && num_prefix(brace + 1, 0, INT_MAX, &n, &end) == 0 && *end == '}' ? (int)n : -1;
}

/* Fills E from an entry reply [id, [field, value, ...]] delivered for the
 * first time (XREADGROUP ">"). Returns 0, -1 if the reply has no entry id,
 * -2 if the entry is malformed (no valid task field, a bad value). */
static int entry_parse(const redisReply *r, int shard, ReadyEntry *e)
{
    memset(e, 0, sizeof *e);
    e->shard = shard;
    e->attempt = 1;
    e->deliveries = 1;
    if (reply_str(reply_elem(r, 0)) == NULL || shard < 0)
        return -1;
    snprintf(e->entry, sizeof e->entry, "%s", r->element[0]->str);
    const redisReply *f = reply_elem(r, 1);
    if (f == NULL || f->type != REDIS_REPLY_ARRAY)
        return -2;
    Occurrence o;
    occurrence_entry_init(&o);
    int bad = 0;
    for (size_t i = 0; i + 1 < f->elements; i += 2) {
        const char *k = reply_str(f->element[i]), *v = reply_str(f->element[i + 1]);
        if (k != NULL && v != NULL)
            bad |= occurrence_entry_field(&o, k, v);
    }
    if (bad || !occurrence_entry_valid(&o))
        return -2;
    memcpy(e->task, o.task, sizeof e->task);
    e->sched_ms = o.sched_ms;
    e->attempt = o.attempt;
    memcpy(e->kind, o.kind, sizeof e->kind);
    return 0;
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
    args_add(&a, "malformed ready entry: no valid task field, or a bad sched, attempt or kind");
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
            store_entries_append(st, consumer, sr->element[1], key_shard(reply_str(sr->element[0])), out, n,
                                 &cap);
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

/* Sets the delivery count of each of the N claimed entries OUT: one more
 * than XPENDING reported (XCLAIM counts the delivery it makes), so the run's
 * attempt number is known before it starts and fences every later step. */
static void claimed_deliveries(const redisReply *pending, ReadyEntry *out, int n)
{
    for (int i = 0; i < n; i++) {
        out[i].deliveries = 0; /* not listed: the start finds it stale */
        for (size_t j = 0; j < pending->elements; j++) {
            const redisReply *p = pending->element[j];
            const redisReply *c = reply_elem(p, 3);
            if (reply_str(reply_elem(p, 0)) != NULL && c != NULL && c->type == REDIS_REPLY_INTEGER &&
                strcmp(p->element[0]->str, out[i].entry) == 0)
                out[i].deliveries = c->integer + 1;
        }
    }
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
    redisReply *r = rconn_cmd(st->rc, "XPENDING %s %s IDLE %lld - + %d", k, STORE_GROUP,
                              (long long)min_idle_ms, count);
    if (r == NULL)
        return store_io_error(st);
    int rv = r->type == REDIS_REPLY_ERROR ? store_reply_error(st, r) : STORE_OK;
    Args a = {0};
    args_add(&a, "XCLAIM");
    args_add(&a, k);
    args_add(&a, STORE_GROUP);
    args_add(&a, consumer);
    args_addf(&a, "%lld", (long long)min_idle_ms);
    redisReply *pending = r;
    for (size_t i = 0; pending->type == REDIS_REPLY_ARRAY && i < pending->elements; i++)
        if (reply_str(reply_elem(pending->element[i], 0)) != NULL)
            args_add(&a, pending->element[i]->element[0]->str);
    if (rv != STORE_OK || a.n == 5) {
        args_free(&a);
        freeReplyObject(pending);
        return rv;
    }
    /* XCLAIM rechecks the idle time: an entry touched meanwhile stays put. */
    r = rconn_argv(st->rc, a.n, (const char **)a.v, a.len);
    args_free(&a);
    if (r == NULL) {
        freeReplyObject(pending);
        return store_io_error(st);
    }
    int cap = 0;
    if (r->type == REDIS_REPLY_ARRAY)
        store_entries_append(st, consumer, r, shard, out, n, &cap);
    else
        rv = store_reply_error(st, r);
    freeReplyObject(r);
    claimed_deliveries(pending, *out, *n);
    freeReplyObject(pending);
    return rv;
}

static StartVerdict verdict_parse(const char *v)
{
    static const struct {
        const char *name;
        StartVerdict v;
    } names[] = {
        {"run", START_RUN},         {"gone", START_GONE}, {"dead", START_DEAD},
        {"skipped", START_SKIPPED}, {"held", START_HELD}, {"gated", START_GATED},
    };
    for (size_t i = 0; v != NULL && i < sizeof names / sizeof names[0]; i++)
        if (strcmp(v, names[i].name) == 0)
            return names[i].v;
    return START_STALE;
}

/* Adds the block start.lua reads for E: the entry, its occurrence and the
 * ids it records and closes (the occurrence id, the run id, the held token,
 * and the run ids of the earlier attempts that may still be marked running:
 * attempt numbers can be skipped by a delivery that never started, so up to
 * MAX_DELIVERIES + 1 of them). The attempt follows from the delivery count. */
static void add_start_block(Args *a, const ReadyEntry *e, const char *consumer, int max_deliveries)
{
    char occ[OCC_ID_MAX + 1], run_id[OCC_RUN_ID_MAX + 1], id[OCC_TOKEN_MAX + 1];
    int attempt = e->attempt + (int)e->deliveries - 1;
    const char *kind = e->kind[0] ? e->kind : "schedule";
    occurrence_id(occ, sizeof occ, e->task, e->sched_ms);
    occurrence_run_id(run_id, sizeof run_id, e->task, e->sched_ms, attempt);
    args_add(a, e->entry);
    args_add(a, e->task);
    args_addf(a, "%lld", (long long)e->sched_ms);
    args_addf(a, "%lld", e->deliveries);
    args_addf(a, "%d", attempt);
    args_add(a, kind);
    args_add(a, occ);
    args_add(a, run_id);
    Occurrence held = {.sched_ms = e->sched_ms, .attempt = attempt};
    memcpy(held.task, e->task, sizeof held.task);
    snprintf(held.kind, sizeof held.kind, "%s", kind);
    occurrence_token(id, sizeof id, &held, 1);
    args_add(a, id);
    RunRecord rec = {.id = run_id,
                     .task_id = e->task,
                     .occurrence_id = occ,
                     .sched_ms = e->sched_ms,
                     .attempt = attempt,
                     .executor = consumer,
                     .kind = kind};
    char *tail = run_record_start_tail(&rec);
    args_add(a, tail ? tail : "\"status\":\"running\"}");
    free(tail);
    args_add(a, e->slot_held ? "1" : ""); /* concurrency (issue 16) */
    int last = attempt - max_deliveries - 1 > 1 ? attempt - max_deliveries - 1 : 1;
    args_addf(a, "%d", attempt - 1 >= last ? attempt - last : 0);
    for (int earlier = attempt - 1; earlier >= last; earlier--) {
        occurrence_run_id(id, sizeof id, e->task, e->sched_ms, earlier);
        args_add(a, id);
    }
}

/* Runs batch script S over N items: KEYS then ARGV (both consumed), NKEYS
 * of them keys. Returns the reply, an array of N (the caller frees it), or
 * NULL with *rv set to the error. */
static redisReply *eval_batch(Store *st, ScriptId s, Args *keys, Args *argv, int n, int *rv)
{
    int nkeys = keys->n;
    args_addall(keys, argv);
    args_free(argv);
    redisReply *r = store_eval(st, s, nkeys, keys);
    args_free(keys);
    *rv = STORE_OK;
    if (r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements == (size_t)n)
        return r;
    *rv = r == NULL ? STORE_EIO : r->type == REDIS_REPLY_ERROR ? store_reply_error(st, r) : STORE_EIO;
    freeReplyObject(r);
    return NULL;
}

/* Stream id S ("MS-SEQ") as a pair; 0 if S is not one (it then sorts first,
 * which only widens a range). */
static void id_pair(const char *s, unsigned long long *ms, unsigned long long *seq)
{
    char *end;
    *ms = strtoull(s, &end, 10);
    *seq = *end == '-' ? strtoull(end + 1, NULL, 10) : 0;
}

/* Adds the lowest and the highest of the N stream ids IDS: the range in
 * which one XPENDING reads every fence of a batch. */
static void add_id_range(Args *a, const char *const *ids, int n)
{
    const char *lo = ids[0], *hi = ids[0];
    unsigned long long lm, ls, hm, hs;
    id_pair(lo, &lm, &ls);
    hm = lm, hs = ls;
    for (int i = 1; i < n; i++) {
        const char *id = ids[i];
        unsigned long long m, q;
        id_pair(id, &m, &q);
        if (m < lm || (m == lm && q < ls))
            lo = id, lm = m, ls = q;
        if (m > hm || (m == hm && q > hs))
            hi = id, hm = m, hs = q;
    }
    args_add(a, lo);
    args_add(a, hi);
}

/* Fills OUT from one entry's reply {verdict, attempt, spec or false, ...}. */
static void start_reply(const redisReply *r, RunStart *out)
{
    const redisReply *att = reply_elem(r, 1);
    out->verdict = verdict_parse(reply_str(reply_elem(r, 0)));
    out->attempt = att != NULL && att->type == REDIS_REPLY_INTEGER ? (int)att->integer : 0;
    const redisReply *now = reply_elem(r, 4);
    out->started_ms = now != NULL && now->type == REDIS_REPLY_INTEGER ? now->integer : -1;
    const redisReply *slo = reply_elem(r, 5), *late = reply_elem(r, 6); /* slo (issue 16) */
    out->slo_ms = slo != NULL && slo->type == REDIS_REPLY_INTEGER && slo->integer > 0 ? slo->integer : 0;
    out->late = out->slo_ms > 0 && late != NULL && late->type == REDIS_REPLY_INTEGER && late->integer == 1;
    out->spec = NULL;
    const char *key = reply_str(reply_elem(r, 7)); /* concurrency (issue 16): gated */
    const redisReply *limit = reply_elem(r, 8);
    snprintf(out->conc_key, sizeof out->conc_key, "%s", key && out->verdict == START_GATED ? key : "");
    out->conc_limit = limit != NULL && limit->type == REDIS_REPLY_INTEGER ? (int)limit->integer : 1;
    if (out->verdict == START_RUN && reply_str(reply_elem(r, 2)) != NULL)
        out->spec = json_loads(r->element[2]->str, 0, NULL);
}

int store_runs_start(Store *st, const ReadyEntry *e, int n, const char *consumer, int max_deliveries,
                     int64_t stale_ms, RunStart *out)
{
    char k[KEY_MAX], ms[32];
    Args a = {0}, b = {0};
    static const char *const shared[] = {"ready", "dead", "events"};
    for (int i = 0; i < 3; i++) {
        skey(st, k, e[0].shard, shared[i], NULL);
        args_add(&a, k);
    }
    args_add(&b, STORE_GROUP);
    args_add(&b, consumer);
    args_addf(&b, "%d", max_deliveries);
    args_add(&b, EVENTS_MAXLEN);
    args_add(&b, ms_str(ms, stale_ms));
    const char **ids = xmalloc((size_t)n * sizeof *ids);
    for (int i = 0; i < n; i++)
        ids[i] = e[i].entry;
    add_id_range(&b, ids, n);
    free(ids);
    static const char *const own[] = {"task", "runs", "runidx", "held"};
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < 4; j++) {
            skey(st, k, e[i].shard, own[j], e[i].task);
            args_add(&a, k);
        }
        add_start_block(&b, &e[i], consumer, max_deliveries);
        out[i] = (RunStart){.verdict = START_STALE, .started_ms = -1};
    }
    int rv;
    redisReply *r = eval_batch(st, SCRIPT_START, &a, &b, n, &rv);
    for (int i = 0; r != NULL && i < n; i++)
        start_reply(r->element[i], &out[i]);
    freeReplyObject(r);
    return rv;
}

int store_run_start(Store *st, const ReadyEntry *e, const char *consumer, int max_deliveries,
                    int64_t stale_ms, StartVerdict *verdict, int *attempt, json_t **spec)
{
    RunStart one;
    int rv = store_runs_start(st, e, 1, consumer, max_deliveries, stale_ms, &one);
    *verdict = one.verdict;
    *attempt = one.attempt;
    *spec = rv == STORE_OK ? one.spec : NULL;
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

/* Adds the final record of run RUN_ID and the task's last_run, as
 * complete.lua stores them (see run_record.h). */
static void add_run_record(Args *a, const ReadyEntry *e, const char *consumer, const char *run_id,
                           const RunResult *res, const char *occ)
{
    RunRecord rec = {.id = run_id,
                     .task_id = e->task,
                     .occurrence_id = occ,
                     .sched_ms = e->sched_ms,
                     .started_ms = res->started_ms,
                     .status = res->status,
                     .attempt = res->attempt,
                     .exit_code = res->exit_code,
                     .output = res->output,
                     .output_len = res->output_len,
                     .executor = consumer,
                     .kind = e->kind[0] ? e->kind : "schedule",
                     .error = res->error,
                     .http_status = res->http_status,
                     .next_attempt_in_ms = res->retry_delay_ms,
                     .dead = res->dead,
                     .slo_ms = res->slo_ms};
    char *tail = run_record_tail(&rec), *last = run_record_last_tail(&rec);
    args_add(a, tail ? tail : "\"status\":\"failed\"}");
    args_add(a, last ? last : "\"status\":\"failed\"}");
    free(tail);
    free(last);
}

/* Adds the block complete.lua reads for run D. */
static void add_complete_block(Args *a, const RunDone *d, const char *consumer)
{
    char ms[32], occ[OCC_ID_MAX + 1], token[OCC_TOKEN_MAX + 1];
    const ReadyEntry *e = d->e;
    const RunResult *res = &d->res;
    occurrence_id(occ, sizeof occ, e->task, e->sched_ms);
    args_add(a, e->entry);
    args_addf(a, "%lld", e->deliveries);
    args_add(a, d->run_id);
    args_add(a, res->status);
    if (res->exit_code >= 0)
        args_addf(a, "%d", res->exit_code);
    else
        args_add(a, "");
    add_run_record(a, e, consumer, d->run_id, res, occ);
    args_add(a, res->error ? res->error : "");
    args_add(a, res->retry_delay_ms >= 0 ? ms_str(ms, res->retry_delay_ms) : "");
    Occurrence next = {.sched_ms = e->sched_ms, .attempt = res->attempt + 1};
    memcpy(next.task, e->task, sizeof next.task);
    occurrence_token(token, sizeof token, &next, 0);
    args_add(a, token);
    args_add(a, res->dead ? "1" : "0");
    args_add(a, e->task);
    args_add(a, occ);
    args_add(a, ms_str(ms, e->sched_ms));
    args_addf(a, "%d", res->attempt);
    args_add(a, e->kind[0] ? e->kind : "schedule");
}

/* The keys (*A) and arguments (*B) of complete.lua for the N runs RUNS of one
 * shard. Returns the key count. */
static int complete_call(const Store *st, const char *consumer, const RunDone *runs, int n,
                         int64_t history_max_age_ms, Args *a, Args *b)
{
    char k[KEY_MAX], ms[32];
    int shard = runs[0].e->shard;
    static const char *const shared[] = {"ready", "events", "due", "dead", "outbox"};
    for (int i = 0; i < 5; i++) {
        skey(st, k, shard, shared[i], NULL);
        args_add(a, k);
    }
    args_add(b, STORE_GROUP);
    args_add(b, consumer);
    args_addf(b, "%d", st->runs_kept);
    args_add(b, EVENTS_MAXLEN);
    args_add(b, ms_str(ms, history_max_age_ms > 0 ? history_max_age_ms : INT64_MAX / 2));
    const char **ids = xmalloc((size_t)n * sizeof *ids);
    for (int i = 0; i < n; i++)
        ids[i] = runs[i].e->entry;
    add_id_range(b, ids, n);
    free(ids);
    static const char *const own[] = {"task", "runs", "runidx", "held"};
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < 4; j++) {
            skey(st, k, shard, own[j], runs[i].e->task);
            args_add(a, k);
        }
        add_complete_block(b, &runs[i], consumer);
    }
    return a->n;
}

/* Fills recorded[0..N) from complete.lua's reply R (NULL: none). */
static void complete_reply(const redisReply *r, int n, int *recorded)
{
    for (int i = 0; i < n; i++)
        recorded[i] = r != NULL && r->element[i]->type == REDIS_REPLY_INTEGER &&
                      r->element[i]->integer == 1;
}

int store_runs_complete(Store *st, const char *consumer, const RunDone *runs, int n,
                        int64_t history_max_age_ms, int *recorded)
{
    Args a = {0}, b = {0};
    complete_call(st, consumer, runs, n, history_max_age_ms, &a, &b);
    int rv;
    redisReply *r = eval_batch(st, SCRIPT_COMPLETE, &a, &b, n, &rv);
    complete_reply(r, n, recorded);
    freeReplyObject(r);
    return rv;
}

/* Reads the reply of one queued complete.lua call of N runs into RECORDED
 * (-1 each if none came). Returns 1 if Redis had lost the script (the call
 * did nothing: send it again), else 0. */
static int complete_read(Store *st, int n, int *recorded)
{
    redisReply *r = rconn_read(st->rc);
    int noscript = store_noscript(st, SCRIPT_COMPLETE, r);
    if (r == NULL)
        store_io_error(st);
    else if (r->type == REDIS_REPLY_ERROR && !noscript)
        store_reply_error(st, r);
    int ok = r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements == (size_t)n;
    complete_reply(ok ? r : NULL, n, recorded);
    for (int i = 0; !ok && i < n; i++)
        recorded[i] = -1;
    freeReplyObject(r);
    return noscript;
}

/* store_runs_complete for the runs RUNS + AT of group COUNT; -1 each if
 * Redis was unreachable. */
static void complete_group(Store *st, const char *consumer, const RunDone *runs, int count,
                           int64_t history_max_age_ms, int *recorded)
{
    if (store_runs_complete(st, consumer, runs, count, history_max_age_ms, recorded) == STORE_EIO)
        for (int i = 0; i < count; i++)
            recorded[i] = -1;
}

int store_runs_complete_shards(Store *st, const char *consumer, const RunDone *runs, const int *counts,
                               int groups, int64_t history_max_age_ms, int *recorded)
{
    /* On a cluster the groups' nodes differ, and a WAIT reaches one node only. */
    int pipelined = groups > 1 && !(rconn_is_cluster(st->rc) && st->wait_replicas > 0) &&
                    store_script_ensure(st, SCRIPT_COMPLETE) == STORE_OK; /* else one call at a time */
    int at = 0, acked = 0;
    for (int g = 0; g < groups; at += counts[g++]) {
        if (!pipelined) {
            complete_group(st, consumer, runs + at, counts[g], history_max_age_ms, recorded + at);
            continue;
        }
        Args a = {0}, b = {0};
        int nkeys = complete_call(st, consumer, runs + at, counts[g], history_max_age_ms, &a, &b);
        args_addall(&a, &b);
        store_eval_append(st, SCRIPT_COMPLETE, nkeys, &a);
        args_free(&a);
        args_free(&b);
    }
    int total = at;
    at = 0;
    for (int g = 0; pipelined && g < groups; at += counts[g++]) {
        if (complete_read(st, counts[g], recorded + at)) /* Redis lost the script: this call did nothing */
            complete_group(st, consumer, runs + at, counts[g], history_max_age_ms, recorded + at);
        acked |= recorded[at] >= 0;
    }
    if (acked)
        store_replicate(st);
    for (int i = 0; i < total; i++)
        if (recorded[i] < 0)
            return STORE_EIO;
    return STORE_OK;
}

int store_run_complete(Store *st, const ReadyEntry *e, const char *consumer, const char *run_id,
                       const RunResult *res, int *recorded)
{
    RunDone d = {.e = e, .run_id = run_id, .res = *res};
    return store_runs_complete(st, consumer, &d, 1, res->history_max_age_ms, recorded);
}

int store_run_handback(Store *st, const ReadyEntry *e, const char *consumer, const char *run_id,
                       int attempt, const char *output, size_t output_len, int *handed)
{
    char k[KEY_MAX], ms[32];
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
