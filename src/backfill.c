/* backfill: the occurrences a backfill runs (see backfill.h). */
#include "backfill.h"

int backfill_occurrences(const TaskSpec *spec, int64_t anchor_ms, int64_t from_ms, int64_t to_ms,
                         int64_t *out, int max)
{
    int n = 0;
    for (int64_t t = task_next_due(spec, anchor_ms, from_ms - 1); t >= 0 && t < to_ms;
         t = task_next_due(spec, anchor_ms, t)) {
        if (exclude_match(spec->excl, t - spec->offset_ms))
            continue;
        if (n == max)
            return -1;
        out[n++] = t;
    }
    return n;
}
