/* shift: the per-task jitter of cron fires (see shift.h). */
#include "shift.h"

int64_t shift_offset_ms(const char *id, int64_t jitter_ms)
{
    if (jitter_ms <= 0)
        return 0;
    uint64_t h = 1469598103934665603ULL; /* FNV-1a, then a final mix so close ids spread */
    for (const unsigned char *p = (const unsigned char *)id; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return (int64_t)(h % (uint64_t)jitter_ms);
}

int64_t shift_next(const CronExpr *e, const Tz *tz, int64_t anchor_ms, int64_t after_ms, int64_t offset_ms)
{
    int64_t t = cron_next(e, tz, anchor_ms, after_ms - offset_ms);
    return t < 0 ? t : t + offset_ms;
}

int64_t shift_min_period_ms(const CronExpr *e, const Tz *tz, int64_t anchor_ms, int64_t from_ms)
{
    int64_t best = INT64_MAX, prev = cron_next(e, tz, anchor_ms, from_ms);
    for (int i = 0; prev >= 0 && i < SHIFT_PERIOD_SAMPLES; i++) {
        int64_t t = cron_next(e, tz, anchor_ms, prev);
        if (t < 0)
            break;
        if (t - prev < best)
            best = t - prev;
        prev = t;
    }
    return best;
}
