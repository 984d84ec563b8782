/* clock: wall and monotonic milliseconds, RFC 3339 UTC text, and a skew seam. */
#ifndef DTS_CLOCK_H
#define DTS_CLOCK_H

#include <stddef.h>
#include <stdint.h>

#define CLOCK_RFC3339_LEN 32 /* room for "2026-11-26T18:00:00.123Z" and a NUL */

/* Milliseconds since the Unix epoch, plus DTS_CLOCK_SKEW_MS: the seam tests use
 * to make a process's clock jump. */
int64_t clock_now_ms(void);

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
