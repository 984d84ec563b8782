/* tz: IANA time zones read from the system tz database (TZif, RFC 8536). */
#ifndef DTS_TZ_H
#define DTS_TZ_H

#include <stddef.h>
#include <stdint.h>

typedef struct Tz Tz;

/* Loads zone NAME ("Europe/Berlin", "UTC") from $DTS_ZONEINFO or
 * /usr/share/zoneinfo. Returns NULL and writes a one-line reason into err on an
 * unknown or malformed zone. The caller frees the result with tz_free. */
Tz *tz_load(const char *name, char *err, size_t errlen);

/* Frees a zone from tz_load; tz_free(NULL) is a no-op. */
void tz_free(Tz *tz);

/* A process-wide, thread-safe cache over tz_load: returns a shared zone that
 * lives until exit, or NULL (with err filled) for an unknown zone. */
const Tz *tz_get(const char *name, char *err, size_t errlen);

/* The zone's name as given to tz_load. */
const char *tz_name(const Tz *tz);

/* UTC offset in seconds in effect at the UTC instant t (seconds since the
 * epoch). A NULL zone is UTC. */
int32_t tz_offset_at(const Tz *tz, int64_t t);

/* A span of UTC instants [start, end) with one constant UTC offset. */
typedef struct TzSpan {
    int64_t start;      /* first instant of the span; INT64_MIN if unbounded */
    int64_t end;        /* first instant after the span; INT64_MAX if unbounded */
    int32_t off;        /* UTC offset inside the span, seconds east */
    int32_t off_before; /* offset just before start (off if unbounded) */
    int32_t off_after;  /* offset from end on (off if unbounded) */
} TzSpan;

/* Fills SPAN with the span of constant offset that contains UTC instant t
 * (seconds). Adjacent transitions that keep the offset are merged. A NULL zone
 * is UTC: one unbounded span. */
void tz_span_at(const Tz *tz, int64_t t, TzSpan *span);

/* Converts the local wall time LOCAL (seconds since 1970-01-01T00:00 local) to
 * UTC. Returns how many instants show that wall time: 1 normally, 2 in a
 * fall-back overlap (out[0] < out[1]), 0 in a spring-forward gap, where out[0]
 * is the first instant after the gap. */
int tz_local_to_utc(const Tz *tz, int64_t local, int64_t out[2]);

/* Buffer size that holds any tz_format result. */
#define TZ_FORMAT_MAX 40

/* Formats UTC instant MS (Unix milliseconds) as RFC 3339 local time in ZONE
 * with its offset ("2026-03-29T03:00:00+02:00"); a NULL zone gives UTC with
 * "Z". Milliseconds are printed only when non-zero. An offset with seconds
 * (old local mean time) is rounded to the minute, keeping the instant exact.
 * Returns 0, or -1 if the year is outside 0000..9999 or LEN is too small. */
int tz_format(const Tz *zone, int64_t ms, char *buf, size_t len);

#endif
