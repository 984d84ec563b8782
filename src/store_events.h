/* store_events: read-only views of the store for the UI: the events feed
 * (the P:{N}:events streams, merged over shards) and dashboard statistics.
 * Like the rest of the store, one Store is one connection: one per thread. */
#ifndef DTS_STORE_EVENTS_H
#define DTS_STORE_EVENTS_H

#include <stdint.h>

#include "record.h"
#include "store.h"

/* A position in the merged feed: the last event seen, as its stream entry id
 * (MS-SEQ) and shard. A zero cursor (ms = 0) means "no position". */
typedef struct EventCursor {
    int64_t ms;
    int64_t seq;
    int shard;
} EventCursor;

/* Parses an SSE event id "MS-SEQ.SHARD" as store_events_read writes them.
 * Returns 0, or -1 if ID is malformed or names a shard out of range. */
int store_event_cursor_parse(const Store *st, const char *id, EventCursor *c);

/* Reads up to COUNT events after cursor C, oldest first, merged over every
 * shard; with a zero cursor, the COUNT newest events instead. *events gets
 * one record per event (the caller clears it with record_list_clear): the
 * stream entry's fields (type, task, at in ms, ...) plus "id", the cursor text
 * to resume from. Events in the very millisecond of the cursor on other
 * shards may come again (a stream id's sequence is per shard); callers dedupe
 * by id. One round trip. api_view renders them. */
int store_events_read(Store *st, const EventCursor *c, int count, RecordList *events);

#define STORE_STATS_BUCKETS 60  /* throughput buckets over the last hour */
#define STORE_STATS_STATES 8    /* distinct task states counted */
#define STORE_STATS_OUTCOMES 16 /* distinct run statuses counted */

typedef struct StoreCount {
    char name[24];
    long long n;
} StoreCount;

/* Dashboard figures, as the store computes them; api_view renders them as
 * docs/openapi.yaml's Stats. Times are ms (Redis's clock). */
typedef struct StoreStats {
    int64_t now_ms;
    StoreCount states[STORE_STATS_STATES]; /* tasks by state: active, paused, completed first */
    int nstates;
    long long tasks_total, tasks_counted; /* all tasks; those whose state was read */
    long long ready, due, schedulers, executors;
    StoreCount outcomes[STORE_STATS_OUTCOMES]; /* runs finished in the hour, by status, first seen first */
    int noutcomes;
    int64_t start_ms, bucket_ms; /* the hour's throughput buckets */
    long succeeded[STORE_STATS_BUCKETS], failed[STORE_STATS_BUCKETS];
    int64_t *late; /* lateness samples of the hour's starts, ms, ascending (freed by store_stats_free) */
    int nlate;
    long events_scanned;
} StoreStats;

/* Dashboard figures, computed from the task indexes, the ready and due sets,
 * the process registries and up to SCAN events per shard since NOW_MS - 1 h,
 * into *stats (the caller frees it with store_stats_free, also after an
 * error). */
int store_stats(Store *st, int64_t now_ms, int scan, StoreStats *stats);

/* Frees what store_stats allocated in STATS (a no-op on a zeroed one). */
void store_stats_free(StoreStats *stats);

#endif
