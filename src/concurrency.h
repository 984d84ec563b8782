/* concurrency: concurrency keys on the executor's side (issue 16).
 *
 * Design: a task with "concurrency": {"key": K, "limit": N} runs at most N
 * runs of K's tasks at once, across executors. start.lua answers "gated" for
 * such a task's entry unless the executor already holds a slot of K for the
 * occurrence; the executor then takes one in K's own hash slot
 * (store_conc_acquire, never part of a task shard's script) and starts again
 * with it. Without a free slot the job waits in the executor (its stream
 * entry kept fresh by the keeper, which retries the slot on every beat, in
 * due order across executors) and takes no worker. Slots are heartbeated
 * while the run lasts and freed when it ends; a crashed executor's slot frees
 * after the recovery timeout, on Redis's clock. */
#ifndef DTS_CONCURRENCY_H
#define DTS_CONCURRENCY_H

#include <stdint.h>

#include "store_exec.h"

/* Declares the per-key metrics; call once. */
void conc_init(void);

/* Tries to take a slot for E (START_GATED); sets e->slot_held on success.
 * Returns 1 if held, 0 if it must wait, or a negative STORE_E* code. */
int conc_try(Store *st, ReadyEntry *e, int64_t stale_ms);

/* Frees E's slot (or its place in the queue) if it has a key; clears
 * e->slot_held. Errors are logged: the slot then frees after STALE_MS. */
void conc_release(Store *st, ReadyEntry *e, int64_t stale_ms);

/* Publishes dts_concurrency_running and dts_concurrency_waiting for this
 * executor's jobs: the N keys in KEYS, RUNNING[i] and WAITING[i] of each.
 * Keys seen before and absent now are set to 0. */
void conc_report(const char *const *keys, const int *running, const int *waiting, int n);

#endif
