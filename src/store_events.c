/* store_events: the events feed merged over shards, and dashboard figures.
 * Read-only: plain pipelined commands, no scripts. */
#include "store_events.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "mem.h"
#include "store_private.h"

#define STATS_TASKS_MAX 20000 /* tasks whose state is read for the counts */
#define LIVE_WINDOW_MS 10000  /* a process heard from this recently is live */
#define HOUR_MS 3600000
#define BUCKETS 60

typedef struct Event {
    int64_t ms, seq;
    int shard;
    const redisReply *fields; /* borrowed from the reply */
} Event;

int store_event_cursor_parse(const Store *st, const char *id, EventCursor *c)
{
    char tail;
    long long ms, seq;
    int shard;
    if (id == NULL || sscanf(id, "%lld-%lld.%d%c", &ms, &seq, &shard, &tail) != 3 || ms < 0 ||
        seq < 0 || shard < 0 || shard >= st->shards)
        return -1;
    *c = (EventCursor){ms, seq, shard};
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
        long long ms, seq;
        if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
            e->element[0]->type != REDIS_REPLY_STRING ||
            sscanf(e->element[0]->str, "%lld-%lld", &ms, &seq) != 2)
            continue;
        if (*n == *cap) {
            *cap = *cap ? *cap * 2 : 64;
            *ev = xrealloc(*ev, (size_t)*cap * sizeof **ev);
        }
        (*ev)[(*n)++] = (Event){ms, seq, shard, e->element[1]};
    }
}

/* One event as the feed shows it: {id, type, task, at, run?, status?}. */
static json_t *event_json(const Event *e)
{
    char id[64], at[CLOCK_RFC3339_LEN];
    snprintf(id, sizeof id, "%" PRId64 "-%" PRId64 ".%d", e->ms, e->seq, e->shard);
    json_t *o = json_pack("{s:s}", "id", id);
    const redisReply *f = e->fields;
    for (size_t i = 0; f->type == REDIS_REPLY_ARRAY && i + 1 < f->elements; i += 2) {
        const char *k = f->element[i]->str, *v = f->element[i + 1]->str;
        if (k == NULL || v == NULL)
            continue;
        if (strcmp(k, "at") == 0) {
            clock_format_rfc3339(strtoll(v, NULL, 10), at);
            json_object_set_new(o, k, json_string(at));
        } else if (strcmp(k, "type") == 0 || strcmp(k, "task") == 0 || strcmp(k, "run") == 0 ||
                   strcmp(k, "status") == 0) {
            json_object_set_new(o, k, json_string(v));
        }
    }
    return o;
}

/* Reads each shard's replies and builds the merged array: the first COUNT
 * events in order after the cursor, or the last COUNT without one. */
static int events_merge(Store *st, const EventCursor *c, int count, json_t **events)
{
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
    *events = json_array();
    int from = c->ms > 0 ? 0 : (n > count ? n - count : 0);
    for (int i = from; i < n && i < from + count && rv == STORE_OK; i++)
        if (c->ms == 0 || event_cmp(&ev[i], &(Event){c->ms, c->seq, c->shard, NULL}) > 0)
            json_array_append_new(*events, event_json(&ev[i]));
    for (int s = 0; s < st->shards; s++)
        freeReplyObject(replies[s]);
    free(replies);
    free(ev);
    return rv;
}

int store_events_read(Store *st, const EventCursor *c, int count, json_t **events)
{
    char k[KEY_MAX], start[48];
    for (int s = 0; s < st->shards; s++) {
        skey(st, k, s, "events", NULL);
        if (c->ms == 0)
            rconn_append(st->rc, "XREVRANGE %s + - COUNT %d", k, count);
        else if (s == c->shard)
            rconn_append(st->rc, "XRANGE %s (%lld-%lld + COUNT %d", k, (long long)c->ms,
                         (long long)c->seq, count);
        else {
            snprintf(start, sizeof start, "%lld-0", (long long)c->ms);
            rconn_append(st->rc, "XRANGE %s %s + COUNT %d", k, start, count);
        }
    }
    return events_merge(st, c, count, events);
}

/* ---- dashboard figures ---- */

typedef struct Tally {
    int64_t now_ms;
    long succeeded[BUCKETS], failed[BUCKETS];
    json_t *outcomes;    /* status -> count */
    int64_t *late;       /* lateness samples, ms */
    int nlate, caplate;
    long scanned;
} Tally;

