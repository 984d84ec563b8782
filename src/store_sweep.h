/* store_sweep: the store's housekeeping for the sweeper: dead executors, idle
 * consumers, history trimming and retention. */
#ifndef DTS_STORE_SWEEP_H
#define DTS_STORE_SWEEP_H

#include <jansson.h>
#include <stdint.h>

#include "store.h"

/* ---- sweeper (bounded work per call; any replica may run it) ---- */

/* Drops executors silent for longer than DEAD_MS (at Redis time NOW_MS) from
 * P:executors; *live gets the ids of the rest (a new JSON array). */
int store_sweep_executors(Store *st, int64_t now_ms, int64_t dead_ms, json_t **live);

/* Removes SHARD's consumers idle longer than IDLE_MS that have nothing
 * pending and are not in LIVE (scripts/sweep_consumers.lua); *removed gets how
 * many. */
int store_sweep_consumers(Store *st, int shard, int64_t idle_ms, const json_t *live, int *removed);

/* Sweeps the next BATCH tasks of SHARD after a cursor kept in Redis (the walk
 * wraps at the end): trims each history to runs-kept and HISTORY_MAX_AGE_MS,
 * and deletes completed tasks older than RETENTION_MS. *trimmed and *deleted
 * get the counts. */
int store_sweep_tasks(Store *st, int shard, int batch, int64_t history_max_age_ms, int64_t retention_ms,
                      int *trimmed, int *deleted);

#endif
