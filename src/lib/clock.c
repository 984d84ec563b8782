/* clock: wall and monotonic milliseconds, RFC 3339 UTC text, and a skew seam. */
#include "clock.h"

#include <ctype.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "civil.h"

static _Atomic int64_t skew_ms;
static atomic_int skew_loaded;

static void skew_load(void)
{
    if (atomic_exchange(&skew_loaded, 1))
        return;
    const char *s = getenv("DTS_CLOCK_SKEW_MS");
    if (s != NULL)
        atomic_store(&skew_ms, strtoll(s, NULL, 10));
}

int64_t clock_now_ms(void)
{
    struct timespec ts;
    skew_load();
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + atomic_load(&skew_ms);
}

static _Atomic int64_t shared_offset_ms;

int64_t clock_shared_ms(void)
{
    return clock_now_ms() + atomic_load(&shared_offset_ms);
}

void clock_shared_sync(int64_t shared_ms)
{
    atomic_store(&shared_offset_ms, shared_ms - clock_now_ms());
}

int64_t clock_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void clock_sleep_ms(int64_t ms)
{
    if (ms <= 0)
        return;
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

void clock_format_rfc3339(int64_t ms, char out[CLOCK_RFC3339_LEN])
{
    int64_t secs = civil_floor_div(ms, 1000), y;
    int millis = (int)civil_floor_mod(ms, 1000), rem = (int)civil_floor_mod(secs, 86400), m, d;
    civil_date_from_days(civil_floor_div(secs, 86400), &y, &m, &d);
    snprintf(out, CLOCK_RFC3339_LEN, "%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ", (long long)y, m, d,
             rem / 3600, rem / 60 % 60, rem % 60, millis);
}

static int digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++, (*p)++) {
        if (!isdigit((unsigned char)**p))
            return -1;
        v = v * 10 + (**p - '0');
    }
    *out = v;
    return 0;
}

static int expect(const char **p, const char *chars)
{
    if (**p == '\0' || strchr(chars, **p) == NULL)
        return -1;
    (*p)++;
    return 0;
}

static int parse_offset(const char **p, int *offset_s)
{
    int sign, oh, om;
    if (**p == 'Z' || **p == 'z') {
        (*p)++;
        *offset_s = 0;
        return 0;
    }
    if (**p != '+' && **p != '-')
        return -1;
    sign = **p == '-' ? -1 : 1;
    (*p)++;
    if (digits(p, 2, &oh) || expect(p, ":") || digits(p, 2, &om) || oh > 23 || om > 59)
        return -1;
    *offset_s = sign * (oh * 3600 + om * 60);
    return 0;
}

int clock_parse_rfc3339(const char *text, int64_t *ms)
{
    const char *p = text;
    int y, mo, d, h, mi, s, frac = 0, offset_s;
    if (digits(&p, 4, &y) || expect(&p, "-") || digits(&p, 2, &mo) || expect(&p, "-") ||
        digits(&p, 2, &d) || expect(&p, "Tt ") || digits(&p, 2, &h) || expect(&p, ":") ||
        digits(&p, 2, &mi) || expect(&p, ":") || digits(&p, 2, &s))
        return -1;
    if (*p == '.') {
        int n = 0;
        for (p++; isdigit((unsigned char)*p); p++, n++)
            if (n < 3)
                frac = frac * 10 + (*p - '0');
        if (n == 0)
            return -1;
        for (; n < 3; n++)
            frac *= 10;
    }
    if (parse_offset(&p, &offset_s) || *p != '\0')
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > civil_month_days(y, mo) || h > 23 || mi > 59 || s > 60)
        return -1;
    int64_t days = civil_days_from_date(y, mo, d);
    *ms = ((days * 86400 + h * 3600 + mi * 60 + (s == 60 ? 59 : s)) - offset_s) * 1000 + frac;
    return 0;
}
