/* store_backfill: a cron task's backfill (see store_backfill.h). */
#include "store_backfill.h"

#include <stdio.h>

#include "occurrence.h"
#include "store_private.h"

/* One backfill.lua call: the N occurrences at SCHED. */
static int backfill_call(Store *st, const char *id, int64_t version, const int64_t *sched, int n,
                         int64_t now_ms, long long *queued, long long *already)
{
    char k[KEY_MAX], ms[32], head[OCC_RUN_ID_MAX + 1], tail[16];
    int shard = store_shard_of(id, st->shards);
    Args a = {0};
    static const char *const names[] = {"task", "ready", "backfill", "runs", "events"};
    for (int i = 0; i < 5; i++) {
        int per_task = i != 1 && i != 4;
        skey(st, k, shard, names[i], per_task ? id : NULL);
        args_add(&a, k);
    }
    args_add(&a, id);
    args_add(&a, ms_str(ms, now_ms));
    args_add(&a, EVENTS_MAXLEN);
    args_add(&a, ms_str(ms, version));
    args_addf(&a, "%d", STORE_BACKFILL_KEPT);
    occurrence_run_id_around(head, sizeof head, tail, sizeof tail, id, 1);
    args_add(&a, head);
    args_add(&a, tail);
    for (int i = 0; i < n; i++)
        args_add(&a, ms_str(ms, sched[i]));
    redisReply *r = store_eval(st, SCRIPT_BACKFILL, 5, &a);
    args_free(&a);
    if (r == NULL)
        return store_io_error(st);
    const redisReply *q = reply_elem(r, 0), *d = reply_elem(r, 1);
    int rv = STORE_OK;
    if (q != NULL && q->type == REDIS_REPLY_INTEGER && d != NULL && d->type == REDIS_REPLY_INTEGER) {
        *queued += q->integer;
        *already += d->integer;
    } else {
        rv = store_reply_error(st, r);
    }
    freeReplyObject(r);
    return rv;
}

int store_task_backfill(Store *st, const char *id, int64_t version, const int64_t *sched, int n,
                        int64_t now_ms, long long *queued, long long *already)
{
    *queued = *already = 0;
    int rv = STORE_OK;
    /* In calls of STORE_BACKFILL_CALL_MAX: one call of 10,000 held Redis for
     * about 365 ms, and one of 200 about 6 ms, past the ms a script may take. */
    for (int i = 0; i < n && rv == STORE_OK; i += STORE_BACKFILL_CALL_MAX) {
        int m = n - i < STORE_BACKFILL_CALL_MAX ? n - i : STORE_BACKFILL_CALL_MAX;
        rv = backfill_call(st, id, version, sched + i, m, now_ms, queued, already);
    }
    return rv;
}
