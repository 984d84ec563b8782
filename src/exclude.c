/* exclude: excluded occurrences of cron tasks (see exclude.h). */
#include "exclude.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "civil.h"
#include "shift.h"

#define MINUTE_MS 60000

int exclude_any(const Exclusions *x)
{
    return x != NULL && (x->n > 0 || x->cron != NULL);
}

int exclude_match(const Exclusions *x, int64_t t_ms)
{
    if (x == NULL)
        return 0;
    for (int i = 0; i < x->n; i++)
        if (t_ms >= x->from[i] && t_ms < x->to[i])
            return 1;
    if (x->cron == NULL)
        return 0;
    /* The minute matches when the expression fires anywhere inside it. */
    int64_t minute = t_ms - civil_floor_mod(t_ms, MINUTE_MS);
    int64_t hit = cron_next(x->cron, x->tz, 0, minute - 1);
    return hit >= minute && hit < minute + MINUTE_MS;
}

void exclude_format(const Exclusions *x, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < x->n && used < len; i++) {
        int w = snprintf(buf + used, len - used, "%s%lld-%lld", i ? "," : "", (long long)x->from[i],
                         (long long)x->to[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

int exclude_parse(const char *text, Exclusions *x)
{
    x->n = 0;
    while (text != NULL && *text) {
        char *end;
        long long from = strtoll(text, &end, 10), to;
        if (end == text || *end != '-' || x->n >= EXCLUDE_RANGES_MAX)
            return -1;
        const char *second = end + 1;
        to = strtoll(second, &end, 10);
        if (end == second || (*end != ',' && *end != '\0'))
            return -1;
        x->from[x->n] = from;
        x->to[x->n++] = to;
        text = *end ? end + 1 : end;
    }
    return 0;
}

/* The first instant of local midnight on DAYS since 1970-01-01 in TZ (the
 * first instant after a gap when midnight does not exist). */
static int64_t local_midnight(const Tz *tz, int64_t days)
{
    int64_t out[2];
    tz_local_to_utc(tz, days * 86400, out);
    return out[0] * 1000;
}

int exclude_day(const Tz *tz, const char *date, int64_t *from, int64_t *to)
{
    /* YYYY-MM-DD exactly: ten characters, digits but for the two dashes. */
    if (strlen(date) != 10 || date[4] != '-' || date[7] != '-')
        return -1;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (date[i] < '0' || date[i] > '9'))
            return -1;
    int y = (date[0] - '0') * 1000 + (date[1] - '0') * 100 + (date[2] - '0') * 10 + (date[3] - '0');
    int m = (date[5] - '0') * 10 + (date[6] - '0'), d = (date[8] - '0') * 10 + (date[9] - '0');
    if (y < 1970 || m < 1 || m > 12 || d < 1 || d > civil_month_days(y, m))
        return -1;
    int64_t days = civil_days_from_date(y, m, d);
    *from = local_midnight(tz, days);
    *to = local_midnight(tz, days + 1);
    return 0;
}

int64_t exclude_skip(const Exclusions *x, const CronExpr *e, const Tz *tz, int64_t anchor_ms,
                     int64_t offset_ms, int64_t t, int limit, int64_t *passed, int64_t *work)
{
    for (int looked = 0; t >= 0 && exclude_match(x, t - offset_ms) && looked < limit; looked++) {
        (*passed)++;
        t = shift_next(e, tz, anchor_ms, t, offset_ms);
        (*work)++;
    }
    return t;
}
