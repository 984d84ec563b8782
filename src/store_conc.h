/* store_conc: the slots of concurrency keys (issue 16), as the executor's
 * gate and the api's GET /api/v1/concurrency/{key} use them. Each key's slots
 * live in its own hash slot. Members are occurrence ids; stamps older than
 * STALE_MS (the recovery timeout) are a dead executor's and are dropped
 * first, on Redis's clock. */
#ifndef DTS_STORE_CONC_H
#define DTS_STORE_CONC_H

#include <jansson.h>
#include <stdint.h>

#include "store_exec.h"

/* Takes a slot of E's key (e->conc_key, at most e->conc_limit held) for E's
 * occurrence, or waits for one in due order: *acquired 1 or 0. Calling again
 * while waiting is the waiter's heartbeat. */
int store_conc_acquire(Store *st, const ReadyEntry *e, int64_t stale_ms, int *acquired);

/* Heartbeats the slot E's occurrence holds. */
int store_conc_touch(Store *st, const ReadyEntry *e, int64_t stale_ms);

/* Frees the slot E's occurrence holds, or its place in the queue; nothing if
 * a later delivery of the occurrence (the entry claimed away from this
 * executor) has taken the slot over since. */
int store_conc_release(Store *st, const ReadyEntry *e, int64_t stale_ms);

/* *out (caller decrefs): {key, limit, running, waiting, running_occurrences,
 * waiting_occurrences} (at most 100 of each, waiting in due order). With
 * STALE_MS 0 nothing is evicted (a reader does not know the timeout). */
int store_conc_show(Store *st, const char *key, int64_t stale_ms, json_t **out);

#endif
