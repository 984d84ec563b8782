/* tz_rule: the POSIX TZ rule ("CET-1CEST,M3.5.0,M10.5.0/3") of a TZif footer. */
#include "tz_rule.h"

#include <ctype.h>
#include <stdlib.h>

#include "civil.h"

/* Skips a zone abbreviation: three or more letters, or <...> quoted. */
static const char *rule_skip_name(const char *s)
{
    const char *p = s;
    if (*p == '<') {
        while (*++p && *p != '>') {
            if (!isalnum((unsigned char)*p) && *p != '+' && *p != '-')
                return NULL;
        }
        return *p == '>' && p - s >= 4 ? p + 1 : NULL;
    }
    while (isalpha((unsigned char)*p))
        p++;
    return p - s >= 3 ? p : NULL;
}

/* Parses [+-]hh[:mm[:ss]] with hh up to max_h into seconds. */
static const char *rule_parse_time(const char *s, int max_h, int32_t *out)
{
    int sign = 1;
    if (*s == '+' || *s == '-')
        sign = *s++ == '-' ? -1 : 1;
    int32_t part[3] = {0, 0, 0};
    for (int i = 0; i < 3; i++) {
        if (i > 0 && *s != ':')
            break;
        if (i > 0)
            s++;
        if (!isdigit((unsigned char)*s))
            return NULL;
        int32_t v = 0;
        for (int n = 0; isdigit((unsigned char)*s); n++, s++) {
            if (n >= 3)
                return NULL;
            v = v * 10 + (*s - '0');
        }
        if ((i == 0 && v > max_h) || (i > 0 && v > 59))
            return NULL;
        part[i] = v;
    }
    *out = sign * (part[0] * 3600 + part[1] * 60 + part[2]);
    return s;
}

static const char *rule_parse_num(const char *s, int lo, int hi, int *out)
{
    if (!isdigit((unsigned char)*s))
        return NULL;
    char *end;
    long v = strtol(s, &end, 10);
    if (v < lo || v > hi || end - s > 3)
        return NULL;
    *out = (int)v;
    return end;
}

/* Parses one date rule: Jn, n or Mm.w.d, with an optional /time. */
static const char *rule_parse_date(const char *s, TzRuleDate *d)
{
    d->secs = 7200;
    if (*s == 'J') {
        d->kind = 'J';
        s = rule_parse_num(s + 1, 1, 365, &d->day);
    } else if (*s == 'M') {
        d->kind = 'M';
        s = rule_parse_num(s + 1, 1, 12, &d->month);
        if (s && *s++ == '.')
            s = rule_parse_num(s, 1, 5, &d->week);
        else
            s = NULL;
        if (s && *s++ == '.')
            s = rule_parse_num(s, 0, 6, &d->day);
        else
            s = NULL;
    } else {
        d->kind = 'D';
        s = rule_parse_num(s, 0, 365, &d->day);
    }
    if (s && *s == '/')
        s = rule_parse_time(s + 1, 167, &d->secs);
    return s;
}

int tz_rule_parse(const char *s, TzRule *r)
{
    int32_t west;
    r->has_dst = 0;
    if (!(s = rule_skip_name(s)) || !(s = rule_parse_time(s, 24, &west)))
        return -1;
    r->std_off = r->dst_off = -west;
    if (*s == '\0')
        return 0;
    if (!(s = rule_skip_name(s)))
        return -1;
    r->has_dst = 1;
    r->dst_off = r->std_off + 3600;
    if (*s != ',' && *s != '\0') {
        if (!(s = rule_parse_time(s, 24, &west)))
            return -1;
        r->dst_off = -west;
    }
    if (*s == '\0')
        s = ",M3.2.0,M11.1.0";
    if (*s++ != ',' || !(s = rule_parse_date(s, &r->start)))
        return -1;
    if (*s++ != ',' || !(s = rule_parse_date(s, &r->end)))
        return -1;
    return *s == '\0' ? 0 : -1;
}

/* The day number (days since the epoch) on which date rule D falls in year Y. */
static int64_t rule_day(const TzRuleDate *d, int64_t y)
{
    int64_t jan1 = civil_days_from_date(y, 1, 1);
    if (d->kind == 'J')
        return jan1 + d->day - 1 + (civil_is_leap(y) && d->day >= 60);
    if (d->kind == 'D')
        return jan1 + d->day;
    int64_t first = civil_days_from_date(y, d->month, 1);
    int64_t day = first + civil_floor_mod(d->day - civil_weekday(first), 7) + 7 * (d->week - 1);
    int len = civil_month_days(y, d->month);
    while (day >= first + len)
        day -= 7;
    return day;
}

typedef struct RuleEdge {
    int64_t at;
    int32_t off; /* offset from `at` on */
    int order;   /* among equal instants, ends sort before starts */
} RuleEdge;

static int rule_edge_cmp(const void *a, const void *b)
{
    const RuleEdge *x = a, *y = b;
    if (x->at != y->at)
        return x->at < y->at ? -1 : 1;
    return x->order - y->order;
}

/* Builds the sorted, deduplicated transitions of the years around t. */
static int rule_edges(const TzRule *r, int64_t t, RuleEdge *e)
{
    int64_t y0;
    int m, d;
    civil_date_from_days(civil_floor_div(t + r->std_off, 86400), &y0, &m, &d);
    int n = 0;
    for (int64_t y = y0 - 2; y <= y0 + 1; y++) {
        int64_t s = rule_day(&r->start, y) * 86400 + r->start.secs - r->std_off;
        int64_t en = rule_day(&r->end, y) * 86400 + r->end.secs - r->dst_off;
        e[n++] = (RuleEdge){s, r->dst_off, 1};
        e[n++] = (RuleEdge){en, r->std_off, 0};
    }
    qsort(e, (size_t)n, sizeof *e, rule_edge_cmp);
    /* Keep the last edge of equal instants, then drop edges that change nothing. */
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (i + 1 < n && e[i + 1].at == e[i].at)
            continue;
        if (k > 0 && e[k - 1].off == e[i].off)
            continue;
        e[k++] = e[i];
    }
    return k;
}

void tz_rule_span(const TzRule *r, int64_t t, TzSpan *sp)
{
    sp->start = INT64_MIN;
    sp->end = INT64_MAX;
    sp->off = sp->off_before = sp->off_after = r->std_off;
    if (!r->has_dst)
        return;
    RuleEdge e[8];
    int n = rule_edges(r, t, e);
    int i = 0;
    while (i < n && e[i].at <= t)
        i++;
    /* e[i-1] is the last edge at or before t; e[i] the first after it. */
    if (i > 0) {
        sp->start = e[i - 1].at;
        sp->off = e[i - 1].off;
        sp->off_before = i > 1 ? e[i - 2].off : (e[i - 1].off == r->std_off ? r->dst_off : r->std_off);
    } else {
        sp->off = sp->off_before = n > 0 && e[0].off == r->std_off ? r->dst_off : r->std_off;
    }
    if (i < n) {
        sp->end = e[i].at;
        sp->off_after = e[i].off;
    } else {
        sp->off_after = sp->off;
    }
}
