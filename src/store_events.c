/* store_events: the events feed merged over shards, and dashboard figures.
 * Read-only: plain pipelined commands, no scripts. */
#include "store_events.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "num.h"
#include "occurrence.h"
#include "store_private.h"

#define STATS_TASKS_MAX 20000 /* tasks whose state is read for the counts */
#define LIVE_WINDOW_MS 10000  /* a process heard from this recently is live */
#define HOUR_MS 3600000

typedef struct Event {
    int64_t ms, seq;
    int shard;
    const redisReply *fields; /* borrowed from the reply */
} Event;

int store_event_cursor_parse(const Store *st, const char *id, EventCursor *c)
{
    const char *p; /* "MS-SEQ.SHARD" */
    long long ms, seq, shard;
    if (num_prefix(id, 0, LLONG_MAX, &ms, &p) != 0 || *p++ != '-' ||
        num_prefix(p, 0, LLONG_MAX, &seq, &p) != 0 || *p++ != '.' ||
        num_parse(p, 0, st->shards - 1, &shard) != 0)
        return -1;
    *c = (EventCursor){ms, seq, (int)shard};
    return 0;
}

static int event_cmp(const void *a, const void *b)
{
    const Event *x = a, *y = b;
    if (x->ms != y->ms)
        return x->ms < y->ms ? -1 : 1;
    if (x->seq != y->seq)
        return x->seq < y->seq ? -1 : 1;
    return x->shard - y->shard;
}

/* Appends the entries of one XRANGE reply to *ev (growing it). */
static void events_collect(const redisReply *r, int shard, Event **ev, int *n, int *cap)
{
    if (r == NULL || r->type != REDIS_REPLY_ARRAY)
        return;
    for (size_t i = 0; i < r->elements; i++) {
        const redisReply *e = r->element[i];
        const char *p;
        long long ms, seq;
        if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 || e->element[0]->type != REDIS_REPLY_STRING ||
            num_prefix(e->element[0]->str, LLONG_MIN, LLONG_MAX, &ms, &p) != 0 || *p++ != '-' ||
            num_prefix(p, LLONG_MIN, LLONG_MAX, &seq, NULL) != 0)
            continue;
        if (*n == *cap) {
            *cap = *cap ? *cap * 2 : 64;
            *ev = xrealloc(*ev, (size_t)*cap * sizeof **ev);
        }
        (*ev)[(*n)++] = (Event){ms, seq, shard, e->element[1]};
    }
}

/* Appends event E to L as its fields plus "id", the cursor text
 * ("MS-SEQ.SHARD") a reader resumes from. */
static void event_record(const Event *e, RecordList *l)
{
    char id[64];
    snprintf(id, sizeof id, "%" PRId64 "-%" PRId64 ".%d", e->ms, e->seq, e->shard);
    Record *rec = record_list_add(l);
    record_add(rec, "id", id);
    reply_record(e->fields, rec);
}

/* Reads each shard's replies and builds the merged array: the first COUNT
 * events in order after the cursor, or the last COUNT without one. */
static int events_merge(Store *st, const EventCursor *c, int count, RecordList *events)
{
    /* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers; its element is a pointer */
    redisReply **replies = xcalloc((size_t)st->shards, sizeof *replies);
    Event *ev = NULL;
    int n = 0, cap = 0, rv = STORE_OK;
    for (int s = 0; s < st->shards; s++) {
        replies[s] = rconn_read(st->rc);
        if (replies[s] == NULL)
            rv = store_io_error(st);
        else
            events_collect(replies[s], s, &ev, &n, &cap);
    }
    if (n > 0)
        qsort(ev, (size_t)n, sizeof *ev, event_cmp);
    *events = (RecordList){0};
    int from = c->ms > 0 || count < 0 || n <= count ? 0 : n - count; /* the last COUNT without a cursor */
    for (int i = from; i < n && i < from + count && rv == STORE_OK; i++)
        if (c->ms == 0 || event_cmp(&ev[i], &(Event){c->ms, c->seq, c->shard, NULL}) > 0)
            event_record(&ev[i], events);
    for (int s = 0; s < st->shards; s++)
        freeReplyObject(replies[s]);
    free(replies);
    free(ev);
    return rv;
}

