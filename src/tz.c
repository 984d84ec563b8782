/* tz: IANA time zones read from TZif files (RFC 8536, v2+), with a shared cache. */
#include "tz.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tz_rule.h"

#define TZ_NAME_MAX 128
#define TZ_FILE_MAX (1 << 20)
#define TZ_OFF_MAX (26 * 3600)
#define TZ_TABLE_END INT64_C(7258118400) /* 2200-01-01: the rule is tabulated up to here */

struct Tz {
    char name[TZ_NAME_MAX];
    int64_t *at;  /* instants at which the offset changes, ascending */
    int32_t *off; /* offset in effect from at[i] on */
    size_t n;
    int32_t off0; /* offset before at[0] (or always, if n == 0) */
    int has_rule;
    TzRule rule; /* applies from at[n-1] on (from the start if n == 0) */
};

/* Names are paths below the zone directory: letters, digits and "/_-+.", no
 * "..", no leading "/". */
static int tz_name_ok(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len >= TZ_NAME_MAX || name[0] == '/' || strstr(name, "..") || strstr(name, "//"))
        return 0;
    for (const char *p = name; *p; p++) {
        char c = *p;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '/' ||
                 c == '_' || c == '-' || c == '+' || c == '.';
        if (!ok)
            return 0;
    }
    return name[len - 1] != '/';
}

/* Reads a whole file of at most TZ_FILE_MAX bytes. Returns NULL with errno set. */
static unsigned char *tz_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    unsigned char *buf = malloc(TZ_FILE_MAX + 1);
    if (!buf)
        abort();
    *len = fread(buf, 1, TZ_FILE_MAX + 1, f);
    int bad = ferror(f) || *len > TZ_FILE_MAX;
    fclose(f);
    if (bad) {
        free(buf);
        errno = EFBIG;
        return NULL;
    }
    return buf;
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

/* The six counts of a TZif header, in file order. */
typedef struct TzCounts {
    uint32_t isut, isstd, leap, time, type, chars;
} TzCounts;

static int tz_header(const unsigned char *p, size_t len, TzCounts *c)
{
    if (len < 44 || memcmp(p, "TZif", 4) != 0)
        return -1;
    c->isut = be32(p + 20);
    c->isstd = be32(p + 24);
    c->leap = be32(p + 28);
    c->time = be32(p + 32);
    c->type = be32(p + 36);
    c->chars = be32(p + 40);
    if (c->type == 0 || c->type > 256 || c->time > 100000 || c->chars > 65536 || c->leap > 100000 ||
        c->isut > c->type || c->isstd > c->type)
        return -1;
    return 0;
}

static size_t tz_block_len(const TzCounts *c, size_t timesize)
{
    return c->time * timesize + c->time + c->type * 6 + c->chars + c->leap * (timesize + 4) + c->isstd +
           c->isut;
}

/* Fills the transition table from the 64-bit data block P, merging
 * transitions that keep the offset. */
static int tz_fill_table(Tz *tz, const unsigned char *p, const TzCounts *c)
{
    const unsigned char *times = p, *idx = p + c->time * 8, *types = idx + c->time;
    for (uint32_t i = 0; i < c->type; i++) {
        int32_t o = (int32_t)be32(types + i * 6);
        if (o <= -TZ_OFF_MAX || o >= TZ_OFF_MAX || types[i * 6 + 4] > 1)
            return -1;
    }
    tz->off0 = (int32_t)be32(types);
    tz->at = malloc((c->time + 1) * sizeof *tz->at);
    tz->off = malloc((c->time + 1) * sizeof *tz->off);
    if (!tz->at || !tz->off)
        abort();
    int32_t prev = tz->off0;
    for (uint32_t i = 0; i < c->time; i++) {
        int64_t t = be64(times + i * 8);
        if (idx[i] >= c->type || (i > 0 && t <= be64(times + (i - 1) * 8)))
            return -1;
        int32_t o = (int32_t)be32(types + idx[i] * 6);
        if (o == prev)
            continue;
        tz->at[tz->n] = t;
        tz->off[tz->n++] = prev = o;
    }
    return 0;
}

