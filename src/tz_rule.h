/* tz_rule: the POSIX TZ rule ("CET-1CEST,M3.5.0,M10.5.0/3") of a TZif footer. Private to tz. */
#ifndef DTS_TZ_RULE_H
#define DTS_TZ_RULE_H

#include <stdint.h>

#include "tz.h"

/* One end of daylight saving time: a day rule and a local time of day. */
typedef struct TzRuleDate {
    char kind; /* 'J' (Jn, 1..365, no leap day), 'D' (n, 0..365), 'M' (Mm.w.d) */
    int day, week, month;
    int32_t secs; /* local time of day, -167h..167h (RFC 8536 extension) */
} TzRuleDate;

typedef struct TzRule {
    int32_t std_off; /* UTC offset of standard time, seconds east */
    int32_t dst_off; /* UTC offset of daylight time */
    int has_dst;
    TzRuleDate start, end; /* start in standard time, end in daylight time */
} TzRule;

/* Parses a POSIX TZ string. Returns 0, or -1 if it is malformed. */
int tz_rule_parse(const char *s, TzRule *rule);

/* The span of constant offset around UTC instant t under the rule alone. */
void tz_rule_span(const TzRule *rule, int64_t t, TzSpan *span);

#endif