int store_events_read(Store *st, const EventCursor *c, int count, RecordList *events)
{
    char k[KEY_MAX], start[48];
    for (int s = 0; s < st->shards; s++) {
        skey(st, k, s, "events", NULL);
        if (c->ms == 0)
            rconn_append(st->rc, "XREVRANGE %s + - COUNT %d", k, count);
        else if (s == c->shard)
            rconn_append(st->rc, "XRANGE %s (%lld-%lld + COUNT %d", k, (long long)c->ms, (long long)c->seq,
                         count);
        else {
            snprintf(start, sizeof start, "%lld-0", (long long)c->ms);
            rconn_append(st->rc, "XRANGE %s %s + COUNT %d", k, start, count);
        }
    }
    return events_merge(st, c, count, events);
}

/* ---- dashboard figures ---- */

/* Adds one to NAME's count in COUNTS (N used, at most MAX; a name past MAX
 * distinct ones is not counted). */
static void count_add(StoreCount *counts, int *n, int max, const char *name)
{
    int i = 0;
    while (i < *n && strcmp(counts[i].name, name) != 0)
        i++;
    if (i == *n) {
        if (*n == max)
            return;
        snprintf(counts[i].name, sizeof counts[i].name, "%s", name);
        counts[i].n = 0;
        (*n)++;
    }
    counts[i].n++;
}

/* Lateness of a run.started event: its time minus its run id's scheduled ms. */
static void tally_started(StoreStats *t, const redisReply *f, int64_t at, int *cap)
{
    const char *run = reply_field(f, "run");
    Occurrence o;
    if (run == NULL || occurrence_run_id_parse(run, &o) != 0)
        return;
    int64_t sched = o.sched_ms;
    if (t->nlate == *cap) {
        *cap = *cap ? *cap * 2 : 256;
        t->late = xrealloc(t->late, (size_t)*cap * sizeof *t->late);
    }
    t->late[t->nlate++] = at > sched ? at - sched : 0;
}

static void tally_finished(StoreStats *t, const redisReply *f, int64_t at)
{
    const char *status = reply_field(f, "status");
    if (status == NULL)
        return;
    count_add(t->outcomes, &t->noutcomes, STORE_STATS_OUTCOMES, status);
    long b = (long)((at - t->start_ms) / t->bucket_ms);
    if (b < 0 || b >= STORE_STATS_BUCKETS)
        return;
    if (strcmp(status, "succeeded") == 0)
        t->succeeded[b]++;
    else if (strcmp(status, "interrupted") != 0) /* a shutdown is not a failure */
        t->failed[b]++;
}

