/* sweeper: bounded clean-up passes over held shards (see sweeper.h). */
#include "sweeper.h"

#include <jansson.h>

#include "clock.h"
#include "log.h"
#include "metrics.h"
#include "store_sweep.h"

/* One shard: its dead consumers, then the next batch of its tasks. */
static void sweep_shard(Sweeper *sw, Store *st, int shard, const json_t *live)
{
    int consumers = 0, trimmed = 0, deleted = 0;
    if (store_sweep_consumers(st, shard, sw->executor_dead_ms, live, &consumers) != STORE_OK ||
        store_sweep_tasks(st, shard, (int)sw->batch, (int64_t)sw->history_age_s * 1000,
                          (int64_t)sw->completed_retention_s * 1000, &trimmed, &deleted) != STORE_OK) {
        log_warn("sweep failed; the next pass tries again", "{s:i,s:s}", "shard", shard, "error",
                 store_errstr(st));
        return;
    }
    metrics_add("dts_swept_total", "what=\"consumers\"", consumers);
    metrics_add("dts_swept_total", "what=\"runs\"", trimmed);
    metrics_add("dts_swept_total", "what=\"tasks\"", deleted);
    if (consumers + deleted > 0)
        log_info("swept", "{s:i,s:i,s:i,s:i}", "shard", shard, "consumers", consumers, "runs", trimmed,
                 "tasks", deleted);
}

void sweeper_init(Sweeper *sw)
{
    sw->next_ms = 0;
    metrics_declare("dts_swept_total", METRIC_COUNTER, "What the sweeper removed, by kind.");
}

void sweeper_run(Sweeper *sw, Store *st, const int *shards, int n)
{
    if (n == 0 || clock_mono_ms() < sw->next_ms)
        return;
    sw->next_ms = clock_mono_ms() + sw->interval_ms;
    int64_t now;
    json_t *live = NULL;
    if (store_time(st, &now) != STORE_OK ||
        store_sweep_executors(st, now, sw->executor_dead_ms, &live) != STORE_OK) {
        log_warn("sweep failed; the next pass tries again", "{s:s}", "error", store_errstr(st));
        json_decref(live);
        return;
    }
    for (int i = 0; i < n; i++)
        sweep_shard(sw, st, shards[i], live);
    json_decref(live);
}
