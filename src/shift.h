/* shift: when a cron task's occurrences fire, beyond its cron times: the
 * stable per-task jitter offset. Pure: no I/O, no clock. */
#ifndef DTS_SHIFT_H
#define DTS_SHIFT_H

#include <stdint.h>

#include "cron.h"
#include "tz.h"

#define SHIFT_JITTER_MAX_S 86400 /* jitter_s at most a day */
#define SHIFT_PERIOD_SAMPLES 64  /* fires looked at to find a schedule's shortest gap */

/* The offset in [0, JITTER_MS) at which task ID's occurrences fire after their
 * cron times: a hash of the id, so the same for every occurrence and every
 * process, and spread across tasks (Jenkins's H). 0 if JITTER_MS <= 0. */
int64_t shift_offset_ms(const char *id, int64_t jitter_ms);

/* The next shifted fire strictly after AFTER_MS: the cron time T following
 * AFTER_MS - OFFSET_MS, plus OFFSET_MS; -1 if the schedule ends. With OFFSET 0
 * it is cron_next. */
int64_t shift_next(const CronExpr *e, const Tz *tz, int64_t anchor_ms, int64_t after_ms, int64_t offset_ms);

/* The shortest gap between the next SHIFT_PERIOD_SAMPLES fires after FROM_MS,
 * in ms; INT64_MAX if the schedule fires at most once. For checking that a
 * jitter never reorders occurrences. */
int64_t shift_min_period_ms(const CronExpr *e, const Tz *tz, int64_t anchor_ms, int64_t from_ms);

#endif