static const char *field_get(const redisReply *f, const char *name)
{
    for (size_t i = 0; f->type == REDIS_REPLY_ARRAY && i + 1 < f->elements; i += 2)
        if (f->element[i]->str != NULL && strcmp(f->element[i]->str, name) == 0)
            return f->element[i + 1]->str;
    return NULL;
}

/* Lateness of a run.started event: its time minus the run id's scheduled ms
 * (run ids are TASK:SCHEDULED_MS:ATTEMPT). */
static void tally_started(Tally *t, const redisReply *f, int64_t at)
{
    const char *run = field_get(f, "run");
    const char *colon = run ? strchr(run, ':') : NULL;
    if (colon == NULL)
        return;
    int64_t sched = strtoll(colon + 1, NULL, 10);
    if (t->nlate == t->caplate) {
        t->caplate = t->caplate ? t->caplate * 2 : 256;
        t->late = xrealloc(t->late, (size_t)t->caplate * sizeof *t->late);
    }
    t->late[t->nlate++] = at > sched ? at - sched : 0;
}

static void tally_finished(Tally *t, const redisReply *f, int64_t at)
{
    const char *status = field_get(f, "status");
    if (status == NULL)
        return;
    json_t *n = json_object_get(t->outcomes, status);
    json_object_set_new(t->outcomes, status, json_integer(n ? json_integer_value(n) + 1 : 1));
    long b = (long)((at - (t->now_ms - HOUR_MS)) / (HOUR_MS / BUCKETS));
    if (b < 0 || b >= BUCKETS)
        return;
    if (strcmp(status, "succeeded") == 0)
        t->succeeded[b]++;
    else if (strcmp(status, "interrupted") != 0) /* a shutdown is not a failure */
        t->failed[b]++;
}

static void tally_reply(Tally *t, const redisReply *r)
{
    for (size_t i = 0; r != NULL && r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
        const redisReply *e = r->element[i];
        if (e->type != REDIS_REPLY_ARRAY || e->elements != 2)
            continue;
        const char *type = field_get(e->element[1], "type"), *at = field_get(e->element[1], "at");
        t->scanned++;
        if (type == NULL || at == NULL)
            continue;
        if (strcmp(type, "run.started") == 0)
            tally_started(t, e->element[1], strtoll(at, NULL, 10));
        else if (strcmp(type, "run.finished") == 0)
            tally_finished(t, e->element[1], strtoll(at, NULL, 10));
    }
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* {count, p50, p99, histogram: [{le, count}]} from the lateness samples. */
static json_t *lateness_json(Tally *t)
{
    static const int64_t le[] = {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000};
    const int nle = (int)(sizeof le / sizeof le[0]);
    json_t *hist = json_array();
    if (t->nlate > 0)
        qsort(t->late, (size_t)t->nlate, sizeof *t->late, cmp_i64);
    for (int i = 0, j = 0; i <= nle; i++) {
        int c = 0;
        while (j < t->nlate && (i == nle || t->late[j] <= le[i]))
            j++, c++;
        json_array_append_new(hist, json_pack("{s:o,s:i}", "le", i < nle ? json_integer(le[i]) : json_null(),
                                              "count", c));
    }
    json_t *p50 = t->nlate ? json_integer(t->late[(t->nlate - 1) * 50 / 100]) : json_null();
    json_t *p99 = t->nlate ? json_integer(t->late[(t->nlate - 1) * 99 / 100]) : json_null();
    return json_pack("{s:i,s:o,s:o,s:o}", "count", t->nlate, "p50", p50, "p99", p99, "histogram", hist);
}

static json_t *throughput_json(const Tally *t)
{
    char start[CLOCK_RFC3339_LEN];
    int64_t bucket = HOUR_MS / BUCKETS;
    clock_format_rfc3339(t->now_ms - HOUR_MS, start);
    json_t *ok = json_array(), *bad = json_array();
    for (int i = 0; i < BUCKETS; i++) {
        json_array_append_new(ok, json_integer(t->succeeded[i]));
        json_array_append_new(bad, json_integer(t->failed[i]));
    }
    return json_pack("{s:s,s:I,s:o,s:o}", "start", start, "bucket_ms", (json_int_t)bucket,
                     "succeeded", ok, "failed", bad);
}

/* Run figures from the last hour of every shard's events (newest SCAN each). */
static int stats_runs(Store *st, int64_t now_ms, int scan, json_t *out)
{
    char k[KEY_MAX];
    Tally t = {.now_ms = now_ms, .outcomes = json_object()};
    for (int s = 0; s < st->shards; s++) {
        skey(st, k, s, "events", NULL);
        rconn_append(st->rc, "XREVRANGE %s + %lld COUNT %d", k, (long long)(now_ms - HOUR_MS), scan);
    }
    int rv = STORE_OK;
    for (int s = 0; s < st->shards; s++) {
        redisReply *r = rconn_read(st->rc);
        if (r == NULL)
            rv = store_io_error(st);
        tally_reply(&t, r);
        freeReplyObject(r);
    }
    json_object_set_new(out, "runs_last_hour", t.outcomes);
    json_object_set_new(out, "throughput", throughput_json(&t));
    json_object_set_new(out, "lateness_ms", lateness_json(&t));
    json_object_set_new(out, "events_scanned", json_integer(t.scanned));
    free(t.late);
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
static int stats_queue(Store *st, int64_t now_ms, json_t *out)
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
        rconn_append(st->rc, "ZCOUNT %s %lld +inf", k, (long long)(now_ms - LIVE_WINDOW_MS));
        live[i] = sum_replies(st, 1);
    }
    if (ready < 0 || due < 0 || live[0] < 0 || live[1] < 0)
        return store_io_error(st);
    json_object_set_new(out, "queue", json_pack("{s:I,s:I}", "ready", (json_int_t)ready, "due", (json_int_t)due));
    json_object_set_new(out, "processes", json_pack("{s:I,s:I}", "schedulers", (json_int_t)live[0],
                                                    "executors", (json_int_t)live[1]));
    return STORE_OK;
}

