/* store_chain: the chaining outbox (issue 16, "then"), as the scheduler's
 * drainer and the api's chain check use it. */
#ifndef DTS_STORE_CHAIN_H
#define DTS_STORE_CHAIN_H

#include <jansson.h>
#include <stdint.h>

#include "store.h"
#include "task.h"

/* One outbox entry: run TASK once, chained from run SOURCE (of SOURCE_TASK). */
typedef struct ChainItem {
    int shard;      /* the source's shard, whose outbox holds it */
    char entry[40]; /* outbox stream entry id */
    char task[TASK_ID_MAX + 1];
    char source[192];
    char source_task[TASK_ID_MAX + 1];
    int malformed; /* no task or source: delete it */
} ChainItem;

typedef enum { CHAIN_QUEUED, CHAIN_HELD, CHAIN_DUPLICATE, CHAIN_GONE } ChainVerdict;

/* Reads up to COUNT outbox entries of each of the N SHARDS, oldest first, in
 * one round trip. *out (caller frees) gets *nout items. */
int store_outbox_read(Store *st, const int *shards, int n, int count, ChainItem **out, int *nout);

/* Runs IT's task once (scripts/chain.lua, on the task's shard): CHAIN_QUEUED
 * (into the ready stream, kind "chained", *sched its scheduled ms),
 * CHAIN_HELD (the task is paused: it runs on resume), CHAIN_DUPLICATE (this
 * source already chained it) or CHAIN_GONE (no such task). */
int store_chain_trigger(Store *st, const ChainItem *it, ChainVerdict *verdict, int64_t *sched);

/* Deletes IT from its outbox (after store_chain_trigger answered). */
int store_outbox_ack(Store *st, const ChainItem *it);

/* Task ID's chained tasks: *then (caller decrefs) gets its "then" array, or
 * NULL if it has none. STORE_ENOTFOUND if there is no such task. */
int store_task_then(Store *st, const char *id, json_t **then);

#endif
