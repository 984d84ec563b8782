/* store_backfill: queueing a cron task's backfill (backfill.lua): past
 * occurrences put on its shard's ready stream as kind backfill, remembered in
 * the task's backfill set so a repeat queues nothing twice. */
#ifndef DTS_STORE_BACKFILL_H
#define DTS_STORE_BACKFILL_H

#include <stdint.h>

#include "store.h"

#define STORE_BACKFILL_KEPT 100000 /* scheduled times a task's backfill set keeps (the newest) */
#define STORE_BACKFILL_CALL_MAX 64 /* occurrences one script call queues: about a ms of Redis */

/* Queues the N occurrences scheduled at SCHED (ms, in time order) of task ID,
 * whose version the caller read as VERSION, in atomic script calls of
 * STORE_BACKFILL_CALL_MAX (an error stops the rest: a repeat completes it,
 * queueing nothing twice; *queued and *already count what was done). Those
 * backfilled before, with a run already, or at or after the task's pending
 * due are left out. *queued and *already get the counts. STORE_OK,
 * STORE_ENOTFOUND, STORE_ECONFLICT (paused), STORE_ESTALE (changed since) or
 * STORE_EIO. */
int store_task_backfill(Store *st, const char *id, int64_t version, const int64_t *sched, int n,
                        int64_t now_ms, long long *queued, long long *already);

#endif
