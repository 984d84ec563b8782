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
    int n = snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d%s%s", (int)y, m, d, sod / 3600, sod / 60 % 60,
                     sod % 60, fbuf, zbuf);
    return n < 0 || (size_t)n >= len ? -1 : 0;
}
