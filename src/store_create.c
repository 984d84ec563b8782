/* store_create: new tasks, one at a time or a batch per shard, answered with
 * the record of what was written (see store_create.h). */
#include "store_create.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "store_private.h"

/* The record of a task just stored, from the create arguments A (as
 * store_create_args made them): the fields the create script wrote from these
 * very name/value pairs, plus the ones the script sets itself; the counters
 * and last_run it leaves out read as zero and empty, as the view shows absent
 * fields. The api renders it (api_view_task_spec) without a re-read. */
static void written_record(const Args *a, int64_t now_ms, Record *out)
{
    char now[32];
    const char *due = a->v[CREATE_NKEYS + 2], *immediate = a->v[CREATE_NKEYS + 3];
    const char *next = strcmp(immediate, "1") == 0 || strcmp(due, "-1") == 0 ? "" : due;
    record_add(out, "id", a->v[CREATE_NKEYS]);
    record_add(out, "state", "active");
    record_add(out, "version", "1");
    record_add(out, "created", ms_str(now, now_ms));
    record_add(out, "next", next);
    for (int i = CREATE_ARG_FIELDS; i + 1 < a->n; i += 2)
        record_add(out, a->v[i], a->v[i + 1]);
}

/* Maps one item's error text from a create script to a STORE_E* code. */
static int item_error(const char *text)
{
    if (text != NULL && strncmp(text, "EFULL", 5) == 0)
        return STORE_EFULL;
    if (text != NULL && strncmp(text, "EEXIST", 6) == 0)
        return STORE_EEXIST;
    return STORE_EIO;
}

static void create_args(const Store *st, const TaskCreate *c, int64_t now_ms, long max_ready, Args *a)
{
    store_create_args(st->prefix, st->shards, c->id, c->spec, now_ms, c->due_ms, c->immediate, max_ready,
                      a);
}

int store_task_create(Store *st, TaskCreate *c, int64_t now_ms, long max_ready, int want_view)
{
    Args a = {0};
    create_args(st, c, now_ms, max_ready, &a);
    c->written = (Record){0};
    redisReply *r = store_eval(st, SCRIPT_CREATE, CREATE_NKEYS, &a);
    if (r == NULL)
        c->rv = STORE_EIO;
    else if (r->type == REDIS_REPLY_ERROR)
        c->rv = item_error(r->str) == STORE_EIO ? store_reply_error(st, r) : item_error(r->str);
    else
        c->rv = STORE_OK;
    if (c->rv == STORE_OK && want_view)
        written_record(&a, now_ms, &c->written);
    freeReplyObject(r);
    args_free(&a);
    return c->rv;
}

/* One create_batch call: the items (indexes into the request) of one shard. */
typedef struct Call {
    int shard, n, first; /* first: where its item indexes start in the order array */
    Args own;            /* the shard's 4 keys, now, maxlen, max_ready, n, then each item's F */
} Call;

/* Builds what CALL owns: the strings that are not some item's create args. */
static void call_build(const Store *st, Call *call, const int *order, const Args *item_args, int64_t now_ms,
                       long max_ready)
{
    char k[KEY_MAX], ms[32];
    static const char *const shared[] = {"tasks", "due", "ready", "events", NULL};
    for (const char *const *name = shared; *name; name++) {
        skey(st, k, call->shard, *name, NULL);
        args_add(&call->own, k);
    }
    args_add(&call->own, ms_str(ms, now_ms));
    args_add(&call->own, EVENTS_MAXLEN);
    args_addf(&call->own, "%ld", max_ready);
    args_addf(&call->own, "%d", call->n);
    for (int i = 0; i < call->n; i++)
        args_addf(&call->own, "%d", item_args[order[call->first + i]].n - CREATE_ARG_FIELDS);
}

/* A vector of borrowed strings: an EVALSHA's argv. */
typedef struct Argv {
    int n;
    const char **v;
    size_t *len;
} Argv;

static void argv_push(Argv *av, const char *s, size_t len)
{
    av->v[av->n] = s;
    av->len[av->n++] = len;
}

/* Appends CALL's EVALSHA to the pipeline, its argv borrowed from what the
 * call owns and from its items' create args: the task hash of each item among
 * the keys, then per item its id, due, immediate, F and its F field values. */
static void call_append(Store *st, const Call *call, const int *order, const Args *item_args)
{
    const Args *own = &call->own;
    int argc = 3 + own->n;
    for (int i = 0; i < call->n; i++)
        argc += 4 + item_args[order[call->first + i]].n - CREATE_ARG_FIELDS;
    Argv av = {0, xmalloc((size_t)argc * sizeof *av.v), xmalloc((size_t)argc * sizeof *av.len)};
    char nk[16];
    snprintf(nk, sizeof nk, "%d", 4 + call->n);
    argv_push(&av, "EVALSHA", 7);
    argv_push(&av, st->sha[SCRIPT_CREATE_BATCH], 40);
    argv_push(&av, nk, strlen(nk));
    for (int i = 0; i < 4; i++)
        argv_push(&av, own->v[i], own->len[i]);
    for (int i = 0; i < call->n; i++)
        argv_push(&av, item_args[order[call->first + i]].v[0], item_args[order[call->first + i]].len[0]);
    for (int i = 4; i < 8; i++)
        argv_push(&av, own->v[i], own->len[i]);
    for (int i = 0; i < call->n; i++) {
        const Args *it = &item_args[order[call->first + i]];
        for (int j = CREATE_NKEYS; j < CREATE_NKEYS + 4; j++) /* id, now (skipped), due, immediate */
            if (j != CREATE_NKEYS + 1)
                argv_push(&av, it->v[j], it->len[j]);
        argv_push(&av, own->v[8 + i], own->len[8 + i]);
        for (int j = CREATE_ARG_FIELDS; j < it->n; j++)
            argv_push(&av, it->v[j], it->len[j]);
    }
    rconn_append_argv(st->rc, av.n, av.v, av.len);
    free(av.v);
    free(av.len);
}

