/* clock: wall and monotonic milliseconds, RFC 3339 UTC text, and a skew seam. */
#ifndef DTS_CLOCK_H
#define DTS_CLOCK_H

#include <stddef.h>
#include <stdint.h>

#define CLOCK_RFC3339_LEN 32 /* room for "2026-11-26T18:00:00.123Z" and a NUL */

/* Milliseconds since the Unix epoch, plus DTS_CLOCK_SKEW_MS: the seam tests use
 * to make a process's clock jump. */
int64_t clock_now_ms(void);

/* The shared clock: Redis's time as this process last measured it, that is
 * clock_now_ms() corrected by the offset clock_shared_sync recorded. Hosts
 * disagree by seconds; every decision two processes must agree on uses this
 * (or TIME inside a script), never clock_now_ms(). Before the first sync it is
 * clock_now_ms(). Thread-safe. */
int64_t clock_shared_ms(void);

/* Records that the shared clock reads SHARED_MS now (a TIME reply just read). */
void clock_shared_sync(int64_t shared_ms);

/* Milliseconds on the monotonic clock, for intervals and deadlines. */
int64_t clock_mono_ms(void);

/* Writes MS as "YYYY-MM-DDTHH:MM:SS.mmmZ" into out (CLOCK_RFC3339_LEN bytes). */
void clock_format_rfc3339(int64_t ms, char out[CLOCK_RFC3339_LEN]);

/* Parses an RFC 3339 instant with a Z or ±HH:MM offset and optional fraction.
 * Returns 0 and stores milliseconds in *ms, or -1 on bad text. Pure. */
int clock_parse_rfc3339(const char *text, int64_t *ms);

/* Sleeps for MS milliseconds (no-op when MS <= 0). */
void clock_sleep_ms(int64_t ms);

#endif