/* Counts one shard's task states from a ZRANGE reply of its task ids. */
static void states_count(Store *st, int shard, const redisReply *ids, json_t *counts, int *budget)
{
    char k[KEY_MAX];
    int n = 0;
    for (size_t i = 0; ids->type == REDIS_REPLY_ARRAY && i < ids->elements && *budget > 0; i++) {
        if (reply_str(ids->element[i]) == NULL)
            continue;
        skey(st, k, shard, "task", ids->element[i]->str);
        rconn_append(st->rc, "HGET %s state", k);
        n++, (*budget)--;
    }
    for (int i = 0; i < n; i++) {
        redisReply *r = rconn_read(st->rc);
        if (r != NULL && r->type == REDIS_REPLY_STRING) {
            json_t *c = json_object_get(counts, r->str);
            json_object_set_new(counts, r->str, json_integer(c ? json_integer_value(c) + 1 : 1));
        }
        freeReplyObject(r);
    }
}

/* Tasks by state; states are read for at most STATS_TASKS_MAX tasks
 * ("counted" says how many). */
static int stats_tasks(Store *st, json_t *out)
{
    char k[KEY_MAX];
    json_t *counts = json_pack("{s:i,s:i,s:i}", "active", 0, "paused", 0, "completed", 0);
    long long total = 0;
    int budget = STATS_TASKS_MAX, rv = STORE_OK;
    for (int s = 0; s < st->shards && rv == STORE_OK; s++) {
        skey(st, k, s, "tasks", NULL);
        redisReply *r = rconn_cmd(st->rc, "ZRANGE %s 0 %d", k, budget > 0 ? budget - 1 : 0);
        redisReply *card = r ? rconn_cmd(st->rc, "ZCARD %s", k) : NULL;
        if (r == NULL || card == NULL)
            rv = store_io_error(st);
        else {
            total += card->type == REDIS_REPLY_INTEGER ? card->integer : 0;
            states_count(st, s, r, counts, &budget);
        }
        freeReplyObject(r);
        freeReplyObject(card);
    }
    json_object_set_new(counts, "total", json_integer(total));
    json_object_set_new(counts, "counted", json_integer(STATS_TASKS_MAX - budget));
    json_object_set_new(out, "tasks", counts);
    return rv;
}

int store_stats(Store *st, int64_t now_ms, int scan, json_t **stats)
{
    char at[CLOCK_RFC3339_LEN];
    clock_format_rfc3339(now_ms, at);
    *stats = json_pack("{s:s}", "at", at);
    int rv = stats_tasks(st, *stats);
    if (rv == STORE_OK)
        rv = stats_queue(st, now_ms, *stats);
    if (rv == STORE_OK)
        rv = stats_runs(st, now_ms, scan, *stats);
    if (rv != STORE_OK) {
        json_decref(*stats);
        *stats = NULL;
    }
    return rv;
}
