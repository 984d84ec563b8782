/* task_shift: validation of the fields that shift when a cron task fires
 * (jitter_s). */
#include <stdio.h>

#include "shift.h"
#include "task_private.h"

int task_check_shift(TaskSpec *spec, TaskError *err)
{
    json_t *j = json_object_get(spec->json, "jitter_s");
    spec->jitter_ms = 0;
    if (j == NULL)
        return 0;
    if (task_check_count(j, "jitter_s", SHIFT_JITTER_MAX_S, NULL, err) != 0)
        return -1;
    if (spec->stype != SCHEDULE_CRON) {
        task_fail(err, "jitter_s", "applies to cron schedules only");
        return -1;
    }
    spec->jitter_ms = (int64_t)json_integer_value(j) * 1000;
    /* Validation is pure: the period is the schedule's, looked at from its
     * start (or the epoch of its first definition, 2000), not from now. */
    int64_t from = spec->start_at_ms > 0 ? spec->start_at_ms : 946684800000LL;
    int64_t period = shift_min_period_ms(spec->expr, spec->tz, from, from);
    if (spec->jitter_ms > period) {
        task_fail(err, "jitter_s",
                  "is larger than the schedule's period (%lld s): occurrences would reorder",
                  (long long)(period / 1000));
        return -1;
    }
    return 0;
}
