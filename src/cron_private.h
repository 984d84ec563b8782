/* cron_private: the compiled form of a cron expression, shared by parser and matcher. */
#ifndef DTS_CRON_PRIVATE_H
#define DTS_CRON_PRIVATE_H

#include <stdint.h>

#include "cron.h"

/* Every field is a bit set; day fields add the special forms. */
struct CronExpr {
    uint64_t sec;       /* bits 0..59 */
    uint64_t min;       /* bits 0..59 */
    uint32_t hour;      /* bits 0..23 */
    uint32_t dom;       /* bits 1..31 */
    uint32_t dom_last;  /* bit n: "L-n" (n = 0 is "L") */
    uint32_t dom_wday;  /* bit n: "nW" */
    int dom_lw;         /* "LW" */
    uint32_t month;     /* bits 1..12 */
    uint32_t dow;       /* bits 0..6, Sunday = 0 */
    uint8_t dow_nth[7]; /* per weekday, bit n: "d#n" (n = 1..5) */
    uint32_t dow_last;  /* bit d: "dL" */
    int dom_any;        /* day-of-month allows every day: Vixie OR does not apply */
    int dow_any;        /* day-of-week allows every day */
    int hourly;         /* hour field is full: DST keeps wall-clock matches */
    int64_t every_ms;   /* "@every": period in ms, 0 for calendar expressions */
};

/* The bit set (bit d-1 = day d) of days of month M of year Y that match. */
uint32_t cron_month_days(const CronExpr *e, int64_t y, int m);

#endif
