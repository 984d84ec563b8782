/* quota: per-caller rate limits (token buckets) for the api's costly
 * operations. Local to one api process: with N replicas a caller gets up to
 * N times the rate (documented in docs/security.md). */
#ifndef DTS_QUOTA_H
#define DTS_QUOTA_H

#include <stdint.h>

typedef struct Quota Quota;

/* A limiter allowing RATE operations a second per caller, in bursts of up
 * to BURST. RATE 0 disables it (quota_take always allows). The caller frees
 * with quota_free. */
Quota *quota_new(double rate, double burst);
void quota_free(Quota *q);

/* Takes one operation for caller WHO at NOW_MS (a monotonic clock).
 * Returns 0 if allowed, or the milliseconds until one would be. Thread-safe.
 * Callers beyond the table's size share one bucket. */
int64_t quota_take(Quota *q, const char *who, int64_t now_ms);

#endif
