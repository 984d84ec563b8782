/* tz_format: RFC 3339 text for instants, in UTC or in a zone's local time. */
#include <stdio.h>
#include <string.h>

#include "civil.h"
#include "tz.h"

int tz_format(const Tz *zone, int64_t ms, char *buf, size_t len)
{
    int64_t secs = civil_floor_div(ms, 1000);
    int frac = (int)civil_floor_mod(ms, 1000);
    int32_t off = zone ? tz_offset_at(zone, secs) : 0;
    off = (int32_t)civil_floor_div(off + 30, 60) * 60;
    int64_t local = secs + off, y;
    int m, d;
    civil_date_from_days(civil_floor_div(local, 86400), &y, &m, &d);
    int sod = (int)civil_floor_mod(local, 86400);
    if (y < 0 || y > 9999)
        return -1;
    char zbuf[16] = "Z", fbuf[16] = "";
    if (zone) {
        int a = off < 0 ? -off : off;
        snprintf(zbuf, sizeof zbuf, "%c%02d:%02d", off < 0 ? '-' : '+', a / 3600, a / 60 % 60);
    }
    if (frac)
        snprintf(fbuf, sizeof fbuf, ".%03d", frac);
    int n = snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d%s%s", (int)y, m, d, sod / 3600,
                     sod / 60 % 60, sod % 60, fbuf, zbuf);
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* Reads exactly N digits into *out. */
static const char *rfc_digits(const char *s, int n, int *out)
{
    *out = 0;
    for (int i = 0; i < n; i++, s++) {
        if (*s < '0' || *s > '9')
            return NULL;
        *out = *out * 10 + (*s - '0');
    }
    return s;
}

/* Reads the date-time up to (not including) the fraction and zone. */
static const char *rfc_datetime(const char *s, int v[6])
{
    static const char sep[6] = {'-', '-', 'T', ':', ':', 0};
    for (int i = 0; i < 6 && s; i++) {
        s = rfc_digits(s, i == 0 ? 4 : 2, &v[i]);
        if (!s || i == 5)
            break;
        if (*s != sep[i] && !(i == 2 && (*s == 't' || *s == ' ')))
            return NULL;
        s++;
    }
    return s;
}

int tz_parse_rfc3339(const char *s, int64_t *ms)
{
    int v[6], frac = 0, oh, om, sign = 0;
    if (!s || !(s = rfc_datetime(s, v)))
        return -1;
    if (v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > civil_month_days(v[0], v[1]) || v[3] > 23 ||
        v[4] > 59 || v[5] > 60)
        return -1;
    if (*s == '.') {
        int digits = 0;
        for (s++; *s >= '0' && *s <= '9'; s++, digits++) {
            if (digits < 3)
                frac = frac * 10 + (*s - '0');
        }
        if (digits == 0)
            return -1;
        for (; digits < 3; digits++)
            frac *= 10;
    }
    if (*s == 'Z' || *s == 'z') {
        s++;
    } else if (*s == '+' || *s == '-') {
        sign = *s == '-' ? 1 : -1;
        if (!(s = rfc_digits(s + 1, 2, &oh)) || *s++ != ':' || !(s = rfc_digits(s, 2, &om)) ||
            oh > 23 || om > 59)
            return -1;
    } else {
        return -1;
    }
    if (*s != '\0')
        return -1;
    int sec = v[5] == 60 ? 59 : v[5]; /* a leap second reads as :59 */
    int64_t t = civil_days_from_date(v[0], v[1], v[2]) * 86400 + v[3] * 3600 + v[4] * 60 + sec;
    if (sign)
        t += sign * (oh * 3600 + om * 60);
    *ms = t * 1000 + frac;
    return 0;
}