/* Reads CALL's reply into its items' rv. Returns 1 if Redis had lost the
 * script (nothing of the call ran: send it again), else 0. */
static int call_read(Store *st, const Call *call, const int *order, TaskCreate *items)
{
    redisReply *r = rconn_read(st->rc);
    int noscript = r != NULL && r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOSCRIPT", 8) == 0;
    int ok = r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements == (size_t)call->n;
    int whole = ok                             ? STORE_OK
                : r == NULL                    ? store_io_error(st)
                : r->type == REDIS_REPLY_ERROR ? store_reply_error(st, r)
                                               : STORE_EIO;
    for (int i = 0; i < call->n; i++) {
        const redisReply *e = ok ? r->element[i] : NULL;
        items[order[call->first + i]].rv = !ok ? whole
                                           : e->type == REDIS_REPLY_INTEGER && e->integer == 1
                                               ? STORE_OK
                                               : item_error(reply_str(e));
    }
    freeReplyObject(r);
    return noscript;
}

/* Groups the items by shard into calls of at most STORE_CREATE_CALL_MAX;
 * ORDER gets the item indexes call by call. Returns the number of calls. */
static int plan_calls(const Store *st, const TaskCreate *items, int n, int *order, Call *calls)
{
    int ncalls = 0, at = 0;
    int *shard_of = xmalloc((size_t)n * sizeof *shard_of);
    for (int i = 0; i < n; i++)
        shard_of[i] = store_shard_of(items[i].id, st->shards);
    for (int s = 0; s < st->shards; s++) {
        for (int i = 0; i < n; i++) {
            if (shard_of[i] != s)
                continue;
            if (ncalls == 0 || calls[ncalls - 1].shard != s || calls[ncalls - 1].n == STORE_CREATE_CALL_MAX)
                calls[ncalls++] = (Call){.shard = s, .first = at};
            calls[ncalls - 1].n++;
            order[at++] = i;
        }
    }
    free(shard_of);
    return ncalls;
}

/* Sends the calls (pipelined) and reads their replies; sends again, once, the
 * calls that found the script missing (Redis restarted). */
static void calls_run(Store *st, Call *calls, int ncalls, const int *order, const Args *item_args,
                      TaskCreate *items)
{
    int *again = xcalloc((size_t)ncalls, sizeof *again);
    for (int tries = 0, pending = ncalls; tries < 2 && pending > 0; tries++) {
        if (store_script_ensure(st, SCRIPT_CREATE_BATCH) != STORE_OK)
            break;
        for (int c = 0; c < ncalls; c++)
            if (tries == 0 || again[c])
                call_append(st, &calls[c], order, item_args);
        pending = 0;
        for (int c = 0; c < ncalls; c++)
            if (tries == 0 || again[c])
                pending += again[c] = call_read(st, &calls[c], order, items);
        if (pending > 0)
            st->sha[SCRIPT_CREATE_BATCH][0] = '\0';
    }
    free(again);
}

int store_task_create_batch(Store *st, TaskCreate *items, int n, int64_t now_ms, long max_ready,
                            int want_view)
{
    Args *item_args = xcalloc((size_t)n + 1, sizeof *item_args);
    int *order = xmalloc(((size_t)n + 1) * sizeof *order);
    Call *calls = xcalloc((size_t)n + 1, sizeof *calls);
    for (int i = 0; i < n; i++) {
        items[i].rv = STORE_EIO;
        items[i].written = (Record){0};
        create_args(st, &items[i], now_ms, max_ready, &item_args[i]);
    }
    int ncalls = plan_calls(st, items, n, order, calls), stored = 0, failed = 0;
    for (int c = 0; c < ncalls; c++)
        call_build(st, &calls[c], order, item_args, now_ms, max_ready);
    calls_run(st, calls, ncalls, order, item_args, items);
    for (int i = 0; i < n; i++) {
        stored += items[i].rv == STORE_OK;
        failed += items[i].rv == STORE_EIO;
        if (items[i].rv == STORE_OK && want_view)
            written_record(&item_args[i], now_ms, &items[i].written);
        args_free(&item_args[i]);
    }
    if (stored > 0)
        store_replicate(st);
    for (int c = 0; c < ncalls; c++)
        args_free(&calls[c].own);
    free(item_args);
    free(order);
    free(calls);
    return n > 0 && failed == n ? STORE_EIO : STORE_OK;
}