static void tally_reply(StoreStats *t, const redisReply *r, int *cap)
{
    for (size_t i = 0; r != NULL && r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
        const redisReply *e = r->element[i];
        if (e->type != REDIS_REPLY_ARRAY || e->elements != 2)
            continue;
        const char *type = reply_field(e->element[1], "type"), *at = reply_field(e->element[1], "at");
        t->events_scanned++;
        if (type == NULL || at == NULL)
            continue;
        if (strcmp(type, "run.started") == 0)
            tally_started(t, e->element[1], strtoll(at, NULL, 10), cap);
        else if (strcmp(type, "run.finished") == 0)
            tally_finished(t, e->element[1], strtoll(at, NULL, 10));
    }
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Run figures from the last hour of every shard's events (newest SCAN each). */
static int stats_runs(Store *st, int scan, StoreStats *t)
{
    char k[KEY_MAX];
    int cap = 0;
    t->start_ms = t->now_ms - HOUR_MS;
    t->bucket_ms = HOUR_MS / STORE_STATS_BUCKETS;
    for (int s = 0; s < st->shards; s++) {
        skey(st, k, s, "events", NULL);
        rconn_append(st->rc, "XREVRANGE %s + %lld COUNT %d", k, (long long)t->start_ms, scan);
    }
    int rv = STORE_OK;
    for (int s = 0; s < st->shards; s++) {
        redisReply *r = rconn_read(st->rc);
        if (r == NULL)
            rv = store_io_error(st);
        tally_reply(t, r, &cap);
        freeReplyObject(r);
    }
    if (t->nlate > 0)
        qsort(t->late, (size_t)t->nlate, sizeof *t->late, cmp_i64);
    return rv;
}

/* Sums the integer replies of N pipelined commands; -1 on an I/O error. */
static long long sum_replies(Store *st, int n)
{
    long long sum = 0;
    int failed = 0;
    for (int i = 0; i < n; i++) {
        redisReply *r = rconn_read(st->rc);
        if (r == NULL)
            failed = 1;
        else if (r->type == REDIS_REPLY_INTEGER)
            sum += r->integer;
        freeReplyObject(r);
    }
    return failed ? -1 : sum;
}

int store_task_count(Store *st, long long *count)
{
    char k[KEY_MAX];
    for (int s = 0; s < st->shards; s++) {
        skey(st, k, s, "tasks", NULL);
        rconn_append(st->rc, "ZCARD %s", k);
    }
    *count = sum_replies(st, st->shards);
    return *count < 0 ? store_io_error(st) : STORE_OK;
}

/* Queue depth (ready entries, queued or running; due members) and the live
 * schedulers and executors. */
static int stats_queue(Store *st, StoreStats *out)
{
    char k[KEY_MAX];
    for (int s = 0; s < st->shards; s++) {
        skey(st, k, s, "ready", NULL);
        rconn_append(st->rc, "XLEN %s", k);
    }
    long long ready = sum_replies(st, st->shards);
    for (int s = 0; s < st->shards; s++) {
        skey(st, k, s, "due", NULL);
        rconn_append(st->rc, "ZCARD %s", k);
    }
    long long due = sum_replies(st, st->shards);
    long long live[2];
    const char *names[2] = {"schedulers", "executors"};
    for (int i = 0; i < 2; i++) {
        snprintf(k, sizeof k, "%s:%s", st->prefix, names[i]);
        rconn_append(st->rc, "ZCOUNT %s %lld +inf", k, (long long)(out->now_ms - LIVE_WINDOW_MS));
        live[i] = sum_replies(st, 1);
    }
    if (ready < 0 || due < 0 || live[0] < 0 || live[1] < 0)
        return store_io_error(st);
    out->ready = ready;
    out->due = due;
    out->schedulers = live[0];
    out->executors = live[1];
    return STORE_OK;
}

/* Counts one shard's task states from a ZRANGE reply of its task ids. */
static void states_count(Store *st, int shard, const redisReply *ids, StoreStats *out, int *budget)
{
    char k[KEY_MAX];
    int n = 0;
    for (size_t i = 0; ids->type == REDIS_REPLY_ARRAY && i<ids->elements && * budget> 0; i++) {
        if (reply_str(ids->element[i]) == NULL)
            continue;
        skey(st, k, shard, "task", ids->element[i]->str);
        rconn_append(st->rc, "HGET %s state", k);
        n++, (*budget)--;
    }
    for (int i = 0; i < n; i++) {
        redisReply *r = rconn_read(st->rc);
        if (r != NULL && r->type == REDIS_REPLY_STRING)
            count_add(out->states, &out->nstates, STORE_STATS_STATES, r->str);
        freeReplyObject(r);
    }
}

/* Tasks by state; states are read for at most STATS_TASKS_MAX tasks
 * ("counted" says how many). The three states every view shows come first,
 * at zero if no task is in them. */
static int stats_tasks(Store *st, StoreStats *out)
{
    char k[KEY_MAX];
    static const char *const shown[] = {"active", "paused", "completed"};
    for (int i = 0; i < 3; i++)
        snprintf(out->states[i].name, sizeof out->states[i].name, "%s", shown[i]);
    out->nstates = 3;
    int budget = STATS_TASKS_MAX, rv = STORE_OK;
    for (int s = 0; s < st->shards && rv == STORE_OK; s++) {
        skey(st, k, s, "tasks", NULL);
        redisReply *r = rconn_cmd(st->rc, "ZRANGE %s 0 %d", k, budget > 0 ? budget - 1 : 0);
        redisReply *card = r ? rconn_cmd(st->rc, "ZCARD %s", k) : NULL;
        if (r == NULL || card == NULL)
            rv = store_io_error(st);
        else {
            out->tasks_total += card->type == REDIS_REPLY_INTEGER ? card->integer : 0;
            states_count(st, s, r, out, &budget);
        }
        freeReplyObject(r);
        freeReplyObject(card);
    }
    out->tasks_counted = STATS_TASKS_MAX - budget;
    return rv;
}

int store_stats(Store *st, int64_t now_ms, int scan, StoreStats *stats)
{
    *stats = (StoreStats){.now_ms = now_ms};
    int rv = stats_tasks(st, stats);
    if (rv == STORE_OK)
        rv = stats_queue(st, stats);
    if (rv == STORE_OK)
        rv = stats_runs(st, scan, stats);
    if (rv != STORE_OK)
        store_stats_free(stats);
    return rv;
}

void store_stats_free(StoreStats *stats)
{
    free(stats->late);
    stats->late = NULL;
    stats->nlate = 0;
}
