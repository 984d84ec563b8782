/* chain: the write-time checks of "then" and the outbox drainer (the design
 * note is in chain.h). */
#include "chain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "metrics.h"
#include "store_chain.h"

#define DRAIN_INTERVAL_MS 100
#define DRAIN_BATCH 64 /* entries per shard per pass */

/* 1 if the chained-task array THEN names ID. */
static int names(const json_t *then, const char *id)
{
    size_t i;
    json_t *c;
    json_array_foreach(then, i,
                       c) if (strcmp(json_string_value(json_object_get(c, "task")), id) == 0) return 1;
    return 0;
}

int chain_check(Store *st, const char *self, const TaskSpec *spec, TaskError *err)
{
    size_t i;
    json_t *c;
    json_array_foreach(spec->then, i, c)
    {
        const char *target = json_string_value(json_object_get(c, "task"));
        snprintf(err->field, sizeof err->field, "then[%zu].task", i);
        if (self != NULL && strcmp(target, self) == 0) {
            snprintf(err->detail, sizeof err->detail,
                     "is this task itself: a chain may not loop on itself");
            return 1;
        }
        json_t *back = NULL;
        int rv = store_task_then(st, target, &back);
        if (rv == STORE_ENOTFOUND) {
            snprintf(err->detail, sizeof err->detail, "names no task (%s)", target);
            return 1;
        }
        if (rv != STORE_OK)
            return rv;
        int loop = self != NULL && back != NULL && names(back, self);
        json_decref(back);
        if (loop) {
            snprintf(err->detail, sizeof err->detail, "chains back to this task: a chain may not loop");
            return 1;
        }
    }
    return 0;
}

void chain_drain_init(ChainDrainer *cd)
{
    const char *pause = getenv("DTS_TEST_CHAIN_PAUSE_MS");
    cd->next_ms = 0;
    cd->pause_ms = pause ? strtoll(pause, NULL, 10) : 0;
    metrics_declare("dts_chained_total", METRIC_COUNTER,
                    "Outbox entries of finished runs drained, by outcome.");
}

static const char *const verdicts[] = {"queued", "held", "duplicate", "gone"};

/* Runs one outbox entry's task, then deletes the entry. 0, or -1 to stop the
 * pass (Redis is unreachable; the entry stays). */
static int drain_one(ChainDrainer *cd, Store *st, const ChainItem *it)
{
    ChainVerdict v = CHAIN_GONE;
    int64_t sched = 0;
    if (!it->malformed && store_chain_trigger(st, it, &v, &sched) != STORE_OK) {
        log_warn("chain trigger failed; retrying next pass", "{s:s,s:s}", "task_id", it->task, "error",
                 store_errstr(st));
        return -1;
    }
    if (!it->malformed) {
        char labels[32];
        snprintf(labels, sizeof labels, "outcome=\"%s\"", verdicts[v]);
        metrics_add("dts_chained_total", labels, 1);
        log_info("chained task triggered", "{s:s,s:s,s:s}", "task_id", it->task, "source_run", it->source,
                 "verdict", verdicts[v]);
    }
    if (cd->pause_ms > 0)
        clock_sleep_ms(cd->pause_ms); /* test seam: a kill here must not double the run */
    return store_outbox_ack(st, it) == STORE_OK ? 0 : -1;
}

void chain_drain_run(ChainDrainer *cd, Store *st, const int *shards, int n)
{
    if (n == 0 || clock_mono_ms() < cd->next_ms)
        return;
    cd->next_ms = clock_mono_ms() + DRAIN_INTERVAL_MS;
    ChainItem *items = NULL;
    int count = 0;
    if (store_outbox_read(st, shards, n, DRAIN_BATCH, &items, &count) != STORE_OK)
        log_warn("outbox read failed", "{s:s}", "error", store_errstr(st));
    for (int i = 0; i < count && drain_one(cd, st, &items[i]) == 0; i++)
        ;
    free(items);
}
