/* cron: next fire times of a parsed expression, in UTC or in a zone, with the DST policy. */
#include "cron.h"

#include "civil.h"
#include "cron_private.h"

/* Local times are searched in years 1..9999 only: RFC 3339 can print them. */
#define CRON_NEVER INT64_MAX
#define CRON_MIN_T (INT64_C(-62135596800) + 2 * 86400) /* 0001-01-03T00:00:00 */
#define CRON_MAX_T INT64_C(253402300799)               /* 9999-12-31T23:59:59 */
#define CRON_OFF_MAX (27 * 3600)                       /* beyond any UTC offset (tz refuses 26 h or more) */

/* The first set bit of MASK at or above FROM, or -1. */
static int bit_next(uint64_t mask, int from)
{
    if (from > 63)
        return -1;
    mask &= ~UINT64_C(0) << from;
    return mask ? __builtin_ctzll(mask) : -1;
}

/* Days D..N of a month whose first day is weekday W1, taking weekday WD. */
static uint32_t weekday_days(int w1, int wd)
{
    int d0 = (wd - w1 + 7) % 7; /* zero-based day of the first WD */
    return (uint32_t)(UINT64_C(0x10204081) << d0);
}

/* The bit of the nearest weekday (Mon-Fri) to day D, within the month. */
static uint32_t nearest_weekday(int d, int n, int w1)
{
    int wd = (w1 + d - 1) % 7;
    if (wd == 6)
        d = d == 1 ? 3 : d - 1;
    else if (wd == 0)
        d = d == n ? d - 2 : d + 1;
    return 1u << (d - 1);
}

static uint32_t dom_days(const CronExpr *e, int n, int w1)
{
    uint32_t days = e->dom >> 1;
    for (uint32_t b = e->dom_last; b; b &= b - 1) {
        int k = __builtin_ctz(b);
        if (n - k >= 1)
            days |= 1u << (n - k - 1);
    }
    for (uint32_t b = e->dom_wday; b; b &= b - 1) {
        int d = __builtin_ctz(b);
        if (d <= n)
            days |= nearest_weekday(d, n, w1);
    }
    if (e->dom_lw) {
        int wl = (w1 + n - 1) % 7;
        days |= 1u << (n - 1 - (wl == 6 ? 1 : wl == 0 ? 2 : 0));
    }
    return days;
}

static uint32_t dow_days(const CronExpr *e, int n, int w1)
{
    uint32_t days = 0;
    for (int wd = 0; wd < 7; wd++) {
        uint32_t all = weekday_days(w1, wd);
        if (e->dow >> wd & 1)
            days |= all;
        int d0 = (wd - w1 + 7) % 7;
        for (uint32_t b = e->dow_nth[wd]; b; b &= b - 1) {
            int d = d0 + 7 * (__builtin_ctz(b) - 1);
            if (d < n)
                days |= 1u << d;
        }
        if (e->dow_last >> wd & 1)
            days |= 1u << (d0 + 7 * ((n - 1 - d0) / 7));
    }
    return days;
}

uint32_t cron_month_days(const CronExpr *e, int64_t y, int m)
{
    int n = civil_month_days(y, m);
    uint32_t full = (uint32_t)((UINT64_C(1) << n) - 1);
    if (e->dom_any && e->dow_any)
        return full;
    int w1 = civil_weekday(civil_days_from_date(y, m, 1));
    if (e->dom_any)
        return dow_days(e, n, w1) & full;
    if (e->dow_any)
        return dom_days(e, n, w1) & full;
    return (dom_days(e, n, w1) | dow_days(e, n, w1)) & full; /* Vixie: either day field */
}

/* The first time of day at or after *h:*mi:*s that matches; 0 if none today. */
static int time_next(const CronExpr *e, int *h, int *mi, int *s)
{
    for (int hh = bit_next(e->hour, *h); hh >= 0; hh = bit_next(e->hour, hh + 1)) {
        int m0 = hh == *h ? *mi : 0;
        for (int mm = bit_next(e->min, m0); mm >= 0; mm = bit_next(e->min, mm + 1)) {
            int ss = bit_next(e->sec, hh == *h && mm == *mi ? *s : 0);
            if (ss >= 0) {
                *h = hh, *mi = mm, *s = ss;
                return 1;
            }
        }
    }
    return 0;
}

/* The first local time (seconds, wall clock as if UTC) at or after LO that
 * matches, or CRON_NEVER if none until year 9999. */