/* The footer: "\n" POSIX-TZ-string "\n"; an empty string means no rule. */
static int tz_parse_footer(Tz *tz, const unsigned char *p, size_t len)
{
    if (len < 2 || p[0] != '\n')
        return -1;
    const unsigned char *nl = memchr(p + 1, '\n', len - 1);
    char footer[128];
    size_t n = nl ? (size_t)(nl - (p + 1)) : sizeof footer;
    if (n >= sizeof footer)
        return -1;
    memcpy(footer, p + 1, n);
    footer[n] = '\0';
    if (n == 0)
        return 0;
    tz->has_rule = 1;
    return tz_rule_parse(footer, &tz->rule);
}

/* Parses a TZif v2+ image. Returns 0, or -1 with a reason in err. */
static int tz_parse(Tz *tz, const unsigned char *p, size_t len, char *err, size_t errlen)
{
    TzCounts c;
    if (tz_header(p, len, &c) < 0 || p[4] < '2') {
        snprintf(err, errlen, "zone %s: not a TZif version 2+ file", tz->name);
        return -1;
    }
    size_t off = 44 + tz_block_len(&c, 4);
    if (off > len || tz_header(p + off, len - off, &c) < 0 || off + 44 + tz_block_len(&c, 8) > len)
        goto bad;
    if (c.leap > 0) {
        snprintf(err, errlen, "zone %s: leap-second zones are not supported", tz->name);
        return -1;
    }
    off += 44;
    if (tz_fill_table(tz, p + off, &c) < 0)
        goto bad;
    off += tz_block_len(&c, 8);
    if (tz_parse_footer(tz, p + off, len - off) < 0)
        goto bad;
    return 0;
bad:
    snprintf(err, errlen, "zone %s: malformed TZif data", tz->name);
    return -1;
}

/* Appends the footer rule's transitions up to TZ_TABLE_END to the table, so
 * that instants before 2200 cost one binary search. */
static void tz_extend(Tz *tz)
{
    if (!tz->has_rule || !tz->rule.has_dst)
        return;
    int64_t t = tz->n > 0 ? tz->at[tz->n - 1] : -(INT64_C(1) << 31);
    size_t cap = tz->n + 1;
    for (;;) {
        TzSpan sp;
        tz_span_at(tz, t, &sp);
        if (sp.end == INT64_MAX || sp.end >= TZ_TABLE_END)
            return;
        if (tz->n + 1 > cap) {
            cap = cap * 2 + 64;
            tz->at = realloc(tz->at, cap * sizeof *tz->at);
            tz->off = realloc(tz->off, cap * sizeof *tz->off);
            if (!tz->at || !tz->off)
                abort();
        }
        tz->at[tz->n] = sp.end;
        tz->off[tz->n++] = sp.off_after;
        t = sp.end;
    }
}

Tz *tz_load(const char *name, char *err, size_t errlen)
{
    unsigned char *data = NULL;
    Tz *tz = calloc(1, sizeof *tz);
    if (!tz)
        abort();
    if (!name || !tz_name_ok(name)) {
        snprintf(err, errlen, "invalid time zone name");
        goto err;
    }
    snprintf(tz->name, sizeof tz->name, "%s", name);
    if (strcmp(name, "UTC") == 0)
        return tz;
    const char *dir = getenv("DTS_ZONEINFO");
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", name);
    size_t len;
    if (!(data = tz_read_file(path, &len))) {
        snprintf(err, errlen, "unknown time zone %s", name);
        goto err;
    }
    if (tz_parse(tz, data, len, err, errlen) < 0)
        goto err;
    tz_extend(tz);
    free(data);
    return tz;
err:
    free(data);
    tz_free(tz);
    return NULL;
}

