/* chain: chaining one task after another ("then", issue 16).
 *
 * Design: when a run of a task with "then" finishes (its final attempt), the
 * completion script writes one entry per chained task into the outbox of the
 * source task's shard, in the same atomic step as the completion. A
 * scheduler, in its loop, drains the outbox of the shards it leases: for each
 * entry it runs chain.lua on the chained task's shard, which queues one
 * occurrence (kind "chained", the source run id on the entry and then on the
 * run) unless it has seen that (task, source run) before, and then deletes
 * the entry. So no script touches two shards, and a drainer that dies
 * between the two steps only makes the next one see a duplicate: exactly one
 * chained run per finishing run. */
#ifndef DTS_CHAIN_H
#define DTS_CHAIN_H

#include <stdint.h>

#include "store.h"
#include "task.h"

/* Checks SPEC's chained tasks against the store: each must exist, and none
 * may be SELF (the task being replaced; NULL for a new one) or chain straight
 * back to SELF. Returns 0 if they are acceptable, 1 if not (*err names the
 * field, as "then[1].task"), or a negative STORE_E* code. */
int chain_check(Store *st, const char *self, const TaskSpec *spec, TaskError *err);

typedef struct ChainDrainer {
    /* private */
    int64_t next_ms;  /* monotonic time of the next pass */
    int64_t pause_ms; /* test seam (DTS_TEST_CHAIN_PAUSE_MS): sleep between trigger and delete */
} ChainDrainer;

/* Reads the test seam and declares the drainer's metric; call once. */
void chain_drain_init(ChainDrainer *cd);

/* Drains the outboxes of the N SHARDS the caller leases, at most every
 * 100 ms (else returns at once). Errors are logged; entries stay for the
 * next pass. */
void chain_drain_run(ChainDrainer *cd, Store *st, const int *shards, int n);

#endif