static int64_t cron_next_local(const CronExpr *e, int64_t lo)
{
    int64_t days = civil_floor_div(lo, 86400), y;
    int sod = (int)(lo - days * 86400), m, d;
    civil_date_from_days(days, &y, &m, &d);
    int h = sod / 3600, mi = sod / 60 % 60, s = sod % 60;
    while (y <= 9999) {
        int mm = bit_next(e->month, m);
        if (mm != m) {
            if (mm < 0) {
                y++, m = 1;
            } else {
                m = mm;
            }
            d = 1, h = mi = s = 0;
            continue;
        }
        uint32_t mask = cron_month_days(e, y, m) & (~0u << (d - 1));
        for (; mask; mask &= mask - 1) {
            int dd = __builtin_ctz(mask) + 1;
            if (dd != d)
                d = dd, h = mi = s = 0;
            if (time_next(e, &h, &mi, &s))
                return civil_days_from_date(y, m, d) * 86400 + h * 3600 + mi * 60 + s;
            h = mi = s = 0, d++;
        }
        if (++m > 12)
            y++, m = 1;
        d = 1, h = mi = s = 0;
    }
    return CRON_NEVER;
}

/* "@every": anchor + k * period, the first strictly after AFTER_MS. */
static int64_t cron_next_every(int64_t period, int64_t anchor, int64_t after)
{
    if (after < anchor)
        return anchor;
    uint64_t k = ((uint64_t)after - (uint64_t)anchor) / (uint64_t)period + 1;
    int64_t step, next;
    if (k > INT64_MAX || __builtin_mul_overflow((int64_t)k, period, &step) ||
        __builtin_add_overflow(anchor, step, &next))
        return -1;
    return next;
}

/* Remembers the last local search, so that walking spans does not repeat it:
 * no local time in [lo, w) matches. */
typedef struct LocalMemo {
    int64_t lo, w;
} LocalMemo;

static int64_t memo_next(const CronExpr *e, LocalMemo *memo, int64_t lo)
{
    if (lo < memo->lo || lo > memo->w) {
        memo->lo = lo;
        memo->w = cron_next_local(e, lo);
    }
    return memo->w;
}

/* Walks the zone's spans of constant offset from instant u (seconds). Inside a
 * span, local time is u + off. The DST policy: a match skipped by a forward
 * gap fires once at the gap's end; after a backward step, local times already
 * shown fire only the first time. Hourly expressions (every hour of the day)
 * do neither: they fire at the wall-clock matches that exist. */
static int64_t cron_next_zoned(const CronExpr *e, const Tz *zone, int64_t u)
{
    LocalMemo memo = {INT64_MAX, INT64_MIN};
    for (int spans = 0; spans < 100000 && u <= CRON_MAX_T; spans++) {
        TzSpan sp;
        tz_span_at(zone, u, &sp);
        /* Starting exactly at a forward gap's end: the gap's matches fire now. */
        if (spans == 0 && !e->hourly && u == sp.start && sp.off_before < sp.off &&
            memo_next(e, &memo, sp.start + sp.off_before) < sp.start + sp.off)
            return sp.start * 1000;
        int64_t lo = u + sp.off;
        if (!e->hourly && sp.off_before > sp.off && sp.start != INT64_MIN && lo < sp.start + sp.off_before)
            lo = sp.start + sp.off_before;
        int64_t w = memo_next(e, &memo, lo);
        if (w == CRON_NEVER)
            return -1;
        if (sp.end == INT64_MAX || w < sp.end + sp.off)
            return (w - sp.off) * 1000;
        if (!e->hourly && sp.off_after > sp.off && w < sp.end + sp.off_after)
            return sp.end * 1000;
        /* Instants more than a day before w show wall times before w: skip their spans. */
        u = w - CRON_OFF_MAX > sp.end ? w - CRON_OFF_MAX : sp.end;
    }
    return -1;
}

int64_t cron_next(const CronExpr *e, const Tz *zone, int64_t anchor_ms, int64_t after_ms)
{
    if (!e)
        return -1;
    if (e->every_ms)
        return cron_next_every(e->every_ms, anchor_ms, after_ms);
    int64_t u = civil_floor_div(after_ms, 1000) + 1;
    if (u < CRON_MIN_T)
        u = CRON_MIN_T;
    if (u > CRON_MAX_T)
        return -1;
    if (!zone) {
        int64_t w = cron_next_local(e, u);
        return w == CRON_NEVER ? -1 : w * 1000;
    }
    return cron_next_zoned(e, zone, u);
}
