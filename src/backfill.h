/* backfill: which occurrences of a cron task a backfill of [from, to) runs:
 * its shifted fires in the range, excluded ones left out, in time order.
 * Pure: no I/O, no clock. */
#ifndef DTS_BACKFILL_H
#define DTS_BACKFILL_H

#include <stdint.h>

#include "task.h"

#define BACKFILL_MAX 10000 /* occurrences one request may run */

/* Writes into OUT (room for MAX) the scheduled ms of SPEC's occurrences in
 * [FROM_MS, TO_MS), anchored at ANCHOR_MS (the task's creation, for @every),
 * SPEC bound to its task (task_spec_bind) so they are the jittered times, and
 * leaving out those SPEC's exclusions exclude. Returns how many, or -1 if
 * there are more than MAX. */
int backfill_occurrences(const TaskSpec *spec, int64_t anchor_ms, int64_t from_ms, int64_t to_ms,
                         int64_t *out, int max);

#endif
