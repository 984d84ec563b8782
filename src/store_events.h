/* store_events: read-only views of the store for the UI: the events feed
 * (the P:{N}:events streams, merged over shards) and dashboard statistics.
 * Like the rest of the store, one Store is one connection: one per thread. */
#ifndef DTS_STORE_EVENTS_H
#define DTS_STORE_EVENTS_H

#include <jansson.h>
#include <stdint.h>

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
 * shard; with a zero cursor, the COUNT newest events instead. *events gets a
 * new JSON array (caller decrefs) of objects {id, type, task, at, ...} where
 * id is the cursor text to resume from and at is RFC 3339. Events in the very
 * millisecond of the cursor on other shards may come again (a stream id's
 * sequence is per shard); callers dedupe by id. One round trip. */
int store_events_read(Store *st, const EventCursor *c, int count, json_t **events);

/* Dashboard figures, computed from the task indexes, the ready and due sets,
 * the process registries and up to SCAN events per shard since NOW_MS - 1 h:
 * a new JSON object (caller decrefs) shaped as docs/openapi.yaml's Stats. */
int store_stats(Store *st, int64_t now_ms, int scan, json_t **stats);

#endif