void tz_free(Tz *tz)
{
    if (!tz)
        return;
    free(tz->at);
    free(tz->off);
    free(tz);
}

/* The cache: a list that only grows, guarded by one mutex. */
typedef struct TzCached {
    Tz *tz;
    struct TzCached *next;
} TzCached;

static pthread_mutex_t tz_cache_lock = PTHREAD_MUTEX_INITIALIZER;
static TzCached *tz_cache;

const Tz *tz_get(const char *name, char *err, size_t errlen)
{
    const Tz *found = NULL;
    pthread_mutex_lock(&tz_cache_lock);
    for (TzCached *c = tz_cache; c && name; c = c->next) {
        if (strcmp(c->tz->name, name) == 0) {
            found = c->tz;
            break;
        }
    }
    if (!found) {
        Tz *tz = tz_load(name, err, errlen);
        if (tz) {
            TzCached *c = malloc(sizeof *c);
            if (!c)
                abort();
            *c = (TzCached){tz, tz_cache};
            tz_cache = c;
            found = tz;
        }
    }
    pthread_mutex_unlock(&tz_cache_lock);
    return found;
}

const char *tz_name(const Tz *tz)
{
    return tz ? tz->name : "UTC";
}

/* Spans after the table follow the rule, clipped to start at the last entry. */
static void tz_span_rule(const Tz *tz, int64_t t, TzSpan *sp)
{
    tz_rule_span(&tz->rule, t, sp);
    if (tz->n > 0 && sp->start <= tz->at[tz->n - 1]) {
        sp->start = tz->at[tz->n - 1];
        sp->off_before = tz->n > 1 ? tz->off[tz->n - 2] : tz->off0;
    }
}

void tz_span_at(const Tz *tz, int64_t t, TzSpan *sp)
{
    *sp = (TzSpan){INT64_MIN, INT64_MAX, 0, 0, 0};
    if (!tz)
        return;
    if (tz->has_rule && (tz->n == 0 || t >= tz->at[tz->n - 1])) {
        tz_span_rule(tz, t, sp);
        return;
    }
    /* Binary search for the first entry after t. */
    size_t lo = 0, hi = tz->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (tz->at[mid] <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    sp->off = lo > 0 ? tz->off[lo - 1] : tz->off0;
    sp->off_before = sp->off_after = sp->off;
    if (lo > 0) {
        sp->start = tz->at[lo - 1];
        sp->off_before = lo > 1 ? tz->off[lo - 2] : tz->off0;
    }
    if (lo < tz->n) {
        sp->end = tz->at[lo];
        sp->off_after = tz->off[lo];
    } else if (tz->has_rule) {
        TzSpan next;
        tz_span_rule(tz, t, &next);
        sp->end = next.end;
        sp->off_after = next.off_after;
    }
}

int32_t tz_offset_at(const Tz *tz, int64_t t)
{
    TzSpan sp;
    tz_span_at(tz, t, &sp);
    return sp.off;
}

int tz_local_to_utc(const Tz *tz, int64_t local, int64_t out[2])
{
    /* Walk the spans that can show LOCAL: offsets stay within +-26 h. */
    int n = 0;
    int64_t t = local - TZ_OFF_MAX;
    TzSpan sp;
    out[0] = out[1] = INT64_MIN;
    if (local < -(INT64_C(1) << 60) || local > (INT64_C(1) << 60)) {
        out[0] = local;
        return 1;
    }
    for (;;) {
        tz_span_at(tz, t, &sp);
        int64_t u = local - sp.off;
        if (u >= sp.start && u < sp.end && u >= t && n < 2)
            out[n++] = u;
        else if (n == 0 && u < sp.start && u >= local - TZ_OFF_MAX)
            out[0] = sp.start; /* LOCAL fell into the gap before this span */
        if (sp.end == INT64_MAX || sp.end > local + TZ_OFF_MAX || (n == 0 && out[0] != INT64_MIN))
            break;
        t = sp.end;
    }
    return n;
}
